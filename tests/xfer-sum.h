/*
 * xfer-sum.h: the checksum the test programs put on the data they move
 * (FNV-1a over 64-bit words, then the tail bytes, mixed with the length),
 * one definition for asoc-xfer-check and asoc-load.
 */
#ifndef ASOC_XFER_SUM_H
#define ASOC_XFER_SUM_H

#include <stdint.h>
#include <string.h>

static inline uint64_t
xfer_sum(const uint8_t *p, uint64_t n)
{
	uint64_t h = 0xcbf29ce484222325ull, w, i;

	for (i = 0; i + 8 <= n; i += 8) {
		memcpy(&w, p + i, 8);
		h = (h ^ w) * 0x100000001b3ull;
	}
	for (; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h ^ n;
}

#endif
