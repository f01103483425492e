
/*
 * Copyright (C) tenant_guard authors
 *
 * fuzz_jwks: the input is a keys file (JWKS or PEM) for tg_jwks_load().
 * A set that loads is checked against the header's promises (at most 64
 * keys, a known type, an EVP key or a secret of at least 32 bytes, no
 * RSA key under 2048 bits, only the three curves) and then used to verify
 * a few fixed tokens of every algorithm family, so that the fuzzer's keys
 * go through EVP too.  Everything must be freed (LeakSanitizer).
 */


#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/obj_mac.h>

#include "fixtures.h"
#include "fx.h"
#include "tt.h"
#include "tg_jwks.h"
#include "tg_jwt.h"


#define NTOKENS  8

static char    *tokens[NTOKENS];
static size_t   ntokens;


static void
keep(char *token)
{
    tokens[ntokens++] = strdup(token);
}


int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char       *claims;
    fx_keys_t   k;

    (void) argc;
    (void) argv;

    fx_private_keys(&k);

    claims = tt_printf("{\"exp\":%lld,\"sub\":\"fuzz\"}", FX_EXP);

    keep(tt_jwt("RS256", k.rsa, NULL, 0, NULL, claims));
    keep(tt_jwt("PS256", k.rsa, NULL, 0, "rsa", claims));
    keep(tt_jwt("ES256", k.ec256, NULL, 0, NULL, claims));
    keep(tt_jwt("ES384", k.ec384, NULL, 0, "ec384", claims));
    keep(tt_jwt("ES512", k.ec521, NULL, 0, NULL, claims));
    keep(tt_jwt("EdDSA", k.ed, NULL, 0, "ed", claims));
    keep(tt_jwt("HS256", NULL, (const unsigned char *) FX_HS_SECRET,
                strlen(FX_HS_SECRET), NULL, claims));
    keep(tt_jwt("HS512", NULL, (const unsigned char *) FX_HS_SECRET,
                strlen(FX_HS_SECRET), "hs", claims));

    tt_free_all();
    fx_private_keys_free(&k);

    return 0;
}


static void
check_set(const tg_keyset_t *ks)
{
    size_t           i, noct;
    const tg_key_t  *key;

    FX_CHECK(ks->nkeys >= 1 && ks->nkeys <= TG_JWKS_MAX_KEYS);
    FX_CHECK(ks->keys != NULL);

    noct = 0;

    for (i = 0; i < ks->nkeys; i++) {
        key = &ks->keys[i];

        FX_CHECK(memchr(key->alg, '\0', sizeof(key->alg)) != NULL);

        switch (key->type) {

        case TG_KEY_RSA:
            FX_CHECK(key->pkey != NULL && key->secret == NULL);
            FX_CHECK(EVP_PKEY_get_bits(key->pkey) >= TG_JWKS_MIN_RSA_BITS);
            break;

        case TG_KEY_EC:
            FX_CHECK(key->pkey != NULL && key->secret == NULL);
            FX_CHECK(key->curve == NID_X9_62_prime256v1
                     || key->curve == NID_secp384r1
                     || key->curve == NID_secp521r1);
            break;

        case TG_KEY_ED25519:
            FX_CHECK(key->pkey != NULL && key->secret == NULL);
            break;

        case TG_KEY_OCT:
            FX_CHECK(key->pkey == NULL && key->secret != NULL);
            FX_CHECK(key->secret_len >= TG_JWKS_MIN_OCT_LEN);
            noct++;
            break;

        default:
            FX_CHECK(!"a key of no known type");
        }
    }

    FX_CHECK(noct == ks->noct);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int             rc;
    size_t          i;
    tg_jwt_t        jwt;
    tg_keyset_t     ks;
    tg_jwt_conf_t   conf;
    char            err[256];

    err[0] = '\0';
    rc = tg_jwks_load(&ks, data, size, err, sizeof(err));

    FX_CHECK(rc == 0 || rc == -1);

    if (rc != 0) {
        FX_CHECK(ks.nkeys == 0 && ks.keys == NULL && ks.noct == 0);
        FX_CHECK(err[0] != '\0');
        return 0;
    }

    check_set(&ks);

    fx_conf(&conf, &ks, 0);

    for (i = 0; i < ntokens; i++) {
        rc = tg_jwt_verify(&conf, (const unsigned char *) tokens[i],
                           strlen(tokens[i]), FX_NOW, &jwt, err,
                           sizeof(err));
        FX_CHECK(rc == 0 || rc == -1);
        FX_CHECK(rc == 0 || jwt.claims == NULL);
        tg_claims_free(jwt.claims);
    }

    tg_jwks_free(&ks);
    FX_CHECK(ks.nkeys == 0 && ks.keys == NULL);

    return 0;
}
