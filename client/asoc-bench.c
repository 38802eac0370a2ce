/*
 * asoc-bench: measures transfers between ranks and checks every byte that
 * lands.
 *
 * pair and self (bench-pair.c): rank 0 sends to each other rank in turn;
 * one node's asocd against memcpy.  bcast, bcast-naive, alltoall and ring
 * (bench-coll.c): every rank takes part in each iteration, timed by rank 0
 * from a barrier to the last rank's completion report.  --sweep runs the
 * pattern once per tensor size and ends with a summary line per size.
 */
#include "config.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asoc.h"
#include "bench.h"
#include "cli.h"

#define BENCH_SWEEP_MAX		64	/* sizes in one --sweep */
#define BENCH_MIB_MAX		(SIZE_MAX >> 40 ? 1u << 20 : 1024)
#define BENCH_BYTES_MAX		((uint64_t)BENCH_MIB_MAX << 20)

/* Long-only options. */
#define BENCH_OPT_SIZE		(CLI_LONG_ONLY + 0)
#define BENCH_OPT_SIZES		(CLI_LONG_ONLY + 1)
#define BENCH_OPT_WINDOW	(CLI_LONG_ONLY + 2)
#define BENCH_OPT_PER_NODE	(CLI_LONG_ONLY + 3)

static const struct {
	const char		*name;
	enum bench_pattern	 pattern;
} bench_patterns[] = {
	{ "pair", BENCH_PAIR },
	{ "self", BENCH_SELF },
	{ "bcast", BENCH_BCAST },
	{ "bcast-naive", BENCH_BCAST_NAIVE },
	{ "alltoall", BENCH_ALLTOALL },
	{ "ring", BENCH_RING },
};

static unsigned
bench_count(const char *opt, const char *arg, unsigned min, unsigned max)
{
	uint64_t v = cli_parse_tag(opt, arg);

	if (v < min || v > max)
		cli_die_usage("%s: %s is out of range (%u to %u)", opt, arg,
		    min, max);
	return (unsigned)v;
}

/*
 * A size in bytes ("8", "4K", "64K", "1M"): whole 64-bit words, because the
 * pattern is made of them and a tail byte would go unchecked.
 */
static uint64_t
bench_bytes(const char *opt, const char *arg)
{
	uint64_t v = cli_parse_size(opt, arg);

	if (v < 8 || v > BENCH_BYTES_MAX)
		cli_die_usage("%s: %s is out of range (8 bytes to %u MiB)", opt,
		    arg, BENCH_MIB_MAX);
	if (v % 8 != 0)
		cli_die_usage("%s: %s is not a multiple of 8 bytes (the data "
		    "pattern is made of 64-bit words)", opt, arg);
	return v;
}

/* "10,100,1000" in MiB (--sweep) or "8,4K,64K" in bytes (--sizes): the
 * sizes in bytes. */
static size_t
bench_size_list(const char *opt, const char *arg, int in_mib, uint64_t *out,
    size_t max)
{
	char *copy, *tok, *save = NULL;
	size_t n = 0;

	if ((copy = strdup(arg)) == NULL)
		cli_die("out of memory");
	for (tok = strtok_r(copy, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		if (n == max)
			cli_die_usage("%s: at most %zu sizes", opt, max);
		out[n++] = in_mib ? (uint64_t)bench_count(opt, tok, 1,
		    BENCH_MIB_MAX) << 20 : bench_bytes(opt, tok);
	}
	free(copy);
	if (n == 0)
		cli_die_usage(in_mib ? "%s: give sizes in MiB, such as "
		    "10,100,1000" : "%s: give sizes in bytes, such as 8,4K,64K",
		    opt);
	return n;
}

static enum bench_pattern
bench_pattern_parse(const char *arg)
{
	size_t i;

	for (i = 0; i < sizeof bench_patterns / sizeof bench_patterns[0];
	    i++) {
		if (strcmp(arg, bench_patterns[i].name) == 0)
			return bench_patterns[i].pattern;
	}
	cli_die_usage("--pattern is pair, self, bcast, bcast-naive, alltoall "
	    "or ring, not '%s'", arg);
}

/*
 * --per-node-bytes: the alltoall message is the size over K^2 (K ranks
 * on each node), so that each pair of nodes still moves the size per
 * iteration, split among K x K pairs of ranks; whole 64-bit words.
 */
static uint64_t
bench_per_node(const struct bench_map *m, uint64_t size)
{
	uint64_t k2 = (uint64_t)m->kmax * (uint64_t)m->kmax, s;

	if (m->kmin != m->kmax)
		cli_die("--per-node-bytes needs the same number of ranks on "
		    "every node, and these have %d to %d: run as many tasks on "
		    "each (srun --ntasks-per-node=K)", m->kmin, m->kmax);
	s = size / k2 / 8 * 8;
	if (s < 8)
		cli_die("--per-node-bytes: %" PRIu64 " bytes over %d x %d "
		    "ranks per pair of nodes leaves less than 8 bytes a "
		    "message: give a larger size", size, m->kmax, m->kmax);
	return s;
}

static int
bench_run(asoc_t *as, const struct bench_opts *given,
    struct bench_result *res)
{
	struct bench_opts run = *given, *o = &run;
	char a[32], b[32];

	memset(res, 0, sizeof *res);
	if (o->per_node_bytes) {
		o->size = bench_per_node(o->map, given->size);
		if (!o->json && asoc_rank(as) == 0 && o->size != given->size)
			printf("per-node bytes: %s between each pair of nodes, "
			    "%d x %d ranks: messages of %s\n", cli_fmt_bytes(
			    given->size, a, sizeof a), o->map->kmax,
			    o->map->kmax, cli_fmt_bytes(o->size, b, sizeof b));
	}
	res->overhead_pct = NAN;
	if (o->pattern == BENCH_SELF)
		return bench_self(as, o, res);
	if (asoc_world_size(as) < 2) {
		cli_warn("no peers connected: asoc-bench %s needs at least "
		    "two ranks (start asocd with --peers)",
		    bench_pattern_name(o->pattern));
		return 2;
	}
	if (o->pattern != BENCH_PAIR)
		return bench_coll(as, o, res);
	if (asoc_rank(as) == 0)
		return bench_pair_send(as, o, res);
	return bench_pair_recv(as, o);
}

/* After a sweep, rank 0 prints one line per size. */
static void
bench_sweep_report(const struct bench_opts *o, const struct bench_result *r,
    size_t n)
{
	char sz[32], ov[16], pm[48];
	size_t i;

	for (i = 0; i < n; i++) {
		/* Small messages are counted per message, not in Gbit/s. */
		pm[0] = '\0';
		if (r[i].size < BENCH_SMALL && r[i].msgs > 0)
			snprintf(pm, sizeof pm, "  %.1f us/msg",
			    r[i].seconds / (double)r[i].msgs * 1e6);
		if (isnan(r[i].overhead_pct))
			snprintf(ov, sizeof ov, "-");
		else
			snprintf(ov, sizeof ov, "%+.0f%%", r[i].overhead_pct);
		printf("sweep %s  %s  avg %.4f s  aggregate %.2f Gbit/s  per "
		    "receiver %.2f Gbit/s  per node %.2f Gbit/s%s  overhead %s  "
		    "verified %d of %d\n", bench_pattern_name(o->pattern),
		    cli_fmt_bytes(r[i].size, sz, sizeof sz), r[i].seconds,
		    r[i].agg_gbps, r[i].peer_gbps, r[i].node_gbps, pm, ov,
		    r[i].verified, r[i].receivers);
	}
}

struct bench_args {
	struct bench_opts	 o;
	uint64_t		 sizes[BENCH_SWEEP_MAX];	/* bytes */
	size_t			 nsizes;
	const char		*one_size;	/* --size-mb or --size */
	const char		*size_list;	/* --sweep or --sizes */
};

static const struct cli_opt bench_opts[] = {
	{ "size-mb", 'm', "N", "tensor size in MiB (default 64)" },
	{ "tensor-size-mb", 'm', "N", NULL },
	{ "size", BENCH_OPT_SIZE, "SIZE", "message size in bytes: 8, 4K, 64K, "
	    "1M (in place of --size-mb)" },
	{ "sweep", 's', "N,N,...", "one run per tensor size in MiB, then a "
	    "summary" },
	{ "sizes", BENCH_OPT_SIZES, "SIZE,...", "likewise, sizes in bytes: "
	    "8,4K,64K,1M" },
	{ "window", BENCH_OPT_WINDOW, "N", "messages in flight per pair, 1 to "
	    "1024 (default 1; not bcast)" },
	{ "iterations", 'i', "N", "timed iterations (default 5)" },
	{ "warmup", 'w', "N", "untimed iterations first (default 1)" },
	{ "pattern", 'p', "pair|self|bcast|bcast-naive|alltoall|ring",
	    "what moves where (default pair)" },
	{ "per-node-bytes", BENCH_OPT_PER_NODE, NULL, "alltoall: messages of "
	    "the size / K^2 (K ranks per node), so that each pair of nodes "
	    "moves the size" },
	{ "json", 'j', NULL, "one JSON line per run" },
	{ NULL, 0, NULL, NULL }
};

/* --size-mb and --size (or --sweep and --sizes) say the same thing in two
 * units: one of each pair only, so that no command line is ambiguous. */
static void
bench_once(const char **seen, const char *opt)
{
	if (*seen != NULL && strcmp(*seen, opt) != 0)
		cli_die_usage("%s and %s both give the size: use one (--size "
		    "and --sizes take bytes, such as 64K; --size-mb and --sweep "
		    "take MiB)", *seen, opt);
	*seen = opt;
}

static void
bench_take(void *ctx, int key, const char *arg)
{
	struct bench_args *a = ctx;

	switch (key) {
	case 'i':
		a->o.iters = bench_count("--iterations", arg, 1,
		    BENCH_ITER_MAX);
		break;
	case 'j':
		a->o.json = 1;
		break;
	case 'm':
		bench_once(&a->one_size, "--size-mb");
		a->o.size = (uint64_t)bench_count("--size-mb", arg, 1,
		    BENCH_MIB_MAX) << 20;
		break;
	case BENCH_OPT_SIZE:
		bench_once(&a->one_size, "--size");
		a->o.size = bench_bytes("--size", arg);
		break;
	case BENCH_OPT_SIZES:
		bench_once(&a->size_list, "--sizes");
		a->nsizes = bench_size_list("--sizes", arg, 0, a->sizes,
		    BENCH_SWEEP_MAX);
		break;
	case BENCH_OPT_PER_NODE:
		a->o.per_node_bytes = 1;
		break;
	case BENCH_OPT_WINDOW:
		a->o.window = bench_count("--window", arg, 1, BENCH_WINDOW_MAX);
		break;
	case 'p':
		a->o.pattern = bench_pattern_parse(arg);
		break;
	case 's':
		bench_once(&a->size_list, "--sweep");
		a->nsizes = bench_size_list("--sweep", arg, 1, a->sizes,
		    BENCH_SWEEP_MAX);
		break;
	case 'w':
		a->o.warmup = bench_count("--warmup", arg, 0, BENCH_ITER_MAX);
		break;
	}
}

static const struct cli_tool bench_tool = {
	.name = "asoc-bench",
	.about = "Measures transfers between ranks and checks every byte "
	    "that lands.",
	.common = CLI_COMMON_SOCKET | CLI_COMMON_RANKS,
	.opts = bench_opts,
	.take = bench_take,
};

/* Runs the pattern once per size; 0 when every run verified its data. */
static int
bench_sizes(asoc_t *as, struct bench_args *a, struct bench_result *res)
{
	size_t i;
	int rc = 0, r;

	for (i = 0; i < a->nsizes; i++) {
		a->o.size = a->sizes[i];
		r = bench_run(as, &a->o, &res[i]);
		rc |= r != 0;
		fflush(stdout);
		/* A run that broke off leaves the ranks out of step. */
		if (r == 2) {
			a->nsizes = i + 1;
			break;
		}
	}
	return rc;
}

int
main(int argc, char **argv)
{
	struct cli_common com = { .socket = NULL };
	struct bench_args a = { .o = { .size = 64 << 20, .iters = 5,
	    .warmup = 1, .window = 1 } };
	struct bench_result res[BENCH_SWEEP_MAX];
	struct bench_map map = { .node = NULL };
	int first = cli_parse(&bench_tool, &com, &a, argc, argv), rc;
	asoc_t *as;

	if (first < argc)
		cli_die_usage("unexpected argument '%s'", argv[first]);
	/* asoc_bcast is one call that pipelines its own pieces. */
	if (a.o.window > 1 && a.o.pattern == BENCH_BCAST)
		cli_die_usage("--window does not apply to --pattern bcast "
		    "(asoc_bcast is one call that pipelines its own pieces): "
		    "use bcast-naive, pair, alltoall, ring or self");
	if (a.nsizes == 0)
		a.sizes[a.nsizes++] = a.o.size;
	a.o.sock = com.socket;

	if (a.o.per_node_bytes && a.o.pattern != BENCH_ALLTOALL)
		cli_die_usage("--per-node-bytes applies to --pattern alltoall "
		    "only");

	/* Process rank N of P (--rank, ASOC_PROC_*, SLURM's task in an
	 * srun step) or the asocd's node rank: libasoc decides. */
	as = cli_open_common(&com);
	if (a.o.pattern != BENCH_SELF) {
		bench_map_init(as, &map);
		a.o.map = &map;
	}
	rc = bench_sizes(as, &a, res);
	if (a.nsizes > 1 && !a.o.json && asoc_rank(as) == 0)
		bench_sweep_report(&a.o, res, a.nsizes);
	bench_map_free(&map);
	asoc_close(as);
	cli_flush_stdout();
	return rc != 0 ? CLI_EXIT_FAILED : CLI_EXIT_OK;
}
