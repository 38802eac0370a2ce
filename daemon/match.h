/*
 * match.h: MPI-style matching of sends and receives on (source, tag).
 *
 * Receives are posted by local clients; sends arrive from peers (an RTS) or
 * from local clients (same-node transfers).  Whichever comes first waits in
 * its queue for the other.  Both queues are scanned in arrival order, so
 * sends from one source with one tag match receives in the order the
 * receives were posted: no overtaking.
 *
 * The entries are embedded in their owners, so matching never allocates.
 */
#ifndef ASOC_MATCH_H
#define ASOC_MATCH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

/* glibc's sys/queue.h lacks the _SAFE forms that BSD has. */
#ifndef TAILQ_FOREACH_SAFE
#define TAILQ_FOREACH_SAFE(var, head, field, tvar)			\
	for ((var) = TAILQ_FIRST(head);					\
	    (var) != NULL && ((tvar) = TAILQ_NEXT(var, field), 1);	\
	    (var) = (tvar))
#endif

#define MATCH_ANY 0xffffffffu

struct match_recv {
	uint32_t src;		/* a rank, or MATCH_ANY */
	uint64_t tag;
	int queued;
	TAILQ_ENTRY(match_recv) entry;
};

struct match_send {
	uint32_t src;
	uint64_t tag;
	int queued;
	uint32_t *count;	/* NULL, or counts the sends queued with it
				 * (xfer.c: those from one peer daemon) */
	TAILQ_ENTRY(match_send) entry;
};

struct match {
	TAILQ_HEAD(, match_recv) recvs;
	TAILQ_HEAD(, match_send) sends;
	size_t nrecvs, nsends;
	uint32_t *from;		/* queued sends by source, nfrom sources */
	uint32_t nfrom;
};

void match_init(struct match *m);
/* m goes away with its owner (an lrank leaving): its table of counts
 * too, which grows to the highest source seen.  m is empty again. */
void match_free(struct match *m);
/* Returns the oldest waiting send that r matches (dequeued), or NULL after
 * queueing r. */
struct match_send *match_post_recv(struct match *m, struct match_recv *r);
/* Returns the oldest posted receive that s matches (dequeued), or NULL
 * after queueing s. */
struct match_recv *match_arrive(struct match *m, struct match_send *s);
/* Puts back a send that match_* returned but a peeking receive left in
 * place: first in line, where it was among the sends it can be confused
 * with (same source and tag). */
void match_requeue_send(struct match *m, struct match_send *s);
/* Take an entry out of its queue (cancel, disconnect); harmless when it
 * is not queued. */
void match_remove_recv(struct match *m, struct match_recv *r);
void match_remove_send(struct match *m, struct match_send *s);
/* How many sends from src wait in the queue now (xfer.c bounds them per
 * peer).  Uncounted only when memory ran out for a new source. */
uint32_t match_sends_from(const struct match *m, uint32_t src);

#endif
