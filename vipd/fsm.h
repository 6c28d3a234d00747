/*
 * fsm.h - the VRRPv3 state machine (RFC 5798 §6.4, RFC 9568 §6.4), pure.
 *
 * No sockets, no clock reads: every entry point takes `now` (monotonic ns)
 * and reports what the caller must do as a set of actions in struct
 * fsm_out. Timers are absolute deadlines kept here; the caller arms one
 * loop timer at fsm_next_deadline() and calls fsm_timer() when it fires.
 *
 * The caller executes actions in this order, whatever the event:
 *   SEND_PRIO0, VIPS_DEL, VIPS_ADD, SEND_ADVERT, ANNOUNCE
 * so that on becoming Master the VIPs exist before the advert and the
 * gratuitous ARP, and on leaving, the priority-0 advert leaves first.
 */
#ifndef VIPD_FSM_H
#define VIPD_FSM_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"

enum vrrp_state { ST_INIT = 0, ST_BACKUP, ST_MASTER, ST_FAULT, ST_MAX };

/* "INIT", "BACKUP", "MASTER", "FAULT" */
extern const char *const fsm_state_names[ST_MAX];

/* Why a transition happened; names are VIPD_REASON values for hooks. */
enum fsm_reason {
	R_NONE = 0,
	R_STARTUP,         /* "startup": Init -> Backup */
	R_OWNER,           /* "owner": priority 255 goes straight to Master */
	R_MASTER_DOWN,     /* "master_down": Master_Down_Timer fired */
	R_PRIORITY_ZERO,   /* "priority_zero": Master left (prio 0), Skew_Time wait */
	R_HIGHER_PRIORITY, /* "higher_priority_seen": Master yields */
	R_PREEMPT,         /* "preempt": lower-priority Master seen, we take over */
	R_FAULT,           /* "fault": link down, address gone, or a check */
	R_FAULT_CLEARED,   /* "fault_cleared" */
	R_STOP,            /* "stop": shutdown */
	R_GROUP,           /* "group": its sync group left MASTER, the Master follows */
	R_MAX
};

extern const char *const fsm_reason_names[R_MAX];

/* Actions for the caller (bits of fsm_out.actions). */
enum {
	FA_SEND_PRIO0 = 1 << 0,  /* send one advert with priority 0 */
	FA_VIPS_DEL = 1 << 1,    /* remove the VIPs from the interface */
	FA_VIPS_ADD = 1 << 2,    /* add the VIPs */
	FA_SEND_ADVERT = 1 << 3, /* send one advert with fsm.priority */
	FA_ANNOUNCE = 1 << 4,    /* start a GARP / unsolicited NA burst */
	FA_STATE = 1 << 5,       /* state changed: from -> to, reason */
	FA_TIMERS = 1 << 6,      /* deadlines changed: re-arm the loop timer */
};

struct fsm_out {
	unsigned actions;
	enum vrrp_state from;
	enum vrrp_state to;
	enum fsm_reason reason;
};

struct fsm_cfg {
	uint8_t priority;          /* configured, 1..255; 255 = address owner */
	uint16_t adver_int_cs;     /* Advertisement_Interval, centiseconds */
	bool preempt;              /* Preempt_Mode */
	bool preempt_fast;         /* take over at once on a lower-priority advert */
	uint64_t preempt_delay_ns; /* no preemption this long after entering Backup */
	bool align;                /* move the advert schedule onto the interval's grid */
	uint64_t startup_delay_ns; /* stay Backup this long after Startup, owner too */
	/*
	 * VRRPv2 (RFC 3768 §6.1): Skew_Time = (256 - Priority) / 256 s
	 * whatever the interval, and a Backup does not learn the Master's
	 * interval (the receive path drops an advert whose interval differs).
	 */
	bool v2;
};

struct fsm {
	struct fsm_cfg cfg;
	int family;
	union inaddr primary; /* our source address, for the §6.4.3 tie-break */

	enum vrrp_state state;
	uint8_t priority;             /* effective Priority (weights applied) */
	uint16_t master_adver_int_cs; /* Master_Adver_Interval, centiseconds */
	uint64_t skew_time_ns;        /* Skew_Time */
	uint64_t master_down_int_ns;  /* Master_Down_Interval */

	/* Absolute monotonic deadlines in ns, 0 = not running. */
	uint64_t adver_timer_ns;       /* Adver_Timer (Master) */
	uint64_t master_down_timer_ns; /* Master_Down_Timer (Backup) */
	uint64_t preempt_after_ns;     /* preemption allowed from here */
	uint64_t startup_until_ns;     /* no Backup -> Master before this (startup_delay) */

	uint64_t split_announce_ns; /* last re-announce to a lower-priority Master, 0 = none */

	bool faulted;    /* a fault condition holds (link, address, check) */
	/*
	 * Sync groups (fsm_hold): while held, a Backup that would become
	 * Master (its Master_Down_Timer fired, preemption, the owner) stays
	 * Backup and only wants to, until released; a held Master yields.
	 */
	bool held;
	bool want_master;
	enum fsm_reason want_reason; /* why it wants to: master_down, preempt... */
	bool down_prio0; /* Master_Down_Timer was set by a priority-0 advert */

	/*
	 * Who is the Master (for status): ourselves as Master, or in Backup
	 * the sender of the last advert accepted as the Master's (§6.4.2),
	 * unless a better one was heard within Master_Adver_Interval (a
	 * yielding Master's last advert does not replace its successor).
	 */
	bool have_master;
	union inaddr master_ip;
	uint8_t master_priority;
	uint64_t master_seen_ns;
};

/*
 * A Master hearing a lower-priority Master (split brain) re-announces its
 * VIPs at most this often; each of those adverts is still answered.
 */
/* How much shorter than the interval an advert gap may be while aligning. */
#define FSM_ALIGN_PCT 4

#define FSM_SPLIT_ANNOUNCE_NS 1000000000ULL

/* Skew_Time = ((256 - prio) * interval) / 256, in ns (RFC 9568 §6.1). */
uint64_t fsm_skew_time_ns(uint8_t priority, uint16_t adver_int_cs);
/* Master_Down_Interval = 3 * interval + Skew_Time, in ns. */
uint64_t fsm_master_down_ns(uint8_t priority, uint16_t adver_int_cs);

/* Set up in ST_INIT. primary may be all-zero until known. */
void fsm_init(struct fsm *f, const struct fsm_cfg *cfg, int family, const union inaddr *primary);
void fsm_set_primary(struct fsm *f, const union inaddr *primary);

/* The address owner: configured priority 255 (§6.1), whatever tracks apply. */
bool fsm_is_owner(const struct fsm *f);

/*
 * Startup event (§6.4.1): Init -> Master (owner) or Backup, or Fault
 * while `fault` holds (the caller's fault condition at start). With a
 * startup_delay, the instance (an owner too) stays Backup until
 * now + startup_delay whatever it hears or does not hear: its
 * Master_Down_Timer never fires before then.
 */
void fsm_startup(struct fsm *f, uint64_t now, bool fault, struct fsm_out *out);
/* Shutdown event: Master sends priority 0 and drops the VIPs; -> Init. */
void fsm_shutdown(struct fsm *f, uint64_t now, struct fsm_out *out);

/* A valid advert for our VRID arrived from src (already decoded and checked). */
struct fsm_adv {
	uint8_t priority;
	uint16_t max_adver_int_cs;
	union inaddr src;
};
void fsm_advert(struct fsm *f, uint64_t now, const struct fsm_adv *adv, struct fsm_out *out);

/* Run every timer whose deadline is <= now. */
void fsm_timer(struct fsm *f, uint64_t now, struct fsm_out *out);
/* Earliest running deadline, or 0 if none. */
uint64_t fsm_next_deadline(const struct fsm *f);

/*
 * A fault condition starts (fault = true) or clears. Any state -> Fault
 * (a Master sends priority 0 and drops its VIPs); Fault -> Backup, or
 * Master for an owner, when it clears. In Init only remembered.
 */
void fsm_fault(struct fsm *f, uint64_t now, bool fault, struct fsm_out *out);

/*
 * The effective priority changed (checks, or a reload). A Master
 * advertises at once; a Backup's Skew_Time and Master_Down_Interval
 * follow. A Backup that becomes the address owner (255, only by a
 * reload) takes over at once (§6.4.2: the owner is always Master).
 */
void fsm_set_priority(struct fsm *f, uint64_t now, uint8_t priority, struct fsm_out *out);

/*
 * A reload changed the instance's settings: Advertisement_Interval,
 * preemption, the configured priority. The state is kept. A Master
 * advertises with the new interval from now on (its next advert no later
 * than one new interval away, so shortening it takes effect at once); a
 * Backup keeps the Master_Adver_Interval it learned from the Master, and
 * the end of its preemption delay moves by the change of the delay. The
 * effective priority is not touched here: the caller recomputes it with
 * the tracked items and calls fsm_set_priority().
 */
void fsm_reconfigure(struct fsm *f, uint64_t now, const struct fsm_cfg *cfg, struct fsm_out *out);

/*
 * Sync groups (keepalived's vrrp_sync_group): hold the instance out of
 * Master, or release it. A held Master goes to Backup at once (reason
 * "group"), sending priority 0 so the peer's instance takes over after
 * Skew_Time; a held Backup whose Master_Down_Timer fires (or that would
 * preempt) stays Backup and wants Master (fsm_wants_master) until a Master
 * is heard again. Released, a Backup that wants Master becomes Master at
 * once, with the reason it had. The group (vgroup.h) releases its
 * instances when every one of them is Master or wants to be.
 */
void fsm_hold(struct fsm *f, uint64_t now, bool hold, struct fsm_out *out);
bool fsm_wants_master(const struct fsm *f);

#endif
