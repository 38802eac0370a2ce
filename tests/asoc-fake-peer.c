/*
 * asoc-fake-peer: an authenticated but hostile peer.  It connects to a
 * real asocd as rank 1 of a world of 2 (community "default", no key file,
 * no MUNGE: the key is the community's name), proves itself through the
 * daemon's own handshake machine, and then misbehaves:
 *
 *   asoc-fake-peer HOST PORT SOCKET CASE
 *
 *   zero-cts   answers a 0-byte send (posted by a client on SOCKET) with a
 *              CTS of length 0: the daemon must drop the connection, and
 *              never send a DATA frame (it used to send 32 bytes of stack)
 *   rts-flood  sends XFER_MAX_UNEXPECTED + 1 RTS nobody receives: the last
 *              one, and only it, is refused with ABORT (ENOMEM)
 *   reset-free a client has two sends to us in flight and frees their
 *              buffer just as we reset the connection (the daemon stopped
 *              meanwhile, so that it reads the L_FREE first): the ABORT
 *              it then writes finds the connection dead, which fails the
 *              other send on the spot; each request must still complete
 *              exactly once, and the daemon live on
 *
 * Prints "ok - case" or "FAIL - case: why" and "N passed, N failed".
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "handshake.h"
#include "proto.h"
#include "wire-client.h"
#include "xfer.h"

#ifndef XFER_MAX_UNEXPECTED	/* so that it builds against older trees */
#define XFER_MAX_UNEXPECTED 16384
#endif

static pid_t daemon_pid;	/* from L_WELCOME */

static void
die(const char *what)
{
	fprintf(stderr, "asoc-fake-peer: %s\n", what);
	exit(1);
}

static int
tcp_connect(const char *host, const char *port)
{
	int fd = wire_tcp_connect(host, port);

	if (fd < 0)
		die("cannot connect to the daemon's peer port");
	return fd;
}

static void
psend(int fd, uint16_t type, uint64_t id, struct proto_msg *m)
{
	m->hdr.type = type;
	m->hdr.id = id;
	if (wire_peer_send(fd, m) < 0)
		die("the daemon closed the connection while we sent");
}

/* Connects and proves itself as rank 1 of 2; the connected fd. */
static int
peer_up(const char *host, const char *port)
{
	static struct hs_cfg cfg;
	struct hs h;
	struct proto_msg out, in;
	enum proto_status st;
	enum hs_result r;
	char why[160];
	int fd = tcp_connect(host, port);

	cfg.rank = 1;
	cfg.world = 2;
	cfg.community = "default";
	cfg.key = (const uint8_t *)"default";
	cfg.keylen = strlen("default");
	cfg.munge = 0;
	hs_start_outgoing(&h, &cfg, 0, &out);
	psend(fd, PT_HELLO, 0, &out);
	for (;;) {
		if (wire_peer_recv(fd, &in, 5000) != 0)
			die("the daemon hung up during the handshake");
		r = hs_input(&h, &in, &out, why, sizeof why, &st);
		if (out.hdr.type != 0)
			psend(fd, out.hdr.type, out.hdr.id, &out);
		if (r == HSR_UP)
			return fd;
		if (r != HSR_CONTINUE) {
			fprintf(stderr, "asoc-fake-peer: handshake: %s\n", why);
			exit(1);
		}
	}
}

/* --- a client of the real daemon, raw --- */

static int
lconnect(const char *path)
{
	int fd = wire_local_connect(path);

	if (fd < 0)
		die("cannot connect to the daemon's socket");
	return fd;
}

/* One message with descriptor mfd, if it is not -1. */
static void
lsend(int fd, uint16_t type, uint64_t id, struct proto_msg *m, int mfd)
{
	if (wire_local_send(fd, type, id, m, &mfd, mfd >= 0, 0) < 0)
		die("cannot write to the daemon's socket");
}

/* A client that posts nsends sends of len bytes to rank 1 (request ids
 * 2, 3, ...) on one buffer (request 1 registered it, id in *buf); its
 * fd. */
static int
client_sends(const char *path, uint64_t len, int nsends, uint64_t *buf)
{
	struct proto_msg m;
	int fd = lconnect(path), mfd, i;

	if (wire_local_hello(fd, &m, 5000) < 0)
		die("no L_WELCOME");
	daemon_pid = (pid_t)m.u.l_welcome.daemon_pid;
	mfd = memfd_create("fake", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (mfd < 0 || ftruncate(mfd, 4096) < 0 ||
	    fcntl(mfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) < 0)
		die("memfd");
	memset(&m, 0, sizeof m);
	m.u.l_reg.size = 4096;
	lsend(fd, PT_L_REG, 1, &m, mfd);
	close(mfd);
	if (wire_local_recv(fd, &m, 5000) != 0 || m.u.l_done.status != PS_OK)
		die("cannot register a buffer");
	*buf = m.u.l_done.len;
	for (i = 0; i < nsends; i++) {
		memset(&m, 0, sizeof m);
		m.u.l_xfer.buf_id = *buf;
		m.u.l_xfer.offset = 0;
		m.u.l_xfer.len = len;
		m.u.l_xfer.tag = 3;
		m.u.l_xfer.peer = 1;
		lsend(fd, PT_L_SEND, 2 + (uint64_t)i, &m, -1);
	}
	return fd;
}

static int
client_zero_send(const char *path)
{
	uint64_t buf;

	return client_sends(path, 0, 1, &buf);
}

static void
case_zero_cts(const char *host, const char *port, const char *path)
{
	struct proto_msg m;
	char detail[200] = "";
	int fd = peer_up(host, port), cfd, rc, ok = 0;
	uint64_t id = 0;

	cfd = client_zero_send(path);
	while ((rc = wire_peer_recv(fd, &m, 5000)) == 0 && m.hdr.type != PT_RTS)
		;
	if (rc != 0)
		die("no RTS for the client's 0-byte send");
	id = m.hdr.id;
	memset(&m, 0, sizeof m);
	m.u.cts.recv_id = 1;
	m.u.cts.len = 0;
	psend(fd, PT_CTS, id, &m);
	for (;;) {
		rc = wire_peer_recv(fd, &m, 3000);
		if (rc == 0 && m.hdr.type == PT_DATA) {
			snprintf(detail, sizeof detail, "the daemon sent a "
			    "DATA frame for the 0-byte send");
			break;
		}
		if (rc == -1) {
			ok = 1;		/* dropped */
			break;
		}
		if (rc == -2) {
			snprintf(detail, sizeof detail, "still connected "
			    "after 3 s");
			break;
		}
		if (rc == -3) {
			snprintf(detail, sizeof detail, "the daemon sent a "
			    "frame that does not decode (its stack?)");
			break;
		}
	}
	wire_result("zero-cts: a CTS of length 0 drops the peer, no DATA is sent",
	    ok, detail);
	/* The client hears that its send failed. */
	rc = wire_local_recv(cfd, &m, 5000);
	wire_result("zero-cts: the client's send fails with a reason",
	    rc == 0 && m.hdr.type == PT_L_DONE && m.hdr.id == 2 &&
	    m.u.l_done.status != PS_OK, "no failed L_DONE");
	close(cfd);
	close(fd);
}

static void
case_rts_flood(const char *host, const char *port)
{
	const uint64_t n = XFER_MAX_UNEXPECTED + 1;
	struct proto_msg m;
	char detail[200] = "";
	int fd = peer_up(host, port), rc, ok = 0;
	uint64_t i;

	for (i = 1; i <= n; i++) {
		memset(&m, 0, sizeof m);
		m.u.rts.tag = 9;
		m.u.rts.len = 8;
		m.u.rts.src_rank = 1;
		psend(fd, PT_RTS, i, &m);
	}
	for (;;) {
		rc = wire_peer_recv(fd, &m, 5000);
		if (rc != 0) {
			snprintf(detail, sizeof detail, "%s, and no ABORT for "
			    "RTS %llu", rc == -1 ? "dropped" : rc == -2 ?
			    "silence" : "garbage",
			    (unsigned long long)n);
			break;
		}
		if (m.hdr.type != PT_ABORT)
			continue;
		if (m.hdr.id == n && m.u.abort.status == PS_ENOMEM &&
		    m.u.abort.to_sender) {
			ok = 1;
			break;
		}
		snprintf(detail, sizeof detail, "ABORT for RTS %llu (status "
		    "%u)", (unsigned long long)m.hdr.id, m.u.abort.status);
		break;
	}
	wire_result("rts-flood: the unmatched RTS past the bound, only it, is "
	    "refused with ABORT (ENOMEM)", ok, detail);
	close(fd);
}

/* 1 once pid is stopped (state T in /proc/PID/stat), within 2 s. */
static int
wait_stopped(pid_t pid)
{
	char path[64], buf[256], *p;
	int t;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	for (t = 0; t < 200; t++) {
		if ((f = fopen(path, "r")) == NULL)
			return 0;
		p = fgets(buf, sizeof buf, f);
		fclose(f);
		if (p != NULL && (p = strrchr(buf, ')')) != NULL &&
		    (p[2] == 'T' || p[2] == 't'))
			return 1;
		usleep(10000);
	}
	return 0;
}

static void
case_reset_free(const char *host, const char *port, const char *path)
{
	struct proto_msg m;
	struct linger lg = { 1, 0 };
	char detail[200] = "";
	int fd = peer_up(host, port), cfd, rc, seen[3] = { 0, 0, 0 }, got, ok;
	int rts = 0;
	uint64_t buf;

	cfd = client_sends(path, 4096, 2, &buf);
	while (rts < 2 && (rc = wire_peer_recv(fd, &m, 5000)) == 0)
		rts += m.hdr.type == PT_RTS;
	if (rts < 2)
		die("no RTS for the client's two sends");
	if (kill(daemon_pid, SIGSTOP) < 0 || !wait_stopped(daemon_pid))
		die("cannot stop the daemon");
	/* The L_FREE first, then the reset: the daemon, woken, reads them
	 * in that order. */
	memset(&m, 0, sizeof m);
	m.u.l_free.buf_id = buf;
	lsend(cfd, PT_L_FREE, 4, &m, -1);
	usleep(50000);
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
	close(fd);
	usleep(50000);
	kill(daemon_pid, SIGCONT);
	for (got = 0, ok = 1; got < 3; got++) {
		if ((rc = wire_local_recv(cfd, &m, 5000)) != 0) {
			snprintf(detail, sizeof detail, "%s after %d of 3 "
			    "replies", rc == -2 ? "silence" : "dropped or the "
			    "daemon died", got);
			ok = 0;
			break;
		}
		if (m.hdr.type != PT_L_DONE || m.hdr.id < 2 || m.hdr.id > 4) {
			snprintf(detail, sizeof detail, "a reply for request "
			    "%llu", (unsigned long long)m.hdr.id);
			ok = 0;
			break;
		}
		seen[m.hdr.id - 2]++;
	}
	if (ok && wire_local_recv(cfd, &m, 300) == 0) {
		snprintf(detail, sizeof detail, "a fourth reply (request "
		    "%llu)", (unsigned long long)m.hdr.id);
		ok = 0;
	}
	if (ok && (seen[0] != 1 || seen[1] != 1 || seen[2] != 1)) {
		snprintf(detail, sizeof detail, "replies %d/%d/%d", seen[0],
		    seen[1], seen[2]);
		ok = 0;
	}
	if (ok && kill(daemon_pid, 0) < 0) {
		snprintf(detail, sizeof detail, "the daemon died");
		ok = 0;
	}
	wire_result("reset-free: a send cancelled as its connection resets, and "
	    "the one that fails with it, each complete once", ok, detail);
	close(cfd);
}

int
main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: asoc-fake-peer HOST PORT SOCKET "
		    "zero-cts|rts-flood|reset-free\n");
		return 2;
	}
	if (strcmp(argv[4], "zero-cts") == 0)
		case_zero_cts(argv[1], argv[2], argv[3]);
	else if (strcmp(argv[4], "rts-flood") == 0)
		case_rts_flood(argv[1], argv[2]);
	else if (strcmp(argv[4], "reset-free") == 0)
		case_reset_free(argv[1], argv[2], argv[3]);
	else {
		fprintf(stderr, "asoc-fake-peer: unknown case %s\n", argv[4]);
		return 2;
	}
	return wire_summary();
}
