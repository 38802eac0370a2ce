/*
 * le.h: little-endian loads and stores, the one copy for the whole tree.
 *
 * The wire (proto.c, proto_disc.c), the stream headers of the CLIs and the
 * handshake transcript are little-endian byte strings whatever the host's
 * order, and are read and written a byte at a time, never by casting a
 * pointer, so alignment and host byte order never matter.
 */
#ifndef ASOC_LE_H
#define ASOC_LE_H

#include <stddef.h>
#include <stdint.h>

/* The n low bytes of v at p, least significant first (n <= 8). */
static inline void
le_put(uint8_t *p, uint64_t v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* The n bytes at p as an unsigned number, least significant first. */
static inline uint64_t
le_get(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	while (n-- > 0)
		v = (v << 8) | p[n];
	return v;
}

static inline void
le_put32(uint8_t *p, uint32_t v)
{
	le_put(p, v, 4);
}

static inline void
le_put64(uint8_t *p, uint64_t v)
{
	le_put(p, v, 8);
}

static inline uint32_t
le_get32(const uint8_t *p)
{
	return (uint32_t)le_get(p, 4);
}

static inline uint64_t
le_get64(const uint8_t *p)
{
	return le_get(p, 8);
}

#endif
