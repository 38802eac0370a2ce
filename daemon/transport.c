/*
 * transport.c: the table of transports, the wrappers that call their
 * hooks, picking one per connection, and the life of a connection.
 */
#include "config.h"
#include "transport.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "asocd.h"
#include "buffer.h"
#include "log.h"
#include "peer.h"
#include "transport_tcp.h"
#ifdef HAVE_RDMA
#include "transport_rdma.h"
#endif

/* In the order --transport auto prefers them; the fallback last. */
const struct transport *const transports[] = {
#ifdef HAVE_RDMA
	&transport_rdma,
#endif
	&transport_tcp,
	NULL
};
#define TRANSPORTS_N	(sizeof transports / sizeof transports[0] - 1)
_Static_assert(TRANSPORTS_N >= 1 && TRANSPORTS_N <= BUFFER_TP_SLOTS,
    "transports[] needs a fallback, and a slot in struct buffer each");

/* Every live connection, including accepted ones that have not said who
 * they are yet, so shutdown can close them all. */
static TAILQ_HEAD(, conn) conn_all = TAILQ_HEAD_INITIALIZER(conn_all);

/* --- the table --- */

static size_t
transport_index(const struct transport *tp)
{
	size_t i;

	for (i = 0; i < TRANSPORTS_N; i++)
		if (transports[i] == tp)
			return i;
	fatalx("transport %s is not in transports[]", tp->name);
}

const struct transport *
transport_find(const char *name)
{
	size_t i;

	for (i = 0; i < TRANSPORTS_N; i++)
		if (strcmp(transports[i]->name, name) == 0)
			return transports[i];
	return NULL;
}

const struct transport *
transport_wanted(void)
{
	const char *name = conf_transport_name(asocd->conf->transport);

	return strcmp(name, "auto") == 0 ? NULL : transport_find(name);
}

const struct transport *
transport_fallback(void)
{
	return transports[TRANSPORTS_N - 1];
}

const struct transport *
transport_pick(struct peer *p)
{
	const struct transport *want = transport_wanted();
	size_t i = 0;

	if (want != NULL)
		return want;	/* named: always it, no fallback */
	/* auto: the first that can, after the one that just failed for
	 * this peer (peer.c then tries the next once). */
	if (p->tp_failed != NULL)
		i = transport_index(p->tp_failed) + 1;
	for (; i < TRANSPORTS_N; i++)
		if (transport_available(transports[i]))
			return transports[i];
	return transport_fallback();
}

/* --- start-up and exit --- */

/* What a build needs for a transport it may lack, for the message that
 * says what to install; a transport not listed gets a generic one. */
static const struct {
	const char *name, *needs;
} transport_needs[] = {
	{ "rdma", "rdma-core; rebuild with librdmacm-dev and libibverbs-dev" },
};

int
transports_check(char *err, size_t errlen)
{
	const char *name = conf_transport_name(asocd->conf->transport);
	const char *needs = "it; rebuild with that transport's libraries "
	    "(README.md: Building and testing by hand)";
	size_t i;

	if (strcmp(name, "auto") == 0 || transport_find(name) != NULL)
		return 0;
	for (i = 0; i < sizeof transport_needs / sizeof transport_needs[0];
	    i++)
		if (strcmp(transport_needs[i].name, name) == 0)
			needs = transport_needs[i].needs;
	snprintf(err, errlen, "--transport %s: this asocd was built without "
	    "%s, or use --transport %s or auto", name, needs,
	    transport_fallback()->name);
	return -1;
}

int
transports_listen(char *err, size_t errlen)
{
	const struct transport *want = transport_wanted(), *fb, *tp;
	char why[256];
	size_t i;

	fb = transport_fallback();
	if (fb->listen != NULL && fb->listen(err, errlen) < 0)
		return -1;
	for (i = 0; (tp = transports[i]) != fb; i++) {
		if ((want != NULL && want != tp) || tp->listen == NULL ||
		    tp->listen(why, sizeof why) == 0)
			continue;
		if (want == tp) {
			snprintf(err, errlen, "--transport %s: %s", tp->name,
			    why);
			return -1;
		}
		log_warn("%s: using %s for every peer (--transport auto)",
		    why, fb->title);
	}
	return 0;
}

void
transports_stop_listen(void)
{
	size_t i;

	for (i = 0; i < TRANSPORTS_N; i++)
		if (transports[i]->stop_listen != NULL)
			transports[i]->stop_listen();
}

void
transports_shutdown(void)
{
	size_t i;

	for (i = 0; i < TRANSPORTS_N; i++)
		if (transports[i]->shutdown != NULL)
			transports[i]->shutdown();
}

/* --- the hooks, NULL-safe --- */

int
transport_available(const struct transport *tp)
{
	return tp->available == NULL || tp->available();
}

int
transport_one_sided(const struct transport *tp)
{
	return (tp->flags & TRANSPORT_ONE_SIDED) != 0;
}

const char *
transport_describe(const struct conn *c)
{
	return c->tp->describe != NULL ? c->tp->describe(c) : c->tp->name;
}

struct conn *
transport_connect(const struct transport *tp, struct peer *p, char *err,
    size_t errlen)
{
	return tp->connect(p, err, errlen);
}

void
transport_send_ctl(struct conn *c, struct proto_msg *m)
{
	c->tp->send_ctl(c, m);
}

void
transport_authenticated(struct conn *c)
{
	if (c->tp->authenticated != NULL)
		c->tp->authenticated(c);
}

void
transport_close(struct conn *c)
{
	c->tp->close(c);
}

int
transport_grant(struct conn *c, struct xfer *x, struct req *r,
    uint64_t *addr, uint32_t *rkey, char *err, size_t errlen)
{
	if (c->tp->grant == NULL) {
		*addr = 0;
		*rkey = 0;
		return 0;
	}
	return c->tp->grant(c, x, r, addr, rkey, err, errlen);
}

void
transport_start_data(struct conn *c, struct xfer *x)
{
	c->tp->start_data(c, x);
}

void
transport_release(struct conn *c, struct xfer *x)
{
	if (c->tp->release != NULL)
		c->tp->release(c, x);
}

uint32_t
transport_eager_max(const struct conn *c)
{
	return c->tp->eager_max != NULL ? c->tp->eager_max(c) : 0;
}

void
transport_buffer_gone(struct buffer *b)
{
	size_t i;

	/* Exactly once, at the last reference; every transport is asked,
	 * since one may hold registrations outside its slot (RDMA: in a
	 * connection's own protection domain). */
	for (i = 0; i < TRANSPORTS_N; i++) {
		if (transports[i]->buffer_gone != NULL)
			transports[i]->buffer_gone(b, b->tp_reg[i]);
		b->tp_reg[i] = NULL;
	}
}

void **
transport_buffer_reg(const struct transport *tp, struct buffer *b)
{
	return &b->tp_reg[transport_index(tp)];
}

/* --- connections --- */

struct conn *
conn_new(const struct transport *tp, struct peer *p, int outgoing)
{
	struct conn *c;

	if ((c = calloc(1, sizeof *c)) == NULL)
		return NULL;
	c->tp = tp;
	c->peer = p;
	c->outgoing = outgoing;
	c->auth.st = outgoing ? HSS_CONNECTING : HSS_WAIT_HELLO;
	TAILQ_INIT(&c->xfers);
	TAILQ_INIT(&c->sendq);
	TAILQ_INIT(&c->lanes);
	TAILQ_INSERT_TAIL(&conn_all, c, all_entry);
	return c;
}

void
conn_free_later(struct conn *c)
{
	if (c->hs_timer != NULL) {
		event_free(c->hs_timer);
		c->hs_timer = NULL;
	}
	TAILQ_REMOVE(&conn_all, c, all_entry);
	/* Whatever path closed it, it must not stay among the pending. */
	peer_pending_del(c);
	/* Callers up the stack may still hold c: free it on the next turn
	 * of the loop, when they have all returned. */
	asocd_free_later(c, "a connection");
}

void
conn_close_all(void)
{
	struct conn *c;

	while ((c = TAILQ_FIRST(&conn_all)) != NULL)
		peer_conn_lost(c, "asocd is stopping");
	/* Let the deferred frees run. */
	event_base_loop(asocd->base, EVLOOP_NONBLOCK);
}
