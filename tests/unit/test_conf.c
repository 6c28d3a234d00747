/*
 * test_conf.c - vipd.conf parsing: values, defaults, and the exact text
 * (with line numbers) of every class of error.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vipd/conf.h"

/* A valid instance to put next to the line under test (lines 1..4). */
#define GOOD_BODY                                                                                  \
	"interface = eth9\n"                                                                       \
	"vrid = 9\n"                                                                               \
	"virtual_ip = 198.51.100.9/24\n"
#define GOOD_INSTANCE "[instance ok]\n" GOOD_BODY

/* Parse text as "t.conf"; *errs gets what was written to the error stream. */
static struct conf *
load(const char *text, char **errs)
{
	size_t len;
	FILE *f = open_memstream(errs, &len);

	assert_non_null(f);
	struct conf *c = conf_load_string("t.conf", text, f);
	fclose(f);
	return c;
}

/* Parse text that must be valid. */
static struct conf *
load_ok(const char *text)
{
	char *errs;
	struct conf *c = load(text, &errs);

	assert_string_equal(errs, "");
	free(errs);
	assert_non_null(c);
	return c;
}

/* Parse text that must be refused with exactly `expect` on the error stream. */
static void
expect_errors(const char *text, const char *expect)
{
	char *errs;
	struct conf *c = load(text, &errs);

	assert_string_equal(errs, expect);
	assert_null(c);
	free(errs);
}

static void
assert_addr(int family, const union inaddr *a, const char *text)
{
	char buf[ADDR_STRLEN];

	assert_string_equal(addr_ntop(family, a, buf), text);
}

static void
assert_vip(const struct vip *v, const char *text)
{
	char buf[ADDR_STRLEN + 4];

	assert_string_equal(vip_ntop(v, buf), text);
}

static const char full_example[] =
    "[global]\n"
    "pidfile = /run/vipd.pid                 ; -p overrides\n"
    "control_socket = /run/vipd/vipd.sock    ; -S overrides; mode 0600\n"
    "log_level = info                        ; error|warning|info|debug\n"
    "\n"
    "[instance VI_1]                         ; any name after \"instance \"\n"
    "interface = eth0                        ; required, < IF_NAMESIZE\n"
    "vrid = 51                               ; required, 1..255\n"
    "priority = 150                          ; 1..255, 255 = address owner\n"
    "advert_interval = 1s                    ; 10ms..40950ms\n"
    "virtual_ip = 192.0.2.100/24             ; required, repeat the key for more\n"
    "preempt = yes                           ; default yes\n"
    "preempt_fast = yes                      ; default yes\n"
    "preempt_delay = 0s                      ; 0..3600s\n"
    "unicast_src = 192.0.2.11                ; optional\n"
    "unicast_peer = 192.0.2.12               ; repeatable\n"
    "checksum = rfc5798                      ; rfc5798 | rfc9568\n"
    "garp_repeat = 5                         ; 0..100, default 5\n"
    "garp_delay = 5s                         ; default 5s\n"
    "garp_refresh = 0s                       ; default 0 = off\n";

static void
test_full_example(void **state)
{
	(void)state;
	struct conf *c = load_ok(full_example);

	assert_string_equal(c->path, "t.conf");
	assert_string_equal(c->pidfile, "/run/vipd.pid");
	assert_string_equal(c->control_socket, "/run/vipd/vipd.sock");
	assert_int_equal(c->log_level, LOGL_INFO);
	assert_int_equal(c->ninstances, 1);
	const struct conf_instance *ci = &c->instances[0];
	assert_string_equal(ci->name, "VI_1");
	assert_int_equal(ci->line, 6);
	assert_string_equal(ci->ifname, "eth0");
	assert_int_equal(ci->vrid, 51);
	assert_int_equal(ci->priority, 150);
	assert_int_equal(ci->advert_interval_ms, 1000);
	assert_int_equal(ci->family, AF_INET);
	assert_int_equal(ci->nvips, 1);
	assert_vip(&ci->vips[0], "192.0.2.100/24");
	assert_true(ci->preempt);
	assert_true(ci->preempt_fast);
	assert_int_equal(ci->preempt_delay_ms, 0);
	assert_true(ci->has_unicast_src);
	assert_addr(AF_INET, &ci->unicast_src, "192.0.2.11");
	assert_int_equal(ci->npeers, 1);
	assert_addr(AF_INET, &ci->peers[0], "192.0.2.12");
	assert_int_equal(ci->checksum, CKSUM_RFC5798);
	assert_int_equal(ci->garp_repeat, 5);
	assert_int_equal(ci->garp_delay_ms, 5000);
	assert_int_equal(ci->garp_refresh_ms, 0);
	conf_free(c);
}

static void
test_defaults(void **state)
{
	(void)state;
	struct conf *c = load_ok("[instance a]\n"
	                         "interface = eth0\n"
	                         "vrid = 1\n"
	                         "virtual_ip = 192.0.2.1\n");

	assert_string_equal(c->pidfile, CONF_DEFAULT_PIDFILE);
	assert_string_equal(c->control_socket, CONF_DEFAULT_SOCKET);
	assert_int_equal(c->log_level, LOGL_INFO);
	const struct conf_instance *ci = &c->instances[0];
	assert_int_equal(ci->priority, 100);
	assert_int_equal(ci->advert_interval_ms, 1000);
	assert_vip(&ci->vips[0], "192.0.2.1/32");
	assert_true(ci->preempt);
	assert_true(ci->preempt_fast);
	assert_int_equal(ci->preempt_delay_ms, 0);
	assert_false(ci->has_unicast_src);
	assert_int_equal(ci->npeers, 0);
	assert_int_equal(ci->checksum, CKSUM_RFC5798);
	assert_int_equal(ci->garp_repeat, 5);
	assert_int_equal(ci->garp_delay_ms, 5000);
	assert_int_equal(ci->garp_refresh_ms, 0);
	conf_free(c);
}

static void
test_other_values(void **state)
{
	(void)state;
	struct conf *c = load_ok("[global]\n"
	                         "log_level = debug\n"
	                         "pidfile = /var/run/x.pid\n"
	                         "[instance a]\n"
	                         "interface = br-lan.10\n"
	                         "vrid = 255\n"
	                         "priority = 255\n"
	                         "advert_interval = 0.35\n"
	                         "virtual_ip = 192.0.2.1/24\n"
	                         "virtual_ip = 192.0.2.2/25\n"
	                         "preempt = off\n"
	                         "preempt_fast = FALSE\n"
	                         "preempt_delay = 1500ms\n"
	                         "checksum = rfc9568\n"
	                         "garp_repeat = 0\n"
	                         "garp_delay = 0\n"
	                         "garp_refresh = 60s\n");

	assert_int_equal(c->log_level, LOGL_DEBUG);
	assert_string_equal(c->pidfile, "/var/run/x.pid");
	const struct conf_instance *ci = &c->instances[0];
	assert_string_equal(ci->ifname, "br-lan.10");
	assert_int_equal(ci->vrid, 255);
	assert_int_equal(ci->priority, 255);
	assert_int_equal(ci->advert_interval_ms, 350);
	assert_int_equal(ci->nvips, 2);
	assert_vip(&ci->vips[1], "192.0.2.2/25");
	assert_false(ci->preempt);
	assert_false(ci->preempt_fast);
	assert_int_equal(ci->preempt_delay_ms, 1500);
	assert_int_equal(ci->checksum, CKSUM_RFC9568);
	assert_int_equal(ci->garp_repeat, 0);
	assert_int_equal(ci->garp_delay_ms, 0);
	assert_int_equal(ci->garp_refresh_ms, 60000);
	conf_free(c);
}

static void
test_ipv6_instance(void **state)
{
	(void)state;
	struct conf *c = load_ok("[instance v6]\n"
	                         "interface = eth1\n"
	                         "vrid = 51\n"
	                         "virtual_ip = 2001:db8::100/64\n"
	                         "virtual_ip = fe80::51\n"
	                         "unicast_src = 2001:db8::11\n"
	                         "unicast_peer = 2001:db8::12\n"
	                         "unicast_peer = 2001:db8::13\n"
	                         "checksum = rfc9568\n");
	const struct conf_instance *ci = &c->instances[0];

	assert_int_equal(ci->family, AF_INET6);
	assert_int_equal(ci->nvips, 2);
	assert_vip(&ci->vips[0], "2001:db8::100/64");
	assert_vip(&ci->vips[1], "fe80::51/128");
	assert_addr(AF_INET6, &ci->unicast_src, "2001:db8::11");
	assert_int_equal(ci->npeers, 2);
	assert_addr(AF_INET6, &ci->peers[1], "2001:db8::13");
	assert_int_equal(ci->checksum, CKSUM_RFC9568);
	conf_free(c);
}

static void
test_comments_and_layout(void **state)
{
	(void)state;
	struct conf *c;

	/* A ';' without a blank before it is part of the value. */
	expect_errors(GOOD_INSTANCE "virtual_ip =192.0.2.2;no-comment\n",
	              "t.conf:5: virtual_ip: not an IPv4 or IPv6 address, got "
	              "\"192.0.2.2;no-comment\"\n");
	c = load_ok("\xEF\xBB\xBF; a comment\n"
	            "# another comment\n"
	            "\n"
	            "   ; indented comment\n"
	            "[ instance  a ]   ; inline after a header\n"
	            "    interface = eth0 ; inline\n"
	            "\tvrid=7\t# inline hash\r\n"
	            "virtual_ip: 192.0.2.1\n"
	            "  virtual_ip = 192.0.2.2");
	const struct conf_instance *ci = &c->instances[0];
	assert_string_equal(ci->name, "a");
	assert_int_equal(ci->line, 5);
	assert_string_equal(ci->ifname, "eth0");
	assert_int_equal(ci->vrid, 7);
	assert_int_equal(ci->nvips, 2);
	assert_vip(&ci->vips[1], "192.0.2.2/32");
	conf_free(c);
}

static void
test_sections_any_order(void **state)
{
	(void)state;
	struct conf *c = load_ok("[global]\n"
	                         "log_level = error\n" GOOD_INSTANCE "[global]\n"
	                         "pidfile = /tmp/p\n"
	                         "[instance b]\n"
	                         "interface = eth0\n"
	                         "vrid = 9\n"
	                         "virtual_ip = 192.0.2.1\n");

	assert_int_equal(c->log_level, LOGL_ERROR);
	assert_string_equal(c->pidfile, "/tmp/p");
	assert_int_equal(c->ninstances, 2);
	assert_string_equal(c->instances[1].name, "b");
	conf_free(c);
}

static void
test_empty_config(void **state)
{
	(void)state;
	struct conf *c = load_ok("");

	assert_int_equal(c->ninstances, 0);
	conf_free(c);
}

static void
test_unknown_section(void **state)
{
	(void)state;
	expect_errors(GOOD_INSTANCE "[vrrp]\n"
	                            "foo = 1\n",
	              "t.conf:5: [vrrp]: unknown section, expected [global] or [instance NAME]\n");
	expect_errors("[instances x]\n",
	              "t.conf:1: [instances x]: unknown section, expected [global] or [instance "
	              "NAME]\n");
}

static void
test_unknown_key(void **state)
{
	(void)state;
	expect_errors("[global]\n"
	              "pid_file = /x\n" GOOD_INSTANCE "advert_int = 1\n",
	              "t.conf:2: pid_file: unknown key in [global]\n"
	              "t.conf:7: advert_int: unknown key in [instance ok]\n");
}

static void
test_key_outside_section(void **state)
{
	(void)state;
	expect_errors("log_level = info\n" GOOD_INSTANCE,
	              "t.conf:1: log_level: outside any section, put it under [global] or "
	              "[instance NAME]\n");
}

struct bad_value {
	const char *line;
	const char *error; /* after "t.conf:5: " */
};

static const struct bad_value bad_instance_values[] = {
    {"vrid = 300", "vrid: must be 1..255, got \"300\""},
    {"vrid = 0", "vrid: must be 1..255, got \"0\""},
    {"vrid = -1", "vrid: must be 1..255, got \"-1\""},
    {"vrid = 5x", "vrid: must be 1..255, got \"5x\""},
    {"vrid =", "vrid: must be 1..255, got \"\""},
    {"vrid = 99999999999999999999", "vrid: must be 1..255, got \"99999999999999999999\""},
    {"priority = 0", "priority: must be 1..255, got \"0\""},
    {"priority = 256", "priority: must be 1..255, got \"256\""},
    {"garp_repeat = 101", "garp_repeat: must be 0..100, got \"101\""},
    {"advert_interval = 5ms",
     "advert_interval: must be 10ms..40950ms in steps of 10ms, got \"5ms\""},
    {"advert_interval = 15ms",
     "advert_interval: must be 10ms..40950ms in steps of 10ms, got \"15ms\""},
    {"advert_interval = 41s",
     "advert_interval: must be 10ms..40950ms in steps of 10ms, got \"41s\""},
    {"advert_interval = 0", "advert_interval: must be 10ms..40950ms in steps of 10ms, got \"0\""},
    {"advert_interval = fast",
     "advert_interval: must be a duration such as \"1s\" or \"100ms\", got \"fast\""},
    {"preempt_delay = 3601s", "preempt_delay: must be 0s..3600s, got \"3601s\""},
    {"preempt_delay = -1s",
     "preempt_delay: must be a duration such as \"1s\" or \"100ms\", got \"-1s\""},
    {"garp_delay = 2h", "garp_delay: must be a duration such as \"1s\" or \"100ms\", got \"2h\""},
    {"garp_refresh = 86401s", "garp_refresh: must be 0s..86400s, got \"86401s\""},
    {"preempt = maybe", "preempt: must be yes or no (or true/false, on/off, 1/0), got \"maybe\""},
    {"preempt_fast = 2", "preempt_fast: must be yes or no (or true/false, on/off, 1/0), got \"2\""},
    {"checksum = rfc3768", "checksum: must be rfc5798 or rfc9568, got \"rfc3768\""},
    {"virtual_ip = 198.51.100.300", "virtual_ip: not an IPv4 or IPv6 address, got "
                                    "\"198.51.100.300\""},
    {"virtual_ip = 198.51.100.1/33",
     "virtual_ip: prefix length must be 1..32, got \"198.51.100.1/33\""},
    {"virtual_ip = 0.0.0.0", "virtual_ip: the unspecified address cannot be a virtual IP, got "
                             "\"0.0.0.0\""},
    {"unicast_peer = peer1", "unicast_peer: must be an IPv4 or IPv6 address, got \"peer1\""},
    {"unicast_peer = 0.0.0.0",
     "unicast_peer: must not be the unspecified address, got \"0.0.0.0\""},
    {"interface = a-very-long-ifname",
     "interface: must be an interface name of 1..15 characters, got \"a-very-long-ifname\""},
    {"interface = eth0:1",
     "interface: must be an interface name of 1..15 characters, got \"eth0:1\""},
    {"interface = ..", "interface: must be an interface name of 1..15 characters, got \"..\""},
};

static const struct bad_value bad_global_values[] = {
    {"pidfile = run/vipd.pid", "pidfile: must be an absolute path, got \"run/vipd.pid\""},
    {"control_socket = /run/"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaa",
     "control_socket: must be an absolute path of at most 107 bytes, got \"/run/"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaa\""},
    {"log_level = verbose", "log_level: must be error, warning, info or debug, got \"verbose\""},
};

/* Each bad line goes on line 5, after [global] or a valid instance. */
static void
check_bad(const char *head, const char *tail, const struct bad_value *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char text[1024], expect[1024];

		snprintf(text, sizeof(text), "%s%s\n%s", head, t[i].line, tail);
		snprintf(expect, sizeof(expect), "t.conf:5: %s\n", t[i].error);
		expect_errors(text, expect);
	}
}

/* The instance has its required keys, less the one under test (a blank line instead). */
static void
check_bad_instance(const struct bad_value *t, size_t n)
{
	static const char *const good[] = {"interface = eth9\n", "vrid = 9\n",
	                                   "virtual_ip = 198.51.100.9/24\n"};

	for (size_t i = 0; i < n; i++) {
		char head[256] = "[instance ok]\n";

		for (size_t k = 0; k < 3; k++) {
			size_t klen = strcspn(good[k], " ");
			bool same =
			    strncmp(t[i].line, good[k], klen) == 0 && t[i].line[klen] == ' ';

			strcat(head, same ? "\n" : good[k]);
		}
		check_bad(head, "", &t[i], 1);
	}
}

static void
test_bad_values(void **state)
{
	(void)state;
	check_bad_instance(bad_instance_values,
	                   sizeof(bad_instance_values) / sizeof(bad_instance_values[0]));
	check_bad("[global]\n\n\n\n", GOOD_INSTANCE, bad_global_values,
	          sizeof(bad_global_values) / sizeof(bad_global_values[0]));
}

static void
test_given_twice(void **state)
{
	(void)state;
	expect_errors(GOOD_INSTANCE "priority = 10\n"
	                            "priority = 20\n"
	                            "vrid = 10\n",
	              "t.conf:6: priority: given twice, first on line 5\n"
	              "t.conf:7: vrid: given twice, first on line 3\n");
	/* A repeated [global] section is fine, a repeated key in it is not. */
	expect_errors("[global]\n"
	              "log_level = info\n" GOOD_INSTANCE "[global]\n"
	              "log_level = debug\n",
	              "t.conf:8: log_level: given twice, first on line 2\n");
}

static void
test_repeatable_keys(void **state)
{
	(void)state;
	struct conf *c = load_ok(GOOD_INSTANCE "virtual_ip = 198.51.100.10/24\n"
	                                       "virtual_ip = 198.51.100.11\n"
	                                       "unicast_peer = 198.51.100.2\n"
	                                       "unicast_peer = 198.51.100.3\n"
	                                       "unicast_peer = 198.51.100.4\n");
	const struct conf_instance *ci = &c->instances[0];

	assert_int_equal(ci->nvips, 3);
	assert_vip(&ci->vips[2], "198.51.100.11/32");
	assert_int_equal(ci->npeers, 3);
	assert_false(ci->has_unicast_src);
	assert_addr(AF_INET, &ci->peers[2], "198.51.100.4");
	conf_free(c);
}

static void
test_duplicates_in_lists(void **state)
{
	(void)state;
	expect_errors(GOOD_INSTANCE "virtual_ip = 198.51.100.9/32\n"
	                            "unicast_peer = 198.51.100.2\n"
	                            "unicast_peer = 198.51.100.2\n",
	              "t.conf:5: virtual_ip: 198.51.100.9/32 given twice, first on line 4\n"
	              "t.conf:7: unicast_peer: 198.51.100.2 given twice, first on line 6\n");
}

static void
test_too_many(void **state)
{
	(void)state;
	char text[8192];
	size_t n = (size_t)snprintf(text, sizeof(text), "%s", GOOD_INSTANCE);

	for (int i = 1; i < CONF_MAX_VIPS; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "virtual_ip = 10.0.0.%d\n", i);
	struct conf *c = load_ok(text);
	assert_int_equal(c->instances[0].nvips, CONF_MAX_VIPS);
	conf_free(c);

	snprintf(text + n, sizeof(text) - n, "virtual_ip = 10.0.1.1\n");
	expect_errors(text, "t.conf:68: virtual_ip: too many, at most 64 per instance\n");

	n = (size_t)snprintf(text, sizeof(text), "%s", GOOD_INSTANCE);
	for (int i = 1; i <= CONF_MAX_PEERS + 1; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "unicast_peer = 10.0.0.%d\n", i);
	expect_errors(text, "t.conf:37: unicast_peer: too many, at most 32 per instance\n");
}

static void
test_vip_family_mismatch(void **state)
{
	(void)state;
	expect_errors(GOOD_INSTANCE "\n"
	                            "virtual_ip = 2001:db8::1\n",
	              "t.conf:6: virtual_ip: 2001:db8::1 is IPv6 but this instance's first VIP "
	              "is IPv4 (line 4)\n");
	expect_errors("[instance six]\n"
	              "interface = eth0\n"
	              "vrid = 1\n"
	              "virtual_ip = 2001:db8::1/64\n"
	              "virtual_ip = 192.0.2.1/24\n",
	              "t.conf:5: virtual_ip: 192.0.2.1/24 is IPv4 but this instance's first VIP "
	              "is IPv6 (line 4)\n");
}

static void
test_missing_required(void **state)
{
	(void)state;
	expect_errors("[global]\n"
	              "\n"
	              "[instance a]\n"
	              "priority = 10\n",
	              "t.conf:3: interface: missing\n"
	              "t.conf:3: vrid: missing\n"
	              "t.conf:3: virtual_ip: missing\n");
	/* An instance with no virtual_ip; reported at the header, before later lines. */
	expect_errors("[instance a]\n"
	              "interface = eth0\n"
	              "vrid = 1\n"
	              "priority = 0\n",
	              "t.conf:1: virtual_ip: missing\n"
	              "t.conf:4: priority: must be 1..255, got \"0\"\n");
}

static void
test_instance_names(void **state)
{
	(void)state;
	expect_errors(GOOD_INSTANCE "[instance ok]\n"
	                            "interface = eth1\n"
	                            "vrid = 1\n"
	                            "virtual_ip = 192.0.2.1\n",
	              "t.conf:5: [instance ok]: defined twice, first on line 1\n");
	expect_errors("[instance]\n"
	              "interface = eth1\n"
	              "vrid = 1\n"
	              "virtual_ip = 192.0.2.1\n"
	              "[instance   ]\n"
	              "interface = eth1\n"
	              "vrid = 2\n"
	              "virtual_ip = 192.0.2.2\n",
	              "t.conf:1: [instance]: missing instance name\n"
	              "t.conf:5: [instance]: missing instance name\n");
	expect_errors("[instance a/b]\n"
	              "interface = eth1\n"
	              "vrid = 1\n"
	              "virtual_ip = 192.0.2.1\n",
	              "t.conf:1: [instance a/b]: name must be 1..63 characters of A-Z a-z 0-9 _ . "
	              "-\n");

	char text[256], expect[256], name[65];
	memset(name, 'n', 64);
	name[64] = '\0';
	snprintf(text, sizeof(text), "[instance %s]\n%s", name, GOOD_BODY);
	snprintf(expect, sizeof(expect),
	         "t.conf:1: [instance %s]: name must be 1..63 characters of A-Z a-z 0-9 _ . -\n",
	         name);
	expect_errors(text, expect);
	name[63] = '\0'; /* 63 is fine */
	snprintf(text, sizeof(text), "[instance %s]\n%s", name, GOOD_BODY);
	struct conf *c = load_ok(text);
	assert_string_equal(c->instances[0].name, name);
	conf_free(c);
}

static void
test_duplicate_router(void **state)
{
	(void)state;
	expect_errors(GOOD_INSTANCE "[instance b]\n"
	                            "virtual_ip = 198.51.100.10\n"
	                            "interface = eth9\n"
	                            "vrid = 9\n",
	              "t.conf:8: vrid: 9 on eth9 (IPv4) is already used by instance ok (line 1)\n");
	/* Same VRID: another family, or another interface, is another router. */
	struct conf *c = load_ok(GOOD_INSTANCE "[instance b]\n"
	                                       "interface = eth9\n"
	                                       "vrid = 9\n"
	                                       "virtual_ip = 2001:db8::9\n"
	                                       "[instance c]\n"
	                                       "interface = eth8\n"
	                                       "vrid = 9\n"
	                                       "virtual_ip = 198.51.100.10\n");
	assert_int_equal(c->ninstances, 3);
	conf_free(c);
}

static void
test_unicast(void **state)
{
	(void)state;
	expect_errors(GOOD_INSTANCE "unicast_src = 198.51.100.1\n",
	              "t.conf:5: unicast_src: needs at least one unicast_peer\n");
	expect_errors(GOOD_INSTANCE "unicast_peer = 198.51.100.1\n"
	                            "unicast_peer = 198.51.100.2\n"
	                            "unicast_src = 198.51.100.2\n",
	              "t.conf:6: unicast_peer: 198.51.100.2 is also the unicast_src (line 7)\n");
	expect_errors(GOOD_INSTANCE "unicast_src = 2001:db8::1\n"
	                            "unicast_peer = 2001:db8::2\n"
	                            "unicast_peer = 198.51.100.2\n",
	              "t.conf:5: unicast_src: 2001:db8::1 is IPv6 but this instance's VIPs are "
	              "IPv4 (line 4)\n"
	              "t.conf:6: unicast_peer: 2001:db8::2 is IPv6 but this instance's VIPs are "
	              "IPv4 (line 4)\n");
	/* Peers may come before the VIPs. */
	struct conf *c = load_ok("[instance u]\n"
	                         "unicast_peer = 2001:db8::2\n"
	                         "unicast_src = 2001:db8::1\n"
	                         "interface = eth0\n"
	                         "vrid = 3\n"
	                         "virtual_ip = 2001:db8::100\n");
	assert_int_equal(c->instances[0].npeers, 1);
	conf_free(c);
}

static void
test_syntax_errors(void **state)
{
	(void)state;
	expect_errors("[global\n"
	              "[global] junk\n"
	              "[global]\n"
	              "log_level info\n"
	              "= info\n"
	              "log_level = debug\n"
	              "[instance x]\n"
	              "virtual_ip 2001:db8::1\n",
	              "t.conf:1: syntax error: a section header is [global] or [instance NAME]\n"
	              "t.conf:2: syntax error: a section header is [global] or [instance NAME]\n"
	              "t.conf:4: syntax error: expected \"key = value\"\n"
	              "t.conf:5: syntax error: no key before \"=\"\n"
	              "t.conf:7: interface: missing\n"
	              "t.conf:7: vrid: missing\n"
	              "t.conf:7: virtual_ip: missing\n"
	              "t.conf:8: syntax error: expected \"key = value\"\n");
	/* The last line is a syntax error too (checked when the input ends). */
	expect_errors(GOOD_INSTANCE "garbage",
	              "t.conf:5: syntax error: expected \"key = value\"\n");
}

static void
test_line_too_long(void **state)
{
	(void)state;
	char text[1024], expect[256];

	snprintf(text, sizeof(text), "[global]\npidfile = /%0300d\n%s", 0, GOOD_INSTANCE);
	snprintf(expect, sizeof(expect), "t.conf:2: line too long, at most 198 characters\n");
	expect_errors(text, expect);
}

static void
test_many_errors(void **state)
{
	(void)state;
	expect_errors("[global]\n"
	              "log_level = loud\n"
	              "[instance a]\n"
	              "interface = eth0\n"
	              "vrid = 256\n"
	              "virtual_ip = 192.0.2.1\n"
	              "advert_interval = 1.0001s\n"
	              "[instance b]\n"
	              "interface = eth0\n"
	              "vrid = 1\n"
	              "[instance c]\n"
	              "interface = eth0\n"
	              "vrid = 1\n"
	              "virtual_ip = 192.0.2.3\n"
	              "[instance d]\n"
	              "interface = eth0\n"
	              "vrid = 1\n"
	              "virtual_ip = 192.0.2.4\n"
	              "whatever\n",
	              "t.conf:2: log_level: must be error, warning, info or debug, got \"loud\"\n"
	              "t.conf:5: vrid: must be 1..255, got \"256\"\n"
	              "t.conf:7: advert_interval: must be a duration such as \"1s\" or \"100ms\", "
	              "got \"1.0001s\"\n"
	              "t.conf:8: virtual_ip: missing\n"
	              "t.conf:17: vrid: 1 on eth0 (IPv4) is already used by instance c (line 11)\n"
	              "t.conf:19: syntax error: expected \"key = value\"\n");
}

static void
test_durations(void **state)
{
	(void)state;
	static const struct {
		const char *s;
		uint32_t ms;
	} good[] = {
	    {"1s", 1000},
	    {"100ms", 100},
	    {"0.01s", 10},
	    {"0.1", 100},
	    {"1500ms", 1500},
	    {"2", 2000},
	    {"0", 0},
	    {"0ms", 0},
	    {"1.5s", 1500},
	    {"0.001", 1},
	    {"40.95", 40950},
	    {"4294967295ms", 4294967295u},
	    {"4294967.295s", 4294967295u},
	};
	static const char *const bad[] = {
	    "",     "-1",           "-1s",          "+1s",   "s",
	    "ms",   "1m",           "1 s",          " 1s",   "1s ",
	    "1.s",  ".5",           "0.0001",       "1.5ms", "1e3",
	    "0x10", "4294967296ms", "4294967.296s", "1sec",  "99999999999999999999s",
	};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		uint32_t ms = 12345;

		if (conf_parse_duration_ms(good[i].s, &ms) != 0)
			fail_msg("\"%s\" refused", good[i].s);
		assert_int_equal(ms, good[i].ms);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint32_t ms = 12345;

		if (conf_parse_duration_ms(bad[i], &ms) != -1)
			fail_msg("\"%s\" accepted as %u ms", bad[i], ms);
		assert_int_equal(ms, 12345);
	}
}

static void
test_find(void **state)
{
	(void)state;
	struct conf *c = load_ok(GOOD_INSTANCE "[instance b]\n"
	                                       "interface = eth9\n"
	                                       "vrid = 9\n"
	                                       "virtual_ip = 2001:db8::9\n");

	assert_ptr_equal(conf_find(c, "eth9", 9, AF_INET), &c->instances[0]);
	assert_ptr_equal(conf_find(c, "eth9", 9, AF_INET6), &c->instances[1]);
	assert_null(conf_find(c, "eth9", 10, AF_INET));
	assert_null(conf_find(c, "eth0", 9, AF_INET));
	conf_free(c);
}

static void
test_load_file(void **state)
{
	(void)state;
	char path[] = "/tmp/test_conf.XXXXXX", *errs;
	size_t len;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, full_example, strlen(full_example)),
	                 (ssize_t)strlen(full_example));
	close(fd);
	struct conf *c = conf_load(path, stderr);
	assert_non_null(c);
	assert_string_equal(c->path, path);
	assert_int_equal(c->instances[0].vrid, 51);
	conf_free(c);
	unlink(path);

	FILE *f = open_memstream(&errs, &len);
	assert_null(conf_load("/nonexistent/vipd.conf", f));
	fclose(f);
	assert_string_equal(errs,
	                    "/nonexistent/vipd.conf: cannot open: No such file or directory\n");
	free(errs);

	f = open_memstream(&errs, &len);
	assert_null(conf_load("/", f));
	fclose(f);
	assert_string_equal(errs, "/: read error: Is a directory\n");
	free(errs);

	/* errs may be NULL. */
	assert_null(conf_load("/nonexistent/vipd.conf", NULL));
	assert_null(conf_load_string("x", "[nope]\n", NULL));
	conf_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_full_example),
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_other_values),
	    cmocka_unit_test(test_ipv6_instance),
	    cmocka_unit_test(test_comments_and_layout),
	    cmocka_unit_test(test_sections_any_order),
	    cmocka_unit_test(test_empty_config),
	    cmocka_unit_test(test_unknown_section),
	    cmocka_unit_test(test_unknown_key),
	    cmocka_unit_test(test_key_outside_section),
	    cmocka_unit_test(test_bad_values),
	    cmocka_unit_test(test_given_twice),
	    cmocka_unit_test(test_repeatable_keys),
	    cmocka_unit_test(test_duplicates_in_lists),
	    cmocka_unit_test(test_too_many),
	    cmocka_unit_test(test_vip_family_mismatch),
	    cmocka_unit_test(test_missing_required),
	    cmocka_unit_test(test_instance_names),
	    cmocka_unit_test(test_duplicate_router),
	    cmocka_unit_test(test_unicast),
	    cmocka_unit_test(test_syntax_errors),
	    cmocka_unit_test(test_line_too_long),
	    cmocka_unit_test(test_many_errors),
	    cmocka_unit_test(test_durations),
	    cmocka_unit_test(test_find),
	    cmocka_unit_test(test_load_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
