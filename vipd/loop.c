/*
 * loop.c - the event loop: one epoll fd, a handler table indexed by fd,
 * and a binary min-heap of timers with absolute CLOCK_MONOTONIC deadlines.
 *
 * Why epoll_pwait2() and not epoll_wait(): epoll_wait's timeout is in whole
 * milliseconds and rounded up, so a 10 ms VRRP advertisement (RFC 9568
 * §6.4.3) would leave up to a millisecond or more late, every time.
 * epoll_pwait2 takes a timespec, so we sleep exactly until the earliest
 * deadline; deadlines are absolute, so the schedule never drifts. (A
 * timerfd would do the same at the cost of two more system calls per
 * wakeup, to read and re-arm it: at 10 ms adverts that is half the CPU.)
 *
 * One pass of loop_run(): dispatch the I/O events of the last wake-up, fire
 * the due timers, free timers that were freed during the pass, then sleep
 * in epoll_pwait2 until the next deadline or an event.
 *
 * Each half of a pass has a budget (LOOP_BUDGET_NS of the loop's clock):
 * once it is spent, what is left (due timers, events not yet dispatched)
 * waits for the next pass, in order, behind a zero-timeout epoll call, so
 * no burst of work (a hundred instances becoming Master together, a flood
 * of packets) keeps the loop away from epoll for more than a few
 * milliseconds, and I/O and timers always both get their turn.
 */
#include "loop.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "mem.h"

#define LOOP_MAX_EVENTS 64
#define HEAP_NONE       SIZE_MAX /* timer->heap_idx when not armed */

struct io_handler {
	loop_io_fn fn; /* NULL: slot free */
	void *arg;
	uint32_t events;
	uint32_t gen; /* matches the gen in epoll_data, 0 when free */
	bool queued;  /* an event for it waits in loop->evs */
};

struct timer {
	struct loop *loop;
	loop_timer_fn fn;
	void *arg;
	uint64_t deadline_ns;      /* absolute CLOCK_MONOTONIC, valid when armed */
	uint64_t seq;              /* arming order: FIFO among equal deadlines */
	size_t heap_idx;           /* position in loop->heap, HEAP_NONE if not armed */
	bool dead;                 /* freed during a pass, released at its end */
	struct timer *prev, *next; /* every live timer, for loop_free() */
};

struct loop {
	int epfd;
	bool stop;
	int depth; /* > 0 while callbacks run: defer timer frees */

	struct io_handler *io; /* indexed by fd */
	size_t nio;
	uint32_t gen; /* last generation handed out to an fd */

	struct timer **heap;
	size_t nheap, capheap;
	uint64_t seq;
	struct timer *timers; /* all live timers */
	struct timer *dead;   /* freed in this pass, linked by next */

	/* Events of past wake-ups not dispatched yet, oldest first. */
	struct epoll_event evs[LOOP_MAX_EVENTS];
	int nevs;

	loop_clock_fn clock; /* measures the budget and the stats */
	void *clock_arg;
	uint64_t budget_ns;
	struct loop_stats stats;
};

uint64_t
mono_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

static uint64_t
mono_clock(void *arg)
{
	(void)arg;
	return mono_now_ns();
}

static uint64_t
loop_clock(const struct loop *l)
{
	return l->clock(l->clock_arg);
}

/* ---- timer heap, ordered by (deadline, seq) ---- */

static bool
timer_before(const struct timer *a, const struct timer *b)
{
	if (a->deadline_ns != b->deadline_ns)
		return a->deadline_ns < b->deadline_ns;
	return a->seq < b->seq;
}

static void
heap_set(struct loop *l, size_t i, struct timer *t)
{
	l->heap[i] = t;
	t->heap_idx = i;
}

static void
heap_sift_up(struct loop *l, size_t i)
{
	struct timer *t = l->heap[i];

	while (i > 0) {
		size_t parent = (i - 1) / 2;

		if (!timer_before(t, l->heap[parent]))
			break;
		heap_set(l, i, l->heap[parent]);
		i = parent;
	}
	heap_set(l, i, t);
}

static void
heap_sift_down(struct loop *l, size_t i)
{
	struct timer *t = l->heap[i];

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= l->nheap)
			break;
		if (c + 1 < l->nheap && timer_before(l->heap[c + 1], l->heap[c]))
			c++;
		if (!timer_before(l->heap[c], t))
			break;
		heap_set(l, i, l->heap[c]);
		i = c;
	}
	heap_set(l, i, t);
}

static void
heap_push(struct loop *l, struct timer *t)
{
	if (l->nheap == l->capheap) {
		size_t cap = l->capheap ? 2 * l->capheap : 16;
		struct timer **h = xreallocarray(l->heap, cap, sizeof(*h));

		l->heap = h;
		l->capheap = cap;
	}
	heap_set(l, l->nheap++, t);
	heap_sift_up(l, t->heap_idx);
}

static void
heap_remove(struct loop *l, struct timer *t)
{
	size_t i = t->heap_idx;
	struct timer *last = l->heap[--l->nheap];

	t->heap_idx = HEAP_NONE;
	if (last == t)
		return;
	/* The moved element may belong above or below its new slot. */
	heap_set(l, i, last);
	heap_sift_up(l, i);
	heap_sift_down(l, last->heap_idx);
}

/* ---- timers ---- */

struct timer *
timer_new(struct loop *l, loop_timer_fn fn, void *arg)
{
	struct timer *t = xcalloc(1, sizeof(*t));

	t->loop = l;
	t->fn = fn;
	t->arg = arg;
	t->heap_idx = HEAP_NONE;
	t->next = l->timers;
	if (l->timers)
		l->timers->prev = t;
	l->timers = t;
	return t;
}

void
timer_arm(struct timer *t, uint64_t deadline_ns)
{
	struct loop *l = t->loop;

	if (t->dead)
		return;
	/* 0 means "not armed" (timer_deadline). */
	if (deadline_ns == 0)
		deadline_ns = 1;
	t->deadline_ns = deadline_ns;
	t->seq = ++l->seq;
	if (t->heap_idx == HEAP_NONE) {
		heap_push(l, t);
	} else {
		heap_sift_up(l, t->heap_idx);
		heap_sift_down(l, t->heap_idx);
	}
	/* loop_wait() reads the earliest deadline before it sleeps again. */
}

void
timer_arm_in(struct timer *t, uint64_t delay_ns)
{
	timer_arm(t, mono_now_ns() + delay_ns);
}

void
timer_disarm(struct timer *t)
{
	if (t->heap_idx != HEAP_NONE)
		heap_remove(t->loop, t);
}

bool
timer_armed(const struct timer *t)
{
	return t->heap_idx != HEAP_NONE;
}

uint64_t
timer_deadline(const struct timer *t)
{
	return timer_armed(t) ? t->deadline_ns : 0;
}

void
timer_free(struct timer *t)
{
	struct loop *l;

	if (!t || t->dead)
		return;
	l = t->loop;
	timer_disarm(t);
	if (t->prev)
		t->prev->next = t->next;
	else
		l->timers = t->next;
	if (t->next)
		t->next->prev = t->prev;
	/*
	 * Inside a callback the caller (or the loop) may still hold the
	 * pointer for the rest of the pass; keep the memory until the pass
	 * ends. A dead timer is out of the heap and ignores timer_arm().
	 */
	if (l->depth > 0) {
		t->dead = true;
		t->next = l->dead;
		l->dead = t;
		return;
	}
	free(t);
}

static void
timers_reap(struct loop *l)
{
	while (l->dead) {
		struct timer *t = l->dead;

		l->dead = t->next;
		free(t);
	}
}

/*
 * Fire the timers due now, earliest first, until the budget is spent; true
 * if due timers are left for the next pass (they keep their place). Each
 * is disarmed before its callback so the callback may re-arm it; a timer
 * (re)armed during this run waits for the next one even if already due,
 * so a callback re-arming into the past cannot starve I/O.
 */
static bool
timers_run(struct loop *l)
{
	uint64_t now = mono_now_ns();
	uint64_t first_new = l->seq + 1;
	uint64_t start = loop_clock(l);
	bool left = false;
	unsigned fired = 0;

	l->depth++;
	while (l->nheap > 0 && !l->stop) {
		struct timer *t = l->heap[0];

		if (t->deadline_ns > now || t->seq >= first_new)
			break;
		/* At least one per pass, so a tiny budget still makes progress. */
		if (fired > 0 && loop_clock(l) - start >= l->budget_ns) {
			left = true;
			break;
		}
		heap_remove(l, t);
		t->fn(l, t, t->arg);
		fired++;
	}
	l->depth--;
	return left;
}

/* ---- file descriptors ---- */

static struct io_handler *
io_get(struct loop *l, int fd)
{
	if (fd < 0 || (size_t)fd >= l->nio || !l->io[fd].fn)
		return NULL;
	return &l->io[fd];
}

static void
io_grow(struct loop *l, int fd)
{
	size_t n = l->nio ? l->nio : 64;
	struct io_handler *io;

	while (n <= (size_t)fd)
		n *= 2;
	if (n == l->nio)
		return;
	io = xreallocarray(l->io, n, sizeof(*io));
	memset(io + l->nio, 0, (n - l->nio) * sizeof(*io));
	l->io = io;
	l->nio = n;
}

/*
 * epoll_data carries the fd and the generation it was added with: if the
 * fd is deleted (and perhaps its number reused by a new registration)
 * while an event for it is pending in this pass, the generations differ
 * and the stale event is dropped.
 */
static uint64_t
io_data(int fd, uint32_t gen)
{
	return (uint64_t)gen << 32 | (uint32_t)fd;
}

int
loop_add_fd(struct loop *l, int fd, uint32_t events, loop_io_fn fn, void *arg)
{
	struct epoll_event ev = {.events = events};
	struct io_handler *h;

	if (fd < 0 || !fn) {
		errno = EINVAL;
		return -1;
	}
	if (io_get(l, fd)) {
		errno = EEXIST;
		return -1;
	}
	io_grow(l, fd);
	if (++l->gen == 0) /* 0 marks a free slot */
		l->gen = 1;
	ev.data.u64 = io_data(fd, l->gen);
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) == -1)
		return -1;
	h = &l->io[fd];
	*h = (struct io_handler){.fn = fn, .arg = arg, .events = events, .gen = l->gen};
	return 0;
}

int
loop_mod_fd(struct loop *l, int fd, uint32_t events)
{
	struct io_handler *h = io_get(l, fd);
	struct epoll_event ev = {.events = events};

	if (!h) {
		errno = ENOENT;
		return -1;
	}
	if (h->events == events)
		return 0;
	ev.data.u64 = io_data(fd, h->gen);
	if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) == -1)
		return -1;
	h->events = events;
	return 0;
}

void
loop_del_fd(struct loop *l, int fd)
{
	struct io_handler *h = io_get(l, fd);

	if (!h)
		return;
	/* May fail harmlessly if the caller already closed fd. */
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
	memset(h, 0, sizeof(*h));
}

static bool
io_stale(struct loop *l, const struct epoll_event *ev, struct io_handler **hp)
{
	int fd = (int)(uint32_t)ev->data.u64;
	uint32_t gen = (uint32_t)(ev->data.u64 >> 32);
	struct io_handler *h = io_get(l, fd);

	*hp = h;
	return !h || h->gen != gen; /* deleted since epoll reported it */
}

/*
 * Append the n events epoll just wrote after the waiting ones. An fd
 * whose earlier event still waits is not queued twice (it would be called
 * twice in one pass): its new bits join the waiting event.
 */
static void
io_queue(struct loop *l, int n)
{
	struct epoll_event *fresh = l->evs + l->nevs;
	int old = l->nevs;

	for (int i = 0; i < n; i++) {
		struct io_handler *h;

		if (io_stale(l, &fresh[i], &h))
			continue;
		if (!h->queued) {
			h->queued = true;
			l->evs[l->nevs++] = fresh[i];
			continue;
		}
		for (int j = 0; j < old; j++)
			if (l->evs[j].data.u64 == fresh[i].data.u64)
				l->evs[j].events |= fresh[i].events;
	}
}

/*
 * Call the handlers of the queued events, oldest first, until the budget
 * is spent; true if events are left for the next pass. Level-triggered
 * fds (all of vipd's) lose nothing by waiting: a handler with more to do
 * than its own per-call bound is simply reported again.
 */
static bool
io_dispatch(struct loop *l)
{
	uint64_t start = loop_clock(l);
	unsigned called = 0;
	int i = 0;

	l->depth++;
	while (i < l->nevs && !l->stop) {
		struct io_handler *h;

		if (called > 0 && loop_clock(l) - start >= l->budget_ns)
			break;
		struct epoll_event ev = l->evs[i++];
		if (io_stale(l, &ev, &h))
			continue; /* deleted earlier in this pass */
		h->queued = false;
		h->fn(l, (int)(uint32_t)ev.data.u64, ev.events, h->arg);
		called++;
	}
	l->depth--;
	l->nevs -= i;
	memmove(l->evs, l->evs + i, (size_t)l->nevs * sizeof(l->evs[0]));
	return l->nevs > 0 && !l->stop;
}

/* Forget the waiting events; epoll reports the fds again if still ready. */
static void
io_drop_queued(struct loop *l)
{
	for (int i = 0; i < l->nevs; i++) {
		struct io_handler *h;

		if (!io_stale(l, &l->evs[i], &h))
			h->queued = false;
	}
	l->nevs = 0;
}

/* ---- the loop ---- */

struct loop *
loop_new(void)
{
	struct loop *l = xcalloc(1, sizeof(*l));

	l->clock = mono_clock;
	l->budget_ns = LOOP_BUDGET_NS;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd == -1) {
		log_warn("loop_new");
		loop_free(l);
		return NULL;
	}
	return l;
}

void
loop_free(struct loop *l)
{
	if (!l)
		return;
	timers_reap(l);
	while (l->timers) {
		struct timer *t = l->timers;

		l->timers = t->next;
		free(t);
	}
	if (l->epfd >= 0)
		close(l->epfd);
	free(l->heap);
	free(l->io);
	free(l);
}

/*
 * Sleep until an event or the earliest deadline, whichever comes first;
 * with work left from the last pass (`busy`), only look. New events go
 * after those still waiting in l->evs. Without epoll_pwait2 (kernels
 * before 5.11, valgrind 3.19) fall back to epoll_wait with the timeout
 * rounded up to whole milliseconds: timers then fire up to a millisecond
 * late, never early.
 */
static int
loop_wait(struct loop *l, bool busy)
{
	static bool no_pwait2;
	struct epoll_event *evs = l->evs + l->nevs;
	int max = LOOP_MAX_EVENTS - l->nevs; /* >= 1: a pass dispatches one at least */
	struct timespec ts;
	uint64_t now, rel;

	if (busy)
		return epoll_wait(l->epfd, evs, max, 0);
	if (l->nheap == 0)
		return epoll_wait(l->epfd, evs, max, -1);
	now = mono_now_ns();
	rel = l->heap[0]->deadline_ns > now ? l->heap[0]->deadline_ns - now : 0;
	if (!no_pwait2) {
		ts.tv_sec = (time_t)(rel / NS_PER_SEC);
		ts.tv_nsec = (long)(rel % NS_PER_SEC);
		int n = epoll_pwait2(l->epfd, evs, max, &ts, NULL);
		if (n >= 0 || errno != ENOSYS)
			return n;
		no_pwait2 = true;
		log_debug("loop: no epoll_pwait2, timers have millisecond precision");
	}
	uint64_t ms = (rel + NS_PER_MS - 1) / NS_PER_MS;
	return epoll_wait(l->epfd, evs, max, ms > INT32_MAX ? INT32_MAX : (int)ms);
}

static void
pass_done(struct loop *l, uint64_t start, bool over_budget)
{
	uint64_t ns = loop_clock(l) - start;

	l->stats.passes++;
	if (over_budget)
		l->stats.budget_passes++;
	if (ns > l->stats.longest_pass_ns)
		l->stats.longest_pass_ns = ns;
}

int
loop_run(struct loop *l)
{
	uint64_t start = loop_clock(l);
	bool io_left = false;
	int rc = 0;

	while (!l->stop) {
		bool timers_left = timers_run(l);

		timers_reap(l);
		pass_done(l, start, io_left || timers_left);
		if (l->stop)
			break;
		int n = loop_wait(l, io_left || timers_left);
		start = loop_clock(l);
		if (n == -1) {
			if (errno != EINTR) { /* signals arrive by signalfd or set flags */
				log_warn("loop: epoll_wait");
				rc = -1;
				break;
			}
			n = 0;
		}
		io_queue(l, n);
		io_left = io_dispatch(l);
		timers_reap(l);
	}
	io_drop_queued(l);
	l->stop = false; /* so the loop can be run again */
	return rc;
}

void
loop_stop(struct loop *l)
{
	l->stop = true;
}

void
loop_set_budget(struct loop *l, uint64_t budget_ns)
{
	l->budget_ns = budget_ns ? budget_ns : LOOP_BUDGET_NS;
}

void
loop_set_clock(struct loop *l, loop_clock_fn fn, void *arg)
{
	l->clock = fn ? fn : mono_clock;
	l->clock_arg = fn ? arg : NULL;
}

void
loop_get_stats(const struct loop *l, struct loop_stats *st)
{
	*st = l->stats;
}
