/*
 * size_parse.h: the one parser of byte sizes, shared by asocd's settings
 * (conf.c: chunk-size, client-max-bytes, ...) and the command-line tools
 * (cli.c: --size and the like), so that "64K" means the same everywhere.
 */
#ifndef ASOC_SIZE_PARSE_H
#define ASOC_SIZE_PARSE_H

#include <stdint.h>

enum {
	SIZE_PARSE_OK = 0,
	SIZE_PARSE_SYNTAX = -1,	/* not a size: say what one looks like */
	SIZE_PARSE_RANGE = -2,	/* a size, but over 2^64 - 1 bytes */
};

/*
 * Digits (decimal, or hex after 0x), then optionally K, M, G or T in
 * either case (powers of 1024), then optionally "B", "i" or "iB" after a
 * suffix, or "B" alone: 4096, 0x1000, 64K, 4MiB, 4Mi, 1g, 512B.  Nothing
 * before or after, no sign, no space.  Returns SIZE_PARSE_OK with *out
 * set, or one of the errors with *out untouched.
 */
int size_parse(const char *s, uint64_t *out);

#endif
