/*
 * test_metrics.c - the Prometheus text rendering (metrics.c): label
 * escaping, every family once with its HELP and TYPE before its samples,
 * the values of a snapshot; metrics_listen's parsing and its config errors.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vipd/buf.h"
#include "vipd/conf.h"
#include "vipd/metrics.h"
#include "vipd/metrics_http.h"

static void
test_label_escaping(void **state)
{
	(void)state;
	struct buf b;

	buf_init(&b);
	metrics_label_value(&b, "plain");
	buf_puts(&b, "|");
	metrics_label_value(&b, "a\\b\"c\nd");
	buf_puts(&b, "|");
	metrics_label_value(&b, "");
	assert_string_equal(b.data, "plain|a\\\\b\\\"c\\nd|");
	buf_free(&b);
}

/* A snapshot: one Master with odd names, one check, one hook that ran. */
static void
snapshot(struct metrics_src *s, struct vrrp_metrics *vm, struct check_metrics *cm,
         struct metrics_hooks *hm)
{
	memset(vm, 0, sizeof(*vm));
	vm->name = "VI_\"1\"";
	vm->ifname = "eth\\0";
	vm->vrid = 51;
	vm->family = AF_INET6;
	vm->state = ST_MASTER;
	vm->priority = 150;
	vm->effective_priority = 140;
	vm->transitions[R_STARTUP] = 1;
	vm->transitions[R_MASTER_DOWN] = 2;
	vm->master_changes = 3;
	vm->adverts_sent = 12345;
	vm->adverts_received = 7;
	vm->dropped[DROP_TTL] = 4;
	vm->drained = true;
	memset(cm, 0, sizeof(*cm));
	cm->name = "pg";
	cm->type = "pgsql";
	cm->state = CHK_UP;
	cm->runs = 10;
	cm->failures = 2;
	cm->have_last = true;
	cm->last_duration_ns = 1500000;
	memset(hm, 0, sizeof(*hm));
	hm->instance = vm->name;
	hm->kinds[CONF_HOOK_MASTER].configured = true;
	hm->kinds[CONF_HOOK_MASTER].runs[HOOK_OK] = 2;
	hm->kinds[CONF_HOOK_MASTER].runs[HOOK_TIMEOUT] = 1;
	hm->kinds[CONF_HOOK_MASTER].duration_ns_sum = 2500000000ULL;
	*s = (struct metrics_src){
	    .version = "1.2.3",
	    .start_real_ns = 1700000000123000000ULL,
	    .insts = vm,
	    .ninsts = 1,
	    .checks = cm,
	    .nchecks = 1,
	    .hooks = hm,
	    .nhooks = 1,
	};
}

static bool
has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; (p = strstr(p, line)); p++)
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return true;
	return false;
}

#define IL "instance=\"VI_\\\"1\\\"\",interface=\"eth\\\\0\",vrid=\"51\",family=\"ipv6\""

static void
test_render_values(void **state)
{
	(void)state;
	struct metrics_src s;
	struct vrrp_metrics vm;
	struct check_metrics cm;
	struct metrics_hooks hm;
	struct buf b;
	static const char *const want[] = {
	    "vipd_build_info{version=\"1.2.3\"} 1",
	    "vipd_start_time_seconds 1700000000.123",
	    "vipd_instance_state{" IL ",state=\"MASTER\"} 1",
	    "vipd_instance_state{" IL ",state=\"BACKUP\"} 0",
	    "vipd_instance_state{" IL ",state=\"INIT\"} 0",
	    "vipd_instance_state{" IL ",state=\"FAULT\"} 0",
	    "vipd_instance_priority{" IL "} 150",
	    "vipd_instance_effective_priority{" IL "} 140",
	    "vipd_instance_transitions_total{" IL ",reason=\"startup\"} 1",
	    "vipd_instance_transitions_total{" IL ",reason=\"master_down\"} 2",
	    "vipd_instance_transitions_total{" IL ",reason=\"stop\"} 0",
	    "vipd_instance_master_changes_total{" IL "} 3",
	    "vipd_instance_adverts_sent_total{" IL "} 12345",
	    "vipd_instance_adverts_received_total{" IL "} 7",
	    "vipd_instance_dropped_total{" IL ",reason=\"ttl\"} 4",
	    "vipd_instance_dropped_total{" IL ",reason=\"checksum\"} 0",
	    "vipd_instance_drained{" IL "} 1",
	    "vipd_check_up{check=\"pg\",type=\"pgsql\"} 1",
	    "vipd_check_runs_total{check=\"pg\",type=\"pgsql\"} 10",
	    "vipd_check_failures_total{check=\"pg\",type=\"pgsql\"} 2",
	    "vipd_check_last_duration_seconds{check=\"pg\",type=\"pgsql\"} 0.001500",
	    "vipd_hook_runs_total{instance=\"VI_\\\"1\\\"\",hook=\"notify_master\",result=\"ok\"} "
	    "2",
	    "vipd_hook_runs_total{instance=\"VI_\\\"1\\\"\",hook=\"notify_master\",result="
	    "\"timeout\"} 1",
	    "vipd_hook_duration_seconds_sum{instance=\"VI_\\\"1\\\"\",hook=\"notify_master\"} "
	    "2.500000",
	    "vipd_hook_duration_seconds_count{instance=\"VI_\\\"1\\\"\",hook=\"notify_master\"} 3",
	    "# TYPE vipd_hook_duration_seconds summary",
	    "# TYPE vipd_instance_state gauge",
	    "# TYPE vipd_instance_transitions_total counter",
	};

	snapshot(&s, &vm, &cm, &hm);
	buf_init(&b);
	metrics_render(&s, &b);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (!has_line(b.data, want[i]))
			fail_msg("missing line: %s\nin:\n%s", want[i], b.data);
	/* Hooks neither configured nor run are left out. */
	assert_null(strstr(b.data, "hook=\"notify_backup\""));
	assert_null(strstr(b.data, "hook=\"promote_pgsql\""));
	assert_int_equal(b.data[b.len - 1], '\n');
	buf_free(&b);
}

/*
 * The format's grouping rule: each family's samples in one block, after
 * its own # HELP and # TYPE, and no family twice.
 */
static void
test_render_grouping(void **state)
{
	(void)state;
	struct metrics_src s;
	struct vrrp_metrics vm[2];
	struct check_metrics cm;
	struct metrics_hooks hm[2];
	struct buf b;
	char seen[64][64];
	size_t nseen = 0;
	char cur[64] = "";

	snapshot(&s, &vm[0], &cm, &hm[0]);
	vm[1] = vm[0];
	vm[1].name = "VI_2";
	hm[1] = hm[0];
	hm[1].instance = "VI_2";
	s.ninsts = 2;
	s.nhooks = 2;
	s.insts = vm;
	s.hooks = hm;
	buf_init(&b);
	metrics_render(&s, &b);
	char *text = strdup(b.data);
	for (char *save, *line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char name[64];

		if (sscanf(line, "# TYPE %63s", name) == 1) {
			for (size_t i = 0; i < nseen; i++)
				assert_string_not_equal(seen[i], name);
			snprintf(seen[nseen++], sizeof(seen[0]), "%s", name);
			snprintf(cur, sizeof(cur), "%s", name);
			continue;
		}
		if (line[0] == '#')
			continue;
		size_t n = strcspn(line, "{ ");
		snprintf(name, sizeof(name), "%.*s", (int)n, line);
		/* A sample of the current family (a summary's _sum / _count too). */
		if (strncmp(name, cur, strlen(cur)) != 0)
			fail_msg("sample %s outside its family (current %s)", line, cur);
	}
	assert_true(nseen >= 17);
	free(text);
	buf_free(&b);
}

static void
test_empty_daemon(void **state)
{
	(void)state;
	struct metrics_src s = {.version = "x"};
	struct buf b;

	buf_init(&b);
	metrics_render(&s, &b);
	assert_non_null(strstr(b.data, "vipd_build_info{version=\"x\"} 1\n"));
	assert_non_null(strstr(b.data, "# TYPE vipd_check_up gauge\n"));
	buf_free(&b);
}

static void
test_listen_parse(void **state)
{
	(void)state;
	struct sockaddr_storage ss;
	const char *why;
	socklen_t len;
	static const char *const bad[] = {
	    "",           "9650",          "127.0.0.1",        "127.0.0.1:",   "127.0.0.1:0",
	    "1.2.3.4:-1", "1.2.3.4:65536", "1.2.3.4:80x",      "localhost:80", "::1:9650",
	    "[::1]",      "[::1]9650",     "[127.0.0.1]:9650", "[::1:9650",    "1.2.3.4:+80",
	};

	assert_int_equal(metrics_listen_parse("127.0.0.1:9650", &ss, &len, &why), 0);
	assert_int_equal(ss.ss_family, AF_INET);
	assert_int_equal(len, sizeof(struct sockaddr_in));
	assert_int_equal(ntohs(((struct sockaddr_in *)&ss)->sin_port), 9650);
	assert_int_equal(metrics_listen_parse("[::]:1", &ss, &len, &why), 0);
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_int_equal(ntohs(((struct sockaddr_in6 *)&ss)->sin6_port), 1);
	assert_int_equal(metrics_listen_parse("[2001:db8::1]:65535", &ss, &len, &why), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (metrics_listen_parse(bad[i], &ss, &len, &why) == 0)
			fail_msg("\"%s\" accepted", bad[i]);
}

static void
test_conf_key(void **state)
{
	(void)state;
	char *errs;
	size_t n;
	FILE *f = open_memstream(&errs, &n);
	struct conf *c = conf_load_string("t.conf", "[global]\nmetrics_listen = [::1]:9650\n", f);

	fclose(f);
	assert_non_null(c);
	assert_string_equal(c->metrics_listen, "[::1]:9650");
	conf_free(c);
	free(errs);

	f = open_memstream(&errs, &n);
	c = conf_load_string("t.conf", "[global]\n\nmetrics_listen = ::1:9650\n", f);
	fclose(f);
	assert_null(c);
	assert_string_equal(errs, "t.conf:3: metrics_listen: an IPv6 address goes in brackets: "
	                          "[ADDR]:PORT, got \"::1:9650\"\n");
	free(errs);

	/* Off by default. */
	c = conf_load_string("t.conf", "[global]\n", NULL);
	assert_non_null(c);
	assert_string_equal(c->metrics_listen, "");
	conf_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_label_escaping),  cmocka_unit_test(test_render_values),
	    cmocka_unit_test(test_render_grouping), cmocka_unit_test(test_empty_daemon),
	    cmocka_unit_test(test_listen_parse),    cmocka_unit_test(test_conf_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
