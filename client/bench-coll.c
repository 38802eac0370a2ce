/*
 * bench-coll.c: asoc-bench's collective patterns, run by every rank.
 *
 *   bcast        asoc_bcast from rank 0 (the pipelined chain)
 *   bcast-naive  rank 0 sends the tensor to every other rank at once
 *   alltoall     every rank sends its tensor to every other rank at once
 *   ring         every rank sends to rank + 1 and receives from rank - 1
 *
 * Each iteration starts with a barrier made of small messages
 * (bench-sync.c): every rank tells rank 0 it has arrived (with what it has
 * verified so far), and rank 0 starts its clock and releases them all.
 * Each rank sends rank 0 a small report as soon as all its own requests
 * have completed; the iteration ends when rank 0 has its own part done and
 * the last report in hand.  So the time covers the slowest receiver, as
 * confirmed to rank 0, plus one small message each way.  Receivers check
 * the data after that, outside the clock.
 *
 * Before the iterations, rank 0 times the tensor to one other rank alone,
 * the first on another node (rank 1 with node ranks): the single-pair
 * rate over one link that the summary's ideal time is made of.
 *
 * --window N (bcast-naive, alltoall, ring): each pair of ranks moves N
 * tensors per iteration instead of one, all posted at once, so that N
 * messages are in flight between them; each has its own slice of the
 * buffers and its own stamp.  bcast is one asoc_bcast call, which
 * pipelines its own pieces: asoc-bench refuses a window there.
 */
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asoc.h"
#include "bench.h"
#include "bench-coll.h"
#include "cli.h"

#define COLL_TAG_DATA		0xBE1300000000ULL	/* + sequence */
#define COLL_TAG_BCAST		0xBC00000000ULL		/* + sequence, < 2^40 */
#define COLL_REF_TIMED		2	/* timed single-pair transfers */

/* Rank src stamps its tensor of iteration i with this, so that a tensor
 * from the wrong rank or an older iteration fails the check. */
static uint64_t
coll_stamp(int src, uint64_t i, unsigned j)
{
	/* i < BENCH_ITER_MAX < 2^20, and the window's j below 2^12. */
	return ((uint64_t)(src + 1) << 32) + ((uint64_t)j << 20) + i + 1;
}

/* Where message j of the window from peer index p lands in rbuf
 * (alltoall: p is the sender's rank less one past ours; ring: 0). */
static size_t
coll_rslot(const struct coll *c, int p, unsigned j)
{
	return ((size_t)p * c->o->window + j) * c->o->size;
}

/* Does this rank receive in this pattern? */
static int
coll_receives(const struct coll *c)
{
	return c->me != 0 || c->o->pattern == BENCH_ALLTOALL ||
	    c->o->pattern == BENCH_RING;
}

static int
coll_receivers(const struct coll *c)
{
	return c->o->pattern == BENCH_ALLTOALL ||
	    c->o->pattern == BENCH_RING ? c->world : c->world - 1;
}

/* Bytes delivered per iteration, in all, and to each receiver. */
static uint64_t
coll_msgs(const struct coll *c)
{
	uint64_t n = (uint64_t)c->world;

	switch (c->o->pattern) {
	case BENCH_ALLTOALL:
		return n * (n - 1) * c->o->window;
	case BENCH_RING:
		return n * c->o->window;
	default:
		return (n - 1) * c->o->window;
	}
}

static uint64_t
coll_bytes(const struct coll *c)
{
	return coll_msgs(c) * c->o->size;
}

static uint64_t
coll_peer_bytes(const struct coll *c)
{
	if (c->o->pattern == BENCH_ALLTOALL)
		return (uint64_t)(c->world - 1) * c->o->size * c->o->window;
	return c->o->size * c->o->window;
}

/*
 * Of one iteration's bytes, those that cross from one node to another
 * (*net) and the same-node copies (*local), from where the ranks live.
 * asoc_bcast (libasoc-bcast.c) sends one copy into each other node and
 * makes the rest there; the other patterns' messages are what they are.
 */
static void
coll_split(const struct coll *c, uint64_t *net, uint64_t *local)
{
	const struct bench_map *m = c->o->map;
	uint64_t msg = c->o->size * c->o->window;
	int s, d, n = c->world;

	*net = *local = 0;
	if (c->o->pattern == BENCH_BCAST) {
		*net = (uint64_t)(m->nodes - 1) * msg;
		*local = (uint64_t)(n - m->nodes) * msg;
		return;
	}
	for (s = 0; s < n; s++) {
		for (d = 0; d < n; d++) {
			if (d == s || (c->o->pattern == BENCH_RING &&
			    d != (s + 1) % n) || (c->o->pattern ==
			    BENCH_BCAST_NAIVE && s != 0))
				continue;
			if (bench_map_same(m, s, d))
				*local += msg;
			else
				*net += msg;
		}
	}
}

/*
 * The ideal time on links that each carry the single-pair rate, both ways
 * at once: a broadcast cannot beat one tensor into each receiver; in
 * alltoall each rank takes in world - 1 tensors; in a ring, one.
 */
static double
coll_ideal(const struct coll *c, double pair_s)
{
	return (double)coll_peer_bytes(c) / (double)c->o->size * pair_s;
}

/* This rank's part of one iteration: post everything, wait for all.
 * The window's messages between two ranks share a tag: they match in
 * the order they were posted, slice j into slice j. */
static asoc_status_t
coll_op(struct coll *c, uint64_t seq)
{
	const struct bench_opts *o = c->o;
	int n = c->world, r, k = 0, p;
	unsigned j, w = o->window;
	size_t sz = o->size;
	asoc_status_t st = ASOC_OK, ws;

	asoc_set_timeout(c->as, c->timeout_ms);
	switch (o->pattern) {
	case BENCH_BCAST:
		if ((st = asoc_bcast(c->as, c->tensor, 0, o->size, 0,
		    COLL_TAG_BCAST + seq)) != ASOC_OK)
			cli_warn_asoc(st, asoc_last_error(c->as), "asoc_bcast");
		return st;
	case BENCH_BCAST_NAIVE:
		for (r = 1; r < n && st == ASOC_OK; r++) {
			for (j = 0; j < w && st == ASOC_OK; j++) {
				if (c->me == 0)
					st = asoc_isend(c->as, c->tensor, j * sz,
					    sz, r, COLL_TAG_DATA + seq,
					    &c->reqs[k++]);
				else if (r == c->me)
					st = asoc_irecv(c->as, c->tensor, j * sz,
					    sz, 0, COLL_TAG_DATA + seq,
					    &c->reqs[k++]);
			}
		}
		break;
	case BENCH_ALLTOALL:
		/* Every receive first, so no tensor waits for its post. */
		for (r = 0; r < n && st == ASOC_OK; r++) {
			if (r == c->me)
				continue;
			p = r < c->me ? r : r - 1;
			for (j = 0; j < w && st == ASOC_OK; j++)
				st = asoc_irecv(c->as, c->rbuf, coll_rslot(c,
				    p, j), sz, r, COLL_TAG_DATA + seq,
				    &c->reqs[k++]);
		}
		for (r = 0; r < n && st == ASOC_OK; r++) {
			for (j = 0; r != c->me && j < w && st == ASOC_OK; j++)
				st = asoc_isend(c->as, c->tensor, j * sz, sz,
				    r, COLL_TAG_DATA + seq, &c->reqs[k++]);
		}
		break;
	case BENCH_RING:
		for (j = 0; j < w && st == ASOC_OK; j++)
			st = asoc_irecv(c->as, c->rbuf, coll_rslot(c, 0, j), sz,
			    (c->me + n - 1) % n, COLL_TAG_DATA + seq,
			    &c->reqs[k++]);
		for (j = 0; j < w && st == ASOC_OK; j++)
			st = asoc_isend(c->as, c->tensor, j * sz, sz,
			    (c->me + 1) % n, COLL_TAG_DATA + seq, &c->reqs[k++]);
		break;
	default:
		return ASOC_EINVAL;
	}
	/* A post that failed left its slot NULL; the others are undone. */
	if (st != ASOC_OK) {
		cli_warn_asoc(st, asoc_last_error(c->as), "posting a transfer");
		for (r = 0; r < k; r++) {
			if (c->reqs[r] != NULL)
				(void)asoc_cancel(c->reqs[r]);
		}
	}
	ws = sync_waitall(c, c->reqs, (size_t)k, "a transfer");
	return st != ASOC_OK ? st : ws;
}

/* Checks what this rank received in iteration i; adds to the tally. */
static void
coll_verify(struct coll *c, uint64_t i)
{
	const struct bench_opts *o = c->o;
	const unsigned char *got;
	uint64_t bad = 0;
	unsigned j;
	int r;

	for (r = 0; r < c->world; r++) {
		if (o->pattern == BENCH_ALLTOALL && r == c->me)
			continue;
		if (o->pattern == BENCH_RING && r != (c->me + c->world - 1) %
		    c->world)
			continue;
		if ((o->pattern == BENCH_BCAST ||
		    o->pattern == BENCH_BCAST_NAIVE) && r != 0)
			continue;
		for (j = 0; j < o->window; j++) {
			if (o->pattern == BENCH_ALLTOALL)
				got = (unsigned char *)asoc_buf_ptr(c->rbuf) +
				    coll_rslot(c, r < c->me ? r : r - 1, j);
			else if (o->pattern == BENCH_RING)
				got = (unsigned char *)asoc_buf_ptr(c->rbuf) +
				    coll_rslot(c, 0, j);
			else
				got = (unsigned char *)asoc_buf_ptr(c->tensor) +
				    j * (size_t)o->size;
			bad += bench_check(got, o->size, coll_stamp(r, i, j));
		}
	}
	if (bad > 0)
		cli_warn("iteration %" PRIu64 ": %" PRIu64 " bytes received "
		    "differ from what was sent", i + 1, bad);
	else
		c->checked++;
	c->bad += bad;
}

/* Rank 0: one line per iteration. */
static void
coll_print_iter(const struct coll *c, unsigned i, double t)
{
	const struct bench_opts *o = c->o;
	char sz[32], moved[32];

	if (o->json)
		return;
	if (o->size < BENCH_SMALL) {
		printf("%s %u  %s  %d ranks  %s x %" PRIu64 "  %.1f us  %.1f "
		    "us/msg\n", i < o->warmup ? "warmup" : "iter", i <
		    o->warmup ? i + 1 : i - o->warmup + 1,
		    bench_pattern_name(o->pattern), c->world, cli_fmt_bytes(
		    o->size, sz, sizeof sz), coll_msgs(c), t * 1e6, t * 1e6 /
		    (double)coll_msgs(c));
		fflush(stdout);
		return;
	}
	printf("%s %u  %s  %d ranks  %s  %.4f s  moved %s  aggregate "
	    "%.2f GiB/s (%.2f Gbit/s)  per receiver %.2f GiB/s\n",
	    i < o->warmup ? "warmup" : "iter", i < o->warmup ? i + 1 :
	    i - o->warmup + 1, bench_pattern_name(o->pattern), c->world,
	    cli_fmt_bytes(o->size, sz, sizeof sz), t,
	    cli_fmt_bytes(coll_bytes(c), moved, sizeof moved),
	    bench_rate(coll_bytes(c), t, BENCH_GIB),
	    bench_rate(coll_bytes(c), t, BENCH_GBIT),
	    bench_rate(coll_peer_bytes(c), t, BENCH_GIB));
	fflush(stdout);
}

/* One iteration, i counting the warmup; the data is stamped for it.
 * Returns 0 once a barrier has said stop. */
static int
coll_iteration(struct coll *c, unsigned i)
{
	uint64_t seq = c->seq++;
	asoc_status_t st;
	double t0 = 0, end, own;

	if (!sync_barrier(c, seq, 0, 1, &t0))
		return 0;
	if (c->me != 0) {
		t0 = bench_now();
		st = coll_op(c, seq);
		own = bench_now() - t0;
		c->failed += st != ASOC_OK;
		c->received += st == ASOC_OK && coll_receives(c);
		sync_report(c, seq, st, own);
		if (c->failed == 0 && coll_receives(c))
			coll_verify(c, i);
		return 1;
	}
	st = coll_op(c, seq);
	own = bench_now();
	c->failed += st != ASOC_OK;
	c->received += st == ASOC_OK && coll_receives(c);
	end = sync_reports(c, seq, own) - t0;
	sync_release_wait(c);
	/* A failure anywhere stops the run at the next barrier. */
	if (c->failed > 0)
		return 1;
	if (coll_receives(c))
		coll_verify(c, i);
	coll_print_iter(c, i, end);
	if (i >= c->o->warmup)
		c->times[c->ntimes++] = end;
	return 1;
}

/* Before the iterations: rank 0 times the tensor to c->ref_peer alone
 * (the others only take part in the barriers).  Returns the best time, or
 * 0. */
static double
coll_reference(struct coll *c)
{
	const struct bench_opts *o = c->o;
	unsigned j, n = 1 + (o->iters < COLL_REF_TIMED ? o->iters :
	    COLL_REF_TIMED);
	asoc_buf_t *into = c->rbuf != NULL ? c->rbuf : c->tensor;
	uint64_t seq;
	asoc_status_t st;
	double t0 = 0, t, best = 0;

	for (j = 0; j < n; j++) {
		seq = c->seq++;
		/* No reports: the send's completion is the answer. */
		if (!sync_barrier(c, seq, 0, 0, &t0))
			return 0;
		if (c->me == c->ref_peer && (st = asoc_recv(c->as, into, 0,
		    o->size, 0,
		    COLL_TAG_DATA + seq, NULL)) != ASOC_OK) {
			cli_warn_asoc(st, asoc_last_error(c->as), "receiving "
			    "the single-pair tensor from rank 0");
			c->failed++;
		}
		if (c->me != 0)
			continue;
		st = asoc_send(c->as, c->tensor, 0, o->size, c->ref_peer,
		    COLL_TAG_DATA + seq);
		t = bench_now() - t0;
		sync_release_wait(c);
		if (st != ASOC_OK) {
			cli_warn_asoc(st, asoc_last_error(c->as), "sending the "
			    "single-pair tensor to rank %d", c->ref_peer);
			c->failed++;
		} else if (j > 0 && (best == 0 || t < best))
			best = t;
	}
	return best;
}

static int	coll_own_ok(const struct coll *);
static void	coll_print_own(const struct coll *, int);

/* Rank 0's figures of a run, for coll_print_json and coll_print_text. */
struct coll_figs {
	double		 pair_s, avg, best, ideal;
	uint64_t	 net, local;	/* coll_split's, per iteration */
	double		 node_gbps, local_gbs;	/* per node */
	uint64_t	 bad;		/* bytes that differ, on every rank */
	int		 verified, nrecv;
};

static void
coll_print_json(const struct coll *c, const struct coll_figs *f,
    const struct bench_result *res)
{
	const struct bench_opts *o = c->o;
	unsigned i;

	printf("{\"pattern\":\"%s\",\"world\":%d,\"size_bytes\":%" PRIu64
	    ",\"window\":%u,\"warmup\":%u,\"iterations\":%u,\"done\":%u,"
	    "\"messages_per_iteration\":%" PRIu64 ",\"us_per_msg\":%.3f,"
	    "\"msgs_per_s\":%.1f,", bench_pattern_name(o->pattern), c->world,
	    o->size, o->window, o->warmup, o->iters, c->ntimes, coll_msgs(c),
	    f->avg / (double)coll_msgs(c) * 1e6, f->avg > 0 ?
	    (double)coll_msgs(c) / f->avg : 0.0);
	if (o->pattern == BENCH_BCAST)
		printf("\"piece_bytes\":%zu,", asoc_bcast_piece(c->as,
		    o->size));
	printf("\"bytes_per_iteration\":%" PRIu64 ",\"bytes\":%" PRIu64
	    ",\"seconds\":%.6f,\"best_s\":%.6f,\"avg_gbps\":%.3f,"
	    "\"avg_gibps\":%.3f,\"per_receiver_gbps\":%.3f,"
	    "\"pair_s\":%.6f,\"pair_gbps\":%.3f,\"ideal_s\":%.6f,"
	    "\"overhead_pct\":%.1f,\"iteration_s\":[", coll_bytes(c),
	    coll_bytes(c) * c->ntimes, f->avg, f->best, res->agg_gbps,
	    bench_rate(coll_bytes(c), f->avg, BENCH_GIB), res->peer_gbps,
	    f->pair_s, bench_rate(o->size, f->pair_s, BENCH_GBIT), f->ideal,
	    isnan(res->overhead_pct) ? 0.0 : res->overhead_pct);
	for (i = 0; i < c->ntimes; i++)
		printf("%s%.6f", i > 0 ? "," : "", c->times[i]);
	printf("],\"nodes\":%d,\"ranks_per_node\":%d,\"node_gbps\":%.3f,"
	    "\"proc_gbps\":%.3f,\"local_gbps\":%.3f,\"net_bytes_per_iteration\":"
	    "%" PRIu64 ",\"local_bytes_per_iteration\":%" PRIu64 ",", o->map->nodes,
	    o->map->kmax, f->node_gbps, res->peer_gbps, f->local_gbs, f->net,
	    f->local);
	printf("\"receivers\":%d,\"verified\":%d,\"mismatches\":%" PRIu64
	    "}\n", f->nrecv, f->verified, f->bad);
}

static void
coll_print_text(const struct coll *c, const struct coll_figs *f,
    const struct bench_result *res)
{
	const struct bench_opts *o = c->o;
	char sz[32], tot[32], pc[32] = "", nd[48];

	if (o->pattern == BENCH_BCAST)
		snprintf(pc, sizeof pc, "  piece %s", cli_fmt_bytes(
		    asoc_bcast_piece(c->as, o->size), tot, sizeof tot));
	printf("%s: world %d  tensor %s  iterations %u of %u (+%u warmup)  "
	    "window %u%s\n", bench_pattern_name(o->pattern), c->world,
	    cli_fmt_bytes(o->size, sz, sizeof sz), c->ntimes, o->iters,
	    o->warmup, o->window, pc);
	if (c->ntimes == 0)
		printf("no timed iteration completed\n");
	else
		printf("average %.4f s (best %.4f s)  %s per iteration  "
		    "aggregate %.2f GiB/s (%.2f Gbit/s)  per receiver %.2f "
		    "GiB/s\n", f->avg, f->best, cli_fmt_bytes(coll_bytes(c),
		    tot, sizeof tot), bench_rate(coll_bytes(c), f->avg,
		    BENCH_GIB), res->agg_gbps, bench_rate(coll_peer_bytes(c),
		    f->avg, BENCH_GIB));
	if (c->ntimes > 0)
		printf("%s  per node %.2f Gbit/s to other nodes (same-node "
		    "%.2f GB/s)  per process %.2f Gbit/s  aggregate %.2f "
		    "Gbit/s\n", bench_map_fmt(o->map, nd, sizeof nd),
		    f->node_gbps, f->local_gbs, res->peer_gbps, res->agg_gbps);
	/* Below 1 MiB, what counts is messages: all of an iteration's. */
	if (o->size < BENCH_SMALL && f->avg > 0)
		printf("per message %.1f us  %.0f messages/s  (%" PRIu64 " "
		    "messages per iteration)\n", f->avg / (double)coll_msgs(c) *
		    1e6, (double)coll_msgs(c) / f->avg, coll_msgs(c));
	if (f->pair_s > 0 && f->avg > 0)
		printf("single pair 0 -> %d %.4f s (%.2f GiB/s); ideal %.4f s; "
		    "protocol overhead %+.0f%%\n", c->ref_peer, f->pair_s,
		    bench_rate(o->size, f->pair_s, BENCH_GIB), f->ideal,
		    res->overhead_pct);
	printf("data verified on %d of %d receivers\n", f->verified,
	    f->nrecv);
}

/* The receivers whose every tensor arrived intact; their bad bytes. */
static void
coll_count_verified(struct coll *c, struct coll_figs *f)
{
	unsigned want = c->o->warmup + c->o->iters;
	int r;

	f->bad = c->bad;
	if (coll_receives(c))
		f->verified += c->checked == want && c->bad == 0 &&
		    c->failed == 0;
	for (r = 1; r < c->world; r++) {
		f->bad += c->ranks[r].bad;
		if (c->ranks[r].bad > 0)
			cli_warn("rank %d received %" PRIu64 " bytes that differ "
			    "from what was sent", r, c->ranks[r].bad);
		f->verified += c->ranks[r].ok && c->ranks[r].checked == want &&
		    c->ranks[r].bad == 0 && c->ranks[r].failed == 0;
	}
}

/* Rank 0: the summary (or the JSON line) and the sweep's figures. */
static int
coll_summary(struct coll *c, double pair_s, struct bench_result *res)
{
	const struct bench_opts *o = c->o;
	struct coll_figs f = { .pair_s = pair_s, .nrecv = coll_receivers(c) };
	double sum = 0;
	unsigned i;

	for (i = 0; i < c->ntimes; i++) {
		sum += c->times[i];
		f.best = f.best == 0 || c->times[i] < f.best ? c->times[i] :
		    f.best;
	}
	f.avg = c->ntimes > 0 ? sum / c->ntimes : 0;
	f.ideal = coll_ideal(c, pair_s);
	coll_split(c, &f.net, &f.local);
	/* What leaves (or stays in) the average node, per second. */
	f.node_gbps = bench_rate(f.net / (uint64_t)o->map->nodes, f.avg,
	    BENCH_GBIT);
	f.local_gbs = bench_rate(f.local / (uint64_t)o->map->nodes, f.avg,
	    1e9);
	res->node_gbps = f.node_gbps;
	coll_count_verified(c, &f);
	res->size = o->size;
	res->seconds = f.avg;
	res->msgs = coll_msgs(c);
	res->agg_gbps = bench_rate(coll_bytes(c), f.avg, BENCH_GBIT);
	res->peer_gbps = bench_rate(coll_peer_bytes(c), f.avg, BENCH_GBIT);
	res->overhead_pct = f.ideal > 0 && f.avg > 0 ?
	    (f.avg / f.ideal - 1) * 100 : NAN;
	res->verified = f.verified;
	res->receivers = f.nrecv;
	if (o->json)
		coll_print_json(c, &f, res);
	else {
		coll_print_text(c, &f, res);
		coll_print_own(c, coll_own_ok(c));
	}
	return f.verified != f.nrecv || c->ntimes != o->iters;
}

/* Did this rank get and verify all it should have? */
static int
coll_own_ok(const struct coll *c)
{
	unsigned want = c->o->warmup + c->o->iters;

	return c->failed == 0 && c->bad == 0 && (!coll_receives(c) ||
	    c->checked == want);
}

/* A rank's own line: under srun --label, each task says it verified. */
static void
coll_print_own(const struct coll *c, int ok)
{
	printf("rank %d of %d (node %d): %u of %u iterations received, %s\n",
	    c->me, c->world, c->o->map->node[c->me], c->received,
	    c->o->warmup + c->o->iters, !coll_receives(c) ? "sender only" :
	    ok ? "verified" : "NOT VERIFIED");
}

/* The other ranks: their own verdict. */
static int
coll_own_result(const struct coll *c)
{
	int ok = coll_own_ok(c);

	if (c->o->json)
		printf("{\"pattern\":\"%s\",\"rank\":%d,\"node\":%d,"
		    "\"received\":%u,\"mismatches\":%" PRIu64 ",\"verified\":"
		    "%s}\n", bench_pattern_name(c->o->pattern), c->me,
		    c->o->map->node[c->me], c->received, c->bad, ok ? "true" :
		    "false");
	else
		coll_print_own(c, ok);
	return !ok;
}

static void
coll_setup(struct coll *c)
{
	const struct bench_opts *o = c->o;
	size_t rsize = 0, tsize, j;
	uint64_t ms;
	int r;

	/* A rank that died must not hang us: allow 10 MiB/s at worst. */
	ms = BENCH_WAIT_MS + (o->size >> 20) * 100 * (uint64_t)c->world *
	    o->window;
	c->timeout_ms = ms < UINT_MAX / 2 ? (unsigned)ms : UINT_MAX / 2;
	c->ctl = bench_alloc(c->as, sync_ctl_size(c->world), "control buffer");
	if (o->size > SIZE_MAX / o->window / (size_t)c->world)
		cli_die("--window %u of %" PRIu64 "-byte tensors from %d ranks "
		    "does not fit in memory: give a smaller --window or size",
		    o->window, o->size, c->world);
	/* One slice per message of the window. */
	tsize = (size_t)o->size * o->window;
	c->tensor = bench_alloc(c->as, tsize, "the tensor");
	if (o->pattern == BENCH_ALLTOALL)
		rsize = (size_t)(c->world - 1) * tsize;
	else if (o->pattern == BENCH_RING)
		rsize = tsize;
	if (rsize > 0)
		c->rbuf = bench_alloc(c->as, rsize, "the receive buffer");
	if ((c->reqs = calloc(2 * (size_t)c->world * o->window,
	    sizeof *c->reqs)) == NULL ||
	    (c->me == 0 && ((c->ranks = calloc((size_t)c->world,
	    sizeof *c->ranks)) == NULL || (c->reports = calloc(
	    (size_t)c->world, sizeof *c->reports)) == NULL ||
	    (c->times = calloc(o->iters, sizeof *c->times)) == NULL)))
		cli_die("out of memory");
	/* Our pages are made now, not during a timed transfer. */
	if (c->me == 0 || (o->pattern != BENCH_BCAST &&
	    o->pattern != BENCH_BCAST_NAIVE)) {
		for (j = 0; j < o->window; j++)
			bench_tensor((unsigned char *)asoc_buf_ptr(c->tensor) +
			    j * o->size, o->size, 0);
	} else
		memset(asoc_buf_ptr(c->tensor), 0, tsize);
	if (c->rbuf != NULL)
		memset(asoc_buf_ptr(c->rbuf), 0, rsize);
	for (r = 0; c->ranks != NULL && r < c->world; r++)
		c->ranks[r].ok = c->ranks[r].reachable = r != 0;
}

int
bench_coll(asoc_t *as, const struct bench_opts *o, struct bench_result *res)
{
	static uint64_t seq;	/* the barriers of earlier runs of a sweep */
	struct coll c;
	unsigned i, j, total = o->warmup + o->iters;
	double pair_s = 0, t0;
	int rc;

	memset(&c, 0, sizeof c);
	c.as = as;
	c.o = o;
	c.me = asoc_rank(as);
	c.world = asoc_world_size(as);
	c.seq = seq;
	/* The single pair crosses the network when some rank is elsewhere. */
	c.ref_peer = 1;
	for (i = 1; i < (unsigned)c.world; i++) {
		if (!bench_map_same(o->map, 0, (int)i)) {
			c.ref_peer = (int)i;
			break;
		}
	}
	coll_setup(&c);

	pair_s = coll_reference(&c);
	for (i = 0; i < total && !c.stopped; i++) {
		/* Stamped outside the clock, before the barrier. */
		for (j = 0; j < o->window && (c.me == 0 || (o->pattern !=
		    BENCH_BCAST && o->pattern != BENCH_BCAST_NAIVE)); j++)
			bench_stamp((unsigned char *)asoc_buf_ptr(c.tensor) +
			    j * (size_t)o->size, o->size, coll_stamp(c.me, i, j));
		(void)coll_iteration(&c, i);
	}
	/* The last barrier only carries the last verdicts, and stops. */
	if (!c.stopped)
		(void)sync_barrier(&c, c.seq++, 1, 0, &t0);
	seq = c.seq;

	rc = c.me == 0 ? coll_summary(&c, pair_s, res) : coll_own_result(&c);
	/* A run that stopped early leaves the ranks out of step with any
	 * later run, so a sweep ends there. */
	if (c.ntimes < o->iters && c.me == 0)
		rc = 2;
	if (c.failed > 0)
		rc = 2;
	bench_free(c.rbuf);
	bench_free(c.tensor);
	bench_free(c.ctl);
	free(c.reqs);
	free(c.reports);
	free(c.ranks);
	free(c.times);
	return rc;
}
