/*
 * demux.h - which instance an advert received on an interface is for.
 *
 * Every instance on one (interface, family) shares one raw socket
 * (vport.h), so a received advert is read once and handed to at most one
 * instance: the one configured with its VRID. The table is indexed by
 * VRID, so that costs one lookup whatever the number of instances.
 * Pure: no sockets, no clock.
 *
 * RFC 5798 §7.1 checks that depend on the receiving instance are made
 * here too, before the advert is decoded. Multicast mode: the TTL / hop
 * limit is 255, the destination is the VRRP group (224.0.0.18 / ff02::12)
 * and an IPv6 source is link-local (§5.1.2.1, §5.1.2.2). Unicast mode:
 * the source is one of the instance's peers, and the TTL is 255 only if
 * the instance asks for it (unicast adverts may cross routers).
 */
#ifndef VIPD_DEMUX_H
#define VIPD_DEMUX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "pkt.h"
#include "vsock.h"

/* One instance in the table. */
/* Where the VRID is in a VRRP message (v2 and v3). */
#define VRID_OFF 1

struct demux_ent {
	void *arg;                 /* the instance; NULL = VRID free */
	const void *ctx;           /* the caller's, handed back with arg */
	const union inaddr *peers; /* unicast peers, owned by the instance */
	size_t npeers;             /* 0 = multicast */
	bool ttl_check;            /* unicast: require TTL 255 too (unicast_ttl_check) */
};

struct demux {
	int family;
	size_t n; /* VRIDs in use */
	struct demux_ent ent[256];
	/* Packets no instance took: counted once per interface, not per instance. */
	uint64_t dropped[DROP_MAX];
};

void demux_init(struct demux *d, int family);
/*
 * Put an instance under vrid, or update its entry (same arg: a reload
 * changed its peers). 0, or -1 if another instance has the VRID.
 */
int demux_add(struct demux *d, uint8_t vrid, const struct demux_ent *e);
/* Take vrid out if arg holds it (no-op otherwise). */
void demux_del(struct demux *d, uint8_t vrid, const void *arg);
void *demux_get(const struct demux *d, uint8_t vrid);

/*
 * The entry of the instance an advert is for. NULL if none is (too short
 * to carry a VRID, or a VRID nobody has here): counted in d->dropped.
 * Otherwise the entry, with *why = DROP_MAX if the instance should
 * process the advert, or the reason it must drop it (DROP_TTL,
 * DROP_PEER, DROP_DEST, DROP_SOURCE), for its own counters.
 */
const struct demux_ent *demux_route(struct demux *d, const struct vsock_rx *rx,
                                    enum vrrp_drop *why);

#endif
