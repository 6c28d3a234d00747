/*
 * test_event.c - the event stream: line format, sequence numbers counted
 * with or without listeners, hand-out order, and sinks that leave (or are
 * removed) while a line is being handed out.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vipd/event.h"

struct sink {
	struct ev_sink *s;
	struct buf got;
	int lines;
	struct ev_sink *remove; /* unsubscribe this one from inside the write */
};

static void
sink_write(const char *line, size_t len, void *arg)
{
	struct sink *k = arg;

	buf_append(&k->got, line, len);
	k->lines++;
	if (k->remove) {
		ev_unsubscribe(k->remove);
		k->remove = NULL;
	}
}

static void
sink_open(struct sink *k)
{
	memset(k, 0, sizeof(*k));
	buf_init(&k->got);
	k->s = ev_subscribe(sink_write, k);
	assert_non_null(k->s);
}

static const char *
text(struct sink *k)
{
	buf_append(&k->got, "", 1);
	k->got.len--;
	return k->got.data;
}

static void
publish(const char *type, const char *name, uint64_t n)
{
	struct buf *b = ev_begin(type);

	if (!b)
		return;
	ev_str(b, "instance", name);
	ev_uint(b, "priority", n);
	ev_int(b, "delta", -(int64_t)n);
	ev_bool(b, "ok", n % 2 == 0);
	ev_end(b);
}

/* The stamp is the only variable part: "2026-11-22T10:00:00.123Z". */
static void
assert_line(const char *line, uint64_t seq, const char *rest)
{
	char head[64];
	const char *t;

	snprintf(head, sizeof(head), "{\"seq\":%llu,\"time\":\"", (unsigned long long)seq);
	assert_memory_equal(line, head, strlen(head));
	t = line + strlen(head);
	assert_int_equal(strlen(t) > 25, 1);
	assert_true(t[4] == '-' && t[10] == 'T' && t[19] == '.' && t[23] == 'Z' && t[24] == '"');
	assert_string_equal(t + 25, rest);
}

static void
test_format_and_seq(void **state)
{
	struct sink k;
	uint64_t base;

	(void)state;
	assert_int_equal(ev_subscribers(), 0);
	base = ev_last_seq();
	assert_null(ev_begin("transition")); /* nobody listens: counted, not built */
	assert_int_equal(ev_last_seq(), base + 1);

	sink_open(&k);
	assert_int_equal(ev_subscribers(), 1);
	publish("priority", "VI_\"1\"", 4);
	assert_int_equal(k.lines, 1);
	assert_line(text(&k), base + 2,
	            ",\"type\":\"priority\",\"instance\":\"VI_\\\"1\\\"\",\"priority\":4,"
	            "\"delta\":-4,\"ok\":true}\n");
	ev_unsubscribe(k.s);
	assert_int_equal(ev_subscribers(), 0);
	publish("priority", "gone", 1);
	assert_int_equal(k.lines, 1);
	assert_int_equal(ev_last_seq(), base + 3);
	buf_free(&k.got);
}

/* Every sink gets every line, in subscription order, consecutive seqs. */
static void
test_order(void **state)
{
	struct sink a, b;
	uint64_t base = ev_last_seq();
	char want[64];

	(void)state;
	sink_open(&a);
	sink_open(&b);
	for (int i = 0; i < 100; i++)
		publish("check", "x", (uint64_t)i);
	assert_int_equal(a.lines, 100);
	assert_string_equal(text(&a), text(&b));
	const char *p = text(&a);
	for (int i = 0; i < 100; i++) {
		snprintf(want, sizeof(want), "{\"seq\":%llu,", (unsigned long long)(base + 1 + i));
		assert_memory_equal(p, want, strlen(want));
		p = strchr(p, '\n') + 1;
	}
	assert_string_equal(p, "");
	ev_unsubscribe(a.s);
	ev_unsubscribe(b.s);
	buf_free(&a.got);
	buf_free(&b.got);
}

/*
 * A sink that removes itself and one that removes the next sink from
 * inside its write: the line still reaches those not removed, the removed
 * one gets nothing more, and nothing is touched after it is freed (ASan).
 */
static void
test_unsubscribe_while_delivering(void **state)
{
	struct sink a, b, c;

	(void)state;
	sink_open(&a);
	sink_open(&b);
	sink_open(&c);
	a.remove = c.s; /* a removes c, which comes later in the walk */
	b.remove = b.s; /* b removes itself */
	publish("transition", "VI_1", 1);
	assert_int_equal(a.lines, 1);
	assert_int_equal(b.lines, 1);
	assert_int_equal(c.lines, 0);
	assert_int_equal(ev_subscribers(), 1);
	publish("transition", "VI_1", 2);
	assert_int_equal(a.lines, 2);
	assert_int_equal(b.lines, 1);
	ev_close();
	assert_int_equal(ev_subscribers(), 0);
	assert_null(ev_begin("transition"));
	buf_free(&a.got);
	buf_free(&b.got);
	buf_free(&c.got);
}

/* A sink that publishes again from its write gets no nested line. */
static void
nested_write(const char *line, size_t len, void *arg)
{
	int *calls = arg;

	(void)line;
	(void)len;
	(*calls)++;
	assert_null(ev_begin("nested"));
}

static void
test_nested(void **state)
{
	int calls = 0;
	struct ev_sink *s = ev_subscribe(nested_write, &calls);

	(void)state;
	publish("check", "x", 1);
	assert_int_equal(calls, 1);
	ev_unsubscribe(s);
}

static void
test_iso_time(void **state)
{
	char s[40];

	(void)state;
	ev_iso_time(1795348800123456789ULL, s, sizeof(s)); /* 12:00:00.123 UTC */
	assert_string_equal(s, "2026-11-22T12:00:00.123Z");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_format_and_seq),
	    cmocka_unit_test(test_order),
	    cmocka_unit_test(test_unsubscribe_while_delivering),
	    cmocka_unit_test(test_nested),
	    cmocka_unit_test(test_iso_time),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
