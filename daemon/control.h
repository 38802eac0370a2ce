/*
 * control.h: the local Unix socket and client sessions.
 *
 * SOCK_SEQPACKET keeps message boundaries, so one recvmsg is one message
 * (and its fd, for L_REG).  A malformed message drops that client only.
 */
#ifndef ASOC_CONTROL_H
#define ASOC_CONTROL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>

#include "buffer.h"
#include "proto.h"
#include "ranks.h"
#include "xfer.h"

struct event;
struct control_out;

#define CONTROL_MAX_REQS	65536	/* requests in flight per client */
#define CONTROL_QUEUE_PAUSE	256	/* replies queued: stop reading it */
#define CONTROL_READ_BATCH	64	/* messages read per wake-up */
/* Replies queued to a slow client: back-pressure keeps a client under
 * this, one reply per request in flight plus the replies to reads. */
#define CONTROL_MAX_QUEUE	(CONTROL_MAX_REQS + CONTROL_QUEUE_PAUSE + \
				    CONTROL_READ_BATCH)
#define CONTROL_TRIM_AFTER	1024	/* a burst worth a malloc_trim */

struct client {
	int fd;
	struct event *ev_read, *ev_write;
	uid_t uid;
	pid_t pid;
	int welcomed;
	/* What its L_HELLO opened (ranks.h): status only, or a node or
	 * process rank, lr then being it. */
	enum ranks_session rank_kind;
	struct lrank *lr;
	int dead;
	int broken;		/* a reply failed: dropped from the loop */
	char broken_why[128];
	struct event *ev_drop;
	struct buffer_list bufs;
	unsigned nbufs;
	uint64_t buf_bytes;	/* registered and not freed: pinned by us */
	struct req_list reqs;
	unsigned nreqs;
	uint64_t reqs_done;	/* completed so far (xfer_cancel_where) */
	TAILQ_HEAD(, control_out) outq;
	unsigned noutq;
	unsigned outq_peak;	/* since the queue was last empty */
	int read_paused;	/* back-pressure: requests left unread */
	TAILQ_ENTRY(client) entry;
};

int control_listen(const char *path, char *err, size_t errlen);
/* A client on fd, whose credentials the caller checked (the accept
 * path; the unit tests' socketpairs).  NULL when out of memory (fd is
 * then still the caller's). */
struct client *control_client_new(int fd, uid_t uid, pid_t pid);
/* Stop taking new clients (drain) and remove the socket. */
void control_stop(void);
void control_shutdown(void);
/* Queue m for c (dropped silently once c is dead). */
void control_send(struct client *c, struct proto_msg *m);
void control_drop(struct client *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
