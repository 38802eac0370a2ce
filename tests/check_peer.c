/*
 * check_peer.c: peer.c without sockets (mock-transport.h): connecting on
 * first use, sends waiting for the handshake, retry and giving up, the
 * loss of a peer and connecting again, and one connection per pair when
 * both ends connect at once (the lower rank's).
 *
 * We are rank 0 of three, or rank 2 where the rule wants us the higher
 * rank of the pair (as_rank); rank 1 answers the handshake through the
 * mock.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check-main.h"
#include "mock-transport.h"

static int cfd;
static struct client *cl;
static struct buffer *buf;
static struct peer *p1;

static void
setup(void)
{
	mock_daemon_start(3, 0, 0);
	cl = mock_client(&cfd, 1);
	buf = mock_buffer(cl, 4096, 7);
	p1 = &asocd->peers[1];
}

/* The mock makes us rank 0: be rank instead, before anything is sent. */
static void
as_rank(int rank)
{
	char err[256];

	peers_free();
	asocd->conf->rank = rank;
	ck_assert_msg(peers_init(err, sizeof err) == 0, "peers_init: %s", err);
	ck_assert_uint_eq(asocd->rank, (uint32_t)rank);
	p1 = &asocd->peers[1];
}

/* The status of request id's reply; -1 when there is none yet. */
static int
done_status(uint64_t id)
{
	struct proto_msg m;

	return mock_done_status(cfd, id, &m);
}

/* Rank 1's connection, opened by the transport and handshaken. */
static struct conn *
bring_up(void)
{
	struct conn *c = p1->connecting;

	ck_assert_ptr_nonnull(c);
	peer_conn_opened(c);
	mock_handshake(c);
	return c;
}

START_TEST(first_send_connects)
{
	struct conn *c;

	ck_assert_int_eq(p1->state, PROTO_PEER_IDLE);
	mock_post(cl, REQ_SEND, 1, buf, 0, 100, 1, 3, 0);
	ck_assert_uint_eq(mock.connects, 1);
	ck_assert_int_eq(p1->state, PROTO_PEER_CONNECTING);
	ck_assert_ptr_nonnull(TAILQ_FIRST(&p1->waiting));
	ck_assert_uint_eq(mock_ctl_count(PT_RTS), 0);
	mock_post(cl, REQ_SEND, 2, buf, 0, 100, 1, 3, 0);
	ck_assert_uint_eq(mock.connects, 1);	/* one attempt at a time */
	c = bring_up();
	ck_assert_int_eq(p1->state, PROTO_PEER_UP);
	ck_assert_ptr_null(p1->connecting);
	ck_assert_ptr_null(TAILQ_FIRST(&p1->waiting));
	ck_assert_ptr_eq(TAILQ_FIRST(&p1->conns), c);
	ck_assert_uint_eq(mock_ctl_count(PT_RTS), 2);
	ck_assert_ptr_eq(mock.ctl[mock.nctl - 1].c, c);
	ck_assert_uint_eq(peers_connected(), 1);
}
END_TEST

START_TEST(next_send_uses_the_connection)
{
	mock_post(cl, REQ_SEND, 1, buf, 0, 100, 1, 3, 0);
	bring_up();
	mock_post(cl, REQ_SEND, 2, buf, 0, 100, 1, 3, 0);
	ck_assert_uint_eq(mock.connects, 1);
	ck_assert_uint_eq(mock_ctl_count(PT_RTS), 2);
}
END_TEST

START_TEST(cancel_while_waiting)
{
	mock_post(cl, REQ_SEND, 1, buf, 0, 100, 1, 3, 0);
	xfer_cancel(TAILQ_FIRST(&cl->reqs), PS_ECANCELLED, "cancelled");
	ck_assert_int_eq(done_status(1), PS_ECANCELLED);
	ck_assert_ptr_null(TAILQ_FIRST(&p1->waiting));
	bring_up();
	ck_assert_uint_eq(mock_ctl_count(PT_RTS), 0);
	ck_assert_uint_eq(asocd->xfers_active, 0);
}
END_TEST

START_TEST(unreachable_peer_is_given_up)
{
	asocd->conf->connection_timeout = 1;
	mock.connect_fails = 1;
	mock_post(cl, REQ_SEND, 1, buf, 0, 100, 1, 3, 0);
	mock_post(cl, REQ_SEND, 2, buf, 0, 100, 1, 3, 0);
	ck_assert_int_eq(done_status(1), -1);
	mock_run_for(1500);
	ck_assert_uint_gt(mock.connects, 1);	/* it retried */
	ck_assert_int_eq(done_status(1), PS_ENOPEER);
	ck_assert_int_eq(done_status(2), PS_ENOPEER);
	ck_assert_int_eq(p1->state, PROTO_PEER_FAILED);
	ck_assert_ptr_null(TAILQ_FIRST(&p1->waiting));
	ck_assert_uint_eq(asocd->xfers_active, 0);
}
END_TEST

START_TEST(lost_before_the_handshake_retries)
{
	struct conn *c;

	mock_post(cl, REQ_SEND, 1, buf, 0, 100, 1, 3, 0);
	c = p1->connecting;
	peer_conn_opened(c);
	peer_conn_lost(c, "mock: reset");
	ck_assert_ptr_null(p1->connecting);
	ck_assert_int_eq(done_status(1), -1);	/* still waiting */
	mock_run_for(600);			/* the back-off */
	ck_assert_uint_eq(mock.connects, 2);
	bring_up();
	ck_assert_uint_eq(mock_ctl_count(PT_RTS), 1);
}
END_TEST

START_TEST(loss_fails_transfers_and_receives)
{
	struct conn *c;

	mock_post(cl, REQ_SEND, 1, buf, 0, 100, 1, 3, 0);
	c = bring_up();
	mock_post(cl, REQ_RECV, 2, buf, 0, 100, 1, 3, 0);
	mock_post(cl, REQ_RECV, 3, buf, 0, 100, 2, 3, 0);
	peer_conn_lost(c, "mock: cable pulled");
	ck_assert_int_eq(done_status(1), PS_EPEERLOST);
	ck_assert_int_eq(done_status(2), PS_EPEERLOST);
	ck_assert_int_eq(done_status(3), -1);	/* rank 2 is another story */
	ck_assert_int_eq(p1->state, PROTO_PEER_IDLE);
	ck_assert_ptr_null(TAILQ_FIRST(&p1->conns));
	ck_assert_uint_eq(peers_connected(), 0);
	ck_assert_uint_eq(mock.closes, 1);
}
END_TEST

START_TEST(connects_again_after_a_loss)
{
	struct conn *c, *c2;

	mock_post(cl, REQ_SEND, 1, buf, 0, 100, 1, 3, 0);
	c = bring_up();
	peer_conn_lost(c, "mock: cable pulled");
	mock_loop();
	mock_post(cl, REQ_SEND, 2, buf, 0, 100, 1, 3, 0);
	ck_assert_uint_eq(mock.connects, 2);
	c2 = bring_up();
	ck_assert_ptr_eq(mock.ctl[mock.nctl - 1].c, c2);
	ck_assert_uint_eq(mock.ctl[mock.nctl - 1].m.hdr.type, PT_RTS);
	ck_assert_int_eq(p1->state, PROTO_PEER_UP);
}
END_TEST

/* Transfer messages before the handshake ends are a violation. */
START_TEST(transfer_before_handshake_drops)
{
	struct proto_msg m;
	struct conn *c;

	mock_post(cl, REQ_SEND, 1, buf, 0, 100, 1, 3, 0);
	c = p1->connecting;
	peer_conn_opened(c);
	memset(&m, 0, sizeof m);
	m.u.rts.src_rank = 1;
	m.u.rts.len = 10;
	mock_from_peer(c, PT_RTS, 5, &m);
	ck_assert_int_eq(c->dead, 1);
	ck_assert_uint_eq(ranks_local(asocd->rank)->match.nsends, 0);
}
END_TEST

/* Rank 1 connecting to us: an accepted connection on which its HELLO
 * has arrived; h plays rank 1's side of the handshake. */
static struct conn *
hello_from_rank1(struct hs *h, struct hs_cfg *cfg)
{
	struct conn *c = conn_new(&mock_twosided, NULL, 0);
	struct proto_msg hello;

	ck_assert_ptr_nonnull(c);
	memset(cfg, 0, sizeof *cfg);
	cfg->rank = 1;
	cfg->world = asocd->world;
	cfg->community = asocd->conf->community;
	peer_conn_accepted(c, "127.0.0.1:40001");
	hs_start_outgoing(h, cfg, asocd->rank, &hello);
	hello.hdr.type = PT_HELLO;
	peer_conn_msg(c, &hello);
	return c;
}

/* One connection per pair: our attempt to rank 1 (higher) is under way
 * when rank 1's HELLO comes: it is refused with status OK ("mine is
 * coming"), before any CHALLENGE, and left for rank 1 to close. */
START_TEST(higher_rank_deferred_at_hello)
{
	const struct proto_msg *r;
	struct hs_cfg cfg;
	struct conn *x, *y;
	struct hs h;

	mock_post(cl, REQ_SEND, 1, buf, 0, 100, 1, 3, 0);
	x = p1->connecting;
	peer_conn_opened(x);
	y = hello_from_rank1(&h, &cfg);
	ck_assert_ptr_null(mock_ctl_last(y, PT_CHALLENGE));
	ck_assert_ptr_nonnull(r = mock_ctl_last(y, PT_REFUSE));
	ck_assert_uint_eq(r->u.refuse.status, PS_OK);
	ck_assert_int_eq(y->up, 0);
	ck_assert_uint_eq(mock.closes, 0);
	mock_handshake(x);
	ck_assert_ptr_eq(TAILQ_FIRST(&p1->conns), x);
	ck_assert_ptr_null(TAILQ_NEXT(x, entry));
	ck_assert_uint_eq(mock.ctl[mock.nctl - 1].m.hdr.type, PT_RTS);
	ck_assert_ptr_eq(mock.ctl[mock.nctl - 1].c, x);
	peer_conn_lost(y, "mock: closed by peer");
	ck_assert_int_eq(p1->state, PROTO_PEER_UP);
	ck_assert_uint_eq(peers_connected(), 1);
}
END_TEST

/* Our attempt starts after rank 1's HELLO, before its AUTH: WELCOME
 * would make rank 1's connection up at its end, so it is refused with
 * status OK instead. */
START_TEST(higher_rank_deferred_at_auth)
{
	const struct proto_msg *in, *r;
	struct proto_msg auth;
	struct hs_cfg cfg;
	struct conn *y;
	enum proto_status st;
	char why[256];
	struct hs h;

	y = hello_from_rank1(&h, &cfg);
	ck_assert_ptr_nonnull(in = mock_ctl_last(y, PT_CHALLENGE));
	ck_assert_int_eq(hs_input(&h, in, &auth, why, sizeof why, &st),
	    HSR_CONTINUE);
	mock_post(cl, REQ_SEND, 1, buf, 0, 100, 1, 3, 0);
	ck_assert_ptr_nonnull(p1->connecting);
	peer_conn_msg(y, &auth);
	ck_assert_ptr_null(mock_ctl_last(y, PT_WELCOME));
	ck_assert_ptr_nonnull(r = mock_ctl_last(y, PT_REFUSE));
	ck_assert_uint_eq(r->u.refuse.status, PS_OK);
	ck_assert_int_eq(y->up, 0);
	ck_assert_ptr_null(TAILQ_FIRST(&p1->conns));
	bring_up();
	ck_assert_uint_eq(mock_ctl_count(PT_RTS), 1);
}
END_TEST

/* Rank 1's REFUSE with status OK ("mine is coming") on x. */
static void
refuse_ok(struct conn *x)
{
	struct proto_msg m;

	memset(&m, 0, sizeof m);
	m.u.refuse.status = PS_OK;
	snprintf(m.u.refuse.msg, sizeof m.u.refuse.msg, "mine is coming");
	mock_from_peer(x, PT_REFUSE, 0, &m);
}

/* Plays rank 1's side of the handshake on y (hello_from_rank1's) up to
 * its WELCOME from us. */
static void
rank1_auth(struct conn *y, struct hs *h)
{
	const struct proto_msg *in;
	struct proto_msg out;
	enum proto_status st;
	char why[256];

	ck_assert_ptr_nonnull(in = mock_ctl_last(y, PT_CHALLENGE));
	ck_assert_int_eq(hs_input(h, in, &out, why, sizeof why, &st),
	    HSR_CONTINUE);
	peer_conn_msg(y, &out);			/* AUTH */
	ck_assert_ptr_nonnull(mock_ctl_last(y, PT_WELCOME));
}

/* We are the higher rank (2) and rank 1 refuses us with status OK (it is
 * connecting to us): the send waits for rank 1's connection instead of
 * failing, and goes on it. */
START_TEST(refused_ok_waits_for_theirs)
{
	struct hs_cfg cfg;
	struct conn *x, *y;
	struct hs h;

	as_rank(2);
	mock_post(cl, REQ_SEND, 1, buf, 0, 100, 1, 3, 0);
	x = p1->connecting;
	peer_conn_opened(x);
	refuse_ok(x);
	ck_assert_int_eq(x->dead, 1);
	ck_assert_ptr_null(p1->connecting);
	ck_assert_int_eq(p1->state, PROTO_PEER_CONNECTING);
	ck_assert_int_eq(done_status(1), -1);	/* still waiting */
	y = hello_from_rank1(&h, &cfg);
	rank1_auth(y, &h);
	ck_assert_int_eq(y->up, 1);
	ck_assert_int_eq(p1->state, PROTO_PEER_UP);
	ck_assert_ptr_eq(mock.ctl[mock.nctl - 1].c, y);
	ck_assert_uint_eq(mock.ctl[mock.nctl - 1].m.hdr.type, PT_RTS);
	mock_run_for(300);			/* the back-off: no new attempt */
	ck_assert_uint_eq(mock.connects, 1);
	ck_assert_int_eq(p1->state, PROTO_PEER_UP);
}
END_TEST

/* Only the lower rank may say "mine is coming": from rank 1 to us, rank
 * 0, it is a refusal like any other, and the send fails. */
START_TEST(refused_ok_from_higher_rank_fails)
{
	struct conn *x;

	mock_post(cl, REQ_SEND, 1, buf, 0, 100, 1, 3, 0);
	x = p1->connecting;
	peer_conn_opened(x);
	refuse_ok(x);
	ck_assert_int_eq(x->dead, 1);
	ck_assert_ptr_null(p1->connecting);
	ck_assert_int_eq(p1->state, PROTO_PEER_FAILED);
	ck_assert_int_eq(done_status(1), PS_EPERM);
	ck_assert_ptr_null(TAILQ_FIRST(&p1->waiting));
	mock_run_for(300);
	ck_assert_uint_eq(mock.connects, 1);
}
END_TEST

/* With candidate ports, a deferral on one past the first: the next try
 * on that port waits for the back-off (100 ms first), as any other, not
 * the 10 ms between the ports of a round. */
START_TEST(deferral_retries_on_the_back_off)
{
	struct conn *x;

	as_rank(2);
	asocd->conf->port_tries = 3;
	p1->port_idx = 1;
	mock_post(cl, REQ_SEND, 1, buf, 0, 100, 1, 3, 0);
	x = p1->connecting;
	peer_conn_opened(x);
	refuse_ok(x);
	ck_assert_ptr_null(p1->connecting);
	mock_run_for(50);			/* less than the back-off */
	ck_assert_uint_eq(mock.connects, 1);
	mock_run_for(200);
	ck_assert_uint_eq(mock.connects, 2);
	ck_assert_uint_eq(p1->port_idx, 1);	/* the same port */
}
END_TEST

/* Deferred until the connection timeout: the message names the
 * deferral, not a daemon that is not running. */
START_TEST(deferral_give_up_names_it)
{
	struct conn *x;

	as_rank(2);
	asocd->conf->connection_timeout = 1;
	mock_post(cl, REQ_SEND, 1, buf, 0, 100, 1, 3, 0);
	x = p1->connecting;
	peer_conn_opened(x);
	refuse_ok(x);
	mock_run_for(1100);
	ck_assert_int_eq(done_status(1), -1);
	ck_assert_ptr_nonnull(x = p1->connecting);
	peer_conn_opened(x);
	refuse_ok(x);
	ck_assert_int_eq(done_status(1), PS_ENOPEER);
	ck_assert_int_eq(p1->state, PROTO_PEER_FAILED);
	ck_assert_msg(strstr(p1->last_error, "rank 1 (127.0.0.1:9102) kept "
	    "deferring to its own connection") != NULL, "%s", p1->last_error);
	ck_assert_ptr_null(strstr(p1->last_error, "is asocd running"));
}
END_TEST

/* We are the higher rank (2); rank 1's connection came up first (it
 * was up before our HELLO reached rank 1, which then let ours finish):
 * ours is closed as it comes up, never published, and the send stays on
 * rank 1's. */
START_TEST(late_own_connection_closed)
{
	const struct proto_msg *in;
	struct proto_msg out;
	struct hs_cfg cfg, cfg1;
	struct conn *x, *y;
	enum proto_status st;
	char why[256];
	struct hs h, h1;
	unsigned i;

	as_rank(2);
	mock_post(cl, REQ_SEND, 1, buf, 0, 100, 1, 3, 0);
	x = p1->connecting;
	peer_conn_opened(x);
	y = hello_from_rank1(&h, &cfg);
	rank1_auth(y, &h);
	ck_assert_int_eq(y->up, 1);
	ck_assert_uint_eq(mock_ctl_count(PT_RTS), 1);
	/* Rank 1 answers our HELLO on x all the way to WELCOME. */
	memset(&cfg1, 0, sizeof cfg1);
	cfg1.rank = 1;
	cfg1.world = asocd->world;
	cfg1.community = asocd->conf->community;
	hs_start_incoming(&h1, &cfg1);
	ck_assert_ptr_nonnull(in = mock_ctl_last(x, PT_HELLO));
	ck_assert_int_eq(hs_input(&h1, in, &out, why, sizeof why, &st),
	    HSR_CONTINUE);
	peer_conn_msg(x, &out);			/* CHALLENGE */
	ck_assert_ptr_nonnull(in = mock_ctl_last(x, PT_AUTH));
	ck_assert_int_eq(hs_input(&h1, in, &out, why, sizeof why, &st),
	    HSR_UP);
	peer_conn_msg(x, &out);			/* WELCOME */
	ck_assert_int_eq(x->up, 0);
	ck_assert_int_eq(x->dead, 1);
	ck_assert_uint_eq(mock.closes, 1);
	ck_assert_ptr_null(p1->connecting);
	ck_assert_ptr_eq(TAILQ_FIRST(&p1->conns), y);
	ck_assert_ptr_null(TAILQ_NEXT(y, entry));
	ck_assert_int_eq(p1->state, PROTO_PEER_UP);
	for (i = 0; i < mock.nctl; i++)
		ck_assert_ptr_ne(mock.ctl[i].m.hdr.type == PT_RTS ?
		    mock.ctl[i].c : NULL, x);
	mock_post(cl, REQ_SEND, 2, buf, 0, 100, 1, 3, 0);
	ck_assert_uint_eq(mock_ctl_count(PT_RTS), 2);
	ck_assert_ptr_eq(mock.ctl[mock.nctl - 1].c, y);
	ck_assert_uint_eq(mock.connects, 1);
}
END_TEST

static Suite *
peer_suite(void)
{
	return check_suite("peer", "core", setup, NULL, 20, CHECK_TESTS(
	    first_send_connects, next_send_uses_the_connection,
	    cancel_while_waiting, unreachable_peer_is_given_up,
	    lost_before_the_handshake_retries,
	    loss_fails_transfers_and_receives, connects_again_after_a_loss,
	    transfer_before_handshake_drops, higher_rank_deferred_at_hello,
	    higher_rank_deferred_at_auth, refused_ok_waits_for_theirs,
	    refused_ok_from_higher_rank_fails,
	    deferral_retries_on_the_back_off, deferral_give_up_names_it,
	    late_own_connection_closed));
}

int
main(void)
{
	return check_run(peer_suite(), NULL);
}
