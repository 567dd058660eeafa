/* SPDX-License-Identifier: Apache-2.0 */
/* ~/.config/vh/config: "key = value" lines (url, token, cacert, cert,
 * key), "#" comments, blank lines.  It is the lowest layer: VH_URL,
 * VH_TOKEN, VH_CACERT, VH_CERT, VH_KEY override it and flags override
 * those (client.c).  An unknown key or a malformed line is an error that
 * names the file and line, never silently ignored: a typo in "url" would
 * otherwise send requests somewhere unexpected. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/vhctl.h"

void vhctl_settings_free(struct vhctl_settings *s)
{
	free(s->url);
	if (s->token)
		explicit_bzero(s->token, strlen(s->token));
	free(s->token);
	free(s->cacert);
	free(s->cert);
	free(s->key);
	memset(s, 0, sizeof(*s));
}

char *vhctl_config_path(void)
{
	const char *xdg = getenv("XDG_CONFIG_HOME");
	const char *home = getenv("HOME");
	char *p = NULL;

	if (xdg && *xdg == '/') {
		if (asprintf(&p, "%s/vh/config", xdg) < 0)
			return NULL;
	} else if (home && *home) {
		if (asprintf(&p, "%s/.config/vh/config", home) < 0)
			return NULL;
	}
	return p;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

static char **slot(struct vhctl_settings *s, const char *key)
{
	static const struct {
		const char *key;
		size_t off;
	} keys[] = {
		{ "url", offsetof(struct vhctl_settings, url) },
		{ "token", offsetof(struct vhctl_settings, token) },
		{ "cacert", offsetof(struct vhctl_settings, cacert) },
		{ "cert", offsetof(struct vhctl_settings, cert) },
		{ "key", offsetof(struct vhctl_settings, key) },
	};

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!strcmp(keys[i].key, key))
			return (char **)((char *)s + keys[i].off);
	return NULL;
}

int vhctl_config_load(const char *path, struct vhctl_settings *s)
{
	FILE *f = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0;
	unsigned lineno = 0;
	int rc = 0;
	struct stat st;

	if (!f) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		fprintf(stderr, "vhctl: %s: %s\n", path, strerror(errno));
		return VHCTL_USAGE;
	}
	while (getline(&line, &cap, f) > 0) {
		char *l = trim(line), *eq, *key, *val, **dst;

		lineno++;
		if (!*l || *l == '#')
			continue;
		if (!(eq = strchr(l, '='))) {
			fprintf(stderr, "vhctl: %s:%u: expected \"key = value\"\n", path, lineno);
			rc = VHCTL_USAGE;
			break;
		}
		*eq = '\0';
		key = trim(l);
		val = trim(eq + 1);
		if (!(dst = slot(s, key))) {
			fprintf(
			    stderr,
			    "vhctl: %s:%u: unknown key \"%s\" (url, token, cacert, cert, key)\n",
			    path, lineno, key);
			rc = VHCTL_USAGE;
			break;
		}
		free(*dst);
		if (!(*dst = strdup(val))) {
			rc = VHCTL_ERROR;
			break;
		}
	}
	/* A token others can read is a token others have. */
	if (rc == 0 && s->token && fstat(fileno(f), &st) == 0 && (st.st_mode & 077))
		fprintf(
		    stderr,
		    "vhctl: warning: %s holds a token and is readable by others (chmod 600 it)\n",
		    path);
	if (line)
		explicit_bzero(line, cap);
	free(line);
	fclose(f);
	return rc;
}
