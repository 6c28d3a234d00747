/*
 * test_addr.c - union inaddr / struct vip helpers: the unsigned compare
 * used by the RFC 5798 §6.4.3 tie-break, parsing and printing VIPs.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>
#include <sys/socket.h>

#include "vipd/addr.h"

static union inaddr
ip(const char *s, int want_family)
{
	union inaddr a;
	int fam = -1;

	assert_int_equal(addr_pton(s, &fam, &a), 0);
	assert_int_equal(fam, want_family);
	return a;
}

static void
test_addr_len(void **state)
{
	(void)state;
	assert_int_equal(addr_len(AF_INET), 4);
	assert_int_equal(addr_len(AF_INET6), 16);
	assert_int_equal(addr_len(AF_UNIX), 0);
}

static void
test_addr_cmp_v4(void **state)
{
	union inaddr a = ip("10.0.0.1", AF_INET), b = ip("10.0.0.2", AF_INET);
	union inaddr c = ip("10.0.1.0", AF_INET), hi = ip("192.168.0.1", AF_INET);
	union inaddr top = ip("255.255.255.255", AF_INET), a2 = ip("10.0.0.1", AF_INET);

	(void)state;
	assert_true(addr_cmp(AF_INET, &a, &b) < 0);
	assert_true(addr_cmp(AF_INET, &b, &a) > 0);
	assert_int_equal(addr_cmp(AF_INET, &a, &a2), 0);
	/* Network byte order: the most significant octet decides first. */
	assert_true(addr_cmp(AF_INET, &b, &c) < 0);
	/* Unsigned: 192.x and 255.x are above 10.x (no sign trouble). */
	assert_true(addr_cmp(AF_INET, &hi, &a) > 0);
	assert_true(addr_cmp(AF_INET, &top, &hi) > 0);
}

static void
test_addr_cmp_v6(void **state)
{
	union inaddr a = ip("fe80::1", AF_INET6), b = ip("fe80::2", AF_INET6);
	union inaddr c = ip("fe80::1:0", AF_INET6), d = ip("2001:db8::ffff", AF_INET6);

	(void)state;
	assert_true(addr_cmp(AF_INET6, &a, &b) < 0);
	assert_true(addr_cmp(AF_INET6, &c, &b) > 0);
	assert_true(addr_cmp(AF_INET6, &d, &a) < 0);
	assert_int_equal(addr_cmp(AF_INET6, &a, &a), 0);
}

static void
test_addr_is_zero(void **state)
{
	union inaddr z4 = ip("0.0.0.0", AF_INET), z6 = ip("::", AF_INET6);
	union inaddr one = ip("::1", AF_INET6), v4 = ip("0.0.0.1", AF_INET);

	(void)state;
	assert_true(addr_is_zero(AF_INET, &z4));
	assert_true(addr_is_zero(AF_INET6, &z6));
	assert_false(addr_is_zero(AF_INET6, &one));
	assert_false(addr_is_zero(AF_INET, &v4));
}

static void
test_addr_pton_ntop(void **state)
{
	char buf[ADDR_STRLEN];
	union inaddr a;
	int fam;

	(void)state;
	a = ip("192.0.2.100", AF_INET);
	assert_string_equal(addr_ntop(AF_INET, &a, buf), "192.0.2.100");
	a = ip("2001:0db8:0000::0001", AF_INET6);
	assert_string_equal(addr_ntop(AF_INET6, &a, buf), "2001:db8::1");
	a = ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", AF_INET6);
	assert_string_equal(addr_ntop(AF_INET6, &a, buf),
	                    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	/* IPv4 fills only the first 4 bytes; the rest stays zero. */
	a = ip("1.2.3.4", AF_INET);
	for (int i = 4; i < 16; i++)
		assert_int_equal(a.b[i], 0);

	assert_int_equal(addr_pton("", &fam, &a), -1);
	assert_int_equal(addr_pton("example.com", &fam, &a), -1);
	assert_int_equal(addr_pton("192.0.2.256", &fam, &a), -1);
	assert_int_equal(addr_pton("[::1]", &fam, &a), -1);
	assert_int_equal(addr_pton("192.0.2.1/24", &fam, &a), -1);
	assert_string_equal(addr_ntop(AF_UNIX, &a, buf), "?");
}

static void
test_vip_parse_good(void **state)
{
	static const struct {
		const char *in;
		int family;
		uint8_t prefixlen;
		const char *out;
	} cases[] = {
	    {"192.0.2.100", AF_INET, 32, "192.0.2.100/32"},
	    {"192.0.2.100/24", AF_INET, 24, "192.0.2.100/24"},
	    {"10.0.0.1/1", AF_INET, 1, "10.0.0.1/1"},
	    {"2001:db8::1", AF_INET6, 128, "2001:db8::1/128"},
	    {"2001:DB8:0::1/64", AF_INET6, 64, "2001:db8::1/64"},
	    {"fe80::1/128", AF_INET6, 128, "fe80::1/128"},
	    {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128", AF_INET6, 128,
	     "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128"},
	};
	char buf[ADDR_STRLEN + 4];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vip v;
		const char *why = NULL;

		assert_int_equal(vip_parse(cases[i].in, &v, &why), 0);
		assert_null(why);
		assert_int_equal(v.family, cases[i].family);
		assert_int_equal(v.prefixlen, cases[i].prefixlen);
		assert_string_equal(vip_ntop(&v, buf), cases[i].out);
	}
}

static void
test_vip_parse_bad(void **state)
{
	static const struct {
		const char *in;
		const char *why;
	} cases[] = {
	    {"", "not an IPv4 or IPv6 address"},
	    {"/24", "not an IPv4 or IPv6 address"},
	    {"eth0", "not an IPv4 or IPv6 address"},
	    {"192.0.2", "not an IPv4 or IPv6 address"},
	    {"192.0.2.1.5/24", "not an IPv4 or IPv6 address"},
	    {"[2001:db8::1]/64", "not an IPv4 or IPv6 address"},
	    {"2001:db8::1::2", "not an IPv4 or IPv6 address"},
	    /* Longer than any address text: must not overflow the copy. */
	    {"1111111111111111111111111111111111111111111111111111111111/24",
	     "not an IPv4 or IPv6 address"},
	    {"192.0.2.1/", "prefix length must be 1..32"},
	    {"192.0.2.1/0", "prefix length must be 1..32"},
	    {"192.0.2.1/33", "prefix length must be 1..32"},
	    {"192.0.2.1/24x", "prefix length must be 1..32"},
	    {"192.0.2.1/ 24", "prefix length must be 1..32"},
	    {"192.0.2.1/+24", "prefix length must be 1..32"},
	    {"192.0.2.1/024", "prefix length must be 1..32"},
	    {"192.0.2.1/99999999999999999999", "prefix length must be 1..32"},
	    {"2001:db8::1/0", "prefix length must be 1..128"},
	    {"2001:db8::1/129", "prefix length must be 1..128"},
	    {"0.0.0.0", "the unspecified address cannot be a virtual IP"},
	    {"::/64", "the unspecified address cannot be a virtual IP"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vip v;
		const char *why = NULL;

		assert_int_equal(vip_parse(cases[i].in, &v, &why), -1);
		assert_non_null(why);
		assert_string_equal(why, cases[i].why);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_addr_len),       cmocka_unit_test(test_addr_cmp_v4),
	    cmocka_unit_test(test_addr_cmp_v6),    cmocka_unit_test(test_addr_is_zero),
	    cmocka_unit_test(test_addr_pton_ntop), cmocka_unit_test(test_vip_parse_good),
	    cmocka_unit_test(test_vip_parse_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
