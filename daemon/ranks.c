/*
 * ranks.c: the daemon's mode, its local ranks, and where the process ranks
 * of the other nodes live (see ranks.h).
 */
#include "config.h"
#include "ranks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asocd.h"
#include "control.h"
#include "log.h"
#include "peer.h"
#include "transport.h"
#include "xfer.h"

static struct {
	enum ranks_mode mode;
	uint32_t world;		/* P: loc's and local's size */
	struct lrank node_lr;	/* node mode's one rank */
	struct lrank **local;	/* live local process ranks, by rank */
	unsigned nlocal;	/* live ones */
	unsigned nheld;		/* with sessions: live and withdrawn */
	TAILQ_HEAD(, lrank) held;	/* those nheld */
	struct rloc *loc;
	uint32_t next_inc;
	uint64_t seq;		/* claims and leaves seen: their order */
} rk;

/* What anyone holding the job key could make us log at will. */
static struct log_limit ranks_noise;

void
ranks_init(void)
{
	memset(&rk, 0, sizeof rk);
	match_init(&rk.node_lr.match);
	TAILQ_INIT(&rk.held);
	rk.node_lr.localid = 0xffffffffu;
}

enum ranks_mode
ranks_mode(void)
{
	return rk.mode;
}

uint32_t
ranks_world(void)
{
	return rk.world;
}

unsigned
ranks_nlocal(void)
{
	return rk.mode == RANKS_PROC ? rk.nlocal : rk.mode == RANKS_NODE;
}

struct lrank *
ranks_local(uint32_t p)
{
	if (rk.mode != RANKS_PROC)
		return p == asocd->rank ? &rk.node_lr : NULL;
	return p < rk.world ? rk.local[p] : NULL;
}

const struct rloc *
ranks_loc(uint32_t p)
{
	return p < rk.world && rk.loc != NULL ? &rk.loc[p] : NULL;
}

int
ranks_left(uint32_t p)
{
	const struct rloc *l = ranks_loc(p);

	return l != NULL && l->state == RL_LEFT && !l->stale;
}

int64_t
ranks_node_of(uint32_t p)
{
	const struct rloc *l = ranks_loc(p);

	return l != NULL && l->state == RL_JOINED ? (int64_t)l->node : -1;
}

int64_t
ranks_last_node_of(uint32_t p, const struct lrank *asker)
{
	const struct rloc *l = ranks_loc(p);

	if (l == NULL)
		return -1;
	if (l->state == RL_JOINED)
		return l->node;
	if (asker != NULL && ranks_left(p) && l->left_seq > asker->joined_seq)
		return l->node;
	return -1;
}

/* p is no longer where loc said: for good while a rank of ours is here
 * to care (the step goes on), else stale (see ranks_left). */
static void
ranks_mark_left(uint32_t p)
{
	rk.loc[p].state = RL_LEFT;
	rk.loc[p].stale = rk.nheld == 0;
	rk.loc[p].left_seq = ++rk.seq;
}

struct lrank *
ranks_next(struct lrank *prev)
{
	if (rk.mode != RANKS_PROC)
		return prev == NULL ? &rk.node_lr : NULL;
	return prev == NULL ? TAILQ_FIRST(&rk.held) : TAILQ_NEXT(prev, entry);
}

/* Back to NONE once nothing ranked is left: no session, nothing queued. */
static void
ranks_settle(void)
{
	if (rk.mode == RANKS_NODE && rk.node_lr.sessions == 0 &&
	    rk.node_lr.match.nsends == 0 && rk.node_lr.match.nrecvs == 0) {
		rk.mode = RANKS_NONE;
		match_free(&rk.node_lr.match);
		log_debug("no node-rank client or message left: mode none");
	} else if (rk.mode == RANKS_PROC && rk.nheld == 0) {
		uint32_t p;

		rk.mode = RANKS_NONE;
		for (p = 0; p < rk.world; p++)
			if (rk.loc[p].state == RL_LEFT)
				rk.loc[p].stale = 1;
		log_debug("no process rank left here: mode none");
	}
}

int
ranks_node_traffic(void)
{
	ranks_settle();
	if (rk.mode == RANKS_PROC)
		return -1;
	rk.mode = RANKS_NODE;
	return 0;
}

/* loc and local for a world of P, when none is known or the one known has
 * no rank joined anywhere (a new job step).  -1 with msg otherwise. */
static int
ranks_set_world(uint32_t world, char *msg, size_t msglen)
{
	struct rloc *loc;
	struct lrank **local;
	uint32_t p;

	if (rk.world == world)
		return 0;
	for (p = 0; p < rk.world; p++) {
		if (rk.loc[p].state != RL_JOINED)
			continue;
		snprintf(msg, msglen, "node %u holds rank %u of a world of %u, "
		    "not %u: every process of a job must give the same world "
		    "(check --ntasks)", rk.loc[p].node, p, rk.world, world);
		return -1;
	}
	loc = calloc(world, sizeof *loc);
	local = calloc(world, sizeof *local);
	if (loc == NULL || local == NULL) {
		free(loc);
		free(local);
		snprintf(msg, msglen, "asocd is out of memory");
		return -1;
	}
	free(rk.loc);
	free(rk.local);
	rk.loc = loc;
	rk.local = local;
	rk.world = world;
	return 0;
}

void
ranks_left_msg(uint32_t p, char *buf, size_t len)
{
	snprintf(buf, len, "rank %u left (its process exited)", p);
}

void
ranks_join_timeout_msg(uint32_t p, unsigned secs, char *buf, size_t len)
{
	snprintf(buf, len, "rank %u has not joined after %u s: is a process "
	    "with SLURM_PROCID %u running (world of %u)?", p, secs, p,
	    rk.world);
}

/* --- announcements --- */

static void
ranks_join_msg(const struct lrank *lr, struct proto_msg *m)
{
	memset(m, 0, sizeof *m);
	m->u.rk_join.rank = lr->rank;
	m->u.rk_join.world = rk.world;
	m->u.rk_join.pid = (uint32_t)lr->pid;
	m->u.rk_join.incarnation = lr->incarnation;
}

/* To every peer with a connection up (the pair's); the others hear it
 * when theirs comes up (ranks_announce). */
static void
ranks_tell_all(uint16_t type, const struct proto_msg *tmpl)
{
	struct proto_msg m;
	struct conn *c;
	uint32_t n;

	for (n = 0; n < asocd->world; n++) {
		if (n == asocd->rank)
			continue;
		if ((c = peer_up_conn(&asocd->peers[n])) == NULL)
			continue;
		m = *tmpl;
		peer_send(c, type, &m);
	}
}

void
ranks_announce(struct conn *c)
{
	struct proto_msg m;
	uint32_t p;

	if (rk.mode != RANKS_PROC)
		return;
	for (p = 0; p < rk.world && !c->dead; p++) {
		if (rk.local[p] == NULL)
			continue;
		ranks_join_msg(rk.local[p], &m);
		peer_send(c, PT_RK_JOIN, &m);
	}
}

static void
ranks_tell_leave(const struct lrank *lr, enum proto_status st)
{
	struct proto_msg m;

	memset(&m, 0, sizeof m);
	m.u.rk_leave.rank = lr->rank;
	m.u.rk_leave.world = rk.world;
	m.u.rk_leave.incarnation = lr->incarnation;
	m.u.rk_leave.status = st;
	ranks_tell_all(PT_RK_LEAVE, &m);
}

/* --- joining --- */

static void
ranks_holder(uint32_t p, char *msg, size_t msglen)
{
	snprintf(msg, msglen, "rank %u is held by pid %u on node %u; each "
	    "process needs its own rank (check --ntasks and SLURM_PROCID)",
	    p, rk.loc[p].pid, rk.loc[p].node);
}

static enum proto_status
ranks_hello_node(struct client *c, char *msg, size_t msglen)
{
	if (rk.mode == RANKS_PROC) {
		uint32_t p;

		for (p = 0; p < rk.world && rk.local[p] == NULL; p++)
			;
		/* The holder named when it fits the 128 bytes a reply has. */
		if (p >= rk.world || (size_t)snprintf(msg, msglen, "asocd "
		    "serves process ranks of a world of %u (rank %u is pid "
		    "%ld): open with a rank, or run node-rank clients after "
		    "those", rk.world, p, (long)rk.local[p]->pid) >= msglen)
			snprintf(msg, msglen, "asocd serves process ranks of a "
			    "world of %u: open with a rank, or run node-rank "
			    "clients after those", rk.world);
		return PS_EINVAL;
	}
	rk.mode = RANKS_NODE;
	rk.node_lr.rank = asocd->rank;
	rk.node_lr.sessions++;
	c->lr = &rk.node_lr;
	c->rank_kind = RS_NODE;
	return PS_OK;
}

static enum proto_status
ranks_hello_proc(struct client *c, uint32_t p, uint32_t world,
    uint32_t localid, char *msg, size_t msglen)
{
	struct lrank *lr;
	struct proto_msg m;

	if (rk.mode == RANKS_NODE) {
		snprintf(msg, msglen, "this asocd serves node ranks (node %u "
		    "of %u): open without a rank, or run process-rank clients "
		    "when those have finished", asocd->rank, asocd->world);
		return PS_EINVAL;
	}
	if (world == 0 || world > PROTO_RANK_MAX || p >= world) {
		snprintf(msg, msglen, "rank %u is not in a world of %u process "
		    "ranks (0-%u)", p, world, world > 0 ? world - 1 : 0);
		return PS_EINVAL;
	}
	if (rk.mode == RANKS_PROC && world != rk.world) {
		snprintf(msg, msglen, "this asocd serves a world of %u process "
		    "ranks, not %u: every process of a job must give the same "
		    "world (check --ntasks)", rk.world, world);
		return PS_EINVAL;
	}
	if (ranks_set_world(world, msg, msglen) < 0)
		return PS_EINVAL;
	if ((lr = rk.local[p]) != NULL) {
		/* A session per thread: the same process joins its rank. */
		if (lr->pid != c->pid) {
			ranks_holder(p, msg, msglen);
			return PS_EPERM;
		}
		lr->sessions++;
		c->lr = lr;
		c->rank_kind = RS_PROC;
		return PS_OK;
	}
	if (rk.loc[p].state == RL_JOINED) {
		ranks_holder(p, msg, msglen);
		return PS_EPERM;
	}
	if (rk.nlocal >= asocd->conf->max_ranks) {
		snprintf(msg, msglen, "asocd holds %u process ranks "
		    "(--max-ranks): raise it, or run fewer processes on this "
		    "node", asocd->conf->max_ranks);
		return PS_ENOMEM;
	}
	if ((lr = calloc(1, sizeof *lr)) == NULL) {
		snprintf(msg, msglen, "asocd is out of memory");
		return PS_ENOMEM;
	}
	lr->rank = p;
	lr->incarnation = ++rk.next_inc;
	lr->joined_seq = ++rk.seq;
	lr->localid = localid;
	lr->pid = c->pid;
	lr->sessions = 1;
	match_init(&lr->match);
	rk.local[p] = lr;
	rk.nlocal++;
	rk.nheld++;
	TAILQ_INSERT_TAIL(&rk.held, lr, entry);
	rk.loc[p].node = asocd->rank;
	rk.loc[p].pid = (uint32_t)c->pid;
	rk.loc[p].incarnation = lr->incarnation;
	rk.loc[p].state = RL_JOINED;
	rk.loc[p].stale = 0;
	c->lr = lr;
	c->rank_kind = RS_PROC;
	if (rk.mode != RANKS_PROC)
		log_info("serving process ranks of a world of %u", world);
	rk.mode = RANKS_PROC;
	log_debug("rank %u of %u joined: pid %ld, incarnation %u", p, world,
	    (long)c->pid, lr->incarnation);
	ranks_join_msg(lr, &m);
	ranks_tell_all(PT_RK_JOIN, &m);
	/* Every peer must hear of our ranks, whether or not we send to it:
	 * its sends to them wait for the JOIN. */
	peer_connect_all();
	xfer_rank_joined(p);
	return PS_OK;
}

enum proto_status
ranks_hello(struct client *c, uint32_t flags, uint32_t rank, uint32_t world,
    uint32_t localid, char *msg, size_t msglen)
{
	msg[0] = '\0';
	if (flags & PROTO_LH_F_STATUS) {
		c->rank_kind = RS_STATUS;
		return PS_OK;
	}
	ranks_settle();
	if (flags & PROTO_LH_F_PROC)
		return ranks_hello_proc(c, rank, world, localid, msg, msglen);
	return ranks_hello_node(c, msg, msglen);
}

/* --- leaving --- */

int
ranks_last_session(const struct client *c)
{
	return c->rank_kind == RS_PROC && c->lr != NULL &&
	    c->lr->sessions == 1 && !c->lr->withdrawn;
}

/* lr's rank is gone from here (left, or withdrawn with st EPERM): the
 * table forgets it, what waits for it fails, the peers hear. */
static void
ranks_drop_local(struct lrank *lr, enum proto_status st, const char *why)
{
	rk.local[lr->rank] = NULL;
	rk.nlocal--;
	xfer_lrank_gone(lr, st, why);
	ranks_tell_leave(lr, st);
}

void
ranks_session_gone(struct client *c)
{
	struct lrank *lr = c->lr;
	char why[PROTO_MSG_MAX];

	c->lr = NULL;
	if (c->rank_kind == RS_NODE) {
		rk.node_lr.sessions--;
		ranks_settle();
		return;
	}
	if (c->rank_kind != RS_PROC || lr == NULL || --lr->sessions > 0)
		return;
	if (!lr->withdrawn) {
		ranks_left_msg(lr->rank, why, sizeof why);
		log_debug("rank %u left (pid %ld)", lr->rank, (long)lr->pid);
		ranks_mark_left(lr->rank);
		ranks_drop_local(lr, PS_ELEFT, why);
		xfer_rank_left(lr->rank, why);
	}
	rk.nheld--;
	TAILQ_REMOVE(&rk.held, lr, entry);
	match_free(&lr->match);
	free(lr);
	ranks_settle();
}

/* A lower node holds p too (both joined before hearing of the other):
 * it keeps p, ours is withdrawn.  Its sessions stay, and are told. */
static void
ranks_withdraw(struct lrank *lr, uint32_t node, uint32_t pid)
{
	char others[PROTO_MSG_MAX];
	struct client *c;

	snprintf(lr->why, sizeof lr->why, "rank %u is also held by pid %u on "
	    "node %u: this process's rank is withdrawn", lr->rank, pid, node);
	log_warn("%s (here it was pid %ld)", lr->why, (long)lr->pid);
	lr->withdrawn = 1;
	/* Sends from our other ranks to it: where it is now. */
	snprintf(others, sizeof others, "rank %u is held by pid %u on node %u "
	    "(its duplicate here, pid %ld, was withdrawn): send to it again",
	    lr->rank, pid, node, (long)lr->pid);
	ranks_drop_local(lr, PS_EPERM, others);
	TAILQ_FOREACH(c, &asocd->clients, entry)
		if (c->lr == lr && !c->dead)
			xfer_cancel_all(c, PS_EPERM, lr->why);
}

/* --- from the peers --- */

/* An RK_* names a world: the one known, or a first one. */
static int
ranks_peer_world(struct conn *c, uint32_t world)
{
	char msg[PROTO_MSG_MAX];

	if (world == rk.world)
		return 0;
	if (rk.mode == RANKS_PROC || ranks_set_world(world, msg,
	    sizeof msg) < 0) {
		log_warn_limited(&ranks_noise, "%s announces ranks of a world "
		    "of %u, this job's has %u: ignored (every process of a "
		    "job must give the same world)", c->name, world, rk.world);
		return -1;
	}
	return 0;
}

void
ranks_on_join(struct conn *c, const struct proto_msg *m)
{
	const struct proto_rk_join *j = &m->u.rk_join;
	uint32_t node = c->peer->rank, p = j->rank;
	struct rloc *l;

	if (ranks_peer_world(c, j->world) < 0)
		return;
	l = &rk.loc[p];
	if (l->state == RL_JOINED && l->node != node) {
		/* Both hold p: the lower node keeps it, everywhere alike. */
		if (l->node < node) {
			log_warn_limited(&ranks_noise, "%s announces rank %u "
			    "(pid %u), which node %u holds (pid %u): node %u "
			    "keeps it", c->name, p, j->pid, l->node, l->pid,
			    l->node);
			return;
		}
		if (l->node == asocd->rank && rk.local[p] != NULL)
			ranks_withdraw(rk.local[p], node, j->pid);
	}
	l->node = node;
	l->pid = j->pid;
	l->incarnation = j->incarnation;
	l->state = RL_JOINED;
	l->stale = 0;
	log_debug("rank %u joined on node %u (pid %u)", p, node, j->pid);
	xfer_rank_joined(p);
}

void
ranks_on_leave(struct conn *c, const struct proto_msg *m)
{
	const struct proto_rk_leave *lv = &m->u.rk_leave;
	uint32_t node = c->peer->rank, p = lv->rank;
	char why[PROTO_MSG_MAX];
	struct rloc *l;

	if (lv->world != rk.world || p >= rk.world)
		return;		/* a world we do not track: nothing to undo */
	l = &rk.loc[p];
	/* A LEAVE of another holder (the loser of a duplicate race, or an
	 * older incarnation) changes nothing here. */
	if (l->state != RL_JOINED || l->node != node ||
	    l->incarnation != lv->incarnation)
		return;
	if (lv->status != PS_ELEFT) {
		/* The loser of a duplicate race withdrew its claim: the rank
		 * lives on, on the winner, whose JOIN is on its way here.
		 * Unknown till then: sends to it wait for that JOIN. */
		log_debug("rank %u withdrawn from node %u (%s): waiting for "
		    "its holder's announce", p, node,
		    proto_status_name(lv->status));
		l->state = RL_UNKNOWN;
		return;
	}
	ranks_mark_left(p);
	log_debug("rank %u left node %u", p, node);
	ranks_left_msg(p, why, sizeof why);
	xfer_rank_left(p, why);
}

int
ranks_peer_lost(uint32_t node)
{
	uint32_t p;
	int n = 0;

	for (p = 0; p < rk.world; p++)
		if (rk.loc[p].state == RL_JOINED && rk.loc[p].node == node) {
			rk.loc[p].state = RL_UNKNOWN;
			n++;
		}
	/* Sends to those ranks wait for their JOIN, which only a new
	 * connection brings; and the node must hear of ours again. */
	return n > 0 || rk.mode == RANKS_PROC;
}
