/*
 * size_parse.c: byte sizes with a K, M, G or T suffix (see size_parse.h).
 */
#include "size_parse.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

int
size_parse(const char *s, uint64_t *out)
{
	static const char units[] = "KMGT";
	unsigned long long v;
	const char *u;
	char *end;
	unsigned shift = 0;
	int base = 10;

	/* strtoull takes leading space and a sign (and wraps "-1"): not us. */
	if (s == NULL || !isdigit((unsigned char)s[0]))
		return SIZE_PARSE_SYNTAX;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		base = 16;
	errno = 0;
	v = strtoull(s, &end, base);
	if (errno == ERANGE)
		return SIZE_PARSE_RANGE;
	if (*end != '\0' && (u = strchr(units, toupper((unsigned char)*end)))
	    != NULL) {
		shift = 10 * (unsigned)(u - units + 1);
		end++;
		if (*end == 'i')	/* 4Mi and 4MiB, as well as 4M */
			end++;
	}
	if (*end == 'B')
		end++;
	if (*end != '\0')
		return SIZE_PARSE_SYNTAX;
	if (v > (UINT64_MAX >> shift))
		return SIZE_PARSE_RANGE;
	*out = (uint64_t)v << shift;
	return SIZE_PARSE_OK;
}
