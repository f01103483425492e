
/*
 * Copyright (C) tenant_guard authors
 *
 * The floor of a new token's cost: one signature check through OpenSSL's
 * EVP, as any verifier must make it, with nothing of ours around it.
 * bench/ir runs it under callgrind with two loop counts and takes the
 * difference, so that key loading and OpenSSL's start are not counted.
 *
 *   verify_floor ES256|RS256 KEY.pem N
 *
 * The key is read from a file, not generated: an RSA key's generation
 * takes a different time at each run, which the difference would count.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>


static EVP_PKEY *key_read(const char *file);
static size_t sign(const char *alg, EVP_PKEY *pkey, const unsigned char *in,
    size_t len, unsigned char *sig, size_t size);
static int verify(const char *alg, EVP_PKEY *pkey, const unsigned char *in,
    size_t len, const unsigned char *sig, size_t sig_len);


int
main(int argc, char **argv)
{
    long            i, n;
    size_t          sig_len;
    EVP_PKEY       *pkey;
    const char     *alg;
    unsigned char   sig[512];
    static const unsigned char  input[] =
        "eyJhbGciOiJFUzI1NiIsImtpZCI6ImsxIn0."
        "eyJzdWIiOiJ1MSIsIndvcmtzcGFjZV9pZCI6IndzMSIsImV4cCI6OTk5OTk5OTk5OX0";

    if (argc != 4) {
        fprintf(stderr, "usage: verify_floor ES256|RS256 KEY.pem N\n");
        return 2;
    }

    alg = argv[1];
    n = atol(argv[3]);

    pkey = key_read(argv[2]);
    if (pkey == NULL) {
        fprintf(stderr, "verify_floor: cannot read the key %s\n", argv[2]);
        return 1;
    }

    sig_len = sign(alg, pkey, input, sizeof(input) - 1, sig, sizeof(sig));
    if (sig_len == 0) {
        fprintf(stderr, "verify_floor: signing failed\n");
        return 1;
    }

    for (i = 0; i < n; i++) {
        if (!verify(alg, pkey, input, sizeof(input) - 1, sig, sig_len)) {
            fprintf(stderr, "verify_floor: the signature does not verify\n");
            return 1;
        }
    }

    EVP_PKEY_free(pkey);

    return 0;
}


static EVP_PKEY *
key_read(const char *file)
{
    FILE      *f;
    EVP_PKEY  *pkey;

    f = fopen(file, "r");
    if (f == NULL) {
        return NULL;
    }

    pkey = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);

    return pkey;
}


/* a DER signature for ES256: what EVP takes; a JWS's raw R||S must first
 * become one, which is part of any verifier's cost */

static size_t
sign(const char *alg, EVP_PKEY *pkey, const unsigned char *in, size_t len,
    unsigned char *sig, size_t size)
{
    size_t       n;
    EVP_MD_CTX  *md;

    (void) alg;

    md = EVP_MD_CTX_new();
    n = size;

    if (md == NULL
        || EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, pkey) != 1
        || EVP_DigestSign(md, sig, &n, in, len) != 1)
    {
        n = 0;
    }

    EVP_MD_CTX_free(md);

    return n;
}


static int
verify(const char *alg, EVP_PKEY *pkey, const unsigned char *in, size_t len,
    const unsigned char *sig, size_t sig_len)
{
    int          ok;
    EVP_MD_CTX  *md;

    (void) alg;

    md = EVP_MD_CTX_new();

    ok = md != NULL
         && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pkey) == 1
         && EVP_DigestVerify(md, sig, sig_len, in, len) == 1;

    EVP_MD_CTX_free(md);

    return ok;
}
