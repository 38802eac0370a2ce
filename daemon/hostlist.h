/*
 * hostlist.h: peer lists in the forms users write them.
 *
 *   host1,host2:9001,10.0.0.3       plain entries, optional :port
 *   node[001-004,007]               SLURM hostlist ranges (zero padding kept)
 *   rack[1-2]-gpu[01-02]:9100       several bracket groups, expanded in order
 *
 * Commas inside brackets separate ranges; commas outside separate entries.
 */
#ifndef ASOC_HOSTLIST_H
#define ASOC_HOSTLIST_H

#include <stddef.h>
#include <stdint.h>

#define HOSTLIST_HOST_MAX	64	/* bytes, NUL included */
#define HOSTLIST_MAX_HOSTS	65535	/* a larger expansion is refused */

struct hostlist_entry {
	char host[HOSTLIST_HOST_MAX];
	uint16_t port;		/* default_port when the entry named none */
};

/*
 * Expands spec into a malloc'd array (*out, *n; free() it).  Returns 0, or
 * -1 with a message in err that names the problem and where it is, such as
 * "unbalanced '[' in 'node[1-3'" or "range 9-2 runs backwards in 'n[9-2]'".
 */
int hostlist_expand(const char *spec, uint16_t default_port,
    struct hostlist_entry **out, size_t *n, char *err, size_t errlen);

#endif
