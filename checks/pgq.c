/*
 * pgq.c - one query to PostgreSQL through libpq's asynchronous API (pgq.h).
 *
 * The connection goes through three phases, each driven by the readiness
 * of libpq's socket in the loop: connecting (PQconnectPoll() until OK),
 * flushing (the query partly in libpq's output buffer) and reading
 * (results until PQgetResult() says there are no more). Every query opens
 * its own connection and closes it at the end, so the answer is always the
 * server's, never that of a session that outlived a restart or a failover.
 */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "checks/dl.h"
#include "checks/pgq.h"
#include "vipd/log.h"
#include "vipd/text.h"
#include "vipd/mem.h"
#include "vipd/loop.h"

enum pgq_phase {
	PGQ_CONNECTING, /* PQconnectPoll() until PGRES_POLLING_OK */
	PGQ_FLUSHING,   /* the query is partly in libpq's output buffer */
	PGQ_READING,    /* waiting for results */
};

struct pgq {
	struct loop *loop;
	const struct dl_pq *pq;
	PGconn *conn;
	int fd; /* registered with the loop, -1 if none */
	enum pgq_phase phase;
	char *query;
	pgq_done_fn done;
	void *arg;
	bool have_value;
	char value[PGQ_TEXT_MAX]; /* the first row's first column */
	char error[PGQ_TEXT_MAX]; /* the first failed result's message */
	char label[128];
};

static void pgq_io_cb(struct loop *l, int fd, uint32_t events, void *arg);

/* The first line of a libpq message, without the trailing newline. */
static void
first_line(char *out, size_t size, const char *msg)
{
	size_t n = strcspn(msg ? msg : "", "\n");

	if (n >= size)
		n = size - 1;
	memcpy(out, msg ? msg : "", n);
	out[n] = '\0';
	text_clean(out); /* the server's words, bound for the log and vipctl */
	if (out[0] == '\0')
		snprintf(out, size, "unknown error");
}

/* Server notices (warnings during connect...) go to debug, not stderr. */
static void
pgq_notice(void *arg, const char *msg)
{
	struct pgq *q = arg;
	char line[PGQ_TEXT_MAX];

	first_line(line, sizeof(line), msg);
	log_debug("%s: %s", q->label, line);
}

void
pgq_cancel(struct pgq *q)
{
	if (!q)
		return;
	if (q->fd != -1)
		loop_del_fd(q->loop, q->fd);
	q->pq->finish(q->conn);
	free(q->query);
	free(q);
}

/*
 * End with a value or an error: free everything first and call back last,
 * so that the callback may start another query (or free what owns this one).
 */
static void
pgq_end(struct pgq *q, const char *value, const char *error)
{
	pgq_done_fn done = q->done;
	void *arg = q->arg;
	char v[PGQ_TEXT_MAX], err[PGQ_TEXT_MAX];
	struct pgq_result r = {.connected = q->phase != PGQ_CONNECTING};

	if (value) {
		snprintf(v, sizeof(v), "%s", value);
		r.value = v;
	} else {
		snprintf(err, sizeof(err), "%s", error);
		r.error = err;
	}
	pgq_cancel(q);
	done(&r, arg);
}

/* Fail with the first line of the connection's error message. */
static void
pgq_fail(struct pgq *q)
{
	char line[PGQ_TEXT_MAX];

	first_line(line, sizeof(line), q->pq->errorMessage(q->conn));
	pgq_end(q, NULL, line);
}

/*
 * Watch the connection's socket for `events`. While connecting, libpq may
 * close its socket and open another (next host or address, SSL or GSS
 * fallback), possibly under the same number, so `rebind` deletes and adds
 * the registration anew rather than trusting the old one. 0 or -1.
 */
static int
pgq_watch(struct pgq *q, uint32_t events, bool rebind)
{
	int fd = q->pq->socket(q->conn);

	if (!rebind && fd == q->fd)
		return loop_mod_fd(q->loop, fd, events);
	if (q->fd != -1)
		loop_del_fd(q->loop, q->fd);
	q->fd = -1;
	if (fd < 0)
		return -1;
	if (loop_add_fd(q->loop, fd, events, pgq_io_cb, q) == -1)
		return -1;
	q->fd = fd;
	return 0;
}

/* Keep the first value, or the first error if no result has a value. */
static void
pgq_take_result(struct pgq *q, PGresult *res)
{
	const struct dl_pq *pq = q->pq;
	ExecStatusType st = pq->resultStatus(res);

	if (st == PGRES_TUPLES_OK && pq->ntuples(res) >= 1 && pq->nfields(res) >= 1 &&
	    !pq->getisnull(res, 0, 0)) {
		if (!q->have_value)
			snprintf(q->value, sizeof(q->value), "%s", pq->getvalue(res, 0, 0));
		q->have_value = true;
		return;
	}
	if (q->error[0] == '\0') {
		const char *msg = pq->resultErrorMessage(res);

		first_line(q->error, sizeof(q->error), msg && msg[0] ? msg : pq->resStatus(st));
	}
}

/* Readable while waiting for results: take all that is complete. */
static void
pgq_read(struct pgq *q)
{
	if (!q->pq->consumeInput(q->conn)) {
		pgq_fail(q);
		return;
	}
	while (!q->pq->isBusy(q->conn)) {
		PGresult *res = q->pq->getResult(q->conn);

		if (!res) {
			pgq_end(q, q->have_value ? q->value : NULL,
			        q->error[0] ? q->error : "no answer");
			return;
		}
		pgq_take_result(q, res);
		q->pq->clear(res);
	}
}

/*
 * Push the query out. libpq's documentation: while PQflush() returns 1,
 * wait for read- or write-readiness and consume input when readable (the
 * server may be blocked sending us something).
 */
static void
pgq_flush(struct pgq *q, uint32_t events)
{
	if ((events & EPOLLIN) && !q->pq->consumeInput(q->conn)) {
		pgq_fail(q);
		return;
	}
	switch (q->pq->flush(q->conn)) {
	case 0:
		q->phase = PGQ_READING;
		if (pgq_watch(q, EPOLLIN, false) == -1) {
			pgq_end(q, NULL, "cannot watch the socket");
			return;
		}
		/* The answer may already be buffered: epoll would not say so. */
		pgq_read(q);
		return;
	case 1:
		if (pgq_watch(q, EPOLLIN | EPOLLOUT, false) == -1)
			pgq_end(q, NULL, "cannot watch the socket");
		return;
	default:
		pgq_fail(q);
	}
}

static void
pgq_send_query(struct pgq *q)
{
	q->phase = PGQ_FLUSHING;
	if (q->pq->setnonblocking(q->conn, 1) != 0 || !q->pq->sendQuery(q->conn, q->query)) {
		pgq_fail(q);
		return;
	}
	pgq_flush(q, 0);
}

/* One step of the connection state machine (libpq's PQconnectPoll loop). */
static void
pgq_connect_step(struct pgq *q)
{
	int rc = 0;

	switch (q->pq->connectPoll(q->conn)) {
	case PGRES_POLLING_READING:
		rc = pgq_watch(q, EPOLLIN, true);
		break;
	case PGRES_POLLING_WRITING:
		rc = pgq_watch(q, EPOLLOUT, true);
		break;
	case PGRES_POLLING_OK:
		pgq_send_query(q);
		return;
	default: /* PGRES_POLLING_FAILED */
		pgq_fail(q);
		return;
	}
	if (rc == -1)
		pgq_end(q, NULL, "cannot watch the socket");
}

static void
pgq_io_cb(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct pgq *q = arg;

	(void)l;
	(void)fd;
	switch (q->phase) {
	case PGQ_CONNECTING:
		pgq_connect_step(q);
		break;
	case PGQ_FLUSHING:
		pgq_flush(q, events);
		break;
	case PGQ_READING:
		pgq_read(q);
		break;
	}
}

struct pgq *
pgq_start(struct loop *l, const char *conninfo, const char *query, const char *label,
          pgq_done_fn done, void *arg, char *err, size_t errsize)
{
	const struct dl_pq *pq = dl_pq(err, errsize);
	struct pgq *q;

	if (!pq)
		return NULL;
	q = xcalloc(1, sizeof(*q));
	q->query = xstrdup(query);
	q->loop = l;
	q->pq = pq;
	q->fd = -1;
	q->phase = PGQ_CONNECTING;
	q->done = done;
	q->arg = arg;
	snprintf(q->label, sizeof(q->label), "%s", label);
	if (!(q->conn = pq->connectStart(conninfo))) {
		snprintf(err, errsize, "out of memory");
		pgq_cancel(q);
		return NULL;
	}
	pq->setNoticeProcessor(q->conn, pgq_notice, q);
	/* libpq: before the first PQconnectPoll(), act as if it said WRITING. */
	if (pq->status(q->conn) == CONNECTION_BAD) {
		first_line(err, errsize, pq->errorMessage(q->conn));
		pgq_cancel(q);
		return NULL;
	}
	if (pgq_watch(q, EPOLLOUT, true) == -1) {
		snprintf(err, errsize, "cannot watch the socket");
		pgq_cancel(q);
		return NULL;
	}
	return q;
}
