/*
 * proto.c: encoder and strict decoder for the ASoc wire (see proto.h).
 *
 * Every body is described once, by a field table (proto_fields.h): the
 * encoder, the decoder and the lengths walk it, and per-type checks add
 * what a table cannot say.  Fields are read and written as little-endian
 * bytes (le.h), never by casting a pointer to a struct, so alignment,
 * padding and host byte order never matter.
 */
#include "proto.h"
#include "proto_fields.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "le.h"

/* --- the field tables --- */

#define F_AT(m)		offsetof(struct proto_msg, u.m)
#define F_SIZE(m)	sizeof(((struct proto_msg *)0)->u.m)
#define F(m, kind, max)	{ #m, F_AT(m), F_SIZE(m), kind, max }
#define NUM(m)		F(m, PF_NUM, UINT64_MAX)
#define MAXED(m, max)	F(m, PF_NUM, max)
#define RANK(m)		MAXED(m, PROTO_RANK_MAX - 1)
#define WORLD(m)	MAXED(m, PROTO_RANK_MAX)	/* and not 0: checks */
#define STATUS(m)	MAXED(m, PS_LAST)
#define FLAGS(m, mask)	F(m, PF_FLAGS, mask)
#define PEER(m)		F(m, PF_PEER, 0)
#define ZERO(m)		F(m, PF_ZERO, 0)
#define BYTES(m)	F(m, PF_BYTES, 0)
#define STR(m)		F(m, PF_STR, 0)

static const struct proto_field f_hello[] = {
	NUM(hello.version), RANK(hello.rank), WORLD(hello.world),
	FLAGS(hello.flags, PROTO_HS_FLAGS), STR(hello.community),
	BYTES(hello.nonce), MAXED(hello.conns, PROTO_CONNS_MAX),
	MAXED(hello.lane, PROTO_CONNS_MAX - 1),
};
static const struct proto_field f_welcome[] = {
	NUM(welcome.version), RANK(welcome.rank), WORLD(welcome.world),
	FLAGS(welcome.flags, PROTO_HS_FLAGS), STR(welcome.cred),
};
static const struct proto_field f_refuse[] = {
	STATUS(refuse.status), NUM(refuse.version), STR(refuse.msg),
};
static const struct proto_field f_challenge[] = {
	RANK(challenge.rank), WORLD(challenge.world),
	FLAGS(challenge.flags, PROTO_HS_FLAGS), ZERO(challenge.reserved),
	BYTES(challenge.nonce), BYTES(challenge.mac),
};
static const struct proto_field f_auth[] = {
	FLAGS(auth.flags, PROTO_HS_FLAGS), ZERO(auth.reserved),
	BYTES(auth.mac), STR(auth.cred),
};
static const struct proto_field f_l_hello[] = {
	NUM(l_hello.version), NUM(l_hello.pid), RANK(l_hello.rank),
	MAXED(l_hello.world, PROTO_RANK_MAX), NUM(l_hello.localid),
	FLAGS(l_hello.flags, PROTO_LH_FLAGS),
};
static const struct proto_field f_l_reg[] = { NUM(l_reg.size) };
static const struct proto_field f_l_free[] = { NUM(l_free.buf_id) };
/* SEND and RECV share struct proto_l_xfer; a SEND names one peer and has
 * no flags.  reserved is sent as the caller left it (the tests forge it),
 * and must read zero. */
#define L_XFER_HEAD NUM(l_xfer.buf_id), NUM(l_xfer.offset), \
	NUM(l_xfer.len), NUM(l_xfer.tag)
static const struct proto_field f_l_send[] = {
	L_XFER_HEAD, RANK(l_xfer.peer), NUM(l_xfer.timeout_ms),
	MAXED(l_xfer.flags, 0), MAXED(l_xfer.reserved, 0),
};
static const struct proto_field f_l_recv[] = {
	L_XFER_HEAD, PEER(l_xfer.peer), NUM(l_xfer.timeout_ms),
	FLAGS(l_xfer.flags, PROTO_XF_FLAGS), MAXED(l_xfer.reserved, 0),
};
/* WHERE: a range of ranks, no flags. */
static const struct proto_field f_l_where[] = {
	L_XFER_HEAD, RANK(l_xfer.peer), NUM(l_xfer.timeout_ms),
	MAXED(l_xfer.flags, 0), MAXED(l_xfer.reserved, 0),
};
static const struct proto_field f_l_cancel[] = { NUM(l_cancel.req_id) };
static const struct proto_field f_l_welcome[] = {
	NUM(l_welcome.version), RANK(l_welcome.rank), WORLD(l_welcome.world),
	NUM(l_welcome.daemon_pid), RANK(l_welcome.node),
	WORLD(l_welcome.nodes), FLAGS(l_welcome.flags, PROTO_LH_FLAGS),
	ZERO(l_welcome.reserved), NUM(l_welcome.chunk_size),
};
static const struct proto_field f_l_done[] = {
	STATUS(l_done.status), NUM(l_done.peer), NUM(l_done.len),
	NUM(l_done.tag), STR(l_done.msg),
};
static const struct proto_field f_rts[] = {
	NUM(rts.tag), NUM(rts.len), RANK(rts.src_rank),
	FLAGS(rts.flags, PROTO_RTS_FLAGS), RANK(rts.dst_rank),
	MAXED(rts.world, PROTO_RANK_MAX),
};
static const struct proto_field f_cts[] = {
	NUM(cts.recv_id), NUM(cts.addr), NUM(cts.len), NUM(cts.rkey),
	NUM(cts.flags),
};
static const struct proto_field f_data[] = { NUM(data.offset) };
static const struct proto_field f_ack[] = {
	STATUS(ack.status), NUM(ack.flags), NUM(ack.len),
};
static const struct proto_field f_abort[] = {
	STATUS(abort.status), MAXED(abort.to_sender, 1),
};
static const struct proto_field f_wdone[] = { NUM(wdone.len) };
static const struct proto_field f_s_node[] = {
	NUM(s_node.rank), NUM(s_node.world), NUM(s_node.clients),
	NUM(s_node.peers_connected), NUM(s_node.xfers_active),
	NUM(s_node.unexpected), NUM(s_node.posted_recvs),
	NUM(s_node.bytes_sent), NUM(s_node.bytes_received),
	NUM(s_node.buffers), NUM(s_node.buffer_bytes),
	NUM(s_node.registrations), NUM(s_node.deregistrations),
	NUM(s_node.xfers_done), NUM(s_node.xfers_failed),
	STR(s_node.transport), MAXED(s_node.mode, PROTO_MODE_PROC),
	NUM(s_node.local_ranks), MAXED(s_node.proc_world, PROTO_RANK_MAX),
	ZERO(s_node.reserved),
};
static const struct proto_field f_s_peer[] = {
	NUM(s_peer.rank), NUM(s_peer.port), NUM(s_peer.state),
	NUM(s_peer.flags), NUM(s_peer.xfers_active), NUM(s_peer.bytes_sent),
	NUM(s_peer.bytes_received), STR(s_peer.host), STR(s_peer.transport),
};
static const struct proto_field f_s_rank[] = {
	RANK(s_rank.rank), WORLD(s_rank.world), NUM(s_rank.pid),
	NUM(s_rank.localid), NUM(s_rank.sessions), NUM(s_rank.incarnation),
	NUM(s_rank.posted_recvs), NUM(s_rank.unexpected),
	NUM(s_rank.bytes_sent), NUM(s_rank.bytes_received),
};
static const struct proto_field f_rk_join[] = {
	RANK(rk_join.rank), WORLD(rk_join.world), NUM(rk_join.pid),
	NUM(rk_join.incarnation),
};
static const struct proto_field f_rk_leave[] = {
	RANK(rk_leave.rank), WORLD(rk_leave.world),
	NUM(rk_leave.incarnation), STATUS(rk_leave.status),
};

/* --- what a table cannot say: 0 when the decoded body is sound --- */

static int
ranks_ok(uint32_t rank, uint32_t world)
{
	return world != 0 && rank < world;	/* world <= max: its field */
}

/* A MUNGE credential travels exactly when the flag says so. */
static int
munge_ok(uint32_t flags, const char *cred)
{
	return (cred[0] != '\0') == ((flags & PROTO_HS_F_MUNGE) != 0);
}

static int
check_hello(const struct proto_msg *m)
{
	const struct proto_hello *h = &m->u.hello;

	return ranks_ok(h->rank, h->world) && h->conns >= 1 &&
	    h->lane < h->conns ? 0 : -1;
}

static int
check_welcome(const struct proto_msg *m)
{
	const struct proto_welcome *w = &m->u.welcome;

	return ranks_ok(w->rank, w->world) && munge_ok(w->flags, w->cred) ?
	    0 : -1;
}

static int
check_challenge(const struct proto_msg *m)
{
	return ranks_ok(m->u.challenge.rank, m->u.challenge.world) ? 0 : -1;
}

static int
check_auth(const struct proto_msg *m)
{
	return munge_ok(m->u.auth.flags, m->u.auth.cred) ? 0 : -1;
}

/* A process rank lies in its world; a node-rank or status session names
 * none (the daemon gives it its node).  Not both kinds at once. */
static int
check_l_hello(const struct proto_msg *m)
{
	const struct proto_l_hello *h = &m->u.l_hello;

	if (h->flags == PROTO_LH_FLAGS)
		return -1;
	if (h->flags & PROTO_LH_F_PROC)
		return ranks_ok(h->rank, h->world) ? 0 : -1;
	return h->rank == 0 && h->world == 0 ? 0 : -1;
}

static int
check_l_welcome(const struct proto_msg *m)
{
	const struct proto_l_welcome *w = &m->u.l_welcome;

	if (w->flags == PROTO_LH_FLAGS)
		return -1;
	return ranks_ok(w->rank, w->world) && ranks_ok(w->node, w->nodes) ?
	    0 : -1;
}

static int
check_l_reg(const struct proto_msg *m)
{
	return m->u.l_reg.size != 0 ? 0 : -1;
}

/* offset + len must not wrap; the buffer check comes later. */
static int
check_l_xfer(const struct proto_msg *m)
{
	return m->u.l_xfer.offset + m->u.l_xfer.len < m->u.l_xfer.offset ?
	    -1 : 0;
}

/* WHERE: a whole number of u32 slots, at least one, and a range of ranks
 * that exist. */
static int
check_l_where(const struct proto_msg *m)
{
	const struct proto_l_xfer *x = &m->u.l_xfer;

	if (check_l_xfer(m) != 0 || x->len == 0 || x->len % 4 != 0)
		return -1;
	return x->len / 4 <= PROTO_RANK_MAX - x->peer ? 0 : -1;
}

static int
check_rk_join(const struct proto_msg *m)
{
	return ranks_ok(m->u.rk_join.rank, m->u.rk_join.world) ? 0 : -1;
}

static int
check_rk_leave(const struct proto_msg *m)
{
	return ranks_ok(m->u.rk_leave.rank, m->u.rk_leave.world) ? 0 : -1;
}

static int
check_s_rank(const struct proto_msg *m)
{
	return ranks_ok(m->u.s_rank.rank, m->u.s_rank.world) ? 0 : -1;
}

static int
check_data(const struct proto_msg *m)
{
	return m->u.data.offset + m->payload_len < m->u.data.offset ? -1 : 0;
}

/* An eager RTS carries exactly its message, and only a message one
 * plain RTS would not do as well (not empty); a plain one carries none. */
static int
check_rts(const struct proto_msg *m)
{
	const struct proto_rts *r = &m->u.rts;

	/* Process ranks lie in their world; node ranks name none (the
	 * connection's handshake fixed the node world). */
	if (r->flags & PROTO_RTS_F_PROC) {
		if (!ranks_ok(r->src_rank, r->world) ||
		    !ranks_ok(r->dst_rank, r->world))
			return -1;
	} else if (r->world != 0)
		return -1;
	if (!(m->u.rts.flags & PROTO_RTS_F_EAGER))
		return m->payload_len == 0 ? 0 : -1;
	return m->u.rts.len != 0 && m->u.rts.len <= PROTO_EAGER_MAX &&
	    m->payload_len == m->u.rts.len ? 0 : -1;
}

/* Types whose body is a fixed part and then a payload. */
static int
has_payload(uint16_t type)
{
	return type == PT_DATA || type == PT_RTS;
}

/* --- the types --- */

/* Which channels may carry a type. */
#define CH_PEER		(1u << PROTO_CH_PEER)
#define CH_LIN		(1u << PROTO_CH_LOCAL_IN)
#define CH_LOUT		(1u << PROTO_CH_LOCAL_OUT)

struct proto_type_info {
	uint16_t type;
	const char *name;
	unsigned channels;
	const struct proto_field *fields;	/* the body, in wire order */
	size_t nfields;
	int (*check)(const struct proto_msg *);	/* NULL: the table says all */
};

#define T(type, ch, f, check) \
	{ PT_##type, #type, ch, f, sizeof f / sizeof f[0], check }
#define T_EMPTY(type, ch)	{ PT_##type, #type, ch, NULL, 0, NULL }

static const struct proto_type_info proto_types[] = {
	T(HELLO, CH_PEER, f_hello, check_hello),
	T(WELCOME, CH_PEER, f_welcome, check_welcome),
	T(REFUSE, CH_PEER, f_refuse, NULL),
	T(CHALLENGE, CH_PEER, f_challenge, check_challenge),
	T(AUTH, CH_PEER, f_auth, check_auth),
	T(L_HELLO, CH_LIN, f_l_hello, check_l_hello),
	T(L_REG, CH_LIN, f_l_reg, check_l_reg),
	T(L_FREE, CH_LIN, f_l_free, NULL),
	T(L_SEND, CH_LIN, f_l_send, check_l_xfer),
	T(L_RECV, CH_LIN, f_l_recv, check_l_xfer),
	T(L_CANCEL, CH_LIN, f_l_cancel, NULL),
	T(L_WHERE, CH_LIN, f_l_where, check_l_where),
	T(L_WELCOME, CH_LOUT, f_l_welcome, check_l_welcome),
	T(L_DONE, CH_LOUT, f_l_done, NULL),
	T(RTS, CH_PEER, f_rts, check_rts),	/* + eager payload */
	T(CTS, CH_PEER, f_cts, NULL),
	T(DATA, CH_PEER, f_data, check_data),	/* + payload */
	T(ACK, CH_PEER, f_ack, NULL),
	T(ABORT, CH_PEER, f_abort, NULL),
	T(WDONE, CH_PEER, f_wdone, NULL),
	T_EMPTY(S_QUERY, CH_LIN),
	T(S_NODE, CH_LOUT, f_s_node, NULL),
	T(S_PEER, CH_LOUT, f_s_peer, NULL),
	T_EMPTY(S_END, CH_LOUT),
	T(S_RANK, CH_LOUT, f_s_rank, check_s_rank),
	T(RK_JOIN, CH_PEER, f_rk_join, check_rk_join),
	T(RK_LEAVE, CH_PEER, f_rk_leave, check_rk_leave),
};

static const struct proto_type_info *
proto_find(uint16_t type)
{
	size_t i;

	for (i = 0; i < sizeof proto_types / sizeof proto_types[0]; i++)
		if (proto_types[i].type == type)
			return &proto_types[i];
	return NULL;
}

/* The body's length: exact, or DATA's and RTS's fixed part. */
static uint32_t
proto_body_len(const struct proto_type_info *ti)
{
	uint32_t len = 0;
	size_t i;

	for (i = 0; i < ti->nfields; i++)
		len += ti->fields[i].size;
	return len;
}

const struct proto_field *
proto_fields(uint16_t type, size_t *n)
{
	const struct proto_type_info *ti = proto_find(type);

	*n = ti != NULL ? ti->nfields : 0;
	return ti != NULL ? ti->fields : NULL;
}

const char *
proto_type_name(uint16_t type)
{
	const struct proto_type_info *ti = proto_find(type);

	return ti != NULL ? ti->name : "UNKNOWN";
}

size_t
proto_encoded_len(uint16_t type)
{
	const struct proto_type_info *ti = proto_find(type);

	return ti != NULL ? PROTO_HDR_LEN + proto_body_len(ti) : 0;
}

const char *
proto_strerror(enum proto_err err)
{
	switch (err) {
	case PROTO_OK:
		return "ok";
	case PROTO_ESHORT:
		return "message truncated";
	case PROTO_EMAGIC:
		return "not an ASoc message (bad magic)";
	case PROTO_EVERSION:
		return "protocol version mismatch";
	case PROTO_ETYPE:
		return "unknown or misdirected message type";
	case PROTO_ELENGTH:
		return "message length does not match its type";
	case PROTO_EFIELD:
		return "a field is out of range";
	}
	return "unknown decoder error";
}

const char *
proto_status_name(uint32_t status)
{
	static const char *const names[] = {
		"ok", "invalid argument", "out of memory", "peer lost",
		"timed out", "permission denied", "cancelled",
		"protocol error", "system error", "message truncated",
		"no such peer", "rank left",
	};

	return status <= PS_LAST ? names[status] : "unknown status";
}

void
proto_default_socket(const char *job, char *buf, size_t len)
{
	if (job != NULL && *job != '\0')
		snprintf(buf, len, "/run/asoc/%s/asocd.sock", job);
	else
		snprintf(buf, len, "/tmp/asoc-%u/asocd.sock",
		    (unsigned)getuid());
}

void
proto_set_name(char *field, size_t size, const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0;

	if (n >= size)
		n = size - 1;
	memset(field, 0, size);
	if (n > 0)
		memcpy(field, s, n);
}

/* --- one field --- */

/* A number member of the struct, whatever its width. */
static uint64_t
num_load(const void *at, size_t size)
{
	uint16_t v16;
	uint32_t v32;
	uint64_t v64;

	switch (size) {
	case 2:
		memcpy(&v16, at, 2);
		return v16;
	case 4:
		memcpy(&v32, at, 4);
		return v32;
	default:
		memcpy(&v64, at, 8);
		return v64;
	}
}

static void
num_store(void *at, size_t size, uint64_t v)
{
	uint16_t v16 = (uint16_t)v;
	uint32_t v32 = (uint32_t)v;

	switch (size) {
	case 2:
		memcpy(at, &v16, 2);
		break;
	case 4:
		memcpy(at, &v32, 4);
		break;
	default:
		memcpy(at, &v, 8);
		break;
	}
}

static void
field_put(const struct proto_field *f, const struct proto_msg *msg,
    uint8_t *p)
{
	const uint8_t *at = (const uint8_t *)msg + f->off;
	size_t n;

	switch (f->kind) {
	case PF_ZERO:
		le_put(p, 0, f->size);
		break;
	case PF_BYTES:
		memcpy(p, at, f->size);
		break;
	case PF_STR:
		/* Always NUL-terminated and zero-padded: no stack bytes
		 * leak. */
		n = strnlen((const char *)at, f->size - 1u);
		memcpy(p, at, n);
		memset(p + n, 0, f->size - n);
		break;
	default:
		le_put(p, num_load(at, f->size), f->size);
		break;
	}
}

/* A string field must be NUL-terminated inside its size, and what follows
 * the NUL must be zero, so one string has exactly one encoding. */
static int
str_ok(const uint8_t *p, size_t size)
{
	const uint8_t *end = memchr(p, 0, size);
	size_t i;

	if (end == NULL)
		return 0;
	for (i = (size_t)(end - p); i < size; i++)
		if (p[i] != 0)
			return 0;
	return 1;
}

/* Reads one field into msg; 0, or -1 when it is out of range. */
static int
field_get(const struct proto_field *f, const uint8_t *p,
    struct proto_msg *msg)
{
	uint8_t *at = (uint8_t *)msg + f->off;
	uint64_t v;

	switch (f->kind) {
	case PF_BYTES:
		memcpy(at, p, f->size);
		return 0;
	case PF_STR:
		if (!str_ok(p, f->size))
			return -1;
		memcpy(at, p, f->size);
		return 0;
	default:
		break;
	}
	v = le_get(p, f->size);
	num_store(at, f->size, v);
	switch (f->kind) {
	case PF_NUM:
		return v <= f->max ? 0 : -1;
	case PF_FLAGS:
		return (v & ~f->max) == 0 ? 0 : -1;
	case PF_PEER:
		return v == PROTO_RANK_ANY || v < PROTO_RANK_MAX ? 0 : -1;
	default:
		return v == 0 ? 0 : -1;	/* PF_ZERO */
	}
}

/* --- encoder --- */

static void
hdr_put(const struct proto_hdr *hdr, uint8_t *p)
{
	le_put32(p, hdr->magic);
	le_put(p + 4, hdr->version, 2);
	le_put(p + 6, hdr->type, 2);
	le_put32(p + 8, hdr->length);
	le_put32(p + 12, 0);
	le_put64(p + 16, hdr->id);
}

size_t
proto_encode(struct proto_msg *msg, uint8_t *out, size_t cap)
{
	const struct proto_type_info *ti = proto_find(msg->hdr.type);
	uint32_t length;
	uint8_t *p;
	size_t i;

	if (ti == NULL)
		return 0;
	length = proto_body_len(ti);
	if (cap < PROTO_HDR_LEN + length)
		return 0;
	/* Never emit a frame the strict decoder would refuse. */
	if (msg->hdr.type == PT_DATA) {
		if (msg->payload_len == 0 || msg->payload_len > PROTO_DATA_MAX)
			return 0;
		length += (uint32_t)msg->payload_len;
	} else if (msg->hdr.type == PT_RTS &&
	    (msg->u.rts.flags & PROTO_RTS_F_EAGER)) {
		if (msg->payload_len == 0 ||
		    msg->payload_len > PROTO_EAGER_MAX ||
		    msg->payload_len != msg->u.rts.len)
			return 0;
		length += (uint32_t)msg->payload_len;
	} else if (msg->hdr.type == PT_RTS && msg->payload_len != 0)
		return 0;
	msg->hdr.magic = PROTO_MAGIC;
	msg->hdr.version = PROTO_VERSION;
	msg->hdr.length = length;
	msg->hdr.reserved = 0;
	hdr_put(&msg->hdr, out);
	p = out + PROTO_HDR_LEN;
	for (i = 0; i < ti->nfields; i++) {
		field_put(&ti->fields[i], msg, p);
		p += ti->fields[i].size;
	}
	return (size_t)(p - out);
}

/* --- decoder --- */

enum proto_err
proto_decode_hdr(const uint8_t *buf, size_t len, enum proto_channel ch,
    struct proto_hdr *hdr)
{
	const struct proto_type_info *ti;
	uint32_t body_len;

	if (len < PROTO_HDR_LEN)
		return PROTO_ESHORT;
	hdr->magic = le_get32(buf);
	hdr->version = (uint16_t)le_get(buf + 4, 2);
	hdr->type = (uint16_t)le_get(buf + 6, 2);
	hdr->length = le_get32(buf + 8);
	hdr->reserved = le_get32(buf + 12);
	hdr->id = le_get64(buf + 16);
	if (hdr->magic != PROTO_MAGIC)
		return PROTO_EMAGIC;
	if (hdr->version != PROTO_VERSION)
		return PROTO_EVERSION;
	if (hdr->reserved != 0)
		return PROTO_EFIELD;
	ti = proto_find(hdr->type);
	if (ti == NULL || (ti->channels & (1u << ch)) == 0)
		return PROTO_ETYPE;
	body_len = proto_body_len(ti);
	if (hdr->type == PT_DATA) {
		if (hdr->length <= body_len ||
		    hdr->length - body_len > PROTO_DATA_MAX)
			return PROTO_ELENGTH;
	} else if (hdr->type == PT_RTS) {
		/* The flag and len are checked with the body (check_rts). */
		if (hdr->length < body_len ||
		    hdr->length - body_len > PROTO_EAGER_MAX)
			return PROTO_ELENGTH;
	} else if (hdr->length != body_len)
		return PROTO_ELENGTH;
	return PROTO_OK;
}

enum proto_err
proto_decode_body(const struct proto_hdr *hdr, const uint8_t *body,
    size_t len, struct proto_msg *msg)
{
	const struct proto_type_info *ti = proto_find(hdr->type);
	const uint8_t *p = body;
	uint32_t fixed;
	int bad = 0;
	size_t i;

	if (ti == NULL)
		return PROTO_ETYPE;
	fixed = proto_body_len(ti);
	if (len < fixed)
		return PROTO_ESHORT;
	memset(&msg->u, 0, sizeof msg->u);
	msg->hdr = *hdr;
	msg->payload = NULL;
	msg->payload_len = 0;
	for (i = 0; i < ti->nfields; i++) {
		if (field_get(&ti->fields[i], p, msg) < 0)
			bad = 1;
		p += ti->fields[i].size;
	}
	/* DATA, RTS: the payload is what the header's length leaves after
	 * the fixed part; it stays where it is, and only when it is all
	 * there.  An eager RTS is handed up whole or not at all. */
	if (has_payload(hdr->type))
		msg->payload_len = hdr->length - fixed;
	if (bad || (ti->check != NULL && ti->check(msg) < 0))
		return PROTO_EFIELD;
	if (has_payload(hdr->type) && len >= hdr->length &&
	    msg->payload_len > 0)
		msg->payload = body + fixed;
	else if (hdr->type == PT_RTS && msg->payload_len > 0)
		return PROTO_ESHORT;
	return PROTO_OK;
}

enum proto_err
proto_decode(const uint8_t *buf, size_t len, enum proto_channel ch,
    struct proto_msg *msg)
{
	enum proto_err err;

	err = proto_decode_hdr(buf, len, ch, &msg->hdr);
	if (err != PROTO_OK)
		return err;
	/* A datagram carries exactly one message: no more, no less. */
	if (len - PROTO_HDR_LEN != msg->hdr.length)
		return len - PROTO_HDR_LEN < msg->hdr.length ? PROTO_ESHORT :
		    PROTO_ELENGTH;
	return proto_decode_body(&msg->hdr, buf + PROTO_HDR_LEN,
	    len - PROTO_HDR_LEN, msg);
}
