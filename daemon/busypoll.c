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
 *
 * A spin only pays on a core nobody else wants (common/spin_pause.h): a
 * yield that comes back late ends the spin, and the loop sleeps between
 * events, as --busy-poll 0, while the pause lasts.
 */
#include "config.h"

#include <sched.h>

#include <event2/event.h>

#include "busypoll.h"
#include "log.h"
#include "spin_pause.h"

static const struct busypoll_source *sources[BUSYPOLL_SOURCES_MAX];
static unsigned nsources;
static int spinning;
static struct spin_pause pause;

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

static int
stopped(struct event_base *base)
{
	return event_base_got_exit(base) || event_base_got_break(base);
}

/* The core was contended, and a pause of len began: meanwhile the
 * sources re-arm themselves after each event (busypoll_spinning() is 0),
 * as with --busy-poll 0. */
static void
busypoll_paused(long long len)
{
	static struct log_limit said;

	log_info_limited(&said, "busy polling paused for %lld ms: this CPU "
	    "is shared with other busy processes, and a spin would wait "
	    "behind them; give asocd a core of its own (asoc-slurm's "
	    "CPU_LIST, taskset) or set --busy-poll 0", len / 1000000);
	spinning = 0;
}

/* Spins for span after the last turn that handled something.  Returns 1
 * when it ended on a contended core (a pause began), 0 when the span
 * passed idle, -1 when the loop was stopped and -2 when event_base_loop
 * failed. */
static int
busypoll_spin_once(struct event_base *base, long long span)
{
	long long now = spin_pause_now(), turn, until = now + span, len;
	int rc, n;

	while (now < until) {
		turn = now;
		/* The most events active at once since the last clearing
		 * tells whether a turn handled any. */
		(void)event_base_get_max_events(base,
		    EVENT_BASE_COUNT_ACTIVE, 1);
		n = sources_poll();
		if (stopped(base))
			return -1;
		rc = event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		if (rc != 0 || stopped(base))
			return -1 - (rc != 0);
		if (n > 0 || event_base_get_max_events(base,
		    EVENT_BASE_COUNT_ACTIVE, 0) > 0) {
			/* Work came: look again at once, no yield.
			 * Under Linux's EEVDF scheduler (6.6 on) a task
			 * that yields while others wait for its core runs
			 * again only after them (each yield moves its
			 * deadline, and on recent kernels its virtual
			 * runtime, a slice ahead): with work queued (a
			 * flood's backlog of connections) a spin that
			 * yields after every turn gets one turn per round
			 * of the scheduler, far fewer than a daemon that
			 * sleeps and is woken (test-fdexhaust.sh). */
			now = spin_pause_now();
			until = now + span;
			continue;
		}
		/* Nothing this turn: give the core to whoever else can run
		 * on it (the client, the peer daemon): on a machine with
		 * fewer cores than the processes of a ping-pong, a spin
		 * that keeps its core delays the very reply it waits for
		 * (Open MPI yields likewise, mpi_yield_when_idle). */
		sched_yield();
		/* One clock read per idle turn: in the RDMA lab's guest the
		 * clock is an emulated HPET, slow to read. */
		now = spin_pause_now();
		/* Back late: somebody else wanted this core and had it. */
		if ((len = spin_pause_after_yield(&pause, turn, now)) > 0) {
			busypoll_paused(len);
			return 1;
		}
	}
	return 0;
}

static int
busypoll_spin(struct event_base *base, long long span)
{
	int rc;

	for (;;) {
		/* Sleep until something happens, and handle it. */
		rc = event_base_loop(base, EVLOOP_ONCE);
		if (rc != 0 || stopped(base))
			return rc;
		if (spin_pause_on(&pause, spin_pause_now()))
			continue;
		spinning = 1;
		do {
			/* Then look again without sleeping, for span after
			 * the last turn that handled something: a reply to
			 * what was just handled usually comes within it. */
			rc = busypoll_spin_once(base, span);
			if (rc < 0)
				return rc == -1 ? 0 : -1;
			if (rc == 0)
				spin_pause_reset(&pause);
			/* About to sleep: arm the sources (every one, also
			 * after a pause: their handlers left them
			 * disarmed while spinning).  What they find while
			 * arming was ready before the arm and wakes nobody:
			 * handle it, and spin on unless paused. */
		} while (sources_arm() > 0 && spinning);
	}
}

int
busypoll_run(struct event_base *base, unsigned usec)
{
	long long span = (long long)usec * 1000;
	int rc;

	if (usec == 0)
		return event_base_dispatch(base);
	rc = busypoll_spin(base, span);
	spinning = 0;
	return rc;
}
