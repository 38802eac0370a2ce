/*
 * slurm.h: asoc-slurm(8), the root part of ASoc's SLURM prolog and
 * epilog.  One job per file:
 *
 *   slurm_env.c    what slurmd hands us (job id, uid, gid, nodes), checked
 *   slurm_conf.c   the admin's settings file, parsed (never run)
 *   slurm_file.c   opening root's files without following links
 *   slurm_dir.c    RUN_DIR/JOBID: made root's, the socket folder last
 *   slurm_start.c  the prolog: key in memory, fork, drop, exec asocd
 *   slurm_stop.c   the epilog: stop exactly the recorded daemon, clean up
 *   asoc-slurm.c   main: the mode, and "never drain the node"
 */
#ifndef ASOC_SLURM_H
#define ASOC_SLURM_H

#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

#define SLURM_ID_MAX	20	/* digits of a job id, NUL excluded */
#define SLURM_NODE_MAX	64
#define SLURM_LIST_MAX	65536

/* The job, from slurmd's environment. */
struct slurm_job {
	char id[SLURM_ID_MAX + 1];
	uid_t uid;
	gid_t gid;
	char node[SLURM_NODE_MAX];	/* SLURMD_NODENAME */
	char nodelist[SLURM_LIST_MAX];	/* SLURM_JOB_NODELIST or SLURM_NODELIST */
};

/* From env (envp-style; NULL: environ).  need_nodes: the prolog needs the
 * node list and name, the epilog only the id.  0, or -1 with err naming the
 * variable and what is wrong with it. */
int slurm_env_read(struct slurm_job *j, char **env, int need_nodes,
    char *err, size_t errlen);

/* The admin's settings (slurm.conf of asoc-slurm(8)). */
struct slurm_conf {
	char asocd[PATH_MAX];
	unsigned port_base, port_span, port_tries;
	char interface[64];
	char transport[8];
	char chunk_size[32];
	char run_dir[PATH_MAX];
	char node_addrs[PATH_MAX];
	char log_level[16];
	char connection_timeout[16];
	char memlock[32];		/* "unlimited", KiB, or "" */
	char cpu_list[128];
	char keep_logs_dir[PATH_MAX];
	char site_key[PATH_MAX];
	char munge_socket[PATH_MAX];
	char cgroup[16];		/* "auto", "no" */
	unsigned ready_timeout;		/* seconds */
	unsigned busy_poll;		/* us; SLURM_CONF_UNSET: asocd's */
};
#define SLURM_CONF_UNSET	(~0u)

void slurm_conf_defaults(struct slurm_conf *c);
/* KEY=value lines as a shell writes them (optional "export", quotes and
 * # comments), parsed; an unknown key is an error.  name is for
 * messages. */
int slurm_conf_parse(struct slurm_conf *c, const char *text, size_t len,
    const char *name, char *err, size_t errlen);
/* The file at path, root's and writable by root only; a missing file
 * leaves the defaults when missing_ok. */
int slurm_conf_load(struct slurm_conf *c, const char *path, int missing_ok,
    char *err, size_t errlen);

/* Opens path read-only without following a final symlink or blocking on a
 * FIFO, and checks it is a regular file of root's that nobody else may
 * write (secret: that nobody else may read either).  fd, or -1 with err. */
int slurm_open_root_file(const char *path, int secret, char *err,
    size_t errlen);
/* Reads at most cap-1 bytes of fd and NUL-terminates; -1 if it holds
 * more. */
ssize_t slurm_read_all(int fd, char *buf, size_t cap);

/* RUN_DIR: opened (made 0755 if missing), root's and writable by root
 * only.  fd, or -1 with err. */
int slurm_open_run_dir(const char *run_dir, char *err, size_t errlen);
/* RUN_DIR/JOBID afresh (0755, root's): fd, or -1 with err. */
int slurm_make_job_dir(int runfd, const char *id, char *err, size_t errlen);
/* The job user's socket folder, made last: JOBDIR/sock, 0700. */
int slurm_make_sock_dir(int jobfd, uid_t uid, gid_t gid, char *err,
    size_t errlen);
/* Removes name under dirfd and all it holds, through descriptors only
 * (no link is followed; depth is bounded).  0, or -1 with errno. */
int slurm_remove_at(int dirfd, const char *name, int depth);
/* Writes text to JOBDIR/name (root's, mode 0644), replacing it. */
int slurm_write_file(int jobfd, const char *name, const char *text,
    mode_t mode);

/* The prolog and the epilog.  Both return 0 when the daemon runs (or is
 * gone), -1 with err saying why not. */
int slurm_prolog(const struct slurm_conf *c, const struct slurm_job *j,
    char *err, size_t errlen);
int slurm_epilog(const struct slurm_conf *c, const struct slurm_job *j,
    char *err, size_t errlen);
/* Stops the daemon recorded in JOBDIR/asocd.pid, if it still runs. */
void slurm_stop_daemon(int jobfd, const char *what);

/* Process start time (field 22 of /proc/PID/stat), 0 if gone. */
unsigned long long slurm_start_time(pid_t pid);

#define SLURM_SOCK_DIR	"sock"
#define SLURM_SOCK_NAME	"asocd.sock"
#define SLURM_PID_FILE	"asocd.pid"
#define SLURM_LOG_FILE	"asocd.log"
#define SLURM_LOG_MAX	(64 << 20)	/* bytes the daemon may write to a file */
#define SLURM_ERR_FILE	"error"

#endif
