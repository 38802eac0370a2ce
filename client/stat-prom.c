/*
 * stat-prom.c: asoc-stat --prometheus.  Text exposition format 0.0.4: for
 * each metric one HELP and one TYPE line, then its samples; counters end
 * in _total, byte counts in _bytes.  Peers are labelled by rank (host and
 * transport label asoc_peer_info only, so a peer that moves from TCP to
 * RDMA does not start new counter series).
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "stat-prom.h"

/* A label value: backslash, double quote and newline escaped; bytes that
 * are not printable ASCII dropped (a host name is ASCII). */
static void
prom_label(const char *s, size_t max)
{
	size_t i, n = s == NULL ? 0 : strnlen(s, max);
	unsigned char ch;

	putchar('"');
	for (i = 0; i < n; i++) {
		ch = (unsigned char)s[i];
		if (ch == '\\' || ch == '"')
			printf("\\%c", ch);
		else if (ch == '\n')
			fputs("\\n", stdout);
		else if (ch >= 0x20 && ch < 0x7f)
			putchar(ch);
	}
	putchar('"');
}

static void
prom_head(const char *name, const char *type, const char *help)
{
	printf("# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
prom_node(const char *name, const char *type, const char *help, uint64_t v)
{
	prom_head(name, type, help);
	printf("%s %" PRIu64 "\n", name, v);
}

/* One metric with a sample per peer; field picks the value. */
static void
prom_peers(const char *name, const char *type, const char *help,
    const asoc_peer_stat_t *p, size_t np, size_t field)
{
	size_t i;
	uint64_t v;

	if (np == 0)
		return;
	prom_head(name, type, help);
	for (i = 0; i < np; i++) {
		memcpy(&v, (const char *)&p[i] + field, sizeof v);
		printf("%s{rank=\"%d\"} %" PRIu64 "\n", name, p[i].rank, v);
	}
}

void
stat_prometheus(const asoc_node_stat_t *n, const asoc_peer_stat_t *p,
    size_t np)
{
	size_t i;

	prom_head("asoc_info", "gauge", "This asocd: its transport (1).");
	printf("asoc_info{transport=");
	prom_label(n->transport, sizeof n->transport);
	printf("} 1\n");
	prom_node("asoc_rank", "gauge", "This node's rank in the job.",
	    (uint64_t)n->rank);
	prom_node("asoc_world_size", "gauge", "Ranks in the job.",
	    (uint64_t)n->world);
	prom_node("asoc_clients", "gauge", "Clients connected to asocd.",
	    n->clients);
	prom_node("asoc_peers_connected", "gauge", "Peers with a connection "
	    "up.", n->peers_connected);
	prom_node("asoc_transfers_active", "gauge", "Transfers in flight.",
	    n->xfers_active);
	prom_node("asoc_transfers_done_total", "counter", "Transfers "
	    "completed.", n->xfers_done);
	prom_node("asoc_transfers_failed_total", "counter", "Transfers "
	    "failed.", n->xfers_failed);
	prom_node("asoc_unexpected_sends", "gauge", "Sends waiting for a "
	    "matching receive.", n->unexpected);
	prom_node("asoc_posted_receives", "gauge", "Receives waiting for a "
	    "matching send.", n->posted_recvs);
	prom_node("asoc_sent_bytes_total", "counter", "Bytes sent to peers.",
	    n->bytes_sent);
	prom_node("asoc_received_bytes_total", "counter", "Bytes received "
	    "from peers.", n->bytes_received);
	prom_node("asoc_buffers", "gauge", "Client buffers registered with "
	    "asocd.", n->buffers);
	prom_node("asoc_buffer_bytes", "gauge", "Bytes of client buffers.",
	    n->buffer_bytes);
	prom_node("asoc_registrations_total", "counter", "RDMA memory "
	    "registrations.", n->registrations);
	prom_node("asoc_deregistrations_total", "counter", "RDMA memory "
	    "deregistrations.", n->deregistrations);
	if (np == 0)
		return;
	prom_head("asoc_peer_info", "gauge", "Each rank of the job: host, "
	    "port, state and transport (1).");
	for (i = 0; i < np; i++) {
		printf("asoc_peer_info{rank=\"%d\",host=", p[i].rank);
		prom_label(p[i].host, sizeof p[i].host);
		printf(",port=\"%u\",state=", p[i].port);
		prom_label(p[i].state != NULL ? p[i].state : "-", 32);
		printf(",transport=");
		prom_label(p[i].transport, sizeof p[i].transport);
		printf("} 1\n");
	}
	prom_peers("asoc_peer_transfers_active", "gauge", "Transfers in "
	    "flight with a peer.", p, np,
	    offsetof(asoc_peer_stat_t, xfers_active));
	prom_peers("asoc_peer_sent_bytes_total", "counter", "Bytes sent to "
	    "a peer.", p, np, offsetof(asoc_peer_stat_t, bytes_sent));
	prom_peers("asoc_peer_received_bytes_total", "counter", "Bytes "
	    "received from a peer.", p, np,
	    offsetof(asoc_peer_stat_t, bytes_received));
}
