/* SPDX-License-Identifier: Apache-2.0 */
/* GET /v1/vms/{vm}/stats (VM_STATS: the VM's counters and each vCPU's)
 * and GET /v1/stats (HOST_STATS and every VM's counters, VM_STATS_ALL
 * page by page).  Names and uuids come from VM_LIST summaries, since the
 * counters carry only the VM's id. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "agent/hvconn.h"
#include "agent/resources.h"

/* A VM's name and uuid by id, per thread: ids are never reused while
 * the hypervisor runs and a VM keeps its name for its id's life (a
 * rename defines it again under a new id), so an entry stays right until
 * the hypervisor restarts, which vh_hv_generation() tells.  It saves the
 * second round trip of every GET /v1/vms/{vm}/stats. */
#define NAME_SLOTS 1024u

struct name_slot {
	uint64_t gen;
	uint32_t id;
	struct vh_proto_vm_summary s;
};

static pthread_key_t names_key;
static pthread_once_t names_once = PTHREAD_ONCE_INIT;

static void names_key_make(void)
{
	pthread_key_create(&names_key, free);
}

static int summary_of(uint32_t id, struct vh_proto_vm_summary *s, struct vh_api_problem *p)
{
	struct name_slot *slots, *slot;
	uint64_t gen = vh_hv_generation();

	pthread_once(&names_once, names_key_make);
	if (!(slots = pthread_getspecific(names_key)) &&
	    (slots = calloc(NAME_SLOTS, sizeof(*slots))))
		pthread_setspecific(names_key, slots);
	slot = slots ? &slots[id % NAME_SLOTS] : NULL;
	if (slot && slot->id == id && slot->gen == gen) {
		*s = slot->s;
		return 0;
	}
	if (vh_hv_summary_by_id(id, s, p))
		return -1;
	if (slot && gen == vh_hv_generation()) {
		slot->id = id;
		slot->gen = gen;
		slot->s = *s;
	}
	return 0;
}

void vh_res_vm_stats(struct vh_req *r)
{
	struct vh_proto_vcpu_stats vcpus[VH_VM_MAX_VCPUS];
	struct vh_proto_vm_summary s;
	struct vh_proto_vm_stats st;
	struct vh_proto_request req;
	struct vh_proto_reply rep;
	struct vh_api_problem p;
	uint32_t n = 0;

	vh_hv_request(&req, VH_PROTO_VM_STATS, NULL);
	vh_vmu_ref_of(r, &req.vm);
	if (vh_hv_call(&req, &rep, &p)) {
		vh_vmu_read_problem(r, &p);
		return;
	}
	st = rep.u.vm_stats.vm;
	/* The vCPU entries live in this thread's reply buffer: copy them
	 * before the next call. */
	for (uint32_t i = 0; i < rep.nentries && n < VH_VM_MAX_VCPUS; i++)
		if (vh_proto_reply_vcpu(&rep, i, &vcpus[n]) == VH_OK)
			n++;
	if (summary_of(st.id, &s, &p)) {
		vh_reply_problem(r, &p);
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
