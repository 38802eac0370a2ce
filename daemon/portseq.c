/*
 * portseq.c: a job's candidate ports (see portseq.h).  Pure arithmetic:
 * asoc-slurm(8) and every asocd of the job must agree on it, whatever
 * their build.
 */
#include "config.h"
#include "portseq.h"

#include <string.h>

/* splitmix64's finaliser: every input bit moves every output bit. */
static uint64_t
mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static unsigned
gcd(unsigned a, unsigned b)
{
	while (b != 0) {
		unsigned t = a % b;

		a = b;
		b = t;
	}
	return a;
}

uint16_t
portseq_port(unsigned base, unsigned span, const char *name, unsigned i)
{
	uint64_t h = 0xcbf29ce484222325ull;	/* FNV-1a of the name */
	unsigned start, stride;
	const char *p;

	if (span <= 1)
		return (uint16_t)base;
	for (p = name; p != NULL && *p != '\0'; p++)
		h = (h ^ (uint8_t)*p) * 0x100000001b3ull;
	h = mix(h);
	start = (unsigned)(h % span);
	/* A stride prime to span: the first span candidates are all
	 * different. */
	stride = 1 + (unsigned)(mix(h) % (span - 1));
	while (gcd(stride, span) != 1)
		stride = stride % (span - 1) + 1;
	return (uint16_t)(base + (start + (uint64_t)i * stride) % span);
}
