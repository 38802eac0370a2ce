/*
 * check_xfer.c: xfer.c without sockets (mock-transport.h): matching,
 * chunking and the scheduler's turns, the receiving side's checks,
 * deadlines, peer loss, cancellation and the one-sided fence.
 *
 * We are rank 0 of three; the test plays rank 1, feeding its messages in
 * and reading what the mock transport was asked to send.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check-main.h"
#include "mock-transport.h"

#define CHUNK 4096

static int cfd;			/* the test's end of the client's socket */
static struct client *cl;

static void
setup_twosided(void)
{
	mock_daemon_start(3, CHUNK, 0);
	cl = mock_client(&cfd, 1);
}

static void
setup_onesided(void)
{
	mock_daemon_start(3, CHUNK, 1);
	cl = mock_client(&cfd, 1);
}

/* The status of request id's reply; -1 when there is none yet. */
static int
done_status(uint64_t id)
{
	struct proto_msg m;

	return mock_done_status(cfd, id, &m);
}

static void
rts(struct conn *c, uint64_t id, uint64_t tag, uint64_t len)
{
	struct proto_msg m;

	memset(&m, 0, sizeof m);
	m.u.rts.tag = tag;
	m.u.rts.len = len;
	m.u.rts.src_rank = 1;
	mock_from_peer(c, PT_RTS, id, &m);
}

static void
cts(struct conn *c, uint64_t id, uint64_t len)
{
	struct proto_msg m;

	memset(&m, 0, sizeof m);
	m.u.cts.recv_id = id;
	m.u.cts.len = len;
	mock_from_peer(c, PT_CTS, id, &m);
}

static void
ack(struct conn *c, uint64_t id, uint64_t len)
{
	struct proto_msg m;

	memset(&m, 0, sizeof m);
	m.u.ack.status = PS_OK;
	m.u.ack.len = len;
	mock_from_peer(c, PT_ACK, id, &m);
}

/* Our send of len bytes to rank 1 on c, up to its RTS: its transfer id. */
static uint64_t
send_to_1(struct conn *c, uint64_t req, struct buffer *b, uint64_t len)
{
	const struct proto_msg *m;

	mock_post(cl, REQ_SEND, req, b, 0, len, 1, 9, 0);
	m = mock_ctl_last(c, PT_RTS);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(m->u.rts.len, len);
	return m->hdr.id;
}

START_TEST(local_copy)
{
	struct buffer *s = mock_buffer(cl, 10000, 0xab);
	struct buffer *r = mock_buffer(cl, 10000, 0);

	mock_post(cl, REQ_RECV, 1, r, 0, 10000, 0, 4, 0);
	ck_assert_int_eq(done_status(1), -1);
	mock_post(cl, REQ_SEND, 2, s, 0, 10000, 0, 4, 0);
	mock_loop();
	ck_assert_int_eq(done_status(1), PS_OK);
	ck_assert_int_eq(done_status(2), PS_OK);
	ck_assert_uint_eq(r->base[0], 0xab);
	ck_assert_uint_eq(r->base[9999], 0xab);
	ck_assert_uint_eq(asocd->xfers_active, 0);
}
END_TEST

START_TEST(rts_waits_for_its_receive)
{
	struct conn *c = mock_conn_up(&mock_twosided, 1);
	struct buffer *b = mock_buffer(cl, 100, 0);
	const struct proto_msg *m;

	rts(c, 77, 5, 100);
	ck_assert_uint_eq(xfer_unexpected_from(1), 1);
	mock_post(cl, REQ_RECV, 1, b, 0, 100, 1, 6, 0);	/* other tag */
	ck_assert_uint_eq(mock_ctl_count(PT_CTS), 0);
	mock_post(cl, REQ_RECV, 2, b, 0, 100, MATCH_ANY, 5, 0);
	m = mock_ctl_last(c, PT_CTS);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(m->hdr.id, 77);
	ck_assert_uint_eq(m->u.cts.recv_id, 77);
	ck_assert_uint_eq(m->u.cts.len, 100);
	ck_assert_uint_eq(mock_ctl_count(PT_CTS), 1);
	ck_assert_uint_eq(xfer_unexpected_from(1), 0);
}
END_TEST

START_TEST(receive_waits_for_its_rts)
{
	struct conn *c = mock_conn_up(&mock_twosided, 1);
	struct buffer *b = mock_buffer(cl, 100, 0);

	mock_post(cl, REQ_RECV, 1, b, 0, 100, 1, 5, 0);
	rts(c, 77, 4, 100);			/* other tag: waits */
	ck_assert_uint_eq(mock_ctl_count(PT_CTS), 0);
	rts(c, 78, 5, 60);
	ck_assert_uint_eq(mock_ctl_count(PT_CTS), 1);
	ck_assert_uint_eq(mock_ctl_last(c, PT_CTS)->hdr.id, 78);
	ck_assert_uint_eq(xfer_unexpected_from(1), 1);
}
END_TEST

START_TEST(too_big_for_the_receive)
{
	struct conn *c = mock_conn_up(&mock_twosided, 1);
	struct buffer *b = mock_buffer(cl, 100, 0);
	const struct proto_msg *m;

	mock_post(cl, REQ_RECV, 1, b, 0, 100, 1, 5, 0);
	rts(c, 77, 5, 200);
	ck_assert_int_eq(done_status(1), PS_ETRUNC);
	m = mock_ctl_last(c, PT_ABORT);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(m->hdr.id, 77);
	ck_assert_uint_eq(m->u.abort.status, PS_ETRUNC);
	ck_assert_uint_eq(m->u.abort.to_sender, 1);
	ck_assert_uint_eq(mock_ctl_count(PT_CTS), 0);
	ck_assert_uint_eq(asocd->xfers_active, 0);
}
END_TEST

/* A peeking receive too small learns the size; the message waits, first
 * in line, for one big enough. */
START_TEST(peek_leaves_the_message)
{
	struct conn *c = mock_conn_up(&mock_twosided, 1);
	struct buffer *b = mock_buffer(cl, 200, 0);
	struct proto_msg m;

	rts(c, 77, 5, 200);
	rts(c, 78, 5, 10);
	mock.next_flags = PROTO_XF_PEEK;
	mock_post(cl, REQ_RECV, 1, b, 0, 100, 1, 5, 0);
	ck_assert_int_eq(mock_reply(cfd, 1, &m), 1);
	ck_assert_uint_eq(m.u.l_done.status, PS_ETRUNC);
	ck_assert_uint_eq(m.u.l_done.len, 200);
	ck_assert_uint_eq(mock_ctl_count(PT_ABORT), 0);
	ck_assert_uint_eq(xfer_unexpected_from(1), 2);
	mock_post(cl, REQ_RECV, 2, b, 0, 200, 1, 5, 0);
	ck_assert_uint_eq(mock_ctl_last(c, PT_CTS)->hdr.id, 77);
	ck_assert_uint_eq(xfer_unexpected_from(1), 1);
}
END_TEST

START_TEST(unmatched_sends_are_bounded)
{
	struct conn *c = mock_conn_up(&mock_twosided, 1);
	uint64_t i;

	for (i = 1; i <= XFER_MAX_UNEXPECTED; i++)
		rts(c, i, 5, 10);
	ck_assert_uint_eq(mock_ctl_count(PT_ABORT), 0);
	ck_assert_uint_eq(xfer_unexpected_from(1), XFER_MAX_UNEXPECTED);
	rts(c, i, 5, 10);
	ck_assert_uint_eq(mock_ctl_count(PT_ABORT), 1);
	ck_assert_uint_eq(mock_ctl_last(c, PT_ABORT)->u.abort.status,
	    PS_ENOMEM);
	ck_assert_uint_eq(xfer_unexpected_from(1), XFER_MAX_UNEXPECTED);
}
END_TEST

START_TEST(chunks_and_ack)
{
	struct conn *c = mock_conn_up(&mock_twosided, 1);
	struct buffer *b = mock_buffer(cl, 10000, 1);
	struct xfer_chunk ch;
	uint64_t id;

	id = send_to_1(c, 1, b, 10000);
	ck_assert_int_eq(xfer_next_chunk(c, &ch), 0);	/* no CTS yet */
	cts(c, id, 10000);
	ck_assert_uint_eq(mock.starts, 1);
	ck_assert_uint_eq(mock.last_start_id, id);
	ck_assert_int_eq(xfer_next_chunk(c, &ch), 1);
	ck_assert_uint_eq(ch.off, 0);
	ck_assert_uint_eq(ch.len, CHUNK);
	ck_assert_int_eq(ch.last, 0);
	ck_assert_int_eq(ch.more, 0);
	ck_assert_uint_eq(mock_pump(c, 2, NULL), 2 * CHUNK);
	ck_assert_int_eq(xfer_next_chunk(c, &ch), 1);
	ck_assert_uint_eq(ch.off, 2 * CHUNK);
	ck_assert_uint_eq(ch.len, 10000 - 2 * CHUNK);
	ck_assert_int_eq(ch.last, 1);
	xfer_chunk_posted(&ch);
	ck_assert_int_eq(xfer_next_chunk(c, &ch), 0);
	ck_assert_uint_eq(asocd->ctr.bytes_sent, 10000);
	ck_assert_uint_eq(asocd->peers[1].bytes_sent, 10000);
	ck_assert_int_eq(done_status(1), -1);	/* until the ACK */
	ack(c, id, 10000);
	ck_assert_int_eq(done_status(1), PS_OK);
	ck_assert_uint_eq(asocd->xfers_active, 0);
}
END_TEST

START_TEST(transfers_take_turns)
{
	struct conn *c = mock_conn_up(&mock_twosided, 1);
	struct buffer *b = mock_buffer(cl, 3 * CHUNK, 1);
	uint64_t a, z, ids[8];
	struct xfer_chunk ch;

	a = send_to_1(c, 1, b, 3 * CHUNK);
	z = send_to_1(c, 2, b, CHUNK);
	cts(c, a, 3 * CHUNK);
	cts(c, z, CHUNK);
	ck_assert_int_eq(xfer_next_chunk(c, &ch), 1);
	ck_assert_int_eq(ch.more, 1);
	ck_assert_uint_eq(mock_pump(c, 8, ids), 4 * CHUNK);
	ck_assert_uint_eq(ids[0], a);
	ck_assert_uint_eq(ids[1], z);	/* not a's second chunk */
	ck_assert_uint_eq(ids[2], a);
	ck_assert_uint_eq(ids[3], a);
	ack(c, z, CHUNK);
	ck_assert_int_eq(done_status(2), PS_OK);
	ck_assert_int_eq(done_status(1), -1);
}
END_TEST

START_TEST(cts_out_of_turn_drops_the_connection)
{
	struct conn *c = mock_conn_up(&mock_twosided, 1);
	struct buffer *b = mock_buffer(cl, 100, 1);
	uint64_t id = send_to_1(c, 1, b, 100);

	cts(c, id, 99);			/* not the length we asked for */
	ck_assert_int_eq(c->dead, 1);
	ck_assert_int_eq(done_status(1), PS_EPEERLOST);
	ck_assert_uint_eq(mock.starts, 0);
}
END_TEST

START_TEST(ack_before_the_data_drops_the_connection)
{
	struct conn *c = mock_conn_up(&mock_twosided, 1);
	struct buffer *b = mock_buffer(cl, 10000, 1);
	uint64_t id = send_to_1(c, 1, b, 10000);

	cts(c, id, 10000);
	mock_pump(c, 1, NULL);
	ack(c, id, 10000);
	ck_assert_int_eq(c->dead, 1);
	ck_assert_int_eq(done_status(1), PS_EPEERLOST);
}
END_TEST

START_TEST(data_lands_in_order)
{
	struct conn *c = mock_conn_up(&mock_twosided, 1);
	struct buffer *b = mock_buffer(cl, 300, 0);
	const struct proto_msg *m;
	struct xfer *x;
	uint8_t *dst;

	mock_post(cl, REQ_RECV, 1, b, 100, 200, 1, 5, 0);
	rts(c, 77, 5, 200);
	ck_assert_int_eq(xfer_on_data(c, 77, 0, 150, &dst, &x), 0);
	ck_assert_ptr_eq(dst, b->base + 100);
	ck_assert_ptr_eq(c->rx_cur, x);
	xfer_data_landed(x, 150);
	xfer_data_frame_end(c);
	ck_assert_ptr_null(c->rx_cur);
	ck_assert_int_eq(done_status(1), -1);
	ck_assert_uint_eq(mock_ctl_count(PT_ACK), 0);
	ck_assert_int_eq(xfer_on_data(c, 77, 150, 50, &dst, &x), 0);
	ck_assert_ptr_eq(dst, b->base + 250);
	xfer_data_landed(x, 50);
	ck_assert_int_eq(done_status(1), PS_OK);
	ck_assert_ptr_null(c->rx_cur);	/* x is gone */
	m = mock_ctl_last(c, PT_ACK);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(m->hdr.id, 77);
	ck_assert_uint_eq(m->u.ack.len, 200);
	ck_assert_uint_eq(asocd->ctr.bytes_received, 200);
}
END_TEST

START_TEST(data_out_of_range_drops_the_connection)
{
	struct conn *c = mock_conn_up(&mock_twosided, 1);
	struct buffer *b = mock_buffer(cl, 300, 0);
	struct xfer *x;
	uint8_t *dst;

	mock_post(cl, REQ_RECV, 1, b, 0, 200, 1, 5, 0);
	rts(c, 77, 5, 200);
	ck_assert_int_eq(xfer_on_data(c, 77, 10, 20, &dst, &x), -1);
	ck_assert_int_eq(c->dead, 1);
	ck_assert_int_eq(done_status(1), PS_EPEERLOST);
}
END_TEST

/* Spread over the pair's extra connections: chunks land in any order,
 * and a receive cancelled while a chunk of it is being read on an extra
 * connection leaves none of them pointing at the freed transfer. */
START_TEST(data_on_a_lane_is_dropped_with_its_transfer)
{
	struct conn *c = mock_conn_up(&mock_twosided, 1);
	struct conn *l = conn_new(&mock_twosided, c->peer, 1);
	struct buffer *b = mock_buffer(cl, 300, 0);
	struct xfer *x;
	uint8_t *dst;

	ck_assert_ptr_nonnull(l);
	l->lane = 1;
	l->main = c;
	l->up = 1;
	TAILQ_INSERT_TAIL(&c->lanes, l, lane_entry);
	c->data_spread = 1;
	mock_post(cl, REQ_RECV, 1, b, 0, 200, 1, 5, 0);
	rts(c, 77, 5, 200);
	ck_assert_int_eq(xfer_on_data(l, 77, 100, 100, &dst, &x), 0);
	ck_assert_ptr_eq(dst, b->base + 100);
	ck_assert_ptr_eq(l->rx_cur, x);
	xfer_cancel(TAILQ_FIRST(&cl->reqs), PS_ECANCELLED, "cancelled");
	ck_assert_int_eq(done_status(1), PS_ECANCELLED);
	ck_assert_ptr_null(l->rx_cur);
	ck_assert_int_eq(c->dead, 0);
	TAILQ_REMOVE(&c->lanes, l, lane_entry);
}
END_TEST

START_TEST(data_for_a_cancelled_transfer_is_discarded)
{
	struct conn *c = mock_conn_up(&mock_twosided, 1);
	struct xfer *x = (struct xfer *)1;
	uint8_t *dst = (uint8_t *)1;

	ck_assert_int_eq(xfer_on_data(c, 12345, 0, 20, &dst, &x), 0);
	ck_assert_ptr_null(dst);
	ck_assert_ptr_null(x);
	ck_assert_int_eq(c->dead, 0);
}
END_TEST

START_TEST(deadline)
{
	struct buffer *b = mock_buffer(cl, 100, 0);
	struct proto_msg m;
	int i;

	mock_post(cl, REQ_SEND, 1, b, 0, 100, 2, 5, 20);	/* rank 2: down */
	for (i = 0; i < 100 && !mock_reply(cfd, 1, &m); i++)
		usleep(10000);
	ck_assert_int_lt(i, 100);
	ck_assert_uint_eq(m.u.l_done.status, PS_ETIMEDOUT);
	ck_assert_uint_eq(asocd->xfers_active, 0);
	ck_assert_ptr_null(TAILQ_FIRST(&asocd->peers[2].waiting));
}
END_TEST

START_TEST(peer_loss_fails_what_it_carried)
{
	struct conn *c = mock_conn_up(&mock_twosided, 1);
	struct buffer *b = mock_buffer(cl, 10000, 1);
	uint64_t id = send_to_1(c, 1, b, 10000);

	cts(c, id, 10000);
	mock_pump(c, 1, NULL);
	mock_post(cl, REQ_RECV, 2, b, 0, 100, 1, 5, 0);	/* names rank 1 */
	mock_post(cl, REQ_RECV, 3, b, 0, 100, MATCH_ANY, 5, 0);
	peer_conn_lost(c, "mock: cable pulled");
	ck_assert_int_eq(done_status(1), PS_EPEERLOST);
	ck_assert_int_eq(done_status(2), PS_EPEERLOST);
	ck_assert_int_eq(done_status(3), -1);	/* another rank may send */
	ck_assert_uint_eq(mock.closes, 1);
	ck_assert_uint_eq(asocd->xfers_active, 0);
}
END_TEST

START_TEST(cancel_mid_send)
{
	struct conn *c = mock_conn_up(&mock_twosided, 1);
	struct buffer *b = mock_buffer(cl, 10000, 1);
	uint64_t id = send_to_1(c, 1, b, 10000);
	const struct proto_msg *m;
	struct xfer_chunk ch;

	cts(c, id, 10000);
	mock_pump(c, 1, NULL);
	xfer_cancel(TAILQ_FIRST(&cl->reqs), PS_ECANCELLED, "cancelled");
	ck_assert_int_eq(done_status(1), PS_ECANCELLED);
	ck_assert_int_eq(xfer_next_chunk(c, &ch), 0);
	m = mock_ctl_last(c, PT_ABORT);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(m->hdr.id, id);
	ck_assert_uint_eq(m->u.abort.to_sender, 0);
	ck_assert_uint_eq(asocd->xfers_active, 0);
	ack(c, id, 10000);		/* too late: ignored */
	ck_assert_int_eq(c->dead, 0);
}
END_TEST

START_TEST(give_up_tells_the_peer)
{
	struct conn *c = mock_conn_up(&mock_twosided, 1);
	struct buffer *b = mock_buffer(cl, 10000, 1);
	uint64_t id = send_to_1(c, 1, b, 10000);
	struct xfer_chunk ch;

	cts(c, id, 10000);
	ck_assert_int_eq(xfer_next_chunk(c, &ch), 1);
	xfer_give_up(ch.x, PS_ENOMEM, "mock: no room");
	ck_assert_int_eq(done_status(1), PS_ENOMEM);
	ck_assert_int_eq(xfer_next_chunk(c, &ch), 0);
	ck_assert_uint_eq(mock_ctl_last(c, PT_ABORT)->hdr.id, id);
	ck_assert_uint_eq(mock_ctl_last(c, PT_ABORT)->u.abort.status,
	    PS_ENOMEM);
}
END_TEST

/* The real path of a give-up: the transport's start_data fails inside
 * xfer_on_cts, x already on c->sendq (RDMA, when registering fails). */
START_TEST(start_data_failure_gives_up)
{
	struct conn *c = mock_conn_up(&mock_twosided, 1);
	struct buffer *b = mock_buffer(cl, 10000, 1);
	uint64_t id = send_to_1(c, 1, b, 10000);
	struct xfer_chunk ch;
	unsigned i, nctl;

	mock.start_fails = 1;
	cts(c, id, 10000);
	ck_assert_uint_eq(mock.starts, 1);
	ck_assert_uint_eq(mock.last_start_id, id);
	/* The request completes once, with the error. */
	ck_assert_int_eq(done_status(1), PS_ENOMEM);
	ck_assert_int_eq(done_status(1), -1);
	/* The peer is told, once, and nothing of x was left to send. */
	ck_assert_uint_eq(mock_ctl_count(PT_ABORT), 1);
	ck_assert_uint_eq(mock_ctl_last(c, PT_ABORT)->hdr.id, id);
	ck_assert_uint_eq(mock_ctl_last(c, PT_ABORT)->u.abort.status,
	    PS_ENOMEM);
	ck_assert_int_eq(mock_ctl_last(c, PT_ABORT)->u.abort.to_sender, 0);
	ck_assert_int_eq(mock.ctl[mock.nctl - 1].data_queued, 0);
	/* x is off the send queue: no chunk, no entry, and the connection
	 * lives on. */
	ck_assert(TAILQ_EMPTY(&c->sendq));
	ck_assert(TAILQ_EMPTY(&c->xfers));
	ck_assert_int_eq(xfer_next_chunk(c, &ch), 0);
	ck_assert_int_eq(c->dead, 0);
	/* Nothing else goes out for x: only its RTS and the ABORT. */
	nctl = mock.nctl;
	mock_run_for(50);
	ck_assert_uint_eq(mock.nctl, nctl);
	for (i = 0; i < mock.nctl; i++)
		if (mock.ctl[i].m.hdr.id == id)
			ck_assert(mock.ctl[i].m.hdr.type == PT_RTS ||
			    mock.ctl[i].m.hdr.type == PT_ABORT);
	ck_assert_uint_eq(mock_pump(c, 4, NULL), 0);
	ck_assert_uint_eq(asocd->xfers_active, 0);
	/* The connection still carries the next send. */
	mock.start_fails = 0;
	id = send_to_1(c, 2, b, 100);
	cts(c, id, 100);
	ck_assert_uint_eq(mock_pump(c, 4, NULL), 100);
}
END_TEST

START_TEST(onesided_wdone)
{
	struct conn *c = mock_conn_up(&mock_onesided, 1);
	struct buffer *b = mock_buffer(cl, 300, 0);
	const struct proto_msg *m;
	struct proto_msg w;

	mock_post(cl, REQ_RECV, 1, b, 0, 300, 1, 5, 0);
	rts(c, 77, 5, 300);
	m = mock_ctl_last(c, PT_CTS);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(m->u.cts.addr, (uintptr_t)b->base);
	ck_assert_uint_eq(m->u.cts.rkey, 0x1234);
	ck_assert_uint_eq(mock.grants, 1);
	memset(&w, 0, sizeof w);
	w.u.wdone.len = 300;
	mock_from_peer(c, PT_WDONE, 77, &w);
	ck_assert_uint_eq(mock.releases, 1);
	ck_assert_int_eq(done_status(1), PS_OK);
	ck_assert_uint_eq(mock_ctl_last(c, PT_ACK)->u.ack.len, 300);
	ck_assert_uint_eq(asocd->ctr.bytes_received, 300);
}
END_TEST

START_TEST(onesided_grant_failure)
{
	struct conn *c = mock_conn_up(&mock_onesided, 1);
	struct buffer *b = mock_buffer(cl, 300, 0);

	mock.grant_fails = 1;
	mock_post(cl, REQ_RECV, 1, b, 0, 300, 1, 5, 0);
	rts(c, 77, 5, 300);
	ck_assert_int_eq(done_status(1), PS_ENOMEM);
	ck_assert_uint_eq(mock_ctl_count(PT_CTS), 0);
	ck_assert_uint_eq(mock_ctl_last(c, PT_ABORT)->u.abort.status,
	    PS_ENOMEM);
}
END_TEST

/* A receive that times out while the sender may be WRITING keeps its
 * range until the sender confirms it stopped. */
START_TEST(onesided_fence)
{
	struct conn *c = mock_conn_up(&mock_onesided, 1);
	struct buffer *b = mock_buffer(cl, 300, 0);
	struct proto_msg a;

	mock_post(cl, REQ_RECV, 1, b, 0, 300, 1, 5, 0);
	rts(c, 77, 5, 300);
	xfer_cancel(TAILQ_FIRST(&cl->reqs), PS_ETIMEDOUT, "timed out");
	ck_assert_uint_eq(mock_ctl_last(c, PT_ABORT)->hdr.id, 77);
	ck_assert_uint_eq(mock_ctl_last(c, PT_ABORT)->u.abort.to_sender, 1);
	ck_assert_uint_eq(mock.releases, 0);
	ck_assert_int_eq(done_status(1), -1);
	memset(&a, 0, sizeof a);
	a.u.abort.status = PS_ETIMEDOUT;
	a.u.abort.to_sender = 0;
	mock_from_peer(c, PT_ABORT, 77, &a);
	ck_assert_uint_eq(mock.releases, 1);
	ck_assert_int_eq(done_status(1), PS_ETIMEDOUT);
	ck_assert_uint_eq(asocd->xfers_active, 0);
}
END_TEST

/* The sender's side of the fence: an ABORT from the receiver mid-data is
 * answered after the last WRITE, and no more chunks go. */
START_TEST(onesided_sender_confirms)
{
	struct conn *c = mock_conn_up(&mock_onesided, 1);
	struct buffer *b = mock_buffer(cl, 10000, 1);
	uint64_t id = send_to_1(c, 1, b, 10000);
	struct xfer_chunk ch;
	struct proto_msg a;

	cts(c, id, 10000);
	mock_pump(c, 1, NULL);
	memset(&a, 0, sizeof a);
	a.u.abort.status = PS_ETIMEDOUT;
	a.u.abort.to_sender = 1;
	mock_from_peer(c, PT_ABORT, id, &a);
	ck_assert_int_eq(xfer_next_chunk(c, &ch), 0);
	ck_assert_uint_eq(mock_ctl_count(PT_ABORT), 1);
	ck_assert_uint_eq(mock_ctl_last(c, PT_ABORT)->u.abort.to_sender, 0);
	/* Our ABORT follows the last WRITE posted: no chunk after it. */
	ck_assert_uint_eq(mock.ctl[mock.nctl - 1].m.hdr.type, PT_ABORT);
	ck_assert_int_eq(mock.ctl[mock.nctl - 1].data_queued, 0);
	ck_assert_int_eq(done_status(1), PS_ETIMEDOUT);
}
END_TEST

START_TEST(drain_refuses_new_work)
{
	struct conn *c = mock_conn_up(&mock_twosided, 1);
	struct buffer *b = mock_buffer(cl, 100, 0);

	rts(c, 77, 5, 100);
	mock_post(cl, REQ_RECV, 1, b, 0, 100, 2, 5, 0);
	asocd->draining = 1;
	xfer_drain();
	ck_assert_int_eq(done_status(1), PS_ECANCELLED);
	ck_assert_uint_eq(mock_ctl_last(c, PT_ABORT)->hdr.id, 77);
	mock_post(cl, REQ_SEND, 2, b, 0, 100, 1, 5, 0);
	ck_assert_int_eq(done_status(2), PS_ECANCELLED);
	ck_assert_uint_eq(asocd->xfers_active, 0);
}
END_TEST

/* --- the eager path --- */

/* Rank 1's eager RTS of len bytes of byte fill (len <= 256). */
static void
rts_eager(struct conn *c, uint64_t id, uint64_t tag, uint64_t len, int fill)
{
	static uint8_t payload[256];
	struct proto_msg m;

	ck_assert_uint_le(len, sizeof payload);
	memset(payload, fill, sizeof payload);
	memset(&m, 0, sizeof m);
	m.u.rts.tag = tag;
	m.u.rts.len = len;
	m.u.rts.src_rank = 1;
	m.u.rts.flags = PROTO_RTS_F_EAGER;
	m.payload = payload;
	m.payload_len = (size_t)len;
	mock_from_peer(c, PT_RTS, id, &m);
	/* The payload was the transport's for the call only. */
	memset(payload, 0xdd, sizeof payload);
}

/* Every peer within its own budget, the daemon's total is still capped:
 * past it, an RTS waits as a plain one (its data comes after a CTS). */
START_TEST(eager_total_budget_caps_all_peers)
{
	struct conn *c1 = mock_conn_up(&mock_twosided, 1);
	struct conn *c2 = mock_conn_up(&mock_twosided, 2);
	struct buffer *b = mock_buffer(cl, 300, 0);
	struct proto_msg m;

	asocd->conf->eager_budget = 100;
	asocd->conf->eager_budget_total = 150;
	rts_eager(c1, 77, 5, 80, 1);
	memset(&m, 0, sizeof m);
	m.u.rts.tag = 5;
	m.u.rts.len = 80;
	m.u.rts.src_rank = 2;
	m.u.rts.flags = PROTO_RTS_F_EAGER;
	m.payload = b->base;
	m.payload_len = 80;
	mock_from_peer(c2, PT_RTS, 78, &m);	/* 160 > 150: not held */
	ck_assert_uint_eq(xfer_eager_held(1), 80);
	ck_assert_uint_eq(xfer_eager_held(2), 0);
	ck_assert_uint_eq(xfer_eager_held_total(), 80);
	ck_assert_uint_eq(xfer_unexpected_from(2), 1);
	mock_post(cl, REQ_RECV, 1, b, 0, 300, 2, 5, 0);
	ck_assert_uint_eq(mock_ctl_last(c2, PT_CTS)->hdr.id, 78);
}
END_TEST

/* A posted receive takes the message at once: no CTS, ACK, nothing held. */
START_TEST(eager_into_a_posted_receive)
{
	struct conn *c = mock_conn_up(&mock_twosided, 1);
	struct buffer *b = mock_buffer(cl, 300, 0);
	const struct proto_msg *m;

	mock_post(cl, REQ_RECV, 1, b, 100, 200, 1, 5, 0);
	rts_eager(c, 77, 5, 150, 0x5a);
	ck_assert_int_eq(done_status(1), PS_OK);
	ck_assert_uint_eq(b->base[99], 0);
	ck_assert_uint_eq(b->base[100], 0x5a);
	ck_assert_uint_eq(b->base[249], 0x5a);
	ck_assert_uint_eq(b->base[250], 0);
	ck_assert_uint_eq(mock_ctl_count(PT_CTS), 0);
	m = mock_ctl_last(c, PT_ACK);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(m->hdr.id, 77);
	ck_assert_uint_eq(m->u.ack.status, PS_OK);
	ck_assert_uint_eq(m->u.ack.len, 150);
	ck_assert_uint_eq(asocd->ctr.bytes_received, 150);
	ck_assert_uint_eq(xfer_eager_held_total(), 0);
	ck_assert_uint_eq(asocd->xfers_active, 0);
}
END_TEST

/* No receive yet: a copy is held, and the receive that comes completes
 * at once from it. */
START_TEST(eager_unexpected_is_held)
{
	struct conn *c = mock_conn_up(&mock_twosided, 1);
	struct buffer *b = mock_buffer(cl, 300, 0);

	rts_eager(c, 77, 5, 150, 0x5a);
	ck_assert_uint_eq(mock_ctl_count(PT_ACK), 0);
	ck_assert_uint_eq(xfer_unexpected_from(1), 1);
	ck_assert_uint_eq(xfer_eager_held(1), 150);
	mock_post(cl, REQ_RECV, 1, b, 0, 300, 1, 5, 0);
	ck_assert_int_eq(done_status(1), PS_OK);
	ck_assert_uint_eq(b->base[0], 0x5a);	/* not the 0xdd after it */
	ck_assert_uint_eq(b->base[149], 0x5a);
	ck_assert_uint_eq(b->base[150], 0);
	ck_assert_uint_eq(mock_ctl_count(PT_CTS), 0);
	ck_assert_uint_eq(mock_ctl_last(c, PT_ACK)->u.ack.len, 150);
	ck_assert_uint_eq(xfer_eager_held(1), 0);
	ck_assert_uint_eq(asocd->xfers_active, 0);
}
END_TEST

/* Over the budget the message is dropped and its RTS waits as a plain
 * one: CTS when a receive matches, then the data as any rendezvous. */
START_TEST(eager_over_budget_becomes_rendezvous)
{
	struct conn *c = mock_conn_up(&mock_twosided, 1);
	struct buffer *b = mock_buffer(cl, 300, 0);
	struct xfer *x;
	uint8_t *dst;

	asocd->conf->eager_budget = 100;
	rts_eager(c, 77, 5, 40, 1);
	rts_eager(c, 78, 5, 40, 2);
	rts_eager(c, 79, 5, 40, 3);		/* 120 > 100: not held */
	ck_assert_uint_eq(xfer_eager_held(1), 80);
	ck_assert_uint_eq(xfer_eager_held_total(), 80);
	ck_assert_uint_eq(xfer_unexpected_from(1), 3);
	mock_post(cl, REQ_RECV, 1, b, 0, 100, 1, 5, 0);
	mock_post(cl, REQ_RECV, 2, b, 100, 100, 1, 5, 0);
	ck_assert_int_eq(done_status(1), PS_OK);
	ck_assert_int_eq(done_status(2), PS_OK);
	ck_assert_uint_eq(b->base[0], 1);
	ck_assert_uint_eq(b->base[100], 2);
	ck_assert_uint_eq(mock_ctl_count(PT_ACK), 2);
	ck_assert_uint_eq(mock_ctl_count(PT_CTS), 0);
	ck_assert_uint_eq(xfer_eager_held(1), 0);
	mock_post(cl, REQ_RECV, 3, b, 200, 100, 1, 5, 0);
	ck_assert_int_eq(done_status(3), -1);
	ck_assert_uint_eq(mock_ctl_count(PT_CTS), 1);
	ck_assert_uint_eq(mock_ctl_last(c, PT_CTS)->hdr.id, 79);
	ck_assert_uint_eq(mock_ctl_last(c, PT_CTS)->u.cts.len, 40);
	ck_assert_int_eq(xfer_on_data(c, 79, 0, 40, &dst, &x), 0);
	ck_assert_ptr_eq(dst, b->base + 200);
	memset(dst, 3, 40);
	xfer_data_landed(x, 40);
	ck_assert_int_eq(done_status(3), PS_OK);
	ck_assert_uint_eq(mock_ctl_count(PT_ACK), 3);
	ck_assert_uint_eq(asocd->xfers_active, 0);
}
END_TEST

/* A budget of 0 holds nothing. */
START_TEST(eager_budget_zero_holds_nothing)
{
	struct conn *c = mock_conn_up(&mock_twosided, 1);
	struct buffer *b = mock_buffer(cl, 300, 0);

	asocd->conf->eager_budget = 0;
	rts_eager(c, 77, 5, 40, 1);
	ck_assert_uint_eq(xfer_eager_held_total(), 0);
	mock_post(cl, REQ_RECV, 1, b, 0, 100, 1, 5, 0);
	ck_assert_uint_eq(mock_ctl_last(c, PT_CTS)->hdr.id, 77);
}
END_TEST

/* A peeking receive too small learns the size; the held copy stays for
 * the receive that fits. */
START_TEST(eager_peek_keeps_it_held)
{
	struct conn *c = mock_conn_up(&mock_twosided, 1);
	struct buffer *b = mock_buffer(cl, 300, 0);
	struct proto_msg m;

	mock.next_flags = PROTO_XF_PEEK;
	mock_post(cl, REQ_RECV, 1, b, 0, 10, 1, 5, 0);
	rts_eager(c, 77, 5, 150, 0x5a);		/* arrives to the peek */
	ck_assert_int_eq(mock_reply(cfd, 1, &m), 1);
	ck_assert_uint_eq(m.u.l_done.status, PS_ETRUNC);
	ck_assert_uint_eq(m.u.l_done.len, 150);
	ck_assert_uint_eq(xfer_eager_held(1), 150);
	mock_post(cl, REQ_RECV, 2, b, 0, 200, 1, 5, 0);
	ck_assert_int_eq(done_status(2), PS_OK);
	ck_assert_uint_eq(b->base[149], 0x5a);
	ck_assert_uint_eq(xfer_eager_held(1), 0);
	ck_assert_uint_eq(mock_ctl_count(PT_CTS), 0);
}
END_TEST

/* Too big for a plain receive: ETRUNC both ways, nothing held. */
START_TEST(eager_too_big_for_the_receive)
{
	struct conn *c = mock_conn_up(&mock_twosided, 1);
	struct buffer *b = mock_buffer(cl, 300, 0);

	mock_post(cl, REQ_RECV, 1, b, 0, 10, 1, 5, 0);
	rts_eager(c, 77, 5, 150, 0x5a);
	ck_assert_int_eq(done_status(1), PS_ETRUNC);
	ck_assert_uint_eq(b->base[0], 0);
	ck_assert_uint_eq(mock_ctl_last(c, PT_ABORT)->u.abort.status,
	    PS_ETRUNC);
	ck_assert_uint_eq(xfer_eager_held_total(), 0);
	ck_assert_uint_eq(asocd->xfers_active, 0);
}
END_TEST

/* What is held goes when its sender cancels it (ABORT) and when the
 * peer's connection is lost. */
START_TEST(eager_held_freed_on_abort_and_loss)
{
	struct conn *c = mock_conn_up(&mock_twosided, 1);
	struct proto_msg m;

	rts_eager(c, 77, 5, 100, 1);
	rts_eager(c, 78, 5, 50, 2);
	ck_assert_uint_eq(xfer_eager_held(1), 150);
	memset(&m, 0, sizeof m);
	m.u.abort.status = PS_ECANCELLED;
	m.u.abort.to_sender = 0;		/* id is ours, the receiver's */
	mock_from_peer(c, PT_ABORT, 77, &m);
	ck_assert_uint_eq(xfer_eager_held(1), 50);
	ck_assert_uint_eq(xfer_unexpected_from(1), 1);
	peer_conn_lost(c, "mock: cable pulled");
	ck_assert_uint_eq(xfer_eager_held(1), 0);
	ck_assert_uint_eq(xfer_eager_held_total(), 0);
	ck_assert_uint_eq(xfer_unexpected_from(1), 0);
	ck_assert_uint_eq(asocd->xfers_active, 0);
}
END_TEST

/* A peer restarted: its new connection comes up, the old one is found
 * dead.  What the old one carried, held eager data and plain unexpected
 * RTSs alike, is dropped: a receive posted afterwards takes only what
 * comes on the new connection. */
START_TEST(eager_held_dropped_when_peer_restarts)
{
	struct conn *old = mock_conn_up(&mock_twosided, 1);
	struct conn *c;
	struct buffer *b = mock_buffer(cl, 300, 0);

	rts_eager(old, 77, 5, 100, 1);
	rts(old, 78, 5, 200);
	ck_assert_uint_eq(xfer_eager_held(1), 100);
	ck_assert_uint_eq(xfer_unexpected_from(1), 2);
	c = mock_conn_up(&mock_twosided, 1);
	peer_conn_lost(old, "mock: reset by the restarted peer");
	ck_assert_uint_eq(xfer_eager_held(1), 0);
	ck_assert_uint_eq(xfer_eager_held_total(), 0);
	ck_assert_uint_eq(xfer_unexpected_from(1), 0);
	mock_post(cl, REQ_RECV, 1, b, 0, 300, 1, 5, 0);
	ck_assert_int_eq(done_status(1), -1);
	rts_eager(c, 1, 5, 50, 9);
	ck_assert_int_eq(done_status(1), PS_OK);
	ck_assert_uint_eq(b->base[0], 9);
	ck_assert_uint_eq(asocd->xfers_active, 0);
}
END_TEST

/* SIGTERM drops what is held, telling the senders. */
START_TEST(eager_held_freed_on_drain)
{
	struct conn *c = mock_conn_up(&mock_twosided, 1);

	rts_eager(c, 77, 5, 100, 1);
	asocd->draining = 1;
	xfer_drain();
	ck_assert_uint_eq(xfer_eager_held_total(), 0);
	ck_assert_uint_eq(mock_ctl_last(c, PT_ABORT)->hdr.id, 77);
	ck_assert_uint_eq(asocd->xfers_active, 0);
}
END_TEST

/* Our send, eager: the RTS carries the message (by reference: xfer names
 * the buffer), and the ACK alone completes it. */
START_TEST(eager_send_completes_on_ack)
{
	struct conn *c = mock_conn_up(&mock_twosided, 1);
	struct buffer *b = mock_buffer(cl, 100, 0x42);
	const struct proto_msg *m;
	uint64_t id;

	mock.eager_max = PROTO_EAGER_MAX;
	id = send_to_1(c, 1, b, 100);
	m = mock_ctl_last(c, PT_RTS);
	ck_assert_uint_eq(m->u.rts.flags, PROTO_RTS_F_EAGER);
	ck_assert_uint_eq(mock.ctl[mock.nctl - 1].payload_len, 100);
	ck_assert_uint_eq(mock.ctl[mock.nctl - 1].payload[63], 0x42);
	ck_assert_int_eq(mock.ctl[mock.nctl - 1].eager_buf, 1);
	ck_assert_int_eq(done_status(1), -1);
	ack(c, id, 100);
	ck_assert_int_eq(done_status(1), PS_OK);
	ck_assert_uint_eq(asocd->ctr.bytes_sent, 100);
	ck_assert_uint_eq(mock.closes, 0);
	ck_assert_uint_eq(asocd->xfers_active, 0);
}
END_TEST

/* SIGTERM with an eager send still unanswered (the receiver holds it, no
 * receive posted): it is cancelled, and the ABORT frees the held copy
 * there; waiting for an ACK that may never come hung the drain until
 * --connection-timeout.  A late ACK is then ignored. */
START_TEST(eager_send_cancelled_by_drain)
{
	struct conn *c = mock_conn_up(&mock_twosided, 1);
	struct buffer *b = mock_buffer(cl, 100, 0x42);
	const struct proto_msg *m;
	uint64_t id;

	mock.eager_max = PROTO_EAGER_MAX;
	id = send_to_1(c, 1, b, 100);
	asocd->draining = 1;
	xfer_drain();
	ck_assert_int_eq(done_status(1), PS_ECANCELLED);
	m = mock_ctl_last(c, PT_ABORT);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(m->hdr.id, id);
	ck_assert_uint_eq(m->u.abort.to_sender, 0);
	ck_assert_uint_eq(asocd->xfers_active, 0);
	ack(c, id, 100);
	ck_assert_uint_eq(mock.closes, 0);
}
END_TEST

/* The client cancels an eager send, or its deadline passes: the receiver
 * is told (ABORT, to the receiver's side), the request fails. */
START_TEST(eager_send_cancel_and_deadline)
{
	struct conn *c = mock_conn_up(&mock_twosided, 1);
	struct buffer *b = mock_buffer(cl, 100, 0x42);
	struct proto_msg m;
	uint64_t id;
	int i;

	mock.eager_max = PROTO_EAGER_MAX;
	id = send_to_1(c, 1, b, 100);
	xfer_cancel(TAILQ_FIRST(&cl->reqs), PS_ECANCELLED, "cancelled");
	ck_assert_int_eq(done_status(1), PS_ECANCELLED);
	ck_assert_uint_eq(mock_ctl_last(c, PT_ABORT)->hdr.id, id);
	ck_assert_uint_eq(mock_ctl_last(c, PT_ABORT)->u.abort.to_sender, 0);
	mock_post(cl, REQ_SEND, 2, b, 0, 100, 1, 9, 20);
	id = mock_ctl_last(c, PT_RTS)->hdr.id;
	ck_assert_uint_eq(mock_ctl_last(c, PT_RTS)->u.rts.flags,
	    PROTO_RTS_F_EAGER);
	for (i = 0; i < 100 && !mock_reply(cfd, 2, &m); i++)
		usleep(10000);
	ck_assert_int_lt(i, 100);
	ck_assert_uint_eq(m.u.l_done.status, PS_ETIMEDOUT);
	ck_assert_uint_eq(mock_ctl_last(c, PT_ABORT)->hdr.id, id);
	ck_assert_uint_eq(asocd->xfers_active, 0);
	ck_assert_uint_eq(mock.closes, 0);
}
END_TEST

/* The receiver could not keep it: a CTS turns it into a rendezvous. */
START_TEST(eager_send_cts_means_rendezvous)
{
	struct conn *c = mock_conn_up(&mock_twosided, 1);
	struct buffer *b = mock_buffer(cl, 100, 0x42);
	uint64_t id;

	mock.eager_max = PROTO_EAGER_MAX;
	id = send_to_1(c, 1, b, 100);
	cts(c, id, 100);
	ck_assert_uint_eq(mock.starts, 1);
	ck_assert_uint_eq(mock_pump(c, 10, NULL), 100);
	ack(c, id, 100);
	ck_assert_int_eq(done_status(1), PS_OK);
	ck_assert_uint_eq(asocd->ctr.bytes_sent, 100);
	ck_assert_uint_eq(mock.closes, 0);
}
END_TEST

/* Not eager: over the threshold, over the transport's limit, the
 * threshold at 0, or an empty message. */
START_TEST(eager_send_only_when_small)
{
	struct conn *c = mock_conn_up(&mock_twosided, 1);
	struct buffer *b = mock_buffer(cl, 100000, 1);

	mock.eager_max = PROTO_EAGER_MAX;
	asocd->conf->eager_threshold = 4096;
	send_to_1(c, 1, b, 4096);
	ck_assert_uint_eq(mock_ctl_last(c, PT_RTS)->u.rts.flags,
	    PROTO_RTS_F_EAGER);
	send_to_1(c, 2, b, 4097);
	ck_assert_uint_eq(mock_ctl_last(c, PT_RTS)->u.rts.flags, 0);
	ck_assert_uint_eq(mock.ctl[mock.nctl - 1].payload_len, 0);
	send_to_1(c, 3, b, 0);
	ck_assert_uint_eq(mock_ctl_last(c, PT_RTS)->u.rts.flags, 0);
	mock.eager_max = 1000;
	send_to_1(c, 4, b, 1001);
	ck_assert_uint_eq(mock_ctl_last(c, PT_RTS)->u.rts.flags, 0);
	mock.eager_max = PROTO_EAGER_MAX;
	asocd->conf->eager_threshold = 0;
	send_to_1(c, 5, b, 8);
	ck_assert_uint_eq(mock_ctl_last(c, PT_RTS)->u.rts.flags, 0);
}
END_TEST

/* An ACK before the data is still a violation for a plain send. */
START_TEST(eager_ack_to_a_plain_send_drops)
{
	struct conn *c = mock_conn_up(&mock_twosided, 1);
	struct buffer *b = mock_buffer(cl, 100000, 1);
	uint64_t id;

	mock.eager_max = PROTO_EAGER_MAX;
	id = send_to_1(c, 1, b, 100000);	/* over the threshold */
	ack(c, id, 100000);
	ck_assert_uint_eq(mock.closes, 1);
	ck_assert_int_eq(done_status(1), PS_EPEERLOST);
}
END_TEST

static Suite *
xfer_suite(void)
{
	Suite *s = suite_create("xfer");

	check_add_case(s, "twosided", setup_twosided, NULL, 20, CHECK_TESTS(
	    local_copy, rts_waits_for_its_receive, receive_waits_for_its_rts,
	    too_big_for_the_receive, peek_leaves_the_message,
	    unmatched_sends_are_bounded, chunks_and_ack, transfers_take_turns,
	    cts_out_of_turn_drops_the_connection,
	    ack_before_the_data_drops_the_connection, data_lands_in_order,
	    data_out_of_range_drops_the_connection,
	    data_on_a_lane_is_dropped_with_its_transfer,
	    data_for_a_cancelled_transfer_is_discarded, deadline,
	    peer_loss_fails_what_it_carried, cancel_mid_send,
	    give_up_tells_the_peer, start_data_failure_gives_up,
	    drain_refuses_new_work, eager_into_a_posted_receive,
	    eager_unexpected_is_held, eager_over_budget_becomes_rendezvous,
	    eager_budget_zero_holds_nothing, eager_total_budget_caps_all_peers,
	    eager_peek_keeps_it_held, eager_too_big_for_the_receive,
	    eager_held_freed_on_abort_and_loss, eager_held_freed_on_drain,
	    eager_held_dropped_when_peer_restarts, eager_send_completes_on_ack,
	    eager_send_cts_means_rendezvous, eager_send_cancelled_by_drain,
	    eager_send_cancel_and_deadline, eager_send_only_when_small,
	    eager_ack_to_a_plain_send_drops));
	check_add_case(s, "onesided", setup_onesided, NULL, 20, CHECK_TESTS(
	    onesided_wdone, onesided_grant_failure, onesided_fence,
	    onesided_sender_confirms));
	return s;
}

int
main(void)
{
	return check_run(xfer_suite(), NULL);
}
