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
#include <sys/stat.h>
#include <unistd.h>

#include "vipd/argv.h"
#include "vipd/conf.h"
#include <curl/curl.h>
#include "vipd/fsec.h"

/* A valid instance to put next to the line under test (lines 1..4). */
#define GOOD_BODY                                                                                  \
	"interface = eth9\n"                                                                       \
	"vrid = 9\n"                                                                               \
	"virtual_ip = 198.51.100.9/24\n"
#define GOOD_INSTANCE "[instance ok]\n" GOOD_BODY

/* Parse text as "t.conf"; *errs gets what was written to the error stream. */
#define SECTIONS "[global], [instance NAME], [check NAME] or [group NAME]"

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

/* [global] startup_delay applies to every instance. */
static void
test_startup_delay(void **state)
{
	(void)state;
	struct conf *c = load_ok("[global]\n"
	                         "startup_delay = 90\n" GOOD_INSTANCE);

	assert_int_equal(c->startup_delay_ms, 90000);
	assert_int_equal(c->instances[0].startup_delay_ms, 90000);
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
	assert_int_equal(c->realtime_priority, CONF_DEFAULT_RT_PRIORITY);
	const struct conf_instance *ci = &c->instances[0];
	assert_int_equal(ci->priority, 100);
	assert_int_equal(ci->advert_interval_ms, 1000);
	assert_vip(&ci->vips[0], "192.0.2.1/32");
	assert_true(ci->preempt);
	assert_true(ci->preempt_fast);
	assert_int_equal(ci->preempt_delay_ms, 0);
	assert_int_equal(c->startup_delay_ms, 0);
	assert_int_equal(ci->startup_delay_ms, 0);
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
	              "t.conf:5: [vrrp]: unknown section, expected " SECTIONS "\n");
	expect_errors("[instances x]\n",
	              "t.conf:1: [instances x]: unknown section, expected " SECTIONS "\n");
	expect_errors("[checks x]\n",
	              "t.conf:1: [checks x]: unknown section, expected " SECTIONS "\n");
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
	              "t.conf:1: log_level: outside any section, put it under " SECTIONS "\n");
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
    {"version = 1", "version: must be 2..3, got \"1\""},
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
    {"realtime_priority = 100", "realtime_priority: must be 0..99, got \"100\""},
    {"startup_delay = 2h",
     "startup_delay: must be a duration such as \"1s\" or \"100ms\", got \"2h\""},
    {"startup_delay = 3601s", "startup_delay: must be 0s..3600s, got \"3601s\""},
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
	char text[16384];
	size_t n = (size_t)snprintf(text, sizeof(text), "%s", GOOD_INSTANCE);

	/* The protocol's limit: 255 addresses in one advert. */
	assert_int_equal(CONF_MAX_VIPS, 255);
	for (int i = 1; i < CONF_MAX_VIPS; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "virtual_ip = 10.0.%d.%d\n",
		                      i / 200, i % 200 + 1);
	struct conf *c = load_ok(text);
	assert_int_equal(c->instances[0].nvips, CONF_MAX_VIPS);
	conf_free(c);

	snprintf(text + n, sizeof(text) - n, "virtual_ip = 10.0.9.1\n");
	expect_errors(text, "t.conf:259: virtual_ip: too many, at most 255 per instance (the count "
	                    "of addresses in an advert is one byte, RFC 5798 section 5.2.5)\n");

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
	expect_errors(GOOD_INSTANCE "unicast_ttl_check = yes\n",
	              "t.conf:5: unicast_ttl_check: applies to unicast mode only (no "
	              "unicast_peer); multicast adverts are always checked\n");
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

/* version = 2 (RFC 3768): IPv4, whole seconds, no checksum key, auth only there. */
static void
test_version(void **state)
{
	(void)state;
	struct conf *c = load_ok(GOOD_INSTANCE);
	assert_int_equal(c->instances[0].version, 3);
	assert_int_equal(c->instances[0].auth.type, AUTH_NONE);
	conf_free(c);

	c = load_ok(GOOD_INSTANCE "version = 2\nauth_type = PASS\nauth_pass = 12345678\n"
	                          "advert_interval = 3\n");
	assert_int_equal(c->instances[0].version, 2);
	assert_int_equal(c->instances[0].auth.type, AUTH_PASS);
	assert_memory_equal(c->instances[0].auth.data, "12345678", 8);
	assert_int_equal(c->instances[0].advert_interval_ms, 3000);
	conf_free(c);
	/* auth_pass alone means PASS; zero-padded. */
	c = load_ok(GOOD_INSTANCE "version = 2\nauth_pass = pw\n");
	assert_int_equal(c->instances[0].auth.type, AUTH_PASS);
	assert_memory_equal(c->instances[0].auth.data, "pw\0\0\0\0\0\0", 8);
	conf_free(c);
	c = load_ok(GOOD_INSTANCE "version = 2\nauth_type = none\n");
	assert_int_equal(c->instances[0].auth.type, AUTH_NONE);
	conf_free(c);

	expect_errors(GOOD_INSTANCE "auth_type = PASS\nauth_pass = x\n",
	              "t.conf:5: auth_type: needs version = 2 (VRRPv3 has no authentication, "
	              "RFC 5798 section 9)\n"
	              "t.conf:6: auth_pass: needs version = 2 (VRRPv3 has no authentication, "
	              "RFC 5798 section 9)\n");
	expect_errors(GOOD_INSTANCE "version = 2\nadvert_interval = 1500ms\n",
	              "t.conf:6: advert_interval: must be whole seconds, 1s..255s, with version = "
	              "2 (RFC 3768 section 5.3.7; version 2 is on line 5)\n");
	expect_errors(GOOD_INSTANCE "version = 2\nchecksum = rfc9568\n",
	              "t.conf:6: checksum: has no meaning with version = 2: the VRRPv2 checksum "
	              "covers the message alone (RFC 3768 section 5.3.8)\n");
	expect_errors(GOOD_INSTANCE "version = 2\nauth_type = AH\n",
	              "t.conf:6: auth_type: AH is not supported (RFC 3768 removed it); use PASS or "
	              "none\n");
	expect_errors(GOOD_INSTANCE "version = 2\nauth_type = md5\n",
	              "t.conf:6: auth_type: must be PASS or none, got \"md5\"\n");
	expect_errors(GOOD_INSTANCE "version = 2\nauth_pass = 123456789\n",
	              "t.conf:6: auth_pass: must be 1..8 characters, got 9\n");
	expect_errors(GOOD_INSTANCE "version = 2\nauth_type = PASS\n",
	              "t.conf:6: auth_type: PASS needs an auth_pass\n");
	expect_errors(GOOD_INSTANCE "version = 2\nauth_type = none\nauth_pass = x\n",
	              "t.conf:7: auth_pass: given with auth_type = none (line 6)\n");
	expect_errors("[instance v6]\n"
	              "interface = eth0\n"
	              "vrid = 3\n"
	              "virtual_ip = 2001:db8::100\n"
	              "version = 2\n",
	              "t.conf:5: version: 2 is IPv4 only (RFC 3768) but this instance's VIPs are "
	              "IPv6 (line 4)\n");
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
	              "t.conf:1: syntax error: a section header is " SECTIONS "\n"
	              "t.conf:2: syntax error: a section header is " SECTIONS "\n"
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
	char path[] = "/tmp/test_conf.XXXXXX", fifo[64], *errs;
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
	assert_string_equal(errs, "/: cannot open: not a regular file\n");
	free(errs);

	/* A FIFO is refused at once: a reload must not wait for a writer for ever. */
	strcpy(path, "/tmp/test_conf.XXXXXX");
	assert_non_null(mkdtemp(path));
	snprintf(fifo, sizeof(fifo), "%s/fifo", path);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	f = open_memstream(&errs, &len);
	alarm(5); /* a hang fails the test */
	assert_null(conf_load(fifo, f));
	alarm(0);
	fclose(f);
	unlink(fifo);
	rmdir(path);
	assert_non_null(strstr(errs, "/fifo: cannot open: not a regular file\n"));
	free(errs);

	/* errs may be NULL. */
	assert_null(conf_load("/nonexistent/vipd.conf", NULL));
	assert_null(conf_load_string("x", "[nope]\n", NULL));
	conf_free(NULL);
}

/* ---- [check NAME] and track ---- */

static const char checks_example[] =
    "[global]\n"
    "script_user = root\n"
    "\n"
    "[instance VI_1]\n"
    "interface = eth0\n"
    "vrid = 51\n"
    "virtual_ip = 192.0.2.100/24\n"
    "track = script                          ; the check's weight (-10)\n"
    "track = patroni weight 50\n"
    "track = pg weight -254\n"
    "track = haproxy\n"
    "track_interface = eth1 weight -20\n"
    "track_interface = eth2                  ; weight 0: FAULT while down\n"
    "\n"
    "[check script]                          ; defined after its track line\n"
    "type = script\n"
    "interval = 2s\n"
    "timeout = 500ms\n"
    "rise = 2\n"
    "fall = 3\n"
    "init_fail = yes\n"
    "weight = -10\n"
    "command = /bin/true --flag 'a b'\n"
    "user = nobody\n"
    "[check proc]\n"
    "type = process\n"
    "name = haproxy\n"
    "pidfile = /run/haproxy.pid\n"
    "[check tcp]\n"
    "address = [::1]:5432                    ; before its type\n"
    "type = tcp\n"
    "[check patroni]\n"
    "type = http\n"
    "url = https://127.0.0.1:8008/primary\n"
    "expect_status = 200, 204 206\n"
    "expect_body = \"role\": \"master\"\n"
    "method = head\n"
    "[check pg]\n"
    "type = pgsql\n"
    "conninfo = host=127.0.0.1 port=5432 dbname=postgres user=vipd connect_timeout=2\n"
    "expect = standby\n"
    "[check haproxy]\n"
    "type = haproxy\n"
    "socket = /run/haproxy/admin.sock\n"
    "backend = pg-primary\n"
    "weight = 20\n"
    "[check weight-file]\n"
    "type = file\n"
    "path = /etc/vipd/weight\n"
    "interval = 15ms\n";

static void
test_checks_example(void **state)
{
	(void)state;
	struct conf *c = load_ok(checks_example);
	const struct conf_check *cc;

	assert_string_equal(c->script_user, "root");
	assert_int_equal(c->nchecks, 7);

	cc = &c->checks[0];
	assert_string_equal(cc->name, "script");
	assert_int_equal(cc->line, 15);
	assert_int_equal(cc->type, CT_SCRIPT);
	assert_int_equal(cc->interval_ms, 2000);
	assert_int_equal(cc->timeout_ms, 500);
	assert_int_equal(cc->rise, 2);
	assert_int_equal(cc->fall, 3);
	assert_true(cc->init_fail);
	assert_int_equal(cc->weight, -10);
	assert_string_equal(cc->command, "/bin/true --flag 'a b'");
	assert_string_equal(cc->argv[0], "/bin/true");
	assert_string_equal(cc->argv[1], "--flag");
	assert_string_equal(cc->argv[2], "a b");
	assert_null(cc->argv[3]);
	assert_false(cc->shell);
	assert_string_equal(cc->user, "nobody");

	cc = conf_find_check(c, "proc");
	assert_ptr_equal(cc, &c->checks[1]);
	assert_int_equal(cc->type, CT_PROCESS);
	assert_string_equal(cc->proc_name, "haproxy");
	assert_string_equal(cc->pidfile, "/run/haproxy.pid");

	cc = conf_find_check(c, "tcp");
	assert_int_equal(cc->type, CT_TCP);
	assert_int_equal(cc->tcp_family, AF_INET6);
	assert_addr(AF_INET6, &cc->tcp_addr, "::1");
	assert_int_equal(cc->tcp_port, 5432);

	cc = conf_find_check(c, "patroni");
	assert_int_equal(cc->type, CT_HTTP);
	assert_string_equal(cc->url, "https://127.0.0.1:8008/primary");
	assert_int_equal(cc->nexpect_status, 3);
	assert_int_equal(cc->expect_status[0], 200);
	assert_int_equal(cc->expect_status[1], 204);
	assert_int_equal(cc->expect_status[2], 206);
	assert_string_equal(cc->expect_body, "\"role\": \"master\"");
	assert_string_equal(cc->method, "HEAD");

	cc = conf_find_check(c, "pg");
	assert_int_equal(cc->type, CT_PGSQL);
	assert_string_equal(cc->conninfo,
	                    "host=127.0.0.1 port=5432 dbname=postgres user=vipd connect_timeout=2");
	assert_int_equal(cc->pg_expect, PG_EXPECT_STANDBY);

	cc = conf_find_check(c, "haproxy");
	assert_int_equal(cc->type, CT_HAPROXY);
	assert_string_equal(cc->socket, "/run/haproxy/admin.sock");
	assert_string_equal(cc->backend, "pg-primary");
	assert_int_equal(cc->weight, 20);

	cc = conf_find_check(c, "weight-file");
	assert_int_equal(cc->type, CT_FILE);
	assert_string_equal(cc->path, "/etc/vipd/weight");
	assert_int_equal(cc->interval_ms, 15);
	assert_int_equal(cc->timeout_ms, 15);
	assert_null(conf_find_check(c, "nope"));

	const struct conf_instance *ci = &c->instances[0];
	assert_int_equal(ci->ntracks, 4);
	assert_string_equal(ci->tracks[0].check, "script");
	assert_int_equal(ci->tracks[0].weight, -10); /* from the check */
	assert_int_equal(ci->tracks[0].line, 8);
	assert_string_equal(ci->tracks[1].check, "patroni");
	assert_int_equal(ci->tracks[1].weight, 50);
	assert_int_equal(ci->tracks[2].weight, -254);
	assert_int_equal(ci->tracks[3].weight, 20); /* from the check */
	assert_int_equal(ci->ntrack_ifs, 2);
	assert_string_equal(ci->track_ifs[0].ifname, "eth1");
	assert_int_equal(ci->track_ifs[0].weight, -20);
	assert_int_equal(ci->track_ifs[0].line, 12);
	assert_string_equal(ci->track_ifs[1].ifname, "eth2");
	assert_int_equal(ci->track_ifs[1].weight, 0);
	conf_free(c);
}

static void
test_check_defaults(void **state)
{
	(void)state;
	struct conf *c = load_ok("[check h]\n"
	                         "type = http\n"
	                         "url = http://localhost/\n"
	                         "[check p]\n"
	                         "type = pgsql\n"
	                         "conninfo = dbname=postgres\n"
	                         "[check s]\n"
	                         "type = script\n"
	                         "command = /bin/true\n"
	                         "[check n]\n"
	                         "type = process\n"
	                         "pidfile = /run/x.pid\n");
	const struct conf_check *cc = &c->checks[0];

	assert_string_equal(c->script_user, "root");
	assert_int_equal(c->ninstances, 0);
	assert_int_equal(cc->interval_ms, 1000);
	assert_int_equal(cc->timeout_ms, 1000);
	assert_int_equal(cc->rise, 1);
	assert_int_equal(cc->fall, 1);
	assert_false(cc->init_fail);
	assert_int_equal(cc->weight, 0);
	assert_int_equal(cc->nexpect_status, 1);
	assert_int_equal(cc->expect_status[0], 200);
	assert_string_equal(cc->expect_body, "");
	assert_string_equal(cc->method, "GET");
	assert_int_equal(c->checks[1].pg_expect, PG_EXPECT_PRIMARY);
	assert_string_equal(c->checks[2].user, "root");
	assert_false(c->checks[2].shell);
	assert_string_equal(c->checks[3].proc_name, "");
	conf_free(c);

	/* A timeout without an interval; script_user given after the check. */
	c = load_ok("[check s]\n"
	            "type = script\n"
	            "command = /bin/true\n"
	            "timeout = 3s\n"
	            "[check t]\n"
	            "type = script\n"
	            "command = /bin/true\n"
	            "user = root\n"
	            "[global]\n"
	            "script_user = nobody\n");
	assert_int_equal(c->checks[0].interval_ms, 1000);
	assert_int_equal(c->checks[0].timeout_ms, 3000);
	assert_string_equal(c->script_user, "nobody");
	assert_string_equal(c->checks[0].user, "nobody");
	assert_string_equal(c->checks[1].user, "root");
	conf_free(c);
}

/* One key per type that the type requires. */
static const char *const required_key[CT_MAX] = {
    [CT_SCRIPT] = "command = /bin/true\n",      [CT_PROCESS] = "name = haproxy\n",
    [CT_TCP] = "address = 127.0.0.1:5000\n",    [CT_HTTP] = "url = http://127.0.0.1/\n",
    [CT_PGSQL] = "conninfo = host=127.0.0.1\n", [CT_HAPROXY] = "socket = /run/haproxy.sock\n",
    [CT_FILE] = "path = /etc/vipd/weight\n",
};

struct bad_check_value {
	enum check_type type;
	const char *line;
	const char *error; /* after "t.conf:4: " */
};

static const struct bad_check_value bad_check_values[] = {
    {CT_TCP, "interval = 5ms", "interval: must be 10ms..3600s, got \"5ms\""},
    {CT_TCP, "interval = 3601s", "interval: must be 10ms..3600s, got \"3601s\""},
    {CT_TCP, "timeout = 0", "timeout: must be 10ms..3600s, got \"0\""},
    {CT_TCP, "timeout = soon",
     "timeout: must be a duration such as \"1s\" or \"100ms\", got \"soon\""},
    {CT_TCP, "rise = 0", "rise: must be 1..100, got \"0\""},
    {CT_TCP, "fall = 101", "fall: must be 1..100, got \"101\""},
    {CT_TCP, "init_fail = perhaps",
     "init_fail: must be yes or no (or true/false, on/off, 1/0), got \"perhaps\""},
    {CT_TCP, "weight = 255", "weight: must be -254..254, got \"255\""},
    {CT_TCP, "weight = -255", "weight: must be -254..254, got \"-255\""},
    {CT_TCP, "weight = +5", "weight: must be -254..254, got \"+5\""},
    {CT_TCP, "weight = --5", "weight: must be -254..254, got \"--5\""},
    {CT_TCP, "address = 127.0.0.1",
     "address: must be IPV4:PORT or [IPV6]:PORT with PORT 1..65535, got \"127.0.0.1\""},
    {CT_TCP, "address = 127.0.0.1:0",
     "address: must be IPV4:PORT or [IPV6]:PORT with PORT 1..65535, got \"127.0.0.1:0\""},
    {CT_TCP, "address = 127.0.0.1:65536",
     "address: must be IPV4:PORT or [IPV6]:PORT with PORT 1..65535, got "
     "\"127.0.0.1:65536\""},
    {CT_TCP, "address = ::1:5000",
     "address: must be IPV4:PORT or [IPV6]:PORT with PORT 1..65535, got \"::1:5000\""},
    {CT_TCP, "address = [127.0.0.1]:5000",
     "address: must be IPV4:PORT or [IPV6]:PORT with PORT 1..65535, got "
     "\"[127.0.0.1]:5000\""},
    {CT_TCP, "address = localhost:5000",
     "address: must be IPV4:PORT or [IPV6]:PORT with PORT 1..65535, got "
     "\"localhost:5000\""},
    {CT_TCP, "address = [::1]5000",
     "address: must be IPV4:PORT or [IPV6]:PORT with PORT 1..65535, got \"[::1]5000\""},
    {CT_HTTP, "url = ftp://127.0.0.1/",
     "url: must be an http:// or https:// URL with a host, got \"ftp://127.0.0.1/\""},
    {CT_HTTP, "url = http:///x",
     "url: must be an http:// or https:// URL with a host, got \"http:///x\""},
    {CT_HTTP, "url = 127.0.0.1:8008",
     "url: must be an http:// or https:// URL with a host, got \"127.0.0.1:8008\""},
    {CT_HTTP, "expect_status = 99",
     "expect_status: must be HTTP status codes 100..599 such as \"200\" or \"200,204\", got "
     "\"99\""},
    {CT_HTTP, "expect_status = 200,600",
     "expect_status: must be HTTP status codes 100..599 such as \"200\" or \"200,204\", got "
     "\"200,600\""},
    {CT_HTTP, "expect_status = 200;204",
     "expect_status: must be HTTP status codes 100..599 such as \"200\" or \"200,204\", got "
     "\"200;204\""},
    {CT_HTTP, "expect_status = ,",
     "expect_status: must be HTTP status codes 100..599 such as \"200\" or \"200,204\", got "
     "\",\""},
    {CT_HTTP, "expect_status = 200 201 202 203 204 205 206 207 208",
     "expect_status: too many, at most 8 status codes"},
    {CT_HTTP, "method = POST", "method: must be GET, HEAD or OPTIONS, got \"POST\""},
    {CT_PGSQL, "expect = master", "expect: must be primary, standby or up, got \"master\""},
    {CT_PROCESS, "name = a-very-long-process",
     "name: must be a process name of 1..15 "
     "characters as in /proc/PID/comm, got "
     "\"a-very-long-process\""},
    {CT_PROCESS, "pidfile = run/x.pid",
     "pidfile: must be an absolute path of at most 4095 bytes, got \"run/x.pid\""},
    {CT_HAPROXY, "socket = haproxy.sock",
     "socket: must be an absolute path of at most 107 bytes, got \"haproxy.sock\""},
    {CT_HAPROXY, "backend = pg primary",
     "backend: must be 1..63 characters of A-Z a-z 0-9 _ . : -, got \"pg primary\""},
    {CT_FILE, "path = weight",
     "path: must be an absolute path of at most 4095 bytes, got "
     "\"weight\""},
    {CT_SCRIPT, "shell = sometimes",
     "shell: must be yes or no (or true/false, on/off, 1/0), got \"sometimes\""},
    {CT_SCRIPT, "command = true", "command: true: must be an absolute path"},
    {CT_SCRIPT, "command = /nonexistent/prog -x", "command: /nonexistent/prog: no such file"},
    {CT_SCRIPT, "command = /etc/passwd", "command: /etc/passwd: not executable"},
    {CT_SCRIPT, "command = /usr/bin", "command: /usr/bin: not a regular file"},
    {CT_SCRIPT, "command = /bin/echo 'a b", "command: unterminated single quote"},
    {CT_SCRIPT, "command = /bin/echo \"a \\\"b\\\"", "command: unterminated double quote"},
    {CT_SCRIPT, "command = /bin/echo \"a\\\\\"b\"", "command: unterminated double quote"},
    {CT_SCRIPT, "user = no-such-user-xyz", "user: no such user \"no-such-user-xyz\""},
};

/*
 * "[check c]", "type = T", the type's required key (or a blank line when
 * the key under test is that one), then the line under test on line 4.
 */
static void
test_check_bad_values(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_check_values) / sizeof(bad_check_values[0]); i++) {
		const struct bad_check_value *t = &bad_check_values[i];
		const char *req = required_key[t->type];
		size_t klen = strcspn(req, " ");
		bool same = strncmp(t->line, req, klen) == 0 && t->line[klen] == ' ';
		char text[1024], expect[1024];

		snprintf(text, sizeof(text), "[check c]\ntype = %s\n%s%s\n",
		         check_type_names[t->type], same ? "\n" : req, t->line);
		snprintf(expect, sizeof(expect), "t.conf:4: %s\n", t->error);
		expect_errors(text, expect);
	}
}

static void
test_check_keys(void **state)
{
	(void)state;
	/* Unknown key, key of another type, given twice, unknown type. */
	expect_errors("[check a]\n"
	              "type = tcp\n"
	              "address = 127.0.0.1:1\n"
	              "url = http://127.0.0.1/\n"
	              "retries = 3\n"
	              "address = 127.0.0.1:2\n"
	              "interval = 1s\n"
	              "interval = 2s\n"
	              "[check b]\n"
	              "type = ping\n"
	              "url = http://127.0.0.1/\n",
	              "t.conf:4: url: not a key of type tcp checks\n"
	              "t.conf:5: retries: unknown key in [check a]\n"
	              "t.conf:6: address: given twice, first on line 3\n"
	              "t.conf:8: interval: given twice, first on line 7\n"
	              "t.conf:10: type: must be script, process, tcp, http, pgsql, haproxy or "
	              "file, got \"ping\"\n");
	/* Missing type, missing required keys: at the header's line. */
	expect_errors("[check a]\n"
	              "interval = 1s\n"
	              "address = 127.0.0.1:1\n"
	              "[check b]\n"
	              "type = pgsql\n"
	              "expect = up\n"
	              "[check c]\n"
	              "type = process\n"
	              "[check d]\n"
	              "type = script\n"
	              "shell = yes\n"
	              "[check e]\n"
	              "type = file\n"
	              "[check f]\n"
	              "type = haproxy\n"
	              "[check g]\n"
	              "type = http\n"
	              "[check h]\n"
	              "type = tcp\n",
	              "t.conf:1: type: missing\n"
	              "t.conf:4: conninfo: missing (required for type pgsql checks)\n"
	              "t.conf:7: name: missing (required for type process checks without a "
	              "pidfile)\n"
	              "t.conf:9: command: missing (required for type script checks)\n"
	              "t.conf:12: path: missing (required for type file checks)\n"
	              "t.conf:14: socket: missing (required for type haproxy checks)\n"
	              "t.conf:16: url: missing (required for type http checks)\n"
	              "t.conf:18: address: missing (required for type tcp checks)\n");
}

static void
test_check_names(void **state)
{
	(void)state;
	expect_errors("[check a]\n"
	              "type = file\n"
	              "path = /x\n"
	              "[check a]\n"
	              "type = file\n"
	              "path = /y\n"
	              "[check]\n"
	              "type = file\n"
	              "path = /z\n"
	              "[check a b]\n"
	              "type = file\n"
	              "path = /z\n",
	              "t.conf:4: [check a]: defined twice, first on line 1\n"
	              "t.conf:7: [check]: missing check name\n"
	              "t.conf:10: [check a b]: name must be 1..63 characters of A-Z a-z 0-9 _ . "
	              "-\n");
	/* A check and an instance may share a name. */
	struct conf *c = load_ok("[check ok]\n"
	                         "type = file\n"
	                         "path = /x\n" GOOD_INSTANCE "track = ok\n");
	assert_int_equal(c->nchecks, 1);
	assert_int_equal(c->instances[0].ntracks, 1);
	conf_free(c);
}

static void
test_conninfo(void **state)
{
	(void)state;
	static const char *const good[] = {
	    "host=127.0.0.1",
	    "host=/var/run/postgresql port=5433 dbname=postgres",
	    "host=::1 dbname=postgres",
	    "host=/var/run/postgresql,127.0.0.1,::1",
	    "hostaddr=127.0.0.1",
	    "host=db1.example.com hostaddr=192.0.2.5 sslmode=verify-full",
	    "dbname=postgres user=vipd",
	    "postgresql://127.0.0.1:5432/postgres?connect_timeout=2",
	    "postgresql://[::1]/postgres",
	    "postgresql:///postgres?host=/var/run/postgresql",
	};
	static const struct {
		const char *conninfo, *error;
	} bad[] = {
	    {"host=db1", "host \"db1\" must be an IP address or a socket directory (libpq "
	                 "resolves names synchronously, which would block vipd)"},
	    {"host=127.0.0.1,localhost",
	     "host \"localhost\" must be an IP address or a socket directory (libpq resolves "
	     "names synchronously, which would block vipd)"},
	    {"postgresql://db1:5432/postgres",
	     "host \"db1\" must be an IP address or a socket directory (libpq resolves names "
	     "synchronously, which would block vipd)"},
	    {"host=127.0.0.1 bogus", "missing \"=\" after \"bogus\" in connection info string"},
	    {"host=127.0.0.1 timeout=2", "invalid connection option \"timeout\""},
	    {"host='127.0.0.1", "unterminated quoted string in connection info string"},
	    {"service=pgprod dbname=postgres",
	     "service \"pgprod\" may name a host that libpq would resolve synchronously, "
	     "blocking vipd: give host (an IP address or a socket directory) or hostaddr in the "
	     "connection string too"},
	};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		char text[512];

		snprintf(text, sizeof(text), "[check pg]\ntype = pgsql\nconninfo = %s\n", good[i]);
		struct conf *c = load_ok(text);
		assert_string_equal(c->checks[0].conninfo, good[i]);
		conf_free(c);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[512], expect[512];

		snprintf(text, sizeof(text), "[check pg]\ntype = pgsql\nconninfo = %s\n",
		         bad[i].conninfo);
		snprintf(expect, sizeof(expect), "t.conf:3: conninfo: %s\n", bad[i].error);
		expect_errors(text, expect);
	}
	/* A service next to an explicit host is fine: the host wins. */
	conf_free(load_ok("[check pg]\ntype = pgsql\nconninfo = service=pgprod host=127.0.0.1\n"));
	/* PGHOST / PGSERVICE stand in for a missing host, names and all. */
	setenv("PGHOST", "db1", 1);
	expect_errors("[check pg]\ntype = pgsql\nconninfo = dbname=postgres\n",
	              "t.conf:3: conninfo: host \"db1\" must be an IP address or a socket "
	              "directory (libpq resolves names synchronously, which would block vipd); it "
	              "comes from PGHOST\n");
	setenv("PGHOST", "/run/postgresql", 1);
	conf_free(load_ok("[check pg]\ntype = pgsql\nconninfo = dbname=postgres\n"));
	unsetenv("PGHOST");
	setenv("PGSERVICE", "pgprod", 1);
	expect_errors("[check pg]\ntype = pgsql\nconninfo = dbname=postgres\n",
	              "t.conf:3: conninfo: PGSERVICE \"pgprod\" may name a host that libpq would "
	              "resolve synchronously, blocking vipd: give host (an IP address or a socket "
	              "directory) or hostaddr in the connection string too\n");
	unsetenv("PGSERVICE");
}

/* Without an asynchronous resolver in libcurl, only IP literals would not block. */
static void
test_url_blocking_host(void **state)
{
	char buf[128];

	(void)state;
	assert_null(conf_url_blocking_host("http://db1:8008/primary", CURL_VERSION_ASYNCHDNS, buf,
	                                   sizeof(buf)));
	assert_string_equal(conf_url_blocking_host("http://db1:8008/primary", 0, buf, sizeof(buf)),
	                    "db1");
	assert_string_equal(
	    conf_url_blocking_host("https://u:p@patroni.example/x", 0, buf, sizeof(buf)),
	    "patroni.example");
	assert_null(conf_url_blocking_host("http://192.0.2.21:8008/primary", 0, buf, sizeof(buf)));
	assert_null(conf_url_blocking_host("http://[2001:db8::21]:8008/", 0, buf, sizeof(buf)));
	assert_null(conf_url_blocking_host("http://u@192.0.2.1/", 0, buf, sizeof(buf)));
}

static void
test_command(void **state)
{
	(void)state;
	struct conf *c =
	    load_ok("[check a]\n"
	            "type = script\n"
	            "command = /bin/echo  'a \"b' \"c \\\"d\\\" \\\\ \\e\" f'g'h\"i\" ''\n"
	            "[check b]\n"
	            "type = script\n"
	            "shell = yes\n"
	            "command = pg_isready -q && test -f /run/x\n"
	            "[check c]\n"
	            "command = /bin/true 'x y' | cat\n"
	            "shell = true\n"
	            "type = script\n");
	const struct conf_check *cc = &c->checks[0];

	assert_string_equal(cc->argv[0], "/bin/echo");
	assert_string_equal(cc->argv[1], "a \"b");
	assert_string_equal(cc->argv[2], "c \"d\" \\ \\e");
	assert_string_equal(cc->argv[3], "fghi");
	assert_string_equal(cc->argv[4], "");
	assert_null(cc->argv[5]);
	cc = &c->checks[1];
	assert_true(cc->shell);
	assert_string_equal(cc->argv[0], "/bin/sh");
	assert_string_equal(cc->argv[1], "-c");
	assert_string_equal(cc->argv[2], "pg_isready -q && test -f /run/x");
	assert_null(cc->argv[3]);
	cc = &c->checks[2];
	assert_string_equal(cc->argv[2], "/bin/true 'x y' | cat");
	conf_free(c);

	/* With the shell, an absolute first word is checked; quotes are the shell's. */
	expect_errors("[check a]\n"
	              "type = script\n"
	              "shell = yes\n"
	              "command = /nonexistent/x 'unterminated\n",
	              "t.conf:4: command: /nonexistent/x: no such file\n");

	/* At most CONF_MAX_ARGS words. */
	char text[512];
	size_t n =
	    (size_t)snprintf(text, sizeof(text), "[check a]\ntype = script\ncommand = /bin/true");
	for (int i = 1; i < CONF_MAX_ARGS; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, " %d", i);
	snprintf(text + n, sizeof(text) - n, "\n");
	c = load_ok(text);
	assert_string_equal(c->checks[0].argv[CONF_MAX_ARGS - 1], "31");
	assert_null(c->checks[0].argv[CONF_MAX_ARGS]);
	conf_free(c);
	snprintf(text + n, sizeof(text) - n, " x\n");
	expect_errors(text, "t.conf:3: command: too many arguments, at most 32\n");
}

/* promote_pgsql: validated like a pgsql check's conninfo, at its own line. */
static void
test_promote_pgsql(void **state)
{
	(void)state;
	struct conf *c = load_ok(GOOD_INSTANCE "promote_pgsql = host=/var/run/postgresql "
	                                       "dbname=postgres user=postgres\n"
	                                       "[instance two]\n"
	                                       "interface = eth9\nvrid = 10\n"
	                                       "virtual_ip = 198.51.100.10/24\n");
	assert_string_equal(c->instances[0].promote_pgsql,
	                    "host=/var/run/postgresql dbname=postgres user=postgres");
	assert_string_equal(c->instances[1].promote_pgsql, "");
	conf_free(c);
	c = load_ok(GOOD_INSTANCE "promote_pgsql = host=192.0.2.1,/run/pg port=5432\n");
	conf_free(c);

	expect_errors(GOOD_INSTANCE "promote_pgsql = host=db1 dbname=postgres\n",
	              "t.conf:5: promote_pgsql: host \"db1\" must be an IP address or a socket "
	              "directory (libpq resolves names synchronously, which would block vipd)\n");
	expect_errors(GOOD_INSTANCE "\n\npromote_pgsql = postgresql://db1/postgres\n",
	              "t.conf:7: promote_pgsql: host \"db1\" must be an IP address or a socket "
	              "directory (libpq resolves names synchronously, which would block vipd)\n");
	expect_errors(GOOD_INSTANCE "promote_pgsql = host=/run/pg bogus\n",
	              "t.conf:5: promote_pgsql: missing \"=\" after \"bogus\" in connection "
	              "info string\n");
	expect_errors(GOOD_INSTANCE "promote_pgsql =\n",
	              "t.conf:5: promote_pgsql: empty conninfo\n");
	expect_errors(GOOD_INSTANCE "promote_pgsql = host=/run/pg\npromote_pgsql = host=/run/pg\n",
	              "t.conf:6: promote_pgsql: given twice, first on line 5\n");
}

/* Notify hooks: parsed, defaults, user, and checked like script checks. */
static void
test_notify_hooks(void **state)
{
	(void)state;
	char dir[] = "/tmp/test_conf_hook.XXXXXX", script[64], text[1024], expect[1024];

	struct conf *c = load_ok("[global]\nscript_user = nobody\n" GOOD_INSTANCE
	                         "notify_master = /bin/true --master 'a b'\n"
	                         "notify = /bin/echo\n"
	                         "notify_timeout = 5s\n");
	const struct conf_instance *ci = &c->instances[0];
	assert_string_equal(ci->notify[CONF_HOOK_MASTER], "/bin/true --master 'a b'");
	assert_string_equal(ci->notify[CONF_HOOK_NOTIFY], "/bin/echo");
	assert_string_equal(ci->notify[CONF_HOOK_BACKUP], "");
	assert_int_equal(ci->notify_timeout_ms, 5000);
	assert_false(ci->notify_shell);
	assert_string_equal(ci->hook_user, "nobody");
	conf_free(c);

	c = load_ok(GOOD_INSTANCE "notify_stop = echo stopping\nnotify_shell = yes\n");
	assert_int_equal(c->instances[0].notify_timeout_ms, 30000);
	assert_true(c->instances[0].notify_shell);
	assert_string_equal(c->instances[0].hook_user, "root");
	conf_free(c);

	char *argv[CONF_MAX_ARGS + 1];
	const char *why;
	assert_int_equal(argv_split("/bin/x 'a b' \"c\\\"d\"", argv, &why), 0);
	assert_string_equal(argv[0], "/bin/x");
	assert_string_equal(argv[1], "a b");
	assert_string_equal(argv[2], "c\"d");
	assert_null(argv[3]);
	for (int i = 0; argv[i]; i++)
		free(argv[i]);
	assert_int_equal(argv_split("/bin/x 'a", argv, &why), -1);
	assert_string_equal(why, "unterminated single quote");

	/* relative, missing, insecure: refused at the hook's line */
	expect_errors(GOOD_INSTANCE "notify_backup = true\n",
	              "t.conf:5: notify_backup: true: must be an absolute path\n");
	expect_errors(GOOD_INSTANCE "notify = /nonexistent/hook.sh\n",
	              "t.conf:5: notify: /nonexistent/hook.sh: no such file\n");
	expect_errors(GOOD_INSTANCE "notify_timeout = 0s\n",
	              "t.conf:5: notify_timeout: must be 10ms..3600s, got \"0s\"\n");

	assert_non_null(mkdtemp(dir));
	assert_int_equal(chmod(dir, 0755), 0);
	snprintf(script, sizeof(script), "%s/hook.sh", dir);
	FILE *f = fopen(script, "w");
	assert_non_null(f);
	fputs("#!/bin/sh\nexit 0\n", f);
	fclose(f);
	assert_int_equal(chmod(script, 0755), 0);
	snprintf(text, sizeof(text), GOOD_INSTANCE "notify_master = %s MASTER\n", script);
	snprintf(expect, sizeof(expect),
	         "t.conf:5: notify_master: %s is writable by non-root users (/tmp has mode 1777, "
	         "writable by group and others); vipd refuses to run it as root\n",
	         script);
	expect_errors(text, expect);
	snprintf(text, sizeof(text), GOOD_INSTANCE "notify_fault = %s\nnotify_shell = yes\n",
	         script);
	snprintf(expect, sizeof(expect),
	         "t.conf:5: notify_fault: %s is writable by non-root users (/tmp has mode 1777, "
	         "writable by group and others); vipd refuses to run it as root\n",
	         script);
	expect_errors(text, expect);
	unlink(script);
	rmdir(dir);
}

/* A script in a root-owned, mode 0755 directory under /tmp: /tmp (1777) is at fault. */
static void
test_script_security(void **state)
{
	(void)state;
	char dir[] = "/tmp/test_conf.XXXXXX", script[64], link[64], text[512], expect[1024];
	char why[256];

	assert_non_null(mkdtemp(dir));
	assert_int_equal(chmod(dir, 0755), 0);
	snprintf(script, sizeof(script), "%s/check.sh", dir);
	FILE *f = fopen(script, "w");
	assert_non_null(f);
	fputs("#!/bin/sh\nexit 0\n", f);
	fclose(f);
	assert_int_equal(chmod(script, 0755), 0);
	snprintf(link, sizeof(link), "%s/true", dir);
	assert_int_equal(symlink("/bin/true", link), 0);

	snprintf(text, sizeof(text), "[check s]\ntype = script\ncommand = %s --now\n", script);
	snprintf(expect, sizeof(expect),
	         "t.conf:3: command: %s is writable by non-root users (/tmp has mode 1777, "
	         "writable by group and others); vipd refuses to run it as root\n",
	         script);
	expect_errors(text, expect);
	/* The same through the shell. */
	snprintf(text, sizeof(text), "[check s]\ntype = script\nshell = yes\ncommand = %s\n",
	         script);
	snprintf(expect, sizeof(expect),
	         "t.conf:4: command: %s is writable by non-root users (/tmp has mode 1777, "
	         "writable by group and others); vipd refuses to run it as root\n",
	         script);
	expect_errors(text, expect);

	/*
	 * A secure interpreter running an insecure script: the script is
	 * what runs as root, so it is vetted too (it used to pass).
	 */
	snprintf(text, sizeof(text), "[check s]\ntype = script\ncommand = /bin/sh -e %s\n", script);
	snprintf(expect, sizeof(expect),
	         "t.conf:3: command: %s (an argument of /bin/sh) is writable by non-root users "
	         "(/tmp has mode 1777, writable by group and others); vipd refuses to run it as "
	         "root\n",
	         script);
	expect_errors(text, expect);
	snprintf(text, sizeof(text),
	         "[check s]\ntype = script\nshell = yes\ncommand = /usr/bin/python3 %s\n", script);
	snprintf(expect, sizeof(expect),
	         "t.conf:4: command: %s (an argument of /usr/bin/python3) is writable by non-root "
	         "users (/tmp has mode 1777, writable by group and others); vipd refuses to run it "
	         "as root\n",
	         script);
	expect_errors(text, expect);
	snprintf(text, sizeof(text), GOOD_INSTANCE "notify = /bin/bash %s\n", script);
	snprintf(expect, sizeof(expect),
	         "t.conf:5: notify: %s (an argument of /bin/bash) is writable by non-root users "
	         "(/tmp has mode 1777, writable by group and others); vipd refuses to run it as "
	         "root\n",
	         script);
	expect_errors(text, expect);
	/* Not an interpreter: its arguments are data, not checked; nor are missing paths. */
	conf_free(load_ok("[check s]\ntype = script\ncommand = /bin/true /tmp\n"));
	snprintf(text, sizeof(text), "[check s]\ntype = script\ncommand = /bin/test -r %s\n",
	         script);
	conf_free(load_ok(text));
	conf_free(load_ok("[check s]\ntype = script\ncommand = /bin/sh -c /nonexistent/x\n"));

	/* A symlink to a secure program from an insecure directory is refused too. */
	assert_int_equal(fsec_root_only(link, why, sizeof(why)), -1);
	assert_string_equal(why, "/tmp has mode 1777, writable by group and others");
	assert_int_equal(fsec_root_only("/bin/true", why, sizeof(why)), 0);
	assert_int_equal(fsec_root_only("/usr/bin/true", why, sizeof(why)), 0);
	assert_int_equal(fsec_root_only("bin/true", why, sizeof(why)), -1);
	assert_string_equal(why, "bin/true: must be an absolute path");
	assert_int_equal(fsec_root_only("/nonexistent/x", why, sizeof(why)), -1);
	assert_string_equal(why, "/nonexistent: No such file or directory");

	unlink(link);
	unlink(script);
	rmdir(dir);
}

static void
test_script_users(void **state)
{
	(void)state;
	expect_errors("[global]\n"
	              "script_user = no-such-user-xyz\n"
	              "[check s]\n"
	              "type = script\n"
	              "command = /bin/true\n"
	              "user =\n",
	              "t.conf:2: script_user: no such user \"no-such-user-xyz\"\n"
	              "t.conf:6: user: must be a user name of 1..63 characters, got \"\"\n");
	/* user is a key of script checks only. */
	expect_errors("[check f]\n"
	              "type = file\n"
	              "path = /x\n"
	              "user = root\n",
	              "t.conf:4: user: not a key of type file checks\n");
}

/*
 * `user`: the default script_user follows it, and a script or hook as root
 * under a non-root vipd is refused. Run as root (make unit does): a root
 * vipd can switch to any user, so another user is fine.
 */
static void
test_run_as_user(void **state)
{
	(void)state;
	if (geteuid() != 0)
		skip();
	struct conf *c = load_ok("[global]\n"
	                         "user = nobody\n" GOOD_INSTANCE "notify_master = /bin/true\n"
	                         "[check s]\n"
	                         "type = script\n"
	                         "command = /bin/true\n"
	                         "[check d]\n"
	                         "type = script\n"
	                         "command = /bin/true\n"
	                         "user = daemon\n");
	assert_string_equal(c->user, "nobody");
	assert_string_equal(c->script_user, "nobody");
	assert_string_equal(c->instances[0].hook_user, "nobody");
	assert_string_equal(c->checks[0].user, "nobody");
	assert_string_equal(c->checks[1].user, "daemon");
	assert_int_equal(c->checks[1].user_line, 14);
	conf_free(c);

	/* Without `user`, the default is whoever runs vipd: root here. */
	c = load_ok(GOOD_INSTANCE);
	assert_string_equal(c->user, "");
	assert_string_equal(c->script_user, "root");
	conf_free(c);

	expect_errors(
	    "[global]\n"
	    "user = nobody\n"
	    "script_user = root\n"
	    "[check s]\n"
	    "type = script\n"
	    "command = /bin/true\n"
	    "user = root\n"
	    "user = daemon\n",
	    "t.conf:3: script_user: root: vipd runs as nobody, and a program it starts as "
	    "root would have none of root's capabilities; run scripts and hooks as nobody "
	    "(leave script_user out), or vipd as root\n"
	    "t.conf:7: user: root: vipd runs as nobody, and a program it starts as root "
	    "would have none of root's capabilities; run scripts and hooks as nobody "
	    "(leave user out), or vipd as root\n"
	    "t.conf:8: user: given twice, first on line 7\n");
	expect_errors("[global]\nuser = no-such-user-xyz\n",
	              "t.conf:2: user: no such user \"no-such-user-xyz\"\n");
}

static void
test_track(void **state)
{
	(void)state;
	expect_errors(GOOD_INSTANCE
	              "track = nope\n"
	              "track = ok weight 5\n"
	              "track = ok\n"
	              "track = ok2 weight\n"
	              "track = ok2 wait 5\n"
	              "track = ok2 weight 255\n"
	              "track = ok2 weight 5 6\n"
	              "track = a/b\n"
	              "track_interface = eth1\n"
	              "track_interface = eth1 weight 10\n"
	              "track_interface = eth0:1\n"
	              "track_interface = eth2 weight x\n"
	              "track = a234567890123456789012345678901234567890123456789012345678901234\n"
	              "track_interface = a-very-long-ifname weight 1\n"
	              "[check ok]\n"
	              "type = file\n"
	              "path = /x\n",
	              "t.conf:5: track: no [check nope] section\n"
	              "t.conf:7: track: ok given twice, first on line 6\n"
	              "t.conf:8: track: expected \"CHECK [weight N]\", got \"ok2 weight\"\n"
	              "t.conf:9: track: expected \"CHECK [weight N]\", got \"ok2 wait 5\"\n"
	              "t.conf:10: track: weight must be -254..254, got \"255\"\n"
	              "t.conf:11: track: expected \"CHECK [weight N]\", got \"ok2 weight 5 6\"\n"
	              "t.conf:12: track: check name must be 1..63 characters of A-Z a-z 0-9 _ . -, "
	              "got \"a/b\"\n"
	              "t.conf:14: track_interface: eth1 given twice, first on line 13\n"
	              "t.conf:15: track_interface: must be an interface name of 1..15 characters, "
	              "got \"eth0:1\"\n"
	              "t.conf:16: track_interface: weight must be -254..254, got \"x\"\n"
	              "t.conf:17: track: check name must be 1..63 characters of A-Z a-z 0-9 _ . -, "
	              "got \"a234567890123456789012345678901234567890123456789012345678901234\"\n"
	              "t.conf:18: track_interface: must be an interface name of 1..15 characters, "
	              "got \"a-very-long-ifname\"\n");

	/* At most CONF_MAX_TRACKS of each. */
	char text[4096];
	size_t n = (size_t)snprintf(text, sizeof(text), "%s", GOOD_INSTANCE);
	for (int i = 0; i <= CONF_MAX_TRACKS; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
		                      "track = c%d\ntrack_interface = eth%d\n", i, i);
	for (int i = 0; i <= CONF_MAX_TRACKS; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
		                      "[check c%d]\ntype = file\npath = /x\n", i);
	expect_errors(text, "t.conf:69: track: too many, at most 32 per instance\n"
	                    "t.conf:70: track_interface: too many, at most 32 per instance\n");
}

/* [group NAME]: members resolved after the whole file, hooks checked. */
static void
test_group(void **state)
{
	struct conf *c;

	(void)state;
	c = load_ok("[group lb]\n"
	            "instances = front, back\n"
	            "notify = /bin/true\n"
	            "notify_timeout = 5s\n"
	            "[instance front]\n"
	            "interface = eth0\nvrid = 1\nvirtual_ip = 192.0.2.100/24\n"
	            "[instance back]\n"
	            "interface = eth1\nvrid = 2\nvirtual_ip = 192.0.2.200/24\n"
	            "[instance alone]\n"
	            "interface = eth1\nvrid = 3\nvirtual_ip = 192.0.2.201/24\n");
	assert_int_equal(c->ngroups, 1);
	assert_string_equal(c->groups[0].name, "lb");
	assert_int_equal(c->groups[0].nmembers, 2);
	assert_string_equal(c->groups[0].members[1], "back");
	assert_string_equal(c->groups[0].notify[CONF_HOOK_NOTIFY], "/bin/true");
	assert_int_equal(c->groups[0].notify_timeout_ms, 5000);
	assert_string_equal(c->instances[0].group, "lb");
	assert_string_equal(c->instances[1].group, "lb");
	assert_int_equal(c->instances[1].group_idx, 0);
	assert_string_equal(c->instances[2].group, "");
	assert_non_null(conf_find_group(c, "lb"));
	assert_null(conf_find_group(c, "x"));
	conf_free(c);

	expect_errors(GOOD_INSTANCE "[group g]\ninstances = ok nope ok\nvrid = 1\n"
	                            "[group g]\ninstances = ok\n[group h]\n",
	              "t.conf:6: instances: ok: listed twice\n"
	              "t.conf:6: instances: nope: no [instance nope] section\n"
	              "t.conf:7: vrid: unknown key in [group g]\n"
	              "t.conf:8: [group g]: defined twice, first on line 5\n"
	              "t.conf:9: instances: ok: already in [group g]; an instance is in one "
	              "group at most\n"
	              "t.conf:10: instances: missing\n");
}

/* use_vmac = yes | no | NAME: the default names, and one link per name. */
static void
test_use_vmac(void **state)
{
	struct conf *c;

	(void)state;
	c = load_ok("[instance a]\ninterface = eth0\nvrid = 5\nvirtual_ip = 192.0.2.1/24\n"
	            "use_vmac = yes\n"
	            "[instance b]\ninterface = eth0\nvrid = 5\nvirtual_ip = 2001:db8::1/64\n"
	            "use_vmac = true\n"
	            "[instance c]\ninterface = eth1\nvrid = 5\nvirtual_ip = 192.0.2.2/24\n"
	            "use_vmac = vmac-c\n"
	            "[instance d]\ninterface = eth1\nvrid = 6\nvirtual_ip = 192.0.2.3/24\n"
	            "use_vmac = no\n"
	            "[instance e]\ninterface = eth1\nvrid = 7\nvirtual_ip = 192.0.2.4/24\n"
	            "use_vmac = off\n");
	assert_true(c->instances[0].use_vmac);
	assert_string_equal(c->instances[0].vmac_name, "vipd.5");
	assert_string_equal(c->instances[1].vmac_name, "vipd6.5");
	assert_string_equal(c->instances[2].vmac_name, "vmac-c");
	assert_false(c->instances[3].use_vmac);
	/* "off" is a boolean, as for every yes/no key, not a link named "off" */
	assert_false(c->instances[4].use_vmac);
	conf_free(c);
	expect_errors("[instance a]\ninterface = eth0\nvrid = 5\nvirtual_ip = 192.0.2.1/24\n"
	              "use_vmac = yes\n"
	              "[instance b]\ninterface = eth1\nvrid = 5\nvirtual_ip = 192.0.2.2/24\n"
	              "use_vmac = yes\n"
	              "[instance c]\ninterface = eth1\nvrid = 6\nvirtual_ip = 192.0.2.3/24\n"
	              "use_vmac = eth1\n"
	              "[instance d]\ninterface = eth1\nvrid = 7\nvirtual_ip = 192.0.2.4/24\n"
	              "use_vmac = a:b\n",
	              "t.conf:10: use_vmac: the link vipd.5 is already instance a's (line 1); "
	              "name this one: use_vmac = NAME\n"
	              "t.conf:15: use_vmac: eth1 is the instance's interface; the virtual MAC "
	              "link needs a name of its own\n"
	              "t.conf:20: use_vmac: must be yes, no, or the link's name (1..15 "
	              "characters), got \"a:b\"\n");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_use_vmac),
	    cmocka_unit_test(test_group),
	    cmocka_unit_test(test_full_example),
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_version),
	    cmocka_unit_test(test_startup_delay),
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
	    cmocka_unit_test(test_checks_example),
	    cmocka_unit_test(test_check_defaults),
	    cmocka_unit_test(test_check_bad_values),
	    cmocka_unit_test(test_check_keys),
	    cmocka_unit_test(test_check_names),
	    cmocka_unit_test(test_conninfo),
	    cmocka_unit_test(test_url_blocking_host),
	    cmocka_unit_test(test_command),
	    cmocka_unit_test(test_script_security),
	    cmocka_unit_test(test_notify_hooks),
	    cmocka_unit_test(test_promote_pgsql),
	    cmocka_unit_test(test_script_users),
	    cmocka_unit_test(test_run_as_user),
	    cmocka_unit_test(test_track),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
