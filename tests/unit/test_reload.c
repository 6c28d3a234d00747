/*
 * test_reload.c - what a reload changes: the comparison of instances and
 * checks (identical modulo lines and comments; each kind of change
 * detected), the plan's matching by key and name, and its summary line.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vipd/conf.h"
#include "vipd/reload.h"

/* Two instances, three checks; every group of settings given once. */
static const char base[] = "[global]\n"
                           "log_level = info\n"
                           "pidfile = /run/t.pid\n"
                           "control_socket = /run/t.sock\n"
                           "[instance VI_1]\n"
                           "interface = eth0\n"
                           "vrid = 51\n"
                           "priority = 150\n"
                           "advert_interval = 100ms\n"
                           "virtual_ip = 192.0.2.100/24\n"
                           "virtual_ip = 192.0.2.101/24\n"
                           "preempt_delay = 0\n"
                           "unicast_src = 192.0.2.11\n"
                           "unicast_peer = 192.0.2.12\n"
                           "checksum = rfc5798\n"
                           "garp_repeat = 5\n"
                           "track = proc\n"
                           "track = tcp weight 20\n"
                           "track_interface = eth1 weight -20\n"
                           "notify_master = /bin/true master\n"
                           "notify_timeout = 30s\n"
                           "[instance VI_2]\n"
                           "interface = eth0\n"
                           "vrid = 52\n"
                           "virtual_ip = 2001:db8::100/64\n"
                           "[check proc]\n"
                           "type = process\n"
                           "name = haproxy\n"
                           "weight = 2\n"
                           "[check tcp]\n"
                           "type = tcp\n"
                           "address = 127.0.0.1:5432\n"
                           "interval = 2s\n"
                           "[check script]\n"
                           "type = script\n"
                           "command = /bin/true --flag 'a b'\n"
                           "rise = 2\n";

static struct conf *
load(const char *text)
{
	char *errs = NULL;
	size_t len;
	FILE *f = open_memstream(&errs, &len);

	assert_non_null(f);
	struct conf *c = conf_load_string("t.conf", text, f);
	fclose(f);
	if (!c)
		fail_msg("config refused:\n%s\n%s", errs, text);
	free(errs);
	return c;
}

/* base with the first `from` replaced by `to`. */
static struct conf *
variant(const char *from, const char *to)
{
	const char *at = strstr(base, from);
	char *text;
	struct conf *c;

	if (!at)
		fail_msg("\"%s\" not in base", from);
	assert_true(asprintf(&text, "%.*s%s%s", (int)(at - base), base, to, at + strlen(from)) > 0);
	c = load(text);
	free(text);
	return c;
}

/* The RD_* bits of instance idx between two confs of the same instance order. */
static unsigned
diff_of(const struct conf *a, const struct conf *b, size_t idx)
{
	return reload_instance_diff(&a->instances[idx], &b->instances[idx]);
}

static unsigned
instance_change(const char *from, const char *to)
{
	struct conf *a = load(base), *b = variant(from, to);
	unsigned d = diff_of(a, b, 0);

	/* The other instance is never affected. */
	assert_int_equal(diff_of(a, b, 1), 0);
	conf_free(a);
	conf_free(b);
	return d;
}

static bool
check_same(const char *from, const char *to, size_t idx)
{
	struct conf *a = load(base), *b = variant(from, to);
	bool same = reload_check_same(&a->checks[idx], &b->checks[idx]);

	conf_free(a);
	conf_free(b);
	return same;
}

static void
plan(const struct conf *a, const struct conf *b, struct reload_plan *p)
{
	assert_int_equal(reload_plan_make(a, b, p), 0);
}

static void
expect_counts(const struct reload_counts *c, unsigned kept, unsigned changed, unsigned added,
              unsigned removed)
{
	assert_int_equal(c->kept, kept);
	assert_int_equal(c->changed, changed);
	assert_int_equal(c->added, added);
	assert_int_equal(c->removed, removed);
}

/* Comments, blank lines and the order of keys inside a section do not matter. */
static void
test_identical_modulo_lines(void **state)
{
	static const char shifted[] = "; a comment first, so every line moves\n"
	                              "\n"
	                              "[global]\n"
	                              "pidfile = /run/t.pid\n"
	                              "log_level = info          ; same value\n"
	                              "control_socket = /run/t.sock\n"
	                              "\n"
	                              "[instance VI_1]\n"
	                              "vrid = 51\n"
	                              "interface = eth0\n"
	                              "priority = 150\n"
	                              "advert_interval = 0.1s\n"
	                              "virtual_ip = 192.0.2.100/24\n"
	                              "virtual_ip = 192.0.2.101/24\n"
	                              "unicast_src = 192.0.2.11\n"
	                              "unicast_peer = 192.0.2.12\n"
	                              "\n"
	                              "track = proc\n"
	                              "track = tcp weight 20\n"
	                              "track_interface = eth1 weight -20\n"
	                              "notify_master = /bin/true master\n"
	                              "notify_timeout = 30000ms\n"
	                              "[instance VI_2]\n"
	                              "interface = eth0\n"
	                              "vrid = 52\n"
	                              "virtual_ip = 2001:db8::100/64\n"
	                              "; checks\n"
	                              "[check proc]\n"
	                              "name = haproxy\n"
	                              "type = process\n"
	                              "weight = 2\n"
	                              "[check tcp]\n"
	                              "type = tcp\n"
	                              "interval = 2000ms\n"
	                              "address = 127.0.0.1:5432\n"
	                              "\n"
	                              "[check script]\n"
	                              "type = script\n"
	                              "rise = 2\n"
	                              "command = /bin/true --flag 'a b'\n";
	struct conf *a = load(base), *b = load(shifted);
	struct reload_plan p;
	char line[512];

	(void)state;
	assert_int_not_equal(a->instances[0].line, b->instances[0].line);
	assert_int_not_equal(a->checks[0].line, b->checks[0].line);
	/* argv is owned memory: different pointers, same command. */
	assert_ptr_not_equal(a->checks[2].argv[0], b->checks[2].argv[0]);
	plan(a, b, &p);
	expect_counts(&p.inst, 2, 0, 0, 0);
	expect_counts(&p.chk, 3, 0, 0, 0);
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(p.inst_from[i], (long)i);
		assert_int_equal(p.inst_diff[i], 0);
	}
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(p.check_from[i], (long)i);
		assert_true(p.check_kept[i]);
	}
	assert_false(p.log_level || p.realtime_priority || p.pidfile || p.control_socket);
	assert_string_equal(reload_summary(&p, "/etc/vipd/vipd.conf", line, sizeof(line)),
	                    "reloaded /etc/vipd/vipd.conf: 2 instances kept, 0 changed, 0 added, "
	                    "0 removed; 3 checks kept, 0 changed, 0 added, 0 removed");
	reload_plan_free(&p);
	conf_free(a);
	conf_free(b);
}

/* Each group of instance settings is told apart. */
static void
test_instance_changes(void **state)
{
	(void)state;
	assert_int_equal(instance_change("[instance VI_1]", "[instance db]"), RD_NAME);
	assert_int_equal(instance_change("priority = 150", "priority = 100"), RD_PRIORITY);
	assert_int_equal(instance_change("priority = 150", "priority = 255"), RD_PRIORITY);
	assert_int_equal(instance_change("advert_interval = 100ms", "advert_interval = 1s"),
	                 RD_TIMING);
	assert_int_equal(instance_change("preempt_delay = 0", "preempt_delay = 5s"), RD_TIMING);
	assert_int_equal(instance_change("preempt_delay = 0", "preempt = no"), RD_TIMING);
	assert_int_equal(instance_change("preempt_delay = 0", "preempt_fast = no"), RD_TIMING);
	assert_int_equal(instance_change("virtual_ip = 192.0.2.101/24\n", ""), RD_VIPS);
	assert_int_equal(instance_change("192.0.2.101/24", "192.0.2.101/25"), RD_VIPS);
	assert_int_equal(
	    instance_change("192.0.2.101/24", "192.0.2.101/24\nvirtual_ip = 192.0.2.102"), RD_VIPS);
	assert_int_equal(instance_change("unicast_peer = 192.0.2.12", "unicast_peer = 192.0.2.13"),
	                 RD_UNICAST);
	assert_int_equal(instance_change("unicast_src = 192.0.2.11\n", ""), RD_UNICAST);
	assert_int_equal(instance_change("unicast_peer = 192.0.2.12", "unicast_peer = 192.0.2.12\n"
	                                                              "unicast_peer = 192.0.2.13"),
	                 RD_UNICAST);
	assert_int_equal(instance_change("checksum = rfc5798", "checksum = rfc9568"), RD_WIRE);
	assert_int_equal(instance_change("garp_repeat = 5", "garp_repeat = 1"), RD_WIRE);
	assert_int_equal(instance_change("garp_repeat = 5", "garp_refresh = 10s"), RD_WIRE);
	assert_int_equal(instance_change("garp_repeat = 5", "garp_delay = 0"), RD_WIRE);
	/* version and VRRPv2 authentication: what goes on the wire, re-applied in place. */
	{
		struct conf *a = load(base);
		struct conf_instance x = a->instances[0], y = x;

		y.version = VRRP_VERSION2;
		assert_int_equal(reload_instance_diff(&x, &y), RD_WIRE);
		x.version = VRRP_VERSION2;
		y.auth.type = AUTH_PASS;
		assert_int_equal(reload_instance_diff(&x, &y), RD_WIRE);
		x.auth.type = AUTH_PASS;
		y.auth.data[7] = 'x';
		assert_int_equal(reload_instance_diff(&x, &y), RD_WIRE);
		conf_free(a);
	}
	assert_int_equal(instance_change("track = tcp weight 20", "track = tcp weight 30"),
	                 RD_TRACKS);
	assert_int_equal(instance_change("track = tcp weight 20\n", ""), RD_TRACKS);
	assert_int_equal(instance_change("eth1 weight -20", "eth2 weight -20"), RD_TRACKS);
	assert_int_equal(instance_change("eth1 weight -20", "eth1 weight -30"), RD_TRACKS);
	assert_int_equal(
	    instance_change("notify_master = /bin/true master", "notify_master = /bin/true other"),
	    RD_HOOKS);
	assert_int_equal(instance_change("notify_master = /bin/true master\n",
	                                 "notify_master = /bin/true master\n"
	                                 "notify_stop = /bin/true\n"),
	                 RD_HOOKS);
	assert_int_equal(instance_change("notify_timeout = 30s", "notify_timeout = 5s"), RD_HOOKS);
	assert_int_equal(instance_change("notify_timeout = 30s", "notify_shell = yes"), RD_HOOKS);
	/* [global] script_user flows into every instance's hook user. */
	struct conf *a = load(base), *b = variant("log_level = info", "script_user = nobody");
	assert_int_equal(diff_of(a, b, 0), RD_HOOKS);
	assert_int_equal(diff_of(a, b, 1), RD_HOOKS);
	conf_free(a);
	conf_free(b);
	/* Several at once. */
	assert_int_equal(instance_change("priority = 150\nadvert_interval = 100ms",
	                                 "priority = 10\nadvert_interval = 200ms"),
	                 RD_PRIORITY | RD_TIMING);
}

/* Each check setting that changes how it runs is told apart; the default weight is not. */
static void
test_check_changes(void **state)
{
	(void)state;
	assert_true(check_same("rise = 2", "rise = 2 ; comment", 2));
	assert_false(
	    check_same("command = /bin/true --flag 'a b'", "command = /bin/true --flag 'a'", 2));
	assert_false(check_same("rise = 2", "rise = 3", 2));
	assert_false(check_same("rise = 2", "rise = 2\nfall = 2", 2));
	assert_false(check_same("rise = 2", "rise = 2\nshell = yes", 2));
	assert_false(check_same("rise = 2", "rise = 2\nuser = nobody", 2));
	assert_false(check_same("rise = 2", "rise = 2\ninit_fail = yes", 2));
	assert_false(check_same("rise = 2", "rise = 2\ntimeout = 300ms", 2));
	assert_false(check_same("interval = 2s", "interval = 1s", 1));
	assert_false(check_same("127.0.0.1:5432", "127.0.0.1:5433", 1));
	assert_false(check_same("127.0.0.1:5432", "127.0.0.2:5432", 1));
	assert_false(check_same("name = haproxy", "name = nginx", 0));
	assert_false(check_same("type = tcp\naddress = 127.0.0.1:5432",
	                        "type = process\nname = postgres", 1));
	/* script_user is the default user of checks. */
	assert_false(check_same("log_level = info", "script_user = nobody", 2));
	/* The default weight belongs to the track lines: the check runs the same. */
	assert_true(check_same("weight = 2", "weight = 5", 0));
}

/* A default weight change reaches the instance through its track line. */
static void
test_default_weight_changes_tracks(void **state)
{
	struct conf *a = load(base), *b = variant("weight = 2", "weight = 5");
	struct reload_plan p;

	(void)state;
	plan(a, b, &p);
	expect_counts(&p.chk, 3, 0, 0, 0);
	expect_counts(&p.inst, 1, 1, 0, 0);
	assert_int_equal(p.inst_diff[0], RD_TRACKS);
	reload_plan_free(&p);
	conf_free(a);
	conf_free(b);
}

/* A replaced check changes every instance tracking it, even with identical lines. */
static void
test_replaced_check_changes_tracker(void **state)
{
	struct conf *a = load(base), *b = variant("interval = 2s", "interval = 3s");
	struct reload_plan p;
	char line[512];

	(void)state;
	plan(a, b, &p);
	assert_true(p.check_kept[0]);
	assert_false(p.check_kept[1]);
	assert_int_equal(p.check_from[1], 1);
	assert_true(p.check_kept[2]);
	assert_false(p.old_check_gone[0]);
	assert_true(p.old_check_gone[1]);
	expect_counts(&p.chk, 2, 1, 0, 0);
	expect_counts(&p.inst, 1, 1, 0, 0);
	assert_int_equal(p.inst_diff[0], RD_TRACKS);
	assert_int_equal(p.inst_diff[1], 0);
	assert_string_equal(reload_summary(&p, "t.conf", line, sizeof(line)),
	                    "reloaded t.conf: 1 instance kept, 1 changed, 0 added, 0 removed; "
	                    "2 checks kept, 1 changed, 0 added, 0 removed");
	reload_plan_free(&p);
	conf_free(a);
	conf_free(b);
}

/* Instances match by (interface, vrid, family), checks by name; the rest is added or removed. */
static void
test_match_by_key(void **state)
{
	/* VI_2 moves to vrid 53 (a new router), script goes, a new check comes. */
	static const char other[] = "[global]\n"
	                            "log_level = debug\n"
	                            "pidfile = /run/other.pid\n"
	                            "control_socket = /run/t.sock\n"
	                            "realtime_priority = 0\n"
	                            "[instance VI_2]\n"
	                            "interface = eth0\n"
	                            "vrid = 53\n"
	                            "virtual_ip = 2001:db8::100/64\n"
	                            "[instance renamed]\n"
	                            "interface = eth0\n"
	                            "vrid = 51\n"
	                            "priority = 150\n"
	                            "advert_interval = 100ms\n"
	                            "virtual_ip = 192.0.2.100/24\n"
	                            "virtual_ip = 192.0.2.101/24\n"
	                            "unicast_src = 192.0.2.11\n"
	                            "unicast_peer = 192.0.2.12\n"
	                            "track = proc\n"
	                            "track = tcp weight 20\n"
	                            "track_interface = eth1 weight -20\n"
	                            "notify_master = /bin/true master\n"
	                            "[check tcp]\n"
	                            "type = tcp\n"
	                            "address = 127.0.0.1:5432\n"
	                            "interval = 2s\n"
	                            "[check proc]\n"
	                            "type = process\n"
	                            "name = haproxy\n"
	                            "weight = 2\n"
	                            "[check new]\n"
	                            "type = process\n"
	                            "name = postgres\n";
	struct conf *a = load(base), *b = load(other);
	struct reload_plan p;

	(void)state;
	plan(a, b, &p);
	/* New order: VI_2@53 is new; "renamed" is VI_1 by its key. */
	assert_int_equal(p.inst_from[0], -1);
	assert_int_equal(p.inst_from[1], 0);
	assert_int_equal(p.inst_diff[1], RD_NAME);
	assert_false(p.old_inst_gone[0]);
	assert_true(p.old_inst_gone[1]);
	expect_counts(&p.inst, 0, 1, 1, 1);
	/* Checks by name, whatever the order. */
	assert_int_equal(p.check_from[0], 1);
	assert_int_equal(p.check_from[1], 0);
	assert_int_equal(p.check_from[2], -1);
	assert_true(p.check_kept[0] && p.check_kept[1] && !p.check_kept[2]);
	assert_true(p.old_check_gone[2]);
	expect_counts(&p.chk, 2, 0, 1, 1);
	/* [global] */
	assert_true(p.log_level);
	assert_true(p.realtime_priority);
	assert_true(p.pidfile);
	assert_false(p.control_socket);
	reload_plan_free(&p);

	/* The other way round, and a family is part of the key. */
	plan(b, a, &p);
	expect_counts(&p.inst, 0, 1, 1, 1);
	expect_counts(&p.chk, 2, 0, 1, 1);
	reload_plan_free(&p);
	conf_free(a);
	conf_free(b);
}

/* An empty file is a valid configuration: everything removed. */
static void
test_everything_removed(void **state)
{
	struct conf *a = load(base), *b = load("[global]\n");
	struct reload_plan p;
	char line[512];

	(void)state;
	plan(a, b, &p);
	expect_counts(&p.inst, 0, 0, 0, 2);
	expect_counts(&p.chk, 0, 0, 0, 3);
	assert_true(p.pidfile && p.control_socket);
	assert_string_equal(reload_summary(&p, "t.conf", line, sizeof(line)),
	                    "reloaded t.conf: 0 instances kept, 0 changed, 0 added, 2 removed; "
	                    "0 checks kept, 0 changed, 0 added, 3 removed");
	reload_plan_free(&p);
	plan(b, a, &p);
	expect_counts(&p.inst, 0, 0, 2, 0);
	expect_counts(&p.chk, 0, 0, 3, 0);
	reload_plan_free(&p);
	conf_free(a);
	conf_free(b);
}

static void
test_diff_text(void **state)
{
	char buf[128];

	(void)state;
	assert_string_equal(reload_diff_text(0, buf, sizeof(buf)), "");
	assert_string_equal(reload_diff_text(RD_PRIORITY, buf, sizeof(buf)), "priority");
	assert_string_equal(reload_diff_text(RD_NAME | RD_VIPS | RD_HOOKS, buf, sizeof(buf)),
	                    "name, vips, hooks");
	assert_string_equal(
	    reload_diff_text(RD_TIMING | RD_UNICAST | RD_WIRE | RD_TRACKS, buf, sizeof(buf)),
	    "timing, unicast, wire, tracks");
	/* Truncated, still a string. */
	assert_string_equal(reload_diff_text(RD_NAME | RD_PRIORITY, buf, 8), "name, p");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_identical_modulo_lines),
	    cmocka_unit_test(test_instance_changes),
	    cmocka_unit_test(test_check_changes),
	    cmocka_unit_test(test_default_weight_changes_tracks),
	    cmocka_unit_test(test_replaced_check_changes_tracker),
	    cmocka_unit_test(test_match_by_key),
	    cmocka_unit_test(test_everything_removed),
	    cmocka_unit_test(test_diff_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
