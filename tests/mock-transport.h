/*
 * mock-transport.h: a daemon without sockets, for the unit suites of
 * xfer.c, peer.c and control.c.
 *
 * Two transport tables record what they are asked to do instead of doing
 * it: mock_twosided carries data as DATA frames (like TCP, no grant) and
 * mock_onesided exposes ranges (like RDMA: grant, release, WDONE).  The
 * test plays the peer: it feeds control messages in with peer_conn_msg(),
 * and moves a sender's data with mock_pump(), which asks xfer's scheduler
 * for chunks as a transport does.  Clients are real control.c clients on
 * one end of a socketpair; the test holds the other end.
 *
 * peer.c picks its transport with transport_pick(), which names the real
 * ones: the suites link with -Wl,--wrap=transport_pick, so that it picks
 * a mock (a seam at link time; the daemon is built as it always is).
 *
 * Each Check test runs in its own process (fork mode), so
 * mock_daemon_start() builds the whole daemon state afresh every time.
 */
#ifndef ASOC_MOCK_TRANSPORT_H
#define ASOC_MOCK_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "asocd.h"
#include "buffer.h"
#include "control.h"
#include "peer.h"
#include "proto.h"
#include "transport.h"
#include "xfer.h"

#define MOCK_MAX_CTL	1024

/* What the transports were asked to do. */
struct mock_record {
	struct {
		const struct conn *c;
		struct proto_msg m;
		/* The scheduler still had a chunk for c when m was sent: a
		 * transport that moves data as it sends (RDMA) would have
		 * posted it before m. */
		int data_queued;
		/* An eager RTS: its message's first bytes (the payload is
		 * the caller's only during the call), and whether xfer named
		 * the buffer it lies in (xfer_eager_buf). */
		uint8_t payload[64];
		size_t payload_len;
		int eager_buf;
	} ctl[MOCK_MAX_CTL];	/* send_ctl, in order */
	unsigned nctl;
	unsigned grants, releases, starts, closes, connects;
	uint64_t last_start_id;	/* the transfer start_data was called for */
	/* Settings for the next calls. */
	int connect_fails;	/* connect returns NULL */
	int grant_fails;	/* grant returns -1 */
	/* start_data gives the transfer up (xfer_give_up, PS_ENOMEM) with
	 * it queued on c->sendq, as transport_rdma.c's does when it cannot
	 * register the buffer. */
	int start_fails;
	uint32_t next_flags;	/* PROTO_XF_* of mock_post's next request */
	uint32_t eager_max;	/* what the eager_max hook says (0: none) */
	char last_msg[PROTO_MSG_MAX];	/* mock_client_proc's refusal */
};
extern struct mock_record mock;

extern const struct transport mock_twosided;
extern const struct transport mock_onesided;

/* A daemon of rank 0 in a world of world ranks (127.0.0.1, ports 9101...)
 * with the given chunk size (0: the default), under the two-sided mock
 * unless onesided. */
void mock_daemon_start(uint32_t world, size_t chunk, int onesided);
/* The same as node rank of world (two-sided, default chunk). */
void mock_daemon_start_as(uint32_t world, uint32_t rank);
/* Runs the loop until nothing is left to do right now (deferred frees,
 * replies, zero timers), at most a few rounds. */
void mock_loop(void);

/* Runs the loop for about ms milliseconds (timers: retries, deadlines). */
void mock_run_for(unsigned ms);

/* A handshaken connection to rank over tp, as peer.c has it once the
 * handshake is done (peer up, connection in its list). */
struct conn *mock_conn_up(const struct transport *tp, uint32_t rank);

/* Plays rank c->peer's side of the handshake on c, an outgoing connection
 * whose transport just reported it open (peer_conn_opened): HELLO,
 * CHALLENGE, AUTH, WELCOME.  The connection is up on return. */
void mock_handshake(struct conn *c);

/* The last control message of type sent on c (any connection when c is
 * NULL), or NULL; how many there were. */
const struct proto_msg *mock_ctl_last(const struct conn *c, uint16_t type);
unsigned mock_ctl_count(uint16_t type);

/* A client of ours, past L_HELLO if welcomed; *fd: the test's end of its
 * socketpair. */
struct client *mock_client(int *fd, int welcomed);
/* A session of process pid joining process rank of world, as an L_HELLO
 * with PROTO_LH_F_PROC: the client when ranks_hello answers want (PS_OK),
 * else NULL with the refusal in mock.last_msg (the client dropped). */
struct client *mock_client_proc(int *fd, pid_t pid, uint32_t rank,
    uint32_t world, enum proto_status want);
/* A memfd of size bytes sealed against shrinking and growing, as a
 * client hands asocd a buffer (the caller closes it). */
int mock_memfd(size_t size);
/* A registered buffer of size bytes of c, filled with byte fill. */
struct buffer *mock_buffer(struct client *c, size_t size, int fill);
/* A request as control.c makes it from an L_SEND or L_RECV, posted to
 * xfer with timeout_ms; the request may be gone (completed) on return. */
void mock_post(struct client *c, enum req_kind kind, uint64_t id,
    struct buffer *b, uint64_t off, uint64_t len, uint32_t peer,
    uint64_t tag, uint32_t timeout_ms);
/* The reply to request id the client got (L_DONE), read from fd: 1 and
 * *out, or 0 when none came (yet). */
int mock_reply(int fd, uint64_t id, struct proto_msg *out);
/* The status of that reply, which must be an L_DONE (*out holds it), or
 * -1 when none came (yet). */
int mock_done_status(int fd, uint64_t id, struct proto_msg *out);
/* The peer of c announces process rank of world: RK_JOIN (from pid, its
 * incarnation inc), or RK_LEAVE (status PS_ELEFT). */
void mock_rk_join(struct conn *c, uint32_t rank, uint32_t world,
    uint32_t pid, uint32_t inc);
void mock_rk_leave(struct conn *c, uint32_t rank, uint32_t world,
    uint32_t inc);

/* Plays the sending transport on c: takes up to max chunks from xfer's
 * scheduler and reports each posted; returns the bytes.  ids (if not
 * NULL) gets the transfer id of each chunk, in order. */
uint64_t mock_pump(struct conn *c, unsigned max, uint64_t *ids);

/* A message from the peer on c, as a transport hands it up. */
void mock_from_peer(struct conn *c, uint16_t type, uint64_t id,
    struct proto_msg *m);

#endif
