/*
 * rdma_probe.h: is there a usable RDMA device behind an address, and how
 * would asocd expose receives on it.  One answer for asocd (which then
 * listens on the id) and asoc-info (which only reports), so the two never
 * disagree about why a node falls back to TCP.
 */
#ifndef ASOC_RDMA_PROBE_H
#define ASOC_RDMA_PROBE_H

#include <stddef.h>
#include <stdint.h>

#include <infiniband/verbs.h>
#include <rdma/rdma_cma.h>

/* RLIMIT_MEMLOCK below this (and not root) makes asocd warn. */
#define RDMA_MEMLOCK_NEED	(1ull << 30)

struct rdma_probe {
	char name[64];			/* the device behind the address */
	uint8_t port_num;
	struct ibv_device_attr da;
	struct ibv_port_attr pa;
};

/* Binds a new id of channel cm to host:port, as asocd's RDMA listener
 * does, and checks that a device is behind it with its port ACTIVE.
 * On success *idp is the bound id (the caller listens on it or destroys
 * it) and pr is filled; -1 with err (asocd's reason for TCP) and *idp
 * NULL or still to be destroyed by the caller.  ifname is only named in
 * messages. */
int probe_rdma_bind(struct rdma_event_channel *cm, const char *host,
    uint16_t port, const char *ifname, struct rdma_cm_id **idp,
    struct rdma_probe *pr, char *err, size_t errlen);
/* 1 when the device has type-2 memory windows at all. */
int probe_rdma_has_mw(const struct ibv_device_attr *da);
/* How receives are exposed: 1 type-2 memory windows, 0 per-transfer
 * regions; *why (may be NULL) says why regions where windows exist, or
 * why the ASOC_RDMA_SCOPE override could not be followed. */
int probe_rdma_scope(const struct ibv_device_attr *da, const char *force,
    const char **why);
/* "RLIMIT_MEMLOCK is unlimited" or its size with how to raise it. */
const char *probe_memlock_hint(char *buf, size_t len);

#endif
