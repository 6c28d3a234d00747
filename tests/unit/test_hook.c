/*
 * test_hook.c - notify hook queues for real: strict FIFO order without
 * overlap, keepalived's trailing arguments, the VIPD_* environment, the
 * timeout killing a hung hook while a 10 ms loop timer stays on time, the
 * ring of the last 32 runs, and the fault-reason names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "vipd/hook.h"
#include "vipd/loop.h"

#define MS NS_PER_MS

static char tmpfile_path[64];

static int
setup_file(void **state)
{
	(void)state;
	snprintf(tmpfile_path, sizeof(tmpfile_path), "/tmp/vipd-test-hook-XXXXXX");
	int fd = mkstemp(tmpfile_path);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

static int
teardown_file(void **state)
{
	(void)state;
	unlink(tmpfile_path);
	return 0;
}

static char *
slurp(void)
{
	static char buf[16384];
	FILE *f = fopen(tmpfile_path, "r");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* Run the loop until q is idle (10 s safety). */
struct wait {
	struct hookq *q;
	uint64_t deadline;
};

static void
poll_idle(struct loop *l, struct timer *t, void *arg)
{
	struct wait *w = arg;

	if (hookq_idle(w->q) || mono_now_ns() > w->deadline) {
		loop_stop(l);
		return;
	}
	timer_arm_in(t, 2 * MS);
}

static void
run_until_idle(struct loop *l, struct hookq *q)
{
	struct wait w = {q, mono_now_ns() + 10 * NS_PER_SEC};
	struct timer *t = timer_new(l, poll_idle, &w);

	timer_arm_in(t, 0);
	loop_run(l);
	timer_free(t);
	assert_true(hookq_idle(q));
}

static struct hook_event
ev(const char *from, const char *to, const char *reason)
{
	return (struct hook_event){.from = from,
	                           .to = to,
	                           .reason = reason,
	                           .priority = 150,
	                           .vrid = 51,
	                           .ifname = "eth0",
	                           .vips = "192.0.2.100/24 192.0.2.101/24"};
}

static struct hookq *
mkq(struct loop *l, const char *cmd[CONF_HOOK_MAX], bool shell, uint32_t timeout_ms)
{
	struct hookq_cfg c = {
	    .instance = "VI_1", .tag = "[VI_1 test]", .shell = shell, .timeout_ms = timeout_ms};

	for (int h = 0; h < CONF_HOOK_MAX; h++)
		c.cmd[h] = cmd[h];
	struct hookq *q = hookq_new(l, &c);
	assert_non_null(q);
	return q;
}

/* Three transitions at once, a 200 ms hook: sequential, in order, no overlap. */
static void
test_order(void **state)
{
	(void)state;
	struct loop *l = loop_new();
	char cmd[512];
	const char *cmds[CONF_HOOK_MAX] = {0};

	snprintf(cmd, sizeof(cmd),
	         "/bin/sh -c 'echo \"start $3 $VIPD_PREV_STATE $(date +%%s%%N)\" >> %s; sleep 0.2; "
	         "echo \"end $3 $(date +%%s%%N)\" >> %s' hook",
	         tmpfile_path, tmpfile_path);
	cmds[CONF_HOOK_NOTIFY] = cmd;
	struct hookq *q = mkq(l, cmds, false, 5000);
	struct hook_event e1 = ev("INIT", "BACKUP", "startup"),
	                  e2 = ev("BACKUP", "MASTER", "master_down"),
	                  e3 = ev("MASTER", "BACKUP", "higher_priority_seen");

	assert_int_equal(hookq_push(q, &e1), 1);
	assert_int_equal(hookq_push(q, &e2), 1);
	assert_int_equal(hookq_push(q, &e3), 1);
	assert_false(hookq_idle(q));
	run_until_idle(l, q);

	char *out = slurp();
	char st[3][16], prev[3][16], en[3][16];
	unsigned long long ts[3], te[3];
	int n = sscanf(out,
	               "start %15s %15s %llu\nend %15s %llu\nstart %15s %15s %llu\nend %15s %llu\n"
	               "start %15s %15s %llu\nend %15s %llu\n",
	               st[0], prev[0], &ts[0], en[0], &te[0], st[1], prev[1], &ts[1], en[1], &te[1],
	               st[2], prev[2], &ts[2], en[2], &te[2]);
	assert_int_equal(n, 15);
	const char *want[3] = {"BACKUP", "MASTER", "BACKUP"},
	           *wprev[3] = {"INIT", "BACKUP", "MASTER"};
	for (int i = 0; i < 3; i++) {
		assert_string_equal(st[i], want[i]);
		assert_string_equal(en[i], want[i]);
		assert_string_equal(prev[i], wprev[i]);
		assert_true(te[i] - ts[i] >= 190 * MS);
		if (i)
			assert_true(ts[i] >= te[i - 1]); /* never overlapping */
	}

	const struct hook_run *runs[HOOK_RING];
	assert_int_equal(hookq_runs(q, runs), 3);
	assert_string_equal(runs[0]->transition, "INIT->BACKUP");
	assert_string_equal(runs[1]->transition, "BACKUP->MASTER");
	assert_string_equal(runs[2]->transition, "MASTER->BACKUP");
	assert_string_equal(runs[2]->reason, "higher_priority_seen");
	assert_string_equal(runs[0]->hook, "notify");
	assert_string_equal(runs[0]->status, "exit 0");
	assert_true(runs[0]->seq < runs[1]->seq && runs[1]->seq < runs[2]->seq);
	assert_true(runs[1]->duration_ns >= 190 * MS);
	hookq_free(q);
	loop_free(l);
}

/* notify_<state> first and without arguments; notify with keepalived's four; env. */
static void
test_args_env(void **state)
{
	(void)state;
	struct loop *l = loop_new();
	char m[512], n[512];
	const char *cmds[CONF_HOOK_MAX] = {0};

	snprintf(
	    m, sizeof(m),
	    "/bin/sh -c 'echo \"$#|$VIPD_INSTANCE|$VIPD_STATE|$VIPD_PREV_STATE|$VIPD_PRIORITY|"
	    "$VIPD_VRID|$VIPD_INTERFACE|$VIPD_VIPS|$VIPD_REASON\" >> %s; echo out1; echo out2; "
	    "echo out3; echo out4'",
	    tmpfile_path);
	snprintf(n, sizeof(n), "/bin/sh -c 'echo \"$*\" >> %s' x", tmpfile_path);
	cmds[CONF_HOOK_MASTER] = m;
	cmds[CONF_HOOK_NOTIFY] = n;
	cmds[CONF_HOOK_BACKUP] = "/bin/false";
	struct hookq *q = mkq(l, cmds, false, 5000);
	struct hook_event e = ev("BACKUP", "MASTER", "master_down");

	assert_true(hookq_configured(q));
	assert_int_equal(hookq_push(q, &e), 2);
	run_until_idle(l, q);
	assert_string_equal(slurp(), "0|VI_1|MASTER|BACKUP|150|51|eth0|192.0.2.100/24 "
	                             "192.0.2.101/24|master_down\nINSTANCE VI_1 MASTER 150\n");

	const struct hook_run *runs[HOOK_RING];
	assert_int_equal(hookq_runs(q, runs), 2);
	assert_string_equal(runs[0]->hook, "notify_master");
	assert_string_equal(runs[1]->hook, "notify");
	assert_string_equal(runs[0]->command, m);
	/* the last 3 lines of output */
	assert_int_equal(runs[0]->noutput, 3);
	assert_string_equal(runs[0]->output[0], "out2");
	assert_string_equal(runs[0]->output[2], "out4");
	hookq_free(q);

	/* notify_shell: the same arguments reach the command through "$@" */
	unlink(tmpfile_path);
	snprintf(n, sizeof(n), "/bin/sh -c 'echo \"$# $*\" >> %s' x", tmpfile_path);
	const char *cmds2[CONF_HOOK_MAX] = {0};
	cmds2[CONF_HOOK_NOTIFY] = n;
	cmds2[CONF_HOOK_STOP] = "exit 3";
	q = mkq(l, cmds2, true, 5000);
	struct hook_event s = ev("MASTER", "STOP", "stop");
	assert_int_equal(hookq_push(q, &s), 2);
	run_until_idle(l, q);
	assert_string_equal(slurp(), "4 INSTANCE VI_1 STOP 150\n");
	assert_int_equal(hookq_runs(q, runs), 2);
	assert_string_equal(runs[0]->hook, "notify_stop");
	assert_string_equal(runs[0]->status, "exit 3");

	struct buf b;
	buf_init(&b);
	hook_runs_json(&q, 1, &b);
	buf_append(&b, "", 1);
	assert_non_null(
	    strstr(b.data, "{\"hooks\":[{\"instance\":\"VI_1\",\"hook\":\"notify_stop\""));
	assert_non_null(strstr(b.data, "\"transition\":\"MASTER->STOP\",\"reason\":\"stop\""));
	assert_non_null(strstr(b.data, "\"status\":\"exit 3\""));
	buf_reset(&b);
	hook_runs_text(&q, 1, &b);
	buf_append(&b, "", 1);
	assert_non_null(strstr(b.data, "notify_stop"));
	buf_free(&b);
	hookq_free(q);
	loop_free(l);
}

/* A hung hook is killed at the timeout; a 10 ms timer fires on time meanwhile. */
struct ticker {
	uint64_t next, worst;
	unsigned fired;
};

static void
tick(struct loop *l, struct timer *t, void *arg)
{
	struct ticker *k = arg;
	uint64_t now = mono_now_ns();

	(void)l;
	if (now - k->next > k->worst)
		k->worst = now - k->next;
	k->fired++;
	k->next += 10 * MS;
	timer_arm(t, k->next);
}

static void
test_timeout(void **state)
{
	(void)state;
	struct loop *l = loop_new();
	char after[256];
	const char *cmds[CONF_HOOK_MAX] = {0};

	snprintf(after, sizeof(after), "/bin/sh -c 'echo after >> %s'", tmpfile_path);
	/* ignores SIGTERM: needs the SIGKILL 2 s later */
	cmds[CONF_HOOK_FAULT] = "/bin/sh -c 'trap \"\" TERM; while :; do sleep 0.05; done'";
	cmds[CONF_HOOK_BACKUP] = after;
	struct hookq *q = mkq(l, cmds, false, 200);
	struct ticker k = {.next = mono_now_ns() + 10 * MS};
	struct timer *t = timer_new(l, tick, &k);
	struct hook_event f = ev("BACKUP", "FAULT", "interface_down"),
	                  b = ev("FAULT", "BACKUP", "fault_cleared");
	uint64_t t0 = mono_now_ns();

	timer_arm(t, k.next);
	hookq_push(q, &f);
	hookq_push(q, &b);
	run_until_idle(l, q);
	uint64_t took = mono_now_ns() - t0;
	timer_free(t);

	assert_true(took >= 2200 * MS && took < 4000 * MS);
	assert_true(k.fired >= 200);
	printf("# timer: %u ticks, max %llu us late\n", k.fired,
	       (unsigned long long)(k.worst / 1000));
	assert_true(k.worst < 10 * MS); /* 2 shared CPUs; blocking would be 100s of ms */
	assert_string_equal(slurp(), "after\n");

	const struct hook_run *runs[HOOK_RING];
	assert_int_equal(hookq_runs(q, runs), 2);
	assert_string_equal(runs[0]->hook, "notify_fault");
	assert_non_null(strstr(runs[0]->status, "timed out"));
	assert_string_equal(runs[0]->reason, "interface_down");
	assert_string_equal(runs[1]->status, "exit 0");
	hookq_free(q);
	loop_free(l);
}

/* The ring keeps the last 32 runs, oldest first. */
static void
test_ring(void **state)
{
	(void)state;
	struct loop *l = loop_new();
	const char *cmds[CONF_HOOK_MAX] = {0};
	char reason[16];

	cmds[CONF_HOOK_NOTIFY] = "/bin/true";
	struct hookq *q = mkq(l, cmds, false, 5000);
	for (int i = 0; i < 40; i++) {
		snprintf(reason, sizeof(reason), "r%d", i);
		struct hook_event e =
		    ev(i % 2 ? "MASTER" : "BACKUP", i % 2 ? "BACKUP" : "MASTER", reason);
		hookq_push(q, &e);
	}
	run_until_idle(l, q);

	const struct hook_run *runs[HOOK_RING];
	assert_int_equal(hookq_runs(q, runs), HOOK_RING);
	for (int i = 0; i < HOOK_RING; i++) {
		snprintf(reason, sizeof(reason), "r%d", i + 8);
		assert_string_equal(runs[i]->reason, reason);
		if (i)
			assert_true(runs[i]->seq > runs[i - 1]->seq);
	}
	/* a queue with nothing configured enqueues nothing */
	const char *none[CONF_HOOK_MAX] = {0};
	struct hookq *q2 = mkq(l, none, false, 5000);
	struct hook_event e = ev("BACKUP", "MASTER", "x");
	assert_false(hookq_configured(q2));
	assert_int_equal(hookq_push(q2, &e), 0);
	assert_true(hookq_idle(q2));

	/* hookq_abort kills a running hook and drops the queued ones */
	const char *slow[CONF_HOOK_MAX] = {0};
	slow[CONF_HOOK_NOTIFY] = "/bin/sleep 10";
	struct hookq *q3 = mkq(l, slow, false, 5000);
	hookq_push(q3, &e);
	hookq_push(q3, &e);
	assert_false(hookq_idle(q3));
	hookq_abort(q3);
	assert_true(hookq_idle(q3));
	assert_int_equal(hookq_runs(q3, runs), 1);
	assert_non_null(strstr(runs[0]->status, "killed"));

	hookq_free(q);
	hookq_free(q2);
	hookq_free(q3);
	loop_free(l);
}

static void
test_fault_reason(void **state)
{
	(void)state;
	assert_string_equal(hook_fault_reason("interface down"), "interface_down");
	assert_string_equal(hook_fault_reason("interface missing"), "interface_missing");
	assert_string_equal(hook_fault_reason("no source address"), "no_address");
	assert_string_equal(hook_fault_reason("check:pg"), "check:pg");
	assert_string_equal(hook_fault_reason("interface eth1 down"), "interface eth1 down");
	assert_string_equal(hook_fault_reason(""), "fault");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_order, setup_file, teardown_file),
	    cmocka_unit_test_setup_teardown(test_args_env, setup_file, teardown_file),
	    cmocka_unit_test_setup_teardown(test_timeout, setup_file, teardown_file),
	    cmocka_unit_test_setup_teardown(test_ring, setup_file, teardown_file),
	    cmocka_unit_test(test_fault_reason),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
