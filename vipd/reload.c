/*
 * reload.c - what differs between the running configuration and a new
 * one, see reload.h. Every field of conf_instance and conf_check that
 * changes how vipd behaves is compared here: a key added to either
 * struct must be added below too (test_reload.c has a case per group).
 */
#include "reload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const reload_diff_names[RD_MAX_BIT] = {
    "name", "priority", "timing", "vips", "unicast", "wire", "tracks", "hooks", "vmac",
};

static bool
vips_same(const struct conf_instance *a, const struct conf_instance *b)
{
	if (a->nvips != b->nvips)
		return false;
	for (size_t i = 0; i < a->nvips; i++)
		if (!vip_equal(&a->vips[i], &b->vips[i]))
			return false;
	return true;
}

static bool
unicast_same(const struct conf_instance *a, const struct conf_instance *b)
{
	if (a->has_unicast_src != b->has_unicast_src || a->npeers != b->npeers ||
	    a->unicast_ttl_check != b->unicast_ttl_check)
		return false;
	if (a->has_unicast_src && addr_cmp(a->family, &a->unicast_src, &b->unicast_src) != 0)
		return false;
	for (size_t i = 0; i < a->npeers; i++)
		if (addr_cmp(a->family, &a->peers[i], &b->peers[i]) != 0)
			return false;
	return true;
}

static bool
tracks_same(const struct conf_instance *a, const struct conf_instance *b)
{
	if (a->ntracks != b->ntracks || a->ntrack_ifs != b->ntrack_ifs)
		return false;
	for (size_t i = 0; i < a->ntracks; i++)
		if (strcmp(a->tracks[i].check, b->tracks[i].check) != 0 ||
		    a->tracks[i].weight != b->tracks[i].weight)
			return false;
	for (size_t i = 0; i < a->ntrack_ifs; i++)
		if (strcmp(a->track_ifs[i].ifname, b->track_ifs[i].ifname) != 0 ||
		    a->track_ifs[i].weight != b->track_ifs[i].weight)
			return false;
	return true;
}

static bool
hooks_same(const struct conf_instance *a, const struct conf_instance *b)
{
	for (int h = 0; h < CONF_HOOK_MAX; h++)
		if (strcmp(a->notify[h], b->notify[h]) != 0)
			return false;
	return a->notify_timeout_ms == b->notify_timeout_ms && a->notify_shell == b->notify_shell &&
	       strcmp(a->hook_user, b->hook_user) == 0 &&
	       strcmp(a->promote_pgsql, b->promote_pgsql) == 0;
}

unsigned
reload_instance_diff(const struct conf_instance *a, const struct conf_instance *b)
{
	unsigned d = 0;

	if (strcmp(a->name, b->name) != 0)
		d |= RD_NAME;
	if (a->priority != b->priority)
		d |= RD_PRIORITY;
	if (a->advert_interval_ms != b->advert_interval_ms || a->preempt != b->preempt ||
	    a->preempt_fast != b->preempt_fast || a->preempt_delay_ms != b->preempt_delay_ms)
		d |= RD_TIMING;
	if (!vips_same(a, b))
		d |= RD_VIPS;
	if (!unicast_same(a, b))
		d |= RD_UNICAST;
	/* startup_delay_ms is left out: it only acts when an instance starts. */
	if (a->checksum != b->checksum || a->version != b->version ||
	    memcmp(&a->auth, &b->auth, sizeof(a->auth)) != 0 || a->garp_repeat != b->garp_repeat ||
	    a->garp_delay_ms != b->garp_delay_ms || a->garp_refresh_ms != b->garp_refresh_ms)
		d |= RD_WIRE;
	if (!tracks_same(a, b))
		d |= RD_TRACKS;
	if (!hooks_same(a, b))
		d |= RD_HOOKS;
	if (a->use_vmac != b->use_vmac || strcmp(a->vmac_name, b->vmac_name) != 0)
		d |= RD_VMAC;
	return d;
}

static bool
status_same(const struct conf_check *a, const struct conf_check *b)
{
	if (a->nexpect_status != b->nexpect_status)
		return false;
	for (size_t i = 0; i < a->nexpect_status; i++)
		if (a->expect_status[i] != b->expect_status[i])
			return false;
	return true;
}

/*
 * Every key of every type is compared, set or not: the parser leaves
 * the keys of other types empty, so they compare equal. argv is owned
 * memory; command and shell say the same thing. The default weight only
 * matters to track lines, which the instances compare.
 */
bool
reload_check_same(const struct conf_check *a, const struct conf_check *b)
{
	return strcmp(a->name, b->name) == 0 && a->type == b->type &&
	       a->interval_ms == b->interval_ms && a->timeout_ms == b->timeout_ms &&
	       a->rise == b->rise && a->fall == b->fall && a->init_fail == b->init_fail &&
	       strcmp(a->command, b->command) == 0 && a->shell == b->shell &&
	       strcmp(a->user, b->user) == 0 && strcmp(a->proc_name, b->proc_name) == 0 &&
	       strcmp(a->pidfile, b->pidfile) == 0 && a->tcp_family == b->tcp_family &&
	       addr_cmp(a->tcp_family, &a->tcp_addr, &b->tcp_addr) == 0 &&
	       a->tcp_port == b->tcp_port && strcmp(a->url, b->url) == 0 && status_same(a, b) &&
	       strcmp(a->expect_body, b->expect_body) == 0 && strcmp(a->method, b->method) == 0 &&
	       strcmp(a->conninfo, b->conninfo) == 0 && a->pg_expect == b->pg_expect &&
	       strcmp(a->socket, b->socket) == 0 && strcmp(a->backend, b->backend) == 0 &&
	       strcmp(a->path, b->path) == 0;
}

const char *
reload_diff_text(unsigned diff, char *buf, size_t size)
{
	size_t len = 0;

	if (size)
		buf[0] = '\0';
	for (int i = 0; i < RD_MAX_BIT && len < size; i++) {
		if (!(diff & (1u << i)))
			continue;
		int n =
		    snprintf(buf + len, size - len, "%s%s", len ? ", " : "", reload_diff_names[i]);
		if (n < 0)
			break;
		len += (size_t)n;
	}
	return buf;
}

static long
find_check(const struct conf *c, const char *name)
{
	for (size_t i = 0; i < c->nchecks; i++)
		if (strcmp(c->checks[i].name, name) == 0)
			return (long)i;
	return -1;
}

static long
find_instance(const struct conf *c, const struct conf_instance *ci)
{
	const struct conf_instance *o = conf_find(c, ci->ifname, ci->vrid, ci->family);

	return o ? (long)(o - c->instances) : -1;
}

/* Whether instance ci tracks a check that is not kept as it runs. */
static bool
tracks_replaced(const struct reload_plan *p, const struct conf *new, const struct conf_instance *ci)
{
	for (size_t t = 0; t < ci->ntracks; t++) {
		long k = find_check(new, ci->tracks[t].check);

		if (k >= 0 && !p->check_kept[k])
			return true;
	}
	return false;
}

static void
plan_checks(const struct conf *old, const struct conf *new, struct reload_plan *p)
{
	for (size_t i = 0; i < new->nchecks; i++) {
		long k = find_check(old, new->checks[i].name);

		p->check_from[i] = k;
		p->check_kept[i] = k >= 0 && reload_check_same(&old->checks[k], &new->checks[i]);
		if (k < 0)
			p->chk.added++;
		else if (p->check_kept[i])
			p->chk.kept++;
		else
			p->chk.changed++;
		if (k >= 0 && !p->check_kept[i])
			p->old_check_gone[k] = true;
	}
	for (size_t k = 0; k < old->nchecks; k++) {
		if (find_check(new, old->checks[k].name) < 0) {
			p->old_check_gone[k] = true;
			p->chk.removed++;
		}
	}
}

static void
plan_instances(const struct conf *old, const struct conf *new, struct reload_plan *p)
{
	for (size_t i = 0; i < new->ninstances; i++) {
		const struct conf_instance *ci = &new->instances[i];
		long k = find_instance(old, ci);

		p->inst_from[i] = k;
		if (k < 0) {
			p->inst.added++;
			continue;
		}
		p->inst_diff[i] = reload_instance_diff(&old->instances[k], ci);
		if (tracks_replaced(p, new, ci))
			p->inst_diff[i] |= RD_TRACKS;
		if (p->inst_diff[i])
			p->inst.changed++;
		else
			p->inst.kept++;
	}
	for (size_t k = 0; k < old->ninstances; k++) {
		const struct conf_instance *oi = &old->instances[k];

		if (!conf_find(new, oi->ifname, oi->vrid, oi->family)) {
			p->old_inst_gone[k] = true;
			p->inst.removed++;
		}
	}
}

int
reload_plan_make(const struct conf *old, const struct conf *new, struct reload_plan *p)
{
	memset(p, 0, sizeof(*p));
	p->nchecks = new->nchecks;
	p->ninstances = new->ninstances;
	p->nold_checks = old->nchecks;
	p->nold_instances = old->ninstances;
	/* +1: calloc(0) may return NULL. */
	p->check_from = calloc(new->nchecks + 1, sizeof(*p->check_from));
	p->check_kept = calloc(new->nchecks + 1, sizeof(*p->check_kept));
	p->inst_from = calloc(new->ninstances + 1, sizeof(*p->inst_from));
	p->inst_diff = calloc(new->ninstances + 1, sizeof(*p->inst_diff));
	p->old_check_gone = calloc(old->nchecks + 1, sizeof(*p->old_check_gone));
	p->old_inst_gone = calloc(old->ninstances + 1, sizeof(*p->old_inst_gone));
	if (!p->check_from || !p->check_kept || !p->inst_from || !p->inst_diff ||
	    !p->old_check_gone || !p->old_inst_gone)
		return -1;
	/* Checks first: an instance tracking a replaced check is changed. */
	plan_checks(old, new, p);
	plan_instances(old, new, p);
	p->log_level = old->log_level != new->log_level;
	p->realtime_priority = old->realtime_priority != new->realtime_priority;
	p->pidfile = strcmp(old->pidfile, new->pidfile) != 0;
	p->control_socket = strcmp(old->control_socket, new->control_socket) != 0;
	p->metrics_listen = strcmp(old->metrics_listen, new->metrics_listen) != 0;
	return 0;
}

void
reload_plan_free(struct reload_plan *p)
{
	free(p->check_from);
	free(p->check_kept);
	free(p->inst_from);
	free(p->inst_diff);
	free(p->old_check_gone);
	free(p->old_inst_gone);
	memset(p, 0, sizeof(*p));
}

const char *
reload_summary(const struct reload_plan *p, const char *path, char *buf, size_t size)
{
	snprintf(buf, size,
	         "reloaded %s: %u instance%s kept, %u changed, %u added, %u removed; "
	         "%u check%s kept, %u changed, %u added, %u removed",
	         path, p->inst.kept, p->inst.kept == 1 ? "" : "s", p->inst.changed, p->inst.added,
	         p->inst.removed, p->chk.kept, p->chk.kept == 1 ? "" : "s", p->chk.changed,
	         p->chk.added, p->chk.removed);
	return buf;
}
