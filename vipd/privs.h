/*
 * privs.h - least privilege: who vipd runs as, and which capabilities it
 * keeps (libcap-ng).
 *
 * vipd needs CAP_NET_ADMIN (addresses, routes' links) and CAP_NET_RAW
 * (VRRP, ARP and ND sockets). It starts in one of three ways:
 *   - as root without `user`: nothing changes (the historical way);
 *   - as root with `[global] user = NAME`: after start-up (pidfile,
 *     control socket, leftover VIPs, sockets) the daemon becomes NAME with
 *     CAP_NET_ADMIN and CAP_NET_RAW, plus CAP_KILL when a script or hook
 *     runs as another user (to stop it at its timeout); the bounding,
 *     inheritable and ambient sets are cleared;
 *   - as a non-root user holding the capabilities (systemd's User= and
 *     AmbientCapabilities=): no user change; the capabilities beyond those
 *     are dropped, and the ambient set is cleared.
 * The spawn helper (spawn.h) is forked before the drop and drops on its
 * own at once: it keeps CAP_SETUID and CAP_SETGID, and only when a script
 * or hook runs as another user; the daemon never holds them.
 */
#ifndef VIPD_PRIVS_H
#define VIPD_PRIVS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct conf;

/*
 * NULL if this process holds every capability vipd needs (CAP_NET_ADMIN
 * and CAP_NET_RAW, effective), or the name of the first missing one
 * ("CAP_NET_RAW").
 */
const char *privs_missing(void);

/*
 * Whether scripts and hooks can run as a user other than vipd's: NULL if
 * they can, or why not ("vipd runs as vipd without CAP_SETUID"). Before
 * the drop it asks this process (root, or CAP_SETUID, CAP_SETGID and
 * CAP_KILL); after it, the answer is what the drop kept (a reload cannot
 * get back what start-up gave away).
 */
const char *privs_switch_missing(void);

/*
 * For `user` in a root vipd: NULL if this process can become another user
 * (CAP_SETUID and CAP_SETGID permitted), or the name of the one missing.
 */
const char *privs_become_missing(void);

/*
 * The uid the daemon runs as once started: the planned `user` (after
 * privs_plan()), or the one it is now.
 */
uid_t privs_run_uid(void);

/* True once privs_drop() has run (the process is what it will stay). */
bool privs_dropped(void);

/*
 * Decide from c (validated) what start-up ends in: the user to become (if
 * started as root with `user`), and whether scripts or hooks run as
 * someone else. For the spawn helper too: call it before the helper is
 * forked. 0, or -1 with a reason in err.
 */
int privs_plan(const struct conf *c, char *err, size_t size);

/*
 * The daemon, once started: become the planned user (if any) keeping
 * only what it needs. 0, or -1 with a reason in err (the caller exits:
 * a daemon half-dropped is not what the admin asked for).
 */
int privs_drop(const struct conf *c, char *err, size_t size);

/*
 * The spawn helper, first thing after its fork: the planned user, with
 * CAP_SETUID and CAP_SETGID only if the plan says someone else's scripts
 * run. A no-op without a plan (vipd as root without `user`, unit tests).
 * 0, or -1 (the helper exits; the daemon's next spawn says so).
 */
int privs_helper(void);

/* Text of the effective capabilities ("net_admin, net_raw"), for the log; malloc'ed. */
char *privs_describe(void);

#endif
