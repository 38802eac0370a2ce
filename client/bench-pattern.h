/*
 * bench-pattern.h: the tensor pattern of asoc-bench (bench-pattern.c).
 */
#ifndef ASOC_BENCH_PATTERN_H
#define ASOC_BENCH_PATTERN_H

#include <stddef.h>
#include <stdint.h>

/*
 * The pattern is a hash of each 64-bit word's index, and every
 * BENCH_STAMP_EVERY-th word (one per 4 KiB) carries a stamp on top: the
 * message's iteration, say, so that a buffer still holding an older
 * message cannot pass the check.  The bytes after the last whole word are
 * never written.
 */
#define BENCH_STAMP_EVERY	512	/* words */

/* The whole tensor with stamp `add`, in one pass (add 0: the plain
 * pattern, to fill a buffer with). */
void		bench_tensor(void *p, size_t size, uint64_t add);

/* Only the stamped words, to `add`: a tensor already written whole takes
 * a new stamp at a word per 4 KiB. */
void		bench_stamp(void *p, size_t size, uint64_t add);

/*
 * The bytes of p that differ from bench_tensor's with stamp `add`, the
 * bytes after its last whole word zero, as in a fresh buffer.  It
 * computes each word rather than comparing with a reference copy, so a
 * check reads the tensor once and nothing else: half the memory a memcmp
 * against a copy reads, and the work bench/raw-sock.c's receiver does,
 * which bench/tcp-vs-raw compares with.
 */
uint64_t	bench_check(const void *p, size_t size, uint64_t add);

#endif
