/* SPDX-License-Identifier: Apache-2.0 */
/* GET /v1/host: the hypervisor's HOST_INFO and HOST_STATS as one
 * resource (version, pCPUs, MHz, memory; reserved and free CPU and
 * memory). */
#include "agent/agent.h"
#include "agent/hvconn.h"
#include "agent/resources.h"

int vh_host_read(struct vh_proto_host_info *hi, struct vh_proto_host_stats *hs,
		 struct vh_api_problem *p)
{
	struct vh_proto_request req;
	struct vh_proto_reply rep;

	vh_hv_request(&req, VH_PROTO_HOST_INFO, NULL);
	if (vh_hv_call(&req, &rep, p))
		return -1;
	*hi = rep.u.host_info;
	vh_hv_request(&req, VH_PROTO_HOST_STATS, NULL);
	if (vh_hv_call(&req, &rep, p))
		return -1;
	*hs = rep.u.host_stats;
	return 0;
}

void vh_res_host_get(struct vh_req *r)
{
	struct vh_proto_host_info hi;
	struct vh_proto_host_stats hs;
	struct vh_api_problem p;
	struct json_object *o;

	if (vh_host_read(&hi, &hs, &p)) {
		vh_reply_problem(r, &p);
		return;
	}
	o = vh_api_host_to_json(&hi, &hs);
	vh_reply_json(r, 200, o);
}
