/*
 * main.c: asocd's start-up, signals and shutdown.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "asocd.h"
#include "control.h"
#include "auth.h"
#include "busypoll.h"
#include "discovery.h"
#include "log.h"
#include "netaddr.h"
#include "peer.h"
#include "ranks.h"
#include "sdnotify.h"
#include "slurm_user.h"
#include "tls.h"
#include "transport.h"
#include "xfer.h"

struct asocd *asocd;

static struct asocd asocd_state;
static struct conf asocd_conf;
static struct event *ev_term, *ev_int, *ev_hup, *ev_drain_timer;
static int ready_fd = -1;	/* daemonised: tells the parent we are up */

uint64_t
asocd_next_id(void)
{
	static uint64_t next;

	/* Starting at a random point makes ids of a restarted daemon unlike
	 * the old ones, so a late message for an old transfer matches
	 * nothing. */
	if (next == 0) {
		int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

		if (fd < 0 || read(fd, &next, sizeof next) != sizeof next)
			next = ((uint64_t)getpid() << 32) ^ (uint64_t)time(NULL);
		if (fd >= 0)
			close(fd);
		next = (next >> 1) | 1;		/* never 0, room to count */
	}
	return next++;
}

void
asocd_later(void (*cb)(evutil_socket_t, short, void *), void *arg,
    const char *what)
{
	struct timeval now = { 0, 0 };

	if (event_base_once(asocd->base, -1, EV_TIMEOUT, cb, arg, &now) < 0)
		log_err("cannot schedule %s's release; leaking it", what);
}

static void
asocd_free_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	free(arg);
}

void
asocd_free_later(void *p, const char *what)
{
	asocd_later(asocd_free_cb, p, what);
}

void
asocd_check_drained(void)
{
	if (asocd->draining && asocd->xfers_active == 0) {
		log_info("all transfers finished; exiting");
		event_base_loopexit(asocd->base, NULL);
	}
}

static void
on_drain_timeout(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	log_warn("%llu transfer(s) still in flight after %u s; exiting "
	    "anyway", (unsigned long long)asocd->xfers_active,
	    asocd->conf->connection_timeout);
	event_base_loopexit(asocd->base, NULL);
}

static void
on_term(evutil_socket_t sig, short what, void *arg)
{
	struct timeval tv = { asocd->conf->connection_timeout, 0 };

	(void)what;
	(void)arg;
	if (asocd->draining) {
		log_info("signal %d again: exiting now", (int)sig);
		event_base_loopexit(asocd->base, NULL);
		return;
	}
	log_info("signal %d: finishing %llu transfer(s) in flight, taking no "
	    "new ones", (int)sig, (unsigned long long)asocd->xfers_active);
	asocd->draining = 1;
	control_stop();
	transports_stop_listen();
	xfer_drain();
	ev_drain_timer = evtimer_new(asocd->base, on_drain_timeout, NULL);
	if (ev_drain_timer != NULL)
		evtimer_add(ev_drain_timer, &tv);
	asocd_check_drained();
}

static void
on_hup(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	(void)arg;
	log_reopen();
	log_info("SIGHUP: log reopened");
}

/* Where peers reach us: --listen, else the fabric interface, else our
 * own entry of the peer list. */
static void
choose_listen_host(void)
{
	struct conf *cf = asocd->conf;
	char addr[PROTO_NAME_MAX];

	if (cf->listen != NULL) {
		proto_set_name(asocd->listen_host, sizeof asocd->listen_host,
		    cf->listen);
		return;
	}
	if (netaddr_interface(cf->interface, addr, sizeof addr) == 0) {
		log_info("interface %s has address %s", cf->interface, addr);
		proto_set_name(asocd->listen_host, sizeof asocd->listen_host,
		    addr);
		return;
	}
	proto_set_name(asocd->listen_host, sizeof asocd->listen_host,
	    asocd->peers[asocd->rank].host);
	log_info("interface %s not found; listening on %s, this node's entry "
	    "in --peers (set --interface or --listen to choose)",
	    cf->interface, asocd->listen_host);
}

/* Fork; the parent exits 0 once the child says it is serving, or 1 when
 * the child dies first (its error is in the log). */
static void
daemonise(void)
{
	int pfd[2], devnull;
	char ok;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		fatal("pipe");
	if ((pid = fork()) < 0)
		fatal("fork");
	if (pid > 0) {
		close(pfd[1]);
		if (read(pfd[0], &ok, 1) == 1)
			_exit(0);
		fprintf(stderr, "asocd: failed to start; see the log\n");
		_exit(1);
	}
	close(pfd[0]);
	ready_fd = pfd[1];
	if (setsid() < 0)
		fatal("setsid");
	if ((devnull = open("/dev/null", O_RDWR | O_CLOEXEC)) >= 0) {
		dup2(devnull, STDIN_FILENO);
		dup2(devnull, STDOUT_FILENO);
		if (asocd->conf->log_file != NULL || asocd->conf->syslog)
			dup2(devnull, STDERR_FILENO);
		if (devnull > STDERR_FILENO)
			close(devnull);
	}
}

static void
write_pidfile(const char *path)
{
	FILE *fp = fopen(path, "w");

	if (fp == NULL)
		fatal("cannot write pidfile %s", path);
	fprintf(fp, "%ld\n", (long)getpid());
	fclose(fp);
}

/* With the peer list known: rank, listeners, the local socket, ready. */
static void
start_serving(void)
{
	struct conf *cf = asocd->conf;
	char err[512];

	auth_report(cf);
	if (peers_init(err, sizeof err) < 0)
		fatalx("%s", err);
	/* A world of one has no peers to listen for. */
	if (asocd->world > 1) {
		choose_listen_host();
		if (transports_listen(err, sizeof err) < 0)
			fatalx("%s", err);
	}
	if (control_listen(cf->socket, err, sizeof err) < 0)
		fatalx("%s", err);
	if (cf->pidfile != NULL)
		write_pidfile(cf->pidfile);
	log_info("asocd %s ready: rank %u of %u, community '%s', transport "
	    "%s%s, chunk %zu bytes%s", PACKAGE_VERSION, asocd->rank,
	    asocd->world, cf->community, conf_transport_name(cf->transport),
	    tls_enabled() ? (cf->tls_verify_peer ? " with TLS (verify-peer "
	    "yes)" : " with TLS (verify-peer no)") : "",
	    cf->chunk_size, asocd->world == 1 ? "; no peers (a world of one: "
	    "set --peers to join other nodes)" : "");
	if (ready_fd >= 0) {
		(void)!write(ready_fd, "1", 1);
		close(ready_fd);
		ready_fd = -1;
	}
	sdnotify_ready(cf->notify_socket);
}

static void
on_discovered(const char *peers)
{
	free(asocd->conf->peers);
	if ((asocd->conf->peers = strdup(peers)) == NULL)
		fatalx("out of memory");
	start_serving();
}

static void
watch_signals(void)
{
	ev_term = evsignal_new(asocd->base, SIGTERM, on_term, NULL);
	ev_int = evsignal_new(asocd->base, SIGINT, on_term, NULL);
	ev_hup = evsignal_new(asocd->base, SIGHUP, on_hup, NULL);
	if (ev_term == NULL || ev_int == NULL || ev_hup == NULL ||
	    evsignal_add(ev_term, NULL) < 0 || evsignal_add(ev_int, NULL) < 0 ||
	    evsignal_add(ev_hup, NULL) < 0)
		fatalx("cannot install signal handlers");
}

/* The loop has ended: close everything, in the reverse order of start. */
static void
stop_serving(void)
{
	struct conf *cf = asocd->conf;

	control_shutdown();
	transports_stop_listen();
	conn_close_all();
	transports_shutdown();
	if (cf->pidfile != NULL)
		unlink(cf->pidfile);
	if (cf->slurm_user)
		slurm_user_cleanup(cf);
	if (ev_drain_timer != NULL)
		event_free(ev_drain_timer);
	event_free(ev_term);
	event_free(ev_int);
	event_free(ev_hup);
	peers_free();
	tls_free();
	auth_free();
	event_base_free(asocd->base);
	log_info("stopped");
	log_close();
}

/*
 * Keep the heap's pages between messages.  glibc's defaults give the top
 * of the heap back (brk) once 128 KiB of it is free and serve blocks past
 * 128 KiB with mmap: every eager message (up to 64 KiB, queued in a
 * libevent chain that rounds up to 128 KiB) then freed pages that the
 * next one faulted in and zeroed again.  perf on 16 in flight at 64 KiB:
 * 12,267 page faults in the daemons for 5,100 messages, clear_page and
 * brk in the profile; with these settings 455, and 30-40% less CPU per
 * message.  The peak is still given back after a burst (control_trim's
 * malloc_trim), so a flood does not stay held.
 */
static void
tune_malloc(void)
{
#ifdef __GLIBC__
	mallopt(M_TRIM_THRESHOLD, 64 << 20);
	mallopt(M_MMAP_THRESHOLD, 1 << 20);
#endif
}

int
main(int argc, char **argv)
{
	char err[512];
	struct conf *cf = &asocd_conf;

	tune_malloc();
	switch (conf_load(cf, argc, argv, NULL, err, sizeof err)) {
	case CONF_EXIT_OK:
		return 0;
	case CONF_ERROR:
		fprintf(stderr, "asocd: %s\n", err);
		return 2;
	case CONF_RUN:
		break;
	}
	/* Certificate, key and CA are loaded now, so a wrong one stops
	 * asocd here rather than failing the first connection. */
	if (tls_init(cf, err, sizeof err) < 0) {
		fprintf(stderr, "asocd: %s\n", err);
		conf_free(cf);
		return 2;
	}
	if (!cf->foreground && cf->log_file == NULL)
		cf->syslog = 1;
	if (log_open("asocd", cf->log_level, cf->syslog, cf->log_file) < 0) {
		fprintf(stderr, "asocd: cannot open log %s: %s\n",
		    cf->log_file, strerror(errno));
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	/* Under the prolog our log is root's file with a hard size limit
	 * (asoc-slurm): past it a write fails, which must not kill us. */
	signal(SIGXFSZ, SIG_IGN);
	/* Handed the key on a descriptor (both SLURM paths): no other
	 * process of the job user may attach to us and take the key or our
	 * descriptors (the log in root's folder), as OpenSSH keeps its
	 * privilege-separated children from being traced. */
	if (cf->key_fd != 0)
		(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);

	asocd = &asocd_state;
	asocd->conf = cf;
	TAILQ_INIT(&asocd->clients);
	ranks_init();
	xfer_init();

	/* The key and MUNGE before forking, so their errors reach the
	 * terminal. */
	if (auth_init(cf, err, sizeof err) < 0)
		fatalx("%s", err);

	if (transports_check(err, sizeof err) < 0)
		fatalx("%s", err);

	if (!cf->foreground)
		daemonise();
	else if (cf->ready_fd != 0)
		ready_fd = (int)cf->ready_fd;	/* asoc-slurm waits on it */
	asocd->pid = getpid();
	if ((asocd->base = event_base_new()) == NULL)
		fatalx("cannot create the event loop");
	watch_signals();
	if (cf->discovery) {
		/* The rest of start-up waits for the peer list. */
		if (discovery_start(on_discovered, err, sizeof err) < 0)
			fatalx("%s", err);
	} else
		start_serving();

	busypoll_run(asocd->base, cf->busy_poll);
	stop_serving();
	conf_free(cf);
	return 0;
}
