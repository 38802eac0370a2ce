/*
 * mkseeds.c: writes the seed corpora of tests/fuzz/corpus/ (committed; run
 * again only when the wire changes, see README.md):
 *
 *   cc -Iproto -Itests -o /tmp/mkseeds tests/fuzz/mkseeds.c \
 *       tests/proto-fill.c proto/proto.c proto/proto_disc.c &&
 *       /tmp/mkseeds tests/fuzz/corpus
 *
 * Seeds are valid inputs, one of every message type (filled by proto.c's
 * field tables) and a few streams, so the fuzzer starts from the
 * accepting paths instead of guessing magic.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "proto-fill.h"
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
	if (m->payload_len > 0) {	/* DATA, eager RTS */
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

/* Which channel carries a type: the one whose decoder takes its header. */
static enum proto_channel
seeds_channel(struct proto_msg *m)
{
	static const enum proto_channel chs[] = { PROTO_CH_PEER,
	    PROTO_CH_LOCAL_IN, PROTO_CH_LOCAL_OUT };
	uint8_t out[PROTO_MAX_FIXED + PROTO_HDR_LEN];
	struct proto_hdr h;
	size_t i;

	if (proto_encode(m, out, sizeof out) == 0)
		return PROTO_CH_PEER;
	for (i = 0; i < sizeof chs / sizeof chs[0]; i++)
		if (proto_decode_hdr(out, PROTO_HDR_LEN, chs[i], &h) == PROTO_OK)
			return chs[i];
	fprintf(stderr, "mkseeds: no channel takes %s\n",
	    proto_type_name(m->hdr.type));
	exit(1);
}

/* One seed of every message type the decoder knows, filled by proto.c's
 * field tables (tests/proto-fill.c), so a new type or field needs no line
 * here: in corpus/peer or corpus/local by its channel, named after it in
 * lower case, and appended to its channel's stream.  Then a few messages
 * the fill does not make: a receive from one named peer, a success with
 * no message, a larger DATA frame, a plain RTS of process ranks and one
 * of node ranks (the fill's is eager), a larger eager one, and node-rank
 * and status-only L_HELLOs. */
static void
seeds_types(void)
{
	static const uint8_t payload[100] = { 0xde, 0xad, 0xbe, 0xef };
	struct seeds_stream st[3] = { { .len = 0 } };
	struct proto_msg m;
	char name[32];
	unsigned type;
	size_t i;
	enum proto_channel ch;

	for (type = 0; type <= 0xffff; type++) {
		if (proto_encoded_len((uint16_t)type) == 0)
			continue;
		pfill_msg(&m, (uint16_t)type);
		ch = seeds_channel(&m);
		snprintf(name, sizeof name, "%s", proto_type_name(m.hdr.type));
		for (i = 0; name[i] != '\0'; i++)
			name[i] = (char)tolower((unsigned char)name[i]);
		seeds_msg(ch == PROTO_CH_PEER ? "peer" : "local", name, &m,
		    &st[ch]);
	}
	seeds_write("peer", "stream", st[PROTO_CH_PEER].buf,
	    st[PROTO_CH_PEER].len);
	seeds_write("local", "stream_in", st[PROTO_CH_LOCAL_IN].buf,
	    st[PROTO_CH_LOCAL_IN].len);
	seeds_write("local", "stream_out", st[PROTO_CH_LOCAL_OUT].buf,
	    st[PROTO_CH_LOCAL_OUT].len);

	pfill_msg(&m, PT_L_RECV);
	m.u.l_xfer.peer = 1;
	m.u.l_xfer.flags = 0;
	seeds_msg("local", "l_recv_peer", &m, NULL);
	pfill_msg(&m, PT_L_DONE);
	m.u.l_done.status = PS_OK;
	m.u.l_done.msg[0] = '\0';
	seeds_msg("local", "l_done_ok", &m, NULL);
	pfill_msg(&m, PT_DATA);
	m.u.data.offset = 1;
	m.payload = payload;
	m.payload_len = sizeof payload;
	seeds_msg("peer", "data_100", &m, NULL);
	pfill_msg(&m, PT_RTS);
	m.u.rts.flags = PROTO_RTS_F_PROC;
	m.u.rts.len = 1u << 20;
	m.payload = NULL;
	m.payload_len = 0;
	seeds_msg("peer", "rts_proc_plain", &m, NULL);
	m.u.rts.flags = 0;	/* node ranks: no world */
	m.u.rts.src_rank = 1;
	m.u.rts.dst_rank = 0;
	m.u.rts.world = 0;
	seeds_msg("peer", "rts_plain", &m, NULL);
	m.u.rts.flags = PROTO_RTS_F_EAGER;
	m.u.rts.len = sizeof payload;
	m.payload = payload;
	m.payload_len = sizeof payload;
	seeds_msg("peer", "rts_eager_100", &m, NULL);
	/* v5: a node-rank and a status-only session (the fill's claims a
	 * process rank) */
	pfill_msg(&m, PT_L_HELLO);
	m.u.l_hello.flags = 0;
	m.u.l_hello.rank = 0;
	m.u.l_hello.world = 0;
	seeds_msg("local", "l_hello_node", &m, NULL);
	m.u.l_hello.flags = PROTO_LH_F_STATUS;
	seeds_msg("local", "l_hello_status", &m, NULL);
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

/* A handshake message in fuzz-handshake.c's world (3 ranks of "job-7"),
 * appended to s: with munge, the MUNGE flag and a credential where the
 * message carries one. */
static void
seeds_hs_msg(struct seeds_stream *s, uint16_t type, uint32_t rank, int munge)
{
	uint32_t flags = munge ? PROTO_HS_F_MUNGE : 0;
	struct proto_msg m;

	memset(&m, 0, sizeof m);
	m.hdr.type = type;
	switch (type) {
	case PT_HELLO:
		m.u.hello = (struct proto_hello){ .version = PROTO_VERSION,
		    .rank = rank, .world = 3, .flags = flags, .conns = 1 };
		proto_set_name(m.u.hello.community,
		    sizeof m.u.hello.community, "job-7");
		memset(m.u.hello.nonce, 0x11, sizeof m.u.hello.nonce);
		break;
	case PT_CHALLENGE:
		m.u.challenge = (struct proto_challenge){ .rank = rank,
		    .world = 3, .flags = flags };
		memset(m.u.challenge.nonce, 0x22, sizeof m.u.challenge.nonce);
		memset(m.u.challenge.mac, 0x33, sizeof m.u.challenge.mac);
		break;
	case PT_AUTH:
		m.u.auth.flags = flags;
		memset(m.u.auth.mac, 0x44, sizeof m.u.auth.mac);
		proto_set_name(m.u.auth.cred, sizeof m.u.auth.cred,
		    munge ? "MUNGE:00" : "");
		break;
	default:	/* PT_WELCOME */
		m.u.welcome = (struct proto_welcome){ .version = PROTO_VERSION,
		    .rank = rank, .world = 3, .flags = flags };
		proto_set_name(m.u.welcome.cred, sizeof m.u.welcome.cred,
		    munge ? "MUNGE:00" : "");
		break;
	}
	seeds_msg(NULL, proto_type_name(type), &m, s);
}

/* fuzz-handshake: 0 and a stream to an acceptor, 1 and a stream to a
 * connector, in fuzz-handshake.c's world (the connector rank 0, the
 * acceptor rank 1); 3 and 4 the same with MUNGE (see fuzz-handshake.c). */
static void
seeds_handshake(void)
{
	static const char *const names[2][2] = {
		{ "acceptor_hello_auth", "connector_challenge_welcome" },
		{ "acceptor_hello_auth_munge",
		    "connector_challenge_welcome_munge" },
	};
	struct seeds_stream s;
	int munge;

	for (munge = 0; munge < 2; munge++) {
		s.buf[0] = munge ? 3 : 0;
		s.len = 1;
		seeds_hs_msg(&s, PT_HELLO, 2, munge);
		seeds_hs_msg(&s, PT_AUTH, 0, munge);
		seeds_write("handshake", names[munge][0], s.buf, s.len);
		s.buf[0] = munge ? 4 : 1;
		s.len = 1;
		seeds_hs_msg(&s, PT_CHALLENGE, 1, munge);
		seeds_hs_msg(&s, PT_WELCOME, 1, munge);
		seeds_write("handshake", names[munge][1], s.buf, s.len);
	}
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
	seeds_types();
	seeds_disc();
	seeds_hostlist();
	seeds_conf();
	seeds_handshake();
	return 0;
}
