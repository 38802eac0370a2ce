/*
 * slurm_stop.c: the epilog.  Stops exactly the daemon the prolog
 * recorded (its pid and start time, in root's file in root's folder),
 * through a pidfd so a recycled pid cannot be hit, with bounded waits;
 * keeps its log if asked; removes the job's folder through descriptors.
 * Nothing the job user can do makes it block, fail or touch another file.
 */
#include "config.h"
#include "slurm.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define TERM_WAIT_MS	10000	/* SIGTERM lets transfers in flight end */
#define KILL_WAIT_MS	5000

unsigned long long
slurm_start_time(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long t = 0;
	ssize_t n;
	int fd, field;

	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* The name (field 2) may hold spaces and ')': skip past the last. */
	if ((p = strrchr(buf, ')')) == NULL)
		return 0;
	for (field = 2; field < 22 && p != NULL; field++)
		p = strchr(p + 1, ' ');
	if (p != NULL)
		t = strtoull(p + 1, NULL, 10);
	return t;
}

static int
pidfd_open_(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	(void)pid;
	errno = ENOSYS;
	return -1;
#endif
}

static int
pidfd_kill(int pidfd, pid_t pid, int sig)
{
#ifdef SYS_pidfd_send_signal
	if (pidfd >= 0)
		return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
#endif
	return kill(pid, sig);
}

/* 0 once the process has exited (a zombie has), -1 after ms. */
static int
wait_exit(int pidfd, pid_t pid, unsigned long long start, int ms)
{
	struct pollfd p = { .fd = pidfd, .events = POLLIN };

	if (pidfd >= 0)
		return poll(&p, 1, ms) == 1 ? 0 : -1;
	for (; ms > 0; ms -= 100) {
		if (slurm_start_time(pid) != start)
			return 0;
		usleep(100000);
	}
	return slurm_start_time(pid) != start ? 0 : -1;
}

void
slurm_stop_daemon(int jobfd, const char *what)
{
	char rec[64];
	unsigned long long start;
	long pid;
	struct stat st;
	int fd, pidfd;

	/* Root's record in root's folder; a file of any other kind or owner
	 * there is not ours and is not believed. */
	fd = openat(jobfd, SLURM_PID_FILE, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC);
	if (fd < 0)
		return;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != 0 ||
	    slurm_read_all(fd, rec, sizeof rec) < 0 ||
	    sscanf(rec, "%ld %llu", &pid, &start) != 2 || pid <= 1 ||
	    start == 0) {
		close(fd);
		fprintf(stderr, "asoc-slurm: ignoring a malformed %s\n",
		    SLURM_PID_FILE);
		return;
	}
	close(fd);
	/* The pidfd pins the process; its start time, read after, says it
	 * is the one recorded and not a later one with the same pid. */
	pidfd = pidfd_open_((pid_t)pid);
	if (slurm_start_time((pid_t)pid) != start) {
		if (pidfd >= 0)
			close(pidfd);
		return;		/* gone already */
	}
	(void)pidfd_kill(pidfd, (pid_t)pid, SIGTERM);
	if (wait_exit(pidfd, (pid_t)pid, start, TERM_WAIT_MS) < 0) {
		fprintf(stderr, "asoc-slurm: %s asocd (pid %ld) still running "
		    "%d s after SIGTERM: sending SIGKILL\n", what, pid,
		    TERM_WAIT_MS / 1000);
		(void)pidfd_kill(pidfd, (pid_t)pid, SIGKILL);
		if (wait_exit(pidfd, (pid_t)pid, start, KILL_WAIT_MS) < 0)
			fprintf(stderr, "asoc-slurm: %s asocd (pid %ld) "
			    "survived SIGKILL (state D?); leaving it\n", what,
			    pid);
	}
	if (pidfd >= 0)
		close(pidfd);
}

/* KEEP_LOGS_DIR/asocd-JOB-NODE.log: the last 16 MiB of root's log. */
static void
keep_log(const struct slurm_conf *c, const struct slurm_job *j, int jobfd)
{
	static char buf[1 << 16];
	char name[128];
	struct stat st;
	int in, out, dfd;
	ssize_t n;
	off_t from;

	if (c->keep_logs_dir[0] == '\0')
		return;
	if ((in = openat(jobfd, SLURM_LOG_FILE, O_RDONLY | O_NOFOLLOW |
	    O_NONBLOCK | O_CLOEXEC)) < 0)
		return;
	(void)mkdir(c->keep_logs_dir, 0750);
	dfd = open(c->keep_logs_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (dfd < 0 || fstat(dfd, &st) < 0 || st.st_uid != 0 ||
	    (st.st_mode & 022) || fstat(in, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_uid != 0) {
		fprintf(stderr, "asoc-slurm: not keeping the log: "
		    "KEEP_LOGS_DIR %s must be root's and writable by root "
		    "only\n", c->keep_logs_dir);
		goto out;
	}
	snprintf(name, sizeof name, "asocd-%s-%s.log", j->id,
	    j->node[0] != '\0' ? j->node : "node");
	(void)unlinkat(dfd, name, 0);
	out = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0640);
	if (out < 0)
		goto out;
	from = st.st_size > (16 << 20) ? st.st_size - (16 << 20) : 0;
	/* Up to the size seen now: a log someone keeps appending to must
	 * not keep the epilog copying. */
	while (from < st.st_size && (n = pread(in, buf, (size_t)(st.st_size -
	    from < (off_t)sizeof buf ? st.st_size - from : (off_t)sizeof buf),
	    from)) > 0) {
		if (write(out, buf, (size_t)n) != n)
			break;
		from += n;
	}
	close(out);
out:
	if (dfd >= 0)
		close(dfd);
	close(in);
}

int
slurm_epilog(const struct slurm_conf *c, const struct slurm_job *j,
    char *err, size_t errlen)
{
	int runfd, jobfd;

	if ((runfd = slurm_open_run_dir(c->run_dir, err, errlen)) < 0)
		return -1;
	jobfd = openat(runfd, j->id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (jobfd >= 0) {
		slurm_stop_daemon(jobfd, "the job's");
		keep_log(c, j, jobfd);
		close(jobfd);
	}
	if (slurm_remove_at(runfd, j->id, 16) < 0) {
		snprintf(err, errlen, "cannot remove %s/%s entirely: %s",
		    c->run_dir, j->id, strerror(errno));
		close(runfd);
		return -1;
	}
	close(runfd);
	return 0;
}
