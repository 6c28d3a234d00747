/*
 * test_text.c - text from outside made safe to store: escape sequences
 * (a hostile HAProxy or HTTP server colouring an admin's terminal),
 * invalid UTF-8 (which would make `vipctl status --json` invalid JSON),
 * and what stays as it is.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "vipd/buf.h"
#include "vipd/text.h"

static void
clean_is(const char *in, const char *want, size_t nreplaced)
{
	char s[256];

	snprintf(s, sizeof(s), "%s", in);
	assert_int_equal(text_clean(s), nreplaced);
	assert_string_equal(s, want);
}

static void
test_controls(void **state)
{
	(void)state;
	clean_is("\x1b[31mDOWN\x1b[0m", "?[31mDOWN?[0m", 2);
	clean_is("a\rb\bc\x7f", "a?b?c?", 3);
	clean_is("tab\there", "tab here", 0);
	/* C1 controls: CSI (U+009B) is an escape on some terminals. */
	clean_is("x\xc2\x9b" "2Jy", "x?2Jy", 1);
}

static void
test_utf8(void **state)
{
	(void)state;
	/* Well-formed text in any script stays. */
	clean_is("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\x98", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\x98",
	         0);
	clean_is("\xa0 non-breaking \xc2\xa0 ok", "? non-breaking \xc2\xa0 ok", 1);
	/* Stray continuation, overlong, surrogate, past U+10FFFF, cut short. */
	clean_is("a\x80z", "a?z", 1);
	clean_is("\xc0\xaf", "??", 2);
	clean_is("\xe0\x80\xaf", "???", 3);
	clean_is("\xed\xa0\x80", "???", 3);
	clean_is("\xf4\x90\x80\x80", "????", 4);
	clean_is("end\xe2\x82", "end??", 2);
	clean_is("\xff\xfe", "??", 2);
}

/* The JSON writer never emits invalid UTF-8, whatever it is given. */
static void
test_json_invalid_utf8(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b);
	json_str(&b, "ok\xc3\xa9\xff\x1b");
	buf_append(&b, "", 1);
	assert_string_equal(b.data, "\"ok\xc3\xa9\\ufffd\\u001b\"");
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_controls),
	    cmocka_unit_test(test_utf8),
	    cmocka_unit_test(test_json_invalid_utf8),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
