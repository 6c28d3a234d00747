/*
 * drain.h - which instances an operator drained (vipctl drain), kept in
 * STATE_DIR/drained so that a node rebooted during maintenance does not
 * take its VIPs back.
 *
 * The file is text: one instance name per line, or "*" for every
 * instance (also those a reload adds); blank lines and lines starting
 * with '#' are ignored. It is written whole (a temporary file, fsync,
 * rename) on every drain and undrain, and read once at start.
 */
#ifndef VIPD_DRAIN_H
#define VIPD_DRAIN_H

#include <stdbool.h>
#include <stddef.h>

#include "conf.h"

#define DRAIN_FILE     "drained"
#define DRAIN_MAX_SIZE (64 * 1024)

struct drain_set {
	bool all; /* "*" */
	char (*names)[CONF_NAME_MAX];
	size_t n;
};

/*
 * Read DIR/drained into *s (emptied first). A missing file is an empty
 * set: 0. A file that cannot be read, is not a regular file, is too big
 * or has a line that is not an instance name is -1, with the reason
 * ("FILE:LINE: ...") in why, and *s set to every instance: a node that
 * cannot tell what was drained stays out of service (fail safe) until an
 * operator says otherwise (vipctl undrain).
 */
int drain_load(const char *dir, struct drain_set *s, char *why, size_t whysize);
/* Write *s to DIR/drained (creating DIR, mode 0755). 0, or -1 and why. */
int drain_save(const char *dir, const struct drain_set *s, char *why, size_t whysize);

bool drain_has(const struct drain_set *s, const char *name);
/* Add a name (no-op if present). 0, or -1 (out of memory). */
int drain_add(struct drain_set *s, const char *name);
void drain_del(struct drain_set *s, const char *name);
void drain_clear(struct drain_set *s);

#endif
