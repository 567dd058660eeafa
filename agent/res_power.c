/* SPDX-License-Identifier: Apache-2.0 */
/* PUT /v1/vms/{vm}/power ({"state":"running"|"stopped"|"paused","force":b})
 * and POST /v1/vms/{vm}/reset.
 *
 * Power is declarative: the body says the state wanted, the agent finds
 * the protocol operation that gets there from the state the VM is in
 * (the table below), and a VM already there is left alone (200, nothing
 * done), so a retry is harmless.  vh has no cooperative guest shutdown:
 * "stopped" powers the guest off, so from running or paused it needs
 * "force": true (as DELETE of a running VM needs ?force=true). */
#include <stdio.h>
#include <string.h>

#include "agent/agent.h"
#include "agent/hvconn.h"
#include "agent/resources.h"

enum step { NOTHING, START, STOP, PAUSE, RESUME, REFUSE };

/* [current state][wanted] -> operation. */
static const enum step steps[VH_VM_STATE_COUNT][VH_API_POWER_COUNT] = {
	[VH_VM_DEFINED] = { START, NOTHING, REFUSE }, [VH_VM_RUNNING] = { NOTHING, STOP, PAUSE },
	[VH_VM_PAUSED] = { RESUME, STOP, NOTHING },   [VH_VM_STOPPED] = { START, NOTHING, REFUSE },
	[VH_VM_CRASHED] = { START, NOTHING, REFUSE }, /* crashed is powered off already */
};

static const uint16_t step_type[] = {
	[START] = VH_PROTO_VM_START,
	[STOP] = VH_PROTO_VM_STOP,
	[PAUSE] = VH_PROTO_VM_PAUSE,
	[RESUME] = VH_PROTO_VM_RESUME,
};

static int act(const struct vh_proto_vm_info *info, uint16_t type, struct vh_api_problem *p)
{
	struct vh_proto_request req;
	struct vh_proto_reply rep;

	vh_hv_request(&req, type, NULL);
	req.vm.kind = VH_PROTO_REF_UUID;
	memcpy(req.vm.uuid, info->config.uuid, 16);
	return vh_hv_call(&req, &rep, p);
}

/* Reads the VM after a change, persists its power state (best effort:
 * the record's "power" is informational; the hypervisor is the truth
 * about what runs) and replies with it. */
static void finish(struct vh_req *r, const struct vh_proto_vm_info *before)
{
	struct vh_proto_vm_ref ref = { .kind = VH_PROTO_REF_UUID };
	struct vh_proto_vm_info info;
	struct vh_api_problem p;

	memcpy(ref.uuid, before->config.uuid, 16);
	if (vh_hv_vm_get(&ref, &info, &p)) {
		vh_reply_problem(r, &p);
		return;
	}
	if (info.summary.state != before->summary.state && vh_vmu_persist(&info, &p))
		vh_log(VH_LOG_WARNING, "VM %s: %s", info.summary.name, p.detail);
	vh_vmu_reply(r, 200, &info);
}

void vh_res_vm_power(struct vh_req *r)
{
	struct json_object *body = vh_req_json(r);
	struct vh_proto_vm_info info;
	struct vh_api_problem p = { 0 };
	struct vh_api_power want;
	pthread_mutex_t *lock;
	enum step step;

	if (!body)
		return;
	if (vh_api_power_from_json(body, &want, &p)) {
		json_object_put(body);
		vh_reply_problem(r, &p);
		return;
	}
	json_object_put(body);
	if (!(lock = vh_vmu_lock(r, &info)))
		return;
	if (vh_vmu_if_match(r, &info))
		goto out;
	step =
	    info.summary.state < VH_VM_STATE_COUNT ? steps[info.summary.state][want.state] : REFUSE;
	if (step == REFUSE) {
		vh_reply_fail(r, VH_API_CONFLICT, "state", "VM \"%s\" is %s: it cannot be paused",
			      info.summary.name, vh_api_state_name(info.summary.state));
		goto out;
	}
	if (step == STOP && !want.force &&
	    (info.summary.state == VH_VM_RUNNING || info.summary.state == VH_VM_PAUSED)) {
		vh_reply_fail(
		    r, VH_API_CONFLICT, "force",
		    "VM \"%s\" is %s: stopping powers the guest off (vh has no guest shutdown); "
		    "send \"force\": true",
		    info.summary.name, vh_api_state_name(info.summary.state));
		goto out;
	}
	if (step == NOTHING) {
		vh_vmu_reply(r, 200, &info);
		goto out;
	}
	if (act(&info, step_type[step], &p)) {
		vh_reply_problem(r, &p);
		goto out;
	}
	finish(r, &info);
out:
	vh_vmu_unlock(lock);
}

void vh_res_vm_reset(struct vh_req *r)
{
	struct vh_proto_vm_info info;
	struct vh_api_problem p;
	pthread_mutex_t *lock;

	if (!(lock = vh_vmu_lock(r, &info)))
		return;
	if (vh_vmu_if_match(r, &info) == 0) {
		if (act(&info, VH_PROTO_VM_RESET, &p))
			vh_reply_problem(r, &p);
		else
			finish(r, &info);
	}
	vh_vmu_unlock(lock);
}
