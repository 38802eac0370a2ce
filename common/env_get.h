/*
 * env_get.h: one lookup of NAME in an envp-style array, shared by asocd's
 * settings (conf.c), its user-only SLURM path (slurm_user.c) and the root
 * prolog (slurm/slurm_env.c), which all read an environment handed to
 * them (tests pass their own) rather than getenv's.
 */
#ifndef ASOC_ENV_GET_H
#define ASOC_ENV_GET_H

/* The value of NAME in env (NULL: the process's environ), "" when it is
 * set empty, NULL when it is not set. */
const char *env_get(char **env, const char *name);

#endif
