/*
 * nlpriv.h - what netlink.c, link.c and addr.c share, and nothing else
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
 * Dump the kernel's addresses and call fn for each one of `family` on
 * ifindex, in the kernel's order, until fn returns non-zero. Returns fn's
 * non-zero value, 0 when it never stopped, or -1 if the dump failed.
 */
typedef int (*netlink_addr_fn)(struct rtnl_addr *ra, const union inaddr *a, void *arg);
int netlink_addr_walk(int ifindex, int family, netlink_addr_fn fn, void *arg);

#endif
