/*
 * fuzz-handshake.c: the peer handshake (daemon/handshake.c) under hostile
 * messages.  The first byte picks a scenario, the rest is the attack:
 *
 *   0  a stream of peer messages to a fresh acceptor
 *   1  the same to a connector that has sent its HELLO
 *   2  a genuine handshake in which the input rewrites one message in
 *      flight (byte 1 says which, the rest is XORed into its encoding)
 *
 * Whoever sends the bytes does not hold the key, so in 0 and 1 neither
 * side may ever let the peer in; in 2 both may, but only if the message
 * that arrived says what was sent.  Nonces come from a counter, not the
 * kernel, so that a crash replays.
 *
 * (first byte / 3) odd: both sides run with MUNGE, through a stand-in for
 * munged whose credential is the hex of its payload.  Then in 0 and 1 no
 * credential may ever be made (the sender never proved the key: issue
 * 10's defect 5), and in 2 a tampered credential must not get in.
 */
#include <string.h>

#include "fuzz.h"
#include "handshake.h"
#include "proto.h"

static const uint8_t fuzz_key[] = "fuzz-handshake-job-key-0123456789";
static uint8_t fuzz_ctr;

static void
fuzz_nonce(void *buf, size_t len)
{
	memset(buf, ++fuzz_ctr, len);
}

static unsigned fuzz_encodes;

static void
fuzz_cred(const uint8_t *bind, size_t len, char *cred, size_t cap)
{
	size_t i, o = (size_t)snprintf(cred, cap, "MUNGE:");

	for (i = 0; i < len && o + 3 <= cap; i++)
		o += (size_t)snprintf(cred + o, cap - o, "%02x", bind[i]);
}

static int
fuzz_munge_encode(const uint8_t *bind, size_t len, char *cred, size_t cap,
    char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	fuzz_encodes++;
	fuzz_cred(bind, len, cred, cap);
	return 0;
}

static int
fuzz_munge_verify(const char *cred, const uint8_t *bind, size_t len,
    char *err, size_t errlen)
{
	char want[PROTO_CRED_MAX];

	fuzz_cred(bind, len, want, sizeof want);
	if (strcmp(cred, want) == 0)
		return 0;
	snprintf(err, errlen, "sent a MUNGE credential made for another "
	    "handshake");
	return -1;
}

static void
fuzz_cfgs(struct hs_cfg *c, struct hs_cfg *a, int munge)
{
	*c = (struct hs_cfg){ .rank = 0, .world = 3, .community = "job-7",
	    .key = fuzz_key, .keylen = sizeof fuzz_key - 1,
	    .random = fuzz_nonce, .munge = munge,
	    .munge_encode = fuzz_munge_encode,
	    .munge_verify = fuzz_munge_verify };
	*a = *c;
	a->rank = 1;
}

/* Feeds every message of a stream of peer messages to h; none may let the
 * peer in, and a refusal must be a REFUSE. */
static void
fuzz_feed_stream(struct hs *h, const uint8_t *p, size_t n)
{
	struct proto_msg m, out;
	struct proto_hdr hdr;
	enum proto_status st;
	enum hs_result r;
	char why[256];
	size_t len;

	while (n >= PROTO_HDR_LEN) {
		if (proto_decode_hdr(p, n, PROTO_CH_PEER, &hdr) != PROTO_OK)
			return;
		len = PROTO_HDR_LEN + hdr.length;
		if (hdr.type == PT_DATA || len > n)
			return;
		if (proto_decode_body(&hdr, p + PROTO_HDR_LEN, hdr.length,
		    &m) != PROTO_OK)
			return;
		r = hs_input(h, &m, &out, why, sizeof why, &st);
		FUZZ_ASSERT(r != HSR_UP);
		FUZZ_ASSERT(h->st != HSS_UP);
		/* Nothing reaches munged for a sender without the key. */
		FUZZ_ASSERT(fuzz_encodes == 0);
		if (r == HSR_REFUSE)
			FUZZ_ASSERT(out.hdr.type == PT_REFUSE && why[0] != '\0');
		if (r == HSR_FAIL)
			FUZZ_ASSERT(out.hdr.type == 0 && why[0] != '\0');
		p += len;
		n -= len;
	}
}

/* Encodes m, XORs the input into it, decodes what arrives. */
static int
fuzz_tamper(struct proto_msg *m, const uint8_t *x, size_t xn,
    struct proto_msg *arrived)
{
	uint8_t buf[PROTO_HDR_LEN + PROTO_MAX_FIXED];
	size_t n, i;

	n = proto_encode(m, buf, sizeof buf);
	FUZZ_ASSERT(n > 0);
	for (i = 0; i < xn && i < n; i++)
		buf[i] ^= x[i];
	return proto_decode(buf, n, PROTO_CH_PEER, arrived) == PROTO_OK ? 0 :
	    -1;
}

static void
fuzz_tampered_run(unsigned which, const uint8_t *x, size_t xn, int munge)
{
	struct hs_cfg cc, ca;
	struct hs c, a;
	struct proto_msg msg[4], got, none;
	enum proto_status st;
	enum hs_result r = HSR_CONTINUE;
	char why[256];
	int changed = 0, step;

	fuzz_cfgs(&cc, &ca, munge);
	hs_start_outgoing(&c, &cc, 1, &msg[0]);
	hs_start_incoming(&a, &ca);
	for (step = 0; step < 4; step++) {
		struct hs *to = step % 2 == 0 ? &a : &c;

		if (step == (int)which) {
			if (fuzz_tamper(&msg[step], x, xn, &got) < 0)
				return;	/* the decoder threw it away */
			/* The decoder clears what it does not set. */
			changed = memcmp(&got.u, &msg[step].u, sizeof got.u) != 0;
		} else {
			uint8_t buf[PROTO_HDR_LEN + PROTO_MAX_FIXED];
			size_t n = proto_encode(&msg[step], buf, sizeof buf);

			FUZZ_ASSERT(proto_decode(buf, n, PROTO_CH_PEER, &got) ==
			    PROTO_OK);
		}
		r = hs_input(to, &got, step < 3 ? &msg[step + 1] : &none, why,
		    sizeof why, &st);
		if (r == HSR_REFUSE || r == HSR_FAIL)
			return;
		FUZZ_ASSERT(r == (step >= 2 ? HSR_UP : HSR_CONTINUE));
	}
	FUZZ_ASSERT(a.st == HSS_UP && c.st == HSS_UP);
	/* Both let the other in: what crossed the wire must be what was
	 * sent, but for WELCOME's unchecked version. */
	if (changed && which != 3)
		FUZZ_ASSERT(!"a tampered handshake message was accepted");
	FUZZ_ASSERT(a.peer_rank == 0 && c.peer_rank == 1);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hs_cfg cc, ca;
	struct proto_msg hello;
	struct hs h;
	int munge;

	if (size < 2)
		return 0;
	fuzz_ctr = 0;
	fuzz_encodes = 0;
	munge = (data[0] / 3) & 1;
	fuzz_cfgs(&cc, &ca, munge);
	switch (data[0] % 3) {
	case 0:
		hs_start_incoming(&h, &ca);
		fuzz_feed_stream(&h, data + 1, size - 1);
		break;
	case 1:
		hs_start_outgoing(&h, &cc, 1, &hello);
		fuzz_feed_stream(&h, data + 1, size - 1);
		break;
	case 2:
		fuzz_tampered_run(data[1] % 4, data + 2, size - 2, munge);
		break;
	}
	return 0;
}
