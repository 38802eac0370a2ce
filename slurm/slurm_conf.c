/*
 * slurm_conf.c: asoc-slurm's settings file, KEY=value lines as a shell
 * would read them, parsed and never run.  A misspelt key is an error
 * rather than a setting silently ignored.
 */
#include "config.h"
#include "slurm.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void
slurm_conf_defaults(struct slurm_conf *c)
{
	memset(c, 0, sizeof *c);
	snprintf(c->asocd, sizeof c->asocd, "%s/asocd", SBINDIR);
	c->port_base = 9000;
	c->port_span = 1000;
	c->port_tries = 8;
	snprintf(c->interface, sizeof c->interface, "ib0");
	snprintf(c->transport, sizeof c->transport, "auto");
	snprintf(c->run_dir, sizeof c->run_dir, "/run/asoc");
	snprintf(c->memlock, sizeof c->memlock, "unlimited");
	snprintf(c->site_key, sizeof c->site_key, "%s/asoc/site.key",
	    SYSCONFDIR);
	snprintf(c->cgroup, sizeof c->cgroup, "auto");
	c->ready_timeout = 30;
	c->busy_poll = SLURM_CONF_UNSET;
}

#define S(name, field) { name, offsetof(struct slurm_conf, field), \
	sizeof ((struct slurm_conf *)0)->field, 0, 0 }
#define U(name, field, lo, hi) { name, \
	offsetof(struct slurm_conf, field), 0, lo, hi }
static const struct {
	const char *name;
	size_t off, size;	/* size 0: an unsigned number */
	unsigned lo, hi;
} keys[] = {
	S("ASOCD", asocd), U("PORT_BASE", port_base, 1, 65535),
	U("PORT_SPAN", port_span, 1, 65535), U("PORT_TRIES", port_tries, 1, 64),
	S("INTERFACE", interface), S("TRANSPORT", transport),
	S("CHUNK_SIZE", chunk_size), S("RUN_DIR", run_dir),
	S("NODE_ADDRS", node_addrs), S("LOG_LEVEL", log_level),
	S("CONNECTION_TIMEOUT", connection_timeout), S("MEMLOCK", memlock),
	S("CPU_LIST", cpu_list), S("KEEP_LOGS_DIR", keep_logs_dir),
	S("SITE_KEY", site_key), S("MUNGE_SOCKET", munge_socket),
	S("CGROUP", cgroup), U("READY_TIMEOUT", ready_timeout, 1, 600),
	U("BUSY_POLL", busy_poll, 0, 10000),
};
#define NKEYS (sizeof keys / sizeof keys[0])

/* One value: "x", 'x' or a bare word, then an optional # comment. */
static int
conf_value(char *v, char **out)
{
	char *end, c;

	if (*v == '"' || *v == '\'') {
		if ((end = strchr(v + 1, *v)) == NULL)
			return -1;
		*end++ = '\0';
		*out = v + 1;
	} else {
		end = v + strcspn(v, " \t#");
		c = *end;
		*end = '\0';
		*out = v;
		if (strpbrk(v, "\"'") != NULL)
			return -1;
		if (c == '#' || c == '\0')
			return strpbrk(v, "$`\\") != NULL ? -1 : 0;
		end++;
	}
	if (strpbrk(*out, "$`\\") != NULL)
		return -1;
	while (isspace((unsigned char)*end))
		end++;
	return *end == '\0' || *end == '#' ? 0 : -1;
}

static int
conf_set(struct slurm_conf *c, size_t k, const char *val, const char *where,
    char *err, size_t errlen)
{
	char *field = (char *)c + keys[k].off;
	unsigned long n;
	char *end;

	if (keys[k].size != 0) {
		if (strlen(val) >= keys[k].size) {
			snprintf(err, errlen, "%s: %s is too long", where,
			    keys[k].name);
			return -1;
		}
		memcpy(field, val, strlen(val) + 1);
		return 0;
	}
	errno = 0;
	n = strtoul(val, &end, 10);
	if (!isdigit((unsigned char)*val) || *end != '\0' || errno != 0 ||
	    n < keys[k].lo || n > keys[k].hi) {
		snprintf(err, errlen, "%s: %s must be a number from %u to %u, "
		    "not '%s'", where, keys[k].name, keys[k].lo, keys[k].hi,
		    val);
		return -1;
	}
	*(unsigned *)(void *)field = (unsigned)n;
	return 0;
}

int
slurm_conf_parse(struct slurm_conf *c, const char *text, size_t len,
    const char *name, char *err, size_t errlen)
{
	char line[4096 + PATH_MAX], where[PATH_MAX + 32], *s, *eq, *val;
	size_t pos = 0, n, k;
	unsigned lineno = 0;

	while (pos < len) {
		n = strcspn(text + pos, "\n");
		if (pos + n > len)
			n = len - pos;
		lineno++;
		snprintf(where, sizeof where, "%s:%u", name, lineno);
		if (n >= sizeof line) {
			snprintf(err, errlen, "%s: line too long", where);
			return -1;
		}
		memcpy(line, text + pos, n);
		line[n] = '\0';
		pos += n + 1;
		for (s = line; isspace((unsigned char)*s); s++)
			;
		if (*s == '\0' || *s == '#')
			continue;
		if (strncmp(s, "export ", 7) == 0)
			s += 7;
		if ((eq = strchr(s, '=')) == NULL || eq == s ||
		    strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_") != (size_t)(eq - s)) {
			snprintf(err, errlen, "%s: expected KEY=value, not "
			    "'%.80s'", where, s);
			return -1;
		}
		*eq = '\0';
		if (conf_value(eq + 1, &val) < 0) {
			snprintf(err, errlen, "%s: cannot read the value of %s "
			    "(quote it, without $, \\ or backquotes)", where, s);
			return -1;
		}
		for (k = 0; k < NKEYS; k++)
			if (strcmp(keys[k].name, s) == 0)
				break;
		if (k == NKEYS) {
			snprintf(err, errlen, "%s: unknown setting '%s' (known: "
			    "ASOCD PORT_BASE PORT_SPAN PORT_TRIES INTERFACE "
			    "TRANSPORT CHUNK_SIZE RUN_DIR NODE_ADDRS LOG_LEVEL "
			    "CONNECTION_TIMEOUT MEMLOCK CPU_LIST KEEP_LOGS_DIR "
			    "SITE_KEY MUNGE_SOCKET CGROUP READY_TIMEOUT BUSY_POLL)", where,
			    s);
			return -1;
		}
		if (conf_set(c, k, val, where, err, errlen) < 0)
			return -1;
	}
	if (c->run_dir[0] != '/' || (c->keep_logs_dir[0] != '\0' &&
	    c->keep_logs_dir[0] != '/') || c->asocd[0] != '/') {
		snprintf(err, errlen, "%s: ASOCD, RUN_DIR and KEEP_LOGS_DIR "
		    "must be absolute paths", name);
		return -1;
	}
	if ((unsigned long)c->port_base + c->port_span - 1 > 65535) {
		snprintf(err, errlen, "%s: PORT_BASE %u + PORT_SPAN %u passes "
		    "port 65535", name, c->port_base, c->port_span);
		return -1;
	}
	if (c->port_tries > c->port_span)
		c->port_tries = c->port_span;
	return 0;
}

int
slurm_conf_load(struct slurm_conf *c, const char *path, int missing_ok,
    char *err, size_t errlen)
{
	static char text[256 * 1024];
	ssize_t n;
	int fd;

	if (missing_ok && access(path, F_OK) < 0 && errno == ENOENT)
		return 0;
	if ((fd = slurm_open_root_file(path, 0, err, errlen)) < 0)
		return -1;
	n = slurm_read_all(fd, text, sizeof text);
	close(fd);
	if (n < 0) {
		snprintf(err, errlen, "cannot read %s: %s", path,
		    strerror(errno));
		return -1;
	}
	return slurm_conf_parse(c, text, (size_t)n, path, err, errlen);
}
