
/*
 * Copyright (C) tenant_guard authors
 */


#ifndef _NGX_HTTP_TENANT_GUARD_REDIS_H_INCLUDED_
#define _NGX_HTTP_TENANT_GUARD_REDIS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


/* a reply as the rest of the module sees it: no hiredis type leaks out */

#define NGX_HTTP_TENANT_GUARD_MAX_PREFIX     64

#define NGX_HTTP_TENANT_GUARD_REPLY_NIL      0
#define NGX_HTTP_TENANT_GUARD_REPLY_STRING   1
#define NGX_HTTP_TENANT_GUARD_REPLY_INTEGER  2
#define NGX_HTTP_TENANT_GUARD_REPLY_ARRAY    3
#define NGX_HTTP_TENANT_GUARD_REPLY_ERROR    4


typedef struct ngx_http_tenant_guard_reply_s  ngx_http_tenant_guard_reply_t;

struct ngx_http_tenant_guard_reply_s {
    ngx_uint_t                      type;
    ngx_str_t                       str;
    long long                       integer;
    size_t                          n;
    ngx_http_tenant_guard_reply_t  *element;
};


typedef struct {
    ngx_str_t                       host;      /* NUL-terminated */
    in_port_t                       port;
    ngx_str_t                      *addrs;     /* host resolved: IP texts,
                                                  NUL-terminated */
    ngx_uint_t                      naddrs;
    ngx_uint_t                      named;     /* host is not an address */
    ngx_str_t                       path;      /* unix:PATH, NUL-terminated */
    ngx_int_t                       db;
    ngx_str_t                       user;
    ngx_str_t                       password;
    ngx_str_t                       prefix;
    ngx_str_t                       channel;   /* set by _store.c */
    ngx_msec_t                      timeout;
} ngx_http_tenant_guard_redis_conf_t;


/*
 * Called once with the reply (copied into the request's pool), or with
 * reply NULL when Redis could not answer in time; the request is then
 * resumed through the phases by the caller's handler.
 */
typedef void (*ngx_http_tenant_guard_redis_pt)(ngx_http_request_t *r,
    void *data, ngx_http_tenant_guard_reply_t *reply);

/* a message on the events channel: the full name of the key that changed */
typedef void (*ngx_http_tenant_guard_event_pt)(ngx_str_t *key);

/* the events link went up (1) or down (0) */
typedef void (*ngx_http_tenant_guard_events_state_pt)(ngx_uint_t up);


char *ngx_http_tenant_guard_redis_parse(ngx_conf_t *cf,
    ngx_http_tenant_guard_redis_conf_t *rcf);
ngx_int_t ngx_http_tenant_guard_redis_init_process(ngx_cycle_t *cycle,
    ngx_http_tenant_guard_redis_conf_t *rcf,
    ngx_http_tenant_guard_event_pt event,
    ngx_http_tenant_guard_events_state_pt state);
void ngx_http_tenant_guard_redis_exit_process(void);

/* NGX_OK: sent, the handler will be called; NGX_ERROR: the link is down */
ngx_int_t ngx_http_tenant_guard_redis_call(ngx_http_request_t *r,
    ngx_http_tenant_guard_redis_pt handler, void *data, int argc,
    const char **argv, const size_t *argvlen);

/*
 * A command of the worker's own, with no request: the reply (in a pool that
 * lives as long as the call) or NULL goes to handler.
 */
typedef void (*ngx_http_tenant_guard_redis_bg_pt)(void *data,
    ngx_http_tenant_guard_reply_t *reply);

ngx_int_t ngx_http_tenant_guard_redis_background(
    ngx_http_tenant_guard_redis_bg_pt handler, void *data, int argc,
    const char **argv, const size_t *argvlen);

/* a command nobody waits for: idle write-behind, PUBLISH */
ngx_int_t ngx_http_tenant_guard_redis_send(int argc, const char **argv,
    const size_t *argvlen);

ngx_uint_t ngx_http_tenant_guard_redis_up(void);
ngx_uint_t ngx_http_tenant_guard_redis_send_errors(void);


#endif /* _NGX_HTTP_TENANT_GUARD_REDIS_H_INCLUDED_ */
