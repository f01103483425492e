
/*
 * Copyright (C) tenant_guard authors
 *
 * Fixed keys for the fuzz targets and their seed corpus, so that the seed
 * tokens in fuzz/corpus/fuzz_jwt/ keep verifying against the key set that
 * fuzz_jwt.c builds.  TEST-ONLY KEYS: published here, never use them for
 * anything else.
 */


#ifndef _TG_FUZZ_FIXTURES_H_INCLUDED_
#define _TG_FUZZ_FIXTURES_H_INCLUDED_


/* the fuzz targets' "now"; seed tokens expire in 2100 */
#define FX_NOW  1700000000LL
#define FX_EXP  4102444800LL

/* the HMAC secret of the "hs" key (64 bytes) */
#define FX_HS_SECRET                                                         \
    "fuzz-only-hmac-secret-0123456789-abcdefghijklmnopqrstuvwxyz-ABCD"

static const char  FX_RSA[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQDDO2bGq52rAHvZ\n"
    "Ux18j8ssARNt/W0Gr8dc78M0gRpMD5zlfC1FLH97G30gQwPvpXL+VGz6CKelShj6\n"
    "ego2/bAwT7svR/3Y1EvTHs+zkv+WrSgV8CAYatThVRxAkHXB4Z3DGWJGyBZMeX9X\n"
    "0l4UkQcAHdPAv+4KizP2bsDVy2sATnBzEKIAV0TwY6Eua6eFvNGheTpKkLDepYKA\n"
    "MoJTBWoG1zybWOxNBUuUIK69fvUpfdVxAWAbCWDFh8w8c/AhHj+kM8sbGaf5LbN1\n"
    "JTdO6yMOB4Pap9TAQ0zwMJ2F/vcdVyzoMBnoON1EUPshs68ELTct8hsyd6hMOKEJ\n"
    "n4wTAg8LAgMBAAECggEAC/ga1Q6vCmce4+DnTsktpON/mPLJQEUx9rErKXXJ/z35\n"
    "ZppZcVzvVESIEQL6yhjwtvkr4Zv61AF6DMH2cvU62/Avb8OJ1quUgHuD/74ar4ne\n"
    "Vyxf4CjzwMk46hgEZPmoWrTPyrrra9txCRkFGpBJOq9/2XI+E+U0rz5bOGBE9AFy\n"
    "zd0C22Uryn7kEt1lxv96KxOO4nayh1443J9HPfm9yptUXVsFE06nNFgCJsp+1dvP\n"
    "4ylPtJNO6s+mpt3/ZTlvOuf85DnIu29M4R+P+QSZ1fTXCXP9CZuVFY0vF8dJB4wO\n"
    "oKXPugizl4dG1v4ieOU8Xav0n/LF2/x4hktyUgn5fQKBgQDw1LQGEm+41OGkKywg\n"
    "D08LT2ii1ZP1Ep5NkV5GXrkMR4GWgVBR1x4Z+rVAYXHojVWVZLN4DaESWOOj9bX/\n"
    "T15sM1y4ZcIfUZ+oB0iXLcLOszXrn4O2YMLEt7Ke313B7yeqsGxBPbln8GS2UhDh\n"
    "USPuIh2DDQkaitH1I0/2VeeCLQKBgQDPh2+olsxPYGW+17ApYAkyUFllDP4zEsyk\n"
    "/4n1KePTLv/6yTzd4COz+Q4LZCvvwaaBMRzMEdQRWjkpzejwGRODD9bmtLz6GP9D\n"
    "3CMJfVxrW8nq3QAwv6jIBCcFZpQbgfPPN4ofT2cmQXkc0BVlnoNg1Jt+RxlUBqng\n"
    "ky8VPu3xFwKBgEvTDGMlBtvw2qIvnZLyfvaWp+Es0YrFs+XEMSSCykxdbyWNzVYX\n"
    "HrkbQFnm1FBdv2Zr8D2KPP5j0jhbMlQSDy6N9VFxaG8n6dajhG1k0QL3VbC75mJT\n"
    "kL8S/0AaH5Dh1WFebpcT8f4RqAPnTr1CKMffId+TCRy8PGKsHY73eQ55AoGAa59+\n"
    "HX0OuX9xZHYwqlRekJQwuAHz9gKi1FKddeHif4uZPrKL+Tia62OWj/vD+VOBCPCy\n"
    "UXZRdypGCNL7IUCv6MEXHo/OjRjXkJaiKPK1Mgvo+/7ecWmDmy7kGZ3n4xgSm3zf\n"
    "CXvBL4q2x2V2IzwAQAAiH2u5y+Skxo0t1qPK+8MCgYBnqbYIVAuvndiU4HXeWBXa\n"
    "A7i9eM+5nb6hDs9Im8R8m9YRO8ZPf0FIvZHT8F84sKmP+vz6qVQFniKBad9afpZ+\n"
    "zhULHsT9vUjF5K8UtuOFONvX3cACXkt/FfeIu+t7O0FQwsIDxrvEH19kH0JLZ/g5\n"
    "EVsvYRKRNUXPm0B2pSy60w==\n"
    "-----END PRIVATE KEY-----\n";

static const char  FX_EC256[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQggk29Q3vyK32WKxYI\n"
    "ctw6C5WbppUFcZc/IEMQp3OFlAOhRANCAAS+2YoQpTtvsAV5xgQtml296WY54vDI\n"
    "jXC3hmT6LlZ8fh6Q0zcP1RFNPfOiSiE155rgnp2pqviGv7oUXqUiBCQs\n"
    "-----END PRIVATE KEY-----\n";

static const char  FX_EC384[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIG2AgEAMBAGByqGSM49AgEGBSuBBAAiBIGeMIGbAgEBBDCpdaNYPIu+zyqt8gnI\n"
    "42GDo57LIwalWJCs7tiRqAd+324ggmCROtox2dtM9ike4guhZANiAATI24lQidxD\n"
    "y3fERmZV1aEWeDxon99jThMupQ5s1FQV26KTRtwQ16EU/SAS4/kQW252P2sClP14\n"
    "2zVBIVWU+jkgL66mxj0wjmhorFVvOC57uUPRGxH2A2frI3scmtYOy44=\n"
    "-----END PRIVATE KEY-----\n";

static const char  FX_EC521[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIHuAgEAMBAGByqGSM49AgEGBSuBBAAjBIHWMIHTAgEBBEIARua2+8ax3XZOOCEF\n"
    "hr4sywGLuJl8WMNgeHj4yHIRFcshxxBGqPiNiSmVlZ6IKy9g54kSgpqNE7idZJv+\n"
    "1287XZihgYkDgYYABAAlob9gkkPdEPhxIg5i3pSECIgAmOTmlbr55QTBmRl0uHb3\n"
    "ms2CdtsYY3WGfSqoi9JtUdmNJgnciNX2FJfKwhPGdwHVf8ehBgLTfGacsHlc9QNi\n"
    "gb8CfJE7DNNObP39RfwYN86vR+o+9LlF2rkkM4kS6s3tmdrm0A+mnWrqnizyEh9h\n"
    "nw==\n"
    "-----END PRIVATE KEY-----\n";

static const char  FX_ED25519[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIAimTlycH+OI/eUvkvwy8q5butKh4FkkE3WNeeP2Gb1q\n"
    "-----END PRIVATE KEY-----\n";


#endif /* _TG_FUZZ_FIXTURES_H_INCLUDED_ */
