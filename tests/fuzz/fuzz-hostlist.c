/*
 * fuzz-hostlist.c: hostlist_expand on any text, as --peers, ASOC_PEERS,
 * a config file or SLURM_NODELIST (asocd --expand-hostlist) hand it over.
 * Whatever it returns must be usable as is: every host a non-empty
 * NUL-terminated name, every port set, and the count within the limit.
 */
#include <string.h>

#include "fuzz.h"
#include "hostlist.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hostlist_entry *list;
	char err[256], *spec;
	size_t n, i;

	if ((spec = malloc(size + 1)) == NULL)
		return 0;
	memcpy(spec, data, size);
	spec[size] = '\0';
	if (hostlist_expand(spec, 9000, &list, &n, err, sizeof err) == 0) {
		FUZZ_ASSERT(n > 0 && n <= HOSTLIST_MAX_HOSTS);
		for (i = 0; i < n; i++) {
			FUZZ_ASSERT(memchr(list[i].host, 0,
			    sizeof list[i].host) != NULL);
			FUZZ_ASSERT(list[i].host[0] != '\0');
			FUZZ_ASSERT(list[i].port != 0);
		}
		free(list);
	} else {
		FUZZ_ASSERT(list == NULL && n == 0);
		FUZZ_ASSERT(memchr(err, 0, sizeof err) != NULL && err[0]);
	}
	free(spec);
	return 0;
}
