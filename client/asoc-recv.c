/*
 * asoc-recv: receives one asoc-send stream into a file or standard output.
 *
 * The header names the sender and its chunk size; then CLI_RING receives
 * stay posted on the data tag, so the sender never waits for a write to
 * disk, plus one on the control tag for the trailer.  Receives with one
 * source and tag complete in order, so the oldest is always next.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "asoc.h"
#include "cli.h"

#define RECV_CTL_CAP	4096	/* a longer header fails as a version error */
#define RECV_GRACE_MS	2000	/* see recv_reap */

static const char *recv_out = "standard output";
static const char *recv_unlink;	/* our partial file, removed on failure */

static void
recv_usage(FILE *f)
{
	fprintf(f, "usage: asoc-recv [--socket PATH] [--from RANK] [--tag TAG] "
	    "[-o FILE] [--quiet]\n"
	    "Receives one asoc-send stream into FILE (standard output if - or "
	    "absent).\n");
}

static void
recv_cleanup(void)
{
	if (recv_unlink != NULL)
		unlink(recv_unlink);
}

static void
recv_write(int fd, const unsigned char *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			cli_die("cannot write %s: %s", recv_out,
			    strerror(errno));
		}
		p += n;
		len -= (size_t)n;
	}
}

/*
 * Once the trailer is in, every data receive has completed (the sender
 * sent it only after all its data sends had), but this process may not
 * have read those completions yet.  Give them a moment, never forever: a
 * sender whose trailer overstates its total must not hang us.
 */
static int
recv_reap(asoc_req_t **req, asoc_completion_t *c, asoc_status_t *st)
{
	struct timespec ms = { 0, 1000000 };
	int i, done = 0;

	*st = ASOC_OK;
	for (i = 0; *req != NULL && i < RECV_GRACE_MS; i++) {
		*st = asoc_test(*req, &done, c);
		if (done || *st != ASOC_OK)
			break;
		nanosleep(&ms, NULL);
	}
	if (done)
		*req = NULL;
	return done || *st != ASOC_OK;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "from", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ "output", required_argument, NULL, 'o' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "socket", required_argument, NULL, 'S' },
		{ "tag", required_argument, NULL, 'T' },
		{ NULL, 0, NULL, 0 }
	};
	struct cli_stream_hdr hdr;
	struct cli_stream_trl trl = { .status = CLI_STREAM_OK };
	struct cli_progress prog;
	asoc_completion_t c;
	asoc_t *as;
	asoc_buf_t *ctl, *ring;
	asoc_req_t *req[CLI_RING] = { NULL }, *trl_req = NULL, *any[2];
	asoc_status_t st;
	const char *sock = NULL, *path = NULL, *why;
	unsigned char *base;
	uint64_t tag = 0, written = 0, msgs = 0;
	int ch, fd = STDOUT_FILENO, from = ASOC_ANY_SOURCE, src, quiet = 0;
	int have_trl = 0;
	size_t head = 0, i, idx;

	cli_init("asoc-recv");
	while ((ch = getopt_long(argc, argv, "f:ho:qS:T:", opts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			from = cli_parse_rank("--from", optarg);
			break;
		case 'h':
			recv_usage(stdout);
			return 0;
		case 'o':
			path = optarg;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'S':
			sock = optarg;
			break;
		case 'T':
			tag = cli_parse_tag("--tag", optarg);
			break;
		default:
			recv_usage(stderr);
			return 2;
		}
	}
	if (optind < argc)
		cli_die_usage("unexpected argument '%s': name the output "
		    "with -o", argv[optind]);

	/* Open first: a bad path must fail before a sender waits on us. */
	if (path != NULL && strcmp(path, "-") != 0) {
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd == -1)
			cli_die("cannot create %s: %s", path, strerror(errno));
		recv_out = recv_unlink = path;
		cli_set_cleanup(recv_cleanup);
	}

	as = cli_open(sock);
	if (from >= 0 && asoc_world_size(as) > 0 && from >= asoc_world_size(as))
		cli_die("--from %d: no such rank, the job has ranks 0 to %d",
		    from, asoc_world_size(as) - 1);
	if ((st = asoc_buf_alloc(as, RECV_CTL_CAP, &ctl)) != ASOC_OK)
		cli_die_asoc(st, asoc_last_error(as), "cannot allocate the "
		    "control buffer");
	st = asoc_recv(as, ctl, 0, RECV_CTL_CAP, from, CLI_STREAM_CTL_TAG(tag),
	    &c);
	if (st != ASOC_OK)
		cli_die_asoc(st, asoc_last_error(as), "receiving the stream "
		    "header");
	src = c.source;
	if (cli_stream_hdr_decode(asoc_buf_ptr(ctl), c.len, &hdr, &why) == -1)
		cli_die("rank %d sent a bad stream header: %s", src, why);

	st = asoc_buf_alloc(as, CLI_RING * (size_t)hdr.chunk, &ring);
	if (st != ASOC_OK)
		cli_die_asoc(st, asoc_last_error(as), "cannot allocate %d "
		    "buffers of %" PRIu64 " bytes", CLI_RING, hdr.chunk);
	base = asoc_buf_ptr(ring);
	for (i = 0; i < CLI_RING; i++) {
		st = asoc_irecv(as, ring, i * hdr.chunk, hdr.chunk, src, tag,
		    &req[i]);
		if (st != ASOC_OK)
			cli_die_asoc(st, asoc_last_error(as), "posting a "
			    "receive from rank %d", src);
	}
	st = asoc_irecv(as, ctl, 0, RECV_CTL_CAP, src, CLI_STREAM_CTL_TAG(tag),
	    &trl_req);
	if (st != ASOC_OK)
		cli_die_asoc(st, asoc_last_error(as), "posting the trailer "
		    "receive from rank %d", src);

	cli_progress_start(&prog, hdr.total, quiet);
	for (;;) {
		if (!have_trl) {
			any[0] = req[head];
			any[1] = trl_req;
			idx = SIZE_MAX;
			st = asoc_waitany(any, 2, &idx, &c);
			if (idx == 1) {
				trl_req = NULL;
				if (st != ASOC_OK)
					cli_die_asoc(st, asoc_last_error(as),
					    "receiving the stream trailer");
				if (cli_stream_trl_decode(asoc_buf_ptr(ctl),
				    c.len, &trl, &why) == -1)
					cli_die("rank %d sent a bad stream "
					    "trailer: %s", src, why);
				if (trl.status != CLI_STREAM_OK)
					cli_die("the sender failed: see its "
					    "messages");
				have_trl = 1;
				continue;
			}
			if (idx != 0)
				cli_die_asoc(st, asoc_last_error(as), "waiting "
				    "for rank %d", src);
			req[head] = NULL;
		} else if (written >= trl.bytes)
			break;
		else if (!recv_reap(&req[head], &c, &st))
			cli_die("rank %d's trailer says %" PRIu64 " bytes, "
			    "but only %" PRIu64 " arrived", src, trl.bytes,
			    written);
		if (st != ASOC_OK)
			cli_die_asoc(st, asoc_last_error(as), "receiving from "
			    "rank %d", src);
		recv_write(fd, base + head * hdr.chunk, c.len);
		written += c.len;
		msgs++;
		cli_progress_update(&prog, written);
		/* After the trailer nothing more is coming: do not repost. */
		if (!have_trl) {
			st = asoc_irecv(as, ring, head * hdr.chunk, hdr.chunk,
			    src, tag, &req[head]);
			if (st != ASOC_OK)
				cli_die_asoc(st, asoc_last_error(as),
				    "posting a receive from rank %d", src);
		}
		head = (head + 1) % CLI_RING;
	}

	if (written != trl.bytes || msgs != trl.messages)
		cli_die("rank %d's trailer says %" PRIu64 " bytes in %" PRIu64
		    " messages, but %" PRIu64 " in %" PRIu64 " arrived", src,
		    trl.bytes, trl.messages, written, msgs);
	for (i = 0; i < CLI_RING; i++) {
		if (req[i] == NULL)
			continue;
		asoc_cancel(req[i]);
		/* Data here means the sender sent more than it said. */
		if (asoc_wait(req[i], &c) == ASOC_OK)
			cli_die("rank %d sent more than its trailer says", src);
		req[i] = NULL;
	}
	if (fd != STDOUT_FILENO && close(fd) == -1)
		cli_die("cannot write %s: %s", recv_out, strerror(errno));
	recv_unlink = NULL;
	cli_progress_finish(&prog, 1);
	asoc_buf_free(ring);
	asoc_buf_free(ctl);
	asoc_close(as);
	return 0;
}
