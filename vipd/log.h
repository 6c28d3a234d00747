/*
 * log.h - logging for vipd: stderr in the foreground, syslog otherwise.
 *
 * log_warn() and fatal() append strerror(errno); the *x variants do not.
 * Anything a remote host can trigger belongs at debug level (and in a
 * counter), never at warning: a peer must not be able to flood the log.
 */
#ifndef VIPD_LOG_H
#define VIPD_LOG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdnoreturn.h>

enum log_level {
	LOGL_ERROR = 0,
	LOGL_WARNING,
	LOGL_INFO,
	LOGL_DEBUG,
};

#define LOG_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* Start logging as `ident`, to stderr if `to_stderr`, else to syslog. */
void log_init(const char *ident, bool to_stderr, enum log_level level);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/*
 * What repeats (a peer's bad packets, a failing send) is logged at most
 * once per LOG_RATELIMIT_NS: true if `now` may log for this stamp, which
 * it then updates. 0 is "never logged".
 */
#define LOG_RATELIMIT_NS (60ULL * 1000000000ULL)
bool log_ratelimit(uint64_t *stamp, uint64_t now);
/* "error" | "warning" | "info" | "debug" -> level, or -1. */
int log_level_parse(const char *name);
const char *log_level_name(enum log_level level);

void log_error(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_warn(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_warnx(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_info(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_debug(const char *fmt, ...) LOG_PRINTF(1, 2);
noreturn void fatal(const char *fmt, ...) LOG_PRINTF(1, 2);
noreturn void fatalx(const char *fmt, ...) LOG_PRINTF(1, 2);

#endif
