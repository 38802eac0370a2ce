/*
 * transport_rdma.h: the RDMA transport's entry of the transport table
 * (transport.c lists it); everything else it does is behind the table.
 */
#ifndef ASOC_TRANSPORT_RDMA_H
#define ASOC_TRANSPORT_RDMA_H

#include "transport.h"

extern const struct transport transport_rdma;

#endif
