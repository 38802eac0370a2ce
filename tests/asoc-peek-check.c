/*
 * asoc-peek-check: ASOC_RECV_PEEK and too-small receives, from one
 * process on rank 0 of a job of two or more (test-peek.sh).
 *
 *   asoc-peek-check SOCKET0 SOCKET1
 *
 * Rank 1 sends to rank 0 (through the peer connection) and rank 0 sends
 * to itself (the local copy): for each, a peeking receive of 16 bytes
 * learns the 1000-byte message's size without consuming it, a receive of
 * that size then gets it whole, and a plain 16-byte receive fails with
 * ASOC_ETRUNC without writing past its 16 bytes.  Prints "N passed,
 * N failed".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asoc.h"

#define MSG	1000
#define SMALL	16
#define GUARD	0x5a

static int npass, nfail;

static void
expect(int ok, const char *what)
{
	printf("%s - %s\n", ok ? "ok" : "FAIL", what);
	if (ok)
		npass++;
	else
		nfail++;
}

static void
one_path(asoc_t *r0, asoc_t *sender, int src, const char *name)
{
	asoc_buf_t *sb, *rb;
	asoc_req_t *peek, *snd, *rcv;
	asoc_completion_t c;
	asoc_status_t st;
	unsigned char *p;
	char what[128];
	int i, ok;

	if (asoc_buf_alloc(sender, MSG, &sb) != ASOC_OK ||
	    asoc_buf_alloc(r0, 4096, &rb) != ASOC_OK) {
		fprintf(stderr, "alloc: %s\n", asoc_last_error(r0));
		exit(2);
	}
	p = asoc_buf_ptr(sb);
	for (i = 0; i < MSG; i++)
		p[i] = (unsigned char)(i * 7);
	memset(asoc_buf_ptr(rb), GUARD, 4096);

	/* peek: ETRUNC with the size, the message stays */
	st = asoc_irecv_flags(r0, rb, 0, SMALL, ASOC_ANY_SOURCE, 5,
	    ASOC_RECV_PEEK, &peek);
	expect(st == ASOC_OK, "post a peeking receive");
	st = asoc_isend(sender, sb, 0, MSG, 0, 5, &snd);
	expect(st == ASOC_OK, "post the send");
	st = asoc_wait(peek, &c);
	snprintf(what, sizeof what, "%s: peek says ETRUNC, %d bytes from rank "
	    "%d (got %d, %zu, %d)", name, MSG, src, st, c.len, c.source);
	expect(st == ASOC_ETRUNC && c.len == MSG && c.source == src &&
	    c.tag == 5, what);
	p = asoc_buf_ptr(rb);
	for (ok = 1, i = 0; i < 4096; i++)
		ok &= p[i] == GUARD;
	snprintf(what, sizeof what, "%s: the peek wrote nothing", name);
	expect(ok, what);
	st = asoc_irecv(r0, rb, 0, c.len, c.source, c.tag, &rcv);
	expect(st == ASOC_OK, "post the full receive");
	st = asoc_wait(rcv, &c);
	for (ok = st == ASOC_OK && c.len == MSG, i = 0; i < MSG; i++)
		ok &= p[i] == (unsigned char)(i * 7);
	snprintf(what, sizeof what, "%s: then the whole message arrives "
	    "(status %d)", name, st);
	expect(ok, what);
	st = asoc_wait(snd, &c);
	snprintf(what, sizeof what, "%s: the send completes once, OK", name);
	expect(st == ASOC_OK, what);

	/* a plain receive too small: ETRUNC both sides, nothing past it */
	memset(p, GUARD, 4096);
	st = asoc_irecv(r0, rb, 0, SMALL, src, 6, &rcv);
	expect(st == ASOC_OK, "post a small receive");
	st = asoc_isend(sender, sb, 0, MSG, 0, 6, &snd);
	expect(st == ASOC_OK, "post the send");
	st = asoc_wait(rcv, &c);
	snprintf(what, sizeof what, "%s: a too-small receive fails ETRUNC "
	    "(got %d)", name, st);
	expect(st == ASOC_ETRUNC, what);
	st = asoc_wait(snd, &c);
	snprintf(what, sizeof what, "%s: so does its send (got %d)", name, st);
	expect(st == ASOC_ETRUNC, what);
	for (ok = 1, i = 0; i < 4096; i++)
		ok &= p[i] == GUARD;
	snprintf(what, sizeof what, "%s: no byte written into the too-small "
	    "receive's buffer", name);
	expect(ok, what);
	asoc_buf_free(sb);
	asoc_buf_free(rb);
}

/* Peeking twice at one waiting message, then taking it, must leave the
 * sender's count of unmatched messages as it was: a count that wrapped
 * made the daemon refuse every later send from that rank as "too many
 * sends wait for a receive". */
static void
peek_twice(asoc_t *r0, asoc_t *sender, int src, const char *name)
{
	asoc_buf_t *sb, *rb;
	asoc_req_t *snd, *rcv;
	asoc_completion_t c;
	asoc_status_t st;
	char what[160];
	int k;

	if (asoc_buf_alloc(sender, MSG, &sb) != ASOC_OK ||
	    asoc_buf_alloc(r0, MSG, &rb) != ASOC_OK) {
		fprintf(stderr, "alloc: %s\n", asoc_last_error(r0));
		exit(2);
	}
	st = asoc_isend(sender, sb, 0, MSG, 0, 7, &snd);
	expect(st == ASOC_OK, "post the send to peek at twice");
	for (k = 0; k < 2; k++) {
		st = asoc_irecv_flags(r0, rb, 0, SMALL, src, 7,
		    ASOC_RECV_PEEK, &rcv);
		if (st == ASOC_OK)
			st = asoc_wait(rcv, &c);
		snprintf(what, sizeof what, "%s: peek %d says ETRUNC (got %d)",
		    name, k + 1, st);
		expect(st == ASOC_ETRUNC, what);
	}
	st = asoc_irecv(r0, rb, 0, MSG, src, 7, &rcv);
	if (st == ASOC_OK)
		st = asoc_wait(rcv, &c);
	expect(st == ASOC_OK, "then the message is taken");
	st = asoc_wait(snd, &c);
	expect(st == ASOC_OK, "and its send completes");
	for (k = 0; k < 3; k++) {
		asoc_req_t *s2;

		st = asoc_isend(sender, sb, 0, MSG, 0, 8, &s2);
		if (st == ASOC_OK)
			st = asoc_irecv(r0, rb, 0, MSG, src, 8, &rcv);
		if (st == ASOC_OK)
			st = asoc_wait(s2, &c);
		snprintf(what, sizeof what, "%s: a later send %d is still "
		    "taken (got %d: %s)", name, k + 1, st,
		    st == ASOC_OK ? "ok" : asoc_last_error(sender));
		expect(st == ASOC_OK, what);
		if (asoc_wait(rcv, &c) != ASOC_OK)
			expect(0, "its receive completes");
	}
	asoc_buf_free(sb);
	asoc_buf_free(rb);
}

int
main(int argc, char **argv)
{
	asoc_t *r0, *r1;

	if (argc != 3) {
		fprintf(stderr, "usage: asoc-peek-check SOCKET0 SOCKET1\n");
		return 2;
	}
	if (asoc_open(argv[1], &r0) != ASOC_OK ||
	    asoc_open(argv[2], &r1) != ASOC_OK) {
		fprintf(stderr, "asoc_open failed\n");
		return 2;
	}
	/* A daemon without the fix must fail the test, not hang it. */
	asoc_set_timeout(r0, 10000);
	asoc_set_timeout(r1, 10000);
	expect(asoc_fd(r0) >= 0, "asoc_fd of a live session");
	one_path(r0, r1, 1, "from rank 1");
	one_path(r0, r0, 0, "to itself");
	peek_twice(r0, r1, 1, "from rank 1");
	asoc_close(r1);
	asoc_close(r0);
	printf("%d passed, %d failed\n", npass, nfail);
	return nfail != 0;
}
