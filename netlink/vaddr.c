/*
 * vaddr.c - adding, deleting and finding VIPs on an interface. A successful
 * change goes into the cache at once (cache.c), before its event is read.
 */
#include "nlpriv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/if_addr.h>
#include <linux/rtnetlink.h>

#include "../vipd/log.h"
#include "../vipd/loop.h"

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

/*
 * Test only, not documented for users: VIPD_TEST_REFUSE_ADD=ADDR makes
 * the add of that address fail as the kernel does without CAP_NET_ADMIN
 * (EPERM), which the network tests cannot arrange otherwise: vipd checks
 * its capabilities at start, and this kernel has no interface type that
 * refuses an address (tests/net/test_vip_refused.py).
 */
static bool
refused_for_test(const struct vip *v)
{
	const char *knob = getenv("VIPD_TEST_REFUSE_ADD");
	union inaddr a;
	int fam;

	return knob && addr_pton(knob, &fam, &a) == 0 && fam == v->family &&
	       addr_cmp(fam, &a, &v->addr) == 0;
}

int
vaddr_add(int ifindex, const struct vip *v)
{
	struct nl_sock *sk = netlink_req_sock();
	struct rtnl_addr *ra;
	char buf[ADDR_STRLEN + 4];
	int err;

	if (refused_for_test(v)) {
		log_warnx("netlink: cannot add %s on ifindex %d: %s", vip_ntop(v, buf), ifindex,
		          strerror(EPERM));
		errno = EPERM;
		return -1;
	}
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
	if (err == 0) /* not -NLE_EXIST: the kernel changed something */
		nlcache_own_add(ra, mono_now_ns());
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
	if (err == 0)
		nlcache_own_del(ra, mono_now_ns());
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

int
vaddr_present(int ifindex, const struct vip *v)
{
	struct nl_cache *c;
	int r;

	if (nlcache_ready())
		return nlcache_present(nlcache_addrs(), ifindex, v);
	if (netlink_addr_dump(&c) < 0)
		return -1;
	r = nlcache_present(c, ifindex, v);
	nl_cache_free(c);
	return r;
}
