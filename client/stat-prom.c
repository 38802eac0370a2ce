/*
 * stat-prom.c: asoc-stat --prometheus.  Text exposition format 0.0.4: for
 * each metric one HELP and one TYPE line, then its samples; counters end
 * in _total, byte counts in _bytes.  Peers are labelled by rank (host and
 * transport label asoc_peer_info only, so a peer that moves from TCP to
 * RDMA does not start new counter series).  Process ranks likewise: by
 * rank, with the pid and SLURM_LOCALID on asoc_rank_info only.
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

/* The node's metrics, in the order they are printed: each one a field of
 * asoc_node_stat_t, read by its type. */
enum prom_kind { PROM_INT, PROM_UINT, PROM_U64 };

#define PROM_FIELD(f, k)	offsetof(asoc_node_stat_t, f), k

static const struct prom_metric {
	const char	*name, *type, *help;
	size_t		 off;
	enum prom_kind	 kind;
} prom_node_metrics[] = {
	{ "asoc_rank", "gauge", "This node's rank in the job.",
	    PROM_FIELD(rank, PROM_INT) },
	{ "asoc_world_size", "gauge", "Ranks in the job.",
	    PROM_FIELD(world, PROM_INT) },
	{ "asoc_clients", "gauge", "Clients connected to asocd.",
	    PROM_FIELD(clients, PROM_UINT) },
	{ "asoc_peers_connected", "gauge", "Peers with a connection up.",
	    PROM_FIELD(peers_connected, PROM_UINT) },
	{ "asoc_transfers_active", "gauge", "Transfers in flight.",
	    PROM_FIELD(xfers_active, PROM_U64) },
	{ "asoc_transfers_done_total", "counter", "Transfers completed.",
	    PROM_FIELD(xfers_done, PROM_U64) },
	{ "asoc_transfers_failed_total", "counter", "Transfers failed.",
	    PROM_FIELD(xfers_failed, PROM_U64) },
	{ "asoc_unexpected_sends", "gauge", "Sends waiting for a matching "
	    "receive.", PROM_FIELD(unexpected, PROM_U64) },
	{ "asoc_posted_receives", "gauge", "Receives waiting for a matching "
	    "send.", PROM_FIELD(posted_recvs, PROM_U64) },
	{ "asoc_sent_bytes_total", "counter", "Bytes sent to peers.",
	    PROM_FIELD(bytes_sent, PROM_U64) },
	{ "asoc_received_bytes_total", "counter", "Bytes received from "
	    "peers.", PROM_FIELD(bytes_received, PROM_U64) },
	{ "asoc_buffers", "gauge", "Client buffers registered with asocd.",
	    PROM_FIELD(buffers, PROM_U64) },
	{ "asoc_buffer_bytes", "gauge", "Bytes of client buffers.",
	    PROM_FIELD(buffer_bytes, PROM_U64) },
	{ "asoc_registrations_total", "counter", "RDMA memory "
	    "registrations.", PROM_FIELD(registrations, PROM_U64) },
	{ "asoc_deregistrations_total", "counter", "RDMA memory "
	    "deregistrations.", PROM_FIELD(deregistrations, PROM_U64) },
};

/* A metric's value as the old casts gave it: an int sign-extended. */
static uint64_t
prom_value(const asoc_node_stat_t *n, const struct prom_metric *m)
{
	const char *f = (const char *)n + m->off;
	uint64_t v;
	unsigned u;
	int i;

	switch (m->kind) {
	case PROM_INT:
		memcpy(&i, f, sizeof i);
		return (uint64_t)i;
	case PROM_UINT:
		memcpy(&u, f, sizeof u);
		return u;
	default:
		memcpy(&v, f, sizeof v);
		return v;
	}
}

/* One metric with a sample per local process rank. */
static void
prom_ranks(const char *name, const char *help, const asoc_rank_stat_t *r,
    size_t nr, size_t field)
{
	size_t i;
	uint64_t v;

	prom_head(name, "counter", help);
	for (i = 0; i < nr; i++) {
		memcpy(&v, (const char *)&r[i] + field, sizeof v);
		printf("%s{rank=\"%d\"} %" PRIu64 "\n", name, r[i].rank, v);
	}
}

static void
prom_process_ranks(const asoc_ranks_stat_t *m, const asoc_rank_stat_t *r,
    size_t nr)
{
	size_t i;

	prom_node("asoc_rank_mode", "gauge", "What asocd's clients hold: 0 "
	    "nothing yet, 1 node ranks, 2 process ranks.",
	    (uint64_t)(m->mode < 0 ? 0 : m->mode));
	prom_node("asoc_process_world_size", "gauge", "Process ranks in the "
	    "job (0 outside process mode).", (uint64_t)(m->world < 0 ? 0 :
	    m->world));
	prom_node("asoc_process_ranks", "gauge", "Process ranks living on "
	    "this asocd.", m->local_ranks);
	if (nr == 0)
		return;
	prom_head("asoc_rank_info", "gauge", "Each process rank living here: "
	    "its pid and SLURM_LOCALID (1).");
	for (i = 0; i < nr; i++) {
		printf("asoc_rank_info{rank=\"%d\",pid=\"%ld\",localid=",
		    r[i].rank, r[i].pid);
		if (r[i].localid >= 0)
			printf("\"%d\"", r[i].localid);
		else
			printf("\"\"");
		printf("} 1\n");
	}
	prom_ranks("asoc_rank_sent_bytes_total", "Bytes a process rank sent.",
	    r, nr, offsetof(asoc_rank_stat_t, bytes_sent));
	prom_ranks("asoc_rank_received_bytes_total", "Bytes a process rank "
	    "received.", r, nr, offsetof(asoc_rank_stat_t, bytes_received));
}

void
stat_prometheus(const asoc_node_stat_t *n, const asoc_peer_stat_t *p,
    size_t np, const asoc_ranks_stat_t *m, const asoc_rank_stat_t *r,
    size_t nr)
{
	size_t i;

	prom_head("asoc_info", "gauge", "This asocd: its transport (1).");
	printf("asoc_info{transport=");
	prom_label(n->transport, sizeof n->transport);
	printf("} 1\n");
	for (i = 0; i < sizeof prom_node_metrics /
	    sizeof prom_node_metrics[0]; i++)
		prom_node(prom_node_metrics[i].name, prom_node_metrics[i].type,
		    prom_node_metrics[i].help,
		    prom_value(n, &prom_node_metrics[i]));
	prom_process_ranks(m, r, nr);
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
