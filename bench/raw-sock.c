/*
 * raw-sock.c: the plain socket program that bench/tcp-vs-raw measures
 * ASoc's bulk TCP against.  It moves what asoc-bench --pattern pair moves
 * (COUNT tensors of SIZE MiB, the first WARMUP untimed) over one loopback
 * TCP connection, with nothing but write(2) and read(2):
 *
 *   raw-sock recv PORT SIZE_MIB COUNT
 *   raw-sock send PORT SIZE_MIB COUNT WARMUP
 *
 * The sender writes a fresh pattern into its buffer before each tensor, as
 * a tensor is produced just before it is sent (outside the clock; so does
 * asoc-bench's, client/bench-pair.c), then
 * times the write of the whole buffer until the receiver's one-byte
 * acknowledgement: receiver-confirmed, as asoc's sends are.  The receiver
 * reads into two buffers in turn and checks one after acknowledging it,
 * so the sender's clock does not run on the check (asoc-bench's receivers
 * do the same, and likewise read each word once against the value it
 * computes).  The buffers are far larger than any cache: the data comes
 * from and goes to memory, which iperf3's 128 KiB buffer never does.
 *
 * The sender prints "raw-sock gbps G best_gbps B" on its last line; the
 * receiver "raw-sock received N mismatches M".  Exit status 0 when every
 * tensor moved and matched, 1 otherwise, 2 for a bad command line.
 * Loopback only: it listens on and connects to 127.0.0.1.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static void
usage(void)
{
	fprintf(stderr, "usage: raw-sock recv PORT SIZE_MIB COUNT\n"
	    "       raw-sock send PORT SIZE_MIB COUNT WARMUP\n");
	exit(2);
}

static unsigned long
number(const char *s, unsigned long lo, unsigned long hi)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end != '\0' || v < lo || v > hi) {
		fprintf(stderr, "raw-sock: %s is not a number from %lu to %lu\n",
		    s, lo, hi);
		exit(2);
	}
	return v;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Fresh pages, faulted in once here so that no page fault is timed. */
static uint64_t *
buffer(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

	if (p == MAP_FAILED) {
		fprintf(stderr, "raw-sock: mmap of %zu bytes: %s\n", len,
		    strerror(errno));
		exit(1);
	}
	return p;
}

/* Word i of tensor k: differs between tensors, so a stale buffer fails. */
static inline uint64_t
pattern(unsigned k, size_t i)
{
	return ((uint64_t)k << 48) ^ (i * 0x9E3779B97F4A7C15ULL);
}

static void
full_io(int fd, void *p, size_t len, int out)
{
	char *c = p;
	ssize_t n;

	while (len > 0) {
		n = out ? write(fd, c, len) : read(fd, c, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "raw-sock: %s: %s\n", out ? "write" :
			    "read", n == 0 ? "the peer closed the connection" :
			    strerror(errno));
			exit(1);
		}
		c += n;
		len -= (size_t)n;
	}
}

static struct sockaddr_in
loopback(unsigned port)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return sin;
}

static int
do_recv(unsigned port, size_t len, unsigned count)
{
	struct sockaddr_in sin = loopback(port);
	uint64_t *buf[2] = { buffer(len), buffer(len) }, mismatches = 0;
	size_t i, words = len / sizeof(uint64_t);
	unsigned k;
	int ls, fd, one = 1;
	char ack = 'A';

	if ((ls = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(ls, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    listen(ls, 1) < 0) {
		fprintf(stderr, "raw-sock: listening on 127.0.0.1:%u: %s "
		    "(pick another port)\n", port, strerror(errno));
		return 1;
	}
	/* The sender waits for this line before it connects. */
	printf("raw-sock listening\n");
	fflush(stdout);
	if ((fd = accept(ls, NULL, NULL)) < 0) {
		fprintf(stderr, "raw-sock: accept: %s\n", strerror(errno));
		return 1;
	}
	close(ls);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	for (k = 0; k < count; k++) {
		uint64_t *b = buf[k & 1];

		full_io(fd, b, len, 0);
		full_io(fd, &ack, 1, 1);
		for (i = 0; i < words; i++)
			mismatches += b[i] != pattern(k, i);
	}
	printf("raw-sock received %u mismatches %llu\n", count,
	    (unsigned long long)mismatches);
	close(fd);
	return mismatches != 0;
}

static int
do_send(unsigned port, size_t len, unsigned count, unsigned warmup)
{
	struct sockaddr_in sin = loopback(port);
	uint64_t *b = buffer(len);
	size_t i, words = len / sizeof(uint64_t);
	double t, sum = 0, best = 0;
	unsigned k;
	int fd, one = 1;
	char ack;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		fprintf(stderr, "raw-sock: connecting to 127.0.0.1:%u: %s "
		    "(is raw-sock recv running?)\n", port, strerror(errno));
		return 1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	for (k = 0; k < count; k++) {
		for (i = 0; i < words; i++)
			b[i] = pattern(k, i);
		t = now();
		full_io(fd, b, len, 1);
		full_io(fd, &ack, 1, 0);
		t = now() - t;
		if (k < warmup)
			continue;
		printf("raw-sock tensor %u: %.3f s, %.2f Gbit/s\n", k - warmup,
		    t, len * 8 / t / 1e9);
		sum += t;
		if (best == 0 || t < best)
			best = t;
	}
	printf("raw-sock gbps %.3f best_gbps %.3f\n",
	    (double)len * (count - warmup) * 8 / sum / 1e9, len * 8 / best / 1e9);
	close(fd);
	return 0;
}

int
main(int argc, char **argv)
{
	unsigned port;
	size_t len;
	unsigned count;

	if (argc < 5)
		usage();
	port = (unsigned)number(argv[2], 1, 65535);
	len = number(argv[3], 1, 65536) << 20;
	count = (unsigned)number(argv[4], 1, 1000000);
	if (strcmp(argv[1], "recv") == 0 && argc == 5)
		return do_recv(port, len, count);
	if (strcmp(argv[1], "send") == 0 && argc == 6) {
		unsigned warmup = (unsigned)number(argv[5], 0, count - 1);

		return do_send(port, len, count, warmup);
	}
	usage();
	return 2;
}
