/*
 * busypoll.c: asocd's event loop, with optional busy polling.
 *
 * A profile of one-at-a-time sends between two daemons (issue 15) spent
 * 70% of its samples in the idle halt: every hop (client to asocd, RTS,
 * CTS, data, ACK, asocd to client) woke a sleeping CPU.  Open MPI and UCX
 * never sleep; this lets asocd not sleep for a bounded while after work,
 * and sleep as before once idle.
 *
 * Sources (busypoll_add) are what the loop cannot see by spinning: the
 * RDMA completion queues.  Their completions wake the loop through the
 * completion channel's fd, and each then costs the channel's kernel path,
 * a read, an ack and a re-arm (verbs system calls, tens to hundreds of
 * microseconds each under the RDMA lab's TCG); polling the queue itself
 * is a read of user memory on rxe and most devices.  So the spin polls
 * them, and arms them only once, before the loop sleeps.
 */
#include "config.h"

#include <sched.h>
#include <time.h>

#include <event2/event.h>

#include "busypoll.h"

static const struct busypoll_source *sources[BUSYPOLL_SOURCES_MAX];
static unsigned nsources;
static int spinning;

int
busypoll_add(const struct busypoll_source *src)
{
	if (nsources == BUSYPOLL_SOURCES_MAX)
		return -1;
	sources[nsources++] = src;
	return 0;
}

int
busypoll_spinning(void)
{
	return spinning;
}

static int
sources_poll(void)
{
	unsigned i;
	int n = 0;

	for (i = 0; i < nsources; i++)
		n += sources[i]->poll();
	return n;
}

static int
sources_arm(void)
{
	unsigned i;
	int n = 0;

	for (i = 0; i < nsources; i++)
		n += sources[i]->arm();
	return n;
}

static long long
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int
stopped(struct event_base *base)
{
	return event_base_got_exit(base) || event_base_got_break(base);
}

static int
busypoll_spin(struct event_base *base, long long span)
{
	long long until;
	int rc, n;

	for (;;) {
		/* Sleep until something happens, and handle it. */
		rc = event_base_loop(base, EVLOOP_ONCE);
		if (rc != 0 || stopped(base))
			return rc;
spin:
		/* Then look again without sleeping, for span after the
		 * last turn that handled something: a reply to what was
		 * just handled usually comes within it.  The most events
		 * active at once since the last clearing tells whether a
		 * turn handled any. */
		until = now_ns() + span;
		while (now_ns() < until) {
			(void)event_base_get_max_events(base,
			    EVENT_BASE_COUNT_ACTIVE, 1);
			n = sources_poll();
			if (stopped(base))
				return 0;
			rc = event_base_loop(base,
			    EVLOOP_ONCE | EVLOOP_NONBLOCK);
			if (rc != 0 || stopped(base))
				return rc;
			if (n > 0 || event_base_get_max_events(base,
			    EVENT_BASE_COUNT_ACTIVE, 0) > 0) {
				/* Work came: look again at once, no yield.
				 * Under Linux's EEVDF scheduler (6.6 on) a
				 * task that yields while others wait for its
				 * core runs again only after them (each yield
				 * moves its deadline, and on recent kernels
				 * its virtual runtime, a slice ahead): with
				 * work queued (a flood's backlog of
				 * connections) a spin that yields after every
				 * turn gets one turn per round of the
				 * scheduler, far fewer than a daemon that
				 * sleeps and is woken (test-fdexhaust.sh). */
				until = now_ns() + span;
				continue;
			}
			/* Nothing this turn: give the core to whoever else
			 * can run on it (the client, the peer daemon): on a
			 * machine with fewer cores than the processes of a
			 * ping-pong, a spin that keeps its core delays the
			 * very reply it waits for (Open MPI yields likewise,
			 * mpi_yield_when_idle). */
			sched_yield();
		}
		/* About to sleep: what the sources find while arming was
		 * ready before the arm and wakes nobody; handle it and spin
		 * on. */
		if (sources_arm() > 0)
			goto spin;
	}
}

int
busypoll_run(struct event_base *base, unsigned usec)
{
	long long span = (long long)usec * 1000;
	int rc;

	if (usec == 0)
		return event_base_dispatch(base);
	spinning = 1;
	rc = busypoll_spin(base, span);
	spinning = 0;
	return rc;
}
