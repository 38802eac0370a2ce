/*
 * check_stream.c: the asoc-send stream messages (versions 1 and 2) and
 * asoc-recv's checkpoint file: round trips, and refusal of what is wrong.
 */
#include "config.h"

#include "check-main.h"
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cli-checkpoint.h"

START_TEST(header_versions)
{
	struct cli_stream_hdr a = { .version = CLI_STREAM_VERSION,
	    .total = 12345, .chunk = 1 << 20 }, b;
	unsigned char buf[CLI_STREAM_HDR2_LEN];
	const char *why;
	size_t n;

	/* Version 1 stays byte for byte what older asoc-recv reads. */
	ck_assert_uint_eq(cli_stream_hdr_encode(&a, buf), CLI_STREAM_HDR_LEN);
	ck_assert_int_eq(cli_stream_hdr_decode(buf, CLI_STREAM_HDR_LEN, &b,
	    &why), 0);
	ck_assert_uint_eq(b.version, 1);
	ck_assert_uint_eq(b.total, 12345);
	ck_assert_int_eq(cli_stream_hdr_decode(buf, CLI_STREAM_HDR2_LEN, &b,
	    &why), -1);

	a.version = CLI_STREAM_VERSION_RESUME;
	a.mtime_sec = 1764571234;
	a.mtime_nsec = 999999999;
	ck_assert_uint_eq(cli_stream_hdr_encode(&a, buf), CLI_STREAM_HDR2_LEN);
	ck_assert_int_eq(cli_stream_hdr_decode(buf, CLI_STREAM_HDR2_LEN, &b,
	    &why), 0);
	ck_assert_uint_eq(b.version, 2);
	ck_assert_int_eq(b.mtime_sec, a.mtime_sec);
	ck_assert_uint_eq(b.mtime_nsec, a.mtime_nsec);
	for (n = 0; n < CLI_STREAM_HDR2_LEN; n++)
		ck_assert_int_eq(cli_stream_hdr_decode(buf, n, &b, &why), -1);

	/* A resumable stream must know its size; nanoseconds stay < 1e9. */
	a.total = CLI_SIZE_UNKNOWN;
	cli_stream_hdr_encode(&a, buf);
	ck_assert_int_eq(cli_stream_hdr_decode(buf, CLI_STREAM_HDR2_LEN, &b,
	    &why), -1);
	a.total = 1;
	a.mtime_nsec = 1000000000;
	cli_stream_hdr_encode(&a, buf);
	ck_assert_int_eq(cli_stream_hdr_decode(buf, CLI_STREAM_HDR2_LEN, &b,
	    &why), -1);

	buf[8] = 3;			/* a version from the future */
	ck_assert_int_eq(cli_stream_hdr_decode(buf, CLI_STREAM_HDR2_LEN, &b,
	    &why), -1);
	ck_assert_ptr_nonnull(strstr(why, "update asoc-recv"));
}
END_TEST

START_TEST(trailer_and_replies)
{
	struct cli_stream_trl t = { CLI_STREAM_OK, 7, 1, 1, { 0 } }, u;
	struct cli_stream_resume r = { CLI_RESUME_SOURCE_CHANGED, 4096,
	    { 0 } }, q;
	unsigned char buf[CLI_STREAM_TRL2_LEN];
	const char *why;
	uint64_t v;
	uint32_t status;

	memset(t.sha, 0x5a, sizeof t.sha);
	ck_assert_uint_eq(cli_stream_trl_encode(&t, buf), CLI_STREAM_TRL2_LEN);
	ck_assert(cli_stream_is_trl(buf, CLI_STREAM_TRL2_LEN));
	ck_assert_int_eq(cli_stream_trl_decode(buf, CLI_STREAM_TRL2_LEN, &u,
	    &why), 0);
	ck_assert(u.has_sha);
	ck_assert_mem_eq(u.sha, t.sha, CLI_STREAM_SHA_LEN);
	ck_assert_int_eq(cli_stream_trl_decode(buf, CLI_STREAM_TRL_LEN, &u,
	    &why), 0);
	ck_assert(!u.has_sha);
	ck_assert_int_eq(cli_stream_trl_decode(buf, 40, &u, &why), -1);

	memset(r.sha, 0xc3, sizeof r.sha);
	cli_stream_resume_encode(&r, buf);
	ck_assert(!cli_stream_is_trl(buf, CLI_STREAM_RESUME_LEN));
	ck_assert_int_eq(cli_stream_resume_decode(buf, CLI_STREAM_RESUME_LEN,
	    &q, &why), 0);
	ck_assert_uint_eq(q.offset, 4096);
	ck_assert_uint_eq(q.flags, CLI_RESUME_SOURCE_CHANGED);
	ck_assert_mem_eq(q.sha, r.sha, CLI_STREAM_SHA_LEN);
	buf[12] = 0x80;			/* a flag this sender does not know */
	ck_assert_int_eq(cli_stream_resume_decode(buf, CLI_STREAM_RESUME_LEN,
	    &q, &why), -1);

	cli_stream_start_encode(1ULL << 40, buf);
	ck_assert_int_eq(cli_stream_start_decode(buf, CLI_STREAM_START_LEN, &v,
	    &why), 0);
	ck_assert_uint_eq(v, 1ULL << 40);
	ck_assert_int_eq(cli_stream_start_decode(buf, CLI_STREAM_START_LEN - 1,
	    &v, &why), -1);

	cli_stream_done_encode(CLI_STREAM_DAMAGED, 99, buf);
	ck_assert_int_eq(cli_stream_done_decode(buf, CLI_STREAM_DONE_LEN,
	    &status, &v, &why), 0);
	ck_assert_uint_eq(status, CLI_STREAM_DAMAGED);
	ck_assert_uint_eq(v, 99);
	buf[12] = 7;
	ck_assert_int_eq(cli_stream_done_decode(buf, CLI_STREAM_DONE_LEN,
	    &status, &v, &why), -1);
}
END_TEST

START_TEST(sha256)
{
	static const char abc_hex[] = "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad";
	char tmpl[] = "/tmp/check_stream.XXXXXX", hex[2 * CLI_SHA_LEN + 1];
	unsigned char d[CLI_SHA_LEN], scratch[2];
	struct cli_sha s;
	int fd = mkstemp(tmpl);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "abcdef", 6), 6);
	/* Through a 2-byte scratch buffer: the range is what counts. */
	cli_sha_init(&s);
	ck_assert_int_eq(cli_sha_file(&s, fd, 3, scratch, sizeof scratch), 0);
	cli_sha_peek(&s, d);
	cli_sha_hex(d, hex);
	ck_assert_str_eq(hex, abc_hex);
	cli_sha_free(&s);
	cli_sha_init(&s);
	ck_assert_int_eq(cli_sha_file(&s, fd, 7, scratch, sizeof scratch), -1);
	cli_sha_free(&s);
	close(fd);
	unlink(tmpl);
}
END_TEST

START_TEST(checkpoint_file)
{
	char dir[] = "/tmp/check_stream.XXXXXX", out[PATH_MAX], sub[PATH_MAX];
	struct cli_ckpt a, b, other;
	const char *why = NULL;
	FILE *f;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(out, sizeof out, "%s/out file.bin", dir);
	snprintf(sub, sizeof sub, "%s/ck", dir);
	ck_assert_int_eq(cli_ckpt_init(&a, sub, out, &why), 0);
	ck_assert_int_eq(cli_ckpt_load(&a, &why), 0);	/* none yet */

	a.size = 1000;
	a.mtime_sec = 1764571234;
	a.mtime_nsec = 5;
	a.offset = 512;
	memset(a.sha, 0x11, sizeof a.sha);
	ck_assert_int_eq(cli_ckpt_save(&a), 0);
	ck_assert_int_eq(cli_ckpt_init(&b, sub, out, &why), 0);
	ck_assert_str_eq(b.path, a.path);
	ck_assert_int_eq(cli_ckpt_load(&b, &why), 1);
	ck_assert_uint_eq(b.size, 1000);
	ck_assert_int_eq(b.mtime_sec, a.mtime_sec);
	ck_assert_uint_eq(b.mtime_nsec, 5);
	ck_assert_uint_eq(b.offset, 512);
	ck_assert_mem_eq(b.sha, a.sha, CLI_SHA_LEN);

	/* Another output has another name; a copied file is refused. */
	snprintf(out, sizeof out, "%s/other.bin", dir);
	ck_assert_int_eq(cli_ckpt_init(&other, sub, out, &why), 0);
	ck_assert_str_ne(other.path, a.path);
	ck_assert_int_eq(rename(a.path, other.path), 0);
	ck_assert_int_eq(cli_ckpt_load(&other, &why), -1);
	ck_assert_ptr_nonnull(strstr(why, "another output"));

	/* Damaged: an offset past the size, then a truncated file. */
	a.offset = 1001;
	ck_assert_int_eq(cli_ckpt_save(&a), 0);
	ck_assert_int_eq(cli_ckpt_load(&b, &why), -1);
	f = fopen(a.path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("asoc-recv checkpoint 1\noutput ", f);
	fclose(f);
	ck_assert_int_eq(cli_ckpt_load(&b, &why), -1);

	cli_ckpt_remove(&a);
	unlink(other.path);
	ck_assert_int_eq(rmdir(sub), 0);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

static Suite *
stream_suite(void)
{
	return check_suite("asoc-send stream and checkpoints", "codec", NULL,
	    NULL, 10,
	    CHECK_TESTS(header_versions, trailer_and_replies, sha256,
	    checkpoint_file));
}

int
main(void)
{
	cli_init("check_stream");
	return check_run(stream_suite(), NULL);
}
