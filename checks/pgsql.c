/*
 * pgsql.c - PostgreSQL role checks.
 *
 * A run sends "SELECT pg_is_in_recovery()" over a new connection through
 * libpq's asynchronous API (checks/pgq.h): 'f' is a primary, 't' a
 * standby. Nothing blocks: the configuration guarantees that host is an
 * IP address or a socket directory, so libpq never resolves a name
 * synchronously. (libpq's own connect_timeout is only enforced by its
 * blocking calls; here the engine's timeout aborts the run.)
 *
 * Every run opens a new connection and closes it at the end. A kept
 * connection would make the check answer for a session rather than for
 * the server: after a restart or a failover it would fail once for the
 * broken connection, and a backend stuck in a dead session could hide a
 * server that no longer accepts connections. A connection a second is
 * cheap next to that.
 *
 * libpq is not linked but loaded on first use (checks/dl.h), normally
 * already by the configuration.
 */
#include <stdio.h>

#include "checks/check.h"
#include "checks/dl.h"
#include "checks/pgq.h"

#define PG_QUERY "SELECT pg_is_in_recovery()"

/* The query's answer is in (or it failed): judge it. */
static void
pgsql_done(const struct pgq_result *res, void *arg)
{
	struct check *c = arg;
	enum pg_expect expect = check_conf(c)->pg_expect;
	const char *v = res->value;
	bool standby = v && v[0] == 't';
	const char *role = standby ? "standby (in recovery)" : "primary";

	check_set_priv(c, NULL);
	if (!v) {
		check_done(c, false, "%s failed: %s", res->connected ? "query" : "connection",
		           res->error);
		return;
	}
	if (v[0] != 't' && v[0] != 'f')
		check_done(c, false, "query failed: unexpected answer \"%s\"", v);
	else if (expect == PG_EXPECT_PRIMARY)
		check_done(c, !standby, "%s", role);
	else if (expect == PG_EXPECT_STANDBY)
		check_done(c, standby, "%s", role);
	else
		check_done(c, true, "%s", role);
}

static void
pgsql_run(struct check *c)
{
	char label[CONF_NAME_MAX + 16], err[512];
	struct pgq *q;

	if (!dl_pq(err, sizeof(err))) {
		check_done(c, false, "%s", err);
		return;
	}
	snprintf(label, sizeof(label), "pgsql: check %s", check_name(c));
	q = pgq_start(check_loop(c), check_conf(c)->conninfo, PG_QUERY, label, pgsql_done, c, err,
	              sizeof(err));
	if (!q) {
		check_done(c, false, "connection failed: %s", err);
		return;
	}
	check_set_priv(c, q);
}

static void
pgsql_abort(struct check *c)
{
	pgq_cancel(check_priv(c));
	check_set_priv(c, NULL);
}

const struct check_ops check_pgsql_ops = {
    .run = pgsql_run,
    .abort = pgsql_abort,
};
