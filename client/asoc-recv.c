/*
 * asoc-recv: receives one asoc-send stream into a file or standard output.
 *
 * The header names the sender and its chunk size; then --window receives
 * stay posted on the data tag, so the sender never waits for a write to
 * disk and its window of sends finds them waiting, plus one on the
 * control tag for the trailer.  Receives with one source and tag complete
 * in order, so the oldest is always next.  A message counts (in the
 * output, the checkpoint and the SHA-256) only once its receive has
 * completed.
 *
 * With ASOC_CHECKPOINT_DIR set and -o FILE, the data goes to FILE.part,
 * renamed to FILE once the stream is complete and verified.  A resumable
 * (version 2) stream is checkpointed as it is written: every
 * RECV_CKPT_BYTES or RECV_CKPT_MS the output is fdatasync'd and the
 * checkpoint (cli-checkpoint.h) records the confirmed offset and the
 * SHA-256 of the bytes before it.  A rerun answers the header with that
 * offset, so the sender starts there.  On a failure FILE.part and the
 * checkpoint stay, for the next run.
 *
 * Without a checkpoint folder, -o FILE is written to a fresh temporary
 * file next to it (recv_open_tmp), renamed over FILE only once the stream
 * is complete: a failed rerun leaves an earlier good copy as it was.
 */
#include "config.h"

#include <sys/random.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "asoc.h"
#include "cli.h"
#include "cli-checkpoint.h"

#define RECV_CTL_CAP	4096	/* a longer header fails as a version error */
#define RECV_GRACE_MS	2000	/* see recv_reap */
#define RECV_TIMEOUT_MS	60000	/* resumable streams: see --timeout */
#define RECV_CKPT_BYTES	(64ULL << 20)	/* checkpoint at least this often */
#define RECV_CKPT_MS	1000		/* ... or this often */
/* The start may wait for the sender to hash the confirmed bytes: allow
 * for a slow disk, in bytes per second, on top of the timeout. */
#define RECV_HASH_MIN_RATE (100ULL << 20)

static const char *recv_out = "standard output";
static const char *recv_unlink;	/* our partial file, removed on failure */
static char recv_tmp[PATH_MAX];	/* -o FILE, no checkpoints: its stand-in */

/* A resumable stream into FILE.part; the cleanup saves its checkpoint. */
static struct recv_resume {
	int on;			/* checkpoints are kept */
	int fd;
	struct cli_ckpt ck;
	uint64_t pos;		/* bytes of the output written */
	struct timespec last;	/* last checkpoint */
#ifdef ASOC_TEST_HOOKS
	uint64_t stop_at;	/* ASOC_TEST_STOP_AT */
#endif
} recv_rs;
static struct cli_sha recv_sha;	/* version 2: of the output so far */

/* Makes pos confirmed: the data on disk first, then the record of it. */
static int
recv_ckpt_save(void)
{
	if (fdatasync(recv_rs.fd) == -1 && errno != EINVAL)
		return -1;
	recv_rs.ck.offset = recv_rs.pos;
	cli_sha_peek(&recv_sha, recv_rs.ck.sha);
	if (cli_ckpt_save(&recv_rs.ck) == -1)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &recv_rs.last);
	return 0;
}

static void
recv_ckpt_maybe(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (recv_rs.pos - recv_rs.ck.offset < RECV_CKPT_BYTES &&
	    (now.tv_sec - recv_rs.last.tv_sec) * 1000 + (now.tv_nsec -
	    recv_rs.last.tv_nsec) / 1000000 < RECV_CKPT_MS)
		return;
	if (recv_ckpt_save() == -1)
		cli_die("cannot write the checkpoint %s: %s", recv_rs.ck.path,
		    strerror(errno));
#ifdef ASOC_TEST_HOOKS
	if (recv_rs.stop_at != 0 && recv_rs.pos >= recv_rs.stop_at) {
		recv_rs.stop_at = 0;
		cli_test_stop("checkpointing", recv_rs.pos);
	}
#endif
}

static void
recv_cleanup(void)
{
	char n[32];

	if (recv_rs.on) {
		/* What is written is good: keep it for the next run. */
		recv_rs.on = 0;
		if (recv_ckpt_save() == -1)
			cli_warn("cannot write the checkpoint %s: %s",
			    recv_rs.ck.path, strerror(errno));
		cli_warn("kept %s (%s confirmed) and its checkpoint: run "
		    "asoc-send and asoc-recv again with %s to resume",
		    recv_out, cli_fmt_bytes(recv_rs.ck.offset, n, sizeof n),
		    CLI_CKPT_ENV);
	}
	if (recv_unlink != NULL)
		unlink(recv_unlink);
}

/* Tells a version 2 sender how it ended (see cli.h). */
static asoc_status_t
recv_done(asoc_t *as, asoc_buf_t *ctl, int src, uint64_t tag,
    uint32_t status, uint64_t bytes)
{
	cli_stream_done_encode(status, bytes, asoc_buf_ptr(ctl));
	return asoc_send(as, ctl, 0, CLI_STREAM_DONE_LEN, src,
	    CLI_STREAM_BACK_TAG(tag));
}

/* Dies on a damaged copy, taking the copy and its checkpoint with it. */
static void CLI_NORETURN
recv_die_damaged(asoc_t *as, asoc_buf_t *ctl, int src, uint64_t tag)
{
	recv_done(as, ctl, src, tag, CLI_STREAM_DAMAGED, 0);
	if (recv_rs.on) {
		recv_rs.on = 0;
		cli_ckpt_remove(&recv_rs.ck);
	}
	recv_unlink = recv_tmp[0] != '\0' ? recv_tmp : recv_out;
	cli_die("the SHA-256 of %s differs from the sender's: the copy is "
	    "damaged (did the source change while it was sent?); removed it "
	    "and its checkpoint, run both again", recv_out);
}

/*
 * What to offer a version 2 sender: the offset a checkpoint of this
 * output confirms and the SHA-256 before it, or 0 without one, or when it
 * is not for this source (rs->flags says why, so the sender can say it).
 */
static void
recv_resume_offer(const struct cli_stream_hdr *hdr, int fd, int part_mode,
    const char *path, struct cli_stream_resume *rs)
{
	struct cli_ckpt *ck = &recv_rs.ck;
	struct stat sb;
	const char *why;
	int r;

	memset(rs, 0, sizeof *rs);
	if (!part_mode)
		return;
	if ((r = cli_ckpt_load(ck, &why)) == -1)
		cli_warn("ignoring the checkpoint %s: %s; starting from byte "
		    "0", ck->path, why);
	if (r != 1)
		return;
	if (ck->size != hdr->total || ck->mtime_sec != hdr->mtime_sec ||
	    ck->mtime_nsec != hdr->mtime_nsec) {
		cli_warn("the source changed since the checkpoint of %s (size "
		    "or modification time differ): restarting from byte 0",
		    path);
		rs->flags |= CLI_RESUME_SOURCE_CHANGED;
	} else if (fstat(fd, &sb) == -1 || (uint64_t)sb.st_size < ck->offset) {
		cli_warn("%s is shorter than its checkpoint says: restarting "
		    "from byte 0", recv_out);
		rs->flags |= CLI_RESUME_PART_CHANGED;
	} else {
		rs->offset = ck->offset;
		memcpy(rs->sha, ck->sha, CLI_SHA_LEN);
	}
}

/* Whether the partial file hashes as its checkpoint says (recv_sha then
 * holds that digest): the checkpoint is only a claim about the file. */
static int
recv_resume_part_ok(const struct cli_stream_resume *rs, int fd,
    unsigned char *scratch, size_t slen)
{
	unsigned char mine[CLI_SHA_LEN];

	if (rs->offset == 0)
		return 1;
	if (cli_sha_file(&recv_sha, fd, rs->offset, scratch, slen) == -1)
		return 0;
	cli_sha_peek(&recv_sha, mine);
	return memcmp(mine, rs->sha, CLI_SHA_LEN) == 0;
}

/*
 * Answers from the checkpoint at once, and posts the receive of the start
 * before hashing: the two ends hash at the same time, and neither waits on
 * the other's disk with a deadline running.  Returns where the sender
 * starts; *part_ok says whether our partial file matched its checkpoint.
 */
static uint64_t
recv_resume_exchange(asoc_t *as, asoc_buf_t *ctl, int src, uint64_t tag,
    unsigned timeout_ms, const struct cli_stream_resume *rs, int fd,
    unsigned char *scratch, size_t slen, int *part_ok)
{
	unsigned char *p = asoc_buf_ptr(ctl);
	uint64_t ms = timeout_ms, start;
	asoc_completion_t c;
	asoc_req_t *req;
	asoc_status_t st;
	const char *why;

	asoc_set_timeout(as, timeout_ms);
	cli_stream_resume_encode(rs, p);
	cli_stream_send(as, ctl, CLI_STREAM_RESUME_LEN, src,
	    CLI_STREAM_BACK_TAG(tag), "answering rank %d's header", src);
	if (ms != 0)
		ms += rs->offset / RECV_HASH_MIN_RATE * 1000;
	asoc_set_timeout(as, ms > UINT32_MAX ? UINT32_MAX : (unsigned)ms);
	st = asoc_irecv(as, ctl, 0, RECV_CTL_CAP, src, CLI_STREAM_CTL_TAG(tag),
	    &req);
	if (st != ASOC_OK)
		cli_die_asoc(st, asoc_last_error(as), "posting the receive of "
		    "the start from rank %d", src);
	*part_ok = recv_resume_part_ok(rs, fd, scratch, slen);
	st = asoc_wait(req, &c);
	if (st != ASOC_OK)
		cli_die_asoc(st, asoc_last_error(as), "waiting for rank %d to "
		    "start the data", src);
	if (cli_stream_start_decode(p, c.len, &start, &why) == -1)
		cli_die("rank %d sent a bad start message: %s", src, why);
	if (start != 0 && start != rs->offset)
		cli_die("rank %d starts at byte %" PRIu64 ", but %" PRIu64
		    " was offered", src, start, rs->offset);
	return start;
}

/* FILE.part from start on, checkpointed from here. */
static void
recv_resume_at(const struct cli_stream_hdr *hdr, int fd, uint64_t start)
{
	struct cli_ckpt *ck = &recv_rs.ck;

	if (ftruncate(fd, (off_t)start) == -1 ||
	    lseek(fd, (off_t)start, SEEK_SET) == -1)
		cli_die("cannot prepare %s: %s", recv_out, strerror(errno));
	recv_rs.fd = fd;
	recv_rs.pos = start;
	ck->size = hdr->total;
	ck->mtime_sec = hdr->mtime_sec;
	ck->mtime_nsec = hdr->mtime_nsec;
	if (recv_ckpt_save() == -1)
		cli_die("cannot write the checkpoint %s: %s", ck->path,
		    strerror(errno));
#ifdef ASOC_TEST_HOOKS
	recv_rs.stop_at = cli_test_stop_at();
#endif
	recv_rs.on = 1;
	recv_unlink = NULL;	/* the partial file is worth keeping now */
	if (start > 0)
		cli_warn("resuming at byte %" PRIu64 " of %" PRIu64 " (from "
		    "checkpoint)", start, hdr->total);
}

/*
 * The resume exchange of a version 2 stream (see cli.h): offers what a
 * checkpoint confirms, learns where the sender starts, and positions the
 * output there.  scratch is the ring's memory, free until the data comes.
 */
static void
recv_resume(asoc_t *as, asoc_buf_t *ctl, int src, uint64_t tag,
    unsigned timeout_ms, const struct cli_stream_hdr *hdr, int fd,
    int part_mode, const char *path, unsigned char *scratch, size_t slen)
{
	struct cli_stream_resume rs;
	uint64_t start;
	int part_ok;

	cli_sha_init(&recv_sha);
	recv_resume_offer(hdr, fd, part_mode, path, &rs);
	start = recv_resume_exchange(as, ctl, src, tag, timeout_ms, &rs, fd,
	    scratch, slen, &part_ok);
	if (start != 0 && !part_ok) {
		/* Too late to ask for byte 0: fail, and start over next time. */
		cli_ckpt_remove(&recv_rs.ck);
		recv_unlink = recv_out;
		cli_die("%s does not match its checkpoint (was it changed?): "
		    "removed both; run asoc-send and asoc-recv again to "
		    "transfer it from byte 0", recv_out);
	}
	if (start != rs.offset || rs.offset == 0) {
		/* The sender's bytes differ (it said why): from scratch. */
		cli_sha_free(&recv_sha);
		cli_sha_init(&recv_sha);
	}
	if (part_mode)
		recv_resume_at(hdr, fd, start);
}

/*
 * -o FILE without checkpoints: a new file ".FILE.XXXXXX" in FILE's folder
 * (the same file system, so the final rename is atomic), created with
 * O_EXCL and O_NOFOLLOW so that nothing planted under that name is written
 * through.  FILE itself is not touched until the stream has arrived whole.
 */
static int
recv_open_tmp(const char *path)
{
	const char *slash = strrchr(path, '/');
	int dlen = slash != NULL ? (int)(slash - path + 1) : 0;
	unsigned char rnd[6];
	int fd, i, tries;

	for (tries = 0; tries < 100; tries++) {
		if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
			cli_die("cannot name a temporary file for %s: %s", path,
			    strerror(errno));
		if ((size_t)snprintf(recv_tmp, sizeof recv_tmp,
		    "%.*s.%s.XXXXXX", dlen, path, path + dlen) >=
		    sizeof recv_tmp)
			cli_die("%s: the path is too long", path);
		for (i = 0; i < 6; i++)
			recv_tmp[strlen(recv_tmp) - 6 + i] =
			    "abcdefghijklmnopqrstuvwxyz0123456789"[rnd[i] % 36];
		fd = open(recv_tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0644);
		if (fd != -1)
			return fd;
		if (errno != EEXIST)
			break;
	}
	fd = errno;
	recv_tmp[dlen] = '\0';
	cli_die("cannot create a temporary file in %s to receive %s: %s",
	    dlen > 0 ? recv_tmp : ".", path, strerror(fd));
}

/*
 * FILE.part: an earlier run's is reopened, but never through a symbolic
 * link and only when it is a plain file of ours (it may sit in a shared
 * folder); otherwise it is created, with O_EXCL.
 */
static int
recv_open_part(const char *part)
{
	struct stat sb;
	int fd;

	if ((fd = open(part, O_RDWR | O_NOFOLLOW | O_CLOEXEC)) == -1 &&
	    errno == ENOENT) {
		fd = open(part, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0644);
		recv_unlink = part;
	}
	if (fd == -1 && errno == ELOOP)
		cli_die("%s is a symbolic link, which asoc-recv never makes: "
		    "refusing to write through it; remove it and run again",
		    part);
	if (fd == -1)
		cli_die("cannot create %s: %s", part, strerror(errno));
	if (fstat(fd, &sb) == -1)
		cli_die("cannot stat %s: %s", part, strerror(errno));
	if (!S_ISREG(sb.st_mode) || sb.st_uid != geteuid())
		cli_die("%s is not a plain file of yours: refusing to resume "
		    "into it; remove it and run again", part);
	return fd;
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

/* What the command line asks for, besides the shared options. */
struct recv_args {
	int		 from;
	unsigned	 window;	/* --window: receives posted */
	const char	*path;		/* -o; NULL or "-": standard output */
};

/* One stream, from the header to the rename. */
struct recv {
	struct recv_args	 a;
	struct cli_common	 com;	/* --tag, --timeout, ... */
	struct cli_stream_hdr	 hdr;
	struct cli_stream_trl	 trl;
	struct cli_progress	 prog;
	asoc_t			*as;
	asoc_buf_t		*ctl, *ring;
	unsigned char		*base;
	asoc_req_t		**req, *trl_req;	/* a.window, 1 */
	const char		*ckdir;
	char			 part[PATH_MAX];
	uint64_t		 written, msgs;
	size_t			 head;	/* the ring slot that completes next */
	int			 fd, src, part_mode, v2, have_trl;
};

static const struct cli_opt recv_opts[] = {
	{ "from", 'f', "RANK", "take the stream only from this rank" },
	{ "output", 'o', "FILE", "into FILE, whole or not at all (default: "
	    "stdout)" },
	{ "window", 'w', "N", "chunks received at once, 1 to 256 (default 4)" },
	{ NULL, 0, NULL, NULL }
};

static void
recv_take(void *ctx, int key, const char *arg)
{
	struct recv_args *a = ctx;

	if (key == 'f')
		a->from = cli_parse_rank("--from", arg);
	else if (key == 'w')
		a->window = cli_parse_window("--window", arg);
	else
		a->path = arg;
}

static const struct cli_tool recv_tool = {
	.name = "asoc-recv",
	.about = "Receives one asoc-send stream into FILE (standard output if "
	    "- or absent);\nresumable with ASOC_CHECKPOINT_DIR set.",
	.common = CLI_COMMON_SOCKET | CLI_COMMON_QUIET |
	    CLI_COMMON_STREAM | CLI_COMMON_RANKS,
	.opts = recv_opts,
	.take = recv_take,
};

/* Opens the output first: a bad path must fail before a sender waits. */
static void
recv_open(struct recv *r)
{
	const char *path = r->a.path, *why;

	r->fd = STDOUT_FILENO;
	if (path == NULL || strcmp(path, "-") == 0)
		return;
	if (r->ckdir == NULL) {
		r->fd = recv_open_tmp(path);
		recv_out = path;
		recv_unlink = recv_tmp;
		cli_set_cleanup(recv_cleanup);
		return;
	}
	/* An earlier run's FILE.part is kept until the header says whether
	 * its checkpoint still applies. */
	if ((size_t)snprintf(r->part, sizeof r->part, "%s.part", path) >=
	    sizeof r->part)
		cli_die("%s: the path is too long", path);
	if (cli_ckpt_init(&recv_rs.ck, r->ckdir, path, &why) == -1)
		cli_die("%s=%s (for %s): %s", CLI_CKPT_ENV, r->ckdir, path, why);
	recv_out = r->part;
	r->fd = recv_open_part(r->part);
	r->part_mode = 1;
	cli_set_cleanup(recv_cleanup);
}

/* Waits for the header, skipping a failed stream's stale trailer. */
static void
recv_header(struct recv *r)
{
	asoc_completion_t c;
	asoc_status_t st;
	const char *why;

	for (;;) {
		st = asoc_recv(r->as, r->ctl, 0, RECV_CTL_CAP, r->a.from,
		    CLI_STREAM_CTL_TAG(r->com.tag), &c);
		if (st != ASOC_OK)
			cli_die_asoc(st, asoc_last_error(r->as), "receiving "
			    "the stream header");
		/* A sender whose receiver died sends its failure trailer
		 * anyway; a rerun must not take it for the new stream. */
		if (!cli_stream_is_trl(asoc_buf_ptr(r->ctl), c.len))
			break;
		cli_warn("ignoring the trailer of an earlier, failed stream "
		    "from rank %d", c.source);
	}
	r->src = c.source;
	if (cli_stream_hdr_decode(asoc_buf_ptr(r->ctl), c.len, &r->hdr, &why)
	    == -1)
		cli_die("rank %d sent a bad stream header: %s", r->src, why);
	r->v2 = r->hdr.version == CLI_STREAM_VERSION_RESUME;
	if (r->v2 && !r->com.timeout_set)
		r->com.timeout_ms = RECV_TIMEOUT_MS;
	if (!r->v2 && r->part_mode) {
		cli_warn("rank %d's asoc-send offers no resume (it is older, "
		    "or %s is unset there, or it sends a pipe): receiving "
		    "the whole stream", r->src, CLI_CKPT_ENV);
		if (ftruncate(r->fd, 0) == -1)
			cli_die("cannot truncate %s: %s", r->part,
			    strerror(errno));
		cli_ckpt_remove(&recv_rs.ck);
		recv_unlink = r->part;
	} else if (r->v2 && r->ckdir != NULL && !r->part_mode)
		cli_warn("standard output cannot be resumed: receiving the "
		    "whole stream");
}

/* Posts the ring's receive in slot i. */
static void
recv_post(struct recv *r, size_t i)
{
	asoc_status_t st;

	st = asoc_irecv(r->as, r->ring, i * r->hdr.chunk, r->hdr.chunk, r->src,
	    r->com.tag, &r->req[i]);
	if (st != ASOC_OK)
		cli_die_asoc(st, asoc_last_error(r->as), "posting a receive "
		    "from rank %d", r->src);
}

/* The ring (after a resume exchange), its receives and the trailer's. */
static void
recv_start(struct recv *r)
{
	size_t n = r->a.window, ringlen, i;
	asoc_status_t st;

	/* The chunk is the sender's word, up to CLI_STREAM_CHUNK_MAX. */
	if (r->hdr.chunk > SIZE_MAX / n)
		cli_die("--window %zu of rank %d's %" PRIu64 "-byte chunks does "
		    "not fit in memory: give a smaller --window", n, r->src,
		    r->hdr.chunk);
	ringlen = n * (size_t)r->hdr.chunk;
	if ((r->req = calloc(n, sizeof *r->req)) == NULL)
		cli_die("out of memory");
	if ((st = asoc_buf_alloc(r->as, ringlen, &r->ring)) != ASOC_OK)
		cli_die_asoc(st, asoc_last_error(r->as), "cannot allocate %zu "
		    "buffers of %" PRIu64 " bytes (--window %zu): give a "
		    "smaller --window", n, r->hdr.chunk, n);
	r->base = asoc_buf_ptr(r->ring);
	if (r->v2)
		recv_resume(r->as, r->ctl, r->src, r->com.tag,
		    r->com.timeout_ms, &r->hdr, r->fd, r->part_mode,
		    r->a.path, r->base, ringlen);
	/* From here on the sender is there: a silence is a fault. */
	asoc_set_timeout(r->as, r->com.timeout_ms);
	for (i = 0; i < n; i++)
		recv_post(r, i);
	/* The trailer comes after all the data: no deadline for it, the
	 * data receives have theirs. */
	asoc_set_timeout(r->as, 0);
	st = asoc_irecv(r->as, r->ctl, 0, RECV_CTL_CAP, r->src,
	    CLI_STREAM_CTL_TAG(r->com.tag), &r->trl_req);
	if (st != ASOC_OK)
		cli_die_asoc(st, asoc_last_error(r->as), "posting the trailer "
		    "receive from rank %d", r->src);
	asoc_set_timeout(r->as, r->com.timeout_ms);
}

static void
recv_trailer(struct recv *r, asoc_status_t st, const asoc_completion_t *c)
{
	const char *why;

	r->trl_req = NULL;
	if (st != ASOC_OK)
		cli_die_asoc(st, asoc_last_error(r->as), "receiving the stream "
		    "trailer");
	if (cli_stream_trl_decode(asoc_buf_ptr(r->ctl), c->len, &r->trl, &why)
	    == -1)
		cli_die("rank %d sent a bad stream trailer: %s", r->src, why);
	if (r->trl.status != CLI_STREAM_OK)
		cli_die("the sender failed: see its messages");
	r->have_trl = 1;
}

/*
 * The next data message into *c, or the trailer first if it comes first.
 * Returns 0 when the stream is over, 1 with data in slot r->head.
 */
static int
recv_next(struct recv *r, asoc_completion_t *c)
{
	asoc_req_t *any[2];
	asoc_status_t st;
	size_t idx;

	for (;;) {
		if (r->have_trl && r->written >= r->trl.bytes)
			return 0;
		if (r->have_trl) {
			if (!recv_reap(&r->req[r->head], c, &st))
				cli_die("rank %d's trailer says %" PRIu64 " "
				    "bytes, but only %" PRIu64 " arrived",
				    r->src, r->trl.bytes, r->written);
			break;
		}
		any[0] = r->req[r->head];
		any[1] = r->trl_req;
		idx = SIZE_MAX;
		st = asoc_waitany(any, 2, &idx, c);
		if (idx == 1) {
			recv_trailer(r, st, c);
			continue;
		}
		if (idx != 0)
			cli_die_asoc(st, asoc_last_error(r->as), "waiting for "
			    "rank %d", r->src);
		r->req[r->head] = NULL;
		break;
	}
	if (st == ASOC_ETIMEDOUT)
		cli_die("rank %d sent nothing for %u s: asoc-send there is "
		    "gone or stuck (see --timeout)", r->src,
		    r->com.timeout_ms / 1000);
	if (st != ASOC_OK)
		cli_die_asoc(st, asoc_last_error(r->as), "receiving from rank "
		    "%d", r->src);
	return 1;
}

/* The data, in order, until the trailer's count has arrived. */
static void
recv_data(struct recv *r)
{
	asoc_completion_t c;
	unsigned char *p;

	cli_progress_start(&r->prog, r->hdr.total, r->com.quiet);
	while (recv_next(r, &c)) {
		p = r->base + r->head * r->hdr.chunk;
		recv_write(r->fd, p, c.len);
		r->written += c.len;
		r->msgs++;
		if (r->v2)
			cli_sha_update(&recv_sha, p, c.len);
		if (recv_rs.on) {
			recv_rs.pos += c.len;
			recv_ckpt_maybe();
		}
		cli_progress_update(&r->prog, r->written);
		/* After the trailer nothing more is coming: do not repost. */
		if (!r->have_trl)
			recv_post(r, r->head);
		r->head = (r->head + 1) % r->a.window;
	}
}

/* What arrived is what the trailer says, to the byte and the hash. */
static void
recv_check(struct recv *r)
{
	unsigned char sha[CLI_SHA_LEN];
	asoc_completion_t c;
	size_t i;

	if (r->written != r->trl.bytes || r->msgs != r->trl.messages)
		cli_die("rank %d's trailer says %" PRIu64 " bytes in %" PRIu64
		    " messages, but %" PRIu64 " in %" PRIu64 " arrived", r->src,
		    r->trl.bytes, r->trl.messages, r->written, r->msgs);
	for (i = 0; i < r->a.window; i++) {
		if (r->req[i] == NULL)
			continue;
		asoc_cancel(r->req[i]);
		/* Data here means the sender sent more than it said. */
		if (asoc_wait(r->req[i], &c) == ASOC_OK)
			cli_die("rank %d sent more than its trailer says",
			    r->src);
		r->req[i] = NULL;
	}
	if (!r->v2)
		return;
	if (!r->trl.has_sha)
		cli_die("rank %d's trailer has no SHA-256", r->src);
	cli_sha_peek(&recv_sha, sha);
	cli_sha_free(&recv_sha);
	if (memcmp(sha, r->trl.sha, CLI_SHA_LEN) != 0)
		recv_die_damaged(r->as, r->ctl, r->src, r->com.tag);
}

/* Durable first, then under its name, then the sender is told. */
static void
recv_commit(struct recv *r)
{
	const char *path = r->a.path;
	asoc_status_t st;

	if ((r->part_mode || recv_tmp[0] != '\0') && fsync(r->fd) == -1)
		cli_die("cannot write %s: %s", recv_out, strerror(errno));
	if (r->fd != STDOUT_FILENO && close(r->fd) == -1)
		cli_die("cannot write %s: %s", recv_out, strerror(errno));
	if (r->part_mode) {
		recv_rs.on = 0;
		if (rename(r->part, path) == -1)
			cli_die("cannot rename %s to %s: %s", r->part, path,
			    strerror(errno));
		cli_ckpt_remove(&recv_rs.ck);
	} else if (recv_tmp[0] != '\0' && rename(recv_tmp, path) == -1)
		cli_die("cannot rename %s to %s: %s", recv_tmp, path,
		    strerror(errno));
	recv_unlink = NULL;
	if (r->v2 && (st = recv_done(r->as, r->ctl, r->src, r->com.tag,
	    CLI_STREAM_OK, r->hdr.total)) != ASOC_OK)
		cli_warn_asoc(st, asoc_last_error(r->as), "%s is complete, but "
		    "telling rank %d so failed", path != NULL ? path :
		    recv_out, r->src);
}

int
main(int argc, char **argv)
{
	static struct recv r = { .a = { .from = ASOC_ANY_SOURCE,
	    .window = CLI_WINDOW_DEFAULT },
	    .trl = { .status = CLI_STREAM_OK } };
	int first = cli_parse(&recv_tool, &r.com, &r.a, argc, argv);
	asoc_status_t st;

	if (first < argc)
		cli_die_usage("unexpected argument '%s': name the output "
		    "with -o", argv[first]);
	r.ckdir = cli_ckpt_dir();
	recv_open(&r);
	r.as = cli_open_common(&r.com);
	if (r.a.from >= 0 && asoc_world_size(r.as) > 0 &&
	    r.a.from >= asoc_world_size(r.as))
		cli_die("--from %d: no such rank, the job has ranks 0 to %d",
		    r.a.from, asoc_world_size(r.as) - 1);
	if ((st = asoc_buf_alloc(r.as, RECV_CTL_CAP, &r.ctl)) != ASOC_OK)
		cli_die_asoc(st, asoc_last_error(r.as), "cannot allocate the "
		    "control buffer");
	recv_header(&r);
	recv_start(&r);
	recv_data(&r);
	recv_check(&r);
	recv_commit(&r);
	cli_progress_finish(&r.prog, 1);
	asoc_buf_free(r.ring);
	asoc_buf_free(r.ctl);
	free(r.req);
	asoc_close(r.as);
	return CLI_EXIT_OK;
}
