
/*
 * Copyright (C) tenant_guard authors
 */


#include <stddef.h>

#include "tg_ban.h"


static int tg_ban_fail(tg_ban_state_t *s, const tg_ban_level_t **levels,
    const int *ids, int n, long long now);
static int tg_ban_reaches(const tg_ban_level_t *l, const tg_ban_state_t *s,
    long long now);


int
tg_ban_fail_identifier(tg_ban_state_t *s, const tg_ban_settings_t *b,
    long long now)
{
    const tg_ban_level_t  *levels[2];
    static const int       ids[2] = { TG_BAN_SECOND, TG_BAN_FIRST };

    levels[0] = &b->second;
    levels[1] = &b->first;

    /* blockingForClientEnabled false: no identifier bans, nothing counted */

    return tg_ban_fail(s, levels, ids, b->blocking ? 2 : 0, now);
}


int
tg_ban_fail_address(tg_ban_state_t *s, const tg_ban_settings_t *b,
    long long now)
{
    const tg_ban_level_t  *levels[1];
    static const int       ids[1] = { TG_BAN_PERMANENT };

    levels[0] = &b->permanent;

    return tg_ban_fail(s, levels, ids, 1, now);
}


static int
tg_ban_fail(tg_ban_state_t *s, const tg_ban_level_t **levels,
    const int *ids, int n, long long now)
{
    int        i;
    long long  longest;

    longest = 0;

    for (i = 0; i < n; i++) {
        if (levels[i]->threshold && levels[i]->collecting > longest) {
            longest = levels[i]->collecting;
        }
    }

    if (longest == 0) {
        return TG_BAN_NONE;
    }

    /* the window opens at the first failure and closes after the longest */

    if (s->window == 0 || now - s->window > longest) {
        s->window = now;
        s->count = 0;
    }

    s->count++;

    /* the higher level first: reaching it outranks the lower one */

    for (i = 0; i < n; i++) {
        if (tg_ban_reaches(levels[i], s, now)) {
            s->until = now + levels[i]->duration;
            s->level = ids[i];
            return ids[i];
        }
    }

    return TG_BAN_NONE;
}


static int
tg_ban_reaches(const tg_ban_level_t *l, const tg_ban_state_t *s,
    long long now)
{
    return l->threshold != 0
           && s->count == l->threshold
           && now - s->window <= l->collecting
           && l->duration > 0;
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

    if (address) {
        end = s->window + b->permanent.collecting;

    } else {
        end = s->window + (b->first.collecting > b->second.collecting
                           ? b->first.collecting : b->second.collecting);
    }

    return s->until > end ? s->until : end;
}
