/*
 * transport.h: the transport table, in the style of OpenSMTPD's backends,
 * and the connection a transport carries.
 *
 * Each transport is one file, transport_<name>.c, that fills in a
 * struct transport and names it in its header, transport_<name>.h;
 * transport.c lists them in transports[].  Nothing else names a
 * transport: peer.c, xfer.c, buffer.c and main.c call the transport_*()
 * wrappers below, which are safe where a transport leaves a hook NULL.
 *
 * Who calls what: main.c starts and stops the transports
 * (transports_listen, transports_stop_listen, transports_shutdown); peer.c
 * picks one per outgoing connection (transport_pick), runs the peer
 * handshake over its control messages and opens it up once the peer is
 * proven (transport_authenticated); xfer.c sends RTS/CTS/ACK/ABORT/WDONE
 * (transport_send_ctl), asks a one-sided transport to expose a receive
 * (transport_grant, transport_release) and starts the data
 * (transport_start_data); buffer.c tells them a buffer is gone
 * (transport_buffer_gone).  The transport reports back to peer.c
 * (peer_conn_opened, peer_conn_accepted, peer_conn_msg, peer_conn_lost)
 * and moves the data itself (DATA frames or RDMA WRITEs).
 *
 * Adding a transport: transport_<name>.c with its struct transport,
 * transport_<name>.h declaring it, and one line in transports[] (where
 * its place sets --transport auto's preference); Makefile.am builds the
 * file.  The words --transport accepts are still conf.c's own list
 * (conf_transports[], enum conf_transport): a new transport adds its word
 * there too.
 */
#ifndef ASOC_TRANSPORT_H
#define ASOC_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include "handshake.h"
#include "proto.h"
#include "xfer.h"

struct buffer;
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
	struct hs auth;		/* the handshake; auth.st is its state */
	TAILQ_ENTRY(conn) entry;	/* in peer's list */
	TAILQ_ENTRY(conn) all_entry;	/* in the list of every connection */
	/* Accepted and not yet proven: counted against the caps on pending
	 * handshakes (peer.c), by source address. */
	int pending;
	char src[64];
	TAILQ_ENTRY(conn) pending_entry;
	/* --conns-per-peer: the pair's own connection (lane 0, in its
	 * peer's list) carries every control message and DATA; its extra
	 * ones (lane 1..N-1, in no peer list, main set) carry DATA only, of
	 * transfers that stay the main one's. */
	unsigned lane;
	/* The pair's connection: its DATA may come on several connections,
	 * in any order (set once the handshake agreed on --conns-per-peer;
	 * 0, in order, for one). */
	int data_spread;
	struct conn *main;
	TAILQ_HEAD(conn_lanes, conn) lanes;	/* main: its extra ones */
	TAILQ_ENTRY(conn) lane_entry;
	void *priv;		/* the transport's own, for this conn */
};

/* The transport writes the data into the receiver's memory itself
 * (RDMA WRITE into what grant exposed, then WDONE); without it, the data
 * comes as DATA frames on the connection. */
#define TRANSPORT_ONE_SIDED	0x1u
/* Its DATA may be spread over several connections per pair
 * (--conns-per-peer; TCP). */
#define TRANSPORT_LANES		0x2u

/* A transport must fill in name, title, connect, send_ctl, start_data
 * and close; every other hook may be NULL (the wrappers below then do
 * nothing, or what the comment says). */
struct transport {
	const char *name;	/* --transport and asoc-stat: "rdma" */
	const char *title;	/* in the log's sentences: "RDMA" */
	unsigned flags;		/* TRANSPORT_* */

	/* --- the transport as a whole --- */
	/* Start listening for peers on asocd->listen_host and this rank's
	 * port; -1 with a message saying what to do.  May log what the
	 * operator should know about it (limits, what TLS covers).  May be
	 * NULL: nothing to listen on. */
	int (*listen)(char *err, size_t errlen);
	/* Stop accepting; connections up keep going.  May be NULL. */
	void (*stop_listen)(void);
	/* 1 when it can carry a new connection (RDMA: listen found a
	 * device).  NULL: always. */
	int (*available)(void);
	/* Exit: release what listen set up, after every connection has
	 * closed.  May be NULL. */
	void (*shutdown)(void);
	/* What asoc-stat and the log call a connection of this transport
	 * ("tcp+tls").  NULL: name. */
	const char *(*describe)(const struct conn *c);

	/* --- connections --- */
	/* Start connecting to p; the result comes back through
	 * peer_conn_opened() or peer_conn_lost().  NULL with a message
	 * when the attempt failed at once (the caller retries). */
	struct conn *(*connect)(struct peer *p, char *err, size_t errlen);
	/* Queue a control message (never DATA). */
	void (*send_ctl)(struct conn *c, struct proto_msg *m);
	/* The handshake proved the peer: open up what waited for it (RDMA:
	 * remote write access on the QP); on failure it calls
	 * peer_conn_lost.  May be NULL. */
	void (*authenticated)(struct conn *c);
	/* Close: no callbacks after this; the conn is freed later. */
	void (*close)(struct conn *c);

	/* --- data --- */
	/* One-sided receiver: expose exactly r's granted range for x and
	 * say how the peer names it (CTS addr, rkey).  -1 with a message
	 * on failure.  NULL (two-sided): nothing to expose. */
	int (*grant)(struct conn *c, struct xfer *x, struct req *r,
	    uint64_t *addr, uint32_t *rkey, char *err, size_t errlen);
	/* Start moving x's data to the granted range (after CTS). */
	void (*start_data)(struct conn *c, struct xfer *x);
	/* x is going away: revoke what grant exposed.  May be NULL. */
	void (*release)(struct conn *c, struct xfer *x);
	/* The largest message it can carry inline with an RTS on c now
	 * (an eager send, PROTO_RTS_F_EAGER): send_ctl then gets the RTS
	 * with m->payload, which lies in the sender's buffer and stays
	 * valid only for the call: copy it (a send cancelled while it
	 * waits must not take bytes its client changed afterwards).  A received eager RTS
	 * goes up with its payload in the transport's memory, valid for
	 * the call.  0 or NULL: no eager sends on c. */
	uint32_t (*eager_max)(const struct conn *c);
	/* b is unmapped next: drop whatever the transport registered for
	 * it, reg being its slot of b (transport_buffer_reg).  May be
	 * NULL. */
	void (*buffer_gone)(struct buffer *b, void *reg);
};

/* Every transport built in, in the order --transport auto prefers them;
 * the last is the fallback, which every asocd listens on (first: with
 * --port-tries it picks the port the others then use). */
extern const struct transport *const transports[];

/* The transport called name; NULL when this asocd has none. */
const struct transport *transport_find(const char *name);
/* The one --transport names; NULL under auto. */
const struct transport *transport_wanted(void);
/* The last of transports[]: always there. */
const struct transport *transport_fallback(void);
/* The transport for a new connection to p under --transport. */
const struct transport *transport_pick(struct peer *p);

/* Start-up, for main.c: -1 with a message when --transport names one
 * this asocd was built without. */
int transports_check(char *err, size_t errlen);
/* Every transport --transport allows listens, the fallback first; -1
 * with a message when the fallback, or the one --transport names, cannot
 * (under auto another one that cannot is only warned about). */
int transports_listen(char *err, size_t errlen);
/* SIGTERM's drain and exit: stop accepting; then, once conn_close_all
 * has closed every connection, release what listen set up. */
void transports_stop_listen(void);
void transports_shutdown(void);

/* The hooks, safe where a transport leaves one NULL. */
int transport_available(const struct transport *tp);
int transport_one_sided(const struct transport *tp);
const char *transport_describe(const struct conn *c);
struct conn *transport_connect(const struct transport *tp, struct peer *p,
    char *err, size_t errlen);
void transport_send_ctl(struct conn *c, struct proto_msg *m);
void transport_authenticated(struct conn *c);
void transport_close(struct conn *c);
/* 0 and nothing to name (addr, rkey 0) on a two-sided transport. */
int transport_grant(struct conn *c, struct xfer *x, struct req *r,
    uint64_t *addr, uint32_t *rkey, char *err, size_t errlen);
void transport_start_data(struct conn *c, struct xfer *x);
void transport_release(struct conn *c, struct xfer *x);
/* 0 when c's transport has no eager_max hook. */
uint32_t transport_eager_max(const struct conn *c);
/* buffer.c, at b's last reference: every transport drops its
 * registration of b. */
void transport_buffer_gone(struct buffer *b);
/* tp's slot in b, for its registration of b (NULL until it makes one). */
void **transport_buffer_reg(const struct transport *tp, struct buffer *b);

struct conn *conn_new(const struct transport *tp, struct peer *p,
    int outgoing);
/* Frees c from the loop, after the callback that closed it returned. */
void conn_free_later(struct conn *c);
/* Shutdown: close every connection, handshaken or not. */
void conn_close_all(void);

#endif
