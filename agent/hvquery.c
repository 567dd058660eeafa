/* SPDX-License-Identifier: Apache-2.0 */
/* The hypervisor reads that several resources share (see hvconn.h):
 * the host's info and counters (GET /v1/host, /v1/stats, /metrics) and
 * every VM's summary and counters (GET /v1/stats, /metrics). */
#include <stdlib.h>
#include <string.h>

#include "agent/hvconn.h"

int vh_hv_host_read(struct vh_proto_host_info *hi, struct vh_proto_host_stats *hs,
		    struct vh_pcpu_stats *pcpus, uint32_t max_pcpus, uint32_t *npcpus,
		    struct vh_api_problem *p)
{
	struct vh_proto_request req;
	struct vh_proto_reply rep;

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

int vh_hv_vms_snapshot(struct vh_hv_vm_snap **out, size_t *n, struct vh_api_problem *p)
{
	struct snap_walk w = { 0 };
	size_t k = 0;

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
