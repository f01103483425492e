
/*
 * Copyright (C) tenant_guard authors
 */


#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include "tt.h"


#define TT_MAX_KEPT  65536


static void *tt_kept[TT_MAX_KEPT];
static size_t tt_nkept;
static EVP_PKEY *tt_pkeys[256];
static size_t tt_npkeys;


static void
tt_die(const char *what)
{
    fprintf(stderr, "tt: %s failed\n", what);
    ERR_print_errors_fp(stderr);
    abort();
}


void *
tt_keep(void *p)
{
    if (p == NULL) {
        tt_die("malloc");
    }

    if (tt_nkept == TT_MAX_KEPT) {
        tt_die("tt_keep (too many)");
    }

    tt_kept[tt_nkept++] = p;

    return p;
}


void
tt_free_all(void)
{
    while (tt_nkept) {
        free(tt_kept[--tt_nkept]);
    }

    while (tt_npkeys) {
        EVP_PKEY_free(tt_pkeys[--tt_npkeys]);
    }
}


char *
tt_strndup(const void *s, size_t n)
{
    char  *p;

    p = tt_keep(malloc(n + 1));
    memcpy(p, s, n);
    p[n] = '\0';

    return p;
}


/* n bytes in a buffer of exactly n bytes (1 for none): a read past shows */

const unsigned char *
tt_exact(const void *s, size_t n)
{
    unsigned char  *p;

    p = tt_keep(malloc(n ? n : 1));
    if (p == NULL) {
        abort();
    }

    memcpy(p, s, n);

    return p;
}


char *
tt_printf(const char *fmt, ...)
{
    int       n;
    char     *p;
    va_list   ap;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);

    p = tt_keep(malloc((size_t) n + 1));

    va_start(ap, fmt);
    vsnprintf(p, (size_t) n + 1, fmt, ap);
    va_end(ap);

    return p;
}


char *
tt_b64url(const void *data, size_t len)
{
    static const char     map[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t                i;
    char                 *out, *d;
    const unsigned char  *s = data;
    unsigned              v;

    out = tt_keep(malloc(len / 3 * 4 + 5));
    d = out;

    for (i = 0; i + 3 <= len; i += 3) {
        v = (unsigned) s[i] << 16 | (unsigned) s[i + 1] << 8 | s[i + 2];
        *d++ = map[v >> 18 & 63];
        *d++ = map[v >> 12 & 63];
        *d++ = map[v >> 6 & 63];
        *d++ = map[v & 63];
    }

    if (len - i == 1) {
        v = (unsigned) s[i] << 16;
        *d++ = map[v >> 18 & 63];
        *d++ = map[v >> 12 & 63];

    } else if (len - i == 2) {
        v = (unsigned) s[i] << 16 | (unsigned) s[i + 1] << 8;
        *d++ = map[v >> 18 & 63];
        *d++ = map[v >> 12 & 63];
        *d++ = map[v >> 6 & 63];
    }

    *d = '\0';

    return out;
}


char *
tt_b64url_str(const char *s)
{
    return tt_b64url(s, strlen(s));
}


static EVP_PKEY *
tt_pkey_keep(EVP_PKEY *pkey, const char *what)
{
    if (pkey == NULL || tt_npkeys == sizeof(tt_pkeys) / sizeof(tt_pkeys[0]))
    {
        tt_die(what);
    }

    tt_pkeys[tt_npkeys++] = pkey;

    return pkey;
}


EVP_PKEY *
tt_rsa(unsigned bits)
{
    return tt_pkey_keep(EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) bits),
                        "RSA keygen");
}


EVP_PKEY *
tt_ec(const char *curve)
{
    return tt_pkey_keep(EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve),
                        "EC keygen");
}


EVP_PKEY *
tt_ed25519(void)
{
    return tt_pkey_keep(EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"),
                        "Ed25519 keygen");
}


EVP_PKEY *
tt_keygen(const char *type, const char *curve)
{
    EVP_PKEY      *pkey;
    EVP_PKEY_CTX  *ctx;

    if (strcmp(type, "RSA-PSS") == 0) {
        pkey = NULL;
        ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA-PSS", NULL);

        if (ctx == NULL || EVP_PKEY_keygen_init(ctx) <= 0
            || EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, 2048) <= 0
            || EVP_PKEY_generate(ctx, &pkey) <= 0)
        {
            tt_die("RSA-PSS keygen");
        }

        EVP_PKEY_CTX_free(ctx);

        return tt_pkey_keep(pkey, "RSA-PSS keygen");
    }

    if (curve != NULL) {
        return tt_pkey_keep(EVP_PKEY_Q_keygen(NULL, NULL, type, curve),
                            "keygen");
    }

    return tt_pkey_keep(EVP_PKEY_Q_keygen(NULL, NULL, type), "keygen");
}


static char *
tt_bn_param(EVP_PKEY *pkey, const char *name, size_t pad)
{
    int             n;
    char           *s;
    BIGNUM         *bn;
    unsigned char   buf[1024];

    bn = NULL;

    if (!EVP_PKEY_get_bn_param(pkey, name, &bn)) {
        tt_die(name);
    }

    n = pad ? BN_bn2binpad(bn, buf, (int) pad) : BN_bn2bin(bn, buf);
    BN_free(bn);

    if (n <= 0) {
        tt_die("BN_bn2bin");
    }

    s = tt_b64url(buf, (size_t) n);

    return s;
}


static size_t
tt_ec_size(EVP_PKEY *pkey)
{
    int  bits;

    bits = EVP_PKEY_get_bits(pkey);

    return ((size_t) bits + 7) / 8;
}


static const char *
tt_ec_crv(EVP_PKEY *pkey)
{
    switch (EVP_PKEY_get_bits(pkey)) {
    case 256:
        return "P-256";
    case 384:
        return "P-384";
    case 521:
        return "P-521";
    }

    return "?";
}


char *
tt_jwk_members(EVP_PKEY *pkey)
{
    size_t          len;
    unsigned char   raw[64];

    switch (EVP_PKEY_get_base_id(pkey)) {

    case EVP_PKEY_RSA:
        return tt_printf("\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"%s\"",
                         tt_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, 0),
                         tt_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, 0));

    case EVP_PKEY_EC:
        return tt_printf("\"kty\":\"EC\",\"crv\":\"%s\",\"x\":\"%s\","
                         "\"y\":\"%s\"", tt_ec_crv(pkey),
                         tt_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_X,
                                     tt_ec_size(pkey)),
                         tt_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_Y,
                                     tt_ec_size(pkey)));

    case EVP_PKEY_ED25519:
        len = sizeof(raw);
        if (!EVP_PKEY_get_raw_public_key(pkey, raw, &len)) {
            tt_die("EVP_PKEY_get_raw_public_key");
        }

        return tt_printf("\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"%s\"",
                         tt_b64url(raw, len));
    }

    tt_die("tt_jwk_members: key type");
    return NULL;
}


static char *
tt_jwk_wrap(const char *members, const char *kid, const char *alg,
    const char *extra)
{
    return tt_printf("{%s%s%s%s%s%s%s%s%s}", members,
                     kid ? ",\"kid\":\"" : "", kid ? kid : "",
                     kid ? "\"" : "",
                     alg ? ",\"alg\":\"" : "", alg ? alg : "",
                     alg ? "\"" : "",
                     extra ? "," : "", extra ? extra : "");
}


char *
tt_jwk(EVP_PKEY *pkey, const char *kid, const char *alg, const char *extra)
{
    return tt_jwk_wrap(tt_jwk_members(pkey), kid, alg, extra);
}


char *
tt_jwk_oct(const unsigned char *k, size_t len, const char *kid,
    const char *alg)
{
    return tt_jwk_wrap(tt_printf("\"kty\":\"oct\",\"k\":\"%s\"",
                                 tt_b64url(k, len)),
                       kid, alg, NULL);
}


char *
tt_jwk_d(EVP_PKEY *pkey)
{
    size_t          len;
    unsigned char   raw[64];

    switch (EVP_PKEY_get_base_id(pkey)) {

    case EVP_PKEY_RSA:
        return tt_bn_param(pkey, OSSL_PKEY_PARAM_RSA_D, 0);

    case EVP_PKEY_EC:
        return tt_bn_param(pkey, OSSL_PKEY_PARAM_PRIV_KEY, tt_ec_size(pkey));

    case EVP_PKEY_ED25519:
        len = sizeof(raw);
        if (!EVP_PKEY_get_raw_private_key(pkey, raw, &len)) {
            tt_die("EVP_PKEY_get_raw_private_key");
        }

        return tt_b64url(raw, len);
    }

    tt_die("tt_jwk_d: key type");
    return NULL;
}


static char *
tt_bio_text(BIO *bio)
{
    char   *data;
    long    n;

    n = BIO_get_mem_data(bio, &data);
    if (n <= 0) {
        tt_die("BIO_get_mem_data");
    }

    return tt_strndup(data, (size_t) n);
}


char *
tt_pem(EVP_PKEY *pkey)
{
    BIO   *bio;
    char  *s;

    bio = BIO_new(BIO_s_mem());
    if (bio == NULL || !PEM_write_bio_PUBKEY(bio, pkey)) {
        tt_die("PEM_write_bio_PUBKEY");
    }

    s = tt_bio_text(bio);
    BIO_free(bio);

    return s;
}


char *
tt_pem_private(EVP_PKEY *pkey)
{
    BIO   *bio;
    char  *s;

    bio = BIO_new(BIO_s_mem());
    if (bio == NULL
        || !PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL))
    {
        tt_die("PEM_write_bio_PrivateKey");
    }

    s = tt_bio_text(bio);
    BIO_free(bio);

    return s;
}


static const char *
tt_digest(const char *alg)
{
    const char  *bits = alg + 2;

    if (strcmp(alg, "EdDSA") == 0) {
        return NULL;
    }

    if (strcmp(bits, "256") == 0) {
        return "SHA256";
    }

    if (strcmp(bits, "384") == 0) {
        return "SHA384";
    }

    if (strcmp(bits, "512") == 0) {
        return "SHA512";
    }

    tt_die("tt_digest: unknown alg");
    return NULL;
}


size_t
tt_signature(const char *alg, EVP_PKEY *pkey, const unsigned char *secret,
    size_t secret_len, const char *input, size_t input_len,
    unsigned char *out, int der)
{
    size_t               n, size;
    EVP_MD_CTX          *mctx;
    ECDSA_SIG           *ecdsa;
    EVP_PKEY_CTX        *pctx;
    const BIGNUM        *r, *s;
    const char          *digest;
    const unsigned char *p;
    unsigned char        buf[2048];

    digest = tt_digest(alg);

    if (alg[0] == 'H') {
        if (EVP_Q_mac(NULL, "HMAC", NULL, digest, NULL, secret, secret_len,
                      (const unsigned char *) input, input_len, out, 1024,
                      &n)
            == NULL)
        {
            tt_die("EVP_Q_mac");
        }

        return n;
    }

    mctx = EVP_MD_CTX_new();

    if (mctx == NULL
        || EVP_DigestSignInit_ex(mctx, &pctx, digest, NULL, NULL, pkey,
                                 NULL) <= 0)
    {
        tt_die("EVP_DigestSignInit_ex");
    }

    if (alg[0] == 'P'
        && (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) <= 0
            || EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST)
               <= 0))
    {
        tt_die("PSS padding");
    }

    n = sizeof(buf);

    if (EVP_DigestSign(mctx, buf, &n, (const unsigned char *) input,
                       input_len) != 1)
    {
        tt_die("EVP_DigestSign");
    }

    EVP_MD_CTX_free(mctx);

    if (alg[0] != 'E' || alg[1] != 'S' || der) {
        memcpy(out, buf, n);
        return n;
    }

    /* DER to R || S */

    size = tt_ec_size(pkey);
    p = buf;
    ecdsa = d2i_ECDSA_SIG(NULL, &p, (long) n);
    if (ecdsa == NULL) {
        tt_die("d2i_ECDSA_SIG");
    }

    ECDSA_SIG_get0(ecdsa, &r, &s);

    if (BN_bn2binpad(r, out, (int) size) != (int) size
        || BN_bn2binpad(s, out + size, (int) size) != (int) size)
    {
        tt_die("BN_bn2binpad");
    }

    ECDSA_SIG_free(ecdsa);

    return 2 * size;
}


char *
tt_token(const char *alg, EVP_PKEY *pkey, const unsigned char *secret,
    size_t secret_len, const char *header, const char *payload)
{
    char           *input;
    size_t          n;
    unsigned char   sig[1024];

    input = tt_printf("%s.%s", tt_b64url_str(header), tt_b64url_str(payload));
    n = tt_signature(alg, pkey, secret, secret_len, input, strlen(input), sig,
                     0);

    return tt_printf("%s.%s", input, tt_b64url(sig, n));
}


char *
tt_jwt(const char *alg, EVP_PKEY *pkey, const unsigned char *secret,
    size_t secret_len, const char *kid, const char *payload)
{
    char  *header;

    if (kid != NULL) {
        header = tt_printf("{\"alg\":\"%s\",\"typ\":\"JWT\",\"kid\":\"%s\"}",
                           alg, kid);

    } else {
        header = tt_printf("{\"alg\":\"%s\",\"typ\":\"JWT\"}", alg);
    }

    return tt_token(alg, pkey, secret, secret_len, header, payload);
}


void
tt_random(void *buf, size_t len)
{
    if (RAND_bytes(buf, (int) len) != 1) {
        tt_die("RAND_bytes");
    }
}
