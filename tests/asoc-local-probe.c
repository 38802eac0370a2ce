/*
 * asoc-local-probe: the local-side defects of issue 10, each a case
 * speaking the raw protocol on asocd's Unix socket (so that it can send
 * what libasoc never would, in the order and batches it needs):
 *
 *   asoc-local-probe SOCKET CASE...
 *
 *   overrun       a self-send that finds a smaller receive already posted
 *                 is refused (ETRUNC) and writes nothing past the receive
 *   free-batch    RECV and SEND to our own rank on one buffer, then L_FREE,
 *                 in one batch: each request completes exactly once
 *   free-copy     the same, with L_FREE during a copy of 600 MiB
 *   reg-fds       L_REG before L_HELLO: its 4 descriptors are closed
 *   pace          clients that do not read their replies are paced (their
 *                 requests left unread), not dropped, and the daemon's
 *                 memory stays bounded and goes back once they leave
 *   max-clients N a client beyond N is refused with a clear message, and
 *                 a place that frees up is taken again
 *
 * Prints "ok - case" or "FAIL - case: why" per check and "N passed, N
 * failed"; exits 1 on any failure.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "proto.h"
#include "wire-client.h"

static const char *sockpath;
static uint32_t my_rank, daemon_pid;
static int sanitized;	/* ASOC_SANITIZERS=yes: see case_pace */

static int
lconnect(void)
{
	return wire_must(wire_local_connect(sockpath),
	    "asoc-local-probe: connect");
}

static int
hello(int fd)
{
	struct proto_msg m;

	if (wire_local_hello(fd, &m, 5000) < 0)
		return -1;
	my_rank = m.u.l_welcome.rank;
	daemon_pid = m.u.l_welcome.daemon_pid;
	return 0;
}

static int
hello_or_die(void)
{
	int fd = lconnect();

	if (hello(fd) < 0) {
		fprintf(stderr, "asoc-local-probe: no L_WELCOME\n");
		exit(1);
	}
	return fd;
}

static int
memfd_sealed(size_t size, uint8_t **map)
{
	int fd = memfd_create("probe", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd < 0 || ftruncate(fd, (off_t)size) < 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) < 0) {
		perror("asoc-local-probe: memfd");
		exit(1);
	}
	if (map != NULL) {
		*map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED,
		    fd, 0);
		if (*map == MAP_FAILED) {
			perror("asoc-local-probe: mmap");
			exit(1);
		}
	}
	return fd;
}

/* Registers a buffer of size bytes; its id, mapped at *map. */
static uint64_t
reg(int fd, size_t size, uint8_t **map, uint64_t id)
{
	struct proto_msg m;
	int mfd = memfd_sealed(size, map);

	memset(&m, 0, sizeof m);
	m.u.l_reg.size = size;
	wire_local_send(fd, PT_L_REG, id, &m, &mfd, 1, 0);
	close(mfd);
	if (wire_local_recv(fd, &m, 10000) != 0 || m.hdr.type != PT_L_DONE ||
	    m.u.l_done.status != PS_OK) {
		fprintf(stderr, "asoc-local-probe: cannot register %zu bytes: "
		    "%s\n", size, m.u.l_done.msg);
		exit(1);
	}
	return m.u.l_done.len;
}

static void
xfer(int fd, uint16_t type, uint64_t id, uint64_t buf, uint64_t off,
    uint64_t len, uint64_t tag, uint32_t peer)
{
	struct proto_msg m;

	memset(&m, 0, sizeof m);
	m.u.l_xfer.buf_id = buf;
	m.u.l_xfer.offset = off;
	m.u.l_xfer.len = len;
	m.u.l_xfer.tag = tag;
	m.u.l_xfer.peer = peer;
	wire_local_send(fd, type, id, &m, NULL, 0, 0);
}

static void
lfree(int fd, uint64_t id, uint64_t buf)
{
	struct proto_msg m;

	memset(&m, 0, sizeof m);
	m.u.l_free.buf_id = buf;
	wire_local_send(fd, PT_L_FREE, id, &m, NULL, 0, 0);
}

/* The daemon answers a fresh client: it is alive. */
static int
daemon_alive(void)
{
	int fd = lconnect(), ok = hello(fd) == 0;

	close(fd);
	return ok;
}

/* --- overrun --- */

static void
case_overrun_one(const char *name, size_t sendlen)
{
	const size_t rsize = 4096, rlen = 16;
	struct proto_msg m;
	uint8_t *rmap, *smap, *p;
	uint64_t rb, sb;
	char detail[256] = "";
	int fd = hello_or_die(), got = 0, ok = 1, st_r = -1, st_s = -1;
	size_t i;

	rb = reg(fd, rsize, &rmap, 1);
	sb = reg(fd, sendlen, &smap, 2);
	memset(rmap, 0xa5, rsize);
	memset(smap, 0x3c, sendlen);
	xfer(fd, PT_L_RECV, 10, rb, 0, rlen, 77, my_rank);
	xfer(fd, PT_L_SEND, 11, sb, 0, sendlen, 77, my_rank);
	while (got < 2) {
		if (wire_local_recv(fd, &m, 5000) != 0) {
			snprintf(detail, sizeof detail, "the daemon dropped "
			    "us or died after %d of 2 replies", got);
			ok = 0;
			break;
		}
		if (m.hdr.type != PT_L_DONE)
			continue;
		if (m.hdr.id == 10)
			st_r = (int)m.u.l_done.status;
		else if (m.hdr.id == 11)
			st_s = (int)m.u.l_done.status;
		got++;
	}
	if (ok && (st_r != PS_ETRUNC || st_s != PS_ETRUNC)) {
		snprintf(detail, sizeof detail, "receive ended %d, send %d; "
		    "both should be ETRUNC (%d)", st_r, st_s, PS_ETRUNC);
		ok = 0;
	}
	for (i = 0, p = rmap; ok && i < rsize; i++)
		if (p[i] != 0xa5) {
			snprintf(detail, sizeof detail, "byte %zu of the "
			    "receive's buffer was written (range 0+%zu)", i,
			    rlen);
			ok = 0;
		}
	if (ok && !daemon_alive()) {
		snprintf(detail, sizeof detail, "the daemon died");
		ok = 0;
	}
	wire_result(name, ok, detail);
	munmap(rmap, rsize);
	munmap(smap, sendlen);
	close(fd);
}

static void
case_overrun(void)
{
	case_overrun_one("overrun: a 64-byte self-send into a posted 16-byte "
	    "receive is ETRUNC, nothing written", 64);
	case_overrun_one("overrun: a 1 MiB self-send into a posted 16-byte "
	    "receive is ETRUNC, the daemon lives", 1 << 20);
}

/* --- L_FREE while a local copy is matched or running --- */

/* mid_copy: L_FREE must land during the copy, so both halves end
 * cancelled (a copy that ran in one go, without a turn of the loop in
 * between, would end first). */
static void
case_free(const char *name, size_t half, int pause_ms, int mid_copy)
{
	struct proto_msg m;
	uint64_t b;
	char detail[256] = "";
	int fd = hello_or_die(), ok = 1, seen[3] = { 0, 0, 0 }, got = 0;
	int st_free = -1, st[2] = { -1, -1 };

	b = reg(fd, 2 * half, NULL, 1);
	/* Back to back, so that one read batch of the daemon holds all
	 * three (or, with pause_ms, L_FREE lands mid-copy). */
	xfer(fd, PT_L_RECV, 20, b, 0, half, 5, my_rank);
	xfer(fd, PT_L_SEND, 21, b, half, half, 5, my_rank);
	if (pause_ms > 0)
		usleep((useconds_t)pause_ms * 1000);
	lfree(fd, 22, b);
	while (got < 3) {
		int rc = wire_local_recv(fd, &m, 10000);

		if (rc != 0) {
			snprintf(detail, sizeof detail, "%s after %d of 3 "
			    "replies", rc == -2 ? "nothing more" :
			    "the daemon dropped us or died", got);
			ok = 0;
			break;
		}
		if (m.hdr.type != PT_L_DONE || m.hdr.id < 20 ||
		    m.hdr.id > 22) {
			snprintf(detail, sizeof detail, "a reply for request "
			    "%llu", (unsigned long long)m.hdr.id);
			ok = 0;
			break;
		}
		seen[m.hdr.id - 20]++;
		if (m.hdr.id == 22)
			st_free = (int)m.u.l_done.status;
		else
			st[m.hdr.id - 20] = (int)m.u.l_done.status;
		got++;
	}
	/* Exactly once each, and nothing more (a double completion). */
	if (ok && wire_local_recv(fd, &m, 300) == 0) {
		snprintf(detail, sizeof detail, "a fourth reply, for request "
		    "%llu", (unsigned long long)m.hdr.id);
		ok = 0;
	}
	if (ok && (seen[0] != 1 || seen[1] != 1 || seen[2] != 1 ||
	    st_free != PS_OK)) {
		snprintf(detail, sizeof detail, "replies %d/%d/%d, free "
		    "status %d", seen[0], seen[1], seen[2], st_free);
		ok = 0;
	}
	if (ok && mid_copy && (st[0] != PS_ECANCELLED ||
	    st[1] != PS_ECANCELLED)) {
		snprintf(detail, sizeof detail, "the receive ended %d and the "
		    "send %d, not both cancelled (%d): the copy finished before "
		    "L_FREE was read", st[0], st[1], PS_ECANCELLED);
		ok = 0;
	}
	if (ok && !daemon_alive()) {
		snprintf(detail, sizeof detail, "the daemon died");
		ok = 0;
	}
	wire_result(name, ok, detail);
	close(fd);
}

/* --- L_REG before L_HELLO --- */

static int
count_fds(pid_t pid)
{
	char path[64];
	struct dirent *de;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof path, "/proc/%ld/fd", (long)pid);
	if ((d = opendir(path)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static void
case_reg_fds(void)
{
	struct proto_msg m;
	char detail[256] = "";
	int before, after, i, j, fd, fds[4];
	uint8_t buf[WIRE_MSGMAX];

	close(hello_or_die());	/* learns daemon_pid */
	usleep(200000);
	before = count_fds((pid_t)daemon_pid);
	for (i = 0; i < 10; i++) {
		fd = lconnect();
		for (j = 0; j < 4; j++)
			fds[j] = memfd_sealed(4096, NULL);
		memset(&m, 0, sizeof m);
		m.u.l_reg.size = 4096;
		wire_local_send(fd, PT_L_REG, 1, &m, fds, 4, 0);
		for (j = 0; j < 4; j++)
			close(fds[j]);
		/* Dropped: EOF (wait for it, so the daemon is done). */
		while (recv(fd, buf, sizeof buf, 0) > 0)
			;
		close(fd);
	}
	usleep(200000);
	after = count_fds((pid_t)daemon_pid);
	snprintf(detail, sizeof detail, "the daemon held %d descriptors "
	    "before 10 such clients and %d after", before, after);
	wire_result("reg-fds: L_REG before L_HELLO closes its 4 descriptors",
	    before > 0 && after <= before + 1, detail);
}

/* --- clients that do not read their replies --- */

static long
rss_kib(pid_t pid)
{
	char path[64], line[256];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof line, f) != NULL)
		if (strncmp(line, "VmRSS:", 6) == 0)
			v = strtol(line + 6, NULL, 10);
	fclose(f);
	return v;
}

#define PACE_CLIENTS 4
#define PACE_MAX_SEND 200000
#define PACE_BURST 20000	/* requests in flight per client */

/* Sends requests that each earn one reply (L_FREE of no buffer), never
 * reading, until the daemon stops taking them for a whole second: the
 * number sent. */
static long
flood(int fd)
{
	struct proto_msg m;
	struct pollfd p = { fd, POLLOUT, 0 };
	long sent = 0;

	memset(&m, 0, sizeof m);
	m.u.l_free.buf_id = 0xdead;
	while (sent < PACE_MAX_SEND) {
		if (wire_local_send(fd, PT_L_FREE, (uint64_t)sent + 1, &m, NULL, 0,
		    MSG_DONTWAIT) == 0) {
			sent++;
			continue;
		}
		if (errno != EAGAIN)
			return -1;
		if (poll(&p, 1, 1000) == 0)
			break;	/* not read for a second: paced */
	}
	return sent;
}

static void
case_pace(void)
{
	struct proto_msg m;
	char detail[256] = "";
	long base, peak, left, sent[PACE_CLIENTS], got;
	int fds[PACE_CLIENTS], i, ok = 1, rc;

	close(hello_or_die());
	usleep(200000);
	base = rss_kib((pid_t)daemon_pid);
	for (i = 0; i < PACE_CLIENTS; i++) {
		fds[i] = hello_or_die();
		if ((sent[i] = flood(fds[i])) < 0) {
			snprintf(detail, sizeof detail, "client %d was dropped "
			    "while sending", i);
			ok = 0;
		}
	}
	peak = rss_kib((pid_t)daemon_pid);
	for (i = 0; ok && i < PACE_CLIENTS; i++) {
		if (sent[i] >= PACE_MAX_SEND) {
			snprintf(detail, sizeof detail, "the daemon took all "
			    "%d requests of client %d without reading "
			    "paused", PACE_MAX_SEND, i);
			ok = 0;
			break;
		}
		/* Every request is answered, in full: nothing dropped. */
		for (got = 0; got < sent[i]; got++) {
			if ((rc = wire_local_recv(fds[i], &m, 5000)) != 0) {
				snprintf(detail, sizeof detail, "client %d got "
				    "%ld of %ld replies, then %s", i, got,
				    sent[i], rc == -2 ? "silence" :
				    "was dropped");
				ok = 0;
				break;
			}
		}
	}
	wire_result("pace: a client that does not read its replies is paced, and "
	    "gets every reply once it reads", ok, detail);
	/* ASan's allocator keeps freed memory in quarantine and ignores
	 * malloc_trim: the daemon's size says nothing there. */
	if (sanitized) {
		printf("skip - pace: memory bounds (a sanitizer build)\n");
		for (i = 0; i < PACE_CLIENTS; i++)
			close(fds[i]);
		return;
	}
	snprintf(detail, sizeof detail, "%d clients flooding took the daemon "
	    "from %ld KiB to %ld KiB", PACE_CLIENTS, base, peak);
	wire_result("pace: replies queued to such clients stay bounded (< 8 MiB)",
	    base > 0 && peak - base < 8192, detail);
	for (i = 0; i < PACE_CLIENTS; i++)
		close(fds[i]);

	/* A burst of requests in flight (receives nobody sends to), then
	 * the clients leave: the heap goes back. */
	for (i = 0; i < PACE_CLIENTS; i++) {
		uint64_t b, k;

		fds[i] = hello_or_die();
		b = reg(fds[i], 4096, NULL, 1);
		for (k = 0; k < PACE_BURST; k++) {
			memset(&m, 0, sizeof m);
			m.u.l_xfer.buf_id = b;
			m.u.l_xfer.len = 16;
			m.u.l_xfer.tag = k;
			m.u.l_xfer.peer = my_rank;
			wire_local_send(fds[i], PT_L_RECV, k + 2, &m, NULL, 0, 0);
		}
	}
	/* A round trip on each: all of them were read. */
	for (i = 0; i < PACE_CLIENTS; i++) {
		lfree(fds[i], 1000000, 0xdead);
		while (wire_local_recv(fds[i], &m, 10000) == 0 && m.hdr.id != 1000000)
			;
	}
	peak = rss_kib((pid_t)daemon_pid);
	for (i = 0; i < PACE_CLIENTS; i++)
		close(fds[i]);
	usleep(500000);
	close(hello_or_die());
	usleep(300000);
	left = rss_kib((pid_t)daemon_pid);
	snprintf(detail, sizeof detail, "%d clients with %d requests each "
	    "took the daemon from %ld KiB to %ld KiB; %ld KiB once they left",
	    PACE_CLIENTS, PACE_BURST, base, peak, left);
	wire_result("pace: memory goes back after a burst (within 4 MiB)",
	    base > 0 && peak > base && left - base < 4096, detail);
}

/* --- the cap on clients --- */

static void
case_max_clients(unsigned n)
{
	struct proto_msg m;
	char detail[256] = "";
	int fds[64], fd, ok = 1, rc;
	unsigned i;

	if (n == 0 || n > 64) {
		fprintf(stderr, "asoc-local-probe: max-clients N: 1..64\n");
		exit(2);
	}
	for (i = 0; i < n; i++)
		fds[i] = hello_or_die();
	fd = lconnect();
	memset(&m, 0, sizeof m);
	m.u.l_hello.version = PROTO_VERSION;
	wire_local_send(fd, PT_L_HELLO, 0, &m, NULL, 0, 0);
	rc = wire_local_recv(fd, &m, 5000);
	if (rc != 0 || m.hdr.type != PT_L_DONE ||
	    strstr(m.u.l_done.msg, "--max-clients") == NULL) {
		snprintf(detail, sizeof detail, "client %u got %s", n + 1,
		    rc != 0 ? "no answer" : m.hdr.type == PT_L_WELCOME ?
		    "welcomed" : m.u.l_done.msg);
		ok = 0;
	}
	wire_result("max-clients: one client too many is refused, naming "
	    "--max-clients", ok, detail);
	close(fd);
	close(fds[0]);
	usleep(300000);
	fd = lconnect();
	wire_result("max-clients: a place that frees up is taken again",
	    hello(fd) == 0, "the next client was refused");
	close(fd);
	for (i = 1; i < n; i++)
		close(fds[i]);
}

int
main(int argc, char **argv)
{
	int i;

	if (argc < 3) {
		fprintf(stderr, "usage: asoc-local-probe SOCKET CASE...\n");
		return 2;
	}
	sockpath = argv[1];
	sanitized = getenv("ASOC_SANITIZERS") != NULL &&
	    strcmp(getenv("ASOC_SANITIZERS"), "yes") == 0;
	close(hello_or_die());
	for (i = 2; i < argc; i++) {
		if (strcmp(argv[i], "overrun") == 0)
			case_overrun();
		else if (strcmp(argv[i], "free-batch") == 0)
			case_free("free-batch: RECV, SEND to self and L_FREE in "
			    "one batch complete exactly once", 4096, 0, 0);
		else if (strcmp(argv[i], "free-copy") == 0)
			case_free("free-copy: L_FREE during a 768 MiB local copy "
			    "completes each request exactly once",
			    (size_t)768 << 20, 5, 1);
		else if (strcmp(argv[i], "reg-fds") == 0)
			case_reg_fds();
		else if (strcmp(argv[i], "pace") == 0)
			case_pace();
		else if (strcmp(argv[i], "max-clients") == 0 && i + 1 < argc)
			case_max_clients((unsigned)atoi(argv[++i]));
		else {
			fprintf(stderr, "asoc-local-probe: unknown case %s\n",
			    argv[i]);
			return 2;
		}
	}
	return wire_summary();
}
