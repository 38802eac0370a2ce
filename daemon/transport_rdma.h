/*
 * transport_rdma.h: what the rest of asocd needs from the RDMA transport
 * besides its table entry.
 */
#ifndef ASOC_TRANSPORT_RDMA_H
#define ASOC_TRANSPORT_RDMA_H

struct buffer;

/* 1 once listen found an active device behind the listen address. */
int trdma_available(void);
/* Warns at start-up when RLIMIT_MEMLOCK is too small to register. */
void trdma_check_memlock(void);
/* The buffer goes: drop its cached registration (counted). */
void trdma_buffer_release(struct buffer *b);
/* Shutdown: release the device, the channels and the listener. */
void trdma_stop_all(void);

#endif
