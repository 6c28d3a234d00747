/*
 * test_script.c - the script and process checks for real, driven by the
 * check engine and the loop: scripts that exit 0 / 1, a hung script
 * killed at the timeout (with its children) while a 10 ms timer keeps
 * its schedule, a check freed mid-run; processes found by name and by
 * pidfile, and a death noticed through the pidfd within milliseconds.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/unit/testutil.h"

#include "checks/check.h"
#include "vipd/buf.h"
#include "vipd/loop.h"
#include "vipd/spawn.h"

#define MS NS_PER_MS

/* ---- helpers ---- */

/* The reason of the last result, from the status text ("last: REASON in 1.2 ms"). */
static const char *
reason(const struct check *c)
{
	static char out[256];
	struct buf b;
	const char *p, *e;

	buf_init(&b);
	check_status_text(c, &b);
	buf_append(&b, "", 1);
	p = strstr(b.data, "last: ");
	e = p ? strstr(p, " ms, ") : NULL; /* "... in 1.2 ms, 0 ms ago": back to " in " */
	while (e && e > p && strncmp(e, " in ", 4) != 0)
		e--;
	if (p && e && e > p)
		snprintf(out, sizeof(out), "%.*s", (int)(e - p - 6), p + 6);
	else
		snprintf(out, sizeof(out), "?");
	buf_free(&b);
	return out;
}

/* Records state changes; stops the loop at the first one if asked. */
struct rec {
	int changes;
	enum check_state state;
	uint64_t at_ns;
	bool stop;
};

static void
rec_cb(struct check *c, void *arg)
{
	struct rec *r = arg;

	r->changes++;
	r->state = check_get_state(c);
	r->at_ns = mono_now_ns();
	if (r->stop)
		loop_stop(check_loop(c));
}

static void
conf_script(struct conf_check *cc, const char *script)
{
	memset(cc, 0, sizeof(*cc));
	snprintf(cc->name, sizeof(cc->name), "chk");
	cc->type = CT_SCRIPT;
	cc->interval_ms = 10000;
	cc->timeout_ms = 1000;
	cc->rise = cc->fall = 1;
	cc->shell = true;
	snprintf(cc->command, sizeof(cc->command), "%s", script);
	cc->argv[0] = "/bin/sh";
	cc->argv[1] = "-c";
	cc->argv[2] = cc->command;
}

/* Start a check and run until its first state change (or ms). */
static struct check *
start_check(struct loop *l, const struct conf_check *cc, struct rec *r, unsigned ms)
{
	struct check *c = check_new(l, cc);

	assert_non_null(c);
	*r = (struct rec){.stop = true};
	assert_int_equal(check_watch(c, rec_cb, r), 0);
	assert_int_equal(check_start(c), 0);
	tu_run_for(l, ms);
	return c;
}

static void kill_reap(pid_t pid);
/* Named processes still alive (see named_process()), killed here if a test failed. */
static pid_t named[8];

static int
teardown_no_zombie(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++)
		if (named[i])
			kill_reap(named[i]);
	spawn_helper_stop(); /* a child of ours too */
	errno = 0;
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
	return 0;
}

/* ---- script ---- */

static void
test_script_ok_fail(void **state)
{
	struct loop *l = loop_new();
	struct conf_check cc;
	struct rec r;
	struct check *c;

	(void)state;
	conf_script(&cc, "echo fine; exit 0");
	c = start_check(l, &cc, &r, 2000);
	assert_int_equal(r.state, CHK_UP);
	assert_string_equal(reason(c), "exit 0");
	check_free(c);

	conf_script(&cc, "echo starting; echo replica lag 35 s >&2; exit 2");
	c = start_check(l, &cc, &r, 2000);
	assert_int_equal(r.state, CHK_DOWN);
	assert_string_equal(reason(c), "exit 2: replica lag 35 s");
	check_free(c);

	conf_script(&cc, "kill -KILL $$");
	c = start_check(l, &cc, &r, 2000);
	assert_int_equal(r.state, CHK_DOWN);
	assert_string_equal(reason(c), "killed by SIGKILL");
	check_free(c);

	/* The environment names the check. */
	conf_script(&cc, "test \"$VIPD_CHECK\" = chk");
	c = start_check(l, &cc, &r, 2000);
	assert_int_equal(r.state, CHK_UP);
	check_free(c);
	loop_free(l);
}

static void
test_script_cannot_run(void **state)
{
	struct loop *l = loop_new();
	struct conf_check cc;
	struct rec r;
	struct check *c;

	(void)state;
	conf_script(&cc, "");
	cc.shell = false;
	cc.argv[0] = "/nonexistent/check";
	cc.argv[1] = NULL;
	c = start_check(l, &cc, &r, 2000);
	assert_int_equal(r.state, CHK_DOWN);
	assert_string_equal(
	    reason(c), "exit 127: vipd: cannot run /nonexistent/check: No such file or directory");
	check_free(c);

	conf_script(&cc, "exit 0");
	snprintf(cc.user, sizeof(cc.user), "no-such-user-vipd");
	c = start_check(l, &cc, &r, 2000);
	assert_int_equal(r.state, CHK_DOWN);
	assert_string_equal(reason(c), "no such user no-such-user-vipd");
	check_free(c);
	loop_free(l);
}

static void
test_script_user(void **state)
{
	struct loop *l = loop_new();
	struct conf_check cc;
	struct rec r;
	struct check *c;

	(void)state;
	if (geteuid() != 0)
		skip();
	conf_script(&cc, "id -u; test $(id -u) = 65534");
	snprintf(cc.user, sizeof(cc.user), "nobody");
	c = start_check(l, &cc, &r, 2000);
	assert_int_equal(r.state, CHK_UP);
	check_free(c);
	loop_free(l);
}

/* All adopted descendants gone within ms (we are a subreaper meanwhile). */
static bool
orphans_gone(int ms)
{
	uint64_t end;
	bool gone = false;

	spawn_helper_stop(); /* a child of ours too; the next spawn starts another */
	end = mono_now_ns() + (uint64_t)ms * MS;
	while (mono_now_ns() < end) {
		pid_t p = waitpid(-1, NULL, WNOHANG);

		if (p < 0 && errno == ECHILD) {
			gone = true;
			break;
		}
		if (p == 0)
			usleep(1000);
	}
	prctl(PR_SET_CHILD_SUBREAPER, 0);
	return gone;
}

/*
 * Run `cmd` with a 200 ms timeout while a 10 ms timer ticks: the run must
 * fail with `why` between min_ms and max_ms after the start, the timer
 * must have kept its schedule all along, and nothing may be left behind.
 */
static void
timeout_case(const char *cmd, const char *why, uint64_t min_ms, uint64_t max_ms, int wait_ms)
{
	struct loop *l = loop_new();
	struct tu_ticker k;
	struct conf_check cc;
	struct rec r;
	struct check *c;
	uint64_t t0;

	assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	conf_script(&cc, cmd);
	cc.timeout_ms = 200;
	tu_ticker_start(l, &k, 10 * MS);
	t0 = mono_now_ns();
	c = start_check(l, &cc, &r, wait_ms);
	assert_int_equal(r.state, CHK_DOWN);
	assert_non_null(strstr(reason(c), why));
	assert_true(r.at_ns - t0 >= min_ms * MS);
	assert_true(r.at_ns - t0 < max_ms * MS);
	tu_run_for(l, 100); /* the timer keeps going after the kill too */
	printf("# %s: %u ticks, max %llu us late\n", cmd, k.ticks,
	       (unsigned long long)(k.max_late_ns / 1000));
	assert_true((uint64_t)k.ticks >= (max_ms < 1000 ? 28 : 200));
	assert_true(k.max_late_ns < TU_BLOCKED_NS);
	assert_true(orphans_gone(200));
	check_free(c);
	tu_ticker_stop(&k);
	loop_free(l);
}

/* A hung script gets SIGTERM (whole group) at the timeout; the run fails when it is gone. */
static void
test_script_timeout(void **state)
{
	(void)state;
	timeout_case("sleep 100 & sleep 100", "timed out after 200 ms (killed by SIGTERM)", 200,
	             300, 2000);
}

/*
 * A script that ignores SIGTERM (with a child of its own) gets SIGKILL
 * 2 s after the timeout; only then does the run end, so runs never overlap.
 */
static void
test_script_timeout_kill(void **state)
{
	(void)state;
	timeout_case("trap '' TERM; sleep 100 & sleep 100", "killed by SIGKILL", 2200, 2600, 4000);
}

/* Freed in the middle of a run: the script is killed, nothing is reported. */
static void
test_script_free_running(void **state)
{
	struct loop *l = loop_new();
	struct conf_check cc;
	struct rec r;
	struct check *c;

	(void)state;
	assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	conf_script(&cc, "sleep 100");
	c = start_check(l, &cc, &r, 100);
	assert_int_equal(r.changes, 0);
	assert_true(check_running(c));
	check_free(c);
	tu_run_for(l, 20);
	assert_int_equal(r.changes, 0);
	assert_true(orphans_gone(200));
	loop_free(l);
}

/* ---- process ---- */

/* A child process named `name` (comm) that just waits to be killed. */
static pid_t
named_process(const char *name)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the test */
		prctl(PR_SET_NAME, name);
		for (;;)
			pause();
	}
	/* Wait until it has its name. */
	for (int i = 0; i < 1000; i++) {
		char path[64], comm[32] = "";
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
		f = fopen(path, "r");
		if (f) {
			if (!fgets(comm, sizeof(comm), f))
				comm[0] = '\0';
			fclose(f);
		}
		if (strncmp(comm, name, 15) == 0)
			break;
		usleep(1000);
	}
	for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++)
		if (!named[i]) {
			named[i] = pid;
			break;
		}
	return pid;
}

static void
named_forget(pid_t pid)
{
	for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++)
		if (named[i] == pid)
			named[i] = 0;
}

static void
kill_reap(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	named_forget(pid);
}

static void
conf_process(struct conf_check *cc, const char *name, const char *pidfile)
{
	memset(cc, 0, sizeof(*cc));
	snprintf(cc->name, sizeof(cc->name), "proc");
	cc->type = CT_PROCESS;
	cc->interval_ms = 10000; /* only the first run and the pidfd matter here */
	cc->timeout_ms = 1000;
	cc->rise = cc->fall = 1;
	snprintf(cc->proc_name, sizeof(cc->proc_name), "%s", name ? name : "");
	snprintf(cc->pidfile, sizeof(cc->pidfile), "%s", pidfile ? pidfile : "");
}

static void
test_process_death_noticed(void **state)
{
	struct loop *l = loop_new();
	struct conf_check cc;
	char name[16], want[64];
	struct rec r;
	struct check *c;
	pid_t pid;
	uint64_t t0;

	(void)state;
	snprintf(name, sizeof(name), "vt%d", (int)getpid());
	pid = named_process(name);
	conf_process(&cc, name, NULL);
	c = start_check(l, &cc, &r, 1000);
	assert_int_equal(r.state, CHK_UP);
	snprintf(want, sizeof(want), "pid %d", (int)pid);
	assert_string_equal(reason(c), want);

	/* Killed: noticed at once through the pidfd, not at the next run in 10 s. */
	r.stop = true;
	t0 = mono_now_ns();
	kill(pid, SIGKILL);
	tu_run_for(l, 1000);
	assert_int_equal(r.state, CHK_DOWN);
	printf("# process death noticed after %llu us\n",
	       (unsigned long long)((r.at_ns - t0) / 1000));
	assert_true(r.at_ns - t0 < 50 * MS);
	snprintf(want, sizeof(want), "%s (pid %d) exited", name, (int)pid);
	assert_string_equal(reason(c), want);
	waitpid(pid, NULL, 0);
	named_forget(pid);
	check_free(c);
	loop_free(l);
}

/* Two of them (a reload): the watched one exits, the check stays up on the other. */
static void
test_process_switch(void **state)
{
	struct loop *l = loop_new();
	struct conf_check cc;
	char name[16], want[64];
	struct rec r;
	struct check *c;
	pid_t a, b;

	(void)state;
	snprintf(name, sizeof(name), "vu%d", (int)getpid());
	a = named_process(name);
	b = named_process(name);
	conf_process(&cc, name, NULL);
	c = start_check(l, &cc, &r, 1000);
	assert_int_equal(r.state, CHK_UP);
	snprintf(want, sizeof(want), "pid %d", (int)(a < b ? a : b)); /* /proc lists by pid */
	assert_string_equal(reason(c), want);
	kill_reap(a < b ? a : b);
	tu_run_for(l, 50);
	assert_int_equal(r.changes, 1);
	assert_int_equal(check_get_state(c), CHK_UP);
	snprintf(want, sizeof(want), "pid %d (pid %d exited)", (int)(a < b ? b : a),
	         (int)(a < b ? a : b));
	assert_string_equal(reason(c), want);
	kill_reap(a < b ? b : a);
	r.stop = true;
	tu_run_for(l, 1000);
	assert_int_equal(check_get_state(c), CHK_DOWN);
	check_free(c);
	loop_free(l);
}

static void
test_process_not_found(void **state)
{
	struct loop *l = loop_new();
	struct conf_check cc;
	struct rec r;
	struct check *c;

	(void)state;
	conf_process(&cc, "no-such-proc", NULL);
	c = start_check(l, &cc, &r, 1000);
	assert_int_equal(r.state, CHK_DOWN);
	assert_string_equal(reason(c), "no process named no-such-proc");
	check_free(c);
	loop_free(l);
}

/* comm is cut at 15 characters: a longer configured name still matches. */
static void
test_process_long_name(void **state)
{
	struct loop *l = loop_new();
	struct conf_check cc;
	char name[64];
	struct rec r;
	struct check *c;
	pid_t pid;

	(void)state;
	snprintf(name, sizeof(name), "vl%d-a-rather-long-name", (int)getpid());
	pid = named_process(name);
	conf_process(&cc, name, NULL);
	c = start_check(l, &cc, &r, 1000);
	assert_int_equal(r.state, CHK_UP);
	check_free(c);
	kill_reap(pid);
	loop_free(l);
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
test_process_pidfile(void **state)
{
	struct loop *l = loop_new();
	struct conf_check cc;
	char dir[] = "/tmp/vipd-test-XXXXXX", path[128], name[16], text[32], want[256];
	struct rec r;
	struct check *c;
	pid_t pid;
	uint64_t t0;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/x.pid", dir);
	snprintf(name, sizeof(name), "vp%d", (int)getpid());
	pid = named_process(name);

	/* Missing, then garbage. */
	conf_process(&cc, NULL, path);
	c = start_check(l, &cc, &r, 1000);
	assert_int_equal(r.state, CHK_DOWN);
	snprintf(want, sizeof(want), "%s: No such file or directory", path);
	assert_string_equal(reason(c), want);
	check_free(c);
	write_file(path, "garbage\n");
	c = start_check(l, &cc, &r, 1000);
	snprintf(want, sizeof(want), "%s: no pid in it", path);
	assert_string_equal(reason(c), want);
	check_free(c);

	/* Right pid, wrong name: a stale pidfile whose pid was reused. */
	snprintf(text, sizeof(text), "%d\n", (int)pid);
	write_file(path, text);
	conf_process(&cc, "haproxy", path);
	c = start_check(l, &cc, &r, 1000);
	assert_int_equal(r.state, CHK_DOWN);
	snprintf(want, sizeof(want), "haproxy (pid %d from %s) is not running", (int)pid, path);
	assert_string_equal(reason(c), want);
	check_free(c);

	/* Right pid and name; then its death is noticed at once. */
	conf_process(&cc, name, path);
	c = start_check(l, &cc, &r, 1000);
	assert_int_equal(r.state, CHK_UP);
	r.stop = true;
	t0 = mono_now_ns();
	kill_reap(pid);
	tu_run_for(l, 1000);
	assert_int_equal(r.state, CHK_DOWN);
	assert_true(r.at_ns - t0 < 50 * MS);
	check_free(c);

	unlink(path);
	rmdir(dir);
	loop_free(l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_script_ok_fail, teardown_no_zombie),
	    cmocka_unit_test_teardown(test_script_cannot_run, teardown_no_zombie),
	    cmocka_unit_test_teardown(test_script_user, teardown_no_zombie),
	    cmocka_unit_test_teardown(test_script_timeout, teardown_no_zombie),
	    cmocka_unit_test_teardown(test_script_timeout_kill, teardown_no_zombie),
	    cmocka_unit_test_teardown(test_script_free_running, teardown_no_zombie),
	    cmocka_unit_test_teardown(test_process_death_noticed, teardown_no_zombie),
	    cmocka_unit_test_teardown(test_process_switch, teardown_no_zombie),
	    cmocka_unit_test_teardown(test_process_not_found, teardown_no_zombie),
	    cmocka_unit_test_teardown(test_process_long_name, teardown_no_zombie),
	    cmocka_unit_test_teardown(test_process_pidfile, teardown_no_zombie),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
