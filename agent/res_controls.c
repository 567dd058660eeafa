/* SPDX-License-Identifier: Apache-2.0 */
/* PUT /v1/vms/{vm}/cpu, /memory and /balloon: run-time resource
 * controls.  PUT replaces the whole object (absent keys take their
 * defaults).  The hypervisor admission-controls a larger reservation on
 * a powered-on VM and refuses it with the shortfall (409, nothing
 * changed); the new controls are then persisted, and put back in the
 * hypervisor if persisting fails. */
#include <stdio.h>
#include <string.h>

#include "agent/agent.h"
#include "agent/hvconn.h"
#include "agent/resources.h"

enum control { CPU, MEM, BALLOON };

static int send_control(const uint8_t uuid[16], enum control which,
			const struct vh_cpu_controls *cpu, const struct vh_mem_controls *mem,
			uint64_t balloon, struct vh_api_problem *p)
{
	static const uint16_t types[] = { [CPU] = VH_PROTO_VM_SET_CPU,
					  [MEM] = VH_PROTO_VM_SET_MEM,
					  [BALLOON] = VH_PROTO_VM_SET_BALLOON };
	struct vh_proto_request req;
	struct vh_proto_reply rep;

	vh_hv_request(&req, types[which], NULL);
	req.vm.kind = VH_PROTO_REF_UUID;
	memcpy(req.vm.uuid, uuid, 16);
	if (which == CPU)
		req.u.cpu = *cpu;
	else if (which == MEM)
		req.u.mem = *mem;
	else
		req.u.balloon_target_mib = balloon;
	return vh_hv_call(&req, &rep, p);
}

static void put_control(struct vh_req *r, enum control which)
{
	static const char *const balloon_keys[] = { "target_mib", NULL };
	struct json_object *body = vh_req_json(r);
	struct vh_proto_vm_info info, now;
	struct vh_api_problem p = { 0 };
	struct vh_cpu_controls cpu = { 0 };
	struct vh_mem_controls mem = { 0 };
	uint64_t balloon = 0;
	pthread_mutex_t *lock;
	int rc;

	if (!body)
		return;
	if (which == CPU)
		rc = vh_api_cpu_from_json(body, &cpu, &p);
	else if (which == MEM)
		rc = vh_api_mem_from_json(body, &mem, &p);
	else
		rc = vh_api_only_keys(body, "", balloon_keys, &p) ||
		     vh_api_get_u64(body, "target_mib", "target_mib", 0, VH_VM_MAX_MEMORY_MIB, true,
				    &balloon, &p);
	json_object_put(body);
	if (rc) {
		vh_reply_problem(r, &p);
		return;
	}
	if (!(lock = vh_vmu_lock(r, &info)))
		return;
	if (vh_vmu_if_match(r, &info))
		goto out;
	if (which == BALLOON && balloon > info.config.memory_mib) {
		vh_reply_fail(r, VH_API_INVALID_FIELD, "target_mib",
			      "target_mib: %llu is more than the VM's %llu MiB of memory",
			      (unsigned long long)balloon,
			      (unsigned long long)info.config.memory_mib);
		goto out;
	}
	if (send_control(info.config.uuid, which, &cpu, &mem, balloon, &p)) {
		vh_reply_problem(r, &p);
		goto out;
	}
	{
		struct vh_proto_vm_ref ref = { .kind = VH_PROTO_REF_UUID };
		struct vh_api_problem ignored;

		memcpy(ref.uuid, info.config.uuid, 16);
		if (vh_hv_vm_get(&ref, &now, &p) == 0 && vh_vmu_persist(&now, &p) == 0) {
			vh_vmu_reply(r, 200, &now);
			goto out;
		}
		send_control(info.config.uuid, which, &info.config.cpu, &info.config.mem,
			     vh_vmu_balloon_mib(&info.summary), &ignored);
		vh_reply_problem(r, &p);
	}
out:
	vh_vmu_unlock(lock);
}

void vh_res_vm_cpu(struct vh_req *r)
{
	put_control(r, CPU);
}

void vh_res_vm_memory(struct vh_req *r)
{
	put_control(r, MEM);
}

void vh_res_vm_balloon(struct vh_req *r)
{
	put_control(r, BALLOON);
}
