/*
 * discovery.c: find the members of a community by authenticated UDP
 * broadcasts, then hand the sorted list to the normal start-up.
 *
 * Every member announces (address, port, community, world, time, nonce)
 * every 250 ms to --discovery-addr, MACed with the key.  Once it has
 * heard world distinct members (itself included) it keeps announcing a
 * moment longer, so the late ones complete too, and ranks are the order
 * of (address, port): the same list on every member, with no leader.
 */
#include "config.h"
#include "discovery.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/crypto.h>

#include "asocd.h"
#include "auth.h"
#include "hmac.h"
#include "log.h"
#include "proto_disc.h"

_Static_assert(DISC_MAC_LEN == HMAC_SHA256_LEN, "a signature is one HMAC");

#define DISC_PERIOD_MS		250
#define DISC_LINGER_ROUNDS	6	/* announces after completing */
#define DISC_WINDOW_MS		30000	/* accepted clock skew / replay */

struct disc_member {
	uint32_t addr;
	uint16_t port;
};

static struct {
	int fd;
	struct event *ev_read, *ev_timer;
	struct sockaddr_in to;
	uint32_t self_addr;
	struct disc_member *m;
	unsigned n, linger;
	struct timespec deadline;
	discovery_done_fn done;
	uint32_t warned[16];	/* sources already warned about */
	unsigned nwarned;
} ds;

/* -1 (and a warning) when OpenSSL fails: nothing is sent or accepted. */
static int
disc_mac(const uint8_t *msg, uint8_t *mac)
{
	size_t keylen;
	const uint8_t *key = auth_key(&keylen, NULL);	/* the key file's */

	if (hmac_sha256(key, keylen, msg, DISC_SIGNED_LEN, mac, NULL, 0) < 0) {
		log_warn("discovery: %s", HMAC_SHA256_ERR);
		return -1;
	}
	return 0;
}

static uint64_t
disc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
disc_warn_once(uint32_t src, const char *why)
{
	char a[INET_ADDRSTRLEN];
	struct in_addr in = { htonl(src) };
	unsigned i;

	for (i = 0; i < ds.nwarned; i++)
		if (ds.warned[i] == src)
			return;
	if (ds.nwarned < sizeof ds.warned / sizeof ds.warned[0])
		ds.warned[ds.nwarned++] = src;
	inet_ntop(AF_INET, &in, a, sizeof a);
	log_warn("discovery: ignored announces from %s: %s", a, why);
}

static void
disc_add(uint32_t addr, uint16_t port)
{
	struct disc_member *m;
	char a[INET_ADDRSTRLEN];
	struct in_addr in = { htonl(addr) };
	unsigned i;

	for (i = 0; i < ds.n; i++)
		if (ds.m[i].addr == addr && ds.m[i].port == port)
			return;
	if (ds.n >= asocd->conf->world)
		return;		/* more than the world: the extra waits */
	if ((m = realloc(ds.m, (ds.n + 1) * sizeof *m)) == NULL)
		return;
	ds.m = m;
	ds.m[ds.n].addr = addr;
	ds.m[ds.n].port = port;
	ds.n++;
	inet_ntop(AF_INET, &in, a, sizeof a);
	log_info("discovery: %s:%u is in community '%s' (%u of %u)", a, port,
	    asocd->conf->community, ds.n, asocd->conf->world);
}

static void
disc_on_read(evutil_socket_t fd, short what, void *arg)
{
	uint8_t buf[DISC_LEN + 1], mac[DISC_MAC_LEN];
	struct sockaddr_in from;
	socklen_t flen = sizeof from;
	struct proto_disc d;
	uint64_t now = disc_now_ms();
	ssize_t n;
	uint32_t src;

	(void)what;
	(void)arg;
	while ((n = recvfrom(fd, buf, sizeof buf, MSG_DONTWAIT,
	    (struct sockaddr *)&from, &flen)) >= 0) {
		src = ntohl(from.sin_addr.s_addr);
		if (proto_disc_decode(buf, (size_t)n, &d) < 0) {
			disc_warn_once(src, "not an ASoc announce");
			continue;
		}
		if (disc_mac(buf, mac) < 0)
			continue;
		if (CRYPTO_memcmp(mac, d.mac, DISC_MAC_LEN) != 0) {
			disc_warn_once(src, "bad MAC (another key?)");
			continue;
		}
		if (strcmp(d.community, asocd->conf->community) != 0)
			continue;	/* another job's: not ours to judge */
		if (d.world != asocd->conf->world) {
			disc_warn_once(src, "another --world for this community");
			continue;
		}
		if (d.time_ms + DISC_WINDOW_MS < now ||
		    d.time_ms > now + DISC_WINDOW_MS) {
			disc_warn_once(src, "stale or replayed (check clocks)");
			continue;
		}
		if (d.addr != src) {
			disc_warn_once(src, "announces another address");
			continue;
		}
		disc_add(d.addr, d.port);
		flen = sizeof from;
	}
}

static int
disc_cmp(const void *a, const void *b)
{
	const struct disc_member *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return (x->port > y->port) - (x->port < y->port);
}

static void
disc_finish(void)
{
	char *spec, a[INET_ADDRSTRLEN];
	size_t len = (size_t)ds.n * 24 + 1, off = 0;
	unsigned i;

	event_free(ds.ev_read);
	event_free(ds.ev_timer);
	close(ds.fd);
	qsort(ds.m, ds.n, sizeof *ds.m, disc_cmp);
	if ((spec = calloc(1, len)) == NULL)
		fatalx("out of memory");
	for (i = 0; i < ds.n; i++) {
		struct in_addr in = { htonl(ds.m[i].addr) };

		inet_ntop(AF_INET, &in, a, sizeof a);
		off += (size_t)snprintf(spec + off, len - off, "%s%s:%u",
		    i ? "," : "", a, ds.m[i].port);
	}
	free(ds.m);
	log_info("discovery complete: %s", spec);
	ds.done(spec);
	free(spec);
}

static void
disc_on_timer(evutil_socket_t fd, short what, void *arg)
{
	uint8_t buf[DISC_LEN];
	struct proto_disc d;
	struct timespec now;

	(void)fd;
	(void)what;
	(void)arg;
	if (ds.n == asocd->conf->world && ++ds.linger > DISC_LINGER_ROUNDS) {
		disc_finish();
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (now.tv_sec > ds.deadline.tv_sec)
		fatalx("discovery found %u of %u members of community '%s' in "
		    "%u s: run asocd --discovery with the same --world, "
		    "--community and --key-file on every node, and check that "
		    "UDP broadcasts to %s:%u reach them", ds.n,
		    asocd->conf->world, asocd->conf->community,
		    asocd->conf->connection_timeout,
		    asocd->conf->discovery_addr, asocd->conf->discovery_port);
	memset(&d, 0, sizeof d);
	d.version = DISC_VERSION;
	d.port = (uint16_t)asocd->conf->port;
	d.addr = ds.self_addr;
	d.world = asocd->conf->world;
	d.nonce = asocd_next_id();
	d.time_ms = disc_now_ms();
	proto_set_name(d.community, sizeof d.community, asocd->conf->community);
	proto_disc_encode(&d, buf);
	if (disc_mac(buf, buf + DISC_SIGNED_LEN) < 0)
		return;
	if (sendto(ds.fd, buf, sizeof buf, 0, (struct sockaddr *)&ds.to,
	    sizeof ds.to) < 0)
		log_warn("discovery: sendto %s: %s",
		    asocd->conf->discovery_addr, strerror(errno));
}

int
discovery_start(discovery_done_fn done, char *err, size_t errlen)
{
	struct conf *cf = asocd->conf;
	struct sockaddr_in any;
	struct in_addr self;
	struct timeval tv = { 0, DISC_PERIOD_MS * 1000 };
	int one = 1;

	if (cf->slurm_job_id != NULL) {
		snprintf(err, errlen, "--discovery is for LANs without SLURM: "
		    "inside a SLURM job the peers come from SLURM_NODELIST");
		return -1;
	}
	if (cf->peers != NULL || cf->world < 2 || cf->key_file == NULL ||
	    cf->listen == NULL) {
		snprintf(err, errlen, "--discovery needs --world N (2 or more), "
		    "--key-file and --listen ADDR, and no --peers");
		return -1;
	}
	if (inet_pton(AF_INET, cf->listen, &self) != 1 ||
	    inet_pton(AF_INET, cf->discovery_addr, &ds.to.sin_addr) != 1) {
		snprintf(err, errlen, "--discovery needs IPv4 addresses in "
		    "--listen and --discovery-addr");
		return -1;
	}
	ds.self_addr = ntohl(self.s_addr);
	ds.to.sin_family = AF_INET;
	ds.to.sin_port = htons((uint16_t)cf->discovery_port);
	ds.done = done;
	ds.fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	memset(&any, 0, sizeof any);
	any.sin_family = AF_INET;
	any.sin_port = htons((uint16_t)cf->discovery_port);
	if (ds.fd < 0 || setsockopt(ds.fd, SOL_SOCKET, SO_BROADCAST, &one,
	    sizeof one) < 0 || setsockopt(ds.fd, SOL_SOCKET, SO_REUSEADDR,
	    &one, sizeof one) < 0 ||
	    bind(ds.fd, (struct sockaddr *)&any, sizeof any) < 0) {
		snprintf(err, errlen, "discovery: cannot use UDP port %u: %s",
		    cf->discovery_port, strerror(errno));
		return -1;
	}
	ds.ev_read = event_new(asocd->base, ds.fd, EV_READ | EV_PERSIST,
	    disc_on_read, NULL);
	ds.ev_timer = event_new(asocd->base, -1, EV_PERSIST, disc_on_timer,
	    NULL);
	if (ds.ev_read == NULL || ds.ev_timer == NULL ||
	    event_add(ds.ev_read, NULL) < 0 || event_add(ds.ev_timer, &tv) < 0) {
		snprintf(err, errlen, "discovery: cannot watch its socket");
		return -1;
	}
	clock_gettime(CLOCK_MONOTONIC, &ds.deadline);
	ds.deadline.tv_sec += cf->connection_timeout;
	log_info("discovery: looking for %u members of community '%s' by "
	    "UDP broadcast to %s:%u", cf->world, cf->community,
	    cf->discovery_addr, cf->discovery_port);
	return 0;
}
