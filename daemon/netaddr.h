/*
 * netaddr.h: host and interface addresses for peers and listeners.
 */
#ifndef ASOC_NETADDR_H
#define ASOC_NETADDR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Resolves host:port (IPv4 or IPv6, numeric or name).  -1 with err. */
int netaddr_resolve(const char *host, uint16_t port,
    struct sockaddr_storage *ss, socklen_t *len, char *err, size_t errlen);
/* 1 when host resolves to an address of this machine. */
int netaddr_is_local(const char *host);
/* The first IPv4 (else IPv6) address of interface ifname into buf;
 * -1 when there is no such interface or it has no address. */
int netaddr_interface(const char *ifname, char *buf, size_t len);
/* "1.2.3.4:9000" or "[::1]:9000". */
void netaddr_format(const struct sockaddr *sa, char *buf, size_t len);

#endif
