/*
 * vrrp_vip.c - an instance's VIPs and their announcements: adding and
 * removing them, gratuitous ARP / unsolicited NA bursts through the
 * pacer (pace.h), the periodic re-announcement, putting back a VIP
 * someone else deleted, and the leftovers of a vipd that died.
 * Reached from vrrp.c's actions and the port's events; the outside world
 * through v->io (vrrp_io.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "loop.h"
#include "vrrp_io.h"
#include "vrrp_priv.h"

/* Where the VIPs live: the virtual MAC link with use_vmac, else the interface. */
static const struct iface *
vip_iface(const struct vrrp *v)
{
	return v->cfg.use_vmac ? &v->vmac : &v->ifc;
}

#define VIP_RETRY_MIN_MS 1000
#define VIP_RETRY_MAX_MS 60000

/*
 * The kernel refused a VIP (no CAP_NET_ADMIN, an interface that will not
 * take the address...). Remember it for fault_cause() and try again
 * later, backing off: until then the instance stays in FAULT.
 */
static void
vip_refused(struct vrrp *v, const struct vip *vip)
{
	char s[ADDR_STRLEN + 4];

	v->vip_add_errors++;
	v->vip_add_failed = true;
	snprintf(v->vip_add_why, sizeof(v->vip_add_why), "cannot add %s", vip_ntop(vip, s));
	v->vip_retry_ms = v->vip_retry_ms ? 2 * v->vip_retry_ms : VIP_RETRY_MIN_MS;
	if (v->vip_retry_ms > VIP_RETRY_MAX_MS)
		v->vip_retry_ms = VIP_RETRY_MAX_MS;
	log_warnx("%s %s: going to FAULT, trying again in %llu s", v->tag, v->vip_add_why,
	          (unsigned long long)(v->vip_retry_ms / 1000));
	timer_arm(v->vip_retry_timer, v->io->now() + v->vip_retry_ms * NS_PER_MS);
}

bool
vrrp_vip_add(struct vrrp *v, size_t k)
{
	const struct vip *vip = &v->cfg.vips[k];
	char s[ADDR_STRLEN + 4];

	/* An owner's VIP may be the interface's own address: leave that alone. */
	if (fsm_is_owner(&v->fsm) && v->io->addr_present(vip_iface(v)->ifindex, vip) == 1)
		return false;
	if (v->io->addr_add(vip_iface(v)->ifindex, vip) < 0) {
		vip_refused(v, vip);
		return false;
	}
	v->vip_ours[k] = true;
	v->vips_ifindex = vip_iface(v)->ifindex;
	log_info("%s added %s", v->tag, vip_ntop(vip, s));
	return true;
}

bool
vrrp_vips_add(struct vrrp *v)
{
	for (size_t i = 0; i < v->cfg.nvips; i++)
		if (!vrrp_vip_add(v, i) && v->vip_add_failed)
			return false;
	v->vip_retry_ms = 0; /* all in: the next refusal starts the backoff afresh */
	return true;
}


void
vrrp_vips_del(struct vrrp *v)
{
	char s[ADDR_STRLEN + 4];

	for (size_t i = 0; i < v->cfg.nvips; i++) {
		if (!v->vip_ours[i])
			continue;
		v->vip_ours[i] = false;
		/*
		 * Where they were added: after a rename the link keeps its
		 * index and its addresses; a deleted link took them along (0).
		 */
		if (v->vips_ifindex == 0)
			continue;
		if (v->io->addr_del(v->vips_ifindex, &v->cfg.vips[i]) < 0)
			log_warnx("%s cannot remove %s", v->tag, vip_ntop(&v->cfg.vips[i], s));
		else
			log_info("%s removed %s", v->tag, vip_ntop(&v->cfg.vips[i], s));
	}
}

/*
 * One gratuitous ARP / unsolicited NA for one VIP, never for an address
 * the interface does not hold: announcing it would draw the traffic to a
 * host that drops it.
 */
void
vrrp_announce_vip(struct vrrp *v, const struct vip *vip)
{
	char s[ADDR_STRLEN + 4];

	if (v->io->addr_present(vip_iface(v)->ifindex, vip) != 1)
		return;
	if (v->io->announce(vip_iface(v), vip) == 0) {
		v->announced++;
		return;
	}
	v->announce_errors++;
	if (log_ratelimit(&v->announce_err_logged_ns, v->io->now()))
		log_warn("%s cannot announce %s (logged once a minute)", v->tag, vip_ntop(vip, s));
}

/* One round: a gratuitous ARP / unsolicited NA for every VIP (pace.h). */
static void
announce_round(void *arg)
{
	struct vrrp *v = arg;

	if (v->fsm.state != ST_MASTER)
		return;
	for (size_t i = 0; i < v->cfg.nvips; i++)
		vrrp_announce_vip(v, &v->cfg.vips[i]);
}

/*
 * One round for the VIPs guard_vip() re-added (vip_guard[]): the others
 * were never gone, so they are not announced again.
 */
static void
guard_round(void *arg)
{
	struct vrrp *v = arg;

	if (v->fsm.state != ST_MASTER)
		return;
	for (size_t i = 0; i < v->cfg.nvips; i++)
		if (v->vip_guard[i])
			vrrp_announce_vip(v, &v->cfg.vips[i]);
}

/*
 * `count` rounds, through the pacer: the first goes out at once unless
 * many instances announce together, the rest as the token bucket allows.
 */
static void
announce(struct vrrp *v, unsigned count)
{
	v->garp_job.cost = v->cfg.nvips;
	pace_add(&v->garp_job, count);
}

/*
 * A burst now, a second one after garp_delay, then one announcement
 * every garp_refresh while Master (keepalived's garp_master_* settings).
 */
void
vrrp_announce_start(struct vrrp *v)
{
	announce(v, v->cfg.garp_repeat);
	v->garp_second_pending = v->cfg.garp_delay_ms > 0;
	if (v->garp_second_pending)
		timer_arm_in(v->garp_timer, v->cfg.garp_delay_ms * NS_PER_MS);
	else if (v->cfg.garp_refresh_ms > 0)
		timer_arm_in(v->garp_timer, v->cfg.garp_refresh_ms * NS_PER_MS);
	else
		timer_disarm(v->garp_timer);
}

void
vrrp_garp_timer_fired(struct loop *l, struct timer *t, void *arg)
{
	struct vrrp *v = arg;

	(void)l;
	if (v->fsm.state != ST_MASTER)
		return;
	if (v->garp_second_pending) {
		v->garp_second_pending = false;
		announce(v, v->cfg.garp_repeat);
	} else {
		announce(v, 1);
	}
	if (v->cfg.garp_refresh_ms > 0)
		timer_arm_in(t, v->cfg.garp_refresh_ms * NS_PER_MS);
}

/*
 * Someone deleted one of our VIPs while we are Master (systemd-networkd and
 * NetworkManager do this when they reconfigure a link): put it back and
 * announce it, and only it (guard_round). Our own deletions arrive here
 * too, after vip_ours was cleared, and are ignored.
 */
bool
vrrp_vip_guard(struct vrrp *v, const union inaddr *a)
{
	char s[ADDR_STRLEN + 4];

	for (size_t i = 0; i < v->cfg.nvips; i++) {
		const struct vip *vip = &v->cfg.vips[i];

		if (!v->vip_ours[i] || addr_cmp(v->cfg.family, &vip->addr, a) != 0)
			continue;
		if (v->io->addr_present(vip_iface(v)->ifindex, vip) == 1)
			continue;
		log_info("%s %s was deleted by someone else, re-adding", v->tag, vip_ntop(vip, s));
		if (v->io->addr_add(vip_iface(v)->ifindex, vip) < 0) {
			vip_refused(v, vip);
			return false;
		}
		/* A finished job's flags are stale: start a new set. */
		if (!v->guard_job.queued)
			memset(v->vip_guard, 0, sizeof(v->vip_guard));
		v->vip_guard[i] = true;
		v->guard_job.cost = 0;
		for (size_t k = 0; k < v->cfg.nvips; k++)
			v->guard_job.cost += v->vip_guard[k];
		pace_add(&v->guard_job, v->cfg.garp_repeat);
	}
	return true;
}

/*
 * VIPs still on the interface belong to a vipd that died without cleaning
 * up (kill -9, crash). Holding them as a Backup would answer ARP for an
 * address the Master owns, so they go before the Startup event. An owner's
 * VIPs are the interface's own addresses and stay.
 */
void
vrrp_vips_remove_leftovers(struct vrrp *v)
{
	char s[ADDR_STRLEN + 4];

	if (fsm_is_owner(&v->fsm) || vip_iface(v)->ifindex == 0)
		return;
	for (size_t i = 0; i < v->cfg.nvips; i++) {
		const struct vip *vip = &v->cfg.vips[i];

		if (v->io->addr_present(vip_iface(v)->ifindex, vip) != 1)
			continue;
		if (v->io->addr_del(vip_iface(v)->ifindex, vip) < 0)
			log_warnx("%s cannot remove leftover %s", v->tag, vip_ntop(vip, s));
		else
			log_info("%s removed leftover %s at start", v->tag, vip_ntop(vip, s));
	}
}

void
vrrp_announce_init(struct vrrp *v)
{
	v->garp_job.send = announce_round;
	v->garp_job.arg = v;
	v->guard_job.send = guard_round;
	v->guard_job.arg = v;
}
