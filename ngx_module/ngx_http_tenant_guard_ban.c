
/*
 * Copyright (C) tenant_guard authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_tenant_guard_module.h"
#include "ngx_http_tenant_guard_metrics.h"
#include "ngx_http_tenant_guard_admin.h"


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


/*
 * A failure counted in Redis: what its reply is judged by.  One whose
 * reply never comes (a Redis fault) is counted in the zone at once and
 * waits in the worker's replay queue until the link takes it, so that a
 * fault delays a ban that the cluster's count reaches, never drops it.
 */

#define NGX_HTTP_TENANT_GUARD_BAN_REPLAY_MAX    1024
#define NGX_HTTP_TENANT_GUARD_BAN_REPLAY_EVERY  250

typedef struct {
    ngx_queue_t                   queue;     /* in the replay queue */
    tg_ban_settings_t             settings;
    ngx_uint_t                    kind;
    ngx_uint_t                    replay;    /* counted here already */
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
static void ngx_http_tenant_guard_ban_zone_fail(ngx_log_t *log,
    const tg_ban_settings_t *b, ngx_uint_t kind, u_char *key, size_t len,
    time_t now);
static ngx_int_t ngx_http_tenant_guard_ban_fail_handler(u_char *value,
    void *data, time_t *expires);
static ngx_int_t ngx_http_tenant_guard_ban_count(ngx_log_t *log,
    ngx_uint_t kind, u_char *key, size_t len, const tg_ban_settings_t *b);
static void ngx_http_tenant_guard_ban_counted(void *data, ngx_int_t rc,
    long long count, long long window);
static void ngx_http_tenant_guard_ban_unsettled(
    ngx_http_tenant_guard_count_t *c);
static void ngx_http_tenant_guard_ban_replay(ngx_event_t *ev);


static ngx_queue_t   ngx_http_tenant_guard_ban_replays;
static ngx_uint_t    ngx_http_tenant_guard_ban_nreplays;
static ngx_uint_t    ngx_http_tenant_guard_ban_dropped;
static ngx_event_t   ngx_http_tenant_guard_ban_replay_ev;


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
    ctx->ban_id = *id;

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

    /* each count Redis cannot take (its link is down) is settled later */

    if (identifier) {
        ngx_http_tenant_guard_admin_ban_note(tmcf->zone, ws, &ctx->ban_id,
                                             ctx->ban_key);

        (void) ngx_http_tenant_guard_ban_count(r->connection->log,
                                             NGX_HTTP_TENANT_GUARD_KIND_BAN_ID,
                                             ctx->ban_key, 32, &policy->ban);
    }

    if (len) {
        (void) ngx_http_tenant_guard_ban_count(r->connection->log,
                                             NGX_HTTP_TENANT_GUARD_KIND_BAN_IP,
                                             key, len, &policy->ban);
    }
}


static void
ngx_http_tenant_guard_ban_zone_fail(ngx_log_t *log,
    const tg_ban_settings_t *b, ngx_uint_t kind, u_char *key, size_t len,
    time_t now)
{
    ngx_http_tenant_guard_fail_t        f;
    ngx_http_tenant_guard_main_conf_t  *tmcf;
    u_char                  name[NGX_HTTP_TENANT_GUARD_BAN_NAME_LEN];

    tmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_tenant_guard_module);

    f.settings = b;
    f.address = (kind == NGX_HTTP_TENANT_GUARD_KIND_BAN_IP);
    f.now = now;
    f.level = TG_BAN_NONE;

    if (ngx_http_tenant_guard_zone_update(tmcf->zone, kind, key, len,
                                      sizeof(tg_ban_state_t),
                                      ngx_http_tenant_guard_ban_fail_handler,
                                      &f)
        == NGX_OK
        && f.level != TG_BAN_NONE)
    {
        ngx_http_tenant_guard_metrics_ban(f.level);

        ngx_log_error(NGX_LOG_INFO, log, 0,
                      "tenant_guard: %s banned, level %d, for %T s, %*s",
                      f.address ? "client address" : "login identifier",
                      f.level, f.until - f.now,
                      ngx_http_tenant_guard_admin_ban_name(name, kind, key,
                                                           len)
                      - name, name);
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


/*
 * A failure: counted in Redis when the link takes it, otherwise in the
 * zone at once and queued for Redis.  NGX_ERROR: no memory, counted in
 * the zone only.
 */

static ngx_int_t
ngx_http_tenant_guard_ban_count(ngx_log_t *log, ngx_uint_t kind, u_char *key,
    size_t len, const tg_ban_settings_t *b)
{
    long long                           longest;
    ngx_http_tenant_guard_count_t      *count;
    ngx_http_tenant_guard_main_conf_t  *tmcf;

    longest = tg_ban_window(b, kind == NGX_HTTP_TENANT_GUARD_KIND_BAN_IP);

    if (longest == 0) {
        return NGX_OK;
    }

    tmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_tenant_guard_module);

    if (tmcf->redis == NULL) {
        ngx_http_tenant_guard_ban_zone_fail(log, b, kind, key, len,
                                            ngx_time());
        return NGX_OK;
    }

    count = ngx_alloc(sizeof(ngx_http_tenant_guard_count_t), log);
    if (count == NULL) {
        ngx_http_tenant_guard_ban_zone_fail(log, b, kind, key, len,
                                            ngx_time());
        return NGX_ERROR;
    }

    count->settings = *b;
    count->kind = kind;
    count->replay = 0;
    count->now = ngx_time();
    count->len = len;
    ngx_memcpy(count->key, key, len);

    if (ngx_http_tenant_guard_store_ban_count(kind, key, len, longest,
                                              count->now,
                                              ngx_http_tenant_guard_ban_counted,
                                              count)
        != NGX_OK)
    {
        ngx_http_tenant_guard_ban_unsettled(count);
    }

    return NGX_OK;
}


/*
 * The cluster's count of a window: this host bans at once, others hear.
 * A count at or past a threshold bans (a replayed count may have skipped
 * it), unless this host wrote this level or a higher one to Redis already
 * (a ban in the zone with no window: one a count here counted, with a
 * window, may never have reached Redis).
 */

static void
ngx_http_tenant_guard_ban_counted(void *data, ngx_int_t rc, long long count,
    long long window)
{
    ngx_http_tenant_guard_count_t *c = data;

    int                                 level;
    size_t                              n;
    time_t                              now;
    long long                           until;
    tg_ban_state_t                      s;
    ngx_http_tenant_guard_main_conf_t  *tmcf;
    u_char                  name[NGX_HTTP_TENANT_GUARD_BAN_NAME_LEN];

    if (rc != NGX_OK) {
        ngx_http_tenant_guard_ban_unsettled(c);
        return;
    }

    level = tg_ban_reached(&c->settings,
                           c->kind == NGX_HTTP_TENANT_GUARD_KIND_BAN_IP,
                           count, window, c->now, &until);

    if (level == TG_BAN_NONE) {
        ngx_free(c);
        return;
    }

    /* a failure replayed after a fault bans from now, not from then */

    now = ngx_time();
    until += now - c->now;

    tmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_tenant_guard_module);

    if (ngx_http_tenant_guard_zone_get(tmcf->zone, c->kind, c->key, c->len,
                                       (u_char *) &s, sizeof(s), &n)
        == NGX_OK
        && n == sizeof(s)
        && s.window == 0
        && s.until > now
        && s.level >= level)
    {
        ngx_free(c);
        return;
    }

    ngx_memzero(&s, sizeof(tg_ban_state_t));
    s.until = until;
    s.level = level;

    (void) ngx_http_tenant_guard_zone_put(tmcf->zone, c->kind, c->key, c->len,
                                          (u_char *) &s, sizeof(s),
                                          (time_t) until);

    ngx_http_tenant_guard_store_ban_set(c->kind, c->key, c->len, until, now);

    ngx_http_tenant_guard_metrics_ban(level);

    ngx_log_error(NGX_LOG_INFO, ngx_cycle->log, 0,
                  "tenant_guard: %s banned, level %d, for %L s, %*s",
                  c->kind == NGX_HTTP_TENANT_GUARD_KIND_BAN_IP
                  ? "client address" : "login identifier",
                  level, until - now,
                  ngx_http_tenant_guard_admin_ban_name(name, c->kind, c->key,
                                                       c->len)
                  - name, name);

    ngx_free(c);
}


/*
 * A count Redis did not take or did not answer: counted in the zone (once)
 * so that this host bans meanwhile, and queued to be counted in Redis when
 * the link takes it again.  A reply lost after Redis counted means the
 * failure is counted twice there: a fault errs toward banning.  The queue
 * is bounded: past it the oldest failure is counted here only.
 */

static void
ngx_http_tenant_guard_ban_unsettled(ngx_http_tenant_guard_count_t *c)
{
    ngx_queue_t                    *q;
    ngx_http_tenant_guard_count_t  *old;

    if (!c->replay) {
        c->replay = 1;
        ngx_http_tenant_guard_ban_zone_fail(ngx_cycle->log, &c->settings,
                                            c->kind, c->key, c->len,
                                            (time_t) c->now);
    }

    if (ngx_http_tenant_guard_ban_replays.next == NULL) {
        ngx_queue_init(&ngx_http_tenant_guard_ban_replays);

        /* data: any readable object, for the debug log's event ident */

        ngx_http_tenant_guard_ban_replay_ev.handler =
                                            ngx_http_tenant_guard_ban_replay;
        ngx_http_tenant_guard_ban_replay_ev.data =
                                          &ngx_http_tenant_guard_ban_replay_ev;
        ngx_http_tenant_guard_ban_replay_ev.log = ngx_cycle->log;
        ngx_http_tenant_guard_ban_replay_ev.cancelable = 1;
    }

    if (ngx_http_tenant_guard_ban_nreplays
        >= NGX_HTTP_TENANT_GUARD_BAN_REPLAY_MAX)
    {
        q = ngx_queue_head(&ngx_http_tenant_guard_ban_replays);
        ngx_queue_remove(q);
        old = ngx_queue_data(q, ngx_http_tenant_guard_count_t, queue);
        ngx_free(old);
        ngx_http_tenant_guard_ban_nreplays--;

        if (ngx_http_tenant_guard_ban_dropped++ == 0) {
            ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                          "tenant_guard: more than %d failures wait for "
                          "redis, the oldest are counted on this host only",
                          NGX_HTTP_TENANT_GUARD_BAN_REPLAY_MAX);
        }
    }

    ngx_queue_insert_tail(&ngx_http_tenant_guard_ban_replays, &c->queue);
    ngx_http_tenant_guard_ban_nreplays++;

    if (!ngx_http_tenant_guard_ban_replay_ev.timer_set) {
        ngx_add_timer(&ngx_http_tenant_guard_ban_replay_ev,
                      NGX_HTTP_TENANT_GUARD_BAN_REPLAY_EVERY);
    }
}


/* the queued failures go to Redis, in order, as soon as the link takes them */

static void
ngx_http_tenant_guard_ban_replay(ngx_event_t *ev)
{
    long long                       longest;
    ngx_queue_t                    *q;
    ngx_http_tenant_guard_count_t  *c;

    while (!ngx_queue_empty(&ngx_http_tenant_guard_ban_replays)) {
        q = ngx_queue_head(&ngx_http_tenant_guard_ban_replays);
        c = ngx_queue_data(q, ngx_http_tenant_guard_count_t, queue);

        longest = tg_ban_window(&c->settings,
                                c->kind == NGX_HTTP_TENANT_GUARD_KIND_BAN_IP);

        if (ngx_http_tenant_guard_store_ban_count(c->kind, c->key, c->len,
                                              longest, c->now,
                                              ngx_http_tenant_guard_ban_counted,
                                              c)
            != NGX_OK)
        {
            ngx_add_timer(ev, NGX_HTTP_TENANT_GUARD_BAN_REPLAY_EVERY);
            return;
        }

        ngx_queue_remove(q);
        ngx_http_tenant_guard_ban_nreplays--;
    }

    if (ngx_http_tenant_guard_ban_dropped) {
        ngx_log_error(NGX_LOG_NOTICE, ngx_cycle->log, 0,
                      "tenant_guard: %ui failures were counted on this host "
                      "only", ngx_http_tenant_guard_ban_dropped);
        ngx_http_tenant_guard_ban_dropped = 0;
    }
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


/* the zone's and Redis's key of a workspace's login identifier */

void
ngx_http_tenant_guard_ban_key_of(ngx_str_t *ws, ngx_str_t *id, u_char *key)
{
    ngx_http_tenant_guard_ban_identifier_key(ws, id, key);
}
