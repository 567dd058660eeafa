/* SPDX-License-Identifier: Apache-2.0 */
/* What the VM resources share: references from the path, ETags, the
 * persisted record, and the per-VM mutation locks. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/agent.h"
#include "agent/fsutil.h"
#include "agent/hvconn.h"
#include "agent/vmutil.h"

void vh_vmu_ref_of(struct vh_req *r, struct vh_proto_vm_ref *ref)
{
	vh_api_vm_ref(r->params[0], ref);
}

static uint64_t fnv1a(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)s[i]) * 1099511628211ull;
	return h;
}

/* The VM resource as JSON text, and its ETag from the same bytes. */
static char *vm_text(const struct vh_proto_vm_info *info, size_t *len, char etag[24])
{
	struct json_object *o = vh_api_vm_to_json(info);
	const char *s;
	char *copy = NULL;

	if (!o)
		return NULL;
	s = json_object_to_json_string_length(
	    o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, len);
	if (s && (copy = malloc(*len + 2))) {
		memcpy(copy, s, *len);
		copy[(*len)++] = '\n';
		copy[*len] = '\0';
		snprintf(etag, 24, "\"%016" PRIx64 "\"", fnv1a(s, *len - 1));
	}
	json_object_put(o);
	return copy;
}

void vh_vmu_etag(const struct vh_proto_vm_info *info, char out[24])
{
	size_t len;
	char *s = vm_text(info, &len, out);

	if (!s)
		snprintf(out, 24, "\"unavailable\"");
	free(s);
}

void vh_vmu_reply(struct vh_req *r, int status, const struct vh_proto_vm_info *info)
{
	char etag[24];
	size_t len;
	char *s = vm_text(info, &len, etag);

	if (!s) {
		vh_reply_fail(r, VH_API_INTERNAL, "", "out of memory building the response");
		return;
	}
	vh_reply_raw(r, status, "application/json", s, len);
	vh_reply_header(r, "ETag", etag);
}

/* RFC 9110 If-Match: "*" or a list of entity tags; weak tags never
 * match (strong comparison). */
int vh_vmu_if_match(struct vh_req *r, const struct vh_proto_vm_info *info)
{
	const char *im = vh_req_header(r, "If-Match");
	char etag[24];
	const char *p;
	size_t n;

	if (!im)
		return 0;
	while (*im == ' ')
		im++;
	if (strcmp(im, "*") == 0)
		return 0;
	vh_vmu_etag(info, etag);
	n = strlen(etag);
	for (p = im; (p = strstr(p, etag)); p += n) {
		bool start_ok = p == im || p[-1] == ' ' || p[-1] == ',';
		bool weak = p - im >= 2 && p[-1] == '/' && p[-2] == 'W';
		bool end_ok = p[n] == '\0' || p[n] == ',' || p[n] == ' ';

		if (start_ok && !weak && end_ok)
			return 0;
	}
	vh_reply_fail(
	    r, VH_API_PRECONDITION, "If-Match",
	    "If-Match %.60s does not match the VM's current ETag %s: it changed since it was read",
	    im, etag);
	vh_reply_header(r, "ETag", etag);
	return -1;
}

uint64_t vh_vmu_balloon_mib(const struct vh_proto_vm_summary *s)
{
	return s->balloon_request_pages * 4096u / (1024u * 1024u);
}

int vh_vmu_persist(const struct vh_proto_vm_info *info, struct vh_api_problem *p)
{
	const struct vh_proto_vm_summary *s = &info->summary;
	uint64_t balloon = s->balloon_request_pages ? vh_vmu_balloon_mib(s) : UINT64_MAX;
	struct json_object *rec = json_object_new_object();
	struct json_object *vm = vh_api_vm_config_to_json(&info->config, balloon);
	char uuid[37], err[256];
	const char *text;
	size_t len = 0;
	int rc, e;

	if (!rec || !vm) {
		json_object_put(rec);
		json_object_put(vm);
		return vh_api_fail(p, VH_API_INTERNAL, "", "out of memory persisting the VM");
	}
	json_object_object_add(rec, "format", json_object_new_int(1));
	json_object_object_add(rec, "vm", vm);
	json_object_object_add(rec, "power", json_object_new_string(vh_api_state_name(s->state)));
	text = json_object_to_json_string_length(rec, JSON_C_TO_STRING_PLAIN, &len);
	vh_api_uuid_format(info->config.uuid, uuid);
	rc = vh_store_put(vh_agent->store, "vms", uuid, text, len, err, sizeof(err));
	e = errno;
	json_object_put(rec);
	if (rc && vh_fs_is_full(e))
		return vh_api_fail(
		    p, VH_API_INSUFFICIENT_STORAGE, "",
		    "cannot persist VM %s: the state folder is full (%s): free space "
		    "and try again",
		    uuid, err);
	if (rc)
		return vh_api_fail(p, VH_API_INTERNAL, "", "cannot persist VM %s: %s", uuid, err);
	return 0;
}

/* Readiness compares the instance the last pass reconciled with the one
 * known now: a request thread whose connection still belongs to the
 * restarted hypervisor's old instance makes it again before use
 * (hvconn.c), so once the pass over the new one is done nothing here
 * waits or answers busy. */
static int not_ready(struct vh_req *r)
{
	if (vh_agent_ready())
		return 0;
	vh_reply_fail(
	    r, VH_API_BUSY, "",
	    "the agent has not reconciled its definitions with the hypervisor yet: try again");
	return -1;
}

int vh_vmu_read_ready(struct vh_req *r)
{
	return not_ready(r);
}

void vh_vmu_read_problem(struct vh_req *r, const struct vh_api_problem *p)
{
	if (p->code == VH_API_NOT_FOUND && not_ready(r))
		return;
	vh_reply_problem(r, p);
}

pthread_mutex_t *vh_vmu_lock_new(struct vh_req *r, const uint8_t uuid[16])
{
	pthread_mutex_t *m = vh_agent_vm_lock(uuid);

	if (not_ready(r))
		return NULL;
	pthread_rwlock_rdlock(&vh_agent->reconcile_lock);
	pthread_mutex_lock(m);
	/* Again under the lock: a pass may have become due meanwhile. */
	if (not_ready(r)) {
		vh_vmu_unlock(m);
		return NULL;
	}
	return m;
}

pthread_mutex_t *vh_vmu_lock(struct vh_req *r, struct vh_proto_vm_info *info)
{
	struct vh_proto_vm_ref ref;
	struct vh_api_problem p;
	pthread_mutex_t *m;

	if (not_ready(r))
		return NULL;
	vh_vmu_ref_of(r, &ref);
	if (vh_hv_vm_get(&ref, info, &p)) {
		vh_reply_problem(r, &p);
		return NULL;
	}
	m = vh_vmu_lock_new(r, info->config.uuid);
	if (!m)
		return NULL;
	/* Again under the lock, by uuid: what the first read saw may have
	 * changed (or been renamed) while we waited. */
	memset(&ref, 0, sizeof(ref));
	ref.kind = VH_PROTO_REF_UUID;
	memcpy(ref.uuid, info->config.uuid, 16);
	if (vh_hv_vm_get(&ref, info, &p)) {
		vh_vmu_unlock(m);
		vh_reply_problem(r, &p);
		return NULL;
	}
	return m;
}

void vh_vmu_unlock(pthread_mutex_t *lock)
{
	pthread_mutex_unlock(lock);
	pthread_rwlock_unlock(&vh_agent->reconcile_lock);
}

int vh_vmu_undefine(const uint8_t uuid[16], struct vh_api_problem *p)
{
	struct vh_proto_request req;
	struct vh_proto_reply rep;

	/* A VM just stopped may still be leaving a pCPU: the hypervisor says
	 * busy for that moment (microseconds, a quantum at most).  Up to 2 s. */
	for (int i = 0; i < 400; i++) {
		struct timespec ts = { 0, 5 * 1000000L };

		vh_hv_request(&req, VH_PROTO_VM_UNDEFINE, NULL);
		req.vm.kind = VH_PROTO_REF_UUID;
		memcpy(req.vm.uuid, uuid, 16);
		if (vh_hv_call(&req, &rep, p) == 0)
			return 0;
		if (p->code != VH_API_BUSY)
			return -1;
		nanosleep(&ts, NULL);
	}
	return -1;
}

bool vh_vmu_uses_image(const struct vh_vm_config *cfg, const char *image)
{
	if (strcmp(cfg->boot.kernel, image) == 0)
		return true;
	for (uint32_t i = 0; i < cfg->boot.nmodules && i < VH_BOOT_MAX_MODULES; i++)
		if (strcmp(cfg->boot.modules[i].image, image) == 0)
			return true;
	return false;
}
