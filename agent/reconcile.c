/* SPDX-License-Identifier: Apache-2.0 */
/* Reconciliation (see reconcile.h).  Runs under the reconcile lock held
 * for writing, so no create or delete is half done while it compares. */
#include "agent/reconcile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "agent/hvconn.h"
#include "agent/sd.h"
#include "agent/vmutil.h"

struct hv_vm {
	uint8_t uuid[16];
	uint32_t state;
	bool matched;
};

struct record {
	char key[64];
	struct vh_vm_config cfg;
	uint64_t balloon;
	bool corrupt;
	char why[160];
};

struct walk {
	struct hv_vm *hv;
	size_t nhv, caphv;
	struct record *rec;
	size_t nrec, caprec;
	bool oom;
};

static int grow(void **v, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return 0;
	size_t nc = *cap ? *cap * 2 : 64;
	void *nv = realloc(*v, nc * size);
	if (!nv)
		return -1;
	*v = nv;
	*cap = nc;
	return 0;
}

static int collect_hv(void *ctx, const struct vh_hv_entry *e)
{
	struct walk *w = ctx;
	struct vh_proto_vm_summary s;

	if (vh_hv_entry_decode(e, &s))
		return 0;
	if (grow((void **)&w->hv, &w->caphv, w->nhv, sizeof(*w->hv))) {
		w->oom = true;
		return VH_HV_STOP_AFTER;
	}
	memcpy(w->hv[w->nhv].uuid, s.uuid, 16);
	w->hv[w->nhv].state = s.state;
	w->hv[w->nhv].matched = false;
	w->nhv++;
	return 0;
}

/* {"format":1,"vm":{…},"power":"…"}, key = the VM's uuid. */
static void parse_record(struct record *rec, const char *data, size_t len)
{
	static const char *const keys[] = { "format", "vm", "power", NULL };
	struct json_object *obj = NULL, *vm = NULL;
	struct vh_api_problem p = { 0 };
	uint64_t format = 0;
	char uuid[37];

	if (vh_api_parse(data, len, &obj, &p) || vh_api_only_keys(obj, "", keys, &p) ||
	    vh_api_get_u64(obj, "format", "format", 1, 1, true, &format, &p)) {
		snprintf(rec->why, sizeof(rec->why), "%.150s", p.detail);
		rec->corrupt = true;
	} else if (!json_object_object_get_ex(obj, "vm", &vm) ||
		   vh_api_vm_from_json(vm, &rec->cfg, &rec->balloon, &p)) {
		snprintf(rec->why, sizeof(rec->why), "vm: %.150s", vm ? p.detail : "missing");
		rec->corrupt = true;
	} else {
		vh_api_uuid_format(rec->cfg.uuid, uuid);
		if (strcmp(uuid, rec->key) != 0) {
			snprintf(rec->why, sizeof(rec->why), "the record's uuid %s is not its name",
				 uuid);
			rec->corrupt = true;
		}
	}
	json_object_put(obj);
}

static int collect_record(void *ctx, const char *key, const char *data, size_t len)
{
	struct walk *w = ctx;
	struct record *rec;

	if (grow((void **)&w->rec, &w->caprec, w->nrec, sizeof(*w->rec))) {
		w->oom = true;
		return 1;
	}
	rec = &w->rec[w->nrec++];
	memset(rec, 0, sizeof(*rec));
	snprintf(rec->key, sizeof(rec->key), "%s", key);
	parse_record(rec, data, len);
	return 0;
}

static struct hv_vm *find_hv(struct walk *w, const uint8_t uuid[16])
{
	for (size_t i = 0; i < w->nhv; i++)
		if (memcmp(w->hv[i].uuid, uuid, 16) == 0)
			return &w->hv[i];
	return NULL;
}

static int persist(const uint8_t uuid[16], struct vh_api_problem *p);

/* Defines a lost VM again from its record; it comes back powered off. */
static int redefine(const struct record *rec, struct vh_api_problem *p)
{
	struct vh_proto_request req;
	struct vh_proto_reply rep;

	vh_hv_request(&req, VH_PROTO_VM_DEFINE, NULL);
	req.u.define = rec->cfg;
	if (vh_hv_call(&req, &rep, p))
		return -1;
	if (rec->balloon != UINT64_MAX && rec->balloon != 0) {
		vh_hv_request(&req, VH_PROTO_VM_SET_BALLOON, NULL);
		req.vm.kind = VH_PROTO_REF_UUID;
		memcpy(req.vm.uuid, rec->cfg.uuid, 16);
		req.u.balloon_target_mib = rec->balloon;
		if (vh_hv_call(&req, &rep, p))
			vh_log(VH_LOG_WARNING, "VM %s: balloon target not restored: %s",
			       rec->cfg.name, p->detail);
	}
	return persist(rec->cfg.uuid, p);
}

/* The record from what the hypervisor reports now. */
static int persist(const uint8_t uuid[16], struct vh_api_problem *p)
{
	struct vh_proto_vm_ref ref = { .kind = VH_PROTO_REF_UUID };
	struct vh_proto_vm_info info;

	memcpy(ref.uuid, uuid, 16);
	if (vh_hv_vm_get(&ref, &info, p))
		return -1;
	return vh_vmu_persist(&info, p);
}

int vh_reconcile(struct vh_reconcile_report *rep, char *err, size_t errlen)
{
	struct walk w = { 0 };
	struct vh_api_problem p = { 0 };
	struct vh_proto_request hreq;
	struct vh_proto_reply hrep;
	char serr[256] = "";
	int rc = -1;

	memset(rep, 0, sizeof(*rep));
	pthread_rwlock_wrlock(&vh_agent->reconcile_lock);
	/* Which instance this pass reconciles: every call below must reach
	 * that one (checked at the end). */
	vh_hv_request(&hreq, VH_PROTO_HOST_INFO, NULL);
	if (vh_hv_call(&hreq, &hrep, &p)) {
		snprintf(err, errlen, "%s", p.detail);
		goto out;
	}
	rep->instance = hrep.u.host_info.instance;
	if (rep->instance == 0) {
		snprintf(err, errlen, "the hypervisor names no instance (HOST_INFO of protocol "
				      "version 3 or later needed)");
		goto out;
	}
	if (vh_hv_each_summary(0, 0, collect_hv, &w, NULL, &p) < 0) {
		snprintf(err, errlen, "%s", p.detail);
		goto out;
	}
	if (vh_store_each(vh_agent->store, "vms", collect_record, &w, serr, sizeof(serr)) < 0) {
		snprintf(err, errlen, "reading the store: %s", serr);
		goto out;
	}
	if (w.oom) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < w.nrec; i++) {
		struct record *rec = &w.rec[i];
		struct hv_vm *hv;

		if (rec->corrupt) {
			vh_log(VH_LOG_ERR,
			       "VM record %s is unreadable (%s): set aside as %s.corrupt-*",
			       rec->key, rec->why, rec->key);
			vh_store_quarantine(vh_agent->store, "vms", rec->key);
			rep->corrupt++;
			continue;
		}
		if ((hv = find_hv(&w, rec->cfg.uuid))) {
			hv->matched = true;
			rep->adopted++;
			if (hv->state == VH_VM_RUNNING || hv->state == VH_VM_PAUSED)
				rep->running++;
			continue;
		}
		if (redefine(rec, &p)) {
			if (p.code == VH_API_UNAVAILABLE) {
				snprintf(err, errlen, "%s", p.detail);
				goto out;
			}
			vh_log(VH_LOG_ERR, "VM %s (%s) could not be defined again: %s",
			       rec->cfg.name, rec->key, p.detail);
			rep->failed++;
			continue;
		}
		vh_log(VH_LOG_INFO, "VM %s (%s) was lost by the hypervisor: defined again",
		       rec->cfg.name, rec->key);
		rep->redefined++;
	}
	for (size_t i = 0; i < w.nhv; i++) {
		char uuid[37];

		if (w.hv[i].matched)
			continue;
		vh_api_uuid_format(w.hv[i].uuid, uuid);
		if (persist(w.hv[i].uuid, &p)) {
			if (p.code == VH_API_NOT_FOUND)
				continue; /* undefined by someone meanwhile */
			vh_log(VH_LOG_ERR, "VM %s: could not persist its definition: %s", uuid,
			       p.detail);
			rep->failed++;
			continue;
		}
		vh_log(VH_LOG_INFO, "VM %s was defined without the agent: persisted", uuid);
		rep->persisted++;
	}
	if (vh_hv_conn_instance() != rep->instance) {
		/* A connection made again meanwhile reached another instance (or
		 * one not known yet): what was compared may span two. */
		snprintf(err, errlen, "the hypervisor restarted during the reconcile pass");
		goto out;
	}
	rc = 0;
out:
	pthread_rwlock_unlock(&vh_agent->reconcile_lock);
	free(w.hv);
	free(w.rec);
	return rc;
}
