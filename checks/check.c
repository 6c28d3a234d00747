/*
 * check.c - the check engine: one schedule per check, a timeout per run,
 * rise / fall accounting, watchers told of state changes, and the status
 * output. The check types (checks/<type>.c) only start a run and report
 * its result with check_done(); everything about time lives here.
 *
 * Scheduling: a run starts at last_start + interval, or at once if that
 * is already past. A run never overlaps the previous one: a slow run
 * delays the next instead of letting runs stack up (keepalived's skipped
 * and piled-up script runs are a recurring complaint).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checks/check.h"
#include "checks/track.h"
#include "vipd/event.h"
#include "vipd/log.h"
#include "vipd/loop.h"
#include "vipd/mem.h"
#include "vipd/text.h"

#define CHECK_REASON_MAX 120
/* Watchers notified from a copy on the stack up to this many; more from the heap. */
#define CHECK_SNAP_STACK 32

const char *const check_state_names[3] = {
    [CHK_INIT] = "init",
    [CHK_UP] = "up",
    [CHK_DOWN] = "down",
};

struct check_watcher {
	check_notify_fn fn;
	void *arg;
};

/* The last result, run or event. */
struct check_last {
	bool valid;
	bool ok;
	char reason[CHECK_REASON_MAX + 1];
	uint64_t duration_ns;
	uint64_t at_ns; /* when it was recorded (monotonic) */
};

struct check {
	struct loop *loop;
	const struct conf_check *cc;
	const struct check_ops *ops;
	void *priv;

	struct timer *run_timer;     /* next scheduled run */
	struct timer *timeout_timer; /* armed while a run is in progress */
	struct timer *reap_timer;    /* deferred free, see check_free() */
	uint64_t interval_ns;
	uint64_t timeout_ns;
	uint64_t run_start_ns;
	bool started;  /* open() succeeded, close() is owed */
	bool running;  /* between run() and check_done() / abort() */
	bool dead;     /* check_free() called during a notification */
	bool seeded;   /* state inherited at reload: the first result decides */
	int notifying; /* depth of watcher calls on the stack */

	struct check_counts counts;
	unsigned long runs;      /* results recorded, runs and events */
	uint64_t failures_total; /* ...of them failed (counts.failures is consecutive) */
	struct check_last last;
	long value;      /* file checks: the value of the last result */
	long next_value; /* set by the type for the next result */

	/* Any number: every instance may track one check (1000 instances, one check). */
	struct check_watcher *watchers;
	size_t nwatchers, capwatchers;
};

static void check_run_cb(struct loop *l, struct timer *t, void *arg);
static void check_timeout_cb(struct loop *l, struct timer *t, void *arg);

struct check *
check_new_with_ops(struct loop *l, const struct conf_check *cc, const struct check_ops *ops)
{
	struct check *c = calloc(1, sizeof(*c));

	/* NULL, not fatal() (mem.h): a reload that cannot create a check is refused. */
	if (!c)
		return NULL;
	c->loop = l;
	c->cc = cc;
	c->ops = ops;
	/* conf validates both; 0 here would mean a busy loop or instant timeouts. */
	c->interval_ns = (cc->interval_ms ? cc->interval_ms : 1000) * NS_PER_MS;
	c->timeout_ns = cc->timeout_ms ? cc->timeout_ms * NS_PER_MS : c->interval_ns;
	/* init_fail: start DOWN so the first success must rise like any other. */
	c->counts.state = cc->init_fail ? CHK_DOWN : CHK_INIT;
	c->run_timer = timer_new(l, check_run_cb, c);
	c->timeout_timer = timer_new(l, check_timeout_cb, c);
	return c;
}

/*
 * The first run is armed for "now" rather than made here, so that its
 * result (and the watchers' reaction) comes from the loop, never from
 * inside the caller's set-up code.
 */
int
check_start(struct check *c)
{
	if (c->started || c->dead)
		return 0;
	if (c->ops->open && c->ops->open(c) == -1)
		return -1;
	c->started = true;
	timer_arm(c->run_timer, mono_now_ns());
	return 0;
}

void
check_set_conf(struct check *c, const struct conf_check *cc)
{
	c->cc = cc;
}

void
check_seed(struct check *c, enum check_state state, long value)
{
	c->counts.state = state;
	c->value = value;
	c->seeded = state != CHK_INIT;
}

/* ---- watchers ---- */

int
check_reserve_watchers(struct check *c, size_t more)
{
	struct check_watcher *w;
	size_t cap = c->capwatchers ? c->capwatchers : 4;

	if (more <= c->capwatchers - c->nwatchers)
		return 0;
	while (cap - c->nwatchers < more)
		cap *= 2;
	w = reallocarray(c->watchers, cap, sizeof(*w));
	if (!w)
		return -1;
	c->watchers = w;
	c->capwatchers = cap;
	return 0;
}

int
check_watch(struct check *c, check_notify_fn fn, void *arg)
{
	for (size_t i = 0; i < c->nwatchers; i++)
		if (c->watchers[i].fn == fn && c->watchers[i].arg == arg)
			return 0;
	if (check_reserve_watchers(c, 1) < 0)
		return -1;
	c->watchers[c->nwatchers++] = (struct check_watcher){fn, arg};
	return 0;
}

void
check_unwatch(struct check *c, check_notify_fn fn, void *arg)
{
	for (size_t i = 0; i < c->nwatchers; i++) {
		if (c->watchers[i].fn == fn && c->watchers[i].arg == arg) {
			memmove(&c->watchers[i], &c->watchers[i + 1],
			        (c->nwatchers - i - 1) * sizeof(c->watchers[0]));
			c->nwatchers--;
			return;
		}
	}
}

static bool
check_is_watched_by(const struct check *c, const struct check_watcher *w)
{
	for (size_t i = 0; i < c->nwatchers; i++)
		if (c->watchers[i].fn == w->fn && c->watchers[i].arg == w->arg)
			return true;
	return false;
}

/*
 * Call every watcher. A watcher may watch or unwatch (itself or others)
 * while we iterate: we walk a copy and skip entries removed meanwhile, so
 * a freed instance is never called.
 */
static void
check_notify(struct check *c)
{
	struct check_watcher stack[CHECK_SNAP_STACK], *snap = stack;
	size_t n = c->nwatchers;

	if (n > CHECK_SNAP_STACK)
		snap = xcalloc(n, sizeof(*snap));
	if (n)
		memcpy(snap, c->watchers, n * sizeof(snap[0]));
	c->notifying++;
	for (size_t i = 0; i < n && !c->dead; i++)
		if (check_is_watched_by(c, &snap[i]))
			snap[i].fn(c, snap[i].arg);
	c->notifying--;
	if (snap != stack)
		free(snap);
}

/* ---- results ---- */

static void
check_log_change(const struct check *c, enum check_state old, long old_value)
{
	const char *name = c->cc->name;

	if (c->counts.state != old)
		log_info("check %s: %s -> %s (%s)", name, check_state_names[old],
		         check_state_names[c->counts.state], c->last.reason);
	else if (c->value != old_value)
		log_info("check %s: value %ld -> %ld", name, old_value, c->value);
	else
		log_debug("check %s: %s (%s)", name, c->last.ok ? "ok" : "failed", c->last.reason);
}

/* A change on the event stream, before the priority changes it causes. */
static void
check_publish(const struct check *c, enum check_state old, long old_value)
{
	struct buf *b = ev_begin("check");

	if (!b)
		return;
	ev_str(b, "check", c->cc->name);
	ev_str(b, "from", check_state_names[old]);
	ev_str(b, "to", check_state_names[c->counts.state]);
	ev_str(b, "reason", c->last.reason);
	if (c->cc->type == CT_FILE) {
		ev_int(b, "prev_value", old_value);
		ev_int(b, "value", c->value);
	}
	ev_end(b);
}

/* Record and account one result, then tell the watchers if it changed anything. */
static void
check_apply(struct check *c, bool ok, const char *fmt, va_list ap, uint64_t duration_ns)
{
	enum check_state old = c->counts.state;
	long old_value = c->value;

	c->last.valid = true;
	c->last.ok = ok;
	vsnprintf(c->last.reason, sizeof(c->last.reason), fmt, ap);
	/*
	 * The one place a check's reason is stored: it may quote HAProxy, an
	 * HTTP server or PostgreSQL, and goes to the log and to vipctl.
	 */
	text_clean(c->last.reason);
	c->last.duration_ns = duration_ns;
	c->last.at_ns = mono_now_ns();
	c->runs++;
	c->failures_total += !ok;
	if (c->cc->type == CT_FILE)
		c->value = c->next_value;
	if (c->seeded) {
		c->seeded = false;
		c->counts.state = CHK_INIT;
	}
	check_account(&c->counts, ok, c->cc->rise, c->cc->fall);
	check_log_change(c, old, old_value);
	if (c->counts.state != old || c->value != old_value) {
		check_publish(c, old, old_value);
		check_notify(c);
	}
}

/* Next run at last start + interval; at once when that is past. */
static void
check_schedule_next(struct check *c)
{
	uint64_t now = mono_now_ns();
	uint64_t next = c->run_start_ns + c->interval_ns;

	timer_arm(c->run_timer, next > now ? next : now);
}

/* The run is over (result, timeout or abort): back to waiting. */
static uint64_t
check_end_run(struct check *c)
{
	c->running = false;
	timer_disarm(c->timeout_timer);
	return mono_now_ns() - c->run_start_ns;
}

static void
check_run_cb(struct loop *l, struct timer *t, void *arg)
{
	struct check *c = arg;

	(void)l;
	(void)t;
	if (c->running || c->dead)
		return;
	c->running = true;
	c->run_start_ns = mono_now_ns();
	if (!c->ops->own_timeout)
		timer_arm(c->timeout_timer, c->run_start_ns + c->timeout_ns);
	c->ops->run(c); /* may call check_done() before returning */
}

static void check_result(struct check *c, bool ok, uint64_t duration_ns, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
check_result(struct check *c, bool ok, uint64_t duration_ns, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	check_apply(c, ok, fmt, ap, duration_ns);
	va_end(ap);
}

static void
check_timeout_cb(struct loop *l, struct timer *t, void *arg)
{
	struct check *c = arg;
	uint64_t duration_ns;

	(void)l;
	(void)t;
	if (!c->running)
		return;
	/* Not running first: a check_done() from a careless abort() is ignored. */
	duration_ns = check_end_run(c);
	c->ops->abort(c);
	check_schedule_next(c);
	check_result(c, false, duration_ns, "timeout after %llu ms",
	             (unsigned long long)(c->timeout_ns / NS_PER_MS));
}

void
check_done(struct check *c, bool ok, const char *fmt, ...)
{
	uint64_t duration_ns;
	va_list ap;

	if (!c->running)
		return;
	duration_ns = check_end_run(c);
	if (c->dead)
		return;
	check_schedule_next(c);
	va_start(ap, fmt);
	check_apply(c, ok, fmt, ap, duration_ns);
	va_end(ap);
}

/* Counts like a run's result, but leaves a run in progress and the schedule alone. */
void
check_event(struct check *c, bool ok, const char *fmt, ...)
{
	va_list ap;

	if (c->dead)
		return;
	va_start(ap, fmt);
	check_apply(c, ok, fmt, ap, 0);
	va_end(ap);
}

void
check_set_value(struct check *c, long value)
{
	c->next_value = value;
}

/* ---- files read at run time ---- */

static const char *
check_file_type(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFDIR:
		return "a directory";
	case S_IFIFO:
		return "a FIFO";
	case S_IFSOCK:
		return "a socket";
	case S_IFCHR:
		return "a character device";
	case S_IFBLK:
		return "a block device";
	case S_IFLNK:
		return "a symbolic link, not followed";
	default:
		return "not a regular file";
	}
}

/* 0 if fd is a regular file; -1 with errno and why otherwise. */
static int
check_fd_regular(int fd, char *why, size_t whysize)
{
	struct stat st;

	if (fstat(fd, &st) < 0) {
		snprintf(why, whysize, "%s", strerror(errno));
		return -1;
	}
	if (S_ISREG(st.st_mode))
		return 0;
	snprintf(why, whysize, "not a regular file (%s)", check_file_type(st.st_mode));
	errno = S_ISDIR(st.st_mode) ? EISDIR : S_ISLNK(st.st_mode) ? ELOOP : EINVAL;
	return -1;
}

int
check_open_file(const char *path, bool nofollow, char *why, size_t whysize)
{
	int flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY | (nofollow ? O_NOFOLLOW : 0);
	char self[64];
	int pfd, fd, err;

	/* O_PATH | O_NOFOLLOW on a link opens the link itself: S_IFLNK below. */
	pfd = open(path, O_PATH | O_CLOEXEC | (nofollow ? O_NOFOLLOW : 0));
	if (pfd < 0) {
		snprintf(why, whysize, "%s", strerror(errno));
		return -1;
	}
	if (check_fd_regular(pfd, why, whysize) < 0) {
		err = errno;
		close(pfd);
		errno = err;
		return -1;
	}
	/* The inode just checked, not whatever the path names by now. */
	snprintf(self, sizeof(self), "/proc/self/fd/%d", pfd);
	fd = open(self, flags & ~O_NOFOLLOW);
	if (fd < 0 && errno == ENOENT) /* no /proc: the path again, checked again below */
		fd = open(path, flags);
	err = errno;
	close(pfd);
	if (fd < 0) {
		snprintf(why, whysize, "%s", strerror(err));
		errno = err;
		return -1;
	}
	if (check_fd_regular(fd, why, whysize) < 0) {
		err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

/* ---- freeing ---- */

static void
check_destroy(struct check *c)
{
	if (c->running) {
		c->running = false;
		c->ops->abort(c);
	}
	if (c->started && c->ops->close)
		c->ops->close(c);
	timer_free(c->run_timer);
	timer_free(c->timeout_timer);
	timer_free(c->reap_timer);
	free(c->watchers);
	free(c);
}

static void
check_reap_cb(struct loop *l, struct timer *t, void *arg)
{
	(void)l;
	(void)t;
	check_destroy(arg);
}

/*
 * Watchers must not free the check they are told about. If one does, the
 * check goes quiet at once (no more runs, results or notifications) and
 * is really freed on the next pass of the loop, when no type's callback
 * and no engine frame still holds it (lost if the loop is freed first).
 */
void
check_free(struct check *c)
{
	if (!c)
		return;
	if (c->notifying == 0) {
		check_destroy(c);
		return;
	}
	if (c->dead)
		return;
	log_error("check %s: freed by its own watcher; deferring", c->cc->name);
	c->dead = true;
	c->nwatchers = 0;
	timer_disarm(c->run_timer);
	timer_disarm(c->timeout_timer);
	c->reap_timer = timer_new(c->loop, check_reap_cb, c);
	timer_arm(c->reap_timer, mono_now_ns());
}

/* ---- getters ---- */

enum check_state
check_get_state(const struct check *c)
{
	return c->counts.state;
}

long
check_value(const struct check *c)
{
	return c->value;
}

const char *
check_name(const struct check *c)
{
	return c->cc->name;
}

const struct conf_check *
check_conf(const struct check *c)
{
	return c->cc;
}

struct loop *
check_loop(const struct check *c)
{
	return c->loop;
}

void *
check_priv(const struct check *c)
{
	return c->priv;
}

void
check_set_priv(struct check *c, void *priv)
{
	c->priv = priv;
}

bool
check_running(const struct check *c)
{
	return c->running;
}

/* ---- status ---- */

static const char *
check_type_name(const struct check *c)
{
	return (unsigned)c->cc->type < CT_MAX ? check_type_names[c->cc->type] : "?";
}

void
check_status_json(const struct check *c, struct buf *b)
{
	const struct check_last *last = &c->last;
	struct json j;

	json_init(&j, b);
	json_obj_begin(&j);
	json_key_str(&j, "name", c->cc->name);
	json_key_str(&j, "type", check_type_name(c));
	json_key_str(&j, "state", check_state_names[c->counts.state]);
	json_key_uint(&j, "successes", c->counts.successes);
	json_key_uint(&j, "failures", c->counts.failures);
	json_key_uint(&j, "runs", c->runs);
	json_key(&j, "last");
	if (last->valid) {
		json_obj_begin(&j);
		json_key_bool(&j, "ok", last->ok);
		json_key_str(&j, "reason", last->reason);
		json_key_double(&j, "duration_ms", (double)last->duration_ns / NS_PER_MS, 1);
		json_key_uint(&j, "ago_ms", (mono_now_ns() - last->at_ns) / NS_PER_MS);
		json_obj_end(&j);
	} else {
		json_val_null(&j);
	}
	if (c->cc->type == CT_FILE)
		json_key_int(&j, "value", c->value);
	json_obj_end(&j);
}

void
check_get_metrics(const struct check *c, struct check_metrics *m)
{
	m->name = c->cc->name;
	m->type = check_type_name(c);
	m->state = c->counts.state;
	m->runs = c->runs;
	m->failures = c->failures_total;
	m->have_last = c->last.valid;
	m->last_duration_ns = c->last.duration_ns;
}

/* "  check patroni (http): up  [3 ok in a row, 1204 runs]  last: HTTP 200 in 1.2 ms, 340 ms ago" */
void
check_status_text(const struct check *c, struct buf *b)
{
	const struct check_last *last = &c->last;

	buf_printf(b, "  check %s (%s): %s  [", c->cc->name, check_type_name(c),
	           check_state_names[c->counts.state]);
	if (c->cc->type == CT_FILE)
		buf_printf(b, "value %ld, ", c->value);
	if (c->counts.successes)
		buf_printf(b, "%u ok in a row, ", c->counts.successes);
	else if (c->counts.failures)
		buf_printf(b, "%u failed in a row, ", c->counts.failures);
	buf_printf(b, "%lu run%s]", c->runs, c->runs == 1 ? "" : "s");
	if (last->valid)
		buf_printf(b, "  last: %s in %.1f ms, %llu ms ago", last->reason,
		           (double)last->duration_ns / NS_PER_MS,
		           (unsigned long long)((mono_now_ns() - last->at_ns) / NS_PER_MS));
	else
		buf_puts(b, "  last: none yet");
	buf_puts(b, "\n");
}
