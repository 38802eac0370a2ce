/*
 * mock-transport.c: the daemon's global state, two recording transports
 * and a few helpers for the unit suites (see mock-transport.h).
 *
 * main.c is not in libasocd, so what it defines for the rest of the
 * daemon (asocd, asocd_next_id, asocd_later...) is defined here too, the
 * same way but without the signals and the listening sockets.
 */
#include "config.h"
#include "mock-transport.h"
#include "rankwhere.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <check.h>
#include <event2/event.h>

#include "conf.h"
#include "match.h"

struct mock_record mock;
struct asocd *asocd;
static struct asocd mock_state;
static struct conf mock_conf;

/* --- what main.c gives the rest of the daemon --- */

uint64_t
asocd_next_id(void)
{
	static uint64_t next = 1000;

	return ++next;
}

struct mock_later {
	void (*cb)(evutil_socket_t, short, void *);
	void *arg;
};

static void
mock_later_cb(evutil_socket_t fd, short what, void *arg)
{
	struct mock_later l = *(struct mock_later *)arg;

	free(arg);
	l.cb(fd, what, l.arg);
}

void
asocd_later(void (*cb)(evutil_socket_t, short, void *), void *arg,
    const char *what)
{
	static const struct timeval now = { 0, 0 };
	struct mock_later *l = malloc(sizeof *l);

	(void)what;
	ck_assert_ptr_nonnull(l);
	l->cb = cb;
	l->arg = arg;
	ck_assert_int_eq(event_base_once(asocd->base, -1, EV_TIMEOUT,
	    mock_later_cb, l, &now), 0);
}

static void
mock_free_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	free(arg);
}

void
asocd_free_later(void *p, const char *what)
{
	asocd_later(mock_free_cb, p, what);
}

void
asocd_check_drained(void)
{
}

/* --- the transports --- */

/* Linked in place of transport.c's (see mock-transport.h). */
const struct transport *__wrap_transport_pick(struct peer *p);

const struct transport *
__wrap_transport_pick(struct peer *p)
{
	(void)p;
	return asocd->conf->transport == CONF_TRANSPORT_RDMA ?
	    &mock_onesided : &mock_twosided;
}

static int
mock_listen(char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	return 0;
}

static void
mock_stop_listen(void)
{
}

static struct conn *
mock_connect(struct peer *p, char *err, size_t errlen)
{
	struct conn *c;

	mock.connects++;
	if (mock.connect_fails) {
		snprintf(err, errlen, "mock: connection refused");
		return NULL;
	}
	if ((c = conn_new(__wrap_transport_pick(p), p, 1)) != NULL)
		snprintf(c->name, sizeof c->name, "rank %u (mock)", p->rank);
	return c;
}

static void
mock_send_ctl(struct conn *c, struct proto_msg *m)
{
	struct xfer_chunk ch;

	ck_assert_uint_lt(mock.nctl, MOCK_MAX_CTL);
	mock.ctl[mock.nctl].c = c;
	mock.ctl[mock.nctl].m = *m;
	mock.ctl[mock.nctl].data_queued = xfer_next_chunk(c, &ch);
	mock.ctl[mock.nctl].payload_len = m->payload_len;
	if (m->payload_len > 0) {
		memcpy(mock.ctl[mock.nctl].payload, m->payload,
		    m->payload_len < 64 ? m->payload_len : 64);
		mock.ctl[mock.nctl].eager_buf =
		    xfer_eager_buf(c, m->hdr.id) != NULL;
	}
	mock.ctl[mock.nctl].m.payload = NULL;	/* not after the call */
	mock.nctl++;
}

static int
mock_grant(struct conn *c, struct xfer *x, struct req *r, uint64_t *addr,
    uint32_t *rkey, char *err, size_t errlen)
{
	(void)c;
	if (mock.grant_fails) {
		snprintf(err, errlen, "mock: cannot expose the range");
		return -1;
	}
	mock.grants++;
	*addr = (uintptr_t)(r->buf->base + r->off);
	*rkey = 0x1234;
	x->tp_priv = &mock;	/* something is exposed */
	return 0;
}

static void
mock_start_data(struct conn *c, struct xfer *x)
{
	(void)c;
	mock.starts++;
	mock.last_start_id = x->id;
	if (mock.start_fails)
		xfer_give_up(x, PS_ENOMEM, "mock: cannot register the buffer");
}

static void
mock_release(struct conn *c, struct xfer *x)
{
	(void)c;
	if (x->tp_priv != NULL)
		mock.releases++;
	x->tp_priv = NULL;
}

static uint32_t
mock_eager_max(const struct conn *c)
{
	(void)c;
	return mock.eager_max;
}

static void
mock_close(struct conn *c)
{
	mock.closes++;
	conn_free_later(c);
}

const struct transport mock_twosided = {
	.name = "mock-twosided",
	.title = "mock (two-sided)",
	.listen = mock_listen,
	.stop_listen = mock_stop_listen,
	.connect = mock_connect,
	.send_ctl = mock_send_ctl,
	.grant = NULL,
	.start_data = mock_start_data,
	.release = NULL,
	.eager_max = mock_eager_max,
	.close = mock_close,
};

const struct transport mock_onesided = {
	.name = "mock-onesided",
	.title = "mock (one-sided)",
	.flags = TRANSPORT_ONE_SIDED,
	.listen = mock_listen,
	.stop_listen = mock_stop_listen,
	.connect = mock_connect,
	.send_ctl = mock_send_ctl,
	.grant = mock_grant,
	.start_data = mock_start_data,
	.release = mock_release,
	.eager_max = mock_eager_max,
	.close = mock_close,
};

/* --- the daemon --- */

static uint32_t mock_rank;	/* mock_daemon_start_as's */

void
mock_daemon_start_as(uint32_t world, uint32_t rank)
{
	mock_rank = rank;
	mock_daemon_start(world, 0, 0);
	mock_rank = 0;
}

void
mock_daemon_start(uint32_t world, size_t chunk, int onesided)
{
	char *argv[] = { "asocd", "--peers", NULL, "--rank", NULL, NULL };
	char *env[] = { NULL };
	char peers[256], err[256], rank[16];
	uint32_t i;

	memset(&mock, 0, sizeof mock);
	snprintf(peers, sizeof peers, "127.0.0.1:9101");
	for (i = 1; i < world; i++)
		snprintf(peers + strlen(peers), sizeof peers - strlen(peers),
		    ",127.0.0.1:%u", 9101 + i);
	argv[2] = peers;
	snprintf(rank, sizeof rank, "%u", mock_rank);
	argv[4] = rank;
	ck_assert_int_eq(conf_load(&mock_conf, 5, argv, env, err, sizeof err),
	    CONF_RUN);
	if (chunk != 0)
		mock_conf.chunk_size = chunk;
	/* control_listen() sets it from the node's memory. */
	mock_conf.client_max_bytes = 1u << 30;
	/* transport_pick() names the real ones; mock_connect picks the
	 * mock by this setting instead. */
	mock_conf.transport = onesided ? CONF_TRANSPORT_RDMA :
	    CONF_TRANSPORT_TCP;
	asocd = &mock_state;
	asocd->conf = &mock_conf;
	asocd->base = event_base_new();
	ck_assert_ptr_nonnull(asocd->base);
	TAILQ_INIT(&asocd->clients);
	ranks_init();
	xfer_init();
	ck_assert_msg(peers_init(err, sizeof err) == 0, "peers_init: %s", err);
	ck_assert_uint_eq(asocd->world, world);
}

void
mock_loop(void)
{
	int i;

	for (i = 0; i < 4; i++)
		event_base_loop(asocd->base, EVLOOP_NONBLOCK);
}

static void
mock_stop_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	event_base_loopbreak(asocd->base);
}

void
mock_run_for(unsigned ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	ck_assert_int_eq(event_base_once(asocd->base, -1, EV_TIMEOUT,
	    mock_stop_cb, NULL, &tv), 0);
	event_base_dispatch(asocd->base);
	mock_loop();
}

void
mock_handshake(struct conn *c)
{
	struct hs_cfg cfg;
	struct hs h;
	struct proto_msg out;
	const struct proto_msg *in;
	enum proto_status st;
	char why[256];

	memset(&cfg, 0, sizeof cfg);
	cfg.rank = c->peer->rank;
	cfg.world = asocd->world;
	cfg.community = asocd->conf->community;
	hs_start_incoming(&h, &cfg);
	ck_assert_ptr_nonnull(in = mock_ctl_last(c, PT_HELLO));
	ck_assert_int_eq(hs_input(&h, in, &out, why, sizeof why, &st),
	    HSR_CONTINUE);
	peer_conn_msg(c, &out);		/* CHALLENGE */
	ck_assert_ptr_nonnull(in = mock_ctl_last(c, PT_AUTH));
	ck_assert_msg(hs_input(&h, in, &out, why, sizeof why, &st) == HSR_UP,
	    "mock handshake: %s", why);
	peer_conn_msg(c, &out);		/* WELCOME */
	ck_assert_int_eq(c->up, 1);
}

struct conn *
mock_conn_up(const struct transport *tp, uint32_t rank)
{
	struct peer *p = &asocd->peers[rank];
	struct conn *c = conn_new(tp, p, 1);

	ck_assert_ptr_nonnull(c);
	snprintf(c->name, sizeof c->name, "rank %u (mock)", rank);
	c->up = 1;
	TAILQ_INSERT_TAIL(&p->conns, c, entry);
	p->state = PROTO_PEER_UP;
	return c;
}

const struct proto_msg *
mock_ctl_last(const struct conn *c, uint16_t type)
{
	unsigned i = mock.nctl;

	while (i-- > 0)
		if (mock.ctl[i].m.hdr.type == type &&
		    (c == NULL || mock.ctl[i].c == c))
			return &mock.ctl[i].m;
	return NULL;
}

unsigned
mock_ctl_count(uint16_t type)
{
	unsigned i, n = 0;

	for (i = 0; i < mock.nctl; i++)
		n += mock.ctl[i].m.hdr.type == type;
	return n;
}

/* --- clients --- */

struct client *
mock_client(int *fd, int welcomed)
{
	struct client *c;
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0, sv), 0);
	c = control_client_new(sv[0], getuid(), getpid());
	ck_assert_ptr_nonnull(c);
	c->welcomed = welcomed;
	*fd = sv[1];
	/* Welcomed: a node-rank session, as an L_HELLO without flags. */
	if (welcomed) {
		char msg[PROTO_MSG_MAX];

		ck_assert_msg(ranks_hello(c, 0, 0, 0, 0, msg, sizeof msg) ==
		    PS_OK, "node-rank hello: %s", msg);
	}
	return c;
}

struct client *
mock_client_proc(int *fd, pid_t pid, uint32_t rank, uint32_t world,
    enum proto_status want)
{
	struct client *c;
	char msg[PROTO_MSG_MAX];
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0, sv), 0);
	c = control_client_new(sv[0], getuid(), pid);
	ck_assert_ptr_nonnull(c);
	*fd = sv[1];
	ck_assert_msg(ranks_hello(c, PROTO_LH_F_PROC, rank, world, 7, msg,
	    sizeof msg) == want, "rank %u of %u: %s", rank, world, msg);
	if (want != PS_OK) {
		snprintf(mock.last_msg, sizeof mock.last_msg, "%s", msg);
		close(sv[1]);
		control_drop(c, "refused");
		*fd = -1;
		return NULL;
	}
	c->welcomed = 1;
	return c;
}

int
mock_memfd(size_t size)
{
	int fd;

	fd = memfd_create("mock", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, (off_t)size), 0);
	ck_assert_int_eq(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW),
	    0);
	return fd;
}

struct buffer *
mock_buffer(struct client *c, size_t size, int fill)
{
	struct buffer *b;
	char err[256];
	int fd;

	fd = mock_memfd(size);
	ck_assert_msg(buffer_register(c, fd, size, &b, err, sizeof err) == 0,
	    "buffer_register: %s", err);
	memset(b->base, fill, size);
	return b;
}

void
mock_post(struct client *c, enum req_kind kind, uint64_t id,
    struct buffer *b, uint64_t off, uint64_t len, uint32_t peer,
    uint64_t tag, uint32_t timeout_ms)
{
	struct req *r = calloc(1, sizeof *r);

	ck_assert_ptr_nonnull(r);
	r->id = id;
	r->kind = kind;
	r->client = c;
	r->buf = b;
	buffer_ref(b);
	r->off = off;
	r->len = len;
	r->tag = tag;
	r->peer = peer;
	r->flags = mock.next_flags;
	r->lr = c->lr;
	mock.next_flags = 0;
	TAILQ_INSERT_TAIL(&c->reqs, r, entry);
	c->nreqs++;
	if (kind == REQ_SEND)
		xfer_post_send(r, timeout_ms);
	else if (kind == REQ_WHERE)
		rankwhere_post(r, timeout_ms);
	else
		xfer_post_recv(r, timeout_ms);
}

/* Replies read so far, by any client: the tests look them up by id. */
static struct {
	int fd;
	struct proto_msg m;
	int taken;
} mock_replies[1024];
static unsigned mock_nreplies;

int
mock_reply(int fd, uint64_t id, struct proto_msg *out)
{
	uint8_t buf[PROTO_HDR_LEN + PROTO_MAX_FIXED];
	ssize_t n;
	unsigned i;

	mock_loop();
	while ((n = recv(fd, buf, sizeof buf, MSG_DONTWAIT)) > 0) {
		ck_assert_uint_lt(mock_nreplies, 1024);
		ck_assert_int_eq(proto_decode(buf, (size_t)n, PROTO_CH_LOCAL_OUT,
		    &mock_replies[mock_nreplies].m), PROTO_OK);
		mock_replies[mock_nreplies].fd = fd;
		mock_replies[mock_nreplies++].taken = 0;
	}
	for (i = 0; i < mock_nreplies; i++)
		if (mock_replies[i].fd == fd && !mock_replies[i].taken &&
		    mock_replies[i].m.hdr.id == id) {
			mock_replies[i].taken = 1;
			*out = mock_replies[i].m;
			return 1;
		}
	return 0;
}

int
mock_done_status(int fd, uint64_t id, struct proto_msg *out)
{
	if (!mock_reply(fd, id, out))
		return -1;
	ck_assert_uint_eq(out->hdr.type, PT_L_DONE);
	return (int)out->u.l_done.status;
}

void
mock_rk_join(struct conn *c, uint32_t rank, uint32_t world, uint32_t pid,
    uint32_t inc)
{
	struct proto_msg m;

	memset(&m, 0, sizeof m);
	m.u.rk_join.rank = rank;
	m.u.rk_join.world = world;
	m.u.rk_join.pid = pid;
	m.u.rk_join.incarnation = inc;
	mock_from_peer(c, PT_RK_JOIN, 0, &m);
}

void
mock_rk_leave(struct conn *c, uint32_t rank, uint32_t world, uint32_t inc)
{
	struct proto_msg m;

	memset(&m, 0, sizeof m);
	m.u.rk_leave.rank = rank;
	m.u.rk_leave.world = world;
	m.u.rk_leave.incarnation = inc;
	m.u.rk_leave.status = PS_ELEFT;
	mock_from_peer(c, PT_RK_LEAVE, 0, &m);
}

/* --- playing the transport --- */

uint64_t
mock_pump(struct conn *c, unsigned max, uint64_t *ids)
{
	struct xfer_chunk ch;
	uint64_t bytes = 0;
	unsigned i;

	for (i = 0; i < max && xfer_next_chunk(c, &ch); i++) {
		ck_assert_ptr_eq(ch.src, ch.buf->base + ch.x->req->off +
		    ch.off);
		if (ids != NULL)
			ids[i] = ch.x->id;
		bytes += ch.len;
		xfer_chunk_posted(&ch);
	}
	return bytes;
}

void
mock_from_peer(struct conn *c, uint16_t type, uint64_t id,
    struct proto_msg *m)
{
	m->hdr.type = type;
	m->hdr.id = id;
	peer_conn_msg(c, m);
}
