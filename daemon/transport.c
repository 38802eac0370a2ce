/*
 * transport.c: picking a transport and the life of a connection.
 */
#include "config.h"
#include "transport.h"

#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "asocd.h"
#include "log.h"
#include "peer.h"
#ifdef HAVE_RDMA
#include "transport_rdma.h"
#endif

/* Every live connection, including accepted ones that have not said who
 * they are yet, so shutdown can close them all. */
static TAILQ_HEAD(, conn) conn_all = TAILQ_HEAD_INITIALIZER(conn_all);

const struct transport *
transport_pick(struct peer *p)
{
#ifdef HAVE_RDMA
	/* auto: RDMA while it has not just failed for this peer (peer.c
	 * then tries TCP once); rdma: always, no fallback. */
	if (asocd->conf->transport == CONF_TRANSPORT_RDMA ||
	    (asocd->conf->transport == CONF_TRANSPORT_AUTO &&
	    trdma_available() && !p->rdma_failed))
		return &transport_rdma;
#else
	(void)p;
#endif
	return &transport_tcp;
}

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
