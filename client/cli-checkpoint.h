/*
 * cli-checkpoint.h: what asoc-send and asoc-recv need to resume a file
 * transfer (ASOC_CHECKPOINT_DIR): SHA-256 over files and streams, and the
 * receiver's checkpoint file.
 *
 * The checkpoint says which source the partial output belongs to (its size
 * and mtime), how many bytes of it are confirmed (written to the output,
 * and fdatasync'd, before the checkpoint was), and the SHA-256 of those
 * bytes.  It is small, versioned text, replaced atomically (write to a
 * temporary name, fsync, rename, fsync the folder), so a kill at any point
 * leaves either the old checkpoint or the new one.
 *
 *   asoc-recv checkpoint 1
 *   output /abs/path/of/OUT
 *   source-size 268435459
 *   source-mtime 1764571234.123456789
 *   offset 134217728
 *   sha256 <64 hex digits>
 *
 * Only asoc-send and asoc-recv link this (and libcrypto): asoc-stat and
 * asoc-bench do not hash anything.
 */
#ifndef ASOC_CLI_CHECKPOINT_H
#define ASOC_CLI_CHECKPOINT_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#define CLI_CKPT_ENV		"ASOC_CHECKPOINT_DIR"
#define CLI_CKPT_VERSION	1
#define CLI_SHA_LEN		32

/* A running SHA-256 (OpenSSL EVP underneath). */
struct cli_sha {
	void *ctx;
};

void cli_sha_init(struct cli_sha *s);	/* dies when out of memory */
void cli_sha_update(struct cli_sha *s, const void *p, size_t len);
/* The digest of what went in so far; s goes on. */
void cli_sha_peek(const struct cli_sha *s, unsigned char out[CLI_SHA_LEN]);
void cli_sha_free(struct cli_sha *s);
/* Feeds bytes [0, len) of fd into s, through buf (bufsize bytes).
 * Returns 0, or -1 with errno (0 when the file is shorter than len). */
int cli_sha_file(struct cli_sha *s, int fd, uint64_t len, unsigned char *buf,
    size_t bufsize);
/* "9f86...": 2 * CLI_SHA_LEN hex digits and a NUL. */
void cli_sha_hex(const unsigned char sha[CLI_SHA_LEN],
    char out[2 * CLI_SHA_LEN + 1]);

/* The directory named by ASOC_CHECKPOINT_DIR, or NULL when unset/empty. */
const char *cli_ckpt_dir(void);

struct cli_ckpt {
	char path[PATH_MAX];	/* the checkpoint file, for messages */
	int dirfd;		/* the checkpoint folder, checked once */
	char name[NAME_MAX + 1];	/* the checkpoint file in dirfd */
	char output[PATH_MAX];	/* absolute path of the final output */
	uint64_t size;		/* the source's size ... */
	int64_t mtime_sec;	/* ... and mtime: its identity */
	uint32_t mtime_nsec;
	uint64_t offset;	/* confirmed bytes */
	unsigned char sha[CLI_SHA_LEN];	/* of those bytes */
};

/*
 * Names the checkpoint of output file `output` in `dir` (created, mode
 * 0700, if missing): "<basename>.<16 hex of SHA-256(absolute path)>.ckpt".
 * An existing `dir` must belong to the caller and be writable by no one
 * else: files are only ever opened in it by name, relative to the folder
 * checked, and never through a symbolic link.  Returns 0, or -1 with *why
 * (a whole sentence, saying what to do).
 */
int cli_ckpt_init(struct cli_ckpt *ck, const char *dir, const char *output,
    const char **why);
/* Returns 1 with *ck filled, 0 when there is none, -1 with *why when it
 * cannot be read or is not a checkpoint of this output. */
int cli_ckpt_load(struct cli_ckpt *ck, const char **why);
/* Atomically replaces the checkpoint.  Returns 0, or -1 with errno. */
int cli_ckpt_save(const struct cli_ckpt *ck);
void cli_ckpt_remove(const struct cli_ckpt *ck);

#endif
