
/*
 * Copyright (C) tenant_guard authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/hiredis.h>
#include <hiredis/async.h>

#include "ngx_http_tenant_guard_redis.h"
#include "ngx_http_tenant_guard_metrics.h"


/*
 * The only file that sees hiredis.  Each worker keeps one command link,
 * and worker 0 one subscriber on the events channel; both run hiredis's
 * async API on nginx's event loop through the adapter below.  hiredis 0.14
 * has no timeouts of its own: connects and commands are bounded by nginx
 * timers, and a command that times out takes the link down, since a
 * server that does not answer one command will not answer the next.
 *
 * hiredis 0.14 asserts (the worker aborts) on a reply no command waits for
 * and on a pub/sub message of the wrong shape.  Every reply object is made
 * through our reader functions (the reply guard below), which refuse such
 * a reply before hiredis sees it: the reader fails, and hiredis closes the
 * link as on a protocol error.
 */


#define NGX_HTTP_TENANT_GUARD_LINK_DOWN        0
#define NGX_HTTP_TENANT_GUARD_LINK_CONNECTING  1
#define NGX_HTTP_TENANT_GUARD_LINK_UP          2

#define NGX_HTTP_TENANT_GUARD_BACKOFF_MIN      50
#define NGX_HTTP_TENANT_GUARD_BACKOFF_MAX      500

/* what a link may buffer of a reply not yet whole; a reply's elements */
#define NGX_HTTP_TENANT_GUARD_MAX_REPLY        (4 * 1024 * 1024)
#define NGX_HTTP_TENANT_GUARD_MAX_ELEMENTS     65536

/* the events link's message being read: ["subscribe", channel, n] */
#define NGX_HTTP_TENANT_GUARD_PUSH_NONE        0
#define NGX_HTTP_TENANT_GUARD_PUSH_ANY         1
#define NGX_HTTP_TENANT_GUARD_PUSH_SUBSCRIBE   2
#define NGX_HTTP_TENANT_GUARD_PUSH_MESSAGE     3
#define NGX_HTTP_TENANT_GUARD_PUSH_PONG        4

/* fire-and-forget commands a worker keeps waiting at most */
#define NGX_HTTP_TENANT_GUARD_SENDS_MAX        1024


typedef struct {
    redisAsyncContext                *ac;
    ngx_connection_t                 *conn;
    ngx_event_t                       timer;     /* connect, then retry */
    ngx_event_t                       ping;      /* liveness, while up */
    ngx_uint_t                        heard;     /* read since the ping */
    ngx_uint_t                        pinged;
    ngx_msec_t                        backoff;
    ngx_uint_t                        state;
    ngx_uint_t                        subscriber;
    ngx_uint_t                        reported;  /* the last state logged */
    ngx_uint_t                        addr;      /* rcf->addrs[] in use */
    ngx_uint_t                        push;      /* PUSH_*, events link */
    ngx_uint_t                        unexpected;
    ngx_resolver_ctx_t               *resolving;
    ngx_uint_t                        resolved;  /* answers used so far */
    ngx_uint_t                        unresolved; /* the failure logged */
    u_char                            ip[NGX_SOCKADDR_STRLEN + 1];
    const char                       *name;
} ngx_http_tenant_guard_link_t;


typedef struct {
    ngx_http_request_t               *r;         /* NULL once detached */
    ngx_pool_cleanup_t               *cln;
    ngx_http_tenant_guard_redis_bg_pt bg;        /* no request at all */
    ngx_uint_t                        send;      /* nobody waits */
    ngx_http_tenant_guard_redis_pt    handler;
    void                             *data;
    ngx_event_t                       timer;
    ngx_http_tenant_guard_link_t     *link;
} ngx_http_tenant_guard_waiter_t;


static ngx_int_t ngx_http_tenant_guard_redis_resolve(ngx_conf_t *cf,
    ngx_http_tenant_guard_redis_conf_t *rcf);
static void ngx_http_tenant_guard_link_resolve(
    ngx_http_tenant_guard_link_t *link);
static void ngx_http_tenant_guard_link_resolved(ngx_resolver_ctx_t *ctx);
static void ngx_http_tenant_guard_link_unresolved(
    ngx_http_tenant_guard_link_t *link, const char *why);
static void ngx_http_tenant_guard_link_connect(
    ngx_http_tenant_guard_link_t *link, const char *ip);
static void ngx_http_tenant_guard_link_timer(ngx_event_t *ev);
static void ngx_http_tenant_guard_link_up(ngx_http_tenant_guard_link_t *link);
static void ngx_http_tenant_guard_link_ping(ngx_event_t *ev);
static void ngx_http_tenant_guard_link_down(ngx_http_tenant_guard_link_t *link,
    const char *why);
static void ngx_http_tenant_guard_link_retry(
    ngx_http_tenant_guard_link_t *link);
static void ngx_http_tenant_guard_link_report(
    ngx_http_tenant_guard_link_t *link, ngx_uint_t up, const char *why);
static void ngx_http_tenant_guard_link_auth(
    ngx_http_tenant_guard_link_t *link);
static void ngx_http_tenant_guard_on_connect(const redisAsyncContext *ac,
    int status);
static void ngx_http_tenant_guard_on_disconnect(const redisAsyncContext *ac,
    int status);
static void ngx_http_tenant_guard_on_auth(redisAsyncContext *ac, void *r,
    void *privdata);
static void ngx_http_tenant_guard_on_ready(redisAsyncContext *ac, void *r,
    void *privdata);
static void ngx_http_tenant_guard_on_message(redisAsyncContext *ac, void *r,
    void *privdata);
static void ngx_http_tenant_guard_on_reply(redisAsyncContext *ac, void *r,
    void *privdata);
static void ngx_http_tenant_guard_on_background(
    ngx_http_tenant_guard_waiter_t *w, redisReply *reply);
static void ngx_http_tenant_guard_waiter_timeout(ngx_event_t *ev);
static void ngx_http_tenant_guard_waiter_detach(void *data);
static ngx_int_t ngx_http_tenant_guard_reply_copy(ngx_pool_t *pool,
    redisReply *from, ngx_http_tenant_guard_reply_t *to);

static void ngx_http_tenant_guard_guard_install(redisAsyncContext *ac);
static ngx_int_t ngx_http_tenant_guard_guard_check(const redisReadTask *task,
    int type, int elements, const char *str, size_t len);
static ngx_int_t ngx_http_tenant_guard_guard_push(
    ngx_http_tenant_guard_link_t *link, const redisReadTask *task, int type,
    const char *str, size_t len);
static void *ngx_http_tenant_guard_guard_string(const redisReadTask *task,
    char *str, size_t len);
static void *ngx_http_tenant_guard_guard_array(const redisReadTask *task,
    int elements);
static void *ngx_http_tenant_guard_guard_integer(const redisReadTask *task,
    long long value);
static void *ngx_http_tenant_guard_guard_nil(const redisReadTask *task);
static void ngx_http_tenant_guard_guard_free(void *reply);

static void ngx_http_tenant_guard_ev_add_read(void *privdata);
static void ngx_http_tenant_guard_ev_set(ngx_event_t *ev, ngx_int_t event,
    ngx_uint_t on);
static void ngx_http_tenant_guard_ev_del_read(void *privdata);
static void ngx_http_tenant_guard_ev_add_write(void *privdata);
static void ngx_http_tenant_guard_ev_del_write(void *privdata);
static void ngx_http_tenant_guard_ev_cleanup(void *privdata);
static void ngx_http_tenant_guard_ev_read(ngx_event_t *ev);
static void ngx_http_tenant_guard_ev_write(ngx_event_t *ev);


static ngx_http_tenant_guard_redis_conf_t  *ngx_http_tenant_guard_rcf;
static ngx_http_tenant_guard_event_pt       ngx_http_tenant_guard_event;
static ngx_http_tenant_guard_events_state_pt
                                            ngx_http_tenant_guard_events_state;
static ngx_http_tenant_guard_link_t         ngx_http_tenant_guard_cmd;
static ngx_http_tenant_guard_link_t         ngx_http_tenant_guard_sub;
static ngx_log_t                           *ngx_http_tenant_guard_log;
static ngx_uint_t                           ngx_http_tenant_guard_exiting;
static ngx_uint_t                           ngx_http_tenant_guard_sends;
static ngx_uint_t                           ngx_http_tenant_guard_refused;
static ngx_uint_t                           ngx_http_tenant_guard_send_errors;
static time_t                               ngx_http_tenant_guard_refused_log;

/* the http level's "resolver", for a host given by name; NULL: none */
static ngx_http_core_loc_conf_t            *ngx_http_tenant_guard_resolver;

/* the liveness PING of the subscribed link, written as it is */
static char  ngx_http_tenant_guard_ping[] = "*1\r\n$4\r\nPING\r\n";

/* hiredis's own reply functions, which the guard's call once it agrees */
static redisReplyObjectFunctions           *ngx_http_tenant_guard_hiredis_fn;

static redisReplyObjectFunctions  ngx_http_tenant_guard_guard_fn = {
    ngx_http_tenant_guard_guard_string,
    ngx_http_tenant_guard_guard_array,
    ngx_http_tenant_guard_guard_integer,
    ngx_http_tenant_guard_guard_nil,
    ngx_http_tenant_guard_guard_free
};


/*
 * tenant_guard_redis HOST:PORT|unix:PATH [db=N] [user=U] [password=P]
 *     [prefix=P] [timeout=T]
 */

char *
ngx_http_tenant_guard_redis_parse(ngx_conf_t *cf,
    ngx_http_tenant_guard_redis_conf_t *rcf)
{
    u_char      *colon;
    ngx_int_t    n;
    ngx_str_t   *value, s;
    ngx_uint_t   i;

    value = cf->args->elts;

    ngx_str_set(&rcf->prefix, "tg:");
    rcf->timeout = 200;

    if (value[1].len > 5 && ngx_strncmp(value[1].data, "unix:", 5) == 0) {
        rcf->path.data = value[1].data + 5;
        rcf->path.len = value[1].len - 5;

    } else {
        colon = ngx_strlchr(value[1].data, value[1].data + value[1].len, ':');

        if (colon == NULL) {
            n = 6379;
            rcf->host.len = value[1].len;

        } else {
            n = ngx_atoi(colon + 1, value[1].data + value[1].len - colon - 1);
            rcf->host.len = colon - value[1].data;
        }

        if (rcf->host.len == 0 || n < 1 || n > 65535) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid Redis address \"%V\"", &value[1]);
            return NGX_CONF_ERROR;
        }

        /* a copy that ends in NUL: the argument stays whole for messages */

        rcf->host.data = ngx_pnalloc(cf->pool, rcf->host.len + 1);
        if (rcf->host.data == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_memcpy(rcf->host.data, value[1].data, rcf->host.len);
        rcf->host.data[rcf->host.len] = '\0';

        if (ngx_http_tenant_guard_redis_resolve(cf, rcf) != NGX_OK) {
            return NGX_CONF_ERROR;
        }

        rcf->port = (in_port_t) n;
    }

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "db=", 3) == 0) {
            rcf->db = ngx_atoi(value[i].data + 3, value[i].len - 3);

            if (rcf->db == NGX_ERROR) {
                goto invalid;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "user=", 5) == 0) {
            rcf->user.data = value[i].data + 5;
            rcf->user.len = value[i].len - 5;
            continue;
        }

        if (ngx_strncmp(value[i].data, "password=", 9) == 0) {
            rcf->password.data = value[i].data + 9;
            rcf->password.len = value[i].len - 9;
            continue;
        }

        if (ngx_strncmp(value[i].data, "prefix=", 7) == 0) {
            rcf->prefix.data = value[i].data + 7;
            rcf->prefix.len = value[i].len - 7;

            /* keys of no namespace would meet the control plane's others */

            if (rcf->prefix.len == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"prefix=\" is empty");
                return NGX_CONF_ERROR;
            }

            /* key and channel names are built in fixed buffers */

            if (rcf->prefix.len > NGX_HTTP_TENANT_GUARD_MAX_PREFIX) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"prefix=\" is longer than %d bytes",
                                   NGX_HTTP_TENANT_GUARD_MAX_PREFIX);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "timeout=", 8) == 0) {
            s.data = value[i].data + 8;
            s.len = value[i].len - 8;

            rcf->timeout = ngx_parse_time(&s, 0);

            if (rcf->timeout == (ngx_msec_t) NGX_ERROR || rcf->timeout == 0) {
                goto invalid;
            }

            continue;
        }

        goto invalid;
    }

    if (rcf->user.len && rcf->password.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"user=\" needs \"password=\"");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;

invalid:

    /* the parameter may hold a password: only its name is repeated */

    colon = ngx_strlchr(value[i].data, value[i].data + value[i].len, '=');

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid parameter \"%*s\"",
                       colon ? (size_t) (colon - value[i].data + 1)
                             : value[i].len,
                       value[i].data);
    return NGX_CONF_ERROR;
}


/*
 * The host's addresses, resolved once, at configuration time, where a
 * blocking lookup stalls no worker: hiredis would resolve a name at every
 * connect, inside the event loop.  A reconnect tries the next address;
 * a reload resolves again.
 */

static ngx_int_t
ngx_http_tenant_guard_redis_resolve(ngx_conf_t *cf,
    ngx_http_tenant_guard_redis_conf_t *rcf)
{
    ngx_url_t   u;
    ngx_uint_t  i;
    ngx_addr_t  addr;

    /* a name, not an address: a worker may ask nginx's resolver again */

    rcf->named = (ngx_parse_addr(cf->pool, &addr, rcf->host.data,
                                 rcf->host.len)
                  != NGX_OK);

    ngx_memzero(&u, sizeof(ngx_url_t));

    u.host = rcf->host;
    u.port = rcf->port;

    if (ngx_inet_resolve_host(cf->pool, &u) != NGX_OK || u.naddrs == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "host \"%V\" of \"tenant_guard_redis\" "
                           "not found", &rcf->host);
        return NGX_ERROR;
    }

    rcf->addrs = ngx_pcalloc(cf->pool, u.naddrs * sizeof(ngx_str_t));
    if (rcf->addrs == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < u.naddrs; i++) {
        rcf->addrs[i].data = ngx_pnalloc(cf->pool, NGX_SOCKADDR_STRLEN + 1);
        if (rcf->addrs[i].data == NULL) {
            return NGX_ERROR;
        }

        rcf->addrs[i].len = ngx_sock_ntop(u.addrs[i].sockaddr,
                                          u.addrs[i].socklen,
                                          rcf->addrs[i].data,
                                          NGX_SOCKADDR_STRLEN, 0);
        rcf->addrs[i].data[rcf->addrs[i].len] = '\0';
    }

    rcf->naddrs = u.naddrs;

    return NGX_OK;
}


ngx_int_t
ngx_http_tenant_guard_redis_init_process(ngx_cycle_t *cycle,
    ngx_http_tenant_guard_redis_conf_t *rcf,
    ngx_http_tenant_guard_event_pt event,
    ngx_http_tenant_guard_events_state_pt state)
{
    ngx_http_conf_ctx_t       *http;
    ngx_http_core_loc_conf_t  *clcf;

    ngx_http_tenant_guard_rcf = rcf;
    ngx_http_tenant_guard_event = event;
    ngx_http_tenant_guard_events_state = state;
    ngx_http_tenant_guard_log = cycle->log;
    ngx_http_tenant_guard_exiting = 0;

    ngx_http_tenant_guard_cmd.name = "redis";
    ngx_http_tenant_guard_cmd.timer.handler = ngx_http_tenant_guard_link_timer;
    ngx_http_tenant_guard_cmd.timer.data = &ngx_http_tenant_guard_cmd;
    ngx_http_tenant_guard_cmd.timer.log = cycle->log;
    ngx_http_tenant_guard_cmd.timer.cancelable = 1;
    ngx_http_tenant_guard_cmd.reported = NGX_HTTP_TENANT_GUARD_LINK_UP;
    ngx_http_tenant_guard_cmd.ping.handler = ngx_http_tenant_guard_link_ping;
    ngx_http_tenant_guard_cmd.ping.data = &ngx_http_tenant_guard_cmd;
    ngx_http_tenant_guard_cmd.ping.log = cycle->log;
    ngx_http_tenant_guard_cmd.ping.cancelable = 1;

    ngx_http_tenant_guard_resolver = NULL;

    http = (ngx_http_conf_ctx_t *) ngx_get_conf(cycle->conf_ctx,
                                                ngx_http_module);
    clcf = http->loc_conf[ngx_http_core_module.ctx_index];

    /* without "resolver", nginx leaves a dummy one with no server */

    if (rcf->named && clcf->resolver != NULL
        && clcf->resolver->connections.nelts > 0)
    {
        ngx_http_tenant_guard_resolver = clcf;
    }

    /* the first dial uses the addresses resolved at configuration */

    ngx_http_tenant_guard_link_connect(&ngx_http_tenant_guard_cmd, NULL);

    /* one subscriber per host is enough: the zone is the host's */

    if (ngx_worker == 0) {
        ngx_http_tenant_guard_sub.name = "redis events";
        ngx_http_tenant_guard_sub.subscriber = 1;
        ngx_http_tenant_guard_sub.timer.handler =
                                             ngx_http_tenant_guard_link_timer;
        ngx_http_tenant_guard_sub.timer.data = &ngx_http_tenant_guard_sub;
        ngx_http_tenant_guard_sub.timer.log = cycle->log;
        ngx_http_tenant_guard_sub.timer.cancelable = 1;
        ngx_http_tenant_guard_sub.reported = NGX_HTTP_TENANT_GUARD_LINK_UP;
        ngx_http_tenant_guard_sub.ping.handler =
                                              ngx_http_tenant_guard_link_ping;
        ngx_http_tenant_guard_sub.ping.data = &ngx_http_tenant_guard_sub;
        ngx_http_tenant_guard_sub.ping.log = cycle->log;
        ngx_http_tenant_guard_sub.ping.cancelable = 1;

        ngx_http_tenant_guard_link_connect(&ngx_http_tenant_guard_sub, NULL);
    }

    return NGX_OK;
}


void
ngx_http_tenant_guard_redis_exit_process(void)
{
    ngx_http_tenant_guard_link_t  *links[2];
    ngx_uint_t                     i;

    ngx_http_tenant_guard_exiting = 1;

    links[0] = &ngx_http_tenant_guard_cmd;
    links[1] = &ngx_http_tenant_guard_sub;

    for (i = 0; i < 2; i++) {
        if (links[i]->timer.timer_set) {
            ngx_del_timer(&links[i]->timer);
        }

        if (links[i]->ping.timer_set) {
            ngx_del_timer(&links[i]->ping);
        }

        if (links[i]->resolving) {
            ngx_resolve_name_done(links[i]->resolving);
            links[i]->resolving = NULL;
        }

        if (links[i]->ac) {
            redisAsyncFree(links[i]->ac);
            links[i]->ac = NULL;
        }
    }
}


ngx_uint_t
ngx_http_tenant_guard_redis_up(void)
{
    return ngx_http_tenant_guard_cmd.state == NGX_HTTP_TENANT_GUARD_LINK_UP;
}


/*
 * Writes nobody waits for that Redis refused (an error reply: OOM,
 * READONLY) or that a drop lost, so far in this worker: the admin API
 * compares it before its writes and once the PING after them is back.
 */

ngx_uint_t
ngx_http_tenant_guard_redis_send_errors(void)
{
    return ngx_http_tenant_guard_send_errors;
}


/*
 * A re-dial of a host given by name asks nginx's resolver first (when the
 * http level has a "resolver"): without blocking, and with the answer of
 * now, not of the last reload.  No resolver, or no answer: the addresses
 * resolved at configuration.
 */

static void
ngx_http_tenant_guard_link_resolve(ngx_http_tenant_guard_link_t *link)
{
    ngx_resolver_ctx_t        *ctx;
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_tenant_guard_resolver;

    if (clcf == NULL) {
        ngx_http_tenant_guard_link_connect(link, NULL);
        return;
    }

    ctx = ngx_resolve_start(clcf->resolver, NULL);

    if (ctx == NULL || ctx == NGX_NO_RESOLVER) {
        ngx_http_tenant_guard_link_unresolved(link, ctx ? "no resolver"
                                                        : "out of memory");
        ngx_http_tenant_guard_link_connect(link, NULL);
        return;
    }

    ctx->name = ngx_http_tenant_guard_rcf->host;
    ctx->handler = ngx_http_tenant_guard_link_resolved;
    ctx->data = link;
    ctx->timeout = (clcf->resolver_timeout == NGX_CONF_UNSET_MSEC)
                   ? 30000 : clcf->resolver_timeout;
    ctx->cancelable = 1;

    /* the handler may run at once, from a cached answer */

    link->resolving = ctx;

    if (ngx_resolve_name(ctx) != NGX_OK) {
        link->resolving = NULL;
        ngx_http_tenant_guard_link_unresolved(link, "out of memory");
        ngx_http_tenant_guard_link_connect(link, NULL);
    }
}


static void
ngx_http_tenant_guard_link_resolved(ngx_resolver_ctx_t *ctx)
{
    size_t                         len;
    ngx_uint_t                     i;
    ngx_http_tenant_guard_link_t  *link = ctx->data;

    link->resolving = NULL;

    if (ctx->state != NGX_OK || ctx->naddrs == 0) {
        ngx_http_tenant_guard_link_unresolved(link,
                                   ctx->state != NGX_OK
                                   ? ngx_resolver_strerror(ctx->state)
                                   : "no address");
        ngx_resolve_name_done(ctx);
        ngx_http_tenant_guard_link_connect(link, NULL);
        return;
    }

    /* each re-dial takes the next address of the answer */

    i = link->resolved++ % ctx->naddrs;

    len = ngx_sock_ntop(ctx->addrs[i].sockaddr, ctx->addrs[i].socklen,
                        link->ip, NGX_SOCKADDR_STRLEN, 0);
    link->ip[len] = '\0';

    ngx_resolve_name_done(ctx);

    if (link->unresolved) {
        link->unresolved = 0;

        ngx_log_error(NGX_LOG_NOTICE, ngx_http_tenant_guard_log, 0,
                      "tenant_guard: %s link: \"%V\" is resolved again",
                      link->name, &ngx_http_tenant_guard_rcf->host);
    }

    ngx_log_debug2(NGX_LOG_DEBUG_EVENT, ngx_http_tenant_guard_log, 0,
                   "tenant_guard: %s link: dialing %s", link->name, link->ip);

    ngx_http_tenant_guard_link_connect(link, (char *) link->ip);
}


/* said once, until an answer comes again */

static void
ngx_http_tenant_guard_link_unresolved(ngx_http_tenant_guard_link_t *link,
    const char *why)
{
    if (link->unresolved) {
        return;
    }

    link->unresolved = 1;

    ngx_log_error(NGX_LOG_ERR, ngx_http_tenant_guard_log, 0,
                  "tenant_guard: %s link: \"%V\" could not be resolved "
                  "(%s), dialing its addresses from the configuration",
                  link->name, &ngx_http_tenant_guard_rcf->host, why);
}


/* ip: an address the resolver gave; NULL: the configuration's next one */

static void
ngx_http_tenant_guard_link_connect(ngx_http_tenant_guard_link_t *link,
    const char *ip)
{
    ngx_connection_t                    *c;
    redisAsyncContext                   *ac;
    ngx_http_tenant_guard_redis_conf_t  *rcf;

    rcf = ngx_http_tenant_guard_rcf;

    if (rcf->path.len) {
        ac = redisAsyncConnectUnix((char *) rcf->path.data);

    } else if (ip != NULL) {
        ac = redisAsyncConnect(ip, rcf->port);

    } else {

        /*
         * an address resolved at configuration (no DNS in a worker);
         * the next connect tries the next one
         */

        ac = redisAsyncConnect((char *) rcf->addrs[link->addr].data,
                               rcf->port);

        link->addr = (link->addr + 1) % rcf->naddrs;
    }

    if (ac == NULL) {
        ngx_http_tenant_guard_link_report(link, 0, "out of memory");
        ngx_http_tenant_guard_link_retry(link);
        return;
    }

    if (ac->err) {
        ngx_http_tenant_guard_link_report(link, 0, ac->errstr);
        redisAsyncFree(ac);
        ngx_http_tenant_guard_link_retry(link);
        return;
    }

    ngx_http_tenant_guard_guard_install(ac);

    c = ngx_get_connection(ac->c.fd, ngx_http_tenant_guard_log);
    if (c == NULL) {
        redisAsyncFree(ac);
        ngx_http_tenant_guard_link_retry(link);
        return;
    }

    c->data = link;
    c->read->handler = ngx_http_tenant_guard_ev_read;
    c->write->handler = ngx_http_tenant_guard_ev_write;
    c->read->log = ngx_http_tenant_guard_log;
    c->write->log = ngx_http_tenant_guard_log;

    link->ac = ac;
    link->conn = c;
    link->state = NGX_HTTP_TENANT_GUARD_LINK_CONNECTING;
    link->push = NGX_HTTP_TENANT_GUARD_PUSH_NONE;
    link->unexpected = 0;

    ac->data = link;
    ac->ev.data = link;
    ac->ev.addRead = ngx_http_tenant_guard_ev_add_read;
    ac->ev.delRead = ngx_http_tenant_guard_ev_del_read;
    ac->ev.addWrite = ngx_http_tenant_guard_ev_add_write;
    ac->ev.delWrite = ngx_http_tenant_guard_ev_del_write;
    ac->ev.cleanup = ngx_http_tenant_guard_ev_cleanup;

    redisAsyncSetConnectCallback(ac, ngx_http_tenant_guard_on_connect);
    redisAsyncSetDisconnectCallback(ac, ngx_http_tenant_guard_on_disconnect);

    /* the timer bounds the connect, AUTH and SELECT together */

    ngx_add_timer(&link->timer, ngx_http_tenant_guard_rcf->timeout);

    ngx_http_tenant_guard_link_auth(link);
}


static void
ngx_http_tenant_guard_link_auth(ngx_http_tenant_guard_link_t *link)
{
    int                                  argc;
    char                                 db[NGX_INT_T_LEN];
    const char                          *argv[3];
    size_t                               len[3];
    ngx_http_tenant_guard_redis_conf_t  *rcf;

    rcf = ngx_http_tenant_guard_rcf;

    if (rcf->password.len) {
        argc = 0;
        argv[argc] = "AUTH";
        len[argc++] = 4;

        if (rcf->user.len) {
            argv[argc] = (char *) rcf->user.data;
            len[argc++] = rcf->user.len;
        }

        argv[argc] = (char *) rcf->password.data;
        len[argc++] = rcf->password.len;

        redisAsyncCommandArgv(link->ac, ngx_http_tenant_guard_on_auth, link,
                              argc, argv, len);
    }

    if (link->subscriber) {
        argv[0] = "SUBSCRIBE";
        len[0] = 9;
        argv[1] = (char *) rcf->channel.data;
        len[1] = rcf->channel.len;

        redisAsyncCommandArgv(link->ac, ngx_http_tenant_guard_on_message,
                              link, 2, argv, len);
        return;
    }

    if (rcf->db) {
        argv[0] = "SELECT";
        len[0] = 6;
        argv[1] = db;
        len[1] = ngx_sprintf((u_char *) db, "%i", rcf->db) - (u_char *) db;

        redisAsyncCommandArgv(link->ac, ngx_http_tenant_guard_on_auth, link,
                              2, argv, len);
    }

    argv[0] = "PING";
    len[0] = 4;

    redisAsyncCommandArgv(link->ac, ngx_http_tenant_guard_on_ready, link,
                          1, argv, len);
}


static void
ngx_http_tenant_guard_on_connect(const redisAsyncContext *ac, int status)
{
    ngx_http_tenant_guard_link_t  *link = ac->data;

    if (status != REDIS_OK) {

        /* hiredis frees the context after this callback */

        link->ac = NULL;
        link->state = NGX_HTTP_TENANT_GUARD_LINK_DOWN;

        if (link->timer.timer_set) {
            ngx_del_timer(&link->timer);
        }

        ngx_http_tenant_guard_link_report(link, 0, ac->errstr);
        ngx_http_tenant_guard_link_retry(link);
    }
}


static void
ngx_http_tenant_guard_on_disconnect(const redisAsyncContext *ac, int status)
{
    ngx_http_tenant_guard_link_t  *link = ac->data;

    link->ac = NULL;
    link->state = NGX_HTTP_TENANT_GUARD_LINK_DOWN;

    if (link->timer.timer_set) {
        ngx_del_timer(&link->timer);
    }

    if (ngx_http_tenant_guard_exiting) {
        return;
    }

    if (link->unexpected) {

        /* a server that breaks the protocol is not dialed in a storm */

        ngx_http_tenant_guard_link_report(link, 0, "an unexpected reply");
        link->backoff = NGX_HTTP_TENANT_GUARD_BACKOFF_MAX;
        ngx_http_tenant_guard_link_retry(link);
        return;
    }

    ngx_http_tenant_guard_link_report(link, 0,
                                      status == REDIS_OK ? "closed"
                                                         : ac->errstr);
    ngx_http_tenant_guard_link_retry(link);
}


static void
ngx_http_tenant_guard_on_auth(redisAsyncContext *ac, void *r, void *privdata)
{
    redisReply                    *reply = r;
    ngx_http_tenant_guard_link_t  *link = privdata;

    if (reply == NULL || reply->type != REDIS_REPLY_ERROR) {
        return;
    }

    /* a wrong password is an operator's problem: said once, retried */

    ngx_http_tenant_guard_link_report(link, 0, reply->str);
    link->reported = NGX_HTTP_TENANT_GUARD_LINK_DOWN;

    redisAsyncDisconnect(ac);
}


static void
ngx_http_tenant_guard_on_ready(redisAsyncContext *ac, void *r,
    void *privdata)
{
    redisReply                    *reply = r;
    ngx_http_tenant_guard_link_t  *link = privdata;

    if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
        return;
    }

    ngx_http_tenant_guard_link_up(link);
}


static void
ngx_http_tenant_guard_on_message(redisAsyncContext *ac, void *r,
    void *privdata)
{
    redisReply                    *reply = r;
    ngx_str_t                      key;
    ngx_http_tenant_guard_link_t  *link = privdata;

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY
        || reply->elements != 3
        || reply->element[0]->type != REDIS_REPLY_STRING)
    {
        if (reply != NULL && reply->type == REDIS_REPLY_ERROR) {
            ngx_http_tenant_guard_link_report(link, 0, reply->str);
            link->reported = NGX_HTTP_TENANT_GUARD_LINK_DOWN;
            redisAsyncDisconnect(ac);
        }

        return;
    }

    if (ngx_strcmp(reply->element[0]->str, "subscribe") == 0) {
        ngx_http_tenant_guard_link_up(link);

        /* what changed while the link was down is not known: drop all */

        ngx_str_set(&key, "*");
        ngx_http_tenant_guard_event(&key);
        ngx_http_tenant_guard_events_state(1);
        return;
    }

    if (ngx_strcmp(reply->element[0]->str, "message") != 0
        || reply->element[2]->type != REDIS_REPLY_STRING)
    {
        return;
    }

    key.data = (u_char *) reply->element[2]->str;
    key.len = reply->element[2]->len;

    ngx_http_tenant_guard_event(&key);
}


/* the connect timer, then the retry timer */

static void
ngx_http_tenant_guard_link_timer(ngx_event_t *ev)
{
    ngx_http_tenant_guard_link_t  *link = ev->data;

    if (ngx_http_tenant_guard_exiting) {
        return;
    }

    if (link->ac != NULL) {
        ngx_http_tenant_guard_link_down(link, "timed out");
        return;
    }

    ngx_http_tenant_guard_link_resolve(link);
}


static void
ngx_http_tenant_guard_link_up(ngx_http_tenant_guard_link_t *link)
{
    if (link->timer.timer_set) {
        ngx_del_timer(&link->timer);
    }

    link->state = NGX_HTTP_TENANT_GUARD_LINK_UP;
    link->backoff = 0;
    link->heard = 0;
    link->pinged = 0;

    ngx_add_timer(&link->ping, ngx_http_tenant_guard_rcf->timeout);

    ngx_http_tenant_guard_link_report(link, 1, NULL);
}


/*
 * Liveness: a server that vanishes without closing the connection (a host
 * gone, a frozen process, a cut network) is noticed by no read.  Every
 * timeout, a link that has read nothing since the last PING is dropped,
 * and a PING is sent: a silent death is noticed within twice the timeout,
 * with or without requests.  On the events link, in subscribed mode, the
 * PING has no callback (hiredis takes the reply for a message of no
 * channel and drops it; the reply guard admits exactly ["pong", ""]):
 * only the read counts.
 */

static void
ngx_http_tenant_guard_link_ping(ngx_event_t *ev)
{
    const char                    *argv[1];
    size_t                         len[1];
    ngx_http_tenant_guard_link_t  *link = ev->data;

    if (ngx_http_tenant_guard_exiting || link->ac == NULL
        || link->state != NGX_HTTP_TENANT_GUARD_LINK_UP)
    {
        return;
    }

    if (link->pinged && !link->heard) {
        ngx_http_tenant_guard_link_down(link, "no answer to PING");
        return;
    }

    link->heard = 0;
    link->pinged = 1;

    if (link->subscriber) {
        if (redisAppendFormattedCommand(&link->ac->c,
                                   ngx_http_tenant_guard_ping,
                                   sizeof(ngx_http_tenant_guard_ping) - 1)
            != REDIS_OK)
        {
            ngx_http_tenant_guard_link_down(link, "out of memory");
            return;
        }

        ngx_http_tenant_guard_ev_add_write(link);

    } else {
        argv[0] = "PING";
        len[0] = 4;

        if (redisAsyncCommandArgv(link->ac, NULL, NULL, 1, argv, len)
            != REDIS_OK)
        {
            ngx_http_tenant_guard_link_down(link, "out of memory");
            return;
        }
    }

    ngx_add_timer(&link->ping, ngx_http_tenant_guard_rcf->timeout);
}


/* drops the link from outside hiredis's callbacks: a timer */

static void
ngx_http_tenant_guard_link_down(ngx_http_tenant_guard_link_t *link,
    const char *why)
{
    redisAsyncContext  *ac;

    ac = link->ac;
    link->ac = NULL;
    link->state = NGX_HTTP_TENANT_GUARD_LINK_DOWN;

    ngx_http_tenant_guard_link_report(link, 0, why);

    if (ac != NULL) {
        ac->onDisconnect = NULL;
        redisAsyncFree(ac);
    }

    ngx_http_tenant_guard_link_retry(link);
}


static void
ngx_http_tenant_guard_link_retry(ngx_http_tenant_guard_link_t *link)
{
    if (ngx_http_tenant_guard_exiting) {
        return;
    }

    if (link->ping.timer_set) {
        ngx_del_timer(&link->ping);
    }

    if (link->subscriber) {
        ngx_http_tenant_guard_events_state(0);
    }

    link->backoff = link->backoff ? ngx_min(link->backoff * 2,
                                            NGX_HTTP_TENANT_GUARD_BACKOFF_MAX)
                                  : NGX_HTTP_TENANT_GUARD_BACKOFF_MIN;

    if (link->timer.timer_set) {
        ngx_del_timer(&link->timer);
    }

    ngx_add_timer(&link->timer, link->backoff);
}


/* an operator problem is logged once per change, not per request */

static void
ngx_http_tenant_guard_link_report(ngx_http_tenant_guard_link_t *link,
    ngx_uint_t up, const char *why)
{
    ngx_uint_t  state;

    state = up ? NGX_HTTP_TENANT_GUARD_LINK_UP
               : NGX_HTTP_TENANT_GUARD_LINK_DOWN;

    if (link->reported == state) {
        return;
    }

    link->reported = state;

    if (up) {
        ngx_log_error(NGX_LOG_NOTICE, ngx_http_tenant_guard_log, 0,
                      "tenant_guard: %s link is up", link->name);

    } else {
        ngx_log_error(NGX_LOG_ERR, ngx_http_tenant_guard_log, 0,
                      "tenant_guard: %s link is down: %s", link->name,
                      why ? why : "unknown error");
    }
}


ngx_int_t
ngx_http_tenant_guard_redis_call(ngx_http_request_t *r,
    ngx_http_tenant_guard_redis_pt handler, void *data, int argc,
    const char **argv, const size_t *argvlen)
{
    ngx_http_tenant_guard_link_t    *link;
    ngx_http_tenant_guard_waiter_t  *w;

    link = &ngx_http_tenant_guard_cmd;

    if (link->state != NGX_HTTP_TENANT_GUARD_LINK_UP || link->ac == NULL) {
        return NGX_ERROR;
    }

    w = ngx_calloc(sizeof(ngx_http_tenant_guard_waiter_t), r->connection->log);
    if (w == NULL) {
        return NGX_ERROR;
    }

    w->cln = ngx_pool_cleanup_add(r->pool, 0);
    if (w->cln == NULL) {
        ngx_free(w);
        return NGX_ERROR;
    }

    if (redisAsyncCommandArgv(link->ac, ngx_http_tenant_guard_on_reply, w,
                              argc, argv, argvlen)
        != REDIS_OK)
    {
        ngx_free(w);
        return NGX_ERROR;
    }

    w->r = r;
    w->handler = handler;
    w->data = data;
    w->link = link;

    w->cln->handler = ngx_http_tenant_guard_waiter_detach;
    w->cln->data = w;

    w->timer.handler = ngx_http_tenant_guard_waiter_timeout;
    w->timer.data = w;
    w->timer.log = r->connection->log;

    ngx_add_timer(&w->timer, ngx_http_tenant_guard_rcf->timeout);

    return NGX_OK;
}


ngx_int_t
ngx_http_tenant_guard_redis_background(
    ngx_http_tenant_guard_redis_bg_pt handler, void *data, int argc,
    const char **argv, const size_t *argvlen)
{
    ngx_http_tenant_guard_link_t    *link;
    ngx_http_tenant_guard_waiter_t  *w;

    link = &ngx_http_tenant_guard_cmd;

    if (link->state != NGX_HTTP_TENANT_GUARD_LINK_UP || link->ac == NULL) {
        return NGX_ERROR;
    }

    w = ngx_calloc(sizeof(ngx_http_tenant_guard_waiter_t),
                   ngx_http_tenant_guard_log);
    if (w == NULL) {
        return NGX_ERROR;
    }

    if (redisAsyncCommandArgv(link->ac, ngx_http_tenant_guard_on_reply, w,
                              argc, argv, argvlen)
        != REDIS_OK)
    {
        ngx_free(w);
        return NGX_ERROR;
    }

    w->bg = handler;
    w->data = data;
    w->link = link;

    w->timer.handler = ngx_http_tenant_guard_waiter_timeout;
    w->timer.data = w;
    w->timer.log = ngx_http_tenant_guard_log;

    ngx_add_timer(&w->timer, ngx_http_tenant_guard_rcf->timeout);

    return NGX_OK;
}


/*
 * A write nobody waits for has a deadline like any command (one that times
 * out drops the link, and with it every command queued behind), and the
 * worker keeps at most NGX_HTTP_TENANT_GUARD_SENDS_MAX of them waiting:
 * past that, a new one is refused, counted, and logged once a second at
 * most, so that a hanging Redis cannot grow a worker's memory.
 */

ngx_int_t
ngx_http_tenant_guard_redis_send(int argc, const char **argv,
    const size_t *argvlen)
{
    ngx_http_tenant_guard_link_t    *link;
    ngx_http_tenant_guard_waiter_t  *w;

    link = &ngx_http_tenant_guard_cmd;

    if (link->state != NGX_HTTP_TENANT_GUARD_LINK_UP || link->ac == NULL) {
        return NGX_ERROR;
    }

    if (ngx_http_tenant_guard_sends >= NGX_HTTP_TENANT_GUARD_SENDS_MAX) {
        ngx_http_tenant_guard_refused++;

        if (ngx_http_tenant_guard_refused_log != ngx_time()) {
            ngx_http_tenant_guard_refused_log = ngx_time();

            ngx_log_error(NGX_LOG_ERR, ngx_http_tenant_guard_log, 0,
                          "tenant_guard: redis write queue is full (%d), "
                          "%ui writes refused so far",
                          NGX_HTTP_TENANT_GUARD_SENDS_MAX,
                          ngx_http_tenant_guard_refused);
        }

        return NGX_ERROR;
    }

    w = ngx_calloc(sizeof(ngx_http_tenant_guard_waiter_t),
                   ngx_http_tenant_guard_log);
    if (w == NULL) {
        return NGX_ERROR;
    }

    if (redisAsyncCommandArgv(link->ac, ngx_http_tenant_guard_on_reply, w,
                              argc, argv, argvlen)
        != REDIS_OK)
    {
        ngx_free(w);
        return NGX_ERROR;
    }

    w->send = 1;
    w->link = link;

    w->timer.handler = ngx_http_tenant_guard_waiter_timeout;
    w->timer.data = w;
    w->timer.log = ngx_http_tenant_guard_log;

    ngx_add_timer(&w->timer, ngx_http_tenant_guard_rcf->timeout);

    ngx_http_tenant_guard_sends++;

    return NGX_OK;
}


/* hiredis calls this once per command: with the reply, or NULL on a drop */

static void
ngx_http_tenant_guard_on_reply(redisAsyncContext *ac, void *r,
    void *privdata)
{
    redisReply                      *reply = r;
    ngx_http_request_t              *req;
    ngx_http_tenant_guard_reply_t   *copy;
    ngx_http_tenant_guard_waiter_t  *w = privdata;

    if (w->timer.timer_set) {
        ngx_del_timer(&w->timer);

        /* a command that timed out was counted then */

        ngx_http_tenant_guard_metrics_redis(
            (reply == NULL || reply->type == REDIS_REPLY_ERROR)
            ? NGX_HTTP_TENANT_GUARD_REDIS_ERROR
            : NGX_HTTP_TENANT_GUARD_REDIS_OK);
    }

    if (w->send) {
        ngx_http_tenant_guard_sends--;

        if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
            ngx_http_tenant_guard_send_errors++;
        }

        ngx_free(w);
        return;
    }

    if (w->bg != NULL) {
        ngx_http_tenant_guard_on_background(w, reply);
        ngx_free(w);
        return;
    }

    req = w->r;

    if (req != NULL) {
        w->cln->handler = NULL;
        copy = NULL;

        if (reply != NULL) {
            copy = ngx_palloc(req->pool,
                              sizeof(ngx_http_tenant_guard_reply_t));

            if (copy != NULL
                && ngx_http_tenant_guard_reply_copy(req->pool, reply, copy)
                   != NGX_OK)
            {
                copy = NULL;
            }
        }

        w->handler(req, w->data, copy);
    }

    ngx_free(w);
}


static void
ngx_http_tenant_guard_on_background(ngx_http_tenant_guard_waiter_t *w,
    redisReply *reply)
{
    ngx_pool_t                     *pool;
    ngx_http_tenant_guard_reply_t  *copy;
    ngx_http_tenant_guard_redis_bg_pt  bg;

    bg = w->bg;
    w->bg = NULL;

    if (reply == NULL) {
        bg(w->data, NULL);
        return;
    }

    pool = ngx_create_pool(1024, ngx_http_tenant_guard_log);
    if (pool == NULL) {
        bg(w->data, NULL);
        return;
    }

    copy = ngx_palloc(pool, sizeof(ngx_http_tenant_guard_reply_t));

    if (copy == NULL
        || ngx_http_tenant_guard_reply_copy(pool, reply, copy) != NGX_OK)
    {
        copy = NULL;
    }

    bg(w->data, copy);

    ngx_destroy_pool(pool);
}


static void
ngx_http_tenant_guard_waiter_timeout(ngx_event_t *ev)
{
    ngx_http_request_t              *r;
    ngx_http_tenant_guard_waiter_t  *w = ev->data;

    ngx_http_tenant_guard_metrics_redis(NGX_HTTP_TENANT_GUARD_REDIS_TIMEOUT);

    if (w->bg != NULL) {
        ngx_http_tenant_guard_on_background(w, NULL);
    }

    r = w->r;

    if (r != NULL) {
        w->r = NULL;
        w->cln->handler = NULL;

        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "tenant_guard: redis did not answer in time");

        w->handler(r, w->data, NULL);
    }

    /* frees w, through the reply callback */

    if (w->link->ac != NULL) {
        ngx_http_tenant_guard_link_down(w->link, "a command timed out");
    }
}


static void
ngx_http_tenant_guard_waiter_detach(void *data)
{
    ngx_http_tenant_guard_waiter_t  *w = data;

    w->r = NULL;

    if (w->timer.timer_set) {
        ngx_del_timer(&w->timer);
    }
}


static ngx_int_t
ngx_http_tenant_guard_reply_copy(ngx_pool_t *pool, redisReply *from,
    ngx_http_tenant_guard_reply_t *to)
{
    size_t  i;

    ngx_memzero(to, sizeof(ngx_http_tenant_guard_reply_t));

    switch (from->type) {

    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_ERROR:
        to->type = (from->type == REDIS_REPLY_ERROR)
                   ? NGX_HTTP_TENANT_GUARD_REPLY_ERROR
                   : NGX_HTTP_TENANT_GUARD_REPLY_STRING;

        to->str.len = from->len;
        to->str.data = ngx_pnalloc(pool, from->len + 1);
        if (to->str.data == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(to->str.data, from->str, from->len);
        to->str.data[from->len] = '\0';
        return NGX_OK;

    case REDIS_REPLY_INTEGER:
        to->type = NGX_HTTP_TENANT_GUARD_REPLY_INTEGER;
        to->integer = from->integer;
        return NGX_OK;

    case REDIS_REPLY_ARRAY:
        to->type = NGX_HTTP_TENANT_GUARD_REPLY_ARRAY;
        to->n = from->elements;

        if (to->n == 0) {
            return NGX_OK;
        }

        to->element = ngx_palloc(pool, to->n
                                 * sizeof(ngx_http_tenant_guard_reply_t));
        if (to->element == NULL) {
            return NGX_ERROR;
        }

        for (i = 0; i < to->n; i++) {
            if (ngx_http_tenant_guard_reply_copy(pool, from->element[i],
                                                 &to->element[i])
                != NGX_OK)
            {
                return NGX_ERROR;
            }
        }

        return NGX_OK;

    default:
        to->type = NGX_HTTP_TENANT_GUARD_REPLY_NIL;
        return NGX_OK;
    }
}


/*
 * The reply guard: hiredis's reader makes each reply's objects through
 * these functions, the reply's own first, then its elements.  A reply that
 * no command waits for (hiredis would assert), except an error, which
 * hiredis itself turns into a closed link ("max number of clients"), and
 * on the events link a message other than ["subscribe", channel, n],
 * ["message", channel, key] or the liveness PING's ["pong", ""] (hiredis
 * would assert or read past the array) are refused: the object is not
 * made, the reader fails ("out of memory" to hiredis) and hiredis closes
 * the link, answering every waiting command with no reply.  on_disconnect
 * says why.
 */

static void
ngx_http_tenant_guard_guard_install(redisAsyncContext *ac)
{
    if (ngx_http_tenant_guard_hiredis_fn == NULL) {
        ngx_http_tenant_guard_hiredis_fn = ac->c.reader->fn;
    }

    ac->c.reader->fn = &ngx_http_tenant_guard_guard_fn;
    ac->c.reader->privdata = ac;
}


static ngx_int_t
ngx_http_tenant_guard_guard_check(const redisReadTask *task, int type,
    int elements, const char *str, size_t len)
{
    redisAsyncContext             *ac = task->privdata;
    ngx_http_tenant_guard_link_t  *link;

    link = ac->data;

    /* hiredis would allocate room for every element it is promised */

    if (type == REDIS_REPLY_ARRAY
        && elements > NGX_HTTP_TENANT_GUARD_MAX_ELEMENTS)
    {
        link->unexpected = 1;
        return NGX_ERROR;
    }

    if (task->parent != NULL) {

        /* an element: of a reply a command waits for, or of a message */

        if (link->push == NGX_HTTP_TENANT_GUARD_PUSH_NONE) {
            return NGX_OK;
        }

        if (ngx_http_tenant_guard_guard_push(link, task, type, str, len)
            == NGX_OK)
        {
            return NGX_OK;
        }

        link->unexpected = 1;
        return NGX_ERROR;
    }

    link->push = NGX_HTTP_TENANT_GUARD_PUSH_NONE;

    if (ac->replies.head != NULL || type == REDIS_REPLY_ERROR) {
        return NGX_OK;
    }

    if (link->subscriber && type == REDIS_REPLY_ARRAY && elements == 3) {
        link->push = NGX_HTTP_TENANT_GUARD_PUSH_ANY;
        return NGX_OK;
    }

    /* the reply to the liveness PING, in subscribed mode */

    if (link->subscriber && type == REDIS_REPLY_ARRAY && elements == 2) {
        link->push = NGX_HTTP_TENANT_GUARD_PUSH_PONG;
        return NGX_OK;
    }

    link->unexpected = 1;
    return NGX_ERROR;
}


/* an element of a message: the three that on_message reads, as it reads */

static ngx_int_t
ngx_http_tenant_guard_guard_push(ngx_http_tenant_guard_link_t *link,
    const redisReadTask *task, int type, const char *str, size_t len)
{
    ngx_str_t  *channel;

    if (task->parent->parent != NULL) {
        return NGX_ERROR;
    }

    if (link->push == NGX_HTTP_TENANT_GUARD_PUSH_PONG) {
        if (type != REDIS_REPLY_STRING) {
            return NGX_ERROR;
        }

        if (task->idx == 0) {
            return (len == 4 && ngx_strncmp(str, "pong", 4) == 0)
                   ? NGX_OK : NGX_ERROR;
        }

        return (len == 0) ? NGX_OK : NGX_ERROR;
    }

    switch (task->idx) {

    case 0:
        if (type != REDIS_REPLY_STRING) {
            return NGX_ERROR;
        }

        if (len == 9 && ngx_strncmp(str, "subscribe", 9) == 0) {
            link->push = NGX_HTTP_TENANT_GUARD_PUSH_SUBSCRIBE;
            return NGX_OK;
        }

        if (len == 7 && ngx_strncmp(str, "message", 7) == 0) {
            link->push = NGX_HTTP_TENANT_GUARD_PUSH_MESSAGE;
            return NGX_OK;
        }

        return NGX_ERROR;

    case 1:
        channel = &ngx_http_tenant_guard_rcf->channel;

        if (type != REDIS_REPLY_STRING || len != channel->len
            || ngx_strncmp(str, channel->data, len) != 0)
        {
            return NGX_ERROR;
        }

        return NGX_OK;

    default:
        if (link->push == NGX_HTTP_TENANT_GUARD_PUSH_SUBSCRIBE) {
            return (type == REDIS_REPLY_INTEGER) ? NGX_OK : NGX_ERROR;
        }

        return (type == REDIS_REPLY_STRING) ? NGX_OK : NGX_ERROR;
    }
}


static void *
ngx_http_tenant_guard_guard_string(const redisReadTask *task, char *str,
    size_t len)
{
    if (ngx_http_tenant_guard_guard_check(task, task->type, 0, str, len)
        != NGX_OK)
    {
        return NULL;
    }

    return ngx_http_tenant_guard_hiredis_fn->createString(task, str, len);
}


static void *
ngx_http_tenant_guard_guard_array(const redisReadTask *task, int elements)
{
    if (ngx_http_tenant_guard_guard_check(task, REDIS_REPLY_ARRAY, elements,
                                          NULL, 0)
        != NGX_OK)
    {
        return NULL;
    }

    return ngx_http_tenant_guard_hiredis_fn->createArray(task, elements);
}


static void *
ngx_http_tenant_guard_guard_integer(const redisReadTask *task,
    long long value)
{
    if (ngx_http_tenant_guard_guard_check(task, REDIS_REPLY_INTEGER, 0,
                                          NULL, 0)
        != NGX_OK)
    {
        return NULL;
    }

    return ngx_http_tenant_guard_hiredis_fn->createInteger(task, value);
}


static void *
ngx_http_tenant_guard_guard_nil(const redisReadTask *task)
{
    if (ngx_http_tenant_guard_guard_check(task, REDIS_REPLY_NIL, 0, NULL, 0)
        != NGX_OK)
    {
        return NULL;
    }

    return ngx_http_tenant_guard_hiredis_fn->createNil(task);
}


static void
ngx_http_tenant_guard_guard_free(void *reply)
{
    ngx_http_tenant_guard_hiredis_fn->freeObject(reply);
}


/*
 * The adapter: hiredis asks for read and write interest, nginx's events
 * call hiredis back.  Level-triggered, because hiredis reads once per call.
 */

static void
ngx_http_tenant_guard_ev_add_read(void *privdata)
{
    ngx_http_tenant_guard_link_t *link = privdata;

    ngx_http_tenant_guard_ev_set(link->conn->read, NGX_READ_EVENT, 1);
}


static void
ngx_http_tenant_guard_ev_del_read(void *privdata)
{
    ngx_http_tenant_guard_link_t *link = privdata;

    ngx_http_tenant_guard_ev_set(link->conn->read, NGX_READ_EVENT, 0);
}


static void
ngx_http_tenant_guard_ev_add_write(void *privdata)
{
    ngx_http_tenant_guard_link_t *link = privdata;

    ngx_http_tenant_guard_ev_set(link->conn->write, NGX_WRITE_EVENT, 1);
}


static void
ngx_http_tenant_guard_ev_del_write(void *privdata)
{
    ngx_http_tenant_guard_link_t *link = privdata;

    ngx_http_tenant_guard_ev_set(link->conn->write, NGX_WRITE_EVENT, 0);
}


static void
ngx_http_tenant_guard_ev_set(ngx_event_t *ev, ngx_int_t event, ngx_uint_t on)
{
    if (on && !ev->active) {
        (void) ngx_add_event(ev, event, NGX_LEVEL_EVENT);

    } else if (!on && ev->active) {
        (void) ngx_del_event(ev, event, 0);
    }
}


static void
ngx_http_tenant_guard_ev_cleanup(void *privdata)
{
    ngx_connection_t              *c;
    ngx_http_tenant_guard_link_t  *link = privdata;

    c = link->conn;

    if (c == NULL) {
        return;
    }

    link->conn = NULL;

    if (c->read->active) {
        (void) ngx_del_event(c->read, NGX_READ_EVENT, NGX_CLOSE_EVENT);
    }

    if (c->write->active) {
        (void) ngx_del_event(c->write, NGX_WRITE_EVENT, NGX_CLOSE_EVENT);
    }

    if (c->read->timer_set) {
        ngx_del_timer(c->read);
    }

    if (c->write->timer_set) {
        ngx_del_timer(c->write);
    }

    if (c->read->posted) {
        ngx_delete_posted_event(c->read);
    }

    if (c->write->posted) {
        ngx_delete_posted_event(c->write);
    }

    /* hiredis closes the socket itself */

    c->fd = (ngx_socket_t) -1;
    ngx_free_connection(c);
}


static void
ngx_http_tenant_guard_ev_read(ngx_event_t *ev)
{
    ngx_connection_t              *c = ev->data;
    ngx_http_tenant_guard_link_t  *link = c->data;

    if (link->ac != NULL) {
        link->heard = 1;
        redisAsyncHandleRead(link->ac);
    }

    /*
     * hiredis buffers a reply until it is whole, however large its server
     * says it is: a reply of the module's is small, and a server that
     * sends megabytes is not one to wait for
     */

    if (link->ac != NULL && link->ac->c.reader != NULL
        && link->ac->c.reader->len - link->ac->c.reader->pos
           > NGX_HTTP_TENANT_GUARD_MAX_REPLY)
    {
        link->backoff = NGX_HTTP_TENANT_GUARD_BACKOFF_MAX;
        ngx_http_tenant_guard_link_down(link, "a reply over "
                                        "the size limit");
    }
}


static void
ngx_http_tenant_guard_ev_write(ngx_event_t *ev)
{
    ngx_connection_t              *c = ev->data;
    ngx_http_tenant_guard_link_t  *link = c->data;

    if (link->ac != NULL) {
        redisAsyncHandleWrite(link->ac);
    }
}
