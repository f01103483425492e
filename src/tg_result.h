
/*
 * Copyright (C) tenant_guard authors
 */


#ifndef _TG_RESULT_H_INCLUDED_
#define _TG_RESULT_H_INCLUDED_


typedef enum {
    TG_RESULT_ALLOW = 0,
    TG_RESULT_NO_TOKEN,
    TG_RESULT_INVALID_TOKEN,
    TG_RESULT_TOKEN_TOO_OLD,
    TG_RESULT_SESSION_IDLE,
    TG_RESULT_MFA_REQUIRED,
    TG_RESULT_IP_NOT_ALLOWED,
    TG_RESULT_WORKSPACE_MISMATCH,
    TG_RESULT_INTEGRATION_MISMATCH,
    TG_RESULT_ORGANIZATION_MISMATCH,
    TG_RESULT_CLAIM_MISMATCH,
    TG_RESULT_INSUFFICIENT_SCOPE,
    TG_RESULT_BANNED,
    TG_RESULT_UNAVAILABLE,
    TG_RESULT_INSUFFICIENT_CLAIMS,
    TG_RESULT_BAD_LOGIN,
    TG_RESULT_LAST
} tg_result_e;


/* what the WWW-Authenticate header of a refusal says */
typedef enum {
    TG_CHALLENGE_NONE = 0,
    TG_CHALLENGE_BEARER,            /* Bearer realm="..." */
    TG_CHALLENGE_BEARER_ERROR,      /* ..., error="...", error_description */
    TG_CHALLENGE_SCOPE,             /* ..., error="insufficient_scope", scope */
    TG_CHALLENGE_ACR                /* RFC 9470: ..., acr_values="..." */
} tg_challenge_e;


typedef struct {
    int              status;
    const char      *code;          /* the JSON "error", the variable */
    const char      *description;   /* default "error_description" */
    const char      *reason;        /* the log phrase */
    tg_challenge_e   challenge;
} tg_result_t;


const tg_result_t *tg_result_get(tg_result_e result);


#endif /* _TG_RESULT_H_INCLUDED_ */
