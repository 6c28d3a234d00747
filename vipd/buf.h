/*
 * buf.h - a growable byte buffer, and the JSON writer on top of it, used
 * for control-socket replies, the status output and the event lines.
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
/* Append; out of memory is fatal (mem.h). */
void buf_append(struct buf *b, const void *data, size_t len);
void buf_puts(struct buf *b, const char *s);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap);
/*
 * Drop the first n unconsumed bytes (after a partial write). The memory
 * kept is bounded by what is still unconsumed: at most about twice that,
 * or 16 KiB.
 */
void buf_consume(struct buf *b, size_t n);
/* Unconsumed bytes. */
static inline size_t
buf_pending(const struct buf *b)
{
	return b->len - b->off;
}
static inline const char *
buf_head(const struct buf *b)
{
	return b->data + b->off;
}

/* JSON: a string literal with escaping, quotes included. */
void json_str(struct buf *b, const char *s);

/*
 * The JSON writer every document vipd emits goes through (status, hooks,
 * the event lines): it keeps the nesting and the commas, so a renderer only
 * says what it writes, in order:
 *
 *   struct json j;
 *
 *   json_init(&j, b);
 *   json_obj_begin(&j);
 *   json_key_str(&j, "name", v->cfg.name);
 *   json_key(&j, "vips");
 *   json_arr_begin(&j);
 *   for (size_t i = 0; i < n; i++)
 *           json_val_str(&j, vip[i]);
 *   json_arr_end(&j);
 *   json_obj_end(&j);
 *
 * writes {"name":"VI_1","vips":["192.0.2.1/24"]} with nothing between the
 * tokens. Strings are escaped with json_str(); integers are plain decimal;
 * a double has a fixed number of decimals (printf's %.*f). A key is always
 * followed by exactly one value. The writer does not police the grammar
 * (keys only in objects, every begin ended): renderers are fixed code, and
 * the tests compare their output byte for byte.
 *
 * A value rendered by a function that writes a whole document into a
 * struct buf (check_status_json(), say) is nested with json_val_buf():
 * it writes the separator and returns the buffer to write that one value to.
 */
#define JSON_MAX_DEPTH 32

struct json {
	struct buf *b;
	unsigned depth;  /* open objects and arrays */
	uint32_t filled; /* bit depth-1: that container has a member already */
	bool keyed;      /* a key was written: its value comes next, no comma */
};

void json_init(struct json *j, struct buf *b);
void json_obj_begin(struct json *j);
void json_obj_end(struct json *j);
void json_arr_begin(struct json *j);
void json_arr_end(struct json *j);
/* The key of the next value (inside an object). */
void json_key(struct json *j, const char *key);
/* A string; NULL writes null. */
void json_val_str(struct json *j, const char *s);
void json_val_uint(struct json *j, uint64_t v);
void json_val_int(struct json *j, int64_t v);
void json_val_bool(struct json *j, bool v);
void json_val_null(struct json *j);
void json_val_double(struct json *j, double v, int decimals);
/* One value that the caller writes into the returned buffer itself. */
struct buf *json_val_buf(struct json *j);

/* A key and its value, in one call. */
void json_key_str(struct json *j, const char *key, const char *s);
void json_key_uint(struct json *j, const char *key, uint64_t v);
void json_key_int(struct json *j, const char *key, int64_t v);
void json_key_bool(struct json *j, const char *key, bool v);
void json_key_null(struct json *j, const char *key);
void json_key_double(struct json *j, const char *key, double v, int decimals);

#endif
