/* SPDX-License-Identifier: Apache-2.0 */
/* vhctl token create|list|revoke: the agent's bearer tokens, through
 * /v1/tokens (admin only).  The secret exists in the create answer only:
 * the agent keeps a salted hash, so it is printed once, on a line of its
 * own, last, for `| tail -1`. */
#include <stdlib.h>
#include <string.h>

#include "cli/vhctl.h"

static int token_create(struct vhctl *c, int argc, char **argv)
{
	const char *role = NULL, *name;
	const struct vhctl_opt opts[] = {
		{ "role", 'r', &role, NULL },
		{ NULL, 0, NULL, NULL },
	};
	struct json_object *body, *o;
	int n, rc;

	if ((n = vhctl_parse(c, argc, argv, opts, &name, 1, 1)) < 0)
		return vhctl_parse_exit(n);
	if (!role)
		return vhctl_usage_error(c, "--role viewer|operator|admin is required");
	body = json_object_new_object();
	json_object_object_add(body, "name", json_object_new_string(name));
	json_object_object_add(body, "role", json_object_new_string(role));
	rc = vhctl_call(c, "POST", "/v1/tokens", body, NULL, &o, NULL, 0);
	json_object_put(body);
	if (rc)
		return rc;
	if (c->out == VHCTL_OUT_JSON) {
		vhctl_print_json(o, false);
	} else {
		fprintf(stderr,
			"created token %s (id %s, role %s); its secret is shown only now:\n",
			vhctl_jstr(o, "name"), vhctl_jstr(o, "id"), vhctl_jstr(o, "role"));
		printf("%s\n", vhctl_jstr(o, "token"));
	}
	json_object_put(o);
	return VHCTL_OK;
}

static int token_list(struct vhctl *c, int argc, char **argv)
{
	static const char *const hdr[] = { "ID", "NAME", "ROLE", "CREATED" };
	struct json_object *o, *items;
	struct vhctl_table *t;
	int n, rc;

	if ((n = vhctl_parse(c, argc, argv, NULL, NULL, 0, 0)) < 0)
		return vhctl_parse_exit(n);
	if ((rc = vhctl_call(c, "GET", "/v1/tokens", NULL, NULL, &o, NULL, 0)))
		return rc;
	if (c->out == VHCTL_OUT_JSON) {
		vhctl_print_json(o, false);
		json_object_put(o);
		return VHCTL_OK;
	}
	t = vhctl_table_new(4, hdr);
	items = vhctl_jget(o, "items");
	for (size_t i = 0; items && i < json_object_array_length(items); i++) {
		struct json_object *k = json_object_array_get_idx(items, i);
		vhctl_table_rowf(t, "%s\t%s\t%s\t%s", vhctl_jstr(k, "id"), vhctl_jstr(k, "name"),
				 vhctl_jstr(k, "role"), vhctl_jstr(k, "created"));
	}
	vhctl_table_print(t, stdout);
	vhctl_table_free(t);
	json_object_put(o);
	return VHCTL_OK;
}

static int token_revoke(struct vhctl *c, int argc, char **argv)
{
	const char *id;
	char *path;
	int n, rc;

	if ((n = vhctl_parse(c, argc, argv, NULL, &id, 1, 1)) < 0)
		return vhctl_parse_exit(n);
	if (!*id)
		return vhctl_usage_error(c, "the token id is empty");
	path = vhctl_path("/v1/tokens/", id, NULL);
	rc = vhctl_call(c, "DELETE", path, NULL, NULL, NULL, NULL, 0);
	free(path);
	if (!rc && c->out == VHCTL_OUT_TABLE)
		printf("revoked token %s\n", id);
	return rc;
}

const struct vhctl_cmd vhctl_token_cmds[] = {
	{ "create", "NAME --role viewer|operator|admin", "make a token; its secret is printed once",
	  token_create, NULL },
	{ "list", "", "list tokens (never their secrets)", token_list, NULL },
	{ "revoke", "ID|NAME", "revoke a token at once", token_revoke, NULL },
	{ NULL, NULL, NULL, NULL, NULL },
};
