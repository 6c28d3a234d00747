/*
 * test_buf.c - the growable buffer and JSON string escaping.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "vipd/buf.h"

static void
test_printf_grows(void **state)
{
	(void)state;
	struct buf b;
	char expect[8192] = "";

	buf_init(&b);
	assert_int_equal(buf_pending(&b), 0);
	for (int i = 0; i < 1000; i++) {
		char piece[16];

		snprintf(piece, sizeof(piece), "%d,", i);
		strcat(expect, piece);
		buf_printf(&b, "%d,", i);
		/* Always a C string, whatever the capacity. */
		assert_true(b.cap > b.len);
		assert_int_equal(b.data[b.len], '\0');
	}
	assert_int_equal(b.len, strlen(expect));
	assert_string_equal(b.data, expect);
	buf_free(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
}

static void
test_printf_large(void **state)
{
	(void)state;
	struct buf b;
	char big[3000];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	buf_init(&b);
	buf_puts(&b, "<");
	buf_printf(&b, "%s>%d", big, 42); /* one call far past the first allocation */
	assert_int_equal(b.len, 1 + strlen(big) + 3);
	assert_memory_equal(b.data + 1, big, strlen(big));
	assert_string_equal(b.data + 1 + strlen(big), ">42");
	buf_free(&b);
}

static void
test_append_binary(void **state)
{
	(void)state;
	struct buf b;
	const char bytes[] = {'a', '\0', 'b'};

	buf_init(&b);
	buf_append(&b, bytes, sizeof(bytes));
	buf_append(&b, "", 0);
	assert_int_equal(b.len, 3);
	assert_memory_equal(b.data, bytes, 3);
	buf_free(&b);
}

static void
test_consume(void **state)
{
	(void)state;
	struct buf b;

	buf_init(&b);
	buf_puts(&b, "hello world");
	assert_int_equal(buf_pending(&b), 11);
	buf_consume(&b, 6); /* a partial write */
	assert_int_equal(buf_pending(&b), 5);
	assert_memory_equal(buf_head(&b), "world", 5);
	buf_puts(&b, "!"); /* appending keeps the unconsumed part */
	assert_int_equal(buf_pending(&b), 6);
	assert_memory_equal(buf_head(&b), "world!", 6);
	buf_consume(&b, 6); /* all written: back to empty */
	assert_int_equal(buf_pending(&b), 0);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.off, 0);
	buf_puts(&b, "again");
	assert_string_equal(buf_head(&b), "again");
	buf_reset(&b);
	assert_int_equal(buf_pending(&b), 0);
	buf_free(&b);
}

static void
test_json_str(void **state)
{
	(void)state;
	static const struct {
		const char *in, *out;
	} cases[] = {
	    {"", "\"\""},
	    {"VI_1", "\"VI_1\""},
	    {"say \"hi\"", "\"say \\\"hi\\\"\""},
	    {"C:\\dir\\", "\"C:\\\\dir\\\\\""},
	    {"a\nb\tc", "\"a\\nb\\tc\""},
	    {"\x01\x1f\r\b", "\"\\u0001\\u001f\\u000d\\u0008\""},
	    {"\x7f", "\"\x7f\""},               /* DEL is not a JSON control char */
	    {"caf\xc3\xa9", "\"caf\xc3\xa9\""}, /* UTF-8 passes through */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf b;

		buf_init(&b);
		json_str(&b, cases[i].in);
		assert_string_equal(b.data, cases[i].out);
		buf_free(&b);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_printf_grows),  cmocka_unit_test(test_printf_large),
	    cmocka_unit_test(test_append_binary), cmocka_unit_test(test_consume),
	    cmocka_unit_test(test_json_str),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
