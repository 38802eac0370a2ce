/*
 * spin_pause.h: when a busy-polling loop should stop spinning and sleep,
 * shared by asocd's event loop (daemon/busypoll.c) and libasoc's waits
 * (ASOC_BUSY_POLL, client/libasoc.c), which had the same rule twice.
 *
 * A spin only pays on a core nobody else wants.  Where other processes
 * are runnable on it, a yielding spin runs again only after them, a
 * scheduler slice each (Linux's EEVDF, 6.6 on), while a sleeper is woken
 * at once when its message comes: with a CPU hog on each of 2 cores an
 * 8 B send took 4,002 us with asocd's spin and 23-40 us without.  So a
 * yield that comes back late pauses the spin, for 10 ms the first time,
 * doubling while the core stays contended, up to 1 s; a spin that meets
 * no contention starts the doubling over.
 */
#ifndef ASOC_SPIN_PAUSE_H
#define ASOC_SPIN_PAUSE_H

/* A yield longer than this gave the core to a process that kept it:
 * longer than any hop of a ping-pong on a free core (microseconds, a few
 * hundred under the RDMA lab's emulation), shorter than a scheduler slice
 * (0.75 ms and up). */
#define SPIN_PAUSE_CONTENDED_NS	(1000LL * 1000)
#define SPIN_PAUSE_MIN_NS	(10LL * 1000 * 1000)
#define SPIN_PAUSE_MAX_NS	(1000LL * 1000 * 1000)

/* Zeroed: no pause yet, the next one is SPIN_PAUSE_MIN_NS. */
struct spin_pause {
	long long	next_ns;	/* the next pause's length; 0: the least */
	long long	until_ns;	/* no spin before this (spin_pause_now) */
};

/* CLOCK_MONOTONIC in nanoseconds. */
long long spin_pause_now(void);

/* Whether a pause is on at now. */
int spin_pause_on(const struct spin_pause *sp, long long now);

/* After a yield from turn that came back at now: when it came back late
 * (the core is contended), starts a pause and returns its length in ns;
 * else returns 0. */
long long spin_pause_after_yield(struct spin_pause *sp, long long turn,
    long long now);

/* A spin met no contention: the next pause is the least again. */
void spin_pause_reset(struct spin_pause *sp);

#endif
