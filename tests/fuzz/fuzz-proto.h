/*
 * fuzz-proto.h: the wire decoder under hostile bytes, shared by the local
 * and the peer targets.  Two ways in, as the daemon has them: one whole
 * datagram (proto_decode: the Unix socket, the RDMA ring), and a stream of
 * messages cut by their headers (proto_decode_hdr then proto_decode_body:
 * the TCP transport).  What the decoder accepts must encode back to the
 * very same bytes: the wire has one encoding per message, so a message
 * that "decodes" differently from how it was sent cannot slip through.
 */
#ifndef ASOC_FUZZ_PROTO_H
#define ASOC_FUZZ_PROTO_H

#include <string.h>

#include "fuzz.h"
#include "proto.h"

static inline void
fuzz_proto_roundtrip(const uint8_t *data, size_t size,
    const struct proto_msg *m)
{
	struct proto_msg copy = *m;
	uint8_t out[PROTO_HDR_LEN + PROTO_MAX_FIXED];
	size_t n, fixed;

	fixed = proto_encoded_len(m->hdr.type);
	FUZZ_ASSERT(fixed >= PROTO_HDR_LEN && fixed <= sizeof out);
	FUZZ_ASSERT(size >= fixed);
	if (m->hdr.type == PT_DATA) {
		/* The payload stays in the input, right after the fixed part. */
		FUZZ_ASSERT(m->payload_len == m->hdr.length - PROTO_DATA_LEN);
		FUZZ_ASSERT(m->payload_len > 0 &&
		    m->payload_len <= PROTO_DATA_MAX);
		if (m->payload != NULL)
			FUZZ_ASSERT(m->payload == data + fixed &&
			    m->payload_len <= size - fixed);
	} else if (m->hdr.type == PT_RTS && m->payload_len > 0) {
		/* Eager: the message follows, whole, exactly its len. */
		FUZZ_ASSERT(m->u.rts.flags & PROTO_RTS_F_EAGER);
		FUZZ_ASSERT(m->payload_len == m->hdr.length - PROTO_RTS_LEN &&
		    m->payload_len == m->u.rts.len &&
		    m->payload_len <= PROTO_EAGER_MAX);
		FUZZ_ASSERT(m->payload == data + fixed &&
		    m->payload_len <= size - fixed);
	} else
		FUZZ_ASSERT(m->payload == NULL && m->payload_len == 0);
	n = proto_encode(&copy, out, sizeof out);
	FUZZ_ASSERT(n == fixed);
	FUZZ_ASSERT(memcmp(out, data, n) == 0);
}

/* One datagram: exactly one message, and nothing else. */
static inline void
fuzz_proto_datagram(const uint8_t *data, size_t size, enum proto_channel ch)
{
	struct proto_msg m;

	if (proto_decode(data, size, ch, &m) != PROTO_OK)
		return;
	FUZZ_ASSERT(size == PROTO_HDR_LEN + m.hdr.length);
	fuzz_proto_roundtrip(data, size, &m);
}

/* A stream: header, then as much body as the header says, as the TCP
 * transport reads it (DATA: the fixed part, then the payload skipped; an
 * eager RTS whole). */
static inline void
fuzz_proto_stream(const uint8_t *data, size_t size, enum proto_channel ch)
{
	struct proto_hdr h;
	struct proto_msg m;
	size_t body;

	while (size >= PROTO_HDR_LEN) {
		if (proto_decode_hdr(data, PROTO_HDR_LEN, ch, &h) != PROTO_OK)
			return;
		body = h.type == PT_DATA ? PROTO_DATA_LEN : h.length;
		FUZZ_ASSERT(body <= h.length);
		if (size - PROTO_HDR_LEN < body)
			return;
		if (proto_decode_body(&h, data + PROTO_HDR_LEN, body, &m) !=
		    PROTO_OK)
			return;
		fuzz_proto_roundtrip(data, PROTO_HDR_LEN + body, &m);
		if (size - PROTO_HDR_LEN < h.length)
			return;
		data += PROTO_HDR_LEN + h.length;
		size -= PROTO_HDR_LEN + h.length;
	}
}

#endif
