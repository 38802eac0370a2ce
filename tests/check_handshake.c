/*
 * check_handshake.c: the peer handshake's state machine (daemon/
 * handshake.c), driven end to end through the real encoder and decoder:
 * the good case, a wrong key, a wrong community or world, replays of
 * recorded messages, tampering, messages out of order, and with MUNGE
 * (through counting stand-ins for munged) that no credential is made
 * for a caller before it proved the key.
 */
#include "config.h"

#include "check-main.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handshake.h"
#include "proto.h"

static const uint8_t key1[] = "0123456789abcdef-the-job-key";
static const uint8_t key2[] = "0123456789abcdef-another-key";

static struct hs_cfg cfg_c, cfg_a;	/* connector rank 0, acceptor rank 1 */
static char why[256];
static enum proto_status st;

static void
setup(void)
{
	cfg_c = (struct hs_cfg){ .rank = 0, .world = 4, .community = "job42",
	    .key = key1, .keylen = sizeof key1 - 1 };
	cfg_a = cfg_c;
	cfg_a.rank = 1;
}

/* What the other end reads: the message as it crosses the wire. */
static struct proto_msg
wire(struct proto_msg *m)
{
	uint8_t buf[PROTO_HDR_LEN + PROTO_MAX_FIXED];
	struct proto_msg d;
	size_t n;

	n = proto_encode(m, buf, sizeof buf);
	ck_assert_uint_gt(n, 0);
	ck_assert_int_eq(proto_decode(buf, n, PROTO_CH_PEER, &d), PROTO_OK);
	return d;
}

static enum hs_result
feed(struct hs *h, struct proto_msg *in, struct proto_msg *out)
{
	struct proto_msg d = wire(in);

	return hs_input(h, &d, out, why, sizeof why, &st);
}

/* The messages of one handshake, kept for replaying. */
struct run {
	struct proto_msg hello, challenge, auth, welcome;
	enum hs_result ra, rc;
};

/* Starts connector c (to rank want) and acceptor a, and has a answer
 * c's HELLO (in hello) with a CHALLENGE (in chal): where most cases
 * begin. */
static void
to_challenge(struct hs *c, struct hs *a, uint32_t want,
    struct proto_msg *hello, struct proto_msg *chal)
{
	hs_start_outgoing(c, &cfg_c, want, hello);
	hs_start_incoming(a, &cfg_a);
	ck_assert_int_eq(feed(a, hello, chal), HSR_CONTINUE);
}

static void
run_good(struct hs *c, struct hs *a, struct run *r)
{
	struct proto_msg none;

	to_challenge(c, a, 1, &r->hello, &r->challenge);
	ck_assert_uint_eq(r->challenge.hdr.type, PT_CHALLENGE);
	ck_assert_int_eq(feed(c, &r->challenge, &r->auth), HSR_CONTINUE);
	ck_assert_uint_eq(r->auth.hdr.type, PT_AUTH);
	r->ra = feed(a, &r->auth, &r->welcome);
	ck_assert_int_eq(r->ra, HSR_UP);
	ck_assert_uint_eq(r->welcome.hdr.type, PT_WELCOME);
	r->rc = feed(c, &r->welcome, &none);
	ck_assert_int_eq(r->rc, HSR_UP);
	ck_assert_uint_eq(none.hdr.type, 0);
}

START_TEST(good)
{
	struct hs c, a;
	struct run r;

	run_good(&c, &a, &r);
	ck_assert_int_eq(a.st, HSS_UP);
	ck_assert_int_eq(c.st, HSS_UP);
	ck_assert_uint_eq(a.peer_rank, 0);
	ck_assert_uint_eq(c.peer_rank, 1);
	/* The key is nowhere in what crossed the wire. */
	ck_assert_ptr_null(memmem(&r.hello, sizeof r.hello, key1, 16));
	ck_assert_ptr_null(memmem(&r.challenge, sizeof r.challenge, key1, 16));
	ck_assert_ptr_null(memmem(&r.auth, sizeof r.auth, key1, 16));
}
END_TEST

START_TEST(fresh_nonces)
{
	struct hs c1, a1, c2, a2;
	struct run r1, r2;

	run_good(&c1, &a1, &r1);
	run_good(&c2, &a2, &r2);
	ck_assert_mem_ne(r1.hello.u.hello.nonce, r2.hello.u.hello.nonce,
	    PROTO_NONCE_LEN);
	ck_assert_mem_ne(r1.challenge.u.challenge.nonce,
	    r2.challenge.u.challenge.nonce, PROTO_NONCE_LEN);
	ck_assert_mem_ne(r1.auth.u.auth.mac, r2.auth.u.auth.mac,
	    PROTO_MAC_LEN);
}
END_TEST

/* The acceptor holds another key: the connector sees the acceptor's
 * proof fail and refuses; the acceptor hears why. */
START_TEST(wrong_key_acceptor)
{
	struct proto_msg hello, chal, ref, out;
	struct hs c, a;

	cfg_a.key = key2;
	to_challenge(&c, &a, 1, &hello, &chal);
	ck_assert_int_eq(feed(&c, &chal, &ref), HSR_REFUSE);
	ck_assert_uint_eq(ref.hdr.type, PT_REFUSE);
	ck_assert_int_eq(st, PS_EPERM);
	ck_assert_ptr_nonnull(strstr(why, "key mismatch"));
	ck_assert_ptr_nonnull(strstr(why, "rank 1"));
	ck_assert_int_eq(feed(&a, &ref, &out), HSR_FAIL);
	ck_assert_ptr_nonnull(strstr(why, "refused us: key mismatch"));
	ck_assert_uint_eq(out.hdr.type, 0);
}
END_TEST

/* The connector holds another key: the acceptor's check of AUTH fails. */
START_TEST(wrong_key_connector)
{
	struct proto_msg hello, chal, auth, out;
	struct hs c, a;

	cfg_c.key = key2;
	to_challenge(&c, &a, 1, &hello, &chal);
	/* It cannot check the acceptor either, so it stops there... */
	ck_assert_int_eq(feed(&c, &chal, &auth), HSR_REFUSE);
	/* ...and an AUTH made with the wrong key is refused. */
	cfg_c.key = key2;
	memset(&auth, 0, sizeof auth);
	auth.hdr.type = PT_AUTH;
	hs_mac(&c, 0, auth.u.auth.mac);
	ck_assert_int_eq(feed(&a, &auth, &out), HSR_REFUSE);
	ck_assert_uint_eq(out.hdr.type, PT_REFUSE);
	ck_assert_int_eq(out.u.refuse.status, PS_EPERM);
	ck_assert_ptr_nonnull(strstr(out.u.refuse.msg, "key mismatch"));
}
END_TEST

/* HELLO and AUTH recorded from one handshake, replayed to a fresh
 * acceptor: the new CHALLENGE carries a new nonce, the old AUTH does not
 * answer it. */
START_TEST(replay_to_acceptor)
{
	struct proto_msg chal, out;
	struct hs c, a, a2;
	struct run r;

	run_good(&c, &a, &r);
	hs_start_incoming(&a2, &cfg_a);
	ck_assert_int_eq(feed(&a2, &r.hello, &chal), HSR_CONTINUE);
	ck_assert_mem_ne(chal.u.challenge.nonce, r.challenge.u.challenge.nonce,
	    PROTO_NONCE_LEN);
	ck_assert_int_eq(feed(&a2, &r.auth, &out), HSR_REFUSE);
	ck_assert_ptr_nonnull(strstr(why, "could not prove"));
	ck_assert_int_ne(a2.st, HSS_UP);
}
END_TEST

/* A recorded CHALLENGE replayed to a fresh connector (an impostor posing
 * as the acceptor): it answers another nonce, so it is refused. */
START_TEST(replay_to_connector)
{
	struct proto_msg hello, out;
	struct hs c, a, c2;
	struct run r;

	run_good(&c, &a, &r);
	hs_start_outgoing(&c2, &cfg_c, 1, &hello);
	ck_assert_int_eq(feed(&c2, &r.challenge, &out), HSR_REFUSE);
	ck_assert_ptr_nonnull(strstr(why, "key mismatch"));
}
END_TEST

START_TEST(community_world_rank)
{
	struct proto_msg hello, out;
	struct hs c, a;

	cfg_c.community = "job43";
	hs_start_outgoing(&c, &cfg_c, 1, &hello);
	hs_start_incoming(&a, &cfg_a);
	ck_assert_int_eq(feed(&a, &hello, &out), HSR_REFUSE);
	ck_assert_ptr_nonnull(strstr(out.u.refuse.msg, "community mismatch"));
	ck_assert_ptr_nonnull(strstr(out.u.refuse.msg, "job43"));
	/* Our community (the key, without a key file) is in our log only. */
	ck_assert_ptr_null(strstr(out.u.refuse.msg, "job42"));
	ck_assert_ptr_nonnull(strstr(why, "job42"));

	setup();
	cfg_c.world = 5;
	hs_start_outgoing(&c, &cfg_c, 1, &hello);
	hs_start_incoming(&a, &cfg_a);
	ck_assert_int_eq(feed(&a, &hello, &out), HSR_REFUSE);
	ck_assert_ptr_nonnull(strstr(out.u.refuse.msg, "world size"));

	setup();
	cfg_c.rank = 1;
	hs_start_outgoing(&c, &cfg_c, 2, &hello);
	hs_start_incoming(&a, &cfg_a);
	ck_assert_int_eq(feed(&a, &hello, &out), HSR_REFUSE);
	ck_assert_ptr_nonnull(strstr(out.u.refuse.msg, "own"));
}
END_TEST

/* The connector wanted rank 2 but rank 1 answered. */
START_TEST(wrong_rank_answers)
{
	struct proto_msg hello, chal, out;
	struct hs c, a;

	to_challenge(&c, &a, 2, &hello, &chal);
	ck_assert_int_eq(feed(&c, &chal, &out), HSR_REFUSE);
	ck_assert_ptr_nonnull(strstr(why, "expected rank 2"));
}
END_TEST

/* A man in the middle who clears the connector's MUNGE flag in HELLO (to
 * talk the acceptor out of demanding a credential) breaks both proofs. */
START_TEST(stripped_flag)
{
	struct proto_msg hello, chal, out;
	struct hs c, a;

	hs_start_outgoing(&c, &cfg_c, 1, &hello);
	c.flags_c = PROTO_HS_F_MUNGE;	/* as a MUNGE connector would */
	hello.u.hello.flags = 0;	/* stripped on the way */
	hs_start_incoming(&a, &cfg_a);
	ck_assert_int_eq(feed(&a, &hello, &chal), HSR_CONTINUE);
	ck_assert_int_eq(feed(&c, &chal, &out), HSR_REFUSE);
	ck_assert_ptr_nonnull(strstr(why, "key mismatch"));
}
END_TEST

/* AUTH must carry HELLO's flags. */
START_TEST(auth_flags_differ)
{
	struct proto_msg hello, chal, auth, out;
	struct hs c, a;

	to_challenge(&c, &a, 1, &hello, &chal);
	ck_assert_int_eq(feed(&c, &chal, &auth), HSR_CONTINUE);
	auth.u.auth.flags = PROTO_HS_F_MUNGE;
	proto_set_name(auth.u.auth.cred, sizeof auth.u.auth.cred, "MUNGE:x");
	ck_assert_int_eq(feed(&a, &auth, &out), HSR_REFUSE);
	ck_assert_ptr_nonnull(strstr(why, "flags"));
}
END_TEST

/* A tampered MAC byte, either direction. */
START_TEST(tampered_mac)
{
	struct proto_msg hello, chal, auth, out;
	struct hs c, a;

	to_challenge(&c, &a, 1, &hello, &chal);
	chal.u.challenge.mac[7] ^= 1;
	ck_assert_int_eq(feed(&c, &chal, &out), HSR_REFUSE);

	to_challenge(&c, &a, 1, &hello, &chal);
	ck_assert_int_eq(feed(&c, &chal, &auth), HSR_CONTINUE);
	auth.u.auth.mac[31] ^= 0x80;
	ck_assert_int_eq(feed(&a, &auth, &out), HSR_REFUSE);
}
END_TEST

/* Out of order, or a second go once done: dropped without an answer. */
START_TEST(out_of_order)
{
	struct proto_msg hello, chal, auth, out;
	struct hs c, a;
	struct run r;

	hs_start_incoming(&a, &cfg_a);
	hs_start_outgoing(&c, &cfg_c, 1, &hello);
	memset(&auth, 0, sizeof auth);
	auth.hdr.type = PT_AUTH;
	ck_assert_int_eq(feed(&a, &auth, &out), HSR_FAIL);
	ck_assert_ptr_nonnull(strstr(why, "unexpected AUTH"));

	hs_start_incoming(&a, &cfg_a);
	ck_assert_int_eq(feed(&a, &hello, &chal), HSR_CONTINUE);
	ck_assert_int_eq(feed(&a, &hello, &out), HSR_FAIL);	/* twice */

	/* The connector gets WELCOME before CHALLENGE. */
	hs_start_outgoing(&c, &cfg_c, 1, &hello);
	memset(&out, 0, sizeof out);
	out.hdr.type = PT_WELCOME;
	out.u.welcome.version = PROTO_VERSION;
	out.u.welcome.rank = 1;
	out.u.welcome.world = 4;
	ck_assert_int_eq(feed(&c, &out, &auth), HSR_FAIL);

	/* Anything after success. */
	run_good(&c, &a, &r);
	ck_assert_int_eq(feed(&a, &r.hello, &out), HSR_FAIL);
	ck_assert_int_eq(feed(&c, &r.challenge, &out), HSR_FAIL);
	/* A REFUSE after success is no refusal either. */
	memset(&out, 0, sizeof out);
	out.hdr.type = PT_REFUSE;
	ck_assert_int_eq(feed(&c, &out, &auth), HSR_FAIL);
	ck_assert_ptr_null(strstr(why, "refused us"));
}
END_TEST

/* A WELCOME naming another rank than the one that proved itself. */
START_TEST(welcome_wrong_rank)
{
	struct proto_msg hello, chal, auth, w, out;
	struct hs c, a;

	to_challenge(&c, &a, 1, &hello, &chal);
	ck_assert_int_eq(feed(&c, &chal, &auth), HSR_CONTINUE);
	ck_assert_int_eq(feed(&a, &auth, &w), HSR_UP);
	w.u.welcome.rank = 3;
	ck_assert_int_eq(feed(&c, &w, &out), HSR_FAIL);
	ck_assert_ptr_nonnull(strstr(why, "expected rank 1"));
}
END_TEST

/* --- MUNGE, through counting stand-ins for munged ---
 * A stand-in credential is "MUNGE:" and the hex of its payload, so a
 * credential made for another handshake or role does not verify. */
static unsigned n_encode, n_verify;

static void
fake_cred(const uint8_t *bind, size_t len, char *cred, size_t cap)
{
	size_t i, o = (size_t)snprintf(cred, cap, "MUNGE:");

	for (i = 0; i < len && o + 3 <= cap; i++)
		o += (size_t)snprintf(cred + o, cap - o, "%02x", bind[i]);
}

static int
fake_encode(const uint8_t *bind, size_t len, char *cred, size_t cap,
    char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	n_encode++;
	fake_cred(bind, len, cred, cap);
	return 0;
}

static int
fake_verify(const char *cred, const uint8_t *bind, size_t len, char *err,
    size_t errlen)
{
	char want[PROTO_CRED_MAX];

	n_verify++;
	fake_cred(bind, len, want, sizeof want);
	if (strcmp(cred, want) != 0) {
		snprintf(err, errlen, "sent a MUNGE credential made for "
		    "another handshake (replayed?)");
		return -1;
	}
	return 0;
}

static void
munge_on(void)
{
	cfg_c.munge = cfg_a.munge = 1;
	cfg_c.munge_encode = cfg_a.munge_encode = fake_encode;
	cfg_c.munge_verify = cfg_a.munge_verify = fake_verify;
	n_encode = n_verify = 0;
}

/* Both sides prove their uid; each credential is made once the other
 * side's MAC checked out: the acceptor's goes with WELCOME, not with the
 * CHALLENGE that anyone naming the community gets. */
START_TEST(munge_good)
{
	struct hs c, a;
	struct run r;

	munge_on();
	run_good(&c, &a, &r);
	ck_assert_uint_eq(n_encode, 2);
	ck_assert_uint_eq(n_verify, 2);
	ck_assert_uint_eq(r.challenge.u.challenge.flags, PROTO_HS_F_MUNGE);
	ck_assert_uint_eq(r.welcome.u.welcome.flags, PROTO_HS_F_MUNGE);
	ck_assert_str_ne(r.welcome.u.welcome.cred, "");
	ck_assert_str_ne(r.auth.u.auth.cred, "");
	ck_assert_str_ne(r.welcome.u.welcome.cred, r.auth.u.auth.cred);
}
END_TEST

/* Defect 5 of issue 10: a caller without the key, who names the
 * community and the world, used to make us ask munged for a credential
 * (in CHALLENGE).  Now neither its HELLO nor its forged AUTH reaches
 * munged, in either direction. */
START_TEST(munge_not_before_mac)
{
	struct proto_msg hello, chal, auth, out;
	struct hs c, a;

	munge_on();
	cfg_c.key = key2;	/* the caller does not hold the key */
	to_challenge(&c, &a, 1, &hello, &chal);
	ck_assert_uint_eq(n_encode, 0);
	/* The caller forges AUTH (it cannot check our MAC, so it goes on
	 * as if it had). */
	memset(&auth, 0, sizeof auth);
	auth.hdr.type = PT_AUTH;
	auth.u.auth.flags = PROTO_HS_F_MUNGE;
	memset(auth.u.auth.mac, 0x5a, sizeof auth.u.auth.mac);
	proto_set_name(auth.u.auth.cred, sizeof auth.u.auth.cred, "MUNGE:x");
	ck_assert_int_eq(feed(&a, &auth, &out), HSR_REFUSE);
	ck_assert_ptr_nonnull(strstr(why, "key mismatch"));
	ck_assert_uint_eq(n_encode, 0);
	ck_assert_uint_eq(n_verify, 0);
	/* And a connector does not answer a forged CHALLENGE with one. */
	ck_assert_int_eq(feed(&c, &chal, &out), HSR_REFUSE);
	ck_assert_uint_eq(n_encode, 0);
}
END_TEST

/* The acceptor's credential in WELCOME is checked: one made for another
 * handshake (or none) is refused, after which the connector is not up. */
START_TEST(munge_welcome_checked)
{
	struct proto_msg hello, chal, auth, w, out;
	struct hs c, a;
	struct run other;
	struct hs c2, a2;

	munge_on();
	run_good(&c2, &a2, &other);
	to_challenge(&c, &a, 1, &hello, &chal);
	ck_assert_int_eq(feed(&c, &chal, &auth), HSR_CONTINUE);
	ck_assert_int_eq(feed(&a, &auth, &w), HSR_UP);
	memcpy(w.u.welcome.cred, other.welcome.u.welcome.cred,
	    sizeof w.u.welcome.cred);
	ck_assert_int_eq(feed(&c, &w, &out), HSR_REFUSE);
	ck_assert_ptr_nonnull(strstr(why, "another handshake"));
	ck_assert_int_ne(c.st, HSS_UP);
	/* No MUNGE flag in WELCOME after a CHALLENGE that had it. */
	to_challenge(&c, &a, 1, &hello, &chal);
	ck_assert_int_eq(feed(&c, &chal, &auth), HSR_CONTINUE);
	ck_assert_int_eq(feed(&a, &auth, &w), HSR_UP);
	w.u.welcome.flags = 0;
	w.u.welcome.cred[0] = '\0';
	ck_assert_int_eq(feed(&c, &w, &out), HSR_REFUSE);
	ck_assert_ptr_nonnull(strstr(why, "flags"));
}
END_TEST

static Suite *
handshake_suite(void)
{
	return check_suite("peer handshake", "handshake", setup, NULL, 30,
	    CHECK_TESTS(good, fresh_nonces, wrong_key_acceptor,
	    wrong_key_connector, replay_to_acceptor, replay_to_connector,
	    community_world_rank, wrong_rank_answers, stripped_flag,
	    auth_flags_differ, tampered_mac, out_of_order, welcome_wrong_rank,
	    munge_good, munge_not_before_mac, munge_welcome_checked));
}

int
main(void)
{
	return check_run(handshake_suite(), NULL);
}
