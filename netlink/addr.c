/*
 * addr.c - adding, deleting and finding VIPs on an interface.
 */
#include "nlpriv.h"

#include <string.h>

#include <linux/if_addr.h>
#include <linux/rtnetlink.h>

#include "../vipd/log.h"

int
netlink_addr_walk(int ifindex, int family, netlink_addr_fn fn, void *arg)
{
	struct nl_sock *sk = netlink_req_sock();
	struct nl_cache *cache;
	struct nl_object *obj;
	union inaddr a;
	int err, r = 0;

	if (!sk)
		return -1;
	/* A fresh dump each time: the answer is current and nothing is kept. */
	if ((err = rtnl_addr_alloc_cache(sk, &cache)) < 0) {
		log_warnx("netlink: address dump: %s", nl_geterror(err));
		return -1;
	}
	for (obj = nl_cache_get_first(cache); obj && r == 0; obj = nl_cache_get_next(obj)) {
		struct rtnl_addr *ra = (struct rtnl_addr *)obj;

		if (rtnl_addr_get_ifindex(ra) != ifindex || rtnl_addr_get_family(ra) != family ||
		    netlink_inaddr_from(rtnl_addr_get_local(ra), family, &a) < 0)
			continue;
		r = fn(ra, &a, arg);
	}
	nl_cache_free(cache);
	return r;
}

/* An address object for v on ifindex; NULL on allocation failure (logged). */
static struct rtnl_addr *
vaddr_obj(int ifindex, const struct vip *v)
{
	struct rtnl_addr *ra = rtnl_addr_alloc();
	struct nl_addr *local = nl_addr_build(v->family, v->addr.b, addr_len(v->family));
	int err = -NLE_NOMEM;

	if (!ra || !local)
		goto fail;
	nl_addr_set_prefixlen(local, v->prefixlen);
	rtnl_addr_set_ifindex(ra, ifindex);
	rtnl_addr_set_family(ra, v->family);
	if ((err = rtnl_addr_set_local(ra, local)) < 0)
		goto fail;
	rtnl_addr_set_prefixlen(ra, v->prefixlen);
	nl_addr_put(local);
	return ra;
fail:
	log_warnx("netlink: address object: %s", nl_geterror(err));
	nl_addr_put(local);
	rtnl_addr_put(ra);
	return NULL;
}

int
vaddr_add(int ifindex, const struct vip *v)
{
	struct nl_sock *sk = netlink_req_sock();
	struct rtnl_addr *ra;
	char buf[ADDR_STRLEN + 4];
	int err;

	if (!sk || !(ra = vaddr_obj(ifindex, v)))
		return -1;
	rtnl_addr_set_scope(ra, RT_SCOPE_UNIVERSE);
	/*
	 * No duplicate address detection: the VIP must answer at once, and a
	 * VRRP master owns it by definition (the protocol is the DAD here).
	 */
	if (v->family == AF_INET6)
		rtnl_addr_set_flags(ra, IFA_F_NODAD);
	err = rtnl_addr_add(sk, ra, NLM_F_CREATE);
	rtnl_addr_put(ra);
	if (err == -NLE_EXIST)
		err = 0;
	if (err < 0) {
		log_warnx("netlink: cannot add %s on ifindex %d: %s", vip_ntop(v, buf), ifindex,
		          nl_geterror(err));
		return -1;
	}
	return 0;
}

int
vaddr_del(int ifindex, const struct vip *v)
{
	struct nl_sock *sk = netlink_req_sock();
	struct rtnl_addr *ra;
	char buf[ADDR_STRLEN + 4];
	int err;

	if (!sk || !(ra = vaddr_obj(ifindex, v)))
		return -1;
	err = rtnl_addr_delete(sk, ra, 0);
	rtnl_addr_put(ra);
	/* Not there (EADDRNOTAVAIL), or its interface is gone with it. */
	if (err == -NLE_NOADDR || err == -NLE_OBJ_NOTFOUND || err == -NLE_NODEV)
		err = 0;
	if (err < 0) {
		log_warnx("netlink: cannot delete %s on ifindex %d: %s", vip_ntop(v, buf), ifindex,
		          nl_geterror(err));
		return -1;
	}
	return 0;
}

static int
present_cb(struct rtnl_addr *ra, const union inaddr *a, void *arg)
{
	const struct vip *v = arg;

	(void)ra;
	return addr_cmp(v->family, a, &v->addr) == 0;
}

int
vaddr_present(int ifindex, const struct vip *v)
{
	return netlink_addr_walk(ifindex, v->family, present_cb, (void *)v);
}
