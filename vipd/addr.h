/*
 * addr.h - IPv4 / IPv6 addresses as one type, shared by the config, the
 * packet codec, the state machine and netlink. Addresses are kept in
 * network byte order so memcmp() is the unsigned compare RFC 5798 §6.4.3
 * uses for the tie-break.
 */
#ifndef VIPD_ADDR_H
#define VIPD_ADDR_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

union inaddr {
	struct in_addr v4;
	struct in6_addr v6;
	uint8_t b[16];
};

/* A virtual IP: address plus the prefix length it is added with. */
struct vip {
	int family; /* AF_INET or AF_INET6 */
	union inaddr addr;
	uint8_t prefixlen;
};

#define ADDR_STRLEN 46 /* INET6_ADDRSTRLEN */

/* 4 for AF_INET, 16 for AF_INET6, 0 otherwise. */
size_t addr_len(int family);
/* Unsigned compare of two addresses of one family: <0, 0, >0. */
int addr_cmp(int family, const union inaddr *a, const union inaddr *b);
bool addr_is_zero(int family, const union inaddr *a);
/* Text form into buf (ADDR_STRLEN bytes); returns buf. */
const char *addr_ntop(int family, const union inaddr *a, char *buf);
/* Parse "ADDR" (IPv6 without brackets); sets *family. 0 or -1. */
int addr_pton(const char *s, int *family, union inaddr *a);
/*
 * Parse "ADDR[/PREFIX]" into a vip; the prefix defaults to 32 / 128.
 * 0, or -1 with *why set to a short reason.
 */
int vip_parse(const char *s, struct vip *v, const char **why);
/* "192.0.2.100/24" into buf (ADDR_STRLEN + 4 bytes); returns buf. */
const char *vip_ntop(const struct vip *v, char *buf);
/* Same family, address and prefix length. */
bool vip_equal(const struct vip *a, const struct vip *b);

#endif
