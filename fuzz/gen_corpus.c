
/*
 * Copyright (C) tenant_guard authors
 *
 * Writes the seed corpus of every fuzz target into DIR/<target>/ (DIR is
 * fuzz/corpus): tokens signed with the fixed keys of fixtures.h, key files,
 * policy files, base64url texts, addresses, JSON bodies, and Authorization
 * values, request targets and jtis, and bind_path templates with paths.
 * fuzz/run builds it; the seeds it wrote are kept in git, so it needs to
 * run only when the seeds should change:
 *
 *     fuzz/run seeds
 */


#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fixtures.h"
#include "fx.h"
#include "tt.h"


static const char  *dir;


static void
seed(const char *target, const char *name, const char *data, size_t len)
{
    FILE  *f;
    char   path[4096];

    snprintf(path, sizeof(path), "%s/%s", dir, target);

    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        perror(path);
        exit(1);
    }

    snprintf(path, sizeof(path), "%s/%s/%s", dir, target, name);

    f = fopen(path, "wb");

    if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}


static void
text(const char *target, const char *name, const char *data)
{
    seed(target, name, data, strlen(data));
}


#define HS  (const unsigned char *) FX_HS_SECRET, strlen(FX_HS_SECRET)


static void
jwt_seeds(const fx_keys_t *k)
{
    char           *good, *input;
    size_t          n;
    unsigned char   sig[1024];

    good = tt_printf("{\"iss\":\"https://idp.example\",\"aud\":\"api\","
                     "\"sub\":\"user-1\",\"exp\":%lld,\"iat\":%lld,"
                     "\"nbf\":%lld,\"workspace_id\":\"ws1\","
                     "\"organization_id\":42,\"scope\":\"read write\","
                     "\"amr\":[\"pwd\",\"mfa\"],\"jti\":\"j-1\"}",
                     FX_EXP, FX_NOW - 60, FX_NOW - 60);

    text("fuzz_jwt", "rs256", tt_jwt("RS256", k->rsa, NULL, 0, "rsa", good));
    text("fuzz_jwt", "rs384", tt_jwt("RS384", k->rsa, NULL, 0, "rsa", good));
    text("fuzz_jwt", "rs512", tt_jwt("RS512", k->rsa, NULL, 0, NULL, good));
    text("fuzz_jwt", "ps256", tt_jwt("PS256", k->rsa, NULL, 0, "rsa", good));
    text("fuzz_jwt", "ps512", tt_jwt("PS512", k->rsa, NULL, 0, NULL, good));
    text("fuzz_jwt", "es256", tt_jwt("ES256", k->ec256, NULL, 0, "ec256",
                                     good));
    text("fuzz_jwt", "es384", tt_jwt("ES384", k->ec384, NULL, 0, "ec384",
                                     good));
    text("fuzz_jwt", "es512", tt_jwt("ES512", k->ec521, NULL, 0, NULL, good));
    text("fuzz_jwt", "eddsa", tt_jwt("EdDSA", k->ed, NULL, 0, "ed", good));
    text("fuzz_jwt", "eddsa-unknown-kid",
         tt_jwt("EdDSA", k->ed, NULL, 0, "nope", good));
    text("fuzz_jwt", "hs256", tt_jwt("HS256", NULL, HS, "hs", good));
    text("fuzz_jwt", "hs384", tt_jwt("HS384", NULL, HS, NULL, good));
    text("fuzz_jwt", "hs512", tt_jwt("HS512", NULL, HS, "hs", good));

    /* claims of every shape, HS256 (the target re-signs them anyway) */

    text("fuzz_jwt", "hs256-scope-array",
         tt_jwt("HS256", NULL, HS, "hs", tt_printf(
                "{\"exp\":%lld,\"scope\":[\"read\",\"write\"],"
                "\"aud\":[\"x\",\"api\"],\"iss\":\"https://idp.example\"}",
                FX_EXP)));
    text("fuzz_jwt", "hs256-real-times",
         tt_jwt("HS256", NULL, HS, NULL, tt_printf(
                "{\"exp\":%lld.5,\"iat\":1.0e9,\"nbf\":0,"
                "\"x\":{\"k\":[1,true,null,\"v\"]}}", FX_EXP)));
    text("fuzz_jwt", "hs256-expired",
         tt_jwt("HS256", NULL, HS, NULL, tt_printf("{\"exp\":%lld}",
                                                    FX_NOW - 31)));
    text("fuzz_jwt", "hs256-int-ids",
         tt_jwt("HS256", NULL, HS, NULL, tt_printf(
                "{\"exp\":%lld,\"workspace_id\":-9223372036854775807,"
                "\"sub\":12345678901234}", FX_EXP)));
    text("fuzz_jwt", "hs256-crit",
         tt_token("HS256", NULL, HS, "{\"alg\":\"HS256\",\"crit\":[\"b64\"],"
                  "\"b64\":false}", good));
    text("fuzz_jwt", "hs256-duplicate",
         tt_token("HS256", NULL, HS, "{\"alg\":\"HS256\"}",
                  "{\"exp\":1,\"exp\":2}"));

    /* refusals */

    input = tt_printf("%s.%s", tt_b64url_str("{\"alg\":\"none\"}"),
                      tt_b64url_str(good));
    text("fuzz_jwt", "none", tt_printf("%s.", input));
    text("fuzz_jwt", "rs256-as-hs256",
         tt_token("HS256", NULL, (unsigned char *) "not-the-key", 11,
                  "{\"alg\":\"HS256\",\"kid\":\"rsa\"}", good));

    input = tt_printf("%s.%s",
                      tt_b64url_str("{\"alg\":\"ES256\",\"kid\":\"ec256\"}"),
                      tt_b64url_str(good));
    n = tt_signature("ES256", k->ec256, NULL, 0, input, strlen(input), sig,
                     1);
    text("fuzz_jwt", "es256-der", tt_printf("%s.%s", input,
                                            tt_b64url(sig, n)));
    text("fuzz_jwt", "two-dots", "eyJhbGciOiJIUzI1NiJ9.e30.");
    text("fuzz_jwt", "padded", "eyJhbGciOiJIUzI1NiJ9.e30=.AA");
}


static void
jwks_seeds(const fx_keys_t *k)
{
    char           *all;
    unsigned char   secret[40];

    memset(secret, 'k', sizeof(secret));

    /* first: fx_jwks_text() frees what tt_*() returned so far */
    all = fx_jwks_text(k);
    text("fuzz_jwks", "all", all);
    free(all);

    text("fuzz_jwks", "rsa", tt_printf("{\"keys\":[%s]}",
                                       tt_jwk(k->rsa, "r", "RS256", NULL)));
    text("fuzz_jwks", "ec256", tt_printf("{\"keys\":[%s]}",
                                         tt_jwk(k->ec256, "e", NULL,
                                                "\"use\":\"sig\"")));
    text("fuzz_jwks", "ec521", tt_printf("{\"keys\":[%s]}",
                                         tt_jwk(k->ec521, NULL, NULL, NULL)));
    text("fuzz_jwks", "ed", tt_printf("{\"keys\":[%s]}",
                                      tt_jwk(k->ed, "d", "EdDSA", NULL)));
    text("fuzz_jwks", "oct", tt_printf("{\"keys\":[%s]}",
                                       tt_jwk_oct(secret, sizeof(secret),
                                                  "h", "HS256")));
    text("fuzz_jwks", "enc-and-sig", tt_printf(
         "{\"keys\":[%s,%s]}",
         tt_jwk(k->ec384, "x", NULL, "\"use\":\"enc\""),
         tt_jwk(k->ec384, "y", NULL, "\"use\":\"sig\",\"key_ops\":"
                "[\"verify\"]")));
    text("fuzz_jwks", "private-d", tt_printf("{\"keys\":[%s]}",
         tt_jwk(k->ec256, NULL, NULL, tt_printf("\"d\":\"%s\"",
                                                 tt_jwk_d(k->ec256)))));
    text("fuzz_jwks", "pem-one", tt_pem(k->rsa));
    text("fuzz_jwks", "pem-three", tt_printf("%s\nsome text\n%s%s",
                                             tt_pem(k->ec256), tt_pem(k->ed),
                                             tt_pem(k->ec521)));
    text("fuzz_jwks", "pem-private", tt_pem_private(k->ec256));
    text("fuzz_jwks", "empty-set", "{\"keys\":[]}");
}


static void
policy_seeds(void)
{
    text("fuzz_policy", "readme",
         "{\"default\":{\"ban\":{\"blockingForClientEnabled\":true,"
         "\"firstBanThreshold\":5,\"firstBanCollectingTime\":300,"
         "\"firstBanDuration\":600,\"secondBanThreshold\":10,"
         "\"secondBanCollectingTime\":900,\"secondBanDuration\":3600,"
         "\"permanentBanThreshold\":50,\"permanentBanCollectingTime\":3600,"
         "\"permanentBanDuration\":86400},"
         "\"general\":{\"tokenLifetimeInSeconds\":86400}},"
         "\"workspaces\":{\"acme\":{\"ipPolicy\":{\"enabled\":true,"
         "\"enableSupportSubnets\":true,\"ipPolicy\":[\"203.0.113.7\","
         "\"198.51.100.0/24\",\"2001:db8::/48\",\"::ffff:10.0.0.0/104\"]},"
         "\"mfa\":{\"required\":true},"
         "\"general\":{\"tokenLifetimeInSeconds\":3600},"
         "\"passwordPolicy\":{\"maxIdleTime\":900,\"minLength\":12}},"
         "\"globex\":{\"ban\":{\"blockingForClientEnabled\":false,"
         "\"permanentBanThreshold\":20,\"permanentBanCollectingTime\":600,"
         "\"permanentBanDuration\":3600},\"mfa\":null},"
         "\"initech\":{}}}");
    text("fuzz_policy", "prefix-ids",
         "{\"workspaces\":{\"a\":{},\"ab\":{\"mfa\":{\"required\":false}},"
         "\"abc\":{\"ban\":null},\"\":{}}}");
    text("fuzz_policy", "iam-general",
         "{\"tokenLifetimeInSeconds\":60,\"voucherPoolUuid\":\"x\","
         "\"allowOverwriteCustomIdentify\":true,"
         "\"allowOverwriteExternalId\":false,"
         "\"allowEmailChangeFromWebForm\":null,"
         "\"allowToPassCustomIdentifyWithVoucherPool\":1}");
    text("fuzz_policy", "iam-password",
         "{\"maxIdleTime\":30,\"attempts\":3,\"block\":true,\"different\":1,"
         "\"digits\":1,\"expiration\":90,\"lowerLetters\":1,"
         "\"maxLength\":64,\"minLength\":12,\"nextChange\":1,"
         "\"specialChars\":1,\"upperLetters\":1}");
    text("fuzz_policy", "iam-ip",
         "{\"enabled\":true,\"enableSupportSubnets\":false,"
         "\"ipPolicy\":[\"0.0.0.0/0\",\"::/0\",\"10.1.2.3/8\"]}");
    text("fuzz_policy", "iam-ban",
         "{\"blockingForClientEnabled\":true,\"firstBanThreshold\":1,"
         "\"firstBanCollectingTime\":3153600000,\"firstBanDuration\":1,"
         "\"secondBanThreshold\":1,\"secondBanCollectingTime\":0,"
         "\"secondBanDuration\":3153600000}");
    text("fuzz_policy", "bad-prefix",
         "{\"workspaces\":{\"w\":{\"ipPolicy\":{\"ipPolicy\":"
         "[\"10.0.0.0/33\"]}}}}");
    text("fuzz_policy", "unknown", "{\"workspace\":{}}");
}


static void
b64_seeds(void)
{
    text("fuzz_b64", "empty", "");
    text("fuzz_b64", "abc", "QUJD");
    text("fuzz_b64", "two", "QUI");
    text("fuzz_b64", "one", "QQ");
    text("fuzz_b64", "url", "-_-_");
    text("fuzz_b64", "padded", "QQ==");
    text("fuzz_b64", "std", "a+b/");
    text("fuzz_b64", "bits", "QR");
    text("fuzz_b64", "header", "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9");
}


static void
cidr_seeds(void)
{
    static const char  *ranges[] = {
        "10.0.0.0/8", "1.2.3.4", "0.0.0.0/0", "255.255.255.255/32",
        "192.168.77.255/20", "2001:db8::/32", "::1", "::/0", "::1/128",
        "::ffff:1.2.3.4", "::ffff:10.0.0.0/104", "::ffff:0:0/96",
        "::/95", "fe80::1%eth0", "1.2.3.4/33", "::/129", "1.2.3.4/01",
        "01.2.3.4", "1.2.3.4/", "1::2::3"
    };
    size_t  i;
    char    name[16];

    for (i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
        snprintf(name, sizeof(name), "range-%02zu", i);
        text("fuzz_cidr", name, ranges[i]);
    }

    seed("fuzz_cidr", "nul-inside", "1.2.3.4\0/99", 11);
}


static void
json_seeds(void)
{
    text("fuzz_json_field", "login",
         "{\"username\":\"alice\",\"password\":\"x\",\"email\":\"a@b\"}");
    text("fuzz_json_field", "control", "{\"username\":\"a\\nb\"}");
    text("fuzz_json_field", "record",
         "{\"exp\":4102444800,\"iat\":1699999000,\"nbf\":1699999000,"
         "\"sub\":\"u\",\"workspace_id\":7,\"scope\":[\"a\",\"b\"],"
         "\"amr\":[\"mfa\"],\"x\":{\"k\":\"v\"}}");
    text("fuzz_json_field", "record-real",
         "{\"exp\":4102444800.25,\"scope\":\"read  write\",\"x\":1.5,"
         "\"jti\":\"\\u00e9\"}");
    text("fuzz_json_field", "nested",
         "{\"x\":[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]}");
    text("fuzz_json_field", "duplicate", "{\"username\":\"a\","
         "\"username\":\"b\"}");
    text("fuzz_ident", "email", " Alice@Example.COM ");
    text("fuzz_ident", "fullwidth", "\xef\xbc\xa1lice\xe2\x80\x8b");
    text("fuzz_ident", "form", "password=x&user%6Eame=a%40b+c");
    text("fuzz_ident", "json", "{\"username\":\"\\u00e9\"}");
}


static void
request_seeds(void)
{
    size_t       i;
    char         name[16];
    const char  *inputs[] = {
        "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1In0.c2ln",
        "bearer   abc==  ", "BEARER a b", "Bearer ", "Bearer\tabc",
        "Basic YWxhZGRpbjpvcGVuc2VzYW1l", "Bearer a,b", "Bearer =x=",
        "/ws/ws1/items/42", "/a//b", "/a/./b", "/a/../b", "/a/.",
        "/a%2Fb", "/a%2e%2E/b", "/a%5cb", "/a%0a", "/a%1F", "/a%",
        "/a%2", "/a\\b", "/a/..?x=//", "/a?b//c", "/.well-known/x",
        "/a/%41%25?%2F", "550e8400-e29b-41d4-a716-446655440000",
        "j-1", "a\"b",
        "0123456789012345678901234567890123456789012345678901234567890123"
    };

    for (i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
        snprintf(name, sizeof(name), "input-%02zu", i);
        text("fuzz_request", name, inputs[i]);
    }

    seed("fuzz_request", "nul-in-token", "Bearer a\0b", 10);
    seed("fuzz_request", "nul-in-path", "/a\0/../b", 8);
}


/* a template, '\n', a path (without a '\n': the template is both) */

static void
bindpath_seeds(void)
{
    size_t       i;
    char         name[16];
    const char  *inputs[] = {
        "/workspaces/{workspace}\n/workspaces/ws2",
        "/workspaces/{workspace}\n/Workspaces/ws2/x",
        "/workspaces/{workspace}\n/workspaces/",
        "/workspaces/{workspace}\n/workspaces",
        "/workspaces/{workspace}/\n/WORKSPACES/ws1/",
        "/workspaces/{workspace}/integrations/{integration}\n"
            "/workspaces/ws1/integrations/int2/sync",
        "/workspaces/{workspace}/integrations/{integration}\n"
            "/workspaces/ws1/settings",
        "/orgs/{organization}/ws/{workspace}\n/orgs/o1/ws/w1",
        "/providers/{claim:provider_id}\n/providers/p1/clients",
        "/{workspace}/{organization}/{integration}/{claim:x}\n/a/b/c/d",
        "/a/{workspace}/b/{workspace}\n/A/w1/b/w2",
        "/workspaces/{workspace}",
        "/{workspace", "/ws-{workspace}", "/{claim:}", "/{tenant}",
        "/./{workspace}", "/a%2F/{workspace}", "//{workspace}", "/",
        "workspaces/{workspace}", "/{{workspace}}"
    };

    for (i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
        snprintf(name, sizeof(name), "input-%02zu", i);
        text("fuzz_bindpath", name, inputs[i]);
    }

    seed("fuzz_bindpath", "nul-in-path", "/w/{workspace}\n/w/a\0b", 21);
}


int
main(int argc, char **argv)
{
    fx_keys_t  k;

    if (argc != 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
        return 2;
    }

    dir = argv[1];

    fx_private_keys(&k);

    jwt_seeds(&k);
    jwks_seeds(&k);
    policy_seeds();
    b64_seeds();
    cidr_seeds();
    json_seeds();
    request_seeds();
    bindpath_seeds();

    fx_private_keys_free(&k);
    tt_free_all();

    return 0;
}
