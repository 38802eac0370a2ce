/*
 * libasoc-int.h: what the files of libasoc share and nobody else sees.
 *
 * The names start with "libasoc_", not "asoc_", so the export list of the
 * shared library (asoc_*) leaves them out.
 */
#ifndef LIBASOC_INT_H
#define LIBASOC_INT_H

#include <stddef.h>
#include <stdint.h>

#include "asoc.h"

#define LIBASOC_PRINTF(f, a)	__attribute__((format(printf, f, a)))

/* What every public call does first: ASOC_OK and the last error cleared,
 * or the dead session's status with its reason. */
asoc_status_t	libasoc_enter(asoc_t *as);
/* Sets the session's last error and returns st. */
asoc_status_t	libasoc_fail(asoc_t *as, asoc_status_t st, const char *fmt,
		    ...) LIBASOC_PRINTF(3, 4);
/* The session a buffer belongs to. */
asoc_t		*libasoc_buf_session(const asoc_buf_t *buf);
/* The deadline asoc_set_timeout last set. */
unsigned int	libasoc_timeout(const asoc_t *as);
/* The node of every rank (asoc_rank_nodes), asked once per session and
 * kept until asoc_close. */
asoc_status_t	libasoc_node_map(asoc_t *as, const int **map);

/* The daemon's socket: ASOC_SOCKET, the SLURM job's, or the default. */
void		libasoc_find_socket(char *path, size_t size);
/* The same, in a SLURM job: waits up to ASOC_WAIT seconds (default 30)
 * for the socket to appear, or for the prolog's reason. */
void		libasoc_find_wait(char *path, size_t size);
/* Why the SLURM job's daemon is not there, as asoc-slurm(8) recorded it:
 * 0 with the text in buf, or -1 (no reason recorded). */
int		libasoc_find_reason(char *buf, size_t size);

/*
 * How a session joins (libasoc-rank.c): the options and the environment
 * (NULL: the process's) resolved by the order of asoc.h, or EINVAL with
 * err saying which variable or option is wrong and what to set.
 */
enum libasoc_join_mode {
	LIBASOC_JOIN_NODE,	/* node mode: the daemon gives rank and world */
	LIBASOC_JOIN_PROC,	/* process rank `rank` of `world` */
	LIBASOC_JOIN_STATUS,	/* no rank: status queries only */
};
#define LIBASOC_LOCALID_NONE	0xffffffffu
struct libasoc_join {
	enum libasoc_join_mode	mode;
	uint32_t		rank, world;	/* LIBASOC_JOIN_PROC */
	uint32_t		localid;	/* or LIBASOC_LOCALID_NONE */
	char			from[64];	/* which rule decided */
};
asoc_status_t	libasoc_join_resolve(char **env, const asoc_open_opts_t *o,
		    struct libasoc_join *j, char *err, size_t len);

#endif
