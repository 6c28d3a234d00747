/*
 * conf_group.c - the [group NAME] sections of vipd.conf: instances that
 * move together (keepalived's vrrp_sync_group, vgroup.h), and the group's
 * own notify hooks.
 *
 * The members are names of [instance] sections, which may come later in
 * the file: they are judged after the whole file (conf_groups_resolve),
 * each message at the `instances` line.
 */
#include "conf_priv.h"
#include "conf_value.h"

#include <stdlib.h>
#include <string.h>

/* Keys of [group NAME], indexes of group_keys[] and parser.gkseen[]. */
enum {
	GRK_INSTANCES,
	GRK_NOTIFY_MASTER, /* in conf_hook order */
	GRK_NOTIFY_BACKUP,
	GRK_NOTIFY_FAULT,
	GRK_NOTIFY_STOP,
	GRK_NOTIFY,
	GRK_NOTIFY_TIMEOUT,
	GRK_NOTIFY_SHELL,
	GRK_MAX
};

_Static_assert(GRK_MAX <= CONF_GROUP_KEYS, "parser.gkseen too small");

static struct conf_group *
cur(struct parser *p)
{
	return &p->conf->groups[p->conf->ngroups - 1];
}

/* "instances = VI_front VI_back": names, blank-separated, each once. */
static void
set_instances(struct parser *p, const char *key, const char *val)
{
	struct conf_group *g = cur(p);
	const char *s = val;

	g->members_line = p->lineno;
	while (*s) {
		size_t n = strcspn(s, " \t,");
		char name[CONF_NAME_MAX];

		if (n == 0) {
			s++;
			continue;
		}
		if (n >= sizeof(name)) {
			conf_perr(p, p->lineno, key, "%.*s...: not an instance name", 16, s);
			return;
		}
		memcpy(name, s, n);
		name[n] = '\0';
		s += n;
		if (!conf_name_ok(name)) {
			conf_perr(p, p->lineno, key, "%s: not an instance name", name);
			continue;
		}
		for (size_t i = 0; i < g->nmembers; i++)
			if (strcmp(g->members[i], name) == 0) {
				conf_perr(p, p->lineno, key, "%s: listed twice", name);
				name[0] = '\0';
				break;
			}
		if (!name[0])
			continue;
		if (g->nmembers == CONF_MAX_GROUP) {
			conf_perr(p, p->lineno, key, "at most %d instances in a group",
			          CONF_MAX_GROUP);
			return;
		}
		snprintf(g->members[g->nmembers++], CONF_NAME_MAX, "%s", name);
	}
	if (g->nmembers == 0)
		conf_perr(p, p->lineno, key, "empty: name the instances of the group");
}

static void
set_notify(struct parser *p, const char *key, const char *val)
{
	conf_set_hook(p, key, val, cur(p)->notify, cur(p)->notify_line);
}

static void
set_notify_timeout(struct parser *p, const char *key, const char *val)
{
	conf_get_duration(p, key, val, &conf_notify_timeout_range, &cur(p)->notify_timeout_ms);
}

static void
set_notify_shell(struct parser *p, const char *key, const char *val)
{
	conf_get_bool(p, key, val, &cur(p)->notify_shell);
}

static const struct conf_key group_keys[GRK_MAX] = {
    [GRK_INSTANCES] = {"instances", false, set_instances},
    [GRK_NOTIFY_MASTER] = {"notify_master", false, set_notify},
    [GRK_NOTIFY_BACKUP] = {"notify_backup", false, set_notify},
    [GRK_NOTIFY_FAULT] = {"notify_fault", false, set_notify},
    [GRK_NOTIFY_STOP] = {"notify_stop", false, set_notify},
    [GRK_NOTIFY] = {"notify", false, set_notify},
    [GRK_NOTIFY_TIMEOUT] = {"notify_timeout", false, set_notify_timeout},
    [GRK_NOTIFY_SHELL] = {"notify_shell", false, set_notify_shell},
};

void
conf_group_key(struct parser *p, const char *name, const char *val)
{
	if (conf_set_key(p, group_keys, GRK_MAX, p->gkseen, name, val) < 0)
		conf_perr(p, p->lineno, name, "unknown key in [group %s]", cur(p)->name);
}

void
conf_group_begin(struct parser *p, const char *name)
{
	struct conf *c = p->conf;
	struct conf_group *g = conf_grow(c->groups, c->ngroups, sizeof(*g));

	if (!g) {
		conf_perr(p, p->lineno, NULL, "out of memory");
		return;
	}
	c->groups = g;
	g = &g[c->ngroups++];
	memset(g, 0, sizeof(*g));
	snprintf(g->name, sizeof(g->name), "%s", name);
	g->line = p->lineno;
	g->notify_timeout_ms = 30000;
	memset(p->gkseen, 0, sizeof(p->gkseen));
	p->sec = SEC_GROUP;
	if (!conf_section_name_ok(p, "group", name))
		return;
	for (size_t i = 0; i + 1 < c->ngroups; i++)
		if (strcmp(c->groups[i].name, name) == 0) {
			conf_perr(p, p->lineno, NULL, "[group %s]: defined twice, first on line %d",
			          name, c->groups[i].line);
			return;
		}
}

void
conf_group_end(struct parser *p)
{
	struct conf_group *g = cur(p);
	int saved = p->lineno;

	if (!p->gkseen[GRK_INSTANCES])
		conf_perr(p, g->line, group_keys[GRK_INSTANCES].name, "missing");
	for (int h = 0; h < CONF_HOOK_MAX; h++) {
		if (!g->notify[h][0])
			continue;
		p->lineno = g->notify_line[h];
		conf_hook_validate(p, conf_hook_names[h], g->notify[h], g->notify_shell);
	}
	p->lineno = saved;
}

/* Each member an instance of the file, and no instance in two groups. */
void
conf_groups_resolve(struct parser *p)
{
	struct conf *c = p->conf;

	for (size_t i = 0; i < c->ngroups; i++) {
		struct conf_group *g = &c->groups[i];

		snprintf(g->hook_user, sizeof(g->hook_user), "%s", c->script_user);
		for (size_t k = 0; k < g->nmembers; k++) {
			struct conf_instance *ci = NULL;

			for (size_t j = 0; j < c->ninstances && !ci; j++)
				if (strcmp(c->instances[j].name, g->members[k]) == 0)
					ci = &c->instances[j];
			if (!ci)
				conf_perr(p, g->members_line, "instances", "%s: no [instance %s] section",
				          g->members[k], g->members[k]);
			else if (ci->group[0])
				conf_perr(p, g->members_line, "instances",
				          "%s: already in [group %s]; an instance is in one group at most",
				          ci->name, ci->group);
			else {
				snprintf(ci->group, sizeof(ci->group), "%s", g->name);
				ci->group_idx = i;
			}
		}
	}
}

const struct conf_group *
conf_find_group(const struct conf *c, const char *name)
{
	for (size_t i = 0; i < c->ngroups; i++)
		if (strcmp(c->groups[i].name, name) == 0)
			return &c->groups[i];
	return NULL;
}
