/*
 * asoc-send: streams a file or standard input to asoc-recv on another rank.
 *
 * Only a ring of CLI_RING chunks is ever in memory, so the file may be far
 * larger than RAM; while one chunk is in flight the next is being read.
 * The stream format is described in cli.h.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "asoc.h"
#include "cli.h"

/* Bounds the failure-path trailer: its receiver may be gone already. */
#define SEND_FAIL_TIMEOUT_MS	10000

struct send_ring {
	asoc_buf_t *buf;
	unsigned char *base;
	size_t chunk;
	asoc_req_t *req[CLI_RING];
	size_t len[CLI_RING];
};

static void
send_usage(FILE *f)
{
	fprintf(f, "usage: asoc-send [--socket PATH] --to RANK [--tag TAG] "
	    "[--quiet] [FILE|-]\n"
	    "Streams FILE (standard input if - or absent) to asoc-recv on "
	    "rank RANK.\n");
}

/* Fills buf up to len bytes, stopping short only at end of file, so every
 * message but the last is a full chunk.  Returns -1 with errno on error. */
static ssize_t
send_fill(int fd, unsigned char *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = read(fd, buf + got, len - got);
		if (n == 0)
			break;
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/* Says why a data send failed, while asoc_last_error still says it. */
static void
send_failed(asoc_t *as, asoc_status_t st, int to, struct cli_progress *prog)
{
	cli_progress_finish(prog, 0);
	cli_warn_asoc(st, asoc_last_error(as), "sending to rank %d", to);
}

/* Sends the trailer; with status failed it is best effort and bounded. */
static asoc_status_t
send_trailer(asoc_t *as, asoc_buf_t *ctl, int to, uint64_t tag,
    uint32_t status, uint64_t bytes, uint64_t msgs)
{
	struct cli_stream_trl trl = { status, bytes, msgs };

	if (status != CLI_STREAM_OK)
		asoc_set_timeout(as, SEND_FAIL_TIMEOUT_MS);
	cli_stream_trl_encode(&trl, asoc_buf_ptr(ctl));
	return asoc_send(as, ctl, 0, CLI_STREAM_TRL_LEN, to,
	    CLI_STREAM_CTL_TAG(tag));
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "socket", required_argument, NULL, 'S' },
		{ "tag", required_argument, NULL, 'T' },
		{ "to", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 }
	};
	struct send_ring r;
	struct cli_stream_hdr hdr = { .version = CLI_STREAM_VERSION,
	    .total = CLI_SIZE_UNKNOWN };
	struct cli_progress prog;
	struct stat sb;
	asoc_t *as;
	asoc_buf_t *ctl;
	asoc_status_t st = ASOC_OK, st2;
	const char *sock = NULL, *path = "-", *name = "standard input";
	uint64_t tag = 0, done = 0, msgs = 0;
	int ch, fd = STDIN_FILENO, to = -1, quiet = 0, read_errno = 0;
	int failed = 0;
	size_t slot = 0, i, k;
	ssize_t n;
	off_t off;

	cli_init("asoc-send");
	while ((ch = getopt_long(argc, argv, "hqS:T:t:", opts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			send_usage(stdout);
			return 0;
		case 'q':
			quiet = 1;
			break;
		case 'S':
			sock = optarg;
			break;
		case 'T':
			tag = cli_parse_tag("--tag", optarg);
			break;
		case 't':
			to = cli_parse_rank("--to", optarg);
			break;
		default:
			send_usage(stderr);
			return 2;
		}
	}
	if (to < 0)
		cli_die_usage("--to RANK is required: the rank running "
		    "asoc-recv");
	if (argc - optind > 1)
		cli_die_usage("one FILE at most, not %d", argc - optind);
	if (optind < argc)
		path = argv[optind];

	if (strcmp(path, "-") != 0) {
		name = path;
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
			cli_die("cannot open %s: %s", path, strerror(errno));
	}
	if (fstat(fd, &sb) == -1)
		cli_die("cannot stat %s: %s", name, strerror(errno));
	if (S_ISDIR(sb.st_mode))
		cli_die("%s is a directory: send a file, or tar it to -", name);
	/* A redirected stdin may be partly read already: count what is left. */
	if (S_ISREG(sb.st_mode) && (off = lseek(fd, 0, SEEK_CUR)) != -1 &&
	    off <= sb.st_size)
		hdr.total = (uint64_t)(sb.st_size - off);

	as = cli_open(sock);
	if (asoc_world_size(as) > 0 && to >= asoc_world_size(as))
		cli_die("--to %d: no such rank, the job has ranks 0 to %d", to,
		    asoc_world_size(as) - 1);
	/* The receiver refuses chunks it cannot sensibly map four of. */
	hdr.chunk = asoc_chunk_size(as);
	if (hdr.chunk == 0)
		hdr.chunk = 1 << 20;
	else if (hdr.chunk > CLI_STREAM_CHUNK_MAX)
		hdr.chunk = CLI_STREAM_CHUNK_MAX;

	memset(&r, 0, sizeof r);
	r.chunk = hdr.chunk;
	if ((st = asoc_buf_alloc(as, CLI_RING * r.chunk, &r.buf)) != ASOC_OK)
		cli_die_asoc(st, asoc_last_error(as), "cannot allocate %d "
		    "buffers of %zu bytes", CLI_RING, r.chunk);
	r.base = asoc_buf_ptr(r.buf);
	if ((st = asoc_buf_alloc(as, 4096, &ctl)) != ASOC_OK)
		cli_die_asoc(st, asoc_last_error(as), "cannot allocate the "
		    "control buffer");

	/* Blocks until asoc-recv is there to take it. */
	cli_stream_hdr_encode(&hdr, asoc_buf_ptr(ctl));
	st = asoc_send(as, ctl, 0, CLI_STREAM_HDR_LEN, to,
	    CLI_STREAM_CTL_TAG(tag));
	if (st != ASOC_OK)
		cli_die_asoc(st, asoc_last_error(as), "sending the stream "
		    "header to rank %d", to);

	cli_progress_start(&prog, hdr.total, quiet);
	for (;;) {
		if (r.req[slot] != NULL) {
			st = asoc_wait(r.req[slot], NULL);
			r.req[slot] = NULL;
			if (st != ASOC_OK)
				break;
			done += r.len[slot];
			cli_progress_update(&prog, done);
		}
		n = send_fill(fd, r.base + slot * r.chunk, r.chunk);
		if (n == -1)
			read_errno = errno;
		if (n <= 0)
			break;
		r.len[slot] = (size_t)n;
		st = asoc_isend(as, r.buf, slot * r.chunk, r.len[slot], to, tag,
		    &r.req[slot]);
		if (st != ASOC_OK) {
			r.req[slot] = NULL;
			break;
		}
		msgs++;
		slot = (slot + 1) % CLI_RING;
	}
	if (st != ASOC_OK)
		send_failed(as, st, to, &prog);
	else if (read_errno != 0) {
		cli_progress_finish(&prog, 0);
		cli_warn("cannot read %s: %s", name, strerror(read_errno));
	}

	/* Drain oldest first; after a failure the rest cannot help. */
	for (i = 0; i < CLI_RING; i++) {
		k = (slot + i) % CLI_RING;
		if (r.req[k] == NULL)
			continue;
		if (st != ASOC_OK || read_errno != 0)
			asoc_cancel(r.req[k]);
		st2 = asoc_wait(r.req[k], NULL);
		r.req[k] = NULL;
		if (st2 == ASOC_OK) {
			done += r.len[k];
			cli_progress_update(&prog, done);
		} else if (st == ASOC_OK && read_errno == 0)
			send_failed(as, (st = st2), to, &prog);
	}

	if (st != ASOC_OK || read_errno != 0) {
		/* Tells asoc-recv to stop waiting rather than hang. */
		send_trailer(as, ctl, to, tag, CLI_STREAM_FAILED, done, msgs);
		failed = 1;
	} else if ((st = send_trailer(as, ctl, to, tag, CLI_STREAM_OK, done,
	    msgs)) != ASOC_OK) {
		cli_progress_finish(&prog, 0);
		cli_warn_asoc(st, asoc_last_error(as), "sending the stream "
		    "trailer to rank %d", to);
		failed = 1;
	}
	cli_progress_finish(&prog, !failed);
	if (fd != STDIN_FILENO)
		close(fd);
	asoc_buf_free(ctl);
	asoc_buf_free(r.buf);
	asoc_close(as);
	return failed;
}
