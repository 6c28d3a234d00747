/*
 * ctlcmd.h - the commands of the control socket (control.h): status,
 * hooks, reload and events. One table in ctlcmd.c names each command, its
 * usage and its handler; the replies are what vipctl prints, and what
 * scripts and tests parse.
 */
#ifndef VIPD_CTLCMD_H
#define VIPD_CTLCMD_H

struct ctl_client;

/*
 * The control socket's handler (a ctl_handler): answer one request of
 * the running daemon `arg` (a struct vipd) and end the client, or keep
 * it open for `events`. An unknown command, wrong arguments, or a
 * command that needs running instances while vipd stops get one
 * "error: ..." line.
 */
void ctlcmd_request(struct ctl_client *c, int argc, char **argv, void *arg);

#endif
