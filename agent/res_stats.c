/* SPDX-License-Identifier: Apache-2.0 */
/* GET /v1/vms/{vm}/stats (the VM's counters and each vCPU's) and GET
 * /v1/stats (the host's and every VM's counters), read from the
 * hypervisor's published counters, or with VM_STATS, HOST_STATS and
 * VM_STATS_ALL where they are not mapped (hvquery.c). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "agent/hvconn.h"
#include "agent/resources.h"

/* GET /v1/stats: a VM's entry is a pure function of its summary and
 * counters, and a VM that is not running does not change between two
 * requests: a per-thread cache keyed by those bytes (as GET /v1/vms keys
 * its items by the wire summary) copies the text of unchanged VMs.
 * Exact: any change misses, and a running VM's times change every
 * millisecond.  Slots by id modulo 128, so each of libmicrohttpd's
 * threads holds at most about 180 KiB however many VMs come and go
 * (tests/agent/soak.sh bounds the agent's RSS growth). */
#define CACHE_SLOTS 128u

struct cached_vm {
	struct vh_hv_vm_snap key;
	char *text;
	size_t len;
};

static pthread_key_t cache_key;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;

static void cache_free(void *v)
{
	struct cached_vm *c = v;

	for (unsigned i = 0; i < CACHE_SLOTS; i++)
		free(c[i].text);
	free(c);
}

static void cache_key_make(void)
{
	pthread_key_create(&cache_key, cache_free);
}

/* Appends v's entry to t, from the cache when it is there.  0 or -1. */
static int vm_entry(struct vh_api_text *t, const struct vh_hv_vm_snap *v)
{
	struct cached_vm *c, *slot;
	struct vh_api_text one = { 0 };

	pthread_once(&cache_once, cache_key_make);
	if (!(c = pthread_getspecific(cache_key)) && (c = calloc(CACHE_SLOTS, sizeof(*c))))
		pthread_setspecific(cache_key, c);
	if (!c)
		return vh_api_vm_stats_text(t, &v->s, &v->st, NULL, 0);
	slot = &c[v->s.id % CACHE_SLOTS];
	if (!slot->text || memcmp(&slot->key, v, sizeof(*v))) {
		if (vh_api_vm_stats_text(&one, &v->s, &v->st, NULL, 0)) {
			free(one.buf);
			return -1;
		}
		free(slot->text);
		slot->key = *v;
		slot->text = one.buf;
		slot->len = one.len;
	}
	vh_api_text_add(t, slot->text, slot->len);
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
