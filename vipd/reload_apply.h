/*
 * reload_apply.h - the daemon side of a configuration reload (SIGHUP and
 * `vipctl reload`): reload.c says what differs, reload_apply.c carries it
 * out on the running daemon (daemon.h).
 */
#ifndef VIPD_RELOAD_APPLY_H
#define VIPD_RELOAD_APPLY_H

#include <stdbool.h>

struct buf;
struct vipd;

/*
 * Parse d->conf->path anew and, if it is valid, apply the difference
 * (reload.h); else change nothing. Logs, publishes a "reload" event, and
 * appends the reply for `vipctl reload` to `reply`: the summary line, or
 * one "error: ..." line per problem. 0, or -1 if the file was refused.
 */
int reload_apply(struct vipd *d, struct buf *reply);

/* Free the retiring instances whose hooks are done; every one if `all`. */
void reload_reap_retired(struct vipd *d, bool all);

#endif
