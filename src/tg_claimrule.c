
/*
 * Copyright (C) tenant_guard authors
 */


#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "tg_claimrule.h"
#include "tg_json.h"


#define TG_CLAIMRULE_MAX_PATH    255


static json_t *tg_claimrule_value(const unsigned char *v, size_t len,
    char *err, size_t err_len);
static int tg_claimrule_is_number(const unsigned char *v, size_t len);
static const json_t *tg_claimrule_find(const json_t *root,
    const unsigned char *path, size_t len);
static int tg_claimrule_is_scalar(const json_t *json);
static int tg_claimrule_equal(const json_t *a, const json_t *b);
static int tg_claimrule_int_real(json_int_t i, double d);
static int tg_claimrule_any(const json_t *claim, json_t *const *values,
    size_t n);


static const struct {
    const char         *name;
    tg_claimrule_op_e   op;
} tg_claimrule_ops[] = {
    { "eq", TG_CLAIMRULE_EQ },
    { "ne", TG_CLAIMRULE_NE },
    { "in", TG_CLAIMRULE_IN },
    { "nin", TG_CLAIMRULE_NIN },
    { "has", TG_CLAIMRULE_HAS }
};


int
tg_claimrule_op(const unsigned char *name, size_t len)
{
    size_t  i;

    for (i = 0; i < sizeof(tg_claimrule_ops) / sizeof(tg_claimrule_ops[0]);
         i++)
    {
        if (strlen(tg_claimrule_ops[i].name) == len
            && memcmp(tg_claimrule_ops[i].name, name, len) == 0)
        {
            return (int) tg_claimrule_ops[i].op;
        }
    }

    return -1;
}


int
tg_claimrule_op_single(tg_claimrule_op_e op)
{
    return op == TG_CLAIMRULE_EQ || op == TG_CLAIMRULE_NE;
}


int
tg_claimrule_path_ok(const unsigned char *path, size_t len, char *err,
    size_t err_len)
{
    size_t  i, segments, seg_len;

    if (len == 0 || len > TG_CLAIMRULE_MAX_PATH) {
        snprintf(err, err_len, "a claim path is 1 to %d bytes",
                 TG_CLAIMRULE_MAX_PATH);
        return 0;
    }

    segments = 1;
    seg_len = 0;

    for (i = 0; i < len; i++) {

        if (path[i] <= 0x20 || path[i] == 0x7f) {
            snprintf(err, err_len, "a claim path has no space or control "
                     "character");
            return 0;
        }

        if (path[i] != '.') {
            seg_len++;
            continue;
        }

        if (seg_len == 0) {
            snprintf(err, err_len, "a claim path has an empty segment");
            return 0;
        }

        seg_len = 0;
        segments++;
    }

    if (seg_len == 0) {
        snprintf(err, err_len, "a claim path has an empty segment");
        return 0;
    }

    if (segments > TG_CLAIMRULE_MAX_DEPTH) {
        snprintf(err, err_len, "a claim path has at most %d segments",
                 TG_CLAIMRULE_MAX_DEPTH);
        return 0;
    }

    return 1;
}


int
tg_claimrule_value_ok(const unsigned char *value, size_t len, char *err,
    size_t err_len)
{
    json_t  *json;

    json = tg_claimrule_value(value, len, err, err_len);
    if (json == NULL) {
        return 0;
    }

    json_decref(json);

    return 1;
}


tg_claimrule_doc_t *
tg_claimrule_doc(const unsigned char *json, size_t len)
{
    char  err[160];

    return (tg_claimrule_doc_t *) tg_json_parse_object(json, len, len, err,
                                                       sizeof(err));
}


void
tg_claimrule_doc_free(tg_claimrule_doc_t *doc)
{
    json_decref((json_t *) doc);
}


int
tg_claimrule_match(const tg_claimrule_doc_t *doc, const unsigned char *path,
    size_t path_len, tg_claimrule_op_e op, const unsigned char *const *values,
    const size_t *lens, size_t nvalues)
{
    int            rc;
    size_t         i, n;
    json_t        *v, *parsed[16], **vals;
    const json_t  *claim;
    char           err[160];

    if (doc == NULL || nvalues == 0) {
        return 0;
    }

    claim = tg_claimrule_find((const json_t *) doc, path, path_len);

    if (claim == NULL || json_is_null(claim) || json_is_object(claim)) {
        return 0;
    }

    if ((op == TG_CLAIMRULE_HAS) != (json_is_array(claim) != 0)) {
        return 0;
    }

    vals = (nvalues <= 16) ? parsed : calloc(nvalues, sizeof(json_t *));
    if (vals == NULL) {
        return 0;
    }

    n = 0;
    rc = -1;

    for (i = 0; i < nvalues; i++) {
        v = tg_claimrule_value(values[i], lens[i], err, sizeof(err));

        if (v == NULL) {

            /* a value nobody can read: never "different from" it */

            if (op == TG_CLAIMRULE_NE || op == TG_CLAIMRULE_NIN) {
                rc = 0;
                break;
            }

            continue;
        }

        vals[n++] = v;
    }

    if (rc == -1) {
        switch (op) {

        case TG_CLAIMRULE_EQ:
        case TG_CLAIMRULE_IN:
            rc = tg_claimrule_is_scalar(claim)
                 && tg_claimrule_any(claim, vals, n);
            break;

        case TG_CLAIMRULE_NE:
        case TG_CLAIMRULE_NIN:
            rc = tg_claimrule_is_scalar(claim)
                 && !tg_claimrule_any(claim, vals, n);
            break;

        case TG_CLAIMRULE_HAS:
            rc = 0;

            for (i = 0; i < json_array_size(claim); i++) {
                if (tg_claimrule_any(json_array_get(claim, i), vals, n)) {
                    rc = 1;
                    break;
                }
            }

            break;

        default:
            rc = 0;
        }
    }

    for (i = 0; i < n; i++) {
        json_decref(vals[i]);
    }

    if (vals != parsed) {
        free(vals);
    }

    return rc;
}


/*
 * A value as the header says: true, false, a JSON number, a JSON string
 * in quotes, else the text as a string.  A new reference, or NULL.
 */

static json_t *
tg_claimrule_value(const unsigned char *v, size_t len, char *err,
    size_t err_len)
{
    size_t         i;
    json_t        *json;
    json_error_t   error;

    if (len == 0) {
        snprintf(err, err_len, "an empty value never matches");
        return NULL;
    }

    if (len > TG_CLAIMRULE_MAX_VALUE) {
        snprintf(err, err_len, "a value is at most %d bytes",
                 TG_CLAIMRULE_MAX_VALUE);
        return NULL;
    }

    for (i = 0; i < len; i++) {
        if (v[i] < 0x20 || v[i] == 0x7f) {
            snprintf(err, err_len, "a value has no control character");
            return NULL;
        }
    }

    if (len == 4 && memcmp(v, "null", 4) == 0) {
        snprintf(err, err_len, "null never matches a claim");
        return NULL;
    }

    if (len == 4 && memcmp(v, "true", 4) == 0) {
        return json_true();
    }

    if (len == 5 && memcmp(v, "false", 5) == 0) {
        return json_false();
    }

    if (v[0] == '"' || tg_claimrule_is_number(v, len)) {
        json = json_loadb((const char *) v, len, JSON_DECODE_ANY, &error);

        if (json == NULL) {
            snprintf(err, err_len, "%s is not a JSON %s",
                     v[0] == '"' ? "a quoted value" : "a number",
                     v[0] == '"' ? "string" : "number in range");
            return NULL;
        }

        if (!json_is_string(json) && !json_is_number(json)) {
            json_decref(json);
            snprintf(err, err_len, "a quoted value is not a JSON string");
            return NULL;
        }

        return json;
    }

    json = json_stringn((const char *) v, len);
    if (json == NULL) {
        snprintf(err, err_len, "a value is not UTF-8");
        return NULL;
    }

    return json;
}


/* JSON's number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */

static int
tg_claimrule_is_number(const unsigned char *v, size_t len)
{
    size_t  i, start;

    i = 0;

    if (v[i] == '-') {
        i++;
    }

    if (i == len) {
        return 0;
    }

    if (v[i] == '0') {
        i++;

    } else if (v[i] >= '1' && v[i] <= '9') {
        while (i < len && v[i] >= '0' && v[i] <= '9') {
            i++;
        }

    } else {
        return 0;
    }

    if (i < len && v[i] == '.') {
        start = ++i;

        while (i < len && v[i] >= '0' && v[i] <= '9') {
            i++;
        }

        if (i == start) {
            return 0;
        }
    }

    if (i < len && (v[i] == 'e' || v[i] == 'E')) {
        i++;

        if (i < len && (v[i] == '+' || v[i] == '-')) {
            i++;
        }

        start = i;

        while (i < len && v[i] >= '0' && v[i] <= '9') {
            i++;
        }

        if (i == start) {
            return 0;
        }
    }

    return i == len;
}


/* each segment names a member of an object: anything else is absent */

static const json_t *
tg_claimrule_find(const json_t *root, const unsigned char *path, size_t len)
{
    size_t         i, start;
    const json_t  *json;
    char           key[TG_CLAIMRULE_MAX_PATH + 1];

    if (len == 0 || len > TG_CLAIMRULE_MAX_PATH) {
        return NULL;
    }

    json = root;
    start = 0;

    for (i = 0; i <= len; i++) {
        if (i < len && path[i] != '.') {
            continue;
        }

        if (!json_is_object(json) || i == start) {
            return NULL;
        }

        memcpy(key, path + start, i - start);
        key[i - start] = '\0';

        json = json_object_get(json, key);
        if (json == NULL) {
            return NULL;
        }

        start = i + 1;
    }

    return json;
}


static int
tg_claimrule_is_scalar(const json_t *json)
{
    return json_is_string(json) || json_is_number(json)
           || json_is_boolean(json);
}


static int
tg_claimrule_equal(const json_t *a, const json_t *b)
{
    if (json_is_string(a) && json_is_string(b)) {
        return json_string_length(a) == json_string_length(b)
               && memcmp(json_string_value(a), json_string_value(b),
                         json_string_length(a)) == 0;
    }

    if (json_is_integer(a) && json_is_integer(b)) {
        return json_integer_value(a) == json_integer_value(b);
    }

    if (json_is_real(a) && json_is_real(b)) {
        return json_real_value(a) == json_real_value(b);
    }

    if (json_is_integer(a) && json_is_real(b)) {
        return tg_claimrule_int_real(json_integer_value(a),
                                     json_real_value(b));
    }

    if (json_is_real(a) && json_is_integer(b)) {
        return tg_claimrule_int_real(json_integer_value(b),
                                     json_real_value(a));
    }

    if (json_is_boolean(a) && json_is_boolean(b)) {
        return json_is_true(a) == json_is_true(b);
    }

    return 0;
}


/* exact: 2^53 + 1 is not the real 2^53 */

static int
tg_claimrule_int_real(json_int_t i, double d)
{
    if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0)) {
        return 0;
    }

    if ((double) (json_int_t) d != d) {
        return 0;
    }

    return (json_int_t) d == i;
}


static int
tg_claimrule_any(const json_t *claim, json_t *const *values, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        if (tg_claimrule_equal(claim, values[i])) {
            return 1;
        }
    }

    return 0;
}
