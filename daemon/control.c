/*
 * control.c: the local Unix socket: accepting clients, checking who they
 * are, reading their requests (and the memfds that come with L_REG) and
 * queueing replies.
 */
#include "config.h"
#include "control.h"

#include <errno.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/event.h>

#include "asocd.h"
#include "listener.h"
#include "log.h"
#include "rankwhere.h"
#include "stats.h"

#define CONTROL_MAX_BUFFERS	4096	/* registered buffers per client */
#define CONTROL_MAX_FDS		4	/* per message; more is an attack */

/* A queued reply takes only the bytes it encodes to (an L_DONE is 176),
 * not the largest message's. */
struct control_out {
	size_t len;
	TAILQ_ENTRY(control_out) entry;
	uint8_t data[];
};

static int control_fd = -1;
static unsigned control_nwelcomed;	/* clients past L_HELLO */
static struct event *control_ev;
static char *control_path;

static void control_on_read(evutil_socket_t, short, void *);
static void control_on_write(evutil_socket_t, short, void *);

/* Give the heap's free pages back to the system after a burst (many
 * requests or replies, then freed): glibc keeps them otherwise, and a
 * daemon that once served a flood would hold its peak for good. */
static void
control_trim(void)
{
#ifdef __GLIBC__
	malloc_trim(0);
#endif
}

/* Back-pressure on a client that does not read its replies: past
 * CONTROL_QUEUE_PAUSE queued, its requests are left unread (in the
 * socket, where its own sends then block) until the queue drains below
 * a quarter of that.  Replies still come for the requests in flight, so
 * the queue stays under CONTROL_QUEUE_PAUSE + CONTROL_MAX_REQS + one read
 * batch, and a slow client is paced rather than dropped. */
static void
control_pace(struct client *c)
{
	if (!c->read_paused && c->noutq >= CONTROL_QUEUE_PAUSE) {
		c->read_paused = 1;
		event_del(c->ev_read);
	} else if (c->read_paused && c->noutq <= CONTROL_QUEUE_PAUSE / 4) {
		c->read_paused = 0;
		event_add(c->ev_read, NULL);
	}
}

static void
control_close_fds(int *fds, int n)
{
	while (n-- > 0)
		close(fds[n]);
}

void
control_drop(struct client *c, const char *fmt, ...)
{
	struct control_out *o;
	struct buffer *b;
	struct req *r;
	char why[256];
	va_list ap;
	unsigned held;

	if (c->dead)
		return;
	held = c->nreqs + c->noutq;
	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	if (strcmp(why, "disconnected") == 0)
		log_debug("client pid %ld disconnected", (long)c->pid);
	else
		log_warn("dropped client pid %ld (uid %u): %s", (long)c->pid,
		    (unsigned)c->uid, why);
	c->dead = 1;
	/* Everything it held goes: its transfers are given up (peers are
	 * told: "rank 5 left" when its rank goes with it), its buffers
	 * unmapped once no transfer points into them. */
	if (ranks_last_session(c)) {
		char left[PROTO_MSG_MAX];

		ranks_left_msg(c->lr->rank, left, sizeof left);
		while ((r = TAILQ_FIRST(&c->reqs)) != NULL)
			xfer_cancel(r, PS_ELEFT, left);
	}
	while ((r = TAILQ_FIRST(&c->reqs)) != NULL)
		xfer_cancel(r, PS_ECANCELLED, "the client left");
	ranks_session_gone(c);
	while ((b = TAILQ_FIRST(&c->bufs)) != NULL)
		buffer_release(b);
	while ((o = TAILQ_FIRST(&c->outq)) != NULL) {
		TAILQ_REMOVE(&c->outq, o, entry);
		free(o);
	}
	event_free(c->ev_read);
	event_free(c->ev_write);
	event_free(c->ev_drop);
	close(c->fd);
	TAILQ_REMOVE(&asocd->clients, c, entry);
	asocd->nclients--;
	if (c->welcomed)
		control_nwelcomed--;
	/* The read loop that got us here still looks at c. */
	asocd_free_later(c, "a client");
	if (held >= CONTROL_TRIM_AFTER || asocd->nclients == 0)
		control_trim();
}

static void
control_drop_cb(evutil_socket_t fd, short what, void *arg)
{
	struct client *c = arg;

	(void)fd;
	(void)what;
	control_drop(c, "%s", c->broken_why);
}

/* Replies are sent from deep inside transfer bookkeeping (a completion,
 * a cancel): a client that breaks there is dropped from the loop, never
 * on the spot, or the request being completed would be freed under its
 * caller. */
static void
control_break(struct client *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
control_break(struct client *c, const char *fmt, ...)
{
	va_list ap;

	if (c->broken || c->dead)
		return;
	c->broken = 1;
	va_start(ap, fmt);
	vsnprintf(c->broken_why, sizeof c->broken_why, fmt, ap);
	va_end(ap);
	event_active(c->ev_drop, EV_TIMEOUT, 0);
}

static int
control_try_send(struct client *c, const uint8_t *buf, size_t len)
{
	ssize_t n = send(c->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);

	if (n == (ssize_t)len)
		return 1;
	if (n < 0 && (errno == EAGAIN || errno == EINTR || errno == ENOBUFS))
		return 0;
	control_break(c, "write: %s", n < 0 ? strerror(errno) : "short");
	return -1;
}

void
control_send(struct client *c, struct proto_msg *m)
{
	struct control_out *o;
	uint8_t buf[PROTO_HDR_LEN + PROTO_MAX_FIXED];
	size_t len;

	if (c->dead || c->broken)
		return;
	len = proto_encode(m, buf, sizeof buf);
	if (len == 0) {
		/* A reply that is never sent leaves the client waiting for
		 * good: it is better told by a closed socket. */
		log_err("cannot encode %s for client pid %ld",
		    proto_type_name(m->hdr.type), (long)c->pid);
		control_break(c, "a %s reply could not be encoded (a bug: "
		    "please report it)", proto_type_name(m->hdr.type));
		return;
	}
	if (TAILQ_EMPTY(&c->outq) && control_try_send(c, buf, len) != 0)
		return;
	/* Not reached while back-pressure works (control_pace): the last
	 * guard, should a client find a way around it. */
	if (c->noutq >= CONTROL_MAX_QUEUE) {
		control_break(c, "it does not read its replies (%u queued)",
		    c->noutq);
		return;
	}
	if ((o = malloc(sizeof *o + len)) == NULL) {
		control_break(c, "out of memory queueing a reply");
		return;
	}
	o->len = len;
	memcpy(o->data, buf, len);
	TAILQ_INSERT_TAIL(&c->outq, o, entry);
	if (++c->noutq > c->outq_peak)
		c->outq_peak = c->noutq;
	event_add(c->ev_write, NULL);
	control_pace(c);
}

static void
control_on_write(evutil_socket_t fd, short what, void *arg)
{
	struct client *c = arg;
	struct control_out *o;
	int rc;

	(void)fd;
	(void)what;
	while ((o = TAILQ_FIRST(&c->outq)) != NULL) {
		if ((rc = control_try_send(c, o->data, o->len)) <= 0) {
			if (rc < 0)
				return;
			break;
		}
		TAILQ_REMOVE(&c->outq, o, entry);
		c->noutq--;
		free(o);
	}
	control_pace(c);
	if (TAILQ_EMPTY(&c->outq)) {
		event_del(c->ev_write);
		if (c->outq_peak >= CONTROL_TRIM_AFTER)
			control_trim();
		c->outq_peak = 0;
	}
}

static void
control_done(struct client *c, uint64_t id, enum proto_status st,
    uint64_t value, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void
control_done(struct client *c, uint64_t id, enum proto_status st,
    uint64_t value, const char *fmt, ...)
{
	struct proto_msg m;
	va_list ap;

	memset(&m, 0, sizeof m);
	m.hdr.type = PT_L_DONE;
	m.hdr.id = id;
	m.u.l_done.status = st;
	m.u.l_done.len = value;
	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(m.u.l_done.msg, sizeof m.u.l_done.msg, fmt, ap);
		va_end(ap);
	}
	control_send(c, &m);
}

static struct req *
control_find_req(struct client *c, uint64_t id)
{
	struct req *r;

	TAILQ_FOREACH(r, &c->reqs, entry)
		if (r->id == id)
			return r;
	return NULL;
}

static void
control_hello(struct client *c, const struct proto_msg *m)
{
	const struct proto_l_hello *h = &m->u.l_hello;
	char msg[PROTO_MSG_MAX];
	enum proto_status st;
	struct proto_msg w;

	if (m->u.l_hello.version != PROTO_VERSION) {
		control_done(c, 0, PS_EPROTO, 0, "protocol version mismatch: "
		    "libasoc speaks v%u, asocd speaks v%u: use matching "
		    "versions", m->u.l_hello.version, PROTO_VERSION);
		control_drop(c, "protocol version v%u", m->u.l_hello.version);
		return;
	}
	if (control_nwelcomed >= asocd->conf->max_clients) {
		control_done(c, 0, PS_ENOMEM, 0, "asocd serves at most %u "
		    "clients (--max-clients) and has that many: retry once "
		    "some have finished", asocd->conf->max_clients);
		control_drop(c, "over --max-clients (%u)",
		    asocd->conf->max_clients);
		return;
	}
	st = ranks_hello(c, h->flags, h->rank, h->world, h->localid, msg,
	    sizeof msg);
	if (st != PS_OK) {
		control_done(c, 0, st, 0, "%s", msg);
		control_drop(c, "refused its rank: %s", msg);
		return;
	}
	memset(&w, 0, sizeof w);
	w.hdr.type = PT_L_WELCOME;
	w.u.l_welcome.version = PROTO_VERSION;
	/* The session's own rank and world: process values for a process
	 * rank, the node's otherwise. */
	w.u.l_welcome.rank = c->rank_kind == RS_PROC ? c->lr->rank :
	    c->rank_kind == RS_NODE ? asocd->rank : 0;
	w.u.l_welcome.world = c->rank_kind == RS_PROC ? ranks_world() :
	    asocd->world;
	w.u.l_welcome.daemon_pid = (uint32_t)asocd->pid;
	w.u.l_welcome.node = asocd->rank;
	w.u.l_welcome.nodes = asocd->world;
	w.u.l_welcome.flags = h->flags;
	w.u.l_welcome.chunk_size = asocd->conf->chunk_size;
	c->welcomed = 1;
	control_nwelcomed++;
	control_send(c, &w);
}

static void
control_reg(struct client *c, const struct proto_msg *m, int fd)
{
	struct buffer *b;
	char err[PROTO_MSG_MAX];
	uint64_t max = asocd->conf->client_max_bytes;

	if (c->nbufs >= CONTROL_MAX_BUFFERS) {
		close(fd);
		control_done(c, m->hdr.id, PS_ENOMEM, 0, "too many buffers "
		    "(limit %d per client): free some first",
		    CONTROL_MAX_BUFFERS);
		return;
	}
	if (m->u.l_reg.size > max || c->buf_bytes > max - m->u.l_reg.size) {
		close(fd);
		control_done(c, m->hdr.id, PS_ENOMEM, 0, "a buffer of %llu "
		    "bytes would bring this client to %llu, over the limit of "
		    "%llu (--client-max-bytes): free some first",
		    (unsigned long long)m->u.l_reg.size,
		    (unsigned long long)(c->buf_bytes + m->u.l_reg.size),
		    (unsigned long long)max);
		return;
	}
	if (buffer_register(c, fd, m->u.l_reg.size, &b, err, sizeof err) < 0) {
		control_done(c, m->hdr.id, PS_EINVAL, 0, "%s", err);
		return;
	}
	log_debug("client pid %ld registered buffer %llu (%llu bytes)",
	    (long)c->pid, (unsigned long long)b->id,
	    (unsigned long long)b->size);
	control_done(c, m->hdr.id, PS_OK, b->id, NULL);
}

static int
control_on_buffer(struct req *r, void *b)
{
	return r->buf == b;
}

static void
control_free(struct client *c, const struct proto_msg *m)
{
	struct buffer *b = buffer_find(c, m->u.l_free.buf_id);

	if (b == NULL) {
		control_done(c, m->hdr.id, PS_EINVAL, 0, "no buffer %llu",
		    (unsigned long long)m->u.l_free.buf_id);
		return;
	}
	xfer_cancel_where(c, control_on_buffer, b, PS_ECANCELLED,
	    "its buffer was freed");
	buffer_release(b);
	control_done(c, m->hdr.id, PS_OK, 0, NULL);
}

static void
control_xfer(struct client *c, const struct proto_msg *m)
{
	const struct proto_l_xfer *x = &m->u.l_xfer;
	struct buffer *b;
	struct req *r;

	if (m->hdr.id == 0 || control_find_req(c, m->hdr.id) != NULL) {
		control_drop(c, "request id %llu is zero or already in use",
		    (unsigned long long)m->hdr.id);
		return;
	}
	if ((b = buffer_find(c, x->buf_id)) == NULL) {
		control_done(c, m->hdr.id, PS_EINVAL, 0, "no buffer %llu: "
		    "register it first", (unsigned long long)x->buf_id);
		return;
	}
	if (!buffer_range_ok(b, x->offset, x->len)) {
		control_done(c, m->hdr.id, PS_EINVAL, 0, "range %llu+%llu lies "
		    "outside the %zu-byte buffer",
		    (unsigned long long)x->offset, (unsigned long long)x->len,
		    b->size);
		return;
	}
	if (c->nreqs >= CONTROL_MAX_REQS) {
		control_done(c, m->hdr.id, PS_ENOMEM, 0, "too many requests in "
		    "flight (limit %d): wait for some first",
		    CONTROL_MAX_REQS);
		return;
	}
	if ((r = calloc(1, sizeof *r)) == NULL) {
		control_done(c, m->hdr.id, PS_ENOMEM, 0, "asocd is out of "
		    "memory");
		return;
	}
	r->id = m->hdr.id;
	r->kind = m->hdr.type == PT_L_SEND ? REQ_SEND :
	    m->hdr.type == PT_L_WHERE ? REQ_WHERE : REQ_RECV;
	r->client = c;
	r->buf = b;
	buffer_ref(b);
	r->off = x->offset;
	r->len = x->len;
	r->tag = x->tag;
	r->peer = x->peer;
	r->flags = x->flags;
	r->lr = c->lr;
	TAILQ_INSERT_TAIL(&c->reqs, r, entry);
	c->nreqs++;
	if (r->kind == REQ_SEND)
		xfer_post_send(r, x->timeout_ms);
	else if (r->kind == REQ_WHERE)
		rankwhere_post(r, x->timeout_ms);
	else
		xfer_post_recv(r, x->timeout_ms);
}

static void
control_dispatch(struct client *c, const struct proto_msg *m, int *fds,
    int nfds)
{
	if (m->hdr.type != PT_L_REG && nfds > 0) {
		control_close_fds(fds, nfds);
		control_drop(c, "%s came with file descriptors",
		    proto_type_name(m->hdr.type));
		return;
	}
	if (!c->welcomed && m->hdr.type != PT_L_HELLO) {
		control_close_fds(fds, nfds);	/* an L_REG's, up to 4 */
		control_drop(c, "%s before L_HELLO", proto_type_name(m->hdr.type));
		return;
	}
	switch (m->hdr.type) {
	case PT_L_HELLO:
		if (c->welcomed)
			control_drop(c, "a second L_HELLO");
		else
			control_hello(c, m);
		break;
	case PT_L_REG:
		if (nfds != 1) {
			control_close_fds(fds, nfds);
			control_drop(c, "L_REG needs exactly one fd, got %d",
			    nfds);
			return;
		}
		control_reg(c, m, fds[0]);
		break;
	case PT_L_FREE:
		control_free(c, m);
		break;
	case PT_L_SEND:
	case PT_L_RECV:
	case PT_L_WHERE:
		control_xfer(c, m);
		break;
	case PT_L_CANCEL: {
		struct req *r = control_find_req(c, m->u.l_cancel.req_id);

		if (r != NULL)
			xfer_cancel(r, PS_ECANCELLED, "cancelled");
		break;
	}
	case PT_S_QUERY:
		stats_reply(c, m->hdr.id);
		break;
	default:
		control_drop(c, "unexpected %s", proto_type_name(m->hdr.type));
		break;
	}
}

/* One message; -1 when the client is gone. */
static int
control_read_one(struct client *c)
{
	uint8_t buf[PROTO_HDR_LEN + PROTO_MAX_FIXED + 1];
	union {
		struct cmsghdr align;
		char space[CMSG_SPACE(sizeof(int) * CONTROL_MAX_FDS)];
	} cbuf;
	struct iovec iov = { buf, sizeof buf };
	struct msghdr mh;
	struct cmsghdr *cm;
	struct proto_msg m;
	enum proto_err err;
	int fds[CONTROL_MAX_FDS], nfds = 0, k, j;
	ssize_t n;

	memset(&mh, 0, sizeof mh);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf.space;
	mh.msg_controllen = sizeof cbuf.space;
	n = recvmsg(c->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return 0;
		control_drop(c, "read: %s", strerror(errno));
		return -1;
	}
	for (cm = CMSG_FIRSTHDR(&mh); cm != NULL; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		k = (int)((cm->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		for (j = 0; j < k && nfds < CONTROL_MAX_FDS; j++)
			memcpy(&fds[nfds++], CMSG_DATA(cm) +
			    (size_t)j * sizeof(int), sizeof(int));
	}
	if (n == 0) {
		control_close_fds(fds, nfds);
		control_drop(c, "disconnected");
		return -1;
	}
	if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
		control_close_fds(fds, nfds);
		control_drop(c, "%s", mh.msg_flags & MSG_CTRUNC ? "too many "
		    "file descriptors in one message" : "message too long");
		return -1;
	}
	err = proto_decode(buf, (size_t)n, PROTO_CH_LOCAL_IN, &m);
	if (err != PROTO_OK) {
		control_close_fds(fds, nfds);
		if (err == PROTO_EVERSION)
			control_done(c, 0, PS_EPROTO, 0, "protocol version "
			    "mismatch: libasoc speaks v%u, asocd speaks v%u",
			    m.hdr.version, PROTO_VERSION);
		control_drop(c, "bad message: %s", proto_strerror(err));
		return -1;
	}
	control_dispatch(c, &m, fds, nfds);
	return c->dead ? -1 : 1;
}

static void
control_on_read(evutil_socket_t fd, short what, void *arg)
{
	struct client *c = arg;
	int i;

	(void)fd;
	(void)what;
	/* A bounded batch per wake-up keeps one busy client from starving
	 * the peers and the other clients. */
	for (i = 0; i < CONTROL_READ_BATCH && !c->read_paused; i++)
		if (control_read_one(c) <= 0)
			return;
}

static void
control_on_accept(evutil_socket_t lfd, short what, void *arg)
{
	static struct log_limit refused;	/* any local user can cause it */
	struct ucred cred;
	socklen_t len = sizeof cred;
	int fd;

	(void)what;
	(void)arg;
	fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		/* Out of descriptors: pause rather than spin (listener.c). */
		listener_accept_failed(control_ev, errno, "the local socket");
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
		log_warn("cannot read a client's credentials: %s",
		    strerror(errno));
		close(fd);
		return;
	}
	/* Only our own user (or root) may hand us memory. */
	if (cred.uid != geteuid() && cred.uid != 0) {
		log_warn_limited(&refused, "refused client pid %ld: uid %u is "
		    "not this daemon's user (uid %u)", (long)cred.pid,
		    (unsigned)cred.uid, (unsigned)geteuid());
		close(fd);
		return;
	}
	if (control_client_new(fd, cred.uid, cred.pid) == NULL)
		close(fd);
}

struct client *
control_client_new(int fd, uid_t uid, pid_t pid)
{
	struct client *c;
	int sz = 1 << 20;

	if ((c = calloc(1, sizeof *c)) == NULL)
		return NULL;
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
	c->fd = fd;
	c->uid = uid;
	c->pid = pid;
	TAILQ_INIT(&c->bufs);
	TAILQ_INIT(&c->reqs);
	TAILQ_INIT(&c->outq);
	c->ev_read = event_new(asocd->base, fd, EV_READ | EV_PERSIST,
	    control_on_read, c);
	c->ev_write = event_new(asocd->base, fd, EV_WRITE | EV_PERSIST,
	    control_on_write, c);
	c->ev_drop = event_new(asocd->base, -1, 0, control_drop_cb, c);
	if (c->ev_read == NULL || c->ev_write == NULL || c->ev_drop == NULL) {
		if (c->ev_read != NULL)
			event_free(c->ev_read);
		if (c->ev_write != NULL)
			event_free(c->ev_write);
		if (c->ev_drop != NULL)
			event_free(c->ev_drop);
		free(c);
		return NULL;
	}
	event_add(c->ev_read, NULL);
	TAILQ_INSERT_TAIL(&asocd->clients, c, entry);
	asocd->nclients++;
	log_debug("client pid %ld (uid %u) connected", (long)c->pid,
	    (unsigned)c->uid);
	return c;
}

/* The socket's own directory is the first gate (SO_PEERCRED is the
 * second): it must be ours and closed to everyone else, so no other user
 * can reach the socket, or replace it with one of their own. */
static int
control_check_dir(const char *dir, char *err, size_t errlen)
{
	struct stat st;

	/* lstat: a symlink someone else may re-point is no folder of ours. */
	if (lstat(dir, &st) < 0) {
		snprintf(err, errlen, "cannot inspect %s: %s", dir,
		    strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "the socket's folder %s is not a "
		    "directory (a symbolic link?): choose another --socket",
		    dir);
		return -1;
	}
	if (st.st_uid != geteuid() || (st.st_mode & 077) != 0) {
		snprintf(err, errlen, "the socket's directory %s is mode %04o "
		    "and owned by uid %u: other users could reach the socket; "
		    "give it to uid %u with mode 0700, or choose another "
		    "--socket", dir, (unsigned)(st.st_mode & 07777),
		    (unsigned)st.st_uid, (unsigned)geteuid());
		return -1;
	}
	return 0;
}

/* mkdir -p for the socket's directory; new directories are 0700. */
static int
control_mkdirs(const char *path, char *err, size_t errlen)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)], *p;

	snprintf(dir, sizeof dir, "%s", path);
	if ((p = strrchr(dir, '/')) == NULL)
		return control_check_dir(".", err, errlen);
	if (p == dir)
		return control_check_dir("/", err, errlen);
	*p = '\0';
	for (p = dir + 1; ; p++) {
		if (*p == '/' || *p == '\0') {
			char saved = *p;

			*p = '\0';
			if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
				snprintf(err, errlen, "cannot create %s: %s",
				    dir, strerror(errno));
				return -1;
			}
			*p = saved;
			if (saved == '\0')
				break;
		}
	}
	return control_check_dir(dir, err, errlen);
}

int
control_listen(const char *path, char *err, size_t errlen)
{
	struct conf *cf = asocd->conf;
	long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
	struct sockaddr_un sun;
	int fd, probe;

	/* Memory a client hands us stays mapped (and, for RDMA, pinned)
	 * until it frees it: no single client may take the whole node. */
	if (cf->client_max_bytes == 0)
		cf->client_max_bytes = pages > 0 && psz > 0 ?
		    (size_t)pages / 4 * 3 * (size_t)psz : SIZE_MAX;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path) {
		snprintf(err, errlen, "socket path %s is longer than %zu bytes: "
		    "choose a shorter --socket", path, sizeof sun.sun_path - 1);
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path));
	if (control_mkdirs(path, err, errlen) < 0)
		return -1;
	/* A socket file that answers belongs to a live asocd; one that does
	 * not is left over from a crash and may go. */
	probe = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (probe >= 0 && connect(probe, (struct sockaddr *)&sun,
	    sizeof sun) == 0) {
		close(probe);
		snprintf(err, errlen, "another asocd is already serving %s: "
		    "stop it, or choose another --socket", path);
		return -1;
	}
	if (probe >= 0)
		close(probe);
	unlink(path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	if (bind(fd, (struct sockaddr *)&sun, sizeof sun) < 0 ||
	    chmod(path, 0600) < 0 || listen(fd, 128) < 0) {
		snprintf(err, errlen, "cannot listen on %s: %s", path,
		    strerror(errno));
		close(fd);
		return -1;
	}
	control_ev = event_new(asocd->base, fd, EV_READ | EV_PERSIST,
	    control_on_accept, NULL);
	if (control_ev == NULL || event_add(control_ev, NULL) < 0 ||
	    (control_path = strdup(path)) == NULL) {
		snprintf(err, errlen, "out of memory");
		close(fd);
		return -1;
	}
	control_fd = fd;
	log_info("clients connect to %s", path);
	return 0;
}

void
control_stop(void)
{
	if (control_ev != NULL) {
		listener_forget(control_ev);
		event_free(control_ev);
		control_ev = NULL;
	}
	if (control_fd >= 0) {
		close(control_fd);
		control_fd = -1;
	}
	if (control_path != NULL) {
		unlink(control_path);
		free(control_path);
		control_path = NULL;
	}
}

void
control_shutdown(void)
{
	struct client *c;

	control_stop();
	while ((c = TAILQ_FIRST(&asocd->clients)) != NULL)
		control_drop(c, "disconnected");
}
