/*
 * realtime.h - vipd at SCHED_RR (realtime_priority), with a guard that
 * turns a runaway loop into a demotion, never into a death.
 *
 * The kernel's RLIMIT_RTTIME counts the CPU time a real-time task uses
 * without sleeping. At REALTIME_RTTIME_US it sends SIGXCPU, whose handler
 * drops vipd to SCHED_OTHER at once; the loop then logs it, counts it and
 * goes back to SCHED_RR REALTIME_RESTORE_NS later. The hard limit is
 * RLIM_INFINITY, so the kernel never sends SIGKILL: under load vipd slows
 * down, it never dies.
 */
#ifndef VIPD_REALTIME_H
#define VIPD_REALTIME_H

#include <stdbool.h>
#include <stdint.h>

#include "loop.h"

/* Real-time CPU time without sleeping that demotes vipd, in microseconds. */
#define REALTIME_RTTIME_US 200000
/* How long vipd stays at normal priority after a demotion. */
#define REALTIME_RESTORE_NS (5 * NS_PER_SEC)

/*
 * Run at SCHED_RR `priority` (1..99), or normal scheduling for 0; at
 * start-up and on every reload that changes realtime_priority. The first
 * call with a priority installs the SIGXCPU handler and an eventfd watched
 * by `l`. While vipd is demoted, a new priority takes effect when it is
 * restored, and 0 cancels the restore. 0, or -1 if the kernel refused
 * (logged; vipd then runs at normal priority).
 */
int realtime_set(struct loop *l, unsigned priority);

/* True while vipd runs at SCHED_RR: configured, allowed, not demoted. */
bool realtime_active(void);
/* Demotions since start: times the guard dropped vipd to SCHED_OTHER. */
uint64_t realtime_demotions(void);

/*
 * Stop watching the eventfd and free the restore timer (before
 * loop_free()). The handler stays: it still demotes, it only stops
 * telling the loop.
 */
void realtime_close(void);

/* For tests: how long a demotion lasts (0: REALTIME_RESTORE_NS). */
void realtime_set_restore_ns(uint64_t ns);

#endif
