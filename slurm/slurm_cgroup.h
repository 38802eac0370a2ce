/*
 * slurm_cgroup.h: the daemon joins its job's cgroups, so the pages it
 * registers count against the job's --mem, not slurmd's.
 */
#ifndef ASOC_SLURM_CGROUP_H
#define ASOC_SLURM_CGROUP_H

#include "slurm.h"

/* In the prolog's child, as root, before exec: moves this process into
 * the job's cgroup v1 hierarchies (SLURM's task/cgroup and
 * proctrack/cgroup: CONTROLLER/slurm.../uid_UID/job_JOBID), the extern step
 * where there is one.  Says on stderr (the daemon's log) which it joined.
 * 1 if it joined (or CGROUP=no in the settings skips it), 0 if there
 * was none yet. */
int slurm_cgroup_join(const struct slurm_conf *c, const struct slurm_job *j);

/* In the prolog, as root, once the daemon (pid) serves and if it is in
 * none of the job's cgroups yet: SLURM makes them (the extern step's,
 * PrologFlags=Contain) only after the prolog has returned.  A child in a
 * session of its own waits for them (up to a minute, only while the
 * daemon lives, through a pidfd so a recycled pid is never moved), moves
 * the daemon in and says so in the daemon's log (logfd), then exits. */
void slurm_cgroup_follow(const struct slurm_conf *c, const struct slurm_job *j,
    pid_t daemon, int logfd);

#endif
