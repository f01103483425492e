
/*
 * Copyright (C) tenant_guard authors
 *
 * tg_jwks_load(): JWKS and PEM public keys into a key set.
 */


#include <string.h>

#include <openssl/core_names.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <openssl/sha.h>

#include "tap.h"
#include "tt.h"
#include "tg_jwks.h"
#include "tg_jwt.h"


TAP_GLOBALS;


static char  err[512];


/* loads from an exact-size heap copy */
static int
load(tg_keyset_t *ks, const char *text)
{
    int  rc;

    err[0] = '\0';
    rc = tg_jwks_load(ks, (const unsigned char *)
                      tt_strndup(text, strlen(text)), strlen(text), err,
                      sizeof(err));

    if (rc != 0 && (ks->nkeys != 0 || ks->keys != NULL)) {
        diag("a failed load left keys behind");
        return -2;
    }

    return rc;
}


static int
try(const char *text)
{
    int          rc;
    tg_keyset_t  ks;

    rc = load(&ks, text);
    tg_jwks_free(&ks);

    return rc;
}


static char *
jwks(const char *keys)
{
    return tt_printf("{\"keys\":[%s]}", keys);
}


static EVP_PKEY  *rsa2048, *rsa1024, *ec256, *ec384, *ec521, *ed;


static void
test_key_types(void)
{
    tg_keyset_t    ks;
    unsigned char  k[64];

    tt_random(k, sizeof(k));

    is_int(load(&ks, jwks(tt_jwk(rsa2048, "r", "RS256", "\"use\":\"sig\""))),
           0, "an RSA-2048 JWK loads");
    ok(ks.nkeys == 1 && ks.keys[0].type == TG_KEY_RSA
       && ks.keys[0].pkey != NULL, "it is an RSA key");
    is_str(ks.keys[0].kid, "r", "its kid is kept");
    is_str(ks.keys[0].alg, "RS256", "its alg is kept");
    tg_jwks_free(&ks);
    ok(ks.nkeys == 0 && ks.keys == NULL, "free empties the set");

    is_int(load(&ks, jwks(tt_jwk(ec256, "e", NULL, NULL))), 0,
           "an EC P-256 JWK loads");
    ok(ks.keys[0].type == TG_KEY_EC
       && ks.keys[0].curve == NID_X9_62_prime256v1, "it is P-256");
    is_str(ks.keys[0].alg, "", "no alg: the empty name");
    tg_jwks_free(&ks);

    is_int(load(&ks, jwks(tt_jwk(ec384, NULL, NULL, NULL))), 0,
           "an EC P-384 JWK loads");
    ok(ks.keys[0].type == TG_KEY_EC && ks.keys[0].curve == NID_secp384r1,
       "it is P-384");
    ok(ks.keys[0].kid == NULL, "no kid: NULL");
    tg_jwks_free(&ks);

    is_int(load(&ks, jwks(tt_jwk(ec521, "p521", "ES512", NULL))), 0,
           "an EC P-521 JWK loads");
    ok(ks.keys[0].type == TG_KEY_EC && ks.keys[0].curve == NID_secp521r1,
       "it is P-521");
    tg_jwks_free(&ks);

    is_int(load(&ks, jwks(tt_jwk(ed, "ed", "EdDSA", NULL))), 0,
           "an Ed25519 JWK loads");
    ok(ks.keys[0].type == TG_KEY_ED25519, "it is Ed25519");
    tg_jwks_free(&ks);

    is_int(load(&ks, jwks(tt_jwk_oct(k, 32, "h", "HS256"))), 0,
           "a 32-byte oct JWK loads");
    ok(ks.keys[0].type == TG_KEY_OCT && ks.keys[0].secret_len == 32
       && memcmp(ks.keys[0].secret, k, 32) == 0, "its secret is kept");
    is_int(ks.noct, 1, "noct counts it");
    tg_jwks_free(&ks);

    is_int(load(&ks, jwks(tt_printf("%s,%s,%s,%s,%s,%s,%s",
                                    tt_jwk(rsa2048, "1", NULL, NULL),
                                    tt_jwk(ec256, "2", NULL, NULL),
                                    tt_jwk(ec384, "3", NULL, NULL),
                                    tt_jwk(ec521, "4", NULL, NULL),
                                    tt_jwk(ed, "5", NULL, NULL),
                                    tt_jwk_oct(k, 32, "6", NULL),
                                    tt_jwk_oct(k, 64, "7", NULL)))),
           0, "a set of every key type loads");
    ok(ks.nkeys == 7 && ks.noct == 2, "seven keys, two of them oct");
    ok(strcmp(ks.keys[0].kid, "1") == 0 && strcmp(ks.keys[6].kid, "7") == 0,
       "in file order");
    tg_jwks_free(&ks);
}


static void
test_refused_keys(void)
{
    char           *y, *members;
    size_t          len;
    unsigned char   k[64];

    tt_random(k, sizeof(k));

    ok(try(jwks(tt_jwk(rsa1024, "weak", NULL, NULL))) == -1,
       "an RSA-1024 JWK is refused");
    like(err, "at least 2048 bits", "the error names the minimum");
    like(err, "key #1", "the error names the key");

    ok(try(jwks(tt_jwk_oct(k, 31, NULL, NULL))) == -1,
       "a 31-byte oct key is refused");
    like(err, "at least 32 bytes", "the error names the minimum");

    /* P-256: flip the last bit of y, the point leaves the curve */

    members = tt_jwk_members(ec256);
    y = strstr(members, "\"y\":\"") + 5;
    len = strcspn(y, "\"");
    y[len - 1] = (y[len - 1] == 'A') ? 'E' : 'A';
    ok(try(jwks(tt_printf("{%s}", members))) == -1, "a P-256 point not on "
       "the curve is refused");
    like(err, "not a point on P-256", "the error says so");

    ok(try(jwks(tt_printf("{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\","
                          "\"y\":\"%s\"}", tt_b64url(k, 32),
                          tt_b64url(k, 31)))) == -1,
       "a 31-byte y is refused");
    like(err, "must be 32 bytes", "the error names the size");
    ok(try(jwks(tt_printf("{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\","
                          "\"y\":\"%s\"}", tt_b64url(k, 48),
                          tt_b64url(k, 48)))) == -1,
       "P-384-sized coordinates for P-256 are refused");
    memset(k, 0, 32);
    ok(try(jwks(tt_printf("{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\","
                          "\"y\":\"%s\"}", tt_b64url(k, 32),
                          tt_b64url(k, 32)))) == -1,
       "the point (0, 0) is refused");
    tt_random(k, sizeof(k));

    ok(try(jwks(tt_printf("{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
                          "\"x\":\"%s\"}", tt_b64url(k, 31)))) == -1,
       "a 31-byte Ed25519 key is refused");

    /* private material */

    ok(try(jwks(tt_jwk(ec256, NULL, NULL, tt_printf("\"d\":\"%s\"",
                                                     tt_jwk_d(ec256)))))
       == -1, "an EC key with \"d\" is refused");
    like(err, "private key material", "the error says private key "
         "material");
    ok(try(jwks(tt_jwk(rsa2048, NULL, NULL, tt_printf("\"d\":\"%s\"",
                                                       tt_jwk_d(rsa2048)))))
       == -1, "an RSA key with \"d\" is refused");
    ok(try(jwks(tt_jwk(rsa2048, NULL, NULL, "\"p\":\"AQAB\""))) == -1,
       "an RSA key with \"p\" is refused");
    ok(try(jwks(tt_jwk(ed, NULL, NULL, tt_printf("\"d\":\"%s\"",
                                                  tt_jwk_d(ed))))) == -1,
       "an Ed25519 key with \"d\" is refused");
    ok(try(jwks(tt_jwk(ed, NULL, NULL, "\"d\":null"))) == -1,
       "even \"d\": null is refused");

    /* types and curves */

    ok(try(jwks("{\"kty\":\"DSA\"}")) == -1, "kty DSA is refused");
    like(err, "unsupported \"kty\" \"DSA\"", "the error names it");
    ok(try(jwks("{\"n\":\"AQAB\"}")) == -1, "no kty is refused");
    ok(try(jwks("{\"kty\":7}")) == -1, "a number kty is refused");
    ok(try(jwks("{\"kty\":\"rsa\"}")) == -1, "kty is case-sensitive");
    ok(try(jwks(tt_printf("{\"kty\":\"EC\",\"crv\":\"secp256k1\","
                          "\"x\":\"%s\",\"y\":\"%s\"}", tt_b64url(k, 32),
                          tt_b64url(k, 32)))) == -1,
       "crv secp256k1 is refused");
    like(err, "unsupported EC \"crv\"", "the error says so");
    ok(try(jwks(tt_printf("{\"kty\":\"EC\",\"crv\":\"P-192\","
                          "\"x\":\"%s\",\"y\":\"%s\"}", tt_b64url(k, 24),
                          tt_b64url(k, 24)))) == -1,
       "crv P-192 is refused");
    ok(try(jwks(tt_printf("{\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}",
                          tt_b64url(k, 32), tt_b64url(k, 32)))) == -1,
       "an EC key without crv is refused");
    ok(try(jwks(tt_printf("{\"kty\":\"OKP\",\"crv\":\"X25519\","
                          "\"x\":\"%s\"}", tt_b64url(k, 32)))) == -1,
       "OKP X25519 is refused");
    ok(try(jwks(tt_printf("{\"kty\":\"OKP\",\"crv\":\"Ed448\","
                          "\"x\":\"%s\"}", tt_b64url(k, 57)))) == -1,
       "OKP Ed448 is refused");

    /* members */

    ok(try(jwks(tt_jwk(rsa2048, NULL, NULL, NULL))) == 0, "the plain RSA key "
       "loads (control)");
    ok(try(jwks("{\"kty\":\"RSA\",\"e\":\"AQAB\"}")) == -1,
       "an RSA key without n is refused");
    ok(try(jwks(tt_printf("{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"\"}",
                          tt_b64url(k, 64)))) == -1,
       "an empty e is refused");
    ok(try(jwks("{\"kty\":\"oct\",\"k\":\"QUJD=\"}")) == -1,
       "a padded member is refused");
    ok(try(jwks(tt_printf("{\"kty\":\"oct\",\"k\":\"%s+\"}",
                          tt_b64url(k, 33)))) == -1,
       "a member with '+' is refused");
    ok(try(jwks("{\"kty\":\"oct\",\"k\":5}")) == -1, "a number member is "
       "refused");
    ok(try(jwks(tt_printf("{\"kty\":\"oct\",\"k\":\"%s\"}",
                          tt_printf("%03000d", 0)))) == -1,
       "an oversized member is refused");
    ok(try(jwks(tt_jwk(ec256, "k", NULL, "\"key_ops\":\"verify\""))) == -1,
       "key_ops not an array is refused");
    ok(try(jwks(tt_jwk(ec256, "k", NULL, "\"key_ops\":[\"verify\"]"))) == 0,
       "key_ops as an array is accepted");
    ok(try(jwks(tt_printf("%.*s,\"kid\":5}",
                          (int) strlen(tt_jwk(ec256, NULL, NULL, NULL)) - 1,
                          tt_jwk(ec256, NULL, NULL, NULL)))) == -1,
       "a number kid is refused");
    ok(try(jwks(tt_jwk(ec256, NULL, "", NULL))) == -1, "an empty alg is "
       "refused");
    ok(try(jwks(tt_jwk(ec256, NULL, "ES256256", NULL))) == -1, "an alg of 8 "
       "characters is refused");
    ok(try(jwks(tt_jwk(ec256, NULL, "ES25625", NULL))) == 0, "an alg of 7 "
       "characters is kept (matched later)");
}


static void
test_sets(void)
{
    int            i;
    char          *many;
    tg_keyset_t    ks;
    unsigned char  k[32];

    tt_random(k, sizeof(k));

    is_int(load(&ks, jwks(tt_printf("%s,%s",
                                    tt_jwk(ec256, "enc", NULL,
                                           "\"use\":\"enc\""),
                                    tt_jwk(ed, "sig", NULL,
                                           "\"use\":\"sig\"")))), 0,
           "a set with an enc and a sig key loads");
    ok(ks.nkeys == 1 && strcmp(ks.keys[0].kid, "sig") == 0,
       "use=enc is skipped");
    tg_jwks_free(&ks);

    ok(try(jwks(tt_jwk(ec256, "enc", NULL, "\"use\":\"enc\""))) == -1,
       "a set of enc keys only is refused");
    like(err, "no signature key", "the error says so");
    ok(try(jwks(tt_printf("{\"kty\":\"weird\",\"use\":\"enc\"}"))) == -1,
       "a skipped key is not parsed (only key skipped: empty)");
    like(err, "no signature key", "the error is the empty set's");
    ok(try(jwks(tt_jwk(ec256, NULL, NULL, "\"use\":7"))) == -1,
       "a number use is refused");
    ok(try(jwks(tt_jwk(ec256, NULL, NULL, "\"use\":\"SIG\""))) == -1,
       "use is case-sensitive (\"SIG\" is skipped)");

    ok(try("{\"keys\":[]}") == -1, "an empty set is refused");
    like(err, "no signature key", "the error says so");
    ok(try("{}") == -1, "{} is refused");
    like(err, "\"keys\" array", "the error asks for a keys array");
    ok(try("{\"keys\":{}}") == -1, "keys as an object is refused");
    ok(try("{\"keys\":[5]}") == -1, "a key that is not an object is "
       "refused");
    like(err, "key #1 is not an object", "the error names it");
    ok(try(jwks(tt_printf("%s,%s", tt_jwk(ec256, "a", NULL, NULL),
                          tt_jwk(rsa1024, "b", NULL, NULL)))) == -1,
       "one weak key refuses the set");
    like(err, "key #2", "the error names the second key");
    ok(try(tt_printf("{\"keys\":[%s],\"keys\":[]}",
                     tt_jwk(ec256, NULL, NULL, NULL))) == -1,
       "a duplicate \"keys\" is refused");

    many = tt_jwk_oct(k, 32, NULL, NULL);

    for (i = 1; i < 64; i++) {
        many = tt_printf("%s,%s", many, tt_jwk_oct(k, 32, NULL, NULL));
    }

    ok(try(jwks(many)) == 0, "64 keys load");
    ok(try(jwks(tt_printf("%s,%s", many, tt_jwk_oct(k, 32, NULL, NULL))))
       == -1, "65 keys are refused");
    like(err, "more than 64 keys", "the error says so");

    ok(try(tt_printf("{\"keys\":[%s],\"pad\":\"%0*d\"}",
                     tt_jwk(ec256, NULL, NULL, NULL), 1024 * 1024, 0))
       == -1, "a JWKS over 1 MiB is refused");
    like(err, "larger than", "the error says so");

    ok(try("") == -1, "an empty file is refused");
    like(err, "the file is empty", "the error says so");
    ok(try(" \n\t\r ") == -1, "a file of white space is refused");
    ok(try("hello") == -1, "a file of text is refused");
    like(err, "neither a JWKS", "the error says so");
    ok(try("[{\"keys\":[]}]") == -1, "a JSON array is refused");
    ok(try("{\"keys\":[") == -1, "truncated JSON is refused");
    like(err, "invalid JSON", "the error says so");
    ok(try("-----BEGIN") == -1, "\"-----BEGIN\" alone is refused");
}


static void
test_pem(void)
{
    tg_keyset_t  ks;
    char        *three, *cert_like;

    is_int(load(&ks, tt_pem(rsa2048)), 0, "an RSA PEM public key loads");
    ok(ks.nkeys == 1 && ks.keys[0].type == TG_KEY_RSA
       && ks.keys[0].kid == NULL && ks.keys[0].alg[0] == '\0',
       "an RSA key without kid or alg");
    tg_jwks_free(&ks);

    three = tt_printf("\n  \n%sthe EC key:\n%s# and Ed25519\n%s\ntrailing "
                      "words\n", tt_pem(rsa2048), tt_pem(ec384), tt_pem(ed));
    is_int(load(&ks, three), 0, "three PEM keys with text between and "
           "after load");
    ok(ks.nkeys == 3 && ks.keys[0].type == TG_KEY_RSA
       && ks.keys[1].type == TG_KEY_EC && ks.keys[1].curve == NID_secp384r1
       && ks.keys[2].type == TG_KEY_ED25519, "RSA, P-384 and Ed25519, in "
       "order");
    tg_jwks_free(&ks);

    three = tt_printf("%s%s", tt_pem(ec256), tt_pem(ec521));
    three[strlen(three) - 1] = '\0';
    is_int(load(&ks, three), 0, "PEM keys without a final newline load");
    is_int(ks.nkeys, 2, "two keys");
    tg_jwks_free(&ks);

    ok(try(tt_pem(rsa1024)) == -1, "an RSA-1024 PEM key is refused");
    like(err, "PEM key #1: an RSA key needs at least 2048 bits",
         "the error names the key and the minimum");
    ok(try(tt_printf("%s%s", tt_pem(ec256), tt_pem(rsa1024))) == -1,
       "a weak second PEM key refuses the file");
    like(err, "PEM key #2", "the error names the second key");

    ok(try(tt_pem(tt_keygen("X25519", NULL))) == -1, "an X25519 PEM key is "
       "refused");
    like(err, "unsupported key type", "the error says so");
    ok(try(tt_pem(tt_keygen("EC", "secp256k1"))) == -1, "a secp256k1 PEM key "
       "is refused");
    like(err, "unsupported EC curve", "the error says so");
    ok(try(tt_pem(tt_keygen("ED448", NULL))) == -1, "an Ed448 PEM key is "
       "refused");
    ok(try(tt_pem(tt_keygen("RSA-PSS", NULL))) == -1, "an RSA-PSS PEM key "
       "is refused");

    ok(try(tt_pem_private(ec256)) == -1, "a PEM private key is refused");
    like(err, "is not a \"-----BEGIN PUBLIC KEY-----\" key", "the error says "
         "so");
    ok(try("-----BEGIN PUBLIC KEY-----\ngarbage!\n-----END PUBLIC KEY-----\n")
       == -1, "PEM garbage is refused");
    ok(try("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
       == -1, "PEM of a few bytes is refused");
    ok(try("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
       == -1, "a certificate block is refused");
    ok(try("-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE"
           "\n") == -1, "a block without END is refused");
    like(err, "has no END line", "the error says so");
    ok(try(tt_printf("%s-----BEGIN PUBLIC KEY-----\n", tt_pem(ec256)))
       == -1, "a second block without END is refused");
    ok(try("-----BEGIN PUBLIC KEY-----\n-----END ") == -1,
       "an END line cut short is refused");

    cert_like = tt_pem(ec256);
    memcpy(strstr(cert_like, "PUBLIC KEY"), "PUBLIK KEY", 10);
    ok(try(cert_like) == -1, "a misspelt BEGIN line is refused");
}


/*
 * Known bug: tg_jwk_rsa() checks the modulus size only, so a JWK whose
 * public exponent is 1 loads; with e = 1 "verification" is s^1 mod n, and
 * anyone can forge an RS256 signature: the PKCS #1 v1.5 encoding of the
 * token's SHA-256 is its own signature.
 */

static void
test_fixed_bugs(void)
{
    int             rc;
    char           *members, *e, *input, *token;
    tg_jwt_t        jwt;
    tg_keyset_t     ks;
    tg_jwt_conf_t   conf;
    unsigned char   em[256];
    static const unsigned char  sha256_info[19] = {
        0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65,
        0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20
    };

    members = tt_jwk_members(rsa2048);
    e = strstr(members, "\"e\":\"AQAB\"");

    if (e == NULL) {
        skip("the test key's e is not 65537", "an RSA JWK with e = 1 is "
             "refused");
        skip("the test key's e is not 65537", "no token is forged for it");
        return;
    }

    memcpy(e, "\"e\":\"AQ\"  ", 10);
    rc = load(&ks, jwks(tt_printf("{%s,\"kid\":\"e1\"}", members)));

    ok(rc == -1, "an RSA JWK with e = 1 is refused");

    if (rc != 0) {
        tg_jwks_free(&ks);
        ok(1, "no token is forged for it (the key is refused)");
        return;
    }

    input = tt_printf("%s.%s",
                      tt_b64url_str("{\"alg\":\"RS256\",\"kid\":\"e1\"}"),
                      tt_b64url_str("{\"exp\":4102444800,"
                                    "\"workspace_id\":\"victim\"}"));

    /* EM = 00 01 FF..FF 00 DigestInfo(SHA-256) H, 256 bytes */

    memset(em, 0xff, sizeof(em));
    em[0] = 0x00;
    em[1] = 0x01;
    em[256 - 51 - 1] = 0x00;
    memcpy(em + 256 - 51, sha256_info, sizeof(sha256_info));
    SHA256((const unsigned char *) input, strlen(input), em + 256 - 32);

    token = tt_printf("%s.%s", input, tt_b64url(em, sizeof(em)));

    memset(&conf, 0, sizeof(conf));
    conf.algs = TG_ALG_DEFAULT;
    conf.keys = &ks;
    conf.max_size = TG_JWT_MAX_SIZE;

    rc = tg_jwt_verify(&conf, (const unsigned char *) token, strlen(token),
                       1700000000LL, &jwt, err, sizeof(err));
    tg_claims_free(jwt.claims);

    ok(rc == -1, "an RS256 token forged without the private key is refused");

    tg_jwks_free(&ks);
}


/* the same modulus with e = 1, as a "-----BEGIN PUBLIC KEY-----" PEM */

static void
test_fixed_bugs_pem(void)
{
    int              rc;
    BIGNUM          *n, *e;
    EVP_PKEY        *pkey;
    OSSL_PARAM      *params;
    EVP_PKEY_CTX    *ctx;
    OSSL_PARAM_BLD  *bld;

    n = NULL;
    pkey = NULL;
    e = BN_new();
    bld = OSSL_PARAM_BLD_new();
    ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    params = NULL;

    if (e == NULL || bld == NULL || ctx == NULL || !BN_set_word(e, 1)
        || !EVP_PKEY_get_bn_param(rsa2048, OSSL_PKEY_PARAM_RSA_N, &n)
        || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n)
        || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e)
        || (params = OSSL_PARAM_BLD_to_param(bld)) == NULL
        || EVP_PKEY_fromdata_init(ctx) <= 0
        || EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
    {
        skip("OpenSSL made no e = 1 key", "a PEM RSA key with e = 1 is "
             "refused");

    } else {
        rc = try(tt_pem(pkey));
        ok(rc == -1, "a PEM RSA key with e = 1 is refused");
    }

    EVP_PKEY_free(pkey);
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(n);
    BN_free(e);
}


int
main(void)
{
    rsa2048 = tt_rsa(2048);
    rsa1024 = tt_rsa(1024);
    ec256 = tt_ec("P-256");
    ec384 = tt_ec("P-384");
    ec521 = tt_ec("P-521");
    ed = tt_ed25519();

    test_key_types();
    test_refused_keys();
    test_sets();
    test_pem();
    test_fixed_bugs();
    test_fixed_bugs_pem();

    tt_free_all();
    return tap_done();
}
