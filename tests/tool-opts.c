/*
 * tool-opts: table-driven getopt_long for the test tools (tool-opts.h).
 */
#include "config.h"

#include <getopt.h>
#include <stdint.h>
#include <stdlib.h>

#include "tool-opts.h"

#define TOPT_MAX	32	/* options of one tool, at most */

int
topt_parse(int argc, char **argv, const struct topt *opts,
    void (*usage)(void))
{
	struct option lo[TOPT_MAX + 1];
	const struct topt *o;
	int n, ch;

	for (n = 0; opts[n].name != NULL; n++) {
		if (n == TOPT_MAX)
			usage();	/* a tool with too many: grow TOPT_MAX */
		lo[n].name = opts[n].name;
		lo[n].has_arg = required_argument;
		lo[n].flag = NULL;
		lo[n].val = 256 + n;	/* past every short option */
	}
	lo[n] = (struct option){ NULL, 0, NULL, 0 };
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (ch < 256 || ch >= 256 + n)
			usage();
		o = &opts[ch - 256];
		switch (o->kind) {
		case TOPT_STR:
			*(const char **)o->dst = optarg;
			break;
		case TOPT_U64:
			*(uint64_t *)o->dst = strtoull(optarg, NULL, 0);
			break;
		case TOPT_UINT:
			*(unsigned *)o->dst = (unsigned)strtoul(optarg, NULL,
			    0);
			break;
		case TOPT_CALL:
			if (o->call(optarg) < 0)
				usage();
			break;
		}
	}
	return optind;
}
