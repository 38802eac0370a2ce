/*
 * stats.c: counters for asoc-stat, as S_NODE + S_PEER... + S_END.
 */
#include "config.h"
#include "stats.h"

#include <string.h>

#include "asocd.h"
#include "control.h"
#include "peer.h"

void
stats_reply(struct client *c, uint64_t id)
{
	struct proto_msg m;
	struct proto_s_node *n = &m.u.s_node;
	struct proto_s_peer *p = &m.u.s_peer;
	uint32_t i;

	memset(&m, 0, sizeof m);
	m.hdr.type = PT_S_NODE;
	m.hdr.id = id;
	n->rank = asocd->rank;
	n->world = asocd->world;
	n->clients = asocd->nclients;
	n->peers_connected = peers_connected();
	n->xfers_active = asocd->xfers_active;
	n->unexpected = asocd->match.nsends;
	n->posted_recvs = asocd->match.nrecvs;
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
		control_send(c, &m);
	}
	memset(&m, 0, sizeof m);
	m.hdr.type = PT_S_END;
	m.hdr.id = id;
	control_send(c, &m);
}
