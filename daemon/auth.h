/*
 * auth.h: what a peer must prove to join the job: that it holds the job
 * key (read once at start from --key-file) and, where munged runs, that it
 * runs as the job's user (a MUNGE credential).  The handshake that uses
 * them is in handshake.c; this file owns the secrets and the syscalls.
 */
#ifndef ASOC_AUTH_H
#define ASOC_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"

#define AUTH_KEY_MIN	16
#define AUTH_KEY_MAX	4096

/* Reads the key file (mode 0600 or stricter, AUTH_KEY_MIN..AUTH_KEY_MAX
 * bytes) and sets MUNGE up per --munge.  -1 with a message that says what
 * to fix. */
int auth_init(const struct conf *cf, char *err, size_t errlen);
/* Logs what peers must prove (after daemonising, so in the daemon's
 * name). */
void auth_report(const struct conf *cf);
/* Wipes the key. */
void auth_free(void);

/* Reads a key file into key (cap bytes); -1 with a message. */
int auth_read_key(const char *path, uint8_t *key, size_t cap, size_t *len,
    char *err, size_t errlen);

/* Reads a key from descriptor fd until end of file (a pipe from
 * asoc-slurm) and closes fd; -1 with a message. */
int auth_read_key_fd(int fd, uint8_t *key, size_t cap, size_t *len,
    char *err, size_t errlen);

/* The job key; without --key-file, the community name stands in for it
 * (and a warning says so at start).  *from_file tells which. */
const uint8_t *auth_key(size_t *len, int *from_file);

/* Fresh bytes from the kernel's CSPRNG (getrandom). */
void auth_random(void *buf, size_t len);

/* Whether this asocd proves its uid by MUNGE and demands the same. */
int auth_munge_on(void);
/* Why MUNGE is off ("munged does not answer (...)", "--munge no"),
 * for asoc-info; NULL when it is on. */
const char *auth_munge_off_reason(void);
/* A credential (NUL-terminated, in cred[cap]) whose payload is bind.
 * -1 with a message. */
int auth_munge_encode(const uint8_t *bind, size_t len, char *cred,
    size_t cap, char *err, size_t errlen);
/* The credential is valid, not replayed, its payload is bind and its uid
 * is this daemon's (the job user's).  -1 with the reason, a clause that
 * follows the peer's name ("rank 2 runs as uid 1001, but..."). */
int auth_munge_verify(const char *cred, const uint8_t *bind, size_t len,
    char *err, size_t errlen);

#endif
