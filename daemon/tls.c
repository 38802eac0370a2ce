/*
 * tls.c: optional TLS 1.3 on the TCP peer transport.
 *
 * Every setting is checked when the context is loaded, at start-up, so a
 * wrong file stops asocd with a message instead of failing the first
 * transfer.  Both ends present a certificate; with --tls-verify-peer both
 * check the other's against --tls-ca, and a connector also checks that
 * the certificate names the host it dialled (its --peers entry).
 *
 * The SSL objects sit on the transport's non-blocking sockets: OpenSSL
 * reads and writes the fd itself and reports WANT_READ / WANT_WRITE, which
 * the transport turns into its libevent events.  No bytes are copied on
 * our side: SSL_read decrypts straight into the receiver's buffer and
 * SSL_write encrypts straight from the chunks of the output evbuffer.
 */
#include "config.h"
#include "tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "conf.h"
#include "log.h"

struct tls_conn {
	SSL *ssl;
	int server;
	int want_write;		/* the last call wants the fd writable */
	int broken;		/* fatal error: no close_notify */
	char err[256];		/* OpenSSL's full error string, for the log */
	char brief[128];	/* its reason alone, for the client */
};

#define TLS_READ_BUFFER	(256u << 10)

static SSL_CTX *tls_ctx;
static int tls_verify;

/* An encrypted key would make OpenSSL prompt on the terminal of a
 * daemon: say no, and let the start-up message explain. */
static int
tls_no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

/* --tls-verify-peer no: still ask for the peer's certificate (every node
 * presents one), but take whatever comes. */
static int
tls_accept_any(int ok, X509_STORE_CTX *x)
{
	(void)ok;
	(void)x;
	return 1;
}

/* OpenSSL's first queued reason, or what if the queue is empty. */
static const char *
tls_reason(char *buf, size_t len, const char *what)
{
	unsigned long e = ERR_get_error();

	if (e == 0)
		snprintf(buf, len, "%s", what);
	else
		ERR_error_string_n(e, buf, len);
	ERR_clear_error();
	return buf;
}

static int
tls_readable(const char *opt, const char *path, char *err, size_t errlen)
{
	if (access(path, R_OK) < 0) {
		snprintf(err, errlen, "cannot read --%s %s: %s", opt, path,
		    strerror(errno));
		return -1;
	}
	return 0;
}

int
tls_init(const struct conf *cf, char *err, size_t errlen)
{
	unsigned long e;
	char why[200];
	X509 *cert;

	if (cf->tls_cert == NULL || cf->tls_key == NULL)
		return 0;
	if (tls_readable("tls-cert", cf->tls_cert, err, errlen) < 0 ||
	    tls_readable("tls-key", cf->tls_key, err, errlen) < 0 ||
	    (cf->tls_ca != NULL &&
	    tls_readable("tls-ca", cf->tls_ca, err, errlen) < 0))
		return -1;
	if ((tls_ctx = SSL_CTX_new(TLS_method())) == NULL) {
		snprintf(err, errlen, "cannot create the TLS context: %s",
		    tls_reason(why, sizeof why, "out of memory"));
		return -1;
	}
	SSL_CTX_set_min_proto_version(tls_ctx, TLS1_3_VERSION);
	/* SSL_write may take part of a chunk and be retried from a chunk
	 * the evbuffer has meanwhile extended; the peer's unannounced close
	 * is a plain end of stream (our frames carry their own lengths). */
	SSL_CTX_set_mode(tls_ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_options(tls_ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	/* Read many records per read(2), not two reads per 16 KiB record:
	 * what is left in OpenSSL's buffer is picked up by the transport
	 * (tls_conn_pending). */
	SSL_CTX_set_read_ahead(tls_ctx, 1);
	SSL_CTX_set_default_read_buffer_len(tls_ctx, TLS_READ_BUFFER);
	/* Connections live for the job: no resumption, no tickets. */
	SSL_CTX_set_num_tickets(tls_ctx, 0);
	SSL_CTX_set_default_passwd_cb(tls_ctx, tls_no_passphrase);

	if (SSL_CTX_use_certificate_chain_file(tls_ctx, cf->tls_cert) != 1) {
		snprintf(err, errlen, "--tls-cert %s: not a PEM certificate "
		    "(%s)", cf->tls_cert, tls_reason(why, sizeof why, "?"));
		goto fail;
	}
	cert = SSL_CTX_get0_certificate(tls_ctx);
	if (cert != NULL &&
	    X509_cmp_current_time(X509_get0_notAfter(cert)) < 0) {
		snprintf(err, errlen, "--tls-cert %s has expired: peers would "
		    "refuse it; give this node a new certificate",
		    cf->tls_cert);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(tls_ctx, cf->tls_key,
	    SSL_FILETYPE_PEM) != 1) {
		/* OpenSSL compares key and certificate as it loads the key. */
		e = ERR_peek_error();
		if (ERR_GET_LIB(e) == ERR_LIB_X509 &&
		    ERR_GET_REASON(e) == X509_R_KEY_VALUES_MISMATCH)
			goto mismatch;
		snprintf(err, errlen, "--tls-key %s: not a PEM private key, or "
		    "one protected by a passphrase, which asocd cannot ask for "
		    "(%s)", cf->tls_key, tls_reason(why, sizeof why, "?"));
		goto fail;
	}
	if (SSL_CTX_check_private_key(tls_ctx) != 1) {
mismatch:
		ERR_clear_error();
		snprintf(err, errlen, "--tls-key %s does not match the "
		    "certificate in --tls-cert %s: give the key the "
		    "certificate was made for", cf->tls_key, cf->tls_cert);
		goto fail;
	}
	if (cf->tls_ca != NULL &&
	    SSL_CTX_load_verify_locations(tls_ctx, cf->tls_ca, NULL) != 1) {
		snprintf(err, errlen, "--tls-ca %s: no PEM CA certificate in "
		    "it (%s)", cf->tls_ca, tls_reason(why, sizeof why, "?"));
		goto fail;
	}
	tls_verify = cf->tls_verify_peer != 0;
	if (tls_verify)
		SSL_CTX_set_verify(tls_ctx, SSL_VERIFY_PEER |
		    SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	else
		SSL_CTX_set_verify(tls_ctx, SSL_VERIFY_PEER, tls_accept_any);
	return 0;
fail:
	SSL_CTX_free(tls_ctx);
	tls_ctx = NULL;
	return -1;
}

void
tls_free(void)
{
	SSL_CTX_free(tls_ctx);
	tls_ctx = NULL;
}

int
tls_enabled(void)
{
	return tls_ctx != NULL;
}

struct tls_conn *
tls_conn_new(int fd, const char *host, char *err, size_t errlen)
{
	struct in6_addr a6;
	struct in_addr a4;
	struct tls_conn *t;
	char why[200];
	int ip;

	if ((t = calloc(1, sizeof *t)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if ((t->ssl = SSL_new(tls_ctx)) == NULL || SSL_set_fd(t->ssl, fd) != 1)
		goto fail;
	t->server = host == NULL;
	if (t->server) {
		SSL_set_accept_state(t->ssl);
		return t;
	}
	SSL_set_connect_state(t->ssl);
	ip = inet_pton(AF_INET, host, &a4) == 1 ||
	    inet_pton(AF_INET6, host, &a6) == 1;
	/* A name gets SNI and a DNS name check; an address an IP check
	 * (X509_check_host, X509_check_ip_asc during verification). */
	if (!ip && SSL_set_tlsext_host_name(t->ssl, host) != 1)
		goto fail;
	if (tls_verify && (ip ?
	    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(t->ssl), host) :
	    SSL_set1_host(t->ssl, host)) != 1)
		goto fail;
	/* "*.cluster" matches "n1.cluster", never "n*.cluster". */
	SSL_set_hostflags(t->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	return t;
fail:
	snprintf(err, errlen, "cannot set up TLS for %s: %s",
	    host != NULL ? host : "an accepted connection",
	    tls_reason(why, sizeof why, "out of memory"));
	SSL_free(t->ssl);
	free(t);
	return NULL;
}

void
tls_conn_free(struct tls_conn *t)
{
	if (t == NULL)
		return;
	/* One non-blocking try at close_notify; the peer learns of the end
	 * from the TCP close anyway. */
	if (!t->broken && SSL_is_init_finished(t->ssl))
		(void)SSL_shutdown(t->ssl);
	ERR_clear_error();
	SSL_free(t->ssl);
	free(t);
}

/* ret came back from an SSL call: 0 and want_write set for "again on the
 * next event", -1 with errno and t->err for a failure. */
static int
tls_conn_result(struct tls_conn *t, int ret, int handshake)
{
	int e = SSL_get_error(t->ssl, ret), saved = errno;
	const char *reason;
	char why[200];
	long vr;

	switch (e) {
	case SSL_ERROR_WANT_READ:
		t->want_write = 0;
		errno = EAGAIN;
		return 0;
	case SSL_ERROR_WANT_WRITE:
		t->want_write = 1;
		errno = EAGAIN;
		return 0;
	case SSL_ERROR_ZERO_RETURN:
		snprintf(t->err, sizeof t->err, "the peer closed the TLS "
		    "session%s", handshake ? " during the handshake" : "");
		errno = EPIPE;
		break;
	case SSL_ERROR_SYSCALL:
		if (ERR_peek_error() != 0)
			goto ssl;
		snprintf(t->err, sizeof t->err, "%s%s",
		    saved != 0 ? strerror(saved) : "connection closed by the "
		    "peer", handshake ? " during the TLS handshake (does the "
		    "peer run without TLS?)" : "");
		snprintf(t->brief, sizeof t->brief, "%s%s",
		    saved != 0 ? strerror(saved) : "closed by the peer",
		    handshake ? ": does the peer run without TLS?" : "");
		errno = saved != 0 ? saved : EPIPE;
		t->broken = 1;
		ERR_clear_error();
		return -1;
	default:
	ssl:
		reason = ERR_reason_error_string(ERR_peek_error());
		tls_reason(why, sizeof why, "unknown TLS error");
		vr = SSL_get_verify_result(t->ssl);
		if (tls_verify && vr != X509_V_OK) {
			snprintf(t->err, sizeof t->err, "%s: the peer's "
			    "certificate: %s", why,
			    X509_verify_cert_error_string(vr));
			snprintf(t->brief, sizeof t->brief, "%s",
			    X509_verify_cert_error_string(vr));
		} else {
			snprintf(t->err, sizeof t->err, "%s", why);
			snprintf(t->brief, sizeof t->brief, "%s",
			    reason != NULL ? reason : why);
		}
		errno = EPROTO;
		t->broken = 1;
		ERR_clear_error();
		return -1;
	}
	snprintf(t->brief, sizeof t->brief, "%s", t->err);
	t->broken = 1;
	ERR_clear_error();
	return -1;
}

int
tls_conn_handshake(struct tls_conn *t)
{
	int r;

	ERR_clear_error();
	if ((r = SSL_do_handshake(t->ssl)) == 1)
		return 1;
	return tls_conn_result(t, r, 1);
}

int
tls_conn_wants_write(const struct tls_conn *t)
{
	return t->want_write;
}

const char *
tls_conn_error(const struct tls_conn *t)
{
	return t->err[0] != '\0' ? t->err : "no TLS error";
}

const char *
tls_conn_brief(const struct tls_conn *t)
{
	return t->brief[0] != '\0' ? t->brief : "no TLS error";
}

void
tls_conn_describe(const struct tls_conn *t, char *buf, size_t len)
{
	X509 *peer = SSL_get0_peer_certificate(t->ssl);
	char subject[160] = "none";

	if (peer != NULL)
		X509_NAME_oneline(X509_get_subject_name(peer), subject,
		    sizeof subject);
	snprintf(buf, len, "%s %s, peer certificate %s (%s)",
	    SSL_get_version(t->ssl), SSL_get_cipher_name(t->ssl), subject,
	    tls_verify ? "verified" : "not verified: --tls-verify-peer no");
}

ssize_t
tls_conn_read(struct tls_conn *t, void *buf, size_t len)
{
	int n;

	ERR_clear_error();
	n = SSL_read(t->ssl, buf, len > INT_MAX ? INT_MAX : (int)len);
	if (n > 0)
		return n;
	if (SSL_get_error(t->ssl, n) == SSL_ERROR_ZERO_RETURN)
		return 0;		/* close_notify, or a plain close */
	tls_conn_result(t, n, 0);
	return -1;
}

int
tls_conn_pending(const struct tls_conn *t)
{
	/* Read-ahead: whole records may wait undecrypted, which
	 * SSL_pending does not count. */
	return SSL_has_pending(t->ssl);
}

int
tls_conn_write(struct tls_conn *t, struct evbuffer *out)
{
	struct evbuffer_iovec v[4];
	int nv, i, n, total = 0;
	size_t len;

	for (;;) {
		/* Empty chains (0-byte payloads) may come first: write from
		 * the first chunk with bytes in it.  After WANT_WRITE this is
		 * the same chunk again, only ever longer, as SSL_write's
		 * retry rule wants. */
		nv = evbuffer_peek(out, -1, NULL, v, 4);
		for (i = 0; i < nv && i < 4 && v[i].iov_len == 0; i++)
			;
		if (i == nv || i == 4)
			return total;
		len = v[i].iov_len > INT_MAX ? INT_MAX : v[i].iov_len;
		ERR_clear_error();
		n = SSL_write(t->ssl, v[i].iov_base, (int)len);
		if (n > 0) {
			evbuffer_drain(out, (size_t)n);
			total += n;
			continue;
		}
		if (tls_conn_result(t, n, 0) == 0 && total > 0)
			return total;
		return -1;
	}
}
