/*
 * test_http_pg_haproxy.c - the http, pgsql and haproxy checks under the
 * real engine and loop, against in-process loopback responders served by
 * the same loop: a tiny HTTP server (like Patroni's /primary), a fake
 * PostgreSQL speaking just enough of protocol 3.0 to answer
 * "SELECT pg_is_in_recovery()", and fake HAProxy stats sockets. Each can
 * also accept and never answer, which the check must survive without
 * blocking until the engine's timeout aborts it. The real servers are
 * exercised by tests/net.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/unit/fakepg.h"
#include "tests/unit/testutil.h"

#include "checks/check.h"
#include "vipd/buf.h"
#include "vipd/log.h"
#include "vipd/loop.h"

#define MS        NS_PER_MS
#define MAX_CONNS 8

enum kind { R_HTTP, R_PG, R_STATS };

struct responder;

struct conn {
	struct responder *r;
	int fd; /* -1: free slot */
	char in[4096];
	size_t len;
	bool started; /* pg: past the startup packet */
};

struct responder {
	struct loop *l;
	enum kind kind;
	int lfd;
	uint16_t port;      /* TCP kinds */
	char path[108];     /* R_STATS: unix socket */
	bool silent;        /* accept, read, never answer */
	char pg_answer;     /* R_PG: 't' / 'f' */
	const char *reply;  /* R_STATS: the canned reply */
	char last_req[256]; /* R_STATS: the command line received */
	struct conn conns[MAX_CONNS];
};

/* ---- the responders ---- */

static void
conn_close(struct conn *c)
{
	if (c->fd == -1)
		return;
	loop_del_fd(c->r->l, c->fd);
	close(c->fd);
	c->fd = -1;
}

static void
conn_send(struct conn *c, const void *data, size_t len)
{
	assert_int_equal(write(c->fd, data, len), (ssize_t)len);
}

static void
http_serve(struct conn *c)
{
	char head[256];
	bool head_only = strncmp(c->in, "GET ", 4) != 0;
	const char *body = "{\"state\": \"running\", \"role\": \"replica\"}";
	int status = 503;

	if (!strstr(c->in, "\r\n\r\n"))
		return;
	if (strstr(c->in, " /primary ")) {
		status = 200;
		body = "{\"state\": \"running\", \"role\": \"primary\"}";
	}
	snprintf(head, sizeof(head), "HTTP/1.1 %d X\r\nContent-Length: %zu\r\n\r\n", status,
	         strlen(body));
	conn_send(c, head, strlen(head));
	if (!head_only)
		conn_send(c, body, strlen(body));
	conn_close(c);
}

static void
stats_serve(struct conn *c)
{
	struct responder *r = c->r;

	if (!memchr(c->in, '\n', c->len))
		return;
	snprintf(r->last_req, sizeof(r->last_req), "%.*s", (int)c->len, c->in);
	conn_send(c, r->reply, strlen(r->reply));
	conn_close(c);
}

static void
pg_answer_query(struct conn *c)
{
	char answer[2] = {c->r->pg_answer, '\0'};
	struct buf b;

	buf_init(&b);
	tu_pg_one_row(&b, "pg_is_in_recovery", answer);
	conn_send(c, b.data, b.len);
	buf_free(&b);
}

/* One complete message at the head of c->in, or 0. */
static size_t
pg_one(struct conn *c)
{
	size_t hdr = c->started ? 5 : 4;
	uint32_t n;

	if (c->len < hdr)
		return 0;
	memcpy(&n, c->in + hdr - 4, 4);
	n = ntohl(n) + (uint32_t)hdr - 4;
	if (c->len < n)
		return 0;
	if (!c->started && n == 8) {
		conn_send(c, "N", 1); /* no SSL, no GSS encryption */
	} else if (!c->started) {
		struct buf b;

		buf_init(&b);
		tu_pg_auth_ok(&b);
		conn_send(c, b.data, b.len);
		buf_free(&b);
		c->started = true;
	} else if (c->in[0] == 'Q') {
		pg_answer_query(c);
	}
	return n;
}

static void
pg_serve(struct conn *c)
{
	size_t n;

	while (c->fd != -1 && (n = pg_one(c)) > 0) {
		memmove(c->in, c->in + n, c->len - n);
		c->len -= n;
	}
}

static void
conn_cb(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct conn *c = arg;
	ssize_t n = read(fd, c->in + c->len, sizeof(c->in) - 1 - c->len);

	(void)l;
	(void)events;
	if (n <= 0) {
		conn_close(c);
		return;
	}
	c->len += (size_t)n;
	c->in[c->len] = '\0';
	if (c->r->silent)
		return;
	if (c->r->kind == R_HTTP)
		http_serve(c);
	else if (c->r->kind == R_PG)
		pg_serve(c);
	else
		stats_serve(c);
}

static void
accept_cb(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct responder *r = arg;
	int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	(void)events;
	if (cfd == -1)
		return;
	for (int i = 0; i < MAX_CONNS; i++) {
		struct conn *c = &r->conns[i];

		if (c->fd != -1)
			continue;
		*c = (struct conn){.r = r, .fd = cfd};
		assert_int_equal(loop_add_fd(l, cfd, EPOLLIN, conn_cb, c), 0);
		return;
	}
	close(cfd);
}

static void
responder_listen(struct responder *r, int fd, struct sockaddr *sa, socklen_t len)
{
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, sa, len), 0);
	assert_int_equal(listen(fd, 16), 0);
	r->lfd = fd;
	for (int i = 0; i < MAX_CONNS; i++)
		r->conns[i].fd = -1;
	assert_int_equal(loop_add_fd(r->l, fd, EPOLLIN, accept_cb, r), 0);
}

static void
responder_tcp(struct responder *r, struct loop *l, enum kind kind)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sin);

	*r = (struct responder){.l = l, .kind = kind};
	responder_listen(r, socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0),
	                 (struct sockaddr *)&sin, sizeof(sin));
	assert_int_equal(getsockname(r->lfd, (struct sockaddr *)&sin, &len), 0);
	r->port = ntohs(sin.sin_port);
}

static void
responder_unix(struct responder *r, struct loop *l, const char *reply)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};

	*r = (struct responder){.l = l, .kind = R_STATS, .reply = reply};
	snprintf(r->path, sizeof(r->path), "/tmp/vipd-test-stats.%d.sock", (int)getpid());
	unlink(r->path);
	memcpy(sun.sun_path, r->path, sizeof(r->path));
	responder_listen(r, socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0),
	                 (struct sockaddr *)&sun, sizeof(sun));
}

static void
responder_stop(struct responder *r)
{
	for (int i = 0; i < MAX_CONNS; i++)
		conn_close(&r->conns[i]);
	loop_del_fd(r->l, r->lfd);
	close(r->lfd);
	if (r->path[0])
		unlink(r->path);
}

/* A TCP port on loopback that nobody listens on (bound, then closed). */
static uint16_t
closed_port(void)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	close(fd);
	return ntohs(sin.sin_port);
}

/* ---- running a check once ---- */

struct outcome {
	int results;
	enum check_state state;
	char reason[256];
	unsigned ticks; /* of a 10 ms ticker while the check ran */
};

static void
notify_cb(struct check *c, void *arg)
{
	struct outcome *o = arg;
	struct buf b;
	const char *p, *e;

	o->results++;
	o->state = check_get_state(c);
	buf_init(&b);
	check_status_json(c, &b);
	p = strstr(b.data, "\"reason\":\"");
	e = p ? strstr(p, "\",\"duration_ms\"") : NULL;
	if (p && e)
		snprintf(o->reason, sizeof(o->reason), "%.*s", (int)(e - p - 10), p + 10);
	buf_free(&b);
	loop_stop(check_loop(c));
}

static void
guard_cb(struct loop *l, struct timer *t, void *arg)
{
	(void)t;
	*(bool *)arg = true;
	loop_stop(l);
}

/* Start a check and run the loop until its first result (5 s at most). */
static struct outcome
run_once(struct loop *l, const struct conf_check *cc)
{
	struct outcome o = {0};
	struct check *c = check_new(l, cc);
	struct tu_ticker tick;
	bool expired = false;
	struct timer *guard = timer_new(l, guard_cb, &expired);

	assert_non_null(c);
	tu_ticker_start(l, &tick, 10 * MS);
	timer_arm_in(guard, 5 * NS_PER_SEC);
	assert_int_equal(check_watch(c, notify_cb, &o), 0);
	assert_int_equal(check_start(c), 0);
	loop_run(l);
	assert_false(expired);
	check_free(c);
	o.ticks = tick.ticks;
	tu_ticker_stop(&tick);
	timer_free(guard);
	return o;
}

static struct conf_check
conf_of(enum check_type type, uint32_t timeout_ms)
{
	struct conf_check cc = {.type = type,
	                        .interval_ms = 10000,
	                        .timeout_ms = timeout_ms,
	                        .rise = 1,
	                        .fall = 1,
	                        .expect_status = {200},
	                        .nexpect_status = 1};

	snprintf(cc.name, sizeof(cc.name), "%s", check_type_names[type]);
	strcpy(cc.method, "GET");
	return cc;
}

static int
setup(void **state)
{
	*state = loop_new();
	return *state ? 0 : -1;
}

static int
teardown(void **state)
{
	loop_free(*state);
	return 0;
}

/* ---- http ---- */

static void
http_url(struct conf_check *cc, uint16_t port, const char *path)
{
	snprintf(cc->url, sizeof(cc->url), "http://127.0.0.1:%u%s", port, path);
}

static void
test_http_status(void **state)
{
	struct loop *l = *state;
	struct responder r;
	struct conf_check cc = conf_of(CT_HTTP, 2000);
	struct outcome o;

	responder_tcp(&r, l, R_HTTP);
	http_url(&cc, r.port, "/primary");
	o = run_once(l, &cc);
	assert_int_equal(o.state, CHK_UP);
	assert_string_equal(o.reason, "HTTP 200");

	http_url(&cc, r.port, "/replica");
	o = run_once(l, &cc);
	assert_int_equal(o.state, CHK_DOWN);
	assert_string_equal(o.reason, "HTTP 503");

	cc.expect_status[1] = 503;
	cc.nexpect_status = 2;
	o = run_once(l, &cc);
	assert_int_equal(o.state, CHK_UP);
	responder_stop(&r);
}

static void
test_http_methods_and_body(void **state)
{
	struct loop *l = *state;
	struct responder r;
	struct conf_check cc = conf_of(CT_HTTP, 2000);
	struct outcome o;

	responder_tcp(&r, l, R_HTTP);
	http_url(&cc, r.port, "/primary");
	snprintf(cc.expect_body, sizeof(cc.expect_body), "\"role\": \"primary\"");
	o = run_once(l, &cc);
	assert_int_equal(o.state, CHK_UP);

	snprintf(cc.expect_body, sizeof(cc.expect_body), "standby");
	o = run_once(l, &cc);
	assert_int_equal(o.state, CHK_DOWN);
	assert_non_null(strstr(o.reason, "HTTP 200 but body lacks"));

	cc.expect_body[0] = '\0';
	strcpy(cc.method, "HEAD");
	o = run_once(l, &cc);
	assert_int_equal(o.state, CHK_UP);
	strcpy(cc.method, "OPTIONS");
	http_url(&cc, r.port, "/replica");
	o = run_once(l, &cc);
	assert_string_equal(o.reason, "HTTP 503");
	responder_stop(&r);
}

static void
test_http_refused(void **state)
{
	struct conf_check cc = conf_of(CT_HTTP, 2000);
	struct outcome o;

	http_url(&cc, closed_port(), "/primary");
	o = run_once(*state, &cc);
	assert_int_equal(o.state, CHK_DOWN);
	assert_non_null(strstr(o.reason, "connect"));
}

/* A server that accepts and never answers: the loop keeps its 10 ms pace. */
static void
test_http_hang(void **state)
{
	struct loop *l = *state;
	struct responder r;
	struct conf_check cc = conf_of(CT_HTTP, 200);
	struct outcome o;

	responder_tcp(&r, l, R_HTTP);
	r.silent = true;
	http_url(&cc, r.port, "/primary");
	o = run_once(l, &cc);
	assert_int_equal(o.state, CHK_DOWN);
	assert_true(strstr(o.reason, "timeout") || strstr(o.reason, "timed out"));
	assert_true(o.ticks >= 15);
	responder_stop(&r);
}

/* ---- pgsql ---- */

static void
pg_conninfo(struct conf_check *cc, uint16_t port)
{
	snprintf(cc->conninfo, sizeof(cc->conninfo),
	         "host=127.0.0.1 port=%u user=vipd dbname=postgres sslmode=disable", port);
}

static void
test_pgsql_roles(void **state)
{
	struct loop *l = *state;
	struct responder r;
	struct conf_check cc = conf_of(CT_PGSQL, 2000);
	struct outcome o;

	responder_tcp(&r, l, R_PG);
	pg_conninfo(&cc, r.port);
	r.pg_answer = 'f';
	o = run_once(l, &cc);
	assert_int_equal(o.state, CHK_UP);
	assert_string_equal(o.reason, "primary");
	cc.pg_expect = PG_EXPECT_STANDBY;
	o = run_once(l, &cc);
	assert_int_equal(o.state, CHK_DOWN);

	r.pg_answer = 't';
	o = run_once(l, &cc);
	assert_int_equal(o.state, CHK_UP);
	assert_string_equal(o.reason, "standby (in recovery)");
	cc.pg_expect = PG_EXPECT_PRIMARY;
	o = run_once(l, &cc);
	assert_int_equal(o.state, CHK_DOWN);
	cc.pg_expect = PG_EXPECT_UP;
	o = run_once(l, &cc);
	assert_int_equal(o.state, CHK_UP);
	responder_stop(&r);
}

static void
test_pgsql_refused_and_hang(void **state)
{
	struct loop *l = *state;
	struct responder r;
	struct conf_check cc = conf_of(CT_PGSQL, 200);
	struct outcome o;

	pg_conninfo(&cc, closed_port());
	o = run_once(l, &cc);
	assert_int_equal(o.state, CHK_DOWN);
	assert_non_null(strstr(o.reason, "connection failed: "));
	assert_null(strchr(o.reason, '\n'));

	responder_tcp(&r, l, R_PG);
	r.silent = true;
	pg_conninfo(&cc, r.port);
	o = run_once(l, &cc);
	assert_int_equal(o.state, CHK_DOWN);
	assert_non_null(strstr(o.reason, "timeout"));
	assert_true(o.ticks >= 15);
	responder_stop(&r);
}

/* ---- haproxy ---- */

#define INFO "Name: HAProxy\nVersion: 2.6.12\nPid: 4242\nStopping: 0\nJobs: 3\n\n"
#define STAT_HEADER                                                                                \
	"# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,"       \
	"wretr,wredis,status,weight\n"
#define ROW(px, sv, st) px "," sv ",0,0,0,0,,0,0,0,,0,,0,0,0,0," st ",1\n"

static struct outcome
stats_once(struct loop *l, const char *reply, const char *backend, char *req, size_t reqsize)
{
	struct responder r;
	struct conf_check cc = conf_of(CT_HAPROXY, 200);
	struct outcome o;

	responder_unix(&r, l, reply);
	snprintf(cc.socket, sizeof(cc.socket), "%s", r.path);
	snprintf(cc.backend, sizeof(cc.backend), "%s", backend);
	r.silent = reply == NULL;
	o = run_once(l, &cc);
	if (req)
		snprintf(req, reqsize, "%s", r.last_req);
	responder_stop(&r);
	return o;
}

static void
test_haproxy_info(void **state)
{
	char req[256];
	struct outcome o = stats_once(*state, INFO, "", req, sizeof(req));

	assert_string_equal(req, "show info\n");
	assert_int_equal(o.state, CHK_UP);
	assert_string_equal(o.reason, "haproxy answers (pid 4242)");

	o = stats_once(*state, "Name: HAProxy\nPid: 1\nStopping: 1\n\n", "", NULL, 0);
	assert_int_equal(o.state, CHK_DOWN);
	assert_string_equal(o.reason, "haproxy is stopping");
	o = stats_once(*state, "Unknown command.\n", "", NULL, 0);
	assert_int_equal(o.state, CHK_DOWN);
	assert_string_equal(o.reason, "unexpected reply: Unknown command.");
	o = stats_once(*state, NULL, "", NULL, 0);
	assert_int_equal(o.state, CHK_DOWN);
	assert_non_null(strstr(o.reason, "timeout"));
}

static void
test_haproxy_backend(void **state)
{
	char req[256];
	struct outcome o;

	o = stats_once(*state,
	               INFO STAT_HEADER ROW("be_pg", "pg1", "UP") ROW("be_pg", "pg2", "DOWN")
	                   ROW("be_pg", "pg3", "UP 1/3") ROW("be_pg", "BACKEND", "UP") "\n",
	               "be_pg", req, sizeof(req));
	assert_string_equal(req, "show info;show stat be_pg 4 -1\n");
	assert_int_equal(o.state, CHK_UP);
	assert_string_equal(o.reason, "2/3 servers UP in be_pg");

	o = stats_once(
	    *state, INFO STAT_HEADER ROW("be_pg", "pg1", "DOWN") ROW("be_pg", "pg2", "MAINT") "\n",
	    "be_pg", NULL, 0);
	assert_int_equal(o.state, CHK_DOWN);
	assert_string_equal(o.reason, "no UP server in backend be_pg (0/2)");

	o = stats_once(*state, INFO "No such proxy.\n\n", "nope", NULL, 0);
	assert_int_equal(o.state, CHK_DOWN);
	assert_string_equal(o.reason, "no such backend nope");

	o = stats_once(*state, INFO, "bad;name", NULL, 0);
	assert_int_equal(o.state, CHK_DOWN);
	assert_string_equal(o.reason, "invalid backend name");
}

static void
test_haproxy_no_socket(void **state)
{
	struct conf_check cc = conf_of(CT_HAPROXY, 200);
	struct outcome o;

	snprintf(cc.socket, sizeof(cc.socket), "/nonexistent/vipd-test.sock");
	o = run_once(*state, &cc);
	assert_int_equal(o.state, CHK_DOWN);
	assert_non_null(strstr(o.reason, "No such file or directory"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_http_status, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_http_methods_and_body, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_http_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_http_hang, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pgsql_roles, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pgsql_refused_and_hang, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_haproxy_info, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_haproxy_backend, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_haproxy_no_socket, setup, teardown),
	};

	log_init("test_http_pg_haproxy", true, LOGL_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
