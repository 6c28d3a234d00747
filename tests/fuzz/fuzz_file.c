/*
 * fuzz_file.c - the file check's number parser (checks/file.c's
 * file_parse_value): what a track_file holds, read as keepalived reads it.
 *
 * Input: the file's first bytes (the check reads at most 63), made a
 * string. Property: a number is reported only if the text has a digit,
 * and the value is what strtol gives; never a crash on any text.
 */
#include <ctype.h>
#include <string.h>

#include "fuzz.h"
#include "checks/check.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[64];
	char why[96];
	long value = 12345;
	size_t n = size < sizeof(text) - 1 ? size : sizeof(text) - 1;
	int rc;

	memcpy(text, data, n);
	text[n] = '\0';
	why[0] = '\0';
	rc = file_parse_value(text, &value, why, sizeof(why));
	if (rc == 0) {
		FUZZ_ASSERT(strpbrk(text, "0123456789") != NULL);
		FUZZ_ASSERT(value == strtol(text, NULL, 10));
	} else {
		FUZZ_ASSERT(rc == -1 && strcmp(why, "not a number") == 0);
	}
	return 0;
}
