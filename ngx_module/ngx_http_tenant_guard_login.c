
/*
 * Copyright (C) tenant_guard authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_tenant_guard_module.h"
#include "ngx_http_tenant_guard_metrics.h"


#define NGX_HTTP_TENANT_GUARD_MAX_BODY   65536


static char *ngx_http_tenant_guard_login_source(ngx_conf_t *cf,
    ngx_http_tenant_guard_source_t *src, ngx_str_t *value);
static void ngx_http_tenant_guard_login_body_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_tenant_guard_login_identify(ngx_http_request_t *r,
    ngx_http_tenant_guard_loc_conf_t *lcf, ngx_http_tenant_guard_ctx_t *ctx);
static ngx_int_t ngx_http_tenant_guard_login_value(ngx_http_request_t *r,
    ngx_http_tenant_guard_source_t *src, ngx_str_t *value);
static ngx_int_t ngx_http_tenant_guard_login_body(ngx_http_request_t *r,
    ngx_str_t *body);
static ngx_int_t ngx_http_tenant_guard_login_header_filter(
    ngx_http_request_t *r);
static void ngx_http_tenant_guard_login_outcome(ngx_http_request_t *r,
    ngx_http_tenant_guard_ctx_t *ctx);


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;


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

    login->body = (login->identifier.field.len || login->workspace.field.len);

    lcf->login = login;

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

    return NGX_OK;
}


/*
 * The login step of a login or reset endpoint: its body is read while the
 * request waits, then its identifier is looked up.  A login is refused
 * while its identifier is banned; a reset never is, since a banned user
 * could not lift the ban otherwise.
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
            ctx->body = NGX_HTTP_TENANT_GUARD_BODY_READING;

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


static void
ngx_http_tenant_guard_login_body_handler(ngx_http_request_t *r)
{
    ngx_http_tenant_guard_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_tenant_guard_module);
    ctx->body = NGX_HTTP_TENANT_GUARD_BODY_READ;

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
    ngx_http_tenant_guard_login_t  *login;

    login = lcf->login;

    if (ctx->login_sources) {
        return NGX_OK;
    }

    ctx->login_sources = 1;

    if (login->workspace.cv != NULL
        && ngx_http_tenant_guard_login_value(r, &login->workspace,
                                             &ctx->login_ws)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (login->identifier.cv != NULL
        && ngx_http_tenant_guard_login_value(r, &login->identifier,
                                             &ctx->login_id)
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
    ngx_str_t                       id, ws;
    ngx_http_tenant_guard_login_t  *login;

    login = lcf->login;

    ws = ctx->login_ws;
    id = ctx->login_id;

    if ((login->workspace.cv == NULL
         && ngx_http_tenant_guard_login_value(r, &login->workspace, &ws)
            != NGX_OK)
        || (login->identifier.cv == NULL
            && ngx_http_tenant_guard_login_value(r, &login->identifier, &id)
               != NGX_OK))
    {
        return NGX_ERROR;
    }

    ctx->login_ws = ws;

    if (id.len) {
        ngx_http_tenant_guard_ban_identifier(r, ctx, &ws, &id, !login->reset);
    }

    /* a banned login is refused: its outcome is not watched */

    if (ctx->result == TG_RESULT_ALLOW) {
        ctx->login = login;
    }

    return NGX_OK;
}


/* a source's value; a missing body field, like a missing variable, is "" */

static ngx_int_t
ngx_http_tenant_guard_login_value(ngx_http_request_t *r,
    ngx_http_tenant_guard_source_t *src, ngx_str_t *value)
{
    int        rc;
    size_t     len;
    ngx_str_t  body;
    char       buf[NGX_HTTP_TENANT_GUARD_MAX_ID];

    ngx_str_null(value);

    if (src->cv != NULL) {
        if (ngx_http_complex_value(r, src->cv, value) != NGX_OK) {
            return NGX_ERROR;
        }

        if (value->len > NGX_HTTP_TENANT_GUARD_MAX_ID) {
            ngx_str_null(value);
        }

        return NGX_OK;
    }

    if (src->field.len == 0
        || ngx_http_tenant_guard_login_body(r, &body) != NGX_OK)
    {
        return NGX_OK;
    }

    rc = tg_json_field_string(body.data, body.len, (char *) src->field.data,
                              buf, sizeof(buf), &len);

    if (rc == 1 && len > 0) {
        value->data = ngx_pnalloc(r->pool, len);
        if (value->data == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(value->data, buf, len);
        value->len = len;
    }

    return NGX_OK;
}


/*
 * The request body when it is in memory and small: a body written to a
 * temporary file, or a large one, gives no identifier, never an error.
 */

static ngx_int_t
ngx_http_tenant_guard_login_body(ngx_http_request_t *r, ngx_str_t *body)
{
    u_char       *p;
    size_t        len;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    if (r->request_body == NULL || r->request_body->bufs == NULL
        || r->request_body->temp_file)
    {
        return NGX_DECLINED;
    }

    len = 0;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;

        if (ngx_buf_special(b)) {
            continue;
        }

        if (b->in_file || !ngx_buf_in_memory(b)) {
            return NGX_DECLINED;
        }

        len += b->last - b->pos;
    }

    if (len == 0 || len > NGX_HTTP_TENANT_GUARD_MAX_BODY) {
        return NGX_DECLINED;
    }

    body->data = ngx_pnalloc(r->pool, len);
    if (body->data == NULL) {
        return NGX_ERROR;
    }

    p = body->data;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        if (!ngx_buf_special(cl->buf)) {
            p = ngx_cpymem(p, cl->buf->pos, cl->buf->last - cl->buf->pos);
        }
    }

    body->len = len;

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
        if (status >= 200 && status <= 299) {
            ngx_http_tenant_guard_ban_lift(r, ctx);
        }

        return;
    }

    code = ctx->login->fail->elts;

    for (i = 0; i < ctx->login->fail->nelts; i++) {
        if (code[i] == status) {
            ngx_http_tenant_guard_metrics_login_failure();
            ngx_http_tenant_guard_ban_fail(r, ctx, &ctx->login_ws,
                                           ctx->has_ban_key);
            return;
        }
    }
}
