/* SPDX-License-Identifier: Apache-2.0 */
/* The agent's process-wide state (agent.h). */
#include "agent/agent.h"

#include "agent/hvconn.h"

static struct vh_agent the_agent;
struct vh_agent *vh_agent = &the_agent;

bool vh_agent_ready(void)
{
	uint64_t now = vh_hv_instance();

	return atomic_load(&vh_agent->reconciled) && now != 0 &&
	       atomic_load(&vh_agent->reconciled_instance) == now;
}

static uint64_t fnv1a(const uint8_t *s, size_t n)
{
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ s[i]) * 1099511628211ull;
	return h;
}

pthread_mutex_t *vh_agent_vm_lock(const uint8_t uuid[16])
{
	return &vh_agent->vm_locks[fnv1a(uuid, 16) % VH_AGENT_VM_LOCKS];
}
