/*
 * check_slurm.c: unit tests for the pure parts of asoc-slurm(8): the job
 * key, the candidate ports, the checks on slurmd's environment and the
 * settings file.
 */
#include "check-main.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jobkey.h"
#include "portseq.h"
#include "slurm.h"

static char err[2048];

/* The expected value is HMAC-SHA256(key 0x00..0x1f, "asoc-job-key:42")
 * as `openssl dgst -mac HMAC` computes it (the old shell prolog's
 * derivation): nodes running old and new code must agree. */
START_TEST(key_known_answer)
{
	static const char want[] =
	    "4a7d60019990597bf3391dbeab71804384f6571a39734196d8051d9766fd22ce";
	uint8_t secret[32], key[JOBKEY_LEN];
	char hex[2 * JOBKEY_LEN + 1];
	int i;

	for (i = 0; i < 32; i++)
		secret[i] = (uint8_t)i;
	ck_assert_int_eq(jobkey_derive(secret, 32, "42", key, err,
	    sizeof err), 0);
	for (i = 0; i < JOBKEY_LEN; i++)
		snprintf(hex + 2 * i, 3, "%02x", key[i]);
	ck_assert_str_eq(hex, want);
}
END_TEST

START_TEST(key_differs_per_job_and_secret)
{
	uint8_t s1[16] = { 1 }, s2[16] = { 2 }, a[32], b[32], c[32];

	ck_assert_int_eq(jobkey_derive(s1, 16, "7", a, err, sizeof err), 0);
	ck_assert_int_eq(jobkey_derive(s1, 16, "8", b, err, sizeof err), 0);
	ck_assert_int_eq(jobkey_derive(s2, 16, "7", c, err, sizeof err), 0);
	ck_assert(memcmp(a, b, 32) != 0);
	ck_assert(memcmp(a, c, 32) != 0);
	ck_assert_int_eq(jobkey_derive(s1, 0, "7", a, err, sizeof err), -1);
	ck_assert_int_eq(jobkey_derive(s1, 16, "", a, err, sizeof err), -1);
}
END_TEST

START_TEST(ports_in_range_and_distinct)
{
	unsigned i, k;
	uint16_t p[8];

	for (i = 0; i < 8; i++) {
		p[i] = portseq_port(9000, 1000, "1234", i);
		ck_assert_uint_ge(p[i], 9000);
		ck_assert_uint_lt(p[i], 10000);
		for (k = 0; k < i; k++)
			ck_assert_uint_ne(p[i], p[k]);
	}
	/* The same on every node: a pure function of its inputs. */
	ck_assert_uint_eq(portseq_port(9000, 1000, "1234", 3), p[3]);
	ck_assert_uint_eq(portseq_port(9000, 1, "1234", 5), 9000);
	/* A span of 2: both ports, alternating. */
	ck_assert_uint_ne(portseq_port(100, 2, "x", 0),
	    portseq_port(100, 2, "x", 1));
}
END_TEST

/* The old scheme gave jobs 5 and 1005 the same port; the first
 * candidates of two ids differing by 1000 differ now (for these ids), and
 * even when they meet, the next ones part. */
START_TEST(ports_of_ids_1000_apart)
{
	unsigned same = 0, id;
	char a[16], b[16];

	for (id = 1; id <= 1000; id++) {
		snprintf(a, sizeof a, "%u", id);
		snprintf(b, sizeof b, "%u", id + 1000);
		if (portseq_port(9000, 1000, a, 0) ==
		    portseq_port(9000, 1000, b, 0)) {
			same++;
			ck_assert_uint_ne(portseq_port(9000, 1000, a, 1),
			    portseq_port(9000, 1000, b, 1));
		}
	}
	ck_assert_uint_lt(same, 10);	/* about 1 in 1000 by chance */
}
END_TEST

static int
env_try(const char *id, const char *uid, const char *node, const char *list)
{
	char v[5][256];
	char *env[6];
	struct slurm_job j;
	int n = 0;

	if (id != NULL)
		snprintf(v[n], 256, "SLURM_JOB_ID=%s", id), env[n] = v[n], n++;
	if (uid != NULL) {
		snprintf(v[n], 256, "SLURM_JOB_UID=%s", uid), env[n] = v[n], n++;
		snprintf(v[n], 256, "SLURM_JOB_GID=%s", uid), env[n] = v[n], n++;
	}
	if (node != NULL)
		snprintf(v[n], 256, "SLURMD_NODENAME=%s", node), env[n] = v[n],
		    n++;
	if (list != NULL)
		snprintf(v[n], 256, "SLURM_NODELIST=%s", list), env[n] = v[n],
		    n++;
	env[n] = NULL;
	return slurm_env_read(&j, env, 1, err, sizeof err);
}

START_TEST(env_valid)
{
	ck_assert_int_eq(env_try("42", "1000", "n1", "n[1-4]"), 0);
	ck_assert_int_eq(env_try("42", "0", "node-1.x", "node-1.x,b"), 0);
}
END_TEST

START_TEST(env_refused)
{
	ck_assert_int_eq(env_try(NULL, "1000", "n1", "n1"), -1);
	ck_assert_ptr_nonnull(strstr(err, "SLURM_JOB_ID is not set"));
	ck_assert_int_eq(env_try("../etc", "1000", "n1", "n1"), -1);
	ck_assert_ptr_nonnull(strstr(err, "is not a job id"));
	ck_assert_int_eq(env_try("0", "1000", "n1", "n1"), -1);
	ck_assert_int_eq(env_try("42/x", "1000", "n1", "n1"), -1);
	ck_assert_int_eq(env_try("123456789012345678901", "1", "n1", "n1"), -1);
	ck_assert_int_eq(env_try("42", "-1", "n1", "n1"), -1);
	ck_assert_ptr_nonnull(strstr(err, "SLURM_JOB_UID='-1' is not a number"));
	ck_assert_int_eq(env_try("42", "4294967295", "n1", "n1"), -1);
	ck_assert_int_eq(env_try("42", "1000", "../n1", "n1"), -1);
	ck_assert_ptr_nonnull(strstr(err, "SLURMD_NODENAME"));
	ck_assert_int_eq(env_try("42", "1000", "n1", "n1;rm"), -1);
	ck_assert_int_eq(env_try("42", "1000", "n1", "n 1"), -1);
	ck_assert_int_eq(env_try("42", "1000", "n1", NULL), -1);
	ck_assert_ptr_nonnull(strstr(err, "SLURM_NODELIST is not set"));
}
END_TEST

static int
conf_try(struct slurm_conf *c, const char *text)
{
	slurm_conf_defaults(c);
	return slurm_conf_parse(c, text, strlen(text), "t.conf", err,
	    sizeof err);
}

START_TEST(conf_parsed)
{
	struct slurm_conf c;

	ck_assert_int_eq(conf_try(&c, "# c\nPORT_BASE=20000 # x\n"
	    "export RUN_DIR='/tmp/r'\nINTERFACE=\"eth 0\"\n\nPORT_TRIES=4\n"),
	    0);
	ck_assert_uint_eq(c.port_base, 20000);
	ck_assert_uint_eq(c.port_tries, 4);
	ck_assert_str_eq(c.run_dir, "/tmp/r");
	ck_assert_str_eq(c.interface, "eth 0");
	ck_assert_int_eq(conf_try(&c, "INTERFCE=eth0\n"), -1);
	ck_assert_ptr_nonnull(strstr(err, "t.conf:1: unknown setting "
	    "'INTERFCE'"));
	ck_assert_int_eq(conf_try(&c, "ASOCD=$(id)\n"), -1);
	ck_assert_int_eq(conf_try(&c, "ASOCD=\"`id`\"\n"), -1);
	ck_assert_int_eq(conf_try(&c, "RUN_DIR=relative\n"), -1);
	ck_assert_int_eq(conf_try(&c, "PORT_BASE=65000\n"), -1);
	ck_assert_int_eq(conf_try(&c, "just words\n"), -1);
}
END_TEST

/* BUSY_POLL: unset leaves asocd's default; 0 (never spin) and the most
 * asocd takes pass; anything else is refused here, by root, with the
 * range, rather than by a daemon that then fails to start. */
START_TEST(conf_busy_poll)
{
	struct slurm_conf c;

	ck_assert_int_eq(conf_try(&c, "PORT_BASE=20000\n"), 0);
	ck_assert_uint_eq(c.busy_poll, SLURM_CONF_UNSET);
	ck_assert_int_eq(conf_try(&c, "BUSY_POLL=0\n"), 0);
	ck_assert_uint_eq(c.busy_poll, 0);
	ck_assert_int_eq(conf_try(&c, "BUSY_POLL=10000\n"), 0);
	ck_assert_uint_eq(c.busy_poll, 10000);
	ck_assert_int_eq(conf_try(&c, "BUSY_POLL=10001\n"), -1);
	ck_assert_ptr_nonnull(strstr(err, "t.conf:1: BUSY_POLL must be a "
	    "number from 0 to 10000, not '10001'"));
	ck_assert_int_eq(conf_try(&c, "BUSY_POLL=-1\n"), -1);
	ck_assert_int_eq(conf_try(&c, "BUSY_POLL=50us\n"), -1);
}
END_TEST

static Suite *
slurm_suite(void)
{
	return check_suite("slurm", "pure", NULL, NULL, 0,
	    CHECK_TESTS(key_known_answer, key_differs_per_job_and_secret,
	    ports_in_range_and_distinct, ports_of_ids_1000_apart, env_valid,
	    env_refused, conf_parsed, conf_busy_poll));
}

int
main(void)
{
	return check_run(slurm_suite(), NULL);
}
