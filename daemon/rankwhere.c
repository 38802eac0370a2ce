/*
 * rankwhere.c: L_WHERE, the node of each of a range of process ranks
 * (asoc_rank_nodes), answered once every one of them has joined.
 */
#include "config.h"
#include "rankwhere.h"

#include <stdio.h>
#include <string.h>

#include <event2/event.h>

#include "asocd.h"
#include "buffer.h"
#include "control.h"
#include "le.h"
#include "ranks.h"
#include "xfer.h"

/* Requests waiting for a rank of their range to join. */
static struct req_list rankwhere_q = TAILQ_HEAD_INITIALIZER(rankwhere_q);

/* The first rank of r's range that is nowhere yet, or UINT32_MAX. */
static uint32_t
rankwhere_missing(const struct req *r)
{
	uint32_t p, n = (uint32_t)(r->len / 4);

	for (p = r->peer; p < r->peer + n; p++)
		if (ranks_node_of(p) < 0)
			return p;
	return UINT32_MAX;
}

/* Every rank is somewhere: the nodes go into the buffer, r completes. */
static int
rankwhere_try(struct req *r)
{
	uint32_t p, n = (uint32_t)(r->len / 4);
	uint8_t *out = r->buf->base + r->off;

	if (rankwhere_missing(r) != UINT32_MAX)
		return 0;
	for (p = 0; p < n; p++)
		le_put32(out + 4 * (size_t)p,
		    (uint32_t)ranks_node_of(r->peer + p));
	if (r->waiting) {
		TAILQ_REMOVE(&rankwhere_q, r, wait_entry);
		r->waiting = 0;
	}
	xfer_req_complete(r, PS_OK, n, NULL);
	return 1;
}

static void
rankwhere_expired(evutil_socket_t fd, short what, void *arg)
{
	struct req *r = arg;
	uint32_t p = rankwhere_missing(r);
	char msg[PROTO_MSG_MAX];

	(void)fd;
	(void)what;
	ranks_join_timeout_msg(p, (r->timeout_ms + 999) / 1000, msg,
	    sizeof msg);
	xfer_req_complete(r, PS_ETIMEDOUT, 0, "%s", msg);
}

void
rankwhere_post(struct req *r, uint32_t timeout_ms)
{
	uint32_t world = ranks_world(), n = (uint32_t)(r->len / 4);
	struct timeval tv;

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
	if (rankwhere_try(r))
		return;
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
	r->waiting = 1;
}

void
rankwhere_joined(void)
{
	struct req *r, *next;

	/* A completion never frees another request of the queue: only r. */
	TAILQ_FOREACH_SAFE(r, &rankwhere_q, wait_entry, next)
		rankwhere_try(r);
}

void
rankwhere_forget(struct req *r)
{
	if (!r->waiting)
		return;
	TAILQ_REMOVE(&rankwhere_q, r, wait_entry);
	r->waiting = 0;
}
