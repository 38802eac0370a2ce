/*
 * transport_rdma.c: the RDMA transport (rdma_cm + verbs, RC QPs).
 *
 * Connections: librdmacm resolves the peer and sets up one RC QP per
 * connection; the CM event channel and the completion channel are
 * non-blocking fds owned by the libevent loop, so nothing here blocks and
 * no thread runs on the control path.  The HELLO/WELCOME handshake of
 * peer.c then runs over the QP, as on TCP.
 *
 * Control messages (RTS, CTS, ACK, ...) travel as SEND_WITH_IMM (one in
 * RDMA_SEND_SIGNAL_EVERY signalled) from a
 * ring of registered slots into a ring of pre-posted receives.  The
 * immediate data returns receive credits: a side sends only while the
 * other has a receive posted for it, and keeps the last credit for a
 * credit-only (zero-length) message so the two can never wait on each
 * other.
 *
 * Data: the receiver exposes exactly the granted range of the client's
 * buffer with a type-2 memory window bound to this QP (or, on a device
 * without windows, a memory region of just that range, in a protection
 * domain of this connection's own, so that no other QP can use its rkey)
 * and names it in CTS.  The sender RDMA WRITEs from the client's
 * registered buffer straight into it, chunked, a window of WRITEs in
 * flight, every k-th signalled, then a SEND (WDONE): RC places the WRITEs before the SEND.
 * The receiver revokes the window before its client hears of the data,
 * then ACKs; the send completes on the ACK, as on TCP.  A receive
 * cancelled mid-data is revoked only once the sender confirms it stopped
 * WRITING (xfer.c, XS_FENCE): revoking first would fail the QP.
 *
 * Before the handshake proves a peer, an accepted connection already
 * holds a QP, a CQ and the pinned control ring (the handshake runs over
 * them).  So the connections still waiting for their handshake are
 * bounded: RDMA_PENDING_PER_SOURCE per source address (more are refused)
 * and RDMA_PENDING_MAX in all (the oldest is dropped for a new one).
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <infiniband/verbs.h>
#include <rdma/rdma_cma.h>

#include "asocd.h"
#include "auth.h"
#include "buffer.h"
#include "busypoll.h"
#include "log.h"
#include "netaddr.h"
#include "peer.h"
#include "transport.h"
#include "rdma_probe.h"
#include "tls.h"
#include "transport_rdma.h"
#ifdef ASOC_TEST_HOOKS
#include "testhooks.h"
#endif

#define RDMA_RING		64	/* control receives posted per QP */
/* An eager RTS (issue 15) travels as one SEND, its message after its
 * fixed part: every control slot, sending and receiving, has room for
 * RDMA_EAGER_MAX bytes of message, so a connection pins 2 * RDMA_RING
 * slots of RDMA_MSG_SIZE (4,144) bytes, 518 KiB, whatever the traffic.
 * 4 KiB: the messages that gain most from skipping the rendezvous are the
 * small ones, and a larger cap would pin more per peer for the few. */
#define RDMA_EAGER_MAX		4096u
#define RDMA_BODY_MAX		(PROTO_RTS_LEN + RDMA_EAGER_MAX > \
    PROTO_MAX_FIXED ? PROTO_RTS_LEN + RDMA_EAGER_MAX : PROTO_MAX_FIXED)
#define RDMA_MSG_SIZE		(PROTO_HDR_LEN + RDMA_BODY_MAX)
_Static_assert(RDMA_EAGER_MAX <= PROTO_EAGER_MAX,
    "the RDMA eager cap is within the wire's");
#define RDMA_SQ_DEPTH		256
#define RDMA_WRITE_WINDOW	16	/* WRITEs in flight per connection */
#define RDMA_SIGNAL_EVERY	4
/* Control SENDs: only every RDMA_SEND_SIGNAL_EVERY-th asks for a
 * completion (and every one once RDMA_SEND_SIGNAL_EVERY or fewer slots are
 * free, so the slots held are always covered by a signalled SEND still to
 * complete).  A completion wakes the daemon through the completion
 * channel: with every SEND signalled, each control message cost its sender
 * one more wake-up (channel read, poll, re-arm, epoll) besides the peer's
 * answer, 4 per 8-byte send (RTS, CTS, WDONE, ACK); under the lab's TCG
 * such a wake-up is hundreds of microseconds. */
#ifndef RDMA_SEND_SIGNAL_EVERY	/* -D...=1: every SEND, for a before/after */
#define RDMA_SEND_SIGNAL_EVERY	16
#endif
#define RDMA_CM_TIMEOUT_MS	2000
#define RDMA_PRIV_MAGIC		0x41534f43u
#define RDMA_PENDING_PER_SOURCE	4	/* unproved connections per address */
#define RDMA_PENDING_MAX	32	/* ... and in all */

enum trdma_op { OP_RECV = 1, OP_SEND, OP_WRITE, OP_BIND, OP_PROBE };

#define RDMA_PROBE_LEN	64
#define WR_ID(op, idx)	(((uint64_t)(op) << 56) | (uint64_t)(idx))
#define WR_OP(id)	((enum trdma_op)((id) >> 56))
#define WR_IDX(id)	((unsigned)((id) & 0xffffffu))

/* What the connect private data carries: enough to refuse a stranger
 * before any QP traffic.  The full check is the HELLO that follows. */
struct trdma_priv {
	uint32_t magic;
	uint16_t version;
	uint16_t rank;
};

/* The WRITEs covered by one signalled WRITE: their buffer references are
 * dropped when it completes. */
struct trdma_wrec {
	struct buffer *buf[RDMA_SIGNAL_EVERY];
	unsigned n;
};

struct trdma_out {
	size_t len;
	TAILQ_ENTRY(trdma_out) entry;
	uint8_t data[RDMA_MSG_SIZE];
};

/* A buffer registered in a connection's own protection domain (to WRITE
 * from it), until the buffer goes (trdma_buffer_gone). */
struct trdma_lmr {
	struct buffer *buf;
	struct ibv_mr *mr;
	LIST_ENTRY(trdma_lmr) entry;
};

struct trdma_conn {
	struct conn *c;
	struct rdma_cm_id *id;
	struct ibv_pd *pd;	/* rd.pd, or (regions) the connection's own */
	LIST_HEAD(, trdma_lmr) lmrs;	/* own PD: buffers registered in it */
	LIST_ENTRY(trdma_conn) all_entry;	/* in rd.conns */
	TAILQ_ENTRY(trdma_conn) pending_entry;	/* in rd.pending */
	int pending;		/* accepted, handshake not done yet */
	struct sockaddr_storage src;	/* incoming: the peer's address */
	struct ibv_cq *cq;
	uint8_t *ring;		/* RDMA_RING receive slots, then send slots */
	struct ibv_mr *ring_mr;
	unsigned send_free[RDMA_RING], nsend_free;
	/* Slots of the SENDs posted and not yet known complete, oldest
	 * first: a signalled SEND's completion frees it and all before it
	 * (a send queue completes in order). */
	unsigned send_fifo[RDMA_RING], fifo_head, fifo_len;
	unsigned send_unsignalled;	/* posted since the last signalled */
	unsigned credits, to_return;
	unsigned sq_used, writes_inflight;
	struct trdma_wrec wrec[RDMA_SQ_DEPTH];
	unsigned wrec_next;
	struct trdma_wrec batch;		/* unsignalled WRITEs so far */
	TAILQ_HEAD(, trdma_out) outq;
	int established;
	int closed;		/* trdma_close ran; freed from the loop */
	/* The CQ is armed (ibv_req_notify_cq) and its event not yet read.
	 * While asocd busy-polls, a CQ whose event came stays disarmed
	 * until the spin ends (trdma_spin_arm): the spin polls it. */
	int armed;
	/* Completions taken by the busy poll's spin, and through the
	 * completion channel; channel events; arms.  Logged (debug) when
	 * the connection goes, so the lab can see which path took them. */
	unsigned long wc_spin, wc_chan, cq_events, cq_arms;
};

/* The one device this daemon speaks RDMA on: the one behind its listen
 * address. */
static struct {
	struct rdma_event_channel *cm;
	struct event *cm_ev;
	struct rdma_cm_id *listen_id;
	struct ibv_context *ctx;
	struct ibv_pd *pd;
	struct ibv_comp_channel *cc;
	struct event *cc_ev;
	int has_mw;
#ifdef ASOC_TEST_HOOKS
	enum testhook_fault fault;	/* tests only: misbehave on purpose */
#endif
	char name[64];
	LIST_HEAD(, trdma_conn) conns;	/* every connection not yet freed */
	TAILQ_HEAD(, trdma_conn) pending;	/* oldest first */
	unsigned npending;
	time_t refused_at;	/* refusals logged at most once a second */
	unsigned refused_quiet;
} rd = { .pending = TAILQ_HEAD_INITIALIZER(rd.pending) };

static void trdma_pump(struct trdma_conn *rc);
static void trdma_stop_all(void);

/* New connections need the device listen found. */
static int
trdma_available(void)
{
	return rd.pd != NULL;
}

static int
trdma_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* Start-up: RLIMIT_MEMLOCK too small to register client buffers. */
static void
trdma_check_memlock(void)
{
	struct rlimit rl;
	char hint[256];

	if (getrlimit(RLIMIT_MEMLOCK, &rl) < 0 ||
	    rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= RDMA_MEMLOCK_NEED)
		return;
	if (geteuid() == 0)
		return;		/* root's registrations are not bound by it */
	log_warn("%s; registering large buffers for RDMA will fail",
	    probe_memlock_hint(hint, sizeof hint));
}

/* --- buffer registration: once per buffer, cached until it goes --- */

/* The buffer's registration in the shared PD: an ibv_mr in the slot the
 * table keeps for this transport in every buffer. */
static void **
trdma_reg(struct buffer *b)
{
	return transport_buffer_reg(&transport_rdma, b);
}

static struct ibv_mr *
trdma_buffer_mr(struct buffer *b, char *err, size_t errlen)
{
	int access = IBV_ACCESS_LOCAL_WRITE;
	void **reg = trdma_reg(b);
	struct ibv_mr *mr;
	char hint[256];

	if (*reg != NULL)
		return *reg;
	if (rd.has_mw)
		access |= IBV_ACCESS_MW_BIND;
	mr = ibv_reg_mr(rd.pd, b->base, b->size, access);
	if (mr == NULL) {
		snprintf(err, errlen, "cannot register %zu bytes with %s: %s; "
		    "%s", b->size, rd.name, strerror(errno),
		    probe_memlock_hint(hint, sizeof hint));
		log_err("%s", err);
		return NULL;
	}
	asocd->ctr.registrations++;
	*reg = mr;
	return mr;
}

/* The MR to WRITE from b on rc's QP: the buffer's own in the shared PD,
 * or one registered (once, cached) in the connection's PD. */
static struct ibv_mr *
trdma_conn_mr(struct trdma_conn *rc, struct buffer *b, char *err, size_t errlen)
{
	struct trdma_lmr *l;
	char hint[256];

	if (rc->pd == rd.pd)
		return trdma_buffer_mr(b, err, errlen);
	LIST_FOREACH(l, &rc->lmrs, entry)
		if (l->buf == b)
			return l->mr;
	if ((l = calloc(1, sizeof *l)) == NULL) {
		snprintf(err, errlen, "asocd is out of memory");
		return NULL;
	}
	if ((l->mr = ibv_reg_mr(rc->pd, b->base, b->size,
	    IBV_ACCESS_LOCAL_WRITE)) == NULL) {
		snprintf(err, errlen, "cannot register %zu bytes with %s: %s; "
		    "%s", b->size, rd.name, strerror(errno),
		    probe_memlock_hint(hint, sizeof hint));
		log_err("%s", err);
		free(l);
		return NULL;
	}
	l->buf = b;
	LIST_INSERT_HEAD(&rc->lmrs, l, entry);
	asocd->ctr.registrations++;
	return l->mr;
}

static void
trdma_lmr_free(struct trdma_lmr *l)
{
	LIST_REMOVE(l, entry);
	if (ibv_dereg_mr(l->mr) != 0)
		log_err("deregistering buffer %llu: %s",
		    (unsigned long long)l->buf->id, strerror(errno));
	asocd->ctr.deregistrations++;
	free(l);
}

/* The buffer goes: its registrations in the connections' own PDs, and
 * reg, its registration in the shared one (the table clears the slot). */
static void
trdma_buffer_gone(struct buffer *b, void *reg)
{
	struct trdma_conn *rc;
	struct trdma_lmr *l, *ln;

	LIST_FOREACH(rc, &rd.conns, all_entry)
		for (l = LIST_FIRST(&rc->lmrs); l != NULL; l = ln) {
			ln = LIST_NEXT(l, entry);
			if (l->buf == b)
				trdma_lmr_free(l);
		}
	if (reg == NULL)
		return;
	if (ibv_dereg_mr(reg) != 0)
		log_err("deregistering buffer %llu: %s",
		    (unsigned long long)b->id, strerror(errno));
	asocd->ctr.deregistrations++;
}

/* --- posting --- */

static int
trdma_post_recv(struct trdma_conn *rc, unsigned slot)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)(rc->ring + (size_t)slot * RDMA_MSG_SIZE),
		.length = RDMA_MSG_SIZE,
		.lkey = rc->ring_mr->lkey,
	};
	struct ibv_recv_wr wr = {
		.wr_id = WR_ID(OP_RECV, slot), .sg_list = &sge, .num_sge = 1,
	}, *bad;

	return ibv_post_recv(rc->id->qp, &wr, &bad);
}

static int
trdma_post_send(struct trdma_conn *rc, const uint8_t *msg, size_t len)
{
	unsigned slot = rc->send_free[--rc->nsend_free];
	uint8_t *p = rc->ring + (size_t)(RDMA_RING + slot) * RDMA_MSG_SIZE;
	struct ibv_sge sge = {
		.addr = (uintptr_t)p, .length = (uint32_t)len,
		.lkey = rc->ring_mr->lkey,
	};
	struct ibv_send_wr wr = {
		.wr_id = WR_ID(OP_SEND, slot), .sg_list = &sge,
		.num_sge = len > 0 ? 1 : 0,
		.opcode = IBV_WR_SEND_WITH_IMM,
	}, *bad;
	int signal = rc->send_unsignalled + 1 >= RDMA_SEND_SIGNAL_EVERY ||
	    rc->nsend_free <= RDMA_SEND_SIGNAL_EVERY;

	if (signal)
		wr.send_flags = IBV_SEND_SIGNALED;
	memcpy(p, msg, len);
	wr.imm_data = htonl(rc->to_return);
	if (ibv_post_send(rc->id->qp, &wr, &bad) != 0) {
		rc->send_free[rc->nsend_free++] = slot;
		return -1;
	}
	rc->send_fifo[(rc->fifo_head + rc->fifo_len++) % RDMA_RING] = slot;
	rc->send_unsignalled = signal ? 0 : rc->send_unsignalled + 1;
	rc->to_return = 0;
	rc->credits--;
	rc->sq_used++;
	return 0;
}

/* Every RDMA_SIGNAL_EVERY-th WRITE (and the last of a burst) is
 * signalled; its completion drops the buffer references of the batch. */
static int
trdma_post_write(struct trdma_conn *rc, const struct xfer_chunk *ch,
    int burst_end)
{
	struct buffer *b = ch->buf;
	char err[160];
	struct ibv_mr *mr = trdma_conn_mr(rc, b, err, sizeof err);
	struct ibv_sge sge = {
		.addr = (uintptr_t)ch->src,
		.length = (uint32_t)ch->len, .lkey = mr != NULL ? mr->lkey : 0,
	};
	struct ibv_send_wr wr = {
		.sg_list = &sge, .num_sge = 1, .opcode = IBV_WR_RDMA_WRITE,
	}, *bad;
	int signal = burst_end || rc->batch.n + 1 >= RDMA_SIGNAL_EVERY;

	if (mr == NULL)
		return -1;	/* registered at start_data: cannot happen */

#ifdef ASOC_TEST_HOOKS
	if (rd.fault == TH_FAULT_PAST_RANGE && ch->last &&
	    (size_t)(ch->src - b->base) + ch->len < b->size) {
		log_warn("ASOC_TEST_FAULT: writing one byte past the range");
		sge.length++;
	}
#endif
	wr.wr.rdma.remote_addr = ch->raddr;
	wr.wr.rdma.rkey = ch->rkey;
#ifdef ASOC_TEST_HOOKS
	if (rd.fault == TH_FAULT_FOREIGN) {
		uint64_t a;
		uint32_t k;

		if (testhook_foreign(&a, &k) == 0) {
			log_warn("ASOC_TEST_FAULT: writing into %#llx, rkey "
			    "%#010x, granted to another peer",
			    (unsigned long long)a, k);
			wr.wr.rdma.remote_addr = a;
			wr.wr.rdma.rkey = k;
			sge.length = sge.length > 64 ? 64 : sge.length;
		}
	}
#endif
	if (signal) {
		wr.send_flags = IBV_SEND_SIGNALED;
		wr.wr_id = WR_ID(OP_WRITE, rc->wrec_next);
	}
	if (ibv_post_send(rc->id->qp, &wr, &bad) != 0)
		return -1;
	buffer_ref(b);
	rc->batch.buf[rc->batch.n++] = b;
	rc->sq_used++;
	rc->writes_inflight++;
	if (signal) {
		rc->wrec[rc->wrec_next] = rc->batch;
		rc->wrec_next = (rc->wrec_next + 1) % RDMA_SQ_DEPTH;
		rc->batch.n = 0;
	}
	return 0;
}

static void
trdma_queue(struct trdma_conn *rc, const uint8_t *msg, size_t len)
{
	struct trdma_out *o = malloc(sizeof *o);

	if (o == NULL) {
		peer_conn_lost(rc->c, "out of memory queueing a message");
		return;
	}
	o->len = len;
	memcpy(o->data, msg, len);
	TAILQ_INSERT_TAIL(&rc->outq, o, entry);
}

static int
trdma_sq_room(const struct trdma_conn *rc, unsigned n)
{
	return rc->sq_used + n <= RDMA_SQ_DEPTH;
}

/* x's last WRITE is posted: the WDONE that follows it on the queue pair
 * tells the receiver every byte is in place. */
static void
trdma_queue_wdone(struct trdma_conn *rc, const struct xfer *x)
{
	struct proto_msg m;
	uint8_t buf[RDMA_MSG_SIZE];

	memset(&m, 0, sizeof m);
	m.hdr.type = PT_WDONE;
	m.hdr.id = x->id;
	m.u.wdone.len = x->len;
	trdma_queue(rc, buf, proto_encode(&m, buf, sizeof buf));
}

/* Moves whatever may move: queued control messages while there are
 * credits, then WRITEs within the window, then a credit-only message
 * when many receives are waiting to be announced. */
static void
trdma_pump(struct trdma_conn *rc)
{
	struct conn *c = rc->c;
	struct trdma_out *o;
	struct xfer_chunk ch;
	int progress = 1;

	if (!rc->established || c->dead)
		return;
	while (progress && !c->dead) {
		progress = 0;
		while ((o = TAILQ_FIRST(&rc->outq)) != NULL &&
		    rc->credits >= 2 && rc->nsend_free > 0 &&
		    trdma_sq_room(rc, 1)) {
			if (trdma_post_send(rc, o->data, o->len) < 0) {
				peer_conn_lost(c, "ibv_post_send: %s",
				    strerror(errno));
				return;
			}
			TAILQ_REMOVE(&rc->outq, o, entry);
			free(o);
			progress = 1;
		}
		while (rc->writes_inflight < RDMA_WRITE_WINDOW &&
		    trdma_sq_room(rc, 1) && xfer_next_chunk(c, &ch)) {
			int burst_end = ch.last || ch.more ||
			    rc->writes_inflight + 1 >= RDMA_WRITE_WINDOW ||
			    !trdma_sq_room(rc, 2);

			if (trdma_post_write(rc, &ch, burst_end) < 0) {
				peer_conn_lost(c, "ibv_post_send (WRITE): %s",
				    strerror(errno));
				return;
			}
			xfer_chunk_posted(&ch);
			progress = 1;
			if (ch.last)
				trdma_queue_wdone(rc, ch.x);
		}
		if (TAILQ_EMPTY(&rc->outq) && rc->to_return >= RDMA_RING / 2 &&
		    rc->credits >= 1 && rc->nsend_free > 0 &&
		    trdma_sq_room(rc, 1)) {
			if (trdma_post_send(rc, NULL, 0) < 0) {
				peer_conn_lost(c, "ibv_post_send: %s",
				    strerror(errno));
				return;
			}
		}
	}
}

/* --- the transport table --- */

static void
trdma_send_ctl(struct conn *c, struct proto_msg *m)
{
	struct trdma_conn *rc = c->priv;
	uint8_t buf[RDMA_MSG_SIZE];
	size_t n, pay;

	if (c->dead)
		return;
	pay = m->hdr.type == PT_RTS && (m->u.rts.flags & PROTO_RTS_F_EAGER) ?
	    m->payload_len : 0;
	if ((n = proto_encode(m, buf, sizeof buf)) == 0 ||
	    n + pay > sizeof buf) {
		peer_conn_lost(c, "cannot encode %s", proto_type_name(m->hdr.type));
		return;
	}
	/* An eager RTS: its message follows the fixed part in the same
	 * SEND (xfer.c keeps it within trdma_eager_max). */
	if (pay > 0) {
		memcpy(buf + n, m->payload, pay);
		n += pay;
	}
	trdma_queue(rc, buf, n);
	trdma_pump(rc);
}

struct trdma_grant {
	struct ibv_mw *mw;
	struct ibv_mr *mr;	/* without memory windows: just the range */
	struct buffer *buf;	/* held until revoked: a cancelled receive's
				 * memory stays while its fence lasts */
};

static int
trdma_grant(struct conn *c, struct xfer *x, struct req *r, uint64_t *addr,
    uint32_t *rkey, char *err, size_t errlen)
{
	struct trdma_conn *rc = c->priv;
	struct trdma_grant *g;
	uint8_t *base = r->buf->base + r->off;

	if ((g = calloc(1, sizeof *g)) == NULL) {
		snprintf(err, errlen, "asocd is out of memory");
		return -1;
	}
	if (!rd.has_mw) {
		/* Fallback: a region of exactly the range, gone with the
		 * transfer (costlier than a window, as tightly scoped). */
		g->mr = ibv_reg_mr(rc->pd, base, x->len,
		    IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE);
		if (g->mr == NULL) {
			char hint[256];

			snprintf(err, errlen, "cannot register the receive "
			    "range: %s; %s", strerror(errno),
			    probe_memlock_hint(hint, sizeof hint));
			free(g);
			return -1;
		}
		*rkey = g->mr->rkey;
	} else {
		struct ibv_send_wr wr, *bad;
		uint32_t key;
		uint8_t rnd;

		if (trdma_buffer_mr(r->buf, err, errlen) == NULL) {
			free(g);
			return -1;
		}
		if (!trdma_sq_room(rc, 1) ||
		    (g->mw = ibv_alloc_mw(rd.pd, IBV_MW_TYPE_2)) == NULL) {
			snprintf(err, errlen, "cannot allocate a memory "
			    "window: %s", strerror(errno ? errno : EAGAIN));
			free(g);
			return -1;
		}
		/* A fresh 8-bit key each time: an rkey from an earlier
		 * transfer names nothing any more. */
		auth_random(&rnd, 1);
		key = (g->mw->rkey & ~0xffu) | rnd;
		if (key == g->mw->rkey)
			key = ibv_inc_rkey(key);
		memset(&wr, 0, sizeof wr);
		wr.wr_id = WR_ID(OP_BIND, 0);
		wr.opcode = IBV_WR_BIND_MW;
		wr.send_flags = IBV_SEND_SIGNALED;
		wr.bind_mw.mw = g->mw;
		wr.bind_mw.rkey = key;
		wr.bind_mw.bind_info.mr = *trdma_reg(r->buf);
		wr.bind_mw.bind_info.addr = (uintptr_t)base;
		wr.bind_mw.bind_info.length = x->len;
		wr.bind_mw.bind_info.mw_access_flags = IBV_ACCESS_REMOTE_WRITE;
		if (ibv_post_send(rc->id->qp, &wr, &bad) != 0) {
			snprintf(err, errlen, "cannot bind a memory window: %s",
			    strerror(errno));
			ibv_dealloc_mw(g->mw);
			free(g);
			return -1;
		}
		rc->sq_used++;
		*rkey = key;
	}
	*addr = (uintptr_t)base;
	g->buf = r->buf;
	buffer_ref(g->buf);
	x->tp_priv = g;
	log_debug("%s: granted %llu bytes at %#llx, rkey %#010x (%s)",
	    c->name, (unsigned long long)x->len, (unsigned long long)*addr,
	    *rkey, g->mr != NULL ? "region" : "window");
	return 0;
}

#ifdef ASOC_TEST_HOOKS
/* TH_FAULT_AFTER_DONE: one byte more into a range whose transfer has
 * completed; the receiver revoked it before ACKing, so this must fail. */
static void
trdma_probe_after_done(struct conn *c, struct xfer *x)
{
	struct trdma_conn *rc = c->priv;
	uint8_t *probe = rc->ring + (size_t)2 * RDMA_RING * RDMA_MSG_SIZE;
	struct ibv_sge sge = {
		.addr = (uintptr_t)probe, .length = 1,
		.lkey = rc->ring_mr->lkey,
	};
	struct ibv_send_wr wr = {
		.wr_id = WR_ID(OP_PROBE, 0), .sg_list = &sge, .num_sge = 1,
		.opcode = IBV_WR_RDMA_WRITE, .send_flags = IBV_SEND_SIGNALED,
	}, *bad;

	if (rc == NULL || !rc->established || !trdma_sq_room(rc, 1))
		return;
	memset(probe, 0xee, RDMA_PROBE_LEN);
	wr.wr.rdma.remote_addr = x->raddr;
	wr.wr.rdma.rkey = x->rkey;
	log_warn("ASOC_TEST_FAULT: writing into transfer %llu after its ACK",
	    (unsigned long long)x->id);
	if (ibv_post_send(rc->id->qp, &wr, &bad) == 0)
		rc->sq_used++;
}
#endif

static void
trdma_release(struct conn *c, struct xfer *x)
{
	struct trdma_grant *g = x->tp_priv;

#ifdef ASOC_TEST_HOOKS
	/* Only xfer_free releases a sender, once. */
	if (rd.fault == TH_FAULT_AFTER_DONE && x->role == XFER_SEND &&
	    x->state == XS_WAIT_ACK && x->len > 0 && x->req == NULL)
		trdma_probe_after_done(c, x);
#endif
	if (g == NULL)
		return;
	log_debug("%s: revoking the range of transfer %llu (key %#010x)",
	    c->name, (unsigned long long)x->id, g->mr != NULL ? g->mr->rkey :
	    g->mw->rkey);
	/* Deallocating the window invalidates it at once: from here on a
	 * WRITE naming its rkey fails with a remote access error. */
	if (g->mw != NULL && ibv_dealloc_mw(g->mw) != 0)
		log_err("cannot deallocate a memory window: %s",
		    strerror(errno));
	if (g->mr != NULL && ibv_dereg_mr(g->mr) != 0)
		log_err("cannot deregister a receive range: %s",
		    strerror(errno));
	buffer_unref(g->buf);
	free(g);
	x->tp_priv = NULL;
}

static void
trdma_start_data(struct conn *c, struct xfer *x)
{
	char err[PROTO_MSG_MAX];

	/* x is queued (xfer_on_cts): registered here, so that its WRITEs
	 * never fail for want of a local key. */
	if (trdma_conn_mr(c->priv, x->req->buf, err, sizeof err) == NULL) {
		xfer_give_up(x, PS_ENOMEM, err);
		return;
	}
	trdma_pump(c->priv);
}

/* --- completions --- */

static const char *
trdma_op_name(enum trdma_op op)
{
	switch (op) {
	case OP_RECV:
		return "RECV";
	case OP_SEND:
		return "SEND";
	case OP_WRITE:
		return "RDMA WRITE";
	case OP_BIND:
		return "memory window bind";
	case OP_PROBE:
		return "RDMA WRITE (fault injection)";
	}
	return "work request";
}

/* Gives back what a completed (or flushed) work request held. */
static void
trdma_reclaim(struct trdma_conn *rc, const struct ibv_wc *wc)
{
	unsigned i = WR_IDX(wc->wr_id);
	struct trdma_wrec *w;

	switch (WR_OP(wc->wr_id)) {
	case OP_SEND:
		/* i and the unsignalled SENDs posted before it. */
		while (rc->fifo_len > 0) {
			unsigned slot = rc->send_fifo[rc->fifo_head];

			rc->fifo_head = (rc->fifo_head + 1) % RDMA_RING;
			rc->fifo_len--;
			rc->send_free[rc->nsend_free++] = slot;
			rc->sq_used--;
			if (slot == i)
				break;
		}
		break;
	case OP_WRITE:
		w = &rc->wrec[i];
		rc->sq_used -= w->n;
		rc->writes_inflight -= w->n;
		while (w->n > 0)
			buffer_unref(w->buf[--w->n]);
		break;
	case OP_BIND:
	case OP_PROBE:
		rc->sq_used--;
		break;
	case OP_RECV:
		break;
	}
}

static void
trdma_on_recv(struct trdma_conn *rc, const struct ibv_wc *wc)
{
	struct conn *c = rc->c;
	unsigned slot = WR_IDX(wc->wr_id);
	struct proto_msg m;
	enum proto_err err;

	if (wc->wc_flags & IBV_WC_WITH_IMM)
		rc->credits += ntohl(wc->imm_data);
	if (rc->credits > RDMA_RING) {
		peer_conn_lost(c, "peer returned more credits than it has");
		return;
	}
	if (wc->byte_len > 0) {
		err = proto_decode(rc->ring + (size_t)slot * RDMA_MSG_SIZE,
		    wc->byte_len, PROTO_CH_PEER, &m);
		if (err == PROTO_EVERSION) {
			peer_conn_bad_version(c, m.hdr.version);
			return;
		}
		if (err != PROTO_OK || m.hdr.type == PT_DATA) {
			peer_conn_lost(c, "bad message: %s", err != PROTO_OK ?
			    proto_strerror(err) : "DATA frame over RDMA");
			return;
		}
		peer_conn_msg(c, &m);
		if (c->dead)
			return;
	}
	if (trdma_post_recv(rc, slot) != 0) {
		peer_conn_lost(c, "ibv_post_recv: %s", strerror(errno));
		return;
	}
	rc->to_return++;
}

/* Handles rc's completions until its CQ is empty or the connection dies;
 * returns how many it took. */
static int
trdma_poll(struct trdma_conn *rc)
{
	struct ibv_wc wc[16];
	int n, i, total = 0;

	while (!rc->c->dead && (n = ibv_poll_cq(rc->cq, 16, wc)) > 0) {
		total += n;
		for (i = 0; i < n; i++) {
			trdma_reclaim(rc, &wc[i]);
			if (rc->c->dead)
				continue;
			if (wc[i].status != IBV_WC_SUCCESS) {
				/* Flushes follow the first real error; only
				 * that one is worth a line. */
				if (wc[i].status != IBV_WC_WR_FLUSH_ERR)
					peer_conn_lost(rc->c, "%s failed: %s",
					    trdma_op_name(WR_OP(wc[i].wr_id)),
					    ibv_wc_status_str(wc[i].status));
				else
					peer_conn_lost(rc->c, "queue pair "
					    "flushed");
				continue;
			}
			if (WR_OP(wc[i].wr_id) == OP_RECV)
				trdma_on_recv(rc, &wc[i]);
		}
		trdma_pump(rc);
	}
	return total;
}

/* Whether rc's CQ may still be polled: not closed (its conn may be gone
 * then), not dead, and set up. */
static int
trdma_live(const struct trdma_conn *rc)
{
	return !rc->closed && rc->cq != NULL && !rc->c->dead;
}

/* Arms rc's CQ, then polls it: what completed before the arm wakes
 * nobody.  Returns what the poll took. */
static int
trdma_arm(struct trdma_conn *rc)
{
	if (ibv_req_notify_cq(rc->cq, 0) != 0) {
		peer_conn_lost(rc->c, "cannot arm the completion queue");
		return 0;
	}
	rc->armed = 1;
	rc->cq_arms++;
	return trdma_poll(rc);
}

static void
trdma_on_cq(evutil_socket_t fd, short what, void *arg)
{
	struct ibv_cq *cq;
	void *ctx;

	(void)fd;
	(void)what;
	(void)arg;
	while (ibv_get_cq_event(rd.cc, &cq, &ctx) == 0) {
		struct trdma_conn *rc = ctx;

		/* Every event read is acked at once, whoever polls the CQ:
		 * ibv_destroy_cq waits for the count to match. */
		ibv_ack_cq_events(cq, 1);
		rc->armed = 0;	/* an event disarms the CQ */
		rc->cq_events++;
		if (!trdma_live(rc))
			continue;
		rc->wc_chan += (unsigned long)trdma_poll(rc);
		/* Busy polling: the spin that follows this turn polls the
		 * CQ, and arms it only before the loop sleeps
		 * (trdma_spin_arm), one system call per spin instead of
		 * one per completion. */
		if (busypoll_spinning() || !trdma_live(rc))
			continue;
		/* Poll, re-arm, poll again: nothing slips between. */
		rc->wc_chan += (unsigned long)trdma_arm(rc);
	}
}

/* busypoll's source: every live connection's CQ, polled on each turn of
 * the spin.  A connection closed by what a poll handled stays in
 * rd.conns until the loop frees it (asocd_later), so the walk stays
 * valid; a closed one is skipped. */
static int
trdma_spin_poll(void)
{
	struct trdma_conn *rc;
	int n, total = 0;

	LIST_FOREACH(rc, &rd.conns, all_entry) {
		if (!trdma_live(rc))
			continue;
		n = trdma_poll(rc);
		rc->wc_spin += (unsigned long)n;
		total += n;
	}
	return total;
}

/* ... and before the loop sleeps: every CQ disarmed by an event is armed
 * again (and polled once more). */
static int
trdma_spin_arm(void)
{
	struct trdma_conn *rc;
	int n, total = 0;

	LIST_FOREACH(rc, &rd.conns, all_entry) {
		if (!trdma_live(rc) || rc->armed)
			continue;
		n = trdma_arm(rc);
		rc->wc_spin += (unsigned long)n;
		total += n;
	}
	return total;
}

static const struct busypoll_source trdma_spin = {
	"rdma completion queues", trdma_spin_poll, trdma_spin_arm
};

/* --- connection set-up --- */

/*
 * Until the handshake has proved the peer, its queue pair may not write
 * into this node at all: rdma_cm opens RC queue pairs to remote writes,
 * and rdma_accept/rdma_connect set that up again on the way to RTS, so
 * access is taken away once the QP is there (RTS to RTS) and given back
 * by trdma_authenticated.  Logs the starting PSNs, which the kernel's CM
 * draws at random, so the lab can see they differ between connections.
 */
static int
trdma_qp_lock(struct trdma_conn *rc, char *err, size_t errlen)
{
	struct ibv_qp_attr qa;
	struct ibv_qp_init_attr qi;

	memset(&qa, 0, sizeof qa);
	qa.qp_access_flags = 0;
	if (ibv_modify_qp(rc->id->qp, &qa, IBV_QP_ACCESS_FLAGS) != 0) {
		snprintf(err, errlen, "cannot close the queue pair to remote "
		    "writes until the handshake: %s", strerror(errno));
		return -1;
	}
	if (ibv_query_qp(rc->id->qp, &qa, IBV_QP_SQ_PSN | IBV_QP_RQ_PSN,
	    &qi) == 0)
		log_debug("rdma: QP %u, send PSN %06x, receive PSN %06x",
		    rc->id->qp->qp_num, qa.sq_psn, qa.rq_psn);
	return 0;
}

static int
trdma_setup_qp(struct trdma_conn *rc, char *err, size_t errlen)
{
	struct ibv_qp_init_attr qa;
	size_t ringlen = (size_t)2 * RDMA_RING * RDMA_MSG_SIZE +
	    RDMA_PROBE_LEN;
	unsigned i;

	if (rc->id->verbs != rd.ctx) {
		snprintf(err, errlen, "the route uses another RDMA device than "
		    "%s", rd.name);
		return -1;
	}
	/* Regions are named by rkeys that any QP of their protection domain
	 * may use: each connection gets a domain of its own, so a receive
	 * granted to one peer cannot be written by another.  (Type-2
	 * windows are bound to one QP already.) */
	rc->pd = rd.has_mw ? rd.pd : ibv_alloc_pd(rd.ctx);
	if (rc->pd == NULL) {
		snprintf(err, errlen, "cannot allocate a protection domain: %s",
		    strerror(errno));
		return -1;
	}
	rc->cq = ibv_create_cq(rd.ctx, RDMA_SQ_DEPTH + RDMA_RING, rc, rd.cc,
	    0);
	if (rc->cq == NULL || ibv_req_notify_cq(rc->cq, 0) != 0) {
		snprintf(err, errlen, "cannot create a completion queue: %s",
		    strerror(errno));
		return -1;
	}
	rc->armed = 1;
	rc->cq_arms++;
	memset(&qa, 0, sizeof qa);
	qa.send_cq = rc->cq;
	qa.recv_cq = rc->cq;
	qa.qp_type = IBV_QPT_RC;
	qa.cap.max_send_wr = RDMA_SQ_DEPTH;
	qa.cap.max_recv_wr = RDMA_RING;
	qa.cap.max_send_sge = 1;
	qa.cap.max_recv_sge = 1;
	if (rdma_create_qp(rc->id, rc->pd, &qa) != 0) {
		snprintf(err, errlen, "cannot create a queue pair: %s",
		    strerror(errno));
		return -1;
	}
	if ((rc->ring = calloc(1, ringlen)) == NULL ||
	    (rc->ring_mr = ibv_reg_mr(rc->pd, rc->ring, ringlen,
	    IBV_ACCESS_LOCAL_WRITE)) == NULL) {
		char hint[256];

		snprintf(err, errlen, "cannot register the control ring: %s; "
		    "%s", strerror(errno), probe_memlock_hint(hint,
		    sizeof hint));
		return -1;
	}
	for (i = 0; i < RDMA_RING; i++) {
		rc->send_free[rc->nsend_free++] = i;
		if (trdma_post_recv(rc, i) != 0) {
			snprintf(err, errlen, "ibv_post_recv: %s",
			    strerror(errno));
			return -1;
		}
	}
	rc->credits = RDMA_RING;
	return 0;
}

static struct trdma_conn *
trdma_conn_new(struct conn *c, struct rdma_cm_id *id)
{
	struct trdma_conn *rc = calloc(1, sizeof *rc);

	if (rc == NULL)
		return NULL;
	rc->c = c;
	rc->id = id;
	TAILQ_INIT(&rc->outq);
	LIST_INIT(&rc->lmrs);
	LIST_INSERT_HEAD(&rd.conns, rc, all_entry);
	c->priv = rc;
	id->context = c;
	return rc;
}

static void
trdma_free_cb(evutil_socket_t fd, short what, void *arg)
{
	struct trdma_conn *rc = arg;
	struct ibv_wc wc;
	struct trdma_out *o;
	unsigned i;

	(void)fd;
	(void)what;
	if (rc->cq != NULL)
		log_debug("rdma: connection freed: %lu completions taken by "
		    "the busy poll, %lu through the completion channel "
		    "(%lu events, %lu arms)", rc->wc_spin, rc->wc_chan,
		    rc->cq_events, rc->cq_arms);
	if (rc->id != NULL && rc->id->qp != NULL)
		rdma_destroy_qp(rc->id);
	if (rc->cq != NULL) {
		while (ibv_poll_cq(rc->cq, 1, &wc) > 0)
			trdma_reclaim(rc, &wc);
		ibv_destroy_cq(rc->cq);
	}
	/* WRITEs that will never complete now: drop what they held. */
	for (i = 0; i < RDMA_SQ_DEPTH; i++)
		while (rc->wrec[i].n > 0)
			buffer_unref(rc->wrec[i].buf[--rc->wrec[i].n]);
	while (rc->batch.n > 0)
		buffer_unref(rc->batch.buf[--rc->batch.n]);
	while ((o = TAILQ_FIRST(&rc->outq)) != NULL) {
		TAILQ_REMOVE(&rc->outq, o, entry);
		free(o);
	}
	if (rc->ring_mr != NULL)
		ibv_dereg_mr(rc->ring_mr);
	free(rc->ring);
	while (!LIST_EMPTY(&rc->lmrs))
		trdma_lmr_free(LIST_FIRST(&rc->lmrs));
	if (rc->pd != NULL && rc->pd != rd.pd && ibv_dealloc_pd(rc->pd) != 0)
		log_err("cannot free the protection domain of an RDMA "
		    "connection: %s", strerror(errno));
	LIST_REMOVE(rc, all_entry);
	if (rc->id != NULL)
		rdma_destroy_id(rc->id);
	free(rc);
}

static void
trdma_unpend(struct trdma_conn *rc)
{
	if (!rc->pending)
		return;
	TAILQ_REMOVE(&rd.pending, rc, pending_entry);
	rc->pending = 0;
	rd.npending--;
}

static void
trdma_close(struct conn *c)
{
	struct trdma_conn *rc = c->priv;

	if (rc != NULL) {
		rc->closed = 1;
		trdma_unpend(rc);
		if (rc->id != NULL) {
			rc->id->context = NULL;	/* its late events: ignored */
			if (rc->established)
				rdma_disconnect(rc->id);
		}
		rc->established = 0;
		/* Destroying the id waits for its events to be acked, and
		 * callers up the stack still use rc: do it from the loop. */
		asocd_later(trdma_free_cb, rc, "an RDMA connection");
		c->priv = NULL;
	}
	conn_free_later(c);
}

static struct conn *
rdmatp_connect(struct peer *p, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	struct rdma_cm_id *id;
	struct conn *c;
	socklen_t len;

	if (netaddr_resolve(p->host, p->port, &ss, &len, err, errlen) < 0)
		return NULL;
	if (rdma_create_id(rd.cm, &id, NULL, RDMA_PS_TCP) != 0) {
		snprintf(err, errlen, "rdma_create_id: %s", strerror(errno));
		return NULL;
	}
	if ((c = conn_new(&transport_rdma, p, 1)) == NULL ||
	    trdma_conn_new(c, id) == NULL) {
		if (c != NULL)
			conn_free_later(c);
		rdma_destroy_id(id);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(c->name, sizeof c->name, "rank %u (%s:%u)", p->rank, p->host,
	    p->port);
	if (rdma_resolve_addr(id, NULL, (struct sockaddr *)&ss,
	    RDMA_CM_TIMEOUT_MS) != 0) {
		snprintf(err, errlen, "rdma_resolve_addr: %s", strerror(errno));
		c->dead = 1;
		trdma_close(c);
		return NULL;
	}
	return c;
}

/* Same host: the address without the port. */
static int
trdma_same_source(const struct sockaddr_storage *a, const struct sockaddr *b)
{
	if (a->ss_family != b->sa_family)
		return 0;
	if (b->sa_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		    ((const struct sockaddr_in *)(const void *)b)->sin_addr.s_addr;
	if (b->sa_family == AF_INET6)
		return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
		    &((const struct sockaddr_in6 *)(const void *)b)->sin6_addr,
		    sizeof(struct in6_addr)) == 0;
	return 0;
}

/* Refusals come in floods: one line a second, counting the rest. */
static void
trdma_refused(const char *from, const char *why)
{
	time_t now = time(NULL);

	if (now == rd.refused_at) {
		rd.refused_quiet++;
		return;
	}
	if (rd.refused_quiet > 0)
		log_warn("refused RDMA connection from %s: %s (%u more "
		    "refusals not logged before this one)", from, why,
		    rd.refused_quiet);
	else
		log_warn("refused RDMA connection from %s: %s", from, why);
	rd.refused_at = now;
	rd.refused_quiet = 0;
}

/*
 * Room for one more connection whose handshake has not proved it: at most
 * RDMA_PENDING_PER_SOURCE from one address (a new one beyond is refused:
 * that address's own are waiting), and RDMA_PENDING_MAX in all (the
 * oldest goes: many addresses at once cannot starve newcomers forever).
 */
static int
trdma_pending_room(const struct sockaddr *sa, const char *from)
{
	struct trdma_conn *rc;
	unsigned n = 0;

	TAILQ_FOREACH(rc, &rd.pending, pending_entry)
		if (trdma_same_source(&rc->src, sa))
			n++;
	if (n >= RDMA_PENDING_PER_SOURCE) {
		trdma_refused(from, "too many of its connections are waiting "
		    "for their handshake");
		return 0;
	}
	if (rd.npending >= RDMA_PENDING_MAX) {
		rc = TAILQ_FIRST(&rd.pending);
		trdma_unpend(rc);
		peer_conn_lost(rc->c, "dropped: %u RDMA connections are "
		    "waiting for their handshake", RDMA_PENDING_MAX);
	}
	return 1;
}

static void
trdma_on_connect_request(struct rdma_cm_id *id, const void *pdata,
    uint8_t plen)
{
	struct rdma_conn_param param;
	struct trdma_priv priv;
	struct trdma_conn *rc;
	struct sockaddr *sa = rdma_get_peer_addr(id);
	struct conn *c;
	char from[80], err[160];

	netaddr_format(sa, from, sizeof from);
	if (plen < sizeof priv || (memcpy(&priv, pdata, sizeof priv),
	    ntohl(priv.magic) != RDMA_PRIV_MAGIC)) {
		trdma_refused(from, "not an asocd");
		rdma_reject(id, NULL, 0);
		rdma_destroy_id(id);
		return;
	}
	if (!trdma_pending_room(sa, from)) {
		rdma_reject(id, NULL, 0);
		rdma_destroy_id(id);
		return;
	}
	if ((c = conn_new(&transport_rdma, NULL, 0)) == NULL ||
	    (rc = trdma_conn_new(c, id)) == NULL) {
		if (c != NULL)
			conn_free_later(c);
		rdma_reject(id, NULL, 0);
		rdma_destroy_id(id);
		return;
	}
	memcpy(&rc->src, sa, sa->sa_family == AF_INET6 ?
	    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
	TAILQ_INSERT_TAIL(&rd.pending, rc, pending_entry);
	rc->pending = 1;
	rd.npending++;
	if (trdma_setup_qp(rc, err, sizeof err) < 0) {
		log_warn("refused RDMA connection from %s: %s", from, err);
		rdma_reject(id, NULL, 0);
		c->dead = 1;
		trdma_close(c);
		return;
	}
	memset(&param, 0, sizeof param);
	param.responder_resources = 1;
	param.initiator_depth = 1;
	param.rnr_retry_count = 7;
	if (rdma_accept(id, &param) != 0) {
		log_warn("rdma_accept from %s: %s", from, strerror(errno));
		c->dead = 1;
		trdma_close(c);
		return;
	}
	if (trdma_qp_lock(rc, err, sizeof err) < 0) {
		log_warn("refused RDMA connection from %s: %s", from, err);
		c->dead = 1;
		trdma_close(c);
		return;
	}
	peer_conn_accepted(c, from);
}

static void
trdma_on_cm(evutil_socket_t fd, short what, void *arg)
{
	struct rdma_cm_event *ev;
	struct rdma_conn_param param;
	struct trdma_priv priv;
	enum rdma_cm_event_type type;
	struct rdma_cm_id *id;
	struct trdma_conn *rc;
	struct conn *c;
	uint8_t pdata[64], plen;
	char err[160];
	int status;

	(void)fd;
	(void)what;
	(void)arg;
	while (rdma_get_cm_event(rd.cm, &ev) == 0) {
		/* Copy what we need and ack at once: destroying an id waits
		 * for its events to be acked. */
		type = ev->event;
		id = ev->id;
		status = ev->status;
		plen = ev->param.conn.private_data_len;
		if (plen > sizeof pdata)
			plen = sizeof pdata;
		if (plen > 0)
			memcpy(pdata, ev->param.conn.private_data, plen);
		rdma_ack_cm_event(ev);

		if (type == RDMA_CM_EVENT_CONNECT_REQUEST) {
			trdma_on_connect_request(id, pdata, plen);
			continue;
		}
		if ((c = id->context) == NULL || c->dead)
			continue;
		rc = c->priv;
		switch (type) {
		case RDMA_CM_EVENT_ADDR_RESOLVED:
			if (rdma_resolve_route(id, RDMA_CM_TIMEOUT_MS) != 0)
				peer_conn_lost(c, "rdma_resolve_route: %s",
				    strerror(errno));
			break;
		case RDMA_CM_EVENT_ROUTE_RESOLVED:
			if (trdma_setup_qp(rc, err, sizeof err) < 0) {
				peer_conn_lost(c, "%s", err);
				break;
			}
			priv.magic = htonl(RDMA_PRIV_MAGIC);
			priv.version = htons(PROTO_VERSION);
			priv.rank = htons((uint16_t)asocd->rank);
			memset(&param, 0, sizeof param);
			param.private_data = &priv;
			param.private_data_len = sizeof priv;
			param.responder_resources = 1;
			param.initiator_depth = 1;
			param.retry_count = 7;
			param.rnr_retry_count = 7;
			if (rdma_connect(id, &param) != 0)
				peer_conn_lost(c, "rdma_connect: %s",
				    strerror(errno));
			break;
		case RDMA_CM_EVENT_ESTABLISHED:
			rc->established = 1;
			if (c->outgoing) {
				if (trdma_qp_lock(rc, err, sizeof err) < 0) {
					peer_conn_lost(c, "%s", err);
					break;
				}
				peer_conn_opened(c);
			}
			trdma_pump(rc);
			break;
		case RDMA_CM_EVENT_DISCONNECTED:
			rc->established = 0;
			peer_conn_lost(c, "disconnected");
			break;
		case RDMA_CM_EVENT_ADDR_ERROR:
		case RDMA_CM_EVENT_ROUTE_ERROR:
		case RDMA_CM_EVENT_CONNECT_ERROR:
		case RDMA_CM_EVENT_UNREACHABLE:
		case RDMA_CM_EVENT_REJECTED:
		case RDMA_CM_EVENT_DEVICE_REMOVAL:
			peer_conn_lost(c, "%s (status %d)", rdma_event_str(type),
			    status);
			break;
		default:
			break;
		}
	}
}

/* --- listening, and finding the device --- */

/* How a receive range is exposed: see probe_rdma_scope. */
static int
trdma_choose_scope(const struct ibv_device_attr *da)
{
	const char *why;
	int mw = probe_rdma_scope(da, asocd->conf->rdma_scope, &why);

	if (why != NULL)
		log_info("%s: %s", rd.name, why);
	return mw;
}

static int
rdmatp_listen(char *err, size_t errlen)
{
	static int registered_spin;
	struct rdma_probe pr;
	uint16_t port = asocd->peers[asocd->rank].port;

	if ((rd.cm = rdma_create_event_channel()) == NULL) {
		snprintf(err, errlen, "no RDMA: cannot open the RDMA CM (%s); "
		    "is rdma_ucm loaded?", strerror(errno));
		return -1;
	}
	if (probe_rdma_bind(rd.cm, asocd->listen_host, port,
	    asocd->conf->interface, &rd.listen_id, &pr, err, errlen) < 0)
		goto fail;
	rd.ctx = rd.listen_id->verbs;
	snprintf(rd.name, sizeof rd.name, "%s", pr.name);
	rd.has_mw = trdma_choose_scope(&pr.da);
	if ((rd.pd = ibv_alloc_pd(rd.ctx)) == NULL ||
	    (rd.cc = ibv_create_comp_channel(rd.ctx)) == NULL ||
	    trdma_nonblock(rd.cc->fd) < 0 || trdma_nonblock(rd.cm->fd) < 0) {
		snprintf(err, errlen, "cannot set up %s: %s", rd.name,
		    strerror(errno));
		goto fail;
	}
	if (rdma_listen(rd.listen_id, 512) != 0) {
		snprintf(err, errlen, "cannot listen for RDMA on %s:%u: %s",
		    asocd->listen_host, port, strerror(errno));
		goto fail;
	}
	rd.cm_ev = event_new(asocd->base, rd.cm->fd, EV_READ | EV_PERSIST,
	    trdma_on_cm, NULL);
	rd.cc_ev = event_new(asocd->base, rd.cc->fd, EV_READ | EV_PERSIST,
	    trdma_on_cq, NULL);
	if (rd.cm_ev == NULL || rd.cc_ev == NULL ||
	    event_add(rd.cm_ev, NULL) < 0 || event_add(rd.cc_ev, NULL) < 0) {
		snprintf(err, errlen, "cannot watch the RDMA channels");
		goto fail;
	}
	if (!registered_spin) {
		if (busypoll_add(&trdma_spin) < 0) {
			snprintf(err, errlen, "cannot busy-poll the RDMA "
			    "completion queues: too many sources");
			goto fail;
		}
		registered_spin = 1;
	}
	srandom((unsigned)asocd_next_id());
#ifdef ASOC_TEST_HOOKS
	rd.fault = testhook_fault();
#endif
	log_info("listening for peers on %s:%u (rdma, %s port %u, %s)",
	    asocd->listen_host, port, rd.name, rd.listen_id->port_num,
	    rd.has_mw ? "receives exposed by type-2 memory windows" :
	    "receives exposed by per-transfer regions");
	if (tls_enabled())
		log_warn("TLS covers TCP connections only: traffic to peers "
		    "reached over RDMA is not encrypted (--transport tcp "
		    "encrypts everything)");
	trdma_check_memlock();
	return 0;
fail:
	trdma_stop_all();
	return -1;
}

/* Exit: the device, the channels and the listener. */
static void
trdma_stop_all(void)
{
	if (rd.cm_ev != NULL)
		event_free(rd.cm_ev);
	if (rd.cc_ev != NULL)
		event_free(rd.cc_ev);
	rd.cm_ev = rd.cc_ev = NULL;
	if (rd.listen_id != NULL)
		rdma_destroy_id(rd.listen_id);
	rd.listen_id = NULL;
	if (rd.cc != NULL)
		ibv_destroy_comp_channel(rd.cc);
	rd.cc = NULL;
	if (rd.pd != NULL)
		ibv_dealloc_pd(rd.pd);
	rd.pd = NULL;
	if (rd.cm != NULL)
		rdma_destroy_event_channel(rd.cm);
	rd.cm = NULL;
	rd.ctx = NULL;
}

static void
trdma_stop_listen(void)
{
	/* New connections stop; those up keep their QPs until they end. */
	if (rd.listen_id != NULL) {
		rdma_destroy_id(rd.listen_id);
		rd.listen_id = NULL;
	}
}

/* The largest message an RTS carries on c: what a control slot holds.
 * A received eager RTS goes up (trdma_on_recv) with its payload in the
 * receive slot, valid until the slot is posted again after the call. */
static uint32_t
trdma_eager_max(const struct conn *c)
{
	(void)c;
	return RDMA_EAGER_MAX;
}

/* The handshake proved the peer: from now on it may write into what we
 * grant it (each grant still names one range, see trdma_grant). */
static void
trdma_authenticated(struct conn *c)
{
	struct trdma_conn *rc = c->priv;
	struct ibv_qp_attr qa;

	trdma_unpend(rc);
	memset(&qa, 0, sizeof qa);
	qa.qp_access_flags = IBV_ACCESS_REMOTE_WRITE;
	if (ibv_modify_qp(rc->id->qp, &qa, IBV_QP_ACCESS_FLAGS) != 0)
		peer_conn_lost(c, "cannot open the queue pair to remote "
		    "writes: %s", strerror(errno));
}

const struct transport transport_rdma = {
	.name = "rdma",
	.title = "RDMA",
	.flags = TRANSPORT_ONE_SIDED,	/* WRITEs into what grant exposed */
	.listen = rdmatp_listen,
	.stop_listen = trdma_stop_listen,
	.available = trdma_available,
	.shutdown = trdma_stop_all,
	.connect = rdmatp_connect,
	.send_ctl = trdma_send_ctl,
	.grant = trdma_grant,
	.start_data = trdma_start_data,
	.release = trdma_release,
	.authenticated = trdma_authenticated,
	.close = trdma_close,
	.buffer_gone = trdma_buffer_gone,
	.eager_max = trdma_eager_max,
};
