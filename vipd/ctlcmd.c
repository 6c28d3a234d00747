/*
 * ctlcmd.c - what the control socket answers: `status`, `hooks`, `reload`
 * and `events`, in one table of {name, usage, flags, handler, help}.
 *
 * The replies are byte for byte what vipctl prints and what scripts and
 * the tests parse; the handlers only render what the instances, checks,
 * hooks and the daemon report.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "control.h"
#include "ctlcmd.h"
#include "ctl_drain.h"
#include "daemon.h"
#include "event.h"
#include "hook.h"
#include "loop.h"
#include "mem.h"
#include "metrics.h"
#include "realtime.h"
#include "reload_apply.h"
#include "vport.h"
#include "vrrp.h"
#include "checks/check.h"
#include "../netlink/netlink.h"

/* --- status --------------------------------------------------------------- */

/*
 * How the daemon itself copes: the loop's passes (and those that hit
 * their budget), the real-time guard, netlink events lost and resynced.
 */
static void
status_daemon(const struct vipd *d, struct buf *b, bool json)
{
	struct loop_stats ls;
	struct netlink_stats ns;

	loop_get_stats(d->loop, &ls);
	netlink_get_stats(&ns);
	if (json) {
		struct json j;

		json_init(&j, b);
		json_obj_begin(&j);
		json_key_bool(&j, "realtime", realtime_active());
		json_key_uint(&j, "realtime_demotions", realtime_demotions());
		json_key_uint(&j, "loop_passes", ls.passes);
		json_key_uint(&j, "loop_budget_passes", ls.budget_passes);
		json_key_uint(&j, "loop_longest_pass_us", ls.longest_pass_ns / 1000);
		json_key_uint(&j, "netlink_events", ns.events);
		json_key_uint(&j, "netlink_overruns", ns.overruns);
		json_key_uint(&j, "netlink_resyncs", ns.resyncs);
		json_key_uint(&j, "netlink_resync_retries", ns.resync_retries);
		json_obj_end(&j);
		return;
	}
	buf_printf(
	    b,
	    "daemon: real-time priority %s (%llu demotion(s)); loop: %llu passes, %llu over "
	    "budget, longest %.1f ms; netlink: %llu events, %llu overrun(s), %llu resync(s), %llu retried\n",
	    realtime_active() ? "on" : "off", (unsigned long long)realtime_demotions(),
	    (unsigned long long)ls.passes, (unsigned long long)ls.budget_passes,
	    ls.longest_pass_ns / 1e6, (unsigned long long)ns.events,
	    (unsigned long long)ns.overruns, (unsigned long long)ns.resyncs,
	    (unsigned long long)ns.resync_retries);
}

static bool
cmd_status(struct vipd *d, struct ctl_client *c, bool json, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	struct buf b;

	buf_init(&b);
	if (json) {
		struct json j;

		json_init(&j, &b);
		json_obj_begin(&j);
		json_key(&j, "instances");
		json_arr_begin(&j);
		for (size_t i = 0; i < d->nvrrps; i++)
			vrrp_status_json(d->vrrps[i], json_val_buf(&j));
		json_arr_end(&j);
		json_key(&j, "groups");
		json_arr_begin(&j);
		for (size_t i = 0; i < d->ngroups; i++)
			vgroup_status_json(d->groups[i], json_val_buf(&j));
		json_arr_end(&j);
		json_key(&j, "checks");
		json_arr_begin(&j);
		for (size_t i = 0; i < d->nchecks; i++)
			check_status_json(d->checks[i], json_val_buf(&j));
		json_arr_end(&j);
		json_key(&j, "interfaces");
		vport_status_json(json_val_buf(&j));
		json_key(&j, "daemon");
		status_daemon(d, json_val_buf(&j), true);
		json_obj_end(&j);
		buf_puts(&b, "\n");
	} else {
		for (size_t i = 0; i < d->nvrrps; i++)
			vrrp_status_text(d->vrrps[i], &b);
		if (d->nvrrps == 0)
			buf_puts(&b, "no instances configured\n");
		for (size_t i = 0; i < d->ngroups; i++)
			vgroup_status_text(d->groups[i], &b);
		for (size_t i = 0; i < d->nchecks; i++)
			check_status_text(d->checks[i], &b);
		vport_status_text(&b);
		status_daemon(d, &b, false);
	}
	ctl_write(c, b.data, b.len);
	buf_free(&b);
	return false;
}

/* --- hooks ---------------------------------------------------------------- */

static bool
cmd_hooks(struct vipd *d, struct ctl_client *c, bool json, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	size_t n = daemon_nhooked(d);
	struct hookq **qs = xcalloc(n + 1, sizeof(*qs));
	struct buf b;

	/* Instances a reload removed show their last hooks until they are freed. */
	for (size_t i = 0; i < n; i++)
		qs[i] = daemon_hooked(d, i);
	buf_init(&b);
	if (json)
		hook_runs_json(qs, n, &b);
	else
		hook_runs_text(qs, n, &b);
	ctl_write(c, b.data, b.len);
	buf_free(&b);
	free(qs);
	return false;
}

/* --- events --------------------------------------------------------------- */

/*
 * `vipctl events`: the client stays connected and gets every event line
 * (event.h), after a "hello" line with the current state of everything.
 */
static void
stream_write(const char *line, size_t len, void *arg)
{
	ctl_write(arg, line, len);
}

static void
stream_gone(struct ctl_client *c, void *arg)
{
	ev_unsubscribe(arg);
	ctl_end(c);
}

static bool
cmd_events(struct vipd *d, struct ctl_client *c, bool json, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	struct ev_sink *s = ev_subscribe(stream_write, c);
	struct buf b;
	struct json j;
	char ts[40];

	(void)json;
	ctl_on_gone(c, stream_gone, s);
	ev_iso_time(ev_real_now_ns(), ts, sizeof(ts));
	buf_init(&b);
	json_init(&j, &b);
	json_obj_begin(&j);
	json_key_uint(&j, "seq", ev_last_seq());
	json_key_str(&j, "time", ts);
	json_key_str(&j, "type", "hello");
	json_key(&j, "instances");
	json_arr_begin(&j);
	for (size_t i = 0; i < d->nvrrps; i++)
		vrrp_summary_json(d->vrrps[i], json_val_buf(&j));
	json_arr_end(&j);
	json_key(&j, "checks");
	json_arr_begin(&j);
	for (size_t i = 0; i < d->nchecks; i++) {
		json_obj_begin(&j);
		json_key_str(&j, "check", check_name(d->checks[i]));
		json_key_str(&j, "state", check_state_names[check_get_state(d->checks[i])]);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_obj_end(&j);
	buf_puts(&b, "\n");
	ctl_write(c, b.data, b.len);
	buf_free(&b);
	return true; /* kept open */
}

/* --- metrics ------------------------------------------------------------- */

/* `vipctl metrics`: what GET /metrics serves (metrics.h). */
static bool
cmd_metrics(struct vipd *d, struct ctl_client *c, bool json, int argc, char **argv)
{
	(void)json;
	(void)argc;
	(void)argv;
	struct buf b;

	buf_init(&b);
	metrics_render_daemon(&b, d);
	ctl_write(c, b.data, b.len);
	buf_free(&b);
	return false;
}

/* --- reload --------------------------------------------------------------- */

/* `vipctl reload`: the summary line, or the errors (and vipctl exits 1). */
static bool
cmd_reload(struct vipd *d, struct ctl_client *c, bool json, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	struct buf b;

	(void)json;
	buf_init(&b);
	reload_apply(d, &b);
	ctl_write(c, b.data, b.len);
	buf_free(&b);
	return false;
}

/* --- the table ------------------------------------------------------------ */

enum {
	CMD_JSON = 1 << 0,    /* takes one optional argument, --json */
	CMD_RUNNING = 1 << 1, /* refused once the instances are stopping */
	CMD_ARGS = 1 << 2,    /* takes arguments: the handler checks them */
};

struct ctlcmd {
	const char *name;
	const char *usage; /* the request's form, told back when it is not met */
	unsigned flags;    /* CMD_* */
	/* Answers; true if it kept the client (a stream) or ended it itself. */
	bool (*fn)(struct vipd *d, struct ctl_client *c, bool json, int argc, char **argv);
	const char *help; /* what it does, as vipctl's usage() says it */
};

static const struct ctlcmd ctlcmds[] = {
    {"drain", "drain [--wait] [--timeout T] --all | INSTANCE...", CMD_RUNNING | CMD_ARGS,
     ctlcmd_drain, "hand the instances' VIPs over and keep them out of service"},
    {"events", "events", CMD_RUNNING, cmd_events, "follow events as JSON lines until vipd stops"},
    {"hooks", "hooks [--json]", CMD_JSON, cmd_hooks, "show the last notify hook runs"},
    {"metrics", "metrics", 0, cmd_metrics, "print the Prometheus metrics (GET /metrics)"},
    {"reload", "reload", CMD_RUNNING, cmd_reload, "reload the configuration file (errors: exit 1)"},
    {"status", "status [--json]", CMD_JSON, cmd_status, "show every instance's state"},
    {"undrain", "undrain --all | INSTANCE...", CMD_RUNNING | CMD_ARGS, ctlcmd_undrain,
     "put drained instances back in service"},
};

static const struct ctlcmd *
ctlcmd_find(const char *name)
{
	for (size_t i = 0; i < sizeof(ctlcmds) / sizeof(ctlcmds[0]); i++)
		if (strcmp(ctlcmds[i].name, name) == 0)
			return &ctlcmds[i];
	return NULL;
}

/* The command alone, or (CMD_JSON) followed by --json. */
static bool
ctlcmd_args_ok(const struct ctlcmd *cmd, int argc, char **argv, bool *json)
{
	*json = (cmd->flags & CMD_JSON) && argc == 2 && strcmp(argv[1], "--json") == 0;
	return argc == 1 || *json || (cmd->flags & CMD_ARGS);
}

void
ctlcmd_request(struct ctl_client *c, int argc, char **argv, void *arg)
{
	const struct ctlcmd *cmd = ctlcmd_find(argv[0]);
	struct vipd *d = arg;
	bool json;

	if (!cmd)
		ctl_printf(c, "error: unknown command \"%s\"\n", argv[0]);
	else if (!ctlcmd_args_ok(cmd, argc, argv, &json))
		ctl_printf(c, "error: usage: %s\n", cmd->usage);
	else if ((cmd->flags & CMD_RUNNING) && d->stopped)
		ctl_printf(c, "error: vipd is stopping\n");
	else if (cmd->fn(d, c, json, argc, argv))
		return; /* kept open, or ended by the handler */
	ctl_end(c);
}
