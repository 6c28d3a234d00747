/*
 * test_fsm.c - the VRRPv3 state machine against a simulated clock: a
 * plain uint64_t in ns that the tests advance by hand.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>
#include <sys/socket.h>

#include "vipd/fsm.h"

#define MS    1000000ULL
#define SEC   1000000000ULL
#define T0    (1000 * SEC) /* simulated boot time; any non-zero value */
#define ENTER (FA_VIPS_ADD | FA_SEND_ADVERT | FA_ANNOUNCE | FA_STATE | FA_TIMERS)

static union inaddr
ip(const char *s)
{
	union inaddr a;
	int fam;

	assert_int_equal(addr_pton(s, &fam, &a), 0);
	return a;
}

static struct fsm_cfg
cfg(uint8_t prio, uint16_t int_cs, bool preempt, bool fast, uint64_t delay_ns)
{
	struct fsm_cfg c = {
	    .priority = prio,
	    .adver_int_cs = int_cs,
	    .preempt = preempt,
	    .preempt_fast = fast,
	    .preempt_delay_ns = delay_ns,
	};
	return c;
}

static struct fsm_adv
adv(uint8_t prio, uint16_t int_cs, const char *src)
{
	struct fsm_adv a = {.priority = prio, .max_adver_int_cs = int_cs, .src = ip(src)};
	return a;
}

/* Init an IPv4 instance with primary 10.0.0.2. */
static void
mk(struct fsm *f, struct fsm_cfg c)
{
	union inaddr p = ip("10.0.0.2");

	fsm_init(f, &c, AF_INET, &p);
	assert_int_equal(f->state, ST_INIT);
	assert_int_equal(fsm_next_deadline(f), 0);
}

static void
expect(const struct fsm_out *o, unsigned actions, enum vrrp_state from, enum vrrp_state to,
       enum fsm_reason reason)
{
	assert_int_equal(o->actions, actions);
	assert_int_equal(o->from, from);
	assert_int_equal(o->to, to);
	assert_int_equal(o->reason, reason);
}

/* Nothing happened: empty actions, from == to == current state. */
static void
expect_none(const struct fsm *f, const struct fsm_out *o)
{
	expect(o, 0, f->state, f->state, R_NONE);
}

static void
deliver(struct fsm *f, uint64_t now, struct fsm_adv a, struct fsm_out *o)
{
	fsm_advert(f, now, &a, o);
}

/* Startup into Backup at *now, then let the down timer make us Master. */
static void
to_master(struct fsm *f, uint64_t *now)
{
	struct fsm_out o;

	fsm_startup(f, *now, f->faulted, &o);
	expect(&o, FA_STATE | FA_TIMERS, ST_INIT, ST_BACKUP, R_STARTUP);
	*now = fsm_next_deadline(f);
	fsm_timer(f, *now, &o);
	expect(&o, ENTER, ST_BACKUP, ST_MASTER, R_MASTER_DOWN);
}

static void
test_skew_and_down_interval(void **state)
{
	(void)state;
	/* RFC 5798 §6.1 in ns: ((256 - prio) * interval) / 256, 3 * interval + skew. */
	assert_int_equal(fsm_skew_time_ns(100, 100), 609375000ULL);
	assert_int_equal(fsm_master_down_ns(100, 100), 3609375000ULL);
	assert_int_equal(fsm_skew_time_ns(100, 10), 60937500ULL);
	assert_int_equal(fsm_master_down_ns(100, 10), 360937500ULL);
	assert_int_equal(fsm_skew_time_ns(100, 1), 6093750ULL);
	assert_int_equal(fsm_master_down_ns(100, 1), 36093750ULL);
	/* Higher priority, shorter wait; the extremes. */
	assert_int_equal(fsm_skew_time_ns(254, 100), 7812500ULL);
	assert_int_equal(fsm_skew_time_ns(255, 100), 3906250ULL);
	assert_int_equal(fsm_skew_time_ns(1, 100), 996093750ULL);
	assert_int_equal(fsm_master_down_ns(1, 4095), 3 * 40950 * MS + 255ULL * 40950 * MS / 256);
}

static void
test_startup_backup_down_timer(void **state)
{
	struct fsm f;
	struct fsm_out o;
	uint64_t now = T0, dl;

	(void)state;
	mk(&f, cfg(100, 100, true, true, 0));
	fsm_startup(&f, now, f.faulted, &o);
	expect(&o, FA_STATE | FA_TIMERS, ST_INIT, ST_BACKUP, R_STARTUP);
	assert_int_equal(f.master_adver_int_cs, 100);
	assert_int_equal(f.skew_time_ns, 609375000ULL);
	assert_int_equal(f.master_down_int_ns, 3609375000ULL);
	dl = now + 3609375000ULL;
	assert_int_equal(f.master_down_timer_ns, dl);
	assert_int_equal(f.adver_timer_ns, 0);
	assert_int_equal(fsm_next_deadline(&f), dl);

	/* A second startup is not an event in Backup. */
	fsm_startup(&f, now, f.faulted, &o);
	expect_none(&f, &o);

	/* Not a nanosecond early. */
	fsm_timer(&f, dl - 1, &o);
	expect_none(&f, &o);
	assert_int_equal(f.state, ST_BACKUP);

	fsm_timer(&f, dl, &o);
	expect(&o, ENTER, ST_BACKUP, ST_MASTER, R_MASTER_DOWN);
	assert_int_equal(f.adver_timer_ns, dl + SEC);
	assert_int_equal(f.master_down_timer_ns, 0);
	assert_int_equal(fsm_next_deadline(&f), dl + SEC);
}

static void
test_backup_learns_master_interval(void **state)
{
	struct fsm f;
	struct fsm_out o;
	uint64_t now = T0;

	(void)state;
	mk(&f, cfg(100, 100, true, true, 0));
	fsm_startup(&f, now, f.faulted, &o);

	/* RFC 5798 §6.4.2: Master_Adver_Interval comes from the Master's advert. */
	now += 200 * MS;
	deliver(&f, now, adv(200, 10, "10.0.0.9"), &o);
	expect(&o, FA_TIMERS, ST_BACKUP, ST_BACKUP, R_NONE);
	assert_int_equal(f.master_adver_int_cs, 10);
	assert_int_equal(f.skew_time_ns, 60937500ULL);
	assert_int_equal(f.master_down_int_ns, 360937500ULL);
	assert_int_equal(f.master_down_timer_ns, now + 360937500ULL);

	/* Adverts every 100 ms keep us Backup. */
	for (int i = 0; i < 50; i++) {
		now += 100 * MS;
		fsm_timer(&f, now, &o);
		expect_none(&f, &o);
		deliver(&f, now, adv(200, 10, "10.0.0.9"), &o);
		assert_int_equal(f.master_down_timer_ns, now + 360937500ULL);
	}
	/* Master gone: we take over 360.9375 ms after its last advert, not 3.6 s. */
	fsm_timer(&f, now + 360937499ULL, &o);
	expect_none(&f, &o);
	now += 360937500ULL;
	fsm_timer(&f, now, &o);
	expect(&o, ENTER, ST_BACKUP, ST_MASTER, R_MASTER_DOWN);
	/* As Master we advertise at our own configured interval. */
	assert_int_equal(f.adver_timer_ns, now + SEC);
	assert_int_equal(f.master_adver_int_cs, 100);
}

/*
 * VRRPv2 (RFC 3768 §6.1): Skew_Time = (256 - Priority) / 256 s whatever
 * the interval, and the Backup keeps its own Advertisement_Interval.
 */
static void
test_v2_timers(void **state)
{
	struct fsm_cfg c = cfg(100, 300, true, true, 0);
	struct fsm f;
	struct fsm_out o;
	uint64_t now = T0;

	(void)state;
	c.v2 = true;
	mk(&f, c);
	/* 156/256 s, not 156/256 of the 3 s interval (v3 would give 1.828125 s). */
	assert_int_equal(f.skew_time_ns, 609375000ULL);
	assert_int_equal(f.master_down_int_ns, 9 * SEC + 609375000ULL);
	fsm_startup(&f, now, false, &o);
	assert_int_equal(f.master_down_timer_ns, now + 9 * SEC + 609375000ULL);

	/* An advert never changes the interval (the receive path drops a different one). */
	now += SEC;
	deliver(&f, now, adv(200, 100, "10.0.0.9"), &o);
	assert_int_equal(f.master_adver_int_cs, 300);
	assert_int_equal(f.master_down_timer_ns, now + 9 * SEC + 609375000ULL);

	/* A priority change moves Skew_Time by 1/256 s per step. */
	fsm_set_priority(&f, now, 200, &o);
	assert_int_equal(f.skew_time_ns, 218750000ULL);
	assert_int_equal(f.master_down_int_ns, 9 * SEC + 218750000ULL);

	/* The Master leaves: Skew_Time later we take over. */
	deliver(&f, now, adv(0, 300, "10.0.0.9"), &o);
	assert_int_equal(f.master_down_timer_ns, now + 218750000ULL);
	now += 218750000ULL;
	fsm_timer(&f, now, &o);
	expect(&o, ENTER, ST_BACKUP, ST_MASTER, R_PRIORITY_ZERO);
	assert_int_equal(f.adver_timer_ns, now + 3 * SEC);

	/* Yielding to a higher priority keeps our own interval too. */
	deliver(&f, now, adv(250, 100, "10.0.0.9"), &o);
	assert_int_equal(f.state, ST_BACKUP);
	assert_int_equal(f.master_adver_int_cs, 300);
	assert_int_equal(f.master_down_timer_ns, now + 9 * SEC + 218750000ULL);
}

static void
test_priority_zero_takeover(void **state)
{
	struct fsm f;
	struct fsm_out o;
	uint64_t now = T0;

	(void)state;
	mk(&f, cfg(100, 100, true, true, 0));
	fsm_startup(&f, now, f.faulted, &o);
	now += SEC;
	deliver(&f, now, adv(200, 100, "10.0.0.9"), &o);

	/* RFC 5798 §6.4.2: priority 0 -> Master_Down_Timer = Skew_Time. */
	now += SEC;
	deliver(&f, now, adv(0, 100, "10.0.0.9"), &o);
	expect(&o, FA_TIMERS, ST_BACKUP, ST_BACKUP, R_NONE);
	assert_int_equal(f.master_down_timer_ns, now + 609375000ULL);

	fsm_timer(&f, now + 609375000ULL - 1, &o);
	expect_none(&f, &o);
	now += 609375000ULL;
	fsm_timer(&f, now, &o);
	expect(&o, ENTER, ST_BACKUP, ST_MASTER, R_PRIORITY_ZERO);
	assert_string_equal(fsm_reason_names[o.reason], "priority_zero");
}

static void
test_priority_zero_then_new_master(void **state)
{
	struct fsm f;
	struct fsm_out o;
	uint64_t now = T0;

	(void)state;
	mk(&f, cfg(100, 100, true, true, 0));
	fsm_startup(&f, now, f.faulted, &o);
	deliver(&f, now, adv(0, 100, "10.0.0.9"), &o);
	/* Another Master appears within Skew_Time: back to a normal wait. */
	now += 100 * MS;
	deliver(&f, now, adv(150, 100, "10.0.0.8"), &o);
	assert_int_equal(f.master_down_timer_ns, now + 3609375000ULL);
	now += 3609375000ULL;
	fsm_timer(&f, now, &o);
	expect(&o, ENTER, ST_BACKUP, ST_MASTER, R_MASTER_DOWN);
}

static void
test_master_yields_to_higher_priority(void **state)
{
	struct fsm f;
	struct fsm_out o;
	uint64_t now = T0;

	(void)state;
	mk(&f, cfg(100, 100, true, true, 0));
	to_master(&f, &now);

	now += 10 * MS;
	deliver(&f, now, adv(150, 200, "10.0.0.1"), &o);
	expect(&o, FA_VIPS_DEL | FA_SEND_ADVERT | FA_STATE | FA_TIMERS, ST_MASTER, ST_BACKUP,
	       R_HIGHER_PRIORITY);
	assert_string_equal(fsm_reason_names[o.reason], "higher_priority_seen");
	assert_int_equal(f.adver_timer_ns, 0);
	assert_int_equal(f.master_adver_int_cs, 200);
	assert_int_equal(f.master_down_timer_ns, now + fsm_master_down_ns(100, 200));
	assert_int_equal(fsm_next_deadline(&f), now + fsm_master_down_ns(100, 200));
}

static void
test_tie_break_higher_address_wins(void **state)
{
	struct fsm f;
	struct fsm_out o;
	union inaddr hi = ip("200.0.0.1");
	uint64_t now = T0;

	(void)state;
	/* RFC 5798 §6.4.3: equal priority, the greater primary address wins. */
	mk(&f, cfg(100, 100, true, true, 0));
	to_master(&f, &now);
	now += 10 * MS;
	deliver(&f, now, adv(100, 100, "10.0.0.1"), &o); /* lower: we stay */
	expect(&o, FA_SEND_ADVERT | FA_ANNOUNCE | FA_TIMERS, ST_MASTER, ST_MASTER, R_NONE);
	deliver(&f, now, adv(100, 100, "10.0.0.2"), &o); /* our own, looped back */
	expect_none(&f, &o);
	deliver(&f, now, adv(100, 100, "10.0.0.3"), &o); /* higher: we yield */
	expect(&o, FA_VIPS_DEL | FA_SEND_ADVERT | FA_STATE | FA_TIMERS, ST_MASTER, ST_BACKUP,
	       R_HIGHER_PRIORITY);

	/* The compare is unsigned: 192.x > 10.x, and 10.x < 200.x. */
	mk(&f, cfg(100, 100, true, true, 0));
	to_master(&f, &now);
	deliver(&f, now, adv(100, 100, "192.168.0.1"), &o);
	assert_int_equal(o.to, ST_BACKUP);

	mk(&f, cfg(100, 100, true, true, 0));
	fsm_set_primary(&f, &hi);
	to_master(&f, &now);
	deliver(&f, now, adv(100, 100, "10.0.0.1"), &o);
	assert_int_equal(o.to, ST_MASTER);
	deliver(&f, now, adv(100, 100, "200.0.0.2"), &o);
	assert_int_equal(o.to, ST_BACKUP);
}

static void
test_tie_break_v6(void **state)
{
	struct fsm f;
	struct fsm_out o;
	struct fsm_cfg c = cfg(100, 100, true, true, 0);
	union inaddr p = ip("fe80::2");
	uint64_t now = T0;

	(void)state;
	fsm_init(&f, &c, AF_INET6, &p);
	to_master(&f, &now);
	deliver(&f, now, adv(100, 100, "fe80::1"), &o);
	assert_int_equal(o.to, ST_MASTER);
	deliver(&f, now, adv(100, 100, "fe80::1:0"), &o);
	assert_int_equal(o.to, ST_BACKUP);
}

static void
test_owner(void **state)
{
	struct fsm f;
	struct fsm_out o;
	uint64_t now = T0, next;

	(void)state;
	mk(&f, cfg(255, 100, false, false, 0));
	fsm_startup(&f, now, f.faulted, &o);
	expect(&o, ENTER, ST_INIT, ST_MASTER, R_OWNER);
	assert_int_equal(f.adver_timer_ns, now + SEC);
	assert_int_equal(f.master_down_timer_ns, 0);

	/* Never yields, not even to 255 from a higher address. */
	next = f.adver_timer_ns;
	deliver(&f, now, adv(255, 100, "10.0.0.9"), &o);
	expect_none(&f, &o);
	deliver(&f, now, adv(254, 100, "10.0.0.9"), &o);
	expect_none(&f, &o);
	deliver(&f, now, adv(1, 100, "10.0.0.1"), &o);
	expect_none(&f, &o);
	assert_int_equal(f.adver_timer_ns, next);
	/* Priority 0 from someone: advertise at once. */
	now += 300 * MS;
	deliver(&f, now, adv(0, 100, "10.0.0.9"), &o);
	expect(&o, FA_SEND_ADVERT | FA_TIMERS, ST_MASTER, ST_MASTER, R_NONE);
	assert_int_equal(f.adver_timer_ns, now + SEC);
}

static void
test_preempt_fast(void **state)
{
	struct fsm f;
	struct fsm_out o;
	uint64_t now = T0;

	(void)state;
	mk(&f, cfg(200, 100, true, true, 0));
	fsm_startup(&f, now, f.faulted, &o);
	now += 50 * MS;
	deliver(&f, now, adv(100, 100, "10.0.0.9"), &o);
	expect(&o, ENTER, ST_BACKUP, ST_MASTER, R_PREEMPT);
	assert_int_equal(f.adver_timer_ns, now + SEC);
	assert_int_equal(f.master_down_timer_ns, 0);
}

static void
test_preempt_waits_down_timer(void **state)
{
	struct fsm f;
	struct fsm_out o;
	uint64_t now = T0, dl;

	(void)state;
	/* RFC 5798 §6.4.2: preempt on, lower priority -> discard the advert. */
	mk(&f, cfg(200, 100, true, false, 0));
	fsm_startup(&f, now, f.faulted, &o);
	dl = f.master_down_timer_ns;
	assert_int_equal(dl, now + fsm_master_down_ns(200, 100));
	for (int i = 0; i < 3; i++) {
		now += SEC;
		deliver(&f, now, adv(100, 100, "10.0.0.9"), &o);
		expect_none(&f, &o);
		assert_int_equal(f.master_down_timer_ns, dl);
		fsm_timer(&f, now, &o);
		expect_none(&f, &o);
	}
	fsm_timer(&f, dl, &o);
	expect(&o, ENTER, ST_BACKUP, ST_MASTER, R_MASTER_DOWN);
}

static void
test_no_preempt_stays_backup(void **state)
{
	struct fsm f;
	struct fsm_out o;
	uint64_t now = T0;

	(void)state;
	mk(&f, cfg(200, 100, false, true, 0));
	fsm_startup(&f, now, f.faulted, &o);
	/* A lower-priority Master keeps resetting our timer for a minute. */
	for (int i = 0; i < 60; i++) {
		now += SEC;
		fsm_timer(&f, now, &o);
		expect_none(&f, &o);
		deliver(&f, now, adv(100, 100, "10.0.0.9"), &o);
		expect(&o, FA_TIMERS, ST_BACKUP, ST_BACKUP, R_NONE);
		assert_int_equal(f.master_down_timer_ns, now + fsm_master_down_ns(200, 100));
	}
	assert_int_equal(f.state, ST_BACKUP);
	/* Equal priority too (the >= of §6.4.2). */
	mk(&f, cfg(200, 100, true, true, 0));
	fsm_startup(&f, now, f.faulted, &o);
	now += SEC;
	deliver(&f, now, adv(200, 100, "10.0.0.1"), &o);
	expect(&o, FA_TIMERS, ST_BACKUP, ST_BACKUP, R_NONE);
}

static void
test_preempt_delay(void **state)
{
	struct fsm f;
	struct fsm_out o;
	uint64_t now = T0, start = T0, dl;

	(void)state;
	/* Fast preemption is off whenever a delay is configured. */
	mk(&f, cfg(200, 100, true, true, 5 * SEC));
	fsm_startup(&f, now, f.faulted, &o);
	assert_int_equal(f.preempt_after_ns, start + 5 * SEC);
	/* During the delay lower-priority adverts reset the timer... */
	for (int i = 0; i < 4; i++) {
		now += SEC;
		deliver(&f, now, adv(100, 100, "10.0.0.9"), &o);
		expect(&o, FA_TIMERS, ST_BACKUP, ST_BACKUP, R_NONE);
		assert_int_equal(f.master_down_timer_ns, now + fsm_master_down_ns(200, 100));
	}
	dl = f.master_down_timer_ns;
	/* ...after it they are discarded and the timer runs out. */
	now = start + 5 * SEC;
	deliver(&f, now, adv(100, 100, "10.0.0.9"), &o);
	expect_none(&f, &o);
	assert_int_equal(f.master_down_timer_ns, dl);
	now += SEC;
	deliver(&f, now, adv(100, 100, "10.0.0.9"), &o);
	expect_none(&f, &o);
	fsm_timer(&f, dl - 1, &o);
	expect_none(&f, &o);
	fsm_timer(&f, dl, &o);
	expect(&o, ENTER, ST_BACKUP, ST_MASTER, R_MASTER_DOWN);
}

/*
 * startup_delay: a Backup does not take over on a silent network before
 * the delay is over, whatever it hears (priority 0, lower priorities);
 * an owner waits too; a higher Master heard meanwhile keeps it Backup.
 */
static void
test_startup_delay(void **state)
{
	struct fsm f;
	struct fsm_out o;
	struct fsm_cfg c = cfg(200, 100, true, true, 0);
	uint64_t now = T0;

	(void)state;
	c.startup_delay_ns = 30 * SEC;
	mk(&f, c);
	fsm_startup(&f, now, false, &o);
	expect(&o, FA_STATE | FA_TIMERS, ST_INIT, ST_BACKUP, R_STARTUP);
	assert_int_equal(f.master_down_timer_ns, T0 + 30 * SEC);
	/* Silence: nothing at the usual Master_Down_Interval. */
	fsm_timer(&f, T0 + fsm_master_down_ns(200, 100), &o);
	expect_none(&f, &o);
	/* A lower priority and a leaving Master do not shorten the wait. */
	now = T0 + 5 * SEC;
	deliver(&f, now, adv(100, 100, "10.0.0.9"), &o);
	assert_int_equal(f.state, ST_BACKUP);
	assert_int_equal(f.master_down_timer_ns, T0 + 30 * SEC);
	deliver(&f, now, adv(0, 100, "10.0.0.9"), &o);
	assert_int_equal(f.state, ST_BACKUP);
	assert_int_equal(f.master_down_timer_ns, T0 + 30 * SEC);
	fsm_timer(&f, T0 + 30 * SEC - 1, &o);
	expect_none(&f, &o);
	fsm_timer(&f, T0 + 30 * SEC, &o);
	expect(&o, ENTER, ST_BACKUP, ST_MASTER, R_PRIORITY_ZERO);

	/* A Master heard during the delay is followed as usual after it. */
	mk(&f, c);
	now = T0;
	fsm_startup(&f, now, false, &o);
	for (now = T0 + SEC; now < T0 + 40 * SEC; now += SEC) {
		deliver(&f, now, adv(250, 100, "10.0.0.9"), &o);
		assert_int_equal(f.state, ST_BACKUP);
	}
	assert_int_equal(f.master_down_timer_ns, now - SEC + fsm_master_down_ns(200, 100));
	/* After it, a lower priority is preempted (fast) at once. */
	deliver(&f, now, adv(100, 100, "10.0.0.9"), &o);
	expect(&o, ENTER, ST_BACKUP, ST_MASTER, R_PREEMPT);

	/* A fault at start that clears within the delay still waits for it. */
	mk(&f, c);
	fsm_startup(&f, T0, true, &o);
	expect(&o, FA_STATE | FA_TIMERS, ST_INIT, ST_FAULT, R_FAULT);
	fsm_fault(&f, T0 + 10 * SEC, false, &o);
	expect(&o, FA_STATE | FA_TIMERS, ST_FAULT, ST_BACKUP, R_FAULT_CLEARED);
	assert_int_equal(f.master_down_timer_ns, T0 + 30 * SEC);

	/* The owner is Backup during the delay, then Master. */
	c = cfg(255, 100, false, false, 0);
	c.startup_delay_ns = 30 * SEC;
	mk(&f, c);
	fsm_startup(&f, T0, false, &o);
	expect(&o, FA_STATE | FA_TIMERS, ST_INIT, ST_BACKUP, R_STARTUP);
	assert_int_equal(f.master_down_timer_ns, T0 + 30 * SEC);
	deliver(&f, T0 + SEC, adv(100, 100, "10.0.0.9"), &o);
	assert_int_equal(f.state, ST_BACKUP);
	fsm_timer(&f, T0 + 30 * SEC, &o);
	expect(&o, ENTER, ST_BACKUP, ST_MASTER, R_MASTER_DOWN);
	/* Without a delay the owner is Master at once, as before. */
	c.startup_delay_ns = 0;
	mk(&f, c);
	fsm_startup(&f, T0, false, &o);
	expect(&o, ENTER, ST_INIT, ST_MASTER, R_OWNER);
}

static void
test_split_brain(void **state)
{
	struct fsm f;
	struct fsm_out o;
	uint64_t now = T0;

	(void)state;
	mk(&f, cfg(200, 100, true, true, 0));
	to_master(&f, &now);
	now += 400 * MS;
	deliver(&f, now, adv(100, 100, "10.0.0.9"), &o);
	expect(&o, FA_SEND_ADVERT | FA_ANNOUNCE | FA_TIMERS, ST_MASTER, ST_MASTER, R_NONE);
	assert_int_equal(f.adver_timer_ns, now + SEC);
}

/*
 * A one-way partition: the other Master never hears us and advertises
 * every 100 ms. Each advert is answered, but the VIPs are re-announced
 * (a whole GARP burst) once per FSM_SPLIT_ANNOUNCE_NS, not on each one.
 */
static void
test_split_brain_announce_rate_limited(void **state)
{
	struct fsm f;
	struct fsm_out o;
	uint64_t now = T0, first;
	int announces = 0, answers = 0;

	(void)state;
	mk(&f, cfg(200, 100, true, true, 0));
	to_master(&f, &now);
	first = now + 10 * MS;
	for (now = first; now < first + 5 * SEC; now += 100 * MS) {
		deliver(&f, now, adv(100, 10, "10.0.0.9"), &o);
		assert_int_equal(o.to, ST_MASTER);
		answers += (o.actions & FA_SEND_ADVERT) != 0;
		announces += (o.actions & FA_ANNOUNCE) != 0;
	}
	assert_int_equal(answers, 50);
	assert_int_equal(announces, 5); /* at 0, 1, 2, 3 and 4 s */
	/* Leaving and winning Master again announces at once. */
	deliver(&f, now, adv(250, 10, "10.0.0.9"), &o);
	assert_int_equal(o.to, ST_BACKUP);
	fsm_timer(&f, f.master_down_timer_ns, &o);
	assert_int_equal(o.to, ST_MASTER);
	now = f.master_down_timer_ns + 10 * MS;
	deliver(&f, now, adv(100, 10, "10.0.0.9"), &o);
	assert_true(o.actions & FA_ANNOUNCE);
}

/*
 * With `align`, a Master's schedule moves onto the grid of multiples of
 * its interval, 4 % of an interval per advert at most and always earlier:
 * no gap is longer than the interval, none shorter than 96 % of it, and
 * two Masters that started at different times end up advertising at the
 * same instants (one wake-up of the loop for both).
 */
static void
test_adverts_align_to_grid(void **state)
{
	struct fsm a, b;
	struct fsm_out o;
	struct fsm_cfg c = cfg(200, 100, true, true, 0);
	uint64_t now = T0 + 123 * MS + 4567, t, prev;

	(void)state;
	c.align = true;
	mk(&a, c);
	mk(&b, c);
	to_master(&a, &now);
	now += 517 * MS + 89;
	to_master(&b, &now);
	for (struct fsm *f = &a; f; f = f == &a ? &b : NULL) {
		prev = 0;
		for (int k = 0; k < 40; k++) {
			t = f->adver_timer_ns;
			fsm_timer(f, t, &o);
			assert_true(o.actions & FA_SEND_ADVERT);
			if (prev) {
				assert_true(t - prev <= SEC);
				assert_true(t - prev >= SEC * 96 / 100);
			}
			prev = t;
		}
	}
	/* After 25 adverts at most, both are on the grid, in step. */
	assert_int_equal(a.adver_timer_ns % SEC, 0);
	assert_int_equal(b.adver_timer_ns % SEC, 0);
	/* Without `align` the schedule keeps its phase (the RFC's own timer). */
	struct fsm f;
	mk(&f, cfg(200, 100, true, true, 0));
	now = T0 + 123 * MS;
	to_master(&f, &now);
	uint64_t phase = f.adver_timer_ns % SEC;
	for (int k = 0; k < 10; k++)
		fsm_timer(&f, f.adver_timer_ns, &o);
	assert_int_equal(f.adver_timer_ns % SEC, phase);
}

static void
test_master_hears_priority_zero(void **state)
{
	struct fsm f;
	struct fsm_out o;
	uint64_t now = T0;

	(void)state;
	mk(&f, cfg(100, 100, true, true, 0));
	to_master(&f, &now);
	now += 700 * MS;
	deliver(&f, now, adv(0, 100, "10.0.0.9"), &o);
	expect(&o, FA_SEND_ADVERT | FA_TIMERS, ST_MASTER, ST_MASTER, R_NONE);
	assert_int_equal(f.adver_timer_ns, now + SEC);
}

static void
test_fault(void **state)
{
	struct fsm f;
	struct fsm_out o;
	uint64_t now = T0;

	(void)state;
	mk(&f, cfg(100, 100, true, true, 2 * SEC));
	to_master(&f, &now);
	fsm_fault(&f, now, true, &o);
	expect(&o, FA_SEND_PRIO0 | FA_VIPS_DEL | FA_STATE | FA_TIMERS, ST_MASTER, ST_FAULT,
	       R_FAULT);
	assert_int_equal(fsm_next_deadline(&f), 0);
	assert_true(f.faulted);
	/* Fault again, adverts, timers: nothing in Fault. */
	fsm_fault(&f, now, true, &o);
	expect_none(&f, &o);
	deliver(&f, now, adv(0, 100, "10.0.0.9"), &o);
	expect_none(&f, &o);
	fsm_timer(&f, now + 100 * SEC, &o);
	expect_none(&f, &o);

	now += 10 * SEC;
	fsm_fault(&f, now, false, &o);
	expect(&o, FA_STATE | FA_TIMERS, ST_FAULT, ST_BACKUP, R_FAULT_CLEARED);
	assert_false(f.faulted);
	assert_int_equal(f.master_down_timer_ns, now + 3609375000ULL);
	assert_int_equal(f.preempt_after_ns, now + 2 * SEC);
	/* Clearing twice is nothing. */
	fsm_fault(&f, now, false, &o);
	expect_none(&f, &o);

	/* Backup -> Fault says nothing on the wire. */
	fsm_fault(&f, now, true, &o);
	expect(&o, FA_STATE | FA_TIMERS, ST_BACKUP, ST_FAULT, R_FAULT);
	assert_int_equal(fsm_next_deadline(&f), 0);
}

static void
test_fault_in_init_and_owner(void **state)
{
	struct fsm f;
	struct fsm_out o;
	uint64_t now = T0;

	(void)state;
	mk(&f, cfg(100, 100, true, true, 0));
	fsm_fault(&f, now, true, &o);
	expect_none(&f, &o);
	assert_int_equal(f.state, ST_INIT);
	fsm_startup(&f, now, f.faulted, &o);
	expect(&o, FA_STATE | FA_TIMERS, ST_INIT, ST_FAULT, R_FAULT);
	assert_int_equal(fsm_next_deadline(&f), 0);

	/* An owner leaves Fault straight for Master. */
	mk(&f, cfg(255, 100, true, true, 0));
	fsm_fault(&f, now, true, &o);
	fsm_startup(&f, now, f.faulted, &o);
	assert_int_equal(f.state, ST_FAULT);
	now += SEC;
	fsm_fault(&f, now, false, &o);
	expect(&o, ENTER, ST_FAULT, ST_MASTER, R_FAULT_CLEARED);
	assert_int_equal(f.adver_timer_ns, now + SEC);
}

static void
test_shutdown(void **state)
{
	struct fsm f;
	struct fsm_out o;
	uint64_t now = T0;

	(void)state;
	mk(&f, cfg(100, 100, true, true, 0));
	to_master(&f, &now);
	fsm_shutdown(&f, now, &o);
	expect(&o, FA_SEND_PRIO0 | FA_VIPS_DEL | FA_STATE | FA_TIMERS, ST_MASTER, ST_INIT, R_STOP);
	assert_int_equal(fsm_next_deadline(&f), 0);
	fsm_shutdown(&f, now, &o);
	expect_none(&f, &o);

	fsm_startup(&f, now, f.faulted, &o);
	fsm_shutdown(&f, now, &o);
	expect(&o, FA_STATE | FA_TIMERS, ST_BACKUP, ST_INIT, R_STOP);
	assert_int_equal(fsm_next_deadline(&f), 0);

	fsm_fault(&f, now, true, &o);
	fsm_startup(&f, now, f.faulted, &o);
	fsm_shutdown(&f, now, &o);
	expect(&o, FA_STATE | FA_TIMERS, ST_FAULT, ST_INIT, R_STOP);
}

static void
test_set_priority(void **state)
{
	struct fsm f;
	struct fsm_out o;
	uint64_t now = T0, dl;

	(void)state;
	mk(&f, cfg(100, 100, true, true, 0));
	to_master(&f, &now);
	now += 250 * MS;
	fsm_set_priority(&f, now, 90, &o);
	expect(&o, FA_SEND_ADVERT | FA_TIMERS, ST_MASTER, ST_MASTER, R_NONE);
	assert_int_equal(f.priority, 90);
	assert_int_equal(f.adver_timer_ns, now + SEC);
	fsm_set_priority(&f, now, 90, &o);
	expect_none(&f, &o);
	/* Now 95 from a Backup beats us. */
	deliver(&f, now, adv(95, 100, "10.0.0.1"), &o);
	assert_int_equal(o.to, ST_BACKUP);

	/* Backup: Skew_Time follows, the running timer does not move. */
	dl = f.master_down_timer_ns;
	fsm_set_priority(&f, now, 200, &o);
	expect_none(&f, &o);
	assert_int_equal(f.master_down_timer_ns, dl);
	assert_int_equal(f.skew_time_ns, fsm_skew_time_ns(200, 100));
	assert_int_equal(f.master_down_int_ns, fsm_master_down_ns(200, 100));
	now += SEC;
	deliver(&f, now, adv(95, 100, "10.0.0.1"), &o);
	expect(&o, ENTER, ST_BACKUP, ST_MASTER, R_PREEMPT);
}

/* ---- reload: fsm_reconfigure ---- */

static void
reconf(struct fsm *f, uint64_t now, struct fsm_cfg c, struct fsm_out *o)
{
	fsm_reconfigure(f, now, &c, o);
}

/* A Master whose interval shrinks advertises within the new interval, then keeps it. */
static void
test_reconf_master_shorter_interval(void **state)
{
	struct fsm f;
	struct fsm_out o;
	uint64_t now = T0;

	(void)state;
	mk(&f, cfg(150, 100, true, true, 0));
	to_master(&f, &now);
	now += 300 * MS; /* next advert due in 700 ms */
	reconf(&f, now, cfg(150, 10, true, true, 0), &o);
	/* No advert out of schedule, no state change: only the deadline moved. */
	expect(&o, FA_TIMERS, ST_MASTER, ST_MASTER, R_NONE);
	assert_int_equal(f.state, ST_MASTER);
	assert_int_equal(f.adver_timer_ns, now + 100 * MS);
	assert_int_equal(f.master_adver_int_cs, 10);
	assert_int_equal(f.skew_time_ns, fsm_skew_time_ns(150, 10));
	now += 100 * MS;
	fsm_timer(&f, now, &o);
	expect(&o, FA_SEND_ADVERT | FA_TIMERS, ST_MASTER, ST_MASTER, R_NONE);
	assert_int_equal(f.adver_timer_ns, now + 100 * MS);
}

/* A Master whose interval grows keeps its next deadline (Backups learn from that advert). */
static void
test_reconf_master_longer_interval(void **state)
{
	struct fsm f;
	struct fsm_out o;
	uint64_t now = T0, dl;

	(void)state;
	mk(&f, cfg(150, 10, true, true, 0));
	to_master(&f, &now);
	now += 40 * MS;
	dl = f.adver_timer_ns;
	reconf(&f, now, cfg(150, 100, true, true, 0), &o);
	expect_none(&f, &o);
	assert_int_equal(f.adver_timer_ns, dl);
	assert_int_equal(f.master_adver_int_cs, 100);
	fsm_timer(&f, dl, &o);
	expect(&o, FA_SEND_ADVERT | FA_TIMERS, ST_MASTER, ST_MASTER, R_NONE);
	assert_int_equal(f.adver_timer_ns, dl + SEC);
	/* Same settings again: nothing at all. */
	reconf(&f, dl, cfg(150, 100, true, true, 0), &o);
	expect_none(&f, &o);
	assert_int_equal(f.adver_timer_ns, dl + SEC);
}

/* A Backup keeps the Master's interval and its running down timer. */
static void
test_reconf_backup_keeps_master_interval(void **state)
{
	struct fsm f;
	struct fsm_out o;
	uint64_t now = T0, dl;

	(void)state;
	mk(&f, cfg(100, 100, true, true, 0));
	fsm_startup(&f, now, f.faulted, &o);
	now += 200 * MS;
	deliver(&f, now, adv(150, 20, "10.0.0.9"), &o);
	assert_int_equal(f.master_adver_int_cs, 20);
	dl = f.master_down_timer_ns;
	reconf(&f, now, cfg(100, 10, true, true, 0), &o);
	expect_none(&f, &o);
	assert_int_equal(f.state, ST_BACKUP);
	assert_int_equal(f.master_adver_int_cs, 20);
	assert_int_equal(f.master_down_timer_ns, dl);
	assert_int_equal(f.cfg.adver_int_cs, 10);
	/* Becoming Master later, it advertises its new own interval. */
	fsm_timer(&f, dl, &o);
	expect(&o, ENTER, ST_BACKUP, ST_MASTER, R_MASTER_DOWN);
	assert_int_equal(f.master_adver_int_cs, 10);
	assert_int_equal(f.adver_timer_ns, dl + 100 * MS);
}

/* preempt / preempt_delay apply at once to a Backup, the delay counted from its entry. */
static void
test_reconf_backup_preemption(void **state)
{
	struct fsm f;
	struct fsm_out o;
	uint64_t now = T0, entered = T0;

	(void)state;
	mk(&f, cfg(200, 100, false, true, 0));
	fsm_startup(&f, now, f.faulted, &o);
	now += 100 * MS;
	/* preempt = no: a worse Master is followed. */
	deliver(&f, now, adv(100, 100, "10.0.0.9"), &o);
	expect(&o, FA_TIMERS, ST_BACKUP, ST_BACKUP, R_NONE);
	/* preempt = yes with a 10 s delay: still following, 10 s after entry. */
	reconf(&f, now, cfg(200, 100, true, true, 10 * SEC), &o);
	expect_none(&f, &o);
	assert_int_equal(f.preempt_after_ns, entered + 10 * SEC);
	now += SEC;
	deliver(&f, now, adv(100, 100, "10.0.0.9"), &o);
	expect(&o, FA_TIMERS, ST_BACKUP, ST_BACKUP, R_NONE);
	/* The delay shortened to 2 s: over already, the next worse advert preempts. */
	reconf(&f, now, cfg(200, 100, true, false, 2 * SEC), &o);
	expect_none(&f, &o);
	assert_int_equal(f.preempt_after_ns, entered + 2 * SEC);
	now += SEC; /* entered + 2.1 s; preempt_fast off: wait for the down timer */
	deliver(&f, now, adv(100, 100, "10.0.0.9"), &o);
	expect_none(&f, &o);
	/* preempt_fast back on, no delay: at once. */
	reconf(&f, now, cfg(200, 100, true, true, 0), &o);
	expect_none(&f, &o);
	now += 100 * MS;
	deliver(&f, now, adv(100, 100, "10.0.0.9"), &o);
	expect(&o, ENTER, ST_BACKUP, ST_MASTER, R_PREEMPT);
}

/* Init and Fault: the next start uses the new interval. */
static void
test_reconf_fault_then_start(void **state)
{
	struct fsm f;
	struct fsm_out o;
	uint64_t now = T0;

	(void)state;
	mk(&f, cfg(100, 100, true, true, 0));
	fsm_fault(&f, now, true, &o);
	fsm_startup(&f, now, f.faulted, &o);
	expect(&o, FA_STATE | FA_TIMERS, ST_INIT, ST_FAULT, R_FAULT);
	reconf(&f, now, cfg(100, 10, true, true, 0), &o);
	expect_none(&f, &o);
	assert_int_equal(f.master_down_int_ns, fsm_master_down_ns(100, 10));
	now += SEC;
	fsm_fault(&f, now, false, &o);
	expect(&o, FA_STATE | FA_TIMERS, ST_FAULT, ST_BACKUP, R_FAULT_CLEARED);
	assert_int_equal(f.master_down_timer_ns, now + fsm_master_down_ns(100, 10));
}

/* A reload that raises a Backup to 255 makes it the owner: Master at once. */
static void
test_reconf_becomes_owner(void **state)
{
	struct fsm f;
	struct fsm_out o;
	uint64_t now = T0;

	(void)state;
	mk(&f, cfg(100, 100, true, true, 0));
	fsm_startup(&f, now, f.faulted, &o);
	now += 100 * MS;
	deliver(&f, now, adv(150, 100, "10.0.0.9"), &o);
	reconf(&f, now, cfg(255, 100, true, true, 0), &o);
	expect_none(&f, &o);
	fsm_set_priority(&f, now, 255, &o);
	expect(&o, ENTER, ST_BACKUP, ST_MASTER, R_OWNER);
	/* And back to 100: a Master advertises it, the protocol decides the rest. */
	now += 50 * MS;
	reconf(&f, now, cfg(100, 100, true, true, 0), &o);
	fsm_set_priority(&f, now, 100, &o);
	expect(&o, FA_SEND_ADVERT | FA_TIMERS, ST_MASTER, ST_MASTER, R_NONE);
	deliver(&f, now, adv(150, 100, "10.0.0.9"), &o);
	assert_int_equal(o.to, ST_BACKUP);
	assert_int_equal(o.reason, R_HIGHER_PRIORITY);
}

/* Who is the Master: only adverts the fsm accepts name it (vipctl status master_ip). */
static void
test_master_known(void **state)
{
	struct fsm f;
	struct fsm_out o;
	uint64_t now = T0;
	union inaddr a9 = ip("10.0.0.9"), a7 = ip("10.0.0.7");

	(void)state;
	mk(&f, cfg(100, 100, true, false, 0));
	fsm_startup(&f, now, false, &o);
	assert_false(f.have_master);
	deliver(&f, now, adv(150, 100, "10.0.0.9"), &o);
	assert_true(f.have_master);
	assert_memory_equal(&f.master_ip, &a9, sizeof(a9.v4));
	/* A lower-priority advert we would preempt is discarded: not the Master. */
	now += 10 * MS;
	deliver(&f, now, adv(50, 100, "10.0.0.8"), &o);
	assert_memory_equal(&f.master_ip, &a9, sizeof(a9.v4));
	/* A yielding Master's last advert does not replace the one just heard. */
	mk(&f, cfg(20, 100, true, false, 0));
	fsm_startup(&f, now, false, &o);
	deliver(&f, now, adv(150, 100, "10.0.0.9"), &o);
	deliver(&f, now + MS, adv(100, 100, "10.0.0.7"), &o);
	assert_memory_equal(&f.master_ip, &a9, sizeof(a9.v4));
	/* ...but once the known one is silent for an interval, the other is it. */
	deliver(&f, now + 1100 * MS, adv(100, 100, "10.0.0.7"), &o);
	assert_memory_equal(&f.master_ip, &a7, sizeof(a7.v4));
	/* The Master leaves (priority 0): nobody is known. */
	deliver(&f, now + 1200 * MS, adv(0, 100, "10.0.0.7"), &o);
	assert_false(f.have_master);
	/* Ourselves as Master; nobody in Fault. */
	now = fsm_next_deadline(&f);
	fsm_timer(&f, now, &o);
	assert_int_equal(f.state, ST_MASTER);
	assert_true(f.have_master);
	assert_memory_equal(&f.master_ip, &f.primary, sizeof(a9.v4));
	/* Yielding names the winner. */
	deliver(&f, now + MS, adv(150, 100, "10.0.0.9"), &o);
	assert_int_equal(f.state, ST_BACKUP);
	assert_memory_equal(&f.master_ip, &a9, sizeof(a9.v4));
	fsm_fault(&f, now + 2 * MS, true, &o);
	assert_false(f.have_master);
}

/* An owner (configured 255) answers a priority-0 advert at once and ignores the rest. */
static void
test_owner_prio0(void **state)
{
	struct fsm f;
	struct fsm_out o;
	uint64_t now = T0;

	(void)state;
	mk(&f, cfg(255, 100, true, false, 0));
	fsm_startup(&f, now, false, &o);
	assert_int_equal(f.state, ST_MASTER);
	assert_true(fsm_is_owner(&f));
	now += 30 * MS;
	deliver(&f, now, adv(0, 100, "10.0.0.9"), &o);
	expect(&o, FA_SEND_ADVERT | FA_TIMERS, ST_MASTER, ST_MASTER, R_NONE);
	deliver(&f, now, adv(254, 100, "10.0.0.9"), &o);
	expect_none(&f, &o);
}

/*
 * Found by tests/fuzz/fuzz_fsm (corpus/fsm/regress-yield-interval): the
 * owner advertises every second, two Backups every 10 ms. A Backup that
 * became Master before it heard the owner yields to it with one last
 * advert (master_advert); the other Backup took that advert's 10 ms as
 * Master_Adver_Interval and took over 40 ms later from the live owner,
 * yielding in turn: two Masters, over and over, on a quiet network.
 */
static void
test_backup_ignores_yielding_masters_last_advert(void **state)
{
	struct fsm f;
	struct fsm_out o;
	uint64_t now = T0 + 100 * MS;

	(void)state;
	mk(&f, cfg(1, 1, true, true, 0));
	fsm_startup(&f, T0, false, &o);
	deliver(&f, now, adv(255, 100, "10.0.0.1"), &o); /* the owner */
	deliver(&f, now, adv(1, 1, "10.0.0.3"), &o);     /* yields to it */
	expect_none(&f, &o);
	assert_int_equal(f.master_adver_int_cs, 100);
	assert_int_equal(f.master_down_timer_ns, now + fsm_master_down_ns(1, 100));
	fsm_timer(&f, now + 50 * MS, &o);
	expect_none(&f, &o);
	assert_int_equal(f.state, ST_BACKUP);
	assert_string_equal(addr_ntop(AF_INET, &f.master_ip, (char[ADDR_STRLEN]){0}), "10.0.0.1");
	/* Once the owner is silent for an interval, the other is heard again. */
	now += SEC;
	deliver(&f, now, adv(1, 1, "10.0.0.3"), &o);
	assert_int_equal(f.master_adver_int_cs, 1);
	assert_int_equal(f.master_down_timer_ns, now + fsm_master_down_ns(1, 1));
}

/*
 * The same last advert must not be preempted: C (200) took over from A
 * (100), whose last advert reaches B (150, fast preemption) after C's.
 * B took over at once from C, a spurious Master (and notify_master,
 * promote_pgsql) for an instant.
 */
static void
test_backup_does_not_preempt_yielding_master(void **state)
{
	struct fsm f;
	struct fsm_out o;
	uint64_t now = T0 + 5 * SEC;

	(void)state;
	mk(&f, cfg(150, 100, true, true, 0));
	fsm_startup(&f, T0, false, &o);
	deliver(&f, now, adv(200, 100, "10.0.0.3"), &o); /* C, the new Master */
	deliver(&f, now, adv(100, 100, "10.0.0.1"), &o); /* A yields to C */
	expect_none(&f, &o);
	assert_int_equal(f.state, ST_BACKUP);
	/* A Master of lower priority heard when C has been silent: preempted. */
	now += 2 * SEC;
	deliver(&f, now, adv(100, 100, "10.0.0.1"), &o);
	assert_int_equal(f.state, ST_MASTER);
	assert_int_equal(o.reason, R_PREEMPT);
}

static void
test_adver_timer_no_drift(void **state)
{
	struct fsm f;
	struct fsm_out o;
	uint64_t now = T0, first;
	uint32_t rnd = 12345;

	(void)state;
	mk(&f, cfg(100, 100, true, true, 0));
	to_master(&f, &now);
	first = f.adver_timer_ns;
	/* The loop wakes up 0..~65 ms late every time; the schedule holds. */
	for (int i = 0; i < 1000; i++) {
		rnd = rnd * 1103515245u + 12345u;
		now = f.adver_timer_ns + (rnd >> 16) * 1000;
		fsm_timer(&f, now, &o);
		expect(&o, FA_SEND_ADVERT | FA_TIMERS, ST_MASTER, ST_MASTER, R_NONE);
	}
	assert_int_equal(f.adver_timer_ns, first + 1000 * SEC);
	/* Early calls do nothing. */
	fsm_timer(&f, f.adver_timer_ns - 1, &o);
	expect_none(&f, &o);

	/* Stalled for 3.5 intervals: restart from now, no burst. */
	now = f.adver_timer_ns + 3500 * MS;
	fsm_timer(&f, now, &o);
	expect(&o, FA_SEND_ADVERT | FA_TIMERS, ST_MASTER, ST_MASTER, R_NONE);
	assert_int_equal(f.adver_timer_ns, now + SEC);
}

static void
test_next_deadline(void **state)
{
	struct fsm f;

	(void)state;
	mk(&f, cfg(100, 100, true, true, 0));
	f.adver_timer_ns = 5;
	assert_int_equal(fsm_next_deadline(&f), 5);
	f.master_down_timer_ns = 3;
	assert_int_equal(fsm_next_deadline(&f), 3);
	f.adver_timer_ns = 0;
	assert_int_equal(fsm_next_deadline(&f), 3);
	/* preempt_after_ns is a threshold, not a timer. */
	f.master_down_timer_ns = 0;
	f.preempt_after_ns = 7;
	assert_int_equal(fsm_next_deadline(&f), 0);
}

static void
test_names(void **state)
{
	static const char *const st[ST_MAX] = {"INIT", "BACKUP", "MASTER", "FAULT"};
	static const char *const rs[R_MAX] = {"none",          "startup",
	                                      "owner",         "master_down",
	                                      "priority_zero", "higher_priority_seen",
	                                      "preempt",       "fault",
	                                      "fault_cleared", "stop",
	                                      "group"};

	(void)state;
	for (int i = 0; i < ST_MAX; i++)
		assert_string_equal(fsm_state_names[i], st[i]);
	for (int i = 0; i < R_MAX; i++)
		assert_string_equal(fsm_reason_names[i], rs[i]);
}

/* Sync groups: a held Backup wants Master instead of taking over. */
static void
test_hold_backup_wants_master(void **state)
{
	struct fsm f;
	struct fsm_out o;
	uint64_t mdi = fsm_master_down_ns(100, 100);

	(void)state;
	mk(&f, cfg(100, 100, true, true, 0));
	fsm_hold(&f, T0, true, &o);
	expect_none(&f, &o);
	fsm_startup(&f, T0, false, &o);
	assert_int_equal(f.state, ST_BACKUP);
	/* Master_Down_Timer fires: still Backup, wanting, no timer left. */
	fsm_timer(&f, T0 + mdi, &o);
	assert_int_equal(f.state, ST_BACKUP);
	assert_true(fsm_wants_master(&f));
	assert_int_equal(fsm_next_deadline(&f), 0);
	assert_int_equal(o.actions & FA_STATE, 0);
	/* Released: Master at once, with the reason it had. */
	fsm_hold(&f, T0 + mdi + MS, false, &o);
	expect(&o, ENTER, ST_BACKUP, ST_MASTER, R_MASTER_DOWN);
	assert_false(fsm_wants_master(&f));
}

/* A Master heard again ends the wish: released, it stays Backup. */
static void
test_hold_wish_ends_on_master(void **state)
{
	struct fsm f;
	struct fsm_out o;
	uint64_t mdi = fsm_master_down_ns(100, 100);

	(void)state;
	mk(&f, cfg(100, 100, true, true, 0));
	fsm_hold(&f, T0, true, &o);
	fsm_startup(&f, T0, false, &o);
	fsm_timer(&f, T0 + mdi, &o);
	assert_true(fsm_wants_master(&f));
	deliver(&f, T0 + mdi + 10 * MS, adv(150, 100, "10.0.0.9"), &o);
	assert_false(fsm_wants_master(&f));
	assert_true(fsm_next_deadline(&f) > T0 + mdi);
	fsm_hold(&f, T0 + mdi + 20 * MS, false, &o);
	expect(&o, 0, ST_BACKUP, ST_BACKUP, R_NONE);
	/* ...and a lower-priority Master is preempted only when released. */
	fsm_hold(&f, T0 + mdi + 30 * MS, true, &o);
	deliver(&f, T0 + mdi + 40 * MS, adv(50, 100, "10.0.0.9"), &o);
	assert_int_equal(f.state, ST_BACKUP);
	assert_true(fsm_wants_master(&f));
	assert_int_equal(f.want_reason, R_PREEMPT);
	fsm_hold(&f, T0 + mdi + 50 * MS, false, &o);
	expect(&o, ENTER, ST_BACKUP, ST_MASTER, R_PREEMPT);
}

/* A held Master yields: priority 0, VIPs removed, Backup ("group"). */
static void
test_hold_master_yields(void **state)
{
	struct fsm f;
	struct fsm_out o;

	(void)state;
	mk(&f, cfg(255, 100, true, true, 0));
	fsm_startup(&f, T0, false, &o);
	assert_int_equal(f.state, ST_MASTER);
	fsm_hold(&f, T0 + MS, true, &o);
	expect(&o, FA_SEND_PRIO0 | FA_VIPS_DEL | FA_STATE | FA_TIMERS, ST_MASTER, ST_BACKUP,
	       R_GROUP);
	/* Its Master_Down_Timer runs as any Backup's; held, it then wants Master. */
	assert_false(fsm_wants_master(&f));
	fsm_timer(&f, T0 + MS + fsm_master_down_ns(255, 100), &o);
	assert_true(fsm_wants_master(&f));
	fsm_hold(&f, T0 + 2 * MS + fsm_master_down_ns(255, 100), false, &o);
	expect(&o, ENTER, ST_BACKUP, ST_MASTER, R_MASTER_DOWN);
	/* Holding twice or releasing a free instance does nothing. */
	fsm_hold(&f, T0 + 3 * SEC, false, &o);
	expect_none(&f, &o);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_skew_and_down_interval),
	    cmocka_unit_test(test_startup_delay),
	    cmocka_unit_test(test_startup_backup_down_timer),
	    cmocka_unit_test(test_backup_learns_master_interval),
	    cmocka_unit_test(test_v2_timers),
	    cmocka_unit_test(test_priority_zero_takeover),
	    cmocka_unit_test(test_priority_zero_then_new_master),
	    cmocka_unit_test(test_master_yields_to_higher_priority),
	    cmocka_unit_test(test_tie_break_higher_address_wins),
	    cmocka_unit_test(test_tie_break_v6),
	    cmocka_unit_test(test_owner),
	    cmocka_unit_test(test_preempt_fast),
	    cmocka_unit_test(test_preempt_waits_down_timer),
	    cmocka_unit_test(test_no_preempt_stays_backup),
	    cmocka_unit_test(test_preempt_delay),
	    cmocka_unit_test(test_split_brain),
	    cmocka_unit_test(test_split_brain_announce_rate_limited),
	    cmocka_unit_test(test_adverts_align_to_grid),
	    cmocka_unit_test(test_master_hears_priority_zero),
	    cmocka_unit_test(test_fault),
	    cmocka_unit_test(test_fault_in_init_and_owner),
	    cmocka_unit_test(test_shutdown),
	    cmocka_unit_test(test_set_priority),
	    cmocka_unit_test(test_adver_timer_no_drift),
	    cmocka_unit_test(test_reconf_master_shorter_interval),
	    cmocka_unit_test(test_reconf_master_longer_interval),
	    cmocka_unit_test(test_reconf_backup_keeps_master_interval),
	    cmocka_unit_test(test_reconf_backup_preemption),
	    cmocka_unit_test(test_reconf_fault_then_start),
	    cmocka_unit_test(test_reconf_becomes_owner),
	    cmocka_unit_test(test_master_known),
	    cmocka_unit_test(test_owner_prio0),
	    cmocka_unit_test(test_backup_ignores_yielding_masters_last_advert),
	    cmocka_unit_test(test_backup_does_not_preempt_yielding_master),
	    cmocka_unit_test(test_hold_backup_wants_master),
	    cmocka_unit_test(test_hold_wish_ends_on_master),
	    cmocka_unit_test(test_hold_master_yields),
	    cmocka_unit_test(test_next_deadline),
	    cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
