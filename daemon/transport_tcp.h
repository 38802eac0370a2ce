/*
 * transport_tcp.h: the TCP transport's entry of the transport table
 * (transport.c lists it); everything else it does is behind the table.
 */
#ifndef ASOC_TRANSPORT_TCP_H
#define ASOC_TRANSPORT_TCP_H

#include "transport.h"

extern const struct transport transport_tcp;

#endif
