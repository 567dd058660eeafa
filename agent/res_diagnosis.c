/* SPDX-License-Identifier: Apache-2.0 */
/* GET /v1/vms/{vm}/diagnosis and GET /v1/host/diagnosis: the counters
 * read now against the agent's sample from ?window_ms= earlier (default
 * 5000; the sampler keeps a minute, sampler.h), handed to libvhapi's
 * diagnosis (api/diagnosis.c), which ranks the causes.
 *
 * Why a sampler rather than two reads a window apart on request: a
 * request would hold its libmicrohttpd thread for the window, and every
 * request queued on that thread would wait with it.  The sampler is one
 * thread and a minute of counters (a few hundred bytes a VM a second);
 * nothing a VM depends on, lost harmlessly when the agent restarts (the
 * first diagnoses after a start then cover what has been sampled). */
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "agent/hvconn.h"
#include "agent/resources.h"
#include "agent/sampler.h"

#define WINDOW_MS_DEFAULT 5000u
#define WINDOW_MS_MIN     1000u
#define WINDOW_MS_MAX     60000u
/* With a younger sampler than the window, the oldest sample at least
 * this old will do. */
#define MIN_AGE_NS 500000000ull

/* The counters now. */
struct now {
	struct vh_proto_host_info hi;
	struct vh_proto_host_stats hs;
	struct vh_hv_vm_snap *vms;
	size_t n;
	/* The VM diagnosed (id 0: the host's diagnosis), each vCPU's
	 * counters since it was defined. */
	uint32_t id, nvcpus;
	struct vh_cpu_stats vcpus[VH_VM_MAX_VCPUS];
};

static int take(struct vh_req *r, bool vm, struct now *s, struct vh_api_problem *p)
{
	struct vh_proto_request req;
	struct vh_proto_reply rep;

	if (vm) {
		vh_hv_request(&req, VH_PROTO_VM_STATS, NULL);
		vh_vmu_ref_of(r, &req.vm);
		if (vh_hv_call(&req, &rep, p))
			return -1;
		s->id = rep.u.vm_stats.vm.id;
		/* The entries live in this thread's reply buffer. */
		for (uint32_t i = 0; i < rep.nentries && s->nvcpus < VH_VM_MAX_VCPUS; i++) {
			struct vh_proto_vcpu_stats vs;
			if (vh_proto_reply_vcpu(&rep, i, &vs) == VH_OK)
				s->vcpus[s->nvcpus++] = vs.cpu;
		}
	}
	if (vh_hv_host_read(&s->hi, &s->hs, NULL, 0, NULL, p) ||
	    vh_hv_vms_snapshot(&s->vms, &s->n, p))
		return -1;
	return 0;
}

static void diagnose(struct vh_req *r, bool vm)
{
	static const struct vh_cpu_stats since_defined[VH_VM_MAX_VCPUS];
	struct now *b = calloc(1, sizeof(*b));
	struct vh_sample a = { 0 };
	struct vh_api_diag_input in = { 0 };
	struct vh_api_diag_vm *v = NULL;
	struct json_object *o = NULL;
	struct vh_api_problem p;
	const char *w = vh_req_query(r, "window_ms");
	uint64_t window = WINDOW_MS_DEFAULT;

	if (w && vh_api_parse_uint(w, WINDOW_MS_MIN, WINDOW_MS_MAX, &window)) {
		free(b);
		vh_reply_fail(
		    r, VH_API_BAD_REQUEST, "window_ms",
		    "window_ms: \"%s\" is not a whole number of milliseconds from %u to %u", w,
		    WINDOW_MS_MIN, WINDOW_MS_MAX);
		return;
	}
	if (!b) {
		vh_reply_fail(r, VH_API_INTERNAL, "", "out of memory");
		return;
	}
	if (take(r, vm, b, &p)) {
		vh_vmu_read_problem(r, &p);
		goto out;
	}
	if (vh_sampler_before(b->hs.now_ns - window * 1000000ull, b->hs.now_ns, MIN_AGE_NS, b->id,
			      &a)) {
		vh_reply_fail(r, VH_API_BUSY, "",
			      "the agent has sampled the counters for less than a second (since "
			      "it, the hypervisor or the VM started); try again in a second");
		goto out;
	}
	if (!(v = vh_sampler_pair(&a, b->vms, b->n))) {
		vh_reply_fail(r, VH_API_INTERNAL, "", "out of memory");
		goto out;
	}
	in.hi = &b->hi;
	in.hs = &b->hs;
	in.window_ns = b->hs.now_ns > a.now_ns ? b->hs.now_ns - a.now_ns : 0;
	in.vms = v;
	in.nvms = b->n;
	if (vm) {
		for (in.self = 0; in.self < b->n && b->vms[in.self].st.id != b->id; in.self++)
			;
		if (in.self == b->n) {
			vh_reply_fail(r, VH_API_NOT_FOUND, "vm", "the VM was deleted meanwhile");
			goto out;
		}
		/* Which vCPU lags is told over the VM's life: the sampler
		 * keeps no per-vCPU counters. */
		in.vcpu_a = since_defined;
		in.vcpu_b = b->vcpus;
		in.nvcpus = b->nvcpus;
		o = vh_api_diagnose_vm(&in);
	} else {
		o = vh_api_diagnose_host(&in);
	}
	if (o)
		vh_reply_json(r, 200, o);
	else
		vh_reply_fail(r, VH_API_INTERNAL, "", "the diagnosis could not be built");
out:
	free(v);
	free(a.vms);
	free(b->vms);
	free(b);
}

void vh_res_vm_diagnosis(struct vh_req *r)
{
	diagnose(r, true);
}

void vh_res_host_diagnosis(struct vh_req *r)
{
	diagnose(r, false);
}
