/*
 * conf_check.c - the [check NAME] sections of vipd.conf and the `track`
 * references to them.
 *
 * A check's `type` may come after its type-specific keys, so those keys'
 * values are kept (parser.cval) and judged when the section ends, each
 * with its own line number. Everything that would block the daemon later
 * is refused here instead: a pgsql host name (libpq resolves it
 * synchronously), a script a non-root user could replace. So is a check
 * whose library (libcurl, libpq: loaded on demand, checks/dl.h) is
 * missing, at the check's `type` line.
 */
#include "conf_priv.h"
#include "conf_value.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "argv.h"
#include "checks/dl.h"

/* Keys of [check NAME], indexes of check_keys[], parser.cseen[] and parser.cval[]. */
enum {
	CK_TYPE,
	CK_INTERVAL,
	CK_TIMEOUT,
	CK_RISE,
	CK_FALL,
	CK_INIT_FAIL,
	CK_WEIGHT,
	CK_TYPED, /* keys from here on belong to one type */
	CK_COMMAND = CK_TYPED,
	CK_SHELL,
	CK_USER,
	CK_PROC_NAME,
	CK_PIDFILE,
	CK_ADDRESS,
	CK_URL,
	CK_EXPECT_STATUS,
	CK_EXPECT_BODY,
	CK_METHOD,
	CK_CONNINFO,
	CK_PG_EXPECT,
	CK_SOCKET,
	CK_BACKEND,
	CK_PATH,
	CK_MAX
};

_Static_assert(CK_MAX <= CONF_CHECK_KEYS, "parser.cseen too small");

struct check_key {
	const char *name;
	enum check_type type; /* CT_MAX: a key of every type */
	bool required;        /* for its type */
	void (*set)(struct parser *p, const char *key, const char *val);
};

static struct conf_check *
curc(struct parser *p)
{
	return &p->conf->checks[p->conf->nchecks - 1];
}

/* ---- values ---- */

/* "IPV4:PORT" or "[IPV6]:PORT". 0 or -1. */
static int
parse_hostport(const char *s, int *family, union inaddr *a, uint16_t *port)
{
	char host[ADDR_STRLEN];
	const char *colon, *h = s;
	size_t n;
	int want = AF_INET, portnum;

	if (*s == '[') {
		h = s + 1;
		colon = strchr(h, ']');
		if (!colon || colon[1] != ':')
			return -1;
		n = (size_t)(colon++ - h);
		want = AF_INET6;
	} else {
		if (!(colon = strchr(s, ':')) || strchr(colon + 1, ':'))
			return -1;
		n = (size_t)(colon - s);
	}
	if (n >= sizeof(host))
		return -1;
	memcpy(host, h, n);
	host[n] = '\0';
	if (addr_pton(host, family, a) < 0 || *family != want)
		return -1;
	if (conf_parse_int(colon + 1, 1, 65535, &portnum) < 0)
		return -1;
	*port = (uint16_t)portnum;
	return 0;
}

/* ---- common keys ---- */

static void
set_type(struct parser *p, const char *key, const char *val)
{
	for (int t = 0; t < CT_MAX; t++) {
		if (strcmp(val, check_type_names[t]) == 0) {
			curc(p)->type = (enum check_type)t;
			return;
		}
	}
	conf_perr(p, p->lineno, key,
	          "must be script, process, tcp, http, pgsql, haproxy or file, got \"%s\"", val);
}

static const struct dur_range check_durations = {10, 3600 * 1000, 1, "10ms..3600s"};

static void
set_interval(struct parser *p, const char *key, const char *val)
{
	conf_get_duration(p, key, val, &check_durations, &curc(p)->interval_ms);
}

static void
set_timeout(struct parser *p, const char *key, const char *val)
{
	conf_get_duration(p, key, val, &check_durations, &curc(p)->timeout_ms);
}

static void
set_rise(struct parser *p, const char *key, const char *val)
{
	conf_get_uint(p, key, val, 1, 100, &curc(p)->rise);
}

static void
set_fall(struct parser *p, const char *key, const char *val)
{
	conf_get_uint(p, key, val, 1, 100, &curc(p)->fall);
}

static void
set_init_fail(struct parser *p, const char *key, const char *val)
{
	conf_get_bool(p, key, val, &curc(p)->init_fail);
}

/* The priority is 1..254 for a non-owner, so a larger |weight| means nothing. */
static void
set_weight(struct parser *p, const char *key, const char *val)
{
	conf_get_int(p, key, val, -254, 254, &curc(p)->weight);
}

/* ---- script ---- */

static void
set_command(struct parser *p, const char *key, const char *val)
{
	if (!*val) {
		conf_perr(p, p->lineno, key, "must not be empty");
		return;
	}
	conf_get_str(p, key, val, curc(p)->command, sizeof(curc(p)->command));
}

static void
set_shell(struct parser *p, const char *key, const char *val)
{
	conf_get_bool(p, key, val, &curc(p)->shell);
}

static void
set_user(struct parser *p, const char *key, const char *val)
{
	if (conf_get_user(p, key, val, curc(p)->user, sizeof(curc(p)->user)) == 0)
		curc(p)->user_line = p->lineno;
}

/* ---- process ---- */

/* The kernel's comm is TASK_COMM_LEN (16) bytes with its NUL. */
static void
set_proc_name(struct parser *p, const char *key, const char *val)
{
	size_t n = strlen(val);

	if (n == 0 || n > 15 || strchr(val, '/')) {
		conf_perr(p, p->lineno, key,
		          "must be a process name of 1..15 characters as in /proc/PID/comm, "
		          "got \"%s\"",
		          val);
		return;
	}
	strcpy(curc(p)->proc_name, val);
}

static void
set_pidfile(struct parser *p, const char *key, const char *val)
{
	conf_get_abs_path(p, key, val, curc(p)->pidfile, sizeof(curc(p)->pidfile));
}

/* ---- tcp ---- */

static void
set_address(struct parser *p, const char *key, const char *val)
{
	struct conf_check *cc = curc(p);

	if (parse_hostport(val, &cc->tcp_family, &cc->tcp_addr, &cc->tcp_port) < 0)
		conf_perr(p, p->lineno, key,
		          "must be IPV4:PORT or [IPV6]:PORT with PORT 1..65535, got \"%s\"", val);
}

/* ---- http ---- */

/*
 * libcurl resolves names asynchronously when built with a threaded or
 * c-ares resolver (CURL_VERSION_ASYNCHDNS; Debian's is): any host will
 * do. Without one, curl_multi_socket_action() would block vipd in
 * getaddrinfo(): then only an IP literal is accepted. Returns NULL, or
 * the host name that would be resolved synchronously (in buf).
 */
const char *
conf_url_blocking_host(const char *url, long curl_features, char *buf, size_t size)
{
	const char *host = strstr(url, "://"), *end, *at;
	size_t n;
	union inaddr a;
	int family;

	if (curl_features & CURL_VERSION_ASYNCHDNS || !host)
		return NULL;
	host += 3;
	end = host + strcspn(host, "/?#");
	if ((at = memchr(host, '@', (size_t)(end - host))))
		host = at + 1; /* user:password@ */
	if (*host == '[')
		return NULL; /* [IPv6] */
	n = strcspn(host, ":/?#");
	snprintf(buf, size, "%.*s", (int)n, host);
	return addr_pton(buf, &family, &a) == 0 ? NULL : buf;
}

static void
set_url(struct parser *p, const char *key, const char *val)
{
	const char *host = NULL;

	if (strncasecmp(val, "http://", 7) == 0)
		host = val + 7;
	else if (strncasecmp(val, "https://", 8) == 0)
		host = val + 8;
	if (!host || strcspn(host, "/?#") == 0 || *host == ':' || *host == '@') {
		conf_perr(p, p->lineno, key,
		          "must be an http:// or https:// URL with a host, got \"%s\"", val);
		return;
	}
	conf_get_str(p, key, val, curc(p)->url, sizeof(curc(p)->url));
}

/* "200", "200,204", "200 204". */
static void
set_expect_status(struct parser *p, const char *key, const char *val)
{
	struct conf_check *cc = curc(p);
	char buf[CONF_STR], *save = NULL;
	int st[CONF_MAX_STATUS];
	size_t n = 0;
	bool bad = false;

	snprintf(buf, sizeof(buf), "%s", val);
	for (char *t = strtok_r(buf, ", \t", &save); t && !bad; t = strtok_r(NULL, ", \t", &save)) {
		if (n == CONF_MAX_STATUS) {
			conf_perr(p, p->lineno, key, "too many, at most %d status codes",
			          CONF_MAX_STATUS);
			return;
		}
		bad = conf_parse_int(t, 100, 599, &st[n++]) < 0;
	}
	if (bad || n == 0) {
		conf_perr(p, p->lineno, key,
		          "must be HTTP status codes 100..599 such as \"200\" or \"200,204\", "
		          "got \"%s\"",
		          val);
		return;
	}
	memcpy(cc->expect_status, st, n * sizeof(st[0]));
	cc->nexpect_status = n;
}

static void
set_expect_body(struct parser *p, const char *key, const char *val)
{
	conf_get_str(p, key, val, curc(p)->expect_body, sizeof(curc(p)->expect_body));
}

static void
set_method(struct parser *p, const char *key, const char *val)
{
	static const char *const methods[] = {"GET", "HEAD", "OPTIONS"};

	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		if (strcasecmp(val, methods[i]) == 0) {
			strcpy(curc(p)->method, methods[i]);
			return;
		}
	}
	conf_perr(p, p->lineno, key, "must be GET, HEAD or OPTIONS, got \"%s\"", val);
}

/* ---- pgsql ---- */

static void
set_conninfo(struct parser *p, const char *key, const char *val)
{
	if (!dl_pq(NULL, 0))
		return; /* reported at the type line (check_library) */
	conf_get_conninfo(p, key, val, curc(p)->conninfo, sizeof(curc(p)->conninfo));
}

static void
set_pg_expect(struct parser *p, const char *key, const char *val)
{
	static const char *const names[] = {
	    [PG_EXPECT_PRIMARY] = "primary",
	    [PG_EXPECT_STANDBY] = "standby",
	    [PG_EXPECT_UP] = "up",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(val, names[i]) == 0) {
			curc(p)->pg_expect = (enum pg_expect)i;
			return;
		}
	}
	conf_perr(p, p->lineno, key, "must be primary, standby or up, got \"%s\"", val);
}

/* ---- haproxy, file ---- */

static void
set_socket(struct parser *p, const char *key, const char *val)
{
	conf_get_abs_path(p, key, val, curc(p)->socket, sizeof(curc(p)->socket));
}

/* HAProxy's proxy names: letters, digits, '-', '_', '.' and ':'. */
static void
set_backend(struct parser *p, const char *key, const char *val)
{
	size_t n =
	    strspn(val, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.:-");

	if (n == 0 || n >= sizeof(curc(p)->backend) || val[n]) {
		conf_perr(p, p->lineno, key,
		          "must be 1..%zu characters of A-Z a-z 0-9 _ . : -, got \"%s\"",
		          sizeof(curc(p)->backend) - 1, val);
		return;
	}
	strcpy(curc(p)->backend, val);
}

static void
set_path(struct parser *p, const char *key, const char *val)
{
	conf_get_abs_path(p, key, val, curc(p)->path, sizeof(curc(p)->path));
}

static const struct check_key check_keys[CK_MAX] = {
    [CK_TYPE] = {"type", CT_MAX, false, set_type},
    [CK_INTERVAL] = {"interval", CT_MAX, false, set_interval},
    [CK_TIMEOUT] = {"timeout", CT_MAX, false, set_timeout},
    [CK_RISE] = {"rise", CT_MAX, false, set_rise},
    [CK_FALL] = {"fall", CT_MAX, false, set_fall},
    [CK_INIT_FAIL] = {"init_fail", CT_MAX, false, set_init_fail},
    [CK_WEIGHT] = {"weight", CT_MAX, false, set_weight},
    [CK_COMMAND] = {"command", CT_SCRIPT, true, set_command},
    [CK_SHELL] = {"shell", CT_SCRIPT, false, set_shell},
    [CK_USER] = {"user", CT_SCRIPT, false, set_user},
    [CK_PROC_NAME] = {"name", CT_PROCESS, false, set_proc_name},
    [CK_PIDFILE] = {"pidfile", CT_PROCESS, false, set_pidfile},
    [CK_ADDRESS] = {"address", CT_TCP, true, set_address},
    [CK_URL] = {"url", CT_HTTP, true, set_url},
    [CK_EXPECT_STATUS] = {"expect_status", CT_HTTP, false, set_expect_status},
    [CK_EXPECT_BODY] = {"expect_body", CT_HTTP, false, set_expect_body},
    [CK_METHOD] = {"method", CT_HTTP, false, set_method},
    [CK_CONNINFO] = {"conninfo", CT_PGSQL, true, set_conninfo},
    [CK_PG_EXPECT] = {"expect", CT_PGSQL, false, set_pg_expect},
    [CK_SOCKET] = {"socket", CT_HAPROXY, true, set_socket},
    [CK_BACKEND] = {"backend", CT_HAPROXY, false, set_backend},
    [CK_PATH] = {"path", CT_FILE, true, set_path},
};

/* ---- the script's command ---- */

/* argv from command and shell, then the program's checks (at the command's line). */
static void
script_end(struct parser *p, struct conf_check *cc)
{
	const char *key = check_keys[CK_COMMAND].name, *why;
	char first[CONF_STR];

	if (!cc->command[0])
		return; /* missing or bad, reported already */
	if (!cc->shell) {
		if (argv_split(cc->command, cc->argv, &why) < 0)
			conf_perr(p, p->lineno, key, "%s", why);
		else if (conf_get_program(p, key, cc->argv[0]) == 0)
			conf_get_program_args(p, key, cc->argv);
		return;
	}
	cc->argv[0] = strdup("/bin/sh");
	cc->argv[1] = strdup("-c");
	cc->argv[2] = strdup(cc->command);
	if (!cc->argv[0] || !cc->argv[1] || !cc->argv[2]) {
		conf_perr(p, p->lineno, key, "out of memory");
		return;
	}
	/* The shell finds a relative name in its PATH; an absolute one we can check. */
	snprintf(first, sizeof(first), "%.*s", (int)strcspn(cc->command, " \t"), cc->command);
	if (first[0] == '/' && conf_get_program(p, key, first) == 0)
		conf_shell_args(p, key, cc->command);
}

/* ---- the section ---- */

static void
check_defaults(struct conf_check *cc, const char *name, int line)
{
	memset(cc, 0, sizeof(*cc));
	snprintf(cc->name, sizeof(cc->name), "%s", name);
	cc->line = line;
	cc->type = CT_MAX; /* until a valid `type` */
	cc->interval_ms = 1000;
	cc->rise = 1;
	cc->fall = 1;
	cc->expect_status[0] = 200;
	cc->nexpect_status = 1;
	strcpy(cc->method, "GET");
	cc->pg_expect = PG_EXPECT_PRIMARY;
}

void
conf_check_begin(struct parser *p, const char *name)
{
	struct conf *c = p->conf;
	struct conf_check *v = conf_grow(c->checks, c->nchecks, sizeof(*v));

	if (!v) {
		conf_perr(p, p->lineno, NULL, "out of memory");
		return;
	}
	c->checks = v;
	check_defaults(&v[c->nchecks++], name, p->lineno);
	memset(p->cseen, 0, sizeof(p->cseen));
	p->sec = SEC_CHECK;
	if (!conf_section_name_ok(p, "check", name))
		return;
	for (size_t i = 0; i + 1 < c->nchecks; i++) {
		if (strcmp(c->checks[i].name, name) == 0) {
			conf_perr(p, p->lineno, NULL, "[check %s]: defined twice, first on line %d",
			          name, c->checks[i].line);
			return;
		}
	}
}

/* Common keys are set at once; the others wait for conf_check_end(). */
void
conf_check_key(struct parser *p, const char *name, const char *val)
{
	for (int i = 0; i < CK_MAX; i++) {
		if (strcmp(name, check_keys[i].name) != 0)
			continue;
		if (p->cseen[i]) {
			conf_perr(p, p->lineno, name, "given twice, first on line %d", p->cseen[i]);
			return;
		}
		p->cseen[i] = p->lineno;
		if (i < CK_TYPED)
			check_keys[i].set(p, name, val);
		else if (!(p->cval[i] = strdup(val)))
			conf_perr(p, p->lineno, name, "out of memory");
		return;
	}
	conf_perr(p, p->lineno, name, "unknown key in [check %s]", curc(p)->name);
}

/*
 * http and pgsql checks need a library vipd loads on demand: load it now,
 * so that a missing one is a configuration error (at the `type` line)
 * rather than a check that fails every run.
 */
static void
check_library(struct parser *p)
{
	char err[512];

	const struct dl_curl *curl = NULL;
	char host[CONF_STR];

	if ((curc(p)->type == CT_HTTP && !(curl = dl_curl(err, sizeof(err)))) ||
	    (curc(p)->type == CT_PGSQL && !dl_pq(err, sizeof(err))))
		conf_perr(p, p->cseen[CK_TYPE], check_keys[CK_TYPE].name, "%s", err);
	if (curl && curc(p)->url[0] &&
	    conf_url_blocking_host(curc(p)->url, curl->version_info(CURLVERSION_NOW)->features, host,
	                           sizeof(host)))
		conf_perr(p, p->cseen[CK_URL], check_keys[CK_URL].name,
		          "host \"%s\" is a name, and this libcurl (%s) has no asynchronous "
		          "resolver: it would block vipd; use an IP address",
		          host, curl->version_info(CURLVERSION_NOW)->version);
}

/* The type-specific keys, each at its own line; then what is missing. */
static void
check_typed_keys(struct parser *p, struct conf_check *cc)
{
	const char *type = check_type_names[cc->type];
	int line = p->lineno;

	check_library(p);
	for (int i = CK_TYPED; i < CK_MAX; i++) {
		const struct check_key *k = &check_keys[i];

		p->lineno = p->cseen[i];
		if (!p->cseen[i] && k->required && k->type == cc->type)
			conf_perr(p, cc->line, k->name, "missing (required for type %s checks)",
			          type);
		else if (p->cseen[i] && k->type != cc->type)
			conf_perr(p, p->lineno, k->name, "not a key of type %s checks", type);
		else if (p->cval[i])
			k->set(p, k->name, p->cval[i]);
	}
	if (cc->type == CT_PROCESS && !p->cseen[CK_PROC_NAME] && !p->cseen[CK_PIDFILE])
		conf_perr(p, cc->line, check_keys[CK_PROC_NAME].name,
		          "missing (required for type process checks without a pidfile)");
	if (cc->type == CT_SCRIPT) {
		p->lineno = p->cseen[CK_COMMAND];
		script_end(p, cc);
	}
	p->lineno = line;
}

void
conf_check_end(struct parser *p)
{
	struct conf_check *cc = curc(p);

	if (!p->cseen[CK_TYPE])
		conf_perr(p, cc->line, check_keys[CK_TYPE].name, "missing");
	else if (cc->type != CT_MAX)
		check_typed_keys(p, cc);
	if (!p->cseen[CK_TIMEOUT])
		cc->timeout_ms = cc->interval_ms;
	for (int i = 0; i < CK_MAX; i++) {
		free(p->cval[i]);
		p->cval[i] = NULL;
	}
}

void
conf_checks_resolve(struct parser *p)
{
	struct conf *c = p->conf;

	for (size_t i = 0; i < c->nchecks; i++)
		if (c->checks[i].type == CT_SCRIPT && !c->checks[i].user[0])
			strcpy(c->checks[i].user, c->script_user);
	for (size_t i = 0; i < c->ninstances; i++) {
		snprintf(c->instances[i].hook_user, sizeof(c->instances[i].hook_user), "%s",
		         c->script_user);
		c->instances[i].startup_delay_ms = c->startup_delay_ms;
	}
	for (size_t i = 0; i < c->ninstances; i++) {
		struct conf_instance *ci = &c->instances[i];

		for (size_t k = 0; k < ci->ntracks; k++) {
			struct conf_track *t = &ci->tracks[k];
			const struct conf_check *cc = conf_find_check(c, t->check);

			if (!cc)
				conf_perr(p, t->line, "track", "no [check %s] section", t->check);
			else if (t->weight == CONF_WEIGHT_UNSET)
				t->weight = cc->weight;
		}
	}
}

void
conf_checks_free(struct conf *c)
{
	for (size_t i = 0; i < c->nchecks; i++)
		for (size_t k = 0; k < CONF_MAX_ARGS + 1; k++)
			free(c->checks[i].argv[k]);
	free(c->checks);
}

const struct conf_check *
conf_find_check(const struct conf *c, const char *name)
{
	for (size_t i = 0; i < c->nchecks; i++)
		if (strcmp(c->checks[i].name, name) == 0)
			return &c->checks[i];
	return NULL;
}
