
/*
 * Copyright (C) tenant_guard authors
 *
 * fuzz_b64: the input is base64url text for tg_b64url_decode(), decoded
 * into a heap buffer of exactly TG_B64URL_DECODED_LEN(len) bytes.  What
 * decodes must be canonical: its length is len * 3 / 4, and encoding it
 * again gives back the input byte for byte (one encoding per value).
 */


#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fx.h"
#include "tg_b64.h"


static const char  map[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";


static size_t
encode(char *dst, const unsigned char *src, size_t len)
{
    size_t    i, n;
    unsigned  v;

    n = 0;

    for (i = 0; i < len; i += 3) {
        v = (unsigned) src[i] << 16;
        v |= (len - i > 1) ? (unsigned) src[i + 1] << 8 : 0;
        v |= (len - i > 2) ? src[i + 2] : 0;

        dst[n++] = map[v >> 18 & 63];
        dst[n++] = map[v >> 12 & 63];

        if (len - i > 1) {
            dst[n++] = map[v >> 6 & 63];
        }

        if (len - i > 2) {
            dst[n++] = map[v & 63];
        }
    }

    return n;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    long            n;
    char           *again;
    unsigned char  *buf;

    buf = malloc(TG_B64URL_DECODED_LEN(size));
    if (buf == NULL) {
        return 0;
    }

    n = tg_b64url_decode(buf, data, size);

    FX_CHECK(n >= -1);

    if (n >= 0) {
        FX_CHECK((size_t) n == size * 3 / 4);
        FX_CHECK((size_t) n <= TG_B64URL_DECODED_LEN(size));

        again = malloc(size + 4);
        FX_CHECK(again != NULL);
        FX_CHECK(encode(again, buf, (size_t) n) == size);
        FX_CHECK(memcmp(again, data, size) == 0);
        free(again);

    } else {
        /* refused: a byte outside the alphabet, or a length of 4k + 1, or
         * unused bits set */
        size_t  i;
        int     outside = (size % 4 == 1);

        for (i = 0; i < size && !outside; i++) {
            outside = strchr(map, data[i]) == NULL || data[i] == '\0';
        }

        if (!outside) {
            /* only the last character can be at fault */
            FX_CHECK(size % 4 == 2 || size % 4 == 3);
        }
    }

    free(buf);
    return 0;
}
