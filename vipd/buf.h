/*
 * buf.h - a growable byte buffer, and a small JSON writer on top of it,
 * used for control-socket replies and the status output.
 */
#ifndef VIPD_BUF_H
#define VIPD_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf {
	char *data;
	size_t len; /* bytes used */
	size_t cap; /* bytes allocated */
	size_t off; /* bytes already consumed (by a writer) */
};

void buf_init(struct buf *b);
void buf_free(struct buf *b);
void buf_reset(struct buf *b);
/* Append; aborts the process on allocation failure (vipd treats ENOMEM as fatal). */
void buf_append(struct buf *b, const void *data, size_t len);
void buf_puts(struct buf *b, const char *s);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap);
/* Drop the first n unconsumed bytes (after a partial write). */
void buf_consume(struct buf *b, size_t n);
/* Unconsumed bytes. */
static inline size_t buf_pending(const struct buf *b)
{
	return b->len - b->off;
}
static inline const char *buf_head(const struct buf *b)
{
	return b->data + b->off;
}

/* JSON: a string literal with escaping, quotes included. */
void json_str(struct buf *b, const char *s);

#endif
