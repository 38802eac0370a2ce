/*
 * check_match.c: matching sends and receives on (source, tag), in both
 * orders, with ANY source and without overtaking.
 */
#include "config.h"

#include "check-main.h"
#include <stdlib.h>

#include "match.h"

static struct match m;

static void
setup(void)
{
	match_init(&m);
}

static struct match_recv
mk_recv(uint32_t src, uint64_t tag)
{
	struct match_recv r = { .src = src, .tag = tag };

	return r;
}

static struct match_send
mk_send(uint32_t src, uint64_t tag)
{
	struct match_send s = { .src = src, .tag = tag };

	return s;
}

START_TEST(recv_first)
{
	struct match_recv r = mk_recv(1, 7);
	struct match_send s = mk_send(1, 7);

	ck_assert_ptr_null(match_post_recv(&m, &r));
	ck_assert_uint_eq(m.nrecvs, 1);
	ck_assert_ptr_eq(match_arrive(&m, &s), &r);
	ck_assert_uint_eq(m.nrecvs, 0);
	ck_assert_uint_eq(m.nsends, 0);
}
END_TEST

START_TEST(send_first)
{
	struct match_recv r = mk_recv(1, 7);
	struct match_send s = mk_send(1, 7);

	ck_assert_ptr_null(match_arrive(&m, &s));
	ck_assert_uint_eq(m.nsends, 1);
	ck_assert_ptr_eq(match_post_recv(&m, &r), &s);
	ck_assert_uint_eq(m.nsends, 0);
}
END_TEST

START_TEST(tag_and_source_must_agree)
{
	struct match_recv r = mk_recv(1, 7);
	struct match_send wrong_tag = mk_send(1, 8);
	struct match_send wrong_src = mk_send(2, 7);

	ck_assert_ptr_null(match_post_recv(&m, &r));
	ck_assert_ptr_null(match_arrive(&m, &wrong_tag));
	ck_assert_ptr_null(match_arrive(&m, &wrong_src));
	ck_assert_uint_eq(m.nsends, 2);
	ck_assert_uint_eq(m.nrecvs, 1);
}
END_TEST

START_TEST(any_source)
{
	struct match_recv r = mk_recv(MATCH_ANY, 5);
	struct match_send a = mk_send(3, 5), b = mk_send(2, 5);

	ck_assert_ptr_null(match_arrive(&m, &a));
	ck_assert_ptr_null(match_arrive(&m, &b));
	/* The oldest matching send wins, whatever its source. */
	ck_assert_ptr_eq(match_post_recv(&m, &r), &a);
}
END_TEST

START_TEST(no_overtaking)
{
	struct match_send s[4];
	struct match_recv r[4];
	int i;

	for (i = 0; i < 4; i++) {
		s[i] = mk_send(1, 9);
		ck_assert_ptr_null(match_arrive(&m, &s[i]));
	}
	for (i = 0; i < 4; i++) {
		r[i] = mk_recv(1, 9);
		ck_assert_ptr_eq(match_post_recv(&m, &r[i]), &s[i]);
	}
	/* And the other way round: receives are filled in post order. */
	for (i = 0; i < 4; i++) {
		r[i] = mk_recv(i % 2 ? MATCH_ANY : 1, 9);
		ck_assert_ptr_null(match_post_recv(&m, &r[i]));
	}
	for (i = 0; i < 4; i++) {
		s[i] = mk_send(1, 9);
		ck_assert_ptr_eq(match_arrive(&m, &s[i]), &r[i]);
	}
}
END_TEST

START_TEST(remove_is_idempotent)
{
	struct match_recv r = mk_recv(1, 1);
	struct match_send s = mk_send(1, 1);

	ck_assert_ptr_null(match_post_recv(&m, &r));
	match_remove_recv(&m, &r);
	match_remove_recv(&m, &r);
	ck_assert_uint_eq(m.nrecvs, 0);
	/* A removed receive no longer matches. */
	ck_assert_ptr_null(match_arrive(&m, &s));
	match_remove_send(&m, &s);
	match_remove_send(&m, &s);
	ck_assert_uint_eq(m.nsends, 0);
}
END_TEST
/* Queued sends are counted by source (xfer.c bounds them per peer):
 * whichever way one leaves the queue, it leaves the count. */
START_TEST(counted_by_source)
{
	struct match_send a = mk_send(3, 1), b = mk_send(3, 2), c = mk_send(1, 1);
	struct match_recv r = mk_recv(3, 2);

	ck_assert_uint_eq(match_sends_from(&m, 3), 0);
	ck_assert_ptr_null(match_arrive(&m, &a));
	ck_assert_ptr_null(match_arrive(&m, &b));
	ck_assert_ptr_null(match_arrive(&m, &c));
	ck_assert_uint_eq(match_sends_from(&m, 3), 2);
	ck_assert_uint_eq(match_sends_from(&m, 1), 1);
	ck_assert_uint_eq(match_sends_from(&m, 7), 0);
	ck_assert_ptr_eq(match_post_recv(&m, &r), &b);
	ck_assert_uint_eq(match_sends_from(&m, 3), 1);
	match_requeue_send(&m, &b);
	ck_assert_uint_eq(match_sends_from(&m, 3), 2);
	match_remove_send(&m, &a);
	match_remove_send(&m, &a);
	ck_assert_uint_eq(match_sends_from(&m, 3), 1);
	match_remove_send(&m, &c);
	ck_assert_uint_eq(match_sends_from(&m, 1), 0);
}
END_TEST

static Suite *
match_suite(void)
{
	return check_suite("match", "core", setup, NULL, 10,
	    CHECK_TESTS(recv_first, send_first, tag_and_source_must_agree,
	    any_source, no_overtaking, remove_is_idempotent, counted_by_source));
}

int
main(void)
{
	return check_run(match_suite(), NULL);
}
