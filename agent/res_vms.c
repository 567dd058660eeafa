/* SPDX-License-Identifier: Apache-2.0 */
/* /v1/vms and /v1/vms/{vm}: list (filters, pages), define, read, patch,
 * delete.  The hypervisor is the truth about what exists and how it is
 * configured; the store keeps each definition so that a hypervisor that
 * lost it can be given it again (reconcile.c).  A mutation is applied to
 * the hypervisor first and persisted second, and undone in the
 * hypervisor when persisting fails, so nothing is ever half-applied. */
#define _GNU_SOURCE
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "agent/agent.h"
#include "agent/fsutil.h"
#include "agent/hvconn.h"
#include "agent/resources.h"
#include "agent/textcache.h"

/* ---- GET /v1/vms ------------------------------------------------------------ */

#define LIST_DEFAULT 100u
#define LIST_MAX     1000u

/* Each list item's JSON is a pure function of the VM's 184-byte wire
 * summary: a listing of unchanged VMs copies texts made before
 * (textcache.h). */
static struct vh_text_cache items = VH_TEXT_CACHE_INIT(1024u, sizeof(struct vh_wire_vm_summary));

struct list_walk {
	int state;          /* -1: any */
	const char *prefix; /* NULL: any */
	size_t prefix_len;
	uint32_t limit, count;
	char *buf; /* the items, comma-separated */
	size_t len, cap;
	bool oom;
};

static int buf_add(struct list_walk *w, const char *s, size_t n)
{
	return vh_buf_append(&w->buf, &w->len, &w->cap, 65536, s, n);
}

/* Appends the item's JSON text, from the cache or made now (and kept). */
static int item_add(struct list_walk *w, const struct vh_hv_entry *e)
{
	struct vh_proto_vm_summary s;
	struct json_object *o;
	const char *t;
	size_t n = 0;
	int rc;

	if ((t = vh_text_cache_get(&items, e->id, e->wire, &n)))
		return buf_add(w, t, n);
	if (vh_hv_entry_decode(e, &s) || !(o = vh_api_vm_summary_to_json(&s)))
		return -1;
	t = json_object_to_json_string_length(
	    o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
	/* Kept for the next listing; without memory to keep it, it still
	 * serves this one. */
	if (t)
		vh_text_cache_put(&items, e->id, e->wire, t, n);
	rc = t ? buf_add(w, t, n) : -1;
	json_object_put(o);
	return rc;
}

static int list_one(void *ctx, const struct vh_hv_entry *e)
{
	struct list_walk *w = ctx;

	if (w->state >= 0 && (int)e->state != w->state)
		return 0;
	if (w->prefix && strncmp(e->name, w->prefix, w->prefix_len) != 0)
		return 0;
	if (w->count == w->limit)
		return VH_HV_STOP_BEFORE; /* a next page exists and starts here */
	if ((w->count && buf_add(w, ",", 1)) || item_add(w, e)) {
		w->oom = true;
		return VH_HV_STOP_AFTER;
	}
	w->count++;
	return 0;
}

static int parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	uint64_t v;

	if (vh_api_parse_uint(s, min, max, &v))
		return -1;
	*out = (uint32_t)v;
	return 0;
}

void vh_res_vms_list(struct vh_req *r)
{
	struct list_walk w = { .state = -1, .limit = LIST_DEFAULT };
	const char *state = vh_req_query(r, "state");
	const char *limit = vh_req_query(r, "limit");
	const char *cursor = vh_req_query(r, "page_token");
	struct vh_api_problem p;
	const struct vh_hv_list *all;
	uint32_t start = 0, next = 0, lo, hi;
	char tail[96];
	int rc, n;

	if (state && (w.state = vh_api_state_from_name(state)) < 0) {
		vh_reply_fail(
		    r, VH_API_INVALID_FIELD, "state",
		    "state: \"%.40s\" is not one of defined, running, paused, stopped, crashed",
		    state);
		return;
	}
	if ((w.prefix = vh_req_query(r, "name_prefix"))) {
		w.prefix_len = strlen(w.prefix);
		if (w.prefix_len >= VH_VM_NAME_MAX) {
			vh_reply_fail(r, VH_API_INVALID_FIELD, "name_prefix",
				      "name_prefix: at most %d characters", VH_VM_NAME_MAX - 1);
			return;
		}
	}
	if (limit && parse_u32(limit, 1, LIST_MAX, &w.limit)) {
		vh_reply_fail(r, VH_API_INVALID_FIELD, "limit", "limit: an integer from 1 to %u",
			      LIST_MAX);
		return;
	}
	/* The page token is the id of the first VM of the next page: ids
	 * only grow, so a walk sees each VM that lives through it exactly
	 * once. */
	if (cursor && parse_u32(cursor, 1, UINT32_MAX, &start)) {
		vh_reply_fail(r, VH_API_INVALID_FIELD, "page_token",
			      "page_token: not a next_page_token this agent returned");
		return;
	}
	if (buf_add(&w, "{\"items\":[", 10)) {
		free(w.buf);
		vh_reply_fail(r, VH_API_INTERNAL, "", "out of memory listing VMs");
		return;
	}
	if (vh_hv_list_get(&all, &p)) {
		free(w.buf);
		vh_reply_problem(r, &p);
		return;
	}
	if (vh_vmu_read_ready(r)) {
		vh_hv_list_put(all);
		free(w.buf);
		return;
	}
	/* Entries are in id order: the first at or after the token. */
	for (lo = 0, hi = all->n; lo < hi;) {
		uint32_t mid = lo + (hi - lo) / 2;
		struct vh_hv_entry e;

		vh_hv_list_entry(all, mid, &e);
		if (e.id < start)
			lo = mid + 1;
		else
			hi = mid;
	}
	rc = 0;
	for (uint32_t i = lo; i < all->n && !rc; i++) {
		struct vh_hv_entry e;

		vh_hv_list_entry(all, i, &e);
		rc = list_one(&w, &e);
		if (rc == VH_HV_STOP_BEFORE)
			next = e.id;
	}
	vh_hv_list_put(all);
	if (w.oom) {
		free(w.buf);
		vh_reply_fail(r, VH_API_INTERNAL, "", "out of memory listing VMs");
		return;
	}
	if (rc != VH_HV_STOP_BEFORE)
		next = 0;
	if (next)
		n = snprintf(tail, sizeof(tail),
			     "],\"count\":%" PRIu32 ",\"next_page_token\":\"%" PRIu32 "\"}\n",
			     w.count, next);
	else
		n = snprintf(tail, sizeof(tail),
			     "],\"count\":%" PRIu32 ",\"next_page_token\":null}\n", w.count);
	if (buf_add(&w, tail, (size_t)n)) {
		free(w.buf);
		vh_reply_fail(r, VH_API_INTERNAL, "", "out of memory listing VMs");
		return;
	}
	vh_reply_raw(r, 200, "application/json", w.buf, w.len);
}

/* ---- POST /v1/vms ------------------------------------------------------------ */

/* The image named in field exists ("" names none); else a 422 naming it. */
static int image_exists(struct vh_req *r, const char *field, const char *name)
{
	struct vh_image_info ii;

	if (!name[0] || vh_images_stat(vh_agent->images, name, &ii) == VH_FILE_OK)
		return 0;
	vh_reply_fail(r, VH_API_INVALID_FIELD, field,
		      "%s: no image named \"%s\" (upload it with PUT /v1/images/%s)", field, name,
		      name);
	return -1;
}

/* Every image the VM boots from must exist: a VM that names a missing
 * image would only fail at power-on. */
static int images_exist(struct vh_req *r, const struct vh_vm_config *cfg)
{
	if (image_exists(r, "boot.kernel", cfg->boot.kernel) ||
	    image_exists(r, "boot.initrd", cfg->boot.initrd))
		return -1;
	for (uint32_t i = 0; i < cfg->boot.nmodules && i < VH_BOOT_MAX_MODULES; i++) {
		char field[48];
		snprintf(field, sizeof(field), "boot.modules[%u].image", (unsigned)i);
		if (image_exists(r, field, cfg->boot.modules[i].image))
			return -1;
	}
	return 0;
}

static bool uuid_zero(const uint8_t u[16])
{
	for (int i = 0; i < 16; i++)
		if (u[i])
			return false;
	return true;
}

static void uuid_v4(uint8_t u[16])
{
	if (getrandom(u, 16, 0) != 16) {
		/* getrandom cannot fail for 16 bytes once the pool is up;
		 * fall back to the hypervisor generating one. */
		memset(u, 0, 16);
		return;
	}
	u[6] = (u[6] & 0x0f) | 0x40;
	u[8] = (u[8] & 0x3f) | 0x80;
}

static void undefine(const uint8_t uuid[16])
{
	struct vh_api_problem p;

	if (vh_vmu_undefine(uuid, &p))
		vh_log(VH_LOG_ERR, "could not undo a VM definition: %s", p.detail);
}

static int set_balloon(const uint8_t uuid[16], uint64_t mib, struct vh_api_problem *p)
{
	struct vh_proto_request req;
	struct vh_proto_reply rep;

	vh_hv_request(&req, VH_PROTO_VM_SET_BALLOON, NULL);
	req.vm.kind = VH_PROTO_REF_UUID;
	memcpy(req.vm.uuid, uuid, 16);
	req.u.balloon_target_mib = mib;
	return vh_hv_call(&req, &rep, p);
}

static int get_by_uuid(const uint8_t uuid[16], struct vh_proto_vm_info *info,
		       struct vh_api_problem *p)
{
	struct vh_proto_vm_ref ref = { .kind = VH_PROTO_REF_UUID };

	memcpy(ref.uuid, uuid, 16);
	return vh_hv_vm_get(&ref, info, p);
}

/* Defines cfg in the hypervisor (with its balloon target), reading the
 * result into *info; nothing is left defined on failure. */
static int define(const struct vh_vm_config *cfg, uint64_t balloon, struct vh_proto_vm_info *info,
		  struct vh_api_problem *p)
{
	struct vh_proto_request req;
	struct vh_proto_reply rep;

	vh_hv_request(&req, VH_PROTO_VM_DEFINE, NULL);
	req.u.define = *cfg;
	if (vh_hv_call(&req, &rep, p))
		return -1;
	*info = rep.u.vm_info;
	if (balloon != UINT64_MAX && balloon != 0) {
		if (set_balloon(info->config.uuid, balloon, p) ||
		    get_by_uuid(info->config.uuid, info, p)) {
			undefine(info->config.uuid);
			return -1;
		}
	}
	return 0;
}

void vh_res_vms_create(struct vh_req *r)
{
	struct json_object *obj = vh_req_json(r);
	struct vh_api_problem p = { 0 };
	struct vh_proto_vm_info info;
	struct vh_vm_config cfg;
	uint64_t balloon = UINT64_MAX;
	pthread_mutex_t *lock;
	char uuid[37], loc[64];

	if (!obj)
		return;
	if (vh_api_vm_from_json(obj, &cfg, &balloon, &p)) {
		json_object_put(obj);
		vh_reply_problem(r, &p);
		return;
	}
	json_object_put(obj);
	/* The agent picks the uuid, so it can hold the VM's lock before the
	 * VM exists: nobody can touch it between define and persist. */
	if (uuid_zero(cfg.uuid))
		uuid_v4(cfg.uuid);
	if (!(lock = vh_vmu_lock_new(r, cfg.uuid)))
		return;
	pthread_rwlock_rdlock(&vh_agent->image_lock);
	pthread_mutex_lock(&vh_agent->disk_lock);
	if (images_exist(r, &cfg) == 0 && vh_res_disks_check(r, &cfg, cfg.uuid) == 0) {
		if (define(&cfg, balloon, &info, &p)) {
			vh_reply_problem(r, &p);
		} else if (vh_vmu_persist(&info, &p)) {
			undefine(info.config.uuid);
			vh_reply_problem(r, &p);
		} else {
			vh_api_uuid_format(info.config.uuid, uuid);
			snprintf(loc, sizeof(loc), "/v1/vms/%s", uuid);
			vh_vmu_reply(r, 201, &info);
			vh_reply_header(r, "Location", loc);
		}
	}
	pthread_mutex_unlock(&vh_agent->disk_lock);
	pthread_rwlock_unlock(&vh_agent->image_lock);
	vh_vmu_unlock(lock);
}

/* ---- GET /v1/vms/{vm} ---------------------------------------------------------- */

void vh_res_vm_get(struct vh_req *r)
{
	struct vh_proto_vm_ref ref;
	struct vh_proto_vm_info info;
	struct vh_api_problem p;

	vh_vmu_ref_of(r, &ref);
	if (vh_hv_vm_get(&ref, &info, &p)) {
		vh_vmu_read_problem(r, &p);
		return;
	}
	vh_vmu_reply(r, 200, &info);
}

/* ---- PATCH /v1/vms/{vm} -------------------------------------------------------- */

static int set_controls(const uint8_t uuid[16], uint16_t type, const struct vh_vm_config *cfg,
			struct vh_api_problem *p)
{
	struct vh_proto_request req;
	struct vh_proto_reply rep;

	vh_hv_request(&req, type, NULL);
	req.vm.kind = VH_PROTO_REF_UUID;
	memcpy(req.vm.uuid, uuid, 16);
	if (type == VH_PROTO_VM_SET_CPU)
		req.u.cpu = cfg->cpu;
	else
		req.u.mem = cfg->mem;
	return vh_hv_call(&req, &rep, p);
}

/* Applies the patched configuration.  Offline changes (name, vCPUs,
 * memory, co-scheduling, boot) have no protocol operation of their own:
 * the VM, not running, is defined again under the same uuid with the new
 * configuration (its counters start over).  Run-time controls go through
 * VM_SET_*.  On failure whatever was applied is put back. */
static int apply_patch(const struct vh_proto_vm_info *old, const struct vh_vm_config *cfg,
		       uint64_t balloon, unsigned what, struct vh_api_problem *p)
{
	const uint8_t *uuid = old->config.uuid;
	uint64_t old_balloon = vh_vmu_balloon_mib(&old->summary);
	struct vh_api_problem ignored;
	struct vh_proto_vm_info tmp;

	if (what & VH_API_PATCH_OFFLINE) {
		if (vh_vmu_undefine(uuid, p))
			return -1;
		if (define(cfg, (what & VH_API_PATCH_BALLOON) ? balloon : old_balloon, &tmp, p)) {
			if (define(&old->config, old_balloon, &tmp, &ignored))
				vh_log(VH_LOG_ERR, "PATCH: could not restore VM %s: %s",
				       old->summary.name, ignored.detail);
			return -1;
		}
		return 0;
	}
	if ((what & VH_API_PATCH_CPU) && set_controls(uuid, VH_PROTO_VM_SET_CPU, cfg, p))
		return -1;
	if ((what & VH_API_PATCH_MEM) && set_controls(uuid, VH_PROTO_VM_SET_MEM, cfg, p)) {
		if (what & VH_API_PATCH_CPU)
			set_controls(uuid, VH_PROTO_VM_SET_CPU, &old->config, &ignored);
		return -1;
	}
	if ((what & VH_API_PATCH_BALLOON) &&
	    set_balloon(uuid, balloon == UINT64_MAX ? 0 : balloon, p)) {
		if (what & VH_API_PATCH_CPU)
			set_controls(uuid, VH_PROTO_VM_SET_CPU, &old->config, &ignored);
		if (what & VH_API_PATCH_MEM)
			set_controls(uuid, VH_PROTO_VM_SET_MEM, &old->config, &ignored);
		return -1;
	}
	return 0;
}

void vh_res_vm_patch(struct vh_req *r)
{
	struct json_object *patch = vh_req_json(r);
	struct vh_proto_vm_info info, now;
	struct vh_api_problem p = { 0 };
	struct vh_vm_config cfg;
	uint64_t balloon;
	unsigned what = 0;
	pthread_mutex_t *lock;
	bool running;

	if (!patch)
		return;
	if (!(lock = vh_vmu_lock(r, &info))) {
		json_object_put(patch);
		return;
	}
	if (vh_vmu_if_match(r, &info))
		goto out;
	cfg = info.config;
	balloon =
	    info.summary.balloon_request_pages ? vh_vmu_balloon_mib(&info.summary) : UINT64_MAX;
	running = info.summary.state == VH_VM_RUNNING || info.summary.state == VH_VM_PAUSED;
	if (vh_api_vm_patch(patch, running, &cfg, &balloon, &what, &p)) {
		vh_reply_problem(r, &p);
		goto out;
	}
	if (what & VH_API_PATCH_OFFLINE) {
		pthread_rwlock_rdlock(&vh_agent->image_lock);
		pthread_mutex_lock(&vh_agent->disk_lock);
		if (images_exist(r, &cfg) || vh_res_disks_check(r, &cfg, cfg.uuid)) {
			pthread_mutex_unlock(&vh_agent->disk_lock);
			pthread_rwlock_unlock(&vh_agent->image_lock);
			goto out;
		}
	}
	if (what && apply_patch(&info, &cfg, balloon, what, &p)) {
		vh_reply_problem(r, &p);
	} else if (get_by_uuid(info.config.uuid, &now, &p)) {
		vh_reply_problem(r, &p);
	} else if (what && vh_vmu_persist(&now, &p)) {
		/* Put the hypervisor back as it was: the change is refused as
		 * a whole. */
		struct vh_api_problem ignored;
		unsigned all =
		    what & VH_API_PATCH_OFFLINE
			? what
			: what | VH_API_PATCH_CPU | VH_API_PATCH_MEM | VH_API_PATCH_BALLOON;
		struct vh_proto_vm_info cur = now;
		apply_patch(&cur, &info.config, vh_vmu_balloon_mib(&info.summary), all, &ignored);
		vh_reply_problem(r, &p);
	} else {
		vh_vmu_reply(r, 200, &now);
	}
	if (what & VH_API_PATCH_OFFLINE) {
		pthread_mutex_unlock(&vh_agent->disk_lock);
		pthread_rwlock_unlock(&vh_agent->image_lock);
	}
out:
	json_object_put(patch);
	vh_vmu_unlock(lock);
}

/* ---- DELETE /v1/vms/{vm} ------------------------------------------------------- */

void vh_res_vm_delete(struct vh_req *r)
{
	struct vh_proto_vm_info info;
	struct vh_proto_request req;
	struct vh_proto_reply rep;
	struct vh_api_problem p;
	pthread_mutex_t *lock;
	char uuid[37], err[256];
	bool force;

	if (vh_req_query_bool(r, "force", false, &force))
		return;
	if (!(lock = vh_vmu_lock(r, &info)))
		return;
	if (vh_vmu_if_match(r, &info))
		goto out;
	if (info.summary.state == VH_VM_RUNNING || info.summary.state == VH_VM_PAUSED) {
		if (!force) {
			vh_reply_fail(
			    r, VH_API_CONFLICT, "force",
			    "VM \"%s\" is %s: deleting it powers it off; pass ?force=true",
			    info.summary.name, vh_api_state_name(info.summary.state));
			goto out;
		}
		vh_hv_request(&req, VH_PROTO_VM_STOP, NULL);
		req.vm.kind = VH_PROTO_REF_UUID;
		memcpy(req.vm.uuid, info.config.uuid, 16);
		if (vh_hv_call(&req, &rep, &p)) {
			vh_reply_problem(r, &p);
			goto out;
		}
	}
	if (vh_vmu_undefine(info.config.uuid, &p)) {
		vh_reply_problem(r, &p);
		goto out;
	}
	vh_api_uuid_format(info.config.uuid, uuid);
	if (vh_store_delete(vh_agent->store, "vms", uuid, err, sizeof(err))) {
		/* The VM is gone from the hypervisor but its record stays:
		 * the next reconcile would define it again, so say so. */
		vh_log(VH_LOG_ERR, "VM %s undefined but its record could not be removed: %s", uuid,
		       err);
		vh_reply_fail(r, VH_API_INTERNAL, "",
			      "VM undefined, but its record could not be removed: %s", err);
		goto out;
	}
	vh_reply_empty(r, 204);
out:
	vh_vmu_unlock(lock);
}
