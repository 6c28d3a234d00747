/*
 * child.c - run a program as a child process without ever blocking the loop.
 *
 * The process itself is started by spawn.c's helper, not by a fork() of
 * the daemon: child_spawn() sends the request and returns (tens of
 * microseconds, however large the daemon has grown); the pid comes back
 * on a pipe the loop watches, and only then is the exit watched and the
 * timeout armed (from the spawn time).
 *
 * The parent watches two fds per child: a pidfd (readable once the child
 * has exited) and the read end of the output pipe. Where pidfd_open() is
 * ENOSYS (valgrind 3.19 does not know it) a timer polls for the exit
 * instead. The exit is what
 * counts: the pipe is drained of whatever is readable at that moment and
 * closed, not read to EOF, because a background grandchild may hold it
 * open for ever.
 *
 * Timeouts signal the whole process group: a shell script's own children
 * must go with it, or a hung `curl` under a killed `sh` lives on.
 *
 * child_kill() never waits: it SIGKILLs the group and leaves the child on
 * the killed list, where its pidfd callback reaps it whenever it dies
 * (microseconds later, or much later for a process in uninterruptible
 * sleep), without a callback to anyone.
 */
#include "child.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "mem.h"
#include "loop.h"
#include "spawn.h"

#define CHILD_OUT_MAX       4096             /* output bytes kept, all lines together */
#define CHILD_LINE_MAX      1024             /* longer lines are truncated */
#define CHILD_READ_MAX      (64 * 1024)      /* per callback, so a chatty child can't hog */
#define CHILD_DRAIN_MAX     (256 * 1024)     /* read at exit, at most */
#define CHILD_KILL_AFTER_NS (2 * NS_PER_SEC) /* SIGTERM -> SIGKILL */
#define CHILD_REAP_WAIT_NS  NS_PER_SEC       /* child_reap_killed(): wait this long in all */
#define CHILD_POLL_NS       (5 * NS_PER_MS)  /* exit polling where there is no pidfd */

/* The last lines of output: complete lines, then the unterminated one. */
struct child_out {
	char buf[CHILD_OUT_MAX + 1];
	size_t len;    /* bytes in buf */
	size_t nlines; /* complete ('\n'-terminated) lines in buf */
	size_t cur;    /* length of the unterminated last line */
};

struct child {
	struct loop *loop;
	pid_t pid;   /* also the process group id; 0 until the helper has answered */
	int replyfd; /* the helper's answer comes here; -1 once it has */
	int pidfd;   /* -1: no pidfd support, `poll` polls for the exit */
	int outfd;   /* read end of the output pipe, -1 after EOF */
	struct timer *timer;
	struct timer *poll;
	child_done_fn done;
	void *arg;
	uint64_t start_ns, timeout_ns;
	size_t keep_lines;
	bool timed_out; /* SIGTERM sent */
	bool in_done;
	bool orphaned;             /* child_kill()ed, waiting to be reaped */
	struct child *prev, *next; /* on the orphans list after child_kill() */
	struct child_out out;
};

/*
 * Children killed by child_kill(): the loop reaps them when their pidfd
 * fires (or the poll timer sees them gone). The list keeps them reachable
 * (and accounted for) until then, and lets child_reap_killed() find them.
 */
static struct child *orphans;

/* ---- output: the last lines ---- */

static void
out_drop_first(struct child_out *o)
{
	char *nl = memchr(o->buf, '\n', o->len);
	size_t n = (size_t)(nl - o->buf) + 1;

	memmove(o->buf, o->buf + n, o->len - n);
	o->len -= n;
	o->nlines--;
}

/* Append a piece of the current line, truncated, control characters made visible. */
static void
out_piece(struct child_out *o, const char *p, size_t n)
{
	size_t take = CHILD_LINE_MAX - o->cur;

	if (n < take)
		take = n;
	/* Fits once the complete lines are gone: cur + take <= CHILD_LINE_MAX < CHILD_OUT_MAX. */
	while (o->len + take > CHILD_OUT_MAX && o->nlines > 0)
		out_drop_first(o);
	for (size_t i = 0; i < take; i++) {
		unsigned char ch = (unsigned char)p[i];

		if (ch == '\r')
			continue;
		o->buf[o->len++] = (ch < 0x20 && ch != '\t') || ch == 0x7f ? '?' : (char)ch;
		o->cur++;
	}
}

static void
out_newline(struct child_out *o, size_t keep)
{
	while (o->len + 1 > CHILD_OUT_MAX && o->nlines > 0)
		out_drop_first(o);
	o->buf[o->len++] = '\n';
	o->nlines++;
	o->cur = 0;
	while (o->nlines > keep)
		out_drop_first(o);
}

static void
out_add(struct child *c, const char *p, size_t n)
{
	size_t nl_seen = 0;

	if (c->keep_lines == 0)
		return;
	/*
	 * Skip what cannot survive: everything up to the newline that has
	 * keep_lines more after it (a chatty child must not cost a memmove
	 * per line).
	 */
	for (const char *q = p + n; q > p;) {
		q = memrchr(p, '\n', (size_t)(q - p));
		if (!q)
			break;
		if (++nl_seen > c->keep_lines) {
			c->out = (struct child_out){.len = 0};
			n -= (size_t)(q + 1 - p);
			p = q + 1;
			break;
		}
	}
	while (n > 0) {
		const char *nl = memchr(p, '\n', n);
		size_t seg = nl ? (size_t)(nl - p) : n;

		out_piece(&c->out, p, seg);
		if (nl) {
			out_newline(&c->out, c->keep_lines);
			seg++;
		}
		p += seg;
		n -= seg;
	}
}

/* The kept lines as one string, without the final newline. */
static const char *
out_text(struct child *c)
{
	struct child_out *o = &c->out;

	if (o->cur > 0 && o->nlines >= c->keep_lines && o->nlines > 0)
		out_drop_first(o);
	while (o->len > 0 && o->buf[o->len - 1] == '\n')
		o->len--;
	o->buf[o->len] = '\0';
	return o->buf;
}

/* ---- the parent side ---- */

static void
child_close_out(struct child *c)
{
	if (c->outfd < 0)
		return;
	loop_del_fd(c->loop, c->outfd);
	close(c->outfd);
	c->outfd = -1;
}

/* Read up to `max` bytes of output; close the pipe at EOF or on error. */
static void
child_read(struct child *c, size_t max)
{
	char buf[4096];
	size_t total = 0;

	while (c->outfd >= 0 && total < max) {
		ssize_t n = read(c->outfd, buf, sizeof(buf));

		if (n > 0) {
			out_add(c, buf, (size_t)n);
			total += (size_t)n;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && errno == EAGAIN) {
			return;
		} else {
			child_close_out(c); /* EOF: every writer is gone */
		}
	}
}

static void
on_output(struct loop *l, int fd, uint32_t events, void *arg)
{
	(void)l;
	(void)fd;
	(void)events;
	child_read(arg, CHILD_READ_MAX);
}

static void
child_free(struct child *c)
{
	child_close_out(c);
	timer_free(c->timer);
	timer_free(c->poll);
	if (c->replyfd >= 0) {
		loop_del_fd(c->loop, c->replyfd);
		close(c->replyfd);
	}
	if (c->pidfd >= 0) {
		loop_del_fd(c->loop, c->pidfd);
		close(c->pidfd);
	}
	free(c);
}

static void
orphan_unlink(struct child *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		orphans = c->next;
	if (c->next)
		c->next->prev = c->prev;
}

/*
 * Reap the exited child: its pid is ours until we do, so waitpid() on it
 * cannot hit another process. -1 if it has not exited after all.
 */
static int
child_reap(struct child *c, int *status)
{
	pid_t r;

	do
		r = waitpid(c->pid, status, WNOHANG);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		return -1;
	if (r < 0) {
		/* Someone reaped it behind our back (SIGCHLD set to SIG_IGN?). */
		log_warn("child %d: waitpid", (int)c->pid);
		*status = -1;
	}
	return 0;
}

static void
on_exit_orphan(struct child *c)
{
	int status;

	if (child_reap(c, &status) < 0)
		return;
	log_debug("child %d: reaped after SIGKILL", (int)c->pid);
	orphan_unlink(c);
	child_free(c);
}

/* The end: the one call of done, then the child is freed. */
static void
child_deliver(struct child *c, int status)
{
	struct child_result r = {.status = status,
	                         .pid = c->pid,
	                         .timed_out = c->timed_out,
	                         .duration_ns = mono_now_ns() - c->start_ns,
	                         .timeout_ns = c->timeout_ns};

	child_read(c, CHILD_DRAIN_MAX); /* what is there now; a grandchild may hold the pipe */
	child_close_out(c);
	r.output = out_text(c);
	c->in_done = true;
	c->done(&r, c->arg);
	child_free(c);
}

/* The child has exited (it is a zombie until reaped here). */
static void
child_exited(struct child *c)
{
	int status;

	if (c->orphaned) {
		on_exit_orphan(c);
		return;
	}
	/*
	 * After a timeout, kill what is left of the group (a grandchild that
	 * ignores SIGTERM, or was started in the background) before reaping:
	 * the unreaped leader keeps the group id from being reused.
	 */
	if (c->timed_out)
		kill(-c->pid, SIGKILL);
	if (child_reap(c, &status) < 0)
		return;
	child_deliver(c, status);
}

static void
on_child_exit(struct loop *l, int fd, uint32_t events, void *arg)
{
	(void)l;
	(void)fd;
	(void)events;
	child_exited(arg);
}

/* Has it exited? Without reaping it (WNOWAIT): child_exited() does that. */
static bool
child_has_exited(const struct child *c)
{
	siginfo_t si = {0};

	return waitid(P_PID, (id_t)c->pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid != 0;
}

static void
on_poll(struct loop *l, struct timer *t, void *arg)
{
	(void)l;
	if (child_has_exited(arg))
		child_exited(arg);
	else
		timer_arm_in(t, CHILD_POLL_NS);
}

static void
on_timeout(struct loop *l, struct timer *t, void *arg)
{
	struct child *c = arg;

	(void)l;
	if (!c->timed_out) {
		log_debug("child %d: timed out, sending SIGTERM to its group", (int)c->pid);
		c->timed_out = true;
		kill(-c->pid, SIGTERM);
		timer_arm_in(t, CHILD_KILL_AFTER_NS);
	} else {
		log_warnx("child %d: still running %llu ms after SIGTERM, sending SIGKILL",
		          (int)c->pid, (unsigned long long)(CHILD_KILL_AFTER_NS / NS_PER_MS));
		kill(-c->pid, SIGKILL);
	}
}

/* Watch for the exit: the pidfd, or the poll timer where there is none. */
static int
child_watch_exit(struct child *c)
{
	c->pidfd = pidfd_open(c->pid, 0);
	if (c->pidfd < 0 && errno == ENOSYS) {
		c->poll = timer_new(c->loop, on_poll, c);
		if (!c->poll)
			return -1;
		timer_arm_in(c->poll, CHILD_POLL_NS);
		return 0;
	}
	if (c->pidfd < 0)
		return -1;
	return loop_add_fd(c->loop, c->pidfd, EPOLLIN, on_child_exit, c);
}

/* Could not start, or could not watch: done says so, from the loop. */
static void
child_failed(struct child *c, const char *what, int err)
{
	char msg[256];

	log_warnx("child: %s: %s", what, strerror(err));
	if (c->orphaned) {
		orphan_unlink(c);
		child_free(c);
		return;
	}
	snprintf(msg, sizeof(msg), "vipd: %s: %s\n", what, strerror(err));
	out_add(c, msg, strlen(msg));
	child_deliver(c, W_EXITCODE(127, 0));
}

/*
 * The helper's answer: the child has started (or could not be). false if
 * that was the end of c (freed).
 */
static bool
child_started(struct child *c)
{
	pid_t pid = spawn_reply(c->replyfd);

	if (pid < 0 && errno == EAGAIN)
		return true;
	loop_del_fd(c->loop, c->replyfd);
	close(c->replyfd);
	c->replyfd = -1;
	if (pid < 0) {
		child_failed(c, "cannot start a process", errno);
		return false;
	}
	c->pid = pid;
	if (c->orphaned) /* child_kill()ed before it started */
		kill(-pid, SIGKILL);
	if (child_watch_exit(c) < 0) {
		/*
		 * Out of fds or memory: nothing would ever reap it. Kill it,
		 * and wait: a SIGKILLed process that has just been started.
		 */
		int err = errno;

		kill(-pid, SIGKILL);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		child_failed(c, "cannot watch a process", err);
		return false;
	}
	if (c->timeout_ns && !c->orphaned) {
		c->timer = timer_new(c->loop, on_timeout, c);
		if (c->timer)
			timer_arm(c->timer, c->start_ns + c->timeout_ns);
	}
	log_debug("child %d: started", (int)pid);
	return true;
}

static void
on_reply(struct loop *l, int fd, uint32_t events, void *arg)
{
	(void)l;
	(void)fd;
	(void)events;
	child_started(arg);
}

struct child *
child_spawn(struct loop *l, const struct child_opts *o, child_done_fn done, void *arg)
{
	struct child *c = xcalloc(1, sizeof(*c));
	int err;

	*c = (struct child){.loop = l,
	                    .pidfd = -1,
	                    .outfd = -1,
	                    .replyfd = -1,
	                    .done = done,
	                    .arg = arg,
	                    .start_ns = mono_now_ns(),
	                    .timeout_ns = o->timeout_ns,
	                    .keep_lines = o->keep_lines};
	if (spawn_request(o, &c->outfd, &c->replyfd) < 0)
		goto fail;
	if (loop_add_fd(l, c->replyfd, EPOLLIN, on_reply, c) < 0) {
		close(c->replyfd);
		c->replyfd = -1;
		goto fail;
	}
	if (loop_add_fd(l, c->outfd, EPOLLIN, on_output, c) < 0) {
		close(c->outfd);
		c->outfd = -1;
		/*
		 * The request is sent: let the answer come and kill what it
		 * started, as if child_kill()ed.
		 */
		err = errno;
		child_kill(c);
		errno = err;
		return NULL;
	}
	log_debug("child: starting %s", o->argv[0]);
	return c;
fail:
	err = errno;
	if (c->outfd >= 0)
		close(c->outfd);
	c->outfd = -1;
	child_free(c);
	errno = err;
	return NULL;
}

void
child_kill(struct child *c)
{
	if (!c || c->in_done || c->orphaned)
		return;
	/* Not started yet: child_started() kills it when the pid comes. */
	if (c->pid > 0 && kill(-c->pid, SIGKILL) < 0)
		kill(c->pid, SIGKILL);
	/* Nothing more to read or time: only the exit is waited for, by the loop. */
	child_close_out(c);
	timer_free(c->timer);
	c->timer = NULL;
	c->orphaned = true;
	c->prev = NULL;
	c->next = orphans;
	if (orphans)
		orphans->prev = c;
	orphans = c;
}

void
child_reap_killed(struct loop *l)
{
	uint64_t end = mono_now_ns() + CHILD_REAP_WAIT_NS;
	struct child *next;

	for (struct child *c = orphans; c; c = next) {
		bool alive = true;
		int status;

		next = c->next;
		if (c->loop != l)
			continue;
		while (alive && c->replyfd >= 0 && mono_now_ns() < end) {
			struct pollfd p = {.fd = c->replyfd, .events = POLLIN};

			if (poll(&p, 1, 10) > 0)
				alive = child_started(c); /* kills it now that it has a pid */
		}
		if (!alive)
			continue;
		if (c->pid <= 0) { /* the helper never answered */
			orphan_unlink(c);
			child_free(c);
			continue;
		}
		while (!child_has_exited(c) && mono_now_ns() < end) {
			struct pollfd p = {.fd = c->pidfd, .events = POLLIN};

			if (c->pidfd < 0 || poll(&p, 1, 10) < 0)
				usleep(1000);
		}
		if (child_reap(c, &status) < 0)
			log_warnx("child %d: not dead %llu ms after SIGKILL; leaving it to init",
			          (int)c->pid,
			          (unsigned long long)(CHILD_REAP_WAIT_NS / NS_PER_MS));
		orphan_unlink(c);
		child_free(c);
	}
}

pid_t
child_pid(const struct child *c)
{
	return c->pid;
}

const char *
child_describe(const struct child_result *r, char *buf, size_t size)
{
	char st[64];
	int s = r->status;

	if (s != -1 && WIFEXITED(s)) {
		snprintf(st, sizeof(st), "exit %d", WEXITSTATUS(s));
	} else if (s != -1 && WIFSIGNALED(s)) {
		const char *name = sigabbrev_np(WTERMSIG(s));

		if (name)
			snprintf(st, sizeof(st), "killed by SIG%s%s", name,
			         WCOREDUMP(s) ? " (core dumped)" : "");
		else
			snprintf(st, sizeof(st), "killed by signal %d", WTERMSIG(s));
	} else {
		snprintf(st, sizeof(st), "exit status unknown");
	}
	if (r->timed_out)
		snprintf(buf, size, "timed out after %llu ms (%s)",
		         (unsigned long long)(r->timeout_ns / NS_PER_MS), st);
	else
		snprintf(buf, size, "%s", st);
	return buf;
}
