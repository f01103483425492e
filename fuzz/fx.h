
/*
 * Copyright (C) tenant_guard authors
 *
 * Shared by the fuzz targets and the seed generator: the fixed key set of
 * fixtures.h, and small invariant checks that abort() (a crash libFuzzer
 * records) when the engine breaks a promise of its headers.
 */


#ifndef _TG_FUZZ_FX_H_INCLUDED_
#define _TG_FUZZ_FX_H_INCLUDED_


#include <stdio.h>
#include <stdlib.h>

#include <openssl/evp.h>

#include "tg_jwks.h"
#include "tg_jwt.h"


typedef struct {
    EVP_PKEY  *rsa;
    EVP_PKEY  *ec256;
    EVP_PKEY  *ec384;
    EVP_PKEY  *ec521;
    EVP_PKEY  *ed;
} fx_keys_t;


/* the private keys of fixtures.h; aborts on failure */
void fx_private_keys(fx_keys_t *k);
void fx_private_keys_free(fx_keys_t *k);

/*
 * The public key set of those keys as JWKS text (malloc'd): kids "rsa",
 * "ec256", "ec384", "ec521", "ed", "hs" (oct, FX_HS_SECRET), and the
 * Ed25519 key once more without a kid.
 */
char *fx_jwks_text(const fx_keys_t *k);

/* loads fx_jwks_text() into ks; aborts on failure */
void fx_keyset(tg_keyset_t *ks);

/* a verification setting with every algorithm allowed */
void fx_conf(tg_jwt_conf_t *conf, const tg_keyset_t *ks, int strict);

/*
 * Runs every claim helper of tg_jwt.h on claims, checking what their
 * comments promise (lengths within the buffer, no control characters).
 */
void fx_claims(const tg_claims_t *claims);


#define FX_CHECK(cond)                                                       \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__,      \
                    __LINE__, #cond);                                        \
            abort();                                                         \
        }                                                                    \
    } while (0)


#endif /* _TG_FUZZ_FX_H_INCLUDED_ */
