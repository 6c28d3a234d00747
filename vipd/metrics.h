/*
 * metrics.h - the Prometheus text exposition format (version 0.0.4) of
 * the daemon's instances, checks and hooks: what GET /metrics
 * (metrics_http.h) and `vipctl metrics` print. vipd(8) lists every metric.
 *
 * Rendering is pure: metrics_render() writes a snapshot (struct
 * metrics_src) into a buffer, so the tests feed it one of their own;
 * metrics_render_daemon() takes the snapshot of a running daemon.
 */
#ifndef VIPD_METRICS_H
#define VIPD_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "hook.h"
#include "vrrp.h"
#include "checks/check.h"

struct buf;
struct vipd;

/* One instance's hook counts, by hook kind (hook.h). */
struct metrics_hooks {
	const char *instance;
	struct hook_metrics kinds[HOOK_KINDS];
};

struct metrics_src {
	const char *version;
	uint64_t start_real_ns; /* when vipd started, CLOCK_REALTIME */
	const struct vrrp_metrics *insts;
	size_t ninsts;
	const struct check_metrics *checks;
	size_t nchecks;
	const struct metrics_hooks *hooks;
	size_t nhooks;
};

/* Append the whole exposition: # HELP / # TYPE and every sample of every family. */
void metrics_render(const struct metrics_src *src, struct buf *b);
/* The same for the running daemon d (a struct vipd). */
void metrics_render_daemon(struct buf *b, void *d);
/* A label value, escaped as the format wants (\\, \", \n), without quotes. */
void metrics_label_value(struct buf *b, const char *s);

#endif
