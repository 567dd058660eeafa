/* SPDX-License-Identifier: Apache-2.0 */
/* /v1/images: guest images under <state>/images, the folder vh-hosted
 * loads kernels and modules from.  PUT streams the body (curl -T) into
 * agent/images.c, which hashes it as it comes and makes it visible only
 * when whole (and matching the SHA-256 the client gave, as ?sha256=HEX
 * or the X-Checksum-Sha256 header).  DELETE is refused while a VM boots
 * from the image. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/agent.h"
#include "agent/hvconn.h"
#include "agent/resources.h"

static struct json_object *image_json(const struct vh_image_info *ii)
{
	struct json_object *o = json_object_new_object();
	char when[32];
	struct tm tm;

	if (!o)
		return NULL;
	gmtime_r(&ii->mtime, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	json_object_object_add(o, "name", json_object_new_string(ii->name));
	json_object_object_add(o, "size", json_object_new_uint64(ii->size));
	json_object_object_add(o, "sha256", json_object_new_string(ii->sha256));
	json_object_object_add(o, "modified", json_object_new_string(when));
	return o;
}

static int name_ok(struct vh_req *r)
{
	if (vh_api_image_name_valid(r->params[0]))
		return 0;
	vh_reply_fail(
	    r, VH_API_INVALID_FIELD, "name",
	    "name: \"%.64s\" is not an image name (1-63 of A-Z a-z 0-9 . _ -, not . or ..)",
	    r->params[0]);
	return -1;
}

void vh_res_file_problem(struct vh_req *r, enum vh_file_err e, const char *field,
			 const char *err)
{
	static const enum vh_api_code codes[] = {
		[VH_FILE_EINVAL] = VH_API_INVALID_FIELD,
		[VH_FILE_ENOENT] = VH_API_NOT_FOUND,
		[VH_FILE_ETOOBIG] = VH_API_TOO_LARGE,
		[VH_FILE_ECHECKSUM] = VH_API_CHECKSUM,
		[VH_FILE_EIO] = VH_API_INTERNAL,
		[VH_FILE_ENOSPC] = VH_API_INSUFFICIENT_STORAGE,
		[VH_FILE_EEXIST] = VH_API_CONFLICT,
	};
	enum vh_api_code code =
	    (unsigned)e < sizeof(codes) / sizeof(codes[0]) && codes[e] ? codes[e] : VH_API_INTERNAL;

	vh_reply_fail(r, code, e == VH_FILE_ECHECKSUM ? "sha256" : field, "%s", err);
}

static void image_problem(struct vh_req *r, enum vh_file_err e, const char *err)
{
	vh_res_file_problem(r, e, e == VH_FILE_EINVAL ? "sha256" : "", err);
}

/* ---- PUT /v1/images/{name} ---------------------------------------------------- */

int vh_res_image_put_begin(struct vh_req *r)
{
	const char *sha = vh_req_query(r, "sha256");
	const char *cl = vh_req_header(r, "Content-Length");
	uint64_t max = atomic_load(&vh_agent->max_image_bytes);
	struct vh_image_upload *up = NULL;
	enum vh_file_err e;
	char err[256] = "";

	if (!sha)
		sha = vh_req_header(r, "X-Checksum-Sha256");
	if (name_ok(r))
		return -1;
	if (cl && strtoull(cl, NULL, 10) > max) {
		vh_reply_fail(r, VH_API_TOO_LARGE, "",
			      "the image (%s bytes) is over the limit of %llu bytes", cl,
			      (unsigned long long)max);
		return -1;
	}
	e = vh_image_upload_begin(vh_agent->images, r->params[0], sha, &up, err, sizeof(err));
	if (e != VH_FILE_OK) {
		image_problem(r, e, err);
		return -1;
	}
	r->stream = up;
	return 0;
}

int vh_res_image_put_data(struct vh_req *r, const char *data, size_t len)
{
	enum vh_file_err e;
	char err[256] = "";

	if (!r->stream)
		return -1;
	if (r->body_seen > atomic_load(&vh_agent->max_image_bytes)) {
		vh_image_upload_abort(r->stream);
		r->stream = NULL;
		vh_reply_fail(r, VH_API_TOO_LARGE, "", "the image is over the limit of %llu bytes",
			      (unsigned long long)atomic_load(&vh_agent->max_image_bytes));
		return -1;
	}
	e = vh_image_upload_write(r->stream, data, len, err, sizeof(err));
	if (e != VH_FILE_OK) {
		vh_image_upload_abort(r->stream);
		r->stream = NULL;
		image_problem(r, e, err);
		return -1;
	}
	return 0;
}

void vh_res_image_put_abort(struct vh_req *r)
{
	if (r->stream)
		vh_image_upload_abort(r->stream);
	r->stream = NULL;
}

void vh_res_image_put(struct vh_req *r)
{
	struct vh_image_info ii;
	enum vh_file_err e;
	int created = 0;
	char err[256] = "", loc[128];

	if (!r->stream) {
		vh_reply_fail(r, VH_API_INTERNAL, "", "no upload in progress");
		return;
	}
	e = vh_image_upload_finish(r->stream, &ii, &created, err, sizeof(err));
	r->stream = NULL; /* freed by finish in every case */
	if (e != VH_FILE_OK) {
		image_problem(r, e, err);
		return;
	}
	vh_log(VH_LOG_INFO, "image %s %s (%llu bytes, sha256 %s) by %s", ii.name,
	       created ? "added" : "replaced", (unsigned long long)ii.size, ii.sha256,
	       r->principal);
	snprintf(loc, sizeof(loc), "/v1/images/%s", ii.name);
	vh_reply_json(r, created ? 201 : 200, image_json(&ii));
	if (created)
		vh_reply_header(r, "Location", loc);
}

/* ---- GET ------------------------------------------------------------------------- */

static int list_one(void *ctx, const struct vh_image_info *ii)
{
	struct json_object *o = image_json(ii);

	if (!o)
		return -1;
	json_object_array_add(ctx, o);
	return 0;
}

void vh_res_images_list(struct vh_req *r)
{
	struct json_object *o = json_object_new_object();
	struct json_object *items = json_object_new_array();

	if (!o || !items || vh_images_each(vh_agent->images, list_one, items) < 0) {
		json_object_put(o);
		json_object_put(items);
		vh_reply_fail(r, VH_API_INTERNAL, "", "cannot list the images");
		return;
	}
	json_object_object_add(o, "items", items);
	vh_reply_json(r, 200, o);
}

void vh_res_image_get(struct vh_req *r)
{
	struct vh_image_info ii;
	enum vh_file_err e;

	if (name_ok(r))
		return;
	e = vh_images_stat(vh_agent->images, r->params[0], &ii);
	if (e == VH_FILE_ENOENT)
		vh_reply_fail(r, VH_API_NOT_FOUND, "name", "no image named \"%s\"", r->params[0]);
	else if (e != VH_FILE_OK)
		vh_reply_fail(r, VH_API_INTERNAL, "", "cannot read image \"%s\"", r->params[0]);
	else
		vh_reply_json(r, 200, image_json(&ii));
}

/* ---- DELETE /v1/images/{name} ---------------------------------------------------- */

struct image_use {
	const char *image;
	char *user;
};

static int uses_image(void *ctx, const struct vh_proto_vm_info *info)
{
	struct image_use *u = ctx;

	if (!vh_vmu_uses_image(&info->config, u->image))
		return 0;
	memcpy(u->user, info->summary.name, VH_VM_NAME_MAX);
	return 1;
}

/* The name of a VM that boots from image, into user (empty: none).
 * Returns -1 with p set when the hypervisor cannot say. */
static int image_user(const char *image, char user[VH_VM_NAME_MAX], struct vh_api_problem *p)
{
	struct image_use u = { image, user };

	user[0] = '\0';
	return vh_hv_each_vm_info(uses_image, &u, p) < 0 ? -1 : 0;
}

void vh_res_image_delete(struct vh_req *r)
{
	struct vh_api_problem p;
	char user[VH_VM_NAME_MAX];
	char err[256] = "";
	enum vh_file_err e;

	if (name_ok(r))
		return;
	pthread_rwlock_wrlock(&vh_agent->image_lock);
	if (image_user(r->params[0], user, &p)) {
		vh_reply_problem(r, &p);
	} else if (user[0]) {
		vh_reply_fail(r, VH_API_CONFLICT, "name", "image \"%s\" is in use by VM \"%s\"",
			      r->params[0], user);
	} else if ((e = vh_images_delete(vh_agent->images, r->params[0], err, sizeof(err))) !=
		   VH_FILE_OK) {
		if (e == VH_FILE_ENOENT)
			vh_reply_fail(r, VH_API_NOT_FOUND, "name", "no image named \"%s\"",
				      r->params[0]);
		else
			image_problem(r, e, err);
	} else {
		vh_reply_empty(r, 204);
	}
	pthread_rwlock_unlock(&vh_agent->image_lock);
}
