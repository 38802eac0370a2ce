/*
 * check_ranks.c: process ranks in the daemon (ranks.c and the xfer.c
 * paths that use them), without sockets (mock-transport.h).
 *
 * We are node 0 of three (node 2 of three for the duplicate race the
 * higher node loses); the test plays the other nodes, announcing their
 * ranks (RK_JOIN, RK_LEAVE) and sending RTSs, and holds the clients'
 * ends.  Process world: 16.
 */
#include "config.h"

#include <check.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check-main.h"
#include "mock-transport.h"
#include "rankwhere.h"
#include "le.h"

#define P	16

static int cfd[8];
static struct client *cl[8];

static void
setup(void)
{
	mock_daemon_start(3, 0, 0);
}

/* Session i: process rank p of P, as pid (1000 + p unless given). */
static struct client *
join(int i, uint32_t p)
{
	cl[i] = mock_client_proc(&cfd[i], 1000 + (pid_t)p, p, P, PS_OK);
	return cl[i];
}

/* The status of session i's reply to id (in *m); -1 when none yet. */
static int
status_of(int i, uint64_t id, struct proto_msg *m)
{
	return mock_done_status(cfd[i], id, m);
}

/* c_'s peer was last sent ABORT of transfer id_ with status st_ (a macro:
 * Check then names the case's line). */
#define ASSERT_ABORT(c_, id_, st_) do {					\
	const struct proto_msg *abort_ = mock_ctl_last((c_), PT_ABORT);	\
	ck_assert_ptr_nonnull(abort_);					\
	ck_assert_uint_eq(abort_->hdr.id, (id_));			\
	ck_assert_uint_eq(abort_->u.abort.status, (st_));		\
} while (0)

static void
rk_join(struct conn *c, uint32_t p, uint32_t pid, uint32_t inc)
{
	mock_rk_join(c, p, P, pid, inc);
}

static void
rk_leave(struct conn *c, uint32_t p, uint32_t inc)
{
	mock_rk_leave(c, p, P, inc);
}

static void
rts_proc(struct conn *c, uint64_t id, uint32_t src, uint32_t dst,
    uint64_t tag, uint64_t len)
{
	struct proto_msg m;

	memset(&m, 0, sizeof m);
	m.u.rts.tag = tag;
	m.u.rts.len = len;
	m.u.rts.src_rank = src;
	m.u.rts.dst_rank = dst;
	m.u.rts.world = P;
	m.u.rts.flags = PROTO_RTS_F_PROC;
	mock_from_peer(c, PT_RTS, id, &m);
}

/* What most cases start from: node 1's connection up, session 0 our
 * process rank 2 with a 100-byte buffer in *b (none when b is NULL),
 * and, unless NO_RANK, node 1 announcing rank far (pid 100 * far, its
 * incarnation inc).  Returns node 1's connection. */
#define NO_RANK	UINT32_MAX
static struct conn *
rank2_and_far(uint32_t far, uint32_t inc, struct buffer **b)
{
	struct conn *c = mock_conn_up(&mock_twosided, 1);

	join(0, 2);
	if (b != NULL)
		*b = mock_buffer(cl[0], 100, 1);
	if (far != NO_RANK)
		rk_join(c, far, 100 * far, inc);
	return c;
}

/* The index in mock.ctl of the last message of type on c, or -1. */
static int
ctl_index(const struct conn *c, uint16_t type)
{
	int i = (int)mock.nctl;

	while (i-- > 0)
		if (mock.ctl[i].m.hdr.type == type && mock.ctl[i].c == c)
			return i;
	return -1;
}

START_TEST(claim_announces_and_connects)
{
	struct conn *c = mock_conn_up(&mock_twosided, 1);
	const struct proto_msg *m;

	ck_assert_int_eq(ranks_mode(), RANKS_NONE);
	join(0, 3);
	ck_assert_int_eq(ranks_mode(), RANKS_PROC);
	ck_assert_uint_eq(ranks_world(), P);
	ck_assert_ptr_eq(ranks_local(3), cl[0]->lr);
	ck_assert_uint_eq(cl[0]->lr->localid, 7);
	m = mock_ctl_last(c, PT_RK_JOIN);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(m->u.rk_join.rank, 3);
	ck_assert_uint_eq(m->u.rk_join.world, P);
	ck_assert_uint_eq(m->u.rk_join.pid, 1003);
	/* Node 2 has no connection: one is opened, nothing waiting on it. */
	ck_assert_uint_eq(mock.connects, 1);
	ck_assert_ptr_nonnull(asocd->peers[2].connecting);
}
END_TEST

START_TEST(same_pid_joins_its_rank_again)
{
	struct client *a = join(0, 3), *b;

	b = mock_client_proc(&cfd[1], 1003, 3, P, PS_OK);
	ck_assert_ptr_eq(a->lr, b->lr);
	ck_assert_uint_eq(a->lr->sessions, 2);
	ck_assert_uint_eq(ranks_nlocal(), 1);
	/* One session closing leaves the rank in place. */
	control_drop(b, "disconnected");
	ck_assert_ptr_eq(ranks_local(3), a->lr);
	ck_assert_uint_eq(a->lr->sessions, 1);
	ck_assert_uint_eq(mock_ctl_count(PT_RK_LEAVE), 0);
}
END_TEST

START_TEST(other_pid_is_refused)
{
	join(0, 3);
	ck_assert_ptr_null(mock_client_proc(&cfd[1], 4242, 3, P, PS_EPERM));
	ck_assert_str_eq(mock.last_msg, "rank 3 is held by pid 1003 on node "
	    "0; each process needs its own rank (check --ntasks and "
	    "SLURM_PROCID)");
	ck_assert_uint_eq(cl[0]->lr->sessions, 1);
}
END_TEST

START_TEST(rank_live_on_another_node_is_refused)
{
	struct conn *c = mock_conn_up(&mock_twosided, 1);

	join(0, 0);
	rk_join(c, 5, 812, 1);
	ck_assert_ptr_null(mock_client_proc(&cfd[1], 4242, 5, P, PS_EPERM));
	ck_assert_ptr_nonnull(strstr(mock.last_msg, "rank 5 is held by pid "
	    "812 on node 1"));
}
END_TEST

START_TEST(mode_refusals)
{
	struct client *n;
	char msg[PROTO_MSG_MAX];

	/* Process ranks here: a node-rank session is refused. */
	join(0, 3);
	n = mock_client(&cfd[1], 0);
	ck_assert_int_eq(ranks_hello(n, 0, 0, 0, 0, msg, sizeof msg),
	    PS_EINVAL);
	ck_assert_str_eq(msg, "asocd serves process ranks of a world of 16 "
	    "(rank 3 is pid 1003): open with a rank, or run node-rank clients "
	    "after those");
	/* A status-only one is not. */
	ck_assert_int_eq(ranks_hello(n, PROTO_LH_F_STATUS, 0, 0, 0, msg,
	    sizeof msg), PS_OK);
	/* Another world, or a rank outside it. */
	ck_assert_ptr_null(mock_client_proc(&cfd[2], 77, 2, 8, PS_EINVAL));
	ck_assert_ptr_nonnull(strstr(mock.last_msg, "world of 16 process "
	    "ranks, not 8"));
	ck_assert_ptr_null(mock_client_proc(&cfd[2], 77, 17, 16, PS_EINVAL));
	ck_assert_str_eq(mock.last_msg, "rank 17 is not in a world of 16 "
	    "process ranks (0-15)");
	/* Once every process rank has gone, node ranks are served. */
	control_drop(cl[0], "disconnected");
	ck_assert_int_eq(ranks_mode(), RANKS_NONE);
	n = mock_client(&cfd[3], 1);
	ck_assert_int_eq(ranks_mode(), RANKS_NODE);
	ck_assert_ptr_null(mock_client_proc(&cfd[2], 77, 2, P, PS_EINVAL));
	ck_assert_str_eq(mock.last_msg, "this asocd serves node ranks (node 0 "
	    "of 3): open without a rank, or run process-rank clients when "
	    "those have finished");
}
END_TEST

START_TEST(max_ranks)
{
	asocd->conf->max_ranks = 2;
	join(0, 0);
	join(1, 1);
	ck_assert_ptr_null(mock_client_proc(&cfd[2], 77, 2, P, PS_ENOMEM));
	ck_assert_ptr_nonnull(strstr(mock.last_msg, "asocd holds 2 process "
	    "ranks (--max-ranks)"));
	/* A second session of a rank held is no new rank. */
	ck_assert_ptr_nonnull(mock_client_proc(&cfd[3], 1001, 1, P, PS_OK));
}
END_TEST

/* Two ranks on this node: a send from one to the other is a local copy
 * matched in the receiver's own queue; any-source sees it. */
START_TEST(same_node_ranks_copy)
{
	struct buffer *s, *r;
	struct proto_msg m;

	join(0, 4);
	join(1, 5);
	s = mock_buffer(cl[0], 1000, 0x5a);
	r = mock_buffer(cl[1], 1000, 0);
	mock_post(cl[1], REQ_RECV, 1, r, 0, 1000, MATCH_ANY, 9, 0);
	/* Rank 4 has no receive: its queue is its own. */
	ck_assert_uint_eq(cl[0]->lr->match.nrecvs, 0);
	ck_assert_uint_eq(cl[1]->lr->match.nrecvs, 1);
	mock_post(cl[0], REQ_SEND, 2, s, 0, 1000, 5, 9, 0);
	mock_loop();
	ck_assert_int_eq(status_of(1, 1, &m), PS_OK);
	ck_assert_uint_eq(m.u.l_done.peer, 4);
	ck_assert_int_eq(status_of(0, 2, &m), PS_OK);
	ck_assert_uint_eq(r->base[999], 0x5a);
	ck_assert_uint_eq(mock.nctl, 0);	/* no network */
}
END_TEST

/* A remote rank's RTS names it: matched by source rank in the
 * destination rank's queue; the RTS we send names both and the world. */
START_TEST(remote_ranks_by_rts)
{
	struct buffer *b;
	struct conn *c = rank2_and_far(9, 1, &b);
	const struct proto_msg *m;
	struct proto_msg d;

	rts_proc(c, 77, 9, 2, 5, 100);
	ck_assert_uint_eq(cl[0]->lr->match.nsends, 1);
	ck_assert_uint_eq(xfer_unexpected_from(1), 1);
	mock_post(cl[0], REQ_RECV, 1, b, 0, 100, 9, 5, 0);
	ck_assert_ptr_nonnull(m = mock_ctl_last(c, PT_CTS));
	ck_assert_uint_eq(m->hdr.id, 77);
	ck_assert_uint_eq(xfer_unexpected_from(1), 0);
	mock_post(cl[0], REQ_SEND, 2, b, 0, 50, 9, 6, 0);
	ck_assert_ptr_nonnull(m = mock_ctl_last(c, PT_RTS));
	ck_assert_uint_eq(m->u.rts.src_rank, 2);
	ck_assert_uint_eq(m->u.rts.dst_rank, 9);
	ck_assert_uint_eq(m->u.rts.world, P);
	ck_assert_uint_eq(m->u.rts.flags & PROTO_RTS_F_PROC, PROTO_RTS_F_PROC);
	ck_assert_int_eq(status_of(0, 2, &d), -1);
}
END_TEST

/* The bound on sends waiting for a receive is per sending daemon, all
 * its ranks and all of ours together: K ranks a node do not multiply it. */
START_TEST(unexpected_bound_per_sending_daemon)
{
	struct conn *c = mock_conn_up(&mock_twosided, 1);
	uint64_t i;

	join(0, 2);
	join(1, 3);
	rk_join(c, 9, 900, 1);
	rk_join(c, 10, 1000, 1);
	for (i = 1; i <= XFER_MAX_UNEXPECTED; i++)
		rts_proc(c, i, i % 2 ? 9 : 10, i % 4 < 2 ? 2 : 3, 5, 10);
	ck_assert_uint_eq(mock_ctl_count(PT_ABORT), 0);
	ck_assert_uint_eq(xfer_unexpected_from(1), XFER_MAX_UNEXPECTED);
	rts_proc(c, i, 10, 3, 5, 10);
	ASSERT_ABORT(c, i, PS_ENOMEM);
	ck_assert_uint_eq(cl[0]->lr->match.nsends + cl[1]->lr->match.nsends,
	    XFER_MAX_UNEXPECTED);
}
END_TEST

START_TEST(rts_from_unannounced_rank_drops)
{
	struct conn *c = rank2_and_far(NO_RANK, 0, NULL);

	rts_proc(c, 77, 9, 2, 5, 100);
	ck_assert_int_eq(c->dead, 1);
	ck_assert_uint_eq(cl[0]->lr->match.nsends, 0);
}
END_TEST

START_TEST(rts_across_modes_is_refused)
{
	struct conn *c = rank2_and_far(NO_RANK, 0, NULL);
	struct proto_msg r;

	/* A node-rank RTS to a daemon serving process ranks. */
	memset(&r, 0, sizeof r);
	r.u.rts.src_rank = 1;
	r.u.rts.len = 10;
	mock_from_peer(c, PT_RTS, 5, &r);
	ASSERT_ABORT(c, 5, PS_EINVAL);
	ck_assert_int_eq(c->dead, 0);
	/* To a rank that is not (or no longer) here. */
	rk_join(c, 9, 900, 1);
	rts_proc(c, 6, 9, 3, 5, 10);
	ASSERT_ABORT(c, 6, PS_ELEFT);
}
END_TEST

/* The sender's side of that refusal: its client learns what to do. */
START_TEST(refused_across_modes_tells_the_sender)
{
	struct conn *c = mock_conn_up(&mock_twosided, 1);
	struct buffer *b;
	struct proto_msg m, d;
	uint64_t id;

	cl[0] = mock_client(&cfd[0], 1);	/* node ranks here */
	b = mock_buffer(cl[0], 100, 1);
	mock_post(cl[0], REQ_SEND, 1, b, 0, 100, 1, 5, 0);
	id = mock_ctl_last(c, PT_RTS)->hdr.id;
	ck_assert_uint_eq(mock_ctl_last(c, PT_RTS)->u.rts.flags &
	    PROTO_RTS_F_PROC, 0);
	memset(&m, 0, sizeof m);
	m.u.abort.status = PS_EINVAL;
	m.u.abort.to_sender = 1;
	mock_from_peer(c, PT_ABORT, id, &m);
	ck_assert_int_eq(status_of(0, 1, &d), PS_EINVAL);
	ck_assert_str_eq(d.u.l_done.msg, "node 1 serves process ranks, this "
	    "send addresses node ranks: every process of a job must join the "
	    "same way");
}
END_TEST

/* A send to a rank nobody has announced waits for its JOIN; the JOIN
 * comes first on the connection that then carries the RTS. */
START_TEST(send_waits_for_join)
{
	struct buffer *b;
	struct conn *c = rank2_and_far(NO_RANK, 0, &b);
	const struct proto_msg *m;
	struct proto_msg d;

	mock_post(cl[0], REQ_SEND, 1, b, 0, 100, 11, 5, 0);
	ck_assert_ptr_null(mock_ctl_last(c, PT_RTS));
	ck_assert_int_eq(status_of(0, 1, &d), -1);
	rk_join(c, 11, 1100, 1);
	ck_assert_ptr_nonnull(m = mock_ctl_last(c, PT_RTS));
	ck_assert_uint_eq(m->u.rts.dst_rank, 11);
	ck_assert_uint_eq(asocd->peers[1].xfers_active, 1);
}
END_TEST

START_TEST(join_timeout)
{
	struct buffer *b;
	struct proto_msg d;

	asocd->conf->join_timeout = 1;
	join(0, 2);
	b = mock_buffer(cl[0], 100, 1);
	mock_post(cl[0], REQ_SEND, 1, b, 0, 100, 11, 5, 0);
	mock_post(cl[0], REQ_SEND, 2, b, 0, 100, 12, 5, 200);
	mock_run_for(400);
	ck_assert_int_eq(status_of(0, 2, &d), PS_ETIMEDOUT);
	ck_assert_str_eq(d.u.l_done.msg, "rank 12 has not joined after 1 s: "
	    "is a process with SLURM_PROCID 12 running (world of 16)?");
	ck_assert_int_eq(status_of(0, 1, &d), -1);
	mock_run_for(900);
	ck_assert_int_eq(status_of(0, 1, &d), PS_ETIMEDOUT);
	ck_assert_str_eq(d.u.l_done.msg, "rank 11 has not joined after 1 s: "
	    "is a process with SLURM_PROCID 11 running (world of 16)?");
	ck_assert_uint_eq(asocd->xfers_active, 0);
}
END_TEST

/* A remote rank leaving fails what waits for it; a new send fails at
 * once; a rank joining again is new. */
START_TEST(remote_leave_fails_eleft)
{
	struct buffer *b;
	struct conn *c = rank2_and_far(5, 3, &b);
	struct proto_msg d;

	mock_post(cl[0], REQ_RECV, 1, b, 0, 100, 5, 5, 0);
	mock_post(cl[0], REQ_RECV, 2, b, 0, 100, MATCH_ANY, 5, 0);
	rk_leave(c, 5, 2);		/* an older incarnation: stale */
	ck_assert_int_eq(status_of(0, 1, &d), -1);
	rk_leave(c, 5, 3);
	ck_assert_int_eq(status_of(0, 1, &d), PS_ELEFT);
	ck_assert_str_eq(d.u.l_done.msg, "rank 5 left (its process exited)");
	ck_assert_int_eq(status_of(0, 2, &d), -1);	/* any source */
	mock_post(cl[0], REQ_SEND, 3, b, 0, 100, 5, 5, 0);
	ck_assert_int_eq(status_of(0, 3, &d), PS_ELEFT);
	mock_post(cl[0], REQ_RECV, 4, b, 0, 100, 5, 5, 0);
	ck_assert_int_eq(status_of(0, 4, &d), PS_ELEFT);
	rk_join(c, 5, 501, 4);
	mock_post(cl[0], REQ_SEND, 5, b, 0, 10, 5, 5, 0);
	ck_assert_uint_eq(mock_ctl_last(c, PT_RTS)->u.rts.dst_rank, 5);
}
END_TEST

/* Once this daemon's last process rank has gone (the step is over
 * here), a rank that left is unknown again: a process of the next step
 * waits for it to join rather than failing on the old leave. */
START_TEST(next_step_waits_for_rejoin)
{
	struct conn *c = mock_conn_up(&mock_twosided, 1);
	struct buffer *b;
	struct proto_msg d;

	join(0, 2);
	rk_join(c, 5, 500, 1);
	rk_leave(c, 5, 1);
	ck_assert_uint_eq(ranks_loc(5)->state, RL_LEFT);
	ck_assert_int_eq(ranks_left(5), 1);
	control_drop(cl[0], "disconnected");
	ck_assert_int_eq(ranks_left(5), 0);
	ck_assert_int_eq(ranks_node_of(5), -1);
	join(1, 2);
	b = mock_buffer(cl[1], 100, 1);
	mock_post(cl[1], REQ_SEND, 1, b, 0, 10, 5, 5, 0);
	mock_post(cl[1], REQ_RECV, 2, b, 0, 10, 5, 5, 0);
	ck_assert_int_eq(status_of(1, 1, &d), -1);
	ck_assert_int_eq(status_of(1, 2, &d), -1);
	/* A leave heard while no rank of ours is here is no news. */
	rk_join(c, 6, 600, 1);
	control_drop(cl[1], "disconnected");
	rk_leave(c, 6, 1);
	ck_assert_int_eq(ranks_left(6), 0);
	join(2, 2);
	rk_join(c, 5, 501, 2);
	b = mock_buffer(cl[2], 100, 1);
	mock_post(cl[2], REQ_SEND, 3, b, 0, 10, 5, 5, 0);
	ck_assert_uint_eq(mock_ctl_last(c, PT_RTS)->u.rts.dst_rank, 5);
}
END_TEST

/* Our rank leaving: what arrived for it is aborted ELEFT, local sends
 * to it fail, the peers hear RK_LEAVE. */
START_TEST(local_leave_aborts_and_announces)
{
	struct conn *c = mock_conn_up(&mock_twosided, 1);
	struct buffer *b;
	const struct proto_msg *m;
	struct proto_msg d;
	uint32_t inc;

	join(0, 2);
	join(1, 3);
	b = mock_buffer(cl[1], 100, 1);
	inc = cl[0]->lr->incarnation;
	rk_join(c, 9, 900, 1);
	rts_proc(c, 77, 9, 2, 5, 100);
	mock_post(cl[1], REQ_SEND, 1, b, 0, 100, 2, 5, 0);
	mock_post(cl[1], REQ_RECV, 2, b, 0, 100, 2, 6, 0);
	control_drop(cl[0], "disconnected");
	ASSERT_ABORT(c, 77, PS_ELEFT);
	ck_assert_ptr_nonnull(m = mock_ctl_last(c, PT_RK_LEAVE));
	ck_assert_uint_eq(m->u.rk_leave.rank, 2);
	ck_assert_uint_eq(m->u.rk_leave.incarnation, inc);
	ck_assert_uint_eq(m->u.rk_leave.status, PS_ELEFT);
	ck_assert_int_eq(status_of(1, 1, &d), PS_ELEFT);
	ck_assert_str_eq(d.u.l_done.msg, "rank 2 left (its process exited)");
	ck_assert_int_eq(status_of(1, 2, &d), PS_ELEFT);
	ck_assert_ptr_null(ranks_local(2));
	ck_assert_uint_eq(asocd->xfers_active, 0);
	/* Claimed again: a new incarnation. */
	join(2, 2);
	ck_assert_uint_gt(cl[2]->lr->incarnation, inc);
}
END_TEST

/* A mid-transfer leave: the peer hears ELEFT, not "cancelled". */
START_TEST(leave_mid_transfer_tells_eleft)
{
	struct buffer *b;
	struct conn *c = rank2_and_far(9, 1, &b);
	uint64_t id;

	mock_post(cl[0], REQ_SEND, 1, b, 0, 100, 9, 5, 0);
	id = mock_ctl_last(c, PT_RTS)->hdr.id;
	control_drop(cl[0], "disconnected");
	ASSERT_ABORT(c, id, PS_ELEFT);
	ck_assert_int_lt(ctl_index(c, PT_ABORT), ctl_index(c, PT_RK_LEAVE));
}
END_TEST

/* A connection coming up hears of every local rank at once, before
 * anything else goes on it. */
START_TEST(announce_on_connection_up)
{
	const struct proto_msg *m;
	struct conn *c;
	int i;

	join(0, 2);
	join(1, 6);
	c = asocd->peers[1].connecting;
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(ctl_index(c, PT_RK_JOIN), -1);
	peer_conn_opened(c);
	mock_handshake(c);
	ck_assert_int_ge(i = ctl_index(c, PT_RK_JOIN), 1);
	m = &mock.ctl[i].m;
	ck_assert_uint_eq(m->u.rk_join.rank, 6);
	ck_assert_uint_eq(mock.ctl[i - 1].m.hdr.type, PT_RK_JOIN);
	ck_assert_uint_eq(mock.ctl[i - 1].m.u.rk_join.rank, 2);
}
END_TEST

/* Both nodes held rank 3 before hearing of the other: the lower node
 * keeps it; a third daemon keeps the lower node's entry. */
START_TEST(duplicate_lower_node_keeps)
{
	struct conn *c1 = mock_conn_up(&mock_twosided, 1);
	struct conn *c2 = mock_conn_up(&mock_twosided, 2);
	const struct rloc *l;

	join(0, 0);
	rk_join(c2, 3, 300, 1);
	rk_join(c1, 3, 301, 1);
	l = ranks_loc(3);
	ck_assert_uint_eq(l->node, 1);
	ck_assert_uint_eq(l->pid, 301);
	rk_join(c2, 3, 300, 1);		/* the higher node again: kept */
	ck_assert_uint_eq(l->node, 1);
	rk_leave(c2, 3, 1);		/* the loser's LEAVE: ignored */
	ck_assert_uint_eq(l->state, RL_JOINED);
	ck_assert_uint_eq(l->node, 1);
	/* Rank 0 is ours, and we are node 0: a peer's claim loses. */
	rk_join(c1, 0, 42, 1);
	ck_assert_ptr_eq(ranks_local(0), cl[0]->lr);
	ck_assert_uint_eq(ranks_loc(0)->node, 0);
}
END_TEST

START_TEST(duplicate_higher_node_withdraws)
{
	struct conn *c0;
	struct buffer *b;
	struct proto_msg d;
	const struct proto_msg *m;

	c0 = mock_conn_up(&mock_twosided, 0);
	join(0, 3);
	b = mock_buffer(cl[0], 100, 1);
	mock_post(cl[0], REQ_RECV, 1, b, 0, 100, MATCH_ANY, 5, 0);
	rk_join(c0, 3, 812, 1);
	ck_assert_int_eq(status_of(0, 1, &d), PS_EPERM);
	ck_assert_str_eq(d.u.l_done.msg, "rank 3 is also held by pid 812 on "
	    "node 0: this process's rank is withdrawn");
	ck_assert_ptr_nonnull(m = mock_ctl_last(c0, PT_RK_LEAVE));
	ck_assert_uint_eq(m->u.rk_leave.rank, 3);
	ck_assert_ptr_null(ranks_local(3));
	ck_assert_uint_eq(ranks_loc(3)->node, 0);
	mock_post(cl[0], REQ_SEND, 2, b, 0, 100, 1, 5, 0);
	ck_assert_int_eq(status_of(0, 2, &d), PS_EPERM);
	ck_assert_ptr_nonnull(strstr(d.u.l_done.msg, "withdrawn"));
	control_drop(cl[0], "disconnected");
	ck_assert_int_eq(ranks_mode(), RANKS_NONE);
}
END_TEST

/* A send refused because the receiver knows one of its two ranks as held
 * on another node (a duplicate claim) names both and what to check. */
START_TEST(refused_as_duplicate_tells_the_sender)
{
	struct buffer *b;
	struct conn *c = rank2_and_far(9, 1, &b);
	struct proto_msg m, d;

	mock_post(cl[0], REQ_SEND, 1, b, 0, 100, 9, 5, 0);
	memset(&m, 0, sizeof m);
	m.u.abort.status = PS_EPERM;
	m.u.abort.to_sender = 1;
	mock_from_peer(c, PT_ABORT, mock_ctl_last(c, PT_RTS)->hdr.id, &m);
	ck_assert_int_eq(status_of(0, 1, &d), PS_EPERM);
	ck_assert_str_eq(d.u.l_done.msg, "node 1 refused this send from rank 2 "
	    "to rank 9: one of them is held on two nodes (check --ntasks and "
	    "SLURM_PROCID)");
}
END_TEST

/* Node lost: the ranks that lived there are unknown again, and receives
 * naming them fail as for a lost node. */
START_TEST(peer_lost_forgets_its_ranks)
{
	struct buffer *b;
	struct conn *c = rank2_and_far(5, 1, &b);
	struct proto_msg d;

	mock_post(cl[0], REQ_RECV, 1, b, 0, 100, 5, 5, 0);
	peer_conn_lost(c, "mock: reset");
	ck_assert_int_eq(status_of(0, 1, &d), PS_EPEERLOST);
	/* "node": "rank 1" would name a process rank here. */
	ck_assert_str_eq(d.u.l_done.msg, "lost the connection to node 1: "
	    "mock: reset");
	ck_assert_uint_eq(ranks_loc(5)->state, RL_UNKNOWN);
}
END_TEST

/* An lrank going takes its match's count table with it: it grows to the
 * highest source seen (4 bytes a rank), so a rank that rejoins again and
 * again, sent to by a high rank, leaked it every time (53 MB after 200
 * incarnations with a source of 65534). */
START_TEST(leaving_rank_frees_its_match)
{
	struct conn *c = mock_conn_up(&mock_twosided, 1);
	struct client *v;
	struct proto_msg m;
	size_t before, after;
	int i, fd;

	/* Rank 0 stays: the step goes on, each claim of 1 is a new one. */
	mock_client_proc(&fd, 1000, 0, 65535, PS_OK);
	mock_rk_join(c, 65534, 65535, 5, 1);
	before = mallinfo2().uordblks + mallinfo2().hblkhd;
	for (i = 0; i < 50; i++) {
		int fd2;

		v = mock_client_proc(&fd2, 2000 + i, 1, 65535, PS_OK);
		memset(&m, 0, sizeof m);
		m.u.rts.len = 10;
		m.u.rts.src_rank = 65534;
		m.u.rts.dst_rank = 1;
		m.u.rts.world = 65535;
		m.u.rts.flags = PROTO_RTS_F_PROC;
		mock_from_peer(c, PT_RTS, 1000 + i, &m);
		ck_assert_uint_eq(v->lr->match.nfrom, 65535);
		control_drop(v, "disconnected");
		close(fd2);
	}
	after = mallinfo2().uordblks + mallinfo2().hblkhd;
	/* Without the free: 50 x 256 KiB. */
	ck_assert_msg(after - before < 1000000, "50 incarnations of rank 1 "
	    "kept %zu bytes", after - before);
}
END_TEST

/* Every rank of ours left (mode NONE, the world still known): an RTS that
 * crossed our RK_LEAVE is for a rank that left, even when its number is
 * our node's (0 here): ABORT ELEFT, never queued for node-rank clients. */
START_TEST(rts_after_all_left_is_eleft_not_node)
{
	struct conn *c = mock_conn_up(&mock_twosided, 1);

	join(0, 0);
	rk_join(c, 9, 900, 1);
	control_drop(cl[0], "disconnected");
	ck_assert_int_eq(ranks_mode(), RANKS_NONE);
	rts_proc(c, 77, 9, 0, 5, 100);
	ASSERT_ABORT(c, 77, PS_ELEFT);
	ck_assert_uint_eq(xfer_unexpected_from(1), 0);
}
END_TEST

/* Our rank 3 withdrawn (node 0 holds it): an RTS for it from node 1 is
 * refused EPERM (it did not leave); a send from our rank 4 to it, queued
 * before, names rank 3's holder, not "this process's rank". */
START_TEST(withdrawn_rank_refuses_as_held_elsewhere)
{
	struct conn *c0, *c1;
	struct buffer *b;
	struct proto_msg d;

	c0 = mock_conn_up(&mock_twosided, 0);
	c1 = mock_conn_up(&mock_twosided, 1);
	join(0, 3);
	join(1, 4);
	b = mock_buffer(cl[1], 100, 1);
	mock_post(cl[1], REQ_SEND, 1, b, 0, 100, 3, 5, 0);
	rk_join(c1, 7, 700, 1);
	rk_join(c0, 3, 812, 1);
	ck_assert_int_eq(status_of(1, 1, &d), PS_EPERM);
	ck_assert_str_eq(d.u.l_done.msg, "rank 3 is held by pid 812 on node 0 "
	    "(its duplicate here, pid 1003, was withdrawn): send to it again");
	rts_proc(c1, 78, 7, 3, 5, 100);
	ASSERT_ABORT(c1, 78, PS_EPERM);
}
END_TEST

/* The loser of a duplicate race withdraws with RK_LEAVE status EPERM: a
 * third daemon that has not heard the winner yet must not take the live
 * rank for left (sends to it wait for the winner's JOIN). */
START_TEST(withdrawal_leave_is_not_a_leave)
{
	struct conn *c2 = mock_conn_up(&mock_twosided, 2);
	struct conn *c1 = mock_conn_up(&mock_twosided, 1);
	struct buffer *b;
	struct proto_msg m, d;

	join(0, 0);
	b = mock_buffer(cl[0], 100, 1);
	rk_join(c2, 3, 300, 1);
	memset(&m, 0, sizeof m);
	m.u.rk_leave.rank = 3;
	m.u.rk_leave.world = P;
	m.u.rk_leave.incarnation = 1;
	m.u.rk_leave.status = PS_EPERM;
	mock_from_peer(c2, PT_RK_LEAVE, 0, &m);
	ck_assert_uint_eq(ranks_loc(3)->state, RL_UNKNOWN);
	ck_assert_int_eq(ranks_left(3), 0);
	mock_post(cl[0], REQ_SEND, 1, b, 0, 100, 3, 5, 0);
	ck_assert_int_eq(status_of(0, 1, &d), -1);
	/* The winner's JOIN: the send goes there. */
	rk_join(c1, 3, 812, 1);
	ck_assert_ptr_nonnull(mock_ctl_last(c1, PT_RTS));
	ck_assert_uint_eq(mock_ctl_last(c1, PT_RTS)->u.rts.dst_rank, 3);
}
END_TEST

/* The connection to a node with ranks is lost: its ranks are unknown and
 * sends to them wait for JOINs that only a new connection brings, so the
 * pair is brought up again at once (then with the back-off), and the
 * node's JOINs let the send go. */
START_TEST(lost_peer_is_reconnected)
{
	struct buffer *b;
	struct conn *c = rank2_and_far(5, 1, &b), *c2;
	unsigned before;

	before = mock.connects;
	peer_conn_lost(c, "mock: reset");
	ck_assert_uint_gt(mock.connects, before);
	ck_assert_ptr_nonnull(asocd->peers[1].connecting);
	mock_post(cl[0], REQ_SEND, 1, b, 0, 100, 5, 5, 0);
	c2 = asocd->peers[1].connecting;
	peer_conn_opened(c2);
	mock_handshake(c2);
	/* Ours announced again on the new connection. */
	ck_assert_ptr_nonnull(mock_ctl_last(c2, PT_RK_JOIN));
	rk_join(c2, 5, 500, 2);
	ck_assert_ptr_nonnull(mock_ctl_last(c2, PT_RTS));
}
END_TEST

/* A join looks at the one slot of each waiting L_WHERE that is its rank,
 * not the requests' whole ranges (0.43 s a join with 2000 requests over
 * 65535 ranks); the answer is written as ranks join. */
START_TEST(where_join_looks_at_its_slot_only)
{
	struct conn *c = mock_conn_up(&mock_twosided, 1);
	struct client *me;
	struct buffer *b;
	struct proto_msg d;
	uint32_t i;
	int fd;

	me = mock_client_proc(&fd, 1000, 0, 65535, PS_OK);
	cfd[0] = fd;
	b = mock_buffer(me, 65545 * 4, 0);
	mock_post(me, REQ_WHERE, 1, b, 0, 65535 * 4, 0, 0, 0);
	mock_post(me, REQ_WHERE, 2, b, 65535 * 4, 4 * 10, 10, 0, 0);
	rankwhere_slots_seen = 0;
	for (i = 5; i < 25; i++)
		mock_rk_join(c, i, 65535, 5000 + i, 1);
	/* 20 joins in the first range, 10 of them in the second's. */
	ck_assert_uint_eq(rankwhere_slots_seen, 30);
	ck_assert_int_eq(status_of(0, 2, &d), PS_OK);
	ck_assert_uint_eq(d.u.l_done.len, 10);
	ck_assert_int_eq(status_of(0, 1, &d), -1);
	ck_assert_uint_eq(le_get32(b->base + 4 * 5), 1);
	ck_assert_uint_eq(le_get32(b->base + 4 * 0), 0);
	ck_assert_uint_eq(le_get32(b->base + 4 * 25), 0xffffffffu);
}
END_TEST

/* At most RANKWHERE_MAX_WAITING L_WHERE wait per session: the next is
 * refused, saying why. */
START_TEST(where_waiting_is_capped_per_session)
{
	struct buffer *b;
	struct proto_msg d;
	int i;

	join(0, 2);
	b = mock_buffer(cl[0], 4 * P, 0);
	for (i = 0; i < RANKWHERE_MAX_WAITING; i++)
		mock_post(cl[0], REQ_WHERE, 1 + i, b, 0, 4 * P, 0, 0, 0);
	mock_post(cl[0], REQ_WHERE, 9, b, 0, 4 * P, 0, 0, 0);
	ck_assert_int_eq(status_of(0, 9, &d), PS_ENOMEM);
	ck_assert_str_eq(d.u.l_done.msg, "this session already has 4 "
	    "asoc_rank_nodes calls waiting for ranks to join: wait for one "
	    "to finish");
	ck_assert_int_eq(status_of(0, 1, &d), -1);
	/* Complete at once: not waiting, not counted. */
	mock_post(cl[0], REQ_WHERE, 10, b, 0, 4, 2, 0, 0);
	ck_assert_int_eq(status_of(0, 10, &d), PS_OK);
}
END_TEST

/* The rank an L_WHERE timeout names is the daemon's own record of what
 * is missing: a client that wrote over its slots got rank 4294967295. */
START_TEST(where_timeout_names_the_missing_rank)
{
	struct buffer *b;
	struct proto_msg d;

	join(0, 2);
	b = mock_buffer(cl[0], 4 * P, 0);
	mock_post(cl[0], REQ_WHERE, 1, b, 0, 4 * P, 0, 0, 100);
	memset(b->base, 0, 4 * P);
	mock_run_for(300);
	ck_assert_int_eq(status_of(0, 1, &d), PS_ETIMEDOUT);
	ck_assert_str_eq(d.u.l_done.msg, "rank 0 has not joined after 1 s: "
	    "is a process with SLURM_PROCID 0 running (world of 16)?");
}
END_TEST

/* A rank that joined and left since the caller joined (a quick process)
 * is answered at once, on the node it was last on, remote or ours.  One
 * that left before the caller joined may be started again (or be an
 * earlier step's): it is waited for, as before. */
START_TEST(where_answers_a_rank_that_left)
{
	struct conn *c = mock_conn_up(&mock_twosided, 1);
	struct buffer *b, *b3;
	struct proto_msg d;

	join(0, 2);
	b = mock_buffer(cl[0], 4 * P, 0);
	rk_join(c, 5, 500, 1);
	rk_leave(c, 5, 1);
	rk_join(c, 6, 600, 1);
	join(1, 7);
	control_drop(cl[1], "disconnected");
	ck_assert_int_eq(ranks_left(7), 1);
	mock_post(cl[0], REQ_WHERE, 1, b, 4 * 5, 4 * 3, 5, 0, 0);
	ck_assert_int_eq(status_of(0, 1, &d), PS_OK);
	ck_assert_uint_eq(d.u.l_done.len, 3);
	ck_assert_uint_eq(le_get32(b->base + 4 * 5), 1);
	ck_assert_uint_eq(le_get32(b->base + 4 * 6), 1);
	ck_assert_uint_eq(le_get32(b->base + 4 * 7), 0);
	/* A process joining after rank 5 left waits for its new join. */
	join(3, 9);
	b3 = mock_buffer(cl[3], 4 * P, 0);
	mock_post(cl[3], REQ_WHERE, 2, b3, 4 * 5, 4, 5, 0, 0);
	ck_assert_int_eq(status_of(3, 2, &d), -1);
	rk_join(c, 5, 501, 2);
	ck_assert_int_eq(status_of(3, 2, &d), PS_OK);
	ck_assert_uint_eq(le_get32(b3->base + 4 * 5), 1);
	/* The step over here (no rank of ours left): a leave heard is stale,
	 * and rank 5 is waited for again. */
	control_drop(cl[0], "disconnected");
	control_drop(cl[3], "disconnected");
	rk_leave(c, 5, 2);
	join(2, 2);
	b = mock_buffer(cl[2], 4 * P, 0);
	mock_post(cl[2], REQ_WHERE, 3, b, 4 * 5, 4, 5, 0, 0);
	ck_assert_int_eq(status_of(2, 3, &d), -1);
	rk_join(c, 5, 502, 3);
	ck_assert_int_eq(status_of(2, 3, &d), PS_OK);
	ck_assert_uint_eq(le_get32(b->base + 4 * 5), 1);
}
END_TEST

/* A JOIN looks at the sends waiting for its rank, not every send waiting
 * for any join. */
START_TEST(join_looks_at_sends_to_its_rank_only)
{
	struct buffer *b;
	struct conn *c = rank2_and_far(NO_RANK, 0, &b);
	uint32_t p;
	int i;

	for (p = 5; p < 15; p++)
		for (i = 0; i < 10; i++)
			mock_post(cl[0], REQ_SEND, 1 + p * 10 + (uint32_t)i, b,
			    0, 100, p, 5, 0);
	xfer_join_waits_seen = 0;
	rk_join(c, 5, 500, 1);
	ck_assert_uint_eq(xfer_join_waits_seen, 10);
	ck_assert_uint_eq(mock_ctl_count(PT_RTS), 10);
}
END_TEST

static Suite *
ranks_suite(void)
{
	return check_suite("ranks", "core", setup, NULL, 10, CHECK_TESTS(
	    claim_announces_and_connects, same_pid_joins_its_rank_again,
	    other_pid_is_refused, rank_live_on_another_node_is_refused,
	    mode_refusals, max_ranks, same_node_ranks_copy,
	    remote_ranks_by_rts, unexpected_bound_per_sending_daemon,
	    rts_from_unannounced_rank_drops,
	    rts_across_modes_is_refused, refused_across_modes_tells_the_sender,
	    send_waits_for_join, join_timeout,
	    remote_leave_fails_eleft, next_step_waits_for_rejoin,
	    local_leave_aborts_and_announces,
	    leave_mid_transfer_tells_eleft, announce_on_connection_up,
	    duplicate_lower_node_keeps,
	    refused_as_duplicate_tells_the_sender,
	    peer_lost_forgets_its_ranks, leaving_rank_frees_its_match,
	    rts_after_all_left_is_eleft_not_node,
	    withdrawal_leave_is_not_a_leave, lost_peer_is_reconnected,
	    where_join_looks_at_its_slot_only,
	    where_waiting_is_capped_per_session,
	    where_timeout_names_the_missing_rank,
	    where_answers_a_rank_that_left,
	    join_looks_at_sends_to_its_rank_only));
}

/* The tests seen from node 2, the higher of two nodes holding one rank:
 * their own fixture, so that no test starts a second mock daemon over
 * the first (whose settings and event base would leak, which the
 * sanitizer build reports). */
static void
setup_node2(void)
{
	mock_daemon_start_as(3, 2);
}

static Suite *
ranks_node2_suite(void)
{
	return check_suite("ranks_node2", "core", setup_node2, NULL, 10,
	    CHECK_TESTS(duplicate_higher_node_withdraws,
	    withdrawn_rank_refuses_as_held_elsewhere));
}

int
main(void)
{
	return check_run(ranks_suite(), ranks_node2_suite(), NULL);
}
