/*
 * asoc-rdma-flood: a hostile RDMA client for the lab (test-rdma-hard.sh).
 * Opens N RDMA CM connections to asocd at once, each with the private data
 * of an asocd (so it passes the first check) and a QP, then never says
 * HELLO.  Prints how many the daemon accepted and how many it refused,
 * holds the accepted ones for HOLD_MS, and exits.  Each accepted one costs
 * the daemon a QP, a CQ and a pinned control ring before any proof.
 *
 *   asoc-rdma-flood ADDR PORT N HOLD_MS
 */
#include "config.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rdma/rdma_cma.h>

#include "proto.h"

#define FLOOD_MAX	256

struct flood_priv {		/* as transport_rdma.c's struct rdma_priv */
	uint32_t magic;
	uint16_t version;
	uint16_t rank;
};

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

int
main(int argc, char **argv)
{
	struct rdma_event_channel *ch;
	struct rdma_cm_id *ids[FLOOD_MAX];
	struct rdma_cm_event *ev;
	struct addrinfo *ai, hints;
	struct pollfd pfd;
	struct flood_priv priv;
	int n, i, hold, established = 0, refused = 0, other = 0, settled = 0;
	long deadline;

	if (argc != 5 || (n = atoi(argv[3])) <= 0 || n > FLOOD_MAX) {
		fprintf(stderr, "usage: asoc-rdma-flood ADDR PORT N(1-%d) "
		    "HOLD_MS\n", FLOOD_MAX);
		return 2;
	}
	hold = atoi(argv[4]);
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_INET;
	if (getaddrinfo(argv[1], argv[2], &hints, &ai) != 0) {
		fprintf(stderr, "asoc-rdma-flood: cannot resolve %s\n", argv[1]);
		return 1;
	}
	if ((ch = rdma_create_event_channel()) == NULL) {
		perror("asoc-rdma-flood: rdma_create_event_channel");
		return 1;
	}
	for (i = 0; i < n; i++) {
		if (rdma_create_id(ch, &ids[i], NULL, RDMA_PS_TCP) != 0 ||
		    rdma_resolve_addr(ids[i], NULL, ai->ai_addr, 2000) != 0) {
			perror("asoc-rdma-flood: rdma_resolve_addr");
			return 1;
		}
	}
	priv.magic = htonl(0x41534f43u);
	priv.version = htons(PROTO_VERSION);
	priv.rank = htons(1);
	pfd.fd = ch->fd;
	pfd.events = POLLIN;
	deadline = now_ms() + 20000;
	while (settled < n && now_ms() < deadline) {
		struct rdma_conn_param param;
		struct ibv_qp_init_attr qa;
		enum rdma_cm_event_type type;
		struct rdma_cm_id *id;

		if (poll(&pfd, 1, 200) <= 0)
			continue;
		if (rdma_get_cm_event(ch, &ev) != 0)
			break;
		type = ev->event;
		id = ev->id;
		rdma_ack_cm_event(ev);
		switch (type) {
		case RDMA_CM_EVENT_ADDR_RESOLVED:
			if (rdma_resolve_route(id, 2000) != 0) {
				other++;
				settled++;
			}
			break;
		case RDMA_CM_EVENT_ROUTE_RESOLVED:
			memset(&qa, 0, sizeof qa);
			qa.qp_type = IBV_QPT_RC;
			qa.cap.max_send_wr = qa.cap.max_recv_wr = 4;
			qa.cap.max_send_sge = qa.cap.max_recv_sge = 1;
			memset(&param, 0, sizeof param);
			param.private_data = &priv;
			param.private_data_len = sizeof priv;
			param.responder_resources = param.initiator_depth = 1;
			param.retry_count = param.rnr_retry_count = 7;
			if (rdma_create_qp(id, NULL, &qa) != 0 ||
			    rdma_connect(id, &param) != 0) {
				other++;
				settled++;
			}
			break;
		case RDMA_CM_EVENT_ESTABLISHED:
			established++;
			settled++;
			break;
		case RDMA_CM_EVENT_REJECTED:
			refused++;
			settled++;
			break;
		case RDMA_CM_EVENT_DISCONNECTED:
			break;		/* dropped later: counted as accepted */
		default:
			other++;
			settled++;
			break;
		}
	}
	printf("accepted %d refused %d failed %d of %d\n", established,
	    refused, other, n);
	fflush(stdout);
	deadline = now_ms() + hold;
	while (now_ms() < deadline)
		if (poll(&pfd, 1, 100) > 0 && rdma_get_cm_event(ch, &ev) == 0)
			rdma_ack_cm_event(ev);
	/* Leaving closes everything: the kernel tears the ids down. */
	freeaddrinfo(ai);
	return settled == n ? 0 : 1;
}
