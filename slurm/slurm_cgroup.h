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
 * where there is one.  Says on stderr (the daemon's log) which it joined,
 * or why none.  CGROUP=no in the settings skips it. */
void slurm_cgroup_join(const struct slurm_conf *c, const struct slurm_job *j);

#endif
