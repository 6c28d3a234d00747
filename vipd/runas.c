/*
 * runas.c - the users scripts and hooks run as, resolved ahead of time
 * (runas.h).
 */
#include "runas.h"

#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"
#include "mem.h"

static struct {
	struct runas *v;
	size_t n;
	uid_t self; /* vipd's user, for the "" entry resolved on demand */
	bool loaded;
} ra;

/* The supplementary groups of pw (what initgroups() would set). */
static void
groups_of(struct runas *u, const struct passwd *pw)
{
	int n = 16;

	for (;;) {
		int want = n;

		u->groups = xcalloc((size_t)n, sizeof(gid_t));
		if (getgrouplist(pw->pw_name, pw->pw_gid, u->groups, &want) >= 0) {
			u->ngroups = want;
			return;
		}
		free(u->groups);
		n = want > n ? want : 2 * n;
	}
}

/* One entry: name, or "" for uid self. */
static void
resolve(struct runas *u, const char *name, uid_t self)
{
	struct passwd *pw = name[0] ? getpwnam(name) : getpwuid(self);

	memset(u, 0, sizeof(*u));
	snprintf(u->name, sizeof(u->name), "%s", name);
	if (!pw) {
		/* vipd's own uid without a name still runs its programs. */
		u->found = !name[0];
		u->uid = self;
		u->gid = getegid();
		return;
	}
	u->found = true;
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	u->home = xstrdup(pw->pw_dir);
	u->pwname = xstrdup(pw->pw_name);
	groups_of(u, pw);
}

static void
free_all(struct runas *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].groups);
		free(v[i].home);
		free(v[i].pwname);
	}
	free(v);
}

static bool
listed(const struct runas *v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].name, name) == 0)
			return true;
	return false;
}

static void
add(struct runas **v, size_t *n, const char *name, uid_t self)
{
	if (listed(*v, *n, name))
		return;
	*v = xreallocarray(*v, *n + 1, sizeof(**v));
	resolve(&(*v)[(*n)++], name, self);
}

void
runas_load(const struct conf *c, uid_t run_uid)
{
	struct runas *v = NULL;
	size_t n = 0;

	add(&v, &n, "", run_uid);
	add(&v, &n, c->user, run_uid);
	add(&v, &n, c->script_user, run_uid);
	for (size_t i = 0; i < c->nchecks; i++)
		if (c->checks[i].type == CT_SCRIPT)
			add(&v, &n, c->checks[i].user, run_uid);
	free_all(ra.v, ra.n);
	ra.v = v;
	ra.n = n;
	ra.self = run_uid;
	ra.loaded = true;
}

const struct runas *
runas_get(const char *name)
{
	if (!name)
		name = "";
	for (size_t i = 0; i < ra.n; i++)
		if (strcmp(ra.v[i].name, name) == 0)
			return &ra.v[i];
	if (ra.loaded)
		log_warnx("user %s was not resolved with the configuration; looking it up now",
		          name[0] ? name : "(vipd's own)");
	add(&ra.v, &ra.n, name, ra.loaded ? ra.self : geteuid());
	return &ra.v[ra.n - 1];
}

void
runas_clear(void)
{
	free_all(ra.v, ra.n);
	memset(&ra, 0, sizeof(ra));
}
