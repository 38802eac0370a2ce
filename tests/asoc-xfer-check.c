/*
 * asoc-xfer-check: a test client that moves a known pattern and checks
 * every byte on arrival.
 *
 *   asoc-xfer-check [--socket P] send --to R --size N [--tag T] [--count K]
 *   asoc-xfer-check [--socket P] recv --from R|any --size N [--tag T] [--count K]
 *   asoc-xfer-check [--socket P] self --size N --order send-first|recv-first
 *
 * recv --offset O --guard G receives at offset O of a buffer with G more
 * bytes after the capacity, all filled with a guard byte first, and fails
 * if any byte outside the received range changed (the RDMA lab's test of
 * scoped remote access); --settle-ms waits before checking, so a rogue
 * late write has time to land.
 *
 * --first K numbers the messages from K (a stream split over two runs);
 * --start-after FILE waits, connected and with its buffer, until FILE
 * exists (a session that is idle while its daemon restarts).
 *
 * The pattern is a function of (seed, size, message index), so sender and
 * receiver agree without talking.  Each side prints a checksum; the
 * receiver compares all bytes with the pattern and fails on any
 * difference.  --expect STATUS makes a failure the expected outcome (for
 * tests of truncation, unknown ranks and lost peers).
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "asoc.h"
#include "tool-opts.h"
#include "xfer-sum.h"

static const char *opt_socket;
static int opt_peer = -2;
static uint64_t opt_size, opt_tag, opt_seed = 1;
static unsigned opt_count = 1;
static int opt_send_first = 1;
static int opt_expect = ASOC_OK;
static uint64_t opt_offset, opt_guard;	/* recv: where, and guard bytes */
static unsigned opt_settle_ms;		/* recv: wait before checking */
static unsigned opt_first;		/* index of the first message */
static const char *opt_start_after;	/* wait for this file to exist */
static unsigned opt_timeout_ms;		/* asoc_set_timeout, 0: none */
#define GUARD_BYTE 0xa5

static void
die(const char *what, asoc_t *as, asoc_status_t st)
{
	fprintf(stderr, "asoc-xfer-check: %s: %s (%s)\n", what,
	    asoc_strerror(st), as != NULL ? asoc_last_error(as) : "");
	exit(1);
}

static void
fill(uint8_t *p, uint64_t n, unsigned idx)
{
	uint64_t x = opt_seed * 0x9e3779b97f4a7c15ull ^ n ^ ((uint64_t)idx << 48);
	uint64_t i, w;

	if (x == 0)
		x = 1;
	for (i = 0; i + 8 <= n; i += 8) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		memcpy(p + i, &x, 8);
	}
	for (w = x * 31 + 7; i < n; i++, w >>= 8)
		p[i] = (uint8_t)w;
}

static int
status_by_name(const char *s)
{
	static const char *const names[] = { "ok", "einval", "enomem",
	    "epeerlost", "etimedout", "eperm", "ecancelled", "eproto",
	    "esystem", "etrunc", "enopeer" };
	size_t i;

	for (i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcmp(s, names[i]) == 0)
			return (int)i;
	fprintf(stderr, "asoc-xfer-check: unknown status %s\n", s);
	exit(2);
}

/* An expected failure ends the run with 0; an unexpected one with 1. */
static void
outcome(asoc_t *as, const char *what, asoc_status_t st)
{
	if (st == (asoc_status_t)opt_expect && st != ASOC_OK) {
		printf("%s: failed as expected: %s (%s)\n", what,
		    asoc_strerror(st), asoc_last_error(as));
		exit(0);
	}
	if (st != ASOC_OK)
		die(what, as, st);
}

static int
verify(const uint8_t *got, uint64_t n, unsigned idx)
{
	uint8_t *want = malloc(n ? n : 1);
	uint64_t i;
	int bad = 0;

	if (want == NULL) {
		fprintf(stderr, "asoc-xfer-check: out of memory\n");
		exit(1);
	}
	fill(want, n, idx);
	if (memcmp(got, want, n) != 0) {
		for (i = 0; i < n && got[i] == want[i]; i++)
			;
		fprintf(stderr, "asoc-xfer-check: message %u: first "
		    "difference at byte %" PRIu64 " of %" PRIu64 "\n", idx, i,
		    n);
		bad = 1;
	}
	free(want);
	return bad;
}

static int
run_send(asoc_t *as, asoc_buf_t *b)
{
	asoc_status_t st;
	unsigned i;

	for (i = 0; i < opt_count; i++) {
		fill(asoc_buf_ptr(b), opt_size, opt_first + i);
		st = asoc_send(as, b, 0, opt_size, opt_peer, opt_tag);
		outcome(as, "send", st);
		printf("sent %" PRIu64 " bytes to rank %d tag %" PRIu64
		    " checksum %016" PRIx64 "\n", opt_size, opt_peer, opt_tag,
		    xfer_sum(asoc_buf_ptr(b), opt_size));
	}
	if (opt_expect != ASOC_OK) {
		fprintf(stderr, "asoc-xfer-check: expected %s, but every send "
		    "succeeded\n", asoc_strerror(opt_expect));
		return 1;
	}
	return 0;
}

/* Every byte outside [off, off+got) must still be the guard byte. */
static int
guards_intact(const uint8_t *p, uint64_t size, uint64_t off, uint64_t got)
{
	uint64_t i;

	for (i = 0; i < size; i++) {
		if (i >= off && i < off + got)
			continue;
		if (p[i] != GUARD_BYTE) {
			fprintf(stderr, "asoc-xfer-check: guard byte %" PRIu64
			    " (range %" PRIu64 "+%" PRIu64 ") was overwritten\n",
			    i, off, got);
			return 0;
		}
	}
	return 1;
}

static int
run_recv(asoc_t *as, asoc_buf_t *b)
{
	asoc_completion_t c;
	asoc_status_t st;
	uint64_t cap = asoc_buf_size(b) - opt_offset - opt_guard;
	unsigned i;
	int bad = 0;

	for (i = 0; i < opt_count; i++) {
		if (opt_offset > 0 || opt_guard > 0)
			memset(asoc_buf_ptr(b), GUARD_BYTE, asoc_buf_size(b));
		st = asoc_recv(as, b, opt_offset, cap, opt_peer, opt_tag, &c);
		if (opt_settle_ms > 0)
			usleep(opt_settle_ms * 1000);
		if ((opt_offset > 0 || opt_guard > 0) &&
		    !guards_intact(asoc_buf_ptr(b), asoc_buf_size(b),
		    opt_offset, st == ASOC_OK ? c.len : 0))
			exit(1);
		outcome(as, "recv", st);
		if (c.len != opt_size) {
			fprintf(stderr, "asoc-xfer-check: received %zu bytes, "
			    "expected %" PRIu64 "\n", c.len, opt_size);
			return 1;
		}
		bad |= verify((uint8_t *)asoc_buf_ptr(b) + opt_offset, opt_size,
		    opt_first + i);
		printf("received %zu bytes from rank %d tag %" PRIu64
		    " checksum %016" PRIx64 " %s\n", c.len, c.source, c.tag,
		    xfer_sum((uint8_t *)asoc_buf_ptr(b) + opt_offset, c.len),
		    bad ? "MISMATCH" : "ok");
	}
	if (opt_expect != ASOC_OK) {
		fprintf(stderr, "asoc-xfer-check: expected %s, but every "
		    "receive succeeded\n", asoc_strerror(opt_expect));
		return 1;
	}
	return bad;
}

/* Both ends in one client of one daemon: the same-node path. */
static int
run_self(asoc_t *as, asoc_buf_t *src, asoc_buf_t *dst)
{
	asoc_req_t *sr, *rr;
	asoc_completion_t sc, rc;
	asoc_status_t st;
	int me = asoc_rank(as);

	fill(asoc_buf_ptr(src), opt_size, 0);
	if (opt_send_first) {
		if ((st = asoc_isend(as, src, 0, opt_size, me, opt_tag, &sr)))
			die("isend", as, st);
		if ((st = asoc_irecv(as, dst, 0, asoc_buf_size(dst), me,
		    opt_tag, &rr)))
			die("irecv", as, st);
	} else {
		if ((st = asoc_irecv(as, dst, 0, asoc_buf_size(dst), me,
		    opt_tag, &rr)))
			die("irecv", as, st);
		if ((st = asoc_isend(as, src, 0, opt_size, me, opt_tag, &sr)))
			die("isend", as, st);
	}
	outcome(as, "recv", asoc_wait(rr, &rc));
	outcome(as, "send", asoc_wait(sr, &sc));
	if (rc.len != opt_size || sc.len != opt_size) {
		fprintf(stderr, "asoc-xfer-check: lengths %zu/%zu, expected %"
		    PRIu64 "\n", sc.len, rc.len, opt_size);
		return 1;
	}
	if (verify(asoc_buf_ptr(dst), opt_size, 0))
		return 1;
	printf("moved %" PRIu64 " bytes on rank %d (%s) checksum %016" PRIx64
	    " ok\n", opt_size, me, opt_send_first ? "send first" :
	    "receive first", xfer_sum(asoc_buf_ptr(dst), opt_size));
	return 0;
}

/* --to and --from: a rank, or any (a receive from any source). */
static int
set_peer(const char *arg)
{
	opt_peer = strcmp(arg, "any") == 0 ? ASOC_ANY_SOURCE : atoi(arg);
	return 0;
}

static int
set_order(const char *arg)
{
	opt_send_first = strcmp(arg, "send-first") == 0;
	return 0;
}

static int
set_expect(const char *arg)
{
	opt_expect = status_by_name(arg);
	return 0;
}

static void
usage(void)
{
	fprintf(stderr, "usage: asoc-xfer-check [--socket P] send|recv|self "
	    "[--to R|--from R|any] --size N [--tag T] [--count K] [--seed S] "
	    "[--cap N] [--order send-first|recv-first] [--expect STATUS] "
	    "[--offset O] [--guard G] [--settle-ms MS] [--first K] "
	    "[--start-after FILE] [--timeout-ms MS]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	asoc_buf_t *b, *b2 = NULL;
	asoc_status_t st;
	uint64_t cap = 0;
	const char *mode;
	asoc_t *as;
	int rc;
	const struct topt opts[] = {
		{ "socket", TOPT_STR, &opt_socket, NULL },
		{ "to", TOPT_CALL, NULL, set_peer },
		{ "from", TOPT_CALL, NULL, set_peer },
		{ "size", TOPT_U64, &opt_size, NULL },
		{ "cap", TOPT_U64, &cap, NULL },
		{ "tag", TOPT_U64, &opt_tag, NULL },
		{ "count", TOPT_UINT, &opt_count, NULL },
		{ "seed", TOPT_U64, &opt_seed, NULL },
		{ "order", TOPT_CALL, NULL, set_order },
		{ "expect", TOPT_CALL, NULL, set_expect },
		{ "offset", TOPT_U64, &opt_offset, NULL },
		{ "guard", TOPT_U64, &opt_guard, NULL },
		{ "settle-ms", TOPT_UINT, &opt_settle_ms, NULL },
		{ "first", TOPT_UINT, &opt_first, NULL },
		{ "start-after", TOPT_STR, &opt_start_after, NULL },
		{ "timeout-ms", TOPT_UINT, &opt_timeout_ms, NULL },
		{ NULL, 0, NULL, NULL }
	};

	if (topt_parse(argc, argv, opts, usage) != argc - 1)
		usage();
	mode = argv[argc - 1];
	if ((st = asoc_open(opt_socket, &as)) != ASOC_OK)
		die("open", as, st);
	asoc_set_timeout(as, opt_timeout_ms);
	if (cap == 0)
		cap = opt_size;
	if (strcmp(mode, "recv") == 0)
		cap += opt_offset + opt_guard;
	if ((st = asoc_buf_alloc(as, cap ? cap : 1, &b)) != ASOC_OK)
		die("buffer", as, st);
	/* An idle session, for tests of a daemon that goes away meanwhile. */
	if (opt_start_after != NULL) {
		printf("connected, waiting for %s\n", opt_start_after);
		fflush(stdout);
		while (access(opt_start_after, F_OK) != 0)
			usleep(20000);
	}
	if (strcmp(mode, "send") == 0 && opt_peer >= 0)
		rc = run_send(as, b);
	else if (strcmp(mode, "recv") == 0 && opt_peer != -2)
		rc = run_recv(as, b);
	else if (strcmp(mode, "self") == 0) {
		if ((st = asoc_buf_alloc(as, cap ? cap : 1, &b2)) != ASOC_OK)
			die("buffer", as, st);
		rc = run_self(as, b, b2);
	} else
		usage();
	if (b2 != NULL)
		asoc_buf_free(b2);
	asoc_buf_free(b);
	asoc_close(as);
	return rc;
}
