/*
 * test_reload_apply.c - a reload applied to a running daemon
 * (reload_apply.c), its instances on the fake edges of fakeio.h: a
 * changed instance keeps its state and takes the new priority, a removed
 * one says goodbye and leaves, an added one starts, an untouched one is
 * not touched, a drained name stays drained when it comes back, and a
 * bad file changes nothing and says why with the file, line and key.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checks/check.h"
#include "vipd/buf.h"
#include "vipd/conf.h"
#include "vipd/daemon.h"
#include "vipd/loop.h"
#include "vipd/pace.h"
#include "vipd/reload_apply.h"
#include "vipd/vrrp.h"
#include "vipd/vrrp_priv.h"
#include "tests/unit/fakeio.h"

static char path[64];

#define INST(name, vrid, prio, vip)                                                                \
	"[instance " name "]\ninterface = eth0\nvrid = " vrid "\npriority = " prio                 \
	"\nadvert_interval = 1s\nvirtual_ip = " vip "\n"

static void
write_conf(const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fprintf(f, "[global]\npidfile = /tmp/unused.pid\nstate_dir = /tmp/unused-state\n%s", text);
	fclose(f);
}

static struct vrrp *
by_name(const struct vipd *d, const char *name)
{
	for (size_t i = 0; i < d->nvrrps; i++)
		if (strcmp(vrrp_name(d->vrrps[i]), name) == 0)
			return d->vrrps[i];
	return NULL;
}

/* A daemon of the file's instances, started on the fake edges; every one made Master. */
static void
daemon_up(struct vipd *d)
{
	memset(d, 0, sizeof(*d));
	d->sigfd = -1;
	d->loop = loop_new();
	assert_int_equal(pace_open(d->loop), 0);
	d->conf = conf_load(path, stderr);
	assert_non_null(d->conf);
	d->vrrps = calloc(d->conf->ninstances, sizeof(*d->vrrps));
	for (size_t i = 0; i < d->conf->ninstances; i++) {
		d->vrrps[i] = vrrp_new(d->loop, &d->conf->instances[i], NULL, 0);
		assert_non_null(d->vrrps[i]);
		assert_int_equal(vrrp_start(d->vrrps[i]), 0);
		d->nvrrps++;
	}
	w.now += 4000 * MS; /* past every Master_Down_Interval */
	for (size_t i = 0; i < d->nvrrps; i++) {
		vrrp_event(d->vrrps[i], &(struct vrrp_ev){.type = VE_TIMER});
		assert_int_equal(vrrp_state(d->vrrps[i]), ST_MASTER);
	}
}

static void
daemon_down(struct vipd *d)
{
	for (size_t i = 0; i < d->nvrrps; i++) {
		vrrp_stop(d->vrrps[i]);
		vrrp_free(d->vrrps[i]);
	}
	reload_reap_retired(d, true);
	free(d->vrrps);
	for (size_t i = 0; i < d->ngroups; i++)
		vgroup_free(d->groups[i]);
	free(d->groups);
	free(d->retiring);
	timer_free(d->retire_timer);
	for (size_t i = 0; i < d->nchecks; i++)
		check_free(d->checks[i]);
	free(d->checks);
	conf_free(d->conf);
	drain_clear(&d->drained);
	pace_close();
	loop_free(d->loop);
}

static int
setup(void **state)
{
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "/tmp/vipd-reload-XXXXXX");
	fd = mkstemp(path);
	if (fd < 0)
		return -1;
	close(fd);
	world_reset();
	vrrp_io_set(&fake_io);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	unlink(path);
	vrrp_io_set(NULL);
	return 0;
}

static void
test_changed_removed_added(void **state)
{
	struct vipd d;
	struct buf reply;
	struct vrrp *a, *b;
	unsigned sent;

	(void)state;
	write_conf(INST("A", "1", "100", "192.0.2.10") INST("B", "2", "100", "192.0.2.20")
	               INST("C", "3", "100", "192.0.2.30"));
	daemon_up(&d);
	a = by_name(&d, "A");
	b = by_name(&d, "B");
	assert_true(has_vip("192.0.2.10") && has_vip("192.0.2.20") && has_vip("192.0.2.30"));
	sent = w.sent;

	/* A: priority changed; B: as it was; C: removed; D: added. */
	write_conf(INST("A", "1", "120", "192.0.2.10") INST("B", "2", "100", "192.0.2.20")
	               INST("D", "4", "100", "192.0.2.40"));
	buf_init(&reply);
	assert_int_equal(reload_apply(&d, &reply), 0);
	assert_non_null(strstr(reply.data, "1 instance kept, 1 changed, 1 added, 1 removed"));
	buf_free(&reply);

	/* A is the same object, still Master, advertising its new priority at once. */
	assert_ptr_equal(by_name(&d, "A"), a);
	assert_int_equal(vrrp_state(a), ST_MASTER);
	assert_int_equal(a->fsm.priority, 120);
	assert_true(w.sent > sent);
	/* B untouched. */
	assert_ptr_equal(by_name(&d, "B"), b);
	assert_int_equal(vrrp_state(b), ST_MASTER);
	assert_true(has_vip("192.0.2.20"));
	/* C said goodbye (priority 0) and its VIP left. */
	assert_null(by_name(&d, "C"));
	assert_false(has_vip("192.0.2.30"));
	/* D started as at start-up: Backup, its VIP not yet added. */
	assert_non_null(by_name(&d, "D"));
	assert_int_equal(vrrp_state(by_name(&d, "D")), ST_BACKUP);
	assert_false(has_vip("192.0.2.40"));
	assert_int_equal(d.nvrrps, 3);
	daemon_down(&d);
}

static void
test_bad_file_changes_nothing(void **state)
{
	struct vipd d;
	struct buf reply;
	struct vrrp *a;

	(void)state;
	write_conf(INST("A", "1", "100", "192.0.2.10"));
	daemon_up(&d);
	a = by_name(&d, "A");
	write_conf(INST("A", "1", "300", "192.0.2.10") INST("E", "5", "100", "192.0.2.50"));
	buf_init(&reply);
	assert_int_equal(reload_apply(&d, &reply), -1);
	assert_non_null(strstr(reply.data, "error: "));
	assert_non_null(strstr(reply.data, ": priority: "));
	assert_non_null(strstr(reply.data, "the running configuration is kept"));
	buf_free(&reply);
	assert_int_equal(d.nvrrps, 1);
	assert_ptr_equal(by_name(&d, "A"), a);
	assert_int_equal(a->fsm.priority, 100);
	assert_int_equal(vrrp_state(a), ST_MASTER);
	assert_false(has_vip("192.0.2.50"));
	daemon_down(&d);
}

/* An instance drained by name that a reload adds (back) starts drained. */
static void
test_added_instance_drained(void **state)
{
	struct vipd d;
	struct buf reply;

	(void)state;
	write_conf(INST("A", "1", "100", "192.0.2.10"));
	daemon_up(&d);
	assert_int_equal(drain_add(&d.drained, "F"), 0);
	write_conf(INST("A", "1", "100", "192.0.2.10") INST("F", "6", "100", "192.0.2.60"));
	buf_init(&reply);
	assert_int_equal(reload_apply(&d, &reply), 0);
	buf_free(&reply);
	assert_true(vrrp_drained(by_name(&d, "F")));
	assert_int_equal(vrrp_state(by_name(&d, "F")), ST_FAULT);
	assert_false(vrrp_drained(by_name(&d, "A")));
	daemon_down(&d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_changed_removed_added, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_file_changes_nothing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_added_instance_drained, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
