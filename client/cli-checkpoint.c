/*
 * cli-checkpoint.c: SHA-256 and the receiver's checkpoint file for
 * resumable transfers (see cli-checkpoint.h).
 */
#include "cli-checkpoint.h"

#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "cli.h"

#define CKPT_MAX	(2 * PATH_MAX + 512)	/* a bigger file is not ours */
#define CKPT_MAGIC	"asoc-recv checkpoint"

void
cli_sha_init(struct cli_sha *s)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();

	if (c == NULL || EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1)
		cli_die("cannot set up SHA-256 (out of memory?)");
	s->ctx = c;
}

void
cli_sha_update(struct cli_sha *s, const void *p, size_t len)
{
	if (EVP_DigestUpdate(s->ctx, p, len) != 1)
		cli_die("SHA-256 failed");
}

void
cli_sha_peek(const struct cli_sha *s, unsigned char out[CLI_SHA_LEN])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	unsigned int n = 0;

	/* Finalising a copy leaves the running digest to go on. */
	if (c == NULL || EVP_MD_CTX_copy_ex(c, s->ctx) != 1 ||
	    EVP_DigestFinal_ex(c, out, &n) != 1 || n != CLI_SHA_LEN)
		cli_die("SHA-256 failed (out of memory?)");
	EVP_MD_CTX_free(c);
}

void
cli_sha_free(struct cli_sha *s)
{
	EVP_MD_CTX_free(s->ctx);
	s->ctx = NULL;
}

int
cli_sha_file(struct cli_sha *s, int fd, uint64_t len, unsigned char *buf,
    size_t bufsize)
{
	uint64_t off = 0;
	ssize_t n;

	while (off < len) {
		n = pread(fd, buf, len - off < bufsize ? (size_t)(len - off) :
		    bufsize, (off_t)off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = 0;
			return -1;
		}
		cli_sha_update(s, buf, (size_t)n);
		off += (uint64_t)n;
	}
	return 0;
}

void
cli_sha_hex(const unsigned char sha[CLI_SHA_LEN],
    char out[2 * CLI_SHA_LEN + 1])
{
	int i;

	for (i = 0; i < CLI_SHA_LEN; i++)
		snprintf(out + 2 * i, 3, "%02x", sha[i]);
}

static int
ckpt_unhex(const char *in, unsigned char sha[CLI_SHA_LEN])
{
	unsigned v;
	int i;

	if (strlen(in) != 2 * CLI_SHA_LEN)
		return -1;
	for (i = 0; i < CLI_SHA_LEN; i++) {
		if (!isxdigit((unsigned char)in[2 * i]) ||
		    !isxdigit((unsigned char)in[2 * i + 1]) ||
		    sscanf(in + 2 * i, "%2x", &v) != 1)
			return -1;
		sha[i] = (unsigned char)v;
	}
	return 0;
}

const char *
cli_ckpt_dir(void)
{
	const char *d = getenv(CLI_CKPT_ENV);

	return d != NULL && *d != '\0' ? d : NULL;
}

/*
 * Opens the checkpoint folder and checks it is the caller's own: anyone
 * else who may write in it could swap a checkpoint or plant a link where
 * a file is about to be written.  The checks are on the folder opened,
 * so a link swapped in afterwards changes nothing.
 */
static int
ckpt_open_dir(const char *dir, const char **why)
{
	static char msg[PATH_MAX + 256];
	struct stat sb;
	int fd;

	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		snprintf(msg, sizeof msg, "cannot create the folder: %s",
		    strerror(errno));
		*why = msg;
		return -1;
	}
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &sb) == -1) {
		snprintf(msg, sizeof msg, "cannot open the folder: %s",
		    strerror(errno));
		if (fd != -1)
			close(fd);
		*why = msg;
		return -1;
	}
	if (sb.st_uid != geteuid()) {
		snprintf(msg, sizeof msg, "the folder belongs to uid %lu, not "
		    "to you (uid %lu): checkpoints must be in a folder of your "
		    "own; point %s at one", (unsigned long)sb.st_uid,
		    (unsigned long)geteuid(), CLI_CKPT_ENV);
		close(fd);
		*why = msg;
		return -1;
	}
	if (sb.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(msg, sizeof msg, "the folder is writable by %s (mode "
		    "%04o): others could replace checkpoints; run 'chmod go-w "
		    "%s' or point %s at a private folder",
		    sb.st_mode & S_IWOTH ? "everyone" : "its group",
		    (unsigned)(sb.st_mode & 07777), dir, CLI_CKPT_ENV);
		close(fd);
		*why = msg;
		return -1;
	}
	return fd;
}

int
cli_ckpt_init(struct cli_ckpt *ck, const char *dir, const char *output,
    const char **why)
{
	char dcopy[PATH_MAX], bcopy[PATH_MAX], real[PATH_MAX], name[80];
	char hex[2 * CLI_SHA_LEN + 1];
	unsigned char sha[CLI_SHA_LEN];
	struct cli_sha s;
	const char *base;
	size_t i, n;

	memset(ck, 0, sizeof *ck);
	ck->dirfd = -1;
	if (strlen(output) >= sizeof dcopy) {
		*why = "the output path is too long";
		return -1;
	}
	/* The key is the output's absolute path, through symlinks, so that
	 * a rerun from another directory finds the same checkpoint. */
	strcpy(dcopy, output);
	strcpy(bcopy, output);
	base = basename(bcopy);
	if (realpath(dirname(dcopy), real) == NULL) {
		*why = "cannot resolve the output's directory";
		return -1;
	}
	if ((size_t)snprintf(ck->output, sizeof ck->output, "%s/%s",
	    strcmp(real, "/") == 0 ? "" : real, base) >= sizeof ck->output) {
		*why = "the output path is too long";
		return -1;
	}
	cli_sha_init(&s);
	cli_sha_update(&s, ck->output, strlen(ck->output));
	cli_sha_peek(&s, sha);
	cli_sha_free(&s);
	cli_sha_hex(sha, hex);
	/* The base name is only there for people listing the folder. */
	n = strlen(base) < 40 ? strlen(base) : 40;
	for (i = 0; i < n; i++)
		name[i] = isalnum((unsigned char)base[i]) || base[i] == '.' ||
		    base[i] == '-' || base[i] == '_' ? base[i] : '_';
	name[n] = '\0';
	snprintf(ck->name, sizeof ck->name, "%s.%.16s.ckpt", name, hex);
	if ((size_t)snprintf(ck->path, sizeof ck->path, "%s/%s", dir,
	    ck->name) >= sizeof ck->path) {
		*why = "the folder's path is too long";
		return -1;
	}
	if ((ck->dirfd = ckpt_open_dir(dir, why)) == -1)
		return -1;
	return 0;
}

/* Splits "key value" lines; value runs to the end of the line. */
static const char *
ckpt_field(char *text, const char *key)
{
	size_t klen = strlen(key);
	char *line;

	for (line = text; *line != '\0'; line = strchr(line, '\0') + 1) {
		if (strncmp(line, key, klen) == 0 && line[klen] == ' ')
			return line + klen + 1;
	}
	return NULL;
}

static int
ckpt_u64(const char *s, uint64_t *v)
{
	char *end;

	if (s == NULL || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return errno != 0 || *end != '\0' ? -1 : 0;
}

int
cli_ckpt_load(struct cli_ckpt *ck, const char **why)
{
	char text[CKPT_MAX + 1], *p;
	const char *v;
	uint64_t ver, sec, nsec;
	ssize_t n;
	size_t len = 0;
	int fd;

	if ((fd = openat(ck->dirfd, ck->name, O_RDONLY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			return 0;
		*why = errno == ELOOP ? "it is a symbolic link (not made by "
		    "asoc-recv)" : "cannot open it";
		return -1;
	}
	while (len < sizeof text - 1 &&
	    (n = read(fd, text + len, sizeof text - 1 - len)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			close(fd);
			*why = "cannot read it";
			return -1;
		}
		len += (size_t)n;
	}
	close(fd);
	if (len == sizeof text - 1) {
		*why = "it is too large to be a checkpoint";
		return -1;
	}
	text[len] = '\0';
	if (memchr(text, '\0', len) != NULL) {
		*why = "it holds binary garbage";
		return -1;
	}
	/* One NUL per line, so that a field is a C string. */
	for (p = text; (p = strchr(p, '\n')) != NULL; )
		*p++ = '\0';
	v = ckpt_field(text, CKPT_MAGIC);
	if (v == NULL || ckpt_u64(v, &ver) == -1 || ver != CLI_CKPT_VERSION) {
		*why = "it is not a version 1 asoc-recv checkpoint";
		return -1;
	}
	if ((v = ckpt_field(text, "output")) == NULL ||
	    strcmp(v, ck->output) != 0) {
		*why = "it belongs to another output file";
		return -1;
	}
	if (ckpt_u64(ckpt_field(text, "source-size"), &ck->size) == -1 ||
	    ckpt_u64(ckpt_field(text, "offset"), &ck->offset) == -1 ||
	    ck->offset > ck->size ||
	    (v = ckpt_field(text, "source-mtime")) == NULL ||
	    sscanf(v, "%" SCNu64 ".%9" SCNu64, &sec, &nsec) != 2 ||
	    sec > INT64_MAX || nsec > 999999999 ||
	    (v = ckpt_field(text, "sha256")) == NULL ||
	    ckpt_unhex(v, ck->sha) == -1) {
		*why = "it is damaged (a field is missing or wrong)";
		return -1;
	}
	ck->mtime_sec = (int64_t)sec;
	ck->mtime_nsec = (uint32_t)nsec;
	return 1;
}

int
cli_ckpt_save(const struct cli_ckpt *ck)
{
	char tmp[NAME_MAX + 8], hex[2 * CLI_SHA_LEN + 1];
	FILE *f;
	int fd, e;

	if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", ck->name) >=
	    sizeof tmp) {
		errno = ENAMETOOLONG;
		return -1;
	}
	/* A .tmp left by a killed run goes first; the new one is created,
	 * never opened through whatever may be under that name. */
	if (unlinkat(ck->dirfd, tmp, 0) == -1 && errno != ENOENT)
		return -1;
	fd = openat(ck->dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (fd == -1)
		return -1;
	if ((f = fdopen(fd, "w")) == NULL) {
		e = errno;
		close(fd);
		goto fail;
	}
	cli_sha_hex(ck->sha, hex);
	fprintf(f, CKPT_MAGIC " %d\noutput %s\nsource-size %" PRIu64 "\n"
	    "source-mtime %" PRId64 ".%09" PRIu32 "\noffset %" PRIu64 "\n"
	    "sha256 %s\n", CLI_CKPT_VERSION, ck->output, ck->size,
	    ck->mtime_sec, ck->mtime_nsec, ck->offset, hex);
	if (fflush(f) != 0 || fsync(fileno(f)) == -1) {
		e = errno;
		fclose(f);
		goto fail;
	}
	if (fclose(f) != 0) {
		e = errno;
		goto fail;
	}
	if (renameat(ck->dirfd, tmp, ck->dirfd, ck->name) == -1) {
		e = errno;
		goto fail;
	}
	/* The rename itself must survive a crash of the node. */
	fsync(ck->dirfd);
	return 0;
fail:
	unlinkat(ck->dirfd, tmp, 0);
	errno = e;
	return -1;
}

void
cli_ckpt_remove(const struct cli_ckpt *ck)
{
	unlinkat(ck->dirfd, ck->name, 0);
}
