
/*
 * Copyright (C) tenant_guard authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_tenant_guard_module.h"
#include "tg_json.h"


#define NGX_HTTP_TENANT_GUARD_MAX_BODY   65536
#define NGX_HTTP_TENANT_GUARD_MAX_ID     256


typedef struct {
    const tg_ban_settings_t      *settings;
    ngx_uint_t                    address;
    time_t                        now;
    int                           level;
    time_t                        until;
} ngx_http_tenant_guard_fail_t;


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
static ngx_int_t ngx_http_tenant_guard_fail_handler(u_char *value,
    void *data, time_t *expires);
static ngx_uint_t ngx_http_tenant_guard_address_key(ngx_http_request_t *r,
    u_char *key);


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

    if (value->len > 5 && ngx_strncmp(value->data, "body:", 5) == 0) {

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
 * The access step of a login or reset endpoint.  A login is refused while
 * its address or identifier is banned; a reset never is, since a banned
 * user could not lift the ban otherwise.  Reading a body suspends the
 * request; the phases resume when it is in.
 */

ngx_int_t
ngx_http_tenant_guard_login_access(ngx_http_request_t *r,
    ngx_http_tenant_guard_loc_conf_t *lcf, ngx_http_tenant_guard_ctx_t *ctx)
{
    ngx_int_t                       rc;
    ngx_http_tenant_guard_login_t  *login;

    login = lcf->login;

    if (ctx->login_done) {
        return NGX_DECLINED;
    }

    if (!login->reset && !ctx->body_read
        && ngx_http_tenant_guard_ban_address(r, ctx) != TG_RESULT_ALLOW)
    {
        return NGX_HTTP_TOO_MANY_REQUESTS;
    }

    if (login->body && !ctx->body_read) {
        ctx->body_read = 1;

        rc = ngx_http_read_client_request_body(r,
                                     ngx_http_tenant_guard_login_body_handler);
        if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
            return rc;
        }

        ngx_http_finalize_request(r, NGX_DONE);
        return NGX_DONE;
    }

    ctx->login_done = 1;

    return ngx_http_tenant_guard_login_identify(r, lcf, ctx);
}


static void
ngx_http_tenant_guard_login_body_handler(ngx_http_request_t *r)
{
    r->preserve_body = 1;
    r->write_event_handler = ngx_http_core_run_phases;
    ngx_http_core_run_phases(r);
}


static ngx_int_t
ngx_http_tenant_guard_login_identify(ngx_http_request_t *r,
    ngx_http_tenant_guard_loc_conf_t *lcf, ngx_http_tenant_guard_ctx_t *ctx)
{
    ngx_str_t                       id, ws;
    ngx_http_tenant_guard_login_t  *login;

    login = lcf->login;

    if (ngx_http_tenant_guard_login_value(r, &login->workspace, &ws)
        != NGX_OK
        || ngx_http_tenant_guard_login_value(r, &login->identifier, &id)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->login = login;
    ctx->login_ws = ws;

    if (id.len) {
        ngx_http_tenant_guard_identifier_key(&ws, &id, ctx->ban_key);
        ctx->has_ban_key = 1;

        if (!login->reset
            && ngx_http_tenant_guard_ban_identifier(r, ctx)
               != TG_RESULT_ALLOW)
        {
            ctx->login = NULL;
            return NGX_HTTP_TOO_MANY_REQUESTS;
        }
    }

    return NGX_DECLINED;
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


/* SHA-256 of workspace, NUL, and the identifier in lower case */

void
ngx_http_tenant_guard_identifier_key(ngx_str_t *ws, ngx_str_t *id,
    u_char *key)
{
    u_char      buf[2 * NGX_HTTP_TENANT_GUARD_MAX_ID + 2];
    size_t      len;
    ngx_uint_t  i;

    len = ngx_min(ws->len, NGX_HTTP_TENANT_GUARD_MAX_ID);
    ngx_memcpy(buf, ws->data, len);
    buf[len++] = '\0';

    for (i = 0; i < id->len && i < NGX_HTTP_TENANT_GUARD_MAX_ID; i++) {
        buf[len++] = ngx_tolower(id->data[i]);
    }

    tg_jwt_sha256(buf, len, key);
}


static ngx_uint_t
ngx_http_tenant_guard_address_key(ngx_http_request_t *r, u_char *key)
{
    struct sockaddr_in   *sin;
#if (NGX_HAVE_INET6)
    struct sockaddr_in6  *sin6;
#endif

    switch (r->connection->sockaddr->sa_family) {

    case AF_INET:
        sin = (struct sockaddr_in *) r->connection->sockaddr;
        ngx_memcpy(key, &sin->sin_addr, 4);
        return 4;

#if (NGX_HAVE_INET6)
    case AF_INET6:
        sin6 = (struct sockaddr_in6 *) r->connection->sockaddr;

        if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
            ngx_memcpy(key, &sin6->sin6_addr.s6_addr[12], 4);
            return 4;
        }

        ngx_memcpy(key, sin6->sin6_addr.s6_addr, 16);
        return 16;
#endif
    }

    return 0;
}


static tg_result_e
ngx_http_tenant_guard_ban_lookup(ngx_http_request_t *r,
    ngx_http_tenant_guard_ctx_t *ctx, ngx_uint_t kind, u_char *key,
    size_t len)
{
    size_t                              n;
    time_t                              left;
    tg_ban_state_t                      s;
    ngx_http_tenant_guard_main_conf_t  *tmcf;

    tmcf = ngx_http_get_module_main_conf(r, ngx_http_tenant_guard_module);

    if (tmcf->zone == NULL || len == 0) {
        return TG_RESULT_ALLOW;
    }

    if (ngx_http_tenant_guard_zone_get(tmcf->zone, kind, key, len,
                                       (u_char *) &s, sizeof(s), &n)
        != NGX_OK
        || n != sizeof(s))
    {
        return TG_RESULT_ALLOW;
    }

    left = (time_t) tg_ban_retry_after(&s, ngx_time());

    if (left == 0) {
        return TG_RESULT_ALLOW;
    }

    ctx->result = TG_RESULT_BANNED;
    ctx->retry = left;
    ctx->checked = 1;

    if (kind == NGX_HTTP_TENANT_GUARD_KIND_BAN_IP) {
        ngx_str_set(&ctx->detail, "the client address is banned");

    } else {
        ngx_str_set(&ctx->detail, "the login identifier is banned");
    }

    return TG_RESULT_BANNED;
}


tg_result_e
ngx_http_tenant_guard_ban_address(ngx_http_request_t *r,
    ngx_http_tenant_guard_ctx_t *ctx)
{
    size_t  len;
    u_char  key[16];

    len = ngx_http_tenant_guard_address_key(r, key);

    return ngx_http_tenant_guard_ban_lookup(r, ctx,
                                            NGX_HTTP_TENANT_GUARD_KIND_BAN_IP,
                                            key, len);
}


tg_result_e
ngx_http_tenant_guard_ban_identifier(ngx_http_request_t *r,
    ngx_http_tenant_guard_ctx_t *ctx)
{
    return ngx_http_tenant_guard_ban_lookup(r, ctx,
                                            NGX_HTTP_TENANT_GUARD_KIND_BAN_ID,
                                            ctx->ban_key,
                                            sizeof(ctx->ban_key));
}


/*
 * Counts a failure: of the identifier (first and second level), when
 * there is one, and of the client address (permanent level), under the
 * ban settings of the workspace (or of the default policy).
 */

void
ngx_http_tenant_guard_ban_fail(ngx_http_request_t *r,
    ngx_http_tenant_guard_ctx_t *ctx, ngx_str_t *ws, ngx_uint_t identifier)
{
    size_t                              len;
    u_char                              key[16];
    const tg_policy_t                  *policy;
    ngx_http_tenant_guard_fail_t        f;
    ngx_http_tenant_guard_main_conf_t  *tmcf;

    tmcf = ngx_http_get_module_main_conf(r, ngx_http_tenant_guard_module);

    if (tmcf->zone == NULL || tmcf->policies == NULL) {
        return;
    }

    policy = tg_policy_set_find(tmcf->policies, (char *) ws->data, ws->len);

    f.settings = &policy->ban;
    f.now = ngx_time();

    if (identifier) {
        f.address = 0;
        f.level = TG_BAN_NONE;

        if (ngx_http_tenant_guard_zone_update(tmcf->zone,
                                       NGX_HTTP_TENANT_GUARD_KIND_BAN_ID,
                                       ctx->ban_key, sizeof(ctx->ban_key),
                                       sizeof(tg_ban_state_t),
                                       ngx_http_tenant_guard_fail_handler, &f)
            == NGX_OK
            && f.level != TG_BAN_NONE)
        {
            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "tenant_guard: login identifier banned, level %d, "
                          "for %T s", f.level, f.until - f.now);
        }
    }

    len = ngx_http_tenant_guard_address_key(r, key);
    if (len == 0) {
        return;
    }

    f.address = 1;
    f.level = TG_BAN_NONE;

    if (ngx_http_tenant_guard_zone_update(tmcf->zone,
                                          NGX_HTTP_TENANT_GUARD_KIND_BAN_IP,
                                          key, len, sizeof(tg_ban_state_t),
                                          ngx_http_tenant_guard_fail_handler,
                                          &f)
        == NGX_OK
        && f.level != TG_BAN_NONE)
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "tenant_guard: client address banned, level %d, "
                      "for %T s", f.level, f.until - f.now);
    }
}


static ngx_int_t
ngx_http_tenant_guard_fail_handler(u_char *value, void *data,
    time_t *expires)
{
    ngx_http_tenant_guard_fail_t *f = data;

    tg_ban_state_t  s;

    ngx_memcpy(&s, value, sizeof(tg_ban_state_t));

    f->level = f->address ? tg_ban_fail_address(&s, f->settings, f->now)
                          : tg_ban_fail_identifier(&s, f->settings, f->now);
    f->until = (time_t) s.until;

    ngx_memcpy(value, &s, sizeof(tg_ban_state_t));

    *expires = (time_t) tg_ban_expires(&s, f->settings, f->address);

    if (*expires <= f->now) {
        *expires = f->now + 1;
    }

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
    size_t                              len;
    u_char                              key[16];
    ngx_uint_t                          i, status, *code;
    ngx_http_tenant_guard_main_conf_t  *tmcf;

    status = r->headers_out.status;

    if (ctx->login->reset) {
        if (status < 200 || status > 299) {
            return;
        }

        tmcf = ngx_http_get_module_main_conf(r, ngx_http_tenant_guard_module);

        if (tmcf->zone == NULL) {
            return;
        }

        if (ctx->has_ban_key) {
            ngx_http_tenant_guard_zone_remove(tmcf->zone,
                                             NGX_HTTP_TENANT_GUARD_KIND_BAN_ID,
                                             ctx->ban_key,
                                             sizeof(ctx->ban_key));
        }

        len = ngx_http_tenant_guard_address_key(r, key);

        if (len) {
            ngx_http_tenant_guard_zone_remove(tmcf->zone,
                                             NGX_HTTP_TENANT_GUARD_KIND_BAN_IP,
                                             key, len);
        }

        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "tenant_guard: password reset lifted the bans");
        return;
    }

    code = ctx->login->fail->elts;

    for (i = 0; i < ctx->login->fail->nelts; i++) {
        if (code[i] == status) {
            ngx_http_tenant_guard_ban_fail(r, ctx, &ctx->login_ws,
                                           ctx->has_ban_key);
            return;
        }
    }
}
