/*
 * rankwhere.h: L_WHERE, where a range of process ranks lives.
 *
 * The request (struct req, kind REQ_WHERE: buffer, offset, len = 4 x
 * count, peer = the first rank) completes once every rank of the range
 * has joined somewhere, with count little-endian u32 node numbers written
 * at the offset, or at its deadline (--join-timeout when none was given)
 * with ETIMEDOUT naming the first rank still missing.
 */
#ifndef ASOC_RANKWHERE_H
#define ASOC_RANKWHERE_H

#include <stdint.h>

struct req;

void rankwhere_post(struct req *r, uint32_t timeout_ms);
/* A rank joined: the requests it completes complete. */
void rankwhere_joined(void);
/* r completes otherwise (cancelled, its client gone): off the queue. */
void rankwhere_forget(struct req *r);

#endif
