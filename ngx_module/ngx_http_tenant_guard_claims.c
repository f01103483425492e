
/*
 * Copyright (C) tenant_guard authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_tenant_guard_module.h"


/*
 * tenant_guard_require_claim NAME OP VALUE...: the claims step.  The
 * rules are the engine's (tg_claimrule); here they are configured, their
 * values evaluated, and the claims read once per request from the
 * token's compact JSON (ctx->payload), as the zone keeps it.
 */

#define NGX_HTTP_TENANT_GUARD_NVALUES  16


static void ngx_http_tenant_guard_claims_cleanup(void *data);


char *
ngx_http_tenant_guard_require_claim(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_tenant_guard_loc_conf_t *lcf = conf;

    ngx_int_t                            op;
    ngx_str_t                           *value;
    ngx_uint_t                           i;
    ngx_http_complex_value_t            *cv;
    ngx_http_tenant_guard_claim_rule_t  *rule;
    ngx_http_compile_complex_value_t     ccv;
    char                                 err[160];

    value = cf->args->elts;

    if (cf->args->nelts < 4) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid number of arguments in "
                           "\"tenant_guard_require_claim\" directive, "
                           "must be NAME OP VALUE...");
        return NGX_CONF_ERROR;
    }

    if (!tg_claimrule_path_ok(value[1].data, value[1].len, err, sizeof(err))) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid claim path \"%V\": %s", &value[1], err);
        return NGX_CONF_ERROR;
    }

    op = tg_claimrule_op(value[2].data, value[2].len);
    if (op < 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid operator \"%V\", must be \"eq\", \"ne\", "
                           "\"in\", \"nin\" or \"has\"", &value[2]);
        return NGX_CONF_ERROR;
    }

    if (tg_claimrule_op_single((tg_claimrule_op_e) op)
        && cf->args->nelts != 4)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "operator \"%V\" takes one value; use \"%s\" "
                           "for a list", &value[2],
                           op == TG_CLAIMRULE_EQ ? "in" : "nin");
        return NGX_CONF_ERROR;
    }

    if (cf->args->nelts - 3 > NGX_HTTP_TENANT_GUARD_NVALUES) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "at most %d values in one "
                           "\"tenant_guard_require_claim\"",
                           NGX_HTTP_TENANT_GUARD_NVALUES);
        return NGX_CONF_ERROR;
    }

    if (lcf->claim_rules == NGX_CONF_UNSET_PTR) {
        lcf->claim_rules = ngx_array_create(cf->pool, 2,
                                  sizeof(ngx_http_tenant_guard_claim_rule_t));
        if (lcf->claim_rules == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    rule = ngx_array_push(lcf->claim_rules);
    if (rule == NULL) {
        return NGX_CONF_ERROR;
    }

    rule->path = value[1];
    rule->op = (tg_claimrule_op_e) op;
    rule->location = (cf->cmd_type & NGX_HTTP_LOC_CONF) ? 1 : 0;
    rule->values = ngx_array_create(cf->pool, cf->args->nelts - 3,
                                    sizeof(ngx_http_complex_value_t));
    if (rule->values == NULL) {
        return NGX_CONF_ERROR;
    }

    for (i = 3; i < cf->args->nelts; i++) {
        cv = ngx_array_push(rule->values);
        if (cv == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

        ccv.cf = cf;
        ccv.value = &value[i];
        ccv.complex_value = cv;

        if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
            return NGX_CONF_ERROR;
        }

        /* a value without variables is checked now: it never changes */

        if (cv->lengths == NULL
            && !tg_claimrule_value_ok(value[i].data, value[i].len, err,
                                      sizeof(err)))
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid claim value \"%V\": %s",
                               &value[i], err);
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


/*
 * A location's rules are added to those it inherits, as bind paths are:
 * a rule of the server holds in every location of it.
 */

char *
ngx_http_tenant_guard_claim_rules_merge(ngx_conf_t *cf,
    ngx_http_tenant_guard_loc_conf_t *prev,
    ngx_http_tenant_guard_loc_conf_t *conf)
{
    ngx_uint_t                           i;
    ngx_array_t                         *inherited;
    ngx_http_tenant_guard_claim_rule_t  *rule;

    inherited = (prev->claim_rules == NGX_CONF_UNSET_PTR) ? NULL
                                                          : prev->claim_rules;

    if (conf->claim_rules == NGX_CONF_UNSET_PTR) {
        conf->claim_rules = inherited;
        return NGX_CONF_OK;
    }

    /* a location's rule with no token to check would let every request in */

    rule = conf->claim_rules->elts;

    for (i = 0; i < conf->claim_rules->nelts; i++) {
        if (rule[i].location && !conf->enable) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"tenant_guard_require_claim\" is set but "
                               "\"tenant_guard\" is off");
            return NGX_CONF_ERROR;
        }
    }

    if (inherited == NULL) {
        return NGX_CONF_OK;
    }

    conf->claim_rules = ngx_http_tenant_guard_array_join(cf, inherited,
                                                         conf->claim_rules);

    return (conf->claim_rules != NULL) ? NGX_CONF_OK : NGX_CONF_ERROR;
}


/* the claims step: every rule must hold, else 403 insufficient_claims */

ngx_int_t
ngx_http_tenant_guard_claims_check(ngx_http_request_t *r,
    ngx_http_tenant_guard_loc_conf_t *lcf, ngx_http_tenant_guard_ctx_t *ctx)
{
    ngx_str_t                            value;
    ngx_uint_t                           i, k;
    ngx_pool_cleanup_t                  *cln;
    tg_claimrule_doc_t                  *doc;
    ngx_http_complex_value_t            *cv;
    ngx_http_tenant_guard_claim_rule_t  *rule;
    size_t                               lens[NGX_HTTP_TENANT_GUARD_NVALUES];
    const u_char                   *values[NGX_HTTP_TENANT_GUARD_NVALUES];

    if (lcf->claim_rules == NULL || lcf->claim_rules->nelts == 0) {
        return NGX_OK;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    /* no claims to read (an unreadable payload): no rule holds */

    doc = tg_claimrule_doc(ctx->payload.data, ctx->payload.len);

    cln->handler = ngx_http_tenant_guard_claims_cleanup;
    cln->data = doc;

    rule = lcf->claim_rules->elts;

    for (i = 0; i < lcf->claim_rules->nelts; i++) {
        cv = rule[i].values->elts;

        for (k = 0; k < rule[i].values->nelts; k++) {
            if (ngx_http_complex_value(r, &cv[k], &value) != NGX_OK) {
                return NGX_ERROR;
            }

            values[k] = value.data;
            lens[k] = value.len;
        }

        if (!tg_claimrule_match(doc, rule[i].path.data, rule[i].path.len,
                                rule[i].op, values, lens,
                                rule[i].values->nelts))
        {
            ctx->result = TG_RESULT_INSUFFICIENT_CLAIMS;

            ctx->detail.data = ngx_pnalloc(r->pool, rule[i].path.len
                                           + sizeof("claim \"\" fails its "
                                                    "rule"));
            if (ctx->detail.data == NULL) {
                return NGX_ERROR;
            }

            ctx->detail.len = ngx_sprintf(ctx->detail.data,
                                          "claim \"%V\" fails its rule",
                                          &rule[i].path)
                              - ctx->detail.data;
            return NGX_OK;
        }
    }

    return NGX_OK;
}


static void
ngx_http_tenant_guard_claims_cleanup(void *data)
{
    tg_claimrule_doc_free(data);
}
