/*
 * text.h - text that came from outside (a peer, HAProxy, an HTTP body,
 * PostgreSQL's errors, a hook's output), made safe before it is stored:
 * it reaches the log, an administrator's terminal through vipctl, and
 * JSON, which must be valid UTF-8.
 */
#ifndef VIPD_TEXT_H
#define VIPD_TEXT_H

#include <stddef.h>

/*
 * Length of the well-formed UTF-8 sequence at s (at most n bytes): 1..4,
 * or 0 if it is not one (a stray continuation byte, an overlong form, a
 * surrogate, past U+10FFFF, cut short). A NUL is not a sequence.
 */
size_t utf8_seq_len(const unsigned char *s, size_t n);

/*
 * In place, on a NUL-terminated string: every control character (C0,
 * DEL, C1) and every byte that is not part of well-formed UTF-8 becomes
 * '?'; tabs become spaces. Returns how many were replaced.
 */
size_t text_clean(char *s);

#endif
