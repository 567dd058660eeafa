/* SPDX-License-Identifier: Apache-2.0 */
/* vhctl host: GET /v1/host as a short key/value listing (or the JSON). */
#include "cli/vhctl.h"

int vhctl_cmd_host(struct vhctl *c, int argc, char **argv)
{
	struct json_object *h;
	struct vhctl_table *t;
	char a[32], b[32], d[32];
	int n, rc;

	if ((n = vhctl_parse(c, argc, argv, NULL, NULL, 0, 0)) < 0)
		return vhctl_parse_exit(n);
	if ((rc = vhctl_call(c, "GET", "/v1/host", NULL, NULL, &h, NULL, 0)))
		return rc;
	if (c->out == VHCTL_OUT_JSON) {
		vhctl_print_json(h, false);
		json_object_put(h);
		return VHCTL_OK;
	}
	t = vhctl_table_new(2, NULL);
	vhctl_table_rowf(t, "Version:\t%s (protocol %llu..%llu)", vhctl_jstr(h, "version"),
			 (unsigned long long)vhctl_ju64(h, "protocol_version.min"),
			 (unsigned long long)vhctl_ju64(h, "protocol_version.max"));
	vhctl_fmt_mhz(vhctl_jget(h, "cpu.mhz_per_pcpu"), a, sizeof(a));
	vhctl_fmt_mhz(vhctl_jget(h, "cpu.capacity_mhz"), b, sizeof(b));
	vhctl_table_rowf(t, "pCPUs:\t%llu x %s (capacity %s)",
			 (unsigned long long)vhctl_ju64(h, "cpu.pcpus"), a, b);
	vhctl_fmt_mhz(vhctl_jget(h, "cpu.reserved_mhz"), a, sizeof(a));
	vhctl_fmt_mhz(vhctl_jget(h, "cpu.free_mhz"), b, sizeof(b));
	vhctl_table_rowf(t, "CPU reserved:\t%s (free %s)", a, b);
	vhctl_fmt_mib(vhctl_jget(h, "memory.total_mib"), a, sizeof(a));
	vhctl_fmt_mib(vhctl_jget(h, "memory.capacity_mib"), b, sizeof(b));
	vhctl_fmt_mib(vhctl_jget(h, "memory.overhead_mib"), d, sizeof(d));
	vhctl_table_rowf(t, "Memory:\t%s (capacity %s, hypervisor overhead %s)", a, b, d);
	vhctl_fmt_mib(vhctl_jget(h, "memory.reserved_mib"), a, sizeof(a));
	vhctl_fmt_mib(vhctl_jget(h, "memory.free_mib"), b, sizeof(b));
	vhctl_table_rowf(t, "Memory reserved:\t%s (free %s)", a, b);
	vhctl_fmt_mibf(vhctl_jdouble(h, "memory.unused_mib"), a, sizeof(a));
	vhctl_fmt_mibf(vhctl_jdouble(h, "memory.shared_saved_mib"), b, sizeof(b));
	vhctl_table_rowf(t, "Memory unused:\t%s (saved by page sharing %s)", a, b);
	vhctl_table_rowf(t, "VMs:\t%llu defined, %llu powered on (at most %llu)",
			 (unsigned long long)vhctl_ju64(h, "vms.defined"),
			 (unsigned long long)vhctl_ju64(h, "vms.powered_on"),
			 (unsigned long long)vhctl_ju64(h, "vms.max"));
	vhctl_fmt_mib(vhctl_jget(h, "limits.max_memory_mib"), a, sizeof(a));
	vhctl_table_rowf(t, "Per VM:\tat most %llu vCPUs, %s memory, %llu modules, %llu devices",
			 (unsigned long long)vhctl_ju64(h, "limits.max_vcpus"), a,
			 (unsigned long long)vhctl_ju64(h, "limits.max_modules"),
			 (unsigned long long)vhctl_ju64(h, "limits.max_devices"));
	vhctl_table_print(t, stdout);
	vhctl_table_free(t);
	json_object_put(h);
	return VHCTL_OK;
}
