/*
 * tool-opts: the command line of the test tools that take many options
 * (asoc-xfer-check, asoc-load): one table saying where each option's value
 * goes, in place of a getopt_long switch written again in each tool.
 * Numbers are read as strtoull(3) reads them (base 0), as the tools
 * always did; a value that needs more (a name, a list) goes to a function.
 */
#ifndef ASOC_TESTS_TOOL_OPTS_H
#define ASOC_TESTS_TOOL_OPTS_H

enum topt_kind {
	TOPT_STR,	/* dst: const char **, the argument itself */
	TOPT_U64,	/* dst: uint64_t * */
	TOPT_UINT,	/* dst: unsigned * */
	TOPT_CALL	/* call(argument): 0, or -1 for a bad value */
};

struct topt {
	const char *name;	/* --name VALUE; NULL ends the table */
	enum topt_kind kind;
	void *dst;
	int (*call)(const char *arg);
};

/* Reads argv's options by the table; an unknown option, one without its
 * value or a bad value calls usage(), which must not return.  Returns the
 * index of the first argument that is not an option. */
int	topt_parse(int argc, char **argv, const struct topt *opts,
	    void (*usage)(void));

#endif
