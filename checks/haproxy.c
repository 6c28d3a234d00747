/*
 * haproxy.c - HAProxy liveness through its stats socket, without a fork.
 *
 * A run connects to the stats socket (AF_UNIX, non-blocking), sends one
 * line and reads the reply to EOF: outside its interactive "prompt" mode,
 * HAProxy's CLI runs the line's commands (';'-separated) and closes. "show
 * info" answered by the worker proves the process serves its event loop,
 * which a TCP connect (completed by the kernel) or kill(pid, 0) cannot.
 * With a backend, "show stat BACKEND 4 -1" adds that backend's server
 * rows (type 4 = servers, -1 = all of them) as CSV, and at least one of
 * them must be UP.
 *
 * A socket that accepts and never answers just keeps the run waiting; the
 * engine's timeout aborts it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "checks/check.h"
#include "vipd/buf.h"
#include "vipd/log.h"
#include "vipd/mem.h"
#include "vipd/loop.h"

#define HAP_REPLY_MAX  (256 * 1024) /* a stats reply larger than this is refused */
#define HAP_STATUS_COL 17           /* "status" in "show stat" CSV, if no header says */

struct hap_run {
	struct check *c;
	int fd;
	bool connected;
	char req[128]; /* the command line */
	size_t reqlen, sent;
	struct buf reply;
};

/* The tallies of "show stat" rows for our backend. */
struct hap_stat {
	bool header; /* the CSV header came: the backend exists */
	unsigned servers, up;
};

static void
hap_stop(struct check *c)
{
	struct hap_run *r = check_priv(c);

	if (!r)
		return;
	check_set_priv(c, NULL);
	if (r->fd != -1) {
		loop_del_fd(check_loop(c), r->fd);
		close(r->fd);
	}
	buf_free(&r->reply);
	free(r);
}

/* End the run with a result: free it first, check_done() last. */
static void
hap_finish(struct hap_run *r, bool ok, const char *reason)
{
	struct check *c = r->c;
	char copy[256];

	snprintf(copy, sizeof(copy), "%s", reason);
	hap_stop(c);
	check_done(c, ok, "%s", copy);
}

static void
hap_fail_errno(struct hap_run *r, const char *what)
{
	char reason[256];

	snprintf(reason, sizeof(reason), "%s %s: %s", what, check_conf(r->c)->socket,
	         strerror(errno));
	hap_finish(r, false, reason);
}

/* Backend names are HAProxy identifiers; anything else could inject commands. */
static bool
hap_name_ok(const char *s)
{
	return s[0] != '\0' && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                                 "0123456789-_.:") == strlen(s);
}

/* The index of column `name` in a "# pxname,svname,..." header, or -1. */
static int
hap_column(const char *header, const char *name)
{
	const char *p = header + 2; /* past "# " */
	size_t n = strlen(name);

	for (int i = 0; p; i++) {
		if (strncmp(p, name, n) == 0 && (p[n] == ',' || p[n] == '\0'))
			return i;
		p = strchr(p, ',');
		if (p)
			p++;
	}
	return -1;
}

/* Split a CSV row in place into at most `max` fields; returns the count. */
static int
hap_fields(char *line, char **f, int max)
{
	int n = 0;

	while (n < max) {
		f[n++] = line;
		line = strchr(line, ',');
		if (!line)
			break;
		*line++ = '\0';
	}
	return n;
}

/* Tally the server rows of "show stat" (lines after "show info"'s). */
static void
hap_parse_stat(char *text, const char *backend, struct hap_stat *st)
{
	int status = HAP_STATUS_COL;
	char *save = NULL;

	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *f[HAP_STATUS_COL * 4];
		int n;

		if (strncmp(line, "# pxname,", 9) == 0) {
			int col = hap_column(line, "status");

			st->header = true;
			if (col > 1 && col < (int)(sizeof(f) / sizeof(f[0])))
				status = col;
			continue;
		}
		if (!st->header)
			continue;
		n = hap_fields(line, f, status + 1);
		if (n <= status || strcmp(f[0], backend) != 0 || strcmp(f[1], "FRONTEND") == 0 ||
		    strcmp(f[1], "BACKEND") == 0)
			continue;
		st->servers++;
		if (strncmp(f[status], "UP", 2) == 0)
			st->up++;
	}
}

/* The value of "Key: value" in the info block, or NULL. */
static const char *
hap_info(const char *info, const char *key, char *val, size_t size)
{
	size_t n = strlen(key);

	for (const char *p = info; *p;) {
		if (strncmp(p, key, n) == 0 && p[n] == ':' && p[n + 1] == ' ') {
			size_t len = strcspn(p + n + 2, "\n");

			snprintf(val, size, "%.*s", (int)len, p + n + 2);
			return val;
		}
		p += strcspn(p, "\n");
		if (*p)
			p++;
	}
	return NULL;
}

bool
haproxy_verdict(const struct conf_check *cc, char *text, char *reason, size_t size)
{
	char *stat = strstr(text, "\n\n");
	char name[32], pid[32], stopping[8];
	struct hap_stat st = {0};

	if (stat) {
		stat[1] = '\0'; /* the info block keeps its last newline */
		stat += 2;
	}
	if (!hap_info(text, "Name", name, sizeof(name)) || strcmp(name, "HAProxy") != 0 ||
	    !hap_info(text, "Pid", pid, sizeof(pid))) {
		snprintf(reason, size, "unexpected reply: %.*s", (int)strcspn(text, "\n"), text);
		return false;
	}
	if (hap_info(text, "Stopping", stopping, sizeof(stopping)) && strcmp(stopping, "1") == 0) {
		snprintf(reason, size, "haproxy is stopping");
		return false;
	}
	if (cc->backend[0] == '\0') {
		snprintf(reason, size, "haproxy answers (pid %s)", pid);
		return true;
	}
	if (stat)
		hap_parse_stat(stat, cc->backend, &st);
	if (!st.header)
		snprintf(reason, size, "no such backend %s", cc->backend);
	else if (st.up == 0)
		snprintf(reason, size, "no UP server in backend %s (0/%u)", cc->backend,
		         st.servers);
	else
		snprintf(reason, size, "%u/%u servers UP in %s", st.up, st.servers, cc->backend);
	return st.header && st.up > 0;
}

/* Read what is there; at EOF, judge the reply. */
static void
hap_read(struct hap_run *r)
{
	char chunk[16384], reason[256];
	ssize_t n;

	while ((n = recv(r->fd, chunk, sizeof(chunk), 0)) > 0) {
		if (r->reply.len + (size_t)n > HAP_REPLY_MAX) {
			hap_finish(r, false, "reply longer than 256 KiB");
			return;
		}
		buf_append(&r->reply, chunk, (size_t)n);
	}
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n == -1) {
		hap_fail_errno(r, "read from");
		return;
	}
	buf_append(&r->reply, "", 1); /* NUL-terminate */
	bool ok = haproxy_verdict(check_conf(r->c), r->reply.data, reason, sizeof(reason));
	hap_finish(r, ok, reason);
}

/* Connected (or connecting): send the command line, then wait for the reply. */
static void
hap_write(struct hap_run *r)
{
	int err = 0;
	socklen_t len = sizeof(err);
	ssize_t n;

	if (!r->connected) {
		if (getsockopt(r->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1 || err != 0) {
			errno = err ? err : errno;
			hap_fail_errno(r, "connect to");
			return;
		}
		r->connected = true;
	}
	n = send(r->fd, r->req + r->sent, r->reqlen - r->sent, MSG_NOSIGNAL);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n == -1) {
		hap_fail_errno(r, "write to");
		return;
	}
	r->sent += (size_t)n;
	if (r->sent == r->reqlen && loop_mod_fd(check_loop(r->c), r->fd, EPOLLIN) == -1)
		hap_fail_errno(r, "watch");
}

static void
hap_io_cb(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct hap_run *r = arg;

	(void)l;
	(void)fd;
	if (r->sent < r->reqlen)
		hap_write(r);
	else if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		hap_read(r);
}

/* Socket, non-blocking connect, watch. 0, or -1 after hap_finish(). */
static int
hap_connect(struct hap_run *r)
{
	const char *path = check_conf(r->c)->socket;
	struct sockaddr_un sun = {.sun_family = AF_UNIX};

	if (strlen(path) >= sizeof(sun.sun_path)) {
		hap_finish(r, false, "stats socket path too long");
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	r->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (r->fd == -1) {
		hap_fail_errno(r, "socket for");
		return -1;
	}
	/* AF_UNIX connects at once or fails (EAGAIN: HAProxy's backlog is full). */
	if (connect(r->fd, (struct sockaddr *)&sun, sizeof(sun)) == 0)
		r->connected = true;
	else if (errno != EINPROGRESS) {
		hap_fail_errno(r, "connect to");
		return -1;
	}
	if (loop_add_fd(check_loop(r->c), r->fd, EPOLLOUT, hap_io_cb, r) == -1) {
		hap_fail_errno(r, "watch");
		return -1;
	}
	return 0;
}

static void
haproxy_run(struct check *c)
{
	const struct conf_check *cc = check_conf(c);
	struct hap_run *r;

	if (cc->backend[0] && !hap_name_ok(cc->backend)) {
		check_done(c, false, "invalid backend name");
		return;
	}
	r = xcalloc(1, sizeof(*r));
	r->c = c;
	r->fd = -1;
	buf_init(&r->reply);
	if (cc->backend[0])
		snprintf(r->req, sizeof(r->req), "show info;show stat %s 4 -1\n", cc->backend);
	else
		snprintf(r->req, sizeof(r->req), "show info\n");
	r->reqlen = strlen(r->req);
	check_set_priv(c, r);
	hap_connect(r);
}

static void
haproxy_abort(struct check *c)
{
	hap_stop(c);
}

const struct check_ops check_haproxy_ops = {
    .run = haproxy_run,
    .abort = haproxy_abort,
};
