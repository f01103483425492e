
/*
 * Copyright (C) tenant_guard authors
 */


#ifndef _TG_CIDR_H_INCLUDED_
#define _TG_CIDR_H_INCLUDED_


#include <stddef.h>


#define TG_CIDR_V4  4
#define TG_CIDR_V6  6


typedef struct {
    int             family;        /* TG_CIDR_V4 or TG_CIDR_V6 */
    unsigned char   addr[16];      /* network address, host bits cleared */
    unsigned char   mask[16];
} tg_cidr_t;


typedef struct {
    tg_cidr_t      *items;
    size_t          n;
} tg_cidr_list_t;


/*
 * An address or a CIDR range, IPv4 or IPv6.  An IPv4-mapped IPv6 range
 * (::ffff:a.b.c.d/96 and longer) is kept as the IPv4 range it names, so
 * that it matches IPv4 clients.  Returns 0, or -1.
 */
int tg_cidr_parse(tg_cidr_t *cidr, const char *text, size_t len);

/*
 * Whether addr (4 bytes for TG_CIDR_V4, 16 for TG_CIDR_V6) lies in one of
 * the ranges; an IPv4-mapped IPv6 address is matched as IPv4.
 */
int tg_cidr_match(const tg_cidr_list_t *list, int family,
    const unsigned char *addr);


#endif /* _TG_CIDR_H_INCLUDED_ */
