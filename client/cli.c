/*
 * cli.c: messages, option parsing, progress and the stream format shared
 * by the ASoc command-line tools (see cli.h).
 */
#include "config.h"

#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "le.h"
#include "proto.h"
#include "size_parse.h"

static const char *cli_name = "asoc";
static void (*cli_cleanup)(void);
/* A progress line is on the terminal without its newline: a message must
 * start on a fresh line or it would be glued to the numbers. */
static int cli_line_open;

void
cli_init(const char *progname)
{
	cli_name = progname;
}

void
cli_set_cleanup(void (*fn)(void))
{
	cli_cleanup = fn;
}

static void
cli_vwarn(const char *fmt, va_list ap)
{
	if (cli_line_open) {
		fputc('\n', stderr);
		cli_line_open = 0;
	}
	fprintf(stderr, "%s: ", cli_name);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

static void CLI_NORETURN
cli_exit(int code)
{
	void (*fn)(void) = cli_cleanup;

	cli_cleanup = NULL;	/* a cleanup that dies must not loop */
	if (fn != NULL)
		fn();
	exit(code);
}

void
cli_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cli_vwarn(fmt, ap);
	va_end(ap);
}

void
cli_die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cli_vwarn(fmt, ap);
	va_end(ap);
	cli_exit(1);
}

static void
cli_vwarn_asoc(asoc_status_t st, const char *detail, const char *fmt,
    va_list ap)
{
	char what[512];

	vsnprintf(what, sizeof what, fmt, ap);
	if (detail == NULL)
		detail = "";
	cli_warn("%s: %s%s%s%s", what, asoc_strerror(st), *detail ? " (" : "",
	    detail, *detail ? ")" : "");
}

void
cli_warn_asoc(asoc_status_t st, const char *detail, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cli_vwarn_asoc(st, detail, fmt, ap);
	va_end(ap);
}

void
cli_die_asoc(asoc_status_t st, const char *detail, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cli_vwarn_asoc(st, detail, fmt, ap);
	va_end(ap);
	cli_exit(1);
}

void
cli_die_usage(const char *fmt, ...)
{
	va_list ap;
	char msg[512];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	cli_warn("%s (try '%s --help')", msg, cli_name);
	cli_exit(2);
}

/* strtoull accepts leading space, a sign (and wraps "-1"): refuse both. */
static uint64_t
cli_parse_u64(const char *opt, const char *arg, const char **end)
{
	unsigned long long v;
	char *ep;
	int base = 10;

	if (!isdigit((unsigned char)arg[0]))
		cli_die_usage("%s wants a number, not '%s'", opt, arg);
	if (arg[0] == '0' && (arg[1] == 'x' || arg[1] == 'X'))
		base = 16;
	errno = 0;
	v = strtoull(arg, &ep, base);
	if (errno == ERANGE)
		cli_die_usage("%s: '%s' is too large", opt, arg);
	*end = ep;
	return v;
}

uint64_t
cli_parse_tag(const char *opt, const char *arg)
{
	const char *end;
	uint64_t v = cli_parse_u64(opt, arg, &end);

	if (*end != '\0')
		cli_die_usage("%s wants a number, not '%s'", opt, arg);
	return v;
}

int
cli_parse_rank(const char *opt, const char *arg)
{
	uint64_t v = cli_parse_tag(opt, arg);

	if (v >= PROTO_RANK_MAX)
		cli_die_usage("%s: rank %s is out of range (0 to %u)", opt, arg,
		    PROTO_RANK_MAX - 1);
	return (int)v;
}

int
cli_parse_world(const char *opt, const char *arg)
{
	uint64_t v = cli_parse_tag(opt, arg);

	if (v == 0 || v > PROTO_RANK_MAX)
		cli_die_usage("%s: %s processes is out of range (1 to %u)", opt,
		    arg, PROTO_RANK_MAX);
	return (int)v;
}

uint64_t
cli_parse_size(const char *opt, const char *arg)
{
	uint64_t v;

	switch (size_parse(arg, &v)) {
	case SIZE_PARSE_OK:
		return v;
	case SIZE_PARSE_RANGE:
		cli_die_usage("%s: '%s' is too large", opt, arg);
	default:
		cli_die_usage("%s wants a size such as 4096, 64K or 1G, "
		    "not '%s'", opt, arg);
	}
}

const char *
cli_fmt_bytes(uint64_t n, char *buf, size_t len)
{
	const char *units = "KMGTPE";
	double v = (double)n;
	int u = -1;

	/* 1023.95 would print as "1024.0": move up a unit first. */
	for (; v >= (u < 0 ? 1024 : 1023.95) && units[u + 1] != '\0'; u++)
		v /= 1024;
	if (u < 0)
		snprintf(buf, len, "%" PRIu64 " B", n);
	else
		snprintf(buf, len, "%.1f %ciB", v, units[u]);
	return buf;
}

void
cli_flush_stdout(void)
{
	if (fflush(stdout) == EOF || ferror(stdout))
		cli_die("cannot write the output: check standard output");
}

/* asoc_open_ex that dies with where it looked and what to do. */
static asoc_t *
cli_open_opts(const asoc_open_opts_t *o)
{
	const char *socket_path = o->socket_path;
	asoc_t *as = NULL;
	asoc_status_t st;

	st = asoc_open_ex(o, &as);
	if (st == ASOC_OK)
		return as;
	/* A failed open hands back a dead session whose error says where
	 * it looked; only without one (no memory) do we say it ourselves. */
	if (as != NULL && *asoc_last_error(as) != '\0')
		cli_die("%s", asoc_last_error(as));
	cli_die("cannot reach asocd at %s: %s (is asocd running? name its "
	    "socket with --socket or ASOC_SOCKET)", socket_path != NULL ?
	    socket_path : asoc_default_socket(), asoc_strerror(st));
}

asoc_t *
cli_open(const char *socket_path)
{
	asoc_open_opts_t o;

	asoc_open_opts_init(&o);
	o.socket_path = socket_path;
	return cli_open_opts(&o);
}

asoc_t *
cli_open_common(const struct cli_common *c)
{
	asoc_open_opts_t o;

	asoc_open_opts_init(&o);
	o.socket_path = c->socket;
	if (c->rank >= 0) {
		o.rank = c->rank;
		o.world_size = c->world_size;
	} else if (c->node_ranks)
		o.rank = ASOC_RANK_NODE;
	return cli_open_opts(&o);
}

asoc_t *
cli_open_status(const char *socket_path)
{
	asoc_open_opts_t o;

	asoc_open_opts_init(&o);
	o.socket_path = socket_path;
	o.flags = ASOC_OPEN_STATUS;
	return cli_open_opts(&o);
}

void
cli_progress_start(struct cli_progress *p, uint64_t total, int quiet)
{
	memset(p, 0, sizeof *p);
	p->enabled = !quiet && isatty(STDERR_FILENO);
	p->total = total;
	clock_gettime(CLOCK_MONOTONIC, &p->start);
	p->last = p->start;
}

static void
cli_progress_draw(struct cli_progress *p, const struct timespec *now,
    int final)
{
	char done[32], total[32], rate[32], eta[64] = "";
	double secs = (double)(now->tv_sec - p->start.tv_sec) +
	    (double)(now->tv_nsec - p->start.tv_nsec) / 1e9;
	double bps = secs > 0 ? (double)p->done / secs : 0;
	uint64_t left = p->total > p->done ? p->total - p->done : 0;

	cli_fmt_bytes(p->done, done, sizeof done);
	snprintf(rate, sizeof rate, bps >= 1e9 ? "%.2f GB/s" : "%.1f MB/s",
	    bps >= 1e9 ? bps / 1e9 : bps / 1e6);
	if (!final && p->total != CLI_SIZE_UNKNOWN && bps > 0) {
		left = (uint64_t)((double)left / bps);
		snprintf(eta, sizeof eta, "  ETA %" PRIu64 ":%02u:%02u",
		    left / 3600, (unsigned)(left / 60 % 60),
		    (unsigned)(left % 60));
	}
	if (final)
		fprintf(stderr, "\r%s: %s in %.1f s, %s\033[K\n", cli_name,
		    done, secs, rate);
	else if (p->total == CLI_SIZE_UNKNOWN)
		fprintf(stderr, "\r%s: %s  %s\033[K", cli_name, done, rate);
	else
		fprintf(stderr, "\r%s: %s / %s (%.0f%%)  %s%s\033[K", cli_name,
		    done, cli_fmt_bytes(p->total, total, sizeof total),
		    p->total > 0 ? 100.0 * (double)p->done / (double)p->total :
		    100.0, rate, eta);
	cli_line_open = !final;
}

void
cli_progress_update(struct cli_progress *p, uint64_t done)
{
	struct timespec now;

	p->done = done;
	if (!p->enabled)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if ((now.tv_sec - p->last.tv_sec) * 1000000000L + now.tv_nsec -
	    p->last.tv_nsec < 1000000000L / CLI_PROGRESS_HZ)
		return;
	p->last = now;
	cli_progress_draw(p, &now, 0);
}

void
cli_progress_finish(struct cli_progress *p, int ok)
{
	struct timespec now;

	if (p->enabled && ok) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		cli_progress_draw(p, &now, 1);
	} else if (cli_line_open) {
		fputc('\n', stderr);
		cli_line_open = 0;
	}
}

void
cli_stream_send(asoc_t *as, asoc_buf_t *ctl, size_t len, int rank,
    uint64_t tag, const char *fmt, ...)
{
	asoc_status_t st = asoc_send(as, ctl, 0, len, rank, tag);
	char what[512];
	va_list ap;

	if (st == ASOC_OK)
		return;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	cli_die_asoc(st, asoc_last_error(as), "%s", what);
}

size_t
cli_stream_hdr_encode(const struct cli_stream_hdr *h,
    unsigned char out[CLI_STREAM_HDR2_LEN])
{
	memcpy(out, CLI_STREAM_MAGIC, 8);
	le_put(out + 8, h->version, 4);
	le_put(out + 12, h->flags, 4);
	le_put(out + 16, h->total, 8);
	le_put(out + 24, h->chunk, 8);
	le_put(out + 32, 0, 8);
	if (h->version == CLI_STREAM_VERSION)
		return CLI_STREAM_HDR_LEN;
	le_put(out + 40, (uint64_t)h->mtime_sec, 8);
	le_put(out + 48, h->mtime_nsec, 4);
	le_put(out + 52, 0, 4);
	le_put(out + 56, 0, 8);
	return CLI_STREAM_HDR2_LEN;
}

int
cli_stream_hdr_decode(const unsigned char *in, size_t len,
    struct cli_stream_hdr *h, const char **why)
{
	memset(h, 0, sizeof *h);
	if (len < 8 || memcmp(in, CLI_STREAM_MAGIC, 8) != 0)
		*why = "not an asoc-send stream header (bad magic)";
	else if (len < 12 || ((h->version = le_get(in + 8, 4)) !=
	    CLI_STREAM_VERSION && h->version != CLI_STREAM_VERSION_RESUME))
		*why = "unsupported stream version: update asoc-recv";
	else if (len != (h->version == CLI_STREAM_VERSION ?
	    CLI_STREAM_HDR_LEN : CLI_STREAM_HDR2_LEN))
		*why = "stream header has the wrong length";
	else if ((h->flags = le_get(in + 12, 4)) != 0)
		*why = "stream header has unknown flags: update asoc-recv";
	else if ((h->chunk = le_get(in + 24, 8)) == 0 ||
	    h->chunk > CLI_STREAM_CHUNK_MAX)
		*why = "stream chunk size is 0 or over 1 GiB";
	else if ((h->total = le_get(in + 16, 8)) == CLI_SIZE_UNKNOWN &&
	    h->version == CLI_STREAM_VERSION_RESUME)
		*why = "a resumable stream of unknown size";
	else if (h->version == CLI_STREAM_VERSION_RESUME &&
	    (h->mtime_nsec = le_get(in + 48, 4)) > 999999999)
		*why = "stream header has a bad mtime";
	else {
		if (h->version == CLI_STREAM_VERSION_RESUME)
			h->mtime_sec = (int64_t)le_get(in + 40, 8);
		return 0;
	}
	return -1;
}

size_t
cli_stream_trl_encode(const struct cli_stream_trl *t,
    unsigned char out[CLI_STREAM_TRL2_LEN])
{
	memcpy(out, CLI_STREAM_END_MAGIC, 8);
	le_put(out + 8, t->status, 4);
	le_put(out + 12, 0, 4);
	le_put(out + 16, t->bytes, 8);
	le_put(out + 24, t->messages, 8);
	if (!t->has_sha)
		return CLI_STREAM_TRL_LEN;
	memcpy(out + 32, t->sha, CLI_STREAM_SHA_LEN);
	return CLI_STREAM_TRL2_LEN;
}

int
cli_stream_is_trl(const unsigned char *in, size_t len)
{
	return len >= 8 && memcmp(in, CLI_STREAM_END_MAGIC, 8) == 0;
}

int
cli_stream_trl_decode(const unsigned char *in, size_t len,
    struct cli_stream_trl *t, const char **why)
{
	memset(t, 0, sizeof *t);
	if ((len != CLI_STREAM_TRL_LEN && len != CLI_STREAM_TRL2_LEN) ||
	    memcmp(in, CLI_STREAM_END_MAGIC, 8) != 0)
		*why = "not an asoc-send stream trailer";
	else if ((t->status = le_get(in + 8, 4)) != CLI_STREAM_OK &&
	    t->status != CLI_STREAM_FAILED)
		*why = "stream trailer has an unknown status";
	else {
		t->bytes = le_get(in + 16, 8);
		t->messages = le_get(in + 24, 8);
		if ((t->has_sha = len == CLI_STREAM_TRL2_LEN))
			memcpy(t->sha, in + 32, CLI_STREAM_SHA_LEN);
		return 0;
	}
	return -1;
}

/*
 * The resume, start and done messages of a version 2 stream share their
 * first 24 bytes: the magic, the version, a 32-bit word (flags, 0 or a
 * status) and a 64-bit value (an offset or a byte count).
 */
static void
cli_stream_put_v2(unsigned char *out, const char *magic, uint32_t word,
    uint64_t value)
{
	memcpy(out, magic, 8);
	le_put(out + 8, CLI_STREAM_VERSION_RESUME, 4);
	le_put(out + 12, word, 4);
	le_put(out + 16, value, 8);
}

/* -1 unless in is such a message, of that magic and length. */
static int
cli_stream_get_v2(const unsigned char *in, size_t len, size_t want,
    const char *magic, uint32_t *word, uint64_t *value)
{
	if (len != want || memcmp(in, magic, 8) != 0 ||
	    le_get(in + 8, 4) != CLI_STREAM_VERSION_RESUME)
		return -1;
	*word = (uint32_t)le_get(in + 12, 4);
	*value = le_get(in + 16, 8);
	return 0;
}

void
cli_stream_resume_encode(const struct cli_stream_resume *r,
    unsigned char out[CLI_STREAM_RESUME_LEN])
{
	cli_stream_put_v2(out, CLI_STREAM_RESUME_MAGIC, r->flags, r->offset);
	memcpy(out + 24, r->sha, CLI_STREAM_SHA_LEN);
	le_put(out + 56, 0, 8);
}

int
cli_stream_resume_decode(const unsigned char *in, size_t len,
    struct cli_stream_resume *r, const char **why)
{
	if (cli_stream_get_v2(in, len, CLI_STREAM_RESUME_LEN,
	    CLI_STREAM_RESUME_MAGIC, &r->flags, &r->offset) == -1)
		*why = "not an asoc-recv resume answer";
	else if ((r->flags & ~CLI_RESUME_FLAGS) != 0)
		*why = "resume answer has unknown flags: update asoc-send";
	else {
		memcpy(r->sha, in + 24, CLI_STREAM_SHA_LEN);
		return 0;
	}
	return -1;
}

void
cli_stream_start_encode(uint64_t start,
    unsigned char out[CLI_STREAM_START_LEN])
{
	cli_stream_put_v2(out, CLI_STREAM_START_MAGIC, 0, start);
}

int
cli_stream_start_decode(const unsigned char *in, size_t len,
    uint64_t *start, const char **why)
{
	uint32_t reserved;

	if (cli_stream_get_v2(in, len, CLI_STREAM_START_LEN,
	    CLI_STREAM_START_MAGIC, &reserved, start) == -1) {
		*why = "not an asoc-send start message";
		return -1;
	}
	return 0;
}

void
cli_stream_done_encode(uint32_t status, uint64_t bytes,
    unsigned char out[CLI_STREAM_DONE_LEN])
{
	cli_stream_put_v2(out, CLI_STREAM_DONE_MAGIC, status, bytes);
}

int
cli_stream_done_decode(const unsigned char *in, size_t len, uint32_t *status,
    uint64_t *bytes, const char **why)
{
	if (cli_stream_get_v2(in, len, CLI_STREAM_DONE_LEN,
	    CLI_STREAM_DONE_MAGIC, status, bytes) == -1)
		*why = "not an asoc-recv done message";
	else if (*status != CLI_STREAM_OK && *status != CLI_STREAM_DAMAGED)
		*why = "done message has an unknown status";
	else
		return 0;
	return -1;
}

#ifdef ASOC_TEST_HOOKS
uint64_t
cli_test_stop_at(void)
{
	const char *v = getenv(CLI_TEST_STOP_ENV);

	return v != NULL && *v != '\0' ? cli_parse_size(CLI_TEST_STOP_ENV, v) :
	    0;
}

void
cli_test_stop(const char *what, uint64_t done)
{
	cli_warn("%s=%" PRIu64 ": stopping after %s %" PRIu64 " bytes (test "
	    "only)", CLI_TEST_STOP_ENV, cli_test_stop_at(), what, done);
	raise(SIGSTOP);
}
#endif

unsigned
cli_parse_timeout(const char *opt, const char *arg)
{
	uint64_t v = cli_parse_tag(opt, arg);

	if (v > UINT32_MAX / 1000)
		cli_die_usage("%s: %s seconds is too long (at most %u; 0 waits "
		    "forever)", opt, arg, UINT32_MAX / 1000);
	return (unsigned)v * 1000;
}

unsigned
cli_parse_window(const char *opt, const char *arg)
{
	uint64_t v = cli_parse_tag(opt, arg);

	if (v < 1 || v > CLI_WINDOW_MAX)
		cli_die_usage("%s: %s is out of range (1 to %u messages in "
		    "flight)", opt, arg, CLI_WINDOW_MAX);
	return (unsigned)v;
}
