/*
 * iface.c - interface lookups and the source address vipd advertises from,
 * answered from the cache (cache.c) once netlink_open() has filled it, and
 * from the kernel before that.
 */
#include "nlpriv.h"

#include <errno.h>
#include <string.h>

#include "../vipd/log.h"

/* From the cache once netlink_open() filled it: no syscall. */
static int
link_get_cached(int ifindex, const char *name, struct iface *out)
{
	struct rtnl_link *link = name ? rtnl_link_get_by_name(nlcache_links(), name)
	                              : rtnl_link_get(nlcache_links(), ifindex);

	if (!link) {
		errno = ENODEV;
		return -1;
	}
	netlink_iface_from_link(link, out);
	rtnl_link_put(link);
	return 0;
}

static int
link_get(int ifindex, const char *name, struct iface *out)
{
	struct nl_sock *sk = netlink_req_sock();
	struct rtnl_link *link;
	int err;

	if (nlcache_ready())
		return link_get_cached(ifindex, name, out);
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

int
iface_primary_addr(int ifindex, int family, const struct vip *exclude, size_t nexclude,
                   union inaddr *out)
{
	struct nl_cache *c;
	int r;

	if (nlcache_ready())
		return nlcache_primary(nlcache_addrs(), ifindex, family, exclude, nexclude, out);
	if (netlink_addr_dump(&c) < 0)
		return -1;
	r = nlcache_primary(c, ifindex, family, exclude, nexclude, out);
	nl_cache_free(c);
	return r;
}
