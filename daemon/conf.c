/*
 * conf.c: command line, environment, config file and defaults, from one
 * table of settings.
 */
#include "config.h"
#include "conf.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hostlist.h"
#include "slurm_user.h"
#include "proto.h"
#include "size_parse.h"
#include "env_get.h"
#include "tcp_cc.h"

extern char **environ;

enum conf_kind {
	K_STR,
	K_UINT,		/* unsigned, range in min..max */
	K_INT_RANK,	/* -1 or 0..PROTO_RANK_MAX-1 */
	K_SIZE,		/* bytes with K/M/G suffix */
	K_FLAG,		/* yes/no; on the command line, no argument */
	K_YESNO,	/* yes/no; on the command line too */
	K_TRANSPORT,
	K_LOGLEVEL,
	K_MUNGE,	/* auto, yes or no */
};

struct conf_opt {
	const char *name;	/* long option and config file key */
	int shortopt;		/* 0: none */
	const char *env;	/* NULL: none */
	enum conf_kind kind;
	size_t off;
	unsigned long min, max;
	const char *arg;
	const char *help;
};

#define OFF(f) offsetof(struct conf, f)
static const struct conf_opt conf_opts[] = {
	{ "config", 'c', "ASOC_CONFIG", K_STR, OFF(config_file), 0, 0,
	    "FILE", "read settings from FILE (see asocd.conf(5))" },
	{ "peers", 'p', "ASOC_PEERS", K_STR, OFF(peers), 0, 0,
	    "LIST", "peer list: host[:port],... or node[001-004]" },
	{ "rank", 'r', "ASOC_RANK", K_INT_RANK, OFF(rank), 0, 0,
	    "N", "this node's rank (default: found in --peers)" },
	{ "port", 'P', "ASOC_PORT", K_UINT, OFF(port), 1, 65535,
	    "PORT", "peer port (default 9000)" },
	{ "port-tries", 0, "ASOC_PORT_TRIES", K_UINT, OFF(port_tries), 1, 64,
	    "N", "N candidate ports from --port, drawn from the community "
	    "(default 1: --port only)" },
	{ "port-span", 0, "ASOC_PORT_SPAN", K_UINT, OFF(port_span), 1, 65535,
	    "N", "with --port-tries: candidates lie in --port..--port+N-1 "
	    "(default 1000)" },
	{ "listen", 'l', "ASOC_LISTEN", K_STR, OFF(listen), 0, 0,
	    "ADDR", "address to listen on when --interface is absent" },
	{ "interface", 'i', "ASOC_INTERFACE", K_STR, OFF(interface), 0, 0,
	    "IF", "fabric interface (default ib0)" },
	{ "socket", 's', "ASOC_SOCKET", K_STR, OFF(socket), 0, 0,
	    "PATH", "local Unix socket for clients" },
	{ "community", 'C', "ASOC_COMMUNITY", K_STR, OFF(community), 0, 0,
	    "NAME", "job name space; peers must match (default \"default\")" },
	{ "connection-timeout", 'T', "ASOC_CONNECTION_TIMEOUT", K_UINT,
	    OFF(connection_timeout), 1, 86400, "SECONDS",
	    "give up on a peer after this long (default 30)" },
	{ "chunk-size", 'k', "ASOC_CHUNK_SIZE", K_SIZE, OFF(chunk_size),
	    CONF_MIN_CHUNK, CONF_MAX_CHUNK, "BYTES",
	    "transfer chunk (default 4M; 4K..64M)" },
	{ "conns-per-peer", 0, "ASOC_CONNS_PER_PEER", K_UINT,
	    OFF(conns_per_peer), 1, PROTO_CONNS_MAX, "N",
	    "TCP connections per peer, one transfer's data spread over them "
	    "(default 1; at most 16; every daemon the same)" },
	{ "eager-threshold", 0, "ASOC_EAGER_THRESHOLD", K_SIZE,
	    OFF(eager_threshold), 0, PROTO_EAGER_MAX, "BYTES",
	    "messages up to this size travel with their RTS (default "
	    CONF_DEFAULT_EAGER_STR "; 0: off; at most 64K)" },
	{ "eager-budget", 0, "ASOC_EAGER_BUDGET", K_SIZE, OFF(eager_budget),
	    0, CONF_MAX_EAGER_BUDGET, "BYTES",
	    "bytes of unmatched eager messages held per peer (default "
	    CONF_DEFAULT_EAGER_BUDGET_STR "; 0: none held; at most 1G)" },
	{ "eager-budget-total", 0, "ASOC_EAGER_BUDGET_TOTAL", K_SIZE,
	    OFF(eager_budget_total), 0, CONF_MAX_EAGER_TOTAL, "BYTES",
	    "bytes of unmatched eager messages held from all peers (default "
	    CONF_DEFAULT_EAGER_TOTAL_STR "; at most 16G)" },
	{ "busy-poll", 0, "ASOC_BUSY_POLL", K_UINT, OFF(busy_poll), 0,
	    CONF_MAX_BUSY_POLL, "MICROSECONDS",
	    "after handling events, poll this long before sleeping "
	    "(default 50; 0: off, sleep at once; at most 10000)" },
	{ "tcp-congestion", 0, "ASOC_TCP_CONGESTION", K_STR,
	    OFF(tcp_congestion), 0, 0, "NAME",
	    "TCP congestion control of peer connections (default "
	    TCP_CC_DEFAULT "; " TCP_CC_SYSTEM ": the kernel's)" },
	{ "client-max-bytes", 0, "ASOC_CLIENT_MAX_BYTES", K_SIZE,
	    OFF(client_max_bytes), 4096, SIZE_MAX, "BYTES",
	    "buffer bytes one client may register (default 3/4 of RAM)" },
	{ "max-clients", 0, "ASOC_MAX_CLIENTS", K_UINT, OFF(max_clients),
	    1, 65536, "N", "clients served at once (default 1024)" },
	{ "max-ranks", 0, "ASOC_MAX_RANKS", K_UINT, OFF(max_ranks),
	    1, PROTO_RANK_MAX, "N",
	    "process ranks held on this node at once (default 256)" },
	{ "join-timeout", 0, "ASOC_JOIN_TIMEOUT", K_UINT, OFF(join_timeout),
	    1, CONF_MAX_JOIN_TIMEOUT, "SECONDS",
	    "a send to a process rank that has not joined waits this long "
	    "(default 60; 1..3600)" },
	{ "max-registered-bytes", 0, "ASOC_MAX_REGISTERED_BYTES", K_SIZE,
	    OFF(max_registered_bytes), 4096, SIZE_MAX, "BYTES",
	    "buffer bytes all clients together may register (default 3/4 "
	    "of RAM)" },
	{ "transport", 't', "ASOC_TRANSPORT", K_TRANSPORT, OFF(transport),
	    0, 0, "auto|rdma|tcp", "peer transport (default auto)" },
	{ "log-level", 'L', "ASOC_LOG_LEVEL", K_LOGLEVEL, OFF(log_level),
	    0, 0, "LEVEL", "error, warning, info (default) or debug" },
	{ "log-file", 0, "ASOC_LOG_FILE", K_STR, OFF(log_file), 0, 0,
	    "FILE", "log to FILE (reopened on SIGHUP)" },
	{ "syslog", 0, NULL, K_FLAG, OFF(syslog), 0, 0,
	    NULL, "log to syslog (default when not in the foreground)" },
	{ "pidfile", 0, "ASOC_PIDFILE", K_STR, OFF(pidfile), 0, 0,
	    "FILE", "write the daemon's pid to FILE" },
	{ "foreground", 'f', NULL, K_FLAG, OFF(foreground), 0, 0,
	    NULL, "stay in the foreground and log to stderr" },
	{ "key-file", 'K', "ASOC_KEY_FILE", K_STR, OFF(key_file), 0, 0,
	    "FILE", "the job key (mode 0600): peers must prove they hold it" },
	/* asoc-slurm(8) hands the key over a pipe: never in a file the
	 * job user could swap, nor in argv or the environment. */
	{ "key-fd", 0, NULL, K_UINT, OFF(key_fd), 3, 65535, "FD",
	    "read the job key from descriptor FD (instead of --key-file)" },
	{ "slurm-user", 0, NULL, K_FLAG, OFF(slurm_user), 0, 0, NULL,
	    "inside a SLURM job, with no prolog: peers, rank, key and "
	    "socket from the job (see asocd(8))" },
	{ "ready-fd", 0, NULL, K_UINT, OFF(ready_fd), 3, 65535, "FD",
	    "with -f: write 1 to descriptor FD once serving" },
	{ "munge", 0, "ASOC_MUNGE", K_MUNGE, OFF(munge), 0, 0, "auto|yes|no",
	    "prove the job user to peers by MUNGE (default auto: when "
	    "munged runs)" },
	{ "munge-socket", 0, "ASOC_MUNGE_SOCKET", K_STR, OFF(munge_socket),
	    0, 0, "PATH", "munged's socket (default libmunge's)" },
	{ "discovery", 0, "ASOC_DISCOVERY", K_FLAG, OFF(discovery), 0, 0,
	    NULL, "find the peers by UDP broadcast (LANs without SLURM)" },
	{ "discovery-port", 0, "ASOC_DISCOVERY_PORT", K_UINT,
	    OFF(discovery_port), 1, 65535, "PORT",
	    "UDP port of discovery (default 9099)" },
	{ "discovery-addr", 0, "ASOC_DISCOVERY_ADDR", K_STR,
	    OFF(discovery_addr), 0, 0, "ADDR",
	    "broadcast address of discovery (default 255.255.255.255)" },
	{ "world", 'w', "ASOC_WORLD", K_UINT, OFF(world), 2, 65534, "N",
	    "with --discovery: the number of nodes to find" },
	{ "tls-cert", 0, "ASOC_TLS_CERT", K_STR, OFF(tls_cert), 0, 0, "FILE",
	    "this node's certificate (PEM); with --tls-key: TLS on TCP" },
	{ "tls-key", 0, "ASOC_TLS_KEY", K_STR, OFF(tls_key), 0, 0, "FILE",
	    "the private key of --tls-cert (PEM)" },
	{ "tls-ca", 0, "ASOC_TLS_CA", K_STR, OFF(tls_ca), 0, 0, "FILE",
	    "the CA certificates that signed the peers' certificates" },
	{ "tls-verify-peer", 0, "ASOC_TLS_VERIFY_PEER", K_YESNO,
	    OFF(tls_verify_peer), 0, 0, "yes|no",
	    "check the peers' certificates against --tls-ca (default yes)" },
};
#define NOPTS (sizeof conf_opts / sizeof conf_opts[0])

/* Read from the environment only, and kept as given (empty included):
 * they are no options of asocd's, but how a test, SLURM or systemd tells
 * it something. */
static const struct conf_env {
	const char *env;
	size_t off;
} conf_envs[] = {
	/* mw|mr: how RDMA exposes receives (rdma_probe.c), for tests and
	 * diagnosis; asocd(8) documents it. */
	{ "ASOC_RDMA_SCOPE", OFF(rdma_scope) },
	/* Set: --discovery refuses to run inside a SLURM job. */
	{ "SLURM_JOB_ID", OFF(slurm_job_id) },
	/* systemd's readiness protocol: where to say we are up. */
	{ "NOTIFY_SOCKET", OFF(notify_socket) },
};
#define NENVS (sizeof conf_envs / sizeof conf_envs[0])

static const char *const conf_transports[] = { "auto", "tcp", "rdma" };
static const char *const conf_munges[] = { "auto", "yes", "no" };

const char *
conf_munge_name(enum conf_munge m)
{
	return (unsigned)m < 3 ? conf_munges[m] : "?";
}

const char *
conf_transport_name(enum conf_transport t)
{
	return (unsigned)t < 3 ? conf_transports[t] : "?";
}

int
conf_parse_size(const char *s, size_t *out)
{
	uint64_t v;

	if (size_parse(s, &v) != SIZE_PARSE_OK || v > SIZE_MAX)
		return -1;
	*out = (size_t)v;
	return 0;
}

static int
conf_parse_bool(const char *s, int *out)
{
	if (strcmp(s, "yes") == 0 || strcmp(s, "true") == 0 ||
	    strcmp(s, "1") == 0 || strcmp(s, "on") == 0)
		*out = 1;
	else if (strcmp(s, "no") == 0 || strcmp(s, "false") == 0 ||
	    strcmp(s, "0") == 0 || strcmp(s, "off") == 0)
		*out = 0;
	else
		return -1;
	return 0;
}

/* A size as the messages write it: 4K, 64M, or bytes when not round. */
static void
conf_size_name(unsigned long v, char *buf, size_t len)
{
	if (v >= (1ul << 20) && v % (1ul << 20) == 0)
		snprintf(buf, len, "%luM", v >> 20);
	else if (v >= 1024 && v % 1024 == 0)
		snprintf(buf, len, "%luK", v >> 10);
	else
		snprintf(buf, len, "%lu", v);
}

/* K_STR: a copy of val, never empty. */
static int
conf_set_str(char **sp, const struct conf_opt *o, const char *val,
    const char *where, char *err, size_t errlen)
{
	char *dup;

	if (*val == '\0') {
		snprintf(err, errlen, "%s: %s must not be empty", where,
		    o->name);
		return -1;
	}
	if ((dup = strdup(val)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	free(*sp);
	*sp = dup;
	return 0;
}

/* K_UINT (an unsigned in min..max) and K_INT_RANK (an int rank). */
static int
conf_set_number(char *field, const struct conf_opt *o, const char *val,
    const char *where, char *err, size_t errlen)
{
	unsigned long long v;
	char *end;
	int bad;

	errno = 0;
	v = strtoull(val, &end, 10);
	bad = !isdigit((unsigned char)*val) || *end != '\0' || errno != 0;
	if (o->kind == K_INT_RANK) {
		if (bad || v >= PROTO_RANK_MAX) {
			snprintf(err, errlen, "%s: %s must be a rank from 0 "
			    "to %u, not '%s'", where, o->name,
			    PROTO_RANK_MAX - 1, val);
			return -1;
		}
		*(int *)(void *)field = (int)v;
		return 0;
	}
	if (bad || v < o->min || v > o->max) {
		snprintf(err, errlen, "%s: %s must be a number from %lu to "
		    "%lu, not '%s'", where, o->name, o->min, o->max, val);
		return -1;
	}
	*(unsigned *)(void *)field = (unsigned)v;
	return 0;
}

/* Sets one option from text; where names the source for messages. */
static int
conf_set(struct conf *c, const struct conf_opt *o, const char *val,
    const char *where, char *err, size_t errlen)
{
	char *field = (char *)c + o->off;
	size_t sz;
	int i;

	switch (o->kind) {
	case K_STR:
		return conf_set_str((char **)(void *)field, o, val, where,
		    err, errlen);
	case K_UINT:
	case K_INT_RANK:
		return conf_set_number(field, o, val, where, err, errlen);
	case K_SIZE:
		if (conf_parse_size(val, &sz) < 0 || sz < o->min ||
		    sz > o->max) {
			char lo[24], hi[24];

			conf_size_name(o->min, lo, sizeof lo);
			conf_size_name(o->max, hi, sizeof hi);
			snprintf(err, errlen, "%s: %s must be a size from "
			    "%s to %s such as %s, not '%s'", where,
			    o->name, lo, hi, o->max >= (4u << 20) ? "4M" : hi,
			    val);
			return -1;
		}
		*(size_t *)(void *)field = sz;
		return 0;
	case K_FLAG:
	case K_YESNO:
		if (conf_parse_bool(val, &i) < 0) {
			snprintf(err, errlen, "%s: %s must be yes or no, not "
			    "'%s'", where, o->name, val);
			return -1;
		}
		*(int *)(void *)field = i;
		return 0;
	case K_TRANSPORT:
		for (i = 0; i < 3; i++) {
			if (strcmp(val, conf_transports[i]) == 0) {
				*(enum conf_transport *)(void *)field =
				    (enum conf_transport)i;
				return 0;
			}
		}
		snprintf(err, errlen, "%s: %s must be auto, rdma or tcp, not "
		    "'%s'", where, o->name, val);
		return -1;
	case K_MUNGE:
		for (i = 0; i < 3; i++) {
			if (strcmp(val, conf_munges[i]) == 0) {
				*(enum conf_munge *)(void *)field =
				    (enum conf_munge)i;
				return 0;
			}
		}
		snprintf(err, errlen, "%s: %s must be auto, yes or no, not "
		    "'%s'", where, o->name, val);
		return -1;
	case K_LOGLEVEL:
		if (log_level_parse(val, (enum log_level *)(void *)field) < 0) {
			snprintf(err, errlen, "%s: %s must be error, warning, "
			    "info or debug, not '%s'", where, o->name, val);
			return -1;
		}
		return 0;
	}
	return -1;
}

static char *
conf_trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static const struct conf_opt *
conf_find(const char *name)
{
	size_t i;

	for (i = 0; i < NOPTS; i++)
		if (strcmp(conf_opts[i].name, name) == 0)
			return &conf_opts[i];
	return NULL;
}

/* "key = value" lines; '#' starts a comment line.  name says where the
 * lines come from in messages ("FILE:LINE"). */
static int
conf_read_stream(struct conf *c, FILE *fp, const char *name, char *err,
    size_t errlen)
{
	char line[4096], where[PATH_MAX + 32];
	const struct conf_opt *o;
	char *key, *val, *eq;
	unsigned lineno = 0;
	int rc = 0;

	while (rc == 0 && fgets(line, sizeof line, fp) != NULL) {
		lineno++;
		snprintf(where, sizeof where, "%s:%u", name, lineno);
		if (strchr(line, '\n') == NULL && !feof(fp)) {
			snprintf(err, errlen, "%s: line too long", where);
			rc = -1;
			break;
		}
		key = conf_trim(line);
		if (*key == '\0' || *key == '#')
			continue;
		if ((eq = strchr(key, '=')) == NULL) {
			snprintf(err, errlen, "%s: expected 'setting = value'",
			    where);
			rc = -1;
			break;
		}
		*eq = '\0';
		key = conf_trim(key);
		val = conf_trim(eq + 1);
		o = conf_find(key);
		if (o == NULL || strcmp(key, "config") == 0) {
			snprintf(err, errlen, "%s: unknown setting '%s' (see "
			    "asocd.conf(5))", where, key);
			rc = -1;
			break;
		}
		rc = conf_set(c, o, val, where, err, errlen);
	}
	return rc;
}

static int
conf_read_file(struct conf *c, const char *path, char *err, size_t errlen)
{
	FILE *fp;
	int rc;

	if ((fp = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "cannot read config file %s: %s", path,
		    strerror(errno));
		return -1;
	}
	rc = conf_read_stream(c, fp, path, err, errlen);
	fclose(fp);
	return rc;
}

int
conf_parse_text(struct conf *c, const char *text, size_t len,
    const char *name, char *err, size_t errlen)
{
	FILE *fp;
	int rc;

	/* fmemopen refuses a size of 0; an empty file sets nothing. */
	if (len == 0)
		return 0;
	if ((fp = fmemopen((void *)(uintptr_t)text, len, "r")) == NULL) {
		snprintf(err, errlen, "cannot read %s: %s", name,
		    strerror(errno));
		return -1;
	}
	rc = conf_read_stream(c, fp, name, err, errlen);
	fclose(fp);
	return rc;
}

void
conf_usage(FILE *fp)
{
	char left[64];
	size_t i;

	fprintf(fp, "usage: asocd [options]\n\n");
	for (i = 0; i < NOPTS; i++) {
		const struct conf_opt *o = &conf_opts[i];

		if (o->shortopt != 0)
			snprintf(left, sizeof left, "-%c, --%s%s%s",
			    o->shortopt, o->name, o->arg ? " " : "",
			    o->arg ? o->arg : "");
		else
			snprintf(left, sizeof left, "    --%s%s%s", o->name,
			    o->arg ? " " : "", o->arg ? o->arg : "");
		fprintf(fp, "  %-34s %s%s%s\n", left, o->help,
		    o->env ? "; $" : "", o->env ? o->env : "");
	}
	fprintf(fp, "  %-34s %s\n  %-34s %s\n  %-34s %s\n", "-h, --help",
	    "show this help", "-V, --version", "show the version",
	    "    --expand-hostlist LIST", "print LIST one host a line, exit");
}

/* --expand-hostlist LIST: one host per line, for scripts (the SLURM
 * prolog) that must expand SLURM_NODELIST without scontrol. */
static enum conf_result
conf_expand_hostlist(const char *spec, char *err, size_t errlen)
{
	struct hostlist_entry *hl;
	size_t n, i;

	if (hostlist_expand(spec, 0, &hl, &n, err, errlen) < 0)
		return CONF_ERROR;
	for (i = 0; i < n; i++) {
		if (hl[i].port != 0)
			printf("%s:%u\n", hl[i].host, hl[i].port);
		else
			printf("%s\n", hl[i].host);
	}
	free(hl);
	return CONF_EXIT_OK;
}

static void
conf_defaults(struct conf *c)
{
	memset(c, 0, sizeof *c);
	c->rank = -1;
	c->port = CONF_DEFAULT_PORT;
	c->port_tries = 1;
	c->port_span = 1000;
	c->connection_timeout = CONF_DEFAULT_TIMEOUT;
	c->max_clients = CONF_DEFAULT_MAX_CLIENTS;
	c->max_ranks = CONF_DEFAULT_MAX_RANKS;
	c->join_timeout = CONF_DEFAULT_JOIN_TIMEOUT;
	c->chunk_size = CONF_DEFAULT_CHUNK;
	c->conns_per_peer = 1;
	c->eager_threshold = CONF_DEFAULT_EAGER;
	c->busy_poll = CONF_DEFAULT_BUSY_POLL;
	c->eager_budget = CONF_DEFAULT_EAGER_BUDGET;
	c->eager_budget_total = CONF_DEFAULT_EAGER_TOTAL;
	c->transport = CONF_TRANSPORT_AUTO;
	c->log_level = LOG_LVL_INFO;
	c->discovery_port = CONF_DEFAULT_DISCOVERY_PORT;
	c->tls_verify_peer = -1;
}

/* The TLS settings only make sense together; the files themselves are
 * checked when tls.c loads them. */
static int
conf_check_tls(struct conf *c, char *err, size_t errlen)
{
	if (c->tls_cert == NULL && c->tls_key == NULL) {
		if (c->tls_ca != NULL || c->tls_verify_peer != -1) {
			snprintf(err, errlen, "--tls-%s without --tls-cert and "
			    "--tls-key: TLS needs this node's certificate and "
			    "key; give both, or drop the TLS settings",
			    c->tls_ca != NULL ? "ca" : "verify-peer");
			return -1;
		}
		return 0;
	}
	if (c->tls_cert == NULL || c->tls_key == NULL) {
		snprintf(err, errlen, "--tls-%s without --tls-%s: TLS needs "
		    "both this node's certificate and its private key",
		    c->tls_cert != NULL ? "cert" : "key",
		    c->tls_cert != NULL ? "key" : "cert");
		return -1;
	}
	if (c->tls_verify_peer == -1)
		c->tls_verify_peer = 1;
	if (c->tls_verify_peer && c->tls_ca == NULL) {
		snprintf(err, errlen, "--tls-verify-peer is yes (the default "
		    "with TLS) but there is no --tls-ca: give the CA that "
		    "signed the peers' certificates, or set --tls-verify-peer "
		    "no to accept any certificate");
		return -1;
	}
	return 0;
}

static int
conf_fill_strings(struct conf *c, char *err, size_t errlen)
{
	char path[256];

	if (c->interface == NULL && (c->interface = strdup("ib0")) == NULL)
		goto nomem;
	if (c->community == NULL && (c->community = strdup("default")) == NULL)
		goto nomem;
	if (c->discovery_addr == NULL &&
	    (c->discovery_addr = strdup("255.255.255.255")) == NULL)
		goto nomem;
	if (strlen(c->community) >= PROTO_NAME_MAX) {
		snprintf(err, errlen, "community '%s' is longer than %d bytes",
		    c->community, PROTO_NAME_MAX - 1);
		return -1;
	}
	if (c->tcp_congestion != NULL && !tcp_cc_name_ok(c->tcp_congestion)) {
		snprintf(err, errlen, "tcp-congestion '%s' is no congestion "
		    "control's name (1 to 15 letters, digits, '_' or '-'): "
		    "see net.ipv4.tcp_available_congestion_control, or say "
		    "%s", c->tcp_congestion, TCP_CC_SYSTEM);
		return -1;
	}
	if (c->socket == NULL) {
		proto_default_socket(c->slurm_job_id, path, sizeof path);
		if ((c->socket = strdup(path)) == NULL)
			goto nomem;
	}
	return 0;
nomem:
	snprintf(err, errlen, "out of memory");
	return -1;
}

/* conf_envs into c; 0, or -1 with err. */
static int
conf_read_envs(struct conf *c, char **env, char *err, size_t errlen)
{
	const char *v;
	size_t i;

	for (i = 0; i < NENVS; i++) {
		char **sp = (char **)(void *)((char *)c + conf_envs[i].off);

		if ((v = env_get(env, conf_envs[i].env)) == NULL)
			continue;
		free(*sp);
		if ((*sp = strdup(v)) == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	}
	return 0;
}

/* getopt's tables: conf_opts, then --help, --version and
 * --expand-hostlist. */
struct conf_getopt {
	struct option longopts[NOPTS + 4];
	char shortopts[NOPTS * 2 + 4];
};

static void
conf_getopt_init(struct conf_getopt *g)
{
	char *sp = g->shortopts;
	size_t i;

	for (i = 0; i < NOPTS; i++) {
		const struct conf_opt *o = &conf_opts[i];

		g->longopts[i].name = o->name;
		g->longopts[i].has_arg = o->kind == K_FLAG ? no_argument :
		    required_argument;
		g->longopts[i].flag = NULL;
		g->longopts[i].val = 0x100 + (int)i;
		if (o->shortopt != 0) {
			*sp++ = (char)o->shortopt;
			if (o->kind != K_FLAG)
				*sp++ = ':';
		}
	}
	g->longopts[NOPTS] = (struct option){ "help", no_argument, NULL,
	    'h' };
	g->longopts[NOPTS + 1] = (struct option){ "version", no_argument,
	    NULL, 'V' };
	g->longopts[NOPTS + 2] = (struct option){ "expand-hostlist",
	    required_argument, NULL, 'X' };
	g->longopts[NOPTS + 3] = (struct option){ NULL, 0, NULL, 0 };
	*sp++ = 'h';
	*sp++ = 'V';
	*sp = '\0';
}

/* First pass: only find --config, --help and --version, so the file can
 * be read before the environment and the command line override it.
 * CONF_RUN to go on, with *cfg the file (or NULL). */
static enum conf_result
conf_first_pass(const struct conf_getopt *g, int argc, char **argv,
    const char **cfg, char *err, size_t errlen)
{
	int ch, idx;

	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, g->shortopts, g->longopts,
	    &idx)) != -1) {
		if (ch == 'h') {
			conf_usage(stdout);
			return CONF_EXIT_OK;
		}
		if (ch == 'V') {
			printf("asocd %s (protocol %d)\n", PACKAGE_VERSION,
			    PROTO_VERSION);
			return CONF_EXIT_OK;
		}
		if (ch == 'X')
			return conf_expand_hostlist(optarg, err, errlen);
		if (ch == 'c' || ch == 0x100)
			*cfg = optarg;
		if (ch == '?' || ch == ':') {
			if (optopt != 0)
				snprintf(err, errlen, "unknown option or "
				    "missing argument: -%c (try --help)",
				    optopt);
			else
				snprintf(err, errlen, "unknown option or "
				    "missing argument: %s (try --help)",
				    argv[optind - 1]);
			return CONF_ERROR;
		}
	}
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument '%s' (try --help)",
		    argv[optind]);
		return CONF_ERROR;
	}
	return CONF_RUN;
}

/* The ASOC_* variables of conf_opts, then those of conf_envs. */
static int
conf_read_env(struct conf *c, char **env, char *err, size_t errlen)
{
	char where[64];
	const char *v;
	size_t i;

	for (i = 0; i < NOPTS; i++) {
		if (conf_opts[i].env == NULL ||
		    (v = env_get(env, conf_opts[i].env)) == NULL)
			continue;
		snprintf(where, sizeof where, "$%s", conf_opts[i].env);
		if (conf_set(c, &conf_opts[i], v, where, err, errlen) < 0)
			return -1;
	}
	return conf_read_envs(c, env, err, errlen);
}

/* Second pass: the command line, over everything else. */
static int
conf_read_argv(struct conf *c, const struct conf_getopt *g, int argc,
    char **argv, char *err, size_t errlen)
{
	char where[64];
	size_t i;
	int ch, idx;

	optind = 0;
	while ((ch = getopt_long(argc, argv, g->shortopts, g->longopts,
	    &idx)) != -1) {
		const struct conf_opt *o = NULL;

		if (ch >= 0x100)
			o = &conf_opts[ch - 0x100];
		else
			for (i = 0; i < NOPTS; i++)
				if (conf_opts[i].shortopt == ch)
					o = &conf_opts[i];
		if (o == NULL)
			continue;
		snprintf(where, sizeof where, "--%s", o->name);
		if (conf_set(c, o, o->kind == K_FLAG ? "yes" : optarg, where,
		    err, errlen) < 0)
			return -1;
	}
	return 0;
}

/* What the sources together must make: SLURM's settings, defaults that
 * are strings, and the checks that span several settings. */
static int
conf_finish(struct conf *c, char **env, char *err, size_t errlen)
{
	if (c->slurm_user && slurm_user_conf(c, env, err, errlen) < 0)
		return -1;
	if (conf_fill_strings(c, err, errlen) < 0 ||
	    conf_check_tls(c, err, errlen) < 0)
		return -1;
	if (c->port_tries > 1 && ((unsigned long)c->port + c->port_span - 1 >
	    65535 || c->rank < 0)) {
		snprintf(err, errlen, "--port-tries %u needs --rank, and "
		    "--port %u + --port-span %u must not pass 65535",
		    c->port_tries, c->port, c->port_span);
		return -1;
	}
	return 0;
}

enum conf_result
conf_load(struct conf *c, int argc, char **argv, char **env, char *err,
    size_t errlen)
{
	struct conf_getopt g;
	const char *cfg;
	enum conf_result r;

	if (env == NULL)
		env = environ;
	conf_defaults(c);
	conf_getopt_init(&g);
	cfg = env_get(env, "ASOC_CONFIG");
	if ((r = conf_first_pass(&g, argc, argv, &cfg, err, errlen)) !=
	    CONF_RUN)
		return r;
	if ((cfg != NULL && conf_read_file(c, cfg, err, errlen) < 0) ||
	    conf_read_env(c, env, err, errlen) < 0 ||
	    conf_read_argv(c, &g, argc, argv, err, errlen) < 0 ||
	    conf_finish(c, env, err, errlen) < 0)
		return CONF_ERROR;
	return CONF_RUN;
}

void
conf_free(struct conf *c)
{
	size_t i;

	for (i = 0; i < NOPTS; i++)
		if (conf_opts[i].kind == K_STR)
			free(*(char **)(void *)((char *)c + conf_opts[i].off));
	for (i = 0; i < NENVS; i++)
		free(*(char **)(void *)((char *)c + conf_envs[i].off));
	memset(c, 0, sizeof *c);
}
