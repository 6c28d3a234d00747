/*
 * vmac.c - virtual MAC links (use_vmac): one macvlan link per instance on
 * its interface, with the RFC 5798 §7.3 address 00:00:5e:00:01:VRID (IPv4)
 * or 00:00:5e:00:02:VRID (IPv6), made and removed through libnl.
 *
 * A link vipd made is recognised by its kind (macvlan), its name (vipd's
 * default "vipd.VRID" / "vipd6.VRID", or the one configured) and its MAC
 * (a VRRP virtual MAC): only such links are ever removed.
 */
#include "nlpriv.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/if_link.h>
#include <linux/ip.h>
#include <netlink/route/link/inet.h>
#include <netlink/route/link/inet6.h>
#include <netlink/route/link/macvlan.h>

#include "../vipd/log.h"

void
vmac_mac(int family, uint8_t vrid, uint8_t mac[6])
{
	mac[0] = 0x00;
	mac[1] = 0x00;
	mac[2] = 0x5e;
	mac[3] = 0x00;
	mac[4] = family == AF_INET6 ? 0x02 : 0x01;
	mac[5] = vrid;
}

bool
vmac_is_virtual(const uint8_t mac[6])
{
	return mac[0] == 0 && mac[1] == 0 && mac[2] == 0x5e && mac[3] == 0 &&
	       (mac[4] == 1 || mac[4] == 2);
}

void
vmac_default_name(int family, uint8_t vrid, char name[IF_NAMESIZE])
{
	snprintf(name, IF_NAMESIZE, "%s.%u", family == AF_INET6 ? "vipd6" : "vipd", vrid);
}

/* The link of that name, or NULL; a reference the caller puts. */
static struct rtnl_link *
link_by_name(struct nl_sock *sk, const char *name)
{
	struct rtnl_link *link = NULL;

	if (rtnl_link_get_kernel(sk, 0, name, &link) < 0)
		return NULL;
	return link;
}

/* Whether link is a macvlan on `parent` with `mac`: one vipd made (or would). */
static bool
is_ours(struct rtnl_link *link, int parent, const uint8_t mac[6])
{
	struct nl_addr *a = rtnl_link_get_addr(link);

	return rtnl_link_is_macvlan(link) && rtnl_link_get_link(link) == parent && a &&
	       nl_addr_get_len(a) == 6 && memcmp(nl_addr_get_binary_addr(a), mac, 6) == 0;
}

/*
 * The parents whose ARP settings vipd changed, with what they were, so
 * that the last link removed from a parent puts them back.
 */
struct parent {
	int ifindex;
	unsigned links;
	uint32_t arp_ignore, arp_announce; /* as they were */
	struct parent *next;
};

static struct parent *parents;

static struct parent *
parent_find(int ifindex)
{
	for (struct parent *p = parents; p; p = p->next)
		if (p->ifindex == ifindex)
			return p;
	return NULL;
}

/*
 * Settings go through netlink (IFLA_AF_SPEC), not /proc/sys: that needs
 * only CAP_NET_ADMIN, and works under systemd's ProtectKernelTunables=
 * and after vipd dropped root. 0, or -1 (logged).
 */
static int
link_set(struct nl_sock *sk, int ifindex, struct rtnl_link *change, const char *what)
{
	struct rtnl_link *orig = rtnl_link_alloc();
	int err;

	if (!orig)
		return -1;
	rtnl_link_set_ifindex(orig, ifindex);
	err = rtnl_link_change(sk, orig, change, 0);
	rtnl_link_put(orig);
	if (err < 0) {
		log_warnx("netlink: ifindex %d: cannot set %s: %s", ifindex, what, nl_geterror(err));
		return -1;
	}
	return 0;
}

/*
 * An IPv4 VIP on the link must be answered for by the link only, with the
 * virtual MAC: arp_ignore=1 (answer only for addresses of the interface
 * the request came in on) on the parent, whose own MAC would otherwise
 * answer for the VIP too; and arp_announce=2 on the parent, so that its
 * own ARP requests (for traffic from the VIP, which leaves through the
 * parent) give the parent's address, not the VIP with the parent's MAC.
 * A stricter value the operator set is kept. The first link on a parent
 * remembers what was there; vmac_del() puts it back with the last.
 */
static void
parent_hold(struct nl_sock *sk, int ifindex)
{
	struct rtnl_link *cur = NULL, *change;
	struct parent *p = parent_find(ifindex);
	uint32_t ign = 0, ann = 0;

	if (p) {
		p->links++;
		return;
	}
	if (rtnl_link_get_kernel(sk, ifindex, NULL, &cur) < 0 ||
	    rtnl_link_inet_get_conf(cur, IPV4_DEVCONF_ARP_IGNORE, &ign) < 0 ||
	    rtnl_link_inet_get_conf(cur, IPV4_DEVCONF_ARP_ANNOUNCE, &ann) < 0) {
		rtnl_link_put(cur);
		log_warnx("netlink: ifindex %d: cannot read arp_ignore / arp_announce", ifindex);
		return;
	}
	rtnl_link_put(cur);
	if (!(p = calloc(1, sizeof(*p))))
		return;
	*p = (struct parent){.ifindex = ifindex, .links = 1, .arp_ignore = ign, .arp_announce = ann,
	                     .next = parents};
	parents = p;
	if (ign != 0 && ann >= 2)
		return;
	if (!(change = rtnl_link_alloc()))
		return;
	if (ign == 0)
		rtnl_link_inet_set_conf(change, IPV4_DEVCONF_ARP_IGNORE, 1);
	if (ann < 2)
		rtnl_link_inet_set_conf(change, IPV4_DEVCONF_ARP_ANNOUNCE, 2);
	if (link_set(sk, ifindex, change, "arp_ignore / arp_announce") < 0)
		log_warnx("netlink: ifindex %d: the parent's MAC may answer ARP for the VIPs", ifindex);
	rtnl_link_put(change);
}

static void
parent_release(struct nl_sock *sk, int ifindex)
{
	struct parent **pp, *p;
	struct rtnl_link *change;

	for (pp = &parents; (p = *pp) && p->ifindex != ifindex; pp = &p->next)
		;
	if (!p || --p->links > 0)
		return;
	*pp = p->next;
	if ((change = rtnl_link_alloc())) {
		rtnl_link_inet_set_conf(change, IPV4_DEVCONF_ARP_IGNORE, p->arp_ignore);
		rtnl_link_inet_set_conf(change, IPV4_DEVCONF_ARP_ANNOUNCE, p->arp_announce);
		link_set(sk, ifindex, change, "arp_ignore / arp_announce back");
		rtnl_link_put(change);
	}
	free(p);
}

/*
 * An IPv4 link needs no IPv6 at all: with it, each link adds a multicast
 * route the kernel scans on every IPv6 send of the host. Only /proc/sys
 * can turn it off (netlink cannot), which systemd's ProtectKernelTunables=
 * forbids: then the link keeps IPv6 without an address, harmless but for
 * that route.
 */
static void
ipv6_off(const char *name)
{
	char path[64 + IF_NAMESIZE];
	int fd;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", name);
	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) < 0 || write(fd, "1", 1) != 1)
		log_debug("netlink: %s: IPv6 stays on: %s", name, strerror(errno));
	if (fd >= 0)
		close(fd);
}

int
vmac_add(int parent, const char *name, const uint8_t mac[6])
{
	struct nl_sock *sk = netlink_req_sock();
	struct rtnl_link *link, *old;
	struct nl_addr *addr;
	int err, ifindex;

	if (!sk)
		return -1;
	if ((old = link_by_name(sk, name))) {
		/* Ours from an earlier run (a crash) or a reload: adopt it. */
		bool ours = is_ours(old, parent, mac);

		ifindex = rtnl_link_get_ifindex(old);
		rtnl_link_put(old);
		if (!ours) {
			log_warnx("netlink: %s exists and is not vipd's virtual MAC link", name);
			errno = EEXIST;
			return -1;
		}
	} else {
		if (!(link = rtnl_link_macvlan_alloc()) ||
		    !(addr = nl_addr_build(AF_LLC, (void *)mac, 6))) {
			rtnl_link_put(link);
			errno = ENOMEM;
			return -1;
		}
		rtnl_link_set_name(link, name);
		rtnl_link_set_link(link, parent);
		rtnl_link_set_addr(link, addr);
		nl_addr_put(addr);
		/*
		 * Private: the link hears nothing another macvlan on the same
		 * parent sends, keepalived's default.
		 */
		rtnl_link_macvlan_set_mode(link, MACVLAN_MODE_PRIVATE);
		err = rtnl_link_add(sk, link, NLM_F_CREATE | NLM_F_EXCL);
		rtnl_link_put(link);
		if (err < 0) {
			log_warnx("netlink: cannot create %s: %s", name, nl_geterror(err));
			errno = EPERM;
			return -1;
		}
		if (!(old = link_by_name(sk, name))) {
			log_warnx("netlink: %s vanished after its creation", name);
			errno = ENODEV;
			return -1;
		}
		ifindex = rtnl_link_get_ifindex(old);
		rtnl_link_put(old);
	}
	/*
	 * Before the link comes up: no IPv6 address of its own (addr_gen_mode
	 * none), so a Backup's link sends no DAD, MLD or router solicitation
	 * from the shared MAC (switches would send the VIP's traffic to the
	 * Backup), and every router's link has no link-local address in
	 * common; arp_ignore=1, so the link answers ARP only for its own VIPs.
	 */
	if (!(link = rtnl_link_alloc())) {
		errno = ENOMEM;
		return -1;
	}
	rtnl_link_inet6_set_addr_gen_mode(link, IN6_ADDR_GEN_MODE_NONE);
	if (mac[4] == 0x01)
		rtnl_link_inet_set_conf(link, IPV4_DEVCONF_ARP_IGNORE, 1);
	if (link_set(sk, ifindex, link, "addr_gen_mode / arp_ignore") < 0)
		log_warnx("netlink: %s: its own packets may carry the virtual MAC", name);
	rtnl_link_put(link);
	if (mac[4] == 0x01)
		ipv6_off(name);
	/* Up: a Master's VIPs live here; a Backup's link is up without them. */
	if (!(link = rtnl_link_alloc())) {
		errno = ENOMEM;
		return -1;
	}
	rtnl_link_set_flags(link, IFF_UP);
	err = link_set(sk, ifindex, link, "up");
	rtnl_link_put(link);
	if (err < 0) {
		errno = EPERM;
		return -1;
	}
	if (mac[4] == 0x01)
		parent_hold(sk, parent);
	return ifindex;
}

int
vmac_del(const char *name, int parent, const uint8_t mac[6])
{
	struct nl_sock *sk = netlink_req_sock();
	struct rtnl_link *link;
	int err = 0;

	if (!sk)
		return -1;
	/* One vmac_del() per vmac_add(): the parent's hold goes, link or not. */
	if (mac[4] == 0x01)
		parent_release(sk, parent);
	if (!(link = link_by_name(sk, name)))
		return 0;
	if (is_ours(link, parent, mac)) /* someone else's is never removed */
		err = rtnl_link_delete(sk, link);
	rtnl_link_put(link);
	if (err < 0 && err != -NLE_OBJ_NOTFOUND && err != -NLE_NODEV) {
		log_warnx("netlink: cannot remove %s: %s", name, nl_geterror(err));
		return -1;
	}
	return 0;
}

/*
 * Whether link looks like one vipd made under its default name: a
 * macvlan named vipd.VRID / vipd6.VRID with that VRID's virtual MAC.
 */
static bool
is_default_leftover(struct rtnl_link *link)
{
	const char *name = rtnl_link_get_name(link);
	char want[IF_NAMESIZE];
	uint8_t mac[6];
	unsigned vrid;
	int family, n = 0;

	if (!name || !rtnl_link_is_macvlan(link))
		return false;
	if (sscanf(name, "vipd6.%u%n", &vrid, &n) == 1 && name[n] == '\0')
		family = AF_INET6;
	else if (sscanf(name, "vipd.%u%n", &vrid, &n) == 1 && name[n] == '\0')
		family = AF_INET;
	else
		return false;
	if (vrid < 1 || vrid > 255)
		return false;
	vmac_default_name(family, (uint8_t)vrid, want);
	vmac_mac(family, (uint8_t)vrid, mac);
	struct nl_addr *a = rtnl_link_get_addr(link);

	return strcmp(want, name) == 0 && a && nl_addr_get_len(a) == 6 &&
	       memcmp(nl_addr_get_binary_addr(a), mac, 6) == 0;
}

int
vmac_sweep(const char *const *keep, size_t nkeep)
{
	struct nl_sock *sk = netlink_req_sock();
	struct nl_cache *cache = NULL;
	int removed = 0;

	if (!sk || rtnl_link_alloc_cache(sk, AF_UNSPEC, &cache) < 0)
		return -1;
	for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
		struct rtnl_link *link = (struct rtnl_link *)o;
		const char *name = rtnl_link_get_name(link);
		bool kept = false;

		if (!is_default_leftover(link))
			continue;
		for (size_t i = 0; i < nkeep && !kept; i++)
			kept = strcmp(keep[i], name) == 0;
		if (kept)
			continue;
		if (rtnl_link_delete(sk, link) < 0) {
			log_warnx("netlink: cannot remove the leftover virtual MAC link %s", name);
			continue;
		}
		log_info("removed the leftover virtual MAC link %s (no instance uses it)", name);
		removed++;
	}
	nl_cache_free(cache);
	return removed;
}
