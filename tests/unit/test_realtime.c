/*
 * test_realtime.c - the real-time guard: a vipd that runs at SCHED_RR
 * without sleeping for longer than the old hard limit (400 ms, then
 * SIGKILL; in fact SIGXCPU's default action killed it first) is demoted to
 * SCHED_OTHER, not killed, and gets SCHED_RR back later; reloads switch it
 * on and off, also while demoted.
 *
 * Each test runs in a child process, so that a kill is a failure reported
 * with its signal rather than the end of the test program. They need
 * CAP_SYS_NICE (root) and are skipped without it.
 */
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "vipd/loop.h"
#include "vipd/realtime.h"
#include "tests/unit/testutil.h"

#define MS NS_PER_MS

enum { SKIP = 77 };

static int
policy(void)
{
	return sched_getscheduler(0) & ~SCHED_RESET_ON_FORK;
}

static int
rr_priority(void)
{
	struct sched_param sp;

	if (policy() != SCHED_RR || sched_getparam(0, &sp) < 0)
		return 0;
	return sp.sched_priority;
}

/* The child's verdict: 0, SKIP, or the line of the first check that failed. */
#define CHILD_CHECK(cond)                                                                          \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "child: %s:%d: %s\n", __FILE__, __LINE__, #cond);          \
			_exit(__LINE__ % 250 + 1);                                                 \
		}                                                                                  \
	} while (0)

static void
run_in_child(int (*fn)(void))
{
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		alarm(30); /* a hang fails (SIGALRM) instead of hanging */
		_exit(fn());
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (WIFSIGNALED(status))
		fail_msg("the child was killed by signal %d", WTERMSIG(status));
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == SKIP)
		skip();
	assert_int_equal(WEXITSTATUS(status), 0);
}

/*
 * Run the loop until cond() holds or ms pass. cond() is checked every
 * 10 ms, or with `spinning` on every pass without ever sleeping (the timer
 * is always due, so epoll is only looked at).
 */
struct wait_for {
	bool (*cond)(void);
	bool spinning;
	bool met;
};

static void
poll_cb(struct loop *l, struct timer *t, void *arg)
{
	struct wait_for *w = arg;

	if (w->cond()) {
		w->met = true;
		loop_stop(l);
		return;
	}
	if (w->spinning)
		timer_arm(t, mono_now_ns()); /* due at once, behind the stop timer once it is due */
	else
		timer_arm_in(t, 10 * MS);
}

static bool
run_until(struct loop *l, bool (*cond)(void), unsigned ms, bool spinning)
{
	struct wait_for w = {.cond = cond, .spinning = spinning};
	struct timer *t = timer_new(l, poll_cb, &w);

	timer_arm_in(t, 0);
	tu_run_for(l, ms);
	timer_free(t);
	return w.met;
}

static uint64_t want_demotions;

/* Demoted, and the loop has counted the demotion number want_demotions. */
static bool
demoted_and_counted(void)
{
	return realtime_demotions() >= want_demotions && !realtime_active();
}

static bool
restored(void)
{
	return realtime_active();
}

/* Spin without sleeping for ms; when did the policy first become SCHED_OTHER (ns, 0 never). */
static uint64_t
spin(unsigned ms)
{
	uint64_t start = mono_now_ns(), now, demoted = 0;

	do {
		now = mono_now_ns();
		if (!demoted && policy() == SCHED_OTHER)
			demoted = now - start;
	} while (now - start < ms * MS);
	return demoted;
}

static int
busy_child(void)
{
	struct loop *l = loop_new();
	uint64_t demoted_after;

	CHILD_CHECK(l);
	realtime_set_restore_ns(300 * MS);
	if (realtime_set(l, 10) < 0 || policy() != SCHED_RR)
		return SKIP;
	CHILD_CHECK(realtime_active());
	CHILD_CHECK(realtime_demotions() == 0);

	/* 600 ms of CPU at SCHED_RR without sleeping: the old limits killed here. */
	demoted_after = spin(600);
	CHILD_CHECK(demoted_after != 0);
	/* Not before the soft limit (counted in ticks: allow one). */
	CHILD_CHECK(demoted_after >= (REALTIME_RTTIME_US - 10000) * NS_PER_US);
	CHILD_CHECK(policy() == SCHED_OTHER);
	CHILD_CHECK(!realtime_active());

	/* The loop hears of it, counts it once, and restores SCHED_RR. */
	want_demotions = 1;
	CHILD_CHECK(run_until(l, demoted_and_counted, 1000, false));
	CHILD_CHECK(realtime_demotions() == 1);
	CHILD_CHECK(run_until(l, restored, 2000, true));
	CHILD_CHECK(rr_priority() == 10);

	/*
	 * Restored, it starts afresh: 100 ms more of spinning, without a
	 * sleep since the restore, is not taken for the rest of the old run
	 * (the kernel's count was reset).
	 */
	CHILD_CHECK(spin(100) == 0);
	CHILD_CHECK(realtime_active());

	/* And a second runaway is caught again. */
	CHILD_CHECK(spin(400) != 0);
	want_demotions = 2;
	CHILD_CHECK(run_until(l, demoted_and_counted, 1000, false));
	CHILD_CHECK(realtime_demotions() == 2);

	realtime_close();
	loop_free(l);
	return 0;
}

static void
test_busy_demoted_not_killed(void **state)
{
	(void)state;
	run_in_child(busy_child);
}

/* Reload: on, off, another priority; off and on again while demoted. */
static int
reload_child(void)
{
	struct loop *l = loop_new();

	CHILD_CHECK(l);
	realtime_set_restore_ns(100 * MS);
	if (realtime_set(l, 10) < 0 || policy() != SCHED_RR)
		return SKIP;
	CHILD_CHECK(realtime_set(l, 0) == 0);
	CHILD_CHECK(policy() == SCHED_OTHER);
	CHILD_CHECK(!realtime_active());
	CHILD_CHECK(realtime_set(l, 20) == 0);
	CHILD_CHECK(rr_priority() == 20);
	CHILD_CHECK(realtime_active());

	/* Demoted (the handler's work, without the spinning), then switched off. */
	CHILD_CHECK(raise(SIGXCPU) == 0);
	CHILD_CHECK(policy() == SCHED_OTHER);
	want_demotions = 1;
	CHILD_CHECK(run_until(l, demoted_and_counted, 1000, false));
	CHILD_CHECK(realtime_set(l, 0) == 0);
	CHILD_CHECK(tu_run_for(l, 300)); /* three restore delays: no restore */
	CHILD_CHECK(policy() == SCHED_OTHER);
	/* Switched on again: at once. */
	CHILD_CHECK(realtime_set(l, 15) == 0);
	CHILD_CHECK(rr_priority() == 15);

	/* Demoted, then a new priority: it waits for the restore, which applies it. */
	CHILD_CHECK(raise(SIGXCPU) == 0);
	want_demotions = 2;
	CHILD_CHECK(run_until(l, demoted_and_counted, 1000, false));
	CHILD_CHECK(realtime_demotions() == 2);
	CHILD_CHECK(realtime_set(l, 30) == 0);
	CHILD_CHECK(policy() == SCHED_OTHER);
	CHILD_CHECK(run_until(l, restored, 2000, false));
	CHILD_CHECK(rr_priority() == 30);

	/* Closed, the handler still demotes (nothing left to tell). */
	realtime_close();
	CHILD_CHECK(raise(SIGXCPU) == 0);
	CHILD_CHECK(policy() == SCHED_OTHER);
	loop_free(l);
	return 0;
}

static void
test_reload(void **state)
{
	(void)state;
	run_in_child(reload_child);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_busy_demoted_not_killed),
	    cmocka_unit_test(test_reload),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
