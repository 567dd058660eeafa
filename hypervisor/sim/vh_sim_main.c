/* SPDX-License-Identifier: Apache-2.0 */
/* vh-sim: runs a scenario file on the real core over the simulated
 * platform and prints the counters as JSON (docs/vh-sim.md). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario.h"
#include "sim_run.h"
#include "vh/version.h"

#define MAX_SCENARIO_BYTES (4u << 20)

static void usage(FILE *f)
{
	fprintf(f, "usage: vh-sim [--samples] [--check] SCENARIO|-\n"
		   "  Runs the vh core on a simulated host and prints per-VM and host\n"
		   "  counters as JSON.  Format: docs/vh-sim.md.\n"
		   "  --samples  add the series sampled at the scenario's 'sample' interval\n"
		   "  --check    only parse the scenario and report errors\n");
}

static char *read_all(FILE *f, const char *name)
{
	size_t cap = 65536, len = 0;
	char *buf = malloc(cap + 1);

	while (buf) {
		size_t n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
		if (len == cap) {
			if (cap >= MAX_SCENARIO_BYTES) {
				fprintf(stderr, "vh-sim: %s: larger than %u bytes\n", name,
					MAX_SCENARIO_BYTES);
				free(buf);
				return NULL;
			}
			char *grown = realloc(buf, cap * 2 + 1);
			if (!grown)
				break;
			buf = grown;
			cap *= 2;
		}
	}
	if (!buf || ferror(f)) {
		fprintf(stderr, "vh-sim: %s: %s\n", name, strerror(errno ? errno : ENOMEM));
		free(buf);
		return NULL;
	}
	if (memchr(buf, '\0', len)) {
		fprintf(stderr, "vh-sim: %s: not a text file\n", name);
		free(buf);
		return NULL;
	}
	buf[len] = '\0';
	return buf;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "samples", no_argument, NULL, 's' }, { "check", no_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },    { "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct vh_sim_run_options opt = { 0 };
	struct vh_sim_scenario sc;
	bool check_only = false;
	char err[512];
	char *text;
	FILE *f;
	int c;

	while ((c = getopt_long(argc, argv, "sch", longopts, NULL)) != -1) {
		switch (c) {
		case 's': opt.samples = true; break;
		case 'c': check_only = true; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("vh-sim %s\n", vh_version()); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	f = strcmp(argv[optind], "-") == 0 ? stdin : fopen(argv[optind], "r");
	if (!f) {
		fprintf(stderr, "vh-sim: %s: %s\n", argv[optind], strerror(errno));
		return 1;
	}
	text = read_all(f, argv[optind]);
	if (f != stdin)
		fclose(f);
	if (!text)
		return 1;
	if (!vh_sim_scenario_parse(text, &sc, err, sizeof(err))) {
		fprintf(stderr, "vh-sim: %s: %s\n", argv[optind], err);
		free(text);
		return 1;
	}
	free(text);
	if (check_only) {
		printf("%s: %zu VMs, %zu changes, %.3f s\n", argv[optind], sc.nvms, sc.nevents,
		       (double)sc.duration_ns / 1e9);
		vh_sim_scenario_free(&sc);
		return 0;
	}
	if (!vh_sim_run(&sc, &opt, stdout, err, sizeof(err))) {
		fprintf(stderr, "vh-sim: %s: %s\n", argv[optind], err);
		vh_sim_scenario_free(&sc);
		return 1;
	}
	vh_sim_scenario_free(&sc);
	return 0;
}
