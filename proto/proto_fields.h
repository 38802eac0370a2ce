/*
 * proto_fields.h: the field tables behind proto.c's encoder and decoder,
 * for proto.c and the tests that fill and compare messages by them.
 *
 * Each message type has one table: its body's fields in wire order, each
 * naming the member of struct proto_msg it travels in.  The encoder, the
 * decoder, the body lengths and the tests' fill all walk the same table,
 * so a field is written once (plus its struct member in proto.h).  What a
 * table cannot say (rank < world, a credential iff the MUNGE flag, no
 * wrap of offset + length, DATA's payload) is in proto.c's per-type
 * checks.
 */
#ifndef ASOC_PROTO_FIELDS_H
#define ASOC_PROTO_FIELDS_H

#include <stddef.h>
#include <stdint.h>

enum proto_fkind {
	PF_NUM,		/* 2, 4 or 8 bytes little-endian, at most max */
	PF_FLAGS,	/* 4 bytes; a bit outside the mask (max) is refused */
	PF_PEER,	/* 4 bytes: a rank below PROTO_RANK_MAX, or ANY */
	PF_ZERO,	/* 4 bytes reserved: sent as zero, must read zero */
	PF_BYTES,	/* size opaque bytes (nonces, MACs) */
	PF_STR,		/* size bytes: NUL-terminated, zeros after the NUL */
};

struct proto_field {
	const char *name;	/* "hello.rank": the member of proto_msg.u */
	uint16_t off;		/* offsetof(struct proto_msg, u.<name>) */
	uint16_t size;		/* bytes, on the wire and in the struct */
	uint8_t kind;		/* enum proto_fkind */
	uint64_t max;		/* PF_NUM: largest value; PF_FLAGS: mask */
};

/* The body fields of a type, in wire order, and their count in *n (0,
 * and maybe NULL, for an unknown type and for S_QUERY and S_END, which
 * have no body). */
const struct proto_field *proto_fields(uint16_t type, size_t *n);

#endif
