/*
 * ranks.h: whom this daemon serves and where every process rank lives.
 *
 * A daemon is in one mode at a time (asocd(8), PROCESS RANKS):
 *   NONE  nothing ranked yet, or everything ranked has gone;
 *   NODE  today's addressing: one implicit local rank, our node, shared by
 *         every node-rank session;
 *   PROC  process ranks p of a world of P: each process that joined here
 *         has its own local rank (struct lrank), with its own matching.
 * The first ranked session sets the mode; the other mode is refused at
 * L_HELLO until the daemon is back to NONE.
 *
 * Where the process ranks of other nodes live is learned from the peers:
 * a daemon announces each local rank (RK_JOIN) on every connection that is
 * up, and again when a connection comes up, before any RTS it queued; it
 * announces RK_LEAVE when the rank's last session closes.  No home daemon,
 * no lookups: the JOIN precedes every RTS of that rank on the connection,
 * so an RTS from a rank not announced by its sender is a protocol
 * violation (xfer.c).
 */
#ifndef ASOC_RANKS_H
#define ASOC_RANKS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>

#include "match.h"
#include "proto.h"

struct client;
struct conn;
struct req;

/* The values S_NODE's mode field carries. */
enum ranks_mode { RANKS_NONE = 0, RANKS_NODE = 1, RANKS_PROC = 2 };

/* What kind of session a client opened (struct client's rank_kind). */
enum ranks_session { RS_NONE = 0, RS_STATUS, RS_NODE, RS_PROC };

/* A rank living here: a process rank, or (node mode) our node.  Owned by
 * its sessions: freed when the last one closes. */
struct lrank {
	uint32_t rank;
	uint32_t incarnation;	/* new at every claim of the rank here */
	uint32_t localid;	/* SLURM_LOCALID, or 0xffffffff */
	uint64_t joined_seq;	/* ranks.c's event count at its claim */
	pid_t pid;
	unsigned sessions;
	/* Lost a duplicate race to a lower node (ranks.c): no longer in
	 * the table; every post on its sessions fails with why. */
	int withdrawn;
	char why[PROTO_MSG_MAX];
	struct match match;	/* receives posted for it, sends arrived */
	uint64_t bytes_sent, bytes_received;
	TAILQ_ENTRY(lrank) entry;	/* ranks.c's list of those held */
};

enum rloc_state { RL_UNKNOWN = 0, RL_JOINED, RL_LEFT };

/* Where a process rank lives, as far as this daemon knows. */
struct rloc {
	uint32_t node, pid, incarnation;
	uint8_t state;		/* enum rloc_state */
	/* LEFT in an earlier job step (see ranks_left): as good as
	 * unknown, the node it was on no longer says anything. */
	uint8_t stale;
	/* LEFT: ranks.c's event count when this daemon saw it leave, to
	 * compare with a local rank's joined_seq (ranks_last_node_of). */
	uint64_t left_seq;
};

void ranks_init(void);
enum ranks_mode ranks_mode(void);
/* The process world P (0 while none is known). */
uint32_t ranks_world(void);
unsigned ranks_nlocal(void);

/* L_HELLO: the session c opens (flags PROTO_LH_F_*).  PS_OK, or the
 * status with msg saying what to do; c->lr is set for a ranked one. */
enum proto_status ranks_hello(struct client *c, uint32_t flags,
    uint32_t rank, uint32_t world, uint32_t localid, char *msg,
    size_t msglen);
/* 1 when c is the last session of a process rank: its requests are
 * cancelled as the rank leaving (PS_ELEFT). */
int ranks_last_session(const struct client *c);
/* c is gone, its requests cancelled: a rank whose last session it was
 * leaves (ranks_leave). */
void ranks_session_gone(struct client *c);

/* The live local rank p (node mode: our node), or NULL. */
struct lrank *ranks_local(uint32_t p);
/* Every local rank with sessions, withdrawn ones too: start with NULL. */
struct lrank *ranks_next(struct lrank *prev);
/* Where process rank p lives; NULL when p is outside the known world. */
const struct rloc *ranks_loc(uint32_t p);
/* 1 when process rank p left during this job step: sends to p and
 * receives from p fail ELEFT at once.  Once no process rank is left on
 * this daemon the step is over here, and what left is unknown again: a
 * process of the next step (or a CLI started after) waits for p to join
 * instead of failing on the previous step's leave. */
int ranks_left(uint32_t p);
/* p's node while it is joined there, else -1. */
int64_t ranks_node_of(uint32_t p);
/* For local rank asker (asoc_rank_nodes): p's node while it is joined
 * there, or the node it was on when it left after asker joined here (the
 * daemon saw that leave within asker's life: p's process of asker's time
 * is gone).  -1 otherwise: unknown, or left before asker joined, which
 * may be an earlier step's or a process being started again. */
int64_t ranks_last_node_of(uint32_t p, const struct lrank *asker);
/* An RTS without F_PROC arrived: node traffic, so NODE mode (unless
 * PROC, which the caller refuses).  0, or -1 in PROC mode. */
int ranks_node_traffic(void);

/* From peer.c: c came up (announce every local rank on it, before any
 * queued RTS), an RK_JOIN or RK_LEAVE arrived on c, the last connection
 * to node went (see below). */
void ranks_announce(struct conn *c);
void ranks_on_join(struct conn *c, const struct proto_msg *m);
void ranks_on_leave(struct conn *c, const struct proto_msg *m);
/* 1 when the pair must be up again (ranks lived there, or we serve
 * process ranks): the caller reconnects. */
int ranks_peer_lost(uint32_t node);

/* "rank 5 left (its process exited)" and the like, for messages. */
void ranks_left_msg(uint32_t p, char *buf, size_t len);
void ranks_join_timeout_msg(uint32_t p, unsigned secs, char *buf,
    size_t len);

#endif
