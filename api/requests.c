/* SPDX-License-Identifier: Apache-2.0 */
/* The small request bodies that are neither a VM nor its controls:
 * PUT /v1/vms/{vm}/power, POST /v1/tokens, POST and PATCH /v1/disks.  Here rather than in the
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

int vh_api_disk_request_from_json(struct json_object *obj, bool with_name,
				  struct vh_api_disk_request *out, struct vh_api_problem *p)
{
	static const char *const create_keys[] = { "name", "size", NULL };
	static const char *const grow_keys[] = { "size", NULL };
	const char *name = NULL;
	uint64_t size = 0;

	memset(out, 0, sizeof(*out));
	if (vh_api_only_keys(obj, "", with_name ? create_keys : grow_keys, p) ||
	    (with_name &&
	     vh_api_get_string(obj, "name", "name", VH_DISK_NAME_MAX - 1, true, &name, p)) ||
	    vh_api_get_u64(obj, "size", "size", 512, VH_API_DISK_MAX_BYTES, true, &size, p))
		return -1;
	if (name && !vh_vm_name_valid(name))
		return vh_api_fail(p, VH_API_INVALID_FIELD, "name",
				   "name: \"%s\" is not a disk name (1..%u letters, digits, '.', "
				   "'_' or '-', starting with a letter or digit: no '/', no '..')",
				   name, VH_DISK_NAME_MAX - 1);
	if (size % 512)
		return vh_api_fail(p, VH_API_INVALID_FIELD, "size",
				   "size: %llu is not a whole number of 512-byte sectors",
				   (unsigned long long)size);
	if (name)
		memcpy(out->name, name, strlen(name) + 1);
	out->size = size;
	return 0;
}
