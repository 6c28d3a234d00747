/*
 * event.c - the event stream: see event.h.
 *
 * One line is built at a time (events are published from the loop, and a
 * publisher never publishes from inside ev_begin()/ev_end()), in one
 * buffer kept for the process's life. Sinks live on a list; one removed
 * while a line is being handed out is only marked, and freed once the
 * hand-out is over, so the walk never touches freed memory.
 */
#include "event.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "loop.h" /* NS_PER_SEC, NS_PER_MS */
#include "mem.h"

struct ev_sink {
	struct ev_sink *next;
	ev_write_fn fn; /* NULL once unsubscribed during a hand-out */
	void *arg;
};

static struct {
	struct ev_sink *sinks;
	size_t nsinks;
	uint64_t seq;
	bool delivering;
	bool building;
	struct buf line;
	struct json json; /* writing line */
} ev;

struct ev_sink *
ev_subscribe(ev_write_fn fn, void *arg)
{
	struct ev_sink *s = xcalloc(1, sizeof(*s)), **tail = &ev.sinks;

	s->fn = fn;
	s->arg = arg;
	while (*tail) /* appended: earlier subscribers get each line first */
		tail = &(*tail)->next;
	*tail = s;
	ev.nsinks++;
	return s;
}

static void
ev_sweep(void)
{
	for (struct ev_sink **p = &ev.sinks; *p;) {
		struct ev_sink *s = *p;

		if (s->fn) {
			p = &s->next;
			continue;
		}
		*p = s->next;
		free(s);
	}
	if (!ev.sinks)
		buf_free(&ev.line); /* nobody listens: give the memory back */
}

void
ev_unsubscribe(struct ev_sink *s)
{
	if (!s || !s->fn)
		return;
	s->fn = NULL;
	ev.nsinks--;
	if (!ev.delivering)
		ev_sweep();
}

void
ev_close(void)
{
	for (struct ev_sink *s = ev.sinks; s; s = s->next)
		if (s->fn) {
			s->fn = NULL;
			ev.nsinks--;
		}
	ev_sweep();
}

size_t
ev_subscribers(void)
{
	return ev.nsinks;
}

uint64_t
ev_last_seq(void)
{
	return ev.seq;
}

uint64_t
ev_real_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

void
ev_iso_time(uint64_t ns, char *s, size_t size)
{
	time_t t = (time_t)(ns / NS_PER_SEC);
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(s, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900, tm.tm_mon + 1,
	         tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	         (unsigned)((ns % NS_PER_SEC) / NS_PER_MS));
}

struct buf *
ev_begin(const char *type)
{
	char ts[40];

	ev.seq++;
	/* (Nested: a sink's write published again. Not done; never corrupt the line.) */
	if (ev.nsinks == 0 || ev.building || ev.delivering)
		return NULL;
	ev.building = true;
	ev_iso_time(ev_real_now_ns(), ts, sizeof(ts));
	buf_reset(&ev.line);
	json_init(&ev.json, &ev.line);
	json_obj_begin(&ev.json);
	json_key_uint(&ev.json, "seq", ev.seq);
	json_key_str(&ev.json, "time", ts);
	json_key_str(&ev.json, "type", type);
	return &ev.line;
}

/* The ev_* calls are the JSON writer's (buf.h), on the one line being built. */
static struct json *
ev_json(struct buf *b)
{
	assert(b == &ev.line && ev.building);
	return &ev.json;
}

void
ev_str(struct buf *b, const char *key, const char *val)
{
	json_key_str(ev_json(b), key, val ? val : "");
}

void
ev_uint(struct buf *b, const char *key, uint64_t val)
{
	json_key_uint(ev_json(b), key, val);
}

void
ev_int(struct buf *b, const char *key, int64_t val)
{
	json_key_int(ev_json(b), key, val);
}

void
ev_bool(struct buf *b, const char *key, bool val)
{
	json_key_bool(ev_json(b), key, val);
}

void
ev_end(struct buf *b)
{
	if (!b)
		return;
	json_obj_end(ev_json(b));
	buf_puts(b, "\n");
	ev.building = false;
	ev.delivering = true;
	for (struct ev_sink *s = ev.sinks; s; s = s->next)
		if (s->fn)
			s->fn(b->data, b->len, s->arg);
	ev.delivering = false;
	ev_sweep();
}
