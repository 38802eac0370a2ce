/*
 * slurm_file.c: the files root reads (its settings, the node map, the
 * site key).  They are the admin's, but a link or a FIFO put in their
 * place must neither lead root elsewhere nor block it.
 */
#include "config.h"
#include "slurm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int
slurm_open_root_file(const char *path, int secret, char *err, size_t errlen)
{
	struct stat st;
	int fd;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC |
	    O_NOCTTY);
	if (fd < 0) {
		snprintf(err, errlen, "cannot open %s: %s%s", path,
		    strerror(errno), errno == ELOOP ? " (a symbolic link: "
		    "root does not follow it; put the file itself there)" : "");
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s is not a regular file", path);
		close(fd);
		return -1;
	}
	if (st.st_uid != 0 || (st.st_mode & (secret ? 077 : 022)) != 0) {
		snprintf(err, errlen, "%s must belong to root and be %s by "
		    "root only (chown root %s; chmod %s %s)", path,
		    secret ? "readable" : "writable", path,
		    secret ? "600" : "644", path);
		close(fd);
		return -1;
	}
	return fd;
}

ssize_t
slurm_read_all(int fd, char *buf, size_t cap)
{
	size_t got = 0;
	ssize_t n;

	while (got < cap && (n = read(fd, buf + got, cap - got)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		got += (size_t)n;
	}
	if (got == cap) {
		errno = EFBIG;
		return -1;
	}
	buf[got] = '\0';
	return (ssize_t)got;
}
