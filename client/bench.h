/*
 * bench.h: what the files of asoc-bench share.
 *
 * asoc-bench.c parses the command line and runs one pattern per tensor
 * size; bench-pair.c has pair and self, bench-coll.c the collective
 * patterns; bench-pattern.c the tensor pattern and its check; bench.c
 * clocks, rates and buffers.
 */
#ifndef ASOC_BENCH_H
#define ASOC_BENCH_H

#include <stddef.h>
#include <stdint.h>

#include "asoc.h"
#include "bench-pattern.h"

#define BENCH_ITER_MAX		1000000	/* x2 keeps data tags below the rest */
#define BENCH_SLOT		64	/* control bytes per rank */
#define BENCH_WAIT_MS		120000	/* for ready and result messages */
#define BENCH_WINDOW_MAX	1024	/* --window: sends in flight */

/* Gbit/s are decimal, the unit of iperf3 and of link speeds. */
#define BENCH_GIB		1073741824.0
#define BENCH_GBIT		125000000.0	/* bytes in a gigabit */
#define BENCH_MB		1000000.0	/* MB/s: 10^6 bytes a second */
#define BENCH_SMALL		(1u << 20)	/* below: figures per message */

enum bench_pattern {
	BENCH_PAIR,
	BENCH_SELF,
	BENCH_BCAST,
	BENCH_BCAST_NAIVE,
	BENCH_ALLTOALL,
	BENCH_RING,
};

/*
 * Where the ranks live, from asoc_rank_nodes at the start: the node (the
 * asocd) of every rank, so that the reports can tell the bytes that leave
 * a node from the same-node copies.  In node mode every rank is a node.
 */
struct bench_map {
	int		*node;		/* world entries */
	int		 world;
	int		 nodes;		/* nodes holding at least one rank */
	int		 kmin, kmax;	/* ranks per such node */
};

struct bench_opts {
	const char		*sock;
	const struct bench_map	*map;
	uint64_t		 size;	/* bytes, of the run at hand */
	unsigned		 iters, warmup;
	unsigned		 window;	/* messages in flight per pair */
	enum bench_pattern	 pattern;
	int			 json;
	int			 per_node_bytes;	/* alltoall: size / K^2 */
};

/* One run's figures, for the summary line of a sweep (rank 0). */
struct bench_result {
	uint64_t	 size;
	double		 seconds;	/* average iteration or transfer */
	uint64_t	 msgs;		/* messages in one of those */
	double		 agg_gbps;	/* all the data moved, per second */
	double		 peer_gbps;	/* what one receiver got, per second */
	double		 node_gbps;	/* what left one node for others */
	double		 overhead_pct;	/* against the ideal; NAN: none */
	int		 verified, receivers;
};

const char	*bench_pattern_name(enum bench_pattern p);
double		 bench_now(void);
double		 bench_rate(uint64_t bytes, double s, double unit);
asoc_buf_t	*bench_alloc(asoc_t *as, size_t size, const char *what);
void		 bench_free(asoc_buf_t *buf);
void		 bench_map_init(asoc_t *as, struct bench_map *m);
void		 bench_map_free(struct bench_map *m);
int		 bench_map_same(const struct bench_map *m, int a, int b);
const char	*bench_map_fmt(const struct bench_map *m, char *buf,
		    size_t len);

/* bench-pair.c: return 0 when every byte was verified. */
int	bench_pair_send(asoc_t *as, const struct bench_opts *o,
	    struct bench_result *res);
int	bench_pair_recv(asoc_t *as, const struct bench_opts *o);
int	bench_self(asoc_t *as, const struct bench_opts *o,
	    struct bench_result *res);

/* bench-coll.c: bcast, bcast-naive, alltoall and ring, on every rank. */
int	bench_coll(asoc_t *as, const struct bench_opts *o,
	    struct bench_result *res);

#endif
