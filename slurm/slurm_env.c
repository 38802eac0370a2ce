/*
 * slurm_env.c: what slurmd hands the prolog and epilog, checked before
 * root does anything with it.  slurmd sets these variables itself, but the
 * program may also be run by hand, and a value that is not what it should
 * be is refused rather than used in a path or an argument.
 */
#include "config.h"
#include "slurm.h"
#include "env_get.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
all_of(const char *s, const char *set)
{
	return *s != '\0' && s[strspn(s, set)] == '\0';
}

#define DIGITS	"0123456789"
#define NAMECH	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" DIGITS "._-"

/* A uid or gid: digits, below (uid_t)-1 (which means "none"). */
static int
env_id(char **env, const char *name, unsigned *out, char *err, size_t errlen)
{
	const char *v = env_get(env, name);
	unsigned long long n;
	char *end;

	if (v == NULL || *v == '\0') {
		snprintf(err, errlen, "%s is not set: run this as slurmd's "
		    "Prolog=/Epilog= (or set it when trying it by hand)", name);
		return -1;
	}
	errno = 0;
	n = strtoull(v, &end, 10);
	if (!all_of(v, DIGITS) || strlen(v) > 10 || errno != 0 ||
	    n >= 0xffffffffull) {
		snprintf(err, errlen, "%s='%.32s' is not a number", name, v);
		return -1;
	}
	*out = (unsigned)n;
	return 0;
}

int
slurm_env_read(struct slurm_job *j, char **env, int need_nodes, char *err,
    size_t errlen)
{
	const char *v;
	unsigned uid, gid;

	memset(j, 0, sizeof *j);
	v = env_get(env, "SLURM_JOB_ID");
	if (v == NULL || *v == '\0') {
		snprintf(err, errlen, "SLURM_JOB_ID is not set: run this as "
		    "slurmd's Prolog=/Epilog= (or set it when trying it by "
		    "hand)");
		return -1;
	}
	/* It names a folder: digits only, so never "..", "/" or "". */
	if (!all_of(v, DIGITS) || strlen(v) > SLURM_ID_MAX || v[0] == '0') {
		snprintf(err, errlen, "SLURM_JOB_ID='%.32s' is not a job id "
		    "(a number from 1)", v);
		return -1;
	}
	memcpy(j->id, v, strlen(v) + 1);
	if (env_id(env, "SLURM_JOB_UID", &uid, err, errlen) < 0)
		return -1;
	j->uid = (uid_t)uid;
	/* The epilog of a job whose gid slurmd did not pass still runs. */
	if (env_get(env, "SLURM_JOB_GID") == NULL && !need_nodes)
		gid = uid;
	else if (env_id(env, "SLURM_JOB_GID", &gid, err, errlen) < 0)
		return -1;
	j->gid = (gid_t)gid;

	v = env_get(env, "SLURMD_NODENAME");
	if (v == NULL || *v == '\0') {
		if (!need_nodes)
			return 0;
		snprintf(err, errlen, "SLURMD_NODENAME is not set: run this "
		    "as slurmd's Prolog= (or set it when trying it by hand)");
		return -1;
	}
	if (!all_of(v, NAMECH) || strlen(v) >= sizeof j->node) {
		snprintf(err, errlen, "SLURMD_NODENAME='%.64s' is not a node "
		    "name (letters, digits, '.', '_', '-'; at most %zu)", v,
		    sizeof j->node - 1);
		return -1;
	}
	memcpy(j->node, v, strlen(v) + 1);
	if (!need_nodes)
		return 0;
	/* slurmd gives the prolog SLURM_NODELIST; job steps have the
	 * other. */
	if ((v = env_get(env, "SLURM_JOB_NODELIST")) == NULL || *v == '\0')
		v = env_get(env, "SLURM_NODELIST");
	if (v == NULL || *v == '\0') {
		snprintf(err, errlen, "SLURM_NODELIST is not set: run this as "
		    "slurmd's Prolog= with PrologFlags=Alloc (or set it when "
		    "trying it by hand)");
		return -1;
	}
	if (!all_of(v, NAMECH ",[]") || strlen(v) >= sizeof j->nodelist) {
		snprintf(err, errlen, "SLURM_NODELIST='%.64s' is not a SLURM "
		    "hostlist (names, ',' and [ranges])", v);
		return -1;
	}
	memcpy(j->nodelist, v, strlen(v) + 1);
	return 0;
}
