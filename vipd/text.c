/*
 * text.c - cleaning text that came from outside (text.h).
 */
#include "text.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

size_t
utf8_seq_len(const unsigned char *s, size_t n)
{
	uint32_t cp;
	size_t len;

	if (n == 0 || s[0] == 0)
		return 0;
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07;
	else
		return 0; /* a continuation byte, 0xc0/0xc1 (overlong), or past 0xf4 */
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* Overlong three- and four-byte forms, surrogates, past Unicode. */
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

/* C0 controls, DEL, and the C1 controls U+0080..U+009F (ESC's 8-bit kin, CSI). */
static bool
is_control(const unsigned char *s, size_t len)
{
	if (len == 1)
		return s[0] < 0x20 || s[0] == 0x7f;
	return len == 2 && s[0] == 0xc2 && s[1] < 0xa0;
}

size_t
text_clean(char *str)
{
	unsigned char *s = (unsigned char *)str, *w = s;
	size_t n = strlen(str), replaced = 0;

	while (n > 0) {
		size_t len = utf8_seq_len(s, n);

		if (len == 0) {
			*w++ = '?';
			replaced++;
			s++, n--;
			continue;
		}
		if (len == 1 && *s == '\t') {
			*w++ = ' ';
		} else if (is_control(s, len)) {
			*w++ = '?';
			replaced++;
		} else {
			memmove(w, s, len);
			w += len;
		}
		s += len, n -= len;
	}
	*w = '\0';
	return replaced;
}
