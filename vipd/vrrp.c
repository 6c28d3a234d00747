/*
 * vrrp.c - one VRRP instance at runtime.
 *
 * The decisions of RFC 5798 / RFC 9568 §6.4 are all in fsm.c. Everything
 * that happens to an instance (start, stop, an advert, its timer, a
 * change of its priority or fault inputs, a reload) enters through
 * vrrp_event(), the one function here that talks to the state machine;
 * it carries out the actions returned, in the order documented in
 * fsm.h, with the hooks last. The outside world (clock, socket,
 * addresses, announcements) is reached through v->io (vrrp_io.h).
 */
#include "vgroup.h"
#include "vrrp_priv.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "event.h"
#include "hook.h"
#include "log.h"
#include "loop.h"
#include "vsock.h"
#include "vport.h"
#include "vrrp_io.h"

/* An advert this long past one interval after the previous one is late. */
#define ADVERT_LATE_NS (2 * NS_PER_MS)

bool
vrrp_unicast(const struct vrrp *v)
{
	return v->cfg.npeers > 0;
}

static bool
vrrp_is_owner(const struct vrrp *v)
{
	return fsm_is_owner(&v->fsm);
}

/* --- sending ------------------------------------------------------------ */

static void
send_one(struct vrrp *v, uint8_t priority, const union inaddr *dst)
{
	uint8_t pkt[VRRP_PKT_MAX];
	struct pkt_msg m = {
	    .family = v->cfg.family,
	    .vrid = v->cfg.vrid,
	    .priority = priority,
	    .max_adver_int_cs = (uint16_t)(v->cfg.advert_interval_ms / 10),
	    .vips = v->cfg.vips,
	    .nvips = v->cfg.nvips,
	    .src = &v->src,
	    .dst = dst,
	    .cksum = v->cfg.checksum,
	    .version = v->cfg.version,
	    .auth = &v->cfg.auth,
	};
	ssize_t n = pkt_encode(pkt, sizeof(pkt), &m);

	if (n < 0) {
		log_warnx("%s cannot encode advert", v->tag);
		return;
	}
	/*
	 * With use_vmac multicast adverts leave from the link, with the
	 * virtual MAC (RFC 5798 §7.3), so switches keep learning where it is;
	 * from the interface if the link cannot send. Unicast ones go to a
	 * peer's own MAC from the interface: the link resolves no neighbour.
	 */
	if (v->vmac_hears && !vrrp_unicast(v)) {
		v->vmac_sends = v->io->port_send_link(v->port, v->vmac.ifindex, &v->src, dst, pkt,
		                                      (size_t)n) == 0;
		if (v->vmac_sends) {
			v->adverts_sent++;
			return;
		}
		if (log_ratelimit(&v->vmac_err_logged_ns, v->io->now()))
			log_warn("%s cannot send from %s, sending from %s (logged once a minute)",
			         v->tag, v->vmac.name, v->cfg.ifname);
	}
	if (v->io->port_send(v->port, &v->src, dst, pkt, (size_t)n) < 0) {
		if (log_ratelimit(&v->send_err_logged_ns, v->io->now()))
			log_warn("%s cannot send advert (logged once a minute)", v->tag);
		return;
	}
	v->adverts_sent++;
}

/* One advert to the group, or to every unicast peer. */
static void
send_advert(struct vrrp *v, uint64_t now, uint8_t priority)
{
	if (!v->io->port_listening(v->port, v, v->cfg.vrid) || !v->have_src)
		return;
	v->last_advert_ns = priority ? now : 0;
	if (!vrrp_unicast(v)) {
		send_one(v, priority, &v->group);
		return;
	}
	for (size_t i = 0; i < v->cfg.npeers; i++)
		send_one(v, priority, &v->cfg.peers[i]);
}

/* --- state machine glue ------------------------------------------------ */

/*
 * Enqueue the notify hooks of a transition. VIPs were already added (to
 * MASTER) or removed (from MASTER) by apply() before this runs.
 */
static void
run_hooks(struct vrrp *v, const struct fsm_out *out, const char *reason)
{
	char vips[CONF_MAX_VIPS * (ADDR_STRLEN + 5)], s[ADDR_STRLEN + 4];
	size_t len = 0;

	if (!v->hooks || !hookq_configured(v->hooks))
		return;
	vips[0] = '\0';
	for (size_t i = 0; i < v->cfg.nvips; i++)
		len += (size_t)snprintf(vips + len, sizeof(vips) - len, "%s%s", i ? " " : "",
		                        vip_ntop(&v->cfg.vips[i], s));
	struct hook_event e = {
	    .from = out->from,
	    .to = out->to,
	    .reason = reason,
	    .priority = v->fsm.priority,
	    .vrid = v->cfg.vrid,
	    .ifname = v->cfg.ifname,
	    .vips = vips,
	};
	hookq_push(v->hooks, &e);
}

/* The transition on the event stream, before the hooks it starts. */
static void
publish_transition(const struct vrrp *v, const struct fsm_out *out, const char *reason)
{
	struct buf *b = ev_begin("transition");

	if (!b)
		return;
	ev_str(b, "instance", v->cfg.name);
	if (v->sync)
		ev_str(b, "group", vgroup_name(v->sync));
	ev_str(b, "from", fsm_state_names[out->from]);
	ev_str(b, "to", hook_state_name(out->to, true));
	ev_str(b, "reason", reason);
	ev_uint(b, "priority", v->fsm.priority);
	ev_end(b);
}

/*
 * The causes of FAULT: how status and the log say it, and the word hooks
 * get in VIPD_REASON. A tracked item's own description says both
 * ("check:pg", "interface eth1 down").
 */
static const struct {
	const char *text, *reason;
} fault_names[VF_MAX] = {
    [VF_NONE] = {"", "fault"},
    [VF_DRAINED] = {"drained", "drained"},
    [VF_IF_MISSING] = {"interface missing", "interface_missing"},
    [VF_IF_DOWN] = {"interface down", "interface_down"},
    [VF_NO_SRC] = {"no source address", "no_address"},
    [VF_SOCKET] = {"socket error", "socket error"},
    [VF_VIP_ADD] = {NULL, "vip_add_failed"},
    [VF_VMAC] = {"no virtual MAC link", "vmac_failed"},
    [VF_TRACK] = {NULL, NULL},
    [VF_GROUP] = {NULL, "group"},
};

/* Why a transition happened, as hooks get it in VIPD_REASON ("master_down", "check:pg"...). */
static const char *
transition_reason(const struct vrrp *v, const struct fsm_out *out)
{
	if (out->to != ST_FAULT)
		return fsm_reason_names[out->reason];
	return v->fault == VF_TRACK ? v->fault_why : fault_names[v->fault].reason;
}

/* Log and count a transition; a Master leaving stops announcing. */
static void
note_transition(struct vrrp *v, const struct fsm_out *out)
{
	v->transitions++;
	v->transitions_by[out->reason]++;
	v->master_changes += (out->from == ST_MASTER) != (out->to == ST_MASTER);
	v->last_reason = out->reason;
	if (out->to == ST_FAULT)
		log_info("%s %s -> %s (%s: %s)", v->tag, fsm_state_names[out->from],
		         fsm_state_names[out->to], fsm_reason_names[out->reason], v->fault_why);
	else
		log_info("%s %s -> %s (%s)", v->tag, fsm_state_names[out->from],
		         fsm_state_names[out->to], fsm_reason_names[out->reason]);
	if (out->from == ST_MASTER) {
		timer_disarm(v->garp_timer);
		pace_cancel(&v->garp_job);
		pace_cancel(&v->guard_job);
	}
}

static void apply(struct vrrp *v, uint64_t now, const struct fsm_out *out, bool timer_fired);

/*
 * Becoming Master, the kernel refused a VIP: no advert, no announcement,
 * no Master hooks. The state machine goes on to FAULT at once and the
 * transition shows as one, from where it was (BACKUP -> FAULT): its
 * priority-0 advert makes a Backup take over after Skew_Time.
 */
static void
vip_add_fault(struct vrrp *v, uint64_t now, const struct fsm_out *out, bool timer_fired)
{
	struct fsm_out f;

	v->fault = VF_VIP_ADD;
	snprintf(v->fault_why, sizeof(v->fault_why), "%s", v->vip_add_why);
	fsm_fault(&v->fsm, now, true, &f);
	f.from = out->from;
	f.actions |= out->actions & FA_TIMERS;
	apply(v, now, &f, timer_fired);
}

/*
 * Carry out what the state machine asked for, in fsm.h's order: the
 * packets and addresses first, then the announcement, and only then the
 * event stream and the hooks (starting a child costs time the
 * gratuitous ARP must not wait for).
 */
static void
apply(struct vrrp *v, uint64_t now, const struct fsm_out *out, bool timer_fired)
{
	if (out->actions & FA_SEND_PRIO0)
		send_advert(v, now, 0);
	if (out->actions & FA_VIPS_DEL)
		vrrp_vips_del(v);
	if ((out->actions & FA_VIPS_ADD) && !vrrp_vips_add(v)) {
		vip_add_fault(v, now, out, timer_fired);
		return;
	}
	if (out->actions & FA_SEND_ADVERT)
		send_advert(v, now, v->fsm.priority);
	if (out->actions & FA_STATE)
		note_transition(v, out);
	if (out->actions & FA_ANNOUNCE)
		vrrp_announce_start(v);
	if (out->actions & FA_STATE) {
		const char *reason = transition_reason(v, out);

		publish_transition(v, out, reason);
		run_hooks(v, out, reason);
	}
	/* The loop timer that fired is disarmed: always re-arm then. */
	if ((out->actions & FA_TIMERS) || timer_fired) {
		uint64_t next = fsm_next_deadline(&v->fsm);

		if (next)
			timer_arm(v->fsm_timer, next);
		else
			timer_disarm(v->fsm_timer);
	}
}

/* Why the instance cannot run now, or VF_NONE if it can. */
static enum vrrp_fault
fault_cause(const struct vrrp *v, const struct vrrp_verdict *tv)
{
	if (v->drained)
		return VF_DRAINED;
	if (v->ifc.ifindex == 0)
		return VF_IF_MISSING;
	if (!v->ifc.running)
		return VF_IF_DOWN;
	if (!v->have_src)
		return VF_NO_SRC;
	if (!v->io->port_listening(v->port, v, v->cfg.vrid))
		return VF_SOCKET;
	if (v->vip_add_failed)
		return VF_VIP_ADD;
	if (v->cfg.use_vmac && v->vmac.ifindex == 0)
		return VF_VMAC;
	if (tv->fault)
		return VF_TRACK;
	if (v->sync && vgroup_fault_by(v->sync, v->sync_idx))
		return VF_GROUP;
	return VF_NONE;
}

/*
 * The inputs of the state machine besides packets and time: the
 * effective priority (tracked items) and the fault condition (interface,
 * source address, socket, weight-0 items). Tell it what changed: the
 * priority first, so a Master leaving for FAULT says goodbye with it.
 * Returns whether the instance is faulted.
 */
static bool
sync_inputs(struct vrrp *v, uint64_t now, const char *why)
{
	struct vrrp_verdict tv;
	struct fsm_out out;
	enum vrrp_fault fault;

	vrrp_tracks_eval(v, why, &tv);
	if (tv.priority != v->fsm.priority) {
		fsm_set_priority(&v->fsm, now, tv.priority, &out);
		apply(v, now, &out, false);
	}
	/* Keep the cause current (also while already in FAULT) for status. */
	fault = fault_cause(v, &tv);
	v->own_fault = fault != VF_NONE && fault != VF_GROUP;
	if (fault == VF_GROUP)
		snprintf(v->fault_why, sizeof(v->fault_why), "group %s: %s in FAULT",
		         vgroup_name(v->sync), vgroup_fault_by(v->sync, v->sync_idx));
	else if (fault != VF_NONE)
		snprintf(v->fault_why, sizeof(v->fault_why), "%s",
		         fault == VF_TRACK     ? tv.fault_why
		         : fault == VF_VIP_ADD ? v->vip_add_why
		                               : fault_names[fault].text);
	if (fault != VF_NONE)
		v->fault = fault;
	if ((fault != VF_NONE) != v->fsm.faulted) {
		fsm_fault(&v->fsm, now, fault != VF_NONE, &out);
		apply(v, now, &out, false);
	}
	if (fault == VF_NONE) {
		v->fault = VF_NONE;
		v->fault_why[0] = '\0';
	}
	/* Its sync group holds it out of MASTER, or lets it go (fsm_hold). */
	bool hold = v->sync && vgroup_hold(v->sync);
	if (hold != v->fsm.held) {
		fsm_hold(&v->fsm, now, hold, &out);
		apply(v, now, &out, false);
	}
	return fault != VF_NONE;
}

/* Count an advert that left more than ADVERT_LATE_NS after its interval. */
static void
note_late(struct vrrp *v, uint64_t now)
{
	uint64_t iv = (uint64_t)v->cfg.advert_interval_ms * NS_PER_MS;

	/*
	 * Many Masters advertise together, so each advert leaves a little
	 * after its deadline by design; what the Backups see is the gap.
	 */
	if (v->fsm.state != ST_MASTER || !v->last_advert_ns || now - v->last_advert_ns <= iv ||
	    now - v->last_advert_ns - iv <= ADVERT_LATE_NS)
		return;
	v->adverts_late++;
	if (now - v->last_advert_ns - iv > v->advert_late_max_ns)
		v->advert_late_max_ns = now - v->last_advert_ns - iv;
}

static void event(struct vrrp *v, const struct vrrp_ev *e);

/* A re-sync of a group stops after this many rounds (it settles in two or three). */
#define GROUP_ROUNDS 8

/*
 * Tell the group what the instance is now; if that changed a verdict,
 * every member takes it (VE_INPUTS), round after round while their own
 * reports change verdicts again. A member's event during a re-sync only
 * marks another round (vgroup_sync_begin).
 */
static void
group_report(struct vrrp *v)
{
	struct vgroup *g = v->sync;
	struct vgroup_report r = {
	    .state = v->fsm.state,
	    .wants_master = fsm_wants_master(&v->fsm),
	    .own_fault = v->own_fault && v->fsm.state != ST_INIT, /* not started, or stopped */
	};

	if (!vgroup_report(g, v->sync_idx, &r) || !vgroup_sync_begin(g))
		return;
	for (int round = 0; round < GROUP_ROUNDS && vgroup_take_dirty(g); round++)
		for (size_t i = 0; i < vgroup_size(g); i++)
			if (vgroup_member(g, i))
				event(vgroup_member(g, i), &(struct vrrp_ev){.type = VE_INPUTS});
	vgroup_sync_end(g);
}

void
vrrp_event(struct vrrp *v, const struct vrrp_ev *e)
{
	event(v, e);
}

static void
event(struct vrrp *v, const struct vrrp_ev *e)
{
	uint64_t now = v->io->now();
	struct fsm_out out;
	struct fsm_cfg fc;
	bool fault;

	switch (e->type) {
	case VE_STARTUP:
		/* Tracked items set the starting priority and may hold us in FAULT. */
		fault = sync_inputs(v, now, NULL);
		fsm_startup(&v->fsm, now, fault, &out);
		break;
	case VE_SHUTDOWN:
		fsm_shutdown(&v->fsm, now, &out);
		break;
	case VE_ADVERT:
		fsm_advert(&v->fsm, now, e->adv, &out);
		break;
	case VE_TIMER:
		note_late(v, now);
		fsm_timer(&v->fsm, now, &out);
		break;
	case VE_RECONF:
		vrrp_fsm_cfg(&v->cfg, &fc);
		fsm_reconfigure(&v->fsm, now, &fc, &out);
		apply(v, now, &out, false);
		/* Priority (base, weights, tracked items) and the fault condition last. */
		sync_inputs(v, now, "reload");
		break;
	case VE_INPUTS:
	default:
		sync_inputs(v, now, e->why);
		break;
	}
	if (e->type != VE_RECONF && e->type != VE_INPUTS)
		apply(v, now, &out, e->type == VE_TIMER);
	if (v->sync)
		group_report(v);
}

static void
fsm_timer_fired(struct loop *l, struct timer *t, void *arg)
{
	(void)l;
	(void)t;
	vrrp_event(arg, &(struct vrrp_ev){.type = VE_TIMER});
}

/* A tracked check changed state (check.h). */
static void
check_changed(struct check *c, void *arg)
{
	(void)c;
	vrrp_event(arg, &(struct vrrp_ev){.type = VE_INPUTS});
}

/* --- receiving ---------------------------------------------------------- */

static void
log_mismatch(struct vrrp *v, const struct vrrp_adv *adv, const union inaddr *from)
{
	char s[ADDR_STRLEN];

	if (!log_ratelimit(&v->mismatch_logged_ns, v->io->now()))
		return;
	log_warnx("%s advert from %s lists %u address(es) that differ from ours "
	          "(check virtual_ip on both; logged once a minute)",
	          v->tag, addr_ntop(v->cfg.family, from, s), adv->naddr);
}

/*
 * Count a dropped packet. A remote host triggers these (CARP and VRRPv2
 * speakers share protocol 112 and the group), so they go to debug level,
 * once a minute per reason, never to a log flood.
 */
static void
drop(struct vrrp *v, enum vrrp_drop why, const union inaddr *from)
{
	char s[ADDR_STRLEN];

	v->dropped[why]++;
	if (log_get_level() >= LOGL_DEBUG && log_ratelimit(&v->drop_logged_ns[why], v->io->now()))
		log_debug("%s dropped a packet from %s: %s (counted; logged once a minute)", v->tag,
		          addr_ntop(v->cfg.family, from, s), vrrp_drop_names[why]);
}

/*
 * An advert from our own source address. Ours never come back (the
 * sockets turn multicast loop off, and unicast goes to the peers), so
 * another router uses our address: a second vipd on the same
 * configuration, a cloned VM, an address conflict. The state machine
 * cannot tell it from us, so it is dropped, counted and said (once a
 * minute): it explains two Masters on one VRID.
 */
static void
drop_own_addr(struct vrrp *v, const union inaddr *from)
{
	char s[ADDR_STRLEN];

	v->dropped[DROP_OWN_ADDR]++;
	if (log_ratelimit(&v->own_addr_logged_ns, v->io->now()))
		log_warnx("%s received an advert from our own address %s: another router uses "
		          "it (dropped, counted as own_addr; logged once a minute)",
		          v->tag, addr_ntop(v->cfg.family, from, s));
}

/*
 * An advert for our VRID, from the port's socket. The port checked the
 * TTL and unicast peers (demux.h) and says why if it must be dropped; the
 * codec checks the rest of RFC 5798 §7.1; the state machine decides (an
 * owner only answers a priority-0 advert).
 */
static void
receive_one(void *arg, const struct vsock_rx *rx, enum vrrp_drop why)
{
	struct vrrp *v = arg;
	struct vrrp_adv adv;

	if (v->have_src && addr_cmp(v->cfg.family, &rx->src, &v->src) == 0) {
		drop_own_addr(v, &rx->src);
		return;
	}
	if (why != DROP_MAX) {
		drop(v, why, &rx->src);
		return;
	}
	if (v->cfg.version == VRRP_VERSION2) {
		if (pkt_decode_v2(rx->payload, rx->len, &v->cfg.auth, &adv, &why) < 0) {
			drop(v, why, &rx->src);
			return;
		}
		/* RFC 3768 §7.1: an Adver Int other than ours is dropped. */
		if (adv.max_adver_int_cs != v->cfg.advert_interval_ms / 10) {
			drop(v, DROP_INTERVAL, &rx->src);
			return;
		}
	} else if (pkt_decode(rx->payload, rx->len, v->cfg.family, &rx->src, &rx->dst, &adv, &why) <
	           0) {
		drop(v, why, &rx->src);
		return;
	}
	if (!pkt_addrs_match(&adv, v->cfg.vips, v->cfg.nvips))
		log_mismatch(v, &adv, &rx->src);
	v->adverts_received++;
	if (adv.priority > 0) {
		v->peer_seen_ns = v->io->now();
		v->peer_ip = rx->src;
	}

	struct fsm_adv in = {.priority = adv.priority, .max_adver_int_cs = adv.max_adver_int_cs};

	in.src = rx->src;
	vrrp_event(v, &(struct vrrp_ev){.type = VE_ADVERT, .adv = &in});
}

/* --- interface, address and fault tracking --------------------------- */

void
vrrp_sock_close(struct vrrp *v)
{
	v->io->port_unlisten(v->port, v, v->cfg.vrid);
}

int
vrrp_sock_open(struct vrrp *v)
{
	if (v->io->port_listening(v->port, v, v->cfg.vrid))
		return 0;
	return v->io->port_listen(v->port, v, v->ifc.ifindex, v->cfg.vrid, v->cfg.peers,
	                          v->cfg.npeers, v->cfg.unicast_ttl_check);
}

/*
 * Our advert source: unicast_src if set, else the interface's primary
 * address, which is never a VIP of any instance on the interface (the
 * port computes it once for all of them).
 */
void
vrrp_refresh_src(struct vrrp *v)
{
	union inaddr a;
	bool have = v->io->port_src(v->port, v->ifc.ifindex, &a);

	/* An owner's VIP may be the interface's only address: advertise from it. */
	if (!have && vrrp_is_owner(v) && v->ifc.ifindex > 0)
		have = v->io->primary_addr(v->ifc.ifindex, v->cfg.family, &a) == 0;
	if (have && v->cfg.has_unicast_src)
		a = v->cfg.unicast_src;
	if (have == v->have_src && (!have || addr_cmp(v->cfg.family, &a, &v->src) == 0))
		return;
	v->have_src = have;
	if (have) {
		char s[ADDR_STRLEN];

		v->src = a;
		fsm_set_primary(&v->fsm, &a);
		log_debug("%s source address %s", v->tag, addr_ntop(v->cfg.family, &a, s));
	}
}

void
vrrp_link_event(struct vrrp *v, const struct iface *ifc)
{
	bool ours = strcmp(ifc->name, v->cfg.ifname) == 0 ||
	            (v->ifc.ifindex > 0 && ifc->ifindex == v->ifc.ifindex);

	bool tracked = vrrp_tracks_link_event(v, ifc);

	if (v->vmac.ifindex && ifc->ifindex == v->vmac.ifindex && !ifc->present) {
		/* Our virtual MAC link was deleted (its VIPs with it): FAULT until remade. */
		log_warnx("%s virtual MAC link %s was deleted", v->tag, v->vmac.name);
		vrrp_vmac_remove(v);
		v->vips_ifindex = 0;
		vrrp_vmac_ensure(v);
		vrrp_event(v, &(struct vrrp_ev){.type = VE_INPUTS});
		return;
	}
	if (!ours) {
		if (tracked)
			vrrp_event(v, &(struct vrrp_ev){.type = VE_INPUTS});
		return;
	}
	if (!ifc->present || strcmp(ifc->name, v->cfg.ifname) != 0) {
		/*
		 * Deleted, or renamed away: whatever comes back gets a new
		 * socket. A deleted link took our VIPs along; a renamed one
		 * keeps them, and its socket, until the fault below has said
		 * goodbye (priority 0) and removed them.
		 */
		if (!ifc->present) {
			vrrp_sock_close(v);
			v->vips_ifindex = 0;
			vrrp_vmac_remove(v); /* gone with its parent */
		}
		memset(&v->ifc, 0, sizeof(v->ifc));
		vrrp_event(v, &(struct vrrp_ev){.type = VE_INPUTS});
		vrrp_sock_close(v);
		vrrp_refresh_src(v);
		return;
	}
	if (ifc->ifindex != v->ifc.ifindex)
		vrrp_sock_close(v);
	v->ifc = *ifc;
	vrrp_vmac_ensure(v);
	if (v->ifc.running && vrrp_sock_open(v) < 0)
		log_warn("%s cannot open socket on %s", v->tag, v->cfg.ifname);
	vrrp_refresh_src(v);
	vrrp_event(v, &(struct vrrp_ev){.type = VE_INPUTS});
}

/* The port's source address changed (vport.h). */
static void
port_src_changed(void *arg)
{
	struct vrrp *v = arg;

	vrrp_refresh_src(v);
	if (v->fsm.state != ST_INIT)
		vrrp_event(v, &(struct vrrp_ev){.type = VE_INPUTS});
}

/* One of our VIPs was deleted from the interface (vport.h). */
static void
port_vip_gone(void *arg, const union inaddr *a)
{
	struct vrrp *v = arg;

	if (v->fsm.state == ST_MASTER && !vrrp_vip_guard(v, a))
		vrrp_event(v, &(struct vrrp_ev){.type = VE_INPUTS});
}

/* The wait after a refused VIP is over: leave FAULT; becoming Master tries again. */
void
vrrp_vip_retry_fired(struct loop *l, struct timer *t, void *arg)
{
	struct vrrp *v = arg;

	(void)l, (void)t;
	v->vip_add_failed = false;
	vrrp_event(v, &(struct vrrp_ev){.type = VE_INPUTS, .why = "VIP retry"});
}

static const struct vport_ops port_ops = {
    .rx = receive_one,
    .src_changed = port_src_changed,
    .vip_gone = port_vip_gone,
};

void
vrrp_netlink_link(struct vrrp *const *vs, size_t n, const struct iface *ifc)
{
	vport_link_event(ifc);
	for (size_t i = 0; i < n; i++)
		vrrp_link_event(vs[i], ifc);
}

void
vrrp_netlink_addr(int ifindex, int family, const union inaddr *a, bool added)
{
	vport_addr_event(ifindex, family, a, added);
}

/* --- life cycle ----------------------------------------------------------- */

void
vrrp_set_tag(struct vrrp *v)
{
	snprintf(v->tag, sizeof(v->tag), "[%s %s vrid %u %s]", v->cfg.name, v->cfg.ifname,
	         v->cfg.vrid, v->cfg.family == AF_INET ? "v4" : "v6");
}

void
vrrp_hookq_cfg(const struct vrrp *v, struct hookq_cfg *hc)
{
	const struct conf_instance *ci = &v->cfg;

	*hc = (struct hookq_cfg){
	    .instance = ci->name,
	    .tag = v->tag,
	    .shell = ci->notify_shell,
	    .user = ci->hook_user[0] ? ci->hook_user : NULL,
	    .timeout_ms = ci->notify_timeout_ms,
	    .promote_conninfo = ci->promote_pgsql,
	};
	for (int h = 0; h < CONF_HOOK_MAX; h++)
		hc->cmd[h] = ci->notify[h];
}

void
vrrp_fsm_cfg(const struct conf_instance *ci, struct fsm_cfg *fc)
{
	*fc = (struct fsm_cfg){
	    .priority = ci->priority,
	    .adver_int_cs = (uint16_t)(ci->advert_interval_ms / 10),
	    .preempt = ci->preempt,
	    .preempt_fast = ci->preempt_fast,
	    .preempt_delay_ns = (uint64_t)ci->preempt_delay_ms * NS_PER_MS,
	    .align = true,
	    .startup_delay_ns = (uint64_t)ci->startup_delay_ms * NS_PER_MS,
	    .v2 = ci->version == VRRP_VERSION2,
	};
}

struct vrrp *
vrrp_new(struct loop *l, const struct conf_instance *ci, struct check *const *checks,
         size_t nchecks)
{
	struct vrrp *v = calloc(1, sizeof(*v));
	struct fsm_cfg fc;
	int fam;

	if (!v)
		return NULL;
	v->cfg = *ci;
	v->loop = l;
	v->io = vrrp_io_get();
	vrrp_set_tag(v);
	addr_pton(ci->family == AF_INET ? VRRP_MCAST4 : VRRP_MCAST6, &fam, &v->group);
	vrrp_announce_init(v);
	v->fsm_timer = timer_new(l, fsm_timer_fired, v);
	v->garp_timer = timer_new(l, vrrp_garp_timer_fired, v);
	v->vip_retry_timer = timer_new(l, vrrp_vip_retry_fired, v);
	struct hookq_cfg hc;
	vrrp_hookq_cfg(v, &hc);
	v->hooks = hookq_new(l, &hc);
	if (!v->fsm_timer || !v->garp_timer || !v->vip_retry_timer || !v->hooks) {
		vrrp_free(v);
		return NULL;
	}
	vrrp_fsm_cfg(ci, &fc);
	static const union inaddr none;
	fsm_init(&v->fsm, &fc, ci->family, &none);
	v->port =
	    v->io->port_ref(l, ci->ifname, ci->family, v, &port_ops, v->cfg.vips, v->cfg.nvips);
	if (!v->port || vrrp_tracks_init(v, checks, nchecks, check_changed) < 0) {
		vrrp_free(v); /* frees what was made so far */
		return NULL;
	}
	return v;
}

/*
 * use_vmac: make (or adopt) the instance's macvlan link on its interface,
 * once the interface exists. Without it the instance is in FAULT (VF_VMAC).
 */
void
vrrp_vmac_ensure(struct vrrp *v)
{
	int ifindex;

	if (!v->cfg.use_vmac || v->vmac.ifindex || v->ifc.ifindex == 0)
		return;
	vmac_mac(v->cfg.family, v->cfg.vrid, v->vmac.mac);
	snprintf(v->vmac.name, sizeof(v->vmac.name), "%s", v->cfg.vmac_name);
	ifindex = v->io->vmac_add(v->ifc.ifindex, v->cfg.vmac_name, v->vmac.mac);
	if (ifindex <= 0) {
		log_warnx("%s cannot make the virtual MAC link %s", v->tag, v->cfg.vmac_name);
		return;
	}
	v->vmac.ifindex = ifindex;
	v->vmac.present = v->vmac.admin_up = v->vmac.running = true;
	/*
	 * Routers sending from the same virtual MAC are heard on the link
	 * only; the adverts leave from it while it is heard.
	 */
	v->vmac_hears =
	    v->io->port_hear_link(v->port, v, v->ifc.ifindex, ifindex, v->cfg.vrid) == 0;
	if (!v->vmac_hears)
		log_warn("%s cannot use %s for adverts", v->tag, v->cfg.vmac_name);
	log_info("%s virtual MAC link %s (ifindex %d)", v->tag, v->cfg.vmac_name, ifindex);
}

/* use_vmac: remove the link at a stop (it is vipd's: vmac_del checks). */
void
vrrp_vmac_remove(struct vrrp *v)
{
	if (!v->cfg.use_vmac || !v->vmac.ifindex)
		return;
	v->io->port_unhear_link(v->port, v);
	v->vmac_hears = v->vmac_sends = false;
	v->io->vmac_del(v->vmac.name, v->ifc.ifindex, v->vmac.mac);
	memset(&v->vmac, 0, sizeof(v->vmac));
}

int
vrrp_start(struct vrrp *v)
{
	if (v->io->iface_get(v->cfg.ifname, &v->ifc) < 0) {
		memset(&v->ifc, 0, sizeof(v->ifc));
		log_warnx("%s interface %s not found; waiting for it", v->tag, v->cfg.ifname);
	}
	vrrp_vmac_ensure(v);
	vrrp_vips_remove_leftovers(v);
	vrrp_refresh_src(v);
	if (v->ifc.ifindex > 0 && vrrp_sock_open(v) < 0) {
		if (errno == EPERM || errno == EACCES) {
			log_warn("%s cannot open a raw socket (vipd needs CAP_NET_RAW)", v->tag);
			return -1;
		}
		log_warn("%s cannot open socket on %s", v->tag, v->cfg.ifname);
	}
	vrrp_event(v, &(struct vrrp_ev){.type = VE_STARTUP});
	return 0;
}

void
vrrp_stop(struct vrrp *v)
{
	vrrp_event(v, &(struct vrrp_ev){.type = VE_SHUTDOWN});
	timer_disarm(v->garp_timer);
	timer_disarm(v->vip_retry_timer);
	pace_cancel(&v->garp_job);
	pace_cancel(&v->guard_job);
	vrrp_sock_close(v);
	vrrp_vmac_remove(v);
}

void
vrrp_retire(struct vrrp *v)
{
	vrrp_stop(v);
	vrrp_tracks_free(v);
	/* Its VIPs are no longer kept from being another instance's source. */
	v->io->port_unref(v->port, v);
	v->port = NULL;
}

void
vrrp_free(struct vrrp *v)
{
	if (!v)
		return;
	v->io->port_unref(v->port, v);
	pace_cancel(&v->garp_job);
	pace_cancel(&v->guard_job);
	vrrp_tracks_free(v);
	hookq_free(v->hooks);
	timer_free(v->fsm_timer);
	timer_free(v->garp_timer);
	timer_free(v->vip_retry_timer);
	free(v);
}

struct hookq *
vrrp_hooks(const struct vrrp *v)
{
	return v->hooks;
}

bool
vrrp_hooks_idle(const struct vrrp *v)
{
	return hookq_idle(v->hooks);
}

void
vrrp_set_drained(struct vrrp *v, bool drained)
{
	struct buf *b;

	if (v->drained == drained)
		return;
	v->drained = drained;
	log_info("%s %s", v->tag,
	         drained ? "drained: hands over and stays out of service"
	                 : "undrained: back in service");
	if ((b = ev_begin(drained ? "drain" : "undrain"))) {
		ev_str(b, "instance", v->cfg.name);
		ev_end(b);
	}
	if (v->fsm.state != ST_INIT)
		vrrp_event(v, &(struct vrrp_ev){.type = VE_INPUTS});
}

bool
vrrp_drained(const struct vrrp *v)
{
	return v->drained;
}

const char *
vrrp_name(const struct vrrp *v)
{
	return v->cfg.name;
}

int
vrrp_family(const struct vrrp *v)
{
	return v->cfg.family;
}

bool
vrrp_peer_master(const struct vrrp *v, uint64_t since_ns, union inaddr *who)
{
	uint64_t now = v->io->now();

	/* Heard after `since` and still within a Master_Down_Interval of now. */
	if (!v->peer_seen_ns || v->peer_seen_ns < since_ns ||
	    now - v->peer_seen_ns > v->fsm.master_down_int_ns)
		return false;
	if (who)
		*who = v->peer_ip;
	return true;
}

void
vrrp_set_group(struct vrrp *v, struct vgroup *g)
{
	struct vgroup_report r = {
	    .state = v->fsm.state,
	    .wants_master = fsm_wants_master(&v->fsm),
	    .own_fault = v->own_fault && v->fsm.state != ST_INIT, /* not started, or stopped */
	};
	int idx;

	if (v->sync)
		vgroup_forget(v->sync, v->sync_idx);
	v->sync = NULL;
	if (g && (idx = vgroup_add(g, v->cfg.name, v, &r)) >= 0) {
		v->sync = g;
		v->sync_idx = (size_t)idx;
	}
}

struct vgroup *
vrrp_group(const struct vrrp *v)
{
	return v->sync;
}

void
vrrp_group_sync(struct vrrp *v)
{
	vrrp_event(v, &(struct vrrp_ev){.type = VE_INPUTS});
}
