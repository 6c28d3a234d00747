/*
 * control.c - the control socket: an AF_UNIX stream listener in the loop.
 *
 * A client sends one line; it is split into words and handed to the
 * handler once. Replies go into a per-client buffer that is written as the
 * socket accepts it (EPOLLOUT only while something is pending), so a slow
 * or stuck vipctl never blocks the daemon. Like OpenBSD's daemons, we
 * refuse to start over a live daemon's socket and replace a stale one.
 *
 * There is one control socket per process, hence the file-scope state.
 */
#include "control.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "mem.h"
#include "loop.h"
#include "privs.h"

#define CTL_REQUEST_TIMEOUT_NS (5 * NS_PER_SEC)
#define CTL_MAX_CLIENTS        64
#define CTL_MAX_PENDING        (1024 * 1024) /* reply bytes a client may leave unread */
#define CTL_PAUSE_NS           NS_PER_SEC    /* accept() back-off when out of fds */

/*
 * Lifetime: a client is freed by the control code itself only while no
 * handler can hold it (before its request, or after ctl_end()). One whose
 * handler kept it (a reply still to come, a stream) and whose peer left
 * is "gone": its fd is closed, writes are dropped, and the struct waits
 * for the holder's ctl_end() (or control_close()).
 */
struct ctl_client {
	struct ctl_client *prev, *next;
	int fd;                /* -1 once gone */
	uint32_t events;       /* current epoll interest */
	char in[CTL_MAX_LINE]; /* the request line, until it is complete */
	size_t inlen;
	bool requested;  /* the handler has been called: ignore input */
	bool in_handler; /* the reader flushes when the handler returns */
	bool ending;     /* ctl_end(): close once flushed */
	struct buf out;
	struct timer *timeout; /* no complete request in time */
	ctl_gone_fn gone;      /* the holder's, called once when the peer leaves */
	void *gone_arg;
};

static struct {
	struct loop *loop;
	int fd; /* -1 when closed */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	ctl_handler fn;
	void *arg;
	struct ctl_client *clients;
	int nclients;
	struct timer *resume; /* re-enables accept() after a pause */
	/* At the client limit, since the last warning (ctl_refused_log()). */
	uint64_t refused, evicted;
	uint64_t refused_logged_ns;
} ctl = {.fd = -1};

static void
ctl_client_free(struct ctl_client *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		ctl.clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	ctl.nclients--;
	if (c->fd != -1) {
		loop_del_fd(ctl.loop, c->fd);
		close(c->fd);
	}
	timer_free(c->timeout);
	buf_free(&c->out);
	free(c);
}

/*
 * The peer left (or stopped reading). Free the client if nobody can hold
 * it, else close the connection and keep the struct until ctl_end().
 */
static void
ctl_drop(struct ctl_client *c)
{
	if (!c->requested || c->ending) {
		ctl_client_free(c);
		return;
	}
	loop_del_fd(ctl.loop, c->fd);
	close(c->fd);
	c->fd = -1;
	buf_free(&c->out);
	if (c->gone) {
		ctl_gone_fn fn = c->gone;

		c->gone = NULL;
		fn(c, c->gone_arg); /* may ctl_end(c), which frees it */
	}
}

/* EPOLLIN until the request is read, EPOLLOUT while output is pending. */
static void
ctl_update_events(struct ctl_client *c)
{
	uint32_t ev = 0;

	if (c->fd == -1)
		return;
	if (!c->requested)
		ev |= EPOLLIN;
	if (buf_pending(&c->out) || c->ending)
		ev |= EPOLLOUT;
	if (ev != c->events && loop_mod_fd(ctl.loop, c->fd, ev) == 0)
		c->events = ev;
}

/*
 * Write what the socket takes. Returns -1 if the client must not be
 * touched any more by the caller (freed, or gone), 0 otherwise.
 */
static int
ctl_flush(struct ctl_client *c)
{
	if (c->fd == -1) {
		if (c->ending)
			ctl_client_free(c);
		return -1;
	}
	while (buf_pending(&c->out)) {
		ssize_t n = send(c->fd, buf_head(&c->out), buf_pending(&c->out),
		                 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n > 0) {
			buf_consume(&c->out, (size_t)n);
		} else if (n == -1 && errno == EINTR) {
			continue;
		} else if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			break;
		} else {
			ctl_drop(c); /* EPIPE and co.: the client left */
			return -1;
		}
	}
	if (!buf_pending(&c->out) && c->ending) {
		ctl_client_free(c);
		return -1;
	}
	ctl_update_events(c);
	return 0;
}

/* Reply with an error of our own and close. */
static void
ctl_refuse(struct ctl_client *c, const char *msg)
{
	c->requested = true;
	timer_disarm(c->timeout);
	ctl_printf(c, "error: %s\n", msg);
	ctl_end(c);
}

int
ctl_split(char *line, char *argv[CTL_MAX_ARGS + 1], const char **why)
{
	int argc = 0;
	char *save = NULL;

	for (char *w = strtok_r(line, " \t\r", &save); w; w = strtok_r(NULL, " \t\r", &save)) {
		if (argc == CTL_MAX_ARGS) {
			*why = "too many arguments";
			return -1;
		}
		argv[argc++] = w;
	}
	argv[argc] = NULL;
	if (argc == 0) {
		*why = "empty request";
		return -1;
	}
	return argc;
}

/* Split a complete line into words and hand it to the handler, once. */
static int
ctl_request(struct ctl_client *c, char *line)
{
	char *argv[CTL_MAX_ARGS + 1];
	const char *why = NULL;
	int argc = ctl_split(line, argv, &why);

	if (argc < 0) {
		ctl_refuse(c, why);
		return ctl_flush(c);
	}
	c->requested = true;
	timer_disarm(c->timeout);
	/* The handler may reply and ctl_end() at once: we flush after it. */
	c->in_handler = true;
	ctl.fn(c, argc, argv, ctl.arg);
	c->in_handler = false;
	return ctl_flush(c);
}

/* Read until a full line; 0 if the client is still there, -1 if freed. */
static int
ctl_read(struct ctl_client *c)
{
	for (;;) {
		ssize_t n = read(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen);

		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n <= 0) {
			ctl_drop(c); /* EOF before a full line, or error */
			return -1;
		}
		char *nl = memchr(c->in + c->inlen, '\n', (size_t)n);

		c->inlen += (size_t)n;
		if (nl) {
			*nl = '\0';
			return ctl_request(c, c->in);
		}
		if (c->inlen == sizeof(c->in)) {
			ctl_refuse(c, "request too long");
			return ctl_flush(c);
		}
	}
}

static void
ctl_client_io(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct ctl_client *c = arg;

	(void)l;
	(void)fd;
	if ((events & EPOLLIN) && !c->requested && ctl_read(c) == -1)
		return;
	if (events & (EPOLLERR | EPOLLHUP)) {
		ctl_drop(c); /* the peer closed: nobody to answer */
		return;
	}
	if (events & EPOLLOUT)
		ctl_flush(c);
}

static void
ctl_client_timeout(struct loop *l, struct timer *t, void *arg)
{
	struct ctl_client *c = arg;

	(void)l;
	(void)t;
	ctl_refuse(c, "request timed out");
	ctl_flush(c);
}

/*
 * Clients refused or idle ones closed at the limit: said once a minute
 * with the counts since the last time, not once per connection (a
 * thousand connects made 816 lines).
 */
static void
ctl_refused_log(void)
{
	if (!log_ratelimit(&ctl.refused_logged_ns, mono_now_ns()))
		return;
	log_warnx("control: %d clients connected (the limit): %llu refused, %llu idle ones "
	          "closed since the last report (logged once a minute)",
	          CTL_MAX_CLIENTS, (unsigned long long)ctl.refused,
	          (unsigned long long)ctl.evicted);
	ctl.refused = ctl.evicted = 0;
}

static void
ctl_pause(void)
{
	loop_mod_fd(ctl.loop, ctl.fd, 0);
	timer_arm_in(ctl.resume, CTL_PAUSE_NS);
}

static void
ctl_resume(struct loop *l, struct timer *t, void *arg)
{
	(void)t;
	(void)arg;
	loop_mod_fd(l, ctl.fd, EPOLLIN);
}

static void
ctl_client_new(struct loop *l, int fd)
{
	struct ctl_client *c = xcalloc(1, sizeof(*c));

	c->fd = fd;
	c->events = EPOLLIN;
	buf_init(&c->out);
	if (loop_add_fd(l, fd, EPOLLIN, ctl_client_io, c) == -1) {
		log_warn("control: loop_add_fd");
		close(fd);
		free(c);
		return;
	}
	c->timeout = timer_new(l, ctl_client_timeout, c);
	timer_arm_in(c->timeout, CTL_REQUEST_TIMEOUT_NS);
	c->next = ctl.clients;
	if (ctl.clients)
		ctl.clients->prev = c;
	ctl.clients = c;
	ctl.nclients++;
}

/*
 * At the limit, a new client takes the place of the oldest one that has
 * not sent a complete request yet: idle connections (a stuck script, a
 * flood of connects) cannot lock vipctl out, while every request already
 * read (a reply being written, an event stream) is kept. A real vipctl
 * sends its request at once, so it is not the one that goes. False if
 * every client has a request in.
 */
static bool
ctl_evict_idle(void)
{
	static const char busy[] = "error: too many clients, closing the oldest idle one\n";
	struct ctl_client *c, *oldest = NULL;

	/* New clients go to the head: the last idle one in the list is the oldest. */
	for (c = ctl.clients; c; c = c->next)
		if (!c->requested && c->fd != -1)
			oldest = c;
	if (!oldest)
		return false;
	(void)send(oldest->fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
	ctl.evicted++;
	ctl_client_free(oldest);
	ctl_refused_log();
	return true;
}

/* Every client has a request in: refuse the new one. */
static void
ctl_busy(int cfd)
{
	static const char busy[] = "error: too many clients\n";

	/* Best effort: the socket buffer is empty, so this fits. */
	(void)send(cfd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
	close(cfd);
	ctl.refused++;
	ctl_refused_log();
}

static void
ctl_accept(struct loop *l, int fd, uint32_t events, void *arg)
{
	(void)events;
	(void)arg;
	for (;;) {
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (cfd == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			/*
			 * EMFILE and friends: the listener would stay readable
			 * and spin the loop, so stop accepting for a while.
			 */
			log_warn("control: accept");
			ctl_pause();
			return;
		}
		if (ctl.nclients >= CTL_MAX_CLIENTS && !ctl_evict_idle()) {
			ctl_busy(cfd);
			continue;
		}
		ctl_client_new(l, cfd);
	}
}

/* ---- opening ---- */

/*
 * The socket's directory, created 0755 if missing (the umask set around
 * mkdir(), never a chmod() by path afterwards). One that exists is
 * trusted only if nobody else could replace the socket in it: owned by
 * root or by the user vipd runs as (privs.h), and writable by neither
 * group nor others. Otherwise whoever owns it could put a socket of their
 * own in its place and answer root's vipctl (a fake status, a drain that
 * never happened). -1 with errno, and the reason in why.
 */
static int
ctl_mkparent(const char *path, char *why, size_t whysize)
{
	char tmp[sizeof(ctl.path)];
	struct stat st;
	uid_t run = privs_run_uid();
	const char *dir;
	mode_t old;
	int rc, fd;

	strcpy(tmp, path); /* length checked by the caller */
	dir = dirname(tmp);
	old = umask(0022);
	rc = mkdir(dir, 0755);
	umask(old);
	if (rc < 0 && errno != EEXIST) {
		snprintf(why, whysize, "cannot create %s: %s", dir, strerror(errno));
		return -1;
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		snprintf(why, whysize, "%s: %s", dir, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	if (st.st_uid != 0 && st.st_uid != run) {
		snprintf(why, whysize,
		         "directory %s is owned by uid %u, not by root or vipd's user: its owner "
		         "could replace the socket",
		         dir, (unsigned)st.st_uid);
		errno = EPERM;
		return -1;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(
		    why, whysize,
		    "directory %s has mode %04o, writable by %s: they could replace the socket",
		    dir, (unsigned)(st.st_mode & 07777),
		    st.st_mode & S_IWGRP ? (st.st_mode & S_IWOTH ? "group and others" : "group")
		                         : "others");
		errno = EPERM;
		return -1;
	}
	return 0;
}

/*
 * If something answers at path, a vipd runs there: EADDRINUSE. A socket
 * file nobody listens on is left over from a crash: remove it. Anything
 * else at path is not ours to remove.
 */
static int
ctl_probe(const struct sockaddr_un *sun)
{
	struct stat st;
	int fd, rc, err;

	if (lstat(sun->sun_path, &st) == -1)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISSOCK(st.st_mode)) {
		errno = EEXIST;
		return -1;
	}
	/* Non-blocking: a live daemon with a full backlog gives EAGAIN. */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	rc = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	err = errno;
	close(fd);
	if (rc == 0 || err == EAGAIN || err == EINPROGRESS) {
		errno = EADDRINUSE;
		return -1;
	}
	if (err == ENOENT)
		return 0;
	if (err != ECONNREFUSED) {
		errno = err;
		return -1;
	}
	if (unlink(sun->sun_path) == -1 && errno != ENOENT)
		return -1;
	return 0;
}

static int
ctl_listen(const struct sockaddr_un *sun)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	mode_t old;
	int rc, err;

	if (fd == -1)
		return -1;
	/*
	 * Created 0600 by bind() itself: no window where others may connect,
	 * and no chmod() by path afterwards, which would follow whatever
	 * was put at the path in between.
	 */
	old = umask(0177);
	rc = bind(fd, (const struct sockaddr *)sun, sizeof(*sun));
	umask(old);
	if (rc == -1 || listen(fd, 16) == -1) {
		err = errno;
		if (rc == 0)
			unlink(sun->sun_path);
		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

static char ctl_why[512];

const char *
control_error(void)
{
	return ctl_why[0] ? ctl_why : NULL;
}

int
control_open(struct loop *l, const char *path, ctl_handler fn, void *arg)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd, err;

	if (ctl.fd != -1) {
		errno = EALREADY;
		return -1;
	}
	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sun.sun_path, path);
	ctl_why[0] = '\0';
	if (ctl_mkparent(path, ctl_why, sizeof(ctl_why)) == -1 || ctl_probe(&sun) == -1)
		return -1;
	fd = ctl_listen(&sun);
	if (fd == -1)
		return -1;
	if (loop_add_fd(l, fd, EPOLLIN, ctl_accept, NULL) == -1) {
		err = errno;
		unlink(path);
		close(fd);
		errno = err;
		return -1;
	}
	ctl.loop = l;
	ctl.fd = fd;
	strcpy(ctl.path, path);
	ctl.fn = fn;
	ctl.arg = arg;
	ctl.resume = timer_new(l, ctl_resume, NULL);
	return 0;
}

void
control_close(struct loop *l)
{
	if (ctl.fd == -1)
		return;
	/* Last words (a stream's final events): what the socket takes now. */
	for (struct ctl_client *c = ctl.clients; c; c = c->next)
		if (c->fd != -1 && buf_pending(&c->out))
			(void)send(c->fd, buf_head(&c->out), buf_pending(&c->out),
			           MSG_NOSIGNAL | MSG_DONTWAIT);
	while (ctl.clients)
		ctl_client_free(ctl.clients);
	timer_free(ctl.resume);
	loop_del_fd(l, ctl.fd);
	close(ctl.fd);
	unlink(ctl.path);
	ctl.fd = -1;
	ctl.resume = NULL;
	ctl.loop = NULL;
}

/* ---- replies ---- */

/* After appending: enforce the output limit and ask for EPOLLOUT. */
static void
ctl_queued(struct ctl_client *c)
{
	if (buf_pending(&c->out) > CTL_MAX_PENDING) {
		log_warnx("control: a client reads too slowly, dropped");
		ctl_drop(c); /* its gone callback may free it: c is not touched after */
		return;
	}
	if (!c->in_handler)
		ctl_update_events(c);
}

void
ctl_write(struct ctl_client *c, const char *data, size_t len)
{
	if (c->ending || c->fd == -1)
		return;
	buf_append(&c->out, data, len);
	ctl_queued(c);
}

void
ctl_printf(struct ctl_client *c, const char *fmt, ...)
{
	va_list ap;

	if (c->ending || c->fd == -1)
		return;
	va_start(ap, fmt);
	buf_vprintf(&c->out, fmt, ap);
	va_end(ap);
	ctl_queued(c);
}

void
ctl_on_gone(struct ctl_client *c, ctl_gone_fn fn, void *arg)
{
	c->gone = fn;
	c->gone_arg = arg;
}

/*
 * Inside the handler, the reader flushes on return. Elsewhere a gone
 * client is freed now; a live one when its output is written.
 */
void
ctl_end(struct ctl_client *c)
{
	c->ending = true;
	if (c->in_handler)
		return;
	if (c->fd == -1)
		ctl_client_free(c);
	else
		ctl_update_events(c);
}
