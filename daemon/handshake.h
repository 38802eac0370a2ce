/*
 * handshake.h: the peer handshake as a state machine with no I/O: it is
 * fed decoded messages and says what to send and whether the peer is in.
 * peer.c wires it to connections; the unit suite and the fuzz target drive
 * it directly.
 *
 * Both ends prove they hold the job key: each sends a fresh nonce and
 * answers the other's with HMAC-SHA256(key, role, community, world, both
 * ranks, both flags, both nonces).  The key never crosses the wire, a
 * proof is good for one handshake only (it covers the verifier's nonce),
 * and stripping a flag (MUNGE) breaks both proofs.  Where MUNGE is on,
 * each side also sends a MUNGE credential whose payload is a digest of
 * the same transcript under a role of its own (so it can be neither
 * relayed from another handshake nor reflected), and the verifier checks
 * its uid is the job user's.  Neither side makes its credential before
 * the other's MAC checked out: the connector's goes with AUTH, the
 * acceptor's with WELCOME.
 */
#ifndef ASOC_HANDSHAKE_H
#define ASOC_HANDSHAKE_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

struct hs_cfg {
	uint32_t rank, world;
	const char *community;
	const uint8_t *key;
	size_t keylen;
	int munge;		/* prove our uid by MUNGE, demand the peer's */
	/* Where nonces come from; NULL: auth_random.  The fuzz target sets
	 * its own, so that a crash replays. */
	void (*random)(void *buf, size_t len);
	/* How MUNGE credentials are made and checked; NULL: auth.c's (one
	 * round trip to munged each).  The unit suite counts the calls. */
	int (*munge_encode)(const uint8_t *bind, size_t len, char *cred,
	    size_t cap, char *err, size_t errlen);
	int (*munge_verify)(const char *cred, const uint8_t *bind, size_t len,
	    char *err, size_t errlen);
};

/* The one handshake state of a connection (struct conn's auth.st): the
 * machine below moves it from WAIT_HELLO or WAIT_CHALLENGE to UP or
 * FAILED; CONNECTING comes before it, while the connector's transport is
 * still connecting (conn_new sets it, hs_start_outgoing ends it). */
enum hs_state {
	HSS_CONNECTING,		/* connector, transport not connected yet */
	HSS_WAIT_HELLO,		/* acceptor */
	HSS_WAIT_CHALLENGE,	/* connector, HELLO sent */
	HSS_WAIT_AUTH,		/* acceptor, CHALLENGE sent */
	HSS_WAIT_WELCOME,	/* connector, AUTH sent */
	HSS_UP,
	HSS_FAILED,
};

struct hs {
	const struct hs_cfg *cfg;
	int outgoing;
	enum hs_state st;
	uint32_t peer_rank;	/* expected (connector) or claimed (acceptor) */
	uint32_t flags_c, flags_a;	/* the connector's and acceptor's */
	uint16_t conns_c, lane_c;	/* the connector's HELLO: which of the
					 * pair's connections this is */
	uint8_t nonce_c[PROTO_NONCE_LEN], nonce_a[PROTO_NONCE_LEN];
};

enum hs_result {
	HSR_CONTINUE,	/* send *out if its type is set; wait for more */
	HSR_UP,		/* send *out if its type is set; the peer is in */
	HSR_REFUSE,	/* send *out (a REFUSE), then close */
	HSR_FAIL,	/* close without a word (refused, or nonsense) */
};

/* Connector: fills *hello. */
void hs_start_outgoing(struct hs *h, const struct hs_cfg *cfg,
    uint32_t peer_rank, struct proto_msg *hello);
void hs_start_incoming(struct hs *h, const struct hs_cfg *cfg);
/* Connector: this is connection lane of conns (--conns-per-peer), in
 * *hello and in what both proofs cover. */
void hs_set_lane(struct hs *h, struct proto_msg *hello, unsigned conns,
    unsigned lane);

/* One handshake message in.  *out is cleared, then filled when there is
 * something to send.  why gets the reason on REFUSE and FAIL (for the
 * log); *st the status to fail waiting transfers with. */
enum hs_result hs_input(struct hs *h, const struct proto_msg *in,
    struct proto_msg *out, char *why, size_t whylen, enum proto_status *st);

/* Exposed for the unit suite: the proof one side sends; -1 (and zeros)
 * when OpenSSL cannot make it. */
int hs_mac(const struct hs *h, int acceptor, uint8_t mac[PROTO_MAC_LEN]);

#endif
