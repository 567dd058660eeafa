/* SPDX-License-Identifier: Apache-2.0 */
/* Command-line options: each command lists its own in a table, and the
 * global ones (--url, --token, --cacert, --cert, --key, -o, -h) are
 * accepted anywhere, so `vhctl vm list -o json` and `vhctl -o json vm
 * list` mean the same.  "--name=value", "--name value", "-x value",
 * "-xvalue" and "--" work as in getopt_long; the last of a repeated
 * option wins. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli/vhctl.h"

static const char *output_arg;

/* Filled per parse: the global options point into c. */
static size_t global_opts(struct vhctl *c, struct vhctl_opt *g)
{
	const struct vhctl_opt list[] = {
		{ "url", 0, (const char **)&c->flags.url, NULL },
		{ "token", 0, (const char **)&c->flags.token, NULL },
		{ "cacert", 0, (const char **)&c->flags.cacert, NULL },
		{ "cert", 0, (const char **)&c->flags.cert, NULL },
		{ "key", 0, (const char **)&c->flags.key, NULL },
		{ "output", 'o', &output_arg, NULL },
		{ "help", 'h', NULL, &c->help },
	};
	memcpy(g, list, sizeof(list));
	return sizeof(list) / sizeof(list[0]);
}

int vhctl_usage_error(struct vhctl *c, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "vhctl: %s%s", c->cmd ? c->cmd : "", c->cmd ? ": " : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (c->cmd && c->usage)
		fprintf(stderr, "usage: vhctl %s %s\n", c->cmd, c->usage);
	fprintf(stderr, "Try 'vhctl %s%s--help'.\n", c->cmd ? c->cmd : "", c->cmd ? " " : "");
	return VHCTL_USAGE;
}

static const struct vhctl_opt *find_long(const struct vhctl_opt *a, size_t na,
					 const struct vhctl_opt *b, const char *name, size_t len)
{
	for (size_t i = 0; i < na; i++)
		if (strlen(a[i].name) == len && !strncmp(a[i].name, name, len))
			return &a[i];
	for (size_t i = 0; b && b[i].name; i++)
		if (strlen(b[i].name) == len && !strncmp(b[i].name, name, len))
			return &b[i];
	return NULL;
}

static const struct vhctl_opt *find_short(const struct vhctl_opt *a, size_t na,
					  const struct vhctl_opt *b, char ch)
{
	for (size_t i = 0; i < na; i++)
		if (a[i].short_name == ch)
			return &a[i];
	for (size_t i = 0; b && b[i].name; i++)
		if (b[i].short_name == ch)
			return &b[i];
	return NULL;
}

static int apply_output(struct vhctl *c)
{
	if (!output_arg)
		return 0;
	if (!strcmp(output_arg, "json"))
		c->out = VHCTL_OUT_JSON;
	else if (!strcmp(output_arg, "table"))
		c->out = VHCTL_OUT_TABLE;
	else
		return vhctl_usage_error(c, "-o: \"%s\" is not table or json", output_arg);
	output_arg = NULL;
	return 0;
}

/* Parses options until the first positional (stop_at_positional) or the
 * end; positionals go to pos.  Returns the count, or -VHCTL_USAGE. */
static int parse(struct vhctl *c, int argc, char **argv, int start, const struct vhctl_opt *opts,
		 const char **pos, int maxpos, bool stop_at_positional, int *next)
{
	struct vhctl_opt g[8];
	size_t ng = global_opts(c, g);
	int npos = 0;
	bool dashdash = false;
	int i;

	for (i = start; i < argc; i++) {
		const char *a = argv[i];
		const struct vhctl_opt *o;
		const char *val = NULL;

		if (dashdash || a[0] != '-' || a[1] == '\0') {
			if (stop_at_positional)
				break;
			if (npos >= maxpos)
				return -vhctl_usage_error(c, "unexpected argument \"%s\"", a);
			pos[npos++] = a;
			continue;
		}
		if (!strcmp(a, "--")) {
			dashdash = true;
			if (stop_at_positional) {
				i++;
				break;
			}
			continue;
		}
		if (a[1] == '-') {
			const char *eq = strchr(a + 2, '=');
			size_t len = eq ? (size_t)(eq - a - 2) : strlen(a + 2);

			if (!(o = find_long(g, ng, opts, a + 2, len)))
				return -vhctl_usage_error(c, "unknown option --%.*s", (int)len,
							  a + 2);
			if (eq) {
				if (o->flag)
					return -vhctl_usage_error(c, "--%s takes no value",
								  o->name);
				val = eq + 1;
			}
		} else {
			if (!(o = find_short(g, ng, opts, a[1])))
				return -vhctl_usage_error(c, "unknown option -%c", a[1]);
			if (a[2]) {
				if (o->flag)
					return -vhctl_usage_error(c, "-%c takes no value", a[1]);
				val = a + 2;
			}
		}
		if (o->flag) {
			*o->flag = true;
			continue;
		}
		if (!val) {
			if (i + 1 >= argc)
				return -vhctl_usage_error(c, "--%s needs a value", o->name);
			val = argv[++i];
		}
		*o->value = val;
	}
	if (next)
		*next = i;
	if (apply_output(c))
		return -VHCTL_USAGE;
	return npos;
}

int vhctl_parse_global(struct vhctl *c, int argc, char **argv)
{
	int next = argc;
	int rc = parse(c, argc, argv, 1, NULL, NULL, 0, true, &next);

	return rc < 0 ? VHCTL_PARSE_ERROR : next;
}

int vhctl_parse(struct vhctl *c, int argc, char **argv, const struct vhctl_opt *opts,
		const char **pos, int minpos, int maxpos)
{
	int n = parse(c, argc, argv, 1, opts, pos, maxpos, false, NULL);

	if (n < 0)
		return VHCTL_PARSE_ERROR;
	if (c->help) {
		printf("usage: vhctl %s %s\n", c->cmd, c->usage ? c->usage : "");
		if (c->summary)
			printf("%c%s.\n",
			       c->summary[0] >= 'a' && c->summary[0] <= 'z' ? c->summary[0] - 32
									    : c->summary[0],
			       c->summary + 1);
		printf("Global options: --url, --token, --cacert, --cert, --key, -o table|json.  "
		       "See vhctl(1).\n");
		return VHCTL_PARSE_HELP;
	}
	if (n < minpos) {
		vhctl_usage_error(c, "missing argument");
		return VHCTL_PARSE_ERROR;
	}
	return n;
}

int vhctl_parse_seconds(const char *s, double *out)
{
	char *end;
	double v;

	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || !(v >= 0.05 && v <= 86400))
		return -1;
	*out = v;
	return 0;
}
