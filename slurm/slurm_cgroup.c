/*
 * slurm_cgroup.c: into the job's cgroups (see slurm_cgroup.h).  The
 * paths are sysfs's, root's alone: nothing here is the user's to change.
 */
#include "config.h"
#include "slurm_cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define FOLLOW_SECONDS	60	/* how long the follower waits for SLURM */
#define FOLLOW_STEP_MS	20

static const char *const controllers[] = {
	"memory", "freezer", "cpuset", "cpu,cpuacct", "cpu", "cpuacct",
	"devices", "pids",
};

/* Writes pid (0: the writer) into dir's cgroup.procs. */
static int
join(const char *dir, pid_t pid)
{
	char path[PATH_MAX], num[24];
	int fd, n, ok;

	snprintf(path, sizeof path, "%s/cgroup.procs", dir);
	if ((fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return -1;
	n = snprintf(num, sizeof num, "%ld", (long)pid);
	ok = write(fd, num, (size_t)n) == n;
	close(fd);
	return ok ? 0 : -1;
}

/* The job's folder under one controller, in dir: slurmd's own
 * (slurm_NODE, as slurmd -N NODE names it when several share a host),
 * else the one slurm* folder that holds the job.  0, or -1 if none. */
static int
job_dir(const char *ctl, const struct slurm_job *j, char *dir, size_t size)
{
	char pat[PATH_MAX];
	glob_t g;
	int rc = -1;

	snprintf(dir, size, "/sys/fs/cgroup/%s/slurm_%s/uid_%u/job_%s", ctl,
	    j->node, (unsigned)j->uid, j->id);
	if (j->node[0] != '\0' && access(dir, F_OK) == 0)
		return 0;
	snprintf(pat, sizeof pat, "/sys/fs/cgroup/%s/slurm*/uid_%u/job_%s",
	    ctl, (unsigned)j->uid, j->id);
	if (glob(pat, GLOB_NOSORT, NULL, &g) != 0)
		return -1;
	if (g.gl_pathc == 1) {
		snprintf(dir, size, "%s", g.gl_pathv[0]);
		rc = 0;
	}
	globfree(&g);
	return rc;
}

/* Moves pid into every controller's job folder (its step_extern when
 * there is one); the controllers joined, " memory freezer", in joined.
 * need_extern: only once the memory or freezer step_extern exists (SLURM
 * has finished making the job's folders).  The number joined. */
static int
join_all(const struct slurm_job *j, pid_t pid, int need_extern,
    char *joined, size_t size)
{
	char dir[PATH_MAX], ext[PATH_MAX + 16];
	size_t i, off = 0;
	int n = 0;

	joined[0] = '\0';
	if (need_extern) {
		int ready = 0;

		for (i = 0; i < 2 && !ready; i++)
			ready = job_dir(controllers[i], j, dir, sizeof dir) == 0 &&
			    snprintf(ext, sizeof ext, "%s/step_extern", dir) > 0 &&
			    access(ext, F_OK) == 0;
		if (!ready)
			return 0;
	}
	for (i = 0; i < sizeof controllers / sizeof controllers[0]; i++) {
		if (job_dir(controllers[i], j, dir, sizeof dir) < 0)
			continue;
		snprintf(ext, sizeof ext, "%s/step_extern", dir);
		if ((join(ext, pid) == 0 || join(dir, pid) == 0) &&
		    off < size) {
			off += (size_t)snprintf(joined + off, size - off, " %s",
			    controllers[i]);
			n++;
		}
	}
	return n;
}

/* Whether pid is in one of the job's cgroups already (the child joined
 * them before exec). */
static int
in_job(const struct slurm_job *j, pid_t pid)
{
	char path[64], line[PATH_MAX], needle[SLURM_ID_MAX + 8];
	FILE *f;
	int found = 0;

	snprintf(path, sizeof path, "/proc/%ld/cgroup", (long)pid);
	snprintf(needle, sizeof needle, "/job_%s", j->id);
	if ((f = fopen(path, "re")) == NULL)
		return 0;
	while (!found && fgets(line, sizeof line, f) != NULL) {
		char *p = strstr(line, needle);

		found = p != NULL && (p[strlen(needle)] == '/' ||
		    p[strlen(needle)] == '\n');
	}
	fclose(f);
	return found;
}

int
slurm_cgroup_join(const struct slurm_conf *c, const struct slurm_job *j)
{
	char joined[256];

	if (strcmp(c->cgroup, "no") == 0)
		return 1;
	if (join_all(j, 0, 0, joined, sizeof joined) > 0) {
		fprintf(stderr, "asoc-slurm: asocd joined job %s's cgroups:%s\n",
		    j->id, joined);
		return 1;
	}
	return 0;
}

void
slurm_cgroup_follow(const struct slurm_conf *c, const struct slurm_job *j,
    pid_t daemon, int logfd)
{
	char joined[256];
	struct pollfd p = { .events = POLLIN };
	int t, null;
	pid_t pid;

	if (strcmp(c->cgroup, "no") == 0 || in_job(j, daemon) ||
	    (access("/sys/fs/cgroup/memory/cgroup.procs", F_OK) != 0 &&
	    access("/sys/fs/cgroup/freezer/cgroup.procs", F_OK) != 0))
		return;
	if ((pid = fork()) != 0) {
		if (pid < 0)
			dprintf(logfd, "asoc-slurm: cannot wait for job %s's "
			    "cgroups (fork: %s): asocd's memory is charged "
			    "where slurmd's is\n", j->id, strerror(errno));
		return;
	}
	/* A session of our own: slurmd kills the prolog's process group. */
	if ((null = open("/dev/null", O_RDWR)) < 0 || dup2(null, 0) < 0 ||
	    dup2(null, 1) < 0 || dup2(logfd, 2) < 0 || setsid() < 0)
		_exit(1);
	(void)close_range(3, ~0u, 0);
#ifdef SYS_pidfd_open
	p.fd = (int)syscall(SYS_pidfd_open, daemon, 0);
#else
	p.fd = -1;
#endif
	if (p.fd < 0)
		_exit(1);
	for (t = 0; t < FOLLOW_SECONDS * 1000 / FOLLOW_STEP_MS; t++) {
		/* The daemon exited: its pid may be another process's now. */
		if (poll(&p, 1, FOLLOW_STEP_MS) != 0)
			_exit(0);
		if (join_all(j, daemon, 1, joined, sizeof joined) > 0) {
			fprintf(stderr, "asoc-slurm: asocd joined job %s's "
			    "cgroups:%s (made by SLURM after the prolog, "
			    "%d ms after asocd started)\n", j->id, joined,
			    t * FOLLOW_STEP_MS);
			_exit(0);
		}
	}
	fprintf(stderr, "asoc-slurm: no cgroup of job %s found under "
	    "/sys/fs/cgroup/*/slurm*/uid_%u/ within %d s (SLURM's task/cgroup "
	    "or proctrack/cgroup not in use?): asocd's memory is charged "
	    "where slurmd's is\n", j->id, (unsigned)j->uid, FOLLOW_SECONDS);
	_exit(0);
}
