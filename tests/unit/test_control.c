/*
 * test_control.c - the control socket: request parsing, replies (at once
 * and later, larger than the socket buffer), errors, socket file mode,
 * stale and live sockets.
 *
 * The client side runs in the same loop, so one thread plays both parts.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "vipd/buf.h"
#include "vipd/control.h"
#include "vipd/log.h"
#include "vipd/loop.h"

struct fixture {
	char dir[48];
	char path[100]; /* dir/run/vipd.sock: the parent is created */
	struct loop *loop;
	struct timer *guard; /* stops a test that would hang */
};

/* What the handler saw, and how it should answer. */
static struct {
	int calls;
	int argc;
	char argv[CTL_MAX_ARGS][64];
	enum { REPLY_NOW, REPLY_LATER, REPLY_STREAM } mode;
	struct ctl_client *held;
	int gone; /* gone callbacks seen */
	struct timer *later;
} h;

/* The test client, read in the loop until EOF. */
struct client {
	int fd;
	struct buf in;
	bool eof;
};

static void
guard_cb(struct loop *l, struct timer *t, void *arg)
{
	(void)t;
	(void)arg;
	loop_stop(l);
}

/* A stream's peer left: stop writing, end it (which frees it), stop the loop. */
static void
gone_cb(struct ctl_client *c, void *arg)
{
	assert_ptr_equal(c, arg);
	assert_ptr_equal(c, h.held);
	h.gone++;
	h.held = NULL;
	ctl_end(c);
}

static void
handler(struct ctl_client *c, int argc, char **argv, void *arg)
{
	(void)arg;
	h.calls++;
	h.argc = argc;
	for (int i = 0; i < argc; i++)
		snprintf(h.argv[i], sizeof(h.argv[i]), "%s", argv[i]);
	assert_null(argv[argc]);
	if (h.mode == REPLY_NOW) {
		ctl_printf(c, "ok %s %d\n", argv[0], argc);
		ctl_end(c);
	} else if (h.mode == REPLY_STREAM) {
		h.held = c; /* written to by the test until gone_cb */
		ctl_on_gone(c, gone_cb, c);
		ctl_printf(c, "hello\n");
	} else {
		h.held = c; /* answered by later_cb */
		timer_arm_in(h.later, NS_PER_MS);
	}
}

/* A reply far larger than the socket buffer, written over many passes. */
static void
later_cb(struct loop *l, struct timer *t, void *arg)
{
	(void)l;
	(void)t;
	(void)arg;
	for (int i = 0; i < 20000; i++)
		ctl_printf(h.held, "line %05d\n", i);
	ctl_end(h.held);
	h.held = NULL;
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	strcpy(f->dir, "/tmp/vipd-test-control-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/run/vipd.sock", f->dir);
	f->loop = loop_new();
	f->guard = timer_new(f->loop, guard_cb, NULL);
	memset(&h, 0, sizeof(h));
	h.later = timer_new(f->loop, later_cb, NULL);
	*state = f;
	return 0;
}

static int
rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	control_close(f->loop);
	loop_free(f->loop);
	nftw(f->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

static void
client_cb(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct client *c = arg;
	char b[4096];
	ssize_t n;

	(void)events;
	n = read(fd, b, sizeof(b));
	if (n > 0) {
		buf_append(&c->in, b, (size_t)n);
		return;
	}
	c->eof = true;
	loop_del_fd(l, fd);
	loop_stop(l);
}

static void
client_connect(struct fixture *f, struct client *c, const char *path)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};

	buf_init(&c->in);
	c->eof = false;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(c->fd >= 0);
	assert_int_equal(connect(c->fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	(void)f;
}

/* Send req, run the loop until the daemon closes, return the reply. */
static const char *
client_request(struct fixture *f, struct client *c, const char *req, size_t len)
{
	client_connect(f, c, f->path);
	assert_int_equal(send(c->fd, req, len, MSG_NOSIGNAL), (ssize_t)len);
	assert_int_equal(loop_add_fd(f->loop, c->fd, EPOLLIN, client_cb, c), 0);
	timer_arm_in(f->guard, 3 * NS_PER_SEC);
	assert_int_equal(loop_run(f->loop), 0);
	assert_true(c->eof);
	close(c->fd);
	return c->in.data ? c->in.data : "";
}

static void
test_request(void **state)
{
	struct fixture *f = *state;
	struct client c;
	struct stat st;
	char dir[160];

	assert_int_equal(control_open(f->loop, f->path, handler, NULL), 0);
	assert_int_equal(stat(f->path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	snprintf(dir, sizeof(dir), "%s/run", f->dir);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);

	assert_string_equal(client_request(f, &c, "status --json\n", 14), "ok status 2\n");
	assert_int_equal(h.calls, 1);
	assert_int_equal(h.argc, 2);
	assert_string_equal(h.argv[0], "status");
	assert_string_equal(h.argv[1], "--json");
	buf_free(&c.in);

	/* Blanks of any kind and amount, CRLF, and a second line ignored. */
	static const char req[] = "\t hooks  \t list \r\nstatus\n";
	assert_string_equal(client_request(f, &c, req, sizeof(req) - 1), "ok hooks 2\n");
	assert_int_equal(h.calls, 2);
	assert_string_equal(h.argv[1], "list");
	buf_free(&c.in);

	control_close(f->loop);
	assert_int_equal(stat(f->path, &st), -1);
	assert_int_equal(errno, ENOENT);
}

static void
test_reply_later(void **state)
{
	struct fixture *f = *state;
	struct client c;
	const char *r;

	h.mode = REPLY_LATER;
	assert_int_equal(control_open(f->loop, f->path, handler, NULL), 0);
	r = client_request(f, &c, "events\n", 7);
	assert_int_equal(h.calls, 1);
	assert_int_equal(strlen(r), 20000 * 11);
	assert_memory_equal(r, "line 00000\n", 11);
	assert_memory_equal(r + 19999 * 11, "line 19999\n", 11);
	buf_free(&c.in);
}

static void
test_errors(void **state)
{
	struct fixture *f = *state;
	struct client c;
	char big[CTL_MAX_LINE + 100];

	assert_int_equal(control_open(f->loop, f->path, handler, NULL), 0);

	memset(big, 'a', sizeof(big));
	assert_string_equal(client_request(f, &c, big, sizeof(big)), "error: request too long\n");
	buf_free(&c.in);

	static const char many[] = "a b c d e f g h i j k l m n o p q\n"; /* 17 words */
	assert_string_equal(client_request(f, &c, many, sizeof(many) - 1),
	                    "error: too many arguments\n");
	buf_free(&c.in);

	assert_string_equal(client_request(f, &c, " \n", 2), "error: empty request\n");
	buf_free(&c.in);
	assert_int_equal(h.calls, 0);

	/* Exactly CTL_MAX_ARGS words is fine. */
	static const char max[] = "a b c d e f g h i j k l m n o p\n";
	assert_string_equal(client_request(f, &c, max, sizeof(max) - 1), "ok a 16\n");
	buf_free(&c.in);
}

static int
count_fds(void)
{
	char p[64];
	int n = 0;

	for (int fd = 0; fd < 1024; fd++) {
		snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
		n += access(p, F_OK) == 0;
	}
	return n;
}

/*
 * Clients that leave without a request, halfway through one, or before
 * their (deferred) reply are closed at once; the one a handler holds
 * stays valid until its ctl_end().
 */
/* Run the loop for ms milliseconds. */
static void
pump(struct fixture *f, int ms)
{
	timer_arm_in(f->guard, (uint64_t)ms * NS_PER_MS);
	assert_int_equal(loop_run(f->loop), 0);
}

/*
 * 64 idle connections (connected, nothing sent) do not lock vipctl out:
 * the oldest idle one is closed with a message and the request is
 * answered. Once every client has a request in, a new one is refused.
 */
static void
test_idle_clients_do_not_lock_out(void **state)
{
	struct fixture *f = *state;
	struct client idle[64], c, s[64];
	char b[256];
	ssize_t n;

	assert_int_equal(control_open(f->loop, f->path, handler, NULL), 0);
	for (int i = 0; i < 64; i++) {
		client_connect(f, &idle[i], f->path);
		/* Accepted one by one, in order: the oldest is idle[0]. */
		pump(f, 1);
	}
	assert_string_equal(client_request(f, &c, "status\n", 7), "ok status 1\n");
	buf_free(&c.in);
	n = recv(idle[0].fd, b, sizeof(b) - 1, MSG_DONTWAIT);
	assert_true(n > 0);
	b[n] = '\0';
	assert_non_null(strstr(b, "too many clients"));
	assert_int_equal(recv(idle[0].fd, b, sizeof(b), MSG_DONTWAIT), 0);  /* closed */
	assert_int_equal(recv(idle[1].fd, b, sizeof(b), MSG_DONTWAIT), -1); /* still open */
	assert_int_equal(errno, EAGAIN);
	for (int i = 0; i < 64; i++)
		close(idle[i].fd);
	pump(f, 5);

	/* 64 streams: nothing idle to close, the 65th is refused. */
	h.mode = REPLY_STREAM;
	for (int i = 0; i < 64; i++) {
		client_connect(f, &s[i], f->path);
		assert_int_equal(send(s[i].fd, "events\n", 7, MSG_NOSIGNAL), 7);
		pump(f, 2);
	}
	assert_int_equal(h.calls, 65);
	h.mode = REPLY_NOW;
	assert_string_equal(client_request(f, &c, "status\n", 7), "error: too many clients\n");
	buf_free(&c.in);
	assert_int_equal(h.calls, 65);
	for (int i = 0; i < 64; i++)
		close(s[i].fd);
}

static void
test_hangup(void **state)
{
	struct fixture *f = *state;
	struct client c, d, e;
	int base;

	h.mode = REPLY_LATER;
	assert_int_equal(control_open(f->loop, f->path, handler, NULL), 0);
	base = count_fds();
	client_connect(f, &c, f->path);
	close(c.fd);
	client_connect(f, &d, f->path);
	assert_int_equal(send(d.fd, "x", 1, 0), 1); /* half a request */
	close(d.fd);
	client_connect(f, &e, f->path);
	assert_int_equal(send(e.fd, "events\n", 7, 0), 7);
	close(e.fd);
	timer_arm_in(f->guard, 20 * NS_PER_MS);
	assert_int_equal(loop_run(f->loop), 0);
	assert_int_equal(h.calls, 1);
	assert_null(h.held); /* later_cb wrote to it and ended it */
	assert_int_equal(count_fds(), base);
}

/* Run the loop for ms milliseconds. */
static void
run_for(struct fixture *f, unsigned ms)
{
	timer_arm_in(f->guard, ms * NS_PER_MS);
	assert_int_equal(loop_run(f->loop), 0);
}

/*
 * A stream (a client the handler keeps): its holder hears once when the
 * peer closes, even with nothing to write, and when it reads too slowly
 * (more than 1 MiB unread). No fd or memory is left behind (ASan).
 */
static void
test_stream_gone(void **state)
{
	struct fixture *f = *state;
	struct client c;
	char line[64];
	int base;

	h.mode = REPLY_STREAM;
	assert_int_equal(control_open(f->loop, f->path, handler, NULL), 0);
	base = count_fds();

	/* The peer closes while the stream is idle. */
	client_connect(f, &c, f->path);
	assert_int_equal(send(c.fd, "events\n", 7, 0), 7);
	run_for(f, 20);
	assert_non_null(h.held);
	assert_int_equal(read(c.fd, line, sizeof(line)), 6); /* "hello\n" */
	close(c.fd);
	run_for(f, 20);
	assert_int_equal(h.gone, 1);
	assert_null(h.held);
	assert_int_equal(count_fds(), base);

	/* The peer never reads: dropped past the limit, from inside ctl_write(). */
	client_connect(f, &c, f->path);
	assert_int_equal(send(c.fd, "events\n", 7, 0), 7);
	run_for(f, 20);
	memset(line, 'x', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\n';
	for (int i = 0; i < 4 * 1024 * 1024 / 64 && h.held; i++) {
		ctl_write(h.held, line, sizeof(line));
		if (i % 256 == 0)
			run_for(f, 0);
	}
	assert_int_equal(h.gone, 2);
	assert_null(h.held);
	close(c.fd);
	run_for(f, 20);
	assert_int_equal(h.gone, 2); /* once only */
	assert_int_equal(count_fds(), base);
}

static void
test_stale_socket(void **state)
{
	struct fixture *f = *state;
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	char dir[160];
	struct client c;
	int fd;

	snprintf(dir, sizeof(dir), "%s/run", f->dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", f->path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(fd); /* the file stays, nobody listens: a crashed daemon's */

	assert_int_equal(control_open(f->loop, f->path, handler, NULL), 0);
	assert_string_equal(client_request(f, &c, "status\n", 7), "ok status 1\n");
	buf_free(&c.in);
}

static void
test_live_socket(void **state)
{
	struct fixture *f = *state;
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	char dir[160];
	struct stat st;
	int fd;

	snprintf(dir, sizeof(dir), "%s/run", f->dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", f->path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(listen(fd, 1), 0);

	errno = 0;
	assert_int_equal(control_open(f->loop, f->path, handler, NULL), -1);
	assert_int_equal(errno, EADDRINUSE);
	assert_int_equal(stat(f->path, &st), 0); /* left alone */
	close(fd);
}

static void
test_not_a_socket(void **state)
{
	struct fixture *f = *state;
	char dir[160];
	int fd;

	snprintf(dir, sizeof(dir), "%s/run", f->dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	fd = open(f->path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(control_open(f->loop, f->path, handler, NULL), -1);
	assert_int_equal(errno, EEXIST);
	assert_int_equal(access(f->path, F_OK), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_request, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reply_later, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_idle_clients_do_not_lock_out, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hangup, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stream_gone, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stale_socket, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_live_socket, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_not_a_socket, setup, teardown),
	};

	log_init("test_control", true, LOGL_WARNING);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
