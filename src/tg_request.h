
/*
 * Copyright (C) tenant_guard authors
 */


#ifndef _TG_REQUEST_H_INCLUDED_
#define _TG_REQUEST_H_INCLUDED_


#include <stddef.h>


#define TG_BEARER_NONE       0
#define TG_BEARER_OK         1
#define TG_BEARER_MALFORMED  -1


/*
 * The credentials of an Authorization header value.  TG_BEARER_NONE: no
 * "Bearer " scheme (case-insensitive), or only spaces after it;
 * TG_BEARER_MALFORMED: the scheme, but the token is not a token68
 * (RFC 6750).  On OK and MALFORMED, *token and *token_len are the
 * credentials with the spaces around them trimmed.
 */
int tg_request_bearer(const unsigned char *value, size_t len,
    const unsigned char **token, size_t *token_len);

/*
 * 1 when the raw request path (the request target up to the first '?', or
 * len) cannot be read two ways: no %2F, %2E, %5C, %25 or %3B (any case), no
 * %0X or %1X, no truncated '%', no '\' or ';', no "//", no "/." or "/.."
 * segment; 0 otherwise.
 */
int tg_request_path_canonical(const unsigned char *uri, size_t len);

/*
 * 1 when a jti can serve as the token id in logs: 1 to 64 bytes, each
 * printable ASCII other than the space and '"'.
 */
int tg_request_token_id_ok(const unsigned char *jti, size_t len);


/*
 * A top-level string field of a JSON request body (a login's identifier),
 * copied into buf.  Returns 1, or 0 when the data is not such an object,
 * lacks the field, or the value is not a string of at most size bytes
 * without control characters.  Defined in tg_json.c, with jansson.
 */
int tg_json_field_string(const unsigned char *data, size_t len,
    const char *field, char *buf, size_t size, size_t *n);


#endif /* _TG_REQUEST_H_INCLUDED_ */
