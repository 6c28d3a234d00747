/*
 * conninfo.h - a libpq connection string vipd can use without blocking:
 * the pgsql checks' conninfo and an instance's promote_pgsql.
 */
#ifndef VIPD_CONNINFO_H
#define VIPD_CONNINFO_H

#include <stddef.h>

/*
 * Whether libpq loads (checks/dl.h) and parses `conninfo`, and every host
 * it names is an IP address or a socket directory. 0, or -1 with the
 * reason in `why` (libpq's own message for a parse error).
 */
int conninfo_check(const char *conninfo, char *why, size_t whysize);

#endif
