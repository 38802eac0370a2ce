/*
 * libasoc-find.c: where this process's asocd is, and, when it is not
 * there, why.
 *
 * In a SLURM job (SLURM_JOB_ID set, no ASOC_SOCKET) the daemon the prolog
 * started serves RUN_DIR/JOBID/sock/asocd.sock (RUN_DIR: ASOC_RUN_DIR, or
 * /run/asoc).  When asoc-slurm(8) could not start it, it left the reason
 * in RUN_DIR/JOBID/error: that is what the user needs to read, rather
 * than "no such file".
 */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "libasoc-int.h"
#include "proto.h"

/* The job id of a SLURM job, or NULL (digits only: it names a folder). */
static const char *
find_job(void)
{
	const char *job = getenv("SLURM_JOB_ID");

	if (job == NULL || *job == '\0' || strspn(job, "0123456789") !=
	    strlen(job) || strlen(job) > 20)
		return NULL;
	return job;
}

static const char *
find_run_dir(void)
{
	const char *r = getenv("ASOC_RUN_DIR");

	return r != NULL && *r == '/' ? r : "/run/asoc";
}

/* The user-only path's socket (asocd --slurm-user): keep in step with
 * slurm_user_dir() in daemon/slurm_user.c. */
static int
find_user_socket(char *path, size_t size, const char *job)
{
	const char *node = getenv("SLURMD_NODENAME"), *tmp = getenv("TMPDIR");
	int n;

	if (node == NULL || *node == '\0' || strchr(node, '/') != NULL)
		return -1;
	n = snprintf(path, size, "%s/asoc-%u-%s-%s/asocd.sock",
	    tmp != NULL && *tmp == '/' ? tmp : "/tmp", (unsigned)getuid(), job,
	    node);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

static int
is_socket(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISSOCK(st.st_mode);
}

/* The user-only path's socket lives in a shared folder (/tmp): another
 * user can make one at the name we would look for before our daemon
 * starts.  Only a folder that is ours and closed to others counts. */
static int
is_own_socket(const char *path)
{
	char dir[4096];
	struct stat st;
	char *slash;

	if (snprintf(dir, sizeof dir, "%s", path) >= (int)sizeof dir ||
	    (slash = strrchr(dir, '/')) == NULL)
		return 0;
	*slash = '\0';
	return lstat(dir, &st) == 0 && S_ISDIR(st.st_mode) &&
	    st.st_uid == getuid() && (st.st_mode & 077) == 0 &&
	    is_socket(path);
}

void
libasoc_find_socket(char *path, size_t size)
{
	const char *s = getenv("ASOC_SOCKET"), *job = find_job();
	char user[4096];

	if (s != NULL && *s != '\0')
		snprintf(path, size, "%s", s);
	else if (job != NULL) {
		/* The prolog's daemon, else the user's own. */
		snprintf(path, size, "%s/%s/sock/asocd.sock", find_run_dir(),
		    job);
		if (!is_socket(path) && find_user_socket(user, sizeof user,
		    job) == 0 && is_own_socket(user))
			snprintf(path, size, "%s", user);
	} else
		proto_default_socket(NULL, path, size);
}

void
libasoc_find_wait(char *path, size_t size)
{
	const char *s = getenv("ASOC_SOCKET"), *w = getenv("ASOC_WAIT");
	char why[16];
	long ms = w != NULL ? strtol(w, NULL, 10) * 1000 : 30000;

	/* In a job, the daemons may still be starting: the user-only path
	 * starts them beside the first client, and a node's prolog may end
	 * after the batch script began (PrologFlags=Alloc waits for the
	 * batch node's own prolog only). */
	libasoc_find_socket(path, size);
	if ((s != NULL && *s != '\0') || find_job() == NULL)
		return;
	while (!is_socket(path) && ms > 0 &&
	    libasoc_find_reason(why, sizeof why) < 0) {
		usleep(100000);
		ms -= 100;
		libasoc_find_socket(path, size);
	}
}

int
libasoc_find_reason(char *buf, size_t size)
{
	const char *s = getenv("ASOC_SOCKET"), *job = find_job();
	char path[4096];
	struct stat st;
	ssize_t n;
	int fd;

	if ((s != NULL && *s != '\0') || job == NULL || size < 2)
		return -1;
	snprintf(path, sizeof path, "%s/%s/error", find_run_dir(), job);
	/* Root's file only, read without blocking or following a link. */
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != 0 ||
	    (n = read(fd, buf, size - 1)) <= 0) {
		close(fd);
		return -1;
	}
	close(fd);
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return 0;
}
