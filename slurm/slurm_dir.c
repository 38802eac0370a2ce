/*
 * slurm_dir.c: RUN_DIR/JOBID, the job's folder on a node.
 *
 * RUN_DIR and RUN_DIR/JOBID are root's (0755), and so is everything root
 * writes in them: the daemon's pid record, its log, the reason it did not
 * start.  The one thing the job user owns, the socket folder
 * RUN_DIR/JOBID/sock (0700), is made last, and changed only through the
 * descriptor root opened on it, so no link or rename of the user's can
 * point root elsewhere.  Every step below goes through descriptors.
 */
#include "config.h"
#include "slurm.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

int
slurm_open_run_dir(const char *run_dir, char *err, size_t errlen)
{
	struct stat st;
	int fd;

	if ((fd = open(run_dir, DIR_FLAGS)) < 0 && errno == ENOENT) {
		if (mkdir(run_dir, 0755) < 0 && errno != EEXIST) {
			snprintf(err, errlen, "cannot create RUN_DIR %s: %s",
			    run_dir, strerror(errno));
			return -1;
		}
		fd = open(run_dir, DIR_FLAGS);
	}
	if (fd < 0) {
		snprintf(err, errlen, "cannot open RUN_DIR %s: %s", run_dir,
		    strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || st.st_uid != 0 || (st.st_mode & 022)) {
		snprintf(err, errlen, "RUN_DIR %s must belong to root and be "
		    "writable by root only (chown root %s; chmod 755 %s)",
		    run_dir, run_dir, run_dir);
		close(fd);
		return -1;
	}
	return fd;
}

int
slurm_make_job_dir(int runfd, const char *id, char *err, size_t errlen)
{
	struct stat st;
	int fd;

	if (mkdirat(runfd, id, 0755) < 0) {
		snprintf(err, errlen, "cannot create the job folder %s: %s", id,
		    strerror(errno));
		return -1;
	}
	if ((fd = openat(runfd, id, DIR_FLAGS)) < 0) {
		snprintf(err, errlen, "cannot open the job folder %s: %s", id,
		    strerror(errno));
		return -1;
	}
	/* mkdir honours the umask: say exactly what we mean. */
	if (fstat(fd, &st) < 0 || st.st_uid != 0 || fchmod(fd, 0755) < 0) {
		snprintf(err, errlen, "the job folder %s is not root's", id);
		close(fd);
		return -1;
	}
	return fd;
}

int
slurm_make_sock_dir(int jobfd, uid_t uid, gid_t gid, char *err,
    size_t errlen)
{
	int fd;

	if (mkdirat(jobfd, SLURM_SOCK_DIR, 0700) < 0 ||
	    (fd = openat(jobfd, SLURM_SOCK_DIR, DIR_FLAGS)) < 0) {
		snprintf(err, errlen, "cannot create the socket folder: %s",
		    strerror(errno));
		return -1;
	}
	if (fchown(fd, uid, gid) < 0 || fchmod(fd, 0700) < 0) {
		snprintf(err, errlen, "cannot give the socket folder to uid %u "
		    "gid %u: %s", (unsigned)uid, (unsigned)gid,
		    strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

int
slurm_remove_at(int dfd, const char *name, int depth)
{
	struct dirent *de;
	DIR *d;
	int fd, e = 0;

	if (unlinkat(dfd, name, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return -1;
	if (depth <= 0) {
		errno = ELOOP;
		return -1;
	}
	if ((fd = openat(dfd, name, DIR_FLAGS)) < 0)
		return errno == ENOENT ? 0 : -1;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (slurm_remove_at(dirfd(d), de->d_name, depth - 1) < 0)
			e = errno;
	}
	closedir(d);
	if (unlinkat(dfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		return -1;
	errno = e;
	return e != 0 ? -1 : 0;
}

int
slurm_write_file(int jobfd, const char *name, const char *text, mode_t mode)
{
	char tmp[64];
	size_t len = strlen(text);
	int fd, rc = 0;

	/* Written beside and renamed over: a reader sees all or nothing. */
	snprintf(tmp, sizeof tmp, ".%s.new", name);
	(void)unlinkat(jobfd, tmp, 0);
	fd = openat(jobfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, mode);
	if (fd < 0)
		return -1;
	if (fchmod(fd, mode) < 0 || write(fd, text, len) != (ssize_t)len)
		rc = -1;
	if (close(fd) < 0)
		rc = -1;
	if (rc == 0 && renameat(jobfd, tmp, jobfd, name) < 0)
		rc = -1;
	if (rc < 0)
		(void)unlinkat(jobfd, tmp, 0);
	return rc;
}
