/*
 * slurm_user.c: asocd --slurm-user (see slurm_user.h).  Everything here
 * runs as the job user, in the user's own allocation: no root, no prolog.
 */
#include "config.h"
#include "slurm_user.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "env_get.h"
#include "hostlist.h"
#include "jobkey.h"

/* Unset and set-empty alike: nothing to go on. */
static const char *
env_set(char **env, const char *name)
{
	const char *v = env_get(env, name);

	return v != NULL && *v != '\0' ? v : NULL;
}

int
slurm_user_dir(char *buf, size_t size, const char *tmpdir, unsigned uid,
    const char *job, const char *node)
{
	int n = snprintf(buf, size, "%s/asoc-%u-%s-%s",
	    tmpdir != NULL && *tmpdir == '/' ? tmpdir : "/tmp", uid, job, node);

	return n < 0 || (size_t)n >= size ? -1 : 0;
}

/* ~/.asoc/key: read, or made (32 random bytes, 0600) if missing.  Nodes
 * sharing the home race to make it: each writes its own candidate and
 * link()s it into place, which only the first does; all then read that. */
static int
user_secret(const char *home, uint8_t *key, size_t cap, size_t *len,
    char *err, size_t errlen)
{
	char dir[4096], path[4200], tmp[4300];
	uint8_t fresh[32];
	struct stat st;
	ssize_t n;
	int fd;

	snprintf(dir, sizeof dir, "%s/.asoc", home);
	snprintf(path, sizeof path, "%s/key", dir);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s: %s", dir,
		    strerror(errno));
		return -1;
	}
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC)) < 0 && errno == ENOENT) {
		snprintf(tmp, sizeof tmp, "%s/.key.%ld", dir, (long)getpid());
		if (RAND_bytes(fresh, sizeof fresh) != 1 ||
		    (fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0600)) < 0 ||
		    write(fd, fresh, sizeof fresh) != sizeof fresh ||
		    close(fd) < 0 || (link(tmp, path) < 0 && errno != EEXIST)) {
			snprintf(err, errlen, "cannot create %s: %s", path,
			    strerror(errno));
			unlink(tmp);
			return -1;
		}
		OPENSSL_cleanse(fresh, sizeof fresh);
		unlink(tmp);
		fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	}
	if (fd < 0) {
		snprintf(err, errlen, "cannot read %s: %s", path,
		    strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_uid != geteuid() || (st.st_mode & 077) != 0) {
		snprintf(err, errlen, "%s must be your own regular file, mode "
		    "0600 (chmod 600 %s)", path, path);
		close(fd);
		return -1;
	}
	n = read(fd, key, cap);
	close(fd);
	if (n < 16) {
		snprintf(err, errlen, "%s holds fewer than 16 bytes: remove it "
		    "and a new one is made", path);
		return -1;
	}
	*len = (size_t)n;
	return 0;
}

/* The job key on a pipe of our own: auth.c reads --key-fd as it does for
 * asoc-slurm(8). */
static int
key_pipe(struct conf *c, const char *home, const char *job, char *err,
    size_t errlen)
{
	uint8_t secret[4096], key[JOBKEY_LEN];
	size_t len;
	int p[2], rc;

	if (user_secret(home, secret, sizeof secret, &len, err, errlen) < 0)
		return -1;
	rc = jobkey_derive(secret, len, job, key, err, errlen);
	OPENSSL_cleanse(secret, sizeof secret);
	if (rc < 0)
		return -1;
	if (pipe2(p, O_CLOEXEC) < 0 || write(p[1], key, sizeof key) !=
	    (ssize_t)sizeof key) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		OPENSSL_cleanse(key, sizeof key);
		return -1;
	}
	OPENSSL_cleanse(key, sizeof key);
	close(p[1]);
	c->key_fd = (unsigned)p[0];
	return 0;
}

/* ASOC_NODE_ADDRS: "NODENAME ADDRESS" lines, or node names as they are. */
static const char *
node_addr(FILE *map, const char *node)
{
	static char name[HOSTLIST_HOST_MAX], addr[HOSTLIST_HOST_MAX];

	if (map == NULL)
		return node;
	rewind(map);
	while (fscanf(map, "%63s %63s", name, addr) == 2)
		if (strcmp(name, node) == 0)
			return addr;
	return NULL;
}

static int
job_peers(struct conf *c, const char *list, const char *node,
    const char *mapfile, char *err, size_t errlen)
{
	struct hostlist_entry *hl = NULL;
	size_t n, i, off = 0, cap;
	FILE *map = NULL;
	const char *a;
	char *peers;

	if (hostlist_expand(list, 0, &hl, &n, err, errlen) < 0)
		return -1;
	if (mapfile != NULL && (map = fopen(mapfile, "re")) == NULL) {
		snprintf(err, errlen, "cannot read ASOC_NODE_ADDRS %s: %s",
		    mapfile, strerror(errno));
		free(hl);
		return -1;
	}
	cap = n * HOSTLIST_HOST_MAX + 1;
	if ((peers = calloc(1, cap)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	for (i = 0; i < n; i++) {
		if ((a = node_addr(map, hl[i].host)) == NULL) {
			snprintf(err, errlen, "node %s of the job is not in "
			    "ASOC_NODE_ADDRS=%s", hl[i].host, mapfile);
			goto fail;
		}
		if (strcmp(hl[i].host, node) == 0) {
			c->rank = (int)i;
			if (c->listen == NULL && (c->listen = strdup(a)) == NULL)
				goto fail;
		}
		off += (size_t)snprintf(peers + off, cap - off, "%s%s",
		    i > 0 ? "," : "", a);
	}
	if (c->rank < 0) {
		snprintf(err, errlen, "this node (%s) is not in "
		    "SLURM_JOB_NODELIST='%s'", node, list);
		goto fail;
	}
	c->peers = peers;
	free(hl);
	if (map != NULL)
		fclose(map);
	return 0;
fail:
	free(peers);
	free(hl);
	if (map != NULL)
		fclose(map);
	return -1;
}

int
slurm_user_conf(struct conf *c, char **env, char *err, size_t errlen)
{
	const char *job = env_set(env, "SLURM_JOB_ID");
	const char *node = env_set(env, "SLURMD_NODENAME");
	const char *list = env_set(env, "SLURM_JOB_NODELIST");
	const char *home = env_set(env, "HOME");
	char dir[4096], sock[4200];
	struct stat st;

	if (job == NULL || node == NULL || list == NULL ||
	    strspn(job, "0123456789") != strlen(job)) {
		snprintf(err, errlen, "--slurm-user runs inside a SLURM job, "
		    "one per node: srun --overlap --ntasks-per-node=1 asocd "
		    "--slurm-user (SLURM_JOB_ID, SLURMD_NODENAME and "
		    "SLURM_JOB_NODELIST must be set)");
		return -1;
	}
	if (strchr(node, '/') != NULL || home == NULL || *home != '/') {
		snprintf(err, errlen, "--slurm-user: SLURMD_NODENAME or HOME "
		    "is not usable");
		return -1;
	}
	c->foreground = 1;
	if (c->community == NULL && (c->community = strdup(job)) == NULL)
		goto nomem;
	if (c->peers == NULL && job_peers(c, list, node,
	    env_set(env, "ASOC_NODE_ADDRS"), err, errlen) < 0)
		return -1;
	if (c->port_tries == 1)
		c->port_tries = 8;
	if (c->key_fd == 0 && c->key_file == NULL &&
	    key_pipe(c, home, job, err, errlen) < 0)
		return -1;
	if (c->socket == NULL) {
		if (slurm_user_dir(dir, sizeof dir, env_set(env, "TMPDIR"),
		    (unsigned)geteuid(), job, node) < 0) {
			snprintf(err, errlen, "TMPDIR is too long");
			return -1;
		}
		/* Ours, 0700, not a link: made now, or left by a daemon of
		 * ours that was killed. */
		if ((mkdir(dir, 0700) < 0 && errno != EEXIST) ||
		    lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode) ||
		    st.st_uid != geteuid() || (st.st_mode & 077) != 0) {
			snprintf(err, errlen, "%s must be a folder of yours, "
			    "mode 0700 (remove it and start again)", dir);
			return -1;
		}
		snprintf(sock, sizeof sock, "%s/asocd.sock", dir);
		if ((c->socket = strdup(sock)) == NULL)
			goto nomem;
	}
	return 0;
nomem:
	snprintf(err, errlen, "out of memory");
	return -1;
}

void
slurm_user_cleanup(const struct conf *c)
{
	char dir[4200], *slash;

	if (c->socket == NULL)
		return;
	snprintf(dir, sizeof dir, "%s", c->socket);
	if ((slash = strrchr(dir, '/')) != NULL && strstr(dir, "/asoc-") !=
	    NULL) {
		*slash = '\0';
		unlink(c->socket);
		(void)rmdir(dir);
	}
}
