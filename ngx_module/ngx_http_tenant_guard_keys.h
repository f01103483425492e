
/*
 * Copyright (C) tenant_guard authors
 */


#ifndef _NGX_HTTP_TENANT_GUARD_KEYS_H_INCLUDED_
#define _NGX_HTTP_TENANT_GUARD_KEYS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_tenant_guard_module.h"


/* a fetch holds the lease this long at most: then another may start */
#define NGX_HTTP_TENANT_GUARD_KEYS_LEASE     10

/* after a failed fetch, no refresh before min(min_refetch, this) */
#define NGX_HTTP_TENANT_GUARD_KEYS_RETRY     5


/*
 * The fetch statistics of one key set URL, kept in the zone (one getter:
 * ngx_http_tenant_guard_zone_jwks_stats()).
 */

struct ngx_http_tenant_guard_keys_stats_s {
    ngx_uint_t                    successes;  /* result="success" */
    ngx_uint_t                    failures;   /* result="failure" */
    ngx_uint_t                    rejected;   /* result="rejected" */
    ngx_uint_t                    nkeys;      /* usable keys in the set */
    time_t                        fetched;    /* last good fetch, 0: never */
    time_t                        attempted;  /* last fetch started */
    uint64_t                      generation; /* 0: none yet (file keys) */
    ngx_uint_t                    failing;    /* the last fetch failed */
    size_t                        uri_len;
    u_char                        uri[128];   /* the source, cut */
};


/* "tenant_guard_keys_url": the directive, and each worker's parsed copy */

struct ngx_http_tenant_guard_keys_url_s {
    ngx_str_t                     uri;        /* the directive's, as given */
    ngx_str_t                     path;
    ngx_str_t                     args;
    time_t                        refresh;
    time_t                        min_refetch;
    size_t                        max_size;
    ngx_uint_t                    algorithms; /* of the locations using it */
    uint32_t                      crc;        /* of uri */
    ngx_msec_t                    loaded;     /* when the conf was read */
    ngx_http_tenant_guard_zone_t *zone;
    void                         *server;     /* its srv conf: one only */

    /* per worker */
    ngx_http_tenant_guard_jwks_t *jwks;       /* the zone's record */
    uint64_t                      generation; /* of set */
    tg_keyset_t                   set;
};


char *ngx_http_tenant_guard_keys_url(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_tenant_guard_keys_url_merge(ngx_conf_t *cf,
    ngx_http_tenant_guard_loc_conf_t *prev,
    ngx_http_tenant_guard_loc_conf_t *conf);
ngx_int_t ngx_http_tenant_guard_keys_prepare(ngx_http_request_t *r,
    ngx_http_tenant_guard_loc_conf_t *lcf, ngx_http_tenant_guard_ctx_t *ctx);
ngx_int_t ngx_http_tenant_guard_keys_unknown_kid(ngx_http_request_t *r,
    ngx_http_tenant_guard_loc_conf_t *lcf, ngx_http_tenant_guard_ctx_t *ctx);
ngx_uint_t ngx_http_tenant_guard_keys_is_fetch(ngx_http_request_t *r);
ngx_int_t ngx_http_tenant_guard_zone_jwks_stats(
    ngx_http_tenant_guard_zone_t *zone, ngx_uint_t i,
    ngx_http_tenant_guard_keys_stats_t *stats);


#endif /* _NGX_HTTP_TENANT_GUARD_KEYS_H_INCLUDED_ */
