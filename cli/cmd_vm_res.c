/* SPDX-License-Identifier: Apache-2.0 */
/* vhctl vm cpu|mem|balloon: the run-time resource controls.  PUT
 * /v1/vms/{vm}/cpu replaces the whole object, but people name only what
 * they change (`--shares high`), so vhctl reads the VM, changes the named
 * controls and PUTs the result with If-Match: a concurrent change is a
 * conflict (exit 4), never silently undone. */
#include <stdlib.h>
#include <string.h>

#include "cli/vhctl.h"

static void print_controls(struct vhctl *c, struct json_object *vm, bool mem)
{
	struct json_object *o = vhctl_jget(vm, mem ? "memory" : "cpu");
	char s[32], r[32], l[32];

	if (c->out == VHCTL_OUT_JSON) {
		vhctl_print_json(o, false);
		return;
	}
	vhctl_fmt_shares(vhctl_jget(o, "shares"), s, sizeof(s));
	if (mem) {
		vhctl_fmt_mib(vhctl_jget(o, "reservation_mib"), r, sizeof(r));
		vhctl_fmt_mib(vhctl_jget(o, "limit_mib"), l, sizeof(l));
	} else {
		vhctl_fmt_mhz(vhctl_jget(o, "reservation_mhz"), r, sizeof(r));
		vhctl_fmt_mhz(vhctl_jget(o, "limit_mhz"), l, sizeof(l));
	}
	printf("%s: %s shares %s, reservation %s, limit %s\n", vhctl_jstr(vm, "name"),
	       mem ? "memory" : "cpu", s, r, l);
}

static int controls(struct vhctl *c, int argc, char **argv, bool mem)
{
	const char *shares = NULL, *res = NULL, *limit = NULL, *name;
	const struct vhctl_opt opts[] = {
		{ "shares", 0, &shares, NULL },
		{ "reservation", 0, &res, NULL },
		{ "limit", 0, &limit, NULL },
		{ NULL, 0, NULL, NULL },
	};
	struct json_object *vm = NULL, *body = NULL, *now = NULL;
	char etag[128], *path;
	int n, rc;

	if ((n = vhctl_parse(c, argc, argv, opts, &name, 1, 1)) < 0)
		return vhctl_parse_exit(n);
	if ((rc = vhctl_check_vm_arg(c, name)))
		return rc;
	/* Flags first: a typo in a unit needs no round trip. */
	body = json_object_new_object();
	if ((rc = vhctl_set_controls(c, body, mem, shares, res, limit))) {
		json_object_put(body);
		return rc;
	}
	path = vhctl_path("/v1/vms/", name, NULL);
	rc = vhctl_call(c, "GET", path, NULL, NULL, &vm, etag, sizeof(etag));
	free(path);
	if (rc) {
		json_object_put(body);
		return rc;
	}
	if (!shares && !res && !limit) {
		print_controls(c, vm, mem);
		json_object_put(body);
		json_object_put(vm);
		return VHCTL_OK;
	}
	/* The current controls, then the named ones over them. */
	{
		struct json_object *cur = vhctl_jget(vm, mem ? "memory" : "cpu"), *put = NULL;

		if (!cur || json_object_deep_copy(cur, &put, NULL) || !put) {
			fprintf(stderr, "vhctl: the agent's VM has no %s controls\n",
				mem ? "memory" : "cpu");
			json_object_put(body);
			json_object_put(vm);
			return VHCTL_ERROR;
		}
		json_object_object_foreach(body, k, v)
		{
			json_object_object_add(put, k, json_object_get(v));
		}
		json_object_put(body);
		body = put;
	}
	path = vhctl_path("/v1/vms/", name, mem ? "/memory" : "/cpu");
	rc = vhctl_call(c, "PUT", path, body, etag[0] ? etag : NULL, &now, NULL, 0);
	free(path);
	json_object_put(body);
	json_object_put(vm);
	if (rc) {
		if (rc == VHCTL_CONFLICT && c->last_code == VH_API_PRECONDITION)
			fprintf(
			    stderr,
			    "vhctl: the VM changed since vhctl read it; run the command again\n");
		return rc;
	}
	/* -o json: the API's answer, the whole VM. */
	if (c->out == VHCTL_OUT_JSON)
		vhctl_print_json(now, false);
	else
		print_controls(c, now, mem);
	json_object_put(now);
	return VHCTL_OK;
}

int vhctl_vm_cpu(struct vhctl *c, int argc, char **argv)
{
	return controls(c, argc, argv, false);
}

int vhctl_vm_mem(struct vhctl *c, int argc, char **argv)
{
	return controls(c, argc, argv, true);
}

int vhctl_vm_balloon(struct vhctl *c, int argc, char **argv)
{
	const char *pos[2];
	struct json_object *body, *vm;
	struct vh_api_problem p;
	uint64_t mib;
	char *path, a[32];
	int n, rc;

	if ((n = vhctl_parse(c, argc, argv, NULL, pos, 2, 2)) < 0)
		return vhctl_parse_exit(n);
	if ((rc = vhctl_check_vm_arg(c, pos[0])))
		return rc;
	if (vh_api_parse_mib(pos[1], &mib, &p, "SIZE"))
		return vhctl_usage_error(c, "%s", p.detail);
	body = json_object_new_object();
	json_object_object_add(body, "target_mib", json_object_new_uint64(mib));
	path = vhctl_path("/v1/vms/", pos[0], "/balloon");
	rc = vhctl_call(c, "PUT", path, body, NULL, &vm, NULL, 0);
	free(path);
	json_object_put(body);
	if (rc)
		return rc;
	if (c->out == VHCTL_OUT_JSON) {
		vhctl_print_json(vm, false);
	} else {
		vhctl_fmt_mib(vhctl_jget(vm, "balloon.target_mib"), a, sizeof(a));
		printf("%s: balloon target %s\n", vhctl_jstr(vm, "name"), a);
	}
	json_object_put(vm);
	return VHCTL_OK;
}
