
/*
 * Copyright (C) tenant_guard authors
 *
 * fuzz_bindpath: the input is a path template and a path, split at the
 * first '\n' (without one, the same bytes are both).  A template the
 * parser accepts must be what its header promises (a '/' first, whole
 * segments, known placeholders, literals a canonical path can hold) and
 * must print back to its own text; the path's placeholders must equal
 * those of a plainer reading (the path split into segments first), and a
 * path made from the template itself, each placeholder filled, must
 * reach every placeholder with its own value.
 */


#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fx.h"
#include "tg_bindpath.h"


#define MAX_PATH_SEGMENTS  1024


static unsigned char
lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char) (c + 32) : c;
}


static void
check_template(const tg_bindpath_t *bp, const uint8_t *text, size_t len)
{
    size_t                        i, k, n, placeholders;
    uint8_t                      *out, *p;
    const tg_bindpath_segment_t  *s;

    FX_CHECK(len >= 2 && len <= TG_BINDPATH_MAX_LEN && text[0] == '/');
    FX_CHECK(bp->nsegments >= 1
             && bp->nsegments <= TG_BINDPATH_MAX_SEGMENTS);
    FX_CHECK(bp->nplaceholders >= 1
             && bp->nplaceholders <= bp->nsegments);

    out = malloc(len + 1);
    FX_CHECK(out != NULL);

    p = out;
    placeholders = 0;

    for (i = 0; i < bp->nsegments; i++) {
        s = &bp->segments[i];

        FX_CHECK(s->len > 0);
        FX_CHECK(s->data > text && s->data + s->len <= text + len);
        FX_CHECK(memchr(s->data, '/', s->len) == NULL);
        FX_CHECK(memchr(s->data, '{', s->len) == NULL);
        FX_CHECK(memchr(s->data, '}', s->len) == NULL);

        *p++ = '/';

        switch (s->kind) {

        case TG_BINDPATH_LITERAL:
            FX_CHECK(!(s->len == 1 && s->data[0] == '.'));
            FX_CHECK(!(s->len == 2 && s->data[0] == '.'
                       && s->data[1] == '.'));

            for (k = 0; k < s->len; k++) {
                FX_CHECK(s->data[k] > 0x20 && s->data[k] != 0x7f
                         && strchr("%\\;?#", s->data[k]) == NULL);
            }

            memcpy(p, s->data, s->len);
            p += s->len;
            break;

        case TG_BINDPATH_CLAIM:
            for (k = 0; k < s->len; k++) {
                FX_CHECK(s->data[k] > 0x20 && s->data[k] < 0x7f);
            }

            memcpy(p, "{claim:", 7);
            p += 7;
            memcpy(p, s->data, s->len);
            p += s->len;
            *p++ = '}';
            placeholders++;
            break;

        case TG_BINDPATH_WORKSPACE:
        case TG_BINDPATH_ORGANIZATION:
        case TG_BINDPATH_INTEGRATION:
            FX_CHECK((s->kind == TG_BINDPATH_WORKSPACE && s->len == 9
                      && memcmp(s->data, "workspace", 9) == 0)
                     || (s->kind == TG_BINDPATH_ORGANIZATION && s->len == 12
                         && memcmp(s->data, "organization", 12) == 0)
                     || (s->kind == TG_BINDPATH_INTEGRATION && s->len == 11
                         && memcmp(s->data, "integration", 11) == 0));
            *p++ = '{';
            memcpy(p, s->data, s->len);
            p += s->len;
            *p++ = '}';
            placeholders++;
            break;

        default:
            FX_CHECK(0);
        }
    }

    FX_CHECK(placeholders == bp->nplaceholders);

    /* printed back: the text, but one trailing '/' */

    n = p - out;
    FX_CHECK(n == len || (n + 1 == len && text[len - 1] == '/'));
    FX_CHECK(memcmp(out, text, n) == 0);

    free(out);
}


/* the path's segments first, then the walk along the template */

static size_t
match_reference(const tg_bindpath_t *bp, const uint8_t *path, size_t len,
    const uint8_t **vals, size_t *lens)
{
    size_t                        i, k, nseg, count;
    size_t                        start[MAX_PATH_SEGMENTS];
    size_t                        end[MAX_PATH_SEGMENTS];
    const tg_bindpath_segment_t  *s;

    if (len == 0 || path[0] != '/') {
        return 0;
    }

    nseg = 0;
    start[0] = 1;

    for (i = 1; i <= len; i++) {
        if (i == len || path[i] == '/') {
            end[nseg] = i;
            nseg++;

            if (i == len || nseg == MAX_PATH_SEGMENTS) {
                break;
            }

            start[nseg] = i + 1;
        }
    }

    count = 0;

    for (i = 0; i < bp->nsegments && i < nseg; i++) {
        s = &bp->segments[i];

        if (s->kind == TG_BINDPATH_LITERAL) {
            if (end[i] - start[i] != s->len) {
                return count;
            }

            for (k = 0; k < s->len; k++) {
                if (lower(path[start[i] + k]) != lower(s->data[k])) {
                    return count;
                }
            }

            continue;
        }

        if (end[i] == start[i]) {
            return count;
        }

        vals[count] = path + start[i];
        lens[count] = end[i] - start[i];
        count++;
    }

    return count;
}


static void
check_match(const tg_bindpath_t *bp, const uint8_t *path, size_t len)
{
    size_t               i, n, m;
    size_t               lens[TG_BINDPATH_MAX_SEGMENTS];
    const uint8_t       *vals[TG_BINDPATH_MAX_SEGMENTS];
    tg_bindpath_value_t  values[TG_BINDPATH_MAX_SEGMENTS];

    n = tg_bindpath_match(bp, path, len, values, TG_BINDPATH_MAX_SEGMENTS);

    FX_CHECK(n <= bp->nplaceholders);

    /* a path of more than MAX_PATH_SEGMENTS segments is not compared */

    if (memchr(path, '/', len) != NULL) {
        m = 0;
        for (i = 0; i < len; i++) {
            m += (path[i] == '/');
        }

        if (m >= MAX_PATH_SEGMENTS) {
            return;
        }
    }

    m = match_reference(bp, path, len, vals, lens);

    FX_CHECK(n == m);

    for (i = 0; i < n; i++) {
        FX_CHECK(values[i].placeholder >= bp->segments
                 && values[i].placeholder < bp->segments + bp->nsegments);
        FX_CHECK(values[i].placeholder->kind != TG_BINDPATH_LITERAL);
        FX_CHECK(values[i].len > 0);
        FX_CHECK(values[i].value == vals[i] && values[i].len == lens[i]);
        FX_CHECK(memchr(values[i].value, '/', values[i].len) == NULL);
    }

    /* fewer slots: the first ones, no more */

    if (n > 1) {
        m = tg_bindpath_match(bp, path, len, values, n - 1);
        FX_CHECK(m == n - 1);
        FX_CHECK(values[0].value == vals[0]);
    }
}


/*
 * The template as a path, "v<x>" for each placeholder: every placeholder
 * is reached, also with upper-case literals and a trailing '/'.
 */

static void
check_filled(const tg_bindpath_t *bp, int upper)
{
    size_t                        i, k, n, len;
    uint8_t                      *path, *p;
    tg_bindpath_value_t           values[TG_BINDPATH_MAX_SEGMENTS];
    const tg_bindpath_segment_t  *s;

    path = malloc(TG_BINDPATH_MAX_LEN + 4 * TG_BINDPATH_MAX_SEGMENTS);
    FX_CHECK(path != NULL);

    p = path;

    for (i = 0; i < bp->nsegments; i++) {
        s = &bp->segments[i];
        *p++ = '/';

        if (s->kind != TG_BINDPATH_LITERAL) {
            *p++ = 'v';
            *p++ = (uint8_t) ('a' + i % 26);
            continue;
        }

        for (k = 0; k < s->len; k++) {
            *p++ = (upper && s->data[k] >= 'a' && s->data[k] <= 'z')
                   ? (uint8_t) (s->data[k] - 32) : s->data[k];
        }
    }

    if (upper) {
        *p++ = '/';
    }

    len = p - path;

    n = tg_bindpath_match(bp, path, len, values, TG_BINDPATH_MAX_SEGMENTS);
    FX_CHECK(n == bp->nplaceholders);

    for (i = 0; i < n; i++) {
        FX_CHECK(values[i].len == 2 && values[i].value[0] == 'v');
    }

    free(path);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t          tlen;
    uint8_t        *text, *path;
    const uint8_t  *nl;
    tg_bindpath_t   bp;
    char            err[160];

    nl = memchr(data, '\n', size);
    tlen = nl ? (size_t) (nl - data) : size;

    /* exact-size copies: ASan sees a read past either */

    text = malloc(tlen ? tlen : 1);
    FX_CHECK(text != NULL);
    memcpy(text, data, tlen);

    if (!tg_bindpath_parse(&bp, text, tlen, err, sizeof(err))) {
        FX_CHECK(err[0] != '\0');
        free(text);
        return 0;
    }

    check_template(&bp, text, tlen);
    check_filled(&bp, 0);
    check_filled(&bp, 1);

    if (nl != NULL) {
        path = malloc(size - tlen - 1 ? size - tlen - 1 : 1);
        FX_CHECK(path != NULL);
        memcpy(path, nl + 1, size - tlen - 1);
        check_match(&bp, path, size - tlen - 1);
        free(path);

    } else {
        check_match(&bp, text, tlen);
    }

    free(text);

    return 0;
}
