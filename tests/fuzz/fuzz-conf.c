/*
 * fuzz-conf.c: the config file parser (asocd.conf(5)) on any text, through
 * conf_parse_text, the in-memory way into what --config reads; then, as
 * asocd does next, the peer list it named is expanded.
 */
#include <string.h>

#include "fuzz.h"
#include "conf.h"
#include "hostlist.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hostlist_entry *list;
	struct conf c;
	char err[512];
	size_t n;

	memset(&c, 0, sizeof c);
	err[0] = '\0';
	if (conf_parse_text(&c, (const char *)data, size, "fuzz.conf", err,
	    sizeof err) == 0) {
		if (c.peers != NULL && hostlist_expand(c.peers,
		    c.port != 0 ? (uint16_t)c.port : 9000, &list, &n, err,
		    sizeof err) == 0)
			free(list);
	} else
		FUZZ_ASSERT(memchr(err, 0, sizeof err) != NULL && err[0]);
	conf_free(&c);
	return 0;
}
