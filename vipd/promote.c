/*
 * promote.c - promote_pgsql, see promote.h.
 *
 * One query does both the test and the promotion, so that no other
 * session can slip in between them, and its answer says which happened:
 * 'true' (promoted), 'false' (pg_promote() gave up waiting after 60 s;
 * the server may still finish) or 'primary' (nothing to do). A server
 * that is not in recovery would make pg_promote() fail, hence the CASE.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks/dl.h"
#include "checks/pgq.h"
#include "log.h"
#include "loop.h"
#include "mem.h"
#include "promote.h"

#define PROMOTE_QUERY                                                                              \
	"SELECT CASE WHEN pg_is_in_recovery() THEN pg_promote(true, 60)::text "                    \
	"ELSE 'primary' END"

struct promote {
	struct pgq *q;
	struct timer *timer; /* the deadline */
	uint32_t timeout_ms;
	uint64_t started_ns; /* CLOCK_MONOTONIC */
	promote_done_fn done;
	void *arg;
};

void
promote_cancel(struct promote *p)
{
	if (!p)
		return;
	pgq_cancel(p->q);
	timer_free(p->timer);
	free(p);
}

/* Free first, call back last (the callback may start the next job). */
static void
promote_end(struct promote *p, bool ok, const char *status)
{
	struct promote_result r = {
	    .status = status,
	    .ok = ok,
	    .duration_ns = mono_now_ns() - p->started_ns,
	};
	promote_done_fn done = p->done;
	void *arg = p->arg;

	promote_cancel(p);
	done(&r, arg);
}

static void
promote_answered(const struct pgq_result *res, void *arg)
{
	struct promote *p = arg;
	char status[PGQ_TEXT_MAX + 32];

	p->q = NULL; /* freed by pgq */
	if (!res->value) {
		snprintf(status, sizeof(status), "failed: %s", res->error);
		promote_end(p, false, status);
	} else if (strcmp(res->value, "true") == 0) {
		promote_end(p, true, "promoted");
	} else if (strcmp(res->value, "primary") == 0) {
		promote_end(p, true, "already primary");
	} else if (strcmp(res->value, "false") == 0) {
		promote_end(p, false, "not promoted within 60 s");
	} else {
		snprintf(status, sizeof(status), "failed: unexpected answer \"%s\"", res->value);
		promote_end(p, false, status);
	}
}

static void
promote_expired(struct loop *l, struct timer *t, void *arg)
{
	struct promote *p = arg;
	char status[64];

	(void)l;
	(void)t;
	snprintf(status, sizeof(status), "timed out after %u ms", p->timeout_ms);
	promote_end(p, false, status);
}

struct promote *
promote_start(struct loop *l, const char *conninfo, uint32_t timeout_ms, const char *tag,
              promote_done_fn done, void *arg, char *status, size_t size)
{
	struct promote *p;
	char label[256], err[512];

	if (!dl_pq(err, sizeof(err))) {
		snprintf(status, size, "failed: %s", err);
		return NULL;
	}
	p = xcalloc(1, sizeof(*p));
	p->timer = timer_new(l, promote_expired, p);
	p->timeout_ms = timeout_ms ? timeout_ms : PROMOTE_TIMEOUT_MS;
	p->started_ns = mono_now_ns();
	p->done = done;
	p->arg = arg;
	snprintf(label, sizeof(label), "%s promote_pgsql", tag);
	p->q = pgq_start(l, conninfo, PROMOTE_QUERY, label, promote_answered, p, err, sizeof(err));
	if (!p->q) {
		snprintf(status, size, "failed: %s", err);
		promote_cancel(p);
		return NULL;
	}
	timer_arm_in(p->timer, (uint64_t)p->timeout_ms * NS_PER_MS);
	return p;
}

/* ---- redaction ---- */

struct out {
	char *s;
	size_t size, len;
};

static void
put(struct out *o, const char *s, size_t n)
{
	if (o->len + 1 >= o->size)
		return;
	if (n > o->size - 1 - o->len)
		n = o->size - 1 - o->len;
	memcpy(o->s + o->len, s, n);
	o->len += n;
	o->s[o->len] = '\0';
}

#define SPACES " \t\n\r\f\v"

/*
 * The conninfo keys whose value is a secret (libpq's "debug display"
 * flag "*"): the password, the client key's passphrase, and PostgreSQL
 * 18's OAuth client secret. Paths (passfile, sslkey) are not secrets.
 */
static bool
secret_key(const char *k, size_t n)
{
	static const char *const keys[] = {"password", "sslpassword", "oauth_client_secret"};

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (n == strlen(keys[i]) && strncmp(k, keys[i], n) == 0)
			return true;
	return false;
}

/* "keyword = value ..." as libpq reads it: 'quoted' values, \ escapes. */
static void
redact_keywords(struct out *o, const char *p)
{
	while (*p) {
		size_t n = strspn(p, SPACES);
		bool secret;
		const char *v;

		put(o, p, n);
		p += n;
		n = strcspn(p, "=" SPACES);
		secret = secret_key(p, n);
		put(o, p, n);
		p += n;
		n = strspn(p, SPACES);
		put(o, p, n);
		p += n;
		if (*p != '=')
			continue; /* not valid conninfo; the config refuses it */
		n = 1 + strspn(p + 1, SPACES);
		put(o, p, n);
		p += n;
		v = p;
		if (*p == '\'') {
			for (p++; *p && *p != '\''; p++)
				if (*p == '\\' && p[1])
					p++;
			if (*p)
				p++;
		} else {
			for (; *p && !isspace((unsigned char)*p); p++)
				if (*p == '\\' && p[1])
					p++;
		}
		if (secret)
			put(o, "***", 3);
		else
			put(o, v, (size_t)(p - v));
	}
}

/* "postgresql://user:secret@host/db?password=secret&x=y" */
static void
redact_uri(struct out *o, const char *p)
{
	const char *rest = strstr(p, "://") + 3, *at, *colon, *q;

	put(o, p, (size_t)(rest - p));
	p = rest;
	at = p + strcspn(p, "@/");
	if (*at == '@' && (colon = memchr(p, ':', (size_t)(at - p)))) {
		put(o, p, (size_t)(colon + 1 - p));
		put(o, "***", 3);
		p = at;
	}
	if (!(q = strchr(p, '?'))) {
		put(o, p, strlen(p));
		return;
	}
	put(o, p, (size_t)(q - p));
	for (p = q; *p;) {
		size_t n = 1 + strcspn(p + 1, "&"); /* a '?' or '&' and one key=value */

		size_t k = strcspn(p + 1, "=&");

		if (p[1 + k] == '=' && secret_key(p + 1, k)) {
			put(o, p, k + 2);
			put(o, "***", 3);
		} else {
			put(o, p, n);
		}
		p += n;
	}
}

void
promote_redact(const char *conninfo, char *out, size_t size)
{
	struct out o = {out, size, 0};

	if (!size)
		return;
	out[0] = '\0';
	if (strncmp(conninfo, "postgresql://", 13) == 0 ||
	    strncmp(conninfo, "postgres://", 11) == 0)
		redact_uri(&o, conninfo);
	else
		redact_keywords(&o, conninfo);
}
