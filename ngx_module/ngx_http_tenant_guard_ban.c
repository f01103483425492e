
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

    /* an attempt: refused, not counted, while a ban is in force */
    ngx_uint_t                    check;
    time_t                        retry;
    long long                     window;    /* counted in */
    int                           prev_level;
    long long                     prev_until;
} ngx_http_tenant_guard_fail_t;


/*
 * A login attempt counts when it starts, under each of its keys (the
 * identifier in its workspace, the identifier in no workspace, the
 * address), so that concurrent guesses meet the ban; its response
 * settles it: a failure keeps the count, anything else gives it back.
 * A request that ends with no response seen (the client went away, an
 * error_page took over) keeps it, from the pool cleanup.  With Redis the
 * count is the cluster's and is taken when the attempt is settled.
 */

#define NGX_HTTP_TENANT_GUARD_BAN_KEYS  3

typedef struct {
    ngx_uint_t                    kind;
    size_t                        len;
    u_char                        key[33];   /* and 'f': in flight */
    tg_ban_settings_t             settings;
    long long                     window;
    int                           level;     /* this attempt banned */
    int                           prev_level;
    long long                     until;
    long long                     prev_until;
} ngx_http_tenant_guard_slot_t;


typedef struct {
    ngx_log_t                    *log;
    ngx_uint_t                    settled;
    ngx_uint_t                    redis;
    ngx_uint_t                    n;
    ngx_http_tenant_guard_slot_t  slots[NGX_HTTP_TENANT_GUARD_BAN_KEYS];
} ngx_http_tenant_guard_attempt_t;


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
static void ngx_http_tenant_guard_ban_settings(ngx_http_request_t *r,
    ngx_str_t *ws, const tg_ban_settings_t *ws_ban, tg_ban_settings_t *id,
    tg_ban_settings_t *def, tg_ban_settings_t *address);
static ngx_int_t ngx_http_tenant_guard_ban_start_handler(u_char *value,
    void *data, time_t *expires);
static ngx_int_t ngx_http_tenant_guard_ban_release_handler(u_char *value,
    void *data, time_t *expires);
static ngx_int_t ngx_http_tenant_guard_ban_inflight(ngx_http_request_t *r,
    ngx_http_tenant_guard_ctx_t *ctx, ngx_http_tenant_guard_attempt_t *a);
static ngx_int_t ngx_http_tenant_guard_ban_inflight_handler(u_char *value,
    void *data, time_t *expires);
static ngx_int_t ngx_http_tenant_guard_ban_landed_handler(u_char *value,
    void *data, time_t *expires);
static void ngx_http_tenant_guard_ban_attempt_cleanup(void *data);
static void ngx_http_tenant_guard_ban_settle_attempt(
    ngx_http_tenant_guard_attempt_t *a, ngx_uint_t failed);
static void ngx_http_tenant_guard_ban_identifier_key(ngx_str_t *ws,
    ngx_str_t *id, u_char *key);
static ngx_int_t ngx_http_tenant_guard_ban_lookup(ngx_http_request_t *r,
    ngx_http_tenant_guard_ctx_t *ctx, ngx_uint_t kind, u_char *key,
    size_t len);
static ngx_int_t ngx_http_tenant_guard_ban_check(ngx_http_request_t *r,
    ngx_http_tenant_guard_ctx_t *ctx, ngx_uint_t kind, u_char *key,
    size_t len, ngx_uint_t bit);
static void ngx_http_tenant_guard_ban_refuse(ngx_http_tenant_guard_ctx_t *ctx,
    ngx_uint_t kind, time_t left);
static void ngx_http_tenant_guard_ban_zone_fail(ngx_log_t *log,
    const tg_ban_settings_t *b, ngx_uint_t kind, u_char *key, size_t len,
    time_t now);
static ngx_int_t ngx_http_tenant_guard_ban_fail_handler(u_char *value,
    void *data, time_t *expires);
static ngx_int_t ngx_http_tenant_guard_ban_count(ngx_log_t *log,
    ngx_uint_t kind, u_char *key, size_t len, const tg_ban_settings_t *b,
    ngx_uint_t counted);
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
 * The address step: a banned address is refused before any other work,
 * in every guarded location and login endpoint.  A password reset is
 * never refused, since a banned user could not lift the ban otherwise.
 */

ngx_int_t
ngx_http_tenant_guard_ban_address(ngx_http_request_t *r,
    ngx_http_tenant_guard_loc_conf_t *lcf, ngx_http_tenant_guard_ctx_t *ctx)
{
    size_t  len;
    u_char  key[16];

    if (lcf->login != NULL && lcf->login->reset) {
        return NGX_OK;
    }

    len = ngx_http_tenant_guard_ban_address_key(r, key);

    return ngx_http_tenant_guard_ban_check(r, ctx,
                                           NGX_HTTP_TENANT_GUARD_KIND_BAN_IP,
                                           key, len, 1);
}


/*
 * The ban step.  Identity bans (levels 1 and 2) refuse the login endpoint
 * only: a stranger's failed logins with a victim's identifier must never
 * lock the victim's tokens out.  A token's address is the address step's.
 */

ngx_int_t
ngx_http_tenant_guard_ban_subject(ngx_http_request_t *r,
    ngx_http_tenant_guard_loc_conf_t *lcf, ngx_http_tenant_guard_ctx_t *ctx)
{
    return NGX_OK;
}


/*
 * A login's identifier, normalized: its keys are kept for the attempt,
 * one in the workspace the client named (when it named one) and one in
 * no workspace, so that rotating the workspace never resets a count.
 */

void
ngx_http_tenant_guard_ban_identifier(ngx_http_request_t *r,
    ngx_http_tenant_guard_ctx_t *ctx, ngx_str_t *ws, ngx_str_t *id)
{
    ngx_str_t                           none;
    ngx_http_tenant_guard_main_conf_t  *tmcf;

    tmcf = ngx_http_get_module_main_conf(r, ngx_http_tenant_guard_module);

    ngx_str_null(&none);

    ctx->ban_id = *id;

    /* the admin API's bans listing shows the identifier beside its hash */

    if (ws->len) {
        ngx_http_tenant_guard_ban_identifier_key(ws, id, ctx->ban_key);
        ctx->has_ban_key = 1;
        ngx_http_tenant_guard_admin_ban_note(tmcf->zone, ws, id,
                                             ctx->ban_key);
    }

    ngx_http_tenant_guard_ban_identifier_key(&none, id, ctx->ban_key_any);
    ctx->has_ban_key_any = 1;
    ngx_http_tenant_guard_admin_ban_note(tmcf->zone, &none, id,
                                         ctx->ban_key_any);
}


/*
 * SHA-256 of a marker, the workspace, NUL, and the normalized identifier:
 * the marker keeps these keys apart from the ASCII-folded ones of earlier
 * versions, and "" is the key of no workspace.
 */

static void
ngx_http_tenant_guard_ban_identifier_key(ngx_str_t *ws, ngx_str_t *id,
    u_char *key)
{
    u_char  buf[2 * NGX_HTTP_TENANT_GUARD_MAX_ID + 4];
    u_char *p;
    size_t  len;

    p = ngx_cpymem(buf, "n1", 2);

    len = ngx_min(ws->len, NGX_HTTP_TENANT_GUARD_MAX_ID);
    p = ngx_cpymem(p, ws->data, len);
    *p++ = '\0';

    len = ngx_min(id->len, NGX_HTTP_TENANT_GUARD_MAX_ID);
    p = ngx_cpymem(p, id->data, len);

    tg_jwt_sha256(buf, p - buf, key);
}


/*
 * The address's key: an IPv4 address (mapped ones too), or the
 * tenant_guard_ban_ipv6_prefix bits of an IPv6 one, so that rotating
 * addresses inside one allocation is counted as one client.
 */

static ngx_uint_t
ngx_http_tenant_guard_ban_address_key(ngx_http_request_t *r, u_char *key)
{
    struct sockaddr_in                 *sin;
#if (NGX_HAVE_INET6)
    struct sockaddr_in6                *sin6;
    ngx_http_tenant_guard_main_conf_t  *tmcf;
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

        tmcf = ngx_http_get_module_main_conf(r, ngx_http_tenant_guard_module);

        ngx_memcpy(key, sin6->sin6_addr.s6_addr, 16);
        ngx_http_tenant_guard_ban_ipv6_mask(key, tmcf->ban_ipv6_prefix);

        return 16;
#endif
    }

    return 0;
}


/*
 * An IPv6 address as its ban key: the first bits of it
 * (tenant_guard_ban_ipv6_prefix), the rest zero.
 */

void
ngx_http_tenant_guard_ban_ipv6_mask(u_char *addr, ngx_uint_t bits)
{
    ngx_uint_t  i;

    for (i = 0; i < 16; i++) {
        if (bits >= 8) {
            bits -= 8;

        } else {
            addr[i] &= (u_char) (0xff00 >> bits);
            bits = 0;
        }
    }
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

    ngx_http_tenant_guard_ban_refuse(ctx, kind, left);

    return NGX_OK;
}


static void
ngx_http_tenant_guard_ban_refuse(ngx_http_tenant_guard_ctx_t *ctx,
    ngx_uint_t kind, time_t left)
{
    ctx->result = TG_RESULT_BANNED;
    ctx->retry = left;

    if (kind == NGX_HTTP_TENANT_GUARD_KIND_BAN_IP) {
        ngx_str_set(&ctx->detail, "the client address is banned");

    } else {
        ngx_str_set(&ctx->detail, "the login identifier is banned");
    }
}


/*
 * The zone's record of a key; in Redis mode, when the zone has none at
 * all (evicted, or never heard of), Redis's, once per request and key
 * (bit): the answer goes to the zone, "no ban" for a few seconds, so that
 * a warm request makes no round trip.  NGX_AGAIN while Redis is asked;
 * Redis that cannot say leaves the zone's verdict.
 */

static ngx_int_t
ngx_http_tenant_guard_ban_check(ngx_http_request_t *r,
    ngx_http_tenant_guard_ctx_t *ctx, ngx_uint_t kind, u_char *key,
    size_t len, ngx_uint_t bit)
{
    size_t                              n;
    time_t                              until;
    ngx_int_t                           rc;
    tg_ban_state_t                      s;
    ngx_http_tenant_guard_main_conf_t  *tmcf;

    tmcf = ngx_http_get_module_main_conf(r, ngx_http_tenant_guard_module);

    if (tmcf->zone == NULL || len == 0) {
        return NGX_OK;
    }

    if (tmcf->redis == NULL || (ctx->ban_asked & bit)
        || (ngx_http_tenant_guard_zone_get(tmcf->zone, kind, key, len,
                                           (u_char *) &s, sizeof(s), &n)
            == NGX_OK
            && n == sizeof(s)))
    {
        return ngx_http_tenant_guard_ban_lookup(r, ctx, kind, key, len);
    }

    rc = ngx_http_tenant_guard_store_ban_get(r, ctx, kind, key, len, &until);

    if (rc == NGX_AGAIN || rc == NGX_ERROR) {
        return rc;
    }

    ctx->ban_asked |= bit;

    if (rc == NGX_OK && until > ngx_time()) {
        ngx_http_tenant_guard_ban_refuse(ctx, kind, until - ngx_time());
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
    tg_ban_settings_t                   id, def, address;
    ngx_http_tenant_guard_main_conf_t  *tmcf;

    tmcf = ngx_http_get_module_main_conf(r, ngx_http_tenant_guard_module);

    if (tmcf->zone == NULL || tmcf->policies == NULL) {
        return;
    }

    ngx_http_tenant_guard_ban_settings(r, ws, NULL, &id, &def, &address);
    len = ngx_http_tenant_guard_ban_address_key(r, key);

    /* each count Redis cannot take (its link is down) is settled later */

    if (identifier && ctx->has_ban_key) {
        (void) ngx_http_tenant_guard_ban_count(r->connection->log,
                                             NGX_HTTP_TENANT_GUARD_KIND_BAN_ID,
                                             ctx->ban_key, 32, &id, 0);
    }

    if (identifier && ctx->has_ban_key_any) {
        (void) ngx_http_tenant_guard_ban_count(r->connection->log,
                                             NGX_HTTP_TENANT_GUARD_KIND_BAN_ID,
                                             ctx->ban_key_any, 32, &def, 0);
    }

    if (len) {
        (void) ngx_http_tenant_guard_ban_count(r->connection->log,
                                             NGX_HTTP_TENANT_GUARD_KIND_BAN_IP,
                                             key, len, &address, 0);
    }
}


/*
 * The settings a login counts under: the workspace's (from Redis when
 * ws_ban is given, else from the file) for the identifier in that
 * workspace, the default policy's for the identifier in no workspace, and
 * for the address the stricter of the two, so that naming a workspace
 * with a weaker "ban" never weakens the address level.
 */

static void
ngx_http_tenant_guard_ban_settings(ngx_http_request_t *r, ngx_str_t *ws,
    const tg_ban_settings_t *ws_ban, tg_ban_settings_t *id,
    tg_ban_settings_t *def, tg_ban_settings_t *address)
{
    const tg_policy_t                  *policy;
    ngx_http_tenant_guard_main_conf_t  *tmcf;

    tmcf = ngx_http_get_module_main_conf(r, ngx_http_tenant_guard_module);

    if (ws_ban == NULL) {
        policy = tg_policy_set_find(tmcf->policies, (char *) ws->data,
                                    ws->len);
        ws_ban = &policy->ban;
    }

    *id = *ws_ban;
    *def = tmcf->policies->def.ban;
    *address = tmcf->policies->def.ban;

    tg_ban_stricter(&ws_ban->permanent, &def->permanent,
                    &address->permanent);
}


/*
 * A login starts: refused while any of its keys is banned, otherwise
 * counted now (without Redis) under each, checked and counted in one
 * step of the zone so that workers racing on one key meet the ban.
 */

ngx_int_t
ngx_http_tenant_guard_ban_attempt(ngx_http_request_t *r,
    ngx_http_tenant_guard_ctx_t *ctx, ngx_str_t *ws,
    const tg_ban_settings_t *ws_ban)
{
    ngx_int_t                           rc;
    ngx_uint_t                          i;
    tg_ban_settings_t                   id, def, address;
    ngx_pool_cleanup_t                 *cln;
    ngx_http_tenant_guard_fail_t        f;
    ngx_http_tenant_guard_slot_t       *slot;
    ngx_http_tenant_guard_attempt_t    *a;
    ngx_http_tenant_guard_main_conf_t  *tmcf;

    tmcf = ngx_http_get_module_main_conf(r, ngx_http_tenant_guard_module);

    if (tmcf->zone == NULL || tmcf->policies == NULL) {
        return NGX_OK;
    }

    a = ngx_pcalloc(r->pool, sizeof(ngx_http_tenant_guard_attempt_t));
    if (a == NULL) {
        return NGX_ERROR;
    }

    a->log = r->connection->log;
    a->redis = (tmcf->redis != NULL);

    ngx_http_tenant_guard_ban_settings(r, ws, ws_ban, &id, &def, &address);

    if (ctx->has_ban_key) {
        slot = &a->slots[a->n++];
        slot->kind = NGX_HTTP_TENANT_GUARD_KIND_BAN_ID;
        slot->len = 32;
        ngx_memcpy(slot->key, ctx->ban_key, 32);
        slot->settings = id;
    }

    if (ctx->has_ban_key_any) {
        slot = &a->slots[a->n++];
        slot->kind = NGX_HTTP_TENANT_GUARD_KIND_BAN_ID;
        slot->len = 32;
        ngx_memcpy(slot->key, ctx->ban_key_any, 32);
        slot->settings = def;
    }

    slot = &a->slots[a->n];
    slot->len = ngx_http_tenant_guard_ban_address_key(r, slot->key);

    if (slot->len) {
        slot->kind = NGX_HTTP_TENANT_GUARD_KIND_BAN_IP;
        slot->settings = address;
        a->n++;
    }

    for (i = 0; i < a->n; i++) {
        slot = &a->slots[i];

        rc = ngx_http_tenant_guard_ban_check(r, ctx, slot->kind, slot->key,
                                             slot->len,
                                             (ngx_uint_t) 2 << i);
        if (rc != NGX_OK) {
            return rc;
        }

        if (ctx->result != TG_RESULT_ALLOW) {
            return NGX_OK;
        }
    }

    /*
     * Counted here now.  With Redis the cluster's count is taken when the
     * attempt is settled: a host's own early count would ban on its own,
     * unseen by the others, and hold back the count that bans everywhere.
     */

    if (!a->redis) {
        for (i = 0; i < a->n; i++) {
            slot = &a->slots[i];

            if (tg_ban_window(&slot->settings,
                              slot->kind == NGX_HTTP_TENANT_GUARD_KIND_BAN_IP)
                == 0)
            {
                slot->window = -1;
                continue;
            }

            ngx_memzero(&f, sizeof(ngx_http_tenant_guard_fail_t));
            f.settings = &slot->settings;
            f.address = (slot->kind == NGX_HTTP_TENANT_GUARD_KIND_BAN_IP);
            f.now = ngx_time();
            f.check = 1;

            if (ngx_http_tenant_guard_zone_update(tmcf->zone, slot->kind,
                                      slot->key, slot->len,
                                      sizeof(tg_ban_state_t),
                                      ngx_http_tenant_guard_ban_start_handler,
                                      &f)
                != NGX_OK)
            {
                slot->window = -1;
                continue;
            }

            if (f.retry) {

                /* another worker's attempt banned it meanwhile */

                ctx->result = TG_RESULT_BANNED;
                ctx->retry = f.retry;
                ngx_str_set(&ctx->detail, "too many attempts at once");
                slot->window = -1;
                break;
            }

            slot->window = f.window;
            slot->level = f.level;
            slot->until = f.until;
            slot->prev_level = f.prev_level;
            slot->prev_until = f.prev_until;

            if (f.level != TG_BAN_NONE) {
                u_char  name[NGX_HTTP_TENANT_GUARD_BAN_NAME_LEN];

                ngx_http_tenant_guard_metrics_ban(f.level);

                /* named so that the admin API can lift it */

                ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                              "tenant_guard: %s banned, level %d, for %T s, "
                              "%*s",
                              f.address ? "client address"
                                        : "login identifier",
                              f.level, f.until - f.now,
                              ngx_http_tenant_guard_admin_ban_name(name,
                                                     slot->kind, slot->key,
                                                     slot->len)
                              - name, name);
            }
        }

        /* the slots counted before a refusal stay counted */

        a->n = i;

    } else if (ngx_http_tenant_guard_ban_inflight(r, ctx, a) != NGX_OK) {
        return NGX_ERROR;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    cln->handler = ngx_http_tenant_guard_ban_attempt_cleanup;
    cln->data = a;

    ctx->attempt = a;

    /* refused: no response to wait for; the slots in flight are free */

    if (ctx->result != TG_RESULT_ALLOW) {
        if (a->redis) {
            ngx_http_tenant_guard_ban_settle_attempt(a, 0);

        } else {
            a->settled = 1;
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_tenant_guard_ban_start_handler(u_char *value, void *data,
    time_t *expires)
{
    ngx_http_tenant_guard_fail_t *f = data;

    tg_ban_state_t  s;

    ngx_memcpy(&s, value, sizeof(tg_ban_state_t));

    if (tg_ban_retry_after(&s, f->now)) {
        f->retry = (time_t) tg_ban_retry_after(&s, f->now);

        if (*expires == 0) {
            *expires = (time_t) s.until;
        }

        return NGX_OK;
    }

    f->prev_level = s.level;
    f->prev_until = s.until;

    f->level = f->address ? tg_ban_fail_address(&s, f->settings, f->now)
                          : tg_ban_fail_identifier(&s, f->settings, f->now);
    f->until = (time_t) s.until;
    f->window = s.window;

    ngx_memcpy(value, &s, sizeof(tg_ban_state_t));

    *expires = (time_t) tg_ban_expires(&s, f->settings, f->address);

    if (*expires <= f->now) {
        *expires = f->now + 1;
    }

    return NGX_OK;
}


/*
 * An attempt that did not fail gives its count back, and lifts the ban
 * its own count set, if no later count changed that ban.
 */

static ngx_int_t
ngx_http_tenant_guard_ban_release_handler(u_char *value, void *data,
    time_t *expires)
{
    ngx_http_tenant_guard_slot_t *slot = data;

    time_t          now;
    tg_ban_state_t  s;

    ngx_memcpy(&s, value, sizeof(tg_ban_state_t));

    if (s.window != slot->window || s.count <= 0) {
        return NGX_OK;
    }

    s.count--;

    if (slot->level != TG_BAN_NONE && s.level == slot->level
        && s.until == slot->until)
    {
        s.level = slot->prev_level;
        s.until = slot->prev_until;
    }

    ngx_memcpy(value, &s, sizeof(tg_ban_state_t));

    now = ngx_time();

    *expires = (time_t) tg_ban_expires(&s, &slot->settings,
                           slot->kind == NGX_HTTP_TENANT_GUARD_KIND_BAN_IP);

    if (*expires <= now) {
        *expires = now + 1;
    }

    return NGX_OK;
}


/*
 * With Redis, the cluster's count comes when attempts end; meanwhile no
 * more attempts of one key may be in flight on this host than the lowest
 * threshold, so that a burst meets the ban its first attempts lead to.
 * The in-flight count is a zone entry of its own (the key and an 'f').
 */

typedef struct {
    long long                     limit;
    time_t                        now;
    ngx_uint_t                    refused;
} ngx_http_tenant_guard_inflight_t;


static ngx_int_t
ngx_http_tenant_guard_ban_inflight(ngx_http_request_t *r,
    ngx_http_tenant_guard_ctx_t *ctx, ngx_http_tenant_guard_attempt_t *a)
{
    ngx_uint_t                          i;
    ngx_http_tenant_guard_slot_t       *slot;
    ngx_http_tenant_guard_inflight_t    f;
    ngx_http_tenant_guard_main_conf_t  *tmcf;

    tmcf = ngx_http_get_module_main_conf(r, ngx_http_tenant_guard_module);

    for (i = 0; i < a->n; i++) {
        slot = &a->slots[i];
        slot->window = -1;

        f.limit = tg_ban_lowest(&slot->settings,
                              slot->kind == NGX_HTTP_TENANT_GUARD_KIND_BAN_IP);
        f.now = ngx_time();
        f.refused = 0;

        if (f.limit == 0) {
            continue;
        }

        slot->key[slot->len] = 'f';

        if (ngx_http_tenant_guard_zone_update(tmcf->zone, slot->kind,
                                   slot->key, slot->len + 1,
                                   sizeof(tg_ban_state_t),
                                   ngx_http_tenant_guard_ban_inflight_handler,
                                   &f)
            != NGX_OK)
        {
            continue;
        }

        if (f.refused) {
            ctx->result = TG_RESULT_BANNED;
            ctx->retry = 1;
            ngx_str_set(&ctx->detail, "too many attempts at once");
            break;
        }

        slot->window = 0;
    }

    /* the slots held before a refusal are given back when it ends */

    for ( /* void */ ; i < a->n; i++) {
        a->slots[i].window = -1;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_tenant_guard_ban_inflight_handler(u_char *value, void *data,
    time_t *expires)
{
    ngx_http_tenant_guard_inflight_t *f = data;

    tg_ban_state_t  s;

    ngx_memcpy(&s, value, sizeof(tg_ban_state_t));

    if (s.count >= f->limit) {
        f->refused = 1;
        return NGX_OK;
    }

    s.count++;
    ngx_memcpy(value, &s, sizeof(tg_ban_state_t));

    /* a bound, should a worker die with attempts in flight */

    *expires = f->now + 600;

    return NGX_OK;
}


static ngx_int_t
ngx_http_tenant_guard_ban_landed_handler(u_char *value, void *data,
    time_t *expires)
{
    tg_ban_state_t  s;

    ngx_memcpy(&s, value, sizeof(tg_ban_state_t));

    if (s.count > 0) {
        s.count--;
    }

    ngx_memcpy(value, &s, sizeof(tg_ban_state_t));

    if (*expires == 0) {
        *expires = ngx_time() + 1;
    }

    return NGX_OK;
}


/* the response of a login: failed or not */

void
ngx_http_tenant_guard_ban_settle(ngx_http_request_t *r,
    ngx_http_tenant_guard_ctx_t *ctx, ngx_uint_t failed)
{
    if (ctx->attempt != NULL) {
        ngx_http_tenant_guard_ban_settle_attempt(ctx->attempt, failed);
    }
}


/* a login whose response was never seen counts as a failure */

static void
ngx_http_tenant_guard_ban_attempt_cleanup(void *data)
{
    ngx_http_tenant_guard_ban_settle_attempt(data, 1);
}


static void
ngx_http_tenant_guard_ban_settle_attempt(ngx_http_tenant_guard_attempt_t *a,
    ngx_uint_t failed)
{
    ngx_uint_t                          i;
    ngx_http_tenant_guard_slot_t       *slot;
    ngx_http_tenant_guard_main_conf_t  *tmcf;

    if (a->settled) {
        return;
    }

    a->settled = 1;

    tmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_tenant_guard_module);

    for (i = 0; i < a->n; i++) {
        slot = &a->slots[i];

        if (a->redis) {
            if (failed) {
                (void) ngx_http_tenant_guard_ban_count(a->log, slot->kind,
                                                       slot->key, slot->len,
                                                       &slot->settings, 0);
            }

            if (slot->window != -1) {
                slot->key[slot->len] = 'f';

                (void) ngx_http_tenant_guard_zone_update(tmcf->zone,
                                    slot->kind, slot->key, slot->len + 1,
                                    sizeof(tg_ban_state_t),
                                    ngx_http_tenant_guard_ban_landed_handler,
                                    NULL);
            }

            continue;
        }

        if (failed || slot->window == -1) {
            continue;
        }

        (void) ngx_http_tenant_guard_zone_update(tmcf->zone, slot->kind,
                                    slot->key, slot->len,
                                    sizeof(tg_ban_state_t),
                                    ngx_http_tenant_guard_ban_release_handler,
                                    slot);
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
    size_t len, const tg_ban_settings_t *b, ngx_uint_t counted)
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
    count->replay = counted;    /* in the zone already: not again */
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


/*
 * A password reset the upstream confirmed lifts the bans of the identifier
 * it named (in the reset's workspace and in none) and of the address.
 */

void
ngx_http_tenant_guard_ban_lift(ngx_http_request_t *r,
    ngx_http_tenant_guard_ctx_t *ctx, ngx_str_t *ws, ngx_str_t *id)
{
    size_t                              len;
    u_char                              key[16];
    ngx_http_tenant_guard_main_conf_t  *tmcf;

    tmcf = ngx_http_get_module_main_conf(r, ngx_http_tenant_guard_module);

    if (tmcf->zone == NULL) {
        return;
    }

    ngx_http_tenant_guard_ban_identifier(r, ctx, ws, id);

    len = ngx_http_tenant_guard_ban_address_key(r, key);

    if (ctx->has_ban_key_any) {
        ngx_http_tenant_guard_zone_remove(tmcf->zone,
                                          NGX_HTTP_TENANT_GUARD_KIND_BAN_ID,
                                          ctx->ban_key_any,
                                          sizeof(ctx->ban_key_any));

        if (tmcf->redis != NULL) {
            ngx_http_tenant_guard_store_ban_lift(
                                             NGX_HTTP_TENANT_GUARD_KIND_BAN_ID,
                                             ctx->ban_key_any, 32);
        }
    }

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


/* tenant_guard_ban_ipv6_prefix N */

char *
ngx_http_tenant_guard_ban_ipv6_prefix(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_tenant_guard_main_conf_t *tmcf = conf;

    ngx_int_t   n;
    ngx_str_t  *value;

    if (tmcf->ban_ipv6_prefix != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    n = ngx_atoi(value[1].data, value[1].len);

    if (n < 1 || n > 128) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid prefix length \"%V\", "
                           "it must be from 1 to 128", &value[1]);
        return NGX_CONF_ERROR;
    }

    tmcf->ban_ipv6_prefix = (ngx_uint_t) n;

    return NGX_CONF_OK;
}


/* the zone's and Redis's key of a workspace's login identifier */

void
ngx_http_tenant_guard_ban_key_of(ngx_str_t *ws, ngx_str_t *id, u_char *key)
{
    ngx_http_tenant_guard_ban_identifier_key(ws, id, key);
}
