/*
 * addr.c - helpers for union inaddr and struct vip.
 */
#include "addr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

size_t
addr_len(int family)
{
	return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

int
addr_cmp(int family, const union inaddr *a, const union inaddr *b)
{
	return memcmp(a->b, b->b, addr_len(family));
}

bool
addr_is_zero(int family, const union inaddr *a)
{
	static const union inaddr zero;

	return addr_cmp(family, a, &zero) == 0;
}

const char *
addr_ntop(int family, const union inaddr *a, char *buf)
{
	if (!inet_ntop(family, a->b, buf, ADDR_STRLEN))
		snprintf(buf, ADDR_STRLEN, "?");
	return buf;
}

int
addr_pton(const char *s, int *family, union inaddr *a)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, &a->v4) == 1) {
		*family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, &a->v6) == 1) {
		*family = AF_INET6;
		return 0;
	}
	return -1;
}

int
vip_parse(const char *s, struct vip *v, const char **why)
{
	char host[ADDR_STRLEN + 1];
	const char *slash = strchr(s, '/');
	size_t hlen = slash ? (size_t)(slash - s) : strlen(s);

	memset(v, 0, sizeof(*v));
	if (hlen == 0 || hlen >= sizeof(host)) {
		*why = "not an IPv4 or IPv6 address";
		return -1;
	}
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	if (addr_pton(host, &v->family, &v->addr) < 0) {
		*why = "not an IPv4 or IPv6 address";
		return -1;
	}
	v->prefixlen = (uint8_t)(addr_len(v->family) * 8);
	if (slash) {
		char *end;
		long p = strtol(slash + 1, &end, 10);

		/* Digits only: strtol() would take " 24", "+24" and "024". */
		if (slash[1] < '1' || slash[1] > '9' || *end != '\0' || p < 1 ||
		    p > (long)addr_len(v->family) * 8) {
			*why = v->family == AF_INET ? "prefix length must be 1..32"
			                            : "prefix length must be 1..128";
			return -1;
		}
		v->prefixlen = (uint8_t)p;
	}
	if (addr_is_zero(v->family, &v->addr)) {
		*why = "the unspecified address cannot be a virtual IP";
		return -1;
	}
	return 0;
}

const char *
vip_ntop(const struct vip *v, char *buf)
{
	char a[ADDR_STRLEN];

	snprintf(buf, ADDR_STRLEN + 4, "%s/%u", addr_ntop(v->family, &v->addr, a), v->prefixlen);
	return buf;
}

bool
vip_equal(const struct vip *a, const struct vip *b)
{
	return a->family == b->family && a->prefixlen == b->prefixlen &&
	       addr_cmp(a->family, &a->addr, &b->addr) == 0;
}
