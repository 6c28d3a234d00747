/*
 * promote.h - promote_pgsql: make the local PostgreSQL the primary.
 *
 * When an instance with promote_pgsql becomes Master, its hook queue
 * (hook.h) runs this before notify_master: one query over a new libpq
 * connection (checks/pgq.h),
 *
 *     SELECT CASE WHEN pg_is_in_recovery()
 *                 THEN pg_promote(true, 60)::text ELSE 'primary' END
 *
 * so a standby is promoted and the answer waits up to 60 s for the
 * promotion to complete, while a primary is left alone. vipd gives up
 * PROMOTE_TIMEOUT_MS after the start (the query's 60 s plus room to
 * connect), closing the connection: the server goes on with a promotion
 * it has begun.
 */
#ifndef VIPD_PROMOTE_H
#define VIPD_PROMOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROMOTE_TIMEOUT_MS 65000

struct loop;
struct promote;

struct promote_result {
	/* "promoted", "already primary", "not promoted within 60 s",
	 * "failed: <first line of libpq's error>", "timed out after 65000 ms" */
	const char *status;
	bool ok; /* promoted or already primary */
	uint64_t duration_ns;
};

/* Called once from the loop; the struct promote is already freed then. */
typedef void (*promote_done_fn)(const struct promote_result *r, void *arg);

/*
 * Start promoting the server of `conninfo`, giving up after timeout_ms
 * (0: PROMOTE_TIMEOUT_MS). `tag` prefixes debug logs. `done` runs once,
 * from the loop. NULL when nothing could be started (libpq cannot be
 * loaded, the connection is refused at once...): the status, "failed:
 * <reason>", is then in status and `done` is never called.
 */
struct promote *promote_start(struct loop *l, const char *conninfo, uint32_t timeout_ms,
                              const char *tag, promote_done_fn done, void *arg, char *status,
                              size_t size);

/* Close the connection and free; `done` is not called. NULL is a no-op. */
void promote_cancel(struct promote *p);

/*
 * conninfo with every password value replaced by "***", for logs and
 * `vipctl hooks`: the keyword form ("password=x", "password = 'a b'") and
 * the URI form ("postgresql://user:x@host/db?password=x").
 */
void promote_redact(const char *conninfo, char *out, size_t size);

#endif
