/*
 * testhooks.h: the test suite's fault injection.  Compiled in only with
 * configure --enable-test-hooks (config.h's ASOC_TEST_HOOKS; tests/build
 * and distcheck turn it on, the packages do not), so a production asocd
 * holds neither the code nor the names of the variables that drive it.
 * Callers keep their uses under #ifdef ASOC_TEST_HOOKS too.
 */
#ifndef ASOC_TESTHOOKS_H
#define ASOC_TESTHOOKS_H

#ifdef ASOC_TEST_HOOKS
#include <stdint.h>

/* ASOC_TEST_FAULT: as an RDMA sender, misbehave on purpose so that the
 * lab can show the receiver's adapter refusing it (test-rdma.sh,
 * test-rdma-hard.sh). */
enum testhook_fault {
	TH_FAULT_NONE,
	TH_FAULT_PAST_RANGE,	/* write-past-range: the last WRITE runs one
				 * byte too far */
	TH_FAULT_AFTER_DONE,	/* write-after-done: one more WRITE after
				 * the ACK */
	TH_FAULT_FOREIGN,	/* write-foreign: WRITE into a range granted
				 * to another peer (see testhook_foreign) */
};

/* The fault ASOC_TEST_FAULT names, read once; the first call logs a
 * warning when there is one. */
enum testhook_fault testhook_fault(void);
/* write-foreign: the "ADDR RKEY" (hex) held by the file that
 * ASOC_TEST_FOREIGN names, once the test has written it.  0, or -1 while
 * there is none. */
int testhook_foreign(uint64_t *addr, uint32_t *rkey);
/* ASOC_TEST_HELLO_DELAY_MS: a connection this daemon opens waits that
 * long between being connected and sending HELLO, so that a test can make
 * both ends of a pair connect at once, in either order
 * (test-one-conn.sh).  0 without it. */
unsigned testhook_hello_delay_ms(void);
#endif

#endif
