/*
 * check_hostlist.c: unit tests for daemon/hostlist.c.
 *
 * Expansions are compared as one "host:port host:port ..." string, so a
 * failure shows the whole list that came out.
 */
#include "check-main.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostlist.h"

static struct hostlist_entry *list;
static size_t nlist;
static char err[256];

static void
hl_setup(void)
{
	list = NULL;
	nlist = 0;
	memset(err, 0, sizeof err);
}

static void
hl_teardown(void)
{
	free(list);
	list = NULL;
}

/* Expands spec, expecting success, and returns the list as one string. */
static const char *
hl_expand(const char *spec, uint16_t port)
{
	static char buf[4096];
	size_t i, off = 0;
	int rc;

	free(list);
	list = NULL;
	rc = hostlist_expand(spec, port, &list, &nlist, err, sizeof err);
	ck_assert_msg(rc == 0, "'%s' failed: %s", spec, err);
	ck_assert_ptr_nonnull(list);
	ck_assert_uint_gt(nlist, 0);
	buf[0] = '\0';
	for (i = 0; i < nlist && off < sizeof buf; i++) {
		off += (size_t)snprintf(buf + off, sizeof buf - off, "%s%s:%u",
		    i > 0 ? " " : "", list[i].host, list[i].port);
	}
	return buf;
}

/* Expands spec, expecting failure with a message holding both needles. */
static void
hl_fail(const char *spec, const char *what, const char *quoted)
{
	struct hostlist_entry *l = (struct hostlist_entry *)&l;
	size_t n = 12345;
	int rc;

	memset(err, 0, sizeof err);
	rc = hostlist_expand(spec, 9000, &l, &n, err, sizeof err);
	ck_assert_msg(rc == -1, "'%s' was accepted", spec);
	ck_assert_ptr_null(l);
	ck_assert_uint_eq(n, 0);
	ck_assert_msg(err[0] != '\0', "'%s': no message", spec);
	ck_assert_msg(strstr(err, what) != NULL,
	    "'%s': message \"%s\" lacks \"%s\"", spec, err, what);
	if (quoted != NULL) {
		char q[300];

		snprintf(q, sizeof q, "'%s'", quoted);
		ck_assert_msg(strstr(err, q) != NULL,
		    "'%s': message \"%s\" does not quote %s", spec, err, q);
	}
}

/* A run of n copies of c, for names near the length limit. */
static const char *
hl_repeat(char c, size_t n, const char *suffix)
{
	static char buf[256];

	memset(buf, c, n);
	snprintf(buf + n, sizeof buf - n, "%s", suffix);
	return buf;
}

/* --- plain lists --- */

START_TEST(plain_single)
{
	ck_assert_str_eq(hl_expand("alpha", 9000), "alpha:9000");
	ck_assert_uint_eq(nlist, 1);
}
END_TEST

START_TEST(plain_list)
{
	ck_assert_str_eq(hl_expand("a,b.example.org,c_1,d-2", 7),
	    "a:7 b.example.org:7 c_1:7 d-2:7");
}
END_TEST

START_TEST(plain_ports)
{
	ck_assert_str_eq(hl_expand("host1,host2:9001,10.0.0.3", 9000),
	    "host1:9000 host2:9001 10.0.0.3:9000");
	ck_assert_str_eq(hl_expand("a:1,b:65535", 9000), "a:1 b:65535");
}
END_TEST

START_TEST(plain_default_port)
{
	ck_assert_str_eq(hl_expand("x,y", 4242), "x:4242 y:4242");
	ck_assert_str_eq(hl_expand("x:80,y", 1), "x:80 y:1");
}
END_TEST

START_TEST(plain_ipv4)
{
	ck_assert_str_eq(hl_expand("127.0.0.1:9001,10.1.2.3", 9000),
	    "127.0.0.1:9001 10.1.2.3:9000");
}
END_TEST

START_TEST(plain_whitespace)
{
	ck_assert_str_eq(hl_expand("  a ,\tb:5 ,\nc  ", 9),
	    "a:9 b:5 c:9");
}
END_TEST

START_TEST(plain_longest_name)
{
	char want[128];
	const char *spec = hl_repeat('h', HOSTLIST_HOST_MAX - 1, ":12");

	snprintf(want, sizeof want, "%s", spec);
	ck_assert_str_eq(hl_expand(spec, 9000), want);
	ck_assert_uint_eq(strlen(list[0].host), HOSTLIST_HOST_MAX - 1);
}
END_TEST

static Suite *
plain_suite(void)
{
	return check_suite("hostlist plain", "plain", hl_setup, hl_teardown, 10,
	    CHECK_TESTS(plain_single, plain_list, plain_ports,
	    plain_default_port, plain_ipv4, plain_whitespace,
	    plain_longest_name));
}

/* --- ranges --- */

START_TEST(range_simple)
{
	ck_assert_str_eq(hl_expand("n[1-3]", 9000), "n1:9000 n2:9000 n3:9000");
	ck_assert_str_eq(hl_expand("n[5]", 9000), "n5:9000");
	ck_assert_str_eq(hl_expand("[1-2]x", 9000), "1x:9000 2x:9000");
}
END_TEST

START_TEST(range_list)
{
	ck_assert_str_eq(hl_expand("node[001-004,007]", 1),
	    "node001:1 node002:1 node003:1 node004:1 node007:1");
	ck_assert_str_eq(hl_expand("n[3,1,2-2]", 1), "n3:1 n1:1 n2:1");
}
END_TEST

START_TEST(range_padding)
{
	ck_assert_str_eq(hl_expand("node[08-10]", 1),
	    "node08:1 node09:1 node10:1");
	ck_assert_str_eq(hl_expand("n[8-10]", 1), "n8:1 n9:1 n10:1");
	ck_assert_str_eq(hl_expand("n[0098-0100]", 1),
	    "n0098:1 n0099:1 n0100:1");
	/* The width is lo's; hi's zeros do not widen the shorter numbers. */
	ck_assert_str_eq(hl_expand("n[9-010]", 1), "n9:1 n10:1");
	ck_assert_str_eq(hl_expand("n[00]", 1), "n00:1");
}
END_TEST

START_TEST(range_port)
{
	ck_assert_str_eq(hl_expand("gpu[1-2]:9100,cpu[1-2]", 9000),
	    "gpu1:9100 gpu2:9100 cpu1:9000 cpu2:9000");
}
END_TEST

START_TEST(range_groups)
{
	ck_assert_str_eq(hl_expand("rack[1-2]-n[1-2]", 1),
	    "rack1-n1:1 rack1-n2:1 rack2-n1:1 rack2-n2:1");
	ck_assert_str_eq(hl_expand("rack[1-2]-gpu[01-02]:9100", 1),
	    "rack1-gpu01:9100 rack1-gpu02:9100 rack2-gpu01:9100 "
	    "rack2-gpu02:9100");
	ck_assert_str_eq(hl_expand("x[1-2]y[3,5-6]z", 1),
	    "x1y3z:1 x1y5z:1 x1y6z:1 x2y3z:1 x2y5z:1 x2y6z:1");
	ck_assert_str_eq(hl_expand("[1-2][1-2]", 1), "11:1 12:1 21:1 22:1");
}
END_TEST

/* The last group varies fastest, like digits of a counter. */
START_TEST(range_cartesian_order)
{
	char want[32];
	size_t i;

	hl_expand("n[0-9][0-9][0-9][0-9]", 1);
	ck_assert_uint_eq(nlist, 10000);
	for (i = 0; i < nlist; i++) {
		snprintf(want, sizeof want, "n%zu%zu%zu%zu", i / 1000,
		    i / 100 % 10, i / 10 % 10, i % 10);
		ck_assert_str_eq(list[i].host, want);
	}
}
END_TEST

START_TEST(range_mixed_entries)
{
	ck_assert_str_eq(hl_expand("head:1,n[1-2],10.0.0.[7-8]:2", 3),
	    "head:1 n1:3 n2:3 10.0.0.7:2 10.0.0.8:2");
}
END_TEST

START_TEST(range_big_allowed)
{
	char want[32];

	hl_expand("n[1-65535]", 1);
	ck_assert_uint_eq(nlist, HOSTLIST_MAX_HOSTS);
	ck_assert_str_eq(list[0].host, "n1");
	ck_assert_str_eq(list[nlist - 1].host, "n65535");

	hl_expand("a[00001-30000],b[1-35535]:5", 1);
	ck_assert_uint_eq(nlist, HOSTLIST_MAX_HOSTS);
	ck_assert_str_eq(list[29999].host, "a30000");
	ck_assert_uint_eq(list[29999].port, 1);
	ck_assert_str_eq(list[30000].host, "b1");
	ck_assert_uint_eq(list[30000].port, 5);

	hl_expand("x[0-254]y[0-256]", 1);
	ck_assert_uint_eq(nlist, 255 * 257);

	/* Ten digits is the most a number may have. */
	hl_expand("n[9999999998-9999999999]", 1);
	ck_assert_str_eq(list[1].host, "n9999999999");

	/* Names up to the limit, the width counted from the widest number. */
	hl_expand(hl_repeat('h', HOSTLIST_HOST_MAX - 4, "[998-999]"), 1);
	snprintf(want, sizeof want, "h999");
	ck_assert_str_eq(list[1].host + HOSTLIST_HOST_MAX - 5, want);
	ck_assert_uint_eq(strlen(list[1].host), HOSTLIST_HOST_MAX - 1);
}
END_TEST

static Suite *
range_suite(void)
{
	return check_suite("hostlist ranges", "ranges", hl_setup,
	    hl_teardown, 20,
	    CHECK_TESTS(range_simple, range_list, range_padding, range_port,
	    range_groups, range_cartesian_order, range_mixed_entries,
	    range_big_allowed));
}

/* --- errors --- */

/* The specs that must fail, by the test (error_NAME) that tries them: the
 * message must hold the second string and, where the third is not NULL,
 * quote it. */
static const struct hl_bad {
	const char *test, *spec, *what, *quoted;
} hl_bad[] = {
	{ "empty", "", "empty", NULL },
	{ "empty", "   \t", "empty", NULL },
	{ "empty", NULL, "empty", NULL },
	{ "empty_entry", "a,,b", "empty entry", "a,,b" },
	{ "empty_entry", ",a", "empty entry", ",a" },
	{ "empty_entry", "a,", "empty entry", "a," },
	{ "empty_entry", "a, ,b", "empty entry", "a, ,b" },
	{ "empty_entry", ",", "empty entry", "," },
	{ "unbalanced", "node[1-3", "unbalanced '['", "node[1-3" },
	{ "unbalanced", "ok,node[1-3", "unbalanced '['", "node[1-3" },
	{ "unbalanced", "node[1-3,node5", "unbalanced '['", "node[1-3,node5" },
	{ "unbalanced", "n[1-3:80", "unbalanced '['", "n[1-3:80" },
	{ "unbalanced", "n1-3]", "unbalanced ']'", "n1-3]" },
	{ "unbalanced", "n[1]]", "unbalanced ']'", "n[1]]" },
	{ "unbalanced", "n]1[", "unbalanced ']'", "n]1[" },
	{ "unbalanced", "[", "unbalanced '['", "[" },
	{ "unbalanced", "]", "unbalanced ']'", "]" },
	{ "nested", "n[[1-3]]", "nested", "n[[1-3]]" },
	{ "nested", "n[1-[3]]", "nested", "n[1-[3]]" },
	{ "nested", "n[1,[2]]:5", "nested", "n[1,[2]]:5" },
	{ "empty_bracket", "n[]", "empty", "n[]" },
	{ "empty_bracket", "n[1][]", "empty", "n[1][]" },
	{ "bad_range", "n[a-3]", "bad character 'a'", "n[a-3]" },
	{ "bad_range", "n[1-b]", "bad character 'b'", "n[1-b]" },
	{ "bad_range", "n[1.5]", "bad character '.'", "n[1.5]" },
	{ "bad_range", "n[ 1]", "bad character ' '", "n[ 1]" },
	{ "bad_range", "n[+1]", "bad character '+'", "n[+1]" },
	{ "bad_range", "n[1,,2]", "range", "n[1,,2]" },
	{ "bad_range", "n[1-]", "range", "n[1-]" },
	{ "bad_range", "n[-1]", "range", "n[-1]" },
	{ "bad_range", "n[1,]", "range", "n[1,]" },
	{ "bad_range", "n[,1]", "range", "n[,1]" },
	{ "bad_range", "n[1-2-3]", "range", "n[1-2-3]" },
	{ "bad_range", "n[-]", "range", "n[-]" },
	{ "backwards", "n[9-2]", "range 9-2 runs backwards", "n[9-2]" },
	{ "backwards", "n[1-3,09-08]", "backwards", "n[1-3,09-08]" },
	{ "number_too_long", "n[12345678901]", "10 digits", "n[12345678901]" },
	{ "number_too_long", "n[1-12345678901]",
	    "10 digits", "n[1-12345678901]" },
	{ "number_too_long", "n[00000000001]", "10 digits", "n[00000000001]" },
	{ "number_too_long", "n[1-99999999999999999999999]",
	    "10 digits", NULL },
	{ "port", "a:", "port", "a:" },
	{ "port", "a:x", "port", "a:x" },
	{ "port", "a:12x", "port", "a:12x" },
	{ "port", "a:-1", "port", "a:-1" },
	{ "port", "a:+1", "port", "a:+1" },
	{ "port", "a:1 2", "port", "a:1 2" },
	{ "port", "a:1:2", "port", "a:1:2" },
	{ "port", "a:0", "port", "a:0" },
	{ "port", "a:65536", "port", "a:65536" },
	{ "port", "a:99999999999999999999", "port", "a:99999999999999999999" },
	{ "port", "b,n[1-2]:70000", "port", "n[1-2]:70000" },
	{ "empty_host", ":9000", "empty host", ":9000" },
	{ "empty_host", "a, :1", "empty host", ":1" },
	{ "bad_chars", "a$b", "bad character '$'", "a$b" },
	{ "bad_chars", "a b", "bad character ' '", "a b" },
	{ "bad_chars", "a/b", "bad character '/'", "a/b" },
	{ "bad_chars", "a@b", "bad character '@'", "a@b" },
	{ "bad_chars", "ok,a\tb", "bad character", "a\tb" },
	{ "bad_chars", "h\xc3\xa9", "bad character", NULL },
	{ "bad_chars", "a\x01", "bad character '?'", NULL },
	/* No IPv6 literals: the first ':' starts the port. */
	{ "bad_chars", "[::1]:80", "port", "[::1]:80" },
	{ "too_many", "n[0-65535]", "65535", "n[0-65535]" },
	{ "too_many", "n[1-65535],x", "65535", "x" },
	{ "too_many", "a[1-40000],b[1-40000]", "65535", "b[1-40000]" },
	{ "too_many", "n[0-9][0-9][0-9][0-9][0-9]", "65535", NULL },
	{ "too_many", "n[0-99999][0-99999][0-99999][0-99999]", "65535", NULL },
	{ "too_many", "n[1-5,1-65535]", "65535", NULL },
	/* Must fail at once, not after allocating or writing a billion names. */
	{ "too_many_fast", "n[0-999999999]", "65535", "n[0-999999999]" },
	{ "too_many_fast", "n[0-9999999999]", "65535", NULL },
	{ "too_many_fast", "n[0-9999999999][0-9999999999][0-9999999999]",
	    "65535", NULL },
};

/* Tries every spec of hl_bad that is test's. */
static void
hl_fail_all(const char *test)
{
	size_t i, n = 0;

	for (i = 0; i < sizeof hl_bad / sizeof hl_bad[0]; i++) {
		if (strcmp(hl_bad[i].test, test) != 0)
			continue;
		hl_fail(hl_bad[i].spec, hl_bad[i].what, hl_bad[i].quoted);
		n++;
	}
	ck_assert_msg(n > 0, "no spec in hl_bad for %s", test);
}

#define HL_FAIL_TEST(name)						\
	START_TEST(error_##name) { hl_fail_all(#name); } END_TEST

HL_FAIL_TEST(empty)
HL_FAIL_TEST(empty_entry)
HL_FAIL_TEST(unbalanced)
HL_FAIL_TEST(nested)
HL_FAIL_TEST(empty_bracket)
HL_FAIL_TEST(bad_range)
HL_FAIL_TEST(backwards)
HL_FAIL_TEST(number_too_long)
HL_FAIL_TEST(port)
HL_FAIL_TEST(empty_host)

START_TEST(error_name_too_long)
{
	const char *spec;

	spec = hl_repeat('h', HOSTLIST_HOST_MAX, "");
	hl_fail(spec, "longer than", spec);
	spec = hl_repeat('h', HOSTLIST_HOST_MAX, ":80");
	hl_fail(spec, "longer than", NULL);
	/* Only the expansion is too long: the last number needs 4 digits. */
	spec = hl_repeat('h', HOSTLIST_HOST_MAX - 4, "[998-1000]");
	hl_fail(spec, "longer than", spec);
	spec = hl_repeat('h', HOSTLIST_HOST_MAX - 4, "[0001]");
	hl_fail(spec, "longer than", spec);
}
END_TEST

HL_FAIL_TEST(bad_chars)
HL_FAIL_TEST(too_many)
HL_FAIL_TEST(too_many_fast)

/* A message is cut to the buffer given, and no buffer is fine too. */
START_TEST(error_small_buffer)
{
	struct hostlist_entry *l;
	size_t n;
	char small[8];

	memset(small, 'x', sizeof small);
	ck_assert_int_eq(hostlist_expand("node[1-3", 1, &l, &n, small,
	    sizeof small), -1);
	ck_assert_uint_eq(strlen(small), sizeof small - 1);
	ck_assert_int_eq(hostlist_expand("node[1-3", 1, &l, &n, NULL, 0), -1);
	ck_assert_ptr_null(l);
	ck_assert_int_eq(hostlist_expand("", 1, &l, &n, small, 1), -1);
	ck_assert_str_eq(small, "");
}
END_TEST

static Suite *
error_suite(void)
{
	return check_suite("hostlist errors", "errors", hl_setup,
	    hl_teardown, 10,
	    CHECK_TESTS(error_empty, error_empty_entry, error_unbalanced,
	    error_nested, error_empty_bracket, error_bad_range, error_backwards,
	    error_number_too_long, error_port, error_empty_host,
	    error_name_too_long, error_bad_chars, error_too_many,
	    error_too_many_fast, error_small_buffer));
}

/* --- random input: never a crash, and every answer well formed --- */

static uint32_t
hl_rand(uint32_t *state)
{
	*state = *state * 1103515245u + 12345u;
	return *state >> 16;
}

START_TEST(fuzz_random_specs)
{
	static const char alphabet[] = "n0123456789[]-,: .x\t_9[]-,0";
	struct hostlist_entry *l;
	uint32_t state = 20240601;
	char spec[40], e[128];
	size_t i, j, len, n;
	int rc, ok = 0;

	for (i = 0; i < 20000; i++) {
		len = hl_rand(&state) % (sizeof spec - 1);
		for (j = 0; j < len; j++)
			spec[j] = alphabet[hl_rand(&state) %
			    (sizeof alphabet - 1)];
		spec[len] = '\0';
		e[0] = '\0';
		rc = hostlist_expand(spec, 9000, &l, &n, e, sizeof e);
		if (rc != 0) {
			ck_assert_int_eq(rc, -1);
			ck_assert_msg(e[0] != '\0', "'%s': no message", spec);
			ck_assert_ptr_null(l);
			continue;
		}
		ok++;
		ck_assert_uint_ge(n, 1);
		ck_assert_uint_le(n, HOSTLIST_MAX_HOSTS);
		for (j = 0; j < n; j++) {
			ck_assert_uint_gt(strlen(l[j].host), 0);
			ck_assert_uint_lt(strlen(l[j].host), HOSTLIST_HOST_MAX);
			ck_assert_uint_gt(l[j].port, 0);
		}
		free(l);
	}
	/* The alphabet must make valid lists too, or this tests little. */
	ck_assert_int_gt(ok, 100);
}
END_TEST

static Suite *
fuzz_suite(void)
{
	return check_suite("hostlist fuzz", "fuzz", NULL, NULL, 120,
	    CHECK_TESTS(fuzz_random_specs));
}

int
main(void)
{
	return check_run(plain_suite(), range_suite(), error_suite(),
	    fuzz_suite(), NULL);
}
