/*
 * xfer.c: matching, the transfer state machine and exactly-once
 * completion (see xfer.h for the picture).
 */
#include "config.h"
#include "xfer.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "asocd.h"
#include "buffer.h"
#include "control.h"
#include "log.h"
#include "peer.h"
#include "ranks.h"
#include "rankwhere.h"
#include "transport.h"

#define XFER_HASH_SIZE 4096	/* power of two */
#define XFER_LOCAL_STEP (256u << 20)	/* bytes per turn of a local copy */

static struct xfer_list xfer_hash[XFER_HASH_SIZE];
/* Sends to process ranks nobody has announced yet (XS_WAIT_JOIN), by
 * destination rank: a JOIN or LEAVE looks at its rank's bucket only. */
#define XFER_JOINQ_SIZE 256	/* power of two */
static struct xfer_list xfer_joinq[XFER_JOINQ_SIZE];
unsigned long xfer_join_waits_seen;

static struct xfer_list *
xfer_joinq_of(uint32_t p)
{
	return &xfer_joinq[p & (XFER_JOINQ_SIZE - 1)];
}

/* Eager messages held for a receive, in bytes: by sending daemon (grown
 * to the highest node seen) and in all. */
static uint64_t *xfer_held;
static uint32_t xfer_nheld;
static uint64_t xfer_held_all;

#define container_of(p, type, member) \
	((type *)(void *)((char *)(p) - offsetof(type, member)))

void
xfer_init(void)
{
	size_t i;

	for (i = 0; i < XFER_HASH_SIZE; i++)
		TAILQ_INIT(&xfer_hash[i]);
	for (i = 0; i < XFER_JOINQ_SIZE; i++)
		TAILQ_INIT(&xfer_joinq[i]);
}

/* Transfers are found by (connection, sender's id, role): a peer can only
 * ever name transfers on its own connection. */
static struct xfer_list *
xfer_bucket(const struct conn *c, uint64_t id)
{
	uint64_t h = (id ^ ((uintptr_t)c >> 4)) * 0x9e3779b97f4a7c15ull;

	return &xfer_hash[(h >> 40) & (XFER_HASH_SIZE - 1)];
}

static struct xfer *
xfer_find(const struct conn *c, uint64_t id, enum xfer_role role)
{
	struct xfer *x;

	TAILQ_FOREACH(x, xfer_bucket(c, id), hash_entry)
		if (x->id == id && x->conn == c && x->role == role)
			return x;
	return NULL;
}

/* x's peer daemon becomes node (counted there). */
static void
xfer_set_node(struct xfer *x, uint32_t node)
{
	if (x->node != asocd->rank)
		asocd->peers[x->node].xfers_active--;
	x->node = node;
	if (node != asocd->rank)
		asocd->peers[node].xfers_active++;
}

static struct xfer *
xfer_new(enum xfer_role role, uint64_t id, uint32_t node, uint64_t tag,
    uint64_t len)
{
	struct xfer *x;

	if ((x = calloc(1, sizeof *x)) == NULL)
		return NULL;
	x->role = role;
	x->id = id;
	x->node = asocd->rank;
	xfer_set_node(x, node);
	x->tag = tag;
	x->len = len;
	asocd->xfers_active++;
	return x;
}

/* "rank 5 (node 1)" for process ranks, "rank 1" for nodes: the other end
 * of x, for messages (one per call: a static buffer). */
static const char *
xfer_other(const struct xfer *x)
{
	static char buf[48];
	uint32_t r = x->role == XFER_SEND ? x->dst : x->src;

	if (x->proc)
		snprintf(buf, sizeof buf, "rank %u (node %u)", r, x->node);
	else
		snprintf(buf, sizeof buf, "rank %u", r);
	return buf;
}

/* x->ms queues in lr's match, counted against its sender's bound. */
static struct match_recv *
xfer_arrive(struct xfer *x, struct lrank *lr)
{
	x->mlr = lr;
	x->ms.src = x->src;
	x->ms.tag = x->tag;
	x->ms.count = x->node != asocd->rank ?
	    &asocd->peers[x->node].unexpected : NULL;
	return match_arrive(&lr->match, &x->ms);
}

static void
xfer_bind_conn(struct xfer *x, struct conn *c)
{
	x->conn = c;
	TAILQ_INSERT_TAIL(&c->xfers, x, conn_entry);
	TAILQ_INSERT_TAIL(xfer_bucket(c, x->id), x, hash_entry);
}

uint32_t
xfer_unexpected_from(uint32_t node)
{
	return node < asocd->world ? asocd->peers[node].unexpected : 0;
}

/* No more data for x: taken off its connection's queue of senders, so
 * that a message sent next (an ABORT) follows its last WRITE, not one
 * that the transport would post while sending it. */
static void
xfer_sendq_remove(struct xfer *x)
{
	if (x->conn != NULL && x->in_send_queue) {
		TAILQ_REMOVE(&x->conn->sendq, x, send_entry);
		x->in_send_queue = 0;
	}
}

static void
xfer_free(struct xfer *x)
{
	struct conn *c = x->conn, *l;

	if (c != NULL) {
		transport_release(c, x);
		TAILQ_REMOVE(&c->xfers, x, conn_entry);
		TAILQ_REMOVE(xfer_bucket(c, x->id), x, hash_entry);
		if (x->in_send_queue)
			TAILQ_REMOVE(&c->sendq, x, send_entry);
		if (c->rx_cur == x)
			c->rx_cur = NULL;	/* the rest of its frame: discard */
		/* Only a transfer whose DATA came on an extra connection can
		 * be one's rx_cur: the others skip the walk. */
		if (x->rx_on_lanes)
			TAILQ_FOREACH(l, &c->lanes, lane_entry)
				if (l->rx_cur == x)
					l->rx_cur = NULL;
	}
	if (x->state == XS_WAIT_CONN)
		peer_unwant(&asocd->peers[x->node], x);
	if (x->state == XS_WAIT_JOIN)
		TAILQ_REMOVE(xfer_joinq_of(x->dst), x, wait_entry);
	if (x->ms.queued)
		match_remove_send(&x->mlr->match, &x->ms);
	if (x->req != NULL)
		x->req->xfer = NULL;
	if (x->local_recv != NULL)
		x->local_recv->xfer = NULL;
	if (x->eager != NULL) {
		xfer_held[x->node] -= x->len;
		xfer_held_all -= x->len;
		free(x->eager);
		/* Delivered, cancelled or lost alike: what is held now. */
		log_debug("eager transfer %llu of %llu bytes no longer held "
		    "(%llu of %zu bytes held from rank %u)",
		    (unsigned long long)x->id, (unsigned long long)x->len,
		    (unsigned long long)xfer_held[x->node],
		    asocd->conf->eager_budget, x->node);
	}
	if (x->copy_ev != NULL)
		event_free(x->copy_ev);
	if (x->fence_ev != NULL)
		event_free(x->fence_ev);
	if (x->join_ev != NULL)
		event_free(x->join_ev);
	asocd->xfers_active--;
	if (x->node != asocd->rank)
		asocd->peers[x->node].xfers_active--;
	free(x);
	asocd_check_drained();
}

void
xfer_req_complete(struct req *r, enum proto_status status, uint64_t len,
    const char *fmt, ...)
{
	struct proto_msg m;
	struct client *c;
	va_list ap;

	memset(&m, 0, sizeof m);
	m.hdr.type = PT_L_DONE;
	m.hdr.id = r->id;
	m.u.l_done.status = status;
	m.u.l_done.peer = r->peer;
	m.u.l_done.len = len;
	m.u.l_done.tag = r->tag;
	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(m.u.l_done.msg, sizeof m.u.l_done.msg, fmt, ap);
		va_end(ap);
	}
	if (status == PS_OK)
		asocd->ctr.xfers_done++;
	else {
		asocd->ctr.xfers_failed++;
		log_debug("request %llu of client pid %ld: %s",
		    (unsigned long long)r->id, (long)r->client->pid,
		    m.u.l_done.msg);
	}
	c = r->client;

	if (r->xfer != NULL) {
		if (r->xfer->req == r)
			r->xfer->req = NULL;
		if (r->xfer->local_recv == r)
			r->xfer->local_recv = NULL;
	}
	if (r->mr.queued)
		match_remove_recv(&r->lr->match, &r->mr);
	rankwhere_forget(r);
	if (r->deadline != NULL)
		event_free(r->deadline);
	TAILQ_REMOVE(&c->reqs, r, entry);
	c->nreqs--;
	c->reqs_done++;
	buffer_unref(r->buf);
	free(r);
	/* Last: r is gone, so nothing a reply sets off can reach it. */
	control_send(c, &m);
}

static void
xfer_send_ctl(struct conn *c, uint16_t type, uint64_t id,
    struct proto_msg *m)
{
	m->hdr.type = type;
	m->hdr.id = id;
	transport_send_ctl(c, m);
}

static void
xfer_send_abort(struct conn *c, uint64_t id, enum proto_status st,
    int to_sender)
{
	struct proto_msg m;

	memset(&m, 0, sizeof m);
	m.u.abort.status = st;
	m.u.abort.to_sender = (uint32_t)to_sender;
	xfer_send_ctl(c, PT_ABORT, id, &m);
}

/* Both are sent only once x is freed (they take its id, not x): a
 * transport may find its connection dead while writing, and fail every
 * transfer on it there and then, x included. */
static void
xfer_send_ack(struct conn *c, uint64_t id, uint64_t len,
    enum proto_status st)
{
	struct proto_msg m;

	memset(&m, 0, sizeof m);
	m.u.ack.status = st;
	m.u.ack.len = len;
	xfer_send_ctl(c, PT_ACK, id, &m);
}

/* --- same node: one copy, no socket --- */

/* The next step after a turn of the loop.  Not event_active: libevent
 * runs events activated from an active callback in the same pass, before
 * it polls again, so the whole copy ran in one go and no request (an
 * L_FREE, a cancel) nor peer traffic got in between the steps.  A timer
 * of zero is run after the next poll. */
static void
xfer_local_next(struct xfer *x)
{
	static const struct timeval now = { 0, 0 };

	event_add(x->copy_ev, &now);
}

static void
xfer_local_step(evutil_socket_t fd, short what, void *arg)
{
	struct xfer *x = arg;
	struct req *s = x->req, *r = x->local_recv;
	uint64_t n = x->len - x->done;

	(void)fd;
	(void)what;
	/* Steps keep a huge copy from starving every other transfer, but
	 * large ones: glibc switches to non-temporal stores only for big
	 * copies (above ~190 MiB on a VM reporting a large L3), and 16 MiB
	 * steps ran at 60% of one memcpy.  A step is ~20 ms of loop time. */
	if (n > XFER_LOCAL_STEP)
		n = XFER_LOCAL_STEP;
	memcpy(r->buf->base + r->off + x->done, s->buf->base + s->off + x->done,
	    (size_t)n);
	x->done += n;
	if (x->done < x->len) {
		xfer_local_next(x);
		return;
	}
	xfer_req_complete(r, PS_OK, x->len, NULL);
	xfer_req_complete(s, PS_OK, x->len, NULL);
	xfer_free(x);
}

static void
xfer_local_start(struct xfer *x, struct req *r)
{
	/* xfer_matched checked the length; a copy past the receive's range
	 * would write into whatever follows it in the client's memory. */
	if (x->len > r->len || !buffer_range_ok(r->buf, r->off, x->len) ||
	    !buffer_range_ok(x->req->buf, x->req->off, x->len)) {
		log_err("local copy of %llu bytes into a %llu-byte receive: "
		    "refused", (unsigned long long)x->len,
		    (unsigned long long)r->len);
		xfer_req_complete(r, PS_EINVAL, 0, "internal error: the send "
		    "does not fit this receive");
		xfer_fail(x, PS_EINVAL, "internal error: the send does not fit "
		    "its receive");
		return;
	}
	x->local_recv = r;
	r->xfer = x;
	x->state = XS_LOCAL_COPY;
	x->copy_ev = event_new(asocd->base, -1, 0, xfer_local_step, x);
	if (x->copy_ev == NULL) {
		xfer_fail(x, PS_ENOMEM, "asocd is out of memory");
		return;
	}
	xfer_local_next(x);
}

/* --- eager messages, receiving side --- */

uint64_t
xfer_eager_held(uint32_t rank)
{
	return rank < xfer_nheld ? xfer_held[rank] : 0;
}

uint64_t
xfer_eager_held_total(void)
{
	return xfer_held_all;
}

/* rank's count of held bytes, the table grown to it; NULL when memory
 * ran out (then nothing is held for it). */
static uint64_t *
xfer_held_slot(uint32_t rank)
{
	uint64_t *p;
	uint32_t n;

	if (rank >= xfer_nheld) {
		n = rank + 1 > 2 * xfer_nheld ? rank + 1 : 2 * xfer_nheld;
		if ((p = realloc(xfer_held, n * sizeof *p)) == NULL)
			return NULL;
		memset(p + xfer_nheld, 0, (n - xfer_nheld) * sizeof *p);
		xfer_held = p;
		xfer_nheld = n;
	}
	return &xfer_held[rank];
}

/* An eager message nobody has a receive for yet: keep a copy within the
 * sender's budget, so the receive that comes completes at once.  Over
 * it, x waits as a plain RTS (its data comes after a CTS): the memory a
 * peer can make us hold is bounded, and it is still delivered. */
static void
xfer_hold(struct xfer *x)
{
	const uint8_t *in = x->eager_in;
	size_t budget = asocd->conf->eager_budget;
	size_t total = asocd->conf->eager_budget_total;
	uint64_t *held;

	x->eager_in = NULL;	/* the transport's memory: not after this */
	if (in == NULL || x->eager != NULL)
		return;
	held = xfer_held_slot(x->node);
	if (held == NULL || x->len > budget || *held > budget - x->len ||
	    x->len > total || xfer_held_all > total - x->len ||
	    (x->eager = malloc((size_t)x->len)) == NULL) {
		log_debug("%s: eager transfer %llu of %llu bytes is over the "
		    "budget (%llu of %zu bytes held from rank %u, %llu of %zu "
		    "from all): it waits as a plain RTS", x->conn->name,
		    (unsigned long long)x->id, (unsigned long long)x->len,
		    (unsigned long long)(held != NULL ? *held : 0), budget,
		    x->node, (unsigned long long)xfer_held_all, total);
		return;
	}
	memcpy(x->eager, in, (size_t)x->len);
	*held += x->len;
	xfer_held_all += x->len;
	log_debug("%s: holding eager transfer %llu of %llu bytes (%llu of "
	    "%zu bytes held from rank %u)", x->conn->name,
	    (unsigned long long)x->id, (unsigned long long)x->len,
	    (unsigned long long)*held, budget, x->node);
}

/* x's message is here (held, or still in the transport's memory) and r
 * takes it (xfer_matched checked it fits): copy, ACK, complete.
 *
 * The ACK goes first: the bytes are in r's buffer once copied, and the
 * client's completion wakes a process that, on a machine with fewer
 * cores than busy processes, takes this core from us at once (wakeup
 * preemption on the return from send): the ACK, the sender's critical
 * path, then waited for our client to run and sleep again.  Measured
 * (2026-12-07, 16 alternating runs of 2,000 sends): the median 8-byte
 * send 38.5 -> 33.4 us, 4 KiB 40.6 -> 33.2 us.  A rendezvous' last DATA
 * does the same (xfer_data_landed). */
static void
xfer_eager_deliver(struct xfer *x, struct req *r)
{
	const uint8_t *src = x->eager != NULL ? x->eager : x->eager_in;
	struct conn *c = x->conn;
	uint64_t id = x->id, len = x->len;

	memcpy(r->buf->base + r->off, src, (size_t)len);
	x->eager_in = NULL;
	asocd->ctr.bytes_received += len;
	c->peer->bytes_received += len;
	r->lr->bytes_received += len;
	xfer_free(x);	/* and the held copy */
	/* c may be found dead while writing, failing its transfers and the
	 * receives that name its node: r is none of them (x is freed, and
	 * matching took r off its match list). */
	xfer_send_ack(c, id, len, PS_OK);
	xfer_req_complete(r, PS_OK, len, NULL);
}

/* --- matching --- */

/* The one place where a send meets a receive, whichever came first and
 * wherever the send came from (a peer's RTS, or a client of ours): so
 * the one place that checks the send fits the receive. */
static void
xfer_matched(struct xfer *x, struct req *r)
{
	uint64_t cap = r->len;	/* r is freed by its completion */

	r->peer = x->src;
	r->tag = x->tag;
	if (x->len > cap && (r->flags & PROTO_XF_PEEK)) {
		/* The receiver only learns the size: the message waits,
		 * first in line, for a receive big enough (an eager one
		 * held, if the budget allows, as if unmatched). */
		xfer_hold(x);
		match_requeue_send(&x->mlr->match, &x->ms);
		xfer_req_complete(r, PS_ETRUNC, x->len, "a %llu-byte message "
		    "from rank %u waits for a receive that large",
		    (unsigned long long)x->len, x->src);
		return;
	}
	if (x->len > cap) {
		xfer_req_complete(r, PS_ETRUNC, 0, "a %llu-byte message from "
		    "rank %u does not fit this %llu-byte receive",
		    (unsigned long long)x->len, x->src,
		    (unsigned long long)cap);
		if (x->role == XFER_RECV) {
			struct conn *c = x->conn;
			uint64_t id = x->id;

			xfer_free(x);
			xfer_send_abort(c, id, PS_ETRUNC, 1);
			return;
		}
		xfer_req_complete(x->req, PS_ETRUNC, 0, "rank %u posted a "
		    "receive of only %llu bytes for this %llu-byte message",
		    x->dst, (unsigned long long)cap,
		    (unsigned long long)x->len);
		xfer_free(x);
		return;
	}
	if (x->role == XFER_SEND) {
		xfer_local_start(x, r);
		return;
	}
	if (x->eager != NULL || x->eager_in != NULL) {
		xfer_eager_deliver(x, r);
		return;
	}
	x->req = r;
	r->xfer = x;
	if (x->len == 0) {
		struct conn *c = x->conn;

		uint64_t id = x->id;

		xfer_req_complete(r, PS_OK, 0, NULL);
		xfer_free(x);
		xfer_send_ack(c, id, 0, PS_OK);
		return;
	} else {
		struct conn *c = x->conn;
		struct proto_msg m;
		char err[PROTO_MSG_MAX];

		memset(&m, 0, sizeof m);
		if (transport_grant(c, x, r,
		    &m.u.cts.addr, &m.u.cts.rkey, err, sizeof err) < 0) {
			uint64_t id = x->id;

			xfer_fail(x, PS_ENOMEM, err);
			xfer_send_abort(c, id, PS_ENOMEM, 1);
			return;
		}
		x->state = XS_DATA;
		m.u.cts.recv_id = x->id;
		m.u.cts.len = x->len;
		xfer_send_ctl(c, PT_CTS, x->id, &m);
	}
}

static void
xfer_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct req *r = arg;
	struct xfer *x = r->xfer;
	char msg[PROTO_MSG_MAX];

	(void)fd;
	(void)what;
	if (x != NULL && x->state == XS_WAIT_JOIN) {
		/* Shorter than --join-timeout: the same words, its time. */
		ranks_join_timeout_msg(x->dst, (r->timeout_ms + 999) / 1000,
		    msg, sizeof msg);
		xfer_fail(x, PS_ETIMEDOUT, msg);
		return;
	}
	xfer_cancel(r, PS_ETIMEDOUT, "timed out");
}

/* The peer (node mode) or process rank r names is one there can be;
 * -1 after completing r when not. */
static int
xfer_check(struct req *r)
{
	const char *what = r->kind == REQ_SEND ? "send" : "receive";
	uint32_t world = ranks_world();

	if (asocd->draining) {
		xfer_req_complete(r, PS_ECANCELLED, 0, "asocd is shutting "
		    "down: start it again and reconnect");
		return -1;
	}
	if (r->lr == NULL) {
		xfer_req_complete(r, PS_EINVAL, 0, "a status-only session "
		    "cannot %s: open one with a rank", what);
		return -1;
	}
	if (r->lr->withdrawn) {
		xfer_req_complete(r, PS_EPERM, 0, "%s", r->lr->why);
		return -1;
	}
	if (ranks_mode() == RANKS_PROC) {
		if (r->peer != MATCH_ANY && r->peer >= world) {
			xfer_req_complete(r, PS_ENOPEER, 0, "%s names rank %u, "
			    "which is not in a world of %u process ranks "
			    "(0-%u)", what, r->peer, world, world - 1);
			return -1;
		}
		return 0;
	}
	if (r->peer != MATCH_ANY && r->peer >= asocd->world) {
		xfer_req_complete(r, PS_ENOPEER, 0, "%s names rank %u but the "
		    "world has %u rank%s (0-%u): check --peers", what, r->peer,
		    asocd->world, asocd->world == 1 ? "" : "s",
		    asocd->world - 1);
		return -1;
	}
	return 0;
}

static void
xfer_arm_deadline(struct req *r, uint32_t timeout_ms)
{
	struct timeval tv;

	r->timeout_ms = timeout_ms;
	if (timeout_ms == 0)
		return;
	r->deadline = evtimer_new(asocd->base, xfer_deadline, r);
	if (r->deadline == NULL)
		return;
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	evtimer_add(r->deadline, &tv);
}

/* A send to a rank living here: it waits in dlr's match for a receive
 * like any other, and is matched through xfer_matched and its length
 * check (a receive too small, or peeking, must not get the copy). */
static void
xfer_send_local(struct xfer *x, struct lrank *dlr)
{
	struct match_recv *mr;

	xfer_set_node(x, asocd->rank);
	x->state = XS_UNEXPECTED;
	mr = xfer_arrive(x, dlr);
	if (mr != NULL)
		xfer_matched(x, container_of(mr, struct req, mr));
}

static void
xfer_join_expired(evutil_socket_t fd, short what, void *arg)
{
	struct xfer *x = arg;
	char msg[PROTO_MSG_MAX];

	(void)fd;
	(void)what;
	ranks_join_timeout_msg(x->dst, asocd->conf->join_timeout, msg,
	    sizeof msg);
	xfer_fail(x, PS_ETIMEDOUT, msg);
}

/* A send to a process rank nobody has announced: it waits for the JOIN
 * (xfer_rank_joined), within --join-timeout unless its own deadline is
 * shorter (xfer_deadline), so that a typo cannot hang. */
static void
xfer_wait_join(struct xfer *x)
{
	struct timeval tv = { asocd->conf->join_timeout, 0 };
	uint32_t t = x->req->timeout_ms;

	x->state = XS_WAIT_JOIN;
	TAILQ_INSERT_TAIL(xfer_joinq_of(x->dst), x, wait_entry);
	if (t != 0 && t / 1000 < asocd->conf->join_timeout)
		return;
	x->join_ev = evtimer_new(asocd->base, xfer_join_expired, x);
	if (x->join_ev == NULL || evtimer_add(x->join_ev, &tv) < 0)
		xfer_fail(x, PS_ENOMEM, "asocd is out of memory");
}

/* Where x (a send to process rank x->dst) goes now: a rank here, a node
 * that announced it, a failure (it left), or the wait for its JOIN. */
static void
xfer_route(struct xfer *x)
{
	const struct rloc *l = ranks_loc(x->dst);
	struct lrank *dlr = ranks_local(x->dst);
	char msg[PROTO_MSG_MAX];

	if (dlr != NULL) {
		xfer_send_local(x, dlr);
		return;
	}
	if (l != NULL && l->state == RL_JOINED && l->node != asocd->rank) {
		xfer_set_node(x, l->node);
		x->state = XS_WAIT_CONN;
		peer_want(&asocd->peers[l->node], x);
		return;
	}
	if (ranks_left(x->dst)) {
		ranks_left_msg(x->dst, msg, sizeof msg);
		xfer_fail(x, PS_ELEFT, msg);
		return;
	}
	xfer_wait_join(x);
}

void
xfer_post_send(struct req *r, uint32_t timeout_ms)
{
	struct xfer *x;

	if (xfer_check(r) < 0)
		return;
	x = xfer_new(XFER_SEND, asocd_next_id(), asocd->rank, r->tag, r->len);
	if (x == NULL) {
		xfer_req_complete(r, PS_ENOMEM, 0, "asocd is out of memory");
		return;
	}
	x->req = r;
	r->xfer = x;
	x->src = r->lr->rank;
	x->dst = r->peer;
	xfer_arm_deadline(r, timeout_ms);
	if (ranks_mode() == RANKS_PROC) {
		x->proc = 1;
		xfer_route(x);
		return;
	}
	if (r->peer == asocd->rank) {
		xfer_send_local(x, r->lr);
		return;
	}
	xfer_set_node(x, r->peer);
	x->state = XS_WAIT_CONN;
	peer_want(&asocd->peers[r->peer], x);
}

/* A receive naming a process rank that left, with nothing queued from it
 * that could match: no send can come any more. */
static int
xfer_src_left(const struct req *r)
{
	return ranks_mode() == RANKS_PROC && r->peer != MATCH_ANY &&
	    ranks_left(r->peer);
}

void
xfer_post_recv(struct req *r, uint32_t timeout_ms)
{
	struct match_send *ms;
	char msg[PROTO_MSG_MAX];

	if (xfer_check(r) < 0)
		return;
	xfer_arm_deadline(r, timeout_ms);
	r->mr.src = r->peer;
	r->mr.tag = r->tag;
	ms = match_post_recv(&r->lr->match, &r->mr);
	if (ms != NULL) {
		xfer_matched(container_of(ms, struct xfer, ms), r);
		return;
	}
	if (xfer_src_left(r)) {
		ranks_left_msg(r->peer, msg, sizeof msg);
		xfer_req_complete(r, PS_ELEFT, 0, "%s", msg);
	}
}

/* Eager when the message is small enough for both the setting and the
 * transport on c; never empty (an empty send is a plain RTS, ACKed at
 * once). */
static int
xfer_eager_ok(const struct xfer *x, struct conn *c)
{
	return x->len > 0 && x->req != NULL &&
	    x->len <= asocd->conf->eager_threshold &&
	    x->len <= transport_eager_max(c);
}

void
xfer_conn_ready(struct xfer *x, struct conn *c)
{
	struct proto_msg m;

	xfer_bind_conn(x, c);
	x->state = XS_RTS_SENT;
	memset(&m, 0, sizeof m);
	m.u.rts.tag = x->tag;
	m.u.rts.len = x->len;
	m.u.rts.src_rank = x->src;
	m.u.rts.dst_rank = x->dst;
	if (x->proc) {
		m.u.rts.flags = PROTO_RTS_F_PROC;
		m.u.rts.world = ranks_world();
	}
	if (xfer_eager_ok(x, c)) {
		/* The transport sends it from the client's buffer (by
		 * reference where it can: xfer_eager_buf). */
		x->eager_sent = 1;
		m.u.rts.flags |= PROTO_RTS_F_EAGER;
		m.payload = x->req->buf->base + x->req->off;
		m.payload_len = (size_t)x->len;
	}
	xfer_send_ctl(c, PT_RTS, x->id, &m);
}

struct buffer *
xfer_eager_buf(const struct conn *c, uint64_t id)
{
	struct xfer *x = xfer_find(c, id, XFER_SEND);

	return x != NULL && x->eager_sent && x->req != NULL ? x->req->buf :
	    NULL;
}

void
xfer_fail(struct xfer *x, enum proto_status status, const char *why)
{
	if (x->req != NULL)
		xfer_req_complete(x->req, status, 0, "%s", why);
	if (x->local_recv != NULL)
		xfer_req_complete(x->local_recv, status, 0, "%s", why);
	xfer_free(x);
}

/* The fence is over (the sender stopped, or did not answer in time):
 * revoke, then tell a timed-out receive's client. */
static void
xfer_fence_done(struct xfer *x)
{
	struct req *r = x->req;

	log_debug("%s: transfer %llu: the sender stopped, or was waited for "
	    "long enough: revoking its range", x->conn->name,
	    (unsigned long long)x->id);
	if (r != NULL) {
		transport_release(x->conn, x);
		xfer_req_complete(r, PS_ETIMEDOUT, 0, "timed out");
	}
	xfer_free(x);
}

/* XS_FENCE lasted too long: the sender (older, or gone quiet) did not
 * confirm.  Revoke anyway; a WRITE still to come fails the connection. */
static void
xfer_fence_expired(evutil_socket_t fd, short what, void *arg)
{
	struct xfer *x = arg;

	(void)fd;
	(void)what;
	log_warn("%s: node %u did not confirm the cancel of transfer %llu: "
	    "revoking its receive range anyway", x->conn->name, x->node,
	    (unsigned long long)x->id);
	xfer_fence_done(x);
}

/*
 * A receive cancelled while the sender may be WRITING into its exposure
 * (one-sided transports): revoking at once would make those WRITEs fail
 * with a remote access error, which takes the whole connection down.  So
 * the exposure stays, the sender is told (ABORT) and answers with an ABORT
 * of its own, sent after its last WRITE: when that arrives (or the WDONE
 * it had already sent), every WRITE has landed and xfer_free revokes.
 * The request completes now; the transport keeps the memory referenced.
 * Returns 1 when x is now fencing (not to be freed).
 */
static int
xfer_fence(struct xfer *x)
{
	struct timeval tv = { asocd->conf->connection_timeout, 0 };

	if (x->role != XFER_RECV || x->state != XS_DATA || x->conn == NULL ||
	    x->tp_priv == NULL)
		return 0;
	x->fence_ev = evtimer_new(asocd->base, xfer_fence_expired, x);
	if (x->fence_ev == NULL || evtimer_add(x->fence_ev, &tv) < 0)
		return 0;
	x->state = XS_FENCE;
	log_debug("%s: transfer %llu cancelled with %llu bytes granted: its "
	    "range stays until the sender confirms it stopped",
	    x->conn->name, (unsigned long long)x->id,
	    (unsigned long long)x->len);
	return 1;
}

void
xfer_cancel(struct req *r, enum proto_status status, const char *why)
{
	struct xfer *x = r->xfer;
	const char *side = r->kind == REQ_SEND ? "sender" : "receiver";
	char msg[PROTO_MSG_MAX];

	snprintf(msg, sizeof msg, "%s (by the %s)", why, side);
	if (x != NULL && x->state == XS_FENCE) {
		/* A timed-out receive waiting for its fence, now given up
		 * for good (its client left, or freed the buffer). */
		x->req = NULL;
		r->xfer = NULL;
	} else if (x != NULL && x->conn != NULL && x->state != XS_LOCAL_COPY &&
	    xfer_fence(x)) {
		struct conn *c = x->conn;

		/* A timed-out receive completes when the sender has stopped,
		 * so that its client may reuse the buffer at once; one given
		 * up (its buffer freed, its client gone) completes now, its
		 * memory held by the exposure until then. */
		if (status == PS_ETIMEDOUT && !r->client->dead) {
			xfer_send_abort(c, x->id, status, 1);
			return;
		}
		x->req = NULL;
		r->xfer = NULL;
		xfer_send_abort(c, x->id, status, 1);
	} else if (x != NULL) {
		struct conn *c = x->conn;
		uint64_t id = x->id;
		int to_sender = x->role == XFER_RECV;

		if (x->state == XS_LOCAL_COPY) {
			/* The other half of a local copy fails with it. */
			struct req *other = r == x->req ? x->local_recv : x->req;

			xfer_req_complete(other, status, 0, "%s", msg);
			c = NULL;
		}
		xfer_free(x);
		/* After the free: writing the ABORT may find the connection
		 * dead and fail all its transfers at once (see xfer_send_ack).
		 * r is no longer one of them. */
		if (c != NULL)
			xfer_send_abort(c, id, status, to_sender);
	}
	xfer_req_complete(r, status, 0, "%s", why);
}

/* The other request a cancel of r completes with it: the receive (or
 * send) of the same local copy. */
static struct req *
xfer_sibling(const struct req *r)
{
	struct xfer *x = r->xfer;

	if (x == NULL || x->state != XS_LOCAL_COPY)
		return NULL;
	return r == x->req ? x->local_recv : x->req;
}

void
xfer_cancel_where(struct client *c, int (*which)(struct req *, void *),
    void *arg, enum proto_status status, const char *why)
{
	struct req *r, *next, *sib;
	uint64_t before, expected;

	/* Not TAILQ_FOREACH_SAFE: cancelling r may complete, and free, its
	 * sibling, which can be the very next request saved by the walk.
	 * The sibling is known before the cancel, so the walk steps over
	 * it.  Anything else that goes with r (the ABORT found the
	 * connection dead, and every transfer on it failed) makes the walk
	 * start over: those done are gone from the list, so it ends. */
	for (r = TAILQ_FIRST(&c->reqs); r != NULL; r = next) {
		next = TAILQ_NEXT(r, entry);
		if (!which(r, arg))
			continue;
		sib = xfer_sibling(r);
		if (next != NULL && next == sib)
			next = TAILQ_NEXT(next, entry);
		expected = 1 + (sib != NULL && sib->client == c);
		before = c->reqs_done;
		xfer_cancel(r, status, why);
		if (c->reqs_done - before > expected)
			next = TAILQ_FIRST(&c->reqs);
	}
}

static int
xfer_not_moving(struct req *r, void *arg)
{
	struct xfer *x = r->xfer;

	(void)arg;
	/* An eager send still waiting for its ACK or CTS is not moving:
	 * the receiver may hold it with no receive posted, and then nothing
	 * comes before --connection-timeout.  Its ABORT frees the copy held
	 * there (the message may still have been delivered: see asocd(8)). */
	return x == NULL || x->state == XS_WAIT_CONN ||
	    x->state == XS_WAIT_JOIN || x->state == XS_RTS_SENT ||
	    x->state == XS_UNEXPECTED;
}

/* The sends that arrived (from peers) and wait in lr's match, or in
 * every local rank's (lr NULL), are given up: freed first, then their
 * senders told st.  Local sends waiting there fail with why, unless why
 * is NULL (then their clients' cancel deals with them). */
static void
xfer_abort_arrived(struct lrank *lr, enum proto_status st, const char *why)
{
	struct match_send *ms, *msn;
	struct { struct conn *c; uint64_t id; } *tell;
	struct lrank *l;
	size_t n = 0, all = 0, i;

	for (l = ranks_next(NULL); l != NULL; l = ranks_next(l))
		all += l->match.nsends;
	if (lr != NULL)
		all += lr->match.nsends;
	tell = calloc(all + 1, sizeof *tell);
	for (l = lr != NULL ? lr : ranks_next(NULL); l != NULL;
	    l = lr != NULL ? NULL : ranks_next(l)) {
		TAILQ_FOREACH_SAFE(ms, &l->match.sends, entry, msn) {
			struct xfer *x = container_of(ms, struct xfer, ms);

			if (x->role == XFER_RECV) {
				if (tell != NULL) {
					tell[n].c = x->conn;
					tell[n++].id = x->id;
				}
				xfer_free(x);
			} else if (why != NULL)
				xfer_fail(x, st, why);
		}
	}
	for (i = 0; i < n; i++)
		xfer_send_abort(tell[i].c, tell[i].id, st, 1);
	free(tell);
}

void
xfer_drain(void)
{
	struct client *c;

	/* Sends that arrived but were never matched: tell their senders,
	 * once all are freed (an ABORT that finds its connection dead fails
	 * every transfer on it at once: the walk would lose its place). */
	xfer_abort_arrived(NULL, PS_ECANCELLED, NULL);
	/* Our own requests that have not started moving data.  The client
	 * is told what to do, as a request refused while draining is: a
	 * bare "shutting down" left users guessing whether to retry. */
	TAILQ_FOREACH(c, &asocd->clients, entry)
		xfer_cancel_where(c, xfer_not_moving, NULL, PS_ECANCELLED,
		    "asocd is shutting down: start it again and reconnect");
}

/* --- from the peer connection --- */

static int
xfer_conn_ok(struct conn *c, const struct proto_msg *m)
{
	if (c->up)
		return 1;
	peer_conn_lost(c, "%s before the handshake finished",
	    proto_type_name(m->hdr.type));
	return 0;
}

/* The local rank an RTS on c is for, or NULL after answering it (ABORT)
 * or dropping c: node mode checks the ranks against the connection as
 * ever; process ranks need the src announced by c's node (its JOIN came
 * first on this connection) and dst live here. */
static struct lrank *
xfer_rts_dest(struct conn *c, const struct proto_msg *m)
{
	const struct proto_rts *rt = &m->u.rts;
	const struct rloc *l;
	struct lrank *dlr;
	uint32_t node = c->peer->rank;

	if (!(rt->flags & PROTO_RTS_F_PROC)) {
		if (rt->src_rank != node || rt->dst_rank != asocd->rank) {
			peer_conn_lost(c, "RTS claims rank %u to rank %u on "
			    "the connection of rank %u", rt->src_rank,
			    rt->dst_rank, node);
			return NULL;
		}
		if (ranks_node_traffic() < 0) {
			xfer_send_abort(c, m->hdr.id, PS_EINVAL, 1);
			return NULL;
		}
		return ranks_local(asocd->rank);
	}
	if (ranks_mode() == RANKS_NODE || rt->world != ranks_world()) {
		/* The sender tells its client what that means. */
		xfer_send_abort(c, m->hdr.id, PS_EINVAL, 1);
		return NULL;
	}
	l = ranks_loc(rt->src_rank);
	if (l == NULL || l->state != RL_JOINED) {
		peer_conn_lost(c, "RTS from rank %u, which node %u never "
		    "announced", rt->src_rank, node);
		return NULL;
	}
	if (l->node != node) {
		/* A duplicate race the lower node won: the sender's rank
		 * is withdrawn, or about to be. */
		xfer_send_abort(c, m->hdr.id, PS_EPERM, 1);
		return NULL;
	}
	/* The process rank table itself: once every rank of ours left the
	 * mode is NONE, and ranks_local would take dst for our node. */
	dlr = ranks_mode() == RANKS_PROC ? ranks_local(rt->dst_rank) : NULL;
	if (dlr != NULL)
		return dlr;
	/* Withdrawn here (a lower node holds it): not a leave. */
	l = ranks_loc(rt->dst_rank);
	xfer_send_abort(c, m->hdr.id, l != NULL && l->state == RL_JOINED &&
	    l->node != asocd->rank ? PS_EPERM : PS_ELEFT, 1);
	return NULL;
}

void
xfer_on_rts(struct conn *c, const struct proto_msg *m)
{
	struct match_recv *mr;
	struct lrank *dlr;
	struct xfer *x;

	if (!xfer_conn_ok(c, m))
		return;
	if (xfer_find(c, m->hdr.id, XFER_RECV) != NULL) {
		peer_conn_lost(c, "RTS reuses transfer id %llu",
		    (unsigned long long)m->hdr.id);
		return;
	}
	if ((dlr = xfer_rts_dest(c, m)) == NULL)
		return;
	if (asocd->draining) {
		xfer_send_abort(c, m->hdr.id, PS_ECANCELLED, 1);
		return;
	}
	x = xfer_new(XFER_RECV, m->hdr.id, c->peer->rank, m->u.rts.tag,
	    m->u.rts.len);
	if (x == NULL) {
		xfer_send_abort(c, m->hdr.id, PS_ENOMEM, 1);
		return;
	}
	xfer_bind_conn(x, c);
	x->state = XS_UNEXPECTED;
	x->src = m->u.rts.src_rank;
	x->dst = m->u.rts.dst_rank;
	x->proc = (m->u.rts.flags & PROTO_RTS_F_PROC) != 0;
	/* Eager: the message is in the transport's memory for this call
	 * only; xfer_matched copies it into the receive, or xfer_hold
	 * keeps it (or not) below. */
	if ((m->u.rts.flags & PROTO_RTS_F_EAGER) && m->payload != NULL &&
	    m->payload_len == x->len)
		x->eager_in = m->payload;
	mr = xfer_arrive(x, dlr);
	if (mr != NULL) {
		xfer_matched(x, container_of(mr, struct req, mr));
		return;
	}
	/* Unmatched: it waits, but only so many from one daemon, whatever
	 * its ranks.  Beyond that the sender hears at once (its client gets
	 * an error naming the limit): pausing the connection instead could
	 * hold back the very send a posted receive waits for, behind sends
	 * nobody wants. */
	if (xfer_unexpected_from(x->node) > XFER_MAX_UNEXPECTED) {
		log_debug("node %u has %u unmatched sends waiting here: "
		    "refusing transfer %llu", x->node,
		    XFER_MAX_UNEXPECTED, (unsigned long long)x->id);
		uint64_t id = x->id;

		xfer_free(x);
		xfer_send_abort(c, id, PS_ENOMEM, 1);
		return;
	}
	xfer_hold(x);
}

void
xfer_on_cts(struct conn *c, const struct proto_msg *m)
{
	struct xfer *x;

	if (!xfer_conn_ok(c, m))
		return;
	if ((x = xfer_find(c, m->hdr.id, XFER_SEND)) == NULL)
		return;		/* cancelled here meanwhile; ABORT is on its way */
	/* A zero-length send is answered by an ACK at once (xfer_matched),
	 * never by a CTS: one would start a data phase with nothing to send
	 * (the transport encoded a DATA frame it could not fill). */
	if (x->state != XS_RTS_SENT || m->u.cts.len != x->len ||
	    x->len == 0) {
		peer_conn_lost(c, "unexpected CTS for transfer %llu",
		    (unsigned long long)x->id);
		return;
	}
	/* An eager send the receiver could not keep (its budget for us was
	 * spent): the data moves again, as for any rendezvous. */
	if (x->eager_sent)
		log_debug("%s: eager transfer %llu was not kept by rank %u: "
		    "sending its data after CTS", c->name,
		    (unsigned long long)x->id, x->node);
	x->eager_sent = 0;
	x->state = XS_DATA;
	x->raddr = m->u.cts.addr;
	x->rkey = m->u.cts.rkey;
	TAILQ_INSERT_TAIL(&c->sendq, x, send_entry);
	x->in_send_queue = 1;
	transport_start_data(c, x);
}

void
xfer_on_wdone(struct conn *c, const struct proto_msg *m)
{
	struct xfer *x;
	uint64_t id, len;

	if (!xfer_conn_ok(c, m))
		return;
	if (!transport_one_sided(c->tp)) {
		peer_conn_lost(c, "WDONE on a transport without WRITEs");
		return;
	}
	if ((x = xfer_find(c, m->hdr.id, XFER_RECV)) == NULL)
		return;		/* cancelled here; the exposure is gone */
	if (x->state == XS_FENCE) {
		xfer_fence_done(x);	/* cancelled: every WRITE has landed */
		return;
	}
	if (x->state != XS_DATA || x->req == NULL ||
	    m->u.wdone.len != x->len) {
		peer_conn_lost(c, "WDONE for transfer %llu out of turn",
		    (unsigned long long)x->id);
		return;
	}
	/* The WRITEs precede this SEND on the connection, so the bytes are
	 * in place.  Revoke the exposure (xfer_free, via release) before
	 * the client may touch the buffer again. */
	x->done = x->len;
	asocd->ctr.bytes_received += x->len;
	c->peer->bytes_received += x->len;
	x->req->lr->bytes_received += x->len;
	transport_release(c, x);
	xfer_req_complete(x->req, PS_OK, x->len, NULL);
	id = x->id;
	len = x->len;
	xfer_free(x);
	xfer_send_ack(c, id, len, PS_OK);
}

/* --- the sending side's scheduler --- */

int
xfer_next_chunk(struct conn *c, struct xfer_chunk *ch)
{
	uint64_t chunk = asocd->conf->chunk_size;
	struct xfer *x;
	struct req *r;

	memset(ch, 0, sizeof *ch);
	/* An extra connection (--conns-per-peer) takes its chunks from the
	 * queue of the pair's connection, once its handshake is done. */
	if (c->lane != 0) {
		if (!c->up || c->dead || c->main == NULL)
			return 0;
		c = c->main;
	}
	if ((x = TAILQ_FIRST(&c->sendq)) == NULL)
		return 0;
	r = x->req;
	ch->x = x;
	ch->buf = r->buf;
	ch->off = x->done;
	ch->len = x->len - x->done;
	if (ch->len > chunk)
		ch->len = chunk;
	ch->src = r->buf->base + r->off + ch->off;
	ch->raddr = x->raddr + ch->off;
	ch->rkey = x->rkey;
	ch->last = ch->off + ch->len == x->len;
	ch->more = TAILQ_NEXT(x, send_entry) != NULL;
	return 1;
}

void
xfer_chunk_posted(const struct xfer_chunk *ch)
{
	struct xfer *x = ch->x;
	struct conn *c = x->conn;

	x->done += ch->len;
	asocd->ctr.bytes_sent += ch->len;
	c->peer->bytes_sent += ch->len;
	if (x->req != NULL)
		x->req->lr->bytes_sent += ch->len;
	TAILQ_REMOVE(&c->sendq, x, send_entry);
	if (x->done == x->len) {
		x->in_send_queue = 0;
		x->state = XS_WAIT_ACK;
	} else
		TAILQ_INSERT_TAIL(&c->sendq, x, send_entry);
}

void
xfer_give_up(struct xfer *x, enum proto_status status, const char *why)
{
	struct conn *c = x->conn;
	uint64_t id = x->id;
	int to_sender = x->role == XFER_RECV;

	/* After the free, as everywhere: the ABORT may find the connection
	 * dead, and fail every transfer on it. */
	xfer_fail(x, status, why);
	if (c != NULL)
		xfer_send_abort(c, id, status, to_sender);
}

void
xfer_on_ack(struct conn *c, const struct proto_msg *m)
{
	struct xfer *x;

	if (!xfer_conn_ok(c, m))
		return;
	if ((x = xfer_find(c, m->hdr.id, XFER_SEND)) == NULL)
		return;
	/* An eager RTS carried the data: its ACK may come straight back. */
	if (m->u.ack.status == PS_OK && x->eager_sent &&
	    x->state == XS_RTS_SENT && m->u.ack.len == x->len) {
		x->done = x->len;
		asocd->ctr.bytes_sent += x->len;
		c->peer->bytes_sent += x->len;
		if (x->req != NULL)
			x->req->lr->bytes_sent += x->len;
	} else if (m->u.ack.status == PS_OK &&
	    (m->u.ack.len != x->len || x->done != x->len ||
	    (x->state != XS_WAIT_ACK && !(x->len == 0 &&
	    x->state == XS_RTS_SENT)))) {
		peer_conn_lost(c, "ACK for transfer %llu before its data",
		    (unsigned long long)x->id);
		return;
	}
	if (x->req != NULL) {
		if (m->u.ack.status == PS_OK)
			xfer_req_complete(x->req, PS_OK, x->len, NULL);
		else
			xfer_req_complete(x->req, m->u.ack.status, 0,
			    "%s failed the transfer: %s", xfer_other(x),
			    proto_status_name(m->u.ack.status));
	}
	xfer_free(x);
}

/* The peer gave x up with st: x's client is told what that means. */
static void
xfer_aborted(struct xfer *x, enum proto_status st)
{
	uint32_t other = x->role == XFER_SEND ? x->dst : x->src;
	char msg[PROTO_MSG_MAX];

	if (st == PS_ETRUNC)
		xfer_req_complete(x->req, PS_ETRUNC, 0, "the receive posted on "
		    "rank %u is smaller than this %llu-byte message", other,
		    (unsigned long long)x->len);
	else if (st == PS_ENOMEM && x->state == XS_RTS_SENT)
		xfer_req_complete(x->req, PS_ENOMEM, 0, "%s refused this "
		    "send: too many sends to it wait for a receive (or it is "
		    "out of memory); post the receives there, or send fewer at "
		    "once", xfer_other(x));
	else if (st == PS_ELEFT) {
		ranks_left_msg(other, msg, sizeof msg);
		xfer_req_complete(x->req, PS_ELEFT, 0, "%s", msg);
	} else if (st == PS_EINVAL && x->state == XS_RTS_SENT)
		/* Only a mode (or world) mismatch refuses an RTS so. */
		xfer_req_complete(x->req, PS_EINVAL, 0, "node %u serves %s, "
		    "this send addresses %s: every process of a job must join "
		    "the same way", x->node, x->proc ? "node ranks or another "
		    "world" : "process ranks", x->proc ? "process ranks" :
		    "node ranks");
	else if (st == PS_EPERM && x->state == XS_RTS_SENT && x->proc)
		/* The receiver knows one of the two as held on another node
		 * too: a duplicate claim, which the lower node wins. */
		xfer_req_complete(x->req, PS_EPERM, 0, "node %u refused this "
		    "send from rank %u to rank %u: one of them is held on two "
		    "nodes (check --ntasks and SLURM_PROCID)", x->node, x->src,
		    x->dst);
	else
		xfer_req_complete(x->req, st, 0, "%s gave the transfer up: %s",
		    xfer_other(x), proto_status_name(st));
}

void
xfer_on_abort(struct conn *c, const struct proto_msg *m)
{
	struct xfer *x;
	enum xfer_role role = m->u.abort.to_sender ? XFER_SEND : XFER_RECV;

	if (!xfer_conn_ok(c, m))
		return;
	if ((x = xfer_find(c, m->hdr.id, role)) == NULL)
		return;
	/* The receiver cancelled after CTS: our ABORT back, queued behind
	 * the WRITEs already posted, tells it they have all landed. */
	if (role == XFER_SEND && transport_one_sided(c->tp) &&
	    (x->state == XS_DATA || x->state == XS_WAIT_ACK)) {
		log_debug("%s: transfer %llu: the receiver gave it up; "
		    "confirming after our last WRITE", c->name,
		    (unsigned long long)x->id);
		xfer_sendq_remove(x);
		xfer_send_abort(c, x->id, m->u.abort.status, 0);
	}
	if (c->dead)
		return;		/* x went with the connection */
	if (x->state == XS_FENCE) {
		xfer_fence_done(x);	/* the sender's answer: it stopped */
		return;
	}
	if (x->req != NULL)
		xfer_aborted(x, m->u.abort.status);
	xfer_free(x);
}

int
xfer_on_data(struct conn *c, uint64_t id, uint64_t offset, uint64_t len,
    uint8_t **dst, struct xfer **xp)
{
	struct conn *pc = c->main != NULL ? c->main : c;
	struct xfer *x;
	struct req *r;

	*dst = NULL;
	*xp = NULL;
	c->rx_cur = NULL;
	if (!c->up) {
		peer_conn_lost(c, "DATA before the handshake finished");
		return -1;
	}
	/* Transfers belong to the pair's connection, whichever of its
	 * connections the chunk came on. */
	if ((x = xfer_find(pc, id, XFER_RECV)) == NULL)
		return 0;	/* cancelled here: the payload is discarded */
	if (x->state != XS_DATA || x->req == NULL) {
		peer_conn_lost(c, "DATA for transfer %llu before CTS",
		    (unsigned long long)id);
		return -1;
	}
	/* Spread over several connections, chunks land in any order, each
	 * once (x->done counts what landed: the ACK waits for all); on one,
	 * in order. */
	if (!pc->data_spread ? offset != x->done || len > x->len - x->done :
	    offset > x->len || len > x->len - offset ||
	    len > x->len - x->done) {
		peer_conn_lost(c, "DATA for transfer %llu at %llu+%llu is "
		    "outside the granted %llu bytes (or out of order)",
		    (unsigned long long)id, (unsigned long long)offset,
		    (unsigned long long)len, (unsigned long long)x->len);
		return -1;
	}
	r = x->req;
	*dst = r->buf->base + r->off + offset;
	*xp = x;
	c->rx_cur = x;
	if (c != pc)
		x->rx_on_lanes = 1;
	return 0;
}

void
xfer_data_frame_end(struct conn *c)
{
	c->rx_cur = NULL;
}

void
xfer_data_landed(struct xfer *x, uint64_t n)
{
	struct conn *c = x->conn;
	struct req *r;
	uint64_t id, len;

	x->done += n;
	asocd->ctr.bytes_received += n;
	c->peer->bytes_received += n;
	if (x->req != NULL)
		x->req->lr->bytes_received += n;
	if (x->done < x->len)
		return;
	/* The bytes are in place: the ACK tells the sender, then the
	 * receiver's client hears (see xfer_eager_deliver for why in this
	 * order; here, 20 alternating runs of 1,000 sends: 256 KiB 89.7 ->
	 * 82.0 us median, faster in 14; 1 MiB 172.5 -> 171.0, in 11). */
	r = x->req;
	id = x->id;
	len = x->len;
	xfer_free(x);	/* r->xfer cleared */
	xfer_send_ack(c, id, len, PS_OK);
	xfer_req_complete(r, PS_OK, len, NULL);
}

void
xfer_conn_lost(struct conn *c, enum proto_status status, const char *why)
{
	struct xfer *x;

	while ((x = TAILQ_FIRST(&c->xfers)) != NULL)
		xfer_fail(x, status, why);
}

/* Receives whose source is p (which_p) or lived on node (which_node)
 * fail: no send can come from it any more.  A receive for any source is
 * never one of them. */
static void
xfer_fail_recvs(int (*which)(uint32_t src, uint32_t arg), uint32_t arg,
    enum proto_status st, const char *why)
{
	struct match_recv *mr, *next;
	struct lrank *l, *ln;

	/* A completion may end its client's session (a reply that fails
	 * breaks it from the loop, never here), so the lrank stays. */
	for (l = ranks_next(NULL); l != NULL; l = ln) {
		ln = ranks_next(l);
		TAILQ_FOREACH_SAFE(mr, &l->match.recvs, entry, next)
			if (mr->src != MATCH_ANY && which(mr->src, arg))
				xfer_req_complete(container_of(mr, struct req,
				    mr), st, 0, "%s", why);
	}
}

static int
xfer_is_rank(uint32_t src, uint32_t p)
{
	return src == p;
}

static int
xfer_lived_on(uint32_t src, uint32_t node)
{
	const struct rloc *l;

	if (ranks_mode() != RANKS_PROC)
		return src == node;
	l = ranks_loc(src);
	return l != NULL && l->state == RL_JOINED && l->node == node;
}

void
xfer_peer_lost(uint32_t node, const char *why)
{
	/* Receives that name the lost node (or a rank of it) would
	 * otherwise wait for a send that can no longer come. */
	xfer_fail_recvs(xfer_lived_on, node, PS_EPEERLOST, why);
}

void
xfer_rank_joined(uint32_t p)
{
	struct xfer *x, *next;

	TAILQ_FOREACH_SAFE(x, xfer_joinq_of(p), wait_entry, next) {
		xfer_join_waits_seen++;
		if (x->dst != p)
			continue;
		TAILQ_REMOVE(xfer_joinq_of(p), x, wait_entry);
		/* In no queue now (xfer_free must not unlink it):
		 * xfer_route gives it its next state. */
		x->state = XS_NEW;
		if (x->join_ev != NULL) {
			event_free(x->join_ev);
			x->join_ev = NULL;
		}
		/* Routing may complete other sends of the queue (a local
		 * match fails a receive too small...), never frees next:
		 * only x's own requests go. */
		xfer_route(x);
	}
	rankwhere_joined(p);
}

void
xfer_rank_left(uint32_t p, const char *why)
{
	struct xfer *x, *next;

	TAILQ_FOREACH_SAFE(x, xfer_joinq_of(p), wait_entry, next)
		if (x->dst == p)
			xfer_fail(x, PS_ELEFT, why);
	/* Sends to p queued for a connection, or on their way: the peer
	 * aborts those it has (it knows p left); those still waiting for a
	 * connection would reach a daemon that answers ELEFT anyway. */
	xfer_fail_recvs(xfer_is_rank, p, PS_ELEFT, why);
}

void
xfer_lrank_gone(struct lrank *lr, enum proto_status st, const char *why)
{
	xfer_abort_arrived(lr, st, why);
}

static int
xfer_every(struct req *r, void *arg)
{
	(void)r;
	(void)arg;
	return 1;
}

void
xfer_cancel_all(struct client *c, enum proto_status st, const char *why)
{
	xfer_cancel_where(c, xfer_every, NULL, st, why);
}
