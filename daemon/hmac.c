/*
 * hmac.c: HMAC-SHA256 over OpenSSL (see hmac.h).
 */
#include "config.h"
#include "hmac.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

int
hmac_sha256(const void *key, size_t keylen, const void *msg, size_t len,
    uint8_t mac[HMAC_SHA256_LEN], char *err, size_t errlen)
{
	unsigned got = 0;

	if (keylen > INT_MAX || HMAC(EVP_sha256(), key, (int)keylen, msg, len,
	    mac, &got) == NULL || got != HMAC_SHA256_LEN) {
		memset(mac, 0, HMAC_SHA256_LEN);
		if (err != NULL)
			snprintf(err, errlen, "%s", HMAC_SHA256_ERR);
		return -1;
	}
	return 0;
}
