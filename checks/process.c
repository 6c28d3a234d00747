/*
 * process.c - "process" checks: up while a process is running, found by
 * name (/proc/PID/comm, like keepalived's track_process or `killall -0`)
 * or by pidfile, without forking anything.
 *
 * A run finds the process and watches it with a pidfd (any process, not
 * only our children, since Linux 5.3). When the pidfd becomes readable the
 * process has exited: we look again at once and report the death as an
 * event, unless another matching process is there (haproxy's reload
 * starts the new one before the old one leaves). So a crash is noticed
 * within milliseconds, not at the next run.
 *
 * Race-free identity: the pidfd is opened first, the process verified
 * through /proc next, and the pidfd checked to still be alive last; if it
 * is, /proc showed the process the pidfd refers to, not a reused pid.
 * Where pidfd_open() is ENOSYS (valgrind 3.19) a timer polls /proc for
 * the process's start time instead.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/pidfd.h>
#include <unistd.h>

#include "checks/check.h"
#include "vipd/log.h"
#include "vipd/mem.h"
#include "vipd/loop.h"

#define PROC_COMM_MAX 15               /* TASK_COMM_LEN - 1: comm is cut there */
#define PROC_POLL_NS  (10 * NS_PER_MS) /* without pidfd support */

struct proc_priv {
	struct check *check;
	pid_t pid;                /* watched process, 0 = none */
	int pidfd;                /* -1: none (or no pidfd support: see poll) */
	struct timer *poll;       /* no pidfd support: checks the process is still there */
	unsigned long long start; /* its start time (stat field 22), for the poll */
	char why[160];            /* why nothing was found */
};

/* ---- /proc ---- */

/* Read what fd holds into buf (NUL-terminated), close it. Length, or -1 with errno. */
static ssize_t
proc_read_fd(int fd, char *buf, size_t size)
{
	ssize_t n;
	int err;

	if (fd < 0)
		return -1;
	do
		n = read(fd, buf, size - 1);
	while (n < 0 && errno == EINTR);
	err = errno;
	close(fd);
	if (n < 0) {
		errno = err;
		return -1;
	}
	buf[n] = '\0';
	return n;
}

/* Read a small file below /proc into buf (NUL-terminated). Length or -1. */
static ssize_t
proc_read(int dirfd, const char *path, char *buf, size_t size)
{
	return proc_read_fd(openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NONBLOCK), buf, size);
}

/* /proc/PID/comm == name (comm is cut at 15 characters, so is name). */
static bool
proc_comm_is(int procfd, pid_t pid, const char *name)
{
	char path[32], comm[64];
	ssize_t n;

	snprintf(path, sizeof(path), "%d/comm", (int)pid);
	n = proc_read(procfd, path, comm, sizeof(comm));
	if (n <= 0)
		return false;
	if (comm[n - 1] == '\n')
		comm[n - 1] = '\0';
	return strncmp(comm, name, PROC_COMM_MAX) == 0 &&
	       (strlen(name) >= PROC_COMM_MAX || strcmp(comm, name) == 0);
}

/* State and start time from /proc/PID/stat; -1 if it is gone. */
static int
proc_stat(int procfd, pid_t pid, char *state, unsigned long long *start)
{
	char path[32], buf[1024];
	const char *p;

	snprintf(path, sizeof(path), "%d/stat", (int)pid);
	if (proc_read(procfd, path, buf, sizeof(buf)) <= 0)
		return -1;
	/* After the comm, which may hold spaces and parentheses: ") S ppid ...". */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1,
	                 " %c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d "
	                 "%*d %*d %llu",
	                 state, start) != 2)
		return -1;
	return 0;
}

/* Alive (not a zombie) and, when a name is configured, named so. */
static bool
proc_matches(int procfd, const struct conf_check *cc, pid_t pid, unsigned long long *start)
{
	char state;

	if (cc->proc_name[0] && !proc_comm_is(procfd, pid, cc->proc_name))
		return false;
	return proc_stat(procfd, pid, &state, start) == 0 && state != 'Z' && state != 'X';
}

/* What the check looks for, for messages. */
static const char *
proc_what(const struct conf_check *cc)
{
	return cc->proc_name[0] ? cc->proc_name : cc->pidfile;
}

/* ---- watching one process ---- */

static void proc_gone(struct check *c);

static void
proc_unwatch(struct proc_priv *p)
{
	if (p->pidfd >= 0) {
		loop_del_fd(check_loop(p->check), p->pidfd);
		close(p->pidfd);
		p->pidfd = -1;
	}
	timer_free(p->poll);
	p->poll = NULL;
	p->pid = 0;
}

static void
on_pidfd(struct loop *l, int fd, uint32_t events, void *arg)
{
	(void)l;
	(void)fd;
	(void)events;
	proc_gone(arg);
}

static void
on_poll(struct loop *l, struct timer *t, void *arg)
{
	struct check *c = arg;
	struct proc_priv *p = check_priv(c);
	unsigned long long start;
	char state;
	int procfd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r = procfd < 0 ? 0 : proc_stat(procfd, p->pid, &state, &start);

	(void)l;
	if (procfd >= 0)
		close(procfd);
	if (r == 0 && state != 'Z' && state != 'X' && start == p->start) {
		timer_arm_in(t, PROC_POLL_NS);
		return;
	}
	proc_gone(c);
}

/* Without pidfd support: remember the start time and poll. */
static int
proc_watch_poll(struct check *c, int procfd, pid_t pid)
{
	struct proc_priv *p = check_priv(c);

	if (!proc_matches(procfd, check_conf(c), pid, &p->start))
		return -1;
	p->pid = pid;
	p->poll = timer_new(check_loop(c), on_poll, c);
	timer_arm_in(p->poll, PROC_POLL_NS);
	return 0;
}

/* The watched process is still there, still a match. */
static bool
proc_still(struct check *c, int procfd)
{
	struct proc_priv *p = check_priv(c);
	struct pollfd pfd = {.fd = p->pidfd, .events = POLLIN};
	unsigned long long start;

	if (!p->pid || !proc_matches(procfd, check_conf(c), p->pid, &start))
		return false;
	return p->pidfd >= 0 ? poll(&pfd, 1, 0) == 0 : start == p->start;
}

/* Watch pid if it is a match; keep the watch if it is the one watched already. */
static int
proc_watch(struct check *c, int procfd, pid_t pid)
{
	struct proc_priv *p = check_priv(c);
	struct pollfd pfd = {.events = POLLIN};
	unsigned long long start;

	if (pid == p->pid && proc_still(c, procfd))
		return 0;
	proc_unwatch(p);
	pfd.fd = pidfd_open(pid, 0);
	if (pfd.fd < 0)
		return errno == ENOSYS ? proc_watch_poll(c, procfd, pid) : -1;
	/* Verified after the open, and the pidfd not yet fired: no pid reuse in between. */
	if (!proc_matches(procfd, check_conf(c), pid, &start) || poll(&pfd, 1, 0) != 0 ||
	    loop_add_fd(check_loop(c), pfd.fd, EPOLLIN, on_pidfd, c) < 0) {
		close(pfd.fd);
		return -1;
	}
	p->pid = pid;
	p->pidfd = pfd.fd;
	return 0;
}

/* ---- finding it ---- */

static void proc_why(struct proc_priv *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Why nothing was found; cut to fit (the engine cuts reasons anyway). */
static void
proc_why(struct proc_priv *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->why, sizeof(p->why), fmt, ap);
	va_end(ap);
}

static pid_t
proc_from_pidfile(struct check *c, int procfd)
{
	const struct conf_check *cc = check_conf(c);
	struct proc_priv *p = check_priv(c);
	char buf[32], *end, why[96];
	long pid;
	/*
	 * The pidfile's directory usually belongs to the service, which could
	 * put a FIFO, or a link to anything, in its place: only a regular file
	 * is opened, never blocking, and a link is not followed.
	 */
	int fd = check_open_file(cc->pidfile, true, why, sizeof(why));

	if (fd < 0 || proc_read_fd(fd, buf, sizeof(buf)) < 0) {
		proc_why(p, "%s: %s", cc->pidfile, fd < 0 ? why : strerror(errno));
		return 0;
	}
	errno = 0;
	pid = strtol(buf, &end, 10);
	if (errno || end == buf || (*end && !isspace((unsigned char)*end)) || pid <= 0 ||
	    pid > INT_MAX) {
		proc_why(p, "%s: no pid in it", cc->pidfile);
		return 0;
	}
	if (proc_watch(c, procfd, (pid_t)pid) < 0) {
		proc_why(p, "%s (pid %ld from %s) is not running", proc_what(cc), pid, cc->pidfile);
		return 0;
	}
	return (pid_t)pid;
}

/* The first match in /proc (the watched one if it still matches). */
static pid_t
proc_scan(struct check *c, int procfd)
{
	const struct conf_check *cc = check_conf(c);
	struct proc_priv *p = check_priv(c);
	DIR *d;
	struct dirent *e;
	pid_t found = 0;

	if (proc_still(c, procfd))
		return p->pid;
	d = fdopendir(dup(procfd));
	if (!d) {
		proc_why(p, "/proc: %s", strerror(errno));
		return 0;
	}
	while (!found && (e = readdir(d))) {
		pid_t pid;

		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		pid = (pid_t)atoi(e->d_name);
		/* comm first: the cheap test that rules out nearly everything. */
		if (proc_comm_is(procfd, pid, cc->proc_name) && proc_watch(c, procfd, pid) == 0)
			found = pid;
	}
	closedir(d);
	if (!found)
		proc_why(p, "no process named %s", cc->proc_name);
	return found;
}

/* Find the process and watch it: its pid, or 0 with p->why set. */
static pid_t
proc_find(struct check *c)
{
	struct proc_priv *p = check_priv(c);
	int procfd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	pid_t pid;

	if (procfd < 0) {
		proc_why(p, "/proc: %s", strerror(errno));
		proc_unwatch(p);
		return 0;
	}
	pid = check_conf(c)->pidfile[0] ? proc_from_pidfile(c, procfd) : proc_scan(c, procfd);
	close(procfd);
	if (!pid)
		proc_unwatch(p);
	return pid;
}

/* The watched process exited: look again at once. */
static void
proc_gone(struct check *c)
{
	struct proc_priv *p = check_priv(c);
	pid_t old = p->pid, pid;

	proc_unwatch(p);
	pid = proc_find(c);
	log_debug("check %s: pid %d exited, now %d", check_name(c), (int)old, (int)pid);
	/* Last: the event may end in watchers that do anything. */
	if (pid)
		check_event(c, true, "pid %d (pid %d exited)", (int)pid, (int)old);
	else
		check_event(c, false, "%s (pid %d) exited", proc_what(check_conf(c)), (int)old);
}

/* ---- ops ---- */

static int
proc_open(struct check *c)
{
	struct proc_priv *p = xcalloc(1, sizeof(*p));

	p->check = c;
	p->pidfd = -1;
	check_set_priv(c, p);
	return 0;
}

static void
proc_run(struct check *c)
{
	struct proc_priv *p = check_priv(c);
	pid_t pid = proc_find(c);

	if (pid)
		check_done(c, true, "pid %d", (int)pid);
	else
		check_done(c, false, "%s", p->why);
}

/* A run never outlives run(): nothing to abort. */
static void
proc_abort(struct check *c)
{
	(void)c;
}

static void
proc_close(struct check *c)
{
	struct proc_priv *p = check_priv(c);

	if (!p)
		return;
	proc_unwatch(p);
	free(p);
	check_set_priv(c, NULL);
}

const struct check_ops check_process_ops = {
    .open = proc_open,
    .run = proc_run,
    .abort = proc_abort,
    .close = proc_close,
};
