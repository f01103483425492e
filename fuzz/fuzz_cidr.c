
/*
 * Copyright (C) tenant_guard authors
 *
 * fuzz_cidr: the input is an address or range for tg_cidr_parse() (from an
 * exact-size buffer, no NUL after it).  A range that parses must be a
 * network: a contiguous mask of at most 32 or 128 bits, no host bits, its
 * own network address and last address inside it, the address past it
 * outside; an IPv4 range also matches in its IPv4-mapped form.  The
 * input's bytes are also matched as a client address against a fixed list.
 */


#include <stdint.h>
#include <string.h>

#include <arpa/inet.h>

#include "fx.h"
#include "tg_cidr.h"


static tg_cidr_t       fixed_items[4];
static tg_cidr_list_t  fixed = { fixed_items, 4 };


int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void) argc;
    (void) argv;

    if (tg_cidr_parse(&fixed_items[0], "10.0.0.0/8", 10) != 0
        || tg_cidr_parse(&fixed_items[1], "2001:db8::/32", 13) != 0
        || tg_cidr_parse(&fixed_items[2], "::ffff:192.0.2.0/120", 20) != 0
        || tg_cidr_parse(&fixed_items[3], "::/0", 4) != 0)
    {
        abort();
    }

    return 0;
}


/*
 * An IPv4-mapped address is matched as IPv4 (tg_cidr.h), so an IPv6 range
 * shorter than /96 that covers part of ::ffff:0:0/96 does not match the
 * mapped addresses inside it: they are IPv4 clients.
 */
static int
is_mapped(const unsigned char *a)
{
    static const unsigned char  prefix[12] = {
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
    };

    return memcmp(a, prefix, 12) == 0;
}


static int
prefix_bits(const tg_cidr_t *c)
{
    int  i, bits, ended;

    bits = 0;
    ended = 0;

    for (i = 0; i < 16; i++) {
        unsigned m = c->mask[i];

        if (ended) {
            FX_CHECK(m == 0);
            continue;
        }

        if (m == 0xff) {
            bits += 8;
            continue;
        }

        /* a contiguous run of ones from the top */
        FX_CHECK(((~m & 0xff) & ((~m & 0xff) + 1)) == 0);
        bits += __builtin_popcount(m);
        ended = 1;
    }

    return bits;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int             i, bits, n;
    tg_cidr_t       c;
    unsigned char   addr[16], mapped[16];
    tg_cidr_list_t  one = { &c, 1 };

    if (size >= 16) {
        (void) tg_cidr_match(&fixed, TG_CIDR_V6, data);
    }

    if (size >= 4) {
        (void) tg_cidr_match(&fixed, TG_CIDR_V4, data);
    }

    if (tg_cidr_parse(&c, (const char *) data, size) != 0) {
        return 0;
    }

    FX_CHECK(size > 0 && size < 64);
    FX_CHECK(c.family == TG_CIDR_V4 || c.family == TG_CIDR_V6);

    n = (c.family == TG_CIDR_V4) ? 4 : 16;
    bits = prefix_bits(&c);

    FX_CHECK(bits <= n * 8);

    for (i = 0; i < 16; i++) {
        FX_CHECK((c.addr[i] & ~c.mask[i]) == 0);
    }

    for (i = n; i < 16; i++) {
        FX_CHECK(c.addr[i] == 0 && c.mask[i] == 0);
    }

    /* the network address and the last address match */

    memcpy(addr, c.addr, 16);
    FX_CHECK(tg_cidr_match(&one, c.family, addr) == 1
             || (c.family == TG_CIDR_V6 && is_mapped(addr)));

    for (i = 0; i < n; i++) {
        addr[i] = c.addr[i] | (unsigned char) ~c.mask[i];
    }

    FX_CHECK(tg_cidr_match(&one, c.family, addr) == 1
             || (c.family == TG_CIDR_V6 && is_mapped(addr)));

    /* the address after the last one does not (unless it wraps to the
     * start of the space, or the range is the whole space) */

    if (bits > 0) {
        for (i = n - 1; i >= 0; i--) {
            if (++addr[i] != 0) {
                break;
            }
        }

        if (i >= 0) {
            FX_CHECK(tg_cidr_match(&one, c.family, addr) == 0);
        }
    }

    /* an IPv4 range matches its mapped clients; an IPv6 one never matches
     * an IPv4 client */

    if (c.family == TG_CIDR_V4) {
        memset(mapped, 0, 10);
        mapped[10] = 0xff;
        mapped[11] = 0xff;
        memcpy(mapped + 12, c.addr, 4);
        FX_CHECK(tg_cidr_match(&one, TG_CIDR_V6, mapped) == 1);

    } else {
        FX_CHECK(tg_cidr_match(&one, TG_CIDR_V4, c.addr) == 0);
    }

    return 0;
}
