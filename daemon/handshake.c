/*
 * handshake.c: the peer handshake (see handshake.h and proto.h):
 *
 *   connector                        acceptor
 *   HELLO {nonce_c}           --->   community, world, rank checked
 *                             <---   CHALLENGE {nonce_a, MAC_a}
 *   MAC_a checked
 *   AUTH {MAC_c, cred_c}      --->   MAC_c checked, then cred_c
 *                             <---   WELCOME {cred_a}
 *   cred_a checked                   (cred_a made only now)
 *
 * The acceptor asks munged for nothing until the connector has proved
 * the key: before, anyone who named the community (public: the job id)
 * and the world size made us encode a credential (wire v2).
 * Either side answers REFUSE with the reason instead of going on.
 */
#include "config.h"
#include "handshake.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "auth.h"
#include "hmac.h"
#include "le.h"

_Static_assert(PROTO_MAC_LEN == HMAC_SHA256_LEN, "a proof is one HMAC");

/* The proofs differ by role, so one can never stand for another: the two
 * MACs under the key, and the payloads of the two MUNGE credentials. */
static const char hs_label_a[16] = "asoc-v3-acceptor";
static const char hs_label_c[16] = "asoc-v3-connect";
static const char hs_label_ma[16] = "asoc-v3-munge-a";
static const char hs_label_mc[16] = "asoc-v3-munge-c";

#define HS_TRANSCRIPT_LEN (16 + PROTO_NAME_MAX + 24 + 2 * PROTO_NONCE_LEN)

/* Everything both sides agreed on, after a label: the community, the
 * world, both ranks, both flags, which of the pair's connections this is
 * (so that no one in between can move a connection to another lane) and
 * both nonces. */
static void
hs_transcript(const struct hs *h, const char label[16],
    uint8_t msg[HS_TRANSCRIPT_LEN])
{
	uint32_t rank_c = h->outgoing ? h->cfg->rank : h->peer_rank;
	uint32_t rank_a = h->outgoing ? h->peer_rank : h->cfg->rank;
	uint8_t *p = msg;

	memcpy(p, label, 16);
	p += 16;
	memset(p, 0, PROTO_NAME_MAX);
	memcpy(p, h->cfg->community, strnlen(h->cfg->community,
	    PROTO_NAME_MAX - 1));
	p += PROTO_NAME_MAX;
	le_put32(p, h->cfg->world);
	le_put32(p + 4, rank_c);
	le_put32(p + 8, rank_a);
	le_put32(p + 12, h->flags_c);
	le_put32(p + 16, h->flags_a);
	le_put(p + 20, h->conns_c, 2);
	le_put(p + 22, h->lane_c, 2);
	p += 24;
	memcpy(p, h->nonce_c, PROTO_NONCE_LEN);
	memcpy(p + PROTO_NONCE_LEN, h->nonce_a, PROTO_NONCE_LEN);
}

int
hs_mac(const struct hs *h, int acceptor, uint8_t mac[PROTO_MAC_LEN])
{
	uint8_t msg[HS_TRANSCRIPT_LEN];

	hs_transcript(h, acceptor ? hs_label_a : hs_label_c, msg);
	/* Fails closed: no proof is made, none is accepted. */
	return hmac_sha256(h->cfg->key, h->cfg->keylen, msg, sizeof msg, mac,
	    NULL, 0);
}

static int
hs_mac_ok(const struct hs *h, int acceptor, const uint8_t *got)
{
	uint8_t want[PROTO_MAC_LEN];

	if (hs_mac(h, acceptor, want) < 0)
		return 0;
	return CRYPTO_memcmp(want, got, PROTO_MAC_LEN) == 0;
}

/* What a MUNGE credential must carry: a digest of this very handshake for
 * this role, so it cannot be relayed from another handshake (not even one
 * the attacker ran with us) nor reflected back. */
static void
hs_munge_bind(const struct hs *h, int acceptor, uint8_t out[32])
{
	uint8_t msg[HS_TRANSCRIPT_LEN];

	hs_transcript(h, acceptor ? hs_label_ma : hs_label_mc, msg);
	SHA256(msg, sizeof msg, out);
}

/* With MUNGE, our credential in a role, over the handshake's digest.
 * -1 with the reason. */
static int
hs_prove_munge(const struct hs *h, int acceptor, char *cred, size_t cap,
    char *err, size_t errlen)
{
	uint8_t bind[32];

	if (!h->cfg->munge)
		return 0;
	hs_munge_bind(h, acceptor, bind);
	if (h->cfg->munge_encode != NULL)
		return h->cfg->munge_encode(bind, sizeof bind, cred, cap, err,
		    errlen);
	return auth_munge_encode(bind, sizeof bind, cred, cap, err, errlen);
}

/* The peer's MAC in its role; -1 with the reason, naming the peer.  The
 * acceptor knows its caller only by the rank it claims. */
static int
hs_check_mac(const struct hs *h, int acceptor, const uint8_t *mac,
    char *err, size_t errlen)
{
	if (!hs_mac_ok(h, acceptor, mac)) {
		snprintf(err, errlen, "key mismatch: %s%u could not prove it "
		    "holds the job key: give both the same --key-file",
		    acceptor ? "rank " : "the peer claiming rank ",
		    h->peer_rank);
		return -1;
	}
	return 0;
}

/* With MUNGE, the peer's credential in its role (its MAC checked out
 * already); -1 with the reason. */
static int
hs_check_munge(const struct hs *h, int acceptor, uint32_t flags,
    const char *cred, char *err, size_t errlen)
{
	char why[PROTO_MSG_MAX];
	uint8_t bind[32];
	int rc;

	if (!h->cfg->munge)
		return 0;
	if (!(flags & PROTO_HS_F_MUNGE)) {
		snprintf(err, errlen, "rank %u offers no MUNGE credential, but "
		    "munged runs here: run munged on every node, or --munge "
		    "no on all", h->peer_rank);
		return -1;
	}
	hs_munge_bind(h, acceptor, bind);
	rc = h->cfg->munge_verify != NULL ?
	    h->cfg->munge_verify(cred, bind, sizeof bind, why, sizeof why) :
	    auth_munge_verify(cred, bind, sizeof bind, why, sizeof why);
	if (rc < 0) {
		snprintf(err, errlen, "rank %u %s", h->peer_rank, why);
		return -1;
	}
	return 0;
}

static void
hs_nonce(const struct hs_cfg *cfg, uint8_t *nonce)
{
	if (cfg->random != NULL)
		cfg->random(nonce, PROTO_NONCE_LEN);
	else
		auth_random(nonce, PROTO_NONCE_LEN);
}

static void
hs_init(struct hs *h, const struct hs_cfg *cfg, int outgoing)
{
	memset(h, 0, sizeof *h);
	h->cfg = cfg;
	h->outgoing = outgoing;
}

void
hs_start_outgoing(struct hs *h, const struct hs_cfg *cfg, uint32_t peer_rank,
    struct proto_msg *hello)
{
	hs_init(h, cfg, 1);
	h->peer_rank = peer_rank;
	h->flags_c = cfg->munge ? PROTO_HS_F_MUNGE : 0;
	hs_nonce(cfg, h->nonce_c);
	h->st = HSS_WAIT_CHALLENGE;

	memset(hello, 0, sizeof *hello);
	hello->hdr.type = PT_HELLO;
	hello->u.hello.version = PROTO_VERSION;
	hello->u.hello.rank = cfg->rank;
	hello->u.hello.world = cfg->world;
	hello->u.hello.flags = h->flags_c;
	proto_set_name(hello->u.hello.community,
	    sizeof hello->u.hello.community, cfg->community);
	memcpy(hello->u.hello.nonce, h->nonce_c, PROTO_NONCE_LEN);
	/* One connection, the pair's own; peer.c says otherwise when it
	 * opens an extra one (--conns-per-peer). */
	hs_set_lane(h, hello, 1, 0);
}

void
hs_set_lane(struct hs *h, struct proto_msg *hello, unsigned conns,
    unsigned lane)
{
	h->conns_c = (uint16_t)conns;
	h->lane_c = (uint16_t)lane;
	hello->u.hello.conns = h->conns_c;
	hello->u.hello.lane = h->lane_c;
}

void
hs_start_incoming(struct hs *h, const struct hs_cfg *cfg)
{
	hs_init(h, cfg, 0);
	h->st = HSS_WAIT_HELLO;
}

static enum hs_result
hs_refuse(struct hs *h, struct proto_msg *out, enum proto_status status,
    char *why, size_t whylen, enum proto_status *st, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));
static enum hs_result
hs_fail(struct hs *h, char *why, size_t whylen, enum proto_status *st,
    enum proto_status status, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* Refuses with a reason; the same words go to the peer and to our log. */
static enum hs_result
hs_refuse(struct hs *h, struct proto_msg *out, enum proto_status status,
    char *why, size_t whylen, enum proto_status *st, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	memset(out, 0, sizeof *out);
	out->hdr.type = PT_REFUSE;
	out->u.refuse.status = status;
	out->u.refuse.version = PROTO_VERSION;
	proto_set_name(out->u.refuse.msg, sizeof out->u.refuse.msg, why);
	*st = status;
	h->st = HSS_FAILED;
	return HSR_REFUSE;
}

static enum hs_result
hs_on_hello(struct hs *h, const struct proto_hello *m, struct proto_msg *out,
    char *why, size_t whylen, enum proto_status *st)
{
	const struct hs_cfg *cfg = h->cfg;
	struct proto_challenge *c = &out->u.challenge;

	if (m->version != PROTO_VERSION)
		return hs_refuse(h, out, PS_EPROTO, why, whylen, st,
		    "protocol version mismatch: peer speaks v%u, this asocd "
		    "speaks v%u", m->version, PROTO_VERSION);
	if (strcmp(m->community, cfg->community) != 0) {
		enum hs_result r = hs_refuse(h, out, PS_EPERM, why, whylen,
		    st, "community mismatch: peer is in '%.40s', this asocd "
		    "in '%.40s'", m->community, cfg->community);

		/* Our own community stays in our log: without a key file it
		 * is the key, and the caller has proved nothing yet. */
		snprintf(out->u.refuse.msg, sizeof out->u.refuse.msg,
		    "community mismatch: this asocd is not in community "
		    "'%.40s'", m->community);
		return r;
	}
	if (m->world != cfg->world)
		return hs_refuse(h, out, PS_EPROTO, why, whylen, st,
		    "world size mismatch: peer has %u ranks, this asocd %u: "
		    "use the same --peers everywhere", m->world, cfg->world);
	if (m->rank == cfg->rank)
		return hs_refuse(h, out, PS_EPROTO, why, whylen, st,
		    "peer claims rank %u, which is this asocd's own: check "
		    "--rank", m->rank);
	if (cfg->munge && !(m->flags & PROTO_HS_F_MUNGE))
		return hs_refuse(h, out, PS_EPERM, why, whylen, st,
		    "rank %u offers no MUNGE credential, but munged runs "
		    "here: run munged on every node, or --munge no on all",
		    m->rank);
	h->peer_rank = m->rank;
	h->conns_c = m->conns;
	h->lane_c = m->lane;
	h->flags_c = m->flags;
	h->flags_a = cfg->munge ? PROTO_HS_F_MUNGE : 0;
	memcpy(h->nonce_c, m->nonce, PROTO_NONCE_LEN);
	hs_nonce(cfg, h->nonce_a);

	memset(out, 0, sizeof *out);
	out->hdr.type = PT_CHALLENGE;
	c->rank = cfg->rank;
	c->world = cfg->world;
	c->flags = h->flags_a;
	memcpy(c->nonce, h->nonce_a, PROTO_NONCE_LEN);
	/* Our MAC only: the caller has proved nothing yet, so munged is
	 * not asked for a credential (that waits for AUTH). */
	if (hs_mac(h, 1, c->mac) < 0)
		return hs_refuse(h, out, PS_ESYSTEM, why, whylen, st,
		    HMAC_SHA256_ERR);
	h->st = HSS_WAIT_AUTH;
	return HSR_CONTINUE;
}

static enum hs_result
hs_on_challenge(struct hs *h, const struct proto_challenge *m,
    struct proto_msg *out, char *why, size_t whylen, enum proto_status *st)
{
	const struct hs_cfg *cfg = h->cfg;
	struct proto_auth *a = &out->u.auth;
	char err[PROTO_MSG_MAX];

	if (m->rank != h->peer_rank || m->world != cfg->world)
		return hs_refuse(h, out, PS_EPROTO, why, whylen, st,
		    "the peer answers as rank %u of %u, expected rank %u of "
		    "%u: check --peers on both", m->rank, m->world,
		    h->peer_rank, cfg->world);
	h->flags_a = m->flags;
	memcpy(h->nonce_a, m->nonce, PROTO_NONCE_LEN);
	if (hs_check_mac(h, 1, m->mac, err, sizeof err) < 0)
		return hs_refuse(h, out, PS_EPERM, why, whylen, st, "%s", err);
	/* Its credential comes with WELCOME; refuse now if it will not. */
	if (cfg->munge && !(m->flags & PROTO_HS_F_MUNGE))
		return hs_refuse(h, out, PS_EPERM, why, whylen, st, "rank %u "
		    "offers no MUNGE credential, but munged runs here: run "
		    "munged on every node, or --munge no on all", h->peer_rank);
	memset(out, 0, sizeof *out);
	out->hdr.type = PT_AUTH;
	a->flags = h->flags_c;
	if (hs_mac(h, 0, a->mac) < 0)
		return hs_refuse(h, out, PS_ESYSTEM, why, whylen, st,
		    HMAC_SHA256_ERR);
	/* The acceptor proved the key: a credential for it is no gift. */
	if (hs_prove_munge(h, 0, a->cred, sizeof a->cred, err,
	    sizeof err) < 0)
		return hs_refuse(h, out, PS_ESYSTEM, why, whylen, st,
		    "%s", err);
	h->st = HSS_WAIT_WELCOME;
	return HSR_CONTINUE;
}

static enum hs_result
hs_on_auth(struct hs *h, const struct proto_auth *m, struct proto_msg *out,
    char *why, size_t whylen, enum proto_status *st)
{
	const struct hs_cfg *cfg = h->cfg;
	char err[PROTO_MSG_MAX];

	if (m->flags != h->flags_c)
		return hs_refuse(h, out, PS_EPROTO, why, whylen, st,
		    "AUTH flags %#x differ from HELLO's %#x", m->flags,
		    h->flags_c);
	/* The MAC first: without the key, nothing reaches munged. */
	if (hs_check_mac(h, 0, m->mac, err, sizeof err) < 0 ||
	    hs_check_munge(h, 0, m->flags, m->cred, err, sizeof err) < 0)
		return hs_refuse(h, out, PS_EPERM, why, whylen, st, "%s", err);
	memset(out, 0, sizeof *out);
	out->hdr.type = PT_WELCOME;
	out->u.welcome.version = PROTO_VERSION;
	out->u.welcome.rank = cfg->rank;
	out->u.welcome.world = cfg->world;
	out->u.welcome.flags = h->flags_a;
	if (hs_prove_munge(h, 1, out->u.welcome.cred,
	    sizeof out->u.welcome.cred, err, sizeof err) < 0)
		return hs_refuse(h, out, PS_ESYSTEM, why, whylen, st,
		    "%s", err);
	h->st = HSS_UP;
	return HSR_UP;
}

static enum hs_result
hs_fail(struct hs *h, char *why, size_t whylen, enum proto_status *st,
    enum proto_status status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	*st = status;
	h->st = HSS_FAILED;
	return HSR_FAIL;
}

/* Connector: the acceptor's credential, now that both proved the key. */
static enum hs_result
hs_on_welcome(struct hs *h, const struct proto_welcome *m,
    struct proto_msg *out, char *why, size_t whylen, enum proto_status *st)
{
	char err[PROTO_MSG_MAX];

	if (m->rank != h->peer_rank || m->world != h->cfg->world)
		return hs_fail(h, why, whylen, st, PS_EPROTO, "the peer "
		    "welcomes us as rank %u of %u, expected rank %u of %u",
		    m->rank, m->world, h->peer_rank, h->cfg->world);
	if (m->flags != h->flags_a)
		return hs_refuse(h, out, PS_EPROTO, why, whylen, st, "WELCOME "
		    "flags %#x differ from CHALLENGE's %#x", m->flags,
		    h->flags_a);
	if (hs_check_munge(h, 1, m->flags, m->cred, err, sizeof err) < 0)
		return hs_refuse(h, out, PS_EPERM, why, whylen, st, "%s", err);
	h->st = HSS_UP;
	return HSR_UP;
}

enum hs_result
hs_input(struct hs *h, const struct proto_msg *in, struct proto_msg *out,
    char *why, size_t whylen, enum proto_status *st)
{
	uint16_t type = in->hdr.type;

	memset(out, 0, sizeof *out);
	if (whylen > 0)
		why[0] = '\0';
	*st = PS_OK;
	if (type == PT_REFUSE && h->st != HSS_UP && h->st != HSS_FAILED)
		return hs_fail(h, why, whylen, st,
		    (enum proto_status)in->u.refuse.status, "refused us: %s",
		    in->u.refuse.msg);
	switch (h->st) {
	case HSS_WAIT_HELLO:
		if (type == PT_HELLO)
			return hs_on_hello(h, &in->u.hello, out, why, whylen,
			    st);
		break;
	case HSS_WAIT_CHALLENGE:
		if (type == PT_CHALLENGE)
			return hs_on_challenge(h, &in->u.challenge, out, why,
			    whylen, st);
		break;
	case HSS_WAIT_AUTH:
		if (type == PT_AUTH)
			return hs_on_auth(h, &in->u.auth, out, why, whylen,
			    st);
		break;
	case HSS_WAIT_WELCOME:
		if (type != PT_WELCOME)
			break;
		return hs_on_welcome(h, &in->u.welcome, out, why, whylen, st);
	case HSS_CONNECTING:	/* not started: nothing is expected */
	case HSS_UP:
	case HSS_FAILED:
		break;
	}
	return hs_fail(h, why, whylen, st, PS_EPROTO, "unexpected %s during "
	    "the handshake", proto_type_name(type));
}
