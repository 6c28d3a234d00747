/*
 * buf.c - growable buffer, JSON string escaping and the JSON writer.
 */
#include "buf.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "text.h"

#define BUF_KEEP (16 * 1024) /* a buffer this small is never shrunk */

void
buf_init(struct buf *b)
{
	memset(b, 0, sizeof(*b));
}

void
buf_free(struct buf *b)
{
	free(b->data);
	buf_init(b);
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	b->off = 0;
}

/* Make room for n more bytes plus a NUL, so data is always a C string. */
static void
buf_reserve(struct buf *b, size_t n)
{
	size_t need = b->len + n + 1;

	if (need <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap *= 2;
	b->data = xrealloc(b->data, cap);
	b->cap = cap;
}

void
buf_append(struct buf *b, const void *data, size_t len)
{
	buf_reserve(b, len);
	if (len) /* data may be NULL then (an empty buf's) */
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
}

void
buf_puts(struct buf *b, const char *s)
{
	buf_append(b, s, strlen(s));
}

void
buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list ap2;

	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return;
	buf_reserve(b, (size_t)n);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

void
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(b, fmt, ap);
	va_end(ap);
}

/*
 * Give back memory a burst left behind: a buffer far larger than what it
 * holds shrinks to twice that (small buffers are kept, they are reused).
 */
static void
buf_shrink(struct buf *b)
{
	size_t cap = BUF_KEEP;

	if (b->cap <= BUF_KEEP || b->cap / 4 <= b->len + 1)
		return;
	while (cap < 2 * (b->len + 1))
		cap *= 2;
	if (cap >= b->cap)
		return;
	b->data = xrealloc(b->data, cap);
	b->cap = cap;
}

/*
 * The consumed head is dropped once it is at least as long as what is
 * left (one memmove per byte written, amortized): the buffer then never
 * holds more than twice what is unread, whatever a writer that always
 * leaves a few bytes behind does. Without that, a reader of an event
 * stream that never drains it fully grew it without end.
 */
void
buf_consume(struct buf *b, size_t n)
{
	b->off += n;
	if (b->off >= b->len) {
		buf_reset(b);
	} else if (b->off >= b->len - b->off) {
		memmove(b->data, b->data + b->off, b->len - b->off);
		b->len -= b->off;
		b->off = 0;
		b->data[b->len] = '\0';
	}
	buf_shrink(b);
}

void
json_str(struct buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);

	buf_puts(b, "\"");
	while (n > 0) {
		size_t len = utf8_seq_len(p, n);
		unsigned char c = *p;

		if (len == 0) /* not UTF-8: JSON must be */
			buf_puts(b, "\\ufffd"), len = 1;
		else if (c == '"' || c == '\\')
			buf_printf(b, "\\%c", c);
		else if (c == '\n')
			buf_puts(b, "\\n");
		else if (c == '\t')
			buf_puts(b, "\\t");
		else if (c < 0x20 || c == 0x7f)
			buf_printf(b, "\\u%04x", c);
		else
			buf_append(b, p, len);
		p += len, n -= len;
	}
	buf_puts(b, "\"");
}

/* --- the writer ------------------------------------------------------------ */

void
json_init(struct json *j, struct buf *b)
{
	*j = (struct json){.b = b};
}

/* Before a key or a value: the comma, unless it is the first in its container or a key's value. */
static void
json_sep(struct json *j)
{
	uint32_t bit;

	if (j->keyed) {
		j->keyed = false;
		return;
	}
	if (j->depth == 0)
		return;
	bit = 1u << (j->depth - 1);
	if (j->filled & bit)
		buf_puts(j->b, ",");
	j->filled |= bit;
}

static void
json_open(struct json *j, const char *tok)
{
	json_sep(j);
	assert(j->depth < JSON_MAX_DEPTH);
	buf_puts(j->b, tok);
	j->depth++;
	j->filled &= ~(1u << (j->depth - 1));
}

static void
json_close(struct json *j, const char *tok)
{
	assert(j->depth > 0 && !j->keyed);
	j->depth--;
	buf_puts(j->b, tok);
}

void
json_obj_begin(struct json *j)
{
	json_open(j, "{");
}

void
json_obj_end(struct json *j)
{
	json_close(j, "}");
}

void
json_arr_begin(struct json *j)
{
	json_open(j, "[");
}

void
json_arr_end(struct json *j)
{
	json_close(j, "]");
}

void
json_key(struct json *j, const char *key)
{
	assert(!j->keyed);
	json_sep(j);
	json_str(j->b, key);
	buf_puts(j->b, ":");
	j->keyed = true;
}

void
json_val_str(struct json *j, const char *s)
{
	json_sep(j);
	if (s)
		json_str(j->b, s);
	else
		buf_puts(j->b, "null");
}

void
json_val_uint(struct json *j, uint64_t v)
{
	json_sep(j);
	buf_printf(j->b, "%" PRIu64, v);
}

void
json_val_int(struct json *j, int64_t v)
{
	json_sep(j);
	buf_printf(j->b, "%" PRId64, v);
}

void
json_val_bool(struct json *j, bool v)
{
	json_sep(j);
	buf_puts(j->b, v ? "true" : "false");
}

void
json_val_null(struct json *j)
{
	json_sep(j);
	buf_puts(j->b, "null");
}

void
json_val_double(struct json *j, double v, int decimals)
{
	json_sep(j);
	buf_printf(j->b, "%.*f", decimals, v);
}

struct buf *
json_val_buf(struct json *j)
{
	json_sep(j);
	return j->b;
}

void
json_key_str(struct json *j, const char *key, const char *s)
{
	json_key(j, key);
	json_val_str(j, s);
}

void
json_key_uint(struct json *j, const char *key, uint64_t v)
{
	json_key(j, key);
	json_val_uint(j, v);
}

void
json_key_int(struct json *j, const char *key, int64_t v)
{
	json_key(j, key);
	json_val_int(j, v);
}

void
json_key_bool(struct json *j, const char *key, bool v)
{
	json_key(j, key);
	json_val_bool(j, v);
}

void
json_key_null(struct json *j, const char *key)
{
	json_key(j, key);
	json_val_null(j);
}

void
json_key_double(struct json *j, const char *key, double v, int decimals)
{
	json_key(j, key);
	json_val_double(j, v, decimals);
}
