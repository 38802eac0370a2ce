/*
 * libasoc-rank.c: which rank a session asks for (asoc.h, "Process ranks").
 *
 * A pure function of the options and an environment handed in (NULL: the
 * process's), so that the order ASOC_PROC_* > ASOC_RANKS=node > srun step
 * > node mode is tested without a daemon (tests/check_libasoc_rank.c).
 * Every refusal says which variable or option is wrong and what to set.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "asoc.h"
#include "env_get.h"
#include "libasoc-int.h"
#include "proto.h"	/* PROTO_RANK_MAX */

/* SLURM numbers its batch, extern and interactive steps from 0xfffffffa
 * up: none of them is an srun step of tasks with ranks. */
#define LIBASOC_SLURM_SPECIAL_STEP	0xfffffff0UL

void
asoc_open_opts_init(asoc_open_opts_t *o)
{
	if (o == NULL)
		return;
	memset(o, 0, sizeof *o);
	o->size = sizeof *o;
	o->rank = ASOC_RANK_AUTO;
	o->localid = -1;
}

/* A decimal number with nothing around it, at most max: 0, or -1. */
static int
rank_number(const char *s, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;

	if (s == NULL || *s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > max)
			return -1;
	}
	*out = v;
	return 0;
}

/* The value of a variable, NULL when unset or set empty (as unset). */
static const char *
rank_env(char **env, const char *name)
{
	const char *v = env_get(env, name);

	return v != NULL && *v != '\0' ? v : NULL;
}

static asoc_status_t
rank_fail(char *err, size_t len, const char *fmt, ...)
    LIBASOC_PRINTF(3, 4);

static asoc_status_t
rank_fail(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return ASOC_EINVAL;
}

/* Rank and world from two variables (rname, wname), both set; what the
 * refusal says to do instead is `instead`. */
static asoc_status_t
rank_pair(struct libasoc_join *j, const char *rname, const char *rv,
    const char *wname, const char *wv, const char *instead, char *err,
    size_t len)
{
	unsigned long r, w;

	if (rank_number(wv, PROTO_RANK_MAX, &w) == -1 || w == 0)
		return rank_fail(err, len, "%s must be a number of processes "
		    "from 1 to %u, not '%s'%s", wname, PROTO_RANK_MAX, wv,
		    instead);
	if (rank_number(rv, PROTO_RANK_MAX - 1, &r) == -1)
		return rank_fail(err, len, "%s must be a process rank from 0 "
		    "to %lu, not '%s'%s", rname, w - 1, rv, instead);
	if (r >= w)
		return rank_fail(err, len, "rank %lu is not in a world of %lu "
		    "process ranks (0-%lu): %s=%s, %s=%s%s", r, w, w - 1,
		    rname, rv, wname, wv, instead);
	j->mode = LIBASOC_JOIN_PROC;
	j->rank = (uint32_t)r;
	j->world = (uint32_t)w;
	snprintf(j->from, sizeof j->from, "%s and %s", rname, wname);
	return ASOC_OK;
}

/* Rule 3: an srun step's task.  The batch shell has SLURM_PROCID=0 but
 * no SLURM_STEP_ID, so a tool run from it stays in node mode.  So does a
 * step of one task (`srun -n1 asoc-send --to 2`, as jobs wrote it before
 * process ranks): a world of one process has no one to talk to, and its
 * node rank is what such a command means. */
static asoc_status_t
rank_slurm(char **env, struct libasoc_join *j, int *found, char *err,
    size_t len)
{
	static const char instead[] = "; or set ASOC_PROC_RANK and "
	    "ASOC_PROC_WORLD, or ASOC_RANKS=node";
	const char *step = rank_env(env, "SLURM_STEP_ID");
	const char *procid = rank_env(env, "SLURM_PROCID");
	const char *wname = "SLURM_STEP_NUM_TASKS", *wv;
	unsigned long s, w;

	*found = 0;
	if (step == NULL || procid == NULL)
		return ASOC_OK;
	if (rank_number(step, UINT32_MAX, &s) == -1)
		return rank_fail(err, len, "SLURM_STEP_ID is '%s', not a step "
		    "number%s", step, instead);
	if (s >= LIBASOC_SLURM_SPECIAL_STEP)
		return ASOC_OK;
	if ((wv = rank_env(env, wname)) == NULL) {
		wname = "SLURM_NTASKS";
		wv = rank_env(env, wname);
	}
	if (wv == NULL)
		return rank_fail(err, len, "this srun step (SLURM_STEP_ID=%s) "
		    "sets SLURM_PROCID=%s but neither SLURM_STEP_NUM_TASKS nor "
		    "SLURM_NTASKS, so the world is unknown%s", step, procid,
		    instead);
	if (rank_number(wv, PROTO_RANK_MAX, &w) == 0 && w == 1) {
		snprintf(j->from, sizeof j->from, "a one-task srun step");
		return ASOC_OK;
	}
	*found = 1;
	return rank_pair(j, "SLURM_PROCID", procid, wname, wv, instead, err,
	    len);
}

/* The informational index of the process on its node. */
static uint32_t
rank_localid(char **env, int given)
{
	unsigned long v;

	if (given >= 0)
		return (uint32_t)given;
	if (rank_number(rank_env(env, "SLURM_LOCALID"), PROTO_RANK_MAX - 1,
	    &v) == 0)
		return (uint32_t)v;
	return LIBASOC_LOCALID_NONE;
}

/* ASOC_RANK_AUTO: the environment, in the order of asoc.h. */
static asoc_status_t
rank_auto(char **env, struct libasoc_join *j, char *err, size_t len)
{
	const char *rv = rank_env(env, "ASOC_PROC_RANK");
	const char *wv = rank_env(env, "ASOC_PROC_WORLD");
	const char *mode = rank_env(env, "ASOC_RANKS");
	asoc_status_t st;
	int found;

	/* A typo must not silently pick another rule. */
	if (mode != NULL && strcmp(mode, "node") != 0)
		return rank_fail(err, len, "ASOC_RANKS is '%s': the only value "
		    "is 'node' (one rank per asocd, shared by its processes); "
		    "unset it for process ranks", mode);
	if ((rv == NULL) != (wv == NULL))
		return rank_fail(err, len, "%s is set (%s) but %s is not: set "
		    "both (this process's rank and the number of processes) "
		    "or neither", rv != NULL ? "ASOC_PROC_RANK" :
		    "ASOC_PROC_WORLD", rv != NULL ? rv : wv,
		    rv != NULL ? "ASOC_PROC_WORLD" : "ASOC_PROC_RANK");
	if (rv != NULL)
		return rank_pair(j, "ASOC_PROC_RANK", rv, "ASOC_PROC_WORLD",
		    wv, "", err, len);
	if (mode != NULL) {
		snprintf(j->from, sizeof j->from, "ASOC_RANKS=node");
		return ASOC_OK;
	}
	if ((st = rank_slurm(env, j, &found, err, len)) != ASOC_OK || found)
		return st;
	if (j->from[0] == '\0')	/* not a one-task step's */
		snprintf(j->from, sizeof j->from, "the default");
	return ASOC_OK;
}

asoc_status_t
libasoc_join_resolve(char **env, const asoc_open_opts_t *o,
    struct libasoc_join *j, char *err, size_t len)
{
	asoc_status_t st;

	memset(j, 0, sizeof *j);
	j->mode = LIBASOC_JOIN_NODE;
	j->localid = LIBASOC_LOCALID_NONE;
	err[0] = '\0';
	if (o == NULL)
		return rank_fail(err, len, "asoc_open_ex: the options are NULL: "
		    "fill them with asoc_open_opts_init");
	/* Callers built against a later asoc.h pass a larger struct whose
	 * head is this one; a smaller one was never initialised. */
	if (o->size < sizeof *o)
		return rank_fail(err, len, "asoc_open_ex: options of %zu bytes, "
		    "this libasoc needs %zu: fill them with "
		    "asoc_open_opts_init", o->size, sizeof *o);
	if ((o->flags & ~ASOC_OPEN_STATUS) != 0)
		return rank_fail(err, len, "asoc_open_ex: unknown flags %#x",
		    o->flags & ~ASOC_OPEN_STATUS);
	if (o->rank < ASOC_RANK_NODE)
		return rank_fail(err, len, "asoc_open_ex: rank %d: give a rank "
		    "from 0, ASOC_RANK_AUTO or ASOC_RANK_NODE", o->rank);
	if (o->rank < 0 && o->world_size != 0)
		return rank_fail(err, len, "asoc_open_ex: a world size (%d) "
		    "needs a rank from 0 to %d", o->world_size,
		    o->world_size - 1);
	if (o->flags & ASOC_OPEN_STATUS) {
		if (o->rank >= 0)
			return rank_fail(err, len, "asoc_open_ex: a status-only "
			    "session has no rank (rank %d given)", o->rank);
		j->mode = LIBASOC_JOIN_STATUS;
		snprintf(j->from, sizeof j->from, "ASOC_OPEN_STATUS");
		return ASOC_OK;
	}
	if (o->rank >= 0) {
		if (o->world_size <= 0 || (unsigned)o->world_size >
		    PROTO_RANK_MAX)
			return rank_fail(err, len, "rank %d needs a world size "
			    "from 1 to %u (the number of processes), not %d",
			    o->rank, PROTO_RANK_MAX, o->world_size);
		if (o->rank >= o->world_size)
			return rank_fail(err, len, "rank %d is not in a world "
			    "of %d process ranks (0-%d)", o->rank,
			    o->world_size, o->world_size - 1);
		j->mode = LIBASOC_JOIN_PROC;
		j->rank = (uint32_t)o->rank;
		j->world = (uint32_t)o->world_size;
		snprintf(j->from, sizeof j->from, "the rank given");
	} else if (o->rank == ASOC_RANK_NODE)
		snprintf(j->from, sizeof j->from, "ASOC_RANK_NODE");
	else if ((st = rank_auto(env, j, err, len)) != ASOC_OK)
		return st;
	if (j->mode == LIBASOC_JOIN_PROC)
		j->localid = rank_localid(env, o->localid);
	return ASOC_OK;
}
