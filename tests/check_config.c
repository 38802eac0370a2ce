/*
 * check_config.c: asocd's settings: precedence (command line, environment,
 * file, defaults), parsing and the errors for bad values.
 */
#include "config.h"

#include "check-main.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "proto.h"

static char cfgpath[64];
static char err[512];

static void
write_cfg(const char *text)
{
	int fd;
	FILE *fp;

	snprintf(cfgpath, sizeof cfgpath, "/tmp/asoc-check-conf.XXXXXX");
	fd = mkstemp(cfgpath);
	ck_assert_int_ge(fd, 0);
	fp = fdopen(fd, "w");
	fputs(text, fp);
	fclose(fp);
}

static void
teardown(void)
{
	if (cfgpath[0] != '\0')
		unlink(cfgpath);
	cfgpath[0] = '\0';
}

static enum conf_result
load(struct conf *c, char **argv, char **env)
{
	int argc = 0;

	while (argv[argc] != NULL)
		argc++;
	return conf_load(c, argc, argv, env, err, sizeof err);
}

START_TEST(defaults)
{
	char *argv[] = { "asocd", NULL };
	char *env[] = { NULL };
	struct conf c;

	ck_assert_int_eq(load(&c, argv, env), CONF_RUN);
	ck_assert_uint_eq(c.port, 9000);
	ck_assert_int_eq(c.rank, -1);
	ck_assert_str_eq(c.interface, "ib0");
	ck_assert_str_eq(c.community, "default");
	ck_assert_uint_eq(c.connection_timeout, 30);
	ck_assert_uint_eq(c.chunk_size, 4u << 20);
	ck_assert_int_eq(c.transport, CONF_TRANSPORT_AUTO);
	ck_assert_ptr_null(c.peers);
	ck_assert_ptr_nonnull(c.socket);
	conf_free(&c);
}
END_TEST

START_TEST(precedence)
{
	char *argv[] = { "asocd", "--config", cfgpath, "--port", "9100",
	    NULL };
	char *env[] = { "ASOC_PORT=9200", "ASOC_COMMUNITY=envjob",
	    "ASOC_CHUNK_SIZE=1M", NULL };
	struct conf c;

	write_cfg("# a comment\n"
	    "port = 9300\n"
	    "community = filejob\n"
	    "peers = node[1-4]\n"
	    "chunk-size = 64K\n"
	    "  transport = tcp  \n");
	ck_assert_int_eq(load(&c, argv, env), CONF_RUN);
	ck_assert_uint_eq(c.port, 9100);		/* command line wins */
	ck_assert_str_eq(c.community, "envjob");	/* env over file */
	ck_assert_uint_eq(c.chunk_size, 1u << 20);
	ck_assert_str_eq(c.peers, "node[1-4]");	/* file over default */
	ck_assert_int_eq(c.transport, CONF_TRANSPORT_TCP);
	conf_free(&c);
}
END_TEST

START_TEST(config_from_env)
{
	char *argv[] = { "asocd", NULL };
	char envcfg[96];
	char *env[] = { envcfg, NULL };
	struct conf c;

	write_cfg("rank = 3\nforeground = yes\n");
	snprintf(envcfg, sizeof envcfg, "ASOC_CONFIG=%s", cfgpath);
	ck_assert_int_eq(load(&c, argv, env), CONF_RUN);
	ck_assert_int_eq(c.rank, 3);
	ck_assert_int_eq(c.foreground, 1);
	conf_free(&c);
}
END_TEST

START_TEST(short_options)
{
	char *argv[] = { "asocd", "-p", "a,b", "-r", "1", "-P", "9001", "-f",
	    "-t", "tcp", "-L", "debug", "-s", "/tmp/x.sock", NULL };
	char *env[] = { NULL };
	struct conf c;

	ck_assert_int_eq(load(&c, argv, env), CONF_RUN);
	ck_assert_str_eq(c.peers, "a,b");
	ck_assert_int_eq(c.rank, 1);
	ck_assert_uint_eq(c.port, 9001);
	ck_assert_int_eq(c.foreground, 1);
	ck_assert_int_eq(c.log_level, LOG_LVL_DEBUG);
	ck_assert_str_eq(c.socket, "/tmp/x.sock");
	conf_free(&c);
}
END_TEST

static void
expect_error(char **argv, char **env, const char *needle)
{
	struct conf c;

	err[0] = '\0';
	ck_assert_int_eq(load(&c, argv, env), CONF_ERROR);
	ck_assert_msg(strstr(err, needle) != NULL, "error '%s' lacks '%s'",
	    err, needle);
	conf_free(&c);
}

/* The eager settings: their defaults, each source, and their bounds
 * named in the error (0 turns eager off; the cap is the wire's). */
START_TEST(eager_settings)
{
	char *a0[] = { "asocd", NULL };
	char *a1[] = { "asocd", "--eager-threshold", "4K", "--eager-budget",
	    "0", NULL };
	char *a2[] = { "asocd", "--eager-threshold", "0", NULL };
	char *e3[] = { "ASOC_EAGER_THRESHOLD=64K", "ASOC_EAGER_BUDGET=1G",
	    NULL };
	char *b1[] = { "asocd", "--eager-threshold", "65537", NULL };
	char *b2[] = { "asocd", "--eager-budget", "2G", NULL };
	char *b3[] = { "asocd", "--eager-threshold", "lots", NULL };
	char *b4[] = { "asocd", "--eager-budget-total", "17G", NULL };
	char *a5[] = { "asocd", "--eager-budget-total", "1M", NULL };
	char *none[] = { NULL };
	struct conf c;

	ck_assert_int_eq(load(&c, a0, none), CONF_RUN);
	ck_assert_uint_eq(c.eager_threshold, CONF_DEFAULT_EAGER);
	ck_assert_uint_eq(c.eager_budget, CONF_DEFAULT_EAGER_BUDGET);
	ck_assert_uint_eq(c.eager_budget_total, 64u << 20);
	ck_assert_uint_le(c.eager_threshold, PROTO_EAGER_MAX);
	conf_free(&c);
	ck_assert_int_eq(load(&c, a5, none), CONF_RUN);
	ck_assert_uint_eq(c.eager_budget_total, 1u << 20);
	conf_free(&c);
	ck_assert_int_eq(load(&c, a1, none), CONF_RUN);
	ck_assert_uint_eq(c.eager_threshold, 4096);
	ck_assert_uint_eq(c.eager_budget, 0);
	conf_free(&c);
	ck_assert_int_eq(load(&c, a2, none), CONF_RUN);
	ck_assert_uint_eq(c.eager_threshold, 0);
	conf_free(&c);
	ck_assert_int_eq(load(&c, a0, e3), CONF_RUN);
	ck_assert_uint_eq(c.eager_threshold, PROTO_EAGER_MAX);
	ck_assert_uint_eq(c.eager_budget, 1u << 30);
	conf_free(&c);
	write_cfg("eager-threshold = 8K\neager-budget = 16M\n"
	    "eager-budget-total = 32M\n");
	{
		char *a4[] = { "asocd", "--config", cfgpath, NULL };

		ck_assert_int_eq(load(&c, a4, none), CONF_RUN);
		ck_assert_uint_eq(c.eager_threshold, 8192);
		ck_assert_uint_eq(c.eager_budget, 16u << 20);
		ck_assert_uint_eq(c.eager_budget_total, 32u << 20);
		conf_free(&c);
	}
	expect_error(b1, none, "eager-threshold must be a size from 0 to 64K "
	    "such as 64K, not '65537'");
	expect_error(b2, none, "eager-budget must be a size from 0 to 1024M");
	expect_error(b3, none, "eager-threshold");
	expect_error(b4, none, "eager-budget-total must be a size from 0");
}
END_TEST

START_TEST(busy_poll_setting)
{
	char *a0[] = { "asocd", NULL };
	char *a1[] = { "asocd", "--busy-poll", "50", NULL };
	char *a2[] = { "asocd", "--busy-poll", "10000", NULL };
	char *e3[] = { "ASOC_BUSY_POLL=200", NULL };
	char *a3[] = { "asocd", "--busy-poll", "0", NULL };
	char *b1[] = { "asocd", "--busy-poll", "10001", NULL };
	char *b2[] = { "asocd", "--busy-poll", "-5", NULL };
	char *b3[] = { "asocd", "--busy-poll", "50us", NULL };
	char *none[] = { NULL };
	struct conf c;

	ck_assert_int_eq(load(&c, a0, none), CONF_RUN);
	ck_assert_uint_eq(c.busy_poll, CONF_DEFAULT_BUSY_POLL);
	conf_free(&c);
	ck_assert_int_eq(load(&c, a1, none), CONF_RUN);
	ck_assert_uint_eq(c.busy_poll, 50);
	conf_free(&c);
	ck_assert_int_eq(load(&c, a2, none), CONF_RUN);
	ck_assert_uint_eq(c.busy_poll, CONF_MAX_BUSY_POLL);
	conf_free(&c);
	ck_assert_int_eq(load(&c, a0, e3), CONF_RUN);
	ck_assert_uint_eq(c.busy_poll, 200);
	conf_free(&c);
	/* The command line wins over the environment. */
	ck_assert_int_eq(load(&c, a3, e3), CONF_RUN);
	ck_assert_uint_eq(c.busy_poll, 0);
	conf_free(&c);
	write_cfg("busy-poll = 75\n");
	{
		char *a4[] = { "asocd", "--config", cfgpath, NULL };

		ck_assert_int_eq(load(&c, a4, none), CONF_RUN);
		ck_assert_uint_eq(c.busy_poll, 75);
		conf_free(&c);
	}
	expect_error(b1, none, "busy-poll must be a number from 0 to 10000, "
	    "not '10001'");
	expect_error(b2, none, "busy-poll must be a number from 0 to 10000");
	expect_error(b3, none, "busy-poll must be a number from 0 to 10000, "
	    "not '50us'");
}
END_TEST

/* --max-ranks and --join-timeout, from each source, and out of range. */
START_TEST(rank_settings)
{
	char *none[] = { NULL };
	char *a0[] = { "asocd", NULL };
	char *a1[] = { "asocd", "--max-ranks", "8", "--join-timeout", "5",
	    NULL };
	char *e2[] = { "ASOC_MAX_RANKS=16", "ASOC_JOIN_TIMEOUT=3600", NULL };
	char *b1[] = { "asocd", "--max-ranks", "0", NULL };
	char *b2[] = { "asocd", "--join-timeout", "3601", NULL };
	char *b3[] = { "asocd", "--join-timeout", "0", NULL };
	struct conf c;

	ck_assert_int_eq(load(&c, a0, none), CONF_RUN);
	ck_assert_uint_eq(c.max_ranks, 256);
	ck_assert_uint_eq(c.join_timeout, 60);
	conf_free(&c);
	ck_assert_int_eq(load(&c, a1, e2), CONF_RUN);
	ck_assert_uint_eq(c.max_ranks, 8);
	ck_assert_uint_eq(c.join_timeout, 5);
	conf_free(&c);
	ck_assert_int_eq(load(&c, a0, e2), CONF_RUN);
	ck_assert_uint_eq(c.max_ranks, 16);
	ck_assert_uint_eq(c.join_timeout, 3600);
	conf_free(&c);
	write_cfg("max-ranks = 4\njoin-timeout = 2\n");
	{
		char *a3[] = { "asocd", "--config", cfgpath, NULL };

		ck_assert_int_eq(load(&c, a3, none), CONF_RUN);
		ck_assert_uint_eq(c.max_ranks, 4);
		ck_assert_uint_eq(c.join_timeout, 2);
		conf_free(&c);
	}
	expect_error(b1, none, "max-ranks must be a number from 1 to 65535");
	expect_error(b2, none, "join-timeout must be a number from 1 to 3600, "
	    "not '3601'");
	expect_error(b3, none, "join-timeout must be a number from 1 to 3600");
}
END_TEST

START_TEST(bad_values)
{
	char *none[] = { NULL };
	char *a1[] = { "asocd", "--port", "0", NULL };
	char *a2[] = { "asocd", "--port", "70000", NULL };
	char *a3[] = { "asocd", "--port", "12ab", NULL };
	char *a4[] = { "asocd", "--transport", "udp", NULL };
	char *a5[] = { "asocd", "--chunk-size", "1", NULL };
	char *a6[] = { "asocd", "--chunk-size", "1T", NULL };
	char *a7[] = { "asocd", "--log-level", "loud", NULL };
	char *a8[] = { "asocd", "--bogus", NULL };
	char *a9[] = { "asocd", "stray", NULL };
	char *a10[] = { "asocd", "--rank", "-1", NULL };
	char *a11[] = { "asocd", NULL };
	char *e11[] = { "ASOC_CONNECTION_TIMEOUT=soon", NULL };
	char *a12[] = { "asocd", "--config", "/nonexistent/asocd.conf", NULL };

	expect_error(a1, none, "port");
	expect_error(a2, none, "port");
	expect_error(a3, none, "12ab");
	expect_error(a4, none, "auto, rdma or tcp");
	expect_error(a5, none, "chunk-size");
	expect_error(a6, none, "chunk-size");
	expect_error(a7, none, "loud");
	expect_error(a8, none, "--bogus");
	expect_error(a9, none, "stray");
	expect_error(a10, none, "rank");
	expect_error(a11, e11, "$ASOC_CONNECTION_TIMEOUT");
	expect_error(a12, none, "/nonexistent/asocd.conf");
}
END_TEST

/* The TLS settings, from every source, and the ones that only make sense
 * together (the files themselves are tls.c's, tested in test-tls.sh). */
START_TEST(tls_settings)
{
	char *none[] = { NULL };
	char *a1[] = { "asocd", "--tls-cert", "c.pem", "--tls-key", "k.pem",
	    "--tls-ca", "ca.pem", NULL };
	char *a2[] = { "asocd", "--tls-cert", "c.pem", "--tls-key", "k.pem",
	    "--tls-verify-peer", "no", NULL };
	char *e3[] = { "ASOC_TLS_CERT=c.pem", "ASOC_TLS_KEY=k.pem",
	    "ASOC_TLS_CA=ca.pem", "ASOC_TLS_VERIFY_PEER=yes", NULL };
	char *b1[] = { "asocd", "--tls-cert", "c.pem", NULL };
	char *b2[] = { "asocd", "--tls-key", "k.pem", NULL };
	char *b3[] = { "asocd", "--tls-ca", "ca.pem", NULL };
	char *b4[] = { "asocd", "--tls-cert", "c.pem", "--tls-key", "k.pem",
	    NULL };
	char *b5[] = { "asocd", "--tls-verify-peer", "maybe", NULL };
	char *b6[] = { "asocd", "--tls-verify-peer", "no", NULL };
	struct conf c;

	ck_assert_int_eq(load(&c, (char *[]){ "asocd", NULL }, none),
	    CONF_RUN);
	ck_assert_ptr_null(c.tls_cert);
	ck_assert_int_eq(c.tls_verify_peer, -1);	/* TLS off */
	conf_free(&c);
	ck_assert_int_eq(load(&c, a1, none), CONF_RUN);
	ck_assert_str_eq(c.tls_ca, "ca.pem");
	ck_assert_int_eq(c.tls_verify_peer, 1);		/* the default */
	conf_free(&c);
	ck_assert_int_eq(load(&c, a2, none), CONF_RUN);
	ck_assert_int_eq(c.tls_verify_peer, 0);
	ck_assert_ptr_null(c.tls_ca);
	conf_free(&c);
	ck_assert_int_eq(load(&c, (char *[]){ "asocd", NULL }, e3), CONF_RUN);
	ck_assert_str_eq(c.tls_cert, "c.pem");
	ck_assert_str_eq(c.tls_key, "k.pem");
	ck_assert_int_eq(c.tls_verify_peer, 1);
	conf_free(&c);
	write_cfg("tls-cert = c.pem\ntls-key = k.pem\ntls-verify-peer = no\n");
	ck_assert_int_eq(load(&c, (char *[]){ "asocd", "--config", cfgpath,
	    NULL }, none), CONF_RUN);
	ck_assert_str_eq(c.tls_key, "k.pem");
	ck_assert_int_eq(c.tls_verify_peer, 0);
	conf_free(&c);

	expect_error(b1, none, "--tls-cert without --tls-key");
	expect_error(b2, none, "--tls-key without --tls-cert");
	expect_error(b3, none, "--tls-ca without --tls-cert and --tls-key");
	expect_error(b4, none, "no --tls-ca");
	expect_error(b5, none, "tls-verify-peer must be yes or no");
	expect_error(b6, none, "--tls-verify-peer without");
}
END_TEST

START_TEST(bad_file)
{
	char *argv[] = { "asocd", "--config", cfgpath, NULL };
	char *env[] = { NULL };
	char needle[96];

	write_cfg("port = 9000\n\nprot = 9001\n");
	snprintf(needle, sizeof needle, "%s:3: unknown setting 'prot'",
	    cfgpath);
	expect_error(argv, env, needle);
	teardown();
	write_cfg("just words\n");
	snprintf(needle, sizeof needle, "%s:1:", cfgpath);
	expect_error(argv, env, needle);
}
END_TEST

START_TEST(sizes)
{
	size_t v;

	ck_assert_int_eq(conf_parse_size("4096", &v), 0);
	ck_assert_uint_eq(v, 4096);
	ck_assert_int_eq(conf_parse_size("4M", &v), 0);
	ck_assert_uint_eq(v, 4u << 20);
	ck_assert_int_eq(conf_parse_size("2MiB", &v), 0);
	ck_assert_uint_eq(v, 2u << 20);
	ck_assert_int_eq(conf_parse_size("1g", &v), 0);
	ck_assert_uint_eq(v, 1u << 30);
	ck_assert_int_eq(conf_parse_size("", &v), -1);
	ck_assert_int_eq(conf_parse_size("M", &v), -1);
	ck_assert_int_eq(conf_parse_size("-1", &v), -1);
	ck_assert_int_eq(conf_parse_size("4X", &v), -1);
	ck_assert_int_eq(conf_parse_size("99999999999999999999", &v), -1);
	ck_assert_int_eq(conf_parse_size("99999999999999G", &v), -1);
}
END_TEST

/* What the daemon reads from the environment only (ASOC_RDMA_SCOPE, and
 * SLURM's and systemd's variables) comes through conf_load's env too, as
 * given: an empty SLURM_JOB_ID still says "inside a job". */
START_TEST(env_only)
{
	char *argv[] = { "asocd", NULL };
	char *none[] = { NULL };
	char *env[] = { "ASOC_RDMA_SCOPE=mr", "SLURM_JOB_ID=",
	    "NOTIFY_SOCKET=@asoc-test", NULL };
	struct conf c;

	ck_assert_int_eq(load(&c, argv, none), CONF_RUN);
	ck_assert_ptr_null(c.rdma_scope);
	ck_assert_ptr_null(c.slurm_job_id);
	ck_assert_ptr_null(c.notify_socket);
	conf_free(&c);
	ck_assert_int_eq(load(&c, argv, env), CONF_RUN);
	ck_assert_str_eq(c.rdma_scope, "mr");
	ck_assert_str_eq(c.slurm_job_id, "");
	ck_assert_str_eq(c.notify_socket, "@asoc-test");
	conf_free(&c);
	/* Not options: the command line and the file do not know them. */
	ck_assert_int_eq(conf_parse_text(&c, "rdma-scope = mr\n", 16, "t",
	    err, sizeof err), -1);
}
END_TEST

/* The default socket follows the job named in the environment conf_load
 * is given, not the process's own (the daemon reads no setting with
 * getenv). */
START_TEST(default_socket_from_env)
{
	char *argv[] = { "asocd", NULL };
	char *job[] = { "SLURM_JOB_ID=4242", NULL };
	char *none[] = { NULL };
	char want[64];
	struct conf c;

	unsetenv("SLURM_JOB_ID");
	unsetenv("ASOC_SOCKET");
	ck_assert_int_eq(load(&c, argv, job), CONF_RUN);
	ck_assert_str_eq(c.socket, "/run/asoc/4242/asocd.sock");
	conf_free(&c);
	setenv("SLURM_JOB_ID", "99", 1);
	ck_assert_int_eq(load(&c, argv, none), CONF_RUN);
	snprintf(want, sizeof want, "/tmp/asoc-%u/asocd.sock",
	    (unsigned)getuid());
	ck_assert_str_eq(c.socket, want);
	conf_free(&c);
	unsetenv("SLURM_JOB_ID");
}
END_TEST

static Suite *
conf_suite(void)
{
	return check_suite("conf", "core", NULL, teardown, 10,
	    CHECK_TESTS(defaults, precedence, config_from_env, short_options,
	    bad_values, eager_settings, busy_poll_setting, rank_settings,
	    tls_settings, bad_file, sizes, env_only, default_socket_from_env));
}

int
main(void)
{
	return check_run(conf_suite(), NULL);
}
