/*
 * control.h - the control socket (AF_UNIX stream, mode 0600).
 *
 * A client sends one request line, words separated by blanks
 * ("status --json\n"); the daemon answers with text and closes, or keeps
 * the connection open to stream events. Replies are queued and written as
 * the socket allows, so a slow client never blocks the loop.
 */
#ifndef VIPD_CONTROL_H
#define VIPD_CONTROL_H

#include <stddef.h>

struct loop;
struct ctl_client;

#define CTL_MAX_ARGS 16
#define CTL_MAX_LINE 1024

/*
 * Split a request line (modified in place) into its blank-separated words:
 * argc >= 1 and argv NULL-terminated, or -1 and why ("empty request", "too
 * many arguments"). Pure; the socket code calls it on each complete line.
 */
int ctl_split(char *line, char *argv[CTL_MAX_ARGS + 1], const char **why);

/* Called once per request; argv[0] is the command. */
typedef void (*ctl_handler)(struct ctl_client *c, int argc, char **argv, void *arg);

/*
 * Listen on path (parent directory created 0755 if missing). Refuses
 * (-1, errno EADDRINUSE) if a live daemon answers there; removes a stale
 * socket file. Refuses (-1, EPERM, control_error() says why) a parent
 * directory owned by anyone but root or vipd's user, or writable by group
 * or others. 0 or -1.
 */
int control_open(struct loop *l, const char *path, ctl_handler fn, void *arg);
/* Why the last control_open() failed, for the parent directory; NULL otherwise. */
const char *control_error(void);
/* Close the listener and every client, unlink the path. */
void control_close(struct loop *l);

void ctl_write(struct ctl_client *c, const char *data, size_t len);
void ctl_printf(struct ctl_client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Close once everything queued is written. */
void ctl_end(struct ctl_client *c);

/*
 * For a client the handler keeps open (a stream): fn is called once when
 * the peer leaves or is dropped for reading too slowly (more than 1 MiB
 * unread). The connection is closed by then and writes are dropped; the
 * holder stops writing and calls ctl_end(c), which frees the client.
 * control_close() frees every client without calling fn.
 */
typedef void (*ctl_gone_fn)(struct ctl_client *c, void *arg);
void ctl_on_gone(struct ctl_client *c, ctl_gone_fn fn, void *arg);

#endif
