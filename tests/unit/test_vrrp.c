/*
 * test_vrrp.c - one instance (vrrp.c) driven through vrrp_event() on a
 * simulated clock, with fake edges (vrrp_io.h): a socket that records
 * the adverts sent and lets the test inject received ones, an interface
 * and address table in memory, and a counter of announcements per VIP.
 * Adverts, timers, checks, faults, links and reloads, and the defects a
 * review found in this file, each pinned by a case.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks/check.h"
#include "vipd/conf.h"
#include "vipd/event.h"
#include "vipd/loop.h"
#include "vipd/pace.h"
#include "vipd/pkt.h"
#include "vipd/vport.h"
#include "vipd/vrrp_io.h"
#include "vipd/vrrp_priv.h"
#include "tests/unit/fakeio.h"

static void
on_event(const char *line, size_t len, void *arg)
{
	(void)arg;
	if (!strstr(line, "\"type\":\"transition\""))
		return;
	w.announced_at_transition = w.announced_total;
	snprintf(w.last_transition, sizeof(w.last_transition), "%.*s", (int)len, line);
}

/* ---- a check the test sets up or down ---- */

static int
fc_open(struct check *c)
{
	(void)c;
	return 0;
}

static void
fc_run(struct check *c)
{
	(void)c;
}

static void
fc_nop(struct check *c)
{
	(void)c;
}

static const struct check_ops fc_ops = {
    .open = fc_open, .run = fc_run, .abort = fc_nop, .close = fc_nop};

/* ---- fixture ---- */

struct fx {
	struct loop *l;
	struct conf *c;
	struct check *checks[4];
	size_t nchecks;
	struct vrrp *v;
	struct ev_sink *sink;
};

/* An instance from `body` (the [instance] section), started. */
static struct fx *
fx_new(const char *body)
{
	struct fx *f = calloc(1, sizeof(*f));
	char text[2048];

	assert_non_null(f);
	world_reset();
	vrrp_io_set(&fake_io);
	f->l = loop_new();
	assert_non_null(f->l);
	assert_int_equal(pace_open(f->l), 0);
	snprintf(text, sizeof(text),
	         "[check pg]\ntype = script\ncommand = /bin/true\n"
	         "[check lb]\ntype = script\ncommand = /bin/true\n"
	         "[instance VI_1]\ninterface = eth0\nvrid = 51\n%s",
	         body);
	f->c = conf_load_string("t.conf", text, stderr);
	assert_non_null(f->c);
	for (size_t i = 0; i < f->c->nchecks; i++) {
		f->checks[i] = check_new_with_ops(f->l, &f->c->checks[i], &fc_ops);
		assert_non_null(f->checks[i]);
		check_seed(f->checks[i], CHK_UP, 0);
	}
	f->nchecks = f->c->nchecks;
	f->sink = ev_subscribe(on_event, NULL);
	f->v = vrrp_new(f->l, &f->c->instances[0], f->checks, f->nchecks);
	assert_non_null(f->v);
	assert_int_equal(vrrp_start(f->v), 0);
	return f;
}

static void
fx_free(struct fx *f)
{
	vrrp_stop(f->v);
	vrrp_free(f->v);
	for (size_t i = 0; i < f->nchecks; i++)
		check_free(f->checks[i]);
	conf_free(f->c);
	ev_unsubscribe(f->sink);
	pace_close();
	loop_free(f->l);
	vrrp_io_set(NULL);
	free(f);
}

/* Advance the clock to the state machine's next deadline and fire the timer. */
static void
fire(struct fx *f)
{
	uint64_t next = fsm_next_deadline(&f->v->fsm);

	assert_true(next > 0);
	if (next > w.now)
		w.now = next;
	vrrp_event(f->v, &(struct vrrp_ev){.type = VE_TIMER});
}

/* Receive an advert from src with prio, listing `vips`. */
static void
hear(const char *src, uint8_t prio, const char *vips)
{
	uint8_t pkt[VRRP_PKT_MAX];
	struct vip list[8];
	size_t n = 0;
	char buf[128], *save = NULL;
	union inaddr s = ip(src), d = ip("224.0.0.18");

	snprintf(buf, sizeof(buf), "%s", vips);
	for (char *t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save))
		list[n++] = vip4(t);
	ssize_t len = pkt_encode(pkt, sizeof(pkt),
	                         &(struct pkt_msg){.family = AF_INET,
	                                           .vrid = 51,
	                                           .priority = prio,
	                                           .max_adver_int_cs = 100,
	                                           .vips = list,
	                                           .nvips = n,
	                                           .src = &s,
	                                           .dst = &d,
	                                           .cksum = CKSUM_RFC9568});
	assert_true(len > 0);
	struct vsock_rx rx = {.family = AF_INET,
	                      .ifindex = IFINDEX,
	                      .ttl = 255,
	                      .src = s,
	                      .dst = d,
	                      .payload = pkt,
	                      .len = (size_t)len};
	w.ops->rx(w.arg, &rx, DROP_MAX);
}

/* A VRRPv2 advert from src: prio, Adver Int in s, password (NULL = Auth Type 0). */
static void
hear_v2(const char *src, uint8_t prio, unsigned secs, const char *pass)
{
	uint8_t pkt[64];
	struct vip v = vip4("192.0.2.10");
	struct pkt_auth a = {.type = AUTH_PASS};
	union inaddr s = ip(src), d = ip("224.0.0.18");

	if (pass)
		memcpy(a.data, pass, strlen(pass));
	ssize_t len = pkt_encode(pkt, sizeof(pkt),
	                         &(struct pkt_msg){.family = AF_INET,
	                                           .vrid = 51,
	                                           .priority = prio,
	                                           .max_adver_int_cs = (uint16_t)(secs * 100),
	                                           .vips = &v,
	                                           .nvips = 1,
	                                           .version = VRRP_VERSION2,
	                                           .auth = pass ? &a : NULL});
	assert_true(len > 0);
	struct vsock_rx rx = {.family = AF_INET,
	                      .ifindex = IFINDEX,
	                      .ttl = 255,
	                      .src = s,
	                      .dst = d,
	                      .payload = pkt,
	                      .len = (size_t)len};
	w.ops->rx(w.arg, &rx, DROP_MAX);
}

static struct fx *
fx_master(const char *body)
{
	struct fx *f = fx_new(body);

	assert_int_equal(f->v->fsm.state, ST_BACKUP);
	fire(f);
	assert_int_equal(f->v->fsm.state, ST_MASTER);
	return f;
}

#define BASIC "priority = 100\nadvert_interval = 1s\nvirtual_ip = 192.0.2.10\n"

/* ---- cases ---- */

#define V2 "version = 2\nauth_pass = pw\n"

/* version = 2: v2 adverts with the password out; wrong ones dropped by reason (RFC 3768 §7.1). */
static void
test_v2_send_and_receive(void **state)
{
	struct fx *f = fx_new(BASIC V2);

	(void)state;
	/* Another password, no auth, another interval, a VRRPv3 advert: dropped and counted. */
	hear_v2("192.0.2.9", 150, 1, "other");
	hear_v2("192.0.2.9", 150, 1, NULL);
	hear_v2("192.0.2.9", 150, 2, "pw");
	hear("192.0.2.9", 150, "192.0.2.10");
	assert_int_equal(f->v->dropped[DROP_AUTH], 2);
	assert_int_equal(f->v->dropped[DROP_INTERVAL], 1);
	assert_int_equal(f->v->dropped[DROP_VERSION], 1);
	assert_int_equal(f->v->adverts_received, 0);
	assert_false(f->v->fsm.have_master);
	/* The right one is the Master's. */
	hear_v2("192.0.2.9", 150, 1, "pw");
	assert_int_equal(f->v->adverts_received, 1);
	assert_true(f->v->fsm.have_master);
	/* v2 timers: 3 s + (256 - 100) / 256 s after that advert. */
	assert_int_equal(f->v->fsm.master_down_timer_ns, w.now + 3000 * MS + 609375000ULL);
	/* As Master: version 2, Auth Type 1, 1 s, the password zero-padded. */
	fire(f);
	assert_int_equal(f->v->fsm.state, ST_MASTER);
	assert_int_equal(w.last_len, 20);
	assert_int_equal(w.last_pkt[0], 0x21);
	assert_int_equal(w.last_pkt[4], AUTH_PASS);
	assert_int_equal(w.last_pkt[5], 1);
	assert_memory_equal(w.last_pkt + 12, "pw\0\0\0\0\0\0", 8);
	fx_free(f);
}

/* Startup, Master_Down_Interval, Master: VIPs, advert, announcements, in that order. */
static void
test_backup_to_master(void **state)
{
	struct fx *f = fx_new(BASIC "garp_repeat = 3\n");

	(void)state;
	assert_int_equal(f->v->fsm.state, ST_BACKUP);
	assert_int_equal(w.sent, 0);
	assert_false(has_vip("192.0.2.10"));
	fire(f);
	assert_int_equal(w.now, T0 + fsm_master_down_ns(100, 100));
	assert_int_equal(f->v->fsm.state, ST_MASTER);
	assert_true(has_vip("192.0.2.10"));
	assert_int_equal(w.sent, 1);
	assert_int_equal(w.last_prio, 100);
	assert_true(f->v->fsm.have_master);
	/* The first announcement went out before the transition event (and the hooks). */
	assert_true(w.announced_at_transition >= 1);
	assert_non_null(strstr(w.last_transition, "\"to\":\"MASTER\""));
	/* Adverts every interval while Master. */
	fire(f);
	assert_int_equal(w.sent, 2);
	fx_free(f);
}

/*
 * use_vmac: a Master's adverts leave from the link (its virtual MAC),
 * from the interface when the link cannot send; the link is let go at stop.
 */
static void
test_vmac_adverts_from_the_link(void **state)
{
	struct fx *f = fx_master(BASIC "use_vmac = yes\n");

	(void)state;
	assert_int_equal(w.hear_ifindex, f->v->vmac.ifindex);
	assert_true(w.xmit_sent >= 1);
	unsigned sent = w.sent, xs = w.xmit_sent;
	fire(f);
	assert_int_equal(w.xmit_sent, xs + 1);
	assert_int_equal(w.sent, sent + 1);
	w.xmit_fails = true;
	fire(f);
	assert_int_equal(w.xmit_sent, xs + 1);
	assert_int_equal(w.sent, sent + 2); /* from the interface */
	w.xmit_fails = false;
	vrrp_stop(f->v);
	assert_int_equal(w.hear_ifindex, 0);
	fx_free(f);
}

/* A higher-priority advert: a Master yields, removes its VIPs, names the winner. */
static void
test_master_yields(void **state)
{
	struct fx *f = fx_master(BASIC);
	union inaddr win = ip("192.0.2.9");

	(void)state;
	hear("192.0.2.9", 150, "192.0.2.10");
	assert_int_equal(f->v->fsm.state, ST_BACKUP);
	assert_false(has_vip("192.0.2.10"));
	assert_true(f->v->fsm.have_master);
	assert_memory_equal(&f->v->fsm.master_ip, &win, 4);
	assert_int_equal(f->v->adverts_received, 1);
	fx_free(f);
}

/*
 * An advert from our own source address was not sent by us (multicast
 * loop is off): another router uses it. Dropped, and counted as own_addr.
 */
static void
test_own_address_counted(void **state)
{
	struct fx *f = fx_master(BASIC);

	(void)state;
	hear("192.0.2.2", 200, "192.0.2.10");
	hear("192.0.2.2", 200, "192.0.2.10");
	assert_int_equal(f->v->fsm.state, ST_MASTER);
	assert_int_equal(f->v->dropped[DROP_OWN_ADDR], 2);
	assert_int_equal(f->v->adverts_received, 0);
	fx_free(f);
}

/* master_ip: only adverts the state machine accepted name the Master. */
static void
test_master_ip_from_accepted_adverts(void **state)
{
	struct fx *f = fx_new(BASIC "preempt_fast = no\n");
	union inaddr m = ip("192.0.2.9");

	(void)state;
	hear("192.0.2.9", 150, "192.0.2.10");
	assert_memory_equal(&f->v->fsm.master_ip, &m, 4);
	/* Lower than us with preemption: discarded (we will take over), not the Master. */
	w.now += 10 * MS;
	hear("192.0.2.8", 50, "192.0.2.10");
	assert_memory_equal(&f->v->fsm.master_ip, &m, 4);
	/* The Master leaves: nobody. */
	hear("192.0.2.9", 0, "192.0.2.10");
	assert_false(f->v->fsm.have_master);
	fx_free(f);
}

/* The address owner answers a priority-0 advert at once (it used to drop it unseen). */
static void
test_owner_answers_priority_zero(void **state)
{
	struct fx *f = fx_new("priority = 255\nadvert_interval = 1s\nvirtual_ip = 192.0.2.10\n");
	unsigned sent;

	(void)state;
	assert_int_equal(f->v->fsm.state, ST_MASTER);
	sent = w.sent;
	w.now += 100 * MS;
	hear("192.0.2.9", 0, "192.0.2.10");
	assert_int_equal(w.sent, sent + 1);
	assert_int_equal(w.last_prio, 255);
	hear("192.0.2.9", 254, "192.0.2.10");
	assert_int_equal(f->v->fsm.state, ST_MASTER);
	assert_int_equal(f->v->adverts_received, 2);
	fx_free(f);
}

/* One VIP deleted by someone else: re-added, and only it is announced. */
static void
test_guard_announces_only_the_readded_vip(void **state)
{
	struct fx *f =
	    fx_master(BASIC "virtual_ip = 192.0.2.11\nvirtual_ip = 192.0.2.12\n"
	                    "virtual_ip = 192.0.2.13\ngarp_repeat = 2\ngarp_delay = 0\n");
	struct vip gone = vip4("192.0.2.12");

	(void)state;
	memset(w.announced, 0, sizeof(w.announced));
	w.announced_total = 0;
	assert_int_equal(fake_addr_del(IFINDEX, &gone), 0);
	w.ops->vip_gone(w.arg, &gone.addr);
	assert_true(has_vip("192.0.2.12"));
	assert_true(w.announced[12] >= 1);
	assert_int_equal(w.announced[10] + w.announced[11] + w.announced[13], 0);
	assert_int_equal(w.announced_total, w.announced[12]);
	fx_free(f);
}

/* Renamed away while Master: FAULT, and the VIPs leave the renamed link. */
static void
test_rename_away_removes_vips(void **state)
{
	struct fx *f = fx_master(BASIC);
	struct iface renamed = w.ifc;

	(void)state;
	assert_true(has_vip("192.0.2.10"));
	strcpy(renamed.name, "old0");
	w.ifc = renamed;
	vrrp_link_event(f->v, &renamed);
	assert_int_equal(f->v->fsm.state, ST_FAULT);
	assert_false(has_vip("192.0.2.10"));
	assert_int_equal(w.last_prio, 0); /* said goodbye first */
	fx_free(f);
}

/* Deleted while Master: FAULT; the link took the VIPs along, nothing to delete. */
static void
test_link_deleted(void **state)
{
	struct fx *f = fx_master(BASIC);
	struct iface gone = w.ifc;
	unsigned dels = w.dels;

	(void)state;
	gone.present = false;
	w.ifc = gone;
	w.naddrs = 0; /* the kernel dropped them */
	vrrp_link_event(f->v, &gone);
	assert_int_equal(f->v->fsm.state, ST_FAULT);
	assert_string_equal(f->v->fault_why, "interface missing");
	assert_non_null(strstr(w.last_transition, "\"reason\":\"interface_missing\""));
	assert_int_equal(w.dels, dels);
	/* It comes back: Backup again. */
	w.ifc.present = true;
	vrrp_link_event(f->v, &w.ifc);
	assert_int_equal(f->v->fsm.state, ST_BACKUP);
	fx_free(f);
}

/* Carrier loss and return. */
static void
test_link_down_up(void **state)
{
	struct fx *f = fx_master(BASIC);

	(void)state;
	w.ifc.running = false;
	vrrp_link_event(f->v, &w.ifc);
	assert_int_equal(f->v->fsm.state, ST_FAULT);
	assert_string_equal(f->v->fault_why, "interface down");
	assert_non_null(strstr(w.last_transition, "\"reason\":\"interface_down\""));
	assert_false(has_vip("192.0.2.10"));
	w.ifc.running = true;
	vrrp_link_event(f->v, &w.ifc);
	assert_int_equal(f->v->fsm.state, ST_BACKUP);
	assert_string_equal(f->v->fault_why, "");
	fx_free(f);
}

/* A weighted check moves the priority (a Master advertises it at once); weight 0 faults. */
static void
test_checks(void **state)
{
	struct fx *f = fx_master(BASIC "track = pg weight -30\ntrack = lb\n");
	unsigned sent;

	(void)state;
	assert_int_equal(f->v->fsm.priority, 100);
	sent = w.sent;
	check_event(f->checks[0], false, "down");
	assert_int_equal(f->v->fsm.priority, 70);
	assert_int_equal(w.sent, sent + 1);
	assert_int_equal(w.last_prio, 70);
	assert_int_equal(f->v->fsm.state, ST_MASTER);
	check_event(f->checks[1], false, "down");
	assert_int_equal(f->v->fsm.state, ST_FAULT);
	assert_string_equal(f->v->fault_why, "check:lb");
	assert_non_null(strstr(w.last_transition, "\"reason\":\"check:lb\""));
	assert_int_equal(w.last_prio, 0);
	check_event(f->checks[1], true, "up");
	assert_int_equal(f->v->fsm.state, ST_BACKUP);
	check_event(f->checks[0], true, "up");
	assert_int_equal(f->v->fsm.priority, 100);
	fx_free(f);
}

/* A check down at start: the instance starts with its priority, or in FAULT. */
static void
test_startup_with_checks_down(void **state)
{
	struct fx *f;

	(void)state;
	f = fx_new(BASIC "track = lb\n");
	check_event(f->checks[1], false, "down");
	assert_int_equal(f->v->fsm.state, ST_FAULT);
	fx_free(f);
}

/* A reload keeps the state and applies the new priority through the state machine. */
static void
test_reload(void **state)
{
	struct fx *f = fx_master(BASIC);
	struct conf *nc = conf_load_string("t.conf",
	                                   "[instance VI_1]\ninterface = eth0\nvrid = 51\n"
	                                   "priority = 120\nadvert_interval = 1s\n"
	                                   "virtual_ip = 192.0.2.10\nvirtual_ip = 192.0.2.11\n",
	                                   stderr);
	unsigned sent = w.sent;

	(void)state;
	assert_non_null(nc);
	assert_int_equal(vrrp_reconfigure(f->v, &nc->instances[0], 0, NULL, 0), 0);
	assert_int_equal(f->v->fsm.state, ST_MASTER);
	assert_int_equal(f->v->fsm.priority, 120);
	assert_true(w.sent > sent);
	assert_int_equal(w.last_prio, 120);
	assert_true(has_vip("192.0.2.11"));
	fx_free(f);
	conf_free(nc);
}

/* A Master whose timer fires late counts it (vipctl status adverts_late). */
static void
test_late_advert_counted(void **state)
{
	struct fx *f = fx_master(BASIC);

	(void)state;
	uint64_t last;

	fire(f);
	assert_int_equal(f->v->adverts_late, 0);
	last = f->v->last_advert_ns;
	w.now = fsm_next_deadline(&f->v->fsm) + 50 * MS;
	fire(f);
	assert_int_equal(f->v->adverts_late, 1);
	assert_int_equal(f->v->advert_late_max_ns, w.now - last - 1000 * MS);
	fx_free(f);
}

/* Drain: hand over as a stop does, stay in FAULT "drained" until undrained. */
static void
test_drain(void **state)
{
	struct fx *f = fx_master(BASIC);
	union inaddr who, peer = ip("192.0.2.9");
	uint64_t t_drain;

	(void)state;
	t_drain = w.now;
	vrrp_set_drained(f->v, true);
	assert_true(vrrp_drained(f->v));
	assert_int_equal(w.last_prio, 0);
	assert_false(has_vip("192.0.2.10"));
	assert_int_equal(f->v->fsm.state, ST_FAULT);
	assert_string_equal(f->v->fault_why, "drained");
	assert_non_null(strstr(w.last_transition, "\"reason\":\"drained\""));
	/* Nobody took over yet: the VIPs are down. */
	assert_false(vrrp_peer_master(f->v, t_drain, NULL));
	/* The best Backup takes over; heard although FAULT does not listen. */
	w.now += 700 * MS;
	hear("192.0.2.9", 90, "192.0.2.10");
	assert_true(vrrp_peer_master(f->v, t_drain, &who));
	assert_memory_equal(&who, &peer, 4);
	assert_int_equal(f->v->fsm.state, ST_FAULT);
	/* ...until it is silent for Master_Down_Interval. */
	w.now += fsm_master_down_ns(100, 100) + MS;
	assert_false(vrrp_peer_master(f->v, t_drain, NULL));
	/* Nothing else clears it: a fault coming and going leaves it drained. */
	w.ifc.running = false;
	vrrp_link_event(f->v, &w.ifc);
	w.ifc.running = true;
	vrrp_link_event(f->v, &w.ifc);
	assert_int_equal(f->v->fsm.state, ST_FAULT);
	assert_string_equal(f->v->fault_why, "drained");
	vrrp_set_drained(f->v, false);
	assert_int_equal(f->v->fsm.state, ST_BACKUP);
	fx_free(f);
}

/* Drained before the start (the state file): it starts in FAULT, never Master. */
static void
test_drained_at_start(void **state)
{
	struct fx *f;

	(void)state;
	world_reset();
	vrrp_io_set(&fake_io);
	f = calloc(1, sizeof(*f));
	f->l = loop_new();
	assert_int_equal(pace_open(f->l), 0);
	f->c = conf_load_string("t.conf", "[instance VI_1]\ninterface = eth0\nvrid = 51\n" BASIC,
	                        stderr);
	f->sink = ev_subscribe(on_event, NULL);
	f->v = vrrp_new(f->l, &f->c->instances[0], NULL, 0);
	vrrp_set_drained(f->v, true);
	assert_int_equal(vrrp_start(f->v), 0);
	assert_int_equal(f->v->fsm.state, ST_FAULT);
	assert_int_equal(fsm_next_deadline(&f->v->fsm), 0);
	assert_int_equal(w.sent, 0);
	fx_free(f);
}

/* Failed announcements are counted (and logged once a minute, not each). */
static void
test_announce_errors_counted(void **state)
{
	struct fx *f = fx_new(BASIC "garp_repeat = 3\ngarp_delay = 0\n");

	(void)state;
	w.announce_fails = true;
	fire(f);
	assert_int_equal(f->v->fsm.state, ST_MASTER);
	assert_true(f->v->announce_errors >= 1);
	assert_int_equal(f->v->announced, 0);
	fx_free(f);
}

/* The retry timer's wait, elapsed. */
static void
fire_vip_retry(struct fx *f)
{
	uint64_t at = timer_deadline(f->v->vip_retry_timer);

	assert_true(at > 0);
	w.now = at;
	timer_disarm(f->v->vip_retry_timer);
	vrrp_vip_retry_fired(f->l, f->v->vip_retry_timer, f->v);
}

/*
 * The kernel refuses the VIP when the instance becomes Master: no advert
 * at its priority, no announcement, no MASTER transition or hook; FAULT
 * with a priority-0 advert, and tries again after 1 s, 2 s... until the
 * address goes in.
 */
static void
test_vip_add_refused_is_fault(void **state)
{
	struct fx *f = fx_new(BASIC "garp_repeat = 3\n");

	(void)state;
	w.add_fails = true;
	fire(f);
	assert_int_equal(f->v->fsm.state, ST_FAULT);
	assert_false(has_vip("192.0.2.10"));
	assert_int_equal(w.sent, 1);
	assert_int_equal(w.last_prio, 0);
	assert_int_equal(w.announced_total, 0);
	assert_non_null(strstr(w.last_transition, "\"from\":\"BACKUP\",\"to\":\"FAULT\""));
	assert_non_null(strstr(w.last_transition, "vip_add_failed"));
	assert_non_null(strstr(f->v->fault_why, "cannot add 192.0.2.10"));
	assert_int_equal(f->v->vip_add_errors, 1);
	assert_int_equal(timer_deadline(f->v->vip_retry_timer), w.now + 1000 * MS);

	/* The wait is over: BACKUP, then Master again, refused again: 2 s now. */
	fire_vip_retry(f);
	assert_int_equal(f->v->fsm.state, ST_BACKUP);
	fire(f);
	assert_int_equal(f->v->fsm.state, ST_FAULT);
	assert_int_equal(f->v->vip_add_errors, 2);
	assert_int_equal(timer_deadline(f->v->vip_retry_timer), w.now + 2000 * MS);
	assert_int_equal(w.announced_total, 0);

	/* The kernel takes it now: Master with its VIP, announced, backoff reset. */
	w.add_fails = false;
	fire_vip_retry(f);
	fire(f);
	assert_int_equal(f->v->fsm.state, ST_MASTER);
	assert_true(has_vip("192.0.2.10"));
	assert_int_equal(w.last_prio, 100);
	assert_true(w.announced_total >= 1);
	assert_int_equal(f->v->vip_retry_ms, 0);
	assert_false(timer_armed(f->v->vip_retry_timer));
	fx_free(f);
}

/* A VIP deleted under a Master and refused when put back: FAULT, not a Master without it. */
static void
test_guard_readd_refused_is_fault(void **state)
{
	struct fx *f = fx_master(BASIC);
	struct vip gone = vip4("192.0.2.10");

	(void)state;
	w.add_fails = true;
	w.announced_total = 0;
	assert_int_equal(fake_addr_del(IFINDEX, &gone), 0);
	w.ops->vip_gone(w.arg, &gone.addr);
	assert_int_equal(f->v->fsm.state, ST_FAULT);
	assert_int_equal(w.last_prio, 0);
	assert_int_equal(w.announced_total, 0);
	assert_non_null(strstr(w.last_transition, "\"from\":\"MASTER\",\"to\":\"FAULT\""));
	assert_true(timer_armed(f->v->vip_retry_timer));
	fx_free(f);
}

/* An announcement is never made for an address the interface does not hold. */
static void
test_no_announce_without_the_address(void **state)
{
	struct fx *f = fx_master(BASIC "garp_repeat = 1\ngarp_delay = 0\ngarp_refresh = 1s\n");
	struct vip vip = vip4("192.0.2.10");

	(void)state;
	/* Gone behind our back, and the event not read yet: the refresh stays silent. */
	assert_int_equal(fake_addr_del(IFINDEX, &vip), 0);
	w.announced_total = 0;
	w.now += 1000 * MS;
	vrrp_garp_timer_fired(f->l, f->v->garp_timer, f->v);
	assert_int_equal(w.announced_total, 0);
	fx_free(f);
}

/* Shutdown: a Master sends priority 0 and removes its VIPs. */
static void
test_stop(void **state)
{
	struct fx *f = fx_master(BASIC);

	(void)state;
	vrrp_stop(f->v);
	assert_int_equal(w.last_prio, 0);
	assert_false(has_vip("192.0.2.10"));
	assert_int_equal(f->v->fsm.state, ST_INIT);
	fx_free(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_v2_send_and_receive),
	    cmocka_unit_test(test_backup_to_master),
	    cmocka_unit_test(test_vip_add_refused_is_fault),
	    cmocka_unit_test(test_guard_readd_refused_is_fault),
	    cmocka_unit_test(test_no_announce_without_the_address),
	    cmocka_unit_test(test_master_yields),
	    cmocka_unit_test(test_own_address_counted),
	    cmocka_unit_test(test_master_ip_from_accepted_adverts),
	    cmocka_unit_test(test_owner_answers_priority_zero),
	    cmocka_unit_test(test_guard_announces_only_the_readded_vip),
	    cmocka_unit_test(test_rename_away_removes_vips),
	    cmocka_unit_test(test_link_deleted),
	    cmocka_unit_test(test_link_down_up),
	    cmocka_unit_test(test_checks),
	    cmocka_unit_test(test_startup_with_checks_down),
	    cmocka_unit_test(test_reload),
	    cmocka_unit_test(test_late_advert_counted),
	    cmocka_unit_test(test_announce_errors_counted),
	    cmocka_unit_test(test_drain),
	    cmocka_unit_test(test_drained_at_start),
	    cmocka_unit_test(test_stop),
	    cmocka_unit_test(test_vmac_adverts_from_the_link),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
