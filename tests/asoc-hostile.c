/*
 * asoc-hostile: throws malformed input at asocd's Unix socket and peer
 * port, and checks that each offender is dropped (or answered with an
 * error) while the daemon keeps serving.
 *
 *   asoc-hostile local SOCKET
 *   asoc-hostile peer HOST PORT [WORLD RANK]   (who the handshake
 *                                              cases claim to be)
 *   asoc-hostile zero-cts HOST PORT WORLD RANK COMMUNITY
 *       proves the key (the community: no --key-file) as RANK, then
 *       answers the first RTS with a CTS granting 0 bytes: whatever
 *       the daemon sends after it must be well-formed messages
 *   asoc-hostile flood SOCKET HOST PORT N SECONDS
 *       opens N connections without a word, the first half to the peer
 *       port (past the cap on pending handshakes), the rest to the Unix
 *       socket (past the descriptor limit), holds them SECONDS, says
 *       how many of the peer ones the target closed meanwhile (dropped
 *       to make room), closes them
 *
 * Prints "ok - case" or "FAIL - case" per case and "N passed, N failed".
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "handshake.h"
#include "proto.h"
#include "wire-client.h"

static const char *target, *target_port, *flood_host;
/* Who the handshake cases claim to be: a rank of the target's world
 * (default: rank 2 of 3, the cluster of test-hostile.sh). */
static uint32_t claim_world = 3, claim_rank = 2;

/* --- local socket --- */

static int
local_connect(void)
{
	return wire_must(wire_local_connect(target), "asoc-hostile: connect");
}

/* m encoded as a message of type and id into out (WIRE_MSGMAX bytes). */
static size_t
enc(struct proto_msg *m, uint16_t type, uint64_t id, uint8_t *out)
{
	return wire_encode(m, type, id, out, WIRE_MSGMAX);
}

static void
local_hello(int fd)
{
	struct proto_msg m;

	(void)wire_local_hello(fd, &m, 5000);
}

/* 1 when the daemon dropped us or answered with an error status. */
static int
local_rejected(int fd, char *detail, size_t len)
{
	uint8_t buf[PROTO_HDR_LEN + PROTO_MAX_FIXED];
	struct pollfd p = { fd, POLLIN, 0 };
	struct proto_msg m;
	ssize_t n;

	for (;;) {
		if (poll(&p, 1, 3000) <= 0) {
			snprintf(detail, len, "no reaction within 3 s");
			return 0;
		}
		n = recv(fd, buf, sizeof buf, 0);
		if (n <= 0)
			return 1;	/* dropped */
		if (proto_decode(buf, (size_t)n, PROTO_CH_LOCAL_OUT, &m) ==
		    PROTO_OK && m.hdr.type == PT_L_DONE) {
			if (m.u.l_done.status != PS_OK)
				return 1;
			snprintf(detail, len, "the daemon accepted it");
			return 0;
		}
	}
}

static int
memfd_of(size_t size, int seals)
{
	int fd = memfd_create("hostile", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd < 0 || ftruncate(fd, (off_t)size) < 0)
		exit(1);
	if (seals != 0)
		fcntl(fd, F_ADD_SEALS, seals);
	return fd;
}

static void
local_case(const char *name, int hello, const void *buf, size_t len,
    const int *fds, int nfds)
{
	char detail[128] = "";
	int fd = local_connect();

	if (hello)
		local_hello(fd);
	(void)wire_send_fds(fd, buf, len, fds, nfds, 0);
	wire_result(name, local_rejected(fd, detail, sizeof detail), detail);
	close(fd);
}

static void
run_local(void)
{
	uint8_t buf[PROTO_HDR_LEN + PROTO_MAX_FIXED + 64], junk[512];
	struct proto_msg m;
	size_t n;
	int i, fds[6], pipefd[2];

	for (i = 0; i < (int)sizeof junk; i++)
		junk[i] = (uint8_t)(i * 37 + 11);
	local_case("local: garbage", 0, junk, sizeof junk, NULL, 0);
	local_case("local: truncated header", 0, junk, 10, NULL, 0);

	memset(&m, 0, sizeof m);
	m.u.l_hello.version = PROTO_VERSION;
	n = enc(&m, PT_L_HELLO, 0, buf);
	buf[0] ^= 0xff;
	local_case("local: bad magic", 0, buf, n, NULL, 0);

	n = enc(&m, PT_L_HELLO, 0, buf);
	buf[4] = 99;
	local_case("local: other protocol version", 0, buf, n, NULL, 0);

	n = enc(&m, PT_L_HELLO, 0, buf);
	buf[8] = 0xff, buf[9] = 0xff, buf[10] = 0xff, buf[11] = 0x7f;
	local_case("local: absurd length", 0, buf, n, NULL, 0);

	memset(&m, 0, sizeof m);
	m.u.l_hello.version = PROTO_VERSION + 1;
	n = enc(&m, PT_L_HELLO, 0, buf);
	local_case("local: hello with another version", 0, buf, n, NULL, 0);

	memset(&m, 0, sizeof m);
	m.u.l_xfer.buf_id = 1;
	m.u.l_xfer.len = 10;
	m.u.l_xfer.peer = 0;
	n = enc(&m, PT_L_SEND, 1, buf);
	local_case("local: send before hello", 0, buf, n, NULL, 0);
	local_case("local: send on an unknown buffer", 1, buf, n, NULL, 0);

	n = enc(&m, PT_RTS, 1, buf);
	local_case("local: peer message on the local socket", 1, buf, n,
	    NULL, 0);

	memset(&m, 0, sizeof m);
	m.u.l_reg.size = 4096;
	n = enc(&m, PT_L_REG, 2, buf);
	local_case("local: register without an fd", 1, buf, n, NULL, 0);
	if (pipe(pipefd) < 0)
		exit(1);
	local_case("local: register a pipe", 1, buf, n, pipefd, 1);
	close(pipefd[0]);
	close(pipefd[1]);
	fds[0] = open("/dev/null", O_RDWR);
	local_case("local: register /dev/null", 1, buf, n, fds, 1);
	close(fds[0]);
	fds[0] = memfd_of(4096, 0);
	local_case("local: register an unsealed memfd", 1, buf, n, fds, 1);
	close(fds[0]);
	fds[0] = memfd_of(8192, F_SEAL_SHRINK | F_SEAL_GROW);
	local_case("local: register with the wrong size", 1, buf, n, fds, 1);
	close(fds[0]);
	fds[0] = memfd_of(4096, F_SEAL_GROW);
	local_case("local: register a memfd that may still shrink", 1, buf, n,
	    fds, 1);
	close(fds[0]);
	/* What the seals buy: once registered, the client cannot shrink
	 * the file under the daemon (which would make its access SIGBUS). */
	fds[0] = memfd_of(4096, F_SEAL_SHRINK | F_SEAL_GROW);
	wire_result("local: a sealed buffer cannot be truncated",
	    ftruncate(fds[0], 0) < 0 && errno == EPERM,
	    "ftruncate of a sealed memfd succeeded");
	close(fds[0]);
	for (i = 0; i < 6; i++)
		fds[i] = memfd_of(4096, F_SEAL_SHRINK | F_SEAL_GROW);
	local_case("local: register with six fds", 1, buf, n, fds, 6);
	for (i = 0; i < 6; i++)
		close(fds[i]);

	memset(&m, 0, sizeof m);
	m.u.l_free.buf_id = 12345;
	n = enc(&m, PT_L_FREE, 3, buf);
	local_case("local: free an unknown buffer", 1, buf, n, NULL, 0);

	/* The daemon still answers a well-behaved client. */
	{
		int fd = local_connect();

		wire_result("local: a good client is still served",
		    wire_local_hello(fd, &m, 5000) == 0, "no WELCOME");
		close(fd);
	}
}

/* --- peer port --- */

static int
peer_connect(void)
{
	return wire_must(wire_tcp_connect(target, target_port),
	    "asoc-hostile: connect");
}

/* 1 when the daemon closed the connection (after an optional REFUSE,
 * whose text lands in refuse). */
static int
peer_dropped(int fd, char *refuse, size_t rlen, char *detail, size_t len)
{
	uint8_t buf[4096];
	struct pollfd p = { fd, POLLIN, 0 };
	struct proto_msg m;
	size_t have = 0;
	ssize_t n;

	for (;;) {
		if (poll(&p, 1, 3000) <= 0) {
			snprintf(detail, len, "still connected after 3 s");
			return 0;
		}
		n = recv(fd, buf + have, sizeof buf - have, 0);
		if (n <= 0)
			break;
		have += (size_t)n;
		if (have == sizeof buf)
			have = 0;
	}
	if (refuse != NULL && have >= PROTO_HDR_LEN &&
	    proto_decode(buf, have, PROTO_CH_PEER, &m) == PROTO_OK &&
	    m.hdr.type == PT_REFUSE)
		snprintf(refuse, rlen, "%s", m.u.refuse.msg);
	return 1;
}

/* half_close: send, then shut our side, as a peer that dies mid-message
 * would. */
static void
peer_case(const char *name, const void *buf, size_t len, const char *want,
    int half_close)
{
	char detail[160] = "", refuse[PROTO_MSG_MAX] = "";
	int fd = peer_connect(), ok;

	(void)send(fd, buf, len, MSG_NOSIGNAL);
	if (half_close)
		shutdown(fd, SHUT_WR);
	ok = peer_dropped(fd, refuse, sizeof refuse, detail, sizeof detail);
	if (ok && want != NULL && strstr(refuse, want) == NULL) {
		snprintf(detail, sizeof detail, "REFUSE '%s' lacks '%s'",
		    refuse, want);
		ok = 0;
	}
	wire_result(name, ok, detail);
	close(fd);
}

/* Reads one whole message from a stream (the daemon's CHALLENGE). */
static int
peer_read_msg(int fd, struct proto_msg *m)
{
	return wire_peer_recv(fd, m, 3000) == 0 ? 0 : -1;
}

/* A well-formed HELLO as claim_rank of claim_world, then
 * what a peer without the key can do: answer the CHALLENGE with a forged
 * proof, or skip the proof and send a transfer. */
/* A HELLO as claim_rank of claim_world in community default. */
static void
claim_hello(struct proto_msg *m)
{
	memset(m, 0, sizeof *m);
	m->u.hello.version = PROTO_VERSION;
	m->u.hello.conns = 1;
	m->u.hello.world = claim_world;
	m->u.hello.rank = claim_rank;
	proto_set_name(m->u.hello.community, sizeof m->u.hello.community,
	    "default");
}

static void
peer_handshake_cases(void)
{
	uint8_t buf[PROTO_HDR_LEN + PROTO_MAX_FIXED];
	char detail[160] = "", refuse[PROTO_MSG_MAX] = "";
	struct proto_msg m, in;
	size_t n;
	int fd, ok;

	claim_hello(&m);
	memset(m.u.hello.nonce, 0x42, sizeof m.u.hello.nonce);
	n = enc(&m, PT_HELLO, 0, buf);

	fd = peer_connect();
	(void)send(fd, buf, n, MSG_NOSIGNAL);
	ok = peer_read_msg(fd, &in) == 0 && in.hdr.type == PT_CHALLENGE;
	if (ok) {
		memset(&m, 0, sizeof m);
		memset(m.u.auth.mac, 0x5a, sizeof m.u.auth.mac);
		n = enc(&m, PT_AUTH, 0, buf);
		(void)send(fd, buf, n, MSG_NOSIGNAL);
		ok = peer_dropped(fd, refuse, sizeof refuse, detail,
		    sizeof detail) && strstr(refuse, "key mismatch") != NULL;
		if (!ok && detail[0] == '\0')
			snprintf(detail, sizeof detail, "REFUSE '%s' lacks "
			    "'key mismatch'", refuse);
	} else
		snprintf(detail, sizeof detail, "no CHALLENGE to a HELLO");
	wire_result("peer: a forged proof in AUTH is refused", ok, detail);
	close(fd);

	claim_hello(&m);
	n = enc(&m, PT_HELLO, 0, buf);
	fd = peer_connect();
	(void)send(fd, buf, n, MSG_NOSIGNAL);
	detail[0] = '\0';
	ok = peer_read_msg(fd, &in) == 0 && in.hdr.type == PT_CHALLENGE;
	if (ok) {
		memset(&m, 0, sizeof m);
		m.u.rts.len = 4096;
		m.u.rts.src_rank = claim_rank;
		n = enc(&m, PT_RTS, 9, buf);
		(void)send(fd, buf, n, MSG_NOSIGNAL);
		ok = peer_dropped(fd, NULL, 0, detail, sizeof detail);
	} else
		snprintf(detail, sizeof detail, "no CHALLENGE to a HELLO");
	wire_result("peer: RTS before proving the key is dropped", ok, detail);
	close(fd);
}

static void
run_peer(void)
{
	uint8_t buf[PROTO_HDR_LEN + PROTO_MAX_FIXED], junk[4096];
	struct proto_msg m;
	size_t n;
	int i;

	for (i = 0; i < (int)sizeof junk; i++)
		junk[i] = (uint8_t)(i * 131 + 7);
	peer_case("peer: garbage", junk, sizeof junk, NULL, 0);

	memset(&m, 0, sizeof m);
	m.u.hello.version = PROTO_VERSION;
	m.u.hello.conns = 1;
	m.u.hello.world = 3;
	m.u.hello.rank = 2;
	n = enc(&m, PT_HELLO, 0, buf);
	peer_case("peer: truncated header, then gone", buf, 12, NULL, 1);

	n = enc(&m, PT_HELLO, 0, buf);
	buf[4] = 7;
	peer_case("peer: protocol version 7 is refused", buf, n, "version", 0);
	{
		/* The version before this one (v3 before the eager RTS of
		 * v4): refused, and the REFUSE names both versions. */
		char want[64];

		snprintf(want, sizeof want, "peer speaks v%u, this asocd "
		    "speaks v%u", PROTO_VERSION - 1, PROTO_VERSION);
		buf[4] = PROTO_VERSION - 1;
		peer_case("peer: the previous protocol version is refused, "
		    "both versions named", buf, n, want, 0);
	}

	memset(&m, 0, sizeof m);
	m.u.hello.version = PROTO_VERSION;
	m.u.hello.conns = 1;
	m.u.hello.world = 3;
	m.u.hello.rank = 2;
	proto_set_name(m.u.hello.community, sizeof m.u.hello.community,
	    "someone-elses-job");
	n = enc(&m, PT_HELLO, 0, buf);
	peer_case("peer: wrong community is refused", buf, n, "community", 0);

	memset(&m, 0, sizeof m);
	m.payload_len = 100;
	n = enc(&m, PT_DATA, 1, buf);
	peer_case("peer: DATA before the handshake", buf, n, NULL, 0);

	n = enc(&m, PT_DATA, 1, buf);
	buf[8] = 0xff, buf[9] = 0xff, buf[10] = 0xff, buf[11] = 0xff;
	peer_case("peer: DATA of absurd length", buf, n, NULL, 0);

	memset(&m, 0, sizeof m);
	m.u.l_xfer.len = 1;
	n = enc(&m, PT_L_SEND, 1, buf);
	peer_case("peer: local message on the peer port", buf, n, NULL, 0);

	peer_handshake_cases();
}

/* --- a proven peer that grants 0 bytes --- */

static void
run_zero_cts(uint32_t world, uint32_t rank, const char *community)
{
	struct hs_cfg cfg = { .rank = rank, .world = world,
	    .community = community, .key = (const uint8_t *)community,
	    .keylen = strlen(community) };
	uint8_t buf[4096];
	char why[PROTO_MSG_MAX], detail[200] = "";
	struct pollfd p;
	struct proto_msg m, out;
	struct proto_hdr h;
	enum proto_status st;
	enum hs_result r = HSR_CONTINUE;
	size_t have = 0;
	ssize_t n;
	int fd = peer_connect(), ok = 0, i;

	{
		struct hs h0;

		hs_start_outgoing(&h0, &cfg, 0, &m);
		m.hdr.id = 0;
		if (wire_peer_send(fd, &m) < 0)
			goto done;
		/* CHALLENGE, then WELCOME: up. */
		for (i = 0; i < 2 && r == HSR_CONTINUE; i++) {
			if (peer_read_msg(fd, &m) < 0)
				break;
			r = hs_input(&h0, &m, &out, why, sizeof why, &st);
			if (out.hdr.type != 0 && wire_peer_send(fd, &out) < 0)
				break;
		}
	}
	if (r != HSR_UP) {
		snprintf(detail, sizeof detail, "the handshake did not "
		    "finish: %s", why);
		goto done;
	}
	printf("# proven as rank %u; waiting for an RTS\n", rank);
	fflush(stdout);
	for (i = 0; i < 10 && (n = peer_read_msg(fd, &m)) < 0; i++)
		;		/* 3 s each: the test starts the sender now */
	if (n < 0 || m.hdr.type != PT_RTS) {
		snprintf(detail, sizeof detail, "no RTS within 30 s");
		goto done;
	}
	printf("# RTS %llu of %llu bytes; answering with CTS of 0\n",
	    (unsigned long long)m.hdr.id, (unsigned long long)m.u.rts.len);
	memset(&out, 0, sizeof out);
	out.hdr.type = PT_CTS;
	out.hdr.id = m.hdr.id;
	out.u.cts.recv_id = 7;
	out.u.cts.len = 0;
	if (wire_peer_send(fd, &out) < 0) {
		snprintf(detail, sizeof detail, "cannot send the CTS");
		goto done;
	}
	/* Everything that follows, until the daemon closes or 3 s pass. */
	p = (struct pollfd){ fd, POLLIN, 0 };
	while (have < sizeof buf && poll(&p, 1, 3000) > 0) {
		n = recv(fd, buf + have, sizeof buf - have, 0);
		if (n <= 0)
			break;
		have += (size_t)n;
	}
	ok = 1;
	for (i = 0; (size_t)i < have; i += (int)(PROTO_HDR_LEN + h.length)) {
		if (have - (size_t)i < PROTO_HDR_LEN ||
		    proto_decode_hdr(buf + i, have - (size_t)i, PROTO_CH_PEER,
		    &h) != PROTO_OK || have - (size_t)i < PROTO_HDR_LEN +
		    h.length || proto_decode(buf + i, PROTO_HDR_LEN + h.length,
		    PROTO_CH_PEER, &m) != PROTO_OK) {
			int k, o;

			o = snprintf(detail, sizeof detail, "%zu bytes at %d "
			    "are no well-formed message:", have - (size_t)i, i);
			for (k = i; (size_t)k < have && k < i + 32 &&
			    o < (int)sizeof detail - 4; k++)
				o += snprintf(detail + o, sizeof detail -
				    (size_t)o, " %02x", buf[k]);
			ok = 0;
			break;
		}
		printf("# then %s\n", proto_type_name(h.type));
		if (h.type == PT_DATA) {
			snprintf(detail, sizeof detail, "a DATA frame for a "
			    "grant of 0 bytes");
			ok = 0;
			break;
		}
	}
done:
	wire_result("peer: a CTS granting 0 bytes draws no garbage", ok, detail);
	close(fd);
}

/* --- descriptor exhaustion --- */

static int
flood_one(int local)
{
	struct sockaddr_storage ss;
	struct sockaddr_un sun;
	struct addrinfo hints, *ai;
	socklen_t len;
	int fd;

	if (local) {
		memset(&sun, 0, sizeof sun);
		sun.sun_family = AF_UNIX;
		snprintf(sun.sun_path, sizeof sun.sun_path, "%s", target);
		memcpy(&ss, &sun, sizeof sun);
		len = sizeof sun;
		fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC |
		    SOCK_NONBLOCK, 0);
	} else {
		memset(&hints, 0, sizeof hints);
		hints.ai_socktype = SOCK_STREAM;
		if (getaddrinfo(flood_host, target_port, &hints, &ai) != 0)
			return -1;
		memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
		len = ai->ai_addrlen;
		freeaddrinfo(ai);
		fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC |
		    SOCK_NONBLOCK, 0);
	}
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&ss, len) < 0 &&
	    errno != EINPROGRESS && errno != EAGAIN) {
		close(fd);
		return -1;
	}
	return fd;
}

static void
run_flood(unsigned count, unsigned seconds)
{
	struct rlimit rl = { count + 64, count + 64 };
	unsigned i, made = 0, failed_local = 0, failed_tcp = 0, dropped = 0;
	int *fds;

	if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
		perror("asoc-hostile: setrlimit (run as root, or raise "
		    "ulimit -n)");
		exit(1);
	}
	if ((fds = calloc(count, sizeof *fds)) == NULL)
		exit(1);
	for (i = 0; i < count; i++) {
		fds[i] = flood_one(i >= count / 2);
		if (fds[i] >= 0)
			made++;
		else if (i >= count / 2)
			failed_local++;
		else
			failed_tcp++;
	}
	printf("# %u of %u connections made (%u local and %u TCP refused "
	    "at once); holding them %u s\n", made, count, failed_local,
	    failed_tcp, seconds);
	fflush(stdout);
	sleep(seconds);
	/* The peer connections the target closed while held: the pending
	 * handshakes it dropped to make room for newer ones (it closes
	 * none otherwise before its handshake timeout). */
	for (i = 0; i < count / 2; i++) {
		char c;
		ssize_t r;

		if (fds[i] < 0)
			continue;
		r = recv(fds[i], &c, 1, MSG_DONTWAIT);
		if (r == 0 || (r < 0 && errno == ECONNRESET))
			dropped++;
	}
	printf("# %u peer connections closed by the target while held\n",
	    dropped);
	fflush(stdout);
	for (i = 0; i < count; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(fds);
	wire_result("flood: connections opened and closed", made > 0,
	    "no connection could be made");
}

int
main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "local") == 0) {
		target = argv[2];
		run_local();
	} else if ((argc == 4 || argc == 6) && strcmp(argv[1], "peer") == 0) {
		target = argv[2];
		target_port = argv[3];
		if (argc == 6) {
			claim_world = (uint32_t)strtoul(argv[4], NULL, 10);
			claim_rank = (uint32_t)strtoul(argv[5], NULL, 10);
		}
		run_peer();
	} else if (argc == 7 && strcmp(argv[1], "zero-cts") == 0) {
		target = argv[2];
		target_port = argv[3];
		run_zero_cts((uint32_t)strtoul(argv[4], NULL, 10),
		    (uint32_t)strtoul(argv[5], NULL, 10), argv[6]);
	} else if (argc == 7 && strcmp(argv[1], "flood") == 0) {
		target = argv[2];
		flood_host = argv[3];
		target_port = argv[4];
		run_flood((unsigned)strtoul(argv[5], NULL, 10),
		    (unsigned)strtoul(argv[6], NULL, 10));
	} else {
		fprintf(stderr, "usage: asoc-hostile local SOCKET | peer HOST "
		    "PORT [WORLD RANK] | zero-cts HOST PORT WORLD RANK "
		    "COMMUNITY | flood SOCKET HOST PORT N SECONDS\n");
		return 2;
	}
	return wire_summary();
}
