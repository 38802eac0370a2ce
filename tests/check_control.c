/*
 * check_control.c: the local control protocol as control.c handles it,
 * without a daemon: a client on one end of a socketpair (the test holds
 * the other), the transports mocked (mock-transport.h).  HELLO, REG,
 * SEND/RECV, CANCEL and FREE, and what gets a client dropped.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check-main.h"
#include "mock-transport.h"

static int cfd;
static struct client *cl;

static void
setup(void)
{
	mock_daemon_start(3, 0, 0);
	cl = mock_client(&cfd, 0);
}

/* Sends m (with passfd when not -1) as the client, and lets asocd read
 * it. */
static void
say(uint16_t type, uint64_t id, struct proto_msg *m, int passfd)
{
	uint8_t buf[PROTO_HDR_LEN + PROTO_MAX_FIXED];
	union {
		struct cmsghdr align;
		char space[CMSG_SPACE(sizeof(int))];
	} cbuf;
	struct iovec iov;
	struct msghdr mh;
	struct cmsghdr *cm;
	size_t n;

	m->hdr.type = type;
	m->hdr.id = id;
	n = proto_encode(m, buf, sizeof buf);
	ck_assert_uint_gt(n, 0);
	iov.iov_base = buf;
	iov.iov_len = n;
	memset(&mh, 0, sizeof mh);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (passfd >= 0) {
		memset(&cbuf, 0, sizeof cbuf);
		mh.msg_control = cbuf.space;
		mh.msg_controllen = sizeof cbuf.space;
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &passfd, sizeof(int));
	}
	ck_assert_int_eq(sendmsg(cfd, &mh, 0), (ssize_t)n);
	mock_loop();
}

static void
hello(void)
{
	struct proto_msg m;

	memset(&m, 0, sizeof m);
	m.u.l_hello.version = PROTO_VERSION;
	m.u.l_hello.pid = (uint32_t)getpid();
	say(PT_L_HELLO, 0, &m, -1);
	ck_assert_int_eq(mock_reply(cfd, 0, &m), 1);
	ck_assert_uint_eq(m.hdr.type, PT_L_WELCOME);
}

static int
done_status(uint64_t id, struct proto_msg *m)
{
	return mock_done_status(cfd, id, m);
}

/* 1 when asocd has closed its end (the client was dropped). */
static int
dropped(void)
{
	uint8_t b[PROTO_HDR_LEN + PROTO_MAX_FIXED];
	ssize_t n;

	mock_loop();
	while ((n = recv(cfd, b, sizeof b, MSG_DONTWAIT)) > 0)
		;
	return n == 0;
}

/* A registered buffer of size bytes: its id. */
static uint64_t
reg(size_t size)
{
	struct proto_msg m;
	int fd;

	fd = mock_memfd(size);
	memset(&m, 0, sizeof m);
	m.u.l_reg.size = size;
	say(PT_L_REG, 50, &m, fd);
	close(fd);
	ck_assert_msg(done_status(50, &m) == PS_OK, "L_REG: %s",
	    m.u.l_done.msg);
	ck_assert_uint_ne(m.u.l_done.len, 0);
	return m.u.l_done.len;
}

static void
xfer(uint16_t type, uint64_t id, uint64_t buf, uint64_t off, uint64_t len,
    uint32_t peer)
{
	struct proto_msg m;

	memset(&m, 0, sizeof m);
	m.u.l_xfer.buf_id = buf;
	m.u.l_xfer.offset = off;
	m.u.l_xfer.len = len;
	m.u.l_xfer.tag = 8;
	m.u.l_xfer.peer = peer;
	say(type, id, &m, -1);
}

START_TEST(hello_is_welcomed)
{
	struct proto_msg m;

	memset(&m, 0, sizeof m);
	m.u.l_hello.version = PROTO_VERSION;
	say(PT_L_HELLO, 0, &m, -1);
	ck_assert_int_eq(mock_reply(cfd, 0, &m), 1);
	ck_assert_uint_eq(m.hdr.type, PT_L_WELCOME);
	ck_assert_uint_eq(m.u.l_welcome.rank, 0);
	ck_assert_uint_eq(m.u.l_welcome.world, 3);
	ck_assert_uint_eq(m.u.l_welcome.chunk_size, asocd->conf->chunk_size);
	ck_assert_int_eq(dropped(), 0);
}
END_TEST

START_TEST(other_version_is_told_and_dropped)
{
	struct proto_msg m;

	memset(&m, 0, sizeof m);
	m.u.l_hello.version = PROTO_VERSION + 1;
	say(PT_L_HELLO, 0, &m, -1);
	ck_assert_int_eq(done_status(0, &m), PS_EPROTO);
	ck_assert_ptr_nonnull(strstr(m.u.l_done.msg, "version"));
	ck_assert_int_eq(dropped(), 1);
}
END_TEST

START_TEST(request_before_hello_is_dropped)
{
	xfer(PT_L_RECV, 1, 1, 0, 10, 0);
	ck_assert_int_eq(dropped(), 1);
}
END_TEST

START_TEST(local_send_and_receive)
{
	struct proto_msg m;
	uint64_t a, b;

	hello();
	a = reg(8192);
	b = reg(8192);
	ck_assert_uint_ne(a, b);
	xfer(PT_L_RECV, 1, b, 0, 8192, 0);
	xfer(PT_L_SEND, 2, a, 4096, 4096, 0);
	mock_loop();
	ck_assert_int_eq(done_status(1, &m), PS_OK);
	ck_assert_uint_eq(m.u.l_done.len, 4096);
	ck_assert_uint_eq(m.u.l_done.tag, 8);
	ck_assert_int_eq(done_status(2, &m), PS_OK);
}
END_TEST

START_TEST(unknown_buffer)
{
	struct proto_msg m;

	hello();
	xfer(PT_L_SEND, 1, 999, 0, 10, 0);
	ck_assert_int_eq(done_status(1, &m), PS_EINVAL);
	ck_assert_ptr_nonnull(strstr(m.u.l_done.msg, "register"));
	ck_assert_int_eq(dropped(), 0);
}
END_TEST

START_TEST(range_outside_the_buffer)
{
	struct proto_msg m;
	uint64_t a;

	hello();
	a = reg(4096);
	xfer(PT_L_SEND, 1, a, 4000, 100, 0);
	ck_assert_int_eq(done_status(1, &m), PS_EINVAL);
	ck_assert_uint_eq(cl->nreqs, 0);
}
END_TEST

START_TEST(reused_request_id_is_dropped)
{
	uint64_t a;

	hello();
	a = reg(4096);
	xfer(PT_L_RECV, 1, a, 0, 10, 0);
	xfer(PT_L_RECV, 1, a, 0, 10, 0);
	ck_assert_int_eq(dropped(), 1);
}
END_TEST

START_TEST(cancel)
{
	struct proto_msg m;
	uint64_t a;

	hello();
	a = reg(4096);
	xfer(PT_L_RECV, 1, a, 0, 10, 2);
	ck_assert_int_eq(done_status(1, &m), -1);
	memset(&m, 0, sizeof m);
	m.u.l_cancel.req_id = 1;
	say(PT_L_CANCEL, 2, &m, -1);
	ck_assert_int_eq(done_status(1, &m), PS_ECANCELLED);
	ck_assert_uint_eq(cl->nreqs, 0);
}
END_TEST

START_TEST(free_cancels_what_uses_the_buffer)
{
	struct proto_msg m;
	uint64_t a, b;

	hello();
	a = reg(4096);
	b = reg(4096);
	xfer(PT_L_RECV, 1, a, 0, 10, 2);
	xfer(PT_L_RECV, 2, b, 0, 10, 2);
	memset(&m, 0, sizeof m);
	m.u.l_free.buf_id = a;
	say(PT_L_FREE, 3, &m, -1);
	ck_assert_int_eq(done_status(1, &m), PS_ECANCELLED);
	ck_assert_int_eq(done_status(3, &m), PS_OK);
	ck_assert_int_eq(done_status(2, &m), -1);
	ck_assert_uint_eq(cl->nbufs, 1);
}
END_TEST

START_TEST(fd_with_another_message_is_dropped)
{
	struct proto_msg m;
	int fd = memfd_create("check", MFD_CLOEXEC);

	hello();
	memset(&m, 0, sizeof m);
	m.u.l_free.buf_id = 1;
	say(PT_L_FREE, 3, &m, fd);
	close(fd);
	ck_assert_int_eq(dropped(), 1);
}
END_TEST

/* A client that leaves gives up its transfers: the peer is told. */
START_TEST(leaving_cancels_transfers)
{
	struct conn *c = mock_conn_up(&mock_twosided, 1);
	const struct proto_msg *rts;
	uint64_t a;

	hello();
	a = reg(4096);
	xfer(PT_L_SEND, 1, a, 0, 100, 1);
	ck_assert_ptr_nonnull(rts = mock_ctl_last(c, PT_RTS));
	close(cfd);
	mock_loop();
	ck_assert_ptr_nonnull(mock_ctl_last(c, PT_ABORT));
	ck_assert_uint_eq(mock_ctl_last(c, PT_ABORT)->hdr.id, rts->hdr.id);
	ck_assert_uint_eq(asocd->xfers_active, 0);
	ck_assert_uint_eq(asocd->nclients, 0);
}
END_TEST

/* L_HELLO for process rank of world (flags PROTO_LH_F_*): the reply. */
static void
hello_as(uint32_t flags, uint32_t rank, uint32_t world, struct proto_msg *m)
{
	memset(m, 0, sizeof *m);
	m->u.l_hello.version = PROTO_VERSION;
	m->u.l_hello.pid = (uint32_t)getpid();
	m->u.l_hello.rank = rank;
	m->u.l_hello.world = world;
	m->u.l_hello.localid = 2;
	m->u.l_hello.flags = flags;
	say(PT_L_HELLO, 0, m, -1);
	ck_assert_int_eq(mock_reply(cfd, 0, m), 1);
}

START_TEST(hello_as_process_rank)
{
	struct proto_msg m;

	hello_as(PROTO_LH_F_PROC, 5, 8, &m);
	ck_assert_uint_eq(m.hdr.type, PT_L_WELCOME);
	ck_assert_uint_eq(m.u.l_welcome.rank, 5);
	ck_assert_uint_eq(m.u.l_welcome.world, 8);
	ck_assert_uint_eq(m.u.l_welcome.node, 0);
	ck_assert_uint_eq(m.u.l_welcome.nodes, 3);
	ck_assert_uint_eq(m.u.l_welcome.flags, PROTO_LH_F_PROC);
	ck_assert_ptr_nonnull(ranks_local(5));
	ck_assert_uint_eq(ranks_local(5)->localid, 2);
	/* Its leaving is the rank's. */
	close(cfd);
	mock_loop();
	ck_assert_ptr_null(ranks_local(5));
	ck_assert_int_eq(ranks_mode(), RANKS_NONE);
}
END_TEST

/* A node-rank session to a daemon serving process ranks: refused before
 * any welcome, naming both, and dropped. */
START_TEST(hello_in_the_other_mode_is_refused)
{
	struct proto_msg m;
	int first = cfd;

	hello_as(PROTO_LH_F_PROC, 1, 8, &m);
	ck_assert_uint_eq(m.hdr.type, PT_L_WELCOME);
	cl = mock_client(&cfd, 0);
	hello_as(0, 0, 0, &m);
	ck_assert_uint_eq(m.hdr.type, PT_L_DONE);
	ck_assert_uint_eq(m.u.l_done.status, PS_EINVAL);
	ck_assert_ptr_nonnull(strstr(m.u.l_done.msg, "serves process ranks "
	    "of a world of 8"));
	ck_assert_int_eq(dropped(), 1);
	/* Status only is served whatever the mode. */
	cl = mock_client(&cfd, 0);
	hello_as(PROTO_LH_F_STATUS, 0, 0, &m);
	ck_assert_uint_eq(m.hdr.type, PT_L_WELCOME);
	ck_assert_uint_eq(m.u.l_welcome.world, 3);
	ck_assert_uint_eq(m.u.l_welcome.flags, PROTO_LH_F_STATUS);
	(void)first;
}
END_TEST

START_TEST(status_session_cannot_send)
{
	struct proto_msg m;
	uint64_t a;

	hello_as(PROTO_LH_F_STATUS, 0, 0, &m);
	a = reg(4096);
	xfer(PT_L_SEND, 1, a, 0, 10, 0);
	ck_assert_int_eq(done_status(1, &m), PS_EINVAL);
	ck_assert_ptr_nonnull(strstr(m.u.l_done.msg, "status-only"));
}
END_TEST

/* L_WHERE answers once every rank of the range has joined somewhere. */
START_TEST(where_waits_for_every_rank)
{
	struct conn *c = mock_conn_up(&mock_twosided, 2);
	struct proto_msg m;
	struct buffer *b;
	uint64_t a;

	hello_as(PROTO_LH_F_PROC, 1, 4, &m);
	a = reg(4096);
	memset(&m, 0, sizeof m);
	m.u.l_xfer.buf_id = a;
	m.u.l_xfer.offset = 8;
	m.u.l_xfer.len = 8;
	m.u.l_xfer.peer = 1;	/* ranks 1 and 2 */
	say(PT_L_WHERE, 7, &m, -1);
	ck_assert_int_eq(done_status(7, &m), -1);
	mock_rk_join(c, 2, 4, 99, 1);
	ck_assert_int_eq(done_status(7, &m), PS_OK);
	ck_assert_uint_eq(m.u.l_done.len, 2);
	b = buffer_find(cl, a);
	ck_assert_uint_eq(b->base[8], 0);	/* rank 1: here, node 0 */
	ck_assert_uint_eq(b->base[12], 2);	/* rank 2: node 2 */
	/* Outside the world, and with a deadline. */
	memset(&m, 0, sizeof m);
	m.u.l_xfer.buf_id = a;
	m.u.l_xfer.len = 8;
	m.u.l_xfer.peer = 3;
	say(PT_L_WHERE, 8, &m, -1);
	ck_assert_int_eq(done_status(8, &m), PS_EINVAL);
	memset(&m, 0, sizeof m);
	m.u.l_xfer.buf_id = a;
	m.u.l_xfer.len = 4;
	m.u.l_xfer.peer = 3;
	m.u.l_xfer.timeout_ms = 100;
	say(PT_L_WHERE, 9, &m, -1);
	mock_run_for(200);
	ck_assert_int_eq(done_status(9, &m), PS_ETIMEDOUT);
	ck_assert_str_eq(m.u.l_done.msg, "rank 3 has not joined after 1 s: "
	    "is a process with SLURM_PROCID 3 running (world of 4)?");
}
END_TEST

static void
rk_msg(struct conn *c, uint16_t type, uint32_t rank, uint32_t inc)
{
	if (type == PT_RK_JOIN)
		mock_rk_join(c, rank, 4, 99, inc);
	else
		mock_rk_leave(c, rank, 4, inc);
}

/* A rank seen joined while L_WHERE waits counts even if it leaves before
 * the others join (a quick process of the step); one that had left
 * before the caller joined is waited for (its new process, or an earlier
 * step's leave: see check_ranks for one that left since). */
START_TEST(where_counts_ranks_seen_while_waiting)
{
	struct conn *c = mock_conn_up(&mock_twosided, 2);
	struct proto_msg m;
	struct buffer *b;
	uint64_t a;

	rk_msg(c, PT_RK_JOIN, 1, 1);
	rk_msg(c, PT_RK_LEAVE, 1, 1);		/* left before the caller */
	hello_as(PROTO_LH_F_PROC, 0, 4, &m);
	a = reg(4096);
	b = buffer_find(cl, a);
	rk_msg(c, PT_RK_JOIN, 2, 1);
	memset(&m, 0, sizeof m);
	m.u.l_xfer.buf_id = a;
	m.u.l_xfer.len = 16;
	say(PT_L_WHERE, 7, &m, -1);
	rk_msg(c, PT_RK_LEAVE, 2, 1);		/* seen, then gone */
	rk_msg(c, PT_RK_JOIN, 3, 1);
	ck_assert_int_eq(done_status(7, &m), -1);	/* 1 is waited for */
	rk_msg(c, PT_RK_JOIN, 1, 2);
	ck_assert_int_eq(done_status(7, &m), PS_OK);
	ck_assert_uint_eq(b->base[0], 0);
	ck_assert_uint_eq(b->base[4], 2);
	ck_assert_uint_eq(b->base[8], 2);
	ck_assert_uint_eq(b->base[12], 2);
}
END_TEST

/* asoc-stat's view of process ranks: S_NODE's mode, then one S_RANK per
 * rank living here, before S_END. */
START_TEST(stats_list_process_ranks)
{
	uint8_t buf[PROTO_HDR_LEN + PROTO_MAX_FIXED];
	struct proto_msg m;
	unsigned nrank = 0, npeer = 0;
	ssize_t n;
	int done = 0;

	hello_as(PROTO_LH_F_PROC, 6, 8, &m);
	memset(&m, 0, sizeof m);
	say(PT_S_QUERY, 4, &m, -1);
	while (!done && (n = recv(cfd, buf, sizeof buf, MSG_DONTWAIT)) > 0) {
		ck_assert_int_eq(proto_decode(buf, (size_t)n,
		    PROTO_CH_LOCAL_OUT, &m), PROTO_OK);
		switch (m.hdr.type) {
		case PT_S_NODE:
			ck_assert_uint_eq(m.u.s_node.mode, PROTO_MODE_PROC);
			ck_assert_uint_eq(m.u.s_node.local_ranks, 1);
			ck_assert_uint_eq(m.u.s_node.proc_world, 8);
			break;
		case PT_S_PEER:
			npeer++;
			break;
		case PT_S_RANK:
			nrank++;
			ck_assert_uint_eq(m.u.s_rank.rank, 6);
			ck_assert_uint_eq(m.u.s_rank.world, 8);
			ck_assert_uint_eq(m.u.s_rank.pid, (uint32_t)getpid());
			ck_assert_uint_eq(m.u.s_rank.localid, 2);
			ck_assert_uint_eq(m.u.s_rank.sessions, 1);
			break;
		case PT_S_END:
			done = 1;
			break;
		}
	}
	ck_assert_int_eq(done, 1);
	ck_assert_uint_eq(npeer, 3);
	ck_assert_uint_eq(nrank, 1);
}
END_TEST

static Suite *
control_suite(void)
{
	return check_suite("control", "core", setup, NULL, 20, CHECK_TESTS(
	    hello_is_welcomed, other_version_is_told_and_dropped,
	    request_before_hello_is_dropped, local_send_and_receive,
	    unknown_buffer, range_outside_the_buffer,
	    reused_request_id_is_dropped, cancel,
	    free_cancels_what_uses_the_buffer,
	    fd_with_another_message_is_dropped, leaving_cancels_transfers,
	    hello_as_process_rank, hello_in_the_other_mode_is_refused,
	    status_session_cannot_send, where_waits_for_every_rank,
	    where_counts_ranks_seen_while_waiting, stats_list_process_ranks));
}

int
main(void)
{
	return check_run(control_suite(), NULL);
}
