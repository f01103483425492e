
/*
 * Copyright (C) tenant_guard authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/obj_mac.h>

#include "ngx_http_tenant_guard_module.h"
#include "ngx_http_tenant_guard_keys.h"


/*
 * "tenant_guard_keys_url": the key set of the identity provider, fetched
 * by a subrequest to a location the operator declares (normally internal,
 * proxying the IdP's JWKS URL).  The fetch is a background subrequest
 * that carries nothing of the client's; its body is validated, then
 * published to the zone as JSON with a generation number.  Each worker
 * parses a generation once and verifies with its own copy; a verdict kept
 * in the zone names the generation it was made under (ctx->fingerprint).
 *
 * A request that has no key set at all (no fetch yet, no file to start
 * from), or whose kid is unknown while a refetch is allowed, waits for
 * the fetch: it polls the zone on a timer, whichever worker fetches.
 */


#define NGX_HTTP_TENANT_GUARD_KEYS_POLL      50     /* ms */
#define NGX_HTTP_TENANT_GUARD_KEYS_MAX_SIZE  65536
#define NGX_HTTP_TENANT_GUARD_KEYS_REFRESH   300
#define NGX_HTTP_TENANT_GUARD_KEYS_REFETCH   60


typedef struct {
    ngx_http_tenant_guard_keys_url_t  *url;
    uint64_t                           lease_id;
    ngx_uint_t                         done;
} ngx_http_tenant_guard_keys_fetch_t;


typedef struct {
    ngx_event_t                        ev;
    time_t                             deadline;
    ngx_uint_t                         kid;   /* waited for a refetch once */
    ngx_uint_t                         pending; /* until the fetch ends */
    ngx_uint_t                         woken; /* has waited once */
} ngx_http_tenant_guard_keys_wait_t;


static ngx_int_t ngx_http_tenant_guard_keys_uri(ngx_str_t *uri,
    ngx_str_t *path, ngx_str_t *args);
static ngx_int_t ngx_http_tenant_guard_keys_url_server(ngx_conf_t *cf,
    ngx_http_tenant_guard_main_conf_t *tmcf,
    ngx_http_tenant_guard_keys_url_t *url);
static ngx_int_t ngx_http_tenant_guard_keys_sync(
    ngx_http_tenant_guard_keys_url_t *url, ngx_log_t *log);
static ngx_int_t ngx_http_tenant_guard_keys_fetch(ngx_http_request_t *r,
    ngx_http_tenant_guard_keys_url_t *url, uint64_t lease_id);
static ngx_int_t ngx_http_tenant_guard_keys_fetched(ngx_http_request_t *r,
    void *data, ngx_int_t rc);
static void ngx_http_tenant_guard_keys_fetch_cleanup(void *data);
static const char *ngx_http_tenant_guard_keys_check(ngx_http_request_t *sr,
    ngx_http_tenant_guard_keys_url_t *url, ngx_int_t rc, u_char **json,
    size_t *len, ngx_uint_t *rejected);
static void ngx_http_tenant_guard_keys_adopt(ngx_http_request_t *sr,
    ngx_http_tenant_guard_keys_fetch_t *f, u_char *json, size_t len);
static void ngx_http_tenant_guard_keys_fail(ngx_http_request_t *sr,
    ngx_http_tenant_guard_keys_fetch_t *f, ngx_uint_t rejected,
    const char *why);
static ngx_uint_t ngx_http_tenant_guard_keys_usable(tg_keyset_t *set,
    ngx_uint_t algorithms);
static time_t ngx_http_tenant_guard_keys_max_age(ngx_http_request_t *sr,
    ngx_http_tenant_guard_keys_url_t *url);
static ngx_table_elt_t *ngx_http_tenant_guard_keys_header(
    ngx_http_request_t *sr, const char *name, size_t len);
static ngx_int_t ngx_http_tenant_guard_keys_wait(ngx_http_request_t *r,
    ngx_http_tenant_guard_ctx_t *ctx);
static ngx_http_tenant_guard_keys_wait_t *ngx_http_tenant_guard_keys_waiter(
    ngx_http_request_t *r, ngx_http_tenant_guard_ctx_t *ctx);
static void ngx_http_tenant_guard_keys_wake(ngx_event_t *ev);
static void ngx_http_tenant_guard_keys_wait_cleanup(void *data);


/* tenant_guard_keys_url URI [refresh=T] [min_refetch=T] [max_size=SIZE] */

char *
ngx_http_tenant_guard_keys_url(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_tenant_guard_loc_conf_t *lcf = conf;

    time_t                             t;
    ssize_t                            size;
    ngx_str_t                         *value, s;
    ngx_uint_t                         i;
    ngx_http_tenant_guard_keys_url_t  *url;

    if (lcf->keys_url != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    url = ngx_pcalloc(cf->pool, sizeof(ngx_http_tenant_guard_keys_url_t));
    if (url == NULL) {
        return NGX_CONF_ERROR;
    }

    url->uri = value[1];

    if (ngx_http_tenant_guard_keys_uri(&url->uri, &url->path, &url->args)
        != NGX_OK)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid URI \"%V\": the path of a location is "
                           "expected, such as \"/_jwks\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    url->refresh = NGX_HTTP_TENANT_GUARD_KEYS_REFRESH;
    url->min_refetch = NGX_HTTP_TENANT_GUARD_KEYS_REFETCH;
    url->max_size = NGX_HTTP_TENANT_GUARD_KEYS_MAX_SIZE;

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "refresh=", 8) == 0
            || ngx_strncmp(value[i].data, "min_refetch=", 12) == 0)
        {
            s.data = (u_char *) ngx_strchr(value[i].data, '=') + 1;
            s.len = value[i].data + value[i].len - s.data;

            t = ngx_parse_time(&s, 1);

            if (t == (time_t) NGX_ERROR || t <= 0 || t > 86400 * 365) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid time \"%V\"", &value[i]);
                return NGX_CONF_ERROR;
            }

            if (value[i].data[0] == 'r') {
                url->refresh = t;

            } else {
                url->min_refetch = t;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "max_size=", 9) == 0) {
            s.data = value[i].data + 9;
            s.len = value[i].len - 9;

            size = ngx_parse_size(&s);

            if (size == NGX_ERROR || size <= 0
                || size > TG_JWKS_MAX_SIZE)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid size \"%V\" (at most %d)",
                                   &value[i], TG_JWKS_MAX_SIZE);
                return NGX_CONF_ERROR;
            }

            url->max_size = (size_t) size;
            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[i]);
        return NGX_CONF_ERROR;
    }

    url->crc = ngx_crc32_long(url->uri.data, url->uri.len);

    /* monotonic, as the zone outlives a reload, not a restart */
    ngx_time_update();
    url->loaded = ngx_current_msec;

    lcf->keys_url = url;

    return NGX_CONF_OK;
}


/*
 * The URI of a location: printable ASCII from a '/', no '%' (no encoding
 * to read twice), no fragment, no dot segment or empty segment.
 */

static ngx_int_t
ngx_http_tenant_guard_keys_uri(ngx_str_t *uri, ngx_str_t *path,
    ngx_str_t *args)
{
    u_char  *p, *last, *seg;

    if (uri->len == 0 || uri->data[0] != '/') {
        return NGX_ERROR;
    }

    last = uri->data + uri->len;

    for (p = uri->data; p < last; p++) {
        if (*p <= 0x20 || *p >= 0x7f || *p == '%' || *p == '#'
            || *p == '\\')
        {
            return NGX_ERROR;
        }
    }

    p = ngx_strlchr(uri->data, last, '?');

    path->data = uri->data;
    path->len = (p ? p : last) - uri->data;

    if (p != NULL) {
        args->data = p + 1;
        args->len = last - args->data;
    }

    last = path->data + path->len;
    seg = path->data + 1;

    for (p = seg; p <= last; p++) {
        if (p < last && *p != '/') {
            continue;
        }

        if ((p - seg == 0 && p < last)
            || (p - seg == 1 && seg[0] == '.')
            || (p - seg == 2 && seg[0] == '.' && seg[1] == '.'))
        {
            return NGX_ERROR;
        }

        seg = p + 1;
    }

    return NGX_OK;
}


/* called by the location merge: the zone it needs, the algorithms it serves */

char *
ngx_http_tenant_guard_keys_url_merge(ngx_conf_t *cf,
    ngx_http_tenant_guard_loc_conf_t *prev,
    ngx_http_tenant_guard_loc_conf_t *conf)
{
    ngx_http_tenant_guard_main_conf_t  *tmcf;

    ngx_conf_merge_ptr_value(conf->keys_url, prev->keys_url, NULL);

    if (conf->keys_url == NULL) {
        return NGX_CONF_OK;
    }

    tmcf = ngx_http_conf_get_module_main_conf(cf,
                                              ngx_http_tenant_guard_module);

    if (tmcf->zone == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"tenant_guard_keys_url\" needs "
                           "\"tenant_guard_zone\"");
        return NGX_CONF_ERROR;
    }

    conf->keys_url->zone = tmcf->zone;

    if (conf->enable) {
        conf->keys_url->algorithms |= conf->algorithms;

        if (ngx_http_tenant_guard_keys_url_server(cf, tmcf, conf->keys_url)
            != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


/*
 * The zone keeps one key set per URI, and the URI names a location of the
 * request's server: the same URI fetched through two servers (two
 * locations, maybe two IdPs) would give one server's keys to the other.
 */

static ngx_int_t
ngx_http_tenant_guard_keys_url_server(ngx_conf_t *cf,
    ngx_http_tenant_guard_main_conf_t *tmcf,
    ngx_http_tenant_guard_keys_url_t *url)
{
    ngx_uint_t                          i;
    ngx_http_core_srv_conf_t           *cscf;
    ngx_http_tenant_guard_keys_url_t  **u, **p;

    cscf = ngx_http_conf_get_module_srv_conf(cf, ngx_http_core_module);

    if (url->server == cscf) {
        return NGX_OK;
    }

    if (tmcf->keys_urls == NULL) {
        tmcf->keys_urls = ngx_array_create(cf->pool, 4, sizeof(void *));
        if (tmcf->keys_urls == NULL) {
            return NGX_ERROR;
        }
    }

    u = tmcf->keys_urls->elts;

    for (i = 0; i < tmcf->keys_urls->nelts; i++) {
        if (u[i]->server != cscf
            && u[i]->uri.len == url->uri.len
            && ngx_strncmp(u[i]->uri.data, url->uri.data, url->uri.len) == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"tenant_guard_keys_url %V\" is used in "
                               "two servers; the zone keeps one key set per "
                               "URI: give each server's JWKS location a "
                               "path of its own", &url->uri);
            return NGX_ERROR;
        }
    }

    if (url->server != NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"tenant_guard_keys_url %V\" is used in two "
                           "servers; the zone keeps one key set per URI: "
                           "give each server's JWKS location a path of its "
                           "own", &url->uri);
        return NGX_ERROR;
    }

    url->server = cscf;

    p = ngx_array_push(tmcf->keys_urls);
    if (p == NULL) {
        return NGX_ERROR;
    }

    *p = url;

    return NGX_OK;
}


/*
 * At the token step, for a JWT: the worker's copy made current, a refresh
 * started when one is due, and the key set and fingerprint the request
 * uses.  NGX_OK; NGX_AGAIN while waiting for a first key set; NGX_BUSY:
 * no key set at all (503); NGX_ERROR.
 */

ngx_int_t
ngx_http_tenant_guard_keys_prepare(ngx_http_request_t *r,
    ngx_http_tenant_guard_loc_conf_t *lcf, ngx_http_tenant_guard_ctx_t *ctx)
{
    uint32_t                            crc;
    uint64_t                            lease_id, generation;
    ngx_int_t                           rc;
    ngx_http_tenant_guard_keys_url_t   *url;
    ngx_http_tenant_guard_keys_wait_t  *w;

    url = lcf->keys_url;

    /* the zone's record, found once per worker; then one look a request */

    if (url->jwks == NULL
        && ngx_http_tenant_guard_keys_sync(url, r->connection->log) != NGX_OK)
    {
        return NGX_ERROR;
    }

    /*
     * a variable read before the access phase (or in the log phase) never
     * starts a fetch or waits for one: it uses the set there is, and
     * leaves the rest to the access step
     */

    if (ctx->early) {
        if (ngx_http_tenant_guard_keys_sync(url, r->connection->log)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        if (url->generation == 0 && lcf->keys == NULL) {
            ctx->deferred = 1;
            return NGX_BUSY;
        }

        rc = NGX_DECLINED;
        goto current;
    }

    w = ctx->keys_wait;

    if (w != NULL && w->woken && !w->pending
        && url->generation == 0 && lcf->keys == NULL)
    {
        /*
         * waited for a first key set, and there is none yet: wait while
         * a fetch runs, but never start another (a failed cold start is
         * one fetch per retry delay, not one per waiting request)
         */

        rc = ngx_http_tenant_guard_zone_jwks_running(url->zone, url->jwks,
                                                     &generation);

    } else {
        rc = ngx_http_tenant_guard_zone_jwks_claim(url->zone, url->jwks, 0,
                                         0, NGX_HTTP_TENANT_GUARD_KEYS_LEASE,
                                         url->loaded, &lease_id, &generation);
    }

    if (rc == NGX_OK) {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "tenant_guard: refreshing keys from \"%V\"",
                       &url->uri);

        if (ngx_http_tenant_guard_keys_fetch(r, url, lease_id) != NGX_OK) {
            ngx_http_tenant_guard_zone_jwks_failed(url->zone, url->jwks,
                                  lease_id, 0,
                                  NGX_HTTP_TENANT_GUARD_KEYS_RETRY,
                                  NULL);
            rc = NGX_DECLINED;
        }
    }

    /* a new generation: parsed once by this worker */

    if (generation != url->generation
        && ngx_http_tenant_guard_keys_sync(url, r->connection->log) != NGX_OK)
    {
        return NGX_ERROR;
    }

    w = ctx->keys_wait;

    if ((url->generation == 0 && lcf->keys == NULL)
        || (w != NULL && w->pending))
    {
        /* nothing to verify with, or a refetch for the kid: wait for it */

        if (rc == NGX_OK || rc == NGX_BUSY) {
            rc = ngx_http_tenant_guard_keys_wait(r, ctx);

            if (rc != NGX_DECLINED) {
                return rc;
            }
        }

        if (w != NULL) {
            w->pending = 0;
        }

        if (url->generation == 0 && lcf->keys == NULL) {
            /* the fetch's failure was logged, once: this is a refusal */

            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "tenant_guard: no key set from \"%V\" yet",
                          &url->uri);

            return NGX_BUSY;
        }
    }

current:

    if (url->generation == 0) {
        ctx->fingerprint = lcf->fingerprint;
        ctx->keyset = &lcf->keys->set;
        return NGX_OK;
    }

    /* a verdict holds under this very key set only */

    ngx_crc32_init(crc);
    ngx_crc32_update(&crc, (u_char *) &lcf->fingerprint, sizeof(uint32_t));
    ngx_crc32_update(&crc, (u_char *) &url->crc, sizeof(uint32_t));
    ngx_crc32_update(&crc, (u_char *) &url->generation, sizeof(uint64_t));
    ngx_crc32_final(crc);

    ctx->fingerprint = crc;
    ctx->keyset = &url->set;

    return NGX_OK;
}


/*
 * A token whose kid no key has: one refetch per min_refetch, which this
 * request waits for (and so does one that comes while a fetch runs), once.
 * NGX_AGAIN: waiting; NGX_DECLINED: refuse it now; NGX_ERROR.
 */

ngx_int_t
ngx_http_tenant_guard_keys_unknown_kid(ngx_http_request_t *r,
    ngx_http_tenant_guard_loc_conf_t *lcf, ngx_http_tenant_guard_ctx_t *ctx)
{
    uint64_t                            lease_id, generation;
    ngx_int_t                           rc;
    ngx_http_tenant_guard_keys_url_t   *url;
    ngx_http_tenant_guard_keys_wait_t  *w;

    url = lcf->keys_url;

    if (ctx->early) {
        /* the access step refetches, and waits; a variable cannot */
        ctx->deferred = 1;
        return NGX_DECLINED;
    }

    w = ngx_http_tenant_guard_keys_waiter(r, ctx);
    if (w == NULL) {
        return NGX_ERROR;
    }

    if (w->kid) {
        return NGX_DECLINED;
    }

    rc = ngx_http_tenant_guard_zone_jwks_claim(url->zone, url->jwks, 1,
                                         url->min_refetch,
                                         NGX_HTTP_TENANT_GUARD_KEYS_LEASE,
                                         url->loaded, &lease_id, &generation);

    if (rc == NGX_DECLINED) {
        return NGX_DECLINED;
    }

    if (rc == NGX_OK) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "tenant_guard: unknown kid, refetching keys from "
                      "\"%V\", token_id: %V", &url->uri, &ctx->token_id);

        if (ngx_http_tenant_guard_keys_fetch(r, url, lease_id) != NGX_OK) {
            ngx_http_tenant_guard_zone_jwks_failed(url->zone, url->jwks,
                                  lease_id, 0,
                                  NGX_HTTP_TENANT_GUARD_KEYS_RETRY,
                                  NULL);
            return NGX_DECLINED;
        }
    }

    w->kid = 1;
    w->pending = 1;

    rc = ngx_http_tenant_guard_keys_wait(r, ctx);

    return (rc == NGX_AGAIN) ? NGX_AGAIN : NGX_DECLINED;
}


/* whether r is a key set fetch: no tenant_guard check applies to it */

ngx_uint_t
ngx_http_tenant_guard_keys_is_fetch(ngx_http_request_t *r)
{
    return r->post_subrequest != NULL
           && r->post_subrequest->handler == ngx_http_tenant_guard_keys_fetched;
}


/* the worker's parsed copy follows the zone's generation: parsed once */

static ngx_int_t
ngx_http_tenant_guard_keys_sync(ngx_http_tenant_guard_keys_url_t *url,
    ngx_log_t *log)
{
    u_char       *json;
    size_t        len;
    uint64_t      generation;
    ngx_int_t     rc;
    tg_keyset_t   set;
    char          err[256];

    if (url->jwks == NULL) {
        url->jwks = ngx_http_tenant_guard_zone_jwks(url->zone, &url->uri);

        if (url->jwks == NULL) {
            ngx_log_error(NGX_LOG_ERR, log, 0,
                          "tenant_guard: no room in the zone for the keys "
                          "of \"%V\"", &url->uri);
            return NGX_ERROR;
        }
    }

    rc = ngx_http_tenant_guard_zone_jwks_read(url->zone, url->jwks,
                                              url->generation, &generation,
                                              &json, &len);
    if (rc != NGX_OK) {
        return (rc == NGX_DECLINED) ? NGX_OK : NGX_ERROR;
    }

    ngx_memzero(&set, sizeof(tg_keyset_t));

    rc = tg_jwks_load(&set, json, len, err, sizeof(err));

    ngx_free(json);

    if (rc != 0) {
        /* it was valid when published: keep what the worker has */
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "tenant_guard: the key set of \"%V\" in the zone "
                      "does not load: %s", &url->uri, err);
        return NGX_ERROR;
    }

    if (url->generation) {
        tg_jwks_free(&url->set);
    }

    url->set = set;
    url->generation = generation;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, log, 0,
                   "tenant_guard: keys of \"%V\", generation %uL, loaded",
                   &url->uri, generation);

    return NGX_OK;
}


/*
 * The fetch: a background subrequest (the request does not wait for it
 * to send its response), in memory, with nothing of the client's: no
 * header (so no cookie, no Authorization, no Accept-Encoding), no body,
 * no arguments but the directive's, no request line, method GET.
 */

static ngx_int_t
ngx_http_tenant_guard_keys_fetch(ngx_http_request_t *r,
    ngx_http_tenant_guard_keys_url_t *url, uint64_t lease_id)
{
    ngx_http_request_t                  *sr;
    ngx_pool_cleanup_t                  *cln;
    ngx_http_post_subrequest_t          *ps;
    ngx_http_tenant_guard_keys_fetch_t  *f;

    f = ngx_pcalloc(r->pool, sizeof(ngx_http_tenant_guard_keys_fetch_t));
    if (f == NULL) {
        return NGX_ERROR;
    }

    f->url = url;
    f->lease_id = lease_id;


    ps = ngx_palloc(r->pool, sizeof(ngx_http_post_subrequest_t));
    if (ps == NULL) {
        return NGX_ERROR;
    }

    ps->handler = ngx_http_tenant_guard_keys_fetched;
    ps->data = f;

    if (ngx_http_subrequest(r, &url->path, url->args.len ? &url->args : NULL,
                            &sr, ps,
                            NGX_HTTP_SUBREQUEST_IN_MEMORY
                            |NGX_HTTP_SUBREQUEST_BACKGROUND)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* first of all, nothing of the client's, whatever fails below */

    ngx_memzero(&sr->headers_in, sizeof(ngx_http_headers_in_t));

    sr->headers_in.content_length_n = -1;
    sr->headers_in.keep_alive_n = -1;
    sr->request_body = NULL;
    sr->header_only = 0;
    sr->method = NGX_HTTP_GET;
    ngx_str_set(&sr->method_name, "GET");

    /* nor its request line: $request_uri is the fetch's, $request none */

    sr->unparsed_uri = url->uri;
    ngx_str_null(&sr->request_line);
    sr->request_start = NULL;

    /* the lease is given back by the caller: the fetch's end is ignored */

    if (ngx_list_init(&sr->headers_in.headers, r->pool, 1,
                      sizeof(ngx_table_elt_t))
        != NGX_OK)
    {
        f->done = 1;
        return NGX_ERROR;
    }

    /* from here, the fetch ends either way: in _fetched or in the cleanup */

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        f->done = 1;
        return NGX_ERROR;
    }

    cln->handler = ngx_http_tenant_guard_keys_fetch_cleanup;
    cln->data = f;

    return NGX_OK;
}


/*
 * The fetch's end (a post-subrequest handler): the body is checked and
 * published, or the failure counted; the last good set stays either way.
 * An error of the fetch is the fetch's alone: it never ends the request
 * that happened to start it.
 */

static ngx_int_t
ngx_http_tenant_guard_keys_fetched(ngx_http_request_t *r, void *data,
    ngx_int_t rc)
{
    ngx_http_tenant_guard_keys_fetch_t *f = data;

    u_char      *json;
    size_t       len;
    ngx_uint_t   rejected;
    const char  *why;

    if (rc == NGX_AGAIN) {
        return rc;
    }

    if (!f->done) {
        f->done = 1;

        why = ngx_http_tenant_guard_keys_check(r, f->url, rc, &json, &len,
                                               &rejected);

        if (why != NULL) {
            ngx_http_tenant_guard_keys_fail(r, f, rejected, why);

        } else {
            ngx_http_tenant_guard_keys_adopt(r, f, json, len);
        }
    }

    if (rc == NGX_ERROR || rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return NGX_OK;
    }

    return rc;
}


/*
 * The request that carried the fetch ended before the fetch did (the
 * client went away and nginx tore both down): the lease is given back at
 * once, so the next request need not wait for it to run out.
 */

static void
ngx_http_tenant_guard_keys_fetch_cleanup(void *data)
{
    ngx_http_tenant_guard_keys_fetch_t *f = data;

    if (f->done) {
        return;
    }

    f->done = 1;

    (void) ngx_http_tenant_guard_zone_jwks_failed(f->url->zone, f->url->jwks,
                                                  f->lease_id, 0, 0, NULL);

    ngx_log_error(NGX_LOG_INFO, ngx_cycle->log, 0,
                  "tenant_guard: fetching keys from \"%V\" was cut short: "
                  "its request ended", &f->url->uri);
}


/* NULL: the body is a key set to publish; else why not */

static const char *
ngx_http_tenant_guard_keys_check(ngx_http_request_t *sr,
    ngx_http_tenant_guard_keys_url_t *url, ngx_int_t rc, u_char **json,
    size_t *len, ngx_uint_t *rejected)
{
    u_char           *p, *last;
    ngx_buf_t        *b;
    ngx_uint_t        status;
    ngx_table_elt_t  *h;

    *rejected = 0;

    status = sr->headers_out.status;

    b = sr->out ? sr->out->buf : NULL;

    /*
     * A connection error is the subrequest's output overflowing
     * subrequest_output_buffer_size, or the client's connection failing
     * meanwhile (an HTTP/2 client gone once answered): the latter is no
     * failure of a fetch whose whole body, by its Content-Length, is here.
     */

    if (rc == NGX_ERROR || rc >= NGX_HTTP_SPECIAL_RESPONSE
        || (sr->connection->error
            && (b == NULL || sr->headers_out.content_length_n < 0
                || sr->headers_out.content_length_n
                   != (off_t) (b->last - b->pos))))
    {
        return "the fetch failed (no response, a timeout, or a body "
               "larger than subrequest_output_buffer_size)";
    }

    if (status < NGX_HTTP_OK || status >= NGX_HTTP_SPECIAL_RESPONSE) {
        return "the response status is not 2xx";
    }

    *rejected = 1;

    if (status != NGX_HTTP_OK) {
        return "the response status is not 200";
    }

    h = sr->headers_out.content_encoding;

    if ((h != NULL && h->hash != 0)
        || ngx_http_tenant_guard_keys_header(sr, "content-encoding", 16)
           != NULL)
    {
        return "the response has a Content-Encoding";
    }

    p = b ? b->pos : (u_char *) "";
    last = b ? b->last : p;

    *json = p;
    *len = last - p;

    if (*len > url->max_size
        || sr->headers_out.content_length_n > (off_t) url->max_size)
    {
        return "the key set is larger than max_size";
    }

    if (sr->headers_out.content_length_n >= 0
        && sr->headers_out.content_length_n != (off_t) *len)
    {
        *rejected = 0;
        return "the response is shorter than its Content-Length";
    }

    if (*len >= 2 && p[0] == 0x1f && p[1] == 0x8b) {
        return "the response is gzip-compressed";
    }

    while (p < last && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
    {
        p++;
    }

    if (p == last || *p != '{') {
        return "the response is not a JSON object";
    }

    return NULL;
}


/* a body that passed the checks: parsed, validated, then published */

static void
ngx_http_tenant_guard_keys_adopt(ngx_http_request_t *sr,
    ngx_http_tenant_guard_keys_fetch_t *f, u_char *json, size_t len)
{
    time_t                             ttl;
    uint64_t                           generation;
    ngx_int_t                          rc;
    ngx_uint_t                         n;
    tg_keyset_t                        set;
    ngx_http_tenant_guard_keys_url_t   *url;
    ngx_http_tenant_guard_keys_stats_t  st;
    char                                err[256];

    url = f->url;

    ngx_memzero(&set, sizeof(tg_keyset_t));

    if (tg_jwks_load(&set, json, len, err, sizeof(err)) != 0) {
        ngx_http_tenant_guard_keys_fail(sr, f, 1, err);
        return;
    }

    /* an IdP publishes public keys; a shared secret has no place there */

    if (set.noct) {
        tg_jwks_free(&set);
        ngx_http_tenant_guard_keys_fail(sr, f, 1,
                                        "the key set holds an \"oct\" key");
        return;
    }

    n = ngx_http_tenant_guard_keys_usable(&set, url->algorithms);

    if (n == 0) {
        tg_jwks_free(&set);
        ngx_http_tenant_guard_keys_fail(sr, f, 1, "no key of the set fits "
                                        "\"tenant_guard_algorithms\"");
        return;
    }

    ttl = ngx_http_tenant_guard_keys_max_age(sr, url);

    rc = ngx_http_tenant_guard_zone_jwks_publish(url->zone, url->jwks,
                                                 f->lease_id, json, len, n,
                                                 ngx_time() + ttl,
                                                 &generation, &st);
    if (rc != NGX_OK) {
        /* a failure as any other: no fetch again before the retry time */
        tg_jwks_free(&set);
        ngx_http_tenant_guard_keys_fail(sr, f, 0, "no room in the zone for "
                                        "the key set; make the zone larger");
        return;
    }

    if (generation == url->generation) {
        tg_jwks_free(&set);
        return;
    }

    if (url->generation) {
        tg_jwks_free(&url->set);
    }

    url->set = set;
    url->generation = generation;

    ngx_log_error(NGX_LOG_INFO, sr->connection->log, 0,
                  "tenant_guard: keys from \"%V\": %ui usable, "
                  "generation %uL, next refresh in %T s (fetches: %ui "
                  "success, %ui failure, %ui rejected)",
                  &url->uri, n, generation, ttl, st.successes, st.failures,
                  st.rejected);
}


static void
ngx_http_tenant_guard_keys_fail(ngx_http_request_t *sr,
    ngx_http_tenant_guard_keys_fetch_t *f, ngx_uint_t rejected,
    const char *why)
{
    time_t                               retry;
    ngx_http_tenant_guard_keys_url_t    *url;
    ngx_http_tenant_guard_keys_stats_t   st;

    url = f->url;

    retry = ngx_min(url->min_refetch, NGX_HTTP_TENANT_GUARD_KEYS_RETRY);

    if (ngx_http_tenant_guard_zone_jwks_failed(url->zone, url->jwks,
                                               f->lease_id, rejected,
                                               retry, &st))
    {
        ngx_log_error(NGX_LOG_WARN, sr->connection->log, 0,
                      "tenant_guard: fetching keys from \"%V\" %s: %s "
                      "(status %ui); the last good key set stays",
                      &url->uri, rejected ? "was rejected" : "failed",
                      why, sr->headers_out.status);
        return;
    }

    ngx_log_error(NGX_LOG_INFO, sr->connection->log, 0,
                  "tenant_guard: fetching keys from \"%V\" %s again: %s "
                  "(fetches: %ui success, %ui failure, %ui rejected)",
                  &url->uri, rejected ? "was rejected" : "failed", why,
                  st.successes, st.failures, st.rejected);
}


/* keys that some allowed algorithm can use: by type, curve and "alg" */

static ngx_uint_t
ngx_http_tenant_guard_keys_usable(tg_keyset_t *set, ngx_uint_t algorithms)
{
    int          alg;
    size_t       i;
    tg_key_t    *key;
    ngx_uint_t   n, fit;

    n = 0;

    for (i = 0; i < set->nkeys; i++) {
        key = &set->keys[i];

        switch (key->type) {

        case TG_KEY_RSA:
            fit = TG_ALG_BIT(TG_ALG_RS256) | TG_ALG_BIT(TG_ALG_RS384)
                  | TG_ALG_BIT(TG_ALG_RS512) | TG_ALG_BIT(TG_ALG_PS256)
                  | TG_ALG_BIT(TG_ALG_PS384) | TG_ALG_BIT(TG_ALG_PS512);
            break;

        case TG_KEY_EC:
            fit = (key->curve == NID_X9_62_prime256v1)
                  ? TG_ALG_BIT(TG_ALG_ES256)
                  : (key->curve == NID_secp384r1)
                    ? TG_ALG_BIT(TG_ALG_ES384)
                    : (key->curve == NID_secp521r1)
                      ? TG_ALG_BIT(TG_ALG_ES512) : 0;
            break;

        case TG_KEY_ED25519:
            fit = TG_ALG_BIT(TG_ALG_EDDSA);
            break;

        default:
            fit = 0;
        }

        if (key->alg[0] != '\0') {
            alg = tg_jwt_alg_by_name(key->alg, ngx_strlen(key->alg));
            fit &= (alg >= 0) ? TG_ALG_BIT(alg) : 0;
        }

        if (fit & algorithms) {
            n++;
        }
    }

    return n;
}


/* refresh, or the response's max-age within [min(1m, refresh), refresh] */

static time_t
ngx_http_tenant_guard_keys_max_age(ngx_http_request_t *sr,
    ngx_http_tenant_guard_keys_url_t *url)
{
    u_char           *p, *last;
    time_t            age, low;
    ngx_table_elt_t  *h;

    h = ngx_http_tenant_guard_keys_header(sr, "cache-control", 13);

    if (h == NULL) {
        return url->refresh;
    }

    low = ngx_min(60, url->refresh);

    p = h->value.data;
    last = p + h->value.len;

    if (ngx_strlcasestrn(p, last, (u_char *) "no-cache", 8 - 1) != NULL
        || ngx_strlcasestrn(p, last, (u_char *) "no-store", 8 - 1) != NULL)
    {
        return low;
    }

    p = ngx_strlcasestrn(p, last, (u_char *) "max-age=", 8 - 1);

    if (p == NULL) {
        return url->refresh;
    }

    p += 8;
    age = 0;

    while (p < last && *p >= '0' && *p <= '9' && age <= url->refresh) {
        age = age * 10 + (*p++ - '0');
    }

    return ngx_max(low, ngx_min(age, url->refresh));
}


/* a response header by its lowercase name: the first one */

static ngx_table_elt_t *
ngx_http_tenant_guard_keys_header(ngx_http_request_t *sr, const char *name,
    size_t len)
{
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    part = &sr->headers_out.headers.part;
    h = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                return NULL;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].hash != 0 && h[i].key.len == len
            && ngx_strncasecmp(h[i].key.data, (u_char *) name, len) == 0)
        {
            return &h[i];
        }
    }
}


/*
 * Waits on a timer, polling the zone (a fetch may run in another worker):
 * NGX_AGAIN, or NGX_DECLINED once a lease's time has passed in vain.
 */

static ngx_int_t
ngx_http_tenant_guard_keys_wait(ngx_http_request_t *r,
    ngx_http_tenant_guard_ctx_t *ctx)
{
    ngx_http_tenant_guard_keys_wait_t  *w;

    w = ngx_http_tenant_guard_keys_waiter(r, ctx);
    if (w == NULL) {
        return NGX_ERROR;
    }

    if (w->deadline == 0) {
        w->deadline = ngx_time() + NGX_HTTP_TENANT_GUARD_KEYS_LEASE + 1;
    }

    if (ngx_time() > w->deadline) {
        return NGX_DECLINED;
    }

    ngx_add_timer(&w->ev, NGX_HTTP_TENANT_GUARD_KEYS_POLL);

    return NGX_AGAIN;
}


static ngx_http_tenant_guard_keys_wait_t *
ngx_http_tenant_guard_keys_waiter(ngx_http_request_t *r,
    ngx_http_tenant_guard_ctx_t *ctx)
{
    ngx_pool_cleanup_t                 *cln;
    ngx_http_tenant_guard_keys_wait_t  *w;

    if (ctx->keys_wait != NULL) {
        return ctx->keys_wait;
    }

    w = ngx_pcalloc(r->pool, sizeof(ngx_http_tenant_guard_keys_wait_t));
    if (w == NULL) {
        return NULL;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    w->ev.handler = ngx_http_tenant_guard_keys_wake;
    w->ev.data = r;
    w->ev.log = r->connection->log;

    cln->handler = ngx_http_tenant_guard_keys_wait_cleanup;
    cln->data = w;

    ctx->keys_wait = w;

    return w;
}


/* the wait is over: the token step runs again and reads the zone */

static void
ngx_http_tenant_guard_keys_wake(ngx_event_t *ev)
{
    ngx_connection_t    *c;
    ngx_http_request_t  *r;

    r = ev->data;
    c = r->connection;

    ((ngx_http_tenant_guard_keys_wait_t *) ev)->woken = 1;

    r->write_event_handler = ngx_http_core_run_phases;
    ngx_http_core_run_phases(r);
    ngx_http_run_posted_requests(c);
}


static void
ngx_http_tenant_guard_keys_wait_cleanup(void *data)
{
    ngx_http_tenant_guard_keys_wait_t  *w = data;

    if (w->ev.timer_set) {
        ngx_del_timer(&w->ev);
    }
}
