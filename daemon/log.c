/*
 * log.c: one place every message goes through, libevent's included.
 */
#include "config.h"
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

static enum log_level log_threshold = LOG_LVL_INFO;
static int log_syslog;
static FILE *log_fp;		/* NULL: stderr */
static char *log_path;
static const char *log_ident = "asocd";

static const char *const log_names[] = { "error", "warning", "info", "debug" };

const char *
log_level_name(enum log_level level)
{
	return level <= LOG_LVL_DEBUG ? log_names[level] : "?";
}

int
log_level_parse(const char *s, enum log_level *out)
{
	unsigned i;

	for (i = 0; i <= LOG_LVL_DEBUG; i++) {
		if (strcmp(s, log_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	if (strcmp(s, "warn") == 0) {
		*out = LOG_LVL_WARN;
		return 0;
	}
	return -1;
}

static void
log_vwrite(enum log_level level, const char *fmt, va_list ap)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	FILE *fp = log_fp != NULL ? log_fp : stderr;
	struct timespec ts;
	struct tm tm;
	char stamp[32];

	if (level > log_threshold)
		return;
	if (log_syslog) {
		vsyslog(prio[level], fmt, ap);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);
	fprintf(fp, "%s.%03ld %s[%ld] %s: ", stamp, ts.tv_nsec / 1000000,
	    log_ident, (long)getpid(), log_names[level]);
	vfprintf(fp, fmt, ap);
	fputc('\n', fp);
	fflush(fp);
}

static void log_write(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
log_write(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(level, fmt, ap);
	va_end(ap);
}

/* libevent's own warnings land in the same log. */
static void
log_event_cb(int severity, const char *msg)
{
	switch (severity) {
	case EVENT_LOG_DEBUG:
		log_debug("libevent: %s", msg);
		break;
	case EVENT_LOG_MSG:
		log_info("libevent: %s", msg);
		break;
	case EVENT_LOG_WARN:
		log_warn("libevent: %s", msg);
		break;
	default:
		log_err("libevent: %s", msg);
		break;
	}
}

int
log_open(const char *ident, enum log_level level, int use_syslog,
    const char *file)
{
	log_ident = ident;
	log_threshold = level;
	log_syslog = use_syslog;
	if (use_syslog)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	free(log_path);
	log_path = NULL;
	if (file != NULL) {
		log_path = strdup(file);
		if (log_path == NULL)
			return -1;
		log_reopen();
		if (log_fp == NULL)
			return -1;
	}
	event_set_log_callback(log_event_cb);
	return 0;
}

void
log_reopen(void)
{
	FILE *fp;

	if (log_path == NULL)
		return;
	fp = fopen(log_path, "a");
	if (fp == NULL) {
		log_err("cannot reopen log %s: %s; still writing to the old "
		    "file", log_path, strerror(errno));
		return;
	}
	if (log_fp != NULL)
		fclose(log_fp);
	log_fp = fp;
}

void
log_close(void)
{
	if (log_fp != NULL)
		fclose(log_fp);
	log_fp = NULL;
	free(log_path);
	log_path = NULL;
	if (log_syslog)
		closelog();
}

#define LOG_FN(name, level)					\
void								\
name(const char *fmt, ...)					\
{								\
	va_list ap;						\
								\
	va_start(ap, fmt);					\
	log_vwrite(level, fmt, ap);				\
	va_end(ap);						\
}
LOG_FN(log_err, LOG_LVL_ERROR)
LOG_FN(log_warn, LOG_LVL_WARN)
LOG_FN(log_info, LOG_LVL_INFO)
LOG_FN(log_debug, LOG_LVL_DEBUG)

void
fatal(const char *fmt, ...)
{
	char buf[512];
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	log_err("%s: %s", buf, strerror(saved));
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LVL_ERROR, fmt, ap);
	va_end(ap);
	exit(1);
}

int
log_limit_pass(struct log_limit *ll, long long now, unsigned long long *more)
{
	unsigned burst = ll->burst != 0 ? ll->burst : LOG_LIMIT_BURST;
	unsigned window = ll->window != 0 ? ll->window : LOG_LIMIT_WINDOW;

	if (ll->shown == 0 || now < ll->start || now - ll->start >= window) {
		ll->start = now;
		ll->shown = 0;
	}
	if (ll->shown >= burst) {
		ll->held++;
		return 0;
	}
	ll->shown++;
	*more = ll->held;
	ll->held = 0;
	return 1;
}

static void
log_vlimited(enum log_level level, struct log_limit *ll, const char *fmt,
    va_list ap)
{
	unsigned long long more;
	struct timespec ts;
	char line[1024];

	if (level > log_threshold)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	if (!log_limit_pass(ll, (long long)ts.tv_sec, &more))
		return;
	vsnprintf(line, sizeof line, fmt, ap);
	if (more > 0)
		log_write(level, "%s (and %llu more like this, not logged)",
		    line, more);
	else
		log_write(level, "%s", line);
}

void
log_warn_limited(struct log_limit *ll, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vlimited(LOG_LVL_WARN, ll, fmt, ap);
	va_end(ap);
}

void
log_info_limited(struct log_limit *ll, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vlimited(LOG_LVL_INFO, ll, fmt, ap);
	va_end(ap);
}
