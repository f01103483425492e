
/*
 * Copyright (C) tenant_guard authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_tenant_guard_module.h"
#include "ngx_http_tenant_guard_metrics.h"


/* what a source gave: a value, none, or a body that cannot be read */
#define NGX_HTTP_TENANT_GUARD_SOURCE_OK       0
#define NGX_HTTP_TENANT_GUARD_SOURCE_NONE     1
#define NGX_HTTP_TENANT_GUARD_SOURCE_BAD      2


static char *ngx_http_tenant_guard_login_body_max_check(ngx_conf_t *cf,
    void *post, void *data);
static char *ngx_http_tenant_guard_login_source(ngx_conf_t *cf,
    ngx_http_tenant_guard_source_t *src, ngx_str_t *value);
static void ngx_http_tenant_guard_login_body_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_tenant_guard_login_body_filter(
    ngx_http_request_t *r, ngx_chain_t *in);
static ngx_int_t ngx_http_tenant_guard_login_identify(ngx_http_request_t *r,
    ngx_http_tenant_guard_loc_conf_t *lcf, ngx_http_tenant_guard_ctx_t *ctx);
static ngx_int_t ngx_http_tenant_guard_login_refuse(ngx_http_request_t *r,
    ngx_http_tenant_guard_ctx_t *ctx, ngx_str_t *ws, const char *why);
static ngx_int_t ngx_http_tenant_guard_login_value(ngx_http_request_t *r,
    ngx_http_tenant_guard_ctx_t *ctx, ngx_http_tenant_guard_source_t *src,
    ngx_str_t *value, ngx_uint_t *what);
static const char *ngx_http_tenant_guard_login_framing(ngx_http_request_t *r);
static ngx_uint_t ngx_http_tenant_guard_login_query(ngx_http_request_t *r,
    ngx_http_tenant_guard_source_t *src);
static const char *ngx_http_tenant_guard_login_bad(ngx_http_request_t *r,
    ngx_http_tenant_guard_ctx_t *ctx, ngx_http_tenant_guard_source_t *src);
static ngx_int_t ngx_http_tenant_guard_login_normalize(ngx_http_request_t *r,
    ngx_str_t *value, const char **why);
static ngx_int_t ngx_http_tenant_guard_login_header_filter(
    ngx_http_request_t *r);
static void ngx_http_tenant_guard_login_outcome(ngx_http_request_t *r,
    ngx_http_tenant_guard_ctx_t *ctx);
static void ngx_http_tenant_guard_login_reset(ngx_http_request_t *r,
    ngx_http_tenant_guard_ctx_t *ctx);


ngx_conf_post_t  ngx_http_tenant_guard_login_body_max_post = {
    ngx_http_tenant_guard_login_body_max_check
};


static ngx_str_t  ngx_http_tenant_guard_reset_header =
    ngx_string("X-Tenant-Guard-Reset");


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;
static ngx_http_request_body_filter_pt   ngx_http_next_request_body_filter;


/*
 * tenant_guard_login identifier=SRC [workspace=SRC] [fail=CODES]
 * tenant_guard_password_reset identifier=SRC [workspace=SRC]
 */

char *
ngx_http_tenant_guard_login(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_tenant_guard_loc_conf_t *lcf = conf;

    ngx_int_t                       code;
    ngx_str_t                      *value, s;
    ngx_uint_t                      i, j, in_fail, *n;
    ngx_http_tenant_guard_login_t  *login;

    if (lcf->login != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    login = ngx_pcalloc(cf->pool, sizeof(ngx_http_tenant_guard_login_t));
    if (login == NULL) {
        return NGX_CONF_ERROR;
    }

    login->reset = (cmd->name.len == sizeof("tenant_guard_password_reset") - 1);

    login->fail = ngx_array_create(cf->pool, 4, sizeof(ngx_uint_t));
    if (login->fail == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;
    in_fail = 0;

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "identifier=", 11) == 0) {
            s.data = value[i].data + 11;
            s.len = value[i].len - 11;

            if (ngx_http_tenant_guard_login_source(cf, &login->identifier, &s)
                != NGX_CONF_OK)
            {
                return NGX_CONF_ERROR;
            }

            in_fail = 0;
            continue;
        }

        if (ngx_strncmp(value[i].data, "workspace=", 10) == 0) {
            s.data = value[i].data + 10;
            s.len = value[i].len - 10;

            if (ngx_http_tenant_guard_login_source(cf, &login->workspace, &s)
                != NGX_CONF_OK)
            {
                return NGX_CONF_ERROR;
            }

            in_fail = 0;
            continue;
        }

        if (!login->reset && ngx_strncmp(value[i].data, "fail=", 5) == 0) {
            s.data = value[i].data + 5;
            s.len = value[i].len - 5;
            in_fail = 1;

        } else if (in_fail) {
            s = value[i];

        } else {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\"", &value[i]);
            return NGX_CONF_ERROR;
        }

        /* fail=401,403 or fail=401 403 */

        for (j = 0; j <= s.len; /* void */ ) {
            ngx_uint_t  k = j;

            while (k < s.len && s.data[k] != ',') {
                k++;
            }

            code = ngx_atoi(s.data + j, k - j);

            if (code < 100 || code > 599) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid status code in \"%V\"",
                                   &value[i]);
                return NGX_CONF_ERROR;
            }

            n = ngx_array_push(login->fail);
            if (n == NULL) {
                return NGX_CONF_ERROR;
            }

            *n = (ngx_uint_t) code;
            j = k + 1;
        }
    }

    if (login->identifier.cv == NULL && login->identifier.field.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" needs an \"identifier=\" parameter",
                           &cmd->name);
        return NGX_CONF_ERROR;
    }

    if (login->fail->nelts == 0) {
        n = ngx_array_push_n(login->fail, 2);
        if (n == NULL) {
            return NGX_CONF_ERROR;
        }

        n[0] = NGX_HTTP_UNAUTHORIZED;
        n[1] = NGX_HTTP_FORBIDDEN;
    }

    /* a reset is judged by its response; only its workspace is read */

    login->body = (login->workspace.field.len
                   || (!login->reset && login->identifier.field.len));

    lcf->login = login;

    return NGX_CONF_OK;
}


/* tenant_guard_login_body_max: a login body is kept in memory */

static char *
ngx_http_tenant_guard_login_body_max_check(ngx_conf_t *cf, void *post,
    void *data)
{
    size_t  *sp = data;

    if (*sp == 0 || *sp > 1024 * 1024) {
        return "must be from 1 to 1m";
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_tenant_guard_login_source(ngx_conf_t *cf,
    ngx_http_tenant_guard_source_t *src, ngx_str_t *value)
{
    ngx_http_compile_complex_value_t  ccv;

    if (value->len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "empty source");
        return NGX_CONF_ERROR;
    }

    if (value->len >= 5 && ngx_strncmp(value->data, "body:", 5) == 0) {

        if (value->len == 5) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"body:\" names no field");
            return NGX_CONF_ERROR;
        }

        /* the argument ends in NUL, as jansson wants the field's name */

        src->field.data = value->data + 5;
        src->field.len = value->len - 5;
        return NGX_CONF_OK;
    }

    src->cv = ngx_palloc(cf->pool, sizeof(ngx_http_complex_value_t));
    if (src->cv == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

    ccv.cf = cf;
    ccv.value = value;
    ccv.complex_value = src->cv;

    if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


ngx_int_t
ngx_http_tenant_guard_login_init(ngx_conf_t *cf)
{
    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_tenant_guard_login_header_filter;

    ngx_http_next_request_body_filter = ngx_http_top_request_body_filter;
    ngx_http_top_request_body_filter =
                                      ngx_http_tenant_guard_login_body_filter;

    return NGX_OK;
}


/*
 * The login step of a login or reset endpoint: its body is read while the
 * request waits, then its identifier is read, normalized and looked up.
 * A login whose identifier cannot be read is refused and counted for its
 * address; a banned one is refused; any other starts an attempt.  A reset
 * is never refused: its response says what it lifts.
 */

ngx_int_t
ngx_http_tenant_guard_login_step(ngx_http_request_t *r,
    ngx_http_tenant_guard_loc_conf_t *lcf, ngx_http_tenant_guard_ctx_t *ctx)
{
    ngx_int_t  rc;

    /* a login is the client's request, never a subrequest */

    if (lcf->login == NULL || r != r->main) {
        return NGX_OK;
    }

    if (lcf->login->body) {

        switch (ctx->body) {

        case NGX_HTTP_TENANT_GUARD_BODY_NONE:

            /* a body announced over the bound is not read at all */

            if (r->headers_in.content_length_n > (off_t) lcf->login_body_max)
            {
                ctx->body = NGX_HTTP_TENANT_GUARD_BODY_READ;
                ctx->body_over = 1;
                break;
            }

            ctx->body = NGX_HTTP_TENANT_GUARD_BODY_READING;

            /* the body filter keeps it in memory: never a temporary file */

            r->request_body_in_file_only = 0;

            rc = ngx_http_read_client_request_body(r,
                                     ngx_http_tenant_guard_login_body_handler);
            if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
                return rc;
            }

            ngx_http_finalize_request(r, NGX_DONE);
            return NGX_DONE;

        case NGX_HTTP_TENANT_GUARD_BODY_READING:
            return NGX_DONE;
        }
    }

    return ngx_http_tenant_guard_login_identify(r, lcf, ctx);
}


/*
 * The body the login location reads: what nginx has read is copied into
 * a buffer of the request's own, at most tenant_guard_login_body_max
 * bytes, and nginx's buffers are given back at once, so that nothing is
 * written to a temporary file whatever the framing (many small chunks) or
 * client_body_buffer_size; the body handler hands the copy on upstream.
 * Past the bound the rest is read and dropped: the login is refused.
 */

static ngx_int_t
ngx_http_tenant_guard_login_body_filter(ngx_http_request_t *r,
    ngx_chain_t *in)
{
    size_t                             size;
    ngx_buf_t                         *b, *lb;
    ngx_chain_t                       *cl, last;
    ngx_http_tenant_guard_ctx_t       *ctx;
    ngx_http_tenant_guard_loc_conf_t  *lcf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_tenant_guard_module);

    if (ctx == NULL || ctx->body != NGX_HTTP_TENANT_GUARD_BODY_READING
        || r != r->main)
    {
        return ngx_http_next_request_body_filter(r, in);
    }

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_tenant_guard_module);

    if (ctx->body_buf == NULL) {
        ctx->body_buf = ngx_pnalloc(r->pool, lcf->login_body_max);
        if (ctx->body_buf == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    for (cl = in; cl; cl = cl->next) {
        b = cl->buf;

        if (b->in_file && !ngx_buf_in_memory(b)) {
            ctx->body_over = 1;
            b->file_pos = b->file_last;
        }

        if (ngx_buf_in_memory(b)) {
            size = b->last - b->pos;

            if (!ctx->body_over && size > lcf->login_body_max - ctx->body_len)
            {
                ctx->body_over = 1;
            }

            if (!ctx->body_over) {
                ngx_memcpy(ctx->body_buf + ctx->body_len, b->pos, size);
                ctx->body_len += size;
            }

            b->pos = b->last;
        }

        if (b->last_buf) {

            /* the end, as a buffer with no data: nginx's is given back */

            lb = ngx_calloc_buf(r->pool);
            if (lb == NULL) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            lb->last_buf = 1;

            last.buf = lb;
            last.next = NULL;

            return ngx_http_next_request_body_filter(r, &last);
        }
    }

    return ngx_http_next_request_body_filter(r, NULL);
}


static void
ngx_http_tenant_guard_login_body_handler(ngx_http_request_t *r)
{
    ngx_buf_t                    *b;
    ngx_chain_t                  *cl;
    ngx_http_tenant_guard_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_tenant_guard_module);
    ctx->body = NGX_HTTP_TENANT_GUARD_BODY_READ;

    /* the copy goes upstream in place of the buffers given back */

    if (ctx->body_len && !ctx->body_over && r->request_body != NULL) {
        b = ngx_calloc_buf(r->pool);
        cl = ngx_alloc_chain_link(r->pool);

        if (b == NULL || cl == NULL) {
            ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        b->start = ctx->body_buf;
        b->pos = b->start;
        b->last = b->start + ctx->body_len;
        b->end = b->last;
        b->temporary = 1;

        cl->buf = b;
        cl->next = r->request_body->bufs;
        r->request_body->bufs = cl;
    }

    r->preserve_body = 1;
    r->write_event_handler = ngx_http_core_run_phases;
    ngx_http_core_run_phases(r);
}


/*
 * The variable sources, evaluated in the preaccess phase before the
 * tenant headers are stripped: $http_x_workspace_id is the client's.
 */

ngx_int_t
ngx_http_tenant_guard_login_sources(ngx_http_request_t *r,
    ngx_http_tenant_guard_loc_conf_t *lcf, ngx_http_tenant_guard_ctx_t *ctx)
{
    ngx_uint_t                      what;
    ngx_http_tenant_guard_login_t  *login;

    login = lcf->login;

    if (ctx->login_sources) {
        return NGX_OK;
    }

    ctx->login_sources = 1;

    if (login->workspace.cv != NULL
        && ngx_http_tenant_guard_login_value(r, ctx, &login->workspace,
                                             &ctx->login_ws, &what)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (login->identifier.cv != NULL
        && ngx_http_tenant_guard_login_value(r, ctx, &login->identifier,
                                             &ctx->login_id, &what)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_tenant_guard_login_identify(ngx_http_request_t *r,
    ngx_http_tenant_guard_loc_conf_t *lcf, ngx_http_tenant_guard_ctx_t *ctx)
{
    ngx_int_t                       rc;
    ngx_str_t                       id, ws;
    ngx_uint_t                      what;
    const char                     *why;
    const tg_policy_t              *policy;
    const tg_ban_settings_t        *ws_ban;
    ngx_http_tenant_guard_login_t  *login;

    login = lcf->login;

    ws = ctx->login_ws;
    id = ctx->login_id;

    /* a reset's workspace, as far as it can be read: it is never refused */

    if (login->workspace.cv == NULL) {
        if (ngx_http_tenant_guard_login_value(r, ctx, &login->workspace,
                                              &ws, &what)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        if (what == NGX_HTTP_TENANT_GUARD_SOURCE_BAD) {
            ngx_str_null(&ws);

            if (!login->reset) {
                return ngx_http_tenant_guard_login_refuse(r, ctx, &ws,
                                  ngx_http_tenant_guard_login_bad(r, ctx,
                                                          &login->workspace));
            }
        }
    }

    ctx->login_ws = ws;

    if (login->reset) {
        ctx->login = login;
        return NGX_OK;
    }

    what = id.len ? NGX_HTTP_TENANT_GUARD_SOURCE_OK
                  : NGX_HTTP_TENANT_GUARD_SOURCE_NONE;

    if (login->identifier.cv == NULL
        && ngx_http_tenant_guard_login_value(r, ctx, &login->identifier, &id,
                                             &what)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (what == NGX_HTTP_TENANT_GUARD_SOURCE_BAD) {
        return ngx_http_tenant_guard_login_refuse(r, ctx, &ws,
                                  ngx_http_tenant_guard_login_bad(r, ctx,
                                                        &login->identifier));
    }

    if (what == NGX_HTTP_TENANT_GUARD_SOURCE_NONE) {
        return ngx_http_tenant_guard_login_refuse(r, ctx, &ws,
                                         "the login has no identifier");
    }

    if (ngx_http_tenant_guard_login_normalize(r, &id, &why) != NGX_OK) {
        if (why == NULL) {
            return NGX_ERROR;
        }

        return ngx_http_tenant_guard_login_refuse(r, ctx, &ws, why);
    }

    /*
     * In Redis mode the workspace's "ban" is the control plane's; asked
     * once, since the steps after it may put other questions to Redis.
     */

    if (!ctx->login_ban_known) {
        rc = ngx_http_tenant_guard_store_policy(r, ctx, &ws, &policy);

        switch (rc) {

        case NGX_OK:
            ctx->login_ban = policy->has_ban
                ? &policy->ban
                : &ngx_http_tenant_guard_policy_file_find(r, NULL)->ban;
            break;

        case NGX_AGAIN:
        case NGX_ERROR:
            return rc;

        case NGX_ABORT:

            /*
             * An invalid one refuses the workspace's logins as it refuses
             * its tokens: the file's settings may be weaker than the
             * control plane meant.
             */

            ctx->result = TG_RESULT_UNAVAILABLE;
            ngx_str_set(&ctx->detail, "the workspace's policy is invalid");
            return NGX_OK;

        default:

            /* none in Redis, or Redis cannot say: the file's settings */

            break;
        }

        ctx->login_ban_known = 1;
    }

    ws_ban = ctx->login_ban;

    ngx_http_tenant_guard_ban_identifier(r, ctx, &ws, &id);

    rc = ngx_http_tenant_guard_ban_attempt(r, ctx, &ws, ws_ban);
    if (rc != NGX_OK) {
        return rc;
    }

    /* a banned login is refused: its outcome is not watched */

    if (ctx->result == TG_RESULT_ALLOW) {
        ctx->login = login;
    }

    return NGX_OK;
}


/* an identifier that cannot be determined: 400, counted for the address */

static ngx_int_t
ngx_http_tenant_guard_login_refuse(ngx_http_request_t *r,
    ngx_http_tenant_guard_ctx_t *ctx, ngx_str_t *ws, const char *why)
{
    ngx_http_tenant_guard_ban_fail(r, ctx, ws, 0);

    ctx->result = TG_RESULT_BAD_LOGIN;
    ctx->detail.data = (u_char *) why;
    ctx->detail.len = ngx_strlen(why);

    return NGX_OK;
}


/*
 * A source's value, raw: a variable (NONE when empty), or a top-level
 * field of the body, read as the body's Content-Type says (form-urlencoded,
 * otherwise JSON); BAD when the body cannot be read that way.
 */

static ngx_int_t
ngx_http_tenant_guard_login_value(ngx_http_request_t *r,
    ngx_http_tenant_guard_ctx_t *ctx, ngx_http_tenant_guard_source_t *src,
    ngx_str_t *value, ngx_uint_t *what)
{
    int               rc;
    size_t            len;
    ngx_str_t        *type;
    const u_char     *body;
    u_char            buf[4 * NGX_HTTP_TENANT_GUARD_MAX_ID];
    static u_char     empty[] = "";

    ngx_str_null(value);
    *what = NGX_HTTP_TENANT_GUARD_SOURCE_NONE;

    if (src->cv != NULL) {
        if (ngx_http_complex_value(r, src->cv, value) != NGX_OK) {
            return NGX_ERROR;
        }

        if (value->len > sizeof(buf)) {
            *what = NGX_HTTP_TENANT_GUARD_SOURCE_BAD;
            ngx_str_null(value);

        } else if (value->len) {
            *what = NGX_HTTP_TENANT_GUARD_SOURCE_OK;
        }

        return NGX_OK;
    }

    if (src->field.len == 0) {
        return NGX_OK;
    }

    if (ctx->body_over || ngx_http_tenant_guard_login_framing(r) != NULL
        || ngx_http_tenant_guard_login_query(r, src))
    {
        *what = NGX_HTTP_TENANT_GUARD_SOURCE_BAD;
        return NGX_OK;
    }

    body = ctx->body_buf ? ctx->body_buf : empty;
    len = ctx->body_len;

    type = (r->headers_in.content_type != NULL)
           ? &r->headers_in.content_type->value : NULL;

    if (type != NULL
        && type->len >= sizeof("application/x-www-form-urlencoded") - 1
        && ngx_strncasecmp(type->data,
                           (u_char *) "application/x-www-form-urlencoded",
                           sizeof("application/x-www-form-urlencoded") - 1)
           == 0
        && (type->len == sizeof("application/x-www-form-urlencoded") - 1
            || type->data[sizeof("application/x-www-form-urlencoded") - 1]
               == ';'
            || type->data[sizeof("application/x-www-form-urlencoded") - 1]
               == ' '))
    {
        rc = tg_ident_form_field(body, len, (char *) src->field.data, buf,
                                 sizeof(buf), &len);

    } else {
        rc = tg_ident_json_field(body, len, (char *) src->field.data, buf,
                                 sizeof(buf), &len);
    }

    if (rc == -1) {
        *what = NGX_HTTP_TENANT_GUARD_SOURCE_BAD;
        return NGX_OK;
    }

    if (rc == 0) {
        return NGX_OK;
    }

    value->data = ngx_pnalloc(r->pool, len + 1);
    if (value->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(value->data, buf, len);
    value->len = len;

    /* "" is a field that is there: the normalization refuses it */

    *what = NGX_HTTP_TENANT_GUARD_SOURCE_OK;

    return NGX_OK;
}


/*
 * A body that cannot be read as it is framed.  One with a Content-Encoding:
 * an upstream that decodes it (Express's body parsers inflate gzip and
 * deflate) would read other fields than these bytes show, a gzip header's
 * comment included.  One with two Content-Types: nginx reads the first,
 * an upstream may take the last (gunicorn does) and read a JSON body as a
 * form, or the other way round.  NULL when neither.
 */

static const char *
ngx_http_tenant_guard_login_framing(ngx_http_request_t *r)
{
    ngx_uint_t        i, types;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    types = 0;

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == sizeof("Content-Type") - 1
            && ngx_strncasecmp(h[i].key.data, (u_char *) "Content-Type",
                               sizeof("Content-Type") - 1)
               == 0
            && ++types > 1)
        {
            return "the login body has two Content-Types";
        }

        if (h[i].key.len == sizeof("Content-Encoding") - 1
            && ngx_strncasecmp(h[i].key.data, (u_char *) "Content-Encoding",
                               sizeof("Content-Encoding") - 1)
               == 0
            && !(h[i].value.len == sizeof("identity") - 1
                 && ngx_strncasecmp(h[i].value.data, (u_char *) "identity",
                                    sizeof("identity") - 1)
                    == 0))
        {
            return "the login body has a Content-Encoding";
        }
    }

    return NULL;
}


/*
 * A body field that the query string names too (in any case): servlets
 * (Spring Security's form login) and ASP.NET's Request[] read the query's
 * value first, and would check another identifier than the body's.
 */

static ngx_uint_t
ngx_http_tenant_guard_login_query(ngx_http_request_t *r,
    ngx_http_tenant_guard_source_t *src)
{
    size_t  n;
    u_char  buf[4 * NGX_HTTP_TENANT_GUARD_MAX_ID];

    if (src->field.len == 0 || r->args.len == 0) {
        return 0;
    }

    /* found, or a query the form rules cannot read: not ours to guess */

    return tg_ident_form_field(r->args.data, r->args.len,
                               (char *) src->field.data, buf, sizeof(buf),
                               &n)
           != 0;
}


/* why a body source gave nothing that can be read */

static const char *
ngx_http_tenant_guard_login_bad(ngx_http_request_t *r,
    ngx_http_tenant_guard_ctx_t *ctx, ngx_http_tenant_guard_source_t *src)
{
    const char  *why;

    if (ctx->body_over) {
        return "the login body is over tenant_guard_login_body_max";
    }

    if (ngx_http_tenant_guard_login_query(r, src)) {
        return "the login names its identifier field in the query string";
    }

    why = ngx_http_tenant_guard_login_framing(r);

    return (why != NULL) ? why : "the login body cannot be read";
}


/* NGX_DECLINED with *why: the identifier is not one; NGX_ERROR: no memory */

static ngx_int_t
ngx_http_tenant_guard_login_normalize(ngx_http_request_t *r,
    ngx_str_t *value, const char **why)
{
    int      rc;
    size_t   n;
    u_char  *out;

    *why = NULL;

    out = ngx_pnalloc(r->pool, NGX_HTTP_TENANT_GUARD_MAX_ID);
    if (out == NULL) {
        return NGX_ERROR;
    }

    rc = tg_ident_normalize(value->data, value->len, out,
                            NGX_HTTP_TENANT_GUARD_MAX_ID, &n);

    if (rc == TG_IDENT_NOMEM) {
        return NGX_ERROR;
    }

    if (rc != TG_IDENT_OK) {
        *why = tg_ident_error(rc);
        return NGX_DECLINED;
    }

    value->data = out;
    value->len = n;

    return NGX_OK;
}


static ngx_int_t
ngx_http_tenant_guard_login_header_filter(ngx_http_request_t *r)
{
    ngx_http_tenant_guard_ctx_t  *ctx;

    if (r == r->main) {
        ctx = ngx_http_get_module_ctx(r, ngx_http_tenant_guard_module);

        if (ctx != NULL && ctx->login != NULL) {
            ngx_http_tenant_guard_login_outcome(r, ctx);
            ctx->login = NULL;
        }
    }

    return ngx_http_next_header_filter(r);
}


/* what the upstream's status says of a login or a reset */

static void
ngx_http_tenant_guard_login_outcome(ngx_http_request_t *r,
    ngx_http_tenant_guard_ctx_t *ctx)
{
    ngx_uint_t   i, status, *code;

    status = r->headers_out.status;

    if (ctx->login->reset) {
        ngx_http_tenant_guard_login_reset(r, ctx);
        return;
    }

    code = ctx->login->fail->elts;

    for (i = 0; i < ctx->login->fail->nelts; i++) {
        if (code[i] == status) {
            ngx_http_tenant_guard_metrics_login_failure();
            ngx_http_tenant_guard_ban_settle(r, ctx, 1);
            return;
        }
    }

    ngx_http_tenant_guard_ban_settle(r, ctx, 0);
}


/*
 * A reset lifts what its upstream confirms: a 2xx that names the
 * identifier in X-Tenant-Guard-Reset.  The header never reaches the
 * client; a 2xx without it, or with two, lifts nothing.
 */

static void
ngx_http_tenant_guard_login_reset(ngx_http_request_t *r,
    ngx_http_tenant_guard_ctx_t *ctx)
{
    ngx_str_t         id;
    ngx_uint_t        i, n;
    const char       *why;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    ngx_str_null(&id);
    n = 0;

    part = &r->headers_out.headers.part;
    h = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].hash == 0
            || h[i].key.len != ngx_http_tenant_guard_reset_header.len
            || ngx_strncasecmp(h[i].key.data,
                               ngx_http_tenant_guard_reset_header.data,
                               h[i].key.len)
               != 0)
        {
            continue;
        }

        id = h[i].value;
        n++;

        h[i].hash = 0;
    }

    if (r->headers_out.status < 200 || r->headers_out.status > 299) {
        return;
    }

    if (n != 1) {
        if (n > 1) {
            ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                          "tenant_guard: password reset: the upstream "
                          "named %ui identifiers, none is lifted", n);
        }

        return;
    }

    if (ngx_http_tenant_guard_login_normalize(r, &id, &why) != NGX_OK) {
        if (why != NULL) {
            ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                          "tenant_guard: password reset: %s", why);
        }

        return;
    }

    ngx_http_tenant_guard_ban_lift(r, ctx, &ctx->login_ws, &id);
}
