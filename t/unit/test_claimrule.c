
/*
 * Copyright (C) tenant_guard authors
 *
 * tenant_guard_require_claim's rules (tg_claimrule.c): operators, typed
 * values, dotted paths, and the awkward claims (objects, arrays of
 * objects, numbers that look like strings, absent claims, paths through
 * non-objects).  Values and claims are exact-size heap copies, so that
 * ASan sees a read past their length.
 */


#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "tt.h"
#include "tg_claimrule.h"


TAP_GLOBALS;


static const char  *claims_text =
    "{\"sub\":\"u1\",\"level\":3,\"ratio\":1.5,\"admin\":true,"
    "\"off\":false,\"zip\":\"123\",\"num\":123,\"big\":9007199254740993,"
    "\"nothing\":null,\"empty\":\"\","
    "\"realm_access\":{\"roles\":[\"admin\",\"user\",7,true]},"
    "\"groups\":[{\"name\":\"admin\"},\"ops\"],"
    "\"obj\":{\"a\":{\"b\":{\"c\":\"deep\"}}},"
    "\"tags\":[],\"a.b\":\"dotted\",\"utf\":\"caf\\u00e9\"}";

static tg_claimrule_doc_t  *doc;


/* rule on the fixed claims with up to 4 values, "" ends the list */

static int
rule(const char *path, const char *op, const char *v1, const char *v2,
    const char *v3)
{
    int                   o;
    size_t                n, lens[3];
    const char           *in[3];
    const unsigned char  *values[3];

    in[0] = v1;
    in[1] = v2;
    in[2] = v3;

    for (n = 0; n < 3 && in[n] != NULL; n++) {
        lens[n] = strlen(in[n]);
        values[n] = tt_exact(in[n], lens[n]);
    }

    o = tg_claimrule_op((const unsigned char *) op, strlen(op));
    if (o < 0) {
        return -1;
    }

    return tg_claimrule_match(doc, tt_exact(path, strlen(path)), strlen(path),
                              (tg_claimrule_op_e) o, values, lens, n);
}


static int
path_ok(const char *path)
{
    char  err[160];

    return tg_claimrule_path_ok(tt_exact(path, strlen(path)), strlen(path),
                                err, sizeof(err));
}


static int
value_ok(const char *v)
{
    char  err[160];

    return tg_claimrule_value_ok(tt_exact(v, strlen(v)), strlen(v), err,
                                 sizeof(err));
}


static void
test_ops(void)
{
    is_int(tg_claimrule_op((const unsigned char *) "eq", 2), TG_CLAIMRULE_EQ,
           "op eq");
    is_int(tg_claimrule_op((const unsigned char *) "has", 3),
           TG_CLAIMRULE_HAS, "op has");
    is_int(tg_claimrule_op((const unsigned char *) "EQ", 2), -1,
           "op names are lowercase");
    is_int(tg_claimrule_op((const unsigned char *) "e", 1), -1,
           "op: a prefix is no op");
    is_int(tg_claimrule_op((const unsigned char *) "gt", 2), -1,
           "op gt is unknown");
    ok(tg_claimrule_op_single(TG_CLAIMRULE_EQ)
       && tg_claimrule_op_single(TG_CLAIMRULE_NE)
       && !tg_claimrule_op_single(TG_CLAIMRULE_IN), "eq and ne take one");
}


static void
test_eq_ne(void)
{
    is_int(rule("sub", "eq", "u1", NULL, NULL), 1, "eq string");
    is_int(rule("sub", "eq", "u2", NULL, NULL), 0, "eq other string");
    is_int(rule("sub", "eq", "\"u1\"", NULL, NULL), 1, "eq quoted string");
    is_int(rule("sub", "eq", "U1", NULL, NULL), 0, "eq is case-sensitive");
    is_int(rule("level", "eq", "3", NULL, NULL), 1, "eq number");
    is_int(rule("level", "eq", "3.0", NULL, NULL), 1, "eq 3 and 3.0");
    is_int(rule("level", "eq", "\"3\"", NULL, NULL), 0,
           "eq: a number never equals a string");
    is_int(rule("ratio", "eq", "1.5", NULL, NULL), 1, "eq real");
    is_int(rule("ratio", "eq", "15e-1", NULL, NULL), 1, "eq real exponent");
    is_int(rule("zip", "eq", "123", NULL, NULL), 0,
           "eq: a string that looks like a number is no number");
    is_int(rule("zip", "eq", "\"123\"", NULL, NULL), 1,
           "eq: quoted value is the string");
    is_int(rule("num", "eq", "123", NULL, NULL), 1, "eq number 123");
    is_int(rule("big", "eq", "9007199254740992", NULL, NULL), 0,
           "eq: integers compared exactly beyond 2^53");
    is_int(rule("big", "eq", "9007199254740992.0", NULL, NULL), 0,
           "eq: an integer and a real compared exactly");
    is_int(rule("admin", "eq", "true", NULL, NULL), 1, "eq true");
    is_int(rule("admin", "eq", "\"true\"", NULL, NULL), 0,
           "eq: a boolean never equals a string");
    is_int(rule("off", "eq", "false", NULL, NULL), 1, "eq false");
    is_int(rule("admin", "eq", "1", NULL, NULL), 0,
           "eq: a boolean never equals a number");
    is_int(rule("utf", "eq", "caf\xc3\xa9", NULL, NULL), 1,
           "eq UTF-8 string");
    is_int(rule("utf", "eq", "\"caf\\u00e9\"", NULL, NULL), 1,
           "eq JSON-escaped string");

    is_int(rule("sub", "ne", "u2", NULL, NULL), 1, "ne other string");
    is_int(rule("sub", "ne", "u1", NULL, NULL), 0, "ne same string");
    is_int(rule("level", "ne", "\"3\"", NULL, NULL), 1,
           "ne: a number differs from a string");
    is_int(rule("missing", "ne", "x", NULL, NULL), 0,
           "ne: an absent claim fails");
    is_int(rule("nothing", "ne", "x", NULL, NULL), 0,
           "ne: a null claim fails");
    is_int(rule("obj", "ne", "x", NULL, NULL), 0, "ne: an object fails");
    is_int(rule("realm_access.roles", "ne", "x", NULL, NULL), 0,
           "ne: an array fails");
    is_int(rule("sub", "ne", "", NULL, NULL), 0,
           "ne: an empty value fails");
    is_int(rule("sub", "eq", "", NULL, NULL), 0,
           "eq: an empty value never matches");
    is_int(rule("empty", "eq", "", NULL, NULL), 0,
           "eq: an empty value never matches, not even \"\"");
    is_int(rule("empty", "eq", "\"\"", NULL, NULL), 1,
           "eq: the empty string written quoted");
}


static void
test_in_nin(void)
{
    is_int(rule("sub", "in", "a", "u1", "b"), 1, "in: one of");
    is_int(rule("sub", "in", "a", "b", NULL), 0, "in: none of");
    is_int(rule("level", "in", "1", "\"3\"", NULL), 0,
           "in: a number is not the string");
    is_int(rule("level", "in", "1", "3", NULL), 1, "in: the number");
    is_int(rule("realm_access.roles", "in", "admin", NULL, NULL), 0,
           "in: an array claim is no scalar");
    is_int(rule("sub", "nin", "a", "b", NULL), 1, "nin: none of");
    is_int(rule("sub", "nin", "a", "u1", NULL), 0, "nin: one of");
    is_int(rule("missing", "nin", "a", NULL, NULL), 0,
           "nin: an absent claim fails");
    is_int(rule("sub", "nin", "a", "", NULL), 0,
           "nin: an unreadable value fails");
    is_int(rule("sub", "in", "", "u1", NULL), 1,
           "in: an unreadable value matches nothing, the others may");
}


static void
test_has(void)
{
    is_int(rule("realm_access.roles", "has", "admin", NULL, NULL), 1,
           "has: nested array holds it");
    is_int(rule("realm_access.roles", "has", "root", "user", NULL), 1,
           "has: one of the values");
    is_int(rule("realm_access.roles", "has", "root", NULL, NULL), 0,
           "has: not held");
    is_int(rule("realm_access.roles", "has", "7", NULL, NULL), 1,
           "has: a number element");
    is_int(rule("realm_access.roles", "has", "\"7\"", NULL, NULL), 0,
           "has: the string \"7\" is not the number 7");
    is_int(rule("realm_access.roles", "has", "true", NULL, NULL), 1,
           "has: a boolean element");
    is_int(rule("sub", "has", "u1", NULL, NULL), 0,
           "has: a string claim is no array");
    is_int(rule("groups", "has", "admin", NULL, NULL), 0,
           "has: an object element never matches");
    is_int(rule("groups", "has", "{\"name\":\"admin\"}", NULL, NULL), 0,
           "has: an object-looking value is a string");
    is_int(rule("groups", "has", "ops", NULL, NULL), 1,
           "has: the string next to an object");
    is_int(rule("tags", "has", "x", NULL, NULL), 0, "has: empty array");
    is_int(rule("obj", "has", "x", NULL, NULL), 0, "has: an object");
}


static void
test_paths(void)
{
    is_int(rule("obj.a.b.c", "eq", "deep", NULL, NULL), 1, "deep path");
    is_int(rule("obj.a.b", "eq", "deep", NULL, NULL), 0,
           "a path to an object matches nothing");
    is_int(rule("obj.a.x.c", "eq", "deep", NULL, NULL), 0,
           "an absent segment");
    is_int(rule("sub.x", "eq", "u1", NULL, NULL), 0,
           "a path through a string");
    is_int(rule("realm_access.roles.0", "eq", "admin", NULL, NULL), 0,
           "a path through an array");
    is_int(rule("a.b", "eq", "dotted", NULL, NULL), 0,
           "a dotted name is a path, not a member with a dot");
    is_int(rule("nothing.x", "eq", "x", NULL, NULL), 0,
           "a path through null");

    ok(path_ok("sub"), "path: one segment");
    ok(path_ok("realm_access.roles"), "path: two segments");
    ok(!path_ok(""), "path: empty");
    ok(!path_ok(".a"), "path: leading dot");
    ok(!path_ok("a."), "path: trailing dot");
    ok(!path_ok("a..b"), "path: empty segment");
    ok(!path_ok("a b"), "path: space");
    ok(!path_ok("a\tb"), "path: control");
    ok(path_ok("a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p"), "path: 16 segments");
    ok(!path_ok("a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q"), "path: 17 segments");
}


static void
test_values(void)
{
    ok(value_ok("x"), "value: a word");
    ok(value_ok("12"), "value: a number");
    ok(value_ok("\"a\\\"b\""), "value: a quoted string with an escape");
    ok(!value_ok(""), "value: empty");
    ok(!value_ok("null"), "value: null");
    ok(!value_ok("\"abc"), "value: unterminated quote");
    ok(!value_ok("\"a\"b\""), "value: trailing data after a quote");
    ok(!value_ok("\"\\u0000\""), "value: NUL");
    ok(!value_ok("a\x01"), "value: control byte");
    ok(!value_ok("\xff\xfe"), "value: not UTF-8");
    ok(!value_ok("99999999999999999999999"), "value: integer out of range");
    ok(value_ok("01"), "value: 01 is a string");
    ok(value_ok("1.2.3"), "value: 1.2.3 is a string");
    ok(value_ok("-"), "value: - is a string");
    is_int(rule("sub", "eq", "\"u1", NULL, NULL), 0,
           "a malformed quoted value never matches");
}


static void
test_docs(void)
{
    const unsigned char  *v[1];
    size_t                l[1];
    tg_claimrule_doc_t   *d;

    v[0] = tt_exact("x", 1);
    l[0] = 1;

    ok(tg_claimrule_match(NULL, (const unsigned char *) "a", 1,
                          TG_CLAIMRULE_NE, v, l, 1) == 0,
       "no claims: a rule fails");

    d = tg_claimrule_doc(tt_exact("[1]", 3), 3);
    ok(d == NULL, "claims must be an object");

    d = tg_claimrule_doc(tt_exact("{\"a\":1,\"a\":2}", 13), 13);
    ok(d == NULL, "duplicate claim names refused");

    d = tg_claimrule_doc(tt_exact("{\"a\":1", 6), 6);
    ok(d == NULL, "truncated claims refused");
}


int
main(void)
{
    doc = tg_claimrule_doc(tt_exact(claims_text, strlen(claims_text)),
                           strlen(claims_text));
    ok(doc != NULL, "the test claims parse");

    test_ops();
    test_eq_ne();
    test_in_nin();
    test_has();
    test_paths();
    test_values();
    test_docs();

    tg_claimrule_doc_free(doc);
    tt_free_all();
    return tap_done();
}
