/*
 * reload_apply.c - SIGHUP and `vipctl reload`: parse the file anew, and
 * only if the whole of it is valid, carry out the plan of reload.c:
 *
 *   checks     identical: the running object is kept (state, counters,
 *              schedule) and pointed at the new definition; changed: a
 *              new one, seeded with the old one's state; removed: freed
 *   instances  identical: untouched, nothing fires; changed: updated in
 *              place (vrrp_reconfigure); removed: stopped as at shutdown,
 *              freed once its hooks have run; added: started as at start
 *   [global]   log_level and realtime_priority applied; pidfile,
 *              control_socket and metrics_listen need a restart and are kept
 *
 * Two phases. Everything that can fail comes first and changes nothing
 * that runs: the new check and instance objects are made (not started),
 * room is made for the watchers and the retiring instances to come. If
 * any of it fails, it is undone and the reload refused like a bad file;
 * a reload never kills the daemon. Then the plan is carried out, and
 * nothing in that part can fail.
 *
 * Order: removed instances stop first (their VIPs may be an added one's),
 * old checks are freed last, when no instance watches them any more. The
 * old struct conf is freed at the end: nothing keeps a pointer into it
 * (a kept check is re-pointed, an instance holds a copy of its section).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "checks/check.h"
#include "daemon.h"
#include "event.h"
#include "log.h"
#include "loop.h"
#include "realtime.h"
#include "reload.h"
#include "privs.h"
#include "reload_apply.h"
#include "runas.h"
#include "sdnotify.h"
#include "vrrp.h"

#define RETIRE_POLL_NS (50 * NS_PER_MS)

/* -p and -S win over the file, at reload as at start. */
static void
apply_overrides(const struct vipd *d, struct conf *nc)
{
	if (d->opt_pidfile)
		snprintf(nc->pidfile, sizeof(nc->pidfile), "%s", d->opt_pidfile);
	if (d->opt_socket)
		snprintf(nc->control_socket, sizeof(nc->control_socket), "%s", d->opt_socket);
}

/* A refused file: each error logged as conf_load words it, and told to vipctl. */
static void
refuse(const struct vipd *d, const char *errs, struct buf *reply)
{
	unsigned n = 0;
	struct buf *b;

	for (const char *s = errs; s && *s;) {
		size_t len = strcspn(s, "\n");

		log_warnx("%.*s", (int)len, s);
		buf_printf(reply, "error: %.*s\n", (int)len, s);
		n++;
		s += len + (s[len] == '\n');
	}
	log_warnx("reload of %s failed (%u error%s); keeping the running configuration",
	          d->conf->path, n, n == 1 ? "" : "s");
	buf_printf(reply, "error: reload failed (%u error%s); the running configuration is kept\n",
	           n, n == 1 ? "" : "s");
	if ((b = ev_begin("reload"))) {
		ev_bool(b, "ok", false);
		ev_str(b, "file", d->conf->path);
		ev_uint(b, "errors", n);
		ev_end(b);
	}
}

static void
publish(const struct reload_plan *p, const char *path)
{
	struct buf *b = ev_begin("reload");

	if (!b)
		return;
	ev_bool(b, "ok", true);
	ev_str(b, "file", path);
	ev_uint(b, "instances_kept", p->inst.kept);
	ev_uint(b, "instances_changed", p->inst.changed);
	ev_uint(b, "instances_added", p->inst.added);
	ev_uint(b, "instances_removed", p->inst.removed);
	ev_uint(b, "checks_kept", p->chk.kept);
	ev_uint(b, "checks_changed", p->chk.changed);
	ev_uint(b, "checks_added", p->chk.added);
	ev_uint(b, "checks_removed", p->chk.removed);
	ev_end(b);
}

static void
apply_global(const struct vipd *d, struct conf *nc, const struct reload_plan *p)
{
	const struct conf *oc = d->conf;

	if (p->log_level) {
		log_info("log_level %s -> %s", log_level_name(oc->log_level),
		         log_level_name(nc->log_level));
		log_set_level(nc->log_level);
	}
	if (p->realtime_priority) {
		log_info("realtime_priority %u -> %u", oc->realtime_priority,
		         nc->realtime_priority);
		realtime_set(d->loop, nc->realtime_priority);
	}
	if (p->pidfile)
		log_warnx("pidfile cannot change without a restart; keeping %s", oc->pidfile);
	if (p->control_socket)
		log_warnx("control_socket cannot change without a restart; keeping %s",
		          oc->control_socket);
	if (p->metrics_listen)
		log_warnx("metrics_listen cannot change without a restart; keeping %s",
		          oc->metrics_listen[0] ? oc->metrics_listen : "none");
	/* What runs is what the running conf says, whatever the file says now. */
	memcpy(nc->pidfile, oc->pidfile, sizeof(nc->pidfile));
	memcpy(nc->control_socket, oc->control_socket, sizeof(nc->control_socket));
	memcpy(nc->metrics_listen, oc->metrics_listen, sizeof(nc->metrics_listen));
}

/* ---- phase 1: what can fail, undone if it does ---- */

static void
retire_tick(struct loop *l, struct timer *t, void *arg)
{
	(void)l;
	(void)t;
	reload_reap_retired(arg, false);
}

/* How many instances of nc track the check named `name`. */
static size_t
trackers(const struct conf *nc, const char *name)
{
	size_t n = 0;

	for (size_t i = 0; i < nc->ninstances; i++)
		for (size_t t = 0; t < nc->instances[i].ntracks; t++)
			n += strcmp(nc->instances[i].tracks[t].check, name) == 0;
	return n;
}

/*
 * The new checks (not started; a changed one seeded with its
 * predecessor's state), room for every watcher the new instances will
 * add, and the added instances themselves (not started). Kept checks are
 * only borrowed here; nothing that runs changes. 0, or -1 with every new
 * object freed again.
 */
static int
prepare(struct vipd *d, struct conf *nc, const struct reload_plan *p, struct check **cs,
        struct vrrp **vs, char *why, size_t whysize)
{
	size_t nremoved = 0;

	for (size_t i = 0; i < nc->nchecks; i++) {
		long k = p->check_from[i];

		if (p->check_kept[i]) {
			cs[i] = d->checks[k];
		} else if (!(cs[i] = check_new(d->loop, &nc->checks[i]))) {
			snprintf(why, whysize, "cannot create check %s: %s", nc->checks[i].name,
			         strerror(errno));
			goto undo;
		} else if (k >= 0) {
			check_seed(cs[i], check_get_state(d->checks[k]), check_value(d->checks[k]));
		}
		/* Each instance re-watches at most once what it tracks: room for all of them. */
		if (check_reserve_watchers(cs[i], trackers(nc, nc->checks[i].name)) < 0) {
			snprintf(why, whysize, "check %s: out of memory", nc->checks[i].name);
			goto undo;
		}
	}
	for (size_t k = 0; k < d->nvrrps; k++)
		nremoved += p->old_inst_gone[k];
	if (nremoved) {
		struct vrrp **r = reallocarray(d->retiring, d->nretiring + nremoved, sizeof(*r));

		if (!r) {
			snprintf(why, whysize, "out of memory");
			goto undo;
		}
		d->retiring = r;
		if (!d->retire_timer)
			d->retire_timer =
			    timer_new(d->loop, retire_tick, d); /* never NULL (mem.h) */
	}
	for (size_t i = 0; i < nc->ninstances; i++) {
		if (p->inst_from[i] >= 0)
			continue;
		if (!(vs[i] = vrrp_new(d->loop, &nc->instances[i], cs, nc->nchecks))) {
			snprintf(why, whysize, "cannot create instance %s: %s",
			         nc->instances[i].name, strerror(errno));
			goto undo;
		}
	}
	return 0;
undo:
	for (size_t i = 0; i < nc->ninstances; i++)
		if (p->inst_from[i] < 0)
			vrrp_free(vs[i]); /* unwatches the checks first */
	for (size_t i = 0; i < nc->nchecks; i++)
		if (!p->check_kept[i])
			check_free(cs[i]);
	return -1;
}

/* ---- phase 2: carrying the plan out; nothing here can fail ---- */

/* Stop a removed instance; keep it until its hooks (notify_stop...) have run. */
static void
retire(struct vipd *d, struct vrrp *v)
{
	/* Out of its group first: its stop must not take the others out of MASTER. */
	vrrp_set_group(v, NULL);
	vrrp_retire(v);
	if (vrrp_hooks_idle(v)) {
		vrrp_free(v);
		return;
	}
	/* prepare() made the room and the timer. */
	d->retiring[d->nretiring++] = v;
	if (!timer_armed(d->retire_timer))
		timer_arm_in(d->retire_timer, RETIRE_POLL_NS);
}

void
reload_reap_retired(struct vipd *d, bool all)
{
	size_t n = 0;

	for (size_t i = 0; i < d->nretiring; i++) {
		if (all || vrrp_hooks_idle(d->retiring[i]))
			vrrp_free(d->retiring[i]);
		else
			d->retiring[n++] = d->retiring[i];
	}
	d->nretiring = n;
	if (n == 0) {
		free(d->retiring);
		d->retiring = NULL;
	}
	if (d->retire_timer && n > 0)
		timer_arm_in(d->retire_timer, RETIRE_POLL_NS);
	else if (d->retire_timer && all) {
		timer_free(d->retire_timer);
		d->retire_timer = NULL;
	}
}

/* Kept checks take the new definition (identical: only the pointer changes). */
static void
repoint_checks(struct conf *nc, const struct reload_plan *p, struct check **cs)
{
	for (size_t i = 0; i < nc->nchecks; i++) {
		if (p->check_kept[i])
			check_set_conf(cs[i], &nc->checks[i]);
		else if (p->check_from[i] >= 0)
			log_info("check %s: definition changed, restarting it", nc->checks[i].name);
	}
}

/* The instances of the new conf, in its order; removed ones retired first. */
static void
build_instances(struct vipd *d, struct conf *nc, const struct reload_plan *p,
                struct check *const *cs, struct vrrp **vs)
{
	for (size_t k = 0; k < d->nvrrps; k++)
		if (p->old_inst_gone[k])
			retire(d, d->vrrps[k]);
	for (size_t i = 0; i < nc->ninstances; i++) {
		long k = p->inst_from[i];

		if (k < 0)
			continue; /* made by prepare() */
		vs[i] = d->vrrps[k];
		/* Cannot fail: prepare() reserved the watchers (vrrp_reconfigure). */
		if (p->inst_diff[i] && vrrp_reconfigure(vs[i], &nc->instances[i], p->inst_diff[i],
		                                        cs, nc->nchecks) < 0)
			log_error("reload: instance %s: some tracks could not be set up",
			          nc->instances[i].name);
	}
	/* Started as at start-up, once every instance has its new definition. */
	for (size_t i = 0; i < nc->ninstances; i++) {
		if (p->inst_from[i] >= 0)
			continue;
		/* A new instance drained by name, or by "--all", starts drained. */
		if (drain_has(&d->drained, nc->instances[i].name))
			vrrp_set_drained(vs[i], true);
		if (vrrp_start(vs[i]) < 0)
			log_warnx("reload: instance %s cannot start", nc->instances[i].name);
	}
}

/* Start the new checks, free the replaced and removed ones. */
static void
finish_checks(struct vipd *d, struct conf *nc, const struct reload_plan *p, struct check **cs)
{
	for (size_t i = 0; i < nc->nchecks; i++)
		if (!p->check_kept[i] && check_start(cs[i]) < 0)
			log_warnx("check %s cannot start", check_name(cs[i]));
	for (size_t k = 0; k < d->nchecks; k++)
		if (p->old_check_gone[k])
			check_free(d->checks[k]);
}

/* Parse errors as text, or the new conf. */
static struct conf *
load(const char *path, char **errs)
{
	size_t len;
	FILE *f = open_memstream(errs, &len);
	struct conf *nc;

	if (!f) {
		*errs = NULL;
		return NULL;
	}
	nc = conf_load(path, f);
	fclose(f);
	return nc;
}

static int
reload_run(struct vipd *d, struct buf *reply)
{
	struct reload_plan p;
	struct check **cs = NULL;
	struct vrrp **vs = NULL;
	char *errs = NULL, line[512], why[256];
	struct conf *nc;

	log_info("reloading %s", d->conf->path);
	nc = load(d->conf->path, &errs);
	if (!nc) {
		refuse(d, errs ? errs : "out of memory", reply);
		free(errs);
		return -1;
	}
	free(errs);
	apply_overrides(d, nc);
	if (reload_plan_make(d->conf, nc, &p) < 0 || !(cs = calloc(nc->nchecks + 1, sizeof(*cs))) ||
	    !(vs = calloc(nc->ninstances + 1, sizeof(*vs)))) {
		reload_plan_free(&p);
		free(cs);
		free(vs);
		conf_free(nc);
		refuse(d, "out of memory", reply);
		return -1;
	}
	if (prepare(d, nc, &p, cs, vs, why, sizeof(why)) < 0) {
		reload_plan_free(&p);
		free(cs);
		free(vs);
		conf_free(nc);
		refuse(d, why, reply);
		return -1;
	}
	/* The users of the new file, looked up now rather than at each spawn (runas.h). */
	runas_load(nc, privs_run_uid());
	publish(&p, nc->path); /* the cause, before the transitions and hooks it brings */
	apply_global(d, nc, &p);
	repoint_checks(nc, &p, cs);
	build_instances(d, nc, &p, cs, vs);
	finish_checks(d, nc, &p, cs);

	free(d->checks);
	free(d->vrrps);
	d->checks = cs;
	d->nchecks = nc->nchecks;
	d->vrrps = vs;
	d->nvrrps = nc->ninstances;
	conf_free(d->conf);
	d->conf = nc;
	/* The groups, as the new file says, with the instances as they are now. */
	if (daemon_groups_build(d, nc) < 0)
		log_warnx("reload: out of memory for the sync groups: the instances run on their own");

	reload_summary(&p, nc->path, line, sizeof(line));
	log_info("%s", line);
	buf_printf(reply, "%s\n", line);
	reload_plan_free(&p);
	return 0;
}

/* Both entry points (SIGHUP and `vipctl reload`) come here: systemd sees RELOADING=1, READY=1. */
int
reload_apply(struct vipd *d, struct buf *reply)
{
	int rc;

	sdnotify_reloading();
	rc = reload_run(d, reply);
	sdnotify_ready(); /* a refused file too: the running configuration goes on */
	return rc;
}
