
/*
 * Copyright (C) tenant_guard authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_tenant_guard_module.h"
#include "ngx_http_tenant_guard_keys.h"


/*
 * Where the token comes from (tenant_guard_token), and the token step's
 * verdict kept for the request: a $tenant_guard_* variable read before
 * the access phase (limit_req, map) judges the token on demand, and the
 * access step takes that verdict instead of judging it again.
 */

#define NGX_HTTP_TENANT_GUARD_SOURCE_BEARER  0
#define NGX_HTTP_TENANT_GUARD_SOURCE_HEADER  1
#define NGX_HTTP_TENANT_GUARD_SOURCE_COOKIE  2
#define NGX_HTTP_TENANT_GUARD_SOURCE_ARG     3


static ngx_int_t ngx_http_tenant_guard_source_bearer(ngx_http_request_t *r,
    ngx_str_t *token);
static ngx_int_t ngx_http_tenant_guard_source_header(ngx_http_request_t *r,
    ngx_str_t *name, ngx_str_t *token);
static ngx_int_t ngx_http_tenant_guard_source_cookie(ngx_http_request_t *r,
    ngx_str_t *name, ngx_str_t *token);
static ngx_int_t ngx_http_tenant_guard_source_arg(ngx_http_request_t *r,
    ngx_str_t *name, ngx_str_t *token);
static ngx_uint_t ngx_http_tenant_guard_source_arg_name(u_char *p,
    u_char *end, ngx_str_t *name);
static ngx_int_t ngx_http_tenant_guard_source_value(ngx_str_t *value,
    ngx_uint_t count, ngx_str_t *token);
static ngx_uint_t ngx_http_tenant_guard_source_token68(ngx_str_t *value);
static ngx_int_t ngx_http_tenant_guard_source_detail(ngx_http_request_t *r,
    ngx_http_tenant_guard_ctx_t *ctx, const char *what,
    ngx_http_tenant_guard_token_source_t *src);
static ngx_uint_t ngx_http_tenant_guard_source_name_ok(ngx_str_t *name,
    ngx_uint_t type);
static ngx_uint_t ngx_http_tenant_guard_source_same(
    ngx_http_tenant_guard_ctx_t *ctx, ngx_http_tenant_guard_loc_conf_t *lcf);
static void ngx_http_tenant_guard_source_unjudge(
    ngx_http_tenant_guard_loc_conf_t *lcf, ngx_http_tenant_guard_ctx_t *ctx);
static void ngx_http_tenant_guard_source_judged(
    ngx_http_tenant_guard_loc_conf_t *lcf, ngx_http_tenant_guard_ctx_t *ctx);
static u_char *ngx_http_tenant_guard_source_log_handler(
    ngx_http_request_t *r, ngx_http_request_t *sr, u_char *buf, size_t len);


static ngx_str_t  ngx_http_tenant_guard_source_prefixes[] = {
    ngx_string("bearer"),
    ngx_string("header="),
    ngx_string("cookie="),
    ngx_string("arg=")
};


static const char  *ngx_http_tenant_guard_source_names[] = {
    "the Authorization header (Bearer)",
    "header",
    "cookie",
    "query argument"
};


/*
 * The token of the first listed source that carries one.  NGX_OK: a
 * token; NGX_DECLINED: none (ctx->detail says where it was looked for,
 * or that a source carried it more than once: ambiguity is refused, not
 * resolved); NGX_BUSY: a value that is not a token (ctx->detail says
 * whose; *token is the value, for its digest); NGX_ERROR.
 */

ngx_int_t
ngx_http_tenant_guard_token_source(ngx_http_request_t *r,
    ngx_http_tenant_guard_loc_conf_t *lcf, ngx_http_tenant_guard_ctx_t *ctx,
    ngx_str_t *token)
{
    ngx_int_t                              rc;
    ngx_uint_t                             i;
    ngx_http_tenant_guard_token_source_t  *src;

    if (lcf->sources == NULL) {
        rc = ngx_http_tenant_guard_source_bearer(r, token);

        if (rc == NGX_BUSY) {
            ngx_str_set(&ctx->detail,
                        "the Authorization header is not a bearer token");
        }

        return rc;
    }

    src = lcf->sources->list->elts;

    for (i = 0; i < lcf->sources->list->nelts; i++) {

        switch (src[i].type) {

        case NGX_HTTP_TENANT_GUARD_SOURCE_BEARER:
            rc = ngx_http_tenant_guard_source_bearer(r, token);
            break;

        case NGX_HTTP_TENANT_GUARD_SOURCE_HEADER:
            rc = ngx_http_tenant_guard_source_header(r, &src[i].name, token);
            break;

        case NGX_HTTP_TENANT_GUARD_SOURCE_COOKIE:
            rc = ngx_http_tenant_guard_source_cookie(r, &src[i].name, token);
            break;

        default: /* NGX_HTTP_TENANT_GUARD_SOURCE_ARG */

            /* the query may hold a token: no error line shows it */

            r->main->log_handler = ngx_http_tenant_guard_source_log_handler;

            rc = ngx_http_tenant_guard_source_arg(r, &src[i].name, token);
            break;
        }

        switch (rc) {

        case NGX_DECLINED:
            continue;

        case NGX_OK:
            ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                           "tenant_guard: token from %s",
                           ngx_http_tenant_guard_source_names[src[i].type]);
            return NGX_OK;

        case NGX_ABORT:
            if (ngx_http_tenant_guard_source_detail(r, ctx,
                                                    "is given more than once",
                                                    &src[i])
                != NGX_OK)
            {
                return NGX_ERROR;
            }

            return NGX_DECLINED;

        case NGX_BUSY:
            if (ngx_http_tenant_guard_source_detail(r, ctx, "is not a token",
                                                    &src[i])
                != NGX_OK)
            {
                return NGX_ERROR;
            }

            return NGX_BUSY;

        default:
            return NGX_ERROR;
        }
    }

    ctx->detail = lcf->sources->text;

    return NGX_DECLINED;
}


/*
 * Called in the preaccess phase of every location: where a query argument
 * may carry the token, no error line of the request shows the query from
 * now on, also those written before the token step (limit_req, a banned
 * address) or when an earlier source carried the token.
 */

void
ngx_http_tenant_guard_token_source_log(ngx_http_request_t *r,
    ngx_http_tenant_guard_loc_conf_t *lcf)
{
    ngx_uint_t                             i;
    ngx_http_tenant_guard_token_source_t  *src;

    if (lcf->sources == NULL) {
        return;
    }

    src = lcf->sources->list->elts;

    for (i = 0; i < lcf->sources->list->nelts; i++) {
        if (src[i].type == NGX_HTTP_TENANT_GUARD_SOURCE_ARG) {
            r->main->log_handler = ngx_http_tenant_guard_source_log_handler;
            return;
        }
    }
}


/*
 * The token step: the verdict of a token judged already in this request
 * (by a variable read before the access phase), or a new one.
 */

ngx_int_t
ngx_http_tenant_guard_token_step(ngx_http_request_t *r,
    ngx_http_tenant_guard_loc_conf_t *lcf, ngx_http_tenant_guard_ctx_t *ctx)
{
    uint32_t   fingerprint;
    ngx_int_t  rc;

    if (ctx->judged && ngx_http_tenant_guard_source_same(ctx, lcf)) {

        /*
         * a variable never claims a refresh of the key set URL's keys:
         * the access step does, as for a token judged here, or no
         * request would ever refresh them; a verdict made under a set
         * replaced since is made again
         */

        if (ctx->keyed && lcf->keys_url != NULL) {
            fingerprint = ctx->fingerprint;

            rc = ngx_http_tenant_guard_keys_prepare(r, lcf, ctx);

            if (rc == NGX_ERROR) {
                return NGX_ERROR;
            }

            if (rc != NGX_OK || ctx->fingerprint != fingerprint) {
                goto again;
            }
        }

        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "tenant_guard: token judged before access");

        ctx->result = ctx->token_result;
        ctx->detail = ctx->token_detail;
        return NGX_OK;
    }

again:

    ngx_http_tenant_guard_source_unjudge(lcf, ctx);

    rc = ngx_http_tenant_guard_token_check(r, lcf, ctx);

    if (rc == NGX_OK) {
        ngx_http_tenant_guard_source_judged(lcf, ctx);
    }

    return rc;
}


/*
 * A variable read before the access phase: the token step runs now, with
 * the same code and zone, and its verdict is kept for the access phase.
 * A variable cannot wait, so a token only Redis can judge (an opaque
 * token) is left to the access step: until then the variables are empty.
 * The request's own verdict stays "allow" until the steps before the
 * token's have run (a banned address is refused as banned).
 */

ngx_int_t
ngx_http_tenant_guard_token_early(ngx_http_request_t *r,
    ngx_http_tenant_guard_ctx_t **ctxp)
{
    ngx_int_t                          rc;
    ngx_str_t                          token, detail;
    tg_result_e                        result;
    ngx_http_tenant_guard_ctx_t       *ctx;
    ngx_http_tenant_guard_loc_conf_t  *lcf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_tenant_guard_module);
    *ctxp = ctx;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_tenant_guard_module);

    if (ctx != NULL
        && ((ctx->judged && ngx_http_tenant_guard_source_same(ctx, lcf))
            || ctx->step > NGX_HTTP_TENANT_GUARD_STEP_TOKEN
            || ctx->ask.waiting || ctx->ask.answered
            || ctx->body == NGX_HTTP_TENANT_GUARD_BODY_READING))
    {
        return NGX_OK;
    }

    if (!lcf->enable) {
        return NGX_OK;
    }

    ctx = ngx_http_tenant_guard_get_ctx(r);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    *ctxp = ctx;

    result = ctx->result;
    detail = ctx->detail;

    rc = ngx_http_tenant_guard_token_source(r, lcf, ctx, &token);

    ctx->detail = detail;

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (rc == NGX_OK && lcf->opaque
        && !tg_jwt_is_compact(token.data, token.len))
    {
        return NGX_OK;
    }

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "tenant_guard: token judged for a variable");

    ngx_http_tenant_guard_source_unjudge(lcf, ctx);

    ctx->early = 1;
    ctx->deferred = 0;

    rc = ngx_http_tenant_guard_token_check(r, lcf, ctx);

    ctx->early = 0;

    if (rc == NGX_OK && ctx->deferred) {

        /*
         * a key set not fetched yet, or a kid the IdP may have since:
         * the access step judges the token, and may wait; until then the
         * variables are empty
         */

        ctx->deferred = 0;
        ctx->judged = 1;
        ngx_http_tenant_guard_source_unjudge(lcf, ctx);
        ctx->result = result;
        ctx->detail = detail;

        return NGX_OK;
    }

    if (rc != NGX_OK || ctx->ask.waiting) {

        /* cannot happen for a JWT; never leave a half-asked question */

        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "tenant_guard: a variable's token check did not "
                      "finish");
        return NGX_ERROR;
    }

    ngx_http_tenant_guard_source_judged(lcf, ctx);

    ctx->result = result;
    ctx->detail = detail;

    return NGX_OK;
}


/*
 * A verdict reached under another location's configuration (a variable
 * read in the server's rewrite phase, before the location was chosen) is
 * not this one's: the token is judged again, from nothing.
 */

static ngx_uint_t
ngx_http_tenant_guard_source_same(ngx_http_tenant_guard_ctx_t *ctx,
    ngx_http_tenant_guard_loc_conf_t *lcf)
{
    ngx_http_tenant_guard_loc_conf_t  *by;

    by = ctx->judged_by;

    /*
     * the fingerprint: keys, algorithms, issuer, audiences, claim names;
     * a key set URL is no part of it
     */

    return by == lcf
           || (by != NULL
               && by->fingerprint == lcf->fingerprint
               && by->keys_url == lcf->keys_url
               && by->sources == lcf->sources
               && by->opaque == lcf->opaque
               && by->max_token_size == lcf->max_token_size);
}


static void
ngx_http_tenant_guard_source_unjudge(ngx_http_tenant_guard_loc_conf_t *lcf,
    ngx_http_tenant_guard_ctx_t *ctx)
{
    if (!ctx->judged) {
        return;
    }

    ctx->judged = 0;
    ctx->verified = 0;
    ctx->from = NGX_HTTP_TENANT_GUARD_FROM_NONE;
    ctx->mfa = 0;
    ctx->claims = NULL;       /* freed with the pool */
    ngx_str_null(&ctx->payload);
    ngx_memzero(ctx->ids, sizeof(ctx->ids));
    ngx_str_null(&ctx->scopes);
    ngx_str_null(&ctx->token_id);
    ngx_str_null(&ctx->jti);
    ngx_str_null(&ctx->detail);
    ctx->exp = 0;
    ctx->iat = 0;
}


static void
ngx_http_tenant_guard_source_judged(ngx_http_tenant_guard_loc_conf_t *lcf,
    ngx_http_tenant_guard_ctx_t *ctx)
{
    ctx->judged = 1;
    ctx->judged_by = lcf;
    ctx->verified = (ctx->result == TG_RESULT_ALLOW);
    ctx->token_result = ctx->result;
    ctx->token_detail = ctx->detail;
}


/* NGX_OK, NGX_DECLINED: none, NGX_BUSY: not a token68 */

static ngx_int_t
ngx_http_tenant_guard_source_bearer(ngx_http_request_t *r, ngx_str_t *token)
{
    int               rc;
    size_t            len;
    ngx_table_elt_t  *h;
    const u_char     *p;

    h = r->headers_in.authorization;

    if (h == NULL) {
        return NGX_DECLINED;
    }

    rc = tg_request_bearer(h->value.data, h->value.len, &p, &len);

    if (rc == TG_BEARER_NONE) {
        return NGX_DECLINED;
    }

    token->data = (u_char *) p;
    token->len = len;

    return (rc == TG_BEARER_OK) ? NGX_OK : NGX_BUSY;
}


/*
 * A header of that name (any case): its value is the token, with or
 * without a "Bearer " scheme; twice is ambiguous (NGX_ABORT).
 */

static ngx_int_t
ngx_http_tenant_guard_source_header(ngx_http_request_t *r, ngx_str_t *name,
    ngx_str_t *token)
{
    int               rc;
    size_t            len;
    ngx_str_t         value;
    ngx_uint_t        i, count;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;
    const u_char     *p;

    count = 0;
    ngx_str_null(&value);

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == name->len
            && ngx_strncasecmp(h[i].key.data, name->data, name->len) == 0)
        {
            count++;
            value = h[i].value;
        }
    }

    if (count == 1) {
        rc = tg_request_bearer(value.data, value.len, &p, &len);

        if (rc != TG_BEARER_NONE) {
            token->data = (u_char *) p;
            token->len = len;
            return (rc == TG_BEARER_OK) ? NGX_OK : NGX_BUSY;
        }
    }

    return ngx_http_tenant_guard_source_value(&value, count, token);
}


/*
 * A cookie of that name (case-sensitive, RFC 6265) in any Cookie header;
 * twice, even with an empty value, is ambiguous.
 */

static ngx_int_t
ngx_http_tenant_guard_source_cookie(ngx_http_request_t *r, ngx_str_t *name,
    ngx_str_t *token)
{
    u_char           *p, *end, *start, *eq, *last;
    ngx_str_t         value;
    ngx_uint_t        i, count;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    count = 0;
    ngx_str_null(&value);

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len != 6
            || ngx_strncasecmp(h[i].key.data, (u_char *) "Cookie", 6) != 0)
        {
            continue;
        }

        p = h[i].value.data;
        end = p + h[i].value.len;

        while (p < end) {

            while (p < end && (*p == ' ' || *p == '\t' || *p == ';')) {
                p++;
            }

            start = p;

            while (p < end && *p != ';') {
                p++;
            }

            eq = ngx_strlchr(start, p, '=');
            if (eq == NULL) {
                continue;
            }

            /* the name, without the spaces before '=' */

            last = eq;

            while (last > start && (last[-1] == ' ' || last[-1] == '\t')) {
                last--;
            }

            if ((size_t) (last - start) == name->len
                && ngx_strncmp(start, name->data, name->len) == 0)
            {
                count++;
                value.data = eq + 1;
                value.len = p - (eq + 1);
            }
        }
    }

    return ngx_http_tenant_guard_source_value(&value, count, token);
}


/*
 * A query argument of that name, matched without case as $arg_NAME is,
 * and also under percent escapes; the value as sent, not decoded.  Twice
 * is ambiguous.  In a subrequest (an auth_request target) the client's
 * query is read: its token is what is being allowed, as bind paths read
 * the main request's path.
 */

static ngx_int_t
ngx_http_tenant_guard_source_arg(ngx_http_request_t *r, ngx_str_t *name,
    ngx_str_t *token)
{
    u_char      *p, *end, *start, *eq, *amp;
    ngx_str_t    value;
    ngx_uint_t   count;

    count = 0;
    ngx_str_null(&value);

    p = r->main->args.data;
    end = p + r->main->args.len;

    while (p < end) {
        start = p;

        amp = ngx_strlchr(start, end, '&');
        if (amp == NULL) {
            amp = end;
        }

        eq = ngx_strlchr(start, amp, '=');

        if (eq == NULL) {
            eq = amp;
        }

        if (ngx_http_tenant_guard_source_arg_name(start, eq, name)) {
            count++;
            value.data = (eq < amp) ? eq + 1 : eq;
            value.len = (eq < amp) ? (size_t) (amp - eq - 1) : 0;
        }

        p = amp + 1;
    }

    return ngx_http_tenant_guard_source_value(&value, count, token);
}


/*
 * Whether an argument's name, as sent, is NAME: without case, and with
 * its percent escapes decoded, as the upstream's query parser reads it
 * ("access%5Ftoken" is "access_token"), so that a second copy cannot hide
 * from the ambiguity check under an escape.
 */

static ngx_uint_t
ngx_http_tenant_guard_source_arg_name(u_char *p, u_char *end,
    ngx_str_t *name)
{
    u_char      c, h, l;
    ngx_uint_t  i;

    for (i = 0; p < end; i++) {
        c = *p++;

        if (c == '%' && end - p >= 2) {
            h = (u_char) (p[0] | 0x20);
            l = (u_char) (p[1] | 0x20);

            if (((h >= '0' && h <= '9') || (h >= 'a' && h <= 'f'))
                && ((l >= '0' && l <= '9') || (l >= 'a' && l <= 'f')))
            {
                c = (u_char) (((h <= '9') ? h - '0' : h - 'a' + 10) << 4
                              | ((l <= '9') ? l - '0' : l - 'a' + 10));
                p += 2;
            }
        }

        if (i == name->len || ngx_tolower(c) != ngx_tolower(name->data[i])) {
            return 0;
        }
    }

    return i == name->len;
}


/* the one value of a source: trimmed, empty as absent, a token68 */

static ngx_int_t
ngx_http_tenant_guard_source_value(ngx_str_t *value, ngx_uint_t count,
    ngx_str_t *token)
{
    if (count == 0) {
        return NGX_DECLINED;
    }

    if (count > 1) {
        return NGX_ABORT;
    }

    while (value->len && (value->data[0] == ' ' || value->data[0] == '\t')) {
        value->data++;
        value->len--;
    }

    while (value->len
           && (value->data[value->len - 1] == ' '
               || value->data[value->len - 1] == '\t'))
    {
        value->len--;
    }

    if (value->len == 0) {
        return NGX_DECLINED;
    }

    *token = *value;

    return ngx_http_tenant_guard_source_token68(value) ? NGX_OK : NGX_BUSY;
}


static ngx_uint_t
ngx_http_tenant_guard_source_token68(ngx_str_t *value)
{
    u_char      c;
    ngx_uint_t  i;

    for (i = 0; i < value->len; i++) {
        c = value->data[i];

        if (!ngx_http_tenant_guard_isalnum(c)
            && c != '-' && c != '.' && c != '_' && c != '~' && c != '+'
            && c != '/' && c != '=')
        {
            return 0;
        }
    }

    return 1;
}


static ngx_int_t
ngx_http_tenant_guard_source_detail(ngx_http_request_t *r,
    ngx_http_tenant_guard_ctx_t *ctx, const char *what,
    ngx_http_tenant_guard_token_source_t *src)
{
    size_t       len;
    const char  *kind;

    kind = ngx_http_tenant_guard_source_names[src->type];

    len = sizeof("the token in  \"\" ") + ngx_strlen(kind) + src->name.len
          + ngx_strlen(what);

    ctx->detail.data = ngx_pnalloc(r->pool, len);
    if (ctx->detail.data == NULL) {
        return NGX_ERROR;
    }

    if (src->type == NGX_HTTP_TENANT_GUARD_SOURCE_BEARER) {
        ctx->detail.len = ngx_sprintf(ctx->detail.data, "the token in %s %s",
                                      kind, what)
                          - ctx->detail.data;

    } else {
        ctx->detail.len = ngx_sprintf(ctx->detail.data,
                                      "the token in %s \"%V\" %s",
                                      kind, &src->name, what)
                          - ctx->detail.data;
    }

    return NGX_OK;
}


char *
ngx_http_tenant_guard_token_sources(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_tenant_guard_loc_conf_t *lcf = conf;

    u_char                                *p;
    size_t                                 len;
    ngx_str_t                             *value, *prefix;
    ngx_uint_t                             i, j, type;
    ngx_http_tenant_guard_sources_t       *sources;
    ngx_http_tenant_guard_token_source_t  *src, *other;

    if (lcf->sources != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    sources = ngx_pcalloc(cf->pool, sizeof(ngx_http_tenant_guard_sources_t));
    if (sources == NULL) {
        return NGX_CONF_ERROR;
    }

    sources->list = ngx_array_create(cf->pool, cf->args->nelts - 1,
                                 sizeof(ngx_http_tenant_guard_token_source_t));
    if (sources->list == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;
    len = sizeof("a token is required in: ");

    for (i = 1; i < cf->args->nelts; i++) {

        for (type = 0; type < 4; type++) {
            prefix = &ngx_http_tenant_guard_source_prefixes[type];

            if (value[i].len >= prefix->len
                && ngx_strncmp(value[i].data, prefix->data, prefix->len) == 0
                && (type != NGX_HTTP_TENANT_GUARD_SOURCE_BEARER
                    || value[i].len == prefix->len))
            {
                break;
            }
        }

        if (type == 4) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid token source \"%V\", must be "
                               "\"bearer\", \"header=NAME\", "
                               "\"cookie=NAME\" or \"arg=NAME\"", &value[i]);
            return NGX_CONF_ERROR;
        }

        src = ngx_array_push(sources->list);
        if (src == NULL) {
            return NGX_CONF_ERROR;
        }

        src->type = type;
        src->name.data = value[i].data + prefix->len;
        src->name.len = value[i].len - prefix->len;

        if (type != NGX_HTTP_TENANT_GUARD_SOURCE_BEARER
            && !ngx_http_tenant_guard_source_name_ok(&src->name, type))
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid token source \"%V\": bad or empty "
                               "name", &value[i]);
            return NGX_CONF_ERROR;
        }

        if (type == NGX_HTTP_TENANT_GUARD_SOURCE_HEADER
            && ((src->name.len == 13
                 && ngx_strncasecmp(src->name.data,
                                    (u_char *) "Authorization", 13) == 0)
                || (src->name.len == 6
                    && ngx_strncasecmp(src->name.data,
                                       (u_char *) "Cookie", 6) == 0)))
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid token source \"%V\": use \"bearer\" "
                               "or \"cookie=NAME\"", &value[i]);
            return NGX_CONF_ERROR;
        }

        other = sources->list->elts;

        for (j = 0; j + 1 < sources->list->nelts; j++) {
            if (other[j].type == type
                && other[j].name.len == src->name.len
                && ngx_strncasecmp(other[j].name.data, src->name.data,
                                   src->name.len) == 0)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "token source \"%V\" is listed twice",
                                   &value[i]);
                return NGX_CONF_ERROR;
            }
        }

        len += ngx_strlen(ngx_http_tenant_guard_source_names[type])
               + src->name.len + sizeof(" \"\", ");
    }

    sources->text.data = ngx_pnalloc(cf->pool, len);
    if (sources->text.data == NULL) {
        return NGX_CONF_ERROR;
    }

    p = ngx_cpymem(sources->text.data, "a token is required in: ",
                   sizeof("a token is required in: ") - 1);

    src = sources->list->elts;

    for (i = 0; i < sources->list->nelts; i++) {
        if (i) {
            p = ngx_cpymem(p, ", ", 2);
        }

        if (src[i].type == NGX_HTTP_TENANT_GUARD_SOURCE_BEARER) {
            p = ngx_sprintf(p, "%s",
                            ngx_http_tenant_guard_source_names[src[i].type]);

        } else {
            p = ngx_sprintf(p, "%s \"%V\"",
                            ngx_http_tenant_guard_source_names[src[i].type],
                            &src[i].name);
        }
    }

    sources->text.len = p - sources->text.data;

    lcf->sources = sources;

    return NGX_CONF_OK;
}


/*
 * Inherited as nginx's lists are; a header that is also a tenant header
 * is refused: its client copy is stripped before the access phase, so
 * whether it is read would depend on when a variable is.
 */

char *
ngx_http_tenant_guard_token_sources_merge(ngx_conf_t *cf,
    ngx_http_tenant_guard_loc_conf_t *prev,
    ngx_http_tenant_guard_loc_conf_t *conf)
{
    ngx_uint_t                             i, k;
    ngx_http_tenant_guard_token_source_t  *src;

    ngx_conf_merge_ptr_value(conf->sources, prev->sources, NULL);

    if (conf->sources == NULL) {
        return NGX_CONF_OK;
    }

    src = conf->sources->list->elts;

    for (i = 0; i < conf->sources->list->nelts; i++) {

        if (src[i].type != NGX_HTTP_TENANT_GUARD_SOURCE_HEADER) {
            continue;
        }

        for (k = 0; k < NGX_HTTP_TENANT_GUARD_NHEADERS; k++) {
            if (conf->headers[k].len == src[i].name.len
                && ngx_strncasecmp(conf->headers[k].data, src[i].name.data,
                                   src[i].name.len) == 0)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "token source header \"%V\" is a tenant "
                                   "header", &src[i].name);
                return NGX_CONF_ERROR;
            }
        }
    }

    return NGX_CONF_OK;
}


/* a header name as nginx reads one; a cookie or argument name: no
 * separator, space or control */

static ngx_uint_t
ngx_http_tenant_guard_source_name_ok(ngx_str_t *name, ngx_uint_t type)
{
    u_char      c;
    ngx_uint_t  i;

    if (name->len == 0) {
        return 0;
    }

    for (i = 0; i < name->len; i++) {
        c = name->data[i];

        if (type == NGX_HTTP_TENANT_GUARD_SOURCE_HEADER) {
            if (!ngx_http_tenant_guard_isalnum(c) && c != '-' && c != '_') {
                return 0;
            }

            continue;
        }

        if (c <= 0x20 || c >= 0x7f || c == ';' || c == ',' || c == '='
            || c == '&' || c == '"' || c == '#' || c == '?' || c == '%')
        {
            return 0;
        }
    }

    return 1;
}


/*
 * The end of an error line of a request whose query may carry a token
 * (arg=NAME), in place of nginx's: the request line without its query,
 * the upstream's address without its URI.
 */

static u_char *
ngx_http_tenant_guard_source_log_handler(ngx_http_request_t *r,
    ngx_http_request_t *sr, u_char *buf, size_t len)
{
    u_char                    *p, *q, *end;
    ngx_http_upstream_t       *u;
    ngx_http_core_srv_conf_t  *cscf;

    cscf = ngx_http_get_module_srv_conf(r, ngx_http_core_module);

    p = ngx_snprintf(buf, len, ", server: %V", &cscf->server_name);
    len -= p - buf;
    buf = p;

    if (r->request_line.len) {
        end = r->request_line.data + r->request_line.len;
        q = ngx_strlchr(r->request_line.data, end, '?');

        if (q == NULL) {
            p = ngx_snprintf(buf, len, ", request: \"%V\"",
                             &r->request_line);

        } else {

            /* the protocol after the query, if any */

            for (p = end; p > q && p[-1] != ' '; p--) { /* void */ }

            p = ngx_snprintf(buf, len, ", request: \"%*s?...%s%*s\"",
                             q - r->request_line.data, r->request_line.data,
                             (p > q) ? " " : "",
                             (p > q) ? (size_t) (end - p) : (size_t) 0, p);
        }

        len -= p - buf;
        buf = p;
    }

    u = sr ? sr->upstream : NULL;

    if (u && u->peer.name) {
        p = ngx_snprintf(buf, len, ", upstream: \"%V\"", u->peer.name);
        len -= p - buf;
        buf = p;
    }

    if (r->headers_in.host) {
        p = ngx_snprintf(buf, len, ", host: \"%V\"",
                         &r->headers_in.host->value);
    }

    return p;
}
