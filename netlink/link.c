/*
 * link.c - interface lookups and the source address vipd advertises from.
 */
#include "nlpriv.h"

#include <errno.h>
#include <string.h>

#include <linux/if_addr.h>

#include "../vipd/log.h"

static int
link_get(int ifindex, const char *name, struct iface *out)
{
	struct nl_sock *sk = netlink_req_sock();
	struct rtnl_link *link;
	int err;

	if (!sk) {
		errno = EIO;
		return -1;
	}
	if ((err = rtnl_link_get_kernel(sk, ifindex, name, &link)) < 0) {
		if (err == -NLE_NODEV || err == -NLE_OBJ_NOTFOUND) {
			errno = ENODEV;
			return -1;
		}
		log_warnx("netlink: cannot get link %s: %s", name ? name : "", nl_geterror(err));
		errno = EIO;
		return -1;
	}
	netlink_iface_from_link(link, out);
	rtnl_link_put(link);
	return 0;
}

int
iface_get(const char *name, struct iface *out)
{
	if (!name || !*name || strlen(name) >= IF_NAMESIZE) {
		errno = ENODEV;
		return -1;
	}
	return link_get(0, name, out);
}

int
iface_get_index(int ifindex, struct iface *out)
{
	if (ifindex <= 0) {
		errno = ENODEV;
		return -1;
	}
	return link_get(ifindex, NULL, out);
}

struct primary {
	const struct vip *exclude;
	size_t nexclude;
	union inaddr *out;
};

static bool
is_excluded(const struct primary *p, int family, const union inaddr *a)
{
	size_t i;

	for (i = 0; i < p->nexclude; i++)
		if (p->exclude[i].family == family && addr_cmp(family, &p->exclude[i].addr, a) == 0)
			return true;
	return false;
}

static int
primary_v4(struct rtnl_addr *ra, const union inaddr *a, void *arg)
{
	struct primary *p = arg;

	(void)ra;
	if (is_excluded(p, AF_INET, a))
		return 0;
	*p->out = *a;
	return 1;
}

/* RFC 5798 §5.1.2.1: IPv6 adverts come from the interface's link-local address. */
static int
primary_v6(struct rtnl_addr *ra, const union inaddr *a, void *arg)
{
	struct primary *p = arg;

	if (!IN6_IS_ADDR_LINKLOCAL(&a->v6) ||
	    (rtnl_addr_get_flags(ra) & (IFA_F_TENTATIVE | IFA_F_DADFAILED)) ||
	    is_excluded(p, AF_INET6, a))
		return 0;
	*p->out = *a;
	return 1;
}

int
iface_primary_addr(int ifindex, int family, const struct vip *exclude, size_t nexclude,
                   union inaddr *out)
{
	struct primary p = {exclude, nexclude, out};
	int r;

	if (family != AF_INET && family != AF_INET6)
		return -1;
	r = netlink_addr_walk(ifindex, family, family == AF_INET ? primary_v4 : primary_v6, &p);
	return r > 0 ? 0 : -1;
}
