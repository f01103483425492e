
/*
 * Copyright (C) tenant_guard authors
 */


#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "tg_ident.h"
#include "tg_json.h"


static int tg_ident_space(utf8proc_int32_t cp);
static void tg_ident_fold_name(const char *name, unsigned char *fold,
    size_t *n);
static int tg_ident_name_like(const unsigned char *key, size_t len,
    const unsigned char *fold, size_t n);
static int tg_ident_hex(unsigned char c);
static int tg_ident_form_decode(const unsigned char *in, size_t len,
    unsigned char *out, size_t size, size_t *n);


int
tg_ident_normalize(const unsigned char *in, size_t len, unsigned char *out,
    size_t size, size_t *n)
{
    size_t             i, start, end;
    utf8proc_int32_t   cp;
    utf8proc_uint8_t  *map;
    utf8proc_ssize_t   l, m;

    /* refused before mapping: utf8proc would drop or rewrite some of them */

    for (i = 0; i < len; i += (size_t) l) {
        l = utf8proc_iterate(in + i, (utf8proc_ssize_t) (len - i), &cp);

        if (l <= 0 || cp < 0) {
            return TG_IDENT_BAD_UTF8;
        }

        if (utf8proc_category(cp) == UTF8PROC_CATEGORY_CC) {
            return TG_IDENT_CONTROL;
        }
    }

    map = NULL;
    m = utf8proc_map(in, (utf8proc_ssize_t) len, &map,
                     UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT
                     | UTF8PROC_CASEFOLD | UTF8PROC_IGNORE);

    if (m < 0) {
        free(map);
        return (m == UTF8PROC_ERROR_NOMEM) ? TG_IDENT_NOMEM
                                           : TG_IDENT_BAD_UTF8;
    }

    /* the bytes from the first to past the last code point not a space */

    start = (size_t) m;
    end = 0;

    for (i = 0; i < (size_t) m; i += (size_t) l) {
        l = utf8proc_iterate(map + i, m - (utf8proc_ssize_t) i, &cp);

        if (l <= 0) {
            free(map);
            return TG_IDENT_BAD_UTF8;
        }

        if (!tg_ident_space(cp)) {
            if (start == (size_t) m) {
                start = i;
            }

            end = i + (size_t) l;
        }
    }

    if (start >= end) {
        free(map);
        return TG_IDENT_EMPTY;
    }

    if (end - start > size) {
        free(map);
        return TG_IDENT_TOO_LONG;
    }

    memcpy(out, map + start, end - start);
    *n = end - start;

    free(map);

    return TG_IDENT_OK;
}


static int
tg_ident_space(utf8proc_int32_t cp)
{
    utf8proc_category_t  c;

    c = utf8proc_category(cp);

    return c == UTF8PROC_CATEGORY_ZS || c == UTF8PROC_CATEGORY_ZL
           || c == UTF8PROC_CATEGORY_ZP;
}


const char *
tg_ident_error(int rc)
{
    switch (rc) {
    case TG_IDENT_OK:
        return "ok";
    case TG_IDENT_EMPTY:
        return "the login identifier is empty";
    case TG_IDENT_BAD_UTF8:
        return "the login identifier is not valid UTF-8";
    case TG_IDENT_CONTROL:
        return "the login identifier has a control character";
    case TG_IDENT_TOO_LONG:
        return "the login identifier is too long";
    default:
        return "the login identifier cannot be read";
    }
}


/*
 * A key that is the field's name in another case ("UserName", "u\u017Fername")
 * is a second copy of the field: Go's encoding/json and .NET bind names
 * case-insensitively, the last one winning, and would read another
 * identifier than the one counted.
 */

static void
tg_ident_fold_name(const char *name, unsigned char *fold, size_t *n)
{
    /* a name that does not fold (not UTF-8, too long) is compared as is */

    if (tg_ident_normalize((const unsigned char *) name, strlen(name),
                           fold, TG_IDENT_NAME_MAX, n)
        != TG_IDENT_OK)
    {
        *n = 0;
    }
}


static int
tg_ident_name_like(const unsigned char *key, size_t len,
    const unsigned char *fold, size_t n)
{
    size_t         m;
    unsigned char  buf[TG_IDENT_NAME_MAX];

    if (n == 0 || len > TG_IDENT_NAME_MAX
        || tg_ident_normalize(key, len, buf, sizeof(buf), &m) != TG_IDENT_OK)
    {
        return 0;
    }

    return m == n && memcmp(buf, fold, n) == 0;
}


int
tg_ident_json_field(const unsigned char *body, size_t len, const char *name,
    unsigned char *out, size_t size, size_t *n)
{
    size_t          i, l, flen;
    json_t         *json, *value, *v;
    const char     *s, *key;
    char            err[128];
    unsigned char   fold[TG_IDENT_NAME_MAX];

    tg_ident_fold_name(name, fold, &flen);

    json = tg_json_parse_object(body, len, len, err, sizeof(err));
    if (json == NULL) {
        return -1;
    }

    json_object_foreach(json, key, v) {
        if (strcmp(key, name) != 0
            && tg_ident_name_like((const unsigned char *) key, strlen(key),
                                  fold, flen))
        {
            json_decref(json);
            return -1;
        }
    }

    value = json_object_get(json, name);

    if (value == NULL) {
        json_decref(json);
        return 0;
    }

    if (!json_is_string(value) || json_string_length(value) > size) {
        json_decref(json);
        return -1;
    }

    s = json_string_value(value);
    l = json_string_length(value);

    for (i = 0; i < l; i++) {
        if ((unsigned char) s[i] < 0x20) {
            json_decref(json);
            return -1;
        }
    }

    memcpy(out, s, l);
    *n = l;

    json_decref(json);

    return 1;
}


/*
 * application/x-www-form-urlencoded (the WHATWG URL standard's parser):
 * pairs split on '&', name and value on the first '=', '+' is a space,
 * %XX a byte.  A stray '%' is refused rather than kept, and names are
 * compared decoded, so "user%6Eame" is "username"; the name in another
 * case is the field twice (ASP.NET's form keys ignore case), and so is
 * one that PHP reads as the field ("user.name" is "user_name").  A body that
 * opens as a JSON object is not a form, whatever its Content-Type says:
 * an upstream that decodes JSON without looking at the type (common in
 * Go) reads the object, where a form's "&name=" could hide in a string.
 */

int
tg_ident_form_field(const unsigned char *body, size_t len, const char *name,
    unsigned char *out, size_t size, size_t *n)
{
    int                   found;
    size_t                i, j, k, l, nlen, klen, vlen, flen;
    unsigned char         key[256], fold[TG_IDENT_NAME_MAX];
    const unsigned char  *eq;

    tg_ident_fold_name(name, fold, &flen);

    for (i = 0; i < len; i++) {
        if (body[i] != ' ' && body[i] != '\t' && body[i] != '\r'
            && body[i] != '\n')
        {
            break;
        }
    }

    if (len - i >= 3 && memcmp(body + i, "\xef\xbb\xbf", 3) == 0) {
        i += 3;
    }

    if (i < len && body[i] == '{') {
        return -1;
    }

    nlen = strlen(name);
    found = 0;

    for (i = 0; i <= len; i = j + 1) {
        for (j = i; j < len && body[j] != '&'; j++) { /* void */ }

        if (j == i) {
            continue;
        }

        eq = memchr(body + i, '=', j - i);
        k = (eq != NULL) ? (size_t) (eq - body) : j;

        if (tg_ident_form_decode(body + i, k - i, key, sizeof(key), &klen)
            != 0)
        {
            /* a name longer than any field we read is not ours */

            if (k - i < sizeof(key)) {
                return -1;
            }

            continue;
        }

        if (klen != nlen || memcmp(key, name, nlen) != 0) {

            /* PHP reads ' ', '.' and '[' in a name as '_' */

            for (l = 0; l < klen; l++) {
                if (key[l] == ' ' || key[l] == '.' || key[l] == '[') {
                    key[l] = '_';
                }
            }

            if (tg_ident_name_like(key, klen, fold, flen)
                || (klen == nlen && memcmp(key, name, nlen) == 0))
            {
                return -1;
            }

            continue;
        }

        if (found) {
            return -1;
        }

        found = 1;

        if (eq == NULL) {
            *n = 0;
            continue;
        }

        if (tg_ident_form_decode(body + k + 1, j - k - 1, out, size, &vlen)
            != 0)
        {
            return -1;
        }

        *n = vlen;
    }

    if (found) {
        for (i = 0; i < *n; i++) {
            if (out[i] < 0x20) {
                return -1;
            }
        }
    }

    return found;
}


static int
tg_ident_form_decode(const unsigned char *in, size_t len, unsigned char *out,
    size_t size, size_t *n)
{
    int     hi, lo;
    size_t  i, o;

    o = 0;

    for (i = 0; i < len; i++) {
        if (o == size) {
            return -1;
        }

        if (in[i] == '+') {
            out[o++] = ' ';
            continue;
        }

        if (in[i] != '%') {
            out[o++] = in[i];
            continue;
        }

        if (len - i < 3) {
            return -1;
        }

        hi = tg_ident_hex(in[i + 1]);
        lo = tg_ident_hex(in[i + 2]);

        if (hi < 0 || lo < 0) {
            return -1;
        }

        out[o++] = (unsigned char) (hi << 4 | lo);
        i += 2;
    }

    *n = o;

    return 0;
}


static int
tg_ident_hex(unsigned char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    c |= 0x20;

    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }

    return -1;
}
