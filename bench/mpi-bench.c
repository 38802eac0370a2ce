/*
 * mpi-bench.c: the Open MPI side of bench/vs-mpi and
 * slurm/mpi_benchmark.slurm, built by them with mpicc.
 *
 *   mpi-bench pingpong SIZE:ITERATIONS[,SIZE:ITERATIONS...]
 *	Ranks 0 and 1: rank 0 sends SIZE bytes (MPI_Send), rank 1 receives
 *	them and answers with one byte, one message at a time; rank 0 times
 *	each send + reply.  A tenth of ITERATIONS (at least 1) go first,
 *	untimed.  For each size rank 0 prints
 *	  mpi-bench pingpong SIZE median_us M min_us m max_us x
 *   mpi-bench bcast SIZE_MIB ITERATIONS
 *	MPI_Bcast of SIZE_MIB from rank 0 to all ranks, after one untimed
 *	one; each timed from a barrier to a second barrier after the
 *	broadcast (every rank has its bytes), as asoc-bench --pattern bcast
 *	times from its barrier to the last rank's report.  Rank 0 prints
 *	  mpi-bench bcast world W bytes B avg_s A best_s b
 *
 * Rank 0 writes a fresh pattern before each message, as a tensor is
 * produced; receivers check it after the clock has stopped.  Exit status
 * 0 when every message arrived intact, 1 otherwise, 2 for a bad command
 * line.
 */
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MB_MAX_SIZES	16

static int rank, world;

static void
die(const char *msg)
{
	if (rank == 0)
		fprintf(stderr, "mpi-bench: %s\n", msg);
	MPI_Finalize();
	exit(2);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static unsigned char *
buffer(size_t len)
{
	unsigned char *p = malloc(len ? len : 1);

	if (p == NULL) {
		fprintf(stderr, "mpi-bench: rank %d: out of memory for %zu "
		    "bytes\n", rank, len);
		MPI_Abort(MPI_COMM_WORLD, 1);
	}
	memset(p, 0, len);	/* faulted in outside the clock */
	return p;
}

/* Message n: every 4 KiB page and the last byte carry n's bytes. */
static void
fill(unsigned char *p, size_t len, unsigned n)
{
	size_t i;

	for (i = 0; i < len; i += 4096)
		p[i] = (unsigned char)(n + i / 4096);
	p[len - 1] = (unsigned char)(n * 7);
}

static unsigned long
check(const unsigned char *p, size_t len, unsigned n)
{
	unsigned long bad = 0;
	size_t i;

	for (i = 0; i < len; i += 4096)
		bad += p[i] != (unsigned char)(n + i / 4096);
	bad += p[len - 1] != (unsigned char)(n * 7);
	return bad;
}

static unsigned long
pingpong(size_t len, unsigned iters)
{
	unsigned warmup = iters / 10 ? iters / 10 : 1, i;
	unsigned char *b = buffer(len), ack = 0;
	double *t = calloc(iters, sizeof(*t)), t0;
	unsigned long bad = 0;

	if (t == NULL)
		MPI_Abort(MPI_COMM_WORLD, 1);
	MPI_Barrier(MPI_COMM_WORLD);
	for (i = 0; i < warmup + iters; i++) {
		if (rank == 0) {
			fill(b, len, i);
			t0 = MPI_Wtime();
			MPI_Send(b, (int)len, MPI_BYTE, 1, 1, MPI_COMM_WORLD);
			MPI_Recv(&ack, 1, MPI_BYTE, 1, 2, MPI_COMM_WORLD,
			    MPI_STATUS_IGNORE);
			if (i >= warmup)
				t[i - warmup] = MPI_Wtime() - t0;
		} else if (rank == 1) {
			MPI_Recv(b, (int)len, MPI_BYTE, 0, 1, MPI_COMM_WORLD,
			    MPI_STATUS_IGNORE);
			MPI_Send(&ack, 1, MPI_BYTE, 0, 2, MPI_COMM_WORLD);
			bad += check(b, len, i);
		}
	}
	if (rank == 0) {
		qsort(t, iters, sizeof(*t), cmp_double);
		printf("mpi-bench pingpong %zu median_us %.2f min_us %.2f "
		    "max_us %.2f\n", len, 1e6 * (iters % 2 ? t[iters / 2] :
		    (t[iters / 2 - 1] + t[iters / 2]) / 2), 1e6 * t[0],
		    1e6 * t[iters - 1]);
		fflush(stdout);
	}
	free(t);
	free(b);
	return bad;
}

static unsigned long
bcast(size_t len, unsigned iters)
{
	unsigned char *b = buffer(len);
	double t0, t, sum = 0, best = 0;
	unsigned long bad = 0;
	unsigned i;

	for (i = 0; i < 1 + iters; i++) {
		if (rank == 0)
			fill(b, len, i);
		MPI_Barrier(MPI_COMM_WORLD);
		t0 = MPI_Wtime();
		MPI_Bcast(b, (int)len, MPI_BYTE, 0, MPI_COMM_WORLD);
		MPI_Barrier(MPI_COMM_WORLD);
		t = MPI_Wtime() - t0;
		if (rank != 0)
			bad += check(b, len, i);
		if (i == 0)
			continue;
		sum += t;
		if (best == 0 || t < best)
			best = t;
	}
	if (rank == 0)
		printf("mpi-bench bcast world %d bytes %zu avg_s %.4f best_s "
		    "%.4f\n", world, len, sum / iters, best);
	free(b);
	return bad;
}

static unsigned long
number(const char *s, char **end, unsigned long lo, unsigned long hi)
{
	unsigned long v = strtoul(s, end, 10);

	if (*end == s || v < lo || v > hi)
		die("a number is out of range (see the usage at the top of "
		    "bench/mpi-bench.c)");
	return v;
}

int
main(int argc, char **argv)
{
	unsigned long bad = 0, all = 0;
	char *s, *end;

	MPI_Init(&argc, &argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &world);
	if (world < 2)
		die("run it on at least 2 ranks");
	if (argc == 3 && strcmp(argv[1], "pingpong") == 0) {
		for (s = argv[2]; ; s = end + 1) {
			size_t len = number(s, &end, 1, 1UL << 30);
			unsigned iters;

			if (*end != ':')
				die("pingpong takes SIZE:ITERATIONS,...");
			iters = (unsigned)number(end + 1, &end, 1, 10000000);
			bad += pingpong(len, iters);
			if (*end == '\0')
				break;
			if (*end != ',')
				die("pingpong takes SIZE:ITERATIONS,...");
		}
	} else if (argc == 4 && strcmp(argv[1], "bcast") == 0) {
		size_t mib = number(argv[2], &end, 1, 2047);

		if (*end != '\0')
			die("bcast takes SIZE_MIB ITERATIONS");
		bad += bcast(mib << 20, (unsigned)number(argv[3], &end, 1,
		    100000));
	} else
		die("usage: mpi-bench pingpong SIZE:ITERATIONS,... | "
		    "mpi-bench bcast SIZE_MIB ITERATIONS");
	MPI_Reduce(&bad, &all, 1, MPI_UNSIGNED_LONG, MPI_SUM, 0,
	    MPI_COMM_WORLD);
	if (rank == 0)
		printf("mpi-bench verified %s (%lu wrong bytes)\n",
		    all ? "NO" : "yes", all);
	MPI_Finalize();
	return all != 0;
}
