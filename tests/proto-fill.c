/*
 * proto-fill.c: messages filled by the field tables (see proto-fill.h).
 */
#include "proto-fill.h"

#include <string.h>

const uint8_t pfill_payload[5] = { 0xd1, 0xd2, 0xd3, 0xd4, 0xd5 };

/* A bounded number takes its bound (ranks their largest, worlds
 * PROTO_RANK_MAX, flags every known bit, so a credential string must and
 * does follow); an unbounded one a byte pattern below 0x80 in every byte,
 * so no offset + length wraps. */
static uint64_t
pfill_num(const struct proto_field *f, unsigned k)
{
	uint64_t v = 0;
	unsigned j;

	switch (f->kind) {
	case PF_FLAGS:
		return f->max;
	case PF_PEER:
		return PROTO_RANK_ANY;
	case PF_ZERO:
		return 0;
	default:
		if (f->max != UINT64_MAX)
			return f->max;
		for (j = 0; j < f->size; j++)
			v |= (uint64_t)(0x11 + (8 * k + j) % 0x6e) << (8 * j);
		return v;
	}
}

void
pfill_field(struct proto_msg *m, const struct proto_field *f, unsigned k)
{
	uint8_t *at = (uint8_t *)m + f->off;
	uint64_t v;
	uint32_t v32;
	uint16_t v16;

	if (f->kind == PF_BYTES) {
		memset(at, 0xa0 + (int)k, f->size);
		at[f->size - 1] = (uint8_t)(0x5a ^ k);
		return;
	}
	if (f->kind == PF_STR) {
		proto_set_name((char *)at, f->size, f->name);
		return;
	}
	v = pfill_num(f, k);
	v32 = (uint32_t)v;
	v16 = (uint16_t)v;
	if (f->size == 2)
		memcpy(at, &v16, 2);
	else if (f->size == 4)
		memcpy(at, &v32, 4);
	else
		memcpy(at, &v, 8);
}

void
pfill_msg(struct proto_msg *m, uint16_t type)
{
	const struct proto_field *f;
	size_t i, n;

	memset(m, 0, sizeof *m);
	m->hdr.type = type;
	m->hdr.id = 0x0102030405060708ull ^ ((uint64_t)type << 40);
	f = proto_fields(type, &n);
	for (i = 0; i < n; i++)
		pfill_field(m, &f[i], (unsigned)i);
	if (type == PT_DATA) {
		m->payload = pfill_payload;
		m->payload_len = sizeof pfill_payload;
	}
	/* A session is one kind: a process rank (rank 0xfffe of 0xffff by
	 * the fill); WHERE asks for a whole number of ranks that exist. */
	if (type == PT_L_HELLO)
		m->u.l_hello.flags = PROTO_LH_F_PROC;
	if (type == PT_L_WELCOME)
		m->u.l_welcome.flags = PROTO_LH_F_PROC;
	if (type == PT_L_WHERE) {
		m->u.l_xfer.peer = 12;
		m->u.l_xfer.len = 4 * 4;
		m->u.l_xfer.offset = 0x1000;
	}
	/* RTS's flags took every known bit: it is eager (and names process
	 * ranks, 0xfffe of 0xffff), and carries exactly its len bytes. */
	if (type == PT_RTS) {
		m->u.rts.len = sizeof pfill_payload;
		m->payload = pfill_payload;
		m->payload_len = sizeof pfill_payload;
	}
}
