/*
 * child.c - run a program as a child process without ever blocking the loop.
 *
 * Everything that can fail or that is not async-signal-safe (the user
 * lookup, the group list, the environment) is prepared in the parent
 * before fork(); the child only makes system calls and exec()s. The
 * daemon is single-threaded, so plain fork() is safe.
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
 */
#include "child.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "loop.h"

#define CHILD_OUT_MAX       4096             /* output bytes kept, all lines together */
#define CHILD_LINE_MAX      1024             /* longer lines are truncated */
#define CHILD_READ_MAX      (64 * 1024)      /* per callback, so a chatty child can't hog */
#define CHILD_DRAIN_MAX     (256 * 1024)     /* read at exit, at most */
#define CHILD_KILL_AFTER_NS (2 * NS_PER_SEC) /* SIGTERM -> SIGKILL */
#define CHILD_REAP_WAIT_MS  2                /* child_kill(): wait for the exit this long */
#define CHILD_POLL_NS       (5 * NS_PER_MS)  /* exit polling where there is no pidfd */
#define CHILD_PATH          "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* The last lines of output: complete lines, then the unterminated one. */
struct child_out {
	char buf[CHILD_OUT_MAX + 1];
	size_t len;    /* bytes in buf */
	size_t nlines; /* complete ('\n'-terminated) lines in buf */
	size_t cur;    /* length of the unterminated last line */
};

struct child {
	struct loop *loop;
	pid_t pid; /* also the process group id */
	int pidfd; /* -1: no pidfd support, `poll` polls for the exit */
	int outfd; /* read end of the output pipe, -1 after EOF */
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
 * Children killed by child_kill() that had not exited within the short
 * wait: the loop reaps them when their pidfd fires (or the poll timer
 * sees them gone). The list keeps them
 * reachable (and accounted for) until then.
 */
static struct child *orphans;

/* What the child needs, prepared by the parent before fork(). */
struct spawn {
	char *const *argv;
	const char *user;
	char **envp;
	char *envstr[3]; /* HOME=, USER=, LOGNAME= */
	bool setuser;
	uid_t uid;
	gid_t gid;
	gid_t *groups;
	int ngroups;
	int nullfd, outfd[2];
};

/* ---- the child side: system calls only, then exec ---- */

static void
child_say(const char *a, const char *b, int err)
{
	const char *parts[] = {"vipd: ", a, " ", b, ": ", strerror(err), "\n"};

	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		if (write(STDERR_FILENO, parts[i], strlen(parts[i])) < 0)
			return;
}

/* Move fd out of 0..2 so the dup2()s below cannot clobber it. */
static int
child_fd_high(int fd)
{
	return fd > STDERR_FILENO ? fd : fcntl(fd, F_DUPFD, STDERR_FILENO + 1);
}

static void
child_signals_reset(void)
{
	struct sigaction sa = {.sa_handler = SIG_DFL};
	sigset_t none;

	sigemptyset(&sa.sa_mask);
	/* SIGPIPE is ignored in the daemon, and SIG_IGN survives exec. */
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			sigaction(sig, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

static _Noreturn void
child_exec(const struct spawn *s)
{
	int out = child_fd_high(s->outfd[1]);
	int in = child_fd_high(s->nullfd);

	setpgid(0, 0);
	child_signals_reset();
	/* dup2() clears O_CLOEXEC on the copies. */
	if (out < 0 || in < 0 || dup2(in, STDIN_FILENO) < 0 || dup2(out, STDOUT_FILENO) < 0 ||
	    dup2(out, STDERR_FILENO) < 0)
		_exit(127);
	close_range(STDERR_FILENO + 1, ~0U, 0);
	if (s->setuser) {
		if (setgroups((size_t)s->ngroups, s->groups) < 0 || setgid(s->gid) < 0 ||
		    setuid(s->uid) < 0) {
			child_say("cannot switch to user", s->user, errno);
			_exit(127);
		}
	}
	if (chdir("/") < 0) {
		child_say("cannot chdir to", "/", errno);
		_exit(127);
	}
	execve(s->argv[0], s->argv, s->envp);
	child_say("cannot run", s->argv[0], errno);
	_exit(127);
}

/* ---- preparing the spawn in the parent ---- */

static void
spawn_free(struct spawn *s)
{
	free(s->envp);
	for (size_t i = 0; i < 3; i++)
		free(s->envstr[i]);
	free(s->groups);
	if (s->nullfd >= 0)
		close(s->nullfd);
	for (int i = 0; i < 2; i++)
		if (s->outfd[i] >= 0)
			close(s->outfd[i]);
}

/* The supplementary groups of `name` (what initgroups() would set). */
static int
spawn_groups(struct spawn *s, const char *name, gid_t gid)
{
	int n = 16;

	for (;;) {
		int want = n;

		s->groups = calloc((size_t)n, sizeof(gid_t));
		if (!s->groups)
			return -1;
		if (getgrouplist(name, gid, s->groups, &want) >= 0) {
			s->ngroups = want;
			return 0;
		}
		free(s->groups);
		s->groups = NULL;
		if (want <= n)
			n *= 2;
		else
			n = want;
	}
}

/*
 * uid, gid, groups and HOME/USER/LOGNAME of the user to run as (or of the
 * user we are). getpwnam() may consult NSS; it runs once per spawn.
 */
static int
spawn_user(struct spawn *s, const char *user)
{
	struct passwd *pw;

	errno = 0;
	pw = user && *user ? getpwnam(user) : getpwuid(geteuid());
	if (!pw) {
		if (!user || !*user)
			return asprintf(&s->envstr[0], "HOME=/") < 0 ? -1 : 0;
		if (errno == 0)
			errno = ENOENT;
		return -1;
	}
	if (asprintf(&s->envstr[0], "HOME=%s", pw->pw_dir) < 0 ||
	    asprintf(&s->envstr[1], "USER=%s", pw->pw_name) < 0 ||
	    asprintf(&s->envstr[2], "LOGNAME=%s", pw->pw_name) < 0)
		return -1;
	if (!user || !*user || (pw->pw_uid == geteuid() && pw->pw_gid == getegid()))
		return 0;
	s->setuser = true;
	s->uid = pw->pw_uid;
	s->gid = pw->pw_gid;
	return spawn_groups(s, pw->pw_name, pw->pw_gid);
}

static int
spawn_env(struct spawn *s, char *const *extra)
{
	size_t n = 0, i = 0;

	while (extra && extra[n])
		n++;
	s->envp = calloc(n + 5, sizeof(char *));
	if (!s->envp)
		return -1;
	s->envp[i++] = (char *)CHILD_PATH;
	for (size_t k = 0; k < 3; k++)
		if (s->envstr[k])
			s->envp[i++] = s->envstr[k];
	for (size_t k = 0; k < n; k++)
		s->envp[i++] = extra[k];
	return 0;
}

static int
spawn_prepare(struct spawn *s, const struct child_opts *o)
{
	*s = (struct spawn){.argv = o->argv, .user = o->user, .nullfd = -1, .outfd = {-1, -1}};
	if (!o->argv || !o->argv[0]) {
		errno = EINVAL;
		return -1;
	}
	if (spawn_user(s, o->user) < 0 || spawn_env(s, o->env) < 0)
		return -1;
	s->nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (s->nullfd < 0 || pipe2(s->outfd, O_CLOEXEC) < 0)
		return -1;
	/* Only our end is non-blocking: the child's stdout stays ordinary. */
	return fcntl(s->outfd[0], F_SETFL, O_NONBLOCK);
}

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

/* The child has exited (it is a zombie until reaped here). */
static void
child_exited(struct child *c)
{
	struct child_result r = {.timeout_ns = c->timeout_ns};

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
	if (child_reap(c, &r.status) < 0)
		return;
	r.duration_ns = mono_now_ns() - c->start_ns;
	r.timed_out = c->timed_out;
	child_read(c, CHILD_DRAIN_MAX); /* what is there now; a grandchild may hold the pipe */
	child_close_out(c);
	r.output = out_text(c);
	c->in_done = true;
	c->done(&r, c->arg);
	child_free(c);
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

/* Undo a start: kill and reap at once. */
static void
child_unstart(pid_t pid)
{
	int err = errno;

	kill(-pid, SIGKILL);
	kill(pid, SIGKILL);
	/* SIGKILLed before it could do anything: this wait is short. */
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	errno = err;
}

static int
child_watch(struct child *c, const struct child_opts *o)
{
	c->pidfd = pidfd_open(c->pid, 0);
	if (c->pidfd < 0 && errno == ENOSYS) {
		c->poll = timer_new(c->loop, on_poll, c);
		timer_arm_in(c->poll, CHILD_POLL_NS);
	} else if (c->pidfd < 0 || loop_add_fd(c->loop, c->pidfd, EPOLLIN, on_child_exit, c) < 0) {
		return -1;
	}
	if (loop_add_fd(c->loop, c->outfd, EPOLLIN, on_output, c) < 0)
		return -1;
	if (o->timeout_ns) {
		c->timer = timer_new(c->loop, on_timeout, c);
		if (!c->timer)
			return -1;
		timer_arm(c->timer, c->start_ns + o->timeout_ns);
	}
	return 0;
}

struct child *
child_spawn(struct loop *l, const struct child_opts *o, child_done_fn done, void *arg)
{
	struct spawn s;
	struct child *c = NULL;
	uint64_t start = mono_now_ns();
	pid_t pid = -1;
	int err;

	if (spawn_prepare(&s, o) < 0)
		goto fail;
	pid = fork();
	if (pid == 0)
		child_exec(&s);
	if (pid < 0)
		goto fail;
	/* Both sides set the group, so it exists whoever runs first. */
	setpgid(pid, pid);
	/* Allocated after fork(): a child that fails to exec must not own it (valgrind). */
	c = calloc(1, sizeof(*c));
	if (!c)
		goto fail;
	*c = (struct child){.loop = l,
	                    .pid = pid,
	                    .pidfd = -1,
	                    .outfd = s.outfd[0],
	                    .done = done,
	                    .arg = arg,
	                    .start_ns = start,
	                    .timeout_ns = o->timeout_ns,
	                    .keep_lines = o->keep_lines};
	s.outfd[0] = -1;
	spawn_free(&s);
	if (child_watch(c, o) < 0) {
		child_unstart(pid);
		err = errno;
		child_free(c);
		errno = err;
		return NULL;
	}
	log_debug("child %d: started %s", (int)pid, o->argv[0]);
	return c;
fail:
	if (pid > 0)
		child_unstart(pid);
	err = errno;
	spawn_free(&s);
	errno = err;
	return NULL;
}

/* Wait up to CHILD_REAP_WAIT_MS for the exit, then reap. */
static int
child_reap_soon(struct child *c)
{
	struct pollfd p = {.fd = c->pidfd, .events = POLLIN};
	uint64_t end = mono_now_ns() + CHILD_REAP_WAIT_MS * NS_PER_MS;
	int status;

	for (;;) {
		uint64_t now = mono_now_ns();
		int ms = now < end ? (int)((end - now + NS_PER_MS - 1) / NS_PER_MS) : 0;
		int r;

		if (c->pidfd < 0) { /* no pidfd: look every 100 us */
			if (child_has_exited(c))
				return child_reap(c, &status);
			if (now >= end)
				return -1;
			usleep(100);
			continue;
		}
		r = poll(&p, 1, ms);
		if (r > 0)
			return child_reap(c, &status);
		if (r == 0 || errno != EINTR)
			return -1;
	}
}

void
child_kill(struct child *c)
{
	if (!c || c->in_done)
		return;
	if (kill(-c->pid, SIGKILL) < 0)
		kill(c->pid, SIGKILL);
	child_close_out(c);
	timer_free(c->timer);
	c->timer = NULL;
	if (child_reap_soon(c) == 0) {
		child_free(c);
		return;
	}
	/* Stuck in the kernel (D state): the pidfd callback reaps it later. */
	log_warnx("child %d: not dead yet after SIGKILL; reaping it when it exits", (int)c->pid);
	c->orphaned = true;
	c->next = orphans;
	if (orphans)
		orphans->prev = c;
	orphans = c;
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
