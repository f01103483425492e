
/*
 * Copyright (C) tenant_guard authors
 */


#ifndef _TG_B64_H_INCLUDED_
#define _TG_B64_H_INCLUDED_


#include <stddef.h>


/* the decoded size of n base64url characters, at most */
#define TG_B64URL_DECODED_LEN(n)  (((n) * 3) / 4 + 3)


/*
 * Strict base64url (RFC 4648, section 5) as JWS uses it (RFC 7515,
 * appendix C): no padding, no white space, no '+' or '/', and the unused
 * bits of the last character must be zero so that a token has exactly one
 * encoding.  Returns the decoded length, or -1.
 */
long tg_b64url_decode(unsigned char *dst, const unsigned char *src,
    size_t len);


#endif /* _TG_B64_H_INCLUDED_ */
