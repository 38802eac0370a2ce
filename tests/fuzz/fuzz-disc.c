/*
 * fuzz-disc.c: the discovery datagram, as any host on the LAN can send it.
 * An accepted announce must encode back to the same bytes.
 */
#include <string.h>

#include "fuzz.h"
#include "proto_disc.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_disc d;
	uint8_t out[DISC_LEN];

	if (proto_disc_decode(data, size, &d) != 0)
		return 0;
	FUZZ_ASSERT(size == DISC_LEN);
	FUZZ_ASSERT(memchr(d.community, 0, sizeof d.community) != NULL);
	proto_disc_encode(&d, out);
	FUZZ_ASSERT(memcmp(out, data, DISC_LEN) == 0);
	return 0;
}
