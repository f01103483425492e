
/*
 * Copyright (C) tenant_guard authors
 */


#ifndef _TG_ADMIN_H_INCLUDED_
#define _TG_ADMIN_H_INCLUDED_


#include <stddef.h>


#define TG_ADMIN_MAX_BODY   65536
#define TG_ADMIN_MAX_ID     256
#define TG_ADMIN_MAX_TOKEN  16384


/* a POST /tokens/revoke body: one of the four shapes SPEC lists */
typedef enum {
    TG_ADMIN_REVOKE_JTI = 1,         /* {"jti"} */
    TG_ADMIN_REVOKE_TOKEN,           /* {"token"} */
    TG_ADMIN_REVOKE_SUBJECT,         /* {"workspace", "subject"} */
    TG_ADMIN_REVOKE_WORKSPACE        /* {"workspace"} */
} tg_admin_revoke_e;


typedef struct {
    tg_admin_revoke_e  what;
    unsigned char      jti[TG_ADMIN_MAX_ID];
    size_t             jti_len;
    unsigned char      workspace[TG_ADMIN_MAX_ID];
    size_t             workspace_len;
    unsigned char      subject[TG_ADMIN_MAX_ID];
    size_t             subject_len;
    unsigned char      token[TG_ADMIN_MAX_TOKEN];
    size_t             token_len;
} tg_admin_revoke_t;


/*
 * Parses a revocation request: a JSON object whose fields are all known,
 * non-empty strings without control characters, in one of the shapes of
 * tg_admin_revoke_e.  Returns 0, or -1 with the reason in err.
 */
int tg_admin_revoke_parse(tg_admin_revoke_t *rv, const unsigned char *data,
    size_t len, char *err, size_t err_len);

/*
 * The "jti" (copied into jti, at most size bytes) and "exp" (0 when absent
 * or no NumericDate the verifier takes; a real is truncated) of a compact
 * JWS's payload, read without verifying it: the caller is an
 * administrator revoking it.  Returns 0, or -1 when the token is not a
 * compact JWS or has no usable jti.
 */
int tg_admin_token_jti(const unsigned char *token, size_t len,
    unsigned char *jti, size_t size, size_t *jti_len, long long *exp);


#endif /* _TG_ADMIN_H_INCLUDED_ */
