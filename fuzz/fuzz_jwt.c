
/*
 * Copyright (C) tenant_guard authors
 *
 * fuzz_jwt: the input is a token, verified with tg_jwt_verify() against a
 * fixed key set (RSA-2048, P-256, P-384, P-521, Ed25519, an HMAC secret,
 * and a kid-less Ed25519 key; fixtures.h) with every algorithm allowed,
 * once with an issuer and audiences and once without.
 *
 * The signature stops a mutated token long before its claims; so the
 * input's "header.payload" is also signed here with the HMAC key (HS256,
 * HS384, HS512) and verified again: the fuzzer's header and payload then
 * reach the header checks, the JSON of the payload and the claim checks.
 * Every accepted token's claims go through the claim helpers.
 */


#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "fixtures.h"
#include "fx.h"
#include "tg_b64.h"
#include "tg_jwks.h"
#include "tg_jwt.h"


static tg_keyset_t    keys;
static tg_jwt_conf_t  strict, lax;


int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void) argc;
    (void) argv;

    fx_keyset(&keys);
    fx_conf(&strict, &keys, 1);
    fx_conf(&lax, &keys, 0);

    return 0;
}


static int
verify(const tg_jwt_conf_t *conf, const uint8_t *data, size_t size)
{
    int       rc;
    tg_jwt_t  jwt;
    char      err[256];

    err[0] = '\0';
    memset(&jwt, 0xa5, sizeof(jwt));

    rc = tg_jwt_verify(conf, data, size, FX_NOW, &jwt, err, sizeof(err));

    FX_CHECK(rc == 0 || rc == -1);

    if (rc != 0) {
        FX_CHECK(jwt.claims == NULL);
        FX_CHECK(err[0] != '\0' && memchr(err, '\0', sizeof(err)) != NULL);
        return rc;
    }

    FX_CHECK(size <= conf->max_size);
    FX_CHECK(jwt.claims != NULL);
    FX_CHECK((unsigned) jwt.alg < TG_ALG_LAST);
    FX_CHECK(conf->algs & TG_ALG_BIT(jwt.alg));
    FX_CHECK(jwt.iat == -1 || jwt.iat <= FX_NOW + conf->leeway);

    /* NumericDates are bounded (|t| < 1e15), so this cannot overflow */
    FX_CHECK(jwt.exp > -1000000000000000LL && jwt.exp < 1000000000000000LL);
    FX_CHECK(jwt.exp + conf->leeway > FX_NOW);
    FX_CHECK(tg_jwt_is_compact(data, size));

    fx_claims(jwt.claims);

    tg_claims_free(jwt.claims);

    return rc;
}


/* header.payload of the input, signed with the "hs" key */
static void
resign(const uint8_t *data, size_t size)
{
    size_t          i, n, input_len, mac_len;
    uint8_t        *token;
    const uint8_t  *dot;
    unsigned char   mac[64];
    static const char  *digests[] = { "SHA256", "SHA384", "SHA512" };
    static const char   map[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    dot = memchr(data, '.', size);
    if (dot == NULL) {
        return;
    }

    dot = memchr(dot + 1, '.', size - (size_t) (dot + 1 - data));
    input_len = dot ? (size_t) (dot - data) : size;

    token = malloc(input_len + 1 + 90);
    if (token == NULL) {
        return;
    }

    memcpy(token, data, input_len);
    token[input_len] = '.';

    for (i = 0; i < 3; i++) {
        if (EVP_Q_mac(NULL, "HMAC", NULL, digests[i], NULL,
                      (const unsigned char *) FX_HS_SECRET,
                      strlen(FX_HS_SECRET), data, input_len, mac, sizeof(mac),
                      &mac_len) == NULL)
        {
            abort();
        }

        /* base64url of the MAC */

        n = input_len + 1;

        for (size_t j = 0; j < mac_len; j += 3) {
            unsigned  v = (unsigned) mac[j] << 16;
            size_t    left = mac_len - j;

            v |= left > 1 ? (unsigned) mac[j + 1] << 8 : 0;
            v |= left > 2 ? mac[j + 2] : 0;

            token[n++] = (uint8_t) map[v >> 18 & 63];
            token[n++] = (uint8_t) map[v >> 12 & 63];

            if (left > 1) {
                token[n++] = (uint8_t) map[v >> 6 & 63];
            }

            if (left > 2) {
                token[n++] = (uint8_t) map[v & 63];
            }
        }

        verify(&lax, token, n);
        verify(&strict, token, n);
    }

    free(token);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int            rc;
    unsigned int   n;
    unsigned char  digest[32], want[32];

    rc = verify(&strict, data, size);
    verify(&lax, data, size);

    tg_jwt_sha256(data, size, digest);

    /*
     * The shortcuts (the digest memo, the signing input's digest kept by
     * tg_jwt_token_key(), the last good header) give the answers of the
     * long way: the same key as SHA-256 itself, the same verdict again.
     */

    FX_CHECK(EVP_Digest(data, size, want, &n, EVP_sha256(), NULL) == 1);
    FX_CHECK(memcmp(digest, want, 32) == 0);
    tg_jwt_token_key(data, size, digest);
    FX_CHECK(memcmp(digest, want, 32) == 0);
    FX_CHECK(verify(&strict, data, size) == rc);
    (void) tg_jwt_is_compact(data, size);

    resign(data, size);

    return 0;
}
