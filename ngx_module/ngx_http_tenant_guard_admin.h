
/*
 * Copyright (C) tenant_guard authors
 */


#ifndef _NGX_HTTP_TENANT_GUARD_ADMIN_H_INCLUDED_
#define _NGX_HTTP_TENANT_GUARD_ADMIN_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_tenant_guard_module.h"


/* zone kinds of the admin API's state (a ban's kind numbers go first) */
#define NGX_HTTP_TENANT_GUARD_KIND_REVOKED_JTI   8   /* embedded mode */
#define NGX_HTTP_TENANT_GUARD_KIND_REVOKED_SUB   9   /* "ws:sub" */
#define NGX_HTTP_TENANT_GUARD_KIND_REVOKED_WS    10  /* "ws" */
#define NGX_HTTP_TENANT_GUARD_KIND_ADMIN_POLICY  11  /* embedded mode */

/* Redis said "none": cache, not state (a revocation's kind + this) */
#define NGX_HTTP_TENANT_GUARD_KIND_REVOKED_NONE  3

/* a failed identifier's text beside its hash, for the bans listing */
#define NGX_HTTP_TENANT_GUARD_KIND_BAN_NAME      15
#define NGX_HTTP_TENANT_GUARD_BAN_NAME_TTL       (2 * 86400)

/* the questions the revocation step may put to Redis */
#define NGX_HTTP_TENANT_GUARD_ASK_REVOKED_SUB    16
#define NGX_HTTP_TENANT_GUARD_ASK_REVOKED_WS     17

/* how long a revocation is kept: longer than any token lives */
#define NGX_HTTP_TENANT_GUARD_REVOKE_TTL         (30 * 86400)

/* a cached "not revoked" from Redis, while tg:events is down */
#define NGX_HTTP_TENANT_GUARD_REVOKE_MISS_TTL    60


/* a subject's or workspace's revocation as the zone keeps it */
typedef struct {
    int64_t                       at;         /* 0: none (cached miss) */
    int64_t                       stored;
} ngx_http_tenant_guard_revoked_t;


/* _store.c, the admin API's writes and the revocation step's reads */
ngx_int_t ngx_http_tenant_guard_store_revoke(ngx_uint_t kind, u_char *name,
    size_t len, time_t value, time_t ttl);
ngx_int_t ngx_http_tenant_guard_store_token_forget(u_char *digest);
ngx_int_t ngx_http_tenant_guard_store_policy_part(ngx_str_t *ws,
    const char *field, ngx_str_t *json);
ngx_int_t ngx_http_tenant_guard_store_policy_part_get(ngx_http_request_t *r,
    ngx_str_t *ws, const char *field, ngx_http_tenant_guard_redis_pt handler,
    void *data);
ngx_int_t ngx_http_tenant_guard_store_policy_admin(ngx_pool_t *pool,
    ngx_http_tenant_guard_zone_t *zone, ngx_str_t *ws,
    const tg_policy_t *policy);
const tg_policy_t *ngx_http_tenant_guard_store_policy_embedded(
    ngx_http_request_t *r, ngx_str_t *ws);
ngx_int_t ngx_http_tenant_guard_store_confirm(ngx_http_request_t *r,
    ngx_http_tenant_guard_redis_pt handler, void *data);
void ngx_http_tenant_guard_store_signed_out(ngx_http_request_t *r,
    ngx_str_t *names, time_t *at, ngx_uint_t *known);
ngx_int_t ngx_http_tenant_guard_store_revoked_at(ngx_http_request_t *r,
    ngx_http_tenant_guard_ctx_t *ctx, ngx_uint_t kind, u_char *name,
    size_t len, time_t *at);

/* _zone.c */
ngx_int_t ngx_http_tenant_guard_zone_get_either(
    ngx_http_tenant_guard_zone_t *zone, ngx_uint_t kind, ngx_uint_t alt,
    u_char *key, size_t len, u_char *buf, size_t size, size_t *n);
void ngx_http_tenant_guard_zone_signed_out(ngx_http_tenant_guard_zone_t *zone,
    ngx_str_t *names, ngx_http_tenant_guard_revoked_t *rv, ngx_uint_t *found,
    time_t *events_since);
ngx_array_t *ngx_http_tenant_guard_zone_bans(
    ngx_http_tenant_guard_zone_t *zone, ngx_pool_t *pool);

/* a live ban, as the zone listing copies it */
typedef struct {
    ngx_uint_t                    kind;
    size_t                        len;
    u_char                        key[32];
    tg_ban_state_t                state;
} ngx_http_tenant_guard_ban_entry_t;

/* _admin.c: "identifier hash: HEX" or "address: IP" */
#define NGX_HTTP_TENANT_GUARD_BAN_NAME_LEN   (sizeof("identifier hash: ") + 64)

u_char *ngx_http_tenant_guard_admin_ban_name(u_char *p, ngx_uint_t kind,
    u_char *key, size_t len);
void ngx_http_tenant_guard_admin_ban_note(ngx_http_tenant_guard_zone_t *zone,
    ngx_str_t *ws, ngx_str_t *id, u_char *key);

/* _ban.c */
void ngx_http_tenant_guard_ban_ipv6_mask(u_char *addr, ngx_uint_t bits);
void ngx_http_tenant_guard_ban_key_of(ngx_str_t *ws, ngx_str_t *id,
    u_char *key);


#endif /* _NGX_HTTP_TENANT_GUARD_ADMIN_H_INCLUDED_ */
