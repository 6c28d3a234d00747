/*
 * test_demux.c - the VRID table of a shared VRRP socket: add / remove as a
 * reload does, unknown VRIDs counted once on the interface, unicast
 * source mismatch and TTL attributed to the instance, and a full table of
 * 255 instances routing each advert to its own one.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>
#include <sys/socket.h>

#include "vipd/demux.h"

static union inaddr
ip(const char *s)
{
	union inaddr a;
	int fam;

	assert_int_equal(addr_pton(s, &fam, &a), 0);
	return a;
}

/* A received advert: only the VRID byte matters to the table. */
static struct vsock_rx
rx_for(uint8_t vrid, const char *src, int ttl, uint8_t *buf)
{
	struct vsock_rx rx = {.family = AF_INET, .ttl = ttl, .payload = buf, .len = 12};

	memset(buf, 0, 12);
	buf[0] = 0x31;
	buf[1] = vrid;
	rx.src = ip(src);
	rx.dst = ip("224.0.0.18");
	return rx;
}

static void
test_add_remove(void **state)
{
	struct demux d;
	int a, b;
	struct demux_ent ea = {.arg = &a}, eb = {.arg = &b};

	(void)state;
	demux_init(&d, AF_INET);
	assert_int_equal(demux_add(&d, 51, &ea), 0);
	assert_int_equal(d.n, 1);
	/* Another instance cannot take the VRID; the same one may update it. */
	assert_int_equal(demux_add(&d, 51, &eb), -1);
	assert_int_equal(demux_add(&d, 51, &ea), 0);
	assert_int_equal(d.n, 1);
	assert_ptr_equal(demux_get(&d, 51), &a);
	/* Removing with the wrong owner does nothing (a retired instance after a reload). */
	demux_del(&d, 51, &b);
	assert_ptr_equal(demux_get(&d, 51), &a);
	demux_del(&d, 51, &a);
	assert_null(demux_get(&d, 51));
	assert_int_equal(d.n, 0);
	/* A reload's new instance takes the VRID its predecessor left. */
	assert_int_equal(demux_add(&d, 51, &eb), 0);
	assert_ptr_equal(demux_get(&d, 51), &b);
}

static void
test_unknown_vrid_counted_once(void **state)
{
	struct demux d;
	int a;
	struct demux_ent ea = {.arg = &a};
	enum vrrp_drop why = DROP_MAX;
	uint8_t buf[12];
	struct vsock_rx rx;

	(void)state;
	demux_init(&d, AF_INET);
	demux_add(&d, 1, &ea);
	rx = rx_for(77, "192.0.2.9", 255, buf);
	assert_null(demux_route(&d, &rx, &why));
	assert_null(demux_route(&d, &rx, &why));
	assert_int_equal(d.dropped[DROP_VRID], 2);
	/* Too short to carry a VRID, or another family: counted on the interface too. */
	rx.len = 1;
	assert_null(demux_route(&d, &rx, &why));
	assert_int_equal(d.dropped[DROP_SHORT], 1);
	rx = rx_for(1, "192.0.2.9", 255, buf);
	rx.family = AF_INET6;
	assert_null(demux_route(&d, &rx, &why));
	assert_int_equal(d.dropped[DROP_FAMILY], 1);
}

static void
test_multicast_ttl(void **state)
{
	struct demux d;
	int a;
	struct demux_ent ea = {.arg = &a};
	enum vrrp_drop why;
	uint8_t buf[12];
	struct vsock_rx rx;

	(void)state;
	demux_init(&d, AF_INET);
	demux_add(&d, 9, &ea);
	rx = rx_for(9, "192.0.2.9", 255, buf);
	assert_ptr_equal(demux_route(&d, &rx, &why)->arg, &a);
	assert_int_equal(why, DROP_MAX);
	rx.ttl = 254;
	assert_ptr_equal(demux_route(&d, &rx, &why)->arg, &a);
	assert_int_equal(why, DROP_TTL);
	/* The instance counts it, not the interface. */
	assert_int_equal(d.dropped[DROP_TTL], 0);
}

/* Multicast mode: sent to the group, and an IPv6 source is link-local. */
static void
test_multicast_destination_and_source(void **state)
{
	struct demux d;
	int a;
	struct demux_ent ea = {.arg = &a};
	enum vrrp_drop why;
	uint8_t buf[12];
	struct vsock_rx rx;

	(void)state;
	demux_init(&d, AF_INET);
	demux_add(&d, 9, &ea);
	rx = rx_for(9, "192.0.2.9", 255, buf);
	rx.dst = ip("192.0.2.1"); /* unicast to us, in multicast mode */
	assert_ptr_equal(demux_route(&d, &rx, &why)->arg, &a);
	assert_int_equal(why, DROP_DEST);
	rx.dst = ip("224.0.0.19");
	demux_route(&d, &rx, &why);
	assert_int_equal(why, DROP_DEST);

	demux_init(&d, AF_INET6);
	demux_add(&d, 9, &ea);
	rx = rx_for(9, "fe80::9", 255, buf);
	rx.family = AF_INET6;
	rx.dst = ip("ff02::12");
	demux_route(&d, &rx, &why);
	assert_int_equal(why, DROP_MAX);
	rx.src = ip("2001:db8::9"); /* a global source */
	demux_route(&d, &rx, &why);
	assert_int_equal(why, DROP_SOURCE);
	rx.src = ip("fe80::9");
	rx.dst = ip("ff02::1");
	demux_route(&d, &rx, &why);
	assert_int_equal(why, DROP_DEST);
}

/* unicast_ttl_check: a peer's advert must come with TTL 255 too. */
static void
test_unicast_ttl_check(void **state)
{
	struct demux d;
	int a;
	union inaddr peers[1] = {ip("192.0.2.2")};
	struct demux_ent ea = {.arg = &a, .peers = peers, .npeers = 1, .ttl_check = true};
	enum vrrp_drop why;
	uint8_t buf[12];
	struct vsock_rx rx;

	(void)state;
	demux_init(&d, AF_INET);
	demux_add(&d, 9, &ea);
	rx = rx_for(9, "192.0.2.2", 64, buf);
	rx.dst = ip("192.0.2.1");
	demux_route(&d, &rx, &why);
	assert_int_equal(why, DROP_TTL);
	rx.ttl = 255;
	demux_route(&d, &rx, &why);
	assert_int_equal(why, DROP_MAX);
}

static void
test_unicast_source(void **state)
{
	struct demux d;
	int a;
	union inaddr peers[2] = {ip("192.0.2.2"), ip("192.0.2.3")};
	struct demux_ent ea = {.arg = &a, .peers = peers, .npeers = 2};
	enum vrrp_drop why;
	uint8_t buf[12];
	struct vsock_rx rx;

	(void)state;
	demux_init(&d, AF_INET);
	demux_add(&d, 9, &ea);
	/* A peer, any TTL (unicast adverts may be routed). */
	rx = rx_for(9, "192.0.2.3", 64, buf);
	assert_ptr_equal(demux_route(&d, &rx, &why)->arg, &a);
	assert_int_equal(why, DROP_MAX);
	/* Not a peer: the instance drops it. */
	rx = rx_for(9, "192.0.2.4", 255, buf);
	assert_ptr_equal(demux_route(&d, &rx, &why)->arg, &a);
	assert_int_equal(why, DROP_PEER);
	/* A reload that drops the peer updates the entry in place. */
	ea.npeers = 1;
	assert_int_equal(demux_add(&d, 9, &ea), 0);
	rx = rx_for(9, "192.0.2.3", 255, buf);
	demux_route(&d, &rx, &why);
	assert_int_equal(why, DROP_PEER);
}

static void
test_full_table(void **state)
{
	static int inst[256];
	struct demux d;
	enum vrrp_drop why;
	uint8_t buf[12];

	(void)state;
	demux_init(&d, AF_INET);
	for (int v = 1; v <= 255; v++) {
		struct demux_ent e = {.arg = &inst[v]};

		assert_int_equal(demux_add(&d, (uint8_t)v, &e), 0);
	}
	assert_int_equal(d.n, 255);
	for (int v = 1; v <= 255; v++) {
		struct vsock_rx rx = rx_for((uint8_t)v, "192.0.2.9", 255, buf);

		assert_ptr_equal(demux_route(&d, &rx, &why)->arg, &inst[v]);
	}
	for (int v = 1; v <= 255; v += 2)
		demux_del(&d, (uint8_t)v, &inst[v]);
	assert_int_equal(d.n, 127);
	struct vsock_rx rx = rx_for(3, "192.0.2.9", 255, buf);
	assert_null(demux_route(&d, &rx, &why));
	rx = rx_for(4, "192.0.2.9", 255, buf);
	assert_ptr_equal(demux_route(&d, &rx, &why)->arg, &inst[4]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_add_remove),    cmocka_unit_test(test_unknown_vrid_counted_once),
	    cmocka_unit_test(test_multicast_ttl), cmocka_unit_test(test_unicast_source),
	    cmocka_unit_test(test_full_table),
	    cmocka_unit_test(test_multicast_destination_and_source),
	    cmocka_unit_test(test_unicast_ttl_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
