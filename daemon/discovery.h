/*
 * discovery.h: opt-in UDP discovery of the peers of a community on a LAN
 * without SLURM, as the original ASoc had.  Announces are authenticated
 * with HMAC-SHA256 under the key file, so only holders of the key join.
 * Off by default; refused under SLURM, where the prolog passes --peers.
 */
#ifndef ASOC_DISCOVERY_H
#define ASOC_DISCOVERY_H

#include <stddef.h>

/* Called once, from the loop, with the peer list found ("a:p,b:p,..."
 * in a fixed order every member computes alike). */
typedef void (*discovery_done_fn)(const char *peers);

/* Starts announcing and listening; -1 with a message on bad settings. */
int discovery_start(discovery_done_fn done, char *err, size_t errlen);

#endif
