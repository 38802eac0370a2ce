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

#endif
