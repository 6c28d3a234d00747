/*
 * sdnotify.h - telling systemd how vipd is doing: the service
 * notification protocol of sd_notify(3), for a unit with Type=notify and
 * WatchdogSec=.
 *
 * The protocol is a documented, stable interface (systemd's "Interface
 * Portability and Stability" list): one AF_UNIX datagram per message to
 * the socket named by $NOTIFY_SOCKET (a path, or "@name" in the abstract
 * namespace), holding newline-separated "KEY=VALUE" lines. It is a
 * hundred lines here, so vipd does not link libsystemd (its mapping and
 * the compression and crypto libraries it pulls in would add several
 * hundred KiB to a daemon whose PSS is about 1.1 MB; vipd.8 has the
 * numbers).
 *
 * Nothing here ever blocks the loop: sends are non-blocking and a
 * message that does not fit in the socket's queue is dropped (systemd
 * reads it at once; the next one says the same or newer). Without
 * $NOTIFY_SOCKET every call is a no-op.
 *
 * The watchdog (WATCHDOG_USEC, and WATCHDOG_PID naming us or absent) is a
 * timer on the loop sending WATCHDOG=1 every half interval: a loop that
 * stops turning stops sending, and systemd restarts vipd.
 */
#ifndef VIPD_SDNOTIFY_H
#define VIPD_SDNOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

struct loop;

/* The longest STATUS= text, in bytes: one line in `systemctl status`. */
#define SDN_STATUS_MAX 200
/* STATUS= updates from sdnotify_status_changed() are at least this far apart. */
#define SDN_STATUS_MIN_NS (100ULL * 1000000ULL)

/* Builds the STATUS= text (at most size - 1 bytes) when one is to be sent. */
typedef void (*sdn_status_fn)(char *s, size_t size, void *arg);

/*
 * Take $NOTIFY_SOCKET, $WATCHDOG_USEC and $WATCHDOG_PID from the
 * environment (and unset them: scripts and hooks are not vipd), open the
 * socket and arm the watchdog timer on `l`. `fn(s, size, arg)` builds the
 * STATUS= text. 0 (also when not run by systemd: every call is then a
 * no-op), or -1 when $NOTIFY_SOCKET is set but unusable (logged).
 */
int sdnotify_open(struct loop *l, sdn_status_fn fn, void *arg);
/* Whether notifications go anywhere. */
bool sdnotify_enabled(void);
/* The watchdog interval systemd asked for, in microseconds; 0 without. */
uint64_t sdnotify_watchdog_interval_us(void);
/* Free the timers and close the socket. */
void sdnotify_close(void);

/* "READY=1" with the STATUS= line: start-up done, or a reload finished. */
void sdnotify_ready(void);
/* "RELOADING=1" with MONOTONIC_USEC=: a reload begins (READY=1 ends it). */
void sdnotify_reloading(void);
/* "STOPPING=1": the graceful stop begins; STATUS= updates end. */
void sdnotify_stopping(void);
/*
 * Something STATUS= shows has changed: send it anew, at most once per
 * SDN_STATUS_MIN_NS (a burst of changes is one update, sent from a loop
 * timer) and only if the text differs from the last one sent.
 */
void sdnotify_status_changed(void);

/*
 * Send one message ("KEY=VALUE" lines) without blocking. 0, or -1 (not
 * enabled, the socket's queue full, or no listener).
 */
int sdnotify_send(const char *msg);

/* --- pure parts, for the tests ------------------------------------------ */

/*
 * The address for a $NOTIFY_SOCKET value: an absolute path, or "@name"
 * for the abstract namespace (a leading NUL, and a length that ends at
 * the name, not at sun_path's end). 0, or -1 (empty, relative, too long).
 */
int sdnotify_addr(const char *val, struct sockaddr_un *sa, socklen_t *len);

/*
 * The watchdog interval in microseconds from $WATCHDOG_USEC and
 * $WATCHDOG_PID (either may be NULL) for process `self`: 0 when there is
 * no watchdog, the value is not a positive number, or WATCHDOG_PID names
 * another process.
 */
uint64_t sdnotify_watchdog_usec(const char *usec, const char *pid, pid_t self);

/* One instance for the STATUS= line. */
struct sdn_inst {
	const char *name;
	const char *state; /* "MASTER", "BACKUP"... */
};

/*
 * The STATUS= text into s (at most min(size, SDN_STATUS_MAX + 1) - 1
 * bytes, always terminated): every instance with its state when that
 * fits, "2 instances: VI_1 MASTER, VI_2 BACKUP; 3 checks up", else the
 * count per state in alphabetical order, "300 instances: 140 BACKUP,
 * 10 FAULT, 150 MASTER; 2 of 3 checks up". No checks: no checks part.
 */
void sdnotify_status_format(char *s, size_t size, const struct sdn_inst *in, size_t n,
                            size_t checks_up, size_t nchecks);

#endif
