
/*
 * Copyright (C) tenant_guard authors
 *
 * tg_bindpath.c: path templates of tenant_guard_bind_path, what the
 * parser refuses, and which placeholders a normalized path reaches.
 * Templates and paths are exact-size heap copies, so that ASan sees a
 * read past their length.
 */


#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "tt.h"
#include "tg_bindpath.h"


TAP_GLOBALS;


static int
parse(tg_bindpath_t *bp, const char *text, char *err)
{
    err[0] = '\0';

    return tg_bindpath_parse(bp, tt_exact(text, strlen(text)), strlen(text),
                             err, 160);
}


/*
 * The placeholders a path reaches as "kind=value,...", kind being w, o,
 * i or c:NAME; "" when the template does not apply.
 */
static const char *
match(const char *template, const char *path)
{
    char                         err[160], *out, *p;
    size_t                       i, n;
    tg_bindpath_t                bp;
    tg_bindpath_value_t          values[TG_BINDPATH_MAX_SEGMENTS];
    const tg_bindpath_segment_t *s;

    if (!parse(&bp, template, err)) {
        return "<parse failed>";
    }

    n = tg_bindpath_match(&bp, tt_exact(path, strlen(path)), strlen(path),
                          values, TG_BINDPATH_MAX_SEGMENTS);

    out = tt_keep(malloc(4096));
    if (out == NULL) {
        abort();
    }

    p = out;
    *p = '\0';

    for (i = 0; i < n; i++) {
        s = values[i].placeholder;

        if (i) {
            *p++ = ',';
        }

        switch (s->kind) {
        case TG_BINDPATH_WORKSPACE:
            *p++ = 'w';
            break;
        case TG_BINDPATH_ORGANIZATION:
            *p++ = 'o';
            break;
        case TG_BINDPATH_INTEGRATION:
            *p++ = 'i';
            break;
        default:
            *p++ = 'c';
            *p++ = ':';
            memcpy(p, s->data, s->len);
            p += s->len;
        }

        *p++ = '=';
        memcpy(p, values[i].value, values[i].len);
        p += values[i].len;
        *p = '\0';
    }

    return out;
}


static void
test_parse_ok(void)
{
    char           err[160];
    tg_bindpath_t  bp;

    ok(parse(&bp, "/workspaces/{workspace}", err), "parse: one placeholder");
    is_int(bp.nsegments, 2, "parse: two segments");
    is_int(bp.nplaceholders, 1, "parse: one placeholder counted");
    is_int(bp.segments[0].kind, TG_BINDPATH_LITERAL, "parse: a literal");
    is_int(bp.segments[1].kind, TG_BINDPATH_WORKSPACE,
           "parse: then {workspace}");

    ok(parse(&bp, "/workspaces/{workspace}/integrations/{integration}", err),
       "parse: two placeholders");
    is_int(bp.nplaceholders, 2, "parse: both counted");
    is_int(bp.segments[3].kind, TG_BINDPATH_INTEGRATION,
           "parse: {integration}");

    ok(parse(&bp, "/orgs/{organization}/", err),
       "parse: one trailing '/' is ignored");
    is_int(bp.nsegments, 2, "parse: no trailing empty segment");
    is_int(bp.segments[1].kind, TG_BINDPATH_ORGANIZATION,
           "parse: {organization}");

    ok(parse(&bp, "/msp/{claim:provider_id}/x", err), "parse: a claim");
    is_int(bp.segments[1].kind, TG_BINDPATH_CLAIM, "parse: kind claim");
    ok(bp.segments[1].len == 11
       && memcmp(bp.segments[1].data, "provider_id", 11) == 0,
       "parse: the claim's name");

    ok(parse(&bp, "/{workspace}", err), "parse: a placeholder first");
    ok(parse(&bp, "/{claim:a:b.c}", err), "parse: ':' and '.' in a name");
    ok(parse(&bp, "/v1.2/x-y_z~/{workspace}", err),
       "parse: ordinary literal bytes");
}


static void
test_parse_refused(void)
{
    size_t          i;
    char            err[160];
    tg_bindpath_t   bp;
    char           *big;
    struct {
        const char  *text;
        const char  *why;
    } bad[] = {
        { "", "start with" },
        { "workspaces/{workspace}", "start with" },
        { "{workspace}", "start with" },
        { "/", "empty segment" },
        { "//", "empty segment" },
        { "/a//{workspace}", "empty segment" },
        { "/{workspace}//", "empty segment" },
        { "/workspaces", "no placeholder" },
        { "/workspaces/", "no placeholder" },
        { "/{workspace", "unbalanced" },
        { "/workspace}", "unbalanced" },
        { "/{", "unbalanced" },
        { "/}", "unbalanced" },
        { "/{}", "unknown placeholder" },
        { "/{tenant}", "unknown placeholder" },
        { "/{Workspace}", "unknown placeholder" },
        { "/{ workspace}", "unknown placeholder" },
        { "/{claim}", "unknown placeholder" },
        { "/{claim:}", "empty NAME" },
        { "/{claim:a b}", "printable" },
        { "/{claim:a\x01}", "printable" },
        { "/{{workspace}}", "whole segment" },
        { "/{workspace}{integration}", "whole segment" },
        { "/ws-{workspace}", "whole segment" },
        { "/a{b/{workspace}", "unbalanced" },
        { "/./{workspace}", "\"..\"" },
        { "/../{workspace}", "\"..\"" },
        { "/a%2F/{workspace}", "'%'" },
        { "/a;b/{workspace}", "'%'" },
        { "/a\\b/{workspace}", "'%'" },
        { "/a?b/{workspace}", "'%'" },
        { "/a#/{workspace}", "'%'" },
        { "/a b/{workspace}", "control" },
        { "/a\tb/{workspace}", "control" },
        { "/a\x7f/{workspace}", "control" },
    };

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        is_int(parse(&bp, bad[i].text, err), 0, "refused: \"%s\"",
               bad[i].text);
        like(err, bad[i].why, "refused: \"%s\": %s", bad[i].text,
             bad[i].why);
    }

    /* 33 segments; a NUL inside; the length limit */

    big = tt_printf("%s{workspace}",
                    "/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/"
                    "a/a/a/a/a/a/");
    is_int(parse(&bp, big, err), 0, "refused: 33 segments");
    like(err, "more than 32", "refused: 33 segments: the reason");

    ok(parse(&bp, tt_printf("/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/"
                            "a/a/a/a/a/a/a/a/{workspace}"), err),
       "parse: 32 segments");

    is_int(tg_bindpath_parse(&bp, tt_exact("/a\0b/{workspace}", 15), 15, err,
                             sizeof(err)), 0, "refused: a NUL byte");

    big = tt_keep(malloc(1100));
    if (big == NULL) {
        abort();
    }

    memset(big, 'a', 1100);
    big[0] = '/';
    memcpy(big + 1, "{workspace}/", 12);

    is_int(tg_bindpath_parse(&bp, tt_exact(big, 1025), 1025, err, sizeof(err)),
           0, "refused: 1025 bytes");
    like(err, "longer than 1024", "refused: 1025 bytes: the reason");
    is_int(tg_bindpath_parse(&bp, tt_exact(big, 1024), 1024, err, sizeof(err)),
           1, "parse: 1024 bytes");

    /* an error buffer of one byte, or none */

    is_int(tg_bindpath_parse(&bp, tt_exact("x", 1), 1, err, 1), 0,
           "refused with a 1-byte error buffer");
    is_int(err[0], 0, "the 1-byte error buffer holds its NUL");
    is_int(tg_bindpath_parse(&bp, tt_exact("x", 1), 1, NULL, 0), 0,
           "refused with no error buffer");
}


static void
test_match_applies(void)
{
    const char  *t = "/workspaces/{workspace}";

    is_str(match(t, "/workspaces/ws2"), "w=ws2",
           "match: no trailing slash");
    is_str(match(t, "/workspaces/ws2/"), "w=ws2", "match: a trailing slash");
    is_str(match(t, "/workspaces/ws2/x/y"), "w=ws2", "match: deeper");
    is_str(match(t, "/Workspaces/ws2/"), "w=ws2", "match: literal case");
    is_str(match(t, "/WORKSPACES/ws2/x"), "w=ws2", "match: upper case");
    is_str(match(t, "/workSPACES/WS2"), "w=WS2",
           "match: the id as it is, case kept");
    is_str(match(t, "/workspaces/ws%2"), "w=ws%2",
           "match: the value's bytes as they are");

    is_str(match("/workspaces/{workspace}/", "/workspaces/ws2"), "w=ws2",
           "match: a template's trailing '/' changes nothing");
}


static void
test_match_not(void)
{
    const char  *t = "/workspaces/{workspace}";

    is_str(match(t, "/workspaces"), "", "no match: no id segment");
    is_str(match(t, "/workspaces/"), "", "no match: an empty id segment");
    is_str(match(t, "/workspaces//ws2"), "",
           "no match: an empty id segment, then more");
    is_str(match(t, "/workspace/ws2"), "", "no match: another literal");
    is_str(match(t, "/workspacesx/ws2"), "", "no match: a longer literal");
    is_str(match(t, "/x/workspaces/ws2"), "", "no match: not a prefix");
    is_str(match(t, "/"), "", "no match: /");
    is_str(match(t, ""), "", "no match: empty path");
    is_str(match(t, "workspaces/ws2"), "", "no match: no leading '/'");
    is_str(match(t, "//workspaces/ws2"), "", "no match: '//' first");
    is_str(match("/a\xc3\xa9/{workspace}", "/A\xc3\x89/ws1"), "",
           "no match: only ASCII letters fold");
    is_str(match("/a\xc3\xa9/{workspace}", "/A\xc3\xa9/ws1"), "w=ws1",
           "match: other bytes compared exactly");
}


static void
test_match_several(void)
{
    const char  *t = "/workspaces/{workspace}/integrations/{integration}";

    is_str(match(t, "/workspaces/ws1/integrations/int2/x"), "w=ws1,i=int2",
           "several: both reached");
    is_str(match(t, "/workspaces/ws1/integrations/int2"), "w=ws1,i=int2",
           "several: both, no trailing slash");
    is_str(match(t, "/Workspaces/ws1/INTEGRATIONS/int2"), "w=ws1,i=int2",
           "several: both, any case");
    is_str(match(t, "/workspaces/ws1/integrations/"), "w=ws1",
           "several: the second's segment empty");
    is_str(match(t, "/workspaces/ws1/integrations"), "w=ws1",
           "several: the path ends before the second");
    is_str(match(t, "/workspaces/ws1/settings/int2"), "w=ws1",
           "several: a literal differs before the second");
    is_str(match(t, "/workspaces/ws1"), "w=ws1",
           "several: only the first");

    is_str(match("/{organization}/{workspace}/{claim:provider_id}",
                 "/o1/w1/p1/z"), "o=o1,w=w1,c:provider_id=p1",
           "several: placeholders only");
    is_str(match("/a/{workspace}/b/{workspace}", "/a/w1/B/w2"),
           "w=w1,w=w2", "several: one kind twice");
}


static void
test_match_limit(void)
{
    char                 err[160];
    size_t               n;
    tg_bindpath_t        bp;
    tg_bindpath_value_t  values[2];

    ok(parse(&bp, "/{workspace}/{organization}/{integration}", err),
       "limit: parsed");

    n = tg_bindpath_match(&bp, tt_exact("/a/b/c", 6), 6, values, 2);
    is_int(n, 2, "limit: at most n values");

    n = tg_bindpath_match(&bp, tt_exact("/a/b/c", 6), 6, values, 0);
    is_int(n, 0, "limit: none for n 0");
}


int
main(void)
{
    test_parse_ok();
    test_parse_refused();
    test_match_applies();
    test_match_not();
    test_match_several();
    test_match_limit();

    tt_free_all();
    return tap_done();
}
