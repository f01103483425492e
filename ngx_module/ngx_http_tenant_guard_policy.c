
/*
 * Copyright (C) tenant_guard authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_tenant_guard_module.h"


static ngx_int_t ngx_http_tenant_guard_policy_get(ngx_http_request_t *r,
    ngx_http_tenant_guard_loc_conf_t *lcf, ngx_http_tenant_guard_ctx_t *ctx);
static void ngx_http_tenant_guard_policy_cleanup(void *data);
static ngx_int_t ngx_http_tenant_guard_policy_touch(u_char *value,
    void *data, time_t *expires);


/* the last use of a token as the zone keeps it, for idle sign-out */

typedef struct {
    time_t                        since;      /* a new entry counts from */
    time_t                        now;
    time_t                        expires;
    const tg_policy_t            *policy;
    ngx_int_t                     rc;         /* NGX_DECLINED: idle */
    ngx_uint_t                    write;      /* tell Redis */
} ngx_http_tenant_guard_touch_t;


static tg_policy_t  ngx_http_tenant_guard_no_policy;


char *
ngx_http_tenant_guard_policy_file(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_tenant_guard_main_conf_t *tmcf = conf;

    u_char              *buf;
    ssize_t              n;
    ngx_str_t           *value, file;
    ngx_file_t           f;
    ngx_file_info_t      fi;
    tg_policy_set_t     *set;
    ngx_pool_cleanup_t  *cln;
    char                 err[512];

    if (tmcf->policies != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;
    file = value[1];

    if (ngx_conf_full_name(cf->cycle, &file, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(&f, sizeof(ngx_file_t));

    f.name = file;
    f.log = cf->log;
    f.fd = ngx_open_file(file.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);

    if (f.fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_open_file_n " \"%s\" failed", file.data);
        return NGX_CONF_ERROR;
    }

    if (ngx_fd_info(f.fd, &fi) == NGX_FILE_ERROR
        || ngx_file_size(&fi) > TG_POLICY_MAX_FILE)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "policy file \"%s\" cannot be read or is larger "
                           "than %d bytes", file.data, TG_POLICY_MAX_FILE);
        ngx_close_file(f.fd);
        return NGX_CONF_ERROR;
    }

    buf = ngx_pnalloc(cf->temp_pool, (size_t) ngx_file_size(&fi) + 1);
    if (buf == NULL) {
        ngx_close_file(f.fd);
        return NGX_CONF_ERROR;
    }

    n = ngx_read_file(&f, buf, (size_t) ngx_file_size(&fi), 0);
    ngx_close_file(f.fd);

    if (n != (ssize_t) ngx_file_size(&fi)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "policy file \"%s\" could not be read", file.data);
        return NGX_CONF_ERROR;
    }

    set = ngx_pcalloc(cf->pool, sizeof(tg_policy_set_t));
    if (set == NULL) {
        return NGX_CONF_ERROR;
    }

    if (tg_policy_set_load(set, buf, (size_t) n, err, sizeof(err)) != 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid policy file \"%s\": %s", file.data, err);
        return NGX_CONF_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        tg_policy_set_free(set);
        return NGX_CONF_ERROR;
    }

    cln->handler = ngx_http_tenant_guard_policy_cleanup;
    cln->data = set;

    tmcf->policies = set;
    tmcf->policy_file = file;

    return NGX_CONF_OK;
}


static void
ngx_http_tenant_guard_policy_cleanup(void *data)
{
    tg_policy_set_free(data);
}


char *
ngx_http_tenant_guard_support_subnets(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_tenant_guard_main_conf_t *tmcf = conf;

    ngx_str_t   *value;
    ngx_uint_t   i;

    if (tmcf->support.items != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;

    tmcf->support.items = ngx_pcalloc(cf->pool, (cf->args->nelts - 1)
                                                * sizeof(tg_cidr_t));
    if (tmcf->support.items == NULL) {
        return NGX_CONF_ERROR;
    }

    for (i = 1; i < cf->args->nelts; i++) {
        if (tg_cidr_parse(&tmcf->support.items[i - 1], (char *) value[i].data,
                          value[i].len)
            != 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid address or CIDR range \"%V\"",
                               &value[i]);
            return NGX_CONF_ERROR;
        }

        tmcf->support.n++;
    }

    return NGX_CONF_OK;
}


/*
 * The workspace's policy into ctx->policy: Redis's, through the zone, or
 * the file's.  While Redis cannot answer, "tenant_guard_redis_failure"
 * says whether the file's applies or the request is refused; an invalid
 * policy in Redis refuses the workspace's requests.
 */

static ngx_int_t
ngx_http_tenant_guard_policy_get(ngx_http_request_t *r,
    ngx_http_tenant_guard_loc_conf_t *lcf, ngx_http_tenant_guard_ctx_t *ctx)
{
    ngx_int_t   rc;
    ngx_str_t  *ws;

    ws = &ctx->ids[NGX_HTTP_TENANT_GUARD_WORKSPACE];

    rc = ngx_http_tenant_guard_store_policy(r, ctx, ws, &ctx->policy);

    switch (rc) {

    case NGX_OK:
        return NGX_OK;

    case NGX_BUSY:
        if (lcf->redis_failure != NGX_HTTP_TENANT_GUARD_FAILURE_OPEN) {
            ctx->result = TG_RESULT_UNAVAILABLE;
            return NGX_OK;
        }

        /* fall through */

    case NGX_DECLINED:
        ctx->policy = ngx_http_tenant_guard_policy_file_find(r, ws);
        return NGX_OK;

    case NGX_ABORT:

        /* never a weaker policy than the one the control plane wrote */

        ctx->result = TG_RESULT_UNAVAILABLE;
        ngx_str_set(&ctx->detail, "the workspace's policy is invalid");
        return NGX_OK;

    default:
        return rc;
    }
}


/* the file's policy of a workspace; ws NULL: the default policy */

const tg_policy_t *
ngx_http_tenant_guard_policy_file_find(ngx_http_request_t *r, ngx_str_t *ws)
{
    ngx_http_tenant_guard_main_conf_t  *tmcf;

    tmcf = ngx_http_get_module_main_conf(r, ngx_http_tenant_guard_module);

    if (tmcf->policies == NULL) {
        return &ngx_http_tenant_guard_no_policy;
    }

    if (ws == NULL) {
        return &tmcf->policies->def;
    }

    return tg_policy_set_find(tmcf->policies, (char *) ws->data, ws->len);
}


/*
 * The policy step: the workspace's rules that need no state (address,
 * MFA, lifetime), once its policy is known.
 */

ngx_int_t
ngx_http_tenant_guard_policy_check(ngx_http_request_t *r,
    ngx_http_tenant_guard_loc_conf_t *lcf, ngx_http_tenant_guard_ctx_t *ctx)
{
    int                                 family;
    u_char                             *addr;
    ngx_int_t                           rc;
    struct sockaddr_in                 *sin;
    const tg_policy_t                  *policy;
#if (NGX_HAVE_INET6)
    struct sockaddr_in6                *sin6;
#endif
    ngx_http_tenant_guard_main_conf_t  *tmcf;

    if (ctx->policy == NULL) {
        rc = ngx_http_tenant_guard_policy_get(r, lcf, ctx);

        if (rc != NGX_OK || ctx->result != TG_RESULT_ALLOW) {
            return rc;
        }
    }

    policy = ctx->policy;

    if (policy->has_ip && policy->ip_enabled) {
        tmcf = ngx_http_get_module_main_conf(r, ngx_http_tenant_guard_module);

        /* the address realip has set, when it is configured */

        switch (r->connection->sockaddr->sa_family) {

        case AF_INET:
            sin = (struct sockaddr_in *) r->connection->sockaddr;
            family = TG_CIDR_V4;
            addr = (u_char *) &sin->sin_addr;
            break;

#if (NGX_HAVE_INET6)
        case AF_INET6:
            sin6 = (struct sockaddr_in6 *) r->connection->sockaddr;
            family = TG_CIDR_V6;
            addr = sin6->sin6_addr.s6_addr;
            break;
#endif

        default:
            family = 0;
            addr = NULL;
        }

        if (addr == NULL
            || !tg_policy_ip_allowed(policy, &tmcf->support, family, addr))
        {
            ctx->result = TG_RESULT_IP_NOT_ALLOWED;
            return NGX_OK;
        }
    }

    if (policy->mfa_required && !ctx->mfa) {
        ctx->result = TG_RESULT_MFA_REQUIRED;
        return NGX_OK;
    }

    if (tg_policy_lifetime_ok(policy, ctx->iat, ngx_time()) != 0) {
        if (ctx->iat < 0) {
            ngx_str_set(&ctx->detail, "the workspace limits token lifetime "
                        "and the token has no \"iat\"");

        } else {
            ngx_str_set(&ctx->detail, "the token is older than the "
                        "workspace's token lifetime");
        }

        ctx->result = TG_RESULT_TOKEN_TOO_OLD;
    }

    return NGX_OK;
}


/*
 * The idle step, last of all checks so that a refused request does not
 * count as use.  The zone's record of the last use is read and refreshed
 * in one step, so that two workers cannot both pass a token one of them
 * should refuse; a token the zone does not know (never seen, or evicted)
 * counts from its iat, so eviction can never make an idle token pass.
 * With Redis, the last use is written behind at most once a second, and
 * only a refusal first asks Redis, since another host may have seen the
 * token since.
 */

ngx_int_t
ngx_http_tenant_guard_policy_idle(ngx_http_request_t *r,
    ngx_http_tenant_guard_loc_conf_t *lcf, ngx_http_tenant_guard_ctx_t *ctx)
{
    time_t                              seen;
    ngx_int_t                           rc;
    tg_idle_t                           idle;
    const tg_policy_t                  *policy;
    ngx_http_tenant_guard_touch_t       t;
    ngx_http_tenant_guard_main_conf_t  *tmcf;

    policy = ctx->policy;

    if (policy->max_idle == 0) {
        return NGX_OK;
    }

    tmcf = ngx_http_get_module_main_conf(r, ngx_http_tenant_guard_module);

    if (tmcf->redis && ctx->ask.answered) {
        goto asked;
    }

    t.now = ngx_time();
    t.since = (ctx->iat >= 0 && ctx->iat <= t.now) ? ctx->iat : t.now;
    t.expires = ctx->exp + lcf->leeway;
    t.policy = policy;

    if (ngx_http_tenant_guard_zone_update(tmcf->zone,
                                       NGX_HTTP_TENANT_GUARD_KIND_IDLE,
                                       ctx->key, 32, sizeof(tg_idle_t),
                                       ngx_http_tenant_guard_policy_touch, &t)
        != NGX_OK)
    {
        /* a full zone: the rule alone, from the token's iat */

        ngx_memzero(&idle, sizeof(tg_idle_t));
        rc = tg_policy_idle_touch(&idle, policy, t.since, t.now);
        t.rc = (rc < 0) ? NGX_DECLINED : NGX_OK;
        t.write = (rc == 1);
    }

    if (t.rc == NGX_OK) {
        if (t.write && tmcf->redis) {
            ngx_http_tenant_guard_store_seen_write(r, ctx,
                                                   (time_t) policy->max_idle);
        }

        return NGX_OK;
    }

    if (tmcf->redis == NULL) {
        ctx->result = TG_RESULT_SESSION_IDLE;
        return NGX_OK;
    }

asked:

    rc = ngx_http_tenant_guard_store_seen_read(r, ctx, &seen);

    if (rc == NGX_AGAIN) {
        return NGX_AGAIN;
    }

    /* what Redis cannot say leaves the zone's verdict standing */

    if (rc != NGX_OK
        || seen < 0
        || tg_policy_idle_ok(policy, seen, ngx_time()) != 0)
    {
        ctx->result = TG_RESULT_SESSION_IDLE;
        return NGX_OK;
    }

    /* another host saw it lately: this use counts, and is not written */

    ngx_memzero(&idle, sizeof(tg_idle_t));
    idle.last = ngx_time();
    idle.written = idle.last;

    (void) ngx_http_tenant_guard_zone_put(tmcf->zone,
                                          NGX_HTTP_TENANT_GUARD_KIND_IDLE,
                                          ctx->key, 32, (u_char *) &idle,
                                          sizeof(tg_idle_t),
                                          ctx->exp + lcf->leeway);

    return NGX_OK;
}


/* under the zone's mutex: the engine's rule on the last use */

static ngx_int_t
ngx_http_tenant_guard_policy_touch(u_char *value, void *data,
    time_t *expires)
{
    ngx_http_tenant_guard_touch_t *t = data;

    int        rc;
    tg_idle_t  idle;

    ngx_memcpy(&idle, value, sizeof(tg_idle_t));

    rc = tg_policy_idle_touch(&idle, t->policy, t->since, t->now);

    t->rc = (rc < 0) ? NGX_DECLINED : NGX_OK;
    t->write = (rc == 1);

    ngx_memcpy(value, &idle, sizeof(tg_idle_t));

    if (*expires == 0) {
        *expires = t->expires;
    }

    return NGX_OK;
}
