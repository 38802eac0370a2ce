/*
 * tls.h: optional TLS on the TCP peer transport (OpenSSL).  One context,
 * loaded at start-up from --tls-cert, --tls-key, --tls-ca and
 * --tls-verify-peer; one SSL object per connection, driven non-blocking
 * from the transport's own read and write events.
 */
#ifndef ASOC_TLS_H
#define ASOC_TLS_H

#include <stddef.h>
#include <sys/types.h>

struct conf;
struct evbuffer;
struct tls_conn;

/* Loads the context when cf turns TLS on; -1 with a message that says
 * which file or setting to fix.  0 and nothing to do when TLS is off. */
int tls_init(const struct conf *cf, char *err, size_t errlen);
void tls_free(void);
int tls_enabled(void);

/* A TLS session on a connected non-blocking socket.  host: the peer's
 * host as --peers names it, for a connector (its certificate must name
 * it when verifying); NULL for an accepted connection. */
struct tls_conn *tls_conn_new(int fd, const char *host, char *err,
    size_t errlen);
/* Sends close_notify when the session is healthy, then frees it; the fd
 * stays open. */
void tls_conn_free(struct tls_conn *t);

/* One step of the handshake: 1 done, 0 call again on the next event
 * (tls_conn_wants_write says which), -1 failed (tls_conn_error). */
int tls_conn_handshake(struct tls_conn *t);
int tls_conn_wants_write(const struct tls_conn *t);
/* Why the last call failed: OpenSSL's reason, plus the certificate check
 * that failed, if one did. */
const char *tls_conn_error(const struct tls_conn *t);
/* The same, short enough for a client's error message. */
const char *tls_conn_brief(const struct tls_conn *t);
/* Protocol and cipher, for the log. */
void tls_conn_describe(const struct tls_conn *t, char *buf, size_t len);

/* Like read(2): bytes decrypted straight into buf, 0 when the peer
 * closed, -1 with errno EAGAIN (try again on the next event: see
 * tls_conn_wants_write) or EPROTO (tls_conn_error says why). */
ssize_t tls_conn_read(struct tls_conn *t, void *buf, size_t len);
/* Bytes held by OpenSSL (decrypted, or records read ahead) that the
 * socket's readiness will not announce any more. */
int tls_conn_pending(const struct tls_conn *t);
/* Like evbuffer_write(3): encrypts and sends from the front of out,
 * chunk by chunk with no copy, draining what went out; the bytes written,
 * or -1 with errno as for tls_conn_read. */
int tls_conn_write(struct tls_conn *t, struct evbuffer *out);

#endif
