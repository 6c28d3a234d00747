/*
 * fakepg.h - the server side of PostgreSQL's protocol 3.0, as much as the
 * unit tests' fake servers need: trust authentication, then one answer to
 * a query as a one-column text row. A message is a type byte (none for
 * the startup packet), a length that counts itself, the payload.
 */
#ifndef VIPD_FAKEPG_H
#define VIPD_FAKEPG_H

#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>

#include "vipd/buf.h"

static inline void
tu_pg_msg(struct buf *b, char type, const void *payload, size_t len)
{
	uint32_t n = htonl((uint32_t)len + 4);

	buf_append(b, &type, 1);
	buf_append(b, &n, 4);
	buf_append(b, payload, len);
}

/* The answer to a startup packet: AuthenticationOk (trust), ReadyForQuery. */
static inline void
tu_pg_auth_ok(struct buf *b)
{
	tu_pg_msg(b, 'R', "\0\0\0\0", 4);
	tu_pg_msg(b, 'Z', "I", 1);
}

/* The answer to a query: one row of one text column, then ReadyForQuery. */
static inline void
tu_pg_one_row(struct buf *b, const char *column, const char *value)
{
	static const char field[] = "\0\0\0\0\0\0"          /* table oid, attnum */
	                            "\0\0\0\x19\xff\xff"    /* type oid 25 (text), len -1 */
	                            "\xff\xff\xff\xff\0\0"; /* typmod -1, text format */
	char desc[128], row[256];
	size_t clen = strlen(column) + 1, vlen = strlen(value);
	uint32_t nlen = htonl((uint32_t)vlen);

	memcpy(desc, "\0\1", 2); /* 1 field */
	memcpy(desc + 2, column, clen);
	memcpy(desc + 2 + clen, field, sizeof(field) - 1);
	memcpy(row, "\0\1", 2); /* 1 column */
	memcpy(row + 2, &nlen, 4);
	memcpy(row + 6, value, vlen);
	tu_pg_msg(b, 'T', desc, 2 + clen + sizeof(field) - 1);
	tu_pg_msg(b, 'D', row, 6 + vlen);
	tu_pg_msg(b, 'C', "SELECT 1", 9);
	tu_pg_msg(b, 'Z', "I", 1);
}

#endif
