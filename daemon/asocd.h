/*
 * asocd.h: the daemon's one piece of global state.  Everything else hangs
 * off it: the event loop, the settings, the peers, the clients and the
 * matching queues.
 */
#ifndef ASOC_ASOCD_H
#define ASOC_ASOCD_H

#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>

#include <event2/util.h>

#include "conf.h"
#include "proto.h"

struct event_base;
struct peer;
struct client;

struct asocd_counters {
	uint64_t bytes_sent, bytes_received;
	uint64_t xfers_done, xfers_failed;
	uint64_t registrations, deregistrations;
	uint64_t buffers, buffer_bytes;
};

struct asocd {
	struct event_base *base;
	struct conf *conf;
	uint32_t rank, world;
	char listen_host[PROTO_NAME_MAX];	/* peer port's address */
	struct peer *peers;		/* world entries; peers[rank] is us */
	TAILQ_HEAD(, client) clients;
	unsigned nclients;
	struct asocd_counters ctr;
	uint64_t xfers_active;
	int draining;			/* SIGTERM: finish, take nothing new */
	pid_t pid;
};

extern struct asocd *asocd;

/* Fresh ids for buffers and transfers: never 0, never reused. */
uint64_t asocd_next_id(void);
/* Runs cb(arg) on the next turn of the loop, once every callback up the
 * stack has returned; what names the object for the log if it cannot.
 * asocd_free_later is the common case: free(p) then. */
void asocd_later(void (*cb)(evutil_socket_t, short, void *), void *arg,
    const char *what);
void asocd_free_later(void *p, const char *what);
/* Called whenever a transfer ends: lets a draining daemon exit. */
void asocd_check_drained(void);

#endif
