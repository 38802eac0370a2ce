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

#endif
