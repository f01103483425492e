
/*
 * Copyright (C) tenant_guard authors
 */


#ifndef _NGX_HTTP_TENANT_GUARD_MODULE_H_INCLUDED_
#define _NGX_HTTP_TENANT_GUARD_MODULE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "tg_ban.h"
#include "tg_bindpath.h"
#include "tg_cidr.h"
#include "tg_claimrule.h"
#include "tg_ident.h"
#include "tg_jwks.h"
#include "tg_jwt.h"
#include "tg_policy.h"
#include "tg_request.h"
#include "tg_result.h"
#include "ngx_http_tenant_guard_redis.h"


#define NGX_HTTP_TENANT_GUARD_VERSION        "0.2.0"
#define NGX_HTTP_TENANT_GUARD_VER            "tenant_guard/"                  \
                                             NGX_HTTP_TENANT_GUARD_VERSION

/* the ids a token carries; each has a claim name and an upstream header */
#define NGX_HTTP_TENANT_GUARD_WORKSPACE      0
#define NGX_HTTP_TENANT_GUARD_ORGANIZATION   1
#define NGX_HTTP_TENANT_GUARD_INTEGRATION    2
#define NGX_HTTP_TENANT_GUARD_SUBJECT        3
#define NGX_HTTP_TENANT_GUARD_NIDS           4

/* upstream headers: the four ids, then these */
#define NGX_HTTP_TENANT_GUARD_SCOPES         4
#define NGX_HTTP_TENANT_GUARD_MFA            5
#define NGX_HTTP_TENANT_GUARD_NHEADERS       6

/* tenant_guard_bind to a claim of any name */
#define NGX_HTTP_TENANT_GUARD_BIND_CLAIM     NGX_HTTP_TENANT_GUARD_NIDS

#define NGX_HTTP_TENANT_GUARD_MAX_CLAIM      1024
#define NGX_HTTP_TENANT_GUARD_MAX_ID         256     /* a login identifier */
#define NGX_HTTP_TENANT_GUARD_MAX_JTI        256
#define NGX_HTTP_TENANT_GUARD_TOKEN_ID_LEN   16

/* the kinds of zone entries */
#define NGX_HTTP_TENANT_GUARD_KIND_TOKEN     1
#define NGX_HTTP_TENANT_GUARD_KIND_IDLE      2
#define NGX_HTTP_TENANT_GUARD_KIND_BAN_ID    3  /* workspace + identifier */
#define NGX_HTTP_TENANT_GUARD_KIND_BAN_IP    4  /* client address */
#define NGX_HTTP_TENANT_GUARD_KIND_POLICY    5  /* workspace, from Redis */
#define NGX_HTTP_TENANT_GUARD_KIND_JTI       6  /* jti -> token digests */
#define NGX_HTTP_TENANT_GUARD_KIND_JTI_HOLD  7  /* jti named by tg:events */
/* key sets fetched by tenant_guard_keys_url live apart: ..._jwks_t */

/* the token digests a jti's index entry names: both ECDSA S forms, more */
#define NGX_HTTP_TENANT_GUARD_JTI_TOKENS     4

/* how long an invalid token's refusal is remembered, in seconds */
#define NGX_HTTP_TENANT_GUARD_NEGATIVE_TTL   5

#define NGX_HTTP_TENANT_GUARD_FAILURE_CLOSED 0
#define NGX_HTTP_TENANT_GUARD_FAILURE_OPEN   1


#define ngx_http_tenant_guard_isalnum(c)                                     \
    (((c) >= '0' && (c) <= '9') || (((c) | 0x20) >= 'a' && ((c) | 0x20) <= 'z'))


typedef struct {
    ngx_str_t                     file;
    uint32_t                      crc;        /* of the file's content */
    tg_keyset_t                   set;
} ngx_http_tenant_guard_keys_t;


typedef struct ngx_http_tenant_guard_negative_s
    ngx_http_tenant_guard_negative_t;
typedef struct ngx_http_tenant_guard_jwks_s  ngx_http_tenant_guard_jwks_t;
typedef struct ngx_http_tenant_guard_keys_url_s
    ngx_http_tenant_guard_keys_url_t;
typedef struct ngx_http_tenant_guard_keys_stats_s
    ngx_http_tenant_guard_keys_stats_t;


typedef struct {
    ngx_rbtree_t                  rbtree;
    ngx_rbtree_node_t             sentinel;
    ngx_queue_t                   queue;
    ngx_uint_t                    entries;
    ngx_uint_t                    hits;
    ngx_uint_t                    misses;
    ngx_uint_t                    evictions;
    ngx_uint_t                    state_evictions; /* bans and counters */
    time_t                        state_logged; /* a ban or counter evicted */
    ngx_uint_t                    events_up;  /* the tg:events link */
    time_t                        events_since;
    ngx_atomic_t                  heard;      /* tg:events messages and link
                                                 changes, counted */
    ngx_uint_t                    signed_out; /* a tg:revoked-ws/-sub
                                                 entry was ever added */
    ngx_http_tenant_guard_negative_t *negatives;  /* a table of its own */
    ngx_uint_t                    nnegatives;
    ngx_http_tenant_guard_jwks_t *jwks;       /* fetched key sets, a list */
} ngx_http_tenant_guard_shctx_t;


typedef struct {
    ngx_http_tenant_guard_shctx_t *sh;
    ngx_slab_pool_t              *shpool;
    ngx_shm_zone_t               *shm_zone;
} ngx_http_tenant_guard_zone_t;


typedef struct {
    ngx_http_tenant_guard_zone_t *zone;
    tg_policy_set_t              *policies;
    ngx_str_t                     policy_file;
    tg_cidr_list_t                support;
    ngx_array_t                  *strip;      /* of ngx_str_t, lowercase */
    ngx_http_tenant_guard_redis_conf_t *redis;
    ngx_uint_t                    ban_ipv6_prefix;
    ngx_uint_t                    metrics_workspaces;
    ngx_shm_zone_t               *metrics;    /* _metrics.c */
    ngx_array_t                  *keys_urls;  /* of keys_url_t *: checked */
} ngx_http_tenant_guard_main_conf_t;


typedef struct {
    ngx_uint_t                    kind;
    ngx_str_t                     claim;      /* kind BIND_CLAIM: a C string */
    ngx_http_complex_value_t      value;
} ngx_http_tenant_guard_bind_t;


/* tenant_guard_bind_path: a template, and its claim names as C strings */
typedef struct {
    ngx_str_t                     text;
    tg_bindpath_t                 path;
    u_char                      **claims;     /* per segment, or NULL */
} ngx_http_tenant_guard_bind_path_t;


typedef struct {
    ngx_http_complex_value_t     *cv;         /* a variable source, or */
    ngx_str_t                     field;      /* body:FIELD */
} ngx_http_tenant_guard_source_t;


typedef struct {
    ngx_uint_t                    reset;      /* a password-reset endpoint */
    ngx_uint_t                    body;       /* a source reads the body */
    ngx_http_tenant_guard_source_t  identifier;
    ngx_http_tenant_guard_source_t  workspace;
    ngx_array_t                  *fail;       /* of ngx_uint_t statuses */
} ngx_http_tenant_guard_login_t;


/* tenant_guard_token: where the token is read (_source.c) */
typedef struct {
    ngx_uint_t                    type;       /* ..._SOURCE_* */
    ngx_str_t                     name;
} ngx_http_tenant_guard_token_source_t;


typedef struct {
    ngx_array_t                  *list;       /* of ..._token_source_t */
    ngx_str_t                     text;       /* for error_description */
} ngx_http_tenant_guard_sources_t;


/* tenant_guard_require_claim (_claims.c) */
typedef struct {
    ngx_str_t                     path;
    tg_claimrule_op_e             op;
    ngx_array_t                  *values;     /* of complex values */
    ngx_uint_t                    location;   /* set in a location */
} ngx_http_tenant_guard_claim_rule_t;


typedef struct {
    ngx_flag_t                    enable;
    ngx_http_tenant_guard_keys_t *keys;
    ngx_http_tenant_guard_keys_url_t *keys_url;
    ngx_uint_t                    algorithms;
    ngx_str_t                     issuer;
    ngx_array_t                  *audiences;  /* of tg_str_t */
    time_t                        leeway;
    size_t                        max_token_size;
    ngx_str_t                     claims[NGX_HTTP_TENANT_GUARD_NIDS];
    ngx_str_t                     headers[NGX_HTTP_TENANT_GUARD_NHEADERS];
    ngx_table_elt_t               header_elts[NGX_HTTP_TENANT_GUARD_NHEADERS];
                                              /* _headers.c: key, lowercase
                                                 and hash, made once */
    ngx_array_t                  *strip;      /* the main conf's */
    ngx_array_t                  *scopes;     /* of ngx_str_t */
    ngx_array_t                  *binds;      /* of ..._bind_t */
    ngx_array_t                  *bind_paths; /* of ..._bind_path_t */
    ngx_flag_t                    bind_path_here; /* in this location */
    ngx_array_t                  *mfa_amr;    /* of ngx_str_t */
    ngx_array_t                  *mfa_acr;    /* of ngx_str_t */
    tg_str_t                     *amr;        /* mfa_amr, for the engine */
    size_t                        namr;
    tg_str_t                     *acr;        /* mfa_acr, for the engine */
    size_t                        nacr;
    ngx_str_t                     realm;
    ngx_http_tenant_guard_login_t *login;
    ngx_uint_t                    redis_failure;
    ngx_flag_t                    opaque;
    tg_jwt_conf_t                 jwt;
    uint32_t                      fingerprint; /* of what a verdict needs */
    ngx_http_tenant_guard_sources_t *sources; /* NULL: bearer */
    ngx_array_t                  *claim_rules; /* of ..._claim_rule_t */
    size_t                        login_body_max;
    ngx_uint_t                    log_level;  /* of a refusal's line */
    void                         *admin;      /* _admin.c: tokens */
} ngx_http_tenant_guard_loc_conf_t;


/*
 * Where a request is in the access pipeline (_access.c): each step owns
 * one rule and the file named after it.
 */
typedef enum {
    NGX_HTTP_TENANT_GUARD_STEP_ADDRESS = 0,   /* _ban.c: a banned address */
    NGX_HTTP_TENANT_GUARD_STEP_LOGIN,         /* _login.c: body, identifier */
    NGX_HTTP_TENANT_GUARD_STEP_TOKEN,         /* _token.c: bearer, verify */
    NGX_HTTP_TENANT_GUARD_STEP_REVOKED,       /* _token.c: tg:revoked */
    NGX_HTTP_TENANT_GUARD_STEP_BAN,           /* _ban.c: a banned subject */
    NGX_HTTP_TENANT_GUARD_STEP_POLICY,        /* _policy.c: ip, mfa, age */
    NGX_HTTP_TENANT_GUARD_STEP_SCOPE,         /* _token.c */
    NGX_HTTP_TENANT_GUARD_STEP_CLAIMS,        /* _claims.c */
    NGX_HTTP_TENANT_GUARD_STEP_BIND,          /* _token.c */
    NGX_HTTP_TENANT_GUARD_STEP_IDLE,          /* _policy.c */
    NGX_HTTP_TENANT_GUARD_STEP_HEADERS,       /* _headers.c */
    NGX_HTTP_TENANT_GUARD_STEP_DONE
} ngx_http_tenant_guard_step_e;


/* where the token step found the token: what the revocation step does */
#define NGX_HTTP_TENANT_GUARD_FROM_NONE      0
#define NGX_HTTP_TENANT_GUARD_FROM_ZONE      1
#define NGX_HTTP_TENANT_GUARD_FROM_JWT       2
#define NGX_HTTP_TENANT_GUARD_FROM_RECORD    3

/* the questions a request may put to Redis (_store.c) */
#define NGX_HTTP_TENANT_GUARD_ASK_POLICY     1
#define NGX_HTTP_TENANT_GUARD_ASK_TOKEN      2
#define NGX_HTTP_TENANT_GUARD_ASK_REVOKED    3
#define NGX_HTTP_TENANT_GUARD_ASK_SEEN       4
#define NGX_HTTP_TENANT_GUARD_ASK_BAN        5

/* how long the zone remembers that Redis has no ban for a key, seconds */
#define NGX_HTTP_TENANT_GUARD_NO_BAN_TTL     5

/* the login body: not read, being read, read */
#define NGX_HTTP_TENANT_GUARD_BODY_NONE      0
#define NGX_HTTP_TENANT_GUARD_BODY_READING   1
#define NGX_HTTP_TENANT_GUARD_BODY_READ      2


/*
 * The one question a request has put to Redis: the reply callback only
 * records the answer here and resumes the phases; the step that asked
 * reads it when the access handler runs again.
 */
typedef struct {
    ngx_uint_t                    what;       /* ..._ASK_* */
    unsigned                      waiting:1;
    unsigned                      answered:1;
    unsigned                      older:1;    /* may predate a tg:events
                                                 message: used, not kept */
    ngx_http_tenant_guard_reply_t *reply;     /* NULL: no answer in time */
} ngx_http_tenant_guard_ask_t;


typedef struct {
    ngx_uint_t                    step;       /* ..._STEP_* */
    tg_result_e                   result;     /* the verdict */
    ngx_str_t                     detail;     /* why it was refused */
    time_t                        retry;      /* banned: seconds left */

    unsigned                      from:2;     /* ..._FROM_* */
    unsigned                      mfa:1;
    unsigned                      body:2;     /* ..._BODY_* */
    unsigned                      login_sources:1;
    unsigned                      has_ban_key:1;
    unsigned                      judged:1;   /* the token step has run */
    unsigned                      early:1;    /* judged for a variable */
    unsigned                      deferred:1; /* early, but needs a wait */
    unsigned                      verified:1; /* ... and passed */
    unsigned                      counted:1;  /* in the metrics */
    unsigned                      ws_checked:1;  /* tg:revoked-ws */
    unsigned                      sub_checked:1; /* tg:revoked-sub */
    unsigned                      jti_checked:1; /* tg:revoked, kept */
    unsigned                      keyed:1;    /* with keys_url's set */

    ngx_http_tenant_guard_ask_t   ask;

    tg_result_e                   token_result; /* the token step's */
    ngx_str_t                     token_detail;
    void                         *judged_by;  /* the loc conf it used */

    tg_claims_t                  *claims;     /* parsed only when needed */
    ngx_str_t                     payload;    /* the claims as JSON */
    ngx_str_t                     ids[NGX_HTTP_TENANT_GUARD_NIDS];
    ngx_str_t                     scopes;
    ngx_str_t                     token_id;
    ngx_str_t                     jti;
    const tg_policy_t            *policy;
    time_t                        exp;
    time_t                        iat;        /* -1: absent */
    ngx_http_tenant_guard_login_t *login;     /* an outcome to watch for */
    ngx_str_t                     login_ws;
    ngx_str_t                     login_id;
    ngx_str_t                     ban_id;     /* what ban_key hashes */
    u_char                        ban_key[32];
    u_char                        key[32];    /* the token's SHA-256 */

    uint32_t                      fingerprint; /* lcf's, and the key set's */
    const tg_keyset_t            *keyset;     /* the verifier's, for now */
    void                         *keys_wait;  /* _keys.c: waiting for one */
    /* a login (_login.c, _ban.c): its body, its workspace-free key, and
     * the attempt it counts until its response settles it */
    u_char                       *body_buf;
    size_t                        body_len;
    unsigned                      body_over:1;
    unsigned                      has_ban_key_any:1;
    u_char                        ban_key_any[32];
    void                         *attempt;
    ngx_uint_t                    ban_asked;  /* keys read from Redis */
    const tg_ban_settings_t      *login_ban;  /* the workspace's, Redis */
    unsigned                      login_ban_known:1;
} ngx_http_tenant_guard_ctx_t;


/* a step of the pipeline: NGX_OK with ctx->result set, NGX_AGAIN while
 * Redis is asked, NGX_DONE while the body is read, NGX_ERROR, or a status */
typedef ngx_int_t (*ngx_http_tenant_guard_step_pt)(ngx_http_request_t *r,
    ngx_http_tenant_guard_loc_conf_t *lcf, ngx_http_tenant_guard_ctx_t *ctx);


typedef ngx_int_t (*ngx_http_tenant_guard_zone_update_pt)(u_char *value,
    void *data, time_t *expires);

/* a failure counted in Redis: rc NGX_OK with the window's count and start,
 * or NGX_ERROR when Redis could not say; called once */
typedef void (*ngx_http_tenant_guard_counted_pt)(void *data, ngx_int_t rc,
    long long count, long long window);


/* _zone.c */
char *ngx_http_tenant_guard_zone(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_tenant_guard_zone_get(ngx_http_tenant_guard_zone_t *zone,
    ngx_uint_t kind, u_char *key, size_t len, u_char *buf, size_t size,
    size_t *n);
ngx_int_t ngx_http_tenant_guard_zone_copy(ngx_http_tenant_guard_zone_t *zone,
    ngx_uint_t kind, u_char *key, size_t len, ngx_pool_t *pool,
    u_char **value, size_t *n);
ngx_int_t ngx_http_tenant_guard_zone_put(ngx_http_tenant_guard_zone_t *zone,
    ngx_uint_t kind, u_char *key, size_t len, u_char *value, size_t n,
    time_t expires);
ngx_int_t ngx_http_tenant_guard_zone_update(
    ngx_http_tenant_guard_zone_t *zone, ngx_uint_t kind, u_char *key,
    size_t len, size_t size, ngx_http_tenant_guard_zone_update_pt handler,
    void *data);
void ngx_http_tenant_guard_zone_flush(ngx_http_tenant_guard_zone_t *zone,
    ngx_uint_t keep_bans);
void ngx_http_tenant_guard_zone_events(ngx_http_tenant_guard_zone_t *zone,
    ngx_uint_t up);
ngx_uint_t ngx_http_tenant_guard_zone_any_signed_out(
    ngx_http_tenant_guard_zone_t *zone);
ngx_uint_t ngx_http_tenant_guard_zone_events_since(
    ngx_http_tenant_guard_zone_t *zone, time_t stored);
void ngx_http_tenant_guard_zone_hear(ngx_http_tenant_guard_zone_t *zone);
ngx_atomic_uint_t ngx_http_tenant_guard_zone_heard(
    ngx_http_tenant_guard_zone_t *zone);
void ngx_http_tenant_guard_zone_remove(ngx_http_tenant_guard_zone_t *zone,
    ngx_uint_t kind, u_char *key, size_t len);
ngx_uint_t ngx_http_tenant_guard_zone_state_evictions(
    ngx_http_tenant_guard_zone_t *zone);
ngx_int_t ngx_http_tenant_guard_zone_put_token(
    ngx_http_tenant_guard_zone_t *zone, u_char *key, u_char *value, size_t n,
    time_t expires, u_char *jti, size_t jti_len);
void ngx_http_tenant_guard_zone_revoke(ngx_http_tenant_guard_zone_t *zone,
    u_char *jti, size_t len, time_t hold);
ngx_int_t ngx_http_tenant_guard_zone_negative_get(
    ngx_http_tenant_guard_zone_t *zone, u_char *key, uint32_t fingerprint,
    ngx_uint_t opaque, ngx_pool_t *pool, ngx_str_t *detail, time_t *stored);
void ngx_http_tenant_guard_zone_negative_put(
    ngx_http_tenant_guard_zone_t *zone, u_char *key, uint32_t fingerprint,
    ngx_uint_t opaque, ngx_str_t *detail, time_t expires);
void ngx_http_tenant_guard_zone_negative_hold(
    ngx_http_tenant_guard_zone_t *zone, u_char *key, time_t hold);

/* _zone.c: the key sets of tenant_guard_keys_url (_keys.c) */
ngx_http_tenant_guard_jwks_t *ngx_http_tenant_guard_zone_jwks(
    ngx_http_tenant_guard_zone_t *zone, ngx_str_t *uri);
ngx_int_t ngx_http_tenant_guard_zone_jwks_running(
    ngx_http_tenant_guard_zone_t *zone, ngx_http_tenant_guard_jwks_t *jwks,
    uint64_t *generation);
ngx_int_t ngx_http_tenant_guard_zone_jwks_claim(
    ngx_http_tenant_guard_zone_t *zone, ngx_http_tenant_guard_jwks_t *jwks,
    ngx_uint_t kid, time_t min_refetch, time_t lease, ngx_msec_t loaded,
    uint64_t *lease_id, uint64_t *generation);
ngx_int_t ngx_http_tenant_guard_zone_jwks_read(
    ngx_http_tenant_guard_zone_t *zone, ngx_http_tenant_guard_jwks_t *jwks,
    uint64_t known, uint64_t *generation, u_char **json, size_t *len);
ngx_int_t ngx_http_tenant_guard_zone_jwks_publish(
    ngx_http_tenant_guard_zone_t *zone, ngx_http_tenant_guard_jwks_t *jwks,
    uint64_t lease_id, u_char *json, size_t len, ngx_uint_t nkeys,
    time_t expires, uint64_t *generation,
    ngx_http_tenant_guard_keys_stats_t *stats);
ngx_uint_t ngx_http_tenant_guard_zone_jwks_failed(
    ngx_http_tenant_guard_zone_t *zone, ngx_http_tenant_guard_jwks_t *jwks,
    uint64_t lease_id, ngx_uint_t rejected, time_t retry,
    ngx_http_tenant_guard_keys_stats_t *stats);

/* _store.c: the only way to Redis, and the only file naming its keys */
char *ngx_http_tenant_guard_redis(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_tenant_guard_store_init_process(ngx_cycle_t *cycle);
void ngx_http_tenant_guard_store_exit_process(ngx_cycle_t *cycle);
ngx_uint_t ngx_http_tenant_guard_store_fresh(ngx_http_request_t *r,
    time_t stored);
ngx_int_t ngx_http_tenant_guard_store_suspend(ngx_http_request_t *r);
ngx_int_t ngx_http_tenant_guard_store_policy(ngx_http_request_t *r,
    ngx_http_tenant_guard_ctx_t *ctx, ngx_str_t *ws,
    const tg_policy_t **policy);
ngx_int_t ngx_http_tenant_guard_store_token(ngx_http_request_t *r,
    ngx_http_tenant_guard_ctx_t *ctx, ngx_str_t *record);
ngx_int_t ngx_http_tenant_guard_store_revoked(ngx_http_request_t *r,
    ngx_http_tenant_guard_ctx_t *ctx, ngx_uint_t *revoked);
void ngx_http_tenant_guard_store_seen_write(ngx_http_request_t *r,
    ngx_http_tenant_guard_ctx_t *ctx, time_t max_idle);
ngx_int_t ngx_http_tenant_guard_store_seen_read(ngx_http_request_t *r,
    ngx_http_tenant_guard_ctx_t *ctx, time_t *seen);
ngx_int_t ngx_http_tenant_guard_store_ban_count(ngx_uint_t kind,
    u_char *key, size_t len, long long longest, long long now,
    ngx_http_tenant_guard_counted_pt handler, void *data);
void ngx_http_tenant_guard_store_ban_set(ngx_uint_t kind, u_char *key,
    size_t len, long long until, long long now);
void ngx_http_tenant_guard_store_ban_lift(ngx_uint_t kind, u_char *key,
    size_t len);
ngx_int_t ngx_http_tenant_guard_store_ban_get(ngx_http_request_t *r,
    ngx_http_tenant_guard_ctx_t *ctx, ngx_uint_t kind, u_char *key,
    size_t len, time_t *until);

/* _policy.c */
const tg_policy_t *ngx_http_tenant_guard_policy_file_find(
    ngx_http_request_t *r, ngx_str_t *ws);
char *ngx_http_tenant_guard_policy_file(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_tenant_guard_support_subnets(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
ngx_int_t ngx_http_tenant_guard_policy_check(ngx_http_request_t *r,
    ngx_http_tenant_guard_loc_conf_t *lcf, ngx_http_tenant_guard_ctx_t *ctx);
ngx_int_t ngx_http_tenant_guard_policy_idle(ngx_http_request_t *r,
    ngx_http_tenant_guard_loc_conf_t *lcf, ngx_http_tenant_guard_ctx_t *ctx);

/* _ban.c */
ngx_int_t ngx_http_tenant_guard_ban_address(ngx_http_request_t *r,
    ngx_http_tenant_guard_loc_conf_t *lcf, ngx_http_tenant_guard_ctx_t *ctx);
ngx_int_t ngx_http_tenant_guard_ban_subject(ngx_http_request_t *r,
    ngx_http_tenant_guard_loc_conf_t *lcf, ngx_http_tenant_guard_ctx_t *ctx);
void ngx_http_tenant_guard_ban_identifier(ngx_http_request_t *r,
    ngx_http_tenant_guard_ctx_t *ctx, ngx_str_t *ws, ngx_str_t *id);
void ngx_http_tenant_guard_ban_fail(ngx_http_request_t *r,
    ngx_http_tenant_guard_ctx_t *ctx, ngx_str_t *ws, ngx_uint_t identifier);
void ngx_http_tenant_guard_ban_lift(ngx_http_request_t *r,
    ngx_http_tenant_guard_ctx_t *ctx, ngx_str_t *ws, ngx_str_t *id);
char *ngx_http_tenant_guard_ban_ipv6_prefix(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
ngx_int_t ngx_http_tenant_guard_ban_attempt(ngx_http_request_t *r,
    ngx_http_tenant_guard_ctx_t *ctx, ngx_str_t *ws,
    const tg_ban_settings_t *ws_ban);
void ngx_http_tenant_guard_ban_settle(ngx_http_request_t *r,
    ngx_http_tenant_guard_ctx_t *ctx, ngx_uint_t failed);

/* _login.c */
extern ngx_conf_post_t  ngx_http_tenant_guard_login_body_max_post;
char *ngx_http_tenant_guard_login(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_tenant_guard_login_init(ngx_conf_t *cf);
ngx_int_t ngx_http_tenant_guard_login_sources(ngx_http_request_t *r,
    ngx_http_tenant_guard_loc_conf_t *lcf, ngx_http_tenant_guard_ctx_t *ctx);
ngx_int_t ngx_http_tenant_guard_login_step(ngx_http_request_t *r,
    ngx_http_tenant_guard_loc_conf_t *lcf, ngx_http_tenant_guard_ctx_t *ctx);

/* _token.c */
ngx_int_t ngx_http_tenant_guard_token_check(ngx_http_request_t *r,
    ngx_http_tenant_guard_loc_conf_t *lcf, ngx_http_tenant_guard_ctx_t *ctx);
ngx_int_t ngx_http_tenant_guard_token_revoked(ngx_http_request_t *r,
    ngx_http_tenant_guard_loc_conf_t *lcf, ngx_http_tenant_guard_ctx_t *ctx);
ngx_int_t ngx_http_tenant_guard_token_scopes(ngx_http_request_t *r,
    ngx_http_tenant_guard_loc_conf_t *lcf, ngx_http_tenant_guard_ctx_t *ctx);
ngx_int_t ngx_http_tenant_guard_token_bind(ngx_http_request_t *r,
    ngx_http_tenant_guard_loc_conf_t *lcf, ngx_http_tenant_guard_ctx_t *ctx);
tg_claims_t *ngx_http_tenant_guard_token_claims_json(ngx_http_request_t *r,
    ngx_http_tenant_guard_ctx_t *ctx);

/* _headers.c */
ngx_int_t ngx_http_tenant_guard_headers_prepare(ngx_conf_t *cf,
    ngx_http_tenant_guard_loc_conf_t *lcf);
ngx_int_t ngx_http_tenant_guard_headers_strip(ngx_http_request_t *r,
    ngx_http_tenant_guard_loc_conf_t *lcf);
ngx_int_t ngx_http_tenant_guard_headers_set(ngx_http_request_t *r,
    ngx_http_tenant_guard_loc_conf_t *lcf, ngx_http_tenant_guard_ctx_t *ctx);
ngx_table_elt_t *ngx_http_tenant_guard_headers_out(ngx_http_request_t *r,
    ngx_str_t *key, ngx_str_t *value);

/* _access.c */
ngx_int_t ngx_http_tenant_guard_preaccess_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_tenant_guard_access_handler(ngx_http_request_t *r);
ngx_array_t *ngx_http_tenant_guard_array_join(ngx_conf_t *cf,
    ngx_array_t *a, ngx_array_t *b);
ngx_http_tenant_guard_ctx_t *ngx_http_tenant_guard_get_ctx(
    ngx_http_request_t *r);

/* _source.c */
char *ngx_http_tenant_guard_token_sources(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_tenant_guard_token_sources_merge(ngx_conf_t *cf,
    ngx_http_tenant_guard_loc_conf_t *prev,
    ngx_http_tenant_guard_loc_conf_t *conf);
ngx_int_t ngx_http_tenant_guard_token_source(ngx_http_request_t *r,
    ngx_http_tenant_guard_loc_conf_t *lcf, ngx_http_tenant_guard_ctx_t *ctx,
    ngx_str_t *token);
void ngx_http_tenant_guard_token_source_log(ngx_http_request_t *r,
    ngx_http_tenant_guard_loc_conf_t *lcf);
ngx_int_t ngx_http_tenant_guard_token_step(ngx_http_request_t *r,
    ngx_http_tenant_guard_loc_conf_t *lcf, ngx_http_tenant_guard_ctx_t *ctx);
ngx_int_t ngx_http_tenant_guard_token_early(ngx_http_request_t *r,
    ngx_http_tenant_guard_ctx_t **ctxp);

/* _claims.c */
char *ngx_http_tenant_guard_require_claim(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_tenant_guard_claim_rules_merge(ngx_conf_t *cf,
    ngx_http_tenant_guard_loc_conf_t *prev,
    ngx_http_tenant_guard_loc_conf_t *conf);
ngx_int_t ngx_http_tenant_guard_claims_check(ngx_http_request_t *r,
    ngx_http_tenant_guard_loc_conf_t *lcf, ngx_http_tenant_guard_ctx_t *ctx);

/* _variables.c */
ngx_int_t ngx_http_tenant_guard_add_variables(ngx_conf_t *cf);
ngx_int_t ngx_http_tenant_guard_variables_keep(ngx_http_request_t *r,
    ngx_http_tenant_guard_ctx_t *ctx);


extern ngx_module_t  ngx_http_tenant_guard_module;


#endif /* _NGX_HTTP_TENANT_GUARD_MODULE_H_INCLUDED_ */
