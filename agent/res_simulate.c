/* SPDX-License-Identifier: Apache-2.0 */
/* POST /v1/simulate: what-if.  The live host (HOST_INFO, every VM with
 * its controls and its counters now against the sampler's from a minute
 * earlier) and the request's changes become a vh-sim scenario
 * (api/whatif.c), vh-sim runs it in a child process within
 * simulate_timeout_ms (simrun.c), and its report becomes the reply.
 * Nothing is sent to the hypervisor but reads: the running host is never
 * touched.
 *
 * Operators only, as the VM changes it predicts are theirs to make (ESX
 * leaves DRS what-ifs to those who may apply them), and because each
 * call costs a simulation's CPU time: a viewer could otherwise load the
 * host at will. */
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "agent/hvconn.h"
#include "agent/resources.h"
#include "agent/sampler.h"
#include "agent/simrun.h"

/* Demand is measured over the last minute the sampler holds (or as much
 * of it as there is, at least this much). */
#define DEMAND_WINDOW_NS 60000000000ull
#define MIN_AGE_NS       500000000ull

void vh_res_simulate(struct vh_req *r)
{
	struct json_object *body = vh_req_json(r), *o = NULL;
	struct vh_proto_host_info hi;
	struct vh_proto_host_stats hs;
	struct vh_hv_vm_snap *snap = NULL;
	struct vh_api_diag_vm *vms = NULL;
	struct vh_api_whatif *w = NULL;
	struct vh_api_whatif_input in = { 0 };
	struct vh_sample a = { 0 };
	struct vh_api_problem p = { 0 };
	char *scenario = NULL, *report = NULL;
	size_t n = 0;

	if (!body)
		return;
	if (vh_hv_host_read(&hi, &hs, NULL, 0, NULL, &p) || vh_hv_vms_snapshot(&snap, &n, &p)) {
		vh_vmu_read_problem(r, &p);
		goto out;
	}
	if (vh_sampler_before(hs.now_ns > DEMAND_WINDOW_NS ? hs.now_ns - DEMAND_WINDOW_NS : 0,
			      hs.now_ns, MIN_AGE_NS, 0, &a)) {
		vh_reply_fail(r, VH_API_BUSY, "",
			      "the agent has sampled the counters for less than a second (since "
			      "it or the hypervisor started); try again in a second");
		goto out;
	}
	if (!(vms = vh_sampler_pair(&a, snap, n)) || !(w = calloc(1, sizeof(*w)))) {
		vh_reply_fail(r, VH_API_INTERNAL, "", "out of memory");
		goto out;
	}
	in.hi = &hi;
	in.window_ns = hs.now_ns > a.now_ns ? hs.now_ns - a.now_ns : 0;
	in.vms = vms;
	in.nvms = n;
	if (vh_api_whatif_from_json(body, &in, w, &p)) {
		vh_reply_problem(r, &p);
		goto out;
	}
	if (!(scenario = vh_api_whatif_scenario(&in, w))) {
		vh_reply_fail(r, VH_API_INTERNAL, "", "out of memory");
		goto out;
	}
	if (vh_simrun(vh_agent->cfg.simulator, scenario, vh_agent->cfg.simulate_timeout_ms,
		      &report, &p) ||
	    !(o = vh_api_whatif_reply(&in, w, report, &p))) {
		vh_reply_problem(r, &p);
		goto out;
	}
	vh_reply_json(r, 200, o);
out:
	if (w)
		vh_api_whatif_free(w);
	free(w);
	free(scenario);
	free(report);
	free(vms);
	free(a.vms);
	free(snap);
	json_object_put(body);
}
