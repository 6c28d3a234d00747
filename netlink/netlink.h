/*
 * netlink.h - interfaces, addresses and their events, through libnl-route-3.
 *
 * One NETLINK_ROUTE socket for requests (each waits for the kernel's ACK,
 * which is immediate), and a second one subscribed to link and address
 * groups whose fd lives in the event loop. vipd learns about links going
 * down and VIPs deleted behind its back from these events, never by polling.
 *
 * The host's links and addresses are kept in memory: one dump of each at
 * netlink_open(), then every event, and vipd's own vaddr_add / vaddr_del
 * as soon as the kernel acknowledges them. From then on iface_get(),
 * iface_get_index(), iface_primary_addr() and vaddr_present() make no
 * system call (before netlink_open() they ask the kernel). If the kernel
 * drops events (receive buffer overrun), both are dumped again and every
 * difference is delivered through netlink_events as if it were an event:
 * links first, then addresses deleted, then addresses added or changed.
 * When a callback runs, the lookups already reflect its event.
 */
#ifndef VIPD_NETLINK_H
#define VIPD_NETLINK_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include "../vipd/addr.h"

struct loop;

struct iface {
	int ifindex;
	char name[IF_NAMESIZE];
	bool present;  /* false in a "link deleted" event */
	bool admin_up; /* IFF_UP */
	bool running;  /* IFF_RUNNING: up with carrier */
	uint8_t mac[6];
};

struct netlink_events {
	/* Any change to a link (new, changed, deleted). */
	void (*link)(void *arg, const struct iface *ifc);
	/* An address was added (added = true) or deleted on ifindex. */
	void (*addr)(void *arg, int ifindex, int family, const union inaddr *a, uint8_t prefixlen,
	             bool added);
	void *arg;
};

/*
 * Open both sockets, subscribe the monitor socket and add it to the loop,
 * and fill the link and address caches. 0 or -1.
 */
int netlink_open(struct loop *l, const struct netlink_events *ev);
void netlink_close(struct loop *l);

struct netlink_stats {
	uint64_t events;   /* link and address events read */
	uint64_t overruns; /* times the kernel reported dropped events */
	uint64_t resyncs;  /* resynchronisations done (dumps and replays) */
	uint64_t resync_retries; /* resync dumps failed or interrupted, tried again */
	size_t addresses;  /* addresses in the cache now */
};
void netlink_get_stats(struct netlink_stats *out);

/* Look a link up by name / index. 0, or -1 (errno ENODEV if absent). */
int iface_get(const char *name, struct iface *out);
int iface_get_index(int ifindex, struct iface *out);

/*
 * The address vipd advertises from on ifindex. AF_INET: the first IPv4
 * address in the kernel's order that is not in `exclude` (our own VIPs).
 * AF_INET6: a link-local address (RFC 5798 §5.1.2.1), not tentative nor
 * dadfailed, the newest first as in the kernel's list.
 * 0, or -1 if there is none.
 */
int iface_primary_addr(int ifindex, int family, const struct vip *exclude, size_t nexclude,
                       union inaddr *out);

/* Add a VIP (IPv6 with IFA_F_NODAD so it is usable at once). Already present = 0. */
int vaddr_add(int ifindex, const struct vip *v);
/* Delete a VIP. Already absent = 0. */
int vaddr_del(int ifindex, const struct vip *v);
/*
 * 1 if the address (any prefix length) is on ifindex, 0 if not, -1 on error.
 * An own vaddr_add / vaddr_del is seen at once, before its event is read;
 * older events still queued for the same address do not undo it.
 */
int vaddr_present(int ifindex, const struct vip *v);

/*
 * Virtual MAC links (vmac.c, use_vmac): a macvlan per instance, RFC 5798
 * §7.3's MAC. vmac_mac() fills 00:00:5e:00:01:VRID (IPv4) or
 * 00:00:5e:00:02:VRID (IPv6); vmac_default_name() "vipd.VRID" /
 * "vipd6.VRID". vmac_add() makes the link (mode private) on parent, or
 * adopts one of that name that is a macvlan on parent with that MAC (left
 * by a crash), and brings it up: its ifindex, or -1 (errno EEXIST: the
 * name is someone else's link). On an IPv4 link's parent, arp_ignore and
 * arp_announce are raised (to 1 and 2) while it has links. vmac_del(), once
 * for each vmac_add() that succeeded, removes the link only if it is such a
 * link (absent = 0), and puts the parent's settings back with its last link.
 */
void vmac_mac(int family, uint8_t vrid, uint8_t mac[6]);
bool vmac_is_virtual(const uint8_t mac[6]);
void vmac_default_name(int family, uint8_t vrid, char name[IF_NAMESIZE]);
int vmac_add(int parent, const char *name, const uint8_t mac[6]);
int vmac_del(const char *name, int parent, const uint8_t mac[6]);
/*
 * At start: remove the links a crashed vipd left under its default names
 * (a macvlan vipd.VRID / vipd6.VRID with that VRID's virtual MAC) that are
 * not in keep[] (the configured instances' links, adopted instead). A link
 * with a name of the operator's choosing is never swept. How many were
 * removed, or -1.
 */
int vmac_sweep(const char *const *keep, size_t nkeep);

#endif
