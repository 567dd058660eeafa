/* SPDX-License-Identifier: Apache-2.0 */
/* The small request bodies that are neither a VM nor its controls:
 * PUT /v1/vms/{vm}/power and POST /v1/tokens.  Here rather than in the
 * agent's handlers so that the request-body fuzz target reaches every
 * route's body through the same code the agent runs. */
#include <string.h>

#include "api/api_internal.h"

static const char *const power_names[VH_API_POWER_COUNT] = {
	[VH_API_POWER_RUNNING] = "running",
	[VH_API_POWER_STOPPED] = "stopped",
	[VH_API_POWER_PAUSED] = "paused",
};

static const char *const role_names[] = { "viewer", "operator", "admin" };

static int index_of(const char *s, const char *const *names, int count)
{
	for (int i = 0; i < count; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

int vh_api_power_from_json(struct json_object *obj, struct vh_api_power *out,
			   struct vh_api_problem *p)
{
	static const char *const keys[] = { "state", "force", NULL };
	const char *state = NULL;
	bool force = false;
	int want;

	if (vh_api_only_keys(obj, "", keys, p) ||
	    vh_api_get_string(obj, "state", "state", 16, true, &state, p) ||
	    vh_api_get_bool(obj, "force", "force", false, &force, p))
		return -1;
	if ((want = index_of(state, power_names, VH_API_POWER_COUNT)) < 0)
		return vh_api_fail(p, VH_API_INVALID_FIELD, "state",
				   "state: \"%s\" is not one of running, stopped, paused", state);
	out->state = (enum vh_api_power_state)want;
	out->force = force;
	return 0;
}

int vh_api_token_request_from_json(struct json_object *obj, struct vh_api_token_request *out,
				   struct vh_api_problem *p)
{
	static const char *const keys[] = { "name", "role", NULL };
	const char *name = NULL, *role = NULL;

	if (vh_api_only_keys(obj, "", keys, p) ||
	    vh_api_get_string(obj, "name", "name", 63, true, &name, p) ||
	    vh_api_get_string(obj, "role", "role", 16, true, &role, p))
		return -1;
	if (!vh_api_name_valid(name))
		return vh_api_fail(p, VH_API_INVALID_FIELD, "name",
				   "name: 1-63 of A-Z a-z 0-9 . _ -");
	if (index_of(role, role_names, 3) < 0)
		return vh_api_fail(p, VH_API_INVALID_FIELD, "role",
				   "role: \"%s\" is not viewer, operator or admin", role);
	memcpy(out->name, name, strlen(name) + 1);
	memcpy(out->role, role, strlen(role) + 1);
	return 0;
}
