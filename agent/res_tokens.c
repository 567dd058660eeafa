/* SPDX-License-Identifier: Apache-2.0 */
/* /v1/tokens (admin only): bearer tokens over the API, the same records
 * `vhagent token create|list|revoke` edits (agent/auth.h).  The secret
 * is in the creation response only; the agent keeps a salted hash. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "agent/agent.h"
#include "agent/fsutil.h"
#include "agent/resources.h"

static struct json_object *token_json(const struct vh_token_info *t)
{
	struct json_object *o = json_object_new_object();
	char when[32];
	struct tm tm;

	if (!o)
		return NULL;
	gmtime_r(&t->created, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	json_object_object_add(o, "id", json_object_new_string(t->id));
	json_object_object_add(o, "name", json_object_new_string(t->name));
	json_object_object_add(o, "role", json_object_new_string(vh_role_name(t->role)));
	json_object_object_add(o, "created", json_object_new_string(when));
	return o;
}

static int list_one(void *ctx, const struct vh_token_info *t)
{
	struct json_object *o = token_json(t);

	if (!o)
		return -1;
	json_object_array_add(ctx, o);
	return 0;
}

void vh_res_tokens_list(struct vh_req *r)
{
	struct json_object *o = json_object_new_object();
	struct json_object *items = json_object_new_array();

	if (!o || !items || vh_auth_token_each(vh_agent->auth, list_one, items) < 0) {
		json_object_put(o);
		json_object_put(items);
		vh_reply_fail(r, VH_API_INTERNAL, "", "cannot list the tokens");
		return;
	}
	json_object_object_add(o, "items", items);
	vh_reply_json(r, 200, o);
}

void vh_res_tokens_create(struct vh_req *r)
{
	struct json_object *body = vh_req_json(r), *o;
	struct vh_api_problem p = { 0 };
	struct vh_api_token_request want;
	struct vh_token_info info;
	char secret[128], err[256], loc[64];
	enum vh_role rl;

	if (!body)
		return;
	if (vh_api_token_request_from_json(body, &want, &p)) {
		json_object_put(body);
		vh_reply_problem(r, &p);
		return;
	}
	rl = vh_role_from_name(want.role);
	if (vh_auth_token_create(vh_agent->auth, want.name, rl, &info, secret, sizeof(secret), err,
				 sizeof(err))) {
		if (errno == EEXIST)
			vh_reply_fail(r, VH_API_CONFLICT, "name", "%s", err);
		else if (vh_fs_is_full(errno))
			vh_reply_fail(r, VH_API_INSUFFICIENT_STORAGE, "",
				      "cannot create the token: the state folder is full (%s)",
				      err);
		else
			vh_reply_fail(r, VH_API_INTERNAL, "", "cannot create the token: %s", err);
	} else {
		vh_log(VH_LOG_INFO, "token %s (%s, %s) created by %s", info.id, info.name,
		       vh_role_name(rl), r->principal);
		o = token_json(&info);
		if (o)
			json_object_object_add(o, "token", json_object_new_string(secret));
		explicit_bzero(secret, sizeof(secret));
		snprintf(loc, sizeof(loc), "/v1/tokens/%s", info.id);
		vh_reply_json(r, 201, o);
		vh_reply_header(r, "Location", loc);
	}
	json_object_put(body);
}

void vh_res_token_delete(struct vh_req *r)
{
	char err[256] = "";

	if (vh_auth_token_revoke(vh_agent->auth, r->params[0], err, sizeof(err)) == 0) {
		vh_log(VH_LOG_INFO, "token %s revoked by %s", r->params[0], r->principal);
		vh_reply_empty(r, 204);
	} else if (errno == ENOENT) {
		vh_reply_fail(r, VH_API_NOT_FOUND, "token", "no token with id or name \"%.64s\"",
			      r->params[0]);
	} else {
		vh_reply_fail(r, VH_API_INTERNAL, "", "cannot revoke the token: %s", err);
	}
}
