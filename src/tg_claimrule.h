
/*
 * Copyright (C) tenant_guard authors
 */


#ifndef _TG_CLAIMRULE_H_INCLUDED_
#define _TG_CLAIMRULE_H_INCLUDED_


#include <stddef.h>


/*
 * tenant_guard_require_claim NAME OP VALUE...: a rule on one claim, typed.
 *
 * A VALUE is read as a JSON scalar where it is one: true, false, a JSON
 * number, or a JSON string in double quotes ("123" is the string); any
 * other text is a string as it is.  null and an empty value never match.
 *
 * The claim is found by a dotted path into objects ("realm_access.roles");
 * a segment that is absent, or a path through anything but an object,
 * makes the claim absent.  Compared by type: a number never equals a
 * string, numbers equal when their values are equal (1 and 1.0).
 *
 *   eq V        the claim is a scalar equal to V
 *   ne V        the claim is a scalar not equal to V
 *   in V...     the claim is a scalar equal to one of the Vs
 *   nin V...    the claim is a scalar equal to none of the Vs
 *   has V...    the claim is an array with an element equal to one of
 *               the Vs
 *
 * A scalar is a string, a number or a boolean.  An absent or null claim,
 * an object, or an array where a scalar is asked for (and a scalar where
 * an array is asked for) satisfies no operator, "ne" and "nin" included:
 * a rule fails closed.
 */

typedef enum {
    TG_CLAIMRULE_EQ = 0,
    TG_CLAIMRULE_NE,
    TG_CLAIMRULE_IN,
    TG_CLAIMRULE_NIN,
    TG_CLAIMRULE_HAS
} tg_claimrule_op_e;


#define TG_CLAIMRULE_MAX_DEPTH   16      /* segments of a path */
#define TG_CLAIMRULE_MAX_VALUE   1024    /* bytes of one value */


/* the operator of its name, or -1 */
int tg_claimrule_op(const unsigned char *name, size_t len);

/* 1 when the operator takes exactly one value (eq, ne) */
int tg_claimrule_op_single(tg_claimrule_op_e op);

/*
 * 1 when path is a dotted path: 1 to TG_CLAIMRULE_MAX_DEPTH non-empty
 * segments of printable bytes (no space, no control, no '.' inside);
 * 0 with the reason in err.
 */
int tg_claimrule_path_ok(const unsigned char *path, size_t len, char *err,
    size_t err_len);

/*
 * How a value is read (see above): 1 when it can match a claim, 0 when it
 * never can (empty, null, a malformed quoted string, a control byte, bad
 * UTF-8, too long), with the reason in err.
 */
int tg_claimrule_value_ok(const unsigned char *value, size_t len, char *err,
    size_t err_len);

/* the claims of one token, read once for all its rules */
typedef struct tg_claimrule_doc_s  tg_claimrule_doc_t;

/*
 * The claims from a JSON object's text (as tg_jwt_claims_dump() writes
 * them), refused as tg_json_parse_object() refuses; NULL when unreadable.
 */
tg_claimrule_doc_t *tg_claimrule_doc(const unsigned char *json, size_t len);

/* NULL is allowed */
void tg_claimrule_doc_free(tg_claimrule_doc_t *doc);

/*
 * Whether the rule holds for the claims: 1 holds, 0 does not (absent
 * claim, wrong type, no claims, unreadable values).  path as
 * tg_claimrule_path_ok() accepts it; values[i] / lens[i] the rule's values
 * after evaluation.
 */
int tg_claimrule_match(const tg_claimrule_doc_t *doc,
    const unsigned char *path, size_t path_len, tg_claimrule_op_e op,
    const unsigned char *const *values, const size_t *lens, size_t nvalues);


#endif /* _TG_CLAIMRULE_H_INCLUDED_ */
