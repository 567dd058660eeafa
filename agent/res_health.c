/* SPDX-License-Identifier: Apache-2.0 */
/* GET /healthz: the agent serves (200 while the process answers at all).
 * GET /readyz: the agent can do its job: the hypervisor answers
 * HOST_INFO and the persisted definitions have been reconciled with it;
 * 503 (application/problem+json) otherwise, so a load balancer or
 * systemd's health checks route around it.  Neither needs credentials. */
#include <stdio.h>

#include "agent/agent.h"
#include "agent/hvconn.h"
#include "agent/resources.h"

void vh_res_healthz(struct vh_req *r)
{
	struct json_object *o = json_object_new_object();

	if (o) {
		json_object_object_add(o, "status", json_object_new_string("ok"));
		json_object_object_add(o, "version", json_object_new_string(VH_AGENT_VERSION));
		json_object_object_add(
		    o, "uptime_s",
		    json_object_new_int64((int64_t)(time(NULL) - vh_agent->started)));
	}
	vh_reply_json(r, 200, o);
}

void vh_res_readyz(struct vh_req *r)
{
	struct vh_proto_request req;
	struct vh_proto_reply rep;
	struct vh_api_problem p;
	struct json_object *o;

	vh_hv_request(&req, VH_PROTO_HOST_INFO, NULL);
	if (vh_hv_call(&req, &rep, &p)) {
		vh_reply_fail(r, VH_API_UNAVAILABLE, "", "not ready: %s", p.detail);
		return;
	}
	if (!vh_agent_ready()) {
		vh_reply_fail(r, VH_API_UNAVAILABLE, "",
			      "not ready: reconciling the persisted VMs with the hypervisor");
		return;
	}
	o = json_object_new_object();
	if (o) {
		json_object_object_add(o, "status", json_object_new_string("ready"));
		json_object_object_add(o, "hypervisor",
				       json_object_new_string(rep.u.host_info.vh_version));
		json_object_object_add(o, "vms", json_object_new_int64(rep.u.host_info.nvms));
	}
	vh_reply_json(r, 200, o);
}
