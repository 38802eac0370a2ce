/*
 * fuzz.h: what every fuzz target in tests/fuzz/ defines.  The same file is
 * linked with libFuzzer (make check-fuzz, clang) and with driver.c (make
 * check, any compiler), which feeds it the corpus and regression inputs.
 */
#ifndef ASOC_FUZZ_H
#define ASOC_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken invariant: abort, which both libFuzzer and the driver report
 * as a crash with the input that caused it. */
#define FUZZ_ASSERT(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n",	\
		    __FILE__, __LINE__, #cond);				\
		abort();						\
	}								\
} while (0)

#endif
