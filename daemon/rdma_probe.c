/*
 * rdma_probe.c: the checks asocd makes before it speaks RDMA on a device,
 * shared with asoc-info (see rdma_probe.h).  Nothing here logs or touches
 * the daemon's state: the callers decide what to say.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "netaddr.h"
#include "rdma_probe.h"

int
probe_rdma_bind(struct rdma_event_channel *cm, const char *host,
    uint16_t port, const char *ifname, struct rdma_cm_id **idp,
    struct rdma_probe *pr, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	struct rdma_cm_id *id;
	socklen_t len;

	*idp = NULL;
	memset(pr, 0, sizeof *pr);
	if (netaddr_resolve(host, port, &ss, &len, err, errlen) < 0)
		return -1;
	if (rdma_create_id(cm, idp, NULL, RDMA_PS_TCP) != 0 ||
	    rdma_bind_addr(*idp, (struct sockaddr *)&ss) != 0) {
		snprintf(err, errlen, "no RDMA on %s:%u: %s", host, port,
		    strerror(errno));
		return -1;
	}
	id = *idp;
	if (id->verbs == NULL) {
		snprintf(err, errlen, "no RDMA device behind %s (interface "
		    "%s): check 'ibv_devices' and 'rdma link'", host, ifname);
		return -1;
	}
	snprintf(pr->name, sizeof pr->name, "%s",
	    ibv_get_device_name(id->verbs->device));
	pr->port_num = id->port_num;
	if (ibv_query_device(id->verbs, &pr->da) != 0 ||
	    ibv_query_port(id->verbs, id->port_num, &pr->pa) != 0) {
		snprintf(err, errlen, "cannot query %s: %s", pr->name,
		    strerror(errno));
		return -1;
	}
	if (pr->pa.state != IBV_PORT_ACTIVE) {
		snprintf(err, errlen, "%s port %u is %s, not ACTIVE: check the "
		    "link ('ibv_devinfo', 'rdma link')", pr->name,
		    id->port_num, ibv_port_state_str(pr->pa.state));
		return -1;
	}
	return 0;
}

int
probe_rdma_has_mw(const struct ibv_device_attr *da)
{
	return da->max_mw > 0 &&
	    (da->device_cap_flags & IBV_DEVICE_MEM_WINDOW_TYPE_2B) != 0;
}

/* A type-2 memory window bound to the QP where the device has them and
 * bounds writes by them; otherwise a memory region of exactly the range,
 * registered per transfer.  Soft-RoCE (vendor 0xffffff) has windows but
 * checks a WRITE only against the region beneath (seen on Linux 6.1: one
 * byte past the window landed), so it gets regions.  ASOC_RDMA_SCOPE=mw|mr
 * overrides, for tests (force: conf's rdma_scope, or NULL). */
int
probe_rdma_scope(const struct ibv_device_attr *da, const char *force,
    const char **why)
{
	int has = probe_rdma_has_mw(da);

	if (why != NULL)
		*why = NULL;
	if (force != NULL && strcmp(force, "mr") == 0)
		return 0;
	if (force != NULL && strcmp(force, "mw") == 0) {
		if (!has && why != NULL)
			*why = "ASOC_RDMA_SCOPE=mw but the device has no type-2 "
			    "memory windows: using regions";
		return has;
	}
	if (has && da->vendor_id == 0xffffff) {
		if (why != NULL)
			*why = "Soft-RoCE, whose memory windows do not bound "
			    "WRITEs: exposing each receive as a region of its "
			    "own";
		return 0;
	}
	return has;
}

const char *
probe_memlock_hint(char *buf, size_t len)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_MEMLOCK, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
		snprintf(buf, len, "RLIMIT_MEMLOCK is unlimited");
	else
		snprintf(buf, len, "RLIMIT_MEMLOCK is %llu KiB: raise it with "
		    "'ulimit -l unlimited' (or LimitMEMLOCK=infinity, or "
		    "memlock in /etc/security/limits.conf)",
		    (unsigned long long)rl.rlim_cur / 1024);
	return buf;
}
