/*
 * auth.c: the job key and MUNGE credentials.
 *
 * MUNGE (the credential service SLURM itself runs on every node) is how a
 * peer proves the uid it runs as: munged on the sending node signs "uid U
 * says PAYLOAD" under the cluster's munge key and munged on the receiving
 * node checks it and refuses a credential it has seen before.  The payload
 * is a digest of the handshake it belongs to (handshake.c), so a
 * credential is good for exactly one handshake and one role.  libmunge's calls are one round trip to the local munged
 * over a Unix socket (well under a millisecond); they happen only during a
 * handshake, so they stay on the loop rather than in a thread.
 */
#include "config.h"
#include "auth.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#ifdef HAVE_MUNGE
#include <munge.h>
#endif

#include "log.h"
#include "proto.h"

static struct {
	uint8_t key[AUTH_KEY_MAX];
	size_t keylen;
	int from_file;
	int munge;
	char munge_why[160];	/* why MUNGE is off, for auth_report */
#ifdef HAVE_MUNGE
	munge_ctx_t ctx;	/* for encoding, with fixed options */
	const char *socket;
#endif
} au;

int
auth_read_key(const char *path, uint8_t *key, size_t cap, size_t *len,
    char *err, size_t errlen)
{
	struct stat st;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) < 0) {
		snprintf(err, errlen, "cannot read key file %s: %s", path,
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "key file %s is not a regular file",
		    path);
		close(fd);
		return -1;
	}
	if (st.st_mode & 077) {
		snprintf(err, errlen, "key file %s is readable by others: "
		    "chmod 600 %s", path, path);
		close(fd);
		return -1;
	}
	if (st.st_size > (off_t)cap) {
		snprintf(err, errlen, "key file %s holds %lld bytes; a key is "
		    "at most %zu", path, (long long)st.st_size, cap);
		close(fd);
		return -1;
	}
	n = read(fd, key, cap);
	close(fd);
	if (n < 0) {
		snprintf(err, errlen, "cannot read key file %s: %s", path,
		    strerror(errno));
		return -1;
	}
	if (n < AUTH_KEY_MIN) {
		snprintf(err, errlen, "key file %s holds %zd bytes; a key is at "
		    "least %d (e.g. head -c 32 /dev/urandom > %s)", path, n,
		    AUTH_KEY_MIN, path);
		OPENSSL_cleanse(key, cap);
		return -1;
	}
	*len = (size_t)n;
	return 0;
}

int
auth_read_key_fd(int fd, uint8_t *key, size_t cap, size_t *len,
    char *err, size_t errlen)
{
	size_t got = 0;
	ssize_t n;
	uint8_t extra;

	while (got < cap && (n = read(fd, key + got, cap - got)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "cannot read the key from "
			    "--key-fd %d: %s", fd, strerror(errno));
			close(fd);
			OPENSSL_cleanse(key, cap);
			return -1;
		}
		got += (size_t)n;
	}
	n = got == cap ? read(fd, &extra, 1) : 0;
	close(fd);
	if (got < AUTH_KEY_MIN || n > 0) {
		snprintf(err, errlen, "--key-fd %d gave %s%zu bytes; a key is "
		    "%d to %zu", fd, n > 0 ? "more than " : "", got,
		    AUTH_KEY_MIN, cap);
		OPENSSL_cleanse(key, cap);
		return -1;
	}
	*len = got;
	return 0;
}

#ifdef HAVE_MUNGE
/* A context with only the socket set.  Decoding uses a fresh one each
 * time: munge_decode copies the credential's own options (cipher, TTL,
 * uid restriction...) into the context it is given, and a peer must not
 * choose how our next credentials are made. */
static munge_ctx_t
auth_munge_ctx(void)
{
	munge_ctx_t ctx = munge_ctx_create();

	if (ctx != NULL && au.socket != NULL &&
	    munge_ctx_set(ctx, MUNGE_OPT_SOCKET, au.socket) != EMUNGE_SUCCESS) {
		munge_ctx_destroy(ctx);
		return NULL;
	}
	return ctx;
}

/* auto: on when munged answers now; yes: it must. */
static int
auth_munge_init(const struct conf *cf, char *err, size_t errlen)
{
	char *cred = NULL;
	munge_err_t e;

	if (cf->munge == CONF_MUNGE_NO)
		return 0;
	au.socket = cf->munge_socket;
	if ((au.ctx = auth_munge_ctx()) == NULL) {
		snprintf(err, errlen, "cannot set up MUNGE%s%s",
		    cf->munge_socket != NULL ? " with --munge-socket " : "",
		    cf->munge_socket != NULL ? cf->munge_socket : "");
		return -1;
	}
	/* Only daemons of the job user may decode what we send. */
	if (munge_ctx_set(au.ctx, MUNGE_OPT_UID_RESTRICTION, geteuid()) !=
	    EMUNGE_SUCCESS) {
		snprintf(err, errlen, "MUNGE: cannot restrict credentials to "
		    "uid %u: %s", (unsigned)geteuid(),
		    munge_ctx_strerror(au.ctx));
		munge_ctx_destroy(au.ctx);
		au.ctx = NULL;
		return -1;
	}
	e = munge_encode(&cred, au.ctx, NULL, 0);
	free(cred);
	if (e != EMUNGE_SUCCESS) {
		if (cf->munge == CONF_MUNGE_YES) {
			snprintf(err, errlen, "--munge yes, but munged does not "
			    "answer (%s): start munged, or pass --munge-socket",
			    munge_ctx_strerror(au.ctx));
			return -1;
		}
		snprintf(au.munge_why, sizeof au.munge_why, "munged does not "
		    "answer (%s)", munge_ctx_strerror(au.ctx));
		munge_ctx_destroy(au.ctx);
		au.ctx = NULL;
		return 0;
	}
	au.munge = 1;
	return 0;
}
#else
static int
auth_munge_init(const struct conf *cf, char *err, size_t errlen)
{
	if (cf->munge == CONF_MUNGE_YES) {
		snprintf(err, errlen, "--munge yes, but this asocd was built "
		    "without MUNGE: install libmunge-dev and rebuild");
		return -1;
	}
	return 0;
}
#endif

int
auth_init(const struct conf *cf, char *err, size_t errlen)
{
	memset(&au, 0, sizeof au);
	if (cf->key_fd != 0) {
		if (auth_read_key_fd((int)cf->key_fd, au.key, sizeof au.key,
		    &au.keylen, err, errlen) < 0)
			return -1;
		au.from_file = 1;
	} else if (cf->key_file != NULL) {
		if (auth_read_key(cf->key_file, au.key, sizeof au.key,
		    &au.keylen, err, errlen) < 0)
			return -1;
		au.from_file = 1;
	} else {
		/* By hand on a trusted host: the community is all a peer
		 * must know (auth_report says so). */
		au.keylen = strnlen(cf->community, PROTO_NAME_MAX - 1);
		memcpy(au.key, cf->community, au.keylen);
	}
	if (cf->munge == CONF_MUNGE_NO)
		snprintf(au.munge_why, sizeof au.munge_why, "--munge no");
	return auth_munge_init(cf, err, errlen);
}

const char *
auth_munge_off_reason(void)
{
	if (au.munge)
		return NULL;
	return au.munge_why[0] != '\0' ? au.munge_why :
	    "built without libmunge";
}

void
auth_report(const struct conf *cf)
{
	if (!au.from_file)
		log_warn("no --key-file: any peer that knows the community "
		    "name '%s' may join; give every node the same key file "
		    "(the SLURM prolog does)", cf->community);
	if (au.munge)
		log_info("MUNGE: peers must prove they run as uid %u",
		    (unsigned)geteuid());
	else
		log_info("MUNGE off (%s): peers prove the job key only",
		    au.munge_why[0] != '\0' ? au.munge_why :
		    "built without libmunge");
}

void
auth_free(void)
{
	OPENSSL_cleanse(au.key, sizeof au.key);
	au.keylen = 0;
#ifdef HAVE_MUNGE
	if (au.ctx != NULL)
		munge_ctx_destroy(au.ctx);
	au.ctx = NULL;
#endif
	au.munge = 0;
}

const uint8_t *
auth_key(size_t *len, int *from_file)
{
	*len = au.keylen;
	if (from_file != NULL)
		*from_file = au.from_file;
	return au.key;
}

void
auth_random(void *buf, size_t len)
{
	uint8_t *p = buf;
	ssize_t n;

	while (len > 0) {
		n = getrandom(p, len, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			/* No entropy source at all: nothing safe to do. */
			log_err("getrandom: %s", strerror(errno));
			abort();
		}
		p += n;
		len -= (size_t)n;
	}
}

int
auth_munge_on(void)
{
	return au.munge;
}

#ifdef HAVE_MUNGE
int
auth_munge_encode(const uint8_t *bind, size_t len, char *cred, size_t cap,
    char *err, size_t errlen)
{
	char *c = NULL;
	munge_err_t e;

	e = munge_encode(&c, au.ctx, bind, (int)len);
	if (e != EMUNGE_SUCCESS) {
		snprintf(err, errlen, "MUNGE: cannot make a credential: %s",
		    munge_ctx_strerror(au.ctx));
		free(c);
		return -1;
	}
	if (strlen(c) >= cap) {
		snprintf(err, errlen, "MUNGE: the credential is %zu bytes, "
		    "more than the %zu the wire carries", strlen(c), cap - 1);
		free(c);
		return -1;
	}
	snprintf(cred, cap, "%s", c);
	free(c);
	return 0;
}

int
auth_munge_verify(const char *cred, const uint8_t *bind, size_t len,
    char *err, size_t errlen)
{
	void *payload = NULL;
	int plen = 0;
	uid_t uid;
	gid_t gid;
	munge_err_t e;
	munge_ctx_t ctx;
	int ok;

	if ((ctx = auth_munge_ctx()) == NULL) {
		snprintf(err, errlen, "could not be checked: out of memory");
		return -1;
	}
	e = munge_decode(cred, ctx, &payload, &plen, &uid, &gid);
	munge_ctx_destroy(ctx);
	if (e == EMUNGE_CRED_UNAUTHORIZED) {
		snprintf(err, errlen, "sent a MUNGE credential for another "
		    "user than this job's (uid %u): a daemon of another "
		    "user's job?", (unsigned)geteuid());
		free(payload);
		return -1;
	}
	if (e != EMUNGE_SUCCESS) {
		/* Replayed, expired, or made under another munge key. */
		snprintf(err, errlen, "sent a MUNGE credential that is not "
		    "valid here (%s)", munge_strerror(e));
		free(payload);
		return -1;
	}
	ok = plen == (int)len && CRYPTO_memcmp(payload, bind, len) == 0;
	free(payload);
	if (!ok) {
		snprintf(err, errlen, "sent a MUNGE credential made for "
		    "another handshake (replayed?)");
		return -1;
	}
	if (uid != geteuid()) {
		snprintf(err, errlen, "runs as uid %u, but this job's user "
		    "is uid %u (MUNGE): a daemon of another user's job?",
		    (unsigned)uid, (unsigned)geteuid());
		return -1;
	}
	return 0;
}
#else
int
auth_munge_encode(const uint8_t *bind, size_t len, char *cred, size_t cap,
    char *err, size_t errlen)
{
	(void)bind;
	(void)len;
	(void)cred;
	(void)cap;
	snprintf(err, errlen, "built without MUNGE");
	return -1;
}

int
auth_munge_verify(const char *cred, const uint8_t *bind, size_t len,
    char *err, size_t errlen)
{
	(void)cred;
	(void)bind;
	(void)len;
	snprintf(err, errlen, "built without MUNGE");
	return -1;
}
#endif
