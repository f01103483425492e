
/*
 * Copyright (C) tenant_guard authors
 */


#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "tg_admin.h"
#include "tg_b64.h"
#include "tg_json.h"


static int tg_admin_string(json_t *value, const char *name,
    unsigned char *buf, size_t size, size_t *len, char *err, size_t err_len);


int
tg_admin_revoke_parse(tg_admin_revoke_t *rv, const unsigned char *data,
    size_t len, char *err, size_t err_len)
{
    int          rc;
    json_t      *json, *value;
    const char  *key;

    memset(rv, 0, sizeof(tg_admin_revoke_t));

    json = tg_json_parse_object(data, len, TG_ADMIN_MAX_BODY, err, err_len);
    if (json == NULL) {
        return -1;
    }

    rc = 0;

    json_object_foreach(json, key, value) {
        if (strcmp(key, "jti") == 0) {
            rc = tg_admin_string(value, key, rv->jti, sizeof(rv->jti),
                                 &rv->jti_len, err, err_len);

        } else if (strcmp(key, "token") == 0) {
            rc = tg_admin_string(value, key, rv->token, sizeof(rv->token),
                                 &rv->token_len, err, err_len);

        } else if (strcmp(key, "workspace") == 0) {
            rc = tg_admin_string(value, key, rv->workspace,
                                 sizeof(rv->workspace), &rv->workspace_len,
                                 err, err_len);

        } else if (strcmp(key, "subject") == 0) {
            rc = tg_admin_string(value, key, rv->subject,
                                 sizeof(rv->subject), &rv->subject_len, err,
                                 err_len);

        } else {
            snprintf(err, err_len, "unknown field \"%.64s\"", key);
            rc = -1;
        }

        if (rc != 0) {
            break;
        }
    }

    json_decref(json);

    if (rc != 0) {
        return -1;
    }

    if (rv->jti_len && !rv->token_len && !rv->workspace_len
        && !rv->subject_len)
    {
        rv->what = TG_ADMIN_REVOKE_JTI;

    } else if (rv->token_len && !rv->jti_len && !rv->workspace_len
               && !rv->subject_len)
    {
        rv->what = TG_ADMIN_REVOKE_TOKEN;

    } else if (rv->workspace_len && !rv->jti_len && !rv->token_len) {
        rv->what = rv->subject_len ? TG_ADMIN_REVOKE_SUBJECT
                                   : TG_ADMIN_REVOKE_WORKSPACE;

    } else {
        snprintf(err, err_len, "give \"jti\", \"token\", \"workspace\", or "
                 "\"workspace\" and \"subject\"");
        return -1;
    }

    return 0;
}


static int
tg_admin_string(json_t *value, const char *name, unsigned char *buf,
    size_t size, size_t *len, char *err, size_t err_len)
{
    size_t       i, n;
    const char  *s;

    if (!json_is_string(value)) {
        snprintf(err, err_len, "\"%s\" is not a string", name);
        return -1;
    }

    s = json_string_value(value);
    n = json_string_length(value);

    if (n == 0 || n > size) {
        snprintf(err, err_len, "\"%s\" is empty or longer than %zu bytes",
                 name, size);
        return -1;
    }

    for (i = 0; i < n; i++) {
        if ((unsigned char) s[i] < 0x20 || s[i] == 0x7f) {
            snprintf(err, err_len, "\"%s\" has a control character", name);
            return -1;
        }
    }

    memcpy(buf, s, n);
    *len = n;

    return 0;
}


int
tg_admin_token_jti(const unsigned char *token, size_t len,
    unsigned char *jti, size_t size, size_t *jti_len, long long *exp)
{
    int                   rc;
    long                  n;
    char                  err[128];
    size_t                i, dot1, dot2;
    json_t               *json, *value;
    unsigned char        *payload;

    dot1 = 0;
    dot2 = 0;

    for (i = 0; i < len; i++) {
        if (token[i] == '.') {
            if (dot1 == 0) {
                dot1 = i;

            } else if (dot2 == 0) {
                dot2 = i;

            } else {
                return -1;
            }
        }
    }

    if (dot1 == 0 || dot2 == 0 || dot2 == dot1 + 1) {
        return -1;
    }

    payload = malloc(TG_B64URL_DECODED_LEN(dot2 - dot1 - 1));
    if (payload == NULL) {
        return -1;
    }

    n = tg_b64url_decode(payload, token + dot1 + 1, dot2 - dot1 - 1);

    json = (n > 0) ? tg_json_parse_object(payload, (size_t) n, (size_t) n,
                                          err, sizeof(err))
                   : NULL;

    free(payload);

    if (json == NULL) {
        return -1;
    }

    rc = -1;
    *exp = 0;

    /*
     * "exp" as the verifier reads it: an integer or a real (an issuer
     * writing time() + lifetime in floating point), within its bounds
     */

    value = json_object_get(json, "exp");

    if (json_is_integer(value) && json_integer_value(value) > 0
        && json_integer_value(value) < 1000000000000000LL)
    {
        *exp = (long long) json_integer_value(value);

    } else if (json_is_real(value) && isfinite(json_real_value(value))
               && json_real_value(value) > 0
               && json_real_value(value) < 1e15)
    {
        *exp = (long long) json_real_value(value);
    }

    value = json_object_get(json, "jti");

    if (json_is_string(value)
        && tg_admin_string(value, "jti", jti, size, jti_len, err,
                           sizeof(err))
           == 0)
    {
        rc = 0;
    }

    json_decref(json);

    return rc;
}
