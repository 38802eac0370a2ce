/*
 * check-main.h: what every Check suite program in tests/ shares, so that
 * each file holds its tests and nothing else: a suite of one test case
 * made from a list of tests, with its fixture and timeout (check_add_case
 * for a suite of several, as check_xfer.c's), and the runner
 * that main() returns, which turns failures into the exit status.
 *
 *	static Suite *
 *	foo_suite(void)
 *	{
 *		return check_suite("foo", "core", setup, NULL, 10,
 *		    CHECK_TESTS(first_test, second_test));
 *	}
 *
 *	int
 *	main(void)
 *	{
 *		return check_run(foo_suite(), NULL);
 *	}
 */
#ifndef ASOC_TESTS_CHECK_MAIN_H
#define ASOC_TESTS_CHECK_MAIN_H

#include <check.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>

/* CHECK_TESTS(a, b, ...): the tests (START_TEST names) of a test case,
 * as the NULL-terminated list check_suite takes. */
#define CHECK_TESTS(...)	((const TTest *[]){ __VA_ARGS__, NULL })

/* Adds to suite S a test case TCNAME holding TESTS, each run between
 * SETUP and TEARDOWN (a checked fixture; either may be NULL), with
 * TIMEOUT seconds each (0: Check's default).  Returns S. */
static inline Suite *
check_add_case(Suite *s, const char *tcname, void (*setup)(void),
    void (*teardown)(void), double timeout, const TTest **tests)
{
	TCase *tc = tcase_create(tcname);

	if (setup != NULL || teardown != NULL)
		tcase_add_checked_fixture(tc, setup, teardown);
	if (timeout > 0)
		tcase_set_timeout(tc, timeout);
	for (; *tests != NULL; tests++)
		tcase_add_test(tc, *tests);
	suite_add_tcase(s, tc);
	return s;
}

/* A suite NAME of one test case (check_add_case's arguments); a suite of
 * several: check_add_case on it for each of the others. */
static inline Suite *
check_suite(const char *name, const char *tcname, void (*setup)(void),
    void (*teardown)(void), double timeout, const TTest **tests)
{
	return check_add_case(suite_create(name), tcname, setup, teardown,
	    timeout, tests);
}

/* Runs the suites, first and the rest up to a NULL, as Check's normal
 * output; EXIT_SUCCESS when no test failed, EXIT_FAILURE otherwise. */
static inline int
check_run(Suite *first, ...)
{
	SRunner *sr = srunner_create(first);
	Suite *s;
	va_list ap;
	int failed;

	va_start(ap, first);
	while ((s = va_arg(ap, Suite *)) != NULL)
		srunner_add_suite(sr, s);
	va_end(ap);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif
