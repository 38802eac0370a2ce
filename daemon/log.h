/*
 * log.h: asocd's log, to stderr (foreground), a file (--log-file, reopened
 * on SIGHUP so logrotate works) or syslog.
 */
#ifndef ASOC_LOG_H
#define ASOC_LOG_H

#include <stdarg.h>

enum log_level {
	LOG_LVL_ERROR = 0,
	LOG_LVL_WARN,
	LOG_LVL_INFO,
	LOG_LVL_DEBUG,
};

/* file NULL and use_syslog 0: stderr. */
int log_open(const char *ident, enum log_level level, int use_syslog,
    const char *file);
void log_reopen(void);
void log_close(void);
int log_level_parse(const char *s, enum log_level *out);
const char *log_level_name(enum log_level level);

void log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Log and exit(1); fatal appends strerror(errno). */
void fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

/*
 * A rate limit for messages anyone can cause (refused peers, accept
 * failures): at most `burst` lines per `window` seconds; past that the
 * events are only counted, and the next line that passes carries the
 * count ("and N more like this").  One struct per kind of message,
 * usually static and zeroed.
 */
struct log_limit {
	unsigned burst;		/* lines per window (0: LOG_LIMIT_BURST) */
	unsigned window;	/* seconds (0: LOG_LIMIT_WINDOW) */
	long long start;	/* when the current window began */
	unsigned shown;		/* lines in the current window */
	unsigned long long held;	/* events not logged since the last */
};
#define LOG_LIMIT_BURST		5
#define LOG_LIMIT_WINDOW	10

/* One event at `now` (seconds, any monotonic clock): 1 when it may be
 * logged, with *more the number of events held back before it (to say
 * "and N more like this"), 0 when it is to be counted only. */
int log_limit_pass(struct log_limit *ll, long long now,
    unsigned long long *more);
/* log_warn through a limit, on the monotonic clock. */
void log_warn_limited(struct log_limit *ll, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void log_info_limited(struct log_limit *ll, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
