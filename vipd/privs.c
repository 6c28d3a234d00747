/*
 * privs.c - least privilege with libcap-ng (privs.h).
 *
 * libcap-ng keeps one picture of the capabilities per process:
 * capng_clear() empties it, capng_updatev() adds what is kept, and
 * capng_change_id() changes uid and gid with PR_SET_KEEPCAPS around the
 * setresuid() so that what was kept stays permitted and effective, then
 * applies the picture (bounding set included with CAPNG_CLEAR_BOUNDING,
 * the ambient set cleared with CAPNG_CLEAR_AMBIENT).
 *
 * Who keeps what:
 *   daemon  CAP_NET_ADMIN, CAP_NET_RAW; CAP_KILL when scripts or hooks run
 *           as another user (their timeouts signal them)
 *   helper  CAP_SETUID, CAP_SETGID when scripts or hooks run as another
 *           user; nothing otherwise
 * The helper starts every child, and a child switches user before its
 * execve(), so the daemon never needs to; a daemon taken over cannot
 * become another user itself. What it can still do is ask the helper for
 * a program as one of those users, which is what the configuration asks
 * for anyway. Children lose whatever the helper holds at execve(): they
 * are not root, and the inheritable and ambient sets are empty.
 */
#include "privs.h"

#include <cap-ng.h>
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"

static struct {
	bool planned;     /* privs_plan() ran */
	bool change;      /* started as root with `user`: become uid/gid */
	bool others;      /* scripts or hooks run as a user other than vipd's */
	bool dropped;     /* privs_drop() ran */
	bool switch_kept; /* after the drop: the helper can switch users */
	uid_t uid;
	gid_t gid;
	char user[64];
} pv;

/* "vipd" for uid 998, or "uid 998" where there is no such user. */
static void
uid_name(uid_t uid, char *buf, size_t size)
{
	struct passwd *pw = getpwuid(uid);

	if (pw)
		snprintf(buf, size, "%s", pw->pw_name);
	else
		snprintf(buf, size, "uid %u", (unsigned)uid);
}

const char *
privs_missing(void)
{
	static const struct {
		unsigned cap;
		const char *name;
	} need[] = {{CAP_NET_ADMIN, "CAP_NET_ADMIN"}, {CAP_NET_RAW, "CAP_NET_RAW"}};

	if (capng_get_caps_process() < 0)
		return "capabilities (cannot read them)";
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		if (!capng_have_capability(CAPNG_EFFECTIVE, need[i].cap))
			return need[i].name;
	return NULL;
}

const char *
privs_switch_missing(void)
{
	static char why[256];
	char me[64];

	if (pv.dropped) {
		if (pv.switch_kept)
			return NULL;
		uid_name(geteuid(), me, sizeof(me));
		snprintf(why, sizeof(why),
		         "vipd runs as %s and gave up CAP_SETUID at start-up (no script or hook "
		         "ran as another user then); restart vipd",
		         me);
		return why;
	}
	if (geteuid() == 0)
		return NULL;
	if (capng_get_caps_process() < 0)
		return "cannot read vipd's capabilities";
	uid_name(geteuid(), me, sizeof(me));
	if (!capng_have_capability(CAPNG_EFFECTIVE, CAP_SETUID))
		snprintf(why, sizeof(why), "vipd runs as %s without CAP_SETUID", me);
	else if (!capng_have_capability(CAPNG_EFFECTIVE, CAP_SETGID))
		snprintf(why, sizeof(why), "vipd runs as %s without CAP_SETGID", me);
	else if (!capng_have_capability(CAPNG_EFFECTIVE, CAP_KILL))
		snprintf(why, sizeof(why), "vipd runs as %s without CAP_KILL", me);
	else
		return NULL;
	return why;
}

const char *
privs_become_missing(void)
{
	if (capng_get_caps_process() < 0)
		return "capabilities (cannot read them)";
	if (!capng_have_capability(CAPNG_PERMITTED, CAP_SETUID))
		return "CAP_SETUID";
	if (!capng_have_capability(CAPNG_PERMITTED, CAP_SETGID))
		return "CAP_SETGID";
	return NULL;
}

uid_t
privs_run_uid(void)
{
	return pv.planned && pv.change ? pv.uid : geteuid();
}

bool
privs_dropped(void)
{
	return pv.dropped;
}

/* The uid of user name (validated by the parser), or (uid_t)-1. */
static uid_t
user_uid(const char *name)
{
	struct passwd *pw = getpwnam(name);

	return pw ? pw->pw_uid : (uid_t)-1;
}

int
privs_plan(const struct conf *c, char *err, size_t size)
{
	uid_t me = geteuid();

	memset(&pv, 0, sizeof(pv));
	if (c->user[0] && me == 0) {
		struct passwd *pw = getpwnam(c->user);

		if (!pw) {
			snprintf(err, size, "user %s: no such user", c->user);
			return -1;
		}
		pv.change = pw->pw_uid != 0;
		pv.uid = pw->pw_uid;
		pv.gid = pw->pw_gid;
		me = pw->pw_uid;
	}
	snprintf(pv.user, sizeof(pv.user), "%s", c->user);
	/* script_user is the hooks' user, and the default of script checks. */
	pv.others = c->script_user[0] && user_uid(c->script_user) != me;
	for (size_t i = 0; i < c->nchecks && !pv.others; i++)
		pv.others = c->checks[i].type == CT_SCRIPT && c->checks[i].user[0] &&
		            user_uid(c->checks[i].user) != me;
	pv.planned = true;
	return 0;
}

/*
 * This process, from now on: uid/gid (if pv.change) with `keep` (a -1
 * terminated list) permitted and effective, nothing else anywhere: the
 * inheritable and ambient sets empty, and the bounding set too (what is
 * permitted stays; nothing can be gained through an execve()). Without a
 * user change (a non-root start) the bounding set can only be cleared
 * with CAP_SETPCAP, which systemd does not give; CapabilityBoundingSet=
 * in the unit does that part.
 */
static int
become(const int *keep, char *err, size_t size)
{
	int rc;

	if (capng_get_caps_process() < 0) {
		snprintf(err, size, "cannot read the process's capabilities");
		return -1;
	}
	/* Root under a bounding set without it (systemd's CapabilityBoundingSet=) cannot clear one.
	 */
	bool setpcap = capng_have_capability(CAPNG_PERMITTED, CAP_SETPCAP);

	capng_clear(CAPNG_SELECT_ALL);
	for (size_t i = 0; keep[i] >= 0; i++)
		capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED, (unsigned)keep[i]);
	if (pv.change) {
		rc = capng_change_id((int)pv.uid, (int)pv.gid,
		                     CAPNG_INIT_SUPP_GRP | CAPNG_CLEAR_AMBIENT |
		                         (setpcap ? CAPNG_CLEAR_BOUNDING : 0));
		if (rc < 0) {
			snprintf(err, size,
			         "cannot become user %s (libcap-ng capng_change_id: %d, %s)",
			         pv.user, rc, strerror(errno));
			return -1;
		}
		return 0;
	}
	rc = capng_apply(setpcap ? CAPNG_SELECT_ALL : CAPNG_SELECT_CAPS | CAPNG_SELECT_AMBIENT);
	if (rc < 0) {
		snprintf(err, size, "cannot drop capabilities (libcap-ng capng_apply: %d, %s)", rc,
		         strerror(errno));
		return -1;
	}
	return 0;
}

int
privs_helper(void)
{
	char err[256];
	int keep[3] = {-1, -1, -1};

	if (!pv.planned || (!pv.change && geteuid() == 0))
		return 0;
	if (pv.others) {
		keep[0] = CAP_SETUID;
		keep[1] = CAP_SETGID;
	}
	return become(keep, err, sizeof(err));
}

/*
 * SCHED_RR without CAP_SYS_NICE: RLIMIT_RTPRIO lets an unprivileged
 * process choose the policy up to that priority, which the restore after
 * a SIGXCPU demotion (realtime.c) needs. Raised while still root.
 */
static void
rtprio_allow(unsigned prio)
{
	struct rlimit rl;

	if (prio == 0 || getrlimit(RLIMIT_RTPRIO, &rl) < 0 || rl.rlim_cur >= prio)
		return;
	rl.rlim_cur = prio;
	if (rl.rlim_max < prio)
		rl.rlim_max = prio;
	setrlimit(RLIMIT_RTPRIO, &rl);
}

int
privs_drop(const struct conf *c, char *err, size_t size)
{
	int keep[4] = {CAP_NET_ADMIN, CAP_NET_RAW, -1, -1};

	if (!pv.planned) {
		snprintf(err, size, "no privilege plan");
		return -1;
	}
	if (!pv.change && geteuid() == 0) {
		/* Root without `user`: everything stays as it was. */
		pv.dropped = true;
		pv.switch_kept = true;
		return 0;
	}
	if (pv.others)
		keep[2] = CAP_KILL;
	if (pv.change) {
		rtprio_allow(c->realtime_priority);
		/* The drained-state file is written later, as the user. */
		if (mkdir(c->state_dir, 0755) == 0 && chown(c->state_dir, pv.uid, pv.gid) < 0)
			rmdir(c->state_dir);
	}
	if (become(keep, err, size) < 0)
		return -1;
	pv.dropped = true;
	pv.switch_kept = pv.others;
	return 0;
}

char *
privs_describe(void)
{
	if (capng_get_caps_process() < 0)
		return NULL;
	return capng_print_caps_text(CAPNG_PRINT_BUFFER, CAPNG_EFFECTIVE);
}
