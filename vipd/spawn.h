/*
 * spawn.h - start programs without fork() in the daemon: the process side
 * of child.h.
 *
 * fork() copies the daemon's page tables while the loop waits (0.7 ms per
 * spawn on a small VM for a fresh vipd, 2 ms and more once it has grown),
 * and a vfork()-style clone makes the loop wait for the child to reach
 * execve(), at normal priority behind whatever else runs (18 ms at the
 * 99th percentile on a busy 2-CPU VM). So a helper process, forked once
 * while the daemon is small, starts the programs: the loop sends it one
 * datagram per spawn and learns the pid later from a pipe it watches.
 * The helper starts each child with clone(CLONE_PARENT), so the child is
 * the daemon's own: reaped by it, its pidfd and exit status its own. The
 * numbers are in vipd.8.
 */
#ifndef VIPD_SPAWN_H
#define VIPD_SPAWN_H

#include <sys/types.h>

struct child_opts;

/*
 * Remember the resource limits vipd was started with (RLIMIT_RTTIME,
 * RLIMIT_RTPRIO), which its children get back: call it before vipd
 * changes them. Without it children keep the daemon's.
 */
void spawn_init(void);

/*
 * Fork the helper now (vipd does at start-up, before it grows); otherwise
 * the first spawn_request() does, and so does the one after the helper
 * has died. 0, or -1 with errno.
 */
int spawn_helper_start(void);
/* Stop the helper and reap it (shutdown; tests that count children). */
void spawn_helper_stop(void);

/*
 * Have o->argv started with everything child.h promises: a new session
 * (and process group), /dev/null as stdin, stdout and stderr into a new pipe, every
 * other fd closed, o->user's uid, gid and groups, signals unblocked and
 * at their default, SCHED_OTHER, the resource limits vipd started with
 * (spawn_init()), umask 022, cwd /, the fixed environment plus
 * o->env. Does not wait for the start: returns at once with *outfd, the
 * pipe's read end (non-blocking, close-on-exec), and *replyfd, readable
 * once the helper has started the child (or failed to): then
 * spawn_reply() tells. Both are the caller's to close. 0, or -1 with
 * errno: EINVAL (no argv), ENOENT (no such user), E2BIG (argv and
 * environment over 60 kB), or what pipe2, fork or sendmsg failed with.
 */
int spawn_request(const struct child_opts *o, int *outfd, int *replyfd);

/*
 * The answer on replyfd: the child's pid, or -1 with errno: EAGAIN (no
 * answer yet), what clone() failed with in the helper, or EPIPE (the
 * helper died before answering).
 */
pid_t spawn_reply(int replyfd);

#endif
