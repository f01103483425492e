
/*
 * Copyright (C) tenant_guard authors
 */


#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include "tg_cidr.h"


static const unsigned char  tg_cidr_v4_mapped[12] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};


int
tg_cidr_parse(tg_cidr_t *cidr, const char *text, size_t len)
{
    int          i, bits, max;
    char         buf[64];
    const char  *slash;
    char        *end;
    long         prefix;

    if (len == 0 || len >= sizeof(buf) || memchr(text, '\0', len) != NULL) {
        return -1;
    }

    memcpy(buf, text, len);
    buf[len] = '\0';

    memset(cidr, 0, sizeof(tg_cidr_t));

    slash = strchr(buf, '/');
    if (slash != NULL) {
        buf[slash - buf] = '\0';
    }

    if (inet_pton(AF_INET, buf, cidr->addr) == 1) {
        cidr->family = TG_CIDR_V4;
        max = 32;

    } else if (inet_pton(AF_INET6, buf, cidr->addr) == 1) {
        cidr->family = TG_CIDR_V6;
        max = 128;

    } else {
        return -1;
    }

    prefix = max;

    if (slash != NULL) {
        if (slash[1] < '0' || slash[1] > '9') {
            return -1;
        }

        prefix = strtol(slash + 1, &end, 10);

        if (*end != '\0' || prefix < 0 || prefix > max
            || (slash[1] == '0' && slash[2] != '\0'))
        {
            return -1;
        }
    }

    if (cidr->family == TG_CIDR_V6 && prefix >= 96
        && memcmp(cidr->addr, tg_cidr_v4_mapped, 12) == 0)
    {
        memmove(cidr->addr, cidr->addr + 12, 4);
        memset(cidr->addr + 4, 0, 12);
        cidr->family = TG_CIDR_V4;
        prefix -= 96;
    }

    bits = (int) prefix;

    for (i = 0; i < 16; i++) {
        if (bits >= 8) {
            cidr->mask[i] = 0xff;
            bits -= 8;

        } else {
            cidr->mask[i] = (unsigned char) (0xff << (8 - bits));
            bits = 0;
        }

        cidr->addr[i] &= cidr->mask[i];
    }

    return 0;
}


int
tg_cidr_match(const tg_cidr_list_t *list, int family,
    const unsigned char *addr)
{
    size_t            i, j, n;
    const tg_cidr_t  *c;

    if (family == TG_CIDR_V6 && memcmp(addr, tg_cidr_v4_mapped, 12) == 0) {
        family = TG_CIDR_V4;
        addr += 12;
    }

    n = (family == TG_CIDR_V4) ? 4 : 16;

    for (i = 0; i < list->n; i++) {
        c = &list->items[i];

        if (c->family != family) {
            continue;
        }

        for (j = 0; j < n; j++) {
            if ((addr[j] & c->mask[j]) != c->addr[j]) {
                break;
            }
        }

        if (j == n) {
            return 1;
        }
    }

    return 0;
}
