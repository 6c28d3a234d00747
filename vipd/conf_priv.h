/*
 * conf_priv.h - the parser's state, shared by conf.c (the reader, [global]),
 * conf_instance.c ([instance NAME]), conf_check.c ([check NAME]) and
 * conf_value.c (values, errors). Not for use outside them.
 */
#ifndef VIPD_CONF_PRIV_H
#define VIPD_CONF_PRIV_H

#include <limits.h>

#include "conf.h"

/* Room for the keys of each section (checked with static asserts). */
#define CONF_GLOBAL_KEYS   12
#define CONF_INSTANCE_KEYS 32
#define CONF_CHECK_KEYS    32
#define CONF_GROUP_KEYS    8

/* conf_track.weight while parsing: "no weight given, take the check's". */
#define CONF_WEIGHT_UNSET INT_MIN

enum section {
	SEC_NONE,     /* before any header: keys are errors */
	SEC_GLOBAL,   /* [global] */
	SEC_INSTANCE, /* [instance NAME]: the last of conf->instances */
	SEC_CHECK,    /* [check NAME]: the last of conf->checks */
	SEC_GROUP,    /* [group NAME]: the last of conf->groups */
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
	int gkseen[CONF_GROUP_KEYS]; /* the current group's keys */
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

/* conf_instance.c: the [instance NAME] section. */
void conf_instance_begin(struct parser *p, const char *name);
void conf_instance_key(struct parser *p, const char *name, const char *val);
void conf_instance_end(struct parser *p);

/* A hook's command line (key on p->lineno): split, its program checked like a script's. */
void conf_hook_validate(struct parser *p, const char *key, const char *cmd, bool shell);

/* conf_group.c: the [group NAME] section; after the whole file, its members. */
void conf_group_begin(struct parser *p, const char *name);
void conf_group_key(struct parser *p, const char *name, const char *val);
void conf_group_end(struct parser *p);
void conf_groups_resolve(struct parser *p);

/* conf_check.c: the [check NAME] section. */
void conf_check_begin(struct parser *p, const char *name);
void conf_check_key(struct parser *p, const char *name, const char *val);
void conf_check_end(struct parser *p);
/* After the whole file: `track` lines against the checks, users' defaults. */
void conf_checks_resolve(struct parser *p);
void conf_checks_free(struct conf *c);

#endif
