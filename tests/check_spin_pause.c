/*
 * check_spin_pause.c: the rule (common/spin_pause.c) by which asocd's
 * spin and libasoc's ASOC_BUSY_POLL stop spinning on a contended core:
 * a late yield pauses, the pause doubles up to its cap, a clean spin
 * starts it over, and a prompt yield changes nothing.
 */
#include "config.h"

#include "check-main.h"
#include "spin_pause.h"

#define MS (1000LL * 1000)

START_TEST(prompt_yield_no_pause)
{
	struct spin_pause sp = { 0, 0 };
	long long t = 5000 * MS;

	/* A yield back within 1 ms: a free core, or one shared a moment. */
	ck_assert_int_eq(spin_pause_after_yield(&sp, t, t + 50 * 1000), 0);
	ck_assert_int_eq(spin_pause_after_yield(&sp, t,
	    t + SPIN_PAUSE_CONTENDED_NS), 0);
	ck_assert(!spin_pause_on(&sp, t + SPIN_PAUSE_CONTENDED_NS));
}
END_TEST

START_TEST(late_yield_pauses_and_doubles)
{
	struct spin_pause sp = { 0, 0 };
	long long t = 5000 * MS, back, want = SPIN_PAUSE_MIN_NS, len;
	int i;

	for (i = 0; i < 12; i++) {
		back = t + 4 * MS;	/* one 4 ms tick behind a hog */
		len = spin_pause_after_yield(&sp, t, back);
		ck_assert_int_eq(len, want);
		ck_assert(spin_pause_on(&sp, back));
		ck_assert(spin_pause_on(&sp, back + len - 1));
		ck_assert(!spin_pause_on(&sp, back + len));
		t = back + len;
		want = want * 2 > SPIN_PAUSE_MAX_NS ? SPIN_PAUSE_MAX_NS :
		    want * 2;
	}
	/* 10 ms doubled eleven times is past 1 s: the cap held. */
	ck_assert_int_eq(len, SPIN_PAUSE_MAX_NS);
}
END_TEST

START_TEST(reset_starts_over)
{
	struct spin_pause sp = { 0, 0 };
	long long t = 5000 * MS;

	ck_assert_int_eq(spin_pause_after_yield(&sp, t, t + 2 * MS),
	    SPIN_PAUSE_MIN_NS);
	t += 100 * MS;
	ck_assert_int_eq(spin_pause_after_yield(&sp, t, t + 2 * MS),
	    2 * SPIN_PAUSE_MIN_NS);
	spin_pause_reset(&sp);
	t += 100 * MS;
	ck_assert_int_eq(spin_pause_after_yield(&sp, t, t + 2 * MS),
	    SPIN_PAUSE_MIN_NS);
}
END_TEST

START_TEST(clock_moves_forward)
{
	long long a = spin_pause_now(), b = spin_pause_now();

	ck_assert(a > 0);
	ck_assert(b >= a);
}
END_TEST

static Suite *
spin_pause_suite(void)
{
	return check_suite("spin_pause", "rule", NULL, NULL, 0,
	    CHECK_TESTS(prompt_yield_no_pause, late_yield_pauses_and_doubles,
	    reset_starts_over, clock_moves_forward));
}

int
main(void)
{
	return check_run(spin_pause_suite(), NULL);
}
