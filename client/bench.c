/*
 * bench.c: the clock, the rates and the buffers of asoc-bench (the tensor
 * pattern is in bench-pattern.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "asoc.h"
#include "bench.h"
#include "cli.h"

const char *
bench_pattern_name(enum bench_pattern p)
{
	switch (p) {
	case BENCH_PAIR:
		return "pair";
	case BENCH_SELF:
		return "self";
	case BENCH_BCAST:
		return "bcast";
	case BENCH_BCAST_NAIVE:
		return "bcast-naive";
	case BENCH_ALLTOALL:
		return "alltoall";
	case BENCH_RING:
		return "ring";
	}
	return "?";
}

double
bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double
bench_rate(uint64_t bytes, double s, double unit)
{
	return s > 0 ? (double)bytes / s / unit : 0;
}

asoc_buf_t *
bench_alloc(asoc_t *as, size_t size, const char *what)
{
	asoc_buf_t *b;
	asoc_status_t st;

	if ((st = asoc_buf_alloc(as, size, &b)) != ASOC_OK)
		cli_die_asoc(st, asoc_last_error(as), "cannot allocate %s "
		    "(%zu bytes)", what, size);
	return b;
}

/* Between the runs of a sweep: the next size needs the memory. */
void
bench_free(asoc_buf_t *buf)
{
	asoc_status_t st;

	if (buf != NULL && (st = asoc_buf_free(buf)) != ASOC_OK)
		cli_warn("cannot free a buffer: %s", asoc_strerror(st));
}

/*
 * The node of every rank.  In process mode asoc_rank_nodes asks asocd,
 * which waits (within our deadline) until every rank has joined; in node
 * mode a rank is its node.
 */
void
bench_map_init(asoc_t *as, struct bench_map *m)
{
	int world = asoc_world_size(as), r, top = 0, *count;
	asoc_status_t st;

	memset(m, 0, sizeof *m);
	m->world = world;
	if ((m->node = calloc((size_t)world, sizeof *m->node)) == NULL)
		cli_die("out of memory");
	asoc_set_timeout(as, BENCH_WAIT_MS);
	st = asoc_rank_nodes(as, m->node);
	asoc_set_timeout(as, 0);
	if (st != ASOC_OK)
		cli_die_asoc(st, asoc_last_error(as), "cannot learn which "
		    "node each of the %d ranks is on", world);
	for (r = 0; r < world; r++) {
		if (m->node[r] < 0)
			cli_die("asocd placed rank %d on node %d: this is an "
			    "asocd or libasoc bug", r, m->node[r]);
		if (m->node[r] > top)
			top = m->node[r];
	}
	if ((count = calloc((size_t)top + 1, sizeof *count)) == NULL)
		cli_die("out of memory");
	for (r = 0; r < world; r++)
		m->nodes += count[m->node[r]]++ == 0;
	for (r = 0; r <= top; r++) {
		if (count[r] == 0)
			continue;
		if (m->kmin == 0 || count[r] < m->kmin)
			m->kmin = count[r];
		if (count[r] > m->kmax)
			m->kmax = count[r];
	}
	free(count);
}

void
bench_map_free(struct bench_map *m)
{
	free(m->node);
	m->node = NULL;
}

int
bench_map_same(const struct bench_map *m, int a, int b)
{
	return m->node[a] == m->node[b];
}

/* "nodes 4, 2 per node" (or "1-3 per node" when they differ). */
const char *
bench_map_fmt(const struct bench_map *m, char *buf, size_t len)
{
	if (m->kmin == m->kmax)
		snprintf(buf, len, "nodes %d, %d per node", m->nodes, m->kmax);
	else
		snprintf(buf, len, "nodes %d, %d-%d per node", m->nodes,
		    m->kmin, m->kmax);
	return buf;
}
