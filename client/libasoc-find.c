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

void
libasoc_find_socket(char *path, size_t size)
{
	const char *s = getenv("ASOC_SOCKET"), *job = find_job();

	if (s != NULL && *s != '\0')
		snprintf(path, size, "%s", s);
	else if (job != NULL)
		snprintf(path, size, "%s/%s/sock/asocd.sock", find_run_dir(),
		    job);
	else
		proto_default_socket(path, size);
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
