/*
 * slurm_start.c: the prolog.  As root: the job's peers and rank, the job
 * key derived in memory, the job's folder, the limits; then a child that
 * drops to the job user and becomes asocd, handed the key over a pipe
 * (never argv, the environment or a file) and telling us over another
 * pipe when it serves.  Its pid and start time go in a root-owned record
 * that the epilog trusts.
 */
#include "config.h"
#include "slurm.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "hostlist.h"
#include "jobkey.h"
#include "portseq.h"
#include "slurm_cgroup.h"

#define KEY_FD		3	/* the daemon's descriptors */
#define READY_FD	4

/* The job's peer list ("addr,addr,...", ranks in SLURM's node order) and
 * this node's rank and address. */
struct peers {
	char list[SLURM_LIST_MAX * 2];
	char self[HOSTLIST_HOST_MAX];
	int rank;
};

/* NODE_ADDRS: "NODENAME ADDRESS" lines; the address of node, or NULL. */
static const char *
node_addr(const char *map, const char *node)
{
	static char addr[HOSTLIST_HOST_MAX];
	const char *p = map;
	char name[SLURM_NODE_MAX + 1];

	while (p != NULL && *p != '\0') {
		if (sscanf(p, "%64s %63s", name, addr) == 2 && name[0] != '#' &&
		    strcmp(name, node) == 0)
			return addr;
		p = strchr(p, '\n');
		if (p != NULL)
			p++;
	}
	return NULL;
}

static int
job_peers(const struct slurm_conf *c, const struct slurm_job *j,
    struct peers *pe, char *err, size_t errlen)
{
	static char map[1 << 20];
	struct hostlist_entry *hl = NULL;
	const char *a;
	size_t n, i, off = 0;
	int fd;

	map[0] = '\0';
	if (c->node_addrs[0] != '\0') {
		if ((fd = slurm_open_root_file(c->node_addrs, 0, err,
		    errlen)) < 0)
			return -1;
		if (slurm_read_all(fd, map, sizeof map) < 0) {
			snprintf(err, errlen, "cannot read NODE_ADDRS %s: %s",
			    c->node_addrs, strerror(errno));
			close(fd);
			return -1;
		}
		close(fd);
	}
	if (hostlist_expand(j->nodelist, 0, &hl, &n, err, errlen) < 0)
		return -1;
	pe->rank = -1;
	for (i = 0; i < n; i++) {
		a = hl[i].host;
		if (c->node_addrs[0] != '\0' &&
		    (a = node_addr(map, hl[i].host)) == NULL) {
			snprintf(err, errlen, "node %s of the job is not in "
			    "NODE_ADDRS=%s: add a line '%s ADDRESS'",
			    hl[i].host, c->node_addrs, hl[i].host);
			free(hl);
			return -1;
		}
		if (strpbrk(a, "[],: \t") != NULL) {
			snprintf(err, errlen, "address '%s' of node %s is not a "
			    "host name or IPv4 address", a, hl[i].host);
			free(hl);
			return -1;
		}
		if (strcmp(hl[i].host, j->node) == 0) {
			if (pe->rank >= 0) {
				snprintf(err, errlen, "node %s appears twice in "
				    "SLURM_NODELIST='%s'", j->node, j->nodelist);
				free(hl);
				return -1;
			}
			pe->rank = (int)i;
			snprintf(pe->self, sizeof pe->self, "%s", a);
		}
		if (off + strlen(a) + 2 >= sizeof pe->list) {
			snprintf(err, errlen, "the peer list of %zu nodes is "
			    "too long", n);
			free(hl);
			return -1;
		}
		off += (size_t)snprintf(pe->list + off, sizeof pe->list - off,
		    "%s%s", i > 0 ? "," : "", a);
	}
	free(hl);
	if (pe->rank < 0) {
		snprintf(err, errlen, "this node (%s) is not in "
		    "SLURM_NODELIST='%s'", j->node, j->nodelist);
		return -1;
	}
	return 0;
}

/* The job key, from the site key, in memory only. */
static int
job_key(const struct slurm_conf *c, const struct slurm_job *j,
    uint8_t key[JOBKEY_LEN], char *err, size_t errlen)
{
	uint8_t site[4096];
	ssize_t n;
	int fd, rc;

	if ((fd = slurm_open_root_file(c->site_key, 1, err, errlen)) < 0)
		return -1;
	n = slurm_read_all(fd, (char *)site, sizeof site);
	close(fd);
	if (n < 16) {
		snprintf(err, errlen, "the site key %s holds %s bytes; make "
		    "one of 32 on every node: head -c 32 /dev/urandom > %s",
		    c->site_key, n < 0 ? "too many" : "fewer than 16",
		    c->site_key);
		OPENSSL_cleanse(site, sizeof site);
		return -1;
	}
	rc = jobkey_derive(site, (size_t)n, j->id, key, err, errlen);
	OPENSSL_cleanse(site, sizeof site);
	return rc;
}

/* RLIMIT_MEMLOCK for registered memory (RDMA), and every descriptor the
 * hard limit allows: raised here, as root, inherited by the daemon. */
static void
raise_limits(const struct slurm_conf *c)
{
	struct rlimit rl;
	char *end;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (c->memlock[0] == '\0' || strcmp(c->transport, "tcp") == 0)
		return;
	if (strcmp(c->memlock, "unlimited") == 0)
		rl.rlim_cur = rl.rlim_max = RLIM_INFINITY;
	else {
		rl.rlim_cur = rl.rlim_max = strtoull(c->memlock, &end, 10) *
		    1024;
		if (*end != '\0')
			return;
	}
	if (setrlimit(RLIMIT_MEMLOCK, &rl) < 0)
		fprintf(stderr, "asoc-slurm: warning: cannot set the "
		    "locked-memory limit to %s: %s; RDMA may fail to register "
		    "buffers\n", c->memlock, strerror(errno));
}

/* CPU_LIST ("0-1,8"): the daemon's one event loop near the NIC. */
static int
parse_cpus(const char *s, cpu_set_t *set)
{
	unsigned long a, b;
	char *end;

	CPU_ZERO(set);
	while (*s != '\0') {
		a = b = strtoul(s, &end, 10);
		if (end == s)
			return -1;
		if (*end == '-') {
			s = end + 1;
			b = strtoul(s, &end, 10);
			if (end == s || b < a)
				return -1;
		}
		for (; a <= b && a < CPU_SETSIZE; a++)
			CPU_SET(a, set);
		s = end;
		if (*s == ',')
			s++;
		else if (*s != '\0')
			return -1;
	}
	return 0;
}

/* The daemon's log is root's file on /run, written through the daemon's
 * descriptor: a hard limit on the size of what it writes, which the job
 * user cannot raise, keeps a daemon (or whoever drives it) from filling
 * /run through it.  asocd ignores SIGXFSZ, so a full log fails writes
 * instead of killing it. */
static void
limit_files(void)
{
	struct rlimit rl = { SLURM_LOG_MAX, SLURM_LOG_MAX };

	if (setrlimit(RLIMIT_FSIZE, &rl) < 0)
		fprintf(stderr, "asoc-slurm: warning: cannot limit the "
		    "daemon's log to %d MiB: %s\n", SLURM_LOG_MAX >> 20,
		    strerror(errno));
}

/* In the child, as root still: become the job user for good. */
static void
drop_privileges(const struct slurm_job *j)
{
	struct passwd *pw;

	if (j->uid == 0)
		return;		/* root's own job: nothing to drop */
	pw = getpwuid(j->uid);
	if ((pw != NULL ? initgroups(pw->pw_name, j->gid) :
	    setgroups(1, &j->gid)) < 0 || setgid(j->gid) < 0 ||
	    setuid(j->uid) < 0) {
		fprintf(stderr, "asoc-slurm: cannot become uid %u gid %u: %s\n",
		    (unsigned)j->uid, (unsigned)j->gid, strerror(errno));
		_exit(126);
	}
	if (setuid(0) != -1 || seteuid(0) != -1 || getuid() != j->uid ||
	    geteuid() != j->uid || getegid() != j->gid) {
		fprintf(stderr, "asoc-slurm: could regain root after dropping "
		    "to uid %u: refusing to run asocd\n", (unsigned)j->uid);
		_exit(126);
	}
}

#define ARGS_MAX 48
static void
add(char **argv, int *n, const char *a, const char *b)
{
	if (*n + 2 < ARGS_MAX) {
		argv[(*n)++] = (char *)a;
		if (b != NULL)
			argv[(*n)++] = (char *)b;
	}
	argv[*n] = NULL;
}

/* The child: descriptors 0-4, a session of its own, the job user, asocd. */
static void
exec_daemon(const struct slurm_conf *c, const struct slurm_job *j,
    const struct peers *pe, const char *sock, int keyfd, int readyfd,
    int logfd)
{
	static char rank[16], port[8], span[8], tries[8], poll[16];
	char *argv[ARGS_MAX], *envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
	    NULL };
	cpu_set_t cpus;
	int n = 0, null;

	if ((null = open("/dev/null", O_RDWR)) < 0 || dup2(null, 0) < 0 ||
	    dup2(null, 1) < 0 || dup2(logfd, 2) < 0 || dup2(keyfd, 3) < 0 ||
	    dup2(readyfd, 4) < 0)
		_exit(126);
	if (close_range(5, ~0u, 0) < 0) {
		/* Before Linux 5.9: one by one, so nothing slurmd left open
		 * reaches the user's daemon. */
		long fd, max = sysconf(_SC_OPEN_MAX);

		for (fd = 5; fd < (max > 0 ? max : 65536); fd++)
			(void)close((int)fd);
	}
	limit_files();
	if (setsid() < 0)
		_exit(126);
	(void)slurm_cgroup_join(c, j);
	if (c->cpu_list[0] != '\0' && (parse_cpus(c->cpu_list, &cpus) < 0 ||
	    sched_setaffinity(0, sizeof cpus, &cpus) < 0))
		fprintf(stderr, "asoc-slurm: warning: cannot pin asocd to "
		    "CPU_LIST=%s\n", c->cpu_list);
	drop_privileges(j);

	snprintf(rank, sizeof rank, "%d", pe->rank);
	snprintf(port, sizeof port, "%u", c->port_base);
	snprintf(span, sizeof span, "%u", c->port_span);
	snprintf(tries, sizeof tries, "%u", c->port_tries);
	add(argv, &n, "asocd", "-f");
	add(argv, &n, "--key-fd", "3");
	add(argv, &n, "--ready-fd", "4");
	add(argv, &n, "--peers", pe->list);
	add(argv, &n, "--rank", rank);
	add(argv, &n, "--listen", pe->self);
	add(argv, &n, "--port", port);
	add(argv, &n, "--port-span", span);
	add(argv, &n, "--port-tries", tries);
	add(argv, &n, "--community", j->id);
	add(argv, &n, "--socket", sock);
	add(argv, &n, "--interface", c->interface);
	add(argv, &n, "--transport", c->transport);
	if (c->chunk_size[0] != '\0')
		add(argv, &n, "--chunk-size", c->chunk_size);
	if (c->log_level[0] != '\0')
		add(argv, &n, "--log-level", c->log_level);
	if (c->connection_timeout[0] != '\0')
		add(argv, &n, "--connection-timeout", c->connection_timeout);
	if (c->munge_socket[0] != '\0')
		add(argv, &n, "--munge-socket", c->munge_socket);
	if (c->busy_poll != SLURM_CONF_UNSET) {
		snprintf(poll, sizeof poll, "%u", c->busy_poll);
		add(argv, &n, "--busy-poll", poll);
	}
	execve(c->asocd, argv, envp);
	fprintf(stderr, "asoc-slurm: cannot run ASOCD=%s: %s\n", c->asocd,
	    strerror(errno));
	_exit(127);
}

/* The end of the daemon's log (root's file), for the reason it gave. */
static void
log_tail(int logfd, char *buf, size_t size)
{
	off_t end = lseek(logfd, 0, SEEK_END);
	off_t from = end > (off_t)size - 1 ? end - (off_t)size + 1 : 0;
	ssize_t n = pread(logfd, buf, size - 1, from);

	buf[n > 0 ? n : 0] = '\0';
}

/* Waits for "1" on fd; 0, or -1 if the daemon died or took too long. */
static int
wait_ready(int fd, unsigned seconds)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char ok = 0;

	if (poll(&p, 1, (int)seconds * 1000) == 1 && read(fd, &ok, 1) == 1 &&
	    ok == '1')
		return 0;
	return -1;
}

static int
start_daemon(const struct slurm_conf *c, const struct slurm_job *j,
    const struct peers *pe, int jobfd, uint8_t key[JOBKEY_LEN],
    char *err, size_t errlen)
{
	char sock[PATH_MAX], rec[64], tail[1024];
	int keyp[2], readyp[2], logfd, st;
	pid_t pid;

	snprintf(sock, sizeof sock, "%s/%s/%s/%s", c->run_dir, j->id,
	    SLURM_SOCK_DIR, SLURM_SOCK_NAME);
	if (strlen(sock) > 107) {
		snprintf(err, errlen, "socket path %s is longer than 107 "
		    "bytes: choose a shorter RUN_DIR", sock);
		return -1;
	}
	/* The log is root's, in root's folder, readable by the job's group:
	 * the daemon writes it through the descriptor it inherits. */
	logfd = openat(jobfd, SLURM_LOG_FILE, O_RDWR | O_CREAT | O_EXCL |
	    O_NOFOLLOW | O_APPEND | O_CLOEXEC, 0640);
	if (logfd < 0 || fchown(logfd, 0, j->gid) < 0 ||
	    fchmod(logfd, 0640) < 0) {
		snprintf(err, errlen, "cannot create the daemon's log: %s",
		    strerror(errno));
		return -1;
	}
	if (pipe2(keyp, O_CLOEXEC) < 0 || pipe2(readyp, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		close(logfd);
		return -1;
	}
	/* 32 bytes fit in any pipe: written now, the write end closed, the
	 * daemon reads them to the end. */
	if (write(keyp[1], key, JOBKEY_LEN) != JOBKEY_LEN) {
		snprintf(err, errlen, "cannot pass the job key: %s",
		    strerror(errno));
		return -1;
	}
	close(keyp[1]);
	/* In the pipe now: no copy in the processes forked below (the
	 * daemon's child before exec, the cgroup follower that outlives us). */
	OPENSSL_cleanse(key, JOBKEY_LEN);
	if ((pid = fork()) < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0)
		exec_daemon(c, j, pe, sock, keyp[0], readyp[1], logfd);
	close(keyp[0]);
	close(readyp[1]);
	if (wait_ready(readyp[0], c->ready_timeout) < 0) {
		kill(pid, SIGKILL);
		(void)waitpid(pid, &st, 0);
		log_tail(logfd, tail, sizeof tail);
		snprintf(err, errlen, "asocd did not start within %u s; the "
		    "end of its log:\n%s", c->ready_timeout, tail);
		close(readyp[0]);
		close(logfd);
		return -1;
	}
	close(readyp[0]);
	slurm_cgroup_follow(c, j, pid, logfd);
	close(logfd);
	snprintf(rec, sizeof rec, "%ld %llu\n", (long)pid,
	    slurm_start_time(pid));
	if (slurm_write_file(jobfd, SLURM_PID_FILE, rec, 0644) < 0) {
		kill(pid, SIGKILL);
		snprintf(err, errlen, "cannot record the daemon's pid: %s",
		    strerror(errno));
		return -1;
	}
	return 0;
}

int
slurm_prolog(const struct slurm_conf *c, const struct slurm_job *j,
    char *err, size_t errlen)
{
	uint8_t key[JOBKEY_LEN];
	struct peers *pe;
	char why[1536];
	int runfd, jobfd, rc = -1;

	if ((runfd = slurm_open_run_dir(c->run_dir, err, errlen)) < 0)
		return -1;
	/* A leftover of an earlier run of this job id (a requeued job whose
	 * epilog did not run): its daemon goes, and everything in it. */
	if ((jobfd = openat(runfd, j->id, O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC)) >= 0) {
		fprintf(stderr, "asoc-slurm: job %s: removing a leftover "
		    "%s/%s\n", j->id, c->run_dir, j->id);
		slurm_stop_daemon(jobfd, "leftover");
		close(jobfd);
	}
	(void)slurm_remove_at(runfd, j->id, 16);
	if ((jobfd = slurm_make_job_dir(runfd, j->id, err, errlen)) < 0) {
		close(runfd);
		return -1;
	}
	close(runfd);
	if ((pe = calloc(1, sizeof *pe)) == NULL) {
		snprintf(why, sizeof why, "out of memory");
		goto out;
	}
	if (job_peers(c, j, pe, why, sizeof why) < 0 ||
	    job_key(c, j, key, why, sizeof why) < 0)
		goto out;
	raise_limits(c);
	/* Last: the one folder the user owns. */
	if (slurm_make_sock_dir(jobfd, j->uid, j->gid, why, sizeof why) < 0)
		goto out;
	rc = start_daemon(c, j, pe, jobfd, key, why, sizeof why);
out:
	OPENSSL_cleanse(key, sizeof key);
	free(pe);
	if (rc < 0) {
		/* What libasoc and the tools print instead of "no daemon". */
		char text[2048];

		snprintf(err, errlen, "%s", why);
		snprintf(text, sizeof text, "asocd was not started for job %s "
		    "on node %s: %s\n", j->id, j->node, why);
		(void)slurm_remove_at(jobfd, SLURM_SOCK_DIR, 16);
		(void)slurm_write_file(jobfd, SLURM_ERR_FILE, text, 0644);
	}
	close(jobfd);
	return rc;
}
