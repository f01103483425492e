
/*
 * Copyright (C) tenant_guard authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_tenant_guard_module.h"
#include "ngx_http_tenant_guard_redis.h"


/*
 * Where data comes from: the zone (L1), then Redis (L2), then the policy
 * file.  A request that needs Redis is suspended and resumed through the
 * phases; entries are dropped when tg:events names their key, and, while
 * that link is down, entries older than a second are read again.
 */


/* a workspace policy as the zone keeps it: this, then the CIDR items */

typedef struct {
    int64_t                       stored;
    uint32_t                      from_file;  /* Redis had no such key */
    uint32_t                      nip;
    tg_policy_t                   policy;     /* ip.items not valid here */
} ngx_http_tenant_guard_policy_rec_t;


static void ngx_http_tenant_guard_store_event(ngx_str_t *key);
static void ngx_http_tenant_guard_store_events_state(ngx_uint_t up);
static ngx_http_tenant_guard_main_conf_t *ngx_http_tenant_guard_store_main(
    void);
static void ngx_http_tenant_guard_store_resume(ngx_http_request_t *r);
static void ngx_http_tenant_guard_store_policy_reply(ngx_http_request_t *r,
    void *data, ngx_http_tenant_guard_reply_t *reply);
static void ngx_http_tenant_guard_store_policy_keep(ngx_http_request_t *r,
    ngx_http_tenant_guard_ctx_t *ctx, tg_policy_t *policy,
    ngx_uint_t from_file);
static void ngx_http_tenant_guard_store_token_reply(ngx_http_request_t *r,
    void *data, ngx_http_tenant_guard_reply_t *reply);
static void ngx_http_tenant_guard_store_revoked_reply(ngx_http_request_t *r,
    void *data, ngx_http_tenant_guard_reply_t *reply);
static ngx_int_t ngx_http_tenant_guard_store_key(ngx_http_request_t *r,
    ngx_str_t *key, const char *kind, u_char *id, size_t len);
static ngx_int_t ngx_http_tenant_guard_store_ask(ngx_http_request_t *r,
    ngx_http_tenant_guard_ctx_t *ctx, const char *cmd, const char *kind,
    u_char *id, size_t len, ngx_http_tenant_guard_redis_pt handler);
static ngx_int_t ngx_http_tenant_guard_store_unavailable(
    ngx_http_request_t *r, ngx_http_tenant_guard_ctx_t *ctx);


static void ngx_http_tenant_guard_store_seen_reply(ngx_http_request_t *r,
    void *data, ngx_http_tenant_guard_reply_t *reply);


static void ngx_http_tenant_guard_store_ban_event(ngx_str_t *key,
    ngx_str_t *name);
static void ngx_http_tenant_guard_store_ban_reply(void *data,
    ngx_http_tenant_guard_reply_t *reply);


typedef struct {
    ngx_uint_t                    kind;
    size_t                        len;
    u_char                        key[32];
} ngx_http_tenant_guard_ban_fetch_t;


static ngx_cycle_t  *ngx_http_tenant_guard_cycle;


char *
ngx_http_tenant_guard_redis(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_tenant_guard_main_conf_t *tmcf = conf;

    if (tmcf->redis != NULL) {
        return "is duplicate";
    }

    tmcf->redis = ngx_pcalloc(cf->pool,
                              sizeof(ngx_http_tenant_guard_redis_conf_t));
    if (tmcf->redis == NULL) {
        return NGX_CONF_ERROR;
    }

    return ngx_http_tenant_guard_redis_parse(cf, tmcf->redis);
}


ngx_int_t
ngx_http_tenant_guard_store_init_process(ngx_cycle_t *cycle)
{
    ngx_http_tenant_guard_main_conf_t  *tmcf;

    ngx_http_tenant_guard_cycle = cycle;

    tmcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_tenant_guard_module);

    if (tmcf == NULL || tmcf->redis == NULL) {
        return NGX_OK;
    }

    return ngx_http_tenant_guard_redis_init_process(cycle, tmcf->redis,
                                      ngx_http_tenant_guard_store_event,
                                      ngx_http_tenant_guard_store_events_state);
}


void
ngx_http_tenant_guard_store_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_tenant_guard_main_conf_t  *tmcf;

    tmcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_tenant_guard_module);

    if (tmcf != NULL && tmcf->redis != NULL) {
        ngx_http_tenant_guard_redis_exit_process();
    }
}


static ngx_http_tenant_guard_main_conf_t *
ngx_http_tenant_guard_store_main(void)
{
    return ngx_http_cycle_get_module_main_conf(ngx_http_tenant_guard_cycle,
                                               ngx_http_tenant_guard_module);
}


/* a key changed in Redis: the zone forgets what it had of it */

static void
ngx_http_tenant_guard_store_event(ngx_str_t *key)
{
    u_char                             *p;
    size_t                              n;
    ngx_str_t                           name;
    ngx_uint_t                          i;
    u_char                              digest[32];
    ngx_http_tenant_guard_main_conf_t  *tmcf;

    tmcf = ngx_http_tenant_guard_store_main();

    if (tmcf->zone == NULL) {
        return;
    }

    if (key->len == 1 && key->data[0] == '*') {
        ngx_http_tenant_guard_zone_flush(tmcf->zone, 1);
        return;
    }

    if (key->len < tmcf->redis->prefix.len
        || ngx_strncmp(key->data, tmcf->redis->prefix.data,
                       tmcf->redis->prefix.len) != 0)
    {
        return;
    }

    name.data = key->data + tmcf->redis->prefix.len;
    name.len = key->len - tmcf->redis->prefix.len;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                   "tenant_guard: invalidation of \"%V\"", key);

    if (name.len > 3 && ngx_strncmp(name.data, "ws:", 3) == 0) {
        ngx_http_tenant_guard_zone_remove(tmcf->zone,
                                          NGX_HTTP_TENANT_GUARD_KIND_POLICY,
                                          name.data + 3, name.len - 3);
        return;
    }

    if (name.len == 6 + 64 && ngx_strncmp(name.data, "token:", 6) == 0) {
        p = name.data + 6;

        for (i = 0; i < 32; i++) {
            ngx_int_t  b = ngx_hextoi(p + 2 * i, 2);

            if (b == NGX_ERROR) {
                return;
            }

            digest[i] = (u_char) b;
        }

        ngx_http_tenant_guard_zone_remove(tmcf->zone,
                                          NGX_HTTP_TENANT_GUARD_KIND_TOKEN,
                                          digest, 32);
        return;
    }

    if (name.len > 9 && ngx_strncmp(name.data, "ban:{", 5) == 0
        && name.data[name.len - 1] == '}')
    {
        ngx_http_tenant_guard_store_ban_event(key, &name);
        return;
    }

    if (name.len > 8 && ngx_strncmp(name.data, "revoked:", 8) == 0) {

        /* the jti index names the cached token */

        if (ngx_http_tenant_guard_zone_get(tmcf->zone,
                                           NGX_HTTP_TENANT_GUARD_KIND_JTI,
                                           name.data + 8, name.len - 8,
                                           digest, sizeof(digest), &n)
            == NGX_OK
            && n == 32)
        {
            ngx_http_tenant_guard_zone_remove(tmcf->zone,
                                              NGX_HTTP_TENANT_GUARD_KIND_TOKEN,
                                              digest, 32);
        }

        return;
    }
}


static void
ngx_http_tenant_guard_store_events_state(ngx_uint_t up)
{
    ngx_http_tenant_guard_main_conf_t  *tmcf;

    tmcf = ngx_http_tenant_guard_store_main();

    if (tmcf->zone != NULL) {
        ngx_http_tenant_guard_zone_events(tmcf->zone, up);
    }
}


/*
 * Whether a zone entry stored at that time may be used as it is: always
 * without Redis; with Redis, while the events link has been up since it
 * was stored, or for one second.
 */

ngx_uint_t
ngx_http_tenant_guard_store_fresh(ngx_http_request_t *r, time_t stored)
{
    ngx_http_tenant_guard_main_conf_t  *tmcf;

    tmcf = ngx_http_get_module_main_conf(r, ngx_http_tenant_guard_module);

    if (tmcf->redis == NULL) {
        return 1;
    }

    if (ngx_http_tenant_guard_zone_events_since(tmcf->zone, stored)) {
        return 1;
    }

    /*
     * ngx_time() counts whole seconds: only an entry stored in this very
     * second is sure to be younger than one.
     */

    return ngx_time() == stored;
}


static void
ngx_http_tenant_guard_store_resume(ngx_http_request_t *r)
{
    ngx_connection_t  *c;

    c = r->connection;

    r->write_event_handler = ngx_http_core_run_phases;
    ngx_http_core_run_phases(r);
    ngx_http_run_posted_requests(c);
}


ngx_int_t
ngx_http_tenant_guard_store_suspend(ngx_http_request_t *r)
{
    r->read_event_handler = ngx_http_test_reading;
    r->write_event_handler = ngx_http_request_empty_handler;

    return NGX_AGAIN;
}


static ngx_int_t
ngx_http_tenant_guard_store_key(ngx_http_request_t *r, ngx_str_t *key,
    const char *kind, u_char *id, size_t len)
{
    size_t                              n;
    ngx_http_tenant_guard_main_conf_t  *tmcf;

    tmcf = ngx_http_get_module_main_conf(r, ngx_http_tenant_guard_module);

    n = ngx_strlen(kind);

    key->data = ngx_pnalloc(r->pool, tmcf->redis->prefix.len + n + len);
    if (key->data == NULL) {
        return NGX_ERROR;
    }

    key->len = ngx_cpymem(ngx_cpymem(ngx_cpymem(key->data,
                                                tmcf->redis->prefix.data,
                                                tmcf->redis->prefix.len),
                                     kind, n),
                          id, len)
               - key->data;

    return NGX_OK;
}


/*
 * Asks Redis "CMD <prefix><kind><id>" for the request, which then waits:
 * NGX_AGAIN; NGX_DECLINED when the link is down, NGX_ERROR without memory.
 */

static ngx_int_t
ngx_http_tenant_guard_store_ask(ngx_http_request_t *r,
    ngx_http_tenant_guard_ctx_t *ctx, const char *cmd, const char *kind,
    u_char *id, size_t len, ngx_http_tenant_guard_redis_pt handler)
{
    ngx_str_t    key;
    const char  *argv[2];
    size_t       alen[2];

    if (ngx_http_tenant_guard_store_key(r, &key, kind, id, len) != NGX_OK) {
        return NGX_ERROR;
    }

    argv[0] = cmd;
    alen[0] = ngx_strlen(cmd);
    argv[1] = (char *) key.data;
    alen[1] = key.len;

    if (ngx_http_tenant_guard_redis_call(r, handler, ctx, 2, argv, alen)
        != NGX_OK)
    {
        return NGX_DECLINED;
    }

    ctx->waiting = 1;

    return NGX_AGAIN;
}


/* Redis did not answer: 503, or the fallback, as the location says */

static ngx_int_t
ngx_http_tenant_guard_store_unavailable(ngx_http_request_t *r,
    ngx_http_tenant_guard_ctx_t *ctx)
{
    ngx_http_tenant_guard_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_tenant_guard_module);

    if (lcf->redis_failure == NGX_HTTP_TENANT_GUARD_FAILURE_OPEN) {
        return NGX_DECLINED;
    }

    ctx->result = TG_RESULT_UNAVAILABLE;

    return NGX_OK;
}


/*
 * The workspace's policy into ctx->policy.  NGX_OK: there; NGX_AGAIN:
 * asked of Redis, the request waits; NGX_ERROR: no memory.
 */

ngx_int_t
ngx_http_tenant_guard_store_policy(ngx_http_request_t *r,
    ngx_http_tenant_guard_ctx_t *ctx)
{
    u_char                              *p;
    size_t                               n;
    ngx_int_t                            rc;
    ngx_str_t                           *ws;
    ngx_http_tenant_guard_policy_rec_t   rec;
    ngx_http_tenant_guard_main_conf_t   *tmcf;

    if (ctx->policy != NULL) {
        return NGX_OK;
    }

    tmcf = ngx_http_get_module_main_conf(r, ngx_http_tenant_guard_module);
    ws = &ctx->ids[NGX_HTTP_TENANT_GUARD_WORKSPACE];

    if (tmcf->redis == NULL || ws->len == 0 || tmcf->zone == NULL) {
        ctx->policy = ngx_http_tenant_guard_policy_file_find(r, ws);
        return NGX_OK;
    }

    rc = ngx_http_tenant_guard_zone_copy(tmcf->zone,
                                         NGX_HTTP_TENANT_GUARD_KIND_POLICY,
                                         ws->data, ws->len, r->pool, &p, &n);
    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (rc == NGX_OK && n >= sizeof(rec)) {
        ngx_memcpy(&rec, p, sizeof(rec));

        if (n == sizeof(rec) + rec.nip * sizeof(tg_cidr_t)
            && (ngx_http_tenant_guard_store_fresh(r, (time_t) rec.stored)
                || !ngx_http_tenant_guard_redis_up()))
        {
            if (rec.from_file) {
                ctx->policy = ngx_http_tenant_guard_policy_file_find(r, ws);
                return NGX_OK;
            }

            ((ngx_http_tenant_guard_policy_rec_t *) p)->policy.ip.items =
                                                        (tg_cidr_t *)
                                                        (p + sizeof(rec));
            ctx->policy = &((ngx_http_tenant_guard_policy_rec_t *) p)->policy;
            return NGX_OK;
        }
    }

    rc = ngx_http_tenant_guard_store_ask(r, ctx, "HGETALL", "ws:", ws->data,
                                     ws->len,
                                     ngx_http_tenant_guard_store_policy_reply);

    if (rc != NGX_DECLINED) {
        return rc;
    }

    if (ngx_http_tenant_guard_store_unavailable(r, ctx) == NGX_OK) {
        return NGX_OK;
    }

    ctx->policy = ngx_http_tenant_guard_policy_file_find(r, ws);

    return NGX_OK;
}


static void
ngx_http_tenant_guard_store_policy_reply(ngx_http_request_t *r, void *data,
    ngx_http_tenant_guard_reply_t *reply)
{
    ngx_http_tenant_guard_ctx_t *ctx = data;

    size_t              i;
    ngx_str_t          *ws;
    tg_policy_t         policy;
    const tg_policy_t  *file;
    char                err[256];

    ctx->waiting = 0;
    ws = &ctx->ids[NGX_HTTP_TENANT_GUARD_WORKSPACE];

    if (reply == NULL || reply->type != NGX_HTTP_TENANT_GUARD_REPLY_ARRAY) {
        if (ngx_http_tenant_guard_store_unavailable(r, ctx) != NGX_OK) {
            ctx->policy = ngx_http_tenant_guard_policy_file_find(r, ws);
        }

        ngx_http_tenant_guard_store_resume(r);
        return;
    }

    file = ngx_http_tenant_guard_policy_file_find(r, ws);

    if (reply->n == 0) {
        ngx_http_tenant_guard_store_policy_keep(r, ctx, NULL, 1);
        ctx->policy = file;
        ngx_http_tenant_guard_store_resume(r);
        return;
    }

    /* "ban" absent: the default policy's, as in the file */

    ngx_memzero(&policy, sizeof(tg_policy_t));
    policy.ban = ngx_http_tenant_guard_policy_file_find(r, NULL)->ban;

    for (i = 0; i + 1 < reply->n; i += 2) {
        if (reply->element[i].type != NGX_HTTP_TENANT_GUARD_REPLY_STRING
            || reply->element[i + 1].type != NGX_HTTP_TENANT_GUARD_REPLY_STRING
            || tg_policy_parse_part(&policy,
                                    (char *) reply->element[i].str.data,
                                    reply->element[i + 1].str.data,
                                    reply->element[i + 1].str.len,
                                    err, sizeof(err))
               != 0)
        {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "tenant_guard: invalid policy in Redis for "
                          "workspace \"%V\", field \"%V\": %s; the policy "
                          "file's applies", ws, &reply->element[i].str,
                          reply->element[i + 1].type
                          == NGX_HTTP_TENANT_GUARD_REPLY_STRING
                          ? err : "not a string");

            tg_policy_free(&policy);
            ctx->policy = file;
            ngx_http_tenant_guard_store_resume(r);
            return;
        }
    }

    ngx_http_tenant_guard_store_policy_keep(r, ctx, &policy, 0);
    tg_policy_free(&policy);

    ngx_http_tenant_guard_store_resume(r);
}


/* stores the policy in the zone and, for this request, in its pool */

static void
ngx_http_tenant_guard_store_policy_keep(ngx_http_request_t *r,
    ngx_http_tenant_guard_ctx_t *ctx, tg_policy_t *policy,
    ngx_uint_t from_file)
{
    u_char                              *p;
    size_t                               n, nip;
    ngx_str_t                           *ws;
    ngx_http_tenant_guard_policy_rec_t   rec;
    ngx_http_tenant_guard_main_conf_t   *tmcf;

    tmcf = ngx_http_get_module_main_conf(r, ngx_http_tenant_guard_module);
    ws = &ctx->ids[NGX_HTTP_TENANT_GUARD_WORKSPACE];

    nip = policy ? policy->ip.n : 0;
    n = sizeof(rec) + nip * sizeof(tg_cidr_t);

    p = ngx_pnalloc(r->pool, n);
    if (p == NULL) {
        return;
    }

    ngx_memzero(&rec, sizeof(rec));

    rec.stored = ngx_time();
    rec.from_file = from_file;
    rec.nip = (uint32_t) nip;

    if (policy) {
        rec.policy = *policy;
    }

    rec.policy.ip.items = NULL;

    ngx_memcpy(p, &rec, sizeof(rec));

    if (nip) {
        ngx_memcpy(p + sizeof(rec), policy->ip.items, nip * sizeof(tg_cidr_t));
    }

    (void) ngx_http_tenant_guard_zone_put(tmcf->zone,
                                          NGX_HTTP_TENANT_GUARD_KIND_POLICY,
                                          ws->data, ws->len, p, n, 0);

    if (!from_file) {
        ((ngx_http_tenant_guard_policy_rec_t *) p)->policy.ip.items =
                                            (tg_cidr_t *) (p + sizeof(rec));
        ctx->policy = &((ngx_http_tenant_guard_policy_rec_t *) p)->policy;
    }
}


/*
 * An opaque token: its record, tg:token:{sha256 hex}, from Redis.
 * NGX_AGAIN: asked, the request waits; NGX_OK: ctx->result says.
 */

ngx_int_t
ngx_http_tenant_guard_store_opaque(ngx_http_request_t *r,
    ngx_http_tenant_guard_ctx_t *ctx)
{
    ngx_int_t                           rc;
    u_char                              hex[64];
    ngx_http_tenant_guard_main_conf_t  *tmcf;

    tmcf = ngx_http_get_module_main_conf(r, ngx_http_tenant_guard_module);

    if (tmcf->redis == NULL) {
        ctx->result = TG_RESULT_INVALID_TOKEN;
        ngx_str_set(&ctx->detail, "unknown token");
        return NGX_OK;
    }

    ngx_hex_dump(hex, ctx->key, 32);

    rc = ngx_http_tenant_guard_store_ask(r, ctx, "GET", "token:", hex, 64,
                                     ngx_http_tenant_guard_store_token_reply);

    if (rc == NGX_DECLINED) {
        ctx->result = TG_RESULT_UNAVAILABLE;
        return NGX_OK;
    }

    return rc;
}


static void
ngx_http_tenant_guard_store_token_reply(ngx_http_request_t *r, void *data,
    ngx_http_tenant_guard_reply_t *reply)
{
    ngx_http_tenant_guard_ctx_t *ctx = data;

    ctx->waiting = 0;
    ctx->token_done = 1;

    if (reply == NULL || reply->type == NGX_HTTP_TENANT_GUARD_REPLY_ERROR) {

        /* a token only Redis knows cannot be judged without it */

        ctx->result = TG_RESULT_UNAVAILABLE;

    } else if (reply->type != NGX_HTTP_TENANT_GUARD_REPLY_STRING) {
        ctx->result = TG_RESULT_INVALID_TOKEN;
        ngx_str_set(&ctx->detail, "unknown token");

    } else if (ngx_http_tenant_guard_token_record(r, ctx, &reply->str)
               != NGX_OK)
    {
        ctx->result = TG_RESULT_UNAVAILABLE;
    }

    ngx_http_tenant_guard_store_resume(r);
}


/*
 * A verified JWT with a jti: is tg:revoked:{jti} set?  NGX_AGAIN: asked;
 * NGX_OK: nothing to ask, or Redis is down and the location fails open;
 * ctx->result is TG_RESULT_UNAVAILABLE when it fails closed.
 */

ngx_int_t
ngx_http_tenant_guard_store_revoked(ngx_http_request_t *r,
    ngx_http_tenant_guard_ctx_t *ctx, ngx_str_t *jti)
{
    ngx_int_t                           rc;
    ngx_http_tenant_guard_main_conf_t  *tmcf;

    tmcf = ngx_http_get_module_main_conf(r, ngx_http_tenant_guard_module);

    if (tmcf->redis == NULL || jti->len == 0) {
        return NGX_OK;
    }

    rc = ngx_http_tenant_guard_store_ask(r, ctx, "EXISTS", "revoked:",
                                   jti->data, jti->len,
                                   ngx_http_tenant_guard_store_revoked_reply);

    if (rc == NGX_DECLINED) {
        (void) ngx_http_tenant_guard_store_unavailable(r, ctx);
        return NGX_OK;
    }

    return rc;
}


static void
ngx_http_tenant_guard_store_revoked_reply(ngx_http_request_t *r,
    void *data, ngx_http_tenant_guard_reply_t *reply)
{
    ngx_http_tenant_guard_ctx_t *ctx = data;

    ctx->waiting = 0;
    ctx->token_done = 1;

    if (reply == NULL || reply->type != NGX_HTTP_TENANT_GUARD_REPLY_INTEGER) {
        (void) ngx_http_tenant_guard_store_unavailable(r, ctx);

    } else if (reply->integer != 0) {
        ctx->result = TG_RESULT_INVALID_TOKEN;
        ngx_str_set(&ctx->detail, "the token has been revoked");

    } else {
        ngx_http_tenant_guard_token_keep(r, ctx);
    }

    ngx_http_tenant_guard_store_resume(r);
}


/* the last use, for the other hosts: nobody waits for it */

void
ngx_http_tenant_guard_store_seen_write(ngx_http_request_t *r,
    ngx_http_tenant_guard_ctx_t *ctx, time_t max_idle)
{
    ngx_str_t    key;
    const char  *argv[5];
    size_t       len[5];
    u_char       hex[64], now[NGX_TIME_T_LEN], ttl[NGX_TIME_T_LEN];

    ngx_hex_dump(hex, ctx->key, 32);

    if (ngx_http_tenant_guard_store_key(r, &key, "seen:", hex, 64) != NGX_OK)
    {
        return;
    }

    argv[0] = "SET";
    len[0] = 3;
    argv[1] = (char *) key.data;
    len[1] = key.len;
    argv[2] = (char *) now;
    len[2] = ngx_sprintf(now, "%T", ngx_time()) - now;
    argv[3] = "EX";
    len[3] = 2;
    argv[4] = (char *) ttl;
    len[4] = ngx_sprintf(ttl, "%T", max_idle + 1) - ttl;

    (void) ngx_http_tenant_guard_redis_send(5, argv, len);
}


/*
 * Idle here: did another host see the token since?  NGX_AGAIN: asked;
 * NGX_DECLINED: Redis cannot say, the zone's verdict stands.
 */

ngx_int_t
ngx_http_tenant_guard_store_seen_read(ngx_http_request_t *r,
    ngx_http_tenant_guard_ctx_t *ctx, time_t max_idle)
{
    ngx_int_t  rc;
    u_char     hex[64];

    ngx_hex_dump(hex, ctx->key, 32);

    ctx->retry = max_idle;

    rc = ngx_http_tenant_guard_store_ask(r, ctx, "GET", "seen:", hex, 64,
                                      ngx_http_tenant_guard_store_seen_reply);

    return (rc == NGX_ERROR) ? NGX_DECLINED : rc;
}


static void
ngx_http_tenant_guard_store_seen_reply(ngx_http_request_t *r, void *data,
    ngx_http_tenant_guard_reply_t *reply)
{
    ngx_http_tenant_guard_ctx_t *ctx = data;

    time_t                              seen, max_idle;
    ngx_http_tenant_guard_loc_conf_t   *lcf;
    ngx_http_tenant_guard_main_conf_t  *tmcf;

    ctx->waiting = 0;
    ctx->idle_done = 1;

    max_idle = ctx->retry;
    ctx->retry = 0;

    seen = (reply != NULL && reply->type == NGX_HTTP_TENANT_GUARD_REPLY_STRING)
           ? ngx_atotm(reply->str.data, reply->str.len) : NGX_ERROR;

    if (seen == NGX_ERROR || ngx_time() - seen > max_idle) {
        ctx->result = TG_RESULT_SESSION_IDLE;

    } else {
        tmcf = ngx_http_get_module_main_conf(r, ngx_http_tenant_guard_module);
        lcf = ngx_http_get_module_loc_conf(r, ngx_http_tenant_guard_module);

        ngx_http_tenant_guard_zone_idle_seen(tmcf->zone, ctx->key, 32,
                                             ngx_time(),
                                             ctx->exp + lcf->leeway);
    }

    ngx_http_tenant_guard_store_resume(r);
}


void
ngx_http_tenant_guard_store_publish(ngx_str_t *key)
{
    u_char                             *p;
    const char                         *argv[3];
    size_t                              len[3];
    u_char                              channel[
                                    NGX_HTTP_TENANT_GUARD_MAX_PREFIX + 8];
    ngx_http_tenant_guard_main_conf_t  *tmcf;

    tmcf = ngx_http_tenant_guard_store_main();

    if (tmcf->redis->prefix.len + sizeof("events") > sizeof(channel)) {
        return;
    }

    p = ngx_cpymem(channel, tmcf->redis->prefix.data, tmcf->redis->prefix.len);
    p = ngx_cpymem(p, "events", 6);

    argv[0] = "PUBLISH";
    len[0] = 7;
    argv[1] = (char *) channel;
    len[1] = p - channel;
    argv[2] = (char *) key->data;
    len[2] = key->len;

    (void) ngx_http_tenant_guard_redis_send(3, argv, len);
}


/*
 * A ban set or lifted somewhere: its key, ban:{id:HEX} or ban:{ip:HEX},
 * is read so that the zone holds what Redis holds.  Requests never wait
 * for a ban: the zone is told.
 */

static void
ngx_http_tenant_guard_store_ban_event(ngx_str_t *key, ngx_str_t *name)
{
    u_char                             *hex;
    size_t                              n, i;
    ngx_int_t                           b;
    const char                         *argv[2];
    size_t                              len[2];
    ngx_http_tenant_guard_ban_fetch_t  *fetch;

    if (name->len < 5 + 3 + 1) {
        return;
    }

    hex = name->data + 5 + 3;
    n = name->len - 5 - 3 - 1;

    if (n % 2 || n / 2 > 32) {
        return;
    }

    fetch = ngx_alloc(sizeof(ngx_http_tenant_guard_ban_fetch_t),
                      ngx_cycle->log);
    if (fetch == NULL) {
        return;
    }

    fetch->kind = ngx_strncmp(name->data + 5, "id:", 3) == 0
                  ? NGX_HTTP_TENANT_GUARD_KIND_BAN_ID
                  : NGX_HTTP_TENANT_GUARD_KIND_BAN_IP;
    fetch->len = n / 2;

    for (i = 0; i < fetch->len; i++) {
        b = ngx_hextoi(hex + 2 * i, 2);

        if (b == NGX_ERROR) {
            ngx_free(fetch);
            return;
        }

        fetch->key[i] = (u_char) b;
    }

    argv[0] = "GET";
    len[0] = 3;
    argv[1] = (char *) key->data;
    len[1] = key->len;

    if (ngx_http_tenant_guard_redis_background(
                                        ngx_http_tenant_guard_store_ban_reply,
                                        fetch, 2, argv, len)
        != NGX_OK)
    {
        ngx_free(fetch);
    }
}


static void
ngx_http_tenant_guard_store_ban_reply(void *data,
    ngx_http_tenant_guard_reply_t *reply)
{
    ngx_http_tenant_guard_ban_fetch_t *fetch = data;

    time_t                              until;
    tg_ban_state_t                      s;
    ngx_http_tenant_guard_main_conf_t  *tmcf;

    tmcf = ngx_http_tenant_guard_store_main();

    if (reply == NULL) {
        ngx_free(fetch);
        return;
    }

    until = (reply->type == NGX_HTTP_TENANT_GUARD_REPLY_STRING)
            ? ngx_atotm(reply->str.data, reply->str.len) : NGX_ERROR;

    if (until == NGX_ERROR || until <= ngx_time()) {
        ngx_http_tenant_guard_zone_remove(tmcf->zone, fetch->kind, fetch->key,
                                          fetch->len);

    } else {
        ngx_memzero(&s, sizeof(tg_ban_state_t));
        s.until = until;

        (void) ngx_http_tenant_guard_zone_put(tmcf->zone, fetch->kind,
                                              fetch->key, fetch->len,
                                              (u_char *) &s, sizeof(s),
                                              until);
    }

    ngx_free(fetch);
}
