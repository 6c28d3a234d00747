/*
 * pace.c - a token bucket in front of the announcement bursts.
 */
#include "pace.h"

#include <string.h>

#include "loop.h"

/* Time one packet costs in the bucket, and the bucket's size in that unit. */
#define PKT_NS    (NS_PER_SEC / PACE_RATE)
#define BUCKET_NS (PACE_BURST * PKT_NS)

void
pacer_init(struct pacer *p, uint64_t now)
{
	memset(p, 0, sizeof(*p));
	p->tokens_ns = BUCKET_NS;
	p->last_ns = now;
}

static void
refill(struct pacer *p, uint64_t now)
{
	if (now > p->last_ns) {
		uint64_t t = p->tokens_ns + (now - p->last_ns);

		p->tokens_ns = t > BUCKET_NS ? BUCKET_NS : t;
	}
	p->last_ns = now;
}

static void
push(struct pacer *p, struct pace_job *j)
{
	j->next = NULL;
	j->queued = true;
	if (p->tail)
		p->tail->next = j;
	else
		p->head = j;
	p->tail = j;
}

static struct pace_job *
pop(struct pacer *p)
{
	struct pace_job *j = p->head;

	if (j) {
		p->head = j->next;
		if (!p->head)
			p->tail = NULL;
		j->next = NULL;
		j->queued = false;
	}
	return j;
}

void
pacer_add(struct pacer *p, struct pace_job *j, unsigned rounds)
{
	if (rounds == 0)
		return;
	j->rounds += rounds;
	if (!j->queued)
		push(p, j);
}

void
pacer_cancel(struct pacer *p, struct pace_job *j)
{
	j->rounds = 0;
	if (!j->queued)
		return;
	for (struct pace_job **pp = &p->head, *prev = NULL; *pp; prev = *pp, pp = &(*pp)->next) {
		if (*pp != j)
			continue;
		*pp = j->next;
		if (p->tail == j)
			p->tail = prev;
		break;
	}
	j->next = NULL;
	j->queued = false;
}

uint64_t
pacer_run(struct pacer *p, uint64_t now)
{
	struct pace_job *j;

	refill(p, now);
	while (p->head) {
		uint64_t cost = (uint64_t)(p->head->cost ? p->head->cost : 1) * PKT_NS;

		/* A round bigger than the bucket goes once the bucket is full. */
		if (cost > BUCKET_NS)
			cost = BUCKET_NS;
		if (p->tokens_ns < cost) {
			p->delayed_rounds++;
			return now + (cost - p->tokens_ns);
		}
		p->tokens_ns -= cost;
		j = pop(p);
		j->rounds--;
		p->sent += j->cost;
		/* Back in the queue before sending: send() may cancel or re-add it. */
		if (j->rounds > 0)
			push(p, j);
		j->send(j->arg);
	}
	return 0;
}

/* --- the daemon's pacer ------------------------------------------------------ */

static struct pacer pacer;
static struct timer *pace_timer;

static void
rearm(uint64_t next)
{
	if (next)
		timer_arm(pace_timer, next);
	else
		timer_disarm(pace_timer);
}

static void
pace_fired(struct loop *l, struct timer *t, void *arg)
{
	(void)l, (void)t, (void)arg;
	rearm(pacer_run(&pacer, mono_now_ns()));
}

int
pace_open(struct loop *l)
{
	if (pace_timer)
		return 0;
	pacer_init(&pacer, mono_now_ns());
	pace_timer = timer_new(l, pace_fired, NULL); /* never NULL (mem.h) */
	return 0;
}

void
pace_close(void)
{
	timer_free(pace_timer);
	pace_timer = NULL;
	memset(&pacer, 0, sizeof(pacer));
}

void
pace_add(struct pace_job *j, unsigned rounds)
{
	pacer_add(&pacer, j, rounds);
	rearm(pacer_run(&pacer, mono_now_ns()));
}

void
pace_cancel(struct pace_job *j)
{
	pacer_cancel(&pacer, j);
}
