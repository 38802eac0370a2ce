/*
 * sdnotify.h: tells systemd (Type=notify) that asocd serves.
 */
#ifndef ASOC_SDNOTIFY_H
#define ASOC_SDNOTIFY_H

/* Sends "READY=1" and MAINPID to path, $NOTIFY_SOCKET (conf's
 * notify_socket), if it is set; once.  Errors are logged, never fatal:
 * the service manager then times out. */
void sdnotify_ready(const char *path);

#endif
