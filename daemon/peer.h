/*
 * peer.h: the other asocds of the job: the table, our own rank, the
 * handshake and connections made on first use with retry and backoff.
 */
#ifndef ASOC_PEER_H
#define ASOC_PEER_H

#include <stdint.h>
#include <sys/queue.h>
#include <sys/time.h>

#include "proto.h"
#include "transport.h"
#include "xfer.h"

struct event;

struct peer {
	uint32_t rank;
	char host[PROTO_NAME_MAX];
	uint16_t port;
	unsigned port_idx;		/* its candidate (portseq.h) */
	enum proto_peer_state state;
	TAILQ_HEAD(, conn) conns;	/* handshaken, either direction */
	struct conn *connecting;	/* our outgoing attempt */
	struct xfer_list waiting;	/* sends waiting for a connection */
	struct event *retry_ev;
	struct timeval give_up_at;	/* monotonic */
	unsigned backoff_ms;
	unsigned attempts;
	char last_error[160];
	uint64_t bytes_sent, bytes_received, xfers_active;
	uint32_t unexpected;		/* its sends waiting for a receive */
	/* Connected to whether or not a send waits: it must hear of our
	 * process ranks (peer_connect_all). */
	int keep_up;
	const char *transport;		/* of the newest connection */
	/* auto: the transport that just failed for this peer (the next in
	 * transports[] is tried) and why, for the fallback line. */
	const struct transport *tp_failed;
	char tp_why[128];
};

/* Expands --peers, finds our rank and fills asocd->peers. */
int peers_init(char *err, size_t errlen);
void peers_free(void);
unsigned peers_connected(void);

/* x (a send) needs a connection to p: now, or once one is up. */
void peer_want(struct peer *p, struct xfer *x);
/* A transfer waiting in p->waiting gives up (cancelled). */
void peer_unwant(struct peer *p, struct xfer *x);
/* Connect to every peer not connected yet, nothing waiting (a first
 * process rank joined: everyone must hear of it). */
void peer_connect_all(void);
/* The connection new work to p goes on (the pair's), or NULL. */
struct conn *peer_up_conn(struct peer *p);
/* A control message on c (header id zero): handshake, rank
 * announcements. */
void peer_send(struct conn *c, uint16_t type, struct proto_msg *m);
/* The pair's connection c and its extra ones up (--conns-per-peer). */
unsigned peer_conn_count(const struct conn *c);

/* From the transports. */
void peer_conn_opened(struct conn *c);
void peer_conn_accepted(struct conn *c, const char *from);
/* An accepted connection starts its wait for a handshake (the transport
 * calls it at accept, before TLS; peer_conn_accepted does if it did not):
 * past the caps on pending handshakes, in all or from src (an address
 * without port), the oldest pending one is dropped to make room. */
void peer_conn_admit(struct conn *c, const char *src);
/* c no longer counts as pending (up, lost, or freed by its transport). */
void peer_pending_del(struct conn *c);
void peer_conn_msg(struct conn *c, const struct proto_msg *m);
void peer_conn_bad_version(struct conn *c, unsigned version);
/* The connection is gone or must go: fail its transfers, detach, close. */
void peer_conn_lost(struct conn *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
