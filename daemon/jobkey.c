/*
 * jobkey.c: a SLURM job's key from a shared secret and the job id (see
 * jobkey.h).  Kept apart so asoc-slurm(8), which runs as root, links this
 * and nothing of the daemon.
 */
#include "config.h"
#include "jobkey.h"

#include <stdio.h>
#include <string.h>

#include "hmac.h"

_Static_assert(JOBKEY_LEN == HMAC_SHA256_LEN, "a job key is one HMAC");

int
jobkey_derive(const uint8_t *secret, size_t secretlen, const char *jobid,
    uint8_t out[JOBKEY_LEN], char *err, size_t errlen)
{
	char msg[64];
	int n;

	if (secretlen == 0 || jobid == NULL || *jobid == '\0') {
		snprintf(err, errlen, "a job key needs a secret and a job id");
		return -1;
	}
	n = snprintf(msg, sizeof msg, "asoc-job-key:%s", jobid);
	if (n < 0 || (size_t)n >= sizeof msg) {
		snprintf(err, errlen, "job id '%.20s...' is too long", jobid);
		return -1;
	}
	return hmac_sha256(secret, secretlen, msg, (size_t)n, out, err,
	    errlen);
}
