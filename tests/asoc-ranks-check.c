/*
 * asoc-ranks-check: the process-rank test client (issue 12, tests/test-ranks.sh).
 * One process is one rank; every mode checks every byte it receives.
 *
 *   asoc-ranks-check [options] MODE
 *
 * How it opens: --rank R --world P opens as process rank R of a world of
 * P through asoc_open_ex; --rank node as a node rank (ASOC_RANK_NODE);
 * --rank status as a status-only session (ASOC_OPEN_STATUS);
 * neither, through asoc_open (ASOC_RANK_AUTO: ASOC_PROC_RANK and
 * ASOC_PROC_WORLD, SLURM, else node mode).  --sessions N opens N sessions
 * of the one process (the same pid, so the same rank) and works on the
 * last.  --socket P, --timeout-ms MS (asoc_set_timeout), --tag T;
 * --deadline SECS (default 120) ends a run that hangs (SIGALRM).
 * Before its mode: --barrier 1 waits until every rank of the world has
 * joined (asoc_rank_nodes), so that no request names a rank whose earlier
 * process left and whose new one is not announced yet; --go FILE waits
 * until FILE exists.
 * A failed open prints libasoc's error and exits 1.
 *
 * Modes:
 *   open               opens and exits (every mode first prints
 *                      "rank R of P, node N of M, pid X")
 *   hold --until FILE  stays joined until FILE exists
 *   nodes              asoc_rank_nodes, printed: "ok - rank R: ranks on
 *                      nodes N0 N1 ..." (a rank that left since this
 *                      process joined counts, on the node it left)
 *   stat               (--rank status) the daemon's mode and process
 *                      ranks: "mode M world W local_ranks N", then
 *                      "rank R pid P sessions S incarnation I" each
 *   pairs [--sizes LIST] [--layout block|cyclic --nodes N]
 *                      every other rank, each size: P-1 rounds, in round
 *                      k a send to rank+k and a receive from rank-k of
 *                      every size at once; waits for all P ranks first
 *                      (asoc_rank_nodes), and with --layout checks where
 *                      it says each rank lives
 *   anysrc --root R    R posts P-1 receives from ASOC_ANY_SOURCE, each
 *                      other rank sends one message to R; R checks that
 *                      each names its real source, every source once,
 *                      then tells every rank (tag + 1) that it may go
 *   order-send --to R --count N --tags A,B
 *   order-recv --from S1,S2 --count N --tags A,B
 *                      message i (0..N-1) of each tag, tags interleaved,
 *                      eager and rendezvous sizes mixed, up to --window
 *                      requests in flight; the receiver names the source
 *                      on tag A and takes tag B from any source, and checks
 *                      that every (source, tag) arrives in order
 *   send --to R --size N [--count K]
 *   recv --from R|any --size N [--count K]
 *                      K checked messages, --window in flight
 *
 * --ready FILE is created once the requests are posted (recv), or after
 * --ready-after K messages have completed.  Each message is a pattern of
 * (source, destination, tag, index, size) that starts with those numbers,
 * so a receiver that gets a wrong one says which it got.  Every mode ends
 * with "N passed, N failed"; an error says what failed with libasoc's
 * detailed message (test-ranks.sh looks for "rank 5 left" in it).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "asoc.h"
#include "tool-opts.h"
#include "xfer-sum.h"

#define PROG		"asoc-ranks-check"
#define MAX_SIZES	16
#define NO_RANK		(-3)

static const char *opt_socket, *opt_ready, *opt_until, *opt_layout, *opt_go;
static const char *opt_sizes = "0,1,65535,65536,65537,4194307";
static int opt_rank = ASOC_RANK_AUTO, opt_peer = NO_RANK;
static int opt_peers[2] = { NO_RANK, NO_RANK };
static uint64_t opt_size, opt_tag, opt_tags[2] = { 1, 2 };
static unsigned opt_world, opt_count = 1, opt_window = 4, opt_nodes;
static unsigned opt_sessions = 1, opt_timeout_ms, opt_ready_after;
static unsigned opt_deadline = 120;	/* seconds: a hang ends in SIGALRM */
static unsigned opt_barrier;
static int opt_status;		/* --rank status: a status-only session */
static int opt_root = -1;

static int npass, nfail;

static void ok(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void die(asoc_t *as, asoc_status_t st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
ok(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf("ok - ");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	npass++;
}

static void
fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf("FAIL - ");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	nfail++;
}

static int
summary(void)
{
	printf("%d passed, %d failed\n", npass, nfail);
	fflush(stdout);
	return nfail ? 1 : 0;
}

/* A libasoc call failed: say which, with the session's detail, and stop
 * (an expected failure is the script's to recognise in this line). */
static void
die(asoc_t *as, asoc_status_t st, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf("FAIL - ");
	vprintf(fmt, ap);
	printf(": %s (%s)\n", asoc_strerror(st),
	    as != NULL ? asoc_last_error(as) : "no session");
	va_end(ap);
	nfail++;
	exit(summary());
}

static void
touch(const char *path)
{
	int fd;

	if (path == NULL)
		return;
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) < 0) {
		fprintf(stderr, PROG ": %s: %s\n", path, strerror(errno));
		exit(1);
	}
	close(fd);
	fflush(stdout);
}

/* --- messages --- */

struct stamp {
	uint32_t src, dst, idx, size;
};

static void
pattern(uint8_t *p, size_t n, int src, int dst, uint64_t tag, unsigned idx)
{
	struct stamp s = { (uint32_t)src, (uint32_t)dst, idx, (uint32_t)n };
	uint64_t x = ((uint64_t)src << 40 ^ (uint64_t)dst << 20 ^ idx) *
	    0x9e3779b97f4a7c15ull ^ (tag + 1) * 0xbf58476d1ce4e5b9ull ^ n;
	size_t k;

	if (x == 0)
		x = 1;
	for (k = 0; k < n; k++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[k] = (uint8_t)(x >> 24);
	}
	if (n > 0)	/* p may be NULL for an empty message */
		memcpy(p, &s, n < sizeof s ? n : sizeof s);
}

/* 0 when the n bytes at got are message (src, dst, tag, idx); otherwise
 * says what they are, as far as the stamp tells. */
static int
verify(const uint8_t *got, size_t n, int src, int dst, uint64_t tag,
    unsigned idx, const char *what)
{
	static uint8_t *want;
	static size_t wantn;
	struct stamp s = { 0, 0, 0, 0 };
	size_t i;

	if (n == 0)	/* the caller checked the length; no bytes to compare */
		return 0;
	if (n > wantn) {
		free(want);
		if ((want = malloc(n)) == NULL) {
			fprintf(stderr, PROG ": out of memory\n");
			exit(1);
		}
		wantn = n;
	}
	pattern(want, n, src, dst, tag, idx);
	if (memcmp(got, want, n) == 0)
		return 0;
	for (i = 0; i < n && got[i] == want[i]; i++)
		;
	memcpy(&s, got, n < sizeof s ? n : sizeof s);
	fail("%s: message %u of %zu bytes from rank %d on tag %" PRIu64
	    " differs at byte %zu (it starts as message %u from rank %u to "
	    "rank %u)", what, idx, n, src, tag, i, s.idx, s.src, s.dst);
	return 1;
}

/* --- opening --- */

static asoc_t *
open_one(void)
{
	asoc_open_opts_t o;
	asoc_status_t st;
	asoc_t *as = NULL;

	if (opt_rank == ASOC_RANK_AUTO && !opt_status) {
		st = asoc_open(opt_socket, &as);
	} else {
		asoc_open_opts_init(&o);
		o.socket_path = opt_socket;
		o.rank = opt_rank;
		o.world_size = (int)opt_world;
		o.flags = opt_status ? ASOC_OPEN_STATUS : 0;
		st = asoc_open_ex(&o, &as);
	}
	if (st != ASOC_OK)
		die(as, st, "open");
	asoc_set_timeout(as, opt_timeout_ms);
	return as;
}

/* --sessions N: the sessions before the last stay open (and joined) until
 * the end; they are the threads of a process that all share its rank. */
static asoc_t *held[16];
static unsigned nheld;

static asoc_t *
open_all(void)
{
	asoc_t *as = NULL;
	unsigned i;

	for (i = 0; i < opt_sessions; i++) {
		if (as != NULL && nheld < sizeof held / sizeof held[0])
			held[nheld++] = as;	/* closed at the end */
		as = open_one();
		if (i > 0)
			ok("session %u of pid %ld joined rank %d too", i + 1,
			    (long)getpid(), asoc_rank(as));
	}
	/* The pid is what a duplicate claim's refusal names, and what
	 * test-ranks.sh kills. */
	printf("rank %d of %d, node %d of %d, pid %ld\n", asoc_rank(as),
	    asoc_world_size(as), asoc_node(as), asoc_node_count(as),
	    (long)getpid());
	return as;
}

static asoc_buf_t *
buffer(asoc_t *as, size_t size)
{
	asoc_buf_t *b;
	asoc_status_t st;

	if ((st = asoc_buf_alloc(as, size ? size : 1, &b)) != ASOC_OK)
		die(as, st, "a buffer of %zu bytes", size);
	return b;
}

/* Waits for one request; a failure stops the run, naming it. */
static void
wait_ok(asoc_t *as, asoc_req_t *r, asoc_completion_t *c, const char *what,
    unsigned idx, int peer)
{
	asoc_status_t st = asoc_wait(r, c);

	if (st == ASOC_OK)
		st = c->status;
	if (st != ASOC_OK)
		die(as, st, "%s %u (rank %d)", what, idx, peer);
}

/* --- where the ranks live --- */

static int
layout_node(int p, int world)
{
	int k = world / (int)opt_nodes;

	if (opt_layout != NULL && strcmp(opt_layout, "cyclic") == 0)
		return p % (int)opt_nodes;
	return p / k;
}

/* Waits until every rank has joined (the barrier of the modes that talk to
 * all), and with --layout checks the map against it. */
static int *
all_joined(asoc_t *as)
{
	int world = asoc_world_size(as), me = asoc_rank(as), p, bad = 0;
	int *nodes = calloc((size_t)world, sizeof *nodes);
	asoc_status_t st;

	if (nodes == NULL) {
		fprintf(stderr, PROG ": out of memory\n");
		exit(1);
	}
	if ((st = asoc_rank_nodes(as, nodes)) != ASOC_OK)
		die(as, st, "rank %d: asoc_rank_nodes (waiting for all %d ranks "
		    "to join)", me, world);
	if (opt_layout == NULL || opt_nodes == 0)
		return nodes;
	for (p = 0; p < world; p++) {
		if (nodes[p] != layout_node(p, world) && bad++ < 3)
			fail("rank %d: asoc_rank_nodes says rank %d lives on "
			    "node %d, the %s layout on node %d", me, p, nodes[p],
			    opt_layout, layout_node(p, world));
	}
	if (asoc_node(as) != layout_node(me, world) ||
	    asoc_node_count(as) != (int)opt_nodes) {
		fail("rank %d: asoc_node says node %d of %d, the %s layout "
		    "node %d of %u", me, asoc_node(as), asoc_node_count(as),
		    opt_layout, layout_node(me, world), opt_nodes);
		bad++;
	}
	if (!bad)
		ok("rank %d: asoc_rank_nodes and asoc_node agree with the %s "
		    "layout of %d ranks on %u nodes", me, opt_layout, world,
		    opt_nodes);
	return nodes;
}

/* --- modes --- */

static int
run_open(asoc_t *as)
{
	ok("rank %d opened", asoc_rank(as));
	return summary();
}

/* The daemon's mode and its process ranks (asoc_stat_ranks), one line
 * each: "mode M world W local_ranks N", then "rank R pid P sessions S". */
static int
run_stat(asoc_t *as)
{
	asoc_ranks_stat_t m;
	asoc_rank_stat_t *r = NULL;
	size_t n = 0, i;
	asoc_status_t st;

	if ((st = asoc_stat_ranks(as, &m, &r, &n)) != ASOC_OK)
		die(as, st, "asoc_stat_ranks");
	printf("mode %d world %d local_ranks %u\n", m.mode, m.world,
	    m.local_ranks);
	for (i = 0; i < n; i++)
		printf("rank %d pid %ld sessions %u incarnation %u\n",
		    r[i].rank, r[i].pid, r[i].sessions, r[i].incarnation);
	free(r);
	return 0;
}

static int
run_nodes(asoc_t *as)
{
	int world = asoc_world_size(as), *nodes = all_joined(as), p;

	printf("ok - rank %d: ranks on nodes", asoc_rank(as));
	for (p = 0; p < world; p++)
		printf(" %d", nodes[p]);
	printf("\n");
	npass++;
	free(nodes);
	return summary();
}

static int
run_hold(asoc_t *as)
{
	touch(opt_ready);
	while (opt_until != NULL && access(opt_until, F_OK) != 0)
		usleep(20000);
	ok("rank %d held until released", asoc_rank(as));
	return summary();
}

static int
run_pairs(asoc_t *as)
{
	size_t sizes[MAX_SIZES], off[MAX_SIZES + 1], n = 0, j;
	int world = asoc_world_size(as), me = asoc_rank(as), k, to, from;
	int *nodes, local = 0, remote = 0, bad = 0;
	asoc_req_t *sr[MAX_SIZES], *rr[MAX_SIZES];
	asoc_completion_t c;
	uint64_t sent = 0, got = 0;
	const char *s = opt_sizes;
	asoc_buf_t *b;
	uint8_t *base;
	char *end;
	asoc_status_t st;

	for (off[0] = 0; *s != '\0' && n < MAX_SIZES; n++) {
		sizes[n] = strtoull(s, &end, 0);
		s = *end == ',' ? end + 1 : end;
		off[n + 1] = off[n] + ((sizes[n] + 63) & ~(size_t)63);
	}
	nodes = all_joined(as);
	b = buffer(as, 2 * off[n]);
	base = asoc_buf_ptr(b);
	for (k = 1; k < world; k++) {
		to = (me + k) % world;
		from = (me - k + world) % world;
		for (j = 0; j < n; j++) {
			memset(base + off[n] + off[j], 0xee, sizes[j]);
			if ((st = asoc_irecv(as, b, off[n] + off[j], sizes[j],
			    from, 100 + j, &rr[j])) != ASOC_OK)
				die(as, st, "posting a receive from rank %d",
				    from);
			pattern(base + off[j], sizes[j], me, to, 100 + j, 0);
			if ((st = asoc_isend(as, b, off[j], sizes[j], to,
			    100 + j, &sr[j])) != ASOC_OK)
				die(as, st, "posting a send to rank %d", to);
		}
		for (j = 0; j < n; j++) {
			wait_ok(as, sr[j], &c, "send of size", (unsigned)sizes[j],
			    to);
			sent ^= xfer_sum(base + off[j], sizes[j]) +
			    ((uint64_t)me << 32 | (uint64_t)to << 8 | j);
		}
		for (j = 0; j < n; j++) {
			wait_ok(as, rr[j], &c, "receive of size",
			    (unsigned)sizes[j], from);
			if (c.len != sizes[j] || c.source != from ||
			    c.tag != 100 + j) {
				fail("rank %d: the receive of %zu bytes from rank "
				    "%d completed with %zu bytes from rank %d on "
				    "tag %" PRIu64, me, sizes[j], from, c.len,
				    c.source, c.tag);
				bad++;
				continue;
			}
			bad += verify(base + off[n] + off[j], sizes[j], from,
			    me, 100 + j, 0, "pairs");
			got ^= xfer_sum(base + off[n] + off[j], sizes[j]) +
			    ((uint64_t)from << 32 | (uint64_t)me << 8 | j);
		}
		if (nodes[from] == nodes[me])
			local++;
		else
			remote++;
	}
	/* test-ranks.sh xors these over all ranks: the two must agree. */
	printf("checksums sent %016" PRIx64 " received %016" PRIx64 "\n",
	    sent, got);
	if (bad == 0)
		ok("rank %d: %zu sizes from each of %d ranks (%d on this node, "
		    "%d on others) arrived intact", me, n, world - 1, local,
		    remote);
	asoc_buf_free(b);
	free(nodes);
	return summary();
}

static int
run_anysrc(asoc_t *as)
{
	int world = asoc_world_size(as), me = asoc_rank(as), i, bad = 0;
	size_t cap = 64 + (size_t)world;
	asoc_req_t **rr;
	asoc_completion_t c;
	asoc_buf_t *b;
	uint8_t *base;
	char *seen;
	asoc_status_t st;

	free(all_joined(as));
	if (me != opt_root) {
		b = buffer(as, cap);
		pattern(asoc_buf_ptr(b), 16 + (size_t)me, me, opt_root,
		    opt_tag, 0);
		if ((st = asoc_send(as, b, 0, 16 + (size_t)me, opt_root,
		    opt_tag)) != ASOC_OK)
			die(as, st, "send to rank %d", opt_root);
		/* Stay joined until the root has heard from everyone: a rank
		 * that left could no longer be waited for by the others'
		 * asoc_rank_nodes. */
		if ((st = asoc_recv(as, b, 0, cap, opt_root, opt_tag + 1,
		    &c)) != ASOC_OK)
			die(as, st, "the root's word that all have sent");
		ok("rank %d sent to rank %d", me, opt_root);
		return summary();
	}
	rr = calloc((size_t)world, sizeof *rr);
	seen = calloc((size_t)world, 1);
	if (rr == NULL || seen == NULL)
		exit(1);
	b = buffer(as, cap * (size_t)world);
	base = asoc_buf_ptr(b);
	for (i = 0; i < world - 1; i++)
		if ((st = asoc_irecv(as, b, cap * (size_t)i, cap,
		    ASOC_ANY_SOURCE, opt_tag, &rr[i])) != ASOC_OK)
			die(as, st, "posting receive %d", i);
	touch(opt_ready);
	for (i = 0; i < world - 1; i++) {
		struct stamp s = { 0, 0, 0, 0 };

		wait_ok(as, rr[i], &c, "any-source receive", (unsigned)i, -1);
		memcpy(&s, base + cap * (size_t)i, sizeof s);
		if (c.source < 0 || c.source >= world || c.source == me ||
		    seen[c.source] || c.len != 16 + (size_t)c.source ||
		    (int)s.src != c.source) {
			fail("any-source receive %d: names rank %d, %zu bytes, "
			    "the data says it is from rank %u%s", i, c.source,
			    c.len, s.src, c.source >= 0 && c.source < world &&
			    seen[c.source] ? " (a second time)" : "");
			bad++;
			continue;
		}
		seen[c.source] = 1;
		bad += verify(base + cap * (size_t)i, c.len, c.source, me,
		    opt_tag, 0, "anysrc");
	}
	for (i = 0; i < world; i++)
		if (i != me && (st = asoc_send(as, b, 0, 1, i, opt_tag + 1)) !=
		    ASOC_OK)
			die(as, st, "telling rank %d that all have sent", i);
	if (bad == 0)
		ok("rank %d: %d receives from any source, each named its "
		    "sender, every other rank once", me, world - 1);
	free(rr);
	free(seen);
	return summary();
}

/* Message i of the order test: mostly eager, every 7th rendezvous. */
static size_t
order_size(unsigned i)
{
	return i % 7 == 3 ? 65537 + i % 64 : 16 + i % 48;
}

/*
 * The order test's sender sends 2*count messages, k = 2i + t being
 * message i on tags[t]; its receiver posts 4*count receives, receive k
 * being (i, tag, source) = (k/4, tags[k/2%2], peers[k%2]).  Tag A names
 * the source; tag B takes any source, so it can only check that each
 * source's messages come in order (nxt[] per source).
 */
static void
order_post(asoc_t *as, int send, asoc_buf_t *b, size_t off, size_t cap,
    unsigned k, asoc_req_t **r)
{
	asoc_status_t st;
	int any;

	if (send) {
		pattern((uint8_t *)asoc_buf_ptr(b) + off, order_size(k / 2),
		    asoc_rank(as), opt_peer, opt_tags[k % 2], k / 2);
		st = asoc_isend(as, b, off, order_size(k / 2), opt_peer,
		    opt_tags[k % 2], r);
	} else {
		any = (k / 2) % 2;
		st = asoc_irecv(as, b, off, cap, any ? ASOC_ANY_SOURCE :
		    opt_peers[k % 2], opt_tags[any], r);
	}
	if (st != ASOC_OK)
		die(as, st, "posting %s %u", send ? "send" : "receive", k);
}

/* Receive k has landed in p: 0 if it is the message due, else 1. */
static int
order_check(const uint8_t *p, const asoc_completion_t *c, unsigned k,
    int me, unsigned nxt[2])
{
	int src, s;

	if ((k / 2) % 2 == 0) {
		/* named: message k/4 of that source */
		src = opt_peers[k % 2];
		if (c->source != src) {
			fail("receive %u from rank %d completed from rank %d",
			    k, src, c->source);
			return 1;
		}
		return verify(p, c->len, src, me, opt_tags[0], k / 4, "order");
	}
	s = c->source == opt_peers[0] ? 0 : c->source == opt_peers[1] ? 1 : -1;
	if (s < 0) {
		fail("any-source receive %u came from rank %d, not %d or %d",
		    k, c->source, opt_peers[0], opt_peers[1]);
		return 1;
	}
	return verify(p, c->len, c->source, me, opt_tags[1], nxt[s]++,
	    "order (any source)");
}

/* order-send and order-recv: --window requests in flight. */
static int
run_order(asoc_t *as, int send)
{
	unsigned w = opt_window, next = 0, done = 0;
	unsigned total = (send ? 2 : 4) * opt_count;
	unsigned nxt[2] = { 0, 0 }, bad = 0;
	size_t cap = order_size(3) + 64;
	int me = asoc_rank(as);
	asoc_req_t **r = calloc(w, sizeof *r);
	asoc_completion_t c;
	asoc_buf_t *b = buffer(as, cap * w);
	uint8_t *base = asoc_buf_ptr(b);

	if (r == NULL)
		exit(1);
	while (done < total) {
		while (next < total && next - done < w) {
			order_post(as, send, b, cap * (next % w), cap, next,
			    &r[next % w]);
			next++;
			if (!send && (next == w || next == total))
				touch(opt_ready);
		}
		if (send) {
			wait_ok(as, r[done % w], &c, "send", done / 2,
			    opt_peer);
		} else {
			wait_ok(as, r[done % w], &c, "receive", done, -1);
			bad += order_check(base + cap * (done % w), &c, done,
			    me, nxt);
			if (bad > 5)
				break;
		}
		done++;
	}
	if (send)
		ok("rank %d sent %u messages on each of tags %" PRIu64 " and %"
		    PRIu64 " to rank %d, interleaved", me, opt_count,
		    opt_tags[0], opt_tags[1], opt_peer);
	else if (bad == 0)
		ok("rank %d: %u messages from each of ranks %d and %d on tags "
		    "%" PRIu64 " (named source) and %" PRIu64 " (any source) "
		    "arrived in order, intact", me, 2 * opt_count, opt_peers[0],
		    opt_peers[1], opt_tags[0], opt_tags[1]);
	free(r);
	return summary();
}

/* send and recv: --count messages of --size, --window in flight. */
static int
run_stream(asoc_t *as, int send)
{
	unsigned w = opt_window, next = 0, done = 0, *nxt;
	int me = asoc_rank(as), world = asoc_world_size(as), bad = 0, src;
	size_t sz = opt_size;
	asoc_req_t **r = calloc(w, sizeof *r);
	asoc_completion_t c;
	asoc_buf_t *b = buffer(as, sz * w);
	uint8_t *base = asoc_buf_ptr(b);
	uint64_t sum = 0;
	asoc_status_t st;

	nxt = calloc(world > 0 ? (size_t)world : 1, sizeof *nxt);
	if (r == NULL || nxt == NULL)
		exit(1);
	while (done < opt_count) {
		while (next < opt_count && next - done < w) {
			uint8_t *p = base + sz * (next % w);

			if (send) {
				pattern(p, sz, me, opt_peer, opt_tag, next);
				st = asoc_isend(as, b, sz * (next % w), sz,
				    opt_peer, opt_tag, &r[next % w]);
			} else {
				memset(p, 0xee, sz);
				st = asoc_irecv(as, b, sz * (next % w), sz,
				    opt_peer, opt_tag, &r[next % w]);
			}
			if (st != ASOC_OK)
				die(as, st, "posting %s %u", send ? "send" :
				    "receive", next);
			next++;
		}
		if (done == 0 && opt_ready_after == 0)
			touch(opt_ready);
		wait_ok(as, r[done % w], &c, send ? "send" : "receive", done,
		    opt_peer);
		if (!send) {
			src = c.source;
			if (c.len != sz || src < 0 || src >= world ||
			    (opt_peer >= 0 && src != opt_peer)) {
				fail("receive %u: %zu bytes from rank %d", done,
				    c.len, src);
				bad++;
			} else
				bad += verify(base + sz * (done % w), sz, src,
				    me, opt_tag, nxt[src]++, "recv");
		}
		sum ^= xfer_sum(base + sz * (done % w), sz) + done;
		done++;
		if (opt_ready_after > 0 && done == opt_ready_after)
			touch(opt_ready);
	}
	printf("checksum %016" PRIx64 "\n", sum);
	if (bad == 0)
		ok("rank %d %s %u messages of %zu bytes %s rank %d%s", me,
		    send ? "sent" : "received", opt_count, sz, send ? "to" :
		    "from", opt_peer, send ? "" : ", intact");
	free(r);
	free(nxt);
	return summary();
}

/* --- the command line --- */

static int
set_rank(const char *arg)
{
	opt_status = strcmp(arg, "status") == 0;
	opt_rank = strcmp(arg, "node") == 0 ? ASOC_RANK_NODE :
	    opt_status ? ASOC_RANK_AUTO : atoi(arg);
	return 0;
}

static int set_two(const char *, int *, uint64_t *);

/* --to R, --from R|any, or --from S1,S2 (order-recv). */
static int
set_peer(const char *arg)
{
	if (strchr(arg, ',') != NULL)
		return set_two(arg, opt_peers, NULL);
	opt_peer = strcmp(arg, "any") == 0 ? ASOC_ANY_SOURCE : atoi(arg);
	return 0;
}

static int
set_two(const char *arg, int *ints, uint64_t *u64s)
{
	char *end;
	uint64_t a = strtoull(arg, &end, 0), b;

	if (*end != ',')
		return -1;
	b = strtoull(end + 1, &end, 0);
	if (*end != '\0')
		return -1;
	if (ints != NULL) {
		ints[0] = (int)a;
		ints[1] = (int)b;
	} else {
		u64s[0] = a;
		u64s[1] = b;
	}
	return 0;
}

static int
set_tags(const char *arg)
{
	return set_two(arg, NULL, opt_tags);
}

static int
set_root(const char *arg)
{
	opt_root = atoi(arg);
	return 0;
}

static void
usage(void)
{
	fprintf(stderr, "usage: " PROG " [--socket P] [--rank R|node|status --world P] "
	    "[--sessions N] [--timeout-ms MS] [--ready FILE] [--ready-after K] "
	    "[--tag T] [--deadline SECS] [--barrier 1] [--go FILE] MODE\n"
	    "  open | stat | hold --until FILE | nodes | pairs [--sizes LIST] [--layout "
	    "block|cyclic --nodes N] | anysrc --root R\n"
	    "  order-send --to R --count N --tags A,B | order-recv --from S1,S2 "
	    "--count N --tags A,B\n"
	    "  send --to R --size N [--count K] [--window W] | recv --from R|any "
	    "--size N [--count K] [--window W]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *mode;
	asoc_t *as;
	int rc;
	const struct topt opts[] = {
		{ "socket", TOPT_STR, &opt_socket, NULL },
		{ "rank", TOPT_CALL, NULL, set_rank },
		{ "world", TOPT_UINT, &opt_world, NULL },
		{ "sessions", TOPT_UINT, &opt_sessions, NULL },
		{ "timeout-ms", TOPT_UINT, &opt_timeout_ms, NULL },
		{ "ready", TOPT_STR, &opt_ready, NULL },
		{ "ready-after", TOPT_UINT, &opt_ready_after, NULL },
		{ "until", TOPT_STR, &opt_until, NULL },
		{ "sizes", TOPT_STR, &opt_sizes, NULL },
		{ "layout", TOPT_STR, &opt_layout, NULL },
		{ "nodes", TOPT_UINT, &opt_nodes, NULL },
		{ "root", TOPT_CALL, NULL, set_root },
		{ "to", TOPT_CALL, NULL, set_peer },
		{ "from", TOPT_CALL, NULL, set_peer },
		{ "tags", TOPT_CALL, NULL, set_tags },
		{ "tag", TOPT_U64, &opt_tag, NULL },
		{ "size", TOPT_U64, &opt_size, NULL },
		{ "count", TOPT_UINT, &opt_count, NULL },
		{ "window", TOPT_UINT, &opt_window, NULL },
		{ "deadline", TOPT_UINT, &opt_deadline, NULL },
		{ "barrier", TOPT_UINT, &opt_barrier, NULL },
		{ "go", TOPT_STR, &opt_go, NULL },
		{ NULL, 0, NULL, NULL }
	};

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (topt_parse(argc, argv, opts, usage) != argc - 1)
		usage();
	mode = argv[argc - 1];
	if (opt_sessions == 0 || opt_sessions > 16 || opt_window == 0 ||
	    opt_count == 0 || (opt_rank >= 0 && opt_world == 0))
		usage();
	alarm(opt_deadline);
	as = open_all();
	if (opt_barrier)
		free(all_joined(as));
	while (opt_go != NULL && access(opt_go, F_OK) != 0)
		usleep(20000);
	if (strcmp(mode, "open") == 0)
		rc = run_open(as);
	else if (strcmp(mode, "stat") == 0 && opt_status)
		rc = run_stat(as);
	else if (strcmp(mode, "hold") == 0)
		rc = run_hold(as);
	else if (strcmp(mode, "nodes") == 0)
		rc = run_nodes(as);
	else if (strcmp(mode, "pairs") == 0)
		rc = run_pairs(as);
	else if (strcmp(mode, "anysrc") == 0 && opt_root >= 0)
		rc = run_anysrc(as);
	else if (strcmp(mode, "order-send") == 0 && opt_peer >= 0)
		rc = run_order(as, 1);
	else if (strcmp(mode, "order-recv") == 0 && opt_peers[1] != NO_RANK)
		rc = run_order(as, 0);
	else if (strcmp(mode, "send") == 0 && opt_peer >= 0 && opt_size > 0)
		rc = run_stream(as, 1);
	else if (strcmp(mode, "recv") == 0 && opt_peer != NO_RANK &&
	    opt_size > 0)
		rc = run_stream(as, 0);
	else
		usage();
	asoc_close(as);
	while (nheld > 0)
		asoc_close(held[--nheld]);
	return rc;
}
