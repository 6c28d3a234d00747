/*
 * test_check.c - the check engine driven by the real loop: fake check
 * types (check_new_with_ops) for scheduling, timeouts, overlap, rise /
 * fall and watchers; then the real tcp checks against loopback and the
 * file check against files in a temporary directory.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/unit/testutil.h"

#include "checks/check.h"
#include "vipd/buf.h"
#include "vipd/log.h"
#include "vipd/loop.h"

#define MS NS_PER_MS

/* ---- a fake check type, steered by the test ---- */

enum fake_mode {
	FAKE_SYNC,  /* check_done() inside run() */
	FAKE_ASYNC, /* check_done() after delay_ms, from a timer */
	FAKE_HANG,  /* never done: only a timeout or a free ends it */
};

struct fake {
	enum fake_mode mode;
	unsigned delay_ms;
	const bool *results; /* result of run i; NULL = always ok */
	size_t nresults;
	unsigned stop_after; /* stop the loop after this many runs end (0 = never) */

	struct check *c;
	struct timer *done_timer;
	bool in_run;
	bool overlapped;
	int opens, runs, ends, aborts, closes;
	uint64_t run_at[256];
};

static bool
fake_result(const struct fake *f, int i)
{
	return f->results && (size_t)i < f->nresults ? f->results[i] : true;
}

static void
fake_end(struct fake *f)
{
	int i = f->runs - 1;

	f->in_run = false;
	f->ends++;
	if (f->stop_after && (unsigned)f->ends >= f->stop_after)
		loop_stop(check_loop(f->c));
	check_done(f->c, fake_result(f, i), "fake %d", i);
}

static void
fake_done_cb(struct loop *l, struct timer *t, void *arg)
{
	(void)l;
	(void)t;
	fake_end(arg);
}

static int
fake_open(struct check *c)
{
	struct fake *f = check_priv(c);

	f->opens++;
	f->c = c;
	f->done_timer = timer_new(check_loop(c), fake_done_cb, f);
	return 0;
}

static void
fake_run(struct check *c)
{
	struct fake *f = check_priv(c);

	if (f->in_run)
		f->overlapped = true;
	f->in_run = true;
	if (f->runs < 256)
		f->run_at[f->runs] = mono_now_ns();
	f->runs++;
	if (f->mode == FAKE_SYNC)
		fake_end(f);
	else if (f->mode == FAKE_ASYNC)
		timer_arm_in(f->done_timer, f->delay_ms * MS);
}

static void
fake_abort(struct check *c)
{
	struct fake *f = check_priv(c);

	f->aborts++;
	f->in_run = false;
	timer_disarm(f->done_timer);
}

static void
fake_close(struct check *c)
{
	struct fake *f = check_priv(c);

	f->closes++;
	timer_free(f->done_timer);
	f->done_timer = NULL;
}

static const struct check_ops fake_ops = {
    .open = fake_open,
    .run = fake_run,
    .abort = fake_abort,
    .close = fake_close,
};

static struct conf_check
conf_fake(uint32_t interval_ms, uint32_t timeout_ms)
{
	struct conf_check cc = {.type = CT_SCRIPT, .rise = 1, .fall = 1};

	strcpy(cc.name, "fake");
	cc.interval_ms = interval_ms;
	cc.timeout_ms = timeout_ms;
	return cc;
}

static struct check *
fake_check(struct loop *l, const struct conf_check *cc, struct fake *f)
{
	struct check *c = check_new_with_ops(l, cc, &fake_ops);

	check_set_priv(c, f);
	return c;
}

/* ---- a watcher that records what it is told ---- */

struct wrec {
	int calls;
	enum check_state states[64];
	long values[64];
	int at_run[64]; /* the fake's run count when notified */
	const struct fake *f;
	bool stop; /* stop the loop when notified */
	bool free_it;
};

static void
wrec_cb(struct check *c, void *arg)
{
	struct wrec *w = arg;

	if (w->calls < 64) {
		w->states[w->calls] = check_get_state(c);
		w->values[w->calls] = check_value(c);
		w->at_run[w->calls] = w->f ? w->f->runs : 0;
	}
	w->calls++;
	if (w->stop)
		loop_stop(check_loop(c));
	if (w->free_it)
		check_free(c); /* forbidden, but must not crash */
}

/* ---- loop helpers ---- */

static double
ms_between(uint64_t a, uint64_t b)
{
	return (double)(b - a) / MS;
}

/* A check's status, JSON or text, as a string (valid until the next call). */
static const char *
status(const struct check *c, void (*fn)(const struct check *, struct buf *))
{
	static char out[1024];
	struct buf b;

	buf_init(&b);
	fn(c, &b);
	snprintf(out, sizeof(out), "%.*s", (int)b.len, b.data);
	buf_free(&b);
	return out;
}

/* ---- engine ---- */

static void
test_first_run_at_once(void **state)
{
	struct loop *l = loop_new();
	struct conf_check cc = conf_fake(10000, 0);
	struct fake f = {.mode = FAKE_SYNC, .stop_after = 1};
	struct check *c = fake_check(l, &cc, &f);
	uint64_t t0 = mono_now_ns();

	(void)state;
	assert_int_equal(check_get_state(c), CHK_INIT);
	assert_int_equal(check_start(c), 0);
	assert_int_equal(f.opens, 1);
	assert_int_equal(f.runs, 0); /* from the loop, not inside check_start */
	assert_false(tu_run_for(l, 1000));
	assert_int_equal(f.runs, 1);
	assert_true(ms_between(t0, f.run_at[0]) < 50);
	assert_int_equal(check_get_state(c), CHK_UP);
	assert_true(tu_run_for(l, 30)); /* nothing else within 30 ms */
	assert_int_equal(f.runs, 1);
	check_free(c);
	assert_int_equal(f.closes, 1);
	assert_int_equal(f.aborts, 0);
	loop_free(l);
}

/*
 * Every interval, on the schedule of the starts. Counted over 600 ms, not
 * gap by gap: a stall of the machine (valgrind, a busy CI host) makes one
 * gap long and can shorten the next as seen from here, but it can only
 * lose runs, never add one.
 */
static void
test_interval_schedule(void **state)
{
	struct loop *l = loop_new();
	struct conf_check cc = conf_fake(20, 0);
	struct fake f = {.mode = FAKE_SYNC};
	struct check *c = fake_check(l, &cc, &f);

	(void)state;
	check_start(c);
	assert_true(tu_run_for(l, 600));
	/* at once, then every 20 ms: 31 at most; half as many would be a 40 ms schedule */
	printf("# interval_schedule: %u runs in 600 ms\n", f.runs);
	assert_true(f.runs <= 31);
	assert_true(f.runs >= 24);
	/* never early: on average at least one interval apart */
	assert_true(ms_between(f.run_at[0], f.run_at[f.runs - 1]) / (f.runs - 1) > 19.5);
	check_free(c);
	loop_free(l);
}

/*
 * A reason quoting the outside (HAProxy's answer, an HTTP body, a server's
 * error) is cleaned before it is stored: no escape sequence reaches an
 * administrator's terminal through vipctl, no invalid UTF-8 the JSON.
 */
static void
test_reason_from_outside_is_cleaned(void **state)
{
	struct loop *l = loop_new();
	struct conf_check cc = conf_fake(1000, 500);
	struct fake f = {.mode = FAKE_HANG};
	struct check *c = fake_check(l, &cc, &f);
	const char *js;

	(void)state;
	check_start(c);
	check_event(c, false, "HAProxy says: %s", "\x1b[2J\x1b]0;pwned\x07" "DOWN\xff");
	js = status(c, check_status_json);
	assert_non_null(strstr(js, "\"reason\":\"HAProxy says: ?[2J?]0;pwned?DOWN?\""));
	js = status(c, check_status_text);
	assert_null(strchr(js, '\x1b'));
	check_free(c);
	loop_free(l);
}

static void
test_timeout(void **state)
{
	struct loop *l = loop_new();
	struct conf_check cc = conf_fake(1000, 30);
	struct fake f = {.mode = FAKE_HANG};
	struct wrec w = {.stop = true};
	struct check *c = fake_check(l, &cc, &f);
	uint64_t t0 = mono_now_ns();
	const char *js;

	(void)state;
	check_watch(c, wrec_cb, &w);
	check_start(c);
	assert_false(tu_run_for(l, 1000));
	assert_true(ms_between(t0, mono_now_ns()) >= 30);
	assert_int_equal(f.aborts, 1);
	assert_int_equal(check_get_state(c), CHK_DOWN);
	assert_false(check_running(c));
	js = status(c, check_status_json);
	assert_non_null(strstr(js, "\"ok\":false,\"reason\":\"timeout after 30 ms\""));
	assert_non_null(strstr(js, "\"state\":\"down\""));
	assert_non_null(strstr(js, "\"failures\":1"));
	/* The next run is at start + interval, not at the timeout. */
	assert_true(tu_run_for(l, 200));
	assert_int_equal(f.runs, 1);
	check_free(c);
	loop_free(l);
}

/* A run longer than the interval delays the next; runs never overlap. */
static void
test_no_overlap(void **state)
{
	struct loop *l = loop_new();
	struct conf_check cc = conf_fake(20, 1000);
	struct fake f = {.mode = FAKE_ASYNC, .delay_ms = 50, .stop_after = 4};
	struct check *c = fake_check(l, &cc, &f);

	(void)state;
	check_start(c);
	assert_false(tu_run_for(l, 2000));
	assert_false(f.overlapped);
	assert_int_equal(f.runs, 4);
	for (int i = 1; i < 4; i++) {
		double gap = ms_between(f.run_at[i - 1], f.run_at[i]);

		assert_true(gap >= 49.5); /* the run's length, not the interval */
		assert_true(gap < 80);    /* and no waiting beyond */
	}
	assert_int_equal(f.aborts, 0);
	check_free(c);
	loop_free(l);
}

/* A timeout longer than the interval: the next run waits for the abort. */
static void
test_timeout_longer_than_interval(void **state)
{
	struct loop *l = loop_new();
	struct conf_check cc = conf_fake(10, 40);
	struct fake f = {.mode = FAKE_HANG};
	struct check *c = fake_check(l, &cc, &f);

	(void)state;
	check_start(c);
	tu_run_for(l, 100);
	assert_false(f.overlapped);
	assert_true(f.runs >= 2 && f.runs <= 3);
	assert_true(f.aborts >= f.runs - 1);
	assert_true(ms_between(f.run_at[0], f.run_at[1]) >= 39.5);
	check_free(c);
	assert_int_equal(f.aborts, f.runs); /* the last one aborted by the free */
	loop_free(l);
}

static void
test_rise_fall_engine(void **state)
{
	static const bool res[] = {true, false, false, false, true, true, true};
	struct loop *l = loop_new();
	struct conf_check cc = conf_fake(5, 0);
	struct fake f = {.mode = FAKE_SYNC, .results = res, .nresults = 7, .stop_after = 7};
	struct wrec w = {.f = &f};
	struct check *c = fake_check(l, &cc, &f);
	const char *txt;

	(void)state;
	cc.rise = 2;
	cc.fall = 3;
	check_watch(c, wrec_cb, &w);
	check_start(c);
	assert_false(tu_run_for(l, 2000));
	assert_int_equal(f.runs, 7);
	/* init -> up at run 1, up -> down at run 4, down -> up at run 6. */
	assert_int_equal(w.calls, 3);
	assert_int_equal(w.states[0], CHK_UP);
	assert_int_equal(w.at_run[0], 1);
	assert_int_equal(w.states[1], CHK_DOWN);
	assert_int_equal(w.at_run[1], 4);
	assert_int_equal(w.states[2], CHK_UP);
	assert_int_equal(w.at_run[2], 6);
	txt = status(c, check_status_text);
	assert_non_null(
	    strstr(txt, "  check fake (script): up  [3 ok in a row, 7 runs]  last: fake 6 in "));
	assert_non_null(strstr(txt, " ms ago\n"));
	check_free(c);
	loop_free(l);
}

static void
test_init_fail_engine(void **state)
{
	struct loop *l = loop_new();
	struct conf_check cc = conf_fake(5, 0);
	struct fake f = {.mode = FAKE_SYNC, .stop_after = 3};
	struct wrec w = {.f = &f};
	struct check *c;

	(void)state;
	cc.init_fail = true;
	cc.rise = 2;
	c = fake_check(l, &cc, &f);
	assert_int_equal(check_get_state(c), CHK_DOWN);
	check_watch(c, wrec_cb, &w);
	check_start(c);
	assert_false(tu_run_for(l, 2000));
	assert_int_equal(w.calls, 1); /* down -> up after 2 successes */
	assert_int_equal(w.at_run[0], 2);
	assert_int_equal(w.states[0], CHK_UP);
	check_free(c);
	loop_free(l);
}

static void
test_watchers(void **state)
{
	static const bool res[] = {true, true, true, false, false, true};
	struct loop *l = loop_new();
	struct conf_check cc = conf_fake(2, 0);
	struct fake f = {.mode = FAKE_SYNC, .results = res, .nresults = 6, .stop_after = 6};
	struct wrec w1 = {.f = &f}, w2 = {.f = &f}, w3 = {.f = &f};
	struct check *c = fake_check(l, &cc, &f);

	(void)state;
	assert_int_equal(check_watch(c, wrec_cb, &w1), 0);
	assert_int_equal(check_watch(c, wrec_cb, &w1), 0); /* once only */
	assert_int_equal(check_watch(c, wrec_cb, &w2), 0);
	assert_int_equal(check_watch(c, wrec_cb, &w3), 0);
	check_unwatch(c, wrec_cb, &w2);
	check_start(c);
	assert_false(tu_run_for(l, 2000));
	/* Changes only: init -> up, up -> down, down -> up. */
	assert_int_equal(w1.calls, 3);
	assert_int_equal(w2.calls, 0);
	assert_int_equal(w3.calls, 3);
	check_free(c);
	loop_free(l);
}

/*
 * Hundreds of instances may track one check (issue 9: watchers were
 * capped at 32, and a reload reaching the cap killed the daemon).
 */
#define MANY_WATCHERS 300

static void
test_many_watchers(void **state)
{
	static const bool res[] = {true, false};
	struct loop *l = loop_new();
	struct conf_check cc = conf_fake(2, 0);
	struct fake f = {.mode = FAKE_SYNC, .results = res, .nresults = 2, .stop_after = 2};
	struct wrec *w = calloc(MANY_WATCHERS, sizeof(*w));
	struct check *c = fake_check(l, &cc, &f);

	(void)state;
	assert_non_null(w);
	for (size_t i = 0; i < MANY_WATCHERS; i++)
		assert_int_equal(check_watch(c, wrec_cb, &w[i]), 0);
	assert_int_equal(check_watch(c, wrec_cb, &w[7]), 0); /* still once only */
	/* Every other one leaves; the rest are told, each once per change. */
	for (size_t i = 0; i < MANY_WATCHERS; i += 2)
		check_unwatch(c, wrec_cb, &w[i]);
	/* Reserved room: the next watches cannot fail (what a reload relies on). */
	assert_int_equal(check_reserve_watchers(c, 1000), 0);
	check_start(c);
	assert_false(tu_run_for(l, 2000));
	for (size_t i = 0; i < MANY_WATCHERS; i++) {
		assert_int_equal(w[i].calls, i % 2 ? 2 : 0);
		if (i % 2) {
			assert_int_equal(w[i].states[0], CHK_UP);
			assert_int_equal(w[i].states[1], CHK_DOWN);
		}
	}
	check_free(c);
	loop_free(l);
	free(w);
}

static void
event_down_cb(struct loop *l, struct timer *t, void *arg)
{
	(void)l;
	(void)t;
	check_event(arg, false, "went away");
}

/* check_event counts at once, leaves the run in progress and the schedule. */
static void
test_check_event(void **state)
{
	struct loop *l = loop_new();
	struct conf_check cc = conf_fake(10000, 0);
	struct fake f = {.mode = FAKE_ASYNC, .delay_ms = 40, .stop_after = 1};
	struct wrec w = {.f = &f};
	struct check *c = fake_check(l, &cc, &f);
	struct timer *ev = timer_new(l, event_down_cb, c);
	const char *js;

	(void)state;
	check_watch(c, wrec_cb, &w);
	check_start(c);
	timer_arm_in(ev, 10 * MS);
	assert_false(tu_run_for(l, 2000));
	/* The event (at 10 ms) decided first, the run's success (40 ms) next. */
	assert_int_equal(w.calls, 2);
	assert_int_equal(w.states[0], CHK_DOWN);
	assert_int_equal(w.at_run[0], 1);
	assert_int_equal(w.states[1], CHK_UP);
	assert_int_equal(f.aborts, 0);
	js = status(c, check_status_json);
	assert_non_null(strstr(js, "\"runs\":2"));
	/* Outside a run: at once, and no run is added by it. */
	check_event(c, false, "gone again");
	assert_int_equal(check_get_state(c), CHK_DOWN);
	assert_int_equal(w.calls, 3);
	assert_false(check_running(c));
	assert_true(tu_run_for(l, 50));
	assert_int_equal(f.runs, 1);
	timer_free(ev);
	check_free(c);
	loop_free(l);
}

static void
test_free_during_run(void **state)
{
	struct loop *l = loop_new();
	struct conf_check cc = conf_fake(1000, 5000);
	struct fake f = {.mode = FAKE_HANG};
	struct check *c = fake_check(l, &cc, &f);

	(void)state;
	check_start(c);
	tu_run_for(l, 10);
	assert_int_equal(f.runs, 1);
	assert_true(check_running(c));
	check_free(c);
	assert_int_equal(f.aborts, 1);
	assert_int_equal(f.closes, 1);
	check_free(NULL);
	loop_free(l);
}

/* Forbidden, but guarded: the check goes quiet and is freed on the next pass. */
static void
test_watcher_frees_check(void **state)
{
	struct loop *l = loop_new();
	struct conf_check cc = conf_fake(5, 0);
	struct fake f = {.mode = FAKE_SYNC};
	struct wrec w1 = {.free_it = true}, w2 = {0};
	struct check *c = fake_check(l, &cc, &f);

	(void)state;
	check_watch(c, wrec_cb, &w1);
	check_watch(c, wrec_cb, &w2);
	check_start(c);
	/*
	 * Until it is freed, not a fixed time: under valgrind the first run can
	 * come after the end of a short window, its deferred free after that.
	 */
	for (int i = 0; i < 200 && f.closes == 0; i++)
		tu_run_for(l, 10);
	tu_run_for(l, 20); /* and nothing runs after */
	assert_int_equal(f.runs, 1);
	assert_int_equal(w1.calls, 1);
	assert_int_equal(w2.calls, 0); /* nobody hears of a freed check */
	assert_int_equal(f.closes, 1);
	loop_free(l);
}

static void
test_status_before_result(void **state)
{
	struct loop *l = loop_new();
	struct conf_check cc = conf_fake(1000, 0);
	struct fake f = {.mode = FAKE_SYNC};
	struct check *c = fake_check(l, &cc, &f);

	(void)state;
	assert_string_equal(status(c, check_status_json),
	                    "{\"name\":\"fake\",\"type\":\"script\",\"state\":\"init\","
	                    "\"successes\":0,\"failures\":0,\"runs\":0,\"last\":null}");
	assert_string_equal(status(c, check_status_text),
	                    "  check fake (script): init  [0 runs]  last: none yet\n");
	assert_string_equal(check_state_names[CHK_DOWN], "down");
	assert_string_equal(check_name(c), "fake");
	assert_ptr_equal(check_conf(c), &cc);
	assert_int_equal(check_value(c), 0);
	check_free(c); /* never started: no close */
	assert_int_equal(f.closes, 0);
	loop_free(l);
}

/* ---- tcp ---- */

static int
listener(int family, uint16_t *port, int backlog)
{
	struct sockaddr_storage ss = {0};
	socklen_t len;
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd == -1)
		return -1;
	if (family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_addr = in6addr_loopback;
		len = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(*s4);
	}
	if (bind(fd, (struct sockaddr *)&ss, len) == -1 || listen(fd, backlog) == -1 ||
	    getsockname(fd, (struct sockaddr *)&ss, &len) == -1) {
		close(fd);
		return -1;
	}
	*port = ntohs(family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
	                                 : ((struct sockaddr_in *)&ss)->sin_port);
	return fd;
}

static struct conf_check
conf_tcp(int family, uint16_t port)
{
	struct conf_check cc = conf_fake(10000, 200);

	strcpy(cc.name, "tcp");
	cc.type = CT_TCP;
	cc.tcp_family = family;
	if (family == AF_INET6)
		cc.tcp_addr.v6 = in6addr_loopback;
	else
		cc.tcp_addr.v4.s_addr = htonl(INADDR_LOOPBACK);
	cc.tcp_port = port;
	return cc;
}

/* One run of a real check; returns its state and the status JSON. */
static enum check_state
run_once(struct loop *l, const struct conf_check *cc, const char **js)
{
	struct wrec w = {.stop = true};
	struct check *c = check_new(l, cc);
	enum check_state st;

	assert_non_null(c);
	check_watch(c, wrec_cb, &w);
	assert_int_equal(check_start(c), 0);
	assert_false(tu_run_for(l, 2000));
	st = check_get_state(c);
	*js = status(c, check_status_json);
	check_free(c);
	return st;
}

static void
test_tcp_up(void **state)
{
	struct loop *l = loop_new();
	uint16_t port;
	int fd = listener(AF_INET, &port, 16);
	struct conf_check cc = conf_tcp(AF_INET, port);
	const char *js;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(run_once(l, &cc, &js), CHK_UP);
	assert_non_null(strstr(js, "\"type\":\"tcp\",\"state\":\"up\""));
	assert_non_null(strstr(js, "\"reason\":\"connected\""));
	close(fd);
	/* IPv6 loopback, when the machine has it. */
	fd = listener(AF_INET6, &port, 16);
	if (fd >= 0) {
		cc = conf_tcp(AF_INET6, port);
		assert_int_equal(run_once(l, &cc, &js), CHK_UP);
		close(fd);
	}
	loop_free(l);
}

static void
test_tcp_refused(void **state)
{
	struct loop *l = loop_new();
	uint16_t port;
	int fd = listener(AF_INET, &port, 16);
	struct conf_check cc = conf_tcp(AF_INET, port);
	const char *js;

	(void)state;
	assert_true(fd >= 0);
	close(fd); /* nobody listens on the port any more */
	assert_int_equal(run_once(l, &cc, &js), CHK_DOWN);
	assert_non_null(strstr(js, "\"reason\":\"Connection refused\""));
	loop_free(l);
}

/* A listener whose accept queue is full drops SYNs: the connect hangs. */
static void
test_tcp_timeout(void **state)
{
	struct loop *l = loop_new();
	uint16_t port;
	int fd = listener(AF_INET, &port, 0);
	struct conf_check cc = conf_tcp(AF_INET, port);
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fill[4];
	const char *js;

	(void)state;
	assert_true(fd >= 0);
	sin.sin_port = htons(port);
	for (int i = 0; i < 4; i++) {
		fill[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		connect(fill[i], (struct sockaddr *)&sin, sizeof(sin));
	}
	usleep(20000);
	cc.timeout_ms = 50;
	assert_int_equal(run_once(l, &cc, &js), CHK_DOWN);
	assert_non_null(strstr(js, "\"reason\":\"timeout after 50 ms\""));
	for (int i = 0; i < 4; i++)
		close(fill[i]);
	close(fd);
	loop_free(l);
}

/* ---- file ---- */

struct file_fixture {
	char dir[64];
	char path[128];
	struct loop *l;
	struct conf_check cc;
	struct check *c;
	struct wrec w;
};

static void
put(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

/* Write a temporary file and rename it over the path: a new inode. */
static void
put_atomic(const char *path, const char *text)
{
	char tmp[160];

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	put(tmp, text);
	assert_int_equal(rename(tmp, path), 0);
}

static int
file_setup(void **state)
{
	struct file_fixture *fx = calloc(1, sizeof(*fx));

	strcpy(fx->dir, "/tmp/test_check.XXXXXX");
	if (!mkdtemp(fx->dir))
		return -1;
	snprintf(fx->path, sizeof(fx->path), "%s/weight", fx->dir);
	fx->l = loop_new();
	fx->cc = conf_fake(10000, 0); /* changes must not wait for the interval */
	strcpy(fx->cc.name, "flag");
	fx->cc.type = CT_FILE;
	strcpy(fx->cc.path, fx->path);
	fx->w.stop = true;
	*state = fx;
	return 0;
}

static int
file_teardown(void **state)
{
	struct file_fixture *fx = *state;
	char tmp[160];

	check_free(fx->c);
	loop_free(fx->l);
	unlink(fx->path);
	snprintf(tmp, sizeof(tmp), "%s.tmp", fx->path);
	unlink(tmp);
	rmdir(fx->dir);
	free(fx);
	return 0;
}

/* Wait for the next notification; its delay in ms, or -1 if none came. */
static double
file_wait_ms(struct file_fixture *fx, unsigned max_ms)
{
	uint64_t t0 = mono_now_ns();
	int calls = fx->w.calls;

	if (tu_run_for(fx->l, max_ms) || fx->w.calls == calls)
		return -1;
	return ms_between(t0, mono_now_ns());
}

static double
file_wait(struct file_fixture *fx)
{
	return file_wait_ms(fx, 1000);
}

static void
file_start(struct file_fixture *fx)
{
	fx->c = check_new(fx->l, &fx->cc);
	assert_non_null(fx->c);
	check_watch(fx->c, wrec_cb, &fx->w);
	assert_int_equal(check_start(fx->c), 0);
	assert_true(file_wait(fx) >= 0);
}

static void
test_file_changes(void **state)
{
	struct file_fixture *fx = *state;
	double ms;
	const char *js;
	int fd;

	put(fx->path, "  5 \n");
	file_start(fx);
	assert_int_equal(check_get_state(fx->c), CHK_UP);
	assert_int_equal(check_value(fx->c), 5);
	/* Rewritten in place: noticed at IN_CLOSE_WRITE, not at the interval. */
	put(fx->path, "-3\n");
	ms = file_wait(fx);
	assert_true(ms >= 0 && ms < 100);
	assert_int_equal(check_value(fx->c), -3);
	assert_int_equal(check_get_state(fx->c), CHK_UP);
	/* Renamed over: a new inode, still seen through the directory. */
	put_atomic(fx->path, "12 trailing words\n");
	ms = file_wait(fx);
	assert_true(ms >= 0 && ms < 100);
	assert_int_equal(check_value(fx->c), 12);
	js = status(fx->c, check_status_json);
	assert_non_null(strstr(js, "\"type\":\"file\",\"state\":\"up\""));
	assert_non_null(strstr(js, "\"reason\":\"value 12\""));
	assert_non_null(strstr(js, "\"value\":12}"));
	/* Deleted: down and 0. */
	assert_int_equal(unlink(fx->path), 0);
	ms = file_wait(fx);
	assert_true(ms >= 0 && ms < 100);
	assert_int_equal(check_get_state(fx->c), CHK_DOWN);
	assert_int_equal(check_value(fx->c), 0);
	/* Created, still empty: reads like the missing file, no news. */
	fd = open(fx->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_true(file_wait_ms(fx, 50) < 0);
	assert_int_equal(write(fd, "7", 1), 1);
	close(fd);
	assert_true(file_wait(fx) >= 0);
	assert_int_equal(check_get_state(fx->c), CHK_UP);
	assert_int_equal(check_value(fx->c), 7);
	assert_true(file_wait_ms(fx, 50) < 0); /* and nothing more */
	/* Not a number: down and 0. */
	put(fx->path, "abc\n");
	assert_true(file_wait(fx) >= 0);
	assert_int_equal(check_get_state(fx->c), CHK_DOWN);
	assert_int_equal(check_value(fx->c), 0);
	js = status(fx->c, check_status_json);
	assert_non_null(strstr(js, "\"reason\":\"not a number\""));
}

static void
test_file_missing_at_start(void **state)
{
	struct file_fixture *fx = *state;
	const char *txt;

	file_start(fx);
	assert_int_equal(check_get_state(fx->c), CHK_DOWN);
	assert_int_equal(check_value(fx->c), 0);
	txt = status(fx->c, check_status_text);
	assert_non_null(strstr(txt, "  check flag (file): down  [value 0, 1 failed in a row, 1 run]"
	                            "  last: no such file in "));
	put_atomic(fx->path, "+4");
	assert_true(file_wait(fx) >= 0);
	assert_int_equal(check_get_state(fx->c), CHK_UP);
	assert_int_equal(check_value(fx->c), 4);
}

/* An unchanged value rewritten is no news: nobody is told. */
static void
test_file_same_value(void **state)
{
	struct file_fixture *fx = *state;
	const char *js;

	put(fx->path, "1");
	file_start(fx);
	put(fx->path, "1\n");
	put_atomic(fx->path, "1");
	assert_true(file_wait_ms(fx, 100) < 0);
	assert_int_equal(fx->w.calls, 1);
	/* Not even counted: writes must not stand in for rise / fall results. */
	js = status(fx->c, check_status_json);
	assert_non_null(strstr(js, "\"successes\":1,\"failures\":0,\"runs\":1,"));
}

/*
 * A reload keeps an identical check and frees the conf it came from
 * (check_set_conf, then conf_free): the check must hold nothing of the
 * old definition. Issue 9: the file check compared inotify names with a
 * pointer into the freed conf (heap-use-after-free under ASan; with the
 * memory reused, changes went unseen or vipd crashed).
 */
static void
test_file_conf_replaced(void **state)
{
	struct file_fixture *fx = *state;
	struct conf_check *old = malloc(sizeof(*old)), *new = malloc(sizeof(*new));

	assert_non_null(old);
	assert_non_null(new);
	*old = fx->cc;
	put(fx->path, "5\n");
	fx->c = check_new(fx->l, old);
	assert_non_null(fx->c);
	check_watch(fx->c, wrec_cb, &fx->w);
	assert_int_equal(check_start(fx->c), 0);
	assert_true(file_wait(fx) >= 0);
	assert_int_equal(check_value(fx->c), 5);
	/* What reload_apply does to a kept check; the old conf is scribbled on, then freed. */
	*new = *old;
	check_set_conf(fx->c, new);
	explicit_bzero(old, sizeof(*old)); /* a memset() before free() may be optimised out */
	free(old);
	put(fx->path, "6\n");
	assert_true(file_wait(fx) >= 0);
	assert_int_equal(check_value(fx->c), 6);
	put_atomic(fx->path, "7\n");
	assert_true(file_wait(fx) >= 0);
	assert_int_equal(check_value(fx->c), 7);
	check_free(fx->c);
	fx->c = NULL;
	free(new);
}

/*
 * Files opened at run time must never block the daemon nor be anything
 * but regular files (issue 9): a FIFO as a pidfile blocked vipd in open()
 * for ever. alarm() turns such a hang into a failure.
 */
static const char *
run_guarded(struct file_fixture *fx)
{
	static char js[1024];

	alarm(5);
	fx->c = check_new(fx->l, &fx->cc);
	assert_non_null(fx->c);
	check_watch(fx->c, wrec_cb, &fx->w);
	assert_int_equal(check_start(fx->c), 0);
	assert_true(file_wait(fx) >= 0);
	alarm(0);
	snprintf(js, sizeof(js), "%s", status(fx->c, check_status_json));
	check_free(fx->c);
	fx->c = NULL;
	return js;
}

static void
test_pidfile_not_regular(void **state)
{
	struct file_fixture *fx = *state;
	char pid[32], link[160];
	const char *js;

	fx->cc.type = CT_PROCESS;
	strcpy(fx->cc.pidfile, fx->path);
	/* Sanity: our own pid in a regular file is up. */
	snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	put(fx->path, pid);
	js = run_guarded(fx);
	assert_non_null(strstr(js, "\"state\":\"up\""));
	/* A FIFO: down at once, with the reason, instead of a daemon stuck in open(). */
	unlink(fx->path);
	assert_int_equal(mkfifo(fx->path, 0600), 0);
	js = run_guarded(fx);
	assert_non_null(strstr(js, "\"state\":\"down\""));
	assert_non_null(strstr(js, "weight: not a regular file (a FIFO)"));
	unlink(fx->path);
	/* A symbolic link to a regular file: not followed. */
	put(fx->path, pid);
	snprintf(link, sizeof(link), "%s.tmp", fx->path);
	assert_int_equal(symlink(fx->path, link), 0);
	strcpy(fx->cc.pidfile, link);
	js = run_guarded(fx);
	unlink(link);
	assert_non_null(strstr(js, "\"state\":\"down\""));
	assert_non_null(
	    strstr(js, "weight.tmp: not a regular file (a symbolic link, not followed)"));
}

/* A file check on a FIFO or a directory: down with the reason, never blocked. */
static void
test_file_not_regular(void **state)
{
	struct file_fixture *fx = *state;
	const char *js;

	assert_int_equal(mkfifo(fx->path, 0600), 0);
	js = run_guarded(fx);
	assert_non_null(strstr(js, "\"state\":\"down\""));
	assert_non_null(strstr(js, "\"reason\":\"not a regular file (a FIFO)\""));
	unlink(fx->path);
	assert_int_equal(mkdir(fx->path, 0700), 0);
	js = run_guarded(fx);
	rmdir(fx->path);
	assert_non_null(strstr(js, "\"reason\":\"not a regular file (a directory)\""));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_first_run_at_once),
	    cmocka_unit_test(test_interval_schedule),
	    cmocka_unit_test(test_timeout),
	    cmocka_unit_test(test_reason_from_outside_is_cleaned),
	    cmocka_unit_test(test_no_overlap),
	    cmocka_unit_test(test_timeout_longer_than_interval),
	    cmocka_unit_test(test_rise_fall_engine),
	    cmocka_unit_test(test_init_fail_engine),
	    cmocka_unit_test(test_watchers),
	    cmocka_unit_test(test_many_watchers),
	    cmocka_unit_test(test_check_event),
	    cmocka_unit_test(test_free_during_run),
	    cmocka_unit_test(test_watcher_frees_check),
	    cmocka_unit_test(test_status_before_result),
	    cmocka_unit_test(test_tcp_up),
	    cmocka_unit_test(test_tcp_refused),
	    cmocka_unit_test(test_tcp_timeout),
	    cmocka_unit_test_setup_teardown(test_file_changes, file_setup, file_teardown),
	    cmocka_unit_test_setup_teardown(test_file_missing_at_start, file_setup, file_teardown),
	    cmocka_unit_test_setup_teardown(test_file_same_value, file_setup, file_teardown),
	    cmocka_unit_test_setup_teardown(test_file_conf_replaced, file_setup, file_teardown),
	    cmocka_unit_test_setup_teardown(test_pidfile_not_regular, file_setup, file_teardown),
	    cmocka_unit_test_setup_teardown(test_file_not_regular, file_setup, file_teardown),
	};

	log_init("test_check", true, LOGL_WARNING);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
