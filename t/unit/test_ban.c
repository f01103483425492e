
/*
 * Copyright (C) tenant_guard authors
 *
 * The three-level ban rules (tg_ban.c) as pure functions of a state, the
 * settings and the time.
 */


#include <string.h>

#include "tap.h"
#include "tg_ban.h"


TAP_GLOBALS;


#define T0  1700000000LL


/* first 3 in 60 s for 600 s, second 5 in 300 s for 3600 s, permanent 10 in
 * 3600 s for 86400 s */

static tg_ban_settings_t
settings(void)
{
    tg_ban_settings_t  b;

    memset(&b, 0, sizeof(b));

    b.blocking = 1;
    b.first.threshold = 3;
    b.first.collecting = 60;
    b.first.duration = 600;
    b.second.threshold = 5;
    b.second.collecting = 300;
    b.second.duration = 3600;
    b.permanent.threshold = 10;
    b.permanent.collecting = 3600;
    b.permanent.duration = 86400;

    return b;
}


/* n failures of an identifier, one a second from t; the last one's level */
static int
fail_n(tg_ban_state_t *s, const tg_ban_settings_t *b, int n, long long t,
    int *levels)
{
    int  i, level;

    level = TG_BAN_NONE;

    for (i = 0; i < n; i++) {
        level = tg_ban_fail_identifier(s, b, t + i);

        if (levels != NULL) {
            levels[i] = level;
        }
    }

    return level;
}


static void
test_thresholds(void)
{
    int                 levels[20], i, others;
    tg_ban_state_t      s;
    tg_ban_settings_t   b;

    b = settings();
    memset(&s, 0, sizeof(s));

    is_int(fail_n(&s, &b, 2, T0, NULL), TG_BAN_NONE,
           "threshold - 1 failures: no ban");
    is_int(s.count, 2, "two failures are counted");
    is_int(s.window, T0, "the window opened at the first failure");
    is_int(s.until, 0, "no ban end is set");

    is_int(tg_ban_fail_identifier(&s, &b, T0 + 2), TG_BAN_FIRST,
           "exactly the first threshold bans (first level)");
    is_int(s.until, T0 + 2 + 600, "the first ban lasts firstBanDuration");
    is_int(s.level, TG_BAN_FIRST, "the state records the first level");

    is_int(tg_ban_fail_identifier(&s, &b, T0 + 3), TG_BAN_NONE,
           "the 4th failure bans nothing new");
    is_int(s.until, T0 + 2 + 600, "and leaves the first ban as it was");

    is_int(tg_ban_fail_identifier(&s, &b, T0 + 4), TG_BAN_SECOND,
           "the 5th failure escalates to the second level");
    is_int(s.until, T0 + 4 + 3600, "the second ban lasts "
           "secondBanDuration");
    is_int(s.level, TG_BAN_SECOND, "the state records the second level");

    /* failures after the second level, in the same window: nothing again */

    others = 0;

    for (i = 0; i < 20; i++) {
        if (tg_ban_fail_identifier(&s, &b, T0 + 5 + i) != TG_BAN_NONE) {
            others++;
        }
    }

    is_int(others, 0, "a level applies once per window: 20 more failures "
           "ban nothing");
    is_int(s.level, TG_BAN_SECOND, "the level stays second");

    /* every failure's level, from a fresh state */

    memset(&s, 0, sizeof(s));
    fail_n(&s, &b, 12, T0, levels);

    ok(levels[0] == 0 && levels[1] == 0 && levels[2] == TG_BAN_FIRST
       && levels[3] == 0 && levels[4] == TG_BAN_SECOND && levels[5] == 0
       && levels[9] == 0 && levels[11] == 0,
       "12 failures: first at the 3rd, second at the 5th, nothing else");
}


static void
test_window(void)
{
    tg_ban_state_t      s;
    tg_ban_settings_t   b;

    b = settings();

    is_int(tg_ban_window(&b, 0), 300, "the identifier window is the longest "
           "collecting time (300)");
    is_int(tg_ban_window(&b, 1), 3600, "the address window is the "
           "permanent collecting time");

    /* the window lasts 300 s from the first failure, inclusive */

    memset(&s, 0, sizeof(s));
    tg_ban_fail_identifier(&s, &b, T0);
    tg_ban_fail_identifier(&s, &b, T0 + 300);
    is_int(s.count, 2, "a failure exactly at window end still counts in it");
    is_int(s.window, T0, "and keeps the window");

    tg_ban_fail_identifier(&s, &b, T0 + 301);
    is_int(s.count, 1, "a failure after the window opens a new one, "
           "counting from 1");
    is_int(s.window, T0 + 301, "the new window opens at that failure");

    /* a ban, then the window expires: the first level applies again */

    memset(&s, 0, sizeof(s));
    is_int(fail_n(&s, &b, 3, T0, NULL), TG_BAN_FIRST, "first ban in "
           "window 1");
    is_int(fail_n(&s, &b, 2, T0 + 1000, NULL), TG_BAN_NONE,
           "window expiry resets the count: 2 failures in window 2 ban "
           "nothing");
    is_int(tg_ban_fail_identifier(&s, &b, T0 + 1002), TG_BAN_FIRST,
           "the 3rd failure of window 2 bans at the first level again");
    is_int(s.window, T0 + 1000, "window 2 opened at its first failure");

    /* the first level's own collecting time (60 s) inside the window */

    memset(&s, 0, sizeof(s));
    tg_ban_fail_identifier(&s, &b, T0);
    tg_ban_fail_identifier(&s, &b, T0 + 30);
    is_int(tg_ban_fail_identifier(&s, &b, T0 + 60), TG_BAN_FIRST,
           "3 failures within exactly firstBanCollectingTime ban");

    memset(&s, 0, sizeof(s));
    tg_ban_fail_identifier(&s, &b, T0);
    tg_ban_fail_identifier(&s, &b, T0 + 30);
    is_int(tg_ban_fail_identifier(&s, &b, T0 + 61), TG_BAN_NONE,
           "3 failures spread over collecting time + 1 do not ban");
    tg_ban_fail_identifier(&s, &b, T0 + 62);
    is_int(tg_ban_fail_identifier(&s, &b, T0 + 63), TG_BAN_SECOND,
           "but the 5th within the second level's time bans (second)");
}


static void
test_blocking_off(void)
{
    int                 i, any;
    tg_ban_state_t      s;
    tg_ban_settings_t   b;

    b = settings();
    b.blocking = 0;

    is_int(tg_ban_window(&b, 0), 0, "blocking off: no identifier window");

    memset(&s, 0, sizeof(s));
    any = 0;

    for (i = 0; i < 50; i++) {
        any |= tg_ban_fail_identifier(&s, &b, T0 + i);
    }

    is_int(any, TG_BAN_NONE, "blocking off: 50 identifier failures ban "
           "nothing");
    is_int(s.count, 0, "and nothing is counted");

    memset(&s, 0, sizeof(s));

    for (i = 0; i < 9; i++) {
        any |= tg_ban_fail_address(&s, &b, T0 + i);
    }

    is_int(any, TG_BAN_NONE, "blocking off: 9 address failures, no ban");
    is_int(tg_ban_fail_address(&s, &b, T0 + 9), TG_BAN_PERMANENT,
           "blocking off: the address level still applies (10th)");
}


static void
test_address(void)
{
    int                 i, any;
    long long           until;
    tg_ban_state_t      s;
    tg_ban_settings_t   b;

    b = settings();
    memset(&s, 0, sizeof(s));
    any = 0;

    for (i = 0; i < 9; i++) {
        any |= tg_ban_fail_address(&s, &b, T0 + i * 100);
    }

    is_int(any, TG_BAN_NONE, "9 address failures in 800 s: no ban");
    is_int(tg_ban_fail_address(&s, &b, T0 + 3600), TG_BAN_PERMANENT,
           "the 10th at exactly the collecting time: permanent ban");
    is_int(s.until, T0 + 3600 + 86400, "it lasts permanentBanDuration");
    is_int(s.level, TG_BAN_PERMANENT, "the state records the permanent "
           "level");
    is_int(tg_ban_fail_address(&s, &b, T0 + 3600), TG_BAN_NONE,
           "the 11th bans nothing new");

    /* identifier levels never apply to addresses */

    is_int(tg_ban_reached(&b, 1, 3, T0, T0, &until), TG_BAN_NONE,
           "an address at the first threshold: no ban");
    is_int(tg_ban_reached(&b, 1, 5, T0, T0, &until), TG_BAN_NONE,
           "an address at the second threshold: no ban");
    is_int(tg_ban_reached(&b, 0, 10, T0, T0, &until), TG_BAN_SECOND,
           "an identifier at the permanent threshold: its own second "
           "level, never the permanent one");
}


static void
test_off_levels(void)
{
    int                 i, any;
    tg_ban_state_t      s;
    tg_ban_settings_t   b;

    /* duration 0: the level never bans */

    b = settings();
    b.first.duration = 0;
    memset(&s, 0, sizeof(s));

    is_int(fail_n(&s, &b, 3, T0, NULL), TG_BAN_NONE, "firstBanDuration 0: "
           "the 3rd failure bans nothing");
    is_int(tg_ban_fail_identifier(&s, &b, T0 + 3), TG_BAN_NONE, "the 4th "
           "neither");
    is_int(tg_ban_fail_identifier(&s, &b, T0 + 4), TG_BAN_SECOND,
           "the second level still applies");

    b = settings();
    b.permanent.duration = 0;
    memset(&s, 0, sizeof(s));
    any = 0;

    for (i = 0; i < 30; i++) {
        any |= tg_ban_fail_address(&s, &b, T0 + i);
    }

    is_int(any, TG_BAN_NONE, "permanentBanDuration 0: the address is never "
           "banned");

    /* threshold 0: the level is off and does not size the window */

    b = settings();
    b.second.threshold = 0;

    is_int(tg_ban_window(&b, 0), 60, "second threshold 0: the window is "
           "the first level's 60 s");

    memset(&s, 0, sizeof(s));
    is_int(fail_n(&s, &b, 3, T0, NULL), TG_BAN_FIRST, "the first level "
           "still bans");
    is_int(fail_n(&s, &b, 10, T0 + 3, NULL), TG_BAN_NONE, "no second ban");

    b = settings();
    b.first.threshold = 0;
    b.second.threshold = 0;

    is_int(tg_ban_window(&b, 0), 0, "both identifier thresholds 0: no "
           "window");

    b = settings();
    b.permanent.threshold = 0;

    is_int(tg_ban_window(&b, 1), 0, "permanent threshold 0: no address "
           "window");

    memset(&s, 0, sizeof(s));
    is_int(tg_ban_fail_address(&s, &b, T0), TG_BAN_NONE, "and an address "
           "failure is not counted");
    is_int(s.count, 0, "count stays 0");

    /* all zero (no "ban" in the policy) */

    memset(&b, 0, sizeof(b));
    memset(&s, 0, sizeof(s));
    any = 0;

    for (i = 0; i < 10; i++) {
        any |= tg_ban_fail_identifier(&s, &b, T0 + i);
        any |= tg_ban_fail_address(&s, &b, T0 + i);
    }

    is_int(any, TG_BAN_NONE, "zero settings never ban");
}


static void
test_reached(void)
{
    long long           until;
    tg_ban_settings_t   b;

    b = settings();

    until = -7;
    is_int(tg_ban_reached(&b, 0, 2, T0, T0, &until), TG_BAN_NONE,
           "reached: count 2 of 3 is no ban");
    is_int(until, -7, "until is left alone when nothing is reached");
    is_int(tg_ban_reached(&b, 0, 3, T0, T0 + 60, &until), TG_BAN_FIRST,
           "reached: count 3 at collecting time is the first level");
    is_int(until, T0 + 60 + 600, "until = now + firstBanDuration");
    is_int(tg_ban_reached(&b, 0, 3, T0, T0 + 61, &until), TG_BAN_NONE,
           "reached: count 3 after the collecting time is nothing");
    is_int(tg_ban_reached(&b, 0, 4, T0, T0, &until), TG_BAN_FIRST,
           "reached: count 4 (past the first threshold) is the first level");
    is_int(until, T0 + 600, "a count past the threshold bans from now");
    is_int(tg_ban_reached(&b, 0, 4, T0, T0 + 61, &until), TG_BAN_NONE,
           "reached: count 4 after the first collecting time is nothing");
    is_int(tg_ban_reached(&b, 0, 7, T0, T0 + 100, &until), TG_BAN_SECOND,
           "reached: a count that jumped from 4 to 7 (a reply lost in a "
           "fault) is the second level");
    is_int(tg_ban_reached(&b, 0, 7, T0, T0 + 301, &until), TG_BAN_NONE,
           "reached: count 7 after every collecting time is nothing");
    is_int(tg_ban_reached(&b, 1, 11, T0, T0 + 10, &until), TG_BAN_PERMANENT,
           "reached: an address's 11th (the 10th's reply lost) is "
           "permanent");
    is_int(tg_ban_reached(&b, 0, 5, T0, T0 + 300, &until), TG_BAN_SECOND,
           "reached: count 5 within 300 s is the second level");
    is_int(until, T0 + 300 + 3600, "until = now + secondBanDuration");
    is_int(tg_ban_reached(&b, 1, 10, T0, T0 + 10, &until), TG_BAN_PERMANENT,
           "reached: an address's 10th is permanent");
    is_int(until, T0 + 10 + 86400, "until = now + permanentBanDuration");

    /* equal thresholds: the second level outranks the first */

    b.second.threshold = 3;
    is_int(tg_ban_reached(&b, 0, 3, T0, T0, &until), TG_BAN_SECOND,
           "equal thresholds: the second level wins");

    b = settings();
    b.blocking = 0;
    is_int(tg_ban_reached(&b, 0, 3, T0, T0, &until), TG_BAN_NONE,
           "reached: blocking off, no identifier level");
}


static void
test_retry_expires(void)
{
    tg_ban_state_t      s;
    tg_ban_settings_t   b;

    b = settings();
    memset(&s, 0, sizeof(s));

    is_int(tg_ban_retry_after(&s, T0), 0, "no ban: retry after 0");

    s.until = T0 + 600;
    is_int(tg_ban_retry_after(&s, T0), 600, "retry after: the seconds left");
    is_int(tg_ban_retry_after(&s, T0 + 599), 1, "one second before the end: "
           "1");
    is_int(tg_ban_retry_after(&s, T0 + 600), 0, "at the end: 0");
    is_int(tg_ban_retry_after(&s, T0 + 700), 0, "after the end: 0");

    s.window = T0;
    s.until = 0;
    is_int(tg_ban_expires(&s, &b, 0), T0 + 300, "expires: no ban, the "
           "window's end");
    is_int(tg_ban_expires(&s, &b, 1), T0 + 3600, "expires: an address "
           "window's end");

    s.until = T0 + 3600;
    is_int(tg_ban_expires(&s, &b, 0), T0 + 3600, "expires: a ban past the "
           "window, the ban's end");

    s.until = T0 + 100;
    is_int(tg_ban_expires(&s, &b, 0), T0 + 300, "expires: a ban shorter "
           "than the window, the window's end");

    /* the state of a real sequence */

    memset(&s, 0, sizeof(s));
    fail_n(&s, &b, 5, T0, NULL);
    is_int(tg_ban_expires(&s, &b, 0), T0 + 4 + 3600, "after a second ban: "
           "kept until the ban ends");
    is_int(tg_ban_retry_after(&s, T0 + 4), 3600, "retry after the second "
           "ban: its whole duration");
}


/* the window step alone: what t/104-ban-script.t holds the script to */

static void
test_window_count(void)
{
    int                 same, i;
    long long           w, c;
    tg_ban_state_t      s;
    tg_ban_settings_t   b;

    w = 0;
    c = 0;

    is_int(tg_ban_window_count(&w, &c, T0, 60), 0, "window_count returns 0");
    ok(w == T0 && c == 1, "window_count: the first failure opens a window");

    tg_ban_window_count(&w, &c, T0 + 60, 60);
    ok(w == T0 && c == 2, "window_count: now - window == longest counts in "
       "the window");

    tg_ban_window_count(&w, &c, T0 + 61, 60);
    ok(w == T0 + 61 && c == 1, "window_count: one second more opens a new "
       "window");

    tg_ban_window_count(&w, &c, T0 - 1000, 60);
    ok(w == T0 + 61 && c == 2, "window_count: now going backwards counts in "
       "the open window");

    tg_ban_window_count(&w, &c, T0 + 62, 0);
    ok(w == T0 + 62 && c == 1, "window_count: longest 0 closes a window "
       "after a second");

    tg_ban_window_count(&w, &c, T0 + 62, 0);
    ok(w == T0 + 62 && c == 2, "window_count: longest 0, the same second");

    w = 0;
    c = 7;
    tg_ban_window_count(&w, &c, 0, 60);
    ok(w == 0 && c == 1, "window_count: no window: the count starts again");
    tg_ban_window_count(&w, &c, 0, 60);
    ok(w == 0 && c == 1, "window_count: a window at 0 is no window");

    /* tg_ban_fail_identifier() keeps its window by this step */

    b = settings();
    memset(&s, 0, sizeof(s));
    w = 0;
    c = 0;
    same = 1;

    for (i = 0; i < 200; i++) {
        (void) tg_ban_fail_identifier(&s, &b, T0 + i * 7);
        tg_ban_window_count(&w, &c, T0 + i * 7, tg_ban_window(&b, 0));
        same = same && s.window == w && s.count == c;
    }

    ok(same, "window_count: 200 failures keep the window and count the "
       "identifier state keeps");
}


/* a workspace's address level never weakens the default's */

static void
test_stricter(void)
{
    tg_ban_level_t  a, b, off, out;

    a.threshold = 50; a.collecting = 3600; a.duration = 86400;
    b.threshold = 10; b.collecting = 60; b.duration = 600;
    off.threshold = 0; off.collecting = 0; off.duration = 0;

    tg_ban_stricter(&a, &b, &out);
    is_int(out.threshold, 10, "stricter: the lower threshold");
    is_int(out.collecting, 3600, "stricter: the longer collecting time");
    is_int(out.duration, 86400, "stricter: the longer duration");

    tg_ban_stricter(&off, &a, &out);
    is_int(out.threshold, 50, "stricter: an off level yields (first)");
    tg_ban_stricter(&a, &off, &out);
    is_int(out.threshold, 50, "stricter: an off level yields (second)");

    b.duration = 0;
    tg_ban_stricter(&a, &b, &out);
    is_int(out.threshold, 50, "stricter: no duration is off");
    is_int(out.duration, 86400, "stricter: no duration is off, duration");

    tg_ban_stricter(&off, &off, &out);
    is_int(out.threshold, 0, "stricter: both off stays off");
}


static void
test_lowest(void)
{
    tg_ban_settings_t  b;

    memset(&b, 0, sizeof(b));
    b.blocking = 1;
    b.first.threshold = 5; b.first.collecting = 60; b.first.duration = 60;
    b.second.threshold = 3; b.second.collecting = 60; b.second.duration = 60;
    b.permanent.threshold = 50; b.permanent.collecting = 60;
    b.permanent.duration = 60;

    is_int(tg_ban_lowest(&b, 0), 3, "lowest: the lower of the two levels");
    is_int(tg_ban_lowest(&b, 1), 50, "lowest: the address's level");

    b.second.duration = 0;
    is_int(tg_ban_lowest(&b, 0), 5, "lowest: a level off does not count");

    b.blocking = 0;
    is_int(tg_ban_lowest(&b, 0), 0, "lowest: blocking off, none");
}


int
main(void)
{
    test_thresholds();
    test_window();
    test_blocking_off();
    test_address();
    test_off_levels();
    test_reached();
    test_retry_expires();
    test_window_count();
    test_stricter();
    test_lowest();

    return tap_done();
}
