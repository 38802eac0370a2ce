/*
 * sdnotify.c: systemd's readiness protocol without libsystemd.  It is one
 * datagram of "VAR=value" lines to the AF_UNIX socket named by
 * $NOTIFY_SOCKET (conf.c reads it; a path, or an abstract name written with a leading
 * '@'), so a dependency is not worth it.  asocd sends it from
 * start_serving, after its control socket listens: a unit ordered after
 * asocd@.service finds clients accepted.
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "sdnotify.h"

void
sdnotify_ready(const char *path)
{
	struct sockaddr_un sun;
	socklen_t len;
	char msg[64];
	size_t plen;
	int fd, n;

	if (path == NULL || path[0] == '\0')
		return;
	plen = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || plen >= sizeof sun.sun_path) {
		log_warn("NOTIFY_SOCKET %s is neither a path nor an abstract "
		    "name (@...): not telling the service manager we are "
		    "ready", path);
		goto out;
	}
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, plen);
	if (path[0] == '@')
		sun.sun_path[0] = '\0';	/* abstract: no NUL at the end */
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen);
	n = snprintf(msg, sizeof msg, "READY=1\nMAINPID=%ld\n",
	    (long)getpid());
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0 ||
	    sendto(fd, msg, (size_t)n, MSG_NOSIGNAL, (struct sockaddr *)&sun,
	    len) != n)
		log_warn("cannot tell the service manager we are ready "
		    "(NOTIFY_SOCKET %s): %s", path, strerror(errno));
	else
		log_debug("told the service manager (NOTIFY_SOCKET %s) we "
		    "are ready", path);
	if (fd >= 0)
		close(fd);
out:
	/* Once: children (none today) must not speak for us. */
	unsetenv("NOTIFY_SOCKET");
}
