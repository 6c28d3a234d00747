/*
 * ctl_drain.c - `vipctl drain [--wait [--timeout T]] --all | INSTANCE...`
 * and `vipctl undrain --all | INSTANCE...`.
 *
 * The drained set is saved in state_dir before the reply (drain.h), so
 * what an operator was told is what a restart will do. `drain --wait`
 * keeps the client until, for every instance drained, another router
 * was heard advertising (it is Master in our place), or until the
 * timeout: then the VIPs are down, and the reply says so loudly.
 */
#include "ctl_drain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "control.h"
#include "daemon.h"
#include "log.h"
#include "loop.h"
#include "mem.h"
#include "vrrp.h"

struct drain_req {
	bool all, wait;
	uint32_t timeout_ms;
	struct vrrp **vs; /* the instances named (or all) */
	size_t n;
};

/* A drain --wait in progress: polled by its own timer. */
struct drain_wait {
	struct vipd *d;
	struct ctl_client *c;
	struct timer *t;
	uint64_t since_ns, deadline_ns;
	char (*names)[CONF_NAME_MAX]; /* looked up again on each poll: a reload may remove one */
	size_t n;
};

static struct vrrp *
find(const struct vipd *d, const char *name)
{
	for (size_t i = 0; i < d->nvrrps; i++)
		if (strcmp(vrrp_name(d->vrrps[i]), name) == 0)
			return d->vrrps[i];
	return NULL;
}

/* The arguments after the command word; an "error: ..." reply and -1 if wrong. */
static int
parse(struct vipd *d, struct ctl_client *c, int argc, char **argv, bool drain, struct drain_req *r)
{
	*r = (struct drain_req){.timeout_ms = DRAIN_WAIT_DEFAULT_MS};
	r->vs = xcalloc(d->nvrrps + (size_t)argc + 1, sizeof(*r->vs));
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--all") == 0) {
			r->all = true;
		} else if (drain && strcmp(argv[i], "--wait") == 0) {
			r->wait = true;
		} else if (drain && strcmp(argv[i], "--timeout") == 0 && i + 1 < argc) {
			if (conf_parse_duration_ms(argv[++i], &r->timeout_ms) < 0 ||
			    !r->timeout_ms) {
				ctl_printf(c, "error: --timeout: not a duration: \"%s\"\n",
				           argv[i]);
				return -1;
			}
		} else if (argv[i][0] == '-') {
			ctl_printf(c, "error: unknown option \"%s\"\n", argv[i]);
			return -1;
		} else if (!(r->vs[r->n] = find(d, argv[i]))) {
			ctl_printf(c, "error: no instance \"%s\"\n", argv[i]);
			return -1;
		} else {
			r->n++;
		}
	}
	if (r->all == (r->n > 0)) {
		ctl_printf(c, "error: usage: %s\n",
		           drain ? "drain [--wait] [--timeout T] --all | INSTANCE..."
		                 : "undrain --all | INSTANCE...");
		return -1;
	}
	if (r->all) {
		for (size_t i = 0; i < d->nvrrps; i++)
			r->vs[i] = d->vrrps[i];
		r->n = d->nvrrps;
	}
	return 0;
}

/* Save the set; false and an "error: ..." reply if it could not be. */
static bool
save(struct vipd *d, struct ctl_client *c)
{
	char why[4200];

	if (drain_save(d->conf->state_dir, &d->drained, why, sizeof(why)) == 0)
		return true;
	log_warnx("drain: cannot save the drained instances: %s", why);
	ctl_printf(c,
	           "error: cannot save the drained instances (%s): done now, but a restart "
	           "would not remember it\n",
	           why);
	return false;
}

static void
wait_free(struct drain_wait *w)
{
	timer_free(w->t);
	free(w->names);
	free(w);
}

static void
wait_gone(struct ctl_client *c, void *arg)
{
	wait_free(arg);
	ctl_end(c);
}

/* Done (or timed out): one reply, error first when any instance's VIPs are down. */
static void
wait_answer(struct drain_wait *w, bool timed_out)
{
	struct buf ok, bad;
	char s[ADDR_STRLEN];

	buf_init(&ok);
	buf_init(&bad);
	for (size_t i = 0; i < w->n; i++) {
		struct vrrp *v = find(w->d, w->names[i]);
		union inaddr who;

		if (!v)
			continue;
		if (vrrp_peer_master(v, w->since_ns, &who))
			buf_printf(&ok, "%s: %s is Master\n", w->names[i],
			           addr_ntop(vrrp_family(v), &who, s));
		else
			buf_printf(
			    &bad,
			    "%s: no other router took over within %.1f s: its VIPs are DOWN\n",
			    w->names[i], (w->deadline_ns - w->since_ns) / 1e9);
	}
	if (timed_out && bad.len) {
		log_warnx("drain --wait: %.*s", (int)bad.len - 1, bad.data);
		ctl_printf(w->c, "error: drained, but not every instance was taken over\n");
		ctl_write(w->c, bad.data, bad.len);
	}
	if (ok.len)
		ctl_write(w->c, ok.data, ok.len);
	buf_free(&ok);
	buf_free(&bad);
	ctl_end(w->c);
	wait_free(w);
}

static void
wait_poll(struct loop *l, struct timer *t, void *arg)
{
	struct drain_wait *w = arg;
	uint64_t now = mono_now_ns();
	bool all = true;

	(void)l;
	for (size_t i = 0; i < w->n && all; i++) {
		struct vrrp *v = find(w->d, w->names[i]);

		all = !v || vrrp_peer_master(v, w->since_ns, NULL);
	}
	if (all || now >= w->deadline_ns) {
		wait_answer(w, !all);
		return;
	}
	timer_arm_in(t, DRAIN_WAIT_POLL_MS * NS_PER_MS);
}

static void
wait_start(struct vipd *d, struct ctl_client *c, const struct drain_req *r, uint64_t since)
{
	struct drain_wait *w = xcalloc(1, sizeof(*w));

	w->d = d;
	w->c = c;
	w->since_ns = since;
	w->deadline_ns = since + (uint64_t)r->timeout_ms * NS_PER_MS;
	w->names = xcalloc(r->n + 1, sizeof(*w->names));
	for (size_t i = 0; i < r->n; i++)
		snprintf(w->names[w->n++], CONF_NAME_MAX, "%s", vrrp_name(r->vs[i]));
	w->t = timer_new(d->loop, wait_poll, w);
	ctl_on_gone(c, wait_gone, w);
	timer_arm_in(w->t, 0);
}

bool
ctlcmd_drain(struct vipd *d, struct ctl_client *c, bool json, int argc, char **argv)
{
	struct drain_req r;
	uint64_t since = mono_now_ns();
	bool saved;

	(void)json;
	if (parse(d, c, argc, argv, true, &r) < 0) {
		free(r.vs);
		return false;
	}
	if (r.all) {
		drain_clear(&d->drained);
		d->drained.all = true;
	}
	for (size_t i = 0; i < r.n && !r.all; i++)
		if (drain_add(&d->drained, vrrp_name(r.vs[i])) < 0)
			fatalx("out of memory (drain)");
	saved = save(d, c);
	for (size_t i = 0; i < r.n; i++)
		vrrp_set_drained(r.vs[i], true);
	if (saved && r.wait) {
		wait_start(d, c, &r, since);
		free(r.vs);
		return true; /* answered by wait_answer() */
	}
	if (saved) {
		ctl_printf(c, "ok: drained");
		for (size_t i = 0; i < r.n; i++)
			ctl_printf(c, " %s", vrrp_name(r.vs[i]));
		ctl_printf(c, "\n");
	}
	free(r.vs);
	return false;
}

bool
ctlcmd_undrain(struct vipd *d, struct ctl_client *c, bool json, int argc, char **argv)
{
	struct drain_req r;

	(void)json;
	if (parse(d, c, argc, argv, false, &r) < 0) {
		free(r.vs);
		return false;
	}
	if (r.all) {
		drain_clear(&d->drained);
	} else {
		/* "*" becomes the names of every instance but these. */
		if (d->drained.all) {
			d->drained.all = false;
			for (size_t i = 0; i < d->nvrrps; i++)
				if (drain_add(&d->drained, vrrp_name(d->vrrps[i])) < 0)
					fatalx("out of memory (undrain)");
		}
		for (size_t i = 0; i < r.n; i++)
			drain_del(&d->drained, vrrp_name(r.vs[i]));
	}
	if (save(d, c)) {
		ctl_printf(c, "ok: undrained");
		for (size_t i = 0; i < r.n; i++)
			ctl_printf(c, " %s", vrrp_name(r.vs[i]));
		ctl_printf(c, "\n");
	}
	for (size_t i = 0; i < r.n; i++)
		vrrp_set_drained(r.vs[i], false);
	free(r.vs);
	return false;
}
