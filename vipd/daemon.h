/*
 * daemon.h - the running daemon: its configuration, instances and
 * checks. Shared by main.c (start-up, signals, control socket, shutdown)
 * and reload_apply.c (configuration reload); nothing else.
 *
 * vrrps[i] runs conf->instances[i] and checks[i] runs conf->checks[i],
 * before and after every reload.
 */
#ifndef VIPD_DAEMON_H
#define VIPD_DAEMON_H

#include <stdbool.h>
#include <stddef.h>

#include "conf.h"

struct loop;
struct timer;
struct vrrp;
struct check;

struct vipd {
	struct conf *conf;
	const char *opt_pidfile; /* -p, overrides [global] pidfile at start and reload */
	const char *opt_socket;  /* -S, overrides [global] control_socket */
	struct loop *loop;
	struct vrrp **vrrps;
	size_t nvrrps;
	struct check **checks;
	size_t nchecks;
	/* Instances a reload removed: stopped, freed once their hooks have run. */
	struct vrrp **retiring;
	size_t nretiring;
	struct timer *retire_timer;
	int sigfd;
	bool pidfile_written;
	bool stopped; /* instances stopped: only hooks still run */
};

/*
 * Every instance with a hook queue: the running ones, then those a
 * reload removed, kept until their hooks have run. i < daemon_nhooked(d).
 */
static inline size_t
daemon_nhooked(const struct vipd *d)
{
	return d->nvrrps + d->nretiring;
}

static inline struct vrrp *
daemon_hooked(const struct vipd *d, size_t i)
{
	return i < d->nvrrps ? d->vrrps[i] : d->retiring[i - d->nvrrps];
}

#endif
