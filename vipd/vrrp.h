/*
 * vrrp.h - one VRRP instance at runtime: the pure state machine (fsm.c)
 * wired to its socket, its timers, netlink and the announcements.
 *
 * A configured instance is keyed by (interface, vrid, family). It shares
 * the raw socket of its interface and family with the other instances
 * there (vport.h), and owns one timer for the state machine's
 * deadlines and one for GARP / NA bursts. Faults (interface missing, down,
 * without carrier, or without a source address) come from netlink events.
 */
#ifndef VIPD_VRRP_H
#define VIPD_VRRP_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "conf.h"
#include "fsm.h"
#include "pkt.h"
#include "../netlink/netlink.h"

struct loop;
struct vrrp;
struct check;

/*
 * Create an instance from its configuration (copied). `checks` are all
 * the daemon's checks, in any order; the instance watches those it tracks
 * by name. NULL on failure (a tracked check missing).
 */
struct vrrp *vrrp_new(struct loop *l, const struct conf_instance *ci, struct check *const *checks,
                      size_t nchecks);
/*
 * Bring it up: find the interface, remove leftover VIPs, open the socket
 * and run the Startup event. 0, or -1 when the instance cannot work at all
 * (no permission for raw sockets); a missing interface is not an error, the
 * instance waits in FAULT.
 */
int vrrp_start(struct vrrp *v);
/* Shutdown event: a Master sends priority 0 and removes its VIPs. */
void vrrp_stop(struct vrrp *v);
/* vrrp_stop(), and stop watching its checks: removed by a reload, its hooks still to run. */
void vrrp_retire(struct vrrp *v);
/*
 * Reload: take a new definition of this instance (same key), keeping its
 * state, VIPs, counters and hook history. `diff` (reload.h RD_* bits) is
 * for the log. Priority changes go through the state machine as a
 * check's would; VIPs added or dropped on a Master are added (and
 * announced) or removed. The tracked checks are looked up anew among
 * `checks`. 0, or -1 (a tracked check missing, or no memory to watch it:
 * a reload reserves that room first, check_reserve_watchers()).
 */
int vrrp_reconfigure(struct vrrp *v, const struct conf_instance *ci, unsigned diff,
                     struct check *const *checks, size_t nchecks);
void vrrp_free(struct vrrp *v);

/*
 * Netlink events. A link event goes to every interface port and every
 * instance in vs (each takes what concerns it: links are few and change
 * rarely). An address event goes only to the ports on that link, which
 * recompute its source address once and tell their instances if it
 * changed, or the one instance whose VIP was deleted.
 */
void vrrp_netlink_link(struct vrrp *const *vs, size_t n, const struct iface *ifc);
void vrrp_netlink_addr(int ifindex, int family, const union inaddr *a, bool added);
void vrrp_link_event(struct vrrp *v, const struct iface *ifc);

/*
 * Drain (vipctl drain): a drained instance hands its VIPs over at once as
 * a stop does (priority 0), then stays in FAULT ("drained") whatever the
 * priorities, until undrained. Set before vrrp_start() it starts so.
 */
void vrrp_set_drained(struct vrrp *v, bool drained);
bool vrrp_drained(const struct vrrp *v);
const char *vrrp_name(const struct vrrp *v);
int vrrp_family(const struct vrrp *v);
/*
 * Another router advertised (priority > 0) for this instance at or after
 * since_ns (monotonic), and not longer ago than Master_Down_Interval: it
 * is Master in our place. Its address in *who if not NULL.
 */
bool vrrp_peer_master(const struct vrrp *v, uint64_t since_ns, union inaddr *who);

/*
 * Put the instance in sync group g (vgroup.h), or in none (NULL). It only
 * joins: a vrrp_event() of VE_INPUTS kind, after every member joined,
 * makes the group's verdicts and applies them.
 */
struct vgroup;
void vrrp_set_group(struct vrrp *v, struct vgroup *g);
struct vgroup *vrrp_group(const struct vrrp *v);
/* Re-sync an instance with its group, or with none after leaving one. */
void vrrp_group_sync(struct vrrp *v);

/* Notify hooks: the queue (never NULL after vrrp_new), and whether it drained. */
struct hookq *vrrp_hooks(const struct vrrp *v);
bool vrrp_hooks_idle(const struct vrrp *v);

/* Its state, for one-line summaries (systemd's STATUS=). */
enum vrrp_state vrrp_state(const struct vrrp *v);
/* What `vipctl metrics` and GET /metrics show of an instance (metrics.h). */
struct vrrp_metrics {
	const char *name;
	const char *ifname;
	unsigned vrid;
	int family; /* AF_INET, AF_INET6 */
	enum vrrp_state state;
	unsigned priority;           /* configured */
	unsigned effective_priority; /* with the tracked items' weights */
	bool drained;
	uint64_t transitions[R_MAX]; /* by reason */
	uint64_t master_changes;     /* transitions into or out of MASTER */
	uint64_t adverts_sent;
	uint64_t adverts_received;
	uint64_t dropped[DROP_MAX]; /* by reason */
};

void vrrp_get_metrics(const struct vrrp *v, struct vrrp_metrics *m);

/* Append this instance's status: a JSON object, or the text block. */
void vrrp_status_json(const struct vrrp *v, struct buf *b);
void vrrp_status_text(const struct vrrp *v, struct buf *b);
/* {"instance":NAME,"state":STATE,"priority":EFFECTIVE}, for `vipctl events`. */
void vrrp_summary_json(const struct vrrp *v, struct buf *b);

#endif
