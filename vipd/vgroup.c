/*
 * vgroup.c - sync groups: the group's verdicts from its members' reports,
 * its state, its hooks and events (vgroup.h).
 *
 * A group is small (CONF_MAX_GROUP members): every report recomputes the
 * verdicts over the members, O(members) per event of a member.
 */
#include "vgroup.h"

#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "hook.h"
#include "log.h"
#include "mem.h"

struct member {
	char name[CONF_NAME_MAX];
	void *arg;
	struct vgroup_report r;
};

struct vgroup {
	char name[CONF_NAME_MAX];
	char tag[CONF_NAME_MAX + 16]; /* "[group NAME]" */
	struct member m[CONF_MAX_GROUP];
	size_t n;
	enum vrrp_state state;
	bool hold;
	size_t nfault; /* members in FAULT for a cause of their own */
	bool syncing, dirty;
	bool stopping; /* vgroup_stop(): members leave one by one, no verdicts */
	struct hookq *hooks;
};

static void
hook_cfg(const struct vgroup *g, const struct conf_group *cg, struct hookq_cfg *hc)
{
	*hc = (struct hookq_cfg){
	    .instance = g->name,
	    .group = true,
	    .tag = g->tag,
	    .shell = cg->notify_shell,
	    .user = cg->hook_user[0] ? cg->hook_user : NULL,
	    .timeout_ms = cg->notify_timeout_ms,
	};
	for (int h = 0; h < CONF_HOOK_MAX; h++)
		hc->cmd[h] = cg->notify[h];
}

static void
set_names(struct vgroup *g, const struct conf_group *cg)
{
	snprintf(g->name, sizeof(g->name), "%s", cg->name);
	snprintf(g->tag, sizeof(g->tag), "[group %s]", cg->name);
}

struct vgroup *
vgroup_new(struct loop *l, const struct conf_group *cg)
{
	struct vgroup *g = xcalloc(1, sizeof(*g));
	struct hookq_cfg hc;

	set_names(g, cg);
	g->state = ST_INIT;
	g->hold = true;
	hook_cfg(g, cg, &hc);
	if (!(g->hooks = hookq_new(l, &hc))) {
		free(g);
		return NULL;
	}
	return g;
}

void
vgroup_reconfigure(struct vgroup *g, const struct conf_group *cg)
{
	struct hookq_cfg hc;

	set_names(g, cg);
	hook_cfg(g, cg, &hc);
	hookq_reconfigure(g->hooks, &hc);
}

void
vgroup_clear(struct vgroup *g)
{
	g->n = 0;
	g->nfault = (size_t)-1;
}

void
vgroup_free(struct vgroup *g)
{
	if (!g)
		return;
	hookq_free(g->hooks);
	free(g);
}

const char *
vgroup_name(const struct vgroup *g)
{
	return g->name;
}

int
vgroup_add(struct vgroup *g, const char *instance, void *arg, const struct vgroup_report *r)
{
	struct member *m = &g->m[g->n];

	if (g->n == CONF_MAX_GROUP)
		return -1;
	memset(m, 0, sizeof(*m));
	snprintf(m->name, sizeof(m->name), "%s", instance);
	m->arg = arg;
	m->r = *r;
	g->n++;
	/* The verdicts are made anew by the next report (vrrp.c sends one). */
	g->nfault = (size_t)-1;
	return (int)g->n - 1;
}

void
vgroup_forget(struct vgroup *g, size_t idx)
{
	g->m[idx].arg = NULL;
	g->m[idx].r = (struct vgroup_report){.state = ST_INIT};
}

void *
vgroup_member(const struct vgroup *g, size_t idx)
{
	return g->m[idx].arg;
}

size_t
vgroup_size(const struct vgroup *g)
{
	return g->n;
}

/*
 * Over the members that run (not INIT: not started yet, or stopped):
 * FAULT if any is, MASTER if all are, else BACKUP; INIT if none runs. So
 * neither the members' start one by one nor a stop passes through BACKUP.
 */
static enum vrrp_state
group_state(const struct vgroup *g)
{
	size_t master = 0, running = 0;

	for (size_t i = 0; i < g->n; i++) {
		if (!g->m[i].arg || g->m[i].r.state == ST_INIT)
			continue;
		running++;
		if (g->m[i].r.state == ST_FAULT)
			return ST_FAULT;
		master += g->m[i].r.state == ST_MASTER;
	}
	if (!running)
		return ST_INIT;
	return master == running ? ST_MASTER : ST_BACKUP;
}

/*
 * Held unless every member is Master or a Backup that wants to be: one
 * not started yet holds the others too, so an owner does not take over
 * alone at start only to yield when the next member starts.
 */
static bool
group_hold(const struct vgroup *g)
{
	for (size_t i = 0; i < g->n; i++) {
		const struct vgroup_report *r = &g->m[i].r;

		if (!g->m[i].arg)
			continue;
		if (r->state != ST_MASTER && !(r->state == ST_BACKUP && r->wants_master))
			return true;
	}
	return g->n == 0;
}

static void
state_changed(struct vgroup *g, enum vrrp_state from, enum vrrp_state to)
{
	struct buf *b;

	log_info("%s %s -> %s", g->tag, fsm_state_names[from], fsm_state_names[to]);
	if ((b = ev_begin("group"))) {
		ev_str(b, "group", g->name);
		ev_str(b, "from", fsm_state_names[from]);
		ev_str(b, "to", hook_state_name(to, true));
		ev_end(b);
	}
	struct hook_event e = {
	    .from = from,
	    .to = to,
	    .reason = "group",
	    .priority = 0,
	    .ifname = "",
	    .vips = "",
	};
	hookq_push(g->hooks, &e);
}

bool
vgroup_report(struct vgroup *g, size_t idx, const struct vgroup_report *r)
{
	struct vgroup_report *old = &g->m[idx].r;
	bool hold;
	size_t nfault = 0;
	enum vrrp_state st;

	if (old->state == r->state && old->wants_master == r->wants_master &&
	    old->own_fault == r->own_fault && g->nfault != (size_t)-1)
		return false;
	*old = *r;
	for (size_t i = 0; i < g->n; i++)
		nfault += g->m[i].arg && g->m[i].r.own_fault;
	hold = group_hold(g);
	st = group_state(g);
	if (st != g->state) {
		enum vrrp_state from = g->state;

		g->state = st;
		state_changed(g, from, st);
	}
	/*
	 * The fault a member gets from the others depends on who else is
	 * faulted: any change of the count may change it for someone.
	 */
	if (g->stopping || (hold == g->hold && nfault == g->nfault))
		return false;
	g->hold = hold;
	g->nfault = nfault;
	g->dirty = true;
	return true;
}

void
vgroup_stop(struct vgroup *g)
{
	g->stopping = true;
}

bool
vgroup_hold(const struct vgroup *g)
{
	return g->hold;
}

const char *
vgroup_fault_by(const struct vgroup *g, size_t idx)
{
	for (size_t i = 0; i < g->n; i++)
		if (i != idx && g->m[i].arg && g->m[i].r.own_fault)
			return g->m[i].name;
	return NULL;
}

enum vrrp_state
vgroup_state(const struct vgroup *g)
{
	return g->state;
}

bool
vgroup_sync_begin(struct vgroup *g)
{
	if (g->syncing)
		return false;
	g->syncing = true;
	return true;
}

void
vgroup_sync_end(struct vgroup *g)
{
	g->syncing = false;
}

bool
vgroup_take_dirty(struct vgroup *g)
{
	bool d = g->dirty;

	g->dirty = false;
	return d;
}

struct hookq *
vgroup_hooks(const struct vgroup *g)
{
	return g->hooks;
}

void
vgroup_status_json(const struct vgroup *g, struct buf *b)
{
	struct json j;

	json_init(&j, b);
	json_obj_begin(&j);
	json_key_str(&j, "name", g->name);
	json_key_str(&j, "state", fsm_state_names[g->state]);
	json_key(&j, "held");
	json_val_bool(&j, g->hold);
	json_key(&j, "instances");
	json_arr_begin(&j);
	for (size_t i = 0; i < g->n; i++)
		json_val_str(&j, g->m[i].name);
	json_arr_end(&j);
	json_obj_end(&j);
}

void
vgroup_status_text(const struct vgroup *g, struct buf *b)
{
	buf_printf(b, "group %s: %s  instances", g->name, fsm_state_names[g->state]);
	for (size_t i = 0; i < g->n; i++)
		buf_printf(b, " %s (%s%s)", g->m[i].name, fsm_state_names[g->m[i].r.state],
		           g->m[i].r.wants_master ? ", wants MASTER" : "");
	buf_puts(b, g->hold && g->state != ST_FAULT && g->state != ST_INIT
	                ? "\n  held: not every instance can be MASTER\n"
	                : "\n");
}
