/*
 * fuzz_fsm.c - a structure-aware sequence target for the state machine
 * (vipd/fsm.c): two or three simulated routers of one virtual router on a
 * simulated network and clock, driven by random sequences of time
 * passing, priority changes, faults, reloads, stops and starts, partitions
 * and packet loss, with the properties below checked after every step.
 *
 * The network delivers an advert to every router its sender can reach, in
 * order, at the instant it is sent (no latency: a hand-over is never seen
 * half done), unless the link is cut or the advert is lost (a seeded
 * pseudo-random draw). The input is read as a script:
 *
 *   byte 0        number of routers (2 + bit 0), loss seed
 *   3 bytes each  router configuration: priority (at most one owner,
 *                 255), interval, preempt / fast / align, delays
 *   then ops      1 opcode byte and its arguments (see step())
 *
 * Properties, after every step:
 *   - a router holds its VIPs exactly while it is MASTER (the VIPs are
 *     added on entering MASTER and removed on leaving it);
 *   - a timer that fired has moved on (no deadline left at or before now:
 *     the loop would spin), and each transition is reported once, from the
 *     state it left to the state it is in;
 *   - the counters kept per router (adverts sent, transitions, VIP adds)
 *     never go back, and no advert says priority 0 but a leaving Master's;
 * and after an op that makes the network quiet (every link up, no loss)
 * and lets Master_Down_Interval pass (computed from the largest interval
 * any router uses, plus one interval for two Masters to meet): at most one
 * MASTER among the running routers, and at least one if any is running,
 * not faulted and past its startup delay.
 */
#include <string.h>
#include <sys/socket.h>

#include "fuzz.h"
#include "vipd/fsm.h"

#define MS       1000000ULL
#define SEC      (1000 * MS)
#define T0       (1000 * SEC)
#define NMAX     3
#define MAX_MSGS 4096 /* adverts delivered at one instant: more is a storm */

struct router {
	struct fsm f;
	bool running; /* started and not stopped */
	bool fault;   /* the fault condition the caller holds */
	bool holds;   /* VIPs on the interface */
	/* counters, never going back */
	uint64_t sent, transitions, adds;
};

struct msg {
	int from;
	struct fsm_adv adv;
};

static struct sim {
	struct router r[NMAX];
	int n;
	uint64_t now;
	bool link[NMAX][NMAX]; /* link[i][j]: j hears i */
	unsigned loss_pct;
	uint32_t rng;
	struct msg q[MAX_MSGS];
	size_t qhead, qtail;
	uint64_t delivered_now; /* deliveries at this instant */
} s;

/* FUZZ_FSM_TRACE=1 in the environment: print every transition (to replay a crash). */
static bool trace;

static const uint16_t intervals_cs[] = {1, 2, 5, 10, 20, 100};
static const uint64_t delays_ns[] = {0, 0, 50 * MS, 2 * SEC};

/* Input reading: 0 once exhausted. */
static const uint8_t *in;
static size_t inlen;

static uint8_t
next_byte(void)
{
	if (!inlen)
		return 0;
	inlen--;
	return *in++;
}

static uint32_t
rnd(void)
{
	/* xorshift32, seeded from the input: the same input, the same run */
	s.rng ^= s.rng << 13;
	s.rng ^= s.rng >> 17;
	s.rng ^= s.rng << 5;
	return s.rng;
}

static bool
owner_elsewhere(int i)
{
	for (int j = 0; j < s.n; j++)
		if (j != i && s.r[j].f.cfg.priority == 255)
			return true;
	return false;
}

static struct fsm_cfg
cfg_from(int i, uint8_t a, uint8_t b, uint8_t c)
{
	struct fsm_cfg cfg = {
	    .priority = a ? a : 1,
	    .adver_int_cs = intervals_cs[b % 6],
	    .preempt = !(b & 0x08),
	    .preempt_fast = !(b & 0x10),
	    .align = b & 0x20,
	    .preempt_delay_ns = delays_ns[c & 3],
	    .startup_delay_ns = (c & 0x0c) == 0x0c ? 1 * SEC : 0,
	};

	/* Two address owners of one VRID is a misconfiguration vipd cannot fix. */
	if (cfg.priority == 255 && owner_elsewhere(i))
		cfg.priority = 254;
	return cfg;
}

static void
send_advert(int i, uint8_t priority)
{
	struct router *r = &s.r[i];

	FUZZ_ASSERT(s.qtail < MAX_MSGS); /* an advert storm at one instant */
	s.q[s.qtail++] = (struct msg){
	    .from = i,
	    .adv = {.priority = priority,
	            .max_adver_int_cs = r->f.cfg.adver_int_cs,
	            .src = r->f.primary},
	};
	r->sent++;
}

/* Carry out what the state machine asked, in fsm.h's order; check it. */
static void
apply(int i, enum vrrp_state before, const struct fsm_out *o)
{
	struct router *r = &s.r[i];

	FUZZ_ASSERT(o->from == before && o->to == r->f.state);
	FUZZ_ASSERT(!!(o->actions & FA_STATE) == (o->from != o->to));
	if (o->actions & FA_STATE)
		r->transitions++;
	if (trace && (o->actions & FA_STATE))
		fprintf(stderr, "%10.6f r%d prio %3u %s -> %s (%s)\n", (s.now - T0) / 1e9, i,
		        r->f.priority, fsm_state_names[o->from], fsm_state_names[o->to],
		        fsm_reason_names[o->reason]);
	if (o->actions & FA_SEND_PRIO0) {
		FUZZ_ASSERT(before == ST_MASTER && r->f.state != ST_MASTER);
		send_advert(i, 0);
	}
	if (o->actions & FA_VIPS_DEL)
		r->holds = false;
	if (o->actions & FA_VIPS_ADD) {
		r->holds = true;
		r->adds++;
	}
	if (o->actions & FA_SEND_ADVERT) {
		FUZZ_ASSERT(r->f.priority >= 1);
		send_advert(i, r->f.priority);
	}
}

/* Deliver what is queued, and what the deliveries make routers send. */
static void
deliver(void)
{
	while (s.qhead < s.qtail) {
		struct msg m = s.q[s.qhead++];

		for (int j = 0; j < s.n; j++) {
			struct router *r = &s.r[j];
			enum vrrp_state before = r->f.state;
			struct fsm_out o;

			if (j == m.from || !s.link[m.from][j] || !r->running)
				continue;
			if (s.loss_pct && rnd() % 100 < s.loss_pct)
				continue;
			if (trace)
				fprintf(stderr, "%10.6f   r%d hears r%d: prio %u interval %u cs\n",
				        (s.now - T0) / 1e9, j, m.from, m.adv.priority,
				        m.adv.max_adver_int_cs);
			fsm_advert(&r->f, s.now, &m.adv, &o);
			apply(j, before, &o);
		}
	}
	s.qhead = s.qtail = 0;
}

/* Let time pass to `until`, firing every deadline in order. */
static void
advance(uint64_t until)
{
	for (;;) {
		uint64_t t = 0;

		for (int i = 0; i < s.n; i++) {
			uint64_t d = fsm_next_deadline(&s.r[i].f);

			if (s.r[i].running && d && (!t || d < t))
				t = d;
		}
		if (!t || t > until)
			break;
		FUZZ_ASSERT(t >= s.now);
		s.now = t;
		for (int i = 0; i < s.n; i++) {
			struct router *r = &s.r[i];
			enum vrrp_state before = r->f.state;
			uint64_t d = fsm_next_deadline(&r->f);
			struct fsm_out o;

			if (!r->running || !d || d > s.now)
				continue;
			fsm_timer(&r->f, s.now, &o);
			apply(i, before, &o);
			d = fsm_next_deadline(&r->f);
			FUZZ_ASSERT(d == 0 || d > s.now); /* it moved on */
			deliver();
		}
	}
	if (until > s.now)
		s.now = until;
}

static void
start(int i)
{
	struct router *r = &s.r[i];
	enum vrrp_state before = r->f.state;
	struct fsm_out o;

	r->running = true;
	fsm_startup(&r->f, s.now, r->fault, &o);
	apply(i, before, &o);
	deliver();
}

static uint64_t
quiet_wait(void)
{
	uint16_t maxint = 1;

	for (int i = 0; i < s.n; i++) {
		if (s.r[i].f.cfg.adver_int_cs > maxint)
			maxint = s.r[i].f.cfg.adver_int_cs;
		if (s.r[i].f.master_adver_int_cs > maxint)
			maxint = s.r[i].f.master_adver_int_cs;
	}
	/* Master_Down_Interval at the lowest priority, plus one interval. */
	return fsm_master_down_ns(1, maxint) + (uint64_t)maxint * 10 * MS + 1;
}

static void
check_quiet(void)
{
	uint64_t from = s.now;
	int masters = 0;
	bool live = false;

	for (int i = 0; i < s.n; i++)
		for (int j = 0; j < s.n; j++)
			s.link[i][j] = true;
	s.loss_pct = 0;
	advance(s.now + quiet_wait());
	for (int i = 0; i < s.n; i++) {
		const struct router *r = &s.r[i];

		masters += r->running && r->f.state == ST_MASTER;
		live |= r->running && !r->fault && r->f.startup_until_ns <= from;
	}
	if (trace)
		fprintf(stderr, "%10.6f quiet since %.6f: %d master(s)\n", (s.now - T0) / 1e9,
		        (from - T0) / 1e9, masters);
	FUZZ_ASSERT(masters <= 1);
	if (live)
		FUZZ_ASSERT(masters == 1);
}

static void
check_always(const struct router *old)
{
	for (int i = 0; i < s.n; i++) {
		const struct router *r = &s.r[i];
		uint64_t d = fsm_next_deadline(&r->f);

		FUZZ_ASSERT(r->holds == (r->f.state == ST_MASTER));
		FUZZ_ASSERT(!r->running ? r->f.state == ST_INIT : r->f.state != ST_INIT);
		FUZZ_ASSERT(!r->running || d == 0 || d > s.now);
		FUZZ_ASSERT(r->sent >= old[i].sent && r->transitions >= old[i].transitions &&
		            r->adds >= old[i].adds);
		FUZZ_ASSERT(r->f.priority >= 1);
		FUZZ_ASSERT(r->f.cfg.priority != 255 || r->f.priority == 255);
	}
}

/* One op of the script. */
static void
step(uint8_t op)
{
	static const uint64_t scale[] = {MS, 10 * MS, 100 * MS, SEC};
	int i = next_byte() % s.n;
	struct router *r = &s.r[i];
	enum vrrp_state before = r->f.state;
	struct fsm_out o;
	uint8_t a;

	switch (op % 8) {
	case 0: /* time passes: 0-255 ms, cs, ds or s */
		a = next_byte();
		advance(s.now + (uint64_t)a * scale[op >> 6]);
		break;
	case 1: /* a check changes the effective priority (the owner keeps 255) */
		if (!r->running || r->f.cfg.priority == 255)
			break;
		a = next_byte();
		fsm_set_priority(&r->f, s.now, a % 254 + 1, &o);
		apply(i, before, &o);
		deliver();
		break;
	case 2: /* a fault starts or clears (interface, address, check) */
		r->fault = !r->fault;
		if (!r->running)
			break;
		fsm_fault(&r->f, s.now, r->fault, &o);
		apply(i, before, &o);
		deliver();
		break;
	case 3: { /* a reload: new settings, then the priority recomputed */
		uint8_t b1 = next_byte(), b2 = next_byte(), b3 = next_byte();
		struct fsm_cfg cfg = cfg_from(i, b1, b2, b3);

		fsm_reconfigure(&r->f, s.now, &cfg, &o);
		apply(i, before, &o);
		deliver();
		/* No tracked item here: the effective priority is the configured one. */
		before = r->f.state;
		fsm_set_priority(&r->f, s.now, cfg.priority, &o);
		apply(i, before, &o);
		deliver();
		break;
	}
	case 4: /* the links: bit k cuts one direction */
		a = next_byte();
		for (int x = 0, k = 0; x < s.n; x++)
			for (int y = 0; y < s.n; y++)
				if (x != y)
					s.link[x][y] = !(a & (1 << k++));
		break;
	case 5: /* loss, 0-100 % */
		s.loss_pct = next_byte() % 101;
		break;
	case 6: /* stop (shutdown) or start the daemon */
		if (r->running) {
			fsm_shutdown(&r->f, s.now, &o);
			apply(i, before, &o);
			deliver();
			r->running = false;
		} else {
			start(i);
		}
		break;
	case 7:
		check_quiet();
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct router old[NMAX];
	uint8_t hdr;

	if (size < 1 + 3 * NMAX)
		return 0;
	in = data;
	inlen = size;
	memset(&s, 0, sizeof(s));
	trace = getenv("FUZZ_FSM_TRACE") != NULL;
	hdr = next_byte();
	s.n = 2 + (hdr & 1);
	s.rng = 0x9e3779b9u ^ hdr;
	s.now = T0;
	for (int i = 0; i < s.n; i++)
		for (int j = 0; j < s.n; j++)
			s.link[i][j] = true;
	for (int i = 0; i < s.n; i++) {
		uint8_t a = next_byte(), b = next_byte(), c = next_byte();
		struct fsm_cfg cfg = cfg_from(i, a, b, c);
		union inaddr primary = {.v4.s_addr = htonl(0x0a000001 + (uint32_t)i)};

		fsm_init(&s.r[i].f, &cfg, AF_INET, &primary);
		if (trace)
			fprintf(
			    stderr,
			    "r%d prio %u interval %u cs preempt %d fast %d align %d delay %.3f s "
			    "startup %.3f s\n",
			    i, cfg.priority, cfg.adver_int_cs, cfg.preempt, cfg.preempt_fast,
			    cfg.align, cfg.preempt_delay_ns / 1e9, cfg.startup_delay_ns / 1e9);
	}
	for (int i = 0; i < s.n; i++)
		start(i);
	for (int steps = 0; inlen && steps < 256; steps++) {
		memcpy(old, s.r, sizeof(old));
		step(next_byte());
		check_always(old);
	}
	memcpy(old, s.r, sizeof(old));
	check_quiet();
	check_always(old);
	return 0;
}
