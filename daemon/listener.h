/*
 * listener.h: what a listening socket does when accept fails.  Out of
 * descriptors (EMFILE, ENFILE) or kernel memory, a listener left armed
 * would wake the loop at once, forever, and log each time; instead it is
 * paused, as OpenSMTPD's control_accept does, and resumed when a
 * descriptor frees (listener_fd_freed) or after LISTENER_PAUSE_MS at the
 * latest.  Every listener (the control socket, the peer port) goes
 * through here, so one log line covers them all.
 */
#ifndef ASOC_LISTENER_H
#define ASOC_LISTENER_H

struct event;

#define LISTENER_PAUSE_MS	1000

/* accept on ev's socket failed with err; what names the listener for the
 * log ("the peer port").  Pauses ev when err means "out of resources",
 * logs the rest at a limited rate; the accept callback then returns. */
void listener_accept_failed(struct event *ev, int err, const char *what);
/* A descriptor was closed: paused listeners may try again. */
void listener_fd_freed(void);
/* How many times listeners were paused (for the tests' log checks). */
unsigned long long listener_pauses(void);
/* Shutdown: forget paused listeners (their events are being freed). */
void listener_forget(struct event *ev);

#endif
