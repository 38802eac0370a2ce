/*
 * hostlist.c: expands SLURM-style peer lists (see hostlist.h).
 *
 * Two passes over the spec: the first checks every entry, counts its hosts
 * and measures its longest name, so an absurd range is refused before any
 * memory is taken; the second writes the hosts and cannot fail.
 */
#include "hostlist.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HOSTLIST_DIGITS_MAX	10	/* 9999999999 still fits in 64 bits */
#define HOSTLIST_SPACE		" \t\r\n"
/* ASCII only: the locale must not decide what a host name is. */
#define HOSTLIST_NAMECHARS	"abcdefghijklmnopqrstuvwxyz" \
				"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._"
/* Printable, so that a message never carries a control character. */
#define HOSTLIST_SHOWN(c)	((c) >= ' ' && (c) < 0x7f ? (c) : '?')

/* One comma-separated entry of the spec, whitespace trimmed. */
struct hostlist_ent {
	const char *s;		/* whole entry, quoted in messages */
	size_t len;
	size_t namelen;		/* the host part, before any :port */
	uint16_t port;
};

/* One range inside brackets: lo-hi, printed as wide as lo was written. */
struct hostlist_range {
	unsigned long long lo, hi;
	int width;
};

static int
hostlist_error(char *err, size_t errlen, const struct hostlist_ent *e,
    const char *fmt, ...)
{
	va_list ap;
	size_t used;

	if (err == NULL || errlen == 0)
		return -1;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	used = strlen(err);
	if (e != NULL && used + 1 < errlen)
		snprintf(err + used, errlen - used, " in '%.*s'", (int)e->len,
		    e->s);
	return -1;
}

/*
 * Parses the range at *pp, leaving *pp on the ',' or ']' after it.  Only
 * digits, '-' and ',' come before the group's ']', so strspn and strtoull
 * stop inside it.
 */
static int
hostlist_range(const char **pp, const struct hostlist_ent *e,
    struct hostlist_range *r, char *err, size_t errlen)
{
	const char *p = *pp;
	size_t nlo, nhi;

	nhi = nlo = strspn(p, "0123456789");
	r->hi = r->lo = strtoull(p, NULL, 10);
	r->width = (int)nlo;
	p += nlo;
	if (nlo > 0 && *p == '-') {
		nhi = strspn(++p, "0123456789");
		r->hi = strtoull(p, NULL, 10);
		p += nhi;
	}
	*pp = p;
	if (nlo > HOSTLIST_DIGITS_MAX || nhi > HOSTLIST_DIGITS_MAX)
		return hostlist_error(err, errlen, e,
		    "number longer than %d digits", HOSTLIST_DIGITS_MAX);
	if (nlo == 0 || nhi == 0 || (*p != ',' && *p != ']'))
		return hostlist_error(err, errlen, e,
		    "empty or malformed range");
	if (r->hi < r->lo)
		return hostlist_error(err, errlen, e,
		    "range %llu-%llu runs backwards", r->lo, r->hi);
	return 0;
}

/* Checks the group at *pp's '[', leaving *pp on its ']': how many hosts
 * (capped just past the limit) and how wide its widest number prints. */
static int
hostlist_group(const char **pp, const char *end, const struct hostlist_ent *e,
    unsigned long long *count, size_t *width, char *err, size_t errlen)
{
	struct hostlist_range r;
	const char *p = *pp, *close;
	size_t w;

	if (memchr(p, ']', (size_t)(end - p)) == NULL)
		return hostlist_error(err, errlen, e, "unbalanced '['");
	/* Stops at the first ']' at the latest, so inside the entry. */
	close = p + 1 + strspn(p + 1, "0123456789-,");
	if (*close == '[')
		return hostlist_error(err, errlen, e, "nested '['");
	if (*close != ']')
		return hostlist_error(err, errlen, e,
		    "bad character '%c' in brackets", HOSTLIST_SHOWN(*close));
	if (close == p + 1)
		return hostlist_error(err, errlen, e, "empty brackets");
	*count = 0;
	*width = 0;
	/* p is on the '[', then on the ',' before each further range. */
	for (p = *pp; p < close; ) {
		p++;
		if (hostlist_range(&p, e, &r, err, errlen) != 0)
			return -1;
		*count += r.hi - r.lo + 1;
		if (*count > HOSTLIST_MAX_HOSTS)
			*count = HOSTLIST_MAX_HOSTS + 1;
		w = (size_t)snprintf(NULL, 0, "%0*llu", r.width, r.hi);
		if (w > *width)
			*width = w;
	}
	*pp = close;
	return 0;
}

/* Checks the host part of an entry and adds the hosts it makes to *total. */
static int
hostlist_scan(const struct hostlist_ent *e, unsigned long long *total,
    char *err, size_t errlen)
{
	const char *p, *end = e->s + e->namelen;
	unsigned long long count = 1, c = 0;
	size_t len = 0, width = 0;

	if (e->namelen == 0)
		return hostlist_error(err, errlen, e, "empty host name");
	for (p = e->s; p < end; p++) {
		if (*p == '[') {
			if (hostlist_group(&p, end, e, &c, &width, err,
			    errlen) != 0)
				return -1;
			count *= c;
			if (count > HOSTLIST_MAX_HOSTS)
				count = HOSTLIST_MAX_HOSTS + 1;
			len += width;
		} else if (*p == ']')
			return hostlist_error(err, errlen, e, "unbalanced ']'");
		else if (strchr(HOSTLIST_NAMECHARS, *p) == NULL)
			return hostlist_error(err, errlen, e, "bad character "
			    "'%c' in host name", HOSTLIST_SHOWN(*p));
		else
			len++;
	}
	if (len > HOSTLIST_HOST_MAX - 1)
		return hostlist_error(err, errlen, e,
		    "host name longer than %d bytes", HOSTLIST_HOST_MAX - 1);
	*total += count;
	if (*total > HOSTLIST_MAX_HOSTS)
		return hostlist_error(err, errlen, e,
		    "host list grows past %d hosts", HOSTLIST_MAX_HOSTS);
	return 0;
}

/*
 * Finds the entry at *pp, up to the next ',' outside brackets, and splits off
 * its :port; the host part is left to hostlist_scan.
 */
static int
hostlist_next(const char **pp, uint16_t default_port, struct hostlist_ent *e,
    char *err, size_t errlen)
{
	const char *p = *pp, *end, *colon;
	size_t digits;
	unsigned long port;
	int depth = 0;

	for (end = p; *end != '\0'; end++) {
		if (*end == '[')
			depth++;
		else if (*end == ']' && depth > 0)
			depth--;
		else if (*end == ',' && depth == 0)
			break;
	}
	*pp = end;
	while (p < end && strchr(HOSTLIST_SPACE, *p) != NULL)
		p++;
	while (end > p && strchr(HOSTLIST_SPACE, end[-1]) != NULL)
		end--;
	e->s = p;
	e->len = (size_t)(end - p);

	colon = memchr(e->s, ':', e->len);
	e->namelen = e->len;
	e->port = default_port;
	if (colon == NULL)
		return 0;
	e->namelen = (size_t)(colon - e->s);
	/* The spec is NUL-terminated, so strspn stays inside it. */
	digits = strspn(colon + 1, "0123456789");
	if (digits == 0 || colon + 1 + digits != e->s + e->len)
		return hostlist_error(err, errlen, e, "port is not a number");
	port = digits > 5 ? 0 : strtoul(colon + 1, NULL, 10);
	if (port == 0 || port > 65535)
		return hostlist_error(err, errlen, e,
		    "port out of range (1-65535)");
	e->port = (uint16_t)port;
	return 0;
}

/* Writes every host that the name from p on makes, after host[0..len). */
static void
hostlist_fill(const struct hostlist_ent *e, const char *p, char *host,
    size_t len, struct hostlist_entry *list, size_t *i)
{
	const char *end = e->s + e->namelen, *close;
	struct hostlist_range r;
	unsigned long long v;
	int w;

	while (p < end && *p != '[')
		host[len++] = *p++;
	if (p == end) {
		snprintf(list[*i].host, sizeof list[*i].host, "%.*s",
		    (int)len, host);
		list[(*i)++].port = e->port;
		return;
	}
	close = memchr(p, ']', (size_t)(end - p));
	while (p < close) {
		p++;
		hostlist_range(&p, e, &r, NULL, 0);
		for (v = r.lo; v <= r.hi; v++) {
			w = snprintf(host + len, HOSTLIST_HOST_MAX - len,
			    "%0*llu", r.width, v);
			hostlist_fill(e, close + 1, host, len + (size_t)w,
			    list, i);
		}
	}
}

int
hostlist_expand(const char *spec, uint16_t default_port,
    struct hostlist_entry **out, size_t *n, char *err, size_t errlen)
{
	struct hostlist_ent e;
	struct hostlist_entry *list;
	unsigned long long total = 0;
	const char *p;
	char host[HOSTLIST_HOST_MAX];
	size_t i = 0;

	*out = NULL;
	*n = 0;
	if (spec == NULL || spec[strspn(spec, HOSTLIST_SPACE)] == '\0')
		return hostlist_error(err, errlen, NULL, "empty host list");
	for (p = spec;; p++) {
		if (hostlist_next(&p, default_port, &e, err, errlen) != 0)
			return -1;
		if (e.len == 0)
			return hostlist_error(err, errlen, NULL,
			    "empty entry in '%s'", spec);
		if (hostlist_scan(&e, &total, err, errlen) != 0)
			return -1;
		if (*p == '\0')
			break;
	}

	if ((list = calloc((size_t)total, sizeof *list)) == NULL)
		return hostlist_error(err, errlen, NULL, "out of memory");
	for (p = spec;; p++) {
		hostlist_next(&p, default_port, &e, NULL, 0);
		hostlist_fill(&e, e.s, host, 0, list, &i);
		if (*p == '\0')
			break;
	}
	*out = list;
	*n = i;
	return 0;
}
