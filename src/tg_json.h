
/*
 * Copyright (C) tenant_guard authors
 */


#ifndef _TG_JSON_H_INCLUDED_
#define _TG_JSON_H_INCLUDED_


#include <stddef.h>

#include <jansson.h>


/*
 * The engine's own header for jansson: the glue never includes it.
 * tg_json_field_string(), which takes and returns plain bytes, is declared
 * in tg_request.h for the glue.
 */

#define TG_JSON_MAX_DEPTH  16


/*
 * Parses one JSON object of at most max_size bytes: duplicate keys, NUL
 * characters, trailing data and nesting deeper than TG_JSON_MAX_DEPTH are
 * refused.  Returns a new reference, or NULL with the reason in err.
 */
json_t *tg_json_parse_object(const unsigned char *data, size_t len,
    size_t max_size, char *err, size_t err_len);


#endif /* _TG_JSON_H_INCLUDED_ */
