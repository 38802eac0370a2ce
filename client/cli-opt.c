/*
 * cli-opt.c: the command line of every ASoc tool (see cli.h): the shared
 * options, getopt_long built from the tool's table, --help written from
 * that table, --version, and exit status 2 for any misuse, so that no
 * tool has a parser, a usage text or an exit convention of its own.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "proto.h"	/* PROTO_VERSION */

#define CLI_OPT_MAX	32	/* options of one tool, shared ones included */
#define CLI_KEY_VERSION	'V'
#define CLI_KEY_RANK		(CLI_LONG_SHARED + 0)
#define CLI_KEY_WORLD		(CLI_LONG_SHARED + 1)
#define CLI_KEY_NODE_RANKS	(CLI_LONG_SHARED + 2)
#define CLI_HELP_COLUMN	24	/* a longer label has its help below it */

static const struct cli_opt cli_opt_socket = { "socket", 'S', "PATH",
    "asocd's socket (default: $ASOC_SOCKET or the job's)" };
static const struct cli_opt cli_opt_quiet = { "quiet", 'q', NULL,
    "no progress line" };
static const struct cli_opt cli_opt_tag = { "tag", 'T', "TAG",
    "the stream's tag, the same at both ends (default 0)" };
static const struct cli_opt cli_opt_timeout = { "timeout", 'W', "SECONDS",
    "give up on the other end silent this long (0: never)" };
static const struct cli_opt cli_opt_rank = { "rank", CLI_KEY_RANK, "N",
    "this process's rank (default: from the environment)" };
static const struct cli_opt cli_opt_world = { "world-size", CLI_KEY_WORLD,
    "P", "the number of processes, with --rank" };
static const struct cli_opt cli_opt_node_ranks = { "node-ranks",
    CLI_KEY_NODE_RANKS, NULL, "one rank per asocd, as ASOC_RANKS=node" };
static const struct cli_opt cli_opt_help = { "help", 'h', NULL,
    "print this help and exit" };
static const struct cli_opt cli_opt_version = { "version", CLI_KEY_VERSION,
    NULL, "print the version and exit" };

/* The tool's options, then the shared ones it takes, in --help order. */
static size_t
cli_opt_all(const struct cli_tool *t, const struct cli_opt **all)
{
	const struct cli_opt *o;
	size_t n = 0;

	for (o = t->opts; o != NULL && o->name != NULL; o++) {
		if (n == CLI_OPT_MAX - 9)	/* a tool's table, not the user */
			cli_die("%s has too many options: raise CLI_OPT_MAX",
			    t->name);
		all[n++] = o;
	}
	if (t->common & CLI_COMMON_STREAM) {
		all[n++] = &cli_opt_tag;
		all[n++] = &cli_opt_timeout;
	}
	if (t->common & CLI_COMMON_RANKS) {
		all[n++] = &cli_opt_rank;
		all[n++] = &cli_opt_world;
		all[n++] = &cli_opt_node_ranks;
	}
	if (t->common & CLI_COMMON_SOCKET)
		all[n++] = &cli_opt_socket;
	if (t->common & CLI_COMMON_QUIET)
		all[n++] = &cli_opt_quiet;
	all[n++] = &cli_opt_help;
	all[n++] = &cli_opt_version;
	return n;
}

/* "-t, --to RANK" into buf; the width of --help's first column. */
static int
cli_opt_label(const struct cli_opt *o, char *buf, size_t len)
{
	return snprintf(buf, len, "%c%c%c --%s%s%s",
	    o->key < CLI_LONG_ONLY ? '-' : ' ',
	    o->key < CLI_LONG_ONLY ? o->key : ' ',
	    o->key < CLI_LONG_ONLY ? ',' : ' ', o->name,
	    o->arg != NULL ? " " : "", o->arg != NULL ? o->arg : "");
}

void
cli_help(const struct cli_tool *t, FILE *f)
{
	const struct cli_opt *all[CLI_OPT_MAX];
	char label[96];
	size_t n = cli_opt_all(t, all), i;
	int w = 0, l;

	fprintf(f, "usage: %s [options]%s%s\n%s\n\noptions:\n", t->name,
	    t->operands != NULL ? " " : "",
	    t->operands != NULL ? t->operands : "", t->about);
	for (i = 0; i < n; i++)
		if (all[i]->help != NULL && (l = cli_opt_label(all[i], label,
		    sizeof label)) > w && l <= CLI_HELP_COLUMN)
			w = l;
	for (i = 0; i < n; i++) {
		if (all[i]->help == NULL)
			continue;
		if (cli_opt_label(all[i], label, sizeof label) > w)
			fprintf(f, "  %s\n  %-*s  %s\n", label, w, "",
			    all[i]->help);
		else
			fprintf(f, "  %-*s  %s\n", w, label, all[i]->help);
	}
	fprintf(f, "\n%s\nSee %s(1).\n", t->exits != NULL ? t->exits :
	    "Exit status: 0 done, 1 the operation failed, 2 a bad command "
	    "line.", t->name);
}

void
cli_version(const struct cli_tool *t)
{
	printf("%s %s (protocol %d)\n", t->name, PACKAGE_VERSION,
	    PROTO_VERSION);
}

/* getopt_long's tables from ours: short letters, then long options. */
static void
cli_opt_tables(const struct cli_opt **all, size_t n, struct option *lo,
    char *so)
{
	size_t i;

	*so++ = ':';	/* a missing argument is ':', not '?' */
	for (i = 0; i < n; i++) {
		lo[i].name = all[i]->name;
		lo[i].has_arg = all[i]->arg != NULL ? required_argument :
		    no_argument;
		lo[i].flag = NULL;
		lo[i].val = all[i]->key;
		if (all[i]->key >= CLI_LONG_ONLY)
			continue;
		*so++ = (char)all[i]->key;
		if (all[i]->arg != NULL)
			*so++ = ':';
	}
	memset(&lo[n], 0, sizeof lo[n]);
	*so = '\0';
}

/* One of the shared options, if the tool takes it: 1 when taken. */
static int
cli_opt_common(const struct cli_tool *t, struct cli_common *c, int key,
    const char *arg)
{
	if (key == 'S' && (t->common & CLI_COMMON_SOCKET))
		c->socket = arg;
	else if (key == 'q' && (t->common & CLI_COMMON_QUIET))
		c->quiet = 1;
	else if (key == 'T' && (t->common & CLI_COMMON_STREAM))
		c->tag = cli_parse_tag("--tag", arg);
	else if (key == 'W' && (t->common & CLI_COMMON_STREAM)) {
		c->timeout_ms = cli_parse_timeout("--timeout", arg);
		c->timeout_set = 1;
	} else if (key == CLI_KEY_RANK && (t->common & CLI_COMMON_RANKS))
		c->rank = cli_parse_rank("--rank", arg);
	else if (key == CLI_KEY_WORLD && (t->common & CLI_COMMON_RANKS))
		c->world_size = cli_parse_world("--world-size", arg);
	else if (key == CLI_KEY_NODE_RANKS && (t->common & CLI_COMMON_RANKS))
		c->node_ranks = 1;
	else
		return 0;
	return 1;
}

/* --rank and --world-size come together, in range, and not with
 * --node-ranks: what asoc_open_ex would refuse, said as usage. */
static void
cli_opt_ranks_check(const struct cli_common *c)
{
	if (c->node_ranks && (c->rank >= 0 || c->world_size != 0))
		cli_die_usage("--node-ranks and --%s exclude each other: a rank "
		    "names a node or a process, not both", c->rank >= 0 ?
		    "rank" : "world-size");
	if (c->rank >= 0 && c->world_size == 0)
		cli_die_usage("--rank %d needs --world-size (the number of "
		    "processes)", c->rank);
	if (c->rank < 0 && c->world_size != 0)
		cli_die_usage("--world-size %d needs --rank (this process's "
		    "rank, 0 to %d)", c->world_size, c->world_size - 1);
	if (c->rank >= c->world_size && c->world_size != 0)
		cli_die_usage("--rank %d is not in a world of %d process ranks "
		    "(0-%d)", c->rank, c->world_size, c->world_size - 1);
}

/* What getopt_long refused, as the user wrote it. */
static void CLI_NORETURN
cli_opt_refused(int ch, char **argv)
{
	const char *what = argv[optind - 1];
	int is_long = strncmp(what, "--", 2) == 0;

	/* A short option refused inside a group ("--quiet -xq") leaves optind
	 * on the group, so what is the argument before it: only a long
	 * option with "=value" is what getopt refused. */
	if (optopt != 0 && optopt < CLI_LONG_ONLY && (!is_long ||
	    (ch == '?' && strchr(what, '=') == NULL))) {
		if (ch == ':')
			cli_die_usage("option -%c needs an argument", optopt);
		cli_die_usage("unknown option -%c", optopt);
	}
	if (ch == ':')
		cli_die_usage("option '%s' needs an argument", what);
	if (optopt != 0 && strchr(what, '=') != NULL)
		cli_die_usage("option '%.*s' takes no argument",
		    (int)(strchr(what, '=') - what), what);
	cli_die_usage("unknown option '%s'", what);
}

int
cli_parse(const struct cli_tool *t, struct cli_common *common, void *ctx,
    int argc, char **argv)
{
	const struct cli_opt *all[CLI_OPT_MAX];
	struct option lo[CLI_OPT_MAX + 1];
	char so[3 * CLI_OPT_MAX + 2];
	size_t n = cli_opt_all(t, all);
	int ch;

	cli_init(t->name);
	if (common != NULL) {
		common->rank = -1;	/* not given */
		common->world_size = 0;
		common->node_ranks = 0;
	}
	cli_opt_tables(all, n, lo, so);
	opterr = 0;	/* our messages, in our style */
	while ((ch = getopt_long(argc, argv, so, lo, NULL)) != -1) {
		switch (ch) {
		case 'h':
			cli_help(t, stdout);
			exit(CLI_EXIT_OK);
		case CLI_KEY_VERSION:
			cli_version(t);
			exit(CLI_EXIT_OK);
		case '?':
		case ':':
			cli_opt_refused(ch, argv);
		default:
			if (!cli_opt_common(t, common, ch, optarg))
				t->take(ctx, ch, optarg);
		}
	}
	if (common != NULL && (t->common & CLI_COMMON_RANKS))
		cli_opt_ranks_check(common);
	return optind;
}
