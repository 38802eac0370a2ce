/*
 * asoc-stat: prints the counters of this node's asocd, its process ranks
 * and its peers, as a table for people, as one line of JSON for scripts,
 * or in Prometheus' text format for monitoring.  It opens a status-only
 * session, so it never takes a rank of the job it watches.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asoc.h"
#include "cli.h"
#include "stat-prom.h"

/* The library fills fixed arrays; never trust them to hold a NUL. */
static int
stat_len(const char *s, size_t max)
{
	return s == NULL ? 0 : (int)strnlen(s, max);
}

/*
 * Non-ASCII bytes are escaped as \u00XX too: a host name is ASCII, and an
 * invalid UTF-8 byte passed through would make the whole line invalid JSON.
 */
static void
stat_json_str(const char *key, const char *s, size_t max)
{
	int i, n = stat_len(s, max);
	unsigned char ch;

	printf("\"%s\":\"", key);
	for (i = 0; i < n; i++) {
		ch = (unsigned char)s[i];
		if (ch == '"' || ch == '\\')
			printf("\\%c", ch);
		else if (ch < 0x20 || ch >= 0x7f)
			printf("\\u%04x", ch);
		else
			putchar(ch);
	}
	putchar('"');
}

/* What the daemon's sessions hold, in one word. */
static const char *
stat_mode(int mode)
{
	return mode == ASOC_MODE_PROC ? "proc" : mode == ASOC_MODE_NODE ?
	    "node" : "none";
}

static void
stat_json_ranks(const asoc_ranks_stat_t *m, const asoc_rank_stat_t *r,
    size_t nr)
{
	size_t i;

	printf("\"mode\":\"%s\",\"proc_world\":%d,\"local_ranks\":%u,"
	    "\"ranks\":[", stat_mode(m->mode), m->world, m->local_ranks);
	for (i = 0; i < nr; i++)
		printf("%s{\"rank\":%d,\"world\":%d,\"pid\":%ld,"
		    "\"localid\":%d,\"sessions\":%u,\"incarnation\":%u,"
		    "\"posted_recvs\":%" PRIu64 ",\"unexpected\":%" PRIu64 ","
		    "\"bytes_sent\":%" PRIu64 ",\"bytes_received\":%" PRIu64
		    "}", i > 0 ? "," : "", r[i].rank, r[i].world, r[i].pid,
		    r[i].localid, r[i].sessions, r[i].incarnation,
		    r[i].posted_recvs, r[i].unexpected, r[i].bytes_sent,
		    r[i].bytes_received);
	printf("],");
}

static void
stat_json(const asoc_node_stat_t *n, const asoc_peer_stat_t *p, size_t np,
    const asoc_ranks_stat_t *m, const asoc_rank_stat_t *r, size_t nr)
{
	size_t i;

	printf("{\"rank\":%d,\"world\":%d,\"clients\":%u,"
	    "\"peers_connected\":%u,\"xfers_active\":%" PRIu64 ","
	    "\"xfers_done\":%" PRIu64 ",\"xfers_failed\":%" PRIu64 ","
	    "\"unexpected\":%" PRIu64 ",\"posted_recvs\":%" PRIu64 ","
	    "\"bytes_sent\":%" PRIu64 ",\"bytes_received\":%" PRIu64 ","
	    "\"buffers\":%" PRIu64 ",\"buffer_bytes\":%" PRIu64 ","
	    "\"registrations\":%" PRIu64 ",\"deregistrations\":%" PRIu64 ",",
	    n->rank, n->world, n->clients, n->peers_connected,
	    n->xfers_active, n->xfers_done, n->xfers_failed, n->unexpected,
	    n->posted_recvs, n->bytes_sent, n->bytes_received, n->buffers,
	    n->buffer_bytes, n->registrations, n->deregistrations);
	stat_json_str("transport", n->transport, sizeof n->transport);
	putchar(',');
	stat_json_ranks(m, r, nr);
	printf("\"peers\":[");
	for (i = 0; i < np; i++) {
		printf("%s{\"rank\":%d,", i > 0 ? "," : "", p[i].rank);
		stat_json_str("host", p[i].host, sizeof p[i].host);
		printf(",\"port\":%u,", p[i].port);
		stat_json_str("state", p[i].state, 32);
		putchar(',');
		stat_json_str("transport", p[i].transport,
		    sizeof p[i].transport);
		printf(",\"xfers_active\":%" PRIu64 ",\"bytes_sent\":%" PRIu64
		    ",\"bytes_received\":%" PRIu64 "}", p[i].xfers_active,
		    p[i].bytes_sent, p[i].bytes_received);
	}
	printf("]}\n");
}

/* A count of bytes, exact for scripts and readable for people. */
static void
stat_bytes(const char *label, uint64_t n)
{
	char h[32];

	printf("%-18s %" PRIu64 " (%s)\n", label, n,
	    cli_fmt_bytes(n, h, sizeof h));
}

/* "ranks: world 16, here 4: 4 5 6 7", then a row per local rank. */
static void
stat_text_ranks(const asoc_ranks_stat_t *m, const asoc_rank_stat_t *r,
    size_t nr)
{
	char sent[32], recvd[32], lid[16];
	size_t i;

	/* "none" also once every ranked client has left: the daemon's
	 * status does not say whether one ever came, so "now", not "yet". */
	printf("%-18s %s\n", "rank mode", m->mode == ASOC_MODE_PROC ?
	    "process ranks" : m->mode == ASOC_MODE_NODE ? "node ranks" :
	    "none (no ranked client now)");
	if (m->mode != ASOC_MODE_PROC)
		return;
	printf("ranks: world %d, here %zu:", m->world, nr);
	for (i = 0; i < nr; i++)
		printf(" %d", r[i].rank);
	printf("\n");
	if (nr == 0)
		return;
	printf("\n%5s %8s %7s %8s %8s %10s %12s %12s\n", "RANK", "PID",
	    "LOCALID", "SESSIONS", "POSTED", "UNEXPECTED", "SENT",
	    "RECEIVED");
	for (i = 0; i < nr; i++) {
		if (r[i].localid >= 0)
			snprintf(lid, sizeof lid, "%d", r[i].localid);
		else
			snprintf(lid, sizeof lid, "-");
		printf("%5d %8ld %7s %8u %8" PRIu64 " %10" PRIu64 " %12s %12s\n",
		    r[i].rank, r[i].pid, lid, r[i].sessions, r[i].posted_recvs,
		    r[i].unexpected,
		    cli_fmt_bytes(r[i].bytes_sent, sent, sizeof sent),
		    cli_fmt_bytes(r[i].bytes_received, recvd, sizeof recvd));
	}
}

static void
stat_text(const asoc_node_stat_t *n, const asoc_peer_stat_t *p, size_t np,
    const asoc_ranks_stat_t *m, const asoc_rank_stat_t *r, size_t nr)
{
	char where[96], sent[32], recvd[32];
	size_t i;
	int len, v6;

	printf("%-18s %d\n", "rank", n->rank);
	printf("%-18s %d\n", "world", n->world);
	printf("%-18s %.*s\n", "transport",
	    stat_len(n->transport, sizeof n->transport), n->transport);
	printf("%-18s %u\n", "clients", n->clients);
	printf("%-18s %u\n", "peers connected", n->peers_connected);
	printf("%-18s %" PRIu64 "\n", "transfers active", n->xfers_active);
	printf("%-18s %" PRIu64 "\n", "transfers done", n->xfers_done);
	printf("%-18s %" PRIu64 "\n", "transfers failed", n->xfers_failed);
	printf("%-18s %" PRIu64 "\n", "unexpected", n->unexpected);
	printf("%-18s %" PRIu64 "\n", "posted receives", n->posted_recvs);
	stat_bytes("bytes sent", n->bytes_sent);
	stat_bytes("bytes received", n->bytes_received);
	printf("%-18s %" PRIu64 "\n", "buffers", n->buffers);
	stat_bytes("buffer bytes", n->buffer_bytes);
	printf("%-18s %" PRIu64 "\n", "registrations", n->registrations);
	printf("%-18s %" PRIu64 "\n", "deregistrations", n->deregistrations);
	stat_text_ranks(m, r, nr);
	if (np == 0)
		return;

	printf("\n%5s  %-32s %-10s %-9s %6s %12s %12s\n", "RANK", "HOST:PORT",
	    "STATE", "TRANSPORT", "ACTIVE", "SENT", "RECEIVED");
	for (i = 0; i < np; i++) {
		/* An IPv6 address needs brackets to keep its port apart. */
		len = stat_len(p[i].host, sizeof p[i].host);
		v6 = memchr(p[i].host, ':', (size_t)len) != NULL;
		snprintf(where, sizeof where, "%s%.*s%s:%u", v6 ? "[" : "",
		    len, p[i].host, v6 ? "]" : "", p[i].port);
		printf("%5d  %-32s %-10s %-9.*s %6" PRIu64 " %12s %12s\n",
		    p[i].rank, where, p[i].state != NULL ? p[i].state : "-",
		    stat_len(p[i].transport, sizeof p[i].transport),
		    p[i].transport, p[i].xfers_active,
		    cli_fmt_bytes(p[i].bytes_sent, sent, sizeof sent),
		    cli_fmt_bytes(p[i].bytes_received, recvd, sizeof recvd));
	}
}

struct stat_args {
	int json, prom;
};

static const struct cli_opt stat_opts[] = {
	{ "json", 'j', NULL, "one line of JSON" },
	{ "prometheus", 'p', NULL, "Prometheus' text format" },
	{ NULL, 0, NULL, NULL }
};

static void
stat_take(void *ctx, int key, const char *arg)
{
	struct stat_args *a = ctx;

	(void)arg;
	if (key == 'j')
		a->json = 1;
	else
		a->prom = 1;
}

static const struct cli_tool stat_tool = {
	.name = "asoc-stat",
	.about = "Prints the counters of this node's asocd, its process ranks "
	    "and its peers.",
	.common = CLI_COMMON_SOCKET,
	.opts = stat_opts,
	.take = stat_take,
};

int
main(int argc, char **argv)
{
	struct cli_common com = { .socket = NULL };
	struct stat_args a = { 0, 0 };
	asoc_node_stat_t node;
	asoc_peer_stat_t *peers = NULL;
	asoc_ranks_stat_t mode;
	asoc_rank_stat_t *ranks = NULL;
	asoc_status_t st;
	asoc_t *as;
	size_t npeers = 0, nranks = 0;
	int first = cli_parse(&stat_tool, &com, &a, argc, argv);

	if (first < argc)
		cli_die_usage("unexpected argument '%s'", argv[first]);
	if (a.json && a.prom)
		cli_die_usage("--json and --prometheus are two formats: "
		    "choose one");

	as = cli_open_status(com.socket);
	memset(&node, 0, sizeof node);
	if ((st = asoc_stat(as, &node, &peers, &npeers)) != ASOC_OK)
		cli_die_asoc(st, asoc_last_error(as), "asking asocd for its "
		    "counters");
	memset(&mode, 0, sizeof mode);
	if ((st = asoc_stat_ranks(as, &mode, &ranks, &nranks)) != ASOC_OK)
		cli_die_asoc(st, asoc_last_error(as), "asking asocd for its "
		    "process ranks");
	if (a.prom)
		stat_prometheus(&node, peers, npeers, &mode, ranks, nranks);
	else if (a.json)
		stat_json(&node, peers, npeers, &mode, ranks, nranks);
	else
		stat_text(&node, peers, npeers, &mode, ranks, nranks);
	free(peers);
	free(ranks);
	asoc_close(as);
	cli_flush_stdout();
	return CLI_EXIT_OK;
}
