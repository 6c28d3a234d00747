/*
 * groups.c - the daemon's sync groups (daemon_groups_build, daemon.h): made
 * from the configuration at start-up and at each reload, with the
 * instances put in them. Apart from daemon.c and reload_apply.c, which both
 * call it.
 */
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "vgroup.h"
#include "vrrp.h"

/* Out of memory for the groups: every instance on its own, rather than a stale group. */
static int
groups_drop(struct vipd *d)
{
	for (size_t i = 0; i < d->nvrrps; i++)
		if (vrrp_group(d->vrrps[i])) {
			vrrp_set_group(d->vrrps[i], NULL);
			vrrp_group_sync(d->vrrps[i]);
		}
	return -1;
}

int
daemon_groups_build(struct vipd *d, const struct conf *c)
{
	struct vgroup **ng = calloc(c->ngroups + 1, sizeof(*ng));
	bool *synced = calloc(d->nvrrps + 1, sizeof(*synced));

	if (!ng || !synced) {
		free(ng);
		free(synced);
		return groups_drop(d);
	}
	/* New groups first: nothing is changed until nothing can fail. */
	for (size_t i = 0; i < c->ngroups; i++) {
		bool kept = false;

		for (size_t k = 0; k < d->ngroups && !kept; k++)
			kept = strcmp(vgroup_name(d->groups[k]), c->groups[i].name) == 0;
		if (!kept && !(ng[i] = vgroup_new(d->loop, &c->groups[i]))) {
			for (size_t k = 0; k < i; k++)
				vgroup_free(ng[k]);
			free(ng);
			free(synced);
			return groups_drop(d);
		}
	}
	for (size_t i = 0; i < c->ngroups; i++) {
		for (size_t k = 0; k < d->ngroups && !ng[i]; k++) {
			if (d->groups[k] && strcmp(vgroup_name(d->groups[k]), c->groups[i].name) == 0) {
				ng[i] = d->groups[k];
				d->groups[k] = NULL;
				vgroup_reconfigure(ng[i], &c->groups[i]);
			}
		}
		vgroup_clear(ng[i]);
	}
	for (size_t i = 0; i < d->nvrrps; i++) {
		synced[i] = vrrp_group(d->vrrps[i]) != NULL;
		vrrp_set_group(d->vrrps[i], NULL);
	}
	for (size_t k = 0; k < d->ngroups; k++)
		vgroup_free(d->groups[k]); /* groups the file no longer has */
	free(d->groups);
	d->groups = ng;
	d->ngroups = c->ngroups;
	if (!c->ngroups) { /* the common case: nothing kept */
		free(ng);
		d->groups = NULL;
	}
	for (size_t i = 0; i < d->nvrrps; i++) {
		const struct conf_instance *ci = &c->instances[i];

		if (ci->group[0] && ci->group_idx < c->ngroups)
			vrrp_set_group(d->vrrps[i], ng[ci->group_idx]);
		synced[i] |= vrrp_group(d->vrrps[i]) != NULL;
	}
	/* At start-up they are not started yet: vrrp_start() reports to the group. */
	for (size_t i = 0; i < d->nvrrps; i++)
		if (synced[i] && vrrp_state(d->vrrps[i]) != ST_INIT)
			vrrp_group_sync(d->vrrps[i]);
	free(synced);
	return 0;
}

