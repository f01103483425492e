
/*
 * Copyright (C) tenant_guard authors
 *
 * Policy files and IAM parts (tg_policy.c): parsing, lookup, inheritance
 * and the ip/lifetime/idle checks.
 */


#include <string.h>

#include <arpa/inet.h>

#include "tap.h"
#include "tt.h"
#include "tg_cidr.h"
#include "tg_policy.h"


TAP_GLOBALS;


#define T0  1700000000LL


static char  err[512];


/* loads text into set from an exact-size heap copy */
static int
load(tg_policy_set_t *set, const char *text)
{
    err[0] = '\0';

    return tg_policy_set_load(set, (const unsigned char *)
                              tt_strndup(text, strlen(text)), strlen(text),
                              err, sizeof(err));
}


/* loads and frees; -1 and the error, or 0 */
static int
try(const char *text)
{
    int              rc;
    tg_policy_set_t  set;

    rc = load(&set, text);

    if (rc != 0 && (set.n != 0 || set.entries != NULL)) {
        diag("a failed load left entries behind");
        rc = -2;
    }

    tg_policy_set_free(&set);

    return rc;
}


/* a workspace policy of one part: {"workspaces":{"w":{PART}}} */
static int
try_ws(const char *part)
{
    return try(tt_printf("{\"workspaces\":{\"w\":{%s}}}", part));
}


static const tg_policy_t *
find(const tg_policy_set_t *set, const char *id)
{
    return tg_policy_set_find(set, id, strlen(id));
}


static const char  readme_example[] =
    "{\n"
    "  \"default\": {\n"
    "    \"ban\": {\n"
    "      \"blockingForClientEnabled\": true,\n"
    "      \"firstBanThreshold\": 5,\n"
    "      \"firstBanCollectingTime\": 300,\n"
    "      \"firstBanDuration\": 600,\n"
    "      \"secondBanThreshold\": 10,\n"
    "      \"secondBanCollectingTime\": 900,\n"
    "      \"secondBanDuration\": 3600,\n"
    "      \"permanentBanThreshold\": 50,\n"
    "      \"permanentBanCollectingTime\": 3600,\n"
    "      \"permanentBanDuration\": 86400\n"
    "    },\n"
    "    \"general\": {\"tokenLifetimeInSeconds\": 86400}\n"
    "  },\n"
    "  \"workspaces\": {\n"
    "    \"acme\": {\n"
    "      \"ipPolicy\": {\n"
    "        \"enabled\": true,\n"
    "        \"enableSupportSubnets\": true,\n"
    "        \"ipPolicy\": [\"203.0.113.7\", \"198.51.100.0/24\", "
    "\"2001:db8::/48\"]\n"
    "      },\n"
    "      \"mfa\": {\"required\": true},\n"
    "      \"general\": {\"tokenLifetimeInSeconds\": 3600},\n"
    "      \"passwordPolicy\": {\"maxIdleTime\": 900, \"minLength\": 12}\n"
    "    },\n"
    "    \"globex\": {\n"
    "      \"ban\": {\n"
    "        \"blockingForClientEnabled\": false,\n"
    "        \"permanentBanThreshold\": 20,\n"
    "        \"permanentBanCollectingTime\": 600,\n"
    "        \"permanentBanDuration\": 3600\n"
    "      },\n"
    "      \"mfa\": null\n"
    "    },\n"
    "    \"initech\": {}\n"
    "  }\n"
    "}\n";


static void
test_example(void)
{
    tg_policy_set_t     set;
    const tg_policy_t  *p;

    is_int(load(&set, readme_example), 0, "the README's example loads");
    is_int(set.n, 3, "three workspaces");

    p = find(&set, "acme");
    ok(p != &set.def, "acme is found");
    ok(p->has_ip && p->ip_enabled && p->ip_support, "acme: ip allowlist "
       "with support subnets");
    is_int(p->ip.n, 3, "acme: three ranges");
    ok(p->mfa_required, "acme: mfa required");
    is_int(p->lifetime, 3600, "acme: its own lifetime");
    is_int(p->max_idle, 900, "acme: maxIdleTime 900");
    ok(!p->has_ban, "acme: no ban of its own");
    is_int(p->ban.first.threshold, 5, "acme: the default's ban (first "
           "threshold 5)");
    ok(p->ban.blocking, "acme: the default's blocking");
    is_int(p->ban.permanent.duration, 86400, "acme: the default's permanent "
           "duration");

    p = find(&set, "globex");
    ok(p->has_ban, "globex: its own ban");
    ok(!p->ban.blocking, "globex: blocking off");
    is_int(p->ban.permanent.threshold, 20, "globex: permanent threshold 20");
    is_int(p->ban.first.threshold, 0, "globex: no first level (not taken "
           "from default)");
    ok(!p->mfa_required, "globex: \"mfa\": null is absent");
    is_int(p->lifetime, 0, "globex: no lifetime (not taken from default)");

    p = find(&set, "initech");
    ok(p != &set.def, "initech is found");
    is_int(p->ban.first.threshold, 5, "initech: the default's ban");
    is_int(p->lifetime, 0, "initech: no lifetime");
    ok(!p->has_ip && !p->mfa_required, "initech: nothing else");

    p = find(&set, "other");
    ok(p == &set.def, "an unlisted workspace gets the default");
    is_int(p->lifetime, 86400, "the default's lifetime");

    p = tg_policy_set_find(&set, "", 0);
    ok(p == &set.def, "the empty id gets the default");

    p = tg_policy_set_find(&set, "acmeX", 4);
    ok(p == find(&set, "acme"), "the id is read for len bytes only");

    tg_policy_set_free(&set);
    ok(set.n == 0 && set.entries == NULL, "free empties the set");
    tg_policy_set_free(&set);
    ok(1, "free twice is harmless");
}


static void
test_lookup(void)
{
    size_t              i;
    tg_policy_set_t     set;
    const tg_policy_t  *p;
    static const char  *ids[] = {
        "a", "ab", "abc", "b", "aab", "A", "a b", "\xc3\xa9t\xc3\xa9", "1",
        "10", "2"
    };

    is_int(load(&set, "{\"workspaces\":{"
                "\"ab\":{\"general\":{\"tokenLifetimeInSeconds\":2}},"
                "\"a\":{\"general\":{\"tokenLifetimeInSeconds\":1}},"
                "\"abc\":{\"general\":{\"tokenLifetimeInSeconds\":3}},"
                "\"b\":{\"general\":{\"tokenLifetimeInSeconds\":4}},"
                "\"aab\":{\"general\":{\"tokenLifetimeInSeconds\":5}},"
                "\"A\":{\"general\":{\"tokenLifetimeInSeconds\":6}},"
                "\"a b\":{\"general\":{\"tokenLifetimeInSeconds\":7}},"
                "\"\\u00e9t\\u00e9\":{\"general\":"
                "{\"tokenLifetimeInSeconds\":8}},"
                "\"1\":{\"general\":{\"tokenLifetimeInSeconds\":9}},"
                "\"10\":{\"general\":{\"tokenLifetimeInSeconds\":10}},"
                "\"2\":{\"general\":{\"tokenLifetimeInSeconds\":11}}},"
                "\"default\":{\"general\":{\"tokenLifetimeInSeconds\":99}}}"),
           0, "a set of ids that are prefixes of each other loads");

    for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        p = find(&set, ids[i]);
        is_int(p->lifetime, (long long) i + 1, "workspace \"%s\" finds its "
               "own policy", ids[i]);
    }

    is_int(find(&set, "abcd")->lifetime, 99, "\"abcd\" (longer than \"abc\") "
           "is the default");
    is_int(find(&set, "aa")->lifetime, 99, "\"aa\" (a prefix of \"aab\") is "
           "the default");
    is_int(find(&set, "a ")->lifetime, 99, "\"a \" is the default");
    is_int(find(&set, "B")->lifetime, 99, "the lookup is case-sensitive");
    is_int(find(&set, "0")->lifetime, 99, "\"0\" is the default");
    is_int(find(&set, "100")->lifetime, 99, "\"100\" is the default");
    is_int(tg_policy_set_find(&set, "a\0b", 3)->lifetime, 99,
           "an id with a NUL is the default");

    tg_policy_set_free(&set);

    /* no workspaces, no default: an empty default */

    is_int(load(&set, "{}"), 0, "{} loads");
    p = find(&set, "x");
    ok(p == &set.def && p->lifetime == 0 && !p->has_ip && !p->has_ban
       && p->ban.permanent.threshold == 0, "{}: an empty default for any "
       "workspace");
    tg_policy_set_free(&set);

    is_int(load(&set, "{\"workspaces\":{}}"), 0, "empty workspaces load");
    ok(find(&set, "") == &set.def, "and every lookup gets the default");
    tg_policy_set_free(&set);
}


static void
test_inheritance(void)
{
    tg_policy_set_t     set;
    const tg_policy_t  *p;

    /* "default" after "workspaces" in the file: still inherited */

    is_int(load(&set, "{\"workspaces\":{\"w\":{},\"x\":{\"ban\":null},"
                "\"y\":{\"ban\":{}},\"z\":{\"ban\":{\"firstBanThreshold\":"
                "7}}},\"default\":{\"ban\":{\"firstBanThreshold\":3,"
                "\"blockingForClientEnabled\":true},\"mfa\":{\"required\":"
                "true}}}"), 0, "default after workspaces loads");

    p = find(&set, "w");
    is_int(p->ban.first.threshold, 3, "no ban: the default's, though "
           "\"default\" comes last");
    ok(p->ban.blocking, "the default's blocking too");
    ok(!p->mfa_required, "mfa is not inherited");

    p = find(&set, "x");
    is_int(p->ban.first.threshold, 3, "\"ban\": null is the default's ban");

    p = find(&set, "y");
    ok(p->has_ban && p->ban.first.threshold == 0 && !p->ban.blocking,
       "\"ban\": {} is an empty ban, not the default's");

    p = find(&set, "z");
    ok(p->ban.first.threshold == 7 && !p->ban.blocking,
       "an own ban is not merged with the default's");

    tg_policy_set_free(&set);
}


static void
test_refusals(void)
{
    int  rc;

    /* the document */

    ok(try("") == -1, "an empty file is refused");
    ok(try("[]") == -1, "an array is refused");
    like(err, "not an object", "the error says \"not an object\"");
    ok(try("{} x") == -1, "trailing data is refused");
    ok(try("{\"workspaces\":{},\"workspaces\":{}}") == -1,
       "a duplicate top-level key is refused");
    ok(try("{\"workspaces\":{\"w\":{},\"w\":{}}}") == -1,
       "a workspace listed twice is refused");
    like(err, "duplicate", "the error says \"duplicate\"");
    ok(try("{\"workspace\":{}}") == -1, "an unknown top-level field is "
       "refused");
    like(err, "unknown field \"workspace\" (expected \"workspaces\" and "
         "\"default\")", "the error names it");
    ok(try("{\"workspaces\":[]}") == -1, "workspaces as an array is refused");
    like(err, "\"workspaces\" is not an object", "the error says so");
    ok(try("{\"workspaces\":{\"w\":[]}}") == -1, "a workspace policy that "
       "is not an object is refused");
    like(err, "workspace \"w\": the policy is not an object",
         "the error names the workspace");
    ok(try("{\"workspaces\":{\"w\":null}}") == -1, "a workspace policy that "
       "is null is refused");
    ok(try("{\"default\":5}") == -1, "a default that is not an object is "
       "refused");
    like(err, "default: ", "the error names the default");

    /* parts */

    ok(try_ws("\"foo\":{}") == -1, "an unknown part is refused");
    like(err, "workspace \"w\": unknown field \"foo\"", "the error names "
         "the part");
    ok(try_ws("\"mfa\":true") == -1, "a part that is not an object is "
       "refused");
    like(err, "mfa: not an object", "the error says so");
    ok(try_ws("\"general\":{\"tokenLifetime\":5}") == -1,
       "an unknown field of a part is refused");
    like(err, "workspace \"w\": general.tokenLifetime: unknown field",
         "the error is the README's");
    ok(try_ws("\"mfa\":{\"required\":\"yes\"}") == -1, "a string for a "
       "boolean is refused");
    like(err, "workspace \"w\": mfa.required: not a boolean",
         "the error is the README's");
    ok(try_ws("\"mfa\":{\"required\":1}") == -1, "a number for a boolean is "
       "refused");
    ok(try_ws("\"ipPolicy\":{\"enabled\":\"true\"}") == -1,
       "ipPolicy.enabled as a string is refused");
    ok(try_ws("\"ipPolicy\":{\"enableSupportSubnets\":0}") == -1,
       "enableSupportSubnets as a number is refused");
    ok(try_ws("\"ipPolicy\":{\"ipPolicy\":\"10.0.0.0/8\"}") == -1,
       "ipPolicy.ipPolicy as a string is refused");
    like(err, "ipPolicy.ipPolicy: not an array", "the error says so");
    ok(try_ws("\"ipPolicy\":{\"ipPolicy\":[\"10.0.0.0/33\"]}") == -1,
       "a /33 in ipPolicy is refused");
    like(err, "workspace \"w\": ipPolicy.ipPolicy[0]: \"10.0.0.0/33\" is not "
         "an IPv4 or IPv6 address or CIDR range", "the error is the README's");
    ok(try_ws("\"ipPolicy\":{\"ipPolicy\":[\"1.2.3.4\",5]}") == -1,
       "a number in ipPolicy is refused");
    like(err, "ipPolicy.ipPolicy[1]", "the error names the index");
    ok(try_ws("\"ipPolicy\":{\"ipPolicy\":[null]}") == -1,
       "null in ipPolicy is refused");
    ok(try_ws("\"ipPolicy\":{\"ipPolicy\":[\"\"]}") == -1,
       "an empty string in ipPolicy is refused");

    ok(try("{\"default\":{\"ban\":{\"firstBanThreshold\":-1}}}") == -1,
       "a negative number is refused");
    like(err, "default: ban.firstBanThreshold: not a whole number from 0 to "
         "3153600000", "the error is the README's");
    ok(try_ws("\"ban\":{\"firstBanDuration\":3153600001}") == -1,
       "3153600001 is refused");
    ok(try_ws("\"ban\":{\"firstBanDuration\":3153600000}") == 0,
       "3153600000 is accepted");
    ok(try_ws("\"ban\":{\"secondBanThreshold\":1.5}") == -1,
       "a fraction is refused");
    ok(try_ws("\"ban\":{\"secondBanThreshold\":1.0}") == -1,
       "a real, even a whole one, is refused");
    ok(try_ws("\"ban\":{\"permanentBanDuration\":\"60\"}") == -1,
       "a number as a string is refused");
    ok(try_ws("\"ban\":{\"permanentBanDuration\":true}") == -1,
       "a boolean for a number is refused");
    ok(try_ws("\"ban\":{\"blockingForClientEnabled\":null,"
              "\"firstBanThreshold\":null}") == 0,
       "null ban fields are absent");
    ok(try_ws("\"general\":{\"tokenLifetimeInSeconds\":"
              "99999999999999999999}") == -1,
       "an integer too large for JSON parsing is refused");
    ok(try_ws("\"passwordPolicy\":{\"maxIdleTime\":-5}") == -1,
       "a negative maxIdleTime is refused");
    ok(try_ws("\"passwordPolicy\":{\"maxidletime\":5}") == -1,
       "field names are case-sensitive");

    /* the error buffer is honoured even when small */

    {
        tg_policy_set_t  set;
        char             small[8];
        const char      *text = "{\"workspaces\":{\"a-rather-long-id\":"
                                "{\"mfa\":{\"required\":7}}}}";

        memset(small, 'X', sizeof(small));
        rc = tg_policy_set_load(&set, (const unsigned char *) text,
                                strlen(text), small, sizeof(small));
        ok(rc == -1 && memchr(small, '\0', sizeof(small)) != NULL,
           "a small error buffer gets a NUL-terminated prefix");
        tg_policy_set_free(&set);
    }

    /* nesting and size */

    ok(try(tt_printf("{\"workspaces\":{\"w\":{\"ipPolicy\":{\"ipPolicy\":"
                     "%.13s%.13s}}}}", "[[[[[[[[[[[[[", "]]]]]]]]]]]]]")) == -1,
       "nesting deeper than 16 levels is refused");
    like(err, "nested deeper than 16 levels", "the error says so");
    ok(try(tt_printf("{\"workspaces\":{\"w\":{\"ipPolicy\":{\"ipPolicy\":"
                     "%.12s%.12s}}}}", "[[[[[[[[[[[[[", "]]]]]]]]]]]]]")) == -1
       && strstr(err, "nested") == NULL,
       "16 levels are not refused for their depth");
}


static void
test_null_and_ignored(void)
{
    tg_policy_set_t     set;
    const tg_policy_t  *p;

    is_int(load(&set, "{\"workspaces\":{\"w\":{"
                "\"ipPolicy\":null,\"ban\":null,\"mfa\":null,"
                "\"general\":null,\"passwordPolicy\":null}},"
                "\"default\":{\"mfa\":{\"required\":null}}}"), 0,
           "every part null loads");
    p = find(&set, "w");
    ok(!p->has_ip && !p->mfa_required && p->lifetime == 0
       && p->max_idle == 0, "null parts are absent");
    ok(!set.def.mfa_required, "\"required\": null is absent");
    tg_policy_set_free(&set);

    is_int(load(&set, "{\"workspaces\":{\"w\":{\"ipPolicy\":{"
                "\"enabled\":true,\"ipPolicy\":null}}}}"), 0,
           "\"ipPolicy\": null inside ipPolicy loads");
    p = find(&set, "w");
    ok(p->has_ip && p->ip_enabled && p->ip.n == 0, "an enabled, empty "
       "allowlist");
    tg_policy_set_free(&set);

    is_int(load(&set, "{\"workspaces\":{\"w\":{"
                "\"general\":{\"tokenLifetimeInSeconds\":60,"
                "\"voucherPoolUuid\":\"9b1deb4d\","
                "\"allowOverwriteCustomIdentify\":true,"
                "\"allowOverwriteExternalId\":false,"
                "\"allowEmailChangeFromWebForm\":{\"any\":[1,2]},"
                "\"allowToPassCustomIdentifyWithVoucherPool\":null},"
                "\"passwordPolicy\":{\"maxIdleTime\":30,\"attempts\":3,"
                "\"block\":true,\"different\":\"x\",\"digits\":1,"
                "\"expiration\":90,\"lowerLetters\":1,\"maxLength\":64,"
                "\"minLength\":12,\"nextChange\":1,\"specialChars\":1,"
                "\"upperLetters\":1}}}}"), 0,
           "the IAM fields that are accepted and ignored load, any type");
    p = find(&set, "w");
    ok(p->lifetime == 60 && p->max_idle == 30, "and the enforced ones are "
       "read");
    tg_policy_set_free(&set);
}


static void
test_parts(void)
{
    int          rc;
    tg_policy_t  p;
    const char  *text;

    memset(&p, 0, sizeof(p));

    text = "{\"enabled\":true,\"ipPolicy\":[\"10.0.0.0/8\",\"::1\"]}";
    rc = tg_policy_parse_part(&p, "ipPolicy", (const unsigned char *) text,
                              strlen(text), err, sizeof(err));
    ok(rc == 0 && p.has_ip && p.ip_enabled && p.ip.n == 2,
       "parse_part ipPolicy");

    text = "{\"enabled\":false,\"ipPolicy\":[\"192.0.2.1\"]}";
    rc = tg_policy_parse_part(&p, "ipPolicy", (const unsigned char *) text,
                              strlen(text), err, sizeof(err));
    ok(rc == 0 && !p.ip_enabled && p.ip.n == 1, "a second ipPolicy replaces "
       "the first (no leak)");

    text = "{\"ipPolicy\":[\"192.0.2.1\",\"bad\"]}";
    rc = tg_policy_parse_part(&p, "ipPolicy", (const unsigned char *) text,
                              strlen(text), err, sizeof(err));
    ok(rc == -1, "a bad ipPolicy part is refused");
    like(err, "ipPolicy.ipPolicy[1]", "the error names the entry");

    text = "{\"required\":true}";
    rc = tg_policy_parse_part(&p, "mfa", (const unsigned char *) text,
                              strlen(text), err, sizeof(err));
    ok(rc == 0 && p.mfa_required, "parse_part mfa");

    text = "{\"firstBanThreshold\":3}";
    rc = tg_policy_parse_part(&p, "ban", (const unsigned char *) text,
                              strlen(text), err, sizeof(err));
    ok(rc == 0 && p.has_ban && p.ban.first.threshold == 3, "parse_part ban");

    text = "{\"tokenLifetimeInSeconds\":120}";
    rc = tg_policy_parse_part(&p, "general", (const unsigned char *) text,
                              strlen(text), err, sizeof(err));
    ok(rc == 0 && p.lifetime == 120, "parse_part general");

    text = "{\"maxIdleTime\":45}";
    rc = tg_policy_parse_part(&p, "passwordPolicy",
                              (const unsigned char *) text, strlen(text), err,
                              sizeof(err));
    ok(rc == 0 && p.max_idle == 45, "parse_part passwordPolicy");

    text = "{}";
    rc = tg_policy_parse_part(&p, "general", (const unsigned char *) text,
                              strlen(text), err, sizeof(err));
    ok(rc == 0 && p.lifetime == 0, "an empty general clears the lifetime");

    text = "{}";
    rc = tg_policy_parse_part(&p, "bogus", (const unsigned char *) text,
                              strlen(text), err, sizeof(err));
    ok(rc == -1, "an unknown part name is refused");
    like(err, "unknown field \"bogus\"", "the error names it");

    ok(tg_policy_part_known("ipPolicy", 8) && tg_policy_part_known("ban", 3)
       && tg_policy_part_known("mfa", 3) && tg_policy_part_known("general", 7)
       && tg_policy_part_known("passwordPolicy", 14),
       "part_known: the five parts the edge enforces");
    ok(!tg_policy_part_known("bogus", 5) && !tg_policy_part_known("ban", 2)
       && !tg_policy_part_known("bans", 4) && !tg_policy_part_known("", 0)
       && !tg_policy_part_known("MFA", 3),
       "part_known: others (the IAM's own), a prefix, a longer name, case");

    text = "null";
    rc = tg_policy_parse_part(&p, "mfa", (const unsigned char *) text,
                              strlen(text), err, sizeof(err));
    ok(rc == -1, "a part that is not a JSON object is refused");

    text = "{\"required\":true,\"required\":false}";
    rc = tg_policy_parse_part(&p, "mfa", (const unsigned char *) text,
                              strlen(text), err, sizeof(err));
    ok(rc == -1, "a part with a duplicate field is refused");

    tg_policy_free(&p);
    ok(p.ip.items == NULL && p.ip.n == 0, "tg_policy_free empties the list");
}


static void
test_ip(void)
{
    unsigned char       a[16];
    tg_cidr_t           sup[1];
    tg_cidr_list_t      support;
    tg_policy_set_t     set;
    const tg_policy_t  *p;

    tg_cidr_parse(&sup[0], "100.64.0.0/10", 13);
    support.items = sup;
    support.n = 1;

    is_int(load(&set, "{\"workspaces\":{"
                "\"on\":{\"ipPolicy\":{\"enabled\":true,"
                "\"ipPolicy\":[\"203.0.113.7\",\"2001:db8::/48\"]}},"
                "\"sup\":{\"ipPolicy\":{\"enabled\":true,"
                "\"enableSupportSubnets\":true,\"ipPolicy\":[]}},"
                "\"off\":{\"ipPolicy\":{\"enabled\":false,"
                "\"ipPolicy\":[\"203.0.113.7\"]}},"
                "\"empty\":{\"ipPolicy\":{\"enabled\":true}},"
                "\"none\":{}}}"), 0, "an ip policy set loads");

    p = find(&set, "on");
    inet_pton(AF_INET, "203.0.113.7", a);
    ok(tg_policy_ip_allowed(p, &support, TG_CIDR_V4, a), "a listed address "
       "is allowed");
    inet_pton(AF_INET, "203.0.113.8", a);
    ok(!tg_policy_ip_allowed(p, &support, TG_CIDR_V4, a), "another address "
       "is not");
    inet_pton(AF_INET6, "::ffff:203.0.113.7", a);
    ok(tg_policy_ip_allowed(p, &support, TG_CIDR_V6, a), "the mapped form "
       "of a listed address is allowed");
    inet_pton(AF_INET6, "2001:db8:0:1::1", a);
    ok(tg_policy_ip_allowed(p, &support, TG_CIDR_V6, a), "an address in a "
       "listed IPv6 range is allowed");
    inet_pton(AF_INET, "100.64.1.1", a);
    ok(!tg_policy_ip_allowed(p, &support, TG_CIDR_V4, a), "support subnets "
       "are not used unless enabled");

    p = find(&set, "sup");
    ok(tg_policy_ip_allowed(p, &support, TG_CIDR_V4, a), "support subnets "
       "are used when enabled");
    ok(!tg_policy_ip_allowed(p, NULL, TG_CIDR_V4, a), "enabled support "
       "subnets without a list allow nothing");
    inet_pton(AF_INET, "8.8.8.8", a);
    ok(!tg_policy_ip_allowed(p, &support, TG_CIDR_V4, a), "an address "
       "outside both is refused");

    p = find(&set, "off");
    ok(tg_policy_ip_allowed(p, &support, TG_CIDR_V4, a), "enabled false: "
       "anyone");

    p = find(&set, "empty");
    ok(!tg_policy_ip_allowed(p, &support, TG_CIDR_V4, a), "enabled with an "
       "empty list: no one");

    p = find(&set, "none");
    ok(tg_policy_ip_allowed(p, &support, TG_CIDR_V4, a), "no ipPolicy: "
       "anyone");

    tg_policy_set_free(&set);
}


static void
test_lifetime_idle(void)
{
    tg_policy_t  p;

    memset(&p, 0, sizeof(p));

    is_int(tg_policy_lifetime_ok(&p, -1, T0), 0, "lifetime 0: no limit, "
           "even without iat");
    is_int(tg_policy_lifetime_ok(&p, 0, T0), 0, "lifetime 0: iat 0 passes");

    p.lifetime = 3600;
    is_int(tg_policy_lifetime_ok(&p, T0 - 3600, T0), 0, "now - iat == "
           "lifetime passes");
    is_int(tg_policy_lifetime_ok(&p, T0 - 3601, T0), -1, "now - iat == "
           "lifetime + 1 is refused");
    is_int(tg_policy_lifetime_ok(&p, T0, T0), 0, "a token issued now "
           "passes");
    is_int(tg_policy_lifetime_ok(&p, T0 + 10, T0), 0, "an iat slightly "
           "ahead passes (jwt checks the future)");
    is_int(tg_policy_lifetime_ok(&p, -1, T0), -1, "no iat (-1) is refused "
           "when a limit is set");
    is_int(tg_policy_lifetime_ok(&p, -1000000, T0), -1, "a negative iat is "
           "refused");
    is_int(tg_policy_lifetime_ok(&p, 0, T0), -1, "iat 0 is far too old");

    memset(&p, 0, sizeof(p));

    is_int(tg_policy_idle_ok(&p, 0, T0), 0, "maxIdleTime 0: no idle limit");

    p.max_idle = 900;
    is_int(tg_policy_idle_ok(&p, T0 - 900, T0), 0, "idle exactly maxIdleTime "
           "passes");
    is_int(tg_policy_idle_ok(&p, T0 - 901, T0), -1, "idle maxIdleTime + 1 is "
           "refused");
    is_int(tg_policy_idle_ok(&p, T0, T0), 0, "used just now passes");
    is_int(tg_policy_idle_ok(&p, T0 + 5, T0), 0, "a last use in the future "
           "passes");
}


/* the rule the zone applies under its mutex, and Redis's answer too */

static void
test_idle_touch(void)
{
    tg_idle_t    s;
    tg_policy_t  p;

    memset(&p, 0, sizeof(p));
    memset(&s, 0, sizeof(s));

    is_int(tg_policy_idle_touch(&s, &p, 0, T0), 1, "maxIdleTime 0: a first "
           "use passes and is told to the other hosts");
    ok(s.last == T0 && s.written == T0, "and is recorded");

    p.max_idle = 900;
    memset(&s, 0, sizeof(s));

    is_int(tg_policy_idle_touch(&s, &p, T0 - 901, T0), -1, "unknown token "
           "issued maxIdleTime + 1 ago: idle, counted from its iat");
    ok(s.written == 0, "an idle use is not told");
    is_int(tg_policy_idle_touch(&s, &p, T0, T0 + 1), -1, "and stays idle: "
           "a later iat does not revive a known token");

    memset(&s, 0, sizeof(s));

    is_int(tg_policy_idle_touch(&s, &p, T0 - 900, T0), 1, "unknown token "
           "issued exactly maxIdleTime ago passes, and is told");
    ok(s.last == T0 && s.written == T0, "the use is recorded");
    is_int(tg_policy_idle_touch(&s, &p, 0, T0), 0, "a second use in the "
           "same second passes, not told again");
    is_int(tg_policy_idle_touch(&s, &p, 0, T0 + 1), 1, "a use a second "
           "later is told");
    is_int(tg_policy_idle_touch(&s, &p, 0, T0 + 1 + 900), 1, "used again "
           "exactly maxIdleTime later passes");
    is_int(tg_policy_idle_touch(&s, &p, 0, T0 + 1 + 900 + 901), -1,
           "idle maxIdleTime + 1 after the last use is refused");
    ok(s.last == T0 + 1 + 900, "the refused use is not recorded");

    memset(&s, 0, sizeof(s));
    s.last = T0;
    s.written = T0;

    is_int(tg_policy_idle_touch(&s, &p, T0 - 5000, T0 + 10), 1, "a known "
           "last use wins over an old iat");
}


int
main(void)
{
    test_example();
    test_lookup();
    test_inheritance();
    test_refusals();
    test_null_and_ignored();
    test_parts();
    test_ip();
    test_lifetime_idle();
    test_idle_touch();

    tt_free_all();
    return tap_done();
}
