
/*
 * Copyright (C) tenant_guard authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_tenant_guard_module.h"
#include "ngx_http_tenant_guard_keys.h"
#include "ngx_http_tenant_guard_metrics.h"


/*
 * The access pipeline, in the order SPEC gives: a banned address is
 * refused before any other work, idleness is last so that a refused
 * request does not count as use.  "token" marks the steps that need
 * "tenant_guard on"; the others serve login endpoints too.
 */

typedef struct {
    ngx_http_tenant_guard_step_pt     handler;
    ngx_uint_t                        token;
} ngx_http_tenant_guard_step_t;


static ngx_int_t ngx_http_tenant_guard_refuse(ngx_http_request_t *r,
    ngx_http_tenant_guard_loc_conf_t *lcf, ngx_http_tenant_guard_ctx_t *ctx);
static ngx_int_t ngx_http_tenant_guard_challenge(ngx_http_request_t *r,
    ngx_http_tenant_guard_loc_conf_t *lcf, const tg_result_t *res,
    ngx_str_t *description);
static u_char *ngx_http_tenant_guard_quoted(u_char *p, ngx_str_t *s);
static ngx_uint_t ngx_http_tenant_guard_error_page(ngx_http_request_t *r,
    ngx_http_core_loc_conf_t *clcf, ngx_uint_t status);
static void ngx_http_tenant_guard_log_refusal(ngx_http_request_t *r,
    ngx_http_tenant_guard_loc_conf_t *lcf, ngx_http_tenant_guard_ctx_t *ctx,
    const tg_result_t *res);


static ngx_http_tenant_guard_step_t  ngx_http_tenant_guard_steps[] = {
    { ngx_http_tenant_guard_ban_address, 0 },     /* ..._STEP_ADDRESS */
    { ngx_http_tenant_guard_login_step, 0 },      /* ..._STEP_LOGIN */
    { ngx_http_tenant_guard_token_step, 1 },      /* ..._STEP_TOKEN */
    { ngx_http_tenant_guard_token_revoked, 1 },   /* ..._STEP_REVOKED */
    { ngx_http_tenant_guard_ban_subject, 1 },     /* ..._STEP_BAN */
    { ngx_http_tenant_guard_policy_check, 1 },    /* ..._STEP_POLICY */
    { ngx_http_tenant_guard_token_scopes, 1 },    /* ..._STEP_SCOPE */
    { ngx_http_tenant_guard_claims_check, 1 },    /* ..._STEP_CLAIMS */
    { ngx_http_tenant_guard_token_bind, 1 },      /* ..._STEP_BIND */
    { ngx_http_tenant_guard_policy_idle, 1 },     /* ..._STEP_IDLE */
    { ngx_http_tenant_guard_headers_set, 1 },     /* ..._STEP_HEADERS */
};


static ngx_str_t  ngx_http_tenant_guard_www_authenticate =
    ngx_string("WWW-Authenticate");
static ngx_str_t  ngx_http_tenant_guard_retry_after =
    ngx_string("Retry-After");
static ngx_str_t  ngx_http_tenant_guard_json_type =
    ngx_string("application/json");


ngx_int_t
ngx_http_tenant_guard_preaccess_handler(ngx_http_request_t *r)
{
    ngx_int_t                          rc;
    ngx_http_tenant_guard_ctx_t       *ctx;
    ngx_http_tenant_guard_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_tenant_guard_module);

    ngx_http_tenant_guard_token_source_log(r, lcf);

    /* a login's sources see the request as the client sent it */

    if (lcf->login != NULL) {
        ctx = ngx_http_tenant_guard_get_ctx(r);

        if (ctx == NULL
            || ngx_http_tenant_guard_login_sources(r, lcf, ctx) != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    if (ngx_http_tenant_guard_headers_strip(r, lcf) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /*
     * nginx runs no access handler in a subrequest: an auth_request target
     * with "tenant_guard on" is checked here instead, with the same steps.
     * Its refusal is its status, which auth_request hands on.
     */

    if (r != r->main && lcf->enable
        && !ngx_http_tenant_guard_keys_is_fetch(r))
    {
        rc = ngx_http_tenant_guard_access_handler(r);

        return (rc == NGX_OK) ? NGX_DECLINED : rc;
    }

    return NGX_DECLINED;
}


/*
 * Runs the steps from where the request is.  A step that waits (for Redis,
 * or for the body) leaves ctx->step as it is; the wake-up runs the phases
 * again and the same step reads what it waited for.  The verdict is
 * ctx->result: the first step that sets a refusal ends the pipeline.
 */

ngx_int_t
ngx_http_tenant_guard_access_handler(ngx_http_request_t *r)
{
    ngx_int_t                          rc;
    ngx_http_tenant_guard_ctx_t       *ctx;
    ngx_http_tenant_guard_step_t      *step;
    ngx_http_tenant_guard_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_tenant_guard_module);

    if (!lcf->enable && lcf->login == NULL) {
        return NGX_DECLINED;
    }

    ctx = ngx_http_tenant_guard_get_ctx(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ctx->ask.waiting) {
        return ngx_http_tenant_guard_store_suspend(r);
    }

    while (ctx->step < NGX_HTTP_TENANT_GUARD_STEP_DONE) {
        step = &ngx_http_tenant_guard_steps[ctx->step];

        if (step->token && !lcf->enable) {
            return NGX_DECLINED;
        }

        rc = step->handler(r, lcf, ctx);

        if (rc == NGX_AGAIN) {
            return ngx_http_tenant_guard_store_suspend(r);
        }

        if (rc == NGX_DONE) {
            return NGX_DONE;
        }

        if (rc == NGX_ERROR) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (rc != NGX_OK) {
            return rc;
        }

        if (ctx->result != TG_RESULT_ALLOW) {
            ctx->step = NGX_HTTP_TENANT_GUARD_STEP_DONE;

            return ngx_http_tenant_guard_refuse(r, lcf, ctx);
        }

        ctx->step++;
    }

    /* run again after a refusal (nothing in nginx does): still refused */

    if (ctx->result != TG_RESULT_ALLOW) {
        return tg_result_get(ctx->result)->status;
    }

    if (!lcf->enable) {
        return NGX_DECLINED;
    }

    ngx_http_tenant_guard_metrics_decision(r, ctx);

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "tenant_guard: allowed, token_id: %V", &ctx->token_id);

    return NGX_OK;
}


ngx_http_tenant_guard_ctx_t *
ngx_http_tenant_guard_get_ctx(ngx_http_request_t *r)
{
    ngx_http_tenant_guard_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_tenant_guard_module);
    if (ctx != NULL) {
        return ctx;
    }

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_tenant_guard_ctx_t));
    if (ctx == NULL) {
        return NULL;
    }

    ngx_http_set_ctx(r, ctx, ngx_http_tenant_guard_module);

    return ctx;
}


/*
 * Every refusal: one info line, the challenge, and a JSON body sent from
 * here so that nothing reaches the upstream.  Under "satisfy any" the
 * status is returned instead, so another access module may still allow.
 */

static ngx_int_t
ngx_http_tenant_guard_refuse(ngx_http_request_t *r,
    ngx_http_tenant_guard_loc_conf_t *lcf, ngx_http_tenant_guard_ctx_t *ctx)
{
    u_char                    *p;
    size_t                     len;
    ngx_int_t                  rc;
    ngx_buf_t                 *b;
    ngx_str_t                  description, code, value;
    ngx_chain_t                out;
    const tg_result_t         *res;
    ngx_http_core_loc_conf_t  *clcf;

    /* a token that is not good counts toward the address's ban */

    if (ctx->result == TG_RESULT_INVALID_TOKEN) {
        ngx_http_tenant_guard_ban_fail(r, ctx, &ctx->login_ws, 0);
    }

    res = tg_result_get(ctx->result);

    if (ctx->detail.len) {
        description = ctx->detail;

    } else {
        description.data = (u_char *) res->description;
        description.len = ngx_strlen(res->description);
    }

    ngx_http_tenant_guard_metrics_decision(r, ctx);

    ngx_http_tenant_guard_log_refusal(r, lcf, ctx, res);

    if (ngx_http_tenant_guard_challenge(r, lcf, res, &description)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ctx->result == TG_RESULT_BANNED) {
        value.data = ngx_pnalloc(r->pool, NGX_TIME_T_LEN);
        if (value.data == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        value.len = ngx_sprintf(value.data, "%T", ctx->retry) - value.data;

        if (ngx_http_tenant_guard_headers_out(r,
                                             &ngx_http_tenant_guard_retry_after,
                                             &value)
            == NULL)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    /*
     * An error_page for the status takes over; the headers stay.  Not in
     * a subrequest: its status is the verdict (auth_request), and an
     * error page that answers 2xx would turn the refusal into an allow;
     * nor does "satisfy any" mean anything there (no access phase).
     */

    if (r == r->main && clcf->satisfy == NGX_HTTP_SATISFY_ANY) {
        return res->status;
    }

    if (r == r->main
        && ngx_http_tenant_guard_error_page(r, clcf, res->status))
    {
        return (ngx_http_tenant_guard_variables_keep(r, ctx) == NGX_OK)
               ? (ngx_int_t) res->status : NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    code.data = (u_char *) res->code;
    code.len = ngx_strlen(res->code);

    len = sizeof("{\"error\":\"\",\"error_description\":\"\"}\n") - 1
          + code.len + description.len
          + ngx_escape_json(NULL, description.data, description.len);

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_sprintf(b->last, "{\"error\":\"%V\",\"error_description\":\"",
                    &code);
    p = (u_char *) ngx_escape_json(p, description.data, description.len);
    b->last = ngx_cpymem(p, "\"}\n", 3);
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        r->keepalive = 0;
    }

    r->headers_out.status = res->status;
    r->headers_out.content_type = ngx_http_tenant_guard_json_type;
    r->headers_out.content_type_len = ngx_http_tenant_guard_json_type.len;
    r->headers_out.content_length_n = b->last - b->pos;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        ngx_http_finalize_request(r, rc);
        return NGX_DONE;
    }

    out.buf = b;
    out.next = NULL;

    ngx_http_finalize_request(r, ngx_http_output_filter(r, &out));

    return NGX_DONE;
}


static ngx_int_t
ngx_http_tenant_guard_challenge(ngx_http_request_t *r,
    ngx_http_tenant_guard_loc_conf_t *lcf, const tg_result_t *res,
    ngx_str_t *description)
{
    u_char           *p;
    size_t            len;
    ngx_str_t         value, *word;
    ngx_uint_t        i;
    ngx_array_t      *words;
    ngx_table_elt_t  *h;

    if (res->challenge == TG_CHALLENGE_NONE) {
        return NGX_OK;
    }

    words = NULL;

    if (res->challenge == TG_CHALLENGE_SCOPE) {
        words = lcf->scopes;

    } else if (res->challenge == TG_CHALLENGE_ACR) {
        words = lcf->mfa_acr;
    }

    len = sizeof("Bearer realm=\"\"") + lcf->realm.len
          + sizeof(", error=\"\", error_description=\"\"") + 64
          + description->len + sizeof(", acr_values=\"\"");

    if (words != NULL) {
        word = words->elts;

        for (i = 0; i < words->nelts; i++) {
            len += word[i].len + 1;
        }
    }

    value.data = ngx_pnalloc(r->pool, len);
    if (value.data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(value.data, "Bearer realm=\"", 14);
    p = ngx_http_tenant_guard_quoted(p, &lcf->realm);
    *p++ = '"';

    if (res->challenge != TG_CHALLENGE_BEARER) {
        p = ngx_sprintf(p, ", error=\"%s\"", res->code);
    }

    /* the scope challenge names the scopes, which say it all */

    if (res->challenge != TG_CHALLENGE_BEARER
        && res->challenge != TG_CHALLENGE_SCOPE)
    {
        p = ngx_cpymem(p, ", error_description=\"", 21);
        p = ngx_http_tenant_guard_quoted(p, description);
        *p++ = '"';
    }

    if (words != NULL && words->nelts) {
        p = (res->challenge == TG_CHALLENGE_SCOPE)
            ? ngx_cpymem(p, ", scope=\"", 9)
            : ngx_cpymem(p, ", acr_values=\"", 14);

        word = words->elts;

        for (i = 0; i < words->nelts; i++) {
            if (i) {
                *p++ = ' ';
            }

            p = ngx_http_tenant_guard_quoted(p, &word[i]);
        }

        *p++ = '"';
    }

    value.len = p - value.data;

    /* refused again after an error_page redirect: one challenge */

    if (r->headers_out.www_authenticate != NULL) {
        r->headers_out.www_authenticate->value = value;
        return NGX_OK;
    }

    h = ngx_http_tenant_guard_headers_out(r,
                                     &ngx_http_tenant_guard_www_authenticate,
                                     &value);
    if (h == NULL) {
        return NGX_ERROR;
    }

    r->headers_out.www_authenticate = h;

    return NGX_OK;
}


/* the text of a quoted-string with no '"' or '\' to escape (RFC 9110) */

static u_char *
ngx_http_tenant_guard_quoted(u_char *p, ngx_str_t *s)
{
    ngx_uint_t  i;

    for (i = 0; i < s->len; i++) {
        *p++ = (s->data[i] == '"' || s->data[i] == '\\'
                || s->data[i] < 0x20) ? '\'' : s->data[i];
    }

    return p;
}


/* whether nginx would send an error_page of this location for status */

static ngx_uint_t
ngx_http_tenant_guard_error_page(ngx_http_request_t *r,
    ngx_http_core_loc_conf_t *clcf, ngx_uint_t status)
{
    ngx_uint_t            i;
    ngx_http_err_page_t  *err_page;

    if (clcf->error_pages == NULL
        || (r->error_page && !clcf->recursive_error_pages))
    {
        return 0;
    }

    err_page = clcf->error_pages->elts;

    for (i = 0; i < clcf->error_pages->nelts; i++) {
        if ((ngx_uint_t) err_page[i].status == status) {
            return 1;
        }
    }

    return 0;
}


/*
 * The one line of a refusal, at tenant_guard_log_level: the workspace once
 * the token is verified, the reason, the token id; nginx adds the client
 * address.  The workspace is a claim: a quote or a control byte is masked.
 */

static void
ngx_http_tenant_guard_log_refusal(ngx_http_request_t *r,
    ngx_http_tenant_guard_loc_conf_t *lcf, ngx_http_tenant_guard_ctx_t *ctx,
    const tg_result_t *res)
{
    size_t      i;
    ngx_str_t   ws, detail, *id;
    u_char      buf[NGX_HTTP_TENANT_GUARD_MAX_CLAIM];

    if (r->connection->log->log_level < lcf->log_level) {
        return;
    }

    id = &ctx->ids[NGX_HTTP_TENANT_GUARD_WORKSPACE];

    ws.len = ngx_min(id->len, sizeof(buf));
    ws.data = buf;

    for (i = 0; i < ws.len; i++) {
        buf[i] = (id->data[i] <= 0x20 || id->data[i] == 0x7f
                  || id->data[i] == '"')
                 ? '?' : id->data[i];
    }

    /*
     * The detail may quote an unverified token (a JSON parser's "near
     * '...'"): a control byte or one past ASCII is masked too.
     */

    detail.len = ctx->detail.len;
    detail.data = ngx_pnalloc(r->pool, detail.len + 1);
    if (detail.data == NULL) {
        return;
    }

    for (i = 0; i < detail.len; i++) {
        detail.data[i] = (ctx->detail.data[i] < 0x20
                          || ctx->detail.data[i] >= 0x7f)
                         ? '?' : ctx->detail.data[i];
    }

    /* the workspace goes first: the "tenant_guard: ..." text stays as it was */

    ngx_log_error(lcf->log_level, r->connection->log, 0,
                  "%s%V%stenant_guard: %s%s%V%s%V",
                  ws.len ? "workspace=" : "", &ws, ws.len ? " " : "",
                  res->reason, detail.len ? ": " : "", &detail,
                  ctx->token_id.len ? ", token_id: " : "", &ctx->token_id);
}
