/*
 * wire-client: the test tools' raw wire to asocd (see wire-client.h).
 */
#include "config.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "wire-client.h"

int wire_passed, wire_failed;

void
wire_result(const char *name, int ok, const char *detail)
{
	if (ok) {
		wire_passed++;
		printf("ok - %s\n", name);
	} else {
		wire_failed++;
		printf("FAIL - %s: %s\n", name, detail);
	}
	fflush(stdout);
}

int
wire_summary(void)
{
	printf("%d passed, %d failed\n", wire_passed, wire_failed);
	return wire_failed ? 1 : 0;
}

int
wire_local_connect(const char *path)
{
	struct sockaddr_un sun;
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0), e;

	if (fd < 0)
		return -1;
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) < 0) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

int
wire_tcp_connect(const char *host, const char *port)
{
	struct addrinfo hints, *ai;
	int fd, e;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, port, &hints, &ai) != 0) {
		errno = EHOSTUNREACH;
		return -1;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		e = errno;
		close(fd);
		errno = e;
		fd = -1;
	}
	freeaddrinfo(ai);
	return fd;
}

int
wire_must(int fd, const char *what)
{
	if (fd < 0) {
		perror(what);
		exit(1);
	}
	return fd;
}

size_t
wire_encode(struct proto_msg *m, uint16_t type, uint64_t id, uint8_t *out,
    size_t len)
{
	size_t n;

	m->hdr.type = type;
	m->hdr.id = id;
	if ((n = proto_encode(m, out, len)) == 0) {
		fprintf(stderr, "wire-client: a %s message that does not "
		    "encode: fix the test tool\n", proto_type_name(type));
		exit(1);
	}
	return n;
}

int
wire_send_fds(int fd, const void *buf, size_t len, const int *fds, int nfds,
    int flags)
{
	char cbuf[CMSG_SPACE(sizeof(int) * WIRE_MAXFDS)];
	struct iovec iov = { (void *)buf, len };
	struct msghdr mh;
	struct cmsghdr *cm;

	if (nfds < 0 || nfds > WIRE_MAXFDS) {
		errno = EINVAL;
		return -1;
	}
	memset(&mh, 0, sizeof mh);
	memset(cbuf, 0, sizeof cbuf);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (nfds > 0) {
		mh.msg_control = cbuf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * (size_t)nfds);
	}
	return sendmsg(fd, &mh, MSG_NOSIGNAL | flags) < 0 ? -1 : 0;
}

int
wire_local_send(int fd, uint16_t type, uint64_t id, struct proto_msg *m,
    const int *fds, int nfds, int flags)
{
	uint8_t buf[WIRE_MSGMAX];
	size_t n = wire_encode(m, type, id, buf, sizeof buf);

	return wire_send_fds(fd, buf, n, fds, nfds, flags);
}

int
wire_peer_send(int fd, struct proto_msg *m)
{
	uint8_t buf[WIRE_MSGMAX];
	size_t n = wire_encode(m, m->hdr.type, m->hdr.id, buf, sizeof buf);
	size_t off = 0;
	ssize_t k;

	while (off < n) {
		k = send(fd, buf + off, n - off, MSG_NOSIGNAL);
		if (k <= 0)
			return -1;
		off += (size_t)k;
	}
	return 0;
}

int
wire_local_hello(int fd, struct proto_msg *welcome, int ms)
{
	memset(welcome, 0, sizeof *welcome);
	welcome->u.l_hello.version = PROTO_VERSION;
	welcome->u.l_hello.pid = (uint32_t)getpid();
	if (wire_local_send(fd, PT_L_HELLO, 0, welcome, NULL, 0, 0) < 0 ||
	    wire_local_recv(fd, welcome, ms) != 0 ||
	    welcome->hdr.type != PT_L_WELCOME)
		return -1;
	return 0;
}

int
wire_local_recv(int fd, struct proto_msg *m, int ms)
{
	uint8_t buf[WIRE_MSGMAX];
	struct pollfd p = { fd, POLLIN, 0 };
	ssize_t n;

	if (poll(&p, 1, ms) <= 0)
		return -2;
	if ((n = recv(fd, buf, sizeof buf, MSG_DONTWAIT)) <= 0)
		return n < 0 && errno == EAGAIN ? -2 : -1;
	return proto_decode(buf, (size_t)n, PROTO_CH_LOCAL_OUT, m) ==
	    PROTO_OK ? 0 : -1;
}

int
wire_peer_recv(int fd, struct proto_msg *m, int ms)
{
	static uint8_t buf[WIRE_MSGMAX + 65536];
	struct pollfd p = { fd, POLLIN, 0 };
	size_t have = 0, want = PROTO_HDR_LEN;
	struct proto_hdr h;
	ssize_t n;

	while (have < want) {
		if (poll(&p, 1, ms) <= 0)
			return -2;
		n = recv(fd, buf + have, want - have, 0);
		if (n <= 0)
			return -1;
		have += (size_t)n;
		if (have == PROTO_HDR_LEN) {
			if (proto_decode_hdr(buf, have, PROTO_CH_PEER, &h) !=
			    PROTO_OK || h.length > sizeof buf - PROTO_HDR_LEN)
				return -3;
			want += h.length;
		}
	}
	memset(m, 0, sizeof *m);
	if (proto_decode_hdr(buf, have, PROTO_CH_PEER, &m->hdr) != PROTO_OK)
		return -3;
	if (m->hdr.type == PT_DATA)
		return 0;
	return proto_decode(buf, have, PROTO_CH_PEER, m) == PROTO_OK ? 0 : -3;
}
