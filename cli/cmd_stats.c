/* SPDX-License-Identifier: Apache-2.0 */
/* vhctl stats [NAME] [--watch]: the counters as the API gives them
 * (milliseconds since power-on, MiB now).  The live view is in
 * cmd_top.c; the refresh loop and its signal and key handling are here,
 * shared by both. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/vhctl.h"

volatile int vhctl_stop;

static void on_signal(int sig)
{
	(void)sig;
	vhctl_stop = 1;
}

void vhctl_catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: the sleep must end at once. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

void vhctl_sleep(double seconds, bool keys)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!vhctl_stop) {
		double done;
		struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
		int ms;

		clock_gettime(CLOCK_MONOTONIC, &t);
		done = (double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9;
		if (done >= seconds)
			return;
		ms = (int)((seconds - done) * 1000) + 1;
		if (poll(&pfd, keys ? 1 : 0, ms) > 0 && keys) {
			char ch;
			if (read(STDIN_FILENO, &ch, 1) == 1 && (ch == 'q' || ch == 'Q'))
				vhctl_stop = 1;
		}
	}
}

/* ---- tables ----------------------------------------------------------------- */

static const char *const vm_hdr[] = { "NAME",        "STATE",      ">USED-MS", ">READY-MS",
				      ">LIMITED-MS", ">COSTOP-MS", ">WAIT-MS", ">GRANTED",
				      ">CONSUMED",   ">ACTIVE",    ">SHARED",  ">BALLOON",
				      ">SWAPPED",    ">OVERHEAD" };
#define VM_COLS (sizeof(vm_hdr) / sizeof(vm_hdr[0]))

static void vm_row(struct vhctl_table *t, struct json_object *s, const char *name)
{
	static const char *const mem[] = { "granted_mib", "consumed_mib", "active_mib",
					   "shared_mib",  "balloon_mib",  "swapped_mib",
					   "overhead_mib" };
	char m[7][32], key[32];

	for (size_t i = 0; i < 7; i++) {
		snprintf(key, sizeof(key), "memory.%s", mem[i]);
		vhctl_fmt_mibf(vhctl_jdouble(s, key), m[i], sizeof(m[i]));
	}
	vhctl_table_rowf(t, "%s\t%s\t%llu\t%llu\t%llu\t%llu\t%llu\t%s\t%s\t%s\t%s\t%s\t%s\t%s",
			 name, vhctl_jstr(s, "state"),
			 (unsigned long long)vhctl_ju64(s, "cpu.used_ms"),
			 (unsigned long long)vhctl_ju64(s, "cpu.ready_ms"),
			 (unsigned long long)vhctl_ju64(s, "cpu.limited_ms"),
			 (unsigned long long)vhctl_ju64(s, "cpu.costop_ms"),
			 (unsigned long long)vhctl_ju64(s, "cpu.wait_ms"), m[0], m[1], m[2], m[3],
			 m[4], m[5], m[6]);
}

static void print_all(struct json_object *o)
{
	struct json_object *vms = vhctl_jget(o, "vms");
	struct vhctl_table *t = vhctl_table_new(VM_COLS, vm_hdr);
	char unused[32];

	vhctl_fmt_mibf(vhctl_jdouble(o, "host.memory.unused_mib"), unused, sizeof(unused));
	printf("host: %llu pCPUs, busy %llu ms, idle %llu ms; %llu VMs, %llu powered on; memory "
	       "unused %s\n",
	       (unsigned long long)vhctl_ju64(o, "host.cpu.pcpus"),
	       (unsigned long long)vhctl_ju64(o, "host.cpu.busy_ms"),
	       (unsigned long long)vhctl_ju64(o, "host.cpu.idle_ms"),
	       (unsigned long long)vhctl_ju64(o, "host.vms.defined"),
	       (unsigned long long)vhctl_ju64(o, "host.vms.powered_on"), unused);
	for (size_t i = 0; vms && i < json_object_array_length(vms); i++) {
		struct json_object *s = json_object_array_get_idx(vms, i);
		vm_row(t, s, vhctl_jstr(s, "vm"));
	}
	vhctl_table_print(t, stdout);
	vhctl_table_free(t);
}

static void print_one(struct json_object *s)
{
	static const char *const vcpu_hdr[] = { ">VCPU",       ">USED-MS",   ">READY-MS",
						">LIMITED-MS", ">COSTOP-MS", ">WAIT-MS",
						">RUNS" };
	static const char *const exit_hdr[] = { "EXIT", ">COUNT" };
	struct json_object *vcpus = vhctl_jget(s, "vcpus"), *exits = vhctl_jget(s, "exits");
	struct vhctl_table *t = vhctl_table_new(VM_COLS, vm_hdr);
	bool any = false;

	vm_row(t, s, vhctl_jstr(s, "vm"));
	vhctl_table_print(t, stdout);
	vhctl_table_free(t);
	t = vhctl_table_new(sizeof(vcpu_hdr) / sizeof(vcpu_hdr[0]), vcpu_hdr);
	for (size_t i = 0; vcpus && i < json_object_array_length(vcpus); i++) {
		struct json_object *v = json_object_array_get_idx(vcpus, i);
		vhctl_table_rowf(t, "%llu\t%llu\t%llu\t%llu\t%llu\t%llu\t%llu",
				 (unsigned long long)vhctl_ju64(v, "index"),
				 (unsigned long long)vhctl_ju64(v, "cpu.used_ms"),
				 (unsigned long long)vhctl_ju64(v, "cpu.ready_ms"),
				 (unsigned long long)vhctl_ju64(v, "cpu.limited_ms"),
				 (unsigned long long)vhctl_ju64(v, "cpu.costop_ms"),
				 (unsigned long long)vhctl_ju64(v, "cpu.wait_ms"),
				 (unsigned long long)vhctl_ju64(v, "cpu.runs"));
	}
	fputc('\n', stdout);
	vhctl_table_print(t, stdout);
	vhctl_table_free(t);
	/* Exits that happened, by reason. */
	t = vhctl_table_new(2, exit_hdr);
	if (exits && json_object_is_type(exits, json_type_object)) {
		json_object_object_foreach(exits, k, v)
		{
			uint64_t n = json_object_get_uint64(v);
			if (n) {
				vhctl_table_rowf(t, "%s\t%llu", k, (unsigned long long)n);
				any = true;
			}
		}
	}
	fputc('\n', stdout);
	if (any)
		vhctl_table_print(t, stdout);
	else
		printf("no exits\n");
	vhctl_table_free(t);
}

/* ---- the command ------------------------------------------------------------ */

static int stats(struct vhctl *c, int argc, char **argv, int minpos)
{
	const char *name = NULL, *interval = NULL, *count = NULL;
	bool watch = false;
	const struct vhctl_opt opts[] = {
		{ "watch", 'w', NULL, &watch },
		{ "interval", 0, &interval, NULL },
		{ "count", 'n', &count, NULL },
		{ NULL, 0, NULL, NULL },
	};
	double secs = 2;
	uint64_t left = 0;
	char *path;
	bool tty = isatty(STDOUT_FILENO);
	int n, rc = 0;

	if ((n = vhctl_parse(c, argc, argv, opts, &name, minpos, 1)) < 0)
		return vhctl_parse_exit(n);
	if (name && (rc = vhctl_check_vm_arg(c, name)))
		return rc;
	if (interval && vhctl_parse_seconds(interval, &secs))
		return vhctl_usage_error(
		    c, "--interval: \"%s\" is not a number of seconds (0.05 to 86400)", interval);
	if (count && vh_api_parse_uint(count, 1, UINT32_MAX, &left))
		return vhctl_usage_error(c, "-n: \"%s\" is not a count from 1", count);
	if (interval || count)
		watch = true;
	path = name ? vhctl_path("/v1/vms/", name, "/stats") : strdup("/v1/stats");
	if (!path)
		return VHCTL_ERROR;
	if (watch)
		vhctl_catch_signals();
	for (uint64_t i = 0; !vhctl_stop; i++) {
		struct json_object *o;

		if ((rc = vhctl_call(c, "GET", path, NULL, NULL, &o, NULL, 0)))
			break;
		if (c->out == VHCTL_OUT_JSON) {
			vhctl_print_json(o, watch);
		} else {
			if (watch) {
				time_t now = time(NULL);
				char when[32];

				strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", localtime(&now));
				/* A terminal shows the latest; a pipe keeps them all. */
				if (tty)
					fputs("\033[H\033[2J", stdout);
				else if (i)
					fputc('\n', stdout);
				printf("Every %gs: vhctl %s%s%s    %s\n\n", secs, c->cmd,
				       name ? " " : "", name ? name : "", when);
			}
			if (name)
				print_one(o);
			else
				print_all(o);
			fflush(stdout);
		}
		json_object_put(o);
		if (!watch || (left && i + 1 >= left))
			break;
		vhctl_sleep(secs, false);
	}
	free(path);
	return rc;
}

int vhctl_cmd_stats(struct vhctl *c, int argc, char **argv)
{
	return stats(c, argc, argv, 0);
}

int vhctl_cmd_vm_stats(struct vhctl *c, int argc, char **argv)
{
	return stats(c, argc, argv, 1);
}
