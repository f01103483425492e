
/*
 * Copyright (C) tenant_guard authors
 */


#include <stddef.h>

#include "tg_ban.h"


typedef struct {
    const tg_ban_level_t  *level;
    int                    id;
} tg_ban_rule_t;


static int tg_ban_rules(const tg_ban_settings_t *b, int address,
    tg_ban_rule_t *rules);
static int tg_ban_fail(tg_ban_state_t *s, const tg_ban_settings_t *b,
    int address, long long now);
static int tg_ban_level_on(const tg_ban_level_t *l);


/*
 * tg_ban_window_count() for counts shared by hosts through Redis, atomic
 * there: the hash KEYS[1] holds the window "w" and the count "c"; ARGV is
 * now and longest; it expires when the window closes.  t/104-ban-script.t
 * runs it against the C function step by step, so change both together.
 */

const char  tg_ban_count_script[] =
    "local now = tonumber(ARGV[1]) "
    "local longest = tonumber(ARGV[2]) "
    "local w = tonumber(redis.call('HGET', KEYS[1], 'w') or '0') "
    "local c = tonumber(redis.call('HGET', KEYS[1], 'c') or '0') "
    "if w == 0 or now - w > longest then w = now c = 0 end "
    "c = c + 1 "
    "redis.call('HSET', KEYS[1], 'w', w, 'c', c) "
    "redis.call('EXPIRE', KEYS[1], w + longest - now + 1) "
    "return {c, w}";


/*
 * The levels that apply, higher first: reaching the second level outranks
 * the first.  blockingForClientEnabled false: no identifier levels.
 */

static int
tg_ban_rules(const tg_ban_settings_t *b, int address, tg_ban_rule_t *rules)
{
    if (address) {
        rules[0].level = &b->permanent;
        rules[0].id = TG_BAN_PERMANENT;
        return 1;
    }

    if (!b->blocking) {
        return 0;
    }

    rules[0].level = &b->second;
    rules[0].id = TG_BAN_SECOND;
    rules[1].level = &b->first;
    rules[1].id = TG_BAN_FIRST;

    return 2;
}


long long
tg_ban_window(const tg_ban_settings_t *b, int address)
{
    int            i, n;
    long long      longest;
    tg_ban_rule_t  rules[2];

    n = tg_ban_rules(b, address, rules);
    longest = 0;

    for (i = 0; i < n; i++) {
        if (rules[i].level->threshold
            && rules[i].level->collecting > longest)
        {
            longest = rules[i].level->collecting;
        }
    }

    return longest;
}


/*
 * The highest level whose threshold the count has reached (">=": a count
 * that jumps past a threshold, as a count reconciled after a Redis fault
 * does, still bans), within that level's collecting time.
 */

int
tg_ban_reached(const tg_ban_settings_t *b, int address, long long count,
    long long window, long long now, long long *until)
{
    int                    i, n;
    tg_ban_rule_t          rules[2];
    const tg_ban_level_t  *l;

    n = tg_ban_rules(b, address, rules);

    for (i = 0; i < n; i++) {
        l = rules[i].level;

        if (l->threshold != 0 && count >= l->threshold
            && now - window <= l->collecting && l->duration > 0)
        {
            *until = now + l->duration;
            return rules[i].id;
        }
    }

    return TG_BAN_NONE;
}


int
tg_ban_fail_identifier(tg_ban_state_t *s, const tg_ban_settings_t *b,
    long long now)
{
    return tg_ban_fail(s, b, 0, now);
}


int
tg_ban_fail_address(tg_ban_state_t *s, const tg_ban_settings_t *b,
    long long now)
{
    return tg_ban_fail(s, b, 1, now);
}


static int
tg_ban_fail(tg_ban_state_t *s, const tg_ban_settings_t *b, int address,
    long long now)
{
    int        level;
    long long  longest, until, window;

    longest = tg_ban_window(b, address);

    if (longest == 0) {
        return TG_BAN_NONE;
    }

    window = s->window;

    (void) tg_ban_window_count(&s->window, &s->count, now, longest);

    /* a new window forgets the levels the last one applied */

    if (s->window != window) {
        s->level = TG_BAN_NONE;
    }

    level = tg_ban_reached(b, address, s->count, s->window, now, &until);

    /* counted here one by one: a level applies once per window */

    if (level <= s->level) {
        return TG_BAN_NONE;
    }

    if (level != TG_BAN_NONE) {
        s->until = until;
        s->level = level;
    }

    return level;
}


/* the window opens at the first failure and closes after the longest */

int
tg_ban_window_count(long long *window, long long *count, long long now,
    long long longest)
{
    if (*window == 0 || now - *window > longest) {
        *window = now;
        *count = 0;
    }

    (*count)++;

    return 0;
}


long long
tg_ban_retry_after(const tg_ban_state_t *s, long long now)
{
    return s->until > now ? s->until - now : 0;
}


long long
tg_ban_expires(const tg_ban_state_t *s, const tg_ban_settings_t *b,
    int address)
{
    long long  end;

    end = s->window + tg_ban_window(b, address);

    return s->until > end ? s->until : end;
}


static int
tg_ban_level_on(const tg_ban_level_t *l)
{
    return l->threshold > 0 && l->collecting > 0 && l->duration > 0;
}


void
tg_ban_stricter(const tg_ban_level_t *a, const tg_ban_level_t *b,
    tg_ban_level_t *out)
{
    tg_ban_level_t  l;

    if (!tg_ban_level_on(a)) {
        *out = *b;
        return;
    }

    if (!tg_ban_level_on(b)) {
        *out = *a;
        return;
    }

    l.threshold = a->threshold < b->threshold ? a->threshold : b->threshold;
    l.collecting = a->collecting > b->collecting ? a->collecting
                                                 : b->collecting;
    l.duration = a->duration > b->duration ? a->duration : b->duration;

    *out = l;
}


long long
tg_ban_lowest(const tg_ban_settings_t *b, int address)
{
    int            i, n;
    long long      lowest;
    tg_ban_rule_t  rules[2];

    n = tg_ban_rules(b, address, rules);
    lowest = 0;

    for (i = 0; i < n; i++) {
        if (tg_ban_level_on(rules[i].level)
            && (lowest == 0 || rules[i].level->threshold < lowest))
        {
            lowest = rules[i].level->threshold;
        }
    }

    return lowest;
}
