/*
 * buffer.h: client memory mapped into asocd.
 *
 * A client hands over a sealed memfd once; asocd checks the seals and the
 * size, maps it, and names it by an id.  References keep the mapping alive
 * while any transfer (or any queued network write) still points into it,
 * so a client that frees a buffer or leaves mid-transfer never leaves the
 * daemon touching unmapped memory.
 */
#ifndef ASOC_BUFFER_H
#define ASOC_BUFFER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

struct client;

/* Slots for the transports' registrations of a buffer, one per entry of
 * transports[] (transport.c checks they suffice). */
#define BUFFER_TP_SLOTS	4

struct buffer {
	uint64_t id;
	struct client *owner;	/* NULL once the client let go of it */
	uint8_t *base;
	size_t size;
	unsigned refs;
	/* Each transport's own registration (transport_buffer_reg), made
	 * on first use and dropped when the buffer goes. */
	void *tp_reg[BUFFER_TP_SLOTS];
	TAILQ_ENTRY(buffer) entry;	/* in owner's list */
};
TAILQ_HEAD(buffer_list, buffer);

/* Takes ownership of fd (closes it either way).  On failure returns -1
 * with a message for the client in err. */
int buffer_register(struct client *c, int fd, uint64_t size,
    struct buffer **out, char *err, size_t errlen);
struct buffer *buffer_find(struct client *c, uint64_t id);
/* The client lets go: drops its reference; unmapped at the last one. */
void buffer_release(struct buffer *b);
void buffer_ref(struct buffer *b);
void buffer_unref(struct buffer *b);
/* 1 when [off, off+len) lies inside b. */
int buffer_range_ok(const struct buffer *b, uint64_t off, uint64_t len);

#endif
