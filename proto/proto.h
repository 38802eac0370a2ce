/*
 * proto.h: the ASoc wire, shared by asocd and libasoc.
 *
 * Every message is a fixed 24-byte header followed by a typed body.  Bodies
 * are fixed-size and little-endian, except DATA (a fixed part followed by
 * payload) and an eager RTS (likewise), and nothing else.  Types are
 * numbered in blocks so that a glance at a number says which conversation
 * it belongs to:
 *
 *   0x01xx  peer handshake        (asocd <-> asocd)
 *   0x02xx  local control         (client <-> asocd, Unix socket)
 *   0x03xx  peer transfer         (asocd <-> asocd)
 *   0x04xx  status                (client <-> asocd)
 *   0x05xx  rank announcements    (asocd <-> asocd)
 *
 * This is the only code that parses bytes from outside the process.  The
 * decoder checks every length and field before anything else looks at them.
 *
 * A new field is a member of its struct below and one line in its type's
 * field table in proto.c (proto_fields.h), which the encoder, the decoder,
 * the lengths and the tests' fill all walk; its PROTO_*_LEN here and the
 * lengths written out in tests/check_proto.c change on purpose with it.
 */
#ifndef ASOC_PROTO_H
#define ASOC_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define PROTO_MAGIC	0x434f5341u	/* "ASOC" read as a little-endian u32 */
/* v2: the peer handshake proves the job key (HELLO, CHALLENGE, AUTH,
 * WELCOME).  v3: the acceptor's MUNGE credential moved from CHALLENGE to
 * WELCOME, so that it is made only for a caller that proved the key.
 * v4: an RTS may carry its message (PROTO_RTS_F_EAGER: the eager path).
 * v5: process ranks: an RTS names both ranks and the world, L_HELLO may
 * claim a process rank, and daemons announce where ranks live (0x05xx).
 * An older peer is refused with both versions named. */
#define PROTO_VERSION	5
#define PROTO_HDR_LEN	24

/* Limits that make "absurd" a decidable word. */
#define PROTO_NAME_MAX		64	/* community, host names: NUL-terminated */
#define PROTO_MSG_MAX		128	/* error text carried in replies */
#define PROTO_DATA_MAX		(64u << 20)	/* payload of one DATA frame */
#define PROTO_EAGER_MAX		(64u << 10)	/* payload of one eager RTS */
#define PROTO_RANK_ANY		0xffffffffu
#define PROTO_RANK_MAX		65535u	/* ranks are < this; worlds <= this */
#define PROTO_NONCE_LEN		32	/* fresh per handshake, per side */
#define PROTO_MAC_LEN		32	/* HMAC-SHA256 */
#define PROTO_CRED_MAX		320	/* a MUNGE credential, NUL-terminated */

enum proto_type {
	/* peer handshake */
	PT_HELLO = 0x0101,	/* connecting asocd introduces itself */
	PT_WELCOME = 0x0102,	/* accepting asocd agrees */
	PT_REFUSE = 0x0103,	/* either asocd says no, and why */
	PT_CHALLENGE = 0x0104,	/* acceptor: its nonce and its proof */
	PT_AUTH = 0x0105,	/* connector: its proof */

	/* local control: client -> asocd */
	PT_L_HELLO = 0x0201,
	PT_L_REG = 0x0202,	/* a memfd travels with it (SCM_RIGHTS) */
	PT_L_FREE = 0x0203,
	PT_L_SEND = 0x0204,
	PT_L_RECV = 0x0205,
	PT_L_CANCEL = 0x0206,
	PT_L_WHERE = 0x0207,	/* the node of each of a range of ranks */
	/* local control: asocd -> client */
	PT_L_WELCOME = 0x0281,
	PT_L_DONE = 0x0282,	/* exactly one per request */

	/* peer transfer */
	PT_RTS = 0x0301,
	PT_CTS = 0x0302,
	PT_DATA = 0x0303,
	PT_ACK = 0x0304,
	PT_ABORT = 0x0305,	/* either side gives a transfer up */
	PT_WDONE = 0x0306,	/* RDMA: every WRITE of a transfer is placed */

	/* status */
	PT_S_QUERY = 0x0401,	/* client asks for counters */
	PT_S_NODE = 0x0481,	/* one per reply: the daemon's own counters */
	PT_S_PEER = 0x0482,	/* one per peer */
	PT_S_END = 0x0483,
	PT_S_RANK = 0x0484,	/* one per process rank living here */

	/* rank announcements (process ranks only) */
	PT_RK_JOIN = 0x0501,	/* this rank lives on the sender */
	PT_RK_LEAVE = 0x0502,	/* it no longer does */
};

/* Status codes carried on the wire (PT_L_DONE, PT_ACK, PT_ABORT, PT_REFUSE).
 * They are libasoc's public asoc_status values, fixed here for the wire. */
enum proto_status {
	PS_OK = 0,
	PS_EINVAL = 1,
	PS_ENOMEM = 2,
	PS_EPEERLOST = 3,
	PS_ETIMEDOUT = 4,
	PS_EPERM = 5,
	PS_ECANCELLED = 6,
	PS_EPROTO = 7,
	PS_ESYSTEM = 8,
	PS_ETRUNC = 9,
	PS_ENOPEER = 10,
	PS_ELEFT = 11,		/* the process rank left (its process exited) */
	PS_LAST = PS_ELEFT,
};

struct proto_hdr {
	uint32_t magic;
	uint16_t version;
	uint16_t type;
	uint32_t length;	/* body bytes after the header */
	uint32_t reserved;	/* must be zero */
	uint64_t id;		/* request id (local) or transfer id (peer) */
};

/* --- peer handshake ---
 * connector -> HELLO {its nonce}
 * acceptor  -> CHALLENGE {its nonce, MAC(key, both nonces, ranks...)}
 * connector -> AUTH {MAC(key, ...), MUNGE credential over a digest of the
 *              handshake, in its own role}
 * acceptor  -> WELCOME {MUNGE credential over a digest of the handshake,
 *              made once AUTH's MAC checked out}
 * Either side may answer REFUSE instead.  The key never crosses the wire;
 * each proof covers the other side's fresh nonce, so nothing recorded
 * from one handshake is accepted in another (daemon/handshake.c). */
#define PROTO_HS_F_MUNGE	0x1u	/* the sender proves its uid by MUNGE */
#define PROTO_HS_FLAGS		PROTO_HS_F_MUNGE

struct proto_hello {
	uint32_t version;	/* protocol version the sender speaks */
	uint32_t rank;
	uint32_t world;
	uint32_t flags;		/* PROTO_HS_F_* */
	char community[PROTO_NAME_MAX];
	uint8_t nonce[PROTO_NONCE_LEN];
	/* --conns-per-peer of the sender (1..PROTO_CONNS_MAX), and which of
	 * the pair's connections this one is: 0 the pair's own (control and
	 * data), 1..conns-1 an extra one for DATA only. */
	uint16_t conns;
	uint16_t lane;
};
#define PROTO_CONNS_MAX	16
#define PROTO_HELLO_LEN (16 + PROTO_NAME_MAX + PROTO_NONCE_LEN + 4)

struct proto_challenge {
	uint32_t rank;
	uint32_t world;
	uint32_t flags;		/* PROTO_HS_F_* */
	uint32_t reserved;	/* zero */
	uint8_t nonce[PROTO_NONCE_LEN];
	uint8_t mac[PROTO_MAC_LEN];
};
#define PROTO_CHALLENGE_LEN (16 + PROTO_NONCE_LEN + PROTO_MAC_LEN)

struct proto_auth {
	uint32_t flags;		/* PROTO_HS_F_* */
	uint32_t reserved;	/* zero */
	uint8_t mac[PROTO_MAC_LEN];
	char cred[PROTO_CRED_MAX];	/* empty without PROTO_HS_F_MUNGE */
};
#define PROTO_AUTH_LEN (8 + PROTO_MAC_LEN + PROTO_CRED_MAX)

struct proto_welcome {
	uint32_t version;
	uint32_t rank;
	uint32_t world;
	uint32_t flags;		/* PROTO_HS_F_*, as in the CHALLENGE */
	char cred[PROTO_CRED_MAX];	/* empty without PROTO_HS_F_MUNGE */
};
#define PROTO_WELCOME_LEN (16 + PROTO_CRED_MAX)

struct proto_refuse {
	uint32_t status;	/* enum proto_status */
	uint32_t version;	/* the refuser's protocol version */
	char msg[PROTO_MSG_MAX];
};
#define PROTO_REFUSE_LEN (8 + PROTO_MSG_MAX)

/* --- local control --- */
/* A session joins as one of three kinds: a process rank (LH_F_PROC: rank
 * of world), a node rank as before process ranks existed (no flag: rank
 * and world are zero, the daemon's node is the rank), or status only
 * (LH_F_STATUS: no rank, for asoc-stat).  localid is SLURM_LOCALID, or
 * PROTO_LOCALID_NONE; it is only shown, never trusted. */
#define PROTO_LH_F_PROC		0x1u
#define PROTO_LH_F_STATUS	0x2u
#define PROTO_LH_FLAGS		(PROTO_LH_F_PROC | PROTO_LH_F_STATUS)
#define PROTO_LOCALID_NONE	0xffffffffu
struct proto_l_hello {
	uint32_t version;
	uint32_t pid;
	uint32_t rank;
	uint32_t world;
	uint32_t localid;
	uint32_t flags;		/* PROTO_LH_F_*, not both */
};
#define PROTO_L_HELLO_LEN 24

/* rank and world are the session's: process values with LH_F_PROC, else
 * the daemon's node and node count.  node and nodes are always the
 * daemon's.  flags echo the HELLO's. */
struct proto_l_welcome {
	uint32_t version;
	uint32_t rank;
	uint32_t world;
	uint32_t daemon_pid;
	uint32_t node;
	uint32_t nodes;
	uint32_t flags;		/* PROTO_LH_F_* */
	uint32_t reserved;	/* zero */
	uint64_t chunk_size;
};
#define PROTO_L_WELCOME_LEN 40

struct proto_l_reg {
	uint64_t size;		/* the memfd's size, which the daemon checks */
};
#define PROTO_L_REG_LEN 8

struct proto_l_free {
	uint64_t buf_id;
};
#define PROTO_L_FREE_LEN 8

/* SEND and RECV share a layout: peer is the destination (SEND) or the
 * source, possibly PROTO_RANK_ANY (RECV); len is the length (SEND) or the
 * capacity (RECV).  WHERE uses it too: len is 4 x count, peer the first
 * rank of the range; the daemon writes count little-endian u32 node
 * numbers into the buffer once every one of those ranks has joined (or
 * the deadline passes: timeout_ms, or --join-timeout when 0) and answers
 * DONE with len = count.  Process ranks only. */
struct proto_l_xfer {
	uint64_t buf_id;
	uint64_t offset;
	uint64_t len;
	uint64_t tag;
	uint32_t peer;
	uint32_t timeout_ms;	/* 0: no deadline for the match */
	uint32_t flags;		/* PROTO_XF_*; RECV only */
	uint32_t reserved;	/* zero */
};
#define PROTO_L_XFER_LEN 48
/* RECV: a message longer than the capacity is not consumed: the receive
 * completes ETRUNC with the message's length, source and tag, and the
 * message stays first in line for the next receive that matches it. */
#define PROTO_XF_PEEK	0x1u
#define PROTO_XF_FLAGS	PROTO_XF_PEEK

struct proto_l_cancel {
	uint64_t req_id;
};
#define PROTO_L_CANCEL_LEN 8

struct proto_l_done {
	uint32_t status;	/* enum proto_status */
	uint32_t peer;		/* RECV: the source that matched */
	uint64_t len;		/* bytes moved, or REG's buffer id */
	uint64_t tag;		/* RECV: the tag that matched */
	char msg[PROTO_MSG_MAX];	/* empty on success */
};
#define PROTO_L_DONE_LEN (24 + PROTO_MSG_MAX)

/* --- peer transfer (header id is the transfer id named below) --- */
struct proto_rts {		/* id: sender's transfer id */
	uint64_t tag;
	uint64_t len;
	uint32_t src_rank;
	uint32_t flags;		/* PROTO_RTS_F_* */
	uint32_t dst_rank;
	uint32_t world;		/* F_PROC: the process world; else zero */
	/* PROTO_RTS_F_EAGER: the message itself, exactly len bytes (1 to
	 * PROTO_EAGER_MAX), follows; without it the body ends here. */
};
#define PROTO_RTS_LEN 32
/* The message travels with its RTS.  The receiver answers ACK once it is
 * in a receive, or CTS when it could not keep it (then as any RTS). */
#define PROTO_RTS_F_EAGER	0x1u
/* src and dst are process ranks of world (both < world); without it they
 * are node ranks and world is zero. */
#define PROTO_RTS_F_PROC	0x2u
#define PROTO_RTS_FLAGS		(PROTO_RTS_F_EAGER | PROTO_RTS_F_PROC)

struct proto_cts {		/* id: sender's transfer id */
	uint64_t recv_id;	/* receiver's transfer id, named by DATA */
	uint64_t addr;		/* granted start (RDMA); 0 on TCP */
	uint64_t len;		/* granted length, equal to RTS len */
	uint32_t rkey;		/* RDMA only */
	uint32_t flags;
};
#define PROTO_CTS_LEN 32

struct proto_data {		/* id: receiver's transfer id */
	uint64_t offset;	/* where in the granted range */
	/* payload of (hdr.length - PROTO_DATA_LEN) bytes follows */
};
#define PROTO_DATA_LEN 8

struct proto_ack {		/* id: sender's transfer id */
	uint32_t status;
	uint32_t flags;
	uint64_t len;
};
#define PROTO_ACK_LEN 16

struct proto_abort {		/* id: the transfer id the receiver knows */
	uint32_t status;
	uint32_t to_sender;	/* 1: id is the sender's; 0: the receiver's */
};
#define PROTO_ABORT_LEN 8

struct proto_wdone {		/* id: sender's transfer id */
	uint64_t len;		/* bytes written, equal to the granted length */
};
#define PROTO_WDONE_LEN 8

/* --- status --- */
struct proto_s_node {
	uint32_t rank;
	uint32_t world;
	uint32_t clients;
	uint32_t peers_connected;
	uint64_t xfers_active;
	uint64_t unexpected;	/* arrived sends not yet matched */
	uint64_t posted_recvs;	/* posted receives not yet matched */
	uint64_t bytes_sent;
	uint64_t bytes_received;
	uint64_t buffers;	/* registered buffers */
	uint64_t buffer_bytes;
	uint64_t registrations;	/* NIC registrations made, ever */
	uint64_t deregistrations;
	uint64_t xfers_done;
	uint64_t xfers_failed;
	char transport[16];	/* daemon default: auto, tcp or rdma */
	uint32_t mode;		/* enum proto_rank_mode */
	uint32_t local_ranks;	/* process ranks living here */
	uint32_t proc_world;	/* their world; 0 outside PROC mode */
	uint32_t reserved;	/* zero */
};
#define PROTO_S_NODE_LEN (16 + 11 * 8 + 16 + 16)

/* Which ranks a daemon's sessions hold: none yet, its node rank (every
 * session shares it), or process ranks of one world. */
enum proto_rank_mode {
	PROTO_MODE_NONE = 0,
	PROTO_MODE_NODE = 1,
	PROTO_MODE_PROC = 2,
};

struct proto_s_rank {
	uint32_t rank;
	uint32_t world;
	uint32_t pid;
	uint32_t localid;
	uint32_t sessions;
	uint32_t incarnation;
	uint64_t posted_recvs;
	uint64_t unexpected;
	uint64_t bytes_sent;
	uint64_t bytes_received;
};
#define PROTO_S_RANK_LEN (24 + 4 * 8)

/* --- rank announcements (header id: zero) ---
 * A daemon holding process ranks sends RK_JOIN for each of them on every
 * peer connection as it comes up, before any RTS, and RK_JOIN / RK_LEAVE
 * on every connection as ranks join and leave.  So an RTS naming a source
 * rank always follows that rank's JOIN on the same connection.
 * incarnation counts the rank's claims on the sender: a LEAVE that names
 * an older one is stale. */
struct proto_rk_join {
	uint32_t rank;
	uint32_t world;
	uint32_t pid;
	uint32_t incarnation;
};
#define PROTO_RK_JOIN_LEN 16

struct proto_rk_leave {
	uint32_t rank;
	uint32_t world;
	uint32_t incarnation;
	uint32_t status;	/* why: PS_ELEFT */
};
#define PROTO_RK_LEAVE_LEN 16

struct proto_s_peer {
	uint32_t rank;
	uint32_t port;
	uint32_t state;		/* enum peer_state, see daemon/peer.h */
	uint32_t flags;
	uint64_t xfers_active;
	uint64_t bytes_sent;
	uint64_t bytes_received;
	char host[PROTO_NAME_MAX];
	char transport[16];
};
#define PROTO_S_PEER_LEN (16 + 24 + PROTO_NAME_MAX + 16)

/* Peer connection states, as PT_S_PEER reports them. */
enum proto_peer_state {
	PROTO_PEER_IDLE = 0,		/* not connected yet (connections are lazy) */
	PROTO_PEER_CONNECTING = 1,	/* connecting or retrying with backoff */
	PROTO_PEER_UP = 2,
	PROTO_PEER_FAILED = 3,		/* gave up after the connection timeout */
	PROTO_PEER_SELF = 4,		/* this daemon */
};

/* One decoded message.  Only the member named by hdr.type is valid. */
struct proto_msg {
	struct proto_hdr hdr;
	union {
		struct proto_hello hello;
		struct proto_welcome welcome;
		struct proto_refuse refuse;
		struct proto_challenge challenge;
		struct proto_auth auth;
		struct proto_l_hello l_hello;
		struct proto_l_welcome l_welcome;
		struct proto_l_reg l_reg;
		struct proto_l_free l_free;
		struct proto_l_xfer l_xfer;
		struct proto_l_cancel l_cancel;
		struct proto_l_done l_done;
		struct proto_rts rts;
		struct proto_cts cts;
		struct proto_data data;
		struct proto_ack ack;
		struct proto_abort abort;
		struct proto_wdone wdone;
		struct proto_s_node s_node;
		struct proto_s_peer s_peer;
		struct proto_s_rank s_rank;
		struct proto_rk_join rk_join;
		struct proto_rk_leave rk_leave;
	} u;
	const uint8_t *payload;	/* DATA, eager RTS: points into the input */
	size_t payload_len;
};

/* Decoder results.  Everything but PROTO_OK means "drop the sender". */
enum proto_err {
	PROTO_OK = 0,
	PROTO_ESHORT,		/* fewer bytes than the header/body needs */
	PROTO_EMAGIC,
	PROTO_EVERSION,
	PROTO_ETYPE,
	PROTO_ELENGTH,		/* body length wrong for the type */
	PROTO_EFIELD,		/* a field out of range */
};

/* Which side of which conversation may send a type.  A decoder is told
 * what it is listening to, so a client cannot send peer messages and a
 * peer cannot send local ones. */
enum proto_channel {
	PROTO_CH_PEER,		/* bytes from another asocd */
	PROTO_CH_LOCAL_IN,	/* bytes from a client, read by asocd */
	PROTO_CH_LOCAL_OUT,	/* bytes from asocd, read by a client */
};

/* Header alone (stream transports read it first).  Checks magic, version,
 * reserved, that the type belongs to the channel and that the length suits
 * the type.  On PROTO_EVERSION, hdr->version holds the peer's version. */
enum proto_err proto_decode_hdr(const uint8_t *buf, size_t len,
    enum proto_channel ch, struct proto_hdr *hdr);

/* Body, after proto_decode_hdr accepted the header.  len is the body
 * length, equal to hdr->length (for DATA: only the fixed part is read
 * and the payload is left where it is; an eager RTS's payload is
 * checked to be all there and likewise left in place). */
enum proto_err proto_decode_body(const struct proto_hdr *hdr,
    const uint8_t *body, size_t len, struct proto_msg *msg);

/* Whole message in one buffer (datagram transports, tests, fuzzing). */
enum proto_err proto_decode(const uint8_t *buf, size_t len,
    enum proto_channel ch, struct proto_msg *msg);

/* Encodes msg->hdr (magic, version, length filled in) and the body for
 * msg->hdr.type into out, which must hold proto_encoded_len() bytes.
 * DATA and an eager RTS encode their fixed part only; the payload
 * (msg->payload_len bytes) is sent after it.  Returns the bytes written,
 * or 0 for an unknown type, a DATA payload of 0 or more than
 * PROTO_DATA_MAX bytes, or an eager RTS whose payload_len is not its
 * len (1 to PROTO_EAGER_MAX). */
size_t proto_encode(struct proto_msg *msg, uint8_t *out, size_t cap);

/* Header + fixed body size for a type; 0 when unknown. */
size_t proto_encoded_len(uint16_t type);
#define PROTO_MAX_FIXED 512	/* no fixed message is longer than this */

const char *proto_type_name(uint16_t type);
const char *proto_strerror(enum proto_err err);
/* "peer lost", "timed out"...: for log lines and messages. */
const char *proto_status_name(uint32_t status);

/* Where client and daemon meet when nobody names a socket:
 * /run/asoc/$SLURM_JOB_ID/asocd.sock inside a SLURM job, else
 * /tmp/asoc-$UID/asocd.sock.  job is $SLURM_JOB_ID as the caller read it
 * (NULL or empty: not in a job); $ASOC_SOCKET is checked by the callers. */
void proto_default_socket(const char *job, char *buf, size_t len);

/* Copies s into a fixed wire field, truncating, always NUL-terminated. */
void proto_set_name(char *field, size_t size, const char *s);

#endif
