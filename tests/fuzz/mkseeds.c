/*
 * mkseeds.c: writes the seed corpora of tests/fuzz/corpus/ (committed; run
 * again only when the wire changes, see README.md):
 *
 *   cc -Iproto -o /tmp/mkseeds tests/fuzz/mkseeds.c proto/proto.c \
 *       proto/proto_disc.c && /tmp/mkseeds tests/fuzz/corpus
 *
 * Seeds are valid inputs, one of every message type and a few streams, so
 * the fuzzer starts from the accepting paths instead of guessing magic.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "proto.h"
#include "proto_disc.h"

static const char *seeds_top;

static void
seeds_write(const char *target, const char *name, const void *p, size_t n)
{
	char path[4096];
	FILE *fp;

	snprintf(path, sizeof path, "%s/%s", seeds_top, target);
	if (mkdir(path, 0755) < 0 && errno != EEXIST) {
		perror(path);
		exit(1);
	}
	snprintf(path, sizeof path, "%s/%s/%s", seeds_top, target, name);
	if ((fp = fopen(path, "wb")) == NULL || fwrite(p, 1, n, fp) != n ||
	    fclose(fp) != 0) {
		perror(path);
		exit(1);
	}
}

/* A stream being built: messages appended one after the other. */
struct seeds_stream {
	uint8_t buf[8192];
	size_t len;
};

static size_t
seeds_msg(const char *target, const char *name, struct proto_msg *m,
    struct seeds_stream *s)
{
	uint8_t out[PROTO_MAX_FIXED + 256];
	size_t n;

	n = proto_encode(m, out, sizeof out);
	if (n == 0) {
		fprintf(stderr, "mkseeds: cannot encode %s\n", name);
		exit(1);
	}
	if (m->hdr.type == PT_DATA) {
		memcpy(out + n, m->payload, m->payload_len);
		n += m->payload_len;
	}
	if (target != NULL)
		seeds_write(target, name, out, n);
	if (s != NULL) {
		memcpy(s->buf + s->len, out, n);
		s->len += n;
	}
	return n;
}

static void
seeds_local(void)
{
	struct seeds_stream in = { .len = 0 }, out = { .len = 0 };
	struct proto_msg m;

	memset(&m, 0, sizeof m);
	m.hdr.type = PT_L_HELLO;
	m.hdr.id = 1;
	m.u.l_hello.version = PROTO_VERSION;
	m.u.l_hello.pid = 4242;
	seeds_msg("local", "l_hello", &m, &in);

	memset(&m, 0, sizeof m);
	m.hdr.type = PT_L_REG;
	m.hdr.id = 2;
	m.u.l_reg.size = 1 << 20;
	seeds_msg("local", "l_reg", &m, &in);

	memset(&m, 0, sizeof m);
	m.hdr.type = PT_L_SEND;
	m.hdr.id = 3;
	m.u.l_xfer = (struct proto_l_xfer){ .buf_id = 1, .offset = 4096,
	    .len = 65536, .tag = 42, .peer = 1, .timeout_ms = 5000 };
	seeds_msg("local", "l_send", &m, &in);

	m.hdr.type = PT_L_RECV;
	m.hdr.id = 4;
	m.u.l_xfer.peer = PROTO_RANK_ANY;
	m.u.l_xfer.timeout_ms = 0;
	seeds_msg("local", "l_recv_any", &m, &in);

	m.hdr.id = 6;
	m.u.l_xfer.peer = 1;
	m.u.l_xfer.flags = PROTO_XF_PEEK;
	seeds_msg("local", "l_recv_peek", &m, &in);

	memset(&m, 0, sizeof m);
	m.hdr.type = PT_L_CANCEL;
	m.hdr.id = 5;
	m.u.l_cancel.req_id = 4;
	seeds_msg("local", "l_cancel", &m, &in);

	memset(&m, 0, sizeof m);
	m.hdr.type = PT_S_QUERY;
	m.hdr.id = 6;
	seeds_msg("local", "s_query", &m, &in);

	memset(&m, 0, sizeof m);
	m.hdr.type = PT_L_FREE;
	m.hdr.id = 7;
	m.u.l_free.buf_id = 1;
	seeds_msg("local", "l_free", &m, &in);
	seeds_write("local", "stream_in", in.buf, in.len);

	memset(&m, 0, sizeof m);
	m.hdr.type = PT_L_WELCOME;
	m.hdr.id = 1;
	m.u.l_welcome = (struct proto_l_welcome){ .version = PROTO_VERSION,
	    .rank = 1, .world = 4, .daemon_pid = 100, .chunk_size = 4 << 20 };
	seeds_msg("local", "l_welcome", &m, &out);

	memset(&m, 0, sizeof m);
	m.hdr.type = PT_L_DONE;
	m.hdr.id = 2;
	m.u.l_done.len = 1;
	seeds_msg("local", "l_done_ok", &m, &out);

	memset(&m, 0, sizeof m);
	m.hdr.type = PT_L_DONE;
	m.hdr.id = 3;
	m.u.l_done.status = PS_EPEERLOST;
	m.u.l_done.peer = 2;
	m.u.l_done.tag = 42;
	proto_set_name(m.u.l_done.msg, sizeof m.u.l_done.msg,
	    "peer 2 (10.0.0.3:9000) lost: connection reset");
	seeds_msg("local", "l_done_err", &m, &out);

	memset(&m, 0, sizeof m);
	m.hdr.type = PT_S_NODE;
	m.hdr.id = 6;
	m.u.s_node = (struct proto_s_node){ .rank = 0, .world = 2,
	    .clients = 1, .peers_connected = 1, .bytes_sent = 1 << 30,
	    .buffers = 2, .buffer_bytes = 2 << 20 };
	proto_set_name(m.u.s_node.transport, sizeof m.u.s_node.transport,
	    "auto");
	seeds_msg("local", "s_node", &m, &out);

	memset(&m, 0, sizeof m);
	m.hdr.type = PT_S_PEER;
	m.hdr.id = 6;
	m.u.s_peer = (struct proto_s_peer){ .rank = 1, .port = 9000,
	    .state = PROTO_PEER_UP, .bytes_received = 12345 };
	proto_set_name(m.u.s_peer.host, sizeof m.u.s_peer.host, "node002");
	proto_set_name(m.u.s_peer.transport, sizeof m.u.s_peer.transport,
	    "rdma");
	seeds_msg("local", "s_peer", &m, &out);

	memset(&m, 0, sizeof m);
	m.hdr.type = PT_S_END;
	m.hdr.id = 6;
	seeds_msg("local", "s_end", &m, &out);
	seeds_write("local", "stream_out", out.buf, out.len);
}

static void
seeds_peer(void)
{
	static const uint8_t payload[100] = { 0xde, 0xad, 0xbe, 0xef };
	struct seeds_stream s = { .len = 0 };
	struct proto_msg m;

	memset(&m, 0, sizeof m);
	m.hdr.type = PT_HELLO;
	m.u.hello = (struct proto_hello){ .version = PROTO_VERSION,
	    .rank = 0, .world = 4 };
	proto_set_name(m.u.hello.community, sizeof m.u.hello.community,
	    "job-1234");
	memset(m.u.hello.nonce, 0x11, sizeof m.u.hello.nonce);
	seeds_msg("peer", "hello", &m, &s);

	memset(&m, 0, sizeof m);
	m.hdr.type = PT_CHALLENGE;
	m.u.challenge = (struct proto_challenge){ .rank = 3, .world = 4,
	    .flags = PROTO_HS_F_MUNGE };
	memset(m.u.challenge.nonce, 0x22, sizeof m.u.challenge.nonce);
	memset(m.u.challenge.mac, 0x33, sizeof m.u.challenge.mac);
	seeds_msg("peer", "challenge", &m, &s);

	memset(&m, 0, sizeof m);
	m.hdr.type = PT_AUTH;
	memset(m.u.auth.mac, 0x44, sizeof m.u.auth.mac);
	seeds_msg("peer", "auth", &m, &s);

	memset(&m, 0, sizeof m);
	m.hdr.type = PT_WELCOME;
	m.u.welcome = (struct proto_welcome){ .version = PROTO_VERSION,
	    .rank = 3, .world = 4, .flags = PROTO_HS_F_MUNGE };
	proto_set_name(m.u.welcome.cred, sizeof m.u.welcome.cred,
	    "MUNGE:AwQFAAAbcdefghijklmnop:");
	seeds_msg("peer", "welcome", &m, NULL);

	memset(&m, 0, sizeof m);
	m.hdr.type = PT_REFUSE;
	m.u.refuse.status = PS_EPERM;
	m.u.refuse.version = PROTO_VERSION;
	proto_set_name(m.u.refuse.msg, sizeof m.u.refuse.msg,
	    "community mismatch: 'job-1' is not 'job-2'");
	seeds_msg("peer", "refuse", &m, NULL);

	memset(&m, 0, sizeof m);
	m.hdr.type = PT_RTS;
	m.hdr.id = 77;
	m.u.rts = (struct proto_rts){ .tag = 42, .len = 101, .src_rank = 0 };
	seeds_msg("peer", "rts", &m, &s);

	memset(&m, 0, sizeof m);
	m.hdr.type = PT_CTS;
	m.hdr.id = 77;
	m.u.cts = (struct proto_cts){ .recv_id = 9, .addr = 0x7f0000001000,
	    .len = 101, .rkey = 0x1234 };
	seeds_msg("peer", "cts", &m, &s);

	memset(&m, 0, sizeof m);
	m.hdr.type = PT_DATA;
	m.hdr.id = 9;
	m.u.data.offset = 0;
	m.payload = payload;
	m.payload_len = 1;
	seeds_msg("peer", "data_1", &m, &s);
	m.u.data.offset = 1;
	m.payload_len = sizeof payload;
	seeds_msg("peer", "data_100", &m, &s);

	memset(&m, 0, sizeof m);
	m.hdr.type = PT_WDONE;
	m.hdr.id = 77;
	m.u.wdone.len = 101;
	seeds_msg("peer", "wdone", &m, NULL);

	memset(&m, 0, sizeof m);
	m.hdr.type = PT_ACK;
	m.hdr.id = 77;
	m.u.ack.len = 101;
	seeds_msg("peer", "ack", &m, &s);

	memset(&m, 0, sizeof m);
	m.hdr.type = PT_ABORT;
	m.hdr.id = 77;
	m.u.abort = (struct proto_abort){ .status = PS_ECANCELLED,
	    .to_sender = 1 };
	seeds_msg("peer", "abort", &m, &s);
	seeds_write("peer", "stream", s.buf, s.len);
}

static void
seeds_disc(void)
{
	struct proto_disc d;
	uint8_t out[DISC_LEN];
	int i;

	memset(&d, 0, sizeof d);
	d = (struct proto_disc){ .version = DISC_VERSION, .port = 9000,
	    .addr = 0x0a000001, .world = 4, .nonce = 0x0123456789abcdefull,
	    .time_ms = 1764576000000ull };
	proto_set_name(d.community, sizeof d.community, "default");
	for (i = 0; i < DISC_MAC_LEN; i++)
		d.mac[i] = (uint8_t)(i * 37);
	proto_disc_encode(&d, out);
	seeds_write("disc", "announce", out, sizeof out);

	memset(d.community, 'c', sizeof d.community - 1);
	d.world = PROTO_RANK_MAX - 1;
	proto_disc_encode(&d, out);
	seeds_write("disc", "long_community", out, sizeof out);
}

static void
seeds_text(const char *target, const char *name, const char *text)
{
	seeds_write(target, name, text, strlen(text));
}

static void
seeds_hostlist(void)
{
	seeds_text("hostlist", "plain", "host1,host2:9001,10.0.0.3");
	seeds_text("hostlist", "range", "node[001-004,007]");
	seeds_text("hostlist", "groups", "rack[1-2]-gpu[01-02]:9100");
	seeds_text("hostlist", "mixed",
	    " a.example.org , node[9-11]:9002,b_c[0-0]x ");
	seeds_text("hostlist", "ports", "127.0.0.1:20001,127.0.0.1:65535");
	seeds_text("hostlist", "wide", "n[0000000001-0000000003]");
}

static void
seeds_conf(void)
{
	char text[5000];

	seeds_text("conf", "full",
	    "# asocd.conf(5)\n"
	    "peers = node[001-004]\n"
	    "rank = 2\n"
	    "port = 9000\n"
	    "interface = ib0\n"
	    "listen = 10.0.0.3\n"
	    "socket = /run/asoc/1234/asocd.sock\n"
	    "community = job-1234\n"
	    "connection-timeout = 30\n"
	    "chunk-size = 4MiB\n"
	    "transport = rdma\n"
	    "log-level = debug\n"
	    "log-file = /var/log/asocd.log\n"
	    "syslog = no\n"
	    "pidfile = /run/asoc/1234/asocd.pid\n"
	    "foreground = yes\n"
	    "key-file = /run/asoc/1234/key\n");
	seeds_text("conf", "discovery",
	    "discovery = on\n"
	    "discovery-port = 9099\n"
	    "discovery-addr = 10.0.0.255\n"
	    "world = 8\n"
	    "  key-file=/etc/asoc/key  \n"
	    "\n"
	    "chunk-size = 64K\n");
	seeds_text("conf", "peers", "peers = host1:9001, host2:9002,"
	    "rack[1-2]-gpu[01-02]\r\nport=9100\n");
	seeds_text("conf", "empty", "");

	/* Longer than conf.c's 4096-byte line, and than libFuzzer's default
	 * -max_len, which a seed this size raises so the branch is reached. */
	memset(text, 'x', sizeof text);
	memcpy(text, "# ", 2);
	memcpy(text + sizeof text - 16, "\nport = 9001\n", 14);
	text[sizeof text - 2] = '\0';
	seeds_text("conf", "long_line", text);
}

/* fuzz-handshake: 0 and a stream to an acceptor, 1 and a stream to a
 * connector, in fuzz-handshake.c's world (3 ranks of "job-7", the
 * connector rank 0, the acceptor rank 1). */
static void
seeds_handshake(void)
{
	struct seeds_stream s;
	struct proto_msg m;

	s.buf[0] = 0;
	s.len = 1;
	memset(&m, 0, sizeof m);
	m.hdr.type = PT_HELLO;
	m.u.hello = (struct proto_hello){ .version = PROTO_VERSION,
	    .rank = 2, .world = 3 };
	proto_set_name(m.u.hello.community, sizeof m.u.hello.community,
	    "job-7");
	memset(m.u.hello.nonce, 0x11, sizeof m.u.hello.nonce);
	seeds_msg(NULL, "hello", &m, &s);
	memset(&m, 0, sizeof m);
	m.hdr.type = PT_AUTH;
	memset(m.u.auth.mac, 0x44, sizeof m.u.auth.mac);
	seeds_msg(NULL, "auth", &m, &s);
	seeds_write("handshake", "acceptor_hello_auth", s.buf, s.len);

	s.buf[0] = 1;
	s.len = 1;
	memset(&m, 0, sizeof m);
	m.hdr.type = PT_CHALLENGE;
	m.u.challenge = (struct proto_challenge){ .rank = 1, .world = 3 };
	memset(m.u.challenge.nonce, 0x22, sizeof m.u.challenge.nonce);
	memset(m.u.challenge.mac, 0x33, sizeof m.u.challenge.mac);
	seeds_msg(NULL, "challenge", &m, &s);
	memset(&m, 0, sizeof m);
	m.hdr.type = PT_WELCOME;
	m.u.welcome = (struct proto_welcome){ .version = PROTO_VERSION,
	    .rank = 1, .world = 3 };
	seeds_msg(NULL, "welcome", &m, &s);
	seeds_write("handshake", "connector_challenge_welcome", s.buf, s.len);

	/* The same with MUNGE (first byte 3 and 4: see fuzz-handshake.c). */
	s.buf[0] = 3;
	s.len = 1;
	memset(&m, 0, sizeof m);
	m.hdr.type = PT_HELLO;
	m.u.hello = (struct proto_hello){ .version = PROTO_VERSION,
	    .rank = 2, .world = 3, .flags = PROTO_HS_F_MUNGE };
	proto_set_name(m.u.hello.community, sizeof m.u.hello.community,
	    "job-7");
	memset(m.u.hello.nonce, 0x11, sizeof m.u.hello.nonce);
	seeds_msg(NULL, "hello", &m, &s);
	memset(&m, 0, sizeof m);
	m.hdr.type = PT_AUTH;
	m.u.auth.flags = PROTO_HS_F_MUNGE;
	memset(m.u.auth.mac, 0x44, sizeof m.u.auth.mac);
	proto_set_name(m.u.auth.cred, sizeof m.u.auth.cred, "MUNGE:00");
	seeds_msg(NULL, "auth", &m, &s);
	seeds_write("handshake", "acceptor_hello_auth_munge", s.buf, s.len);

	s.buf[0] = 4;
	s.len = 1;
	memset(&m, 0, sizeof m);
	m.hdr.type = PT_CHALLENGE;
	m.u.challenge = (struct proto_challenge){ .rank = 1, .world = 3,
	    .flags = PROTO_HS_F_MUNGE };
	memset(m.u.challenge.nonce, 0x22, sizeof m.u.challenge.nonce);
	memset(m.u.challenge.mac, 0x33, sizeof m.u.challenge.mac);
	seeds_msg(NULL, "challenge", &m, &s);
	memset(&m, 0, sizeof m);
	m.hdr.type = PT_WELCOME;
	m.u.welcome = (struct proto_welcome){ .version = PROTO_VERSION,
	    .rank = 1, .world = 3, .flags = PROTO_HS_F_MUNGE };
	proto_set_name(m.u.welcome.cred, sizeof m.u.welcome.cred, "MUNGE:00");
	seeds_msg(NULL, "welcome", &m, &s);
	seeds_write("handshake", "connector_challenge_welcome_munge", s.buf,
	    s.len);
	/* A genuine MUNGE handshake with WELCOME's credential rewritten. */
	memset(s.buf, 0, 64);
	s.buf[0] = 5;
	s.buf[1] = 3;
	s.buf[2 + PROTO_HDR_LEN + 20] = 0x01;
	seeds_write("handshake", "tamper_welcome_cred_munge", s.buf,
	    2 + PROTO_HDR_LEN + 21);
}

int
main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: mkseeds CORPUS_DIR\n");
		return 2;
	}
	seeds_top = argv[1];
	if (mkdir(seeds_top, 0755) < 0 && errno != EEXIST) {
		perror(seeds_top);
		return 1;
	}
	seeds_local();
	seeds_peer();
	seeds_disc();
	seeds_hostlist();
	seeds_conf();
	seeds_handshake();
	return 0;
}
