/*
 * netaddr.c: resolving peers and finding our own addresses.
 */
#include "config.h"
#include "netaddr.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int
netaddr_resolve(const char *host, uint16_t port, struct sockaddr_storage *ss,
    socklen_t *len, char *err, size_t errlen)
{
	struct addrinfo hints, *res;
	char portstr[8];
	int rc;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(portstr, sizeof portstr, "%u", port);
	rc = getaddrinfo(host, portstr, &hints, &res);
	if (rc != 0) {
		snprintf(err, errlen, "cannot resolve '%s': %s", host,
		    gai_strerror(rc));
		return -1;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

int
netaddr_is_local(const char *host)
{
	struct addrinfo hints, *res, *ai;
	int local = 0, fd;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, "0", &hints, &res) != 0)
		return 0;
	/* An address is ours exactly when we can bind to it. */
	for (ai = res; ai != NULL && !local; ai = ai->ai_next) {
		fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			continue;
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			local = 1;
		close(fd);
	}
	freeaddrinfo(res);
	return local;
}

int
netaddr_interface(const char *ifname, char *buf, size_t len)
{
	struct ifaddrs *ifa, *i;
	const void *a;
	int found = -1, pass;

	if (getifaddrs(&ifa) < 0)
		return -1;
	for (pass = 0; pass < 2 && found < 0; pass++) {
		int want = pass == 0 ? AF_INET : AF_INET6;

		for (i = ifa; i != NULL; i = i->ifa_next) {
			if (i->ifa_addr == NULL || strcmp(i->ifa_name, ifname) ||
			    i->ifa_addr->sa_family != want)
				continue;
			a = want == AF_INET ?
			    (const void *)&((struct sockaddr_in *)(void *)
			    i->ifa_addr)->sin_addr :
			    (const void *)&((struct sockaddr_in6 *)(void *)
			    i->ifa_addr)->sin6_addr;
			if (inet_ntop(want, a, buf, (socklen_t)len) != NULL)
				found = 0;
			break;
		}
	}
	freeifaddrs(ifa);
	return found;
}

void
netaddr_format(const struct sockaddr *sa, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN];

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;

		inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
		snprintf(buf, len, "%s:%u", host, ntohs(in->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;

		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
		snprintf(buf, len, "[%s]:%u", host, ntohs(in6->sin6_port));
	} else
		snprintf(buf, len, "(unknown address family %d)",
		    sa->sa_family);
}
