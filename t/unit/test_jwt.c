
/*
 * Copyright (C) tenant_guard authors
 *
 * tg_jwt_verify() and the claim helpers: tokens are signed here with keys
 * made by OpenSSL, and verified against a key set loaded by tg_jwks_load().
 */


#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "tt.h"
#include "tg_jwks.h"
#include "tg_jwt.h"


TAP_GLOBALS;


#define T0       1700000000LL
#define ALL_ALGS ((1u << TG_ALG_LAST) - 1)


static EVP_PKEY       *rsa, *rsa_free, *rsa_rs256, *rsa_other;
static EVP_PKEY       *ec256, *ec384, *ec521, *ed, *ed_other;
static unsigned char   hs[64], hs32[32];

static tg_keyset_t     keys;
static tg_str_t        audiences[2] = {
    { (const unsigned char *) "api", 3 },
    { (const unsigned char *) "web", 3 }
};
static tg_jwt_conf_t   conf;
static tg_jwt_t        jwt;
static char            err[512];


/* claims that pass every check of conf at T0 */
static const char *
good(void)
{
    return tt_printf("{\"iss\":\"https://idp.example\",\"aud\":\"api\","
                     "\"sub\":\"u1\",\"exp\":%lld,\"iat\":%lld,\"nbf\":%lld,"
                     "\"workspace_id\":\"ws1\"}", T0 + 600, T0 - 10,
                     T0 - 10);
}


/* claims with the registered ones and extra members */
static const char *
claims(const char *extra)
{
    return tt_printf("{\"iss\":\"https://idp.example\",\"aud\":\"api\","
                     "\"exp\":%lld%s%s}", T0 + 600, extra[0] ? "," : "",
                     extra);
}


/* verifies token (an exact-size heap copy) with c at now */
static int
verify_at(const tg_jwt_conf_t *c, const char *token, long long now)
{
    int  rc;

    err[0] = '\0';
    rc = tg_jwt_verify(c, (const unsigned char *)
                       tt_strndup(token, strlen(token)), strlen(token), now,
                       &jwt, err, sizeof(err));

    if (rc != 0 && jwt.claims != NULL) {
        diag("a refused token left claims behind");
        rc = -2;
    }

    return rc;
}


/* 0 or -1; the claims are released */
static int
verify(const char *token)
{
    int  rc;

    rc = verify_at(&conf, token, T0);
    tg_claims_free(jwt.claims);
    jwt.claims = NULL;

    return rc;
}


static void
setup(void)
{
    char  *text;

    rsa = tt_rsa(2048);
    rsa_free = tt_rsa(2048);
    rsa_rs256 = tt_rsa(2048);
    rsa_other = tt_rsa(2048);
    ec256 = tt_ec("P-256");
    ec384 = tt_ec("P-384");
    ec521 = tt_ec("P-521");
    ed = tt_ed25519();
    ed_other = tt_ed25519();
    tt_random(hs, sizeof(hs));
    tt_random(hs32, sizeof(hs32));

    text = tt_printf("{\"keys\":[%s,%s,%s,%s,%s,%s,%s,%s,%s]}",
                     tt_jwk(rsa, "rsa", NULL, NULL),
                     tt_jwk(rsa_free, NULL, NULL, NULL),
                     tt_jwk(rsa_rs256, "rs256only", "RS256", NULL),
                     tt_jwk(ec256, "ec256", NULL, NULL),
                     tt_jwk(ec384, "ec384", NULL, NULL),
                     tt_jwk(ec521, "ec521", NULL, NULL),
                     tt_jwk(ed, "ed", NULL, NULL),
                     tt_jwk_oct(hs, sizeof(hs), "hs", NULL),
                     tt_jwk_oct(hs32, sizeof(hs32), "hs32", NULL));

    if (tg_jwks_load(&keys, (const unsigned char *) text, strlen(text), err,
                     sizeof(err)) != 0)
    {
        diag("the test key set does not load: %s", err);
        exit(1);
    }

    conf.algs = ALL_ALGS;
    conf.keys = &keys;
    conf.issuer.data = (const unsigned char *) "https://idp.example";
    conf.issuer.len = strlen("https://idp.example");
    conf.audiences = audiences;
    conf.naudiences = 2;
    conf.leeway = 30;
    conf.max_size = TG_JWT_MAX_SIZE;
}


static void
test_valid(void)
{
    size_t   i;
    char    *token;
    static const struct {
        const char  *alg;
        const char  *kid;
        tg_alg_e     want;
    } cases[] = {
        { "RS256", "rsa", TG_ALG_RS256 },
        { "RS384", "rsa", TG_ALG_RS384 },
        { "RS512", "rsa", TG_ALG_RS512 },
        { "PS256", "rsa", TG_ALG_PS256 },
        { "PS384", "rsa", TG_ALG_PS384 },
        { "PS512", "rsa", TG_ALG_PS512 },
        { "ES256", "ec256", TG_ALG_ES256 },
        { "ES384", "ec384", TG_ALG_ES384 },
        { "ES512", "ec521", TG_ALG_ES512 },
        { "EdDSA", "ed", TG_ALG_EDDSA },
        { "HS256", "hs", TG_ALG_HS256 },
        { "HS384", "hs", TG_ALG_HS384 },
        { "HS512", "hs", TG_ALG_HS512 },
    };

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        EVP_PKEY  *pkey;

        pkey = strcmp(cases[i].kid, "rsa") == 0 ? rsa
               : strcmp(cases[i].kid, "ec256") == 0 ? ec256
               : strcmp(cases[i].kid, "ec384") == 0 ? ec384
               : strcmp(cases[i].kid, "ec521") == 0 ? ec521
               : strcmp(cases[i].kid, "ed") == 0 ? ed : NULL;

        token = tt_jwt(cases[i].alg, pkey, hs, sizeof(hs), cases[i].kid,
                       good());

        if (!is_int(verify_at(&conf, token, T0), 0, "a valid %s token "
                    "verifies", cases[i].alg))
        {
            diag("error: %s", err);
        }

        ok(jwt.alg == cases[i].want && jwt.exp == T0 + 600
           && jwt.iat == T0 - 10 && jwt.claims != NULL,
           "%s: alg, exp, iat and the claims are returned", cases[i].alg);
        tg_claims_free(jwt.claims);

        /* without a kid: every key that fits is tried */

        token = tt_jwt(cases[i].alg, pkey, hs, sizeof(hs), NULL, good());
        is_int(verify(token), 0, "a %s token without kid verifies",
               cases[i].alg);
    }

    token = tt_jwt("HS256", NULL, hs32, sizeof(hs32), "hs32", good());
    is_int(verify(token), 0, "HS256 with a 32-byte key verifies");
    token = tt_jwt("HS384", NULL, hs32, sizeof(hs32), "hs32", good());
    is_int(verify(token), -1, "HS384 with a 32-byte key is refused (the key "
           "is shorter than the hash)");
    token = tt_jwt("RS256", rsa_rs256, NULL, 0, "rs256only", good());
    is_int(verify(token), 0, "a key with alg RS256 verifies RS256");
}


static void
test_alg(void)
{
    char           *input, *token;
    tg_jwt_conf_t   c;

    /* alg none, any case, with or without a signature */

    input = tt_printf("%s.%s", tt_b64url_str("{\"alg\":\"none\"}"),
                      tt_b64url_str(good()));
    is_int(verify(tt_printf("%s.", input)), -1, "alg none, empty signature, "
           "is refused");
    is_int(verify(tt_printf("%s.c2ln", input)), -1, "alg none with a "
           "signature is refused");
    like(err, "alg \"none\"", "the error names alg none");

    input = tt_printf("%s.%s", tt_b64url_str("{\"alg\":\"NONE\"}"),
                      tt_b64url_str(good()));
    is_int(verify(tt_printf("%s.c2ln", input)), -1, "alg NONE is refused");
    like(err, "alg \"none\"", "as alg none");
    input = tt_printf("%s.%s", tt_b64url_str("{\"alg\":\"nOnE\"}"),
                      tt_b64url_str(good()));
    is_int(verify(tt_printf("%s.c2ln", input)), -1, "alg nOnE is refused");

    /* the allowlist */

    c = conf;
    c.algs = TG_ALG_BIT(TG_ALG_ES256);
    token = tt_jwt("RS256", rsa, NULL, 0, "rsa", good());
    is_int(verify_at(&c, token, T0), -1, "an RS256 token with only ES256 "
           "allowed is refused");
    like(err, "the algorithm is not allowed", "the error says so");

    c.algs = TG_ALG_DEFAULT;
    token = tt_jwt("HS256", NULL, hs, sizeof(hs), "hs", good());
    is_int(verify_at(&c, token, T0), -1, "HS256 is not in the default "
           "allowlist");
    token = tt_jwt("PS256", rsa, NULL, 0, "rsa", good());
    is_int(verify_at(&c, token, T0), -1, "PS256 is not in the default "
           "allowlist");
    token = tt_jwt("EdDSA", ed, NULL, 0, "ed", good());
    is_int(verify_at(&c, token, T0), 0, "EdDSA is in the default "
           "allowlist");
    tg_claims_free(jwt.claims);

    c.algs = 0;
    token = tt_jwt("ES256", ec256, NULL, 0, "ec256", good());
    is_int(verify_at(&c, token, T0), -1, "an empty allowlist allows "
           "nothing");

    /* names */

    token = tt_token("RS256", rsa, NULL, 0, "{\"alg\":\"rs256\"}", good());
    is_int(verify(token), -1, "alg rs256 (lower case) is refused");
    like(err, "not allowed", "as not allowed");
    token = tt_token("RS256", rsa, NULL, 0, "{\"alg\":\"RS256 \"}", good());
    is_int(verify(token), -1, "alg \"RS256 \" is refused");
    token = tt_token("RS256", rsa, NULL, 0, "{\"alg\":\"RS\"}", good());
    is_int(verify(token), -1, "alg \"RS\" is refused");
    token = tt_token("RS256", rsa, NULL, 0, "{\"alg\":\"ES\"}", good());
    is_int(verify(token), -1, "alg \"ES\" is refused");
    token = tt_token("RS256", rsa, NULL, 0, "{\"alg\":\"\"}", good());
    is_int(verify(token), -1, "an empty alg is refused");
    token = tt_token("RS256", rsa, NULL, 0, "{\"alg\":256}", good());
    is_int(verify(token), -1, "a number alg is refused");
    like(err, "no \"alg\"", "as no alg");
    token = tt_token("RS256", rsa, NULL, 0, "{\"alg\":[\"RS256\"]}", good());
    is_int(verify(token), -1, "an array alg is refused");
    token = tt_token("RS256", rsa, NULL, 0, "{\"typ\":\"JWT\"}", good());
    is_int(verify(token), -1, "a header without alg is refused");

    is_int(tg_jwt_alg_by_name("PS384", 5), TG_ALG_PS384, "alg_by_name PS384");
    is_int(tg_jwt_alg_by_name("none", 4), -1, "alg_by_name none is -1");
    is_int(tg_jwt_alg_by_name("RS2560", 6), -1, "alg_by_name RS2560 is -1");
    is_int(tg_jwt_alg_by_name("RS25", 4), -1, "alg_by_name RS25 is -1");
    is_int(tg_jwt_alg_by_name("RS256", 3), -1, "alg_by_name honours len");
    is_str(tg_jwt_alg_name(TG_ALG_EDDSA), "EdDSA", "alg_name EdDSA");
}


static void
test_keys(void)
{
    char           *token, *pem, *input;
    unsigned char   sig[1024];
    size_t          n;
    tg_keyset_t     rsa_only;
    tg_jwt_conf_t   c;

    /* HS256 signed with the RSA public key as the secret (alg confusion) */

    pem = tt_pem(rsa);
    token = tt_jwt("HS256", NULL, (unsigned char *) pem, strlen(pem), "rsa",
                   good());
    is_int(verify(token), -1, "HS256 with the RSA key's PEM as secret, kid "
           "rsa: refused");
    like(err, "no key fits", "no key fits the algorithm");
    token = tt_jwt("HS256", NULL, (unsigned char *) pem, strlen(pem), NULL,
                   good());
    is_int(verify(token), -1, "the same without kid: refused");

    pem = tt_printf("{\"keys\":[%s]}", tt_jwk(rsa, "rsa", NULL, NULL));
    tg_jwks_load(&rsa_only, (const unsigned char *) pem, strlen(pem), err,
                 sizeof(err));
    c = conf;
    c.keys = &rsa_only;
    pem = tt_pem(rsa);
    token = tt_jwt("HS256", NULL, (unsigned char *) pem, strlen(pem), NULL,
                   good());
    is_int(verify_at(&c, token, T0), -1, "HS256 against an RSA-only key set "
           "is refused");
    like(err, "no key fits", "no key fits the algorithm");
    token = tt_jwt("HS256", NULL, (unsigned char *) tt_jwk(rsa, "rsa", NULL,
                   NULL), strlen(tt_jwk(rsa, "rsa", NULL, NULL)), NULL,
                   good());
    is_int(verify_at(&c, token, T0), -1, "HS256 with the RSA JWK's text as "
           "secret is refused");
    tg_jwks_free(&rsa_only);

    /* a token without kid: at most four keys that fit are tried */

    {
        int             k;
        char           *set;
        EVP_PKEY       *ecs[6];
        tg_keyset_t     six;

        set = tt_printf("{\"keys\":[");

        for (k = 0; k < 6; k++) {
            ecs[k] = tt_ec("P-256");
            set = tt_printf("%s%s%s", set, k ? "," : "",
                            tt_jwk(ecs[k], NULL, NULL, NULL));
        }

        set = tt_printf("%s,%s]}", set, tt_jwk(rsa, NULL, NULL, NULL));

        ok(tg_jwks_load(&six, (const unsigned char *) set, strlen(set), err,
                        sizeof(err)) == 0, "six kid-less P-256 keys and an "
           "RSA key load");
        c = conf;
        c.keys = &six;

        token = tt_jwt("ES256", ecs[3], NULL, 0, NULL, good());
        is_int(verify_at(&c, token, T0), 0, "no kid: the fourth P-256 key "
               "verifies");
        tg_claims_free(jwt.claims);
        jwt.claims = NULL;

        token = tt_jwt("ES256", ecs[4], NULL, 0, NULL, good());
        is_int(verify_at(&c, token, T0), -1, "no kid: the fifth is never "
               "tried");
        like(err, "first 4 keys", "the error says why");

        token = tt_jwt("ES256", ecs[5], NULL, 0, "nope", good());
        is_int(verify_at(&c, token, T0), -1, "an unknown kid: the kid-less "
               "keys, four at most");

        token = tt_jwt("RS256", rsa, NULL, 0, NULL, good());
        is_int(verify_at(&c, token, T0), 0, "keys of another type are not "
               "counted: the RSA key after six EC keys verifies RS256");
        tg_claims_free(jwt.claims);
        jwt.claims = NULL;

        tg_jwks_free(&six);
    }

    /* kids */

    token = tt_jwt("ES256", ec256, NULL, 0, "nope", good());
    is_int(verify(token), -1, "a kid no key has, and no kid-less key fits: "
           "refused");
    like(err, "unknown kid", "the error says unknown kid");

    token = tt_jwt("RS256", rsa_free, NULL, 0, "nope", good());
    is_int(verify(token), 0, "an unknown kid falls back to the kid-less "
           "key");
    token = tt_jwt("RS256", rsa_free, NULL, 0, NULL, good());
    is_int(verify(token), 0, "no kid: the kid-less key is tried too");
    token = tt_jwt("RS256", rsa_free, NULL, 0, "rsa", good());
    is_int(verify(token), -1, "a kid that names a key: only that key is "
           "tried");
    like(err, "does not verify", "the signature does not verify");
    token = tt_jwt("RS256", rsa, NULL, 0, "ec256", good());
    is_int(verify(token), -1, "RS256 with the kid of an EC key: refused");
    like(err, "no key fits", "no key fits the algorithm");
    token = tt_jwt("ES256", ec256, NULL, 0, "ec384", good());
    is_int(verify(token), -1, "ES256 with the kid of a P-384 key: refused");
    token = tt_jwt("ES384", ec384, NULL, 0, "ec256", good());
    is_int(verify(token), -1, "ES384 with the kid of a P-256 key: refused");
    token = tt_jwt("PS256", rsa_rs256, NULL, 0, "rs256only", good());
    is_int(verify(token), -1, "PS256 with a key whose alg is RS256: "
           "refused");
    like(err, "no key fits", "no key fits the algorithm");
    token = tt_jwt("RS256", rsa_other, NULL, 0, NULL, good());
    is_int(verify(token), -1, "a token of an unknown RSA key is refused");
    like(err, "does not verify", "the signature does not verify");
    token = tt_jwt("EdDSA", ed_other, NULL, 0, "ed", good());
    is_int(verify(token), -1, "a token of another Ed25519 key is refused");
    token = tt_jwt("HS256", NULL, hs32, sizeof(hs32), "hs", good());
    is_int(verify(token), -1, "HS256 with the wrong secret is refused");
    token = tt_token("RS256", rsa, NULL, 0,
                     "{\"alg\":\"RS256\",\"kid\":5}", good());
    is_int(verify(token), -1, "a number kid is refused");
    like(err, "\"kid\" is not a string", "the error says so");
    token = tt_token("RS256", rsa, NULL, 0,
                     "{\"alg\":\"RS256\",\"kid\":null}", good());
    is_int(verify(token), -1, "a null kid is refused");

    /* header members that must not be trusted */

    token = tt_token("EdDSA", ed_other, NULL, 0, tt_printf(
                     "{\"alg\":\"EdDSA\",\"jwk\":%s}",
                     tt_jwk(ed_other, NULL, NULL, NULL)), good());
    is_int(verify(token), -1, "a key embedded in the header (jwk) is not "
           "used");
    token = tt_token("RS256", rsa, NULL, 0,
                     "{\"alg\":\"RS256\",\"jku\":\"https://evil\","
                     "\"x5u\":\"https://evil\",\"x5c\":[\"AAAA\"]}", good());
    is_int(verify(token), 0, "jku, x5u and x5c are ignored");
    token = tt_token("RS256", rsa, NULL, 0,
                     "{\"alg\":\"RS256\",\"crit\":[\"exp\"],\"exp\":1}",
                     good());
    is_int(verify(token), -1, "a crit header is refused");
    like(err, "crit", "the error names crit");
    token = tt_token("RS256", rsa, NULL, 0,
                     "{\"alg\":\"RS256\",\"crit\":[]}", good());
    is_int(verify(token), -1, "even an empty crit is refused");

    /* ECDSA signature forms */

    input = tt_printf("%s.%s",
                      tt_b64url_str("{\"alg\":\"ES256\",\"kid\":\"ec256\"}"),
                      tt_b64url_str(good()));
    n = tt_signature("ES256", ec256, NULL, 0, input, strlen(input), sig, 1);
    is_int(verify(tt_printf("%s.%s", input, tt_b64url(sig, n))), -1,
           "an ES256 signature in DER is refused");
    n = tt_signature("ES256", ec256, NULL, 0, input, strlen(input), sig, 0);
    is_int(n, 64, "an ES256 R || S is 64 bytes");
    is_int(verify(tt_printf("%s.%s", input, tt_b64url(sig, 64))), 0,
           "and verifies (control)");
    is_int(verify(tt_printf("%s.%s", input, tt_b64url(sig, 63))), -1,
           "63 bytes of R || S are refused");
    sig[64] = 0;
    is_int(verify(tt_printf("%s.%s", input, tt_b64url(sig, 65))), -1,
           "65 bytes of R || S are refused");
    memset(sig, 0, 64);
    is_int(verify(tt_printf("%s.%s", input, tt_b64url(sig, 64))), -1,
           "R = S = 0 is refused");
    memset(sig, 0xff, 64);
    is_int(verify(tt_printf("%s.%s", input, tt_b64url(sig, 64))), -1,
           "R = S = 2^256 - 1 is refused");

    input = tt_printf("%s.%s",
                      tt_b64url_str("{\"alg\":\"ES512\",\"kid\":\"ec521\"}"),
                      tt_b64url_str(good()));
    n = tt_signature("ES512", ec521, NULL, 0, input, strlen(input), sig, 0);
    is_int(n, 132, "an ES512 R || S is 132 bytes");
    is_int(verify(tt_printf("%s.%s", input, tt_b64url(sig, n))), 0,
           "and verifies");
    is_int(verify(tt_printf("%s.%s", input, tt_b64url(sig, 128))), -1,
           "128 bytes for ES512 are refused");

    /* tampering */

    token = tt_jwt("RS256", rsa, NULL, 0, "rsa", good());
    input = tt_strndup(token, strlen(token));
    input[strlen(input) - 5] ^= 0x01;
    is_int(verify(input), -1, "a changed signature is refused");
    token = tt_printf("%s.%s.%s",
                      tt_b64url_str("{\"alg\":\"RS256\",\"kid\":\"rsa\"}"),
                      tt_b64url_str(claims("\"workspace_id\":\"ws2\"")),
                      strrchr(token, '.') + 1);
    is_int(verify(token), -1, "a changed payload is refused");

    /* signature sizes */

    token = tt_jwt("EdDSA", ed, NULL, 0, "ed", good());
    input = tt_strndup(token, strlen(token) - 2);
    is_int(verify(input), -1, "a truncated EdDSA signature is refused");
    token = tt_jwt("RS256", rsa, NULL, 0, "rsa", good());
    token = tt_printf("%.*s.%s", (int) (strrchr(token, '.') - token), token,
                      tt_printf("%01400d", 0));
    is_int(verify(token), -1, "a signature over 1024 bytes is refused");
    like(err, "the signature is too long", "the error says so");
}


static void
test_shape(void)
{
    char           *token, *h, *p;
    tg_jwt_conf_t   c;

    h = tt_b64url_str("{\"alg\":\"RS256\",\"kid\":\"rsa\"}");
    p = tt_b64url_str(good());

    is_int(verify(""), -1, "the empty token is refused");
    like(err, "not a compact JWS", "as not a compact JWS");
    is_int(verify("abc"), -1, "no dot is refused");
    is_int(verify(tt_printf("%s.%s", h, p)), -1, "one dot is refused");
    is_int(verify(tt_printf("%s.%s.c2ln.c2ln", h, p)), -1, "three dots are "
           "refused");
    like(err, "not a compact JWS", "as not a compact JWS");
    is_int(verify(tt_printf(".%s.c2ln", p)), -1, "an empty header is "
           "refused");
    is_int(verify(tt_printf("%s..c2ln", h)), -1, "an empty payload is "
           "refused");
    is_int(verify(tt_printf("%s.%s.", h, p)), -1, "an empty signature is "
           "refused");
    like(err, "not signed", "as not signed");
    is_int(verify(".."), -1, "\"..\" is refused");
    is_int(verify(tt_printf("%s=.%s.c2ln", h, p)), -1, "a padded header is "
           "refused");
    like(err, "header is not base64url", "as not base64url");
    is_int(verify(tt_printf("%s.%s+.c2ln", h, p)), -1, "'+' in the payload "
           "is refused");
    is_int(verify(tt_printf("%s.%s.c2ln=", h, p)), -1, "a padded signature "
           "is refused");
    is_int(verify(tt_printf("%s.%s.c2l/", h, p)), -1, "'/' in the signature "
           "is refused");
    like(err, "signature is not base64url", "as not base64url");
    is_int(verify(tt_printf("%s.%s.A", h, p)), -1, "a 1-character "
           "signature is refused");
    is_int(verify(tt_printf(" %s.%s.c2ln", h, p)), -1, "a leading space is "
           "refused");

    /* the header's JSON */

    token = tt_token("RS256", rsa, NULL, 0, "[\"RS256\"]", good());
    is_int(verify(token), -1, "a header that is an array is refused");
    like(err, "the header: JSON is not an object", "the error says so");
    token = tt_token("RS256", rsa, NULL, 0,
                     "{\"alg\":\"RS256\",\"alg\":\"none\"}", good());
    is_int(verify(token), -1, "a header with a duplicate alg is refused");
    like(err, "duplicate", "the error says duplicate");
    token = tt_token("RS256", rsa, NULL, 0, "{\"alg\":\"RS256\"", good());
    is_int(verify(token), -1, "a truncated header is refused");
    token = tt_token("RS256", rsa, NULL, 0, "{\"alg\":\"RS256\"}x", good());
    is_int(verify(token), -1, "garbage after the header is refused");

    /* the payload's JSON, signed */

    token = tt_jwt("RS256", rsa, NULL, 0, "rsa", "[1]");
    is_int(verify(token), -1, "a signed array payload is refused");
    like(err, "the payload: JSON is not an object", "the error says so");
    token = tt_jwt("RS256", rsa, NULL, 0, "rsa", "\"claims\"");
    is_int(verify(token), -1, "a signed string payload is refused");
    token = tt_jwt("RS256", rsa, NULL, 0, "rsa", "1");
    is_int(verify(token), -1, "a signed number payload is refused");
    token = tt_jwt("RS256", rsa, NULL, 0, "rsa", "not json");
    is_int(verify(token), -1, "a signed non-JSON payload is refused");
    token = tt_jwt("RS256", rsa, NULL, 0, "rsa",
                   tt_printf("{\"exp\":%lld,\"sub\":\"a\",\"sub\":\"b\"}",
                             T0 + 60));
    is_int(verify(token), -1, "a signed payload with a duplicate key is "
           "refused");
    like(err, "duplicate", "the error says duplicate");
    token = tt_jwt("RS256", rsa, NULL, 0, "rsa",
                   claims("\"sub\":\"a\\u0000b\""));
    is_int(verify(token), -1, "a signed payload with a NUL is refused");
    token = tt_jwt("RS256", rsa, NULL, 0, "rsa",
                   claims("\"x\":[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]"));
    is_int(verify(token), -1, "a payload nested deeper than 16 is refused");

    /* sizes */

    token = tt_jwt("ES256", ec256, NULL, 0, "ec256", good());
    c = conf;
    c.max_size = strlen(token);
    is_int(verify_at(&c, token, T0), 0, "a token of exactly max_size "
           "verifies");
    tg_claims_free(jwt.claims);
    c.max_size = strlen(token) - 1;
    is_int(verify_at(&c, token, T0), -1, "a token of max_size + 1 is "
           "refused");
    like(err, "larger than", "the error says so");

    c.max_size = 64 * 1024;
    token = tt_jwt("ES256", ec256, NULL, 0, "ec256",
                   claims(tt_printf("\"pad\":\"%08200d\"", 0)));
    is_int(verify_at(&c, token, T0), -1, "a payload over 8192 bytes is "
           "refused, whatever max_size");
    like(err, "larger than 8192", "the error says so");

    ok(tg_jwt_is_compact((const unsigned char *) "a.b.c", 5),
       "is_compact a.b.c");
    ok(!tg_jwt_is_compact((const unsigned char *) "a.b", 3),
       "is_compact a.b is 0");
    ok(!tg_jwt_is_compact((const unsigned char *) "a.b.c.d", 7),
       "is_compact a.b.c.d is 0");
    ok(tg_jwt_is_compact((const unsigned char *) "..", 2),
       "is_compact counts dots only");
}


/* a signed token of these claims */
static int
claims_ok(const char *payload)
{
    return verify(tt_jwt("ES256", ec256, NULL, 0, "ec256", payload));
}


/*
 * jwt.final: which refusals hold at any later time (the module remembers
 * those for a few seconds) and which time may change
 */
static void
test_final(void)
{
    const char  *iss = "\"iss\":\"https://idp.example\",\"aud\":\"api\"";

    is_int(claims_ok(tt_printf("{%s,\"exp\":%lld}", iss, T0 - 30)), -1,
           "expired");
    is_int(jwt.final, 0, "an expiry is not final");
    is_int(claims_ok(tt_printf("{%s,\"exp\":%lld,\"nbf\":%lld}", iss,
                               T0 + 600, T0 + 60)), -1, "not valid yet");
    is_int(jwt.final, 0, "an nbf in the future is not final");
    is_int(claims_ok(tt_printf("{%s,\"exp\":%lld,\"iat\":%lld}", iss,
                               T0 + 600, T0 + 60)), -1, "issued later");
    is_int(jwt.final, 0, "an iat in the future is not final");

    is_int(claims_ok(tt_printf("{%s,\"exp\":\"%lld\"}", iss, T0 + 60)),
           -1, "exp as a string");
    is_int(jwt.final, 1, "a malformed time claim is final");
    is_int(claims_ok(tt_printf("{\"iss\":\"other\",\"aud\":\"api\","
                               "\"exp\":%lld}", T0 + 60)), -1,
           "another issuer");
    is_int(jwt.final, 1, "an issuer refused is final");
    is_int(verify(tt_jwt("RS256", rsa_other, NULL, 0, "rsa", good())), -1,
           "a key not in the set");
    is_int(jwt.final, 1, "a bad signature is final");
    is_int(verify(tt_jwt("RS256", rsa, NULL, 0, "nobody", good())), -1,
           "an unknown kid");
    is_int(jwt.final, 1, "an unknown kid is final");
    is_int(verify("abc.def"), -1, "not a compact JWS");
    is_int(jwt.final, 1, "a malformed token is final");
}


static void
test_times(void)
{
    tg_jwt_conf_t  c;

#define P(...)  tt_printf(__VA_ARGS__)
#define ISS     "\"iss\":\"https://idp.example\",\"aud\":\"api\""

    /* exp, leeway 30 */

    is_int(claims_ok(P("{" ISS ",\"exp\":%lld}", T0 - 30)), -1,
           "exp = now - leeway is expired");
    like(err, "expired", "the error says expired");
    is_int(claims_ok(P("{" ISS ",\"exp\":%lld}", T0 - 29)), 0,
           "exp = now - leeway + 1 passes");
    is_int(claims_ok(P("{" ISS ",\"exp\":%lld}", T0 + 1000000)), 0,
           "a far exp passes");
    is_int(claims_ok(P("{" ISS "}")), -1, "no exp is refused");
    like(err, "no \"exp\"", "the error says so");
    is_int(claims_ok(P("{" ISS ",\"exp\":\"%lld\"}", T0 + 60)), -1,
           "exp as a string is refused");
    like(err, "\"exp\" claim is not a NumericDate", "as not a NumericDate");
    is_int(claims_ok(P("{" ISS ",\"exp\":null}")), -1, "exp null is "
           "refused");
    is_int(claims_ok(P("{" ISS ",\"exp\":true}")), -1, "exp true is "
           "refused");
    is_int(claims_ok(P("{" ISS ",\"exp\":[%lld]}", T0 + 60)), -1,
           "exp as an array is refused");
    is_int(claims_ok(P("{" ISS ",\"exp\":1e300}")), -1, "exp 1e300 is "
           "refused");
    is_int(claims_ok(P("{" ISS ",\"exp\":-1e16}")), -1, "exp -1e16 is "
           "refused");
    is_int(verify_at(&conf, tt_jwt("ES256", ec256, NULL, 0, "ec256",
                     P("{" ISS ",\"exp\":%lld.75}", T0 + 100)), T0), 0,
           "a real exp passes");
    is_int(jwt.exp, T0 + 100, "a real exp is truncated to seconds");
    tg_claims_free(jwt.claims);
    is_int(claims_ok(P("{" ISS ",\"exp\":%lld.5}", T0 - 30)), -1,
           "a real exp of now - leeway + 0.5 is expired (truncated)");
    is_int(claims_ok(P("{" ISS ",\"exp\":-5}")), -1, "a negative exp is "
           "expired");

    c = conf;
    c.leeway = 0;
    is_int(verify_at(&c, tt_jwt("ES256", ec256, NULL, 0, "ec256",
                     P("{" ISS ",\"exp\":%lld}", T0)), T0), -1,
           "leeway 0: exp = now is expired");
    is_int(verify_at(&c, tt_jwt("ES256", ec256, NULL, 0, "ec256",
                     P("{" ISS ",\"exp\":%lld}", T0 + 1)), T0), 0,
           "leeway 0: exp = now + 1 passes");
    tg_claims_free(jwt.claims);

    /* NumericDates are bounded to (-1e15, 1e15): exp + leeway cannot
     * overflow (src 174a720; found by fuzz_json_field and fuzz_jwt) */

    is_int(claims_ok(P("{" ISS ",\"exp\":9223372036854775807}")), -1,
           "exp = 2^63 - 1 is refused, without overflow");
    like(err, "not a NumericDate", "as not a NumericDate");
    is_int(claims_ok(P("{" ISS ",\"exp\":9223372036854775790}")), -1,
           "exp = 2^63 - 18 (within leeway of the top) is refused");
    is_int(claims_ok(P("{" ISS ",\"exp\":999999999999999}")), 0,
           "exp = 1e15 - 1 passes");
    is_int(claims_ok(P("{" ISS ",\"exp\":1000000000000000}")), -1,
           "exp = 1e15 is refused");
    is_int(claims_ok(P("{" ISS ",\"exp\":-999999999999999}")), -1,
           "exp = -(1e15 - 1) is expired");
    like(err, "expired", "as expired");
    is_int(claims_ok(P("{" ISS ",\"exp\":-9223372036854775808}")), -1,
           "exp = -2^63 is refused");
    like(err, "not a NumericDate", "as not a NumericDate");
    is_int(claims_ok(P("{" ISS ",\"exp\":%lld,\"iat\":"
                       "-9223372036854775808}", T0 + 600)), -1,
           "iat = -2^63 is refused");
    is_int(claims_ok(P("{" ISS ",\"exp\":%lld,\"nbf\":1000000000000000}",
                       T0 + 600)), -1, "nbf = 1e15 is refused");

    /* nbf */

    is_int(claims_ok(P("{" ISS ",\"exp\":%lld,\"nbf\":%lld}", T0 + 600,
                       T0 + 30)), 0, "nbf = now + leeway passes");
    is_int(claims_ok(P("{" ISS ",\"exp\":%lld,\"nbf\":%lld}", T0 + 600,
                       T0 + 31)), -1, "nbf = now + leeway + 1 is refused");
    like(err, "not valid yet", "the error says so");
    is_int(claims_ok(P("{" ISS ",\"exp\":%lld,\"nbf\":\"0\"}", T0 + 600)),
           -1, "nbf as a string is refused");
    is_int(claims_ok(P("{" ISS ",\"exp\":%lld,\"nbf\":0}", T0 + 600)), 0,
           "nbf 0 passes");

    /* iat */

    is_int(claims_ok(P("{" ISS ",\"exp\":%lld,\"iat\":%lld}", T0 + 600,
                       T0 + 30)), 0, "iat = now + leeway passes");
    is_int(claims_ok(P("{" ISS ",\"exp\":%lld,\"iat\":%lld}", T0 + 600,
                       T0 + 31)), -1, "iat = now + leeway + 1 is refused");
    like(err, "issued in the future", "the error says so");
    is_int(claims_ok(P("{" ISS ",\"exp\":%lld,\"iat\":{}}", T0 + 600)), -1,
           "iat as an object is refused");
    is_int(verify_at(&conf, tt_jwt("ES256", ec256, NULL, 0, "ec256",
                     P("{" ISS ",\"exp\":%lld}", T0 + 600)), T0), 0,
           "a token without iat passes");
    is_int(jwt.iat, -1, "and its iat is -1");
    tg_claims_free(jwt.claims);
    is_int(verify_at(&conf, tt_jwt("ES256", ec256, NULL, 0, "ec256",
                     P("{" ISS ",\"exp\":%lld,\"iat\":0}", T0 + 600)), T0),
           0, "iat 0 passes");
    is_int(jwt.iat, 0, "and its iat is 0");
    tg_claims_free(jwt.claims);
}


static void
test_iss_aud(void)
{
    tg_jwt_conf_t  c;

#define EXP  P("\"exp\":%lld", T0 + 600)

    /* iss */

    is_int(claims_ok(P("{\"iss\":\"https://idp.example\",\"aud\":\"api\","
                       "%s}", EXP)), 0, "the issuer passes");
    is_int(claims_ok(P("{\"aud\":\"api\",%s}", EXP)), -1, "no iss is "
           "refused");
    like(err, "issuer is not accepted", "the error says so");
    is_int(claims_ok(P("{\"iss\":\"https://idp.example/\",\"aud\":\"api\","
                       "%s}", EXP)), -1, "a longer iss is refused");
    is_int(claims_ok(P("{\"iss\":\"https://idp.exampl\",\"aud\":\"api\","
                       "%s}", EXP)), -1, "a prefix of iss is refused");
    is_int(claims_ok(P("{\"iss\":\"HTTPS://IDP.EXAMPLE\",\"aud\":\"api\","
                       "%s}", EXP)), -1, "iss is case-sensitive");
    is_int(claims_ok(P("{\"iss\":[\"https://idp.example\"],\"aud\":\"api\","
                       "%s}", EXP)), -1, "iss as an array is refused");
    is_int(claims_ok(P("{\"iss\":5,\"aud\":\"api\",%s}", EXP)), -1,
           "a number iss is refused");

    c = conf;
    c.issuer.len = 0;
    is_int(verify_at(&c, tt_jwt("ES256", ec256, NULL, 0, "ec256",
                     P("{\"iss\":5,\"aud\":\"api\",%s}", EXP)), T0), 0,
           "no issuer configured: any iss passes");
    tg_claims_free(jwt.claims);

    /* aud */

    is_int(claims_ok(P("{\"iss\":\"https://idp.example\",\"aud\":\"web\","
                       "%s}", EXP)), 0, "the second audience passes");
    is_int(claims_ok(P("{\"iss\":\"https://idp.example\",\"aud\":[\"x\","
                       "\"web\"],%s}", EXP)), 0, "an array holding an "
           "audience passes");
    is_int(claims_ok(P("{\"iss\":\"https://idp.example\",\"aud\":[1,null,"
                       "\"api\"],%s}", EXP)), 0, "non-strings in the array "
           "are skipped");
    is_int(claims_ok(P("{\"iss\":\"https://idp.example\",\"aud\":\"x\","
                       "%s}", EXP)), -1, "another audience is refused");
    like(err, "audience is not accepted", "the error says so");
    is_int(claims_ok(P("{\"iss\":\"https://idp.example\",\"aud\":[],%s}",
                       EXP)), -1, "an empty aud array is refused");
    is_int(claims_ok(P("{\"iss\":\"https://idp.example\",%s}", EXP)), -1,
           "no aud is refused");
    is_int(claims_ok(P("{\"iss\":\"https://idp.example\",\"aud\":\"apix\","
                       "%s}", EXP)), -1, "a longer aud is refused");
    is_int(claims_ok(P("{\"iss\":\"https://idp.example\",\"aud\":\"ap\","
                       "%s}", EXP)), -1, "a prefix of an audience is "
           "refused");
    is_int(claims_ok(P("{\"iss\":\"https://idp.example\",\"aud\":"
                       "\"api web\",%s}", EXP)), -1, "\"api web\" is not a "
           "list");
    is_int(claims_ok(P("{\"iss\":\"https://idp.example\",\"aud\":"
                       "{\"api\":1},%s}", EXP)), -1, "an object aud is "
           "refused");
    is_int(claims_ok(P("{\"iss\":\"https://idp.example\",\"aud\":"
                       "[[\"api\"]],%s}", EXP)), -1, "a nested array aud is "
           "refused");

    c = conf;
    c.naudiences = 0;
    is_int(verify_at(&c, tt_jwt("ES256", ec256, NULL, 0, "ec256",
                     P("{\"iss\":\"https://idp.example\",%s}", EXP)), T0),
           0, "no audience configured: no aud passes");
    tg_claims_free(jwt.claims);
}


static tg_claims_t *
parse(const char *text)
{
    char          e[160];
    tg_claims_t  *claims;

    claims = tg_claims_parse((const unsigned char *) text, strlen(text), e,
                             sizeof(e));
    if (claims == NULL) {
        diag("test JSON does not parse: %s", e);
    }

    return claims;
}


static void
test_claim_text(void)
{
    int           rc;
    size_t        len;
    const char   *value;
    tg_claims_t  *c;
    char          buf[32];

    c = parse("{\"s\":\"ws1\",\"i\":42,\"neg\":-7,\"min\":-9223372036854775808,"
              "\"nl\":\"a\\nb\",\"cr\":\"a\\rb\",\"tab\":\"a\\tb\","
              "\"del\":\"a\\u007fb\",\"esc\":\"\\u001b[0m\",\"r\":1.5,"
              "\"t\":true,\"n\":null,\"a\":[\"x\"],\"o\":{\"k\":\"v\"},"
              "\"u\":\"\\u00e9\",\"e\":\"\"}");

    rc = tg_jwt_claim_text(c, "s", buf, sizeof(buf), &value, &len);
    ok(rc == 1 && len == 3 && memcmp(value, "ws1", 3) == 0, "claim_text of "
       "a string");
    rc = tg_jwt_claim_text(c, "i", buf, sizeof(buf), &value, &len);
    ok(rc == 1 && len == 2 && memcmp(value, "42", 2) == 0, "an integer "
       "claim as decimal text");
    rc = tg_jwt_claim_text(c, "neg", buf, sizeof(buf), &value, &len);
    ok(rc == 1 && len == 2 && memcmp(value, "-7", 2) == 0, "a negative "
       "integer");
    rc = tg_jwt_claim_text(c, "min", buf, sizeof(buf), &value, &len);
    ok(rc == 1 && len == 20 && memcmp(value, "-9223372036854775808", 20) == 0,
       "the smallest integer in 32 bytes");
    ok(tg_jwt_claim_text(c, "missing", buf, sizeof(buf), &value, &len) == 0,
       "an absent claim is 0");
    ok(tg_jwt_claim_text(c, "n", buf, sizeof(buf), &value, &len) == 0,
       "a null claim is 0");
    ok(tg_jwt_claim_text(c, "nl", buf, sizeof(buf), &value, &len) == -1,
       "a newline is -1");
    ok(tg_jwt_claim_text(c, "cr", buf, sizeof(buf), &value, &len) == -1,
       "a carriage return is -1");
    ok(tg_jwt_claim_text(c, "tab", buf, sizeof(buf), &value, &len) == -1,
       "a tab is -1");
    ok(tg_jwt_claim_text(c, "del", buf, sizeof(buf), &value, &len) == -1,
       "DEL (0x7f) is -1");
    ok(tg_jwt_claim_text(c, "esc", buf, sizeof(buf), &value, &len) == -1,
       "ESC is -1");
    ok(tg_jwt_claim_text(c, "r", buf, sizeof(buf), &value, &len) == -1,
       "a real is -1");
    ok(tg_jwt_claim_text(c, "t", buf, sizeof(buf), &value, &len) == -1,
       "a boolean is -1");
    ok(tg_jwt_claim_text(c, "a", buf, sizeof(buf), &value, &len) == -1,
       "an array is -1");
    ok(tg_jwt_claim_text(c, "o", buf, sizeof(buf), &value, &len) == -1,
       "an object is -1");
    rc = tg_jwt_claim_text(c, "u", buf, sizeof(buf), &value, &len);
    ok(rc == 1 && len == 2, "UTF-8 passes as bytes");
    rc = tg_jwt_claim_text(c, "e", buf, sizeof(buf), &value, &len);
    ok(rc == 1 && len == 0, "the empty string is 1 with length 0");

    tg_claims_free(c);
}


static void
test_claim_value(void)
{
    int           rc;
    size_t        len;
    const char   *value;
    tg_claims_t  *c;
    char          buf[64];

    c = parse("{\"s\":\"plain text\",\"i\":7,\"o\":{\"k\":\"v\",\"n\":[1,2]},"
              "\"a\":[\"x\",\"y\"],\"t\":true,\"r\":2.5,"
              "\"onl\":{\"k\":\"a\\nb\"},\"snl\":\"a\\nb\","
              "\"big\":[\"0123456789\",\"0123456789\",\"0123456789\","
              "\"0123456789\",\"0123456789\",\"0123456789\"]}");

    rc = tg_jwt_claim_value(c, "s", buf, sizeof(buf), &value, &len);
    ok(rc == 1 && len == 10 && memcmp(value, "plain text", 10) == 0,
       "claim_value of a string is the string");
    rc = tg_jwt_claim_value(c, "i", buf, sizeof(buf), &value, &len);
    ok(rc == 1 && len == 1 && value[0] == '7', "an integer is its decimal");
    rc = tg_jwt_claim_value(c, "o", buf, sizeof(buf), &value, &len);
    ok(rc == 1 && len == strlen("{\"k\":\"v\",\"n\":[1,2]}")
       && memcmp(value, "{\"k\":\"v\",\"n\":[1,2]}", len) == 0,
       "an object is compact JSON");
    rc = tg_jwt_claim_value(c, "a", buf, sizeof(buf), &value, &len);
    ok(rc == 1 && len == 9 && memcmp(value, "[\"x\",\"y\"]", 9) == 0,
       "an array is compact JSON");
    rc = tg_jwt_claim_value(c, "t", buf, sizeof(buf), &value, &len);
    ok(rc == 1 && len == 4 && memcmp(value, "true", 4) == 0, "true is "
       "\"true\"");
    rc = tg_jwt_claim_value(c, "r", buf, sizeof(buf), &value, &len);
    ok(rc == 1 && len == 3 && memcmp(value, "2.5", 3) == 0, "a real is its "
       "JSON");
    rc = tg_jwt_claim_value(c, "onl", buf, sizeof(buf), &value, &len);
    ok(rc == 1 && memchr(value, '\n', len) == NULL
       && len == strlen("{\"k\":\"a\\nb\"}"), "a newline inside an object is "
       "escaped");
    ok(tg_jwt_claim_value(c, "snl", buf, sizeof(buf), &value, &len) == -1,
       "a string with a newline is -1");
    ok(tg_jwt_claim_value(c, "big", buf, sizeof(buf), &value, &len) == -1,
       "JSON larger than size is -1");
    ok(tg_jwt_claim_value(c, "missing", buf, sizeof(buf), &value, &len) == 0,
       "an absent claim is 0");

    tg_claims_free(c);
}


static void
test_scopes(void)
{
    size_t        len;
    tg_claims_t  *c;
    char          buf[16];

#define SCOPES(text)                                                         \
    (c = parse(text),                                                        \
     len = (size_t) -1,                                                      \
     rc = tg_jwt_claim_scopes(c, buf, sizeof(buf), &len),                    \
     tg_claims_free(c),                                                      \
     rc)

    int  rc;

    ok(SCOPES("{\"scope\":\"read write\"}") == 1 && len == 10
       && memcmp(buf, "read write", 10) == 0, "a scope string is copied");
    ok(SCOPES("{\"scope\":[\"read\",\"write\"]}") == 1 && len == 10
       && memcmp(buf, "read write", 10) == 0, "a scope array is joined with "
       "spaces");
    ok(SCOPES("{\"scope\":[]}") == 1 && len == 0, "an empty array is no "
       "scope");
    ok(SCOPES("{\"scope\":\"\"}") == 1 && len == 0, "an empty string is no "
       "scope");
    ok(SCOPES("{\"x\":1}") == 0, "no scope claim is 0");
    ok(SCOPES("{\"scope\":null}") == 0, "a null scope is 0");
    ok(SCOPES("{\"scope\":5}") == -1, "a number scope is -1");
    ok(SCOPES("{\"scope\":{\"a\":1}}") == -1, "an object scope is -1");
    ok(SCOPES("{\"scope\":[\"a\",5]}") == -1, "a number in the array is -1");
    ok(SCOPES("{\"scope\":[\"a b\"]}") == -1, "a space inside an array "
       "element is -1");
    ok(SCOPES("{\"scope\":[\"\"]}") == -1, "an empty array element is -1");
    ok(SCOPES("{\"scope\":[\"a\\u007f\"]}") == -1, "DEL in an element is -1");
    ok(SCOPES("{\"scope\":[\"a\\tb\"]}") == -1, "a tab in an element is -1");
    ok(SCOPES("{\"scope\":\"a\\nb\"}") == -1, "a newline in the string is "
           "-1");
    ok(SCOPES("{\"scope\":\"0123456789abcdef\"}") == 1 && len == 16,
       "a string of exactly size bytes fits");
    ok(SCOPES("{\"scope\":\"0123456789abcdefg\"}") == -1, "a string of size "
       "+ 1 is -1");
    ok(SCOPES("{\"scope\":[\"0123456\",\"89abcde\"]}") == 1 && len == 15,
       "an array that joins to size - 1 fits");
    ok(SCOPES("{\"scope\":[\"0123456\",\"89abcdef\"]}") == 1 && len == 16
       && memcmp(buf, "0123456 89abcdef", 16) == 0, "an array that joins to "
       "exactly size bytes fits");
    ok(SCOPES("{\"scope\":[\"0123456\",\"89abcdefg\"]}") == -1, "an array "
       "that joins to size + 1 is -1");
    ok(SCOPES("{\"scope\":[\"0123456789abcdef\"]}") == -1, "one element of "
       "size bytes is -1");
}


static void
test_words(void)
{
    tg_claims_t  *c;

#define HAS(words, word)                                                     \
    tg_jwt_words_has((const unsigned char *) words, strlen(words),          \
                     (const unsigned char *) word, strlen(word))

    ok(HAS("read write", "write"), "words_has: the last word");
    ok(HAS("read write", "read"), "words_has: the first word");
    ok(!HAS("read write", "rea"), "words_has: not a prefix");
    ok(!HAS("read write", "read write"), "words_has: not two words");
    ok(!HAS("read write", ""), "words_has: not the empty word");
    ok(!HAS("", "read"), "words_has: nothing in no words");
    ok(HAS("  read   write  ", "write"), "words_has: extra spaces");
    ok(!HAS("readwrite", "read"), "words_has: not inside a word");

    c = parse("{\"amr\":[\"pwd\",\"mfa\"],\"s\":\"a b\",\"n\":5,"
              "\"mixed\":[1,\"otp\"]}");
    ok(tg_jwt_claim_has(c, "amr", (const unsigned char *) "mfa", 3),
       "claim_has: an array element");
    ok(!tg_jwt_claim_has(c, "amr", (const unsigned char *) "mf", 2),
       "claim_has: not a prefix of an element");
    ok(tg_jwt_claim_has(c, "s", (const unsigned char *) "b", 1),
       "claim_has: a word of a string");
    ok(!tg_jwt_claim_has(c, "n", (const unsigned char *) "5", 1),
       "claim_has: a number holds nothing");
    ok(tg_jwt_claim_has(c, "mixed", (const unsigned char *) "otp", 3),
       "claim_has: non-strings are skipped");
    ok(!tg_jwt_claim_has(c, "none", (const unsigned char *) "x", 1),
       "claim_has: an absent claim holds nothing");
    tg_claims_free(c);
}


#define W(s)  { (const unsigned char *) (s), sizeof(s) - 1 }


static void
test_mfa(void)
{
    tg_claims_t     *c;
    static tg_str_t  amr[] = { W("otp"), W("mfa") };
    static tg_str_t  acr[] = { W("urn:mfa"), W("phrh") };
    static tg_str_t  mfax[] = { { (const unsigned char *) "mfax", 3 } };

    c = parse("{\"amr\":[\"pwd\",\"mfa\"]}");
    is_int(tg_jwt_mfa(c, amr, 2, acr, 2), 1, "mfa: an amr element listed "
           "second");
    is_int(tg_jwt_mfa(c, amr, 1, acr, 2), 0, "mfa: only the first amr "
           "word is looked for (namr 1)");
    is_int(tg_jwt_mfa(c, NULL, 0, acr, 2), 0, "mfa: no amr words");
    is_int(tg_jwt_mfa(c, mfax, 1, NULL, 0), 1, "mfa: a word is its len "
           "bytes");
    is_int(tg_jwt_mfa(c, NULL, 0, NULL, 0), 0, "mfa: nothing listed");
    tg_claims_free(c);

    c = parse("{\"amr\":\"pwd mfa\"}");
    is_int(tg_jwt_mfa(c, amr, 2, NULL, 0), 1, "mfa: amr as space-separated "
           "words");
    tg_claims_free(c);

    c = parse("{\"amr\":[\"pwd\",\"mf\",\"otpx\"]}");
    is_int(tg_jwt_mfa(c, amr, 2, acr, 2), 0, "mfa: no prefix, no longer "
           "word matches");
    tg_claims_free(c);

    c = parse("{\"amr\":[\"pwd\"],\"acr\":\"urn:mfa\"}");
    is_int(tg_jwt_mfa(c, amr, 2, acr, 2), 1, "mfa: an acr listed");
    is_int(tg_jwt_mfa(c, amr, 2, acr, 1), 1, "mfa: an acr listed first");
    is_int(tg_jwt_mfa(c, amr, 2, acr + 1, 1), 0, "mfa: an acr not listed");
    is_int(tg_jwt_mfa(c, amr, 2, NULL, 0), 0, "mfa: no acr values: acr is "
           "not looked at");
    tg_claims_free(c);

    c = parse("{\"acr\":\"mfa\",\"amr\":\"urn:mfa\"}");
    is_int(tg_jwt_mfa(c, amr, 2, NULL, 0), 0, "mfa: the amr words are not "
           "looked for in acr");
    is_int(tg_jwt_mfa(c, NULL, 0, acr, 2), 0, "mfa: the acr values are not "
           "looked for in amr");
    tg_claims_free(c);

    c = parse("{\"acr\":[\"x\",\"phrh\"]}");
    is_int(tg_jwt_mfa(c, amr, 2, acr, 2), 1, "mfa: acr as an array");
    tg_claims_free(c);

    c = parse("{\"amr\":5,\"acr\":{\"urn:mfa\":1}}");
    is_int(tg_jwt_mfa(c, amr, 2, acr, 2), 0, "mfa: claims of other types "
           "hold nothing");
    tg_claims_free(c);

    c = parse("{}");
    is_int(tg_jwt_mfa(c, amr, 2, acr, 2), 0, "mfa: no amr, no acr");
    tg_claims_free(c);

    is_int(tg_jwt_mfa(NULL, amr, 2, acr, 2), 0, "mfa: no claims at all");
}


/* what the glue does with a cached payload: text back to claims */

static tg_claims_t *
claims_of(const char *text, size_t len)
{
    err[0] = '\0';

    return tg_claims_parse((const unsigned char *) tt_strndup(text, len),
                           len, err, sizeof(err));
}


static int
claims_refused(const char *text, size_t len)
{
    tg_claims_t  *c;

    c = claims_of(text, len);
    tg_claims_free(c);

    return c == NULL;
}


static void
test_claims_parse(void)
{
    size_t        n, m, len;
    const char   *value;
    tg_claims_t  *c, *again;
    char          buf[128], dump[128];

    c = claims_of("{\"sub\":\"u\",\"amr\":[\"mfa\"],\"n\":7}", 31);
    ok(c != NULL, "claims_parse: an object");
    is_int(tg_jwt_claim_text(c, "sub", buf, sizeof(buf), &value, &len), 1,
           "claims_parse: a claim is read");
    ok(len == 1 && value[0] == 'u', "claims_parse: its value");

    n = tg_jwt_claims_dump(c, dump, sizeof(dump));
    again = claims_of(dump, n);
    m = tg_jwt_claims_dump(again, buf, sizeof(buf));
    ok(again != NULL && n == m && memcmp(dump, buf, n) == 0,
       "claims_parse: what claims_dump wrote parses to the same claims");
    tg_claims_free(again);
    tg_claims_free(c);

    ok(!claims_refused("{\"a\":1} ", 8), "claims_parse: only len bytes "
       "are read");
    ok(claims_refused("[1]", 3), "claims_parse: an array is refused");
    ok(err[0] != '\0', "claims_parse: with a reason");
    ok(claims_refused("\"s\"", 3), "claims_parse: a string is refused");
    ok(claims_refused("", 0), "claims_parse: nothing is refused");
    ok(claims_refused("{\"a\":1,\"a\":2}", 13), "claims_parse: a "
       "duplicate key is refused");
    like(err, "duplicate", "claims_parse: and said to be one");
    ok(claims_refused("{\"a\":1}{}", 9), "claims_parse: trailing data "
       "is refused");
    ok(claims_refused("{\"a\":\"x\\u0000y\"}", 16), "claims_parse: "
       "an escaped NUL is refused");
    ok(claims_refused("{\"x\":[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]}", 39),
       "claims_parse: nesting deeper than 16 is refused");

    /*
     * Known bug (tg_json_parse_object(), not new here): tg_json.h says NUL
     * characters are refused, but jansson skips a raw NUL between tokens,
     * so "{\"a\":1<NUL>}" parses as {"a":1}.
     */

    todo_ok(claims_refused("{\"a\":1\0}", 8), "jansson skips a raw NUL "
            "between tokens", "claims_parse: a raw NUL is refused");

    tg_claims_free(NULL);
    ok(1, "claims_free(NULL) does nothing");
}


static void
test_misc(void)
{
    tg_claims_t    *c;
    char            buf[64];
    unsigned char   d[32];
    static const unsigned char  abc_sha256[32] = {
        0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40,
        0xde, 0x5d, 0xae, 0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17,
        0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad
    };

    tg_jwt_sha256((const unsigned char *) "abc", 3, d);
    ok(memcmp(d, abc_sha256, 32) == 0, "sha256(\"abc\")");
    tg_jwt_sha256((const unsigned char *) "abc", 3, d);
    ok(memcmp(d, abc_sha256, 32) == 0, "sha256 again (cached digest)");

    c = parse("{\"a\":1,\"b\":\"x\"}");
    is_int(tg_jwt_claims_dump(c, buf, sizeof(buf)), 15, "claims_dump: the "
           "compact length");
    ok(memcmp(buf, "{\"a\":1,\"b\":\"x\"}", 15) == 0, "claims_dump: the "
       "compact JSON");
    is_int(tg_jwt_claims_dump(c, buf, 15), 15, "claims_dump into exactly "
           "its size");
    is_int(tg_jwt_claims_dump(c, buf, 14), 0, "claims_dump into less is 0");
    tg_claims_free(c);
}


/*
 * The cheaper paths give the answers the plain ones gave: the digest memo
 * (inputs alike in every byte its slot looks at), the ECDSA DER built by
 * hand (R or S with leading zeros, with the high bit set), the remembered
 * header under another allowlist, a key's verify context across two
 * algorithms and after a bad signature, and the payload's own text.
 */
static void
test_fast_paths(void)
{
    int             zero, high, i, n, bad;
    char           *a, *b, *token, *input;
    size_t          len, sig_len, j;
    tg_jwt_conf_t   c;
    unsigned char   d[32], want[32], sig[1024];
    unsigned int    dn;
    const unsigned char  *text;

    a = tt_strndup("0123456789abcdefXXXXXXXXXXXXXXXX0123456789abcdef"
                   "ZZZZZZZZ0123456789abcdef", 72);
    b = tt_strndup(a, 72);
    b[20] = 'Y';
    bad = 0;

    for (i = 0; i < 6; i++) {
        input = (i % 2) ? b : a;
        tg_jwt_sha256((unsigned char *) input, 72, d);
        EVP_Digest(input, 72, want, &dn, EVP_sha256(), NULL);
        bad |= memcmp(d, want, 32) != 0;
    }

    ok(!bad, "sha256: two inputs a slot cannot tell apart, in turn, each "
       "get their own digest");

    for (len = 4095; len <= 4097; len++) {
        input = calloc(1, len);
        input[len - 1] = 'x';
        tg_jwt_sha256((unsigned char *) input, len, d);
        tg_jwt_sha256((unsigned char *) input, len, d);
        EVP_Digest(input, len, want, &dn, EVP_sha256(), NULL);
        ok(memcmp(d, want, 32) == 0, "sha256 of %zu bytes, twice", len);
        free(input);
    }

    /* R or S with a leading zero byte: 1 in 128 ES256 signatures */

    zero = 0;
    high = 0;

    for (i = 0; i < 4000 && !(zero && high); i++) {
        input = tt_printf("%s.%s", tt_b64url_str("{\"alg\":\"ES256\","
                          "\"kid\":\"ec256\"}"),
                          tt_b64url_str(claims(tt_printf("\"n\":%d", i))));
        sig_len = tt_signature("ES256", ec256, NULL, 0, input,
                               strlen(input), sig, 0);

        n = (sig[0] == 0 || sig[32] == 0);

        if ((n && zero) || (!n && (sig[0] & 0x80) == 0 && (sig[32] & 0x80) == 0)
            || (!n && high))
        {
            continue;
        }

        zero |= n;
        high |= !n;

        token = tt_printf("%s.%s", input, tt_b64url(sig, sig_len));

        if (!is_int(verify(token), 0, "ES256, R or S %s, verifies",
                    n ? "with a leading zero byte" : "with the high bit set"))
        {
            diag("error: %s", err);
        }

        sig[sig_len - 1] ^= 1;
        token = tt_printf("%s.%s", input, tt_b64url(sig, sig_len));
        is_int(verify(token), -1, "... and with S changed, does not");
    }

    ok(zero && high, "both kinds of ES256 signature were tried (%d)", i);

    for (i = 0; i < 3; i++) {
        token = tt_jwt("ES512", ec521, NULL, 0, "ec521",
                       claims(tt_printf("\"n\":%d", i)));
        is_int(verify(token), 0, "ES512 (R and S of 66 bytes, a DER longer "
               "than 127) verifies, %d", i);
    }

    /* the header of the last good token, under a narrower allowlist */

    token = tt_jwt("RS256", rsa, NULL, 0, "rsa", good());
    is_int(verify(token), 0, "RS256 verifies (its header is remembered)");

    c = conf;
    c.algs = TG_ALG_BIT(TG_ALG_ES256);
    is_int(verify_at(&c, token, T0), -1, "the same header where RS256 is not "
           "allowed is refused");
    is_str(err, "the algorithm is not allowed", "... for its algorithm");

    /* one key, two algorithms in turn, a bad signature between */

    for (i = 0; i < 4; i++) {
        token = tt_jwt((i % 2) ? "PS256" : "RS256", rsa_free, NULL, 0, NULL,
                       good());
        is_int(verify(token), 0, "%s with a key of no alg, turn %d",
               (i % 2) ? "PS256" : "RS256", i);

        j = strlen(token);
        token[j - 2] = (token[j - 2] == 'A') ? 'B' : 'A';
        is_int(verify(token), -1, "... and changed, refused");
    }

    /* a token's key, and its signing input's digest kept for its check */

    for (i = 0; i < 2; i++) {
        token = tt_jwt(i ? "ES256" : "RS256", i ? ec256 : rsa, NULL, 0,
                       i ? "ec256" : "rsa",
                       claims(tt_printf("\"k\":%d", i)));
        len = strlen(token);
        tg_jwt_token_key((unsigned char *) token, len, d);
        EVP_Digest(token, len, want, &dn, EVP_sha256(), NULL);
        ok(memcmp(d, want, 32) == 0, "token key %d: SHA-256 of the token", i);
        is_int(verify(token), 0, "... and the token verifies with the kept "
               "digest of its signing input");

        /* the same signing input, another signature: refused */

        token[len - 3] = (token[len - 3] == 'A') ? 'B' : 'A';
        tg_jwt_token_key((unsigned char *) token, len, d);
        is_int(verify(token), -1, "... its signature changed: refused");

        /* the kept digest is not another input's */

        token = tt_jwt(i ? "ES256" : "RS256", i ? ec256 : rsa, NULL, 0,
                       i ? "ec256" : "rsa",
                       claims(tt_printf("\"k\":%d", i + 10)));
        is_int(verify(token), 0, "... another token, not keyed, verifies");
        input = tt_strndup(token, strlen(token));
        input[strchr(input, '.') - input + 3] ^= 1;
        is_int(verify(input), -1, "... and its payload changed, refused");
    }

    /* the claims keep the payload's text as it was, spaces and all */

    input = tt_printf("{ \"exp\" : %lld ,\"sub\":\"u\\u0031\"}",
                      T0 + 600);
    token = tt_token("ES256", ec256, NULL, 0,
                     "{\"alg\":\"ES256\",\"kid\":\"ec256\"}", input);
    c = conf;
    c.issuer.len = 0;
    c.naudiences = 0;
    is_int(verify_at(&c, token, T0), 0, "a payload with spaces and an "
           "escape verifies");
    text = tg_claims_text(jwt.claims, &len);
    ok(len == strlen(input) && memcmp(text, input, len) == 0,
       "tg_claims_text is the payload as it came");
    tg_claims_free(jwt.claims);
    jwt.claims = NULL;
}


static void
test_record(void)
{
    int  rc;

#define RECORD(text)                                                         \
    (err[0] = '\0',                                                          \
     rc = tg_jwt_check_record(&conf, (const unsigned char *)                 \
                              tt_strndup(text, strlen(text)), strlen(text), \
                              T0, &jwt, err, sizeof(err)),                   \
     tg_claims_free(jwt.claims), jwt.claims = NULL, rc)

    is_int(RECORD(P("{\"exp\":%lld,\"workspace_id\":\"w\"}", T0 + 60)), 0,
           "a record with exp passes, without iss or aud");
    is_int(RECORD(P("{\"exp\":%lld,\"iss\":\"other\",\"aud\":\"x\"}",
                    T0 + 60)), 0, "a record's iss and aud are not checked");
    is_int(RECORD("{\"workspace_id\":\"w\"}"), -1, "a record without exp is "
           "refused");
    is_int(RECORD(P("{\"exp\":%lld}", T0 - 30)), -1, "an expired record is "
           "refused");
    is_int(RECORD(P("{\"exp\":%lld,\"nbf\":%lld}", T0 + 60, T0 + 31)), -1,
           "a record not valid yet is refused");
    is_int(RECORD(P("{\"exp\":%lld,\"iat\":%lld}", T0 + 60, T0 + 31)), -1,
           "a record issued in the future is refused");
    is_int(RECORD("[]"), -1, "a record that is an array is refused");
    like(err, "the record: ", "the error names the record");
    is_int(RECORD(P("{\"exp\":%lld,\"exp\":%lld}", T0 + 60, T0 + 60)), -1,
           "a record with a duplicate key is refused");
    is_int(RECORD(P("{\"exp\":%lld,\"pad\":\"%08200d\"}", T0 + 60, 0)), -1,
           "a record over 8192 bytes is refused");
    is_int(RECORD(""), -1, "an empty record is refused");
    is_int(RECORD("{\"exp\":9223372036854775807}"), -1, "a record with "
           "exp = 2^63 - 1 is refused, without overflow");
    like(err, "not a NumericDate", "as not a NumericDate");
    ok(conf.issuer.len != 0 && conf.naudiences == 2, "the caller's conf is "
       "left as it was");
}


/*
 * Known bug: tg_jwt_claim_value() says "compact JSON escapes control
 * characters, so the text is safe", but jansson does not escape DEL
 * (0x7f), which tg_jwt_claim_text() refuses as a control character: a
 * non-string claim holding DEL reaches the variable (and a header made
 * from it) raw.
 */

static void
test_fixed_bugs(void)
{
    int           rc;
    size_t        len;
    const char   *value;
    tg_claims_t  *c;
    char          buf[64];

    c = parse("{\"o\":{\"k\":\"a\\u007fb\"},\"a\":[\"\\u007f\"]}");

    rc = tg_jwt_claim_value(c, "o", buf, sizeof(buf), &value, &len);
    ok(rc == -1 || memchr(value, 0x7f, len) == NULL,
       "claim_value of an object holding DEL gives no raw DEL");
    rc = tg_jwt_claim_value(c, "a", buf, sizeof(buf), &value, &len);
    ok(rc == -1 || memchr(value, 0x7f, len) == NULL,
                        "claim_value of an array holding DEL gives no raw DEL");
    tg_claims_free(c);
}


int
main(void)
{
    setup();

    test_valid();
    test_alg();
    test_keys();
    test_shape();
    test_times();
    test_final();
    test_iss_aud();
    test_claim_text();
    test_claim_value();
    test_scopes();
    test_words();
    test_mfa();
    test_claims_parse();
    test_misc();
    test_fast_paths();
    test_record();
    test_fixed_bugs();

    tg_jwks_free(&keys);
    tt_free_all();
    return tap_done();
}
