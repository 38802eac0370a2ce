/*
 * wire-client: the raw wire that the test tools (asoc-hostile,
 * asoc-local-probe, asoc-fake-peer, asoc-prop) speak to asocd, without
 * libasoc, so that they can send what libasoc never would: connecting to
 * the Unix socket or the peer port, encoding and sending one message (with
 * descriptors on the Unix socket), receiving one, and counting the
 * "ok - case" / "FAIL - case: why" lines of a tool's run.
 *
 * Every function returns an error as a value (-1, or as said) and leaves
 * what to do about it to the tool; only a message the tool cannot encode
 * (a bug in the tool itself) stops the process.
 */
#ifndef ASOC_TESTS_WIRE_CLIENT_H
#define ASOC_TESTS_WIRE_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

/* The largest message apart from a DATA frame's payload. */
#define WIRE_MSGMAX	(PROTO_HDR_LEN + PROTO_MAX_FIXED)
/* At most this many descriptors ride on one local message. */
#define WIRE_MAXFDS	8

/* --- results --- */
extern int wire_passed, wire_failed;
/* "ok - NAME" or "FAIL - NAME: DETAIL", counted, flushed at once. */
void	wire_result(const char *name, int ok, const char *detail);
/* "N passed, N failed"; the exit status: 0 when nothing failed, else 1. */
int	wire_summary(void);

/* --- connecting: the fd, or -1 with errno (or a getaddrinfo failure) --- */
int	wire_local_connect(const char *path);
int	wire_tcp_connect(const char *host, const char *port);
/* fd itself; or, when it is -1, "WHAT: the error" on stderr and exit 1
 * (to a tool, a daemon it cannot reach ends the run). */
int	wire_must(int fd, const char *what);

/* --- encoding and sending --- */
/* Sets m's type and id and encodes it into out (len bytes); its length.
 * Exits, naming the type, if m does not encode. */
size_t	wire_encode(struct proto_msg *m, uint16_t type, uint64_t id,
	    uint8_t *out, size_t len);
/* One datagram of len bytes from buf with nfds descriptors (SCM_RIGHTS),
 * sendmsg flags besides MSG_NOSIGNAL; 0, or -1 with errno. */
int	wire_send_fds(int fd, const void *buf, size_t len, const int *fds,
	    int nfds, int flags);
/* wire_encode then wire_send_fds: one local message. */
int	wire_local_send(int fd, uint16_t type, uint64_t id,
	    struct proto_msg *m, const int *fds, int nfds, int flags);
/* m (type and id already set) encoded and written whole to a stream;
 * 0, or -1 when the peer closed or the write failed. */
int	wire_peer_send(int fd, struct proto_msg *m);

/* L_HELLO (this process's pid) and its L_WELCOME within ms, into
 * welcome: 0; -1 when the daemon answers anything else or nothing. */
int	wire_local_hello(int fd, struct proto_msg *welcome, int ms);

/* --- receiving --- */
/* One local message from the daemon within ms: 0; -1 on EOF, an error or
 * a message that does not decode; -2 on timeout. */
int	wire_local_recv(int fd, struct proto_msg *m, int ms);
/* One whole peer frame within ms (each read): 0; -1 on EOF; -2 on
 * timeout; -3 on a frame that does not decode or is too long.  A DATA
 * frame's payload is read and discarded: its header is in m. */
int	wire_peer_recv(int fd, struct proto_msg *m, int ms);

#endif
