/*
 * test_track.c - keepalived's weight arithmetic (track_eval) and rise /
 * fall accounting (check_account), without any check running.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "checks/track.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static struct track_result
eval(uint8_t base, const struct track_input *in, size_t n)
{
	struct track_result r;

	track_eval(base, in, n, &r);
	return r;
}

static void
test_no_inputs(void **state)
{
	struct track_result r = eval(100, NULL, 0);

	(void)state;
	assert_int_equal(r.priority, 100);
	assert_false(r.fault);
}

/* weight > 0 adds while up only. */
static void
test_positive_adds(void **state)
{
	struct track_input in[] = {{CHK_UP, 10, false, 0}, {CHK_UP, 5, false, 0}};

	(void)state;
	assert_int_equal(eval(100, in, N(in)).priority, 115);
	in[1].state = CHK_DOWN;
	assert_int_equal(eval(100, in, N(in)).priority, 110);
	in[0].state = CHK_DOWN;
	assert_int_equal(eval(100, in, N(in)).priority, 100);
	assert_false(eval(100, in, N(in)).fault);
}

/* weight < 0 subtracts while down only. */
static void
test_negative_subtracts(void **state)
{
	struct track_input in[] = {{CHK_DOWN, -20, false, 0}, {CHK_UP, -30, false, 0}};

	(void)state;
	assert_int_equal(eval(100, in, N(in)).priority, 80);
	in[1].state = CHK_DOWN;
	assert_int_equal(eval(100, in, N(in)).priority, 50);
	in[0].state = in[1].state = CHK_UP;
	assert_int_equal(eval(100, in, N(in)).priority, 100);
}

static void
test_mixed(void **state)
{
	struct track_input in[] = {
	    {CHK_UP, 50, false, 0},    /* +50 */
	    {CHK_DOWN, 20, false, 0},  /* 0 */
	    {CHK_DOWN, -30, false, 0}, /* -30 */
	    {CHK_UP, -40, false, 0},   /* 0 */
	};

	(void)state;
	assert_int_equal(eval(100, in, N(in)).priority, 120);
}

static void
test_clamp_low(void **state)
{
	struct track_input in[] = {{CHK_DOWN, -254, false, 0}, {CHK_DOWN, -100, false, 0}};
	struct track_result r = eval(100, in, N(in));

	(void)state;
	/* Never 0: that would mean "resigning", a different message. */
	assert_int_equal(r.priority, 1);
	assert_false(r.fault);
}

static void
test_clamp_high(void **state)
{
	struct track_input in[] = {{CHK_UP, 254, false, 0}, {CHK_UP, 100, false, 0}};

	(void)state;
	/* Never 255: only an address owner may claim it. */
	assert_int_equal(eval(200, in, N(in)).priority, 254);
	assert_int_equal(eval(254, in, 1).priority, 254);
}

static void
test_owner_immune(void **state)
{
	struct track_input in[] = {{CHK_DOWN, -100, false, 0}, {CHK_UP, 10, false, 0}};
	struct track_input faulty[] = {{CHK_DOWN, 0, false, 0}};
	struct track_result r;

	(void)state;
	assert_int_equal(eval(255, in, N(in)).priority, 255);
	r = eval(255, faulty, 1);
	assert_int_equal(r.priority, 255);
	assert_true(r.fault); /* weights don't move it, a fault still applies */
}

static void
test_fault_weight_zero(void **state)
{
	struct track_input in[] = {{CHK_UP, 0, false, 0}};
	struct track_result r;

	(void)state;
	assert_false(eval(100, in, 1).fault);
	in[0].state = CHK_DOWN;
	r = eval(100, in, 1);
	assert_true(r.fault);
	assert_int_equal(r.fault_idx, 0);
	assert_int_equal(r.priority, 100); /* weight 0 changes no priority */
}

static void
test_fault_idx_first(void **state)
{
	struct track_input in[] = {
	    {CHK_DOWN, 10, false, 0}, {CHK_UP, 0, false, 0}, {CHK_DOWN, 0, false, 0},
	    {CHK_DOWN, 0, false, 0},  {CHK_UP, 0, true, 3},
	};
	struct track_result r = eval(100, in, N(in));

	(void)state;
	assert_true(r.fault);
	assert_int_equal(r.fault_idx, 2);
	in[2].state = CHK_UP;
	r = eval(100, in, N(in));
	assert_int_equal(r.fault_idx, 3);
	in[3].state = CHK_UP;
	r = eval(100, in, N(in));
	assert_true(r.fault); /* the file with a non-zero value */
	assert_int_equal(r.fault_idx, 4);
	in[4].value = 0;
	assert_false(eval(100, in, N(in)).fault);
}

/* No result yet: neither weight nor fault, whatever the sign. */
static void
test_init_neutral(void **state)
{
	struct track_input in[] = {
	    {CHK_INIT, 10, false, 0}, {CHK_INIT, -10, false, 0}, {CHK_INIT, 0, false, 0},
	    {CHK_INIT, 5, true, 7},   {CHK_INIT, 0, true, 7},
	};
	struct track_result r = eval(100, in, N(in));

	(void)state;
	assert_int_equal(r.priority, 100);
	assert_false(r.fault);
}

static void
test_file_multiply(void **state)
{
	struct track_input in[] = {{CHK_UP, 5, true, 3}};

	(void)state;
	assert_int_equal(eval(100, in, 1).priority, 115);
	in[0].value = -4;
	assert_int_equal(eval(100, in, 1).priority, 80);
	in[0].weight = -2;
	assert_int_equal(eval(100, in, 1).priority, 108);
	/* Unreadable (DOWN): counts for nothing, whatever value is left. */
	in[0].state = CHK_DOWN;
	assert_int_equal(eval(100, in, 1).priority, 100);
	assert_false(eval(100, in, 1).fault);
	/* Huge values cannot overflow; +253 at most, then the 1..254 clamp. */
	in[0] = (struct track_input){CHK_UP, 254, true, 1L << 60};
	assert_int_equal(eval(1, in, 1).priority, 254);
	in[0].value = 200; /* 200 x 254 -> 253 */
	assert_int_equal(eval(1, in, 1).priority, 254);
	in[0].weight = 1;
	assert_int_equal(eval(1, in, 1).priority, 201);
}

static void
test_file_fault(void **state)
{
	struct track_input in[] = {{CHK_UP, 0, true, 0}};
	struct track_result r;

	(void)state;
	assert_false(eval(100, in, 1).fault);
	in[0].value = -1;
	assert_true(eval(100, in, 1).fault);
	in[0].value = 1;
	assert_true(eval(100, in, 1).fault);
	in[0].state = CHK_DOWN; /* missing file reads as 0: no fault */
	in[0].value = 0;
	assert_false(eval(100, in, 1).fault);
	/* keepalived: value x weight <= -254 means FAULT. */
	in[0] = (struct track_input){CHK_UP, -127, true, 2};
	r = eval(100, in, 1);
	assert_true(r.fault);
	in[0].value = 1;
	r = eval(200, in, 1);
	assert_false(r.fault);
	assert_int_equal(r.priority, 73);
	in[0] = (struct track_input){CHK_UP, 1, true, -1000};
	assert_true(eval(100, in, 1).fault);
	in[0].value = -253;
	assert_false(eval(100, in, 1).fault);
}

/* What each input adds or subtracts now, as the status shows it. */
static void
test_applied(void **state)
{
	static const struct {
		struct track_input in;
		int want;
	} cases[] = {
	    {{CHK_UP, 10, false, 0}, 10},     {{CHK_DOWN, 10, false, 0}, 0},
	    {{CHK_DOWN, -20, false, 0}, -20}, {{CHK_UP, -20, false, 0}, 0},
	    {{CHK_DOWN, 0, false, 0}, 0},     {{CHK_INIT, -5, false, 0}, 0},
	    {{CHK_UP, 5, true, 3}, 15},       {{CHK_DOWN, 5, true, 3}, 0},
	    {{CHK_UP, -1, true, 300}, 0},     {{CHK_UP, 1, true, 300}, 253},
	};

	(void)state;
	for (size_t i = 0; i < N(cases); i++)
		assert_int_equal(track_applied(&cases[i].in), cases[i].want);
}

/* ---- check_account ---- */

static void
test_first_result_decides(void **state)
{
	struct check_counts k = {CHK_INIT, 0, 0};

	(void)state;
	assert_int_equal(check_account(&k, true, 5, 5), CHK_UP);
	k = (struct check_counts){CHK_INIT, 0, 0};
	assert_int_equal(check_account(&k, false, 5, 5), CHK_DOWN);
	assert_int_equal(k.failures, 1);
	assert_int_equal(k.successes, 0);
}

static void
test_rise_fall_sequence(void **state)
{
	static const struct {
		bool ok;
		enum check_state want;
		unsigned succ, fail;
	} seq[] = {
	    {true, CHK_UP, 1, 0},    {false, CHK_UP, 0, 1},   {false, CHK_UP, 0, 2},
	    {false, CHK_DOWN, 0, 3}, {true, CHK_DOWN, 1, 0},  {true, CHK_UP, 2, 0},
	    {false, CHK_UP, 0, 1},   {true, CHK_UP, 1, 0},    {false, CHK_UP, 0, 1},
	    {false, CHK_UP, 0, 2},   {false, CHK_DOWN, 0, 3}, {false, CHK_DOWN, 0, 4},
	};
	struct check_counts k = {CHK_INIT, 0, 0};

	(void)state;
	for (size_t i = 0; i < N(seq); i++) {
		assert_int_equal(check_account(&k, seq[i].ok, 2, 3), seq[i].want);
		assert_int_equal(k.state, seq[i].want);
		assert_int_equal(k.successes, seq[i].succ);
		assert_int_equal(k.failures, seq[i].fail);
	}
}

/* init_fail: the caller starts the counts DOWN; the first success must rise. */
static void
test_init_fail_follows_rise(void **state)
{
	struct check_counts k = {CHK_DOWN, 0, 0};

	(void)state;
	assert_int_equal(check_account(&k, true, 2, 3), CHK_DOWN);
	assert_int_equal(check_account(&k, true, 2, 3), CHK_UP);
	k = (struct check_counts){CHK_DOWN, 0, 0};
	assert_int_equal(check_account(&k, false, 2, 3), CHK_DOWN);
	assert_int_equal(check_account(&k, true, 1, 3), CHK_UP);
}

static void
test_rise_fall_zero_is_one(void **state)
{
	struct check_counts k = {CHK_UP, 0, 0};

	(void)state;
	assert_int_equal(check_account(&k, false, 0, 0), CHK_DOWN);
	assert_int_equal(check_account(&k, true, 0, 0), CHK_UP);
}

static void
test_counts_saturate(void **state)
{
	struct check_counts k = {CHK_UP, ~0u, 0};

	(void)state;
	assert_int_equal(check_account(&k, true, 1, 1), CHK_UP);
	assert_int_equal(k.successes, ~0u);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_no_inputs),
	    cmocka_unit_test(test_positive_adds),
	    cmocka_unit_test(test_negative_subtracts),
	    cmocka_unit_test(test_mixed),
	    cmocka_unit_test(test_clamp_low),
	    cmocka_unit_test(test_clamp_high),
	    cmocka_unit_test(test_owner_immune),
	    cmocka_unit_test(test_fault_weight_zero),
	    cmocka_unit_test(test_fault_idx_first),
	    cmocka_unit_test(test_init_neutral),
	    cmocka_unit_test(test_file_multiply),
	    cmocka_unit_test(test_file_fault),
	    cmocka_unit_test(test_applied),
	    cmocka_unit_test(test_first_result_decides),
	    cmocka_unit_test(test_rise_fall_sequence),
	    cmocka_unit_test(test_init_fail_follows_rise),
	    cmocka_unit_test(test_rise_fall_zero_is_one),
	    cmocka_unit_test(test_counts_saturate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
