/*
 * child.h - run a program as a child process without ever blocking the loop.
 *
 * The child gets its own session and process group, /dev/null as stdin,
 * a pipe for stdout and stderr (the last lines are kept), no other fd, an
 * unblocked signal mask and default dispositions, SCHED_OTHER whatever
 * the daemon runs under, the resource limits vipd started with, umask
 * 022, cwd /, the given user's uid, gid and groups, and a small
 * fixed environment plus the caller's. It is started without fork()
 * (spawn.h), so starting it costs the loop the same few tens of
 * microseconds however large the daemon is. Its exit is noticed through
 * a pidfd in the loop. At the timeout the whole group gets SIGTERM, and
 * SIGKILL 2 s later if the program is still running; once a timed-out
 * program has exited, whatever is left of its group is SIGKILLed at once.
 * Without a timeout, background processes the program leaves are its own
 * business: `done` runs when the program itself exits.
 *
 * Built for two callers: check scripts (the check engine owns the timeout
 * and calls child_kill() when it expires) and notify hooks (one at a time,
 * the next one spawned from the previous one's done callback, with the
 * timeout given here: SIGTERM, then SIGKILL 2 s later).
 */
#ifndef VIPD_CHILD_H
#define VIPD_CHILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct loop;
struct child;

struct child_opts {
	char *const *argv;   /* argv[0]: absolute path of the program */
	char *const *env;    /* extra "NAME=value" entries, NULL-terminated; may be NULL */
	const char *user;    /* run as this user (NULL = keep ours) */
	uint64_t timeout_ns; /* 0 = no timeout */
	size_t keep_lines;   /* last lines of output to keep (0 = discard) */
};

struct child_result {
	int status;           /* wait status: WIFEXITED / WEXITSTATUS / WIFSIGNALED... */
	pid_t pid;            /* the child's pid (0: it never started) */
	bool timed_out;       /* killed because of the timeout */
	uint64_t duration_ns; /* spawn to exit */
	uint64_t timeout_ns;  /* as given in child_opts (for messages) */
	const char *output;   /* last lines of stdout+stderr; valid during the callback */
};

typedef void (*child_done_fn)(const struct child_result *r, void *arg);

/*
 * Start argv. `done` runs once, from the loop (never from inside
 * child_spawn()), when the child has exited and been reaped; the struct
 * child is freed right after it returns, so forget it there. NULL on
 * failure (errno set): EINVAL (no argv), ENOENT (no such user), E2BIG,
 * or what pipe or the request to the spawn helper failed with. A program
 * that cannot be executed (or a user that cannot be switched to, or a
 * process the helper could not create) is not a failure here: it exits
 * 127 with the reason in its output ("vipd: cannot run /x: Permission
 * denied").
 */
struct child *child_spawn(struct loop *l, const struct child_opts *o, child_done_fn done,
                          void *arg);
/*
 * Kill the whole process group at once (SIGKILL) and forget the child:
 * `done` is never called for it, and c must not be used again. Never
 * waits: the loop reaps the child when its pidfd says it has died (at
 * once, or later for a process in uninterruptible sleep) and frees it
 * then. NULL is a no-op; so is a call from the child's own done callback.
 */
void child_kill(struct child *c);
/*
 * Reap the children child_kill() left dying in loop l, waiting for them
 * up to a second in all (a SIGKILLed process is gone in microseconds
 * unless stuck in the kernel; one still there is left to init). For
 * shutdown: call it before loop_free(l) if children may have been
 * killed. The one call here that blocks.
 */
void child_reap_killed(struct loop *l);
/* The pid; 0 until the loop has heard that the child has started. */
pid_t child_pid(const struct child *c);

/* "exit 0", "exit 3", "killed by SIGTERM", "timed out after 1000 ms"... into buf. */
const char *child_describe(const struct child_result *r, char *buf, size_t size);

#endif
