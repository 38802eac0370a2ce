/*
 * slurm_user.h: asocd --slurm-user, the path that needs no admin.  Run
 * once per node inside the user's own job (srun --overlap), it takes
 * everything from SLURM's environment: the peers (SLURM_JOB_NODELIST,
 * with ASOC_NODE_ADDRS mapping node names to fabric addresses where they
 * differ), its rank (SLURMD_NODENAME's place in that list), the community
 * (the job id), a socket folder of the user's, 0700, under $TMPDIR or
 * /tmp, and the job key: HMAC-SHA256 of the job id under ~/.asoc/key
 * (made 0600 on first use; a home shared by the nodes gives them all the
 * same one).
 */
#ifndef ASOC_SLURM_USER_H
#define ASOC_SLURM_USER_H

#include <stddef.h>

#include "conf.h"

/* Fills what c leaves unset from the environment (env: envp-style, NULL:
 * environ); the key goes to a pipe whose read end becomes c->key_fd.  0,
 * or -1 with err saying what is missing or wrong. */
int slurm_user_conf(struct conf *c, char **env, char *err, size_t errlen);
/* The socket folder of the job's node, for tools and libasoc:
 * ${TMPDIR:-/tmp}/asoc-UID-JOBID-NODE. */
int slurm_user_dir(char *buf, size_t size, const char *tmpdir, unsigned uid,
    const char *job, const char *node);
/* At exit: removes the socket folder it made. */
void slurm_user_cleanup(const struct conf *c);

#endif
