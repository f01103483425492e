
/*
 * Copyright (C) tenant_guard authors
 */


#include <stddef.h>
#include <string.h>

#include "tg_request.h"


#define TG_REQUEST_TOKEN_ID_MAX  64

#define tg_request_lower(c)                                                  \
    (((c) >= 'A' && (c) <= 'Z') ? ((c) | 0x20) : (c))


/*
 * The token68 alphabet (RFC 9110, section 11.2), '=' anywhere, as the
 * glue always has: 1 for a byte that may be in a token.  A table, since
 * every request's token is checked byte by byte.
 */
#define TG_T68(c)  [c] = 1

static const unsigned char  tg_request_token68[256] = {
    TG_T68('0'), TG_T68('1'), TG_T68('2'), TG_T68('3'), TG_T68('4'),
    TG_T68('5'), TG_T68('6'), TG_T68('7'), TG_T68('8'), TG_T68('9'),
    TG_T68('A'), TG_T68('B'), TG_T68('C'), TG_T68('D'), TG_T68('E'),
    TG_T68('F'), TG_T68('G'), TG_T68('H'), TG_T68('I'), TG_T68('J'),
    TG_T68('K'), TG_T68('L'), TG_T68('M'), TG_T68('N'), TG_T68('O'),
    TG_T68('P'), TG_T68('Q'), TG_T68('R'), TG_T68('S'), TG_T68('T'),
    TG_T68('U'), TG_T68('V'), TG_T68('W'), TG_T68('X'), TG_T68('Y'),
    TG_T68('Z'),
    TG_T68('a'), TG_T68('b'), TG_T68('c'), TG_T68('d'), TG_T68('e'),
    TG_T68('f'), TG_T68('g'), TG_T68('h'), TG_T68('i'), TG_T68('j'),
    TG_T68('k'), TG_T68('l'), TG_T68('m'), TG_T68('n'), TG_T68('o'),
    TG_T68('p'), TG_T68('q'), TG_T68('r'), TG_T68('s'), TG_T68('t'),
    TG_T68('u'), TG_T68('v'), TG_T68('w'), TG_T68('x'), TG_T68('y'),
    TG_T68('z'),
    TG_T68('-'), TG_T68('.'), TG_T68('_'), TG_T68('~'), TG_T68('+'),
    TG_T68('/'), TG_T68('=')
};


int
tg_request_bearer(const unsigned char *value, size_t len,
    const unsigned char **token, size_t *token_len)
{
    size_t                i;
    unsigned              good;
    const unsigned char  *p, *end;

    /* the scheme is case-insensitive (RFC 9110, section 11.1) */

    if (len < 7 || value[6] != ' ') {
        return TG_BEARER_NONE;
    }

    for (i = 0; i < 6; i++) {
        if (tg_request_lower(value[i]) != (unsigned char) "bearer"[i]) {
            return TG_BEARER_NONE;
        }
    }

    p = value + 7;
    end = value + len;

    while (p < end && *p == ' ') {
        p++;
    }

    while (end > p && end[-1] == ' ') {
        end--;
    }

    if (p == end) {
        return TG_BEARER_NONE;
    }

    *token = p;
    *token_len = end - p;

    /* all of it, four bytes a turn, no branch on the bytes themselves */

    good = 1;

    for (i = 0; i + 4 <= *token_len; i += 4) {
        good &= tg_request_token68[p[i]] & tg_request_token68[p[i + 1]]
                & tg_request_token68[p[i + 2]] & tg_request_token68[p[i + 3]];
    }

    for ( /* void */ ; i < *token_len; i++) {
        good &= tg_request_token68[p[i]];
    }

    return good ? TG_BEARER_OK : TG_BEARER_MALFORMED;
}


/*
 * A bound id is taken from the normalized URI, while a backend may see
 * the raw one: where the two can differ (encoded '/', '.', '\', control
 * characters, empty or dot segments; '%25', which a backend that decodes
 * twice reads as another escape; ';' and '%3B', which servlet containers
 * read as a path parameter, so "/ws1/..;/ws2" is "/ws2" there, and which
 * nginx forwards decoded) the request is
 * refused rather than guessed at.
 */

int
tg_request_path_canonical(const unsigned char *uri, size_t len)
{
    unsigned char         c1, c2;
    const unsigned char  *p, *end;

    /* an empty target may come as NULL: no pointer arithmetic on it */

    if (len == 0) {
        return 1;
    }

    end = memchr(uri, '?', len);

    if (end == NULL) {
        end = uri + len;
    }

    for (p = uri; p < end; p++) {

        switch (*p) {

        case '%':
            if (end - p < 3) {
                return 0;
            }

            c1 = p[1];
            c2 = tg_request_lower(p[2]);

            if ((c1 == '2' && (c2 == 'f' || c2 == 'e' || c2 == '5'))
                || (c1 == '3' && c2 == 'b')
                || (c1 == '5' && c2 == 'c')
                || c1 == '0' || c1 == '1')
            {
                return 0;
            }

            break;

        case '\\':
        case ';':
            return 0;

        case '/':
            if (p + 1 < end && p[1] == '/') {
                return 0;
            }

            if (p + 1 < end && p[1] == '.'
                && (p + 2 == end || p[2] == '/'
                    || (p[2] == '.' && (p + 3 == end || p[3] == '/'))))
            {
                return 0;
            }

            break;
        }
    }

    return 1;
}


int
tg_request_token_id_ok(const unsigned char *jti, size_t len)
{
    size_t  i;

    if (len == 0 || len > TG_REQUEST_TOKEN_ID_MAX) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (jti[i] <= 0x20 || jti[i] >= 0x7f || jti[i] == '"') {
            return 0;
        }
    }

    return 1;
}
