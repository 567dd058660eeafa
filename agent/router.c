/* SPDX-License-Identifier: Apache-2.0 */
/* The route table (see router.h).  api/openapi.yaml is the contract;
 * `vhagent --routes` prints this table so the contract's lint checks
 * that both list the same operations. */
#include "agent/router.h"

#include <string.h>

#include "agent/resources.h"

#define GET      VH_M_GET
#define POST     VH_M_POST
#define PUT      VH_M_PUT
#define PATCH    VH_M_PATCH
#define DELETE   VH_M_DELETE
#define OPEN     VH_ROLE_NONE
#define VIEWER   VH_ROLE_VIEWER
#define OPERATOR VH_ROLE_OPERATOR
#define ADMIN    VH_ROLE_ADMIN
#define NONE     VH_BODY_NONE
#define JSON     VH_BODY_JSON
#define KEYS     false /* Idempotency-Key taken (POST) */
#define NO_KEYS  true  /* refused: the response holds a secret */

static const struct vh_route routes[] = {
	{ GET, "/healthz", OPEN, NONE, vh_res_healthz, NULL, NULL, NULL, KEYS },
	{ GET, "/readyz", OPEN, NONE, vh_res_readyz, NULL, NULL, NULL, KEYS },
	{ GET, "/metrics", VIEWER, NONE, vh_res_metrics, NULL, NULL, NULL, KEYS },
	{ GET, "/v1/host", VIEWER, NONE, vh_res_host_get, NULL, NULL, NULL, KEYS },
	{ GET, "/v1/host/diagnosis", VIEWER, NONE, vh_res_host_diagnosis, NULL, NULL, NULL, KEYS },
	{ GET, "/v1/stats", VIEWER, NONE, vh_res_stats, NULL, NULL, NULL, KEYS },
	{ GET, "/v1/vms", VIEWER, NONE, vh_res_vms_list, NULL, NULL, NULL, KEYS },
	{ POST, "/v1/vms", OPERATOR, JSON, vh_res_vms_create, NULL, NULL, NULL, KEYS },
	{ GET, "/v1/vms/{vm}", VIEWER, NONE, vh_res_vm_get, NULL, NULL, NULL, KEYS },
	{ PATCH, "/v1/vms/{vm}", OPERATOR, JSON, vh_res_vm_patch, NULL, NULL, NULL, KEYS },
	{ DELETE, "/v1/vms/{vm}", OPERATOR, NONE, vh_res_vm_delete, NULL, NULL, NULL, KEYS },
	{ PUT, "/v1/vms/{vm}/power", OPERATOR, JSON, vh_res_vm_power, NULL, NULL, NULL, KEYS },
	{ POST, "/v1/vms/{vm}/reset", OPERATOR, NONE, vh_res_vm_reset, NULL, NULL, NULL, KEYS },
	{ PUT, "/v1/vms/{vm}/cpu", OPERATOR, JSON, vh_res_vm_cpu, NULL, NULL, NULL, KEYS },
	{ PUT, "/v1/vms/{vm}/memory", OPERATOR, JSON, vh_res_vm_memory, NULL, NULL, NULL, KEYS },
	{ PUT, "/v1/vms/{vm}/balloon", OPERATOR, JSON, vh_res_vm_balloon, NULL, NULL, NULL, KEYS },
	{ GET, "/v1/vms/{vm}/stats", VIEWER, NONE, vh_res_vm_stats, NULL, NULL, NULL, KEYS },
	{ GET, "/v1/vms/{vm}/diagnosis", VIEWER, NONE, vh_res_vm_diagnosis, NULL, NULL, NULL,
	  KEYS },
	{ GET, "/v1/vms/{vm}/console", VIEWER, NONE, vh_res_vm_console, NULL, NULL, NULL, KEYS },
	{ GET, "/v1/events", VIEWER, NONE, vh_res_events, NULL, NULL, NULL, KEYS },
	{ POST, "/v1/simulate", OPERATOR, JSON, vh_res_simulate, NULL, NULL, NULL, KEYS },
	{ GET, "/v1/images", VIEWER, NONE, vh_res_images_list, NULL, NULL, NULL, KEYS },
	{ GET, "/v1/images/{name}", VIEWER, NONE, vh_res_image_get, NULL, NULL, NULL, KEYS },
	{ PUT, "/v1/images/{name}", OPERATOR, VH_BODY_STREAM, vh_res_image_put,
	  vh_res_image_put_begin, vh_res_image_put_data, vh_res_image_put_abort, KEYS },
	{ DELETE, "/v1/images/{name}", OPERATOR, NONE, vh_res_image_delete, NULL, NULL, NULL,
	  KEYS },
	{ GET, "/v1/disks", VIEWER, NONE, vh_res_disks_list, NULL, NULL, NULL, KEYS },
	{ POST, "/v1/disks", OPERATOR, JSON, vh_res_disk_post, NULL, NULL, NULL, KEYS },
	{ GET, "/v1/disks/{disk}", VIEWER, NONE, vh_res_disk_get, NULL, NULL, NULL, KEYS },
	{ PUT, "/v1/disks/{disk}", OPERATOR, VH_BODY_STREAM, vh_res_disk_put,
	  vh_res_disk_put_begin, vh_res_disk_put_data, vh_res_disk_put_abort, KEYS },
	{ PATCH, "/v1/disks/{disk}", OPERATOR, JSON, vh_res_disk_patch, NULL, NULL, NULL, KEYS },
	{ DELETE, "/v1/disks/{disk}", OPERATOR, NONE, vh_res_disk_delete, NULL, NULL, NULL, KEYS },
	{ GET, "/v1/tokens", ADMIN, NONE, vh_res_tokens_list, NULL, NULL, NULL, KEYS },
	{ POST, "/v1/tokens", ADMIN, JSON, vh_res_tokens_create, NULL, NULL, NULL, NO_KEYS },
	{ DELETE, "/v1/tokens/{token}", ADMIN, NONE, vh_res_token_delete, NULL, NULL, NULL, KEYS },
};

const char *vh_method_name(enum vh_method m)
{
	static const char *const names[VH_M_COUNT] = { "GET",   "HEAD",   "POST", "PUT",
						       "PATCH", "DELETE", "OTHER" };
	return (unsigned)m < VH_M_COUNT ? names[m] : "OTHER";
}

/* Matches one pattern; path parameters go to params (when given).  A
 * parameter matches one non-empty segment. */
static bool match(const char *pat, const char *path, char params[][VH_REQ_PARAM_MAX])
{
	int np = 0;

	while (*pat && *path) {
		if (*pat == '{') {
			const char *end = strchr(pat, '}');
			size_t n = strcspn(path, "/");

			if (!end || n == 0 || n >= VH_REQ_PARAM_MAX || np >= VH_REQ_PARAMS)
				return false;
			if (params) {
				memcpy(params[np], path, n);
				params[np][n] = '\0';
			}
			np++;
			pat = end + 1;
			path += n;
			continue;
		}
		if (*pat != *path)
			return false;
		pat++;
		path++;
	}
	return *pat == '\0' && *path == '\0';
}

enum vh_route_match vh_route_find(enum vh_method m, const char *path, struct vh_req *r,
				  const struct vh_route **out, char *allow, size_t allowcap)
{
	bool path_known = false;
	size_t used = 0;

	/* HEAD is GET without the body (libmicrohttpd drops it). */
	if (m == VH_M_HEAD)
		m = VH_M_GET;
	if (allowcap)
		allow[0] = '\0';
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		const struct vh_route *rt = &routes[i];

		if (rt->method == m && match(rt->pattern, path, r->params)) {
			*out = rt;
			return VH_ROUTE_FOUND;
		}
	}
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		const struct vh_route *rt = &routes[i];
		const char *name;
		size_t n;

		if (!match(rt->pattern, path, NULL))
			continue;
		path_known = true;
		name = vh_method_name(rt->method);
		n = strlen(name);
		if (rt->method == VH_M_GET && used + 11 < allowcap) {
			memcpy(allow + used, used ? ", GET, HEAD" : "GET, HEAD", used ? 11 : 9);
			used += used ? 11 : 9;
			allow[used] = '\0';
		} else if (rt->method != VH_M_GET && used + n + 2 < allowcap) {
			if (used) {
				memcpy(allow + used, ", ", 2);
				used += 2;
			}
			memcpy(allow + used, name, n);
			used += n;
			allow[used] = '\0';
		}
	}
	return path_known ? VH_ROUTE_NO_METHOD : VH_ROUTE_NO_PATH;
}

void vh_routes_print(FILE *f)
{
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		fprintf(f, "%s %s\n", vh_method_name(routes[i].method), routes[i].pattern);
}
