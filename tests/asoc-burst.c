/*
 * asoc-burst: a libasoc client that posts many requests before it waits
 * for any (pairs of a send and a receive to its own rank, which complete
 * at once): their replies pile up while it is still posting, asocd paces
 * it (stops reading its requests), and libasoc must take replies while it
 * waits to post more, or the two wait for each other for good.
 *
 *   asoc-burst SOCKET PAIRS
 *
 * Prints "ok - ..." or "FAIL - ..." and "N passed, N failed".
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asoc.h"

int
main(int argc, char **argv)
{
	asoc_t *as;
	asoc_buf_t *buf;
	asoc_req_t **reqs;
	asoc_completion_t c;
	size_t n, i, bad = 0;
	int me;

	if (argc != 3 || (n = strtoul(argv[2], NULL, 10)) == 0) {
		fprintf(stderr, "usage: asoc-burst SOCKET PAIRS\n");
		return 2;
	}
	if (asoc_open(argv[1], &as) != ASOC_OK) {
		fprintf(stderr, "asoc-burst: %s\n", asoc_last_error(as));
		return 1;
	}
	me = asoc_rank(as);
	if (asoc_buf_alloc(as, 2 * 64 * n, &buf) != ASOC_OK ||
	    (reqs = calloc(2 * n, sizeof *reqs)) == NULL) {
		fprintf(stderr, "asoc-burst: %s\n", asoc_last_error(as));
		return 1;
	}
	for (i = 0; i < n; i++)
		if (asoc_irecv(as, buf, 128 * i, 64, me, i, &reqs[2 * i]) !=
		    ASOC_OK || asoc_isend(as, buf, 128 * i + 64, 64, me, i,
		    &reqs[2 * i + 1]) != ASOC_OK) {
			printf("FAIL - posting pair %zu: %s\n0 passed, 1 "
			    "failed\n", i, asoc_last_error(as));
			return 1;
		}
	for (i = 0; i < 2 * n; i++)
		if (asoc_wait(reqs[i], &c) != ASOC_OK)
			bad++;
	printf("%s - %zu send/receive pairs posted before any wait all "
	    "completed%s\n", bad ? "FAIL" : "ok", n, bad ? "" : " (paced, "
	    "not stuck)");
	printf("%d passed, %d failed\n", bad ? 0 : 1, bad ? 1 : 0);
	asoc_buf_free(buf);
	asoc_close(as);
	free(reqs);
	return bad ? 1 : 0;
}
