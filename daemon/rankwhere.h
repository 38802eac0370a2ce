/*
 * rankwhere.h: L_WHERE, where a range of process ranks lives.
 *
 * The request (struct req, kind REQ_WHERE: buffer, offset, len = 4 x
 * count, peer = the first rank) completes once every rank of the range
 * has joined somewhere (a rank that left since the caller's rank joined
 * counts, on the node it left), with count little-endian u32 node numbers written
 * at the offset, or at its deadline (--join-timeout when none was given)
 * with ETIMEDOUT naming the first rank still missing.  A session has at
 * most RANKWHERE_MAX_WAITING of them waiting.
 */
#ifndef ASOC_RANKWHERE_H
#define ASOC_RANKWHERE_H

#include <stdint.h>

#define RANKWHERE_MAX_WAITING	4

struct req;

void rankwhere_post(struct req *r, uint32_t timeout_ms);
/* Rank p joined: the requests waiting for it note its node, and those it
 * was the last missing rank of complete. */
void rankwhere_joined(uint32_t p);
/* r completes otherwise (cancelled, its client gone): off the queue. */
void rankwhere_forget(struct req *r);

/* Slots looked at (for check_ranks: a join costs one per request that
 * waits for the rank, not the requests' whole ranges). */
extern unsigned long rankwhere_slots_seen;

#endif
