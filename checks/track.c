/*
 * track.c - the arithmetic of tracked checks: rise / fall accounting and
 * the effective priority, with keepalived's semantics (see track.h). Pure:
 * no I/O, no clock, so every rule is tested on its own.
 */
#include "checks/track.h"

/* Priorities a weighted instance may take; 0 and 255 have meanings of their own. */
#define TRACK_PRIO_MIN 1
#define TRACK_PRIO_MAX 254

/*
 * keepalived clamps a file's value x weight to -254..253, and -254 means
 * FAULT (keepalived.conf(5), track_file). Bounding the value first keeps
 * the product far from overflow whatever the file says.
 */
#define TRACK_FILE_MIN (-254)
#define TRACK_FILE_MAX 253

static long
clamp_long(long v, long lo, long hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/*
 * One input's contribution to the priority; *fault set when it puts the
 * instance in FAULT. An INIT check counts for nothing, so a daemon that
 * has just started does not fail over before its checks have run.
 */
static long
track_one(const struct track_input *in, bool *fault)
{
	long v;

	*fault = false;
	if (in->is_file) {
		/* Only the value read by an UP check counts: unreadable = 0. */
		if (in->state != CHK_UP)
			return 0;
		if (in->weight == 0) {
			*fault = in->value != 0;
			return 0;
		}
		v = clamp_long(in->value, -TRACK_PRIO_MAX, TRACK_PRIO_MAX) * in->weight;
		v = clamp_long(v, TRACK_FILE_MIN, TRACK_FILE_MAX);
		*fault = v == TRACK_FILE_MIN;
		return *fault ? 0 : v;
	}
	if (in->weight > 0)
		return in->state == CHK_UP ? in->weight : 0;
	if (in->weight < 0)
		return in->state == CHK_DOWN ? in->weight : 0;
	*fault = in->state == CHK_DOWN;
	return 0;
}

int
track_applied(const struct track_input *in)
{
	bool fault;

	return (int)track_one(in, &fault);
}

void
track_eval(uint8_t base, const struct track_input *in, size_t n, struct track_result *out)
{
	long prio = base;

	out->fault = false;
	out->fault_idx = 0;
	for (size_t i = 0; i < n; i++) {
		bool fault;

		prio += track_one(&in[i], &fault);
		if (fault && !out->fault) {
			out->fault = true;
			out->fault_idx = i;
		}
	}
	/* The address owner keeps 255 whatever its checks say (RFC 5798 §5.2.4). */
	if (base == 255)
		out->priority = 255;
	else
		out->priority = (uint8_t)clamp_long(prio, TRACK_PRIO_MIN, TRACK_PRIO_MAX);
}

enum check_state
check_account(struct check_counts *k, bool ok, unsigned rise, unsigned fall)
{
	if (rise == 0)
		rise = 1;
	if (fall == 0)
		fall = 1;
	if (ok) {
		k->failures = 0;
		if (k->successes < ~0u)
			k->successes++;
	} else {
		k->successes = 0;
		if (k->failures < ~0u)
			k->failures++;
	}
	/* A fresh check decides at once: waiting for `rise` would leave it neutral longer. */
	if (k->state == CHK_INIT)
		k->state = ok ? CHK_UP : CHK_DOWN;
	else if (ok && k->successes >= rise)
		k->state = CHK_UP;
	else if (!ok && k->failures >= fall)
		k->state = CHK_DOWN;
	return k->state;
}
