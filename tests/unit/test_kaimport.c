/*
 * test_kaimport.c - keepalived.conf parsing (kaparse.c) and translation
 * (kaimport.c): the tokenizer, includes, the vrrp_script forms that
 * become built-in checks and the near-misses that must stay scripts.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vipd/kaimport.h"
#include "vipd/kaparse.h"

static void
parse_ok(const char *text, struct ka_tree *t)
{
	char *errs = NULL;
	size_t len;
	FILE *f = open_memstream(&errs, &len);

	assert_int_equal(ka_parse_string("t.conf", text, t, f), 0);
	fclose(f);
	assert_string_equal(errs, "");
	free(errs);
}

static void
parse_err(const char *text, const char *expect)
{
	struct ka_tree t;
	char *errs = NULL;
	size_t len;
	FILE *f = open_memstream(&errs, &len);

	assert_int_equal(ka_parse_string("t.conf", text, &t, f), -1);
	fclose(f);
	assert_string_equal(errs, expect);
	free(errs);
}

/* Translate text; *out and *errs are the two streams; returns the status. */
static int
translate(const char *text, char **out, char **errs)
{
	struct ka_tree t;
	size_t l1, l2;
	FILE *o = open_memstream(out, &l1), *e = open_memstream(errs, &l2);
	int rc;

	parse_ok(text, &t);
	rc = ka_translate(&t, "t.conf", o, e);
	ka_tree_free(&t);
	fclose(o);
	fclose(e);
	return rc;
}

static void
test_tokens(void **state)
{
	struct ka_tree t;
	const struct ka_node *n;

	(void)state;
	parse_ok("! a comment\n"
	         "vrrp_script x{script \"/bin/a # b ! c\" # comment\n"
	         "interval 2 }\n"
	         "vrrp_instance VI_1\n"
	         "{\n"
	         "  virtual_ipaddress { 192.0.2.1/24\n 192.0.2.2 dev eth0 }\n"
	         "  notify \\\n"
	         "    /x.sh\n"
	         "}\n",
	         &t);
	assert_int_equal(t.root.nchild, 2);
	n = &t.root.child[0];
	assert_string_equal(n->kw, "vrrp_script");
	assert_string_equal(n->args[0], "x");
	assert_true(n->block);
	assert_int_equal(n->nchild, 2);
	assert_string_equal(n->child[0].args[0], "/bin/a # b ! c");
	assert_string_equal(n->child[1].kw, "interval");
	assert_int_equal(n->child[1].line, 3);
	n = &t.root.child[1];
	assert_true(n->block);
	assert_int_equal(n->line, 4);
	assert_int_equal(n->child[0].nchild, 2);
	assert_string_equal(n->child[0].child[1].args[1], "eth0");
	assert_string_equal(n->child[1].kw, "notify");
	assert_int_equal(n->child[1].nargs, 1);
	assert_string_equal(n->child[1].args[0], "/x.sh");
	ka_tree_free(&t);
}

static void
test_parse_errors(void **state)
{
	(void)state;
	parse_err("vrrp_instance x {\n priority 1\n",
	          "t.conf:1: '{' of vrrp_instance is never closed\n");
	parse_err("a\n}\n", "t.conf:2: '}' without a matching '{'\n");
	parse_err("script \"abc\n", "t.conf:1: unterminated quote\n");
	parse_err("{\n", "t.conf:1: '{' without a keyword before it\n");
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void
test_includes(void **state)
{
	char dir[] = "/tmp/kaimport-XXXXXX", p[256], q[256], *errs = NULL;
	struct ka_tree t;
	size_t len;
	FILE *e;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(p, sizeof(p), "%s/conf.d", dir);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/conf.d/b.conf", dir);
	write_file(p, "vrrp_script b {\n script /bin/true\n}\n");
	snprintf(p, sizeof(p), "%s/conf.d/a.conf", dir);
	write_file(p, "vrrp_script a {\n script /bin/true\n}\n");
	snprintf(p, sizeof(p), "%s/main.conf", dir);
	/* relative to the including file, in glob order, inside a block too */
	write_file(p, "include conf.d/*.conf\nglobal_defs {\n include g.inc\n}\n");
	snprintf(q, sizeof(q), "%s/g.inc", dir);
	write_file(q, "script_user nobody\n");
	assert_int_equal(ka_parse_file(p, &t, stderr), 0);
	assert_int_equal(t.root.nchild, 3);
	assert_string_equal(t.root.child[0].args[0], "a");
	assert_string_equal(t.root.child[1].args[0], "b");
	assert_string_equal(t.root.child[2].child[0].kw, "script_user");
	assert_int_equal(t.root.child[2].child[0].line, 1);
	ka_tree_free(&t);
	/* a loop is a parse error (exit 2), as is an unreadable file */
	write_file(q, "include main.conf\n");
	e = open_memstream(&errs, &len);
	assert_int_equal(ka_import(p, stdout, e), KA_PARSE_ERROR);
	fclose(e);
	assert_non_null(strstr(errs, "include loop"));
	free(errs);
	errs = NULL;
	e = open_memstream(&errs, &len);
	assert_int_equal(ka_import("/nonexistent/keepalived.conf", stdout, e), KA_PARSE_ERROR);
	fclose(e);
	assert_string_equal(errs, "/nonexistent/keepalived.conf: No such file or directory\n");
	free(errs);
	snprintf(p, sizeof(p), "rm -rf %s", dir);
	assert_int_equal(system(p), 0);
}

struct probe {
	const char *cmd;
	int as_root;
	enum ka_probe kind;
	const char *lines;
};

static const struct probe probes[] = {
    {"/usr/bin/killall -0 haproxy", 1, KA_PROCESS, "type = process\nname = haproxy\n"},
    {"killall -0 haproxy", 1, KA_PROCESS, "type = process\nname = haproxy\n"},
    {"pidof haproxy", 0, KA_PROCESS, "type = process\nname = haproxy\n"},
    {"/bin/pidof keepalived", 1, KA_PROCESS, "type = process\nname = keepalived\n"},
    {"/usr/bin/nc -zv 127.0.0.1 5432", 1, KA_TCP, "type = tcp\naddress = 127.0.0.1:5432\n"},
    {"nc -z ::1 5432", 1, KA_TCP, "type = tcp\naddress = [::1]:5432\n"},
    {"curl -fs http://127.0.0.1:8008/primary", 1, KA_HTTP,
     "type = http\nurl = http://127.0.0.1:8008/primary\n"},
    {"/usr/bin/curl --fail --silent -o /dev/null http://10.0.0.1:8008/replica", 1, KA_HTTP,
     "type = http\nurl = http://10.0.0.1:8008/replica\n"},
    {"curl -sfI http://127.0.0.1:8008/health", 1, KA_HTTP,
     "type = http\nurl = http://127.0.0.1:8008/health\nmethod = HEAD\n"},
    /* near-misses: stay scripts */
    {"killall -0 haproxy", 0, KA_SCRIPT, ""},            /* as a user: EPERM on others */
    {"killall -0 -u haproxy haproxy", 1, KA_SCRIPT, ""}, /* more options */
    {"killall -0 a-very-long-process-name", 1, KA_SCRIPT, ""},
    {"killall haproxy", 1, KA_SCRIPT, ""},
    {"/opt/bin/killall -0 haproxy", 1, KA_SCRIPT, ""},
    {"pidof -x haproxy", 1, KA_SCRIPT, ""},
    {"pidof haproxy nginx", 1, KA_SCRIPT, ""},
    {"nc -z localhost 5432", 1, KA_SCRIPT, ""}, /* a name: several addresses */
    {"nc -zu 127.0.0.1 53", 1, KA_SCRIPT, ""},
    {"nc -z -w 2 127.0.0.1 5432", 1, KA_SCRIPT, ""},
    {"nc 127.0.0.1 5432", 1, KA_SCRIPT, ""},
    {"nc -z 127.0.0.1 5432-5433", 1, KA_SCRIPT, ""},
    {"curl -s http://127.0.0.1:8008/primary", 1, KA_SCRIPT, ""}, /* no -f: any status */
    {"curl -f http://127.0.0.1/status", 1, KA_SCRIPT, ""},       /* not Patroni: 2xx/3xx */
    {"curl -fL http://127.0.0.1:8008/primary", 1, KA_SCRIPT, ""},
    {"curl -fk https://127.0.0.1:8008/primary", 1, KA_SCRIPT, ""},
    {"curl -f -m 2 http://127.0.0.1:8008/primary", 1, KA_SCRIPT, ""},
    {"/bin/sh -c 'killall -0 haproxy'", 1, KA_SCRIPT, ""},
};

static void
test_recognise(void **state)
{
	char lines[512], why[512];

	(void)state;
	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		const struct probe *p = &probes[i];
		enum ka_probe k =
		    ka_recognise(p->cmd, p->as_root, lines, sizeof(lines), why, sizeof(why));

		if (k != p->kind || strcmp(lines, p->lines) != 0)
			fail_msg("%s: got %d \"%s\"", p->cmd, k, lines);
		if (k != KA_SCRIPT)
			assert_non_null(strstr(why, "recognised"));
	}
}

static void
test_translate(void **state)
{
	char *out, *errs;

	(void)state;
	assert_int_equal(translate("global_defs {\n"
	                           "  vrrp_version 3\n"
	                           "  vrrp_startup_delay 30\n"
	                           "  vrrp_garp_master_repeat 2\n"
	                           "}\n"
	                           "vrrp_script chk {\n"
	                           "  script \"/usr/bin/killall -0 haproxy\"\n"
	                           "  interval 2\n"
	                           "  timeout 0.5\n"
	                           "  weight -20\n"
	                           "  fall 3\n"
	                           "}\n"
	                           "vrrp_instance VI_1 {\n"
	                           "  state BACKUP\n"
	                           "  nopreempt\n"
	                           "  interface eth0\n"
	                           "  virtual_router_id 51\n"
	                           "  priority 150\n"
	                           "  advert_int 0.1\n"
	                           "  preempt_delay 30\n"
	                           "  virtual_ipaddress {\n"
	                           "    192.0.2.100/24 dev eth0\n"
	                           "  }\n"
	                           "  unicast_src_ip 192.0.2.11\n"
	                           "  unicast_peer {\n"
	                           "    192.0.2.12\n"
	                           "  }\n"
	                           "  track_script {\n"
	                           "    chk weight -30\n"
	                           "  }\n"
	                           "  track_interface {\n"
	                           "    eth1 weight -10\n"
	                           "  }\n"
	                           "  notify \"/etc/vipd/n.sh\"\n"
	                           "  garp_master_delay 1\n"
	                           "}\n",
	                           &out, &errs),
	                 KA_ALL_TRANSLATED);
	assert_string_equal(errs, "");
	assert_non_null(strstr(out, "[global]\n"));
	assert_non_null(strstr(out, "startup_delay = 30s\n"));
	assert_non_null(strstr(out, "[check chk]\n"));
	assert_non_null(strstr(out, "type = process\nname = haproxy\n"));
	assert_non_null(strstr(out, "interval = 2s\ntimeout = 500ms\nweight = -20\nfall = 3\n"));
	assert_non_null(strstr(out, "[instance VI_1]\n"));
	assert_non_null(strstr(out, "preempt = no\n"));
	assert_non_null(strstr(out, "vrid = 51\npriority = 150\nadvert_interval = 100ms\n"
	                            "preempt_delay = 30s\nvirtual_ip = 192.0.2.100/24\n"
	                            "unicast_src = 192.0.2.11\nunicast_peer = 192.0.2.12\n"
	                            "track = chk weight -30\ntrack_interface = eth1 weight -10\n"
	                            "notify = /etc/vipd/n.sh\ngarp_delay = 1s\ngarp_repeat = 2\n"));
	free(out);
	free(errs);
}

/* VRRPv2 (keepalived's default) with PASS: version = 2, auth_type, auth_pass. */
static void
test_translate_v2(void **state)
{
	char *out, *errs;

	(void)state;
	assert_int_equal(translate("vrrp_instance VI_1 {\n"
	                           "  interface eth0\n"
	                           "  virtual_router_id 51\n"
	                           "  advert_int 2\n"
	                           "  authentication {\n"
	                           "    auth_type PASS\n"
	                           "    auth_pass QAZxsw123EDCvfr\n"
	                           "  }\n"
	                           "  virtual_ipaddress {\n"
	                           "    192.0.2.100/24\n"
	                           "  }\n"
	                           "}\n"
	                           "vrrp_instance VI_6 {\n"
	                           "  interface eth0\n"
	                           "  virtual_router_id 52\n"
	                           "  virtual_ipaddress {\n"
	                           "    2001:db8::100/64\n"
	                           "  }\n"
	                           "}\n",
	                           &out, &errs),
	                 KA_ALL_TRANSLATED);
	assert_string_equal(errs, "");
	assert_non_null(strstr(out, "interface = eth0\n; VRRPv2 (keepalived's default for IPv4)\n"
	                            "version = 2\nvrid = 51\nadvert_interval = 2s\n"
	                            "auth_type = PASS\n"));
	/* keepalived puts the first 8 characters on the wire */
	assert_non_null(strstr(out, "auth_pass = QAZxsw12\n"));
	/* IPv6: keepalived speaks VRRPv3 whatever */
	assert_null(strstr(strstr(out, "[instance VI_6]"), "version"));
	free(out);
	free(errs);

	/* vrrp_version 2 with a fractional advert_int, and AH: reported. */
	assert_int_equal(translate("global_defs {\n"
	                           "  vrrp_version 2\n"
	                           "}\n"
	                           "vrrp_instance VI_1 {\n"
	                           "  interface eth0\n"
	                           "  virtual_router_id 51\n"
	                           "  advert_int 0.5\n"
	                           "  authentication {\n"
	                           "    auth_type AH\n"
	                           "    auth_pass x\n"
	                           "  }\n"
	                           "  virtual_ipaddress {\n"
	                           "    192.0.2.100/24\n"
	                           "  }\n"
	                           "}\n",
	                           &out, &errs),
	                 KA_REPORTED);
	assert_string_equal(errs, "t.conf:7: advert_int: not translated: VRRPv2 carries whole "
	                          "seconds: advert_interval must be 1s..255s\n"
	                          "t.conf:8: authentication: not translated: vipd supports "
	                          "auth_type PASS only (AH is not supported)\n");
	assert_non_null(strstr(out, "; VRRPv2 (vrrp_version 2)\nversion = 2\n"));
	free(out);
	free(errs);
}

static void
test_reported(void **state)
{
	char *out, *errs;

	(void)state;
	assert_int_equal(translate("global_defs {\n"
	                           "  router_id lb1\n"
	                           "}\n"
	                           "virtual_server 10.0.0.1 80 {\n"
	                           "  real_server 10.0.0.2 80 { }\n"
	                           "}\n"
	                           "vrrp_sync_group G {\n"
	                           "  group { VI_1 }\n"
	                           "}\n"
	                           "vrrp_instance VI_1 {\n"
	                           "  state MASTER\n"
	                           "  nopreempt\n"
	                           "  interface eth0\n"
	                           "  virtual_router_id 51\n"
	                           "  authentication {\n"
	                           "    auth_type PASS\n"
	                           "  }\n"
	                           "  use_vmac\n"
	                           "  virtual_ipaddress {\n"
	                           "    192.0.2.100 label eth0:1\n"
	                           "    2001:db8::1\n"
	                           "  }\n"
	                           "  track_script {\n"
	                           "    missing\n"
	                           "  }\n"
	                           "  frobnicate 1\n"
	                           "}\n",
	                           &out, &errs),
	                 KA_REPORTED);
	assert_string_equal(
	    errs,
	    "t.conf:2: router_id: not translated: vipd has no router_id: it names the host only "
	    "in keepalived's mail and SNMP, which vipd does not send\n"
	    "t.conf:4: virtual_server: not translated: vipd does VRRP only, no IPVS load "
	    "balancing\n"
	    "t.conf:15: authentication: not translated: no auth_pass vipd.conf can carry\n"
	    "t.conf:20: 192.0.2.100: not translated: label eth0:1: vipd adds the VIP without a "
	    "label\n"
	    "t.conf:21: 2001:db8::1: not translated: an instance's VIPs are of one family in "
	    "vipd: add an instance (it may have the same VRID) for this one\n"
	    "t.conf:24: missing: not translated: no translated check of that name\n"
	    "t.conf:26: frobnicate: not translated: no vipd equivalent in an instance\n");
	/* each report is also a comment where its keyword was */
	assert_non_null(strstr(out, "\n; t.conf:15: authentication: not translated:"));
	assert_non_null(strstr(out, "; nopreempt: ignored by keepalived with state MASTER"));
	assert_null(strstr(out, "preempt = no"));
	assert_non_null(strstr(out, "use_vmac = yes\n"));
	assert_non_null(strstr(out, "virtual_ip = 192.0.2.100\n"));
	free(out);
	free(errs);
}

/* vrrp_sync_group: a [group], with its hooks; what vipd has not is reported. */
static void
test_sync_group(void **state)
{
	char *out, *errs;

	(void)state;
	assert_int_equal(translate("vrrp_sync_group VG_1 {\n"
	                           "  group {\n"
	                           "    front\n"
	                           "    back\n"
	                           "  }\n"
	                           "  notify_master \"/etc/keepalived/master.sh\"\n"
	                           "  notify /etc/keepalived/notify.sh\n"
	                           "  global_tracking\n"
	                           "  track_interface {\n"
	                           "    eth2\n"
	                           "  }\n"
	                           "}\n"
	                           "vrrp_sync_group {\n"
	                           "}\n",
	                           &out, &errs),
	                 KA_REPORTED);
	assert_non_null(strstr(out, "\n[group VG_1]\n"
	                            "instances = front back\n"
	                            "notify_master = /etc/keepalived/master.sh\n"
	                            "notify = /etc/keepalived/notify.sh\n"));
	assert_string_equal(errs,
	                    "t.conf:8: global_tracking: not translated: no vipd equivalent in a "
	                    "sync group\n"
	                    "t.conf:9: track_interface: not translated: a group tracks nothing "
	                    "itself in vipd: put the track lines in its instances (one in FAULT "
	                    "takes the whole group out)\n"
	                    "t.conf:13: vrrp_sync_group: not translated: a group name is 1 to 63 "
	                    "of A-Z a-z 0-9 _ . -\n");
	free(out);
	free(errs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sync_group),
	    cmocka_unit_test(test_tokens),    cmocka_unit_test(test_parse_errors),
	    cmocka_unit_test(test_includes),  cmocka_unit_test(test_recognise),
	    cmocka_unit_test(test_translate), cmocka_unit_test(test_translate_v2),
	    cmocka_unit_test(test_reported),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
