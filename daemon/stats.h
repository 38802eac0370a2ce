/*
 * stats.h: what asoc-stat shows.
 */
#ifndef ASOC_STATS_H
#define ASOC_STATS_H

#include <stdint.h>

struct client;

/* Answers a PT_S_QUERY: S_NODE, one S_PEER per rank, S_END. */
void stats_reply(struct client *c, uint64_t id);

#endif
