/*
 * tcp.c - "tcp" checks: up when a TCP connection to address:port is
 * established within the timeout. The connect is non-blocking and
 * completes in the loop (EPOLLOUT, then SO_ERROR), so a host that drops
 * SYNs costs nothing but the timeout. Nothing is sent: the connection is
 * closed as soon as it is established.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "checks/check.h"
#include "vipd/log.h"
#include "vipd/mem.h"
#include "vipd/loop.h"

struct tcp_priv {
	int fd; /* -1 between runs */
};

static int
tcp_open(struct check *c)
{
	struct tcp_priv *p = xcalloc(1, sizeof(*p));

	p->fd = -1;
	check_set_priv(c, p);
	return 0;
}

static void
tcp_close_fd(struct check *c)
{
	struct tcp_priv *p = check_priv(c);

	if (p->fd < 0)
		return;
	loop_del_fd(check_loop(c), p->fd);
	close(p->fd);
	p->fd = -1;
}

static void
tcp_close(struct check *c)
{
	tcp_close_fd(c);
	free(check_priv(c));
	check_set_priv(c, NULL);
}

static socklen_t
tcp_sockaddr(const struct conf_check *cc, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (cc->tcp_family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_addr = cc->tcp_addr.v6;
		s6->sin6_port = htons(cc->tcp_port);
		return sizeof(*s6);
	}
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

	s4->sin_family = AF_INET;
	s4->sin_addr = cc->tcp_addr.v4;
	s4->sin_port = htons(cc->tcp_port);
	return sizeof(*s4);
}

/* The connect finished one way or the other: SO_ERROR says which. */
static void
tcp_io_cb(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct check *c = arg;
	int err = 0;
	socklen_t len = sizeof(err);

	(void)l;
	(void)events;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	tcp_close_fd(c);
	/* Last: check_done() may end in watchers that do anything. */
	if (err == 0)
		check_done(c, true, "connected");
	else
		check_done(c, false, "%s", strerror(err));
}

static void
tcp_run(struct check *c)
{
	const struct conf_check *cc = check_conf(c);
	struct tcp_priv *p = check_priv(c);
	struct sockaddr_storage ss;
	socklen_t sslen = tcp_sockaddr(cc, &ss);
	int fd;

	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		check_done(c, false, "socket: %s", strerror(errno));
		return;
	}
	if (connect(fd, (struct sockaddr *)&ss, sslen) == 0) {
		close(fd); /* loopback may connect at once */
		check_done(c, true, "connected");
		return;
	}
	if (errno != EINPROGRESS) {
		int err = errno;

		close(fd);
		check_done(c, false, "%s", strerror(err));
		return;
	}
	if (loop_add_fd(check_loop(c), fd, EPOLLOUT, tcp_io_cb, c) == -1) {
		int err = errno;

		close(fd);
		check_done(c, false, "epoll: %s", strerror(err));
		return;
	}
	p->fd = fd;
}

static void
tcp_abort(struct check *c)
{
	tcp_close_fd(c);
}

const struct check_ops check_tcp_ops = {
    .open = tcp_open,
    .run = tcp_run,
    .abort = tcp_abort,
    .close = tcp_close,
};
