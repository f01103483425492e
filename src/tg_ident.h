
/*
 * Copyright (C) tenant_guard authors
 */


#ifndef _TG_IDENT_H_INCLUDED_
#define _TG_IDENT_H_INCLUDED_


#include <stddef.h>


/*
 * Login identifiers: read from a request body (JSON or form-urlencoded)
 * and normalized so that the variants an IAM treats as one account are
 * counted as one.  Plain bytes in, caller-owned buffers out.
 */

#define TG_IDENT_OK          0
#define TG_IDENT_EMPTY      -1      /* nothing left after trimming */
#define TG_IDENT_BAD_UTF8   -2
#define TG_IDENT_CONTROL    -3      /* a control character (Cc) */
#define TG_IDENT_TOO_LONG   -4
#define TG_IDENT_NOMEM      -5

/* the longest field name compared with the body's keys, folded */
#define TG_IDENT_NAME_MAX   256


/*
 * Unicode NFKC case folding with default-ignorable code points dropped,
 * then surrounding white space (Zs, Zl, Zp) trimmed.  Invalid UTF-8
 * (surrogates, overlongs included) and control characters are refused,
 * never repaired.  Writes at most size bytes to out.  Returns TG_IDENT_OK
 * with the length in *n, or a TG_IDENT_* error.
 */
int tg_ident_normalize(const unsigned char *in, size_t len,
    unsigned char *out, size_t size, size_t *n);

/* a fixed phrase for a TG_IDENT_* error */
const char *tg_ident_error(int rc);

/*
 * A top-level field of a body.  Returns 1 with the value (raw bytes, not
 * normalized) in out, 0 when the body has no such field, -1 when the body
 * cannot be read (not the format, the field twice, also as another key
 * that folds to the same name, not a string, NUL or another control
 * character below 0x20, or a value over size bytes).
 */
int tg_ident_json_field(const unsigned char *body, size_t len,
    const char *name, unsigned char *out, size_t size, size_t *n);
int tg_ident_form_field(const unsigned char *body, size_t len,
    const char *name, unsigned char *out, size_t size, size_t *n);


#endif /* _TG_IDENT_H_INCLUDED_ */
