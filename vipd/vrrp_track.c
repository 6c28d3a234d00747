/*
 * vrrp_track.c - an instance's tracked checks and interfaces.
 *
 * Every change of a tracked item re-evaluates the whole set (track.c:
 * keepalived's weight semantics) into a verdict: the effective priority
 * and whether a weight-0 item holds the instance in FAULT. This file
 * never talks to the state machine; vrrp.c hands it the verdict.
 */
#include <stdio.h>
#include <string.h>

#include "checks/check.h"
#include "checks/track.h"
#include "event.h"
#include "log.h"
#include "loop.h"
#include "vrrp_io.h"
#include "vrrp_priv.h"

int
vrrp_tracks_init(struct vrrp *v, struct check *const *checks, size_t nchecks,
                 void (*changed)(struct check *c, void *arg))
{
	v->track_changed = changed;
	for (size_t i = 0; i < v->cfg.ntracks; i++) {
		const struct conf_track *ct = &v->cfg.tracks[i];
		struct check *found = NULL;

		for (size_t k = 0; k < nchecks && !found; k++)
			if (strcmp(check_name(checks[k]), ct->check) == 0)
				found = checks[k];
		if (!found) {
			log_warnx("%s tracks unknown check %s", v->tag, ct->check);
			return -1;
		}
		if (check_watch(found, changed, v) < 0)
			return -1;
		v->tracks[v->ntracks++] = (struct vrrp_track){.check = found, .weight = ct->weight};
	}
	for (size_t i = 0; i < v->cfg.ntrack_ifs; i++) {
		const struct conf_track_if *ct = &v->cfg.track_ifs[i];
		struct vrrp_track_if *t = &v->track_ifs[v->ntrack_ifs++];
		struct iface ifc;

		snprintf(t->ifname, sizeof(t->ifname), "%s", ct->ifname);
		t->weight = ct->weight;
		t->up = v->io->iface_get(ct->ifname, &ifc) == 0 && ifc.admin_up && ifc.running;
	}
	return 0;
}

void
vrrp_tracks_free(struct vrrp *v)
{
	for (size_t i = 0; i < v->ntracks; i++)
		check_unwatch(v->tracks[i].check, v->track_changed, v);
	v->ntracks = 0;
}

int
vrrp_tracks_rewire(struct vrrp *v, struct check *const *checks, size_t nchecks)
{
	struct vrrp_track old[CONF_MAX_TRACKS];
	struct vrrp_track_if old_ifs[CONF_MAX_TRACKS];
	size_t nold = v->ntracks, nold_ifs = v->ntrack_ifs;
	int rc;

	memcpy(old, v->tracks, sizeof(old));
	memcpy(old_ifs, v->track_ifs, sizeof(old_ifs));
	vrrp_tracks_free(v);
	v->ntrack_ifs = 0;
	rc = vrrp_tracks_init(v, checks, nchecks, v->track_changed);
	/*
	 * The old check objects are still alive here (the caller frees the
	 * replaced ones after every instance is rewired): match by name, so
	 * that a replaced check seeded with its predecessor's state shows no
	 * change of what it applies.
	 */
	for (size_t i = 0; i < v->ntracks; i++)
		for (size_t k = 0; k < nold; k++)
			if (strcmp(check_name(old[k].check), check_name(v->tracks[i].check)) == 0)
				v->tracks[i].applied = old[k].applied;
	for (size_t i = 0; i < v->ntrack_ifs; i++)
		for (size_t k = 0; k < nold_ifs; k++)
			if (strcmp(old_ifs[k].ifname, v->track_ifs[i].ifname) == 0) {
				v->track_ifs[i].up = old_ifs[k].up;
				v->track_ifs[i].applied = old_ifs[k].applied;
			}
	return rc;
}

bool
vrrp_tracks_link_event(struct vrrp *v, const struct iface *ifc)
{
	bool changed = false;

	for (size_t i = 0; i < v->ntrack_ifs; i++) {
		struct vrrp_track_if *t = &v->track_ifs[i];
		bool up = ifc->present && ifc->admin_up && ifc->running;

		if (strcmp(t->ifname, ifc->name) != 0 || up == t->up)
			continue;
		t->up = up;
		changed = true;
		log_info("%s tracked interface %s is %s", v->tag, t->ifname, up ? "up" : "down");
	}
	return changed;
}

/* Inputs for track_eval(): checks first, then interfaces. */
static size_t
collect(const struct vrrp *v, struct track_input *in)
{
	size_t n = 0;

	for (size_t i = 0; i < v->ntracks; i++) {
		const struct check *c = v->tracks[i].check;

		in[n++] = (struct track_input){
		    .state = check_get_state(c),
		    .weight = v->tracks[i].weight,
		    .is_file = check_conf(c)->type == CT_FILE,
		    .value = check_value(c),
		};
	}
	for (size_t i = 0; i < v->ntrack_ifs; i++)
		in[n++] = (struct track_input){
		    .state = v->track_ifs[i].up ? CHK_UP : CHK_DOWN,
		    .weight = v->track_ifs[i].weight,
		};
	return n;
}

/*
 * Input i, appended to buf: "check:NAME" / "interface NAME down" (why an
 * instance is in FAULT), or with its state, "check:NAME up" / "interface
 * NAME up" (what changed a priority). The length written.
 */
static size_t
describe(const struct vrrp *v, size_t i, bool with_state, char *buf, size_t size)
{
	int n;

	if (i < v->ntracks) {
		const struct check *c = v->tracks[i].check;

		n = snprintf(buf, size, "check:%s%s%s", check_name(c), with_state ? " " : "",
		             with_state ? check_state_names[check_get_state(c)] : "");
	} else {
		const struct vrrp_track_if *t = &v->track_ifs[i - v->ntracks];

		n = snprintf(buf, size, "interface %s %s", t->ifname,
		             !with_state || !t->up ? "down" : "up");
	}
	return n < 0 ? 0 : (size_t)n < size ? (size_t)n : size - 1;
}

/*
 * Log a priority change naming the items whose weight changed
 * (changed[i]), and publish it on the event stream.
 */
static void
note_priority(const struct vrrp *v, uint8_t from, uint8_t to, const bool *changed, size_t n,
              const char *why)
{
	char items[512] = "";
	size_t len = 0;
	struct buf *b;

	/* A reload names itself: its items' weights may have changed, not their state. */
	for (size_t i = 0; !why && i < n && len + 3 < sizeof(items); i++) {
		if (!changed[i])
			continue;
		if (len)
			len += (size_t)snprintf(items + len, sizeof(items) - len, ", ");
		len += describe(v, i, true, items + len, sizeof(items) - len);
	}
	if (!len)
		snprintf(items, sizeof(items), "%s", why ? why : "tracked items");
	log_info("%s priority %u -> %u (%s)", v->tag, from, to, items);
	if (!(b = ev_begin("priority")))
		return;
	ev_str(b, "instance", v->cfg.name);
	ev_uint(b, "from", from);
	ev_uint(b, "to", to);
	ev_str(b, "reason", items);
	ev_end(b);
}

void
vrrp_tracks_eval(struct vrrp *v, const char *why, struct vrrp_verdict *out)
{
	struct track_input in[2 * CONF_MAX_TRACKS] = {0};
	struct track_result r;
	size_t n = collect(v, in);

	bool changed[2 * CONF_MAX_TRACKS];

	track_eval(v->cfg.priority, in, n, &r);
	for (size_t i = 0; i < n; i++) {
		int *applied =
		    i < v->ntracks ? &v->tracks[i].applied : &v->track_ifs[i - v->ntracks].applied;
		int now = track_applied(&in[i]);

		changed[i] = now != *applied;
		*applied = now;
	}
	/* 0 on the wire means "Master leaving": the state machine never takes it. */
	out->priority = r.priority ? r.priority : 1;
	if (out->priority != v->fsm.priority)
		note_priority(v, v->fsm.priority, out->priority, changed, n, why);
	out->fault = r.fault;
	out->fault_why[0] = '\0';
	if (r.fault)
		describe(v, r.fault_idx, false, out->fault_why, sizeof(out->fault_why));
}

void
vrrp_tracks_json(const struct vrrp *v, struct json *j)
{
	json_key(j, "tracks");
	json_arr_begin(j);
	for (size_t i = 0; i < v->ntracks; i++) {
		const struct vrrp_track *t = &v->tracks[i];

		json_obj_begin(j);
		json_key_str(j, "check", check_name(t->check));
		json_key_int(j, "weight", t->weight);
		json_key_str(j, "state", check_state_names[check_get_state(t->check)]);
		json_key_int(j, "applied", t->applied);
		json_obj_end(j);
	}
	json_arr_end(j);
	json_key(j, "track_interfaces");
	json_arr_begin(j);
	for (size_t i = 0; i < v->ntrack_ifs; i++) {
		const struct vrrp_track_if *t = &v->track_ifs[i];

		json_obj_begin(j);
		json_key_str(j, "interface", t->ifname);
		json_key_int(j, "weight", t->weight);
		json_key_str(j, "state", t->up ? "up" : "down");
		json_key_int(j, "applied", t->applied);
		json_obj_end(j);
	}
	json_arr_end(j);
}

void
vrrp_tracks_text(const struct vrrp *v, struct buf *b)
{
	for (size_t i = 0; i < v->ntracks; i++)
		buf_printf(b, "  track check %s, weight %d: %s (%+d)\n",
		           check_name(v->tracks[i].check), v->tracks[i].weight,
		           check_state_names[check_get_state(v->tracks[i].check)],
		           v->tracks[i].applied);
	for (size_t i = 0; i < v->ntrack_ifs; i++)
		buf_printf(b, "  track interface %s, weight %d: %s (%+d)\n", v->track_ifs[i].ifname,
		           v->track_ifs[i].weight, v->track_ifs[i].up ? "up" : "down",
		           v->track_ifs[i].applied);
}
