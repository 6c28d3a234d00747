/*
 * sdnotify.c - systemd's service notification protocol (sd_notify(3)):
 * the datagram socket, the watchdog timer, the coalesced STATUS= line.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "loop.h"
#include "sdnotify.h"

/* Distinct states counted in the summarised STATUS= line. */
#define SDN_STATES_MAX 16

static struct {
	int fd; /* -1: not run by systemd, every call a no-op */
	struct sockaddr_un sa;
	socklen_t salen;
	uint64_t watchdog_us;
	struct timer *watchdog;
	struct timer *status;    /* the coalescing timer of sdnotify_status_changed() */
	uint64_t status_sent_ns; /* when STATUS= last went out (monotonic) */
	char last[SDN_STATUS_MAX + 1];
	bool stopping; /* after STOPPING=1: no more STATUS= updates */
	sdn_status_fn status_fn;
	void *status_arg;
	uint64_t failed_log; /* log_ratelimit stamp of send failures */
} sdn = {.fd = -1};

/* --- the address and the environment ------------------------------------- */

int
sdnotify_addr(const char *val, struct sockaddr_un *sa, socklen_t *len)
{
	size_t n = val ? strlen(val) : 0;

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	/* A path must be absolute; "@name" is the abstract namespace (needs a name). */
	if (n < 2 || (val[0] != '/' && val[0] != '@') || n >= sizeof(sa->sun_path)) {
		errno = EINVAL;
		return -1;
	}
	memcpy(sa->sun_path, val, n);
	if (val[0] == '@') {
		/* The abstract name is exactly the bytes after the NUL: no terminator counted. */
		sa->sun_path[0] = '\0';
		*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	} else {
		*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
	}
	return 0;
}

/* A decimal number without sign, spaces or trailing text; false if not one. */
static bool
parse_u64(const char *s, uint64_t *out)
{
	char *end;

	if (!s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end)
		return false;
	*out = v;
	return true;
}

uint64_t
sdnotify_watchdog_usec(const char *usec, const char *pid, pid_t self)
{
	uint64_t us, p;

	if (!parse_u64(usec, &us) || us == 0)
		return 0;
	/* Meant for another process (we were started by one that was told). */
	if (pid && (!parse_u64(pid, &p) || p != (uint64_t)self))
		return 0;
	return us;
}

/* --- sending --------------------------------------------------------------- */

int
sdnotify_send(const char *msg)
{
	if (sdn.fd < 0)
		return -1;
	/*
	 * Never blocks: a full queue drops this message (the next says as
	 * much or more). sendto() every time, not connect(): a re-executed
	 * systemd binds the path anew.
	 */
	if (sendto(sdn.fd, msg, strlen(msg), MSG_DONTWAIT | MSG_NOSIGNAL,
	           (const struct sockaddr *)&sdn.sa, sdn.salen) >= 0)
		return 0;
	if (log_ratelimit(&sdn.failed_log, mono_now_ns()))
		log_warn("cannot notify systemd");
	return -1;
}

static void send_fmt(const char *fmt, ...) LOG_PRINTF(1, 2);

static void
send_fmt(const char *fmt, ...)
{
	char msg[SDN_STATUS_MAX + 128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sdnotify_send(msg);
}

/* The current STATUS= text into sdn.last; false if it is what was sent last. */
static bool
status_build(void)
{
	char s[SDN_STATUS_MAX + 1] = "";

	if (sdn.status_fn)
		sdn.status_fn(s, sizeof(s), sdn.status_arg);
	/* One line: systemd shows the text as it is. */
	s[strcspn(s, "\n")] = '\0';
	if (strcmp(s, sdn.last) == 0)
		return false;
	memcpy(sdn.last, s, sizeof(s));
	return true;
}

void
sdnotify_ready(void)
{
	if (sdn.fd < 0)
		return;
	status_build();
	send_fmt("READY=1\nSTATUS=%s", sdn.last);
	sdn.status_sent_ns = mono_now_ns();
}

void
sdnotify_reloading(void)
{
	if (sdn.fd < 0)
		return;
	/* MONOTONIC_USEC ties the reload to this moment (systemd >= 253 wants it). */
	send_fmt("RELOADING=1\nMONOTONIC_USEC=%llu",
	         (unsigned long long)(mono_now_ns() / NS_PER_US));
}

void
sdnotify_stopping(void)
{
	if (sdn.fd < 0)
		return;
	sdn.stopping = true;
	timer_disarm(sdn.status);
	send_fmt("STOPPING=1\nSTATUS=stopping");
}

static void
status_tick(struct loop *l, struct timer *t, void *arg)
{
	(void)l;
	(void)arg;
	/* Armed before a READY=1 that has just carried a STATUS=: keep the spacing. */
	if (mono_now_ns() < sdn.status_sent_ns + SDN_STATUS_MIN_NS) {
		timer_arm(t, sdn.status_sent_ns + SDN_STATUS_MIN_NS);
		return;
	}
	if (sdn.stopping || !status_build())
		return;
	send_fmt("STATUS=%s", sdn.last);
	sdn.status_sent_ns = mono_now_ns();
}

void
sdnotify_status_changed(void)
{
	if (sdn.fd < 0 || sdn.stopping || timer_armed(sdn.status))
		return;
	/*
	 * From a timer, not here: every change until it fires (a whole burst
	 * of transitions in one loop pass) is one update.
	 */
	timer_arm(sdn.status, sdn.status_sent_ns + SDN_STATUS_MIN_NS);
}

/* --- the watchdog ---------------------------------------------------------- */

/*
 * Half the interval, as sd_watchdog_enabled(3) advises: one late or lost
 * keep-alive does not get vipd killed, a loop that stopped does.
 */
static void
watchdog_tick(struct loop *l, struct timer *t, void *arg)
{
	(void)l;
	(void)arg;
	sdnotify_send("WATCHDOG=1");
	timer_arm_in(t, sdn.watchdog_us * NS_PER_US / 2);
}

/* --- open and close -------------------------------------------------------- */

int
sdnotify_open(struct loop *l, sdn_status_fn fn, void *arg)
{
	const char *path = getenv("NOTIFY_SOCKET");
	uint64_t wd =
	    sdnotify_watchdog_usec(getenv("WATCHDOG_USEC"), getenv("WATCHDOG_PID"), getpid());
	int rc = 0;

	sdn.status_fn = fn;
	sdn.status_arg = arg;
	if (!path)
		goto out;
	if (sdnotify_addr(path, &sdn.sa, &sdn.salen) < 0) {
		log_warnx("NOTIFY_SOCKET=%s is not a socket address; not notifying systemd", path);
		rc = -1;
		goto out;
	}
	sdn.fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	sdn.status = timer_new(l, status_tick, NULL);
	if (wd)
		sdn.watchdog = timer_new(l, watchdog_tick, NULL);
	if (sdn.fd < 0 || !sdn.status || (wd && !sdn.watchdog)) {
		log_warn("cannot set up notifications to systemd");
		sdnotify_close();
		rc = -1;
		goto out;
	}
	sdn.watchdog_us = wd;
	if (wd) {
		timer_arm_in(sdn.watchdog, 0);
		log_info("systemd watchdog: keep-alive every %llu ms",
		         (unsigned long long)(wd / 2000));
	}
out:
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	return rc;
}

bool
sdnotify_enabled(void)
{
	return sdn.fd >= 0;
}

uint64_t
sdnotify_watchdog_interval_us(void)
{
	return sdn.fd >= 0 ? sdn.watchdog_us : 0;
}

void
sdnotify_close(void)
{
	timer_free(sdn.watchdog);
	timer_free(sdn.status);
	if (sdn.fd >= 0)
		close(sdn.fd);
	sdn.fd = -1;
	sdn.watchdog = sdn.status = NULL;
	sdn.watchdog_us = 0;
	sdn.stopping = false;
	sdn.last[0] = '\0';
	sdn.status_sent_ns = 0;
}

/* --- the STATUS= text ------------------------------------------------------ */

/* Append to s (length *len, capacity size); false, and s unchanged, if it does not fit. */
static bool put(char *s, size_t size, size_t *len, const char *fmt, ...) LOG_PRINTF(4, 5);

static bool
put(char *s, size_t size, size_t *len, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*len >= size)
		return false;
	va_start(ap, fmt);
	n = vsnprintf(s + *len, size - *len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size - *len) {
		s[*len] = '\0';
		return false;
	}
	*len += (size_t)n;
	return true;
}

struct state_count {
	const char *state;
	size_t n;
};

/* The distinct states in alphabetical order, with their counts; how many. */
static size_t
count_states(const struct sdn_inst *in, size_t n, struct state_count *sc)
{
	size_t ns = 0;

	for (size_t i = 0; i < n; i++) {
		size_t k = 0;

		while (k < ns && strcmp(sc[k].state, in[i].state) < 0)
			k++;
		if (k < ns && strcmp(sc[k].state, in[i].state) == 0) {
			sc[k].n++;
			continue;
		}
		if (ns == SDN_STATES_MAX)
			continue; /* cannot happen with VRRP's four states */
		memmove(&sc[k + 1], &sc[k], (ns - k) * sizeof(*sc));
		sc[k] = (struct state_count){in[i].state, 1};
		ns++;
	}
	return ns;
}

void
sdnotify_status_format(char *s, size_t size, const struct sdn_inst *in, size_t n, size_t checks_up,
                       size_t nchecks)
{
	char tail[64] = "";
	struct state_count sc[SDN_STATES_MAX];
	size_t len = 0, ns;
	bool fits = true;

	if (size == 0)
		return;
	if (size > SDN_STATUS_MAX + 1)
		size = SDN_STATUS_MAX + 1;
	s[0] = '\0';
	if (nchecks == checks_up && nchecks)
		snprintf(tail, sizeof(tail), "; %zu check%s up", nchecks, nchecks == 1 ? "" : "s");
	else if (nchecks)
		snprintf(tail, sizeof(tail), "; %zu of %zu check%s up", checks_up, nchecks,
		         nchecks == 1 ? "" : "s");
	put(s, size, &len, "%zu instance%s", n, n == 1 ? "" : "s");
	/* The list, if it leaves room for the checks part. */
	size_t room = size > strlen(tail) ? size - strlen(tail) : 0;
	for (size_t i = 0; i < n && fits; i++)
		fits = put(s, room, &len, "%s%s %s", i ? ", " : ": ", in[i].name, in[i].state);
	if (!fits) {
		len = 0;
		put(s, size, &len, "%zu instance%s", n, n == 1 ? "" : "s");
		ns = count_states(in, n, sc);
		for (size_t k = 0; k < ns; k++)
			put(s, room, &len, "%s%zu %s", k ? ", " : ": ", sc[k].n, sc[k].state);
	}
	put(s, size, &len, "%s", tail);
}
