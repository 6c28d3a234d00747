/*
 * test_pkt.c - the VRRPv3 codec: known wire bytes, both IPv4 checksum
 * forms, IPv6, every drop reason the codec returns, address-list compare.
 * Expected checksums were computed independently (Python), not by pkt.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>
#include <sys/socket.h>

#include "vipd/pkt.h"

/* The brief's example: VRID 51, prio 150, 1 address, 100 cs, 192.0.2.100. */
static const uint8_t example[] = {0x31, 0x33, 0x96, 0x01, 0x00, 0x64,
                                  0xd3, 0x71, 0xc0, 0x00, 0x02, 0x64};

/* IPv6: VRID 7, prio 200, fe80::100 + 2001:db8::100, 50 cs, fe80::1 -> ff02::12. */
static const uint8_t example6[] = {0x31, 0x07, 0xc8, 0x02, 0x00, 0x32, 0xda, 0x5a, 0xfe, 0x80,
                                   0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                   0x00, 0x00, 0x01, 0x00, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00,
                                   0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00};

/*
 * VRRPv2 (RFC 3768): VRID 51, prio 150, 1 address, Auth Type 1,
 * Adver Int 1 s, 192.0.2.100, password "secret" zero-padded; checksum
 * over the message alone (computed in Python). Byte for byte what
 * keepalived 2.2.7 sent with vrrp_version 2, advert_int 1 and
 * authentication { auth_type PASS auth_pass secret } (tcpdump in the lab).
 */
static const uint8_t example_v2[] = {0x21, 0x33, 0x96, 0x01, 0x01, 0x01, 0x49, 0x19, 0xc0, 0x00,
                                     0x02, 0x64, 0x73, 0x65, 0x63, 0x72, 0x65, 0x74, 0x00, 0x00};

static const struct pkt_auth auth_secret = {AUTH_PASS, "secret"};

static union inaddr
ip(const char *s)
{
	union inaddr a;
	int fam;

	assert_int_equal(addr_pton(s, &fam, &a), 0);
	return a;
}

static struct vip
vip(const char *s)
{
	struct vip v;
	const char *why = NULL;

	assert_int_equal(vip_parse(s, &v, &why), 0);
	return v;
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Rewrite the checksum after a test mutates a field. */
static void
fix_cksum(uint8_t *buf, size_t len, int family, const union inaddr *src, const union inaddr *dst,
          bool pseudo)
{
	put16(buf + 6, 0);
	put16(buf + 6, pkt_checksum(buf, len, family, src, dst, pseudo));
}

static void
test_example_is_pseudo_form(void **state)
{
	union inaddr src = ip("192.0.2.1"), dst = ip(VRRP_MCAST4);
	struct vip v = vip("192.0.2.100/24");
	uint8_t buf[64];
	ssize_t n;

	(void)state;
	/*
	 * d371 is the pseudo-header (RFC 5798 reading) form from 192.0.2.1 to
	 * 224.0.0.18; the message-only sum of the same bytes would be 7602.
	 */
	n = pkt_encode(buf, sizeof(buf),
	               &(struct pkt_msg){.family = AF_INET,
	                                 .vrid = 51,
	                                 .priority = 150,
	                                 .max_adver_int_cs = 100,
	                                 .vips = &v,
	                                 .nvips = 1,
	                                 .src = &src,
	                                 .dst = &dst,
	                                 .cksum = CKSUM_RFC5798});
	assert_int_equal(n, sizeof(example));
	assert_memory_equal(buf, example, sizeof(example));

	n = pkt_encode(buf, sizeof(buf),
	               &(struct pkt_msg){.family = AF_INET,
	                                 .vrid = 51,
	                                 .priority = 150,
	                                 .max_adver_int_cs = 100,
	                                 .vips = &v,
	                                 .nvips = 1,
	                                 .src = &src,
	                                 .dst = &dst,
	                                 .cksum = CKSUM_RFC9568});
	assert_int_equal(n, sizeof(example));
	assert_int_equal(buf[6], 0x76);
	assert_int_equal(buf[7], 0x02);
	assert_memory_equal(buf + 8, example + 8, 4);
	/* The message-only form does not need the IP addresses at all. */
	n = pkt_encode(buf, sizeof(buf),
	               &(struct pkt_msg){.family = AF_INET,
	                                 .vrid = 51,
	                                 .priority = 150,
	                                 .max_adver_int_cs = 100,
	                                 .vips = &v,
	                                 .nvips = 1,
	                                 .src = NULL,
	                                 .dst = NULL,
	                                 .cksum = CKSUM_RFC9568});
	assert_int_equal(n, sizeof(example));
	assert_int_equal(buf[6], 0x76);
}

static void
test_example_decodes(void **state)
{
	union inaddr src = ip("192.0.2.1"), dst = ip(VRRP_MCAST4);
	struct vrrp_adv adv;
	enum vrrp_drop drop = DROP_MAX;

	(void)state;
	assert_int_equal(pkt_decode(example, sizeof(example), AF_INET, &src, &dst, &adv, &drop), 0);
	assert_int_equal(adv.family, AF_INET);
	assert_int_equal(adv.version, 3);
	assert_int_equal(adv.type, 1);
	assert_int_equal(adv.vrid, 51);
	assert_int_equal(adv.priority, 150);
	assert_int_equal(adv.naddr, 1);
	assert_int_equal(adv.max_adver_int_cs, 100);
	assert_int_equal(adv.checksum, 0xd371);
	assert_true(adv.cksum_pseudo);
	assert_ptr_equal(adv.addrs, example + 8);
	assert_int_equal(pkt_checksum(example, sizeof(example), AF_INET, &src, &dst, true), 0);
}

static void
test_v4_both_forms_accepted(void **state)
{
	union inaddr src = ip("192.0.2.1"), dst = ip(VRRP_MCAST4);
	union inaddr other = ip("192.0.2.77");
	uint8_t buf[sizeof(example)];
	struct vrrp_adv adv;
	enum vrrp_drop drop = DROP_MAX;

	(void)state;
	/* Message-only (RFC 9568 / Cisco / Arista) form. */
	memcpy(buf, example, sizeof(buf));
	put16(buf + 6, 0x7602);
	assert_int_equal(pkt_decode(buf, sizeof(buf), AF_INET, &src, &dst, &adv, &drop), 0);
	assert_false(adv.cksum_pseudo);
	/* ...which does not depend on the addresses. */
	assert_int_equal(pkt_decode(buf, sizeof(buf), AF_INET, &other, &dst, &adv, &drop), 0);
	assert_false(adv.cksum_pseudo);

	/* The pseudo form from another source no longer matches either form. */
	assert_int_equal(pkt_decode(example, sizeof(example), AF_INET, &other, &dst, &adv, &drop),
	                 -1);
	assert_int_equal(drop, DROP_CHECKSUM);
}

static void
test_v4_pseudo_roundtrip(void **state)
{
	union inaddr src = ip("10.0.0.250"), dst = ip("10.0.0.251"); /* unicast peer */
	struct vip v[3] = {vip("10.0.0.1/24"), vip("10.0.0.2/24"), vip("10.0.0.3")};
	uint8_t buf[VRRP_PKT_MAX];
	struct vrrp_adv adv;
	enum vrrp_drop drop;
	ssize_t n;

	(void)state;
	n = pkt_encode(buf, sizeof(buf),
	               &(struct pkt_msg){.family = AF_INET,
	                                 .vrid = 10,
	                                 .priority = 100,
	                                 .max_adver_int_cs = 100,
	                                 .vips = v,
	                                 .nvips = 3,
	                                 .src = &src,
	                                 .dst = &dst,
	                                 .cksum = CKSUM_RFC5798});
	assert_int_equal(n, 8 + 3 * 4);
	assert_int_equal(buf[6] << 8 | buf[7], 0x360f); /* computed independently */
	assert_int_equal(pkt_decode(buf, (size_t)n, AF_INET, &src, &dst, &adv, &drop), 0);
	assert_true(adv.cksum_pseudo);
	assert_int_equal(adv.vrid, 10);
	assert_int_equal(adv.naddr, 3);
	assert_memory_equal(adv.addrs + 8, v[2].addr.b, 4);
	assert_true(pkt_addrs_match(&adv, v, 3));

	n = pkt_encode(buf, sizeof(buf),
	               &(struct pkt_msg){.family = AF_INET,
	                                 .vrid = 10,
	                                 .priority = 100,
	                                 .max_adver_int_cs = 100,
	                                 .vips = v,
	                                 .nvips = 3,
	                                 .src = &src,
	                                 .dst = &dst,
	                                 .cksum = CKSUM_RFC9568});
	assert_int_equal(buf[6] << 8 | buf[7], 0x4c88);
	assert_int_equal(pkt_decode(buf, (size_t)n, AF_INET, &src, &dst, &adv, &drop), 0);
	assert_false(adv.cksum_pseudo);
}

static void
test_v6_roundtrip(void **state)
{
	union inaddr src = ip("fe80::1"), dst = ip(VRRP_MCAST6), other = ip("fe80::2");
	struct vip v[2] = {vip("fe80::100/64"), vip("2001:db8::100/64")};
	uint8_t buf[VRRP_PKT_MAX];
	struct vrrp_adv adv;
	enum vrrp_drop drop;
	ssize_t n;

	(void)state;
	/* IPv6 always uses the pseudo-header, whatever the IPv4 mode says. */
	for (int mode = CKSUM_RFC5798; mode <= CKSUM_RFC9568; mode++) {
		n = pkt_encode(buf, sizeof(buf),
		               &(struct pkt_msg){.family = AF_INET6,
		                                 .vrid = 7,
		                                 .priority = 200,
		                                 .max_adver_int_cs = 50,
		                                 .vips = v,
		                                 .nvips = 2,
		                                 .src = &src,
		                                 .dst = &dst,
		                                 .cksum = (enum vrrp_cksum)mode});
		assert_int_equal(n, sizeof(example6));
		assert_memory_equal(buf, example6, sizeof(example6));
	}
	assert_int_equal(pkt_decode(buf, (size_t)n, AF_INET6, &src, &dst, &adv, &drop), 0);
	assert_int_equal(adv.family, AF_INET6);
	assert_int_equal(adv.vrid, 7);
	assert_int_equal(adv.priority, 200);
	assert_int_equal(adv.naddr, 2);
	assert_int_equal(adv.max_adver_int_cs, 50);
	assert_true(adv.cksum_pseudo);
	assert_true(pkt_addrs_match(&adv, v, 2));

	/* Wrong source: IPv6 has no message-only fallback. */
	assert_int_equal(pkt_decode(buf, (size_t)n, AF_INET6, &other, &dst, &adv, &drop), -1);
	assert_int_equal(drop, DROP_CHECKSUM);
	fix_cksum(buf, (size_t)n, AF_INET, NULL, NULL, false);
	assert_int_equal(pkt_decode(buf, (size_t)n, AF_INET6, &src, &dst, &adv, &drop), -1);
	assert_int_equal(drop, DROP_CHECKSUM);
	/* Without the IP addresses an IPv6 packet cannot be verified. */
	assert_int_equal(pkt_decode(example6, sizeof(example6), AF_INET6, NULL, NULL, &adv, &drop),
	                 -1);
	assert_int_equal(drop, DROP_CHECKSUM);
}

static void
test_v6_max_size(void **state)
{
	union inaddr src = ip("fe80::1"), dst = ip(VRRP_MCAST6);
	struct vip v[VRRP_MAX_ADDRS];
	uint8_t buf[VRRP_PKT_MAX];
	struct vrrp_adv adv;
	enum vrrp_drop drop;
	ssize_t n;

	(void)state;
	for (size_t i = 0; i < VRRP_MAX_ADDRS; i++) {
		v[i] = vip("2001:db8::1");
		v[i].addr.b[15] = (uint8_t)i;
		v[i].addr.b[14] = 1;
	}
	n = pkt_encode(buf, sizeof(buf),
	               &(struct pkt_msg){.family = AF_INET6,
	                                 .vrid = 1,
	                                 .priority = 1,
	                                 .max_adver_int_cs = 4095,
	                                 .vips = v,
	                                 .nvips = VRRP_MAX_ADDRS,
	                                 .src = &src,
	                                 .dst = &dst,
	                                 .cksum = CKSUM_RFC5798});
	assert_int_equal(n, VRRP_PKT_MAX);
	assert_int_equal(pkt_decode(buf, (size_t)n, AF_INET6, &src, &dst, &adv, &drop), 0);
	assert_int_equal(adv.naddr, 255);
	assert_int_equal(adv.max_adver_int_cs, 4095);
	assert_true(pkt_addrs_match(&adv, v, VRRP_MAX_ADDRS));
	/* One byte short of the buffer needed. */
	assert_int_equal(pkt_encode(buf, VRRP_PKT_MAX - 1,
	                            &(struct pkt_msg){.family = AF_INET6,
	                                              .vrid = 1,
	                                              .priority = 1,
	                                              .max_adver_int_cs = 100,
	                                              .vips = v,
	                                              .nvips = VRRP_MAX_ADDRS,
	                                              .src = &src,
	                                              .dst = &dst,
	                                              .cksum = CKSUM_RFC5798}),
	                 -1);
}

/* Decode buf and expect a drop for `want`. */
static void
expect_drop(const uint8_t *buf, size_t len, enum vrrp_drop want)
{
	union inaddr src = ip("192.0.2.1"), dst = ip(VRRP_MCAST4);
	struct vrrp_adv adv;
	enum vrrp_drop drop = DROP_MAX;

	assert_int_equal(pkt_decode(buf, len, AF_INET, &src, &dst, &adv, &drop), -1);
	assert_int_equal(drop, want);
}

static void
test_drop_reasons(void **state)
{
	union inaddr src = ip("192.0.2.1"), dst = ip(VRRP_MCAST4);
	uint8_t b[sizeof(example) + 4];
	struct vrrp_adv adv;
	enum vrrp_drop drop;

	(void)state;
	/* Short: nothing, 7 bytes of header. */
	expect_drop(example, 0, DROP_SHORT);
	expect_drop(example, 7, DROP_SHORT);
	/* Truncated address list: count says 1 but only 2 of 4 bytes came. */
	expect_drop(example, 10, DROP_SHORT);
	/* Count 2 with a single address present, checksum right for 12 bytes. */
	memcpy(b, example, sizeof(example));
	b[3] = 2;
	fix_cksum(b, sizeof(example), AF_INET, &src, &dst, true);
	expect_drop(b, sizeof(example), DROP_SHORT);

	/* Version 2 = VRRPv2 / CARP (same protocol number 112). */
	memcpy(b, example, sizeof(example));
	b[0] = 0x21;
	fix_cksum(b, sizeof(example), AF_INET, &src, &dst, true);
	expect_drop(b, sizeof(example), DROP_VERSION);
	b[0] = 0x41;
	expect_drop(b, sizeof(example), DROP_VERSION);

	/* Type 2 (unknown; only 1 = ADVERTISEMENT exists). */
	memcpy(b, example, sizeof(example));
	b[0] = 0x32;
	fix_cksum(b, sizeof(example), AF_INET, &src, &dst, true);
	expect_drop(b, sizeof(example), DROP_TYPE);

	/* Count 0. */
	memcpy(b, example, sizeof(example));
	b[3] = 0;
	fix_cksum(b, 8, AF_INET, &src, &dst, true);
	expect_drop(b, 8, DROP_ADDR_COUNT);

	/* Interval 0, also with the reserved bits set (they are not interval). */
	memcpy(b, example, sizeof(example));
	b[4] = 0xf0;
	b[5] = 0x00;
	fix_cksum(b, sizeof(example), AF_INET, &src, &dst, true);
	expect_drop(b, sizeof(example), DROP_INTERVAL);

	/* Reserved bits with a real interval: ignored, interval read as 100. */
	memcpy(b, example, sizeof(example));
	b[4] = 0xf0;
	fix_cksum(b, sizeof(example), AF_INET, &src, &dst, true);
	assert_int_equal(pkt_decode(b, sizeof(example), AF_INET, &src, &dst, &adv, &drop), 0);
	assert_int_equal(adv.max_adver_int_cs, 100);

	/* Bad checksum: one bit flipped in the address. */
	memcpy(b, example, sizeof(example));
	b[11] ^= 0x01;
	expect_drop(b, sizeof(example), DROP_CHECKSUM);

	/* Not a family the codec knows. */
	assert_int_equal(pkt_decode(example, sizeof(example), AF_UNIX, &src, &dst, &adv, &drop),
	                 -1);
	assert_int_equal(drop, DROP_FAMILY);
}

static void
test_trailing_bytes(void **state)
{
	union inaddr src = ip("192.0.2.1"), dst = ip(VRRP_MCAST4);
	uint8_t b[sizeof(example) + 3];
	struct vrrp_adv adv;
	enum vrrp_drop drop;

	(void)state;
	/* The sender checksummed all 15 bytes (odd length: zero-padded word). */
	memcpy(b, example, sizeof(example));
	b[12] = 0xde;
	b[13] = 0xad;
	b[14] = 0xbe;
	for (int pseudo = 0; pseudo <= 1; pseudo++) {
		fix_cksum(b, sizeof(b), AF_INET, &src, &dst, pseudo);
		assert_int_equal(pkt_decode(b, sizeof(b), AF_INET, &src, &dst, &adv, &drop), 0);
		assert_int_equal(adv.cksum_pseudo, pseudo);
		assert_int_equal(adv.naddr, 1);
	}
	/* Independent values for the 15 bytes (odd tail padded with zero). */
	put16(b + 6, 0x36c0);
	assert_int_equal(pkt_decode(b, sizeof(b), AF_INET, &src, &dst, &adv, &drop), 0);
	assert_true(adv.cksum_pseudo);
	put16(b + 6, 0xd953);
	assert_int_equal(pkt_decode(b, sizeof(b), AF_INET, &src, &dst, &adv, &drop), 0);
	assert_false(adv.cksum_pseudo);
	/* The original 12-byte checksum no longer covers the extra bytes. */
	memcpy(b, example, sizeof(example));
	expect_drop(b, sizeof(b), DROP_CHECKSUM);
}

/* A valid IPv4 advert that each case of test_encode_rejects() changes once. */
static struct pkt_msg
valid_msg(const struct vip *v, const union inaddr *src, const union inaddr *dst)
{
	return (struct pkt_msg){.family = AF_INET,
	                        .vrid = 1,
	                        .priority = 100,
	                        .max_adver_int_cs = 100,
	                        .vips = v,
	                        .nvips = 1,
	                        .src = src,
	                        .dst = dst,
	                        .cksum = CKSUM_RFC5798};
}

static void
test_encode_rejects(void **state)
{
	union inaddr src = ip("192.0.2.1"), dst = ip(VRRP_MCAST4);
	struct vip v[2] = {vip("192.0.2.100"), vip("2001:db8::1")};
	struct vip many[VRRP_MAX_ADDRS + 1];
	uint8_t buf[VRRP_PKT_MAX + 16];
	struct pkt_msg m;

	(void)state;
	for (size_t i = 0; i < VRRP_MAX_ADDRS + 1; i++)
		many[i] = v[0];
	m = valid_msg(v, &src, &dst);
	assert_int_equal(pkt_encode(buf, sizeof(buf), &m), 8 + 4);

	/* No address, or more than 255. */
	m = valid_msg(v, &src, &dst);
	m.nvips = 0;
	assert_int_equal(pkt_encode(buf, sizeof(buf), &m), -1);
	m = valid_msg(many, &src, &dst);
	m.nvips = VRRP_MAX_ADDRS + 1;
	assert_int_equal(pkt_encode(buf, sizeof(buf), &m), -1);
	/* Max Adver Int is 12 bits of centiseconds, and not 0. */
	m = valid_msg(v, &src, &dst);
	m.max_adver_int_cs = 0;
	assert_int_equal(pkt_encode(buf, sizeof(buf), &m), -1);
	m.max_adver_int_cs = 4096;
	assert_int_equal(pkt_encode(buf, sizeof(buf), &m), -1);
	/* One byte short of the header and one address. */
	m = valid_msg(v, &src, &dst);
	assert_int_equal(pkt_encode(buf, 11, &m), -1);
	/* One family per packet (RFC 5798 §5.2.9). */
	m.nvips = 2;
	assert_int_equal(pkt_encode(buf, sizeof(buf), &m), -1);
	m = valid_msg(v, &src, &dst);
	m.family = AF_UNIX;
	assert_int_equal(pkt_encode(buf, sizeof(buf), &m), -1);
	/* The pseudo-header form needs the IP addresses. */
	m = valid_msg(v, NULL, NULL);
	assert_int_equal(pkt_encode(buf, sizeof(buf), &m), -1);

	/* Limits that are valid: 255 addresses, 4095 cs, exact capacity, prio 0. */
	m = valid_msg(many, &src, &dst);
	m.priority = 0;
	m.max_adver_int_cs = 4095;
	m.nvips = VRRP_MAX_ADDRS;
	assert_int_equal(pkt_encode(buf, sizeof(buf), &m), 8 + 255 * 4);
	m = valid_msg(v, &src, &dst);
	m.priority = 0;
	m.max_adver_int_cs = 1;
	assert_int_equal(pkt_encode(buf, 12, &m), 12);
	assert_int_equal(buf[2], 0);
}

static void
test_addrs_match(void **state)
{
	union inaddr src = ip("192.0.2.1"), dst = ip(VRRP_MCAST4);
	struct vip abc[3] = {vip("192.0.2.1"), vip("192.0.2.2"), vip("192.0.2.3")};
	struct vip cab[3] = {abc[2], abc[0], abc[1]};
	struct vip abd[3] = {abc[0], abc[1], vip("192.0.2.4")};
	struct vip aab[3] = {abc[0], abc[0], abc[1]};
	struct vip v6[3] = {vip("::ffff:192.0.2.1"), vip("::ffff:192.0.2.2"),
	                    vip("::ffff:192.0.2.3")};
	uint8_t buf[64];
	struct vrrp_adv adv;
	enum vrrp_drop drop;
	struct pkt_msg m;
	ssize_t n;

	(void)state;
	m = valid_msg(abc, &src, &dst);
	m.nvips = 3;
	n = pkt_encode(buf, sizeof(buf), &m);
	assert_int_equal(pkt_decode(buf, (size_t)n, AF_INET, &src, &dst, &adv, &drop), 0);
	assert_true(pkt_addrs_match(&adv, abc, 3));
	assert_true(pkt_addrs_match(&adv, cab, 3));
	assert_false(pkt_addrs_match(&adv, abd, 3));
	assert_false(pkt_addrs_match(&adv, abc, 2));
	assert_false(pkt_addrs_match(&adv, aab, 3));
	assert_false(pkt_addrs_match(&adv, v6, 3));

	/* Duplicates on the wire are not the same set as ours either. */
	m.vips = aab;
	n = pkt_encode(buf, sizeof(buf), &m);
	assert_int_equal(pkt_decode(buf, (size_t)n, AF_INET, &src, &dst, &adv, &drop), 0);
	assert_false(pkt_addrs_match(&adv, abc, 3));
	assert_false(pkt_addrs_match(&adv, abc, 2));
	assert_true(pkt_addrs_match(&adv, aab, 3));
}

static void
test_v2_encode_matches_example(void **state)
{
	struct vip v = vip("192.0.2.100");
	struct pkt_msg m = {
	    .family = AF_INET,
	    .vrid = 51,
	    .priority = 150,
	    .max_adver_int_cs = 100,
	    .vips = &v,
	    .nvips = 1,
	    .version = VRRP_VERSION2,
	    .auth = &auth_secret,
	};
	uint8_t buf[64];

	(void)state;
	/* No src / dst needed: there is no pseudo-header in v2. */
	assert_int_equal(pkt_encode(buf, sizeof(buf), &m), sizeof(example_v2));
	assert_memory_equal(buf, example_v2, sizeof(example_v2));
	/* Auth Type 0: zero type, zero data. */
	m.auth = NULL;
	assert_int_equal(pkt_encode(buf, sizeof(buf), &m), sizeof(example_v2));
	assert_int_equal(buf[4], AUTH_NONE);
	for (size_t i = 12; i < 20; i++)
		assert_int_equal(buf[i], 0);
	assert_int_equal(pkt_checksum(buf, 20, AF_INET, NULL, NULL, false), 0);
}

static void
test_v2_encode_rejects(void **state)
{
	struct vip v = vip("192.0.2.100"), v6 = vip("2001:db8::1");
	const struct pkt_auth ah = {AUTH_AH, ""};
	struct pkt_msg m = {
	    .family = AF_INET,
	    .vrid = 51,
	    .priority = 150,
	    .max_adver_int_cs = 150, /* not whole seconds */
	    .vips = &v,
	    .nvips = 1,
	    .version = VRRP_VERSION2,
	};
	uint8_t buf[64];

	(void)state;
	assert_int_equal(pkt_encode(buf, sizeof(buf), &m), -1);
	m.max_adver_int_cs = 25600; /* 256 s does not fit 8 bits */
	assert_int_equal(pkt_encode(buf, sizeof(buf), &m), -1);
	m.max_adver_int_cs = 25500;
	assert_int_equal(pkt_encode(buf, sizeof(buf), &m), 20);
	assert_int_equal(buf[5], 255);
	/* Too small for the 8 bytes of auth data. */
	assert_int_equal(pkt_encode(buf, 19, &m), -1);
	m.auth = &ah;
	assert_int_equal(pkt_encode(buf, sizeof(buf), &m), -1);
	m.auth = NULL;
	m.family = AF_INET6;
	m.vips = &v6;
	assert_int_equal(pkt_encode(buf, sizeof(buf), &m), -1);
}

static void
test_v2_decode(void **state)
{
	const struct pkt_auth none = {AUTH_NONE, ""}, other = {AUTH_PASS, "secreT"};
	struct vrrp_adv adv;
	enum vrrp_drop drop = DROP_MAX;
	uint8_t b[sizeof(example_v2) + 4];

	(void)state;
	assert_int_equal(pkt_decode_v2(example_v2, sizeof(example_v2), &auth_secret, &adv, &drop),
	                 0);
	assert_int_equal(adv.family, AF_INET);
	assert_int_equal(adv.version, 2);
	assert_int_equal(adv.vrid, 51);
	assert_int_equal(adv.priority, 150);
	assert_int_equal(adv.naddr, 1);
	assert_int_equal(adv.auth_type, AUTH_PASS);
	assert_int_equal(adv.max_adver_int_cs, 100);
	assert_memory_equal(adv.addrs, example_v2 + 8, 4);

	/* Wrong password, no auth expected, PASS expected but none sent. */
	assert_int_equal(pkt_decode_v2(example_v2, sizeof(example_v2), &other, &adv, &drop), -1);
	assert_int_equal(drop, DROP_AUTH);
	assert_int_equal(pkt_decode_v2(example_v2, sizeof(example_v2), &none, &adv, &drop), -1);
	assert_int_equal(drop, DROP_AUTH);
	assert_int_equal(pkt_decode_v2(example_v2, sizeof(example_v2), NULL, &adv, &drop), -1);
	assert_int_equal(drop, DROP_AUTH);
	memcpy(b, example_v2, sizeof(example_v2));
	b[4] = AUTH_NONE;
	memset(b + 12, 0, 8);
	fix_cksum(b, sizeof(example_v2), AF_INET, NULL, NULL, false);
	assert_int_equal(pkt_decode_v2(b, sizeof(example_v2), &auth_secret, &adv, &drop), -1);
	assert_int_equal(drop, DROP_AUTH);
	assert_int_equal(pkt_decode_v2(b, sizeof(example_v2), NULL, &adv, &drop), 0);
	/* AH (type 2) is never accepted. */
	b[4] = AUTH_AH;
	fix_cksum(b, sizeof(example_v2), AF_INET, NULL, NULL, false);
	assert_int_equal(pkt_decode_v2(b, sizeof(example_v2), NULL, &adv, &drop), -1);
	assert_int_equal(drop, DROP_AUTH);

	/* Short: header only, or the auth data cut. */
	assert_int_equal(pkt_decode_v2(example_v2, 7, &auth_secret, &adv, &drop), -1);
	assert_int_equal(drop, DROP_SHORT);
	assert_int_equal(pkt_decode_v2(example_v2, 19, &auth_secret, &adv, &drop), -1);
	assert_int_equal(drop, DROP_SHORT);
	/* Bad checksum. */
	memcpy(b, example_v2, sizeof(example_v2));
	b[11] ^= 1;
	assert_int_equal(pkt_decode_v2(b, sizeof(example_v2), &auth_secret, &adv, &drop), -1);
	assert_int_equal(drop, DROP_CHECKSUM);
	/* Adver Int 0. */
	memcpy(b, example_v2, sizeof(example_v2));
	b[5] = 0;
	fix_cksum(b, sizeof(example_v2), AF_INET, NULL, NULL, false);
	assert_int_equal(pkt_decode_v2(b, sizeof(example_v2), &auth_secret, &adv, &drop), -1);
	assert_int_equal(drop, DROP_INTERVAL);
	/* A VRRPv3 advert to a v2 instance, and the reverse. */
	assert_int_equal(pkt_decode_v2(example, sizeof(example), NULL, &adv, &drop), -1);
	assert_int_equal(drop, DROP_VERSION);
	expect_drop(example_v2, sizeof(example_v2), DROP_VERSION);
	/* Trailing bytes are part of the checksum, as in v3. */
	memcpy(b, example_v2, sizeof(example_v2));
	memset(b + sizeof(example_v2), 0xab, 4);
	fix_cksum(b, sizeof(b), AF_INET, NULL, NULL, false);
	assert_int_equal(pkt_decode_v2(b, sizeof(b), &auth_secret, &adv, &drop), 0);
}

static void
test_drop_names(void **state)
{
	static const char *const want[DROP_MAX] = {
	    "short",    "version", "type", "addr_count", "interval",
	    "checksum", "ttl",     "vrid", "peer",       "family",
	    "destination", "source", "own_addr",
	    "auth",
	};

	(void)state;
	for (int i = 0; i < DROP_MAX; i++) {
		assert_non_null(vrrp_drop_names[i]);
		assert_string_equal(vrrp_drop_names[i], want[i]);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_example_is_pseudo_form),
	    cmocka_unit_test(test_example_decodes),
	    cmocka_unit_test(test_v4_both_forms_accepted),
	    cmocka_unit_test(test_v4_pseudo_roundtrip),
	    cmocka_unit_test(test_v6_roundtrip),
	    cmocka_unit_test(test_v6_max_size),
	    cmocka_unit_test(test_drop_reasons),
	    cmocka_unit_test(test_trailing_bytes),
	    cmocka_unit_test(test_encode_rejects),
	    cmocka_unit_test(test_addrs_match),
	    cmocka_unit_test(test_v2_encode_matches_example),
	    cmocka_unit_test(test_v2_encode_rejects),
	    cmocka_unit_test(test_v2_decode),
	    cmocka_unit_test(test_drop_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
