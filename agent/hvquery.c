/* SPDX-License-Identifier: Apache-2.0 */
/* The hypervisor reads that several resources share (see hvconn.h):
 * the host's info and counters (GET /v1/host, /v1/stats, /metrics),
 * every VM's summary and counters (GET /v1/stats, /metrics) and one VM's
 * (GET /v1/vms/{vm}/stats).  Each comes from the published counters
 * (hvshm.c) when they are mapped, with no protocol message, and from the
 * protocol otherwise: both give the same structures, so the resources
 * cannot tell. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "agent/hvconn.h"

static int host_published(struct vh_proto_host_info *hi, struct vh_proto_host_stats *hs,
			  struct vh_pcpu_stats *pcpus, uint32_t max_pcpus, uint32_t *npcpus)
{
	struct vh_hv_shm s;
	int rc;

	if (!vh_hv_shm_begin(&s))
		return VH_E_STATE;
	rc = vh_pub_read_host(&s.v, s.now, hi, hs, pcpus, max_pcpus, npcpus);
	vh_hv_shm_end(&s, rc);
	return rc;
}

int vh_hv_host_read(struct vh_proto_host_info *hi, struct vh_proto_host_stats *hs,
		    struct vh_pcpu_stats *pcpus, uint32_t max_pcpus, uint32_t *npcpus,
		    struct vh_api_problem *p)
{
	struct vh_proto_request req;
	struct vh_proto_reply rep;

	if (host_published(hi, hs, npcpus ? pcpus : NULL, max_pcpus, npcpus) == VH_OK)
		return 0;
	vh_hv_request(&req, VH_PROTO_HOST_INFO, NULL);
	if (vh_hv_call(&req, &rep, p))
		return -1;
	*hi = rep.u.host_info;
	vh_hv_request(&req, VH_PROTO_HOST_STATS, NULL);
	if (vh_hv_call(&req, &rep, p))
		return -1;
	*hs = rep.u.host_stats;
	/* The pCPU entries live in this thread's reply buffer until its
	 * next call: copied now. */
	if (npcpus) {
		*npcpus = 0;
		for (uint32_t i = 0; i < rep.nentries && *npcpus < max_pcpus; i++)
			if (vh_proto_reply_pcpu(&rep, i, &pcpus[*npcpus]) == VH_OK)
				(*npcpus)++;
	}
	return 0;
}

struct snap_walk {
	struct vh_hv_vm_snap *v;
	size_t n, cap, at;
	bool oom;
};

/* Also grows the array alone (e NULL). */
static int snap_summary(void *ctx, const struct vh_hv_entry *e)
{
	struct snap_walk *w = ctx;

	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 64;
		struct vh_hv_vm_snap *nv = realloc(w->v, cap * sizeof(*nv));

		if (!nv) {
			w->oom = true;
			return VH_HV_STOP_AFTER;
		}
		w->v = nv;
		w->cap = cap;
	}
	if (!e)
		return 0;
	memset(&w->v[w->n], 0, sizeof(w->v[0])); /* st.id 0: no counters yet */
	if (vh_hv_entry_decode(e, &w->v[w->n].s)) {
		w->oom = true; /* cannot happen: the reply was checked */
		return VH_HV_STOP_AFTER;
	}
	w->n++;
	return 0;
}

/* Both walks are in id order: merge. */
static int snap_stats(void *ctx, const struct vh_proto_vm_stats *st)
{
	struct snap_walk *w = ctx;

	while (w->at < w->n && w->v[w->at].s.id < st->id)
		w->at++;
	if (w->at < w->n && w->v[w->at].s.id == st->id)
		w->v[w->at].st = *st;
	return 0;
}

static int by_id(const void *a, const void *b)
{
	uint32_t x = ((const struct vh_hv_vm_snap *)a)->s.id;
	uint32_t y = ((const struct vh_hv_vm_snap *)b)->s.id;

	return x < y ? -1 : x > y;
}

/* Every published slot once, under one even generation (no VM defined
 * or undefined meanwhile), then in id order as the protocol gives them. */
static int snap_scan(struct vh_pub_view *v, uint64_t now, struct snap_walk *w)
{
	uint64_t g = vh_pub_generation(v);

	if (g & 1)
		return VH_E_BUSY;
	w->n = 0;
	for (uint32_t slot = 0; slot < v->lay.max_vms; slot++) {
		int rc;
		if (!vh_pub_slot_id(v, slot))
			continue;
		if (w->n == w->cap && snap_summary(w, NULL))
			return VH_E_NOMEM;
		rc = vh_pub_read_vm(v, slot, now, &w->v[w->n].s, &w->v[w->n].st, NULL, NULL);
		if (rc == VH_OK)
			w->n++;
		else if (rc != VH_E_NOENT)
			return rc;
	}
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return vh_pub_generation(v) == g ? VH_OK : VH_E_BUSY;
}

static int snap_published(struct snap_walk *w)
{
	struct vh_hv_shm s;
	int rc = VH_E_BUSY;

	if (!vh_hv_shm_begin(&s))
		return VH_E_STATE;
	for (uint32_t t = 0; t < VH_PUB_READ_TRIES && rc == VH_E_BUSY; t++)
		rc = snap_scan(&s.v, s.now, w);
	vh_hv_shm_end(&s, rc);
	if (rc == VH_OK && w->n > 1)
		qsort(w->v, w->n, sizeof(w->v[0]), by_id);
	return rc;
}

int vh_hv_vms_snapshot(struct vh_hv_vm_snap **out, size_t *n, struct vh_api_problem *p)
{
	struct snap_walk w = { 0 };
	size_t k = 0;

	if (snap_published(&w) == VH_OK) {
		*out = w.v;
		*n = w.n;
		return 0;
	}
	free(w.v);
	memset(&w, 0, sizeof(w));
	if (vh_hv_each_summary(0, 0, snap_summary, &w, NULL, p) < 0 || w.oom ||
	    vh_hv_each_stats(snap_stats, &w, p) < 0) {
		if (w.oom)
			vh_api_fail(p, VH_API_INTERNAL, "", "out of memory");
		free(w.v);
		return -1;
	}
	/* Drop VMs undefined between the walks (no counters came). */
	for (size_t i = 0; i < w.n; i++)
		if (w.v[i].st.id == w.v[i].s.id)
			w.v[k++] = w.v[i];
	*out = w.v;
	*n = k;
	return 0;
}

/* ---- one VM's counters ---------------------------------------------------------------- */

/* A VM's name and uuid by id, per thread, for the protocol's VM_STATS
 * (its counters carry only the id): ids are never reused while the
 * hypervisor runs and a VM keeps its name for its id's life (a rename
 * defines it again under a new id), so an entry stays right until the
 * hypervisor restarts, which vh_hv_instance() tells.  It saves the
 * second round trip of every GET /v1/vms/{vm}/stats. */
#define NAME_SLOTS 1024u
/* Which published slot a reference named last time, per thread: checked
 * against the slot's own record at every read, so it is only ever a
 * hint. */
#define HINT_SLOTS 64u

struct name_slot {
	uint64_t gen; /* the hypervisor instance it was read from */
	uint32_t id;
	struct vh_proto_vm_summary s;
};

struct hint_slot {
	struct vh_proto_vm_ref ref;
	uint32_t slot;
	bool used;
};

struct per_thread {
	struct name_slot names[NAME_SLOTS];
	struct hint_slot hints[HINT_SLOTS];
};

static pthread_key_t pt_key;
static pthread_once_t pt_once = PTHREAD_ONCE_INIT;

static void pt_key_make(void)
{
	pthread_key_create(&pt_key, free);
}

static struct per_thread *per_thread(void)
{
	struct per_thread *t;

	pthread_once(&pt_once, pt_key_make);
	if (!(t = pthread_getspecific(pt_key)) && (t = calloc(1, sizeof(*t))))
		pthread_setspecific(pt_key, t);
	return t;
}

static int summary_of(uint32_t id, struct vh_proto_vm_summary *s, struct vh_api_problem *p)
{
	struct per_thread *t = per_thread();
	struct name_slot *slot = t ? &t->names[id % NAME_SLOTS] : NULL;
	uint64_t gen = vh_hv_instance();

	if (slot && gen && slot->id == id && slot->gen == gen) {
		*s = slot->s;
		return 0;
	}
	if (vh_hv_summary_by_id(id, s, p))
		return -1;
	if (slot && gen && gen == vh_hv_instance()) {
		slot->id = id;
		slot->gen = gen;
		slot->s = *s;
	}
	return 0;
}

static bool names(const struct vh_proto_vm_ref *ref, const struct vh_proto_vm_summary *s)
{
	switch (ref->kind) {
	case VH_PROTO_REF_ID: return s->id == ref->id;
	case VH_PROTO_REF_UUID: return memcmp(s->uuid, ref->uuid, 16) == 0;
	case VH_PROTO_REF_NAME: return strcmp(s->name, ref->name) == 0;
	}
	return false;
}

static bool same_ref(const struct vh_proto_vm_ref *a, const struct vh_proto_vm_ref *b)
{
	return a->kind == b->kind && a->id == b->id && !memcmp(a->uuid, b->uuid, 16) &&
	       !strncmp(a->name, b->name, sizeof(a->name));
}

static struct hint_slot *hint_of(const struct vh_proto_vm_ref *ref)
{
	struct per_thread *t = per_thread();
	uint32_t h = 2166136261u ^ ref->kind ^ ref->id;

	if (!t)
		return NULL;
	for (size_t i = 0; i < 16; i++)
		h = (h ^ ref->uuid[i]) * 16777619u;
	for (const char *c = ref->name; *c && c < ref->name + sizeof(ref->name); c++)
		h = (h ^ (uint8_t)*c) * 16777619u;
	return &t->hints[h % HINT_SLOTS];
}

/* VH_OK; VH_E_NOENT (no such VM published: the protocol says what to
 * answer); VH_E_BUSY or VH_E_STATE (ask the protocol). */
static int vm_published(const struct vh_proto_vm_ref *ref, struct vh_proto_vm_summary *s,
			struct vh_proto_vm_stats *st, struct vh_proto_vcpu_stats *vcpus,
			uint32_t *nvcpus)
{
	struct hint_slot *hint = hint_of(ref);
	struct vh_hv_shm sh;
	int rc, slot;

	if (!vh_hv_shm_begin(&sh))
		return VH_E_STATE;
	if (hint && hint->used && same_ref(&hint->ref, ref) &&
	    (rc = vh_pub_read_vm(&sh.v, hint->slot, sh.now, s, st, vcpus, nvcpus)) != VH_E_NOENT &&
	    (rc != VH_OK || names(ref, s)))
		goto out;
	rc = VH_E_NOENT;
	if ((slot = vh_pub_find(&sh.v, ref)) >= 0 &&
	    (rc = vh_pub_read_vm(&sh.v, (uint32_t)slot, sh.now, s, st, vcpus, nvcpus)) == VH_OK &&
	    !names(ref, s))
		rc = VH_E_BUSY; /* the slot changed hands since the search */
	if (rc == VH_OK && hint) {
		hint->ref = *ref;
		hint->slot = (uint32_t)slot;
		hint->used = true;
	}
out:
	vh_hv_shm_end(&sh, rc);
	return rc;
}

int vh_hv_vm_stats(const struct vh_proto_vm_ref *ref, struct vh_proto_vm_summary *s,
		   struct vh_proto_vm_stats *st, struct vh_proto_vcpu_stats *vcpus,
		   uint32_t *nvcpus, struct vh_api_problem *p)
{
	struct vh_proto_request req;
	struct vh_proto_reply rep;

	if (vm_published(ref, s, st, vcpus, nvcpus) == VH_OK)
		return 0;
	vh_hv_request(&req, VH_PROTO_VM_STATS, ref);
	if (vh_hv_call(&req, &rep, p))
		return -1;
	*st = rep.u.vm_stats.vm;
	/* The vCPU entries live in this thread's reply buffer: copy them
	 * before the next call. */
	*nvcpus = 0;
	for (uint32_t i = 0; i < rep.nentries && *nvcpus < VH_VM_MAX_VCPUS; i++)
		if (vh_proto_reply_vcpu(&rep, i, &vcpus[*nvcpus]) == VH_OK)
			(*nvcpus)++;
	return summary_of(st->id, s, p);
}

/* ---- every VM's definition ------------------------------------------------------ */

struct ids {
	uint32_t *v;
	size_t n, cap;
};

static int collect_id(void *ctx, const struct vh_hv_entry *e)
{
	struct ids *ids = ctx;

	if (ids->n == ids->cap) {
		size_t cap = ids->cap ? ids->cap * 2 : 64;
		uint32_t *nv = realloc(ids->v, cap * sizeof(*nv));
		if (!nv)
			return VH_HV_STOP_AFTER;
		ids->v = nv;
		ids->cap = cap;
	}
	ids->v[ids->n++] = e->id;
	return 0;
}

int vh_hv_each_vm_info(vh_hv_info_fn fn, void *ctx, struct vh_api_problem *p)
{
	struct ids ids = { 0 };
	int rc;

	/* The ids first: a VM_GET inside the walk would reuse the buffer
	 * the walk's entries point into. */
	rc = vh_hv_each_summary(0, 0, collect_id, &ids, NULL, p);
	if (rc) {
		free(ids.v);
		return rc < 0 ? -1 : vh_api_fail(p, VH_API_INTERNAL, "", "out of memory");
	}
	for (size_t i = 0; i < ids.n && !rc; i++) {
		struct vh_proto_vm_ref ref = { .kind = VH_PROTO_REF_ID, .id = ids.v[i] };
		struct vh_proto_vm_info info;

		if (vh_hv_vm_get(&ref, &info, p)) {
			if (p->code == VH_API_NOT_FOUND)
				continue; /* undefined meanwhile */
			rc = -1;
			break;
		}
		rc = fn(ctx, &info);
	}
	free(ids.v);
	return rc;
}
