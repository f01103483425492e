
/*
 * Copyright (C) tenant_guard authors
 */


/*
 * One thread per process, as in an nginx worker: the digest memo, the
 * last good header, the kept signing-input digest and the keys' verify
 * contexts are caches of the process, with no lock.
 */


#ifndef _TG_JWT_H_INCLUDED_
#define _TG_JWT_H_INCLUDED_


#include <stddef.h>

#include "tg_jwks.h"


typedef enum {
    TG_ALG_RS256 = 0,
    TG_ALG_RS384,
    TG_ALG_RS512,
    TG_ALG_PS256,
    TG_ALG_PS384,
    TG_ALG_PS512,
    TG_ALG_ES256,
    TG_ALG_ES384,
    TG_ALG_ES512,
    TG_ALG_EDDSA,
    TG_ALG_HS256,
    TG_ALG_HS384,
    TG_ALG_HS512,
    TG_ALG_LAST
} tg_alg_e;


#define TG_ALG_BIT(alg)       (1u << (alg))
#define TG_ALG_DEFAULT        (TG_ALG_BIT(TG_ALG_RS256)                      \
                               | TG_ALG_BIT(TG_ALG_ES256)                    \
                               | TG_ALG_BIT(TG_ALG_EDDSA))
#define TG_ALG_HMAC           (TG_ALG_BIT(TG_ALG_HS256)                      \
                               | TG_ALG_BIT(TG_ALG_HS384)                    \
                               | TG_ALG_BIT(TG_ALG_HS512))

#define TG_JWT_MAX_SIZE       8192
#define TG_JWT_MAX_TRIES      4        /* keys tried for one token */


typedef struct {
    const unsigned char  *data;
    size_t                len;
} tg_str_t;


/* a token's claims, a JSON object: read only through the functions below */
typedef struct tg_claims_s  tg_claims_t;


typedef struct {
    unsigned              algs;        /* allowlist: TG_ALG_BIT()s */
    const tg_keyset_t    *keys;
    tg_str_t              issuer;      /* len 0: any */
    const tg_str_t       *audiences;
    size_t                naudiences;  /* 0: any */
    long long             leeway;
    size_t                max_size;
} tg_jwt_conf_t;


typedef struct {
    tg_claims_t          *claims;      /* owned: tg_claims_free() */
    tg_alg_e              alg;
    long long             exp;
    long long             iat;         /* -1: absent */
    int                   final;       /* refused for good: not for a
                                          time claim, nor out of memory */
} tg_jwt_t;


/* -1 if the name is not a known JWS algorithm ("none" is not) */
int tg_jwt_alg_by_name(const char *name, size_t len);
const char *tg_jwt_alg_name(tg_alg_e alg);

/*
 * Verifies a compact JWS and its registered claims at time now.  Returns 0
 * and fills jwt, or -1 with a reason fit to show the client in err; then
 * jwt->final says whether the same token would be refused at any later
 * time under the same conf (not so for exp, nbf, iat or a lack of memory).
 */
int tg_jwt_verify(const tg_jwt_conf_t *conf, const unsigned char *token,
    size_t len, long long now, tg_jwt_t *jwt, char *err, size_t err_len);

/*
 * An opaque token's record (a JSON object of claims kept by the control
 * plane): the same claim checks as a JWT's but iss and aud, exp required.
 */
int tg_jwt_check_record(const tg_jwt_conf_t *conf, const unsigned char *data,
    size_t len, long long now, tg_jwt_t *jwt, char *err, size_t err_len);

/* 1 when the token has the JWS compact shape (two dots) */
int tg_jwt_is_compact(const unsigned char *token, size_t len);

/*
 * A claim as text: a string, or an integer printed in decimal into buf.
 * Returns 1 and sets *value and *len, 0 when absent, -1 when the claim has
 * another type or holds a control character.
 */
int tg_jwt_claim_text(const tg_claims_t *claims, const char *name,
    char *buf, size_t size, const char **value, size_t *len);

/*
 * A claim as text for a variable: a string as it is, any other JSON value
 * in compact JSON.  Returns 1, or 0 when absent, or -1 when it does not fit
 * in size bytes or holds a control character.
 */
int tg_jwt_claim_value(const tg_claims_t *claims, const char *name,
    char *buf, size_t size, const char **value, size_t *len);

/*
 * The "scope" claim (RFC 8693: space-separated words, or an array of
 * strings) as space-separated words in buf.  Returns 1, 0 when absent, -1
 * when malformed or larger than size.
 */
int tg_jwt_claim_scopes(const tg_claims_t *claims, char *buf, size_t size,
    size_t *len);

/* whether the space-separated words hold word */
int tg_jwt_words_has(const unsigned char *words, size_t words_len,
    const unsigned char *word, size_t len);

/* the claims as compact JSON into buf: the length, or 0 if over size */
size_t tg_jwt_claims_dump(const tg_claims_t *claims, char *buf,
    size_t size);

/* the SHA-256 of data: a token's cache key and, in hex, its id */
void tg_jwt_sha256(const unsigned char *data, size_t len,
    unsigned char digest[32]);

/*
 * A token's SHA-256: its cache key and, in hex, its id.  For a compact JWS
 * the digest of its signing input is made in the same pass and kept for
 * the tg_jwt_verify() that may follow (used only for equal bytes).
 */
void tg_jwt_token_key(const unsigned char *token, size_t len,
    unsigned char key[32]);

/*
 * Whether claim name (a string of space-separated words, or an array of
 * strings) holds word.
 */
int tg_jwt_claim_has(const tg_claims_t *claims, const char *name,
    const unsigned char *word, size_t len);


/*
 * 1 when claim "amr" holds one of amr[0..namr) or claim "acr" holds one of
 * acr[0..nacr), each matched as tg_jwt_claim_has() matches; 0 otherwise.
 */
int tg_jwt_mfa(const tg_claims_t *claims, const tg_str_t *amr, size_t namr,
    const tg_str_t *acr, size_t nacr);

/*
 * Claims from their JSON text, such as tg_jwt_claims_dump() wrote: one
 * object, refused as tg_jwt_verify() refuses a payload (duplicate keys,
 * NUL, nesting); len is the caller's to bound.  NULL with the reason in err.
 */
tg_claims_t *tg_claims_parse(const unsigned char *data, size_t len,
    char *err, size_t err_len);

/*
 * The JSON text the claims were read from, as it was (a token's decoded
 * payload, a record): what the zone keeps, since parsing it again gives
 * the same claims.
 */
const unsigned char *tg_claims_text(const tg_claims_t *claims, size_t *len);

/* NULL is allowed */
void tg_claims_free(tg_claims_t *claims);

#endif /* _TG_JWT_H_INCLUDED_ */
