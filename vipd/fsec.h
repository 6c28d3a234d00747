/*
 * fsec.h - file security: may vipd, running as root, run this program?
 * Not if a non-root user could change it, or any directory on its path.
 * Check scripts and notify hooks are refused by the config when this
 * says no.
 */
#ifndef VIPD_FSEC_H
#define VIPD_FSEC_H

#include <stddef.h>

/*
 * Whether only root can change the file at `path` (absolute): the file
 * and every directory on its path, symlinks resolved, are owned by root
 * and not writable by group or others. 0, or -1 with a reason naming the
 * component at fault in `why` ("/tmp has mode 1777, writable by group and
 * others").
 */
int fsec_root_only(const char *path, char *why, size_t whysize);

#endif
