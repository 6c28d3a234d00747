/*
 * spawn_block.c - how long child_spawn() blocks the loop, measured.
 *
 * Spawns a program (/bin/true by default) N times, one at a time, timing
 * the child_spawn() call itself with CLOCK_MONOTONIC (the time the event
 * loop cannot run), and prints p50 / p99 / max in microseconds. The
 * process can first grow its heap by RSS_MB touched megabytes, to look
 * like a daemon that has been running for a while, and switch to
 * SCHED_RR with SCHED_RESET_ON_FORK as vipd does.
 *
 *     make all
 *     cc -O2 -D_GNU_SOURCE -iquote . -o build/spawn_block tests/tools/spawn_block.c \
 *         build/obj/vipd/child.o build/obj/vipd/spawn.o build/obj/vipd/loop.o \
 *         build/obj/vipd/log.o
 *     build/spawn_block [-n N] [-m RSS_MB] [-r] [-u USER] [PROGRAM ARGS...]
 *
 * It links against an older child.o without spawn.o too (the fork()
 * version), for the comparison: the helper start is then skipped.
 */
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vipd/child.h"
#include "vipd/loop.h"
#include "vipd/spawn.h"

/* Weak: absent from the fork() version of child.o. */
extern int spawn_helper_start(void) __attribute__((weak));

struct wait {
	struct loop *loop;
	bool done;
};

static void
on_done(const struct child_result *r, void *arg)
{
	struct wait *w = arg;

	(void)r;
	w->done = true;
	loop_stop(w->loop);
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	char *deflt[] = {"/bin/true", NULL};
	char **prog = deflt;
	const char *user = NULL;
	size_t n = 1000, rss_mb = 0;
	bool rr = false;
	int opt;

	while ((opt = getopt(argc, argv, "+n:m:ru:")) != -1) {
		switch (opt) {
		case 'n':
			n = strtoul(optarg, NULL, 10);
			break;
		case 'm':
			rss_mb = strtoul(optarg, NULL, 10);
			break;
		case 'r':
			rr = true;
			break;
		case 'u':
			user = optarg;
			break;
		default:
			fprintf(stderr,
			        "usage: spawn_block [-n N] [-m RSS_MB] [-r] [-u USER] [PROG...]\n");
			return 2;
		}
	}
	if (optind < argc)
		prog = argv + optind;
	/* As vipd does at start-up, before it grows (harmless for the fork() build). */
	if (spawn_helper_start)
		spawn_helper_start();
	if (rss_mb) {
		char *heap = malloc(rss_mb << 20);

		if (!heap)
			return 1;
		memset(heap, 1, rss_mb << 20); /* touched: real pages to copy at fork() */
	}
	if (rr) {
		struct sched_param sp = {.sched_priority = 10};

		if (sched_setscheduler(0, SCHED_RR | SCHED_RESET_ON_FORK, &sp) < 0)
			perror("sched_setscheduler");
	}

	struct loop *l = loop_new();
	uint64_t *t = calloc(n, sizeof(*t));
	struct child_opts o = {.argv = prog, .user = user, .keep_lines = 1};

	for (size_t i = 0; i < n; i++) {
		struct wait w = {.loop = l};
		uint64_t t0 = mono_now_ns();

		if (!child_spawn(l, &o, on_done, &w)) {
			perror("child_spawn");
			return 1;
		}
		t[i] = mono_now_ns() - t0;
		while (!w.done)
			loop_run(l);
	}
	qsort(t, n, sizeof(*t), cmp_u64);
	printf("%zu spawns of %s, rss +%zu MB%s%s%s: loop blocked per spawn p50 %.1f us, "
	       "p99 %.1f us, max %.1f us\n",
	       n, prog[0], rss_mb, rr ? ", SCHED_RR" : "", user ? ", user " : "", user ? user : "",
	       t[n / 2] / 1e3, t[n * 99 / 100] / 1e3, t[n - 1] / 1e3);
	loop_free(l);
	free(t);
	return 0;
}
