
/*
 * Copyright (C) tenant_guard authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_tenant_guard_module.h"


#define NGX_HTTP_TENANT_GUARD_VAR_SCOPES    NGX_HTTP_TENANT_GUARD_NIDS
#define NGX_HTTP_TENANT_GUARD_VAR_MFA       (NGX_HTTP_TENANT_GUARD_NIDS + 1)
#define NGX_HTTP_TENANT_GUARD_VAR_TOKEN_ID  (NGX_HTTP_TENANT_GUARD_NIDS + 2)
#define NGX_HTTP_TENANT_GUARD_VAR_RESULT    (NGX_HTTP_TENANT_GUARD_NIDS + 3)

#define NGX_HTTP_TENANT_GUARD_CLAIM_PREFIX  "tenant_guard_claim_"


static ngx_int_t ngx_http_tenant_guard_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_tenant_guard_claim_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static void ngx_http_tenant_guard_variable_set(ngx_http_variable_value_t *v,
    u_char *data, size_t len);
static ngx_http_tenant_guard_ctx_t *ngx_http_tenant_guard_variable_kept(
    ngx_http_request_t *r);
static void ngx_http_tenant_guard_variable_keep_handler(void *data);


static ngx_http_variable_t  ngx_http_tenant_guard_vars[] = {

    { ngx_string("tenant_guard_workspace"), NULL,
      ngx_http_tenant_guard_variable, NGX_HTTP_TENANT_GUARD_WORKSPACE,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("tenant_guard_organization"), NULL,
      ngx_http_tenant_guard_variable, NGX_HTTP_TENANT_GUARD_ORGANIZATION,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("tenant_guard_integration"), NULL,
      ngx_http_tenant_guard_variable, NGX_HTTP_TENANT_GUARD_INTEGRATION,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("tenant_guard_subject"), NULL,
      ngx_http_tenant_guard_variable, NGX_HTTP_TENANT_GUARD_SUBJECT,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("tenant_guard_scopes"), NULL,
      ngx_http_tenant_guard_variable, NGX_HTTP_TENANT_GUARD_VAR_SCOPES,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("tenant_guard_mfa"), NULL,
      ngx_http_tenant_guard_variable, NGX_HTTP_TENANT_GUARD_VAR_MFA,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("tenant_guard_token_id"), NULL,
      ngx_http_tenant_guard_variable, NGX_HTTP_TENANT_GUARD_VAR_TOKEN_ID,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("tenant_guard_result"), NULL,
      ngx_http_tenant_guard_variable, NGX_HTTP_TENANT_GUARD_VAR_RESULT,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string(NGX_HTTP_TENANT_GUARD_CLAIM_PREFIX), NULL,
      ngx_http_tenant_guard_claim_variable, 0,
      NGX_HTTP_VAR_NOCACHEABLE|NGX_HTTP_VAR_PREFIX, 0 },

      ngx_http_null_variable
};


ngx_int_t
ngx_http_tenant_guard_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_tenant_guard_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_tenant_guard_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    const char                   *code;
    ngx_http_tenant_guard_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_tenant_guard_module);

    if (ctx == NULL) {
        ctx = ngx_http_tenant_guard_variable_kept(r);
    }

    /* the verdict: once the request is judged, past its revocation step */

    if (data == NGX_HTTP_TENANT_GUARD_VAR_RESULT) {
        if (ctx == NULL || ctx->step <= NGX_HTTP_TENANT_GUARD_STEP_REVOKED) {
            v->not_found = 1;
            return NGX_OK;
        }

        code = tg_result_get(ctx->result)->code;
        ngx_http_tenant_guard_variable_set(v, (u_char *) code,
                                           ngx_strlen(code));
        return NGX_OK;
    }

    /*
     * The token's values: read before the access phase (limit_req, map),
     * the token is judged now, once for the request (_source.c); they
     * are shown once its signature is verified, on a refusal too, never
     * from a client's header.
     */

    if (ngx_http_tenant_guard_token_early(r, &ctx) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ctx == NULL) {
        ctx = ngx_http_tenant_guard_variable_kept(r);

        if (ctx == NULL) {
            v->not_found = 1;
            return NGX_OK;
        }
    }

    if (data == NGX_HTTP_TENANT_GUARD_VAR_TOKEN_ID) {
        if (!ctx->judged
            && ctx->step <= NGX_HTTP_TENANT_GUARD_STEP_REVOKED)
        {
            v->not_found = 1;
            return NGX_OK;
        }

        ngx_http_tenant_guard_variable_set(v, ctx->token_id.data,
                                           ctx->token_id.len);
        return NGX_OK;
    }

    /* the token's own values: once its signature is verified */

    if (!ctx->verified) {
        v->not_found = 1;
        return NGX_OK;
    }

    switch (data) {

    case NGX_HTTP_TENANT_GUARD_VAR_SCOPES:
        ngx_http_tenant_guard_variable_set(v, ctx->scopes.data,
                                           ctx->scopes.len);
        break;

    case NGX_HTTP_TENANT_GUARD_VAR_MFA:
        if (ctx->mfa) {
            ngx_http_tenant_guard_variable_set(v, (u_char *) "true", 4);

        } else {
            ngx_http_tenant_guard_variable_set(v, (u_char *) "false", 5);
        }

        break;

    default:
        ngx_http_tenant_guard_variable_set(v, ctx->ids[data].data,
                                           ctx->ids[data].len);
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_tenant_guard_claim_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t *name = (ngx_str_t *) data;

    int                           rc;
    char                         *claim, *buf;
    tg_claims_t                  *claims;
    size_t                        len, prefix;
    const char                   *value;
    ngx_http_tenant_guard_ctx_t  *ctx;

    if (ngx_http_tenant_guard_token_early(r, &ctx) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ctx == NULL) {
        ctx = ngx_http_tenant_guard_variable_kept(r);
    }

    if (ctx == NULL || !ctx->verified) {
        v->not_found = 1;
        return NGX_OK;
    }

    claims = ngx_http_tenant_guard_token_claims_json(r, ctx);
    if (claims == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    prefix = sizeof(NGX_HTTP_TENANT_GUARD_CLAIM_PREFIX) - 1;

    claim = ngx_pnalloc(r->pool, name->len - prefix + 1);
    buf = ngx_pnalloc(r->pool, NGX_HTTP_TENANT_GUARD_MAX_CLAIM);

    if (claim == NULL || buf == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(claim, name->data + prefix, name->len - prefix);
    claim[name->len - prefix] = '\0';

    rc = tg_jwt_claim_value(claims, claim, buf,
                            NGX_HTTP_TENANT_GUARD_MAX_CLAIM, &value, &len);
    if (rc != 1) {
        v->not_found = 1;
        return NGX_OK;
    }

    ngx_http_tenant_guard_variable_set(v, (u_char *) value, len);

    return NGX_OK;
}


static void
ngx_http_tenant_guard_variable_set(ngx_http_variable_value_t *v,
    u_char *data, size_t len)
{
    if (data == NULL) {
        v->not_found = 1;
        return;
    }

    v->data = data;
    v->len = len;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;
}


/*
 * A refusal handed to an error_page: the internal redirect clears the
 * module's ctx, but the access log of the error page still describes the
 * refusal.  The ctx is kept in a pool cleanup (as the realip module keeps
 * its own), read by the variables only: never by a later access decision.
 */

ngx_int_t
ngx_http_tenant_guard_variables_keep(ngx_http_request_t *r,
    ngx_http_tenant_guard_ctx_t *ctx)
{
    ngx_pool_cleanup_t  *cln;

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    cln->handler = ngx_http_tenant_guard_variable_keep_handler;
    cln->data = ctx;

    return NGX_OK;
}


static ngx_http_tenant_guard_ctx_t *
ngx_http_tenant_guard_variable_kept(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t  *cln;

    if (!r->error_page) {
        return NULL;
    }

    for (cln = r->pool->cleanup; cln; cln = cln->next) {
        if (cln->handler == ngx_http_tenant_guard_variable_keep_handler) {
            return cln->data;
        }
    }

    return NULL;
}


static void
ngx_http_tenant_guard_variable_keep_handler(void *data)
{
    /* nothing to free: the mark of a kept ctx */
}
