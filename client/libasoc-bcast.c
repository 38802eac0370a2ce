/*
 * libasoc-bcast.c: asoc_bcast, a broadcast down a pipelined chain (asoc.h).
 *
 * With one rank per node (node ranks, or one process per node), the ranks
 * form a chain from the root: root, root + 1, ... (mod world).  The data
 * goes in pieces; each rank receives piece k from its predecessor
 * straight into its own buffer at off + k * piece, and forwards it to its
 * successor from there as soon as it has arrived, while its next receives
 * are already posted.  Every link carries the data once, so a broadcast
 * takes about len/B + (world - 2) * piece/B instead of the
 * (world - 1) * len/B of a root that sends to everyone.
 *
 * With several process ranks on a node, the chain runs over the nodes
 * instead (asoc_rank_nodes, asked once per session): from the root's node
 * up the node numbers (wrapping), through one leader per node, the root
 * on its own node and the lowest rank on each other one, so that each
 * node takes in one network copy.  Each leader has a second successor:
 * its node's chain of the other ranks, lowest first, fed by same-node
 * copies.  A leader forwards every piece to the next node first, then
 * down its node's chain, each successor with its own window.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asoc.h"
#include "libasoc-int.h"

/* Compile-time knobs, so that a benchmark build can try others. */
#ifndef BCAST_RECV_AHEAD
#define BCAST_RECV_AHEAD	4	/* receives posted ahead of the data */
#endif
#ifndef BCAST_SEND_AHEAD
#define BCAST_SEND_AHEAD	2	/* sends in flight to the successor */
#endif
/*
 * The piece: len / BCAST_PIECES, in whole BCAST_PIECE_ALIGN units, from
 * BCAST_PIECE_MIN to BCAST_PIECE_MAX.  On a chain of world ranks the last
 * one starts (world - 2) pieces after the second, so the piece is what a
 * broadcast pays for each rank more (bench/bcast-scaling: t(8) - t(2) was
 * 6 x 4 MiB / B with the 4 MiB pieces of before, 10 % of a 256 MiB
 * broadcast on 1 Gbit/s links).  Below the minimum, each piece's
 * rendezvous (RTS, CTS, ACK and the client's socket hops, hidden behind
 * the data of the piece before while BCAST_SEND_AHEAD are in flight)
 * would no longer be small next to its data.
 */
#ifndef BCAST_PIECES
#define BCAST_PIECES		256
#endif
#ifndef BCAST_PIECE_MIN
#define BCAST_PIECE_MIN		(256u << 10)
#endif
#ifndef BCAST_PIECE_MAX
#define BCAST_PIECE_MAX		(4u << 20)
#endif
#define BCAST_PIECE_ALIGN	(64u << 10)
#define BCAST_SUCCS		2	/* the next node's leader; this node's */
#define BCAST_NET		0	/* succ[]: the next node (or rank) */
#define BCAST_LOCAL		1	/* succ[]: the next rank on this node */
#define BCAST_SLOTS		(BCAST_RECV_AHEAD + BCAST_SUCCS * \
				BCAST_SEND_AHEAD)
#define BCAST_PIECE_SHIFT	40	/* the piece index sits above the tag */
#define BCAST_PIECES_MAX	(1ULL << 23)	/* bits 40 to 62 */
#define BCAST_POISON_MS		2000	/* for telling the successor we quit */

#define BCAST_HAVE		0x1	/* the piece is in our buffer */
#define BCAST_SENT(j)		(0x2 << (j))	/* successor j has it */
#define BCAST_RECV		(-1)	/* to[]: a receive, not a send */

struct bcast {
	asoc_t		*as;
	asoc_buf_t	*buf;
	size_t		 off, len, piece;
	uint64_t	 npieces, tag;
	int		 root, pred;	/* -1: none */
	int		 succ[BCAST_SUCCS];	/* -1: none */
	uint64_t	 next_recv, next_send[BCAST_SUCCS];
	uint64_t	 recvs_done, sends_done[BCAST_SUCCS];
	unsigned	 sends_out[BCAST_SUCCS];
	unsigned char	*state;		/* BCAST_HAVE | BCAST_SENT(j) per piece */
	/* Outstanding requests: reqs[i] is for piece_of[i], a receive or a
	 * send to succ[to[i]]. */
	asoc_req_t	*reqs[BCAST_SLOTS];
	uint64_t	 piece_of[BCAST_SLOTS];
	int		 to[BCAST_SLOTS];
};

/*
 * Not a function of the daemon's chunk size: ranks whose daemons have
 * different ones must still cut len alike (asocd cuts each piece into its
 * chunks, or sends it as one smaller than a chunk).
 */
size_t
asoc_bcast_piece(const asoc_t *as, size_t len)
{
	size_t piece = len / BCAST_PIECES;

	(void)as;
	piece = (piece + BCAST_PIECE_ALIGN - 1) / BCAST_PIECE_ALIGN *
	    BCAST_PIECE_ALIGN;
	if (piece < BCAST_PIECE_MIN)
		piece = BCAST_PIECE_MIN;
	return piece < BCAST_PIECE_MAX ? piece : BCAST_PIECE_MAX;
}

static uint64_t
bcast_tag(const struct bcast *b, uint64_t k)
{
	return ASOC_COLL_TAG_BIT | k << BCAST_PIECE_SHIFT | b->tag;
}

static size_t
bcast_piece_len(const struct bcast *b, uint64_t k)
{
	size_t at = (size_t)k * b->piece;

	return b->len - at < b->piece ? b->len - at : b->piece;
}

static int
bcast_free_slot(const struct bcast *b)
{
	int i;

	for (i = 0; i < BCAST_SLOTS; i++) {
		if (b->reqs[i] == NULL)
			return i;
	}
	return -1;
}

static int
bcast_outstanding(const struct bcast *b)
{
	int i, n = 0;

	for (i = 0; i < BCAST_SLOTS; i++)
		n += b->reqs[i] != NULL;
	return n;
}

static asoc_status_t
bcast_post(struct bcast *b, uint64_t k, int to)
{
	size_t at = b->off + (size_t)k * b->piece;
	asoc_status_t st;
	int i;

	if ((i = bcast_free_slot(b)) == -1)
		return libasoc_fail(b->as, ASOC_EPROTO, "no free request slot; "
		    "this is a libasoc bug");
	if (to != BCAST_RECV)
		st = asoc_isend(b->as, b->buf, at, bcast_piece_len(b, k),
		    b->succ[to], bcast_tag(b, k), &b->reqs[i]);
	else
		st = asoc_irecv(b->as, b->buf, at, bcast_piece_len(b, k),
		    b->pred, bcast_tag(b, k), &b->reqs[i]);
	if (st != ASOC_OK)
		return st;
	b->piece_of[i] = k;
	b->to[i] = to;
	if (to != BCAST_RECV)
		b->sends_out[to]++;
	return ASOC_OK;
}

/* Forwards, in order, the pieces we have, as far as each successor's
 * window allows: the next node's first, so the network never waits for a
 * same-node copy. */
static asoc_status_t
bcast_post_sends(struct bcast *b)
{
	asoc_status_t st;
	int j;

	for (j = 0; j < BCAST_SUCCS; j++) {
		while (b->succ[j] != -1 && b->sends_out[j] < BCAST_SEND_AHEAD &&
		    b->next_send[j] < b->npieces &&
		    (b->state[b->next_send[j]] & BCAST_HAVE)) {
			if ((st = bcast_post(b, b->next_send[j], j)) != ASOC_OK)
				return st;
			b->next_send[j]++;
		}
	}
	return ASOC_OK;
}

static asoc_status_t
bcast_post_recvs(struct bcast *b)
{
	asoc_status_t st;

	while (b->pred != -1 && b->next_recv < b->npieces &&
	    b->next_recv < b->recvs_done + BCAST_RECV_AHEAD) {
		if ((st = bcast_post(b, b->next_recv, BCAST_RECV)) != ASOC_OK)
			return st;
		b->next_recv++;
	}
	return ASOC_OK;
}

/* One request has completed with st: account for it and post what it
 * makes possible.  On failure, the session's last error says why. */
static asoc_status_t
bcast_step(struct bcast *b, int i, asoc_status_t st,
    const asoc_completion_t *c)
{
	uint64_t k = b->piece_of[i];
	size_t want = bcast_piece_len(b, k);
	int to = b->to[i];
	char why[256];

	/* The request's own words, copied: the message we make replaces
	 * them in the same place. */
	snprintf(why, sizeof why, "%s", asoc_last_error(b->as));
	if (to != BCAST_RECV) {
		b->sends_out[to]--;
		if (st != ASOC_OK)
			return libasoc_fail(b->as, st, "forwarding piece %" PRIu64
			    " of %" PRIu64 " to rank %d: %s", k + 1, b->npieces,
			    b->succ[to], why);
		b->state[k] |= BCAST_SENT(to);
		b->sends_done[to]++;
		return bcast_post_sends(b);
	}
	if (st != ASOC_OK)
		return libasoc_fail(b->as, st, "receiving piece %" PRIu64 " of %"
		    PRIu64 " from rank %d: %s", k + 1, b->npieces, b->pred,
		    why);
	/* An empty piece is the predecessor saying it gave up. */
	if (c->len == 0)
		return libasoc_fail(b->as, ASOC_ECANCELLED, "rank %d, before "
		    "this one in the chain from root %d, gave the broadcast "
		    "up: see the error there", b->pred, b->root);
	if (c->len != want)
		return libasoc_fail(b->as, ASOC_EPROTO, "piece %" PRIu64 " of %"
		    PRIu64 " from rank %d has %zu bytes, not %zu: every rank "
		    "must pass the same len and root", k + 1, b->npieces, b->pred,
		    c->len, want);
	b->state[k] |= BCAST_HAVE;
	b->recvs_done++;
	if ((st = bcast_post_recvs(b)) != ASOC_OK)
		return st;
	return bcast_post_sends(b);
}

/*
 * After a failure: cancel and reap what is outstanding, then send empty
 * pieces to the successor in place of the first ones it has not got, so
 * that it stops waiting (and tells its own successor) instead of hanging.
 * Those that no receive matches expire after BCAST_POISON_MS, so none is
 * left behind to meet a later broadcast with the same tag.
 */
static void
bcast_unwind(struct bcast *b)
{
	asoc_req_t *poison[BCAST_SUCCS * BCAST_RECV_AHEAD];
	unsigned timeout = libasoc_timeout(b->as);
	uint64_t k;
	int i, j, n = 0, sent;

	for (i = 0; i < BCAST_SLOTS; i++) {
		if (b->reqs[i] != NULL)
			(void)asoc_cancel(b->reqs[i]);
	}
	for (i = 0; i < BCAST_SLOTS; i++) {
		if (b->reqs[i] != NULL && asoc_wait(b->reqs[i], NULL) ==
		    ASOC_OK && b->to[i] != BCAST_RECV)
			b->state[b->piece_of[i]] |= BCAST_SENT(b->to[i]);
		b->reqs[i] = NULL;
	}
	asoc_set_timeout(b->as, BCAST_POISON_MS);
	for (j = 0; j < BCAST_SUCCS; j++) {
		for (k = 0, sent = 0; b->succ[j] != -1 && k < b->npieces &&
		    sent < BCAST_RECV_AHEAD; k++) {
			if (!(b->state[k] & BCAST_SENT(j)) && asoc_isend(b->as,
			    b->buf, b->off, 0, b->succ[j], bcast_tag(b, k),
			    &poison[n]) == ASOC_OK) {
				n++;
				sent++;
			}
		}
	}
	asoc_set_timeout(b->as, timeout);
	for (i = 0; i < n; i++)
		(void)asoc_wait(poison[i], NULL);
}

static asoc_status_t
bcast_run(struct bcast *b)
{
	asoc_completion_t c;
	asoc_status_t st;
	size_t i;

	if ((st = bcast_post_recvs(b)) != ASOC_OK ||
	    (st = bcast_post_sends(b)) != ASOC_OK)
		return st;
	while ((b->pred != -1 && b->recvs_done < b->npieces) ||
	    (b->succ[0] != -1 && b->sends_done[0] < b->npieces) ||
	    (b->succ[1] != -1 && b->sends_done[1] < b->npieces)) {
		if (bcast_outstanding(b) == 0)
			return libasoc_fail(b->as, ASOC_EPROTO, "nothing in "
			    "flight before the end; this is a libasoc bug");
		st = asoc_waitany(b->reqs, BCAST_SLOTS, &i, &c);
		if ((st = bcast_step(b, (int)i, st, &c)) != ASOC_OK)
			return st;
	}
	return ASOC_OK;
}

/* Today's chain over the ranks: root, root + 1, ... (mod world). */
static void
bcast_chain_ranks(struct bcast *b, int world, int me)
{
	int last = (b->root + world - 1) % world;

	b->pred = me == b->root ? -1 : (me + world - 1) % world;
	b->succ[BCAST_NET] = me == last ? -1 : (me + 1) % world;
	b->succ[BCAST_LOCAL] = -1;
}

/*
 * The chain over the nodes (see the top of this file), from map: the
 * node of every rank.  Returns 0 when no node has more than one rank,
 * for today's chain.
 */
static int
bcast_chain_nodes(struct bcast *b, const int *map, int world, int me,
    int *lead, int nodes)
{
	int p, n, i, mine = map[me], from = map[b->root];
	int prev, next, many = 0;

	for (n = 0; n < nodes; n++)
		lead[n] = -1;
	for (p = 0; p < world; p++) {
		if (lead[map[p]] == -1)
			lead[map[p]] = p;
		else
			many = 1;
	}
	if (!many)
		return 0;
	lead[from] = b->root;
	b->pred = b->succ[BCAST_NET] = b->succ[BCAST_LOCAL] = -1;
	if (me == lead[mine]) {
		/* The leaders, from the root's node up, wrapping. */
		for (i = 1, prev = -1; i < nodes && mine != from; i++) {
			n = (mine + nodes - i) % nodes;
			if (lead[n] != -1) {
				prev = lead[n];
				break;
			}
			if (n == from)
				break;
		}
		b->pred = prev;
		for (i = 1, next = -1; i < nodes; i++) {
			n = (mine + i) % nodes;
			if (n == from)
				break;
			if (lead[n] != -1) {
				next = lead[n];
				break;
			}
		}
		b->succ[BCAST_NET] = next;
	}
	/* This node's chain: its leader, then its other ranks, lowest
	 * first. */
	prev = lead[mine];
	for (p = 0; p < world; p++) {
		if (map[p] != mine || p == lead[mine])
			continue;
		if (p == me)
			b->pred = prev;
		if (prev == me)
			b->succ[BCAST_LOCAL] = p;
		prev = p;
	}
	return 1;
}

/*
 * Our place in the chain; node-aware when a node has several ranks.  The
 * map is the session's first answer, kept: every rank must build the same
 * chain, so a rank that left and joined again on another node between two
 * ranks' first broadcasts would make them disagree, and that broadcast
 * fail at its deadline (the same rank on the same node changes nothing).
 */
static asoc_status_t
bcast_chain(struct bcast *b, int world, int me)
{
	const int *map;
	int *lead, p, nodes = 0, rc;
	asoc_status_t st;

	if ((st = libasoc_node_map(b->as, &map)) != ASOC_OK)
		return st;
	for (p = 0; p < world; p++)
		nodes = map[p] >= nodes ? map[p] + 1 : nodes;
	if ((lead = calloc((size_t)nodes, sizeof *lead)) == NULL)
		return libasoc_fail(b->as, ASOC_ENOMEM, "out of memory");
	rc = bcast_chain_nodes(b, map, world, me, lead, nodes);
	free(lead);
	if (rc == 0)
		bcast_chain_ranks(b, world, me);
	return ASOC_OK;
}

asoc_status_t
asoc_bcast(asoc_t *as, asoc_buf_t *buf, size_t off, size_t len, int root,
    uint64_t tag)
{
	char why[256];
	struct bcast b;
	asoc_status_t st;
	int world, me;

	if (as == NULL)
		return ASOC_EINVAL;
	if ((st = libasoc_enter(as)) != ASOC_OK)
		return st;
	world = asoc_world_size(as);
	me = asoc_rank(as);
	if (buf == NULL)
		return libasoc_fail(as, ASOC_EINVAL, "asoc_bcast: the buffer is "
		    "NULL");
	if (libasoc_buf_session(buf) != as)
		return libasoc_fail(as, ASOC_EINVAL, "asoc_bcast: the buffer "
		    "belongs to another session");
	if (root < 0 || root >= world)
		return libasoc_fail(as, ASOC_EINVAL, "asoc_bcast: root %d is not "
		    "in this job (ranks are 0 to %d)", root, world - 1);
	if (off > asoc_buf_size(buf) || len > asoc_buf_size(buf) - off)
		return libasoc_fail(as, ASOC_EINVAL, "asoc_bcast: %zu bytes at "
		    "offset %zu do not fit in the %zu-byte buffer", len, off,
		    asoc_buf_size(buf));
	if (tag >= ASOC_COLL_TAG_LIMIT)
		return libasoc_fail(as, ASOC_EINVAL, "asoc_bcast: tag %#" PRIx64
		    " is too large: collectives take tags below 2^40 and use "
		    "the bits above for their pieces", tag);
	if (world == 1 || len == 0)
		return ASOC_OK;

	memset(&b, 0, sizeof b);
	b.as = as;
	b.buf = buf;
	b.off = off;
	b.len = len;
	b.tag = tag;
	b.root = root;
	b.piece = asoc_bcast_piece(as, len);
	b.npieces = (len - 1) / b.piece + 1;
	if (b.npieces > BCAST_PIECES_MAX)
		return libasoc_fail(as, ASOC_EINVAL, "asoc_bcast: %zu bytes make "
		    "%" PRIu64 " pieces of %zu bytes, more than the %llu that "
		    "the tag space allows", len, b.npieces, b.piece,
		    BCAST_PIECES_MAX);
	if ((st = bcast_chain(&b, world, me)) != ASOC_OK) {
		snprintf(why, sizeof why, "%s", asoc_last_error(as));
		return libasoc_fail(as, st, "asoc_bcast from root %d, rank %d: "
		    "where the ranks live: %s", root, me, why);
	}
	if ((b.state = calloc(b.npieces, 1)) == NULL)
		return libasoc_fail(as, ASOC_ENOMEM, "asoc_bcast: out of "
		    "memory");
	if (me == root)
		memset(b.state, BCAST_HAVE, b.npieces);

	if ((st = bcast_run(&b)) != ASOC_OK) {
		/* Unwinding makes calls of its own: keep the first error. */
		snprintf(why, sizeof why, "%s", asoc_last_error(as));
		bcast_unwind(&b);
		libasoc_fail(as, st, "asoc_bcast from root %d, rank %d: %s",
		    root, me, why);
	}
	free(b.state);
	return st;
}
