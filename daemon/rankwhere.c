/*
 * rankwhere.c: L_WHERE, the node of each of a range of process ranks
 * (asoc_rank_nodes), answered once every one of them has joined (a rank
 * that left since the caller joined counts, on the node it left).
 */
#include "config.h"
#include "rankwhere.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "asocd.h"
#include "buffer.h"
#include "control.h"
#include "le.h"
#include "ranks.h"
#include "xfer.h"

/* Requests waiting for a rank of their range to join: at most
 * RANKWHERE_MAX_WAITING per session, so a join looks at few. */
static struct req_list rankwhere_q = TAILQ_HEAD_INITIALIZER(rankwhere_q);

unsigned long rankwhere_slots_seen;

/*
 * What a waiting request still misses, kept here, not read back from the
 * client's buffer (which its client may overwrite).  The answer is
 * written into the buffer as it is learned: a slot takes the node of its
 * rank once the rank is seen joined, at the request or later.  A rank
 * that has already left since the caller's rank joined here (a quick
 * process that exited) counts too, with the node it was last on: waiting
 * for it would only end in the join timeout.  One that left before the
 * caller joined is waited for: it may be an earlier step's, or a process
 * being started again, whose new join the caller waits for.
 */
struct rankwhere {
	int queued;		/* in rankwhere_q */
	uint32_t nmissing;
	uint64_t missing[];	/* bit i: rank peer + i not seen joined */
};

#define RANKWHERE_NOWHERE	0xffffffffu

static int
rankwhere_is_missing(const struct rankwhere *w, uint32_t i)
{
	return (w->missing[i / 64] >> (i % 64)) & 1;
}

/* The first rank of r's range not seen joined yet. */
static uint32_t
rankwhere_first_missing(const struct req *r)
{
	const struct rankwhere *w = r->where;
	uint32_t i, n = (uint32_t)(r->len / 4);

	for (i = 0; i < n; i += 64)
		if (w->missing[i / 64] != 0)
			return r->peer + i +
			    (uint32_t)__builtin_ctzll(w->missing[i / 64]);
	return r->peer + n;
}

/* Slot i of r's range: rank peer + i is on node. */
static void
rankwhere_found(struct req *r, uint32_t i, uint32_t node)
{
	struct rankwhere *w = r->where;

	le_put32(r->buf->base + r->off + 4 * (size_t)i, node);
	w->missing[i / 64] &= ~(1ull << (i % 64));
	w->nmissing--;
}

static void
rankwhere_expired(evutil_socket_t fd, short what, void *arg)
{
	struct req *r = arg;
	uint32_t p = rankwhere_first_missing(r);
	char msg[PROTO_MSG_MAX];

	(void)fd;
	(void)what;
	ranks_join_timeout_msg(p, (r->timeout_ms + 999) / 1000, msg,
	    sizeof msg);
	xfer_req_complete(r, PS_ETIMEDOUT, 0, "%s", msg);
}

/* How many requests of c's wait now. */
static unsigned
rankwhere_waiting(const struct client *c)
{
	const struct req *r;
	unsigned n = 0;

	TAILQ_FOREACH(r, &rankwhere_q, wait_entry)
		n += r->client == c;
	return n;
}

void
rankwhere_post(struct req *r, uint32_t timeout_ms)
{
	uint32_t world = ranks_world(), n = (uint32_t)(r->len / 4), i;
	struct rankwhere *w;
	struct timeval tv;
	int64_t node;

	if (ranks_mode() != RANKS_PROC) {
		xfer_req_complete(r, PS_EINVAL, 0, "this asocd serves no "
		    "process ranks: ask where ranks live from a process-rank "
		    "session");
		return;
	}
	if (r->peer >= world || n > world - r->peer) {
		xfer_req_complete(r, PS_EINVAL, 0, "ranks %u-%u are not all in "
		    "the world of %u process ranks", r->peer, r->peer + n - 1,
		    world);
		return;
	}
	w = calloc(1, sizeof *w + ((size_t)n + 63) / 64 * sizeof(uint64_t));
	if (w == NULL) {
		xfer_req_complete(r, PS_ENOMEM, 0, "asocd is out of memory");
		return;
	}
	r->where = w;
	for (i = 0; i < n; i++) {
		rankwhere_slots_seen++;
		node = ranks_last_node_of(r->peer + i, r->client->lr);
		if (node >= 0) {
			le_put32(r->buf->base + r->off + 4 * (size_t)i,
			    (uint32_t)node);
			continue;
		}
		le_put32(r->buf->base + r->off + 4 * (size_t)i,
		    RANKWHERE_NOWHERE);
		w->missing[i / 64] |= 1ull << (i % 64);
		w->nmissing++;
	}
	if (w->nmissing == 0) {
		xfer_req_complete(r, PS_OK, n, NULL);
		return;
	}
	if (rankwhere_waiting(r->client) >= RANKWHERE_MAX_WAITING) {
		xfer_req_complete(r, PS_ENOMEM, 0, "this session already has %u "
		    "asoc_rank_nodes calls waiting for ranks to join: wait for "
		    "one to finish", RANKWHERE_MAX_WAITING);
		return;
	}
	/* Never forever: --join-timeout when the caller gave no deadline. */
	r->timeout_ms = timeout_ms != 0 ? timeout_ms :
	    asocd->conf->join_timeout * 1000;
	tv.tv_sec = r->timeout_ms / 1000;
	tv.tv_usec = (r->timeout_ms % 1000) * 1000;
	r->deadline = evtimer_new(asocd->base, rankwhere_expired, r);
	if (r->deadline == NULL || evtimer_add(r->deadline, &tv) < 0) {
		xfer_req_complete(r, PS_ENOMEM, 0, "asocd is out of memory");
		return;
	}
	TAILQ_INSERT_TAIL(&rankwhere_q, r, wait_entry);
	w->queued = 1;
}

void
rankwhere_joined(uint32_t p)
{
	struct req *r, *next;
	int64_t node = ranks_node_of(p);
	uint32_t i;

	if (node < 0)
		return;
	/* A completion never frees another request of the queue: only r. */
	TAILQ_FOREACH_SAFE(r, &rankwhere_q, wait_entry, next) {
		if (p < r->peer || p - r->peer >= r->len / 4)
			continue;
		i = p - r->peer;
		rankwhere_slots_seen++;
		if (!rankwhere_is_missing(r->where, i))
			continue;
		rankwhere_found(r, i, (uint32_t)node);
		if (r->where->nmissing == 0)
			xfer_req_complete(r, PS_OK, r->len / 4, NULL);
	}
}

void
rankwhere_forget(struct req *r)
{
	if (r->where == NULL)
		return;
	if (r->where->queued)
		TAILQ_REMOVE(&rankwhere_q, r, wait_entry);
	free(r->where);
	r->where = NULL;
}
