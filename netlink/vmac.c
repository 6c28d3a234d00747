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
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include <linux/if_link.h>
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
 * An IPv4 VIP on the link must be answered for by the link only, with the
 * virtual MAC: arp_ignore=1 (answer only for addresses of the interface
 * the request came in on) on the link and on its parent, whose own MAC
 * would otherwise answer for the VIP too; and arp_announce=2 on the
 * parent, so that its own ARP requests (for traffic from the VIP, which
 * leaves through the parent) give the parent's address, not the VIP with
 * the parent's MAC. 0, or -1 (logged).
 */
static int
proc_sys(const char *ifname, const char *key, const char *val, int family)
{
	char path[96];
	FILE *f;
	int rc;

	snprintf(path, sizeof(path), "/proc/sys/net/%s/conf/%s/%s",
	         family == AF_INET6 ? "ipv6" : "ipv4", ifname, key);
	if (!(f = fopen(path, "we"))) {
		log_warn("netlink: %s", path);
		return -1;
	}
	rc = fputs(val, f) < 0 ? -1 : 0; /* "1", "2": no newline needed */
	if (fclose(f) != 0)
		rc = -1;
	if (rc < 0)
		log_warn("netlink: writing %s", path);
	return rc;
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
	if (mac[4] == 0x01) {
		char pname[IF_NAMESIZE];

		if (!if_indextoname((unsigned)parent, pname) ||
		    proc_sys(name, "arp_ignore", "1", AF_INET) < 0 ||
		    proc_sys(pname, "arp_ignore", "1", AF_INET) < 0 ||
		    proc_sys(pname, "arp_announce", "2", AF_INET) < 0)
			log_warnx("netlink: %s: the parent's MAC may answer ARP for the VIPs", name);
		/*
		 * No IPv6 on an IPv4 link: a Backup's link would otherwise send
		 * DAD, MLD and router solicitations from the shared MAC, and
		 * switches would send the VIP's traffic to the Backup.
		 */
		if (proc_sys(name, "disable_ipv6", "1", AF_INET6) < 0)
			log_warnx("netlink: %s: IPv6 stays on, its packets carry the virtual MAC", name);
	}
	/*
	 * IPv6: no address of its own (addr_gen_mode 1 = none), for the same
	 * reason: every router's link would have the same link-local address.
	 */
	if (mac[4] == 0x02 && proc_sys(name, "addr_gen_mode", "1", AF_INET6) < 0)
		log_warnx("netlink: %s: it makes a link-local address from the shared MAC", name);
	/* Up: a Master's VIPs live here; a Backup's link is up without them. */
	if (!(link = rtnl_link_alloc())) {
		errno = ENOMEM;
		return -1;
	}
	rtnl_link_set_ifindex(link, ifindex);
	rtnl_link_set_flags(link, IFF_UP);
	struct rtnl_link *orig = rtnl_link_alloc();
	if (!orig) {
		rtnl_link_put(link);
		errno = ENOMEM;
		return -1;
	}
	rtnl_link_set_ifindex(orig, ifindex);
	err = rtnl_link_change(sk, orig, link, 0);
	rtnl_link_put(orig);
	rtnl_link_put(link);
	if (err < 0) {
		log_warnx("netlink: cannot bring %s up: %s", name, nl_geterror(err));
		errno = EPERM;
		return -1;
	}
	return ifindex;
}

int
vmac_del(const char *name, int parent, const uint8_t mac[6])
{
	struct nl_sock *sk = netlink_req_sock();
	struct rtnl_link *link;
	int err;

	if (!sk)
		return -1;
	if (!(link = link_by_name(sk, name)))
		return 0;
	if (!is_ours(link, parent, mac)) {
		rtnl_link_put(link);
		return 0; /* someone else's: never removed */
	}
	err = rtnl_link_delete(sk, link);
	rtnl_link_put(link);
	if (err < 0 && err != -NLE_OBJ_NOTFOUND && err != -NLE_NODEV) {
		log_warnx("netlink: cannot remove %s: %s", name, nl_geterror(err));
		return -1;
	}
	return 0;
}
