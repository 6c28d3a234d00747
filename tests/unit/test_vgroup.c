/*
 * test_vgroup.c - sync groups' verdicts from their members' reports
 * (vgroup.h): hold, the fault a member gets from another, the group's
 * state, and when the members must re-sync.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "vipd/loop.h"
#include "vipd/vgroup.h"

static int a_arg, b_arg;

static struct vgroup *
mk(struct loop *l)
{
	struct conf_group cg = {.name = "lb", .notify_timeout_ms = 1000};
	struct vgroup_report init = {.state = ST_INIT};
	struct vgroup *g = vgroup_new(l, &cg);

	assert_non_null(g);
	assert_int_equal(vgroup_add(g, "front", &a_arg, &init), 0);
	assert_int_equal(vgroup_add(g, "back", &b_arg, &init), 1);
	assert_ptr_equal(vgroup_member(g, 1), &b_arg);
	return g;
}

static bool
report(struct vgroup *g, size_t i, enum vrrp_state st, bool wants, bool fault)
{
	struct vgroup_report r = {.state = st, .wants_master = wants, .own_fault = fault};

	return vgroup_report(g, i, &r);
}

/* Held until every member is Master or wants to be; one leaving holds all. */
static void
test_hold(void **state)
{
	struct loop *l = loop_new();
	struct vgroup *g = mk(l);

	(void)state;
	assert_true(vgroup_hold(g));
	report(g, 0, ST_BACKUP, false, false);
	report(g, 1, ST_BACKUP, false, false);
	assert_true(vgroup_hold(g));
	assert_int_equal(vgroup_state(g), ST_BACKUP);
	/* front's Master_Down_Timer fired: it wants; back does not yet. */
	assert_false(report(g, 0, ST_BACKUP, true, false));
	assert_true(vgroup_hold(g));
	/* back wants too: released, a verdict changed, re-sync. */
	assert_true(report(g, 1, ST_BACKUP, true, false));
	assert_false(vgroup_hold(g));
	assert_true(vgroup_take_dirty(g));
	assert_false(vgroup_take_dirty(g));
	report(g, 0, ST_MASTER, false, false);
	report(g, 1, ST_MASTER, false, false);
	assert_false(vgroup_hold(g));
	assert_int_equal(vgroup_state(g), ST_MASTER);
	/* back sees a better Master and yields: the group holds front too. */
	assert_true(report(g, 1, ST_BACKUP, false, false));
	assert_true(vgroup_hold(g));
	assert_int_equal(vgroup_state(g), ST_BACKUP);
	/* The same report again changes nothing. */
	assert_false(report(g, 1, ST_BACKUP, false, false));
	vgroup_free(g);
	loop_free(l);
}

/* A member's own fault faults the others; a fault from the group does not spread back. */
static void
test_fault(void **state)
{
	struct loop *l = loop_new();
	struct vgroup *g = mk(l);

	(void)state;
	report(g, 0, ST_MASTER, false, false);
	report(g, 1, ST_MASTER, false, false);
	assert_null(vgroup_fault_by(g, 0));
	assert_true(report(g, 1, ST_FAULT, false, true));
	assert_string_equal(vgroup_fault_by(g, 0), "back");
	assert_null(vgroup_fault_by(g, 1)); /* not from itself */
	assert_int_equal(vgroup_state(g), ST_FAULT);
	/* front goes FAULT because of the group: not an own fault. */
	report(g, 0, ST_FAULT, false, false);
	assert_null(vgroup_fault_by(g, 1));
	/* back's link returns: nobody is faulted any more. */
	assert_true(report(g, 1, ST_BACKUP, false, false));
	assert_null(vgroup_fault_by(g, 0));
	/* A forgotten member (a reload removed it) counts no more. */
	report(g, 1, ST_FAULT, false, true);
	vgroup_forget(g, 1);
	assert_null(vgroup_member(g, 1));
	report(g, 0, ST_MASTER, false, false);
	assert_null(vgroup_fault_by(g, 0));
	assert_false(vgroup_hold(g));
	assert_int_equal(vgroup_state(g), ST_MASTER);
	vgroup_free(g);
	loop_free(l);
}

/* Started and stopped one by one, the group never passes through BACKUP. */
static void
test_state_start_stop(void **state)
{
	struct loop *l = loop_new();
	struct vgroup *g = mk(l);

	(void)state;
	assert_int_equal(vgroup_state(g), ST_INIT);
	report(g, 0, ST_MASTER, false, false);
	assert_int_equal(vgroup_state(g), ST_MASTER);
	report(g, 1, ST_MASTER, false, false);
	vgroup_stop(g);
	/* Stopping: no verdicts (the others are not taken out of MASTER). */
	assert_false(report(g, 0, ST_INIT, false, false));
	assert_int_equal(vgroup_state(g), ST_MASTER);
	report(g, 1, ST_INIT, false, false);
	assert_int_equal(vgroup_state(g), ST_INIT);
	/* A re-sync is not started from inside one. */
	assert_true(vgroup_sync_begin(g));
	assert_false(vgroup_sync_begin(g));
	vgroup_sync_end(g);
	vgroup_free(g);
	loop_free(l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hold),
	    cmocka_unit_test(test_fault),
	    cmocka_unit_test(test_state_start_stop),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
