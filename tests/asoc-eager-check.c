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
	    strcmp(argv[2], "recv") != 0)) {
		fprintf(stderr, "usage: asoc-eager-check SOCKET send|recv PEER "
		    "TAG SIZE COUNT WINDOW\n");
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
	if (window > count)
		window = count;
	if (asoc_open(argv[1], &as) != ASOC_OK) {
		fprintf(stderr, "asoc-eager-check: %s\n", asoc_last_error(as));
		return 1;
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
