/*
 * realtime.c - SCHED_RR for vipd, and the guard against a runaway loop.
 *
 * Adverts must leave on time even on a busy host: run SCHED_RR like
 * corosync does. SCHED_RESET_ON_FORK keeps scripts and hooks out of it.
 *
 * A real-time task that never sleeps starves everything below it, so
 * RLIMIT_RTTIME watches for one: past REALTIME_RTTIME_US of CPU without
 * sleeping the kernel sends SIGXCPU. SIGXCPU's default action kills, and
 * a killed Master leaves the VIP to a Backup that may not see it die:
 * split brain. So the handler, not the loop (a runaway loop would never
 * read a signalfd), demotes vipd to SCHED_OTHER with the raw system call,
 * which is async-signal-safe, and pokes an eventfd. The loop reads it,
 * logs and counts the demotion, and a timer restores SCHED_RR after
 * REALTIME_RESTORE_NS. The hard limit is RLIM_INFINITY: no SIGKILL, ever.
 * A burst of legitimate work (a hundred instances becoming Master at
 * start-up) thus costs a few seconds at normal priority, never the VIP.
 */
#include "realtime.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

/* Shared with the signal handler: set before it is installed. */
static volatile sig_atomic_t rt_demoted; /* the handler dropped to SCHED_OTHER */
static volatile sig_atomic_t rt_efd = -1;
static volatile sig_atomic_t rt_tid; /* the loop's thread */

static struct {
	struct loop *loop;
	struct timer *restore;
	unsigned priority; /* configured; 0 = off */
	bool on;           /* SCHED_RR was granted (and not left since) */
	bool ready;        /* handler, eventfd and timer set up */
	uint64_t demotions;
	uint64_t restore_ns;
} rt = {.restore_ns = REALTIME_RESTORE_NS};

static void
rt_on_sigxcpu(int sig)
{
	struct sched_param sp = {.sched_priority = 0};
	uint64_t one = 1;
	int saved = errno;

	(void)sig;
	syscall(SYS_sched_setscheduler, (pid_t)rt_tid, SCHED_OTHER | SCHED_RESET_ON_FORK, &sp);
	rt_demoted = 1;
	if (rt_efd >= 0) {
		ssize_t n = write(rt_efd, &one, sizeof(one));
		(void)n; /* a full counter has told the loop already */
	}
	errno = saved;
}

/*
 * Soft limit REALTIME_RTTIME_US, hard limit infinite. Where the hard limit
 * was lowered (LimitRTTIME= in a unit) and cannot be raised, keep it and
 * demote at half of it: the handler acts within a tick, long before it.
 * Re-set on every switch to SCHED_RR: the kernel raises the soft limit by
 * a second at each SIGXCPU.
 */
static int
rt_limit(void)
{
	struct rlimit rl = {.rlim_cur = REALTIME_RTTIME_US, .rlim_max = RLIM_INFINITY};

	if (setrlimit(RLIMIT_RTTIME, &rl) == 0)
		return 0;
	if (getrlimit(RLIMIT_RTTIME, &rl) < 0 || rl.rlim_max == RLIM_INFINITY)
		return -1;
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > rl.rlim_max / 2)
		rl.rlim_cur = rl.rlim_max / 2;
	if (rl.rlim_cur > REALTIME_RTTIME_US)
		rl.rlim_cur = REALTIME_RTTIME_US;
	return setrlimit(RLIMIT_RTTIME, &rl);
}

static int
rt_enter(unsigned priority)
{
	static const struct timespec settle = {.tv_nsec = 100000};
	struct sched_param sp = {.sched_priority = (int)priority};

	if (rt_limit() < 0) {
		log_warn("cannot limit real-time CPU time; staying at normal priority");
		return -1;
	}
	rt_demoted = 0;
	if (sched_setscheduler(0, SCHED_RR | SCHED_RESET_ON_FORK, &sp) < 0) {
		log_warn("cannot switch to SCHED_RR priority %u; adverts may leave late on a "
		         "busy host",
		         priority);
		rt.on = false;
		return -1;
	}
	rt.on = true;
	/*
	 * The kernel counts RLIMIT_RTTIME from the task's last sleep at a
	 * real-time policy, and time at SCHED_OTHER neither adds to the count
	 * nor resets it: back from a demotion, the stale count would demote
	 * vipd again at the next tick. One short sleep at SCHED_RR resets it
	 * (1 us is too short to really sleep, 10 us was enough on test hosts).
	 */
	nanosleep(&settle, NULL);
	return 0;
}

static void
rt_leave(void)
{
	struct sched_param sp = {.sched_priority = 0};

	if ((sched_getscheduler(0) & ~SCHED_RESET_ON_FORK) != SCHED_OTHER &&
	    sched_setscheduler(0, SCHED_OTHER | SCHED_RESET_ON_FORK, &sp) < 0)
		log_warn("cannot leave SCHED_RR");
	rt.on = false;
	rt_demoted = 0;
	if (rt.restore)
		timer_disarm(rt.restore);
}

/* The handler's note: log and count the demotion, plan the restore. */
static void
rt_on_note(struct loop *l, int fd, uint32_t events, void *arg)
{
	uint64_t n;

	(void)l;
	(void)events;
	(void)arg;
	if (read(fd, &n, sizeof(n)) != (ssize_t)sizeof(n))
		return;
	rt.demotions += n;
	if (!rt_demoted || rt.priority == 0)
		return; /* a reload switched real-time off meanwhile */
	if (rt.restore_ns % NS_PER_SEC == 0)
		log_warnx("ran %u ms at real-time priority without sleeping; running at "
		          "normal priority for %llu s",
		          REALTIME_RTTIME_US / 1000,
		          (unsigned long long)(rt.restore_ns / NS_PER_SEC));
	else
		log_warnx("ran %u ms at real-time priority without sleeping; running at "
		          "normal priority for %llu ms",
		          REALTIME_RTTIME_US / 1000,
		          (unsigned long long)(rt.restore_ns / NS_PER_MS));
	timer_arm_in(rt.restore, rt.restore_ns);
}

static void
rt_on_restore(struct loop *l, struct timer *t, void *arg)
{
	(void)l;
	(void)t;
	(void)arg;
	if (rt.priority && rt_enter(rt.priority) == 0)
		log_info("back at real-time priority %u", rt.priority);
}

static int
rt_setup(struct loop *l)
{
	struct sigaction sa = {.sa_handler = rt_on_sigxcpu, .sa_flags = SA_RESTART};
	int fd;

	if (rt.ready)
		return 0;
	fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (fd < 0 || loop_add_fd(l, fd, EPOLLIN, rt_on_note, NULL) < 0) {
		log_warn("realtime: eventfd");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	rt.loop = l;
	rt.restore = timer_new(l, rt_on_restore, NULL);
	rt_efd = fd;
	rt_tid = gettid();
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGXCPU, &sa, NULL) < 0) {
		log_warn("realtime: SIGXCPU");
		realtime_close();
		return -1;
	}
	rt.ready = true;
	return 0;
}

int
realtime_set(struct loop *l, unsigned priority)
{
	rt.priority = priority;
	if (priority == 0) {
		/* Only a reload gets here with SCHED_RR on: back to normal. */
		rt_leave();
		return 0;
	}
	/* Without the handler, SIGXCPU would kill: no SCHED_RR then. */
	if (rt_setup(l) < 0) {
		log_warnx("cannot guard real-time priority; staying at normal priority");
		return -1;
	}
	if (rt_demoted)
		return 0; /* the restore applies the new priority */
	if (rt_enter(priority) < 0)
		return -1;
	log_debug("running SCHED_RR priority %u", priority);
	return 0;
}

bool
realtime_active(void)
{
	return rt.priority > 0 && rt.on && !rt_demoted;
}

uint64_t
realtime_demotions(void)
{
	return rt.demotions;
}

void
realtime_close(void)
{
	int fd = rt_efd;

	/* First, so the handler never writes to a closed (or reused) fd. */
	rt_efd = -1;
	if (fd >= 0) {
		loop_del_fd(rt.loop, fd);
		close(fd);
	}
	timer_free(rt.restore);
	rt.restore = NULL;
	rt.loop = NULL;
	/*
	 * The handler stays installed and keeps demoting; a later
	 * realtime_set() sets up anew.
	 */
	rt.ready = false;
}

void
realtime_set_restore_ns(uint64_t ns)
{
	rt.restore_ns = ns ? ns : REALTIME_RESTORE_NS;
}
