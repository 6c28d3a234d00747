/*
 * dl.c - load libcurl, libpq and libmicrohttpd on first use (see dl.h).
 *
 * A library is loaded once and stays loaded: unloading libcurl or libpq
 * would unload OpenSSL and friends under their atexit handlers, and the
 * memory saved at exit is nothing. vipd is single-threaded, so the tables
 * need no locking (libcurl's resolver threads never call back into here).
 */
#include <dlfcn.h>
#include <stdbool.h>
#include <stdio.h>

#include "checks/dl.h"

/* In a loader: dlsym() one symbol into t->member, or go to fail. */
#define DL_LOAD_SYM_(sym, member)                                                                  \
	if (!(f = dlsym(h, #sym)))                                                                 \
		goto fail;                                                                         \
	t->member = (__typeof__(t->member))f;

/* After a failed dlopen() or dlsym(): the reason into err, the library out. */
static void
dl_fail(void *h, const char *what, const char *soname, char *err, size_t errsize)
{
	const char *why = dlerror(); /* before dlclose() overwrites it */

	if (err && errsize)
		snprintf(err, errsize, "%s (%s): %s", what, soname, why ? why : "cannot load");
	if (h)
		dlclose(h);
}

static bool
load_curl(struct dl_curl *t, char *err, size_t errsize)
{
	void *h = dlopen(DL_LIBCURL_SONAME, RTLD_NOW | RTLD_LOCAL), *f;

	if (!h)
		goto fail;
	DL_CURL_FUNCS(DL_LOAD_SYM_)
	return true;
fail:
	dl_fail(h, "http checks need libcurl", DL_LIBCURL_SONAME, err, errsize);
	return false;
}

static bool
load_pq(struct dl_pq *t, char *err, size_t errsize)
{
	void *h = dlopen(DL_LIBPQ_SONAME, RTLD_NOW | RTLD_LOCAL), *f;

	if (!h)
		goto fail;
	DL_PQ_FUNCS(DL_LOAD_SYM_)
	return true;
fail:
	dl_fail(h, "pgsql checks and promote_pgsql need libpq", DL_LIBPQ_SONAME, err, errsize);
	return false;
}

static bool
load_mhd(struct dl_mhd *t, char *err, size_t errsize)
{
	void *h = dlopen(DL_LIBMHD_SONAME, RTLD_NOW | RTLD_LOCAL), *f;

	if (!h)
		goto fail;
	DL_MHD_FUNCS(DL_LOAD_SYM_)
	return true;
fail:
	dl_fail(h, "metrics_listen needs libmicrohttpd", DL_LIBMHD_SONAME, err, errsize);
	return false;
}

const struct dl_curl *
dl_curl(char *err, size_t errsize)
{
	static struct dl_curl t;
	static bool loaded;

	if (!loaded)
		loaded = load_curl(&t, err, errsize);
	return loaded ? &t : NULL;
}

const struct dl_pq *
dl_pq(char *err, size_t errsize)
{
	static struct dl_pq t;
	static bool loaded;

	if (!loaded)
		loaded = load_pq(&t, err, errsize);
	return loaded ? &t : NULL;
}

const struct dl_mhd *
dl_mhd(char *err, size_t errsize)
{
	static struct dl_mhd t;
	static bool loaded;

	if (!loaded)
		loaded = load_mhd(&t, err, errsize);
	return loaded ? &t : NULL;
}
