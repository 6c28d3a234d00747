/*
 * loop.h - the one event loop: epoll for file descriptors, a min-heap of
 * timers with absolute CLOCK_MONOTONIC deadlines, and epoll_pwait2()
 * sleeping until the earliest one (nanosecond precision, unlike
 * epoll_wait's millisecond timeout).
 *
 * Callbacks may add, delete, arm or free any fd or timer, including their
 * own, safely: deleted fds are skipped for the rest of the pass and freed
 * timers are never called again.
 *
 * Work per wake-up is bounded: one pass dispatches I/O events, then fires
 * due timers (earliest deadline first, FIFO among equal deadlines), each
 * half until LOOP_BUDGET_NS have passed; the rest waits for the next pass,
 * in order, after a zero-timeout look at epoll. A callback must bound its
 * own work (e.g. so many packets per call): the loop cannot interrupt it.
 */
#ifndef VIPD_LOOP_H
#define VIPD_LOOP_H

#include <stdbool.h>
#include <stdint.h>

#define NS_PER_SEC 1000000000ULL
#define NS_PER_MS  1000000ULL
#define NS_PER_US  1000ULL

/* Time one half of a pass (I/O or timers) may use before yielding. */
#define LOOP_BUDGET_NS (2 * NS_PER_MS)

struct loop;
struct timer;

/* events: EPOLLIN / EPOLLOUT / EPOLLERR / EPOLLHUP bits as delivered. */
typedef void (*loop_io_fn)(struct loop *l, int fd, uint32_t events, void *arg);
typedef void (*loop_timer_fn)(struct loop *l, struct timer *t, void *arg);
/* A clock in ns for the budget and the statistics (tests simulate one). */
typedef uint64_t (*loop_clock_fn)(void *arg);

/* How the loop has been keeping to its budget, for `vipctl status`. */
struct loop_stats {
	uint64_t passes;          /* passes run (a wake-up and the work it brought) */
	uint64_t budget_passes;   /* passes that spent a budget and left work for the next */
	uint64_t longest_pass_ns; /* the longest pass, sleeping excluded */
};

/* CLOCK_MONOTONIC now, in nanoseconds. */
uint64_t mono_now_ns(void);

/* Never NULL: out of memory is fatal here (mem.h). */
struct loop *loop_new(void);
/* Frees the loop; fds are not closed, timers still allocated are freed. */
void loop_free(struct loop *l);

/* Watch fd for `events` (EPOLLIN, EPOLLOUT...). 0 or -1 (errno set). */
int loop_add_fd(struct loop *l, int fd, uint32_t events, loop_io_fn fn, void *arg);
int loop_mod_fd(struct loop *l, int fd, uint32_t events);
/* Stop watching fd (the caller closes it). Safe inside any callback. */
void loop_del_fd(struct loop *l, int fd);

/* Never NULL (mem.h). */
struct timer *timer_new(struct loop *l, loop_timer_fn fn, void *arg);
/* (Re)arm at an absolute CLOCK_MONOTONIC deadline in ns. */
void timer_arm(struct timer *t, uint64_t deadline_ns);
/* Arm relative to now. */
void timer_arm_in(struct timer *t, uint64_t delay_ns);
void timer_disarm(struct timer *t);
bool timer_armed(const struct timer *t);
uint64_t timer_deadline(const struct timer *t); /* 0 if not armed */
/* Disarm and free; safe inside the timer's own callback. NULL is a no-op. */
void timer_free(struct timer *t);

/* Run until loop_stop(). Returns 0, or -1 on an unrecoverable epoll error. */
int loop_run(struct loop *l);
void loop_stop(struct loop *l);

/* Copy the statistics since loop_new(). */
void loop_get_stats(const struct loop *l, struct loop_stats *st);
/* Set the per-half budget in ns; 0 restores LOOP_BUDGET_NS. */
void loop_set_budget(struct loop *l, uint64_t budget_ns);
/*
 * Measure the budget and the statistics with fn(arg) instead of
 * CLOCK_MONOTONIC (NULL restores it). For tests: timer deadlines and
 * sleeping always use CLOCK_MONOTONIC.
 */
void loop_set_clock(struct loop *l, loop_clock_fn fn, void *arg);

#endif
