/*
 * reload.h - configuration reload: what differs between the running
 * configuration and a new one. Pure: no sockets, no clock, no daemon.
 *
 * Checks match by name, instances by (interface, vrid, family), the key
 * RFC 5798 gives a virtual router. Definitions are compared on what they
 * mean, never on line numbers or pointers, so a file that only gained
 * comments or blank lines reloads as "everything kept". The daemon side
 * (reload_apply.c) carries a plan out.
 */
#ifndef VIPD_RELOAD_H
#define VIPD_RELOAD_H

#include <stdbool.h>
#include <stddef.h>

#include "conf.h"

/* What differs between two definitions of one instance (bits). */
enum {
	RD_NAME = 1 << 0,     /* the section's name */
	RD_PRIORITY = 1 << 1, /* priority */
	RD_TIMING = 1 << 2,   /* advert_interval, preempt, preempt_fast, preempt_delay */
	RD_VIPS = 1 << 3,     /* virtual_ip (the list, in order) */
	RD_UNICAST = 1 << 4,  /* unicast_src, unicast_peer */
	RD_WIRE = 1 << 5,     /* checksum, version, auth_*, garp_repeat, garp_delay, garp_refresh */
	RD_TRACKS = 1 << 6,   /* track, track_interface, or a tracked check replaced */
	RD_HOOKS = 1 << 7, /* notify*, notify_timeout, notify_shell, script_user, promote_pgsql */
	RD_VMAC = 1 << 8,  /* use_vmac (on, off, or the link's name) */
	RD_MAX_BIT = 9
};

/* "name", "priority", "timing", "vips", "unicast", "wire", "tracks", "hooks" */
extern const char *const reload_diff_names[RD_MAX_BIT];

/* RD_* bits for two instances of one key; 0 = identical (lines aside). */
unsigned reload_instance_diff(const struct conf_instance *a, const struct conf_instance *b);
/* Whether two checks of one name run the same way (lines and the default weight aside). */
bool reload_check_same(const struct conf_check *a, const struct conf_check *b);
/* "priority, vips" into buf (empty for 0); returns buf. */
const char *reload_diff_text(unsigned diff, char *buf, size_t size);

struct reload_counts {
	unsigned kept, changed, added, removed;
};

struct reload_plan {
	/* Indexed by the new configuration's checks and instances. */
	size_t nchecks;
	long *check_from; /* the running check of that name (index), or -1 */
	bool *check_kept; /* identical: the running check object is kept */
	size_t ninstances;
	long *inst_from;     /* the running instance with that key, or -1 */
	unsigned *inst_diff; /* RD_* against it; 0 = untouched */

	/* Indexed by the running configuration's checks and instances. */
	size_t nold_checks;
	bool *old_check_gone; /* removed or replaced: to be freed */
	size_t nold_instances;
	bool *old_inst_gone; /* removed: to be stopped */

	struct reload_counts inst, chk;

	/* [global] */
	bool log_level, realtime_priority; /* changed: applied */
	bool pidfile, control_socket;      /* changed: need a restart, kept */
	bool metrics_listen;               /* the same */
};

/*
 * Compare the running configuration with a new one. 0, or -1 (ENOMEM).
 * reload_plan_free() in both cases.
 */
int reload_plan_make(const struct conf *old, const struct conf *new, struct reload_plan *p);
void reload_plan_free(struct reload_plan *p);

/*
 * "reloaded FILE: 2 instances kept, 1 changed, 0 added, 0 removed; 3
 * checks kept, 1 changed, 0 added, 0 removed" into buf; returns buf.
 */
const char *reload_summary(const struct reload_plan *p, const char *path, char *buf, size_t size);

#endif
