/*
 * proto_disc.c: encoder and strict decoder of the discovery datagram.
 */
#include "proto_disc.h"

#include <string.h>

#include "le.h"

static uint8_t *
put(uint8_t *p, uint64_t v, size_t n)
{
	le_put(p, v, n);
	return p + n;
}

static uint64_t
get(const uint8_t **pp, size_t n)
{
	uint64_t v = le_get(*pp, n);

	*pp += n;
	return v;
}

void
proto_disc_encode(const struct proto_disc *d, uint8_t *out)
{
	uint8_t *p = out;
	size_t n = strnlen(d->community, PROTO_NAME_MAX - 1);

	memcpy(p, DISC_MAGIC, 8);
	p += 8;
	p = put(p, d->version, 2);
	p = put(p, d->port, 2);
	p = put(p, d->addr, 4);
	p = put(p, d->world, 4);
	p = put(p, d->flags, 4);
	p = put(p, d->nonce, 8);
	p = put(p, d->time_ms, 8);
	memset(p, 0, PROTO_NAME_MAX);
	memcpy(p, d->community, n);
	p += PROTO_NAME_MAX;
	memcpy(p, d->mac, DISC_MAC_LEN);
}

int
proto_disc_decode(const uint8_t *buf, size_t len, struct proto_disc *d)
{
	const uint8_t *p = buf, *nul;
	size_t i;

	if (len != DISC_LEN || memcmp(p, DISC_MAGIC, 8) != 0)
		return -1;
	p += 8;
	d->version = (uint16_t)get(&p, 2);
	d->port = (uint16_t)get(&p, 2);
	d->addr = (uint32_t)get(&p, 4);
	d->world = (uint32_t)get(&p, 4);
	d->flags = (uint32_t)get(&p, 4);
	d->nonce = get(&p, 8);
	d->time_ms = get(&p, 8);
	if ((nul = memchr(p, 0, PROTO_NAME_MAX)) == NULL)
		return -1;
	for (i = (size_t)(nul - p); i < PROTO_NAME_MAX; i++)
		if (p[i] != 0)
			return -1;
	memcpy(d->community, p, PROTO_NAME_MAX);
	p += PROTO_NAME_MAX;
	memcpy(d->mac, p, DISC_MAC_LEN);
	if (d->version != DISC_VERSION || d->flags != 0 || d->port == 0 ||
	    d->world < 2 || d->world >= PROTO_RANK_MAX)
		return -1;
	return 0;
}
