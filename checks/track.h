/*
 * track.h - pure arithmetic of tracked checks and interfaces: rise / fall
 * accounting and the effective priority, keepalived's semantics.
 *
 *   weight > 0   adds weight while up
 *   weight < 0   subtracts |weight| while down
 *   weight = 0   FAULT while down
 *   file checks  add value x weight while up, clamped to -254..253, where
 *                -254 = FAULT; with weight 0, a non-zero value = FAULT
 *                (a DOWN or INIT file check counts for nothing)
 *
 * The result is clamped to 1..254; an owner's 255 is never changed (but a
 * fault still applies). A check with no result yet (INIT) counts for nothing.
 */
#ifndef VIPD_TRACK_H
#define VIPD_TRACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "check.h"

struct track_input {
	enum check_state state;
	int weight;
	bool is_file; /* value x weight semantics */
	long value;   /* file checks only */
};

struct track_result {
	uint8_t priority; /* effective priority */
	bool fault;       /* some weight-0 input is down (or a file value != 0) */
	size_t fault_idx; /* first input causing the fault, when fault */
};

void track_eval(uint8_t base, const struct track_input *in, size_t n, struct track_result *out);
/* What one input adds to (or, negative, subtracts from) the priority now. */
int track_applied(const struct track_input *in);

/* Consecutive results of one check. */
struct check_counts {
	enum check_state state;
	unsigned successes; /* consecutive */
	unsigned failures;  /* consecutive */
};

/*
 * Account one result: the first result of an INIT check decides at once;
 * afterwards `rise` consecutive successes bring it UP and `fall`
 * consecutive failures bring it DOWN. Returns the new state. A check that
 * starts DOWN (init_fail: the caller sets k->state) needs `rise` successes.
 */
enum check_state check_account(struct check_counts *k, bool ok, unsigned rise, unsigned fall);

#endif
