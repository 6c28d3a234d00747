/*
 * vrrp_reload.c - a running instance takes a new definition of itself
 * (same interface, VRID and family: the key of a virtual router) without
 * leaving its state. Each group of settings is applied on its own; the
 * state machine decides whether a new priority moves the Master, exactly
 * as it does for a check changing the priority.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hook.h"
#include "log.h"
#include "loop.h"
#include "reload.h"
#include "vport.h"
#include "vrrp_io.h"
#include "vrrp_priv.h"

/* Index of vip (address and prefix) in list, or -1. */
static long
vip_index(const struct vip *list, size_t n, const struct vip *vip)
{
	for (size_t i = 0; i < n; i++)
		if (vip_equal(&list[i], vip))
			return (long)i;
	return -1;
}

/* The VIPs that left the list: removed if we had added them. */
static void
vips_drop_old(struct vrrp *v, const struct conf_instance *old)
{
	bool ours[CONF_MAX_VIPS] = {false};
	char s[ADDR_STRLEN + 4];

	for (size_t i = 0; i < old->nvips; i++) {
		const struct vip *vip = &old->vips[i];
		long k = vip_index(v->cfg.vips, v->cfg.nvips, vip);

		if (k >= 0) {
			ours[k] = v->vip_ours[i];
			continue;
		}
		if (!v->vip_ours[i] || v->vips_ifindex == 0)
			continue;
		if (v->io->addr_del(v->vips_ifindex, vip) < 0)
			log_warnx("%s cannot remove %s", v->tag, vip_ntop(vip, s));
		else
			log_info("%s removed %s", v->tag, vip_ntop(vip, s));
	}
	/* Cleared before the netlink deletion arrives: guard_vip leaves it alone. */
	memcpy(v->vip_ours, ours, sizeof(ours));
}

/* The VIPs new to the list: a Master adds and announces them (a garp_repeat burst). */
static void
vips_add_new(struct vrrp *v, const struct conf_instance *old)
{
	if (v->fsm.state != ST_MASTER)
		return;
	for (size_t k = 0; k < v->cfg.nvips; k++) {
		const struct vip *vip = &v->cfg.vips[k];

		if (vip_index(old->vips, old->nvips, vip) >= 0 || !vrrp_vip_add(v, k))
			continue;
		for (unsigned n = 0; n < v->cfg.garp_repeat; n++)
			vrrp_announce_vip(v, vip);
	}
}

/*
 * The port's VRID table takes the new peers (and joins or leaves the
 * group on a multicast <-> unicast change); the VIP list may change the
 * interface's source address for every instance on it.
 */
static void
port_update(struct vrrp *v)
{
	v->io->port_set_vips(v->port, v, v->cfg.vips, v->cfg.nvips);
	if (v->io->port_listening(v->port, v, v->cfg.vrid) &&
	    v->io->port_listen(v->port, v, v->ifc.ifindex, v->cfg.vrid, v->cfg.peers,
	                       v->cfg.npeers, v->cfg.unicast_ttl_check) < 0)
		log_warn("%s cannot update its socket on %s", v->tag, v->cfg.ifname);
}

/* A Master's periodic re-announcement follows garp_refresh (the burst in progress is left). */
static void
garp_update(struct vrrp *v, const struct conf_instance *old)
{
	if (v->fsm.state != ST_MASTER || v->garp_second_pending ||
	    old->garp_refresh_ms == v->cfg.garp_refresh_ms)
		return;
	if (v->cfg.garp_refresh_ms > 0)
		timer_arm_in(v->garp_timer, v->cfg.garp_refresh_ms * NS_PER_MS);
	else
		timer_disarm(v->garp_timer);
}

int
vrrp_reconfigure(struct vrrp *v, const struct conf_instance *ci, unsigned diff,
                 struct check *const *checks, size_t nchecks)
{
	/*
	 * The previous definition, for the differences below. Static, not
	 * malloc'ed: a reload must not fail half way (reload_apply.c), and
	 * reloads are neither concurrent nor reentrant.
	 */
	static struct conf_instance prev;
	struct conf_instance *old = &prev;
	struct hookq_cfg hc;
	char what[128];
	int rc;

	*old = v->cfg;
	v->cfg = *ci;
	if (strcmp(old->name, ci->name) != 0) {
		log_info("%s renamed to %s", v->tag, ci->name);
		vrrp_set_tag(v);
	}
	log_info("%s reconfigured (%s)", v->tag, reload_diff_text(diff, what, sizeof(what)));
	vrrp_hookq_cfg(v, &hc);
	hookq_reconfigure(v->hooks, &hc);
	port_update(v);
	if (diff & RD_VMAC) {
		/* The VIPs move to their new home: off the old one, then on the new. */
		bool master = v->fsm.state == ST_MASTER;

		if (master)
			vrrp_vips_del(v);
		v->cfg = *old;
		vrrp_vmac_remove(v);
		v->cfg = *ci;
		vrrp_vmac_ensure(v);
		if (master && vrrp_vips_add(v))
			vrrp_announce_start(v);
	}
	vips_drop_old(v, old);
	vips_add_new(v, old);
	vrrp_refresh_src(v);
	garp_update(v, old);
	rc = vrrp_tracks_rewire(v, checks, nchecks);
	/* The state machine's settings, then priority and fault (vrrp.c). */
	vrrp_event(v, &(struct vrrp_ev){.type = VE_RECONF});
	return rc;
}
