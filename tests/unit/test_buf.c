/*
 * test_buf.c - the growable buffer, JSON string escaping and the JSON writer.
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

/* An empty buf's data (NULL) appended to another: nothing, and no UB. */
static void
test_append_empty(void **state)
{
	struct buf a, b;

	(void)state;
	buf_init(&a);
	buf_init(&b);
	buf_append(&b, a.data, a.len);
	assert_int_equal(b.len, 0);
	buf_free(&a);
	buf_free(&b);
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

/*
 * A writer that always leaves a few bytes unread (a slow `vipctl events`):
 * the memory stays bounded by what is unread, and the bytes come out in
 * order. It used to grow with every byte ever written.
 */
static void
test_consume_partial_is_bounded(void **state)
{
	(void)state;
	struct buf b;
	char line[128], out[256];
	size_t seq_in = 0, seq_out = 0;

	buf_init(&b);
	for (int i = 0; i < 100000; i++) {
		int n = snprintf(line, sizeof(line), "{\"seq\":%zu,\"type\":\"x\"}\n", seq_in++);

		buf_append(&b, line, (size_t)n);
		/* The reader takes all but 3 bytes of what is pending. */
		size_t take = buf_pending(&b) - 3;

		assert_true(take < sizeof(out));
		memcpy(out, buf_head(&b), take);
		for (size_t k = 0; k < take; k++)
			seq_out += out[k] == '\n';
		buf_consume(&b, take);
		assert_true(b.cap <= 16 * 1024);
	}
	assert_int_equal(buf_pending(&b), 3);
	assert_int_equal(seq_out, seq_in - 1);
	/* A burst, then drained: the memory goes back. */
	for (int i = 0; i < 10000; i++)
		buf_append(&b, line, 100);
	assert_true(b.cap >= 1000000);
	buf_consume(&b, buf_pending(&b) - 10);
	assert_true(b.cap <= 16 * 1024);
	assert_int_equal(buf_pending(&b), 10);
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
	    {"\x7f", "\"\\u007f\""},           /* DEL: valid JSON either way, escaped for terminals */
	    {"a\xff", "\"a\\ufffd\""},          /* not UTF-8: JSON must be */
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

/* The writer's output as a string, then reset for the next case. */
static const char *
doc(struct buf *b)
{
	static char out[1024];

	snprintf(out, sizeof(out), "%.*s", (int)b->len, b->data);
	buf_reset(b);
	return out;
}

static void
test_json_scalars(void **state)
{
	(void)state;
	struct buf b;
	struct json j;

	buf_init(&b);
	json_init(&j, &b);
	json_obj_begin(&j);
	json_key_str(&j, "s", "a\"b\\c\n\x01");
	json_key_str(&j, "null_str", NULL);
	json_key_uint(&j, "u", UINT64_MAX);
	json_key_int(&j, "i", INT64_MIN);
	json_key_int(&j, "neg", -3);
	json_key_bool(&j, "t", true);
	json_key_bool(&j, "f", false);
	json_key_null(&j, "n");
	json_key_double(&j, "d1", 2.26, 1);
	json_key_double(&j, "d0", 0, 1);
	json_key_double(&j, "d3", 1.0 / 3, 3);
	json_key_str(&j, "k\"ey", "");
	json_obj_end(&j);
	assert_string_equal(doc(&b), "{\"s\":\"a\\\"b\\\\c\\n\\u0001\",\"null_str\":null,"
	                             "\"u\":18446744073709551615,\"i\":-9223372036854775808,"
	                             "\"neg\":-3,\"t\":true,\"f\":false,\"n\":null,\"d1\":2.3,"
	                             "\"d0\":0.0,\"d3\":0.333,\"k\\\"ey\":\"\"}");
	buf_free(&b);
}

static void
test_json_nesting_and_commas(void **state)
{
	(void)state;
	struct buf b;
	struct json j;

	buf_init(&b);
	/* Empty containers, at the top and nested. */
	json_init(&j, &b);
	json_obj_begin(&j);
	json_obj_end(&j);
	assert_string_equal(doc(&b), "{}");
	json_init(&j, &b);
	json_arr_begin(&j);
	json_arr_begin(&j);
	json_arr_end(&j);
	json_obj_begin(&j);
	json_obj_end(&j);
	json_arr_end(&j);
	assert_string_equal(doc(&b), "[[],{}]");

	/* A comma between members, none after a key, none after an opening. */
	json_init(&j, &b);
	json_obj_begin(&j);
	json_key(&j, "a");
	json_arr_begin(&j);
	json_val_uint(&j, 1);
	json_val_str(&j, "x");
	json_obj_begin(&j);
	json_key_uint(&j, "k", 2);
	json_key(&j, "in");
	json_obj_begin(&j);
	json_obj_end(&j);
	json_key_uint(&j, "after", 3);
	json_obj_end(&j);
	json_val_null(&j);
	json_arr_end(&j);
	json_key(&j, "o");
	json_obj_begin(&j);
	json_key(&j, "deep");
	json_arr_begin(&j);
	json_arr_begin(&j);
	json_val_bool(&j, true);
	json_arr_end(&j);
	json_arr_end(&j);
	json_obj_end(&j);
	json_key_int(&j, "last", -1);
	json_obj_end(&j);
	assert_string_equal(doc(&b), "{\"a\":[1,\"x\",{\"k\":2,\"in\":{},\"after\":3},null],"
	                             "\"o\":{\"deep\":[[true]]},\"last\":-1}");
	assert_int_equal(j.depth, 0);
	buf_free(&b);
}

/* A whole document rendered into the buffer by someone else, as one value. */
static void
render_pair(struct buf *b, unsigned n)
{
	struct json j;

	json_init(&j, b);
	json_obj_begin(&j);
	json_key_uint(&j, "n", n);
	json_obj_end(&j);
}

static void
test_json_val_buf(void **state)
{
	(void)state;
	struct buf b;
	struct json j;

	buf_init(&b);
	buf_puts(&b, "keep:"); /* the writer appends to what is there */
	json_init(&j, &b);
	json_obj_begin(&j);
	json_key(&j, "list");
	json_arr_begin(&j);
	for (unsigned i = 0; i < 3; i++)
		render_pair(json_val_buf(&j), i);
	json_arr_end(&j);
	json_key(&j, "one");
	render_pair(json_val_buf(&j), 9);
	json_obj_end(&j);
	assert_string_equal(doc(&b), "keep:{\"list\":[{\"n\":0},{\"n\":1},{\"n\":2}],"
	                             "\"one\":{\"n\":9}}");
	buf_free(&b);
}

/* As deep as the writer goes: every level keeps its own comma state. */
static void
test_json_depth(void **state)
{
	(void)state;
	struct buf b;
	struct json j;
	char want[16 * JSON_MAX_DEPTH] = "";

	buf_init(&b);
	json_init(&j, &b);
	for (int i = 0; i < JSON_MAX_DEPTH; i++) {
		json_arr_begin(&j);
		json_val_uint(&j, (uint64_t)i);
		snprintf(want + strlen(want), sizeof(want) - strlen(want), "%s[%d", i ? "," : "",
		         i);
	}
	for (int i = 0; i < JSON_MAX_DEPTH; i++) {
		json_val_bool(&j, false); /* after a closed array: a comma again */
		json_arr_end(&j);
		strcat(want, ",false]");
	}
	assert_int_equal(j.depth, 0);
	assert_string_equal(doc(&b), want); /* [0,[1,...[31,false],...,false] */
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_printf_grows),
	    cmocka_unit_test(test_printf_large),
	    cmocka_unit_test(test_append_empty),
	    cmocka_unit_test(test_append_binary),
	    cmocka_unit_test(test_consume),
	    cmocka_unit_test(test_json_str),
	    cmocka_unit_test(test_consume_partial_is_bounded),
	    cmocka_unit_test(test_json_scalars),
	    cmocka_unit_test(test_json_nesting_and_commas),
	    cmocka_unit_test(test_json_val_buf),
	    cmocka_unit_test(test_json_depth),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
