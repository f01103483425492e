
/*
 * Copyright (C) tenant_guard authors
 *
 * fuzz_ident: the input is a login identifier for tg_ident_normalize()
 * (a few output sizes, exact-size heap buffers) and a login body for
 * tg_ident_json_field() and tg_ident_form_field().
 */


#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "fx.h"
#include "tg_ident.h"


static void
normalized(const uint8_t *data, size_t size, size_t out_size)
{
    int               rc;
    size_t            n, i;
    uint8_t          *out;
    utf8proc_int32_t  cp;
    utf8proc_ssize_t  l;

    out = malloc(out_size ? out_size : 1);
    FX_CHECK(out != NULL);

    n = (size_t) -1;
    rc = tg_ident_normalize(data, size, out, out_size, &n);

    FX_CHECK(rc <= TG_IDENT_OK && rc >= TG_IDENT_NOMEM);

    if (rc == TG_IDENT_OK) {
        FX_CHECK(n > 0 && n <= out_size);

        /* valid UTF-8, no control character, no space at either end */

        for (i = 0; i < n; i += (size_t) l) {
            l = utf8proc_iterate(out + i, (utf8proc_ssize_t) (n - i), &cp);
            FX_CHECK(l > 0);
            FX_CHECK(utf8proc_category(cp) != UTF8PROC_CATEGORY_CC);
            FX_CHECK(i != 0 || utf8proc_category(cp) != UTF8PROC_CATEGORY_ZS);

            if (i + (size_t) l == n) {
                FX_CHECK(utf8proc_category(cp) != UTF8PROC_CATEGORY_ZS);
            }
        }
    }

    free(out);
}


static void
fields(const uint8_t *data, size_t size, size_t out_size)
{
    int       rc;
    size_t    n, i;
    uint8_t  *out;

    out = malloc(out_size ? out_size : 1);
    FX_CHECK(out != NULL);

    n = (size_t) -1;
    rc = tg_ident_form_field(data, size, "username", out, out_size, &n);
    FX_CHECK(rc >= -1 && rc <= 1);

    if (rc == 1) {
        FX_CHECK(n <= out_size);

        for (i = 0; i < n; i++) {
            FX_CHECK(out[i] >= 0x20);
        }
    }

    n = (size_t) -1;
    rc = tg_ident_json_field(data, size, "username", out, out_size, &n);
    FX_CHECK(rc >= -1 && rc <= 1);

    if (rc == 1) {
        FX_CHECK(n <= out_size);
    }

    free(out);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t               i;
    static const size_t  sizes[] = { 0, 1, 8, 256 };

    for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        normalized(data, size, sizes[i]);
        fields(data, size, sizes[i]);
    }

    return 0;
}
