
/*
 * Copyright (C) tenant_guard authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_tenant_guard_module.h"
#include "tg_request.h"


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


typedef struct {
    tg_ban_settings_t             settings;
    ngx_uint_t                    address;
    time_t                        now;
    ngx_uint_t                    kind;
    size_t                        len;
    u_char                        key[32];
    size_t                        name_len;
    u_char                        name[1];    /* "{id:HEX}" */
} ngx_http_tenant_guard_count_t;


static ngx_int_t ngx_http_tenant_guard_ban_count(ngx_http_request_t *r,
    ngx_uint_t kind, u_char *key, size_t len, const tg_ban_settings_t *b);
static void ngx_http_tenant_guard_ban_counted(void *data,
    ngx_http_tenant_guard_reply_t *reply);
static ngx_int_t ngx_http_tenant_guard_ban_name(ngx_http_request_t *r,
    ngx_uint_t kind, u_char *key, size_t len, ngx_str_t *name);
static void ngx_http_tenant_guard_ban_lift(ngx_http_request_t *r,
    ngx_uint_t kind, u_char *key, size_t len);


/*
 * The failures of a window, counted atomically in Redis, so that hosts
 * counting together ban at exactly the threshold; the rule that turns a
 * count into a ban stays in tg_ban.  One key, so Redis Cluster can hold it.
 */

static const char  ngx_http_tenant_guard_count_script[] =
    "local now = tonumber(ARGV[1]) "
    "local longest = tonumber(ARGV[2]) "
    "local w = tonumber(redis.call('HGET', KEYS[1], 'w') or '0') "
    "local c = tonumber(redis.call('HGET', KEYS[1], 'c') or '0') "
    "if w == 0 or now - w > longest then w = now c = 0 end "
    "c = c + 1 "
    "redis.call('HSET', KEYS[1], 'w', w, 'c', c) "
    "redis.call('EXPIRE', KEYS[1], w + longest - now + 1) "
    "return {c, w}";


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

    /* with Redis the count is the cluster's; without, or while it is down,
     * the host's own */

    if (tmcf->redis != NULL && ngx_http_tenant_guard_redis_up()) {
        len = ngx_http_tenant_guard_address_key(r, key);

        if ((!identifier
             || ngx_http_tenant_guard_ban_count(r,
                                            NGX_HTTP_TENANT_GUARD_KIND_BAN_ID,
                                            ctx->ban_key, 32, &policy->ban)
                == NGX_OK)
            && (len == 0
                || ngx_http_tenant_guard_ban_count(r,
                                            NGX_HTTP_TENANT_GUARD_KIND_BAN_IP,
                                            key, len, &policy->ban)
                   == NGX_OK))
        {
            return;
        }
    }

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


/* a lifted ban goes from Redis, with its counter, and every host hears */

static void
ngx_http_tenant_guard_ban_lift(ngx_http_request_t *r, ngx_uint_t kind,
    u_char *key, size_t len)
{
    u_char                             *p;
    ngx_str_t                           name, ban, fail;
    const char                         *argv[3];
    size_t                              alen[3];
    ngx_http_tenant_guard_main_conf_t  *tmcf;

    tmcf = ngx_http_get_module_main_conf(r, ngx_http_tenant_guard_module);

    if (ngx_http_tenant_guard_ban_name(r, kind, key, len, &name) != NGX_OK) {
        return;
    }

    ban.data = ngx_pnalloc(r->pool, 2 * (tmcf->redis->prefix.len + 5
                                         + name.len));
    if (ban.data == NULL) {
        return;
    }

    p = ngx_cpymem(ban.data, tmcf->redis->prefix.data, tmcf->redis->prefix.len);
    p = ngx_cpymem(p, "ban:", 4);
    p = ngx_cpymem(p, name.data, name.len);
    ban.len = p - ban.data;

    fail.data = p;
    p = ngx_cpymem(p, tmcf->redis->prefix.data, tmcf->redis->prefix.len);
    p = ngx_cpymem(p, "fail:", 5);
    p = ngx_cpymem(p, name.data, name.len);
    fail.len = p - fail.data;

    argv[0] = "DEL";
    alen[0] = 3;
    argv[1] = (char *) ban.data;
    alen[1] = ban.len;

    (void) ngx_http_tenant_guard_redis_send(2, argv, alen);

    argv[1] = (char *) fail.data;
    alen[1] = fail.len;

    (void) ngx_http_tenant_guard_redis_send(2, argv, alen);

    ngx_http_tenant_guard_store_publish(&ban);
}


static ngx_int_t
ngx_http_tenant_guard_ban_name(ngx_http_request_t *r, ngx_uint_t kind,
    u_char *key, size_t len, ngx_str_t *name)
{
    u_char  *p;

    /* "{id:HEX}": a hash tag, so that a ban and its counter share a slot */

    name->data = ngx_pnalloc(r->pool, sizeof("{id:}") - 1 + 2 * len);
    if (name->data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(name->data,
                   kind == NGX_HTTP_TENANT_GUARD_KIND_BAN_ID ? "{id:" : "{ip:",
                   4);
    p = ngx_hex_dump(p, key, len);
    *p++ = '}';

    name->len = p - name->data;

    return NGX_OK;
}


static ngx_int_t
ngx_http_tenant_guard_ban_count(ngx_http_request_t *r, ngx_uint_t kind,
    u_char *key, size_t len, const tg_ban_settings_t *b)
{
    u_char                             *p;
    ngx_str_t                           name, *prefix;
    long long                           longest;
    const char                         *argv[6];
    size_t                              alen[6];
    u_char                              now[NGX_TIME_T_LEN];
    u_char                              window[NGX_TIME_T_LEN];
    ngx_http_tenant_guard_count_t      *count;
    ngx_http_tenant_guard_main_conf_t  *tmcf;

    longest = tg_ban_window(b, kind == NGX_HTTP_TENANT_GUARD_KIND_BAN_IP);

    if (longest == 0) {
        return NGX_OK;
    }

    tmcf = ngx_http_get_module_main_conf(r, ngx_http_tenant_guard_module);
    prefix = &tmcf->redis->prefix;

    if (ngx_http_tenant_guard_ban_name(r, kind, key, len, &name) != NGX_OK) {
        return NGX_ERROR;
    }

    count = ngx_alloc(sizeof(ngx_http_tenant_guard_count_t) + prefix->len
                      + sizeof("ban:") + name.len, r->connection->log);
    if (count == NULL) {
        return NGX_ERROR;
    }

    count->settings = *b;
    count->address = (kind == NGX_HTTP_TENANT_GUARD_KIND_BAN_IP);
    count->now = ngx_time();
    count->kind = kind;
    count->len = len;
    ngx_memcpy(count->key, key, len);

    p = ngx_cpymem(count->name, prefix->data, prefix->len);
    p = ngx_cpymem(p, "fail:", 5);
    p = ngx_cpymem(p, name.data, name.len);
    count->name_len = p - count->name;

    argv[0] = "EVAL";
    alen[0] = 4;
    argv[1] = ngx_http_tenant_guard_count_script;
    alen[1] = sizeof(ngx_http_tenant_guard_count_script) - 1;
    argv[2] = "1";
    alen[2] = 1;
    argv[3] = (char *) count->name;
    alen[3] = count->name_len;
    argv[4] = (char *) now;
    alen[4] = ngx_sprintf(now, "%T", count->now) - now;
    argv[5] = (char *) window;
    alen[5] = ngx_sprintf(window, "%L", longest) - window;

    /* the name kept is the ban's: "fail:" becomes "ban:" in the reply */

    if (ngx_http_tenant_guard_redis_background(
                                          ngx_http_tenant_guard_ban_counted,
                                          count, 6, argv, alen)
        != NGX_OK)
    {
        ngx_free(count);
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_http_tenant_guard_ban_counted(void *data,
    ngx_http_tenant_guard_reply_t *reply)
{
    ngx_http_tenant_guard_count_t *count = data;

    u_char                             *p;
    int                                 level;
    size_t                              prefix;
    long long                           until;
    ngx_str_t                           ban;
    tg_ban_state_t                      s;
    const char                         *argv[5];
    size_t                              alen[5];
    u_char                              value[NGX_TIME_T_LEN];
    u_char                              ttl[NGX_TIME_T_LEN];
    u_char                              name[
                                    NGX_HTTP_TENANT_GUARD_MAX_PREFIX + 80];
    ngx_http_tenant_guard_main_conf_t  *tmcf;

    if (reply == NULL || reply->type != NGX_HTTP_TENANT_GUARD_REPLY_ARRAY
        || reply->n != 2
        || reply->element[0].type != NGX_HTTP_TENANT_GUARD_REPLY_INTEGER
        || reply->element[1].type != NGX_HTTP_TENANT_GUARD_REPLY_INTEGER)
    {
        ngx_free(count);
        return;
    }

    level = tg_ban_reached(&count->settings, (int) count->address,
                           reply->element[0].integer,
                           reply->element[1].integer, count->now, &until);

    if (level == TG_BAN_NONE) {
        ngx_free(count);
        return;
    }

    tmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_tenant_guard_module);

    /* this host honours the ban at once; the others hear of it */

    ngx_memzero(&s, sizeof(tg_ban_state_t));
    s.until = until;
    s.level = level;

    (void) ngx_http_tenant_guard_zone_put(tmcf->zone, count->kind, count->key,
                                          count->len, (u_char *) &s,
                                          sizeof(s), (time_t) until);

    prefix = tmcf->redis->prefix.len;

    if (count->name_len - 1 > sizeof(name)) {
        ngx_free(count);
        return;
    }

    p = ngx_cpymem(name, count->name, prefix);
    p = ngx_cpymem(p, "ban:", 4);
    p = ngx_cpymem(p, count->name + prefix + 5, count->name_len - prefix - 5);

    ban.data = name;
    ban.len = p - name;

    argv[0] = "SET";
    alen[0] = 3;
    argv[1] = (char *) ban.data;
    alen[1] = ban.len;
    argv[2] = (char *) value;
    alen[2] = ngx_sprintf(value, "%L", until) - value;
    argv[3] = "EX";
    alen[3] = 2;
    argv[4] = (char *) ttl;
    alen[4] = ngx_sprintf(ttl, "%L", until - count->now) - ttl;

    (void) ngx_http_tenant_guard_redis_send(5, argv, alen);

    ngx_http_tenant_guard_store_publish(&ban);

    ngx_log_error(NGX_LOG_INFO, ngx_cycle->log, 0,
                  "tenant_guard: %s banned, level %d, for %L s",
                  count->address ? "client address" : "login identifier",
                  level, until - count->now);

    ngx_free(count);
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

        if (tmcf->redis != NULL) {
            if (ctx->has_ban_key) {
                ngx_http_tenant_guard_ban_lift(r,
                                             NGX_HTTP_TENANT_GUARD_KIND_BAN_ID,
                                             ctx->ban_key, 32);
            }

            if (len) {
                ngx_http_tenant_guard_ban_lift(r,
                                             NGX_HTTP_TENANT_GUARD_KIND_BAN_IP,
                                             key, len);
            }
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
