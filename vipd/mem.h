/*
 * mem.h - vipd's one out-of-memory policy, and the helpers that apply it.
 *
 * Two kinds of allocation, two answers:
 *
 * 1. Building a configuration: parsing the file, a reload's plan, and the
 *    config-sized tables and objects made from it before anything running
 *    is touched (the daemon's check and instance arrays, a check, an
 *    instance, its hook queue and port). These call malloc()/calloc()
 *    themselves and return an error (-1 or NULL) up to the caller, which
 *    refuses the configuration: at start-up vipd exits with the reason; a
 *    reload is refused, the running configuration stays and vipd goes on.
 *
 * 2. Everything the running daemon allocates as it works: the loop's
 *    timers and tables, a control client, an event sink, a check run, a
 *    hook job and its strings, the buffers replies are rendered into.
 *    These go through xmalloc() and its siblings, which log and exit via
 *    fatal(). A daemon that cannot allocate a few bytes cannot keep its
 *    promises (adverts on time, VIPs where they belong); exiting lets the
 *    peers take over at once and the service manager restart vipd, where
 *    limping on with a half-done action would not. (Objects of kind 1 own
 *    timers, so a reload that runs out of memory there exits too.)
 *
 * The spawner (spawn.c) is a separate process: it reports a failure to
 * start a child back to vipd, which treats it like any failed spawn.
 */
#ifndef VIPD_MEM_H
#define VIPD_MEM_H

#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t size);
/* realloc() for n elements of size, refusing an overflowing product. */
void *xreallocarray(void *p, size_t n, size_t size);
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
