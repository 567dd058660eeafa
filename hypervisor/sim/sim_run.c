/* SPDX-License-Identifier: Apache-2.0 */
/* The vh-sim engine: a scenario's host and VMs on the real core, pCPUs and
 * workloads from sim_cpu.c, guest memory writes and a balloon driver per
 * VM, the scenario's changes at their times, and a JSON report. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "json_out.h"
#include "sim_cpu.h"
#include "sim_platform.h"
#include "sim_run.h"
#include "vh/host.h"
#include "vh/stats.h"
#include "vh/vm.h"

/* Memory work (guest writes, balloon driver, vh_mem_tick) happens at this
 * granularity of simulated time. */
#define MEM_STEP_NS (10 * VH_NSEC_PER_MSEC)
/* At most this many pages handed to or taken from the balloon per step. */
#define BALLOON_STEP_PAGES 4096

struct run_vm {
	struct vh_vm *vm;
	const struct vh_sim_vm_spec *spec;
	struct vh_sim_workload workload;
	uint64_t touch_cursor;    /* next page of the touched range */
	uint64_t touch_carry;     /* fractional pages (x 1e9) */
	uint64_t touched;         /* pages written */
	uint64_t refused;         /* writes refused (VH_FAULT_NO_MEMORY) */
	vh_gfn_t *ballooned;      /* the simulated balloon driver's pages */
	uint64_t nballooned;
};

struct run {
	const struct vh_sim_scenario *sc;
	struct vh_sim_platform sp;
	struct vh_host h;
	struct vh_sim_cpu *cpu;
	struct run_vm *vms;
	struct vh_json j;
	bool host_ok;
	uint64_t events_refused;
};

static struct run_vm *run_vm_named(struct run *r, const char *name)
{
	for (size_t i = 0; i < r->sc->nvms; i++) {
		if (strcmp(r->vms[i].spec->cfg.name, name) == 0)
			return &r->vms[i];
	}
	return NULL;
}

/* Deterministic page content: VMs with the same seed write the same bytes
 * at the same guest page (shareable); seed 0 writes zeroes. */
static void fill_content(uint8_t *page, uint32_t seed, vh_gfn_t gfn)
{
	uint64_t x = ((uint64_t)seed << 32) ^ (gfn * 0x9e3779b97f4a7c15ull) ^ 0x5851f42d4c957f2dull;

	if (seed == 0) {
		memset(page, 0, VH_PAGE_SIZE);
		return;
	}
	for (size_t i = 0; i < VH_PAGE_SIZE; i += 8) {
		x ^= x >> 12;
		x ^= x << 25;
		x ^= x >> 27;
		uint64_t v = x * 0x2545f4914f6cdd1dull;
		memcpy(page + i, &v, 8);
	}
}

static void guest_writes(struct run *r, struct run_vm *rv, uint64_t dt)
{
	const struct vh_sim_workload *w = &rv->workload;
	uint64_t pages = rv->vm->cfg.memory_mib * VH_PAGES_PER_MIB;
	uint64_t range = pages * w->touch_percent / 100;
	uint8_t page[VH_PAGE_SIZE];

	/* A guest never writes the pages its balloon driver gave back (they
	 * come off the top of memory). */
	if (range > pages - rv->nballooned)
		range = pages - rv->nballooned;
	uint64_t n;

	if (!w->touch_pages_per_sec || !range)
		return;
	rv->touch_carry += w->touch_pages_per_sec * dt;
	n = rv->touch_carry / VH_NSEC_PER_SEC;
	rv->touch_carry %= VH_NSEC_PER_SEC;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t idx = rv->touch_cursor % range;
		/* The idx-th RAM page: across the 32-bit hole in a large VM. */
		vh_gfn_t gfn = vh_layout_ram_gfn(&rv->vm->mem.layout, idx);
		rv->touch_cursor = (idx + 1) % range;
		fill_content(page, w->content_seed, gfn);
		if (vh_sim_guest_write(&r->sp, &r->h, rv->vm, gfn << VH_PAGE_SHIFT, page,
				       sizeof(page)) == VH_FAULT_MAPPED)
			rv->touched++;
		else
			rv->refused++;
	}
}

/* The guest balloon driver: follows the target the hypervisor sets,
 * handing back pages from the top of guest memory down. */
static void balloon_driver(struct run *r, struct run_vm *rv)
{
	uint64_t target = rv->vm->mem.balloon_target_pages;
	uint64_t pages = rv->vm->cfg.memory_mib * VH_PAGES_PER_MIB;
	vh_gfn_t batch[256];

	if (!rv->ballooned) {
		rv->ballooned = calloc(pages, sizeof(*rv->ballooned));
		if (!rv->ballooned)
			return;
	}
	for (uint64_t moved = 0; moved < BALLOON_STEP_PAGES && rv->nballooned != target;) {
		uint64_t k = 0;
		if (rv->nballooned < target) {
			while (k < 256 && rv->nballooned + k < target)
				batch[k] = vh_layout_ram_gfn(&rv->vm->mem.layout,
							     pages - 1 - (rv->nballooned + k)),
				k++;
			r->sp.plat.lock(&r->sp);
			uint64_t got = vh_mem_balloon_inflate(&r->h, rv->vm, batch, k);
			r->sp.plat.unlock(&r->sp);
			for (uint64_t i = 0; i < got; i++)
				rv->ballooned[rv->nballooned++] = batch[i];
			if (got < k)
				break;
			moved += k;
		} else {
			while (k < 256 && rv->nballooned - k > target)
				batch[k] = rv->ballooned[rv->nballooned - 1 - k], k++;
			r->sp.plat.lock(&r->sp);
			uint64_t got = vh_mem_balloon_deflate(&r->h, rv->vm, batch, k);
			r->sp.plat.unlock(&r->sp);
			rv->nballooned -= got;
			if (got < k)
				break;
			moved += k;
		}
	}
}

static void memory_step(struct run *r, uint64_t dt)
{
	for (size_t i = 0; i < r->sc->nvms; i++) {
		struct run_vm *rv = &r->vms[i];
		if (rv->vm->state != VH_VM_RUNNING)
			continue;
		guest_writes(r, rv, dt);
		balloon_driver(r, rv);
	}
	r->sp.plat.lock(&r->sp);
	vh_mem_tick(&r->h, r->sp.now_ns);
	r->sp.plat.unlock(&r->sp);
}

static const char *event_name(enum vh_sim_event_kind k)
{
	static const char *const names[] = {
		[VH_SIM_EV_START] = "start", [VH_SIM_EV_STOP] = "stop",
		[VH_SIM_EV_PAUSE] = "pause", [VH_SIM_EV_RESUME] = "resume",
		[VH_SIM_EV_SET_CPU] = "set_cpu", [VH_SIM_EV_SET_MEM] = "set_mem",
		[VH_SIM_EV_BALLOON] = "balloon", [VH_SIM_EV_WORKLOAD] = "workload",
	};
	return names[k];
}

/* Applies one change as the API would, and reports it. */
static void apply_event(struct run *r, const struct vh_sim_event *ev)
{
	struct run_vm *rv = run_vm_named(r, ev->vm);
	struct vh_error err;
	int rc = VH_OK;

	vh_error_clear(&err);
	r->sp.plat.lock(&r->sp);
	switch (ev->kind) {
	case VH_SIM_EV_START: rc = vh_vm_start(&r->h, rv->vm, &err); break;
	case VH_SIM_EV_STOP: rc = vh_vm_stop(&r->h, rv->vm, &err); break;
	case VH_SIM_EV_PAUSE: rc = vh_vm_pause(&r->h, rv->vm, &err); break;
	case VH_SIM_EV_RESUME: rc = vh_vm_resume(&r->h, rv->vm, &err); break;
	case VH_SIM_EV_SET_CPU: rc = vh_vm_set_cpu(&r->h, rv->vm, &ev->cpu, &err); break;
	case VH_SIM_EV_SET_MEM: rc = vh_vm_set_mem(&r->h, rv->vm, &ev->mem, &err); break;
	case VH_SIM_EV_BALLOON: rc = vh_vm_set_balloon(&r->h, rv->vm, ev->balloon_mib, &err); break;
	case VH_SIM_EV_WORKLOAD: break;
	}
	r->sp.plat.unlock(&r->sp);
	if (ev->kind == VH_SIM_EV_WORKLOAD) {
		rv->workload = ev->workload;
		if (!vh_sim_cpu_set_workload(r->cpu, rv->vm, &ev->workload))
			rc = vh_error_set(&err, VH_E_NOMEM, "out of memory for the workload");
	}
	if (rc == VH_OK && (ev->kind == VH_SIM_EV_STOP))
		rv->nballooned = 0; /* powered off: the guest's balloon is gone */
	vh_json_begin_object(&r->j, NULL);
	vh_json_fixed(&r->j, "at_s", (double)ev->at_ns / 1e9, 3);
	vh_json_string(&r->j, "vm", ev->vm);
	vh_json_string(&r->j, "action", event_name(ev->kind));
	vh_json_u64(&r->j, "line", ev->line);
	if (rc == VH_OK) {
		vh_json_string(&r->j, "result", "ok");
	} else {
		r->events_refused++;
		vh_json_string(&r->j, "result", vh_errcode_name((enum vh_errcode)rc));
		vh_json_string(&r->j, "reason", err.reason);
	}
	vh_json_end_object(&r->j);
}

static double pct(uint64_t part, uint64_t whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

static double ms(uint64_t ns)
{
	return (double)ns / 1e6;
}

static void report_vm(struct run *r, struct run_vm *rv, uint64_t elapsed)
{
	struct vh_cpu_stats cs;
	struct vh_mem_stats m;
	struct vh_sim_vcpu_stats ws;
	struct vh_vm *vm = rv->vm;
	uint64_t pcpu_ns = elapsed * r->h.cfg.pcpus;
	uint64_t mhz_total = (uint64_t)r->h.cfg.pcpus * r->h.cfg.mhz_per_pcpu;

	r->sp.plat.lock(&r->sp);
	vh_sched_vm_stats(&r->h, vm, r->sp.now_ns, &cs);
	vh_mem_vm_stats(&r->h, vm, &m);
	r->sp.plat.unlock(&r->sp);
	vh_sim_cpu_vm_stats(r->cpu, vm, &ws);

	vh_json_begin_object(&r->j, NULL);
	vh_json_string(&r->j, "name", vm->cfg.name);
	vh_json_string(&r->j, "state", vh_vm_state_name(vm->state));
	vh_json_u64(&r->j, "vcpus", vm->cfg.vcpus);
	vh_json_begin_object(&r->j, "cpu");
	vh_json_fixed(&r->j, "used_ms", ms(cs.used_ns), 3);
	vh_json_fixed(&r->j, "ready_ms", ms(cs.ready_ns), 3);
	vh_json_fixed(&r->j, "limited_ms", ms(cs.limited_ns), 3);
	vh_json_fixed(&r->j, "stolen_ms", ms(cs.stolen_ns), 3);
	vh_json_fixed(&r->j, "costop_ms", ms(cs.costop_ns), 3);
	vh_json_fixed(&r->j, "wait_ms", ms(cs.wait_ns), 3);
	vh_json_u64(&r->j, "runs", cs.runs);
	vh_json_fixed(&r->j, "used_pct_of_host", pct(cs.used_ns, pcpu_ns), 3);
	vh_json_fixed(&r->j, "used_mhz", elapsed ? (double)cs.used_ns * (double)mhz_total /
							   (double)pcpu_ns
						 : 0.0, 1);
	vh_json_fixed(&r->j, "ready_pct", pct(cs.ready_ns, elapsed * vm->cfg.vcpus), 3);
	vh_json_fixed(&r->j, "limited_pct", pct(cs.limited_ns, elapsed * vm->cfg.vcpus), 3);
	vh_json_fixed(&r->j, "costop_pct", pct(cs.costop_ns, elapsed * vm->cfg.vcpus), 3);
	vh_json_end_object(&r->j);
	vh_json_begin_object(&r->j, "memory");
	vh_json_fixed(&r->j, "granted_mib", (double)m.granted / VH_PAGES_PER_MIB, 3);
	vh_json_fixed(&r->j, "consumed_mib", (double)m.consumed / VH_PAGES_PER_MIB, 3);
	vh_json_fixed(&r->j, "active_mib", (double)m.active / VH_PAGES_PER_MIB, 3);
	vh_json_fixed(&r->j, "shared_mib", (double)m.shared / VH_PAGES_PER_MIB, 3);
	vh_json_fixed(&r->j, "balloon_mib", (double)m.balloon / VH_PAGES_PER_MIB, 3);
	vh_json_fixed(&r->j, "swapped_mib", (double)m.swapped / VH_PAGES_PER_MIB, 3);
	vh_json_fixed(&r->j, "overhead_mib", (double)m.overhead / VH_PAGES_PER_MIB, 3);
	vh_json_fixed(&r->j, "balloon_target_mib",
		      (double)vm->mem.balloon_target_pages / VH_PAGES_PER_MIB, 3);
	vh_json_u64(&r->j, "pages_written", rv->touched);
	vh_json_u64(&r->j, "writes_refused", rv->refused);
	vh_json_end_object(&r->j);
	vh_json_begin_object(&r->j, "guest");
	vh_json_fixed(&r->j, "work_ms", ms(ws.work_ns), 3);
	vh_json_fixed(&r->j, "spin_ms", ms(ws.spin_ns), 3);
	vh_json_u64(&r->j, "halts", ws.halts);
	vh_json_u64(&r->j, "bursts", ws.bursts);
	vh_json_u64(&r->j, "barriers", vh_sim_cpu_vm_barriers(r->cpu, vm));
	vh_json_fixed(&r->j, "wake_late_max_ms", ms(ws.wake_late_max_ns), 3);
	vh_json_end_object(&r->j);
	vh_json_end_object(&r->j);
}

static void report_host(struct run *r, uint64_t elapsed)
{
	struct vh_host_mem_stats hm;

	vh_json_begin_object(&r->j, "host");
	vh_json_u64(&r->j, "pcpus", r->h.cfg.pcpus);
	vh_json_u64(&r->j, "mhz_per_pcpu", r->h.cfg.mhz_per_pcpu);
	vh_json_u64(&r->j, "reserved_mhz", r->h.reserved_mhz);
	vh_json_u64(&r->j, "reserved_mib", r->h.reserved_mib);
	vh_json_begin_array(&r->j, "pcpu_busy_pct");
	r->sp.plat.lock(&r->sp);
	for (unsigned p = 0; p < r->h.cfg.pcpus; p++) {
		struct vh_pcpu_stats ps;
		vh_sched_pcpu_stats(&r->h, p, r->sp.now_ns, &ps);
		vh_json_fixed(&r->j, NULL, pct(ps.busy_ns, elapsed), 3);
	}
	vh_mem_host_stats(&r->h, &hm);
	r->sp.plat.unlock(&r->sp);
	vh_json_end_array(&r->j);
	vh_json_begin_object(&r->j, "memory");
	vh_json_fixed(&r->j, "total_mib", (double)hm.total / VH_PAGES_PER_MIB, 3);
	vh_json_fixed(&r->j, "free_mib", (double)hm.free / VH_PAGES_PER_MIB, 3);
	vh_json_fixed(&r->j, "reserved_mib", (double)hm.reserved / VH_PAGES_PER_MIB, 3);
	vh_json_fixed(&r->j, "shared_saved_mib", (double)hm.shared_saved / VH_PAGES_PER_MIB, 3);
	vh_json_end_object(&r->j);
	vh_json_u64(&r->j, "scheduler_decisions", vh_sim_cpu_decisions(r->cpu));
	vh_json_end_object(&r->j);
}

static void report_all_vms(struct run *r, uint64_t elapsed)
{
	vh_json_begin_array(&r->j, "vms");
	for (size_t i = 0; i < r->sc->nvms; i++)
		report_vm(r, &r->vms[i], elapsed);
	vh_json_end_array(&r->j);
}

static bool setup(struct run *r, char *err, size_t errlen)
{
	const struct vh_sim_scenario *sc = r->sc;
	struct vh_host_config hc = sc->host;
	struct vh_error verr;

	/* A simulated host names its start as a real one does (HOST_INFO's
	 * instance), from the scenario's seed so a run is repeatable; never 0. */
	hc.instance = (sc->seed ^ 0x5349d4f1c0ffee00ull) * 0x9e3779b97f4a7c15ull | 1;
	if (!vh_sim_platform_init(&r->sp, sc->host.memory_bytes, sc->host.pcpus, sc->seed)) {
		snprintf(err, errlen,
			 "out of memory for %" PRIu64 " bytes of simulated host memory",
			 sc->host.memory_bytes);
		return false;
	}
	if (vh_host_init(&r->h, &hc, &r->sp.plat, &verr)) {
		snprintf(err, errlen, "host refused: %s", verr.reason);
		return false;
	}
	r->host_ok = true;
	if (vh_sched_set_params(&r->h, &sc->sched, &verr)) {
		snprintf(err, errlen, "sched: %s", verr.reason);
		return false;
	}
	r->h.mem.params = sc->mem;
	r->cpu = vh_sim_cpu_create(&r->h, &r->sp);
	r->vms = calloc(sc->nvms, sizeof(*r->vms));
	if (!r->cpu || !r->vms) {
		snprintf(err, errlen, "out of memory");
		return false;
	}
	vh_sim_cpu_set_steal(r->cpu, sc->steal_permille);
	for (size_t i = 0; i < sc->nvms; i++) {
		struct run_vm *rv = &r->vms[i];
		rv->spec = &sc->vms[i];
		rv->workload = sc->vms[i].workload;
		r->sp.plat.lock(&r->sp);
		rv->vm = vh_vm_define(&r->h, &sc->vms[i].cfg, &verr);
		r->sp.plat.unlock(&r->sp);
		if (!rv->vm) {
			snprintf(err, errlen, "vm \"%s\" refused: %s", sc->vms[i].cfg.name,
				 verr.reason);
			return false;
		}
		if (!vh_sim_cpu_set_workload(r->cpu, rv->vm, &rv->workload)) {
			snprintf(err, errlen, "out of memory");
			return false;
		}
	}
	return true;
}

static void teardown(struct run *r)
{
	if (r->vms) {
		for (size_t i = 0; i < r->sc->nvms; i++) {
			if (r->vms[i].vm && r->cpu)
				vh_sim_cpu_forget_vm(r->cpu, r->vms[i].vm);
			free(r->vms[i].ballooned);
		}
	}
	if (r->cpu)
		vh_sim_cpu_destroy(r->cpu);
	if (r->host_ok)
		vh_host_fini(&r->h);
	free(r->vms);
	vh_sim_platform_fini(&r->sp);
}

/* Power-ons at time 0 go through the same path as later changes. */
static void start_initial(struct run *r)
{
	for (size_t i = 0; i < r->sc->nvms; i++) {
		if (!r->sc->vms[i].start)
			continue;
		struct vh_sim_event ev = { .at_ns = 0, .kind = VH_SIM_EV_START };
		snprintf(ev.vm, sizeof(ev.vm), "%s", r->sc->vms[i].cfg.name);
		apply_event(r, &ev);
	}
}

bool vh_sim_run(const struct vh_sim_scenario *sc, const struct vh_sim_run_options *opt, FILE *out,
		char *err, size_t errlen)
{
	struct run r;
	size_t next_event = 0;
	uint64_t next_sample = sc->sample_interval_ns, next_mem = MEM_STEP_NS, last_mem = 0;
	bool samples = opt && opt->samples && sc->sample_interval_ns;

	memset(&r, 0, sizeof(r));
	r.sc = sc;
	if (!setup(&r, err, errlen)) {
		teardown(&r);
		return false;
	}
	vh_json_init(&r.j, out);
	vh_json_begin_object(&r.j, NULL);
	vh_json_fixed(&r.j, "duration_s", (double)sc->duration_ns / 1e9, 3);
	vh_json_u64(&r.j, "seed", sc->seed);
	vh_json_begin_array(&r.j, "events");
	start_initial(&r);
	/* The events list is written as the run goes; samples are kept for
	 * after it, in their own array. */
	char *sample_buf = NULL;
	size_t sample_len = 0;
	FILE *sample_f = samples ? open_memstream(&sample_buf, &sample_len) : NULL;
	struct vh_json sj;
	if (sample_f) {
		vh_json_init(&sj, sample_f);
		sj.depth = 1; /* written inside the top-level object later */
		sj.first[1] = true;
		sj.in_array[1] = true;
	}

	for (;;) {
		uint64_t t = sc->duration_ns;
		if (next_event < sc->nevents && sc->events[next_event].at_ns < t)
			t = sc->events[next_event].at_ns;
		if (next_mem < t)
			t = next_mem;
		if (samples && next_sample < t)
			t = next_sample;
		vh_sim_cpu_run_until(r.cpu, t);
		if (t == next_mem) {
			memory_step(&r, t - last_mem);
			last_mem = t;
			next_mem += MEM_STEP_NS;
		}
		while (next_event < sc->nevents && sc->events[next_event].at_ns == t)
			apply_event(&r, &sc->events[next_event++]);
		if (samples && t == next_sample) {
			struct vh_json saved = r.j;
			r.j = sj;
			vh_json_begin_object(&r.j, NULL);
			vh_json_fixed(&r.j, "at_s", (double)t / 1e9, 3);
			report_all_vms(&r, t);
			vh_json_end_object(&r.j);
			sj = r.j;
			r.j = saved;
			next_sample += sc->sample_interval_ns;
		}
		if (t >= sc->duration_ns)
			break;
	}
	vh_json_end_array(&r.j);
	vh_json_u64(&r.j, "events_refused", r.events_refused);
	report_host(&r, sc->duration_ns);
	report_all_vms(&r, sc->duration_ns);
	if (sample_f) {
		fclose(sample_f);
		fputs(",\n  \"samples\": [", out);
		fwrite(sample_buf, 1, sample_len, out);
		fputs("\n  ]", out);
		free(sample_buf);
	}
	vh_json_end_object(&r.j);
	vh_json_finish(&r.j);
	teardown(&r);
	return true;
}
