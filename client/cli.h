/*
 * cli.h: what the ASoc command-line tools share.
 *
 * The command line (cli-opt.c: declared options, the shared ones, --help,
 * --version, exit status 0/1/2), messages ("asoc-send: cannot open FOO:
 * ..."), strict number parsing (sizes through common/size_parse.c), a
 * progress line for terminals, byte formatting, opening a session with an
 * error that says where the daemon was looked for, and the stream format
 * that asoc-send writes and asoc-recv reads.
 */
#ifndef ASOC_CLI_H
#define ASOC_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "asoc.h"

#define CLI_NORETURN	__attribute__((__noreturn__))
#define CLI_PRINTF(f, a) __attribute__((__format__(__printf__, f, a)))

/*
 * The command line, declared rather than written: a tool lists its options
 * (struct cli_opt) and a function that takes one; cli_parse adds the
 * options every tool shares, runs getopt_long, prints --help from the
 * table and --version, and turns any misuse into exit status 2.  The exit
 * status is the same in every tool: CLI_EXIT_OK, CLI_EXIT_FAILED when the
 * operation failed (cli_die), CLI_EXIT_USAGE for a bad command line
 * (cli_die_usage).
 */
#define CLI_EXIT_OK	0
#define CLI_EXIT_FAILED	1
#define CLI_EXIT_USAGE	2

/* The options shared by the tools that take them (cli_tool.common). */
#define CLI_COMMON_SOCKET	0x1	/* -S, --socket PATH */
#define CLI_COMMON_QUIET	0x2	/* -q, --quiet */
#define CLI_COMMON_STREAM	0x4	/* -T, --tag TAG; -W, --timeout SECONDS */
/* --rank N --world-size P (this process's rank, as ASOC_PROC_RANK and
 * ASOC_PROC_WORLD), --node-ranks (as ASOC_RANKS=node): open with
 * cli_open_common. */
#define CLI_COMMON_RANKS	0x8
/* h, V, S, q, T and W are the shared options' letters: a tool's own
 * options use others.  Keys of options without a short letter start at
 * CLI_LONG_ONLY; the shared ones without a letter are CLI_LONG_SHARED
 * and up, out of the tools' way. */
#define CLI_LONG_ONLY		256
#define CLI_LONG_SHARED		1024

struct cli_opt {
	const char	*name;	/* long name, without "--"; NULL ends a table */
	int		 key;	/* short letter, or CLI_LONG_ONLY + n */
	const char	*arg;	/* its argument's name in --help; NULL: none */
	const char	*help;	/* one line of --help; NULL: an alias, unlisted */
};

struct cli_common {
	const char	*socket;	/* --socket, NULL: asoc_open's default */
	int		 quiet;		/* --quiet */
	uint64_t	 tag;		/* --tag: the stream's, 0 by default */
	unsigned	 timeout_ms;	/* --timeout, in ms (0: forever) */
	int		 timeout_set;	/* --timeout was given */
	int		 rank;		/* --rank, -1 when not given */
	int		 world_size;	/* --world-size, 0 when not given */
	int		 node_ranks;	/* --node-ranks */
};

struct cli_tool {
	const char		*name;		/* "asoc-send", in every message */
	const char		*operands;	/* after [options] in the usage */
	const char		*about;		/* what it does, for --help */
	unsigned		 common;	/* CLI_COMMON_* it takes */
	const struct cli_opt	*opts;		/* its own options */
	/* Takes one of opts: key, optarg; a bad value is cli_die_usage. */
	void			(*take)(void *ctx, int key, const char *arg);
	/* The exit status paragraph of --help; NULL: the usual 0/1/2. */
	const char		*exits;
};

/*
 * Names the program (cli_init), then parses argv: the tool's options go to
 * take(ctx, ...), the shared ones into *common (may be NULL when the tool
 * takes none), --help and --version print and exit 0, and an unknown
 * option, a missing argument or a bad value exits 2.  Returns the index
 * of the first operand.
 */
int cli_parse(const struct cli_tool *t, struct cli_common *common, void *ctx,
    int argc, char **argv);
/* What --help and --version print. */
void cli_help(const struct cli_tool *t, FILE *f);
void cli_version(const struct cli_tool *t);

/* Names the program in every message; cli_parse calls it. */
void cli_init(const char *progname);
/* Runs from cli_die before exit, e.g. to remove a partial output file. */
void cli_set_cleanup(void (*fn)(void));

void cli_warn(const char *fmt, ...) CLI_PRINTF(1, 2);
void cli_die(const char *fmt, ...) CLI_PRINTF(1, 2) CLI_NORETURN;
/*
 * "prog: what: <asoc_strerror(st)> (<detail>)", detail being
 * asoc_last_error() taken right after the failed call (later calls reset
 * it); the die form then exits 1.
 */
void cli_warn_asoc(asoc_status_t st, const char *detail, const char *fmt, ...)
    CLI_PRINTF(3, 4);
void cli_die_asoc(asoc_status_t st, const char *detail, const char *fmt, ...)
    CLI_PRINTF(3, 4) CLI_NORETURN;
/* "prog: message (try 'prog --help')", then exit CLI_EXIT_USAGE. */
void cli_die_usage(const char *fmt, ...) CLI_PRINTF(1, 2) CLI_NORETURN;

/*
 * Strict numbers: decimal or 0x hex, nothing before or after, no sign, no
 * overflow.  A bad value dies naming the option.  Sizes take a K, M, G or T
 * suffix (powers of 1024, optionally followed by "iB" or "B").
 */
int cli_parse_rank(const char *opt, const char *arg);
/* A number of process ranks, 1 to PROTO_RANK_MAX. */
int cli_parse_world(const char *opt, const char *arg);
uint64_t cli_parse_tag(const char *opt, const char *arg);
uint64_t cli_parse_size(const char *opt, const char *arg);
/* Seconds (0 = wait forever), returned in milliseconds. */
unsigned cli_parse_timeout(const char *opt, const char *arg);
/* A window: 1 to CLI_WINDOW_MAX messages. */
unsigned cli_parse_window(const char *opt, const char *arg);

/* "0 B", "512 B", "1.5 KiB", "4.0 GiB": writes into buf and returns it. */
const char *cli_fmt_bytes(uint64_t n, char *buf, size_t len);

/* Flushes standard output, dying (exit 1) if what was printed is lost. */
void cli_flush_stdout(void);

/* asoc_open that dies with where it looked and what to do. */
asoc_t *cli_open(const char *socket_path);
/* The same with the shared options: --socket, and --rank/--world-size
 * or --node-ranks when the tool takes CLI_COMMON_RANKS. */
asoc_t *cli_open_common(const struct cli_common *common);
/* A status-only session (ASOC_OPEN_STATUS): asoc-stat and asoc-info
 * never claim a rank, whatever the environment says. */
asoc_t *cli_open_status(const char *socket_path);

/*
 * Progress on stderr, only when stderr is a terminal: bytes done, total and
 * percent when known, rate and ETA, redrawn at most CLI_PROGRESS_HZ times a
 * second so that a fast stream does not spend its time on the terminal.
 */
#define CLI_PROGRESS_HZ		5
#define CLI_SIZE_UNKNOWN	UINT64_MAX

struct cli_progress {
	int enabled;
	uint64_t total;		/* CLI_SIZE_UNKNOWN when not known */
	uint64_t done;
	struct timespec start;
	struct timespec last;	/* last redraw */
};

void cli_progress_start(struct cli_progress *p, uint64_t total, int quiet);
void cli_progress_update(struct cli_progress *p, uint64_t done);
/* Draws the final line ("4.0 GiB in 2.1 s, 2.05 GB/s") when ok, or only
 * ends the line so that an error message starts on its own. */
void cli_progress_finish(struct cli_progress *p, int ok);

/*
 * The stream: asoc-send sends a header on the control tag, the data in
 * messages of at most `chunk` bytes on the data tag, and, once every data
 * send has completed, a trailer on the control tag.  The control tag is the
 * data tag with CLI_STREAM_CTL_BIT flipped, so a stream needs one user tag.
 * All fields are little-endian.
 *
 * Version 1, a plain stream (what asoc-send sends without
 * ASOC_CHECKPOINT_DIR, or from a pipe):
 *
 *   header (40):  "ASOCSTRM" u32 version u32 flags u64 total u64 chunk
 *                 u64 reserved
 *   trailer (32): "ASOCEND!" u32 status u32 reserved u64 bytes u64 messages
 *
 * Version 2, a resumable stream (a regular file, ASOC_CHECKPOINT_DIR set
 * on the sender).  The header names the source (size = total, and mtime);
 * the receiver answers on the back tag (the control tag with
 * CLI_STREAM_BACK_BIT flipped too, so a stream the other way on the same
 * tag cannot take it) with the offset it has confirmed and the SHA-256 of
 * those bytes; the sender checks that hash against its own file and says
 * where the data starts (the offset, or 0 if its bytes differ); the data
 * follows from there, and the trailer adds the SHA-256 of the whole file.
 * bytes and messages in the trailer count this run only.  Last, the
 * receiver says on the back tag that the file is complete, checked and
 * under its name (or that its SHA-256 differs), so that a sender that
 * exits 0 means the file is there, not only in the receiver's buffers.
 *
 *   header (64):  as version 1, then i64 mtime_sec u32 mtime_nsec
 *                 u32 reserved u64 reserved
 *   resume (64):  "ASOCRSUM" u32 version u32 flags u64 offset
 *                 u8[32] sha256 of [0, offset) u64 reserved
 *   start (24):   "ASOCSTRT" u32 version u32 reserved u64 start
 *   trailer (64): as version 1, then u8[32] sha256 of the whole file
 *   done (24):    "ASOCDONE" u32 version u32 status u64 bytes
 *
 * An asoc-recv of version 1 refuses a version 2 header ("unsupported
 * stream version") and exits; asoc-send then gets no resume answer and
 * fails within its timeout, saying to update asoc-recv or unset
 * ASOC_CHECKPOINT_DIR.  This asoc-recv takes both versions.
 */
#define CLI_STREAM_CTL_BIT	(1ULL << 62)
#define CLI_STREAM_BACK_BIT	(1ULL << 61)
#define CLI_STREAM_CTL_TAG(t)	((uint64_t)(t) ^ CLI_STREAM_CTL_BIT)
#define CLI_STREAM_BACK_TAG(t)	(CLI_STREAM_CTL_TAG(t) ^ CLI_STREAM_BACK_BIT)
#define CLI_STREAM_MAGIC	"ASOCSTRM"
#define CLI_STREAM_END_MAGIC	"ASOCEND!"
#define CLI_STREAM_RESUME_MAGIC	"ASOCRSUM"
#define CLI_STREAM_START_MAGIC	"ASOCSTRT"
#define CLI_STREAM_DONE_MAGIC	"ASOCDONE"
#define CLI_STREAM_VERSION	1	/* plain */
#define CLI_STREAM_VERSION_RESUME 2
#define CLI_STREAM_HDR_LEN	40
#define CLI_STREAM_HDR2_LEN	64
#define CLI_STREAM_TRL_LEN	32
#define CLI_STREAM_TRL2_LEN	64
#define CLI_STREAM_RESUME_LEN	64
#define CLI_STREAM_START_LEN	24
#define CLI_STREAM_DONE_LEN	24
#define CLI_STREAM_SHA_LEN	32
#define CLI_STREAM_CHUNK_MAX	(1ULL << 30)	/* window of these mapped */
#define CLI_STREAM_OK		0
#define CLI_STREAM_FAILED	1	/* the sender gave up (read error) */
#define CLI_STREAM_DAMAGED	2	/* done: the SHA-256 differs there */
/* --window: data messages in flight (sender) or receives posted
 * (receiver), each a chunk of memory; the two ends choose theirs apart. */
#define CLI_WINDOW_DEFAULT	4
#define CLI_WINDOW_MAX		256
/* Resume answer flags: why the offset is 0 although a checkpoint was
 * there, so that the sender can say it too. */
#define CLI_RESUME_SOURCE_CHANGED 0x1	/* size or mtime differ */
#define CLI_RESUME_PART_CHANGED	0x2	/* the partial output is too short */
#define CLI_RESUME_FLAGS	0x3

struct cli_stream_hdr {
	uint32_t version;
	uint32_t flags;
	uint64_t total;		/* CLI_SIZE_UNKNOWN for pipes */
	uint64_t chunk;
	int64_t mtime_sec;	/* version 2: the source's mtime */
	uint32_t mtime_nsec;
};

struct cli_stream_trl {
	uint32_t status;
	uint64_t bytes;
	uint64_t messages;
	int has_sha;		/* version 2 */
	unsigned char sha[CLI_STREAM_SHA_LEN];
};

struct cli_stream_resume {
	uint32_t flags;
	uint64_t offset;
	unsigned char sha[CLI_STREAM_SHA_LEN];
};

/* Sends the len bytes of a stream message just encoded at the start of
 * ctl to rank on tag, or dies (exit 1) saying what it was. */
void cli_stream_send(asoc_t *as, asoc_buf_t *ctl, size_t len, int rank,
    uint64_t tag, const char *fmt, ...) CLI_PRINTF(6, 7);

/* Encoders return the length written (the version picks the form). */
size_t cli_stream_hdr_encode(const struct cli_stream_hdr *h,
    unsigned char out[CLI_STREAM_HDR2_LEN]);
/* Returns 0, or -1 with *why saying what is wrong with the bytes. */
int cli_stream_hdr_decode(const unsigned char *in, size_t len,
    struct cli_stream_hdr *h, const char **why);
size_t cli_stream_trl_encode(const struct cli_stream_trl *t,
    unsigned char out[CLI_STREAM_TRL2_LEN]);
int cli_stream_trl_decode(const unsigned char *in, size_t len,
    struct cli_stream_trl *t, const char **why);
/* Whether bytes look like a trailer (a stale one from a failed stream). */
int cli_stream_is_trl(const unsigned char *in, size_t len);
void cli_stream_resume_encode(const struct cli_stream_resume *r,
    unsigned char out[CLI_STREAM_RESUME_LEN]);
int cli_stream_resume_decode(const unsigned char *in, size_t len,
    struct cli_stream_resume *r, const char **why);
void cli_stream_start_encode(uint64_t start,
    unsigned char out[CLI_STREAM_START_LEN]);
int cli_stream_start_decode(const unsigned char *in, size_t len,
    uint64_t *start, const char **why);
void cli_stream_done_encode(uint32_t status, uint64_t bytes,
    unsigned char out[CLI_STREAM_DONE_LEN]);
int cli_stream_done_decode(const unsigned char *in, size_t len,
    uint32_t *status, uint64_t *bytes, const char **why);

#ifdef ASOC_TEST_HOOKS
/*
 * Test-only (configure --enable-test-hooks): ASOC_TEST_STOP_AT=BYTES
 * makes asoc-send (after that many bytes were confirmed sent) or
 * asoc-recv (after its first checkpoint at or past it) stop itself with SIGSTOP, so that a test can kill it
 * mid-transfer at a known point without racing the transfer.
 */
#define CLI_TEST_STOP_ENV	"ASOC_TEST_STOP_AT"
uint64_t cli_test_stop_at(void);	/* 0 when unset */
void cli_test_stop(const char *what, uint64_t done);
#endif

#endif
