/*
 * loop.h - the one event loop: epoll for file descriptors, a min-heap of
 * timers with absolute CLOCK_MONOTONIC deadlines, and epoll_pwait2()
 * sleeping until the earliest one (nanosecond precision, unlike
 * epoll_wait's millisecond timeout).
 *
 * Callbacks may add, delete, arm or free any fd or timer, including their
 * own, safely: deleted fds are skipped for the rest of the pass and freed
 * timers are never called again.
 */
#ifndef VIPD_LOOP_H
#define VIPD_LOOP_H

#include <stdbool.h>
#include <stdint.h>

#define NS_PER_SEC 1000000000ULL
#define NS_PER_MS  1000000ULL
#define NS_PER_US  1000ULL

struct loop;
struct timer;

/* events: EPOLLIN / EPOLLOUT / EPOLLERR / EPOLLHUP bits as delivered. */
typedef void (*loop_io_fn)(struct loop *l, int fd, uint32_t events, void *arg);
typedef void (*loop_timer_fn)(struct loop *l, struct timer *t, void *arg);

/* CLOCK_MONOTONIC now, in nanoseconds. */
uint64_t mono_now_ns(void);

struct loop *loop_new(void);
/* Frees the loop; fds are not closed, timers still allocated are freed. */
void loop_free(struct loop *l);

/* Watch fd for `events` (EPOLLIN, EPOLLOUT...). 0 or -1 (errno set). */
int loop_add_fd(struct loop *l, int fd, uint32_t events, loop_io_fn fn, void *arg);
int loop_mod_fd(struct loop *l, int fd, uint32_t events);
/* Stop watching fd (the caller closes it). Safe inside any callback. */
void loop_del_fd(struct loop *l, int fd);

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

#endif
