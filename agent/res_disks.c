/* SPDX-License-Identifier: Apache-2.0 */
/* /v1/disks: the datastore (agent/disks.c), the folder vh-hosted opens
 * VM disks from.  POST creates a thin disk of a size; PUT imports a raw
 * body (curl -T), streamed and hashed as it comes and visible only when
 * whole (and matching the SHA-256 the client gave, as ?sha256=HEX or the
 * X-Checksum-Sha256 header); PATCH grows; DELETE is refused while a VM's
 * definition names the disk.  Each disk shows the VMs it is attached to,
 * read from the hypervisor's definitions (VM_GET), the one truth. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/agent.h"
#include "agent/hvconn.h"
#include "agent/resources.h"

/* ---- attachments ------------------------------------------------------------- */

struct attach {
	char vm[VH_VM_NAME_MAX];
	uint8_t uuid[16];
	char disk[VH_DISK_NAME_MAX];
	uint32_t flags;
};

struct attachments {
	struct attach *v;
	size_t n, cap;
};

static int collect(void *ctx, const struct vh_proto_vm_info *info)
{
	struct attachments *a = ctx;

	for (uint32_t i = 0; i < info->config.ndisks && i < VH_VM_MAX_DISKS; i++) {
		if (a->n == a->cap) {
			size_t cap = a->cap ? a->cap * 2 : 16;
			struct attach *nv = realloc(a->v, cap * sizeof(*nv));
			if (!nv)
				return -1;
			a->v = nv;
			a->cap = cap;
		}
		struct attach *t = &a->v[a->n++];
		memcpy(t->vm, info->summary.name, sizeof(t->vm));
		memcpy(t->uuid, info->config.uuid, sizeof(t->uuid));
		memcpy(t->disk, info->config.disks[i].name, sizeof(t->disk));
		t->flags = info->config.disks[i].flags;
	}
	return 0;
}

/* Every VM's disks.  0, or -1 after a problem reply. */
static int attachments_read(struct vh_req *r, struct attachments *a)
{
	struct vh_api_problem p;
	int rc;

	memset(a, 0, sizeof(*a));
	rc = vh_hv_each_vm_info(collect, a, &p);
	if (rc == 0)
		return 0;
	free(a->v);
	a->v = NULL;
	if (rc > 0 || rc < -1 || p.code == VH_API_OK)
		vh_reply_fail(r, VH_API_INTERNAL, "", "out of memory listing attachments");
	else
		vh_vmu_read_problem(r, &p);
	return -1;
}

static struct json_object *attached_json(const struct attachments *a, const char *disk)
{
	struct json_object *arr = json_object_new_array();

	for (size_t i = 0; arr && i < a->n; i++) {
		struct json_object *o;
		if (strcmp(a->v[i].disk, disk))
			continue;
		o = json_object_new_object();
		if (!o || json_object_array_add(arr, o)) {
			json_object_put(o);
			json_object_put(arr);
			return NULL;
		}
		json_object_object_add(o, "vm", json_object_new_string(a->v[i].vm));
		json_object_object_add(
		    o, "readonly",
		    json_object_new_boolean((a->v[i].flags & VH_DISK_F_READONLY) != 0));
	}
	return arr;
}

static struct json_object *disk_json(const struct vh_disk_info *di, const struct attachments *a,
				     const char *sha256)
{
	struct json_object *o = json_object_new_object();
	char when[32];
	struct tm tm;

	if (!o)
		return NULL;
	gmtime_r(&di->mtime, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	json_object_object_add(o, "name", json_object_new_string(di->name));
	json_object_object_add(o, "size", json_object_new_uint64(di->size));
	json_object_object_add(o, "allocated", json_object_new_uint64(di->allocated));
	json_object_object_add(o, "modified", json_object_new_string(when));
	json_object_object_add(o, "attached",
			       a ? attached_json(a, di->name) : json_object_new_array());
	if (sha256)
		json_object_object_add(o, "sha256", json_object_new_string(sha256));
	return o;
}

static int name_ok(struct vh_req *r)
{
	if (vh_vm_name_valid(r->params[0]))
		return 0;
	vh_reply_fail(r, VH_API_INVALID_FIELD, "name",
		      "name: \"%.64s\" is not a disk name (1..63 letters, digits, '.', '_' or '-', "
		      "starting with a letter or digit: no '/', no '..')",
		      r->params[0]);
	return -1;
}

/* The body of a POST (create: name and size) or a PATCH (grow: the size,
 * the disk named by the path, checked after the body parses as JSON).  0,
 * or -1 with the problem replied. */
static int disk_request(struct vh_req *r, bool create, struct vh_api_disk_request *dr)
{
	struct json_object *obj = vh_req_json(r);
	struct vh_api_problem p;
	int rc = 0;

	if (!obj)
		return -1;
	if ((!create && name_ok(r)) || vh_api_disk_request_from_json(obj, create, dr, &p)) {
		if (!r->status)
			vh_reply_problem(r, &p);
		rc = -1;
	}
	json_object_put(obj);
	return rc;
}

static void reply_created(struct vh_req *r, const struct vh_disk_info *di, const char *how,
			  const char *sha256)
{
	char loc[128];

	vh_log(VH_LOG_INFO, "disk %s %s (%llu bytes%s%s) by %s", di->name, how,
	       (unsigned long long)di->size, sha256 ? ", sha256 " : "", sha256 ? sha256 : "",
	       r->principal);
	snprintf(loc, sizeof(loc), "/v1/disks/%s", di->name);
	vh_reply_json(r, 201, disk_json(di, NULL, sha256));
	vh_reply_header(r, "Location", loc);
}

/* ---- POST /v1/disks ----------------------------------------------------------- */

void vh_res_disk_post(struct vh_req *r)
{
	struct vh_api_disk_request dr;
	struct vh_disk_info di;
	enum vh_file_err e;
	char err[256] = "";

	if (disk_request(r, true, &dr))
		return;
	e = vh_disk_create(vh_agent->disks, dr.name, dr.size, &di, err, sizeof(err));
	if (e != VH_FILE_OK)
		vh_res_file_problem(r, e, e == VH_FILE_EEXIST ? "name" : "size", err);
	else
		reply_created(r, &di, "created", NULL);
}

/* ---- PUT /v1/disks/{disk} ------------------------------------------------------ */

int vh_res_disk_put_begin(struct vh_req *r)
{
	const char *sha = vh_req_query(r, "sha256");
	const char *cl = vh_req_header(r, "Content-Length");
	struct vh_disk_import *imp = NULL;
	enum vh_file_err e;
	char err[256] = "";

	if (!sha)
		sha = vh_req_header(r, "X-Checksum-Sha256");
	if (name_ok(r))
		return -1;
	e = vh_disk_import_begin(vh_agent->disks, r->params[0], sha,
				 cl ? strtoull(cl, NULL, 10) : UINT64_MAX, &imp, err, sizeof(err));
	if (e != VH_FILE_OK) {
		vh_res_file_problem(r, e, e == VH_FILE_EINVAL ? "sha256" : "name", err);
		return -1;
	}
	r->stream = imp;
	return 0;
}

int vh_res_disk_put_data(struct vh_req *r, const char *data, size_t len)
{
	enum vh_file_err e;
	char err[256] = "";

	if (!r->stream)
		return -1;
	e = vh_disk_import_write(r->stream, data, len, err, sizeof(err));
	if (e != VH_FILE_OK) {
		vh_disk_import_abort(r->stream);
		r->stream = NULL;
		vh_res_file_problem(r, e, "", err);
		return -1;
	}
	return 0;
}

void vh_res_disk_put_abort(struct vh_req *r)
{
	if (r->stream)
		vh_disk_import_abort(r->stream);
	r->stream = NULL;
}

void vh_res_disk_put(struct vh_req *r)
{
	struct vh_disk_info di;
	enum vh_file_err e;
	char err[256] = "", sha[65];

	if (!r->stream) {
		vh_reply_fail(r, VH_API_INTERNAL, "", "no import in progress");
		return;
	}
	e = vh_disk_import_finish(r->stream, &di, sha, err, sizeof(err));
	r->stream = NULL; /* freed by finish in every case */
	if (e != VH_FILE_OK)
		vh_res_file_problem(r, e, e == VH_FILE_EEXIST ? "name" : "", err);
	else
		reply_created(r, &di, "imported", sha);
}

/* ---- GET ---------------------------------------------------------------------------- */

struct list_ctx {
	struct json_object *items;
	const struct attachments *a;
};

static int list_one(void *ctx, const struct vh_disk_info *di)
{
	struct list_ctx *l = ctx;
	struct json_object *o = disk_json(di, l->a, NULL);

	if (!o)
		return -1;
	json_object_array_add(l->items, o);
	return 0;
}

void vh_res_disks_list(struct vh_req *r)
{
	struct json_object *o, *items;
	struct attachments a;
	struct list_ctx l;

	if (vh_vmu_read_ready(r) || attachments_read(r, &a))
		return;
	o = json_object_new_object();
	items = json_object_new_array();
	l = (struct list_ctx){ items, &a };
	if (!o || !items || vh_disks_each(vh_agent->disks, list_one, &l) < 0) {
		json_object_put(o);
		json_object_put(items);
		vh_reply_fail(r, VH_API_INTERNAL, "", "cannot list the disks");
	} else {
		json_object_object_add(o, "items", items);
		vh_reply_json(r, 200, o);
	}
	free(a.v);
}

static void reply_disk(struct vh_req *r, int status, const struct vh_disk_info *di)
{
	struct attachments a;

	if (attachments_read(r, &a))
		return;
	vh_reply_json(r, status, disk_json(di, &a, NULL));
	free(a.v);
}

void vh_res_disk_get(struct vh_req *r)
{
	struct vh_disk_info di;
	enum vh_file_err e;

	if (name_ok(r) || vh_vmu_read_ready(r))
		return;
	e = vh_disk_stat(vh_agent->disks, r->params[0], &di);
	if (e == VH_FILE_ENOENT)
		vh_reply_fail(r, VH_API_NOT_FOUND, "name", "no disk named \"%s\"", r->params[0]);
	else if (e != VH_FILE_OK)
		vh_reply_fail(r, VH_API_INTERNAL, "", "cannot read disk \"%s\"", r->params[0]);
	else
		reply_disk(r, 200, &di);
}

/* ---- PATCH /v1/disks/{disk}: grow ------------------------------------------------- */

void vh_res_disk_patch(struct vh_req *r)
{
	struct vh_api_disk_request dr;
	struct vh_disk_info di;
	enum vh_file_err e;
	char err[256] = "";

	if (disk_request(r, false, &dr))
		return;
	e = vh_disk_grow(vh_agent->disks, r->params[0], dr.size, &di, err, sizeof(err));
	if (e != VH_FILE_OK) {
		vh_res_file_problem(r, e, e == VH_FILE_ENOENT ? "name" : "size", err);
		return;
	}
	vh_log(VH_LOG_INFO, "disk %s is %llu bytes (by %s)", di.name, (unsigned long long)di.size,
	       r->principal);
	reply_disk(r, 200, &di);
}

/* ---- DELETE /v1/disks/{disk} ------------------------------------------------------ */

void vh_res_disk_delete(struct vh_req *r)
{
	struct attachments a = { 0 };
	char users[512] = "", err[256] = "";
	enum vh_file_err e;
	size_t n = 0;

	if (name_ok(r))
		return;
	/* Held until the file is gone: no definition can name the disk
	 * between the check and the unlink. */
	pthread_mutex_lock(&vh_agent->disk_lock);
	if (vh_vmu_read_ready(r) || attachments_read(r, &a))
		goto out;
	for (size_t i = 0; i < a.n; i++) {
		size_t len = strlen(users);
		if (strcmp(a.v[i].disk, r->params[0]))
			continue;
		snprintf(users + len, sizeof(users) - len, "%s\"%s\"", n++ ? ", " : "", a.v[i].vm);
	}
	if (n) {
		vh_reply_fail(r, VH_API_CONFLICT, "name",
			      "disk \"%s\" is attached to VM%s %s: detach it first (PATCH the "
			      "VM's disks)",
			      r->params[0], n > 1 ? "s" : "", users);
		goto out;
	}
	e = vh_disk_delete(vh_agent->disks, r->params[0], err, sizeof(err));
	if (e != VH_FILE_OK) {
		vh_res_file_problem(r, e, "name", err);
		goto out;
	}
	vh_log(VH_LOG_INFO, "disk %s deleted by %s", r->params[0], r->principal);
	vh_reply_empty(r, 204);
out:
	pthread_mutex_unlock(&vh_agent->disk_lock);
	free(a.v);
}

/* ---- a VM's disks ------------------------------------------------------------------- */

int vh_res_disks_check(struct vh_req *r, const struct vh_vm_config *cfg, const uint8_t self[16])
{
	struct attachments a;
	char field[32];
	int rc = 0;

	if (!cfg->ndisks)
		return 0;
	for (uint32_t i = 0; i < cfg->ndisks && i < VH_VM_MAX_DISKS; i++) {
		struct vh_disk_info di;
		snprintf(field, sizeof(field), "disks[%u].disk", i);
		if (vh_disk_stat(vh_agent->disks, cfg->disks[i].name, &di) != VH_FILE_OK) {
			vh_reply_fail(r, VH_API_INVALID_FIELD, field,
				      "%s: no disk named \"%s\" (create it with POST /v1/disks or "
				      "PUT /v1/disks/%s)",
				      field, cfg->disks[i].name, cfg->disks[i].name);
			return -1;
		}
	}
	if (attachments_read(r, &a))
		return -1;
	for (uint32_t i = 0; !rc && i < cfg->ndisks && i < VH_VM_MAX_DISKS; i++) {
		const struct vh_disk_config *d = &cfg->disks[i];
		for (size_t j = 0; j < a.n; j++) {
			const struct attach *t = &a.v[j];
			if (strcmp(t->disk, d->name) || !memcmp(t->uuid, self, 16))
				continue;
			/* One writer and nobody else, or any number of readers. */
			if ((t->flags & VH_DISK_F_READONLY) && (d->flags & VH_DISK_F_READONLY))
				continue;
			snprintf(field, sizeof(field), "disks[%u].disk", i);
			vh_reply_fail(
			    r, VH_API_CONFLICT, field,
			    "%s: disk \"%s\" is attached %s to VM \"%s\"%s", field, d->name,
			    (t->flags & VH_DISK_F_READONLY) ? "read-only" : "read-write", t->vm,
			    (t->flags & VH_DISK_F_READONLY)
				? ": attach it read-only here too"
				: ": a disk written by one VM is for that VM alone");
			rc = -1;
			break;
		}
	}
	free(a.v);
	return rc;
}
