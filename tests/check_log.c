/*
 * check_log.c: the rate limit on messages anyone can cause (log.c):
 * a burst passes, the rest is counted, and the next line that passes
 * says how many were held back.
 */
#include "config.h"

#include "check-main.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

START_TEST(burst_then_count)
{
	struct log_limit ll = { .burst = 3, .window = 10 };
	unsigned long long more = 99;
	int i;

	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(log_limit_pass(&ll, 100, &more), 1);
		ck_assert_uint_eq(more, 0);
	}
	for (i = 0; i < 1000; i++)
		ck_assert_int_eq(log_limit_pass(&ll, 100 + i % 10, &more), 0);
	/* A new window: the first line carries the count. */
	ck_assert_int_eq(log_limit_pass(&ll, 110, &more), 1);
	ck_assert_uint_eq(more, 1000);
	ck_assert_int_eq(log_limit_pass(&ll, 111, &more), 1);
	ck_assert_uint_eq(more, 0);
}
END_TEST

START_TEST(defaults_and_clock_going_back)
{
	struct log_limit ll;
	unsigned long long more;
	int i, n = 0;

	memset(&ll, 0, sizeof ll);
	for (i = 0; i < 100; i++)
		n += log_limit_pass(&ll, 5, &more);
	ck_assert_int_eq(n, LOG_LIMIT_BURST);
	/* A clock that went back starts a window rather than muting. */
	ck_assert_int_eq(log_limit_pass(&ll, 1, &more), 1);
	ck_assert_uint_eq(more, 100 - LOG_LIMIT_BURST);
}
END_TEST

/* Through the real log: 10,000 events make a handful of lines, and the
 * count reaches the file. */
START_TEST(to_the_file)
{
	static struct log_limit ll = { .burst = 2, .window = 1 };
	char path[] = "/tmp/check_log.XXXXXX", line[512];
	int fd = mkstemp(path), i, lines = 0, counted = 0;
	FILE *fp;

	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(log_open("check_log", LOG_LVL_INFO, 0, path), 0);
	for (i = 0; i < 10000; i++)
		log_warn_limited(&ll, "refused peer %d: no", i);
	sleep(1);
	log_warn_limited(&ll, "refused peer last: no");
	log_close();
	ck_assert_ptr_nonnull(fp = fopen(path, "r"));
	while (fgets(line, sizeof line, fp) != NULL) {
		lines++;
		if (strstr(line, "refused peer last: no (and 9998 more like "
		    "this") != NULL)
			counted = 1;
	}
	fclose(fp);
	unlink(path);
	ck_assert_int_eq(lines, 3);
	ck_assert_int_eq(counted, 1);
}
END_TEST

static Suite *
log_suite(void)
{
	return check_suite("log", "limit", NULL, NULL, 20,
	    CHECK_TESTS(burst_then_count, defaults_and_clock_going_back,
	    to_the_file));
}

int
main(void)
{
	return check_run(log_suite(), NULL);
}
