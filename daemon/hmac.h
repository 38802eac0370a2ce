/*
 * hmac.h: HMAC-SHA256, the one MAC of the project: the peer handshake's
 * proofs (handshake.c), the discovery datagram's signature (discovery.c)
 * and a SLURM job's key (jobkey.c, also linked into asoc-slurm, so this
 * file needs libcrypto and nothing of the daemon).
 */
#ifndef ASOC_HMAC_H
#define ASOC_HMAC_H

#include <stddef.h>
#include <stdint.h>

#define HMAC_SHA256_LEN	32
/* What went wrong when it fails, for refusals and error messages. */
#define HMAC_SHA256_ERR	"cannot compute HMAC-SHA256 (OpenSSL)"

/* mac = HMAC-SHA256(key, msg).  Fails closed: on -1 mac is all zero and
 * err (when not NULL) holds HMAC_SHA256_ERR; the caller must neither send
 * nor accept a proof then. */
int hmac_sha256(const void *key, size_t keylen, const void *msg, size_t len,
    uint8_t mac[HMAC_SHA256_LEN], char *err, size_t errlen);

#endif
