/*
 * match.c: the two queues of matching (see match.h).
 */
#include "config.h"
#include "match.h"

#include <stdlib.h>
#include <string.h>

void
match_init(struct match *m)
{
	TAILQ_INIT(&m->recvs);
	TAILQ_INIT(&m->sends);
	m->nrecvs = m->nsends = 0;
	m->from = NULL;
	m->nfrom = 0;
}

void
match_free(struct match *m)
{
	free(m->from);
	match_init(m);
}

/* One more send from s->src queued; the table grows to the highest
 * source seen (ranks are few and dense). */
static void
match_count_in(struct match *m, const struct match_send *s)
{
	uint32_t n, *p;

	if (s->count != NULL)
		(*s->count)++;
	if (s->src == MATCH_ANY)
		return;
	if (s->src >= m->nfrom) {
		n = s->src + 1 > 2 * m->nfrom ? s->src + 1 : 2 * m->nfrom;
		if ((p = realloc(m->from, n * sizeof *p)) == NULL)
			return;
		memset(p + m->nfrom, 0, (n - m->nfrom) * sizeof *p);
		m->from = p;
		m->nfrom = n;
	}
	m->from[s->src]++;
}

static void
match_count_out(struct match *m, const struct match_send *s)
{
	if (s->count != NULL && *s->count > 0)
		(*s->count)--;
	if (s->src < m->nfrom && m->from[s->src] > 0)
		m->from[s->src]--;
}

uint32_t
match_sends_from(const struct match *m, uint32_t src)
{
	return src < m->nfrom ? m->from[src] : 0;
}

static int
match_fits(const struct match_recv *r, const struct match_send *s)
{
	return r->tag == s->tag && (r->src == MATCH_ANY || r->src == s->src);
}

struct match_send *
match_post_recv(struct match *m, struct match_recv *r)
{
	struct match_send *s;

	TAILQ_FOREACH(s, &m->sends, entry) {
		if (match_fits(r, s)) {
			match_remove_send(m, s);
			return s;
		}
	}
	TAILQ_INSERT_TAIL(&m->recvs, r, entry);
	r->queued = 1;
	m->nrecvs++;
	return NULL;
}

struct match_recv *
match_arrive(struct match *m, struct match_send *s)
{
	struct match_recv *r;

	TAILQ_FOREACH(r, &m->recvs, entry) {
		if (match_fits(r, s)) {
			match_remove_recv(m, r);
			return r;
		}
	}
	TAILQ_INSERT_TAIL(&m->sends, s, entry);
	s->queued = 1;
	m->nsends++;
	match_count_in(m, s);
	return NULL;
}

void
match_remove_recv(struct match *m, struct match_recv *r)
{
	if (!r->queued)
		return;
	TAILQ_REMOVE(&m->recvs, r, entry);
	r->queued = 0;
	m->nrecvs--;
}

void
match_remove_send(struct match *m, struct match_send *s)
{
	if (!s->queued)
		return;
	TAILQ_REMOVE(&m->sends, s, entry);
	s->queued = 0;
	m->nsends--;
	match_count_out(m, s);
}

void
match_requeue_send(struct match *m, struct match_send *s)
{
	if (s->queued)
		return;
	TAILQ_INSERT_HEAD(&m->sends, s, entry);
	s->queued = 1;
	m->nsends++;
	match_count_in(m, s);
}
