
/*
 * Copyright (C) tenant_guard authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_tenant_guard_module.h"


static ngx_int_t ngx_http_tenant_guard_headers_copy(ngx_http_request_t *r,
    ngx_http_tenant_guard_loc_conf_t *lcf, ngx_uint_t n, ngx_uint_t strip);
static ngx_uint_t ngx_http_tenant_guard_headers_match(
    ngx_http_tenant_guard_loc_conf_t *lcf, ngx_table_elt_t *h);
static ngx_int_t ngx_http_tenant_guard_headers_add(ngx_http_request_t *r,
    ngx_table_elt_t *header, ngx_str_t *value);


static ngx_str_t  ngx_http_tenant_guard_true = ngx_string("true");
static ngx_str_t  ngx_http_tenant_guard_false = ngx_string("false");


/*
 * The upstream headers' names, lowercase and hashes, made with the
 * location's configuration rather than for every request.
 */

ngx_int_t
ngx_http_tenant_guard_headers_prepare(ngx_conf_t *cf,
    ngx_http_tenant_guard_loc_conf_t *lcf)
{
    ngx_uint_t        i;
    ngx_table_elt_t  *h;

    for (i = 0; i < NGX_HTTP_TENANT_GUARD_NHEADERS; i++) {
        h = &lcf->header_elts[i];

        ngx_memzero(h, sizeof(ngx_table_elt_t));

        h->key = lcf->headers[i];

        h->lowcase_key = ngx_pnalloc(cf->pool, h->key.len ? h->key.len : 1);
        if (h->lowcase_key == NULL) {
            return NGX_ERROR;
        }

        h->hash = ngx_hash_strlow(h->lowcase_key, h->key.data, h->key.len);
    }

    return NGX_OK;
}


/*
 * Removes every client-sent copy of the tenant headers.  The list is
 * rebuilt only when there is something to remove, so the common request
 * pays one scan of its headers.
 */

ngx_int_t
ngx_http_tenant_guard_headers_strip(ngx_http_request_t *r,
    ngx_http_tenant_guard_loc_conf_t *lcf)
{
    ngx_uint_t        i, n, found;
    ngx_table_elt_t  *h;
    ngx_list_part_t  *part;

    found = 0;
    n = 0;

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

        n++;
        found |= ngx_http_tenant_guard_headers_match(lcf, &h[i]);
    }

    if (!found) {
        return NGX_OK;
    }

    return ngx_http_tenant_guard_headers_copy(r, lcf, n, 1);
}


/*
 * The request's own list of headers, a copy of the old one, without the
 * tenant headers when strip is set.  The old elements stay in the pool,
 * so the pointers that r->headers_in keeps to known headers remain valid;
 * a subrequest, which shares its parent's list, gets one of its own.
 */

static ngx_int_t
ngx_http_tenant_guard_headers_copy(ngx_http_request_t *r,
    ngx_http_tenant_guard_loc_conf_t *lcf, ngx_uint_t n, ngx_uint_t strip)
{
    ngx_uint_t        i;
    ngx_list_t        old;
    ngx_table_elt_t  *h, *copy;
    ngx_list_part_t  *part;

    old = r->headers_in.headers;

    if (ngx_list_init(&r->headers_in.headers, r->pool,
                      n + NGX_HTTP_TENANT_GUARD_NHEADERS,
                      sizeof(ngx_table_elt_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    part = &old.part;
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

        if (strip && ngx_http_tenant_guard_headers_match(lcf, &h[i])) {
            ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                           "tenant_guard: removed client header \"%V: %V\"",
                           &h[i].key, &h[i].value);
            continue;
        }

        copy = ngx_list_push(&r->headers_in.headers);
        if (copy == NULL) {
            return NGX_ERROR;
        }

        *copy = h[i];
    }

    return NGX_OK;
}


static ngx_uint_t
ngx_http_tenant_guard_headers_match(ngx_http_tenant_guard_loc_conf_t *lcf,
    ngx_table_elt_t *h)
{
    u_char      c;
    ngx_str_t  *name;
    ngx_uint_t  i, j;

    name = lcf->strip->elts;

    for (i = 0; i < lcf->strip->nelts; i++) {
        if (name[i].len != h->key.len) {
            continue;
        }

        /* "X_Workspace_Id" reaches a CGI-style backend as X-Workspace-Id */

        for (j = 0; j < h->key.len; j++) {
            c = ngx_tolower(h->key.data[j]);

            if (c == '_') {
                c = '-';
            }

            if (c != name[i].data[j]) {
                break;
            }
        }

        if (j == h->key.len) {
            return 1;
        }
    }

    return 0;
}


ngx_int_t
ngx_http_tenant_guard_headers_set(ngx_http_request_t *r,
    ngx_http_tenant_guard_loc_conf_t *lcf, ngx_http_tenant_guard_ctx_t *ctx)
{
    ngx_uint_t  i;

    /* a subrequest adds to a list of its own, not to its parent's */

    if (r != r->main
        && ngx_http_tenant_guard_headers_copy(r, lcf, 8, 0) != NGX_OK)
    {
        return NGX_ERROR;
    }

    for (i = 0; i < NGX_HTTP_TENANT_GUARD_NIDS; i++) {
        if (ctx->ids[i].data != NULL
            && ngx_http_tenant_guard_headers_add(r, &lcf->header_elts[i],
                                                 &ctx->ids[i])
               != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    if (ctx->scopes.data != NULL
        && ngx_http_tenant_guard_headers_add(r,
                           &lcf->header_elts[NGX_HTTP_TENANT_GUARD_SCOPES],
                           &ctx->scopes)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_tenant_guard_headers_add(r,
                           &lcf->header_elts[NGX_HTTP_TENANT_GUARD_MFA],
                               ctx->mfa ? &ngx_http_tenant_guard_true
                                        : &ngx_http_tenant_guard_false);
}


static ngx_int_t
ngx_http_tenant_guard_headers_add(ngx_http_request_t *r,
    ngx_table_elt_t *header, ngx_str_t *value)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_in.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    /* the name, its lowercase and its hash are the location's */

    *h = *header;
    h->value = *value;

    return NGX_OK;
}


ngx_table_elt_t *
ngx_http_tenant_guard_headers_out(ngx_http_request_t *r, ngx_str_t *key,
    ngx_str_t *value)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NULL;
    }

    h->hash = 1;
    h->key = *key;
    h->value = *value;
    h->lowcase_key = NULL;

#if (nginx_version >= 1023000)
    h->next = NULL;
#endif

    return h;
}
