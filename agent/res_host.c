/* SPDX-License-Identifier: Apache-2.0 */
/* GET /v1/host: the hypervisor's HOST_INFO and HOST_STATS as one
 * resource (version, pCPUs, MHz, memory; reserved and free CPU and
 * memory). */
#include "agent/agent.h"
#include "agent/hvconn.h"
#include "agent/resources.h"

void vh_res_host_get(struct vh_req *r)
{
	struct vh_proto_host_info hi;
	struct vh_proto_host_stats hs;
	struct vh_api_problem p;
	struct json_object *o;

	if (vh_hv_host_read(&hi, &hs, NULL, 0, NULL, &p)) {
		vh_reply_problem(r, &p);
		return;
	}
	o = vh_api_host_to_json(&hi, &hs);
	vh_reply_json(r, 200, o);
}
