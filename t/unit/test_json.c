
/*
 * Copyright (C) tenant_guard authors
 *
 * tg_json_parse_object() and tg_json_field_string(); tg_result_get().
 */


#include <string.h>

#include "tap.h"
#include "tt.h"
#include "tg_json.h"
#include "tg_request.h"
#include "tg_result.h"


TAP_GLOBALS;


static char  err[256];


static int
parses(const char *text, size_t max)
{
    json_t  *json;

    err[0] = '\0';
    json = tg_json_parse_object((const unsigned char *)
                                tt_strndup(text, strlen(text)), strlen(text),
                                max, err, sizeof(err));
    if (json == NULL) {
        return 0;
    }

    json_decref(json);
    return 1;
}


static char *
nest(int depth)
{
    int    i;
    char  *s;

    /* depth objects: {"a":{"a":...{}}} */
    s = tt_strndup("", 0);

    for (i = 1; i < depth; i++) {
        s = tt_printf("%s{\"a\":", s);
    }

    s = tt_printf("%s{}", s);

    for (i = 1; i < depth; i++) {
        s = tt_printf("%s}", s);
    }

    return s;
}


static void
test_parse(void)
{
    ok(parses("{}", 100), "{} parses");
    ok(parses(" {\"a\":[1,2,{\"b\":null}]} \n", 100), "an object with "
       "surrounding white space parses");
    ok(!parses("[]", 100), "an array is refused");
    like(err, "JSON is not an object", "the error says so");
    ok(!parses("\"s\"", 100), "a string is refused");
    ok(!parses("1", 100), "a number is refused");
    ok(!parses("null", 100), "null is refused");
    ok(!parses("", 100), "the empty text is refused");
    like(err, "invalid JSON", "the error says invalid JSON");
    ok(!parses("{}{}", 100), "trailing data is refused");
    ok(!parses("{} x", 100), "trailing garbage is refused");
    ok(!parses("{\"a\":1,\"a\":2}", 100), "a duplicate key is refused");
    like(err, "duplicate", "the error says duplicate");
    ok(!parses("{\"x\":{\"a\":1,\"a\":1}}", 100), "a nested duplicate key is "
       "refused");
    ok(!parses("{\"a\":\"x\\u0000y\"}", 100), "a NUL character is refused");
    ok(!parses("{\"a\\u0000\":1}", 100), "a NUL in a key is refused");
    ok(!parses("{\"a\":1,}", 100), "a trailing comma is refused");
    ok(!parses("{'a':1}", 100), "single quotes are refused");
    ok(!parses("{\"a\":\"\xff\"}", 100), "invalid UTF-8 is refused");
    ok(!parses("{\"a\":NaN}", 100), "NaN is refused");
    ok(!parses("{\"a\":1e999}", 100), "an overflowing real is refused");
    ok(!parses("{\"a\":99999999999999999999}", 100), "an integer past 64 "
       "bits is refused");

    ok(parses("{\"a\":1}", 7), "exactly max_size bytes parse");
    ok(!parses("{\"a\":1}", 6), "max_size + 1 bytes are refused");
    like(err, "larger than 6 bytes", "the error names the limit");

    ok(parses(nest(TG_JSON_MAX_DEPTH), 4096), "16 nested levels parse");
    ok(!parses(nest(TG_JSON_MAX_DEPTH + 1), 4096), "17 nested levels are "
       "refused");
    like(err, "nested deeper than 16 levels", "the error says so");
    ok(!parses("{\"a\":[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]}", 4096),
       "arrays count as levels");
    ok(!parses(nest(3000), 1 << 20), "3000 levels are refused (no stack "
       "overflow)");
}


static int
field(const char *text, const char *name, size_t size, char *buf, size_t *n)
{
    *n = (size_t) -1;

    return tg_json_field_string((const unsigned char *)
                                tt_strndup(text, strlen(text)), strlen(text),
                                name, buf, size, n);
}


static void
test_field(void)
{
    char    buf[16];
    size_t  n;

    ok(field("{\"user\":\"alice\"}", "user", sizeof(buf), buf, &n) == 1
       && n == 5 && memcmp(buf, "alice", 5) == 0, "a string field is copied");
    ok(field("{\"user\":\"\"}", "user", sizeof(buf), buf, &n) == 1 && n == 0,
       "an empty string is copied (length 0)");
    ok(field("{\"user\":\"alice\"}", "name", sizeof(buf), buf, &n) == 0,
       "an absent field is 0");
    ok(field("{\"user\":5}", "user", sizeof(buf), buf, &n) == 0,
       "a number is 0");
    ok(field("{\"user\":null}", "user", sizeof(buf), buf, &n) == 0,
       "null is 0");
    ok(field("{\"user\":[\"a\"]}", "user", sizeof(buf), buf, &n) == 0,
       "an array is 0");
    ok(field("{\"user\":\"0123456789abcdef\"}", "user", 16, buf, &n) == 1
       && n == 16, "a string of exactly size bytes is copied");
    ok(field("{\"user\":\"0123456789abcdefg\"}", "user", 16, buf, &n) == 0,
       "size + 1 bytes is 0");
    ok(field("{\"user\":\"a\\nb\"}", "user", sizeof(buf), buf, &n) == 0,
       "a newline is refused");
    ok(field("{\"user\":\"a\\u001fb\"}", "user", sizeof(buf), buf, &n) == 0,
       "0x1f is refused");
    ok(field("{\"user\":\"a\\tb\"}", "user", sizeof(buf), buf, &n) == 0,
       "a tab is refused");
    ok(field("{\"user\":\"\\u00e9\"}", "user", sizeof(buf), buf, &n) == 1
       && n == 2, "UTF-8 is copied as bytes");
    ok(field("{\"user\":\"a\",\"user\":\"b\"}", "user", sizeof(buf), buf, &n)
       == 0, "a duplicate field is 0");
    ok(field("[\"user\"]", "user", sizeof(buf), buf, &n) == 0,
       "not an object is 0");
    ok(field("{\"user\":\"a\"", "user", sizeof(buf), buf, &n) == 0,
       "truncated JSON is 0");
    ok(field("{\"x\":{\"user\":\"a\"}}", "user", sizeof(buf), buf, &n) == 0,
       "a nested field is not top-level");
    ok(field("", "user", sizeof(buf), buf, &n) == 0, "no data is 0");
    ok(field("{\"user\":\"x\"}", "user", 0, buf, &n) == 0, "size 0 takes "
       "nothing but the empty string");
}


static void
test_result(void)
{
    int                 i, bad;
    const tg_result_t  *r;

    bad = 0;

    for (i = 0; i < TG_RESULT_LAST; i++) {
        r = tg_result_get((tg_result_e) i);

        if (r->code == NULL || r->description == NULL || r->reason == NULL
            || r->status < 200 || r->status > 599)
        {
            bad++;
        }
    }

    is_int(bad, 0, "every result has a status, a code, a description and a "
           "reason");
    is_int(tg_result_get(TG_RESULT_ALLOW)->status, 200, "allow is 200");
    is_str(tg_result_get(TG_RESULT_BANNED)->code, "banned", "banned's code");
    is_int(tg_result_get(TG_RESULT_BANNED)->status, 429, "banned is 429");
    ok(tg_result_get(TG_RESULT_LAST) == tg_result_get(TG_RESULT_INVALID_TOKEN),
       "an out-of-range result is invalid_token");
    ok(tg_result_get((tg_result_e) -1)
       == tg_result_get(TG_RESULT_INVALID_TOKEN),
       "a negative result is invalid_token");
}


int
main(void)
{
    test_parse();
    test_field();
    test_result();

    tt_free_all();
    return tap_done();
}
