/*
 * hook.c - notify hooks: one FIFO of runs per instance, see hook.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "argv.h"
#include "child.h"
#include "event.h"
#include "text.h"
#include "hook.h"
#include "log.h"
#include "loop.h"
#include "mem.h"
#include "promote.h"

#define HOOK_ENV_MAX 9

/* hook_job.hook of a promote_pgsql job, after the notify hooks' indexes. */
#define HOOK_PROMOTE CONF_HOOK_MAX

/* A run waiting in the queue (or running). */
struct hook_job {
	struct hook_job *next;
	int hook; /* enum conf_hook, or HOOK_PROMOTE (no argv, no env) */
	char *argv[CONF_MAX_ARGS + 8];
	char *env[HOOK_ENV_MAX];
	char transition[24];
	char reason[96];
	/* What the queue's configuration was when the job was enqueued: a
	 * reload changes the hooks of later transitions only. */
	char instance[CONF_NAME_MAX];
	char command[CONF_STR]; /* as shown: hook_run.command */
	char user[64];
	uint32_t timeout_ms;    /* notify_timeout, or the promotion's deadline */
	char promote[CONF_STR]; /* HOOK_PROMOTE: the conninfo */
};

struct hookq {
	struct loop *loop;
	char instance[CONF_NAME_MAX];
	bool group; /* a [group]'s queue */
	char tag[CONF_NAME_MAX + IF_NAMESIZE + 32];
	char cmd[CONF_HOOK_MAX][CONF_STR];
	bool shell;
	char user[64];
	uint32_t timeout_ms;
	char promote[CONF_STR];       /* promote_pgsql conninfo, "" = none */
	char promote_shown[CONF_STR]; /* the same, password hidden: logs and ring */
	uint32_t promote_timeout_ms;

	struct hook_job *head, *tail; /* head is running when `running` or `promoting` */
	struct child *running;
	struct promote *promoting;
	uint64_t started_real_ns;
	uint64_t seq;

	/*
	 * The last HOOK_RING runs (70 KiB), allocated by the first run: most
	 * instances of a large configuration never run a hook.
	 */
	struct hook_run *ring;
	size_t nring; /* runs ever recorded */

	/* For the metrics, by hook (HOOK_KINDS): kept across reloads. */
	uint64_t runs[HOOK_KINDS][HOOK_RESULT_MAX];
	uint64_t duration_ns_sum[HOOK_KINDS];
};

const char *const hook_result_names[HOOK_RESULT_MAX] = {
    [HOOK_OK] = "ok",
    [HOOK_FAILED] = "failed",
    [HOOK_TIMEOUT] = "timeout",
    [HOOK_ABORTED] = "aborted",
};

static uint64_t hook_seq;

/* The settings of cfg into q (names, commands, user, timeouts). */
static void
set_cfg(struct hookq *q, const struct hookq_cfg *cfg)
{
	snprintf(q->instance, sizeof(q->instance), "%s", cfg->instance ? cfg->instance : "");
	q->group = cfg->group;
	snprintf(q->tag, sizeof(q->tag), "%s", cfg->tag ? cfg->tag : "");
	for (int h = 0; h < CONF_HOOK_MAX; h++)
		snprintf(q->cmd[h], sizeof(q->cmd[h]), "%s", cfg->cmd[h] ? cfg->cmd[h] : "");
	q->shell = cfg->shell;
	snprintf(q->user, sizeof(q->user), "%s", cfg->user ? cfg->user : "");
	q->timeout_ms = cfg->timeout_ms;
	snprintf(q->promote, sizeof(q->promote), "%s",
	         cfg->promote_conninfo ? cfg->promote_conninfo : "");
	promote_redact(q->promote, q->promote_shown, sizeof(q->promote_shown));
	q->promote_timeout_ms =
	    cfg->promote_timeout_ms ? cfg->promote_timeout_ms : PROMOTE_TIMEOUT_MS;
}

struct hookq *
hookq_new(struct loop *l, const struct hookq_cfg *cfg)
{
	struct hookq *q = calloc(1, sizeof(*q));

	if (!q)
		return NULL;
	q->loop = l;
	set_cfg(q, cfg);
	return q;
}

void
hookq_reconfigure(struct hookq *q, const struct hookq_cfg *cfg)
{
	set_cfg(q, cfg);
}

static void
job_free(struct hook_job *j)
{
	if (!j)
		return;
	for (size_t i = 0; j->argv[i]; i++)
		free(j->argv[i]);
	for (size_t i = 0; j->env[i]; i++)
		free(j->env[i]);
	free(j);
}

static struct hook_job *
pop(struct hookq *q)
{
	struct hook_job *j = q->head;

	if (j) {
		q->head = j->next;
		if (!q->head)
			q->tail = NULL;
	}
	return j;
}

void
hookq_free(struct hookq *q)
{
	if (!q)
		return;
	child_kill(q->running);
	q->running = NULL;
	promote_cancel(q->promoting);
	q->promoting = NULL;
	for (struct hook_job *j; (j = pop(q));)
		job_free(j);
	free(q->ring);
	free(q);
}

bool
hookq_configured(const struct hookq *q)
{
	if (q->promote[0])
		return true;
	for (int h = 0; h < CONF_HOOK_MAX; h++)
		if (q->cmd[h][0])
			return true;
	return false;
}

bool
hookq_idle(const struct hookq *q)
{
	return !q || (!q->running && !q->promoting && !q->head);
}

uint32_t
hookq_timeout_ms(const struct hookq *q)
{
	uint32_t t = q->timeout_ms;

	for (const struct hook_job *j = q->head; j; j = j->next)
		if (j->timeout_ms > t)
			t = j->timeout_ms;
	return t;
}

static const char *
job_name(int h)
{
	return h == HOOK_PROMOTE ? "promote_pgsql" : conf_hook_names[h];
}

const char *
hook_kind_name(int h)
{
	return job_name(h);
}

void
hookq_metrics(const struct hookq *q, int h, struct hook_metrics *m)
{
	m->configured = h == HOOK_PROMOTE ? q->promote[0] != '\0' : q->cmd[h][0] != '\0';
	memcpy(m->runs, q->runs[h], sizeof(m->runs));
	m->duration_ns_sum = q->duration_ns_sum[h];
}

size_t
hookq_runs(const struct hookq *q, const struct hook_run **out)
{
	size_t n = q->nring < HOOK_RING ? q->nring : HOOK_RING;
	size_t first = q->nring - n;

	if (!q->ring)
		return 0;

	for (size_t i = 0; i < n; i++)
		out[i] = &q->ring[(first + i) % HOOK_RING];
	return n;
}

const char *
hook_state_name(enum vrrp_state s, bool arriving)
{
	return arriving && s == ST_INIT ? "STOP" : fsm_state_names[s];
}

/* ---- recording ---- */

static struct hook_run *
record_begin(struct hookq *q, const struct hook_job *j)
{
	struct hook_run *r;

	if (!q->ring) /* only once hooks run: most instances never need one */
		q->ring = xcalloc(HOOK_RING, sizeof(*q->ring));
	r = &q->ring[q->nring++ % HOOK_RING];
	memset(r, 0, sizeof(*r));
	r->seq = q->seq;
	r->started_real_ns = q->started_real_ns;
	memcpy(r->instance, j->instance, sizeof(r->instance));
	snprintf(r->hook, sizeof(r->hook), "%s", job_name(j->hook));
	memcpy(r->command, j->command, sizeof(r->command));
	snprintf(r->transition, sizeof(r->transition), "%s", j->transition);
	snprintf(r->reason, sizeof(r->reason), "%s", j->reason);
	return r;
}

static void
record_output(struct hookq *q, struct hook_run *r, const char *out)
{
	while (out && *out && r->noutput < HOOK_OUT_LINES) {
		size_t n = strcspn(out, "\n");

		snprintf(r->output[r->noutput], HOOK_LINE_MAX, "%.*s", (int)n, out);
		text_clean(r->output[r->noutput]);
		log_info("%s hook %s: %s", q->tag, r->hook, r->output[r->noutput]);
		r->noutput++;
		out += n;
		if (*out == '\n')
			out++;
	}
}

/* ---- the event stream ---- */

static void
publish_start(const struct hook_job *j)
{
	struct buf *b = ev_begin("hook_start");

	if (!b)
		return;
	ev_str(b, "instance", j->instance);
	ev_str(b, "hook", job_name(j->hook));
	ev_str(b, "transition", j->transition);
	ev_str(b, "command", j->command);
	ev_end(b);
}

/* Every recorded run, once its status is in. */
static void
publish_end(const struct hook_run *r)
{
	struct buf *b = ev_begin("hook_end");

	if (!b)
		return;
	ev_str(b, "instance", r->instance);
	ev_str(b, "hook", r->hook);
	ev_str(b, "transition", r->transition);
	ev_str(b, "status", r->status);
	ev_uint(b, "duration_ms", r->duration_ns / NS_PER_MS);
	ev_end(b);
}

/* A run is over: count it for the metrics and tell the event stream. */
static void
record_end(struct hookq *q, int hook, const struct hook_run *r, enum hook_result res)
{
	q->runs[hook][res]++;
	q->duration_ns_sum[hook] += r->duration_ns;
	publish_end(r);
}

/* ---- running ---- */

static enum hook_result
child_result_of(const struct child_result *res)
{
	if (res->timed_out)
		return HOOK_TIMEOUT;
	return WIFEXITED(res->status) && WEXITSTATUS(res->status) == 0 ? HOOK_OK : HOOK_FAILED;
}

static void start_next(struct hookq *q);

static void
on_done(const struct child_result *res, void *arg)
{
	struct hookq *q = arg;
	struct hook_job *j = pop(q);
	struct hook_run *r;
	char what[HOOK_LINE_MAX + 16];

	q->running = NULL;
	r = record_begin(q, j);
	r->duration_ns = res->duration_ns;
	child_describe(res, r->status, sizeof(r->status));
	if (!res->timed_out && WIFEXITED(res->status))
		snprintf(what, sizeof(what), "exited %d after", WEXITSTATUS(res->status));
	else if (!res->timed_out)
		snprintf(what, sizeof(what), "%s after", r->status);
	else
		snprintf(what, sizeof(what), "%s, ran", r->status);
	log_info("%s hook %s (%s) %s %llu ms", q->tag, r->hook, r->transition, what,
	         (unsigned long long)(res->duration_ns / NS_PER_MS));
	record_output(q, r, res->output);
	record_end(q, j->hook, r, child_result_of(res));
	job_free(j);
	start_next(q);
}

/* The promotion at the head of the queue ended: record it, go on. */
static void
promote_record(struct hookq *q, const char *status, enum hook_result res, uint64_t duration_ns)
{
	bool ok = res == HOOK_OK;
	struct hook_job *j = pop(q);
	struct hook_run *r = record_begin(q, j);

	r->duration_ns = duration_ns;
	snprintf(r->status, sizeof(r->status), "%s", status);
	if (ok)
		log_info("%s hook promote_pgsql (%s) %s, %llu ms", q->tag, r->transition, status,
		         (unsigned long long)(duration_ns / NS_PER_MS));
	else
		log_warnx("%s hook promote_pgsql (%s) %s, %llu ms", q->tag, r->transition, status,
		          (unsigned long long)(duration_ns / NS_PER_MS));
	record_end(q, HOOK_PROMOTE, r, res);
	job_free(j);
}

static void
on_promoted(const struct promote_result *res, void *arg)
{
	struct hookq *q = arg;

	q->promoting = NULL;
	promote_record(q, res->status, res->ok ? HOOK_OK : HOOK_FAILED, res->duration_ns);
	start_next(q);
}

/* Start the promotion at the head of the queue, or record why it could not start. */
static void
start_promote(struct hookq *q)
{
	char status[HOOK_LINE_MAX];

	log_debug("%s hook promote_pgsql (%s) starting: %s", q->tag, q->head->transition,
	          q->promote_shown);
	q->promoting = promote_start(q->loop, q->head->promote, q->head->timeout_ms, q->tag,
	                             on_promoted, q, status, sizeof(status));
	if (!q->promoting)
		promote_record(q, status, HOOK_FAILED, 0);
}

static void
start_next(struct hookq *q)
{
	while (!q->running && !q->promoting && q->head) {
		struct hook_job *j = q->head;
		struct child_opts o = {
		    .argv = j->argv,
		    .env = j->env,
		    .user = j->user[0] ? j->user : NULL,
		    .timeout_ns = (uint64_t)j->timeout_ms * NS_PER_MS,
		    .keep_lines = HOOK_OUT_LINES,
		};

		q->seq = ++hook_seq;
		q->started_real_ns = ev_real_now_ns();
		publish_start(j);
		if (j->hook == HOOK_PROMOTE) {
			start_promote(q);
			continue;
		}
		log_debug("%s hook %s (%s) starting: %s", q->tag, conf_hook_names[j->hook],
		          j->transition, j->command);
		q->running = child_spawn(q->loop, &o, on_done, q);
		if (q->running)
			return;

		/* Could not start: record it, go on with the next. */
		int err = errno;
		struct hook_run *r = record_begin(q, j);

		snprintf(r->status, sizeof(r->status), "spawn failed: %s", strerror(err));
		log_warnx("%s hook %s (%s) could not be started: %s", q->tag, r->hook,
		          r->transition, strerror(err));
		record_end(q, j->hook, r, HOOK_FAILED);
		job_free(pop(q));
	}
}

/* A job for hook h, or NULL (logged: a command that does not split). */
static struct hook_job *
job_new(struct hookq *q, int h, const struct hook_event *e)
{
	struct hook_job *j = xcalloc(1, sizeof(*j));
	char prio[16], vrid[16];
	const char *why;
	size_t n = 0;

	j->hook = h;
	snprintf(j->transition, sizeof(j->transition), "%s->%s", hook_state_name(e->from, false),
	         hook_state_name(e->to, true));
	snprintf(j->reason, sizeof(j->reason), "%s", e->reason ? e->reason : "");
	snprintf(prio, sizeof(prio), "%u", e->priority);
	snprintf(vrid, sizeof(vrid), "%u", e->vrid);
	memcpy(j->instance, q->instance, sizeof(j->instance));
	memcpy(j->command, h == HOOK_PROMOTE ? q->promote_shown : q->cmd[h], sizeof(j->command));
	memcpy(j->user, q->user, sizeof(j->user));
	j->timeout_ms = h == HOOK_PROMOTE ? q->promote_timeout_ms : q->timeout_ms;
	if (h == HOOK_PROMOTE) {
		memcpy(j->promote, q->promote, sizeof(j->promote));
		return j;
	}

	if (q->shell) {
		const char *tail = h == CONF_HOOK_NOTIFY ? " \"$@\"" : "";

		j->argv[n++] = xstrdup("/bin/sh");
		j->argv[n++] = xstrdup("-c");
		j->argv[n++] = xasprintf("%s%s", q->cmd[h], tail);
		if (h == CONF_HOOK_NOTIFY)
			j->argv[n++] = xstrdup("vipd-notify");
	} else {
		char *words[CONF_MAX_ARGS + 1];

		if (argv_split(q->cmd[h], words, &why) < 0) {
			log_warnx("%s hook %s: %s", q->tag, conf_hook_names[h], why);
			job_free(j);
			return NULL;
		}
		for (size_t i = 0; words[i]; i++)
			j->argv[n++] = words[i];
	}
	if (h == CONF_HOOK_NOTIFY) {
		const char *extra[] = {q->group ? "GROUP" : "INSTANCE", q->instance,
		                       hook_state_name(e->to, true), prio};

		for (size_t i = 0; i < 4; i++)
			j->argv[n++] = xstrdup(extra[i]);
	}
	j->argv[n] = NULL;

	const char *envs[][2] = {
	    {q->group ? "VIPD_GROUP" : "VIPD_INSTANCE", q->instance},
	    {"VIPD_STATE", hook_state_name(e->to, true)},
	    {"VIPD_PREV_STATE", hook_state_name(e->from, false)},
	    {"VIPD_PRIORITY", prio},
	    {"VIPD_VRID", vrid},
	    {"VIPD_INTERFACE", e->ifname},
	    {"VIPD_VIPS", e->vips},
	    {"VIPD_REASON", e->reason},
	};
	_Static_assert(sizeof(envs) / sizeof(envs[0]) < HOOK_ENV_MAX, "env room");
	for (size_t i = 0; i < sizeof(envs) / sizeof(envs[0]); i++)
		j->env[i] = xasprintf("%s=%s", envs[i][0], envs[i][1] ? envs[i][1] : "");
	return j;
}

size_t
hookq_push(struct hookq *q, const struct hook_event *e)
{
	int order[3] = {-1, -1, CONF_HOOK_NOTIFY};
	size_t added = 0;

	switch (e->to) {
	case ST_MASTER:
		order[0] = q->promote[0] ? HOOK_PROMOTE : -1;
		order[1] = CONF_HOOK_MASTER;
		break;
	case ST_BACKUP:
		order[1] = CONF_HOOK_BACKUP;
		break;
	case ST_FAULT:
		order[1] = CONF_HOOK_FAULT;
		break;
	case ST_INIT:
		order[1] = CONF_HOOK_STOP;
		break;
	default:
		break;
	}
	for (int i = 0; i < 3; i++) {
		struct hook_job *j;

		if (order[i] < 0 || (order[i] != HOOK_PROMOTE && !q->cmd[order[i]][0]))
			continue;
		if (!(j = job_new(q, order[i], e)))
			continue;
		if (q->tail)
			q->tail->next = j;
		else
			q->head = j;
		q->tail = j;
		added++;
	}
	start_next(q);
	return added;
}

void
hookq_abort(struct hookq *q)
{
	if (!q)
		return;
	if (q->running) {
		struct hook_job *j = pop(q);
		struct hook_run *r = record_begin(q, j);

		child_kill(q->running);
		q->running = NULL;
		r->duration_ns = 0;
		snprintf(r->status, sizeof(r->status), "killed by SIGKILL (shutdown)");
		log_warnx("%s hook %s (%s) still running at shutdown; killed", q->tag, r->hook,
		          r->transition);
		record_end(q, j->hook, r, HOOK_ABORTED);
		job_free(j);
	}
	if (q->promoting) {
		promote_cancel(q->promoting);
		q->promoting = NULL;
		promote_record(q, "cancelled (shutdown)", HOOK_ABORTED, 0);
	}
	for (struct hook_job *j; (j = pop(q));) {
		log_warnx("%s hook %s (%s) not run: shutting down", q->tag, job_name(j->hook),
		          j->transition);
		job_free(j);
	}
}

/* ---- output ---- */

static int
cmp_run(const void *a, const void *b)
{
	const struct hook_run *x = *(const struct hook_run *const *)a;
	const struct hook_run *y = *(const struct hook_run *const *)b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* All runs sorted by start; caller frees. */
static const struct hook_run **
all_runs(struct hookq *const *qs, size_t n, size_t *count)
{
	const struct hook_run **v = xcalloc(n * HOOK_RING + 1, sizeof(*v));
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		if (qs[i])
			k += hookq_runs(qs[i], v + k);
	qsort(v, k, sizeof(*v), cmp_run);
	*count = k;
	return v;
}

void
hook_runs_json(struct hookq *const *qs, size_t n, struct buf *b)
{
	size_t k;
	const struct hook_run **v = all_runs(qs, n, &k);
	char ts[80];
	struct json j;

	json_init(&j, b);
	json_obj_begin(&j);
	json_key(&j, "hooks");
	json_arr_begin(&j);
	for (size_t i = 0; i < k; i++) {
		const struct hook_run *r = v[i];

		ev_iso_time(r->started_real_ns, ts, sizeof(ts));
		json_obj_begin(&j);
		json_key_str(&j, "instance", r->instance);
		json_key_str(&j, "hook", r->hook);
		json_key_str(&j, "command", r->command);
		json_key_str(&j, "transition", r->transition);
		json_key_str(&j, "reason", r->reason);
		json_key_str(&j, "started", ts);
		json_key_uint(&j, "duration_ms", r->duration_ns / NS_PER_MS);
		json_key_str(&j, "status", r->status);
		json_key(&j, "output");
		json_arr_begin(&j);
		for (size_t l = 0; l < r->noutput; l++)
			json_val_str(&j, r->output[l]);
		json_arr_end(&j);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_obj_end(&j);
	buf_puts(b, "\n");
	free(v);
}

void
hook_runs_text(struct hookq *const *qs, size_t n, struct buf *b)
{
	size_t k;
	const struct hook_run **v = all_runs(qs, n, &k);
	char ts[80];

	if (k == 0) {
		buf_puts(b, "no hook runs\n");
		free(v);
		return;
	}
	buf_printf(b, "%-24s %-12s %-14s %-17s %8s  %s\n", "STARTED", "INSTANCE", "HOOK",
	           "TRANSITION", "MS", "STATUS");
	for (size_t i = 0; i < k; i++) {
		const struct hook_run *r = v[i];

		ev_iso_time(r->started_real_ns, ts, sizeof(ts));
		buf_printf(b, "%-24s %-12s %-14s %-17s %8llu  %s  (%s)\n", ts, r->instance, r->hook,
		           r->transition, (unsigned long long)(r->duration_ns / NS_PER_MS),
		           r->status, r->reason);
		buf_printf(b, "    %s\n", r->command);
		for (size_t l = 0; l < r->noutput; l++)
			buf_printf(b, "    | %s\n", r->output[l]);
	}
	free(v);
}
