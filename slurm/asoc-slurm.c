/*
 * asoc-slurm: the root part of ASoc on a SLURM cluster.
 *
 *     asoc-slurm [-c FILE] prolog|epilog
 *
 * slurmd runs the prolog and epilog scripts as root; they call this.  It
 * never exits non-zero for anything a job or its user did: SLURM drains a
 * node whose prolog or epilog fails, for everyone.  The reason a daemon
 * did not start goes to stderr (slurmd's log) and into the job's folder,
 * where libasoc and the tools read it.
 */
#include "config.h"
#include "slurm.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void
usage(void)
{
	fprintf(stderr, "usage: asoc-slurm [-c FILE] prolog|epilog\n"
	    "  run as root by slurmd's Prolog= and Epilog= scripts; see "
	    "asoc-slurm(8)\n");
}

int
main(int argc, char **argv)
{
	const char *conf = SYSCONFDIR "/asoc/slurm.conf";
	struct slurm_conf c;
	struct slurm_job j;
	char err[2048];
	int ch, prolog, rc;

	while ((ch = getopt(argc, argv, "c:h")) != -1) {
		switch (ch) {
		case 'c':
			conf = optarg;
			break;
		default:
			usage();
			return ch == 'h' ? 0 : 2;
		}
	}
	if (optind + 1 != argc || (strcmp(argv[optind], "prolog") != 0 &&
	    strcmp(argv[optind], "epilog") != 0)) {
		usage();
		return 2;
	}
	prolog = strcmp(argv[optind], "prolog") == 0;
	umask(022);
	if (geteuid() != 0) {
		fprintf(stderr, "asoc-slurm: must run as root (slurmd runs its "
		    "Prolog= and Epilog= as root), not as uid %u\n",
		    (unsigned)geteuid());
		return 2;
	}
	slurm_conf_defaults(&c);
	if (slurm_conf_load(&c, conf, 1, err, sizeof err) < 0 ||
	    slurm_env_read(&j, NULL, prolog, err, sizeof err) < 0) {
		fprintf(stderr, "asoc-slurm %s: %s; no asocd for this job, the "
		    "node stays in service\n", argv[optind], err);
		return 0;
	}
	rc = prolog ? slurm_prolog(&c, &j, err, sizeof err) :
	    slurm_epilog(&c, &j, err, sizeof err);
	if (rc < 0)
		fprintf(stderr, "asoc-slurm %s: job %s on %s: %s%s\n",
		    argv[optind], j.id, j.node, err, prolog ? "\n(the job "
		    "runs without asocd; the node stays in service)" : "");
	return 0;
}
