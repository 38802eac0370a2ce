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
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asoc.h"
#include "bench.h"
#include "cli.h"
#include "proto.h"	/* PROTO_RANK_MAX */

#define BENCH_SWEEP_MAX		64	/* sizes in one --sweep */
#define BENCH_MIB_MAX		(SIZE_MAX >> 40 ? 1u << 20 : 1024)

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

/* "10,100,1000": sizes in MiB, each as --size-mb takes it. */
static size_t
bench_sweep(const char *arg, uint64_t *mib, size_t max)
{
	char *copy, *tok, *save = NULL;
	size_t n = 0;

	if ((copy = strdup(arg)) == NULL)
		cli_die("out of memory");
	for (tok = strtok_r(copy, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		if (n == max)
			cli_die_usage("--sweep: at most %zu sizes", max);
		mib[n++] = bench_count("--sweep", tok, 1, BENCH_MIB_MAX);
	}
	free(copy);
	if (n == 0)
		cli_die_usage("--sweep: give sizes in MiB, such as 10,100,1000");
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
 * The rank and world this task is meant to be: the options, else SLURM's
 * task numbers, else the daemon's.  They must be the daemon's: asoc-bench
 * runs one task per node, and a rank is a node.  self runs in one process
 * and follows only the options.
 */
static void
bench_check_rank(asoc_t *as, enum bench_pattern pattern, int rank, int world)
{
	const char *from = "--rank and --world-size", *pid, *ntasks;

	if (rank < 0 && world < 0 && pattern != BENCH_SELF &&
	    (pid = getenv("SLURM_PROCID")) != NULL && *pid != '\0' &&
	    (ntasks = getenv("SLURM_NTASKS")) != NULL && *ntasks != '\0') {
		rank = cli_parse_rank("SLURM_PROCID", pid);
		world = (int)bench_count("SLURM_NTASKS", ntasks, 1,
		    PROTO_RANK_MAX);
		from = "SLURM_PROCID and SLURM_NTASKS";
	}
	if (rank < 0)
		rank = asoc_rank(as);
	if (world < 0)
		world = asoc_world_size(as);
	if (rank == asoc_rank(as) && world == asoc_world_size(as))
		return;
	cli_die("this task is rank %d of %d (from %s), but its asocd (%s) is "
	    "rank %d of %d: run asoc-bench once on every node of the daemons' "
	    "job, one task per node (under SLURM: srun --ntasks-per-node=1)",
	    rank, world, from, asoc_socket_path(as), asoc_rank(as),
	    asoc_world_size(as));
}

static int
bench_run(asoc_t *as, const struct bench_opts *o, struct bench_result *res)
{
	memset(res, 0, sizeof *res);
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
	char sz[32], ov[16];
	size_t i;

	for (i = 0; i < n; i++) {
		if (isnan(r[i].overhead_pct))
			snprintf(ov, sizeof ov, "-");
		else
			snprintf(ov, sizeof ov, "%+.0f%%", r[i].overhead_pct);
		printf("sweep %s  %s  avg %.4f s  aggregate %.2f Gbit/s  per "
		    "receiver %.2f Gbit/s  overhead %s  verified %d of %d\n",
		    bench_pattern_name(o->pattern), cli_fmt_bytes(r[i].size, sz,
		    sizeof sz), r[i].seconds, r[i].agg_gbps, r[i].peer_gbps, ov,
		    r[i].verified, r[i].receivers);
	}
}

static void
bench_usage(void)
{
	printf("usage: asoc-bench [--socket PATH] [--size-mb N | --sweep "
	    "N,N,...] [--iterations N]\n\t\t  [--warmup N] [--pattern "
	    "pair|self|bcast|bcast-naive|alltoall|ring]\n\t\t  [--rank N] "
	    "[--world-size N] [--json]\n");
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "iterations", required_argument, NULL, 'i' },
		{ "json", no_argument, NULL, 'j' },
		{ "pattern", required_argument, NULL, 'p' },
		{ "rank", required_argument, NULL, 'r' },
		{ "size-mb", required_argument, NULL, 'm' },
		{ "socket", required_argument, NULL, 'S' },
		{ "sweep", required_argument, NULL, 's' },
		{ "tensor-size-mb", required_argument, NULL, 'm' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "world-size", required_argument, NULL, 'W' },
		{ NULL, 0, NULL, 0 }
	};
	struct bench_opts o = { .size = 64, .iters = 5, .warmup = 1 };
	struct bench_result res[BENCH_SWEEP_MAX];
	uint64_t mib[BENCH_SWEEP_MAX];
	size_t nsizes = 0, i;
	int ch, rc = 0, r, rank = -1, world = -1;
	asoc_t *as;

	cli_init("asoc-bench");
	while ((ch = getopt_long(argc, argv, "hi:jm:p:r:S:s:w:W:", opts,
	    NULL)) != -1) {
		switch (ch) {
		case 'h':
			bench_usage();
			return 0;
		case 'i':
			o.iters = bench_count("--iterations", optarg, 1,
			    BENCH_ITER_MAX);
			break;
		case 'j':
			o.json = 1;
			break;
		case 'm':
			/* Whole MiB keep the pattern's words aligned. */
			o.size = bench_count("--size-mb", optarg, 1,
			    BENCH_MIB_MAX);
			break;
		case 'p':
			o.pattern = bench_pattern_parse(optarg);
			break;
		case 'r':
			rank = cli_parse_rank("--rank", optarg);
			break;
		case 'S':
			o.sock = optarg;
			break;
		case 's':
			nsizes = bench_sweep(optarg, mib, BENCH_SWEEP_MAX);
			break;
		case 'w':
			o.warmup = bench_count("--warmup", optarg, 0,
			    BENCH_ITER_MAX);
			break;
		case 'W':
			world = (int)bench_count("--world-size", optarg, 1,
			    PROTO_RANK_MAX);
			break;
		default:
			fprintf(stderr, "try 'asoc-bench --help'\n");
			return 2;
		}
	}
	if (optind < argc)
		cli_die_usage("unexpected argument '%s'", argv[optind]);
	if (rank >= 0 && world >= 0 && rank >= world)
		cli_die_usage("--rank %d is not below --world-size %d", rank,
		    world);
	if (nsizes == 0)
		mib[nsizes++] = o.size;

	as = cli_open(o.sock);
	bench_check_rank(as, o.pattern, rank, world);
	for (i = 0; i < nsizes; i++) {
		o.size = mib[i] << 20;
		r = bench_run(as, &o, &res[i]);
		rc |= r != 0;
		fflush(stdout);
		/* A run that broke off leaves the ranks out of step. */
		if (r == 2) {
			nsizes = i + 1;
			break;
		}
	}
	if (nsizes > 1 && !o.json && asoc_rank(as) == 0)
		bench_sweep_report(&o, res, nsizes);
	asoc_close(as);
	if (fflush(stdout) == EOF || ferror(stdout))
		cli_die("cannot write the output: check standard output");
	return rc;
}
