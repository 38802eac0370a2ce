/*
 * busypoll.h: asocd's event loop, with optional busy polling (--busy-poll).
 */
#ifndef ASOC_BUSYPOLL_H
#define ASOC_BUSYPOLL_H

struct event_base;

/* Runs base until event_base_loopexit/loopbreak or until it has no
 * events left, as event_base_dispatch does.  With usec > 0, each time
 * the loop has handled something it keeps polling without sleeping for
 * usec microseconds, so the next message of a ping-pong is picked up
 * without the wake-up from idle that costs tens of microseconds a hop.
 * Returns what event_base_loop returned last (-1 on error). */
int busypoll_run(struct event_base *base, unsigned usec);

/* A source of work that the libevent loop does not see while it spins:
 * the RDMA completion queues, whose completions otherwise reach the loop
 * only through the completion channel (a kernel wake-up, then several
 * verbs system calls, per completion).  While busypoll_run spins it calls
 * poll on every turn; before it sleeps, arm, which must make sure that
 * whatever becomes ready later wakes the loop.  Both return how many
 * things they handled (a turn that handled something keeps the spin
 * going).  With usec 0 neither is ever called. */
struct busypoll_source {
	const char *name;
	int (*poll)(void);
	int (*arm)(void);
};

/* Adds src (not copied) to the sources spun on; at most
 * BUSYPOLL_SOURCES_MAX.  Returns -1 when full. */
#define BUSYPOLL_SOURCES_MAX	4
int busypoll_add(const struct busypoll_source *src);

/* Whether busypoll_run is spinning (usec > 0, and not backing off from
 * a contended core): a source may then leave its wake-ups disarmed
 * between its arm calls. */
int busypoll_spinning(void);

#endif
