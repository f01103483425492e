
/*
 * Copyright (C) tenant_guard authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_tenant_guard_module.h"
#include "ngx_http_tenant_guard_keys.h"
#include "ngx_http_tenant_guard_metrics.h"


static void *ngx_http_tenant_guard_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_tenant_guard_init_main_conf(ngx_conf_t *cf,
    void *conf);
static void *ngx_http_tenant_guard_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_tenant_guard_merge_loc_conf(ngx_conf_t *cf,
    void *parent, void *child);
static char *ngx_http_tenant_guard_merge_strip(ngx_conf_t *cf,
    ngx_http_tenant_guard_loc_conf_t *conf);
static ngx_int_t ngx_http_tenant_guard_preconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_tenant_guard_init_process(ngx_cycle_t *cycle);
static void ngx_http_tenant_guard_exit_process(ngx_cycle_t *cycle);
static ngx_int_t ngx_http_tenant_guard_init(ngx_conf_t *cf);
static void ngx_http_tenant_guard_keys_cleanup(void *data);
static char *ngx_http_tenant_guard_keys(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_tenant_guard_algorithms(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_tenant_guard_audience(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_tenant_guard_claim(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_tenant_guard_header(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_tenant_guard_words(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_tenant_guard_bind(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_uint_t ngx_http_tenant_guard_numbered_capture(ngx_str_t *value);
static char *ngx_http_tenant_guard_bind_path(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_tenant_guard_merge_bind_paths(ngx_conf_t *cf,
    ngx_http_tenant_guard_loc_conf_t *prev,
    ngx_http_tenant_guard_loc_conf_t *conf);
static ngx_int_t ngx_http_tenant_guard_kind(ngx_str_t *name,
    ngx_str_t *kinds, ngx_uint_t n);
static ngx_int_t ngx_http_tenant_guard_engine_words(ngx_conf_t *cf,
    ngx_array_t *a, tg_str_t **words, size_t *n);
static uint32_t ngx_http_tenant_guard_fingerprint(
    ngx_http_tenant_guard_loc_conf_t *conf);
static void ngx_http_tenant_guard_fingerprint_str(uint32_t *crc,
    u_char *data, size_t len);


/* the order of NGX_HTTP_TENANT_GUARD_WORKSPACE ... _MFA */

static ngx_str_t  ngx_http_tenant_guard_kinds[] = {
    ngx_string("workspace"),
    ngx_string("organization"),
    ngx_string("integration"),
    ngx_string("subject"),
    ngx_string("scopes"),
    ngx_string("mfa")
};


static ngx_str_t  ngx_http_tenant_guard_default_claims[] = {
    ngx_string("workspace_id"),
    ngx_string("organization_id"),
    ngx_string("integration_id"),
    ngx_string("sub")
};


static ngx_str_t  ngx_http_tenant_guard_default_headers[] = {
    ngx_string("X-Workspace-Id"),
    ngx_string("X-Organization-Id"),
    ngx_string("X-Integration-Id"),
    ngx_string("X-Subject-Id"),
    ngx_string("X-Auth-Scopes"),
    ngx_string("X-Auth-MFA")
};


static ngx_str_t  ngx_http_tenant_guard_default_acr = ngx_string("mfa");


static ngx_conf_enum_t  ngx_http_tenant_guard_failure[] = {
    { ngx_string("closed"), NGX_HTTP_TENANT_GUARD_FAILURE_CLOSED },
    { ngx_string("open"), NGX_HTTP_TENANT_GUARD_FAILURE_OPEN },
    { ngx_null_string, 0 }
};


static ngx_conf_enum_t  ngx_http_tenant_guard_log_levels[] = {
    { ngx_string("info"), NGX_LOG_INFO },
    { ngx_string("notice"), NGX_LOG_NOTICE },
    { ngx_string("warn"), NGX_LOG_WARN },
    { ngx_string("error"), NGX_LOG_ERR },
    { ngx_null_string, 0 }
};


static ngx_str_t  ngx_http_tenant_guard_default_amr[] = {
    ngx_string("mfa"),
    ngx_string("otp"),
    ngx_string("hwk"),
    ngx_string("swk")
};


static ngx_command_t  ngx_http_tenant_guard_commands[] = {

    { ngx_string("tenant_guard"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_tenant_guard_loc_conf_t, enable),
      NULL },

    { ngx_string("tenant_guard_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_tenant_guard_zone,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("tenant_guard_policy_file"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_tenant_guard_policy_file,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("tenant_guard_support_subnets"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_tenant_guard_support_subnets,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("tenant_guard_redis"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_tenant_guard_redis,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("tenant_guard_redis_failure"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_tenant_guard_loc_conf_t, redis_failure),
      &ngx_http_tenant_guard_failure },

    { ngx_string("tenant_guard_opaque_tokens"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_tenant_guard_loc_conf_t, opaque),
      NULL },

    { ngx_string("tenant_guard_keys"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_tenant_guard_keys,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("tenant_guard_keys_url"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_tenant_guard_keys_url,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("tenant_guard_algorithms"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_tenant_guard_algorithms,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("tenant_guard_issuer"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_tenant_guard_loc_conf_t, issuer),
      NULL },

    { ngx_string("tenant_guard_audience"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_tenant_guard_audience,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("tenant_guard_leeway"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_tenant_guard_loc_conf_t, leeway),
      NULL },

    { ngx_string("tenant_guard_max_token_size"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_tenant_guard_loc_conf_t, max_token_size),
      NULL },

    { ngx_string("tenant_guard_claim"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE2,
      ngx_http_tenant_guard_claim,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("tenant_guard_header"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE2,
      ngx_http_tenant_guard_header,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("tenant_guard_require_scope"),
      NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_tenant_guard_words,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_tenant_guard_loc_conf_t, scopes),
      NULL },

    { ngx_string("tenant_guard_require_claim"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_2MORE,
      ngx_http_tenant_guard_require_claim,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("tenant_guard_token"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_tenant_guard_token_sources,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("tenant_guard_mfa_amr"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_tenant_guard_words,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_tenant_guard_loc_conf_t, mfa_amr),
      NULL },

    { ngx_string("tenant_guard_mfa_acr"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_tenant_guard_words,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_tenant_guard_loc_conf_t, mfa_acr),
      NULL },

    { ngx_string("tenant_guard_bind"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE2,
      ngx_http_tenant_guard_bind,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("tenant_guard_bind_path"),
      NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_tenant_guard_bind_path,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("tenant_guard_login"),
      NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_tenant_guard_login,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("tenant_guard_password_reset"),
      NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_tenant_guard_login,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("tenant_guard_login_body_max"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_tenant_guard_loc_conf_t, login_body_max),
      &ngx_http_tenant_guard_login_body_max_post },

    { ngx_string("tenant_guard_ban_ipv6_prefix"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_tenant_guard_ban_ipv6_prefix,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("tenant_guard_realm"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_tenant_guard_loc_conf_t, realm),
      NULL },

    { ngx_string("tenant_guard_admin"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_tenant_guard_admin,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("tenant_guard_metrics_workspaces"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_tenant_guard_metrics_workspaces,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("tenant_guard_log_level"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_tenant_guard_loc_conf_t, log_level),
      &ngx_http_tenant_guard_log_levels },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_tenant_guard_module_ctx = {
    ngx_http_tenant_guard_preconfiguration, /* preconfiguration */
    ngx_http_tenant_guard_init,            /* postconfiguration */

    ngx_http_tenant_guard_create_main_conf, /* create main configuration */
    ngx_http_tenant_guard_init_main_conf,  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_tenant_guard_create_loc_conf, /* create location configuration */
    ngx_http_tenant_guard_merge_loc_conf   /* merge location configuration */
};


ngx_module_t  ngx_http_tenant_guard_module = {
    NGX_MODULE_V1,
    &ngx_http_tenant_guard_module_ctx,     /* module context */
    ngx_http_tenant_guard_commands,        /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_tenant_guard_init_process,    /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_tenant_guard_exit_process,    /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static void *
ngx_http_tenant_guard_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_tenant_guard_main_conf_t  *tmcf;

    tmcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_tenant_guard_main_conf_t));
    if (tmcf == NULL) {
        return NULL;
    }

    tmcf->ban_ipv6_prefix = NGX_CONF_UNSET_UINT;
    tmcf->metrics_workspaces = NGX_CONF_UNSET_UINT;

    return tmcf;
}


static char *
ngx_http_tenant_guard_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_tenant_guard_main_conf_t *tmcf = conf;

    size_t  i;

    ngx_conf_init_uint_value(tmcf->ban_ipv6_prefix, 64);
    if (ngx_http_tenant_guard_metrics_init_conf(cf, tmcf) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    if (tmcf->redis != NULL && tmcf->zone == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"tenant_guard_redis\" needs "
                           "\"tenant_guard_zone\"");
        return NGX_CONF_ERROR;
    }

    if (tmcf->policies == NULL || tmcf->zone != NULL) {
        return NGX_CONF_OK;
    }

    /* idle sign-out keeps state that every worker must see */

    for (i = 0; i < tmcf->policies->n; i++) {
        if (tmcf->policies->entries[i].policy.max_idle) {
            break;
        }
    }

    if (i < tmcf->policies->n || tmcf->policies->def.max_idle) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "policy file \"%V\" sets \"maxIdleTime\", "
                           "which needs \"tenant_guard_zone\"",
                           &tmcf->policy_file);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static void *
ngx_http_tenant_guard_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_tenant_guard_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_tenant_guard_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->issuer = { 0, NULL };
     *     conf->claims[] = { 0, NULL };
     *     conf->headers[] = { 0, NULL };
     *     conf->strip = NULL;
     *     conf->realm = { 0, NULL };
     *     conf->jwt = { 0 };
     *     conf->bind_path_here = 0;
     */

    conf->enable = NGX_CONF_UNSET;
    conf->keys = NGX_CONF_UNSET_PTR;
    conf->keys_url = NGX_CONF_UNSET_PTR;
    conf->algorithms = NGX_CONF_UNSET_UINT;
    conf->audiences = NGX_CONF_UNSET_PTR;
    conf->leeway = NGX_CONF_UNSET;
    conf->max_token_size = NGX_CONF_UNSET_SIZE;
    conf->scopes = NGX_CONF_UNSET_PTR;
    conf->binds = NGX_CONF_UNSET_PTR;
    conf->bind_paths = NGX_CONF_UNSET_PTR;
    conf->mfa_amr = NGX_CONF_UNSET_PTR;
    conf->mfa_acr = NGX_CONF_UNSET_PTR;
    conf->login = NGX_CONF_UNSET_PTR;
    conf->redis_failure = NGX_CONF_UNSET_UINT;
    conf->opaque = NGX_CONF_UNSET;
    conf->sources = NGX_CONF_UNSET_PTR;
    conf->claim_rules = NGX_CONF_UNSET_PTR;
    conf->login_body_max = NGX_CONF_UNSET_SIZE;
    conf->log_level = NGX_CONF_UNSET_UINT;

    return conf;
}


static char *
ngx_http_tenant_guard_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child)
{
    ngx_http_tenant_guard_loc_conf_t *prev = parent;
    ngx_http_tenant_guard_loc_conf_t *conf = child;

    ngx_str_t                          *word;
    ngx_uint_t                          i;
    ngx_array_t                        *amr;
    ngx_http_tenant_guard_main_conf_t  *tmcf;

    /* "" would mean "any issuer", which nobody writes on purpose */

    if (conf->issuer.data != NULL && conf->issuer.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"tenant_guard_issuer\" is empty");
        return NGX_CONF_ERROR;
    }

    ngx_conf_merge_value(conf->enable, prev->enable, 0);
    ngx_conf_merge_uint_value(conf->log_level, prev->log_level, NGX_LOG_INFO);
    ngx_conf_merge_ptr_value(conf->keys, prev->keys, NULL);
    ngx_conf_merge_uint_value(conf->algorithms, prev->algorithms,
                              TG_ALG_DEFAULT);
    ngx_conf_merge_str_value(conf->issuer, prev->issuer, "");
    ngx_conf_merge_ptr_value(conf->audiences, prev->audiences, NULL);
    ngx_conf_merge_sec_value(conf->leeway, prev->leeway, 30);

    /* kept small, so that exp + leeway cannot overflow */

    if (conf->leeway > 86400) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"tenant_guard_leeway\" must be at most 1d");
        return NGX_CONF_ERROR;
    }
    ngx_conf_merge_size_value(conf->max_token_size, prev->max_token_size,
                              TG_JWT_MAX_SIZE);
    ngx_conf_merge_ptr_value(conf->scopes, prev->scopes, NULL);
    ngx_conf_merge_ptr_value(conf->binds, prev->binds, NULL);

    if (ngx_http_tenant_guard_merge_bind_paths(cf, prev, conf)
        != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    ngx_conf_merge_str_value(conf->realm, prev->realm, "tenant_guard");
    ngx_conf_merge_ptr_value(conf->login, prev->login, NULL);
    ngx_conf_merge_uint_value(conf->redis_failure, prev->redis_failure,
                              NGX_HTTP_TENANT_GUARD_FAILURE_CLOSED);
    ngx_conf_merge_value(conf->opaque, prev->opaque, 0);
    ngx_conf_merge_size_value(conf->login_body_max, prev->login_body_max,
                              16 * 1024);

    if (conf->login) {
        tmcf = ngx_http_conf_get_module_main_conf(cf,
                                                 ngx_http_tenant_guard_module);
        if (tmcf->zone == NULL) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"tenant_guard_login\" and "
                               "\"tenant_guard_password_reset\" need "
                               "\"tenant_guard_zone\"");
            return NGX_CONF_ERROR;
        }
    }

    if (conf->mfa_amr == NGX_CONF_UNSET_PTR) {
        if (prev->mfa_amr != NGX_CONF_UNSET_PTR) {
            conf->mfa_amr = prev->mfa_amr;

        } else {
            amr = ngx_array_create(cf->pool, 4, sizeof(ngx_str_t));
            if (amr == NULL) {
                return NGX_CONF_ERROR;
            }

            word = ngx_array_push_n(amr, 4);
            if (word == NULL) {
                return NGX_CONF_ERROR;
            }

            ngx_memcpy(word, ngx_http_tenant_guard_default_amr,
                       4 * sizeof(ngx_str_t));

            conf->mfa_amr = amr;
        }
    }

    if (conf->mfa_acr == NGX_CONF_UNSET_PTR) {
        if (prev->mfa_acr != NGX_CONF_UNSET_PTR) {
            conf->mfa_acr = prev->mfa_acr;

        } else {
            conf->mfa_acr = ngx_array_create(cf->pool, 1, sizeof(ngx_str_t));
            if (conf->mfa_acr == NULL) {
                return NGX_CONF_ERROR;
            }

            word = ngx_array_push(conf->mfa_acr);
            if (word == NULL) {
                return NGX_CONF_ERROR;
            }

            *word = ngx_http_tenant_guard_default_acr;
        }
    }

    if (ngx_http_tenant_guard_engine_words(cf, conf->mfa_amr, &conf->amr,
                                           &conf->namr)
           != NGX_OK
        || ngx_http_tenant_guard_engine_words(cf, conf->mfa_acr, &conf->acr,
                                              &conf->nacr)
           != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    for (i = 0; i < NGX_HTTP_TENANT_GUARD_NIDS; i++) {
        if (conf->claims[i].data == NULL) {
            conf->claims[i] = prev->claims[i].data
                              ? prev->claims[i]
                              : ngx_http_tenant_guard_default_claims[i];
        }
    }

    for (i = 0; i < NGX_HTTP_TENANT_GUARD_NHEADERS; i++) {
        if (conf->headers[i].data == NULL) {
            conf->headers[i] = prev->headers[i].data
                               ? prev->headers[i]
                               : ngx_http_tenant_guard_default_headers[i];
        }
    }

    if (ngx_http_tenant_guard_headers_prepare(cf, conf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_tenant_guard_merge_strip(cf, conf) != NGX_CONF_OK
        || ngx_http_tenant_guard_token_sources_merge(cf, prev, conf)
           != NGX_CONF_OK
        || ngx_http_tenant_guard_claim_rules_merge(cf, prev, conf)
           != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    /* a bind with no token to compare with would let every request in */

    if (conf->binds != NULL && !conf->enable) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"tenant_guard_bind\" is set but "
                           "\"tenant_guard\" is off");
        return NGX_CONF_ERROR;
    }

    /* templates a server lists also reach its open locations: no check */

    if (conf->bind_path_here && !conf->enable) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"tenant_guard_bind_path\" is set but "
                           "\"tenant_guard\" is off");
        return NGX_CONF_ERROR;
    }

    if (ngx_http_tenant_guard_keys_url_merge(cf, prev, conf) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    if (!conf->enable) {
        return NGX_CONF_OK;
    }

    if (conf->keys == NULL && conf->keys_url == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"tenant_guard\" is on but no "
                           "\"tenant_guard_keys\" is set");
        return NGX_CONF_ERROR;
    }

    /* an IdP's key set never holds a shared secret, and replaces the file */

    if ((conf->algorithms & TG_ALG_HMAC) && conf->keys_url != NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"tenant_guard_algorithms\" allows an HS "
                           "algorithm but \"tenant_guard_keys_url\" is "
                           "set, whose key set takes no \"oct\" key");
        return NGX_CONF_ERROR;
    }

    if ((conf->algorithms & TG_ALG_HMAC) && conf->keys->set.noct == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"tenant_guard_algorithms\" allows an HS "
                           "algorithm but \"%V\" has no \"oct\" key",
                           &conf->keys->file);
        return NGX_CONF_ERROR;
    }

    conf->jwt.algs = (unsigned) conf->algorithms;
    conf->jwt.keys = conf->keys ? &conf->keys->set : NULL;
    conf->jwt.issuer.data = conf->issuer.data;
    conf->jwt.issuer.len = conf->issuer.len;
    conf->jwt.leeway = conf->leeway;
    conf->jwt.max_size = conf->max_token_size;

    if (conf->audiences) {
        conf->jwt.audiences = conf->audiences->elts;
        conf->jwt.naudiences = conf->audiences->nelts;
    }

    conf->fingerprint = ngx_http_tenant_guard_fingerprint(conf);

    return NGX_CONF_OK;
}


/* a list of words as the engine takes them (a NULL list: none) */

static ngx_int_t
ngx_http_tenant_guard_engine_words(ngx_conf_t *cf, ngx_array_t *a,
    tg_str_t **words, size_t *n)
{
    ngx_str_t   *word;
    ngx_uint_t   i;

    *words = NULL;
    *n = 0;

    if (a == NULL || a->nelts == 0) {
        return NGX_OK;
    }

    *words = ngx_palloc(cf->pool, a->nelts * sizeof(tg_str_t));
    if (*words == NULL) {
        return NGX_ERROR;
    }

    word = a->elts;

    for (i = 0; i < a->nelts; i++) {
        (*words)[i].data = word[i].data;
        (*words)[i].len = word[i].len;
    }

    *n = a->nelts;

    return NGX_OK;
}


/*
 * What a cached verdict depends on: a token verified under other keys,
 * algorithms, issuer, audiences, leeway (nbf, iat) or claim names is
 * verified again.
 */

static uint32_t
ngx_http_tenant_guard_fingerprint(ngx_http_tenant_guard_loc_conf_t *conf)
{
    uint32_t         crc;
    ngx_str_t       *s;
    ngx_uint_t       i, k, n;
    ngx_array_t     *lists[2];
    const tg_str_t  *aud;

    ngx_crc32_init(crc);

    if (conf->keys != NULL) {
        ngx_crc32_update(&crc, (u_char *) &conf->keys->crc, sizeof(uint32_t));
    }

    ngx_crc32_update(&crc, (u_char *) &conf->algorithms, sizeof(ngx_uint_t));
    ngx_crc32_update(&crc, (u_char *) &conf->max_token_size, sizeof(size_t));
    ngx_crc32_update(&crc, (u_char *) &conf->leeway, sizeof(time_t));

    /*
     * Every string and list with its length first, so that no two
     * configurations hash the same bytes: issuer "a|b" with no audience
     * is not issuer "a" with audience "b".
     */

    ngx_http_tenant_guard_fingerprint_str(&crc, conf->issuer.data,
                                          conf->issuer.len);

    aud = conf->jwt.audiences;
    n = conf->jwt.naudiences;

    ngx_crc32_update(&crc, (u_char *) &n, sizeof(ngx_uint_t));

    for (i = 0; i < n; i++) {
        ngx_http_tenant_guard_fingerprint_str(&crc, (u_char *) aud[i].data,
                                              aud[i].len);
    }

    for (i = 0; i < NGX_HTTP_TENANT_GUARD_NIDS; i++) {
        ngx_http_tenant_guard_fingerprint_str(&crc, conf->claims[i].data,
                                              conf->claims[i].len);
    }

    lists[0] = conf->mfa_amr;
    lists[1] = conf->mfa_acr;

    for (k = 0; k < 2; k++) {
        n = lists[k] ? lists[k]->nelts : 0;

        ngx_crc32_update(&crc, (u_char *) &n, sizeof(ngx_uint_t));

        s = n ? lists[k]->elts : NULL;

        for (i = 0; i < n; i++) {
            ngx_http_tenant_guard_fingerprint_str(&crc, s[i].data, s[i].len);
        }
    }

    ngx_crc32_final(crc);

    return crc;
}


static void
ngx_http_tenant_guard_fingerprint_str(uint32_t *crc, u_char *data,
    size_t len)
{
    ngx_crc32_update(crc, (u_char *) &len, sizeof(size_t));
    ngx_crc32_update(crc, data, len);
}


/*
 * The headers a client may not send, in every location: the defaults and
 * every name a location anywhere sets, so a renamed header can be
 * smuggled neither under its usual name nor where it is not renamed.  One
 * list for the whole configuration, grown by each merge, complete before
 * the first request.
 */

static char *
ngx_http_tenant_guard_merge_strip(ngx_conf_t *cf,
    ngx_http_tenant_guard_loc_conf_t *conf)
{
    ngx_str_t                          *s, *names[2];
    ngx_uint_t                          i, j, k, dup;
    ngx_http_tenant_guard_main_conf_t  *tmcf;

    tmcf = ngx_http_conf_get_module_main_conf(cf,
                                              ngx_http_tenant_guard_module);

    if (tmcf->strip == NULL) {
        tmcf->strip = ngx_array_create(cf->pool,
                                       2 * NGX_HTTP_TENANT_GUARD_NHEADERS,
                                       sizeof(ngx_str_t));
        if (tmcf->strip == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    conf->strip = tmcf->strip;

    names[0] = conf->headers;
    names[1] = ngx_http_tenant_guard_default_headers;

    for (k = 0; k < 2; k++) {
        for (i = 0; i < NGX_HTTP_TENANT_GUARD_NHEADERS; i++) {

            dup = 0;
            s = conf->strip->elts;

            for (j = 0; j < conf->strip->nelts; j++) {
                if (s[j].len == names[k][i].len
                    && ngx_strncasecmp(s[j].data, names[k][i].data,
                                       s[j].len) == 0)
                {
                    dup = 1;
                }
            }

            if (dup) {
                continue;
            }

            s = ngx_array_push(conf->strip);
            if (s == NULL) {
                return NGX_CONF_ERROR;
            }

            s->len = names[k][i].len;
            s->data = ngx_pnalloc(cf->pool, s->len);
            if (s->data == NULL) {
                return NGX_CONF_ERROR;
            }

            /* matched against lowcase_key with '_' folded to '-' */

            for (j = 0; j < s->len; j++) {
                s->data[j] = ngx_tolower(names[k][i].data[j]);

                if (s->data[j] == '_') {
                    s->data[j] = '-';
                }
            }
        }
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_tenant_guard_preconfiguration(ngx_conf_t *cf)
{
    return ngx_http_tenant_guard_add_variables(cf);
}


static ngx_int_t
ngx_http_tenant_guard_init(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    /*
     * Client copies of the tenant headers go in the preaccess phase, in
     * every server: it runs in every location and subrequest, whatever
     * "satisfy" says.
     */

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_PREACCESS_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_tenant_guard_preaccess_handler;

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_ACCESS_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_tenant_guard_access_handler;

    return ngx_http_tenant_guard_login_init(cf);
}


static ngx_int_t
ngx_http_tenant_guard_init_process(ngx_cycle_t *cycle)
{
    /*
     * Not ngx_log_debug: the version is in every build, debug or not.
     * A worker logs to the configured error_log, at start and at reload.
     */
    ngx_log_error(NGX_LOG_DEBUG, cycle->log, 0, NGX_HTTP_TENANT_GUARD_VER);

    return ngx_http_tenant_guard_store_init_process(cycle);
}


static void
ngx_http_tenant_guard_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_tenant_guard_store_exit_process(cycle);
}


static void
ngx_http_tenant_guard_keys_cleanup(void *data)
{
    ngx_http_tenant_guard_keys_t  *keys = data;

    tg_jwks_free(&keys->set);
}


static char *
ngx_http_tenant_guard_keys(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_tenant_guard_loc_conf_t *lcf = conf;

    u_char                        *buf;
    size_t                         size;
    ssize_t                        n;
    ngx_fd_t                       fd;
    ngx_str_t                     *value;
    ngx_file_info_t                fi;
    ngx_pool_cleanup_t            *cln;
    ngx_http_tenant_guard_keys_t  *keys;
    char                           err[256];

    if (lcf->keys != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    keys = ngx_pcalloc(cf->pool, sizeof(ngx_http_tenant_guard_keys_t));
    if (keys == NULL) {
        return NGX_CONF_ERROR;
    }

    keys->file = value[1];

    if (ngx_conf_full_name(cf->cycle, &keys->file, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    fd = ngx_open_file(keys->file.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_open_file_n " \"%s\" failed", keys->file.data);
        return NGX_CONF_ERROR;
    }

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_fd_info_n " \"%s\" failed", keys->file.data);
        ngx_close_file(fd);
        return NGX_CONF_ERROR;
    }

    size = (size_t) ngx_file_size(&fi);

    if (size > TG_JWKS_MAX_SIZE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "keys file \"%s\" is larger than %d bytes",
                           keys->file.data, TG_JWKS_MAX_SIZE);
        ngx_close_file(fd);
        return NGX_CONF_ERROR;
    }

    buf = ngx_pnalloc(cf->temp_pool, size + 1);
    if (buf == NULL) {
        ngx_close_file(fd);
        return NGX_CONF_ERROR;
    }

    n = ngx_read_fd(fd, buf, size);
    ngx_close_file(fd);

    if (n == -1 || (size_t) n != size) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_read_fd_n " \"%s\" failed", keys->file.data);
        return NGX_CONF_ERROR;
    }

    keys->crc = ngx_crc32_long(buf, size);

    if (tg_jwks_load(&keys->set, buf, size, err, sizeof(err)) != 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid keys file \"%s\": %s",
                           keys->file.data, err);
        return NGX_CONF_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        tg_jwks_free(&keys->set);
        return NGX_CONF_ERROR;
    }

    cln->handler = ngx_http_tenant_guard_keys_cleanup;
    cln->data = keys;

    lcf->keys = keys;

    return NGX_CONF_OK;
}


static char *
ngx_http_tenant_guard_algorithms(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_tenant_guard_loc_conf_t *lcf = conf;

    ngx_int_t   alg;
    ngx_str_t  *value;
    ngx_uint_t  i;

    if (lcf->algorithms != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    lcf->algorithms = 0;
    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {

        if (value[i].len == 4
            && ngx_strncasecmp(value[i].data, (u_char *) "none", 4) == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "unknown algorithm \"%V\": unsigned "
                               "tokens are never allowed",
                               &value[i]);
            return NGX_CONF_ERROR;
        }

        alg = tg_jwt_alg_by_name((char *) value[i].data, value[i].len);
        if (alg < 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "unknown algorithm \"%V\"", &value[i]);
            return NGX_CONF_ERROR;
        }

        lcf->algorithms |= TG_ALG_BIT(alg);
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_tenant_guard_audience(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_tenant_guard_loc_conf_t *lcf = conf;

    tg_str_t    *aud;
    ngx_str_t   *value;
    ngx_uint_t   i;

    if (lcf->audiences != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    lcf->audiences = ngx_array_create(cf->pool, cf->args->nelts - 1,
                                      sizeof(tg_str_t));
    if (lcf->audiences == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        aud = ngx_array_push(lcf->audiences);
        if (aud == NULL) {
            return NGX_CONF_ERROR;
        }

        aud->data = value[i].data;
        aud->len = value[i].len;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_tenant_guard_claim(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_tenant_guard_loc_conf_t *lcf = conf;

    ngx_int_t   kind;
    ngx_str_t  *value;

    value = cf->args->elts;

    kind = ngx_http_tenant_guard_kind(&value[1], ngx_http_tenant_guard_kinds,
                                      NGX_HTTP_TENANT_GUARD_NIDS);
    if (kind == NGX_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\", must be \"workspace\", "
                           "\"organization\", \"integration\" or \"subject\"",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    if (lcf->claims[kind].data != NULL) {
        return "is duplicate";
    }

    if (value[2].len == 0) {
        return "has an empty claim name";
    }

    /* value[] strings end in NUL, as jansson wants its keys */

    lcf->claims[kind] = value[2];

    return NGX_CONF_OK;
}


static char *
ngx_http_tenant_guard_header(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_tenant_guard_loc_conf_t *lcf = conf;

    ngx_int_t   kind;
    ngx_str_t  *value;
    ngx_uint_t  i;

    value = cf->args->elts;

    kind = ngx_http_tenant_guard_kind(&value[1], ngx_http_tenant_guard_kinds,
                                      NGX_HTTP_TENANT_GUARD_NHEADERS);
    if (kind == NGX_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\", must be \"workspace\", "
                           "\"organization\", \"integration\", \"subject\", "
                           "\"scopes\" or \"mfa\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    if (lcf->headers[kind].data != NULL) {
        return "is duplicate";
    }

    if (value[2].len == 0) {
        return "has an empty header name";
    }

    /* the upstream needs these as the client sent them */

    if ((value[2].len == 13
         && ngx_strncasecmp(value[2].data, (u_char *) "Authorization", 13)
            == 0)
        || (value[2].len == 4
            && ngx_strncasecmp(value[2].data, (u_char *) "Host", 4) == 0))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "a tenant header may not be named \"%V\"",
                           &value[2]);
        return NGX_CONF_ERROR;
    }

    for (i = 0; i < value[2].len; i++) {
        if (!ngx_http_tenant_guard_isalnum(value[2].data[i])
            && value[2].data[i] != '-')
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid header name \"%V\"", &value[2]);
            return NGX_CONF_ERROR;
        }
    }

    lcf->headers[kind] = value[2];

    return NGX_CONF_OK;
}


/* a directive that takes a list of words into an ngx_str_t array */

static char *
ngx_http_tenant_guard_words(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char  *p = conf;

    ngx_str_t     *value, *word;
    ngx_uint_t     i;
    ngx_array_t  **a;

    a = (ngx_array_t **) (p + cmd->offset);

    if (*a != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    *a = ngx_array_create(cf->pool, cf->args->nelts - 1, sizeof(ngx_str_t));
    if (*a == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        if (value[i].len == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid empty parameter");
            return NGX_CONF_ERROR;
        }

        word = ngx_array_push(*a);
        if (word == NULL) {
            return NGX_CONF_ERROR;
        }

        *word = value[i];
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_tenant_guard_bind(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_tenant_guard_loc_conf_t *lcf = conf;

    ngx_int_t                          kind;
    ngx_str_t                         *value;
    ngx_http_tenant_guard_bind_t      *bind;
    ngx_http_compile_complex_value_t   ccv;

    value = cf->args->elts;

    if (lcf->binds == NGX_CONF_UNSET_PTR) {
        lcf->binds = ngx_array_create(cf->pool, 2,
                                      sizeof(ngx_http_tenant_guard_bind_t));
        if (lcf->binds == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    bind = ngx_array_push(lcf->binds);
    if (bind == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(bind, sizeof(ngx_http_tenant_guard_bind_t));

    if (value[1].len > 6
        && ngx_strncmp(value[1].data, "claim=", 6) == 0)
    {
        bind->kind = NGX_HTTP_TENANT_GUARD_BIND_CLAIM;
        bind->claim.data = value[1].data + 6;
        bind->claim.len = value[1].len - 6;

    } else {
        kind = ngx_http_tenant_guard_kind(&value[1],
                                          ngx_http_tenant_guard_kinds,
                                          NGX_HTTP_TENANT_GUARD_SUBJECT);
        if (kind == NGX_ERROR) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\", must be "
                               "\"workspace\", \"organization\", "
                               "\"integration\" or \"claim=NAME\"",
                               &value[1]);
            return NGX_CONF_ERROR;
        }

        bind->kind = kind;
    }

    ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

    ccv.cf = cf;
    ccv.value = &value[2];
    ccv.complex_value = &bind->value;

    if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    /*
     * $1..$9 are the captures of the request's last regex, not of the
     * location's: an "if" or "rewrite" regex, or a regex "map" read
     * before the access phase, replaces them, and then a client header
     * may choose the bound id.  Which regexes run before the bind is not
     * known at this point of the configuration, so every numbered
     * capture is warned about.
     */

    if (ngx_http_tenant_guard_numbered_capture(&value[2])) {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "\"tenant_guard_bind\" value \"%V\" uses a "
                           "numbered capture, which another regex of the "
                           "request (\"if\", \"rewrite\", a regex \"map\") "
                           "overwrites; use a named capture such as "
                           "\"(?<ws>[^/]+)\" and \"$ws\", or "
                           "\"tenant_guard_bind_path\"", &value[2]);
    }

    return NGX_CONF_OK;
}


/* "$1" ... "$9" anywhere in a value, as ngx_http_script_compile() reads */

static ngx_uint_t
ngx_http_tenant_guard_numbered_capture(ngx_str_t *value)
{
    u_char  *p, *end;

    end = value->data + value->len;

    for (p = value->data; p + 1 < end; p++) {
        if (p[0] == '$' && p[1] >= '1' && p[1] <= '9') {
            return 1;
        }
    }

    return 0;
}


static char *
ngx_http_tenant_guard_bind_path(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_tenant_guard_loc_conf_t *lcf = conf;

    size_t                              len;
    ngx_str_t                          *value;
    ngx_uint_t                          i;
    tg_bindpath_segment_t              *seg;
    ngx_http_tenant_guard_bind_path_t  *bp;
    char                                err[160];

    value = cf->args->elts;

    if (lcf->bind_paths == NGX_CONF_UNSET_PTR) {
        lcf->bind_paths = ngx_array_create(cf->pool, 2,
                                  sizeof(ngx_http_tenant_guard_bind_path_t));
        if (lcf->bind_paths == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    bp = ngx_array_push(lcf->bind_paths);
    if (bp == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(bp, sizeof(ngx_http_tenant_guard_bind_path_t));

    bp->text = value[1];

    if (!tg_bindpath_parse(&bp->path, value[1].data, value[1].len, err,
                           sizeof(err)))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid path template \"%V\": %s",
                           &value[1], err);
        return NGX_CONF_ERROR;
    }

    bp->claims = ngx_pcalloc(cf->pool,
                             bp->path.nsegments * sizeof(u_char *));
    if (bp->claims == NULL) {
        return NGX_CONF_ERROR;
    }

    for (i = 0; i < bp->path.nsegments; i++) {
        seg = &bp->path.segments[i];

        if (seg->kind != TG_BINDPATH_CLAIM) {
            continue;
        }

        len = seg->len;

        bp->claims[i] = ngx_pnalloc(cf->pool, len + 1);
        if (bp->claims[i] == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_memcpy(bp->claims[i], seg->data, len);
        bp->claims[i][len] = '\0';
    }

    if (cf->cmd_type & NGX_HTTP_LOC_CONF) {
        lcf->bind_path_here = 1;
    }

    return NGX_CONF_OK;
}


/*
 * A location's own templates are added to those of its server (and of an
 * enclosing location), unlike nginx's usual arrays: a template is there to
 * hold in every location, and a location listing one more must not drop
 * the server's.
 */

static char *
ngx_http_tenant_guard_merge_bind_paths(ngx_conf_t *cf,
    ngx_http_tenant_guard_loc_conf_t *prev,
    ngx_http_tenant_guard_loc_conf_t *conf)
{
    ngx_array_t  *inherited;

    inherited = (prev->bind_paths == NGX_CONF_UNSET_PTR) ? NULL
                                                         : prev->bind_paths;

    if (conf->bind_paths == NGX_CONF_UNSET_PTR) {
        conf->bind_paths = inherited;
        return NGX_CONF_OK;
    }

    if (inherited == NULL) {
        return NGX_CONF_OK;
    }

    conf->bind_paths = ngx_http_tenant_guard_array_join(cf, inherited,
                                                        conf->bind_paths);

    return (conf->bind_paths != NULL) ? NGX_CONF_OK : NGX_CONF_ERROR;
}


/* a new array: the elements of a, then those of b (of one size) */

ngx_array_t *
ngx_http_tenant_guard_array_join(ngx_conf_t *cf, ngx_array_t *a,
    ngx_array_t *b)
{
    void         *elts;
    ngx_array_t  *all;

    all = ngx_array_create(cf->pool, a->nelts + b->nelts, a->size);
    if (all == NULL) {
        return NULL;
    }

    elts = ngx_array_push_n(all, a->nelts + b->nelts);
    if (elts == NULL) {
        return NULL;
    }

    ngx_memcpy(ngx_cpymem(elts, a->elts, a->nelts * a->size),
               b->elts, b->nelts * b->size);

    return all;
}


static ngx_int_t
ngx_http_tenant_guard_kind(ngx_str_t *name, ngx_str_t *kinds, ngx_uint_t n)
{
    ngx_uint_t  i;

    for (i = 0; i < n; i++) {
        if (name->len == kinds[i].len
            && ngx_strncmp(name->data, kinds[i].data, name->len) == 0)
        {
            return i;
        }
    }

    return NGX_ERROR;
}
