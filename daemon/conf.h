/*
 * conf.h: asocd's settings.  Sources in order of precedence: the command
 * line, then ASOC_* environment variables, then the config file (--config
 * or ASOC_CONFIG), then defaults.  One table in conf.c names each setting
 * once for all three sources, so they cannot drift apart.
 */
#ifndef ASOC_CONF_H
#define ASOC_CONF_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "log.h"

enum conf_transport {
	CONF_TRANSPORT_AUTO = 0,
	CONF_TRANSPORT_TCP,
	CONF_TRANSPORT_RDMA,
};

enum conf_munge {
	CONF_MUNGE_AUTO = 0,	/* when munged answers at start */
	CONF_MUNGE_YES,
	CONF_MUNGE_NO,
};

struct conf {
	char *config_file;
	char *peers;		/* hostlist spec; NULL: a world of one */
	int rank;		/* -1: find it in peers */
	unsigned port;
	unsigned port_span;	/* with port_tries > 1: see portseq.h */
	unsigned port_tries;	/* candidate ports; 1: just --port */
	char *listen;		/* NULL: the interface, else own peer entry */
	char *interface;
	char *socket;
	char *community;
	unsigned connection_timeout;	/* seconds */
	size_t chunk_size;
	unsigned conns_per_peer;	/* TCP connections per pair (peer.c) */
	size_t eager_threshold;	/* bytes; 0: no eager sends (xfer.c) */
	size_t eager_budget;	/* unmatched eager bytes held per peer */
	size_t eager_budget_total;	/* the same, all peers together */
	unsigned busy_poll;	/* microseconds polled before sleeping; 0 */
	char *tcp_congestion;	/* NULL: tcp_cc.h's default */
	size_t client_max_bytes;	/* 0: 3/4 of physical memory */
	unsigned max_clients;	/* clients served at once */
	unsigned max_ranks;	/* process ranks held here at once */
	unsigned join_timeout;	/* seconds a send waits for its rank */
	size_t max_registered_bytes;	/* all clients; 0: 3/4 of memory */
	enum conf_transport transport;
	enum log_level log_level;
	char *log_file;
	int syslog;
	char *pidfile;
	int foreground;
	char *key_file;		/* the job key: handshake and discovery */
	unsigned key_fd;	/* 0, or the job key on this descriptor */
	unsigned ready_fd;	/* 0, or "1" written here once serving */
	int slurm_user;		/* set up from the job's environment */
	enum conf_munge munge;
	char *munge_socket;	/* NULL: libmunge's default */
	int discovery;		/* find peers by UDP broadcast */
	unsigned discovery_port;
	char *discovery_addr;
	unsigned world;		/* with --discovery: how many to find */
	char *tls_cert;		/* TLS is on when cert and key are set */
	char *tls_key;
	char *tls_ca;
	int tls_verify_peer;	/* -1: not set (yes when TLS is on) */
	/* From the environment only, as given (see conf_envs in conf.c). */
	char *rdma_scope;	/* $ASOC_RDMA_SCOPE: mw or mr, else unset */
	char *slurm_job_id;	/* $SLURM_JOB_ID: inside a SLURM job */
	char *notify_socket;	/* $NOTIFY_SOCKET: systemd's (sdnotify.c) */
};

#define CONF_DEFAULT_PORT	9000
#define CONF_DEFAULT_TIMEOUT	30
#define CONF_DEFAULT_MAX_CLIENTS 1024
#define CONF_DEFAULT_MAX_RANKS	256
/* A send to a process rank nobody has announced waits this long: long
 * enough for srun to start every task of a big step, never forever (a
 * typo in a rank must not hang). */
#define CONF_DEFAULT_JOIN_TIMEOUT 60
#define CONF_MAX_JOIN_TIMEOUT	3600
#define CONF_DEFAULT_CHUNK	(4u << 20)
#define CONF_MIN_CHUNK		4096
#define CONF_MAX_CHUNK		(64u << 20)	/* PROTO_DATA_MAX */
#define CONF_DEFAULT_DISCOVERY_PORT 9099
/* Messages up to this travel with their RTS (at most PROTO_EAGER_MAX).
 * Measured with bench/asoc-pingpong over loopback TCP: eager was 4-9 us
 * (15-30%) faster at 8 B, 4K, 16K, 32K and 64K alike, so the default is
 * the cap (the commit that set it has the figures). */
#define CONF_DEFAULT_EAGER	(64u << 10)
#define CONF_DEFAULT_EAGER_STR	"64K"
/* Busy polling holds a core while it lasts: 10 ms is already far past
 * any hop it could save (tens of microseconds), so more is a mistake. */
#define CONF_DEFAULT_BUSY_POLL	50
#define CONF_MAX_BUSY_POLL	10000
#define CONF_DEFAULT_EAGER_BUDGET (4u << 20)
#define CONF_DEFAULT_EAGER_BUDGET_STR "4M"
#define CONF_MAX_EAGER_BUDGET	(1u << 30)
/* All peers together: the per-peer budget times world-1 is some 4G at
 * 1024 ranks, more than a daemon should hold for messages nobody asked
 * for yet. */
#define CONF_DEFAULT_EAGER_TOTAL (64u << 20)
#define CONF_DEFAULT_EAGER_TOTAL_STR "64M"
#define CONF_MAX_EAGER_TOTAL	((size_t)16 << 30)

enum conf_result {
	CONF_RUN = 0,		/* start the daemon */
	CONF_EXIT_OK,		/* --help or --version printed */
	CONF_ERROR,		/* message in err */
};

/* Fills c from argv, envp-style environment (NULL: environ) and the
 * config file.  On CONF_ERROR err says what is wrong and where (which
 * option, variable or file line). */
enum conf_result conf_load(struct conf *c, int argc, char **argv,
    char **env, char *err, size_t errlen);
/* The config file's "setting = value" lines, from memory instead of a file
 * (the fuzzer's way in): sets what they name in c, which conf_free()
 * releases.  name stands for the file in messages.  0, or -1 with err. */
int conf_parse_text(struct conf *c, const char *text, size_t len,
    const char *name, char *err, size_t errlen);
void conf_free(struct conf *c);
void conf_usage(FILE *fp);
const char *conf_transport_name(enum conf_transport t);
const char *conf_munge_name(enum conf_munge m);
/* "4M", "65536", "1G" -> bytes; -1 on garbage or overflow. */
int conf_parse_size(const char *s, size_t *out);

#endif
