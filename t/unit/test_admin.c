
/*
 * Copyright (C) tenant_guard authors
 *
 * The admin API's bodies (tg_admin.c): the four shapes of a revocation,
 * what is refused (with the reason), and the jti of a token read without
 * verifying it.  Every input is an exact-size heap copy.
 */


#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "tt.h"
#include "tg_admin.h"


TAP_GLOBALS;


static tg_admin_revoke_t  rv;
static char               err[256];


static int
parse(const char *body)
{
    err[0] = '\0';

    return tg_admin_revoke_parse(&rv, tt_exact(body, strlen(body)),
                                 strlen(body), err, sizeof(err));
}


static int
jti_of(const char *token, char *jti, size_t size, long long *exp)
{
    int     rc;
    size_t  n;

    n = 0;
    rc = tg_admin_token_jti(tt_exact(token, strlen(token)), strlen(token),
                            (unsigned char *) jti, size, &n, exp);
    if (rc == 0) {
        jti[n] = '\0';
    }

    return rc;
}


int
main(void)
{
    char       jti[32];
    long long  exp;

    /* the four shapes */

    is_int(parse("{\"jti\":\"j-1\"}"), 0, "a jti");
    is_int(rv.what, TG_ADMIN_REVOKE_JTI, "... is a jti revocation");
    is_int(rv.jti_len, 3, "... of 3 bytes");

    is_int(parse("{\"token\":\"a.b.c\"}"), 0, "a token");
    is_int(rv.what, TG_ADMIN_REVOKE_TOKEN, "... is a token revocation");

    is_int(parse("{\"subject\":\"u1\",\"workspace\":\"acme\"}"), 0,
           "a subject of a workspace, in any order");
    is_int(rv.what, TG_ADMIN_REVOKE_SUBJECT, "... is a subject revocation");
    ok(rv.workspace_len == 4 && memcmp(rv.workspace, "acme", 4) == 0,
       "... of the workspace");

    is_int(parse("{\"workspace\":\"acme\"}"), 0, "a workspace");
    is_int(rv.what, TG_ADMIN_REVOKE_WORKSPACE, "... is a workspace revocation");

    /* refused, with a reason */

    is_int(parse("{\"workspace\":\"acme\",\"when\":1}"), -1, "an unknown field");
    like(err, "unknown field \"when\"", "... named");
    is_int(parse("{\"workspace\":7}"), -1, "a number");
    like(err, "not a string", "... said");
    is_int(parse("{\"workspace\":null}"), -1, "null");
    is_int(parse("{\"workspace\":\"\"}"), -1, "an empty string");
    is_int(parse("{\"workspace\":\"a\\u0000b\"}"), -1, "a NUL");
    is_int(parse("{\"workspace\":\"a\\nb\"}"), -1, "a newline");
    like(err, "control character", "... said");
    is_int(parse("{\"workspace\":\"a\\u007fb\"}"), -1, "a DEL");
    is_int(parse("{\"subject\":\"u1\"}"), -1, "a subject alone");
    is_int(parse("{\"jti\":\"j\",\"token\":\"t\"}"), -1, "two shapes");
    is_int(parse("{\"jti\":\"j\",\"workspace\":\"w\"}"), -1,
           "a jti and a workspace");
    is_int(parse("{}"), -1, "nothing");
    is_int(parse("[]"), -1, "an array");
    is_int(parse(""), -1, "no body");
    is_int(parse("{\"jti\":\"j\""), -1, "cut short");
    is_int(parse("{\"jti\":\"a\",\"jti\":\"b\"}"), -1, "a duplicate key");
    is_int(parse("{\"jti\":\"j\"} x"), -1, "trailing data");
    ok(err[0] != '\0', "... with a reason");

    /* the jti of a token: {"jti":"abc","exp":1700000000} */

    is_int(jti_of("eyJhbGciOiJSUzI1NiJ9."
                  "eyJqdGkiOiJhYmMiLCJleHAiOjE3MDAwMDAwMDB9.c2ln",
                  jti, sizeof(jti), &exp), 0, "a token's jti");
    is_str(jti, "abc", "... is read");
    is_int(exp, 1700000000, "... with its exp");

    /* {"jti":"abc","exp":1700000000.5}: a real, as the verifier takes */
    is_int(jti_of("eyJhbGciOiJSUzI1NiJ9."
                  "eyJqdGkiOiJhYmMiLCJleHAiOjE3MDAwMDAwMDAuNX0.c2ln",
                  jti, sizeof(jti), &exp), 0, "a token with a real exp");
    is_int(exp, 1700000000, "... has that exp");

    /* {"jti":"abc","exp":1e300}: no NumericDate the verifier takes */
    is_int(jti_of("eyJhbGciOiJSUzI1NiJ9."
                  "eyJqdGkiOiJhYmMiLCJleHAiOjFlMzAwfQ.c2ln",
                  jti, sizeof(jti), &exp), 0, "a token with a huge exp");
    is_int(exp, 0, "... has none");

    /* {"exp":1} */
    is_int(jti_of("eyJhbGciOiJSUzI1NiJ9.eyJleHAiOjF9.c2ln", jti, sizeof(jti),
                  &exp), -1, "a token without jti");
    /* {"jti":"abcdefgh"} into a 4-byte buffer */
    is_int(jti_of("x.eyJqdGkiOiJhYmNkZWZnaCJ9.y", jti, 4, &exp), -1,
           "a jti longer than the buffer");
    is_int(jti_of("not-a-jwt", jti, sizeof(jti), &exp), -1, "no dots");
    is_int(jti_of("a.b.c.d", jti, sizeof(jti), &exp), -1, "four parts");
    is_int(jti_of("a..c", jti, sizeof(jti), &exp), -1, "an empty payload");
    is_int(jti_of("a.!!!.c", jti, sizeof(jti), &exp), -1,
           "a payload that is not base64url");

    return tap_done();
}
