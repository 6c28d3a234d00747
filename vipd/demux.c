/*
 * demux.c - the VRID table of one shared VRRP socket.
 */
#include "demux.h"

#include <string.h>
#include <netinet/in.h>

/* Offset of the VRID in a VRRP message (v2 and v3 alike, RFC 5798 §5.1). */

void
demux_init(struct demux *d, int family)
{
	memset(d, 0, sizeof(*d));
	d->family = family;
}

int
demux_add(struct demux *d, uint8_t vrid, const struct demux_ent *e)
{
	struct demux_ent *slot = &d->ent[vrid];

	if (slot->arg && slot->arg != e->arg)
		return -1;
	if (!slot->arg)
		d->n++;
	*slot = *e;
	return 0;
}

void
demux_del(struct demux *d, uint8_t vrid, const void *arg)
{
	struct demux_ent *slot = &d->ent[vrid];

	if (!slot->arg || slot->arg != arg)
		return;
	memset(slot, 0, sizeof(*slot));
	d->n--;
}

void *
demux_get(const struct demux *d, uint8_t vrid)
{
	return d->ent[vrid].arg;
}

static bool
is_peer(const struct demux_ent *e, int family, const union inaddr *a)
{
	for (size_t i = 0; i < e->npeers; i++)
		if (addr_cmp(family, &e->peers[i], a) == 0)
			return true;
	return false;
}

/* 224.0.0.18 or ff02::12, RFC 5798 §5.1.1.2 / §5.1.2.2. */
static bool
is_group(int family, const union inaddr *dst)
{
	static const uint8_t g4[4] = {224, 0, 0, 18};
	static const uint8_t g6[16] = {0xff, 0x02, [15] = 0x12};

	return family == AF_INET ? memcmp(&dst->v4, g4, 4) == 0 : memcmp(&dst->v6, g6, 16) == 0;
}

const struct demux_ent *
demux_route(struct demux *d, const struct vsock_rx *rx, enum vrrp_drop *why)
{
	const struct demux_ent *e;

	/*
	 * The VRID is read before anything else is checked, so that a
	 * malformed advert for a configured VRID (a VRRPv2 or CARP speaker,
	 * a bad checksum) is counted by the instance it concerns.
	 */
	if (rx->family != d->family) {
		d->dropped[DROP_FAMILY]++;
		return NULL;
	}
	if (rx->len <= VRID_OFF) {
		d->dropped[DROP_SHORT]++;
		return NULL;
	}
	e = &d->ent[rx->payload[VRID_OFF]];
	if (!e->arg) {
		d->dropped[DROP_VRID]++;
		return NULL;
	}
	*why = DROP_MAX;
	if (e->npeers > 0) {
		if (!is_peer(e, d->family, &rx->src))
			*why = DROP_PEER;
		else if (e->ttl_check && rx->ttl != VRRP_TTL)
			*why = DROP_TTL;
	} else if (rx->ttl != VRRP_TTL) {
		/* RFC 5798 §7.1: multicast adverts never cross a router. */
		*why = DROP_TTL;
	} else if (!is_group(d->family, &rx->dst)) {
		/* §5.1.1.2 / §5.1.2.2: sent to the group, not to us or elsewhere. */
		*why = DROP_DEST;
	} else if (d->family == AF_INET6 && !IN6_IS_ADDR_LINKLOCAL(&rx->src.v6)) {
		/* §5.1.2.1: an IPv6 advert comes from the link-local address. */
		*why = DROP_SOURCE;
	}
	return e;
}
