/* SPDX-License-Identifier: Apache-2.0 */
/* A host on the simulated platform with simulated pCPUs for the scheduler
 * tests: 1 ms quanta so that ten simulated seconds stay fast, small VMs
 * (the scheduler does not care about memory), and helpers that read CPU
 * time the way an operator would. */
#ifndef VH_TEST_SCHED_ENV_H
#define VH_TEST_SCHED_ENV_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_cpu.h"
#include "sim_platform.h"
#include "vh/host.h"
#include "vh/sched.h"
#include "vh/vm.h"
#include "vh_test.h"

#define MS VH_NSEC_PER_MSEC
#define SEC VH_NSEC_PER_SEC

struct sched_env {
	struct vh_sim_platform sp;
	struct vh_host h;
	struct vh_sim_cpu *sc;
};

/* pcpus pCPUs of `mhz` MHz, 1 ms quanta, the other tunables default. */
static inline void sched_env_init(struct sched_env *e, unsigned pcpus, uint32_t mhz)
{
	struct vh_host_config cfg = {
		.pcpus = pcpus, .mhz_per_pcpu = mhz, .memory_bytes = 64 * VH_MIB,
	};
	struct vh_sched_params p;
	struct vh_error err = { 0 };

	VH_ASSERT(vh_sim_platform_init(&e->sp, cfg.memory_bytes, pcpus, 7));
	if (vh_host_init(&e->h, &cfg, &e->sp.plat, &err))
		VH_FAIL("vh_host_init: %s", err.reason);
	vh_sched_params_default(&p);
	p.quantum_ns = 1 * MS;
	if (vh_sched_set_params(&e->h, &p, &err))
		VH_FAIL("vh_sched_set_params: %s", err.reason);
	e->sc = vh_sim_cpu_create(&e->h, &e->sp);
	VH_ASSERT(e->sc != NULL);
}

/* The production parameters (10 ms quantum, 3 ms skew threshold) in
 * place of the environment's 1 ms quantum. */
static inline void sched_env_production(struct sched_env *e)
{
	struct vh_sched_params p;
	struct vh_error err = { 0 };

	vh_sched_params_default(&p);
	if (vh_sched_set_params(&e->h, &p, &err))
		VH_FAIL("vh_sched_set_params: %s", err.reason);
}

static inline void sched_env_fini(struct sched_env *e)
{
	for (uint32_t i = 0; i < e->h.cfg.max_vms; i++)
		if (e->h.vms[i])
			vh_sim_cpu_forget_vm(e->sc, e->h.vms[i]);
	vh_sim_cpu_destroy(e->sc);
	vh_host_fini(&e->h);
	VH_EXPECT_EQ(e->sp.alloc_bytes, (uint64_t)0); /* nothing leaked */
	vh_sim_platform_fini(&e->sp);
}

struct vm_spec {
	unsigned vcpus;
	uint32_t shares;          /* custom VM total; 0: normal */
	uint64_t reservation_mhz;
	uint64_t limit_mhz;       /* 0: unlimited */
	enum vh_cosched_mode cosched;
	enum vh_sim_workload_kind kind;
	uint64_t run_ns, sleep_ns;
};

static inline struct vh_vm *sched_env_vm(struct sched_env *e, const char *name,
					 const struct vm_spec *s)
{
	struct vh_vm_config cfg;
	struct vh_error err = { 0 };
	struct vh_sim_workload w = { .kind = s->kind,
				     .run_ns = s->run_ns,
				     .sleep_ns = s->sleep_ns };
	struct vh_vm *vm;

	vh_vm_config_default(&cfg);
	snprintf(cfg.name, sizeof(cfg.name), "%s", name);
	cfg.vcpus = s->vcpus ? s->vcpus : 1;
	cfg.memory_mib = 1;
	if (s->shares) {
		cfg.cpu.shares.level = VH_SHARES_CUSTOM;
		cfg.cpu.shares.custom = s->shares;
	}
	cfg.cpu.reservation_mhz = s->reservation_mhz;
	cfg.cpu.limit_mhz = s->limit_mhz ? s->limit_mhz : VH_UNLIMITED;
	cfg.cosched = s->cosched;
	vm = vh_vm_define(&e->h, &cfg, &err);
	if (!vm)
		VH_FAIL("define %s: %s", name, err.reason);
	VH_ASSERT(vh_sim_cpu_set_workload(e->sc, vm, &w));
	if (vh_vm_start(&e->h, vm, &err))
		VH_FAIL("start %s: %s", name, err.reason);
	return vm;
}

static inline uint64_t sched_env_now(struct sched_env *e)
{
	return e->sp.now_ns;
}

static inline void sched_env_run(struct sched_env *e, uint64_t ns)
{
	vh_sim_cpu_run_until(e->sc, e->sp.now_ns + ns);
}

static inline struct vh_cpu_stats sched_env_stats(struct sched_env *e, struct vh_vm *vm)
{
	struct vh_cpu_stats st;

	vh_sched_vm_stats(&e->h, vm, e->sp.now_ns, &st);
	return st;
}

static inline uint64_t sched_env_used(struct sched_env *e, struct vh_vm *vm)
{
	return sched_env_stats(e, vm).used_ns;
}

static inline void sched_env_set_cpu(struct sched_env *e, struct vh_vm *vm, uint32_t shares,
				     uint64_t reservation_mhz, uint64_t limit_mhz)
{
	struct vh_cpu_controls c = vm->cfg.cpu;
	struct vh_error err = { 0 };

	if (shares) {
		c.shares.level = VH_SHARES_CUSTOM;
		c.shares.custom = shares;
	}
	c.reservation_mhz = reservation_mhz;
	c.limit_mhz = limit_mhz ? limit_mhz : VH_UNLIMITED;
	if (vh_vm_set_cpu(&e->h, vm, &c, &err))
		VH_FAIL("set cpu of %s: %s", vm->cfg.name, err.reason);
}

/* ---- a host whose pCPUs lose time to someone else (steal) ----------------
 *
 * vh-hosted's pCPUs are Linux threads: Linux may run other threads on their
 * CPUs, even while a worker is inside KVM_RUN.  This drives the scheduler's
 * per-pCPU loop the way vh-hosted's workers do, for CPU-bound vCPUs, on
 * pCPUs that lose time in windows: a pCPU runs for a while (uniform in
 * run/2 .. 3 run/2), then loses a window (uniform in lost/2 .. 3 lost/2),
 * as a thread does that shares its CPU with a busy one; the windows come
 * from a seeded generator, so a run is reproducible but the windows do not
 * lock to the scheduler's quanta.  A deadline or a kick that falls into a
 * window is only noticed when it ends (the worker is not on a CPU to
 * notice it).  With `report`, each pCPU tells the scheduler what it lost
 * before every decision (vh_sched_steal, as vh-hosted's workers do), and
 * with tick_ns also every tick_ns in between (as vh-hosted's housekeeping
 * thread does); without, the scheduler sees wall time only.  What each vCPU really ran is kept
 * beside the scheduler's counters: the truth the tests hold them to. */
#define STEAL_MAX_PCPUS 8
#define STEAL_MAX_VCPUS 32

struct steal_pattern {
	uint64_t run_ns, lost_ns; /* means; lost_ns 0: never loses time */
};

struct steal_windows {
	uint64_t *start, *len, *before; /* before: lost before window i */
	size_t n, cap;
	uint64_t end;                   /* generated up to here */
	uint64_t rng;
};

struct steal_sim {
	struct sched_env *e;
	bool report;
	struct steal_pattern pat[STEAL_MAX_PCPUS];
	struct steal_windows win[STEAL_MAX_PCPUS];
	struct {
		struct vh_vcpu *cur;
		uint64_t start, next;
		uint64_t acct; /* its run was accounted (and reported) up to here */
	} p[STEAL_MAX_PCPUS];
	/* Every tick_ns (0: never), another thread settles every pCPU's
	 * steal so far (vh-hosted's housekeeping thread does, every 5 ms). */
	uint64_t tick_ns, next_tick;
	struct {
		const struct vh_vcpu *v;
		uint64_t real_ns;
	} real[STEAL_MAX_VCPUS];
	unsigned nreal;
	uint64_t stolen_ns; /* lost by pCPUs while they ran a vCPU */
	bool started;
	/* Called once per instant at which something happened. */
	void (*observe)(struct steal_sim *ss, uint64_t now, void *arg);
	void *observe_arg;
};

static inline void steal_sim_init(struct steal_sim *ss, struct sched_env *e, bool report)
{
	memset(ss, 0, sizeof(*ss));
	VH_ASSERT(e->h.cfg.pcpus <= STEAL_MAX_PCPUS);
	ss->e = e;
	ss->report = report;
	for (unsigned p = 0; p < STEAL_MAX_PCPUS; p++)
		ss->win[p].rng = 0x9e3779b97f4a7c15ull * (p + 1);
}

static inline void steal_sim_fini(struct steal_sim *ss)
{
	for (unsigned p = 0; p < STEAL_MAX_PCPUS; p++) {
		free(ss->win[p].start);
		free(ss->win[p].len);
		free(ss->win[p].before);
	}
}

/* Uniform in mean/2 .. 3 mean/2 (xorshift64). */
static inline uint64_t steal_sim_draw(struct steal_windows *w, uint64_t mean)
{
	w->rng ^= w->rng << 13;
	w->rng ^= w->rng >> 7;
	w->rng ^= w->rng << 17;
	return mean / 2 + (mean ? w->rng % (mean + 1) : 0);
}

/* Generates p's windows beyond t. */
static inline void steal_sim_cover(struct steal_sim *ss, unsigned p, uint64_t t)
{
	struct steal_windows *w = &ss->win[p];

	while (w->end <= t) {
		uint64_t at = w->end + steal_sim_draw(w, ss->pat[p].run_ns);
		if (w->n == w->cap) {
			w->cap = w->cap ? 2 * w->cap : 1024;
			w->start = realloc(w->start, w->cap * sizeof(*w->start));
			w->len = realloc(w->len, w->cap * sizeof(*w->len));
			w->before = realloc(w->before, w->cap * sizeof(*w->before));
			VH_ASSERT(w->start && w->len && w->before);
		}
		w->start[w->n] = at;
		w->len[w->n] = steal_sim_draw(w, ss->pat[p].lost_ns);
		w->before[w->n] = w->n ? w->before[w->n - 1] + w->len[w->n - 1] : 0;
		w->end = at + w->len[w->n];
		w->n++;
	}
}

/* The last window of p starting at or before t (-1: none). */
static inline long steal_sim_window(struct steal_sim *ss, unsigned p, uint64_t t)
{
	struct steal_windows *w = &ss->win[p];
	size_t lo = 0, hi;

	steal_sim_cover(ss, p, t);
	hi = w->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (w->start[mid] <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (long)lo - 1;
}

/* Time p loses before instant t, since 0. */
static inline uint64_t steal_sim_lost_by(struct steal_sim *ss, unsigned p, uint64_t t)
{
	struct steal_windows *w = &ss->win[p];
	long i;
	uint64_t in;

	if (!ss->pat[p].lost_ns)
		return 0;
	i = steal_sim_window(ss, p, t);
	if (i < 0)
		return 0;
	in = t - w->start[i];
	return w->before[i] + (in < w->len[i] ? in : w->len[i]);
}

static inline uint64_t steal_sim_lost(struct steal_sim *ss, unsigned p, uint64_t a, uint64_t b)
{
	return steal_sim_lost_by(ss, p, b) - steal_sim_lost_by(ss, p, a);
}

/* When pCPU p notices an event due at t. */
static inline uint64_t steal_sim_notice(struct steal_sim *ss, unsigned p, uint64_t t)
{
	struct steal_windows *w = &ss->win[p];
	long i;

	if (!ss->pat[p].lost_ns || t == UINT64_MAX)
		return t;
	i = steal_sim_window(ss, p, t);
	if (i >= 0 && t < w->start[i] + w->len[i])
		return w->start[i] + w->len[i];
	return t;
}

static inline uint64_t *steal_sim_real_slot(struct steal_sim *ss, const struct vh_vcpu *v)
{
	for (unsigned i = 0; i < ss->nreal; i++)
		if (ss->real[i].v == v)
			return &ss->real[i].real_ns;
	VH_ASSERT(ss->nreal < STEAL_MAX_VCPUS);
	ss->real[ss->nreal].v = v;
	ss->real[ss->nreal].real_ns = 0;
	return &ss->real[ss->nreal++].real_ns;
}

/* What v really ran up to `now` (its run in progress included). */
static inline uint64_t steal_sim_real(struct steal_sim *ss, const struct vh_vcpu *v, uint64_t now)
{
	uint64_t r = *steal_sim_real_slot(ss, v);

	for (unsigned p = 0; p < ss->e->h.cfg.pcpus; p++)
		if (ss->p[p].cur == v && now > ss->p[p].acct)
			r += now - ss->p[p].acct - steal_sim_lost(ss, p, ss->p[p].acct, now);
	return r;
}

static inline uint64_t steal_sim_vm_real(struct steal_sim *ss, const struct vh_vm *vm, uint64_t now)
{
	uint64_t r = 0;

	for (uint32_t i = 0; i < vm->cfg.vcpus; i++)
		r += steal_sim_real(ss, &vm->vcpus[i], now);
	return r;
}

static inline void steal_sim_take_kicks(struct steal_sim *ss, uint64_t now)
{
	struct vh_sim_platform *sp = &ss->e->sp;

	for (unsigned q = 0; q < ss->e->h.cfg.pcpus; q++) {
		uint64_t t;
		if (!sp->kick_pending[q])
			continue;
		sp->kick_pending[q] = false;
		t = steal_sim_notice(ss, q, now);
		if (t < ss->p[q].next)
			ss->p[q].next = t;
	}
}

/* Lock held.  Accounts p's run up to now and reports what it lost. */
static inline void steal_sim_settle(struct steal_sim *ss, unsigned p, uint64_t now)
{
	struct vh_vcpu *v = ss->p[p].cur;

	if (v && ss->e->h.sched.pcpus[p].current == v && now > ss->p[p].acct) {
		uint64_t lost = steal_sim_lost(ss, p, ss->p[p].acct, now);
		*steal_sim_real_slot(ss, v) += now - ss->p[p].acct - lost;
		ss->stolen_ns += lost;
		if (ss->report)
			vh_sched_steal(&ss->e->h, p, now, lost);
	}
	ss->p[p].acct = now;
}

static inline void steal_sim_decide(struct steal_sim *ss, unsigned p, uint64_t now)
{
	struct sched_env *e = ss->e;
	struct vh_vcpu *prev = ss->p[p].cur;
	struct vh_sched_pick pick;

	e->sp.plat.lock(e->sp.plat.ctx);
	steal_sim_settle(ss, p, now);
	if (prev && e->h.sched.pcpus[p].current != prev)
		prev = NULL;
	pick = vh_sched_next(&e->h, p, now, prev, VH_SCHED_PREEMPTED, 0);
	e->sp.plat.unlock(e->sp.plat.ctx);
	ss->p[p].cur = pick.vcpu;
	ss->p[p].start = now;
	ss->p[p].next = steal_sim_notice(ss, p, pick.until_ns);
	steal_sim_take_kicks(ss, now);
}

static inline void steal_sim_tick(struct steal_sim *ss, uint64_t now)
{
	struct sched_env *e = ss->e;

	e->sp.plat.lock(e->sp.plat.ctx);
	for (unsigned p = 0; p < e->h.cfg.pcpus; p++)
		steal_sim_settle(ss, p, now);
	e->sp.plat.unlock(e->sp.plat.ctx);
	ss->next_tick = now + ss->tick_ns;
	steal_sim_take_kicks(ss, now);
}

static inline void steal_sim_run(struct steal_sim *ss, uint64_t ns)
{
	struct sched_env *e = ss->e;
	uint64_t end = e->sp.now_ns + ns;
	bool dirty = false;

	if (!ss->started) {
		for (unsigned p = 0; p < e->h.cfg.pcpus; p++)
			ss->p[p].next = steal_sim_notice(ss, p, e->sp.now_ns);
		ss->next_tick = ss->tick_ns ? e->sp.now_ns + ss->tick_ns : UINT64_MAX;
		ss->started = true;
	}
	steal_sim_take_kicks(ss, e->sp.now_ns);
	for (;;) {
		unsigned best = 0;
		uint64_t t;
		for (unsigned p = 1; p < e->h.cfg.pcpus; p++)
			if (ss->p[p].next < ss->p[best].next)
				best = p;
		t = ss->p[best].next < ss->next_tick ? ss->p[best].next : ss->next_tick;
		if (t > end)
			break;
		if (t > e->sp.now_ns) {
			if (dirty && ss->observe)
				ss->observe(ss, e->sp.now_ns, ss->observe_arg);
			e->sp.now_ns = t;
		}
		if (t == ss->p[best].next)
			steal_sim_decide(ss, best, t);
		else
			steal_sim_tick(ss, t);
		dirty = true;
	}
	if (dirty && ss->observe)
		ss->observe(ss, e->sp.now_ns, ss->observe_arg);
	e->sp.now_ns = end;
}

/* The stolen time the scheduler counted on these VMs' vCPUs (as ready). */
static inline uint64_t steal_sim_counted(struct vh_vm *const *vms, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++)
		for (uint32_t j = 0; j < vms[i]->cfg.vcpus; j++)
			v += vms[i]->vcpus[j].sched.stolen_ns;
	return v;
}

#endif
