/* SPDX-License-Identifier: Apache-2.0 */
/* vhctl explain VM | --host: the agent's diagnosis (GET
 * /v1/vms/{vm}/diagnosis, GET /v1/host/diagnosis) for a person: the VM's
 * CPU time over the window, then each cause, most costly first, with its
 * sentence, its figures and the change that would address it.  -o json
 * prints the agent's document. */
#include <stdlib.h>
#include <string.h>

#include "cli/vhctl.h"

/* "key=value key=value" from an object of numbers and strings. */
static void print_figures(struct json_object *figs)
{
	bool first = true;

	if (!figs || !json_object_is_type(figs, json_type_object))
		return;
	printf("   figures:");
	json_object_object_foreach(figs, k, v)
	{
		printf("%s%s=%s", first ? " " : "  ", k, json_object_get_string(v));
		first = false;
	}
	fputc('\n', stdout);
}

static void print_vm(struct json_object *o)
{
	struct json_object *causes = vhctl_jget(o, "causes");
	size_t n = causes ? json_object_array_length(causes) : 0;
	uint64_t vcpus = vhctl_ju64(o, "vcpus");

	printf("VM %s (%s, %llu vCPU%s), over the last %.1f s:\n", vhctl_jstr(o, "vm"),
	       vhctl_jstr(o, "state"), (unsigned long long)vcpus, vcpus == 1 ? "" : "s",
	       (double)vhctl_ju64(o, "window_ms") / 1000);
	printf("  CPU: used %.1f%%  ready %.1f%% (limited %.1f%%, taken by the host %.1f%%)  "
	       "co-stop %.1f%%  halted %.1f%%\n",
	       vhctl_jdouble(o, "cpu.used_pct"), vhctl_jdouble(o, "cpu.ready_pct"),
	       vhctl_jdouble(o, "cpu.limited_pct"), vhctl_jdouble(o, "cpu.stolen_pct"),
	       vhctl_jdouble(o, "cpu.costop_pct"), vhctl_jdouble(o, "cpu.wait_pct"));
	printf("  %s\n", vhctl_jstr(o, "summary"));
	for (size_t i = 0; i < n; i++) {
		struct json_object *c = json_object_array_get_idx(causes, i);

		printf("\n%zu. %s (%s, cost %.1f%%)\n   %s\n", i + 1, vhctl_jstr(c, "code"),
		       vhctl_jstr(c, "kind"), vhctl_jdouble(c, "cost_pct"),
		       vhctl_jstr(c, "message"));
		print_figures(vhctl_jget(c, "figures"));
		printf("   change: %s\n", vhctl_jstr(c, "remedy"));
	}
}

static void print_host(struct json_object *o)
{
	static const char *const hdr[] = { "VM",      ">VCPUS",  ">USED-PCPUS", ">%HOST",  ">%RDY",
					   ">%MLMTD", ">SHARES", ">RES-MHZ",    ">RES-MIB" };
	struct json_object *vms = vhctl_jget(o, "vms");
	struct vhctl_table *t = vhctl_table_new(sizeof(hdr) / sizeof(hdr[0]), hdr);

	printf("%s\n\n", vhctl_jstr(o, "summary"));
	printf("reserved: CPU %llu of %llu MHz (%.1f%%), memory %llu of %llu MiB (%.1f%%)\n",
	       (unsigned long long)vhctl_ju64(o, "reserved.cpu_reserved_mhz"),
	       (unsigned long long)vhctl_ju64(o, "reserved.cpu_capacity_mhz"),
	       vhctl_jdouble(o, "reserved.cpu_reserved_pct"),
	       (unsigned long long)vhctl_ju64(o, "reserved.memory_reserved_mib"),
	       (unsigned long long)vhctl_ju64(o, "reserved.memory_capacity_mib"),
	       vhctl_jdouble(o, "reserved.memory_reserved_pct"));
	printf("admission: a power-on may still reserve %llu MHz and %llu MiB (%.1f%% of the "
	       "closer capacity is reserved); %llu refusals\n",
	       (unsigned long long)vhctl_ju64(o, "admission.unreserved_mhz"),
	       (unsigned long long)vhctl_ju64(o, "admission.unreserved_mib"),
	       vhctl_jdouble(o, "admission.closest_pct"),
	       (unsigned long long)vhctl_ju64(o, "admission.refusals"));
	printf("memory: %.1f MiB ballooned, %.1f MiB taken by the idle-memory tax, %.1f MiB "
	       "unused\n\n",
	       vhctl_jdouble(o, "memory_balloon_mib"), vhctl_jdouble(o, "memory_idle_tax_mib"),
	       vhctl_jdouble(o, "memory_unused_mib"));
	for (size_t i = 0; vms && i < json_object_array_length(vms); i++) {
		struct json_object *v = json_object_array_get_idx(vms, i);
		vhctl_table_rowf(
		    t, "%s\t%llu\t%.1f\t%.1f\t%.1f\t%.1f\t%llu\t%llu\t%llu", vhctl_jstr(v, "vm"),
		    (unsigned long long)vhctl_ju64(v, "vcpus"), vhctl_jdouble(v, "used_pcpus"),
		    vhctl_jdouble(v, "used_pct_of_host"), vhctl_jdouble(v, "ready_pct"),
		    vhctl_jdouble(v, "limited_pct"), (unsigned long long)vhctl_ju64(v, "shares"),
		    (unsigned long long)vhctl_ju64(v, "reservation_mhz"),
		    (unsigned long long)vhctl_ju64(v, "reservation_mib"));
	}
	vhctl_table_print(t, stdout);
	vhctl_table_free(t);
}

int vhctl_cmd_explain(struct vhctl *c, int argc, char **argv)
{
	const char *name = NULL, *window = NULL;
	bool host = false;
	const struct vhctl_opt opts[] = {
		{ "host", 0, NULL, &host },
		{ "window", 'w', &window, NULL },
		{ NULL, 0, NULL, NULL },
	};
	struct json_object *o;
	double secs = 5;
	char *path, q[32], suffix[48];
	int n, rc;

	if ((n = vhctl_parse(c, argc, argv, opts, &name, 0, 1)) < 0)
		return vhctl_parse_exit(n);
	if (host == (name != NULL))
		return vhctl_usage_error(c, "name a VM or give --host");
	if (name && (rc = vhctl_check_vm_arg(c, name)))
		return rc;
	if (window && (vhctl_parse_seconds(window, &secs) || secs < 1 || secs > 60))
		return vhctl_usage_error(c, "--window: \"%s\" is not a number of seconds (1 to 60)",
					 window);
	snprintf(q, sizeof(q), "?window_ms=%u", (unsigned)(secs * 1000 + 0.5));
	path = host ? vhctl_path("/v1/host/diagnosis", "", q)
		    : vhctl_path("/v1/vms/", name, strcat(strcpy(suffix, "/diagnosis"), q));
	rc = vhctl_call(c, "GET", path, NULL, NULL, &o, NULL, 0);
	free(path);
	if (rc)
		return rc;
	if (c->out == VHCTL_OUT_JSON)
		vhctl_print_json(o, false);
	else if (host)
		print_host(o);
	else
		print_vm(o);
	json_object_put(o);
	return VHCTL_OK;
}
