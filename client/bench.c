/*
 * bench.c: the tensor pattern, the clock and the rates of asoc-bench.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "asoc.h"
#include "bench.h"
#include "cli.h"

const char *
bench_pattern_name(enum bench_pattern p)
{
	switch (p) {
	case BENCH_PAIR:
		return "pair";
	case BENCH_SELF:
		return "self";
	case BENCH_BCAST:
		return "bcast";
	case BENCH_BCAST_NAIVE:
		return "bcast-naive";
	case BENCH_ALLTOALL:
		return "alltoall";
	case BENCH_RING:
		return "ring";
	}
	return "?";
}

double
bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double
bench_rate(uint64_t bytes, double s, double unit)
{
	return s > 0 ? (double)bytes / s / unit : 0;
}

/*
 * The pattern is a hash of each 64-bit word's index.  Every `step`th word
 * gets `add` on top: step 1 and add 0 fills the tensor once; step
 * BENCH_STAMP_EVERY and add iteration + 1 stamps one word per 4 KiB, so a
 * buffer still holding an older tensor cannot pass the check.
 */
void
bench_pattern(void *p, size_t size, size_t step, uint64_t add)
{
	uint64_t *w = p, x;
	size_t i;

	for (i = 0; i < size / 8; i += step) {
		x = i * 0x9e3779b97f4a7c15ULL;
		w[i] = (x ^ (x >> 31)) + add;
	}
}

uint64_t
bench_mismatches(const unsigned char *got, const unsigned char *want,
    size_t size)
{
	uint64_t bad = 0;
	size_t i;

	if (memcmp(got, want, size) == 0)
		return 0;
	for (i = 0; i < size; i++)
		bad += got[i] != want[i];
	return bad;
}

asoc_buf_t *
bench_alloc(asoc_t *as, size_t size, const char *what)
{
	asoc_buf_t *b;
	asoc_status_t st;

	if ((st = asoc_buf_alloc(as, size, &b)) != ASOC_OK)
		cli_die_asoc(st, asoc_last_error(as), "cannot allocate %s "
		    "(%zu bytes)", what, size);
	return b;
}

/* Between the runs of a sweep: the next size needs the memory. */
void
bench_free(asoc_buf_t *buf)
{
	asoc_status_t st;

	if (buf != NULL && (st = asoc_buf_free(buf)) != ASOC_OK)
		cli_warn("cannot free a buffer: %s", asoc_strerror(st));
}
