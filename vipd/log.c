/*
 * log.c - logging to stderr (foreground, -n) or syslog.
 */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

static bool log_to_stderr = true;
static enum log_level log_level = LOGL_INFO;

static const char *const level_names[] = {
    [LOGL_ERROR] = "error",
    [LOGL_WARNING] = "warning",
    [LOGL_INFO] = "info",
    [LOGL_DEBUG] = "debug",
};

static const int level_prio[] = {
    [LOGL_ERROR] = LOG_ERR,
    [LOGL_WARNING] = LOG_WARNING,
    [LOGL_INFO] = LOG_INFO,
    [LOGL_DEBUG] = LOG_DEBUG,
};

void
log_init(const char *ident, bool to_stderr, enum log_level level)
{
	log_to_stderr = to_stderr;
	log_level = level;
	if (!to_stderr)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void
log_set_level(enum log_level level)
{
	log_level = level;
}

enum log_level
log_get_level(void)
{
	return log_level;
}

int
log_level_parse(const char *name)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (strcmp(name, level_names[i]) == 0)
			return (int)i;
	return -1;
}

const char *
log_level_name(enum log_level level)
{
	return level_names[level];
}

/* Write one line at `level`; `err` >= 0 appends strerror(err). */
static void
log_emit(enum log_level level, int err, const char *fmt, va_list ap)
{
	char msg[1024];

	if (level > log_level)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (err >= 0) {
		size_t n = strlen(msg);
		snprintf(msg + n, sizeof(msg) - n, ": %s", strerror(err));
	}
	if (log_to_stderr) {
		struct timespec ts;
		struct tm tm;
		char stamp[32];

		clock_gettime(CLOCK_REALTIME, &ts);
		localtime_r(&ts.tv_sec, &tm);
		strftime(stamp, sizeof(stamp), "%H:%M:%S", &tm);
		fprintf(stderr, "%s.%03ld %s: %s\n", stamp, ts.tv_nsec / 1000000,
		        level_names[level], msg);
	} else {
		syslog(level_prio[level], "%s", msg);
	}
}

#define LOG_BODY(level, err)                                                                       \
	do {                                                                                       \
		va_list ap;                                                                        \
		va_start(ap, fmt);                                                                 \
		log_emit(level, err, fmt, ap);                                                     \
		va_end(ap);                                                                        \
	} while (0)

void
log_error(const char *fmt, ...)
{
	LOG_BODY(LOGL_ERROR, -1);
}

void
log_warn(const char *fmt, ...)
{
	int err = errno;

	LOG_BODY(LOGL_WARNING, err);
	errno = err;
}

void
log_warnx(const char *fmt, ...)
{
	LOG_BODY(LOGL_WARNING, -1);
}

void
log_info(const char *fmt, ...)
{
	LOG_BODY(LOGL_INFO, -1);
}

void
log_debug(const char *fmt, ...)
{
	LOG_BODY(LOGL_DEBUG, -1);
}

void
fatal(const char *fmt, ...)
{
	int err = errno;

	LOG_BODY(LOGL_ERROR, err);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	LOG_BODY(LOGL_ERROR, -1);
	exit(1);
}

bool
log_ratelimit(uint64_t *stamp, uint64_t now)
{
	if (*stamp && now - *stamp < LOG_RATELIMIT_NS)
		return false;
	*stamp = now;
	return true;
}
