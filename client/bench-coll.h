/*
 * bench-coll.h: what the collective patterns of asoc-bench (bench-coll.c)
 * share with their barrier and reports (bench-sync.c).
 */
#ifndef ASOC_BENCH_COLL_H
#define ASOC_BENCH_COLL_H

#include <stddef.h>
#include <stdint.h>

#include "asoc.h"
#include "bench.h"

/* What rank 0 knows of a rank, from its arrivals and reports. */
struct coll_rank {
	int		 ok;		/* still in step */
	int		 reachable;	/* can still be told to stop */
	unsigned	 checked;	/* iterations it verified */
	uint64_t	 bad;		/* bytes that differed */
	unsigned	 failed;	/* requests that failed */
	asoc_req_t	*req;
};

struct coll {
	asoc_t			*as;
	const struct bench_opts	*o;
	int			 me, world;
	int			 ref_peer;	/* of the single-pair time */
	uint64_t		 seq;	/* barriers so far: same on all ranks */
	unsigned		 timeout_ms;
	asoc_buf_t		*ctl;
	asoc_buf_t		*tensor;	/* what this rank sends */
	asoc_buf_t		*rbuf;	/* alltoall and ring: what it receives */
	asoc_req_t		**reqs;	/* 2 * world: one iteration's */
	int			 stopped;	/* a barrier said stop */
	/* This rank's own tally, which its arrivals carry to rank 0. */
	unsigned		 received, checked, failed;
	uint64_t		 bad;
	/* Rank 0 only. */
	struct coll_rank	*ranks;
	asoc_req_t		**reports;	/* world: the reports' receives */
	double			*times;	/* timed iterations */
	unsigned		 ntimes;
};

/* bench-sync.c */
size_t		sync_ctl_size(int world);
int		sync_barrier(struct coll *c, uint64_t seq, int last,
		    int reports, double *t0);
void		sync_report(struct coll *c, uint64_t seq, asoc_status_t st,
		    double own);
double		sync_reports(struct coll *c, uint64_t seq, double own_end);
void		sync_release_wait(struct coll *c);
asoc_status_t	sync_waitall(struct coll *c, asoc_req_t **reqs, size_t n,
		    const char *what);

#endif
