/*
 * asoc-pingpong.c: send-and-confirm time of messages of any size through
 * libasoc, one at a time or with a window, for bench/latency and
 * bench/vs-mpi: the same loop and the same touch of the data as
 * bench/mpi-bench.c's, which asoc-bench (full verification of every
 * tensor, overlapping the next transfer) is not.
 *
 *   asoc-pingpong SOCKET send SIZES ITERATIONS WARMUP [WINDOW [one-buffer]]
 *   asoc-pingpong SOCKET recv SIZES ITERATIONS WARMUP [WINDOW [one-buffer]]
 *
 * SIZES is a comma-separated list of byte counts.  The sender (rank 0)
 * times each asoc_isend + asoc_wait of one message to rank 1, one message
 * at a time: a send completes only when the receiver's daemon has the
 * bytes in the receiver's buffer, so each time is a receiver-confirmed
 * send, what an application waiting on asoc_send pays.  The receiver keeps
 * two receives posted, so a message never waits for one to be posted.
 * For each size the sender prints
 *
 *   asoc-pingpong SIZE median_us M min_us m max_us x
 *
 * over the ITERATIONS timed sends (after WARMUP more).  Every message
 * carries its number in its first bytes and the receiver checks it and
 * the length; exit status 0 when everything arrived, 1 otherwise, 2 for a
 * bad command line.  Beyond its number, each message carries a byte in
 * each 4 KiB page and its last byte, as mpi-bench's do (see stamp()).
 *
 * With a WINDOW above 1 (the same on both sides), the sender keeps that
 * many sends in flight (asoc_isend, then waits for the oldest and posts the
 * next), as asoc-bench's missing --window would, and times the ITERATIONS
 * sends as a whole:
 *
 *   asoc-pingpong SIZE window W us_per_msg T mib_per_s R
 *
 * and the receiver keeps WINDOW receives posted.
 *
 * "one-buffer" after WINDOW (on both sides) does what ucx_perftest's
 * tag_bw does, for a comparison of the same work: every send in flight
 * reads the same slot and every receive lands in the same slot, nothing
 * is stamped, and only the lengths are checked (in src/tools/perf of
 * UCX, run_stream_uni() passes one send and one receive buffer to every
 * operation, and tag tests neither fill nor validate them).  Data from
 * and to a buffer that stays in cache, which a stream of tensors is not.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "asoc.h"

#define PP_MAX_SIZES	16
#define PP_MAX_WINDOW	64
#define PP_TAG		0x5050000000ULL	/* + size index */

static int one_buffer;		/* every message in slot 0, unstamped */

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static unsigned long
number(const char *s, const char *what, unsigned long lo, unsigned long hi,
    char **endp)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || (endp == NULL && *end != '\0') || v < lo ||
	    v > hi) {
		fprintf(stderr, "asoc-pingpong: %s: '%s' is not a number from "
		    "%lu to %lu\n", what, s, lo, hi);
		exit(2);
	}
	if (endp != NULL)
		*endp = end;
	return v;
}

static void
fail(asoc_t *as, asoc_status_t st, const char *what)
{
	fprintf(stderr, "asoc-pingpong: %s: %s%s%s\n", what, asoc_strerror(st),
	    as && *asoc_last_error(as) ? ": " : "",
	    as ? asoc_last_error(as) : "");
	exit(1);
}

/*
 * What each message carries, the same work mpi-bench's fill and check do
 * so that neither side of bench/vs-mpi pays more for it: the message
 * number in the first bytes that fit, and in the first byte of every
 * further 4 KiB page and in the last byte.  A tensor is written and read
 * by its application; touching every page (not every byte) is what both
 * benches charge it, outside the clock on the sender and between
 * messages on the receiver.
 */
static void
stamp(unsigned char *p, size_t len, uint32_t n)
{
	size_t i;

	memcpy(p, &n, len < sizeof(n) ? len : sizeof(n));
	for (i = 4096; i < len; i += 4096)
		p[i] = (unsigned char)(n + i / 4096);
	if (len > sizeof(n))
		p[len - 1] = (unsigned char)(n * 7);
}

static int
stamped(const unsigned char *p, size_t len, uint32_t n)
{
	size_t i;
	int ok;

	ok = memcmp(p, &n, len < sizeof(n) ? len : sizeof(n)) == 0;
	for (i = 4096; i < len; i += 4096)
		ok &= p[i] == (unsigned char)(n + i / 4096);
	if (len > sizeof(n))
		ok &= p[len - 1] == (unsigned char)(n * 7);
	return ok;
}

/* WINDOW sends in flight, each from its own slot; returns the seconds
 * of n sends, numbered from first. */
static double
send_window(asoc_t *as, asoc_buf_t *buf, size_t len, uint64_t tag,
    unsigned first, unsigned n, unsigned window, size_t slot)
{
	unsigned char *p = asoc_buf_ptr(buf);
	asoc_req_t *req[PP_MAX_WINDOW];
	asoc_status_t st;
	unsigned i;
	double t0 = now();

	for (i = 0; i < n + window; i++) {
		unsigned k = i % window;

		if (i >= window && (st = asoc_wait(req[k], NULL)) != ASOC_OK)
			fail(as, st, "waiting for a send");
		if (i >= n)
			continue;
		if (!one_buffer)
			stamp(p + k * slot, len, first + i);
		if ((st = asoc_isend(as, buf, one_buffer ? 0 : k * slot, len,
		    1, tag, &req[k])) != ASOC_OK)
			fail(as, st, "asoc_isend");
	}
	return now() - t0;
}

static int
do_send(asoc_t *as, asoc_buf_t *buf, const size_t *sizes, int nsizes,
    unsigned iters, unsigned warmup, unsigned window, size_t slot)
{
	unsigned char *p = asoc_buf_ptr(buf);
	double *t = calloc(iters, sizeof(*t)), t0;
	asoc_status_t st;
	asoc_req_t *req;
	unsigned i;
	int s;

	if (t == NULL) {
		fprintf(stderr, "asoc-pingpong: out of memory\n");
		return 1;
	}
	for (s = 0; s < nsizes; s++) {
		if (window > 1) {
			double secs;

			send_window(as, buf, sizes[s], PP_TAG + (uint64_t)s, 0,
			    warmup, window, slot);
			secs = send_window(as, buf, sizes[s],
			    PP_TAG + (uint64_t)s, warmup, iters, window, slot);
			printf("asoc-pingpong %zu window %u us_per_msg %.2f "
			    "mib_per_s %.1f\n", sizes[s], window,
			    1e6 * secs / iters,
			    (double)sizes[s] * iters / secs / 1048576);
			fflush(stdout);
			continue;
		}
		for (i = 0; i < warmup + iters; i++) {
			stamp(p, sizes[s], i);
			t0 = now();
			if ((st = asoc_isend(as, buf, 0, sizes[s], 1,
			    PP_TAG + (uint64_t)s, &req)) != ASOC_OK)
				fail(as, st, "asoc_isend");
			if ((st = asoc_wait(req, NULL)) != ASOC_OK)
				fail(as, st, "waiting for a send");
			if (i >= warmup)
				t[i - warmup] = now() - t0;
		}
		qsort(t, iters, sizeof(*t), cmp_double);
		printf("asoc-pingpong %zu median_us %.2f min_us %.2f max_us %.2f\n",
		    sizes[s], 1e6 * (iters % 2 ? t[iters / 2] :
		    (t[iters / 2 - 1] + t[iters / 2]) / 2), 1e6 * t[0],
		    1e6 * t[iters - 1]);
		fflush(stdout);
	}
	free(t);
	return 0;
}

static int
do_recv(asoc_t *as, asoc_buf_t *buf, const size_t *sizes, int nsizes,
    unsigned iters, unsigned warmup, unsigned posted, size_t slot)
{
	unsigned char *p = asoc_buf_ptr(buf);
	asoc_req_t *req[PP_MAX_WINDOW];
	asoc_completion_t c;
	asoc_status_t st;
	unsigned i, n = warmup + iters, bad = 0;
	int s;

	for (s = 0; s < nsizes; s++) {
		uint64_t tag = PP_TAG + (uint64_t)s;

		for (i = 0; i < posted && i < n; i++)
			if ((st = asoc_irecv(as, buf, one_buffer ? 0 :
			    i * slot, sizes[s], 0, tag, &req[i])) != ASOC_OK)
				fail(as, st, "asoc_irecv");
		for (i = 0; i < n; i++) {
			unsigned k = i % posted;

			if ((st = asoc_wait(req[k], &c)) != ASOC_OK)
				fail(as, st, "waiting for a receive");
			if (c.len != sizes[s] || (!one_buffer &&
			    !stamped(p + k * slot, sizes[s], i)))
				bad++;
			if (i + posted < n && (st = asoc_irecv(as, buf,
			    one_buffer ? 0 : k * slot, sizes[s], 0, tag,
			    &req[k])) != ASOC_OK)
				fail(as, st, "asoc_irecv");
		}
	}
	printf("asoc-pingpong received %u sizes, %u wrong\n", nsizes, bad);
	return bad != 0;
}

int
main(int argc, char **argv)
{
	size_t sizes[PP_MAX_SIZES], slot = 0;
	unsigned iters, warmup, window = 1;
	asoc_status_t st;
	asoc_buf_t *buf;
	asoc_t *as;
	char *s, *end;
	int n = 0, rc;

	if (argc < 6 || argc > 8 ||
	    (strcmp(argv[2], "send") && strcmp(argv[2], "recv")) ||
	    (argc == 8 && strcmp(argv[7], "one-buffer"))) {
		fprintf(stderr, "usage: asoc-pingpong SOCKET send|recv SIZES "
		    "ITERATIONS WARMUP [WINDOW [one-buffer]]\n");
		return 2;
	}
	one_buffer = argc == 8;
	for (s = argv[3]; ; s = end + 1) {
		if (n == PP_MAX_SIZES) {
			fprintf(stderr, "asoc-pingpong: at most %d sizes\n",
			    PP_MAX_SIZES);
			return 2;
		}
		sizes[n] = number(s, "SIZES", 1, 1UL << 30, &end);
		if (sizes[n] > slot)
			slot = sizes[n];
		n++;
		if (*end == '\0')
			break;
		if (*end != ',') {
			fprintf(stderr, "asoc-pingpong: SIZES: a list such as "
			    "8,4096,65536\n");
			return 2;
		}
	}
	iters = (unsigned)number(argv[4], "ITERATIONS", 1, 10000000, NULL);
	warmup = (unsigned)number(argv[5], "WARMUP", 0, 10000000, NULL);
	if (argc >= 7)
		window = (unsigned)number(argv[6], "WINDOW", 1, PP_MAX_WINDOW,
		    NULL);
	if ((st = asoc_open(argv[1], &as)) != ASOC_OK)
		fail(NULL, st, argv[1]);
	if (asoc_world_size(as) < 2 ||
	    asoc_rank(as) != (strcmp(argv[2], "send") == 0 ? 0 : 1)) {
		fprintf(stderr, "asoc-pingpong: the sender runs on rank 0 and "
		    "the receiver on rank 1 (this daemon is rank %d of %d)\n",
		    asoc_rank(as), asoc_world_size(as));
		return 1;
	}
	/* Page-aligned slots: one per send in flight, and as many receives
	 * posted (at least two). */
	slot = (slot + 4095) & ~(size_t)4095;
	if (window < 2 && asoc_rank(as) == 1)
		window = 2;
	if ((st = asoc_buf_alloc(as, window * slot, &buf)) != ASOC_OK)
		fail(as, st, "asoc_buf_alloc");
	if (asoc_rank(as) == 0)
		rc = do_send(as, buf, sizes, n, iters, warmup, window, slot);
	else
		rc = do_recv(as, buf, sizes, n, iters, warmup, window, slot);
	asoc_buf_free(buf);
	asoc_close(as);
	return rc;
}
