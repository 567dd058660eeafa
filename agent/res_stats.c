/* SPDX-License-Identifier: Apache-2.0 */
/* GET /v1/vms/{vm}/stats (the VM's counters and each vCPU's) and GET
 * /v1/stats (the host's and every VM's counters), read from the
 * hypervisor's published counters, or with VM_STATS, HOST_STATS and
 * VM_STATS_ALL where they are not mapped (hvquery.c). */
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "agent/hvconn.h"
#include "agent/resources.h"
#include "agent/textcache.h"

/* GET /v1/stats: a VM's entry is a pure function of its summary and
 * counters, and a VM that is not running does not change between two
 * requests: a per-thread cache keyed by those bytes (as GET /v1/vms keys
 * its items by the wire summary) copies the text of unchanged VMs.
 * Exact: any change misses, and a running VM's times change every
 * millisecond.  Slots by id modulo 128, so each of libmicrohttpd's
 * threads holds at most about 180 KiB however many VMs come and go
 * (tests/agent/soak.sh bounds the agent's RSS growth). */
static struct vh_text_cache vm_texts = VH_TEXT_CACHE_INIT(128u, sizeof(struct vh_hv_vm_snap));

/* Appends v's entry to t, from the cache when it is there.  0 or -1. */
static int vm_entry(struct vh_api_text *t, const struct vh_hv_vm_snap *v)
{
	struct vh_api_text one = { 0 };
	const char *kept;
	size_t len;

	if ((kept = vh_text_cache_get(&vm_texts, v->s.id, v, &len))) {
		vh_api_text_add(t, kept, len);
		return t->oom ? -1 : 0;
	}
	if (vh_api_vm_stats_text(&one, &v->s, &v->st, NULL, 0) || one.oom) {
		free(one.buf);
		return -1;
	}
	/* Kept for the next request; without memory to keep it, it still
	 * serves this one. */
	vh_text_cache_put(&vm_texts, v->s.id, v, one.buf, one.len);
	vh_api_text_add(t, one.buf, one.len);
	free(one.buf);
	return t->oom ? -1 : 0;
}

/* The JSON text written (vh_api_vm_stats_text: json-c's bytes without
 * its objects), with the newline vh_reply_json ends a body with. */
static void reply_text(struct vh_req *r, struct vh_api_text *t, int rc)
{
	vh_api_text_raw(t, "\n");
	if (rc || t->oom) {
		free(t->buf);
		vh_reply_fail(r, VH_API_INTERNAL, "", "out of memory building the response");
		return;
	}
	vh_reply_raw(r, 200, "application/json", t->buf, t->len);
}

void vh_res_vm_stats(struct vh_req *r)
{
	struct vh_proto_vcpu_stats vcpus[VH_VM_MAX_VCPUS];
	struct vh_proto_vm_summary s;
	struct vh_proto_vm_stats st;
	struct vh_proto_vm_ref ref;
	struct vh_api_problem p;
	struct vh_api_text t = { 0 };
	uint32_t n = 0;

	vh_vmu_ref_of(r, &ref);
	if (vh_hv_vm_stats(&ref, &s, &st, vcpus, &n, &p)) {
		vh_vmu_read_problem(r, &p);
		return;
	}
	reply_text(r, &t, vh_api_vm_stats_text(&t, &s, &st, vcpus, n));
}

void vh_res_stats(struct vh_req *r)
{
	struct vh_proto_host_info hi;
	struct vh_proto_host_stats hs;
	struct vh_api_problem p;
	struct vh_hv_vm_snap *v = NULL;
	struct vh_api_text t = { 0 };
	struct json_object *host;
	size_t n = 0;
	int rc = 0;

	if (vh_hv_host_read(&hi, &hs, NULL, 0, NULL, &p) || vh_hv_vms_snapshot(&v, &n, &p)) {
		vh_reply_problem(r, &p);
		return;
	}
	/* {"host":{...},"vms":[...]}: the host through json-c (one small
	 * object), every VM as text. */
	host = vh_api_host_to_json(&hi, &hs);
	vh_api_text_raw(&t, "{\"host\":");
	if (host)
		vh_api_text_raw(&t,
				json_object_to_json_string_ext(
				    host, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	vh_api_text_raw(&t, ",\"vms\":[");
	for (size_t i = 0; i < n && !rc; i++) {
		if (i)
			vh_api_text_raw(&t, ",");
		rc = vm_entry(&t, &v[i]);
	}
	vh_api_text_raw(&t, "]}");
	json_object_put(host);
	free(v);
	reply_text(r, &t, rc || !host);
}
