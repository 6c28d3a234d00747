/*
 * vrrp_status.c - an instance's status for vipctl: JSON and text.
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "vgroup.h"
#include "vrrp_priv.h"

enum vrrp_state
vrrp_state(const struct vrrp *v)
{
	return v->fsm.state;
}

/*
 * Who is Master, as text, or NULL when unknown: the state machine's
 * view, or for a drained instance (FAULT does not listen) the router
 * heard advertising in its place.
 */
static const char *
master_ip(const struct vrrp *v, char *s)
{
	union inaddr who;

	if (v->fsm.have_master)
		return addr_ntop(v->cfg.family, &v->fsm.master_ip, s);
	if (v->drained && vrrp_peer_master(v, 0, &who))
		return addr_ntop(v->cfg.family, &who, s);
	return NULL;
}

/* The instance's virtual MAC (use_vmac), as text. */
static const char *
vmac_ntop(const struct vrrp *v, char s[18])
{
	uint8_t m[6];

	vmac_mac(v->cfg.family, v->cfg.vrid, m);
	snprintf(s, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
	return s;
}

/* One instances[] object of `vipctl status --json` (its keys: vipctl(8), doc/CONTRACT.md). */
void
vrrp_status_json(const struct vrrp *v, struct buf *b)
{
	char s[ADDR_STRLEN + 4];
	struct json j;

	json_init(&j, b);
	json_obj_begin(&j);
	json_key_str(&j, "name", v->cfg.name);
	json_key_str(&j, "state", fsm_state_names[v->fsm.state]);
	json_key(&j, "group");
	if (v->sync)
		json_val_str(&j, vgroup_name(v->sync));
	else
		json_val_null(&j);
	json_key_uint(&j, "vrid", v->cfg.vrid);
	json_key_str(&j, "interface", v->cfg.ifname);
	json_key_str(&j, "family", v->cfg.family == AF_INET ? "ipv4" : "ipv6");
	json_key_str(&j, "mode", vrrp_unicast(v) ? "unicast" : "multicast");
	json_key(&j, "vmac");
	if (v->cfg.use_vmac) {
		char mac[18];

		json_obj_begin(&j);
		json_key_str(&j, "link", v->cfg.vmac_name);
		json_key_str(&j, "mac", vmac_ntop(v, mac));
		json_key_bool(&j, "present", v->vmac.ifindex > 0);
		json_key_bool(&j, "sends", v->vmac_sends);
		json_obj_end(&j);
	} else {
		json_val_null(&j);
	}
	json_key_uint(&j, "version", v->cfg.version);
	json_key_uint(&j, "priority", v->cfg.priority);
	json_key_uint(&j, "effective_priority", v->fsm.priority);
	json_key_uint(&j, "advert_interval_ms", v->cfg.advert_interval_ms);
	json_key_uint(&j, "master_adver_interval_ms", v->fsm.master_adver_int_cs * 10u);
	json_key_str(&j, "master_ip", master_ip(v, s));
	json_key(&j, "vips");
	json_arr_begin(&j);
	for (size_t i = 0; i < v->cfg.nvips; i++)
		json_val_str(&j, vip_ntop(&v->cfg.vips[i], s));
	json_arr_end(&j);
	json_key_uint(&j, "transitions", v->transitions);
	json_key_str(&j, "last_reason", fsm_reason_names[v->last_reason]);
	json_key_uint(&j, "adverts_sent", v->adverts_sent);
	json_key_uint(&j, "adverts_received", v->adverts_received);
	json_key_uint(&j, "adverts_late", v->adverts_late);
	json_key_uint(&j, "advert_late_max_us", v->advert_late_max_ns / 1000);
	json_key(&j, "dropped");
	json_obj_begin(&j);
	for (int i = 0; i < DROP_MAX; i++)
		json_key_uint(&j, vrrp_drop_names[i], v->dropped[i]);
	json_obj_end(&j);
	json_key_str(&j, "fault_reason",
	             v->fsm.state == ST_FAULT && v->fault_why[0] ? v->fault_why : NULL);
	json_key_uint(&j, "vip_add_errors", v->vip_add_errors);
	json_key_bool(&j, "drained", v->drained);
	vrrp_tracks_json(v, &j);
	json_obj_end(&j);
}

void
vrrp_get_metrics(const struct vrrp *v, struct vrrp_metrics *m)
{
	m->name = v->cfg.name;
	m->ifname = v->cfg.ifname;
	m->vrid = v->cfg.vrid;
	m->family = v->cfg.family;
	m->state = v->fsm.state;
	m->priority = v->cfg.priority;
	m->effective_priority = v->fsm.priority;
	m->drained = v->drained;
	memcpy(m->transitions, v->transitions_by, sizeof(m->transitions));
	m->master_changes = v->master_changes;
	m->adverts_sent = v->adverts_sent;
	m->adverts_received = v->adverts_received;
	memcpy(m->dropped, v->dropped, sizeof(m->dropped));
}

void
vrrp_summary_json(const struct vrrp *v, struct buf *b)
{
	struct json j;

	json_init(&j, b);
	json_obj_begin(&j);
	json_key_str(&j, "instance", v->cfg.name);
	json_key_str(&j, "state", fsm_state_names[v->fsm.state]);
	json_key_uint(&j, "priority", v->fsm.priority);
	json_obj_end(&j);
}

void
vrrp_status_text(const struct vrrp *v, struct buf *b)
{
	char s[ADDR_STRLEN + 4];
	bool any = false;

	/* VRRPv2 is the exception (a migration under way): said only then. */
	buf_printf(b, "%s: %s  vrid %u on %s (%s, %s%s)\n", v->cfg.name,
	           fsm_state_names[v->fsm.state], v->cfg.vrid, v->cfg.ifname,
	           v->cfg.family == AF_INET ? "ipv4" : "ipv6",
	           vrrp_unicast(v) ? "unicast" : "multicast",
	           v->cfg.version == VRRP_VERSION2 ? ", VRRPv2" : "");
	const char *m = master_ip(v, s);

	buf_printf(b, "  priority %u, effective %u, advert %u ms, master %s\n", v->cfg.priority,
	           v->fsm.priority, v->cfg.advert_interval_ms, m ? m : "unknown");
	if (v->drained && !m)
		buf_puts(b, "  drained, and no other router is Master: the VIPs are DOWN\n");
	if (v->sync)
		buf_printf(b, "  group %s%s\n", vgroup_name(v->sync),
		           fsm_wants_master(&v->fsm) ? ": wants MASTER, held until the group can" : "");
	if (v->cfg.use_vmac) {
		char mac[18];

		buf_printf(b, "  virtual MAC %s on %s%s\n", vmac_ntop(v, mac),
		           v->cfg.vmac_name, v->vmac.ifindex ? "" : " (missing)");
	}
	buf_puts(b, "  vips");
	for (size_t i = 0; i < v->cfg.nvips; i++)
		buf_printf(b, " %s", vip_ntop(&v->cfg.vips[i], s));
	buf_printf(b, "\n  transitions %llu (last: %s), adverts sent %llu, received %llu\n",
	           (unsigned long long)v->transitions, fsm_reason_names[v->last_reason],
	           (unsigned long long)v->adverts_sent, (unsigned long long)v->adverts_received);
	if (v->adverts_late)
		buf_printf(b, "  adverts late %llu (the latest %.1f ms after its time)\n",
		           (unsigned long long)v->adverts_late, v->advert_late_max_ns / 1e6);
	buf_puts(b, "  dropped:");
	for (int i = 0; i < DROP_MAX; i++) {
		if (!v->dropped[i])
			continue;
		buf_printf(b, "%s %s %llu", any ? "," : "", vrrp_drop_names[i],
		           (unsigned long long)v->dropped[i]);
		any = true;
	}
	buf_puts(b, any ? "\n" : " none\n");
	if (v->fsm.state == ST_FAULT && v->fault_why[0])
		buf_printf(b, "  fault: %s\n", v->fault_why);
	vrrp_tracks_text(v, b);
}
