/*
 * script.c - "script" checks: run a program, up when it exits 0.
 *
 * The program runs through child.h: its own process group, /dev/null as
 * stdin, the configured user, a clean environment. At the timeout the
 * whole group gets SIGTERM, and SIGKILL 2 s later if anything is left;
 * the run ends (failed) when the child is gone, so a hung script costs
 * one failed result, never a blocked loop or a pile of overlapping runs
 * (keepalived's complaint). abort() (stop, reload) kills at once.
 *
 * The reason of a failure carries the script's last line of output, so
 * `vipctl status` shows why ("exit 2: replica lag 35 s").
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "checks/check.h"
#include "vipd/child.h"
#include "vipd/log.h"

#define SCRIPT_KEEP_LINES 3

/* The last line of the output ("" if none); output has no trailing newline. */
static const char *
script_last_line(const char *output)
{
	const char *nl = strrchr(output, '\n');

	return nl ? nl + 1 : output;
}

static void
script_done(const struct child_result *r, void *arg)
{
	struct check *c = arg;
	const char *line = script_last_line(r->output);
	char what[64];

	check_set_priv(c, NULL); /* the child is freed when this returns */
	if (WIFEXITED(r->status) && WEXITSTATUS(r->status) == 0) {
		check_done(c, true, "exit 0");
		return;
	}
	child_describe(r, what, sizeof(what));
	if (*line)
		check_done(c, false, "%s: %s", what, line);
	else
		check_done(c, false, "%s", what);
}

static void
script_run(struct check *c)
{
	const struct conf_check *cc = check_conf(c);
	char name[sizeof(cc->name) + 16];
	char *env[] = {name, NULL};
	struct child_opts o = {
	    .argv = cc->argv,
	    .env = env,
	    .user = cc->user[0] ? cc->user : NULL,
	    .timeout_ns =
	        (uint64_t)(cc->timeout_ms ? cc->timeout_ms : cc->interval_ms) * 1000000ULL,
	    .keep_lines = SCRIPT_KEEP_LINES,
	};
	struct child *ch;

	snprintf(name, sizeof(name), "VIPD_CHECK=%s", cc->name);
	ch = child_spawn(check_loop(c), &o, script_done, c);
	if (!ch) {
		int err = errno;

		if (err == ENOENT && o.user)
			check_done(c, false, "no such user %s", o.user);
		else
			check_done(c, false, "cannot start %s: %s", cc->argv[0] ? cc->argv[0] : "",
			           strerror(err));
		return;
	}
	check_set_priv(c, ch);
}

/* Timeout or stop: the whole process group goes, no result from it. */
static void
script_abort(struct check *c)
{
	struct child *ch = check_priv(c);

	if (!ch)
		return;
	check_set_priv(c, NULL);
	log_debug("check %s: killing pid %d", check_name(c), (int)child_pid(ch));
	child_kill(ch);
}

const struct check_ops check_script_ops = {
    .run = script_run,
    .abort = script_abort,
    .own_timeout = true,
};
