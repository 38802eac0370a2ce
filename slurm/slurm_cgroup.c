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

/* Moves pid into every controller's job folder not yet in *done (bit i:
 * controllers[i]), its step_extern when there is one, or with
 * need_extern only once that exists (SLURM has finished making it).
 * Adds what it joined to *done and, " memory freezer", to joined. */
static void
join_all(const struct slurm_job *j, pid_t pid, int need_extern,
    unsigned *done, char *joined, size_t size)
{
	char dir[PATH_MAX], ext[PATH_MAX + 16];
	size_t i, off = strlen(joined);

	for (i = 0; i < sizeof controllers / sizeof controllers[0]; i++) {
		if ((*done & (1u << i)) != 0 ||
		    job_dir(controllers[i], j, dir, sizeof dir) < 0)
			continue;
		snprintf(ext, sizeof ext, "%s/step_extern", dir);
		if (join(ext, pid) == 0 || (!need_extern && join(dir, pid) == 0)) {
			*done |= 1u << i;
			if (off < size)
				off += (size_t)snprintf(joined + off, size - off,
				    " %s", controllers[i]);
		}
	}
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
	char joined[256] = "";
	unsigned done = 0;

	if (strcmp(c->cgroup, "no") == 0)
		return 1;
	join_all(j, 0, 0, &done, joined, sizeof joined);
	if (done != 0) {
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
	char joined[256] = "";
	struct pollfd p = { .events = POLLIN };
	unsigned done = 0, want;
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
	/* SLURM makes the freezer's folders (proctrack/cgroup) before the
	 * memory's (task/cgroup): the point is memory, so wait for it when
	 * it is mounted, joining the others as they come. */
	want = access("/sys/fs/cgroup/memory/cgroup.procs", F_OK) == 0 ?
	    1u << 0 : ~0u;
	for (t = 0; t < FOLLOW_SECONDS * 1000 / FOLLOW_STEP_MS; t++) {
		/* The daemon exited: its pid may be another process's now. */
		if (poll(&p, 1, FOLLOW_STEP_MS) != 0)
			_exit(0);
		join_all(j, daemon, 1, &done, joined, sizeof joined);
		if ((done & want) != 0)
			break;
	}
	if (done != 0)
		fprintf(stderr, "asoc-slurm: asocd joined job %s's cgroups:%s "
		    "(made by SLURM after the prolog, within %d ms)%s\n",
		    j->id, joined, (t + 1) * FOLLOW_STEP_MS, (done & want) != 0 ?
		    "" : "; no memory cgroup of the job: its memory is charged "
		    "where slurmd's is");
	else
		fprintf(stderr, "asoc-slurm: no cgroup of job %s found under "
		    "/sys/fs/cgroup/*/slurm*/uid_%u/ within %d s (SLURM's "
		    "task/cgroup or proctrack/cgroup not in use?): asocd's memory "
		    "is charged where slurmd's is\n", j->id, (unsigned)j->uid,
		    FOLLOW_SECONDS);
	_exit(0);
}
