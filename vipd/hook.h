/*
 * hook.h - notify hooks: a FIFO of hook runs per instance.
 *
 * Each state change of an instance enqueues notify_<state> (if set), then
 * the generic notify (if set), which gets keepalived's four trailing
 * arguments "INSTANCE <name> <MASTER|BACKUP|FAULT|STOP> <priority>" (a
 * sync group's: "GROUP <name> <state> 0", as keepalived's). A
 * change to MASTER enqueues promote_pgsql (if set, promote.h) before them:
 * notify_master runs once the local PostgreSQL is the primary, or vipd
 * gave up on it. The runs of one queue are strictly sequential, in
 * transition order: the next is started from the previous one's done
 * callback, after it exited or was killed at the timeout (SIGTERM to its
 * process group, SIGKILL 2 s later), or the promotion ended.
 * Queues of different instances are independent. Nothing here blocks the
 * loop (child.c). The last HOOK_RING runs of each queue are kept.
 */
#ifndef VIPD_HOOK_H
#define VIPD_HOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "conf.h"
#include "fsm.h"

#define HOOK_RING      32 /* runs kept per instance */
#define HOOK_OUT_LINES 3  /* output lines kept per run */
#define HOOK_LINE_MAX  256

struct loop;
struct hookq;

struct hookq_cfg {
	const char *instance;           /* name, for the arguments and the env */
	bool group;                     /* a [group]'s hooks: "GROUP <name> ...", VIPD_GROUP */
	const char *tag;                /* log prefix: "[VI_1 eth0 vrid 51 v4]" */
	const char *cmd[CONF_HOOK_MAX]; /* command lines; NULL or "" = none */
	bool shell;                     /* run each via /bin/sh -c */
	const char *user;               /* NULL = keep ours */
	uint32_t timeout_ms;            /* 0 = none */
	const char *promote_conninfo;   /* promote_pgsql; NULL or "" = none */
	uint32_t promote_timeout_ms;    /* 0 = PROMOTE_TIMEOUT_MS (tests shorten it) */
};

/* One state change. Strings are copied. */
struct hook_event {
	enum vrrp_state from; /* INIT, BACKUP, MASTER, FAULT */
	enum vrrp_state to;   /* BACKUP, MASTER, FAULT, or INIT: the instance stopped ("STOP") */
	const char *reason;   /* "master_down", "check:pg", ... */
	unsigned priority;    /* effective */
	unsigned vrid;
	const char *ifname;
	const char *vips; /* "192.0.2.100/24 192.0.2.101/24" */
};

/* A finished run. */
struct hook_run {
	uint64_t seq;             /* global start order */
	uint64_t started_real_ns; /* CLOCK_REALTIME */
	char instance[CONF_NAME_MAX];
	char hook[16];          /* "notify_master", "notify", "promote_pgsql" */
	char command[CONF_STR]; /* promote_pgsql: the conninfo, password hidden */
	char transition[24];    /* "BACKUP->MASTER" */
	char reason[96];
	uint64_t duration_ns;
	/* "exit 0", "killed by SIGKILL", "timed out after 30000 ms"; promote_pgsql:
	 * "promoted", "already primary", "failed: <libpq's error>"... (promote.h) */
	char status[HOOK_LINE_MAX];
	char output[HOOK_OUT_LINES][HOOK_LINE_MAX];
	size_t noutput;
};

/* A queue for one instance; the cfg strings are copied. NULL on ENOMEM. */
struct hookq *hookq_new(struct loop *l, const struct hookq_cfg *cfg);
/*
 * A reload: the new settings apply to the transitions enqueued from now
 * on; a running hook and those already queued run as they were, and the
 * kept runs stay.
 */
void hookq_reconfigure(struct hookq *q, const struct hookq_cfg *cfg);
/* Kill a running hook (SIGKILL to its group), drop the queue, free. NULL ok. */
void hookq_free(struct hookq *q);
/* Whether any hook (or promote_pgsql) is configured at all. */
bool hookq_configured(const struct hookq *q);
/* Enqueue the hooks of one transition; starts the first if idle. How many were enqueued. */
size_t hookq_push(struct hookq *q, const struct hook_event *e);
/* Nothing running and nothing queued. */
bool hookq_idle(const struct hookq *q);
/* Kill the running hook (or cancel a promotion) and drop what is queued (recorded as such). */
void hookq_abort(struct hookq *q);
/* The longest one queued or running job may take: notify_timeout, or PROMOTE_TIMEOUT_MS. */
uint32_t hookq_timeout_ms(const struct hookq *q);

/* The kept runs, oldest first: up to HOOK_RING pointers into q. */
size_t hookq_runs(const struct hookq *q, const struct hook_run **out);

/* All runs of these queues in start order: {"hooks":[...]} or a table. */
void hook_runs_json(struct hookq *const *qs, size_t n, struct buf *b);
void hook_runs_text(struct hookq *const *qs, size_t n, struct buf *b);

/*
 * Counts for the metrics (metrics.h), per hook of a queue: HOOK_KINDS
 * kinds, the notify hooks in conf_hook_names order, then promote_pgsql.
 * A run is ok (exit 0, promoted), failed (any other exit, a signal, a
 * failed promotion, could not start), timeout (killed at notify_timeout)
 * or aborted (killed or cancelled at shutdown). Every run's duration is
 * in the sum (0 for those that never started).
 */
#define HOOK_KINDS (CONF_HOOK_MAX + 1)

enum hook_result { HOOK_OK = 0, HOOK_FAILED, HOOK_TIMEOUT, HOOK_ABORTED, HOOK_RESULT_MAX };

/* "ok", "failed", "timeout", "aborted" */
extern const char *const hook_result_names[HOOK_RESULT_MAX];

struct hook_metrics {
	bool configured; /* the hook is set now (counts stay after a reload removes it) */
	uint64_t runs[HOOK_RESULT_MAX];
	uint64_t duration_ns_sum;
};

/* The name of hook kind h < HOOK_KINDS: "notify_master"... "promote_pgsql". */
const char *hook_kind_name(int h);
void hookq_metrics(const struct hookq *q, int h, struct hook_metrics *m);

/* A state's name as hooks get it: fsm_state_names, with "STOP" for an arrival in INIT. */
const char *hook_state_name(enum vrrp_state s, bool arriving);

#endif
