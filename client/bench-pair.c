/*
 * bench-pair.c: asoc-bench's pair and self patterns.
 *
 * pair: rank 0 sends one tensor to each other rank in turn, one message
 * at a time, timing each from asoc_isend to its completion.  A send
 * completes only once the receiver holds the bytes, so the figures are
 * receiver-confirmed.  Receivers say they are ready only once set up, and
 * verify a tensor while the next receive is already posted, so rank 0's
 * clock never runs on their work.
 *
 * self: a transfer to this node's own rank (one copy inside asocd)
 * against memcpy.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asoc.h"
#include "bench.h"
#include "cli.h"

#define BENCH_TAG_DATA		0xBE0000000000ULL	/* + iteration */
#define BENCH_TAG_READY		0xBE0100000000ULL
#define BENCH_TAG_RESULT	0xBE0200000000ULL
#define BENCH_TAG_SELF		0xBE0400000000ULL	/* + iteration */

/* What a receiver reports to rank 0, as text so that byte order and
 * padding never matter: "asoc-bench received N mismatches N failed N". */
#define BENCH_RESULT_FMT	"asoc-bench received %u mismatches %" PRIu64 \
				" failed %d"
#define BENCH_RESULT_SCAN	"asoc-bench received %u mismatches %" SCNu64 \
				" failed %d"

struct bench_peer {
	asoc_req_t	*req;		/* its ready or result message */
	int		 ok;		/* ready, then verified */
	unsigned	 done;		/* timed transfers completed */
	double		 sum, best;
	uint64_t	 mismatches;	/* as the receiver reports them */
};

/* Rank 0 takes one small message on tag from every rank still in the run
 * into its slot of ctl; those that fail drop out. */
static void
bench_gather(asoc_t *as, asoc_buf_t *ctl, uint64_t tag, const char *what,
    int world, struct bench_peer *p)
{
	asoc_status_t st = ASOC_OK;
	int r;

	asoc_set_timeout(as, BENCH_WAIT_MS);
	for (r = 1; r < world; r++) {
		p[r].req = NULL;
		if (p[r].ok && (st = asoc_irecv(as, ctl, (size_t)r * BENCH_SLOT,
		    BENCH_SLOT, r, tag, &p[r].req)) != ASOC_OK) {
			cli_warn_asoc(st, asoc_last_error(as), "posting a "
			    "receive for the %s of rank %d", what, r);
			p[r].ok = 0;
		}
	}
	for (r = 1; r < world; r++) {
		if (p[r].req == NULL ||
		    (st = asoc_wait(p[r].req, NULL)) == ASOC_OK)
			continue;
		cli_warn_asoc(st, asoc_last_error(as), "waiting for the %s of "
		    "rank %d (is asoc-bench running there?)", what, r);
		p[r].ok = 0;
	}
	asoc_set_timeout(as, 0);
}

/*
 * Rank 0's transfers to the ranks on other nodes (what leaves its node,
 * in Gbit/s) and to those on its own (same-node copies, in GB/s).
 */
static void
bench_split(const struct bench_opts *o, int world,
    const struct bench_peer *p, double *node_gbps, double *local_gbs)
{
	uint64_t net = 0, local = 0;
	double net_s = 0, local_s = 0;
	int r;

	for (r = 1; r < world; r++) {
		if (bench_map_same(o->map, 0, r)) {
			local += (uint64_t)p[r].done * o->size;
			local_s += p[r].sum;
		} else {
			net += (uint64_t)p[r].done * o->size;
			net_s += p[r].sum;
		}
	}
	*node_gbps = bench_rate(net, net_s, BENCH_GBIT);
	*local_gbs = bench_rate(local, local_s, 1e9);
}

static void
bench_report(const struct bench_opts *o, int world,
    const struct bench_peer *p, int verified)
{
	char sz[32], tot[32], nd[48];
	uint64_t bytes = 0, b, msgs = 0;
	double secs = 0, us, rate, node_gbps, local_gbs;
	int r;

	for (r = 1; r < world; r++) {
		bytes += (uint64_t)p[r].done * o->size;
		msgs += p[r].done;
		secs += p[r].sum;
	}
	bench_split(o, world, p, &node_gbps, &local_gbs);
	/* Per message: what small sizes are measured in. */
	us = msgs > 0 ? secs / (double)msgs * 1e6 : 0;
	rate = secs > 0 ? (double)msgs / secs : 0;
	if (o->json)
		printf("{\"pattern\":\"pair\",\"world\":%d,\"size_bytes\":%"
		    PRIu64 ",\"window\":%u,\"warmup\":%u,\"iterations\":%u,"
		    "\"bytes\":%" PRIu64 ",\"seconds\":%.6f,\"avg_gbps\":%.3f,"
		    "\"avg_gibps\":%.3f,\"messages\":%" PRIu64 ",\"us_per_msg\":"
		    "%.3f,\"msgs_per_s\":%.1f,\"mb_per_s\":%.3f,\"peers\":[",
		    world, o->size, o->window, o->warmup, o->iters, bytes, secs,
		    bench_rate(bytes, secs, BENCH_GBIT),
		    bench_rate(bytes, secs, BENCH_GIB), msgs, us, rate,
		    bench_rate(bytes, secs, BENCH_MB));
	for (r = 1; r < world; r++) {
		b = (uint64_t)p[r].done * o->size;
		if (o->json)
			printf("%s{\"rank\":%d,\"node\":%d,\"same_node\":%s,"
			    "\"done\":%u,\"seconds\":%.6f,"
			    "\"best_s\":%.6f,\"gbps\":%.3f,\"mismatches\":%"
			    PRIu64 ",\"verified\":%s}", r > 1 ? "," : "", r,
			    o->map->node[r], bench_map_same(o->map, 0, r) ?
			    "true" : "false", p[r].done, p[r].sum, p[r].best,
			    bench_rate(b, p[r].sum, BENCH_GBIT),
			    p[r].mismatches, p[r].ok ? "true" : "false");
		else
			printf("peer %d  %u of %u  avg %.2f GiB/s (%.2f Gbit/s)"
			    "  best %.3f s  node %d%s  %s\n", r, p[r].done,
			    o->iters, bench_rate(b, p[r].sum, BENCH_GIB),
			    bench_rate(b, p[r].sum, BENCH_GBIT), p[r].best,
			    o->map->node[r], bench_map_same(o->map, 0, r) ?
			    " (same node)" : "", p[r].ok ? "verified" :
			    "NOT VERIFIED");
	}
	if (o->json) {
		printf("],\"nodes\":%d,\"ranks_per_node\":%d,\"node_gbps\":"
		    "%.3f,\"proc_gbps\":%.3f,\"local_gbps\":%.3f,\"receivers\":"
		    "%d,\"verified\":%d}\n", o->map->nodes, o->map->kmax,
		    node_gbps, bench_rate(bytes, secs, BENCH_GBIT), local_gbs,
		    world - 1, verified);
		return;
	}
	printf("world %d  tensor %s  iterations %u per peer (+%u warmup)  "
	    "window %u\n", world, cli_fmt_bytes(o->size, sz, sizeof sz),
	    o->iters, o->warmup, o->window);
	printf("average %.2f GiB/s (%.2f Gbit/s): %s in %.3f s, excluding "
	    "warmup\n", bench_rate(bytes, secs, BENCH_GIB),
	    bench_rate(bytes, secs, BENCH_GBIT),
	    cli_fmt_bytes(bytes, tot, sizeof tot), secs);
	printf("per message %.1f us  %.0f messages/s  %.1f MB/s\n", us, rate,
	    bench_rate(bytes, secs, BENCH_MB));
	printf("%s  from rank 0's node %.2f Gbit/s to other nodes (same-node "
	    "%.2f GB/s)  per process %.2f Gbit/s\n", bench_map_fmt(o->map, nd,
	    sizeof nd), node_gbps, local_gbs, bench_rate(bytes, secs,
	    BENCH_GBIT));
	printf("data verified on %d of %d receivers\n", verified, world - 1);
}

/* For a sweep's summary line: the average over all timed transfers. */
static void
bench_pair_result(const struct bench_opts *o, int world,
    const struct bench_peer *p, int verified, struct bench_result *res)
{
	uint64_t bytes = 0;
	unsigned n = 0;
	double secs = 0, local_gbs;
	int r;

	for (r = 1; r < world; r++) {
		bytes += (uint64_t)p[r].done * o->size;
		n += p[r].done;
		secs += p[r].sum;
	}
	res->size = o->size;
	res->seconds = n > 0 ? secs / n : 0;
	res->msgs = 1;
	res->agg_gbps = res->peer_gbps = bench_rate(bytes, secs, BENCH_GBIT);
	bench_split(o, world, p, &res->node_gbps, &local_gbs);
	res->overhead_pct = NAN;
	res->verified = verified;
	res->receivers = world - 1;
}

/* Rank 0 to rank r: every tensor timed from post to completion. */
static void
bench_send_to(asoc_t *as, const struct bench_opts *o, asoc_buf_t *buf,
    int r, struct bench_peer *pr)
{
	unsigned i, total = o->warmup + o->iters;
	asoc_req_t *req;
	asoc_status_t st;
	double t;
	char sz[32];

	cli_fmt_bytes(o->size, sz, sizeof sz);
	/* A receiver that died must not hang us: allow 10 MiB/s at worst. */
	asoc_set_timeout(as, BENCH_WAIT_MS + (unsigned)(o->size >> 20) * 100);
	for (i = 0; i < total; i++) {
		/* Each tensor is written whole before it is sent, outside
		 * the clock, as an application produces one and as
		 * bench/raw-sock.c does; the receiver checks the last one
		 * meanwhile.  Stamping a word per 4 KiB instead let the
		 * next tensor start while the receiver still checked: on
		 * two cores the check then took the daemons' CPU, and
		 * bench/tcp-vs-raw compared that with a plain program
		 * whose check was free (bench/PROFILE.md). */
		bench_tensor(asoc_buf_ptr(buf), o->size, i + 1);
		t = bench_now();
		st = asoc_isend(as, buf, 0, o->size, r, BENCH_TAG_DATA + i,
		    &req);
		if (st == ASOC_OK)
			st = asoc_wait(req, NULL);
		t = bench_now() - t;
		if (st != ASOC_OK) {
			cli_warn_asoc(st, asoc_last_error(as), "sending tensor "
			    "%u to rank %d", i + 1, r);
			/* A receiver of another size keeps in step with us. */
			if (st == ASOC_ETRUNC)
				continue;
			break;
		}
		/* Below 1 MiB, seconds and GiB/s say little: us and MB/s. */
		if (!o->json && o->size < BENCH_SMALL)
			printf("%s %u  0 -> %d  %s  %.1f us  %.1f MB/s\n",
			    i < o->warmup ? "warmup" : "iter", i < o->warmup ?
			    i + 1 : i - o->warmup + 1, r, sz, t * 1e6,
			    bench_rate(o->size, t, BENCH_MB));
		else if (!o->json)
			printf("%s %u  0 -> %d  %s  %.3f s  %.2f GiB/s\n",
			    i < o->warmup ? "warmup" : "iter", i < o->warmup ?
			    i + 1 : i - o->warmup + 1, r, sz, t,
			    bench_rate(o->size, t, BENCH_GIB));
		if (i < o->warmup)
			continue;
		pr->done++;
		pr->sum += t;
		if (pr->best == 0 || t < pr->best)
			pr->best = t;
	}
	asoc_set_timeout(as, 0);
	fflush(stdout);
}

/*
 * One slot of the window: its slice of the send buffer, the message in it
 * and when that was posted.
 */
struct send_slot {
	asoc_req_t	*req;
	unsigned	 msg;
	double		 posted;
};

/* Message i (stamp i + 1) into slot k's slice, posted to rank r. */
static asoc_status_t
send_slot_post(asoc_t *as, const struct bench_opts *o, asoc_buf_t *buf,
    int r, struct send_slot *s, size_t k, unsigned i)
{
	size_t off = k * (size_t)o->size;

	bench_stamp((unsigned char *)asoc_buf_ptr(buf) + off, o->size, i + 1);
	s[k].msg = i;
	s[k].posted = bench_now();
	return asoc_isend(as, buf, off, o->size, r, BENCH_TAG_DATA + i,
	    &s[k].req);
}

/*
 * Messages first .. first + count - 1 to rank r, o->window of them in
 * flight: each slot is posted again as soon as its send completes.  The
 * best post-to-completion time goes to *best; returns how many completed.
 * A failure stops new posts, and the ones in flight are waited for.
 */
static unsigned
send_window_run(asoc_t *as, const struct bench_opts *o, asoc_buf_t *buf,
    int r, unsigned first, unsigned count, double *best)
{
	size_t n = o->window < count ? o->window : count, k, live = 0;
	unsigned next = first, end = first + count, ok = 0;
	asoc_req_t **reqs;
	struct send_slot *s;
	asoc_status_t st;
	int stop = 0;
	double t;

	if ((s = calloc(n, sizeof *s)) == NULL ||
	    (reqs = calloc(n, sizeof *reqs)) == NULL)
		cli_die("out of memory");
	for (k = 0; k < n; k++, next++) {
		if ((st = send_slot_post(as, o, buf, r, s, k, next)) !=
		    ASOC_OK) {
			cli_warn_asoc(st, asoc_last_error(as), "sending "
			    "message %u to rank %d", next + 1, r);
			stop = 1;
			break;
		}
		reqs[k] = s[k].req;
		live++;
	}
	while (live > 0) {
		st = asoc_waitany(reqs, n, &k, NULL);
		t = bench_now() - s[k].posted;
		live--;
		if (st != ASOC_OK) {
			cli_warn_asoc(st, asoc_last_error(as), "sending "
			    "message %u to rank %d", s[k].msg + 1, r);
			/* A receiver of another size keeps in step with us;
			 * anything else is the end of this peer. */
			stop |= st != ASOC_ETRUNC;
		} else {
			ok++;
			if (*best == 0 || t < *best)
				*best = t;
		}
		if (stop || next == end)
			continue;
		if ((st = send_slot_post(as, o, buf, r, s, k, next)) !=
		    ASOC_OK) {
			cli_warn_asoc(st, asoc_last_error(as), "sending "
			    "message %u to rank %d", next + 1, r);
			stop = 1;
			continue;
		}
		next++;
		reqs[k] = s[k].req;
		live++;
	}
	free(reqs);
	free(s);
	return ok;
}

/* Rank 0 to rank r with a window: the warmup messages, then the timed
 * ones, timed together from the first post to the last completion. */
static void
bench_send_window(asoc_t *as, const struct bench_opts *o, asoc_buf_t *buf,
    int r, struct bench_peer *pr)
{
	double t, warm_best = 0;
	unsigned got;
	char sz[32];

	asoc_set_timeout(as, BENCH_WAIT_MS + (unsigned)(o->size >> 20) * 100 *
	    o->window);
	if (o->warmup > 0 && send_window_run(as, o, buf, r, 0, o->warmup,
	    &warm_best) != o->warmup) {
		asoc_set_timeout(as, 0);
		return;
	}
	t = bench_now();
	got = send_window_run(as, o, buf, r, o->warmup, o->iters, &pr->best);
	t = bench_now() - t;
	asoc_set_timeout(as, 0);
	pr->done = got;
	pr->sum = t;
	if (!o->json)
		printf("window %u  0 -> %d  %u x %s  %.6f s  %.2f GiB/s\n",
		    o->window, r, got, cli_fmt_bytes(o->size, sz, sizeof sz), t,
		    bench_rate((uint64_t)got * o->size, t, BENCH_GIB));
	fflush(stdout);
}

/* Rank 0: sends, times, and collects the receivers' verdicts. */
int
bench_pair_send(asoc_t *as, const struct bench_opts *o,
    struct bench_result *res)
{
	int world = asoc_world_size(as), r, verified = 0, failed;
	unsigned got, k;
	struct bench_peer *p;
	asoc_buf_t *buf, *ctl;
	char *msg;

	if ((p = calloc((size_t)world, sizeof *p)) == NULL)
		cli_die("out of memory");
	if (o->size > SIZE_MAX / o->window)
		cli_die("--window %u of %" PRIu64 "-byte messages does not fit "
		    "in memory: give a smaller --window or size", o->window,
		    o->size);
	/* One slice of the tensor per message in flight. */
	buf = bench_alloc(as, o->size * o->window, "the tensors");
	ctl = bench_alloc(as, (size_t)world * BENCH_SLOT, "control buffer");
	for (k = 0; k < o->window; k++)
		bench_tensor((unsigned char *)asoc_buf_ptr(buf) + k *
		    (size_t)o->size, o->size, 0);

	for (r = 1; r < world; r++)
		p[r].ok = 1;
	bench_gather(as, ctl, BENCH_TAG_READY, "ready message", world, p);
	for (r = 1; r < world; r++) {
		if (p[r].ok && o->window > 1)
			bench_send_window(as, o, buf, r, &p[r]);
		else if (p[r].ok)
			bench_send_to(as, o, buf, r, &p[r]);
	}

	bench_gather(as, ctl, BENCH_TAG_RESULT, "result", world, p);
	for (r = 1; r < world; r++) {
		msg = (char *)asoc_buf_ptr(ctl) + r * BENCH_SLOT;
		msg[BENCH_SLOT - 1] = '\0';
		got = 0;
		failed = 1;
		if (p[r].ok && sscanf(msg, BENCH_RESULT_SCAN, &got,
		    &p[r].mismatches, &failed) != 3) {
			cli_warn("rank %d sent a result this asoc-bench does "
			    "not know: run one asoc-bench on all ranks", r);
			p[r].ok = 0;
		}
		if (p[r].mismatches > 0)
			cli_warn("rank %d received %" PRIu64 " bytes that "
			    "differ from what was sent", r, p[r].mismatches);
		if (failed || p[r].mismatches || got != o->warmup + o->iters ||
		    p[r].done != o->iters)
			p[r].ok = 0;
		verified += p[r].ok;
	}
	bench_report(o, world, p, verified);
	bench_pair_result(o, world, p, verified, res);
	free(p);
	bench_free(ctl);
	bench_free(buf);
	return verified != world - 1;
}

/* A receiver of the pair pattern: the slices of buf it receives into in
 * turn, one more than rank 0's window, so that one is verified while a
 * window's worth of receives stays posted. */
struct pair_rx {
	asoc_t			*as;
	const struct bench_opts	*o;
	asoc_buf_t		*buf, *ctl;
	asoc_req_t		**data;	/* nslot, one per slice */
	size_t			 nslot;
	unsigned		 total, got;
	uint64_t		 bad;	/* bytes that differ */
	int			 me;
};

/* The buffers, touched through asocd, the first two receives posted, and
 * then the word to rank 0 that we are ready. */
static void
pair_rx_setup(struct pair_rx *rx)
{
	const struct bench_opts *o = rx->o;
	asoc_req_t *rq;
	asoc_status_t st;
	size_t k, half;

	rx->nslot = (size_t)o->window + 1;
	if (o->size > SIZE_MAX / rx->nslot)
		cli_die("%zu receive buffers of %" PRIu64 " bytes do not fit in "
		    "memory: give a smaller --window or size", rx->nslot,
		    o->size);
	if ((rx->data = calloc(rx->nslot, sizeof *rx->data)) == NULL)
		cli_die("out of memory");
	rx->buf = bench_alloc(rx->as, rx->nslot * o->size, "the receive "
	    "buffers");
	/* Our pages are made now, not during a timed transfer. */
	memset(asoc_buf_ptr(rx->buf), 0, rx->nslot * o->size);
	rx->ctl = bench_alloc(rx->as, 4096, "control buffer");
	/* A same-node copy from the first half of the slices to the second
	 * makes asocd touch them, so its first page faults on them are not
	 * in a timed transfer. */
	half = rx->nslot / 2 * o->size;
	if ((st = asoc_irecv(rx->as, rx->buf, half, half, rx->me,
	    BENCH_TAG_SELF, &rq)) != ASOC_OK || (st = asoc_send(rx->as,
	    rx->buf, 0, half, rx->me, BENCH_TAG_SELF)) != ASOC_OK ||
	    (st = asoc_wait(rq, NULL)) != ASOC_OK)
		cli_die_asoc(st, asoc_last_error(rx->as), "copying between the "
		    "receive buffers through asocd");
	for (k = 0, st = ASOC_OK; k < rx->nslot && k < rx->total &&
	    st == ASOC_OK; k++)
		st = asoc_irecv(rx->as, rx->buf, k * o->size, o->size, 0,
		    BENCH_TAG_DATA + k, &rx->data[k]);
	if (st != ASOC_OK || (st = asoc_send(rx->as, rx->ctl, 0, 8, 0,
	    BENCH_TAG_READY)) != ASOC_OK)
		cli_die_asoc(st, asoc_last_error(rx->as), "getting ready to "
		    "receive from rank 0");
}

/* Tensor i, received in slice k: verified, or why not.  Returns 0 to go
 * on, -1 when rank 0 is gone. */
static int
pair_rx_one(struct pair_rx *rx, unsigned i, size_t k)
{
	const struct bench_opts *o = rx->o;
	asoc_completion_t c;
	asoc_status_t st;

	st = asoc_wait(rx->data[k], &c);
	rx->data[k] = NULL;
	if (st == ASOC_OK && c.len == o->size) {
		rx->bad += bench_check((unsigned char *)asoc_buf_ptr(rx->buf) +
		    k * o->size, o->size, i + 1);
		rx->got++;
	} else if (st == ASOC_OK)
		cli_warn("tensor %u from rank 0 has %zu bytes, not %" PRIu64
		    ": give every rank the same size", i + 1, c.len,
		    o->size);
	else {
		cli_warn_asoc(st, asoc_last_error(rx->as), "receiving tensor "
		    "%u from rank 0", i + 1);
		/* Sizes that differ leave rank 0 in step with us; anything
		 * else means it is gone. */
		if (st != ASOC_ETRUNC)
			return -1;
	}
	return 0;
}

/* Every tensor in order, verifying one while the next receives are
 * posted; its slice is then posted again for the tensor nslot later. */
static void
pair_rx_loop(struct pair_rx *rx)
{
	asoc_status_t st;
	unsigned i;
	size_t k;

	for (i = 0; i < rx->total; i++) {
		k = i % rx->nslot;
		if (pair_rx_one(rx, i, k) == -1)
			break;
		if (i + rx->nslot < rx->total && (st = asoc_irecv(rx->as,
		    rx->buf, k * rx->o->size, rx->o->size, 0, BENCH_TAG_DATA +
		    i + rx->nslot, &rx->data[k])) != ASOC_OK) {
			cli_warn_asoc(st, asoc_last_error(rx->as), "posting a "
			    "receive");
			break;
		}
	}
	for (k = 0; k < rx->nslot; k++) {
		if (rx->data[k] != NULL && asoc_cancel(rx->data[k]) == ASOC_OK)
			asoc_wait(rx->data[k], NULL);
	}
}

/* The other ranks: receive into two buffers in turn, verifying one while
 * the next receive is already posted. */
int
bench_pair_recv(asoc_t *as, const struct bench_opts *o)
{
	struct pair_rx rx = { .as = as, .o = o, .me = asoc_rank(as),
	    .total = o->warmup + o->iters };
	asoc_status_t st;
	int failed;

	pair_rx_setup(&rx);
	pair_rx_loop(&rx);
	failed = rx.got < rx.total;
	/* No deadline: rank 0 takes the results only once it has sent to
	 * every rank, which may take long after our last tensor. */
	snprintf(asoc_buf_ptr(rx.ctl), BENCH_SLOT, BENCH_RESULT_FMT, rx.got,
	    rx.bad, failed);
	if ((st = asoc_send(as, rx.ctl, 0, BENCH_SLOT, 0, BENCH_TAG_RESULT)) !=
	    ASOC_OK)
		cli_warn_asoc(st, asoc_last_error(as), "sending the result to "
		    "rank 0");
	if (rx.bad > 0)
		cli_warn("%" PRIu64 " bytes in %u tensors differ from the "
		    "pattern", rx.bad, rx.got);
	if (o->json)
		printf("{\"pattern\":\"pair\",\"rank\":%d,\"received\":%u,"
		    "\"mismatches\":%" PRIu64 ",\"verified\":%s}\n", rx.me,
		    rx.got, rx.bad, failed || rx.bad ? "false" : "true");
	free(rx.data);
	bench_free(rx.buf);
	bench_free(rx.ctl);
	return failed || rx.bad > 0 || st != ASOC_OK;
}

/* self's figures: asocd's copy against memcpy, best and average. */
struct self_times {
	double	best, sum;	/* asocd, seconds */
	double	mbest;		/* memcpy */
};

/* One iteration of self: o->window messages to this rank, slice j of
 * sb into slice j of rb, all posted before any is waited for. */
static asoc_status_t
self_once(asoc_t *as, const struct bench_opts *o, asoc_buf_t *sb,
    asoc_buf_t *rb, unsigned i, asoc_req_t **reqs)
{
	size_t k, n = 0, off;
	int me = asoc_rank(as);
	asoc_status_t st = ASOC_OK, ws;

	for (k = 0; k < o->window && st == ASOC_OK; k++) {
		off = k * (size_t)o->size;
		if ((st = asoc_irecv(as, rb, off, o->size, me, BENCH_TAG_SELF +
		    i, &reqs[n])) == ASOC_OK && ++n > 0 && (st = asoc_isend(as,
		    sb, off, o->size, me, BENCH_TAG_SELF + i, &reqs[n])) ==
		    ASOC_OK)
			n++;
	}
	for (k = 0; k < n; k++) {
		if (st != ASOC_OK)
			(void)asoc_cancel(reqs[k]);
		if ((ws = asoc_wait(reqs[k], NULL)) != ASOC_OK && st == ASOC_OK)
			st = ws;
	}
	return st;
}

/* Transfers to this rank: best and summed time of an iteration (a window
 * of messages); 1 if the last arrived intact. */
static int
self_time_asoc(asoc_t *as, const struct bench_opts *o, asoc_buf_t *sb,
    asoc_buf_t *rb, struct self_times *tm)
{
	unsigned total = o->warmup + o->iters, i;
	size_t len = (size_t)o->size * o->window;
	asoc_req_t **reqs;
	asoc_status_t st;
	double t;

	if ((reqs = calloc(2 * (size_t)o->window, sizeof *reqs)) == NULL)
		cli_die("out of memory");
	memset(asoc_buf_ptr(rb), 0xff, len);
	for (i = 0; i < total; i++) {
		/* Only the last copy is checked: it must not find old bytes. */
		if (i + 1 == total)
			memset(asoc_buf_ptr(rb), 0, len);
		t = bench_now();
		if ((st = self_once(as, o, sb, rb, i, reqs)) != ASOC_OK)
			cli_die_asoc(st, asoc_last_error(as), "transfer %u to "
			    "this rank (%d)", i + 1, asoc_rank(as));
		t = bench_now() - t;
		if (i >= o->warmup) {
			tm->sum += t;
			tm->best = tm->best == 0 || t < tm->best ? t : tm->best;
		}
	}
	free(reqs);
	return memcmp(asoc_buf_ptr(rb), asoc_buf_ptr(sb), len) == 0;
}

/* memcpy between two ordinary buffers of the same size: its best time. */
static void
self_time_memcpy(const struct bench_opts *o, const void *src,
    struct self_times *tm)
{
	unsigned total = o->warmup + o->iters, i;
	size_t len = (size_t)o->size * o->window;	/* as one iteration */
	unsigned char *a, *b;
	double t;

	if ((a = malloc(len)) == NULL || (b = malloc(len)) == NULL)
		cli_die("out of memory for two %zu-byte buffers", len);
	memcpy(a, src, len);
	memset(b, 0, len);
	for (i = 0; i < total; i++) {
		t = bench_now();
		memcpy(b, a, len);
		/* Nothing reads the copy: keep the compiler from eliding it. */
		__asm__ __volatile__("" : : "r"(b) : "memory");
		t = bench_now() - t;
		if (i >= o->warmup && (tm->mbest == 0 || t < tm->mbest))
			tm->mbest = t;
	}
	free(a);
	free(b);
}

static void
self_print(asoc_t *as, const struct bench_opts *o,
    const struct self_times *tm, int good)
{
	double ratio = tm->mbest / tm->best, avg = tm->sum / o->iters;
	uint64_t len = o->size * o->window;	/* one iteration's bytes */
	char sz[32];

	if (o->json) {
		printf("{\"pattern\":\"self\",\"world\":%d,\"rank\":%d,"
		    "\"size_bytes\":%" PRIu64 ",\"window\":%u,\"warmup\":%u,"
		    "\"iterations\":%u,\"asoc_best_s\":%.6f,"
		    "\"asoc_avg_s\":%.6f,\"asoc_gbps\":%.3f,"
		    "\"us_per_msg\":%.3f,\"msgs_per_s\":%.1f,"
		    "\"memcpy_best_s\":%.6f,\"memcpy_gbps\":%.3f,"
		    "\"ratio\":%.2f,\"verified\":%s}\n", asoc_world_size(as),
		    asoc_rank(as), o->size, o->window, o->warmup, o->iters,
		    tm->best, avg, bench_rate(len, tm->best, BENCH_GBIT),
		    avg / o->window * 1e6, avg > 0 ? o->window / avg : 0.0,
		    tm->mbest, bench_rate(len, tm->mbest, BENCH_GBIT), ratio,
		    good ? "true" : "false");
		return;
	}
	printf("self: rank %d  tensor %s  iterations %u (+%u warmup)  window "
	    "%u  data %s\n", asoc_rank(as), cli_fmt_bytes(o->size, sz,
	    sizeof sz), o->iters, o->warmup, o->window, good ? "verified" :
	    "MISMATCH");
	printf("asoc    best %.4f s  %.2f GiB/s  avg %.4f s\n", tm->best,
	    bench_rate(len, tm->best, BENCH_GIB), avg);
	if (o->size < BENCH_SMALL && avg > 0)
		printf("per message %.1f us  %.0f messages/s\n",
		    avg / o->window * 1e6, o->window / avg);
	printf("memcpy  best %.4f s  %.2f GiB/s\n", tm->mbest,
	    bench_rate(len, tm->mbest, BENCH_GIB));
	printf("asoc/memcpy = %.2f\n", ratio);
}

/* One process: a transfer to its own rank (one copy inside asocd)
 * against memcpy between two ordinary buffers of the same size. */
int
bench_self(asoc_t *as, const struct bench_opts *o, struct bench_result *res)
{
	struct self_times tm = { 0, 0, 0 };
	asoc_buf_t *sb, *rb;
	int good;

	if (o->size > SIZE_MAX / o->window)
		cli_die("--window %u of %" PRIu64 "-byte messages does not fit "
		    "in memory: give a smaller --window or size", o->window,
		    o->size);
	/* One slice of each buffer per message of the window. */
	sb = bench_alloc(as, o->size * o->window, "the send buffer");
	rb = bench_alloc(as, o->size * o->window, "the receive buffer");
	bench_tensor(asoc_buf_ptr(sb), o->size * o->window, 0);
	good = self_time_asoc(as, o, sb, rb, &tm);
	self_time_memcpy(o, asoc_buf_ptr(sb), &tm);
	if (!good)
		cli_warn("the data received differ from the data sent");
	bench_free(sb);
	bench_free(rb);
	res->size = o->size;
	res->seconds = tm.sum / o->iters;
	res->msgs = o->window;
	res->agg_gbps = res->peer_gbps = bench_rate(o->size * o->window,
	    tm.best, BENCH_GBIT);
	res->overhead_pct = NAN;
	res->verified = good;
	res->receivers = 1;
	self_print(as, o, &tm, good);
	return !good;
}
