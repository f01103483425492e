
/*
 * Copyright (C) tenant_guard authors
 *
 * fuzz_request: the input is read three ways by tg_request.c: as an
 * Authorization header value, as a raw request target, and as a jti.  Each
 * answer is checked against a second, plainer reading of the same rule
 * (a word-by-word scheme match, the path as '/'-separated segments, a
 * byte loop), so that the two must agree on every input: a bearer token
 * is non-empty, inside the value, trimmed and of token68 bytes exactly
 * when OK; a canonical path has no "//", no '\' or ';', no dot segment
 * and no encoded separator, '%' or control character before its '?'.
 */


#include <stdint.h>
#include <string.h>

#include "fx.h"
#include "tg_request.h"


static int
token68(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')
           || (c >= 'A' && c <= 'Z') || c == '-' || c == '.' || c == '_'
           || c == '~' || c == '+' || c == '/' || c == '=';
}


static unsigned char
lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char) (c + 32) : c;
}


static void
check_bearer(const uint8_t *data, size_t size)
{
    int                   rc, scheme, all68;
    size_t                i, n, from, to;
    const unsigned char  *t;

    t = NULL;
    n = 0;

    rc = tg_request_bearer(data, size, &t, &n);

    FX_CHECK(rc == TG_BEARER_NONE || rc == TG_BEARER_OK
             || rc == TG_BEARER_MALFORMED);

    scheme = (size >= 7 && data[6] == ' ');

    for (i = 0; scheme && i < 6; i++) {
        scheme = (lower(data[i]) == (unsigned char) "bearer"[i]);
    }

    /* what the credentials must be: the rest with its spaces trimmed */

    from = 7;
    to = size;

    while (from < to && data[from] == ' ') {
        from++;
    }

    while (to > from && data[to - 1] == ' ') {
        to--;
    }

    if (!scheme || from >= to) {
        FX_CHECK(rc == TG_BEARER_NONE);
        return;
    }

    FX_CHECK(rc != TG_BEARER_NONE);
    FX_CHECK(t == data + from && n == to - from);
    FX_CHECK(n > 0 && t[0] != ' ' && t[n - 1] != ' ');

    all68 = 1;

    for (i = 0; i < n; i++) {
        all68 = all68 && token68(t[i]);
    }

    FX_CHECK(rc == (all68 ? TG_BEARER_OK : TG_BEARER_MALFORMED));
}


/* a segment is the bytes between two '/', or after the last one */

static int
path_reference(const uint8_t *data, size_t size)
{
    size_t          i, end, start, seg;
    unsigned char   c1, c2;

    for (end = 0; end < size && data[end] != '?'; end++) {
        /* void */
    }

    for (i = 0; i < end; i++) {
        if (data[i] == '\\' || data[i] == ';') {
            return 0;
        }

        if (data[i] == '%') {
            if (i + 2 >= end) {
                return 0;
            }

            c1 = data[i + 1];
            c2 = lower(data[i + 2]);

            if (c1 == '0' || c1 == '1' || (c1 == '2' && c2 == 'e')
                || (c1 == '2' && c2 == 'f') || (c1 == '2' && c2 == '5')
                || (c1 == '3' && c2 == 'b')
                || (c1 == '5' && c2 == 'c'))
            {
                return 0;
            }
        }
    }

    for (i = 0; i < end; i++) {
        if (data[i] != '/') {
            continue;
        }

        start = i + 1;

        for (seg = start; seg < end && data[seg] != '/'; seg++) {
            /* void */
        }

        /* an empty segment but a trailing one, "." and ".." anywhere */

        if ((seg == start && seg < end)
            || (seg - start == 1 && data[start] == '.')
            || (seg - start == 2 && data[start] == '.'
                && data[start + 1] == '.'))
        {
            return 0;
        }
    }

    return 1;
}


static void
check_path(const uint8_t *data, size_t size)
{
    int     canonical;
    size_t  i, end;

    canonical = tg_request_path_canonical(data, size);

    FX_CHECK(canonical == 0 || canonical == 1);
    FX_CHECK(canonical == path_reference(data, size));

    if (!canonical) {
        return;
    }

    for (end = 0; end < size && data[end] != '?'; end++) {
        /* void */
    }

    for (i = 0; i + 1 < end; i++) {
        FX_CHECK(!(data[i] == '/' && data[i + 1] == '/'));
    }

    FX_CHECK(memchr(data, '\\', end) == NULL);

    /* what follows the '?' is never read as the path */

    if (end < size) {
        FX_CHECK(tg_request_path_canonical(data, end) == 1);
    }
}


static void
check_token_id(const uint8_t *data, size_t size)
{
    int     ok, want;
    size_t  i;

    ok = tg_request_token_id_ok(data, size);
    want = (size >= 1 && size <= 64);

    for (i = 0; want && i < size; i++) {
        want = (data[i] > 0x20 && data[i] < 0x7f && data[i] != '"');
    }

    FX_CHECK(ok == want);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_bearer(data, size);
    check_path(data, size);
    check_token_id(data, size);

    return 0;
}
