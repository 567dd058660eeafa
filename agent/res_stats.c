/* SPDX-License-Identifier: Apache-2.0 */
/* GET /v1/vms/{vm}/stats (the VM's counters and each vCPU's) and GET
 * /v1/stats (the host's and every VM's counters), read from the
 * hypervisor's published counters, or with VM_STATS, HOST_STATS and
 * VM_STATS_ALL where they are not mapped (hvquery.c). */
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "agent/hvconn.h"
#include "agent/resources.h"

void vh_res_vm_stats(struct vh_req *r)
{
	struct vh_proto_vcpu_stats vcpus[VH_VM_MAX_VCPUS];
	struct vh_proto_vm_summary s;
	struct vh_proto_vm_stats st;
	struct vh_proto_vm_ref ref;
	struct vh_api_problem p;
	uint32_t n = 0;

	vh_vmu_ref_of(r, &ref);
	if (vh_hv_vm_stats(&ref, &s, &st, vcpus, &n, &p)) {
		vh_vmu_read_problem(r, &p);
		return;
	}
	vh_reply_json(r, 200, vh_api_vm_stats_to_json(&s, &st, vcpus, n));
}

void vh_res_stats(struct vh_req *r)
{
	struct vh_proto_host_info hi;
	struct vh_proto_host_stats hs;
	struct vh_api_problem p;
	struct vh_hv_vm_snap *v = NULL;
	struct json_object *o, *vms;
	size_t n = 0;

	if (vh_hv_host_read(&hi, &hs, NULL, 0, NULL, &p) || vh_hv_vms_snapshot(&v, &n, &p)) {
		vh_reply_problem(r, &p);
		return;
	}
	o = json_object_new_object();
	vms = json_object_new_array_ext((int)n);
	if (!o || !vms) {
		json_object_put(o);
		json_object_put(vms);
		free(v);
		vh_reply_fail(r, VH_API_INTERNAL, "", "out of memory");
		return;
	}
	json_object_object_add(o, "host", vh_api_host_to_json(&hi, &hs));
	for (size_t i = 0; i < n; i++)
		json_object_array_add(vms, vh_api_vm_stats_to_json(&v[i].s, &v[i].st, NULL, 0));
	json_object_object_add(o, "vms", vms);
	free(v);
	vh_reply_json(r, 200, o);
}
