/*
 * metrics.c - the Prometheus text format of the daemon's state (metrics.h).
 *
 * The format wants every sample of a metric family together, after its
 * # HELP and # TYPE lines, so each family is one pass over the instances
 * (or checks, or hooks). Names follow Prometheus' conventions: a vipd_
 * prefix, base units (seconds), _total on counters; a state or a reason is
 * a label, with every value present (0 or 1, or a count from 0) so that a
 * query never has to guess at a missing series.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "buf.h"
#include "daemon.h"
#include "event.h"
#include "loop.h"
#include "metrics.h"
#include "mem.h"

void
metrics_label_value(struct buf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			buf_puts(b, "\\\\");
		else if (*s == '"')
			buf_puts(b, "\\\"");
		else if (*s == '\n')
			buf_puts(b, "\\n");
		else
			buf_append(b, s, 1);
	}
}

static void
family(struct buf *b, const char *name, const char *type, const char *help)
{
	buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* label="value" (escaped), after a comma unless first. */
static void
label(struct buf *b, bool first, const char *name, const char *value)
{
	buf_printf(b, "%s%s=\"", first ? "" : ",", name);
	metrics_label_value(b, value);
	buf_puts(b, "\"");
}

/* "NAME{instance=...,interface=...,vrid=...,family=..." without the closing brace. */
static void
inst_open(struct buf *b, const char *name, const struct vrrp_metrics *m)
{
	char vrid[8];

	snprintf(vrid, sizeof(vrid), "%u", m->vrid);
	buf_printf(b, "%s{", name);
	label(b, true, "instance", m->name);
	label(b, false, "interface", m->ifname);
	label(b, false, "vrid", vrid);
	label(b, false, "family", m->family == AF_INET6 ? "ipv6" : "ipv4");
}

/* ---- instances ---- */

/* A per-instance family with one value per instance. */
struct inst_family {
	const char *name, *type, *help;
	uint64_t (*get)(const struct vrrp_metrics *m);
};

static uint64_t
get_priority(const struct vrrp_metrics *m)
{
	return m->priority;
}

static uint64_t
get_effective(const struct vrrp_metrics *m)
{
	return m->effective_priority;
}

static uint64_t
get_sent(const struct vrrp_metrics *m)
{
	return m->adverts_sent;
}

static uint64_t
get_received(const struct vrrp_metrics *m)
{
	return m->adverts_received;
}

static uint64_t
get_master_changes(const struct vrrp_metrics *m)
{
	return m->master_changes;
}

static uint64_t
get_drained(const struct vrrp_metrics *m)
{
	return m->drained;
}

static const struct inst_family inst_families[] = {
    {"vipd_instance_priority", "gauge", "Configured VRRP priority (1-255).", get_priority},
    {"vipd_instance_effective_priority", "gauge",
     "Priority advertised now, tracked checks' and interfaces' weights applied.", get_effective},
    {"vipd_instance_adverts_sent_total", "counter", "VRRP advertisements sent.", get_sent},
    {"vipd_instance_adverts_received_total", "counter",
     "VRRP advertisements received and accepted for this instance.", get_received},
    {"vipd_instance_master_changes_total", "counter",
     "Transitions into or out of MASTER (each handover this router takes part in).",
     get_master_changes},
    {"vipd_instance_drained", "gauge", "1 while the instance is drained (vipctl drain).",
     get_drained},
};

static void
render_instances(const struct metrics_src *s, struct buf *b)
{
	family(
	    b, "vipd_instance_state", "gauge",
	    "1 for the state the instance is in (INIT, BACKUP, MASTER, FAULT), 0 for the others.");
	for (size_t i = 0; i < s->ninsts; i++)
		for (int st = 0; st < ST_MAX; st++) {
			inst_open(b, "vipd_instance_state", &s->insts[i]);
			label(b, false, "state", fsm_state_names[st]);
			buf_printf(b, "} %d\n", s->insts[i].state == (enum vrrp_state)st);
		}
	for (size_t f = 0; f < sizeof(inst_families) / sizeof(inst_families[0]); f++) {
		const struct inst_family *fa = &inst_families[f];

		family(b, fa->name, fa->type, fa->help);
		for (size_t i = 0; i < s->ninsts; i++) {
			inst_open(b, fa->name, &s->insts[i]);
			buf_printf(b, "} %llu\n", (unsigned long long)fa->get(&s->insts[i]));
		}
	}
	family(b, "vipd_instance_transitions_total", "counter",
	       "State transitions, by reason (as in the log and VIPD_REASON).");
	for (size_t i = 0; i < s->ninsts; i++)
		for (int r = R_NONE + 1; r < R_MAX; r++) {
			inst_open(b, "vipd_instance_transitions_total", &s->insts[i]);
			label(b, false, "reason", fsm_reason_names[r]);
			buf_printf(b, "} %llu\n", (unsigned long long)s->insts[i].transitions[r]);
		}
	family(b, "vipd_instance_dropped_total", "counter",
	       "Advertisements for this instance dropped, by reason.");
	for (size_t i = 0; i < s->ninsts; i++)
		for (int r = 0; r < DROP_MAX; r++) {
			inst_open(b, "vipd_instance_dropped_total", &s->insts[i]);
			label(b, false, "reason", vrrp_drop_names[r]);
			buf_printf(b, "} %llu\n", (unsigned long long)s->insts[i].dropped[r]);
		}
}

/* ---- checks ---- */

static void
check_open(struct buf *b, const char *name, const struct check_metrics *m)
{
	buf_printf(b, "%s{", name);
	label(b, true, "check", m->name);
	label(b, false, "type", m->type);
	buf_puts(b, "} ");
}

static void
render_checks(const struct metrics_src *s, struct buf *b)
{
	family(b, "vipd_check_up", "gauge",
	       "1 while the check is up, 0 while down or without a result yet.");
	for (size_t i = 0; i < s->nchecks; i++) {
		check_open(b, "vipd_check_up", &s->checks[i]);
		buf_printf(b, "%d\n", s->checks[i].state == CHK_UP);
	}
	family(b, "vipd_check_runs_total", "counter", "Check results recorded (runs and events).");
	for (size_t i = 0; i < s->nchecks; i++) {
		check_open(b, "vipd_check_runs_total", &s->checks[i]);
		buf_printf(b, "%llu\n", (unsigned long long)s->checks[i].runs);
	}
	family(b, "vipd_check_failures_total", "counter", "Check results that were failures.");
	for (size_t i = 0; i < s->nchecks; i++) {
		check_open(b, "vipd_check_failures_total", &s->checks[i]);
		buf_printf(b, "%llu\n", (unsigned long long)s->checks[i].failures);
	}
	family(b, "vipd_check_last_duration_seconds", "gauge",
	       "How long the last check run took (absent before the first result).");
	for (size_t i = 0; i < s->nchecks; i++) {
		if (!s->checks[i].have_last)
			continue;
		check_open(b, "vipd_check_last_duration_seconds", &s->checks[i]);
		buf_printf(b, "%.6f\n", (double)s->checks[i].last_duration_ns / NS_PER_SEC);
	}
}

/* ---- hooks ---- */

/* A hook is shown while it is configured, and once it has run. */
static bool
hook_shown(const struct hook_metrics *m)
{
	if (m->configured)
		return true;
	for (int r = 0; r < HOOK_RESULT_MAX; r++)
		if (m->runs[r])
			return true;
	return false;
}

static void
hook_open(struct buf *b, const char *name, const char *instance, int kind)
{
	buf_printf(b, "%s{", name);
	label(b, true, "instance", instance);
	label(b, false, "hook", hook_kind_name(kind));
}

static void
render_hooks(const struct metrics_src *s, struct buf *b)
{
	family(b, "vipd_hook_runs_total", "counter",
	       "Notify hook and promote_pgsql runs, by result (ok, failed, timeout, aborted).");
	for (size_t i = 0; i < s->nhooks; i++)
		for (int k = 0; k < HOOK_KINDS; k++) {
			const struct hook_metrics *m = &s->hooks[i].kinds[k];

			if (!hook_shown(m))
				continue;
			for (int r = 0; r < HOOK_RESULT_MAX; r++) {
				hook_open(b, "vipd_hook_runs_total", s->hooks[i].instance, k);
				label(b, false, "result", hook_result_names[r]);
				buf_printf(b, "} %llu\n", (unsigned long long)m->runs[r]);
			}
		}
	family(b, "vipd_hook_duration_seconds", "summary",
	       "How long hook runs took: sum and count (rate(sum)/rate(count) is the mean).");
	for (size_t i = 0; i < s->nhooks; i++)
		for (int k = 0; k < HOOK_KINDS; k++) {
			const struct hook_metrics *m = &s->hooks[i].kinds[k];
			uint64_t n = 0;

			if (!hook_shown(m))
				continue;
			for (int r = 0; r < HOOK_RESULT_MAX; r++)
				n += m->runs[r];
			hook_open(b, "vipd_hook_duration_seconds_sum", s->hooks[i].instance, k);
			buf_printf(b, "} %.6f\n", (double)m->duration_ns_sum / NS_PER_SEC);
			hook_open(b, "vipd_hook_duration_seconds_count", s->hooks[i].instance, k);
			buf_printf(b, "} %llu\n", (unsigned long long)n);
		}
}

void
metrics_render(const struct metrics_src *s, struct buf *b)
{
	family(b, "vipd_build_info", "gauge", "Always 1; the version is a label.");
	buf_puts(b, "vipd_build_info{");
	label(b, true, "version", s->version);
	buf_puts(b, "} 1\n");
	family(b, "vipd_start_time_seconds", "gauge",
	       "When vipd started, in seconds since the Unix epoch.");
	buf_printf(b, "vipd_start_time_seconds %.3f\n", (double)s->start_real_ns / NS_PER_SEC);
	render_instances(s, b);
	render_checks(s, b);
	render_hooks(s, b);
}

void
metrics_render_daemon(struct buf *b, void *arg)
{
	const struct vipd *d = arg;
	struct vrrp_metrics *vm = xcalloc(d->nvrrps + 1, sizeof(*vm));
	struct check_metrics *cm = xcalloc(d->nchecks + 1, sizeof(*cm));
	struct metrics_hooks *hm = xcalloc(d->nvrrps + 1, sizeof(*hm));
	struct metrics_src s = {
	    .version = VIPD_VERSION,
	    .start_real_ns = d->start_real_ns,
	    .insts = vm,
	    .ninsts = d->nvrrps,
	    .checks = cm,
	    .nchecks = d->nchecks,
	    .hooks = hm,
	    .nhooks = d->nvrrps,
	};

	for (size_t i = 0; i < d->nvrrps; i++) {
		vrrp_get_metrics(d->vrrps[i], &vm[i]);
		hm[i].instance = vrrp_name(d->vrrps[i]);
		for (int k = 0; k < HOOK_KINDS; k++)
			hookq_metrics(vrrp_hooks(d->vrrps[i]), k, &hm[i].kinds[k]);
	}
	for (size_t i = 0; i < d->nchecks; i++)
		check_get_metrics(d->checks[i], &cm[i]);
	metrics_render(&s, b);
	free(vm);
	free(cm);
	free(hm);
}
