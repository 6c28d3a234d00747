/*
 * fsm.c - the VRRPv3 state machine (RFC 5798 §6.4, RFC 9568 §6.4), pure.
 *
 * Each entry point starts a fresh fsm_out, applies one event to the
 * current state with a small switch, and reports the caller's actions.
 * Deadlines are absolute monotonic ns; 0 means "not running", which is
 * safe because every deadline is now + a positive interval.
 */
#include "fsm.h"

#include <string.h>

const char *const fsm_state_names[ST_MAX] = {
    [ST_INIT] = "INIT",
    [ST_BACKUP] = "BACKUP",
    [ST_MASTER] = "MASTER",
    [ST_FAULT] = "FAULT",
};

const char *const fsm_reason_names[R_MAX] = {
    [R_NONE] = "none",
    [R_STARTUP] = "startup",
    [R_OWNER] = "owner",
    [R_MASTER_DOWN] = "master_down",
    [R_PRIORITY_ZERO] = "priority_zero",
    [R_HIGHER_PRIORITY] = "higher_priority_seen",
    [R_PREEMPT] = "preempt",
    [R_FAULT] = "fault",
    [R_FAULT_CLEARED] = "fault_cleared",
    [R_STOP] = "stop",
    [R_GROUP] = "group",
};

#define NS_PER_CS  10000000ULL /* 1 centisecond */
#define PRIO_OWNER 255

/* Deadlines at the start of an event, to report FA_TIMERS on any change. */
struct snap {
	uint64_t adver;
	uint64_t down;
};

static uint64_t
cs_to_ns(uint16_t cs)
{
	return (uint64_t)cs * NS_PER_CS;
}

uint64_t
fsm_skew_time_ns(uint8_t priority, uint16_t adver_int_cs)
{
	/*
	 * RFC 5798 §6.1 / RFC 9568 §6.1: the skew scales with the Master's
	 * interval, so lower priorities wait longer. Multiply before dividing
	 * so integer ns stay exact (at most 256 * 4095 * 10^7, far below 2^64).
	 */
	return (uint64_t)(256 - priority) * cs_to_ns(adver_int_cs) / 256;
}

uint64_t
fsm_master_down_ns(uint8_t priority, uint16_t adver_int_cs)
{
	return 3 * cs_to_ns(adver_int_cs) + fsm_skew_time_ns(priority, adver_int_cs);
}

bool
fsm_is_owner(const struct fsm *f)
{
	return f->cfg.priority == PRIO_OWNER;
}

#define is_owner fsm_is_owner

/* We are the Master now (for status), or nobody is known to be. */
static void
master_self(struct fsm *f, bool self)
{
	f->have_master = self;
	f->master_ip = f->primary;
	f->master_priority = f->priority;
	f->master_seen_ns = 0;
}

/*
 * A Backup heard a better Master than adv's sender within one
 * Master_Adver_Interval: adv is the last advert of a Master that just
 * yielded to it (master_advert), not the Master's.
 */
static bool
superseded(const struct fsm *f, uint64_t now, const struct fsm_adv *adv)
{
	int cmp = addr_cmp(f->family, &adv->src, &f->master_ip);

	return f->have_master && cmp != 0 &&
	       now < f->master_seen_ns + cs_to_ns(f->master_adver_int_cs) &&
	       (adv->priority < f->master_priority ||
	        (adv->priority == f->master_priority && cmp < 0));
}

/*
 * An advert accepted as the Master's in Backup (§6.4.2). Another sender
 * replaces the known Master only if better, or if the known one has not
 * been heard for a Master_Adver_Interval.
 */
static void
master_heard(struct fsm *f, uint64_t now, const struct fsm_adv *adv)
{
	if (superseded(f, now, adv))
		return;
	f->have_master = true;
	f->master_ip = adv->src;
	f->master_priority = adv->priority;
	f->master_seen_ns = now;
}

/*
 * Skew_Time and Master_Down_Interval follow priority and the Master's
 * interval. VRRPv2 (RFC 3768 §6.1): Skew_Time = (256 - Priority) / 256
 * seconds, the v3 formula at an interval of 1 s, and the interval is
 * always our own.
 */
static void
recompute(struct fsm *f)
{
	if (f->cfg.v2) {
		f->master_adver_int_cs = f->cfg.adver_int_cs;
		f->skew_time_ns = fsm_skew_time_ns(f->priority, 100);
		f->master_down_int_ns = 3 * cs_to_ns(f->cfg.adver_int_cs) + f->skew_time_ns;
		return;
	}
	f->skew_time_ns = fsm_skew_time_ns(f->priority, f->master_adver_int_cs);
	f->master_down_int_ns = fsm_master_down_ns(f->priority, f->master_adver_int_cs);
}

void
fsm_init(struct fsm *f, const struct fsm_cfg *cfg, int family, const union inaddr *primary)
{
	memset(f, 0, sizeof(*f));
	f->cfg = *cfg;
	f->family = family;
	fsm_set_primary(f, primary);
	f->state = ST_INIT;
	f->priority = cfg->priority;
	f->master_adver_int_cs = cfg->adver_int_cs;
	recompute(f);
}

void
fsm_set_primary(struct fsm *f, const union inaddr *primary)
{
	if (primary)
		f->primary = *primary;
	else
		memset(&f->primary, 0, sizeof(f->primary));
}

static void
out_begin(const struct fsm *f, struct fsm_out *out, struct snap *s)
{
	memset(out, 0, sizeof(*out));
	out->from = out->to = f->state;
	s->adver = f->adver_timer_ns;
	s->down = f->master_down_timer_ns;
}

static void
out_end(const struct fsm *f, struct fsm_out *out, const struct snap *s)
{
	/* A state change always re-arms; otherwise only if a deadline moved. */
	if ((out->actions & FA_STATE) || s->adver != f->adver_timer_ns ||
	    s->down != f->master_down_timer_ns)
		out->actions |= FA_TIMERS;
}

static void
set_state(struct fsm *f, struct fsm_out *out, enum vrrp_state to, enum fsm_reason reason,
          unsigned actions)
{
	f->state = to;
	out->to = to;
	out->reason = reason;
	out->actions |= actions | FA_STATE;
}

/*
 * RFC 5798 §6.4.1 / §6.4.2 "transition to Master": send an advert,
 * announce every VIP (gratuitous ARP / unsolicited NA), start the
 * Adver_Timer at Advertisement_Interval. The VIPs come first (fsm.h).
 */
static void
enter_master(struct fsm *f, uint64_t now, struct fsm_out *out, enum fsm_reason reason)
{
	f->master_adver_int_cs = f->cfg.adver_int_cs;
	recompute(f);
	f->adver_timer_ns = now + cs_to_ns(f->cfg.adver_int_cs);
	f->master_down_timer_ns = 0;
	f->down_prio0 = false;
	f->split_announce_ns = 0;
	f->want_master = false;
	master_self(f, true);
	set_state(f, out, ST_MASTER, reason, FA_VIPS_ADD | FA_SEND_ADVERT | FA_ANNOUNCE);
}

/*
 * A Master_Down_Timer deadline, never before the end of the startup
 * delay: a host that just booted does not take over on a silent network
 * (keepalived's vrrp_startup_delay; not in the RFC).
 */
static uint64_t
down_deadline(const struct fsm *f, uint64_t deadline)
{
	return deadline < f->startup_until_ns ? f->startup_until_ns : deadline;
}

/* (Re)start the Master_Down_Timer from an interval learned or configured. */
static void
reset_down_timer(struct fsm *f, uint64_t now, uint16_t master_int_cs)
{
	if (master_int_cs)
		f->master_adver_int_cs = master_int_cs;
	recompute(f);
	f->master_down_timer_ns = down_deadline(f, now + f->master_down_int_ns);
	f->down_prio0 = false;
}

/*
 * RFC 5798 §6.4.1 / §6.4.3 "transition to Backup": Master_Down_Timer at
 * Master_Down_Interval computed from master_int_cs. The preemption delay
 * counts from every entry into Backup.
 */
static void
enter_backup(struct fsm *f, uint64_t now, struct fsm_out *out, enum fsm_reason reason,
             uint16_t master_int_cs, unsigned actions)
{
	f->adver_timer_ns = 0;
	reset_down_timer(f, now, master_int_cs);
	f->preempt_after_ns = now + f->cfg.preempt_delay_ns;
	f->want_master = false;
	set_state(f, out, ST_BACKUP, reason, actions);
}

/*
 * A Backup would become Master. Held by its sync group it stays Backup,
 * wanting to, its Master_Down_Timer stopped: fsm_hold() releases it, or a
 * Master heard again (backup_advert) ends the wish.
 */
static void
backup_to_master(struct fsm *f, uint64_t now, struct fsm_out *out, enum fsm_reason reason)
{
	if (!f->held) {
		enter_master(f, now, out, reason);
		return;
	}
	f->want_master = true;
	f->want_reason = reason;
	f->master_down_timer_ns = 0;
	f->down_prio0 = false;
}

static void
timers_off(struct fsm *f)
{
	f->adver_timer_ns = 0;
	f->master_down_timer_ns = 0;
	f->down_prio0 = false;
}

/* Leave the running state for Init or Fault; a Master says goodbye first. */
static void
leave(struct fsm *f, struct fsm_out *out, enum vrrp_state to, enum fsm_reason reason)
{
	unsigned actions = 0;

	/* RFC 5798 §6.4.3: a Master going down sends priority 0 (Shutdown event). */
	if (f->state == ST_MASTER)
		actions = FA_SEND_PRIO0 | FA_VIPS_DEL;
	timers_off(f);
	f->want_master = false;
	master_self(f, false);
	set_state(f, out, to, reason, actions);
}

/* Out of Init or Fault: owner -> Master, anyone else -> Backup (§6.4.1). */
static void
start_running(struct fsm *f, uint64_t now, struct fsm_out *out, enum fsm_reason reason)
{
	if (is_owner(f) && now >= f->startup_until_ns && !f->held) {
		enter_master(f, now, out, reason == R_STARTUP ? R_OWNER : reason);
		return;
	}
	enter_backup(f, now, out, reason, f->cfg.adver_int_cs, 0);
	if (is_owner(f) && now >= f->startup_until_ns)
		backup_to_master(f, now, out, R_OWNER);
}

void
fsm_startup(struct fsm *f, uint64_t now, bool fault, struct fsm_out *out)
{
	struct snap s;

	out_begin(f, out, &s);
	f->faulted = fault;
	if (f->state == ST_INIT) {
		f->startup_until_ns = f->cfg.startup_delay_ns ? now + f->cfg.startup_delay_ns : 0;
		if (f->faulted)
			set_state(f, out, ST_FAULT, R_FAULT, 0);
		else
			start_running(f, now, out, R_STARTUP);
	}
	out_end(f, out, &s);
}

void
fsm_shutdown(struct fsm *f, uint64_t now, struct fsm_out *out)
{
	struct snap s;

	(void)now;
	out_begin(f, out, &s);
	if (f->state != ST_INIT)
		leave(f, out, ST_INIT, R_STOP);
	out_end(f, out, &s);
}

/* RFC 5798 §6.4.3: an advert received in Master state. */
static void
master_advert(struct fsm *f, uint64_t now, const struct fsm_adv *adv, struct fsm_out *out)
{
	int cmp = addr_cmp(f->family, &adv->src, &f->primary);

	/* The Master left: advertise at once so Backups need not wait. */
	if (adv->priority == 0) {
		out->actions |= FA_SEND_ADVERT;
		f->adver_timer_ns = now + cs_to_ns(f->cfg.adver_int_cs);
		return;
	}
	/* The address owner always stays Master (§6.4.3 never lets 255 lose). */
	if (is_owner(f))
		return;
	/*
	 * Yield, with one last advert of our own (keepalived's
	 * vrrp_higher_prio_send_advert). After a split brain the winner may
	 * be the one that heard nothing of us: this advert shows it a
	 * lower-priority Master, so it re-announces the VIPs and neighbours
	 * drop our stale MAC at once rather than when their ARP entry ages.
	 */
	if (adv->priority > f->priority || (adv->priority == f->priority && cmp > 0)) {
		enter_backup(f, now, out, R_HIGHER_PRIORITY, adv->max_adver_int_cs,
		             FA_VIPS_DEL | FA_SEND_ADVERT);
		master_self(f, false);
		master_heard(f, now, adv);
		return;
	}
	/* Equal priority and address: our own advert looped back; ignore it. */
	if (adv->priority == f->priority && cmp == 0)
		return;
	/*
	 * A lower-priority Master (split brain, e.g. after a partition heals).
	 * The RFC discards this; we answer at once and re-announce so the
	 * other side yields and switches/neighbours relearn our MAC now rather
	 * than at the next Adver_Timer. In a one-way partition the other side
	 * never hears us and keeps advertising: the advert answers each of
	 * its adverts, the announcement (a whole GARP burst) goes out at most
	 * once per FSM_SPLIT_ANNOUNCE_NS.
	 */
	out->actions |= FA_SEND_ADVERT;
	if (!f->split_announce_ns || now - f->split_announce_ns >= FSM_SPLIT_ANNOUNCE_NS) {
		out->actions |= FA_ANNOUNCE;
		f->split_announce_ns = now;
	}
	f->adver_timer_ns = now + cs_to_ns(f->cfg.adver_int_cs);
}

/* RFC 5798 §6.4.2: an advert received in Backup state. */
static void
backup_advert(struct fsm *f, uint64_t now, const struct fsm_adv *adv, struct fsm_out *out)
{
	bool delaying = now < f->preempt_after_ns || now < f->startup_until_ns;

	/* The Master left: take over after Skew_Time only, best priority first. */
	if (adv->priority == 0) {
		f->master_down_timer_ns = down_deadline(f, now + f->skew_time_ns);
		f->down_prio0 = true;
		if (f->have_master && addr_cmp(f->family, &adv->src, &f->master_ip) == 0)
			f->have_master = false;
		return;
	}
	/*
	 * A yielding Master's last advert: the Master we follow is better and
	 * was just heard. Learning the yielder's interval would shorten the
	 * Master_Down_Timer to it (a Master with a shorter interval than the
	 * winner's then made Backups take over from a live Master every few
	 * intervals), and preempting it would take over from the winner.
	 * Found by tests/fuzz/fuzz_fsm.
	 */
	if (superseded(f, now, adv))
		return;
	/*
	 * A legitimate Master: learn its interval and keep waiting on it. An
	 * owner is Backup only during its startup delay and then always
	 * preempts (§6.4.2: the owner is always Master).
	 */
	if ((!f->cfg.preempt && !is_owner(f)) || adv->priority >= f->priority || delaying) {
		reset_down_timer(f, now, adv->max_adver_int_cs);
		master_heard(f, now, adv);
		f->want_master = false;
		return;
	}
	/*
	 * Preempt allowed and the sender is worse than us. The RFC discards
	 * the advert and lets Master_Down_Timer expire; fast preemption (an
	 * extension) takes over at once when there is no delay to honour.
	 */
	if ((f->cfg.preempt_fast || is_owner(f)) && f->cfg.preempt_delay_ns == 0)
		backup_to_master(f, now, out, R_PREEMPT);
}

void
fsm_advert(struct fsm *f, uint64_t now, const struct fsm_adv *adv, struct fsm_out *out)
{
	struct snap s;

	out_begin(f, out, &s);
	if (f->state == ST_MASTER)
		master_advert(f, now, adv, out);
	else if (f->state == ST_BACKUP)
		backup_advert(f, now, adv, out);
	/* Init and Fault do not listen (§6.4.1 only acts on Startup). */
	out_end(f, out, &s);
}

/*
 * Adver_Timer fired (§6.4.3): send and re-arm one interval after the
 * previous deadline, so a late loop does not make the schedule drift.
 * If that is already due (the previous deadline is more than one
 * interval behind) restart from now rather than send a burst.
 */
static void
master_tick(struct fsm *f, uint64_t now, struct fsm_out *out)
{
	uint64_t iv = cs_to_ns(f->cfg.adver_int_cs);
	uint64_t next = f->adver_timer_ns + iv;

	if (next <= now)
		next = now + iv;
	if (f->cfg.align) {
		/*
		 * Move the schedule onto the grid of multiples of the interval,
		 * at most FSM_ALIGN_PCT % of an interval per advert and always
		 * earlier, never later: every Master with this interval ends up
		 * advertising at the same instants, so hundreds of instances
		 * wake the loop (and their Backups) once per interval instead of
		 * once each. No gap is ever longer than the interval.
		 */
		uint64_t off = next % iv, step = iv * FSM_ALIGN_PCT / 100;

		next -= off < step ? off : step;
		if (next <= now)
			next = now + 1;
	}
	f->adver_timer_ns = next;
	out->actions |= FA_SEND_ADVERT;
}

void
fsm_timer(struct fsm *f, uint64_t now, struct fsm_out *out)
{
	struct snap s;

	out_begin(f, out, &s);
	switch (f->state) {
	case ST_MASTER:
		if (f->adver_timer_ns && f->adver_timer_ns <= now)
			master_tick(f, now, out);
		break;
	case ST_BACKUP:
		/* Master_Down_Timer fired (§6.4.2): become Master. */
		if (f->master_down_timer_ns && f->master_down_timer_ns <= now)
			backup_to_master(f, now, out,
			                 f->down_prio0 ? R_PRIORITY_ZERO : R_MASTER_DOWN);
		break;
	default:
		break;
	}
	out_end(f, out, &s);
}

uint64_t
fsm_next_deadline(const struct fsm *f)
{
	uint64_t a = f->adver_timer_ns, d = f->master_down_timer_ns;

	if (!a)
		return d;
	if (!d)
		return a;
	return a < d ? a : d;
}

void
fsm_fault(struct fsm *f, uint64_t now, bool fault, struct fsm_out *out)
{
	struct snap s;

	out_begin(f, out, &s);
	f->faulted = fault;
	if (fault && (f->state == ST_BACKUP || f->state == ST_MASTER))
		leave(f, out, ST_FAULT, R_FAULT);
	else if (!fault && f->state == ST_FAULT)
		start_running(f, now, out, R_FAULT_CLEARED);
	out_end(f, out, &s);
}

void
fsm_set_priority(struct fsm *f, uint64_t now, uint8_t priority, struct fsm_out *out)
{
	struct snap s;

	out_begin(f, out, &s);
	/* 0 on the wire means "Master leaving" (§5.2.4): never advertise it by accident. */
	if (priority == 0)
		priority = 1;
	if (priority != f->priority) {
		f->priority = priority;
		/* Skew_Time depends on our priority (§6.1); a running timer is kept. */
		recompute(f);
		/* A Master tells the Backups at once so preemption decisions are current. */
		if (f->state == ST_MASTER) {
			out->actions |= FA_SEND_ADVERT;
			f->adver_timer_ns = now + cs_to_ns(f->cfg.adver_int_cs);
		}
		/* A reload made us the address owner: it does not wait (§6.4.2). */
		if (f->state == ST_BACKUP && is_owner(f) && now >= f->startup_until_ns)
			backup_to_master(f, now, out, R_OWNER);
	}
	out_end(f, out, &s);
}

void
fsm_reconfigure(struct fsm *f, uint64_t now, const struct fsm_cfg *cfg, struct fsm_out *out)
{
	uint64_t old_delay = f->cfg.preempt_delay_ns;
	uint64_t next;
	struct snap s;

	out_begin(f, out, &s);
	f->cfg = *cfg;
	switch (f->state) {
	case ST_MASTER:
		/* A Master's Master_Adver_Interval is its own (§6.4.3). */
		f->master_adver_int_cs = cfg->adver_int_cs;
		recompute(f);
		next = now + cs_to_ns(cfg->adver_int_cs);
		if (f->adver_timer_ns > next)
			f->adver_timer_ns = next;
		break;
	case ST_BACKUP:
		/*
		 * Master_Adver_Interval stays what the Master advertises
		 * (§6.4.2); preempt_after = entry into Backup + delay.
		 */
		if (f->preempt_after_ns >= old_delay)
			f->preempt_after_ns =
			    f->preempt_after_ns - old_delay + cfg->preempt_delay_ns;
		break;
	default:
		/* Init and Fault: the next Backup or Master entry starts afresh. */
		f->master_adver_int_cs = cfg->adver_int_cs;
		recompute(f);
		break;
	}
	out_end(f, out, &s);
}

void
fsm_hold(struct fsm *f, uint64_t now, bool hold, struct fsm_out *out)
{
	struct snap s;

	out_begin(f, out, &s);
	if (hold != f->held) {
		f->held = hold;
		if (hold && f->state == ST_MASTER) {
			enter_backup(f, now, out, R_GROUP, f->cfg.adver_int_cs,
			             FA_SEND_PRIO0 | FA_VIPS_DEL);
			master_self(f, false);
		} else if (!hold && f->state == ST_BACKUP && f->want_master) {
			enter_master(f, now, out, f->want_reason);
		}
	}
	out_end(f, out, &s);
}

bool
fsm_wants_master(const struct fsm *f)
{
	return f->state == ST_BACKUP && f->want_master;
}
