/*
 * test_pace.c - the announcement pacer on a simulated clock: one
 * instance's burst leaves at once, 255 instances' bursts are spread by
 * the token bucket, round-robin, and a cancelled job sends nothing more.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "vipd/loop.h"
#include "vipd/pace.h"

#define T0 (1000 * NS_PER_SEC)

struct inst {
	struct pace_job job;
	int rounds_sent;
	uint64_t first_ns, last_ns;
};

static uint64_t now_ns;

static void
send_round(void *arg)
{
	struct inst *i = arg;

	if (i->rounds_sent++ == 0)
		i->first_ns = now_ns;
	i->last_ns = now_ns;
}

static void
mk(struct inst *i, size_t nvips)
{
	memset(i, 0, sizeof(*i));
	i->job.send = send_round;
	i->job.arg = i;
	i->job.cost = nvips;
}

/* Run the pacer like the loop does, until it has nothing left; returns the passes. */
static int
drain(struct pacer *p, uint64_t limit_ns)
{
	int passes = 0;
	uint64_t next;

	while ((next = pacer_run(p, now_ns)) != 0) {
		assert_true(next > now_ns);
		now_ns = next;
		passes++;
		assert_true(now_ns < limit_ns);
	}
	return passes;
}

static void
test_single_burst_at_once(void **state)
{
	struct pacer p;
	struct inst a;

	(void)state;
	now_ns = T0;
	pacer_init(&p, now_ns);
	mk(&a, 1);
	pacer_add(&p, &a.job, 5);
	assert_int_equal(pacer_run(&p, now_ns), 0);
	assert_int_equal(a.rounds_sent, 5);
	assert_int_equal(a.last_ns, T0);
}

static void
test_many_instances_are_paced(void **state)
{
	static struct inst in[255];
	struct pacer p;
	uint64_t per_pass_max = 0, prev_sent = 0;
	uint64_t next;

	(void)state;
	now_ns = T0;
	pacer_init(&p, now_ns);
	for (int k = 0; k < 255; k++) {
		mk(&in[k], 1);
		pacer_add(&p, &in[k].job, 5);
	}
	/* 1275 packets: PACE_BURST at once, then PACE_RATE per second. */
	while ((next = pacer_run(&p, now_ns)) != 0) {
		if (p.sent - prev_sent > per_pass_max)
			per_pass_max = p.sent - prev_sent;
		prev_sent = p.sent;
		now_ns = next;
	}
	if (p.sent - prev_sent > per_pass_max)
		per_pass_max = p.sent - prev_sent;
	assert_int_equal(p.sent, 1275);
	assert_true(per_pass_max <= PACE_BURST);
	/* The whole lot takes (1275 - BURST) / RATE seconds, give or take one packet. */
	uint64_t want = (uint64_t)(1275 - PACE_BURST) * (NS_PER_SEC / PACE_RATE);
	assert_true(now_ns - T0 >= want - NS_PER_SEC / PACE_RATE);
	assert_true(now_ns - T0 <= want + NS_PER_SEC / PACE_RATE);
	/* Round-robin: every instance's first round before anyone's second. */
	uint64_t last_first = 0;
	for (int k = 0; k < 255; k++) {
		assert_int_equal(in[k].rounds_sent, 5);
		if (in[k].first_ns > last_first)
			last_first = in[k].first_ns;
	}
	assert_true(last_first < T0 + 255 * (NS_PER_SEC / PACE_RATE));
	assert_true(in[0].last_ns > last_first);
}

static void
test_cancel(void **state)
{
	struct pacer p;
	struct inst a, b, c;

	(void)state;
	now_ns = T0;
	pacer_init(&p, now_ns);
	mk(&a, PACE_BURST); /* one round empties the bucket */
	mk(&b, 1);
	mk(&c, 1);
	pacer_add(&p, &a.job, 1);
	pacer_add(&p, &b.job, 3);
	pacer_add(&p, &c.job, 3);
	assert_int_not_equal(pacer_run(&p, now_ns), 0);
	assert_int_equal(a.rounds_sent, 1);
	assert_int_equal(b.rounds_sent, 0);
	/* b left Master: nothing more of it; c still goes (the tail is kept right). */
	pacer_cancel(&p, &b.job);
	pacer_cancel(&p, &b.job);
	pacer_add(&p, &a.job, 1);
	drain(&p, T0 + NS_PER_SEC);
	assert_int_equal(b.rounds_sent, 0);
	assert_int_equal(c.rounds_sent, 3);
	assert_int_equal(a.rounds_sent, 2);
	assert_false(b.job.queued || c.job.queued || a.job.queued);
}

static void
test_bucket_refills_to_burst(void **state)
{
	struct pacer p;
	struct inst a;

	(void)state;
	now_ns = T0;
	pacer_init(&p, now_ns);
	mk(&a, 1);
	pacer_add(&p, &a.job, PACE_BURST);
	assert_int_equal(pacer_run(&p, now_ns), 0);
	/* An hour idle refills the bucket to PACE_BURST, no more. */
	now_ns += 3600 * NS_PER_SEC;
	pacer_add(&p, &a.job, PACE_BURST + 1);
	assert_int_not_equal(pacer_run(&p, now_ns), 0);
	assert_int_equal(a.rounds_sent, 2 * PACE_BURST);
	drain(&p, now_ns + NS_PER_SEC);
	assert_int_equal(a.rounds_sent, 2 * PACE_BURST + 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_single_burst_at_once),
	    cmocka_unit_test(test_many_instances_are_paced),
	    cmocka_unit_test(test_cancel),
	    cmocka_unit_test(test_bucket_refills_to_burst),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
