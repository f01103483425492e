
/*
 * Copyright (C) tenant_guard authors
 *
 * fuzz_json_field: the input is JSON, as a login body for
 * tg_json_field_string() (a few fields, a few buffer sizes), as an object
 * for tg_json_parse_object(), as an opaque token's record for
 * tg_jwt_check_record(), and as claims (tg_claims_parse()) for the claim
 * helpers of tg_jwt.h.
 */


#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fixtures.h"
#include "fx.h"
#include "tg_json.h"
#include "tg_jwt.h"
#include "tg_request.h"


static tg_keyset_t    keys;
static tg_jwt_conf_t  conf;


int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void) argc;
    (void) argv;

    memset(&keys, 0, sizeof(keys));
    fx_conf(&conf, &keys, 1);

    return 0;
}


static void
fields(const uint8_t *data, size_t size)
{
    int          rc;
    size_t       i, j, n;
    char        *buf;
    static const char   *names[] = { "username", "email", "user", "" };
    static const size_t  sizes[] = { 0, 1, 8, 256 };

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        for (j = 0; j < sizeof(sizes) / sizeof(sizes[0]); j++) {

            /* an exact-size buffer: ASan sees a write past size */
            buf = malloc(sizes[j] ? sizes[j] : 1);
            FX_CHECK(buf != NULL);

            n = (size_t) -1;
            rc = tg_json_field_string(data, size, names[i], buf, sizes[j],
                                      &n);
            FX_CHECK(rc == 0 || rc == 1);

            if (rc == 1) {
                FX_CHECK(n <= sizes[j]);

                for (size_t k = 0; k < n; k++) {
                    FX_CHECK((unsigned char) buf[k] >= 0x20);
                }
            }

            free(buf);
        }
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int           rc, parsed;
    json_t       *json;
    tg_jwt_t      jwt;
    tg_claims_t  *claims;
    char          err[256];

    fields(data, size);

    json = tg_json_parse_object(data, size, 4096, err, sizeof(err));
    parsed = (json != NULL);

    if (json != NULL) {
        FX_CHECK(json_is_object(json));
        FX_CHECK(size <= 4096);
        json_decref(json);
    }

    /* the glue's parse of a cached payload: the same rules, its own bound */

    claims = tg_claims_parse(data, size, err, sizeof(err));

    FX_CHECK((claims != NULL) == (parsed || size > 4096));

    if (claims != NULL) {
        fx_claims(claims);
        tg_claims_free(claims);

    } else {
        FX_CHECK(err[0] != '\0');
    }

    err[0] = '\0';
    rc = tg_jwt_check_record(&conf, data, size, FX_NOW, &jwt, err,
                             sizeof(err));
    FX_CHECK(rc == 0 || rc == -1);

    if (rc == 0) {
        FX_CHECK(jwt.claims != NULL);
        FX_CHECK(jwt.iat == -1 || jwt.iat <= FX_NOW + conf.leeway);
        FX_CHECK(jwt.exp > -1000000000000000LL
                 && jwt.exp < 1000000000000000LL);
        FX_CHECK(jwt.exp + conf.leeway > FX_NOW);
        fx_claims(jwt.claims);
        tg_claims_free(jwt.claims);

    } else {
        FX_CHECK(jwt.claims == NULL && err[0] != '\0');
    }

    return 0;
}
