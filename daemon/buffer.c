/*
 * buffer.c: checking, mapping and reference-counting client memory.
 */
#include "config.h"
#include "buffer.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <linux/magic.h>

#include "asocd.h"
#include "control.h"
#include "log.h"
#include "transport.h"

/* The seals that make the mapping safe: the size can never change, so a
 * client cannot truncate the file under us and turn our next access into
 * SIGBUS. */
#define BUFFER_SEALS (F_SEAL_SHRINK | F_SEAL_GROW)

/* --max-registered-bytes, or 3/4 of the node's memory. */
static uint64_t
buffer_cap(void)
{
	long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);

	if (asocd->conf->max_registered_bytes != 0)
		return asocd->conf->max_registered_bytes;
	return pages > 0 && psz > 0 ? (uint64_t)pages * (uint64_t)psz / 4 * 3 :
	    UINT64_MAX;
}

/* The memfd is one asocd may map: sealed against resizing, a regular
 * file of exactly size bytes, not hugetlbfs, and within the caps.  0, or
 * -1 with a message for the client. */
static int
buffer_check_fd(int fd, uint64_t size, char *err, size_t errlen)
{
	struct stat st;
	struct statfs sfs;
	int seals;

	seals = fcntl(fd, F_GET_SEALS);
	if (seals < 0) {
		snprintf(err, errlen, "the fd passed is not a memfd (%s): "
		    "allocate buffers with asoc_buf_alloc", strerror(errno));
		return -1;
	}
	if ((seals & BUFFER_SEALS) != BUFFER_SEALS) {
		snprintf(err, errlen, "the memfd is not sealed against "
		    "resizing: add F_SEAL_SHRINK|F_SEAL_GROW before passing it");
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "cannot inspect the memfd");
		return -1;
	}
	/* hugetlbfs pages are allocated at fault time from a fixed pool:
	 * a hole punched later could make the daemon's next access SIGBUS. */
	if (fstatfs(fd, &sfs) == 0 && sfs.f_type == HUGETLBFS_MAGIC) {
		snprintf(err, errlen, "hugetlb memfds are not accepted: "
		    "allocate buffers with asoc_buf_alloc");
		return -1;
	}
	if ((uint64_t)st.st_size != size) {
		snprintf(err, errlen, "the memfd holds %lld bytes but the "
		    "request says %llu", (long long)st.st_size,
		    (unsigned long long)size);
		return -1;
	}
	if (size > SIZE_MAX / 2) {
		snprintf(err, errlen, "buffer size %llu is absurd",
		    (unsigned long long)size);
		return -1;
	}
	/* Every client of the daemon together: --client-max-bytes bounds
	 * one, but a job's many processes must not pin the whole node
	 * between them. */
	if (asocd->ctr.buffer_bytes + size > buffer_cap()) {
		snprintf(err, errlen, "a buffer of %llu bytes would bring this "
		    "asocd's clients to %llu, over the limit of %llu "
		    "(--max-registered-bytes): free some first",
		    (unsigned long long)size,
		    (unsigned long long)(asocd->ctr.buffer_bytes + size),
		    (unsigned long long)buffer_cap());
		return -1;
	}
	return 0;
}

/* Maps the checked memfd and commits its pages; NULL with a message. */
static void *
buffer_map(int fd, uint64_t size, char *err, size_t errlen)
{
	void *base;

	base = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED,
	    fd, 0);
	if (base == MAP_FAILED) {
		snprintf(err, errlen, "cannot map the buffer (%s)",
		    strerror(errno));
		return NULL;
	}
	/* Fault the mapping in now, at registration, rather than during the
	 * first transfer (about 0.7 us a page, measured): the client asked
	 * for this memory, so committing it is no surprise.  Memory that
	 * cannot be committed is refused here, where it is an error for the
	 * client, rather than found out later as SIGBUS in the daemon. */
#ifdef MADV_POPULATE_WRITE
	if (size > 0 && madvise(base, (size_t)size, MADV_POPULATE_WRITE) < 0 &&
	    errno != EINVAL) {
		snprintf(err, errlen, "cannot commit the buffer's %llu bytes "
		    "(%s): is the node out of memory?",
		    (unsigned long long)size, strerror(errno));
		munmap(base, (size_t)size);
		return NULL;
	}
#endif
	return base;
}

int
buffer_register(struct client *c, int fd, uint64_t size, struct buffer **out,
    char *err, size_t errlen)
{
	struct buffer *b;
	void *base;

	if (buffer_check_fd(fd, size, err, errlen) < 0 ||
	    (base = buffer_map(fd, size, err, errlen)) == NULL) {
		close(fd);
		return -1;
	}
	close(fd);
	if ((b = calloc(1, sizeof *b)) == NULL) {
		munmap(base, (size_t)size);
		snprintf(err, errlen, "asocd is out of memory");
		return -1;
	}
	b->id = asocd_next_id();
	b->owner = c;
	b->base = base;
	b->size = (size_t)size;
	b->refs = 1;
	TAILQ_INSERT_TAIL(&c->bufs, b, entry);
	c->nbufs++;
	c->buf_bytes += size;
	asocd->ctr.buffers++;
	asocd->ctr.buffer_bytes += size;
	*out = b;
	return 0;
}

struct buffer *
buffer_find(struct client *c, uint64_t id)
{
	struct buffer *b;

	TAILQ_FOREACH(b, &c->bufs, entry)
		if (b->id == id)
			return b;
	return NULL;
}

int
buffer_range_ok(const struct buffer *b, uint64_t off, uint64_t len)
{
	return off <= b->size && len <= b->size - off;
}

void
buffer_ref(struct buffer *b)
{
	b->refs++;
}

void
buffer_unref(struct buffer *b)
{
	if (--b->refs > 0)
		return;
	transport_buffer_gone(b);	/* once: at the last reference */
	munmap(b->base, b->size);
	asocd->ctr.buffers--;
	asocd->ctr.buffer_bytes -= b->size;
	free(b);
}

void
buffer_release(struct buffer *b)
{
	if (b->owner != NULL) {
		TAILQ_REMOVE(&b->owner->bufs, b, entry);
		b->owner->nbufs--;
		b->owner->buf_bytes -= b->size;
		b->owner = NULL;
	}
	buffer_unref(b);
}
