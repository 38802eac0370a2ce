/*
 * fuzz-hostlist.c: hostlist_expand on any text, as --peers, ASOC_PEERS,
 * a config file or SLURM_NODELIST (asocd --expand-hostlist) hand it over.
 * Whatever it returns must be usable as is: every host a non-empty
 * NUL-terminated name, every port set, and the count within the limit.
 * The same text is expanded again with no default port, as
 * --expand-hostlist does: the same hosts, and only the defaulted ports
 * differ.
 */
#include <string.h>

#include "fuzz.h"
#include "hostlist.h"

#define FUZZ_PORT 9000

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hostlist_entry *list, *list0;
	char err[256], *spec;
	size_t n, n0, i;
	int rc;

	if ((spec = malloc(size + 1)) == NULL)
		return 0;
	memcpy(spec, data, size);
	spec[size] = '\0';
	rc = hostlist_expand(spec, FUZZ_PORT, &list, &n, err, sizeof err);
	if (rc == 0) {
		FUZZ_ASSERT(n > 0 && n <= HOSTLIST_MAX_HOSTS);
		for (i = 0; i < n; i++) {
			FUZZ_ASSERT(memchr(list[i].host, 0,
			    sizeof list[i].host) != NULL);
			FUZZ_ASSERT(list[i].host[0] != '\0');
			FUZZ_ASSERT(list[i].port != 0);
		}
	} else {
		FUZZ_ASSERT(list == NULL && n == 0);
		FUZZ_ASSERT(memchr(err, 0, sizeof err) != NULL && err[0]);
	}
	FUZZ_ASSERT(hostlist_expand(spec, 0, &list0, &n0, err, sizeof err) ==
	    rc);
	if (rc == 0) {
		FUZZ_ASSERT(n0 == n);
		for (i = 0; i < n; i++) {
			FUZZ_ASSERT(strcmp(list0[i].host, list[i].host) == 0);
			FUZZ_ASSERT(list0[i].port == list[i].port ||
			    (list0[i].port == 0 && list[i].port == FUZZ_PORT));
		}
		free(list);
		free(list0);
	}
	free(spec);
	return 0;
}
