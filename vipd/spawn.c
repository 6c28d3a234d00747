/*
 * spawn.c - start programs without fork() in the daemon.
 *
 * Three parties. The daemon prepares everything that can fail or allocate
 * (the user, its groups from the table resolved with the configuration,
 * the environment, the output pipe),
 * packs it into one datagram with the pipe's write end and a reply pipe's
 * write end attached (SCM_RIGHTS), and sends it to the helper without
 * waiting: the loop's whole cost of a spawn. The helper, forked once while
 * the daemon is small, unpacks it and starts the child with
 * clone(CLONE_VM | CLONE_VFORK | CLONE_PARENT) on a stack of its own
 * (what glibc's posix_spawn() does, plus CLONE_PARENT, and a user switch
 * posix_spawn() cannot do), then writes the pid into the reply pipe,
 * which the daemon's loop watches. CLONE_PARENT makes the child the
 * daemon's: it reaps it, and its pidfd gives it the exit.
 *
 * The child (the functions marked SPAWN_CHILD) shares the helper's memory
 * until execve(), which sets the rules there:
 *   - it makes raw system calls through syscall(): no libc state, no
 *     locks, no heap, no stdio. The one thing they write outside the
 *     child's stack is errno, which is the helper's (same thread pointer);
 *     the helper sleeps until the child is done (CLONE_VFORK) and reads
 *     errno only from clone() itself;
 *   - every signal is blocked in the helper across the clone, so no
 *     handler runs in the child before it has reset them all to SIG_DFL;
 *     it unblocks them just before execve();
 *   - no sanitizer instrumentation: ASan would keep its own books about
 *     the child's frames in the shared shadow memory.
 * The stack is mapped once, with a guard page below it, and reused: the
 * helper cannot start another child before this one is off it.
 */
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"
#include "mem.h"
#include "privs.h"
#include "runas.h"

#define SPAWN_STACK_SIZE (64 * 1024)
#define SPAWN_PATH       "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
/* The kernel's sigset_t, which rt_sigaction/rt_sigprocmask want the size of. */
#define SPAWN_SIGSET_BYTES ((NSIG - 1) / 8)

#define SPAWN_MSG_MAX (60 * 1024)

#define SPAWN_CHILD __attribute__((no_sanitize("address", "undefined"), noinline))

/*
 * One request, daemon to helper: this header, then ngroups gid_t, then
 * nargv + nenv + 1 NUL-terminated strings (argv, the environment, the
 * user's name). Attached: the output pipe's and the reply pipe's write
 * ends.
 */
struct spawn_msg {
	uint32_t setuser, uid, gid, ngroups, nargv, nenv;
};

/* The answer, helper to daemon, on the reply pipe. */
struct spawn_ans {
	int32_t pid; /* -1: failed */
	int32_t err; /* errno of the failure */
};

/* What the child needs: prepared by the daemon, unpacked by the helper. */
struct spawn {
	char *const *argv;
	const char *user;
	char **envp;
	char *envstr[3]; /* HOME=, USER=, LOGNAME= */
	bool setuser;
	bool setsched; /* we are not SCHED_OTHER: the child must leave our policy */
	uid_t uid;
	gid_t gid;
	gid_t *groups;
	int ngroups;
	int nullfd, outfd[2];
};

/*
 * The resource limits vipd was started with, for its children: saved by
 * spawn_init() before realtime.c and privs.c change them, read by the
 * child in the helper's memory (the helper is forked after the save).
 */
#define SPAWN_NLIMITS 2
static const int spawn_limit_res[SPAWN_NLIMITS] = {RLIMIT_RTTIME, RLIMIT_RTPRIO};
static struct {
	bool saved;
	struct rlimit64 lim[SPAWN_NLIMITS]; /* prlimit64()'s layout on every ABI */
} spawn_limits;

void
spawn_init(void)
{
	for (size_t i = 0; i < SPAWN_NLIMITS; i++)
		if (getrlimit64(spawn_limit_res[i], &spawn_limits.lim[i]) < 0)
			return;
	spawn_limits.saved = true;
}

/* ---- the child side: system calls only, then execve ---- */

static SPAWN_CHILD size_t
spawn_strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

/* "vipd: A B: reason" to the output pipe (stderr by now). */
static SPAWN_CHILD void
spawn_say(const char *a, const char *b, int err)
{
	/* strerrordesc_np(): the untranslated text from a table, no locale, no malloc. */
	const char *why = strerrordesc_np(err);
	const char *parts[] = {"vipd: ", a, " ", b, ": ", why ? why : "unknown error", "\n"};

	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		if (syscall(SYS_write, STDERR_FILENO, parts[i], spawn_strlen(parts[i])) < 0)
			return;
}

static SPAWN_CHILD _Noreturn void
spawn_exit(int status)
{
	for (;;)
		syscall(SYS_exit_group, status);
}

/* Move fd out of 0..2 so the dup3()s below cannot clobber it. */
static SPAWN_CHILD int
spawn_fd_high(int fd)
{
	return fd > STDERR_FILENO ? fd : (int)syscall(SYS_fcntl, fd, F_DUPFD, STDERR_FILENO + 1);
}

static SPAWN_CHILD void
spawn_signals_default(void)
{
	/*
	 * The kernel's struct sigaction for SIG_DFL, no flags, empty mask is
	 * all zeroes whatever the architecture's layout; this is larger than
	 * any of them.
	 */
	static const unsigned long dfl[8];

	/* SIG_IGN survives execve() (SIGPIPE is ignored in the daemon). */
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			syscall(SYS_rt_sigaction, sig, dfl, NULL, SPAWN_SIGSET_BYTES);
}

/*
 * Every fd from `low` up closed: close_range(), or one by one up to the
 * fd limit where the kernel has none (ENOSYS before Linux 5.9, or a
 * seccomp filter saying so): a failure ignored there left the daemon's
 * fds open in every script.
 */
static SPAWN_CHILD void
spawn_close_from(int low)
{
	struct rlimit64 rl;
	unsigned long max = 65536;

	if (syscall(SYS_close_range, (unsigned)low, ~0U, 0) == 0)
		return;
	if (syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, &rl) == 0 &&
	    rl.rlim_cur != RLIM64_INFINITY)
		max = rl.rlim_cur < (1UL << 20) ? rl.rlim_cur : (1UL << 20);
	for (unsigned long fd = (unsigned long)low; fd < max; fd++)
		syscall(SYS_close, fd);
}

/*
 * The limits vipd changed for itself (RLIMIT_RTTIME for its real-time
 * guard, RLIMIT_RTPRIO for a non-root SCHED_RR) back to what vipd was
 * started with: a script must not get SIGXCPU from the daemon's guard.
 * Lowering is always allowed; where a hard limit cannot be raised back,
 * the soft one goes as far as it can.
 */
static SPAWN_CHILD void
spawn_limits_reset(void)
{
	for (size_t i = 0; i < SPAWN_NLIMITS && spawn_limits.saved; i++) {
		struct rlimit64 rl = spawn_limits.lim[i];

		if (syscall(SYS_prlimit64, 0, spawn_limit_res[i], &rl, NULL) == 0)
			continue;
		if (syscall(SYS_prlimit64, 0, spawn_limit_res[i], NULL, &rl) < 0)
			continue;
		rl.rlim_cur = spawn_limits.lim[i].rlim_cur < rl.rlim_max
		                  ? spawn_limits.lim[i].rlim_cur
		                  : rl.rlim_max;
		syscall(SYS_prlimit64, 0, spawn_limit_res[i], &rl, NULL);
	}
}

static SPAWN_CHILD int
spawn_child(void *arg)
{
	const struct spawn *s = arg;
	static const unsigned long none[2]; /* an empty signal set */
	struct sched_param sp = {.sched_priority = 0};
	int out, in, err;

	spawn_signals_default();
	/*
	 * A session of its own, not only a process group: a hook started by
	 * `vipd -n` on a terminal must not share (and read from, or signal)
	 * the admin's terminal. It is also the process group child.c kills.
	 */
	syscall(SYS_setsid);
	out = spawn_fd_high(s->outfd[1]);
	in = spawn_fd_high(s->nullfd);
	/* dup3() clears O_CLOEXEC on the copies. */
	if (out < 0 || in < 0 || syscall(SYS_dup3, in, STDIN_FILENO, 0) < 0 ||
	    syscall(SYS_dup3, out, STDOUT_FILENO, 0) < 0 ||
	    syscall(SYS_dup3, out, STDERR_FILENO, 0) < 0)
		spawn_exit(127);
	spawn_close_from(STDERR_FILENO + 1);
	spawn_limits_reset();
	syscall(SYS_umask, 022);
	/*
	 * SCHED_RESET_ON_FORK has done this already when the daemon runs
	 * SCHED_RR as configured; this covers a daemon started under a
	 * real-time policy by someone else.
	 */
	if (s->setsched)
		syscall(SYS_sched_setscheduler, 0, SCHED_OTHER, &sp);
	if (s->setuser && (syscall(SYS_setgroups, (size_t)s->ngroups, s->groups) < 0 ||
	                   syscall(SYS_setresgid, s->gid, s->gid, s->gid) < 0 ||
	                   syscall(SYS_setresuid, s->uid, s->uid, s->uid) < 0)) {
		err = errno;
		spawn_say("cannot switch to user", s->user, err);
		spawn_exit(127);
	}
	if (syscall(SYS_chdir, "/") < 0) {
		err = errno;
		spawn_say("cannot chdir to", "/", err);
		spawn_exit(127);
	}
	syscall(SYS_rt_sigprocmask, SIG_SETMASK, none, NULL, SPAWN_SIGSET_BYTES);
	syscall(SYS_execve, s->argv[0], s->argv, s->envp);
	err = errno;
	spawn_say("cannot run", s->argv[0], err);
	spawn_exit(127);
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

/*
 * uid, gid, groups and HOME/USER/LOGNAME of the user to run as (or of the
 * user we are), from the table resolved with the configuration (runas.h):
 * no NSS lookup here, in the loop.
 */
static int
spawn_user(struct spawn *s, const char *user)
{
	const struct runas *u = runas_get(user);

	if (!u->found) {
		errno = ENOENT;
		return -1;
	}
	if (!u->pwname) {
		s->envstr[0] = xstrdup("HOME=/");
		return 0;
	}
	s->envstr[0] = xasprintf("HOME=%s", u->home);
	s->envstr[1] = xasprintf("USER=%s", u->pwname);
	s->envstr[2] = xasprintf("LOGNAME=%s", u->pwname);
	if (!user || !*user || (u->uid == geteuid() && u->gid == getegid()))
		return 0;
	s->setuser = true;
	s->uid = u->uid;
	s->gid = u->gid;
	s->ngroups = u->ngroups;
	s->groups = xcalloc((size_t)u->ngroups + 1, sizeof(gid_t));
	memcpy(s->groups, u->groups, (size_t)u->ngroups * sizeof(gid_t));
	return 0;
}

static int
spawn_env(struct spawn *s, char *const *extra)
{
	size_t n = 0, i = 0;

	while (extra && extra[n])
		n++;
	s->envp = xcalloc(n + 5, sizeof(char *));
	s->envp[i++] = (char *)SPAWN_PATH;
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
	return spawn_user(s, o->user) < 0 || spawn_env(s, o->env) < 0 ? -1 : 0;
}

/* Append string str to buf at *len; -1 (E2BIG) if it does not fit. */
static int
spawn_put(char *buf, size_t *len, const void *p, size_t n)
{
	if (n > SPAWN_MSG_MAX - *len) {
		errno = E2BIG;
		return -1;
	}
	memcpy(buf + *len, p, n);
	*len += n;
	return 0;
}

/* s as one request into buf (SPAWN_MSG_MAX bytes); its length, or -1 (E2BIG). */
static ssize_t
spawn_pack(const struct spawn *s, char *buf)
{
	struct spawn_msg m = {
	    .setuser = s->setuser, .uid = s->uid, .gid = s->gid, .ngroups = (uint32_t)s->ngroups};
	size_t len = sizeof(m);

	while (s->argv[m.nargv])
		m.nargv++;
	while (s->envp[m.nenv])
		m.nenv++;
	memcpy(buf, &m, sizeof(m));
	if (s->setuser && spawn_put(buf, &len, s->groups, (size_t)s->ngroups * sizeof(gid_t)) < 0)
		return -1;
	for (uint32_t i = 0; i < m.nargv; i++)
		if (spawn_put(buf, &len, s->argv[i], strlen(s->argv[i]) + 1) < 0)
			return -1;
	for (uint32_t i = 0; i < m.nenv; i++)
		if (spawn_put(buf, &len, s->envp[i], strlen(s->envp[i]) + 1) < 0)
			return -1;
	if (spawn_put(buf, &len, s->user ? s->user : "", strlen(s->user ? s->user : "") + 1) < 0)
		return -1;
	return (ssize_t)len;
}

/* The next NUL-terminated string at *pos in buf[len]; NULL if there is none. */
static char *
spawn_take(char *buf, size_t len, size_t *pos)
{
	char *p = buf + *pos, *nul = *pos < len ? memchr(p, '\0', len - *pos) : NULL;

	if (!nul)
		return NULL;
	*pos += (size_t)(nul - p) + 1;
	return p;
}

/* A request back into s (pointers into buf); -1 if it is malformed. */
static int
spawn_unpack(struct spawn *s, char *buf, size_t len)
{
	struct spawn_msg m;
	size_t pos = sizeof(m);

	if (len < sizeof(m))
		return -1;
	memcpy(&m, buf, sizeof(m));
	if (m.nargv == 0 || m.nargv > len || m.nenv > len || m.ngroups > len / sizeof(gid_t))
		return -1;
	s->setuser = m.setuser;
	s->uid = m.uid;
	s->gid = m.gid;
	s->ngroups = (int)m.ngroups;
	if (s->setuser) {
		if ((size_t)s->ngroups * sizeof(gid_t) > len - pos)
			return -1;
		s->groups = calloc((size_t)s->ngroups + 1, sizeof(gid_t));
		if (!s->groups)
			return -1;
		memcpy(s->groups, buf + pos, (size_t)s->ngroups * sizeof(gid_t));
		pos += (size_t)s->ngroups * sizeof(gid_t);
	}
	char **argv = calloc(m.nargv + 1, sizeof(char *));

	s->argv = argv;
	s->envp = calloc(m.nenv + 1, sizeof(char *));
	if (!argv || !s->envp)
		return -1;
	for (uint32_t i = 0; i < m.nargv; i++)
		if (!(argv[i] = spawn_take(buf, len, &pos)))
			return -1;
	for (uint32_t i = 0; i < m.nenv; i++)
		if (!(s->envp[i] = spawn_take(buf, len, &pos)))
			return -1;
	return (s->user = spawn_take(buf, len, &pos)) ? 0 : -1;
}

/* ---- the helper ---- */

static pid_t helper_pid = -1;
static int helper_sock = -1; /* the daemon's end */

/* The top of the child's stack, mapped on first use (NULL, errno set, if it cannot be). */
static void *
spawn_stack(void)
{
	static char *top;

	if (!top) {
		size_t page = (size_t)sysconf(_SC_PAGESIZE);
		char *p = mmap(NULL, page + SPAWN_STACK_SIZE, PROT_READ | PROT_WRITE,
		               MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);

		if (p == MAP_FAILED)
			return NULL;
		/* A guard page: an overflow faults instead of writing below. */
		if (mprotect(p, page, PROT_NONE) < 0) {
			munmap(p, page + SPAWN_STACK_SIZE);
			return NULL;
		}
		top = p + page + SPAWN_STACK_SIZE;
	}
	return top;
}

/* Start the child of one request, answer on replyfd. */
static void
helper_spawn(char *buf, size_t len, int nullfd, int outfd, int replyfd)
{
	struct spawn s = {.nullfd = nullfd, .outfd = {-1, outfd}};
	struct spawn_ans ans = {.pid = -1, .err = EINVAL};
	void *stack = spawn_stack();
	sigset_t all, old;

	s.setsched = (sched_getscheduler(0) & ~SCHED_RESET_ON_FORK) != SCHED_OTHER;
	if (!stack) {
		ans.err = errno;
	} else if (spawn_unpack(&s, buf, len) == 0) {
		sigfillset(&all);
		sigprocmask(SIG_SETMASK, &all, &old);
		/* Returns once the child has called execve() or exited. */
		ans.pid =
		    clone(spawn_child, stack, CLONE_VM | CLONE_VFORK | CLONE_PARENT | SIGCHLD, &s);
		ans.err = ans.pid < 0 ? errno : 0;
		sigprocmask(SIG_SETMASK, &old, NULL);
	}
	if (write(replyfd, &ans, sizeof(ans)) < 0) {
		/* The daemon is gone: it closed its end. Nothing to tell. */
	}
	free(s.groups);
	free((void *)s.argv);
	free(s.envp);
}

/* close_range(), or one fd at a time where the kernel has none (ENOSYS). */
static void
helper_close_from(int low)
{
	struct rlimit rl;
	long max = 65536;

	if (close_range((unsigned)low, ~0U, 0) == 0)
		return;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		max = rl.rlim_cur < (1UL << 20) ? (long)rl.rlim_cur : (1L << 20);
	for (long fd = low; fd < max; fd++)
		close((int)fd);
}

/*
 * The helper's life: one request at a time until the daemon closes its
 * end (or dies: PR_SET_PDEATHSIG). Nothing of the daemon's is used here
 * but the request buffer it allocates itself.
 */
static _Noreturn void
helper_main(int sock, pid_t daemon)
{
	struct sigaction sa = {.sa_handler = SIG_DFL};
	sigset_t none;
	char *buf = malloc(SPAWN_MSG_MAX);
	int nullfd;

	/* First: a credential change would clear the parent-death signal. */
	if (privs_helper() < 0)
		_exit(1);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != daemon)
		_exit(0);
	prctl(PR_SET_NAME, "vipd-spawn");
	sigemptyset(&sa.sa_mask);
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			sigaction(sig, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* Only the socket is ours: the daemon's sockets and files are not. */
	if (dup2(sock, 3) < 0)
		_exit(1);
	sock = 3;
	helper_close_from(4);
	nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (!buf || nullfd < 0)
		_exit(1);
	for (;;) {
		union {
			struct cmsghdr h;
			char space[CMSG_SPACE(2 * sizeof(int))];
		} ctl;
		struct iovec iov = {.iov_base = buf, .iov_len = SPAWN_MSG_MAX};
		struct msghdr mh = {.msg_iov = &iov,
		                    .msg_iovlen = 1,
		                    .msg_control = ctl.space,
		                    .msg_controllen = sizeof(ctl.space)};
		struct cmsghdr *cm;
		int fds[2] = {-1, -1};
		ssize_t n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		cm = CMSG_FIRSTHDR(&mh);
		if (cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
		    cm->cmsg_len == CMSG_LEN(2 * sizeof(int)))
			memcpy(fds, CMSG_DATA(cm), sizeof(fds));
		if (fds[0] >= 0 && fds[1] >= 0 && !(mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)))
			helper_spawn(buf, (size_t)n, nullfd, fds[0], fds[1]);
		for (int i = 0; i < 2; i++)
			if (fds[i] >= 0)
				close(fds[i]);
	}
	free(buf);
	_exit(0);
}

int
spawn_helper_start(void)
{
	int sv[2];
	pid_t daemon = getpid(), pid;

	if (helper_sock >= 0)
		return 0;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		close(sv[0]);
		helper_main(sv[1], daemon);
	}
	close(sv[1]);
	if (pid < 0) {
		int err = errno;

		close(sv[0]);
		errno = err;
		return -1;
	}
	helper_pid = pid;
	helper_sock = sv[0];
	return 0;
}

void
spawn_helper_stop(void)
{
	if (helper_sock < 0)
		return;
	close(helper_sock);
	helper_sock = -1;
	/* It exits at the end of the stream: a short wait, at shutdown only. */
	while (waitpid(helper_pid, NULL, 0) < 0 && errno == EINTR)
		;
	helper_pid = -1;
}

/* Send one request with the two fds; -1 with errno (EPIPE: the helper is gone). */
static int
spawn_send(const char *buf, size_t len, int outfd, int replyfd)
{
	union {
		struct cmsghdr h;
		char space[CMSG_SPACE(2 * sizeof(int))];
	} ctl = {0};
	struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
	struct msghdr mh = {.msg_iov = &iov,
	                    .msg_iovlen = 1,
	                    .msg_control = ctl.space,
	                    .msg_controllen = sizeof(ctl.space)};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	int fds[2] = {outfd, replyfd};
	ssize_t n;

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(fds));
	memcpy(CMSG_DATA(cm), fds, sizeof(fds));
	do
		n = sendmsg(helper_sock, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -1 : 0;
}

/* The helper died: reap it, so that the next request starts another. */
static void
spawn_helper_lost(void)
{
	close(helper_sock);
	helper_sock = -1;
	kill(helper_pid, SIGKILL);
	while (waitpid(helper_pid, NULL, 0) < 0 && errno == EINTR)
		;
	helper_pid = -1;
}

int
spawn_request(const struct child_opts *o, int *outfd, int *replyfd)
{
	static char buf[SPAWN_MSG_MAX];
	struct spawn s;
	int reply[2] = {-1, -1}, rc = -1, err;
	ssize_t len;

	if (spawn_prepare(&s, o) < 0 || (len = spawn_pack(&s, buf)) < 0)
		goto out;
	if (pipe2(s.outfd, O_CLOEXEC) < 0 || pipe2(reply, O_CLOEXEC | O_NONBLOCK) < 0 ||
	    fcntl(s.outfd[0], F_SETFL, O_NONBLOCK) < 0)
		goto out;
	/* A helper that died since the last request is replaced, once. */
	for (int tries = 0; tries < 2 && rc < 0; tries++) {
		if (spawn_helper_start() < 0)
			goto out;
		rc = spawn_send(buf, (size_t)len, s.outfd[1], reply[1]);
		if (rc < 0 && (errno == EPIPE || errno == ECONNRESET))
			spawn_helper_lost();
		else if (rc < 0)
			goto out;
	}
	if (rc == 0) {
		*outfd = s.outfd[0];
		*replyfd = reply[0];
		s.outfd[0] = reply[0] = -1;
	}
out:
	err = errno;
	for (int i = 0; i < 2; i++)
		if (reply[i] >= 0)
			close(reply[i]);
	spawn_free(&s);
	errno = err;
	return rc;
}

pid_t
spawn_reply(int replyfd)
{
	struct spawn_ans ans;
	ssize_t n;

	do
		n = read(replyfd, &ans, sizeof(ans));
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	if (n != (ssize_t)sizeof(ans)) {
		errno = EPIPE;
		return -1;
	}
	if (ans.pid < 0)
		errno = ans.err;
	return ans.pid;
}
