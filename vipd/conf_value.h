/*
 * conf_value.h - the typed values of vipd.conf's keys and the error list,
 * shared by the sections' parsers (conf.c, conf_instance.c, conf_check.c).
 * Not for use outside them.
 *
 * Each getter judges the value of a key on line p->lineno; on a bad value
 * it reports "FILE:LINE: key: reason" itself and returns -1.
 */
#ifndef VIPD_CONF_VALUE_H
#define VIPD_CONF_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "conf.h"

struct parser;
struct conf_key;

struct dur_range {
	uint32_t min_ms, max_ms, step_ms;
	const char *text;
};

/*
 * Record "FILE:LINE: key: message" (or "FILE: message" for line 0, or
 * without "key: " when key is NULL), keeping the list sorted by line.
 */
/*
 * Room for element n of an array of n elements that grows one at a time:
 * the array is reallocated only when n is 0 or a power of two, doubling,
 * so filling it costs O(n) copying, not O(n^2) (255 instances of 16 KiB
 * took seconds to parse under ASan, whose realloc always copies). The
 * array or NULL (out of memory; the old one is kept, as with realloc).
 */
void *conf_grow(void *v, size_t n, size_t size);

void conf_perr(struct parser *p, int line, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

int conf_get_uint(struct parser *p, const char *key, const char *val, unsigned min, unsigned max,
                  unsigned *out);
int conf_get_int(struct parser *p, const char *key, const char *val, int min, int max, int *out);
int conf_get_duration(struct parser *p, const char *key, const char *val, const struct dur_range *r,
                      uint32_t *out);
int conf_get_bool(struct parser *p, const char *key, const char *val, bool *out);
/* Whether val is one of conf_get_bool()'s words (and *out its value); no error. */
bool conf_bool_word(const char *val, bool *out);
/*
 * A hook key (conf_hook_names[]) of an [instance] or a [group]: the
 * command into notify[h], its line into notify_line[h]; an empty or too
 * long one is an error. And the range of their notify_timeout.
 */
void conf_set_hook(struct parser *p, const char *key, const char *val, char (*notify)[CONF_STR],
                   int *notify_line);
extern const struct dur_range conf_notify_timeout_range;
/* An existing user name that fits in `size` bytes, copied to out. */
int conf_get_user(struct parser *p, const char *key, const char *val, char *out, size_t size);
/* A string that fits in `size` bytes, copied to out. */
int conf_get_str(struct parser *p, const char *key, const char *val, char *out, size_t size);
/* An absolute path that fits in `size` bytes, copied to out. */
int conf_get_abs_path(struct parser *p, const char *key, const char *val, char *out, size_t size);
/* A unicast IPv4 or IPv6 address (not the unspecified one). */
int conf_get_addr(struct parser *p, const char *key, const char *val, int *family, union inaddr *a);
/*
 * A program vipd may run as root: an existing, executable regular file
 * that only root can change (fsec.h). Nothing copied.
 */
int conf_get_program(struct parser *p, const char *key, const char *prog);
/*
 * When argv[0] is a shell or an interpreter (sh, bash, python3, perl...):
 * each argument that is an absolute path to an existing file is vetted
 * like the program (a regular file only root can change), since the
 * interpreter runs it. 0, or -1 after reporting each one at fault.
 */
int conf_get_program_args(struct parser *p, const char *key, char *const *argv);
/* The same for a shell command line whose words argv_split() can take. */
void conf_shell_args(struct parser *p, const char *key, const char *cmd);
/*
 * A libpq conninfo (a pgsql check's conninfo, promote_pgsql): libpq must
 * load and parse it, and every host must be an IP address or a socket
 * directory (conninfo.h). Copied to out.
 */
int conf_get_conninfo(struct parser *p, const char *key, const char *val, char *out, size_t size);

/* A signed decimal in min..max, no blanks: 0, or -1 (nothing reported). */
int conf_parse_int(const char *s, int min, int max, int *out);
/* 1..CONF_NAME_MAX-1 characters of A-Z a-z 0-9 _ . - (instances and checks). */
bool conf_name_ok(const char *s);
/* The same for "[kind name]" on line p->lineno; reports a missing or bad name. */
bool conf_section_name_ok(struct parser *p, const char *kind, const char *name);

/*
 * Set key `name` from the table `keys` (nkeys long; seen[] holds the line
 * each key was first given on): "given twice" is reported unless the key
 * is repeatable. 0, or -1 if the table has no such key (not reported: the
 * caller names its section).
 */
int conf_set_key(struct parser *p, const struct conf_key *keys, size_t nkeys, int *seen,
                 const char *name, const char *val);

#endif
