/*
 * testhooks.c: the test suite's fault injection, read from the
 * environment here and nowhere else (see testhooks.h).  Built only with
 * configure --enable-test-hooks.
 */
#include "config.h"
#include "testhooks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

enum testhook_fault
testhook_fault(void)
{
	static const struct {
		const char *name;
		enum testhook_fault fault;
	} faults[] = {
		{ "write-past-range", TH_FAULT_PAST_RANGE },
		{ "write-after-done", TH_FAULT_AFTER_DONE },
		{ "write-foreign", TH_FAULT_FOREIGN },
	};
	static int read_once;
	static enum testhook_fault fault;
	const char *f;
	size_t i;

	if (read_once)
		return fault;
	read_once = 1;
	if ((f = getenv("ASOC_TEST_FAULT")) == NULL)
		return fault;
	for (i = 0; i < sizeof faults / sizeof faults[0]; i++)
		if (strcmp(f, faults[i].name) == 0)
			fault = faults[i].fault;
	if (fault != TH_FAULT_NONE)
		log_warn("ASOC_TEST_FAULT=%s: this daemon will misbehave on "
		    "purpose (tests only)", f);
	return fault;
}

int
testhook_foreign(uint64_t *addr, uint32_t *rkey)
{
	const char *path = getenv("ASOC_TEST_FOREIGN");
	unsigned long long a;
	unsigned k;
	FILE *f;
	int got = 0;

	if (path != NULL && (f = fopen(path, "re")) != NULL) {
		got = fscanf(f, "%llx %x", &a, &k);
		fclose(f);
	}
	if (got != 2)
		return -1;
	*addr = a;
	*rkey = k;
	return 0;
}

unsigned
testhook_hello_delay_ms(void)
{
	static int read_once;
	static unsigned ms;
	const char *v;

	if (read_once)
		return ms;
	read_once = 1;
	if ((v = getenv("ASOC_TEST_HELLO_DELAY_MS")) == NULL)
		return ms;
	ms = (unsigned)strtoul(v, NULL, 10);
	if (ms > 60000)
		ms = 60000;
	if (ms > 0)
		log_warn("ASOC_TEST_HELLO_DELAY_MS=%u: connections this daemon "
		    "opens say HELLO late on purpose (tests only)", ms);
	return ms;
}
