/*
 * check_peer.c: peer.c without sockets (mock-transport.h): connecting on
 * first use, sends waiting for the handshake, retry and giving up, the
 * loss of a peer and connecting again.
 *
 * We are rank 0 of three; rank 1 answers the handshake through the mock.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

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

static int
done_status(uint64_t id)
{
	struct proto_msg m;

	if (!mock_reply(cfd, id, &m))
		return -1;
	return (int)m.u.l_done.status;
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
	ck_assert_uint_eq(asocd->match.nsends, 0);
}
END_TEST

static Suite *
peer_suite(void)
{
	Suite *s = suite_create("peer");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, first_send_connects);
	tcase_add_test(tc, next_send_uses_the_connection);
	tcase_add_test(tc, cancel_while_waiting);
	tcase_add_test(tc, unreachable_peer_is_given_up);
	tcase_add_test(tc, lost_before_the_handshake_retries);
	tcase_add_test(tc, loss_fails_transfers_and_receives);
	tcase_add_test(tc, connects_again_after_a_loss);
	tcase_add_test(tc, transfer_before_handshake_drops);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(peer_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
