
/*
 * Copyright (C) tenant_guard authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_tenant_guard_module.h"


static const tg_policy_t *ngx_http_tenant_guard_policy_get(
    ngx_http_request_t *r, ngx_http_tenant_guard_ctx_t *ctx);
static void ngx_http_tenant_guard_policy_cleanup(void *data);


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


static const tg_policy_t *
ngx_http_tenant_guard_policy_get(ngx_http_request_t *r,
    ngx_http_tenant_guard_ctx_t *ctx)
{
    if (ctx->policy != NULL) {
        return ctx->policy;
    }

    return ngx_http_tenant_guard_policy_file_find(r,
                                   &ctx->ids[NGX_HTTP_TENANT_GUARD_WORKSPACE]);
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


/* the workspace's rules that need no state: address, MFA, lifetime */

tg_result_e
ngx_http_tenant_guard_policy_check(ngx_http_request_t *r,
    ngx_http_tenant_guard_loc_conf_t *lcf, ngx_http_tenant_guard_ctx_t *ctx)
{
    int                                 family;
    u_char                             *addr;
    struct sockaddr_in                 *sin;
    const tg_policy_t                  *policy;
#if (NGX_HAVE_INET6)
    struct sockaddr_in6                *sin6;
#endif
    ngx_http_tenant_guard_main_conf_t  *tmcf;

    policy = ngx_http_tenant_guard_policy_get(r, ctx);

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
            return TG_RESULT_IP_NOT_ALLOWED;
        }
    }

    if (policy->mfa_required && !ctx->mfa) {
        return TG_RESULT_MFA_REQUIRED;
    }

    if (tg_policy_lifetime_ok(policy, ctx->iat, ngx_time()) != 0) {
        if (ctx->iat < 0) {
            ngx_str_set(&ctx->detail, "the workspace limits token lifetime "
                        "and the token has no \"iat\"");

        } else {
            ngx_str_set(&ctx->detail, "the token is older than the "
                        "workspace's token lifetime");
        }

        return TG_RESULT_TOKEN_TOO_OLD;
    }

    return TG_RESULT_ALLOW;
}


/*
 * Idle sign-out, last of all checks so that a refused request does not
 * count as use.  A token first seen here counts from its iat.  With Redis,
 * the last use is written behind at most once a second, and only a refusal
 * first asks Redis, since another host may have seen the token since.
 * NGX_OK with ctx->result set, or NGX_AGAIN while Redis is asked.
 */

ngx_int_t
ngx_http_tenant_guard_policy_idle(ngx_http_request_t *r,
    ngx_http_tenant_guard_loc_conf_t *lcf, ngx_http_tenant_guard_ctx_t *ctx)
{
    time_t                              since, last;
    ngx_int_t                           rc;
    ngx_uint_t                          write;
    const tg_policy_t                  *policy;
    ngx_http_tenant_guard_main_conf_t  *tmcf;

    if (ctx->idle_done) {
        return NGX_OK;
    }

    policy = ngx_http_tenant_guard_policy_get(r, ctx);

    if (policy->max_idle == 0) {
        return NGX_OK;
    }

    tmcf = ngx_http_get_module_main_conf(r, ngx_http_tenant_guard_module);

    since = (ctx->iat >= 0 && ctx->iat <= ngx_time()) ? ctx->iat : ngx_time();

    if (ngx_http_tenant_guard_zone_idle(tmcf->zone, ctx->key, 32, since,
                                        (time_t) policy->max_idle,
                                        ctx->exp + lcf->leeway, &last, &write)
        == NGX_OK)
    {
        if (write && tmcf->redis) {
            ngx_http_tenant_guard_store_seen_write(r, ctx,
                                                   (time_t) policy->max_idle);
        }

        return NGX_OK;
    }

    if (tmcf->redis) {
        rc = ngx_http_tenant_guard_store_seen_read(r, ctx,
                                                   (time_t) policy->max_idle);
        if (rc != NGX_DECLINED) {
            return rc;
        }
    }

    ctx->result = TG_RESULT_SESSION_IDLE;

    return NGX_OK;
}
