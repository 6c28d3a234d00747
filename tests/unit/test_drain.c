/*
 * test_drain.c - the drained instances' state file (drain.c): what is
 * saved comes back, a missing file is nothing drained, and anything
 * unreadable or malformed drains everything (fail safe) with a reason
 * naming the file and line.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vipd/drain.h"

static char dir[64];

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/vipd-drain-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
write_file(const char *text)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/drained", dir);
	unlink(path);
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
}

static void
test_missing_is_empty(void **state)
{
	struct drain_set s = {0};
	char why[256] = "";

	(void)state;
	assert_int_equal(drain_load("/nonexistent-vipd-dir", &s, why, sizeof(why)), 0);
	assert_false(s.all);
	assert_int_equal(s.n, 0);
	assert_false(drain_has(&s, "VI_1"));
}

static void
test_roundtrip(void **state)
{
	struct drain_set s = {0}, t = {0};
	char why[256] = "", sub[128];

	(void)state;
	assert_int_equal(drain_add(&s, "VI_1"), 0);
	assert_int_equal(drain_add(&s, "db.b-2"), 0);
	assert_int_equal(drain_add(&s, "VI_1"), 0);
	assert_int_equal(s.n, 2);
	/* The directory is created. */
	snprintf(sub, sizeof(sub), "%s/state", dir);
	assert_int_equal(drain_save(sub, &s, why, sizeof(why)), 0);
	assert_int_equal(drain_load(sub, &t, why, sizeof(why)), 0);
	assert_int_equal(t.n, 2);
	assert_true(drain_has(&t, "VI_1") && drain_has(&t, "db.b-2"));
	assert_false(drain_has(&t, "VI_2"));
	drain_del(&t, "VI_1");
	assert_false(drain_has(&t, "VI_1"));
	assert_true(drain_has(&t, "db.b-2"));
	/* Every instance. */
	drain_clear(&s);
	s.all = true;
	assert_int_equal(drain_save(sub, &s, why, sizeof(why)), 0);
	assert_int_equal(drain_load(sub, &t, why, sizeof(why)), 0);
	assert_true(t.all);
	assert_true(drain_has(&t, "anything"));
	/* Nothing. */
	drain_clear(&s);
	assert_int_equal(drain_save(sub, &s, why, sizeof(why)), 0);
	assert_int_equal(drain_load(sub, &t, why, sizeof(why)), 0);
	assert_false(t.all);
	assert_int_equal(t.n, 0);
	drain_clear(&t);
}

static void
test_comments_and_blanks(void **state)
{
	struct drain_set s = {0};
	char why[256] = "";

	(void)state;
	write_file("# a comment\n\n  VI_1  \r\nVI_2");
	assert_int_equal(drain_load(dir, &s, why, sizeof(why)), 0);
	assert_int_equal(s.n, 2);
	assert_true(drain_has(&s, "VI_1") && drain_has(&s, "VI_2"));
	drain_clear(&s);
}

/* A malformed line: everything drained, and the reason names the file and line. */
static void
test_corrupt_drains_all(void **state)
{
	struct drain_set s = {0};
	char why[256] = "", want[128];

	(void)state;
	write_file("VI_1\nVI 2 is here\n");
	assert_int_equal(drain_load(dir, &s, why, sizeof(why)), -1);
	assert_true(s.all);
	assert_true(drain_has(&s, "VI_9"));
	snprintf(want, sizeof(want), "%s/drained:2:", dir);
	assert_non_null(strstr(why, want));
	write_file("VI_1\n\x01\x02garbage");
	assert_int_equal(drain_load(dir, &s, why, sizeof(why)), -1);
	assert_true(s.all);
	drain_clear(&s);
}

/* Not a regular file (a FIFO would block a plain open; a symlink is not followed). */
static void
test_not_regular(void **state)
{
	struct drain_set s = {0};
	char why[256] = "", path[128];

	(void)state;
	snprintf(path, sizeof(path), "%s/drained", dir);
	unlink(path);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(drain_load(dir, &s, why, sizeof(why)), -1);
	assert_true(s.all);
	unlink(path);
	assert_int_equal(symlink("/etc/hostname", path), 0);
	assert_int_equal(drain_load(dir, &s, why, sizeof(why)), -1);
	assert_true(s.all);
	unlink(path);
	drain_clear(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_missing_is_empty),    cmocka_unit_test(test_roundtrip),
	    cmocka_unit_test(test_comments_and_blanks), cmocka_unit_test(test_corrupt_drains_all),
	    cmocka_unit_test(test_not_regular),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
