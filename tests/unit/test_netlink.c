/*
 * test_netlink.c - the link and address cache (netlink/cache.c) without a
 * socket: constructed rtnl_link / rtnl_addr objects are fed in as monitor
 * events, own requests and resynchronisation dumps, and the lookups and
 * the events told to the listener are checked.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include <linux/if_addr.h>
#include <linux/rtnetlink.h>

#include "netlink/nlpriv.h"

#define ETH0 2
#define ETH1 3
#define SEC  (1000ull * 1000 * 1000)

/* --- what the listener was told ------------------------------------------- */

struct seen {
	int nlink, naddr;
	struct iface link[16];
	struct {
		int ifindex;
		char addr[ADDR_STRLEN];
		bool added;
		int present_then; /* vaddr_present() as seen from the callback */
	} addr[16];
};

static struct seen seen;

static void
on_link(void *arg, const struct iface *ifc)
{
	(void)arg;
	if (seen.nlink < 16)
		seen.link[seen.nlink++] = *ifc;
}

static void
on_addr(void *arg, int ifindex, int family, const union inaddr *a, uint8_t prefixlen, bool added)
{
	struct vip v = {.family = family, .addr = *a, .prefixlen = prefixlen};

	(void)arg;
	if (seen.naddr >= 16)
		return;
	seen.addr[seen.naddr].ifindex = ifindex;
	addr_ntop(family, a, seen.addr[seen.naddr].addr);
	seen.addr[seen.naddr].added = added;
	seen.addr[seen.naddr].present_then = nlcache_present(nlcache_addrs(), ifindex, &v);
	seen.naddr++;
}

static const struct netlink_events ev = {.link = on_link, .addr = on_addr};

/* --- building objects ----------------------------------------------------- */

static struct rtnl_addr *
mkaddr(int ifindex, const char *s, int plen, unsigned flags, int scope)
{
	struct rtnl_addr *ra = rtnl_addr_alloc();
	union inaddr a;
	int family;
	struct nl_addr *na;

	assert_int_equal(addr_pton(s, &family, &a), 0);
	na = nl_addr_build(family, a.b, addr_len(family));
	assert_non_null(ra);
	assert_non_null(na);
	nl_addr_set_prefixlen(na, plen);
	rtnl_addr_set_ifindex(ra, ifindex);
	rtnl_addr_set_family(ra, family);
	assert_int_equal(rtnl_addr_set_local(ra, na), 0);
	rtnl_addr_set_prefixlen(ra, plen);
	rtnl_addr_set_flags(ra, flags);
	rtnl_addr_set_scope(ra, scope);
	nl_addr_put(na);
	return ra;
}

static struct rtnl_link *
mklink(int ifindex, const char *name, unsigned flags)
{
	struct rtnl_link *l = rtnl_link_alloc();

	assert_non_null(l);
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

	assert_int_equal(nl_cache_alloc_name(type, &c), 0);
	return c;
}

static void
cache_put(struct nl_cache *c, void *obj)
{
	assert_int_equal(nl_cache_add(c, obj), 0);
	nl_object_put(obj);
}

/* An event: parse-like object in, reference dropped as nl_msg_parse does. */
static void
event(void *obj, int type, uint64_t now)
{
	nlcache_event(obj, type, now, &ev);
	nl_object_put(obj);
}

static struct vip
vip(const char *s, int plen)
{
	struct vip v = {.prefixlen = (uint8_t)plen};

	assert_int_equal(addr_pton(s, &v.family, &v.addr), 0);
	return v;
}

static const char *
primary(int ifindex, int family, const struct vip *ex, size_t nex)
{
	static char buf[ADDR_STRLEN];
	union inaddr a;

	if (nlcache_primary(nlcache_addrs(), ifindex, family, ex, nex, &a) < 0)
		return "none";
	return addr_ntop(family, &a, buf);
}

static int
present(int ifindex, const char *s)
{
	struct vip v = vip(s, 0);

	return nlcache_present(nlcache_addrs(), ifindex, &v);
}

/* The state every test starts from: lo, eth0 (192.0.2.11/24, a link-local), eth1. */
static int
setup(void **state)
{
	struct nl_cache *l = new_cache("route/link"), *a = new_cache("route/addr");

	(void)state;
	memset(&seen, 0, sizeof(seen));
	cache_put(l, mklink(1, "lo", IFF_UP | IFF_RUNNING | IFF_LOOPBACK));
	cache_put(l, mklink(ETH0, "eth0", IFF_UP | IFF_RUNNING));
	cache_put(l, mklink(ETH1, "eth1", IFF_UP | IFF_RUNNING));
	cache_put(a, mkaddr(1, "127.0.0.1", 8, IFA_F_PERMANENT, RT_SCOPE_HOST));
	cache_put(a, mkaddr(ETH0, "192.0.2.11", 24, IFA_F_PERMANENT, RT_SCOPE_UNIVERSE));
	cache_put(a, mkaddr(ETH0, "fe80::11", 64, IFA_F_PERMANENT, RT_SCOPE_LINK));
	nlcache_set(l, a);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	nlcache_free();
	return 0;
}

/* --- the primary-address rule --------------------------------------------- */

static void
test_primary_skips_excluded_vip(void **state)
{
	struct vip vipv = vip("192.0.2.100", 24);

	(void)state;
	event(mkaddr(ETH0, "192.0.2.100", 24, IFA_F_SECONDARY, 0), RTM_NEWADDR, 0);
	assert_string_equal(primary(ETH0, AF_INET, &vipv, 1), "192.0.2.11");
	assert_string_equal(primary(ETH1, AF_INET, NULL, 0), "none");
	assert_string_equal(primary(ETH0, AF_INET6, NULL, 0), "fe80::11");
	/* the VIP is also the only choice left once .11 is excluded too */
	struct vip both[2] = {vipv, vip("192.0.2.11", 24)};
	assert_string_equal(primary(ETH0, AF_INET, both, 1), "192.0.2.11");
	assert_string_equal(primary(ETH0, AF_INET, both, 2), "none");
}

/*
 * libnl's own nl_cache_include() moves an updated address to the tail; the
 * kernel keeps its place (a DHCP lease renewal is such an update).
 */
static void
test_update_keeps_kernel_order(void **state)
{
	(void)state;
	event(mkaddr(ETH0, "198.51.100.1", 24, 0, 0), RTM_NEWADDR, 0);
	assert_string_equal(primary(ETH0, AF_INET, NULL, 0), "192.0.2.11");
	event(mkaddr(ETH0, "192.0.2.11", 24, 0, 0), RTM_NEWADDR, 0);
	assert_string_equal(primary(ETH0, AF_INET, NULL, 0), "192.0.2.11");
	assert_int_equal(seen.naddr, 2);
	assert_true(seen.addr[1].added);
}

/* The kernel lists primaries before secondaries, narrowest scope first. */
static void
test_primaries_before_secondaries_and_by_scope(void **state)
{
	(void)state;
	/* a secondary arriving when the only primary is gone comes after a new primary */
	event(mkaddr(ETH1, "192.0.2.21", 24, IFA_F_SECONDARY, 0), RTM_NEWADDR, 0);
	assert_string_equal(primary(ETH1, AF_INET, NULL, 0), "192.0.2.21");
	event(mkaddr(ETH1, "198.51.100.21", 24, 0, 0), RTM_NEWADDR, 0);
	assert_string_equal(primary(ETH1, AF_INET, NULL, 0), "198.51.100.21");
	/* a host-scope primary is inserted before universe ones */
	event(mkaddr(ETH1, "203.0.113.21", 24, 0, RT_SCOPE_HOST), RTM_NEWADDR, 0);
	assert_string_equal(primary(ETH1, AF_INET, NULL, 0), "203.0.113.21");
	event(mkaddr(ETH1, "203.0.113.21", 24, 0, RT_SCOPE_HOST), RTM_DELADDR, 0);
	assert_string_equal(primary(ETH1, AF_INET, NULL, 0), "198.51.100.21");
}

/* A promoted secondary goes to the end of the primaries (__inet_del_ifa). */
static void
test_promoted_secondary_moves_to_end_of_primaries(void **state)
{
	(void)state;
	event(mkaddr(ETH0, "192.0.2.12", 24, IFA_F_SECONDARY, 0), RTM_NEWADDR, 0);
	event(mkaddr(ETH0, "198.51.100.1", 24, 0, 0), RTM_NEWADDR, 0);
	event(mkaddr(ETH0, "192.0.2.11", 24, 0, 0), RTM_DELADDR, 0);
	event(mkaddr(ETH0, "192.0.2.12", 24, 0, 0), RTM_NEWADDR, 0); /* promoted */
	assert_string_equal(primary(ETH0, AF_INET, NULL, 0), "198.51.100.1");
}

static void
test_v6_link_local_not_tentative(void **state)
{
	(void)state;
	event(mkaddr(ETH0, "fe80::11", 64, 0, RT_SCOPE_LINK), RTM_DELADDR, 0);
	event(mkaddr(ETH0, "2001:db8::11", 64, 0, 0), RTM_NEWADDR, 0);
	event(mkaddr(ETH0, "fe80::12", 64, IFA_F_TENTATIVE, RT_SCOPE_LINK), RTM_NEWADDR, 0);
	assert_string_equal(primary(ETH0, AF_INET6, NULL, 0), "none");
	event(mkaddr(ETH0, "fe80::12", 64, IFA_F_DADFAILED, RT_SCOPE_LINK), RTM_NEWADDR, 0);
	assert_string_equal(primary(ETH0, AF_INET6, NULL, 0), "none");
	event(mkaddr(ETH0, "fe80::12", 64, 0, RT_SCOPE_LINK), RTM_NEWADDR, 0); /* DAD done */
	assert_string_equal(primary(ETH0, AF_INET6, NULL, 0), "fe80::12");
}

/* --- links ---------------------------------------------------------------- */

static void
test_link_events_and_lookups(void **state)
{
	struct rtnl_link *l;
	struct iface ifc;

	(void)state;
	event(mklink(ETH1, "eth1", IFF_UP), RTM_NEWLINK, 0); /* carrier lost */
	assert_int_equal(seen.nlink, 1);
	assert_false(seen.link[0].running);
	l = rtnl_link_get_by_name(nlcache_links(), "eth1");
	assert_non_null(l);
	netlink_iface_from_link(l, &ifc);
	rtnl_link_put(l);
	assert_int_equal(ifc.ifindex, ETH1);
	assert_false(ifc.running);

	/* bridge-port messages are not about the link itself */
	l = mklink(ETH1, "eth1", 0);
	rtnl_link_set_family(l, AF_BRIDGE);
	event(l, RTM_DELLINK, 0);
	assert_int_equal(seen.nlink, 1);

	/* a deleted link takes its addresses with it */
	event(mkaddr(ETH1, "192.0.2.21", 24, 0, 0), RTM_NEWADDR, 0);
	assert_int_equal(present(ETH1, "192.0.2.21"), 1);
	event(mklink(ETH1, "eth1", 0), RTM_DELLINK, 0);
	assert_int_equal(seen.nlink, 2);
	assert_false(seen.link[1].present);
	assert_null(rtnl_link_get(nlcache_links(), ETH1));
	assert_int_equal(present(ETH1, "192.0.2.21"), 0);
	/* renamed: found by the new name only */
	event(mklink(ETH0, "lan0", IFF_UP | IFF_RUNNING), RTM_NEWLINK, 0);
	assert_null(rtnl_link_get_by_name(nlcache_links(), "eth0"));
	assert_non_null(l = rtnl_link_get_by_name(nlcache_links(), "lan0"));
	rtnl_link_put(l);
}

/* --- own changes and their events ----------------------------------------- */

static void
test_own_add_seen_before_its_event(void **state)
{
	struct rtnl_addr *ra = mkaddr(ETH0, "192.0.2.100", 24, 0, 0);

	(void)state;
	nlcache_own_add(ra, 0);
	rtnl_addr_put(ra);
	assert_int_equal(present(ETH0, "192.0.2.100"), 1);
	/* the kernel made it a secondary of 192.0.2.11/24; so does the cache */
	struct vip other = vip("192.0.2.11", 24);
	assert_string_equal(primary(ETH0, AF_INET, &other, 1), "192.0.2.100");
	event(mkaddr(ETH1, "198.51.100.21", 24, 0, 0), RTM_NEWADDR, 0);
	event(mkaddr(ETH0, "198.51.100.1", 24, 0, 0), RTM_NEWADDR, 0);
	assert_string_equal(primary(ETH0, AF_INET, &other, 1), "198.51.100.1");
	assert_int_equal(nlcache_npending(), 1);
	event(mkaddr(ETH0, "192.0.2.100", 24, IFA_F_SECONDARY, 0), RTM_NEWADDR, 1);
	assert_int_equal(nlcache_npending(), 0);
	assert_int_equal(present(ETH0, "192.0.2.100"), 1);
}

/*
 * Found by tests/fuzz/fuzz_netlink (corpus/netlink/regress-v4-prefix-39):
 * an IPv4 address with a prefix length over 32 shifted by a negative
 * count (undefined behaviour) when the secondary rule computed its mask.
 * No IPv4 subnet can hold it: it is never a secondary.
 */
static void
test_own_add_v4_prefix_over_32(void **state)
{
	struct rtnl_addr *ra = mkaddr(ETH0, "198.51.100.7", 39, 0, 0);

	(void)state;
	nlcache_own_add(ra, 0);
	assert_false(rtnl_addr_get_flags(ra) & IFA_F_SECONDARY);
	rtnl_addr_put(ra);
	assert_int_equal(present(ETH0, "198.51.100.7"), 1);
}

/*
 * Master -> Backup -> Master before the events are read: the deletion's
 * event, read after the re-add, must not make the VIP look deleted (the
 * guard would log "deleted by someone else" and announce for nothing).
 */
static void
test_stale_event_does_not_undo_own_change(void **state)
{
	struct rtnl_addr *ra = mkaddr(ETH0, "192.0.2.100", 24, 0, 0);

	(void)state;
	event(mkaddr(ETH0, "192.0.2.100", 24, IFA_F_SECONDARY, 0), RTM_NEWADDR, 0);
	nlcache_own_del(ra, 10);
	assert_int_equal(present(ETH0, "192.0.2.100"), 0);
	nlcache_own_add(ra, 20);
	rtnl_addr_put(ra);
	assert_int_equal(present(ETH0, "192.0.2.100"), 1);
	event(mkaddr(ETH0, "192.0.2.100", 24, IFA_F_SECONDARY, 0), RTM_DELADDR, 30);
	assert_int_equal(seen.addr[1].present_then, 1);
	event(mkaddr(ETH0, "192.0.2.100", 24, IFA_F_SECONDARY, 0), RTM_NEWADDR, 40);
	assert_int_equal(nlcache_npending(), 0);
	/* someone else deletes it afterwards: that one is applied */
	event(mkaddr(ETH0, "192.0.2.100", 24, IFA_F_SECONDARY, 0), RTM_DELADDR, 50);
	assert_int_equal(seen.naddr, 4);
	assert_false(seen.addr[3].added);
	assert_int_equal(seen.addr[3].present_then, 0);
}

/* An own change whose event never comes cannot hide later events for long. */
static void
test_pending_expires(void **state)
{
	struct rtnl_addr *ra = mkaddr(ETH0, "2001:db8::100", 64, IFA_F_NODAD, 0);

	(void)state;
	nlcache_own_add(ra, 0);
	rtnl_addr_put(ra);
	event(mkaddr(ETH0, "2001:db8::100", 64, 0, 0), RTM_DELADDR, 5 * SEC);
	assert_int_equal(present(ETH0, "2001:db8::100"), 0);
	assert_int_equal(nlcache_npending(), 0);
}

/* --- resynchronisation ---------------------------------------------------- */

static void
test_replace_replays_differences(void **state)
{
	struct nl_cache *l = new_cache("route/link"), *a = new_cache("route/addr");
	struct rtnl_addr *ra = mkaddr(ETH0, "192.0.2.100", 24, 0, 0);
	int i, deleted = -1, added = -1;

	(void)state;
	nlcache_own_add(ra, 0); /* the Master's VIP */
	rtnl_addr_put(ra);
	/* While events were lost: the VIP was deleted, 198.51.100.1 added, eth1 went away. */
	cache_put(l, mklink(1, "lo", IFF_UP | IFF_RUNNING | IFF_LOOPBACK));
	cache_put(l, mklink(ETH0, "eth0", IFF_UP | IFF_RUNNING));
	cache_put(a, mkaddr(1, "127.0.0.1", 8, IFA_F_PERMANENT, RT_SCOPE_HOST));
	cache_put(a, mkaddr(ETH0, "192.0.2.11", 24, IFA_F_PERMANENT, RT_SCOPE_UNIVERSE));
	cache_put(a, mkaddr(ETH0, "fe80::11", 64, IFA_F_PERMANENT, RT_SCOPE_LINK));
	cache_put(a, mkaddr(ETH0, "198.51.100.1", 24, 0, 0));
	assert_int_equal(nlcache_replace(l, a, &ev), 0);

	assert_int_equal(seen.nlink, 1);
	assert_int_equal(seen.link[0].ifindex, ETH1);
	assert_false(seen.link[0].present);
	assert_int_equal(seen.naddr, 2);
	for (i = 0; i < seen.naddr; i++) {
		if (strcmp(seen.addr[i].addr, "192.0.2.100") == 0)
			deleted = i;
		if (strcmp(seen.addr[i].addr, "198.51.100.1") == 0)
			added = i;
	}
	assert_true(deleted == 0 && added == 1); /* deletions first */
	assert_false(seen.addr[deleted].added);
	assert_int_equal(seen.addr[deleted].present_then, 0); /* told after the swap */
	assert_true(seen.addr[added].added);
	assert_int_equal(nlcache_npending(), 0);
	/* the dump's order is the kernel's */
	assert_string_equal(primary(ETH0, AF_INET, NULL, 0), "192.0.2.11");
}

static void
test_replace_nothing_changed(void **state)
{
	struct nl_cache *l = new_cache("route/link"), *a = new_cache("route/addr");

	(void)state;
	cache_put(l, mklink(1, "lo", IFF_UP | IFF_RUNNING | IFF_LOOPBACK));
	cache_put(l, mklink(ETH0, "eth0", IFF_UP | IFF_RUNNING));
	cache_put(l, mklink(ETH1, "eth1", IFF_UP | IFF_RUNNING));
	cache_put(a, mkaddr(1, "127.0.0.1", 8, IFA_F_PERMANENT, RT_SCOPE_HOST));
	cache_put(a, mkaddr(ETH0, "192.0.2.11", 24, IFA_F_PERMANENT, RT_SCOPE_UNIVERSE));
	cache_put(a, mkaddr(ETH0, "fe80::11", 64, IFA_F_PERMANENT, RT_SCOPE_LINK));
	assert_int_equal(nlcache_replace(l, a, &ev), 0);
	assert_int_equal(seen.nlink, 0);
	assert_int_equal(seen.naddr, 0);
	assert_int_equal(nlcache_naddrs(), 3);
}

/* RFC 5798 section 7.3: 00-00-5E-00-01-{VRID} (IPv4), 00-00-5E-00-02-{VRID} (IPv6). */
static void
test_vmac_mac_and_name(void **state)
{
	static const uint8_t v4[6] = {0x00, 0x00, 0x5e, 0x00, 0x01, 0x33};
	static const uint8_t v6[6] = {0x00, 0x00, 0x5e, 0x00, 0x02, 0xff};
	static const uint8_t other[6] = {0x00, 0x00, 0x5e, 0x00, 0x03, 0x01};
	uint8_t mac[6];
	char name[IF_NAMESIZE];

	(void)state;
	vmac_mac(AF_INET, 51, mac);
	assert_memory_equal(mac, v4, 6);
	assert_true(vmac_is_virtual(mac));
	vmac_mac(AF_INET6, 255, mac);
	assert_memory_equal(mac, v6, 6);
	assert_false(vmac_is_virtual(other));
	vmac_default_name(AF_INET, 51, name);
	assert_string_equal(name, "vipd.51");
	vmac_default_name(AF_INET6, 255, name);
	assert_string_equal(name, "vipd6.255");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_vmac_mac_and_name),
	    cmocka_unit_test_setup_teardown(test_primary_skips_excluded_vip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_update_keeps_kernel_order, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_primaries_before_secondaries_and_by_scope, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_promoted_secondary_moves_to_end_of_primaries,
	                                    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_v6_link_local_not_tentative, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_link_events_and_lookups, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_own_add_seen_before_its_event, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_own_add_v4_prefix_over_32, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stale_event_does_not_undo_own_change, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_pending_expires, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_replace_replays_differences, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_replace_nothing_changed, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
