
/*
 * Copyright (C) tenant_guard authors
 */


#ifndef _TG_JSON_H_INCLUDED_
#define _TG_JSON_H_INCLUDED_


#include <stddef.h>

#include <jansson.h>


#define TG_JSON_MAX_DEPTH  16


/*
 * Parses one JSON object of at most max_size bytes: duplicate keys, NUL
 * characters, trailing data and nesting deeper than TG_JSON_MAX_DEPTH are
 * refused.  Returns a new reference, or NULL with the reason in err.
 */
json_t *tg_json_parse_object(const unsigned char *data, size_t len,
    size_t max_size, char *err, size_t err_len);


/*
 * A top-level string field of a JSON object, copied into buf.  Returns 1,
 * or 0 when the data is not such an object, lacks the field, or the value
 * is not a string of at most size bytes without control characters.
 */
int tg_json_field_string(const unsigned char *data, size_t len,
    const char *field, char *buf, size_t size, size_t *n);


#endif /* _TG_JSON_H_INCLUDED_ */
