
/*
 * Copyright (C) tenant_guard authors
 */


#ifndef _TG_BAN_H_INCLUDED_
#define _TG_BAN_H_INCLUDED_


#include "tg_policy.h"


#define TG_BAN_NONE       0
#define TG_BAN_FIRST      1
#define TG_BAN_SECOND     2
#define TG_BAN_PERMANENT  3


/*
 * The failures of one login identifier in a workspace (first and second
 * level) or of one client address (permanent level): a window that opens
 * at the first failure, the failures counted in it, and the ban, if any.
 */
typedef struct {
    long long    window;       /* when the window opened; 0: none */
    long long    count;
    long long    until;        /* banned before this time */
    int          level;        /* of the ban in force, or the last one */
} tg_ban_state_t;


/*
 * Counts a failure at now and applies the level whose threshold this
 * failure reaches inside that level's collecting time.  A level applies
 * once per window, when its threshold is reached, so failures after a
 * first ban lead to the second one, not to the first again.  Returns the
 * level banned now, or TG_BAN_NONE.
 */
int tg_ban_fail_identifier(tg_ban_state_t *s, const tg_ban_settings_t *b,
    long long now);
int tg_ban_fail_address(tg_ban_state_t *s, const tg_ban_settings_t *b,
    long long now);

/*
 * The same rule for counts kept elsewhere (Redis): the window's length
 * (0: nothing is counted), and the highest level whose threshold the
 * count has reached (count >= threshold) within its collecting time of a
 * window opened at "window", with the ban's end (now + duration) in
 * *until.  A count that skipped a threshold (a reply lost in a fault)
 * still bans; the caller keeps a level from applying twice.
 */
long long tg_ban_window(const tg_ban_settings_t *b, int address);
int tg_ban_reached(const tg_ban_settings_t *b, int address, long long count,
    long long window, long long now, long long *until);

/*
 * The window both counters share: a failure at now opens a window when none
 * is open (*window 0) or the open one is more than longest seconds old,
 * then is counted in it.  Returns 0.
 */
int tg_ban_window_count(long long *window, long long *count, long long now,
    long long longest);

/*
 * The same step as a Lua script, for counts kept in Redis:
 *
 *     EVAL tg_ban_count_script 1 KEY now longest  ->  {count, window}
 *
 * KEY is a hash ("w": the window, "c": the count) that expires when its
 * window closes.  A C string: its length is strlen(), not sizeof.
 */
extern const char  tg_ban_count_script[];

/*
 * The stricter of two levels: a level that is off (no threshold, no
 * collecting time or no duration) yields to the other; of two that are
 * on, the lower threshold, the longer collecting time and the longer
 * duration.  A client-chosen workspace thus never weakens the default.
 */
void tg_ban_stricter(const tg_ban_level_t *a, const tg_ban_level_t *b,
    tg_ban_level_t *out);

/*
 * The lowest threshold of the levels in use for an identifier or an
 * address, 0 when none is: how many attempts may be in flight at once
 * before any of them could have banned.
 */
long long tg_ban_lowest(const tg_ban_settings_t *b, int address);

/* seconds left of a ban in force (rounded up), or 0 */
long long tg_ban_retry_after(const tg_ban_state_t *s, long long now);

/* how long a state must be kept: its ban, or its window, whichever is later */
long long tg_ban_expires(const tg_ban_state_t *s, const tg_ban_settings_t *b,
    int address);


#endif /* _TG_BAN_H_INCLUDED_ */
