/*
 * vgroup.h - sync groups ([group NAME], keepalived's vrrp_sync_group):
 * instances that move together, so that a load balancer with a front and
 * a back network never holds one VIP without the other.
 *
 * The rules, decided here from what each member reports (vrrp.c reports
 * after every event of a member, and re-syncs the members when a verdict
 * changed):
 *   - a member in FAULT for a cause of its own puts every other member in
 *     FAULT ("group NAME: INST in FAULT");
 *   - the members are held out of MASTER (fsm_hold) unless every one of
 *     them is MASTER or a Backup that wants to be: so a member that leaves
 *     MASTER (a better Master seen, a fault) takes the others out of it
 *     (they send priority 0: their peers take over after Skew_Time), and
 *     the group becomes MASTER when its last member would.
 * The group's own state: FAULT if any member is, MASTER if all are, INIT
 * if all are (not started, or stopped), BACKUP otherwise. Its changes run
 * the group's notify hooks (hook.h, "GROUP <name> <state> 0") and are
 * logged and published ("group" events).
 *
 * Nothing here calls into an instance: vgroup.c knows members only by
 * what they report, and their index.
 */
#ifndef VIPD_VGROUP_H
#define VIPD_VGROUP_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "conf.h"
#include "fsm.h"

struct loop;
struct vgroup;
struct hookq;

/* What a member reports after each of its events. */
struct vgroup_report {
	enum vrrp_state state;
	bool wants_master; /* a held Backup that would be Master (fsm_wants_master) */
	bool own_fault;    /* in FAULT, or would be, for a cause of its own */
};

struct vgroup *vgroup_new(struct loop *l, const struct conf_group *cg);
/* A reload: the group's hooks and name as cg says; members are added anew. */
void vgroup_reconfigure(struct vgroup *g, const struct conf_group *cg);
/* Forget every member (a reload adds them again). */
void vgroup_clear(struct vgroup *g);
void vgroup_free(struct vgroup *g);
const char *vgroup_name(const struct vgroup *g);

/*
 * Add a member: its instance name, an opaque pointer for the caller
 * (vgroup_member), and what it is now. Its index, or -1 when full.
 */
int vgroup_add(struct vgroup *g, const char *instance, void *arg, const struct vgroup_report *r);
size_t vgroup_size(const struct vgroup *g);
/* The member's pointer, NULL once forgotten (it left: a reload removed it). */
void *vgroup_member(const struct vgroup *g, size_t idx);
void vgroup_forget(struct vgroup *g, size_t idx);

/*
 * Member idx reports. True when a verdict changed for some member (hold,
 * or the fault it gets from the others): vrrp.c then re-syncs them all.
 * A change of the group's state runs its hooks here.
 */
bool vgroup_report(struct vgroup *g, size_t idx, const struct vgroup_report *r);
/*
 * The daemon stops: its members leave one by one, and must not take each
 * other out of MASTER on the way (each sends its own priority 0). The
 * group's state still follows, to STOP.
 */
void vgroup_stop(struct vgroup *g);
/* Whether the members are held out of MASTER now. */
bool vgroup_hold(const struct vgroup *g);
/* Another member in FAULT for a cause of its own: its name, or NULL. */
const char *vgroup_fault_by(const struct vgroup *g, size_t idx);
enum vrrp_state vgroup_state(const struct vgroup *g);

/*
 * Re-sync bookkeeping for vrrp.c: a re-sync in progress is not started
 * again from inside (a member's event during it only marks it dirty).
 * vgroup_sync_begin() is false while one runs; vgroup_take_dirty() says
 * whether another round is due and clears the mark.
 */
bool vgroup_sync_begin(struct vgroup *g);
void vgroup_sync_end(struct vgroup *g);
bool vgroup_take_dirty(struct vgroup *g);

/* The hooks queue (never NULL after vgroup_new); nothing running or queued. */
struct hookq *vgroup_hooks(const struct vgroup *g);

/* {"name":..,"state":..,"instances":[..],"held":..}, and the text form. */
void vgroup_status_json(const struct vgroup *g, struct buf *b);
void vgroup_status_text(const struct vgroup *g, struct buf *b);

#endif
