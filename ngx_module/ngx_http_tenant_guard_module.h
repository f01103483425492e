
/*
 * Copyright (C) tenant_guard authors
 */


#ifndef _NGX_HTTP_TENANT_GUARD_MODULE_H_INCLUDED_
#define _NGX_HTTP_TENANT_GUARD_MODULE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "tg_jwks.h"
#include "tg_jwt.h"
#include "tg_result.h"


/* the ids a token carries; each has a claim name and an upstream header */
#define NGX_HTTP_TENANT_GUARD_WORKSPACE      0
#define NGX_HTTP_TENANT_GUARD_ORGANIZATION   1
#define NGX_HTTP_TENANT_GUARD_INTEGRATION    2
#define NGX_HTTP_TENANT_GUARD_SUBJECT        3
#define NGX_HTTP_TENANT_GUARD_NIDS           4

/* upstream headers: the four ids, then these */
#define NGX_HTTP_TENANT_GUARD_SCOPES         4
#define NGX_HTTP_TENANT_GUARD_MFA            5
#define NGX_HTTP_TENANT_GUARD_NHEADERS       6

/* tenant_guard_bind to a claim of any name */
#define NGX_HTTP_TENANT_GUARD_BIND_CLAIM     NGX_HTTP_TENANT_GUARD_NIDS

#define NGX_HTTP_TENANT_GUARD_MAX_CLAIM      1024
#define NGX_HTTP_TENANT_GUARD_TOKEN_ID_LEN   16

#define ngx_http_tenant_guard_isalnum(c)                                     \
    (((c) >= '0' && (c) <= '9') || (((c) | 0x20) >= 'a' && ((c) | 0x20) <= 'z'))


typedef struct {
    ngx_str_t                     file;
    tg_keyset_t                   set;
} ngx_http_tenant_guard_keys_t;


typedef struct {
    ngx_uint_t                    kind;
    ngx_str_t                     claim;      /* kind BIND_CLAIM: a C string */
    ngx_http_complex_value_t      value;
} ngx_http_tenant_guard_bind_t;


typedef struct {
    ngx_flag_t                    strip;      /* the server uses the module */
} ngx_http_tenant_guard_srv_conf_t;


typedef struct {
    ngx_flag_t                    enable;
    ngx_http_tenant_guard_keys_t *keys;
    ngx_uint_t                    algorithms;
    ngx_str_t                     issuer;
    ngx_array_t                  *audiences;  /* of tg_str_t */
    time_t                        leeway;
    size_t                        max_token_size;
    ngx_str_t                     claims[NGX_HTTP_TENANT_GUARD_NIDS];
    ngx_str_t                     headers[NGX_HTTP_TENANT_GUARD_NHEADERS];
    ngx_array_t                  *strip;      /* of ngx_str_t, lowercase */
    ngx_array_t                  *scopes;     /* of ngx_str_t */
    ngx_array_t                  *binds;      /* of ..._bind_t */
    ngx_array_t                  *mfa_amr;    /* of ngx_str_t */
    ngx_array_t                  *mfa_acr;    /* of ngx_str_t */
    ngx_str_t                     realm;
    tg_jwt_conf_t                 jwt;
} ngx_http_tenant_guard_loc_conf_t;


typedef struct {
    tg_result_e                   result;
    unsigned                      checked:1;
    unsigned                      mfa:1;

    ngx_str_t                     detail;     /* why it was refused */
    json_t                       *claims;
    ngx_str_t                     ids[NGX_HTTP_TENANT_GUARD_NIDS];
    ngx_str_t                     scopes;
    ngx_str_t                     token_id;
    u_char                        digest[32];
} ngx_http_tenant_guard_ctx_t;


/* _token.c */
ngx_int_t ngx_http_tenant_guard_token_check(ngx_http_request_t *r,
    ngx_http_tenant_guard_loc_conf_t *lcf, ngx_http_tenant_guard_ctx_t *ctx);
ngx_int_t ngx_http_tenant_guard_token_scopes(ngx_http_request_t *r,
    ngx_http_tenant_guard_loc_conf_t *lcf, ngx_http_tenant_guard_ctx_t *ctx);
tg_result_e ngx_http_tenant_guard_token_bind(ngx_http_request_t *r,
    ngx_http_tenant_guard_loc_conf_t *lcf, ngx_http_tenant_guard_ctx_t *ctx);

/* _headers.c */
ngx_int_t ngx_http_tenant_guard_headers_strip(ngx_http_request_t *r,
    ngx_http_tenant_guard_loc_conf_t *lcf);
ngx_int_t ngx_http_tenant_guard_headers_set(ngx_http_request_t *r,
    ngx_http_tenant_guard_loc_conf_t *lcf, ngx_http_tenant_guard_ctx_t *ctx);
ngx_table_elt_t *ngx_http_tenant_guard_headers_out(ngx_http_request_t *r,
    ngx_str_t *key, ngx_str_t *value);

/* _access.c */
ngx_int_t ngx_http_tenant_guard_preaccess_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_tenant_guard_access_handler(ngx_http_request_t *r);
ngx_http_tenant_guard_ctx_t *ngx_http_tenant_guard_get_ctx(
    ngx_http_request_t *r);

/* _variables.c */
ngx_int_t ngx_http_tenant_guard_add_variables(ngx_conf_t *cf);


extern ngx_module_t  ngx_http_tenant_guard_module;


#endif /* _NGX_HTTP_TENANT_GUARD_MODULE_H_INCLUDED_ */
