/*
 * slurm_cgroup.c: into the job's cgroups (see slurm_cgroup.h).  The
 * paths are sysfs's, root's alone: nothing here is the user's to change.
 */
#include "config.h"
#include "slurm_cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *const controllers[] = {
	"memory", "freezer", "cpuset", "cpu,cpuacct", "cpu", "cpuacct",
	"devices", "pids",
};

static int
join(const char *dir)
{
	char path[PATH_MAX];
	int fd, ok;

	snprintf(path, sizeof path, "%s/cgroup.procs", dir);
	if ((fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return -1;
	ok = write(fd, "0", 1) == 1;
	close(fd);
	return ok ? 0 : -1;
}

void
slurm_cgroup_join(const struct slurm_conf *c, const struct slurm_job *j)
{
	char pat[PATH_MAX], joined[256] = "";
	size_t i, off = 0;
	glob_t g;

	if (strcmp(c->cgroup, "no") == 0)
		return;
	for (i = 0; i < sizeof controllers / sizeof controllers[0]; i++) {
		snprintf(pat, sizeof pat, "/sys/fs/cgroup/%s/slurm*/uid_%u/"
		    "job_%s", controllers[i], (unsigned)j->uid, j->id);
		if (glob(pat, GLOB_NOSORT, NULL, &g) != 0)
			continue;
		if (g.gl_pathc == 1) {
			char ext[PATH_MAX];

			snprintf(ext, sizeof ext, "%s/step_extern",
			    g.gl_pathv[0]);
			if (join(ext) == 0 || join(g.gl_pathv[0]) == 0)
				off += (size_t)snprintf(joined + off,
				    sizeof joined - off, " %s",
				    controllers[i]);
		}
		globfree(&g);
		if (off >= sizeof joined)
			break;
	}
	if (off > 0)
		fprintf(stderr, "asoc-slurm: asocd joined job %s's cgroups:%s\n",
		    j->id, joined);
	else
		fprintf(stderr, "asoc-slurm: no cgroup of job %s found under "
		    "/sys/fs/cgroup/*/slurm*/uid_%u/ (SLURM's task/cgroup or "
		    "proctrack/cgroup not in use?): asocd's memory is charged "
		    "where slurmd's is\n", j->id, (unsigned)j->uid);
}
