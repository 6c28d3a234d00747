/*
 * nlpriv.h - what netlink.c, iface.c and vaddr.c share, and nothing else
 * includes: the request socket and libnl-object conversions.
 */
#ifndef VIPD_NLPRIV_H
#define VIPD_NLPRIV_H

/*
 * libnl's core header by its full name: with the build's -I. first,
 * <netlink/netlink.h> finds vipd's own netlink/netlink.h instead (its
 * other headers have names vipd does not use). Once this is in, libnl's
 * own #include <netlink/netlink.h> lines harmlessly pull in ours.
 */
#include <libnl3/netlink/netlink.h>
#include <netlink/errno.h>
#include <netlink/cache.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netlink.h"

/*
 * The NETLINK_ROUTE request socket, connected on first use (so lookups
 * work before netlink_open()) and freed by netlink_close(). NULL if it
 * cannot be opened (logged).
 */
struct nl_sock *netlink_req_sock(void);

/* Fill an iface from a link object, present = true. */
void netlink_iface_from_link(struct rtnl_link *link, struct iface *out);

/* Copy a libnl address of `family` into out. 0, or -1 if it does not fit. */
int netlink_inaddr_from(const struct nl_addr *na, int family, union inaddr *out);

/*
 * Call fn for each address of `family` on ifindex in cache c (in the
 * cache's order), until fn returns non-zero. Returns fn's non-zero value,
 * or 0 when it never stopped.
 */
typedef int (*netlink_addr_fn)(struct rtnl_addr *ra, const union inaddr *a, void *arg);
int nlcache_addr_walk(struct nl_cache *c, int ifindex, int family, netlink_addr_fn fn, void *arg);

/* --- cache.c: links and addresses in memory (see there) --- */

/* True once netlink_open() filled the caches; lookups then use them. */
bool nlcache_ready(void);
struct nl_cache *nlcache_links(void);
struct nl_cache *nlcache_addrs(void);
/* Take ownership of two filled caches (route/link, route/addr). */
void nlcache_set(struct nl_cache *links, struct nl_cache *addrs);
void nlcache_free(void);
size_t nlcache_naddrs(void);
/* Own changes awaiting their event (for the tests). */
size_t nlcache_npending(void);

/*
 * Apply one monitor event: obj parsed from a message of type msgtype
 * (RTM_NEWLINK, RTM_DELLINK, RTM_NEWADDR, RTM_DELADDR), then tell ev.
 */
void nlcache_event(struct nl_object *obj, int msgtype, uint64_t now_ns,
                   const struct netlink_events *ev);
/*
 * The kernel acknowledged adding / deleting ra (vaddr_add / vaddr_del):
 * update the cache now, and skip the event still to come for it.
 */
void nlcache_own_add(struct rtnl_addr *ra, uint64_t now_ns);
void nlcache_own_del(struct rtnl_addr *ra, uint64_t now_ns);
/*
 * Events were lost: replace the caches by fresh dumps (taking ownership)
 * and tell ev of every difference, links first, then addresses (deleted,
 * then added or changed). 0.
 */
int nlcache_replace(struct nl_cache *links, struct nl_cache *addrs,
                    const struct netlink_events *ev);

/* The primary-address rule of iface_primary_addr() applied to cache c. */
int nlcache_primary(struct nl_cache *c, int ifindex, int family, const struct vip *exclude,
                    size_t nexclude, union inaddr *out);
/* 1 if v's address (any prefix length) is on ifindex in cache c, else 0. */
int nlcache_present(struct nl_cache *c, int ifindex, const struct vip *v);

/* A fresh address dump into *out (for lookups before netlink_open()). 0 or -1. */
int netlink_addr_dump(struct nl_cache **out);

#endif
