/*
 * testutil.h - helpers for the unit tests that run a real event loop:
 * running it for a while, and a periodic timer that measures how late
 * the loop fires it (the "never blocks the loop" assertions).
 */
#ifndef VIPD_TESTUTIL_H
#define VIPD_TESTUTIL_H

#include <net/if.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vipd/loop.h"

/* Stops the loop; arg, if not NULL, is a bool set to true. */
static inline void
tu_stop_cb(struct loop *l, struct timer *t, void *arg)
{
	(void)t;
	if (arg)
		*(bool *)arg = true;
	loop_stop(l);
}

/* Run the loop until something stops it or ms pass; true if the time ran out. */
static inline bool
tu_run_for(struct loop *l, unsigned ms)
{
	bool expired = false;
	struct timer *t = timer_new(l, tu_stop_cb, &expired);

	timer_arm_in(t, (uint64_t)ms * NS_PER_MS);
	loop_run(l);
	timer_free(t);
	return expired;
}

/*
 * A tick this late means the loop was blocked. Every hang in these tests
 * lasts 200 ms or more, so a loop that waited for it shows a tick at least
 * that late; a shared 2-CPU machine running ASan shows tens of ms now and
 * then with nothing blocked. The fine-grained timing (adverts within
 * 2 ms) is measured on the wire by the network tests, with a reference for
 * the machine's own stalls (tests/net/lab.py judge_advert_gaps).
 */
#define TU_BLOCKED_NS (100 * NS_PER_MS)

/* A timer every period_ns on an absolute grid; how late the loop ran it at worst. */
struct tu_ticker {
	uint64_t period_ns;
	uint64_t next_ns;
	uint64_t max_late_ns;
	unsigned ticks;
	struct timer *timer;
};

static inline void
tu_tick_cb(struct loop *l, struct timer *t, void *arg)
{
	struct tu_ticker *k = arg;
	uint64_t now = mono_now_ns();

	(void)l;
	if (now - k->next_ns > k->max_late_ns)
		k->max_late_ns = now - k->next_ns;
	k->ticks++;
	k->next_ns += k->period_ns;
	timer_arm(t, k->next_ns);
}

/* Start ticking every period_ns from now + period_ns; tu_ticker_stop() frees it. */
static inline void
tu_ticker_start(struct loop *l, struct tu_ticker *k, uint64_t period_ns)
{
	*k = (struct tu_ticker){.period_ns = period_ns, .next_ns = mono_now_ns() + period_ns};
	k->timer = timer_new(l, tu_tick_cb, k);
	timer_arm(k->timer, k->next_ns);
}

static inline void
tu_ticker_stop(struct tu_ticker *k)
{
	timer_free(k->timer);
	k->timer = NULL;
}

/*
 * Move the test into a network namespace of its own with lo up, so what
 * it sends and the addresses it adds never leave it. 1 done; 0 not
 * allowed (not root: the caller's cases skip); -1 in the namespace but lo
 * could not be brought up (the caller fails).
 */
static inline int
tu_own_netns(void)
{
	struct ifreq ifr = {0};
	bool ok;
	int fd;

	if (unshare(CLONE_NEWNET) < 0)
		return 0;
	if ((fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	ok = ioctl(fd, SIOCGIFFLAGS, &ifr) == 0;
	ifr.ifr_flags |= IFF_UP;
	ok = ok && ioctl(fd, SIOCSIFFLAGS, &ifr) == 0;
	close(fd);
	return ok ? 1 : -1;
}

#endif
