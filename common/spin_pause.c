/*
 * spin_pause.c: see spin_pause.h.
 */
#include "spin_pause.h"

#include <time.h>

long long
spin_pause_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int
spin_pause_on(const struct spin_pause *sp, long long now)
{
	return now < sp->until_ns;
}

long long
spin_pause_after_yield(struct spin_pause *sp, long long turn, long long now)
{
	long long len;

	if (now - turn <= SPIN_PAUSE_CONTENDED_NS)
		return 0;
	len = sp->next_ns == 0 ? SPIN_PAUSE_MIN_NS : sp->next_ns;
	sp->until_ns = now + len;
	sp->next_ns = len * 2 > SPIN_PAUSE_MAX_NS ? SPIN_PAUSE_MAX_NS : len * 2;
	return len;
}

void
spin_pause_reset(struct spin_pause *sp)
{
	sp->next_ns = 0;
}
