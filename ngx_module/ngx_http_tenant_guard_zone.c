
/*
 * Copyright (C) tenant_guard authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_tenant_guard_module.h"
#include "ngx_http_tenant_guard_keys.h"
#include "ngx_http_tenant_guard_metrics.h"
#include "ngx_http_tenant_guard_admin.h"


/*
 * One zone holds every kind of entry (verified tokens, idle timestamps,
 * bans and counters), keyed by kind and key bytes, in an rbtree with an
 * LRU queue; entries expire at their own time.  Values are copied in and
 * out under the zone's mutex, which no other file takes.
 *
 * A jti's index entry (KIND_JTI) names the cached tokens of that jti, so
 * that a revocation reaches every one of them: a token is cached together
 * with its name in the index, under one lock; an index entry is not
 * evicted while a token it names is cached, and one dropped anyway takes
 * its tokens with it.  A cached token is never out of a revocation's reach.
 *
 * Refusals of invalid tokens live apart, in a fixed table reserved when
 * the zone is made (a sixteenth of it): a flood of invalid tokens recycles
 * that table and never evicts anything else.
 */


typedef struct {
    u_char                        color;
    u_char                        kind;
    u_short                       key_len;
    uint32_t                      value_len;
    time_t                        expires;
    ngx_queue_t                   queue;
    u_char                        data[1];
} ngx_http_tenant_guard_node_t;


/* a jti's index entry: the digests of its cached tokens, oldest first */

typedef struct {
    uint32_t                      n;
    u_char                        key[NGX_HTTP_TENANT_GUARD_JTI_TOKENS][32];
} ngx_http_tenant_guard_jti_t;


#define NGX_HTTP_TENANT_GUARD_NEGATIVE_DETAIL  200
#define NGX_HTTP_TENANT_GUARD_NEGATIVE_WAYS    4


/* an invalid token's refusal: free while expires is 0 */

struct ngx_http_tenant_guard_negative_s {
    u_char                        key[32];    /* the token's SHA-256 */
    time_t                        stored;
    time_t                        expires;
    uint32_t                      fingerprint;
    u_char                        opaque;     /* unknown to Redis */
    u_char                        held;       /* no refusal kept until then */
    u_char                        detail_len;
    u_char                        detail[NGX_HTTP_TENANT_GUARD_NEGATIVE_DETAIL];
};


static ngx_int_t ngx_http_tenant_guard_zone_init(ngx_shm_zone_t *shm_zone,
    void *data);
static void ngx_http_tenant_guard_zone_insert(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel);
static ngx_http_tenant_guard_node_t *ngx_http_tenant_guard_zone_find(
    ngx_http_tenant_guard_zone_t *zone, ngx_uint_t kind, u_char *key,
    size_t len, uint32_t hash);
static ngx_http_tenant_guard_node_t *ngx_http_tenant_guard_zone_add(
    ngx_http_tenant_guard_zone_t *zone, ngx_uint_t kind, u_char *key,
    size_t len, uint32_t hash, size_t size, time_t expires);
static ngx_http_tenant_guard_node_t *ngx_http_tenant_guard_zone_take(
    ngx_http_tenant_guard_zone_t *zone, ngx_uint_t kind, u_char *key,
    size_t len);
static ngx_http_tenant_guard_node_t *ngx_http_tenant_guard_zone_put_locked(
    ngx_http_tenant_guard_zone_t *zone, ngx_uint_t kind, u_char *key,
    size_t len, u_char *value, size_t n, time_t expires);
static ngx_int_t ngx_http_tenant_guard_zone_index(
    ngx_http_tenant_guard_zone_t *zone, u_char *key, u_char *jti,
    size_t len, time_t expires);
static void ngx_http_tenant_guard_zone_drop(
    ngx_http_tenant_guard_zone_t *zone, ngx_http_tenant_guard_node_t *tn);
static ngx_uint_t ngx_http_tenant_guard_zone_names_live(
    ngx_http_tenant_guard_zone_t *zone, ngx_http_tenant_guard_node_t *tn);
static void ngx_http_tenant_guard_zone_delete(
    ngx_http_tenant_guard_zone_t *zone, ngx_http_tenant_guard_node_t *tn);
static ngx_http_tenant_guard_negative_t *
    ngx_http_tenant_guard_zone_negative_set(ngx_http_tenant_guard_zone_t *zone,
    u_char *key);
static ngx_http_tenant_guard_node_t *ngx_http_tenant_guard_zone_alloc(
    ngx_http_tenant_guard_zone_t *zone, ngx_uint_t kind, size_t size);
static ngx_uint_t ngx_http_tenant_guard_zone_state(ngx_uint_t kind);
static ngx_uint_t ngx_http_tenant_guard_zone_admin_state(ngx_uint_t kind);
static ngx_uint_t ngx_http_tenant_guard_zone_ban_live(
    ngx_http_tenant_guard_node_t *tn);
static uint32_t ngx_http_tenant_guard_zone_hash(ngx_uint_t kind, u_char *key,
    size_t len);


#define ngx_http_tenant_guard_node(n)                                        \
    ((ngx_http_tenant_guard_node_t *) &(n)->color)

#define ngx_http_tenant_guard_rbnode(tn)                                     \
    ((ngx_rbtree_node_t *)                                                   \
        ((u_char *) (tn) - offsetof(ngx_rbtree_node_t, color)))


char *
ngx_http_tenant_guard_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_tenant_guard_main_conf_t *tmcf = conf;

    u_char                        *p;
    ssize_t                        size;
    ngx_str_t                     *value, name, s;
    ngx_http_tenant_guard_zone_t  *zone;

    if (tmcf->zone != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strncmp(value[1].data, "zone=", 5) != 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    name.data = value[1].data + 5;

    p = (u_char *) ngx_strchr(name.data, ':');
    if (p == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid zone size \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    name.len = p - name.data;

    s.data = p + 1;
    s.len = value[1].data + value[1].len - s.data;

    size = ngx_parse_size(&s);

    if (size == NGX_ERROR || name.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid zone size \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    if (size < (ssize_t) (8 * ngx_pagesize)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "zone \"%V\" is too small", &value[1]);
        return NGX_CONF_ERROR;
    }

    zone = ngx_pcalloc(cf->pool, sizeof(ngx_http_tenant_guard_zone_t));
    if (zone == NULL) {
        return NGX_CONF_ERROR;
    }

    zone->shm_zone = ngx_shared_memory_add(cf, &name, size,
                                           &ngx_http_tenant_guard_module);
    if (zone->shm_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    if (zone->shm_zone->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "duplicate zone \"%V\"", &name);
        return NGX_CONF_ERROR;
    }

    zone->shm_zone->init = ngx_http_tenant_guard_zone_init;
    zone->shm_zone->data = zone;

    tmcf->zone = zone;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_tenant_guard_zone_init(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_tenant_guard_zone_t  *ozone = data;

    size_t                         len, n;
    ngx_http_tenant_guard_zone_t  *zone;

    zone = shm_zone->data;

    if (ozone) {
        zone->sh = ozone->sh;
        zone->shpool = ozone->shpool;
        return NGX_OK;
    }

    zone->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        zone->sh = zone->shpool->data;
        return NGX_OK;
    }

    zone->sh = ngx_slab_alloc(zone->shpool,
                              sizeof(ngx_http_tenant_guard_shctx_t));
    if (zone->sh == NULL) {
        return NGX_ERROR;
    }

    zone->shpool->data = zone->sh;

    ngx_rbtree_init(&zone->sh->rbtree, &zone->sh->sentinel,
                    ngx_http_tenant_guard_zone_insert);

    ngx_queue_init(&zone->sh->queue);

    zone->sh->heard = 0;

    /* whole sets of slots, reserved: the refusals' own share of the zone */

    n = shm_zone->shm.size / 16 / sizeof(ngx_http_tenant_guard_negative_t);
    n -= n % NGX_HTTP_TENANT_GUARD_NEGATIVE_WAYS;

    if (n < NGX_HTTP_TENANT_GUARD_NEGATIVE_WAYS) {
        n = NGX_HTTP_TENANT_GUARD_NEGATIVE_WAYS;
    }

    zone->sh->negatives = ngx_slab_calloc(zone->shpool,
                                  n * sizeof(ngx_http_tenant_guard_negative_t));
    if (zone->sh->negatives == NULL) {
        return NGX_ERROR;
    }

    zone->sh->nnegatives = n;

    len = sizeof(" in tenant_guard zone \"\"") + shm_zone->shm.name.len;

    zone->shpool->log_ctx = ngx_slab_alloc(zone->shpool, len);
    if (zone->shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(zone->shpool->log_ctx, " in tenant_guard zone \"%V\"%Z",
                &shm_zone->shm.name);

    /* a full zone evicts the oldest entry; the slab need not say so */

    zone->shpool->log_nomem = 0;

    return NGX_OK;
}


static void
ngx_http_tenant_guard_zone_insert(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel)
{
    ngx_int_t                      rc;
    ngx_rbtree_node_t            **p;
    ngx_http_tenant_guard_node_t  *tn, *tnt;

    for ( ;; ) {

        if (node->key < temp->key) {
            p = &temp->left;

        } else if (node->key > temp->key) {
            p = &temp->right;

        } else {
            tn = ngx_http_tenant_guard_node(node);
            tnt = ngx_http_tenant_guard_node(temp);

            rc = (ngx_int_t) tn->kind - (ngx_int_t) tnt->kind;

            if (rc == 0) {
                rc = ngx_memn2cmp(tn->data, tnt->data, tn->key_len,
                                  tnt->key_len);
            }

            p = (rc < 0) ? &temp->left : &temp->right;
        }

        if (*p == sentinel) {
            break;
        }

        temp = *p;
    }

    *p = node;
    node->parent = temp;
    node->left = sentinel;
    node->right = sentinel;
    ngx_rbt_red(node);
}


/*
 * Copies the value out: NGX_OK, or NGX_DECLINED when absent, expired or
 * larger than size.
 */

ngx_int_t
ngx_http_tenant_guard_zone_get(ngx_http_tenant_guard_zone_t *zone,
    ngx_uint_t kind, u_char *key, size_t len, u_char *buf, size_t size,
    size_t *n)
{
    ngx_int_t                      rc;
    ngx_http_tenant_guard_node_t  *tn;

    rc = NGX_DECLINED;

    ngx_shmtx_lock(&zone->shpool->mutex);

    tn = ngx_http_tenant_guard_zone_take(zone, kind, key, len);

    if (tn != NULL && tn->value_len <= size) {
        ngx_memcpy(buf, tn->data + tn->key_len, tn->value_len);
        *n = tn->value_len;
        rc = NGX_OK;
    }

    ngx_shmtx_unlock(&zone->shpool->mutex);

    return rc;
}


/*
 * Copies the value out into the pool, whatever its size: NGX_OK, or
 * NGX_DECLINED when absent or expired, NGX_ERROR without memory.
 */

ngx_int_t
ngx_http_tenant_guard_zone_copy(ngx_http_tenant_guard_zone_t *zone,
    ngx_uint_t kind, u_char *key, size_t len, ngx_pool_t *pool,
    u_char **value, size_t *n)
{
    ngx_int_t                      rc;
    ngx_http_tenant_guard_node_t  *tn;

    rc = NGX_DECLINED;

    ngx_shmtx_lock(&zone->shpool->mutex);

    tn = ngx_http_tenant_guard_zone_take(zone, kind, key, len);

    if (tn != NULL) {
        *value = ngx_pnalloc(pool, tn->value_len ? tn->value_len : 1);

        if (*value == NULL) {
            rc = NGX_ERROR;

        } else {
            ngx_memcpy(*value, tn->data + tn->key_len, tn->value_len);
            *n = tn->value_len;
            rc = NGX_OK;
        }
    }

    ngx_shmtx_unlock(&zone->shpool->mutex);

    return rc;
}


/*
 * A live entry, made the most recently used, with the mutex held; an
 * expired one is dropped.  Counts hits and misses.
 */

static ngx_http_tenant_guard_node_t *
ngx_http_tenant_guard_zone_take(ngx_http_tenant_guard_zone_t *zone,
    ngx_uint_t kind, u_char *key, size_t len)
{
    ngx_http_tenant_guard_node_t  *tn;

    tn = ngx_http_tenant_guard_zone_find(zone, kind, key, len,
                              ngx_http_tenant_guard_zone_hash(kind, key, len));

    if (tn != NULL && tn->expires && tn->expires <= ngx_time()) {
        ngx_http_tenant_guard_zone_drop(zone, tn);
        tn = NULL;
    }

    ngx_http_tenant_guard_metrics_lookup(kind, tn != NULL);

    if (tn == NULL) {
        zone->sh->misses++;
        return NULL;
    }

    ngx_queue_remove(&tn->queue);
    ngx_queue_insert_head(&zone->sh->queue, &tn->queue);
    zone->sh->hits++;

    return tn;
}


/* stores a value, replacing one of the same key; NGX_ERROR if it won't fit */

ngx_int_t
ngx_http_tenant_guard_zone_put(ngx_http_tenant_guard_zone_t *zone,
    ngx_uint_t kind, u_char *key, size_t len, u_char *value, size_t n,
    time_t expires)
{
    ngx_http_tenant_guard_node_t  *tn;

    if (len > 0xffff || n > 0xffffff) {
        return NGX_ERROR;
    }

    ngx_shmtx_lock(&zone->shpool->mutex);

    tn = ngx_http_tenant_guard_zone_put_locked(zone, kind, key, len, value, n,
                                               expires);

    ngx_shmtx_unlock(&zone->shpool->mutex);

    return tn ? NGX_OK : NGX_ERROR;
}


static ngx_http_tenant_guard_node_t *
ngx_http_tenant_guard_zone_put_locked(ngx_http_tenant_guard_zone_t *zone,
    ngx_uint_t kind, u_char *key, size_t len, u_char *value, size_t n,
    time_t expires)
{
    uint32_t                       hash;
    ngx_http_tenant_guard_node_t  *tn;

    hash = ngx_http_tenant_guard_zone_hash(kind, key, len);

    tn = ngx_http_tenant_guard_zone_find(zone, kind, key, len, hash);

    if (tn != NULL && tn->value_len == n) {
        ngx_memcpy(tn->data + tn->key_len, value, n);
        tn->expires = expires;
        ngx_queue_remove(&tn->queue);
        ngx_queue_insert_head(&zone->sh->queue, &tn->queue);
        return tn;
    }

    if (tn != NULL) {
        ngx_http_tenant_guard_zone_drop(zone, tn);
    }

    tn = ngx_http_tenant_guard_zone_add(zone, kind, key, len, hash, n,
                                        expires);
    if (tn != NULL && n) {
        ngx_memcpy(tn->data + len, value, n);
    }

    return tn;
}


/*
 * A verified token (key: its SHA-256) and, with a jti, its name in that
 * jti's index, under one lock: no revocation can come between the two.
 * NGX_DECLINED: tg:events named the jti lately, and the verdict may
 * predate the revocation: not kept.  NGX_ERROR: it would not fit.
 */

ngx_int_t
ngx_http_tenant_guard_zone_put_token(ngx_http_tenant_guard_zone_t *zone,
    u_char *key, u_char *value, size_t n, time_t expires, u_char *jti,
    size_t jti_len)
{
    ngx_int_t                      rc;
    ngx_http_tenant_guard_node_t  *tn;

    if (n > 0xffffff || jti_len > 0xffff) {
        return NGX_ERROR;
    }

    ngx_shmtx_lock(&zone->shpool->mutex);

    if (jti_len) {
        tn = ngx_http_tenant_guard_zone_find(zone,
                                 NGX_HTTP_TENANT_GUARD_KIND_JTI_HOLD, jti,
                                 jti_len,
                                 ngx_http_tenant_guard_zone_hash(
                                     NGX_HTTP_TENANT_GUARD_KIND_JTI_HOLD, jti,
                                     jti_len));

        if (tn != NULL && tn->expires > ngx_time()) {
            ngx_shmtx_unlock(&zone->shpool->mutex);
            return NGX_DECLINED;
        }
    }

    tn = ngx_http_tenant_guard_zone_put_locked(zone,
                                               NGX_HTTP_TENANT_GUARD_KIND_TOKEN,
                                               key, 32, value, n, expires);

    rc = (tn != NULL) ? NGX_OK : NGX_ERROR;

    if (rc == NGX_OK && jti_len) {
        rc = ngx_http_tenant_guard_zone_index(zone, key, jti, jti_len,
                                              expires);
    }

    ngx_shmtx_unlock(&zone->shpool->mutex);

    return rc;
}


/*
 * Names the token in its jti's index, with the mutex held; a token that
 * cannot be named is not kept.  A full index lets its oldest token go.
 * Entries are found again by key: an allocation may evict any of them.
 */

static ngx_int_t
ngx_http_tenant_guard_zone_index(ngx_http_tenant_guard_zone_t *zone,
    u_char *key, u_char *jti, size_t len, time_t expires)
{
    uint32_t                       hash;
    ngx_uint_t                     i;
    ngx_http_tenant_guard_jti_t    idx;
    ngx_http_tenant_guard_node_t  *tn, *tok;

    hash = ngx_http_tenant_guard_zone_hash(NGX_HTTP_TENANT_GUARD_KIND_JTI, jti,
                                           len);

    tn = ngx_http_tenant_guard_zone_find(zone, NGX_HTTP_TENANT_GUARD_KIND_JTI,
                                         jti, len, hash);

    if (tn == NULL) {
        tn = ngx_http_tenant_guard_zone_add(zone,
                                       NGX_HTTP_TENANT_GUARD_KIND_JTI, jti,
                                       len, hash,
                                       sizeof(ngx_http_tenant_guard_jti_t),
                                       expires);
        if (tn != NULL) {
            ngx_memzero(tn->data + len, sizeof(ngx_http_tenant_guard_jti_t));
        }
    }

    tok = ngx_http_tenant_guard_zone_find(zone,
                                 NGX_HTTP_TENANT_GUARD_KIND_TOKEN, key, 32,
                                 ngx_http_tenant_guard_zone_hash(
                                     NGX_HTTP_TENANT_GUARD_KIND_TOKEN, key,
                                     32));

    if (tn == NULL) {
        if (tok != NULL) {
            ngx_http_tenant_guard_zone_delete(zone, tok);
        }

        return NGX_ERROR;
    }

    if (tok == NULL) {

        /* evicted on the way: nothing cached, nothing to name */

        return NGX_OK;
    }

    if (tn->value_len != sizeof(ngx_http_tenant_guard_jti_t)) {
        ngx_log_error(NGX_LOG_ALERT, ngx_cycle->log, 0,
                      "tenant_guard: a jti index entry of %uD bytes",
                      tn->value_len);
        ngx_http_tenant_guard_zone_delete(zone, tok);
        return NGX_ERROR;
    }

    if (tn->expires && tn->expires < expires) {
        tn->expires = expires;
    }

    /* after a key of any length: unaligned in the slab, so copied */

    ngx_memcpy(&idx, tn->data + tn->key_len, sizeof(idx));

    for (i = 0; i < idx.n; i++) {
        if (ngx_memcmp(idx.key[i], key, 32) == 0) {
            return NGX_OK;
        }
    }

    if (idx.n >= NGX_HTTP_TENANT_GUARD_JTI_TOKENS) {
        tok = ngx_http_tenant_guard_zone_find(zone,
                                 NGX_HTTP_TENANT_GUARD_KIND_TOKEN, idx.key[0],
                                 32,
                                 ngx_http_tenant_guard_zone_hash(
                                     NGX_HTTP_TENANT_GUARD_KIND_TOKEN,
                                     idx.key[0], 32));
        if (tok != NULL) {
            ngx_http_tenant_guard_zone_delete(zone, tok);
        }

        ngx_memmove(idx.key[0], idx.key[1],
                    (NGX_HTTP_TENANT_GUARD_JTI_TOKENS - 1) * 32);
        idx.n = NGX_HTTP_TENANT_GUARD_JTI_TOKENS - 1;
    }

    ngx_memcpy(idx.key[idx.n], key, 32);
    idx.n++;

    ngx_memcpy(tn->data + tn->key_len, &idx, sizeof(idx));

    return NGX_OK;
}


/*
 * A revocation heard: every cached token of the jti goes, and until hold
 * no token of it is cached, since a verdict asked of Redis before the
 * revocation may still be on its way.
 */

void
ngx_http_tenant_guard_zone_revoke(ngx_http_tenant_guard_zone_t *zone,
    u_char *jti, size_t len, time_t hold)
{
    ngx_http_tenant_guard_node_t  *tn;

    if (len > 0xffff) {
        return;
    }

    ngx_shmtx_lock(&zone->shpool->mutex);

    tn = ngx_http_tenant_guard_zone_find(zone, NGX_HTTP_TENANT_GUARD_KIND_JTI,
                                         jti, len,
                                         ngx_http_tenant_guard_zone_hash(
                                             NGX_HTTP_TENANT_GUARD_KIND_JTI,
                                             jti, len));
    if (tn != NULL) {
        ngx_http_tenant_guard_zone_drop(zone, tn);
    }

    (void) ngx_http_tenant_guard_zone_put_locked(zone,
                                          NGX_HTTP_TENANT_GUARD_KIND_JTI_HOLD,
                                          jti, len, NULL, 0, hold);

    ngx_shmtx_unlock(&zone->shpool->mutex);
}


void
ngx_http_tenant_guard_zone_remove(ngx_http_tenant_guard_zone_t *zone,
    ngx_uint_t kind, u_char *key, size_t len)
{
    uint32_t                       hash;
    ngx_http_tenant_guard_node_t  *tn;

    hash = ngx_http_tenant_guard_zone_hash(kind, key, len);

    ngx_shmtx_lock(&zone->shpool->mutex);

    tn = ngx_http_tenant_guard_zone_find(zone, kind, key, len, hash);
    if (tn != NULL) {
        ngx_http_tenant_guard_zone_drop(zone, tn);
    }

    ngx_shmtx_unlock(&zone->shpool->mutex);
}


static ngx_http_tenant_guard_node_t *
ngx_http_tenant_guard_zone_find(ngx_http_tenant_guard_zone_t *zone,
    ngx_uint_t kind, u_char *key, size_t len, uint32_t hash)
{
    ngx_int_t                      rc;
    ngx_rbtree_node_t             *node, *sentinel;
    ngx_http_tenant_guard_node_t  *tn;

    node = zone->sh->rbtree.root;
    sentinel = zone->sh->rbtree.sentinel;

    while (node != sentinel) {

        if (hash < node->key) {
            node = node->left;
            continue;
        }

        if (hash > node->key) {
            node = node->right;
            continue;
        }

        tn = ngx_http_tenant_guard_node(node);

        rc = (ngx_int_t) kind - (ngx_int_t) tn->kind;

        if (rc == 0) {
            rc = ngx_memn2cmp(key, tn->data, len, tn->key_len);
        }

        if (rc == 0) {
            return tn;
        }

        node = (rc < 0) ? node->left : node->right;
    }

    return NULL;
}


/* a new entry of size value bytes, left for the caller to fill, in place */

static ngx_http_tenant_guard_node_t *
ngx_http_tenant_guard_zone_add(ngx_http_tenant_guard_zone_t *zone,
    ngx_uint_t kind, u_char *key, size_t len, uint32_t hash, size_t size,
    time_t expires)
{
    ngx_rbtree_node_t             *node;
    ngx_http_tenant_guard_node_t  *tn;

    tn = ngx_http_tenant_guard_zone_alloc(zone, kind,
                               offsetof(ngx_http_tenant_guard_node_t, data)
                               + offsetof(ngx_rbtree_node_t, color)
                               + len + size);
    if (tn == NULL) {
        return NULL;
    }

    node = ngx_http_tenant_guard_rbnode(tn);
    node->key = hash;

    tn->kind = (u_char) kind;
    tn->key_len = (u_short) len;
    tn->value_len = (uint32_t) size;
    tn->expires = expires;
    ngx_memcpy(tn->data, key, len);

    ngx_rbtree_insert(&zone->sh->rbtree, node);
    ngx_queue_insert_head(&zone->sh->queue, &tn->queue);
    zone->sh->entries++;

    if (kind == NGX_HTTP_TENANT_GUARD_KIND_REVOKED_WS
        || kind == NGX_HTTP_TENANT_GUARD_KIND_REVOKED_SUB)
    {
        zone->sh->signed_out = 1;
    }

    return tn;
}


/*
 * Whether a workspace or a subject was ever signed out in this zone: until
 * then, an embedded configuration has nothing to look up for a token.
 * Read without the lock: the flag only goes from 0 to 1.
 */

ngx_uint_t
ngx_http_tenant_guard_zone_any_signed_out(ngx_http_tenant_guard_zone_t *zone)
{
    return *(volatile ngx_uint_t *) &zone->sh->signed_out;
}


/* deletes an entry; a jti's index entry takes the tokens it names along */

static void
ngx_http_tenant_guard_zone_drop(ngx_http_tenant_guard_zone_t *zone,
    ngx_http_tenant_guard_node_t *tn)
{
    ngx_uint_t                     i;
    ngx_http_tenant_guard_jti_t    idx;
    ngx_http_tenant_guard_node_t  *tok;

    if (tn->kind == NGX_HTTP_TENANT_GUARD_KIND_JTI
        && tn->value_len == sizeof(ngx_http_tenant_guard_jti_t))
    {
        ngx_memcpy(&idx, tn->data + tn->key_len, sizeof(idx));

        for (i = 0; i < idx.n && i < NGX_HTTP_TENANT_GUARD_JTI_TOKENS; i++) {
            tok = ngx_http_tenant_guard_zone_find(zone,
                                 NGX_HTTP_TENANT_GUARD_KIND_TOKEN, idx.key[i],
                                 32,
                                 ngx_http_tenant_guard_zone_hash(
                                     NGX_HTTP_TENANT_GUARD_KIND_TOKEN,
                                     idx.key[i], 32));
            if (tok != NULL) {
                ngx_http_tenant_guard_zone_delete(zone, tok);
            }
        }
    }

    ngx_http_tenant_guard_zone_delete(zone, tn);
}


/* whether a jti's index entry names a token that is still cached */

static ngx_uint_t
ngx_http_tenant_guard_zone_names_live(ngx_http_tenant_guard_zone_t *zone,
    ngx_http_tenant_guard_node_t *tn)
{
    ngx_uint_t                    i;
    ngx_http_tenant_guard_jti_t   idx;

    if (tn->kind != NGX_HTTP_TENANT_GUARD_KIND_JTI
        || tn->value_len != sizeof(ngx_http_tenant_guard_jti_t)
        || (tn->expires && tn->expires <= ngx_time()))
    {
        return 0;
    }

    ngx_memcpy(&idx, tn->data + tn->key_len, sizeof(idx));

    for (i = 0; i < idx.n && i < NGX_HTTP_TENANT_GUARD_JTI_TOKENS; i++) {
        if (ngx_http_tenant_guard_zone_find(zone,
                                 NGX_HTTP_TENANT_GUARD_KIND_TOKEN, idx.key[i],
                                 32,
                                 ngx_http_tenant_guard_zone_hash(
                                     NGX_HTTP_TENANT_GUARD_KIND_TOKEN,
                                     idx.key[i], 32))
            != NULL)
        {
            return 1;
        }
    }

    return 0;
}


static void
ngx_http_tenant_guard_zone_delete(ngx_http_tenant_guard_zone_t *zone,
    ngx_http_tenant_guard_node_t *tn)
{
    ngx_rbtree_node_t  *node;

    node = ngx_http_tenant_guard_rbnode(tn);

    ngx_queue_remove(&tn->queue);
    ngx_rbtree_delete(&zone->sh->rbtree, node);
    ngx_slab_free_locked(zone->shpool, node);

    zone->sh->entries--;
}


/*
 * Allocates with the mutex held; when the zone is full, drops the least
 * recently used entries until the allocation fits.  A jti's index entry
 * that still names a cached token is as recent as that token: it goes to
 * the head instead, once per entry in the zone at most, so that the loop
 * ends (and an index dropped then takes its tokens along).
 *
 * Bans are state, not cache: no token, idle time or policy evicts one
 * (the cache entry is just not stored); a failure counter or a ban gives
 * way only to another, the counters with no ban in force first, and that
 * is logged, at most once a second.
 */

static ngx_http_tenant_guard_node_t *
ngx_http_tenant_guard_zone_alloc(ngx_http_tenant_guard_zone_t *zone,
    ngx_uint_t kind, size_t size)
{
    u_char                        *p;
    ngx_uint_t                     spared, state;
    ngx_queue_t                   *q;
    ngx_http_tenant_guard_node_t  *tn;
    u_char                         name[NGX_HTTP_TENANT_GUARD_BAN_NAME_LEN];

    spared = 0;
    state = ngx_http_tenant_guard_zone_state(kind);

    for ( ;; ) {
        p = ngx_slab_alloc_locked(zone->shpool, size);
        if (p != NULL) {
            return (ngx_http_tenant_guard_node_t *)
                       (p + offsetof(ngx_rbtree_node_t, color));
        }

        if (ngx_queue_empty(&zone->sh->queue)) {
            return NULL;
        }

        q = ngx_queue_last(&zone->sh->queue);
        tn = ngx_queue_data(q, ngx_http_tenant_guard_node_t, queue);

        /*
         * A first pass over the queue spares the live jti indexes and all
         * state; a second, for state only, spares the bans in force, so
         * that the counters go first; a third spares the admin API's
         * revocations and policies in force, which failed logins must not
         * push out (a signed-out workspace's tokens would pass again): the
         * oldest ban goes before them.
         */

        if ((spared < zone->sh->entries
             && (ngx_http_tenant_guard_zone_names_live(zone, tn)
                 || ngx_http_tenant_guard_zone_state(tn->kind)))
            || (state && spared < 2 * zone->sh->entries
                && ngx_http_tenant_guard_zone_state(tn->kind)
                && ngx_http_tenant_guard_zone_ban_live(tn))
            || (state && spared < 3 * zone->sh->entries
                && ngx_http_tenant_guard_zone_admin_state(tn->kind)
                && ngx_http_tenant_guard_zone_ban_live(tn)))
        {
            ngx_queue_remove(q);
            ngx_queue_insert_head(&zone->sh->queue, q);
            spared++;
            continue;
        }

        if (ngx_http_tenant_guard_zone_state(tn->kind)) {
            if (!state) {
                return NULL;
            }

            if (zone->sh->state_logged != ngx_time()) {
                zone->sh->state_logged = ngx_time();
                ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                              "tenant_guard: zone \"%V\" is full of bans "
                              "and failure counters: the oldest %s was "
                              "evicted; make the zone larger (%*s)",
                              &zone->shm_zone->shm.name,
                              ngx_http_tenant_guard_zone_ban_live(tn)
                              ? "ban" : "counter",
                              ngx_http_tenant_guard_admin_ban_name(name,
                                  tn->kind, tn->data, tn->key_len) - name,
                              name);
            }
        }

        if (ngx_http_tenant_guard_zone_state(tn->kind)) {
            zone->sh->state_evictions++;
        }

        ngx_http_tenant_guard_zone_drop(zone, tn);
        zone->sh->evictions++;
    }
}


/* bans and failure counters evicted since the zone was made (metrics) */

ngx_uint_t
ngx_http_tenant_guard_zone_state_evictions(ngx_http_tenant_guard_zone_t *zone)
{
    ngx_uint_t  n;

    ngx_shmtx_lock(&zone->shpool->mutex);
    n = zone->sh->state_evictions;
    ngx_shmtx_unlock(&zone->shpool->mutex);

    return n;
}


static ngx_uint_t
ngx_http_tenant_guard_zone_state(ngx_uint_t kind)
{
    return kind == NGX_HTTP_TENANT_GUARD_KIND_BAN_ID
           || kind == NGX_HTTP_TENANT_GUARD_KIND_BAN_IP
           || kind == NGX_HTTP_TENANT_GUARD_KIND_REVOKED_JTI
           || kind == NGX_HTTP_TENANT_GUARD_KIND_REVOKED_SUB
           || kind == NGX_HTTP_TENANT_GUARD_KIND_REVOKED_WS
           || kind == NGX_HTTP_TENANT_GUARD_KIND_ADMIN_POLICY;
}


/* the admin API's state: revocations and policies written through it */

static ngx_uint_t
ngx_http_tenant_guard_zone_admin_state(ngx_uint_t kind)
{
    return kind == NGX_HTTP_TENANT_GUARD_KIND_REVOKED_JTI
           || kind == NGX_HTTP_TENANT_GUARD_KIND_REVOKED_SUB
           || kind == NGX_HTTP_TENANT_GUARD_KIND_REVOKED_WS
           || kind == NGX_HTTP_TENANT_GUARD_KIND_ADMIN_POLICY;
}


/* a ban entry whose ban is in force, not a counter alone */

static ngx_uint_t
ngx_http_tenant_guard_zone_ban_live(ngx_http_tenant_guard_node_t *tn)
{
    tg_ban_state_t                   st;
    ngx_http_tenant_guard_revoked_t  rv;

    /* the admin API's state: a revocation in force, a policy */

    if (tn->kind == NGX_HTTP_TENANT_GUARD_KIND_REVOKED_SUB
        || tn->kind == NGX_HTTP_TENANT_GUARD_KIND_REVOKED_WS)
    {
        if (tn->value_len != sizeof(rv)) {
            return 0;
        }

        ngx_memcpy(&rv, tn->data + tn->key_len, sizeof(rv));

        return rv.at != 0;
    }

    if (tn->kind == NGX_HTTP_TENANT_GUARD_KIND_REVOKED_JTI
        || tn->kind == NGX_HTTP_TENANT_GUARD_KIND_ADMIN_POLICY)
    {
        return 1;
    }

    if (tn->value_len != sizeof(tg_ban_state_t)) {
        return 0;
    }

    ngx_memcpy(&st, tn->data + tn->key_len, sizeof(tg_ban_state_t));

    return st.until > ngx_time();
}


static uint32_t
ngx_http_tenant_guard_zone_hash(ngx_uint_t kind, u_char *key, size_t len)
{
    u_char    k;
    uint32_t  crc;

    k = (u_char) kind;

    ngx_crc32_init(crc);
    ngx_crc32_update(&crc, &k, 1);
    ngx_crc32_update(&crc, key, len);
    ngx_crc32_final(crc);

    return crc;
}


/*
 * Runs handler on the entry's value (size bytes, zeroed when the entry is
 * new) with the mutex held, so that counting is exact across workers.  The
 * handler returns what this returns and may change the entry's expiry.
 * NGX_ERROR when a new entry cannot be allocated even after eviction.
 */

ngx_int_t
ngx_http_tenant_guard_zone_update(ngx_http_tenant_guard_zone_t *zone,
    ngx_uint_t kind, u_char *key, size_t len, size_t size,
    ngx_http_tenant_guard_zone_update_pt handler, void *data)
{
    time_t                         expires;
    uint32_t                       hash;
    ngx_int_t                      rc;
    ngx_http_tenant_guard_node_t  *tn;

    hash = ngx_http_tenant_guard_zone_hash(kind, key, len);

    ngx_shmtx_lock(&zone->shpool->mutex);

    tn = ngx_http_tenant_guard_zone_find(zone, kind, key, len, hash);

    if (tn != NULL
        && (tn->value_len != size
            || (tn->expires && tn->expires <= ngx_time())))
    {
        ngx_http_tenant_guard_zone_drop(zone, tn);
        tn = NULL;
    }

    if (tn == NULL) {
        tn = ngx_http_tenant_guard_zone_add(zone, kind, key, len, hash, size,
                                            0);
        if (tn == NULL) {
            ngx_shmtx_unlock(&zone->shpool->mutex);
            return NGX_ERROR;
        }

        ngx_memzero(tn->data + len, size);

    } else {
        ngx_queue_remove(&tn->queue);
        ngx_queue_insert_head(&zone->sh->queue, &tn->queue);
    }

    expires = tn->expires;

    rc = handler(tn->data + tn->key_len, data, &expires);

    tn->expires = expires;

    ngx_shmtx_unlock(&zone->shpool->mutex);

    return rc;
}


/*
 * Drops every cached entry.  Bans are state, not cache: they stay unless
 * asked, so that a reconnect never lifts one.
 */

void
ngx_http_tenant_guard_zone_flush(ngx_http_tenant_guard_zone_t *zone,
    ngx_uint_t keep_bans)
{
    ngx_queue_t                   *q, *prev;
    ngx_http_tenant_guard_node_t  *tn;

    ngx_shmtx_lock(&zone->shpool->mutex);

    q = ngx_queue_last(&zone->sh->queue);

    while (q != ngx_queue_sentinel(&zone->sh->queue)) {
        prev = ngx_queue_prev(q);
        tn = ngx_queue_data(q, ngx_http_tenant_guard_node_t, queue);

        if (!keep_bans || !ngx_http_tenant_guard_zone_state(tn->kind)) {
            ngx_http_tenant_guard_zone_delete(zone, tn);
        }

        q = prev;
    }

    ngx_memzero(zone->sh->negatives,
                zone->sh->nnegatives
                * sizeof(ngx_http_tenant_guard_negative_t));

    ngx_shmtx_unlock(&zone->shpool->mutex);
}


void
ngx_http_tenant_guard_zone_events(ngx_http_tenant_guard_zone_t *zone,
    ngx_uint_t up)
{
    ngx_shmtx_lock(&zone->shpool->mutex);

    zone->sh->events_up = up;
    zone->sh->events_since = ngx_time();

    ngx_shmtx_unlock(&zone->shpool->mutex);
}


/* whether invalidations have been heard since that time */

ngx_uint_t
ngx_http_tenant_guard_zone_events_since(ngx_http_tenant_guard_zone_t *zone,
    time_t stored)
{
    ngx_uint_t  ok;

    ngx_shmtx_lock(&zone->shpool->mutex);

    ok = zone->sh->events_up && stored >= zone->sh->events_since;

    ngx_shmtx_unlock(&zone->shpool->mutex);

    return ok;
}


/*
 * The worker that subscribes to tg:events counts what it hears there (a
 * message, the link going up or down), for every worker: a question to
 * Redis asked before the count changed may have an answer older than the
 * change, and no request joins it (_store.c).  No lock: one word.
 */

void
ngx_http_tenant_guard_zone_hear(ngx_http_tenant_guard_zone_t *zone)
{
    (void) ngx_atomic_fetch_add(&zone->sh->heard, 1);
}


ngx_atomic_uint_t
ngx_http_tenant_guard_zone_heard(ngx_http_tenant_guard_zone_t *zone)
{
    return zone->sh->heard;
}


/*
 * The set of slots a token's refusals may take: the digest is SHA-256,
 * so its first bytes spread the sets evenly.
 */

static ngx_http_tenant_guard_negative_t *
ngx_http_tenant_guard_zone_negative_set(ngx_http_tenant_guard_zone_t *zone,
    u_char *key)
{
    uint32_t  h;

    h = ((uint32_t) key[0] << 24) | ((uint32_t) key[1] << 16)
        | ((uint32_t) key[2] << 8) | key[3];

    return zone->sh->negatives
           + (h % (zone->sh->nnegatives / NGX_HTTP_TENANT_GUARD_NEGATIVE_WAYS))
             * NGX_HTTP_TENANT_GUARD_NEGATIVE_WAYS;
}


/*
 * A remembered refusal of that token under that configuration, the
 * description copied into the pool: NGX_OK, NGX_DECLINED, or NGX_ERROR.
 */

ngx_int_t
ngx_http_tenant_guard_zone_negative_get(ngx_http_tenant_guard_zone_t *zone,
    u_char *key, uint32_t fingerprint, ngx_uint_t opaque, ngx_pool_t *pool,
    ngx_str_t *detail, time_t *stored)
{
    time_t                             now;
    ngx_int_t                          rc;
    ngx_uint_t                         i;
    ngx_http_tenant_guard_negative_t  *neg;

    rc = NGX_DECLINED;
    now = ngx_time();

    ngx_shmtx_lock(&zone->shpool->mutex);

    neg = ngx_http_tenant_guard_zone_negative_set(zone, key);

    for (i = 0; i < NGX_HTTP_TENANT_GUARD_NEGATIVE_WAYS; i++, neg++) {
        if (neg->expires <= now || neg->held
            || neg->fingerprint != fingerprint || neg->opaque != opaque
            || ngx_memcmp(neg->key, key, 32) != 0)
        {
            continue;
        }

        detail->data = ngx_pnalloc(pool, neg->detail_len + 1);
        if (detail->data == NULL) {
            rc = NGX_ERROR;
            break;
        }

        detail->len = neg->detail_len;
        ngx_memcpy(detail->data, neg->detail, neg->detail_len);
        *stored = neg->stored;

        rc = NGX_OK;
        break;
    }

    ngx_shmtx_unlock(&zone->shpool->mutex);

    return rc;
}


/*
 * Remembers a refusal until expires, in a free or expired slot of the
 * token's set, else in place of the set's oldest; never while a hold on
 * the token lasts, nor with a description longer than a slot holds.
 */

void
ngx_http_tenant_guard_zone_negative_put(ngx_http_tenant_guard_zone_t *zone,
    u_char *key, uint32_t fingerprint, ngx_uint_t opaque, ngx_str_t *detail,
    time_t expires)
{
    time_t                             now;
    ngx_uint_t                         i;
    ngx_http_tenant_guard_negative_t  *neg, *slot;

    if (detail->len > NGX_HTTP_TENANT_GUARD_NEGATIVE_DETAIL) {
        return;
    }

    now = ngx_time();
    slot = NULL;

    ngx_shmtx_lock(&zone->shpool->mutex);

    neg = ngx_http_tenant_guard_zone_negative_set(zone, key);

    for (i = 0; i < NGX_HTTP_TENANT_GUARD_NEGATIVE_WAYS; i++, neg++) {

        if (neg->expires > now && ngx_memcmp(neg->key, key, 32) == 0) {

            if (neg->held) {
                ngx_shmtx_unlock(&zone->shpool->mutex);
                return;
            }

            if (neg->fingerprint == fingerprint && neg->opaque == opaque) {
                slot = neg;
                break;
            }
        }

        if (slot == NULL
            || (slot->expires > now
                && (neg->expires <= now || neg->stored < slot->stored)))
        {
            slot = neg;
        }
    }

    ngx_memcpy(slot->key, key, 32);
    slot->stored = now;
    slot->expires = expires;
    slot->fingerprint = fingerprint;
    slot->opaque = (u_char) opaque;
    slot->held = 0;
    slot->detail_len = (u_char) detail->len;
    ngx_memcpy(slot->detail, detail->data, detail->len);

    ngx_shmtx_unlock(&zone->shpool->mutex);
}


/*
 * tg:events named the token's key: its refusals go, and until hold none
 * is remembered, since a Redis answer older than the change may still be
 * on its way.
 */

void
ngx_http_tenant_guard_zone_negative_hold(ngx_http_tenant_guard_zone_t *zone,
    u_char *key, time_t hold)
{
    ngx_uint_t                         i;
    ngx_http_tenant_guard_negative_t  *neg, *slot;

    slot = NULL;

    ngx_shmtx_lock(&zone->shpool->mutex);

    neg = ngx_http_tenant_guard_zone_negative_set(zone, key);

    for (i = 0; i < NGX_HTTP_TENANT_GUARD_NEGATIVE_WAYS; i++, neg++) {
        if (ngx_memcmp(neg->key, key, 32) == 0) {
            neg->expires = 0;
        }

        if (slot == NULL || neg->expires < slot->expires
            || (neg->expires == slot->expires && neg->stored < slot->stored))
        {
            slot = neg;
        }
    }

    ngx_memzero(slot, sizeof(ngx_http_tenant_guard_negative_t));
    ngx_memcpy(slot->key, key, 32);
    slot->stored = ngx_time();
    slot->expires = hold;
    slot->held = 1;

    ngx_shmtx_unlock(&zone->shpool->mutex);
}


/*
 * The key sets of "tenant_guard_keys_url": one record per URI, outside the
 * rbtree and its LRU (a key set is neither cache to evict nor dropped by a
 * "*" event), with the raw JSON every worker parses once per generation.
 * The lease lets one fetch run at a time across the workers; it ends by
 * itself, so a worker that dies mid-fetch blocks nothing for long.
 */

struct ngx_http_tenant_guard_jwks_s {
    ngx_http_tenant_guard_jwks_t  *next;
    uint64_t                       generation;  /* 0: none fetched yet */
    uint64_t                       lease_id;    /* of the last claim */
    time_t                         lease;       /* a fetch runs until then */
    time_t                         expires;     /* a refresh is due then */
    time_t                         retry;       /* ms: no claim before it */
    time_t                         kid_fetch;   /* last refetch for a kid */
    ngx_msec_t                     loaded;      /* the newest configuration */
    ngx_http_tenant_guard_keys_stats_t  stats;
    u_char                        *json;
    size_t                         json_len;
    size_t                         uri_len;
    u_char                         uri[1];
};


static time_t ngx_http_tenant_guard_zone_now_ms(void);
static u_char *ngx_http_tenant_guard_zone_jwks_alloc(
    ngx_http_tenant_guard_zone_t *zone, size_t size);


/* the record of that URI, made at its first use; NULL: no room */

ngx_http_tenant_guard_jwks_t *
ngx_http_tenant_guard_zone_jwks(ngx_http_tenant_guard_zone_t *zone,
    ngx_str_t *uri)
{
    ngx_http_tenant_guard_jwks_t  *jwks;

    ngx_shmtx_lock(&zone->shpool->mutex);

    for (jwks = zone->sh->jwks; jwks; jwks = jwks->next) {
        if (jwks->uri_len == uri->len
            && ngx_memcmp(jwks->uri, uri->data, uri->len) == 0)
        {
            break;
        }
    }

    if (jwks == NULL) {
        jwks = (ngx_http_tenant_guard_jwks_t *)
                   ngx_http_tenant_guard_zone_jwks_alloc(zone,
                                sizeof(ngx_http_tenant_guard_jwks_t)
                                + uri->len);
        if (jwks != NULL) {
            ngx_memzero(jwks, sizeof(ngx_http_tenant_guard_jwks_t));
            ngx_memcpy(jwks->uri, uri->data, uri->len);
            jwks->uri_len = uri->len;
            jwks->next = zone->sh->jwks;
            zone->sh->jwks = jwks;
        }
    }

    ngx_shmtx_unlock(&zone->shpool->mutex);

    return jwks;
}


/*
 * Claims the fetch: NGX_OK with *lease_id (the caller fetches, and ends
 * the lease with _publish or _failed), NGX_BUSY while another fetch runs,
 * NGX_DECLINED when no fetch is due (kid: none in min_refetch).  A refresh
 * is due too for a configuration loaded after the last fetch: a reload may
 * have pointed the location elsewhere.  Sets the current generation
 * either way.
 */

ngx_int_t
ngx_http_tenant_guard_zone_jwks_claim(ngx_http_tenant_guard_zone_t *zone,
    ngx_http_tenant_guard_jwks_t *jwks, ngx_uint_t kid, time_t min_refetch,
    time_t lease, ngx_msec_t loaded, uint64_t *lease_id,
    uint64_t *generation)
{
    time_t     now;
    ngx_int_t  rc;

    now = ngx_time();

    ngx_shmtx_lock(&zone->shpool->mutex);

    *generation = jwks->generation;

    if (jwks->lease > now) {
        rc = NGX_BUSY;

    } else if (kid ? (jwks->kid_fetch && now - jwks->kid_fetch < min_refetch)
                   : ((now < jwks->expires && loaded <= jwks->loaded)
                      || ngx_http_tenant_guard_zone_now_ms() < jwks->retry))
    {
        rc = NGX_DECLINED;

    } else {
        /* any fetch starts the window of the refetches for a kid */
        jwks->kid_fetch = now;

        /* a set fetched before a reload is refreshed after it */
        if (loaded > jwks->loaded) {
            jwks->loaded = loaded;
        }

        jwks->lease = now + lease;
        *lease_id = ++jwks->lease_id;
        jwks->stats.attempted = now;
        rc = NGX_OK;
    }

    ngx_shmtx_unlock(&zone->shpool->mutex);

    return rc;
}


static time_t
ngx_http_tenant_guard_zone_now_ms(void)
{
    ngx_time_t  *tp;

    tp = ngx_timeofday();

    return tp->sec * 1000 + (time_t) tp->msec;
}


/*
 * Whether a fetch runs (NGX_BUSY) or not (NGX_DECLINED), and the current
 * generation, without claiming one: for a request that waited already.
 */

ngx_int_t
ngx_http_tenant_guard_zone_jwks_running(ngx_http_tenant_guard_zone_t *zone,
    ngx_http_tenant_guard_jwks_t *jwks, uint64_t *generation)
{
    ngx_int_t  rc;

    ngx_shmtx_lock(&zone->shpool->mutex);

    *generation = jwks->generation;
    rc = (jwks->lease > ngx_time()) ? NGX_BUSY : NGX_DECLINED;

    ngx_shmtx_unlock(&zone->shpool->mutex);

    return rc;
}


/*
 * The current key set, when its generation is not the one known: NGX_OK
 * with the JSON copied into memory the caller frees (ngx_free), or
 * NGX_DECLINED; NGX_ERROR without memory.
 */

ngx_int_t
ngx_http_tenant_guard_zone_jwks_read(ngx_http_tenant_guard_zone_t *zone,
    ngx_http_tenant_guard_jwks_t *jwks, uint64_t known, uint64_t *generation,
    u_char **json, size_t *len)
{
    ngx_int_t  rc;

    rc = NGX_DECLINED;

    ngx_shmtx_lock(&zone->shpool->mutex);

    *generation = jwks->generation;

    if (jwks->generation != known && jwks->json != NULL) {
        *json = ngx_alloc(jwks->json_len, ngx_cycle->log);

        if (*json == NULL) {
            rc = NGX_ERROR;

        } else {
            ngx_memcpy(*json, jwks->json, jwks->json_len);
            *len = jwks->json_len;
            rc = NGX_OK;
        }
    }

    ngx_shmtx_unlock(&zone->shpool->mutex);

    return rc;
}


/*
 * A fetched and validated key set: a new generation unless it is the
 * same JSON; ends the lease and the failure streak.  NGX_ERROR: no room
 * (the zone keeps the last good set; the caller ends the fetch with
 * _failed).
 */

ngx_int_t
ngx_http_tenant_guard_zone_jwks_publish(ngx_http_tenant_guard_zone_t *zone,
    ngx_http_tenant_guard_jwks_t *jwks, uint64_t lease_id, u_char *json,
    size_t len, ngx_uint_t nkeys, time_t expires, uint64_t *generation,
    ngx_http_tenant_guard_keys_stats_t *stats)
{
    u_char     *p;
    ngx_int_t   rc;

    rc = NGX_OK;

    ngx_shmtx_lock(&zone->shpool->mutex);

    if (jwks->json == NULL || jwks->json_len != len
        || ngx_memcmp(jwks->json, json, len) != 0)
    {
        p = ngx_http_tenant_guard_zone_jwks_alloc(zone, len ? len : 1);

        if (p == NULL) {
            rc = NGX_ERROR;

        } else {
            if (jwks->json != NULL) {
                ngx_slab_free_locked(zone->shpool, jwks->json);
            }

            ngx_memcpy(p, json, len);
            jwks->json = p;
            jwks->json_len = len;
            jwks->generation++;
            jwks->stats.nkeys = nkeys;
        }
    }

    if (jwks->lease_id == lease_id) {
        jwks->lease = 0;
    }

    if (rc == NGX_OK) {
        jwks->expires = expires;
        jwks->retry = 0;
        jwks->stats.successes++;
        jwks->stats.fetched = ngx_time();
        jwks->stats.failing = 0;
    }

    jwks->stats.generation = jwks->generation;
    *generation = jwks->generation;
    *stats = jwks->stats;

    ngx_shmtx_unlock(&zone->shpool->mutex);

    return rc;
}


/*
 * A fetch that failed (rejected: the IdP answered, with a body that is
 * not a usable key set); the last good set stays.  Returns 1 for the
 * first failure of a streak: the one to log.
 */

ngx_uint_t
ngx_http_tenant_guard_zone_jwks_failed(ngx_http_tenant_guard_zone_t *zone,
    ngx_http_tenant_guard_jwks_t *jwks, uint64_t lease_id,
    ngx_uint_t rejected, time_t retry,
    ngx_http_tenant_guard_keys_stats_t *stats)
{
    ngx_uint_t  first;

    ngx_shmtx_lock(&zone->shpool->mutex);

    if (jwks->lease_id == lease_id) {
        jwks->lease = 0;
    }

    /* in milliseconds: a delay of 1 s is never a few ms past a second */

    jwks->retry = retry ? ngx_http_tenant_guard_zone_now_ms() + retry * 1000
                        : 0;

    if (rejected) {
        jwks->stats.rejected++;

    } else {
        jwks->stats.failures++;
    }

    first = !jwks->stats.failing;
    jwks->stats.failing = 1;

    if (stats != NULL) {
        *stats = jwks->stats;
    }

    ngx_shmtx_unlock(&zone->shpool->mutex);

    return first;
}


/*
 * The fetch statistics of the i-th key set URL (the order is the zone's):
 * NGX_OK, or NGX_DONE past the last.  For /status and /metrics.
 */

ngx_int_t
ngx_http_tenant_guard_zone_jwks_stats(ngx_http_tenant_guard_zone_t *zone,
    ngx_uint_t i, ngx_http_tenant_guard_keys_stats_t *stats)
{
    ngx_int_t                      rc;
    ngx_http_tenant_guard_jwks_t  *jwks;

    rc = NGX_DONE;

    ngx_shmtx_lock(&zone->shpool->mutex);

    for (jwks = zone->sh->jwks; jwks && i; jwks = jwks->next) {
        i--;
    }

    if (jwks != NULL) {
        *stats = jwks->stats;
        stats->uri_len = ngx_min(jwks->uri_len, sizeof(stats->uri));
        ngx_memcpy(stats->uri, jwks->uri, stats->uri_len);
        rc = NGX_OK;
    }

    ngx_shmtx_unlock(&zone->shpool->mutex);

    return rc;
}


/* slab memory for a key set: cached entries give way, never state */

static u_char *
ngx_http_tenant_guard_zone_jwks_alloc(ngx_http_tenant_guard_zone_t *zone,
    size_t size)
{
    ngx_http_tenant_guard_node_t  *tn;

    tn = ngx_http_tenant_guard_zone_alloc(zone,
                                          NGX_HTTP_TENANT_GUARD_KIND_TOKEN,
                                          size);
    if (tn == NULL) {
        return NULL;
    }

    return (u_char *) tn - offsetof(ngx_rbtree_node_t, color);
}


/*
 * The bans in force, copied out for the admin API's listing: a walk of
 * the queue under the lock, for an operator's request only.
 */

ngx_array_t *
ngx_http_tenant_guard_zone_bans(ngx_http_tenant_guard_zone_t *zone,
    ngx_pool_t *pool)
{
    ngx_queue_t                        *q;
    ngx_array_t                        *bans;
    ngx_http_tenant_guard_node_t       *tn;
    ngx_http_tenant_guard_ban_entry_t  *e;

    bans = ngx_array_create(pool, 16,
                            sizeof(ngx_http_tenant_guard_ban_entry_t));
    if (bans == NULL) {
        return NULL;
    }

    ngx_shmtx_lock(&zone->shpool->mutex);

    for (q = ngx_queue_head(&zone->sh->queue);
         q != ngx_queue_sentinel(&zone->sh->queue);
         q = ngx_queue_next(q))
    {
        tn = ngx_queue_data(q, ngx_http_tenant_guard_node_t, queue);

        if ((tn->kind != NGX_HTTP_TENANT_GUARD_KIND_BAN_ID
             && tn->kind != NGX_HTTP_TENANT_GUARD_KIND_BAN_IP)
            || tn->key_len > 32
            || !ngx_http_tenant_guard_zone_ban_live(tn))
        {
            continue;
        }

        e = ngx_array_push(bans);
        if (e == NULL) {
            break;
        }

        e->kind = tn->kind;
        e->len = tn->key_len;
        ngx_memcpy(e->key, tn->data, tn->key_len);
        ngx_memcpy(&e->state, tn->data + tn->key_len, sizeof(tg_ban_state_t));
    }

    ngx_shmtx_unlock(&zone->shpool->mutex);

    return bans;
}


/*
 * zone_get of kind, else of alt, under one lock: a revocation (state) or
 * Redis's remembered "none" (cache) for one key.
 */

ngx_int_t
ngx_http_tenant_guard_zone_get_either(ngx_http_tenant_guard_zone_t *zone,
    ngx_uint_t kind, ngx_uint_t alt, u_char *key, size_t len, u_char *buf,
    size_t size, size_t *n)
{
    ngx_int_t                      rc;
    ngx_http_tenant_guard_node_t  *tn;

    rc = NGX_DECLINED;

    ngx_shmtx_lock(&zone->shpool->mutex);

    tn = ngx_http_tenant_guard_zone_take(zone, kind, key, len);

    if (tn == NULL) {
        tn = ngx_http_tenant_guard_zone_take(zone, alt, key, len);
    }

    if (tn != NULL && tn->value_len <= size) {
        ngx_memcpy(buf, tn->data + tn->key_len, tn->value_len);
        *n = tn->value_len;
        rc = NGX_OK;
    }

    ngx_shmtx_unlock(&zone->shpool->mutex);

    return rc;
}


/*
 * A token's two signed-out entries (its workspace's and its subject's: a
 * revocation, else a remembered "none"), with the state of the events
 * link, under one lock: the warm path's whole revocation question.
 * found[i]: 1 when entry i was there (rv[i] holds it).
 */

void
ngx_http_tenant_guard_zone_signed_out(ngx_http_tenant_guard_zone_t *zone,
    ngx_str_t *names, ngx_http_tenant_guard_revoked_t *rv, ngx_uint_t *found,
    time_t *events_since)
{
    ngx_uint_t                     i, kind;
    ngx_http_tenant_guard_node_t  *tn;

    ngx_shmtx_lock(&zone->shpool->mutex);

    for (i = 0; i < 2; i++) {
        found[i] = 0;

        if (names[i].len == 0) {
            continue;
        }

        kind = i ? NGX_HTTP_TENANT_GUARD_KIND_REVOKED_SUB
                 : NGX_HTTP_TENANT_GUARD_KIND_REVOKED_WS;

        tn = ngx_http_tenant_guard_zone_take(zone, kind, names[i].data,
                                             names[i].len);
        if (tn == NULL) {
            tn = ngx_http_tenant_guard_zone_take(zone,
                                kind + NGX_HTTP_TENANT_GUARD_KIND_REVOKED_NONE,
                                names[i].data, names[i].len);
        }

        if (tn != NULL && tn->value_len == sizeof(*rv)) {
            ngx_memcpy(&rv[i], tn->data + tn->key_len, sizeof(*rv));
            found[i] = 1;
        }
    }

    *events_since = zone->sh->events_up ? zone->sh->events_since : -1;

    ngx_shmtx_unlock(&zone->shpool->mutex);
}
