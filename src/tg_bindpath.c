
/*
 * Copyright (C) tenant_guard authors
 */


#include <stdio.h>
#include <stddef.h>
#include <string.h>

#include "tg_bindpath.h"


#define tg_bindpath_lower(c)                                                 \
    (((c) >= 'A' && (c) <= 'Z') ? ((c) | 0x20) : (c))


typedef struct {
    const char  *name;
    size_t       len;
    int          kind;
} tg_bindpath_name_t;


static int tg_bindpath_segment(tg_bindpath_t *bp, const unsigned char *seg,
    size_t n, char *err, size_t size);
static int tg_bindpath_placeholder(tg_bindpath_segment_t *s,
    const unsigned char *name, size_t n, char *err, size_t size);
static int tg_bindpath_literal(tg_bindpath_segment_t *s,
    const unsigned char *seg, size_t n, char *err, size_t size);
static int tg_bindpath_fail(char *err, size_t size, const char *reason);


static const tg_bindpath_name_t  tg_bindpath_names[] = {
    { "workspace", 9, TG_BINDPATH_WORKSPACE },
    { "organization", 12, TG_BINDPATH_ORGANIZATION },
    { "integration", 11, TG_BINDPATH_INTEGRATION }
};


int
tg_bindpath_parse(tg_bindpath_t *bp, const unsigned char *text, size_t len,
    char *err, size_t size)
{
    const unsigned char  *p, *end, *seg;

    bp->nsegments = 0;
    bp->nplaceholders = 0;

    if (len == 0 || text[0] != '/') {
        return tg_bindpath_fail(err, size, "it does not start with \"/\"");
    }

    if (len > TG_BINDPATH_MAX_LEN) {
        return tg_bindpath_fail(err, size, "it is longer than 1024 bytes");
    }

    end = text + len;

    /* "/workspaces/{workspace}/" is "/workspaces/{workspace}" */

    if (len > 1 && end[-1] == '/') {
        end--;
    }

    p = text + 1;

    for ( ;; ) {
        seg = p;

        while (p < end && *p != '/') {
            p++;
        }

        if (!tg_bindpath_segment(bp, seg, p - seg, err, size)) {
            return 0;
        }

        if (p == end) {
            break;
        }

        p++;
    }

    if (bp->nplaceholders == 0) {
        return tg_bindpath_fail(err, size, "it has no placeholder");
    }

    return 1;
}


static int
tg_bindpath_segment(tg_bindpath_t *bp, const unsigned char *seg, size_t n,
    char *err, size_t size)
{
    int                     lbrace, rbrace;
    tg_bindpath_segment_t  *s;

    if (n == 0) {
        return tg_bindpath_fail(err, size, "it has an empty segment");
    }

    if (bp->nsegments == TG_BINDPATH_MAX_SEGMENTS) {
        return tg_bindpath_fail(err, size, "it has more than 32 segments");
    }

    s = &bp->segments[bp->nsegments];

    lbrace = (memchr(seg, '{', n) != NULL);
    rbrace = (memchr(seg, '}', n) != NULL);

    if (lbrace != rbrace) {
        return tg_bindpath_fail(err, size, "it has an unbalanced brace");
    }

    if (lbrace) {

        if (n < 2 || seg[0] != '{' || seg[n - 1] != '}') {
            return tg_bindpath_fail(err, size, "a placeholder must be a "
                                    "whole segment, such as "
                                    "\"/{workspace}/\"");
        }

        if (!tg_bindpath_placeholder(s, seg + 1, n - 2, err, size)) {
            return 0;
        }

        bp->nplaceholders++;

    } else if (!tg_bindpath_literal(s, seg, n, err, size)) {
        return 0;
    }

    bp->nsegments++;

    return 1;
}


static int
tg_bindpath_placeholder(tg_bindpath_segment_t *s, const unsigned char *name,
    size_t n, char *err, size_t size)
{
    size_t  i;

    if (memchr(name, '{', n) != NULL || memchr(name, '}', n) != NULL) {
        return tg_bindpath_fail(err, size, "a placeholder must be a whole "
                                "segment, such as \"/{workspace}/\"");
    }

    for (i = 0; i < sizeof(tg_bindpath_names) / sizeof(tg_bindpath_names[0]);
         i++)
    {
        if (n == tg_bindpath_names[i].len
            && memcmp(name, tg_bindpath_names[i].name, n) == 0)
        {
            s->data = name;
            s->len = n;
            s->kind = tg_bindpath_names[i].kind;
            return 1;
        }
    }

    if (n < 6 || memcmp(name, "claim:", 6) != 0) {
        return tg_bindpath_fail(err, size, "unknown placeholder, must be "
                                "\"{workspace}\", \"{organization}\", "
                                "\"{integration}\" or \"{claim:NAME}\"");
    }

    if (n == 6) {
        return tg_bindpath_fail(err, size, "\"{claim:NAME}\" has an empty "
                                "NAME");
    }

    for (i = 6; i < n; i++) {
        if (name[i] <= 0x20 || name[i] >= 0x7f) {
            return tg_bindpath_fail(err, size, "a claim name may hold only "
                                    "printable ASCII other than the space");
        }
    }

    s->data = name + 6;
    s->len = n - 6;
    s->kind = TG_BINDPATH_CLAIM;

    return 1;
}


/* a literal a canonical path cannot hold would make a template dead */

static int
tg_bindpath_literal(tg_bindpath_segment_t *s, const unsigned char *seg,
    size_t n, char *err, size_t size)
{
    size_t  i;

    if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.'
                                      && seg[1] == '.'))
    {
        return tg_bindpath_fail(err, size, "it has a \".\" or \"..\" "
                                "segment");
    }

    for (i = 0; i < n; i++) {

        switch (seg[i]) {

        case '{':
        case '}':
            return tg_bindpath_fail(err, size, "a placeholder must be a "
                                    "whole segment, such as "
                                    "\"/{workspace}/\"");

        case '%':
        case '\\':
        case ';':
        case '?':
        case '#':
            return tg_bindpath_fail(err, size, "a literal segment holds "
                                    "'%', '\\', ';', '?' or '#' (the path "
                                    "is matched decoded)");

        default:
            if (seg[i] <= 0x20 || seg[i] == 0x7f) {
                return tg_bindpath_fail(err, size, "a literal segment "
                                        "holds a space or a control "
                                        "character");
            }
        }
    }

    s->data = seg;
    s->len = n;
    s->kind = TG_BINDPATH_LITERAL;

    return 1;
}


static int
tg_bindpath_fail(char *err, size_t size, const char *reason)
{
    if (size > 0) {
        snprintf(err, size, "%s", reason);
    }

    return 0;
}


size_t
tg_bindpath_match(const tg_bindpath_t *bp, const unsigned char *path,
    size_t len, tg_bindpath_value_t *values, size_t n)
{
    size_t                        i, k, count;
    const unsigned char          *p, *end, *next, *slash;
    const tg_bindpath_segment_t  *s;

    count = 0;

    if (len == 0 || path[0] != '/') {
        return 0;
    }

    p = path + 1;
    end = path + len;

    for (i = 0; i < bp->nsegments && p != NULL && count < n; i++) {

        s = &bp->segments[i];

        slash = memchr(p, '/', end - p);

        if (slash != NULL) {
            next = slash + 1;

        } else {
            slash = end;
            next = NULL;        /* the path's last segment */
        }

        if (s->kind == TG_BINDPATH_LITERAL) {

            if ((size_t) (slash - p) != s->len) {
                break;
            }

            for (k = 0; k < s->len; k++) {
                if (tg_bindpath_lower(p[k]) != tg_bindpath_lower(s->data[k]))
                {
                    break;
                }
            }

            if (k != s->len) {
                break;
            }

        } else {

            /* "/workspaces/" names no workspace */

            if (slash == p) {
                break;
            }

            values[count].placeholder = s;
            values[count].value = p;
            values[count].len = slash - p;
            count++;
        }

        p = next;
    }

    return count;
}
