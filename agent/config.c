/* SPDX-License-Identifier: Apache-2.0 */
/* vhagent's configuration (agent/config.h): defaults, the file, --set.
 *
 * The file is "key = value" lines; blank lines and lines starting with
 * "#" are ignored, and " #" after a value starts a comment.  A value may
 * be double-quoted (then it is taken as written, "#" included; "" is the
 * empty string).  Sizes take an optional K, M or G suffix (powers of
 * 1024).  Every key is one row of a table: its field, its kind and its
 * range, so that a new setting is one line.  A file is applied to a copy
 * and only a fully valid file changes the configuration. */
#define _GNU_SOURCE
#include "agent/config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum kind {
	K_PATH,      /* non-empty path */
	K_PATH_OPT,  /* path or "" */
	K_SOCKET,    /* unix socket path (fits sun_path) or "none" */
	K_GROUP,     /* group name or "" */
	K_TEXT,      /* non-empty printable text */
	K_LISTEN,    /* listen address or "none" */
	K_LISTEN_LO, /* the same, loopback only */
	K_UINT,
	K_SIZE,
	K_LEVEL,
};

struct key {
	const char *name;
	size_t off;
	size_t cap; /* strings */
	enum kind kind;
	uint64_t min, max; /* numbers */
};

/* One table row: the field's offset and size come from its name. */
/* clang-format off */
#define FIELD(n) #n, offsetof(struct vh_agent_config, n), sizeof(((struct vh_agent_config *)0)->n)
#define STR(n, k) { FIELD(n), k, 0, 0 }
#define NUM(n, k, lo, hi) { FIELD(n), k, lo, hi }
/* clang-format on */

static const struct key keys[] = {
	STR(state_dir, K_PATH),
	STR(disks_dir, K_PATH_OPT),
	STR(hypervisor_socket, K_SOCKET),
	STR(unix_socket, K_SOCKET),
	STR(socket_group, K_GROUP),
	STR(https_listen, K_LISTEN),
	STR(http_listen, K_LISTEN_LO),
	STR(tls_cert, K_PATH_OPT),
	STR(tls_key, K_PATH_OPT),
	STR(tls_client_ca, K_PATH_OPT),
	STR(tls_priorities, K_TEXT),
	NUM(threads, K_UINT, 1, 256),
	NUM(max_connections, K_UINT, 1, 65536),
	NUM(connection_timeout_s, K_UINT, 1, 3600),
	NUM(request_header_timeout_s, K_UINT, 1, 3600),
	NUM(max_connections_per_ip, K_UINT, 0, 65536),
	NUM(max_followers, K_UINT, 1, VH_FOLLOW_MAX),
	NUM(heartbeat_s, K_UINT, 1, 3600),
	NUM(hypervisor_timeout_ms, K_UINT, 100, 600000),
	STR(simulator, K_PATH),
	NUM(simulate_timeout_ms, K_UINT, 100, 600000),
	NUM(max_body_bytes, K_SIZE, 1024, 1ull << 30),
	NUM(max_image_bytes, K_SIZE, 1, 1ull << 40),
	NUM(log_level, K_LEVEL, 0, 0),
};

void vh_agent_config_defaults(struct vh_agent_config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->state_dir, sizeof(c->state_dir), "/var/lib/vh");
	snprintf(c->hypervisor_socket, sizeof(c->hypervisor_socket), "/run/vh/vh.sock");
	snprintf(c->unix_socket, sizeof(c->unix_socket), "/run/vh/agent.sock");
	snprintf(c->socket_group, sizeof(c->socket_group), "vh");
	snprintf(c->https_listen, sizeof(c->https_listen), "[::]:8443");
	snprintf(c->http_listen, sizeof(c->http_listen), "none");
	c->threads = 4;
	c->max_connections = 256;
	snprintf(c->tls_priorities, sizeof(c->tls_priorities), "%s", VH_TLS_PRIORITIES_DEFAULT);
	c->connection_timeout_s = 10;
	c->request_header_timeout_s = 10;
	/* So that a handful of addresses cannot hold every one of the
	 * default 256 slots. */
	c->max_connections_per_ip = 32;
	c->max_followers = 64;
	c->heartbeat_s = 15;
	c->hypervisor_timeout_ms = 10000;
	snprintf(c->simulator, sizeof(c->simulator), "%s", VH_SIM_PATH);
	c->simulate_timeout_ms = 20000;
	c->max_body_bytes = 1048576;
	c->max_image_bytes = 1073741824;
	c->log_level = 6; /* VH_LOG_INFO */
}

static const struct {
	const char *name;
	int level;
} levels[] = {
	{ "err", 3 },  { "error", 3 }, { "warning", 4 },
	{ "warn", 4 }, { "info", 6 },  { "debug", 7 },
};

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	errno = EINVAL;
	return -1;
}

static bool is_loopback(const char *host)
{
	struct in6_addr a6;
	struct in_addr a4;

	if (strcmp(host, "localhost") == 0)
		return true;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return false;
}

static bool hostname_valid(const char *h)
{
	size_t n = strlen(h);

	if (n == 0 || n > 253 || h[0] == '-' || h[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)h[i]) && h[i] != '-' && h[i] != '.')
			return false;
	return true;
}

int vh_agent_config_parse_listen(const char *s, bool *enabled, char *host, size_t hostcap,
				 uint16_t *port, char *err, size_t errlen)
{
	const char *colon, *hs, *he;
	char h[256], *end;
	unsigned long p;

	if (strcmp(s, "none") == 0) {
		*enabled = false;
		if (hostcap)
			host[0] = '\0';
		*port = 0;
		return 0;
	}
	if (s[0] == '[') { /* [IPv6]:port */
		he = strchr(s, ']');
		if (!he || he[1] != ':')
			return fail(err, errlen,
				    "\"%s\": an IPv6 address is written [address]:port", s);
		hs = s + 1;
		colon = he + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || colon == s)
			return fail(err, errlen, "\"%s\": expected host:port, [ipv6]:port or none",
				    s);
		if (memchr(s, ':', (size_t)(colon - s)))
			return fail(err, errlen,
				    "\"%s\": put an IPv6 address in brackets: [address]:port", s);
		hs = s;
		he = colon;
	}
	if ((size_t)(he - hs) >= sizeof(h) || he == hs)
		return fail(err, errlen, "\"%s\": bad host", s);
	memcpy(h, hs, (size_t)(he - hs));
	h[he - hs] = '\0';
	errno = 0;
	p = strtoul(colon + 1, &end, 10);
	if (!isdigit((unsigned char)colon[1]) || *end || errno || p == 0 || p > 65535)
		return fail(err, errlen, "\"%s\": the port must be 1..65535", s);
	if (s[0] == '[') {
		struct in6_addr a6;
		if (inet_pton(AF_INET6, h, &a6) != 1)
			return fail(err, errlen, "\"%s\": \"%s\" is not an IPv6 address", s, h);
	} else {
		struct in_addr a4;
		bool dotted_digits = strspn(h, "0123456789.") == strlen(h);
		if (dotted_digits ? inet_pton(AF_INET, h, &a4) != 1 : !hostname_valid(h))
			return fail(err, errlen, "\"%s\": \"%s\" is not an address or host name", s,
				    h);
	}
	if (strlen(h) >= hostcap)
		return fail(err, errlen, "\"%s\": host too long", s);
	strcpy(host, h);
	*port = (uint16_t)p;
	*enabled = true;
	return 0;
}

static int parse_size(const char *v, uint64_t *out)
{
	char *end;
	unsigned long long n;
	unsigned shift = 0;

	if (!isdigit((unsigned char)v[0]))
		return -1;
	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno)
		return -1;
	if (*end) {
		switch (*end) {
		case 'K':
		case 'k': shift = 10; break;
		case 'M':
		case 'm': shift = 20; break;
		case 'G':
		case 'g': shift = 30; break;
		default: return -1;
		}
		if (end[1])
			return -1;
	}
	if (shift && n > (UINT64_MAX >> shift))
		return -1;
	*out = (uint64_t)n << shift;
	return 0;
}

static bool printable(const char *v)
{
	for (; *v; v++)
		if ((unsigned char)*v < 0x20 || *v == 0x7f)
			return false;
	return true;
}

static int apply(struct vh_agent_config *c, const struct key *k, const char *v, char *err,
		 size_t errlen)
{
	char *field = (char *)c + k->off;
	char host[256];
	uint16_t port;
	bool on;
	uint64_t n;

	switch (k->kind) {
	case K_PATH:
	case K_PATH_OPT:
	case K_SOCKET:
	case K_GROUP:
	case K_TEXT:
		if (!printable(v))
			return fail(err, errlen, "%s: control characters in the value", k->name);
		if (k->kind == K_PATH && !*v)
			return fail(err, errlen, "%s: a path is needed", k->name);
		if (k->kind == K_TEXT && !*v)
			return fail(err, errlen, "%s: a value is needed", k->name);
		if (k->kind == K_SOCKET && !*v)
			return fail(err, errlen, "%s: a socket path or none is needed", k->name);
		if (strlen(v) >= k->cap)
			return fail(err, errlen, "%s: longer than %zu characters", k->name,
				    k->cap - 1);
		if (k->kind == K_GROUP) {
			for (const char *p = v; *p; p++)
				if (!isalnum((unsigned char)*p) && !strchr("._-", *p))
					return fail(err, errlen, "%s: \"%s\" is not a group name",
						    k->name, v);
		}
		strcpy(field, v);
		return 0;
	case K_LISTEN:
	case K_LISTEN_LO:
		if (vh_agent_config_parse_listen(v, &on, host, sizeof(host), &port, err, errlen) <
		    0) {
			char why[256];
			snprintf(why, sizeof(why), "%s", err);
			return fail(err, errlen, "%s: %s", k->name, why);
		}
		if (k->kind == K_LISTEN_LO && on && !is_loopback(host))
			return fail(err, errlen,
				    "%s: plain HTTP is allowed only on a loopback address "
				    "(127.0.0.0/8, ::1 or localhost), not %s; use https_listen",
				    k->name, host);
		if (strlen(v) >= k->cap)
			return fail(err, errlen, "%s: too long", k->name);
		strcpy(field, v);
		return 0;
	case K_UINT:
	case K_SIZE:
		if (parse_size(v, &n) < 0 ||
		    (k->kind == K_UINT && !isdigit((unsigned char)v[strlen(v) - 1])))
			return fail(err, errlen, "%s: \"%s\" is not a %s", k->name, v,
				    k->kind == K_SIZE ? "size (bytes, or with K, M, G)" : "number");
		if (n < k->min || n > k->max)
			return fail(err, errlen, "%s: %s is out of range %" PRIu64 "..%" PRIu64,
				    k->name, v, k->min, k->max);
		if (k->kind == K_UINT)
			*(unsigned *)(void *)field = (unsigned)n;
		else
			*(uint64_t *)(void *)field = n;
		return 0;
	case K_LEVEL:
		for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
			if (strcmp(v, levels[i].name) == 0) {
				c->log_level = levels[i].level;
				return 0;
			}
		return fail(err, errlen, "%s: \"%s\" is not one of err, warning, info, debug",
			    k->name, v);
	}
	return fail(err, errlen, "%s: internal error", k->name);
}

int vh_agent_config_set(struct vh_agent_config *c, const char *key, const char *value, char *err,
			size_t errlen)
{
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(keys[i].name, key) == 0)
			return apply(c, &keys[i], value, err, errlen);
	return fail(err, errlen, "unknown setting \"%.64s\"", key);
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
		*--e = '\0';
	return s;
}

/* The value part of a line: quoted, or up to a " #" comment. */
static int value_of(char *v, char **out)
{
	v = trim(v);
	if (*v == '"') {
		char *q = strchr(v + 1, '"');
		if (!q)
			return -1;
		*q = '\0';
		char *rest = trim(q + 1);
		if (*rest && *rest != '#')
			return -1;
		*out = v + 1;
		return 0;
	}
	for (char *p = v; *p; p++)
		if (*p == '#' && (p == v || p[-1] == ' ' || p[-1] == '\t')) {
			*p = '\0';
			break;
		}
	*out = trim(v);
	return 0;
}

int vh_agent_config_load(struct vh_agent_config *c, const char *path, bool must_exist, char *err,
			 size_t errlen)
{
	struct vh_agent_config tmp = *c;
	char *line = NULL, why[512];
	size_t cap = 0;
	unsigned lineno = 0;
	FILE *f;
	int rc = 0;

	if (strlen(path) >= sizeof(tmp.config_path))
		return fail(err, errlen, "%s: path too long", path);
	f = fopen(path, "re");
	if (!f) {
		int e = errno;
		if (e == ENOENT && !must_exist)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		errno = e;
		return -1;
	}
	while (getline(&line, &cap, f) >= 0) {
		char *s, *eq, *key, *val;
		lineno++;
		s = trim(line);
		if (!*s || *s == '#')
			continue;
		eq = strchr(s, '=');
		if (!eq) {
			rc = fail(err, errlen, "%s:%u: expected \"key = value\"", path, lineno);
			break;
		}
		*eq = '\0';
		key = trim(s);
		if (!*key) {
			rc = fail(err, errlen, "%s:%u: a setting name is missing before \"=\"",
				  path, lineno);
			break;
		}
		if (value_of(eq + 1, &val) < 0) {
			rc = fail(err, errlen, "%s:%u: %s: unbalanced quotes or text after them",
				  path, lineno, key);
			break;
		}
		if (vh_agent_config_set(&tmp, key, val, why, sizeof(why)) < 0) {
			rc = fail(err, errlen, "%s:%u: %s", path, lineno, why);
			break;
		}
	}
	if (!rc && ferror(f))
		rc = fail(err, errlen, "%s: read error", path);
	free(line);
	fclose(f);
	if (rc)
		return rc;
	snprintf(tmp.config_path, sizeof(tmp.config_path), "%s", path);
	*c = tmp;
	return 0;
}
