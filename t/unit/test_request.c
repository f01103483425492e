
/*
 * Copyright (C) tenant_guard authors
 *
 * The request rules of tg_request.c: bearer credentials of an
 * Authorization header, the canonical raw path a bind needs, and which
 * jti may name a token in the logs.  Every input is an exact-size heap
 * copy, so that ASan sees a read past its length.
 */


#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "tt.h"
#include "tg_request.h"


TAP_GLOBALS;


static int
bearer_n(const char *value, size_t len, char *token)
{
    int                   rc;
    size_t                n;
    const unsigned char  *v, *t;

    v = tt_exact(value, len);
    t = NULL;
    n = 0;

    rc = tg_request_bearer(v, len, &t, &n);

    if (token != NULL) {
        token[0] = '\0';

        if (rc != TG_BEARER_NONE) {
            if (t < v || t + n > v + len) {
                strcpy(token, "<outside the value>");

            } else {
                memcpy(token, t, n);
                token[n] = '\0';
            }
        }
    }

    return rc;
}


static int
bearer(const char *value, char *token)
{
    return bearer_n(value, strlen(value), token);
}


static int
canonical_n(const char *uri, size_t len)
{
    return tg_request_path_canonical(tt_exact(uri, len), len);
}


static int
canonical(const char *uri)
{
    return canonical_n(uri, strlen(uri));
}


static int
token_id_n(const char *jti, size_t len)
{
    return tg_request_token_id_ok(tt_exact(jti, len), len);
}


static int
token_id(const char *jti)
{
    return token_id_n(jti, strlen(jti));
}


static int
in_token68(int c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')
           || (c >= 'A' && c <= 'Z')
           || (c != 0 && strchr("-._~+/=", c) != NULL);
}


static void
test_bearer_none(void)
{
    size_t       i;
    char         tok[64];
    const char  *none[] = {
        "", "B", "Bearer", "Bearer ", "Bearer  ", "Bearer          ",
        "Basic YWxhZGRpbjpvcGVuc2VzYW1l", "Bearerabc", "Bearer\tabc",
        "Bearer:abc", "Bearer,abc", " Bearer abc", "Bear abc", "Bearer_abc",
        "Token abc", "Bearer\x00" "abc", "DPoP abc", "Bearer" "\xa0" "abc",
        "Bfarer abc", "Bearex abc", "bearer", "BEARER"
    };

    for (i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
        is_int(bearer(none[i], tok), TG_BEARER_NONE,
               "bearer: no credentials in \"%s\"", none[i]);
    }

    is_int(bearer_n("Bearer\0abc", 10, NULL), TG_BEARER_NONE,
           "bearer: a NUL instead of the space: none");
    is_int(bearer_n("Bearer \0", 8, tok), TG_BEARER_MALFORMED,
           "bearer: a NUL after the scheme is a malformed token");
    is_int(bearer_n("Bearer abc", 0, NULL), TG_BEARER_NONE,
           "bearer: len 0 reads nothing");
    is_int(bearer_n("Bearer abc", 6, NULL), TG_BEARER_NONE,
           "bearer: len 6 (\"Bearer\")");
    is_int(bearer_n("Bearer abc", 7, NULL), TG_BEARER_NONE,
           "bearer: len 7 (\"Bearer \")");
    is_int(bearer_n("Bearer abc", 8, tok), TG_BEARER_OK,
           "bearer: len 8: one character");
    is_str(tok, "a", "bearer: len 8: the token is \"a\"");

    /* the "b" of the scheme is not found by a mere "| 0x20" */

    is_int(bearer("\x02" "earer abc", NULL), TG_BEARER_NONE,
           "bearer: 0x02 is not 'b'");
    is_int(bearer("\xc2" "earer abc", NULL), TG_BEARER_NONE,
           "bearer: 0xc2 is not 'B'");
    is_int(bearer("Bearer" "\x00" "abc", NULL), TG_BEARER_NONE,
           "bearer: a C string cut at the scheme");
}


static void
test_bearer_ok(void)
{
    size_t       i;
    char         tok[9000], *big;
    const char  *schemes[] = {
        "Bearer", "bearer", "BEARER", "bEaReR", "BeArEr", "bearER"
    };

    for (i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
        is_int(bearer(tt_printf("%s abc.def.ghi", schemes[i]), tok),
               TG_BEARER_OK, "bearer: scheme \"%s\" (case-insensitive)",
               schemes[i]);
        is_str(tok, "abc.def.ghi", "bearer: \"%s\": the token", schemes[i]);
    }

    is_int(bearer("Bearer    abc   ", tok), TG_BEARER_OK,
           "bearer: spaces around the token");
    is_str(tok, "abc", "bearer: the spaces are trimmed on both sides");

    is_int(bearer("Bearer a", tok), TG_BEARER_OK, "bearer: one character");
    is_str(tok, "a", "bearer: one character: the token");

    is_int(bearer("Bearer AZaz09-._~+/=", tok), TG_BEARER_OK,
           "bearer: every token68 character");
    is_str(tok, "AZaz09-._~+/=", "bearer: every token68 character: kept");

    is_int(bearer("Bearer abc==", tok), TG_BEARER_OK,
           "bearer: trailing '=' padding");
    is_int(bearer("Bearer =abc", tok), TG_BEARER_OK,
           "bearer: '=' is taken anywhere (the glue's rule, kept)");
    is_int(bearer("Bearer a=b=c", tok), TG_BEARER_OK,
           "bearer: '=' inside the token");

    big = tt_keep(malloc(8200));
    if (big == NULL) {
        abort();
    }

    memcpy(big, "Bearer ", 7);
    memset(big + 7, 'x', 8192);
    big[8199] = '\0';

    is_int(bearer_n(big, 8199, tok), TG_BEARER_OK,
           "bearer: an 8192-byte token");
    is_int(strlen(tok), 8192, "bearer: an 8192-byte token: its length");
}


static void
test_bearer_malformed(void)
{
    int   c, rc, wrong, good;
    char  tok[64], value[16];

    is_int(bearer("Bearer a b", tok), TG_BEARER_MALFORMED,
           "bearer: a space inside the token");
    is_str(tok, "a b", "bearer: malformed: the token is still reported");

    is_int(bearer("Bearer  abc\t ", tok), TG_BEARER_MALFORMED,
           "bearer: a tab is not trimmed");
    is_str(tok, "abc\t", "bearer: malformed: trimmed of spaces only");

    is_int(bearer("Bearer \tabc", tok), TG_BEARER_MALFORMED,
           "bearer: a leading tab");
    is_int(bearer("Bearer ab\"c", NULL), TG_BEARER_MALFORMED,
           "bearer: a quote");
    is_int(bearer("Bearer abc,def", NULL), TG_BEARER_MALFORMED,
           "bearer: a comma (auth-param list)");
    is_int(bearer("Bearer a%62", NULL), TG_BEARER_MALFORMED,
           "bearer: a '%%'");
    is_int(bearer("Bearer \xc3\xa9", NULL), TG_BEARER_MALFORMED,
           "bearer: UTF-8");
    is_int(bearer_n("Bearer a\0b", 10, tok), TG_BEARER_MALFORMED,
           "bearer: a NUL inside the token");
    is_int(bearer("Bearer Bearer abc", NULL), TG_BEARER_MALFORMED,
           "bearer: the scheme twice");

    /* every byte inside a token: token68 or malformed */

    wrong = 0;
    good = 0;

    for (c = 0; c < 256; c++) {
        memcpy(value, "Bearer x", 8);
        value[8] = (char) c;
        value[9] = 'y';

        rc = bearer_n(value, 10, NULL);

        if (c == ' ') {
            wrong += (rc != TG_BEARER_MALFORMED);
            continue;
        }

        if (rc == TG_BEARER_OK) {
            good++;
        }

        wrong += (rc != (in_token68(c) ? TG_BEARER_OK : TG_BEARER_MALFORMED));
    }

    is_int(wrong, 0, "bearer: each of 256 bytes inside a token: OK exactly "
           "for token68");
    is_int(good, 69, "bearer: 69 token68 bytes (62 alphanumerics, "
           "\"-._~+/=\")");
}


static void
test_path_plain(void)
{
    size_t       i;
    const char  *good[] = {
        "", "/", "/a", "/a/b", "/a/b/", "/a.b/c", "/a/.b", "/a/..b",
        "/a/b.", "/a/b..", "/a/...", "/a/.../b", "/.well-known/x", "/a./b",
        "/a../b", "*", "a", "/a%20b", "/a%41", "/%3F", "/%3f",
        "/%5D", "/%2D", "/%2d", "/%2a", "/%22", "/%7E", "/%20%20", "/%ff",
        "/a?", "?", "/a?b//c", "/a?x=%2F", "/a?/../", "/a?\\", "/a/?x",
        "/a?x=%", "/a?x=%0", "/a?x=%00", "/a?%2e%2e", "/a?x?y//",
        "/a?x=;", "/a?%25",
        "/caf%C3%A9", "/a-b_c~d"
    };
    const char  *bad[] = {
        "//", "/a//b", "/a/b//", "//a", "/.", "/./", "/./a", "/a/.",
        "/a/./b", "/..", "/../", "/a/..", "/a/../b", "a/./b", "a/../b",
        "\\", "/a\\b", "/a\\", "%", "/a%", "/a%4", "/%2", "%2F", "/a%2Fb",
        "/a%2fb", "/a%2Eb", "/a%2eb", "/a%5Cb", "/a%5cb", "/%00", "/%0a",
        "/%0A", "/%09", "/%0d%0a", "/%1F", "/%1f", "/%10", "/%1x", "/%0z",
        "/a/..?x", "/a/.?x", "/a//?x", "/a/%2F?x", "/a%2?x", "/a%?x",
        "/a%4?x=1", "/a\\?x", "/a/%2e%2e/b", "/%2e", "/.%2e/", "/%2e./",
        "/%25", "/a/%252e%252e/b", "/a%252Fb", "/ws1/..;/ws2", "/a;b",
        "/a/b;jsessionid=1", ";", "/;/", "/a;?x", "/ws1/..%3B/ws2",
        "/ws1/..%3b/ws2", "/a%3Bb"
    };

    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        is_int(canonical(good[i]), 1, "path: \"%s\" is canonical", good[i]);
    }

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        is_int(canonical(bad[i]), 0, "path: \"%s\" is not canonical",
               bad[i]);
    }

    is_int(tg_request_path_canonical(NULL, 0), 1,
           "path: an empty target (NULL, 0)");
}


static void
test_path_len(void)
{
    /* only len bytes are read: the exact-size buffers catch a read past */

    is_int(canonical_n("/a//b", 2), 1, "path: \"/a//b\" cut at 2: \"/a\"");
    is_int(canonical_n("/a//b", 3), 1, "path: cut at 3: \"/a/\"");
    is_int(canonical_n("/a//b", 4), 0, "path: cut at 4: \"/a//\"");
    is_int(canonical_n("/a/.x", 4), 0, "path: \"/a/.\" at the end of len");
    is_int(canonical_n("/a/.x", 5), 1, "path: \"/a/.x\" in full");
    is_int(canonical_n("/a/..x", 5), 0, "path: \"/a/..\" at the end of len");
    is_int(canonical_n("/a/..x", 6), 1, "path: \"/a/..x\" in full");
    is_int(canonical_n("/%2F", 3), 0, "path: \"/%%2\": a truncated escape");
    is_int(canonical_n("/%41", 3), 0, "path: \"/%%4\": a truncated escape");
    is_int(canonical_n("/%41", 4), 1, "path: \"/%%41\" in full");
    is_int(canonical_n("/a\\b", 2), 1, "path: the '\\' past len is unseen");
    is_int(canonical_n("/a/\0/b", 6), 1, "path: a raw NUL is not a rule");
    is_int(canonical_n("/a?//", 2), 1, "path: len before the '?'");

    /* the '?' ends the path before the escape's length is counted */

    is_int(canonical("/%41?"), 1, "path: \"/%%41?\": a full escape, then "
           "the query");
    is_int(canonical("/%4?1"), 0, "path: \"/%%4?1\": the escape is cut by "
           "the '?'");
    is_int(canonical("/.?"), 0, "path: \"/.?\": a dot segment ends at the "
           "'?'");
    is_int(canonical("/..?/"), 0, "path: \"/..?/\"");
    is_int(canonical("/x/?/"), 1, "path: \"/x/?/\": the slashes meet "
           "across the '?' only");
}


/* every pair after a '%', but the bytes that are rules of their own */

static void
test_path_escapes(void)
{
    int  c1, c2, want, lc2, wrong, refused;
    char uri[8];

    wrong = 0;
    refused = 0;

    for (c1 = 0; c1 < 256; c1++) {
        for (c2 = 0; c2 < 256; c2++) {
            if (strchr("?\\/%;", c1) != NULL || strchr("?\\/%;", c2) != NULL
                || c1 == 0 || c2 == 0)
            {
                continue;
            }

            uri[0] = '/';
            uri[1] = 'x';
            uri[2] = '%';
            uri[3] = (char) c1;
            uri[4] = (char) c2;
            uri[5] = 'y';

            lc2 = (c2 >= 'A' && c2 <= 'Z') ? c2 + 32 : c2;

            want = !((c1 == '2' && (lc2 == 'e' || lc2 == 'f' || lc2 == '5'))
                     || (c1 == '3' && lc2 == 'b')
                     || (c1 == '5' && lc2 == 'c')
                     || c1 == '0' || c1 == '1');

            if (canonical_n(uri, 6) != want) {
                wrong++;
            }

            refused += !want;
        }
    }

    is_int(wrong, 0, "path: every escape \"%%XY\": refused exactly for "
           "%%2E %%2F %%5C %%25 %%3B (any case), %%0X and %%1X");
    is_int(refused, 2 * 250 + 4 + 2 + 1 + 2, "path: that is %%0X, %%1X, "
           "six encoded separators, %%25 and %%3B");

    /* the NUL bytes left out above: a NUL is just another byte */

    is_int(canonical_n("/%\0" "1", 4), 1, "path: \"%%\\0 1\"");
    is_int(canonical_n("/%1\0", 4), 0, "path: \"%%1\\0\"");
}


static void
test_token_id(void)
{
    int    c, wrong, good;
    char   buf[80];
    char   one[1];

    is_int(token_id("a"), 1, "token id: one byte");
    is_int(token_id("550e8400-e29b-41d4-a716-446655440000"), 1,
           "token id: a UUID");
    is_int(token_id("j-1"), 1, "token id: j-1");
    is_int(token_id("a'b\\c<>{}`"), 1, "token id: other punctuation");
    is_int(token_id(""), 0, "token id: empty");
    is_int(tg_request_token_id_ok(NULL, 0), 0, "token id: (NULL, 0)");
    is_int(token_id("a b"), 0, "token id: a space");
    is_int(token_id("a\"b"), 0, "token id: a quote");
    is_int(token_id("ab\x7f"), 0, "token id: DEL");
    is_int(token_id("\xc3\xa9"), 0, "token id: UTF-8");
    is_int(token_id("a\tb"), 0, "token id: a tab");
    is_int(token_id_n("a\0b", 3), 0, "token id: a NUL");

    memset(buf, 'k', sizeof(buf));

    is_int(token_id_n(buf, 63), 1, "token id: 63 bytes");
    is_int(token_id_n(buf, 64), 1, "token id: 64 bytes");
    is_int(token_id_n(buf, 65), 0, "token id: 65 bytes");
    is_int(token_id_n(buf, 80), 0, "token id: 80 bytes");

    buf[63] = ' ';
    is_int(token_id_n(buf, 64), 0, "token id: a space as the 64th byte");

    wrong = 0;
    good = 0;

    for (c = 0; c < 256; c++) {
        one[0] = (char) c;

        if (token_id_n(one, 1)) {
            good++;
            wrong += (c <= 0x20 || c >= 0x7f || c == '"');

        } else {
            wrong += (c > 0x20 && c < 0x7f && c != '"');
        }
    }

    is_int(wrong, 0, "token id: each of 256 bytes: printable but space and "
           "'\"'");
    is_int(good, 93, "token id: 93 bytes qualify");
}


int
main(void)
{
    test_bearer_none();
    test_bearer_ok();
    test_bearer_malformed();
    test_path_plain();
    test_path_len();
    test_path_escapes();
    test_token_id();

    tt_free_all();
    return tap_done();
}
