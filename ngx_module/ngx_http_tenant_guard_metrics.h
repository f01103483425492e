
/*
 * Copyright (C) tenant_guard authors
 */


#ifndef _NGX_HTTP_TENANT_GUARD_METRICS_H_INCLUDED_
#define _NGX_HTTP_TENANT_GUARD_METRICS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_tenant_guard_module.h"


/* tenant_guard_invalid_tokens_total{cause} */
#define NGX_HTTP_TENANT_GUARD_CAUSE_MALFORMED      0
#define NGX_HTTP_TENANT_GUARD_CAUSE_ALG            1
#define NGX_HTTP_TENANT_GUARD_CAUSE_KID_UNKNOWN    2
#define NGX_HTTP_TENANT_GUARD_CAUSE_SIGNATURE      3
#define NGX_HTTP_TENANT_GUARD_CAUSE_EXPIRED        4
#define NGX_HTTP_TENANT_GUARD_CAUSE_NOT_YET_VALID  5
#define NGX_HTTP_TENANT_GUARD_CAUSE_ISSUER         6
#define NGX_HTTP_TENANT_GUARD_CAUSE_AUDIENCE       7
#define NGX_HTTP_TENANT_GUARD_CAUSE_REVOKED        8
#define NGX_HTTP_TENANT_GUARD_CAUSE_OPAQUE_UNKNOWN 9
#define NGX_HTTP_TENANT_GUARD_CAUSE_TOO_LARGE      10
#define NGX_HTTP_TENANT_GUARD_NCAUSES              11

/* tenant_guard_cache_lookups_total{cache} */
#define NGX_HTTP_TENANT_GUARD_CACHE_TOKEN          0
#define NGX_HTTP_TENANT_GUARD_CACHE_POLICY         1
#define NGX_HTTP_TENANT_GUARD_NCACHES              2

/* tenant_guard_redis_commands_total{result} */
#define NGX_HTTP_TENANT_GUARD_REDIS_OK             0
#define NGX_HTTP_TENANT_GUARD_REDIS_ERROR          1
#define NGX_HTTP_TENANT_GUARD_REDIS_TIMEOUT        2

/* tenant_guard_jwks_fetches_total{result} */
#define NGX_HTTP_TENANT_GUARD_JWKS_SUCCESS         0
#define NGX_HTTP_TENANT_GUARD_JWKS_FAILURE         1
#define NGX_HTTP_TENANT_GUARD_JWKS_REJECTED        2

/* the key set behind tenant_guard_jwks_*: what the keys code reports */
typedef struct {
    ngx_uint_t                    keys;       /* keys loaded now */
    ngx_uint_t                    fetches[3]; /* by ..._JWKS_* */
    time_t                        last_fetch; /* 0: never */
    const char                   *source;     /* "file", "url", "none" */
} ngx_http_tenant_guard_jwks_stats_t;


char *ngx_http_tenant_guard_metrics_workspaces(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
char *ngx_http_tenant_guard_metrics_init_conf(ngx_conf_t *cf,
    ngx_http_tenant_guard_main_conf_t *tmcf);
void ngx_http_tenant_guard_metrics_decision(ngx_http_request_t *r,
    ngx_http_tenant_guard_ctx_t *ctx);
void ngx_http_tenant_guard_metrics_lookup(ngx_uint_t kind, ngx_uint_t hit);
void ngx_http_tenant_guard_metrics_ban(ngx_uint_t level);
void ngx_http_tenant_guard_metrics_login_failure(void);
void ngx_http_tenant_guard_metrics_redis(ngx_uint_t result);
void ngx_http_tenant_guard_metrics_jwks(ngx_http_request_t *r,
    ngx_http_tenant_guard_jwks_stats_t *stats);
ngx_int_t ngx_http_tenant_guard_metrics_text(ngx_http_request_t *r,
    ngx_chain_t **out);
ngx_int_t ngx_http_tenant_guard_metrics_status(ngx_http_request_t *r,
    ngx_chain_t **out);

/* _admin.c */
char *ngx_http_tenant_guard_admin(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);


#endif /* _NGX_HTTP_TENANT_GUARD_METRICS_H_INCLUDED_ */
