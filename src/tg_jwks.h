
/*
 * Copyright (C) tenant_guard authors
 */


#ifndef _TG_JWKS_H_INCLUDED_
#define _TG_JWKS_H_INCLUDED_


#include <stddef.h>

#include <openssl/evp.h>


#define TG_JWKS_MAX_SIZE     (1024 * 1024)
#define TG_JWKS_MAX_KEYS     64
#define TG_JWKS_MIN_RSA_BITS 2048
#define TG_JWKS_MIN_OCT_LEN  32


typedef enum {
    TG_KEY_RSA = 1,
    TG_KEY_EC,
    TG_KEY_ED25519,
    TG_KEY_OCT
} tg_key_type_e;


typedef struct {
    char            *kid;          /* NULL: the key has no "kid" */
    char             alg[8];       /* "": the key names no "alg" */
    tg_key_type_e    type;
    int              curve;        /* EC: the curve's NID */
    EVP_PKEY        *pkey;         /* RSA, EC, Ed25519 */
    unsigned char   *secret;       /* oct */
    size_t           secret_len;

    /*
     * tg_jwt's: the verify context of this key, made at its first use and
     * freed by tg_jwks_free(); owned like pkey: a copy of a tg_key_t into
     * another set must set it to NULL
     */
    EVP_PKEY_CTX    *verify;
    int              verify_alg;
} tg_key_t;


typedef struct {
    tg_key_t        *keys;
    size_t           nkeys;
    size_t           noct;
} tg_keyset_t;


/*
 * Loads a JWKS document (RFC 7517) or one or more PEM public keys into ks.
 * Keys whose "use" is not "sig" are skipped; a key with private material
 * (other than an "oct" secret), an unknown "kty" or "crv", or a weak size is
 * an error.  Returns 0, or -1 with the reason in err; ks is then empty.
 */
int tg_jwks_load(tg_keyset_t *ks, const unsigned char *data, size_t len,
    char *err, size_t err_len);
void tg_jwks_free(tg_keyset_t *ks);


#endif /* _TG_JWKS_H_INCLUDED_ */
