/* SPDX-License-Identifier: Apache-2.0 */
/* GET /metrics: Prometheus text format 0.0.4 (promtool check metrics
 * clean: HELP and TYPE for every family, base units, counters in
 * seconds with _total).  Families:
 *   vh_agent_*  the agent: HTTP requests by method and code, request
 *               duration (counted by metrics.c), hypervisor calls,
 *               readiness;
 *   vh_host_*   HOST_INFO and HOST_STATS;
 *   vh_vm_*     every VM's counters (VM_STATS_ALL) labelled vm and uuid.
 * The hypervisor's families are left out while it is unreachable
 * (vh_agent_hypervisor_up says so). */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "agent/hvconn.h"
#include "agent/idempotency.h"
#include "agent/metrics.h"
#include "agent/resources.h"

/* ---- output ------------------------------------------------------------------------ */

struct out {
	char *buf;
	size_t len, cap;
	bool oom;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		size_t room = o->cap - o->len;

		va_start(ap, fmt);
		n = vsnprintf(o->buf ? o->buf + o->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0) {
			o->oom = true;
			return;
		}
		if ((size_t)n < room) {
			o->len += (size_t)n;
			return;
		}
		{
			size_t cap = o->cap ? o->cap * 2 : 16384;
			char *nb;

			while (cap - o->len <= (size_t)n)
				cap *= 2;
			if (!(nb = realloc(o->buf, cap))) {
				o->oom = true;
				return;
			}
			o->buf = nb;
			o->cap = cap;
		}
	}
}

static void family(struct out *o, const char *name, const char *type, const char *help)
{
	put(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* ---- the agent --------------------------------------------------------------------- */

static void agent_metrics(struct out *o, bool hv_up)
{
	struct vh_hv_counters hc;
	struct vh_hv_shm_counters sc;
	struct vh_metrics_http http;
	uint64_t cum = 0;

	family(o, "vh_agent_info", "gauge", "The agent's version (value 1).");
	put(o, "vh_agent_info{version=\"%s\"} 1\n", VH_AGENT_VERSION);
	family(o, "vh_agent_start_time_seconds", "gauge",
	       "When the agent started, seconds since the epoch.");
	put(o, "vh_agent_start_time_seconds %lld\n", (long long)vh_agent->started);

	vh_metrics_http_read(&http);
	family(o, "vh_agent_http_requests_total", "counter",
	       "HTTP requests answered, by method and status code.");
	for (int m = 0; m < VH_M_COUNT; m++) {
		for (size_t c = 0; c < VH_METRICS_CODES; c++) {
			uint64_t n = http.count[m][c];
			if (!n)
				continue;
			if (vh_metrics_codes[c])
				put(o,
				    "vh_agent_http_requests_total{method=\"%s\",code=\"%d\"} "
				    "%llu\n",
				    vh_method_name((enum vh_method)m), vh_metrics_codes[c],
				    (unsigned long long)n);
			else
				put(o,
				    "vh_agent_http_requests_total{method=\"%s\",code=\"other\"} "
				    "%llu\n",
				    vh_method_name((enum vh_method)m), (unsigned long long)n);
		}
	}
	family(o, "vh_agent_http_request_duration_seconds", "histogram",
	       "Time from a request's headers to its queued response.");
	for (size_t b = 0; b < VH_METRICS_BUCKETS; b++) {
		cum += http.bucket[b];
		put(o, "vh_agent_http_request_duration_seconds_bucket{le=\"%g\"} %llu\n",
		    vh_metrics_buckets[b], (unsigned long long)cum);
	}
	put(o, "vh_agent_http_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
	    (unsigned long long)http.total);
	put(o, "vh_agent_http_request_duration_seconds_sum %.9f\n", (double)http.ns / 1e9);
	put(o, "vh_agent_http_request_duration_seconds_count %llu\n",
	    (unsigned long long)http.total);

	vh_hv_counters(&hc);
	vh_hv_shm_counters(&sc);
	{
		/* The agent's own scalars: one family, one sample each. */
		const struct {
			const char *name, *type, *help;
			uint64_t value;
		} scalars[] = {
			{ "vh_agent_hypervisor_requests_total", "counter",
			  "Control-protocol requests the hypervisor answered.", hc.calls },
			{ "vh_agent_hypervisor_refusals_total", "counter",
			  "Of those, the ones the hypervisor refused with an error.", hc.errors },
			{ "vh_agent_hypervisor_failures_total", "counter",
			  "Control-protocol requests that got no reply (unreachable, timeout, "
			  "garbage).",
			  hc.failures },
			{ "vh_agent_hypervisor_connections_total", "counter",
			  "Connections made to the hypervisor's socket.", hc.connects },
			{ "vh_agent_vm_list_walks_total", "counter",
			  "VM_LIST walks of the hypervisor for listings; listings within a "
			  "millisecond of one walk share it.",
			  hc.list_walks },
			{ "vh_agent_vm_listings_total", "counter", "VM listings served.",
			  hc.list_requests },
			{ "vh_agent_hypervisor_published_mapped", "gauge",
			  "Whether the hypervisor's published counters are mapped (1): counter "
			  "reads then send no protocol message.",
			  sc.mapped ? 1 : 0 },
			{ "vh_agent_hypervisor_published_reads_total", "counter",
			  "Counter reads served from the published counters.", sc.reads },
			{ "vh_agent_hypervisor_published_fallbacks_total", "counter",
			  "Counter reads that went to the protocol because a published record "
			  "kept changing.",
			  sc.fallbacks },
			{ "vh_agent_hypervisor_published_maps_total", "counter",
			  "Published counter areas mapped (one per hypervisor start seen).",
			  sc.maps },
			{ "vh_agent_hypervisor_up", "gauge",
			  "Whether the hypervisor answered this scrape (1) or not (0).",
			  hv_up ? 1 : 0 },
			{ "vh_agent_reconciled", "gauge",
			  "Whether the persisted definitions are reconciled with the hypervisor "
			  "(1) or not yet (0).",
			  vh_agent_ready() ? 1 : 0 },
			{ "vh_agent_idempotency_keys", "gauge", "Idempotency keys remembered.",
			  vh_agent->idem ? vh_idem_count(vh_agent->idem) : 0 },
		};

		for (size_t i = 0; i < sizeof(scalars) / sizeof(scalars[0]); i++) {
			family(o, scalars[i].name, scalars[i].type, scalars[i].help);
			put(o, "%s %llu\n", scalars[i].name,
			    (unsigned long long)scalars[i].value);
		}
	}
}

/* ---- the host ------------------------------------------------------------------------- */

#define MIB  1048576ull
#define PAGE 4096ull

static void host_metrics(struct out *o, const struct vh_proto_host_info *hi,
			 const struct vh_proto_host_stats *hs, const struct vh_pcpu_stats *pc,
			 uint32_t npc)
{
	family(o, "vh_host_info", "gauge", "The hypervisor's version (value 1).");
	put(o, "vh_host_info{version=\"%s\"} 1\n", hi->vh_version);
	family(o, "vh_host_pcpus", "gauge", "Physical CPUs given to vh.");
	put(o, "vh_host_pcpus %u\n", (unsigned)hi->pcpus);
	family(o, "vh_host_cpu_frequency_hertz", "gauge", "Nominal clock of one pCPU.");
	put(o, "vh_host_cpu_frequency_hertz %llu\n",
	    (unsigned long long)hi->mhz_per_pcpu * 1000000ull);
	family(o, "vh_host_cpu_capacity_hertz", "gauge", "What CPU reservations may sum to.");
	put(o, "vh_host_cpu_capacity_hertz %llu\n",
	    (unsigned long long)hs->cpu_capacity_mhz * 1000000ull);
	family(o, "vh_host_cpu_reserved_hertz", "gauge", "CPU reservations of powered-on VMs.");
	put(o, "vh_host_cpu_reserved_hertz %llu\n",
	    (unsigned long long)hs->reserved_mhz * 1000000ull);
	family(o, "vh_host_memory_bytes", "gauge", "Host memory given to the hypervisor core.");
	put(o, "vh_host_memory_bytes %llu\n", (unsigned long long)hi->memory_bytes);
	family(o, "vh_host_memory_overhead_bytes", "gauge", "Of which the hypervisor's own.");
	put(o, "vh_host_memory_overhead_bytes %llu\n", (unsigned long long)hi->overhead_bytes);
	family(o, "vh_host_memory_capacity_bytes", "gauge", "What memory reservations may sum to.");
	put(o, "vh_host_memory_capacity_bytes %llu\n",
	    (unsigned long long)hs->mem_capacity_mib * MIB);
	family(o, "vh_host_memory_reserved_bytes", "gauge",
	       "Memory reservations of powered-on VMs.");
	put(o, "vh_host_memory_reserved_bytes %llu\n", (unsigned long long)hs->reserved_mib * MIB);
	family(o, "vh_host_memory_frames_bytes", "gauge",
	       "Host frames by kind: total, free, reserved (held for reservations), shared_saved "
	       "(saved by page sharing).");
	put(o, "vh_host_memory_frames_bytes{kind=\"total\"} %llu\n",
	    (unsigned long long)(hs->mem.total * PAGE));
	put(o, "vh_host_memory_frames_bytes{kind=\"free\"} %llu\n",
	    (unsigned long long)(hs->mem.free * PAGE));
	put(o, "vh_host_memory_frames_bytes{kind=\"reserved\"} %llu\n",
	    (unsigned long long)(hs->mem.reserved * PAGE));
	put(o, "vh_host_memory_frames_bytes{kind=\"shared_saved\"} %llu\n",
	    (unsigned long long)(hs->mem.shared_saved * PAGE));
	family(o, "vh_host_vms", "gauge", "VMs defined.");
	put(o, "vh_host_vms %u\n", (unsigned)hs->nvms);
	family(o, "vh_host_vms_powered_on", "gauge", "VMs running or paused.");
	put(o, "vh_host_vms_powered_on %u\n", (unsigned)hs->npowered_on);
	family(o, "vh_host_cpu_busy_seconds_total", "counter", "Time pCPUs ran vCPUs, by pCPU.");
	for (uint32_t i = 0; i < npc; i++)
		put(o, "vh_host_cpu_busy_seconds_total{pcpu=\"%u\"} %.9f\n", (unsigned)i,
		    (double)pc[i].busy_ns / 1e9);
	family(o, "vh_host_cpu_idle_seconds_total", "counter", "Time pCPUs were idle, by pCPU.");
	for (uint32_t i = 0; i < npc; i++)
		put(o, "vh_host_cpu_idle_seconds_total{pcpu=\"%u\"} %.9f\n", (unsigned)i,
		    (double)pc[i].idle_ns / 1e9);
}

/* ---- VMs ---------------------------------------------------------------------------------- */

enum vfield {
	F_USED,
	F_READY,
	F_LIMITED,
	F_STOLEN,
	F_COSTOP,
	F_WAIT,
	F_RUNS,
	F_GRANTED,
	F_CONSUMED,
	F_ACTIVE,
	F_SHARED,
	F_BALLOON,
	F_SWAPPED,
	F_OVERHEAD,
	F_VCPUS,
	F_MEMORY,
	F_BALLOON_TARGET,
	F_ENTITLED,
	F_IDLE_TAX,
	F_BOOTS,
};

static const struct {
	enum vfield f;
	const char *name, *type, *help;
} vm_families[] = {
	{ F_USED, "vh_vm_cpu_used_seconds_total", "counter", "Time the VM's vCPUs ran on a pCPU." },
	{ F_READY, "vh_vm_cpu_ready_seconds_total", "counter",
	  "Time the VM's vCPUs were runnable but waited for a pCPU." },
	{ F_LIMITED, "vh_vm_cpu_limited_seconds_total", "counter",
	  "Of the ready time, time held back by the VM's own CPU limit (ESX %MLMTD)." },
	{ F_STOLEN, "vh_vm_cpu_stolen_seconds_total", "counter",
	  "Of the ready time, time the pCPU's host took while a vCPU was on it." },
	{ F_COSTOP, "vh_vm_cpu_costop_seconds_total", "counter",
	  "Time the VM's vCPUs were held back by co-scheduling." },
	{ F_WAIT, "vh_vm_cpu_wait_seconds_total", "counter",
	  "Time the VM's vCPUs were halted, waiting for an interrupt." },
	{ F_RUNS, "vh_vm_cpu_runs_total", "counter",
	  "Times the VM's vCPUs were dispatched onto a pCPU." },
	{ F_GRANTED, "vh_vm_memory_granted_bytes", "gauge",
	  "Guest memory backed by a host frame." },
	{ F_CONSUMED, "vh_vm_memory_consumed_bytes", "gauge",
	  "Host memory charged to the VM (shared frames split)." },
	{ F_ACTIVE, "vh_vm_memory_active_bytes", "gauge",
	  "Guest memory estimated active by sampling." },
	{ F_SHARED, "vh_vm_memory_shared_bytes", "gauge", "Guest memory on shared frames." },
	{ F_BALLOON, "vh_vm_memory_balloon_bytes", "gauge",
	  "Guest memory handed back through the balloon." },
	{ F_SWAPPED, "vh_vm_memory_swapped_bytes", "gauge",
	  "Guest memory swapped out by the hypervisor." },
	{ F_OVERHEAD, "vh_vm_memory_overhead_bytes", "gauge", "Hypervisor metadata for the VM." },
	{ F_VCPUS, "vh_vm_vcpus", "gauge", "Configured vCPUs." },
	{ F_MEMORY, "vh_vm_memory_configured_bytes", "gauge", "Configured guest memory." },
	{ F_BALLOON_TARGET, "vh_vm_memory_balloon_target_bytes", "gauge",
	  "The balloon target the guest driver is given." },
	{ F_ENTITLED, "vh_vm_memory_entitled_bytes", "gauge",
	  "The VM's fair share of memory from its shares and the idle-memory tax." },
	{ F_IDLE_TAX, "vh_vm_memory_idle_tax_bytes", "gauge",
	  "Of the reclaim balloon target, memory the idle-memory tax took." },
	{ F_BOOTS, "vh_vm_boots_total", "counter",
	  "Power-ons and resets since the VM was defined." },
};

static void vm_value(struct out *o, const char *name, enum vfield f, const struct vh_hv_vm_snap *v,
		     const char *uuid)
{
	const struct vh_proto_vm_stats *st = &v->st;
	put(o, "%s{vm=\"%s\",uuid=\"%s\"}", name, v->s.name, uuid);
	switch (f) {
	case F_USED: put(o, " %.9f\n", (double)st->cpu.used_ns / 1e9); return;
	case F_READY: put(o, " %.9f\n", (double)st->cpu.ready_ns / 1e9); return;
	case F_LIMITED: put(o, " %.9f\n", (double)st->cpu.limited_ns / 1e9); return;
	case F_STOLEN: put(o, " %.9f\n", (double)st->cpu.stolen_ns / 1e9); return;
	case F_COSTOP: put(o, " %.9f\n", (double)st->cpu.costop_ns / 1e9); return;
	case F_WAIT: put(o, " %.9f\n", (double)st->cpu.wait_ns / 1e9); return;
	case F_RUNS: put(o, " %llu\n", (unsigned long long)st->cpu.runs); return;
	case F_GRANTED: put(o, " %llu\n", (unsigned long long)(st->mem.granted * PAGE)); return;
	case F_CONSUMED: put(o, " %llu\n", (unsigned long long)(st->mem.consumed * PAGE)); return;
	case F_ACTIVE: put(o, " %llu\n", (unsigned long long)(st->mem.active * PAGE)); return;
	case F_SHARED: put(o, " %llu\n", (unsigned long long)(st->mem.shared * PAGE)); return;
	case F_BALLOON: put(o, " %llu\n", (unsigned long long)(st->mem.balloon * PAGE)); return;
	case F_SWAPPED: put(o, " %llu\n", (unsigned long long)(st->mem.swapped * PAGE)); return;
	case F_OVERHEAD: put(o, " %llu\n", (unsigned long long)(st->mem.overhead * PAGE)); return;
	case F_VCPUS: put(o, " %u\n", (unsigned)v->s.vcpus); return;
	case F_MEMORY: put(o, " %llu\n", (unsigned long long)(v->s.memory_mib * MIB)); return;
	case F_BALLOON_TARGET:
		put(o, " %llu\n", (unsigned long long)(v->s.balloon_target_pages * PAGE));
		return;
	case F_ENTITLED: put(o, " %llu\n", (unsigned long long)(st->mem.entitled * PAGE)); return;
	case F_IDLE_TAX: put(o, " %llu\n", (unsigned long long)(st->mem.idle_tax * PAGE)); return;
	case F_BOOTS: put(o, " %u\n", (unsigned)v->s.boot_generation); return;
	}
}

static void vm_metrics(struct out *o, const struct vh_hv_vm_snap *v, size_t n)
{
	char(*uuids)[37] = n ? malloc(n * sizeof(*uuids)) : NULL;

	if (n && !uuids) {
		o->oom = true;
		return;
	}
	for (size_t i = 0; i < n; i++)
		vh_api_uuid_format(v[i].s.uuid, uuids[i]);
	family(o, "vh_vm_state", "gauge", "The VM's power state (value 1, the state as a label).");
	for (size_t i = 0; i < n; i++)
		put(o, "vh_vm_state{vm=\"%s\",uuid=\"%s\",state=\"%s\"} 1\n", v[i].s.name, uuids[i],
		    vh_api_state_name(v[i].s.state));
	for (size_t k = 0; k < sizeof(vm_families) / sizeof(vm_families[0]); k++) {
		family(o, vm_families[k].name, vm_families[k].type, vm_families[k].help);
		for (size_t i = 0; i < n; i++)
			vm_value(o, vm_families[k].name, vm_families[k].f, &v[i], uuids[i]);
	}
	family(o, "vh_vm_exits_total", "counter", "VM exits by reason.");
	for (size_t i = 0; i < n; i++) {
		for (unsigned k = 0; k < VH_PROTO_EXIT_SLOTS; k++) {
			const char *reason = vh_api_exit_kind_name(k);
			if (!reason)
				break;
			put(o, "vh_vm_exits_total{vm=\"%s\",uuid=\"%s\",reason=\"%s\"} %llu\n",
			    v[i].s.name, uuids[i], reason, (unsigned long long)v[i].st.exits[k]);
		}
	}
	free(uuids);
}

void vh_res_metrics(struct vh_req *r)
{
	struct out o = { 0 };
	struct vh_proto_host_info hi = { 0 };
	struct vh_proto_host_stats hs = { 0 };
	struct vh_pcpu_stats pc[VH_HOST_MAX_PCPUS];
	struct vh_api_problem p;
	struct vh_hv_vm_snap *v = NULL;
	uint32_t npc = 0;
	size_t n = 0;
	bool up;

	up = vh_hv_host_read(&hi, &hs, pc, VH_HOST_MAX_PCPUS, &npc, &p) == 0 &&
	     vh_hv_vms_snapshot(&v, &n, &p) == 0;
	agent_metrics(&o, up);
	if (up) {
		host_metrics(&o, &hi, &hs, pc, npc);
		vm_metrics(&o, v, n);
	}
	free(v);
	if (o.oom) {
		free(o.buf);
		vh_reply_fail(r, VH_API_INTERNAL, "", "out of memory");
		return;
	}
	vh_reply_raw(r, 200, "text/plain; version=0.0.4; charset=utf-8", o.buf, o.len);
}
