/*
 * test_vsock.c - the raw VRRP sockets (vsock.c) on the loopback of a
 * network namespace of the test's own (unshare), so nothing reaches the
 * host's interfaces: an advert sent is received with TTL / hop limit 255,
 * its addresses and payload intact, and a packet of another protocol
 * never shows up. Needs root (CAP_SYS_ADMIN, CAP_NET_RAW); skipped without.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/unit/testutil.h"
#include "vipd/addr.h"
#include "vipd/pkt.h"
#include "vipd/vsock.h"

static int lo_index;

/* A namespace of our own with lo up; -1 (skip) when not allowed. */
static int
setup(void **state)
{
	int rc = tu_own_netns();

	(void)state;
	assert_int_not_equal(rc, -1);
	if (rc == 1)
		lo_index = (int)if_nametoindex("lo"); /* else 0: the cases skip */
	return 0;
}

static union inaddr
ip(const char *s, int *fam)
{
	union inaddr a;

	assert_int_equal(addr_pton(s, fam, &a), 0);
	return a;
}

/* Wait up to 1 s for the socket to be readable. */
static void
wait_readable(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	assert_int_equal(poll(&p, 1, 1000), 1);
}

static void
roundtrip(const char *addr)
{
	int fam;
	union inaddr a = ip(addr, &fam);
	struct vip vip = {.family = fam, .prefixlen = fam == AF_INET ? 32 : 128};
	uint8_t pkt[VRRP_PKT_MAX], rbuf[2048];
	struct vsock_rx rx;
	struct vrrp_adv adv;
	enum vrrp_drop why;
	ssize_t n;
	int fd;

	if (!lo_index) {
		skip();
		return;
	}
	vip.addr = a;
	n = pkt_encode(pkt, sizeof(pkt),
	               &(struct pkt_msg){.family = fam,
	                                 .vrid = 7,
	                                 .priority = 150,
	                                 .max_adver_int_cs = 100,
	                                 .vips = &vip,
	                                 .nvips = 1,
	                                 .src = &a,
	                                 .dst = &a,
	                                 .cksum = CKSUM_RFC9568});
	assert_true(n > 0);
	fd = vsock_open(fam, lo_index, "lo", false);
	assert_true(fd >= 0);
	/* Nothing pending yet: 0, not an error. */
	assert_int_equal(vsock_recv(fd, fam, rbuf, sizeof(rbuf), &rx), 0);
	assert_int_equal(vsock_send(fd, fam, lo_index, &a, &a, pkt, (size_t)n), 0);
	wait_readable(fd);
	assert_int_equal(vsock_recv(fd, fam, rbuf, sizeof(rbuf), &rx), 1);
	assert_int_equal(rx.family, fam);
	assert_int_equal(rx.ttl, 255);
	assert_int_equal(rx.len, (size_t)n);
	assert_memory_equal(rx.payload, pkt, (size_t)n);
	assert_int_equal(addr_cmp(fam, &rx.src, &a), 0);
	assert_int_equal(addr_cmp(fam, &rx.dst, &a), 0);
	assert_int_equal(pkt_decode(rx.payload, rx.len, fam, &rx.src, &rx.dst, &adv, &why), 0);
	assert_int_equal(adv.vrid, 7);
	assert_int_equal(adv.priority, 150);
	close(fd);
}

static void
test_ipv4_roundtrip(void **state)
{
	(void)state;
	roundtrip("127.0.0.1");
}

static void
test_ipv6_roundtrip(void **state)
{
	(void)state;
	roundtrip("::1");
}

/* A packet of another IP protocol on the same address is not ours to read. */
static void
test_other_protocol_not_received(void **state)
{
	struct sockaddr_in to = {.sin_family = AF_INET};
	uint8_t rbuf[2048], junk[16] = {0};
	struct vsock_rx rx;
	int fd, other;
	int fam;

	(void)state;
	if (!lo_index) {
		skip();
		return;
	}
	to.sin_addr = ip("127.0.0.1", &fam).v4;
	fd = vsock_open(AF_INET, lo_index, "lo", false);
	assert_true(fd >= 0);
	other = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, 253); /* RFC 3692 experimental */
	assert_true(other >= 0);
	assert_int_equal(sendto(other, junk, sizeof(junk), 0, (struct sockaddr *)&to, sizeof(to)),
	                 (ssize_t)sizeof(junk));
	usleep(20000);
	assert_int_equal(vsock_recv(fd, AF_INET, rbuf, sizeof(rbuf), &rx), 0);
	close(other);
	close(fd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ipv4_roundtrip),
	    cmocka_unit_test(test_ipv6_roundtrip),
	    cmocka_unit_test(test_other_protocol_not_received),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
