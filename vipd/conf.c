/*
 * conf.c - vipd.conf: inih splits lines into key = value; this file reads
 * the lines, follows the sections and turns them into one fresh struct
 * conf, handing each key to its section (here for [global],
 * conf_instance.c, conf_check.c), and prints every error at the end.
 *
 * inih is driven through ini_parse_stream() with our own reader
 * (conf_reader) rather than ini_parse(), because the reader sees every line:
 *  - Debian's inih is built without INI_HANDLER_LINENO, so the reader's
 *    line count is how a handler call learns its line number;
 *  - inih returns only the first syntax error; the reader notices every
 *    "key = value" line that produced no handler call;
 *  - inih truncates section names to 49 bytes and does not announce a new
 *    section, so the reader parses "[...]" headers itself and hands inih a
 *    blank line instead;
 *  - leading blanks are stripped so that an indented key is never taken as
 *    a continuation of the previous value (inih's multi-line mode).
 *
 * Errors are kept sorted by line and printed at the end, so a "missing"
 * error found when an instance ends still appears at its header's line.
 */
#include "conf_priv.h"
#include "conf_value.h"
#include "metrics_http.h"
#include "checks/dl.h"
#include "privs.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* What a section header may be, for messages. */
#define SECTIONS "[global], [instance NAME], [check NAME] or [group NAME]"

/* Keys of [global], indexes of global_keys[] and parser.gseen[]. */
enum {
	GK_PIDFILE,
	GK_SOCKET,
	GK_LOG_LEVEL,
	GK_SCRIPT_USER,
	GK_REALTIME,
	GK_STATE_DIR,
	GK_METRICS,
	GK_USER,
	GK_STARTUP_DELAY,
	GK_MAX
};

_Static_assert(GK_MAX <= CONF_GLOBAL_KEYS, "parser.gseen too small");

static char *
trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

/* ---- [global] ---- */

static void
set_pidfile(struct parser *p, const char *key, const char *val)
{
	if (val[0] != '/' || strlen(val) >= sizeof(p->conf->pidfile)) {
		conf_perr(p, p->lineno, key, "must be an absolute path, got \"%s\"", val);
		return;
	}
	strcpy(p->conf->pidfile, val);
}

static void
set_socket(struct parser *p, const char *key, const char *val)
{
	const size_t max = sizeof(p->conf->control_socket) - 1; /* sun_path, with its NUL */

	if (val[0] != '/' || strlen(val) > max) {
		conf_perr(p, p->lineno, key,
		          "must be an absolute path of at most %zu bytes, got \"%s\"", max, val);
		return;
	}
	strcpy(p->conf->control_socket, val);
}

static void
set_log_level(struct parser *p, const char *key, const char *val)
{
	int level = log_level_parse(val);

	if (level < 0) {
		conf_perr(p, p->lineno, key, "must be error, warning, info or debug, got \"%s\"",
		          val);
		return;
	}
	p->conf->log_level = (enum log_level)level;
}

static void
set_script_user(struct parser *p, const char *key, const char *val)
{
	conf_get_user(p, key, val, p->conf->script_user, sizeof(p->conf->script_user));
}

static void
set_user(struct parser *p, const char *key, const char *val)
{
	conf_get_user(p, key, val, p->conf->user, sizeof(p->conf->user));
}

static void
set_state_dir(struct parser *p, const char *key, const char *val)
{
	if (val[0] != '/' || strlen(val) >= sizeof(p->conf->state_dir)) {
		conf_perr(p, p->lineno, key, "must be an absolute path, got \"%s\"", val);
		return;
	}
	strcpy(p->conf->state_dir, val);
}

static void
set_realtime(struct parser *p, const char *key, const char *val)
{
	conf_get_uint(p, key, val, 0, 99, &p->conf->realtime_priority);
}

/*
 * The library is loaded here, as an http check loads libcurl, so that
 * `vipd -t` says when it is missing.
 */
static void
set_metrics_listen(struct parser *p, const char *key, const char *val)
{
	struct sockaddr_storage ss;
	const char *why;
	char err[512];
	socklen_t len;

	if (metrics_listen_parse(val, &ss, &len, &why) < 0) {
		conf_perr(p, p->lineno, key, "%s, got \"%s\"", why, val);
		return;
	}
	if (!dl_mhd(err, sizeof(err))) {
		conf_perr(p, p->lineno, key, "%s", err);
		return;
	}
	snprintf(p->conf->metrics_listen, sizeof(p->conf->metrics_listen), "%s", val);
}

/* keepalived's vrrp_startup_delay; an hour is far more than any boot. */
static void
set_startup_delay(struct parser *p, const char *key, const char *val)
{
	static const struct dur_range r = {0, 3600 * 1000, 1, "0s..3600s"};

	conf_get_duration(p, key, val, &r, &p->conf->startup_delay_ms);
}

static const struct conf_key global_keys[GK_MAX] = {
    [GK_PIDFILE] = {"pidfile", false, set_pidfile},
    [GK_SOCKET] = {"control_socket", false, set_socket},
    [GK_LOG_LEVEL] = {"log_level", false, set_log_level},
    [GK_SCRIPT_USER] = {"script_user", false, set_script_user},
    [GK_REALTIME] = {"realtime_priority", false, set_realtime},
    [GK_STATE_DIR] = {"state_dir", false, set_state_dir},
    [GK_METRICS] = {"metrics_listen", false, set_metrics_listen},
    [GK_USER] = {"user", false, set_user},
    [GK_STARTUP_DELAY] = {"startup_delay", false, set_startup_delay},
};

static void
global_key(struct parser *p, const char *name, const char *val)
{
	if (conf_set_key(p, global_keys, GK_MAX, p->gseen, name, val) < 0)
		conf_perr(p, p->lineno, name, "unknown key in [global]");
}

/* ---- users: who vipd runs as, who its scripts and hooks run as ---- */

static uid_t
user_uid(const char *name)
{
	struct passwd *pw = getpwnam(name);

	return pw ? pw->pw_uid : (uid_t)-1;
}

/*
 * A script or hook user (key on line) that vipd, running as run (uid
 * run_uid), must be able to start programs as: itself, or another user
 * when it can switch (root at start-up, or CAP_SETUID, CAP_SETGID and
 * CAP_KILL). Never root under a non-root vipd: the program would be uid 0
 * without root's capabilities, which no notify script written for root
 * expects.
 */
static void
user_usable(struct parser *p, int line, const char *key, const char *name, uid_t run_uid,
            const char *run)
{
	uid_t uid = user_uid(name);
	const char *why;

	if (uid == (uid_t)-1 || uid == run_uid)
		return;
	if (uid == 0)
		conf_perr(
		    p, line, key,
		    "%s: vipd runs as %s, and a program it starts as root would have none of "
		    "root's capabilities; run scripts and hooks as %s (leave %s out), or vipd "
		    "as root",
		    name, run, run, key);
	else if ((why = privs_switch_missing()))
		conf_perr(p, line, key,
		          "cannot run scripts and hooks as %s: %s (leave %s out to run them as %s, "
		          "or give vipd CAP_SETUID, CAP_SETGID and CAP_KILL)",
		          name, why, key, run);
}

/*
 * After the whole file: the user vipd runs as (`user`, or whoever started
 * it), the default script_user (that user), and whether every script and
 * hook user can work from there. Errors name the key and its line.
 */
static void
users_resolve(struct parser *p)
{
	struct conf *c = p->conf;
	uid_t me = geteuid(), run_uid = me;
	char run[64] = "";
	struct passwd *pw;
	const char *why;

	if (c->user[0]) {
		run_uid = user_uid(c->user);
		if (run_uid != me && me != 0) {
			pw = getpwuid(me);
			conf_perr(p, p->gseen[GK_USER], "user",
			          privs_dropped()
			              ? "cannot change without a restart (vipd runs as %s)"
			              : "vipd runs as %s, not root: it cannot become %s; "
			                "start it as root, or as %s itself (systemd User=)",
			          pw ? pw->pw_name : "another user", c->user, c->user);
			return;
		}
		if (me == 0 && run_uid != 0 && !privs_dropped() && (why = privs_become_missing()))
			conf_perr(p, p->gseen[GK_USER], "user",
			          "vipd runs as root without %s (a bounding set without it? "
			          "CapabilityBoundingSet= needs CAP_SETUID and CAP_SETGID), so it "
			          "cannot become %s",
			          why, c->user);
		snprintf(run, sizeof(run), "%s", c->user);
	} else if ((pw = getpwuid(me))) {
		snprintf(run, sizeof(run), "%s", pw->pw_name);
	} else {
		snprintf(run, sizeof(run), "uid %u", (unsigned)me);
	}
	if (!p->gseen[GK_SCRIPT_USER])
		/* "" (a uid without a name): programs simply run as vipd does. */
		snprintf(c->script_user, sizeof(c->script_user), "%s",
		         getpwuid(run_uid) ? run : "");
	else
		user_usable(p, p->gseen[GK_SCRIPT_USER], "script_user", c->script_user, run_uid,
		            run);
	for (size_t i = 0; i < c->nchecks; i++)
		if (c->checks[i].type == CT_SCRIPT && c->checks[i].user_line)
			user_usable(p, c->checks[i].user_line, "user", c->checks[i].user, run_uid,
			            run);
}

/* ---- sections ---- */

/* "instance NAME" -> "NAME" (maybe ""), for word "instance"; NULL if another word. */
static char *
section_arg(char *name, const char *word)
{
	size_t n = strlen(word);

	if (strncmp(name, word, n) != 0 || (name[n] && !isspace((unsigned char)name[n])))
		return NULL;
	return trim(name + n);
}

static void
section_end(struct parser *p)
{
	if (p->sec == SEC_INSTANCE)
		conf_instance_end(p);
	else if (p->sec == SEC_CHECK)
		conf_check_end(p);
	else if (p->sec == SEC_GROUP)
		conf_group_end(p);
}

/* hdr: a trimmed, comment-free line starting with '['. */
static void
section_begin(struct parser *p, char *hdr)
{
	char *end = strchr(hdr, ']'), *name, *arg;

	section_end(p);
	p->sec = SEC_BAD;
	if (!end || end[1] != '\0') {
		conf_perr(p, p->lineno, NULL, "syntax error: a section header is " SECTIONS);
		return;
	}
	*end = '\0';
	name = trim(hdr + 1);
	if (strcmp(name, "global") == 0)
		p->sec = SEC_GLOBAL;
	else if ((arg = section_arg(name, "instance")))
		conf_instance_begin(p, arg);
	else if ((arg = section_arg(name, "check")))
		conf_check_begin(p, arg);
	else if ((arg = section_arg(name, "group")))
		conf_group_begin(p, arg);
	else
		conf_perr(p, p->lineno, NULL, "[%s]: unknown section, expected " SECTIONS, name);
}

/* ---- inih glue ---- */

/* inih's callback; `section` is unused, the reader tracks sections. */
static int
conf_handler(void *user, const char *section, const char *name, const char *value)
{
	struct parser *p = user;

	(void)section;
	p->got_kv = true;
	if (!*name)
		conf_perr(p, p->lineno, NULL, "syntax error: no key before \"=\"");
	else if (name[strcspn(name, " \t")]) /* "virtual_ip 2001:db8::1": ':' taken as '=' */
		conf_perr(p, p->lineno, NULL, "syntax error: expected \"key = value\"");
	else if (p->sec == SEC_NONE)
		conf_perr(p, p->lineno, name, "outside any section, put it under " SECTIONS);
	else if (p->sec == SEC_GLOBAL)
		global_key(p, name, value);
	else if (p->sec == SEC_INSTANCE)
		conf_instance_key(p, name, value);
	else if (p->sec == SEC_CHECK)
		conf_check_key(p, name, value);
	else if (p->sec == SEC_GROUP)
		conf_group_key(p, name, value);
	return 1; /* errors are collected here, not counted by inih */
}

/* The next raw line without its '\n' (in p->line), or NULL at the end. */
static char *
src_getline(struct parser *p)
{
	if (p->fp) {
		errno = 0;
		ssize_t n = getline(&p->line, &p->linecap, p->fp);

		if (n < 0) {
			if (ferror(p->fp))
				p->read_errno = errno ? errno : EIO;
			return NULL;
		}
		if (n > 0 && p->line[n - 1] == '\n')
			p->line[n - 1] = '\0';
		return p->line;
	}
	if (!*p->text)
		return NULL;
	size_t n = strcspn(p->text, "\n");
	if (n + 1 > p->linecap) {
		char *l = realloc(p->line, n + 1);
		if (!l) {
			p->read_errno = ENOMEM;
			return NULL;
		}
		p->line = l;
		p->linecap = n + 1;
	}
	memcpy(p->line, p->text, n);
	p->line[n] = '\0';
	p->text += p->text[n] ? n + 1 : n;
	return p->line;
}

/*
 * Strip a UTF-8 BOM (line 1), comments and surrounding blanks. A comment
 * starts with ';' or '#' at the start of the line or after a blank, like
 * inih's inline ';' comments; '#' is accepted inline too so that a
 * keepalived habit does not end up inside a value.
 */
static char *
clean_line(struct parser *p, char *s)
{
	if (p->lineno == 1 && strncmp(s, "\xEF\xBB\xBF", 3) == 0)
		s += 3;
	for (char *c = s; *c; c++) {
		if ((*c == ';' || *c == '#') && (c == s || isspace((unsigned char)c[-1]))) {
			*c = '\0';
			break;
		}
	}
	return trim(s);
}

/* inih's fgets-like reader: one line per call, so p->lineno is inih's line. */
static char *
conf_reader(char *str, int num, void *user)
{
	struct parser *p = user;
	char *s;

	if (p->expect_kv && !p->got_kv)
		conf_perr(p, p->lineno, NULL, "syntax error: expected \"key = value\"");
	p->expect_kv = false;
	if (!(s = src_getline(p)))
		return NULL;
	p->lineno++;
	s = clean_line(p, s);
	if (*s == '[') {
		section_begin(p, s);
		*s = '\0';
	} else if (strlen(s) + 2 > (size_t)num) {
		/* inih's line buffer is fixed; a longer line would be split in two. */
		conf_perr(p, p->lineno, NULL, "line too long, at most %d characters", num - 2);
		*s = '\0';
	} else if (*s) {
		p->expect_kv = true;
		p->got_kv = false;
	}
	size_t n = strlen(s);
	memcpy(str, s, n);
	memcpy(str + n, "\n", 2);
	return str;
}

static struct conf *
conf_new(const char *path)
{
	struct conf *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	snprintf(c->path, sizeof(c->path), "%s", path);
	snprintf(c->pidfile, sizeof(c->pidfile), "%s", CONF_DEFAULT_PIDFILE);
	snprintf(c->control_socket, sizeof(c->control_socket), "%s", CONF_DEFAULT_SOCKET);
	snprintf(c->state_dir, sizeof(c->state_dir), "%s", CONF_DEFAULT_STATE_DIR);
	c->log_level = LOGL_INFO;
	c->realtime_priority = CONF_DEFAULT_RT_PRIORITY;
	return c;
}

/* Print and free the collected errors; returns how many there were. */
static unsigned
flush_errors(struct parser *p, FILE *errs)
{
	for (size_t i = 0; i < p->nerrv; i++) {
		if (errs)
			fprintf(errs, "%s\n", p->errv[i].msg);
		free(p->errv[i].msg);
	}
	free(p->errv);
	if (errs && p->nerrv < p->nerr)
		fprintf(errs, "%s: out of memory while reporting errors\n", p->file);
	return p->nerr;
}

/* Parse p's source (fp or text) into a new struct conf, or NULL. */
static struct conf *
conf_parse(struct parser *p, FILE *errs)
{
	int rc;

	if (!(p->conf = conf_new(p->file))) {
		if (errs)
			fprintf(errs, "%s: out of memory\n", p->file);
		return NULL;
	}
	rc = ini_parse_stream(conf_reader, p, conf_handler, p);
	section_end(p);
	users_resolve(p);
	conf_checks_resolve(p);
	conf_groups_resolve(p);
	free(p->line);
	if (rc == -2)
		conf_perr(p, 0, NULL, "out of memory");
	else if (rc > 0 && p->nerr == 0)
		conf_perr(p, rc, NULL, "syntax error"); /* the reader should have said so */
	if (p->read_errno)
		conf_perr(p, 0, NULL, "read error: %s", strerror(p->read_errno));
	if (flush_errors(p, errs) > 0) {
		conf_free(p->conf);
		return NULL;
	}
	return p->conf;
}

struct conf *
conf_load(const char *path, FILE *errs)
{
	struct parser p = {.file = path};
	struct stat st;
	struct conf *c;
	/*
	 * A reload reads the file from the running daemon: a FIFO (or a
	 * device) there must be refused, not wait in open() or read() for
	 * ever. O_NONBLOCK only matters for those, which fstat() then refuses.
	 */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);

	if (fd < 0 || fstat(fd, &st) < 0) {
		if (errs)
			fprintf(errs, "%s: cannot open: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		if (errs)
			fprintf(errs, "%s: cannot open: not a regular file\n", path);
		close(fd);
		return NULL;
	}
	if (!(p.fp = fdopen(fd, "re"))) {
		if (errs)
			fprintf(errs, "%s: cannot open: %s\n", path, strerror(errno));
		close(fd);
		return NULL;
	}
	c = conf_parse(&p, errs);
	fclose(p.fp);
	return c;
}

struct conf *
conf_load_string(const char *name, const char *text, FILE *errs)
{
	struct parser p = {.file = name, .text = text};

	return conf_parse(&p, errs);
}

void
conf_free(struct conf *c)
{
	if (!c)
		return;
	free(c->instances);
	free(c->groups);
	conf_checks_free(c);
	free(c);
}

const struct conf_instance *
conf_find(const struct conf *c, const char *ifname, uint8_t vrid, int family)
{
	for (size_t i = 0; i < c->ninstances; i++) {
		const struct conf_instance *ci = &c->instances[i];

		if (ci->vrid == vrid && ci->family == family && strcmp(ci->ifname, ifname) == 0)
			return ci;
	}
	return NULL;
}
