/*
 * transport.h: the table every peer transport fills in, and the connection
 * it carries.  One file per transport (transport_tcp.c, later
 * transport_rdma.c); peer.c picks one per peer and everything above it
 * speaks only through this table.
 */
#ifndef ASOC_TRANSPORT_H
#define ASOC_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include "handshake.h"
#include "proto.h"
#include "xfer.h"

struct event;
struct peer;

struct conn {
	const struct transport *tp;
	struct peer *peer;	/* NULL until the handshake names it */
	int outgoing;
	int up;			/* handshaken and in its peer's list */
	int dead;		/* closed; freed from the loop soon */
	char name[96];		/* for logs: "rank 2 (127.0.0.1:9002)" */
	struct xfer_list xfers;	/* transfers carried by this connection */
	struct xfer_list sendq;	/* senders with data left to write */
	struct xfer *rx_cur;	/* receiver whose payload is being read */
	struct event *hs_timer;	/* the handshake must finish in time */
	struct hs auth;		/* the handshake's own state */
	TAILQ_ENTRY(conn) entry;	/* in peer's list */
	TAILQ_ENTRY(conn) all_entry;	/* in the list of every connection */
	/* Accepted and not yet proven: counted against the caps on pending
	 * handshakes (peer.c), by source address. */
	int pending;
	char src[64];
	TAILQ_ENTRY(conn) pending_entry;
	void *priv;		/* the transport's own state */
};

struct transport {
	const char *name;
	/* Start listening for peers; -1 with a message saying what to do. */
	int (*listen)(char *err, size_t errlen);
	void (*stop_listen)(void);
	/* Start connecting to p; the result comes back through
	 * peer_conn_opened() or peer_conn_lost().  NULL with a message
	 * when the attempt failed at once (the caller retries). */
	struct conn *(*connect)(struct peer *p, char *err, size_t errlen);
	/* Queue a control message (never DATA). */
	void (*send_ctl)(struct conn *c, struct proto_msg *m);
	/* Receiver: expose exactly r's granted range for x and say how the
	 * peer names it (CTS addr, rkey).  NULL: nothing to expose (the
	 * data comes as DATA frames).  -1 with a message on failure. */
	int (*grant)(struct conn *c, struct xfer *x, struct req *r,
	    uint64_t *addr, uint32_t *rkey, char *err, size_t errlen);
	/* Start moving x's data to the granted range (after CTS). */
	void (*start_data)(struct conn *c, struct xfer *x);
	/* x is going away: revoke what grant exposed.  May be NULL. */
	void (*release)(struct conn *c, struct xfer *x);
	/* The handshake proved the peer: open up what waited for it (RDMA:
	 * remote write access on the QP).  May be NULL. */
	void (*authenticated)(struct conn *c);
	/* Close: no callbacks after this; the conn is freed later. */
	void (*close)(struct conn *c);
};

extern const struct transport transport_tcp;
#ifdef HAVE_RDMA
extern const struct transport transport_rdma;
#endif

/* The transport for a new connection to p under --transport. */
const struct transport *transport_pick(struct peer *p);
struct conn *conn_new(const struct transport *tp, struct peer *p,
    int outgoing);
/* Frees c from the loop, after the callback that closed it returned. */
void conn_free_later(struct conn *c);
/* Shutdown: close every connection, handshaken or not. */
void conn_close_all(void);

#endif
