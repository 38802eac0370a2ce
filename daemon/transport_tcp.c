/*
 * transport_tcp.c: the TCP transport, the last entry of the transport
 * table: the fallback wherever a one-sided transport is not possible.
 *
 * Sending: DATA headers go into an evbuffer and the payload is added by
 * reference (evbuffer_add_reference), so the kernel reads it straight from
 * the client's shared buffer; a reference on the buffer keeps it mapped
 * until the bytes have left.  Chunks of all active transfers on a
 * connection take turns, so one large transfer never blocks the others.
 * An eager RTS's message (64K at most) is copied instead: see
 * tcp_add_payload.
 *
 * Receiving: headers are read into a small buffer, and each payload is
 * read() directly into the receiver's mapped buffer at the granted offset:
 * no intermediate copy.  An eager RTS (at most PROTO_EAGER_MAX bytes of
 * message) is read whole into the connection's input buffer and handed
 * up from there; xfer.c copies it into the receive, or keeps a copy.
 *
 * With TLS (tls.c), the same code runs through tcp_io_read() and
 * tcp_io_write(), which use the SSL object instead of the socket: still
 * no copy on our side.  The TLS handshake runs first, from the same
 * events, and the peer handshake (HELLO) starts once it is done.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "asocd.h"
#include "buffer.h"
#include "listener.h"
#include "log.h"
#include "netaddr.h"
#include "peer.h"
#include "tls.h"
#include "portseq.h"
#include "tcp_cc.h"
#include "transport_tcp.h"

#define TCP_READ_BUDGET	(16u << 20)	/* per callback, for fairness */
/* The largest body read whole into tcp_conn.in: an eager RTS with its
 * message (every other body but DATA's payload is fixed and smaller). */
#define TCP_IN_BODY	(PROTO_RTS_LEN + PROTO_EAGER_MAX)
/* Each read asks for at least this much: the frames that follow a small
 * one (a burst of RTS, ACK, CTS) come in the same read(2). */
#define TCP_READ_AHEAD	4096
/* The first unparsed byte of tc->in. */
#define TCP_IN(tc)	((tc)->in + (tc)->off)
_Static_assert(TCP_IN_BODY >= PROTO_MAX_FIXED,
    "tcp_conn.in holds any fixed body too");

enum tcp_rx {
	RX_HDR,
	RX_BODY,
	RX_DATA_FIXED,
	RX_PAYLOAD,
};

struct tcp_conn {
	struct conn *c;
	int fd;
	struct event *ev_read, *ev_write;
	struct evbuffer *out;
	enum tcp_rx rx;
	/* What was read and not yet parsed: have bytes from in[off], the
	 * frame being parsed first, what was read ahead after it.  Parsing
	 * moves off; the bytes move to in[0] only when a read would not fit
	 * behind them (tcp_read_in), not after every frame. */
	uint8_t in[PROTO_HDR_LEN + TCP_IN_BODY];
	size_t off;
	size_t have;
	int drained;		/* a read came up short in this callback */
	struct proto_hdr hdr;
	uint64_t pay_left;
	uint8_t *dst;
	struct tls_conn *tls;	/* NULL: plain TCP */
	int tls_up;		/* TLS handshake done */
	int tls_checked;	/* accepted: the first byte was a TLS record */
	int read_wants_write;	/* SSL_read waits for the fd to be writable */
	int write_wants_read;	/* and SSL_write for it to be readable */
	struct event *tls_timer;	/* the TLS handshake must finish */
};

static int tcp_listen_fd = -1;
static struct event *tcp_listen_ev;
/* Refusals anyone who reaches the port can cause: a limited rate. */
static struct log_limit tcp_refusals;
static uint8_t tcp_scratch[64 * 1024];	/* payload nobody wants any more */

static void tcp_on_read(evutil_socket_t, short, void *);
static void tcp_on_write(evutil_socket_t, short, void *);

/* The one read and the one write of the transport: the socket, or the
 * TLS session on it.  Same results as read(2) and evbuffer_write(3). */
static ssize_t
tcp_io_read(struct tcp_conn *tc, void *buf, size_t len)
{
	ssize_t n;

	if (tc->tls == NULL)
		return read(tc->fd, buf, len);
	n = tls_conn_read(tc->tls, buf, len);
	if (n < 0 && errno == EAGAIN && tls_conn_wants_write(tc->tls)) {
		tc->read_wants_write = 1;
		event_add(tc->ev_write, NULL);
	}
	return n;
}

static int
tcp_io_write(struct tcp_conn *tc)
{
	int n;

	if (tc->tls == NULL)
		return evbuffer_write(tc->out, tc->fd);
	n = tls_conn_write(tc->tls, tc->out);
	if (n < 0 && errno == EAGAIN && !tls_conn_wants_write(tc->tls))
		tc->write_wants_read = 1;
	return n;
}

/* A read or write failed for good.  A TLS failure before the peer
 * handshake is done would otherwise only reach the debug log (the
 * connector retries): say it here, naming the peer. */
static void
tcp_io_lost(struct tcp_conn *tc, const char *what, int err)
{
	static char last[sizeof tc->c->name + 256];
	struct conn *c = tc->c;
	char line[sizeof last];

	if (tc->tls == NULL) {
		peer_conn_lost(c, "%s: %s", what, strerror(err));
		return;
	}
	if (!c->up) {
		/* The connector's retries fail alike: warn once. */
		snprintf(line, sizeof line, "TLS with %s failed: %s", c->name,
		    tls_conn_error(tc->tls));
		if (!c->outgoing)	/* anyone can cause these */
			log_warn_limited(&tcp_refusals, "%s", line);
		else if (strcmp(line, last) != 0)
			log_warn("%s", line);
		else
			log_debug("%s", line);
		memcpy(last, line, sizeof last);
	}
	peer_conn_lost(c, "TLS %s: %s", what, tls_conn_brief(tc->tls));
}

static void
tcp_sockopts(int fd)
{
	unsigned timeout_ms = asocd->conf->connection_timeout * 1000;
	int one = 1, idle, cnt = 3;

	/* Control messages are small and latency-bound. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	/* A dead peer is noticed within the connection timeout, even when
	 * nothing is being sent (keepalive) or data is stuck (user
	 * timeout). */
	idle = (int)asocd->conf->connection_timeout / 3;
	if (idle < 1)
		idle = 1;
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &idle, sizeof idle);
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof cnt);
	setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &timeout_ms,
	    sizeof timeout_ms);
}

static struct tcp_conn *
tcp_conn_new(struct conn *c, int fd)
{
	struct tcp_conn *tc;

	if ((tc = calloc(1, sizeof *tc)) == NULL)
		return NULL;
	tc->c = c;
	tc->fd = fd;
	tc->out = evbuffer_new();
	tc->ev_read = event_new(asocd->base, fd, EV_READ | EV_PERSIST,
	    tcp_on_read, tc);
	tc->ev_write = event_new(asocd->base, fd, EV_WRITE | EV_PERSIST,
	    tcp_on_write, tc);
	if (tc->out == NULL || tc->ev_read == NULL || tc->ev_write == NULL) {
		if (tc->out != NULL)
			evbuffer_free(tc->out);
		if (tc->ev_read != NULL)
			event_free(tc->ev_read);
		if (tc->ev_write != NULL)
			event_free(tc->ev_write);
		free(tc);
		return NULL;
	}
	c->priv = tc;
	return tc;
}

static void
tcp_unref_chunk(const void *data, size_t len, void *arg)
{
	(void)data;
	(void)len;
	buffer_unref(arg);
}

/* Queue DATA frames while the output is short; xfer's scheduler says
 * which (chunks of all transfers take turns). */
static void
tcp_fill(struct tcp_conn *tc)
{
	struct conn *c = tc->c;
	size_t high = 2 * asocd->conf->chunk_size;
	uint8_t hdr[PROTO_HDR_LEN + PROTO_DATA_LEN];
	struct xfer_chunk ch;
	struct proto_msg m;

	while (evbuffer_get_length(tc->out) < high &&
	    xfer_next_chunk(c, &ch)) {
		memset(&m, 0, sizeof m);
		m.hdr.type = PT_DATA;
		m.hdr.id = ch.x->id;
		m.u.data.offset = ch.off;
		m.payload_len = (size_t)ch.len;
		if (proto_encode(&m, hdr, sizeof hdr) != sizeof hdr) {
			/* Nothing sane to send (a grant of 0 bytes, say):
			 * never the stack's bytes in place of a header. */
			peer_conn_lost(c, "cannot frame %llu bytes at offset "
			    "%llu of transfer %llu as DATA",
			    (unsigned long long)ch.len,
			    (unsigned long long)ch.off,
			    (unsigned long long)ch.x->id);
			return;
		}
		buffer_ref(ch.buf);
		if (evbuffer_add(tc->out, hdr, sizeof hdr) < 0 ||
		    evbuffer_add_reference(tc->out, ch.src, (size_t)ch.len,
		    tcp_unref_chunk, ch.buf) < 0) {
			buffer_unref(ch.buf);
			peer_conn_lost(c, "out of memory queueing data");
			return;
		}
		xfer_chunk_posted(&ch);
	}
}

static void
tcp_flush(struct tcp_conn *tc)
{
	int n;

	if (tc->tls != NULL && !tc->tls_up)
		return;		/* queued until the TLS handshake is done */
	for (;;) {
		tcp_fill(tc);
		if (tc->c->dead)
			return;
		if (evbuffer_get_length(tc->out) == 0) {
			if (!tc->read_wants_write)
				event_del(tc->ev_write);
			return;
		}
		n = tcp_io_write(tc);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			tcp_io_lost(tc, "write", errno);
			return;
		}
		if (n == 0)
			break;
	}
	/* SSL_write waiting for the peer's bytes: the read event retries. */
	if (tc->write_wants_read && !tc->read_wants_write)
		event_del(tc->ev_write);
	else
		event_add(tc->ev_write, NULL);
}

/* An eager RTS's message (at most 64K) is copied after its fixed part,
 * not referenced as DATA is: the frame may still wait in tc->out when the
 * send is cancelled or times out and its client reuses the buffer, and
 * then the receiver would place the new bytes as a success.  Copied, what
 * leaves is what the client had when it posted the send. */
static int
tcp_add_payload(struct tcp_conn *tc, const struct proto_msg *m)
{
	if (m->payload_len == 0)
		return 0;
	return evbuffer_add(tc->out, m->payload, m->payload_len);
}

static void
tcp_send_ctl(struct conn *c, struct proto_msg *m)
{
	struct tcp_conn *tc = c->priv;
	uint8_t buf[PROTO_HDR_LEN + PROTO_MAX_FIXED];
	size_t n;

	if (c->dead)
		return;
	n = proto_encode(m, buf, sizeof buf);
	if (n == 0 || evbuffer_add(tc->out, buf, n) < 0 ||
	    tcp_add_payload(tc, m) < 0) {
		peer_conn_lost(c, "cannot queue %s", proto_type_name(m->hdr.type));
		return;
	}
	if (c->auth.st != HSS_CONNECTING)
		tcp_flush(tc);
}

/* x is queued (xfer_on_cts), or an extra connection came up (x NULL):
 * the writers of the pair's connection and of its extra ones take chunks
 * in turn, each while its own output is short. */
static void
tcp_start_data(struct conn *c, struct xfer *x)
{
	struct conn *l, *next;

	(void)x;
	tcp_flush(c->priv);
	TAILQ_FOREACH_SAFE(l, &c->lanes, lane_entry, next) {
		if (c->dead)
			return;
		if (l->up && !l->dead)
			tcp_flush(l->priv);
	}
}

static void
tcp_tls_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct tcp_conn *tc = arg;

	(void)fd;
	(void)what;
	log_warn_limited(&tcp_refusals, "TLS with %s failed: no TLS "
	    "handshake within %u s", tc->c->name,
	    asocd->conf->connection_timeout);
	peer_conn_lost(tc->c, "no TLS handshake within %u s",
	    asocd->conf->connection_timeout);
}

/* Starts TLS on a connected socket; host NULL for an accepted one.  The
 * peer handshake waits for tcp_tls_step() to finish it. */
static int
tcp_tls_start(struct tcp_conn *tc, const char *host, char *err,
    size_t errlen)
{
	struct timeval tv = { asocd->conf->connection_timeout, 0 };

	if ((tc->tls = tls_conn_new(tc->fd, host, err, errlen)) == NULL)
		return -1;
	tc->tls_timer = evtimer_new(asocd->base, tcp_tls_timeout, tc);
	if (tc->tls_timer == NULL || evtimer_add(tc->tls_timer, &tv) < 0) {
		snprintf(err, errlen, "cannot arm the TLS handshake timer");
		return -1;
	}
	return 0;
}

/* A plaintext asocd dialled our TLS port: answer in its own language,
 * so it stops retrying and logs why. */
static void
tcp_refuse_plaintext(struct tcp_conn *tc)
{
	uint8_t buf[PROTO_HDR_LEN + PROTO_MAX_FIXED];
	struct proto_msg m;
	size_t n;
	int i;

	memset(&m, 0, sizeof m);
	m.hdr.type = PT_REFUSE;
	m.u.refuse.status = PS_EPERM;
	m.u.refuse.version = PROTO_VERSION;
	snprintf(m.u.refuse.msg, sizeof m.u.refuse.msg, "this asocd requires "
	    "TLS: give every node --tls-cert, --tls-key and --tls-ca");
	log_warn_limited(&tcp_refusals, "refused peer %s: it speaks "
	    "plaintext, this asocd requires TLS: give every node the same "
	    "--tls-* settings", tc->c->name);
	/* Read what it sent (its HELLO), so closing sends a FIN, not an RST
	 * that could overtake our answer; a bounded read, whoever it is. */
	for (i = 0; i < 16 && read(tc->fd, buf, sizeof buf) > 0; i++)
		;
	if ((n = proto_encode(&m, buf, sizeof buf)) > 0)
		(void)!write(tc->fd, buf, n);
	peer_conn_lost(tc->c, "plaintext peer on a TLS port");
}

/* One step of the TLS handshake, from either event.  Done: the peer
 * handshake starts over the TLS channel. */
static void
tcp_tls_step(struct tcp_conn *tc)
{
	struct conn *c = tc->c;
	char from[sizeof c->name], desc[320];
	uint8_t b;
	ssize_t n;
	int rc;

	if (!c->outgoing && !tc->tls_checked) {
		n = recv(tc->fd, &b, 1, MSG_PEEK);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			peer_conn_lost(c, "closed before the TLS handshake");
			return;
		}
		if (b != 0x16) {	/* not a TLS handshake record */
			tcp_refuse_plaintext(tc);
			return;
		}
		tc->tls_checked = 1;
	}
	if ((rc = tls_conn_handshake(tc->tls)) < 0) {
		tcp_io_lost(tc, "handshake", errno);
		return;
	}
	if (rc == 0) {
		if (tls_conn_wants_write(tc->tls))
			event_add(tc->ev_write, NULL);
		else
			event_del(tc->ev_write);
		return;
	}
	tc->tls_up = 1;
	event_free(tc->tls_timer);
	tc->tls_timer = NULL;
	event_del(tc->ev_write);
	tls_conn_describe(tc->tls, desc, sizeof desc);
	log_info("TLS with %s: %s", c->name, desc);
	if (c->outgoing)
		peer_conn_opened(c);
	else {
		snprintf(from, sizeof from, "%s", c->name);
		peer_conn_accepted(c, from);
	}
}

/* Which local port a connection we opened has: what `ss` shows, so that
 * one of a pair's connections can be told from the others (a test kills
 * one extra connection of --conns-per-peer by it). */
static void
tcp_log_local(const struct conn *c, int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	uint16_t port = 0;

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return;
	if (ss.ss_family == AF_INET)
		port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	else if (ss.ss_family == AF_INET6)
		port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	log_debug("%s: connected from local port %u", c->name, port);
}

static void
tcp_on_write(evutil_socket_t fd, short what, void *arg)
{
	struct tcp_conn *tc = arg;
	struct conn *c = tc->c;
	char msg[160];
	socklen_t len;
	int err = 0;

	(void)what;
	if (tc->tls != NULL && !tc->tls_up) {
		tcp_tls_step(tc);
		/* Done here, the peer's first records may already sit in
		 * OpenSSL's read-ahead, which the socket will not announce. */
		if (tc->tls_up && !c->dead && tls_conn_pending(tc->tls))
			event_active(tc->ev_read, EV_READ, 0);
		return;
	}
	if (c->auth.st == HSS_CONNECTING) {
		len = sizeof err;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		if (err != 0) {
			peer_conn_lost(c, "connect: %s", strerror(err));
			return;
		}
		event_add(tc->ev_read, NULL);
		tcp_log_local(c, fd);
		if (tls_enabled()) {
			if (tcp_tls_start(tc, c->peer->host, msg,
			    sizeof msg) < 0) {
				peer_conn_lost(c, "%s", msg);
				return;
			}
			tcp_tls_step(tc);
			return;
		}
		peer_conn_opened(c);
		return;
	}
	tcp_flush(tc);
	/* SSL_read could not go on until the socket took bytes. */
	if (!c->dead && tc->read_wants_write) {
		tc->read_wants_write = 0;
		tcp_on_read(fd, EV_READ, tc);
	}
}

/* Makes tc->in hold at least `want` bytes: 1 when it does, 0 when the
 * socket is drained first, -1 when the connection is gone.  A read asks
 * for TCP_READ_AHEAD bytes at least, so the frames behind this one are
 * often read with it (PROFILE.md: a read per header and one per body).
 * A plain socket that gave less than asked is drained: no read is made
 * just to hear EAGAIN (the level-triggered read event says when more
 * comes); OpenSSL may hold more than the socket shows, so with TLS the
 * reads go on until EAGAIN.  Before the peer handshake is done, reads
 * take exactly the frame: a peer refused then (a TLS client on a
 * plaintext port, say) sees its bytes left unread, and so a reset that
 * its error message names, as before. */
static int
tcp_read_in(struct tcp_conn *tc, size_t want)
{
	size_t ask, room;
	ssize_t n;

	while (tc->have < want) {
		if (tc->drained)
			return 0;
		if (tc->off > 0 && tc->off + (want > TCP_READ_AHEAD ? want :
		    TCP_READ_AHEAD) > sizeof tc->in) {
			memmove(tc->in, TCP_IN(tc), tc->have);
			tc->off = 0;
		}
		room = sizeof tc->in - tc->off - tc->have;
		ask = want - tc->have;
		if (ask < TCP_READ_AHEAD && tc->c->up)
			ask = room < TCP_READ_AHEAD ? room : TCP_READ_AHEAD;
		n = tcp_io_read(tc, TCP_IN(tc) + tc->have, ask);
		if (n > 0) {
			tc->have += (size_t)n;
			if ((size_t)n < ask && tc->tls == NULL)
				tc->drained = 1;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (n == 0)
			peer_conn_lost(tc->c, tc->have == 0 ? "closed by peer" :
			    "closed by peer mid-message");
		else
			tcp_io_lost(tc, "read", errno);
		return -1;
	}
	return 1;
}

/* The first n unparsed bytes of tc->in are parsed: what was read after
 * them is next (moved to the front only when a read needs the room). */
static void
tcp_consume(struct tcp_conn *tc, size_t n)
{
	tc->have -= n;
	tc->off = tc->have > 0 ? tc->off + n : 0;
}

static int
tcp_rx_header(struct tcp_conn *tc)
{
	enum proto_err err;

	err = proto_decode_hdr(TCP_IN(tc), PROTO_HDR_LEN, PROTO_CH_PEER,
	    &tc->hdr);
	if (err != PROTO_OK && tc->tls == NULL && TCP_IN(tc)[0] == 0x16 &&
	    TCP_IN(tc)[1] == 0x03) {
		/* A TLS ClientHello (or ServerHello) on a plaintext link. */
		log_warn_limited(&tcp_refusals, "refused peer %s: it speaks "
		    "TLS, this asocd runs without TLS: give every node the "
		    "same --tls-* settings", tc->c->name);
		peer_conn_lost(tc->c, "TLS peer on a plaintext port");
		return -1;
	}
	if (err == PROTO_EVERSION) {
		peer_conn_bad_version(tc->c, tc->hdr.version);
		return -1;
	}
	if (err != PROTO_OK) {
		peer_conn_lost(tc->c, "bad message header: %s",
		    proto_strerror(err));
		return -1;
	}
	tc->rx = tc->hdr.type == PT_DATA ? RX_DATA_FIXED : RX_BODY;
	return 0;
}

static int
tcp_rx_body(struct tcp_conn *tc)
{
	struct proto_msg m;
	enum proto_err err;

	err = proto_decode_body(&tc->hdr, TCP_IN(tc) + PROTO_HDR_LEN,
	    tc->hdr.length, &m);
	if (err != PROTO_OK) {
		peer_conn_lost(tc->c, "bad %s: %s", proto_type_name(tc->hdr.type),
		    proto_strerror(err));
		return -1;
	}
	tc->rx = RX_HDR;
	/* An eager RTS's payload points into tc->in: consumed only once
	 * the message has been handled. */
	peer_conn_msg(tc->c, &m);
	if (tc->c->dead)
		return -1;
	tcp_consume(tc, PROTO_HDR_LEN + tc->hdr.length);
	return 0;
}

static int
tcp_rx_data(struct tcp_conn *tc)
{
	struct proto_msg m;
	struct xfer *x;

	if (proto_decode_body(&tc->hdr, TCP_IN(tc) + PROTO_HDR_LEN,
	    PROTO_DATA_LEN, &m) != PROTO_OK) {
		peer_conn_lost(tc->c, "bad DATA frame");
		return -1;
	}
	if (xfer_on_data(tc->c, tc->hdr.id, m.u.data.offset, m.payload_len,
	    &tc->dst, &x) < 0)
		return -1;
	tcp_consume(tc, PROTO_HDR_LEN + PROTO_DATA_LEN);
	tc->pay_left = m.payload_len;
	tc->rx = RX_PAYLOAD;
	return 0;
}

static int
tcp_rx_payload(struct tcp_conn *tc, size_t *budget)
{
	struct conn *c = tc->c;
	struct xfer *x;
	size_t want;
	ssize_t n;

	while (tc->pay_left > 0) {
		x = c->rx_cur;
		want = tc->pay_left > SIZE_MAX ? SIZE_MAX : (size_t)tc->pay_left;
		if (tc->have > 0) {
			/* Payload read ahead with its header: copied from
			 * tc->in (at most TCP_READ_AHEAD-odd bytes). */
			n = (ssize_t)(want < tc->have ? want : tc->have);
			if (x != NULL)
				memcpy(tc->dst, TCP_IN(tc), (size_t)n);
			tcp_consume(tc, (size_t)n);
		} else {
			if (x == NULL && want > sizeof tcp_scratch)
				want = sizeof tcp_scratch;
			n = tcp_io_read(tc, x != NULL ? tc->dst : tcp_scratch,
			    want);
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (n == 0) {
			peer_conn_lost(c, "closed by peer mid-data");
			return -1;
		}
		if (n < 0) {
			tcp_io_lost(tc, "read", errno);
			return -1;
		}
		tc->pay_left -= (uint64_t)n;
		if (x != NULL) {
			tc->dst += n;
			xfer_data_landed(x, (uint64_t)n);	/* may free x */
			if (c->dead)
				return -1;
		}
		if ((size_t)n >= *budget) {
			*budget = 0;
			return 0;
		}
		*budget -= (size_t)n;
	}
	xfer_data_frame_end(c);
	tc->rx = RX_HDR;
	return 1;
}

/* Reads until the socket is drained, the connection is gone, or the
 * budget is spent: then 1. */
static int
tcp_read_some(struct tcp_conn *tc)
{
	size_t budget = TCP_READ_BUDGET;
	int rc;

	tc->drained = 0;

	while (!tc->c->dead && budget > 0) {
		switch (tc->rx) {
		case RX_HDR:
			if ((rc = tcp_read_in(tc, PROTO_HDR_LEN)) <= 0)
				return 0;
			if (tcp_rx_header(tc) < 0)
				return 0;
			break;
		case RX_BODY:
			if ((rc = tcp_read_in(tc, PROTO_HDR_LEN +
			    tc->hdr.length)) <= 0)
				return 0;
			if (tcp_rx_body(tc) < 0)
				return 0;
			budget -= budget > 64 ? 64 : budget;
			break;
		case RX_DATA_FIXED:
			if ((rc = tcp_read_in(tc, PROTO_HDR_LEN +
			    PROTO_DATA_LEN)) <= 0)
				return 0;
			if (tcp_rx_data(tc) < 0)
				return 0;
			break;
		case RX_PAYLOAD:
			/* 0 is either "would block" or "out of budget": the
			 * caller must tell them apart (TLS may hold bytes). */
			if ((rc = tcp_rx_payload(tc, &budget)) < 0)
				return 0;
			if (rc == 0)
				return !tc->c->dead && budget == 0;
			break;
		}
	}
	return !tc->c->dead && budget == 0;
}

static void
tcp_on_read(evutil_socket_t fd, short what, void *arg)
{
	struct tcp_conn *tc = arg;

	(void)fd;
	(void)what;
	if (tc->tls != NULL) {
		if (!tc->tls_up) {
			tcp_tls_step(tc);
			if (!tc->tls_up || tc->c->dead)
				return;
		}
		/* SSL_write could not go on until the peer's bytes came. */
		if (tc->write_wants_read) {
			tc->write_wants_read = 0;
			tcp_flush(tc);
			if (tc->c->dead)
				return;
		}
	}
	/* Out of budget with bytes read ahead into tc->in, or inside
	 * OpenSSL: the socket may never say readable for them, so come back
	 * on our own.  (When a read came up short or SSL_read said
	 * WANT_READ, the socket was drained and will say so itself.) */
	if (tcp_read_some(tc) && (tc->have > 0 ||
	    (tc->tls != NULL && tls_conn_pending(tc->tls))))
		event_active(tc->ev_read, EV_READ, 0);
}

static void
tcp_close(struct conn *c)
{
	struct tcp_conn *tc = c->priv;

	if (tc != NULL) {
		/* One last try, so a REFUSE reaches the peer. */
		if (c->auth.st != HSS_CONNECTING &&
		    evbuffer_get_length(tc->out) > 0 &&
		    (tc->tls == NULL || tc->tls_up))
			(void)tcp_io_write(tc);
		tls_conn_free(tc->tls);
		tc->tls = NULL;
		if (tc->tls_timer != NULL)
			event_free(tc->tls_timer);
		event_free(tc->ev_read);
		event_free(tc->ev_write);
		evbuffer_free(tc->out);	/* drops the buffer references */
		close(tc->fd);
		tc->fd = -1;
		listener_fd_freed();
		/* The read loop that got us here still looks at tc: free it,
		 * like the conn, once the callbacks have returned. */
		asocd_free_later(tc, "a TCP connection");
	}
	conn_free_later(c);
}

static struct conn *
tcp_connect(struct peer *p, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	struct tcp_conn *tc;
	struct conn *c;
	socklen_t len;
	int fd;

	if (netaddr_resolve(p->host, p->port, &ss, &len, err, errlen) < 0)
		return NULL;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return NULL;
	}
	tcp_sockopts(fd);
	/* Before connect, so that the kernel's default (BBR, say) never
	 * starts on it; accepted sockets inherit the listener's. */
	tcp_cc_apply(fd);
	if (connect(fd, (struct sockaddr *)&ss, len) < 0 &&
	    errno != EINPROGRESS) {
		snprintf(err, errlen, "connect: %s", strerror(errno));
		close(fd);
		return NULL;
	}
	if ((c = conn_new(&transport_tcp, p, 1)) == NULL ||
	    (tc = tcp_conn_new(c, fd)) == NULL) {
		if (c != NULL)
			conn_free_later(c);
		close(fd);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(c->name, sizeof c->name, "rank %u (%s:%u)", p->rank, p->host,
	    p->port);
	event_add(tc->ev_write, NULL);	/* writable: connected (or not) */
	return c;
}

/* The caller's address without its port: what the caps on pending
 * handshakes count by. */
static void
tcp_source(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	const void *a = ss->ss_family == AF_INET6 ?
	    (const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr :
	    (const void *)&((const struct sockaddr_in *)ss)->sin_addr;

	if (inet_ntop(ss->ss_family, a, buf, (socklen_t)len) == NULL)
		snprintf(buf, len, "?");
}

static void
tcp_on_accept(evutil_socket_t lfd, short what, void *arg)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	struct tcp_conn *tc;
	struct conn *c;
	char from[80], src[64], err[160];
	int fd;

	(void)what;
	(void)arg;
	fd = accept4(lfd, (struct sockaddr *)&ss, &len,
	    SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		/* Out of descriptors: pause rather than spin (listener.c). */
		listener_accept_failed(tcp_listen_ev, errno, "the peer port");
		return;
	}
	tcp_sockopts(fd);
	netaddr_format((struct sockaddr *)&ss, from, sizeof from);
	if ((c = conn_new(&transport_tcp, NULL, 0)) == NULL ||
	    (tc = tcp_conn_new(c, fd)) == NULL) {
		log_warn_limited(&tcp_refusals, "out of memory: dropped "
		    "connection from %s", from);
		if (c != NULL)
			conn_free_later(c);
		close(fd);
		listener_fd_freed();
		return;
	}
	event_add(tc->ev_read, NULL);
	/* Counted from now on, TLS included: it holds a descriptor. */
	snprintf(c->name, sizeof c->name, "%s", from);
	tcp_source(&ss, src, sizeof src);
	peer_conn_admit(c, src);
	if (tls_enabled()) {
		/* The peer layer hears of it once TLS is up. */
		if (tcp_tls_start(tc, NULL, err, sizeof err) < 0) {
			log_warn_limited(&tcp_refusals, "dropped connection "
			    "from %s: %s", from, err);
			peer_conn_lost(c, "%s", err);
		}
		return;
	}
	peer_conn_accepted(c, from);
}

static int
tcp_listen(char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int one = 1, fd;
	uint16_t port = asocd->peers[asocd->rank].port;
	unsigned try = 0;
	int rc;

again:
	if (netaddr_resolve(asocd->listen_host, port, &ss, &len, err,
	    errlen) < 0)
		return -1;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	rc = bind(fd, (struct sockaddr *)&ss, len);
	if (rc < 0 && errno == EADDRINUSE && ++try < asocd->conf->port_tries) {
		/* Taken: the job's next candidate (portseq.h), which the
		 * peers will dial after this one. */
		log_info("port %u on %s is taken; trying the next candidate",
		    port, asocd->listen_host);
		close(fd);
		port = portseq_port(asocd->conf->port, asocd->conf->port_span,
		    asocd->conf->community, try);
		asocd->peers[asocd->rank].port = port;
		asocd->peers[asocd->rank].port_idx = try;
		goto again;
	}
	if (rc < 0) {
		if (errno == EADDRINUSE)
			snprintf(err, errlen, "cannot listen on %s:%u: address "
			    "already in use: another asocd (or another "
			    "program) holds this port; stop it or choose "
			    "another with --port", asocd->listen_host, port);
		else
			snprintf(err, errlen, "cannot listen on %s:%u: %s",
			    asocd->listen_host, port, strerror(errno));
		close(fd);
		return -1;
	}
	/* Once, on the socket that got its port; before listen, so that
	 * every accepted connection inherits it. */
	if (tcp_cc_setup(fd, asocd->conf->tcp_congestion, err, errlen) < 0) {
		close(fd);
		return -1;
	}
	if (listen(fd, 512) < 0) {
		snprintf(err, errlen, "listen: %s", strerror(errno));
		close(fd);
		return -1;
	}
	tcp_listen_ev = event_new(asocd->base, fd, EV_READ | EV_PERSIST,
	    tcp_on_accept, NULL);
	if (tcp_listen_ev == NULL || event_add(tcp_listen_ev, NULL) < 0) {
		snprintf(err, errlen, "cannot watch the listening socket");
		close(fd);
		return -1;
	}
	tcp_listen_fd = fd;
	log_info("listening for peers on %s:%u (tcp)", asocd->listen_host,
	    port);
	return 0;
}

static void
tcp_stop_listen(void)
{
	if (tcp_listen_ev != NULL) {
		listener_forget(tcp_listen_ev);
		event_free(tcp_listen_ev);
		tcp_listen_ev = NULL;
	}
	if (tcp_listen_fd >= 0) {
		close(tcp_listen_fd);
		tcp_listen_fd = -1;
	}
}

/* An eager RTS is read whole into tcp_conn.in: up to the wire's cap. */
static uint32_t
tcp_eager_max(const struct conn *c)
{
	(void)c;
	return PROTO_EAGER_MAX;
}

/* asoc-stat says whether the bytes to a peer are encrypted. */
static const char *
tcp_describe(const struct conn *c)
{
	(void)c;
	return tls_enabled() ? "tcp+tls" : "tcp";
}

const struct transport transport_tcp = {
	.name = "tcp",
	.title = "TCP",
	.flags = TRANSPORT_LANES,	/* DATA frames land where xfer says,
					 * from any of the pair's connections */
	.listen = tcp_listen,
	.stop_listen = tcp_stop_listen,
	.describe = tcp_describe,
	.connect = tcp_connect,
	.send_ctl = tcp_send_ctl,
	.start_data = tcp_start_data,
	.eager_max = tcp_eager_max,
	.close = tcp_close,
};
