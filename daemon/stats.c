/*
 * stats.c: counters for asoc-stat, as S_NODE + S_PEER... + S_RANK... +
 * S_END.
 */
#include "config.h"
#include "stats.h"

#include <stdio.h>
#include <string.h>

#include "asocd.h"
#include "control.h"
#include "peer.h"
#include "transport.h"
#include "ranks.h"

void
stats_reply(struct client *c, uint64_t id)
{
	struct proto_msg m;
	struct proto_s_node *n = &m.u.s_node;
	struct proto_s_peer *p = &m.u.s_peer;
	struct lrank *lr;
	struct conn *uc;
	uint64_t unexpected = 0, posted = 0;
	uint32_t i;
	unsigned nc;

	for (lr = ranks_next(NULL); lr != NULL; lr = ranks_next(lr)) {
		unexpected += lr->match.nsends;
		posted += lr->match.nrecvs;
	}

	memset(&m, 0, sizeof m);
	m.hdr.type = PT_S_NODE;
	m.hdr.id = id;
	n->rank = asocd->rank;
	n->world = asocd->world;
	n->clients = asocd->nclients;
	n->peers_connected = peers_connected();
	n->xfers_active = asocd->xfers_active;
	n->unexpected = unexpected;
	n->posted_recvs = posted;
	n->bytes_sent = asocd->ctr.bytes_sent;
	n->bytes_received = asocd->ctr.bytes_received;
	n->buffers = asocd->ctr.buffers;
	n->buffer_bytes = asocd->ctr.buffer_bytes;
	n->registrations = asocd->ctr.registrations;
	n->deregistrations = asocd->ctr.deregistrations;
	n->xfers_done = asocd->ctr.xfers_done;
	n->xfers_failed = asocd->ctr.xfers_failed;
	proto_set_name(n->transport, sizeof n->transport,
	    conf_transport_name(asocd->conf->transport));
	n->mode = ranks_mode();
	n->local_ranks = ranks_mode() == RANKS_PROC ? ranks_nlocal() : 0;
	n->proc_world = ranks_mode() == RANKS_PROC ? ranks_world() : 0;
	control_send(c, &m);

	for (i = 0; i < asocd->world; i++) {
		const struct peer *pe = &asocd->peers[i];

		memset(&m, 0, sizeof m);
		m.hdr.type = PT_S_PEER;
		m.hdr.id = id;
		p->rank = pe->rank;
		p->port = pe->port;
		p->state = pe->state;
		p->xfers_active = pe->xfers_active;
		p->bytes_sent = pe->bytes_sent;
		p->bytes_received = pe->bytes_received;
		proto_set_name(p->host, sizeof p->host, pe->host);
		proto_set_name(p->transport, sizeof p->transport,
		    pe->transport);
		/* --conns-per-peer: "tcp x4", the pair's connections up. */
		if ((uc = peer_up_conn(&asocd->peers[i])) != NULL &&
		    (nc = peer_conn_count(uc)) > 1) {
			char t[sizeof p->transport + 8];

			snprintf(t, sizeof t, "%s x%u", pe->transport, nc);
			proto_set_name(p->transport, sizeof p->transport, t);
		}
		control_send(c, &m);
	}
	/* The process ranks living here (not a withdrawn one: it is not
	 * this node's any more). */
	for (lr = ranks_next(NULL); lr != NULL && ranks_mode() == RANKS_PROC;
	    lr = ranks_next(lr)) {
		struct proto_s_rank *r = &m.u.s_rank;

		if (lr->withdrawn)
			continue;
		memset(&m, 0, sizeof m);
		m.hdr.type = PT_S_RANK;
		m.hdr.id = id;
		r->rank = lr->rank;
		r->world = ranks_world();
		r->pid = (uint32_t)lr->pid;
		r->localid = lr->localid;
		r->sessions = lr->sessions;
		r->incarnation = lr->incarnation;
		r->posted_recvs = lr->match.nrecvs;
		r->unexpected = lr->match.nsends;
		r->bytes_sent = lr->bytes_sent;
		r->bytes_received = lr->bytes_received;
		control_send(c, &m);
	}
	memset(&m, 0, sizeof m);
	m.hdr.type = PT_S_END;
	m.hdr.id = id;
	control_send(c, &m);
}
