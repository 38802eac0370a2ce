/*
 * asoc-eager-check: many messages in flight at once (libasoc's asoc_isend
 * and asoc_irecv), each checked on arrival: the eager path's test client.
 *
 *   asoc-eager-check SOCKET send|recv PEER TAG SIZE COUNT WINDOW
 *
 * Message i (0..COUNT-1) of SIZE bytes is a pattern of (tag, size, i),
 * its first 8 bytes i itself, so a receiver that gets them out of order
 * or damaged says which.  Up to WINDOW requests are outstanding; they are
 * waited for oldest first.  Sends and receives post COUNT requests of the
 * same (PEER, TAG), so a message matches the receive of its own number
 * only if nothing overtakes.  Prints the checksum of all the data, one
 * line per failed request (with libasoc's error), and "N passed, N
 * failed" (one check per side: every request completed intact).
 * WINDOW = COUNT posts everything before waiting for any.
 *
 *   asoc-eager-check SOCKET stale PEER TAG SIZE COUNT TIMEOUT_MS
 *
 * A send that failed must not deliver bytes changed after its failure:
 * COUNT-1 sends of SIZE bytes on TAG+1 (the peer's asocd is stopped, so
 * they fill the connection), then message 0 of TAG, all with a deadline
 * of TIMEOUT_MS; once message 0 has failed, its buffer is overwritten
 * (0xee).  The peer's receive of TAG, message 0, must then get the
 * pattern or nothing: never the 0xee bytes.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asoc.h"
#include "xfer-sum.h"

static void
pattern(uint8_t *p, size_t size, uint64_t tag, uint64_t i)
{
	uint64_t x = (tag + 1) * 0x9e3779b97f4a7c15ull ^ (i << 20) ^ size;
	size_t k;

	for (k = 0; k < size; k++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[k] = (uint8_t)x;
	}
	memcpy(p, &i, size < 8 ? size : 8);
}

static int
stale(asoc_t *as, int peer, uint64_t tag, size_t size, size_t count,
    unsigned timeout_ms)
{
	asoc_buf_t *buf;
	asoc_req_t **reqs;
	asoc_completion_t c;
	uint8_t *base;
	size_t i;
	asoc_status_t st;

	if (asoc_buf_alloc(as, 2 * size, &buf) != ASOC_OK ||
	    (reqs = calloc(count, sizeof *reqs)) == NULL) {
		fprintf(stderr, "asoc-eager-check: %s\n", asoc_last_error(as));
		return 1;
	}
	base = asoc_buf_ptr(buf);
	memset(base, 0x11, size);
	pattern(base + size, size, tag, 0);
	asoc_set_timeout(as, timeout_ms);
	for (i = 0; i < count; i++) {
		st = i + 1 < count ?
		    asoc_isend(as, buf, 0, size, peer, tag + 1, &reqs[i]) :
		    asoc_isend(as, buf, size, size, peer, tag, &reqs[i]);
		if (st != ASOC_OK) {
			printf("FAIL - posting send %zu: %s\n0 passed, 1 "
			    "failed\n", i, asoc_last_error(as));
			return 1;
		}
	}
	st = asoc_wait(reqs[count - 1], &c);
	if (st == ASOC_OK)
		st = c.status;
	if (st == ASOC_OK) {
		printf("FAIL - the send did not fail: the connection did not "
		    "fill\n0 passed, 1 failed\n");
		return 1;
	}
	memset(base + size, 0xee, size);
	printf("ok - the send failed (%s); its buffer is overwritten\n",
	    asoc_strerror(st));
	fflush(stdout);
	for (i = 0; i + 1 < count; i++)
		(void)asoc_wait(reqs[i], &c);
	printf("1 passed, 0 failed\n");
	asoc_buf_free(buf);
	free(reqs);
	return 0;
}

int
main(int argc, char **argv)
{
	asoc_t *as;
	asoc_buf_t *buf;
	asoc_req_t **reqs;
	asoc_completion_t c;
	uint8_t *base, *want;
	size_t size, count, window, slot, next = 0, done = 0, bad = 0;
	uint64_t tag, sum = 0xcbf29ce484222325ull;
	int send, peer;
	asoc_status_t st;

	if (argc != 8 || (strcmp(argv[2], "send") != 0 &&
	    strcmp(argv[2], "recv") != 0 && strcmp(argv[2], "stale") != 0)) {
		fprintf(stderr, "usage: asoc-eager-check SOCKET send|recv PEER "
		    "TAG SIZE COUNT WINDOW\n"
		    "       asoc-eager-check SOCKET stale PEER TAG SIZE COUNT "
		    "TIMEOUT_MS\n");
		return 2;
	}
	send = strcmp(argv[2], "send") == 0;
	peer = atoi(argv[3]);
	tag = strtoull(argv[4], NULL, 10);
	size = strtoul(argv[5], NULL, 10);
	count = strtoul(argv[6], NULL, 10);
	window = strtoul(argv[7], NULL, 10);
	if (size == 0 || count == 0 || window == 0) {
		fprintf(stderr, "asoc-eager-check: SIZE, COUNT and WINDOW must "
		    "be positive\n");
		return 2;
	}
	if (window > count && strcmp(argv[2], "stale") != 0)
		window = count;
	if (asoc_open(argv[1], &as) != ASOC_OK) {
		fprintf(stderr, "asoc-eager-check: %s\n", asoc_last_error(as));
		return 1;
	}
	if (strcmp(argv[2], "stale") == 0) {
		int rc = stale(as, peer, tag, size, count, (unsigned)window);

		asoc_close(as);
		return rc;
	}
	if (asoc_buf_alloc(as, size * window, &buf) != ASOC_OK ||
	    (reqs = calloc(window, sizeof *reqs)) == NULL ||
	    (want = malloc(size)) == NULL) {
		fprintf(stderr, "asoc-eager-check: %s\n", asoc_last_error(as));
		return 1;
	}
	base = asoc_buf_ptr(buf);
	while (done < count) {
		/* Keep the window full, then wait for the oldest. */
		while (next < count && next - done < window) {
			slot = next % window;
			if (send)
				pattern(base + slot * size, size, tag, next);
			else
				memset(base + slot * size, 0xee, size);
			st = send ? asoc_isend(as, buf, slot * size, size, peer,
			    tag, &reqs[slot]) : asoc_irecv(as, buf, slot * size,
			    size, peer, tag, &reqs[slot]);
			if (st != ASOC_OK) {
				printf("FAIL - posting message %zu: %s\n", next,
				    asoc_last_error(as));
				printf("0 passed, 1 failed\n");
				return 1;
			}
			next++;
		}
		slot = done % window;
		st = asoc_wait(reqs[slot], &c);
		if (st == ASOC_OK && c.status == ASOC_OK && c.len != size)
			st = ASOC_EPROTO;
		if (st != ASOC_OK || c.status != ASOC_OK) {
			if (bad++ < 5)
				printf("FAIL - message %zu: %s: %s\n", done,
				    asoc_strerror(st != ASOC_OK ? st : c.status),
				    asoc_last_error(as));
		} else if (!send) {
			pattern(want, size, tag, done);
			if (memcmp(base + slot * size, want, size) != 0) {
				uint64_t got = 0;

				memcpy(&got, base + slot * size,
				    size < 8 ? size : 8);
				if (bad++ < 5)
					printf("FAIL - message %zu arrived "
					    "damaged or out of order (it "
					    "starts as message %" PRIu64 ")\n",
					    done, got);
			}
		}
		/* Both sides sum what is in the slot: equal sums, equal
		 * data. */
		sum ^= xfer_sum(base + slot * size, size) + done;
		done++;
	}
	printf("checksum %016" PRIx64 " over %zu messages of %zu bytes\n",
	    sum, count, size);
	printf("%s - %s %zu messages of %zu bytes, %zu in flight: %zu "
	    "failed\n", bad ? "FAIL" : "ok", send ? "sent" : "received intact, "
	    "in order,", count, size, window, bad);
	printf("%d passed, %d failed\n", bad ? 0 : 1, bad ? 1 : 0);
	asoc_buf_free(buf);
	asoc_close(as);
	free(reqs);
	free(want);
	return bad ? 1 : 0;
}
