/*
 * peer.c: the peer table, finding our rank, the handshake and making
 * connections on first use, with retry and backoff up to the connection
 * timeout.
 *
 * Either side may open the connection that a pair uses: a daemon that
 * needs to send reuses any handshaken connection to that peer, whoever
 * opened it, and opens one only when there is none.
 *
 * One connection per pair: when both ends connect at once, the one the
 * lower rank opened is the pair's (peer_defers, peer_up).  The lower rank
 * does not finish the higher rank's handshake while its own attempt is
 * under way: it answers REFUSE with status OK ("mine is coming") before
 * WELCOME, so the higher rank never saw that connection up and nothing can
 * be on it; the higher rank waits for the lower's, retrying on its back-off
 * only in case that one fails.  Should the higher rank's connection still
 * come up after the lower's (the lower's was up before the higher's HELLO
 * arrived), the higher rank closes its own at once, before anything uses
 * it: the lower rank put nothing on it, since it prefers the connection it
 * opened (peer_up_conn).  Transfers are tied to the connection that
 * carried their RTS, so a duplicate left by a stale connection (a peer
 * restarted) only wastes a descriptor until it is found dead.
 *
 * --conns-per-peer N (TCP only): once the pair's connection is up, the
 * side that opened it opens N-1 extra ones to the same peer, each named in
 * its HELLO (conns N, lane 1..N-1).  They are in no peer list: they carry
 * only DATA frames of the transfers of the pair's connection, which keeps
 * every control message, so ordering and the rank announcements are as
 * with one.  Both ends must have the same N: a HELLO with another is
 * refused, naming both.  Losing any of them loses the pair's connection,
 * and so fails everything on it (peer_lane_lost).
 */
#include "config.h"
#include "peer.h"
#include "portseq.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <event2/event.h>

#include "asocd.h"
#include "auth.h"
#include "handshake.h"
#include "hostlist.h"
#include "log.h"
#include "netaddr.h"
#include "ranks.h"
#include "testhooks.h"

/* What every handshake checks against: set once our rank is known. */
static struct hs_cfg peer_hs_cfg;
static int peer_hs_key_file;	/* the key is a file's, not the community */

#define PEER_BACKOFF_MIN_MS	100
#define PEER_BACKOFF_MAX_MS	2000

/*
 * Accepted connections that have not proven the key yet.  Each holds a
 * descriptor (and memory) for up to --connection-timeout, for anyone who
 * can reach the port; past the caps the oldest is dropped, so a flood
 * cannot keep a real peer's fresh handshake out: that one finishes in
 * milliseconds, the flood's sit waiting.  Per source, all the ranks of a
 * node connecting at once fit (bench/connect-scaling runs 32 on one
 * host); in all, a quarter of the descriptors, so clients and proven
 * peers keep the rest.
 */
#define PEER_PENDING_PER_SOURCE	64
#define PEER_PENDING_MIN	64
static TAILQ_HEAD(, conn) peer_pending =
    TAILQ_HEAD_INITIALIZER(peer_pending);
static unsigned peer_npending;
/* What anyone who reaches the port can make us log: a limited rate. */
static struct log_limit peer_refusals, peer_drops;

static void peer_try(struct peer *p);

/* What a client calls a peer daemon in the messages it gets: its rank,
 * unless the ranks are processes' (then "rank 1" would name one). */
static const char *
peer_word(void)
{
	return ranks_mode() == RANKS_PROC ? "node" : "rank";
}
static void peer_retry(struct peer *p, const char *why);

static void
peer_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	peer_try(arg);
}

static void
peer_now(struct timeval *tv)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	tv->tv_sec = ts.tv_sec;
	tv->tv_usec = ts.tv_nsec / 1000;
}

/* --peers expanded into *hl, *n entries (a world of one without it);
 * *rank is --rank, or 0 for the world of one.  -1 with a message. */
static int
peers_expand(struct hostlist_entry **hl, size_t *n, int *rank, char *err,
    size_t errlen)
{
	struct conf *cf = asocd->conf;

	*rank = cf->rank;
	if (cf->peers != NULL)
		return hostlist_expand(cf->peers, (uint16_t)cf->port, hl, n,
		    err, errlen);
	if (*rank > 0) {
		snprintf(err, errlen, "--rank %d without --peers: a world of "
		    "one has only rank 0", *rank);
		return -1;
	}
	if ((*hl = calloc(1, sizeof **hl)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	proto_set_name((*hl)->host, sizeof (*hl)->host, cf->listen != NULL ?
	    cf->listen : "localhost");
	(*hl)->port = (uint16_t)cf->port;
	*n = 1;
	*rank = 0;
	return 0;
}

/* Without --rank: our rank is the entry with our port on one of our
 * own addresses.  -1 with a message when none is, or two are. */
static int
peers_find_rank(const struct hostlist_entry *hl, size_t n, int *rank,
    char *err, size_t errlen)
{
	unsigned port = asocd->conf->port;
	int found = -1;
	size_t i;

	for (i = 0; i < n; i++) {
		if (hl[i].port != port || !netaddr_is_local(hl[i].host))
			continue;
		if (found >= 0) {
			snprintf(err, errlen, "entries %d (%s:%u) and %zu "
			    "(%s:%u) of --peers are both this node: pass "
			    "--rank", found, hl[found].host, hl[found].port,
			    i, hl[i].host, hl[i].port);
			return -1;
		}
		found = (int)i;
	}
	if (found < 0) {
		snprintf(err, errlen, "this node is not in --peers (no entry "
		    "has port %u and an address of this machine): pass "
		    "--rank N, or fix --peers or --port", port);
		return -1;
	}
	*rank = found;
	return 0;
}

/* asocd->peers from the n entries of hl, ours being rank. */
static int
peers_fill(const struct hostlist_entry *hl, size_t n, int rank)
{
	struct conf *cf = asocd->conf;
	size_t i;

	if ((asocd->peers = calloc(n, sizeof *asocd->peers)) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		struct peer *p = &asocd->peers[i];

		p->rank = (uint32_t)i;
		memcpy(p->host, hl[i].host, sizeof p->host);
		p->port = hl[i].port;
		if (cf->port_tries > 1)
			p->port = portseq_port(cf->port, cf->port_span,
			    cf->community, 0);
		p->state = i == (size_t)rank ? PROTO_PEER_SELF :
		    PROTO_PEER_IDLE;
		p->transport = i == (size_t)rank ? "local" : "-";
		TAILQ_INIT(&p->conns);
		TAILQ_INIT(&p->waiting);
		p->retry_ev = evtimer_new(asocd->base, peer_retry_cb, p);
	}
	return 0;
}

int
peers_init(char *err, size_t errlen)
{
	struct conf *cf = asocd->conf;
	struct hostlist_entry *hl = NULL;
	size_t n = 0;
	int rank;

	if (peers_expand(&hl, &n, &rank, err, errlen) < 0)
		return -1;
	if (n >= PROTO_RANK_MAX) {
		snprintf(err, errlen, "--peers names %zu hosts; at most %u "
		    "are supported", n, PROTO_RANK_MAX - 1);
		free(hl);
		return -1;
	}
	if (rank >= 0 && (size_t)rank >= n) {
		snprintf(err, errlen, "--rank %d but --peers names only %zu "
		    "host%s (ranks 0-%zu)", rank, n, n == 1 ? "" : "s", n - 1);
		free(hl);
		return -1;
	}
	if (rank < 0 && peers_find_rank(hl, n, &rank, err, errlen) < 0) {
		free(hl);
		return -1;
	}
	asocd->world = (uint32_t)n;
	asocd->rank = (uint32_t)rank;
	peer_hs_cfg.rank = asocd->rank;
	peer_hs_cfg.world = asocd->world;
	peer_hs_cfg.community = cf->community;
	peer_hs_cfg.key = auth_key(&peer_hs_cfg.keylen, &peer_hs_key_file);
	peer_hs_cfg.munge = auth_munge_on();
	if (peers_fill(hl, n, rank) < 0) {
		free(hl);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	free(hl);
	return 0;
}

void
peers_free(void)
{
	uint32_t i;

	for (i = 0; i < asocd->world; i++)
		if (asocd->peers[i].retry_ev != NULL)
			event_free(asocd->peers[i].retry_ev);
	free(asocd->peers);
	asocd->peers = NULL;
}

unsigned
peers_connected(void)
{
	unsigned n = 0;
	uint32_t i;

	for (i = 0; i < asocd->world; i++)
		if (asocd->peers[i].state == PROTO_PEER_UP)
			n++;
	return n;
}

/* The rank that opened c, a connection to a known peer. */
static uint32_t
peer_conn_opener(const struct conn *c)
{
	return c->outgoing ? asocd->rank : c->peer->rank;
}

/* The connection new work to p goes on: of those up, the one the lower
 * rank opened, which both ends agree on. */
struct conn *
peer_up_conn(struct peer *p)
{
	struct conn *c, *best = NULL;

	TAILQ_FOREACH(c, &p->conns, entry) {
		if (!c->up || c->dead)
			continue;
		if (best == NULL || peer_conn_opener(c) < peer_conn_opener(best))
			best = c;
	}
	return best;
}

/* Closes c without a word in the log above debug: the pair's rule, not a
 * fault.  c is not up, or carries nothing (nobody used it). */
static void
peer_conn_retire(struct conn *c, const char *why)
{
	if (c->dead)
		return;
	log_debug("closing %s: %s", c->name, why);
	c->dead = 1;
	peer_pending_del(c);
	transport_close(c);
}

/* c's transport spreads DATA over extra connections under
 * --conns-per-peer. */
static int
peer_lanes_on(const struct conn *c)
{
	return asocd->conf->conns_per_peer > 1 &&
	    (c->tp->flags & TRANSPORT_LANES) != 0;
}

/* c, the pair's connection that we opened, is up: open its extra ones.
 * One that cannot be opened leaves its share to the others. */
static void
peer_open_lanes(struct conn *c)
{
	unsigned i, n = asocd->conf->conns_per_peer;
	struct conn *l;
	char err[160];

	if (!c->outgoing || c->lane != 0 || !peer_lanes_on(c))
		return;
	for (i = 1; i < n; i++) {
		l = transport_connect(c->tp, c->peer, err, sizeof err);
		if (l == NULL) {
			log_warn("%s: extra connection %u of %u: %s; its data "
			    "goes on the others", c->name, i, n, err);
			continue;
		}
		l->lane = i;
		l->main = c;
		snprintf(l->name, sizeof l->name, "rank %u (%s:%u, "
		    "connection %u of %u)", c->peer->rank, c->peer->host,
		    c->peer->port, i + 1, n);
		TAILQ_INSERT_TAIL(&c->lanes, l, lane_entry);
	}
}

/* Closes c's extra connections: c, the pair's, is going. */
static void
peer_close_lanes(struct conn *c)
{
	struct conn *l;

	while ((l = TAILQ_FIRST(&c->lanes)) != NULL) {
		TAILQ_REMOVE(&c->lanes, l, lane_entry);
		l->main = NULL;
		l->rx_cur = NULL;
		if (l->dead)
			continue;
		log_debug("closing %s: the pair's connection is gone",
		    l->name);
		l->dead = 1;
		peer_pending_del(l);
		transport_close(l);
	}
}

/* An extra connection finished its handshake: it joins the pair's
 * connection, which the same side opened (ours when we connected). */
static void
peer_lane_up(struct conn *c, struct peer *p)
{
	struct conn *m;

	peer_pending_del(c);
	if (c->hs_timer != NULL) {
		event_free(c->hs_timer);
		c->hs_timer = NULL;
	}
	c->peer = p;
	m = c->outgoing ? c->main : peer_up_conn(p);
	if (m == NULL || m->dead || !m->up || m->outgoing != c->outgoing ||
	    !peer_lanes_on(m)) {
		if (c->main != NULL) {
			TAILQ_REMOVE(&c->main->lanes, c, lane_entry);
			c->main = NULL;
		}
		peer_conn_retire(c, "extra connection without the pair's "
		    "connection of the same side");
		return;
	}
	transport_authenticated(c);
	if (c->dead)
		return;
	c->up = 1;
	if (!c->outgoing) {
		c->main = m;
		snprintf(c->name, sizeof c->name, "rank %u (%s:%u, "
		    "connection %u of %u)", p->rank, p->host, p->port,
		    c->lane + 1, asocd->conf->conns_per_peer);
		TAILQ_INSERT_TAIL(&m->lanes, c, lane_entry);
	}
	log_debug("%s up: DATA only", c->name);
	/* Data already queued may take it now. */
	transport_start_data(m, NULL);
}

/* Connections of the pair, for asoc-stat: the pair's own and its extra
 * ones up. */
unsigned
peer_conn_count(const struct conn *c)
{
	const struct conn *l;
	unsigned n = 1;

	TAILQ_FOREACH(l, &c->lanes, lane_entry)
		if (l->up && !l->dead)
			n++;
	return n;
}

/* An incoming connection claiming rank: we are the lower rank and our
 * own attempt to it is under way, so ours is to be the pair's. */
static int
peer_defers(const struct conn *c, uint32_t rank)
{
	return !c->outgoing && rank < asocd->world && rank > asocd->rank &&
	    asocd->peers[rank].connecting != NULL;
}

/* Refuses c, the higher rank's connection, with status OK: the peer then
 * waits for ours instead of failing its sends, and closes c itself.  We do
 * not close it here: an RDMA disconnect right after the send could drop
 * the REFUSE, and the peer would take the loss for a failed transport.  c
 * stays pending, in HSS_FAILED (no other open connection is in it), until
 * the peer closes it or its handshake timer runs out. */
static void
peer_defer(struct conn *c)
{
	struct proto_msg m;

	memset(&m, 0, sizeof m);
	m.u.refuse.status = PS_OK;
	m.u.refuse.version = PROTO_VERSION;
	snprintf(m.u.refuse.msg, sizeof m.u.refuse.msg, "rank %u is "
	    "connecting to you: the lower rank's connection is the pair's",
	    asocd->rank);
	m.hdr.type = PT_REFUSE;
	m.hdr.id = 0;
	log_debug("deferring %s: our own connection to it is on its way",
	    c->name);
	c->auth.st = HSS_FAILED;
	transport_send_ctl(c, &m);
}

static void
peer_flush(struct peer *p, struct conn *c)
{
	struct xfer *x;

	while ((x = TAILQ_FIRST(&p->waiting)) != NULL) {
		TAILQ_REMOVE(&p->waiting, x, wait_entry);
		xfer_conn_ready(x, c);
	}
}

/* Every waiting send fails with the same message, the peer is marked. */
static void
peer_give_up(struct peer *p, enum proto_status st, const char *why)
{
	struct xfer *x;

	p->state = PROTO_PEER_FAILED;
	p->keep_up = 0;
	snprintf(p->last_error, sizeof p->last_error, "%s", why);
	/* xfer_fail takes each out of the list (peer_unwant). */
	while ((x = TAILQ_FIRST(&p->waiting)) != NULL)
		xfer_fail(x, st, why);
}

/* Something wants a connection to p, which has none up: start
 * connecting unless an attempt is under way. */
static void
peer_start(struct peer *p)
{
	struct timeval now;

	if (p->connecting != NULL || evtimer_pending(p->retry_ev, NULL))
		return;
	peer_now(&now);
	p->give_up_at = now;
	p->give_up_at.tv_sec += asocd->conf->connection_timeout;
	p->backoff_ms = PEER_BACKOFF_MIN_MS;
	p->attempts = 0;
	p->state = PROTO_PEER_CONNECTING;
	peer_try(p);
}

void
peer_want(struct peer *p, struct xfer *x)
{
	struct conn *c = peer_up_conn(p);

	if (c != NULL) {
		xfer_conn_ready(x, c);
		return;
	}
	TAILQ_INSERT_TAIL(&p->waiting, x, wait_entry);
	peer_start(p);
}

void
peer_connect_all(void)
{
	uint32_t i;

	for (i = 0; i < asocd->world; i++) {
		struct peer *p = &asocd->peers[i];

		if (i == asocd->rank || peer_up_conn(p) != NULL)
			continue;
		p->keep_up = 1;
		peer_start(p);
	}
}

void
peer_unwant(struct peer *p, struct xfer *x)
{
	TAILQ_REMOVE(&p->waiting, x, wait_entry);
}

static void
peer_try(struct peer *p)
{
	char err[160];

	/* The peer's own connection came up while we waited to retry, or
	 * nothing waits any more. */
	if (peer_up_conn(p) != NULL) {
		p->state = PROTO_PEER_UP;
		return;
	}
	if (TAILQ_EMPTY(&p->waiting) && !p->keep_up) {
		p->state = PROTO_PEER_IDLE;
		return;
	}
	p->attempts++;
	log_debug("connecting to rank %u (%s:%u), attempt %u", p->rank,
	    p->host, p->port, p->attempts);
	p->connecting = transport_connect(transport_pick(p), p, err,
	    sizeof err);
	if (p->connecting == NULL)
		peer_retry(p, err);
}

/* With --port-tries: the next attempt dials the peer's next candidate
 * port, since the last one had nobody there, or another job's daemon. */
static void
peer_next_port(struct peer *p)
{
	struct conf *cf = asocd->conf;

	if (cf->port_tries <= 1)
		return;
	p->port_idx = (p->port_idx + 1) % cf->port_tries;
	p->port = portseq_port(cf->port, cf->port_span, cf->community,
	    p->port_idx);
}

/* An outgoing attempt failed before the handshake finished; next_port:
 * nobody answered there (not: the peer is connecting to us). */
static void
peer_retry_port(struct peer *p, const char *why, int next_port)
{
	struct timeval now, tv;
	long left_ms;
	char msg[PROTO_MSG_MAX];

	p->connecting = NULL;
	if (peer_up_conn(p) != NULL) {
		p->state = PROTO_PEER_UP;
		return;
	}
	if (next_port)
		peer_next_port(p);
	if (TAILQ_EMPTY(&p->waiting) && !p->keep_up) {
		p->state = PROTO_PEER_IDLE;
		return;
	}
	peer_now(&now);
	left_ms = (p->give_up_at.tv_sec - now.tv_sec) * 1000 +
	    (p->give_up_at.tv_usec - now.tv_usec) / 1000;
	if (left_ms <= 0) {
		/* Not next_port: the peer answered, deferring to its own
		 * connection to us; that one is what never arrived. */
		if (!next_port)
			snprintf(msg, sizeof msg, "rank %u (%s:%u) kept "
			    "deferring to its own connection to us, which "
			    "never came up in %u s: can it reach this host?",
			    p->rank, p->host, p->port,
			    asocd->conf->connection_timeout);
		else
			snprintf(msg, sizeof msg, "cannot reach %s %u at "
			    "%s:%u after %u s (%s): is asocd running there?",
			    peer_word(), p->rank, p->host, p->port,
			    asocd->conf->connection_timeout, why);
		log_warn("%s", msg);
		peer_give_up(p, PS_ENOPEER, msg);
		return;
	}
	/* A round of the candidate ports goes at once; the back-off is
	 * between rounds, so a peer that starts late is not missed for a
	 * whole slow cycle.  A deferral (not next_port) stays on its port
	 * and waits the back-off: a 10 ms loop for as long as the lower
	 * rank's attempt lasts would only get it deferred again. */
	if (next_port && asocd->conf->port_tries > 1 && p->port_idx != 0) {
		tv.tv_sec = 0;
		tv.tv_usec = 10000;
		evtimer_add(p->retry_ev, &tv);
		return;
	}
	if ((long)p->backoff_ms > left_ms)
		p->backoff_ms = (unsigned)left_ms;
	tv.tv_sec = p->backoff_ms / 1000;
	tv.tv_usec = (p->backoff_ms % 1000) * 1000;
	log_debug("rank %u (%s:%u): %s; retrying in %u ms", p->rank, p->host,
	    p->port, why, p->backoff_ms);
	evtimer_add(p->retry_ev, &tv);
	p->backoff_ms *= 2;
	if (p->backoff_ms > PEER_BACKOFF_MAX_MS)
		p->backoff_ms = PEER_BACKOFF_MAX_MS;
}

static void
peer_retry(struct peer *p, const char *why)
{
	peer_retry_port(p, why, 1);
}

void
peer_send(struct conn *c, uint16_t type, struct proto_msg *m)
{
	m->hdr.type = type;
	m->hdr.id = 0;
	transport_send_ctl(c, m);
}

static void
peer_hs_timeout(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	peer_conn_lost(arg, "no handshake within %u s",
	    asocd->conf->connection_timeout);
}

static void
peer_arm_hs_timer(struct conn *c)
{
	struct timeval tv = { asocd->conf->connection_timeout, 0 };

	/* With candidate ports, a silent squatter on one must not eat the
	 * whole budget: a daemon answers HELLO at once. */
	if (c->outgoing && asocd->conf->port_tries > 1 && tv.tv_sec > 3)
		tv.tv_sec = 3;
	c->hs_timer = evtimer_new(asocd->base, peer_hs_timeout, c);
	if (c->hs_timer != NULL)
		evtimer_add(c->hs_timer, &tv);
}

static void
peer_hello(struct conn *c)
{
	struct proto_msg m;

	hs_start_outgoing(&c->auth, &peer_hs_cfg, c->peer->rank, &m);
	hs_set_lane(&c->auth, &m, asocd->conf->conns_per_peer, c->lane);
	peer_arm_hs_timer(c);
	peer_send(c, PT_HELLO, &m);
}

#ifdef ASOC_TEST_HOOKS
/* The test hook's late HELLO: the delay held hs_timer's slot. */
static void
peer_hello_late(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	(void)fd;
	(void)what;
	event_free(c->hs_timer);
	c->hs_timer = NULL;
	peer_hello(c);
}
#endif

void
peer_conn_opened(struct conn *c)
{
#ifdef ASOC_TEST_HOOKS
	unsigned ms = testhook_hello_delay_ms();

	if (ms > 0) {
		struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
		struct proto_msg m;

		/* Out of HSS_CONNECTING now (the transport waits for that);
		 * the HELLO made here is dropped, peer_hello makes another. */
		hs_start_outgoing(&c->auth, &peer_hs_cfg, c->peer->rank, &m);
		c->hs_timer = evtimer_new(asocd->base, peer_hello_late, c);
		if (c->hs_timer != NULL) {
			evtimer_add(c->hs_timer, &tv);
			return;
		}
	}
#endif
	peer_hello(c);
}

static unsigned
peer_pending_max(void)
{
	struct rlimit rl;
	unsigned max = PEER_PENDING_MIN;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur / 4 > max)
		max = rl.rlim_cur / 4 > 4096 ? 4096 : (unsigned)(rl.rlim_cur / 4);
	return max;
}

void
peer_pending_del(struct conn *c)
{
	if (!c->pending)
		return;
	TAILQ_REMOVE(&peer_pending, c, pending_entry);
	c->pending = 0;
	peer_npending--;
}

void
peer_conn_admit(struct conn *c, const char *src)
{
	struct conn *o, *oldest_src = NULL;
	unsigned from_src = 0;

	if (c->pending)
		return;
	snprintf(c->src, sizeof c->src, "%s", src);
	TAILQ_FOREACH(o, &peer_pending, pending_entry)
		if (strcmp(o->src, c->src) == 0 && from_src++ == 0)
			oldest_src = o;
	if (from_src >= PEER_PENDING_PER_SOURCE)
		o = oldest_src;
	else if (peer_npending >= peer_pending_max())
		o = TAILQ_FIRST(&peer_pending);
	else
		o = NULL;
	if (o != NULL) {
		log_info_limited(&peer_drops, "too many handshakes pending "
		    "(%u, %u from %s): dropping the oldest, %s", peer_npending,
		    from_src, c->src, o->name);
		peer_pending_del(o);
		peer_conn_lost(o, "too many handshakes pending");
	}
	TAILQ_INSERT_TAIL(&peer_pending, c, pending_entry);
	c->pending = 1;
	peer_npending++;
}

void
peer_conn_accepted(struct conn *c, const char *from)
{
	char src[sizeof c->src], *colon;

	/* A transport that did not admit it at accept: its address
	 * without the port. */
	snprintf(src, sizeof src, "%s", from);
	if ((colon = strrchr(src, ':')) != NULL)
		*colon = '\0';
	peer_conn_admit(c, src);
	snprintf(c->name, sizeof c->name, "%s", from);
	hs_start_incoming(&c->auth, &peer_hs_cfg);
	peer_arm_hs_timer(c);
}

static void
peer_up(struct conn *c, struct peer *p)
{
	peer_pending_del(c);
	if (c->hs_timer != NULL) {
		event_free(c->hs_timer);
		c->hs_timer = NULL;
	}
	/* Open the transport up (RDMA: remote writes) before anything can
	 * use the connection; if that fails it is gone, unpublished. */
	c->peer = p;
	/* Ours, the higher rank's, came up after the lower rank's: close it
	 * before anything uses it (the lower rank prefers its own, and ours
	 * was never published here). */
	if (c->outgoing && p->rank < asocd->rank) {
		struct conn *o = peer_up_conn(p);

		if (o != NULL && !o->outgoing) {
			if (p->connecting == c)
				p->connecting = NULL;
			peer_conn_retire(c, "rank's own connection to us came "
			    "up first");
			return;
		}
	}
	transport_authenticated(c);
	if (c->dead)
		return;
	c->up = 1;
	c->peer = p;
	/* Both ends have the same --conns-per-peer (a HELLO with another is
	 * refused): how the pair's DATA arrives, for xfer_on_data. */
	c->data_spread = asocd->conf->conns_per_peer > 1;
	TAILQ_INSERT_TAIL(&p->conns, c, entry);
	p->state = PROTO_PEER_UP;
	/* asoc-stat says whether the bytes to this peer are encrypted. */
	p->transport = transport_describe(c);
	p->last_error[0] = '\0';
	p->keep_up = 0;
	log_info("%s rank %u (%s:%u) over %s%s", c->outgoing ? "connected to" :
	    "accepted", p->rank, p->host, p->port, p->transport,
	    !peer_hs_key_file ? ", community only (no --key-file)" :
	    peer_hs_cfg.munge ? ", key and MUNGE uid proven" : ", key proven");
	if (c->outgoing && p->tp_failed != NULL)
		log_warn("rank %u: falling back to %s: %s was not possible "
		    "(%s)", p->rank, c->tp->title, p->tp_failed->title,
		    p->tp_why);
	/* Our process ranks first: the peer must know them before any RTS
	 * from them (ranks.h). */
	ranks_announce(c);
	if (c->dead)
		return;
	peer_open_lanes(c);
	peer_flush(p, c);
}

/* The connection can no longer be used; an outgoing one gives up on its
 * peer, since a refusal is an answer, not a network hiccup: no retry. */
static void
peer_hs_failed(struct conn *c, enum hs_result r, enum proto_status st,
    const char *why)
{
	struct peer *p = c->peer;
	char msg[PROTO_MSG_MAX + 64];

	if (!c->outgoing) {
		if (r == HSR_REFUSE)
			log_warn_limited(&peer_refusals, "refused peer %s: %s",
			    c->name, why);
		else
			log_warn_limited(&peer_refusals, "handshake with %s "
			    "failed: %s", c->name, why);
		peer_conn_lost(c, "handshake failed");
		return;
	}
	/* REFUSE with status OK: the lower rank is connecting to us and
	 * keeps its own; wait for it (the back-off retries in case it
	 * fails), on the same port, without trying another transport.  Only
	 * the lower rank may say so: from a higher rank it breaks the rule
	 * (ours is the pair's), so it is the refusal it otherwise is. */
	if (r == HSR_FAIL && st == PS_OK && p->rank < asocd->rank) {
		log_debug("rank %u (%s:%u): %s", p->rank, p->host, p->port,
		    why);
		if (p->connecting == c)
			peer_retry_port(p, why, 0);
		peer_conn_retire(c, "the peer's own connection is the pair's");
		return;
	}
	snprintf(msg, sizeof msg, "rank %u (%s:%u): %s", p->rank, p->host,
	    p->port, why);
	/* A local failure (munged did not answer) is worth retrying; an
	 * answer from the peer is not. */
	if (st == PS_ESYSTEM) {
		log_warn("%s", msg);
		peer_conn_lost(c, "%s", why);
		return;
	}
	/* With candidate ports, a refusal may come from another job's
	 * daemon on a port this job's could not have: try the next. */
	if (asocd->conf->port_tries > 1) {
		log_info("%s; trying its next candidate port", msg);
		peer_conn_lost(c, "%s", why);
		return;
	}
	log_err("%s", msg);
	if (p->connecting == c)
		p->connecting = NULL;
	peer_give_up(p, st != PS_OK ? st : PS_EPERM, msg);
	peer_conn_lost(c, "handshake failed");
}

/* The HELLO's --conns-per-peer is not ours: refused, naming both, so that
 * the connecting daemon's sends fail saying what to change. */
static void
peer_refuse_conns(struct conn *c, const struct proto_msg *h)
{
	struct proto_msg m;

	memset(&m, 0, sizeof m);
	m.hdr.type = PT_REFUSE;
	m.u.refuse.status = PS_EINVAL;
	m.u.refuse.version = PROTO_VERSION;
	snprintf(m.u.refuse.msg, sizeof m.u.refuse.msg, "conns-per-peer "
	    "differs: rank %u has %u, rank %u has %u; set the same on every "
	    "asocd of the job", h->u.hello.rank, h->u.hello.conns,
	    asocd->rank, asocd->conf->conns_per_peer);
	log_warn_limited(&peer_refusals, "refused peer %s: %s", c->name,
	    m.u.refuse.msg);
	c->auth.st = HSS_FAILED;
	peer_send(c, PT_REFUSE, &m);
	if (!c->dead)
		peer_conn_lost(c, "refused");
}

/* A handshake message: the state machine decides, we do as it says. */
static void
peer_on_hs(struct conn *c, const struct proto_msg *m)
{
	struct proto_msg out;
	enum proto_status st;
	enum hs_result r;
	char why[PROTO_MSG_MAX + 64];
	int first_hello;

	if (c->up) {
		peer_conn_lost(c, "unexpected %s after the handshake",
		    proto_type_name(m->hdr.type));
		return;
	}
	/* The acceptor learns who claims to be calling from the first HELLO
	 * (the name is for the log: the claim is proven or refused next). */
	first_hello = !c->outgoing && m->hdr.type == PT_HELLO &&
	    c->auth.st == HSS_WAIT_HELLO && m->u.hello.rank < asocd->world;
	if (first_hello && m->u.hello.conns != asocd->conf->conns_per_peer) {
		peer_refuse_conns(c, m);
		return;
	}
	if (first_hello)
		c->lane = m->u.hello.lane;
	if (first_hello && c->lane == 0 && peer_defers(c, m->u.hello.rank)) {
		peer_defer(c);
		return;
	}
	r = hs_input(&c->auth, m, &out, why, sizeof why, &st);
	/* Our attempt may have started since its HELLO: WELCOME would make
	 * it up at the peer's end, so refuse it here instead. */
	if (r == HSR_UP && c->lane == 0 && peer_defers(c, c->auth.peer_rank)) {
		peer_defer(c);
		return;
	}
	if (first_hello) {
		struct peer *p = &asocd->peers[m->u.hello.rank];
		char from[sizeof c->name];

		snprintf(from, sizeof from, "%s", c->name);
		snprintf(c->name, sizeof c->name, "rank %u (%s:%u, from %.40s)",
		    p->rank, p->host, p->port, from);
	}
	if (out.hdr.type != 0)
		peer_send(c, out.hdr.type, &out);
	/* The send may have found the connection broken, and closed it. */
	if (c->dead)
		return;
	switch (r) {
	case HSR_CONTINUE:
		break;
	case HSR_UP:
		/* Still our attempt while peer_up runs: if the transport
		 * fails it there, the attempt is retried. */
		if (c->lane != 0) {
			peer_lane_up(c, c->outgoing ? c->peer :
			    &asocd->peers[c->auth.peer_rank]);
			break;
		}
		peer_up(c, c->outgoing ? c->peer :
		    &asocd->peers[c->auth.peer_rank]);
		if (!c->dead && c->outgoing && c->peer->connecting == c)
			c->peer->connecting = NULL;
		break;
	case HSR_REFUSE:
	case HSR_FAIL:
		peer_hs_failed(c, r, st, why);
		break;
	}
}

void
peer_conn_msg(struct conn *c, const struct proto_msg *m)
{
	if (c->up && c->lane != 0) {
		peer_conn_lost(c, "%s on an extra connection, which carries "
		    "DATA only", proto_type_name(m->hdr.type));
		return;
	}
	switch (m->hdr.type) {
	case PT_HELLO:
	case PT_CHALLENGE:
	case PT_AUTH:
	case PT_WELCOME:
	case PT_REFUSE:
		peer_on_hs(c, m);
		break;
	case PT_RTS:
		xfer_on_rts(c, m);
		break;
	case PT_CTS:
		xfer_on_cts(c, m);
		break;
	case PT_ACK:
		xfer_on_ack(c, m);
		break;
	case PT_ABORT:
		xfer_on_abort(c, m);
		break;
	case PT_WDONE:
		xfer_on_wdone(c, m);
		break;
	case PT_RK_JOIN:
	case PT_RK_LEAVE:
		if (!c->up)
			peer_conn_lost(c, "%s before the handshake finished",
			    proto_type_name(m->hdr.type));
		else if (m->hdr.type == PT_RK_JOIN)
			ranks_on_join(c, m);
		else
			ranks_on_leave(c, m);
		break;
	default:
		peer_conn_lost(c, "unexpected %s", proto_type_name(m->hdr.type));
		break;
	}
}

void
peer_conn_bad_version(struct conn *c, unsigned version)
{
	char msg[PROTO_MSG_MAX];

	if (!c->outgoing) {
		struct proto_msg m;

		memset(&m, 0, sizeof m);
		m.u.refuse.status = PS_EPROTO;
		m.u.refuse.version = PROTO_VERSION;
		snprintf(m.u.refuse.msg, sizeof m.u.refuse.msg, "protocol "
		    "version mismatch: peer speaks v%u, this asocd speaks v%u",
		    version, PROTO_VERSION);
		log_warn_limited(&peer_refusals, "refused peer %s: %s",
		    c->name, m.u.refuse.msg);
		peer_send(c, PT_REFUSE, &m);
		peer_conn_lost(c, "refused");
		return;
	}
	snprintf(msg, sizeof msg, "protocol version mismatch: rank %u speaks "
	    "v%u, this asocd speaks v%u: run one ASoc version on every node",
	    c->peer->rank, version, PROTO_VERSION);
	log_err("%s", msg);
	if (c->peer->connecting == c)
		c->peer->connecting = NULL;
	peer_give_up(c->peer, PS_EPROTO, msg);
	peer_conn_lost(c, "version mismatch");
}

/* An extra connection is gone (c->dead is set): when it was up, the
 * chunks it carried are lost, so the pair's connection goes too, failing
 * every transfer on it rather than leaving one to wait for bytes that
 * will never come.  One that never came up leaves its share to the
 * others. */
static void
peer_lane_lost(struct conn *c, const char *why)
{
	struct conn *m = c->main;

	if (m != NULL) {
		TAILQ_REMOVE(&m->lanes, c, lane_entry);
		c->main = NULL;
	}
	if (m != NULL && c->up) {
		log_warn("lost %s: %s", c->name, why);
		transport_close(c);
		peer_conn_lost(m, "lost its connection %u of %u: %.80s",
		    c->lane + 1, asocd->conf->conns_per_peer, why);
		return;
	}
	if (m != NULL)
		log_warn("%s: %s; its data goes on the others", c->name, why);
	else
		log_info_limited(&peer_drops, "dropped extra connection %s: "
		    "%s", c->name, why);
	transport_close(c);
}

void
peer_conn_lost(struct conn *c, const char *fmt, ...)
{
	struct peer *p = c->peer;
	char why[160], msg[PROTO_MSG_MAX];
	va_list ap;

	if (c->dead)
		return;
	c->dead = 1;
	peer_pending_del(c);
	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);

	if (c->lane != 0) {
		peer_lane_lost(c, why);
		return;
	}
	if (c->up) {
		struct conn *o;

		/* Its extra connections go first: nothing of theirs may
		 * land once its transfers have failed. */
		peer_close_lanes(c);

		/* The higher rank closing its duplicate (peer_up): nothing
		 * was on it, the pair's connection carries on. */
		TAILQ_FOREACH(o, &p->conns, entry)
			if (o != c && o->up && !o->dead)
				break;
		if (o != NULL && TAILQ_EMPTY(&c->xfers))
			log_debug("%s closed: %s; the pair's connection is %s",
			    c->name, why, o->name);
		else
			log_warn("lost %s: %s", c->name, why);
		snprintf(msg, sizeof msg, "lost the connection to %s %u: "
		    "%.80s", peer_word(), p->rank, why);
		xfer_conn_lost(c, PS_EPEERLOST, msg);
		TAILQ_REMOVE(&p->conns, c, entry);
		if (peer_up_conn(p) == NULL) {
			xfer_peer_lost(p->rank, msg);
			if (ranks_peer_lost(p->rank) && !asocd->draining) {
				/* Its ranks' JOINs come again only on a new
				 * connection: back up, with the back-off. */
				p->keep_up = 1;
				peer_start(p);
			} else if (p->connecting == NULL)
				p->state = PROTO_PEER_IDLE;
		}
		/* Sends queued for a connection may use a fresh one. */
		if (!TAILQ_EMPTY(&p->waiting) && p->connecting == NULL &&
		    !evtimer_pending(p->retry_ev, NULL)) {
			p->state = PROTO_PEER_CONNECTING;
			peer_try(p);
		}
	} else if (c->outgoing) {
		xfer_conn_lost(c, PS_EPEERLOST, why);
		if (transport_wanted() == NULL) {
			/* auto: one failed, try the next at once.  The
			 * fallback failing too means the peer is not up at
			 * all, so the next round starts from the first. */
			if (c->tp != transport_fallback()) {
				p->tp_failed = c->tp;
				snprintf(p->tp_why, sizeof p->tp_why, "%s",
				    why);
				if (p->connecting == c) {
					p->connecting = NULL;
					peer_try(p);
				}
				transport_close(c);
				return;
			}
			p->tp_failed = NULL;
		}
		if (p->connecting == c)
			peer_retry(p, why);
	} else if (c->auth.st == HSS_FAILED && !c->outgoing)
		log_debug("deferred connection %s gone: %s", c->name, why);
	else
		log_info_limited(&peer_drops, "dropped incoming connection "
		    "%s: %s", c->name, why);
	transport_close(c);
}
