/*
 * asoc-prop: a property test of asocd's local API.  Two clients, one on
 * each daemon of a world of two, speak the raw protocol (so that they can
 * free a buffer under live requests, which libasoc never does) and run a
 * random sequence of register, send, receive, cancel and free, to their
 * own rank and to the other, with random lengths, offsets, tags and
 * deadlines, against a model:
 *
 *   - every request completes exactly once (one L_DONE per id), and an
 *     L_FREE's reply comes after those of the requests on its buffer;
 *   - a received message is, byte for byte, one that was sent to this
 *     rank with that tag and length, received once; a send that succeeded
 *     was received;
 *   - nothing is written outside a live receive's range: every buffer is
 *     shadowed, and every byte not in a live receive (guard bytes, send
 *     ranges, the tail of a receive, a truncated receive, a freed buffer)
 *     must equal its shadow.
 *
 *   asoc-prop SOCKET0 SOCKET1 SECONDS [SEED]
 *
 * Prints the seed, one "ok"/"FAIL" line per property and "N passed, N
 * failed"; the first violation is described and ends the run.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "le.h"
#include "proto.h"
#include "wire-client.h"

#define NBUF 6		/* buffers per client at most */
#define NREQ 48		/* live requests per client at most */
#define NSENDS (1 << 20)	/* send records kept */
#define NTAGS 3

struct pbuf {
	uint64_t id;		/* 0: slot free */
	uint8_t *map, *shadow;
	size_t size;
	int freeing;		/* L_FREE sent, reply pending */
	uint64_t free_req;
};

struct preq {
	uint64_t id;		/* 0: slot free */
	int kind;		/* PT_L_SEND or PT_L_RECV */
	int buf;		/* slot in the client's buffers */
	uint64_t off, len;
	uint64_t tag;
	uint32_t peer;
	uint32_t uid;		/* send: its record */
	int cancelled;
};

struct psend {
	uint32_t src, dst;
	uint64_t tag, len;
	int received;		/* by a receive that succeeded */
	int status;		/* -1 until its L_DONE */
};

struct pclient {
	int fd;
	uint32_t rank;
	struct pbuf bufs[NBUF];
	struct preq reqs[NREQ];
	int nreqs;
	uint64_t next_id;
};

static struct pclient cl[2];
static struct psend *sends;
static uint32_t nsends = 1;	/* uid 0 unused */
static int passed, failed, violated;
static unsigned long ops, dones, recv_ok, recv_trunc, send_ok, cancels,
    frees, local_copies;
static uint64_t rng_state;
/* Messages under 4 bytes cannot carry their uid: two of one shape are
 * indistinguishable, so they are counted by shape (src, dst, tag, len). */
#define SMALL_SHAPE(src, dst, tag, len) \
	((((src) * 2 + (dst)) * NTAGS + (tag)) * 4 + (len))
static unsigned long small_received[2 * 2 * NTAGS * 4];

static uint64_t
rnd(void)
{
	/* xorshift64*: reproducible from the seed alone. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static uint64_t
below(uint64_t n)
{
	return n == 0 ? 0 : rnd() % n;
}

static void
violation(const char *fmt, ...)
{
	va_list ap;

	if (violated++)
		return;
	printf("FAIL - ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

/* The byte i of send uid's payload: its uid in the first 4 bytes, so a
 * receive can tell which send it got. */
static uint8_t
payload(uint32_t uid, uint64_t i)
{
	if (i < 4)
		return (uint8_t)(uid >> (8 * i));
	return (uint8_t)((uid * 2654435761u) ^ (i * 40503u) ^ (i >> 8));
}

/* --- the wire --- */

static void
lsend(struct pclient *c, uint16_t type, uint64_t id, struct proto_msg *m,
    int mfd)
{
	if (wire_local_send(c->fd, type, id, m, &mfd, mfd >= 0, 0) < 0)
		violation("rank %u's daemon is gone (write: %s)", c->rank,
		    strerror(errno));
}

static void
open_client(struct pclient *c, const char *path)
{
	struct proto_msg m;

	memset(c, 0, sizeof *c);
	c->next_id = 1;
	c->fd = wire_must(wire_local_connect(path), "asoc-prop: connect");
	if (wire_local_hello(c->fd, &m, 5000) < 0) {
		fprintf(stderr, "asoc-prop: no L_WELCOME from %s\n", path);
		exit(1);
	}
	c->rank = m.u.l_welcome.rank;
}

/* --- the model's checks --- */

/* 1 when [off, off+len) of buffer b lies in a live receive of c. */
static int
in_live_recv(struct pclient *c, int b, uint64_t i)
{
	int k;

	for (k = 0; k < NREQ; k++) {
		struct preq *r = &c->reqs[k];

		if (r->id != 0 && r->kind == PT_L_RECV && r->buf == b &&
		    i >= r->off && i < r->off + r->len)
			return 1;
	}
	return 0;
}

/* Every byte of every buffer that no live receive may write equals its
 * shadow. */
static void
check_guards(struct pclient *c)
{
	int b;
	uint64_t i;

	for (b = 0; b < NBUF; b++) {
		struct pbuf *p = &c->bufs[b];

		if (p->id == 0)
			continue;
		if (memcmp(p->map, p->shadow, p->size) == 0)
			continue;
		for (i = 0; i < p->size; i++)
			if (p->map[i] != p->shadow[i] &&
			    !in_live_recv(c, b, i)) {
				violation("rank %u buffer %llu (%zu bytes): byte "
				    "%llu was written (0x%02x, was 0x%02x) "
				    "outside every live receive", c->rank,
				    (unsigned long long)p->id, p->size,
				    (unsigned long long)i, p->map[i],
				    p->shadow[i]);
				return;
			}
	}
}

static int
overlaps(struct pclient *c, int b, uint64_t off, uint64_t len)
{
	int k;

	for (k = 0; k < NREQ; k++) {
		struct preq *r = &c->reqs[k];

		if (r->id != 0 && r->buf == b && off < r->off + r->len &&
		    r->off < off + len)
			return 1;
		/* A zero-length range still may not sit inside another. */
		if (r->id != 0 && r->buf == b && len == 0 &&
		    off >= r->off && off < r->off + r->len)
			return 1;
	}
	return 0;
}

static struct preq *
find_req(struct pclient *c, uint64_t id)
{
	int k;

	for (k = 0; k < NREQ; k++)
		if (c->reqs[k].id == id)
			return &c->reqs[k];
	return NULL;
}

static void
recv_done(struct pclient *c, struct preq *r, const struct proto_msg *m)
{
	struct pbuf *p = &c->bufs[r->buf];
	uint8_t *got = p->map + r->off;
	uint64_t n = m->u.l_done.len, i;
	uint32_t uid = 0, u;

	if (m->u.l_done.status == PS_OK) {
		recv_ok++;
		if (n > r->len) {
			violation("rank %u: a %llu-byte receive got %llu bytes",
			    c->rank, (unsigned long long)r->len,
			    (unsigned long long)n);
			return;
		}
		/* Which send: its uid, when the message carries it; else any
		 * unreceived send of that shape and content. */
		if (n >= 4)
			uid = le_get32(got);
		else {
			for (u = nsends - 1; u > 0 && uid == 0; u--) {
				struct psend *s = &sends[u];

				if (s->dst != c->rank || s->len != n ||
				    s->tag != m->u.l_done.tag ||
				    s->src != m->u.l_done.peer)
					continue;
				for (i = 0; i < n && got[i] == payload(u, i);
				    i++)
					;
				if (i == n)
					uid = u;
			}
			if (uid != 0 && m->u.l_done.peer < 2 &&
			    m->u.l_done.tag < NTAGS) {
				small_received[SMALL_SHAPE(m->u.l_done.peer,
				    c->rank, m->u.l_done.tag, n)]++;
				if (sends[uid].src == sends[uid].dst)
					local_copies++;
				memcpy(p->shadow + r->off, got, n);
				return;
			}
		}
		if (uid == 0 || uid >= nsends) {
			violation("rank %u: received %llu bytes (tag %llu, from "
			    "%u) that no send carried", c->rank,
			    (unsigned long long)n,
			    (unsigned long long)m->u.l_done.tag,
			    m->u.l_done.peer);
			return;
		}
		if (sends[uid].received || sends[uid].dst != c->rank ||
		    sends[uid].src != m->u.l_done.peer ||
		    sends[uid].tag != m->u.l_done.tag ||
		    sends[uid].len != n ||
		    (r->peer != PROTO_RANK_ANY && r->peer != sends[uid].src) ||
		    r->tag != sends[uid].tag) {
			violation("rank %u: send %u (from %u to %u, tag %llu, "
			    "%llu bytes%s) does not fit the receive that got "
			    "it (from %u, tag %llu, %llu bytes reported)",
			    c->rank, uid, sends[uid].src, sends[uid].dst,
			    (unsigned long long)sends[uid].tag,
			    (unsigned long long)sends[uid].len,
			    sends[uid].received ? ", received before" : "",
			    r->peer, (unsigned long long)r->tag,
			    (unsigned long long)n);
			return;
		}
		for (i = 0; i < n; i++)
			if (got[i] != payload(uid, i)) {
				violation("rank %u: byte %llu of send %u arrived "
				    "as 0x%02x, not 0x%02x", c->rank,
				    (unsigned long long)i, uid, got[i],
				    payload(uid, i));
				return;
			}
		sends[uid].received = 1;
		if (sends[uid].src == sends[uid].dst)
			local_copies++;
		memcpy(p->shadow + r->off, got, n);
	} else if (m->u.l_done.status == PS_ETRUNC) {
		/* Refused: not a byte of it may have been written. */
		recv_trunc++;
	} else {
		/* Cancelled, timed out, lost: a partial delivery is allowed
		 * inside its range. */
		memcpy(p->shadow + r->off, got, r->len);
	}
}

static void
on_done(struct pclient *c, const struct proto_msg *m)
{
	struct preq *r;
	int b, k;

	dones++;
	for (b = 0; b < NBUF; b++) {
		struct pbuf *p = &c->bufs[b];

		if (p->id == 0 || !p->freeing || p->free_req != m->hdr.id)
			continue;
		/* The buffer's requests all completed before this reply. */
		for (k = 0; k < NREQ; k++)
			if (c->reqs[k].id != 0 && c->reqs[k].buf == b)
				violation("rank %u: L_FREE of buffer %llu "
				    "answered before request %llu on it",
				    c->rank, (unsigned long long)p->id,
				    (unsigned long long)c->reqs[k].id);
		if (m->u.l_done.status != PS_OK)
			violation("rank %u: L_FREE of buffer %llu failed: %s",
			    c->rank, (unsigned long long)p->id,
			    m->u.l_done.msg);
		/* Nothing may touch it from now on: check, then forget. */
		check_guards(c);
		munmap(p->map, p->size);
		free(p->shadow);
		memset(p, 0, sizeof *p);
		return;
	}
	if ((r = find_req(c, m->hdr.id)) == NULL) {
		violation("rank %u: an L_DONE for request %llu, which is not "
		    "live (a second completion?)", c->rank,
		    (unsigned long long)m->hdr.id);
		return;
	}
	if (r->kind == PT_L_RECV)
		recv_done(c, r, m);
	else {
		sends[r->uid].status = (int)m->u.l_done.status;
		if (m->u.l_done.status == PS_OK)
			send_ok++;
	}
	memset(r, 0, sizeof *r);
	c->nreqs--;
	check_guards(c);
}

/* Reads every reply that is there (waits up to ms for the first). */
static void
pump(int ms)
{
	struct pollfd p[2] = { { cl[0].fd, POLLIN, 0 }, { cl[1].fd, POLLIN,
	    0 } };
	struct proto_msg m;
	int i, rc;

	if (poll(p, 2, ms) <= 0)
		return;
	for (i = 0; i < 2; i++)
		while ((rc = wire_local_recv(cl[i].fd, &m, 0)) == 0) {
			if (m.hdr.type == PT_L_DONE)
				on_done(&cl[i], &m);
			if (violated)
				return;
		}
}

/* --- the operations --- */

static void
op_reg(struct pclient *c)
{
	struct proto_msg m;
	struct pbuf *p = NULL;
	size_t size;
	int b, mfd, rc;

	for (b = 0; b < NBUF && p == NULL; b++)
		if (c->bufs[b].id == 0)
			p = &c->bufs[b];
	if (p == NULL)
		return;
	/* Mostly small; now and then a few MiB (many chunks on TCP). */
	size = below(8) == 0 ? 1 + below(6 << 20) : 1 + below(96 << 10);
	mfd = memfd_create("prop", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (mfd < 0 || ftruncate(mfd, (off_t)size) < 0 ||
	    fcntl(mfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) < 0) {
		perror("asoc-prop: memfd");
		exit(1);
	}
	p->map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	p->shadow = malloc(size);
	if (p->map == MAP_FAILED || p->shadow == NULL) {
		perror("asoc-prop: mmap");
		exit(1);
	}
	/* Guard bytes: a pattern no payload is likely to repeat. */
	for (size_t i = 0; i < size; i++)
		p->map[i] = p->shadow[i] = (uint8_t)(0xa5 ^ (i * 7));
	p->size = size;
	memset(&m, 0, sizeof m);
	m.u.l_reg.size = size;
	lsend(c, PT_L_REG, 0xfff0000000000000ull + c->next_id, &m, mfd);
	close(mfd);
	/* The reply, among completions of live requests. */
	for (;;) {
		if ((rc = wire_local_recv(c->fd, &m, 10000)) != 0) {
			violation("rank %u: no reply to L_REG", c->rank);
			return;
		}
		if (m.hdr.id == 0xfff0000000000000ull + c->next_id)
			break;
		on_done(c, &m);
	}
	c->next_id++;
	if (m.u.l_done.status != PS_OK) {
		violation("rank %u: L_REG of %zu bytes failed: %s", c->rank,
		    size, m.u.l_done.msg);
		return;
	}
	p->id = m.u.l_done.len;
}

static void
op_xfer(struct pclient *c, int kind)
{
	struct proto_msg m;
	struct preq *r = NULL;
	struct pbuf *p;
	uint64_t off = 0, len = 0;
	int b, k, tries, bad = below(40) == 0;

	if (c->nreqs >= NREQ)
		return;
	for (k = 0; k < NREQ && r == NULL; k++)
		if (c->reqs[k].id == 0)
			r = &c->reqs[k];
	b = (int)below(NBUF);
	p = &c->bufs[b];
	if (p->id == 0 || p->freeing)
		return;
	for (tries = 0; tries < 8; tries++) {
		off = below(p->size + 1);
		switch (below(6)) {
		case 0:
			len = 0;
			break;
		case 1:
			len = below(8);
			break;
		default:
			len = below(p->size - off + 1);
			break;
		}
		if (off + len <= p->size && !overlaps(c, b, off, len))
			break;
	}
	if (tries == 8)
		return;
	if (bad)	/* a range past the end: refused, nothing touched */
		len = p->size - off + 1 + below(4096);
	memset(r, 0, sizeof *r);
	r->id = c->next_id++;
	r->kind = kind;
	r->buf = b;
	r->off = off;
	r->len = bad ? 0 : len;	/* a refused range guards nothing */
	r->tag = below(NTAGS);
	r->peer = below(2) ? c->rank : 1 - c->rank;
	if (kind == PT_L_RECV && below(4) == 0)
		r->peer = PROTO_RANK_ANY;
	if (kind == PT_L_SEND && !bad && nsends < NSENDS) {
		uint64_t i;

		r->uid = nsends++;
		sends[r->uid].src = c->rank;
		sends[r->uid].dst = r->peer;
		sends[r->uid].tag = r->tag;
		sends[r->uid].len = len;
		sends[r->uid].status = -1;
		for (i = 0; i < len; i++)
			p->map[off + i] = p->shadow[off + i] =
			    payload(r->uid, i);
	} else if (kind == PT_L_SEND && !bad)
		return;
	c->nreqs++;
	memset(&m, 0, sizeof m);
	m.u.l_xfer.buf_id = p->id;
	m.u.l_xfer.offset = off;
	m.u.l_xfer.len = len;
	m.u.l_xfer.tag = r->tag;
	m.u.l_xfer.peer = r->peer;
	m.u.l_xfer.timeout_ms = below(8) == 0 ? 1 + below(200) : 0;
	lsend(c, (uint16_t)kind, r->id, &m, -1);
	ops++;
}

static void
op_cancel(struct pclient *c)
{
	struct proto_msg m;
	struct preq *r = &c->reqs[below(NREQ)];

	if (r->id == 0 || r->cancelled)
		return;
	r->cancelled = 1;
	memset(&m, 0, sizeof m);
	m.u.l_cancel.req_id = r->id;
	lsend(c, PT_L_CANCEL, 0, &m, -1);
	cancels++;
	ops++;
}

static void
op_free(struct pclient *c, int b)
{
	struct proto_msg m;
	struct pbuf *p = &c->bufs[b];

	if (p->id == 0 || p->freeing)
		return;
	p->freeing = 1;
	p->free_req = c->next_id++;
	memset(&m, 0, sizeof m);
	m.u.l_free.buf_id = p->id;
	lsend(c, PT_L_FREE, p->free_req, &m, -1);
	frees++;
	ops++;
}

static void
step(void)
{
	struct pclient *c = &cl[below(2)];
	uint64_t x = below(100);

	if (x < 6)
		op_reg(c);
	else if (x < 46)
		op_xfer(c, PT_L_SEND);
	else if (x < 86)
		op_xfer(c, PT_L_RECV);
	else if (x < 96)
		op_cancel(c);
	else
		op_free(c, (int)below(NBUF));
}

/* Cancels everything, frees every buffer, and waits for the replies. */
static void
quiesce(void)
{
	struct timespec t0, t;
	int i, k, left;

	for (i = 0; i < 2; i++) {
		for (k = 0; k < NREQ; k++)
			if (cl[i].reqs[k].id != 0) {
				struct proto_msg m;

				memset(&m, 0, sizeof m);
				m.u.l_cancel.req_id = cl[i].reqs[k].id;
				lsend(&cl[i], PT_L_CANCEL, 0, &m, -1);
			}
		for (k = 0; k < NBUF; k++)
			op_free(&cl[i], k);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		left = 0;
		for (i = 0; i < 2; i++) {
			left += cl[i].nreqs;
			for (k = 0; k < NBUF; k++)
				left += cl[i].bufs[k].id != 0;
		}
		if (left == 0 || violated)
			return;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec > 30) {
			violation("%d requests or buffers never completed (30 s "
			    "after everything was cancelled)", left);
			return;
		}
		pump(200);
	}
}

int
main(int argc, char **argv)
{
	struct timespec t0, t;
	unsigned long seconds;
	uint32_t u, lost = 0;
	int v;

	if (argc != 4 && argc != 5) {
		fprintf(stderr, "usage: asoc-prop SOCKET0 SOCKET1 SECONDS "
		    "[SEED]\n");
		return 2;
	}
	seconds = strtoul(argv[3], NULL, 10);
	clock_gettime(CLOCK_REALTIME, &t);
	rng_state = argc == 5 ? strtoull(argv[4], NULL, 0) :
	    (uint64_t)t.tv_nsec ^ ((uint64_t)t.tv_sec << 32) ^ getpid();
	if (rng_state == 0)
		rng_state = 1;
	printf("# seed %llu (asoc-prop ... %lu %llu replays it)\n",
	    (unsigned long long)rng_state, seconds,
	    (unsigned long long)rng_state);
	if ((sends = calloc(NSENDS, sizeof *sends)) == NULL)
		return 1;
	open_client(&cl[0], argv[1]);
	open_client(&cl[1], argv[2]);
	if (cl[0].rank == cl[1].rank || cl[0].rank > 1 || cl[1].rank > 1) {
		fprintf(stderr, "asoc-prop: the sockets must be ranks 0 and 1 "
		    "of one world\n");
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		for (v = 0; v < 16 && !violated; v++)
			step();
		pump(below(4) == 0 ? 1 : 0);
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while (!violated && (unsigned long)(t.tv_sec - t0.tv_sec) < seconds);
	if (!violated)
		quiesce();
	for (u = 1; !violated && u < nsends; u++) {
		struct psend *s = &sends[u];

		if (s->status != PS_OK)
			continue;
		if (s->len >= 4 && !s->received)
			lost++;
		else if (s->len < 4) {
			unsigned long *k = &small_received[SMALL_SHAPE(s->src,
			    s->dst, s->tag, s->len)];

			if (*k == 0)
				lost++;
			else
				(*k)--;
		}
	}
	printf("# %lu operations, %lu replies: %lu received (%lu on the same "
	    "node), %lu truncated, %lu sends ok, %lu cancels, %lu frees\n",
	    ops, dones, recv_ok, local_copies, recv_trunc, send_ok, cancels,
	    frees);
	if (violated)
		failed++;
	else {
		passed++;
		printf("ok - every request completed once, every byte where "
		    "it belongs\n");
	}
	if (lost == 0)
		passed++, printf("ok - every send that succeeded was "
		    "received\n");
	else
		failed++, printf("FAIL - %u sends succeeded that no receive "
		    "got\n", lost);
	if (recv_ok == 0 || local_copies == 0 || recv_ok == local_copies)
		failed++, printf("FAIL - the run moved too little to mean "
		    "anything (%lu received, %lu of them on one node)\n",
		    recv_ok, local_copies);
	else
		passed++, printf("ok - messages moved both on one node and "
		    "between the two\n");
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
