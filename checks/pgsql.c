/*
 * pgsql.c - PostgreSQL role checks through libpq's asynchronous API.
 *
 * A run connects with PQconnectStart() and drives PQconnectPoll() from
 * socket readiness in the loop, then sends "SELECT pg_is_in_recovery()"
 * in non-blocking mode and reads the answer the same way: 'f' is a
 * primary, 't' a standby. Nothing blocks: the configuration guarantees
 * that host is an IP address or a socket directory, so libpq never
 * resolves a name synchronously. (libpq's own connect_timeout is only
 * enforced by its blocking calls; here the engine's timeout ends a run.)
 *
 * Every run opens a new connection and closes it at the end. A kept
 * connection would make the check answer for a session rather than for
 * the server: after a restart or a failover it would fail once for the
 * broken connection, and a backend stuck in a dead session could hide a
 * server that no longer accepts connections. A connection a second is
 * cheap next to that.
 *
 * libpq is not linked but loaded on first use (checks/dl.h), normally
 * already by the configuration; every call goes through its table, `pq`,
 * set by the first run.
 */
#include <errno.h>
#include <libpq-fe.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "checks/check.h"
#include "checks/dl.h"
#include "vipd/log.h"
#include "vipd/loop.h"

#define PG_QUERY "SELECT pg_is_in_recovery()"

enum pg_phase {
	PG_CONNECTING, /* PQconnectPoll() until PGRES_POLLING_OK */
	PG_FLUSHING,   /* the query is partly in libpq's output buffer */
	PG_READING,    /* waiting for results */
};

struct pg_run {
	struct check *c;
	PGconn *conn;
	int fd; /* registered with the loop, -1 if none */
	enum pg_phase phase;
	char answer;     /* 't' or 'f' once the query answered, else 0 */
	char error[256]; /* the first failed result's message */
};

static const struct dl_pq *pq; /* NULL until the first run loads libpq */

static void pg_io_cb(struct loop *l, int fd, uint32_t events, void *arg);

/* The first line of a libpq message, without the trailing newline. */
static void
pg_first_line(char *out, size_t size, const char *msg)
{
	size_t n = strcspn(msg ? msg : "", "\n");

	if (n >= size)
		n = size - 1;
	memcpy(out, msg ? msg : "", n);
	out[n] = '\0';
	if (out[0] == '\0')
		snprintf(out, size, "unknown error");
}

/* Server notices (warnings during connect...) go to debug, not stderr. */
static void
pg_notice(void *arg, const char *msg)
{
	struct pg_run *r = arg;
	char line[256];

	pg_first_line(line, sizeof(line), msg);
	log_debug("pgsql: check %s: %s", check_name(r->c), line);
}

/* Release everything of the run; the check gets no result. */
static void
pg_stop(struct check *c)
{
	struct pg_run *r = check_priv(c);

	if (!r)
		return;
	check_set_priv(c, NULL);
	if (r->fd != -1)
		loop_del_fd(check_loop(c), r->fd);
	pq->finish(r->conn);
	free(r);
}

/* End the run with a result: free it first, check_done() last. */
static void __attribute__((format(printf, 3, 4)))
pg_finish(struct pg_run *r, bool ok, const char *fmt, ...)
{
	struct check *c = r->c;
	char reason[320];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	pg_stop(c);
	check_done(c, ok, "%s", reason);
}

static void
pg_fail(struct pg_run *r, const char *what)
{
	char line[256];

	pg_first_line(line, sizeof(line), pq->errorMessage(r->conn));
	pg_finish(r, false, "%s: %s", what, line);
}

/*
 * Watch the connection's socket for `events`. While connecting, libpq may
 * close its socket and open another (next host or address, SSL or GSS
 * fallback), possibly under the same number, so `rebind` deletes and adds
 * the registration anew rather than trusting the old one. 0 or -1.
 */
static int
pg_watch(struct pg_run *r, uint32_t events, bool rebind)
{
	struct loop *l = check_loop(r->c);
	int fd = pq->socket(r->conn);

	if (!rebind && fd == r->fd)
		return loop_mod_fd(l, fd, events);
	if (r->fd != -1)
		loop_del_fd(l, r->fd);
	r->fd = -1;
	if (fd < 0)
		return -1;
	if (loop_add_fd(l, fd, events, pg_io_cb, r) == -1)
		return -1;
	r->fd = fd;
	return 0;
}

/* The query's results are all in: judge the answer. */
static void
pg_conclude(struct pg_run *r)
{
	enum pg_expect expect = check_conf(r->c)->pg_expect;
	bool standby = r->answer == 't';
	const char *role = standby ? "standby (in recovery)" : "primary";

	if (r->answer != 't' && r->answer != 'f') {
		pg_finish(r, false, "query failed: %s", r->error[0] ? r->error : "no answer");
		return;
	}
	if (expect == PG_EXPECT_PRIMARY)
		pg_finish(r, !standby, "%s", role);
	else if (expect == PG_EXPECT_STANDBY)
		pg_finish(r, standby, "%s", role);
	else
		pg_finish(r, true, "%s", role);
}

static void
pg_take_result(struct pg_run *r, PGresult *res)
{
	ExecStatusType st = pq->resultStatus(res);

	if (st == PGRES_TUPLES_OK && pq->ntuples(res) == 1 && pq->nfields(res) == 1 &&
	    !pq->getisnull(res, 0, 0)) {
		r->answer = pq->getvalue(res, 0, 0)[0];
		return;
	}
	if (r->error[0] == '\0') {
		const char *msg = pq->resultErrorMessage(res);

		pg_first_line(r->error, sizeof(r->error), msg && msg[0] ? msg : pq->resStatus(st));
	}
}

/* Readable while waiting for results: take all that is complete. */
static void
pg_read(struct pg_run *r)
{
	if (!pq->consumeInput(r->conn)) {
		pg_fail(r, "query failed");
		return;
	}
	while (!pq->isBusy(r->conn)) {
		PGresult *res = pq->getResult(r->conn);

		if (!res) {
			pg_conclude(r);
			return;
		}
		pg_take_result(r, res);
		pq->clear(res);
	}
}

/*
 * Push the query out. libpq's documentation: while PQflush() returns 1,
 * wait for read- or write-readiness and consume input when readable (the
 * server may be blocked sending us something).
 */
static void
pg_flush(struct pg_run *r, uint32_t events)
{
	if ((events & EPOLLIN) && !pq->consumeInput(r->conn)) {
		pg_fail(r, "query failed");
		return;
	}
	switch (pq->flush(r->conn)) {
	case 0:
		r->phase = PG_READING;
		if (pg_watch(r, EPOLLIN, false) == -1) {
			pg_finish(r, false, "query failed: cannot watch the socket");
			return;
		}
		/* The answer may already be buffered: epoll would not say so. */
		pg_read(r);
		return;
	case 1:
		if (pg_watch(r, EPOLLIN | EPOLLOUT, false) == -1)
			pg_finish(r, false, "query failed: cannot watch the socket");
		return;
	default:
		pg_fail(r, "query failed");
	}
}

static void
pg_send_query(struct pg_run *r)
{
	if (pq->setnonblocking(r->conn, 1) != 0 || !pq->sendQuery(r->conn, PG_QUERY)) {
		pg_fail(r, "query failed");
		return;
	}
	r->phase = PG_FLUSHING;
	pg_flush(r, 0);
}

/* One step of the connection state machine (libpq's PQconnectPoll loop). */
static void
pg_connect_step(struct pg_run *r)
{
	int rc = 0;

	switch (pq->connectPoll(r->conn)) {
	case PGRES_POLLING_READING:
		rc = pg_watch(r, EPOLLIN, true);
		break;
	case PGRES_POLLING_WRITING:
		rc = pg_watch(r, EPOLLOUT, true);
		break;
	case PGRES_POLLING_OK:
		pg_send_query(r);
		return;
	default: /* PGRES_POLLING_FAILED */
		pg_fail(r, "connection failed");
		return;
	}
	if (rc == -1)
		pg_finish(r, false, "connection failed: cannot watch the socket");
}

static void
pg_io_cb(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct pg_run *r = arg;

	(void)l;
	(void)fd;
	switch (r->phase) {
	case PG_CONNECTING:
		pg_connect_step(r);
		break;
	case PG_FLUSHING:
		pg_flush(r, events);
		break;
	case PG_READING:
		pg_read(r);
		break;
	}
}

static void
pgsql_run(struct check *c)
{
	struct pg_run *r;
	char err[512];

	if (!pq && !(pq = dl_pq(err, sizeof(err)))) {
		check_done(c, false, "%s", err);
		return;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		fatal("pgsql_run");
	r->c = c;
	r->fd = -1;
	r->phase = PG_CONNECTING;
	r->conn = pq->connectStart(check_conf(c)->conninfo);
	if (!r->conn) {
		free(r);
		check_done(c, false, "connection failed: out of memory");
		return;
	}
	check_set_priv(c, r);
	pq->setNoticeProcessor(r->conn, pg_notice, r);
	/* libpq: before the first PQconnectPoll(), act as if it said WRITING. */
	if (pq->status(r->conn) == CONNECTION_BAD)
		pg_fail(r, "connection failed");
	else if (pg_watch(r, EPOLLOUT, true) == -1)
		pg_fail(r, "connection failed");
}

static void
pgsql_abort(struct check *c)
{
	pg_stop(c);
}

const struct check_ops check_pgsql_ops = {
    .run = pgsql_run,
    .abort = pgsql_abort,
};
