/*
 * proto_disc.h: the discovery datagram (opt-in UDP discovery on LANs
 * without SLURM).  One fixed-size little-endian announce: who I am, for
 * which community and world, when, and an HMAC-SHA256 under the job key
 * over everything before it.  The decoder checks layout only; the daemon
 * checks the HMAC, the community and the time.
 */
#ifndef ASOC_PROTO_DISC_H
#define ASOC_PROTO_DISC_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

#define DISC_MAGIC	"ASOCDISC"
#define DISC_VERSION	1
#define DISC_MAC_LEN	32
#define DISC_LEN	(8 + 2 + 2 + 4 + 4 + 4 + 8 + 8 + PROTO_NAME_MAX + DISC_MAC_LEN)
#define DISC_SIGNED_LEN	(DISC_LEN - DISC_MAC_LEN)

struct proto_disc {
	uint16_t version;
	uint16_t port;		/* the announcer's peer port */
	uint32_t addr;		/* its IPv4 address, host order */
	uint32_t world;		/* the world size it expects */
	uint32_t flags;		/* zero */
	uint64_t nonce;
	uint64_t time_ms;	/* CLOCK_REALTIME, for the replay window */
	char community[PROTO_NAME_MAX];
	uint8_t mac[DISC_MAC_LEN];
};

/* out must hold DISC_LEN bytes; the MAC field is written as given. */
void proto_disc_encode(const struct proto_disc *d, uint8_t *out);
/* 0, or -1 when len is not DISC_LEN or a field is malformed. */
int proto_disc_decode(const uint8_t *buf, size_t len, struct proto_disc *d);

#endif
