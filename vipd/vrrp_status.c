/*
 * vrrp_status.c - an instance's status for vipctl: JSON and text.
 */
#include <sys/socket.h>

#include "vrrp_priv.h"

const char *
vrrp_name(const struct vrrp *v)
{
	return v->cfg.name;
}

enum vrrp_state
vrrp_state(const struct vrrp *v)
{
	return v->fsm.state;
}

void
vrrp_status_json(const struct vrrp *v, struct buf *b)
{
	char s[ADDR_STRLEN + 4];

	buf_puts(b, "{\"name\":");
	json_str(b, v->cfg.name);
	buf_printf(b, ",\"state\":\"%s\",\"vrid\":%u,\"interface\":", fsm_state_names[v->fsm.state],
	           v->cfg.vrid);
	json_str(b, v->cfg.ifname);
	buf_printf(b,
	           ",\"family\":\"%s\",\"mode\":\"%s\",\"priority\":%u,\"effective_priority\":%u"
	           ",\"advert_interval_ms\":%u,\"master_adver_interval_ms\":%u,\"master_ip\":",
	           v->cfg.family == AF_INET ? "ipv4" : "ipv6",
	           vrrp_unicast(v) ? "unicast" : "multicast", v->cfg.priority, v->fsm.priority,
	           v->cfg.advert_interval_ms, v->fsm.master_adver_int_cs * 10u);
	if (v->fsm.have_master)
		buf_printf(b, "\"%s\"", addr_ntop(v->cfg.family, &v->fsm.master_ip, s));
	else
		buf_puts(b, "null");
	buf_puts(b, ",\"vips\":[");
	for (size_t i = 0; i < v->cfg.nvips; i++)
		buf_printf(b, "%s\"%s\"", i ? "," : "", vip_ntop(&v->cfg.vips[i], s));
	buf_printf(b,
	           "],\"transitions\":%llu,\"last_reason\":\"%s\",\"adverts_sent\":%llu"
	           ",\"adverts_received\":%llu,\"adverts_late\":%llu,\"advert_late_max_us\":%llu"
	           ",\"dropped\":{",
	           (unsigned long long)v->transitions, fsm_reason_names[v->last_reason],
	           (unsigned long long)v->adverts_sent, (unsigned long long)v->adverts_received,
	           (unsigned long long)v->adverts_late,
	           (unsigned long long)(v->advert_late_max_ns / 1000));
	for (int i = 0; i < DROP_MAX; i++)
		buf_printf(b, "%s\"%s\":%llu", i ? "," : "", vrrp_drop_names[i],
		           (unsigned long long)v->dropped[i]);
	buf_puts(b, "},\"fault_reason\":");
	if (v->fsm.state == ST_FAULT && v->fault_why[0])
		json_str(b, v->fault_why);
	else
		buf_puts(b, "null");
	vrrp_tracks_json(v, b);
	buf_puts(b, "}");
}

void
vrrp_summary_json(const struct vrrp *v, struct buf *b)
{
	buf_puts(b, "{\"instance\":");
	json_str(b, v->cfg.name);
	buf_printf(b, ",\"state\":\"%s\",\"priority\":%u}", fsm_state_names[v->fsm.state],
	           v->fsm.priority);
}

void
vrrp_status_text(const struct vrrp *v, struct buf *b)
{
	char s[ADDR_STRLEN + 4];
	bool any = false;

	buf_printf(b, "%s: %s  vrid %u on %s (%s, %s)\n", v->cfg.name,
	           fsm_state_names[v->fsm.state], v->cfg.vrid, v->cfg.ifname,
	           v->cfg.family == AF_INET ? "ipv4" : "ipv6",
	           vrrp_unicast(v) ? "unicast" : "multicast");
	buf_printf(b, "  priority %u, effective %u, advert %u ms, master %s\n", v->cfg.priority,
	           v->fsm.priority, v->cfg.advert_interval_ms,
	           v->fsm.have_master ? addr_ntop(v->cfg.family, &v->fsm.master_ip, s) : "unknown");
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
