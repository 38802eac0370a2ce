/*
 * proto.c: encoder and strict decoder for the ASoc wire (see proto.h).
 *
 * Bodies are read field by field from little-endian bytes, never by
 * casting a pointer to a struct, so alignment, padding and host byte
 * order never matter.
 */
#include "proto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "le.h"

/* Which channels may carry a type. */
#define CH_PEER		(1u << PROTO_CH_PEER)
#define CH_LIN		(1u << PROTO_CH_LOCAL_IN)
#define CH_LOUT		(1u << PROTO_CH_LOCAL_OUT)

struct proto_type_info {
	uint16_t type;
	const char *name;
	unsigned channels;
	uint32_t body_len;	/* exact, or the fixed part for DATA */
};

static const struct proto_type_info proto_types[] = {
	{ PT_HELLO, "HELLO", CH_PEER, PROTO_HELLO_LEN },
	{ PT_WELCOME, "WELCOME", CH_PEER, PROTO_WELCOME_LEN },
	{ PT_REFUSE, "REFUSE", CH_PEER, PROTO_REFUSE_LEN },
	{ PT_CHALLENGE, "CHALLENGE", CH_PEER, PROTO_CHALLENGE_LEN },
	{ PT_AUTH, "AUTH", CH_PEER, PROTO_AUTH_LEN },
	{ PT_L_HELLO, "L_HELLO", CH_LIN, PROTO_L_HELLO_LEN },
	{ PT_L_REG, "L_REG", CH_LIN, PROTO_L_REG_LEN },
	{ PT_L_FREE, "L_FREE", CH_LIN, PROTO_L_FREE_LEN },
	{ PT_L_SEND, "L_SEND", CH_LIN, PROTO_L_XFER_LEN },
	{ PT_L_RECV, "L_RECV", CH_LIN, PROTO_L_XFER_LEN },
	{ PT_L_CANCEL, "L_CANCEL", CH_LIN, PROTO_L_CANCEL_LEN },
	{ PT_L_WELCOME, "L_WELCOME", CH_LOUT, PROTO_L_WELCOME_LEN },
	{ PT_L_DONE, "L_DONE", CH_LOUT, PROTO_L_DONE_LEN },
	{ PT_RTS, "RTS", CH_PEER, PROTO_RTS_LEN },
	{ PT_CTS, "CTS", CH_PEER, PROTO_CTS_LEN },
	{ PT_DATA, "DATA", CH_PEER, PROTO_DATA_LEN },
	{ PT_ACK, "ACK", CH_PEER, PROTO_ACK_LEN },
	{ PT_ABORT, "ABORT", CH_PEER, PROTO_ABORT_LEN },
	{ PT_WDONE, "WDONE", CH_PEER, PROTO_WDONE_LEN },
	{ PT_S_QUERY, "S_QUERY", CH_LIN, 0 },
	{ PT_S_NODE, "S_NODE", CH_LOUT, PROTO_S_NODE_LEN },
	{ PT_S_PEER, "S_PEER", CH_LOUT, PROTO_S_PEER_LEN },
	{ PT_S_END, "S_END", CH_LOUT, 0 },
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

	return ti != NULL ? PROTO_HDR_LEN + ti->body_len : 0;
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
		"no such peer",
	};

	return status <= PS_LAST ? names[status] : "unknown status";
}

void
proto_default_socket(char *buf, size_t len)
{
	const char *job = getenv("SLURM_JOB_ID");

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

/* --- little-endian cursor --- */

struct wcur {
	uint8_t *p;
};

static void
putn(struct wcur *w, uint64_t v, size_t n)
{
	le_put(w->p, v, n);
	w->p += n;
}

#define put16(w, v)	putn(w, v, 2)
#define put32(w, v)	putn(w, v, 4)
#define put64(w, v)	putn(w, v, 8)

static void
putstr(struct wcur *w, const char *s, size_t size)
{
	/* Always NUL-terminated and zero-padded: no stack bytes leak. */
	size_t n = strnlen(s, size - 1);

	memcpy(w->p, s, n);
	memset(w->p + n, 0, size - n);
	w->p += size;
}

static void
putbytes(struct wcur *w, const uint8_t *b, size_t n)
{
	memcpy(w->p, b, n);
	w->p += n;
}

struct rcur {
	const uint8_t *p;
};

static void
getbytes(struct rcur *r, uint8_t *out, size_t n)
{
	memcpy(out, r->p, n);
	r->p += n;
}

static uint64_t
getn(struct rcur *r, size_t n)
{
	uint64_t v = le_get(r->p, n);

	r->p += n;
	return v;
}

#define get16(r)	((uint16_t)getn(r, 2))
#define get32(r)	((uint32_t)getn(r, 4))
#define get64(r)	getn(r, 8)

/* A string field must be NUL-terminated inside its size, and what follows
 * the NUL must be zero, so one string has exactly one encoding. */
static int
getstr(struct rcur *r, char *out, size_t size)
{
	const uint8_t *end = memchr(r->p, 0, size);
	size_t i;

	if (end == NULL)
		return -1;
	for (i = (size_t)(end - r->p); i < size; i++)
		if (r->p[i] != 0)
			return -1;
	memcpy(out, r->p, size);
	r->p += size;
	return 0;
}

/* --- encoder --- */

size_t
proto_encode(struct proto_msg *msg, uint8_t *out, size_t cap)
{
	const struct proto_type_info *ti = proto_find(msg->hdr.type);
	struct wcur w = { out };
	uint32_t length;

	if (ti == NULL || cap < PROTO_HDR_LEN + ti->body_len)
		return 0;
	length = ti->body_len;
	if (msg->hdr.type == PT_DATA) {
		/* Never emit a frame the strict decoder would refuse. */
		if (msg->payload_len == 0 || msg->payload_len > PROTO_DATA_MAX)
			return 0;
		length += (uint32_t)msg->payload_len;
	}
	msg->hdr.magic = PROTO_MAGIC;
	msg->hdr.version = PROTO_VERSION;
	msg->hdr.length = length;
	msg->hdr.reserved = 0;

	put32(&w, msg->hdr.magic);
	put16(&w, msg->hdr.version);
	put16(&w, msg->hdr.type);
	put32(&w, msg->hdr.length);
	put32(&w, 0);
	put64(&w, msg->hdr.id);

	switch (msg->hdr.type) {
	case PT_HELLO:
		put32(&w, msg->u.hello.version);
		put32(&w, msg->u.hello.rank);
		put32(&w, msg->u.hello.world);
		put32(&w, msg->u.hello.flags);
		putstr(&w, msg->u.hello.community, PROTO_NAME_MAX);
		putbytes(&w, msg->u.hello.nonce, PROTO_NONCE_LEN);
		break;
	case PT_WELCOME:
		put32(&w, msg->u.welcome.version);
		put32(&w, msg->u.welcome.rank);
		put32(&w, msg->u.welcome.world);
		put32(&w, msg->u.welcome.flags);
		putstr(&w, msg->u.welcome.cred, PROTO_CRED_MAX);
		break;
	case PT_CHALLENGE:
		put32(&w, msg->u.challenge.rank);
		put32(&w, msg->u.challenge.world);
		put32(&w, msg->u.challenge.flags);
		put32(&w, 0);
		putbytes(&w, msg->u.challenge.nonce, PROTO_NONCE_LEN);
		putbytes(&w, msg->u.challenge.mac, PROTO_MAC_LEN);
		break;
	case PT_AUTH:
		put32(&w, msg->u.auth.flags);
		put32(&w, 0);
		putbytes(&w, msg->u.auth.mac, PROTO_MAC_LEN);
		putstr(&w, msg->u.auth.cred, PROTO_CRED_MAX);
		break;
	case PT_REFUSE:
		put32(&w, msg->u.refuse.status);
		put32(&w, msg->u.refuse.version);
		putstr(&w, msg->u.refuse.msg, PROTO_MSG_MAX);
		break;
	case PT_L_HELLO:
		put32(&w, msg->u.l_hello.version);
		put32(&w, msg->u.l_hello.pid);
		break;
	case PT_L_WELCOME:
		put32(&w, msg->u.l_welcome.version);
		put32(&w, msg->u.l_welcome.rank);
		put32(&w, msg->u.l_welcome.world);
		put32(&w, msg->u.l_welcome.daemon_pid);
		put64(&w, msg->u.l_welcome.chunk_size);
		break;
	case PT_L_REG:
		put64(&w, msg->u.l_reg.size);
		break;
	case PT_L_FREE:
		put64(&w, msg->u.l_free.buf_id);
		break;
	case PT_L_SEND:
	case PT_L_RECV:
		put64(&w, msg->u.l_xfer.buf_id);
		put64(&w, msg->u.l_xfer.offset);
		put64(&w, msg->u.l_xfer.len);
		put64(&w, msg->u.l_xfer.tag);
		put32(&w, msg->u.l_xfer.peer);
		put32(&w, msg->u.l_xfer.timeout_ms);
		put32(&w, msg->u.l_xfer.flags);
		put32(&w, msg->u.l_xfer.reserved);
		break;
	case PT_L_CANCEL:
		put64(&w, msg->u.l_cancel.req_id);
		break;
	case PT_L_DONE:
		put32(&w, msg->u.l_done.status);
		put32(&w, msg->u.l_done.peer);
		put64(&w, msg->u.l_done.len);
		put64(&w, msg->u.l_done.tag);
		putstr(&w, msg->u.l_done.msg, PROTO_MSG_MAX);
		break;
	case PT_RTS:
		put64(&w, msg->u.rts.tag);
		put64(&w, msg->u.rts.len);
		put32(&w, msg->u.rts.src_rank);
		put32(&w, msg->u.rts.flags);
		break;
	case PT_CTS:
		put64(&w, msg->u.cts.recv_id);
		put64(&w, msg->u.cts.addr);
		put64(&w, msg->u.cts.len);
		put32(&w, msg->u.cts.rkey);
		put32(&w, msg->u.cts.flags);
		break;
	case PT_DATA:
		put64(&w, msg->u.data.offset);
		break;
	case PT_ACK:
		put32(&w, msg->u.ack.status);
		put32(&w, msg->u.ack.flags);
		put64(&w, msg->u.ack.len);
		break;
	case PT_ABORT:
		put32(&w, msg->u.abort.status);
		put32(&w, msg->u.abort.to_sender);
		break;
	case PT_WDONE:
		put64(&w, msg->u.wdone.len);
		break;
	case PT_S_QUERY:
	case PT_S_END:
		break;
	case PT_S_NODE: {
		const struct proto_s_node *n = &msg->u.s_node;

		put32(&w, n->rank);
		put32(&w, n->world);
		put32(&w, n->clients);
		put32(&w, n->peers_connected);
		put64(&w, n->xfers_active);
		put64(&w, n->unexpected);
		put64(&w, n->posted_recvs);
		put64(&w, n->bytes_sent);
		put64(&w, n->bytes_received);
		put64(&w, n->buffers);
		put64(&w, n->buffer_bytes);
		put64(&w, n->registrations);
		put64(&w, n->deregistrations);
		put64(&w, n->xfers_done);
		put64(&w, n->xfers_failed);
		putstr(&w, n->transport, sizeof n->transport);
		break;
	}
	case PT_S_PEER: {
		const struct proto_s_peer *p = &msg->u.s_peer;

		put32(&w, p->rank);
		put32(&w, p->port);
		put32(&w, p->state);
		put32(&w, p->flags);
		put64(&w, p->xfers_active);
		put64(&w, p->bytes_sent);
		put64(&w, p->bytes_received);
		putstr(&w, p->host, PROTO_NAME_MAX);
		putstr(&w, p->transport, sizeof p->transport);
		break;
	}
	default:
		return 0;
	}
	return (size_t)(w.p - out);
}

/* --- decoder --- */

enum proto_err
proto_decode_hdr(const uint8_t *buf, size_t len, enum proto_channel ch,
    struct proto_hdr *hdr)
{
	const struct proto_type_info *ti;
	struct rcur r = { buf };

	if (len < PROTO_HDR_LEN)
		return PROTO_ESHORT;
	hdr->magic = get32(&r);
	hdr->version = get16(&r);
	hdr->type = get16(&r);
	hdr->length = get32(&r);
	hdr->reserved = get32(&r);
	hdr->id = get64(&r);
	if (hdr->magic != PROTO_MAGIC)
		return PROTO_EMAGIC;
	if (hdr->version != PROTO_VERSION)
		return PROTO_EVERSION;
	if (hdr->reserved != 0)
		return PROTO_EFIELD;
	ti = proto_find(hdr->type);
	if (ti == NULL || (ti->channels & (1u << ch)) == 0)
		return PROTO_ETYPE;
	if (hdr->type == PT_DATA) {
		if (hdr->length <= ti->body_len ||
		    hdr->length - ti->body_len > PROTO_DATA_MAX)
			return PROTO_ELENGTH;
	} else if (hdr->length != ti->body_len)
		return PROTO_ELENGTH;
	return PROTO_OK;
}

static int
status_ok(uint32_t s)
{
	return s <= PS_LAST;
}

static int
rank_ok(uint32_t rank)
{
	return rank < PROTO_RANK_MAX;
}

enum proto_err
proto_decode_body(const struct proto_hdr *hdr, const uint8_t *body,
    size_t len, struct proto_msg *msg)
{
	const struct proto_type_info *ti = proto_find(hdr->type);
	struct rcur r = { body };

	if (ti == NULL)
		return PROTO_ETYPE;
	if (len < ti->body_len)
		return PROTO_ESHORT;
	memset(&msg->u, 0, sizeof msg->u);
	msg->hdr = *hdr;
	msg->payload = NULL;
	msg->payload_len = 0;

	switch (hdr->type) {
	case PT_HELLO:
		msg->u.hello.version = get32(&r);
		msg->u.hello.rank = get32(&r);
		msg->u.hello.world = get32(&r);
		msg->u.hello.flags = get32(&r);
		if (getstr(&r, msg->u.hello.community, PROTO_NAME_MAX) < 0 ||
		    (msg->u.hello.flags & ~PROTO_HS_FLAGS) != 0)
			return PROTO_EFIELD;
		getbytes(&r, msg->u.hello.nonce, PROTO_NONCE_LEN);
		if (msg->u.hello.world == 0 ||
		    msg->u.hello.world > PROTO_RANK_MAX ||
		    msg->u.hello.rank >= msg->u.hello.world)
			return PROTO_EFIELD;
		break;
	case PT_WELCOME: {
		struct proto_welcome *wl = &msg->u.welcome;

		wl->version = get32(&r);
		wl->rank = get32(&r);
		wl->world = get32(&r);
		wl->flags = get32(&r);
		if (getstr(&r, wl->cred, PROTO_CRED_MAX) < 0 ||
		    (wl->flags & ~PROTO_HS_FLAGS) != 0 ||
		    wl->world == 0 || wl->world > PROTO_RANK_MAX ||
		    wl->rank >= wl->world ||
		    (wl->cred[0] != '\0') != ((wl->flags & PROTO_HS_F_MUNGE) != 0))
			return PROTO_EFIELD;
		break;
	}
	case PT_CHALLENGE: {
		struct proto_challenge *c = &msg->u.challenge;

		c->rank = get32(&r);
		c->world = get32(&r);
		c->flags = get32(&r);
		c->reserved = get32(&r);
		getbytes(&r, c->nonce, PROTO_NONCE_LEN);
		getbytes(&r, c->mac, PROTO_MAC_LEN);
		if (c->reserved != 0 || (c->flags & ~PROTO_HS_FLAGS) != 0 ||
		    c->world == 0 || c->world > PROTO_RANK_MAX ||
		    c->rank >= c->world)
			return PROTO_EFIELD;
		break;
	}
	case PT_AUTH: {
		struct proto_auth *a = &msg->u.auth;

		a->flags = get32(&r);
		a->reserved = get32(&r);
		getbytes(&r, a->mac, PROTO_MAC_LEN);
		if (getstr(&r, a->cred, PROTO_CRED_MAX) < 0 ||
		    a->reserved != 0 || (a->flags & ~PROTO_HS_FLAGS) != 0 ||
		    (a->cred[0] != '\0') != ((a->flags & PROTO_HS_F_MUNGE) != 0))
			return PROTO_EFIELD;
		break;
	}
	case PT_REFUSE:
		msg->u.refuse.status = get32(&r);
		msg->u.refuse.version = get32(&r);
		if (getstr(&r, msg->u.refuse.msg, PROTO_MSG_MAX) < 0 ||
		    !status_ok(msg->u.refuse.status))
			return PROTO_EFIELD;
		break;
	case PT_L_HELLO:
		msg->u.l_hello.version = get32(&r);
		msg->u.l_hello.pid = get32(&r);
		break;
	case PT_L_WELCOME:
		msg->u.l_welcome.version = get32(&r);
		msg->u.l_welcome.rank = get32(&r);
		msg->u.l_welcome.world = get32(&r);
		msg->u.l_welcome.daemon_pid = get32(&r);
		msg->u.l_welcome.chunk_size = get64(&r);
		if (msg->u.l_welcome.world == 0 ||
		    msg->u.l_welcome.world > PROTO_RANK_MAX ||
		    msg->u.l_welcome.rank >= msg->u.l_welcome.world)
			return PROTO_EFIELD;
		break;
	case PT_L_REG:
		msg->u.l_reg.size = get64(&r);
		if (msg->u.l_reg.size == 0)
			return PROTO_EFIELD;
		break;
	case PT_L_FREE:
		msg->u.l_free.buf_id = get64(&r);
		break;
	case PT_L_SEND:
	case PT_L_RECV: {
		struct proto_l_xfer *x = &msg->u.l_xfer;

		x->buf_id = get64(&r);
		x->offset = get64(&r);
		x->len = get64(&r);
		x->tag = get64(&r);
		x->peer = get32(&r);
		x->timeout_ms = get32(&r);
		x->flags = get32(&r);
		x->reserved = get32(&r);
		if ((x->flags & ~PROTO_XF_FLAGS) != 0 || x->reserved != 0)
			return PROTO_EFIELD;
		if (hdr->type == PT_L_SEND && x->flags != 0)
			return PROTO_EFIELD;
		/* offset + len must not wrap; the buffer check comes later. */
		if (x->offset + x->len < x->offset)
			return PROTO_EFIELD;
		if (x->peer != PROTO_RANK_ANY && !rank_ok(x->peer))
			return PROTO_EFIELD;
		if (hdr->type == PT_L_SEND && x->peer == PROTO_RANK_ANY)
			return PROTO_EFIELD;
		break;
	}
	case PT_L_CANCEL:
		msg->u.l_cancel.req_id = get64(&r);
		break;
	case PT_L_DONE:
		msg->u.l_done.status = get32(&r);
		msg->u.l_done.peer = get32(&r);
		msg->u.l_done.len = get64(&r);
		msg->u.l_done.tag = get64(&r);
		if (getstr(&r, msg->u.l_done.msg, PROTO_MSG_MAX) < 0 ||
		    !status_ok(msg->u.l_done.status))
			return PROTO_EFIELD;
		break;
	case PT_RTS:
		msg->u.rts.tag = get64(&r);
		msg->u.rts.len = get64(&r);
		msg->u.rts.src_rank = get32(&r);
		msg->u.rts.flags = get32(&r);
		if (!rank_ok(msg->u.rts.src_rank) || msg->u.rts.flags != 0)
			return PROTO_EFIELD;
		break;
	case PT_CTS:
		msg->u.cts.recv_id = get64(&r);
		msg->u.cts.addr = get64(&r);
		msg->u.cts.len = get64(&r);
		msg->u.cts.rkey = get32(&r);
		msg->u.cts.flags = get32(&r);
		break;
	case PT_DATA:
		msg->u.data.offset = get64(&r);
		msg->payload_len = hdr->length - PROTO_DATA_LEN;
		if (msg->u.data.offset + msg->payload_len < msg->u.data.offset)
			return PROTO_EFIELD;
		if (len >= hdr->length)
			msg->payload = body + PROTO_DATA_LEN;
		break;
	case PT_ACK:
		msg->u.ack.status = get32(&r);
		msg->u.ack.flags = get32(&r);
		msg->u.ack.len = get64(&r);
		if (!status_ok(msg->u.ack.status))
			return PROTO_EFIELD;
		break;
	case PT_ABORT:
		msg->u.abort.status = get32(&r);
		msg->u.abort.to_sender = get32(&r);
		if (!status_ok(msg->u.abort.status) ||
		    msg->u.abort.to_sender > 1)
			return PROTO_EFIELD;
		break;
	case PT_WDONE:
		msg->u.wdone.len = get64(&r);
		break;
	case PT_S_QUERY:
	case PT_S_END:
		break;
	case PT_S_NODE: {
		struct proto_s_node *n = &msg->u.s_node;

		n->rank = get32(&r);
		n->world = get32(&r);
		n->clients = get32(&r);
		n->peers_connected = get32(&r);
		n->xfers_active = get64(&r);
		n->unexpected = get64(&r);
		n->posted_recvs = get64(&r);
		n->bytes_sent = get64(&r);
		n->bytes_received = get64(&r);
		n->buffers = get64(&r);
		n->buffer_bytes = get64(&r);
		n->registrations = get64(&r);
		n->deregistrations = get64(&r);
		n->xfers_done = get64(&r);
		n->xfers_failed = get64(&r);
		if (getstr(&r, n->transport, sizeof n->transport) < 0)
			return PROTO_EFIELD;
		break;
	}
	case PT_S_PEER: {
		struct proto_s_peer *p = &msg->u.s_peer;

		p->rank = get32(&r);
		p->port = get32(&r);
		p->state = get32(&r);
		p->flags = get32(&r);
		p->xfers_active = get64(&r);
		p->bytes_sent = get64(&r);
		p->bytes_received = get64(&r);
		if (getstr(&r, p->host, PROTO_NAME_MAX) < 0 ||
		    getstr(&r, p->transport, sizeof p->transport) < 0)
			return PROTO_EFIELD;
		break;
	}
	default:
		return PROTO_ETYPE;
	}
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
