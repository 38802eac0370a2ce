/*
 * tcp_cc.h: the TCP congestion control of asocd's peer connections
 * (asocd.conf(5) tcp-congestion).
 *
 * Linux picks one for every socket from net.ipv4.tcp_congestion_control,
 * a setting made for the node's every flow, WAN ones included.  Peer
 * connections run inside one cluster's fabric, and there the pick
 * matters: on this project's reference machine (Debian 12 VM whose
 * default is bbr) BBR's pacing halved loopback TCP, asoc 17.7 against
 * 29.2 Gbit/s with cubic, a plain socket program 12.7 against 25.5, and
 * doubled a 1 MiB send's median, 268-318 against 151-171 us.  So asocd
 * sets cubic, Linux's own default, unless told otherwise, and "system"
 * keeps the kernel's pick.
 */
#ifndef ASOC_TCP_CC_H
#define ASOC_TCP_CC_H

#include <stddef.h>

#define TCP_CC_DEFAULT	"cubic"
#define TCP_CC_SYSTEM	"system"

/* Whether name is a congestion control's name (or "system") by its
 * form: 1 to 15 of [A-Za-z0-9_-], as the kernel's TCP_CA_NAME_MAX. */
int tcp_cc_name_ok(const char *name);

/* Settles what the peer connections use, trying it on fd (the listening
 * socket, whose accepted connections inherit it): want NULL means the
 * default, which falls back to the kernel's pick (logged) where the
 * kernel refuses it; a name asked for and refused is an error in err,
 * naming the sysctls that list what may be asked.  Returns 0 or -1. */
int tcp_cc_setup(int fd, const char *want, char *err, size_t errlen);

/* Sets the settled congestion control on a socket about to connect
 * (nothing with "system"); accepted sockets inherit the listener's. */
void tcp_cc_apply(int fd);

#endif
