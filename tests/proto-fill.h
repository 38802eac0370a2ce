/*
 * proto-fill.h: a valid message of any type, filled by proto.c's field
 * tables (proto_fields.h), for the tests (check_proto) and the fuzz seeds
 * (tests/fuzz/mkseeds.c).  A new field is filled without a new line.
 */
#ifndef ASOC_PROTO_FILL_H
#define ASOC_PROTO_FILL_H

#include <stdint.h>

#include "proto.h"
#include "proto_fields.h"

/* DATA's (and the eager RTS's) payload in a filled message. */
extern const uint8_t pfill_payload[5];

/* One field, by its kind: a value the decoder accepts, distinct from its
 * neighbours' (k is the field's index in its table). */
void pfill_field(struct proto_msg *m, const struct proto_field *f,
    unsigned k);

/* Every field of a type's body, a header id, and DATA's payload (an
 * RTS: eager, with the same payload). */
void pfill_msg(struct proto_msg *m, uint16_t type);

#endif
