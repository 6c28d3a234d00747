/*
 * test_nlkernel.c - netlink/ against the kernel, in a network namespace of
 * the test's own (unshare), so nothing outside it changes: iface_get on
 * lo, vaddr_add / vaddr_present / vaddr_del of a documentation address,
 * the source address that excludes VIPs, and the monitor's events read
 * through the loop. Needs root (CAP_SYS_ADMIN, CAP_NET_ADMIN); skipped
 * without. test_netlink.c covers the cache's logic without a kernel.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "netlink/netlink.h"
#include "tests/unit/testutil.h"
#include "vipd/addr.h"
#include "vipd/loop.h"

static bool isolated;

struct seen {
	int links, adds, dels;
	union inaddr last;
};

static void
on_link(void *arg, const struct iface *ifc)
{
	(void)ifc;
	((struct seen *)arg)->links++;
}

static void
on_addr(void *arg, int ifindex, int family, const union inaddr *a, uint8_t prefixlen, bool added)
{
	struct seen *s = arg;

	(void)ifindex, (void)family, (void)prefixlen;
	if (added)
		s->adds++;
	else
		s->dels++;
	s->last = *a;
}

static int
setup(void **state)
{
	int rc = tu_own_netns();

	(void)state;
	assert_int_not_equal(rc, -1);
	isolated = rc == 1; /* false: not root, every case skips */
	return 0;
}

static struct vip
vip(const char *s)
{
	struct vip v = {0};
	int fam;

	assert_int_equal(addr_pton(s, &fam, &v.addr), 0);
	v.family = fam;
	v.prefixlen = fam == AF_INET ? 24 : 64;
	return v;
}

static void
test_kernel_roundtrip(void **state)
{
	struct seen seen = {0};
	struct netlink_events ev = {.link = on_link, .addr = on_addr, .arg = &seen};
	struct loop *l;
	struct iface lo;
	struct vip primary = vip("192.0.2.1"), v = vip("192.0.2.100");
	union inaddr src;

	(void)state;
	if (!isolated) {
		skip();
		return;
	}
	l = loop_new();
	assert_int_equal(netlink_open(l, &ev), 0);
	assert_int_equal(iface_get("lo", &lo), 0);
	assert_true(lo.present && lo.admin_up && lo.ifindex > 0);
	assert_int_equal(iface_get("nonexistent0", &lo) < 0, 1);
	assert_int_equal(iface_get("lo", &lo), 0);

	/* A primary address, then a VIP: the source address skips the VIP. */
	assert_int_equal(vaddr_add(lo.ifindex, &primary), 0);
	assert_int_equal(vaddr_present(lo.ifindex, &primary), 1);
	assert_int_equal(vaddr_present(lo.ifindex, &v), 0);
	assert_int_equal(vaddr_add(lo.ifindex, &v), 0);
	assert_int_equal(vaddr_add(lo.ifindex, &v), 0); /* already there: 0 */
	assert_int_equal(vaddr_present(lo.ifindex, &v), 1);
	assert_int_equal(iface_primary_addr(lo.ifindex, AF_INET, &v, 1, &src), 0);
	assert_int_not_equal(addr_cmp(AF_INET, &src, &v.addr), 0); /* 127.0.0.1 or ours */

	/* The monitor reports both additions through the loop. */
	tu_run_for(l, 100);
	assert_true(seen.adds >= 2);

	/* Deleting: seen at once by vaddr_present, then as an event. */
	assert_int_equal(vaddr_del(lo.ifindex, &v), 0);
	assert_int_equal(vaddr_present(lo.ifindex, &v), 0);
	assert_int_equal(vaddr_del(lo.ifindex, &v), 0); /* already gone: 0 */
	tu_run_for(l, 100);
	assert_true(seen.dels >= 1);
	assert_int_equal(addr_cmp(AF_INET, &seen.last, &v.addr), 0);

	/* Someone else deletes the primary: the cache follows the event. */
	assert_int_equal(system("ip addr del 192.0.2.1/24 dev lo 2>/dev/null"), 0);
	tu_run_for(l, 100);
	assert_int_equal(vaddr_present(lo.ifindex, &primary), 0);

	netlink_close(l);
	loop_free(l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_kernel_roundtrip),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
