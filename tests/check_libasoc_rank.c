/*
 * check_libasoc_rank.c: unit tests for libasoc's choice of rank
 * (client/libasoc-rank.c): the order ASOC_PROC_* > ASOC_RANKS=node >
 * srun step > node mode, the explicit options, and each refusal's words.
 * No daemon: the environment is an array handed in.
 */
#include "check-main.h"
#include <stdio.h>
#include <string.h>

#include "asoc.h"
#include "libasoc-int.h"

static char err[512];
static asoc_open_opts_t opts;
static struct libasoc_join j;

static void
setup(void)
{
	asoc_open_opts_init(&opts);
	err[0] = '\0';
}

/* Resolves with env (a NULL-terminated list of "NAME=value"). */
#define RESOLVE(...) libasoc_join_resolve((char *[]){ __VA_ARGS__, NULL }, \
	&opts, &j, err, sizeof err)

#define ASSERT_PROC(r, w) do {						\
	ck_assert_int_eq(j.mode, LIBASOC_JOIN_PROC);			\
	ck_assert_uint_eq(j.rank, (r));					\
	ck_assert_uint_eq(j.world, (w));				\
} while (0)

#define ASSERT_ERR(needle) do {						\
	ck_assert_msg(strstr(err, (needle)) != NULL,			\
	    "error '%s' does not say '%s'", err, (needle));		\
} while (0)

/* The environment resolves to node ranks. */
#define ASSERT_NODE(...) do {						\
	ck_assert_int_eq(RESOLVE(__VA_ARGS__), ASOC_OK);		\
	ck_assert_int_eq(j.mode, LIBASOC_JOIN_NODE);			\
} while (0)

/* The environment is refused, the error saying needle. */
#define ASSERT_REFUSED(needle, ...) do {				\
	ck_assert_int_eq(RESOLVE(__VA_ARGS__), ASOC_EINVAL);		\
	ASSERT_ERR(needle);						\
} while (0)

START_TEST(init_defaults)
{
	ck_assert_uint_eq(opts.size, sizeof opts);
	ck_assert_ptr_null(opts.socket_path);
	ck_assert_int_eq(opts.rank, ASOC_RANK_AUTO);
	ck_assert_int_eq(opts.world_size, 0);
	ck_assert_uint_eq(opts.flags, 0);
	ck_assert_int_eq(opts.localid, -1);
}
END_TEST

START_TEST(empty_env_is_node_mode)
{
	ASSERT_NODE("HOME=/root");
}
END_TEST

START_TEST(proc_vars)
{
	ck_assert_int_eq(RESOLVE("ASOC_PROC_RANK=3", "ASOC_PROC_WORLD=16"),
	    ASOC_OK);
	ASSERT_PROC(3, 16);
	ck_assert_uint_eq(j.localid, LIBASOC_LOCALID_NONE);
}
END_TEST

/* Rule 1 before the others, whatever they say. */
START_TEST(proc_vars_win)
{
	ck_assert_int_eq(RESOLVE("ASOC_PROC_RANK=5", "ASOC_PROC_WORLD=8",
	    "ASOC_RANKS=node", "SLURM_STEP_ID=0", "SLURM_PROCID=1",
	    "SLURM_STEP_NUM_TASKS=4", "SLURM_LOCALID=1"), ASOC_OK);
	ASSERT_PROC(5, 8);
	ck_assert_uint_eq(j.localid, 1);
}
END_TEST

START_TEST(proc_rank_alone_refused)
{
	ASSERT_REFUSED("ASOC_PROC_RANK is set (3) but ASOC_PROC_WORLD is not",
	    "ASOC_PROC_RANK=3");
	ASSERT_REFUSED("ASOC_PROC_WORLD is set (4) but ASOC_PROC_RANK is not",
	    "ASOC_PROC_WORLD=4");
}
END_TEST

START_TEST(proc_not_numbers_refused)
{
	ASSERT_REFUSED("ASOC_PROC_RANK must be a process rank from 0 to 15, "
	    "not 'three'", "ASOC_PROC_RANK=three", "ASOC_PROC_WORLD=16");
	ASSERT_REFUSED("ASOC_PROC_WORLD must be a number of processes from 1 "
	    "to 65535, not '-4'", "ASOC_PROC_RANK=1", "ASOC_PROC_WORLD=-4");
	ck_assert_int_eq(RESOLVE("ASOC_PROC_RANK=0", "ASOC_PROC_WORLD=0"),
	    ASOC_EINVAL);
	ck_assert_int_eq(RESOLVE("ASOC_PROC_RANK=0", "ASOC_PROC_WORLD=65536"),
	    ASOC_EINVAL);
	ck_assert_int_eq(RESOLVE("ASOC_PROC_RANK= 1", "ASOC_PROC_WORLD=2"),
	    ASOC_EINVAL);
	ck_assert_int_eq(RESOLVE("ASOC_PROC_RANK=1x", "ASOC_PROC_WORLD=2"),
	    ASOC_EINVAL);
}
END_TEST

START_TEST(proc_outside_world_refused)
{
	ASSERT_REFUSED("rank 17 is not in a world of 16 process ranks (0-15)",
	    "ASOC_PROC_RANK=17", "ASOC_PROC_WORLD=16");
	ck_assert_int_eq(RESOLVE("ASOC_PROC_RANK=16", "ASOC_PROC_WORLD=16"),
	    ASOC_EINVAL);
	ck_assert_int_eq(RESOLVE("ASOC_PROC_RANK=15", "ASOC_PROC_WORLD=16"),
	    ASOC_OK);
	ASSERT_PROC(15, 16);
	ck_assert_int_eq(RESOLVE("ASOC_PROC_RANK=65534",
	    "ASOC_PROC_WORLD=65535"), ASOC_OK);
	ASSERT_PROC(65534, 65535);
}
END_TEST

/* Set empty is unset, as for ASOC_BUSY_POLL. */
START_TEST(empty_values_are_unset)
{
	ASSERT_NODE("ASOC_PROC_RANK=", "ASOC_PROC_WORLD=", "ASOC_RANKS=");
}
END_TEST

/* Rule 2 before the srun step. */
START_TEST(ranks_node_beats_slurm)
{
	ASSERT_NODE("ASOC_RANKS=node", "SLURM_STEP_ID=0", "SLURM_PROCID=3",
	    "SLURM_STEP_NUM_TASKS=4");
}
END_TEST

START_TEST(ranks_typo_refused)
{
	ASSERT_REFUSED("ASOC_RANKS is 'nodes': the only value is 'node'",
	    "ASOC_RANKS=nodes");
	/* even when rule 1 would decide */
	ck_assert_int_eq(RESOLVE("ASOC_RANKS=proc", "ASOC_PROC_RANK=0",
	    "ASOC_PROC_WORLD=1"), ASOC_EINVAL);
}
END_TEST

START_TEST(slurm_step)
{
	ck_assert_int_eq(RESOLVE("SLURM_STEP_ID=2", "SLURM_PROCID=6",
	    "SLURM_STEP_NUM_TASKS=8", "SLURM_NTASKS=16", "SLURM_LOCALID=2"),
	    ASOC_OK);
	ASSERT_PROC(6, 8);
	ck_assert_uint_eq(j.localid, 2);
	ck_assert_str_eq(j.from, "SLURM_PROCID and SLURM_STEP_NUM_TASKS");
}
END_TEST

START_TEST(slurm_ntasks_fallback)
{
	ck_assert_int_eq(RESOLVE("SLURM_STEP_ID=0", "SLURM_PROCID=6",
	    "SLURM_NTASKS=16"), ASOC_OK);
	ASSERT_PROC(6, 16);
	ck_assert_uint_eq(j.localid, LIBASOC_LOCALID_NONE);
}
END_TEST

/* The batch shell: SLURM_PROCID=0 and the job's SLURM_NTASKS, no step. */
START_TEST(slurm_batch_shell_is_node_mode)
{
	ASSERT_NODE("SLURM_JOB_ID=42", "SLURM_PROCID=0", "SLURM_NTASKS=16",
	    "SLURM_LOCALID=0");
	/* nor the batch, extern or interactive step numbers */
	ASSERT_NODE("SLURM_STEP_ID=4294967291", "SLURM_PROCID=0",
	    "SLURM_NTASKS=16");
	/* a step without a task rank (not srun's) */
	ASSERT_NODE("SLURM_STEP_ID=0", "SLURM_NTASKS=16");
}
END_TEST

/* A step of one task keeps the node rank: `srun -n1 asoc-send --to 2`
 * means node 2, and a world of one process could reach no one. */
START_TEST(slurm_one_task_step_is_node_mode)
{
	ASSERT_NODE("SLURM_STEP_ID=3", "SLURM_PROCID=0",
	    "SLURM_STEP_NUM_TASKS=1", "SLURM_NTASKS=16");
	ck_assert_str_eq(j.from, "a one-task srun step");
	ASSERT_NODE("SLURM_STEP_ID=3", "SLURM_PROCID=0", "SLURM_NTASKS=1");
	/* the variables still win */
	ck_assert_int_eq(RESOLVE("SLURM_STEP_ID=3", "SLURM_PROCID=0",
	    "SLURM_STEP_NUM_TASKS=1", "ASOC_PROC_RANK=0", "ASOC_PROC_WORLD=1"),
	    ASOC_OK);
	ASSERT_PROC(0, 1);
}
END_TEST

START_TEST(slurm_refusals)
{
	ASSERT_REFUSED("neither SLURM_STEP_NUM_TASKS nor SLURM_NTASKS",
	    "SLURM_STEP_ID=0", "SLURM_PROCID=1");
	ASSERT_REFUSED("rank 4 is not in a world of 4 process ranks (0-3)",
	    "SLURM_STEP_ID=0", "SLURM_PROCID=4", "SLURM_STEP_NUM_TASKS=4");
	ASSERT_ERR("SLURM_PROCID=4, SLURM_STEP_NUM_TASKS=4");
	ASSERT_ERR("ASOC_RANKS=node");
	ASSERT_REFUSED("SLURM_STEP_ID is 'x', not a step number",
	    "SLURM_STEP_ID=x", "SLURM_PROCID=0", "SLURM_NTASKS=1");
	ASSERT_REFUSED("SLURM_STEP_NUM_TASKS must be a number of processes",
	    "SLURM_STEP_ID=0", "SLURM_PROCID=0", "SLURM_STEP_NUM_TASKS=many");
}
END_TEST

/* An odd SLURM_LOCALID is only information: left out, never an error. */
START_TEST(slurm_bad_localid_ignored)
{
	ck_assert_int_eq(RESOLVE("SLURM_STEP_ID=0", "SLURM_PROCID=0",
	    "SLURM_NTASKS=2", "SLURM_LOCALID=x"), ASOC_OK);
	ASSERT_PROC(0, 2);
	ck_assert_uint_eq(j.localid, LIBASOC_LOCALID_NONE);
}
END_TEST

/* Explicit options (--rank/--world-size) before the environment. */
START_TEST(explicit_rank)
{
	opts.rank = 2;
	opts.world_size = 4;
	opts.localid = 7;
	ck_assert_int_eq(RESOLVE("ASOC_PROC_RANK=1", "ASOC_PROC_WORLD=2",
	    "SLURM_LOCALID=3"), ASOC_OK);
	ASSERT_PROC(2, 4);
	ck_assert_uint_eq(j.localid, 7);
	/* without a localid of its own, SLURM_LOCALID's */
	opts.localid = -1;
	ck_assert_int_eq(RESOLVE("SLURM_LOCALID=3"), ASOC_OK);
	ck_assert_uint_eq(j.localid, 3);
	/* and never looks at a broken environment */
	ck_assert_int_eq(RESOLVE("ASOC_PROC_RANK=x"), ASOC_OK);
	ASSERT_PROC(2, 4);
}
END_TEST

START_TEST(explicit_refusals)
{
	opts.rank = 4;
	opts.world_size = 4;
	ASSERT_REFUSED("rank 4 is not in a world of 4 process ranks (0-3)",
	    "A=1");
	opts.world_size = 0;
	ASSERT_REFUSED("rank 4 needs a world size from 1 to 65535", "A=1");
	opts.world_size = 65536;
	ck_assert_int_eq(RESOLVE("A=1"), ASOC_EINVAL);
	opts.rank = ASOC_RANK_AUTO;
	opts.world_size = 4;
	ASSERT_REFUSED("a world size (4) needs a rank", "A=1");
	opts.world_size = 0;
	opts.rank = -3;
	ASSERT_REFUSED("rank -3", "A=1");
	opts.rank = ASOC_RANK_AUTO;
	opts.flags = 0x80;
	ASSERT_REFUSED("unknown flags 0x80", "A=1");
	opts.flags = 0;
	opts.size = sizeof opts - 1;
	ASSERT_REFUSED("asoc_open_opts_init", "A=1");
	ck_assert_int_eq(libasoc_join_resolve(NULL, NULL, &j, err,
	    sizeof err), ASOC_EINVAL);
}
END_TEST

START_TEST(explicit_node_mode)
{
	opts.rank = ASOC_RANK_NODE;
	ASSERT_NODE("ASOC_PROC_RANK=1", "ASOC_PROC_WORLD=2", "SLURM_STEP_ID=0",
	    "SLURM_PROCID=1", "SLURM_NTASKS=2");
}
END_TEST

/* asoc-stat and asoc-info never claim a rank, whatever the environment. */
START_TEST(status_only)
{
	opts.flags = ASOC_OPEN_STATUS;
	ck_assert_int_eq(RESOLVE("SLURM_STEP_ID=0", "SLURM_PROCID=1",
	    "SLURM_NTASKS=2", "ASOC_PROC_RANK=x"), ASOC_OK);
	ck_assert_int_eq(j.mode, LIBASOC_JOIN_STATUS);
	opts.rank = 0;
	opts.world_size = 1;
	ASSERT_REFUSED("a status-only session has no rank", "A=1");
}
END_TEST

/* A larger struct (a caller built against a later asoc.h) is taken. */
START_TEST(larger_opts_taken)
{
	struct { asoc_open_opts_t o; int later; } big;

	asoc_open_opts_init(&big.o);
	big.o.size = sizeof big;
	big.o.rank = 0;
	big.o.world_size = 1;
	ck_assert_int_eq(libasoc_join_resolve((char *[]){ NULL }, &big.o, &j,
	    err, sizeof err), ASOC_OK);
	ASSERT_PROC(0, 1);
}
END_TEST

static Suite *
rank_suite(void)
{
	return check_suite("libasoc_rank", "resolve", setup, NULL, 10,
	    CHECK_TESTS(init_defaults, empty_env_is_node_mode, proc_vars,
	    proc_vars_win, proc_rank_alone_refused, proc_not_numbers_refused,
	    proc_outside_world_refused, empty_values_are_unset,
	    ranks_node_beats_slurm, ranks_typo_refused, slurm_step,
	    slurm_ntasks_fallback, slurm_batch_shell_is_node_mode,
	    slurm_one_task_step_is_node_mode, slurm_refusals,
	    slurm_bad_localid_ignored, explicit_rank,
	    explicit_refusals, explicit_node_mode, status_only,
	    larger_opts_taken));
}

int
main(void)
{
	return check_run(rank_suite(), NULL);
}
