
/*
 * Copyright (C) tenant_guard authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_tenant_guard_module.h"


static ngx_int_t ngx_http_tenant_guard_token_bearer(ngx_http_request_t *r,
    ngx_str_t *token);
static void ngx_http_tenant_guard_token_id(ngx_http_request_t *r,
    ngx_http_tenant_guard_ctx_t *ctx, ngx_str_t *token);
static ngx_int_t ngx_http_tenant_guard_token_claims(ngx_http_request_t *r,
    ngx_http_tenant_guard_loc_conf_t *lcf, ngx_http_tenant_guard_ctx_t *ctx);
static void ngx_http_tenant_guard_token_cleanup(void *data);
static ngx_uint_t ngx_http_tenant_guard_token_mfa(
    ngx_http_tenant_guard_loc_conf_t *lcf, json_t *claims);
static ngx_uint_t ngx_http_tenant_guard_path_canonical(ngx_http_request_t *r);


/*
 * Returns NGX_OK with ctx->result set (TG_RESULT_ALLOW or a refusal), or
 * NGX_ERROR when the request cannot go on.
 */

ngx_int_t
ngx_http_tenant_guard_token_check(ngx_http_request_t *r,
    ngx_http_tenant_guard_loc_conf_t *lcf, ngx_http_tenant_guard_ctx_t *ctx)
{
    ngx_int_t            rc;
    ngx_str_t            token;
    tg_jwt_t             jwt;
    ngx_pool_cleanup_t  *cln;
    char                 err[256];

    rc = ngx_http_tenant_guard_token_bearer(r, &token);

    if (rc == NGX_DECLINED) {
        ctx->result = TG_RESULT_NO_TOKEN;
        return NGX_OK;
    }

    ngx_http_tenant_guard_token_id(r, ctx, &token);

    if (rc == NGX_ERROR) {
        ctx->result = TG_RESULT_INVALID_TOKEN;
        ngx_str_set(&ctx->detail, "the Authorization header is not a bearer token");
        return NGX_OK;
    }

    if (tg_jwt_verify(&lcf->jwt, token.data, token.len, (long long) ngx_time(),
                      &jwt, err, sizeof(err))
        != 0)
    {
        ctx->result = TG_RESULT_INVALID_TOKEN;
        ctx->detail.len = ngx_strlen(err);
        ctx->detail.data = ngx_pstrdup(r->pool, &(ngx_str_t) {
                                           ctx->detail.len, (u_char *) err });
        if (ctx->detail.data == NULL) {
            return NGX_ERROR;
        }

        return NGX_OK;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        json_decref(jwt.claims);
        return NGX_ERROR;
    }

    cln->handler = ngx_http_tenant_guard_token_cleanup;
    cln->data = jwt.claims;

    ctx->claims = jwt.claims;

    return ngx_http_tenant_guard_token_claims(r, lcf, ctx);
}


/*
 * NGX_OK: a token; NGX_DECLINED: no bearer credentials at all;
 * NGX_ERROR: a Bearer header whose token is not a token68 (RFC 6750).
 */

static ngx_int_t
ngx_http_tenant_guard_token_bearer(ngx_http_request_t *r, ngx_str_t *token)
{
    u_char  *p, *end;

    if (r->headers_in.authorization == NULL) {
        return NGX_DECLINED;
    }

    p = r->headers_in.authorization->value.data;
    end = p + r->headers_in.authorization->value.len;

    if (end - p < 7 || ngx_strncasecmp(p, (u_char *) "Bearer ", 7) != 0) {
        return NGX_DECLINED;
    }

    p += 7;

    while (p < end && *p == ' ') {
        p++;
    }

    while (end > p && end[-1] == ' ') {
        end--;
    }

    if (p == end) {
        return NGX_DECLINED;
    }

    token->data = p;
    token->len = end - p;

    for ( /* void */ ; p < end; p++) {
        if (!(ngx_http_tenant_guard_isalnum(*p) || *p == '-' || *p == '.' || *p == '_'
              || *p == '~' || *p == '+' || *p == '/' || *p == '='))
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/* until a token is verified, its id is a digest prefix: never the token */

static void
ngx_http_tenant_guard_token_id(ngx_http_request_t *r,
    ngx_http_tenant_guard_ctx_t *ctx, ngx_str_t *token)
{
    u_char  *id;

    tg_jwt_sha256(token->data, token->len, ctx->digest);

    id = ngx_pnalloc(r->pool, NGX_HTTP_TENANT_GUARD_TOKEN_ID_LEN);
    if (id == NULL) {
        return;
    }

    ngx_hex_dump(id, ctx->digest, NGX_HTTP_TENANT_GUARD_TOKEN_ID_LEN / 2);

    ctx->token_id.data = id;
    ctx->token_id.len = NGX_HTTP_TENANT_GUARD_TOKEN_ID_LEN;
}


static ngx_int_t
ngx_http_tenant_guard_token_claims(ngx_http_request_t *r,
    ngx_http_tenant_guard_loc_conf_t *lcf, ngx_http_tenant_guard_ctx_t *ctx)
{
    int          rc;
    char        *buf;
    size_t       len, i;
    ngx_uint_t   k;
    const char  *value;
    char         jti[32];

    buf = ngx_pnalloc(r->pool, NGX_HTTP_TENANT_GUARD_MAX_CLAIM);
    if (buf == NULL) {
        return NGX_ERROR;
    }

    for (k = 0; k < NGX_HTTP_TENANT_GUARD_NIDS; k++) {
        rc = tg_jwt_claim_text(ctx->claims, (char *) lcf->claims[k].data,
                               buf, 32, &value, &len);
        if (rc == -1) {
            ctx->result = TG_RESULT_INVALID_TOKEN;
            ngx_str_set(&ctx->detail, "a tenant claim is neither a string nor an integer");
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

    if (rc == 1 && len > 0 && len <= 64) {
        for (i = 0; i < len; i++) {
            if (value[i] <= 0x20 || value[i] >= 0x7f || value[i] == '"') {
                break;
            }
        }

        if (i == len) {
            ctx->token_id.data = ngx_pnalloc(r->pool, len);
            if (ctx->token_id.data == NULL) {
                return NGX_ERROR;
            }

            ngx_memcpy(ctx->token_id.data, value, len);
            ctx->token_id.len = len;
        }
    }

    ctx->mfa = ngx_http_tenant_guard_token_mfa(lcf, ctx->claims);
    ctx->result = TG_RESULT_ALLOW;

    return NGX_OK;
}


static void
ngx_http_tenant_guard_token_cleanup(void *data)
{
    json_decref(data);
}


static ngx_uint_t
ngx_http_tenant_guard_token_mfa(ngx_http_tenant_guard_loc_conf_t *lcf,
    json_t *claims)
{
    ngx_str_t   *word;
    ngx_uint_t   i;

    word = lcf->mfa_amr->elts;

    for (i = 0; i < lcf->mfa_amr->nelts; i++) {
        if (tg_jwt_claim_has(claims, "amr", word[i].data, word[i].len)) {
            return 1;
        }
    }

    if (lcf->mfa_acr == NULL) {
        return 0;
    }

    word = lcf->mfa_acr->elts;

    for (i = 0; i < lcf->mfa_acr->nelts; i++) {
        if (tg_jwt_claim_has(claims, "acr", word[i].data, word[i].len)) {
            return 1;
        }
    }

    return 0;
}


/* NGX_OK: every scope is held; NGX_DECLINED: one is missing */

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
        if (!tg_jwt_claim_has(ctx->claims, "scope", scope[i].data,
                              scope[i].len))
        {
            return NGX_DECLINED;
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


tg_result_e
ngx_http_tenant_guard_token_bind(ngx_http_request_t *r,
    ngx_http_tenant_guard_loc_conf_t *lcf, ngx_http_tenant_guard_ctx_t *ctx)
{
    int                            rc;
    size_t                         len;
    ngx_str_t                      value, own;
    ngx_uint_t                     i;
    const char                    *claim;
    ngx_http_tenant_guard_bind_t  *bind;
    char                           buf[32];

    if (lcf->binds == NULL) {
        return TG_RESULT_ALLOW;
    }

    bind = lcf->binds->elts;

    if (!ngx_http_tenant_guard_path_canonical(r)) {
        ngx_str_set(&ctx->detail, "the request path is not canonical");
        return ngx_http_tenant_guard_mismatch[bind[0].kind];
    }

    for (i = 0; i < lcf->binds->nelts; i++) {

        if (ngx_http_complex_value(r, &bind[i].value, &value) != NGX_OK) {
            return TG_RESULT_UNAVAILABLE;
        }

        if (bind[i].kind == NGX_HTTP_TENANT_GUARD_BIND_CLAIM) {
            rc = tg_jwt_claim_text(ctx->claims, (char *) bind[i].claim.data,
                                   buf, sizeof(buf), &claim, &len);
            own.data = (u_char *) claim;
            own.len = (rc == 1) ? len : 0;

        } else {
            own = ctx->ids[bind[i].kind];
        }

        if (own.len == 0 || value.len != own.len
            || ngx_memcmp(value.data, own.data, own.len) != 0)
        {
            return ngx_http_tenant_guard_mismatch[bind[i].kind];
        }
    }

    return TG_RESULT_ALLOW;
}


/*
 * A bound id is taken from the normalized URI, while a backend may see
 * the raw one: where the two can differ (encoded '/', '.', '\', empty or dot
 * segments) the request is refused rather than guessed at.
 */

static ngx_uint_t
ngx_http_tenant_guard_path_canonical(ngx_http_request_t *r)
{
    u_char  *p, *end, c1, c2;

    p = r->unparsed_uri.data;
    end = p + r->unparsed_uri.len;

    if (r->args.len) {
        end = r->args.data - 1;
    }

    for ( /* void */ ; p < end; p++) {

        switch (*p) {

        case '%':
            if (end - p < 3) {
                return 0;
            }

            c1 = p[1];
            c2 = ngx_tolower(p[2]);

            if ((c1 == '2' && (c2 == 'f' || c2 == 'e'))
                || (c1 == '5' && c2 == 'c')
                || c1 == '0' || c1 == '1')
            {
                return 0;
            }

            break;

        case '\\':
            return 0;

        case '/':
            if (p + 1 < end && p[1] == '/') {
                return 0;
            }

            if (p + 1 < end && p[1] == '.'
                && (p + 2 == end || p[2] == '/'
                    || (p[2] == '.' && (p + 3 == end || p[3] == '/'))))
            {
                return 0;
            }

            break;
        }
    }

    return 1;
}
