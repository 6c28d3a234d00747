/*
 * test_child.c - child processes for real: exit statuses, the last lines of
 * output, timeouts that kill the whole group (SIGTERM, then SIGKILL), the
 * loop staying on time meanwhile, user switching, the environment, what
 * the child inherits (signals, fds, stdin, cwd, process group), exec
 * failures, child_kill(), and no zombie left behind.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
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

#include "vipd/child.h"
#include "vipd/loop.h"
#include "vipd/spawn.h"

#define MS NS_PER_MS

/* What the done callback saw, copied out of the callback. */
struct got {
	int calls;
	int status;
	pid_t pid;
	bool timed_out;
	uint64_t duration_ns;
	char output[8192];
	char desc[128];
};

static void
on_done(const struct child_result *r, void *arg)
{
	struct got *g = arg;

	g->calls++;
	g->status = r->status;
	g->pid = r->pid;
	g->timed_out = r->timed_out;
	g->duration_ns = r->duration_ns;
	snprintf(g->output, sizeof(g->output), "%s", r->output);
	child_describe(r, g->desc, sizeof(g->desc));
}

struct run {
	struct got got;
	struct loop *loop; /* stopped when the child is done */
};

static void
done_stop(const struct child_result *r, void *arg)
{
	struct run *run = arg;

	on_done(r, &run->got);
	loop_stop(run->loop);
}

/* Spawn, run the loop until the child is done (or a 10 s safety stop). */
static void
run_opts(const struct child_opts *o, struct run *r)
{
	struct loop *l = loop_new();
	struct timer *guard = timer_new(l, tu_stop_cb, NULL);
	struct child *c;

	memset(r, 0, sizeof(*r));
	r->loop = l;
	c = child_spawn(l, o, done_stop, r);
	assert_non_null(c);
	timer_arm_in(guard, 10 * NS_PER_SEC);
	assert_int_equal(loop_run(l), 0);
	assert_int_equal(r->got.calls, 1);
	assert_true(r->got.pid > 1);
	/* Reaped before done was called: not even a zombie left. */
	assert_int_equal(kill(r->got.pid, 0), -1);
	assert_int_equal(errno, ESRCH);
	loop_free(l);
}

static void
run_sh(const char *script, size_t keep, uint64_t timeout_ns, struct run *r)
{
	char *argv[] = {"/bin/sh", "-c", (char *)script, NULL};
	struct child_opts o = {.argv = argv, .keep_lines = keep, .timeout_ns = timeout_ns};

	run_opts(&o, r);
}

/* Every child reaped: nothing left to wait for (once the spawn helper is gone). */
static int
teardown_no_zombie(void **state)
{
	(void)state;
	spawn_helper_stop();
	errno = 0;
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
	return 0;
}

/*
 * Grandchildren: while a test runs as a subreaper, orphans of its children
 * come to it instead of init, so it can tell whether they died.
 */
static void
adopt_orphans(void)
{
	assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
}

/* All adopted descendants die within ms (reaped here), and none is left. */
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

static void
test_exit_status(void **state)
{
	struct run r;

	(void)state;
	run_sh("exit 0", 3, 0, &r);
	assert_true(WIFEXITED(r.got.status));
	assert_int_equal(WEXITSTATUS(r.got.status), 0);
	assert_false(r.got.timed_out);
	assert_string_equal(r.got.desc, "exit 0");
	assert_string_equal(r.got.output, "");

	run_sh("echo bad >&2; exit 3", 3, 0, &r);
	assert_int_equal(WEXITSTATUS(r.got.status), 3);
	assert_string_equal(r.got.desc, "exit 3");
	assert_string_equal(r.got.output, "bad");

	run_sh("kill -SEGV $$", 3, 0, &r);
	assert_true(WIFSIGNALED(r.got.status));
	assert_int_equal(WTERMSIG(r.got.status), SIGSEGV);
	assert_non_null(strstr(r.got.desc, "killed by SIGSEGV"));
}

static void
test_output_last_lines(void **state)
{
	struct run r;

	(void)state;
	run_sh("i=1; while [ $i -le 50 ]; do echo line $i; i=$((i+1)); done", 3, 0, &r);
	assert_string_equal(r.got.output, "line 48\nline 49\nline 50");

	/* An unterminated last line counts as a line. */
	run_sh("printf 'a\\nb\\nc'", 2, 0, &r);
	assert_string_equal(r.got.output, "b\nc");

	run_sh("printf 'a\\nb\\n\\n\\n'", 5, 0, &r);
	assert_string_equal(r.got.output, "a\nb");

	/* stdout and stderr interleaved in one pipe. */
	run_sh("echo out; echo err >&2; echo out2", 10, 0, &r);
	assert_string_equal(r.got.output, "out\nerr\nout2");

	/* Nothing kept. */
	run_sh("echo hidden", 0, 0, &r);
	assert_string_equal(r.got.output, "");
}

static void
test_output_bounded(void **state)
{
	struct run r;
	size_t n;

	(void)state;
	/* One 100 kB line: truncated, and the tail after it still kept. */
	run_sh("head -c 100000 /dev/zero | tr '\\0' x; echo; echo tail", 3, 0, &r);
	n = strlen(r.got.output);
	assert_int_equal(n, 1024 + 5);
	assert_string_equal(r.got.output + n - 5, "\ntail");

	/* Many long lines: the total stays under the cap. */
	run_sh("i=0; while [ $i -lt 20 ]; do head -c 1000 /dev/zero | tr '\\0' y; echo; "
	       "i=$((i+1)); done; echo last",
	       100, 0, &r);
	n = strlen(r.got.output);
	assert_true(n < 4096);
	assert_string_equal(r.got.output + n - 5, "\nlast");

	/* A lot of output in total (much more than a pipe holds). */
	run_sh("seq 1 200000; echo done", 2, 0, &r);
	assert_string_equal(r.got.output, "200000\ndone");

	/* Control characters cannot reach the log. */
	run_sh("printf 'a\\033[31mb\\r\\n'", 1, 0, &r);
	assert_string_equal(r.got.output, "a?[31mb");
}

/* The timeout kills the shell and its background grandchild. */
static void
test_timeout_kills_group(void **state)
{
	struct run r;
	pid_t gpid;
	uint64_t ms;

	(void)state;
	adopt_orphans();
	run_sh("sleep 100 & echo $!; sleep 100", 3, 200 * MS, &r);
	ms = r.got.duration_ns / MS;
	assert_true(r.got.timed_out);
	assert_true(ms >= 200);
	assert_true(ms < 400);
	assert_true(WIFSIGNALED(r.got.status));
	assert_int_equal(WTERMSIG(r.got.status), SIGTERM);
	assert_string_equal(r.got.desc, "timed out after 200 ms (killed by SIGTERM)");
	gpid = (pid_t)atoi(r.got.output);
	assert_true(gpid > 1);
	assert_true(orphans_gone(100));
	assert_int_equal(kill(gpid, 0), -1);
	assert_int_equal(errno, ESRCH);
}

/* A child ignoring SIGTERM gets SIGKILL 2 s later. */
static void
test_timeout_sigkill(void **state)
{
	struct run r;
	uint64_t ms;

	(void)state;
	adopt_orphans();
	/*
	 * The timeout runs from child_spawn(): long enough for the shell to
	 * set its trap even under valgrind, whose spawn helper starts slowly.
	 */
	run_sh("trap '' TERM; sleep 100; echo survived", 3, 500 * MS, &r);
	ms = r.got.duration_ns / MS;
	assert_true(r.got.timed_out);
	assert_true(ms >= 2500);
	assert_true(ms < 2800);
	assert_true(WIFSIGNALED(r.got.status));
	assert_int_equal(WTERMSIG(r.got.status), SIGKILL);
	assert_string_equal(r.got.output, "");
	assert_true(orphans_gone(100));
}

/* The shell exits on SIGTERM but its child ignores it: killed with the group at once. */
static void
test_timeout_orphan_killed(void **state)
{
	struct run r;
	pid_t gpid;

	(void)state;
	adopt_orphans();
	run_sh("(trap '' TERM; sleep 100) & echo $!; sleep 100", 3, 100 * MS, &r);
	assert_true(r.got.timed_out);
	assert_true(r.got.duration_ns < 400 * MS);
	gpid = (pid_t)atoi(r.got.output);
	assert_true(gpid > 1);
	assert_true(orphans_gone(100));
}

/* A 10 ms timer keeps its schedule while children run, time out and are killed. */
static void
test_loop_on_time(void **state)
{
	char *argv[] = {"/bin/sh", "-c", "trap '' TERM; seq 1 100000; sleep 100", NULL};
	struct child_opts o = {.argv = argv, .keep_lines = 1, .timeout_ns = 300 * MS};
	struct tu_ticker k;
	struct loop *l = loop_new();
	struct got g = {0};
	struct child *c;

	(void)state;
	adopt_orphans();
	tu_ticker_start(l, &k, 10 * MS);
	c = child_spawn(l, &o, on_done, &g);
	assert_non_null(c);
	timer_arm_in(timer_new(l, tu_stop_cb, NULL), 2500 * MS);
	assert_int_equal(loop_run(l), 0);
	assert_int_equal(g.calls, 1);
	assert_true(g.timed_out);
	assert_int_equal(WTERMSIG(g.status), SIGKILL);
	assert_true(k.ticks >= 240);
	printf("# loop_on_time: %u ticks, max %llu us late\n", k.ticks,
	       (unsigned long long)(k.max_late_ns / 1000));
	assert_true(k.max_late_ns < TU_BLOCKED_NS);
	assert_true(orphans_gone(100));
	loop_free(l);
}

static void
test_user_nobody(void **state)
{
	char *argv[] = {"/bin/sh", "-c", "id -u; id -G; echo $HOME $USER $LOGNAME; id -u", NULL};
	struct child_opts o = {.argv = argv, .user = "nobody", .keep_lines = 10};
	struct run r;

	(void)state;
	if (geteuid() != 0)
		skip();
	run_opts(&o, &r);
	assert_int_equal(WEXITSTATUS(r.got.status), 0);
	assert_string_equal(r.got.output, "65534\n65534\n/nonexistent nobody nobody\n65534");

	/* Ourselves: no switch at all. */
	o.user = "root";
	run_opts(&o, &r);
	assert_int_equal(WEXITSTATUS(r.got.status), 0);
	assert_non_null(strstr(r.got.output, "0\n0\n/root root root"));
}

static void
test_user_unknown(void **state)
{
	char *argv[] = {"/bin/true", NULL};
	struct child_opts o = {.argv = argv, .user = "no-such-user-vipd"};
	struct loop *l = loop_new();
	struct got g = {0};

	(void)state;
	errno = 0;
	assert_null(child_spawn(l, &o, on_done, &g));
	assert_int_equal(errno, ENOENT);
	o.argv = NULL;
	assert_null(child_spawn(l, &o, on_done, &g));
	assert_int_equal(errno, EINVAL);
	loop_free(l);
}

static void
test_env(void **state)
{
	char *argv[] = {"/usr/bin/env", NULL};
	char *env[] = {"VIPD_STATE=MASTER", "VIPD_INSTANCE=VI_1", NULL};
	struct child_opts o = {.argv = argv, .env = env, .keep_lines = 20};
	struct run r;

	(void)state;
	setenv("VIPD_TEST_LEAK", "1", 1);
	run_opts(&o, &r);
	unsetenv("VIPD_TEST_LEAK");
	assert_int_equal(WEXITSTATUS(r.got.status), 0);
	assert_non_null(strstr(r.got.output, "VIPD_STATE=MASTER\n"));
	assert_non_null(strstr(r.got.output, "VIPD_INSTANCE=VI_1"));
	assert_non_null(strstr(r.got.output, "PATH=/usr/local/sbin:/usr/local/bin:"));
	assert_non_null(strstr(r.got.output, "HOME="));
	assert_null(strstr(r.got.output, "VIPD_TEST_LEAK"));
}

/*
 * What the child inherits from a daemon that blocks SIGTERM/SIGHUP,
 * ignores SIGPIPE, has other fds open and another cwd: none of it.
 */
static void
test_clean_inheritance(void **state)
{
	sigset_t set, old;
	/* Exec'd directly: a shell would show its own mask, not ours. */
	char *grep[] = {"/bin/grep", "-E", "^Sig(Blk|Ign)", "/proc/self/status", NULL};
	struct child_opts o = {.argv = grep, .keep_lines = 2};
	struct run r, sig;
	int stray = dup(STDOUT_FILENO); /* not close-on-exec */
	char cwd[256];
	char *last, *prev;

	(void)state;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, &old);
	signal(SIGPIPE, SIG_IGN);
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir("/tmp"), 0);

	run_opts(&o, &sig);
	/*
	 * Probe fd numbers with test -e, which opens nothing: "ls | tr" would
	 * race with the pipe the shell opens for that very pipeline, and a
	 * glob holds the directory open while it expands.
	 */
	run_sh("n=0; while [ $n -lt 64 ]; do [ -e /proc/$$/fd/$n ] && printf '%s ' $n; "
	       "n=$((n + 1)); done; echo; "
	       "readlink /proc/$$/fd/0; pwd; cat; echo $$; cut -d' ' -f5 /proc/$$/stat",
	       10, 0, &r);

	signal(SIGPIPE, SIG_DFL);
	sigprocmask(SIG_SETMASK, &old, NULL);
	assert_int_equal(chdir(cwd), 0);
	close(stray);
	assert_int_equal(WEXITSTATUS(r.got.status), 0);
	/*
	 * Nothing blocked, nothing ignored, except signals 32 and 33: glibc
	 * reserves them for itself and refuses to change their disposition,
	 * so whatever the environment that started us set stays (some do
	 * ignore them).
	 */
	unsigned long long blk, ign;
	assert_int_equal(sscanf(sig.got.output, "SigBlk:\t%llx\nSigIgn:\t%llx", &blk, &ign), 2);
	assert_true(blk == 0);
	assert_true((ign & ~0x180000000ULL) == 0);
	assert_true(strncmp(r.got.output, "0 1 2 \n", 7) == 0);
	assert_non_null(strstr(r.got.output, "\n/dev/null\n/\n"));
	/* Its own process group: pgrp (last line) == its pid (the line before). */
	last = strrchr(r.got.output, '\n');
	assert_non_null(last);
	*last++ = '\0';
	prev = strrchr(r.got.output, '\n') + 1;
	assert_true(atoi(last) > 1);
	assert_string_equal(prev, last);
}

static void
test_exec_failure(void **state)
{
	char *argv[] = {"/nonexistent/vipd-check", "arg", NULL};
	struct child_opts o = {.argv = argv, .keep_lines = 3};
	struct run r;

	(void)state;
	run_opts(&o, &r);
	assert_true(WIFEXITED(r.got.status));
	assert_int_equal(WEXITSTATUS(r.got.status), 127);
	assert_string_equal(r.got.output,
	                    "vipd: cannot run /nonexistent/vipd-check: No such file or directory");

	argv[0] = "/etc/passwd"; /* not executable */
	run_opts(&o, &r);
	assert_int_equal(WEXITSTATUS(r.got.status), 127);
	assert_string_equal(r.got.output, "vipd: cannot run /etc/passwd: Permission denied");

	/* Executable by root, not by the user it runs as: found out after the switch. */
	if (geteuid() == 0) {
		char dir[] = "/tmp/vipd-child-XXXXXX", prog[64];

		assert_non_null(mkdtemp(dir)); /* mode 0700: closed to nobody */
		snprintf(prog, sizeof(prog), "%s/true", dir);
		assert_int_equal(symlink("/bin/true", prog), 0);
		argv[0] = prog;
		o.user = "nobody";
		run_opts(&o, &r);
		unlink(prog);
		rmdir(dir);
		assert_int_equal(WEXITSTATUS(r.got.status), 127);
		assert_non_null(strstr(r.got.output, "vipd: cannot run /tmp/vipd-child-"));
		assert_non_null(strstr(r.got.output, "/true: Permission denied"));
	}
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void
never_cb(const struct child_result *r, void *arg)
{
	(void)r;
	(void)arg;
	fail_msg("done called after child_kill");
}

/* Run the loop in 1 ms steps until the loop has heard that c started. */
static pid_t
wait_started(struct loop *l, struct child *c)
{
	for (int i = 0; i < 5000 && child_pid(c) == 0; i++)
		tu_run_for(l, 1);
	return child_pid(c);
}

/*
 * child_kill: the whole group goes, without waiting for it: the loop
 * reaps it later, and never calls back.
 */
static void
test_kill(void **state)
{
	char *argv[] = {"/bin/sh", "-c", "trap '' TERM; sleep 100 & sleep 100", NULL};
	struct child_opts o = {.argv = argv, .keep_lines = 3, .timeout_ns = 5 * NS_PER_SEC};
	struct loop *l = loop_new();
	struct child *c = child_spawn(l, &o, never_cb, NULL);
	struct sched_param rt = {.sched_priority = 1}, other = {.sched_priority = 0};
	bool realtime;
	pid_t pid;
	uint64_t t0, took;

	(void)state;
	adopt_orphans();
	assert_non_null(c);
	tu_run_for(l, 100);
	pid = child_pid(c);
	assert_true(pid > 1);
	assert_int_equal(getpgid(pid), pid);
	/*
	 * SCHED_RR as vipd, if we may: else the dying processes, woken by
	 * the SIGKILL, preempt us on this CPU and the time is theirs.
	 */
	realtime = sched_setscheduler(0, SCHED_RR | SCHED_RESET_ON_FORK, &rt) == 0;
	t0 = mono_now_ns();
	child_kill(c);
	took = mono_now_ns() - t0;
	if (realtime)
		sched_setscheduler(0, SCHED_OTHER, &other);
	printf("# kill%s: child_kill() took %llu us\n", realtime ? " (SCHED_RR)" : "",
	       (unsigned long long)(took / 1000));
	assert_true(took < 2 * MS);
	/* Not reaped by child_kill(): at best a zombie now, which the loop reaps. */
	assert_int_equal(kill(pid, 0), 0);
	tu_run_for(l, 50);
	assert_int_equal(kill(pid, 0), -1); /* reaped: not even a zombie */
	assert_int_equal(errno, ESRCH);
	/* The background sleep died with the group. */
	assert_true(orphans_gone(100));
	assert_int_equal(kill(-pid, 0), -1);
	assert_int_equal(errno, ESRCH);
	child_kill(NULL);
	loop_free(l);
}

/* Killed before the loop even knew its pid: it is killed once it has one. */
static void
test_kill_before_start(void **state)
{
	char *argv[] = {"/bin/sleep", "100", NULL};
	struct child_opts o = {.argv = argv, .timeout_ns = 50 * MS};
	struct loop *l = loop_new();
	struct child *c;

	(void)state;
	c = child_spawn(l, &o, never_cb, NULL);
	assert_non_null(c);
	assert_int_equal(child_pid(c), 0);
	child_kill(c);
	/* Past the timeout too: nothing fires for a killed child. */
	tu_run_for(l, 200);
	loop_free(l);
	/* teardown_no_zombie: started, killed and reaped. */
}

/* Killed after it exited, before the loop saw the exit: still no callback. */
static void
test_kill_after_exit(void **state)
{
	/*
	 * It outlives wait_started(): a program that exits at once may have
	 * its exit handled in the same turn of the loop as its pid.
	 */
	char *argv[] = {"/bin/sh", "-c", "sleep 0.3; echo bye", NULL};
	struct child_opts o = {.argv = argv, .keep_lines = 1};
	struct loop *l = loop_new();
	struct child *c = child_spawn(l, &o, never_cb, NULL);
	siginfo_t si = {0};
	pid_t pid;

	(void)state;
	assert_non_null(c);
	pid = wait_started(l, c);
	assert_true(pid > 1);
	/* Exited (a zombie: waitid blocks until then), and the loop not run since. */
	assert_int_equal(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT), 0);
	child_kill(c);
	tu_run_for(l, 50);
	assert_int_equal(kill(pid, 0), -1);
	assert_int_equal(errno, ESRCH);
	loop_free(l);
}

/* child_reap_killed(): at shutdown, whatever was killed is reaped before loop_free. */
static void
test_reap_killed(void **state)
{
	char *argv[] = {"/bin/sleep", "100", NULL};
	struct child_opts o = {.argv = argv};
	struct loop *l = loop_new();
	struct child *a = child_spawn(l, &o, never_cb, NULL);
	struct child *b = child_spawn(l, &o, never_cb, NULL);
	pid_t pid;

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	pid = wait_started(l, a);
	child_kill(a);
	child_kill(b); /* perhaps not started yet */
	child_reap_killed(l);
	assert_int_equal(kill(pid, 0), -1);
	assert_int_equal(errno, ESRCH);
	loop_free(l); /* nothing of theirs left in it */
}

/* The program's scheduling policy (field 41 of /proc/PID/stat) and nice value (19). */
static void
sched_seen(const char *what)
{
	char *argv[] = {"/bin/sh", "-c", "cut -d' ' -f19,41 /proc/$$/stat", NULL};
	struct child_opts o = {.argv = argv, .keep_lines = 1};
	struct run r;

	run_opts(&o, &r);
	printf("# sched: %s: child has nice, policy = %s\n", what, r.got.output);
	assert_int_equal(WEXITSTATUS(r.got.status), 0);
	assert_string_equal(r.got.output, "0 0"); /* nice 0, SCHED_OTHER */
}

/*
 * vipd runs SCHED_RR with SCHED_RESET_ON_FORK: its programs must not.
 * Nor when something started it SCHED_RR without the flag.
 */
static void
test_sched_other(void **state)
{
	struct sched_param rt = {.sched_priority = 1}, other = {.sched_priority = 0};

	(void)state;
	if (sched_setscheduler(0, SCHED_RR | SCHED_RESET_ON_FORK, &rt) < 0)
		skip();
	spawn_helper_stop(); /* the next spawn forks it from us as we are now */
	sched_seen("daemon SCHED_RR | SCHED_RESET_ON_FORK");
	assert_int_equal(sched_setscheduler(0, SCHED_RR, &rt), 0);
	spawn_helper_stop();
	sched_seen("daemon SCHED_RR");
	spawn_helper_stop();
	assert_int_equal(sched_setscheduler(0, SCHED_OTHER, &other), 0);
}

/* The pid of our child named comm, or 0. */
static pid_t
child_named(const char *comm)
{
	char cmd[128], line[64] = "";
	FILE *f;

	snprintf(cmd, sizeof(cmd), "ps -o pid=,comm= --ppid %d", (int)getpid());
	f = popen(cmd, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		int pid;
		char name[32];

		if (sscanf(line, "%d %31s", &pid, name) == 2 && strcmp(name, comm) == 0) {
			pclose(f);
			return (pid_t)pid;
		}
	}
	pclose(f);
	return 0;
}

/* A helper that died is replaced by the next spawn. */
static void
test_helper_restart(void **state)
{
	char *argv[] = {"/bin/sh", "-c", "echo $$; exit 4", NULL};
	struct child_opts o = {.argv = argv, .keep_lines = 1};
	struct run r;
	pid_t helper;

	(void)state;
	run_opts(&o, &r);
	assert_int_equal(WEXITSTATUS(r.got.status), 4);
	helper = child_named("vipd-spawn");
	assert_true(helper > 1);
	assert_int_equal(kill(helper, SIGKILL), 0);
	usleep(20000);
	run_opts(&o, &r);
	assert_int_equal(WEXITSTATUS(r.got.status), 4);
	assert_int_equal(atoi(r.got.output), r.got.pid);
	assert_true(child_named("vipd-spawn") != helper);
}

/* Open fds of ours, counted. */
static int
fd_count(void)
{
	int n = 0;

	for (int fd = 0; fd < 4096; fd++)
		n += fcntl(fd, F_GETFD) >= 0;
	return n;
}

/*
 * 255 children at once (a full VRID range of hooks, or many checks): each
 * reported once with its own result, every third one killed (some before
 * they start), the loop never blocked long by a spawn, and no fd left.
 */
static void
test_many_concurrent(void **state)
{
	enum { N = 255 };
	struct loop *l;
	static struct got g[N];
	static char scripts[N][64];
	static uint64_t took[N];
	char *argv[N][4];
	struct child *c[N];
	int fds, pending = N;

	struct sched_param rt = {.sched_priority = 1}, other = {.sched_priority = 0};
	bool realtime;

	(void)state;
	spawn_helper_stop();
	fds = fd_count();
	l = loop_new();
	memset(g, 0, sizeof(g));
	/* As vipd runs, if we may: 255 shells must not preempt the loop. */
	realtime = sched_setscheduler(0, SCHED_RR | SCHED_RESET_ON_FORK, &rt) == 0;
	for (int i = 0; i < N; i++) {
		struct child_opts o = {.argv = argv[i], .keep_lines = 1};
		uint64_t t0;

		snprintf(scripts[i], sizeof(scripts[i]), "echo %d; sleep 0.2; exit %d", i, i % 100);
		argv[i][0] = "/bin/sh";
		argv[i][1] = "-c";
		argv[i][2] = scripts[i];
		argv[i][3] = NULL;
		t0 = mono_now_ns();
		c[i] = child_spawn(l, &o, on_done, &g[i]);
		took[i] = mono_now_ns() - t0;
		assert_non_null(c[i]);
		if (i % 3 == 0 && i < N / 2)
			child_kill(c[i]); /* not started yet */
	}
	tu_run_for(l, 50);
	for (int i = N / 2; i < N; i++)
		if (i % 3 == 0)
			child_kill(c[i]); /* perhaps started */
	for (int k = 0; k < 1000 && pending > 0; k++) {
		tu_run_for(l, 20);
		pending = 0;
		for (int i = 0; i < N; i++)
			pending += i % 3 != 0 && g[i].calls == 0;
	}
	for (int i = 0; i < N; i++) {
		if (i % 3 == 0) {
			assert_int_equal(g[i].calls, 0);
			continue;
		}
		assert_int_equal(g[i].calls, 1);
		assert_int_equal(WEXITSTATUS(g[i].status), i % 100);
		assert_int_equal(atoi(g[i].output), i);
	}
	if (realtime)
		sched_setscheduler(0, SCHED_OTHER, &other);
	child_reap_killed(l);
	qsort(took, N, sizeof(took[0]), cmp_u64);
	printf("# many%s: child_spawn() blocked the loop p50 %llu us, p99 %llu us, max %llu us\n",
	       realtime ? " (SCHED_RR)" : "", (unsigned long long)(took[N / 2] / 1000),
	       (unsigned long long)(took[N * 99 / 100] / 1000),
	       (unsigned long long)(took[N - 1] / 1000));
	assert_true(took[N - 1] < TU_BLOCKED_NS);
	loop_free(l);
	spawn_helper_stop();
	assert_int_equal(fd_count(), fds);
}

static void
test_describe(void **state)
{
	struct child_result r = {0};
	char buf[128];

	(void)state;
	r.status = W_EXITCODE(3, 0);
	assert_string_equal(child_describe(&r, buf, sizeof(buf)), "exit 3");
	r.status = SIGTERM;
	assert_string_equal(child_describe(&r, buf, sizeof(buf)), "killed by SIGTERM");
	r.status = SIGSEGV | WCOREFLAG;
	assert_string_equal(child_describe(&r, buf, sizeof(buf)),
	                    "killed by SIGSEGV (core dumped)");
	r.status = -1;
	assert_string_equal(child_describe(&r, buf, sizeof(buf)), "exit status unknown");
	r.status = SIGKILL;
	r.timed_out = true;
	r.timeout_ns = 1000 * MS;
	assert_string_equal(child_describe(&r, buf, sizeof(buf)),
	                    "timed out after 1000 ms (killed by SIGKILL)");
	/* Truncates safely. */
	assert_string_equal(child_describe(&r, buf, 6), "timed");
}

/* Several children at once, each reported once with its own result. */
static void
test_many(void **state)
{
	enum { N = 20 };
	struct loop *l = loop_new();
	struct got g[N];
	char *argv[N][4];
	char scripts[N][64];
	int pending = N;

	(void)state;
	memset(g, 0, sizeof(g));
	for (int i = 0; i < N; i++) {
		struct child_opts o = {.argv = argv[i], .keep_lines = 1};

		snprintf(scripts[i], sizeof(scripts[i]), "echo %d; exit %d", i, i);
		argv[i][0] = "/bin/sh";
		argv[i][1] = "-c";
		argv[i][2] = scripts[i];
		argv[i][3] = NULL;
		assert_non_null(child_spawn(l, &o, on_done, &g[i]));
	}
	while (pending > 0) {
		timer_arm_in(timer_new(l, tu_stop_cb, NULL), 20 * MS);
		assert_int_equal(loop_run(l), 0);
		pending = 0;
		for (int i = 0; i < N; i++)
			pending += g[i].calls == 0;
	}
	for (int i = 0; i < N; i++) {
		assert_int_equal(g[i].calls, 1);
		assert_int_equal(WEXITSTATUS(g[i].status), i);
		assert_int_equal(atoi(g[i].output), i);
	}
	loop_free(l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_exit_status, teardown_no_zombie),
	    cmocka_unit_test_teardown(test_output_last_lines, teardown_no_zombie),
	    cmocka_unit_test_teardown(test_output_bounded, teardown_no_zombie),
	    cmocka_unit_test_teardown(test_timeout_kills_group, teardown_no_zombie),
	    cmocka_unit_test_teardown(test_timeout_sigkill, teardown_no_zombie),
	    cmocka_unit_test_teardown(test_timeout_orphan_killed, teardown_no_zombie),
	    cmocka_unit_test_teardown(test_loop_on_time, teardown_no_zombie),
	    cmocka_unit_test_teardown(test_user_nobody, teardown_no_zombie),
	    cmocka_unit_test_teardown(test_user_unknown, teardown_no_zombie),
	    cmocka_unit_test_teardown(test_env, teardown_no_zombie),
	    cmocka_unit_test_teardown(test_clean_inheritance, teardown_no_zombie),
	    cmocka_unit_test_teardown(test_exec_failure, teardown_no_zombie),
	    cmocka_unit_test_teardown(test_kill, teardown_no_zombie),
	    cmocka_unit_test_teardown(test_kill_before_start, teardown_no_zombie),
	    cmocka_unit_test_teardown(test_kill_after_exit, teardown_no_zombie),
	    cmocka_unit_test_teardown(test_reap_killed, teardown_no_zombie),
	    cmocka_unit_test_teardown(test_sched_other, teardown_no_zombie),
	    cmocka_unit_test_teardown(test_helper_restart, teardown_no_zombie),
	    cmocka_unit_test_teardown(test_many_concurrent, teardown_no_zombie),
	    cmocka_unit_test_teardown(test_describe, teardown_no_zombie),
	    cmocka_unit_test_teardown(test_many, teardown_no_zombie),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
