
/*
 * Copyright (C) tenant_guard authors
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "tg_cidr.h"
#include "tg_json.h"
#include "tg_policy.h"


typedef int (*tg_policy_part_pt)(tg_policy_t *p, json_t *json, char *err,
    size_t err_len);


typedef struct {
    const char         *name;
    tg_policy_part_pt   parse;
} tg_policy_part_t;


static int tg_policy_parse(tg_policy_t *p, json_t *json, char *err,
    size_t err_len);
static int tg_policy_part(tg_policy_t *p, const char *name, json_t *json,
    char *err, size_t err_len);
static int tg_policy_ip(tg_policy_t *p, json_t *json, char *err,
    size_t err_len);
static int tg_policy_ban(tg_policy_t *p, json_t *json, char *err,
    size_t err_len);
static int tg_policy_mfa(tg_policy_t *p, json_t *json, char *err,
    size_t err_len);
static int tg_policy_general(tg_policy_t *p, json_t *json, char *err,
    size_t err_len);
static int tg_policy_password(tg_policy_t *p, json_t *json, char *err,
    size_t err_len);
static int tg_policy_known(json_t *json, const char **fields, char *err,
    size_t err_len);
static int tg_policy_bool(json_t *json, const char *name, int *value,
    char *err, size_t err_len);
static int tg_policy_seconds(json_t *json, const char *name,
    long long *value, char *err, size_t err_len);
static int tg_policy_entry_cmp(const void *a, const void *b);


static const tg_policy_part_t  tg_policy_parts[] = {
    { "ipPolicy", tg_policy_ip },
    { "ban", tg_policy_ban },
    { "mfa", tg_policy_mfa },
    { "general", tg_policy_general },
    { "passwordPolicy", tg_policy_password },
    { NULL, NULL }
};


/* the fields of each IAM shape; the edge enforces some, accepts all */

static const char  *tg_policy_ip_fields[] = {
    "enabled", "enableSupportSubnets", "ipPolicy", NULL
};

static const char  *tg_policy_ban_fields[] = {
    "blockingForClientEnabled",
    "firstBanThreshold", "firstBanCollectingTime", "firstBanDuration",
    "secondBanThreshold", "secondBanCollectingTime", "secondBanDuration",
    "permanentBanThreshold", "permanentBanCollectingTime",
    "permanentBanDuration", NULL
};

static const char  *tg_policy_mfa_fields[] = { "required", NULL };

static const char  *tg_policy_general_fields[] = {
    "tokenLifetimeInSeconds", "voucherPoolUuid",
    "allowOverwriteCustomIdentify", "allowOverwriteExternalId",
    "allowEmailChangeFromWebForm",
    "allowToPassCustomIdentifyWithVoucherPool", NULL
};

static const char  *tg_policy_password_fields[] = {
    "attempts", "block", "different", "digits", "expiration",
    "lowerLetters", "maxIdleTime", "maxLength", "minLength", "nextChange",
    "specialChars", "upperLetters", NULL
};


int
tg_policy_set_load(tg_policy_set_t *set, const unsigned char *data,
    size_t len, char *err, size_t err_len)
{
    size_t        n;
    json_t       *doc, *ws, *value;
    const char   *key;
    char          why[256];

    memset(set, 0, sizeof(tg_policy_set_t));

    doc = tg_json_parse_object(data, len, TG_POLICY_MAX_FILE, why,
                               sizeof(why));
    if (doc == NULL) {
        snprintf(err, err_len, "%s", why);
        return -1;
    }

    json_object_foreach(doc, key, value) {
        if (strcmp(key, "workspaces") != 0 && strcmp(key, "default") != 0) {
            snprintf(err, err_len, "unknown field \"%.64s\" (expected "
                     "\"workspaces\" and \"default\")", key);
            goto failed;
        }
    }

    value = json_object_get(doc, "default");
    if (value != NULL
        && tg_policy_parse(&set->def, value, why, sizeof(why)) != 0)
    {
        snprintf(err, err_len, "default: %s", why);
        goto failed;
    }

    ws = json_object_get(doc, "workspaces");
    if (ws != NULL && !json_is_object(ws)) {
        snprintf(err, err_len, "\"workspaces\" is not an object");
        goto failed;
    }

    n = ws ? json_object_size(ws) : 0;

    set->entries = calloc(n ? n : 1, sizeof(tg_policy_entry_t));
    if (set->entries == NULL) {
        snprintf(err, err_len, "out of memory");
        goto failed;
    }

    if (ws != NULL) {
        json_object_foreach(ws, key, value) {
            tg_policy_entry_t  *e = &set->entries[set->n];

            e->id = strdup(key);
            if (e->id == NULL) {
                snprintf(err, err_len, "out of memory");
                goto failed;
            }

            e->id_len = strlen(key);
            set->n++;

            if (tg_policy_parse(&e->policy, value, why, sizeof(why)) != 0) {
                snprintf(err, err_len, "workspace \"%.64s\": %s", key, why);
                goto failed;
            }

            /* "ban" absent: the default policy's applies */

            if (!e->policy.has_ban) {
                e->policy.ban = set->def.ban;
            }
        }
    }

    qsort(set->entries, set->n, sizeof(tg_policy_entry_t),
          tg_policy_entry_cmp);

    json_decref(doc);
    return 0;

failed:

    json_decref(doc);
    tg_policy_set_free(set);
    return -1;
}


void
tg_policy_set_free(tg_policy_set_t *set)
{
    size_t  i;

    for (i = 0; i < set->n; i++) {
        free(set->entries[i].id);
        tg_policy_free(&set->entries[i].policy);
    }

    free(set->entries);
    tg_policy_free(&set->def);

    memset(set, 0, sizeof(tg_policy_set_t));
}


const tg_policy_t *
tg_policy_set_find(const tg_policy_set_t *set, const char *id, size_t len)
{
    int       c;
    size_t    lo, hi, mid, n;

    lo = 0;
    hi = set->n;

    while (lo < hi) {
        mid = (lo + hi) / 2;

        n = len < set->entries[mid].id_len ? len : set->entries[mid].id_len;
        c = memcmp(id, set->entries[mid].id, n);

        if (c == 0) {
            c = (len > set->entries[mid].id_len)
                - (len < set->entries[mid].id_len);
        }

        if (c == 0) {
            return &set->entries[mid].policy;
        }

        if (c < 0) {
            hi = mid;

        } else {
            lo = mid + 1;
        }
    }

    return &set->def;
}


int
tg_policy_parse_part(tg_policy_t *p, const char *part,
    const unsigned char *data, size_t len, char *err, size_t err_len)
{
    int      rc;
    json_t  *json;

    json = tg_json_parse_object(data, len, 65536, err, err_len);
    if (json == NULL) {
        return -1;
    }

    rc = tg_policy_part(p, part, json, err, err_len);
    json_decref(json);

    return rc;
}


int
tg_policy_part_known(const char *part, size_t len)
{
    const tg_policy_part_t  *p;

    for (p = tg_policy_parts; p->name != NULL; p++) {
        if (strlen(p->name) == len && memcmp(p->name, part, len) == 0) {
            return 1;
        }
    }

    return 0;
}


void
tg_policy_free(tg_policy_t *p)
{
    free(p->ip.items);
    p->ip.items = NULL;
    p->ip.n = 0;
}


static int
tg_policy_parse(tg_policy_t *p, json_t *json, char *err, size_t err_len)
{
    json_t      *value;
    const char  *key;

    if (!json_is_object(json)) {
        snprintf(err, err_len, "the policy is not an object");
        return -1;
    }

    json_object_foreach(json, key, value) {
        if (tg_policy_part(p, key, value, err, err_len) != 0) {
            return -1;
        }
    }

    return 0;
}


static int
tg_policy_part(tg_policy_t *p, const char *name, json_t *json, char *err,
    size_t err_len)
{
    size_t                   n;
    char                     why[200];
    const tg_policy_part_t  *part;

    for (part = tg_policy_parts; part->name != NULL; part++) {
        if (strcmp(part->name, name) == 0) {
            break;
        }
    }

    if (part->name == NULL) {
        snprintf(err, err_len, "unknown field \"%.64s\"", name);
        return -1;
    }

    if (json_is_null(json)) {
        return 0;
    }

    if (!json_is_object(json)) {
        snprintf(err, err_len, "%s: not an object", name);
        return -1;
    }

    if (part->parse(p, json, why, sizeof(why)) != 0) {
        n = (size_t) snprintf(err, err_len, "%s", name);

        if (n < err_len) {
            snprintf(err + n, err_len - n, "%s%s", why[0] == '[' ? "" : ".",
                     why);
        }

        return -1;
    }

    return 0;
}


static int
tg_policy_ip(tg_policy_t *p, json_t *json, char *err, size_t err_len)
{
    int      enabled, support;
    size_t   i, n;
    json_t  *list, *one;

    if (tg_policy_known(json, tg_policy_ip_fields, err, err_len) != 0) {
        return -1;
    }

    enabled = 0;
    support = 0;

    if (tg_policy_bool(json, "enabled", &enabled, err, err_len) != 0
        || tg_policy_bool(json, "enableSupportSubnets", &support, err,
                          err_len)
           != 0)
    {
        return -1;
    }

    list = json_object_get(json, "ipPolicy");
    if (list != NULL && !json_is_null(list) && !json_is_array(list)) {
        snprintf(err, err_len, "ipPolicy: not an array");
        return -1;
    }

    n = json_is_array(list) ? json_array_size(list) : 0;

    free(p->ip.items);
    p->ip.n = 0;
    p->ip.items = calloc(n ? n : 1, sizeof(tg_cidr_t));
    if (p->ip.items == NULL) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }

    for (i = 0; i < n; i++) {
        one = json_array_get(list, i);

        if (!json_is_string(one)
            || tg_cidr_parse(&p->ip.items[i], json_string_value(one),
                             json_string_length(one))
               != 0)
        {
            snprintf(err, err_len, "ipPolicy[%zu]: \"%.64s\" is not an IPv4 "
                     "or IPv6 address or CIDR range", i,
                     json_is_string(one) ? json_string_value(one) : "?");
            return -1;
        }

        p->ip.n++;
    }

    p->has_ip = 1;
    p->ip_enabled = enabled;
    p->ip_support = support;

    return 0;
}


static int
tg_policy_ban(tg_policy_t *p, json_t *json, char *err, size_t err_len)
{
    int                 blocking;
    tg_ban_settings_t  *b;

    if (tg_policy_known(json, tg_policy_ban_fields, err, err_len) != 0) {
        return -1;
    }

    b = &p->ban;
    memset(b, 0, sizeof(tg_ban_settings_t));
    blocking = 0;

    if (tg_policy_bool(json, "blockingForClientEnabled", &blocking, err,
                       err_len) != 0
        || tg_policy_seconds(json, "firstBanThreshold", &b->first.threshold,
                             err, err_len) != 0
        || tg_policy_seconds(json, "firstBanCollectingTime",
                             &b->first.collecting, err, err_len) != 0
        || tg_policy_seconds(json, "firstBanDuration", &b->first.duration,
                             err, err_len) != 0
        || tg_policy_seconds(json, "secondBanThreshold",
                             &b->second.threshold, err, err_len) != 0
        || tg_policy_seconds(json, "secondBanCollectingTime",
                             &b->second.collecting, err, err_len) != 0
        || tg_policy_seconds(json, "secondBanDuration", &b->second.duration,
                             err, err_len) != 0
        || tg_policy_seconds(json, "permanentBanThreshold",
                             &b->permanent.threshold, err, err_len) != 0
        || tg_policy_seconds(json, "permanentBanCollectingTime",
                             &b->permanent.collecting, err, err_len) != 0
        || tg_policy_seconds(json, "permanentBanDuration",
                             &b->permanent.duration, err, err_len) != 0)
    {
        return -1;
    }

    b->blocking = blocking;
    p->has_ban = 1;

    return 0;
}


static int
tg_policy_mfa(tg_policy_t *p, json_t *json, char *err, size_t err_len)
{
    int  required;

    if (tg_policy_known(json, tg_policy_mfa_fields, err, err_len) != 0) {
        return -1;
    }

    required = 0;

    if (tg_policy_bool(json, "required", &required, err, err_len) != 0) {
        return -1;
    }

    p->mfa_required = required;

    return 0;
}


static int
tg_policy_general(tg_policy_t *p, json_t *json, char *err, size_t err_len)
{
    if (tg_policy_known(json, tg_policy_general_fields, err, err_len) != 0) {
        return -1;
    }

    p->lifetime = 0;

    return tg_policy_seconds(json, "tokenLifetimeInSeconds", &p->lifetime,
                             err, err_len);
}


static int
tg_policy_password(tg_policy_t *p, json_t *json, char *err, size_t err_len)
{
    if (tg_policy_known(json, tg_policy_password_fields, err, err_len) != 0)
    {
        return -1;
    }

    p->max_idle = 0;

    return tg_policy_seconds(json, "maxIdleTime", &p->max_idle, err,
                             err_len);
}


static int
tg_policy_known(json_t *json, const char **fields, char *err, size_t err_len)
{
    size_t       i;
    json_t      *value;
    const char  *key;

    json_object_foreach(json, key, value) {
        for (i = 0; fields[i] != NULL; i++) {
            if (strcmp(fields[i], key) == 0) {
                break;
            }
        }

        if (fields[i] == NULL) {
            snprintf(err, err_len, "%.64s: unknown field", key);
            return -1;
        }
    }

    return 0;
}


static int
tg_policy_bool(json_t *json, const char *name, int *value, char *err,
    size_t err_len)
{
    json_t  *v;

    v = json_object_get(json, name);
    if (v == NULL || json_is_null(v)) {
        return 0;
    }

    if (!json_is_boolean(v)) {
        snprintf(err, err_len, "%s: not a boolean", name);
        return -1;
    }

    *value = json_is_true(v);

    return 0;
}


static int
tg_policy_seconds(json_t *json, const char *name, long long *value,
    char *err, size_t err_len)
{
    json_t  *v;

    v = json_object_get(json, name);
    if (v == NULL || json_is_null(v)) {
        return 0;
    }

    if (!json_is_integer(v) || json_integer_value(v) < 0
        || json_integer_value(v) > 100LL * 365 * 86400)
    {
        snprintf(err, err_len, "%s: not a whole number from 0 to 3153600000",
                 name);
        return -1;
    }

    *value = (long long) json_integer_value(v);

    return 0;
}


static int
tg_policy_entry_cmp(const void *a, const void *b)
{
    int                       c;
    size_t                    n;
    const tg_policy_entry_t  *x = a, *y = b;

    n = x->id_len < y->id_len ? x->id_len : y->id_len;
    c = memcmp(x->id, y->id, n);

    if (c != 0) {
        return c;
    }

    return (x->id_len > y->id_len) - (x->id_len < y->id_len);
}


int
tg_policy_ip_allowed(const tg_policy_t *p, const tg_cidr_list_t *support,
    int family, const unsigned char *addr)
{
    if (!p->has_ip || !p->ip_enabled) {
        return 1;
    }

    if (tg_cidr_match(&p->ip, family, addr)) {
        return 1;
    }

    return p->ip_support && support != NULL
           && tg_cidr_match(support, family, addr);
}


int
tg_policy_lifetime_ok(const tg_policy_t *p, long long iat, long long now)
{
    if (p->lifetime == 0) {
        return 0;
    }

    if (iat < 0 || now - iat > p->lifetime) {
        return -1;
    }

    return 0;
}


int
tg_policy_idle_ok(const tg_policy_t *p, long long last, long long now)
{
    if (p->max_idle == 0 || now - last <= p->max_idle) {
        return 0;
    }

    return -1;
}


int
tg_policy_idle_touch(tg_idle_t *s, const tg_policy_t *p, long long since,
    long long now)
{
    if (s->last == 0) {
        s->last = since;
    }

    if (tg_policy_idle_ok(p, s->last, now) != 0) {
        return -1;
    }

    s->last = now;

    if (now - s->written < 1) {
        return 0;
    }

    s->written = now;

    return 1;
}
