
/*
 * Copyright (C) tenant_guard authors
 *
 * fuzz_claimrule: tenant_guard_require_claim's value parser and rules
 * (tg_claimrule.c).  The input is read as a value (tg_claimrule_value_ok),
 * as a path (tg_claimrule_path_ok), and split at its first NUL into claims
 * JSON and a value matched against every claim path of a fixed set and of
 * the input itself.  Invariants: eq and ne never both hold, nor in and
 * nin; has holds only where in cannot (an array is no scalar); a value
 * that cannot be read matches nothing.
 */


#include <stdint.h>
#include <string.h>

#include "fx.h"
#include "tg_claimrule.h"


static const char  *paths[] = {
    "a", "a.b", "a.b.c", "roles", "realm_access.roles", "x.y.z.w"
};


static void
check_rule(const tg_claimrule_doc_t *doc, const unsigned char *path,
    size_t path_len, const unsigned char *value, size_t len)
{
    int                   eq, ne, in, nin, has, readable;
    const unsigned char  *values[1];
    size_t                lens[1];
    char                  err[160];

    values[0] = value;
    lens[0] = len;

    readable = tg_claimrule_value_ok(value, len, err, sizeof(err));

    eq = tg_claimrule_match(doc, path, path_len, TG_CLAIMRULE_EQ, values,
                            lens, 1);
    ne = tg_claimrule_match(doc, path, path_len, TG_CLAIMRULE_NE, values,
                            lens, 1);
    in = tg_claimrule_match(doc, path, path_len, TG_CLAIMRULE_IN, values,
                            lens, 1);
    nin = tg_claimrule_match(doc, path, path_len, TG_CLAIMRULE_NIN, values,
                             lens, 1);
    has = tg_claimrule_match(doc, path, path_len, TG_CLAIMRULE_HAS, values,
                             lens, 1);

    FX_CHECK(eq == 0 || eq == 1);
    FX_CHECK(!(eq && ne));
    FX_CHECK(!(in && nin));
    FX_CHECK(eq == in && ne == nin);
    FX_CHECK(!(has && (in || nin)));

    if (!readable) {
        FX_CHECK(!eq && !ne && !in && !nin && !has);
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t               i, split;
    const uint8_t       *nul;
    tg_claimrule_doc_t  *doc;
    char                 err[160];

    (void) tg_claimrule_value_ok(data, size, err, sizeof(err));

    if (tg_claimrule_path_ok(data, size, err, sizeof(err))) {
        FX_CHECK(size > 0 && data[0] != '.' && data[size - 1] != '.');
    }

    nul = memchr(data, '\0', size);
    if (nul == NULL) {
        return 0;
    }

    split = (size_t) (nul - data);

    doc = tg_claimrule_doc(data, split);

    for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        check_rule(doc, (const unsigned char *) paths[i], strlen(paths[i]),
                   nul + 1, size - split - 1);
    }

    if (tg_claimrule_path_ok(nul + 1, size - split - 1, err, sizeof(err))) {
        check_rule(doc, nul + 1, size - split - 1, (const unsigned char *) "x",
                   1);
    }

    tg_claimrule_doc_free(doc);

    return 0;
}
