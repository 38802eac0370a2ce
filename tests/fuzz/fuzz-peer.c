/*
 * fuzz-peer.c: the peer decoder (PROTO_CH_PEER): handshake and transfer
 * messages from another asocd, as datagrams (RDMA) and as a stream (TCP).
 */
#include "fuzz-proto.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_proto_datagram(data, size, PROTO_CH_PEER);
	fuzz_proto_stream(data, size, PROTO_CH_PEER);
	return 0;
}
