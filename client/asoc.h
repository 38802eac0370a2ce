/*
 * asoc.h: libasoc, the client library of ASoc.
 *
 * A process opens a session with its node's asocd, allocates shared buffers
 * (memory that it and asocd both map, so the daemon moves bytes straight
 * from and into them), and posts sends and receives that name a buffer
 * range, a peer rank and a tag.  Every posted request completes exactly
 * once: asoc_wait() or asoc_test() returns its status and length.
 *
 * Threading: a session (asoc_t) and everything made from it (buffers,
 * requests) belong to one thread at a time.  Use one session per thread,
 * or hold your own lock around every call on a shared session.  Different
 * sessions are independent and may be used from different threads at once.
 * The library starts no threads and installs no signal handlers; it sets
 * MSG_NOSIGNAL on its socket, so a dead daemon is an error, not SIGPIPE.
 */
#ifndef ASOC_H
#define ASOC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ASOC_ANY_SOURCE (-1)

/* Values match the wire (proto.h) and never change meaning. */
typedef enum asoc_status {
	ASOC_OK = 0,
	ASOC_EINVAL = 1,	/* invalid argument */
	ASOC_ENOMEM = 2,	/* out of memory or over a limit */
	ASOC_EPEERLOST = 3,	/* the peer's asocd went away mid-transfer */
	ASOC_ETIMEDOUT = 4,
	ASOC_EPERM = 5,		/* permission denied */
	ASOC_ECANCELLED = 6,
	ASOC_EPROTO = 7,	/* protocol error (version mismatch, garbage) */
	ASOC_ESYSTEM = 8,	/* a system call failed; see asoc_last_error */
	ASOC_ETRUNC = 9,	/* the message is larger than the receive */
	ASOC_ENOPEER = 10,	/* no such rank, or it could not be reached */
	ASOC_ELEFT = 11,	/* the rank left the job: its process exited */
} asoc_status_t;

typedef struct asoc asoc_t;
typedef struct asoc_buf asoc_buf_t;
typedef struct asoc_req asoc_req_t;

/* What a finished request reports. */
typedef struct asoc_completion {
	asoc_status_t status;
	size_t len;		/* bytes sent or received */
	int source;		/* receives: the rank the data came from */
	uint64_t tag;		/* receives: the tag that matched */
} asoc_completion_t;

/* One short sentence for a status. */
const char *asoc_strerror(asoc_status_t status);

/* The most recent detailed error of a session (what failed and what to do
 * about it), or "" when the last call succeeded. */
const char *asoc_last_error(const asoc_t *as);

/*
 * Sessions.  socket_path NULL finds the daemon: $ASOC_SOCKET, else the
 * job's socket under SLURM, else the default path (asoc_default_socket()).
 */
asoc_status_t asoc_open(const char *socket_path, asoc_t **out);
void asoc_close(asoc_t *as);	/* cancels what is in flight, frees all */
/* This session's rank and world: process rank p of P in process mode,
 * the node and the number of nodes in node mode. */
int asoc_rank(const asoc_t *as);
int asoc_world_size(const asoc_t *as);

/*
 * Process ranks.  A rank names either a node (an asocd: node mode, one
 * rank shared by every process of the node, as before) or a process (rank
 * p of a world of P processes, several per node, as SLURM, MPI and
 * torch.distributed number them).  asoc_open(path) is asoc_open_ex with
 * rank ASOC_RANK_AUTO, which takes, in this order:
 *   1. ASOC_PROC_RANK and ASOC_PROC_WORLD (both, or neither);
 *   2. node mode if ASOC_RANKS=node;
 *   3. in an srun step (SLURM_STEP_ID and SLURM_PROCID set) of more than
 *      one task: SLURM_PROCID of SLURM_STEP_NUM_TASKS (else SLURM_NTASKS);
 *      a one-task step keeps node mode (srun -n1 asoc-send --to 2);
 *   4. node mode.
 * An asocd serves one mode at a time; a session of the other mode, a rank
 * outside the world or a rank another process holds is refused with a
 * message naming both sides (asoc_last_error).
 */
#define ASOC_RANK_AUTO		(-1)	/* the environment decides (above) */
#define ASOC_RANK_NODE		(-2)	/* node mode, whatever the environment */
#define ASOC_OPEN_STATUS	0x1u	/* status only: no rank (asoc-stat) */

typedef struct asoc_open_opts {
	size_t size;		/* sizeof(asoc_open_opts_t): set by _init */
	const char *socket_path;	/* as asoc_open's; NULL: find it */
	int rank;		/* ASOC_RANK_AUTO, ASOC_RANK_NODE, or 0..P-1 */
	int world_size;		/* P with a rank 0..P-1; else 0 */
	unsigned flags;		/* ASOC_OPEN_* */
	int localid;		/* the process's index on its node, for
				 * asoc-stat only; -1: SLURM_LOCALID or none */
} asoc_open_opts_t;

/* Defaults: no path, ASOC_RANK_AUTO, world 0, no flags, localid -1. */
void asoc_open_opts_init(asoc_open_opts_t *opts);
/* asoc_open with options; on failure *out is a dead session saying why,
 * as for asoc_open. */
asoc_status_t asoc_open_ex(const asoc_open_opts_t *opts, asoc_t **out);
/* The node (asocd) this session is served by, and how many there are. */
int asoc_node(const asoc_t *as);
int asoc_node_count(const asoc_t *as);
/* The node of every rank: nodes[p] for p in 0..asoc_world_size-1.  In
 * process mode it waits (within the asoc_set_timeout deadline, else
 * asocd's --join-timeout) until every rank has joined; in node mode
 * nodes[p] is p. */
asoc_status_t asoc_rank_nodes(asoc_t *as, int *nodes);
size_t asoc_chunk_size(const asoc_t *as);	/* the daemon's chunk size */
const char *asoc_default_socket(void);	/* the path asoc_open(NULL) tries */
/* For error messages: "asoc_open(NULL)" fills this with where it looked. */
const char *asoc_socket_path(const asoc_t *as);

/*
 * Shared buffers: a sealed memfd of `size` bytes, mapped here and in asocd.
 * The memory is zero-filled and page-aligned.
 */
asoc_status_t asoc_buf_alloc(asoc_t *as, size_t size, asoc_buf_t **out);
void *asoc_buf_ptr(const asoc_buf_t *buf);
size_t asoc_buf_size(const asoc_buf_t *buf);
/* Frees a buffer.  Requests still using it are cancelled first. */
asoc_status_t asoc_buf_free(asoc_buf_t *buf);

/*
 * Point-to-point.  The send of `len` bytes at `off` in `buf` to rank `dst`
 * matches the first receive posted on `dst` for (this rank or
 * ASOC_ANY_SOURCE, tag).  Sends from one rank to another with the same tag
 * match receives in the order they were posted (no overtaking).  A send
 * completes when the bytes are in the receiver's buffer.
 */
asoc_status_t asoc_isend(asoc_t *as, asoc_buf_t *buf, size_t off, size_t len,
    int dst, uint64_t tag, asoc_req_t **req);
asoc_status_t asoc_irecv(asoc_t *as, asoc_buf_t *buf, size_t off, size_t cap,
    int src, uint64_t tag, asoc_req_t **req);

/*
 * Receive with flags.  ASOC_RECV_PEEK: when the matched message is longer
 * than cap, it is not consumed.  The receive completes with ASOC_ETRUNC,
 * its completion's len is the message's length and source and tag name
 * it, and the message stays first in line: the next receive from that
 * source with that tag, cap large enough, gets it.  A message that fits
 * is received as by asoc_irecv.  So a receiver that does not know the
 * size posts a small receive, and only a larger message costs a second
 * local request (no extra exchange between the daemons).
 */
#define ASOC_RECV_PEEK	0x1u
asoc_status_t asoc_irecv_flags(asoc_t *as, asoc_buf_t *buf, size_t off,
    size_t cap, int src, uint64_t tag, unsigned int flags, asoc_req_t **req);

/* The session's socket, for poll(2), select(2) or an event loop: it is
 * readable when a completion may have arrived; then asoc_test the
 * requests (asoc_test reads what has arrived, and never blocks).  Only
 * watch it for reading; never read, write or close it.  -1 once the
 * session is dead (every request has then completed). */
int asoc_fd(const asoc_t *as);

/* Deadline for the requests posted after this call, in milliseconds, from
 * post to completion; 0 (the default) waits for a match forever.  A
 * request past its deadline completes with ASOC_ETIMEDOUT. */
void asoc_set_timeout(asoc_t *as, unsigned int timeout_ms);

/* Blocks until req completes, fills *c (may be NULL) and frees req.
 * Returns the request's status, or the session's error if the daemon
 * went away. */
asoc_status_t asoc_wait(asoc_req_t *req, asoc_completion_t *c);
/* Like asoc_wait without blocking: *done is 0 (req stays valid) or 1
 * (req is freed and *c filled). */
asoc_status_t asoc_test(asoc_req_t *req, int *done, asoc_completion_t *c);
/* Waits for any one of n requests; *index names it, and it is freed. */
asoc_status_t asoc_waitany(asoc_req_t **reqs, size_t n, size_t *index,
    asoc_completion_t *c);
/* Asks the daemon to give the request up.  It still completes exactly once
 * (ASOC_ECANCELLED, or its real result if it finished first): wait for it. */
asoc_status_t asoc_cancel(asoc_req_t *req);

/* Blocking forms: post and wait. */
asoc_status_t asoc_send(asoc_t *as, asoc_buf_t *buf, size_t off, size_t len,
    int dst, uint64_t tag);
asoc_status_t asoc_recv(asoc_t *as, asoc_buf_t *buf, size_t off, size_t cap,
    int src, uint64_t tag, asoc_completion_t *c);

/*
 * Collectives: every rank of the job makes the same call.
 *
 * asoc_bcast: the len bytes at off in root's buffer end up at off in every
 * rank's buffer.  The ranks form a chain root, root + 1, ... (mod world);
 * with several process ranks on a node, the chain runs over one leader per
 * node (one network copy each; asoc_rank_nodes, asked once per session),
 * and each leader also feeds its node's other ranks (same-node copies);
 * the data goes down it in pieces of asoc_bcast_piece(as, len) bytes,
 * received straight into the buffer and forwarded from there as soon as
 * they arrive, so the time is about len/B + (world - 2) * piece/B: nearly
 * flat in the number of ranks.  Returns when this rank's part is done: it
 * has all the bytes, and its successor has them too.  world 1 or len 0:
 * ASOC_OK at once.
 *
 * Tags: piece k travels with tag ASOC_COLL_TAG_BIT | k << 40 | tag, so tag
 * must be below ASOC_COLL_TAG_LIMIT; keep bit 63 clear in point-to-point
 * tags, and give collectives in flight at the same time different tags
 * (calls made one after the other may use the same tag).
 * The deadline of asoc_set_timeout applies to each piece.  On a failure the
 * call cancels what it has in flight, tells its successor to give up, and
 * returns the first error (details in asoc_last_error).
 */
#define ASOC_COLL_TAG_BIT	(1ULL << 63)
#define ASOC_COLL_TAG_LIMIT	(1ULL << 40)

asoc_status_t asoc_bcast(asoc_t *as, asoc_buf_t *buf, size_t off, size_t len,
    int root, uint64_t tag);
/* The piece size asoc_bcast uses for len bytes: about len/256, in whole
 * 64 KiB, from 256 KiB to 4 MiB, the same whatever the daemon's chunk size. */
size_t asoc_bcast_piece(const asoc_t *as, size_t len);

/*
 * Status of the daemon, for asoc-stat and monitoring.
 */
typedef struct asoc_node_stat {
	int rank, world;
	unsigned clients, peers_connected;
	uint64_t xfers_active, unexpected, posted_recvs;
	uint64_t bytes_sent, bytes_received;
	uint64_t buffers, buffer_bytes;
	uint64_t registrations, deregistrations;
	uint64_t xfers_done, xfers_failed;
	char transport[16];
} asoc_node_stat_t;

typedef struct asoc_peer_stat {
	int rank;
	unsigned port;
	char host[64];
	char transport[16];	/* "tcp", "rdma", "local" or "-" */
	const char *state;	/* "idle", "connecting", "up", "failed" */
	uint64_t xfers_active, bytes_sent, bytes_received;
} asoc_peer_stat_t;

/* Fills *node and a malloc'd array of *npeers peer entries (free() it). */
asoc_status_t asoc_stat(asoc_t *as, asoc_node_stat_t *node,
    asoc_peer_stat_t **peers, size_t *npeers);

/* The process ranks living on the daemon (asoc-stat's "ranks:" lines). */
#define ASOC_MODE_NONE	0	/* no ranked session now (none came yet, or all left) */
#define ASOC_MODE_NODE	1	/* node ranks: every session shares the node */
#define ASOC_MODE_PROC	2	/* process ranks of one world */

typedef struct asoc_ranks_stat {
	int mode;		/* ASOC_MODE_* */
	int world;		/* the process world in ASOC_MODE_PROC, else 0 */
	unsigned local_ranks;	/* process ranks living on this daemon */
} asoc_ranks_stat_t;

typedef struct asoc_rank_stat {
	int rank, world;
	long pid;		/* the process holding the rank */
	int localid;		/* its SLURM_LOCALID, or -1 */
	unsigned sessions;	/* its sessions (a process may open several) */
	unsigned incarnation;	/* how many times the rank was claimed here */
	uint64_t posted_recvs, unexpected;
	uint64_t bytes_sent, bytes_received;
} asoc_rank_stat_t;

/* Fills *mode and a malloc'd array of *nranks entries, one per local
 * process rank in rank order (free() it; NULL and 0 when none). */
asoc_status_t asoc_stat_ranks(asoc_t *as, asoc_ranks_stat_t *mode,
    asoc_rank_stat_t **ranks, size_t *nranks);

#ifdef __cplusplus
}
#endif
#endif
