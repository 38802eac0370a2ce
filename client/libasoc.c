/*
 * libasoc.c: the client library of ASoc (see asoc.h).
 *
 * A session is one SOCK_SEQPACKET connection to the node's asocd, so every
 * recv() is one whole message.  The library starts no threads: whoever
 * waits reads the socket, and each completion that arrives is stored on
 * its request (found by id) until its owner asks for it.  When the
 * connection breaks, every outstanding request completes with the
 * session's error, so nothing waits forever on a dead daemon.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE		/* memfd_create, F_ADD_SEALS */
#endif

#include <sys/types.h>
#include <sys/mman.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "asoc.h"
#include "libasoc-int.h"
#include "proto.h"
#include "spin_pause.h"

#define ASOC_ERR_MAX		256
#define ASOC_PATH_MAX		256
#define ASOC_REQ_BUCKETS	64	/* ids come from a counter: spread evenly */
#define ASOC_HELLO_TIMEOUT	30000	/* ms for asocd to answer a connect */

#define ASOC_PRINTF(f, a)	__attribute__((format(printf, f, a)))

enum asoc_req_kind {
	ASOC_REQ_SEND,
	ASOC_REQ_RECV,
	ASOC_REQ_REG,
	ASOC_REQ_FREE,
	ASOC_REQ_STAT,
	ASOC_REQ_WHERE,
};

struct asoc_req {
	asoc_t			*as;
	uint64_t		 id;
	enum asoc_req_kind	 kind;
	asoc_buf_t		*buf;	/* NULL once the buffer is freed */
	uint64_t		 len;	/* posted length or capacity */
	int			 peer;	/* posted rank or ASOC_ANY_SOURCE */
	uint64_t		 tag;
	int			 done;
	int			 cancelled;	/* a CANCEL went out */
	asoc_completion_t	 c;
	uint64_t		 result;	/* DONE's len: REG's buffer id */
	char			 msg[ASOC_ERR_MAX];
	LIST_ENTRY(asoc_req)	 entry;
};
LIST_HEAD(asoc_reqs, asoc_req);

struct asoc_buf {
	asoc_t			*as;
	void			*ptr;
	size_t			 size;	/* what the caller asked for */
	size_t			 mapped;	/* rounded up to whole pages */
	uint64_t		 id;	/* asocd's name for it */
	unsigned		 nreqs;	/* requests on it not yet completed */
	TAILQ_ENTRY(asoc_buf)	 entry;
};

/* A status reply being collected: S_NODE, S_PEER..., S_RANK..., S_END. */
struct asoc_stat_ctx {
	struct asoc_req		*req;
	asoc_node_stat_t	 node;
	asoc_ranks_stat_t	 mode;
	int			 got_node;
	int			 want_peers, want_ranks;
	asoc_peer_stat_t	*peers;
	size_t			 npeers, cap;
	asoc_rank_stat_t	*ranks;
	size_t			 nranks, rcap;
	asoc_status_t		 status;
	const char		*why;
};

struct asoc {
	int			 fd;
	char			 path[ASOC_PATH_MAX];
	int			 rank, world;	/* process values in PROC */
	int			 node, nodes;	/* the daemon's */
	struct libasoc_join	 join;		/* what the HELLO asked */
	asoc_buf_t		*where;		/* asoc_rank_nodes' answers */
	int			*node_map;	/* libasoc_node_map's, or NULL */
	unsigned		 daemon_pid;
	size_t			 chunk_size;
	unsigned		 timeout_ms;
	uint64_t		 next_id;
	asoc_status_t		 dead;	/* ASOC_OK while the socket works */
	char			 dead_msg[ASOC_ERR_MAX];
	char			 err[ASOC_ERR_MAX];
	struct asoc_reqs	 reqs[ASOC_REQ_BUCKETS];
	TAILQ_HEAD(, asoc_buf)	 bufs;
	struct asoc_stat_ctx	*stat;
	long long		 busy_poll_ns;	/* ASOC_BUSY_POLL; 0: off */
	struct spin_pause	 poll_pause;	/* of ASOC_BUSY_POLL */
};

static int	asoc_read(asoc_t *, int);
static int	asoc_read_wait(asoc_t *);

static const char *asoc_errors[] = {
	[ASOC_OK] = "success",
	[ASOC_EINVAL] = "an argument is invalid",
	[ASOC_ENOMEM] = "out of memory, or over one of asocd's limits",
	[ASOC_EPEERLOST] = "the peer's asocd went away during the transfer",
	[ASOC_ETIMEDOUT] = "the request passed its deadline",
	[ASOC_EPERM] = "permission denied",
	[ASOC_ECANCELLED] = "the request was cancelled",
	[ASOC_EPROTO] = "asocd and libasoc do not understand each other",
	[ASOC_ESYSTEM] = "a system call failed, or asocd could not be reached",
	[ASOC_ETRUNC] = "the message is larger than the receive buffer",
	[ASOC_ENOPEER] = "no such rank, or it could not be reached",
	[ASOC_ELEFT] = "the rank left the job: its process exited",
};

const char *
asoc_strerror(asoc_status_t status)
{
	if ((unsigned)status >= sizeof asoc_errors / sizeof asoc_errors[0])
		return "unknown status";
	return asoc_errors[status];
}

/* Sets the session's last error and returns st; shared with the other
 * files of the library (libasoc-int.h). */
asoc_status_t
libasoc_fail(asoc_t *as, asoc_status_t st, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(as->err, sizeof as->err, fmt, ap);
	va_end(ap);
	return st;
}

/* Every call that does something starts here: a dead session fails fast
 * with its reason, a live one forgets the previous call's error. */
static asoc_status_t
asoc_enter(asoc_t *as)
{
	if (as->dead != ASOC_OK)
		return libasoc_fail(as, as->dead, "%s", as->dead_msg);
	as->err[0] = '\0';
	return ASOC_OK;
}

asoc_status_t
libasoc_enter(asoc_t *as)
{
	return asoc_enter(as);
}

asoc_t *
libasoc_buf_session(const asoc_buf_t *buf)
{
	return buf->as;
}

unsigned int
libasoc_timeout(const asoc_t *as)
{
	return as->timeout_ms;
}

/* asoc_rank_nodes once per session, kept until asoc_close (for
 * asoc_bcast's node-aware chain). */
asoc_status_t
libasoc_node_map(asoc_t *as, const int **out)
{
	asoc_status_t st;
	int *map;

	if (as->node_map == NULL) {
		if ((map = calloc((size_t)as->world, sizeof *map)) == NULL)
			return libasoc_fail(as, ASOC_ENOMEM, "out of memory for "
			    "the nodes of %d ranks", as->world);
		if ((st = asoc_rank_nodes(as, map)) != ASOC_OK) {
			free(map);
			return st;
		}
		as->node_map = map;
	}
	*out = as->node_map;
	return ASOC_OK;
}

static void
asoc_req_complete(struct asoc_req *req, asoc_status_t st, uint64_t len,
    uint32_t peer, uint64_t tag, const char *msg)
{
	const char *what = asoc_strerror(st);

	req->done = 1;
	req->result = len;
	req->c.status = st;
	req->c.len = (size_t)len;
	req->c.source = req->peer;
	req->c.tag = req->tag;
	if (req->kind == ASOC_REQ_RECV) {
		req->c.source = peer < PROTO_RANK_MAX ? (int)peer : -1;
		req->c.tag = tag;
	} else if (req->kind != ASOC_REQ_SEND)
		req->c.len = 0;
	if (req->buf != NULL)
		req->buf->nreqs--;

	/* asocd's own words when it sent some; else say which request. */
	if (st == ASOC_OK || (msg != NULL && *msg != '\0'))
		snprintf(req->msg, sizeof req->msg, "%s", msg != NULL ? msg : "");
	else if (req->kind == ASOC_REQ_SEND)
		snprintf(req->msg, sizeof req->msg, "send of %" PRIu64 " bytes "
		    "to rank %d (tag %" PRIu64 "): %s", req->len, req->peer,
		    req->tag, what);
	else if (req->kind == ASOC_REQ_RECV && req->peer == ASOC_ANY_SOURCE)
		snprintf(req->msg, sizeof req->msg, "receive from any rank "
		    "(tag %" PRIu64 "): %s", req->tag, what);
	else if (req->kind == ASOC_REQ_RECV)
		snprintf(req->msg, sizeof req->msg, "receive from rank %d "
		    "(tag %" PRIu64 "): %s", req->peer, req->tag, what);
	else
		snprintf(req->msg, sizeof req->msg, "asocd refused a %s: %s",
		    req->kind == ASOC_REQ_REG ? "new buffer" :
		    req->kind == ASOC_REQ_FREE ? "buffer free" :
		    req->kind == ASOC_REQ_WHERE ? "lookup of the ranks' nodes" :
		    "status query", what);
}

/* The connection is unusable: close it and complete everything
 * outstanding with the reason, so no caller waits for a reply that
 * cannot come. */
static void ASOC_PRINTF(3, 4)
asoc_die(asoc_t *as, asoc_status_t st, const char *fmt, ...)
{
	struct asoc_req *req;
	va_list ap;
	size_t i;

	if (as->dead != ASOC_OK)
		return;
	va_start(ap, fmt);
	vsnprintf(as->dead_msg, sizeof as->dead_msg, fmt, ap);
	va_end(ap);
	as->dead = st;
	snprintf(as->err, sizeof as->err, "%s", as->dead_msg);
	if (as->fd != -1) {
		close(as->fd);
		as->fd = -1;
	}
	for (i = 0; i < ASOC_REQ_BUCKETS; i++) {
		LIST_FOREACH(req, &as->reqs[i], entry) {
			if (!req->done)
				asoc_req_complete(req, st, 0, PROTO_RANK_ANY, 0,
				    as->dead_msg);
		}
	}
}

static void
asoc_lost(asoc_t *as, const char *why)
{
	asoc_die(as, ASOC_ESYSTEM, "lost the connection to asocd (pid %u): "
	    "it stopped or restarted%s%s%s; reconnect with asoc_open",
	    as->daemon_pid, why != NULL ? " (" : "", why != NULL ? why : "",
	    why != NULL ? ")" : "");
}

/* One message to asocd, with fd (or -1) passed alongside.  A broken
 * connection kills the session; anything else fails only this call. */
static asoc_status_t
asoc_sendmsg(asoc_t *as, struct proto_msg *m, int fd, int flags)
{
	uint8_t buf[PROTO_HDR_LEN + PROTO_MAX_FIXED];
	union {
		struct cmsghdr	hdr;
		char		space[CMSG_SPACE(sizeof(int))];
	} cm;
	struct cmsghdr *cmsg;
	struct msghdr mh;
	struct iovec iov;
	size_t len;
	int e;

	if (as->dead != ASOC_OK)
		return libasoc_fail(as, as->dead, "%s", as->dead_msg);
	if ((len = proto_encode(m, buf, sizeof buf)) == 0)
		return libasoc_fail(as, ASOC_EPROTO, "libasoc cannot encode a "
		    "%s message; this is a libasoc bug",
		    proto_type_name(m->hdr.type));
	iov.iov_base = buf;
	iov.iov_len = len;
	memset(&mh, 0, sizeof mh);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (fd != -1) {
		memset(&cm, 0, sizeof cm);
		mh.msg_control = cm.space;
		mh.msg_controllen = sizeof cm.space;
		cmsg = CMSG_FIRSTHDR(&mh);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cmsg), &fd, sizeof fd);
	}
	while (sendmsg(as->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT | flags) ==
	    -1) {
		if ((e = errno) == EINTR)
			continue;
		/* No room: asocd paces a session whose replies pile up (it
		 * leaves the requests unread until they are taken), so take
		 * them while waiting, or both would wait for good. */
		if ((e == EAGAIN || e == EWOULDBLOCK) &&
		    !(flags & MSG_DONTWAIT)) {
			struct pollfd p = { as->fd, POLLIN | POLLOUT, 0 };

			if (poll(&p, 1, -1) < 0 && errno != EINTR)
				return libasoc_fail(as, ASOC_ESYSTEM, "cannot wait "
				    "for asocd: %s", strerror(errno));
			if ((p.revents & POLLIN) &&
			    asoc_read(as, MSG_DONTWAIT) < 0)
				return as->dead;
			continue;
		}
		if (e == EPIPE || e == ECONNRESET || e == ENOTCONN) {
			/* Replies asocd sent before it went are still queued:
			 * deliver them before failing the rest. */
			while (asoc_read(as, MSG_DONTWAIT) > 0)
				;
			asoc_lost(as, strerror(e));
			return as->dead;
		}
		return libasoc_fail(as, e == ENOBUFS || e == ENOMEM ?
		    ASOC_ENOMEM : ASOC_ESYSTEM, "cannot send %s to asocd: %s",
		    proto_type_name(m->hdr.type), strerror(e));
	}
	return ASOC_OK;
}

static struct asoc_req *
asoc_req_find(asoc_t *as, uint64_t id)
{
	struct asoc_req *req;

	LIST_FOREACH(req, &as->reqs[id % ASOC_REQ_BUCKETS], entry) {
		if (req->id == id)
			return req;
	}
	return NULL;
}

static asoc_status_t
asoc_req_post(asoc_t *as, struct asoc_req *req, struct proto_msg *m, int fd)
{
	asoc_status_t st;

	req->as = as;
	req->id = as->next_id++;	/* starts at 1: 0 is "no request" */
	m->hdr.id = req->id;
	if ((st = asoc_sendmsg(as, m, fd, 0)) != ASOC_OK)
		return st;
	LIST_INSERT_HEAD(&as->reqs[req->id % ASOC_REQ_BUCKETS], req, entry);
	if (req->buf != NULL)
		req->buf->nreqs++;
	return ASOC_OK;
}

/* Hands a completed request's result to the caller and forgets it. */
static asoc_status_t
asoc_req_take(struct asoc_req *req, asoc_completion_t *c)
{
	if (c != NULL)
		*c = req->c;
	LIST_REMOVE(req, entry);
	snprintf(req->as->err, sizeof req->as->err, "%s",
	    req->c.status == ASOC_OK ? "" : req->msg);
	return req->c.status;
}

/* A request the library makes for itself (REG, FREE, status): post it
 * and wait for its answer. */
static asoc_status_t
asoc_call(asoc_t *as, struct asoc_req *req, enum asoc_req_kind kind,
    uint64_t what, struct proto_msg *m, int fd)
{
	asoc_status_t st;

	memset(req, 0, sizeof *req);
	req->kind = kind;
	req->len = what;
	if ((st = asoc_req_post(as, req, m, fd)) != ASOC_OK)
		return st;
	while (!req->done)
		asoc_read_wait(as);
	return asoc_req_take(req, NULL);
}

/* One S_RANK: a process rank living on the daemon. */
static void
asoc_stat_rank(struct asoc_stat_ctx *ctx, const struct proto_s_rank *sr)
{
	asoc_rank_stat_t *r;
	void *grown;

	if (ctx->nranks >= PROTO_RANK_MAX) {
		ctx->status = ASOC_EPROTO;
		ctx->why = "asocd sent more process ranks than can exist";
		return;
	}
	if (!ctx->want_ranks)
		return;
	if (ctx->nranks == ctx->rcap) {
		ctx->rcap = ctx->rcap == 0 ? 16 : ctx->rcap * 2;
		grown = realloc(ctx->ranks, ctx->rcap * sizeof *r);
		if (grown == NULL) {
			ctx->status = ASOC_ENOMEM;
			ctx->why = "out of memory for the rank table";
			return;
		}
		ctx->ranks = grown;
	}
	r = &ctx->ranks[ctx->nranks++];
	memset(r, 0, sizeof *r);
	r->rank = (int)sr->rank;
	r->world = (int)sr->world;
	r->pid = (long)sr->pid;
	r->localid = sr->localid < PROTO_RANK_MAX ? (int)sr->localid : -1;
	r->sessions = sr->sessions;
	r->incarnation = sr->incarnation;
	r->posted_recvs = sr->posted_recvs;
	r->unexpected = sr->unexpected;
	r->bytes_sent = sr->bytes_sent;
	r->bytes_received = sr->bytes_received;
}

static void
asoc_stat_collect(struct asoc_stat_ctx *ctx, const struct proto_msg *m)
{
	const struct proto_s_node *sn = &m->u.s_node;
	const struct proto_s_peer *sp = &m->u.s_peer;
	static const char *states[] = {
		"idle", "connecting", "up", "failed", "self"
	};
	asoc_peer_stat_t *p;
	void *grown;

	if (ctx->status != ASOC_OK && m->hdr.type != PT_S_END)
		return;		/* keep reading to the end, then report */
	switch (m->hdr.type) {
	case PT_S_NODE:
		if (ctx->got_node || sn->world > PROTO_RANK_MAX ||
		    sn->rank >= sn->world) {
			ctx->status = ASOC_EPROTO;
			ctx->why = "asocd sent inconsistent node status";
			return;
		}
		ctx->got_node = 1;
		ctx->node.rank = (int)sn->rank;
		ctx->node.world = (int)sn->world;
		ctx->node.clients = sn->clients;
		ctx->node.peers_connected = sn->peers_connected;
		ctx->node.xfers_active = sn->xfers_active;
		ctx->node.unexpected = sn->unexpected;
		ctx->node.posted_recvs = sn->posted_recvs;
		ctx->node.bytes_sent = sn->bytes_sent;
		ctx->node.bytes_received = sn->bytes_received;
		ctx->node.buffers = sn->buffers;
		ctx->node.buffer_bytes = sn->buffer_bytes;
		ctx->node.registrations = sn->registrations;
		ctx->node.deregistrations = sn->deregistrations;
		ctx->node.xfers_done = sn->xfers_done;
		ctx->node.xfers_failed = sn->xfers_failed;
		snprintf(ctx->node.transport, sizeof ctx->node.transport, "%s",
		    sn->transport);
		ctx->mode.mode = sn->mode <= PROTO_MODE_PROC ? (int)sn->mode :
		    ASOC_MODE_NONE;
		ctx->mode.world = sn->proc_world <= PROTO_RANK_MAX ?
		    (int)sn->proc_world : 0;
		ctx->mode.local_ranks = sn->local_ranks;
		break;
	case PT_S_RANK:
		asoc_stat_rank(ctx, &m->u.s_rank);
		break;
	case PT_S_PEER:
		if (sp->rank >= PROTO_RANK_MAX || ctx->npeers >= PROTO_RANK_MAX) {
			ctx->status = ASOC_EPROTO;
			ctx->why = "asocd sent peer status for an impossible rank";
			return;
		}
		if (!ctx->want_peers)
			return;
		if (ctx->npeers == ctx->cap) {
			ctx->cap = ctx->cap == 0 ? 16 : ctx->cap * 2;
			grown = realloc(ctx->peers, ctx->cap * sizeof *p);
			if (grown == NULL) {
				ctx->status = ASOC_ENOMEM;
				ctx->why = "out of memory for the peer table";
				return;
			}
			ctx->peers = grown;
		}
		p = &ctx->peers[ctx->npeers++];
		memset(p, 0, sizeof *p);
		p->rank = (int)sp->rank;
		p->port = sp->port;
		snprintf(p->host, sizeof p->host, "%s", sp->host);
		snprintf(p->transport, sizeof p->transport, "%s", sp->transport);
		p->state = sp->state < sizeof states / sizeof states[0] ?
		    states[sp->state] : "unknown";
		p->xfers_active = sp->xfers_active;
		p->bytes_sent = sp->bytes_sent;
		p->bytes_received = sp->bytes_received;
		break;
	case PT_S_END:
		if (ctx->status == ASOC_OK && !ctx->got_node) {
			ctx->status = ASOC_EPROTO;
			ctx->why = "asocd ended its status reply without node "
			    "counters";
		}
		asoc_req_complete(ctx->req, ctx->status, 0, 0, 0, ctx->why);
		break;
	}
}

static int
asoc_dispatch(asoc_t *as, const struct proto_msg *m)
{
	const struct proto_l_done *d = &m->u.l_done;
	struct asoc_req *req;

	switch (m->hdr.type) {
	case PT_L_DONE:
		req = asoc_req_find(as, m->hdr.id);
		if (req == NULL || req->done)
			break;
		if (req->kind == ASOC_REQ_RECV && d->status == PS_OK &&
		    d->len > req->len) {
			asoc_die(as, ASOC_EPROTO, "asocd (pid %u) reported %"
			    PRIu64 " bytes received into %" PRIu64 " bytes of "
			    "room; this is an asocd bug", as->daemon_pid,
			    d->len, req->len);
			return -1;
		}
		asoc_req_complete(req, (asoc_status_t)d->status, d->len,
		    d->peer, d->tag, d->msg);
		return 1;
	case PT_S_NODE:
	case PT_S_PEER:
	case PT_S_RANK:
	case PT_S_END:
		if (as->stat == NULL || as->stat->req->id != m->hdr.id ||
		    as->stat->req->done)
			break;
		asoc_stat_collect(as->stat, m);
		return 1;
	}
	/* asocd is trusted to answer each request exactly once; if it does
	 * not, nothing it says about our requests can be believed. */
	asoc_die(as, ASOC_EPROTO, "asocd (pid %u) sent %s for request %" PRIu64
	    ", which is not waiting for one; this is an asocd bug: reconnect "
	    "with asoc_open", as->daemon_pid, proto_type_name(m->hdr.type),
	    m->hdr.id);
	return -1;
}

/* The most ASOC_BUSY_POLL may ask, as asocd's --busy-poll: a wait that
 * spins longer than 10 ms saves nothing a wake-up would cost. */
#define ASOC_BUSY_POLL_MAX 10000

/* ASOC_BUSY_POLL, microseconds a wait polls the socket before sleeping:
 * each wake-up from idle costs tens of microseconds (issue 15's profile
 * of one-at-a-time sends was 70% idle halt). */
static asoc_status_t
asoc_busy_poll_env(asoc_t *as)
{
	const char *v = getenv("ASOC_BUSY_POLL");
	unsigned long us;
	char *end;

	if (v == NULL || *v == '\0')
		return ASOC_OK;
	errno = 0;
	us = strtoul(v, &end, 10);
	if (!isdigit((unsigned char)*v) || *end != '\0' || errno != 0 ||
	    us > ASOC_BUSY_POLL_MAX)
		return libasoc_fail(as, ASOC_EINVAL, "ASOC_BUSY_POLL must be "
		    "a number of microseconds from 0 to %d, not '%s'; unset it "
		    "to wait without polling", ASOC_BUSY_POLL_MAX, v);
	as->busy_poll_ns = (long long)us * 1000;
	return ASOC_OK;
}

/* asoc_read(as, 0), which sleeps, after looking without sleeping for
 * ASOC_BUSY_POLL: a reply that comes meanwhile costs no wake-up. */
static int
asoc_read_wait(asoc_t *as)
{
	long long now, turn, until;
	int r;

	if (as->busy_poll_ns > 0 &&
	    !spin_pause_on(&as->poll_pause, now = spin_pause_now())) {
		until = now + as->busy_poll_ns;
		do {
			if ((r = asoc_read(as, MSG_DONTWAIT)) != 0) {
				spin_pause_reset(&as->poll_pause);
				return r;
			}
			turn = now;
			/* Let the daemons run if they share this core. */
			sched_yield();
			now = spin_pause_now();
			/* Back late: another process wanted this core and
			 * had it.  Polling behind it is slower than sleeping
			 * (common/spin_pause.h): sleep instead, this wait and
			 * the waits of the pause this starts. */
			if (spin_pause_after_yield(&as->poll_pause, turn,
			    now) > 0)
				break;
		} while (now < until);
	}
	return asoc_read(as, 0);
}

/* Reads and dispatches one message: 1 when one was handled, 0 when none
 * had arrived (MSG_DONTWAIT), -1 when the session is dead. */
static int
asoc_read(asoc_t *as, int flags)
{
	uint8_t buf[PROTO_HDR_LEN + PROTO_MAX_FIXED + 1];
	struct proto_msg m;
	enum proto_err perr;
	ssize_t n;

	if (as->dead != ASOC_OK)
		return -1;
	do
		n = recv(as->fd, buf, sizeof buf, flags);
	while (n == -1 && errno == EINTR);
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	if (n <= 0) {
		asoc_lost(as, n == 0 ? NULL : strerror(errno));
		return -1;
	}
	/* A full buffer means the packet was cut: longer than any reply. */
	if ((size_t)n == sizeof buf)
		perr = PROTO_ELENGTH;
	else
		perr = proto_decode(buf, (size_t)n, PROTO_CH_LOCAL_OUT, &m);
	if (perr != PROTO_OK) {
		asoc_die(as, ASOC_EPROTO, "asocd (pid %u) sent a message "
		    "libasoc cannot read (%s); are asocd and libasoc from the "
		    "same release?", as->daemon_pid, proto_strerror(perr));
		return -1;
	}
	return asoc_dispatch(as, &m);
}

static asoc_status_t
asoc_send_cancel(asoc_t *as, struct asoc_req *req, int flags)
{
	struct proto_msg m;
	asoc_status_t st;

	memset(&m, 0, sizeof m);
	m.hdr.type = PT_L_CANCEL;	/* hdr.id 0: CANCEL has no reply */
	m.u.l_cancel.req_id = req->id;
	if ((st = asoc_sendmsg(as, &m, -1, flags)) == ASOC_OK)
		req->cancelled = 1;
	return st;
}

const char *
asoc_default_socket(void)
{
	static char path[ASOC_PATH_MAX];

	libasoc_find_socket(path, sizeof path);
	return path;
}

/* Both ends of the local protocol must be of one release. */
static asoc_status_t
asoc_fail_version(asoc_t *as, unsigned theirs)
{
	return libasoc_fail(as, ASOC_EPROTO, "asocd at %s speaks protocol %u and "
	    "libasoc speaks %u: use asocd and libasoc from the same release",
	    as->path, theirs, PROTO_VERSION);
}

/* The socket, connected to as->path, with an error saying what to do. */
static asoc_status_t
asoc_connect_socket(asoc_t *as)
{
	struct sockaddr_un sun;
	char why[1024];
	int e;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(as->path) >= sizeof sun.sun_path)
		return libasoc_fail(as, ASOC_EINVAL, "socket path %s is too long "
		    "(Unix sockets allow %zu bytes): use a shorter ASOC_SOCKET",
		    as->path, sizeof sun.sun_path - 1);
	memcpy(sun.sun_path, as->path, strlen(as->path));

	as->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (as->fd == -1)
		return libasoc_fail(as, ASOC_ESYSTEM, "cannot make a socket: %s",
		    strerror(errno));
	if (connect(as->fd, (struct sockaddr *)&sun, sizeof sun) == 0)
		return ASOC_OK;
	e = errno;
	if (e == EACCES || e == EPERM)
		return libasoc_fail(as, ASOC_EPERM, "cannot reach asocd at %s: %s; "
		    "is it another user's or job's? (set ASOC_SOCKET or "
		    "--socket)", as->path, strerror(e));
	if (libasoc_find_reason(why, sizeof why) == 0)
		return libasoc_fail(as, ASOC_ESYSTEM, "cannot reach asocd at %s: "
		    "%s", as->path, why);
	return libasoc_fail(as, ASOC_ESYSTEM, "cannot reach asocd at %s: %s; is "
	    "asocd running? (set ASOC_SOCKET or --socket)", as->path,
	    strerror(e));
}

/* The other end gets our memory: it must be our own user's daemon (or
 * root's), not one that took over a socket path we trusted. */
static asoc_status_t
asoc_check_peer(asoc_t *as)
{
	struct ucred cred;
	socklen_t clen = sizeof cred;

	if (getsockopt(as->fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) == -1)
		return libasoc_fail(as, ASOC_ESYSTEM, "cannot tell who serves %s: "
		    "%s", as->path, strerror(errno));
	if (cred.uid != getuid() && cred.uid != 0 && getuid() != 0)
		return libasoc_fail(as, ASOC_EPERM, "the process serving %s (pid "
		    "%ld) runs as uid %u, not as you (uid %u): not handing it "
		    "memory; is ASOC_SOCKET another user's?", as->path,
		    (long)cred.pid, (unsigned)cred.uid, (unsigned)getuid());
	return ASOC_OK;
}

static uint32_t
asoc_hello_flags(const asoc_t *as)
{
	return as->join.mode == LIBASOC_JOIN_PROC ? PROTO_LH_F_PROC :
	    as->join.mode == LIBASOC_JOIN_STATUS ? PROTO_LH_F_STATUS : 0;
}

/* What the session asked to join as, for messages. */
static const char *
asoc_join_name(const asoc_t *as, char *name, size_t len)
{
	if (as->join.mode == LIBASOC_JOIN_PROC)
		snprintf(name, len, "process rank %u of %u", as->join.rank,
		    as->join.world);
	else
		snprintf(name, len, "%s", as->join.mode ==
		    LIBASOC_JOIN_STATUS ? "a status-only session" :
		    "a node-rank session");
	return name;
}

/* Sends HELLO and decodes the answer into *m, within ASOC_HELLO_TIMEOUT:
 * a daemon that accepts but never answers must not hang us. */
static asoc_status_t
asoc_hello(asoc_t *as, struct proto_msg *m)
{
	uint8_t buf[PROTO_HDR_LEN + PROTO_MAX_FIXED + 1];
	struct pollfd pfd = { as->fd, POLLIN, 0 };
	enum proto_err perr;
	ssize_t n;
	size_t len;
	int r;

	memset(m, 0, sizeof *m);
	m->hdr.type = PT_L_HELLO;
	m->u.l_hello.version = PROTO_VERSION;
	m->u.l_hello.pid = (uint32_t)getpid();
	m->u.l_hello.localid = PROTO_LOCALID_NONE;
	if (as->join.mode == LIBASOC_JOIN_PROC) {
		m->u.l_hello.flags = PROTO_LH_F_PROC;
		m->u.l_hello.rank = as->join.rank;
		m->u.l_hello.world = as->join.world;
		m->u.l_hello.localid = as->join.localid;
	} else if (as->join.mode == LIBASOC_JOIN_STATUS)
		m->u.l_hello.flags = PROTO_LH_F_STATUS;
	len = proto_encode(m, buf, sizeof buf);
	if (send(as->fd, buf, len, MSG_NOSIGNAL) == -1)
		return libasoc_fail(as, ASOC_ESYSTEM, "asocd at %s dropped the "
		    "connection: %s; see its log", as->path, strerror(errno));
	while ((r = poll(&pfd, 1, ASOC_HELLO_TIMEOUT)) == -1 && errno == EINTR)
		;
	if (r == 0)
		return libasoc_fail(as, ASOC_ETIMEDOUT, "asocd at %s did not answer "
		    "within %d s; it may be stuck: see its log", as->path,
		    ASOC_HELLO_TIMEOUT / 1000);
	do
		n = recv(as->fd, buf, sizeof buf, 0);
	while (n == -1 && errno == EINTR);
	if (n <= 0)
		return libasoc_fail(as, ASOC_ESYSTEM, "asocd at %s closed the "
		    "connection during the handshake%s%s; see its log",
		    as->path, n == 0 ? "" : ": ", n == 0 ? "" : strerror(errno));
	perr = (size_t)n == sizeof buf ? PROTO_ELENGTH :
	    proto_decode(buf, (size_t)n, PROTO_CH_LOCAL_OUT, m);
	if (perr == PROTO_EVERSION)
		return asoc_fail_version(as, m->hdr.version);
	if (perr != PROTO_OK)
		return libasoc_fail(as, ASOC_EPROTO, "asocd at %s answered with "
		    "garbage (%s): is that socket really asocd's?", as->path,
		    proto_strerror(perr));
	return ASOC_OK;
}

/* The answer to HELLO: WELCOME, or a DONE that says why not. */
static asoc_status_t
asoc_welcome(asoc_t *as, const struct proto_msg *m)
{
	asoc_status_t st = (asoc_status_t)m->u.l_done.status;
	char name[96];

	if (m->hdr.type == PT_L_DONE && m->u.l_done.status != PS_OK) {
		if (m->u.l_done.msg[0] != '\0')
			return libasoc_fail(as, st, "%s", m->u.l_done.msg);
		return libasoc_fail(as, st, "asocd at %s refused the connection: "
		    "%s", as->path, asoc_strerror(st));
	}
	if (m->hdr.type != PT_L_WELCOME)
		return libasoc_fail(as, ASOC_EPROTO, "asocd at %s answered the "
		    "handshake with %s: are asocd and libasoc from the same "
		    "release?", as->path, proto_type_name(m->hdr.type));
	if (m->u.l_welcome.version != PROTO_VERSION)
		return asoc_fail_version(as, m->u.l_welcome.version);
	if (m->u.l_welcome.world > PROTO_RANK_MAX)
		return libasoc_fail(as, ASOC_EPROTO, "asocd at %s claims a world "
		    "of %u ranks; the limit is %u", as->path,
		    m->u.l_welcome.world, PROTO_RANK_MAX);
	/* The welcome is for the session we asked for, or asocd and we do
	 * not mean the same ranks. */
	if (m->u.l_welcome.flags != asoc_hello_flags(as) ||
	    (as->join.mode == LIBASOC_JOIN_PROC &&
	    (m->u.l_welcome.rank != as->join.rank ||
	    m->u.l_welcome.world != as->join.world)))
		return libasoc_fail(as, ASOC_EPROTO, "asocd at %s welcomed "
		    "rank %u of %u (flags %#x) when asked for %s: are asocd and "
		    "libasoc from the same release?", as->path,
		    m->u.l_welcome.rank, m->u.l_welcome.world,
		    m->u.l_welcome.flags, asoc_join_name(as, name,
		    sizeof name));
	as->rank = (int)m->u.l_welcome.rank;
	as->world = (int)m->u.l_welcome.world;
	if (as->join.mode == LIBASOC_JOIN_STATUS) {
		as->rank = -1;	/* no rank, as a session that did not open */
		as->world = 0;
	}
	as->node = (int)m->u.l_welcome.node;
	as->nodes = (int)m->u.l_welcome.nodes;
	as->daemon_pid = m->u.l_welcome.daemon_pid;
	as->chunk_size = (size_t)m->u.l_welcome.chunk_size;
	return ASOC_OK;
}

/* Connects and shakes hands: HELLO, then WELCOME or a refusing DONE. */
static asoc_status_t
asoc_connect(asoc_t *as)
{
	struct proto_msg m;
	asoc_status_t st;

	if ((st = asoc_connect_socket(as)) != ASOC_OK ||
	    (st = asoc_check_peer(as)) != ASOC_OK ||
	    (st = asoc_hello(as, &m)) != ASOC_OK)
		return st;
	return asoc_welcome(as, &m);
}

asoc_status_t
asoc_open_ex(const asoc_open_opts_t *opts, asoc_t **out)
{
	asoc_status_t st;
	asoc_t *as;
	size_t i;

	if (out == NULL)
		return ASOC_EINVAL;
	if ((*out = as = calloc(1, sizeof *as)) == NULL)
		return ASOC_ENOMEM;
	as->fd = -1;
	as->rank = -1;
	as->node = -1;
	as->next_id = 1;
	for (i = 0; i < ASOC_REQ_BUCKETS; i++)
		LIST_INIT(&as->reqs[i]);
	TAILQ_INIT(&as->bufs);
	/* A wrong rank fails before any wait for the daemon's socket. */
	st = libasoc_join_resolve(NULL, opts, &as->join, as->err,
	    sizeof as->err);
	if (st == ASOC_OK && opts->socket_path != NULL)
		snprintf(as->path, sizeof as->path, "%s", opts->socket_path);
	else if (st == ASOC_OK)
		libasoc_find_wait(as->path, sizeof as->path);

	/* A failed session is still returned, dead, so the caller can ask
	 * asoc_last_error and asoc_socket_path why; asoc_close frees it. */
	if (st != ASOC_OK ||
	    (st = asoc_busy_poll_env(as)) != ASOC_OK ||
	    (st = asoc_connect(as)) != ASOC_OK) {
		if (as->fd != -1) {
			close(as->fd);
			as->fd = -1;
		}
		as->rank = -1;
		as->world = 0;
		as->node = -1;
		as->nodes = 0;
		as->dead = st;
		snprintf(as->dead_msg, sizeof as->dead_msg, "%s", as->err);
	}
	return st;
}

asoc_status_t
asoc_open(const char *socket_path, asoc_t **out)
{
	asoc_open_opts_t o;

	asoc_open_opts_init(&o);
	o.socket_path = socket_path;
	return asoc_open_ex(&o, out);
}

void
asoc_close(asoc_t *as)
{
	struct asoc_req *req;
	asoc_buf_t *buf;
	size_t i;

	if (as == NULL)
		return;
	for (i = 0; i < ASOC_REQ_BUCKETS; i++) {
		while ((req = LIST_FIRST(&as->reqs[i])) != NULL) {
			/* Best effort and never blocking: asocd drops all of
			 * ours when the socket closes anyway. */
			if (as->dead == ASOC_OK && !req->done &&
			    !req->cancelled)
				asoc_send_cancel(as, req, MSG_DONTWAIT);
			LIST_REMOVE(req, entry);
			free(req);
		}
	}
	while ((buf = TAILQ_FIRST(&as->bufs)) != NULL) {
		TAILQ_REMOVE(&as->bufs, buf, entry);
		munmap(buf->ptr, buf->mapped);
		free(buf);
	}
	if (as->fd != -1)
		close(as->fd);
	free(as->node_map);
	free(as);
}

const char *
asoc_last_error(const asoc_t *as)
{
	if (as == NULL)
		return "no session: asoc_open ran out of memory";
	return as->err;
}

int
asoc_rank(const asoc_t *as)
{
	return as != NULL ? as->rank : -1;
}

int
asoc_world_size(const asoc_t *as)
{
	return as != NULL ? as->world : 0;
}

int
asoc_node(const asoc_t *as)
{
	return as != NULL ? as->node : -1;
}

int
asoc_node_count(const asoc_t *as)
{
	return as != NULL ? as->nodes : 0;
}

size_t
asoc_chunk_size(const asoc_t *as)
{
	return as != NULL ? as->chunk_size : 0;
}

int
asoc_fd(const asoc_t *as)
{
	return as != NULL && as->dead == ASOC_OK ? as->fd : -1;
}

const char *
asoc_socket_path(const asoc_t *as)
{
	return as != NULL ? as->path : "";
}

void
asoc_set_timeout(asoc_t *as, unsigned int timeout_ms)
{
	if (as != NULL)
		as->timeout_ms = timeout_ms;
}

asoc_status_t
asoc_buf_alloc(asoc_t *as, size_t size, asoc_buf_t **out)
{
	struct asoc_req req;
	struct proto_msg m;
	asoc_buf_t *buf;
	asoc_status_t st;
	long page;
	int fd;

	if (as == NULL || out == NULL)
		return ASOC_EINVAL;
	*out = NULL;
	if ((st = asoc_enter(as)) != ASOC_OK)
		return st;
	if ((page = sysconf(_SC_PAGESIZE)) <= 0)
		page = 4096;
	if (size == 0 || size > SIZE_MAX - (size_t)page)
		return libasoc_fail(as, ASOC_EINVAL, "asoc_buf_alloc: cannot make "
		    "a buffer of %zu bytes", size);
	if ((buf = calloc(1, sizeof *buf)) == NULL)
		return libasoc_fail(as, ASOC_ENOMEM, "asoc_buf_alloc: out of memory");
	buf->as = as;
	buf->size = size;
	buf->mapped = (size + (size_t)page - 1) / (size_t)page * (size_t)page;

	/* Sealed against resizing, so asocd can trust the size it maps. */
	fd = memfd_create("asoc", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd == -1) {
		st = libasoc_fail(as, ASOC_ESYSTEM, "memfd_create: %s; too many "
		    "open files? (ulimit -n)", strerror(errno));
		goto fail;
	}
	if (ftruncate(fd, (off_t)buf->mapped) == -1) {
		st = libasoc_fail(as, ASOC_ENOMEM, "cannot size a %zu-byte buffer: "
		    "%s", buf->mapped, strerror(errno));
		goto fail;
	}
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW |
	    F_SEAL_SEAL) == -1) {
		st = libasoc_fail(as, ASOC_ESYSTEM, "cannot seal a buffer: %s; "
		    "memfd sealing needs Linux 3.17 or later", strerror(errno));
		goto fail;
	}
	buf->ptr = mmap(NULL, buf->mapped, PROT_READ | PROT_WRITE, MAP_SHARED,
	    fd, 0);
	if (buf->ptr == MAP_FAILED) {
		buf->ptr = NULL;
		st = libasoc_fail(as, ASOC_ENOMEM, "cannot map a %zu-byte buffer: "
		    "%s; check ulimit -v and free memory", buf->mapped,
		    strerror(errno));
		goto fail;
	}

	memset(&m, 0, sizeof m);
	m.hdr.type = PT_L_REG;
	m.u.l_reg.size = buf->mapped;
	if ((st = asoc_call(as, &req, ASOC_REQ_REG, buf->mapped, &m, fd)) !=
	    ASOC_OK)
		goto fail;
	close(fd);	/* asocd holds its own copy; our mapping stays */
	buf->id = req.result;
	TAILQ_INSERT_TAIL(&as->bufs, buf, entry);
	*out = buf;
	return ASOC_OK;

fail:
	if (buf->ptr != NULL)
		munmap(buf->ptr, buf->mapped);
	if (fd != -1)
		close(fd);
	free(buf);
	return st;
}

void *
asoc_buf_ptr(const asoc_buf_t *buf)
{
	return buf != NULL ? buf->ptr : NULL;
}

size_t
asoc_buf_size(const asoc_buf_t *buf)
{
	return buf != NULL ? buf->size : 0;
}

asoc_status_t
asoc_buf_free(asoc_buf_t *buf)
{
	struct asoc_req *req, call;
	struct proto_msg m;
	asoc_status_t st;
	asoc_t *as;
	size_t i;

	if (buf == NULL)
		return ASOC_OK;
	as = buf->as;
	(void)asoc_enter(as);

	/* asocd must be done with the memory before it lets go of it, and
	 * so must we before we unmap it.  The caller still owns the
	 * requests: they keep their (cancelled) results for asoc_wait. */
	for (i = 0; i < ASOC_REQ_BUCKETS; i++) {
		LIST_FOREACH(req, &as->reqs[i], entry) {
			if (req->buf == buf && !req->done && !req->cancelled)
				asoc_send_cancel(as, req, 0);
		}
	}
	while (buf->nreqs > 0 && asoc_read_wait(as) >= 0)
		;
	for (i = 0; i < ASOC_REQ_BUCKETS; i++) {
		LIST_FOREACH(req, &as->reqs[i], entry) {
			if (req->buf == buf)
				req->buf = NULL;
		}
	}

	if (as->dead == ASOC_OK) {
		memset(&m, 0, sizeof m);
		m.hdr.type = PT_L_FREE;
		m.u.l_free.buf_id = buf->id;
		st = asoc_call(as, &call, ASOC_REQ_FREE, buf->id, &m, -1);
	} else
		st = libasoc_fail(as, as->dead, "%s", as->dead_msg);
	TAILQ_REMOVE(&as->bufs, buf, entry);
	munmap(buf->ptr, buf->mapped);
	free(buf);
	return st;
}

static asoc_status_t
asoc_post_xfer(asoc_t *as, enum asoc_req_kind kind, asoc_buf_t *buf,
    size_t off, size_t len, int rank, uint64_t tag, unsigned int flags,
    asoc_req_t **out)
{
	const char *fn = kind == ASOC_REQ_SEND ? "asoc_isend" : "asoc_irecv";
	struct asoc_req *req;
	struct proto_msg m;
	asoc_status_t st;

	if (as == NULL)
		return ASOC_EINVAL;
	if (out != NULL)
		*out = NULL;
	if ((st = asoc_enter(as)) != ASOC_OK)
		return st;
	if ((flags & ~ASOC_RECV_PEEK) != 0)
		return libasoc_fail(as, ASOC_EINVAL, "%s: unknown flags %#x", fn,
		    flags & ~ASOC_RECV_PEEK);
	if (buf == NULL || out == NULL)
		return libasoc_fail(as, ASOC_EINVAL, "%s: %s is NULL", fn,
		    buf == NULL ? "the buffer" : "the request pointer");
	if (buf->as != as)
		return libasoc_fail(as, ASOC_EINVAL, "%s: the buffer belongs to "
		    "another session", fn);
	if (off > buf->size || len > buf->size - off)
		return libasoc_fail(as, ASOC_EINVAL, "%s: %zu bytes at offset %zu "
		    "do not fit in the %zu-byte buffer", fn, len, off,
		    buf->size);
	if (as->join.mode == LIBASOC_JOIN_STATUS)
		return libasoc_fail(as, ASOC_EINVAL, "%s: a status-only session "
		    "(ASOC_OPEN_STATUS) has no rank to send or receive as", fn);
	if (kind == ASOC_REQ_RECV && rank == ASOC_ANY_SOURCE)
		;
	else if (rank < 0 || rank >= as->world)
		return libasoc_fail(as, ASOC_EINVAL, "%s: rank %d is not in this "
		    "job (%s ranks are 0 to %d)%s", fn, rank,
		    as->join.mode == LIBASOC_JOIN_PROC ? "process" : "node",
		    as->world - 1,
		    kind == ASOC_REQ_RECV ? "; ASOC_ANY_SOURCE takes any" : "");

	if ((req = calloc(1, sizeof *req)) == NULL)
		return libasoc_fail(as, ASOC_ENOMEM, "%s: out of memory", fn);
	req->kind = kind;
	req->buf = buf;
	req->len = len;
	req->peer = rank;
	req->tag = tag;
	memset(&m, 0, sizeof m);
	m.hdr.type = kind == ASOC_REQ_SEND ? PT_L_SEND : PT_L_RECV;
	m.u.l_xfer.buf_id = buf->id;
	m.u.l_xfer.offset = off;
	m.u.l_xfer.len = len;
	m.u.l_xfer.tag = tag;
	m.u.l_xfer.peer = rank == ASOC_ANY_SOURCE ? PROTO_RANK_ANY :
	    (uint32_t)rank;
	m.u.l_xfer.timeout_ms = as->timeout_ms;
	m.u.l_xfer.flags = flags;
	if ((st = asoc_req_post(as, req, &m, -1)) != ASOC_OK) {
		free(req);
		return st;
	}
	*out = req;
	return ASOC_OK;
}

asoc_status_t
asoc_isend(asoc_t *as, asoc_buf_t *buf, size_t off, size_t len, int dst,
    uint64_t tag, asoc_req_t **req)
{
	return asoc_post_xfer(as, ASOC_REQ_SEND, buf, off, len, dst, tag, 0,
	    req);
}

asoc_status_t
asoc_irecv(asoc_t *as, asoc_buf_t *buf, size_t off, size_t cap, int src,
    uint64_t tag, asoc_req_t **req)
{
	return asoc_post_xfer(as, ASOC_REQ_RECV, buf, off, cap, src, tag, 0,
	    req);
}

asoc_status_t
asoc_irecv_flags(asoc_t *as, asoc_buf_t *buf, size_t off, size_t cap,
    int src, uint64_t tag, unsigned int flags, asoc_req_t **req)
{
	return asoc_post_xfer(as, ASOC_REQ_RECV, buf, off, cap, src, tag,
	    flags, req);
}

/* A done request's completion, handed over; the request is freed. */
static asoc_status_t
asoc_req_end(struct asoc_req *req, asoc_completion_t *c)
{
	asoc_status_t st = asoc_req_take(req, c);

	free(req);
	return st;
}

asoc_status_t
asoc_wait(asoc_req_t *req, asoc_completion_t *c)
{
	if (req == NULL)
		return ASOC_EINVAL;
	/* A dead session has completed every request, so this ends. */
	while (!req->done)
		asoc_read_wait(req->as);
	return asoc_req_end(req, c);
}

asoc_status_t
asoc_test(asoc_req_t *req, int *done, asoc_completion_t *c)
{
	if (req == NULL || done == NULL)
		return ASOC_EINVAL;
	while (!req->done && asoc_read(req->as, MSG_DONTWAIT) > 0)
		;
	if (!req->done) {
		*done = 0;
		req->as->err[0] = '\0';
		return ASOC_OK;
	}
	*done = 1;
	return asoc_req_end(req, c);
}

asoc_status_t
asoc_waitany(asoc_req_t **reqs, size_t n, size_t *index,
    asoc_completion_t *c)
{
	asoc_req_t *done;
	asoc_t *as = NULL;
	size_t i;

	if (reqs == NULL || index == NULL)
		return ASOC_EINVAL;
	/* NULL entries are skipped, and the finished one is set to NULL,
	 * so a caller can loop over the same array until all are done. */
	for (i = 0; i < n; i++) {
		if (reqs[i] == NULL)
			continue;
		if (as == NULL)
			as = reqs[i]->as;
		else if (reqs[i]->as != as)
			return libasoc_fail(as, ASOC_EINVAL, "asoc_waitany: the "
			    "requests belong to different sessions; wait on "
			    "each session's requests apart");
	}
	if (as == NULL)
		return ASOC_EINVAL;
	for (;;) {
		for (i = 0; i < n; i++) {
			if (reqs[i] == NULL || !reqs[i]->done)
				continue;
			*index = i;
			done = reqs[i];
			reqs[i] = NULL;
			return asoc_req_end(done, c);
		}
		asoc_read_wait(as);
	}
}

asoc_status_t
asoc_cancel(asoc_req_t *req)
{
	asoc_status_t st;

	if (req == NULL)
		return ASOC_EINVAL;
	if (req->done || req->cancelled) {
		req->as->err[0] = '\0';
		return ASOC_OK;	/* its completion is already on its way */
	}
	if ((st = asoc_enter(req->as)) != ASOC_OK)
		return st;
	return asoc_send_cancel(req->as, req, 0);
}

/* The blocking calls: what was posted (st, req), waited for. */
static asoc_status_t
asoc_posted_wait(asoc_status_t st, asoc_req_t *req, asoc_completion_t *c)
{
	return st != ASOC_OK ? st : asoc_wait(req, c);
}

asoc_status_t
asoc_send(asoc_t *as, asoc_buf_t *buf, size_t off, size_t len, int dst,
    uint64_t tag)
{
	asoc_req_t *req = NULL;
	asoc_status_t st = asoc_isend(as, buf, off, len, dst, tag, &req);

	return asoc_posted_wait(st, req, NULL);
}

asoc_status_t
asoc_recv(asoc_t *as, asoc_buf_t *buf, size_t off, size_t cap, int src,
    uint64_t tag, asoc_completion_t *c)
{
	asoc_req_t *req = NULL;
	asoc_status_t st = asoc_irecv(as, buf, off, cap, src, tag, &req);

	return asoc_posted_wait(st, req, c);
}

/* One S_QUERY, its answer collected into *ctx (freed by the caller). */
static asoc_status_t
asoc_stat_query(asoc_t *as, struct asoc_stat_ctx *ctx)
{
	struct asoc_req req;
	struct proto_msg m;
	asoc_status_t st;

	ctx->req = &req;
	memset(&m, 0, sizeof m);
	m.hdr.type = PT_S_QUERY;
	as->stat = ctx;
	st = asoc_call(as, &req, ASOC_REQ_STAT, 0, &m, -1);
	as->stat = NULL;
	ctx->req = NULL;
	return st;
}

asoc_status_t
asoc_stat(asoc_t *as, asoc_node_stat_t *node, asoc_peer_stat_t **peers,
    size_t *npeers)
{
	struct asoc_stat_ctx ctx;
	asoc_status_t st;

	if (as == NULL)
		return ASOC_EINVAL;
	if (peers != NULL)
		*peers = NULL;
	if (npeers != NULL)
		*npeers = 0;
	if ((st = asoc_enter(as)) != ASOC_OK)
		return st;
	if (peers != NULL && npeers == NULL)
		return libasoc_fail(as, ASOC_EINVAL, "asoc_stat: peers needs "
		    "npeers");

	memset(&ctx, 0, sizeof ctx);
	ctx.want_peers = peers != NULL;
	if ((st = asoc_stat_query(as, &ctx)) != ASOC_OK) {
		free(ctx.peers);
		return st;
	}
	if (node != NULL)
		*node = ctx.node;
	if (peers != NULL && ctx.npeers > 0) {
		*peers = ctx.peers;
		*npeers = ctx.npeers;
	} else
		free(ctx.peers);
	return ASOC_OK;
}

static int
asoc_rank_cmp(const void *a, const void *b)
{
	const asoc_rank_stat_t *x = a, *y = b;

	return (x->rank > y->rank) - (x->rank < y->rank);
}

asoc_status_t
asoc_stat_ranks(asoc_t *as, asoc_ranks_stat_t *mode, asoc_rank_stat_t **ranks,
    size_t *nranks)
{
	struct asoc_stat_ctx ctx;
	asoc_status_t st;

	if (as == NULL)
		return ASOC_EINVAL;
	if (ranks != NULL)
		*ranks = NULL;
	if (nranks != NULL)
		*nranks = 0;
	if ((st = asoc_enter(as)) != ASOC_OK)
		return st;
	if (ranks != NULL && nranks == NULL)
		return libasoc_fail(as, ASOC_EINVAL, "asoc_stat_ranks: ranks "
		    "needs nranks");

	memset(&ctx, 0, sizeof ctx);
	ctx.want_ranks = ranks != NULL;
	if ((st = asoc_stat_query(as, &ctx)) != ASOC_OK) {
		free(ctx.ranks);
		return st;
	}
	if (mode != NULL)
		*mode = ctx.mode;
	if (ranks != NULL && ctx.nranks > 0) {
		qsort(ctx.ranks, ctx.nranks, sizeof *ctx.ranks, asoc_rank_cmp);
		*ranks = ctx.ranks;
		*nranks = ctx.nranks;
	} else
		free(ctx.ranks);
	return ASOC_OK;
}

/* The node of each rank, from asocd (L_WHERE): it writes them into a
 * small shared buffer of the session's, once every rank has joined. */
asoc_status_t
asoc_rank_nodes(asoc_t *as, int *nodes)
{
	struct asoc_req req;
	struct proto_msg m;
	const uint8_t *p;
	asoc_status_t st;
	uint32_t v;
	int i;

	if (as == NULL)
		return ASOC_EINVAL;
	if ((st = asoc_enter(as)) != ASOC_OK)
		return st;
	if (nodes == NULL)
		return libasoc_fail(as, ASOC_EINVAL, "asoc_rank_nodes: nodes is "
		    "NULL; pass room for asoc_world_size() entries");
	if (as->join.mode == LIBASOC_JOIN_STATUS)
		return libasoc_fail(as, ASOC_EINVAL, "asoc_rank_nodes: a "
		    "status-only session (ASOC_OPEN_STATUS) has no world");
	if (as->join.mode == LIBASOC_JOIN_NODE) {
		for (i = 0; i < as->world; i++)
			nodes[i] = i;	/* a node rank is its node */
		return ASOC_OK;
	}
	if (as->where == NULL && (st = asoc_buf_alloc(as,
	    (size_t)as->world * 4, &as->where)) != ASOC_OK)
		return st;
	memset(&m, 0, sizeof m);
	m.hdr.type = PT_L_WHERE;
	m.u.l_xfer.buf_id = as->where->id;
	m.u.l_xfer.len = (uint64_t)as->world * 4;
	m.u.l_xfer.peer = 0;
	m.u.l_xfer.timeout_ms = as->timeout_ms;
	memset(&req, 0, sizeof req);
	if ((st = asoc_call(as, &req, ASOC_REQ_WHERE, 0, &m, -1)) != ASOC_OK)
		return st;
	if (req.result != (uint64_t)as->world)
		return libasoc_fail(as, ASOC_EPROTO, "asocd (pid %u) located %"
		    PRIu64 " ranks when asked for %d; this is an asocd bug",
		    as->daemon_pid, req.result, as->world);
	p = as->where->ptr;
	for (i = 0; i < as->world; i++, p += 4) {
		v = (uint32_t)p[0] | (uint32_t)p[1] << 8 |
		    (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
		if (v >= (uint32_t)as->nodes)
			return libasoc_fail(as, ASOC_EPROTO, "asocd (pid %u) "
			    "says rank %d lives on node %u of %d; this is an "
			    "asocd bug", as->daemon_pid, i, v, as->nodes);
		nodes[i] = (int)v;
	}
	return ASOC_OK;
}
