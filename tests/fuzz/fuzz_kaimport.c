/*
 * fuzz_kaimport.c - the keepalived importer (`vipctl import-keepalived`):
 * keepalived.conf parsed into a tree (vipd/kaparse.c) and translated to
 * vipd.conf (vipd/kaimport.c, kascript.c).
 *
 * The input is the file's text, read as /etc/keepalived/keepalived.conf
 * (ka_parse_string). `include` would glob the file system: the link wraps
 * glob() (-Wl,--wrap=glob, FUZZ_LDFLAGS_kaimport in the Makefile) so that
 * every pattern matches one path that does not exist, and the include's
 * error path runs instead of reading this machine's files. Properties: a
 * parse either fails with a reason or gives a tree whose translation
 * exits 0 or 1, and a clean translation is a vipd.conf that conf_load
 * parses without a syntax error.
 */
#include <glob.h>
#include <stdbool.h>
#include <string.h>

#include "fuzz.h"
#include "vipd/kaimport.h"
#include "vipd/conf.h"
#include "vipd/kaparse.h"
#include "vipd/log.h"

int __wrap_glob(const char *pattern, int flags, int (*errfunc)(const char *, int), glob_t *g);
void __wrap_globfree(glob_t *g);

static char nowhere[] = "/nonexistent/vipd-fuzz/include.conf";
static char *nowhere_v[] = {nowhere, NULL};

int
__wrap_glob(const char *pattern, int flags, int (*errfunc)(const char *, int), glob_t *g)
{
	(void)errfunc;
	(void)flags;
	memset(g, 0, sizeof(*g));
	/* Patterns with a '*' find nothing; others "match" a missing file. */
	if (strchr(pattern, '*'))
		return GLOB_NOMATCH;
	g->gl_pathc = 1;
	g->gl_pathv = nowhere_v;
	return 0;
}

void
__wrap_globfree(glob_t *g)
{
	(void)g; /* nowhere_v is static */
}

static size_t errlen;

static ssize_t
count_write(void *cookie, const char *buf, size_t size)
{
	(void)cookie;
	(void)buf;
	errlen += size;
	return (ssize_t)size;
}

static FILE *errs;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_init("fuzz_kaimport", true, LOGL_ERROR);
	errs = fopencookie(NULL, "w", (cookie_io_functions_t){.write = count_write});
	if (!errs)
		abort();
	return 0;
}

/* An "imported.conf:LINE: syntax error..." line (not a value quoting those words). */
static bool
syntax_error(const char *msgs)
{
	for (const char *l = msgs; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		const char *p = l + strlen("imported.conf:");

		if (strncmp(l, "imported.conf:", strlen("imported.conf:")) != 0)
			continue;
		p += strspn(p, "0123456789");
		if (strncmp(p, ": syntax error", strlen(": syntax error")) == 0)
			return true;
	}
	return false;
}

/* What the importer writes is INI that vipd reads line by line. */
static void
check_output(const char *out)
{
	char *msgs = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&msgs, &len);
	struct conf *c;

	if (!m)
		abort();
	c = conf_load_string("imported.conf", out, m);
	fclose(m);
	conf_free(c);
	if (syntax_error(msgs)) {
		fprintf(stderr, "imported.conf:\n%s\nvipd says:\n%s", out, msgs);
		FUZZ_ASSERT(!"the importer wrote a line vipd cannot parse");
	}
	free(msgs);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ka_tree t;
	char *text = fuzz_strndup(data, size);
	char *out = NULL;
	size_t outlen = 0, before = errlen;
	FILE *fout;
	int rc;

	if (ka_parse_string(KA_DEFAULT_PATH, text, &t, errs) < 0) {
		fflush(errs);
		FUZZ_ASSERT(errlen > before); /* refused with a reason */
		free(text);
		return 0;
	}
	fout = open_memstream(&out, &outlen);
	if (!fout)
		abort();
	rc = ka_translate(&t, KA_DEFAULT_PATH, fout, errs);
	fclose(fout);
	FUZZ_ASSERT(rc == KA_ALL_TRANSLATED || rc == KA_REPORTED);
	FUZZ_ASSERT(out && strlen(out) == outlen); /* text, no NUL inside */
	check_output(out);
	ka_tree_free(&t);
	free(out);
	free(text);
	return 0;
}
