/*
 * fuzz-local.c: the local decoder, both directions: what a client sends
 * asocd (PROTO_CH_LOCAL_IN) and what asocd sends a client
 * (PROTO_CH_LOCAL_OUT).
 */
#include "fuzz-proto.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_proto_datagram(data, size, PROTO_CH_LOCAL_IN);
	fuzz_proto_datagram(data, size, PROTO_CH_LOCAL_OUT);
	fuzz_proto_stream(data, size, PROTO_CH_LOCAL_IN);
	fuzz_proto_stream(data, size, PROTO_CH_LOCAL_OUT);
	return 0;
}
