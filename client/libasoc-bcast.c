/*
 * libasoc-bcast.c: asoc_bcast, a broadcast down a pipelined chain (asoc.h).
 *
 * The ranks form a chain from the root: root, root + 1, ... (mod world).
 * The data goes in pieces; each rank receives piece k from its
 * predecessor straight into its own buffer at off + k * piece, and
 * forwards it to its successor from there as soon as it has arrived,
 * while its next receives are already posted.  Every link carries the
 * data once, so a broadcast takes about len/B + (world - 2) * piece/B
 * instead of the (world - 1) * len/B of a root that sends to everyone.
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
#define BCAST_SLOTS		(BCAST_RECV_AHEAD + BCAST_SEND_AHEAD)
#define BCAST_PIECE_SHIFT	40	/* the piece index sits above the tag */
#define BCAST_PIECES_MAX	(1ULL << 23)	/* bits 40 to 62 */
#define BCAST_POISON_MS		2000	/* for telling the successor we quit */

#define BCAST_HAVE		0x1	/* the piece is in our buffer */
#define BCAST_SENT		0x2	/* the successor has it */

struct bcast {
	asoc_t		*as;
	asoc_buf_t	*buf;
	size_t		 off, len, piece;
	uint64_t	 npieces, tag;
	int		 root, pred, succ;	/* -1: none */
	uint64_t	 next_recv, next_send;
	uint64_t	 recvs_done, sends_done;
	unsigned	 sends_out;
	unsigned char	*state;		/* BCAST_HAVE | BCAST_SENT per piece */
	/* Outstanding requests: reqs[i] is for piece[i], a send if send[i]. */
	asoc_req_t	*reqs[BCAST_SLOTS];
	uint64_t	 piece_of[BCAST_SLOTS];
	int		 send[BCAST_SLOTS];
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
bcast_post(struct bcast *b, uint64_t k, int send)
{
	size_t at = b->off + (size_t)k * b->piece;
	asoc_status_t st;
	int i;

	if ((i = bcast_free_slot(b)) == -1)
		return libasoc_fail(b->as, ASOC_EPROTO, "no free request slot; "
		    "this is a libasoc bug");
	if (send)
		st = asoc_isend(b->as, b->buf, at, bcast_piece_len(b, k),
		    b->succ, bcast_tag(b, k), &b->reqs[i]);
	else
		st = asoc_irecv(b->as, b->buf, at, bcast_piece_len(b, k),
		    b->pred, bcast_tag(b, k), &b->reqs[i]);
	if (st != ASOC_OK)
		return st;
	b->piece_of[i] = k;
	b->send[i] = send;
	if (send)
		b->sends_out++;
	return ASOC_OK;
}

/* Forwards, in order, the pieces we have, as far as the window allows. */
static asoc_status_t
bcast_post_sends(struct bcast *b)
{
	asoc_status_t st;

	while (b->succ != -1 && b->sends_out < BCAST_SEND_AHEAD &&
	    b->next_send < b->npieces &&
	    (b->state[b->next_send] & BCAST_HAVE)) {
		if ((st = bcast_post(b, b->next_send, 1)) != ASOC_OK)
			return st;
		b->next_send++;
	}
	return ASOC_OK;
}

static asoc_status_t
bcast_post_recvs(struct bcast *b)
{
	asoc_status_t st;

	while (b->pred != -1 && b->next_recv < b->npieces &&
	    b->next_recv < b->recvs_done + BCAST_RECV_AHEAD) {
		if ((st = bcast_post(b, b->next_recv, 0)) != ASOC_OK)
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
	char why[256];

	/* The request's own words, copied: the message we make replaces
	 * them in the same place. */
	snprintf(why, sizeof why, "%s", asoc_last_error(b->as));
	if (b->send[i]) {
		b->sends_out--;
		if (st != ASOC_OK)
			return libasoc_fail(b->as, st, "forwarding piece %" PRIu64
			    " of %" PRIu64 " to rank %d: %s", k + 1, b->npieces,
			    b->succ, why);
		b->state[k] |= BCAST_SENT;
		b->sends_done++;
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
	asoc_req_t *poison[BCAST_RECV_AHEAD];
	unsigned timeout = libasoc_timeout(b->as);
	uint64_t k;
	int i, n = 0;

	for (i = 0; i < BCAST_SLOTS; i++) {
		if (b->reqs[i] != NULL)
			(void)asoc_cancel(b->reqs[i]);
	}
	for (i = 0; i < BCAST_SLOTS; i++) {
		if (b->reqs[i] != NULL && asoc_wait(b->reqs[i], NULL) == ASOC_OK &&
		    b->send[i])
			b->state[b->piece_of[i]] |= BCAST_SENT;
		b->reqs[i] = NULL;
	}
	if (b->succ == -1)
		return;
	asoc_set_timeout(b->as, BCAST_POISON_MS);
	for (k = 0; k < b->npieces && n < BCAST_RECV_AHEAD; k++) {
		if (!(b->state[k] & BCAST_SENT) && asoc_isend(b->as, b->buf,
		    b->off, 0, b->succ, bcast_tag(b, k), &poison[n]) == ASOC_OK)
			n++;
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
	    (b->succ != -1 && b->sends_done < b->npieces)) {
		if (bcast_outstanding(b) == 0)
			return libasoc_fail(b->as, ASOC_EPROTO, "nothing in "
			    "flight before the end; this is a libasoc bug");
		st = asoc_waitany(b->reqs, BCAST_SLOTS, &i, &c);
		if ((st = bcast_step(b, (int)i, st, &c)) != ASOC_OK)
			return st;
	}
	return ASOC_OK;
}

asoc_status_t
asoc_bcast(asoc_t *as, asoc_buf_t *buf, size_t off, size_t len, int root,
    uint64_t tag)
{
	char why[256];
	struct bcast b;
	asoc_status_t st;
	int world, me, last;

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
	last = (root + world - 1) % world;
	b.pred = me == root ? -1 : (me + world - 1) % world;
	b.succ = me == last ? -1 : (me + 1) % world;
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
