/*
 * jobkey.h: the key of one SLURM job, derived alike on every node of the
 * job from a secret they share (the site key of asoc-slurm(8), or a
 * user's ~/.asoc/key on the user-only path) and the job id, with no
 * traffic: HMAC-SHA256(secret, "asoc-job-key:" JOBID).  Another job, or
 * another task of the same array, gets another key.
 */
#ifndef ASOC_JOBKEY_H
#define ASOC_JOBKEY_H

#include <stddef.h>
#include <stdint.h>

#define JOBKEY_LEN	32

/* 0, or -1 with a message (an empty secret or job id, or OpenSSL
 * failing). */
int jobkey_derive(const uint8_t *secret, size_t secretlen, const char *jobid,
    uint8_t out[JOBKEY_LEN], char *err, size_t errlen);

#endif
