/*
 * check.h - health checks that weight an instance's priority.
 *
 * A check runs on its own schedule (interval, timeout, rise, fall), never
 * overlapping its previous run and never blocking the loop: every type is
 * asynchronous (child processes, non-blocking sockets, libcurl multi,
 * libpq's async API, inotify, pidfd). Instances watch the checks they
 * track and recompute their priority when a state changes (track.h).
 */
#ifndef VIPD_CHECK_H
#define VIPD_CHECK_H

#include <stdbool.h>
#include <stdint.h>

#include "vipd/buf.h"
#include "vipd/conf.h"

struct loop;
struct check;

enum check_state {
	CHK_INIT = 0, /* no result yet */
	CHK_UP,
	CHK_DOWN,
};

/* "init", "up", "down" */
extern const char *const check_state_names[3];

/* Called after every change of state (and, for file checks, of value). */
typedef void (*check_notify_fn)(struct check *c, void *arg);

/*
 * Create a check from its configuration (kept by pointer: it must outlive
 * the check, or be replaced with check_set_conf). NULL with errno
 * (EINVAL: no such type, ENOMEM).
 */
struct check *check_new(struct loop *l, const struct conf_check *cc);
/*
 * Reload. check_set_conf: a definition identical to the running one
 * (reload_check_same) replaces it, so the old one can be freed; state,
 * counters and schedule go on. check_seed: a new check replacing a
 * changed one starts from its predecessor's state and value, so tracking
 * instances see no change until the first result, which then decides at
 * once as for a fresh check; call it before check_start().
 */
void check_set_conf(struct check *c, const struct conf_check *cc);
void check_seed(struct check *c, enum check_state state, long value);
/* Start: open the type's watches and run the first time at once. 0 or -1. */
int check_start(struct check *c);
/* Stop (aborting a run in progress, killing a script) and free. NULL is a no-op. */
void check_free(struct check *c);

/*
 * Watch a check: fn(c, arg) after each change. Any number of watchers
 * (the array grows); a pair already watching is not added twice. 0, or
 * -1 (ENOMEM).
 */
int check_watch(struct check *c, check_notify_fn fn, void *arg);
void check_unwatch(struct check *c, check_notify_fn fn, void *arg);
/*
 * Make room for `more` watchers beyond those there now, so that the next
 * `more` check_watch() calls cannot fail: a reload reserves before it
 * changes anything. 0, or -1 (ENOMEM).
 */
int check_reserve_watchers(struct check *c, size_t more);

enum check_state check_get_state(const struct check *c);
/* file checks: the integer read from the file (0 when unreadable); 0 for others. */
long check_value(const struct check *c);
const char *check_name(const struct check *c);
const struct conf_check *check_conf(const struct check *c);

/* What `vipctl metrics` and GET /metrics show of a check (metrics.h). */
struct check_metrics {
	const char *name;
	const char *type; /* "script", "http"... */
	enum check_state state;
	uint64_t runs;     /* results recorded, runs and events */
	uint64_t failures; /* ...of them failed */
	bool have_last;    /* a result yet: last_duration_ns is its run's */
	uint64_t last_duration_ns;
};

void check_get_metrics(const struct check *c, struct check_metrics *m);

/* Status: one JSON object / one text block (type, state, counters, last result). */
void check_status_json(const struct check *c, struct buf *b);
void check_status_text(const struct check *c, struct buf *b);

/* ---- for the check types (checks/<type>.c) ------------------------------ */

struct check_ops {
	/* Set up long-lived watches (inotify, pidfd...). NULL = none. 0 or -1. */
	int (*open)(struct check *c);
	/* Start one run; end it with check_done(), possibly before returning. */
	void (*run)(struct check *c);
	/* Abort the run in progress (timeout or stop); no check_done() after. */
	void (*abort)(struct check *c);
	/* Release what open() set up. NULL = nothing. */
	void (*close)(struct check *c);
	/*
	 * The type enforces the timeout itself and always ends the run with
	 * check_done() (scripts: SIGTERM at the timeout, SIGKILL 2 s later,
	 * then the result), so the engine arms no timeout of its own.
	 */
	bool own_timeout;
};

extern const struct check_ops check_script_ops;
extern const struct check_ops check_process_ops;
extern const struct check_ops check_tcp_ops;
extern const struct check_ops check_http_ops;
extern const struct check_ops check_pgsql_ops;
extern const struct check_ops check_haproxy_ops;
extern const struct check_ops check_file_ops;

/* For tests: a check driven by ops of the caller's own. */
struct check *check_new_with_ops(struct loop *l, const struct conf_check *cc,
                                 const struct check_ops *ops);

struct loop *check_loop(const struct check *c);
void *check_priv(const struct check *c);
void check_set_priv(struct check *c, void *priv);
/* True while a run is in progress (between run() and check_done()). */
bool check_running(const struct check *c);

/*
 * End the run in progress with a result and a short reason ("HTTP 503",
 * "exit 1", "connection refused"). Ignored when no run is in progress.
 */
void check_done(struct check *c, bool ok, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/*
 * A result that arrives by itself, outside the schedule (the watched
 * process died, the file changed). Counts like a run's result.
 */
void check_event(struct check *c, bool ok, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* file checks: the value that goes with the next check_done()/check_event(). */
void check_set_value(struct check *c, long value);

/*
 * Open a file a check reads at run time (a file check's path, a process
 * check's pidfile): read-only, close-on-exec, O_NONBLOCK, and only if it
 * is a regular file, so that a FIFO, a device or a socket put there can
 * neither block the daemon nor be opened at all. The path is opened with
 * O_PATH first (which opens nothing), checked with fstat(), and only then
 * reopened for reading through /proc/self/fd. With nofollow, a symbolic
 * link as the last component is refused (O_NOFOLLOW): for paths in
 * directories that someone other than root may write to. An fd, or -1
 * with errno set and a short reason in why ("not a regular file (FIFO)").
 */
int check_open_file(const char *path, bool nofollow, char *why, size_t whysize);

/*
 * The pure parsers beneath the checks' I/O (tested and fuzzed alone).
 *
 * haproxy_verdict: judge a whole "show info; show stat" reply (text,
 * NUL-terminated, modified in place) for cc's backend; true if up, with a
 * short reason either way. http_judge: an HTTP answer's status and the
 * first bytes of its body against cc's expect_status and expect_body.
 * file_parse_value: a file check's text (NUL-terminated) as keepalived's
 * track_file reads it (strtol: blanks, a sign, anything after); 0 and
 * *value, or -1 and a reason.
 */
bool haproxy_verdict(const struct conf_check *cc, char *text, char *reason, size_t size);
bool http_judge(const struct conf_check *cc, long status, const char *body, size_t len,
                char *reason, size_t size);
int file_parse_value(const char *text, long *value, char *why, size_t size);

#endif
