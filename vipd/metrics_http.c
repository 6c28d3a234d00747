/*
 * metrics_http.c - GET /metrics over HTTP with libmicrohttpd, inside
 * vipd's event loop (see metrics_http.h).
 *
 * Why libmicrohttpd: it is a maintained, widely packaged embedded HTTP
 * server (GNU, Debian's libmicrohttpd12) that can be driven by the
 * caller's own poll loop through one epoll fd and a timeout, starts no
 * thread in that mode, and enforces connection limits, per-address limits,
 * idle timeouts and a request memory limit itself. Those limits are what
 * keeps a slowloris or a thousand idle connections from costing vipd an
 * advert; a hand-written HTTP parser would have to get them all right
 * again. It is loaded with dlopen() only when metrics_listen is set, so a
 * vipd without metrics maps none of it.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "buf.h"
#include "log.h"
#include "loop.h"
#include "metrics_http.h"
#include "checks/dl.h"

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

static struct {
	const struct dl_mhd *api;
	struct MHD_Daemon *mhd;
	struct loop *loop;
	struct timer *timer;
	int epfd;
	metrics_render_fn render;
	void *arg;
} srv = {.epfd = -1};

int
metrics_listen_parse(const char *s, struct sockaddr_storage *ss, socklen_t *len, const char **why)
{
	char host[METRICS_LISTEN_MAX];
	const char *colon, *h = s;
	size_t hlen;
	char *end;

	memset(ss, 0, sizeof(*ss));
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');

		if (!rb || rb[1] != ':') {
			*why = "must be ADDR:PORT, an IPv6 address as [ADDR]:PORT";
			return -1;
		}
		h = s + 1;
		hlen = (size_t)(rb - h);
		colon = rb + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || strchr(s, ':') != colon) {
			*why = colon ? "an IPv6 address goes in brackets: [ADDR]:PORT"
			             : "must be ADDR:PORT";
			return -1;
		}
		hlen = (size_t)(colon - s);
	}
	if (hlen == 0 || hlen >= sizeof(host)) {
		*why = "must be ADDR:PORT";
		return -1;
	}
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	unsigned long port = strtoul(colon + 1, &end, 10);
	if (!colon[1] || *end || colon[1] == '-' || colon[1] == '+' || port < 1 || port > 65535) {
		*why = "the port must be 1..65535";
		return -1;
	}
	if (s[0] == '[') {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

		if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1) {
			*why = "not an IPv6 address in the brackets";
			return -1;
		}
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		*len = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		if (inet_pton(AF_INET, host, &a->sin_addr) != 1) {
			*why = "not an IPv4 address (an IPv6 one goes in brackets)";
			return -1;
		}
		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)port);
		*len = sizeof(*a);
	}
	return 0;
}

/* A canned answer: status code, body, and an optional extra header. */
static enum MHD_Result
reply(struct MHD_Connection *conn, unsigned code, const char *body, size_t len, const char *hdr,
      const char *val)
{
	struct MHD_Response *r =
	    srv.api->create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO; /* out of memory: MHD closes the connection */
	srv.api->add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	                             code == MHD_HTTP_OK ? METRICS_CONTENT_TYPE : "text/plain");
	if (hdr)
		srv.api->add_response_header(r, hdr, val);
	ret = srv.api->queue_response(conn, code, r);
	srv.api->destroy_response(r);
	return ret;
}

/*
 * Every request: GET (or HEAD) /metrics gets the text, rendered now;
 * another path 404, another method 405. A request body is never read:
 * the answer is queued at the first call, and MHD closes the connection
 * after it rather than read what the client still sends.
 */
static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
           const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	static const char nf[] = "not found: vipd serves /metrics only\n";
	static const char na[] = "method not allowed: GET /metrics\n";
	enum MHD_Result ret;
	struct buf b;

	(void)cls;
	(void)version;
	(void)upload_data;
	(void)upload_data_size;
	(void)con_cls;
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, na, sizeof(na) - 1, "Allow",
		             "GET, HEAD");
	if (strcmp(url, "/metrics") != 0)
		return reply(conn, MHD_HTTP_NOT_FOUND, nf, sizeof(nf) - 1, NULL, NULL);
	buf_init(&b);
	srv.render(&b, srv.arg);
	ret = reply(conn, MHD_HTTP_OK, b.data ? b.data : "", b.len, NULL, NULL);
	buf_free(&b);
	return ret;
}

/* What a client can make MHD say (a bad request, a reset) goes to debug only. */
static void
on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char s[256];

	(void)cls;
	if (log_get_level() < LOGL_DEBUG)
		return;
	vsnprintf(s, sizeof(s), fmt, ap);
	s[strcspn(s, "\n")] = '\0';
	log_debug("metrics: %s", s);
}

/* Let MHD do what is ready, then arm the timer for what it waits on. */
static void
mhd_turn(void)
{
	MHD_UNSIGNED_LONG_LONG ms;

	srv.api->run(srv.mhd);
	if (srv.api->get_timeout(srv.mhd, &ms) == MHD_YES)
		timer_arm_in(srv.timer, (uint64_t)ms * NS_PER_MS);
	else
		timer_disarm(srv.timer);
}

static void
on_epoll(struct loop *l, int fd, uint32_t events, void *arg)
{
	(void)l;
	(void)fd;
	(void)events;
	(void)arg;
	mhd_turn();
}

static void
on_timer(struct loop *l, struct timer *t, void *arg)
{
	(void)l;
	(void)t;
	(void)arg;
	mhd_turn();
}

int
metrics_http_open(struct loop *l, const char *listen, metrics_render_fn render, void *arg,
                  char *err, size_t errsize)
{
	struct sockaddr_storage ss;
	const union MHD_DaemonInfo *info;
	const char *why;
	socklen_t len;

	if (metrics_listen_parse(listen, &ss, &len, &why) < 0) {
		snprintf(err, errsize, "metrics_listen %s: %s", listen, why);
		return -1;
	}
	if (!(srv.api = dl_mhd(err, errsize)))
		return -1;
	srv.render = render;
	srv.arg = arg;
	srv.loop = l;
	/* No thread: MHD_USE_EPOLL without MHD_USE_INTERNAL_POLLING_THREAD. */
	srv.mhd = srv.api->start_daemon(
	    MHD_USE_EPOLL | MHD_USE_ERROR_LOG | (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0), 0,
	    NULL, NULL, on_request, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)METRICS_CONN_LIMIT,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)METRICS_PER_IP_LIMIT,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)METRICS_TIMEOUT_S,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)METRICS_MEMORY_LIMIT,
	    MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL, MHD_OPTION_END);
	if (!srv.mhd) {
		snprintf(err, errsize, "metrics_listen %s: cannot listen (in use, or not local?)",
		         listen);
		return -1;
	}
	info = srv.api->get_daemon_info(srv.mhd, MHD_DAEMON_INFO_EPOLL_FD);
	if (!info || info->epoll_fd < 0 ||
	    loop_add_fd(l, info->epoll_fd, EPOLLIN, on_epoll, NULL) < 0) {
		snprintf(err, errsize, "metrics_listen %s: cannot watch libmicrohttpd's epoll fd",
		         listen);
		srv.api->stop_daemon(srv.mhd);
		srv.mhd = NULL;
		return -1;
	}
	srv.epfd = info->epoll_fd;
	srv.timer = timer_new(l, on_timer, NULL);
	mhd_turn();
	log_info("serving metrics on http://%s/metrics", listen);
	return 0;
}

void
metrics_http_close(struct loop *l)
{
	if (!srv.mhd)
		return;
	loop_del_fd(l, srv.epfd);
	timer_free(srv.timer);
	srv.api->stop_daemon(srv.mhd); /* closes its epoll fd and every socket */
	srv.mhd = NULL;
	srv.timer = NULL;
	srv.epfd = -1;
}
