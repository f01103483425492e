
/*
 * Copyright (C) tenant_guard authors
 */


#ifndef _TG_POLICY_H_INCLUDED_
#define _TG_POLICY_H_INCLUDED_


#include <stddef.h>

#include "tg_cidr.h"


#define TG_POLICY_MAX_FILE   (16 * 1024 * 1024)


typedef struct {
    long long         threshold;
    long long         collecting;    /* seconds */
    long long         duration;      /* seconds */
} tg_ban_level_t;


typedef struct {
    int               blocking;      /* blockingForClientEnabled */
    tg_ban_level_t    first;
    tg_ban_level_t    second;
    tg_ban_level_t    permanent;
} tg_ban_settings_t;


typedef struct {
    unsigned          has_ip:1;
    unsigned          ip_enabled:1;
    unsigned          ip_support:1;
    unsigned          has_ban:1;
    unsigned          mfa_required:1;

    tg_cidr_list_t    ip;
    tg_ban_settings_t ban;
    long long         lifetime;      /* 0: no workspace limit */
    long long         max_idle;      /* 0: no idle sign-out */
} tg_policy_t;


typedef struct {
    char             *id;
    size_t            id_len;
    tg_policy_t       policy;
} tg_policy_entry_t;


typedef struct {
    tg_policy_entry_t *entries;      /* sorted by id */
    size_t             n;
    tg_policy_t        def;
} tg_policy_set_t;


/*
 * A policy file: {"workspaces": {"ID": POLICY, ...}, "default": POLICY}.
 * Errors name the workspace and the field.  Returns 0, or -1 with the
 * reason in err; the set is then empty.
 */
int tg_policy_set_load(tg_policy_set_t *set, const unsigned char *data,
    size_t len, char *err, size_t err_len);
void tg_policy_set_free(tg_policy_set_t *set);

/* the workspace's policy, its missing "ban" taken from the default */
const tg_policy_t *tg_policy_set_find(const tg_policy_set_t *set,
    const char *id, size_t len);

/* one part ("ipPolicy", "ban", ...) as the IAM API shapes it, into p */
int tg_policy_parse_part(tg_policy_t *p, const char *part,
    const unsigned char *data, size_t len, char *err, size_t err_len);

/* 1 when the edge knows the part (the IAM has more: those are ignored) */
int tg_policy_part_known(const char *part, size_t len);
void tg_policy_free(tg_policy_t *p);

int tg_policy_ip_allowed(const tg_policy_t *p, const tg_cidr_list_t *support,
    int family, const unsigned char *addr);

/* 0: within the workspace's token lifetime; -1: too old or no iat */
int tg_policy_lifetime_ok(const tg_policy_t *p, long long iat,
    long long now);

/* 0: used recently enough; -1: idle longer than maxIdleTime */
int tg_policy_idle_ok(const tg_policy_t *p, long long last, long long now);


/* a token's last use, as a host keeps it */
typedef struct {
    long long         last;          /* 0: none known */
    long long         written;       /* last told to the other hosts */
} tg_idle_t;

/*
 * A use at now of a token whose last use is s->last, or "since" (its iat)
 * when none is known.  Returns -1 when the token has been idle too long,
 * leaving the use unrecorded; otherwise records it and returns 1 when at
 * least a second has passed since the use was last told to the other
 * hosts (s->written is then now), 0 when not.
 */
int tg_policy_idle_touch(tg_idle_t *s, const tg_policy_t *p, long long since,
    long long now);


#endif /* _TG_POLICY_H_INCLUDED_ */
