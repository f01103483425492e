
/*
 * Copyright (C) tenant_guard authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_tenant_guard_module.h"
#include "ngx_http_tenant_guard_admin.h"
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
    uint16_t                      from_file;  /* Redis had no such key */
    uint16_t                      invalid;    /* Redis had an invalid one */
    uint32_t                      nip;
    tg_policy_t                   policy;     /* ip.items not valid here */
} ngx_http_tenant_guard_policy_rec_t;


/*
 * A question on its way to Redis, and the requests that wait for its
 * answer: the first one to ask sends it, the ones that ask the same of the
 * same key meanwhile join it, so that a burst of misses of one token or
 * workspace costs Redis one command per worker.  The tree holds the
 * flights new requests may join, by key; the flight itself lives until
 * Redis answers, or does not in time.
 */

typedef struct {
    ngx_str_node_t                sn;         /* the Redis key */
    const char                   *cmd;        /* a read: EXISTS, GET, ... */
    ngx_queue_t                   waiters;
    ngx_uint_t                    listed;     /* in the tree: may be joined */
    ngx_atomic_uint_t             heard;      /* the zone's count, when sent */
} ngx_http_tenant_guard_flight_t;


typedef struct {
    ngx_queue_t                   queue;
    ngx_http_request_t           *r;
    ngx_http_tenant_guard_ctx_t  *ctx;
    ngx_pool_cleanup_t           *cln;
} ngx_http_tenant_guard_rider_t;


static void ngx_http_tenant_guard_store_event(ngx_str_t *key);
static void ngx_http_tenant_guard_store_events_state(ngx_uint_t up);
static ngx_http_tenant_guard_main_conf_t *ngx_http_tenant_guard_store_main(
    void);
static void ngx_http_tenant_guard_store_answer(ngx_http_request_t *r,
    void *data, ngx_http_tenant_guard_reply_t *reply);
static ngx_int_t ngx_http_tenant_guard_store_policy_read(
    ngx_http_request_t *r, ngx_str_t *ws,
    ngx_http_tenant_guard_reply_t *reply, ngx_uint_t keep,
    const tg_policy_t **policy);
static void ngx_http_tenant_guard_store_policy_keep(ngx_http_request_t *r,
    ngx_str_t *ws, tg_policy_t *policy, ngx_uint_t invalid,
    ngx_uint_t keep, const tg_policy_t **kept);
static ngx_int_t ngx_http_tenant_guard_store_key(ngx_pool_t *pool,
    ngx_str_t *key, const char *kind, u_char *id, size_t len);
static ngx_int_t ngx_http_tenant_guard_store_ask(ngx_http_request_t *r,
    ngx_http_tenant_guard_ctx_t *ctx, ngx_uint_t what, const char *cmd,
    const char *kind, u_char *id, size_t len,
    ngx_http_tenant_guard_reply_t **reply);
static ngx_int_t ngx_http_tenant_guard_store_fly(ngx_http_request_t *r,
    ngx_http_tenant_guard_ctx_t *ctx, const char *cmd, ngx_str_t *key);
static void ngx_http_tenant_guard_store_landed(void *data,
    ngx_http_tenant_guard_reply_t *reply);
static void ngx_http_tenant_guard_store_unlist(
    ngx_http_tenant_guard_flight_t *f);
static void ngx_http_tenant_guard_store_forget(ngx_str_t *key);
static void ngx_http_tenant_guard_store_leave(void *data);
static ngx_int_t ngx_http_tenant_guard_store_reply_copy(ngx_pool_t *pool,
    ngx_http_tenant_guard_reply_t *from, ngx_http_tenant_guard_reply_t *to);
static void ngx_http_tenant_guard_store_publish(ngx_str_t *key);
static void ngx_http_tenant_guard_store_revoked_event(
    ngx_http_tenant_guard_zone_t *zone, ngx_uint_t kind, u_char *name,
    size_t len, time_t hold);
static ngx_int_t ngx_http_tenant_guard_store_unhex(u_char *hex, size_t len,
    u_char *bytes);
static void ngx_http_tenant_guard_store_ban_event(ngx_str_t *key,
    ngx_str_t *name);
static ngx_int_t ngx_http_tenant_guard_store_ban_learnt(u_char *value,
    void *data, time_t *expires);
static void ngx_http_tenant_guard_store_ban_reply(void *data,
    ngx_http_tenant_guard_reply_t *reply);
static u_char *ngx_http_tenant_guard_store_ban_key(u_char *p,
    const char *kind, ngx_uint_t ban, u_char *key, size_t len);
static void ngx_http_tenant_guard_store_counted(void *data,
    ngx_http_tenant_guard_reply_t *reply);
static void ngx_http_tenant_guard_store_ban_scan(ngx_event_t *ev);
static void ngx_http_tenant_guard_store_ban_scanned(void *data,
    ngx_http_tenant_guard_reply_t *reply);


/* a ban or a failure count: prefix, "ban:" or "fail:", "{id:HEX}" */

#define NGX_HTTP_TENANT_GUARD_BAN_KEY_LEN                                    \
    (NGX_HTTP_TENANT_GUARD_MAX_PREFIX + sizeof("fail:{id:}") + 2 * 32)


typedef struct {
    ngx_uint_t                    kind;
    size_t                        len;
    u_char                        key[32];
} ngx_http_tenant_guard_ban_fetch_t;


typedef struct {
    ngx_http_tenant_guard_counted_pt  handler;
    void                             *data;
} ngx_http_tenant_guard_count_t;


#define NGX_HTTP_TENANT_GUARD_SCAN_RETRY  100


static ngx_cycle_t  *ngx_http_tenant_guard_cycle;

/* the SCAN of the bans in Redis when the events link comes up */
static ngx_event_t   ngx_http_tenant_guard_scan_ev;
static u_char        ngx_http_tenant_guard_scan_cursor[NGX_INT64_LEN + 1];
static size_t        ngx_http_tenant_guard_scan_len;
static ngx_uint_t    ngx_http_tenant_guard_scan_gen;  /* a reply's scan */

/* the flights of this worker that a request may still join */
static ngx_rbtree_t       ngx_http_tenant_guard_flights;
static ngx_rbtree_node_t  ngx_http_tenant_guard_flights_sentinel;


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

    if (ngx_http_tenant_guard_redis_parse(cf, tmcf->redis) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    /* the events channel, named once: never per reconnect */

    tmcf->redis->channel.data = ngx_pnalloc(cf->pool,
                                         tmcf->redis->prefix.len
                                         + sizeof("events") - 1);
    if (tmcf->redis->channel.data == NULL) {
        return NGX_CONF_ERROR;
    }

    tmcf->redis->channel.len = ngx_sprintf(tmcf->redis->channel.data,
                                           "%Vevents", &tmcf->redis->prefix)
                               - tmcf->redis->channel.data;

    return NGX_CONF_OK;
}


ngx_int_t
ngx_http_tenant_guard_store_init_process(ngx_cycle_t *cycle)
{
    ngx_http_tenant_guard_main_conf_t  *tmcf;

    ngx_http_tenant_guard_cycle = cycle;

    ngx_rbtree_init(&ngx_http_tenant_guard_flights,
                    &ngx_http_tenant_guard_flights_sentinel,
                    ngx_str_rbtree_insert_value);

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
    time_t                              hold;
    ngx_str_t                           name;
    u_char                              digest[32];
    ngx_http_tenant_guard_main_conf_t  *tmcf;

    tmcf = ngx_http_tenant_guard_store_main();

    /*
     * A request that asks from now on is not given an older answer: in
     * this worker, the key's flights are forgotten; in the others, which
     * do not hear tg:events, the zone's count tells them.
     */

    ngx_http_tenant_guard_store_forget(key);

    if (tmcf->zone == NULL) {
        return;
    }

    ngx_http_tenant_guard_zone_hear(tmcf->zone);

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

    /*
     * An answer Redis gave before the change may still be on its way to a
     * request, for as long as a command may take: what depends on it is
     * not kept until then.
     */

    hold = ngx_time() + (time_t) (tmcf->redis->timeout / 1000) + 2;

    if (name.len > 3 && ngx_strncmp(name.data, "ws:", 3) == 0) {
        ngx_http_tenant_guard_zone_remove(tmcf->zone,
                                          NGX_HTTP_TENANT_GUARD_KIND_POLICY,
                                          name.data + 3, name.len - 3);
        return;
    }

    if (name.len == 6 + 64 && ngx_strncmp(name.data, "token:", 6) == 0) {
        if (ngx_http_tenant_guard_store_unhex(name.data + 6, 64, digest)
            != NGX_OK)
        {
            return;
        }

        ngx_http_tenant_guard_zone_remove(tmcf->zone,
                                          NGX_HTTP_TENANT_GUARD_KIND_TOKEN,
                                          digest, 32);

        /* an unknown token may have just been written */

        ngx_http_tenant_guard_zone_negative_hold(tmcf->zone, digest, hold);
        return;
    }

    if (name.len > 9 && ngx_strncmp(name.data, "ban:{", 5) == 0
        && name.data[name.len - 1] == '}')
    {
        ngx_http_tenant_guard_store_ban_event(key, &name);
        return;
    }

    if (name.len > 12 && ngx_strncmp(name.data, "revoked-sub:", 12) == 0) {
        ngx_http_tenant_guard_store_revoked_event(tmcf->zone,
                                        NGX_HTTP_TENANT_GUARD_KIND_REVOKED_SUB,
                                        name.data + 12, name.len - 12, hold);
        return;
    }

    if (name.len > 11 && ngx_strncmp(name.data, "revoked-ws:", 11) == 0) {
        ngx_http_tenant_guard_store_revoked_event(tmcf->zone,
                                         NGX_HTTP_TENANT_GUARD_KIND_REVOKED_WS,
                                         name.data + 11, name.len - 11, hold);
        return;
    }

    if (name.len > 8 && ngx_strncmp(name.data, "revoked:", 8) == 0) {

        /* the jti index names every cached encoding of the token */

        ngx_http_tenant_guard_zone_revoke(tmcf->zone, name.data + 8,
                                          name.len - 8, hold);
        return;
    }
}


/*
 * The events link went up or down.  Up: the bans that live in Redis are
 * read into the zone, in the background (SCAN of <prefix>ban:*, then a GET
 * of each, as for an event), since a host that starts, reloads, or lost
 * its events link has missed the ones set meanwhile; warm requests never
 * wait for it.
 */

static void
ngx_http_tenant_guard_store_events_state(ngx_uint_t up)
{
    ngx_event_t                        *ev;
    ngx_http_tenant_guard_main_conf_t  *tmcf;

    tmcf = ngx_http_tenant_guard_store_main();

    if (tmcf->zone == NULL) {
        return;
    }

    ngx_http_tenant_guard_zone_events(tmcf->zone, up);

    /* an event may have been missed: no older question is joined */

    ngx_http_tenant_guard_zone_hear(tmcf->zone);

    ev = &ngx_http_tenant_guard_scan_ev;

    if (ev->timer_set) {
        ngx_del_timer(ev);
    }

    /* a reply of an earlier scan still on its way is dropped */

    ngx_http_tenant_guard_scan_gen++;

    if (!up) {
        return;
    }

    /* data: any readable object, for the debug log's event ident */

    ev->handler = ngx_http_tenant_guard_store_ban_scan;
    ev->data = ev;
    ev->log = ngx_cycle->log;
    ev->cancelable = 1;

    ngx_http_tenant_guard_scan_cursor[0] = '0';
    ngx_http_tenant_guard_scan_len = 1;

    ngx_http_tenant_guard_store_ban_scan(ev);
}


/* one SCAN step; the command link may not be up yet: tried again soon */

static void
ngx_http_tenant_guard_store_ban_scan(ngx_event_t *ev)
{
    u_char                             *match;
    const char                         *argv[6];
    size_t                              len[6];
    ngx_http_tenant_guard_main_conf_t  *tmcf;

    u_char  buf[NGX_HTTP_TENANT_GUARD_BAN_KEY_LEN];

    tmcf = ngx_http_tenant_guard_store_main();
    match = buf;

    argv[0] = "SCAN";
    len[0] = 4;
    argv[1] = (char *) ngx_http_tenant_guard_scan_cursor;
    len[1] = ngx_http_tenant_guard_scan_len;
    argv[2] = "MATCH";
    len[2] = 5;
    argv[3] = (char *) match;
    len[3] = ngx_sprintf(match, "%Vban:*", &tmcf->redis->prefix) - match;
    argv[4] = "COUNT";
    len[4] = 5;
    argv[5] = "1000";
    len[5] = 4;

    if (ngx_http_tenant_guard_redis_background(
                      ngx_http_tenant_guard_store_ban_scanned,
                      (void *) (uintptr_t) ngx_http_tenant_guard_scan_gen,
                      6, argv, len)
        != NGX_OK)
    {
        ngx_add_timer(ev, NGX_HTTP_TENANT_GUARD_SCAN_RETRY);
    }
}


static void
ngx_http_tenant_guard_store_ban_scanned(void *data,
    ngx_http_tenant_guard_reply_t *reply)
{
    size_t                              i;
    ngx_str_t                           name, *key;
    ngx_http_tenant_guard_reply_t      *keys;
    ngx_http_tenant_guard_main_conf_t  *tmcf;

    tmcf = ngx_http_tenant_guard_store_main();

    if ((uintptr_t) data != ngx_http_tenant_guard_scan_gen) {
        return;
    }

    if (reply == NULL || reply->type != NGX_HTTP_TENANT_GUARD_REPLY_ARRAY
        || reply->n != 2
        || reply->element[0].type != NGX_HTTP_TENANT_GUARD_REPLY_STRING
        || reply->element[0].str.len > NGX_INT64_LEN
        || reply->element[1].type != NGX_HTTP_TENANT_GUARD_REPLY_ARRAY)
    {
        /* the same step again, soon */

        if (!ngx_http_tenant_guard_scan_ev.timer_set) {
            ngx_add_timer(&ngx_http_tenant_guard_scan_ev,
                          NGX_HTTP_TENANT_GUARD_SCAN_RETRY);
        }

        return;
    }

    keys = &reply->element[1];

    for (i = 0; i < keys->n; i++) {
        key = &keys->element[i].str;

        if (keys->element[i].type != NGX_HTTP_TENANT_GUARD_REPLY_STRING
            || key->len <= tmcf->redis->prefix.len)
        {
            continue;
        }

        name.data = key->data + tmcf->redis->prefix.len;
        name.len = key->len - tmcf->redis->prefix.len;

        if (name.len > 9 && ngx_strncmp(name.data, "ban:{", 5) == 0
            && name.data[name.len - 1] == '}')
        {
            ngx_http_tenant_guard_store_ban_event(key, &name);
        }
    }

    ngx_http_tenant_guard_scan_len = reply->element[0].str.len;
    ngx_memcpy(ngx_http_tenant_guard_scan_cursor, reply->element[0].str.data,
               ngx_http_tenant_guard_scan_len);

    if (ngx_http_tenant_guard_scan_len == 1
        && ngx_http_tenant_guard_scan_cursor[0] == '0')
    {
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                       "tenant_guard: the bans in redis are read");
        return;
    }

    ngx_http_tenant_guard_store_ban_scan(&ngx_http_tenant_guard_scan_ev);
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



ngx_int_t
ngx_http_tenant_guard_store_suspend(ngx_http_request_t *r)
{
    r->read_event_handler = ngx_http_test_reading;
    r->write_event_handler = ngx_http_request_empty_handler;

    return NGX_AGAIN;
}


/* the reply callback: records the answer and resumes; the step reads it */

static void
ngx_http_tenant_guard_store_answer(ngx_http_request_t *r, void *data,
    ngx_http_tenant_guard_reply_t *reply)
{
    ngx_http_tenant_guard_ctx_t *ctx = data;

    ngx_connection_t  *c;

    ctx->ask.waiting = 0;
    ctx->ask.answered = 1;
    ctx->ask.reply = reply;

    c = r->connection;

    r->write_event_handler = ngx_http_core_run_phases;
    ngx_http_core_run_phases(r);
    ngx_http_run_posted_requests(c);
}


static ngx_int_t
ngx_http_tenant_guard_store_key(ngx_pool_t *pool, ngx_str_t *key,
    const char *kind, u_char *id, size_t len)
{
    size_t                              n;
    ngx_http_tenant_guard_main_conf_t  *tmcf;

    tmcf = ngx_http_tenant_guard_store_main();

    n = ngx_strlen(kind);

    key->data = ngx_pnalloc(pool, tmcf->redis->prefix.len + n + len);
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
 * "CMD <prefix><kind><id>" for the request, the auth_request way: the
 * first call asks and returns NGX_AGAIN (the request waits); the call
 * after the wake-up returns NGX_OK with the reply, NULL when Redis did not
 * answer in time.  NGX_BUSY: the link is down; NGX_ERROR: no memory.
 * With id NULL, the key names the token: its SHA-256 in hex.
 */

static ngx_int_t
ngx_http_tenant_guard_store_ask(ngx_http_request_t *r,
    ngx_http_tenant_guard_ctx_t *ctx, ngx_uint_t what, const char *cmd,
    const char *kind, u_char *id, size_t len,
    ngx_http_tenant_guard_reply_t **reply)
{
    ngx_int_t   rc;
    ngx_str_t   key;
    u_char      hex[64];

    if (ctx->ask.answered && ctx->ask.what == what) {
        ctx->ask.answered = 0;
        *reply = ctx->ask.reply;
        return NGX_OK;
    }

    if (id == NULL) {
        id = ngx_hex_dump(hex, ctx->key, 32) - 64;
        len = 64;
    }

    if (ngx_http_tenant_guard_store_key(r->pool, &key, kind, id, len)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    rc = ngx_http_tenant_guard_store_fly(r, ctx, cmd, &key);
    if (rc != NGX_OK) {
        return rc;
    }

    ctx->ask.what = what;
    ctx->ask.waiting = 1;
    ctx->ask.answered = 0;
    ctx->ask.older = 0;
    ctx->ask.reply = NULL;

    return NGX_AGAIN;
}


/*
 * The request waits for the answer to "CMD key": it joins the flight of
 * that question if one is on its way and may be joined, else sends it.
 * NGX_OK: waiting; NGX_BUSY: the link is down; NGX_ERROR: no memory.
 */

static ngx_int_t
ngx_http_tenant_guard_store_fly(ngx_http_request_t *r,
    ngx_http_tenant_guard_ctx_t *ctx, const char *cmd, ngx_str_t *key)
{
    uint32_t                            hash;
    const char                         *argv[2];
    size_t                              alen[2];
    ngx_atomic_uint_t                   heard;
    ngx_pool_cleanup_t                 *cln;
    ngx_http_tenant_guard_rider_t      *rider;
    ngx_http_tenant_guard_flight_t     *f;
    ngx_http_tenant_guard_main_conf_t  *tmcf;

    rider = ngx_palloc(r->pool, sizeof(ngx_http_tenant_guard_rider_t));
    if (rider == NULL) {
        return NGX_ERROR;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    hash = ngx_crc32_short(key->data, key->len);

    tmcf = ngx_http_tenant_guard_store_main();
    heard = ngx_http_tenant_guard_zone_heard(tmcf->zone);

    f = (ngx_http_tenant_guard_flight_t *)
            ngx_str_rbtree_lookup(&ngx_http_tenant_guard_flights, key, hash);

    /*
     * The events link heard something since this question was asked (the
     * zone's count, the same for every worker): its answer may be older
     * than a change this request must see, so it asks again.
     */

    if (f != NULL && f->heard != heard) {
        ngx_http_tenant_guard_store_unlist(f);
        f = NULL;
    }

    if (f != NULL && ngx_strcmp(f->cmd, cmd) != 0) {
        f = NULL;
    }

    if (f != NULL) {
        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "tenant_guard: joins the %s of \"%V\" on its way",
                       cmd, key);

    } else {
        f = ngx_alloc(sizeof(ngx_http_tenant_guard_flight_t) + key->len,
                      r->connection->log);
        if (f == NULL) {
            return NGX_ERROR;
        }

        argv[0] = cmd;
        alen[0] = ngx_strlen(cmd);
        argv[1] = (char *) key->data;
        alen[1] = key->len;

        if (ngx_http_tenant_guard_redis_background(
                                            ngx_http_tenant_guard_store_landed,
                                            f, 2, argv, alen)
            != NGX_OK)
        {
            ngx_free(f);
            return NGX_BUSY;
        }

        f->sn.str.data = (u_char *) f + sizeof(ngx_http_tenant_guard_flight_t);
        f->sn.str.len = key->len;
        ngx_memcpy(f->sn.str.data, key->data, key->len);
        f->sn.node.key = hash;
        f->cmd = cmd;
        f->heard = heard;
        ngx_queue_init(&f->waiters);

        ngx_rbtree_insert(&ngx_http_tenant_guard_flights, &f->sn.node);
        f->listed = 1;
    }

    rider->r = r;
    rider->ctx = ctx;
    rider->cln = cln;

    cln->handler = ngx_http_tenant_guard_store_leave;
    cln->data = rider;

    ngx_queue_insert_tail(&f->waiters, &rider->queue);

    return NGX_OK;
}


/*
 * Redis answered a flight, or did not in time (reply NULL): each request
 * that waits gets its own copy of the answer in its pool and is resumed.
 * The flight is out of the tree first, so that a request resumed here
 * that asks again sends a question of its own.
 */

static void
ngx_http_tenant_guard_store_landed(void *data,
    ngx_http_tenant_guard_reply_t *reply)
{
    ngx_http_tenant_guard_flight_t *f = data;

    ngx_uint_t                          older;
    ngx_queue_t                        *q;
    ngx_http_request_t                 *r;
    ngx_http_tenant_guard_rider_t      *rider;
    ngx_http_tenant_guard_reply_t      *copy;
    ngx_http_tenant_guard_main_conf_t  *tmcf;

    /*
     * The events link heard something while the question was on its way:
     * the answer may be older than a change it named.  The requests that
     * asked before use it, as they would have without the event; nothing
     * is kept from it, so that the change holds for the next request.
     */

    tmcf = ngx_http_tenant_guard_store_main();

    older = !f->listed
            || f->heard != ngx_http_tenant_guard_zone_heard(tmcf->zone);

    ngx_http_tenant_guard_store_unlist(f);

    while (!ngx_queue_empty(&f->waiters)) {
        q = ngx_queue_head(&f->waiters);
        ngx_queue_remove(q);

        rider = ngx_queue_data(q, ngx_http_tenant_guard_rider_t, queue);
        rider->cln->handler = NULL;
        rider->ctx->ask.older = older;
        r = rider->r;

        copy = NULL;

        if (reply == NULL) {
            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "tenant_guard: redis did not answer in time");

        } else {
            copy = ngx_palloc(r->pool, sizeof(ngx_http_tenant_guard_reply_t));

            if (copy != NULL
                && ngx_http_tenant_guard_store_reply_copy(r->pool, reply, copy)
                   != NGX_OK)
            {
                copy = NULL;
            }
        }

        ngx_http_tenant_guard_store_answer(r, rider->ctx, copy);
    }

    ngx_free(f);
}


static void
ngx_http_tenant_guard_store_unlist(ngx_http_tenant_guard_flight_t *f)
{
    if (f->listed) {
        ngx_rbtree_delete(&ngx_http_tenant_guard_flights, &f->sn.node);
        f->listed = 0;
    }
}


/* tg:events named the key ("*": every key): its flights are joined no more */

static void
ngx_http_tenant_guard_store_forget(ngx_str_t *key)
{
    ngx_rbtree_t       *tree;
    ngx_rbtree_node_t  *node;

    tree = &ngx_http_tenant_guard_flights;

    if (tree->root == NULL) {
        return;
    }

    if (key->len == 1 && key->data[0] == '*') {
        while (tree->root != tree->sentinel) {
            node = ngx_rbtree_min(tree->root, tree->sentinel);
            ngx_http_tenant_guard_store_unlist(
                                     (ngx_http_tenant_guard_flight_t *) node);
        }

        return;
    }

    for ( ;; ) {
        node = (ngx_rbtree_node_t *) ngx_str_rbtree_lookup(tree, key,
                                         ngx_crc32_short(key->data, key->len));
        if (node == NULL) {
            return;
        }

        ngx_http_tenant_guard_store_unlist(
                                     (ngx_http_tenant_guard_flight_t *) node);
    }
}


/* a request that waits is finalized (the client went away): it gets off */

static void
ngx_http_tenant_guard_store_leave(void *data)
{
    ngx_http_tenant_guard_rider_t *rider = data;

    ngx_queue_remove(&rider->queue);
}


/* a reply of a flight into a request's pool, as _redis.c copies one */

static ngx_int_t
ngx_http_tenant_guard_store_reply_copy(ngx_pool_t *pool,
    ngx_http_tenant_guard_reply_t *from, ngx_http_tenant_guard_reply_t *to)
{
    size_t  i;

    *to = *from;

    /* a string stays NUL-terminated, as _redis.c made it */

    if (from->str.data != NULL) {
        to->str.data = ngx_pnalloc(pool, from->str.len + 1);
        if (to->str.data == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(to->str.data, from->str.data, from->str.len);
        to->str.data[from->str.len] = '\0';
    }

    if (from->n == 0 || from->element == NULL) {
        to->element = NULL;
        return NGX_OK;
    }

    to->element = ngx_palloc(pool,
                             from->n * sizeof(ngx_http_tenant_guard_reply_t));
    if (to->element == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < from->n; i++) {
        if (ngx_http_tenant_guard_store_reply_copy(pool, &from->element[i],
                                                   &to->element[i])
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/*
 * A workspace's policy from Redis (tg:ws:{ws}), through the zone.
 * NGX_OK: *policy is Redis's; NGX_DECLINED: Redis has none, and the
 * file's applies; NGX_ABORT: Redis has an invalid one (logged when read),
 * never to be replaced by a weaker one; NGX_AGAIN: asked, the request
 * waits; NGX_BUSY: Redis cannot answer; NGX_ERROR: no memory.
 */

ngx_int_t
ngx_http_tenant_guard_store_policy(ngx_http_request_t *r,
    ngx_http_tenant_guard_ctx_t *ctx, ngx_str_t *ws,
    const tg_policy_t **policy)
{
    u_char                              *p;
    size_t                               n;
    ngx_int_t                            rc;
    ngx_http_tenant_guard_reply_t       *reply;
    ngx_http_tenant_guard_policy_rec_t   rec;
    ngx_http_tenant_guard_main_conf_t   *tmcf;

    tmcf = ngx_http_get_module_main_conf(r, ngx_http_tenant_guard_module);

    /* embedded: a policy the admin API wrote, on top of the file */

    if (tmcf->redis == NULL && ws->len && tmcf->zone != NULL) {
        *policy = ngx_http_tenant_guard_store_policy_embedded(r, ws);
        return (*policy != NULL) ? NGX_OK : NGX_DECLINED;
    }

    if (tmcf->redis == NULL || ws->len == 0 || tmcf->zone == NULL) {
        return NGX_DECLINED;
    }

    if (!ctx->ask.answered) {
        rc = ngx_http_tenant_guard_zone_copy(tmcf->zone,
                                             NGX_HTTP_TENANT_GUARD_KIND_POLICY,
                                             ws->data, ws->len, r->pool,
                                             &p, &n);
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
                    return NGX_DECLINED;
                }

                if (rec.invalid) {
                    return NGX_ABORT;
                }

                ((ngx_http_tenant_guard_policy_rec_t *) p)->policy.ip.items =
                                                            (tg_cidr_t *)
                                                            (p + sizeof(rec));
                *policy = &((ngx_http_tenant_guard_policy_rec_t *) p)->policy;
                return NGX_OK;
            }
        }
    }

    rc = ngx_http_tenant_guard_store_ask(r, ctx,
                                         NGX_HTTP_TENANT_GUARD_ASK_POLICY,
                                         "HGETALL", "ws:", ws->data, ws->len,
                                         &reply);
    if (rc != NGX_OK) {
        return rc;
    }

    return ngx_http_tenant_guard_store_policy_read(r, ws, reply,
                                                   !ctx->ask.older, policy);
}


static ngx_int_t
ngx_http_tenant_guard_store_policy_read(ngx_http_request_t *r, ngx_str_t *ws,
    ngx_http_tenant_guard_reply_t *reply, ngx_uint_t keep,
    const tg_policy_t **policy)
{
    size_t                          i;
    tg_policy_t                     parsed;
    ngx_http_tenant_guard_reply_t  *name, *value;
    char                            err[256];

    if (reply == NULL || reply->type != NGX_HTTP_TENANT_GUARD_REPLY_ARRAY) {
        return NGX_BUSY;
    }

    if (reply->n == 0) {
        ngx_http_tenant_guard_store_policy_keep(r, ws, NULL, 0, keep, NULL);
        return NGX_DECLINED;
    }

    ngx_memzero(&parsed, sizeof(tg_policy_t));

    for (i = 0; i + 1 < reply->n; i += 2) {
        name = &reply->element[i];
        value = &reply->element[i + 1];

        /* the IAM keeps more than the edge enforces */

        if (name->type == NGX_HTTP_TENANT_GUARD_REPLY_STRING
            && !tg_policy_part_known((char *) name->str.data, name->str.len))
        {
            continue;
        }

        if (name->type != NGX_HTTP_TENANT_GUARD_REPLY_STRING
            || value->type != NGX_HTTP_TENANT_GUARD_REPLY_STRING
            || tg_policy_parse_part(&parsed, (char *) name->str.data,
                                    value->str.data, value->str.len,
                                    err, sizeof(err))
               != 0)
        {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "tenant_guard: invalid policy in Redis for "
                          "workspace \"%V\", field \"%V\": %s; its "
                          "requests are refused", ws, &name->str,
                          value->type == NGX_HTTP_TENANT_GUARD_REPLY_STRING
                          ? err : "not a string");

            tg_policy_free(&parsed);

            /* remembered, so that a flood does not become one of HGETALLs */

            ngx_http_tenant_guard_store_policy_keep(r, ws, NULL, 1, keep,
                                                    NULL);
            return NGX_ABORT;
        }
    }

    ngx_http_tenant_guard_store_policy_keep(r, ws, &parsed, 0, keep, policy);
    tg_policy_free(&parsed);

    return (*policy != NULL) ? NGX_OK : NGX_ERROR;
}


/*
 * Stores the policy in the zone (unless keep is 0: an answer that may be
 * older than a tg:events message) and the pool; NULL: Redis has none, or
 * an invalid one.
 */

static void
ngx_http_tenant_guard_store_policy_keep(ngx_http_request_t *r,
    ngx_str_t *ws, tg_policy_t *policy, ngx_uint_t invalid,
    ngx_uint_t keep, const tg_policy_t **kept)
{
    u_char                              *p;
    size_t                               n, nip;
    ngx_http_tenant_guard_policy_rec_t   rec;
    ngx_http_tenant_guard_main_conf_t   *tmcf;

    tmcf = ngx_http_get_module_main_conf(r, ngx_http_tenant_guard_module);

    nip = policy ? policy->ip.n : 0;
    n = sizeof(rec) + nip * sizeof(tg_cidr_t);

    if (kept != NULL) {
        *kept = NULL;
    }

    p = ngx_pnalloc(r->pool, n);
    if (p == NULL) {
        return;
    }

    ngx_memzero(&rec, sizeof(rec));

    rec.stored = ngx_time();
    rec.from_file = (policy == NULL && !invalid);
    rec.invalid = (uint16_t) invalid;
    rec.nip = (uint32_t) nip;

    if (policy) {
        rec.policy = *policy;
    }

    rec.policy.ip.items = NULL;

    ngx_memcpy(p, &rec, sizeof(rec));

    if (nip) {
        ngx_memcpy(p + sizeof(rec), policy->ip.items, nip * sizeof(tg_cidr_t));
    }

    if (keep) {
        (void) ngx_http_tenant_guard_zone_put(tmcf->zone,
                                          NGX_HTTP_TENANT_GUARD_KIND_POLICY,
                                          ws->data, ws->len, p, n, 0);
    }

    if (kept != NULL) {
        ((ngx_http_tenant_guard_policy_rec_t *) p)->policy.ip.items =
                                            (tg_cidr_t *) (p + sizeof(rec));
        *kept = &((ngx_http_tenant_guard_policy_rec_t *) p)->policy;
    }
}


/*
 * An opaque token's record, tg:token:{sha256 hex}.  NGX_OK: *record is
 * it; NGX_DECLINED: no such token (or no Redis); NGX_AGAIN: asked;
 * NGX_BUSY: Redis cannot answer; NGX_ERROR: no memory.
 */

ngx_int_t
ngx_http_tenant_guard_store_token(ngx_http_request_t *r,
    ngx_http_tenant_guard_ctx_t *ctx, ngx_str_t *record)
{
    ngx_int_t                           rc;
    ngx_http_tenant_guard_reply_t      *reply;
    ngx_http_tenant_guard_main_conf_t  *tmcf;

    tmcf = ngx_http_get_module_main_conf(r, ngx_http_tenant_guard_module);

    if (tmcf->redis == NULL) {
        return NGX_DECLINED;
    }

    rc = ngx_http_tenant_guard_store_ask(r, ctx,
                                         NGX_HTTP_TENANT_GUARD_ASK_TOKEN,
                                         "GET", "token:", NULL, 0, &reply);
    if (rc != NGX_OK) {
        return rc;
    }

    if (reply == NULL || reply->type == NGX_HTTP_TENANT_GUARD_REPLY_ERROR) {
        return NGX_BUSY;
    }

    if (reply->type != NGX_HTTP_TENANT_GUARD_REPLY_STRING) {
        return NGX_DECLINED;
    }

    *record = reply->str;

    return NGX_OK;
}


/*
 * Whether tg:revoked:{jti} is set.  NGX_OK: *revoked says (no Redis or no
 * jti: not revoked); NGX_AGAIN: asked; NGX_BUSY: Redis cannot answer.
 */

ngx_int_t
ngx_http_tenant_guard_store_revoked(ngx_http_request_t *r,
    ngx_http_tenant_guard_ctx_t *ctx, ngx_uint_t *revoked)
{
    ngx_int_t                           rc;
    ngx_http_tenant_guard_reply_t      *reply;
    ngx_http_tenant_guard_main_conf_t  *tmcf;

    tmcf = ngx_http_get_module_main_conf(r, ngx_http_tenant_guard_module);

    *revoked = 0;

    if (tmcf->redis == NULL || ctx->jti.len == 0) {
        return NGX_OK;
    }

    rc = ngx_http_tenant_guard_store_ask(r, ctx,
                                         NGX_HTTP_TENANT_GUARD_ASK_REVOKED,
                                         "EXISTS", "revoked:", ctx->jti.data,
                                         ctx->jti.len, &reply);
    if (rc != NGX_OK) {
        return rc;
    }

    if (reply == NULL || reply->type != NGX_HTTP_TENANT_GUARD_REPLY_INTEGER) {
        return NGX_BUSY;
    }

    *revoked = (reply->integer != 0);

    return NGX_OK;
}


/* the last use, tg:seen:{sha256 hex}, for the other hosts: nobody waits */

void
ngx_http_tenant_guard_store_seen_write(ngx_http_request_t *r,
    ngx_http_tenant_guard_ctx_t *ctx, time_t max_idle)
{
    ngx_str_t    key;
    const char  *argv[5];
    size_t       len[5];
    u_char       hex[64], now[NGX_TIME_T_LEN], ttl[NGX_TIME_T_LEN];

    ngx_hex_dump(hex, ctx->key, 32);

    if (ngx_http_tenant_guard_store_key(r->pool, &key, "seen:", hex, 64)
        != NGX_OK)
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
 * When another host last saw the token.  NGX_OK: *seen, or -1 when Redis
 * knows of no use (or did not answer in time); NGX_AGAIN: asked;
 * NGX_BUSY: the link is down, Redis cannot say; NGX_ERROR.
 */

ngx_int_t
ngx_http_tenant_guard_store_seen_read(ngx_http_request_t *r,
    ngx_http_tenant_guard_ctx_t *ctx, time_t *seen)
{
    ngx_int_t                       rc;
    ngx_http_tenant_guard_reply_t  *reply;

    rc = ngx_http_tenant_guard_store_ask(r, ctx,
                                         NGX_HTTP_TENANT_GUARD_ASK_SEEN,
                                         "GET", "seen:", NULL, 0, &reply);
    if (rc != NGX_OK) {
        return rc;
    }

    *seen = (reply != NULL
             && reply->type == NGX_HTTP_TENANT_GUARD_REPLY_STRING)
            ? ngx_atotm(reply->str.data, reply->str.len) : NGX_ERROR;

    if (*seen == NGX_ERROR) {
        *seen = -1;
    }

    return NGX_OK;
}


static void
ngx_http_tenant_guard_store_publish(ngx_str_t *key)
{
    const char                         *argv[3];
    size_t                              len[3];
    ngx_http_tenant_guard_main_conf_t  *tmcf;

    tmcf = ngx_http_tenant_guard_store_main();

    argv[0] = "PUBLISH";
    len[0] = 7;
    argv[1] = (char *) tmcf->redis->channel.data;
    len[1] = tmcf->redis->channel.len;
    argv[2] = (char *) key->data;
    len[2] = key->len;

    (void) ngx_http_tenant_guard_redis_send(3, argv, len);
}


/*
 * "<prefix>ban:{id:HEX}" or "<prefix>fail:{ip:HEX}": the braces make a
 * hash tag, so that a ban and its counter share a Redis Cluster slot.
 */

static u_char *
ngx_http_tenant_guard_store_ban_key(u_char *p, const char *kind,
    ngx_uint_t ban, u_char *key, size_t len)
{
    ngx_http_tenant_guard_main_conf_t  *tmcf;

    tmcf = ngx_http_tenant_guard_store_main();

    p = ngx_cpymem(p, tmcf->redis->prefix.data, tmcf->redis->prefix.len);
    p = ngx_cpymem(p, kind, ngx_strlen(kind));
    p = ngx_cpymem(p, ban == NGX_HTTP_TENANT_GUARD_KIND_BAN_ID
                      ? "{id:" : "{ip:", 4);
    p = ngx_hex_dump(p, key, len);
    *p++ = '}';

    return p;
}


/*
 * Counts a failure of a ban key in Redis (tg:fail:{..:HEX}) for a window
 * of "longest" seconds; handler hears the count.  NGX_ERROR: the link is
 * down, handler is not called.
 */

ngx_int_t
ngx_http_tenant_guard_store_ban_count(ngx_uint_t kind, u_char *key,
    size_t len, long long longest, long long now,
    ngx_http_tenant_guard_counted_pt handler, void *data)
{
    const char                     *argv[6];
    size_t                          alen[6];
    u_char                          t[NGX_INT64_LEN], w[NGX_INT64_LEN];
    u_char                          name[NGX_HTTP_TENANT_GUARD_BAN_KEY_LEN];
    ngx_http_tenant_guard_count_t  *count;

    if (len > 32) {
        return NGX_ERROR;
    }

    count = ngx_alloc(sizeof(ngx_http_tenant_guard_count_t), ngx_cycle->log);
    if (count == NULL) {
        return NGX_ERROR;
    }

    count->handler = handler;
    count->data = data;

    argv[0] = "EVAL";
    alen[0] = 4;
    /* the window's arithmetic is tg_ban's, tested against the script */

    argv[1] = tg_ban_count_script;
    alen[1] = ngx_strlen(tg_ban_count_script);
    argv[2] = "1";
    alen[2] = 1;
    argv[3] = (char *) name;
    alen[3] = ngx_http_tenant_guard_store_ban_key(name, "fail:", kind, key,
                                                  len)
              - name;
    argv[4] = (char *) t;
    alen[4] = ngx_sprintf(t, "%L", now) - t;
    argv[5] = (char *) w;
    alen[5] = ngx_sprintf(w, "%L", longest) - w;

    if (ngx_http_tenant_guard_redis_background(
                                          ngx_http_tenant_guard_store_counted,
                                          count, 6, argv, alen)
        != NGX_OK)
    {
        ngx_free(count);
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_http_tenant_guard_store_counted(void *data,
    ngx_http_tenant_guard_reply_t *reply)
{
    ngx_http_tenant_guard_count_t *count = data;

    ngx_http_tenant_guard_counted_pt   handler;

    handler = count->handler;
    data = count->data;
    ngx_free(count);

    if (reply == NULL || reply->type != NGX_HTTP_TENANT_GUARD_REPLY_ARRAY
        || reply->n != 2
        || reply->element[0].type != NGX_HTTP_TENANT_GUARD_REPLY_INTEGER
        || reply->element[1].type != NGX_HTTP_TENANT_GUARD_REPLY_INTEGER)
    {
        handler(data, NGX_ERROR, 0, 0);
        return;
    }

    handler(data, NGX_OK, reply->element[0].integer,
            reply->element[1].integer);
}


/*
 * A ban the zone holds no record of, read from Redis (<prefix>ban:{..:HEX}),
 * the auth_request way (NGX_AGAIN: asked, the request waits).  NGX_OK with
 * *until, 0 for none; the zone is told either way, so that the next look
 * is the zone's: the ban until it ends, "none" for a few seconds.
 * NGX_BUSY: Redis cannot say; NGX_ERROR: no memory.
 */

ngx_int_t
ngx_http_tenant_guard_store_ban_get(ngx_http_request_t *r,
    ngx_http_tenant_guard_ctx_t *ctx, ngx_uint_t kind, u_char *key,
    size_t len, time_t *until)
{
    u_char                             *p;
    time_t                              now;
    ngx_int_t                           rc;
    tg_ban_state_t                      s;
    ngx_http_tenant_guard_reply_t      *reply;
    ngx_http_tenant_guard_main_conf_t  *tmcf;
    u_char                              id[4 + 64 + 1];

    tmcf = ngx_http_get_module_main_conf(r, ngx_http_tenant_guard_module);

    if (tmcf->redis == NULL || tmcf->zone == NULL || len > 32) {
        return NGX_DECLINED;
    }

    p = ngx_cpymem(id, kind == NGX_HTTP_TENANT_GUARD_KIND_BAN_ID
                       ? "{id:" : "{ip:", 4);
    p = ngx_hex_dump(p, key, len);
    *p++ = '}';

    rc = ngx_http_tenant_guard_store_ask(r, ctx,
                                         NGX_HTTP_TENANT_GUARD_ASK_BAN,
                                         "GET", "ban:", id, p - id, &reply);
    if (rc != NGX_OK) {
        return rc;
    }

    if (reply == NULL || (reply->type != NGX_HTTP_TENANT_GUARD_REPLY_STRING
                          && reply->type != NGX_HTTP_TENANT_GUARD_REPLY_NIL))
    {
        return NGX_BUSY;
    }

    now = ngx_time();

    *until = (reply->type == NGX_HTTP_TENANT_GUARD_REPLY_STRING)
             ? ngx_atotm(reply->str.data, reply->str.len) : 0;

    if (*until == NGX_ERROR || *until <= now) {
        *until = 0;
    }

    ngx_memzero(&s, sizeof(tg_ban_state_t));
    s.until = *until;

    /* a record made meanwhile (a count, a ban heard of) is newer: kept */

    (void) ngx_http_tenant_guard_zone_update(tmcf->zone, kind, key, len,
                                    sizeof(tg_ban_state_t),
                                    ngx_http_tenant_guard_store_ban_learnt,
                                    &s);

    return NGX_OK;
}


static ngx_int_t
ngx_http_tenant_guard_store_ban_learnt(u_char *value, void *data,
    time_t *expires)
{
    tg_ban_state_t *s = data;

    tg_ban_state_t  old;

    ngx_memcpy(&old, value, sizeof(tg_ban_state_t));

    if (old.window != 0 || old.count != 0 || old.until != 0) {
        return NGX_OK;
    }

    ngx_memcpy(value, s, sizeof(tg_ban_state_t));

    *expires = s->until ? (time_t) s->until
                        : ngx_time() + NGX_HTTP_TENANT_GUARD_NO_BAN_TTL;

    return NGX_OK;
}


/* a ban until "until": in Redis for the other hosts, and they hear of it */

void
ngx_http_tenant_guard_store_ban_set(ngx_uint_t kind, u_char *key, size_t len,
    long long until, long long now)
{
    ngx_str_t    ban;
    const char  *argv[5];
    size_t       alen[5];
    u_char       value[NGX_INT64_LEN], ttl[NGX_INT64_LEN];
    u_char       name[NGX_HTTP_TENANT_GUARD_BAN_KEY_LEN];

    if (len > 32) {
        return;
    }

    ban.data = name;
    ban.len = ngx_http_tenant_guard_store_ban_key(name, "ban:", kind, key,
                                                  len)
              - name;

    argv[0] = "SET";
    alen[0] = 3;
    argv[1] = (char *) ban.data;
    alen[1] = ban.len;
    argv[2] = (char *) value;
    alen[2] = ngx_sprintf(value, "%L", until) - value;
    argv[3] = "EX";
    alen[3] = 2;
    argv[4] = (char *) ttl;
    alen[4] = ngx_sprintf(ttl, "%L", until - now) - ttl;

    (void) ngx_http_tenant_guard_redis_send(5, argv, alen);

    ngx_http_tenant_guard_store_publish(&ban);
}


/* a lifted ban goes from Redis with its counter, and every host hears */

void
ngx_http_tenant_guard_store_ban_lift(ngx_uint_t kind, u_char *key,
    size_t len)
{
    ngx_str_t    ban;
    const char  *argv[2];
    size_t       alen[2];
    u_char       name[NGX_HTTP_TENANT_GUARD_BAN_KEY_LEN];

    if (len > 32) {
        return;
    }

    argv[0] = "DEL";
    alen[0] = 3;

    ban.data = name;
    ban.len = ngx_http_tenant_guard_store_ban_key(name, "ban:", kind, key,
                                                  len)
              - name;

    argv[1] = (char *) ban.data;
    alen[1] = ban.len;

    (void) ngx_http_tenant_guard_redis_send(2, argv, alen);

    argv[1] = (char *) name;
    alen[1] = ngx_http_tenant_guard_store_ban_key(name, "fail:", kind, key,
                                                  len)
              - name;

    (void) ngx_http_tenant_guard_redis_send(2, argv, alen);

    /* the ban's name again: the buffer held the counter's */

    ban.len = ngx_http_tenant_guard_store_ban_key(name, "ban:", kind, key,
                                                  len)
              - name;

    ngx_http_tenant_guard_store_publish(&ban);
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
    size_t                              n;
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

    if (ngx_http_tenant_guard_store_unhex(hex, n, fetch->key) != NGX_OK) {
        ngx_free(fetch);
        return;
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


/* len hex digits into len / 2 bytes; NGX_ERROR on any other character */

static ngx_int_t
ngx_http_tenant_guard_store_unhex(u_char *hex, size_t len, u_char *bytes)
{
    size_t     i;
    ngx_int_t  b;

    for (i = 0; i < len / 2; i++) {
        b = ngx_hextoi(hex + 2 * i, 2);

        if (b == NGX_ERROR) {
            return NGX_ERROR;
        }

        bytes[i] = (u_char) b;
    }

    return NGX_OK;
}


/*
 * The admin API's writes in Redis: the key, then its name on tg:events so
 * that every host drops what it had.  NGX_BUSY: the link is down, nothing
 * was written.
 */

static ngx_int_t
ngx_http_tenant_guard_store_write(int argc, const char **argv, size_t *alen,
    ngx_str_t *key)
{
    if (ngx_http_tenant_guard_redis_send(argc, argv, alen) != NGX_OK) {
        return NGX_BUSY;
    }

    ngx_http_tenant_guard_store_publish(key);

    return NGX_OK;
}


/* tg:revoked:{jti}, tg:revoked-sub:{ws}:{sub} or tg:revoked-ws:{ws} */

ngx_int_t
ngx_http_tenant_guard_store_revoke(ngx_uint_t kind, u_char *name, size_t len,
    time_t value, time_t ttl)
{
    u_char                             *p;
    ngx_str_t                           key;
    const char                         *argv[5], *what;
    size_t                              alen[5];
    u_char                              v[NGX_TIME_T_LEN], t[NGX_TIME_T_LEN];
    ngx_http_tenant_guard_main_conf_t  *tmcf;

    tmcf = ngx_http_tenant_guard_store_main();

    if (tmcf->redis == NULL) {
        return NGX_DECLINED;
    }

    what = (kind == NGX_HTTP_TENANT_GUARD_KIND_REVOKED_SUB) ? "revoked-sub:"
           : (kind == NGX_HTTP_TENANT_GUARD_KIND_REVOKED_WS) ? "revoked-ws:"
           : "revoked:";

    key.len = tmcf->redis->prefix.len + ngx_strlen(what) + len;
    key.data = ngx_alloc(key.len, ngx_cycle->log);
    if (key.data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(key.data, tmcf->redis->prefix.data,
                   tmcf->redis->prefix.len);
    p = ngx_cpymem(p, what, ngx_strlen(what));
    ngx_memcpy(p, name, len);

    argv[0] = "SET";
    alen[0] = 3;
    argv[1] = (char *) key.data;
    alen[1] = key.len;
    argv[2] = (char *) v;
    alen[2] = ngx_sprintf(v, "%T", value) - v;
    argv[3] = "EX";
    alen[3] = 2;
    argv[4] = (char *) t;
    alen[4] = ngx_sprintf(t, "%T", ttl) - t;

    if (ngx_http_tenant_guard_store_write(5, argv, alen, &key) != NGX_OK) {
        ngx_free(key.data);
        return NGX_BUSY;
    }

    ngx_free(key.data);

    return NGX_OK;
}


/* an opaque token's record goes: tg:token:{sha256 hex} */

ngx_int_t
ngx_http_tenant_guard_store_token_forget(u_char *digest)
{
    u_char                             *p;
    ngx_str_t                           key;
    const char                         *argv[2];
    size_t                              alen[2];
    u_char                              name[NGX_HTTP_TENANT_GUARD_MAX_PREFIX
                                             + sizeof("token:") + 64];
    ngx_http_tenant_guard_main_conf_t  *tmcf;

    tmcf = ngx_http_tenant_guard_store_main();

    if (tmcf->redis == NULL) {
        return NGX_DECLINED;
    }

    p = ngx_cpymem(name, tmcf->redis->prefix.data, tmcf->redis->prefix.len);
    p = ngx_cpymem(p, "token:", 6);
    p = ngx_hex_dump(p, digest, 32);

    key.data = name;
    key.len = p - name;

    argv[0] = "DEL";
    alen[0] = 3;
    argv[1] = (char *) key.data;
    alen[1] = key.len;

    return ngx_http_tenant_guard_store_write(2, argv, alen, &key);
}


/* one part of tg:ws:{ws}: HSET, or HDEL when json is NULL */

ngx_int_t
ngx_http_tenant_guard_store_policy_part(ngx_str_t *ws, const char *field,
    ngx_str_t *json)
{
    u_char                             *p;
    ngx_int_t                           rc;
    ngx_str_t                           key;
    const char                         *argv[4];
    size_t                              alen[4];
    ngx_http_tenant_guard_main_conf_t  *tmcf;

    tmcf = ngx_http_tenant_guard_store_main();

    key.len = tmcf->redis->prefix.len + 3 + ws->len;
    key.data = ngx_alloc(key.len, ngx_cycle->log);
    if (key.data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(key.data, tmcf->redis->prefix.data,
                   tmcf->redis->prefix.len);
    p = ngx_cpymem(p, "ws:", 3);
    ngx_memcpy(p, ws->data, ws->len);

    argv[0] = json ? "HSET" : "HDEL";
    alen[0] = 4;
    argv[1] = (char *) key.data;
    alen[1] = key.len;
    argv[2] = field;
    alen[2] = ngx_strlen(field);

    if (json) {
        argv[3] = (char *) json->data;
        alen[3] = json->len;
    }

    rc = ngx_http_tenant_guard_store_write(json ? 4 : 3, argv, alen, &key);

    ngx_free(key.data);

    return rc;
}


/* HGET of one part, for the admin API: handler hears the reply */

ngx_int_t
ngx_http_tenant_guard_store_policy_part_get(ngx_http_request_t *r,
    ngx_str_t *ws, const char *field, ngx_http_tenant_guard_redis_pt handler,
    void *data)
{
    ngx_str_t    key;
    const char  *argv[3];
    size_t       alen[3];

    if (ngx_http_tenant_guard_store_key(r->pool, &key, "ws:", ws->data,
                                        ws->len)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    argv[0] = "HGET";
    alen[0] = 4;
    argv[1] = (char *) key.data;
    alen[1] = key.len;
    argv[2] = field;
    alen[2] = ngx_strlen(field);

    if (ngx_http_tenant_guard_redis_call(r, handler, data, 3, argv, alen)
        != NGX_OK)
    {
        return NGX_BUSY;
    }

    return NGX_OK;
}


/* embedded mode: a policy the admin API wrote, kept as state in the zone */

ngx_int_t
ngx_http_tenant_guard_store_policy_admin(ngx_pool_t *pool,
    ngx_http_tenant_guard_zone_t *zone, ngx_str_t *ws,
    const tg_policy_t *policy)
{
    u_char                              *p;
    size_t                               n;
    ngx_http_tenant_guard_policy_rec_t   rec;

    n = sizeof(rec) + policy->ip.n * sizeof(tg_cidr_t);

    p = ngx_pnalloc(pool, n);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(&rec, sizeof(rec));

    rec.stored = ngx_time();
    rec.nip = (uint32_t) policy->ip.n;
    rec.policy = *policy;
    rec.policy.ip.items = NULL;

    ngx_memcpy(p, &rec, sizeof(rec));

    if (policy->ip.n) {
        ngx_memcpy(p + sizeof(rec), policy->ip.items,
                   policy->ip.n * sizeof(tg_cidr_t));
    }

    return ngx_http_tenant_guard_zone_put(zone,
                                      NGX_HTTP_TENANT_GUARD_KIND_ADMIN_POLICY,
                                      ws->data, ws->len, p, n, 0);
}


const tg_policy_t *
ngx_http_tenant_guard_store_policy_embedded(ngx_http_request_t *r,
    ngx_str_t *ws)
{
    u_char                              *p;
    size_t                               n;
    ngx_http_tenant_guard_policy_rec_t   rec;
    ngx_http_tenant_guard_main_conf_t   *tmcf;

    tmcf = ngx_http_get_module_main_conf(r, ngx_http_tenant_guard_module);

    if (tmcf->zone == NULL
        || ngx_http_tenant_guard_zone_copy(tmcf->zone,
                                      NGX_HTTP_TENANT_GUARD_KIND_ADMIN_POLICY,
                                      ws->data, ws->len, r->pool, &p, &n)
           != NGX_OK
        || n < sizeof(rec))
    {
        return NULL;
    }

    ngx_memcpy(&rec, p, sizeof(rec));

    if (n != sizeof(rec) + rec.nip * sizeof(tg_cidr_t)) {
        return NULL;
    }

    ((ngx_http_tenant_guard_policy_rec_t *) p)->policy.ip.items =
                                            (tg_cidr_t *) (p + sizeof(rec));

    return &((ngx_http_tenant_guard_policy_rec_t *) p)->policy;
}


/*
 * When a subject ("ws:sub") or a workspace was signed out: the zone's
 * entry (a revocation, or a remembered "none" while fresh), else Redis,
 * asked once and remembered, "none" included.  NGX_OK: *at (0: none);
 * NGX_AGAIN: asked; NGX_BUSY: Redis cannot answer; NGX_ERROR.
 */

ngx_int_t
ngx_http_tenant_guard_store_revoked_at(ngx_http_request_t *r,
    ngx_http_tenant_guard_ctx_t *ctx, ngx_uint_t kind, u_char *name,
    size_t len, time_t *at)
{
    size_t                              n;
    ngx_int_t                           rc;
    ngx_uint_t                          what;
    ngx_http_tenant_guard_reply_t      *reply;
    ngx_http_tenant_guard_revoked_t     rv;
    ngx_http_tenant_guard_main_conf_t  *tmcf;

    tmcf = ngx_http_get_module_main_conf(r, ngx_http_tenant_guard_module);

    *at = 0;

    if (tmcf->zone == NULL || len == 0) {
        return NGX_OK;
    }

    what = (kind == NGX_HTTP_TENANT_GUARD_KIND_REVOKED_SUB)
           ? NGX_HTTP_TENANT_GUARD_ASK_REVOKED_SUB
           : NGX_HTTP_TENANT_GUARD_ASK_REVOKED_WS;

    if (!(ctx->ask.answered && ctx->ask.what == what)) {
        if (ngx_http_tenant_guard_zone_get_either(tmcf->zone, kind,
                               kind + NGX_HTTP_TENANT_GUARD_KIND_REVOKED_NONE,
                               name, len, (u_char *) &rv, sizeof(rv), &n)
            == NGX_OK
            && n == sizeof(rv)
            && rv.at >= 0
            && (rv.at != 0 || tmcf->redis == NULL
                || ngx_http_tenant_guard_store_fresh(r, (time_t) rv.stored)
                || !ngx_http_tenant_guard_redis_up()))
        {
            *at = (time_t) rv.at;
            return NGX_OK;
        }

        if (tmcf->redis == NULL) {
            return NGX_OK;
        }
    }

    rc = ngx_http_tenant_guard_store_ask(r, ctx, what, "GET",
                           (kind == NGX_HTTP_TENANT_GUARD_KIND_REVOKED_SUB)
                           ? "revoked-sub:" : "revoked-ws:",
                           name, len, &reply);
    if (rc != NGX_OK) {
        return rc;
    }

    if (reply == NULL) {
        return NGX_BUSY;
    }

    if (reply->type == NGX_HTTP_TENANT_GUARD_REPLY_STRING) {
        *at = ngx_atotm(reply->str.data, reply->str.len);

        /* a value that is no NumericDate signs out every token so far */

        if (*at == NGX_ERROR || *at == 0) {
            *at = ngx_time();
        }

    } else if (reply->type != NGX_HTTP_TENANT_GUARD_REPLY_NIL) {
        return NGX_BUSY;
    }

    /* a "none" is not remembered while tg:events holds the key */

    if (*at == 0
        && ngx_http_tenant_guard_zone_get(tmcf->zone,
                               kind + NGX_HTTP_TENANT_GUARD_KIND_REVOKED_NONE,
                               name, len, (u_char *) &rv, sizeof(rv), &n)
           == NGX_OK
        && n == sizeof(rv) && rv.at == -1 && rv.stored > ngx_time())
    {
        return NGX_OK;
    }

    rv.at = *at;
    rv.stored = ngx_time();

    /* a revocation is state; a "none", cache that may give way */

    if (rv.at) {
        (void) ngx_http_tenant_guard_zone_put(tmcf->zone, kind, name, len,
                                    (u_char *) &rv, sizeof(rv),
                                    (time_t) rv.at
                                    + NGX_HTTP_TENANT_GUARD_REVOKE_TTL);

    } else {
        (void) ngx_http_tenant_guard_zone_put(tmcf->zone,
                               kind + NGX_HTTP_TENANT_GUARD_KIND_REVOKED_NONE,
                               name, len, (u_char *) &rv, sizeof(rv),
                               ngx_time()
                               + NGX_HTTP_TENANT_GUARD_REVOKE_MISS_TTL);
    }

    return NGX_OK;
}


/*
 * A PING after the admin API's writes, on the same link: its answer comes
 * once Redis has run every write sent before it.  NGX_OK: asked, handler
 * hears it; NGX_BUSY: the link is down.
 */

ngx_int_t
ngx_http_tenant_guard_store_confirm(ngx_http_request_t *r,
    ngx_http_tenant_guard_redis_pt handler, void *data)
{
    const char  *argv[1];
    size_t       alen[1];

    argv[0] = "PING";
    alen[0] = 4;

    if (ngx_http_tenant_guard_redis_call(r, handler, data, 1, argv, alen)
        != NGX_OK)
    {
        return NGX_BUSY;
    }

    return NGX_OK;
}


/*
 * A signed-out subject or workspace changed: what the zone had goes, and
 * until "hold" a "none" is not remembered, since Redis may have given it
 * before the change, to a request still on its way.
 */

static void
ngx_http_tenant_guard_store_revoked_event(ngx_http_tenant_guard_zone_t *zone,
    ngx_uint_t kind, u_char *name, size_t len, time_t hold)
{
    ngx_http_tenant_guard_revoked_t  rv;

    rv.at = -1;
    rv.stored = hold;

    ngx_http_tenant_guard_zone_remove(zone, kind, name, len);

    (void) ngx_http_tenant_guard_zone_put(zone,
                               kind + NGX_HTTP_TENANT_GUARD_KIND_REVOKED_NONE,
                               name, len, (u_char *) &rv, sizeof(rv), hold);
}


/*
 * The warm path: what the zone says of a token's workspace (names[0]) and
 * subject (names[1]) being signed out, in one look.  known[i]: at[i] may
 * be trusted (0: none); else the question goes to revoked_at().
 */

void
ngx_http_tenant_guard_store_signed_out(ngx_http_request_t *r,
    ngx_str_t *names, time_t *at, ngx_uint_t *known)
{
    time_t                              since;
    ngx_uint_t                          i, found[2];
    ngx_http_tenant_guard_revoked_t     rv[2];
    ngx_http_tenant_guard_main_conf_t  *tmcf;

    tmcf = ngx_http_get_module_main_conf(r, ngx_http_tenant_guard_module);

    /* embedded, and no one was ever signed out: nothing to look for */

    if (tmcf->redis == NULL
        && !ngx_http_tenant_guard_zone_any_signed_out(tmcf->zone))
    {
        at[0] = 0;
        at[1] = 0;
        known[0] = 1;
        known[1] = 1;
        return;
    }

    ngx_http_tenant_guard_zone_signed_out(tmcf->zone, names, rv, found,
                                          &since);

    for (i = 0; i < 2; i++) {
        at[i] = 0;
        known[i] = 0;

        if (!found[i]) {

            /* embedded: the zone is all there is */

            known[i] = (tmcf->redis == NULL);
            continue;
        }

        if (rv[i].at > 0) {
            at[i] = (time_t) rv[i].at;
            known[i] = 1;
            continue;
        }

        /* a "none": while fresh, or while Redis cannot be asked */

        if (rv[i].at == 0
            && (tmcf->redis == NULL
                || (since != -1 && (time_t) rv[i].stored >= since)
                || (time_t) rv[i].stored == ngx_time()
                || !ngx_http_tenant_guard_redis_up()))
        {
            known[i] = 1;
        }
    }
}
