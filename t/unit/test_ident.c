
/*
 * Copyright (C) tenant_guard authors
 *
 * tg_ident: login identifiers normalized (NFKC case folding, trimming,
 * refusals) and read from JSON and form-urlencoded bodies.
 */


#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "tt.h"
#include "tg_ident.h"


TAP_GLOBALS;


static char  norm[64];


/* the normalized form of s in norm, or the error code */

static int
normalize(const char *s, size_t size)
{
    int                   rc;
    size_t                n;
    unsigned char        *out;
    const unsigned char  *in;

    in = tt_exact(s, strlen(s));
    out = (unsigned char *) tt_keep(malloc(size ? size : 1));

    n = 0;
    rc = tg_ident_normalize(in, strlen(s), out, size, &n);

    memset(norm, 0, sizeof(norm));

    if (rc == TG_IDENT_OK) {
        memcpy(norm, out, n < sizeof(norm) - 1 ? n : sizeof(norm) - 1);
    }

    return rc;
}


static int
form(const char *body, const char *name, size_t size)
{
    int             rc;
    size_t          n;
    unsigned char  *out;

    out = (unsigned char *) tt_keep(malloc(size ? size : 1));
    n = 0;
    rc = tg_ident_form_field(tt_exact(body, strlen(body)), strlen(body), name,
                             out, size, &n);
    memset(norm, 0, sizeof(norm));

    if (rc == 1) {
        memcpy(norm, out, n < sizeof(norm) - 1 ? n : sizeof(norm) - 1);
    }

    return rc;
}


static int
json(const char *body, const char *name, size_t size)
{
    int             rc;
    size_t          n;
    unsigned char  *out;

    out = (unsigned char *) tt_keep(malloc(size ? size : 1));
    n = 0;
    rc = tg_ident_json_field(tt_exact(body, strlen(body)), strlen(body), name,
                             out, size, &n);
    memset(norm, 0, sizeof(norm));

    if (rc == 1) {
        memcpy(norm, out, n < sizeof(norm) - 1 ? n : sizeof(norm) - 1);
    }

    return rc;
}


int
main(void)
{
    /* folding: the variants an IAM takes for one account are one */

    is_int(normalize("Alice@Example.COM", 63), TG_IDENT_OK, "ASCII folds");
    is_str(norm, "alice@example.com", "ASCII folds to lower case");

    is_int(normalize("  alice@example.com \xc2\xa0\xe3\x80\x80", 63),
           TG_IDENT_OK, "spaces trimmed");
    is_str(norm, "alice@example.com", "ASCII, NBSP, ideographic space");

    is_int(normalize("\xef\xbc\xa1lice", 63), TG_IDENT_OK, "fullwidth");
    is_str(norm, "alice", "fullwidth A is a");

    is_int(normalize("STRASSE", 63), TG_IDENT_OK, "sharp s");
    normalize("stra\xc3\x9f" "e", 63);
    is_str(norm, "strasse", "sharp s folds to ss");

    normalize("e\xcc\x81", 63);
    is_str(norm, "\xc3\xa9", "e + combining acute composes");

    normalize("ali\xe2\x80\x8b" "ce", 63);
    is_str(norm, "alice", "zero-width space dropped");

    normalize("ali\xc2\xad" "ce", 63);
    is_str(norm, "alice", "soft hyphen dropped");

    normalize("\xe2\x84\xaa" "elvin", 63);
    is_str(norm, "kelvin", "Kelvin sign is k");

    normalize("a b", 63);
    is_str(norm, "a b", "an inner space stays");

    /* refusals */

    is_int(normalize("", 63), TG_IDENT_EMPTY, "empty");
    is_int(normalize("   ", 63), TG_IDENT_EMPTY, "only spaces");
    is_int(normalize("\xe2\x80\x8b", 63), TG_IDENT_EMPTY,
           "only an ignorable");
    is_int(normalize("alice\t", 63), TG_IDENT_CONTROL, "tab");
    is_int(normalize("al\x7fice", 63), TG_IDENT_CONTROL, "DEL");
    is_int(normalize("al\xc2\x85ice", 63), TG_IDENT_CONTROL, "C1 NEL");
    is_int(normalize("al\xed\xa0\x80ice", 63), TG_IDENT_BAD_UTF8,
           "a UTF-8 encoded surrogate");
    is_int(normalize("al\xc0\xafice", 63), TG_IDENT_BAD_UTF8, "overlong");
    is_int(normalize("al\xffice", 63), TG_IDENT_BAD_UTF8, "0xff");
    is_int(normalize("alice\xc3", 63), TG_IDENT_BAD_UTF8, "truncated");
    is_int(normalize("\xf4\x90\x80\x80", 63), TG_IDENT_BAD_UTF8,
           "past U+10FFFF");
    is_int(normalize("abcdef", 5), TG_IDENT_TOO_LONG, "over size");
    is_int(normalize("ABCDE", 5), TG_IDENT_OK, "exactly size");
    is_int(normalize("\xef\xac\x83", 2), TG_IDENT_TOO_LONG,
           "a ligature that grows past size");
    ok(strcmp(tg_ident_error(TG_IDENT_CONTROL), "") != 0, "an error phrase");

    /* form bodies */

    is_int(form("username=alice&password=x", "username", 63), 1, "form");
    is_str(norm, "alice", "form value");
    is_int(form("password=x&user%6Eame=a%40b+c", "username", 63), 1,
           "encoded name, %%40 and +");
    is_str(norm, "a@b c", "decoded value");
    is_int(form("password=x", "username", 63), 0, "form: absent");
    is_int(form("", "username", 63), 0, "form: empty body");
    is_int(form("username=a&username=b", "username", 63), -1,
           "form: duplicate");
    is_int(form("username=a&user%6eame=b", "username", 63), -1,
           "form: duplicate under another spelling");
    is_int(form("username=a%2", "username", 63), -1, "form: short escape");
    is_int(form("username=a%zz", "username", 63), -1, "form: bad escape");
    is_int(form("username=a%0a", "username", 63), -1, "form: control");
    is_int(form("username=a%00b", "username", 63), -1, "form: NUL");
    is_int(form("username=abcdef", "username", 5), -1, "form: over size");
    is_int(form("username", "username", 63), 1, "form: no '='");
    is_int(form("&&username=x&&", "username", 63), 1, "form: empty pairs");
    is_str(norm, "x", "form: value among empty pairs");
    is_int(form("username=a&UserName=b", "username", 63), -1,
           "form: the name in another case");
    is_int(form("USER%4EAME=b&username=a", "username", 63), -1,
           "form: another case, encoded, first");
    is_int(form("username=a&usernames=b&Password=x", "username", 63), 1,
           "form: other names in any case");
    is_int(form("{\"username\":\"v\",\"x\":\"&username=d&\"}", "username",
                63),
           -1, "form: a JSON object is not a form");
    is_int(form(" \r\n\xef\xbb\xbf{\"username\":\"v\"}&username=d", "username",
                63),
           -1, "form: a JSON object after space and a BOM");
    is_int(form("x={&username=a", "username", 63), 1,
           "form: a '{' inside is a form's");
    is_int(form("user_name=a&user.name=b", "user_name", 63), -1,
           "form: PHP reads user.name as user_name");
    is_int(form("user[name=b&user_name=a", "user_name", 63), -1,
           "form: PHP reads user[name as user_name");
    is_int(form("user+name=b&user_name=a", "user_name", 63), -1,
           "form: PHP reads 'user name' as user_name");
    is_int(form("user_name=a&user.id=b", "user_name", 63), 1,
           "form: other dotted names");
    is_int(form("username=a&user.name=b", "username", 63), 1,
           "form: user.name is not username");

    /* JSON bodies */

    is_int(json("{\"username\":\"alice\"}", "username", 63), 1, "json");
    is_str(norm, "alice", "json value");
    is_int(json("{\"user\":\"alice\"}", "username", 63), 0, "json: absent");
    is_int(json("{\"username\":\"a\",\"username\":\"b\"}", "username", 63),
           -1, "json: duplicate");
    is_int(json("{\"username\":1}", "username", 63), -1, "json: a number");
    is_int(json("{\"username\":\"\\ud800\"}", "username", 63), -1,
           "json: a lone surrogate");
    is_int(json("{\"username\":\"a\\u0001\"}", "username", 63), -1,
           "json: a control character");
    is_int(json("{\"username\":\"a\"", "username", 63), -1, "json: broken");
    is_int(json("username=a", "username", 63), -1, "json: a form body");
    is_int(json("{\"username\":\"abcdef\"}", "username", 5), -1,
           "json: over size");
    is_int(json("{\"username\":\"a\",\"USERNAME\":\"b\"}", "username", 63),
           -1, "json: the name in another case");
    is_int(json("{\"u\\u017Fername\":\"b\",\"username\":\"a\"}",
                "username", 63),
           -1, "json: long s folds to s (Go's encoding/json)");
    is_int(json("{\"username\":\"a\",\"Password\":\"x\","
                "\"password\":\"y\"}", "username", 63),
           1, "json: other names in any case");

    tt_free_all();

    return tap_done();
}
