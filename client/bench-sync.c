/*
 * bench-sync.c: the barrier and the completion reports of asoc-bench's
 * collective patterns (bench-coll.c), made of small messages on rank 0.
 *
 * A barrier: every rank tells rank 0 it has arrived, carrying what it has
 * verified so far; rank 0 checks that all run the same pattern and size,
 * posts the receives for the coming reports, and answers go, or stop when
 * the run is over or has failed anywhere.  Stopping is decided only here,
 * so all ranks leave a run at the same barrier.  A report: a rank's word
 * that all its transfers of an iteration have completed.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "asoc.h"
#include "bench.h"
#include "bench-coll.h"
#include "cli.h"

#define SYNC_TAG_ARRIVE		0xBE1000000000ULL	/* + sequence */
#define SYNC_TAG_GO		0xBE1100000000ULL	/* + sequence */
#define SYNC_TAG_REPORT		0xBE1200000000ULL	/* + sequence */

/* The control messages, as text so that byte order never matters. */
#define SYNC_ARRIVE_FMT		"arrive %s %" PRIu64 " %" PRIu64 " %u %" \
				PRIu64 " %u"
#define SYNC_ARRIVE_SCAN	"arrive %15s %" SCNu64 " %" SCNu64 " %u %" \
				SCNu64 " %u"
#define SYNC_GO_FMT		"go %" PRIu64 " %d"
#define SYNC_GO_SCAN		"go %" SCNu64 " %d"
#define SYNC_REPORT_FMT		"done %" PRIu64 " %d %.9f"
#define SYNC_REPORT_SCAN	"done %" SCNu64 " %d %lf"

/* ctl holds, BENCH_SLOT bytes each: the arrivals and the reports rank 0
 * receives (one slot per rank), and this rank's own outgoing arrival,
 * report and go, and its incoming go. */
enum { SYNC_ARRIVALS, SYNC_REPORTS, SYNC_OWN };
enum { SYNC_OWN_ARRIVE, SYNC_OWN_REPORT, SYNC_OWN_GO, SYNC_OWN_GO_IN,
	SYNC_OWN_SLOTS };

static size_t
sync_slot_off(const struct coll *c, int area, int i)
{
	return ((size_t)area * (size_t)c->world + (size_t)i) * BENCH_SLOT;
}

static char *
sync_slot(const struct coll *c, int area, int i)
{
	return (char *)asoc_buf_ptr(c->ctl) + sync_slot_off(c, area, i);
}

/* Waits for n requests; after the first failure, cancels the rest.
 * Returns the first failure, with a warning that names it. */
asoc_status_t
sync_waitall(struct coll *c, asoc_req_t **reqs, size_t n, const char *what)
{
	asoc_status_t st, first = ASOC_OK;
	size_t i, left = 0, j;

	for (i = 0; i < n; i++)
		left += reqs[i] != NULL;
	for (; left > 0; left--) {
		if ((st = asoc_waitany(reqs, n, &i, NULL)) == ASOC_OK ||
		    first != ASOC_OK)
			continue;
		first = st;
		cli_warn_asoc(st, asoc_last_error(c->as), "%s", what);
		for (j = 0; j < n; j++) {
			if (reqs[j] != NULL)
				(void)asoc_cancel(reqs[j]);
		}
	}
	return first;
}

/* Rank 0: the arrivals of every rank, checked against its own options.
 * Returns 1 when all are there and in step. */
static int
sync_gather(struct coll *c, uint64_t seq)
{
	struct coll_rank *r;
	asoc_status_t st;
	char pat[16], *msg;
	uint64_t size, rseq;
	int i, all = 1;

	asoc_set_timeout(c->as, c->timeout_ms);
	for (i = 1; i < c->world; i++) {
		r = &c->ranks[i];
		r->req = NULL;
		if (r->ok && (st = asoc_irecv(c->as, c->ctl, sync_slot_off(c,
		    SYNC_ARRIVALS, i), BENCH_SLOT, i, SYNC_TAG_ARRIVE + seq,
		    &r->req)) != ASOC_OK) {
			cli_warn_asoc(st, asoc_last_error(c->as), "posting a "
			    "receive for rank %d", i);
			r->ok = 0;
		}
	}
	for (i = 1; i < c->world; i++) {
		r = &c->ranks[i];
		if (r->req != NULL && (st = asoc_wait(r->req, NULL)) !=
		    ASOC_OK) {
			cli_warn_asoc(st, asoc_last_error(c->as), "waiting for "
			    "rank %d to arrive (is asoc-bench running there?)",
			    i);
			r->ok = r->reachable = 0;
		}
		if (!r->ok) {
			all = 0;
			continue;
		}
		msg = sync_slot(c, SYNC_ARRIVALS, i);
		msg[BENCH_SLOT - 1] = '\0';
		if (sscanf(msg, SYNC_ARRIVE_SCAN, pat, &size, &rseq,
		    &r->checked, &r->bad, &r->failed) != 6 || rseq != seq) {
			cli_warn("rank %d sent a message this asoc-bench does "
			    "not know: run one asoc-bench on all ranks", i);
			r->ok = all = 0;
		} else if (strcmp(pat, bench_pattern_name(c->o->pattern)) !=
		    0 || size != c->o->size) {
			cli_warn("rank %d runs --pattern %s with %" PRIu64 " MiB "
			    "and rank 0 --pattern %s with %" PRIu64 " MiB: give "
			    "every rank the same options", i, pat, size >> 20,
			    bench_pattern_name(c->o->pattern), c->o->size >> 20);
			r->ok = all = 0;
		} else if (r->failed > 0)
			all = 0;
	}
	return all && c->failed == 0;
}

/* Rank 0: sends go to every rank in step, or stop to every rank that can
 * still hear it. */
static void
sync_release(struct coll *c, uint64_t seq, int stop)
{
	asoc_status_t st;
	int i;

	snprintf(sync_slot(c, SYNC_OWN, SYNC_OWN_GO), BENCH_SLOT, SYNC_GO_FMT,
	    seq, stop);
	asoc_set_timeout(c->as, c->timeout_ms);
	for (i = 1; i < c->world; i++) {
		c->ranks[i].req = NULL;
		if ((stop ? c->ranks[i].reachable : c->ranks[i].ok) &&
		    (st = asoc_isend(c->as, c->ctl,
		    sync_slot_off(c, SYNC_OWN, SYNC_OWN_GO), BENCH_SLOT, i,
		    SYNC_TAG_GO + seq, &c->ranks[i].req)) != ASOC_OK) {
			cli_warn_asoc(st, asoc_last_error(c->as), "releasing "
			    "rank %d", i);
			c->ranks[i].ok = c->ranks[i].reachable = 0;
		}
	}
}

void
sync_release_wait(struct coll *c)
{
	asoc_status_t st;
	int i;

	for (i = 1; i < c->world; i++) {
		if (c->ranks[i].req != NULL && (st = asoc_wait(c->ranks[i].req,
		    NULL)) != ASOC_OK) {
			cli_warn_asoc(st, asoc_last_error(c->as), "releasing "
			    "rank %d", i);
			c->ranks[i].ok = c->ranks[i].reachable = 0;
			c->failed++;
		}
		c->ranks[i].req = NULL;
	}
}

/* The other ranks: arrive with our tally, then wait for go.  Returns 1 to
 * go on, 0 to stop (rank 0 says so, or cannot be reached). */
static int
sync_arrive(struct coll *c, uint64_t seq)
{
	asoc_req_t *rq[2] = { NULL, NULL };
	asoc_status_t st;
	uint64_t gseq;
	char *msg;
	int stop;

	snprintf(sync_slot(c, SYNC_OWN, SYNC_OWN_ARRIVE), BENCH_SLOT,
	    SYNC_ARRIVE_FMT, bench_pattern_name(c->o->pattern), c->o->size,
	    seq, c->checked, c->bad, c->failed);
	/* Twice rank 0's deadline for the arrivals: when another rank is
	 * missing, we still hear rank 0's stop. */
	asoc_set_timeout(c->as, 2 * c->timeout_ms);
	if ((st = asoc_irecv(c->as, c->ctl, sync_slot_off(c, SYNC_OWN,
	    SYNC_OWN_GO_IN), BENCH_SLOT, 0, SYNC_TAG_GO + seq, &rq[0])) !=
	    ASOC_OK || (st = asoc_isend(c->as, c->ctl, sync_slot_off(c,
	    SYNC_OWN, SYNC_OWN_ARRIVE), BENCH_SLOT, 0, SYNC_TAG_ARRIVE + seq,
	    &rq[1])) != ASOC_OK) {
		cli_warn_asoc(st, asoc_last_error(c->as), "arriving at the "
		    "barrier");
		(void)sync_waitall(c, rq, 2, "arriving at the barrier");
		c->failed++;
		return 0;
	}
	if (sync_waitall(c, rq, 2, "waiting for rank 0 at the barrier (is "
	    "asoc-bench running there?)") != ASOC_OK) {
		c->failed++;
		return 0;
	}
	msg = sync_slot(c, SYNC_OWN, SYNC_OWN_GO_IN);
	msg[BENCH_SLOT - 1] = '\0';
	if (sscanf(msg, SYNC_GO_SCAN, &gseq, &stop) != 2 || gseq != seq) {
		cli_warn("rank 0 sent a message this asoc-bench does not know: "
		    "run one asoc-bench on all ranks");
		c->failed++;
		return 0;
	}
	return !stop;
}

/*
 * The barrier that starts every phase.  Rank 0 gathers the arrivals and
 * answers go, or stop when the run is over (last) or has failed anywhere;
 * the other ranks arrive and wait for the answer.  Stopping is decided
 * only here, so that all ranks leave the run at the same barrier.  On
 * rank 0, with reports, the receives for the iteration's reports are
 * posted first; *t0 is the time just before it let the others go.  Returns 1
 * to go on.
 */
int
sync_barrier(struct coll *c, uint64_t seq, int last, int reports, double *t0)
{
	asoc_status_t st;
	int r, go;

	if (c->me != 0) {
		if (!sync_arrive(c, seq)) {
			c->stopped = 1;
			if (!last && c->failed == 0) {
				cli_warn("rank 0 ended the run early: see its "
				    "messages");
				c->failed++;
			}
		}
		return !c->stopped;
	}
	go = sync_gather(c, seq) && !last;
	/* The reports' receives are posted before anyone is let go. */
	asoc_set_timeout(c->as, c->timeout_ms);
	for (r = 1; r < c->world; r++) {
		c->reports[r] = NULL;
		if (go && reports && (st = asoc_irecv(c->as, c->ctl,
		    sync_slot_off(c, SYNC_REPORTS, r), BENCH_SLOT, r,
		    SYNC_TAG_REPORT + seq, &c->reports[r])) != ASOC_OK) {
			cli_warn_asoc(st, asoc_last_error(c->as), "posting a "
			    "receive for rank %d", r);
			c->failed++;
			go = 0;
		}
	}
	if (!go) {
		for (r = 1; r < c->world; r++) {
			if (c->reports[r] != NULL && asoc_cancel(c->reports[r])
			    == ASOC_OK)
				(void)asoc_wait(c->reports[r], NULL);
			c->reports[r] = NULL;
		}
	}
	*t0 = bench_now();
	sync_release(c, seq, !go);
	if (!go) {
		sync_release_wait(c);
		c->stopped = 1;
	}
	return go;
}

/* Rank 0: collects the reports; returns the time the last one came, or
 * rank 0's own end if that is later.  A failed report stops the run. */
double
sync_reports(struct coll *c, uint64_t seq, double own_end)
{
	double end = own_end, t, secs;
	asoc_req_t **rq = c->reports;
	asoc_status_t st;
	size_t i, left = 0;
	char *msg;
	uint64_t rseq;
	int status;

	for (i = 1; i < (size_t)c->world; i++)
		left += rq[i] != NULL;
	for (; left > 0; left--) {
		st = asoc_waitany(rq, (size_t)c->world, &i, NULL);
		if ((t = bench_now()) > end)
			end = t;
		if (st != ASOC_OK) {
			cli_warn_asoc(st, asoc_last_error(c->as), "waiting for "
			    "the report of rank %zu", i);
			c->ranks[i].ok = 0;
			c->failed++;
			continue;
		}
		msg = sync_slot(c, SYNC_REPORTS, (int)i);
		msg[BENCH_SLOT - 1] = '\0';
		if (sscanf(msg, SYNC_REPORT_SCAN, &rseq, &status, &secs) != 3 ||
		    rseq != seq || status != ASOC_OK) {
			cli_warn("rank %zu reports that iteration %" PRIu64
			    " failed", i, seq);
			c->ranks[i].failed++;
			c->failed++;
		}
	}
	return end;
}

size_t
sync_ctl_size(int world)
{
	return ((size_t)SYNC_OWN * (size_t)world + SYNC_OWN_SLOTS) * BENCH_SLOT;
}

/* The other ranks: tells rank 0 this rank's part of iteration seq is
 * done, with its status and its own time. */
void
sync_report(struct coll *c, uint64_t seq, asoc_status_t st, double own)
{
	snprintf(sync_slot(c, SYNC_OWN, SYNC_OWN_REPORT), BENCH_SLOT,
	    SYNC_REPORT_FMT, seq, (int)st, own);
	asoc_set_timeout(c->as, c->timeout_ms);
	if ((st = asoc_send(c->as, c->ctl, sync_slot_off(c, SYNC_OWN,
	    SYNC_OWN_REPORT), BENCH_SLOT, 0, SYNC_TAG_REPORT + seq)) !=
	    ASOC_OK) {
		cli_warn_asoc(st, asoc_last_error(c->as), "reporting to rank "
		    "0");
		c->failed++;
	}
}
