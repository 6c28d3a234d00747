/*
 * runas.h - the users scripts and hooks run as, resolved ahead of time.
 *
 * getpwnam() and getgrouplist() may ask NSS: LDAP, sssd, a remote
 * directory. Done for every spawn, inside the loop, a slow or dead
 * directory stopped the adverts. So the users a configuration names
 * (script_user, each script check's `user`, and the user vipd runs as)
 * are looked up once, when the configuration is loaded (start-up and
 * every reload), and spawn.c reads only this table.
 */
#ifndef VIPD_RUNAS_H
#define VIPD_RUNAS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct conf;

struct runas {
	char name[64]; /* as configured; "" = the user vipd runs as */
	bool found;    /* false: no such user when resolved */
	uid_t uid;
	gid_t gid;
	gid_t *groups; /* supplementary groups (what initgroups() would set) */
	int ngroups;
	char *home, *pwname; /* HOME, and USER / LOGNAME */
};

/*
 * Resolve every user c names, plus the one vipd runs as (run_uid), and
 * make that the table from now on (the old one is freed). Blocking NSS
 * calls: at start-up and reload only.
 */
void runas_load(const struct conf *c, uid_t run_uid);

/*
 * The entry of `name` ("" or NULL: vipd's own user). A name not in the
 * table (no runas_load() yet: unit tests; or a name the configuration
 * did not list) is resolved now, once, and kept. Never NULL.
 */
const struct runas *runas_get(const char *name);

/* Forget everything (shutdown). */
void runas_clear(void);

#endif
