
/*
 * Copyright (C) tenant_guard authors
 */


#ifndef _TG_BINDPATH_H_INCLUDED_
#define _TG_BINDPATH_H_INCLUDED_


#include <stddef.h>


/* what a segment of a template is: a placeholder's kind, or literal text */
#define TG_BINDPATH_WORKSPACE     0
#define TG_BINDPATH_ORGANIZATION  1
#define TG_BINDPATH_INTEGRATION   2
#define TG_BINDPATH_CLAIM         3
#define TG_BINDPATH_LITERAL       4

#define TG_BINDPATH_MAX_SEGMENTS  32
#define TG_BINDPATH_MAX_LEN       1024


typedef struct {
    const unsigned char  *data;       /* the literal, or the claim's name */
    size_t                len;
    int                   kind;       /* TG_BINDPATH_* */
} tg_bindpath_segment_t;


/* a parsed template; its segments point into the text it was parsed from */
typedef struct {
    tg_bindpath_segment_t  segments[TG_BINDPATH_MAX_SEGMENTS];
    size_t                 nsegments;
    size_t                 nplaceholders;
} tg_bindpath_t;


/* a placeholder the path reaches, and the path's segment there */
typedef struct {
    const tg_bindpath_segment_t  *placeholder;
    const unsigned char          *value;
    size_t                        len;
} tg_bindpath_value_t;


/*
 * A path template such as "/workspaces/{workspace}/integrations/
 * {integration}": '/'-separated segments, each literal text or a whole
 * placeholder, "{workspace}", "{organization}", "{integration}" or
 * "{claim:NAME}".  Returns 1, or 0 with a reason in err: not starting
 * with '/', an empty, "." or ".." segment (one trailing '/' is allowed
 * and ignored), a brace that does not make a whole placeholder, an
 * unknown placeholder, an empty claim name or one with a byte other than
 * printable ASCII, a literal byte a canonical decoded path never holds
 * (a control character, a space, '%', '\', ';', '?', '#'), no
 * placeholder at all, more than TG_BINDPATH_MAX_SEGMENTS segments or
 * TG_BINDPATH_MAX_LEN bytes.  bp points into text, which must outlive it.
 */
int tg_bindpath_parse(tg_bindpath_t *bp, const unsigned char *text,
    size_t len, char *err, size_t size);

/*
 * Matches the decoded, normalized path (nginx's $uri) against bp: segment
 * by segment, literals compared ASCII case-insensitively, a placeholder
 * taking one non-empty segment as it is.  Matching stops at the first
 * literal that differs, at a placeholder whose segment is empty, or where
 * the path ends; the placeholders reached before that are stored in
 * values (at most n, in template order), and their number is returned.
 * 0: the template does not apply to this path.
 */
size_t tg_bindpath_match(const tg_bindpath_t *bp, const unsigned char *path,
    size_t len, tg_bindpath_value_t *values, size_t n);


#endif /* _TG_BINDPATH_H_INCLUDED_ */
