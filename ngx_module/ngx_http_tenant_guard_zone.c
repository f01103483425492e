
/*
 * Copyright (C) tenant_guard authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_tenant_guard_module.h"


/*
 * One zone holds every kind of entry (verified tokens, idle timestamps,
 * and later bans and counters), keyed by kind and key bytes, in an rbtree
 * with an LRU queue; entries expire at their own time.  Values are copied
 * in and out under the zone's mutex, which no other file takes.
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
static void ngx_http_tenant_guard_zone_delete(
    ngx_http_tenant_guard_zone_t *zone, ngx_http_tenant_guard_node_t *tn);
static ngx_http_tenant_guard_node_t *ngx_http_tenant_guard_zone_alloc(
    ngx_http_tenant_guard_zone_t *zone, size_t size);
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

    size_t                         len;
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
        ngx_http_tenant_guard_zone_delete(zone, tn);
        tn = NULL;
    }

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
    uint32_t                       hash;
    ngx_http_tenant_guard_node_t  *tn;

    if (len > 0xffff || n > 0xffffff) {
        return NGX_ERROR;
    }

    hash = ngx_http_tenant_guard_zone_hash(kind, key, len);

    ngx_shmtx_lock(&zone->shpool->mutex);

    tn = ngx_http_tenant_guard_zone_find(zone, kind, key, len, hash);

    if (tn != NULL && tn->value_len == n) {
        ngx_memcpy(tn->data + tn->key_len, value, n);
        tn->expires = expires;
        ngx_queue_remove(&tn->queue);
        ngx_queue_insert_head(&zone->sh->queue, &tn->queue);
        ngx_shmtx_unlock(&zone->shpool->mutex);
        return NGX_OK;
    }

    if (tn != NULL) {
        ngx_http_tenant_guard_zone_delete(zone, tn);
    }

    tn = ngx_http_tenant_guard_zone_add(zone, kind, key, len, hash, n,
                                        expires);
    if (tn != NULL) {
        ngx_memcpy(tn->data + len, value, n);
    }

    ngx_shmtx_unlock(&zone->shpool->mutex);

    return tn ? NGX_OK : NGX_ERROR;
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
        ngx_http_tenant_guard_zone_delete(zone, tn);
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

    tn = ngx_http_tenant_guard_zone_alloc(zone,
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

    return tn;
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
 * Allocates with the mutex held; when the zone is full, drops expired
 * entries from the LRU end, then the least recently used ones, until the
 * allocation fits.
 */

static ngx_http_tenant_guard_node_t *
ngx_http_tenant_guard_zone_alloc(ngx_http_tenant_guard_zone_t *zone,
    size_t size)
{
    u_char                        *p;
    ngx_queue_t                   *q;
    ngx_http_tenant_guard_node_t  *tn;

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

        ngx_http_tenant_guard_zone_delete(zone, tn);
        zone->sh->evictions++;
    }
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
        ngx_http_tenant_guard_zone_delete(zone, tn);
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

        if (!keep_bans
            || (tn->kind != NGX_HTTP_TENANT_GUARD_KIND_BAN_ID
                && tn->kind != NGX_HTTP_TENANT_GUARD_KIND_BAN_IP))
        {
            ngx_http_tenant_guard_zone_delete(zone, tn);
        }

        q = prev;
    }

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
