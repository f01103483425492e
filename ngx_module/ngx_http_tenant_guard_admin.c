
/*
 * Copyright (C) tenant_guard authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/crypto.h>

#include "tg_admin.h"
#include "ngx_http_tenant_guard_module.h"
#include "ngx_http_tenant_guard_metrics.h"
#include "ngx_http_tenant_guard_admin.h"


/*
 * The admin API: a content handler (tenant_guard_admin) whose endpoints
 * are the paths below the location's prefix.  Callers show a token of the
 * token file (compared as SHA-256 digests, in constant time); writes go
 * to Redis and tg:events when Redis is configured, else to the zone, and
 * each is logged once at notice with the admin token's id (the first 8
 * hex digits of its SHA-256), never the token.
 */


#define NGX_HTTP_TENANT_GUARD_ADMIN_MIN_TOKEN  16
#define NGX_HTTP_TENANT_GUARD_ADMIN_MAX_FILE   65536


typedef struct {
    ngx_array_t                  *tokens;     /* of u_char[32]; NULL: off */
} ngx_http_tenant_guard_admin_conf_t;


/*
 * The request's ctx of the module: the pipeline's own, empty (the filters
 * and variables look there), then the admin API's.
 */

typedef struct {
    ngx_http_tenant_guard_ctx_t   tg;
    ngx_str_t                     ws;
    const char                   *field;      /* the part's IAM name */
    ngx_str_t                     answer;     /* a write's, once confirmed */
    ngx_uint_t                    send_errors; /* the worker's, before */
    u_char                        id[8];      /* the admin token's id */
} ngx_http_tenant_guard_admin_ctx_t;


/* the policy parts: their paths and the IAM's names */
typedef struct {
    ngx_str_t                     path;
    const char                   *field;
} ngx_http_tenant_guard_admin_part_t;


static ngx_int_t ngx_http_tenant_guard_admin_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_tenant_guard_admin_auth(ngx_http_request_t *r,
    ngx_http_tenant_guard_admin_conf_t *acf, u_char *id);
static void ngx_http_tenant_guard_admin_body(ngx_http_request_t *r);
static ngx_int_t ngx_http_tenant_guard_admin_body_text(ngx_http_request_t *r,
    ngx_str_t *body);
static ngx_int_t ngx_http_tenant_guard_admin_route(ngx_http_request_t *r,
    ngx_str_t *body);
static ngx_int_t ngx_http_tenant_guard_admin_revoke(ngx_http_request_t *r,
    ngx_str_t *body);
static ngx_int_t ngx_http_tenant_guard_admin_revoke_jti(ngx_http_request_t *r,
    u_char *jti, size_t len, time_t ttl);
static ngx_int_t ngx_http_tenant_guard_admin_lift_ip(ngx_http_request_t *r,
    ngx_str_t *ip);
static ngx_int_t ngx_http_tenant_guard_admin_lift_id(ngx_http_request_t *r,
    ngx_str_t *ws, ngx_str_t *id);
static ngx_int_t ngx_http_tenant_guard_admin_bans(ngx_http_request_t *r,
    ngx_str_t *ws);
static ngx_int_t ngx_http_tenant_guard_admin_policy(ngx_http_request_t *r,
    ngx_str_t *ws, ngx_http_tenant_guard_admin_part_t *part, ngx_str_t *body);
static void ngx_http_tenant_guard_admin_policy_got(ngx_http_request_t *r,
    void *data, ngx_http_tenant_guard_reply_t *reply);
static ngx_int_t ngx_http_tenant_guard_admin_policy_show(
    ngx_http_request_t *r, const tg_policy_t *p, const char *field);
static u_char *ngx_http_tenant_guard_admin_cidr(u_char *p, tg_cidr_t *c);
static ngx_uint_t ngx_http_tenant_guard_admin_id_ok(ngx_str_t *s);
static void ngx_http_tenant_guard_admin_log(ngx_http_request_t *r);
static ngx_int_t ngx_http_tenant_guard_admin_done(ngx_http_request_t *r,
    const char *fmt, ...);
static void ngx_http_tenant_guard_admin_confirmed(ngx_http_request_t *r,
    void *data, ngx_http_tenant_guard_reply_t *reply);
static ngx_int_t ngx_http_tenant_guard_admin_send(ngx_http_request_t *r,
    ngx_uint_t status, ngx_chain_t *out, ngx_uint_t text);
static ngx_int_t ngx_http_tenant_guard_admin_json(ngx_http_request_t *r,
    ngx_uint_t status, const char *fmt, ...);
static ngx_int_t ngx_http_tenant_guard_admin_error(ngx_http_request_t *r,
    ngx_uint_t status, const char *code, const char *description);
static char *ngx_http_tenant_guard_admin_tokens(ngx_conf_t *cf,
    ngx_http_tenant_guard_admin_conf_t *acf, ngx_str_t *file);


static ngx_http_tenant_guard_admin_part_t  ngx_http_tenant_guard_admin_parts[]
    = {
    { ngx_string("ip-policy"), "ipPolicy" },
    { ngx_string("ban-settings"), "ban" },
    { ngx_string("mfa"), "mfa" },
    { ngx_string("general"), "general" },
    { ngx_string("password-policy"), "passwordPolicy" },
    { ngx_null_string, NULL }
};


static ngx_str_t  ngx_http_tenant_guard_admin_json_type =
    ngx_string("application/json");
static ngx_str_t  ngx_http_tenant_guard_admin_text_type =
    ngx_string("text/plain; version=0.0.4; charset=utf-8");


char *
ngx_http_tenant_guard_admin(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_tenant_guard_loc_conf_t *lcf = conf;

    ngx_str_t                           *value, file;
    ngx_http_core_loc_conf_t            *clcf;
    ngx_http_tenant_guard_admin_conf_t  *acf;

    if (lcf->admin != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;

    acf = ngx_pcalloc(cf->pool, sizeof(ngx_http_tenant_guard_admin_conf_t));
    if (acf == NULL) {
        return NGX_CONF_ERROR;
    }

    if (value[1].len == 3 && ngx_strncmp(value[1].data, "off", 3) == 0) {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "\"tenant_guard_admin off\" asks no token: "
                           "protect the location with \"allow\" and "
                           "\"deny\"");

    } else if (value[1].len > 6
               && ngx_strncmp(value[1].data, "token=", 6) == 0)
    {
        file.data = value[1].data + 6;
        file.len = value[1].len - 6;

        if (ngx_http_tenant_guard_admin_tokens(cf, acf, &file)
            != NGX_CONF_OK)
        {
            return NGX_CONF_ERROR;
        }

    } else {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    lcf->admin = acf;

    /*
     * "tenant_guard on" of the server would ask the admin token to be a
     * tenant's JWT: off here unless the location says otherwise
     */

    if (lcf->enable == NGX_CONF_UNSET) {
        lcf->enable = 0;
    }

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_tenant_guard_admin_handler;

    return NGX_CONF_OK;
}


/*
 * The token file: one token a line (printable ASCII); empty lines and "#"
 * comments skipped
 */

static char *
ngx_http_tenant_guard_admin_tokens(ngx_conf_t *cf,
    ngx_http_tenant_guard_admin_conf_t *acf, ngx_str_t *file)
{
    u_char           *p, *c, *last, *start, *end, *digest;
    char             *rv;
    ssize_t           n;
    ngx_fd_t          fd;
    ngx_str_t         name;
    ngx_file_info_t   fi;

    name = *file;

    if (ngx_conf_full_name(cf->cycle, &name, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    fd = ngx_open_file(name.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_open_file_n " \"%V\" failed", &name);
        return NGX_CONF_ERROR;
    }

    rv = NGX_CONF_ERROR;
    p = NULL;

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_fd_info_n " \"%V\" failed", &name);
        goto done;
    }

    if (ngx_file_size(&fi) > NGX_HTTP_TENANT_GUARD_ADMIN_MAX_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "admin token file \"%V\" is too large", &name);
        goto done;
    }

    p = ngx_pnalloc(cf->temp_pool, (size_t) ngx_file_size(&fi) + 1);
    if (p == NULL) {
        goto done;
    }

    n = ngx_read_fd(fd, p, (size_t) ngx_file_size(&fi));
    if (n == NGX_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_read_fd_n " \"%V\" failed", &name);
        goto done;
    }

    acf->tokens = ngx_array_create(cf->pool, 2, 32);
    if (acf->tokens == NULL) {
        goto done;
    }

    last = p + n;
    start = p;

    /*
     * A UTF-8 byte order mark (an editor's) is no part of the first line:
     * kept, it would make a first comment line an admin token
     */

    if (n >= 3 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf) {
        start += 3;
    }

    for ( /* void */ ; start < last; start = end + 1) {
        end = ngx_strlchr(start, last, '\n');
        if (end == NULL) {
            end = last;
        }

        while (start < end && (*start == ' ' || *start == '\t')) {
            start++;
        }

        while (end > start && (end[-1] == ' ' || end[-1] == '\t'
                               || end[-1] == '\r'))
        {
            end--;
        }

        if (start == end || *start == '#') {
            end = ngx_strlchr(start, last, '\n');
            if (end == NULL) {
                break;
            }

            continue;
        }

        if (end - start < NGX_HTTP_TENANT_GUARD_ADMIN_MIN_TOKEN) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "admin token file \"%V\" has a token shorter "
                               "than %d characters", &name,
                               NGX_HTTP_TENANT_GUARD_ADMIN_MIN_TOKEN);
            goto done;
        }

        /* a bearer token's characters only: no space, no comment after */

        for (c = start; c < end; c++) {
            if (*c <= 0x20 || *c >= 0x7f) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "admin token file \"%V\" has a token "
                                   "with a character other than printable "
                                   "ASCII (a comment needs a line of its "
                                   "own)", &name);
                goto done;
            }
        }

        digest = ngx_array_push(acf->tokens);
        if (digest == NULL) {
            goto done;
        }

        tg_jwt_sha256(start, end - start, digest);

        end = ngx_strlchr(start, last, '\n');
        if (end == NULL) {
            break;
        }
    }

    if (acf->tokens->nelts == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "admin token file \"%V\" has no token", &name);
        goto done;
    }

    rv = NGX_CONF_OK;

done:

    if (p != NULL) {
        ngx_explicit_memzero(p, (size_t) ngx_file_size(&fi));
    }

    if (ngx_close_file(fd) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_ALERT, cf, ngx_errno,
                           ngx_close_file_n " \"%V\" failed", &name);
    }

    return rv;
}


static ngx_int_t
ngx_http_tenant_guard_admin_handler(ngx_http_request_t *r)
{
    ngx_int_t                            rc;
    ngx_http_tenant_guard_loc_conf_t    *lcf;
    ngx_http_tenant_guard_admin_ctx_t   *actx;
    ngx_http_tenant_guard_admin_conf_t  *acf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_tenant_guard_module);
    acf = lcf->admin;

    if (acf == NULL || r != r->main) {
        return NGX_DECLINED;
    }

    actx = ngx_pcalloc(r->pool, sizeof(ngx_http_tenant_guard_admin_ctx_t));
    if (actx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memcpy(actx->id, "--------", 8);

    /* nothing of the access pipeline runs here: its ctx stays empty */

    /* Redis's refusals of writes so far: the confirmation counts later ones */

    actx->send_errors = ngx_http_tenant_guard_redis_send_errors();

    ngx_http_set_ctx(r, actx, ngx_http_tenant_guard_module);

    if (ngx_http_tenant_guard_admin_auth(r, acf, actx->id) != NGX_OK) {
        if (ngx_http_discard_request_body(r) != NGX_OK) {
            r->keepalive = 0;
        }

        return ngx_http_tenant_guard_admin_error(r, NGX_HTTP_UNAUTHORIZED,
                                       "unauthorized",
                                       "a valid admin bearer token is needed");
    }

    if (!(r->method & (NGX_HTTP_PUT|NGX_HTTP_POST))) {
        if (ngx_http_discard_request_body(r) != NGX_OK) {
            r->keepalive = 0;
        }

        return ngx_http_tenant_guard_admin_route(r, NULL);
    }

    if (r->headers_in.content_length_n > TG_ADMIN_MAX_BODY) {
        if (ngx_http_discard_request_body(r) != NGX_OK) {
            r->keepalive = 0;
        }

        return ngx_http_tenant_guard_admin_error(r,
                                       NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                                       "invalid_request",
                                       "the body is larger than 64k");
    }

    r->request_body_in_single_buf = 1;

    rc = ngx_http_read_client_request_body(r,
                                           ngx_http_tenant_guard_admin_body);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


static ngx_int_t
ngx_http_tenant_guard_admin_auth(ngx_http_request_t *r,
    ngx_http_tenant_guard_admin_conf_t *acf, u_char *id)
{
    u_char        *digests;
    ngx_str_t      auth;
    ngx_uint_t     i, match;
    u_char         digest[32];

    if (acf->tokens == NULL) {
        return NGX_OK;
    }

    if (r->headers_in.authorization == NULL) {
        return NGX_DECLINED;
    }

    auth = r->headers_in.authorization->value;

    if (auth.len <= 7 || ngx_strncasecmp(auth.data, (u_char *) "Bearer ", 7)
                         != 0)
    {
        return NGX_DECLINED;
    }

    auth.data += 7;
    auth.len -= 7;

    while (auth.len && auth.data[0] == ' ') {
        auth.data++;
        auth.len--;
    }

    while (auth.len && auth.data[auth.len - 1] == ' ') {
        auth.len--;
    }

    if (auth.len == 0) {
        return NGX_DECLINED;
    }

    tg_jwt_sha256(auth.data, auth.len, digest);

    /* every token is compared, whichever matches */

    digests = acf->tokens->elts;
    match = 0;

    for (i = 0; i < acf->tokens->nelts; i++) {
        match |= (CRYPTO_memcmp(digest, digests + 32 * i, 32) == 0);
    }

    if (!match) {
        return NGX_DECLINED;
    }

    ngx_hex_dump(id, digest, 4);

    return NGX_OK;
}


static void
ngx_http_tenant_guard_admin_body(ngx_http_request_t *r)
{
    ngx_int_t  rc;
    ngx_str_t  body;

    rc = ngx_http_tenant_guard_admin_body_text(r, &body);

    if (rc == NGX_DECLINED) {
        rc = ngx_http_tenant_guard_admin_error(r,
                                       NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                                       "invalid_request",
                                       "the body is larger than 64k");

    } else if (rc == NGX_OK) {
        rc = ngx_http_tenant_guard_admin_route(r, &body);

    } else {
        rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc == NGX_DONE) {
        ngx_http_finalize_request(r, NGX_DONE);
        return;
    }

    ngx_http_finalize_request(r, rc);
}


/* the body in memory, whether nginx kept it so or in a temp file */

static ngx_int_t
ngx_http_tenant_guard_admin_body_text(ngx_http_request_t *r, ngx_str_t *body)
{
    u_char       *p;
    off_t         size;
    ssize_t       n;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    body->len = 0;
    body->data = (u_char *) "";

    if (r->request_body == NULL || r->request_body->bufs == NULL) {
        return NGX_OK;
    }

    size = 0;

    /* a chunked body ends with a buffer of neither: its last_buf alone */

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;

        if (ngx_buf_in_memory(b)) {
            size += b->last - b->pos;

        } else if (b->in_file && b->file != NULL) {
            size += b->file_last - b->file_pos;
        }
    }

    if (size > TG_ADMIN_MAX_BODY) {
        return NGX_DECLINED;
    }

    p = ngx_pnalloc(r->pool, (size_t) size + 1);
    if (p == NULL) {
        return NGX_ERROR;
    }

    body->data = p;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;

        if (ngx_buf_in_memory(b)) {
            p = ngx_cpymem(p, b->pos, b->last - b->pos);
            continue;
        }

        if (!b->in_file || b->file == NULL) {
            continue;
        }

        n = ngx_read_file(b->file, p, (size_t) (b->file_last - b->file_pos),
                          b->file_pos);
        if (n != b->file_last - b->file_pos) {
            return NGX_ERROR;
        }

        p += n;
    }

    body->len = p - body->data;

    return NGX_OK;
}


/*
 * The endpoints, below the location's prefix.  NGX_DONE: the answer is on
 * its way (Redis is asked); otherwise what the handler returns.
 */

static ngx_int_t
ngx_http_tenant_guard_admin_route(ngx_http_request_t *r, ngx_str_t *body)
{
    u_char                              *p, *last, *slash;
    ngx_str_t                            path, ws, rest;
    ngx_int_t                            rc;
    ngx_chain_t                         *out;
    ngx_http_core_loc_conf_t            *clcf;
    ngx_http_tenant_guard_admin_part_t  *part;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    path = r->uri;

    /* the location's prefix, without its trailing slash, is not the path */

    if (
#if (NGX_PCRE)
        clcf->regex == NULL &&
#endif
        clcf->name.len)
    {
        rest = clcf->name;

        if (rest.data[rest.len - 1] == '/') {
            rest.len--;
        }

        if (path.len >= rest.len
            && ngx_strncmp(path.data, rest.data, rest.len) == 0)
        {
            path.data += rest.len;
            path.len -= rest.len;
        }
    }

    if (path.len == 7 && ngx_strncmp(path.data, "/status", 7) == 0) {
        if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
            goto not_allowed;
        }

        if (ngx_http_tenant_guard_metrics_status(r, &out) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_tenant_guard_admin_send(r, NGX_HTTP_OK, out, 0);
    }

    if (path.len == 8 && ngx_strncmp(path.data, "/metrics", 8) == 0) {
        if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
            goto not_allowed;
        }

        if (ngx_http_tenant_guard_metrics_text(r, &out) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_tenant_guard_admin_send(r, NGX_HTTP_OK, out, 1);
    }

    if (path.len == 14 && ngx_strncmp(path.data, "/tokens/revoke", 14) == 0) {
        if (r->method != NGX_HTTP_POST || body == NULL) {
            goto not_allowed;
        }

        return ngx_http_tenant_guard_admin_revoke(r, body);
    }

    if (path.len > 9 && ngx_strncmp(path.data, "/bans/ip/", 9) == 0) {
        if (r->method != NGX_HTTP_DELETE) {
            goto not_allowed;
        }

        rest.data = path.data + 9;
        rest.len = path.len - 9;

        return ngx_http_tenant_guard_admin_lift_ip(r, &rest);
    }

    if (path.len > 12 && ngx_strncmp(path.data, "/workspaces/", 12) == 0) {
        p = path.data + 12;
        last = path.data + path.len;

        slash = ngx_strlchr(p, last, '/');
        if (slash == NULL) {
            goto not_found;
        }

        ws.data = p;
        ws.len = slash - p;

        if (!ngx_http_tenant_guard_admin_id_ok(&ws)) {
            return ngx_http_tenant_guard_admin_error(r, NGX_HTTP_BAD_REQUEST,
                                           "invalid_request",
                                           "the workspace id is not valid");
        }

        rest.data = slash + 1;
        rest.len = last - rest.data;

        if (rest.len == 4 && ngx_strncmp(rest.data, "bans", 4) == 0) {
            if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
                goto not_allowed;
            }

            return ngx_http_tenant_guard_admin_bans(r, &ws);
        }

        if (rest.len > 5 && ngx_strncmp(rest.data, "bans/", 5) == 0) {
            if (r->method != NGX_HTTP_DELETE) {
                goto not_allowed;
            }

            rest.data += 5;
            rest.len -= 5;

            return ngx_http_tenant_guard_admin_lift_id(r, &ws, &rest);
        }

        for (part = ngx_http_tenant_guard_admin_parts; part->field; part++) {
            if (rest.len == part->path.len
                && ngx_strncmp(rest.data, part->path.data, rest.len) == 0)
            {
                break;
            }
        }

        if (part->field == NULL) {
            goto not_found;
        }

        if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD|NGX_HTTP_PUT))
            && !(r->method == NGX_HTTP_DELETE
                 && ngx_strcmp(part->field, "mfa") == 0))
        {
            goto not_allowed;
        }

        rc = ngx_http_tenant_guard_admin_policy(r, &ws, part, body);

        return rc;
    }

not_found:

    return ngx_http_tenant_guard_admin_error(r, NGX_HTTP_NOT_FOUND,
                                             "not_found", "no such endpoint");

not_allowed:

    return ngx_http_tenant_guard_admin_error(r, NGX_HTTP_NOT_ALLOWED,
                                             "method_not_allowed",
                                             "the endpoint does not take "
                                             "this method");
}


/* a workspace id, identifier or jti in a path: printable, no quote */

static ngx_uint_t
ngx_http_tenant_guard_admin_id_ok(ngx_str_t *s)
{
    size_t  i;

    if (s->len == 0 || s->len > TG_ADMIN_MAX_ID) {
        return 0;
    }

    for (i = 0; i < s->len; i++) {
        if (s->data[i] <= 0x20 || s->data[i] == 0x7f || s->data[i] == '"'
            || s->data[i] == '\\' || s->data[i] == '/')
        {
            return 0;
        }
    }

    return 1;
}


static ngx_int_t
ngx_http_tenant_guard_admin_revoke(ngx_http_request_t *r, ngx_str_t *body)
{
    u_char                             *p;
    time_t                              now, ttl;
    size_t                              jti_len;
    ngx_int_t                           rc;
    long long                           exp;
    ngx_uint_t                          kind;
    ngx_str_t                           name;
    tg_admin_revoke_t                  *rv;
    u_char                              jti[TG_ADMIN_MAX_ID], digest[32];
    char                                err[256];
    ngx_http_tenant_guard_revoked_t     rec;
    ngx_http_tenant_guard_main_conf_t  *tmcf;

    tmcf = ngx_http_get_module_main_conf(r, ngx_http_tenant_guard_module);

    if (tmcf->zone == NULL) {
        return ngx_http_tenant_guard_admin_error(r, NGX_HTTP_CONFLICT,
                                       "no_zone",
                                       "revocation needs tenant_guard_zone");
    }

    rv = ngx_palloc(r->pool, sizeof(tg_admin_revoke_t));
    if (rv == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (tg_admin_revoke_parse(rv, body->data, body->len, err, sizeof(err))
        != 0)
    {
        return ngx_http_tenant_guard_admin_error(r, NGX_HTTP_BAD_REQUEST,
                                                 "invalid_request", err);
    }

    now = ngx_time();

    switch (rv->what) {

    case TG_ADMIN_REVOKE_JTI:
        return ngx_http_tenant_guard_admin_revoke_jti(r, rv->jti, rv->jti_len,
                                            NGX_HTTP_TENANT_GUARD_REVOKE_TTL);

    case TG_ADMIN_REVOKE_TOKEN:
        if (tg_jwt_is_compact(rv->token, rv->token_len)) {
            if (tg_admin_token_jti(rv->token, rv->token_len, jti, sizeof(jti),
                                   &jti_len, &exp)
                != 0)
            {
                return ngx_http_tenant_guard_admin_error(r,
                                         NGX_HTTP_BAD_REQUEST,
                                         "invalid_request",
                                         "the token has no \"jti\": revoke "
                                         "its subject instead");
            }

            ttl = (exp > now) ? (time_t) (exp - now) + 3600 : 3600;

            return ngx_http_tenant_guard_admin_revoke_jti(r, jti, jti_len,
                                                          ttl);
        }

        /* an opaque token: its record goes */

        tg_jwt_sha256(rv->token, rv->token_len, digest);

        if (tmcf->redis != NULL
            && ngx_http_tenant_guard_store_token_forget(digest) != NGX_OK)
        {
            return ngx_http_tenant_guard_admin_error(r,
                                      NGX_HTTP_SERVICE_UNAVAILABLE,
                                      "temporarily_unavailable",
                                      "redis is unavailable: nothing changed");
        }

        ngx_http_tenant_guard_zone_remove(tmcf->zone,
                                          NGX_HTTP_TENANT_GUARD_KIND_TOKEN,
                                          digest, 32);

        return ngx_http_tenant_guard_admin_done(r,
                                                "{\"revoked\":\"token\"}\n");

    case TG_ADMIN_REVOKE_SUBJECT:
    case TG_ADMIN_REVOKE_WORKSPACE:
    default:
        break;
    }

    if (rv->what == TG_ADMIN_REVOKE_SUBJECT) {
        kind = NGX_HTTP_TENANT_GUARD_KIND_REVOKED_SUB;

        name.len = rv->workspace_len + 1 + rv->subject_len;
        name.data = ngx_pnalloc(r->pool, name.len);
        if (name.data == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        p = ngx_cpymem(name.data, rv->workspace, rv->workspace_len);
        *p++ = ':';
        ngx_memcpy(p, rv->subject, rv->subject_len);

    } else {
        kind = NGX_HTTP_TENANT_GUARD_KIND_REVOKED_WS;
        name.data = rv->workspace;
        name.len = rv->workspace_len;
    }

    /* Redis first: when it cannot take it, nothing changes */

    if (tmcf->redis != NULL) {
        rc = ngx_http_tenant_guard_store_revoke(kind, name.data, name.len, now,
                                            NGX_HTTP_TENANT_GUARD_REVOKE_TTL);
        if (rc != NGX_OK) {
            return ngx_http_tenant_guard_admin_error(r,
                                      NGX_HTTP_SERVICE_UNAVAILABLE,
                                      "temporarily_unavailable",
                                      "redis is unavailable: nothing changed");
        }
    }

    rec.at = now;
    rec.stored = now;

    if (ngx_http_tenant_guard_zone_put(tmcf->zone, kind, name.data, name.len,
                                       (u_char *) &rec, sizeof(rec),
                                       now + NGX_HTTP_TENANT_GUARD_REVOKE_TTL)
        != NGX_OK)
    {
        return ngx_http_tenant_guard_admin_error(r,
                                      NGX_HTTP_INSUFFICIENT_STORAGE,
                                      "zone_full",
                                      "the zone has no room for it");
    }

    return ngx_http_tenant_guard_admin_done(r,
                       "{\"revoked\":\"%s\",\"at\":%T}\n",
                       (kind == NGX_HTTP_TENANT_GUARD_KIND_REVOKED_SUB)
                       ? "subject" : "workspace", now);
}


static ngx_int_t
ngx_http_tenant_guard_admin_revoke_jti(ngx_http_request_t *r, u_char *jti,
    size_t len, time_t ttl)
{
    time_t                              now;
    ngx_http_tenant_guard_main_conf_t  *tmcf;

    tmcf = ngx_http_get_module_main_conf(r, ngx_http_tenant_guard_module);

    now = ngx_time();

    if (tmcf->redis != NULL) {
        if (ngx_http_tenant_guard_store_revoke(
                                     NGX_HTTP_TENANT_GUARD_KIND_REVOKED_JTI,
                                     jti, len, now, ttl)
            != NGX_OK)
        {
            return ngx_http_tenant_guard_admin_error(r,
                                      NGX_HTTP_SERVICE_UNAVAILABLE,
                                      "temporarily_unavailable",
                                      "redis is unavailable: nothing changed");
        }

    } else if (ngx_http_tenant_guard_zone_put(tmcf->zone,
                                       NGX_HTTP_TENANT_GUARD_KIND_REVOKED_JTI,
                                       jti, len, NULL, 0, now + ttl)
               != NGX_OK)
    {
        return ngx_http_tenant_guard_admin_error(r,
                                      NGX_HTTP_INSUFFICIENT_STORAGE,
                                      "zone_full",
                                      "the zone has no room for it");
    }

    /* this host at once: its cached tokens of the jti go */

    ngx_http_tenant_guard_zone_revoke(tmcf->zone, jti, len, now + 2);

    return ngx_http_tenant_guard_admin_done(r,
                                            "{\"revoked\":\"jti\"}\n");
}


static ngx_int_t
ngx_http_tenant_guard_admin_lift_ip(ngx_http_request_t *r, ngx_str_t *ip)
{
    size_t                              len, n;
    in_addr_t                           a4;
    u_char                              key[16];
    tg_ban_state_t                      st;
    ngx_http_tenant_guard_main_conf_t  *tmcf;

    tmcf = ngx_http_get_module_main_conf(r, ngx_http_tenant_guard_module);

    a4 = ngx_inet_addr(ip->data, ip->len);

    if (a4 != INADDR_NONE) {
        ngx_memcpy(key, &a4, 4);
        len = 4;

#if (NGX_HAVE_INET6)
    } else if (ngx_inet6_addr(ip->data, ip->len, key) == NGX_OK) {
        len = 16;

        if (IN6_IS_ADDR_V4MAPPED((struct in6_addr *) key)) {
            ngx_memmove(key, key + 12, 4);
            len = 4;

        } else {
            /* counted and banned per tenant_guard_ban_ipv6_prefix */
            ngx_http_tenant_guard_ban_ipv6_mask(key, tmcf->ban_ipv6_prefix);
        }
#endif

    } else {
        return ngx_http_tenant_guard_admin_error(r, NGX_HTTP_BAD_REQUEST,
                                       "invalid_request",
                                       "not an IPv4 or IPv6 address");
    }

    if (tmcf->zone == NULL) {
        return ngx_http_tenant_guard_admin_error(r, NGX_HTTP_CONFLICT,
                                       "no_zone",
                                       "bans need tenant_guard_zone");
    }

    n = 0;

    if (ngx_http_tenant_guard_zone_get(tmcf->zone,
                                       NGX_HTTP_TENANT_GUARD_KIND_BAN_IP,
                                       key, len, (u_char *) &st, sizeof(st),
                                       &n)
        != NGX_OK || n != sizeof(st) || st.until <= ngx_time())
    {
        n = 0;
    }

    ngx_http_tenant_guard_zone_remove(tmcf->zone,
                                      NGX_HTTP_TENANT_GUARD_KIND_BAN_IP,
                                      key, len);

    if (tmcf->redis != NULL) {
        ngx_http_tenant_guard_store_ban_lift(NGX_HTTP_TENANT_GUARD_KIND_BAN_IP,
                                             key, len);
    }

    return ngx_http_tenant_guard_admin_done(r,
                                            "{\"lifted\":\"address\","
                                            "\"was_banned\":%s}\n",
                                            n ? "true" : "false");
}


/* an identifier's ban: the hash as the ban line logs it, or the text */

static ngx_int_t
ngx_http_tenant_guard_admin_lift_id(ngx_http_request_t *r, ngx_str_t *ws,
    ngx_str_t *id)
{
    int                                 rc;
    u_char                             *name;
    size_t                              i, n, len;
    ngx_int_t                           c;
    ngx_str_t                           text, none, in;
    ngx_uint_t                          k, nkeys, banned;
    u_char                              key[2][32];
    u_char                              buf[NGX_HTTP_TENANT_GUARD_MAX_ID];
    tg_ban_state_t                      st;
    ngx_http_tenant_guard_main_conf_t  *tmcf;

    tmcf = ngx_http_get_module_main_conf(r, ngx_http_tenant_guard_module);

    if (!ngx_http_tenant_guard_admin_id_ok(id)) {
        return ngx_http_tenant_guard_admin_error(r, NGX_HTTP_BAD_REQUEST,
                                       "invalid_request",
                                       "the identifier is not valid");
    }

    if (tmcf->zone == NULL) {
        return ngx_http_tenant_guard_admin_error(r, NGX_HTTP_CONFLICT,
                                       "no_zone",
                                       "bans need tenant_guard_zone");
    }

    ngx_str_null(&none);
    ngx_str_null(&text);

    c = (id->len == 64);

    for (i = 0; c && i < 64; i++) {
        c = (ngx_hextoi(id->data + i, 1) != NGX_ERROR);
    }

    /*
     * An identifier counts under two keys: in the workspace the login
     * named, and in no workspace.  Lifted by its text, both go; by a
     * logged hash, that one, and its twin when this host noted the text.
     */

    if (c) {
        for (i = 0; i < 32; i++) {
            key[0][i] = (u_char) ngx_hextoi(id->data + 2 * i, 2);
        }

        nkeys = 1;

        if (ngx_http_tenant_guard_zone_copy(tmcf->zone,
                                       NGX_HTTP_TENANT_GUARD_KIND_BAN_NAME,
                                       key[0], 32, r->pool, &name, &n)
            == NGX_OK
            && n >= 1 && (size_t) name[0] + 1 < n)
        {
            text.data = name + 1 + name[0];
            text.len = n - 1 - name[0];

            ngx_http_tenant_guard_ban_key_of(name[0] ? &none : ws, &text,
                                             key[1]);
            nkeys = 2;
        }

    } else {

        /* the text as a login would count it: NFKC case folded, trimmed */

        in = *id;

        rc = tg_ident_normalize(in.data, in.len, buf, sizeof(buf), &len);

        if (rc == TG_IDENT_NOMEM) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (rc != TG_IDENT_OK) {
            return ngx_http_tenant_guard_admin_error(r, NGX_HTTP_BAD_REQUEST,
                                       "invalid_request",
                                       "the identifier is not valid");
        }

        text.data = buf;
        text.len = len;

        ngx_http_tenant_guard_ban_key_of(ws, &text, key[0]);
        ngx_http_tenant_guard_ban_key_of(&none, &text, key[1]);
        nkeys = 2;
    }

    banned = 0;

    for (k = 0; k < nkeys; k++) {
        n = 0;

        if (ngx_http_tenant_guard_zone_get(tmcf->zone,
                                           NGX_HTTP_TENANT_GUARD_KIND_BAN_ID,
                                           key[k], 32, (u_char *) &st,
                                           sizeof(st), &n)
            == NGX_OK && n == sizeof(st) && st.until > ngx_time())
        {
            banned = 1;
        }

        ngx_http_tenant_guard_zone_remove(tmcf->zone,
                                          NGX_HTTP_TENANT_GUARD_KIND_BAN_ID,
                                          key[k], 32);

        if (tmcf->redis != NULL) {
            ngx_http_tenant_guard_store_ban_lift(
                                             NGX_HTTP_TENANT_GUARD_KIND_BAN_ID,
                                             key[k], 32);
        }
    }

    return ngx_http_tenant_guard_admin_done(r,
                                            "{\"lifted\":\"identifier\","
                                            "\"was_banned\":%s}\n",
                                            banned ? "true" : "false");
}


/* the bans in force on this host: identifiers by hash, and addresses */

static ngx_int_t
ngx_http_tenant_guard_admin_bans(ngx_http_request_t *r, ngx_str_t *ws)
{
    u_char                             *p, *name;
    size_t                              n;
    time_t                              now;
    ngx_buf_t                          *b;
    ngx_uint_t                          i, first;
    ngx_array_t                        *bans;
    ngx_chain_t                        *out;
    ngx_http_tenant_guard_ban_entry_t  *e;
    ngx_http_tenant_guard_main_conf_t  *tmcf;

    tmcf = ngx_http_get_module_main_conf(r, ngx_http_tenant_guard_module);

    if (tmcf->zone == NULL) {
        return ngx_http_tenant_guard_admin_json(r, NGX_HTTP_OK,
                                                "{\"bans\":[]}\n");
    }

    bans = ngx_http_tenant_guard_zone_bans(tmcf->zone, r->pool);
    if (bans == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b = ngx_create_temp_buf(r->pool,
                            64 + bans->nelts
                                 * (200 + 6 * NGX_HTTP_TENANT_GUARD_MAX_ID));
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    now = ngx_time();
    e = bans->elts;
    first = 1;

    p = ngx_cpymem(b->last, "{\"bans\":[", 9);

    for (i = 0; i < bans->nelts; i++) {
        name = NULL;
        n = 0;

        /*
         * An identifier's text, when this host saw it fail: an identifier
         * of another workspace is not listed (one of unknown workspace is,
         * by its hash); an address in every workspace's listing.
         */

        if (e[i].kind == NGX_HTTP_TENANT_GUARD_KIND_BAN_ID
            && ngx_http_tenant_guard_zone_copy(tmcf->zone,
                                       NGX_HTTP_TENANT_GUARD_KIND_BAN_NAME,
                                       e[i].key, 32, r->pool, &name, &n)
               == NGX_OK
            && n >= 1 && (size_t) name[0] + 1 <= n)
        {
            /* "": the workspace-free key, every workspace's concern */

            if (name[0] != 0
                && ((size_t) name[0] != ws->len
                    || ngx_strncmp(name + 1, ws->data, ws->len) != 0))
            {
                continue;
            }

        } else {
            name = NULL;
        }

        if (!first) {
            *p++ = ',';
        }

        first = 0;

        if (e[i].kind == NGX_HTTP_TENANT_GUARD_KIND_BAN_ID) {
            p = ngx_cpymem(p, "{\"identifier_hash\":\"", 20);
            p = ngx_hex_dump(p, e[i].key, e[i].len);
            p = ngx_sprintf(p, "\",\"level\":\"%d\"", e[i].state.level);

            if (name != NULL && name[0] == 0) {
                p = ngx_cpymem(p, ",\"any_workspace\":true", 21);
            }

            if (name != NULL) {
                p = ngx_cpymem(p, ",\"identifier\":\"", 15);
                p = (u_char *) ngx_escape_json(p, name + 1 + name[0],
                                               n - 1 - name[0]);
                *p++ = '"';
            }

        } else {
            p = ngx_cpymem(p, "{\"address\":\"", 12);
            p += ngx_inet_ntop(e[i].len == 4 ? AF_INET : AF_INET6,
                               e[i].key, p, NGX_INET6_ADDRSTRLEN);
            p = ngx_cpymem(p, "\",\"level\":\"permanent\"", 21);
        }

        p = ngx_sprintf(p, ",\"seconds_left\":%L}",
                        (long long) (e[i].state.until - now));
    }

    p = ngx_cpymem(p, "]}\n", 3);

    b->last = p;
    b->last_buf = 1;
    b->last_in_chain = 1;

    out = ngx_alloc_chain_link(r->pool);
    if (out == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    out->buf = b;
    out->next = NULL;

    return ngx_http_tenant_guard_admin_send(r, NGX_HTTP_OK, out, 0);
}


/*
 * A policy part: GET shows it (Redis's as stored there, else the one in
 * force), PUT replaces it after the engine's parser accepted it, DELETE
 * (mfa) removes the requirement.
 */

static ngx_int_t
ngx_http_tenant_guard_admin_policy(ngx_http_request_t *r, ngx_str_t *ws,
    ngx_http_tenant_guard_admin_part_t *part, ngx_str_t *body)
{
    ngx_int_t                            rc;
    tg_policy_t                          p, np;
    const tg_policy_t                   *cur;
    char                                 err[256];
    ngx_http_tenant_guard_admin_ctx_t   *actx;
    ngx_http_tenant_guard_main_conf_t   *tmcf;

    tmcf = ngx_http_get_module_main_conf(r, ngx_http_tenant_guard_module);
    actx = ngx_http_get_module_ctx(r, ngx_http_tenant_guard_module);

    if (r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD)) {
        if (tmcf->redis != NULL) {
            actx->ws = *ws;
            actx->field = part->field;

            rc = ngx_http_tenant_guard_store_policy_part_get(r, ws,
                                    part->field,
                                    ngx_http_tenant_guard_admin_policy_got,
                                    actx);
            if (rc == NGX_OK) {
                r->main->count++;
                return NGX_DONE;
            }

            if (rc == NGX_ERROR) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            return ngx_http_tenant_guard_admin_error(r,
                                      NGX_HTTP_SERVICE_UNAVAILABLE,
                                      "temporarily_unavailable",
                                      "redis is unavailable");
        }

        cur = ngx_http_tenant_guard_store_policy_embedded(r, ws);
        if (cur == NULL) {
            cur = ngx_http_tenant_guard_policy_file_find(r, ws);
        }

        return ngx_http_tenant_guard_admin_policy_show(r, cur, part->field);
    }

    ngx_memzero(&np, sizeof(tg_policy_t));

    if (r->method == NGX_HTTP_PUT) {
        if (body == NULL
            || tg_policy_parse_part(&np, part->field, body->data, body->len,
                                    err, sizeof(err))
               != 0)
        {
            tg_policy_free(&np);

            return ngx_http_tenant_guard_admin_error(r, NGX_HTTP_BAD_REQUEST,
                                           "invalid_request",
                                           body ? err : "a body is needed");
        }
    }

    if (tmcf->redis != NULL) {
        tg_policy_free(&np);

        rc = ngx_http_tenant_guard_store_policy_part(ws, part->field,
                                  r->method == NGX_HTTP_PUT ? body : NULL);
        if (rc != NGX_OK) {
            return ngx_http_tenant_guard_admin_error(r,
                                      NGX_HTTP_SERVICE_UNAVAILABLE,
                                      "temporarily_unavailable",
                                      "redis is unavailable: nothing changed");
        }

        if (tmcf->zone != NULL) {
            ngx_http_tenant_guard_zone_remove(tmcf->zone,
                                              NGX_HTTP_TENANT_GUARD_KIND_POLICY,
                                              ws->data, ws->len);
        }

        return ngx_http_tenant_guard_admin_done(r,
                                                "{\"updated\":\"%s\"}\n",
                                                part->field);
    }

    if (tmcf->zone == NULL) {
        tg_policy_free(&np);

        return ngx_http_tenant_guard_admin_error(r, NGX_HTTP_CONFLICT,
                                       "no_zone",
                                       "policy writes need tenant_guard_zone");
    }

    /* embedded: the policy in force, with this part replaced */

    cur = ngx_http_tenant_guard_store_policy_embedded(r, ws);
    if (cur == NULL) {
        cur = ngx_http_tenant_guard_policy_file_find(r, ws);
    }

    p = *cur;

    if (ngx_strcmp(part->field, "ipPolicy") == 0) {
        p.has_ip = np.has_ip;
        p.ip_enabled = np.ip_enabled;
        p.ip_support = np.ip_support;
        p.ip = np.ip;

    } else if (ngx_strcmp(part->field, "ban") == 0) {
        p.has_ban = np.has_ban;
        p.ban = np.ban;

    } else if (ngx_strcmp(part->field, "mfa") == 0) {
        p.mfa_required = np.mfa_required;

    } else if (ngx_strcmp(part->field, "general") == 0) {
        p.lifetime = np.lifetime;

    } else {
        p.max_idle = np.max_idle;
    }

    rc = ngx_http_tenant_guard_store_policy_admin(r->pool, tmcf->zone, ws, &p);

    tg_policy_free(&np);

    if (rc != NGX_OK) {
        return ngx_http_tenant_guard_admin_error(r,
                                      NGX_HTTP_INSUFFICIENT_STORAGE,
                                      "zone_full",
                                      "the zone has no room for it");
    }

    return ngx_http_tenant_guard_admin_done(r,
                                            "{\"updated\":\"%s\"}\n",
                                            part->field);
}


/* Redis's answer to a GET of a part: records it and answers */

static void
ngx_http_tenant_guard_admin_policy_got(ngx_http_request_t *r, void *data,
    ngx_http_tenant_guard_reply_t *reply)
{
    ngx_http_tenant_guard_admin_ctx_t *actx = data;

    ngx_int_t     rc;
    ngx_buf_t    *b;
    ngx_chain_t  *out;

    if (reply == NULL || reply->type == NGX_HTTP_TENANT_GUARD_REPLY_ERROR) {
        rc = ngx_http_tenant_guard_admin_error(r,
                                      NGX_HTTP_SERVICE_UNAVAILABLE,
                                      "temporarily_unavailable",
                                      "redis did not answer");

    } else if (reply->type == NGX_HTTP_TENANT_GUARD_REPLY_STRING) {
        b = ngx_calloc_buf(r->pool);
        out = ngx_alloc_chain_link(r->pool);

        if (b == NULL || out == NULL) {
            rc = NGX_HTTP_INTERNAL_SERVER_ERROR;

        } else {
            b->pos = reply->str.data;
            b->last = reply->str.data + reply->str.len;
            b->memory = 1;
            b->last_buf = 1;
            b->last_in_chain = 1;
            out->buf = b;
            out->next = NULL;

            rc = ngx_http_tenant_guard_admin_send(r, NGX_HTTP_OK, out, 0);
        }

    } else {

        /* none in Redis: the file's is in force */

        rc = ngx_http_tenant_guard_admin_policy_show(r,
                          ngx_http_tenant_guard_policy_file_find(r, &actx->ws),
                          actx->field);
    }

    ngx_http_finalize_request(r, rc);
}


/* a part of a policy in the IAM's JSON shape */

static ngx_int_t
ngx_http_tenant_guard_admin_policy_show(ngx_http_request_t *r,
    const tg_policy_t *p, const char *field)
{
    u_char             *s;
    size_t              i;
    ngx_buf_t          *b;
    ngx_chain_t        *out;
    const tg_ban_settings_t  *ban;

    b = ngx_create_temp_buf(r->pool, 1024 + p->ip.n * 64);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    s = b->last;

    if (ngx_strcmp(field, "ipPolicy") == 0) {
        s = ngx_sprintf(s, "{\"enabled\":%s,\"enableSupportSubnets\":%s,"
                        "\"ipPolicy\":[",
                        p->has_ip && p->ip_enabled ? "true" : "false",
                        p->has_ip && p->ip_support ? "true" : "false");

        for (i = 0; p->has_ip && i < p->ip.n; i++) {
            if (i) {
                *s++ = ',';
            }

            *s++ = '"';
            s = ngx_http_tenant_guard_admin_cidr(s, &p->ip.items[i]);
            *s++ = '"';
        }

        s = ngx_cpymem(s, "]}\n", 3);

    } else if (ngx_strcmp(field, "ban") == 0) {
        ban = &p->ban;

        s = ngx_sprintf(s, "{\"blockingForClientEnabled\":%s,"
                        "\"firstBanThreshold\":%L,"
                        "\"firstBanCollectingTime\":%L,"
                        "\"firstBanDuration\":%L,"
                        "\"secondBanThreshold\":%L,"
                        "\"secondBanCollectingTime\":%L,"
                        "\"secondBanDuration\":%L,"
                        "\"permanentBanThreshold\":%L,"
                        "\"permanentBanCollectingTime\":%L,"
                        "\"permanentBanDuration\":%L}\n",
                        ban->blocking ? "true" : "false",
                        ban->first.threshold, ban->first.collecting,
                        ban->first.duration, ban->second.threshold,
                        ban->second.collecting, ban->second.duration,
                        ban->permanent.threshold, ban->permanent.collecting,
                        ban->permanent.duration);

    } else if (ngx_strcmp(field, "mfa") == 0) {
        s = ngx_sprintf(s, "{\"required\":%s}\n",
                        p->mfa_required ? "true" : "false");

    } else if (ngx_strcmp(field, "general") == 0) {
        s = ngx_sprintf(s, "{\"tokenLifetimeInSeconds\":%L}\n", p->lifetime);

    } else {
        s = ngx_sprintf(s, "{\"maxIdleTime\":%L}\n", p->max_idle);
    }

    b->last = s;
    b->last_buf = 1;
    b->last_in_chain = 1;

    out = ngx_alloc_chain_link(r->pool);
    if (out == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    out->buf = b;
    out->next = NULL;

    return ngx_http_tenant_guard_admin_send(r, NGX_HTTP_OK, out, 0);
}


static u_char *
ngx_http_tenant_guard_admin_cidr(u_char *p, tg_cidr_t *c)
{
    size_t      n, i, bits;
    ngx_uint_t  b;

    n = (c->family == TG_CIDR_V4) ? 4 : 16;

    p += ngx_inet_ntop(c->family == TG_CIDR_V4 ? AF_INET : AF_INET6,
                       c->addr, p, NGX_INET6_ADDRSTRLEN);

    bits = 0;

    for (i = 0; i < n; i++) {
        for (b = 0x80; b; b >>= 1) {
            bits += (c->mask[i] & b) ? 1 : 0;
        }
    }

    if (bits != n * 8) {
        p = ngx_sprintf(p, "/%uz", bits);
    }

    return p;
}


/* one notice line per write: method, path, the admin token's id */

static void
ngx_http_tenant_guard_admin_log(ngx_http_request_t *r)
{
    size_t                              i, n;
    u_char                              path[512];
    ngx_http_tenant_guard_admin_ctx_t  *actx;

    actx = ngx_http_get_module_ctx(r, ngx_http_tenant_guard_module);

    n = ngx_min(r->uri.len, sizeof(path));

    for (i = 0; i < n; i++) {
        path[i] = (r->uri.data[i] < 0x20 || r->uri.data[i] >= 0x7f)
                  ? '?' : r->uri.data[i];
    }

    ngx_log_error(NGX_LOG_NOTICE, r->connection->log, 0,
                  "tenant_guard admin: %V %*s by %*s",
                  &r->method_name, n, path, (size_t) 8, actx->id);
}


static ngx_int_t
ngx_http_tenant_guard_admin_send(ngx_http_request_t *r, ngx_uint_t status,
    ngx_chain_t *out, ngx_uint_t text)
{
    ngx_int_t    rc;
    off_t        len;
    ngx_chain_t  *cl;

    len = 0;

    for (cl = out; cl; cl = cl->next) {
        len += cl->buf->last - cl->buf->pos;
    }

    r->headers_out.status = status;

    if (text) {
        r->headers_out.content_type = ngx_http_tenant_guard_admin_text_type;

    } else {
        r->headers_out.content_type = ngx_http_tenant_guard_admin_json_type;
    }

    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_length_n = len;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    return ngx_http_output_filter(r, out);
}


static ngx_int_t
ngx_http_tenant_guard_admin_json(ngx_http_request_t *r, ngx_uint_t status,
    const char *fmt, ...)
{
    va_list       args;
    ngx_buf_t    *b;
    ngx_chain_t  *out;

    b = ngx_create_temp_buf(r->pool, 1024);
    out = ngx_alloc_chain_link(r->pool);

    if (b == NULL || out == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    va_start(args, fmt);
    b->last = ngx_vslprintf(b->pos, b->end, fmt, args);
    va_end(args);

    b->last_buf = 1;
    b->last_in_chain = 1;

    out->buf = b;
    out->next = NULL;

    return ngx_http_tenant_guard_admin_send(r, status, out, 0);
}


static ngx_int_t
ngx_http_tenant_guard_admin_error(ngx_http_request_t *r, ngx_uint_t status,
    const char *code, const char *description)
{
    u_char           *p;
    size_t            len;
    ngx_buf_t        *b;
    ngx_chain_t      *out;
    ngx_table_elt_t  *h;

    len = ngx_strlen(description);

    b = ngx_create_temp_buf(r->pool,
                            sizeof("{\"error\":\"\",\"error_description\":"
                                   "\"\"}\n")
                            + ngx_strlen(code) + len
                            + ngx_escape_json(NULL, (u_char *) description,
                                              len));
    out = ngx_alloc_chain_link(r->pool);

    if (b == NULL || out == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_sprintf(b->last, "{\"error\":\"%s\",\"error_description\":\"",
                    code);
    p = (u_char *) ngx_escape_json(p, (u_char *) description, len);
    b->last = ngx_cpymem(p, "\"}\n", 3);
    b->last_buf = 1;
    b->last_in_chain = 1;

    out->buf = b;
    out->next = NULL;

    if (status == NGX_HTTP_UNAUTHORIZED) {
        h = ngx_list_push(&r->headers_out.headers);
        if (h == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        h->hash = 1;
        ngx_str_set(&h->key, "WWW-Authenticate");
        ngx_str_set(&h->value, "Bearer realm=\"tenant_guard admin\"");

        r->headers_out.www_authenticate = h;
    }

    return ngx_http_tenant_guard_admin_send(r, status, out, 0);
}


/*
 * A write's answer: with Redis, once Redis has run it (a PING after it on
 * the same link comes back), else at once; and its notice line.
 */

static ngx_int_t
ngx_http_tenant_guard_admin_done(ngx_http_request_t *r, const char *fmt, ...)
{
    u_char                              *p;
    va_list                              args;
    ngx_int_t                            rc;
    ngx_http_tenant_guard_admin_ctx_t   *actx;
    ngx_http_tenant_guard_main_conf_t   *tmcf;

    tmcf = ngx_http_get_module_main_conf(r, ngx_http_tenant_guard_module);
    actx = ngx_http_get_module_ctx(r, ngx_http_tenant_guard_module);

    p = ngx_pnalloc(r->pool, 256);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    va_start(args, fmt);
    actx->answer.len = ngx_vslprintf(p, p + 256, fmt, args) - p;
    va_end(args);

    actx->answer.data = p;

    if (tmcf->redis == NULL) {
        ngx_http_tenant_guard_admin_log(r);

        return ngx_http_tenant_guard_admin_json(r, NGX_HTTP_OK, "%V",
                                                &actx->answer);
    }

    rc = ngx_http_tenant_guard_store_confirm(r,
                                        ngx_http_tenant_guard_admin_confirmed,
                                        actx);
    if (rc != NGX_OK) {
        return ngx_http_tenant_guard_admin_error(r,
                                      NGX_HTTP_SERVICE_UNAVAILABLE,
                                      "temporarily_unavailable",
                                      "redis is unavailable: the write is "
                                      "not confirmed");
    }

    r->main->count++;

    return NGX_DONE;
}


static void
ngx_http_tenant_guard_admin_confirmed(ngx_http_request_t *r, void *data,
    ngx_http_tenant_guard_reply_t *reply)
{
    ngx_http_tenant_guard_admin_ctx_t *actx = data;

    ngx_int_t  rc;

    /* the PING came back, but a write before it may have been refused */

    if (reply == NULL || reply->type == NGX_HTTP_TENANT_GUARD_REPLY_ERROR
        || ngx_http_tenant_guard_redis_send_errors() != actx->send_errors)
    {
        rc = ngx_http_tenant_guard_admin_error(r,
                                      NGX_HTTP_SERVICE_UNAVAILABLE,
                                      "temporarily_unavailable",
                                      "redis did not confirm the write");

    } else {
        ngx_http_tenant_guard_admin_log(r);

        rc = ngx_http_tenant_guard_admin_json(r, NGX_HTTP_OK, "%V",
                                              &actx->answer);
    }

    ngx_http_finalize_request(r, rc);
}


/*
 * What a ban line names, so that an operator can lift it through this
 * API: the identifier's hash as the zone and Redis key it, or the address.
 */

u_char *
ngx_http_tenant_guard_admin_ban_name(u_char *p, ngx_uint_t kind, u_char *key,
    size_t len)
{
    if (kind == NGX_HTTP_TENANT_GUARD_KIND_BAN_ID) {
        p = ngx_cpymem(p, "identifier hash: ", 17);
        return ngx_hex_dump(p, key, ngx_min(len, 32));
    }

    if (kind != NGX_HTTP_TENANT_GUARD_KIND_BAN_IP) {
        return ngx_sprintf(p, "a revocation or policy, kind %ui", kind);
    }

    p = ngx_cpymem(p, "address: ", 9);

    if (len != 4 && len != 16) {
        return ngx_cpymem(p, "?", 1);
    }

    return p + ngx_inet_ntop(len == 4 ? AF_INET : AF_INET6, key, p,
                             NGX_INET6_ADDRSTRLEN);
}


/*
 * A failed login's identifier, kept beside its hash (cache: it may give
 * way) so that the bans listing shows it and its workspace: the workspace
 * (at most 255 bytes, its length first) and the identifier as hashed.
 */

void
ngx_http_tenant_guard_admin_ban_note(ngx_http_tenant_guard_zone_t *zone,
    ngx_str_t *ws, ngx_str_t *id, u_char *key)
{
    u_char      *p;
    size_t       i, n;
    u_char       buf[1 + 255 + NGX_HTTP_TENANT_GUARD_MAX_ID];

    if (zone == NULL || ws->len > 255 || id->len == 0) {
        return;
    }

    p = buf;
    *p++ = (u_char) ws->len;
    p = ngx_cpymem(p, ws->data, ws->len);

    n = ngx_min(id->len, NGX_HTTP_TENANT_GUARD_MAX_ID);

    for (i = 0; i < n; i++) {
        *p++ = ngx_tolower(id->data[i]);
    }

    (void) ngx_http_tenant_guard_zone_put(zone,
                                          NGX_HTTP_TENANT_GUARD_KIND_BAN_NAME,
                                          key, 32, buf, p - buf,
                                          ngx_time()
                                          + NGX_HTTP_TENANT_GUARD_BAN_NAME_TTL);
}
