/*
 * bench-pattern.h: the tensor pattern of asoc-bench (bench-pattern.c).
 */
#ifndef ASOC_BENCH_PATTERN_H
#define ASOC_BENCH_PATTERN_H

#include <stddef.h>
#include <stdint.h>

/*
 * The pattern is a hash of each 64-bit word's index.  Every `step`th word
 * gets `add` on top: step 1 and add 0 fills the tensor once; step
 * BENCH_STAMP_EVERY and add iteration + 1 stamps one word per 4 KiB, so a
 * buffer still holding an older tensor cannot pass the check.  The bytes
 * after the last whole word are not written.
 */
void		bench_pattern(void *p, size_t size, size_t step, uint64_t add);

/* The whole tensor in one pass: what bench_pattern with step 1 and add 0,
 * then with step and add, leaves (the bytes after the last whole word
 * untouched). */
void		bench_tensor(void *p, size_t size, size_t step, uint64_t add);

/*
 * The bytes of p that differ from a tensor filled once (step 1, add 0)
 * and then stamped with (step, add), the bytes after its last whole word
 * zero, as in a fresh buffer.  It computes each word rather than
 * comparing with a reference copy, so a check reads the tensor once and
 * nothing else: half the memory a memcmp against a copy reads, and the
 * work bench/raw-sock.c's receiver does, which bench/tcp-vs-raw compares
 * with.
 */
uint64_t	bench_check(const void *p, size_t size, size_t step,
		    uint64_t add);

#endif
