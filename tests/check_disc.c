/*
 * check_disc.c: the discovery datagram's encoder and strict decoder.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "check-main.h"
#include "proto_disc.h"

static struct proto_disc
sample(void)
{
	struct proto_disc d;

	memset(&d, 0, sizeof d);
	d.version = DISC_VERSION;
	d.port = 9000;
	d.addr = 0x0a500001;
	d.world = 4;
	d.nonce = 0x0102030405060708ull;
	d.time_ms = 1790000000000ull;
	strcpy(d.community, "train42");
	memset(d.mac, 0xab, sizeof d.mac);
	return d;
}

START_TEST(round_trip)
{
	struct proto_disc a = sample(), b;
	uint8_t buf[DISC_LEN];

	proto_disc_encode(&a, buf);
	ck_assert_int_eq(proto_disc_decode(buf, sizeof buf, &b), 0);
	ck_assert_uint_eq(b.port, a.port);
	ck_assert_uint_eq(b.addr, a.addr);
	ck_assert_uint_eq(b.world, a.world);
	ck_assert_uint_eq(b.nonce, a.nonce);
	ck_assert_uint_eq(b.time_ms, a.time_ms);
	ck_assert_str_eq(b.community, a.community);
	ck_assert_mem_eq(b.mac, a.mac, DISC_MAC_LEN);
}
END_TEST

START_TEST(malformed)
{
	struct proto_disc a = sample(), b;
	uint8_t buf[DISC_LEN + 1], bad[DISC_LEN];
	size_t n;

	proto_disc_encode(&a, buf);
	for (n = 0; n < DISC_LEN; n++)
		ck_assert_int_eq(proto_disc_decode(buf, n, &b), -1);
	ck_assert_int_eq(proto_disc_decode(buf, DISC_LEN + 1, &b), -1);

	memcpy(bad, buf, DISC_LEN);
	bad[0] = 'X';			/* magic */
	ck_assert_int_eq(proto_disc_decode(bad, DISC_LEN, &b), -1);
	memcpy(bad, buf, DISC_LEN);
	bad[8] = 2;			/* version */
	ck_assert_int_eq(proto_disc_decode(bad, DISC_LEN, &b), -1);
	memcpy(bad, buf, DISC_LEN);
	bad[16] = 1, bad[17] = 0, bad[18] = 0, bad[19] = 0;	/* world 1 */
	ck_assert_int_eq(proto_disc_decode(bad, DISC_LEN, &b), -1);
	memcpy(bad, buf, DISC_LEN);
	memset(bad + 40, 'a', PROTO_NAME_MAX);	/* community without NUL */
	ck_assert_int_eq(proto_disc_decode(bad, DISC_LEN, &b), -1);
	memcpy(bad, buf, DISC_LEN);
	bad[40 + PROTO_NAME_MAX - 1] = 'z';	/* junk after the NUL */
	ck_assert_int_eq(proto_disc_decode(bad, DISC_LEN, &b), -1);
	memcpy(bad, buf, DISC_LEN);
	bad[10] = 0, bad[11] = 0;	/* port 0 */
	ck_assert_int_eq(proto_disc_decode(bad, DISC_LEN, &b), -1);
}
END_TEST

static Suite *
disc_suite(void)
{
	return check_suite("discovery datagram", "codec", NULL, NULL, 10,
	    CHECK_TESTS(round_trip, malformed));
}

int
main(void)
{
	return check_run(disc_suite(), NULL);
}
