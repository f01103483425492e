
/*
 * Copyright (C) tenant_guard authors
 */


#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/rsa.h>

#include "tg_b64.h"
#include "tg_json.h"
#include "tg_jwks.h"
#include "tg_jwt.h"


/*
 * tg_claims_t is a jansson object under the engine's own name, so that
 * the glue holds claims without seeing jansson; only this file looks in.
 * The JSON text it was read from is kept with it: the zone keeps that
 * text, not a new serialisation of the object.
 */
struct tg_claims_s {
    json_t          *json;
    size_t           len;
    unsigned char    text[1];
};

#define tg_claims_json(claims)                                               \
    ((claims) != NULL ? (const json_t *) (claims)->json : NULL)


typedef enum {
    TG_ALG_FAMILY_RS = 1,
    TG_ALG_FAMILY_PS,
    TG_ALG_FAMILY_ES,
    TG_ALG_FAMILY_EDDSA,
    TG_ALG_FAMILY_HS
} tg_alg_family_e;


typedef struct {
    const char        *name;
    tg_alg_family_e    family;
    const char        *digest;     /* NULL for EdDSA */
    int                md;         /* tg_jwt_md(): the digest, fetched */
    int                curve;      /* ES: the curve's NID */
    size_t             size;       /* ES: bytes of R (and of S) */
} tg_alg_t;


static const tg_alg_t  tg_algs[TG_ALG_LAST] = {
    [TG_ALG_RS256] = { "RS256", TG_ALG_FAMILY_RS, "SHA256", 0, 0, 0 },
    [TG_ALG_RS384] = { "RS384", TG_ALG_FAMILY_RS, "SHA384", 1, 0, 0 },
    [TG_ALG_RS512] = { "RS512", TG_ALG_FAMILY_RS, "SHA512", 2, 0, 0 },
    [TG_ALG_PS256] = { "PS256", TG_ALG_FAMILY_PS, "SHA256", 0, 0, 0 },
    [TG_ALG_PS384] = { "PS384", TG_ALG_FAMILY_PS, "SHA384", 1, 0, 0 },
    [TG_ALG_PS512] = { "PS512", TG_ALG_FAMILY_PS, "SHA512", 2, 0, 0 },
    [TG_ALG_ES256] = { "ES256", TG_ALG_FAMILY_ES, "SHA256", 0,
                       NID_X9_62_prime256v1, 32 },
    [TG_ALG_ES384] = { "ES384", TG_ALG_FAMILY_ES, "SHA384", 1,
                       NID_secp384r1, 48 },
    [TG_ALG_ES512] = { "ES512", TG_ALG_FAMILY_ES, "SHA512", 2,
                       NID_secp521r1, 66 },
    [TG_ALG_EDDSA] = { "EdDSA", TG_ALG_FAMILY_EDDSA, NULL, 0, 0, 0 },
    [TG_ALG_HS256] = { "HS256", TG_ALG_FAMILY_HS, "SHA256", 0, 0, 32 },
    [TG_ALG_HS384] = { "HS384", TG_ALG_FAMILY_HS, "SHA384", 1, 0, 48 },
    [TG_ALG_HS512] = { "HS512", TG_ALG_FAMILY_HS, "SHA512", 2, 0, 64 }
};


#define TG_JWT_MAX_SIG  1024
#define TG_JWT_MAX_DER  (3 + 2 * (2 + 1 + 66))    /* ES512's, the longest */

/* the digests of recent inputs (tg_jwt_sha256) */
#define TG_MEMO_SLOTS   1024                      /* a power of two */
#define TG_MEMO_MAX     4096                      /* bytes: longer, not kept */


typedef struct {
    uint64_t        tag;
    size_t          len;
    size_t          size;
    unsigned char  *data;
    unsigned char   digest[32];
} tg_memo_t;


static json_t *tg_jwt_decode_json(const unsigned char *part, size_t len,
    const char *what, int *final, char *err, size_t err_len);
static void tg_jwt_remember_header(const unsigned char *h, size_t len,
    tg_alg_e alg, const char *kid);
static tg_claims_t *tg_jwt_decode_claims(const unsigned char *part,
    size_t len, int *final, char *err, size_t err_len);
static tg_claims_t *tg_claims_new(const unsigned char *data, size_t len,
    size_t max_size, char *err, size_t err_len);
static int tg_jwt_check_header(const tg_jwt_conf_t *conf, json_t *header,
    tg_alg_e *alg, const char **kid, char *err, size_t err_len);
static int tg_jwt_key_fits(const tg_key_t *key, tg_alg_e alg);
static int tg_jwt_check_signature(const tg_jwt_conf_t *conf, tg_alg_e alg,
    const char *kid, const unsigned char *input, size_t input_len,
    const unsigned char *sig, size_t sig_len, char *err, size_t err_len);
static int tg_jwt_verify_key(const tg_key_t *key, tg_alg_e alg,
    const unsigned char *input, size_t input_len, const unsigned char *sig,
    size_t sig_len);
static int tg_jwt_verify_hmac(const tg_key_t *key, const tg_alg_t *a,
    const unsigned char *input, size_t input_len, const unsigned char *sig,
    size_t sig_len);
static int tg_jwt_verify_pkey(const tg_key_t *key, tg_alg_e alg,
    const unsigned char *input, size_t input_len, const unsigned char *sig,
    size_t sig_len);
static size_t tg_jwt_ecdsa_der(unsigned char *der, const unsigned char *sig,
    size_t size);
static EVP_PKEY_CTX *tg_jwt_verify_ctx(tg_key_t *key, tg_alg_e alg);
static int tg_jwt_verify_eddsa(const tg_key_t *key,
    const unsigned char *input, size_t input_len, const unsigned char *sig,
    size_t sig_len);
static EVP_MD *tg_jwt_md(int which);
static int tg_jwt_digest(int which, const unsigned char *data, size_t len,
    unsigned char *out, size_t *out_len);
static uint64_t tg_memo_word(const unsigned char *p, size_t n);
static uint64_t tg_memo_tag(const unsigned char *data, size_t len);
static int tg_memo_equal(const unsigned char *a, const unsigned char *b,
    size_t len);
static int tg_jwt_sha256_compute(const unsigned char *data, size_t len,
    unsigned char digest[32]);
static void tg_jwt_sha256_memo(const unsigned char *data, size_t len,
    int jws, unsigned char digest[32]);
static int tg_jwt_sha256_split(const unsigned char *data, size_t len,
    size_t split, unsigned char digest[32]);


static tg_memo_t  *tg_memo;

/* the signing input of the last token hashed as a key, and its SHA-256 */
static struct {
    size_t           len;                /* 0: none */
    unsigned char    md[32];
    unsigned char    text[TG_MEMO_MAX];
} tg_jwt_signing;

/* the protected header of the last token whose header passed */
static struct {
    size_t           len;                /* 0: none */
    tg_alg_e         alg;
    int              has_kid;
    unsigned char    text[384];          /* base64url, as in the token */
    char             kid[256];
} tg_jwt_last;
static int tg_jwt_check_claims(const tg_jwt_conf_t *conf, tg_jwt_t *jwt,
    long long now, char *err, size_t err_len);
static int tg_jwt_time_claim(const json_t *claims, const char *name,
    long long *value, char *err, size_t err_len);
static int tg_jwt_audience_ok(const tg_jwt_conf_t *conf, json_t *aud);


int
tg_jwt_alg_by_name(const char *name, size_t len)
{
    int  i;

    for (i = 0; i < TG_ALG_LAST; i++) {
        if (strlen(tg_algs[i].name) == len
            && memcmp(tg_algs[i].name, name, len) == 0)
        {
            return i;
        }
    }

    return -1;
}


const char *
tg_jwt_alg_name(tg_alg_e alg)
{
    return tg_algs[alg].name;
}


int
tg_jwt_is_compact(const unsigned char *token, size_t len)
{
    size_t  i, dots;

    dots = 0;

    for (i = 0; i < len; i++) {
        if (token[i] == '.') {
            dots++;
        }
    }

    return dots == 2;
}


int
tg_jwt_verify(const tg_jwt_conf_t *conf, const unsigned char *token,
    size_t len, long long now, tg_jwt_t *jwt, char *err, size_t err_len)
{
    long                  sig_len;
    size_t                h_len, p_len, s_len;
    json_t               *header;
    tg_alg_e              alg;
    const char           *kid;
    const unsigned char  *h, *p, *s, *end, *dot;
    unsigned char         sig[TG_JWT_MAX_SIG];

    memset(jwt, 0, sizeof(tg_jwt_t));

    /* cleared where a refusal may not hold later */

    jwt->final = 1;

    if (len > conf->max_size) {
        snprintf(err, err_len, "the token is larger than %zu bytes",
                 conf->max_size);
        return -1;
    }

    end = token + len;

    h = token;
    dot = memchr(h, '.', len);
    if (dot == NULL) {
        goto not_compact;
    }

    h_len = dot - h;
    p = dot + 1;

    dot = memchr(p, '.', end - p);
    if (dot == NULL) {
        goto not_compact;
    }

    p_len = dot - p;
    s = dot + 1;
    s_len = end - s;

    if (memchr(s, '.', s_len) != NULL || h_len == 0 || p_len == 0) {
        goto not_compact;
    }

    if (s_len == 0) {
        snprintf(err, err_len, "the token is not signed");
        return -1;
    }

    header = NULL;

    if (h_len == tg_jwt_last.len && h_len <= sizeof(tg_jwt_last.text)
        && memcmp(h, tg_jwt_last.text, h_len) == 0)
    {
        /*
         * The protected header of the last good token, byte for byte: its
         * alg and kid are known; only the allowlist is this conf's own.
         */

        alg = tg_jwt_last.alg;
        kid = tg_jwt_last.has_kid ? tg_jwt_last.kid : NULL;

        if (!(conf->algs & TG_ALG_BIT(alg))) {
            snprintf(err, err_len, "the algorithm is not allowed");
            return -1;
        }

    } else {
        header = tg_jwt_decode_json(h, h_len, "header", &jwt->final, err,
                                    err_len);
        if (header == NULL) {
            return -1;
        }

        if (tg_jwt_check_header(conf, header, &alg, &kid, err, err_len)
            != 0)
        {
            json_decref(header);
            return -1;
        }

        tg_jwt_remember_header(h, h_len, alg, kid);
    }

    if (TG_B64URL_DECODED_LEN(s_len) > sizeof(sig)) {
        json_decref(header);
        snprintf(err, err_len, "the signature is too long");
        return -1;
    }

    sig_len = tg_b64url_decode(sig, s, s_len);
    if (sig_len <= 0) {
        json_decref(header);
        snprintf(err, err_len, "the signature is not base64url");
        return -1;
    }

    if (tg_jwt_check_signature(conf, alg, kid, token, h_len + 1 + p_len,
                               sig, (size_t) sig_len, err, err_len)
        != 0)
    {
        json_decref(header);
        return -1;
    }

    json_decref(header);

    jwt->claims = tg_jwt_decode_claims(p, p_len, &jwt->final, err, err_len);
    if (jwt->claims == NULL) {
        return -1;
    }

    jwt->alg = alg;

    if (tg_jwt_check_claims(conf, jwt, now, err, err_len) != 0) {
        tg_claims_free(jwt->claims);
        jwt->claims = NULL;
        return -1;
    }

    return 0;

not_compact:

    snprintf(err, err_len, "the token is not a compact JWS");
    return -1;
}


/* a header that passed, kept for the next token (the same issuer's) */

static void
tg_jwt_remember_header(const unsigned char *h, size_t len, tg_alg_e alg,
    const char *kid)
{
    size_t  n;

    n = (kid != NULL) ? strlen(kid) : 0;

    if (len > sizeof(tg_jwt_last.text) || n >= sizeof(tg_jwt_last.kid)) {
        tg_jwt_last.len = 0;
        return;
    }

    memcpy(tg_jwt_last.text, h, len);
    tg_jwt_last.len = len;
    tg_jwt_last.alg = alg;
    tg_jwt_last.has_kid = (kid != NULL);

    if (kid != NULL) {
        memcpy(tg_jwt_last.kid, kid, n + 1);
    }
}


int
tg_jwt_check_record(const tg_jwt_conf_t *conf, const unsigned char *data,
    size_t len, long long now, tg_jwt_t *jwt, char *err, size_t err_len)
{
    tg_jwt_conf_t  c;
    char           why[160];

    memset(jwt, 0, sizeof(tg_jwt_t));

    jwt->claims = tg_claims_new(data, len, TG_JWT_MAX_SIZE, why,
                                sizeof(why));
    if (jwt->claims == NULL) {
        snprintf(err, err_len, "the record: %s", why);
        return -1;
    }

    c = *conf;
    c.issuer.len = 0;
    c.naudiences = 0;

    if (tg_jwt_check_claims(&c, jwt, now, err, err_len) != 0) {
        tg_claims_free(jwt->claims);
        jwt->claims = NULL;
        return -1;
    }

    return 0;
}


static json_t *
tg_jwt_decode_json(const unsigned char *part, size_t len, const char *what,
    int *final, char *err, size_t err_len)
{
    long            n;
    json_t         *json;
    unsigned char  *buf;
    char            why[160];

    buf = malloc(TG_B64URL_DECODED_LEN(len));
    if (buf == NULL) {
        *final = 0;
        snprintf(err, err_len, "out of memory");
        return NULL;
    }

    n = tg_b64url_decode(buf, part, len);
    if (n < 0) {
        free(buf);
        snprintf(err, err_len, "the %s is not base64url", what);
        return NULL;
    }

    json = tg_json_parse_object(buf, (size_t) n, TG_JWT_MAX_SIZE, why,
                                sizeof(why));
    free(buf);

    if (json == NULL) {

        /* jansson's own words when an allocation fails */

        if (strstr(why, "out of memory") != NULL) {
            *final = 0;
        }

        snprintf(err, err_len, "the %s: %s", what, why);
        return NULL;
    }

    return json;
}


/* the payload: its JSON text is decoded into the claims that keep it */

static tg_claims_t *
tg_jwt_decode_claims(const unsigned char *part, size_t len, int *final,
    char *err, size_t err_len)
{
    long          n;
    tg_claims_t  *claims;
    char          why[160];

    claims = malloc(offsetof(tg_claims_t, text) + TG_B64URL_DECODED_LEN(len)
                    + 1);
    if (claims == NULL) {
        *final = 0;
        snprintf(err, err_len, "out of memory");
        return NULL;
    }

    n = tg_b64url_decode(claims->text, part, len);
    if (n < 0) {
        free(claims);
        snprintf(err, err_len, "the payload is not base64url");
        return NULL;
    }

    claims->len = (size_t) n;
    claims->json = tg_json_parse_object(claims->text, claims->len,
                                        TG_JWT_MAX_SIZE, why, sizeof(why));

    if (claims->json == NULL) {
        free(claims);

        /* jansson's own words when an allocation fails */

        if (strstr(why, "out of memory") != NULL) {
            *final = 0;
        }

        snprintf(err, err_len, "the payload: %s", why);
        return NULL;
    }

    return claims;
}


/* claims from JSON text, the text copied along */

static tg_claims_t *
tg_claims_new(const unsigned char *data, size_t len, size_t max_size,
    char *err, size_t err_len)
{
    tg_claims_t  *claims;

    claims = malloc(offsetof(tg_claims_t, text) + len + 1);
    if (claims == NULL) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }

    memcpy(claims->text, data, len);
    claims->len = len;

    claims->json = tg_json_parse_object(claims->text, len, max_size, err,
                                        err_len);
    if (claims->json == NULL) {
        free(claims);
        return NULL;
    }

    return claims;
}


static int
tg_jwt_check_header(const tg_jwt_conf_t *conf, json_t *header,
    tg_alg_e *alg, const char **kid, char *err, size_t err_len)
{
    int          n;
    json_t      *value;
    const char  *name;

    value = json_object_get(header, "alg");
    if (!json_is_string(value)) {
        snprintf(err, err_len, "the header has no \"alg\"");
        return -1;
    }

    name = json_string_value(value);

    if (strcasecmp(name, "none") == 0) {
        snprintf(err, err_len, "unsigned tokens (alg \"none\") "
                 "are not accepted");
        return -1;
    }

    n = tg_jwt_alg_by_name(name, json_string_length(value));
    if (n < 0 || !(conf->algs & TG_ALG_BIT(n))) {
        snprintf(err, err_len, "the algorithm is not allowed");
        return -1;
    }

    /*
     * No extension is understood, so a token that marks one as critical
     * must be refused (RFC 7515, section 4.1.11).
     */

    if (json_object_get(header, "crit") != NULL) {
        snprintf(err, err_len, "the header has a \"crit\" extension");
        return -1;
    }

    value = json_object_get(header, "kid");
    if (value != NULL && !json_is_string(value)) {
        snprintf(err, err_len, "the header's \"kid\" is not a string");
        return -1;
    }

    /* "jku", "x5u", "jwk" and "x5c" are never used: keys come from config */

    *kid = value ? json_string_value(value) : NULL;
    *alg = (tg_alg_e) n;

    return 0;
}


static int
tg_jwt_key_fits(const tg_key_t *key, tg_alg_e alg)
{
    const tg_alg_t  *a;

    a = &tg_algs[alg];

    if (key->alg[0] != '\0' && strcmp(key->alg, a->name) != 0) {
        return 0;
    }

    switch (a->family) {

    case TG_ALG_FAMILY_RS:
    case TG_ALG_FAMILY_PS:
        return key->type == TG_KEY_RSA;

    case TG_ALG_FAMILY_ES:
        return key->type == TG_KEY_EC && key->curve == a->curve;

    case TG_ALG_FAMILY_EDDSA:
        return key->type == TG_KEY_ED25519;

    case TG_ALG_FAMILY_HS:
        return key->type == TG_KEY_OCT;
    }

    return 0;
}


/*
 * A token with a "kid" is checked with the keys of that kid only; when no
 * key has it, with the keys that have no kid (PEM keys).  A token without a
 * "kid" is checked with the keys that fit its algorithm.  Either way at
 * most TG_JWT_MAX_TRIES keys are tried, so that a garbage token costs a
 * few signature checks, not one per key of a large set.
 */

static int
tg_jwt_check_signature(const tg_jwt_conf_t *conf, tg_alg_e alg,
    const char *kid, const unsigned char *input, size_t input_len,
    const unsigned char *sig, size_t sig_len, char *err, size_t err_len)
{
    size_t           i;
    int              named, tried;
    const tg_key_t  *key;

    named = 0;

    if (kid != NULL) {
        for (i = 0; i < conf->keys->nkeys; i++) {
            key = &conf->keys->keys[i];

            if (key->kid != NULL && strcmp(key->kid, kid) == 0) {
                named = 1;
                break;
            }
        }
    }

    tried = 0;

    for (i = 0; i < conf->keys->nkeys; i++) {
        key = &conf->keys->keys[i];

        if (kid != NULL) {
            if (named) {
                if (key->kid == NULL || strcmp(key->kid, kid) != 0) {
                    continue;
                }

            } else if (key->kid != NULL) {
                continue;
            }
        }

        if (!tg_jwt_key_fits(key, alg)) {
            continue;
        }

        if (tried == TG_JWT_MAX_TRIES) {
            snprintf(err, err_len, "the signature does not verify with the "
                     "first %d keys that fit; give the token a \"kid\"",
                     TG_JWT_MAX_TRIES);
            return -1;
        }

        tried++;

        if (tg_jwt_verify_key(key, alg, input, input_len, sig, sig_len)) {
            return 0;
        }
    }

    if (tried == 0) {
        if (kid != NULL && !named) {
            snprintf(err, err_len, "unknown kid: no key has the token's "
                     "\"kid\"");

        } else {
            snprintf(err, err_len, "no key fits the token's algorithm");
        }

        return -1;
    }

    snprintf(err, err_len, "the signature does not verify");
    return -1;
}


static int
tg_jwt_verify_key(const tg_key_t *key, tg_alg_e alg,
    const unsigned char *input, size_t input_len, const unsigned char *sig,
    size_t sig_len)
{
    const tg_alg_t  *a;

    a = &tg_algs[alg];

    if (a->family == TG_ALG_FAMILY_HS) {
        return tg_jwt_verify_hmac(key, a, input, input_len, sig, sig_len);
    }

    return tg_jwt_verify_pkey(key, alg, input, input_len, sig, sig_len);
}


static int
tg_jwt_verify_hmac(const tg_key_t *key, const tg_alg_t *a,
    const unsigned char *input, size_t input_len, const unsigned char *sig,
    size_t sig_len)
{
    size_t         mac_len;
    unsigned char  mac[EVP_MAX_MD_SIZE];

    if (sig_len != a->size || key->secret_len < a->size) {
        return 0;
    }

    if (EVP_Q_mac(NULL, "HMAC", NULL, a->digest, NULL, key->secret,
                  key->secret_len, input, input_len, mac, sizeof(mac),
                  &mac_len)
        == NULL)
    {
        ERR_clear_error();
        return 0;
    }

    return mac_len == sig_len && CRYPTO_memcmp(mac, sig, sig_len) == 0;
}


static int
tg_jwt_verify_pkey(const tg_key_t *key, tg_alg_e alg,
    const unsigned char *input, size_t input_len, const unsigned char *sig,
    size_t sig_len)
{
    int              ok;
    size_t           md_len;
    EVP_PKEY_CTX    *pctx;
    const tg_alg_t  *a;
    unsigned char    der[TG_JWT_MAX_DER];
    unsigned char    md[EVP_MAX_MD_SIZE];

    a = &tg_algs[alg];

    if (a->family == TG_ALG_FAMILY_EDDSA) {
        return tg_jwt_verify_eddsa(key, input, input_len, sig, sig_len);
    }

    if (a->family == TG_ALG_FAMILY_ES) {

        /* JOSE carries R || S (RFC 7518, section 3.4); OpenSSL wants DER */

        if (sig_len != 2 * a->size) {
            return 0;
        }

        sig_len = tg_jwt_ecdsa_der(der, sig, a->size);
        sig = der;
    }

    /*
     * The key's context, set up for this algorithm once, verifies the
     * digest of the signing input: EVP_DigestVerify would make a new
     * context and look four implementations up for every token.
     */

    pctx = tg_jwt_verify_ctx((tg_key_t *) key, alg);

    ok = pctx != NULL
         && tg_jwt_digest(a->md, input, input_len, md, &md_len) == 0
         && EVP_PKEY_verify(pctx, sig, sig_len, md, md_len) == 1;

    ERR_clear_error();

    return ok;
}


/*
 * The DER of an ECDSA-Sig-Value (RFC 3279) from R || S, each size bytes:
 * two minimal INTEGERs in a SEQUENCE, as i2d_ECDSA_SIG() writes them.
 */

static size_t
tg_jwt_ecdsa_der(unsigned char *der, const unsigned char *sig, size_t size)
{
    size_t                i, n[2], pad[2], body;
    unsigned char        *p;
    const unsigned char  *v[2];

    body = 0;

    for (i = 0; i < 2; i++) {
        v[i] = sig + i * size;
        n[i] = size;

        while (n[i] > 1 && v[i][0] == 0) {
            v[i]++;
            n[i]--;
        }

        pad[i] = (v[i][0] & 0x80) ? 1 : 0;
        body += 2 + pad[i] + n[i];
    }

    p = der;
    *p++ = 0x30;

    if (body > 127) {
        *p++ = 0x81;
    }

    *p++ = (unsigned char) body;

    for (i = 0; i < 2; i++) {
        *p++ = 0x02;
        *p++ = (unsigned char) (pad[i] + n[i]);

        if (pad[i]) {
            *p++ = 0;
        }

        memcpy(p, v[i], n[i]);
        p += n[i];
    }

    return p - der;
}


/* made once per key and algorithm; the key set owns it (tg_jwks_free) */

static EVP_PKEY_CTX *
tg_jwt_verify_ctx(tg_key_t *key, tg_alg_e alg)
{
    EVP_MD          *md;
    EVP_PKEY_CTX    *pctx;
    const tg_alg_t  *a;

    if (key->verify != NULL && key->verify_alg == (int) alg) {
        return key->verify;
    }

    EVP_PKEY_CTX_free(key->verify);
    key->verify = NULL;

    a = &tg_algs[alg];

    md = tg_jwt_md(a->md);
    if (md == NULL) {
        return NULL;
    }

    pctx = EVP_PKEY_CTX_new_from_pkey(NULL, key->pkey, NULL);
    if (pctx == NULL || EVP_PKEY_verify_init(pctx) <= 0) {
        goto failed;
    }

    if (a->family == TG_ALG_FAMILY_PS
        && (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) <= 0
            || EVP_PKEY_CTX_set_signature_md(pctx, md) <= 0
            || EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) <= 0
            || EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST)
               <= 0))
    {
        goto failed;
    }

    if (a->family == TG_ALG_FAMILY_RS
        && (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) <= 0
            || EVP_PKEY_CTX_set_signature_md(pctx, md) <= 0))
    {
        goto failed;
    }

    if (a->family == TG_ALG_FAMILY_ES
        && EVP_PKEY_CTX_set_signature_md(pctx, md) <= 0)
    {
        goto failed;
    }

    key->verify = pctx;
    key->verify_alg = (int) alg;

    return pctx;

failed:

    EVP_PKEY_CTX_free(pctx);
    return NULL;
}


static int
tg_jwt_verify_eddsa(const tg_key_t *key, const unsigned char *input,
    size_t input_len, const unsigned char *sig, size_t sig_len)
{
    int          ok;
    EVP_MD_CTX  *mctx;

    mctx = EVP_MD_CTX_new();

    ok = mctx != NULL
         && EVP_DigestVerifyInit_ex(mctx, NULL, NULL, NULL, NULL, key->pkey,
                                    NULL) > 0
         && EVP_DigestVerify(mctx, sig, sig_len, input, input_len) == 1;

    EVP_MD_CTX_free(mctx);
    ERR_clear_error();

    return ok;
}


/* the digests the algorithms use, fetched once per process */

static EVP_MD *
tg_jwt_md(int which)
{
    static EVP_MD      *mds[3];
    static const char  *names[3] = { "SHA256", "SHA384", "SHA512" };

    if (mds[which] == NULL) {
        mds[which] = EVP_MD_fetch(NULL, names[which], NULL);
    }

    return mds[which];
}


/* one digest context for the process, reused */

static int
tg_jwt_digest(int which, const unsigned char *data, size_t len,
    unsigned char *out, size_t *out_len)
{
    EVP_MD             *md;
    unsigned int        n;
    static EVP_MD_CTX  *mctx;

    if (which == 0 && len == tg_jwt_signing.len && len > 0
        && tg_memo_equal(tg_jwt_signing.text, data, len))
    {
        memcpy(out, tg_jwt_signing.md, 32);
        *out_len = 32;
        return 0;
    }

    md = tg_jwt_md(which);

    if (mctx == NULL) {
        mctx = EVP_MD_CTX_new();
    }

    if (md == NULL || mctx == NULL
        || EVP_DigestInit_ex2(mctx, md, NULL) != 1
        || EVP_DigestUpdate(mctx, data, len) != 1
        || EVP_DigestFinal_ex(mctx, out, &n) != 1)
    {
        ERR_clear_error();
        return -1;
    }

    *out_len = n;

    return 0;
}


static int
tg_jwt_check_claims(const tg_jwt_conf_t *conf, tg_jwt_t *jwt,
    long long now, char *err, size_t err_len)
{
    int            rc;
    json_t        *iss, *aud;
    long long      nbf;
    const json_t  *claims;

    claims = tg_claims_json(jwt->claims);

    rc = tg_jwt_time_claim(claims, "exp", &jwt->exp, err, err_len);
    if (rc < 0) {
        return -1;
    }

    if (rc == 0) {
        snprintf(err, err_len, "the token has no \"exp\"");
        return -1;
    }

    if (jwt->exp + conf->leeway <= now) {
        jwt->final = 0;
        snprintf(err, err_len, "the token has expired");
        return -1;
    }

    rc = tg_jwt_time_claim(claims, "nbf", &nbf, err, err_len);
    if (rc < 0) {
        return -1;
    }

    if (rc == 1 && nbf > now + conf->leeway) {
        jwt->final = 0;
        snprintf(err, err_len, "the token is not valid yet");
        return -1;
    }

    rc = tg_jwt_time_claim(claims, "iat", &jwt->iat, err, err_len);
    if (rc < 0) {
        return -1;
    }

    if (rc == 0) {
        jwt->iat = -1;

    } else if (jwt->iat > now + conf->leeway) {
        jwt->final = 0;
        snprintf(err, err_len, "the token was issued in the future");
        return -1;
    }

    if (conf->issuer.len) {
        iss = json_object_get(claims, "iss");

        if (!json_is_string(iss)
            || json_string_length(iss) != conf->issuer.len
            || memcmp(json_string_value(iss), conf->issuer.data,
                      conf->issuer.len) != 0)
        {
            snprintf(err, err_len, "the token's issuer is not accepted");
            return -1;
        }
    }

    if (conf->naudiences) {
        aud = json_object_get(claims, "aud");

        if (!tg_jwt_audience_ok(conf, aud)) {
            snprintf(err, err_len, "the token's audience is not accepted");
            return -1;
        }
    }

    return 0;
}


/* 1: present, 0: absent, -1: not a number of seconds */

static int
tg_jwt_time_claim(const json_t *claims, const char *name, long long *value,
    char *err, size_t err_len)
{
    double   d;
    json_t  *json;

    json = json_object_get(claims, name);
    if (json == NULL) {
        return 0;
    }

    /* bounded, so that exp + leeway and now - iat cannot overflow */

    if (json_is_integer(json)) {
        if (json_integer_value(json) > -1000000000000000LL
            && json_integer_value(json) < 1000000000000000LL)
        {
            *value = (long long) json_integer_value(json);
            return 1;
        }

    } else if (json_is_real(json)) {
        d = json_real_value(json);

        if (isfinite(d) && d > -1e15 && d < 1e15) {
            *value = (long long) d;
            return 1;
        }
    }

    snprintf(err, err_len, "the \"%s\" claim is not a NumericDate", name);
    return -1;
}


static int
tg_jwt_audience_ok(const tg_jwt_conf_t *conf, json_t *aud)
{
    size_t   i, j, n;
    json_t  *one;

    n = json_is_array(aud) ? json_array_size(aud) : 1;

    for (i = 0; i < n; i++) {
        one = json_is_array(aud) ? json_array_get(aud, i) : aud;

        if (!json_is_string(one)) {
            continue;
        }

        for (j = 0; j < conf->naudiences; j++) {
            if (json_string_length(one) == conf->audiences[j].len
                && memcmp(json_string_value(one), conf->audiences[j].data,
                          conf->audiences[j].len) == 0)
            {
                return 1;
            }
        }
    }

    return 0;
}


int
tg_jwt_claim_text(const tg_claims_t *claims, const char *name, char *buf,
    size_t size, const char **value, size_t *len)
{
    size_t       i;
    json_t      *json;
    const char  *s;

    json = json_object_get(tg_claims_json(claims), name);
    if (json == NULL || json_is_null(json)) {
        return 0;
    }

    if (json_is_integer(json)) {
        *len = (size_t) snprintf(buf, size, "%" JSON_INTEGER_FORMAT,
                                 json_integer_value(json));
        *value = buf;
        return 1;
    }

    if (!json_is_string(json)) {
        return -1;
    }

    s = json_string_value(json);
    *len = json_string_length(json);

    /* the value goes into a request header: no CR, LF or other control */

    for (i = 0; i < *len; i++) {
        if ((unsigned char) s[i] < 0x20 || s[i] == 0x7f) {
            return -1;
        }
    }

    *value = s;
    return 1;
}


int
tg_jwt_claim_has(const tg_claims_t *claims, const char *name,
    const unsigned char *word, size_t len)
{
    size_t   i, n;
    json_t  *json, *one;

    json = json_object_get(tg_claims_json(claims), name);

    if (json_is_string(json)) {
        return tg_jwt_words_has((const unsigned char *) json_string_value(json),
                                json_string_length(json), word, len);
    }

    n = json_is_array(json) ? json_array_size(json) : 0;

    for (i = 0; i < n; i++) {
        one = json_array_get(json, i);

        if (json_is_string(one) && json_string_length(one) == len
            && memcmp(json_string_value(one), word, len) == 0)
        {
            return 1;
        }
    }

    return 0;
}


/* either claim proves MFA: an "amr" method or an "acr" class listed */

int
tg_jwt_mfa(const tg_claims_t *claims, const tg_str_t *amr, size_t namr,
    const tg_str_t *acr, size_t nacr)
{
    size_t  i;

    for (i = 0; i < namr; i++) {
        if (tg_jwt_claim_has(claims, "amr", amr[i].data, amr[i].len)) {
            return 1;
        }
    }

    for (i = 0; i < nacr; i++) {
        if (tg_jwt_claim_has(claims, "acr", acr[i].data, acr[i].len)) {
            return 1;
        }
    }

    return 0;
}


int
tg_jwt_claim_value(const tg_claims_t *claims, const char *name, char *buf,
    size_t size, const char **value, size_t *len)
{
    int      rc;
    size_t   n;
    json_t  *json;

    rc = tg_jwt_claim_text(claims, name, buf, size, value, len);
    if (rc != -1) {
        return rc;
    }

    json = json_object_get(tg_claims_json(claims), name);
    if (json_is_string(json)) {
        return -1;
    }

    /* compact JSON escapes control characters, but not DEL */

    n = json_dumpb(json, buf, size, JSON_COMPACT | JSON_ENCODE_ANY);
    if (n == 0 || n > size || memchr(buf, 0x7f, n) != NULL) {
        return -1;
    }

    *value = buf;
    *len = n;

    return 1;
}


int
tg_jwt_claim_scopes(const tg_claims_t *claims, char *buf, size_t size,
    size_t *len)
{
    int          rc;
    size_t       i, n, l;
    json_t      *json, *one;
    const char  *s;

    json = json_object_get(tg_claims_json(claims), "scope");
    if (json == NULL || json_is_null(json)) {
        return 0;
    }

    if (json_is_string(json)) {
        rc = tg_jwt_claim_text(claims, "scope", buf, size, &s, &l);
        if (rc != 1 || l > size) {
            return -1;
        }

        memcpy(buf, s, l);
        *len = l;
        return 1;
    }

    if (!json_is_array(json)) {
        return -1;
    }

    n = 0;

    for (i = 0; i < json_array_size(json); i++) {
        one = json_array_get(json, i);

        if (!json_is_string(one)) {
            return -1;
        }

        s = json_string_value(one);
        l = json_string_length(one);

        if (n + l + 1 > size || l == 0) {
            return -1;
        }

        if (n) {
            buf[n++] = ' ';
        }

        for (rc = 0; (size_t) rc < l; rc++) {
            if ((unsigned char) s[rc] <= 0x20 || s[rc] == 0x7f) {
                return -1;
            }
        }

        memcpy(buf + n, s, l);
        n += l;
    }

    *len = n;
    return 1;
}


/*
 * The digest of every request's token (and of every ban key): SHA-256,
 * the zone's key, whatever the cost.  A worker sees the same few tokens
 * again and again, so the digests of recent inputs are kept in a small
 * table of this process, each with the input's bytes: an input equal byte
 * for byte to a kept one (compared in constant time, as a token is a
 * secret) has the kept digest; any other is hashed.  The slot is chosen
 * by a few of the input's bytes: a crafted input may take a slot from
 * another, which costs that one a hash, never a wrong digest.  The digest
 * context and the implementation are made once per process.
 */

static uint64_t
tg_memo_word(const unsigned char *p, size_t n)
{
    uint64_t  w;

    w = 0;
    memcpy(&w, p, n < 8 ? n : 8);

    return w;
}


static uint64_t
tg_memo_tag(const unsigned char *data, size_t len)
{
    uint64_t  h;

    h = (uint64_t) len * 0x9e3779b97f4a7c15ULL;
    h = (h ^ tg_memo_word(data, len)) * 0xff51afd7ed558ccdULL;

    if (len > 8) {
        h = (h ^ tg_memo_word(data + len / 2 - 4, 8)) * 0xc4ceb9fe1a85ec53ULL;
        h = (h ^ tg_memo_word(data + len - 8, 8)) * 0xff51afd7ed558ccdULL;
    }

    return h ^ (h >> 29);
}


/* constant time: CRYPTO_memcmp, 16 bytes at a time (two word XORs on
 * x86_64, where its byte loop would cost six instructions a byte) */

static int
tg_memo_equal(const unsigned char *a, const unsigned char *b, size_t len)
{
    int     diff;
    size_t  i;

    diff = 0;

    for (i = 0; i + 16 <= len; i += 16) {
        diff |= CRYPTO_memcmp(a + i, b + i, 16);
    }

    if (i < len) {
        diff |= CRYPTO_memcmp(a + i, b + i, len - i);
    }

    return diff == 0;
}


static int
tg_jwt_sha256_compute(const unsigned char *data, size_t len,
    unsigned char digest[32])
{
    size_t  n;

    if (tg_jwt_digest(0, data, len, digest, &n) != 0 || n != 32) {
        memset(digest, 0, 32);
        return -1;
    }

    return 0;
}


/*
 * SHA-256 of data and of its first split bytes in one pass: the context
 * is copied at split; the prefix's digest is kept as the signing input's.
 */

static int
tg_jwt_sha256_split(const unsigned char *data, size_t len, size_t split,
    unsigned char digest[32])
{
    unsigned int        n, m;
    EVP_MD             *md;
    static EVP_MD_CTX  *mctx, *copy;

    tg_jwt_signing.len = 0;

    md = tg_jwt_md(0);

    if (mctx == NULL) {
        mctx = EVP_MD_CTX_new();
    }

    if (copy == NULL) {
        copy = EVP_MD_CTX_new();
    }

    if (md == NULL || mctx == NULL || copy == NULL
        || EVP_DigestInit_ex2(mctx, md, NULL) != 1
        || EVP_DigestUpdate(mctx, data, split) != 1
        || EVP_MD_CTX_copy_ex(copy, mctx) != 1
        || EVP_DigestFinal_ex(copy, tg_jwt_signing.md, &m) != 1
        || EVP_DigestUpdate(mctx, data + split, len - split) != 1
        || EVP_DigestFinal_ex(mctx, digest, &n) != 1
        || n != 32 || m != 32)
    {
        memset(digest, 0, 32);
        ERR_clear_error();
        return -1;
    }

    memcpy(tg_jwt_signing.text, data, split);
    tg_jwt_signing.len = split;

    return 0;
}


void
tg_jwt_sha256(const unsigned char *data, size_t len, unsigned char digest[32])
{
    tg_jwt_sha256_memo(data, len, 0, digest);
}


/*
 * A token's key: a JWS's signing input (up to the second '.') is hashed
 * on the way, and its digest kept, with its bytes, for the verification
 * that follows a zone miss: SHA-256 of the same bytes is not computed
 * twice (tg_jwt_digest() takes it only for input equal byte for byte).
 */

void
tg_jwt_token_key(const unsigned char *token, size_t len,
    unsigned char key[32])
{
    tg_jwt_sha256_memo(token, len, 1, key);
}


/* jws: data may be a compact JWS, whose signing input is hashed too */

static void
tg_jwt_sha256_memo(const unsigned char *data, size_t len, int jws,
    unsigned char digest[32])
{
    size_t                split;
    uint64_t              tag;
    tg_memo_t            *m;
    unsigned char        *p;
    const unsigned char  *dot;

    if (len == 0 || len > TG_MEMO_MAX) {
        (void) tg_jwt_sha256_compute(data, len, digest);
        return;
    }

    if (tg_memo == NULL) {
        tg_memo = calloc(TG_MEMO_SLOTS, sizeof(tg_memo_t));
    }

    tag = tg_memo_tag(data, len);

    if (tg_memo == NULL) {
        (void) tg_jwt_sha256_compute(data, len, digest);
        return;
    }

    m = &tg_memo[tag & (TG_MEMO_SLOTS - 1)];

    if (m->tag == tag && m->len == len && tg_memo_equal(m->data, data, len)) {
        memcpy(digest, m->digest, 32);
        return;
    }

    /* a miss: the signing input ends at the second '.' */

    split = 0;
    dot = jws ? memchr(data, '.', len) : NULL;

    if (dot != NULL) {
        dot = memchr(dot + 1, '.', data + len - (dot + 1));
        split = (dot != NULL) ? (size_t) (dot - data) : 0;
    }

    if (split > 0 && split < len) {
        if (tg_jwt_sha256_split(data, len, split, digest) != 0) {
            return;
        }

    } else if (tg_jwt_sha256_compute(data, len, digest) != 0) {
        return;
    }

    if (m->size < len) {
        p = malloc(len < 512 ? 512 : len);
        if (p == NULL) {
            return;
        }

        if (m->data != NULL) {
            OPENSSL_cleanse(m->data, m->size);
            free(m->data);
        }

        m->data = p;
        m->size = len < 512 ? 512 : len;
    }

    /* nothing of the input this one replaces is left behind */

    if (m->len > len && m->size >= m->len) {
        OPENSSL_cleanse(m->data + len, m->len - len);
    }

    memcpy(m->data, data, len);
    memcpy(m->digest, digest, 32);
    m->len = len;
    m->tag = tag;
}


int
tg_jwt_words_has(const unsigned char *words, size_t words_len,
    const unsigned char *word, size_t len)
{
    const unsigned char  *s, *p, *end;

    s = words;
    end = words + words_len;

    while (s < end) {
        while (s < end && *s == ' ') {
            s++;
        }

        p = s;

        while (p < end && *p != ' ') {
            p++;
        }

        if ((size_t) (p - s) == len && len && memcmp(s, word, len) == 0) {
            return 1;
        }

        s = p;
    }

    return 0;
}


size_t
tg_jwt_claims_dump(const tg_claims_t *claims, char *buf, size_t size)
{
    size_t  n;

    n = json_dumpb(tg_claims_json(claims), buf, size, JSON_COMPACT);

    return n <= size ? n : 0;
}


tg_claims_t *
tg_claims_parse(const unsigned char *data, size_t len, char *err,
    size_t err_len)
{
    return tg_claims_new(data, len, len, err, err_len);
}


const unsigned char *
tg_claims_text(const tg_claims_t *claims, size_t *len)
{
    *len = claims->len;
    return claims->text;
}


void
tg_claims_free(tg_claims_t *claims)
{
    if (claims != NULL) {
        json_decref(claims->json);
        free(claims);
    }
}
