/*
 * daemon.h - the running daemon: its configuration, instances and
 * checks. Run by daemon.c (start-up, signals, graceful stop, shutdown),
 * reloaded by reload_apply.c, shown by ctlcmd.c; main.c only starts it.
 *
 * vrrps[i] runs conf->instances[i] and checks[i] runs conf->checks[i],
 * before and after every reload.
 */
#ifndef VIPD_DAEMON_H
#define VIPD_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "control.h"
#include "drain.h"
#include "vgroup.h"
#include "vrrp.h"

struct loop;
struct timer;
struct vrrp;
struct check;
struct ev_sink;

struct vipd {
	struct conf *conf;
	const char *opt_pidfile; /* -p, overrides [global] pidfile at start and reload */
	const char *opt_socket;  /* -S, overrides [global] control_socket */
	struct loop *loop;
	struct vrrp **vrrps;
	size_t nvrrps;
	struct check **checks;
	size_t nchecks;
	struct vgroup **groups; /* [group NAME] sections, in the config's order */
	size_t ngroups;
	/* Instances a reload removed: stopped, freed once their hooks have run. */
	struct vrrp **retiring;
	size_t nretiring;
	struct timer *retire_timer;
	int sigfd;
	struct ev_sink *sd_sink; /* state changes, for systemd's STATUS= (sdnotify.h) */
	uint64_t start_real_ns;  /* CLOCK_REALTIME at start: vipd_start_time_seconds */
	int pidfd;               /* the pidfile, flock()ed for our life; -1 if none */
	bool pidfile_written;
	bool stopped; /* instances stopped: only hooks still run */
	/* Drained instances (vipctl drain), as in state_dir/drained (drain.h). */
	struct drain_set drained;
};

/*
 * Make d->groups what c's [group] sections say, the instances of d->vrrps
 * (in c->instances' order) in them, and re-sync every instance that is or
 * was in a group. Groups of the same name are kept, with their hooks. 0,
 * or -1 out of memory.
 */
int daemon_groups_build(struct vipd *d, const struct conf *c);

/*
 * Every hook queue: the running instances', those of instances a reload
 * removed (kept until their hooks have run), the sync groups'.
 * i < daemon_nhooked(d).
 */
static inline size_t
daemon_nhooked(const struct vipd *d)
{
	return d->nvrrps + d->nretiring + d->ngroups;
}

static inline struct hookq *
daemon_hooked(const struct vipd *d, size_t i)
{
	if (i < d->nvrrps)
		return vrrp_hooks(d->vrrps[i]);
	if ((i -= d->nvrrps) < d->nretiring)
		return vrrp_hooks(d->retiring[i]);
	return vgroup_hooks(d->groups[i - d->nretiring]);
}

/*
 * Start-up, in the order that keeps every error visible: logging, the
 * raw-socket privilege, the pidfile's lock (fatal if another vipd holds
 * it), the loop, the control socket (whose requests go
 * to `on_request`, with d as its argument; fatal if a running vipd holds
 * it), systemd's notification socket and watchdog when $NOTIFY_SOCKET is
 * set, then daemon() unless `foreground`, real-time priority, the spawn
 * helper, signals, netlink and the ARP / ND sockets. d has
 * its conf (options applied) and sigfd -1; fatal() on what vipd cannot
 * run without.
 */
void daemon_start(struct vipd *d, bool foreground, ctl_handler on_request);

/*
 * Create and start the checks and instances, tell systemd READY=1, run
 * the loop until SIGTERM or SIGINT, then tell systemd STOPPING=1, stop
 * every instance and let the hooks of the stop run.
 * The exit status: 0, or 1 if something could not start or the loop
 * failed (then nothing waits for hooks).
 */
int daemon_run(struct vipd *d);

/* Stop what still runs, free everything d holds, remove the pidfile. */
void daemon_close(struct vipd *d);

#endif
