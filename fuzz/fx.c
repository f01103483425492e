
/*
 * Copyright (C) tenant_guard authors
 */


#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/pem.h>

#include "fixtures.h"
#include "fx.h"
#include "tt.h"


static EVP_PKEY *
fx_pem(const char *pem)
{
    BIO       *bio;
    EVP_PKEY  *pkey;

    bio = BIO_new_mem_buf(pem, -1);
    pkey = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);

    if (pkey == NULL) {
        fprintf(stderr, "fx: a fixture key does not load\n");
        abort();
    }

    return pkey;
}


void
fx_private_keys(fx_keys_t *k)
{
    k->rsa = fx_pem(FX_RSA);
    k->ec256 = fx_pem(FX_EC256);
    k->ec384 = fx_pem(FX_EC384);
    k->ec521 = fx_pem(FX_EC521);
    k->ed = fx_pem(FX_ED25519);
}


void
fx_private_keys_free(fx_keys_t *k)
{
    EVP_PKEY_free(k->rsa);
    EVP_PKEY_free(k->ec256);
    EVP_PKEY_free(k->ec384);
    EVP_PKEY_free(k->ec521);
    EVP_PKEY_free(k->ed);
    memset(k, 0, sizeof(fx_keys_t));
}


char *
fx_jwks_text(const fx_keys_t *k)
{
    char  *text, *copy;

    text = tt_printf("{\"keys\":[%s,%s,%s,%s,%s,%s,%s]}",
                     tt_jwk(k->rsa, "rsa", NULL, "\"use\":\"sig\""),
                     tt_jwk(k->ec256, "ec256", "ES256", NULL),
                     tt_jwk(k->ec384, "ec384", NULL, NULL),
                     tt_jwk(k->ec521, "ec521", NULL, NULL),
                     tt_jwk(k->ed, "ed", NULL, NULL),
                     tt_jwk_oct((const unsigned char *) FX_HS_SECRET,
                                strlen(FX_HS_SECRET), "hs", NULL),
                     tt_jwk(k->ed, NULL, "EdDSA", NULL));

    copy = strdup(text);
    tt_free_all();

    return copy;
}


void
fx_keyset(tg_keyset_t *ks)
{
    char       *text;
    char        err[256];
    fx_keys_t   k;

    fx_private_keys(&k);
    text = fx_jwks_text(&k);
    fx_private_keys_free(&k);

    if (tg_jwks_load(ks, (const unsigned char *) text, strlen(text), err,
                     sizeof(err)) != 0)
    {
        fprintf(stderr, "fx: the fixture key set does not load: %s\n", err);
        abort();
    }

    free(text);
}


void
fx_conf(tg_jwt_conf_t *conf, const tg_keyset_t *ks, int strict)
{
    static tg_str_t  audiences[2] = {
        { (const unsigned char *) "api", 3 },
        { (const unsigned char *) "https://api.example", 19 }
    };

    memset(conf, 0, sizeof(tg_jwt_conf_t));

    conf->algs = (1u << TG_ALG_LAST) - 1;
    conf->keys = ks;
    conf->leeway = 30;
    conf->max_size = TG_JWT_MAX_SIZE;

    if (strict) {
        conf->issuer.data = (const unsigned char *) "https://idp.example";
        conf->issuer.len = 19;
        conf->audiences = audiences;
        conf->naudiences = 2;
    }
}


/* no byte below 0x20 (what the helpers promise for header values) */
static int
fx_no_controls(const char *s, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if ((unsigned char) s[i] < 0x20) {
            return 0;
        }
    }

    return 1;
}


/* tg_jwt_mfa() is the "or" of claim_has over both lists, nothing more */

static void
fx_mfa(const tg_claims_t *claims)
{
    int                    any_amr, any_acr;
    size_t                 i;
    static const tg_str_t  words[] = {
        { (const unsigned char *) "mfa", 3 },
        { (const unsigned char *) "otp", 3 },
        { (const unsigned char *) "urn:mfa", 7 },
        { (const unsigned char *) "", 0 }
    };

    any_amr = 0;
    any_acr = 0;

    for (i = 0; i < 4; i++) {
        any_amr |= tg_jwt_claim_has(claims, "amr", words[i].data,
                                    words[i].len);
        any_acr |= tg_jwt_claim_has(claims, "acr", words[i].data,
                                    words[i].len);
    }

    FX_CHECK(tg_jwt_mfa(claims, words, 4, NULL, 0) == any_amr);
    FX_CHECK(tg_jwt_mfa(claims, NULL, 0, words, 4) == any_acr);
    FX_CHECK(tg_jwt_mfa(claims, words, 4, words, 4) == (any_amr | any_acr));
    FX_CHECK(tg_jwt_mfa(claims, NULL, 0, NULL, 0) == 0);
}


void
fx_claims(const tg_claims_t *claims)
{
    int           rc;
    size_t        i, len, n;
    const char   *value;
    tg_claims_t  *again;
    char          small[32], big[1024], dump[256], redump[256];
    static const char  *names[] = {
        "sub", "workspace_id", "organization_id", "integration_id", "jti",
        "scope", "amr", "acr", "aud", "iss", "exp", "x", ""
    };

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        rc = tg_jwt_claim_text(claims, names[i], small, sizeof(small),
                               &value, &len);
        FX_CHECK(rc >= -1 && rc <= 1);

        if (rc == 1) {
            FX_CHECK(value != NULL);
            FX_CHECK(value != small || len < sizeof(small));
            FX_CHECK(fx_no_controls(value, len));
            FX_CHECK(memchr(value, 0x7f, len) == NULL);
        }

        /*
         * claim_value: no control characters below 0x20; DEL (0x7f) in a
         * non-string claim is a known engine bug (t/unit/test_jwt.c), not
         * checked here so that fuzzing goes on past it.
         */

        rc = tg_jwt_claim_value(claims, names[i], big, sizeof(big), &value,
                                &len);
        FX_CHECK(rc >= -1 && rc <= 1);

        if (rc == 1) {
            FX_CHECK(value != big || len <= sizeof(big));
            FX_CHECK(fx_no_controls(value, len));
        }

        rc = tg_jwt_claim_has(claims, names[i], (const unsigned char *) "mfa",
                              3);
        FX_CHECK(rc == 0 || rc == 1);
    }

    for (n = 1; n <= sizeof(big); n *= 4) {
        len = (size_t) -1;
        rc = tg_jwt_claim_scopes(claims, big, n, &len);
        FX_CHECK(rc >= -1 && rc <= 1);

        if (rc == 1) {
            FX_CHECK(len <= n);
            FX_CHECK(fx_no_controls(big, len));
            (void) tg_jwt_words_has((const unsigned char *) big, len,
                                    (const unsigned char *) "read", 4);
        }
    }

    n = tg_jwt_claims_dump(claims, dump, sizeof(dump));
    FX_CHECK(n <= sizeof(dump));

    /* what the zone keeps parses back to the same claims (the glue's
     * cached payload) */

    if (n > 0) {
        again = tg_claims_parse((const unsigned char *) dump, n, big,
                                sizeof(big));
        FX_CHECK(again != NULL);
        FX_CHECK(tg_jwt_claims_dump(again, redump, sizeof(redump)) == n);
        FX_CHECK(memcmp(dump, redump, n) == 0);
        tg_claims_free(again);
    }

    fx_mfa(claims);
}

