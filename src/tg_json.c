
/*
 * Copyright (C) tenant_guard authors
 */


#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "tg_json.h"
#include "tg_request.h"


static int tg_json_depth_ok(json_t *json, int depth);


json_t *
tg_json_parse_object(const unsigned char *data, size_t len, size_t max_size,
    char *err, size_t err_len)
{
    json_t        *json;
    json_error_t   error;

    if (len > max_size) {
        snprintf(err, err_len, "JSON is larger than %zu bytes", max_size);
        return NULL;
    }

    json = json_loadb((const char *) data, len, JSON_REJECT_DUPLICATES,
                      &error);
    if (json == NULL) {
        snprintf(err, err_len, "invalid JSON: %s at offset %d",
                 error.text, error.position);
        return NULL;
    }

    if (!json_is_object(json)) {
        json_decref(json);
        snprintf(err, err_len, "JSON is not an object");
        return NULL;
    }

    if (!tg_json_depth_ok(json, 1)) {
        json_decref(json);
        snprintf(err, err_len, "JSON is nested deeper than %d levels",
                 TG_JSON_MAX_DEPTH);
        return NULL;
    }

    return json;
}


int
tg_json_field_string(const unsigned char *data, size_t len,
    const char *field, char *buf, size_t size, size_t *n)
{
    size_t       i, l;
    json_t      *json, *value;
    const char  *s;
    char         err[128];

    json = tg_json_parse_object(data, len, len, err, sizeof(err));
    if (json == NULL) {
        return 0;
    }

    value = json_object_get(json, field);

    if (!json_is_string(value) || json_string_length(value) > size) {
        json_decref(json);
        return 0;
    }

    s = json_string_value(value);
    l = json_string_length(value);

    for (i = 0; i < l; i++) {
        if ((unsigned char) s[i] < 0x20) {
            json_decref(json);
            return 0;
        }
    }

    memcpy(buf, s, l);
    *n = l;

    json_decref(json);
    return 1;
}


static int
tg_json_depth_ok(json_t *json, int depth)
{
    size_t       i;
    json_t      *value;
    const char  *key;

    if (depth > TG_JSON_MAX_DEPTH) {
        return 0;
    }

    if (json_is_object(json)) {
        json_object_foreach(json, key, value) {
            if (!tg_json_depth_ok(value, depth + 1)) {
                return 0;
            }
        }

    } else if (json_is_array(json)) {
        json_array_foreach(json, i, value) {
            if (!tg_json_depth_ok(value, depth + 1)) {
                return 0;
            }
        }
    }

    return 1;
}
