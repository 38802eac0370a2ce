/*
 * check_bench_pattern.c: asoc-bench's tensor pattern and its one-pass
 * check of a received tensor (client/bench-pattern.c).  A tensor written
 * in one pass with its stamp equals one written plain and then stamped
 * (as --window restamps its slots); the check finds what a comparison
 * with a reference copy found: a tensor made as the sender makes it
 * passes; a wrong byte, a stale stamp, a word at the wrong offset or a
 * stray byte past the last whole word each fail it, and the count is of
 * bytes.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "bench-pattern.h"
#include "check-main.h"

static unsigned char buf[3 * 4096 * 8 + 24];

/* A tensor of size at buf + off, as asoc-bench's sender makes message
 * stamp: a fresh (zero) buffer, filled once, then stamped. */
static unsigned char *
tensor(size_t off, size_t size, uint64_t stamp)
{
	memset(buf, 0, sizeof buf);
	bench_tensor(buf + off, size, 0);
	bench_stamp(buf + off, size, stamp);
	return buf + off;
}

/* What the check replaced: the bytes that differ from a reference copy. */
static uint64_t
by_reference(const unsigned char *got, size_t size, uint64_t stamp)
{
	static unsigned char ref[sizeof buf];
	uint64_t bad = 0;
	size_t i;

	memset(ref, 0, size);
	bench_tensor(ref, size, 0);
	bench_stamp(ref, size, stamp);
	for (i = 0; i < size; i++)
		bad += got[i] != ref[i];
	return bad;
}

START_TEST(sent_tensor_passes)
{
	/* Whole blocks, a partial last block, a size that is not a number
	 * of words, one word, less than a word; at an odd offset (a slice
	 * of a window of odd-sized messages) too. */
	static const size_t sizes[] = { 3 * 4096 * 8, 4096 * 8 + 40,
	    12345, 8, 5, 0 };
	size_t i, off;

	for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
		for (off = 0; off < 8; off += 3) {
			unsigned char *t = tensor(off, sizes[i], 7);

			ck_assert_uint_eq(bench_check(t, sizes[i], 7), 0);
			ck_assert_uint_eq(by_reference(t, sizes[i], 7), 0);
		}
}
END_TEST

START_TEST(one_pass_fill_same)
{
	static unsigned char two[sizeof buf];
	static const size_t sizes[] = { 3 * 4096 * 8, 4096 * 8 + 40,
	    12345, 5 };
	size_t i;

	for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		tensor(3, sizes[i], 9);
		memcpy(two, buf, sizeof buf);
		memset(buf, 0, sizeof buf);
		bench_tensor(buf + 3, sizes[i], 9);
		ck_assert_mem_eq(buf, two, sizeof buf);
		ck_assert_uint_eq(bench_check(buf + 3, sizes[i], 9), 0);
	}
}
END_TEST

START_TEST(wrong_byte_counted)
{
	size_t size = 3 * 4096 * 8, at[] = { 0, 1, 4095, 4096, 70000,
	    size - 1 }, i;
	unsigned char *t;

	for (i = 0; i < sizeof at / sizeof at[0]; i++) {
		t = tensor(0, size, 3);
		t[at[i]] ^= 0x40;
		ck_assert_uint_eq(bench_check(t, size, 3), 1);
	}
	/* Three bytes of one word and one of another: 4, as by reference. */
	t = tensor(0, size, 3);
	t[16] ^= 1;
	t[17] ^= 2;
	t[23] ^= 3;
	t[9000] ^= 4;
	ck_assert_uint_eq(bench_check(t, size, 3), 4);
	ck_assert_uint_eq(by_reference(t, size, 3), 4);
}
END_TEST

START_TEST(stale_stamp_fails)
{
	size_t size = 3 * 4096 * 8;
	unsigned char *t = tensor(0, size, 4);

	/* The previous message left in the buffer: every stamped word (one
	 * per 4 KiB) is wrong, and nothing else. */
	ck_assert_uint_gt(bench_check(t, size, 5), 0);
	ck_assert_uint_eq(bench_check(t, size, 5), by_reference(t, size,
	    5));
}
END_TEST

START_TEST(misplaced_word_fails)
{
	size_t size = 4096 * 8;
	unsigned char *t = tensor(0, size, 1), w[8];

	/* Two words swapped: the bytes are all there, at the wrong places. */
	memcpy(w, t + 800, 8);
	memcpy(t + 800, t + 808, 8);
	memcpy(t + 808, w, 8);
	ck_assert_uint_gt(bench_check(t, size, 1), 0);
	ck_assert_uint_eq(bench_check(t, size, 1), by_reference(t, size,
	    1));
}
END_TEST

START_TEST(tail_byte_checked)
{
	size_t size = 4096 + 5;
	unsigned char *t = tensor(0, size, 2);

	t[size - 2] = 0x7f;
	ck_assert_uint_eq(bench_check(t, size, 2), 1);
	t = tensor(0, 5, 2);
	t[0] = 1;
	ck_assert_uint_eq(bench_check(t, 5, 2), 1);
}
END_TEST

int
main(void)
{
	return check_run(check_suite("bench_pattern", "core", NULL, NULL, 10,
	    CHECK_TESTS(sent_tensor_passes, one_pass_fill_same,
	    wrong_byte_counted,
	    stale_stamp_fails, misplaced_word_fails, tail_byte_checked)),
	    NULL);
}
