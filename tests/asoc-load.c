/*
 * asoc-load: many clients on several daemons, each streaming messages of
 * random sizes to a partner and checking every message it receives.
 *
 *   asoc-load --socket S0 --socket S1 ... [--clients 64] [--count 100]
 *             [--max-size BYTES] [--window W] [--seed N]
 *             [--fault dup|skip|swap|corrupt]
 *
 * Client i (a process of its own) talks to daemon i % ndaemons.  A
 * seeded random permutation, with no fixed point, names the client each
 * one sends to, so about one pair in ndaemons is on the same node.  Client
 * i sends --count messages with tag i; its partner receives them with a
 * receive from i's rank on tag i, so each (source rank, tag) stream is one
 * sender's.  The length and every byte of message k of client i are a
 * function of (seed, i, k); messages of 32 bytes or more start with a
 * header (magic, sender, sequence, length, checksum), so the receiver can
 * tell a lost message (a later sequence number arrives), a duplicate (one
 * that already came), a reordering (an earlier one that had not) and
 * corruption (the bytes differ from what they must be).
 * After the last message every receiver waits a second for one more, which
 * would be a duplicate.  The parent prints one line:
 *
 *   load: 6400 transfers, 4.9 GiB, 0 lost, 0 duplicated, 0 reordered,
 *   0 corrupt, 10.3 s
 *
 * and exits 0 only when every message arrived once, intact, and every
 * operation succeeded.  --fault makes client 0 send wrong messages on
 * purpose (see load_fault_seq), so a test can see that the checks work.
 */
#include "config.h"

#include <sys/wait.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "asoc.h"
#include "tool-opts.h"
#include "xfer-sum.h"

#define LOAD_MAX_DAEMONS	16
#define LOAD_MAX_CLIENTS	1024
#define LOAD_MAX_WINDOW		8
#define LOAD_MAGIC		0x64616f6c636f7361ull	/* "asocload" */
#define LOAD_HDR		32

struct load_hdr {
	uint64_t magic;
	uint32_t sender, seq;
	uint64_t len;
	uint64_t sum;		/* of the bytes after the header */
};

/* What a client reports to the parent, through a pipe. */
struct load_result {
	uint64_t sent, received, bytes;
	uint64_t lost, duplicated, reordered, corrupt, failed;
};

static const char *opt_sockets[LOAD_MAX_DAEMONS];
static unsigned opt_ndaemons;
static unsigned opt_clients = 64, opt_count = 100, opt_window = 2;
static uint64_t opt_max = 3u << 20, opt_seed = 1;
static enum {
	FAULT_NONE, FAULT_DUP, FAULT_SKIP, FAULT_SWAP, FAULT_CORRUPT
} opt_fault;
static unsigned fault_at;
static unsigned dest[LOAD_MAX_CLIENTS], src[LOAD_MAX_CLIENTS];

static uint64_t
load_mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

/* Sizes: some empty, many small, half of them large (up to opt_max). */
static uint64_t
load_len(unsigned sender, unsigned seq)
{
	uint64_t r = load_mix(opt_seed ^ ((uint64_t)sender << 32) ^ seq ^
	    0x5bd1e995ull);
	unsigned kind = (unsigned)(r % 100);

	r >>= 8;
	if (kind < 3)
		return 0;
	if (kind < 15)
		return r % LOAD_HDR;
	if (kind < 50)
		return r % 65536;
	return r % (opt_max + 1);
}

/* Message seq of sender, whole, into p (load_len bytes). */
static void
load_fill(uint8_t *p, unsigned sender, unsigned seq)
{
	uint64_t n = load_len(sender, seq), i, x;
	struct load_hdr h;

	x = load_mix(opt_seed * 0x9e3779b97f4a7c15ull ^
	    ((uint64_t)sender << 40) ^ seq) | 1;
	for (i = 0; i + 8 <= n; i += 8) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		memcpy(p + i, &x, 8);
	}
	for (; i < n; i++, x >>= 8)
		p[i] = (uint8_t)x;
	if (n < LOAD_HDR)
		return;
	h.magic = LOAD_MAGIC;
	h.sender = sender;
	h.seq = seq;
	h.len = n;
	h.sum = xfer_sum(p + LOAD_HDR, n - LOAD_HDR);
	memcpy(p, &h, sizeof h);
}

static double
load_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
load_warn(unsigned me, const char *what, asoc_t *as, asoc_status_t st)
{
	fprintf(stderr, "asoc-load: client %u: %s: %s (%s)\n", me, what,
	    asoc_strerror(st), as != NULL ? asoc_last_error(as) : "");
}

/*
 * One received message of `got` bytes, which should be message *next of
 * sender.  Classifies it and moves *next on.
 */
static void
load_check(struct load_result *res, unsigned me, unsigned sender,
    const uint8_t *p, uint64_t got, unsigned *next, uint8_t *want,
    uint8_t *seen)
{
	struct load_hdr h;
	uint64_t n = load_len(sender, *next);

	if (got >= LOAD_HDR) {
		memcpy(&h, p, sizeof h);
		if (h.magic != LOAD_MAGIC || h.sender != sender ||
		    h.len != got || h.seq >= opt_count ||
		    h.sum != xfer_sum(p + LOAD_HDR, got - LOAD_HDR) ||
		    got != load_len(sender, h.seq)) {
			fprintf(stderr, "asoc-load: client %u: message %u "
			    "from client %u (%" PRIu64 " bytes) is corrupt\n",
			    me, *next, sender, got);
			res->corrupt++;
			(*next)++;
			return;
		}
		if (h.seq < *next && seen[h.seq]) {
			fprintf(stderr, "asoc-load: client %u: message %u "
			    "from client %u came again (expected %u)\n", me,
			    h.seq, sender, *next);
			res->duplicated++;
			return;
		}
		if (h.seq < *next) {
			/* Counted as lost when a later one overtook it. */
			fprintf(stderr, "asoc-load: client %u: message %u "
			    "from client %u came after a later one\n", me,
			    h.seq, sender);
			res->reordered++;
			res->lost--;
			seen[h.seq] = 1;
			return;
		}
		if (h.seq > *next) {
			fprintf(stderr, "asoc-load: client %u: messages %u-%u "
			    "from client %u are missing\n", me, *next,
			    h.seq - 1, sender);
			res->lost += h.seq - *next;
			*next = h.seq;
		}
	} else if (got != n) {
		fprintf(stderr, "asoc-load: client %u: message %u from client "
		    "%u has %" PRIu64 " bytes, expected %" PRIu64 "\n", me,
		    *next, sender, got, n);
		res->corrupt++;
		(*next)++;
		return;
	}
	/* Every byte, header included, must be what the sender wrote. */
	load_fill(want, sender, *next);
	if (memcmp(p, want, got) != 0) {
		fprintf(stderr, "asoc-load: client %u: message %u from client "
		    "%u differs from what was sent\n", me, *next, sender);
		res->corrupt++;
	} else {
		res->received++;
		res->bytes += got;
	}
	seen[*next] = 1;
	(*next)++;
}

/*
 * --fault: client 0 misbehaves on purpose, to show the checks catch it,
 * at message fault_at (the first from 5 on that, with its neighbours, is
 * long enough for a header): dup sends the message before it again in its
 * place, skip leaves it out (every later one moves up), swap sends it
 * after the next one, corrupt flips a bit of it.
 */
static unsigned
load_fault_seq(unsigned me, unsigned k)
{
	if (me != 0 || k < fault_at)
		return k;
	if (opt_fault == FAULT_DUP && k == fault_at)
		return k - 1;
	if (opt_fault == FAULT_SKIP)
		return k + 1;
	if (opt_fault == FAULT_SWAP && k == fault_at)
		return k + 1;
	if (opt_fault == FAULT_SWAP && k == fault_at + 1)
		return k - 1;
	return k;
}

static int
load_client(unsigned me, int out)
{
	asoc_buf_t *sb[LOAD_MAX_WINDOW], *rb[LOAD_MAX_WINDOW];
	asoc_req_t *sr[LOAD_MAX_WINDOW] = { NULL }, *rr[LOAD_MAX_WINDOW] = {
	    NULL };
	unsigned to = dest[me], from = src[me], w = opt_window;
	unsigned posted_s = 0, posted_r = 0, done_s = 0, done_r = 0, next = 0;
	int to_rank = (int)(to % opt_ndaemons), from_rank;
	struct load_result res;
	asoc_completion_t c;
	asoc_status_t st;
	size_t cap = (size_t)opt_max + 1;
	uint8_t *want = NULL, *seen = NULL;
	asoc_t *as;
	unsigned i;

	memset(&res, 0, sizeof res);
	from_rank = (int)(from % opt_ndaemons);
	if ((st = asoc_open(opt_sockets[me % opt_ndaemons], &as)) != ASOC_OK) {
		load_warn(me, "open", as, st);
		res.failed++;
		goto report;
	}
	for (i = 0; i < w; i++) {
		if ((st = asoc_buf_alloc(as, cap, &sb[i])) != ASOC_OK ||
		    (st = asoc_buf_alloc(as, cap, &rb[i])) != ASOC_OK) {
			load_warn(me, "buffer", as, st);
			res.failed++;
			goto report;
		}
	}
	if ((want = malloc(cap)) == NULL ||
	    (seen = calloc(opt_count, 1)) == NULL) {
		fprintf(stderr, "asoc-load: client %u: out of memory\n", me);
		res.failed++;
		goto report;
	}
	/* A window of w sends and w receives in flight, each slot reused
	 * once its request completed: slot k % w carries message k.  The
	 * oldest of each side is waited for; later ones keep their result
	 * in libasoc until their turn. */
	while (done_s < opt_count || done_r < opt_count) {
		asoc_req_t *any[2];
		size_t k = 0;

		while (posted_r < opt_count && posted_r - done_r < w) {
			st = asoc_irecv(as, rb[posted_r % w], 0, cap,
			    from_rank, from, &rr[posted_r % w]);
			if (st != ASOC_OK)
				goto fail;
			posted_r++;
		}
		while (posted_s < opt_count && posted_s - done_s < w) {
			unsigned seq = load_fault_seq(me, posted_s);
			uint8_t *p = asoc_buf_ptr(sb[posted_s % w]);

			load_fill(p, me, seq);
			if (opt_fault == FAULT_CORRUPT && me == 0 &&
			    posted_s == fault_at)
				p[load_len(me, seq) - 1] ^= 1;
			st = asoc_isend(as, sb[posted_s % w], 0,
			    (size_t)load_len(me, seq), to_rank, me,
			    &sr[posted_s % w]);
			if (st != ASOC_OK)
				goto fail;
			posted_s++;
		}
		any[0] = done_r < posted_r ? rr[done_r % w] : NULL;
		any[1] = done_s < posted_s ? sr[done_s % w] : NULL;
		st = asoc_waitany(any, 2, &k, &c);
		if (k == 0) {
			rr[done_r % w] = NULL;
			if (st != ASOC_OK)
				goto fail;
			load_check(&res, me, from, asoc_buf_ptr(rb[done_r % w]),
			    c.len, &next, want, seen);
			done_r++;
		} else {
			sr[done_s % w] = NULL;
			if (st != ASOC_OK)
				goto fail;
			res.sent++;
			done_s++;
		}
	}
	if (next < opt_count) {
		fprintf(stderr, "asoc-load: client %u: messages %u-%u from "
		    "client %u never came\n", me, next, opt_count - 1, from);
		res.lost += opt_count - next;
	}
	/* Anything more on the stream is a duplicate. */
	asoc_set_timeout(as, 1000);
	st = asoc_recv(as, rb[0], 0, cap, from_rank, from, &c);
	if (st == ASOC_OK) {
		fprintf(stderr, "asoc-load: client %u: a message after the "
		    "last one from client %u (%zu bytes)\n", me, from, c.len);
		res.duplicated++;
	} else if (st != ASOC_ETIMEDOUT) {
		load_warn(me, "the receive after the last", as, st);
		res.failed++;
	}
	free(want);
	free(seen);
	asoc_close(as);
	goto report;
fail:
	load_warn(me, "transfer", as, st);
	res.failed++;
	free(want);
	free(seen);
	asoc_close(as);
report:
	if (write(out, &res, sizeof res) != (ssize_t)sizeof res)
		return 1;
	return res.failed || res.lost || res.duplicated || res.reordered ||
	    res.corrupt;
}

/* A random permutation without fixed points: who sends to whom. */
static void
load_pairs(void)
{
	uint64_t r = opt_seed;
	unsigned i, j, t;

	for (i = 0; i < opt_clients; i++)
		dest[i] = i;
	/* Sattolo's shuffle: one cycle through all, so nobody is its own
	 * partner. */
	for (i = opt_clients - 1; i > 0; i--) {
		r = load_mix(r + i);
		j = (unsigned)(r % i);
		t = dest[i];
		dest[i] = dest[j];
		dest[j] = t;
	}
	for (i = 0; i < opt_clients; i++)
		src[dest[i]] = i;
}

static void
load_usage(void)
{
	fprintf(stderr, "usage: asoc-load --socket PATH [--socket PATH...] "
	    "[--clients N] [--count K] [--max-size BYTES] [--window W] "
	    "[--seed S] [--fault dup|skip|swap|corrupt]\n");
	exit(2);
}

/* --socket, once per daemon. */
static int
add_socket(const char *arg)
{
	if (opt_ndaemons == LOAD_MAX_DAEMONS)
		return -1;
	opt_sockets[opt_ndaemons++] = arg;
	return 0;
}

/* --fault: the one mistake the checker must catch. */
static int
set_fault(const char *arg)
{
	static const char *const names[] = { "dup", "skip", "swap",
	    "corrupt" };
	static const int faults[] = { FAULT_DUP, FAULT_SKIP, FAULT_SWAP,
	    FAULT_CORRUPT };
	size_t i;

	for (i = 0; i < sizeof names / sizeof names[0]; i++) {
		if (strcmp(arg, names[i]) == 0) {
			opt_fault = faults[i];
			return 0;
		}
	}
	return -1;
}

int
main(int argc, char **argv)
{
	static const struct topt opts[] = {
		{ "socket", TOPT_CALL, NULL, add_socket },
		{ "clients", TOPT_UINT, &opt_clients, NULL },
		{ "count", TOPT_UINT, &opt_count, NULL },
		{ "max-size", TOPT_U64, &opt_max, NULL },
		{ "window", TOPT_UINT, &opt_window, NULL },
		{ "seed", TOPT_U64, &opt_seed, NULL },
		{ "fault", TOPT_CALL, NULL, set_fault },
		{ NULL, 0, NULL, NULL }
	};
	struct load_result sum, res;
	int fds[2], status, bad = 0;
	unsigned i, same = 0;
	double t0, secs;
	pid_t pid;

	if (topt_parse(argc, argv, opts, load_usage) != argc)
		load_usage();
	if (opt_ndaemons == 0 || opt_clients < 2 ||
	    opt_clients > LOAD_MAX_CLIENTS || opt_window == 0 ||
	    opt_window > LOAD_MAX_WINDOW || opt_max < LOAD_HDR)
		load_usage();
	load_pairs();
	for (fault_at = 5; opt_fault != FAULT_NONE; fault_at++)
		if (load_len(0, fault_at - 1) >= LOAD_HDR &&
		    load_len(0, fault_at) >= LOAD_HDR &&
		    load_len(0, fault_at + 1) >= LOAD_HDR)
			break;
	if (opt_fault != FAULT_NONE && fault_at + 1 >= opt_count) {
		fprintf(stderr, "asoc-load: --fault needs a longer --count\n");
		return 2;
	}
	for (i = 0; i < opt_clients; i++)
		same += i % opt_ndaemons == dest[i] % opt_ndaemons;
	printf("load: %u clients on %u daemons, %u messages each, up to %"
	    PRIu64 " bytes, seed %" PRIu64 ", %u pairs on one node\n",
	    opt_clients, opt_ndaemons, opt_count, opt_max, opt_seed, same);
	fflush(stdout);
	if (pipe(fds) < 0) {
		perror("asoc-load: pipe");
		return 1;
	}
	t0 = load_now();
	for (i = 0; i < opt_clients; i++) {
		if ((pid = fork()) < 0) {
			perror("asoc-load: fork");
			return 1;	/* the children fail on their own */
		}
		if (pid == 0) {
			close(fds[0]);
			_exit(load_client(i, fds[1]));
		}
	}
	close(fds[1]);
	memset(&sum, 0, sizeof sum);
	for (i = 0; i < opt_clients; i++) {
		ssize_t n;

		do
			n = read(fds[0], &res, sizeof res);
		while (n < 0 && errno == EINTR);
		if (n != (ssize_t)sizeof res)
			break;		/* a client died without reporting */
		sum.sent += res.sent;
		sum.received += res.received;
		sum.bytes += res.bytes;
		sum.lost += res.lost;
		sum.duplicated += res.duplicated;
		sum.reordered += res.reordered;
		sum.corrupt += res.corrupt;
		sum.failed += res.failed;
	}
	if (i < opt_clients) {
		fprintf(stderr, "asoc-load: %u of %u clients never reported\n",
		    opt_clients - i, opt_clients);
		sum.failed += opt_clients - i;
		sum.lost += (uint64_t)(opt_clients - i) * opt_count;
	}
	while ((pid = wait(&status)) > 0)
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			bad++;
	secs = load_now() - t0;
	printf("load: %" PRIu64 " transfers, %.1f GiB, %" PRIu64 " lost, %"
	    PRIu64 " duplicated, %" PRIu64 " reordered, %" PRIu64 " corrupt, "
	    "%.1f s\n", sum.received, (double)sum.bytes / (1024.0 * 1024 *
	    1024), sum.lost, sum.duplicated, sum.reordered, sum.corrupt, secs);
	if (sum.failed > 0 || bad > 0)
		printf("load: %" PRIu64 " operations failed, %d clients "
		    "failed\n", sum.failed, bad);
	if (sum.received != (uint64_t)opt_clients * opt_count ||
	    sum.sent != sum.received || sum.lost || sum.duplicated ||
	    sum.reordered || sum.corrupt || sum.failed || bad)
		return 1;
	return 0;
}
