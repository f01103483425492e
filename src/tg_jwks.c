
/*
 * Copyright (C) tenant_guard authors
 */


#define _GNU_SOURCE  /* memmem() */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "tg_b64.h"
#include "tg_json.h"
#include "tg_jwks.h"


#define TG_JWK_MAX_MEMBER  2048


static int tg_jwks_load_json(tg_keyset_t *ks, const unsigned char *data,
    size_t len, char *err, size_t err_len);
static int tg_jwks_load_pem(tg_keyset_t *ks, const unsigned char *data,
    size_t len, char *err, size_t err_len);
static int tg_jwk_parse(tg_key_t *key, json_t *jwk, char *err,
    size_t err_len);
static int tg_jwk_rsa(tg_key_t *key, json_t *jwk, char *err, size_t err_len);
static int tg_jwk_ec(tg_key_t *key, json_t *jwk, char *err, size_t err_len);
static int tg_jwk_okp(tg_key_t *key, json_t *jwk, char *err,
    size_t err_len);
static int tg_jwk_oct(tg_key_t *key, json_t *jwk, char *err,
    size_t err_len);
static long tg_jwk_member(json_t *jwk, const char *name, unsigned char *buf,
    size_t size, char *err, size_t err_len);
static int tg_jwks_pkey_fit(tg_key_t *key, EVP_PKEY *pkey, char *err,
    size_t err_len);
static void tg_key_free(tg_key_t *key);


int
tg_jwks_load(tg_keyset_t *ks, const unsigned char *data, size_t len,
    char *err, size_t err_len)
{
    size_t  i;
    int     rc;

    memset(ks, 0, sizeof(tg_keyset_t));

    for (i = 0; i < len; i++) {
        if (data[i] != ' ' && data[i] != '\t' && data[i] != '\r'
            && data[i] != '\n')
        {
            break;
        }
    }

    if (i == len) {
        snprintf(err, err_len, "the file is empty");
        return -1;
    }

    if (data[i] == '{') {
        rc = tg_jwks_load_json(ks, data, len, err, err_len);

    } else if (len - i > 10 && memcmp(data + i, "-----BEGIN", 10) == 0) {
        rc = tg_jwks_load_pem(ks, data, len, err, err_len);

    } else {
        snprintf(err, err_len, "the file is neither a JWKS (JSON) "
                 "nor PEM public keys");
        return -1;
    }

    if (rc == 0 && ks->nkeys == 0) {
        snprintf(err, err_len, "the file holds no signature key");
        rc = -1;
    }

    if (rc != 0) {
        tg_jwks_free(ks);
    }

    return rc;
}


void
tg_jwks_free(tg_keyset_t *ks)
{
    size_t  i;

    for (i = 0; i < ks->nkeys; i++) {
        tg_key_free(&ks->keys[i]);
    }

    free(ks->keys);
    memset(ks, 0, sizeof(tg_keyset_t));
}


static int
tg_jwks_load_json(tg_keyset_t *ks, const unsigned char *data, size_t len,
    char *err, size_t err_len)
{
    size_t   i, n;
    char     why[256];
    json_t  *doc, *keys, *jwk, *use;

    doc = tg_json_parse_object(data, len, TG_JWKS_MAX_SIZE, why, sizeof(why));
    if (doc == NULL) {
        snprintf(err, err_len, "%s", why);
        return -1;
    }

    keys = json_object_get(doc, "keys");
    if (!json_is_array(keys)) {
        snprintf(err, err_len, "a JWKS needs a \"keys\" array");
        goto failed;
    }

    n = json_array_size(keys);
    if (n > TG_JWKS_MAX_KEYS) {
        snprintf(err, err_len, "more than %d keys", TG_JWKS_MAX_KEYS);
        goto failed;
    }

    ks->keys = calloc(n ? n : 1, sizeof(tg_key_t));
    if (ks->keys == NULL) {
        snprintf(err, err_len, "out of memory");
        goto failed;
    }

    for (i = 0; i < n; i++) {
        jwk = json_array_get(keys, i);

        if (!json_is_object(jwk)) {
            snprintf(err, err_len, "key #%zu is not an object", i + 1);
            goto failed;
        }

        use = json_object_get(jwk, "use");
        if (use != NULL) {
            if (!json_is_string(use)) {
                snprintf(err, err_len, "key #%zu: \"use\" is not a string",
                         i + 1);
                goto failed;
            }

            if (strcmp(json_string_value(use), "sig") != 0) {
                continue;
            }
        }

        if (tg_jwk_parse(&ks->keys[ks->nkeys], jwk, why, sizeof(why)) != 0) {
            snprintf(err, err_len, "key #%zu: %s", i + 1, why);
            goto failed;
        }

        if (ks->keys[ks->nkeys].type == TG_KEY_OCT) {
            ks->noct++;
        }

        ks->nkeys++;
    }

    json_decref(doc);
    return 0;

failed:

    json_decref(doc);
    return -1;
}


static int
tg_jwk_parse(tg_key_t *key, json_t *jwk, char *err, size_t err_len)
{
    int          rc;
    json_t      *kty, *kid, *alg, *ops;
    const char  *type;

    kty = json_object_get(jwk, "kty");
    if (!json_is_string(kty)) {
        snprintf(err, err_len, "\"kty\" is missing");
        return -1;
    }

    kid = json_object_get(jwk, "kid");
    if (kid != NULL && !json_is_string(kid)) {
        snprintf(err, err_len, "\"kid\" is not a string");
        return -1;
    }

    alg = json_object_get(jwk, "alg");
    if (alg != NULL) {
        if (!json_is_string(alg) || json_string_length(alg) == 0
            || json_string_length(alg) >= sizeof(key->alg))
        {
            snprintf(err, err_len, "\"alg\" is not a JWS algorithm name");
            return -1;
        }

        memcpy(key->alg, json_string_value(alg), json_string_length(alg));
    }

    ops = json_object_get(jwk, "key_ops");
    if (ops != NULL && !json_is_array(ops)) {
        snprintf(err, err_len, "\"key_ops\" is not an array");
        return -1;
    }

    if (json_object_get(jwk, "d") != NULL
        || json_object_get(jwk, "p") != NULL)
    {
        snprintf(err, err_len, "the key holds private key material; "
                 "publish only the public key");
        return -1;
    }

    type = json_string_value(kty);

    if (strcmp(type, "RSA") == 0) {
        rc = tg_jwk_rsa(key, jwk, err, err_len);

    } else if (strcmp(type, "EC") == 0) {
        rc = tg_jwk_ec(key, jwk, err, err_len);

    } else if (strcmp(type, "OKP") == 0) {
        rc = tg_jwk_okp(key, jwk, err, err_len);

    } else if (strcmp(type, "oct") == 0) {
        rc = tg_jwk_oct(key, jwk, err, err_len);

    } else {
        snprintf(err, err_len, "unsupported \"kty\" \"%.32s\"", type);
        return -1;
    }

    if (rc != 0) {
        tg_key_free(key);
        return -1;
    }

    if (kid != NULL) {
        key->kid = strdup(json_string_value(kid));
        if (key->kid == NULL) {
            tg_key_free(key);
            snprintf(err, err_len, "out of memory");
            return -1;
        }
    }

    return 0;
}


static int
tg_jwk_rsa(tg_key_t *key, json_t *jwk, char *err, size_t err_len)
{
    long             n_len, e_len;
    BIGNUM          *n, *e;
    EVP_PKEY        *pkey;
    OSSL_PARAM      *params;
    EVP_PKEY_CTX    *ctx;
    unsigned char    n_buf[TG_JWK_MAX_MEMBER], e_buf[16];
    OSSL_PARAM_BLD  *bld;

    n_len = tg_jwk_member(jwk, "n", n_buf, sizeof(n_buf), err, err_len);
    if (n_len < 0) {
        return -1;
    }

    e_len = tg_jwk_member(jwk, "e", e_buf, sizeof(e_buf), err, err_len);
    if (e_len < 0) {
        return -1;
    }

    pkey = NULL;
    params = NULL;
    ctx = NULL;

    n = BN_bin2bn(n_buf, (int) n_len, NULL);
    e = BN_bin2bn(e_buf, (int) e_len, NULL);
    bld = OSSL_PARAM_BLD_new();

    if (n == NULL || e == NULL || bld == NULL
        || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n)
        || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e)
        || (params = OSSL_PARAM_BLD_to_param(bld)) == NULL
        || (ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) == NULL
        || EVP_PKEY_fromdata_init(ctx) <= 0
        || EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
    {
        snprintf(err, err_len, "invalid RSA key");
    }

    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(n);
    BN_free(e);
    ERR_clear_error();

    if (pkey == NULL) {
        return -1;
    }

    return tg_jwks_pkey_fit(key, pkey, err, err_len);
}


static int
tg_jwk_ec(tg_key_t *key, json_t *jwk, char *err, size_t err_len)
{
    int              rc;
    long             x_len, y_len;
    size_t           size;
    json_t          *crv;
    EVP_PKEY        *pkey;
    OSSL_PARAM      *params;
    const char      *group, *name;
    EVP_PKEY_CTX    *ctx, *check;
    unsigned char    x[72], y[72], point[133];
    OSSL_PARAM_BLD  *bld;

    crv = json_object_get(jwk, "crv");
    name = json_is_string(crv) ? json_string_value(crv) : "";

    if (strcmp(name, "P-256") == 0) {
        group = "prime256v1";
        size = 32;

    } else if (strcmp(name, "P-384") == 0) {
        group = "secp384r1";
        size = 48;

    } else if (strcmp(name, "P-521") == 0) {
        group = "secp521r1";
        size = 66;

    } else {
        snprintf(err, err_len, "unsupported EC \"crv\" \"%.32s\"", name);
        return -1;
    }

    x_len = tg_jwk_member(jwk, "x", x, sizeof(x), err, err_len);
    if (x_len < 0) {
        return -1;
    }

    y_len = tg_jwk_member(jwk, "y", y, sizeof(y), err, err_len);
    if (y_len < 0) {
        return -1;
    }

    if ((size_t) x_len != size || (size_t) y_len != size) {
        snprintf(err, err_len, "EC \"x\" and \"y\" must be %zu bytes for %s",
                 size, name);
        return -1;
    }

    point[0] = 0x04;
    memcpy(point + 1, x, size);
    memcpy(point + 1 + size, y, size);

    pkey = NULL;
    params = NULL;
    ctx = NULL;
    check = NULL;
    rc = -1;

    bld = OSSL_PARAM_BLD_new();

    if (bld != NULL
        && OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
                                           group, 0)
        && OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
                                            point, 1 + 2 * size)
        && (params = OSSL_PARAM_BLD_to_param(bld)) != NULL
        && (ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) != NULL
        && EVP_PKEY_fromdata_init(ctx) > 0
        && EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) > 0
        && (check = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL)) != NULL
        && EVP_PKEY_public_check(check) > 0)
    {
        rc = 0;
    }

    EVP_PKEY_CTX_free(check);
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    ERR_clear_error();

    if (rc != 0) {
        EVP_PKEY_free(pkey);
        snprintf(err, err_len, "invalid EC key (not a point on %s)", name);
        return -1;
    }

    return tg_jwks_pkey_fit(key, pkey, err, err_len);
}


static int
tg_jwk_okp(tg_key_t *key, json_t *jwk, char *err, size_t err_len)
{
    long            x_len;
    json_t         *crv;
    EVP_PKEY       *pkey;
    unsigned char   x[64];

    crv = json_object_get(jwk, "crv");
    if (!json_is_string(crv) || strcmp(json_string_value(crv), "Ed25519"))
    {
        snprintf(err, err_len, "unsupported OKP \"crv\" (only Ed25519)");
        return -1;
    }

    x_len = tg_jwk_member(jwk, "x", x, sizeof(x), err, err_len);
    if (x_len < 0) {
        return -1;
    }

    if (x_len != 32) {
        snprintf(err, err_len, "Ed25519 \"x\" must be 32 bytes");
        return -1;
    }

    pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, x, 32);
    if (pkey == NULL) {
        ERR_clear_error();
        snprintf(err, err_len, "invalid Ed25519 key");
        return -1;
    }

    return tg_jwks_pkey_fit(key, pkey, err, err_len);
}


static int
tg_jwk_oct(tg_key_t *key, json_t *jwk, char *err, size_t err_len)
{
    long            k_len;
    unsigned char   k[TG_JWK_MAX_MEMBER];

    k_len = tg_jwk_member(jwk, "k", k, sizeof(k), err, err_len);
    if (k_len < 0) {
        return -1;
    }

    if (k_len < TG_JWKS_MIN_OCT_LEN) {
        OPENSSL_cleanse(k, sizeof(k));
        snprintf(err, err_len, "an \"oct\" key needs at least %d bytes",
                 TG_JWKS_MIN_OCT_LEN);
        return -1;
    }

    key->secret = malloc(k_len);
    if (key->secret == NULL) {
        OPENSSL_cleanse(k, sizeof(k));
        snprintf(err, err_len, "out of memory");
        return -1;
    }

    memcpy(key->secret, k, k_len);
    key->secret_len = k_len;
    key->type = TG_KEY_OCT;

    OPENSSL_cleanse(k, sizeof(k));

    return 0;
}


static long
tg_jwk_member(json_t *jwk, const char *name, unsigned char *buf,
    size_t size, char *err, size_t err_len)
{
    long          n;
    size_t        len;
    json_t       *value;
    const char   *text;

    value = json_object_get(jwk, name);
    if (!json_is_string(value)) {
        snprintf(err, err_len, "\"%s\" is missing or not a string", name);
        return -1;
    }

    text = json_string_value(value);
    len = json_string_length(value);

    if (len == 0 || TG_B64URL_DECODED_LEN(len) > size) {
        snprintf(err, err_len, "\"%s\" has a wrong size", name);
        return -1;
    }

    n = tg_b64url_decode(buf, (const unsigned char *) text, len);
    if (n <= 0) {
        snprintf(err, err_len, "\"%s\" is not base64url", name);
        return -1;
    }

    return n;
}


/*
 * Each "-----BEGIN PUBLIC KEY-----" block is read on its own, so that text
 * between blocks is allowed and the end of the file is never an error.
 */

static int
tg_jwks_load_pem(tg_keyset_t *ks, const unsigned char *data, size_t len,
    char *err, size_t err_len)
{
    BIO                  *bio;
    EVP_PKEY             *pkey;
    const unsigned char  *p, *end, *block, *tail;
    char                  why[256];

    ks->keys = calloc(TG_JWKS_MAX_KEYS, sizeof(tg_key_t));
    if (ks->keys == NULL) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }

    p = data;
    end = data + len;

    for ( ;; ) {
        block = memmem(p, end - p, "-----BEGIN ", 11);
        if (block == NULL) {
            break;
        }

        tail = memmem(block, end - block, "-----END ", 9);
        if (tail != NULL) {
            tail = memmem(tail + 9, end - tail - 9, "-----", 5);
        }

        if (tail == NULL) {
            snprintf(err, err_len, "PEM block #%zu has no END line",
                     ks->nkeys + 1);
            return -1;
        }

        p = tail + 5;

        if (ks->nkeys == TG_JWKS_MAX_KEYS) {
            snprintf(err, err_len, "more than %d keys", TG_JWKS_MAX_KEYS);
            return -1;
        }

        bio = BIO_new_mem_buf(block, (int) (p - block));
        if (bio == NULL) {
            snprintf(err, err_len, "out of memory");
            return -1;
        }

        pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
        BIO_free(bio);
        ERR_clear_error();

        if (pkey == NULL) {
            snprintf(err, err_len, "PEM block #%zu is not a "
                     "\"-----BEGIN PUBLIC KEY-----\" key", ks->nkeys + 1);
            return -1;
        }

        if (tg_jwks_pkey_fit(&ks->keys[ks->nkeys], pkey, why, sizeof(why))
            != 0)
        {
            snprintf(err, err_len, "PEM key #%zu: %s", ks->nkeys + 1, why);
            return -1;
        }

        ks->nkeys++;
    }

    return 0;
}


/* takes pkey over, classifies it and refuses weak keys */

static int
tg_jwks_pkey_fit(tg_key_t *key, EVP_PKEY *pkey, char *err, size_t err_len)
{
    BIGNUM  *e;
    char     group[64];
    static BIGNUM  *f4;

    if (f4 == NULL) {
        f4 = BN_new();

        if (f4 == NULL || !BN_set_word(f4, RSA_F4)) {
            snprintf(err, err_len, "out of memory");
            EVP_PKEY_free(pkey);
            return -1;
        }
    }

    switch (EVP_PKEY_get_base_id(pkey)) {

    case EVP_PKEY_RSA:
        if (EVP_PKEY_get_bits(pkey) < TG_JWKS_MIN_RSA_BITS) {
            snprintf(err, err_len, "an RSA key needs at least %d bits",
                     TG_JWKS_MIN_RSA_BITS);
            goto failed;
        }

        /*
         * With e = 1 a padded digest is its own signature: anyone could
         * sign.  The exponent must be odd and at least 65537, as NIST SP
         * 800-56B asks.
         */

        e = NULL;

        if (!EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e)
            || !BN_is_odd(e) || BN_cmp(e, f4) < 0)
        {
            BN_free(e);
            snprintf(err, err_len, "an RSA key's exponent must be odd and "
                     "at least 65537");
            goto failed;
        }

        BN_free(e);

        key->type = TG_KEY_RSA;
        break;

    case EVP_PKEY_EC:
        if (!EVP_PKEY_get_group_name(pkey, group, sizeof(group), NULL)) {
            snprintf(err, err_len, "EC key without a named curve");
            goto failed;
        }

        key->curve = OBJ_sn2nid(group);

        if (key->curve != NID_X9_62_prime256v1
            && key->curve != NID_secp384r1
            && key->curve != NID_secp521r1)
        {
            snprintf(err, err_len, "unsupported EC curve %s", group);
            goto failed;
        }

        key->type = TG_KEY_EC;
        break;

    case EVP_PKEY_ED25519:
        key->type = TG_KEY_ED25519;
        break;

    default:
        snprintf(err, err_len, "unsupported key type");
        goto failed;
    }

    key->pkey = pkey;
    return 0;

failed:

    ERR_clear_error();
    EVP_PKEY_free(pkey);
    return -1;
}


static void
tg_key_free(tg_key_t *key)
{
    free(key->kid);
    EVP_PKEY_CTX_free(key->verify);
    EVP_PKEY_free(key->pkey);

    if (key->secret != NULL) {
        OPENSSL_cleanse(key->secret, key->secret_len);
        free(key->secret);
    }

    memset(key, 0, sizeof(tg_key_t));
}
