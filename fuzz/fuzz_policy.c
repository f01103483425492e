
/*
 * Copyright (C) tenant_guard authors
 *
 * fuzz_policy: the input is a policy file for tg_policy_set_load(), and
 * also one IAM part ("ipPolicy", "ban", ...) for tg_policy_parse_part().
 * A set that loads is checked: sorted ids, each found by its own id, the
 * default for an unlisted one; then every policy goes through the ip,
 * lifetime and idle checks and its ban settings through a run of failures
 * under the rules of tg_ban.h.
 */


#include <stdint.h>
#include <string.h>

#include <arpa/inet.h>

#include "fixtures.h"
#include "fx.h"
#include "tg_ban.h"
#include "tg_cidr.h"
#include "tg_policy.h"


static unsigned char    v4[3][4], v6[2][16];
static tg_cidr_t        support_items[2];
static tg_cidr_list_t   support = { support_items, 2 };


int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void) argc;
    (void) argv;

    inet_pton(AF_INET, "10.1.2.3", v4[0]);
    inet_pton(AF_INET, "203.0.113.7", v4[1]);
    inet_pton(AF_INET, "0.0.0.0", v4[2]);
    inet_pton(AF_INET6, "2001:db8::1", v6[0]);
    inet_pton(AF_INET6, "::ffff:203.0.113.7", v6[1]);

    if (tg_cidr_parse(&support_items[0], "100.64.0.0/10", 13) != 0
        || tg_cidr_parse(&support_items[1], "fd00::/8", 8) != 0)
    {
        abort();
    }

    return 0;
}


/* a run of failures under b: what tg_ban.h promises of each */
static void
bans(const tg_ban_settings_t *b, int address)
{
    int              i, level;
    long long        now, window;
    tg_ban_state_t   s;

    memset(&s, 0, sizeof(s));
    window = tg_ban_window(b, address);
    FX_CHECK(window >= 0);

    for (i = 0; i < 40; i++) {
        now = FX_NOW + (long long) i * i * 7;

        level = address ? tg_ban_fail_address(&s, b, now)
                        : tg_ban_fail_identifier(&s, b, now);

        if (window == 0) {
            FX_CHECK(level == TG_BAN_NONE && s.count == 0);
            continue;
        }

        FX_CHECK(s.count >= 1 && s.window <= now && s.window > 0);
        FX_CHECK(now - s.window <= window);

        if (address) {
            FX_CHECK(level == TG_BAN_NONE || level == TG_BAN_PERMANENT);

        } else {
            FX_CHECK(level == TG_BAN_NONE || level == TG_BAN_FIRST
                     || level == TG_BAN_SECOND);
            FX_CHECK(b->blocking);
        }

        if (level != TG_BAN_NONE) {
            FX_CHECK(s.until > now && s.level == level);
            FX_CHECK(tg_ban_retry_after(&s, now) == s.until - now);
        }

        FX_CHECK(tg_ban_retry_after(&s, now) >= 0);
        FX_CHECK(tg_ban_expires(&s, b, address) >= s.until);
        FX_CHECK(tg_ban_expires(&s, b, address) >= s.window + window);
    }
}


static void
check_policy(const tg_policy_t *p)
{
    int  i, allowed;

    FX_CHECK(p->ip.n == 0 || p->ip.items != NULL);
    FX_CHECK(p->lifetime >= 0 && p->max_idle >= 0);

    for (i = 0; i < 3; i++) {
        allowed = tg_policy_ip_allowed(p, &support, TG_CIDR_V4, v4[i]);
        FX_CHECK(allowed == 0 || allowed == 1);
        FX_CHECK(allowed || (p->has_ip && p->ip_enabled));
    }

    for (i = 0; i < 2; i++) {
        allowed = tg_policy_ip_allowed(p, NULL, TG_CIDR_V6, v6[i]);
        FX_CHECK(allowed == 0 || allowed == 1);
    }

    FX_CHECK(tg_policy_lifetime_ok(p, FX_NOW - p->lifetime, FX_NOW) == 0);
    FX_CHECK(p->lifetime == 0
             || tg_policy_lifetime_ok(p, FX_NOW - p->lifetime - 1, FX_NOW)
                == -1);
    FX_CHECK(p->lifetime == 0 || tg_policy_lifetime_ok(p, -1, FX_NOW) == -1);
    FX_CHECK(tg_policy_idle_ok(p, FX_NOW - p->max_idle, FX_NOW) == 0);
    FX_CHECK(p->max_idle == 0
             || tg_policy_idle_ok(p, FX_NOW - p->max_idle - 1, FX_NOW) == -1);

    bans(&p->ban, 0);
    bans(&p->ban, 1);
}


static void
load_set(const uint8_t *data, size_t size)
{
    int                 rc;
    size_t              i;
    char                err[512];
    tg_policy_set_t     set;
    const tg_policy_t  *p;

    err[0] = '\0';
    rc = tg_policy_set_load(&set, data, size, err, sizeof(err));

    FX_CHECK(rc == 0 || rc == -1);

    if (rc != 0) {
        FX_CHECK(set.n == 0 && set.entries == NULL);
        FX_CHECK(err[0] != '\0');
        return;
    }

    for (i = 0; i < set.n; i++) {
        FX_CHECK(strlen(set.entries[i].id) == set.entries[i].id_len);

        if (i > 0) {
            size_t  a = set.entries[i - 1].id_len, b = set.entries[i].id_len;
            int     c = memcmp(set.entries[i - 1].id, set.entries[i].id,
                               a < b ? a : b);

            FX_CHECK(c < 0 || (c == 0 && a < b));
        }

        p = tg_policy_set_find(&set, set.entries[i].id,
                               set.entries[i].id_len);
        FX_CHECK(p == &set.entries[i].policy);

        if (!p->has_ban) {
            FX_CHECK(memcmp(&p->ban, &set.def.ban, sizeof(p->ban)) == 0);
        }

        check_policy(p);
    }

    p = tg_policy_set_find(&set, "\xff\xfe-no-such-workspace",
                           sizeof("\xff\xfe-no-such-workspace") - 1);
    FX_CHECK(p == &set.def);
    p = tg_policy_set_find(&set, "", 0);
    FX_CHECK(p == &set.def || (set.n && set.entries[0].id_len == 0));

    check_policy(&set.def);

    tg_policy_set_free(&set);
    FX_CHECK(set.n == 0 && set.entries == NULL);
}


static void
parse_parts(const uint8_t *data, size_t size)
{
    int          i, rc;
    char         err[256];
    tg_policy_t  p;
    static const char  *parts[] = {
        "ipPolicy", "ban", "mfa", "general", "passwordPolicy"
    };

    memset(&p, 0, sizeof(p));

    for (i = 0; i < 5; i++) {
        rc = tg_policy_parse_part(&p, parts[i], data, size, err, sizeof(err));
        FX_CHECK(rc == 0 || rc == -1);
    }

    check_policy(&p);
    tg_policy_free(&p);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    load_set(data, size);
    parse_parts(data, size);

    return 0;
}
