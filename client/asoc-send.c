/*
 * asoc-send: streams a file or standard input to asoc-recv on another rank.
 *
 * Only a ring of --window chunks is ever in memory, so the file may be far
 * larger than RAM; while those chunks are in flight (their sends overlap,
 * so a window of messages hides each one's round trip) the next is read.
 * A chunk counts as sent only once its send has completed, that is once
 * the bytes are in the receiver's buffer.
 * The stream format is described in cli.h.
 *
 * With ASOC_CHECKPOINT_DIR set and a regular file to send, the stream is
 * resumable (version 2): asoc-recv answers the header with the offset it
 * has confirmed and the SHA-256 of those bytes; if our file hashes the
 * same up to there, the data starts at that offset, otherwise (the source
 * changed) at 0.  The trailer carries the SHA-256 of the whole file.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
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
	size_t n;		/* --window: slots */
	asoc_req_t **req;	/* n: the send in flight in each slot */
	size_t *len;		/* n */
};

/* One stream, from the input to the trailer. */
struct send {
	struct cli_common	 com;	/* --tag, --timeout, ... */
	int			 to;	/* --to */
	struct cli_stream_hdr	 hdr;
	struct send_ring	 r;
	struct cli_progress	 prog;
	struct cli_sha		 sha;	/* resumable: of what was read */
	struct stat		 sb;	/* the input when it was opened */
	asoc_t			*as;
	asoc_buf_t		*ctl;
	const char		*name;	/* the input, in messages */
	int			 fd, resumable, read_errno, changed;
	uint64_t		 done, msgs, start;
#ifdef ASOC_TEST_HOOKS
	uint64_t		 stop_at;
#endif
};

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
 * Where the data starts, given the receiver's resume answer: its offset
 * when our file hashes the same up to there (s->sha then holds that
 * digest), else 0, saying why.  The ring's memory is free yet, so it is
 * the scratch space for hashing.
 */
static uint64_t
send_resume_from(struct send *s, const struct cli_stream_resume *rs)
{
	unsigned char mine[CLI_SHA_LEN];
	char off[32];

	if (rs->flags & CLI_RESUME_SOURCE_CHANGED)
		cli_warn("%s changed since rank %d's checkpoint (size or "
		    "modification time differ): restarting from byte 0",
		    s->name, s->to);
	if (rs->flags & CLI_RESUME_PART_CHANGED)
		cli_warn("rank %d's partial copy is shorter than its "
		    "checkpoint says: restarting from byte 0", s->to);
	if (rs->offset > s->hdr.total) {
		cli_warn("rank %d has %" PRIu64 " bytes but %s has only %"
		    PRIu64 ": restarting from byte 0", s->to, rs->offset,
		    s->name, s->hdr.total);
		return 0;
	}
	if (rs->offset == 0)
		return 0;
	/* Same size and mtime is not proof: the bytes must match. */
	if (cli_sha_file(&s->sha, s->fd, rs->offset, s->r.base,
	    s->r.n * s->r.chunk) == -1)
		cli_die("cannot read %s: %s", s->name, errno != 0 ?
		    strerror(errno) : "it became shorter");
	cli_sha_peek(&s->sha, mine);
	if (memcmp(mine, rs->sha, CLI_SHA_LEN) == 0)
		return rs->offset;
	cli_warn("the first %s of %s differ from rank %d's partial copy: the "
	    "source changed; restarting from byte 0", cli_fmt_bytes(rs->offset,
	    off, sizeof off), s->name, s->to);
	cli_sha_free(&s->sha);
	cli_sha_init(&s->sha);
	return 0;
}

/* The resume exchange of a version 2 stream (see cli.h): sets where the
 * data starts, s->start, and seeks the input there. */
static void
send_resume(struct send *s)
{
	struct cli_stream_resume rs;
	unsigned char *p = asoc_buf_ptr(s->ctl);
	asoc_completion_t c;
	asoc_status_t st;
	const char *why;

	asoc_set_timeout(s->as, s->com.timeout_ms);
	st = asoc_recv(s->as, s->ctl, SEND_BACK_OFF, asoc_buf_size(s->ctl) -
	    SEND_BACK_OFF, s->to, CLI_STREAM_BACK_TAG(s->com.tag), &c);
	if (st != ASOC_OK)
		cli_die_asoc(st, asoc_last_error(s->as), "no resume answer from "
		    "rank %d (asoc-recv there may be older than this asoc-send:"
		    " update it, or unset " CLI_CKPT_ENV " for a plain "
		    "transfer)", s->to);
	if (cli_stream_resume_decode(p + SEND_BACK_OFF, c.len, &rs, &why) == -1)
		cli_die("rank %d sent a bad resume answer: %s", s->to, why);
	s->start = send_resume_from(s, &rs);

	cli_stream_start_encode(s->start, p);
	asoc_set_timeout(s->as, s->com.timeout_ms);
	cli_stream_send(s->as, s->ctl, CLI_STREAM_START_LEN, s->to,
	    CLI_STREAM_CTL_TAG(s->com.tag), "sending the start of the data to "
	    "rank %d", s->to);
	if (s->start == 0)
		return;
	if (lseek(s->fd, (off_t)s->start, SEEK_SET) == -1)
		cli_die("cannot seek in %s: %s", s->name, strerror(errno));
	cli_warn("resuming at byte %" PRIu64 " of %" PRIu64 " (from "
	    "checkpoint)", s->start, s->hdr.total);
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

static const struct cli_opt send_opts[] = {
	{ "to", 't', "RANK", "the rank running asoc-recv (required)" },
	{ "window", 'w', "N", "chunks in flight at once, 1 to 256 (default 4)" },
	{ NULL, 0, NULL, NULL }
};

static void
send_take(void *ctx, int key, const char *arg)
{
	struct send *s = ctx;

	if (key == 'w')
		s->r.n = cli_parse_window("--window", arg);
	else
		s->to = cli_parse_rank("--to", arg);
}

static const struct cli_tool send_tool = {
	.name = "asoc-send",
	.operands = "[FILE|-]",
	.about = "Streams FILE (standard input if - or absent) to asoc-recv "
	    "on rank RANK;\nresumable with ASOC_CHECKPOINT_DIR set.",
	.common = CLI_COMMON_SOCKET | CLI_COMMON_QUIET |
	    CLI_COMMON_STREAM | CLI_COMMON_RANKS,
	.opts = send_opts,
	.take = send_take,
};

/* Opens the input and decides whether the stream is resumable. */
static void
send_open(struct send *s, const char *path)
{
	off_t off;

	s->fd = STDIN_FILENO;
	s->name = "standard input";
	if (strcmp(path, "-") != 0) {
		s->name = path;
		if ((s->fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
			cli_die("cannot open %s: %s", path, strerror(errno));
	}
	if (fstat(s->fd, &s->sb) == -1)
		cli_die("cannot stat %s: %s", s->name, strerror(errno));
	if (S_ISDIR(s->sb.st_mode))
		cli_die("%s is a directory: send a file, or tar it to -",
		    s->name);
	/* A redirected stdin may be partly read already: count what is left. */
	if (S_ISREG(s->sb.st_mode) && (off = lseek(s->fd, 0, SEEK_CUR)) != -1 &&
	    off <= s->sb.st_size)
		s->hdr.total = (uint64_t)(s->sb.st_size - off);
	if (cli_ckpt_dir() == NULL)
		return;
	s->resumable = S_ISREG(s->sb.st_mode) && s->fd != STDIN_FILENO;
	if (s->fd == STDIN_FILENO)
		cli_warn("standard input cannot be resumed (name the file "
		    "instead): it is sent whole (%s is ignored)", CLI_CKPT_ENV);
	else if (!s->resumable)
		cli_warn("%s is not a regular file: it cannot be resumed, so it "
		    "is sent whole (%s is ignored)", s->name, CLI_CKPT_ENV);
	if (!s->resumable)
		return;
	s->hdr.version = CLI_STREAM_VERSION_RESUME;
	s->hdr.mtime_sec = (int64_t)s->sb.st_mtim.tv_sec;
	s->hdr.mtime_nsec = (uint32_t)s->sb.st_mtim.tv_nsec;
	if (!s->com.timeout_set)
		s->com.timeout_ms = SEND_TIMEOUT_MS;
	cli_sha_init(&s->sha);
}

/* The session, the chunk size the receiver will take, and the buffers. */
static void
send_connect(struct send *s)
{
	asoc_status_t st;

	s->as = cli_open_common(&s->com);
	if (asoc_world_size(s->as) > 0 && s->to >= asoc_world_size(s->as))
		cli_die("--to %d: no such rank, the job has ranks 0 to %d",
		    s->to, asoc_world_size(s->as) - 1);
	/* The receiver refuses chunks it cannot sensibly map four of. */
	s->hdr.chunk = asoc_chunk_size(s->as);
	if (s->hdr.chunk == 0)
		s->hdr.chunk = 1 << 20;
	else if (s->hdr.chunk > CLI_STREAM_CHUNK_MAX)
		s->hdr.chunk = CLI_STREAM_CHUNK_MAX;
	s->r.chunk = s->hdr.chunk;
	if (s->r.n > SIZE_MAX / s->r.chunk)
		cli_die("--window %zu of %zu-byte chunks does not fit in memory:"
		    " give a smaller --window", s->r.n, s->r.chunk);
	if ((s->r.req = calloc(s->r.n, sizeof *s->r.req)) == NULL ||
	    (s->r.len = calloc(s->r.n, sizeof *s->r.len)) == NULL)
		cli_die("out of memory");
	if ((st = asoc_buf_alloc(s->as, s->r.n * s->r.chunk, &s->r.buf)) !=
	    ASOC_OK)
		cli_die_asoc(st, asoc_last_error(s->as), "cannot allocate %zu "
		    "buffers of %zu bytes (--window %zu): give a smaller "
		    "--window", s->r.n, s->r.chunk, s->r.n);
	s->r.base = asoc_buf_ptr(s->r.buf);
	if ((st = asoc_buf_alloc(s->as, 4096, &s->ctl)) != ASOC_OK)
		cli_die_asoc(st, asoc_last_error(s->as), "cannot allocate the "
		    "control buffer");
}

/* The header (blocks until asoc-recv is there), then a resume exchange. */
static void
send_header(struct send *s)
{
	cli_stream_send(s->as, s->ctl, cli_stream_hdr_encode(&s->hdr,
	    asoc_buf_ptr(s->ctl)), s->to, CLI_STREAM_CTL_TAG(s->com.tag),
	    "sending the stream header to rank %d", s->to);
	if (s->resumable)
		send_resume(s);
	/* From here on the receiver is there: a silence is a fault. */
	asoc_set_timeout(s->as, s->com.timeout_ms);
}

/* A slot's send completed: count it (and stop there, for a test). */
static void
send_counted(struct send *s, size_t len)
{
	s->done += len;
	cli_progress_update(&s->prog, s->done);
#ifdef ASOC_TEST_HOOKS
	if (s->stop_at != 0 && s->done >= s->stop_at) {
		cli_test_stop("sending", s->done);
		s->stop_at = 0;
	}
#endif
}

/*
 * The data: each slot of the ring is waited for, refilled and sent again,
 * so one chunk is read while the others are in flight.  Returns the first
 * failed send's status (read errors in s->read_errno) and the next slot.
 */
static asoc_status_t
send_pump(struct send *s, size_t *slot)
{
	struct send_ring *r = &s->r;
	unsigned char *p;
	asoc_status_t st;
	ssize_t n;

	for (;; *slot = (*slot + 1) % r->n) {
		if (r->req[*slot] != NULL) {
			st = asoc_wait(r->req[*slot], NULL);
			r->req[*slot] = NULL;
			if (st != ASOC_OK)
				return st;
			send_counted(s, r->len[*slot]);
		}
		p = r->base + *slot * r->chunk;
		if ((n = send_fill(s->fd, p, r->chunk)) == -1)
			s->read_errno = errno;
		if (n <= 0)
			return ASOC_OK;
		r->len[*slot] = (size_t)n;
		if (s->resumable)
			cli_sha_update(&s->sha, p, (size_t)n);
		st = asoc_isend(s->as, r->buf, *slot * r->chunk, r->len[*slot],
		    s->to, s->com.tag, &r->req[*slot]);
		if (st != ASOC_OK) {
			r->req[*slot] = NULL;
			return st;
		}
		s->msgs++;
	}
}

/* Waits for the sends still in flight, oldest first; after a failure the
 * rest cannot help, so they are cancelled.  Returns the first failure. */
static asoc_status_t
send_drain(struct send *s, size_t slot, asoc_status_t st)
{
	asoc_status_t st2;
	size_t i, k;

	for (i = 0; i < s->r.n; i++) {
		k = (slot + i) % s->r.n;
		if (s->r.req[k] == NULL)
			continue;
		if (st != ASOC_OK || s->read_errno != 0)
			asoc_cancel(s->r.req[k]);
		st2 = asoc_wait(s->r.req[k], NULL);
		s->r.req[k] = NULL;
		if (st2 == ASOC_OK) {
			s->done += s->r.len[k];
			cli_progress_update(&s->prog, s->done);
		} else if (st == ASOC_OK && s->read_errno == 0)
			send_failed(s->as, (st = st2), s->to, &s->prog);
	}
	return st;
}

/* All the data, sent or not: returns 0 when it all went. */
static int
send_data(struct send *s)
{
	asoc_status_t st;
	size_t slot = 0;

	cli_progress_start(&s->prog, s->hdr.total == CLI_SIZE_UNKNOWN ?
	    CLI_SIZE_UNKNOWN : s->hdr.total - s->start, s->com.quiet);
	st = send_pump(s, &slot);
	if (st != ASOC_OK)
		send_failed(s->as, st, s->to, &s->prog);
	else if (s->read_errno != 0) {
		cli_progress_finish(&s->prog, 0);
		cli_warn("cannot read %s: %s", s->name,
		    strerror(s->read_errno));
	}
	st = send_drain(s, slot, st);
	/* Bytes read before and after a change would make a copy that is
	 * neither version, with a SHA-256 that agrees with it. */
	if (s->resumable && st == ASOC_OK && s->read_errno == 0 &&
	    send_changed(s->fd, &s->sb)) {
		cli_progress_finish(&s->prog, 0);
		cli_warn("%s changed while it was sent (size or modification "
		    "time): the copy would mix two versions; run again to "
		    "send it whole", s->name);
		s->changed = 1;
	}
	return st != ASOC_OK || s->read_errno != 0 || s->changed;
}

/* The trailer, and for a resumable stream the receiver's word that the
 * file is there.  Returns 0, or 1 when the stream failed. */
static int
send_end(struct send *s, int failed)
{
	asoc_status_t st;
	int done_st = 0;

	if (failed) {
		/* Tells asoc-recv to stop waiting rather than hang. */
		send_trailer(s->as, s->ctl, s->to, s->com.tag,
		    CLI_STREAM_FAILED, s->done, s->msgs, NULL,
		    s->com.timeout_ms);
	} else if ((st = send_trailer(s->as, s->ctl, s->to, s->com.tag,
	    CLI_STREAM_OK, s->done, s->msgs, s->resumable ? &s->sha : NULL,
	    s->com.timeout_ms)) != ASOC_OK) {
		cli_progress_finish(&s->prog, 0);
		cli_warn_asoc(st, asoc_last_error(s->as), "sending the stream "
		    "trailer to rank %d", s->to);
		failed = 1;
	}
	if (!failed && s->resumable && (done_st = send_done(s->as, s->ctl,
	    s->to, s->com.tag, s->name)) != 0)
		failed = 1;
	cli_progress_finish(&s->prog, !failed);
	if (failed && s->resumable && done_st != -2 && !s->changed)
		cli_warn("rank %d keeps what it confirmed: run asoc-send and "
		    "asoc-recv again (with %s) to resume", s->to,
		    CLI_CKPT_ENV);
	return failed;
}

int
main(int argc, char **argv)
{
	static struct send s = { .to = -1, .hdr = { .version =
	    CLI_STREAM_VERSION, .total = CLI_SIZE_UNKNOWN },
	    .r = { .n = CLI_WINDOW_DEFAULT } };
	int first = cli_parse(&send_tool, &s.com, &s, argc, argv), failed;

	if (s.to < 0)
		cli_die_usage("--to RANK is required: the rank running "
		    "asoc-recv");
	if (argc - first > 1)
		cli_die_usage("one FILE at most, not %d", argc - first);
	send_open(&s, first < argc ? argv[first] : "-");
#ifdef ASOC_TEST_HOOKS
	s.stop_at = cli_test_stop_at();
#endif
	send_connect(&s);
	send_header(&s);
	failed = send_end(&s, send_data(&s));
	if (s.resumable)
		cli_sha_free(&s.sha);
	if (s.fd != STDIN_FILENO)
		close(s.fd);
	asoc_buf_free(s.ctl);
	asoc_buf_free(s.r.buf);
	free(s.r.req);
	free(s.r.len);
	asoc_close(s.as);
	return failed ? CLI_EXIT_FAILED : CLI_EXIT_OK;
}
