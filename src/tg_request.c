
/*
 * Copyright (C) tenant_guard authors
 */


#include <stddef.h>
#include <string.h>

#include "tg_request.h"


#define TG_REQUEST_TOKEN_ID_MAX  64

#define tg_request_lower(c)                                                  \
    (((c) >= 'A' && (c) <= 'Z') ? ((c) | 0x20) : (c))


static int tg_request_token68(unsigned char c);


int
tg_request_bearer(const unsigned char *value, size_t len,
    const unsigned char **token, size_t *token_len)
{
    size_t                i;
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

    for (i = 0; i < *token_len; i++) {
        if (!tg_request_token68(p[i])) {
            return TG_BEARER_MALFORMED;
        }
    }

    return TG_BEARER_OK;
}


/* '=' is taken anywhere, not only at the end, as the glue always has */

static int
tg_request_token68(unsigned char c)
{
    return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')
           || c == '-' || c == '.' || c == '_' || c == '~' || c == '+'
           || c == '/' || c == '=';
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
