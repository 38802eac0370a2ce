/*
 * bench-pattern.c: the bytes asoc-bench sends, and the check of what
 * arrived.  On its own, without libasoc, so tests/check_bench_pattern
 * can take it alone.
 */
#include <stdint.h>
#include <string.h>

#include "bench-pattern.h"

/* Word i's value before any stamp: a hash of i, so a word that lands at
 * the wrong offset does not match. */
#define PATTERN_MUL	0x9e3779b97f4a7c15ULL

static inline uint64_t
pattern_word(uint64_t x)	/* x = i * PATTERN_MUL */
{
	return x ^ (x >> 31);
}

/* Through memcpy: a slice of a window starts at k * size, which need not
 * be a multiple of 8 (gcc makes each a plain load or store). */
static inline uint64_t
load_word(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof v);
	return v;
}

static inline void
store_word(unsigned char *p, uint64_t v)
{
	memcpy(p, &v, sizeof v);
}

void
bench_stamp(void *p, size_t size, uint64_t add)
{
	unsigned char *c = p;
	size_t i;

	for (i = 0; i < size / 8; i += BENCH_STAMP_EVERY)
		store_word(c + i * 8, pattern_word(i * PATTERN_MUL) + add);
}

void
bench_tensor(void *p, size_t size, uint64_t add)
{
	unsigned char *c = p;
	size_t n = size / 8, i, j, end;
	uint64_t x;

	for (i = 0; i < n; i = end) {
		end = n - i > BENCH_STAMP_EVERY ? i + BENCH_STAMP_EVERY : n;
		x = i * PATTERN_MUL;
		store_word(c + i * 8, pattern_word(x) + add);
		for (j = i + 1; j < end; j++) {
			x += PATTERN_MUL;
			store_word(c + j * 8, pattern_word(x));
		}
	}
}

/* The bytes of word want that got has wrong. */
static uint64_t
word_bytes_bad(uint64_t got, uint64_t want)
{
	uint64_t d = got ^ want, bad = 0;
	unsigned b;

	for (b = 0; b < 8; b++)
		bad += (d >> (8 * b) & 0xff) != 0;
	return bad;
}

uint64_t
bench_check(const void *p, size_t size, uint64_t add)
{
	const unsigned char *c = p;
	size_t n = size / 8, i, j, end;
	uint64_t x, want, acc, bad = 0;

	for (i = 0; i < n; i = end) {
		end = n - i > BENCH_STAMP_EVERY ? i + BENCH_STAMP_EVERY : n;
		/* One block: the stamped word, then the plain ones, whose
		 * hash input grows by the multiplier (an add, not a
		 * multiply, per word).  Differences are only gathered
		 * here; the bytes are counted in the rare bad block. */
		x = i * PATTERN_MUL;
		acc = load_word(c + i * 8) ^ (pattern_word(x) + add);
		for (j = i + 1; j < end; j++) {
			x += PATTERN_MUL;
			acc |= load_word(c + j * 8) ^ pattern_word(x);
		}
		if (acc == 0)
			continue;
		for (j = i; j < end; j++) {
			want = pattern_word(j * PATTERN_MUL) + (j == i ? add :
			    0);
			bad += word_bytes_bad(load_word(c + j * 8), want);
		}
	}
	/* The bytes after the last whole word: nobody writes them, and a
	 * fresh asoc buffer is zero. */
	for (i = n * 8; i < size; i++)
		bad += c[i] != 0;
	return bad;
}
