/*
 * conf_priv.h - what conf.c (the parser, [global], [instance NAME]) and
 * conf_check.c ([check NAME]) share. Not for use outside the two.
 */
#ifndef VIPD_CONF_PRIV_H
#define VIPD_CONF_PRIV_H

#include <limits.h>

#include "conf.h"

/* Room for the keys of each section (checked with static asserts). */
#define CONF_GLOBAL_KEYS   8
#define CONF_INSTANCE_KEYS 24
#define CONF_CHECK_KEYS    32

/* conf_track.weight while parsing: "no weight given, take the check's". */
#define CONF_WEIGHT_UNSET INT_MIN

enum section {
	SEC_NONE,     /* before any header: keys are errors */
	SEC_GLOBAL,   /* [global] */
	SEC_INSTANCE, /* [instance NAME]: the last of conf->instances */
	SEC_CHECK,    /* [check NAME]: the last of conf->checks */
	SEC_BAD,      /* a broken or unknown header: keys ignored (already reported) */
};

struct conf_error {
	int line; /* 0: about the whole file */
	char *msg;
};

struct parser {
	const char *file; /* name used in messages */
	struct conf *conf;

	/* The source: a FILE or a NUL-terminated string. */
	FILE *fp;
	const char *text;
	char *line; /* the current raw line, heap */
	size_t linecap;
	int read_errno;

	int lineno;     /* line inih is working on (or the line of a deferred key) */
	bool expect_kv; /* that line must produce one handler call */
	bool got_kv;

	enum section sec;
	int gseen[CONF_GLOBAL_KEYS];   /* line a [global] key was first given on; 0 = not given */
	int iseen[CONF_INSTANCE_KEYS]; /* the same for the current instance */
	int vip_line[CONF_MAX_VIPS];
	int peer_line[CONF_MAX_PEERS];
	int peer_family[CONF_MAX_PEERS];
	int src_family;

	/* The current check: the keys' lines, and the values of the type-specific
	 * keys, kept until the section ends because `type` may come last. */
	int cseen[CONF_CHECK_KEYS];
	char *cval[CONF_CHECK_KEYS];

	struct conf_error *errv; /* sorted by line, stable */
	size_t nerrv;
	unsigned nerr; /* may exceed nerrv if a message could not be stored */
};

struct conf_key {
	const char *name;
	bool repeatable;
	void (*set)(struct parser *p, const char *key, const char *val);
};

struct dur_range {
	uint32_t min_ms, max_ms, step_ms;
	const char *text;
};

/*
 * Record "FILE:LINE: key: message" (or "FILE: message" for line 0, or
 * without "key: " when key is NULL), keeping the list sorted by line.
 */
void conf_perr(struct parser *p, int line, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Values of the line p->lineno; each reports its own error and returns -1. */
int conf_get_uint(struct parser *p, const char *key, const char *val, unsigned min, unsigned max,
                  unsigned *out);
int conf_get_int(struct parser *p, const char *key, const char *val, int min, int max, int *out);
int conf_get_duration(struct parser *p, const char *key, const char *val, const struct dur_range *r,
                      uint32_t *out);
int conf_get_bool(struct parser *p, const char *key, const char *val, bool *out);
/* An existing user name that fits in `size` bytes, copied to out. */
int conf_get_user(struct parser *p, const char *key, const char *val, char *out, size_t size);

/* A signed decimal in min..max, no blanks: 0, or -1. */
int conf_parse_int(const char *s, int min, int max, int *out);
/* 1..CONF_NAME_MAX-1 characters of A-Z a-z 0-9 _ . - (instances and checks). */
bool conf_name_ok(const char *s);
/* The same for "[kind name]" on line p->lineno; reports a missing or bad name. */
bool conf_section_name_ok(struct parser *p, const char *kind, const char *name);

/* conf_check.c: the [check NAME] section. */
void conf_check_begin(struct parser *p, const char *name);
void conf_check_key(struct parser *p, const char *name, const char *val);
void conf_check_end(struct parser *p);
/* After the whole file: `track` lines against the checks, users' defaults. */
void conf_checks_resolve(struct parser *p);
void conf_checks_free(struct conf *c);
/*
 * A libpq conninfo given to `key` on line p->lineno (a pgsql check's
 * conninfo, promote_pgsql): libpq must load and parse it, and every host
 * must be an IP address or a socket directory. Copied to out; 0, or -1
 * with the error reported.
 */
int conf_pg_conninfo(struct parser *p, const char *key, const char *val, char *out, size_t size);
/* A hook's command line (split, program checked like a script's), errors at p->lineno. */
void conf_hook_validate(struct parser *p, const char *key, const char *cmd, bool shell);

#endif
