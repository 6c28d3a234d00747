/*
 * conf_value.c - what every section of vipd.conf shares: the errors, kept
 * sorted by line, and the typed values of a key, each reporting its own
 * error. A leaf of the parser: conf.c, conf_instance.c and conf_check.c
 * call into it, it calls none of them.
 */
#include "conf_value.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "argv.h"
#include "conf_priv.h"
#include "conninfo.h"
#include "fsec.h"

/* ---- errors ---- */

void *
conf_grow(void *v, size_t n, size_t size)
{
	if (n > 0 && (n & (n - 1)) != 0)
		return v; /* between powers of two: there is room */
	return reallocarray(v, n ? 2 * n : 1, size);
}

void
conf_perr(struct parser *p, int line, const char *key, const char *fmt, ...)
{
	char *msg, *full;
	char where[32] = "";
	va_list ap;
	int n;

	p->nerr++;
	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (line > 0)
		snprintf(where, sizeof(where), ":%d", line);
	n = asprintf(&full, "%s%s: %s%s%s", p->file, where, key ? key : "", key ? ": " : "", msg);
	free(msg);
	if (n < 0)
		return;
	struct conf_error *v = conf_grow(p->errv, p->nerrv, sizeof(*v));
	if (!v) {
		free(full);
		return;
	}
	p->errv = v;
	size_t i = p->nerrv++;
	for (; i > 0 && v[i - 1].line > line; i--)
		v[i] = v[i - 1];
	v[i] = (struct conf_error){line, full};
}

/* ---- numbers and durations ---- */

int
conf_parse_int(const char *s, int min, int max, int *out)
{
	long long n = 0;
	bool neg = *s == '-';
	const char *d = neg ? s + 1 : s;

	for (s = d; isdigit((unsigned char)*s) && n <= INT_MAX; s++)
		n = n * 10 + (*s - '0');
	if (s == d || *s != '\0')
		return -1;
	n = neg ? -n : n;
	if (n < min || n > max)
		return -1;
	*out = (int)n;
	return 0;
}

/* A decimal in min..max (max < 2^32 / 10); no sign, no blanks. */
int
conf_get_uint(struct parser *p, const char *key, const char *val, unsigned min, unsigned max,
              unsigned *out)
{
	unsigned long n = 0;
	const char *s = val;

	for (; isdigit((unsigned char)*s) && n <= max; s++)
		n = n * 10 + (unsigned long)(*s - '0');
	if (s == val || *s != '\0' || n < min || n > max) {
		conf_perr(p, p->lineno, key, "must be %u..%u, got \"%s\"", min, max, val);
		return -1;
	}
	*out = (unsigned)n;
	return 0;
}

int
conf_get_int(struct parser *p, const char *key, const char *val, int min, int max, int *out)
{
	if (conf_parse_int(val, min, max, out) < 0) {
		conf_perr(p, p->lineno, key, "must be %d..%d, got \"%s\"", min, max, val);
		return -1;
	}
	return 0;
}

int
conf_parse_duration_ms(const char *s, uint32_t *ms)
{
	uint64_t whole = 0, frac = 0, v;
	int places = 0;

	if (!isdigit((unsigned char)*s))
		return -1; /* empty, negative, ".5", garbage */
	for (; isdigit((unsigned char)*s); s++)
		if ((whole = whole * 10 + (uint64_t)(*s - '0')) > UINT32_MAX)
			return -1;
	if (*s == '.') {
		if (!isdigit((unsigned char)*++s))
			return -1;
		for (; isdigit((unsigned char)*s); s++, places++)
			if (places == 3)
				return -1; /* below a millisecond */
			else
				frac = frac * 10 + (uint64_t)(*s - '0');
		for (int i = places; i < 3; i++)
			frac *= 10;
	}
	if (strcmp(s, "ms") == 0 && places == 0)
		v = whole;
	else if (strcmp(s, "s") == 0 || *s == '\0') /* bare: seconds, as keepalived's advert_int */
		v = whole * 1000 + frac;
	else
		return -1;
	if (v > UINT32_MAX)
		return -1;
	*ms = (uint32_t)v;
	return 0;
}

int
conf_get_duration(struct parser *p, const char *key, const char *val, const struct dur_range *r,
                  uint32_t *out)
{
	uint32_t ms;

	if (conf_parse_duration_ms(val, &ms) < 0) {
		conf_perr(p, p->lineno, key,
		          "must be a duration such as \"1s\" or \"100ms\", got \"%s\"", val);
		return -1;
	}
	if (ms < r->min_ms || ms > r->max_ms || ms % r->step_ms != 0) {
		conf_perr(p, p->lineno, key, "must be %s, got \"%s\"", r->text, val);
		return -1;
	}
	*out = ms;
	return 0;
}

/* ---- words ---- */

bool
conf_bool_word(const char *val, bool *out)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(val, yes[i]) == 0 || strcasecmp(val, no[i]) == 0) {
			*out = strcasecmp(val, yes[i]) == 0;
			return true;
		}
	}
	return false;
}

int
conf_get_bool(struct parser *p, const char *key, const char *val, bool *out)
{
	if (conf_bool_word(val, out))
		return 0;
	conf_perr(p, p->lineno, key, "must be yes or no (or true/false, on/off, 1/0), got \"%s\"",
	          val);
	return -1;
}

/* The user must exist now: a typo found at reload beats a check that never runs. */
int
conf_get_user(struct parser *p, const char *key, const char *val, char *out, size_t size)
{
	if (!*val || strlen(val) >= size) {
		conf_perr(p, p->lineno, key, "must be a user name of 1..%zu characters, got \"%s\"",
		          size - 1, val);
		return -1;
	}
	if (!getpwnam(val)) {
		conf_perr(p, p->lineno, key, "no such user \"%s\"", val);
		return -1;
	}
	snprintf(out, size, "%s", val);
	return 0;
}

int
conf_get_str(struct parser *p, const char *key, const char *val, char *out, size_t size)
{
	if (strlen(val) >= size) {
		conf_perr(p, p->lineno, key, "too long, at most %zu bytes", size - 1);
		return -1;
	}
	strcpy(out, val);
	return 0;
}

int
conf_get_abs_path(struct parser *p, const char *key, const char *val, char *out, size_t size)
{
	if (val[0] != '/' || strlen(val) >= size) {
		conf_perr(p, p->lineno, key,
		          "must be an absolute path of at most %zu bytes, got \"%s\"", size - 1,
		          val);
		return -1;
	}
	strcpy(out, val);
	return 0;
}

/* A unicast address: IPv4 or IPv6, not the unspecified address. */
int
conf_get_addr(struct parser *p, const char *key, const char *val, int *family, union inaddr *a)
{
	if (addr_pton(val, family, a) < 0) {
		conf_perr(p, p->lineno, key, "must be an IPv4 or IPv6 address, got \"%s\"", val);
		return -1;
	}
	if (addr_is_zero(*family, a)) {
		conf_perr(p, p->lineno, key, "must not be the unspecified address, got \"%s\"",
		          val);
		return -1;
	}
	return 0;
}

bool
conf_name_ok(const char *s)
{
	size_t n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-");

	return n > 0 && n < CONF_NAME_MAX && s[n] == '\0';
}

bool
conf_section_name_ok(struct parser *p, const char *kind, const char *name)
{
	if (!*name) {
		conf_perr(p, p->lineno, NULL, "[%s]: missing %s name", kind, kind);
		return false;
	}
	if (!conf_name_ok(name)) {
		conf_perr(p, p->lineno, NULL,
		          "[%s %s]: name must be 1..%d characters of A-Z a-z 0-9 _ . -", kind, name,
		          CONF_NAME_MAX - 1);
		return false;
	}
	return true;
}

/* ---- what vipd will run or connect to ---- */

/* A program vipd would run as root: refused if missing, not executable or not root-only. */
int
conf_get_program(struct parser *p, const char *key, const char *prog)
{
	char why[PATH_MAX + 128];
	struct stat st;

	if (prog[0] != '/') {
		conf_perr(p, p->lineno, key, "%s: must be an absolute path", prog);
		return -1;
	}
	if (stat(prog, &st) < 0) {
		conf_perr(p, p->lineno, key, "%s: %s", prog,
		          errno == ENOENT ? "no such file" : strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		conf_perr(p, p->lineno, key, "%s: not a regular file", prog);
		return -1;
	}
	if (!(st.st_mode & (S_IXUSR | S_IXGRP | S_IXOTH))) {
		conf_perr(p, p->lineno, key, "%s: not executable", prog);
		return -1;
	}
	if (fsec_root_only(prog, why, sizeof(why)) < 0) {
		conf_perr(p, p->lineno, key,
		          "%s is writable by non-root users (%s); vipd refuses to run it as root",
		          prog, why);
		return -1;
	}
	return 0;
}

/*
 * Whether prog reads its arguments as a program to run: a shell or a
 * script interpreter ("python3.11" too). Its file arguments are then
 * vetted like the program itself: `/bin/sh /tmp/x.sh` is /tmp/x.sh run
 * as root.
 */
static bool
is_interpreter(const char *prog)
{
	static const char *const names[] = {
	    "sh",   "bash", "dash", "ksh", "zsh",   "ash", "busybox", "env",  "python", "perl",
	    "ruby", "php",  "node", "lua", "tclsh", "awk", "gawk",    "mawk", "expect", "pwsh"};
	const char *base = strrchr(prog, '/');
	size_t n;

	base = base ? base + 1 : prog;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		n = strlen(names[i]);
		/* The name alone, or with a version: python3, python3.11, perl5.36. */
		if (strncmp(base, names[i], n) == 0 &&
		    (base[n] == '\0' || strspn(base + n, "0123456789.") == strlen(base + n)))
			return true;
	}
	return false;
}

int
conf_get_program_args(struct parser *p, const char *key, char *const *argv)
{
	char why[PATH_MAX + 128];
	struct stat st;
	int rc = 0;

	if (!argv[0] || !is_interpreter(argv[0]))
		return 0;
	for (size_t i = 1; argv[i]; i++) {
		/* Options, words and paths not there yet are the program's business. */
		if (argv[i][0] != '/' || stat(argv[i], &st) < 0 || S_ISDIR(st.st_mode))
			continue;
		if (!S_ISREG(st.st_mode)) {
			conf_perr(p, p->lineno, key,
			          "%s (an argument of %s): not a regular file; vipd refuses to run "
			          "it as root",
			          argv[i], argv[0]);
			rc = -1;
		} else if (fsec_root_only(argv[i], why, sizeof(why)) < 0) {
			conf_perr(p, p->lineno, key,
			          "%s (an argument of %s) is writable by non-root users (%s); vipd "
			          "refuses to run it as root",
			          argv[i], argv[0], why);
			rc = -1;
		}
	}
	return rc;
}

void
conf_shell_args(struct parser *p, const char *key, const char *cmd)
{
	char *argv[ARGV_MAX + 1];
	const char *why;

	/* Shell syntax argv_split() does not take (a pipe, a quote) is left alone. */
	if (argv_split(cmd, argv, &why) < 0)
		return;
	conf_get_program_args(p, key, argv);
	for (size_t i = 0; argv[i]; i++)
		free(argv[i]);
}

int
conf_get_conninfo(struct parser *p, const char *key, const char *val, char *out, size_t size)
{
	char why[CONF_STR + 512];

	if (conninfo_check(val, why, sizeof(why)) < 0) {
		conf_perr(p, p->lineno, key, "%s", why);
		return -1;
	}
	return conf_get_str(p, key, val, out, size);
}

/* ---- keys ---- */

/* A key of a [global] or [instance NAME] section. */
int
conf_set_key(struct parser *p, const struct conf_key *keys, size_t nkeys, int *seen,
             const char *name, const char *val)
{
	for (size_t i = 0; i < nkeys; i++) {
		if (strcmp(name, keys[i].name) != 0)
			continue;
		if (seen[i] && !keys[i].repeatable) {
			conf_perr(p, p->lineno, name, "given twice, first on line %d", seen[i]);
			return 0;
		}
		if (!seen[i])
			seen[i] = p->lineno;
		keys[i].set(p, name, val);
		return 0;
	}
	return -1;
}

const struct dur_range conf_notify_timeout_range = {10, 3600 * 1000, 1, "10ms..3600s"};

void
conf_set_hook(struct parser *p, const char *key, const char *val, char (*notify)[CONF_STR],
              int *notify_line)
{
	for (int h = 0; h < CONF_HOOK_MAX; h++) {
		if (strcmp(key, conf_hook_names[h]) != 0)
			continue;
		if (!*val)
			conf_perr(p, p->lineno, key, "empty command");
		else if (strlen(val) >= CONF_STR)
			conf_perr(p, p->lineno, key, "too long (at most %d bytes)", CONF_STR - 1);
		else {
			snprintf(notify[h], CONF_STR, "%s", val);
			notify_line[h] = p->lineno;
		}
		return;
	}
}
