
/*
 * Copyright (C) tenant_guard authors
 *
 * Test support for the engine's unit tests: a base64url encoder, keys made
 * with OpenSSL EVP, their public JWK and PEM forms, and compact JWS tokens
 * signed with them.  Every string these return is kept and freed by
 * tt_free_all(), so that LeakSanitizer sees only the engine's leaks.
 */


#ifndef _TG_TT_H_INCLUDED_
#define _TG_TT_H_INCLUDED_


#include <stddef.h>

#include <openssl/evp.h>


/* a copy of n bytes with a NUL after them, kept until tt_free_all() */
char *tt_strndup(const void *s, size_t n);
/* a copy of n bytes in a buffer of exactly n (1 for none), kept the same */
const unsigned char *tt_exact(const void *s, size_t n);
char *tt_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void *tt_keep(void *p);
void tt_free_all(void);

/* base64url without padding */
char *tt_b64url(const void *data, size_t len);
char *tt_b64url_str(const char *s);

/* EVP_PKEY_Q_keygen(); aborts on failure; freed by tt_free_all() */
EVP_PKEY *tt_rsa(unsigned bits);
EVP_PKEY *tt_ec(const char *curve);      /* "P-256", "P-384", "P-521" */
EVP_PKEY *tt_ed25519(void);
EVP_PKEY *tt_keygen(const char *type, const char *curve);  /* any other */

/*
 * A public JWK of the key as JSON text; kid and alg may be NULL (absent),
 * extra (may be NULL) is more members, e.g. "\"use\":\"sig\"".
 */
char *tt_jwk(EVP_PKEY *pkey, const char *kid, const char *alg,
    const char *extra);
/* the JWK members only, without braces: "\"kty\":\"EC\",..." */
char *tt_jwk_members(EVP_PKEY *pkey);
char *tt_jwk_oct(const unsigned char *k, size_t len, const char *kid,
    const char *alg);
/* the private scalar or exponent "d" of an EC, RSA or OKP key, base64url */
char *tt_jwk_d(EVP_PKEY *pkey);

/* "-----BEGIN PUBLIC KEY-----" PEM, and the private key's PEM */
char *tt_pem(EVP_PKEY *pkey);
char *tt_pem_private(EVP_PKEY *pkey);

/*
 * The JWS signature over input for alg ("RS256" ... "HS512"), with pkey or
 * with the HMAC secret; ES as R || S, or as OpenSSL's DER when der is set.
 * Returns the length into out (at least 1024 bytes), or aborts.
 */
size_t tt_signature(const char *alg, EVP_PKEY *pkey,
    const unsigned char *secret, size_t secret_len, const char *input,
    size_t input_len, unsigned char *out, int der);

/*
 * A compact JWS of header and payload (JSON text, used as given): the
 * header names alg or not as the caller chose; alg here picks how to sign.
 */
char *tt_token(const char *alg, EVP_PKEY *pkey, const unsigned char *secret,
    size_t secret_len, const char *header, const char *payload);

/* header {"alg":alg,"kid":kid} (kid NULL: none) */
char *tt_jwt(const char *alg, EVP_PKEY *pkey, const unsigned char *secret,
    size_t secret_len, const char *kid, const char *payload);

/* random bytes (RAND_bytes) */
void tt_random(void *buf, size_t len);


#endif /* _TG_TT_H_INCLUDED_ */
