/*
 * test_hook.c - notify hook queues for real: strict FIFO order without
 * overlap, keepalived's trailing arguments, the VIPD_* environment, the
 * timeout killing a hung hook while a 10 ms loop timer stays on time, the
 * ring of the last 32 runs, and the fault-reason names. promote_pgsql as
 * the first job of a change to MASTER: against no server, a server that
 * accepts and never answers (abort, free, timeout), and a fake server
 * giving each of pg_promote's answers; its password never shown.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include "tests/unit/fakepg.h"
#include "tests/unit/testutil.h"

#include "vipd/buf.h"
#include "vipd/hook.h"
#include "vipd/log.h"
#include "vipd/loop.h"
#include "vipd/promote.h"

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

/* "MASTER" -> ST_MASTER...; "STOP" -> ST_INIT (an arrival in INIT is a stop). */
static enum vrrp_state
st(const char *name)
{
	for (int s = 0; s < ST_MAX; s++)
		if (strcmp(fsm_state_names[s], name) == 0)
			return (enum vrrp_state)s;
	assert_string_equal(name, "STOP");
	return ST_INIT;
}

static struct hook_event
ev(const char *from, const char *to, const char *reason)
{
	return (struct hook_event){.from = st(from),
	                           .to = st(to),
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
	struct tu_ticker k;
	struct hook_event f = ev("BACKUP", "FAULT", "interface_down"),
	                  b = ev("FAULT", "BACKUP", "fault_cleared");
	uint64_t t0 = mono_now_ns();

	tu_ticker_start(l, &k, 10 * MS);
	hookq_push(q, &f);
	hookq_push(q, &b);
	run_until_idle(l, q);
	uint64_t took = mono_now_ns() - t0;
	tu_ticker_stop(&k);

	assert_true(took >= 2200 * MS && took < 4000 * MS);
	assert_true(k.ticks >= 200);
	printf("# timer: %u ticks, max %llu us late\n", k.ticks,
	       (unsigned long long)(k.max_late_ns / 1000));
	assert_true(k.max_late_ns < TU_BLOCKED_NS);
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

/* ---- promote_pgsql ---- */

static char pgdir[64]; /* a socket directory, "/tmp/vipd-test-nopg-XXXXXX" */
static char pgsock[100];

static int
setup_pg(void **state)
{
	snprintf(pgdir, sizeof(pgdir), "/tmp/vipd-test-nopg-XXXXXX");
	if (!mkdtemp(pgdir))
		return -1;
	snprintf(pgsock, sizeof(pgsock), "%s/.s.PGSQL.5999", pgdir);
	return setup_file(state);
}

static int
teardown_pg(void **state)
{
	unlink(pgsock);
	rmdir(pgdir);
	return teardown_file(state);
}

/* A listening socket where libpq looks for the server; nothing accepts. */
static int
listen_pg(void)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", pgsock);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(listen(fd, 4), 0);
	return fd;
}

static struct hookq *
mkq_pg(struct loop *l, const char *cmd[CONF_HOOK_MAX], const char *conninfo, uint32_t promote_ms)
{
	struct hookq_cfg c = {.instance = "VI_1",
	                      .tag = "[VI_1 test]",
	                      .timeout_ms = 5000,
	                      .promote_conninfo = conninfo,
	                      .promote_timeout_ms = promote_ms};

	for (int h = 0; h < CONF_HOOK_MAX; h++)
		c.cmd[h] = cmd[h];
	struct hookq *q = hookq_new(l, &c);
	assert_non_null(q);
	return q;
}

/* The hooks append their names to the temp file. */
static void
marker_hooks(const char *cmds[CONF_HOOK_MAX], char m[256], char n[256])
{
	snprintf(m, 256, "/bin/sh -c 'echo notify_master >> %s'", tmpfile_path);
	snprintf(n, 256, "/bin/sh -c 'echo notify $3 >> %s' x", tmpfile_path);
	cmds[CONF_HOOK_MASTER] = m;
	cmds[CONF_HOOK_NOTIFY] = n;
}

/* No server: promote_pgsql fails first, then notify_master, then notify. */
static void
test_promote_no_server(void **state)
{
	(void)state;
	struct loop *l = loop_new();
	const char *cmds[CONF_HOOK_MAX] = {0};
	char m[256], n[256], conninfo[256];

	marker_hooks(cmds, m, n);
	snprintf(conninfo, sizeof(conninfo),
	         "host=%s port=5999 dbname=postgres user=postgres password='s3 cret'", pgdir);
	struct hookq *q = mkq_pg(l, cmds, conninfo, 0);
	struct hook_event e = ev("BACKUP", "MASTER", "master_down"),
	                  b = ev("MASTER", "BACKUP", "higher_priority_seen");

	assert_true(hookq_configured(q));
	assert_int_equal(hookq_push(q, &e), 3);
	assert_int_equal(hookq_push(q, &b), 1); /* no promotion on other changes */
	run_until_idle(l, q);
	assert_string_equal(slurp(), "notify_master\nnotify MASTER\nnotify BACKUP\n");

	const struct hook_run *runs[HOOK_RING];
	assert_int_equal(hookq_runs(q, runs), 4);
	assert_string_equal(runs[0]->hook, "promote_pgsql");
	assert_string_equal(runs[0]->transition, "BACKUP->MASTER");
	assert_string_equal(runs[0]->reason, "master_down");
	printf("# %s\n", runs[0]->status);
	assert_true(strncmp(runs[0]->status, "failed: ", 8) == 0);
	assert_non_null(strstr(runs[0]->status, pgdir)); /* libpq's message, first line */
	assert_null(strchr(runs[0]->status, '\n'));
	assert_non_null(strstr(runs[0]->command, "password=***"));
	assert_null(strstr(runs[0]->command, "s3 cret")); /* not "s3": a temp path may hold it */
	assert_non_null(strstr(runs[0]->command, "dbname=postgres"));
	assert_string_equal(runs[1]->hook, "notify_master");
	assert_string_equal(runs[2]->hook, "notify");
	assert_string_equal(runs[3]->hook, "notify");
	for (int i = 1; i < 4; i++) {
		assert_true(runs[i]->seq > runs[i - 1]->seq);
		/* never overlapping: each starts after the previous one ended */
		assert_true(runs[i]->started_real_ns >=
		            runs[i - 1]->started_real_ns + runs[i - 1]->duration_ns);
	}
	assert_string_equal(runs[1]->status, "exit 0");

	struct buf bj;
	buf_init(&bj);
	hook_runs_json(&q, 1, &bj);
	buf_append(&bj, "", 1);
	assert_non_null(strstr(bj.data, "\"hook\":\"promote_pgsql\""));
	assert_null(strstr(bj.data, "s3 cret"));
	buf_free(&bj);
	hookq_free(q);

	/* libpq's URI form: the password in the user info and as a parameter */
	const char *none[CONF_HOOK_MAX] = {0};
	snprintf(conninfo, sizeof(conninfo),
	         "postgresql://postgres:s3cret@%%2Ftmp%%2Fvipd-test-nopg-none:5999/postgres"
	         "?password=s3cret&connect_timeout=2");
	q = mkq_pg(l, none, conninfo, 0);
	assert_int_equal(hookq_push(q, &e), 1);
	run_until_idle(l, q);
	assert_int_equal(hookq_runs(q, runs), 1);
	assert_string_equal(runs[0]->command,
	                    "postgresql://postgres:***@%2Ftmp%2Fvipd-test-nopg-none:5999/"
	                    "postgres?password=***&connect_timeout=2");
	assert_true(strncmp(runs[0]->status, "failed: ", 8) == 0);
	hookq_free(q);
	loop_free(l);
}

static void
test_promote_redact(void **state)
{
	(void)state;
	static const char *const cases[][2] = {
	    {"host=/run/postgresql dbname=postgres", "host=/run/postgresql dbname=postgres"},
	    {"password=x host=/run", "password=*** host=/run"},
	    {"host=/run  password = 'a \\' b'  user=u", "host=/run  password = ***  user=u"},
	    {"host=/run password=a\\ b user=u", "host=/run password=*** user=u"},
	    {"passwordx=1 password=", "passwordx=1 password=***"},
	    {"postgres://u@h/db", "postgres://u@h/db"},
	    {"postgresql://u:pw@h:5/db?sslmode=disable&password=pw",
	     "postgresql://u:***@h:5/db?sslmode=disable&password=***"},
	    {"postgresql:///db?host=/run&password=pw", "postgresql:///db?host=/run&password=***"},
	    /* every secret key, not only password; paths are not secrets */
	    {"sslkey=/k sslpassword=kp passfile=/p", "sslkey=/k sslpassword=*** passfile=/p"},
	    {"oauth_client_secret = 's e' user=u", "oauth_client_secret = *** user=u"},
	    {"postgresql://h/db?sslpassword=kp&sslmode=verify-full",
	     "postgresql://h/db?sslpassword=***&sslmode=verify-full"},
	    {"postgresql://h/db?x=1&oauth_client_secret=s",
	     "postgresql://h/db?x=1&oauth_client_secret=***"},
	};
	char out[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		promote_redact(cases[i][0], out, sizeof(out));
		assert_string_equal(out, cases[i][1]);
	}
	promote_redact("password=secret", out, 12);
	assert_string_equal(out, "password=**");
}

/* A server that accepts and never answers: abort and free cancel the promotion. */
static void
test_promote_abort(void **state)
{
	(void)state;
	struct loop *l = loop_new();
	const char *cmds[CONF_HOOK_MAX] = {0};
	char m[256], n[256], conninfo[256];
	int lfd = listen_pg();

	marker_hooks(cmds, m, n);
	snprintf(conninfo, sizeof(conninfo), "host=%s port=5999 dbname=postgres", pgdir);
	struct hookq *q = mkq_pg(l, cmds, conninfo, 0);
	struct hook_event e = ev("BACKUP", "MASTER", "master_down");

	assert_int_equal(hookq_timeout_ms(q), 5000);
	assert_int_equal(hookq_push(q, &e), 3);
	assert_int_equal(hookq_timeout_ms(q), PROMOTE_TIMEOUT_MS);
	tu_run_for(l, 300);
	assert_false(hookq_idle(q)); /* still waiting for the server */
	assert_int_equal(hookq_timeout_ms(q), PROMOTE_TIMEOUT_MS);

	const struct hook_run *runs[HOOK_RING];
	assert_int_equal(hookq_runs(q, runs), 0);
	hookq_abort(q);
	assert_true(hookq_idle(q));
	assert_int_equal(hookq_timeout_ms(q), 5000);
	assert_int_equal(hookq_runs(q, runs), 1);
	assert_string_equal(runs[0]->hook, "promote_pgsql");
	assert_string_equal(runs[0]->status, "cancelled (shutdown)");
	tu_run_for(l, 100); /* nothing comes back, nothing else runs */
	assert_int_equal(hookq_runs(q, runs), 1);
	assert_string_equal(slurp(), "");
	hookq_free(q);

	/* freed while promoting (vipd stopping without waiting): no leak, no callback */
	q = mkq_pg(l, cmds, conninfo, 0);
	assert_int_equal(hookq_push(q, &e), 3);
	tu_run_for(l, 100);
	assert_false(hookq_idle(q));
	hookq_free(q);
	tu_run_for(l, 100);
	assert_string_equal(slurp(), "");
	close(lfd);
	loop_free(l);
}

/* The deadline: the connection is closed, the next hooks run. */
static void
test_promote_timeout(void **state)
{
	(void)state;
	struct loop *l = loop_new();
	const char *cmds[CONF_HOOK_MAX] = {0};
	char m[256], n[256], conninfo[256];
	int lfd = listen_pg();

	marker_hooks(cmds, m, n);
	snprintf(conninfo, sizeof(conninfo), "host=%s port=5999 dbname=postgres", pgdir);
	struct hookq *q = mkq_pg(l, cmds, conninfo, 300);
	struct hook_event e = ev("BACKUP", "MASTER", "master_down");
	struct tu_ticker k;

	tu_ticker_start(l, &k, 10 * MS);
	assert_int_equal(hookq_push(q, &e), 3);
	assert_int_equal(hookq_timeout_ms(q), 5000); /* the shortened deadline is below */
	run_until_idle(l, q);
	tu_ticker_stop(&k);
	assert_true(k.max_late_ns < TU_BLOCKED_NS);
	assert_string_equal(slurp(), "notify_master\nnotify MASTER\n");

	const struct hook_run *runs[HOOK_RING];
	assert_int_equal(hookq_runs(q, runs), 3);
	assert_string_equal(runs[0]->hook, "promote_pgsql");
	assert_string_equal(runs[0]->status, "timed out after 300 ms");
	assert_true(runs[0]->duration_ns >= 300 * MS && runs[0]->duration_ns < 1000 * MS);
	assert_true(runs[1]->started_real_ns >= runs[0]->started_real_ns + 300 * MS);
	assert_string_equal(runs[1]->hook, "notify_master");
	hookq_free(q);
	close(lfd);
	loop_free(l);
}

/*
 * A fake PostgreSQL (a child process, tests/unit/fakepg.h): trust
 * authentication, then one answer to whatever query comes. Over a Unix
 * socket libpq asks for neither SSL nor GSS encryption.
 */
static bool
read_full(int fd, void *p, size_t len)
{
	for (size_t got = 0; got < len;) {
		ssize_t r = read(fd, (char *)p + got, len - got);

		if (r <= 0)
			return false;
		got += (size_t)r;
	}
	return true;
}

/* Read one message (hdr = 4 for the startup packet, else 5); its type or -1. */
static int
read_msg(int fd, size_t hdr)
{
	char h[5], body[4096];
	uint32_t n;

	if (!read_full(fd, h, hdr))
		return -1;
	memcpy(&n, h + hdr - 4, 4);
	n = ntohl(n) - 4;
	if (n > sizeof(body) || !read_full(fd, body, n))
		return -1;
	return hdr == 5 ? h[0] : 0;
}

static void
fake_pg_serve(int lfd, const char *answer)
{
	struct buf b;
	int fd = accept(lfd, NULL, NULL);

	if (fd < 0 || read_msg(fd, 4) != 0)
		_exit(1);
	buf_init(&b);
	tu_pg_auth_ok(&b);
	if (write(fd, b.data, b.len) != (ssize_t)b.len || read_msg(fd, 5) != 'Q')
		_exit(1);
	buf_reset(&b);
	tu_pg_one_row(&b, "case", answer);
	if (write(fd, b.data, b.len) != (ssize_t)b.len)
		_exit(1);
	read_msg(fd, 5); /* Terminate, or EOF */
	buf_free(&b);
	_exit(0);
}

static void
test_promote_answers(void **state)
{
	(void)state;
	static const char *const cases[][2] = {
	    {"true", "promoted"},
	    {"primary", "already primary"},
	    {"false", "not promoted within 60 s"},
	};
	const char *none[CONF_HOOK_MAX] = {0};
	char conninfo[256];
	struct hook_event e = ev("BACKUP", "MASTER", "master_down");

	snprintf(conninfo, sizeof(conninfo), "host=%s port=5999 dbname=postgres user=postgres",
	         pgdir);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int lfd = listen_pg(), status;
		pid_t pid = fork();

		assert_true(pid >= 0);
		if (pid == 0) /* before the loop exists: the child owns no heap of the test's */
			fake_pg_serve(lfd, cases[i][0]);
		struct loop *l = loop_new();
		struct hookq *q = mkq_pg(l, none, conninfo, 0);
		assert_int_equal(hookq_push(q, &e), 1);
		run_until_idle(l, q);

		const struct hook_run *runs[HOOK_RING];
		assert_int_equal(hookq_runs(q, runs), 1);
		assert_string_equal(runs[0]->hook, "promote_pgsql");
		assert_string_equal(runs[0]->status, cases[i][1]);
		assert_string_equal(runs[0]->command, conninfo);
		hookq_free(q);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		close(lfd);
		unlink(pgsock);
		loop_free(l);
	}
}

static void
test_state_names(void **state)
{
	(void)state;
	assert_string_equal(hook_state_name(ST_MASTER, true), "MASTER");
	assert_string_equal(hook_state_name(ST_INIT, true), "STOP");
	assert_string_equal(hook_state_name(ST_INIT, false), "INIT");
	assert_string_equal(hook_state_name(ST_FAULT, false), "FAULT");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_order, setup_file, teardown_file),
	    cmocka_unit_test_setup_teardown(test_args_env, setup_file, teardown_file),
	    cmocka_unit_test_setup_teardown(test_timeout, setup_file, teardown_file),
	    cmocka_unit_test_setup_teardown(test_ring, setup_file, teardown_file),
	    cmocka_unit_test(test_state_names),
	    cmocka_unit_test_setup_teardown(test_promote_no_server, setup_pg, teardown_pg),
	    cmocka_unit_test(test_promote_redact),
	    cmocka_unit_test_setup_teardown(test_promote_abort, setup_pg, teardown_pg),
	    cmocka_unit_test_setup_teardown(test_promote_timeout, setup_pg, teardown_pg),
	    cmocka_unit_test_setup_teardown(test_promote_answers, setup_pg, teardown_pg),
	};

	log_init("test_hook", true, LOGL_WARNING);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
