/*
 * check_transport.c: transport.c's transport_pick and peer.c's auto
 * fallback (p->tp_failed) over the real transports[], without sockets.
 *
 * The other mock suites link with -Wl,--wrap=transport_pick, so that
 * peer.c picks a mock; this one does not: it only borrows
 * mock_daemon_start() for the daemon's state, then sets --transport
 * itself.  Nothing here calls a transport's listen(), so RDMA never finds
 * a device (its available() is false, as on a node without one) and TCP,
 * the fallback, is always there.  Connections are made with conn_new()
 * and never opened: the transports' close() takes them as they are.
 *
 * What cannot be told apart here: with RDMA unavailable, "the entry after
 * the one that failed" and "the first available" are both TCP, so that
 * part of transport_pick is only checked on a node with a device (the
 * RDMA lab, tests/test-rdma.sh).
 */
#include "config.h"

#include <check.h>
#include <string.h>

#include "check-main.h"
#include "mock-transport.h"
#include "transport_tcp.h"
#ifdef HAVE_RDMA
#include "transport_rdma.h"
#endif

static struct peer *p;		/* rank 1, never connected */

static void
setup(void)
{
	mock_daemon_start(3, 0, 0);
	asocd->conf->transport = CONF_TRANSPORT_AUTO;
	p = &asocd->peers[1];
	ck_assert_ptr_null(p->tp_failed);
	ck_assert_ptr_null(p->connecting);
}

/* An outgoing attempt to p over tp that has not finished its handshake
 * and is not p->connecting, so losing it starts no new attempt. */
static struct conn *
attempt(const struct transport *tp)
{
	struct conn *c = conn_new(tp, p, 1);

	ck_assert_ptr_nonnull(c);
	snprintf(c->name, sizeof c->name, "rank 1 (%s, never opened)",
	    tp->name);
	return c;
}

START_TEST(table_ends_with_tcp)
{
	size_t n = 0;

	while (transports[n] != NULL)
		n++;
	ck_assert_uint_ge(n, 1);
	ck_assert_ptr_eq(transports[n - 1], &transport_tcp);
	ck_assert_ptr_eq(transport_fallback(), &transport_tcp);
	ck_assert_ptr_eq(transport_find("tcp"), &transport_tcp);
	ck_assert_ptr_null(transport_find("carrier-pigeon"));
	ck_assert(transport_available(&transport_tcp));
#ifdef HAVE_RDMA
	/* Preferred by auto: first. */
	ck_assert_ptr_eq(transports[0], &transport_rdma);
	ck_assert_ptr_eq(transport_find("rdma"), &transport_rdma);
#endif
}
END_TEST

START_TEST(auto_without_rdma_device_picks_tcp)
{
	ck_assert_ptr_null(transport_wanted());
#ifdef HAVE_RDMA
	ck_assert_int_eq(transport_available(&transport_rdma), 0);
#endif
	ck_assert_ptr_eq(transport_pick(p), &transport_tcp);
}
END_TEST

/* --transport names one: always it, available or not, failed or not. */
START_TEST(named_transport_is_picked_regardless)
{
	asocd->conf->transport = CONF_TRANSPORT_TCP;
	ck_assert_ptr_eq(transport_wanted(), &transport_tcp);
	p->tp_failed = &transport_tcp;
	ck_assert_ptr_eq(transport_pick(p), &transport_tcp);
#ifdef HAVE_RDMA
	asocd->conf->transport = CONF_TRANSPORT_RDMA;
	ck_assert_ptr_eq(transport_wanted(), &transport_rdma);
	ck_assert_int_eq(transport_available(&transport_rdma), 0);
	p->tp_failed = NULL;
	ck_assert_ptr_eq(transport_pick(p), &transport_rdma);
	p->tp_failed = &transport_rdma;
	ck_assert_ptr_eq(transport_pick(p), &transport_rdma);
#endif
}
END_TEST

/* auto after a failure: past the failed entry; past the last one (the
 * fallback failed), the fallback still. */
START_TEST(auto_after_failure_picks_past_it)
{
#ifdef HAVE_RDMA
	p->tp_failed = &transport_rdma;
	ck_assert_ptr_eq(transport_pick(p), &transport_tcp);
#endif
	p->tp_failed = &transport_tcp;
	ck_assert_ptr_eq(transport_pick(p), &transport_tcp);
}
END_TEST

#ifdef HAVE_RDMA
/* auto: an attempt over RDMA fails before its handshake; peer.c notes it
 * for the peer, and the next pick is the entry after it. */
START_TEST(auto_failure_is_remembered)
{
	peer_conn_lost(attempt(&transport_rdma), "mock: no route to the HCA");
	ck_assert_ptr_eq(p->tp_failed, &transport_rdma);
	ck_assert_str_eq(p->tp_why, "mock: no route to the HCA");
	ck_assert_ptr_eq(transport_pick(p), &transport_tcp);
	mock_loop();	/* the deferred frees */
}
END_TEST

/* The fallback failing too means the peer is not up at all: the next
 * round starts from the first entry again. */
START_TEST(auto_fallback_failure_resets)
{
	peer_conn_lost(attempt(&transport_rdma), "mock: no route to the HCA");
	ck_assert_ptr_eq(p->tp_failed, &transport_rdma);
	peer_conn_lost(attempt(&transport_tcp), "mock: connection refused");
	ck_assert_ptr_null(p->tp_failed);
	ck_assert_ptr_eq(transport_pick(p), &transport_tcp);
	mock_loop();
}
END_TEST

/* --transport rdma: no fallback, so nothing is remembered. */
START_TEST(named_failure_is_not_remembered)
{
	asocd->conf->transport = CONF_TRANSPORT_RDMA;
	peer_conn_lost(attempt(&transport_rdma), "mock: no route to the HCA");
	ck_assert_ptr_null(p->tp_failed);
	ck_assert_ptr_eq(transport_pick(p), &transport_rdma);
	mock_loop();
}
END_TEST
#endif

/* An attempt that already handshook is a lost connection, not a failed
 * transport: nothing is remembered. */
START_TEST(lost_up_connection_is_not_a_failure)
{
	struct conn *c = mock_conn_up(&transport_tcp, 1);

	peer_conn_lost(c, "mock: cable pulled");
	ck_assert_ptr_null(p->tp_failed);
	mock_loop();
}
END_TEST

static Suite *
transport_suite(void)
{
	return check_suite("transport", "pick", setup, NULL, 10,
	    CHECK_TESTS(table_ends_with_tcp,
	    auto_without_rdma_device_picks_tcp,
	    named_transport_is_picked_regardless,
	    auto_after_failure_picks_past_it,
#ifdef HAVE_RDMA
	    auto_failure_is_remembered, auto_fallback_failure_resets,
	    named_failure_is_not_remembered,
#endif
	    lost_up_connection_is_not_a_failure));
}

int
main(void)
{
	return check_run(transport_suite(), NULL);
}
