/*
 * pgq.h - one query to PostgreSQL over a new connection, on the loop.
 *
 * libpq's asynchronous API end to end: PQconnectStart() and
 * PQconnectPoll() driven by socket readiness, then PQsendQuery() in
 * non-blocking mode, PQflush() and PQconsumeInput() / PQgetResult() until
 * the results are all in, and the connection closed. Nothing blocks as
 * long as the conninfo names no host to resolve (the configuration only
 * accepts IP addresses and socket directories) and there is no timeout
 * here: libpq's connect_timeout is only enforced by its blocking calls, so
 * each caller arms its own timer and cancels the query when it fires.
 *
 * Used by the pgsql check (checks/pgsql.c) and by promote_pgsql
 * (vipd/promote.c). libpq is loaded on the first query (checks/dl.h).
 */
#ifndef VIPD_PGQ_H
#define VIPD_PGQ_H

#include <stdbool.h>
#include <stddef.h>

#define PGQ_TEXT_MAX 256 /* bytes kept of the answer and of an error line */

struct loop;
struct pgq;

struct pgq_result {
	/* The first column of the first row, as text; NULL if there was none. */
	const char *value;
	/* Without a value: the first line of libpq's message (or ours). */
	const char *error;
	/* Whether the connection was made: an error is the query's, not the connection's. */
	bool connected;
};

/* Called once from the loop; the struct pgq is already freed then. */
typedef void (*pgq_done_fn)(const struct pgq_result *r, void *arg);

/*
 * Connect with `conninfo` and send `query`; `done` runs once the server
 * answered or anything failed, always from the loop, never from inside
 * pgq_start(). `label` prefixes the server notices logged at debug
 * ("pgsql: check pg"). NULL when no connection could even be started
 * (out of memory, a refusal at once such as a socket that does not
 * exist): the first line of the reason is then in err and `done` is never
 * called. Callers load libpq first (dl_pq()), to word its absence their
 * own way; if it cannot be loaded, NULL with the loader's reason.
 */
struct pgq *pgq_start(struct loop *l, const char *conninfo, const char *query, const char *label,
                      pgq_done_fn done, void *arg, char *err, size_t errsize);

/* Close the connection and free; `done` is not called. NULL is a no-op. */
void pgq_cancel(struct pgq *q);

#endif
