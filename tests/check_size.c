/*
 * check_size.c: the one size parser (common/size_parse.c) that asocd's
 * settings and the command-line tools share: every form either of the
 * two parsers it replaced took, and what it refuses.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include "check-main.h"
#include "size_parse.h"

static uint64_t
ok(const char *s)
{
	uint64_t v = 12345;

	ck_assert_msg(size_parse(s, &v) == SIZE_PARSE_OK, "'%s' refused", s);
	return v;
}

START_TEST(forms)
{
	ck_assert_uint_eq(ok("0"), 0);
	ck_assert_uint_eq(ok("4096"), 4096);
	ck_assert_uint_eq(ok("0x1000"), 4096);
	ck_assert_uint_eq(ok("512B"), 512);
	ck_assert_uint_eq(ok("64K"), 64u << 10);
	ck_assert_uint_eq(ok("64k"), 64u << 10);
	ck_assert_uint_eq(ok("4M"), 4u << 20);
	ck_assert_uint_eq(ok("4MB"), 4u << 20);
	ck_assert_uint_eq(ok("4Mi"), 4u << 20);
	ck_assert_uint_eq(ok("2MiB"), 2u << 20);
	ck_assert_uint_eq(ok("1g"), 1u << 30);
	ck_assert_uint_eq(ok("3T"), 3ULL << 40);
	ck_assert_uint_eq(ok("18446744073709551615"), UINT64_MAX);
	ck_assert_uint_eq(ok("16777215T"), 16777215ULL << 40);
}
END_TEST

START_TEST(refused)
{
	static const char *bad[] = { "", "M", "-1", "+1", " 1", "1 ", "4X",
	    "4iB", "4i", "4KK", "4KiBB", "0x", "1.5M", "4BB" };
	uint64_t v = 7;
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_msg(size_parse(bad[i], &v) == SIZE_PARSE_SYNTAX,
		    "'%s' taken", bad[i]);
	ck_assert_int_eq(size_parse(NULL, &v), SIZE_PARSE_SYNTAX);
	ck_assert_int_eq(size_parse("99999999999999999999", &v),
	    SIZE_PARSE_RANGE);
	ck_assert_int_eq(size_parse("16777216T", &v), SIZE_PARSE_RANGE);
	ck_assert_int_eq(size_parse("99999999999999G", &v), SIZE_PARSE_RANGE);
	ck_assert_uint_eq(v, 7);	/* untouched on every error */
}
END_TEST

static Suite *
size_suite(void)
{
	return check_suite("size", "parse", NULL, NULL, 0,
	    CHECK_TESTS(forms, refused));
}

int
main(void)
{
	return check_run(size_suite(), NULL);
}
