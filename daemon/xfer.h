/*
 * xfer.h: requests from clients and the transfers that carry them.
 *
 * A request is what a client posted (send or receive).  A transfer is one
 * send matched, or to be matched, with one receive, as seen from this
 * daemon: the sending side (XFER_SEND) or the receiving side (XFER_RECV).
 * On the wire every transfer is named by the sender's transfer id, scoped
 * to the connection that carries it.
 *
 *   sender                              receiver
 *   SEND posted -> RTS ---------------> unexpected, or matched with a
 *                                        posted RECV
 *   <------------------------------------ CTS (granted range)
 *   DATA chunks ----------------------> straight into the receiver's buffer
 *   <------------------------------------ ACK (receiver's client told first)
 *   client told "sent"
 *
 * Eager (a message of at most --eager-threshold bytes, and at most what
 * the transport carries inline): the RTS carries the message.  The
 * receiver copies it into a matching posted receive and ACKs at once;
 * with no receive posted it keeps a copy (within --eager-budget bytes per
 * peer) and ACKs when one is; over the budget it drops the copy and
 * answers CTS when a receive matches, as for any RTS.  The send still
 * completes only on the ACK.
 *
 * Every request completes exactly once (xfer_req_complete).
 */
#ifndef ASOC_XFER_H
#define ASOC_XFER_H

#include <stdint.h>
#include <sys/queue.h>

#include "match.h"
#include "proto.h"

struct buffer;
struct client;
struct conn;
struct event;
struct lrank;
struct rankwhere;

enum req_kind { REQ_SEND, REQ_RECV, REQ_WHERE };

struct req {
	uint64_t id;		/* the client's id */
	enum req_kind kind;
	struct client *client;
	struct buffer *buf;	/* referenced while the request lives */
	uint64_t off, len;	/* len: length (send) or capacity (recv) */
	uint64_t tag;
	uint32_t peer;		/* destination, or source (MATCH_ANY) */
	uint32_t flags;		/* PROTO_XF_* of the RECV */
	uint32_t timeout_ms;	/* as posted (0: none) */
	struct lrank *lr;	/* the session's rank: matching, counters */
	struct event *deadline;
	struct xfer *xfer;	/* once there is one */
	struct match_recv mr;	/* RECV: waiting to be matched */
	TAILQ_ENTRY(req) entry;	/* in client's list */
	TAILQ_ENTRY(req) wait_entry;	/* WHERE: waiting (rankwhere.c) */
	struct rankwhere *where;	/* WHERE: its ranks still missing */
};
TAILQ_HEAD(req_list, req);

enum xfer_role { XFER_SEND, XFER_RECV };

enum xfer_state {
	XS_NEW = 0,		/* just made: in no queue yet */
	XS_WAIT_JOIN,		/* send: its process rank has not joined
				 * anywhere yet (ranks.h) */
	XS_WAIT_CONN,		/* send: waiting for the peer connection */
	XS_RTS_SENT,		/* send: waiting for CTS */
	XS_DATA,		/* send: writing data; recv: reading data */
	XS_WAIT_ACK,		/* send: all data written, waiting for ACK */
	XS_UNEXPECTED,		/* recv (or local send): waiting for a match */
	XS_LOCAL_COPY,		/* local send matched: copying */
	XS_FENCE,		/* recv: cancelled while the sender may still be
				 * WRITING into its exposure; kept until the
				 * sender confirms it stopped (xfer_cancel) */
};

struct xfer {
	uint64_t id;		/* the sender's transfer id */
	enum xfer_role role;
	enum xfer_state state;
	uint32_t node;		/* the peer daemon (our own when local, or
				 * while XS_WAIT_JOIN) */
	uint32_t src, dst;	/* process ranks, or nodes in node mode */
	int proc;		/* addresses process ranks (RTS F_PROC) */
	struct lrank *mlr;	/* whose match x->ms is queued in */
	uint64_t tag, len;
	uint64_t done;		/* bytes written (send) or received (recv) */
	struct req *req;	/* NULL once the request is gone */
	struct req *local_recv;	/* local copy: the receive being filled */
	struct conn *conn;	/* the carrying connection, when remote */
	struct match_send ms;	/* waiting to be matched */
	struct event *copy_ev;	/* local copy in steps */
	uint64_t raddr;		/* sender: the granted range (CTS) */
	uint32_t rkey;
	void *tp_priv;		/* the transport's own (an exposure) */
	struct event *fence_ev;	/* XS_FENCE: give up waiting for the sender */
	/* Eager.  Receiver: the message held (len bytes, counted in its
	 * peer's budget), or NULL; eager_in: the message still in the
	 * transport's memory, only during xfer_on_rts.  Sender: the RTS
	 * carried the message, so an ACK may answer it. */
	uint8_t *eager;
	const uint8_t *eager_in;
	int eager_sent;
	TAILQ_ENTRY(xfer) conn_entry;	/* conn's transfers */
	TAILQ_ENTRY(xfer) send_entry;	/* conn's queue of senders */
	TAILQ_ENTRY(xfer) wait_entry;	/* peer's queue before connecting,
					 * or the queue of XS_WAIT_JOIN */
	struct event *join_ev;	/* XS_WAIT_JOIN: --join-timeout */
	TAILQ_ENTRY(xfer) hash_entry;
	int in_send_queue;
	/* Receiver: a DATA frame of it was read on an extra connection of
	 * the pair, whose rx_cur may still be it (xfer_free clears them). */
	int rx_on_lanes;
};
TAILQ_HEAD(xfer_list, xfer);

void xfer_init(void);

/* From the control socket.  They check arguments against the client's
 * buffers, then either complete the request at once with an error or take
 * it on. */
void xfer_post_send(struct req *r, uint32_t timeout_ms);
void xfer_post_recv(struct req *r, uint32_t timeout_ms);
/* Cancel: completes r with status (ECANCELLED, ETIMEDOUT) if not done.
 * The other half of a local copy fails with it (and is freed). */
void xfer_cancel(struct req *r, enum proto_status status, const char *why);
/* Cancels each of c's requests for which which(r, arg) says 1, safely
 * against a cancel that frees another request of the list. */
void xfer_cancel_where(struct client *c, int (*which)(struct req *, void *),
    void *arg, enum proto_status status, const char *why);

/* Sends that arrived from one peer daemon (all its process ranks
 * together) and wait for a receive are bounded: beyond
 * XFER_MAX_UNEXPECTED the RTS is refused with an ABORT (ENOMEM) that the
 * sender's client sees.  xfer_unexpected_from: how many wait from node
 * now (for a transport that wants to pace its reads). */
#define XFER_MAX_UNEXPECTED 16384
uint32_t xfer_unexpected_from(uint32_t rank);
/* Sends waiting for a JOIN looked at by the JOINs (for check_ranks: a
 * JOIN looks at those to its rank, not the whole queue). */
extern unsigned long xfer_join_waits_seen;

/* Completes r exactly once with a DONE to its client (when still there),
 * and frees it. */
void xfer_req_complete(struct req *r, enum proto_status status,
    uint64_t len, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* The sender's buffer that the eager RTS of transfer id on c carries
 * (being sent now), for a transport that sends it by reference and so
 * must hold the buffer until it is out; NULL when there is none. */
struct buffer *xfer_eager_buf(const struct conn *c, uint64_t id);
/* Bytes of unmatched eager messages held here for rank, and in all. */
uint64_t xfer_eager_held(uint32_t rank);
uint64_t xfer_eager_held_total(void);

/* From a peer connection. */
void xfer_on_rts(struct conn *c, const struct proto_msg *m);
void xfer_on_cts(struct conn *c, const struct proto_msg *m);
void xfer_on_ack(struct conn *c, const struct proto_msg *m);
void xfer_on_abort(struct conn *c, const struct proto_msg *m);
/* One-sided transports: the sender's WRITEs have all been placed. */
void xfer_on_wdone(struct conn *c, const struct proto_msg *m);
/* DATA: where the payload goes, or NULL to discard it; the receiver it
 * fills becomes c->rx_cur (NULL again if it goes meanwhile).  Returns -1
 * when the frame is a protocol violation (drop the connection). */
int xfer_on_data(struct conn *c, uint64_t id, uint64_t offset, uint64_t len,
    uint8_t **dst, struct xfer **x);
/* n bytes of payload have landed in x. */
void xfer_data_landed(struct xfer *x, uint64_t n);
/* The DATA frame being read on c is over: c->rx_cur is cleared. */
void xfer_data_frame_end(struct conn *c);

/*
 * The sending side's scheduler, one for every transport.  xfer_on_cts
 * queues the sender on its connection (c->sendq) and calls start_data;
 * the transport then asks for chunks while it has room, posts each (a
 * DATA frame, an RDMA WRITE) and reports it posted.  Chunks of all the
 * transfers on a connection take turns, so a large one never blocks the
 * others.
 */
struct xfer_chunk {
	struct xfer *x;
	struct buffer *buf;	/* the sender's (to reference in flight) */
	uint8_t *src;		/* the chunk's first byte in buf */
	uint64_t off, len;	/* where in the transfer, how much */
	uint64_t raddr;		/* one-sided: where it goes (grant + off) */
	uint32_t rkey;
	int last;		/* the transfer's last chunk */
	int more;		/* another transfer waits behind this one */
};
/* The next chunk to send on c (at most --chunk-size bytes): 1, or 0 when
 * no sender on c has data left.  Nothing changes until xfer_chunk_posted. */
int xfer_next_chunk(struct conn *c, struct xfer_chunk *ch);
/* The chunk xfer_next_chunk gave is on its way: it counts as sent, and
 * its transfer goes to the back of the line (or, if it was the last, to
 * waiting for the ACK). */
void xfer_chunk_posted(const struct xfer_chunk *ch);
/* The transport cannot carry x (start_data failed): x fails here with
 * status and why, and the peer is told (ABORT). */
void xfer_give_up(struct xfer *x, enum proto_status status, const char *why);
/* The connection is usable: post the transfers that waited for it. */
void xfer_conn_ready(struct xfer *x, struct conn *c);
/* The connection died: everything on it fails with status. */
void xfer_conn_lost(struct conn *c, enum proto_status status,
    const char *why);
/* No connection to node is left: receives naming it (node mode) or a
 * process rank that lived there fail. */
void xfer_peer_lost(uint32_t node, const char *why);

/* Process ranks (ranks.c tells): p joined somewhere (sends waiting for it
 * go); p left (sends to it and receives naming it that nothing queued can
 * match fail ELEFT with why); lr is gone from here (what arrived for it
 * fails with st and why); c's requests all fail (a withdrawn rank). */
void xfer_rank_joined(uint32_t p);
void xfer_rank_left(uint32_t p, const char *why);
void xfer_lrank_gone(struct lrank *lr, enum proto_status st,
    const char *why);
void xfer_cancel_all(struct client *c, enum proto_status st,
    const char *why);
/* Fails x and the requests it carries, then frees it. */
void xfer_fail(struct xfer *x, enum proto_status status, const char *why);
/* SIGTERM: give up everything not yet matched; the rest may finish. */
void xfer_drain(void);

#endif
