
/*
 * Copyright (C) tenant_guard authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_tenant_guard_module.h"
#include "ngx_http_tenant_guard_keys.h"
#include "ngx_http_tenant_guard_admin.h"


/* a verified token as the zone keeps it: this, then the strings */

typedef struct {
    int64_t                       exp;
    int64_t                       iat;
    int64_t                       stored;     /* when it was verified */
    uint32_t                      fingerprint;
    uint32_t                      payload_len;
    uint16_t                      len[NGX_HTTP_TENANT_GUARD_NIDS + 2];
    u_char                        mfa;
    u_char                        opaque;     /* a record from Redis */
} ngx_http_tenant_guard_record_t;


#define NGX_HTTP_TENANT_GUARD_ABSENT      0xffff
#define NGX_HTTP_TENANT_GUARD_RECORD_MAX  16384


static ngx_int_t ngx_http_tenant_guard_token_record(ngx_http_request_t *r,
    ngx_http_tenant_guard_loc_conf_t *lcf, ngx_http_tenant_guard_ctx_t *ctx,
    ngx_str_t *json);
static void ngx_http_tenant_guard_token_keep(ngx_http_request_t *r,
    ngx_http_tenant_guard_loc_conf_t *lcf, ngx_http_tenant_guard_ctx_t *ctx);
static void ngx_http_tenant_guard_token_id(ngx_http_request_t *r,
    ngx_http_tenant_guard_loc_conf_t *lcf, ngx_http_tenant_guard_ctx_t *ctx,
    ngx_str_t *token);
static ngx_int_t ngx_http_tenant_guard_token_verify(ngx_http_request_t *r,
    ngx_http_tenant_guard_loc_conf_t *lcf, ngx_http_tenant_guard_ctx_t *ctx,
    ngx_str_t *token);
static ngx_int_t ngx_http_tenant_guard_token_adopt(ngx_http_request_t *r,
    ngx_http_tenant_guard_loc_conf_t *lcf, ngx_http_tenant_guard_ctx_t *ctx,
    tg_jwt_t *jwt, size_t size);
static ngx_int_t ngx_http_tenant_guard_token_claims(ngx_http_request_t *r,
    ngx_http_tenant_guard_loc_conf_t *lcf, ngx_http_tenant_guard_ctx_t *ctx);
static void ngx_http_tenant_guard_token_cleanup(void *data);
static ngx_int_t ngx_http_tenant_guard_token_signed_out(ngx_http_request_t *r,
    ngx_http_tenant_guard_loc_conf_t *lcf, ngx_http_tenant_guard_ctx_t *ctx);
static ngx_int_t ngx_http_tenant_guard_token_signed_out_one(
    ngx_http_request_t *r, ngx_http_tenant_guard_loc_conf_t *lcf,
    ngx_http_tenant_guard_ctx_t *ctx, ngx_uint_t kind);
static ngx_int_t ngx_http_tenant_guard_token_cached(ngx_http_request_t *r,
    ngx_http_tenant_guard_loc_conf_t *lcf, ngx_http_tenant_guard_zone_t *zone,
    ngx_http_tenant_guard_ctx_t *ctx);
static void ngx_http_tenant_guard_token_cache(
    ngx_http_tenant_guard_loc_conf_t *lcf, ngx_http_tenant_guard_zone_t *zone,
    ngx_http_tenant_guard_ctx_t *ctx, size_t jti_len);
static ngx_int_t ngx_http_tenant_guard_token_refused(ngx_http_request_t *r,
    ngx_http_tenant_guard_loc_conf_t *lcf, ngx_http_tenant_guard_zone_t *zone,
    ngx_http_tenant_guard_ctx_t *ctx, ngx_uint_t opaque);
static void ngx_http_tenant_guard_token_refuse(ngx_http_request_t *r,
    ngx_http_tenant_guard_loc_conf_t *lcf, ngx_http_tenant_guard_ctx_t *ctx,
    ngx_str_t *token, ngx_uint_t opaque);
static ngx_str_t *ngx_http_tenant_guard_token_strings(
    ngx_http_tenant_guard_ctx_t *ctx, ngx_uint_t i);
static tg_result_e ngx_http_tenant_guard_token_bind_first(
    ngx_http_request_t *r, ngx_http_tenant_guard_loc_conf_t *lcf);
static ngx_int_t ngx_http_tenant_guard_token_client_path(
    ngx_http_request_t *r, ngx_str_t *path);
static ngx_int_t ngx_http_tenant_guard_token_bind_paths(ngx_http_request_t *r,
    ngx_http_tenant_guard_loc_conf_t *lcf, ngx_http_tenant_guard_ctx_t *ctx);
static ngx_uint_t ngx_http_tenant_guard_token_is_own(ngx_http_request_t *r,
    ngx_http_tenant_guard_ctx_t *ctx, ngx_uint_t kind, u_char *claim,
    u_char *value, size_t len);


/*
 * The token step: NGX_OK with ctx->result set (TG_RESULT_ALLOW or a
 * refusal), NGX_AGAIN while Redis is asked for an opaque token, or
 * NGX_ERROR.  A token the zone has verified under this configuration is
 * taken from it: no signature, no JSON, no Redis.
 */

ngx_int_t
ngx_http_tenant_guard_token_check(ngx_http_request_t *r,
    ngx_http_tenant_guard_loc_conf_t *lcf, ngx_http_tenant_guard_ctx_t *ctx)
{
    ngx_int_t                           rc;
    ngx_str_t                           token, record;
    ngx_uint_t                          opaque;
    ngx_http_tenant_guard_main_conf_t  *tmcf;

    ctx->keyed = 0;

    /* tenant_guard_token: _source.c, which sets the detail of a refusal */

    rc = ngx_http_tenant_guard_token_source(r, lcf, ctx, &token);

    if (rc == NGX_DECLINED) {
        ctx->result = TG_RESULT_NO_TOKEN;
        return NGX_OK;
    }

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    ngx_http_tenant_guard_token_id(r, lcf, ctx, &token);

    if (rc == NGX_BUSY) {
        ctx->result = TG_RESULT_INVALID_TOKEN;
        return NGX_OK;
    }

    tmcf = ngx_http_get_module_main_conf(r, ngx_http_tenant_guard_module);

    opaque = lcf->opaque && !tg_jwt_is_compact(token.data, token.len);

    /* the key set a JWT is verified with, and its verdicts kept under */

    ctx->fingerprint = lcf->fingerprint;
    ctx->keyset = lcf->jwt.keys;

    if (lcf->keys_url != NULL && !opaque) {
        rc = ngx_http_tenant_guard_keys_prepare(r, lcf, ctx);

        if (rc == NGX_BUSY) {
            ctx->result = TG_RESULT_UNAVAILABLE;
            return NGX_OK;
        }

        if (rc != NGX_OK) {
            return rc;
        }

        ctx->keyed = 1;
    }

    if (tmcf->zone && token.len <= lcf->max_token_size
        && !ctx->ask.answered)
    {
        rc = ngx_http_tenant_guard_token_cached(r, lcf, tmcf->zone, ctx);

        if (rc == NGX_ERROR) {
            return NGX_ERROR;
        }

        if (rc == NGX_OK) {
            ctx->from = NGX_HTTP_TENANT_GUARD_FROM_ZONE;

            if (ctx->exp + lcf->leeway <= ngx_time()) {
                ctx->result = TG_RESULT_INVALID_TOKEN;
                ngx_str_set(&ctx->detail, "the token has expired");
                return NGX_OK;
            }

            ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                           "tenant_guard: token from zone, token_id: %V",
                           &ctx->token_id);

            ctx->result = TG_RESULT_ALLOW;
            return NGX_OK;
        }

        rc = ngx_http_tenant_guard_token_refused(r, lcf, tmcf->zone, ctx,
                                                 opaque);

        if (rc != NGX_DECLINED) {
            return rc;
        }
    }

    if (opaque) {
        ctx->from = NGX_HTTP_TENANT_GUARD_FROM_RECORD;

        rc = ngx_http_tenant_guard_store_token(r, ctx, &record);

        switch (rc) {

        case NGX_OK:
            return ngx_http_tenant_guard_token_record(r, lcf, ctx, &record);

        case NGX_DECLINED:
            ctx->result = TG_RESULT_INVALID_TOKEN;
            ngx_str_set(&ctx->detail, "unknown token");
            ngx_http_tenant_guard_token_refuse(r, lcf, ctx, &token, 1);
            return NGX_OK;

        case NGX_BUSY:

            /* a token only Redis knows cannot be judged without it */

            ctx->result = TG_RESULT_UNAVAILABLE;
            return NGX_OK;

        default:
            return rc;
        }
    }

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "tenant_guard: verifying token signature");

    ctx->from = NGX_HTTP_TENANT_GUARD_FROM_JWT;

    return ngx_http_tenant_guard_token_verify(r, lcf, ctx, &token);
}


/*
 * The revocation step, for a token verified here: a JWT with a jti is
 * asked of tg:revoked:{jti}; a token that passes goes to the zone.
 */

ngx_int_t
ngx_http_tenant_guard_token_revoked(ngx_http_request_t *r,
    ngx_http_tenant_guard_loc_conf_t *lcf, ngx_http_tenant_guard_ctx_t *ctx)
{
    size_t                              n;
    ngx_int_t                           rc;
    ngx_uint_t                          revoked, keep;
    ngx_http_tenant_guard_main_conf_t  *tmcf;

    /* the token step let it through: its claims are the token's own */

    ctx->verified = 1;

    if (ctx->from == NGX_HTTP_TENANT_GUARD_FROM_NONE) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "tenant_guard: a token passed with no source");
        return NGX_ERROR;
    }

    if (ctx->from != NGX_HTTP_TENANT_GUARD_FROM_ZONE && !ctx->jti_checked) {
        tmcf = ngx_http_get_module_main_conf(r, ngx_http_tenant_guard_module);

        /* embedded mode: a jti the admin API revoked lives in the zone */

        if (tmcf->redis == NULL && tmcf->zone != NULL && ctx->jti.len
            && ngx_http_tenant_guard_zone_get(tmcf->zone,
                                       NGX_HTTP_TENANT_GUARD_KIND_REVOKED_JTI,
                                       ctx->jti.data, ctx->jti.len,
                                       (u_char *) &n, 0, &n)
               == NGX_OK)
        {
            ctx->result = TG_RESULT_INVALID_TOKEN;
            ngx_str_set(&ctx->detail, "the token has been revoked");
            return NGX_OK;
        }

        keep = 1;

        if (ctx->from == NGX_HTTP_TENANT_GUARD_FROM_JWT) {
            rc = ngx_http_tenant_guard_store_revoked(r, ctx, &revoked);

            if (rc == NGX_BUSY) {
                if (lcf->redis_failure != NGX_HTTP_TENANT_GUARD_FAILURE_OPEN)
                {
                    ctx->result = TG_RESULT_UNAVAILABLE;
                    return NGX_OK;
                }

                /*
                 * allowed, but not kept: Redis did not say "not revoked",
                 * and a zone entry would skip the question until exp
                 */

                keep = 0;

            } else if (rc != NGX_OK) {
                return rc;

            } else if (revoked) {
                ctx->result = TG_RESULT_INVALID_TOKEN;
                ngx_str_set(&ctx->detail, "the token has been revoked");
                return NGX_OK;
            }
        }

        ctx->jti_checked = 1;

        if (keep) {
            ngx_http_tenant_guard_token_keep(r, lcf, ctx);
        }
    }

    /* a signed-out subject or workspace: every token, cached ones too */

    return ngx_http_tenant_guard_token_signed_out(r, lcf, ctx);
}


/*
 * An opaque token's record from Redis: {"sub", "organization_id",
 * "workspace_id", "integration_id", "scope", "amr", "iat", "exp", "jti"}.
 * Sets ctx->result; NGX_ERROR only when out of memory.
 */

static ngx_int_t
ngx_http_tenant_guard_token_record(ngx_http_request_t *r,
    ngx_http_tenant_guard_loc_conf_t *lcf, ngx_http_tenant_guard_ctx_t *ctx,
    ngx_str_t *json)
{
    tg_jwt_t  jwt;
    char      err[256];

    if (tg_jwt_check_record(&lcf->jwt, json->data, json->len,
                            (long long) ngx_time(), &jwt, err, sizeof(err))
        != 0)
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "tenant_guard: opaque token record refused: %s, "
                      "token_id: %V", err, &ctx->token_id);

        ctx->result = TG_RESULT_INVALID_TOKEN;
        ngx_str_set(&ctx->detail, "the token is not valid");
        return NGX_OK;
    }

    if (ngx_http_tenant_guard_token_adopt(r, lcf, ctx, &jwt, json->len)
        != NGX_OK)
    {
        ctx->result = TG_RESULT_UNAVAILABLE;
    }

    return NGX_OK;
}


/*
 * A verified token goes to the zone, named in its jti's revocation index
 * (every encoding of one token: an ECDSA signature's two S forms are two
 * tokens of one jti).
 */

static void
ngx_http_tenant_guard_token_keep(ngx_http_request_t *r,
    ngx_http_tenant_guard_loc_conf_t *lcf, ngx_http_tenant_guard_ctx_t *ctx)
{
    ngx_http_tenant_guard_main_conf_t  *tmcf;

    tmcf = ngx_http_get_module_main_conf(r, ngx_http_tenant_guard_module);

    /* Redis's answer may be older than a tg:events message: not kept */

    if (tmcf->zone == NULL || ctx->ask.older) {
        return;
    }

    /* the jti is indexed: tg:events or the admin API may revoke it */

    ngx_http_tenant_guard_token_cache(lcf, tmcf->zone, ctx, ctx->jti.len);
}


/*
 * tg:revoked-ws:{ws} and tg:revoked-sub:{ws}:{sub}: a token issued at or
 * before the time they hold is refused (no iat: refused).  Each is asked
 * once per request, from the zone while it is warm.
 */

static ngx_int_t
ngx_http_tenant_guard_token_signed_out(ngx_http_request_t *r,
    ngx_http_tenant_guard_loc_conf_t *lcf, ngx_http_tenant_guard_ctx_t *ctx)
{
    u_char                             *p;
    time_t                              at[2];
    ngx_int_t                           rc;
    ngx_str_t                           names[2], *ws, *sub;
    ngx_uint_t                          i, known[2];
    ngx_http_tenant_guard_main_conf_t  *tmcf;

    tmcf = ngx_http_get_module_main_conf(r, ngx_http_tenant_guard_module);

    ws = &ctx->ids[NGX_HTTP_TENANT_GUARD_WORKSPACE];
    sub = &ctx->ids[NGX_HTTP_TENANT_GUARD_SUBJECT];

    /* warm: both questions answered by the zone in one look */

    if (!ctx->ws_checked && !ctx->sub_checked && tmcf->zone != NULL
        && ws->len)
    {
        names[0] = *ws;
        names[1].len = 0;

        if (sub->len) {
            names[1].len = ws->len + 1 + sub->len;
            names[1].data = ngx_pnalloc(r->pool, names[1].len);
            if (names[1].data == NULL) {
                return NGX_ERROR;
            }

            p = ngx_cpymem(names[1].data, ws->data, ws->len);
            *p++ = ':';
            ngx_memcpy(p, sub->data, sub->len);
        }

        ngx_http_tenant_guard_store_signed_out(r, names, at, known);

        for (i = 0; i < 2; i++) {
            if (!known[i] && names[i].len) {
                continue;
            }

            if (at[i] != 0 && (ctx->iat < 0 || ctx->iat <= at[i])) {
                ctx->result = TG_RESULT_INVALID_TOKEN;

                if (i == 0) {
                    ngx_str_set(&ctx->detail,
                                "the token has been revoked: its workspace "
                                "was signed out");
                } else {
                    ngx_str_set(&ctx->detail,
                                "the token has been revoked: its subject "
                                "was signed out");
                }

                return NGX_OK;
            }

            if (i == 0) {
                ctx->ws_checked = 1;

            } else {
                ctx->sub_checked = 1;
            }
        }
    }

    if (!ctx->ws_checked) {
        rc = ngx_http_tenant_guard_token_signed_out_one(r, lcf, ctx,
                                        NGX_HTTP_TENANT_GUARD_KIND_REVOKED_WS);
        if (rc != NGX_OK || ctx->result != TG_RESULT_ALLOW) {
            return rc;
        }

        ctx->ws_checked = 1;
    }

    if (!ctx->sub_checked) {
        rc = ngx_http_tenant_guard_token_signed_out_one(r, lcf, ctx,
                                       NGX_HTTP_TENANT_GUARD_KIND_REVOKED_SUB);
        if (rc != NGX_OK || ctx->result != TG_RESULT_ALLOW) {
            return rc;
        }

        ctx->sub_checked = 1;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_tenant_guard_token_signed_out_one(ngx_http_request_t *r,
    ngx_http_tenant_guard_loc_conf_t *lcf, ngx_http_tenant_guard_ctx_t *ctx,
    ngx_uint_t kind)
{
    u_char     *p;
    time_t      at;
    ngx_int_t   rc;
    ngx_str_t   name, *ws, *sub;

    ws = &ctx->ids[NGX_HTTP_TENANT_GUARD_WORKSPACE];
    sub = &ctx->ids[NGX_HTTP_TENANT_GUARD_SUBJECT];

    if (ws->len == 0
        || (kind == NGX_HTTP_TENANT_GUARD_KIND_REVOKED_SUB && sub->len == 0))
    {
        return NGX_OK;
    }

    if (kind == NGX_HTTP_TENANT_GUARD_KIND_REVOKED_WS) {
        name = *ws;

    } else {
        name.len = ws->len + 1 + sub->len;
        name.data = ngx_pnalloc(r->pool, name.len);
        if (name.data == NULL) {
            return NGX_ERROR;
        }

        p = ngx_cpymem(name.data, ws->data, ws->len);
        *p++ = ':';
        ngx_memcpy(p, sub->data, sub->len);
    }

    rc = ngx_http_tenant_guard_store_revoked_at(r, ctx, kind, name.data,
                                                name.len, &at);

    if (rc == NGX_BUSY) {
        if (lcf->redis_failure != NGX_HTTP_TENANT_GUARD_FAILURE_OPEN) {
            ctx->result = TG_RESULT_UNAVAILABLE;
        }

        return NGX_OK;
    }

    if (rc != NGX_OK) {
        return rc;
    }

    if (at != 0 && (ctx->iat < 0 || ctx->iat <= at)) {
        ctx->result = TG_RESULT_INVALID_TOKEN;

        if (kind == NGX_HTTP_TENANT_GUARD_KIND_REVOKED_WS) {
            ngx_str_set(&ctx->detail,
                        "the token has been revoked: its workspace was "
                        "signed out");
        } else {
            ngx_str_set(&ctx->detail,
                        "the token has been revoked: its subject was "
                        "signed out");
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_tenant_guard_token_verify(ngx_http_request_t *r,
    ngx_http_tenant_guard_loc_conf_t *lcf, ngx_http_tenant_guard_ctx_t *ctx,
    ngx_str_t *token)
{
    ngx_int_t      rc;
    tg_jwt_t       jwt;
    tg_jwt_conf_t  conf;
    char           err[256];

    conf = lcf->jwt;
    conf.keys = ctx->keyset;

    if (tg_jwt_verify(&conf, token->data, token->len,
                      (long long) ngx_time(), &jwt, err, sizeof(err))
        != 0)
    {
        /* a kid the IdP's set may have since: one refetch, waited for */

        if (lcf->keys_url != NULL
            && ngx_strncmp(err, "unknown kid", 11) == 0)
        {
            rc = ngx_http_tenant_guard_keys_unknown_kid(r, lcf, ctx);

            if (rc != NGX_DECLINED) {
                return rc;
            }
        }

        ctx->result = TG_RESULT_INVALID_TOKEN;
        ctx->detail.len = ngx_strlen(err);
        ctx->detail.data = ngx_pnalloc(r->pool, ctx->detail.len);
        if (ctx->detail.data == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(ctx->detail.data, err, ctx->detail.len);

        if (jwt.final && !ctx->deferred) {
            ngx_http_tenant_guard_token_refuse(r, lcf, ctx, token, 0);
        }

        return NGX_OK;
    }

    return ngx_http_tenant_guard_token_adopt(r, lcf, ctx, &jwt, token->len);
}


/*
 * A verified token's claims become the request's: freed with its pool,
 * kept as the JSON text they were read from for the zone (never longer
 * than size: the token or the record they came from), and mapped to the
 * tenant ids.
 */

static ngx_int_t
ngx_http_tenant_guard_token_adopt(ngx_http_request_t *r,
    ngx_http_tenant_guard_loc_conf_t *lcf, ngx_http_tenant_guard_ctx_t *ctx,
    tg_jwt_t *jwt, size_t size)
{
    size_t               len;
    const u_char        *text;
    ngx_pool_cleanup_t  *cln;

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        tg_claims_free(jwt->claims);
        return NGX_ERROR;
    }

    cln->handler = ngx_http_tenant_guard_token_cleanup;
    cln->data = jwt->claims;

    ctx->claims = jwt->claims;
    ctx->exp = (time_t) jwt->exp;
    ctx->iat = (time_t) jwt->iat;

    /* the text, not a new serialisation: it lives as long as the claims */

    text = tg_claims_text(jwt->claims, &len);

    ctx->payload.data = (u_char *) text;
    ctx->payload.len = (len <= size) ? len : 0;

    return ngx_http_tenant_guard_token_claims(r, lcf, ctx);
}


/*
 * A token verified under another configuration (keys, algorithms, claim
 * names: the fingerprint) is a miss, and so is one older than a second
 * while nothing tells this host of invalidations.
 */

static ngx_int_t
ngx_http_tenant_guard_token_cached(ngx_http_request_t *r,
    ngx_http_tenant_guard_loc_conf_t *lcf, ngx_http_tenant_guard_zone_t *zone,
    ngx_http_tenant_guard_ctx_t *ctx)
{
    u_char                          *p, *last;
    size_t                           n;
    ngx_int_t                        rc;
    ngx_str_t                       *s;
    ngx_uint_t                       i;
    ngx_http_tenant_guard_record_t   rec;

    rc = ngx_http_tenant_guard_zone_copy(zone,
                                         NGX_HTTP_TENANT_GUARD_KIND_TOKEN,
                                         ctx->key, 32, r->pool, &p, &n);
    if (rc != NGX_OK) {
        return rc;
    }

    if (n < sizeof(rec)) {
        return NGX_DECLINED;
    }

    ngx_memcpy(&rec, p, sizeof(rec));

    /* an opaque token is no token where opaque tokens are not taken */

    if (rec.fingerprint != ctx->fingerprint
        || (rec.opaque && !lcf->opaque)
        || !ngx_http_tenant_guard_store_fresh(r, (time_t) rec.stored))
    {
        return NGX_DECLINED;
    }

    last = p + n;
    p += sizeof(rec);

    for (i = 0; i < NGX_HTTP_TENANT_GUARD_NIDS + 2; i++) {
        if (rec.len[i] == NGX_HTTP_TENANT_GUARD_ABSENT) {
            continue;
        }

        if ((size_t) (last - p) < rec.len[i]) {
            return NGX_DECLINED;
        }

        s = ngx_http_tenant_guard_token_strings(ctx, i);
        s->data = p;
        s->len = rec.len[i];
        p += rec.len[i];
    }

    if ((size_t) (last - p) != rec.payload_len) {
        return NGX_DECLINED;
    }

    ctx->payload.data = p;
    ctx->payload.len = rec.payload_len;
    ctx->exp = (time_t) rec.exp;
    ctx->iat = (time_t) rec.iat;
    ctx->mfa = rec.mfa;

    return NGX_OK;
}


static void
ngx_http_tenant_guard_token_cache(ngx_http_tenant_guard_loc_conf_t *lcf,
    ngx_http_tenant_guard_zone_t *zone, ngx_http_tenant_guard_ctx_t *ctx,
    size_t jti_len)
{
    u_char                          *p;
    size_t                           n;
    ngx_str_t                       *s;
    ngx_uint_t                       i;
    ngx_http_tenant_guard_record_t   rec;
    u_char                           buf[NGX_HTTP_TENANT_GUARD_RECORD_MAX];

    ngx_memzero(&rec, sizeof(rec));

    rec.exp = ctx->exp;
    rec.iat = ctx->iat;
    rec.stored = ngx_time();
    rec.fingerprint = ctx->fingerprint;
    rec.mfa = ctx->mfa;
    rec.opaque = (ctx->from == NGX_HTTP_TENANT_GUARD_FROM_RECORD);
    rec.payload_len = (uint32_t) ctx->payload.len;

    n = sizeof(rec) + ctx->payload.len;

    for (i = 0; i < NGX_HTTP_TENANT_GUARD_NIDS + 2; i++) {
        s = ngx_http_tenant_guard_token_strings(ctx, i);

        if (s->data == NULL || s->len >= NGX_HTTP_TENANT_GUARD_ABSENT) {
            rec.len[i] = NGX_HTTP_TENANT_GUARD_ABSENT;
            continue;
        }

        rec.len[i] = (uint16_t) s->len;
        n += s->len;
    }

    if (n > sizeof(buf)) {
        return;
    }

    p = ngx_cpymem(buf, &rec, sizeof(rec));

    for (i = 0; i < NGX_HTTP_TENANT_GUARD_NIDS + 2; i++) {
        if (rec.len[i] != NGX_HTTP_TENANT_GUARD_ABSENT) {
            s = ngx_http_tenant_guard_token_strings(ctx, i);
            p = ngx_cpymem(p, s->data, s->len);
        }
    }

    p = ngx_cpymem(p, ctx->payload.data, ctx->payload.len);

    /*
     * kept until exp, never past it; a full zone just caches less, and a
     * jti revoked a moment ago not at all
     */

    (void) ngx_http_tenant_guard_zone_put_token(zone, ctx->key, buf, p - buf,
                                                ctx->exp, ctx->jti.data,
                                                jti_len);
}


/*
 * A refusal the zone remembers for this token under this configuration:
 * NGX_OK with the first refusal's description (the caller counts it as
 * any invalid token), NGX_DECLINED, or NGX_ERROR.  An opaque token's
 * "unknown" is trusted only as fresh as Redis's other answers.
 */

static ngx_int_t
ngx_http_tenant_guard_token_refused(ngx_http_request_t *r,
    ngx_http_tenant_guard_loc_conf_t *lcf, ngx_http_tenant_guard_zone_t *zone,
    ngx_http_tenant_guard_ctx_t *ctx, ngx_uint_t opaque)
{
    time_t     stored;
    ngx_int_t  rc;
    ngx_str_t  detail;

    rc = ngx_http_tenant_guard_zone_negative_get(zone, ctx->key,
                                                 ctx->fingerprint, opaque,
                                                 r->pool, &detail, &stored);
    if (rc != NGX_OK) {
        return rc;
    }

    if (opaque && !ngx_http_tenant_guard_store_fresh(r, stored)) {
        return NGX_DECLINED;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "tenant_guard: refusal from zone, token_id: %V",
                   &ctx->token_id);

    ctx->result = TG_RESULT_INVALID_TOKEN;
    ctx->detail = detail;

    return NGX_OK;
}


/*
 * Remembers a refusal that time cannot change (a bad signature, a
 * malformed token, an unknown kid, an opaque token Redis does not know)
 * for a few seconds, so that a flood of one invalid token costs one check.
 */

static void
ngx_http_tenant_guard_token_refuse(ngx_http_request_t *r,
    ngx_http_tenant_guard_loc_conf_t *lcf, ngx_http_tenant_guard_ctx_t *ctx,
    ngx_str_t *token, ngx_uint_t opaque)
{
    ngx_http_tenant_guard_main_conf_t  *tmcf;

    tmcf = ngx_http_get_module_main_conf(r, ngx_http_tenant_guard_module);

    if (tmcf->zone == NULL || token->len > lcf->max_token_size) {
        return;
    }

    ngx_http_tenant_guard_zone_negative_put(tmcf->zone, ctx->key,
                                      ctx->fingerprint, opaque, &ctx->detail,
                                      ngx_time()
                                      + NGX_HTTP_TENANT_GUARD_NEGATIVE_TTL);
}


static ngx_str_t *
ngx_http_tenant_guard_token_strings(ngx_http_tenant_guard_ctx_t *ctx,
    ngx_uint_t i)
{
    if (i < NGX_HTTP_TENANT_GUARD_NIDS) {
        return &ctx->ids[i];
    }

    return (i == NGX_HTTP_TENANT_GUARD_NIDS) ? &ctx->scopes : &ctx->token_id;
}


/* the claims for a claim variable or bind: parsed once, when asked */

tg_claims_t *
ngx_http_tenant_guard_token_claims_json(ngx_http_request_t *r,
    ngx_http_tenant_guard_ctx_t *ctx)
{
    tg_claims_t         *claims;
    ngx_pool_cleanup_t  *cln;
    char                 err[160];

    if (ctx->claims != NULL || ctx->payload.len == 0) {
        return ctx->claims;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    claims = tg_claims_parse(ctx->payload.data, ctx->payload.len, err,
                             sizeof(err));

    cln->handler = ngx_http_tenant_guard_token_cleanup;
    cln->data = claims;

    ctx->claims = claims;

    return claims;
}


/* until a token is verified, its id is a digest prefix: never the token */

static void
ngx_http_tenant_guard_token_id(ngx_http_request_t *r,
    ngx_http_tenant_guard_loc_conf_t *lcf, ngx_http_tenant_guard_ctx_t *ctx,
    ngx_str_t *token)
{
    u_char  *id;

    tg_jwt_token_key(token->data, token->len, ctx->key);

    id = ngx_pnalloc(r->pool, NGX_HTTP_TENANT_GUARD_TOKEN_ID_LEN);
    if (id == NULL) {
        return;
    }

    ngx_hex_dump(id, ctx->key, NGX_HTTP_TENANT_GUARD_TOKEN_ID_LEN / 2);

    ctx->token_id.data = id;
    ctx->token_id.len = NGX_HTTP_TENANT_GUARD_TOKEN_ID_LEN;
}


static ngx_int_t
ngx_http_tenant_guard_token_claims(ngx_http_request_t *r,
    ngx_http_tenant_guard_loc_conf_t *lcf, ngx_http_tenant_guard_ctx_t *ctx)
{
    int                                 rc;
    char                               *buf;
    size_t                              len;
    ngx_uint_t                          k;
    const char                         *value;
    ngx_http_tenant_guard_main_conf_t  *tmcf;
    char                                jti[32];

    tmcf = ngx_http_get_module_main_conf(r, ngx_http_tenant_guard_module);

    buf = ngx_pnalloc(r->pool, NGX_HTTP_TENANT_GUARD_MAX_CLAIM);
    if (buf == NULL) {
        return NGX_ERROR;
    }

    for (k = 0; k < NGX_HTTP_TENANT_GUARD_NIDS; k++) {
        rc = tg_jwt_claim_text(ctx->claims, (char *) lcf->claims[k].data,
                               buf, 32, &value, &len);
        if (rc == -1) {
            ctx->result = TG_RESULT_INVALID_TOKEN;
            ngx_str_set(&ctx->detail,
                        "a tenant claim is neither a string nor an integer");
            return NGX_OK;
        }

        if (rc == 1) {
            ctx->ids[k].data = ngx_pnalloc(r->pool, len);
            if (ctx->ids[k].data == NULL) {
                return NGX_ERROR;
            }

            ngx_memcpy(ctx->ids[k].data, value, len);
            ctx->ids[k].len = len;
        }
    }

    rc = tg_jwt_claim_scopes(ctx->claims, buf, NGX_HTTP_TENANT_GUARD_MAX_CLAIM,
                             &len);
    if (rc == -1) {
        ctx->result = TG_RESULT_INVALID_TOKEN;
        ngx_str_set(&ctx->detail, "the \"scope\" claim is malformed");
        return NGX_OK;
    }

    if (rc == 1) {
        ctx->scopes.data = (u_char *) buf;
        ctx->scopes.len = len;
    }

    /* a verified token's id is its jti, when that is short and printable */

    rc = tg_jwt_claim_text(ctx->claims, "jti", jti, sizeof(jti), &value,
                           &len);

    if (rc == 1 && len > 0 && len <= NGX_HTTP_TENANT_GUARD_MAX_JTI) {
        ctx->jti.data = ngx_pnalloc(r->pool, len);
        if (ctx->jti.data == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(ctx->jti.data, value, len);
        ctx->jti.len = len;

    } else if (rc != 0 && tmcf->redis != NULL) {
        /* a jti no revocation could name: never a token revocation misses */

        ctx->result = TG_RESULT_INVALID_TOKEN;
        ngx_str_set(&ctx->detail, "the \"jti\" claim is empty, too long "
                    "or not a string");
        return NGX_OK;
    }

    if (rc == 1 && tg_request_token_id_ok((u_char *) value, len)) {
        ctx->token_id.data = ngx_pnalloc(r->pool, len);
        if (ctx->token_id.data == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(ctx->token_id.data, value, len);
        ctx->token_id.len = len;
    }

    ctx->mfa = tg_jwt_mfa(ctx->claims, lcf->amr, lcf->namr, lcf->acr,
                          lcf->nacr);
    ctx->result = TG_RESULT_ALLOW;

    return NGX_OK;
}


static void
ngx_http_tenant_guard_token_cleanup(void *data)
{
    tg_claims_free(data);
}


/* the scope step: every scope the location asks for must be held */

ngx_int_t
ngx_http_tenant_guard_token_scopes(ngx_http_request_t *r,
    ngx_http_tenant_guard_loc_conf_t *lcf, ngx_http_tenant_guard_ctx_t *ctx)
{
    ngx_str_t   *scope;
    ngx_uint_t   i;

    if (lcf->scopes == NULL) {
        return NGX_OK;
    }

    scope = lcf->scopes->elts;

    for (i = 0; i < lcf->scopes->nelts; i++) {
        if (!tg_jwt_words_has(ctx->scopes.data, ctx->scopes.len,
                              scope[i].data, scope[i].len))
        {
            ctx->result = TG_RESULT_INSUFFICIENT_SCOPE;
            return NGX_OK;
        }
    }

    return NGX_OK;
}


static tg_result_e  ngx_http_tenant_guard_mismatch[] = {
    TG_RESULT_WORKSPACE_MISMATCH,
    TG_RESULT_ORGANIZATION_MISMATCH,
    TG_RESULT_INTEGRATION_MISMATCH,
    TG_RESULT_CLAIM_MISMATCH,
    TG_RESULT_CLAIM_MISMATCH
};


/* a template's placeholder (TG_BINDPATH_*) as a bind's kind */

static ngx_uint_t  ngx_http_tenant_guard_bind_path_kinds[] = {
    NGX_HTTP_TENANT_GUARD_WORKSPACE,
    NGX_HTTP_TENANT_GUARD_ORGANIZATION,
    NGX_HTTP_TENANT_GUARD_INTEGRATION,
    NGX_HTTP_TENANT_GUARD_BIND_CLAIM
};


/*
 * The bind step: the ids the path names must be the token's own, those
 * of "tenant_guard_bind" (values of the location) and those of the
 * "tenant_guard_bind_path" templates that apply to the normalized path.
 */

ngx_int_t
ngx_http_tenant_guard_token_bind(ngx_http_request_t *r,
    ngx_http_tenant_guard_loc_conf_t *lcf, ngx_http_tenant_guard_ctx_t *ctx)
{
    ngx_str_t                      value;
    ngx_uint_t                     i;
    ngx_http_tenant_guard_bind_t  *bind;

    if (lcf->binds == NULL && lcf->bind_paths == NULL) {
        return NGX_OK;
    }

    /*
     * A bound id is taken from the normalized URI, while a backend may see
     * the raw one: where the two can differ the request is refused rather
     * than guessed at.  The path nginx made of it (decoded, rewritten) may
     * be forwarded as it is: a ';' there is a path parameter to a servlet
     * backend, whatever spelling brought it.
     */

    if (!tg_request_path_canonical(r->unparsed_uri.data,
                                   r->unparsed_uri.len)
        || ngx_strlchr(r->uri.data, r->uri.data + r->uri.len, ';') != NULL
        || ngx_strlchr(r->uri.data, r->uri.data + r->uri.len, '\\') != NULL)
    {
        ngx_str_set(&ctx->detail, "request path is not canonical");
        ctx->result = ngx_http_tenant_guard_token_bind_first(r, lcf);
        return NGX_OK;
    }

    bind = lcf->binds ? lcf->binds->elts : NULL;

    for (i = 0; lcf->binds && i < lcf->binds->nelts; i++) {

        if (ngx_http_complex_value(r, &bind[i].value, &value) != NGX_OK) {
            ctx->result = TG_RESULT_UNAVAILABLE;
            return NGX_OK;
        }

        if (!ngx_http_tenant_guard_token_is_own(r, ctx, bind[i].kind,
                                                bind[i].claim.data,
                                                value.data, value.len))
        {
            ctx->result = ngx_http_tenant_guard_mismatch[bind[i].kind];
            return NGX_OK;
        }
    }

    if (lcf->bind_paths) {
        return ngx_http_tenant_guard_token_bind_paths(r, lcf, ctx);
    }

    return NGX_OK;
}


/*
 * Every template is matched on its own; each placeholder the path reaches
 * must hold.  r->uri is the path nginx decoded and normalized (after
 * rewrites), the one the location was chosen for; the client's own path
 * is bound too, since a location may forward it ($request_uri) after a
 * rewrite or an internal redirect; in a subrequest (an auth_request
 * target) the main request's path is what is being allowed.
 */

static ngx_int_t
ngx_http_tenant_guard_token_bind_paths(ngx_http_request_t *r,
    ngx_http_tenant_guard_loc_conf_t *lcf, ngx_http_tenant_guard_ctx_t *ctx)
{
    size_t                              n, k;
    ngx_str_t                          *uri[3], orig;
    ngx_uint_t                          i, u, kind;
    const tg_bindpath_segment_t        *seg;
    ngx_http_tenant_guard_bind_path_t  *bp;
    tg_bindpath_value_t                 values[TG_BINDPATH_MAX_SEGMENTS];

    bp = lcf->bind_paths->elts;

    if (ngx_http_tenant_guard_token_client_path(r, &orig) != NGX_OK) {
        return NGX_ERROR;
    }

    uri[0] = &r->uri;
    uri[1] = (r != r->main) ? &r->main->uri : NULL;
    uri[2] = (orig.len != r->uri.len
              || ngx_strncmp(orig.data, r->uri.data, orig.len) != 0)
             ? &orig : NULL;

    for (u = 0; u < 3; u++) {

        if (uri[u] == NULL) {
            continue;
        }

        for (i = 0; i < lcf->bind_paths->nelts; i++) {

            n = tg_bindpath_match(&bp[i].path, uri[u]->data, uri[u]->len,
                                  values, TG_BINDPATH_MAX_SEGMENTS);

            for (k = 0; k < n; k++) {
                seg = values[k].placeholder;
                kind = ngx_http_tenant_guard_bind_path_kinds[seg->kind];

                if (!ngx_http_tenant_guard_token_is_own(r, ctx, kind,
                             bp[i].claims[seg - bp[i].path.segments],
                             (u_char *) values[k].value, values[k].len))
                {
                    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log,
                                   0, "tenant_guard: bind path \"%V\" "
                                   "refused \"%V\"", &bp[i].text, uri[u]);

                    ctx->result = ngx_http_tenant_guard_mismatch[kind];
                    return NGX_OK;
                }
            }
        }
    }

    return NGX_OK;
}


/*
 * The path the client sent, decoded: its raw form has passed the
 * canonical check, so decoding it makes no separator, dot segment or '%'
 * that nginx's own reading would not have made.  Without a '%' it is the
 * raw path itself: no copy.
 */

static ngx_int_t
ngx_http_tenant_guard_token_client_path(ngx_http_request_t *r,
    ngx_str_t *path)
{
    u_char  *src, *dst, *end;

    src = r->main->unparsed_uri.data;
    end = ngx_strlchr(src, src + r->main->unparsed_uri.len, '?');

    if (end == NULL) {
        end = src + r->main->unparsed_uri.len;
    }

    if (ngx_strlchr(src, end, '%') == NULL) {
        path->data = src;
        path->len = end - src;
        return NGX_OK;
    }

    path->data = ngx_pnalloc(r->pool, end - src);
    if (path->data == NULL) {
        return NGX_ERROR;
    }

    dst = path->data;
    ngx_unescape_uri(&dst, &src, end - src, NGX_UNESCAPE_URI);
    path->len = dst - path->data;

    return NGX_OK;
}


/*
 * The code of a refused non-canonical path: the first bind's, else that
 * of the first placeholder the path reaches, else the first template's.
 */

static tg_result_e
ngx_http_tenant_guard_token_bind_first(ngx_http_request_t *r,
    ngx_http_tenant_guard_loc_conf_t *lcf)
{
    ngx_uint_t                          i, k;
    tg_bindpath_value_t                 value;
    ngx_http_tenant_guard_bind_t       *bind;
    ngx_http_tenant_guard_bind_path_t  *bp;

    if (lcf->binds != NULL) {
        bind = lcf->binds->elts;
        return ngx_http_tenant_guard_mismatch[bind[0].kind];
    }

    bp = lcf->bind_paths->elts;

    for (i = 0; i < lcf->bind_paths->nelts; i++) {
        if (tg_bindpath_match(&bp[i].path, r->uri.data, r->uri.len, &value,
                              1)
            == 1)
        {
            k = ngx_http_tenant_guard_bind_path_kinds[
                                                  value.placeholder->kind];
            return ngx_http_tenant_guard_mismatch[k];
        }
    }

    for (i = 0; i < bp[0].path.nsegments; i++) {
        if (bp[0].path.segments[i].kind != TG_BINDPATH_LITERAL) {
            k = ngx_http_tenant_guard_bind_path_kinds[
                                              bp[0].path.segments[i].kind];
            return ngx_http_tenant_guard_mismatch[k];
        }
    }

    return TG_RESULT_WORKSPACE_MISMATCH;
}


/* value is the token's id of that kind, or its claim; byte for byte */

static ngx_uint_t
ngx_http_tenant_guard_token_is_own(ngx_http_request_t *r,
    ngx_http_tenant_guard_ctx_t *ctx, ngx_uint_t kind, u_char *claim,
    u_char *value, size_t len)
{
    int           rc;
    size_t        n;
    ngx_str_t     own;
    tg_claims_t  *claims;
    const char   *text;
    char          buf[32];

    text = NULL;

    if (kind == NGX_HTTP_TENANT_GUARD_BIND_CLAIM) {
        claims = ngx_http_tenant_guard_token_claims_json(r, ctx);
        rc = claims ? tg_jwt_claim_text(claims, (char *) claim, buf,
                                        sizeof(buf), &text, &n)
                    : 0;
        own.data = (u_char *) text;
        own.len = (rc == 1) ? n : 0;

    } else {
        own = ctx->ids[kind];
    }

    return own.len != 0 && len == own.len
           && ngx_memcmp(value, own.data, own.len) == 0;
}
