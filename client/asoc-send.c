/*
 * asoc-send: streams a file or standard input to asoc-recv on another rank.
 *
 * Only a ring of CLI_RING chunks is ever in memory, so the file may be far
 * larger than RAM; while one chunk is in flight the next is being read.
 * The stream format is described in cli.h.
 *
 * With ASOC_CHECKPOINT_DIR set and a regular file to send, the stream is
 * resumable (version 2): asoc-recv answers the header with the offset it
 * has confirmed and the SHA-256 of those bytes; if our file hashes the
 * same up to there, the data starts at that offset, otherwise (the source
 * changed) at 0.  The trailer carries the SHA-256 of the whole file.
 */
#include <sys/stat.h>

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
#include "cli-checkpoint.h"

/* Bounds the failure-path trailer: its receiver may be gone already. */
#define SEND_FAIL_TIMEOUT_MS	10000
/* Resumable streams: give up on a receiver silent this long (--timeout). */
#define SEND_TIMEOUT_MS		60000
#define SEND_BACK_OFF		2048	/* the answer's place in ctl */

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
	    "[--timeout SECONDS] [--quiet] [FILE|-]\n"
	    "Streams FILE (standard input if - or absent) to asoc-recv on "
	    "rank RANK; resumable with ASOC_CHECKPOINT_DIR set.\n");
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

static int
send_changed(int fd, const struct stat *was)
{
	struct stat now;

	return fstat(fd, &now) == -1 || now.st_size != was->st_size ||
	    now.st_mtim.tv_sec != was->st_mtim.tv_sec ||
	    now.st_mtim.tv_nsec != was->st_mtim.tv_nsec;
}

/* Says why a data send failed, while asoc_last_error still says it. */
static void
send_failed(asoc_t *as, asoc_status_t st, int to, struct cli_progress *prog)
{
	cli_progress_finish(prog, 0);
	if (st == ASOC_ETIMEDOUT)
		cli_warn("rank %d took nothing within the deadline: asoc-recv "
		    "there is gone or stuck (see --timeout)", to);
	else
		cli_warn_asoc(st, asoc_last_error(as), "sending to rank %d",
		    to);
}

/* Sends the trailer; with status failed it is best effort and bounded. */
static asoc_status_t
send_trailer(asoc_t *as, asoc_buf_t *ctl, int to, uint64_t tag,
    uint32_t status, uint64_t bytes, uint64_t msgs, struct cli_sha *sha,
    unsigned timeout_ms)
{
	struct cli_stream_trl trl = { status, bytes, msgs, sha != NULL, { 0 } };

	if (status != CLI_STREAM_OK)
		asoc_set_timeout(as, timeout_ms != 0 && timeout_ms <
		    SEND_FAIL_TIMEOUT_MS ? timeout_ms : SEND_FAIL_TIMEOUT_MS);
	if (sha != NULL)
		cli_sha_peek(sha, trl.sha);
	return asoc_send(as, ctl, 0, cli_stream_trl_encode(&trl,
	    asoc_buf_ptr(ctl)), to, CLI_STREAM_CTL_TAG(tag));
}

/*
 * The resume exchange of a version 2 stream (see cli.h): returns where the
 * data starts, with *sha holding the digest of the bytes before it.  The
 * ring's memory is free yet, so it is the scratch space for hashing.
 */
static uint64_t
send_resume(asoc_t *as, asoc_buf_t *ctl, int to, uint64_t tag,
    unsigned timeout_ms, int fd, const char *name, uint64_t total,
    struct send_ring *r, struct cli_sha *sha)
{
	struct cli_stream_resume rs;
	unsigned char mine[CLI_SHA_LEN];
	unsigned char *p = (unsigned char *)asoc_buf_ptr(ctl);
	asoc_completion_t c;
	asoc_status_t st;
	uint64_t start = 0;
	const char *why;
	char off[32];

	asoc_set_timeout(as, timeout_ms);
	st = asoc_recv(as, ctl, SEND_BACK_OFF, asoc_buf_size(ctl) -
	    SEND_BACK_OFF, to, CLI_STREAM_BACK_TAG(tag), &c);
	if (st != ASOC_OK)
		cli_die_asoc(st, asoc_last_error(as), "no resume answer from "
		    "rank %d (asoc-recv there may be older than this asoc-send:"
		    " update it, or unset " CLI_CKPT_ENV " for a plain "
		    "transfer)", to);
	if (cli_stream_resume_decode(p + SEND_BACK_OFF, c.len, &rs, &why) == -1)
		cli_die("rank %d sent a bad resume answer: %s", to, why);

	if (rs.flags & CLI_RESUME_SOURCE_CHANGED)
		cli_warn("%s changed since rank %d's checkpoint (size or "
		    "modification time differ): restarting from byte 0", name,
		    to);
	if (rs.flags & CLI_RESUME_PART_CHANGED)
		cli_warn("rank %d's partial copy is shorter than its "
		    "checkpoint says: restarting from byte 0", to);
	if (rs.offset > total)
		cli_warn("rank %d has %" PRIu64 " bytes but %s has only %"
		    PRIu64 ": restarting from byte 0", to, rs.offset, name,
		    total);
	else if (rs.offset > 0) {
		/* Same size and mtime is not proof: the bytes must match. */
		if (cli_sha_file(sha, fd, rs.offset, r->base,
		    CLI_RING * r->chunk) == -1)
			cli_die("cannot read %s: %s", name, errno != 0 ?
			    strerror(errno) : "it became shorter");
		cli_sha_peek(sha, mine);
		if (memcmp(mine, rs.sha, CLI_SHA_LEN) == 0)
			start = rs.offset;
		else {
			cli_warn("the first %s of %s differ from rank %d's "
			    "partial copy: the source changed; restarting "
			    "from byte 0", cli_fmt_bytes(rs.offset, off,
			    sizeof off), name, to);
			cli_sha_free(sha);
			cli_sha_init(sha);
		}
	}

	cli_stream_start_encode(start, p);
	asoc_set_timeout(as, timeout_ms);
	st = asoc_send(as, ctl, 0, CLI_STREAM_START_LEN, to,
	    CLI_STREAM_CTL_TAG(tag));
	if (st != ASOC_OK)
		cli_die_asoc(st, asoc_last_error(as), "sending the start of "
		    "the data to rank %d", to);
	if (start > 0) {
		if (lseek(fd, (off_t)start, SEEK_SET) == -1)
			cli_die("cannot seek in %s: %s", name, strerror(errno));
		cli_warn("resuming at byte %" PRIu64 " of %" PRIu64 " (from "
		    "checkpoint)", start, total);
	}
	return start;
}

/* A resumable stream ends when the receiver says the file is complete and
 * checked: the trailer's completion only says it is in its buffer.
 * Returns 0, -1 when that word did not come, -2 for a damaged copy. */
static int
send_done(asoc_t *as, asoc_buf_t *ctl, int to, uint64_t tag,
    const char *name)
{
	unsigned char *p = asoc_buf_ptr(ctl);
	asoc_completion_t c;
	asoc_status_t st;
	uint32_t status;
	uint64_t bytes;
	const char *why;

	st = asoc_recv(as, ctl, SEND_BACK_OFF, asoc_buf_size(ctl) -
	    SEND_BACK_OFF, to, CLI_STREAM_BACK_TAG(tag), &c);
	if (st != ASOC_OK) {
		cli_warn_asoc(st, asoc_last_error(as), "rank %d did not "
		    "confirm that it has %s (see asoc-recv's messages there)",
		    to, name);
		return -1;
	}
	if (cli_stream_done_decode(p + SEND_BACK_OFF, c.len, &status, &bytes,
	    &why) == -1) {
		cli_warn("rank %d sent a bad done message: %s", to, why);
		return -1;
	}
	if (status != CLI_STREAM_OK) {
		cli_warn("rank %d's copy of %s has another SHA-256: it removed "
		    "it; did %s change while it was sent?", to, name, name);
		return -2;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "socket", required_argument, NULL, 'S' },
		{ "tag", required_argument, NULL, 'T' },
		{ "timeout", required_argument, NULL, 'W' },
		{ "to", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 }
	};
	struct send_ring r;
	struct cli_stream_hdr hdr = { .version = CLI_STREAM_VERSION,
	    .total = CLI_SIZE_UNKNOWN };
	struct cli_progress prog;
	struct cli_sha sha = { NULL };
	struct stat sb;
	asoc_t *as;
	asoc_buf_t *ctl;
	asoc_status_t st = ASOC_OK, st2;
	const char *sock = NULL, *path = "-", *name = "standard input";
	uint64_t tag = 0, done = 0, msgs = 0, start = 0, stop_at;
	int ch, fd = STDIN_FILENO, to = -1, quiet = 0, read_errno = 0;
	int failed = 0, resumable = 0, timeout_set = 0, done_st = 0;
	int changed = 0;
	unsigned timeout_ms = 0;
	size_t slot = 0, i, k;
	ssize_t n;
	off_t off;

	cli_init("asoc-send");
	while ((ch = getopt_long(argc, argv, "hqS:T:t:W:", opts, NULL)) != -1) {
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
		case 'W':
			timeout_ms = cli_parse_timeout("--timeout", optarg);
			timeout_set = 1;
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
	if (cli_ckpt_dir() != NULL) {
		resumable = S_ISREG(sb.st_mode) && fd != STDIN_FILENO;
		if (fd == STDIN_FILENO)
			cli_warn("standard input cannot be resumed (name the "
			    "file instead): it is sent whole (%s is ignored)",
			    CLI_CKPT_ENV);
		else if (!resumable)
			cli_warn("%s is not a regular file: it cannot be "
			    "resumed, so it is sent whole (%s is ignored)",
			    name, CLI_CKPT_ENV);
	}
	if (resumable) {
		hdr.version = CLI_STREAM_VERSION_RESUME;
		hdr.mtime_sec = (int64_t)sb.st_mtim.tv_sec;
		hdr.mtime_nsec = (uint32_t)sb.st_mtim.tv_nsec;
		if (!timeout_set)
			timeout_ms = SEND_TIMEOUT_MS;
		cli_sha_init(&sha);
	}
	stop_at = cli_test_stop_at();

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
	st = asoc_send(as, ctl, 0, cli_stream_hdr_encode(&hdr,
	    asoc_buf_ptr(ctl)), to, CLI_STREAM_CTL_TAG(tag));
	if (st != ASOC_OK)
		cli_die_asoc(st, asoc_last_error(as), "sending the stream "
		    "header to rank %d", to);
	if (resumable)
		start = send_resume(as, ctl, to, tag, timeout_ms, fd, name,
		    hdr.total, &r, &sha);
	/* From here on the receiver is there: a silence is a fault. */
	asoc_set_timeout(as, timeout_ms);

	cli_progress_start(&prog, hdr.total == CLI_SIZE_UNKNOWN ?
	    CLI_SIZE_UNKNOWN : hdr.total - start, quiet);
	for (;;) {
		if (r.req[slot] != NULL) {
			st = asoc_wait(r.req[slot], NULL);
			r.req[slot] = NULL;
			if (st != ASOC_OK)
				break;
			done += r.len[slot];
			cli_progress_update(&prog, done);
			if (stop_at != 0 && done >= stop_at) {
				cli_test_stop("sending", done);
				stop_at = 0;
			}
		}
		n = send_fill(fd, r.base + slot * r.chunk, r.chunk);
		if (n == -1)
			read_errno = errno;
		if (n <= 0)
			break;
		r.len[slot] = (size_t)n;
		if (resumable)
			cli_sha_update(&sha, r.base + slot * r.chunk,
			    (size_t)n);
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

	/* Bytes read before and after a change would make a copy that is
	 * neither version, with a SHA-256 that agrees with it. */
	if (resumable && st == ASOC_OK && read_errno == 0 && send_changed(fd,
	    &sb)) {
		cli_progress_finish(&prog, 0);
		cli_warn("%s changed while it was sent (size or modification "
		    "time): the copy would mix two versions; run again to "
		    "send it whole", name);
		changed = 1;
	}
	if (st != ASOC_OK || read_errno != 0 || changed) {
		/* Tells asoc-recv to stop waiting rather than hang. */
		send_trailer(as, ctl, to, tag, CLI_STREAM_FAILED, done, msgs,
		    NULL, timeout_ms);
		failed = 1;
	} else if ((st = send_trailer(as, ctl, to, tag, CLI_STREAM_OK, done,
	    msgs, resumable ? &sha : NULL, timeout_ms)) != ASOC_OK) {
		cli_progress_finish(&prog, 0);
		cli_warn_asoc(st, asoc_last_error(as), "sending the stream "
		    "trailer to rank %d", to);
		failed = 1;
	}
	if (!failed && resumable && (done_st = send_done(as, ctl, to, tag,
	    name)) != 0)
		failed = 1;
	cli_progress_finish(&prog, !failed);
	if (failed && resumable && done_st != -2 && !changed)
		cli_warn("rank %d keeps what it confirmed: run asoc-send and "
		    "asoc-recv again (with %s) to resume", to, CLI_CKPT_ENV);
	if (resumable)
		cli_sha_free(&sha);
	if (fd != STDIN_FILENO)
		close(fd);
	asoc_buf_free(ctl);
	asoc_buf_free(r.buf);
	asoc_close(as);
	return failed;
}
