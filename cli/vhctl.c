/* SPDX-License-Identifier: Apache-2.0 */
/* vhctl: main, the global options and the command table.  Commands form
 * a tree (vm -> list, create, ...) walked by one dispatcher, so help,
 * unknown-command errors and the usage line of each command come from
 * the same table the man page and the bash completion mirror. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "cli/vhctl.h"
#include "config.h"

static int cmd_help(struct vhctl *c, int argc, char **argv);
static int cmd_version(struct vhctl *c, int argc, char **argv);

static const struct vhctl_cmd top_cmds[] = {
	{ "host", "", "the host: version, pCPUs, memory, reserved and free capacity",
	  vhctl_cmd_host, NULL },
	{ "vm", "COMMAND ...", "define, inspect, power and tune VMs", NULL, vhctl_vm_cmds },
	{ "stats", "[NAME] [--watch] [--interval SECONDS] [-n COUNT]",
	  "counters of every VM and the host, or of one VM", vhctl_cmd_stats, NULL },
	{ "top", "[-d SECONDS] [-n ITERATIONS] [-b] [--color=auto|always|never]",
	  "live per-VM %USED %RDY %MLMTD %CSTP %WAIT and memory, in the manner of esxtop",
	  vhctl_cmd_top, NULL },
	{ "explain", "NAME | --host [--window SECONDS]",
	  "why a VM lost time or memory, ranked, with the change that would help; or the host's "
	  "takers and admission headroom",
	  vhctl_cmd_explain, NULL },
	{ "what-if",
	  "NAME [--shares S] [--reservation MHZ] [--limit MHZ|unlimited]\n"
	  "[--mem-shares S] [--mem-reservation MIB] [--mem-limit MIB|unlimited]\n"
	  "[--stop|--start] [--duration SECONDS]",
	  "predict what a change would do to every VM before making it: measured -> predicted "
	  "by the real scheduler and memory manager on a simulated copy of the host",
	  vhctl_cmd_whatif, NULL },
	{ "console", "VM [-f|--follow] [--raw]",
	  "the VM's console: its tail, or followed as the guest writes (control characters "
	  "shown, not obeyed, unless --raw)",
	  vhctl_cmd_console, NULL },
	{ "events", "[-f|--follow] [--since ID]",
	  "what happened to the VMs, the agent and the hypervisor; -f follows", vhctl_cmd_events,
	  NULL },
	{ "image", "COMMAND ...", "upload, list and remove guest images", NULL, vhctl_image_cmds },
	{ "disk", "COMMAND ...", "the datastore: create, import, list, show, grow and remove disks",
	  NULL, vhctl_disk_cmds },
	{ "token", "COMMAND ...", "create, list and revoke API tokens (admin)", NULL,
	  vhctl_token_cmds },
	{ "help", "[COMMAND ...]", "this help, or a command's", cmd_help, NULL },
	{ "version", "", "vhctl's version", cmd_version, NULL },
	{ NULL, NULL, NULL, NULL, NULL },
};

static const char global_help[] =
    "Global options (anywhere on the line):\n"
    "  --url URL        unix:///run/vh/agent.sock (default) or https://HOST:8443\n"
    "  --token TOKEN    bearer token (better: VH_TOKEN or the config file)\n"
    "  --cacert FILE    CA certificate that signed the agent's TLS certificate\n"
    "  --cert FILE      client certificate, --key FILE its key (when the agent asks)\n"
    "  -o, --output F   table (default) or json\n"
    "  -h, --help       help for the command\n"
    "Settings come from ~/.config/vh/config, then VH_URL, VH_TOKEN, VH_CACERT,\n"
    "VH_CERT, VH_KEY, then the options.  Exit: 0 ok, 1 error, 2 usage or invalid\n"
    "request, 3 not found, 4 conflict, 5 not authorized, 6 cannot connect.\n"
    "See vhctl(1).\n";

static void list_cmds(FILE *f, const char *prefix, const struct vhctl_cmd *set)
{
	for (const struct vhctl_cmd *k = set; k->name; k++) {
		const char *s = k->synopsis;

		fprintf(f, "  vhctl %s%s%s%s", prefix, *prefix ? " " : "", k->name, *s ? " " : "");
		/* A long synopsis goes on over indented lines. */
		for (size_t n; *s; s += n) {
			n = strcspn(s, "\n");
			fprintf(f, "%.*s\n", (int)n, s);
			if (s[n] == '\n') {
				n++;
				s += strspn(s + n, " ");
				fputs("      ", f);
			}
		}
		if (!*k->synopsis)
			fputc('\n', f);
		fprintf(f, "        %s\n", k->summary);
	}
}

static void usage(FILE *f)
{
	fprintf(f, "usage: vhctl [OPTIONS] COMMAND [ARGS]\n"
		   "The command line of vh's REST agent (vhagent).\n\nCommands:\n");
	list_cmds(f, "", top_cmds);
	fputc('\n', f);
	fputs(global_help, f);
}

static const struct vhctl_cmd *find(const struct vhctl_cmd *set, const char *name)
{
	for (const struct vhctl_cmd *k = set; k->name; k++)
		if (!strcmp(k->name, name))
			return k;
	return NULL;
}

static bool is_help(const char *a)
{
	return !strcmp(a, "-h") || !strcmp(a, "--help");
}

/* argv[0] names a command of set; prefix is the path so far ("vm"). */
static int dispatch(struct vhctl *c, const struct vhctl_cmd *set, const char *prefix, int argc,
		    char **argv)
{
	const struct vhctl_cmd *k = find(set, argv[0]);
	char path[64];

	if (!k) {
		fprintf(stderr, "vhctl: %s%sunknown command \"%s\"\n", prefix, *prefix ? ": " : "",
			argv[0]);
		fprintf(stderr, "Try 'vhctl %s%s--help'.\n", prefix, *prefix ? " " : "");
		return VHCTL_USAGE;
	}
	snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? " " : "", k->name);
	if (k->subs) {
		if (argc < 2 || is_help(argv[1])) {
			FILE *f = argc < 2 ? stderr : stdout;

			fprintf(f, "usage: vhctl %s %s\n%s.\n\nCommands:\n", path, k->synopsis,
				k->summary);
			list_cmds(f, path, k->subs);
			return argc < 2 ? VHCTL_USAGE : VHCTL_OK;
		}
		return dispatch(c, k->subs, path, argc - 1, argv + 1);
	}
	c->cmd = strdup(path);
	c->usage = k->synopsis;
	c->summary = k->summary;
	if (!c->cmd) {
		fprintf(stderr, "vhctl: out of memory\n");
		return VHCTL_ERROR;
	}
	return k->run(c, argc, argv);
}

static int cmd_help(struct vhctl *c, int argc, char **argv)
{
	const struct vhctl_cmd *set = top_cmds, *k = NULL;
	char path[64] = "";

	(void)c;
	for (int i = 1; i < argc; i++) {
		if (!set || !(k = find(set, argv[i]))) {
			fprintf(stderr, "vhctl: help: no command \"%s\"\n", argv[i]);
			return VHCTL_USAGE;
		}
		snprintf(path + strlen(path), sizeof(path) - strlen(path), "%s%s", *path ? " " : "",
			 k->name);
		set = k->subs;
	}
	if (!k) {
		usage(stdout);
	} else {
		printf("usage: vhctl %s %s\n%s.\n", path, k->synopsis, k->summary);
		if (k->subs) {
			printf("\nCommands:\n");
			list_cmds(stdout, path, k->subs);
		}
	}
	return VHCTL_OK;
}

static int cmd_version(struct vhctl *c, int argc, char **argv)
{
	int n = vhctl_parse(c, argc, argv, NULL, NULL, 0, 0);

	if (n < 0)
		return vhctl_parse_exit(n);
	if (c->out == VHCTL_OUT_JSON)
		printf("{\"vhctl\": \"%s\"}\n", PACKAGE_VERSION);
	else
		printf("vhctl %s\n", PACKAGE_VERSION);
	return VHCTL_OK;
}

int main(int argc, char **argv)
{
	struct vhctl c = { 0 };
	int first, rc;

	if (argc > 1 && !strcmp(argv[1], "--version"))
		argv[1] = "version";
	if ((first = vhctl_parse_global(&c, argc, argv)) < 0)
		return VHCTL_USAGE;
	if (first >= argc) {
		if (c.help) {
			usage(stdout);
			return VHCTL_OK;
		}
		usage(stderr);
		return VHCTL_USAGE;
	}
	rc = dispatch(&c, top_cmds, "", argc - first, argv + first);
	vhctl_close(&c);
	free((char *)c.cmd);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		/* `vhctl vm list | head` is fine; a full disk is not. */
		if (rc == VHCTL_OK)
			rc = VHCTL_ERROR;
	}
	return rc;
}
