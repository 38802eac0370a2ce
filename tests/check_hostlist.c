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

/* The cases of the table-driven tests, by test: a spec and the default
 * port, and what it must expand to; or, with port 0, a spec that must
 * fail with a message holding the fourth string and, unless NULL,
 * quoting the fifth. */
static const struct hl_case {
	const char *test, *spec;
	uint16_t port;
	const char *want, *quoted;
} hl_cases[] = {
	{ "plain_list", "a,b.example.org,c_1,d-2", 7,
	    "a:7 b.example.org:7 c_1:7 d-2:7", NULL },
	{ "plain_ports", "host1,host2:9001,10.0.0.3", 9000,
	    "host1:9000 host2:9001 10.0.0.3:9000", NULL },
	{ "plain_ports", "a:1,b:65535", 9000,
	    "a:1 b:65535", NULL },
	{ "plain_default_port", "x,y", 4242,
	    "x:4242 y:4242", NULL },
	{ "plain_default_port", "x:80,y", 1,
	    "x:80 y:1", NULL },
	{ "plain_ipv4", "127.0.0.1:9001,10.1.2.3", 9000,
	    "127.0.0.1:9001 10.1.2.3:9000", NULL },
	{ "plain_whitespace", "  a ,\tb:5 ,\nc  ", 9,
	    "a:9 b:5 c:9", NULL },
	{ "range_simple", "n[1-3]", 9000,
	    "n1:9000 n2:9000 n3:9000", NULL },
	{ "range_simple", "n[5]", 9000,
	    "n5:9000", NULL },
	{ "range_simple", "[1-2]x", 9000,
	    "1x:9000 2x:9000", NULL },
	{ "range_list", "node[001-004,007]", 1,
	    "node001:1 node002:1 node003:1 node004:1 node007:1", NULL },
	{ "range_list", "n[3,1,2-2]", 1,
	    "n3:1 n1:1 n2:1", NULL },
	{ "range_padding", "node[08-10]", 1,
	    "node08:1 node09:1 node10:1", NULL },
	{ "range_padding", "n[8-10]", 1,
	    "n8:1 n9:1 n10:1", NULL },
	{ "range_padding", "n[0098-0100]", 1,
	    "n0098:1 n0099:1 n0100:1", NULL },
	/* The width is lo's; hi's zeros do not widen the shorter numbers. */
	{ "range_padding", "n[9-010]", 1,
	    "n9:1 n10:1", NULL },
	{ "range_padding", "n[00]", 1,
	    "n00:1", NULL },
	{ "range_port", "gpu[1-2]:9100,cpu[1-2]", 9000,
	    "gpu1:9100 gpu2:9100 cpu1:9000 cpu2:9000", NULL },
	{ "range_groups", "rack[1-2]-n[1-2]", 1,
	    "rack1-n1:1 rack1-n2:1 rack2-n1:1 rack2-n2:1", NULL },
	{ "range_groups", "rack[1-2]-gpu[01-02]:9100", 1,
	    "rack1-gpu01:9100 rack1-gpu02:9100 rack2-gpu01:9100 "
	    "rack2-gpu02:9100", NULL },
	{ "range_groups", "x[1-2]y[3,5-6]z", 1,
	    "x1y3z:1 x1y5z:1 x1y6z:1 x2y3z:1 x2y5z:1 x2y6z:1", NULL },
	{ "range_groups", "[1-2][1-2]", 1,
	    "11:1 12:1 21:1 22:1", NULL },
	{ "range_mixed_entries", "head:1,n[1-2],10.0.0.[7-8]:2", 3,
	    "head:1 n1:3 n2:3 10.0.0.7:2 10.0.0.8:2", NULL },
	{ "error_empty", "", 0, "empty", NULL },
	{ "error_empty", "   \t", 0, "empty", NULL },
	{ "error_empty", NULL, 0, "empty", NULL },
	{ "error_empty_entry", "a,,b", 0, "empty entry", "a,,b" },
	{ "error_empty_entry", ",a", 0, "empty entry", ",a" },
	{ "error_empty_entry", "a,", 0, "empty entry", "a," },
	{ "error_empty_entry", "a, ,b", 0, "empty entry", "a, ,b" },
	{ "error_empty_entry", ",", 0, "empty entry", "," },
	{ "error_unbalanced", "node[1-3", 0, "unbalanced '['", "node[1-3" },
	{ "error_unbalanced", "ok,node[1-3", 0, "unbalanced '['", "node[1-3" },
	{ "error_unbalanced", "node[1-3,node5", 0,
	    "unbalanced '['", "node[1-3,node5" },
	{ "error_unbalanced", "n[1-3:80", 0, "unbalanced '['", "n[1-3:80" },
	{ "error_unbalanced", "n1-3]", 0, "unbalanced ']'", "n1-3]" },
	{ "error_unbalanced", "n[1]]", 0, "unbalanced ']'", "n[1]]" },
	{ "error_unbalanced", "n]1[", 0, "unbalanced ']'", "n]1[" },
	{ "error_unbalanced", "[", 0, "unbalanced '['", "[" },
	{ "error_unbalanced", "]", 0, "unbalanced ']'", "]" },
	{ "error_nested", "n[[1-3]]", 0, "nested", "n[[1-3]]" },
	{ "error_nested", "n[1-[3]]", 0, "nested", "n[1-[3]]" },
	{ "error_nested", "n[1,[2]]:5", 0, "nested", "n[1,[2]]:5" },
	{ "error_empty_bracket", "n[]", 0, "empty", "n[]" },
	{ "error_empty_bracket", "n[1][]", 0, "empty", "n[1][]" },
	{ "error_bad_range", "n[a-3]", 0, "bad character 'a'", "n[a-3]" },
	{ "error_bad_range", "n[1-b]", 0, "bad character 'b'", "n[1-b]" },
	{ "error_bad_range", "n[1.5]", 0, "bad character '.'", "n[1.5]" },
	{ "error_bad_range", "n[ 1]", 0, "bad character ' '", "n[ 1]" },
	{ "error_bad_range", "n[+1]", 0, "bad character '+'", "n[+1]" },
	{ "error_bad_range", "n[1,,2]", 0, "range", "n[1,,2]" },
	{ "error_bad_range", "n[1-]", 0, "range", "n[1-]" },
	{ "error_bad_range", "n[-1]", 0, "range", "n[-1]" },
	{ "error_bad_range", "n[1,]", 0, "range", "n[1,]" },
	{ "error_bad_range", "n[,1]", 0, "range", "n[,1]" },
	{ "error_bad_range", "n[1-2-3]", 0, "range", "n[1-2-3]" },
	{ "error_bad_range", "n[-]", 0, "range", "n[-]" },
	{ "error_backwards", "n[9-2]", 0,
	    "range 9-2 runs backwards", "n[9-2]" },
	{ "error_backwards", "n[1-3,09-08]", 0, "backwards", "n[1-3,09-08]" },
	{ "error_number_too_long", "n[12345678901]", 0,
	    "10 digits", "n[12345678901]" },
	{ "error_number_too_long", "n[1-12345678901]", 0,
	    "10 digits", "n[1-12345678901]" },
	{ "error_number_too_long", "n[00000000001]", 0,
	    "10 digits", "n[00000000001]" },
	{ "error_number_too_long", "n[1-99999999999999999999999]", 0,
	    "10 digits", NULL },
	{ "error_port", "a:", 0, "port", "a:" },
	{ "error_port", "a:x", 0, "port", "a:x" },
	{ "error_port", "a:12x", 0, "port", "a:12x" },
	{ "error_port", "a:-1", 0, "port", "a:-1" },
	{ "error_port", "a:+1", 0, "port", "a:+1" },
	{ "error_port", "a:1 2", 0, "port", "a:1 2" },
	{ "error_port", "a:1:2", 0, "port", "a:1:2" },
	{ "error_port", "a:0", 0, "port", "a:0" },
	{ "error_port", "a:65536", 0, "port", "a:65536" },
	{ "error_port", "a:99999999999999999999", 0,
	    "port", "a:99999999999999999999" },
	{ "error_port", "b,n[1-2]:70000", 0, "port", "n[1-2]:70000" },
	{ "error_empty_host", ":9000", 0, "empty host", ":9000" },
	{ "error_empty_host", "a, :1", 0, "empty host", ":1" },
	{ "error_bad_chars", "a$b", 0, "bad character '$'", "a$b" },
	{ "error_bad_chars", "a b", 0, "bad character ' '", "a b" },
	{ "error_bad_chars", "a/b", 0, "bad character '/'", "a/b" },
	{ "error_bad_chars", "a@b", 0, "bad character '@'", "a@b" },
	{ "error_bad_chars", "ok,a\tb", 0, "bad character", "a\tb" },
	{ "error_bad_chars", "h\xc3\xa9", 0, "bad character", NULL },
	{ "error_bad_chars", "a\x01", 0, "bad character '?'", NULL },
	/* No IPv6 literals: the first ':' starts the port. */
	{ "error_bad_chars", "[::1]:80", 0, "port", "[::1]:80" },
	{ "error_too_many", "n[0-65535]", 0, "65535", "n[0-65535]" },
	{ "error_too_many", "n[1-65535],x", 0, "65535", "x" },
	{ "error_too_many", "a[1-40000],b[1-40000]", 0, "65535", "b[1-40000]" },
	{ "error_too_many", "n[0-9][0-9][0-9][0-9][0-9]", 0, "65535", NULL },
	{ "error_too_many", "n[0-99999][0-99999][0-99999][0-99999]", 0,
	    "65535", NULL },
	{ "error_too_many", "n[1-5,1-65535]", 0, "65535", NULL },
	/* Must fail at once, not after allocating or writing a billion
	 * names. */
	{ "error_too_many_fast", "n[0-999999999]", 0,
	    "65535", "n[0-999999999]" },
	{ "error_too_many_fast", "n[0-9999999999]", 0, "65535", NULL },
	{ "error_too_many_fast",
	    "n[0-9999999999][0-9999999999][0-9999999999]", 0, "65535", NULL },
};

/* Runs every case of hl_cases that is test's. */
static void
hl_run(const char *test)
{
	const struct hl_case *c;
	size_t i, n = 0;

	for (i = 0; i < sizeof hl_cases / sizeof hl_cases[0]; i++) {
		c = &hl_cases[i];
		if (strcmp(c->test, test) != 0)
			continue;
		if (c->port == 0)
			hl_fail(c->spec, c->want, c->quoted);
		else
			ck_assert_str_eq(hl_expand(c->spec, c->port), c->want);
		n++;
	}
	ck_assert_msg(n > 0, "no case in hl_cases for %s", test);
}

#define HL_TEST(name)	START_TEST(name) { hl_run(#name); } END_TEST

/* --- plain lists --- */

START_TEST(plain_single)
{
	ck_assert_str_eq(hl_expand("alpha", 9000), "alpha:9000");
	ck_assert_uint_eq(nlist, 1);
}
END_TEST

HL_TEST(plain_list)
HL_TEST(plain_ports)
HL_TEST(plain_default_port)
HL_TEST(plain_ipv4)
HL_TEST(plain_whitespace)

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

HL_TEST(range_simple)
HL_TEST(range_list)
HL_TEST(range_padding)
HL_TEST(range_port)
HL_TEST(range_groups)

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

HL_TEST(range_mixed_entries)

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

HL_TEST(error_empty)
HL_TEST(error_empty_entry)
HL_TEST(error_unbalanced)
HL_TEST(error_nested)
HL_TEST(error_empty_bracket)
HL_TEST(error_bad_range)
HL_TEST(error_backwards)
HL_TEST(error_number_too_long)
HL_TEST(error_port)
HL_TEST(error_empty_host)

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

HL_TEST(error_bad_chars)
HL_TEST(error_too_many)
HL_TEST(error_too_many_fast)

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
