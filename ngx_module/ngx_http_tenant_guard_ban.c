
/*
 * Copyright (C) tenant_guard authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_tenant_guard_module.h"


/*
 * Failed-login bans: a client address (permanent level) and a login
 * identifier of a workspace (first and second level), looked up in the
 * zone and counted there, or in Redis when it is up.  What a count means
 * is tg_ban's; the Redis keys are _store.c's.
 */


typedef struct {
    const tg_ban_settings_t      *settings;
    ngx_uint_t                    address;
    time_t                        now;
    int                           level;
    time_t                        until;
} ngx_http_tenant_guard_fail_t;


/* a failure counted in Redis: what its reply is judged by */

typedef struct {
    tg_ban_settings_t             settings;
    ngx_uint_t                    kind;
    long long                     now;
    size_t                        len;
    u_char                        key[32];
} ngx_http_tenant_guard_count_t;


static ngx_uint_t ngx_http_tenant_guard_ban_address_key(ngx_http_request_t *r,
    u_char *key);
static void ngx_http_tenant_guard_ban_identifier_key(ngx_str_t *ws,
    ngx_str_t *id, u_char *key);
static ngx_int_t ngx_http_tenant_guard_ban_lookup(ngx_http_request_t *r,
    ngx_http_tenant_guard_ctx_t *ctx, ngx_uint_t kind, u_char *key,
    size_t len);
static void ngx_http_tenant_guard_ban_zone_fail(ngx_http_request_t *r,
    const tg_ban_settings_t *b, ngx_uint_t kind, u_char *key, size_t len);
static ngx_int_t ngx_http_tenant_guard_ban_fail_handler(u_char *value,
    void *data, time_t *expires);
static ngx_int_t ngx_http_tenant_guard_ban_count(ngx_uint_t kind,
    u_char *key, size_t len, const tg_ban_settings_t *b);
static void ngx_http_tenant_guard_ban_counted(void *data, ngx_int_t rc,
    long long count, long long window);


/*
 * The address step: a banned address is refused before any other work.
 * A password reset that checks no token is never refused, since a banned
 * user could not lift the ban otherwise.
 */

ngx_int_t
ngx_http_tenant_guard_ban_address(ngx_http_request_t *r,
    ngx_http_tenant_guard_loc_conf_t *lcf, ngx_http_tenant_guard_ctx_t *ctx)
{
    size_t  len;
    u_char  key[16];

    if (!lcf->enable && (lcf->login == NULL || lcf->login->reset)) {
        return NGX_OK;
    }

    len = ngx_http_tenant_guard_ban_address_key(r, key);

    return ngx_http_tenant_guard_ban_lookup(r, ctx,
                                            NGX_HTTP_TENANT_GUARD_KIND_BAN_IP,
                                            key, len);
}


/* the ban step: a token's subject banned in its workspace is refused */

ngx_int_t
ngx_http_tenant_guard_ban_subject(ngx_http_request_t *r,
    ngx_http_tenant_guard_loc_conf_t *lcf, ngx_http_tenant_guard_ctx_t *ctx)
{
    u_char  key[32];

    if (ctx->ids[NGX_HTTP_TENANT_GUARD_SUBJECT].len == 0) {
        return NGX_OK;
    }

    ngx_http_tenant_guard_ban_identifier_key(
                                   &ctx->ids[NGX_HTTP_TENANT_GUARD_WORKSPACE],
                                   &ctx->ids[NGX_HTTP_TENANT_GUARD_SUBJECT],
                                   key);

    return ngx_http_tenant_guard_ban_lookup(r, ctx,
                                            NGX_HTTP_TENANT_GUARD_KIND_BAN_ID,
                                            key, sizeof(key));
}


/* a login's identifier: its key is kept for the outcome, and looked up */

void
ngx_http_tenant_guard_ban_identifier(ngx_http_request_t *r,
    ngx_http_tenant_guard_ctx_t *ctx, ngx_str_t *ws, ngx_str_t *id,
    ngx_uint_t lookup)
{
    ngx_http_tenant_guard_ban_identifier_key(ws, id, ctx->ban_key);
    ctx->has_ban_key = 1;

    if (!lookup) {
        return;
    }

    (void) ngx_http_tenant_guard_ban_lookup(r, ctx,
                                            NGX_HTTP_TENANT_GUARD_KIND_BAN_ID,
                                            ctx->ban_key,
                                            sizeof(ctx->ban_key));
}


/* SHA-256 of workspace, NUL, and the identifier in lower case */

static void
ngx_http_tenant_guard_ban_identifier_key(ngx_str_t *ws, ngx_str_t *id,
    u_char *key)
{
    u_char      buf[2 * NGX_HTTP_TENANT_GUARD_MAX_ID + 2];
    size_t      len;
    ngx_uint_t  i;

    len = ngx_min(ws->len, NGX_HTTP_TENANT_GUARD_MAX_ID);
    ngx_memcpy(buf, ws->data, len);
    buf[len++] = '\0';

    for (i = 0; i < id->len && i < NGX_HTTP_TENANT_GUARD_MAX_ID; i++) {
        buf[len++] = ngx_tolower(id->data[i]);
    }

    tg_jwt_sha256(buf, len, key);
}


static ngx_uint_t
ngx_http_tenant_guard_ban_address_key(ngx_http_request_t *r, u_char *key)
{
    struct sockaddr_in   *sin;
#if (NGX_HAVE_INET6)
    struct sockaddr_in6  *sin6;
#endif

    switch (r->connection->sockaddr->sa_family) {

    case AF_INET:
        sin = (struct sockaddr_in *) r->connection->sockaddr;
        ngx_memcpy(key, &sin->sin_addr, 4);
        return 4;

#if (NGX_HAVE_INET6)
    case AF_INET6:
        sin6 = (struct sockaddr_in6 *) r->connection->sockaddr;

        if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
            ngx_memcpy(key, &sin6->sin6_addr.s6_addr[12], 4);
            return 4;
        }

        ngx_memcpy(key, sin6->sin6_addr.s6_addr, 16);
        return 16;
#endif
    }

    return 0;
}


/* NGX_OK, with ctx->result TG_RESULT_BANNED while a ban is in force */

static ngx_int_t
ngx_http_tenant_guard_ban_lookup(ngx_http_request_t *r,
    ngx_http_tenant_guard_ctx_t *ctx, ngx_uint_t kind, u_char *key,
    size_t len)
{
    size_t                              n;
    time_t                              left;
    tg_ban_state_t                      s;
    ngx_http_tenant_guard_main_conf_t  *tmcf;

    tmcf = ngx_http_get_module_main_conf(r, ngx_http_tenant_guard_module);

    if (tmcf->zone == NULL || len == 0) {
        return NGX_OK;
    }

    if (ngx_http_tenant_guard_zone_get(tmcf->zone, kind, key, len,
                                       (u_char *) &s, sizeof(s), &n)
        != NGX_OK
        || n != sizeof(s))
    {
        return NGX_OK;
    }

    left = (time_t) tg_ban_retry_after(&s, ngx_time());

    if (left == 0) {
        return NGX_OK;
    }

    ctx->result = TG_RESULT_BANNED;
    ctx->retry = left;

    if (kind == NGX_HTTP_TENANT_GUARD_KIND_BAN_IP) {
        ngx_str_set(&ctx->detail, "the client address is banned");

    } else {
        ngx_str_set(&ctx->detail, "the login identifier is banned");
    }

    return NGX_OK;
}


/*
 * Counts a failure: of the identifier (first and second level), when
 * there is one, and of the client address (permanent level), under the
 * ban settings of the workspace (or of the default policy).  With Redis
 * the count is the cluster's; without, or while it is down, the host's.
 */

void
ngx_http_tenant_guard_ban_fail(ngx_http_request_t *r,
    ngx_http_tenant_guard_ctx_t *ctx, ngx_str_t *ws, ngx_uint_t identifier)
{
    size_t                              len;
    u_char                              key[16];
    const tg_policy_t                  *policy;
    ngx_http_tenant_guard_main_conf_t  *tmcf;

    tmcf = ngx_http_get_module_main_conf(r, ngx_http_tenant_guard_module);

    if (tmcf->zone == NULL || tmcf->policies == NULL) {
        return;
    }

    policy = tg_policy_set_find(tmcf->policies, (char *) ws->data, ws->len);
    len = ngx_http_tenant_guard_ban_address_key(r, key);

    /* a count Redis cannot take (its link is down) is counted here */

    if (tmcf->redis != NULL
        && (!identifier
            || ngx_http_tenant_guard_ban_count(
                                             NGX_HTTP_TENANT_GUARD_KIND_BAN_ID,
                                             ctx->ban_key, 32, &policy->ban)
               == NGX_OK)
        && (len == 0
            || ngx_http_tenant_guard_ban_count(
                                             NGX_HTTP_TENANT_GUARD_KIND_BAN_IP,
                                             key, len, &policy->ban)
               == NGX_OK))
    {
        return;
    }

    if (identifier) {
        ngx_http_tenant_guard_ban_zone_fail(r, &policy->ban,
                                            NGX_HTTP_TENANT_GUARD_KIND_BAN_ID,
                                            ctx->ban_key, 32);
    }

    if (len) {
        ngx_http_tenant_guard_ban_zone_fail(r, &policy->ban,
                                            NGX_HTTP_TENANT_GUARD_KIND_BAN_IP,
                                            key, len);
    }
}


static void
ngx_http_tenant_guard_ban_zone_fail(ngx_http_request_t *r,
    const tg_ban_settings_t *b, ngx_uint_t kind, u_char *key, size_t len)
{
    ngx_http_tenant_guard_fail_t        f;
    ngx_http_tenant_guard_main_conf_t  *tmcf;

    tmcf = ngx_http_get_module_main_conf(r, ngx_http_tenant_guard_module);

    f.settings = b;
    f.address = (kind == NGX_HTTP_TENANT_GUARD_KIND_BAN_IP);
    f.now = ngx_time();
    f.level = TG_BAN_NONE;

    if (ngx_http_tenant_guard_zone_update(tmcf->zone, kind, key, len,
                                      sizeof(tg_ban_state_t),
                                      ngx_http_tenant_guard_ban_fail_handler,
                                      &f)
        == NGX_OK
        && f.level != TG_BAN_NONE)
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "tenant_guard: %s banned, level %d, for %T s",
                      f.address ? "client address" : "login identifier",
                      f.level, f.until - f.now);
    }
}


static ngx_int_t
ngx_http_tenant_guard_ban_fail_handler(u_char *value, void *data,
    time_t *expires)
{
    ngx_http_tenant_guard_fail_t *f = data;

    tg_ban_state_t  s;

    ngx_memcpy(&s, value, sizeof(tg_ban_state_t));

    f->level = f->address ? tg_ban_fail_address(&s, f->settings, f->now)
                          : tg_ban_fail_identifier(&s, f->settings, f->now);
    f->until = (time_t) s.until;

    ngx_memcpy(value, &s, sizeof(tg_ban_state_t));

    *expires = (time_t) tg_ban_expires(&s, f->settings, f->address);

    if (*expires <= f->now) {
        *expires = f->now + 1;
    }

    return NGX_OK;
}


/* NGX_OK: counted in Redis (or nothing to count); NGX_ERROR: count here */

static ngx_int_t
ngx_http_tenant_guard_ban_count(ngx_uint_t kind, u_char *key, size_t len,
    const tg_ban_settings_t *b)
{
    long long                       longest;
    ngx_http_tenant_guard_count_t  *count;

    longest = tg_ban_window(b, kind == NGX_HTTP_TENANT_GUARD_KIND_BAN_IP);

    if (longest == 0) {
        return NGX_OK;
    }

    count = ngx_alloc(sizeof(ngx_http_tenant_guard_count_t), ngx_cycle->log);
    if (count == NULL) {
        return NGX_ERROR;
    }

    count->settings = *b;
    count->kind = kind;
    count->now = ngx_time();
    count->len = len;
    ngx_memcpy(count->key, key, len);

    if (ngx_http_tenant_guard_store_ban_count(kind, key, len, longest,
                                              count->now,
                                              ngx_http_tenant_guard_ban_counted,
                                              count)
        != NGX_OK)
    {
        ngx_free(count);
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* the cluster's count of a window: this host bans at once, others hear */

static void
ngx_http_tenant_guard_ban_counted(void *data, ngx_int_t rc, long long count,
    long long window)
{
    ngx_http_tenant_guard_count_t *c = data;

    int                                 level;
    long long                           until;
    tg_ban_state_t                      s;
    ngx_http_tenant_guard_main_conf_t  *tmcf;

    if (rc != NGX_OK) {
        ngx_free(c);
        return;
    }

    level = tg_ban_reached(&c->settings,
                           c->kind == NGX_HTTP_TENANT_GUARD_KIND_BAN_IP,
                           count, window, c->now, &until);

    if (level == TG_BAN_NONE) {
        ngx_free(c);
        return;
    }

    tmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_tenant_guard_module);

    ngx_memzero(&s, sizeof(tg_ban_state_t));
    s.until = until;
    s.level = level;

    (void) ngx_http_tenant_guard_zone_put(tmcf->zone, c->kind, c->key, c->len,
                                          (u_char *) &s, sizeof(s),
                                          (time_t) until);

    ngx_http_tenant_guard_store_ban_set(c->kind, c->key, c->len, until,
                                        c->now);

    ngx_log_error(NGX_LOG_INFO, ngx_cycle->log, 0,
                  "tenant_guard: %s banned, level %d, for %L s",
                  c->kind == NGX_HTTP_TENANT_GUARD_KIND_BAN_IP
                  ? "client address" : "login identifier",
                  level, until - c->now);

    ngx_free(c);
}


/* a password reset lifts the bans of its identifier and of its address */

void
ngx_http_tenant_guard_ban_lift(ngx_http_request_t *r,
    ngx_http_tenant_guard_ctx_t *ctx)
{
    size_t                              len;
    u_char                              key[16];
    ngx_http_tenant_guard_main_conf_t  *tmcf;

    tmcf = ngx_http_get_module_main_conf(r, ngx_http_tenant_guard_module);

    if (tmcf->zone == NULL) {
        return;
    }

    len = ngx_http_tenant_guard_ban_address_key(r, key);

    if (ctx->has_ban_key) {
        ngx_http_tenant_guard_zone_remove(tmcf->zone,
                                          NGX_HTTP_TENANT_GUARD_KIND_BAN_ID,
                                          ctx->ban_key, sizeof(ctx->ban_key));
    }

    if (len) {
        ngx_http_tenant_guard_zone_remove(tmcf->zone,
                                          NGX_HTTP_TENANT_GUARD_KIND_BAN_IP,
                                          key, len);
    }

    if (tmcf->redis != NULL) {
        if (ctx->has_ban_key) {
            ngx_http_tenant_guard_store_ban_lift(
                                             NGX_HTTP_TENANT_GUARD_KIND_BAN_ID,
                                             ctx->ban_key, 32);
        }

        if (len) {
            ngx_http_tenant_guard_store_ban_lift(
                                             NGX_HTTP_TENANT_GUARD_KIND_BAN_IP,
                                             key, len);
        }
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "tenant_guard: password reset lifted the bans");
}
