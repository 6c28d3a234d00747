/*
 * fuzz_netlink.c - the netlink message handlers: link and address
 * messages parsed by libnl (nl_msg_parse, as netlink.c's monitor does)
 * and applied to vipd's caches (netlink/cache.c): monitor events, vipd's
 * own acknowledged changes, and a resynchronisation from a dump.
 *
 * Input: one mode byte, then netlink messages back to back, each a
 * struct nlmsghdr and its payload (nlmsg_len is trusted up to what is
 * left; any other type is made one of RTM_NEWLINK, RTM_DELLINK,
 * RTM_NEWADDR, RTM_DELADDR, the ones the monitor passes on). Mode 0: every message is
 * a monitor event. Mode 1: address messages alternate between events and
 * vipd's own adds / deletes (nlcache_own_add / _del). Mode 2: the
 * messages are a fresh dump that replaces the caches (nlcache_replace).
 * Every input starts from the same caches: lo, eth0 and eth1 with
 * 127.0.0.1/8, 192.0.2.11/24 and fe80::11/64. Properties: what the
 * listener is told is a family it knows, and an address reported added
 * by an event is in the cache as the listener hears of it.
 */
#include <string.h>

#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>

#include "fuzz.h"
#include "netlink/nlpriv.h"
#include "vipd/log.h"

#define ETH0 2
#define ETH1 3

static const int types[] = {RTM_NEWLINK, RTM_DELLINK, RTM_NEWADDR, RTM_DELADDR};

static uint64_t now = 1000ull * 1000 * 1000 * 1000;
static int mode;
static unsigned nmsg;
static struct nl_cache *fresh_links, *fresh_addrs;

static void
on_link(void *arg, const struct iface *ifc)
{
	(void)arg;
	FUZZ_ASSERT(memchr(ifc->name, '\0', sizeof(ifc->name)) != NULL);
}

static void
on_addr(void *arg, int ifindex, int family, const union inaddr *a, uint8_t prefixlen, bool added)
{
	struct vip v = {.family = family, .addr = *a, .prefixlen = prefixlen};

	(void)arg;
	FUZZ_ASSERT(family == AF_INET || family == AF_INET6);
	/* An event for an address vipd itself just changed is skipped; others apply. */
	if (added && mode == 0)
		FUZZ_ASSERT(nlcache_present(nlcache_addrs(), ifindex, &v) == 1);
}

static const struct netlink_events ev = {.link = on_link, .addr = on_addr};

static struct rtnl_addr *
mkaddr(int ifindex, const char *s, int plen, int scope)
{
	struct rtnl_addr *ra = rtnl_addr_alloc();
	union inaddr a;
	int family;
	struct nl_addr *na;

	if (!ra || addr_pton(s, &family, &a) < 0)
		abort();
	na = nl_addr_build(family, a.b, addr_len(family));
	nl_addr_set_prefixlen(na, plen);
	rtnl_addr_set_ifindex(ra, ifindex);
	rtnl_addr_set_family(ra, family);
	rtnl_addr_set_local(ra, na);
	rtnl_addr_set_prefixlen(ra, plen);
	rtnl_addr_set_flags(ra, IFA_F_PERMANENT);
	rtnl_addr_set_scope(ra, scope);
	nl_addr_put(na);
	return ra;
}

static struct rtnl_link *
mklink(int ifindex, const char *name, unsigned flags)
{
	struct rtnl_link *l = rtnl_link_alloc();

	if (!l)
		abort();
	rtnl_link_set_ifindex(l, ifindex);
	rtnl_link_set_family(l, AF_UNSPEC);
	rtnl_link_set_name(l, name);
	rtnl_link_set_flags(l, flags);
	return l;
}

static struct nl_cache *
new_cache(const char *type)
{
	struct nl_cache *c = NULL;

	if (nl_cache_alloc_name(type, &c) < 0)
		abort();
	return c;
}

static void
put(struct nl_cache *c, void *obj)
{
	if (nl_cache_add(c, obj) < 0)
		abort();
	nl_object_put(obj);
}

static void
caches_reset(void)
{
	struct nl_cache *l = new_cache("route/link"), *a = new_cache("route/addr");

	nlcache_free();
	put(l, mklink(1, "lo", IFF_UP | IFF_RUNNING | IFF_LOOPBACK));
	put(l, mklink(ETH0, "eth0", IFF_UP | IFF_RUNNING));
	put(l, mklink(ETH1, "eth1", IFF_UP | IFF_RUNNING));
	put(a, mkaddr(1, "127.0.0.1", 8, RT_SCOPE_HOST));
	put(a, mkaddr(ETH0, "192.0.2.11", 24, RT_SCOPE_UNIVERSE));
	put(a, mkaddr(ETH0, "fe80::11", 64, RT_SCOPE_LINK));
	nlcache_set(l, a);
}

/* nl_msg_parse()'s callback: the object of one message. */
static void
parsed(struct nl_object *obj, void *arg)
{
	int type = *(const int *)arg;
	bool is_addr = type == RTM_NEWADDR || type == RTM_DELADDR;

	now += 1000 * 1000; /* 1 ms between messages */
	if (mode == 2) {
		if (type == RTM_NEWLINK || type == RTM_NEWADDR)
			nl_cache_add(is_addr ? fresh_addrs : fresh_links, obj);
	} else if (mode == 1 && is_addr && nmsg % 2) {
		if (type == RTM_NEWADDR)
			nlcache_own_add((struct rtnl_addr *)obj, now);
		else
			nlcache_own_del((struct rtnl_addr *)obj, now);
	} else {
		nlcache_event(obj, type, now, &ev);
	}
}

static void
one_message(const uint8_t *p, size_t len)
{
	/* nlmsg_convert() copies nlmsg_len bytes from an aligned header. */
	struct nlmsghdr *h = malloc(len);
	struct nl_msg *msg;
	int type;

	if (!h)
		abort();
	memcpy(h, p, len);
	h->nlmsg_len = (uint32_t)len;
	type = h->nlmsg_type;
	if (type != RTM_NEWLINK && type != RTM_DELLINK && type != RTM_NEWADDR &&
	    type != RTM_DELADDR)
		h->nlmsg_type = (uint16_t)(type = types[type % 4]);
	msg = nlmsg_convert(h);
	free(h);
	if (!msg)
		return;
	nlmsg_set_proto(msg, NETLINK_ROUTE);
	nl_msg_parse(msg, parsed, &type);
	nlmsg_free(msg);
	nmsg++;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_init("fuzz_netlink", true, LOGL_ERROR);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	mode = data[0] % 3;
	data++, size--;
	nmsg = 0;
	caches_reset();
	if (mode == 2) {
		fresh_links = new_cache("route/link");
		fresh_addrs = new_cache("route/addr");
	}
	while (size >= NLMSG_HDRLEN && nmsg < 64) {
		struct nlmsghdr h;
		size_t len;

		memcpy(&h, data, sizeof(h));
		len = h.nlmsg_len < NLMSG_HDRLEN || h.nlmsg_len > size ? size : h.nlmsg_len;
		one_message(data, len);
		len = NLMSG_ALIGN(len);
		if (len >= size)
			break;
		data += len, size -= len;
	}
	if (mode == 2)
		nlcache_replace(fresh_links, fresh_addrs, &ev);
	/* Lookups over whatever the caches hold now. */
	for (int ifindex = 1; ifindex <= 4; ifindex++) {
		union inaddr a;

		nlcache_primary(nlcache_addrs(), ifindex, AF_INET, NULL, 0, &a);
		nlcache_primary(nlcache_addrs(), ifindex, AF_INET6, NULL, 0, &a);
	}
	nlcache_free();
	return 0;
}
