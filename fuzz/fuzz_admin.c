
/*
 * Copyright (C) tenant_guard authors
 *
 * fuzz_admin: the input is an admin API request body for
 * tg_admin_revoke_parse(), and a token for tg_admin_token_jti().
 */


#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fx.h"
#include "tg_admin.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                 rc;
    size_t              i, n;
    long long           exp;
    tg_admin_revoke_t  *rv;
    unsigned char       jti[16];
    char                err[256];

    rv = malloc(sizeof(tg_admin_revoke_t));
    FX_CHECK(rv != NULL);

    err[0] = '\0';
    rc = tg_admin_revoke_parse(rv, data, size, err, sizeof(err));
    FX_CHECK(rc == 0 || rc == -1);

    if (rc == 0) {
        FX_CHECK(rv->what >= TG_ADMIN_REVOKE_JTI
                 && rv->what <= TG_ADMIN_REVOKE_WORKSPACE);
        FX_CHECK(rv->jti_len <= sizeof(rv->jti)
                 && rv->workspace_len <= sizeof(rv->workspace)
                 && rv->subject_len <= sizeof(rv->subject)
                 && rv->token_len <= sizeof(rv->token));

        for (i = 0; i < rv->workspace_len; i++) {
            FX_CHECK(rv->workspace[i] >= 0x20);
        }

        FX_CHECK(rv->what != TG_ADMIN_REVOKE_SUBJECT || rv->subject_len);

    } else {
        FX_CHECK(err[0] != '\0');
    }

    free(rv);

    /* a small jti buffer: a longer jti is refused, never overrun */

    n = (size_t) -1;
    rc = tg_admin_token_jti(data, size, jti, sizeof(jti), &n, &exp);
    FX_CHECK(rc == 0 || rc == -1);
    FX_CHECK(rc != 0 || (n > 0 && n <= sizeof(jti)));

    return 0;
}
