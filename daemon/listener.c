/*
 * listener.c: pausing listeners on EMFILE/ENFILE (see listener.h).
 */
#include "config.h"
#include "listener.h"

#include <errno.h>
#include <string.h>

#include <event2/event.h>

#include "asocd.h"
#include "log.h"

#define LISTENER_MAX	8	/* control socket, peer port, and spares */

static struct event *paused[LISTENER_MAX];
static unsigned npaused;
static struct event *resume_ev;
static unsigned long long npauses;
static struct log_limit pause_limit, error_limit;

static void
listener_resume(void)
{
	unsigned i;

	if (resume_ev != NULL)
		evtimer_del(resume_ev);
	for (i = 0; i < npaused; i++)
		event_add(paused[i], NULL);
	npaused = 0;
}

static void
listener_resume_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	listener_resume();
}

static int
listener_out_of_resources(int err)
{
	return err == EMFILE || err == ENFILE || err == ENOBUFS ||
	    err == ENOMEM;
}

void
listener_accept_failed(struct event *ev, int err, const char *what)
{
	struct timeval tv = { LISTENER_PAUSE_MS / 1000,
	    (LISTENER_PAUSE_MS % 1000) * 1000 };
	unsigned i;

	if (err == EAGAIN || err == EWOULDBLOCK || err == EINTR ||
	    err == ECONNABORTED)
		return;		/* nothing to accept, or gone already */
	if (!listener_out_of_resources(err) || ev == NULL) {
		log_warn_limited(&error_limit, "accept on %s: %s", what,
		    strerror(err));
		return;
	}
	for (i = 0; i < npaused && paused[i] != ev; i++)
		;
	if (i == npaused) {
		if (npaused == LISTENER_MAX)
			return;		/* cannot happen: few listeners */
		paused[npaused++] = ev;
		event_del(ev);
		npauses++;
	}
	if (resume_ev == NULL &&
	    (resume_ev = evtimer_new(asocd->base, listener_resume_cb,
	    NULL)) == NULL) {
		/* No timer: stay armed rather than deaf for good. */
		listener_resume();
		return;
	}
	if (!evtimer_pending(resume_ev, NULL))
		evtimer_add(resume_ev, &tv);
	log_warn_limited(&pause_limit, "accept on %s: %s: not accepting "
	    "until a descriptor frees (at most %u ms); if this lasts, raise "
	    "asocd's limit (ulimit -n) or find who holds the connections",
	    what, strerror(err), LISTENER_PAUSE_MS);
}

void
listener_fd_freed(void)
{
	if (npaused > 0)
		listener_resume();
}

unsigned long long
listener_pauses(void)
{
	return npauses;
}

void
listener_forget(struct event *ev)
{
	unsigned i;

	for (i = 0; i < npaused; i++)
		if (paused[i] == ev) {
			paused[i] = paused[--npaused];
			break;
		}
	if (npaused == 0 && resume_ev != NULL) {
		event_free(resume_ev);
		resume_ev = NULL;
	}
}
