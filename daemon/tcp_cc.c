/*
 * tcp_cc.c: see tcp_cc.h.
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "tcp_cc.h"

#define TCP_CC_NAME_MAX	16	/* the kernel's TCP_CA_NAME_MAX, with NUL */

static char cc_name[TCP_CC_NAME_MAX];	/* "": the kernel's pick */

int
tcp_cc_name_ok(const char *name)
{
	size_t n = strlen(name), i;

	if (n == 0 || n >= TCP_CC_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') ||
		    (name[i] >= 'A' && name[i] <= 'Z') ||
		    (name[i] >= '0' && name[i] <= '9') ||
		    name[i] == '_' || name[i] == '-'))
			return 0;
	return 1;
}

/* The congestion control fd has now: the kernel's pick on a new one. */
static void
tcp_cc_current(int fd, char *buf, size_t len)
{
	socklen_t sl = (socklen_t)len - 1;

	memset(buf, 0, len);
	if (getsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, buf, &sl) < 0)
		snprintf(buf, len, "?");
}

int
tcp_cc_setup(int fd, const char *want, char *err, size_t errlen)
{
	const char *name = want != NULL ? want : TCP_CC_DEFAULT;
	char kernel[TCP_CC_NAME_MAX];

	tcp_cc_current(fd, kernel, sizeof kernel);
	cc_name[0] = '\0';
	if (strcmp(name, TCP_CC_SYSTEM) == 0) {
		log_info("peer connections use the kernel's TCP congestion "
		    "control, %s (tcp-congestion system)", kernel);
		return 0;
	}
	if (setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, name,
	    (socklen_t)strlen(name)) < 0) {
		int e = errno;

		if (want != NULL) {
			snprintf(err, errlen, "tcp-congestion %s: the kernel "
			    "refused it (%s): it must be listed in "
			    "net.ipv4.tcp_available_congestion_control (load "
			    "its module, tcp_%s), and for a daemon not run as "
			    "root in net.ipv4.tcp_allowed_congestion_control; "
			    "or set tcp-congestion system to keep the "
			    "kernel's, %s", name, strerror(e), name, kernel);
			return -1;
		}
		/* Worded as what to do, not as a refusal or a failure:
		 * for a job's asocd, run as the job user, this is the
		 * expected case on a kernel that restricts the list, and
		 * those words in asocd's log mean a peer or a client was
		 * turned away (test-slurm.sh reads them so). */
		if (e == EPERM)
			log_info("peer connections keep the kernel's TCP "
			    "congestion control, %s: asocd's default, %s, "
			    "is not in net.ipv4.tcp_allowed_congestion_"
			    "control, the names a daemon not run as root may "
			    "pick (an admin adds it there; or set "
			    "tcp-congestion to one listed)", kernel, name);
		else
			log_info("peer connections keep the kernel's TCP "
			    "congestion control, %s: asocd's default, %s, "
			    "could not be set (%s; is it in net.ipv4.tcp_"
			    "available_congestion_control? load its module, "
			    "tcp_%s; or set tcp-congestion)", kernel, name,
			    strerror(e), name);
		return 0;
	}
	snprintf(cc_name, sizeof cc_name, "%s", name);
	if (strcmp(kernel, name) != 0)
		log_info("peer connections use TCP congestion control %s, "
		    "not the kernel's %s (tcp-congestion)", name, kernel);
	return 0;
}

void
tcp_cc_apply(int fd)
{
	if (cc_name[0] == '\0')
		return;
	/* The listener's setting was taken: this can fail only where the
	 * module went away since; the kernel's pick then serves. */
	if (setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, cc_name,
	    (socklen_t)strlen(cc_name)) < 0)
		log_debug("TCP congestion control %s refused on a peer "
		    "connection (%s); it keeps the kernel's", cc_name,
		    strerror(errno));
}
