
/*
 * Copyright (C) tenant_guard authors
 */


#include <stddef.h>

#include "tg_result.h"


/* the one table of outcomes: every refusal is described here */
static const tg_result_t  tg_results[TG_RESULT_LAST] = {

    [TG_RESULT_ALLOW] = { 200, "allow", "", "allowed",
                          TG_CHALLENGE_NONE },

    [TG_RESULT_NO_TOKEN] = { 401, "invalid_request",
                             "a bearer token is required",
                             "no bearer token", TG_CHALLENGE_BEARER },

    [TG_RESULT_INVALID_TOKEN] = { 401, "invalid_token",
                                  "the token is not valid",
                                  "invalid token",
                                  TG_CHALLENGE_BEARER_ERROR },

    [TG_RESULT_TOKEN_TOO_OLD] = { 401, "invalid_token",
                                  "the token is older than the workspace's "
                                  "token lifetime",
                                  "token older than workspace lifetime",
                                  TG_CHALLENGE_BEARER_ERROR },

    [TG_RESULT_SESSION_IDLE] = { 401, "session_idle",
                                 "the session was idle for too long",
                                 "session idle", TG_CHALLENGE_BEARER_ERROR },

    [TG_RESULT_MFA_REQUIRED] = { 401, "insufficient_user_authentication",
                                 "the workspace requires multi-factor "
                                 "authentication",
                                 "mfa required", TG_CHALLENGE_ACR },

    [TG_RESULT_IP_NOT_ALLOWED] = { 403, "ip_not_allowed",
                                   "the client address is not allowed "
                                   "for this workspace",
                                   "ip not allowed", TG_CHALLENGE_NONE },

    [TG_RESULT_WORKSPACE_MISMATCH] = { 403, "workspace_mismatch",
                                       "the token may not reach this "
                                       "workspace",
                                       "workspace mismatch",
                                       TG_CHALLENGE_NONE },

    [TG_RESULT_INTEGRATION_MISMATCH] = { 403, "integration_mismatch",
                                         "the token may not reach this "
                                         "integration",
                                         "integration mismatch",
                                         TG_CHALLENGE_NONE },

    [TG_RESULT_ORGANIZATION_MISMATCH] = { 403, "organization_mismatch",
                                          "the token may not reach this "
                                          "organization",
                                          "organization mismatch",
                                          TG_CHALLENGE_NONE },

    [TG_RESULT_CLAIM_MISMATCH] = { 403, "claim_mismatch",
                                   "the token may not reach this resource",
                                   "claim mismatch", TG_CHALLENGE_NONE },

    [TG_RESULT_INSUFFICIENT_SCOPE] = { 403, "insufficient_scope",
                                       "the token lacks a required scope",
                                       "insufficient scope",
                                       TG_CHALLENGE_SCOPE },

    [TG_RESULT_BANNED] = { 429, "banned",
                           "too many failed attempts; try again later",
                           "banned", TG_CHALLENGE_NONE },

    [TG_RESULT_UNAVAILABLE] = { 503, "temporarily_unavailable",
                                "the authorization store is unavailable",
                                "store unavailable", TG_CHALLENGE_NONE },

    [TG_RESULT_INSUFFICIENT_CLAIMS] = { 403, "insufficient_claims",
                                        "the token's claims do not satisfy "
                                        "this resource's rules",
                                        "insufficient claims",
                                        TG_CHALLENGE_NONE },

    [TG_RESULT_BAD_LOGIN] = { 400, "invalid_request",
                              "the login identifier cannot be read",
                              "unreadable login", TG_CHALLENGE_NONE }
};


const tg_result_t *
tg_result_get(tg_result_e result)
{
    if ((unsigned) result >= TG_RESULT_LAST) {
        result = TG_RESULT_INVALID_TOKEN;
    }

    return &tg_results[result];
}
