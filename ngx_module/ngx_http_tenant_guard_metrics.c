
/*
 * Copyright (C) tenant_guard authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <nginx.h>

#include "ngx_http_tenant_guard_module.h"
#include "ngx_http_tenant_guard_keys.h"
#include "ngx_http_tenant_guard_metrics.h"


/*
 * Counters every worker adds to, in a small shared-memory zone of their
 * own ("tenant_guard_metrics"): plain atomics, so that counting takes no
 * lock and a scrape copies them without one.  The per-workspace series
 * (tenant_guard_metrics_workspaces N) are N named slots: a workspace takes
 * one under this zone's own mutex the first time it is seen; once all are
 * taken, the rest are counted as "__other__".  Counters survive a reload
 * (the zone is kept while its size stays the same).
 */


#define NGX_HTTP_TENANT_GUARD_METRICS_RESULTS  32
#define NGX_HTTP_TENANT_GUARD_NRESULTS  NGX_HTTP_TENANT_GUARD_METRICS_RESULTS
#define NGX_HTTP_TENANT_GUARD_METRICS_WS_LEN   64
#define NGX_HTTP_TENANT_GUARD_METRICS_WS_MAX   10000
#define NGX_HTTP_TENANT_GUARD_NBUCKETS         11


typedef struct {
    ngx_atomic_t                  len;        /* 0: free; set last */
    u_char                        name[NGX_HTTP_TENANT_GUARD_METRICS_WS_LEN];
    ngx_atomic_t                  decisions[NGX_HTTP_TENANT_GUARD_NRESULTS];
} ngx_http_tenant_guard_metrics_ws_t;


typedef struct {
    ngx_atomic_t                  decisions[NGX_HTTP_TENANT_GUARD_NRESULTS];
    ngx_atomic_t                  invalid[NGX_HTTP_TENANT_GUARD_NCAUSES];
    ngx_atomic_t                  bans[3];
    ngx_atomic_t                  login_failures;
    ngx_atomic_t                  lookups[NGX_HTTP_TENANT_GUARD_NCACHES][2];
    ngx_atomic_t                  redis[3];
    ngx_atomic_t                  duration[NGX_HTTP_TENANT_GUARD_NBUCKETS + 1];
    ngx_atomic_t                  duration_ms;
    ngx_atomic_t                  nws;        /* slots in ws[] */
    ngx_http_tenant_guard_metrics_ws_t  other;
    ngx_http_tenant_guard_metrics_ws_t  ws[1];
} ngx_http_tenant_guard_metrics_sh_t;


typedef struct {
    ngx_http_tenant_guard_metrics_sh_t  *sh;
    ngx_slab_pool_t                     *shpool;
    ngx_uint_t                           nws;
} ngx_http_tenant_guard_metrics_t;


/* the table of results must fit the counters */
typedef char ngx_http_tenant_guard_metrics_fit[
    (TG_RESULT_LAST <= NGX_HTTP_TENANT_GUARD_METRICS_RESULTS) ? 1 : -1];


static ngx_int_t ngx_http_tenant_guard_metrics_init_zone(
    ngx_shm_zone_t *shm_zone, void *data);
static ngx_http_tenant_guard_metrics_t *ngx_http_tenant_guard_metrics_get(
    void);
static ngx_http_tenant_guard_metrics_sh_t *ngx_http_tenant_guard_metrics_sh(
    void);
static ngx_uint_t ngx_http_tenant_guard_metrics_cause(ngx_str_t *detail);
static ngx_http_tenant_guard_metrics_ws_t *
    ngx_http_tenant_guard_metrics_workspace(ngx_str_t *ws);
static u_char *ngx_http_tenant_guard_metrics_label(u_char *p, u_char *s,
    size_t len);
static size_t ngx_http_tenant_guard_metrics_zone_used(
    ngx_http_tenant_guard_zone_t *zone);


/* histogram bounds, in milliseconds (the cached clock's resolution) */
static ngx_msec_t  ngx_http_tenant_guard_buckets[] = {
    1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500
};

static const char  *ngx_http_tenant_guard_causes[] = {
    "malformed", "alg", "kid_unknown", "signature", "expired",
    "not_yet_valid", "issuer", "audience", "revoked", "opaque_unknown",
    "too_large"
};

static const char  *ngx_http_tenant_guard_caches[] = { "token", "policy" };


char *
ngx_http_tenant_guard_metrics_init_conf(ngx_conf_t *cf,
    ngx_http_tenant_guard_main_conf_t *tmcf)
{
    size_t                            size;
    ngx_str_t                         name = ngx_string("tenant_guard_metrics");
    ngx_shm_zone_t                   *shm_zone;
    ngx_http_tenant_guard_metrics_t  *m;

    if (tmcf->metrics_workspaces == NGX_CONF_UNSET_UINT) {
        tmcf->metrics_workspaces = 0;
    }

    m = ngx_pcalloc(cf->pool, sizeof(ngx_http_tenant_guard_metrics_t));
    if (m == NULL) {
        return NGX_CONF_ERROR;
    }

    m->nws = tmcf->metrics_workspaces;

    size = sizeof(ngx_http_tenant_guard_metrics_sh_t)
           + m->nws * sizeof(ngx_http_tenant_guard_metrics_ws_t);
    size = ngx_align(size, ngx_pagesize) + 8 * ngx_pagesize;

    shm_zone = ngx_shared_memory_add(cf, &name, size,
                                     &ngx_http_tenant_guard_module);
    if (shm_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    shm_zone->init = ngx_http_tenant_guard_metrics_init_zone;
    shm_zone->data = m;

    tmcf->metrics = shm_zone;

    return NGX_CONF_OK;
}


char *
ngx_http_tenant_guard_metrics_workspaces(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_tenant_guard_main_conf_t *tmcf = conf;

    ngx_int_t   n;
    ngx_str_t  *value;

    if (tmcf->metrics_workspaces != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    n = ngx_atoi(value[1].data, value[1].len);

    if (n == NGX_ERROR || n > NGX_HTTP_TENANT_GUARD_METRICS_WS_MAX) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid number of workspaces \"%V\" "
                           "(0 to %d)", &value[1],
                           NGX_HTTP_TENANT_GUARD_METRICS_WS_MAX);
        return NGX_CONF_ERROR;
    }

    tmcf->metrics_workspaces = n;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_tenant_guard_metrics_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_tenant_guard_metrics_t  *om = data;

    ngx_http_tenant_guard_metrics_t  *m;

    m = shm_zone->data;

    if (om != NULL && om->nws == m->nws) {
        m->sh = om->sh;
        m->shpool = om->shpool;
        goto done;
    }

    m->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        m->sh = m->shpool->data;
        goto done;
    }

    m->sh = ngx_slab_calloc(m->shpool,
                            sizeof(ngx_http_tenant_guard_metrics_sh_t)
                            + m->nws
                              * sizeof(ngx_http_tenant_guard_metrics_ws_t));
    if (m->sh == NULL) {
        return NGX_ERROR;
    }

    m->shpool->data = m->sh;
    m->sh->nws = m->nws;

done:

    return NGX_OK;
}


static ngx_http_tenant_guard_metrics_t *
ngx_http_tenant_guard_metrics_get(void)
{
    ngx_http_tenant_guard_main_conf_t  *tmcf;

    tmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_tenant_guard_module);

    if (tmcf == NULL || tmcf->metrics == NULL) {
        return NULL;
    }

    return tmcf->metrics->data;
}


/*
 * The counters of the running configuration: looked up once per cycle
 * (a reload makes a new one), since every zone lookup counts.
 */

static ngx_http_tenant_guard_metrics_sh_t *
ngx_http_tenant_guard_metrics_sh(void)
{
    ngx_http_tenant_guard_metrics_t  *m;

    static ngx_cycle_t                         *cycle;
    static ngx_http_tenant_guard_metrics_sh_t  *sh;

    if (cycle == (ngx_cycle_t *) ngx_cycle && sh != NULL) {
        return sh;
    }

    m = ngx_http_tenant_guard_metrics_get();

    cycle = (ngx_cycle_t *) ngx_cycle;
    sh = m ? m->sh : NULL;

    return sh;
}


/*
 * One verdict: its result, its time since the request began, and its
 * workspace when the token named one and per-workspace series are on.
 */

void
ngx_http_tenant_guard_metrics_decision(ngx_http_request_t *r,
    ngx_http_tenant_guard_ctx_t *ctx)
{
    ngx_uint_t                           i;
    ngx_msec_int_t                       ms;
    ngx_time_t                          *tp;
    ngx_http_tenant_guard_metrics_ws_t  *ws;
    ngx_http_tenant_guard_metrics_sh_t  *sh;

    sh = ngx_http_tenant_guard_metrics_sh();

    if (sh == NULL || ctx->counted
        || (ngx_uint_t) ctx->result >= TG_RESULT_LAST)
    {
        return;
    }

    ctx->counted = 1;

    (void) ngx_atomic_fetch_add(&sh->decisions[ctx->result], 1);

    if (ctx->result == TG_RESULT_INVALID_TOKEN) {
        (void) ngx_atomic_fetch_add(
            &sh->invalid[ngx_http_tenant_guard_metrics_cause(&ctx->detail)],
            1);
    }

    tp = ngx_timeofday();

    ms = (ngx_msec_int_t) ((tp->sec - r->start_sec) * 1000
                           + (tp->msec - r->start_msec));
    ms = ngx_max(ms, 0);

    for (i = 0; i < NGX_HTTP_TENANT_GUARD_NBUCKETS; i++) {
        if ((ngx_msec_t) ms <= ngx_http_tenant_guard_buckets[i]) {
            break;
        }
    }

    (void) ngx_atomic_fetch_add(&sh->duration[i], 1);
    (void) ngx_atomic_fetch_add(&sh->duration_ms, ms);

    if (sh->nws == 0 || ctx->ids[NGX_HTTP_TENANT_GUARD_WORKSPACE].len == 0) {
        return;
    }

    ws = ngx_http_tenant_guard_metrics_workspace(
                                    &ctx->ids[NGX_HTTP_TENANT_GUARD_WORKSPACE]);

    (void) ngx_atomic_fetch_add(&ws->decisions[ctx->result], 1);
}


/*
 * The workspace's slot: found without a lock (a slot's name is written
 * before its length, and never changes after); a new one is taken under
 * the metrics zone's own mutex, so that no two workers take two slots
 * for one name.
 */

static ngx_http_tenant_guard_metrics_ws_t *
ngx_http_tenant_guard_metrics_workspace(ngx_str_t *name)
{
    ngx_uint_t                           i;
    ngx_http_tenant_guard_metrics_t     *m;
    ngx_http_tenant_guard_metrics_ws_t  *ws;
    ngx_http_tenant_guard_metrics_sh_t  *sh;

    m = ngx_http_tenant_guard_metrics_get();
    sh = m->sh;

    /* a workspace named "__other__" would be a second series of that name */

    if (name->len > NGX_HTTP_TENANT_GUARD_METRICS_WS_LEN
        || (name->len == sizeof("__other__") - 1
            && ngx_memcmp(name->data, "__other__", name->len) == 0))
    {
        return &sh->other;
    }

    for (i = 0; i < sh->nws; i++) {
        ws = &sh->ws[i];

        if (ws->len == 0) {
            break;
        }

        if (ws->len == name->len
            && ngx_memcmp(ws->name, name->data, name->len) == 0)
        {
            return ws;
        }
    }

    if (i == sh->nws) {
        return &sh->other;
    }

    ngx_shmtx_lock(&m->shpool->mutex);

    for (i = 0; i < sh->nws; i++) {
        ws = &sh->ws[i];

        if (ws->len == 0) {
            ngx_memcpy(ws->name, name->data, name->len);
            ngx_memory_barrier();
            ws->len = name->len;
            break;
        }

        if (ws->len == name->len
            && ngx_memcmp(ws->name, name->data, name->len) == 0)
        {
            break;
        }
    }

    ngx_shmtx_unlock(&m->shpool->mutex);

    return (i == sh->nws) ? &sh->other : &sh->ws[i];
}


/*
 * The cause of an invalid token, from the refusal's own words (the
 * engine's error texts, the token step's details): the verifying code
 * needs no change to be counted.
 */

static ngx_uint_t
ngx_http_tenant_guard_metrics_cause(ngx_str_t *detail)
{
    ngx_uint_t  i;

    static const struct {
        const char  *text;
        ngx_uint_t   cause;
    } causes[] = {
        { "larger than", NGX_HTTP_TENANT_GUARD_CAUSE_TOO_LARGE },
        { "revoked", NGX_HTTP_TENANT_GUARD_CAUSE_REVOKED },
        { "signed out", NGX_HTTP_TENANT_GUARD_CAUSE_REVOKED },
        { "unknown token", NGX_HTTP_TENANT_GUARD_CAUSE_OPAQUE_UNKNOWN },
        { "unknown kid", NGX_HTTP_TENANT_GUARD_CAUSE_KID_UNKNOWN },
        { "no key fits", NGX_HTTP_TENANT_GUARD_CAUSE_KID_UNKNOWN },
        { "algorithm", NGX_HTTP_TENANT_GUARD_CAUSE_ALG },
        { "alg \"none\"", NGX_HTTP_TENANT_GUARD_CAUSE_ALG },
        { "\"alg\"", NGX_HTTP_TENANT_GUARD_CAUSE_ALG },
        { "does not verify", NGX_HTTP_TENANT_GUARD_CAUSE_SIGNATURE },
        { "has expired", NGX_HTTP_TENANT_GUARD_CAUSE_EXPIRED },
        { "not valid yet", NGX_HTTP_TENANT_GUARD_CAUSE_NOT_YET_VALID },
        { "in the future", NGX_HTTP_TENANT_GUARD_CAUSE_NOT_YET_VALID },
        { "issuer", NGX_HTTP_TENANT_GUARD_CAUSE_ISSUER },
        { "audience", NGX_HTTP_TENANT_GUARD_CAUSE_AUDIENCE },
    };

    if (detail->len == 0) {
        return NGX_HTTP_TENANT_GUARD_CAUSE_MALFORMED;
    }

    for (i = 0; i < sizeof(causes) / sizeof(causes[0]); i++) {
        if (ngx_strlcasestrn(detail->data, detail->data + detail->len,
                             (u_char *) causes[i].text,
                             ngx_strlen(causes[i].text) - 1)
            != NULL)
        {
            return causes[i].cause;
        }
    }

    return NGX_HTTP_TENANT_GUARD_CAUSE_MALFORMED;
}


void
ngx_http_tenant_guard_metrics_lookup(ngx_uint_t kind, ngx_uint_t hit)
{
    ngx_uint_t                           cache;
    ngx_http_tenant_guard_metrics_sh_t  *sh;

    if (kind == NGX_HTTP_TENANT_GUARD_KIND_TOKEN) {
        cache = NGX_HTTP_TENANT_GUARD_CACHE_TOKEN;

    } else if (kind == NGX_HTTP_TENANT_GUARD_KIND_POLICY) {
        cache = NGX_HTTP_TENANT_GUARD_CACHE_POLICY;

    } else {
        return;
    }

    sh = ngx_http_tenant_guard_metrics_sh();

    if (sh == NULL) {
        return;
    }

    (void) ngx_atomic_fetch_add(&sh->lookups[cache][hit ? 0 : 1], 1);
}


void
ngx_http_tenant_guard_metrics_ban(ngx_uint_t level)
{
    ngx_http_tenant_guard_metrics_sh_t  *sh;

    sh = ngx_http_tenant_guard_metrics_sh();

    if (sh != NULL && level >= 1 && level <= 3) {
        (void) ngx_atomic_fetch_add(&sh->bans[level - 1], 1);
    }
}


void
ngx_http_tenant_guard_metrics_login_failure(void)
{
    ngx_http_tenant_guard_metrics_sh_t  *sh;

    sh = ngx_http_tenant_guard_metrics_sh();

    if (sh != NULL) {
        (void) ngx_atomic_fetch_add(&sh->login_failures, 1);
    }
}


void
ngx_http_tenant_guard_metrics_redis(ngx_uint_t result)
{
    ngx_http_tenant_guard_metrics_sh_t  *sh;

    sh = ngx_http_tenant_guard_metrics_sh();

    if (sh != NULL && result < 3) {
        (void) ngx_atomic_fetch_add(&sh->redis[result], 1);
    }
}


/*
 * The key set's figures for tenant_guard_jwks_*: the keys of the
 * location's tenant_guard_keys file; no fetch of a keys URL is counted
 * here (that code reports through this one function).
 */

void
ngx_http_tenant_guard_metrics_jwks(ngx_http_request_t *r,
    ngx_http_tenant_guard_jwks_stats_t *stats)
{
    ngx_uint_t                           i, fetched;
    ngx_http_tenant_guard_keys_stats_t   ks;
    ngx_http_tenant_guard_loc_conf_t    *lcf;
    ngx_http_tenant_guard_main_conf_t   *tmcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_tenant_guard_module);
    tmcf = ngx_http_get_module_main_conf(r, ngx_http_tenant_guard_module);

    ngx_memzero(stats, sizeof(ngx_http_tenant_guard_jwks_stats_t));

    stats->source = "none";

    if (lcf->keys != NULL) {
        stats->keys = lcf->keys->set.nkeys;
        stats->source = "file";
    }

    if (tmcf->zone == NULL) {
        return;
    }

    /*
     * tenant_guard_keys_url: every URL's fetches (one copy of each
     * record under the zone's lock); a set fetched replaces the file's
     */

    fetched = 0;

    for (i = 0;
         ngx_http_tenant_guard_zone_jwks_stats(tmcf->zone, i, &ks) == NGX_OK;
         i++)
    {
        stats->fetches[NGX_HTTP_TENANT_GUARD_JWKS_SUCCESS] += ks.successes;
        stats->fetches[NGX_HTTP_TENANT_GUARD_JWKS_FAILURE] += ks.failures;
        stats->fetches[NGX_HTTP_TENANT_GUARD_JWKS_REJECTED] += ks.rejected;

        if (ks.fetched > stats->last_fetch) {
            stats->last_fetch = ks.fetched;
        }

        if (ks.generation) {
            if (!fetched) {
                stats->keys = 0;
                fetched = 1;
            }

            stats->keys += ks.nkeys;
            stats->source = "url";
        }
    }
}


static size_t
ngx_http_tenant_guard_metrics_zone_used(ngx_http_tenant_guard_zone_t *zone)
{
    size_t  size, free;

    size = zone->shm_zone->shm.size;

    /* one word read without the lock: a scrape never waits for it */

    free = (size_t) zone->shpool->pfree << ngx_pagesize_shift;

    return (free < size) ? size - free : 0;
}


#define NGX_HTTP_TENANT_GUARD_HEAD(name, type, help)                         \
    "# HELP " name " " help "\n# TYPE " name " " type "\n"


/* the Prometheus text (0.0.4) of the counters, copied without a lock */

ngx_int_t
ngx_http_tenant_guard_metrics_text(ngx_http_request_t *r, ngx_chain_t **out)
{
    u_char                              *p;
    size_t                               len;
    ngx_buf_t                           *b;
    ngx_uint_t                           i, j, n, done[TG_RESULT_LAST];
    ngx_uint_t                           nws;
    ngx_atomic_uint_t                    sum;
    const tg_result_t                   *res;
    ngx_http_tenant_guard_metrics_ws_t  *ws;
    ngx_http_tenant_guard_metrics_sh_t   sh;
    ngx_http_tenant_guard_main_conf_t   *tmcf;
    ngx_http_tenant_guard_jwks_stats_t   jwks;

    tmcf = ngx_http_get_module_main_conf(r, ngx_http_tenant_guard_module);

    if (ngx_http_tenant_guard_metrics_sh() == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(&sh, ngx_http_tenant_guard_metrics_sh(), sizeof(sh));

    nws = sh.nws;
    ws = ngx_http_tenant_guard_metrics_sh()->ws;

    ngx_http_tenant_guard_metrics_jwks(r, &jwks);

    len = 16384 + (nws + 1) * TG_RESULT_LAST
                  * (sizeof("tenant_guard_workspace_decisions_total"
                            "{workspace=\"\",result=\"\"} ") + 4 * 64
                     + 32 + NGX_ATOMIC_T_LEN);

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NGX_ERROR;
    }

    p = b->last;

    p = ngx_cpymem(p, NGX_HTTP_TENANT_GUARD_HEAD("tenant_guard_info", "gauge",
                          "The module's version and nginx's; always 1."),
                   sizeof(NGX_HTTP_TENANT_GUARD_HEAD("tenant_guard_info",
                          "gauge",
                          "The module's version and nginx's; always 1."))
                   - 1);
    p = ngx_sprintf(p, "tenant_guard_info{version=\"%s\",nginx_version=\"%s\"}"
                    " 1\n", NGX_HTTP_TENANT_GUARD_VERSION, NGINX_VERSION);

    /* one series per error code: two results may share one */

    p = ngx_sprintf(p, "%s", NGX_HTTP_TENANT_GUARD_HEAD(
                        "tenant_guard_decisions_total", "counter",
                        "Access decisions, by result: allow or the refusal's "
                        "error code."));

    ngx_memzero(done, sizeof(done));

    for (i = 0; i < TG_RESULT_LAST; i++) {
        if (done[i]) {
            continue;
        }

        res = tg_result_get(i);
        sum = 0;

        for (j = i; j < TG_RESULT_LAST; j++) {
            if (ngx_strcmp(tg_result_get(j)->code, res->code) == 0) {
                sum += sh.decisions[j];
                done[j] = 1;
            }
        }

        p = ngx_sprintf(p, "tenant_guard_decisions_total{result=\"%s\"} %uA\n",
                        res->code, sum);
    }

    if (nws) {
        p = ngx_sprintf(p, "%s", NGX_HTTP_TENANT_GUARD_HEAD(
                        "tenant_guard_workspace_decisions_total", "counter",
                        "Access decisions per workspace (the first "
                        "tenant_guard_metrics_workspaces seen; the rest "
                        "as __other__), by result."));

        for (n = 0; n <= nws; n++) {
            ngx_http_tenant_guard_metrics_ws_t  w;

            if (n < nws) {
                ngx_memcpy(&w, &ws[n], sizeof(w));

                if (w.len == 0 || w.len > NGX_HTTP_TENANT_GUARD_METRICS_WS_LEN)
                {
                    continue;
                }

            } else {
                ngx_memcpy(&w, &sh.other, sizeof(w));
                w.len = sizeof("__other__") - 1;
                ngx_memcpy(w.name, "__other__", w.len);
            }

            ngx_memzero(done, sizeof(done));

            for (i = 0; i < TG_RESULT_LAST; i++) {
                if (done[i]) {
                    continue;
                }

                res = tg_result_get(i);
                sum = 0;

                for (j = i; j < TG_RESULT_LAST; j++) {
                    if (ngx_strcmp(tg_result_get(j)->code, res->code) == 0) {
                        sum += w.decisions[j];
                        done[j] = 1;
                    }
                }

                if (sum == 0) {
                    continue;
                }

                p = ngx_cpymem(p, "tenant_guard_workspace_decisions_total"
                               "{workspace=\"",
                               sizeof("tenant_guard_workspace_decisions_total"
                                      "{workspace=\"") - 1);
                p = ngx_http_tenant_guard_metrics_label(p, w.name, w.len);
                p = ngx_sprintf(p, "\",result=\"%s\"} %uA\n", res->code, sum);
            }
        }
    }

    p = ngx_sprintf(p, "%s", NGX_HTTP_TENANT_GUARD_HEAD(
                        "tenant_guard_invalid_tokens_total", "counter",
                        "Tokens refused as invalid_token, by cause."));

    for (i = 0; i < NGX_HTTP_TENANT_GUARD_NCAUSES; i++) {
        p = ngx_sprintf(p, "tenant_guard_invalid_tokens_total{cause=\"%s\"} "
                        "%uA\n", ngx_http_tenant_guard_causes[i],
                        sh.invalid[i]);
    }

    p = ngx_sprintf(p, "%s", NGX_HTTP_TENANT_GUARD_HEAD(
                        "tenant_guard_bans_total", "counter",
                        "Bans set on this host, by level (1, 2: a login "
                        "identifier; permanent: a client address)."));

    p = ngx_sprintf(p, "tenant_guard_bans_total{level=\"1\"} %uA\n"
                       "tenant_guard_bans_total{level=\"2\"} %uA\n"
                       "tenant_guard_bans_total{level=\"permanent\"} %uA\n",
                    sh.bans[0], sh.bans[1], sh.bans[2]);

    p = ngx_sprintf(p, "%s", NGX_HTTP_TENANT_GUARD_HEAD(
                        "tenant_guard_login_failures_total", "counter",
                        "Failed logins counted (the upstream's status on a "
                        "tenant_guard_login endpoint)."));

    p = ngx_sprintf(p, "tenant_guard_login_failures_total %uA\n",
                    sh.login_failures);

    p = ngx_sprintf(p, "%s", NGX_HTTP_TENANT_GUARD_HEAD(
                        "tenant_guard_cache_lookups_total", "counter",
                        "Lookups in the shared zone, by cache and result."));

    for (i = 0; i < NGX_HTTP_TENANT_GUARD_NCACHES; i++) {
        p = ngx_sprintf(p, "tenant_guard_cache_lookups_total{cache=\"%s\","
                        "result=\"hit\"} %uA\n"
                        "tenant_guard_cache_lookups_total{cache=\"%s\","
                        "result=\"miss\"} %uA\n",
                        ngx_http_tenant_guard_caches[i], sh.lookups[i][0],
                        ngx_http_tenant_guard_caches[i], sh.lookups[i][1]);
    }

    if (tmcf->zone != NULL) {
        p = ngx_sprintf(p, "%s", NGX_HTTP_TENANT_GUARD_HEAD(
                        "tenant_guard_zone_bytes", "gauge",
                        "The tenant_guard_zone: its size and the bytes "
                        "in use."));

        p = ngx_sprintf(p, "tenant_guard_zone_bytes{state=\"size\"} %uz\n"
                           "tenant_guard_zone_bytes{state=\"used\"} %uz\n",
                        tmcf->zone->shm_zone->shm.size,
                        ngx_http_tenant_guard_metrics_zone_used(tmcf->zone));

        p = ngx_sprintf(p, "%s", NGX_HTTP_TENANT_GUARD_HEAD(
                        "tenant_guard_zone_evictions_total", "counter",
                        "Entries evicted from a full zone."));

        p = ngx_sprintf(p, "tenant_guard_zone_evictions_total %ui\n",
                        tmcf->zone->sh->evictions);
    }

    p = ngx_sprintf(p, "%s", NGX_HTTP_TENANT_GUARD_HEAD(
                        "tenant_guard_redis_up", "gauge",
                        "1 while this worker's Redis link is up (0 without "
                        "Redis)."));

    p = ngx_sprintf(p, "tenant_guard_redis_up %d\n",
                    (tmcf->redis != NULL && ngx_http_tenant_guard_redis_up())
                    ? 1 : 0);

    p = ngx_sprintf(p, "%s", NGX_HTTP_TENANT_GUARD_HEAD(
                        "tenant_guard_redis_commands_total", "counter",
                        "Redis commands, by outcome."));

    p = ngx_sprintf(p, "tenant_guard_redis_commands_total{result=\"ok\"} %uA\n"
                       "tenant_guard_redis_commands_total{result=\"error\"} "
                       "%uA\n"
                       "tenant_guard_redis_commands_total{result=\"timeout\"} "
                       "%uA\n",
                    sh.redis[0], sh.redis[1], sh.redis[2]);

    p = ngx_sprintf(p, "%s", NGX_HTTP_TENANT_GUARD_HEAD(
                        "tenant_guard_jwks_fetches_total", "counter",
                        "Fetches of the JWKS URL, by result."));

    p = ngx_sprintf(p, "tenant_guard_jwks_fetches_total{result=\"success\"} "
                       "%ui\n"
                       "tenant_guard_jwks_fetches_total{result=\"failure\"} "
                       "%ui\n"
                       "tenant_guard_jwks_fetches_total{result=\"rejected\"} "
                       "%ui\n",
                    jwks.fetches[0], jwks.fetches[1], jwks.fetches[2]);

    p = ngx_sprintf(p, "%s", NGX_HTTP_TENANT_GUARD_HEAD(
                        "tenant_guard_jwks_keys", "gauge",
                        "Keys in the key set in use."));

    p = ngx_sprintf(p, "tenant_guard_jwks_keys %ui\n", jwks.keys);

    p = ngx_sprintf(p, "%s", NGX_HTTP_TENANT_GUARD_HEAD(
                        "tenant_guard_decision_duration_seconds", "histogram",
                        "Time from the request's start to the access "
                        "decision (millisecond resolution)."));

    sum = 0;

    for (i = 0; i < NGX_HTTP_TENANT_GUARD_NBUCKETS; i++) {
        sum += sh.duration[i];
        p = ngx_sprintf(p, "tenant_guard_decision_duration_seconds_bucket"
                        "{le=\"%ui.%03ui\"} %uA\n",
                        ngx_http_tenant_guard_buckets[i] / 1000,
                        ngx_http_tenant_guard_buckets[i] % 1000, sum);
    }

    sum += sh.duration[NGX_HTTP_TENANT_GUARD_NBUCKETS];

    p = ngx_sprintf(p, "tenant_guard_decision_duration_seconds_bucket"
                    "{le=\"+Inf\"} %uA\n"
                    "tenant_guard_decision_duration_seconds_sum %uA.%03uA\n"
                    "tenant_guard_decision_duration_seconds_count %uA\n",
                    sum, sh.duration_ms / 1000, sh.duration_ms % 1000, sum);

    b->last = p;
    b->last_buf = 1;
    b->last_in_chain = 1;

    *out = ngx_alloc_chain_link(r->pool);
    if (*out == NULL) {
        return NGX_ERROR;
    }

    (*out)->buf = b;
    (*out)->next = NULL;

    return NGX_OK;
}


/* a label value: '\', '"' and a newline escaped; other bytes kept */

static u_char *
ngx_http_tenant_guard_metrics_label(u_char *p, u_char *s, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if (s[i] == '\\' || s[i] == '"') {
            *p++ = '\\';
            *p++ = s[i];

        } else if (s[i] == '\n') {
            *p++ = '\\';
            *p++ = 'n';

        } else {
            *p++ = s[i];
        }
    }

    return p;
}


/* /status: what the edge is and holds, as JSON */

ngx_int_t
ngx_http_tenant_guard_metrics_status(ngx_http_request_t *r, ngx_chain_t **out)
{
    u_char                              *p;
    ngx_buf_t                           *b;
    ngx_uint_t                           i;
    ngx_atomic_uint_t                    allowed, refused;
    ngx_http_tenant_guard_metrics_sh_t   sh;
    ngx_http_tenant_guard_main_conf_t   *tmcf;
    ngx_http_tenant_guard_jwks_stats_t   jwks;

    tmcf = ngx_http_get_module_main_conf(r, ngx_http_tenant_guard_module);

    if (ngx_http_tenant_guard_metrics_sh() == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(&sh, ngx_http_tenant_guard_metrics_sh(), sizeof(sh));

    ngx_http_tenant_guard_metrics_jwks(r, &jwks);

    b = ngx_create_temp_buf(r->pool, 4096);
    if (b == NULL) {
        return NGX_ERROR;
    }

    allowed = sh.decisions[TG_RESULT_ALLOW];
    refused = 0;

    for (i = 1; i < TG_RESULT_LAST; i++) {
        refused += sh.decisions[i];
    }

    p = ngx_sprintf(b->last, "{\"version\":\"%s\",\"nginx_version\":\"%s\","
                    "\"mode\":\"%s\",",
                    NGX_HTTP_TENANT_GUARD_VERSION, NGINX_VERSION,
                    tmcf->redis ? "redis" : "embedded");

    if (tmcf->redis) {
        p = ngx_sprintf(p, "\"redis\":{\"link\":\"%s\"},",
                        ngx_http_tenant_guard_redis_up() ? "up" : "down");

    } else {
        p = ngx_sprintf(p, "\"redis\":null,");
    }

    if (tmcf->zone) {
        p = ngx_sprintf(p, "\"zone\":{\"name\":\"%V\",\"size\":%uz,"
                        "\"used\":%uz,\"entries\":%ui,\"evictions\":%ui},",
                        &tmcf->zone->shm_zone->shm.name,
                        tmcf->zone->shm_zone->shm.size,
                        ngx_http_tenant_guard_metrics_zone_used(tmcf->zone),
                        tmcf->zone->sh->entries, tmcf->zone->sh->evictions);

    } else {
        p = ngx_sprintf(p, "\"zone\":null,");
    }

    p = ngx_sprintf(p, "\"keys\":{\"source\":\"%s\",\"count\":%ui,"
                    "\"last_fetch\":", jwks.source, jwks.keys);

    p = jwks.last_fetch ? ngx_sprintf(p, "%T", jwks.last_fetch)
                        : ngx_cpymem(p, "null", 4);

    p = ngx_sprintf(p, "},\"counters\":{\"allowed\":%uA,\"refused\":%uA,"
                    "\"login_failures\":%uA,\"bans\":%uA}}\n",
                    allowed, refused, sh.login_failures,
                    sh.bans[0] + sh.bans[1] + sh.bans[2]);

    b->last = p;
    b->last_buf = 1;
    b->last_in_chain = 1;

    *out = ngx_alloc_chain_link(r->pool);
    if (*out == NULL) {
        return NGX_ERROR;
    }

    (*out)->buf = b;
    (*out)->next = NULL;

    return NGX_OK;
}
