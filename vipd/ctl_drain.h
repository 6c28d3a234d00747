/*
 * ctl_drain.h - `vipctl drain` and `vipctl undrain` (ctlcmd.c's table).
 */
#ifndef VIPD_CTL_DRAIN_H
#define VIPD_CTL_DRAIN_H

#include <stdbool.h>

struct ctl_client;
struct vipd;

/* Default of drain --wait's --timeout, ms. */
#define DRAIN_WAIT_DEFAULT_MS 10000
/* How often drain --wait looks whether another router took over. */
#define DRAIN_WAIT_POLL_MS 20

bool ctlcmd_drain(struct vipd *d, struct ctl_client *c, bool json, int argc, char **argv);
bool ctlcmd_undrain(struct vipd *d, struct ctl_client *c, bool json, int argc, char **argv);

#endif
