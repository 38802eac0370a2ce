/*
 * asoc-info: what asocd would do on this node, and why, in the spirit of
 * ibv_devinfo and ucx_info -d.  It reads asocd's own settings (the same
 * options, ASOC_* variables and --config file, through conf.c) and makes
 * asocd's own checks (rdma_probe.c, auth.c), so its answer is the
 * daemon's: the RDMA devices and ports, the address asocd would listen on
 * and the device librdmacm finds behind it, memory windows, the memlock
 * limit, MUNGE, and the transport.  Exit 0 when asocd would use what it
 * was asked for, 1 when it would fall back to TCP, 2 when it would not
 * start; the reason is one line on stderr.
 */
#include "config.h"

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "auth.h"
#include "cli.h"
#include "conf.h"
#include "hostlist.h"
#include "netaddr.h"
#ifdef HAVE_RDMA
#include "rdma_probe.h"
#endif

enum { EXIT_AS_ASKED = 0, EXIT_FALLBACK = 1, EXIT_NO_START = 2 };

/* --- output: one tree of facts, printed as text or as JSON --- */

static int json;
static int depth;	/* JSON nesting, for commas */
static int first[16];

static void
json_str(const char *s)
{
	putchar('"');
	for (; s != NULL && *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void
json_key(const char *key)
{
	if (!first[depth])
		putchar(',');
	first[depth] = 0;
	if (key != NULL) {
		json_str(key);
		putchar(':');
	}
}

static void
json_open(const char *key, char c)
{
	json_key(key);
	putchar(c);
	first[++depth] = 1;
}

static void
json_close(char c)
{
	depth--;
	putchar(c);
}

static void
json_s(const char *key, const char *v)
{
	json_key(key);
	if (v == NULL)
		fputs("null", stdout);
	else
		json_str(v);
}

static void
json_u(const char *key, unsigned long long v)
{
	json_key(key);
	printf("%llu", v);
}

static void
json_b(const char *key, int v)
{
	json_key(key);
	fputs(v ? "true" : "false", stdout);
}

/* --- what asocd would listen on --- */

struct listen_choice {
	char host[HOSTLIST_HOST_MAX];
	char why[256];
	int found;
};

/* main.c's choose_listen_host, before the daemon exists: --listen, else
 * the fabric interface's address, else this node's entry of --peers. */
static void
choose_listen(const struct conf *cf, struct listen_choice *lc)
{
	struct hostlist_entry *hl = NULL;
	char err[256];
	size_t n = 0, i;

	memset(lc, 0, sizeof *lc);
	if (cf->listen != NULL) {
		snprintf(lc->host, sizeof lc->host, "%s", cf->listen);
		snprintf(lc->why, sizeof lc->why, "--listen %s", cf->listen);
		lc->found = 1;
		return;
	}
	if (netaddr_interface(cf->interface, lc->host, sizeof lc->host) == 0) {
		snprintf(lc->why, sizeof lc->why, "interface %s has address %s "
		    "(--interface)", cf->interface, lc->host);
		lc->found = 1;
		return;
	}
	if (cf->peers != NULL && hostlist_expand(cf->peers,
	    (uint16_t)cf->port, &hl, &n, err, sizeof err) == 0) {
		for (i = 0; i < n; i++) {
			if (cf->rank >= 0 ? (size_t)cf->rank != i :
			    hl[i].port != cf->port ||
			    !netaddr_is_local(hl[i].host))
				continue;
			snprintf(lc->host, sizeof lc->host, "%s", hl[i].host);
			snprintf(lc->why, sizeof lc->why, "interface %s not "
			    "found; this node's entry in --peers (rank %zu)",
			    cf->interface, i);
			lc->found = 1;
			break;
		}
		free(hl);
		if (lc->found)
			return;
	}
	snprintf(lc->why, sizeof lc->why, "interface %s not found and no "
	    "entry of --peers is this node: set --interface or --listen",
	    cf->interface);
}

/* --- the RDMA devices, as ibv_devinfo lists them --- */

#ifdef HAVE_RDMA
static const char *
link_layer_name(uint8_t ll)
{
	switch (ll) {
	case IBV_LINK_LAYER_INFINIBAND:
		return "InfiniBand";
	case IBV_LINK_LAYER_ETHERNET:
		return "Ethernet";
	default:
		return "unspecified";
	}
}

static void
show_port(struct ibv_context *ctx, uint8_t p)
{
	struct ibv_port_attr pa;
	union ibv_gid gid;
	static const union ibv_gid zero;
	char addr[INET6_ADDRSTRLEN];
	int i;

	if (ibv_query_port(ctx, p, &pa) != 0) {
		if (json) {
			json_open(NULL, '{');
			json_u("port", p);
			json_s("error", strerror(errno));
			json_close('}');
		} else
			printf("    port %u: cannot query: %s\n", p,
			    strerror(errno));
		return;
	}
	if (json) {
		json_open(NULL, '{');
		json_u("port", p);
		json_s("state", ibv_port_state_str(pa.state));
		json_s("link_layer", link_layer_name(pa.link_layer));
		json_u("active_mtu", 128u << pa.active_mtu);
		json_open("gids", '[');
	} else
		printf("    port %u: %s, link layer %s, active MTU %u\n", p,
		    ibv_port_state_str(pa.state),
		    link_layer_name(pa.link_layer), 128u << pa.active_mtu);
	for (i = 0; i < pa.gid_tbl_len; i++) {
		if (ibv_query_gid(ctx, p, i, &gid) != 0 ||
		    memcmp(&gid, &zero, sizeof gid) == 0)
			continue;
		inet_ntop(AF_INET6, gid.raw, addr, sizeof addr);
		if (json) {
			json_open(NULL, '{');
			json_u("index", (unsigned)i);
			json_s("gid", addr);
			json_close('}');
		} else
			printf("      GID[%3d] %s\n", i, addr);
	}
	if (json) {
		json_close(']');
		json_close('}');
	}
}

/* One device: its GUID, firmware, vendor, memory windows and ports. */
static void
show_device(struct ibv_device *dev)
{
	struct ibv_device_attr da;
	struct ibv_context *ctx;
	char guid[32];
	uint64_t g = be64toh(ibv_get_device_guid(dev));
	uint8_t p;

	snprintf(guid, sizeof guid, "%04x:%04x:%04x:%04x",
	    (unsigned)(g >> 48) & 0xffff, (unsigned)(g >> 32) & 0xffff,
	    (unsigned)(g >> 16) & 0xffff, (unsigned)g & 0xffff);
	ctx = ibv_open_device(dev);
	if (ctx == NULL || ibv_query_device(ctx, &da) != 0) {
		if (json) {
			json_open(NULL, '{');
			json_s("name", ibv_get_device_name(dev));
			json_s("error", strerror(errno));
			json_close('}');
		} else
			printf("  %s: cannot open: %s\n",
			    ibv_get_device_name(dev), strerror(errno));
		if (ctx != NULL)
			ibv_close_device(ctx);
		return;
	}
	if (json) {
		json_open(NULL, '{');
		json_s("name", ibv_get_device_name(dev));
		json_s("node_guid", guid);
		json_s("fw_ver", da.fw_ver);
		json_u("vendor_id", da.vendor_id);
		json_u("max_mw", (unsigned)da.max_mw);
		json_b("mw_type2", probe_rdma_has_mw(&da));
		json_open("ports", '[');
	} else
		printf("  %s: node GUID %s, firmware %s, vendor 0x%x, %d memory "
		    "windows%s\n", ibv_get_device_name(dev), guid,
		    da.fw_ver[0] != '\0' ? da.fw_ver : "-", da.vendor_id,
		    da.max_mw, probe_rdma_has_mw(&da) ? " (type 2)" : "");
	for (p = 1; p <= da.phys_port_cnt; p++)
		show_port(ctx, p);
	if (json) {
		json_close(']');
		json_close('}');
	}
	ibv_close_device(ctx);
}

static void
show_devices(void)
{
	struct ibv_device **list;
	int n = 0, i;

	list = ibv_get_device_list(&n);
	if (json)
		json_open("devices", '[');
	else
		printf("RDMA devices: %d%s\n", list == NULL ? 0 : n,
		    list == NULL || n == 0 ? " (check 'ibv_devices', 'rdma "
		    "link' and that the driver module is loaded)" : "");
	for (i = 0; list != NULL && i < n; i++)
		show_device(list[i]);
	if (json)
		json_close(']');
	if (list != NULL)
		ibv_free_device_list(list);
}
#endif

/* --- the decision --- */

struct verdict {
	const char *transport;	/* "rdma", "tcp", or NULL: would not start */
	char reason[512];
	int status;
	/* the device behind the listen address */
	char device[64];
	unsigned port;
	int mw_supported, mw_used;
	char mw_why[256];
};

/* No RDMA: asocd falls back to TCP, or with --transport rdma does not
 * start; each case with its reason. */
static void
decide_without_rdma(const struct conf *cf, struct verdict *v,
    const char *no_start, const char *fallback)
{
	if (cf->transport == CONF_TRANSPORT_RDMA) {
		v->transport = NULL;
		snprintf(v->reason, sizeof v->reason, "--transport rdma: %s",
		    no_start);
		v->status = EXIT_NO_START;
		return;
	}
	v->transport = "tcp";
	snprintf(v->reason, sizeof v->reason, "%s", fallback);
	v->status = EXIT_FALLBACK;
}

#ifdef HAVE_RDMA
/* Binds the RDMA CM to the listen address, as asocd would: 0 when an
 * ACTIVE port is behind it; the device and its memory windows go into v
 * either way, the reason for a failure into err. */
static int
probe_listen(const struct conf *cf, const struct listen_choice *lc,
    struct verdict *v, char *err, size_t errlen)
{
	struct rdma_event_channel *cm;
	struct rdma_cm_id *id = NULL;
	struct rdma_probe pr;
	const char *why;
	int rc;

	if (!lc->found) {
		snprintf(err, errlen, "no address to listen on: %s", lc->why);
		return -1;
	}
	if ((cm = rdma_create_event_channel()) == NULL) {
		snprintf(err, errlen, "no RDMA: cannot open the RDMA CM (%s); "
		    "is rdma_ucm loaded?", strerror(errno));
		return -1;
	}
	/* Port 0: the device behind an address does not depend on the port,
	 * and a running asocd holds its own. */
	rc = probe_rdma_bind(cm, lc->host, 0, cf->interface, &id, &pr, err,
	    errlen);
	if (pr.name[0] != '\0') {
		snprintf(v->device, sizeof v->device, "%s", pr.name);
		v->port = pr.port_num;
		v->mw_supported = probe_rdma_has_mw(&pr.da);
		v->mw_used = probe_rdma_scope(&pr.da, cf->rdma_scope, &why);
		snprintf(v->mw_why, sizeof v->mw_why, "%s", why != NULL ? why :
		    v->mw_used ? "type-2 memory windows bound to each QP" :
		    "the device has no type-2 memory windows: per-transfer "
		    "regions");
	}
	if (id != NULL)
		rdma_destroy_id(id);
	rdma_destroy_event_channel(cm);
	return rc;
}
#endif

static void
decide_rdma(const struct conf *cf, const struct listen_choice *lc,
    struct verdict *v)
{
#ifdef HAVE_RDMA
	char err[384];

	if (probe_listen(cf, lc, v, err, sizeof err) == 0) {
		v->transport = "rdma";
		snprintf(v->reason, sizeof v->reason, "%s port %u is ACTIVE "
		    "behind %s", v->device, v->port, lc->host);
		return;
	}
	decide_without_rdma(cf, v, err, err);
#else
	(void)lc;
	decide_without_rdma(cf, v, "this asocd was built without rdma-core",
	    "built without rdma-core (rebuild with librdmacm-dev and "
	    "libibverbs-dev)");
#endif
}

/* --- the memlock limit, against what RDMA registrations need --- */

struct memlock {
	int			 unlimited, enough;
	unsigned long long	 limit_kib, need_kib;
	char			 hint[256];
};

static void
check_memlock(struct memlock *m)
{
	struct rlimit rl;

	memset(m, 0, sizeof *m);
	/* Root's registrations are not bound by RLIMIT_MEMLOCK. */
	m->unlimited = getrlimit(RLIMIT_MEMLOCK, &rl) < 0 ||
	    rl.rlim_cur == RLIM_INFINITY;
	if (!m->unlimited)
		m->limit_kib = (unsigned long long)rl.rlim_cur / 1024;
#ifdef HAVE_RDMA
	m->need_kib = RDMA_MEMLOCK_NEED / 1024;
	probe_memlock_hint(m->hint, sizeof m->hint);
#else
	m->need_kib = 0;
	snprintf(m->hint, sizeof m->hint, "no RDMA: nothing to register");
#endif
	m->enough = m->unlimited || geteuid() == 0 ||
	    m->limit_kib >= m->need_kib;
}

/* --- MUNGE, as asocd sets it up --- */

struct munge_state {
	int		 on;
	const char	*why;
	char		 err[512];
};

/* auth_init also reads --key-file, so a key asocd could not read stops it
 * here too. */
static void
check_auth(const struct conf *cf, struct munge_state *mu, struct verdict *v)
{
	memset(mu, 0, sizeof *mu);
	if (auth_init(cf, mu->err, sizeof mu->err) == 0) {
		mu->on = auth_munge_on();
		mu->why = auth_munge_off_reason();
		return;
	}
	mu->why = mu->err;
	v->transport = NULL;
	snprintf(v->reason, sizeof v->reason, "%s", mu->err);
	v->status = EXIT_NO_START;
}

/* --- the report --- */

static void
print_json(const struct listen_choice *lc, const struct verdict *v,
    const struct memlock *m, const struct munge_state *mu)
{
	first[0] = 1;
	json_open(NULL, '{');
	json_s("version", PACKAGE_VERSION);
#ifdef HAVE_RDMA
	show_devices();
#else
	json_open("devices", '[');
	json_close(']');
#endif
	json_open("listen", '{');
	json_s("address", lc->found ? lc->host : NULL);
	json_s("why", lc->why);
	json_close('}');
	json_open("device", '{');
	json_s("name", v->device[0] != '\0' ? v->device : NULL);
	json_u("port", v->port);
	json_s("resolved_by", "librdmacm (rdma_bind_addr on the listen "
	    "address)");
	json_close('}');
	json_open("memory_windows", '{');
	json_b("supported", v->mw_supported);
	json_b("used", v->mw_used);
	json_s("why", v->device[0] != '\0' ? v->mw_why : NULL);
	json_close('}');
	json_open("memlock", '{');
	json_b("unlimited", m->unlimited);
	json_key("limit_kib");
	if (m->unlimited)
		fputs("null", stdout);
	else
		printf("%llu", m->limit_kib);
	json_u("needed_kib", m->need_kib);
	json_b("root", geteuid() == 0);
	json_b("enough", m->enough);
	json_s("hint", m->hint);
	json_close('}');
	json_open("munge", '{');
	json_b("answers", mu->on);
	json_s("why", mu->why);
	json_close('}');
	json_s("transport", v->transport);
	json_s("reason", v->reason);
	json_u("exit_status", (unsigned)v->status);
	json_close('}');
	putchar('\n');
}

static void
print_text(const struct listen_choice *lc, const struct verdict *v,
    const struct memlock *m, const struct munge_state *mu)
{
	printf("asoc-info %s\n", PACKAGE_VERSION);
#ifdef HAVE_RDMA
	show_devices();
#else
	printf("RDMA devices: none (built without rdma-core)\n");
#endif
	printf("listen address: %s (%s)\n", lc->found ? lc->host : "none",
	    lc->why);
	if (v->device[0] != '\0')
		printf("device: %s port %u, behind %s (found by librdmacm)\n"
		    "memory windows: %s; asocd uses %s (%s)\n", v->device,
		    v->port, lc->host, v->mw_supported ? "type 2" : "none",
		    v->mw_used ? "windows" : "regions", v->mw_why);
	else
		printf("device: none behind the listen address\n");
	if (m->unlimited)
		printf("RLIMIT_MEMLOCK: unlimited (enough)\n");
	else if (geteuid() == 0)
		printf("RLIMIT_MEMLOCK: %llu KiB: enough, root's registrations "
		    "are not bound by it (another user needs %llu KiB)\n",
		    m->limit_kib, m->need_kib);
	else
		printf("RLIMIT_MEMLOCK: %llu KiB, asocd needs %llu KiB for "
		    "RDMA: %s\n", m->limit_kib, m->need_kib,
		    m->enough ? "enough" : m->hint);
	printf("MUNGE: %s\n", mu->on ? "munged answers" : mu->why);
	printf("transport: %s (%s)\n", v->transport != NULL ? v->transport :
	    "none: asocd would not start", v->reason);
}

/* --- the command line: ours, then asocd's own --- */

static const struct cli_opt info_opts[] = {
	{ "json", CLI_LONG_ONLY, NULL, "the same facts as one JSON object" },
	{ NULL, 0, NULL, NULL }
};

static const struct cli_tool info_tool = {
	.name = "asoc-info",
	.operands = "[asocd options]",
	.about = "Shows what asocd would do on this node with the same "
	    "options,\nASOC_* variables and --config file: the RDMA devices, "
	    "the\naddress and device it would use, memory windows, the "
	    "memlock\nlimit, MUNGE, and the transport (with the reason for "
	    "TCP).",
	.opts = info_opts,
	.exits = "Exit status: 0 as asked, 1 asocd would fall back to TCP,\n"
	    "2 asocd would not start (a bad option among them).",
};

/*
 * --json, --help and --version are ours; every other word is asocd's,
 * for conf_load, which is asocd's parser.  Returns CONF_RUN, or
 * CONF_EXIT_OK after --help or --version, or the exit status.
 */
static int
info_conf(struct conf *cf, int argc, char **argv)
{
	char **av, err[512];
	int ac = 0, i, rc;

	cli_init(info_tool.name);
	if ((av = calloc((size_t)argc + 1, sizeof *av)) == NULL) {
		cli_warn("out of memory");
		return CONF_ERROR;
	}
	for (i = 0; i < argc; i++) {
		if (i > 0 && strcmp(argv[i], "--json") == 0)
			json = 1;
		else if (i > 0 && (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0)) {
			cli_help(&info_tool, stdout);
			free(av);
			return CONF_EXIT_OK;
		} else if (i > 0 && (strcmp(argv[i], "--version") == 0 ||
		    strcmp(argv[i], "-V") == 0)) {
			cli_version(&info_tool);
			free(av);
			return CONF_EXIT_OK;
		} else
			av[ac++] = argv[i];
	}
	memset(cf, 0, sizeof *cf);
	rc = conf_load(cf, ac, av, NULL, err, sizeof err);
	free(av);
	if (rc == CONF_ERROR)
		cli_warn("asocd would not start: %s", err);
	return rc;
}

int
main(int argc, char **argv)
{
	struct conf cf;
	struct listen_choice lc;
	struct verdict v;
	struct memlock m;
	struct munge_state mu;

	switch (info_conf(&cf, argc, argv)) {
	case CONF_EXIT_OK:
		return EXIT_AS_ASKED;
	case CONF_ERROR:
		return EXIT_NO_START;
	case CONF_RUN:
		break;
	}
	memset(&v, 0, sizeof v);
	choose_listen(&cf, &lc);
	if (cf.transport == CONF_TRANSPORT_TCP) {
		v.transport = "tcp";
		snprintf(v.reason, sizeof v.reason, "--transport tcp");
	} else
		decide_rdma(&cf, &lc, &v);
	check_auth(&cf, &mu, &v);
	check_memlock(&m);
	if (json)
		print_json(&lc, &v, &m, &mu);
	else
		print_text(&lc, &v, &m, &mu);
	if (v.status == EXIT_FALLBACK)
		cli_warn("asocd would fall back to TCP: %s", v.reason);
	else if (v.status == EXIT_NO_START)
		cli_warn("asocd would not start: %s", v.reason);
	auth_free();
	conf_free(&cf);
	return v.status;
}
