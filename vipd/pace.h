/*
 * pace.h - gratuitous ARP / unsolicited NA bursts, paced.
 *
 * When many instances become Master together (start-up, a link cut on the
 * old Master) each wants a burst of garp_repeat announcements of every VIP
 * at once: 255 instances x 5 would be 1275 packets sent in one turn of
 * the loop, with adverts waiting behind them. Instead every burst is a
 * job in one queue drained through a token bucket: PACE_BURST packets at
 * once, then PACE_RATE per second. The queue is served round by round (one
 * announcement of each VIP of a job, then the next job), so every
 * instance's first announcement leaves before anyone's second.
 *
 * The core (struct pacer) is pure: it takes the time as an argument and
 * returns when it wants to run again, so it is tested on a simulated
 * clock; pace_* wire one pacer to the loop.
 */
#ifndef VIPD_PACE_H
#define VIPD_PACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PACE_BURST 64    /* packets the bucket holds */
#define PACE_RATE  20000 /* packets per second it refills */

struct loop;

struct pace_job {
	void (*send)(void *arg); /* one round: one announcement per VIP */
	void *arg;
	size_t cost;     /* packets in one round (the number of VIPs) */
	unsigned rounds; /* rounds still to send */
	bool queued;
	struct pace_job *next;
};

struct pacer {
	uint64_t tokens_ns; /* the bucket, as send time banked: PACE_RATE packets = 1 s */
	uint64_t last_ns;   /* when tokens_ns was last refilled */
	struct pace_job *head, *tail;
	uint64_t sent, delayed_rounds; /* counters */
};

void pacer_init(struct pacer *p, uint64_t now);
/* Queue `rounds` more rounds of j (a job already queued keeps its place). */
void pacer_add(struct pacer *p, struct pace_job *j, unsigned rounds);
/* Drop whatever is left of j (its instance left Master, or is freed). */
void pacer_cancel(struct pacer *p, struct pace_job *j);
/*
 * Send the rounds the bucket allows at `now`, oldest job first, one round
 * per job in turn. Returns when to run again (an absolute time), or 0 if
 * the queue is empty.
 */
uint64_t pacer_run(struct pacer *p, uint64_t now);

/* The daemon's pacer, run from the loop (pace_open() first): the first rounds go out at once. */
int pace_open(struct loop *l);
void pace_close(void);
void pace_add(struct pace_job *j, unsigned rounds);
void pace_cancel(struct pace_job *j);

#endif
