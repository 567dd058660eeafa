/* SPDX-License-Identifier: Apache-2.0 */
/* Simulated pCPUs and vCPU workloads over the simulated platform (see
 * sim_cpu.h).  Each pCPU has one pending event: the end of what the
 * scheduler gave it, its vCPU's next workload event (halt, barrier), or a
 * kick.  The earliest event is handled next, lowest pCPU first on ties,
 * so a run is a pure function of its inputs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_cpu.h"

#define NEVER UINT64_MAX
/* Events at one instant beyond this mean the scheduler and the simulator
 * are kicking each other forever: a bug worth stopping for. */
#define MAX_EVENTS_PER_INSTANT 1000000u

enum phase {
	PH_WORK,   /* running its workload (left_ns of CPU to the next event) */
	PH_SPIN,   /* smp: spinning at a barrier */
	PH_HALTED, /* told the scheduler it halted */
};

struct sim_vm;

struct sim_vcpu {
	struct vh_vcpu *vcpu;
	struct sim_vm *svm;
	enum phase phase;
	uint64_t left_ns;  /* PH_WORK: CPU time to the next event, NEVER: none */
	uint64_t spun_ns;  /* PH_SPIN: spun in this wait */
	uint64_t wait_gen; /* the barrier generation it waits at */
	uint64_t timer_at; /* halted with a timer: when it is due, 0: none */
	struct vh_sim_vcpu_stats st;
};

struct sim_vm {
	struct vh_vm *vm;
	struct vh_sim_workload w;
	uint64_t spin_limit;
	uint32_t arrived;
	uint64_t gen;    /* barrier generation */
	uint64_t passed; /* barriers the VM passed */
	uint32_t n;
	struct sim_vcpu *v;
};

struct sim_pcpu {
	struct vh_vcpu *cur;
	struct sim_vcpu *ws;
	uint64_t start, until, next;
};

struct vh_sim_cpu {
	struct vh_host *h;
	struct vh_sim_platform *sp;
	unsigned n;
	struct sim_pcpu *p;
	struct sim_vm **vms;
	size_t nvms, cap;
	void (*observe)(void *arg, uint64_t now);
	void *observe_arg;
	bool started, dirty;
	uint64_t decisions;
	uint32_t steal_permille;
};

static uint64_t now_of(struct vh_sim_cpu *sc)
{
	return sc->sp->now_ns;
}

static void lock(struct vh_sim_cpu *sc)
{
	sc->sp->plat.lock(sc->sp->plat.ctx);
}

static void unlock(struct vh_sim_cpu *sc)
{
	sc->sp->plat.unlock(sc->sp->plat.ctx);
}

/* ---- workload state ------------------------------------------------------ */

static void reset_vcpu(struct sim_vcpu *u)
{
	const struct vh_sim_workload *w = &u->svm->w;

	u->phase = PH_WORK;
	u->spun_ns = 0;
	u->timer_at = 0;
	switch (w->kind) {
	case VH_SIM_WL_CPU: u->left_ns = NEVER; break;
	case VH_SIM_WL_IDLE: u->left_ns = 0; break;
	case VH_SIM_WL_BURSTY:
	case VH_SIM_WL_SMP: u->left_ns = w->run_ns; break;
	}
}

static struct sim_vm *vm_state(struct vh_sim_cpu *sc, struct vh_vm *vm)
{
	struct sim_vm *svm;

	if (vm->vcpus[0].backend)
		return ((struct sim_vcpu *)vm->vcpus[0].backend)->svm;
	if (sc->nvms == sc->cap) {
		size_t cap = sc->cap ? 2 * sc->cap : 16;
		struct sim_vm **g = realloc(sc->vms, cap * sizeof(*g));
		if (!g)
			return NULL;
		sc->vms = g;
		sc->cap = cap;
	}
	svm = calloc(1, sizeof(*svm));
	if (!svm || !(svm->v = calloc(vm->cfg.vcpus, sizeof(*svm->v)))) {
		free(svm);
		return NULL;
	}
	svm->vm = vm;
	svm->n = vm->cfg.vcpus;
	svm->w.kind = VH_SIM_WL_CPU;
	svm->spin_limit = VH_SIM_SPIN_FOREVER;
	for (uint32_t i = 0; i < svm->n; i++) {
		svm->v[i].vcpu = &vm->vcpus[i];
		svm->v[i].svm = svm;
		reset_vcpu(&svm->v[i]);
		vm->vcpus[i].backend = &svm->v[i];
	}
	sc->vms[sc->nvms++] = svm;
	return svm;
}

static struct sim_vcpu *vcpu_state(struct vh_sim_cpu *sc, struct vh_vcpu *v)
{
	if (!v->backend && !vm_state(sc, v->vm)) {
		fprintf(stderr, "sim_cpu: out of memory\n");
		abort();
	}
	return v->backend;
}

/* ---- kicks and events ------------------------------------------------------ */

static void take_kicks(struct vh_sim_cpu *sc)
{
	uint64_t now = now_of(sc);

	for (unsigned q = 0; q < sc->n; q++) {
		if (!sc->sp->kick_pending[q])
			continue;
		sc->sp->kick_pending[q] = false;
		if (sc->p[q].next > now)
			sc->p[q].next = now;
	}
}

/* When the workload of a vCPU dispatched at `start` next needs the
 * scheduler. */
static uint64_t natural_event(const struct sim_vcpu *u, uint64_t start)
{
	switch (u->phase) {
	case PH_WORK: return u->left_ns == NEVER ? NEVER : start + u->left_ns;
	case PH_SPIN:
		if (u->svm->spin_limit == VH_SIM_SPIN_FOREVER)
			return NEVER;
		return start +
		       (u->svm->spin_limit > u->spun_ns ? u->svm->spin_limit - u->spun_ns : 0);
	case PH_HALTED: return start;
	}
	return NEVER;
}

static void plan(struct sim_pcpu *pc)
{
	uint64_t nat = natural_event(pc->ws, pc->start);

	pc->next = nat < pc->until ? nat : pc->until;
}

/* Accounts `elapsed` of run time to u's workload, without acting on
 * events. */
static void account(struct sim_vcpu *u, uint64_t elapsed)
{
	switch (u->phase) {
	case PH_WORK:
		if (u->left_ns != NEVER)
			u->left_ns -= elapsed < u->left_ns ? elapsed : u->left_ns;
		u->st.work_ns += elapsed;
		break;
	case PH_SPIN:
		u->spun_ns += elapsed;
		u->st.spin_ns += elapsed;
		break;
	case PH_HALTED: break;
	}
}

/* The running sibling u was released from its barrier at `now`: its
 * pCPU's next event changes (no call into the scheduler: the guest simply
 * stops spinning). */
static void resync_running(struct vh_sim_cpu *sc, struct sim_vcpu *u, uint64_t now,
			   enum phase was)
{
	for (unsigned q = 0; q < sc->n; q++) {
		struct sim_pcpu *pc = &sc->p[q];
		if (pc->ws != u)
			continue;
		u->phase = was;
		account(u, now - pc->start);
		u->phase = PH_WORK;
		u->left_ns = u->svm->w.run_ns;
		pc->start = now;
		plan(pc);
		return;
	}
}

/* The last vCPU reached the barrier: everyone goes on.  Halted waiters
 * get an interrupt (an IPI in a real guest). */
static void release(struct vh_sim_cpu *sc, struct sim_vm *svm, struct sim_vcpu *last, uint64_t now)
{
	uint64_t gen = svm->gen++;

	svm->arrived = 0;
	svm->passed++;
	for (uint32_t i = 0; i < svm->n; i++) {
		struct sim_vcpu *u = &svm->v[i];
		enum phase was = u->phase;
		if (u == last || u->wait_gen != gen || (was != PH_SPIN && was != PH_HALTED))
			continue;
		u->st.barriers++;
		u->phase = PH_WORK;
		u->left_ns = svm->w.run_ns;
		if (was == PH_HALTED) {
			lock(sc);
			vh_sched_wake(sc->h, u->vcpu, now);
			unlock(sc);
		} else {
			resync_running(sc, u, now, was);
		}
	}
	last->st.barriers++;
	last->phase = PH_WORK;
	last->left_ns = svm->w.run_ns;
	take_kicks(sc);
}

/* u ran up to `now`, where its workload may need the scheduler.  True
 * when it halts (with its timer in *wake_at). */
static bool advance(struct vh_sim_cpu *sc, struct sim_vcpu *u, uint64_t elapsed, uint64_t now,
		    uint64_t *wake_at)
{
	struct sim_vm *svm = u->svm;

	*wake_at = 0;
	account(u, elapsed);
	switch (u->phase) {
	case PH_HALTED:
		return true; /* woken with nothing to do: halts again */
	case PH_SPIN:
		if (svm->spin_limit != VH_SIM_SPIN_FOREVER && u->spun_ns >= svm->spin_limit) {
			u->phase = PH_HALTED;
			u->st.halts++;
			return true;
		}
		return false;
	case PH_WORK:
		if (u->left_ns)
			return false;
		break;
	}
	switch (svm->w.kind) {
	case VH_SIM_WL_CPU: return false;
	case VH_SIM_WL_IDLE:
		u->phase = PH_HALTED;
		u->st.halts++;
		return true;
	case VH_SIM_WL_BURSTY:
		u->st.bursts++;
		u->st.halts++;
		u->phase = PH_HALTED;
		u->timer_at = *wake_at = now + svm->w.sleep_ns;
		return true;
	case VH_SIM_WL_SMP:
		u->wait_gen = svm->gen;
		if (++svm->arrived >= svm->n) {
			release(sc, svm, u, now);
			return false;
		}
		u->spun_ns = 0;
		if (svm->spin_limit == 0) {
			u->phase = PH_HALTED;
			u->st.halts++;
			return true;
		}
		u->phase = PH_SPIN;
		return false;
	}
	return false;
}

/* u was just put on a pCPU. */
static void dispatched(struct sim_vcpu *u, uint64_t now)
{
	if (u->phase != PH_HALTED)
		return;
	switch (u->svm->w.kind) {
	case VH_SIM_WL_BURSTY:
		if (u->timer_at) {
			uint64_t late = now > u->timer_at ? now - u->timer_at : 0;
			u->st.wakes++;
			u->st.wake_late_sum_ns += late;
			if (late > u->st.wake_late_max_ns)
				u->st.wake_late_max_ns = late;
			u->timer_at = 0;
		}
		reset_vcpu(u); /* a new burst */
		break;
	case VH_SIM_WL_CPU:
	case VH_SIM_WL_IDLE:
		reset_vcpu(u);
		break;
	case VH_SIM_WL_SMP:
		break; /* still waiting at its barrier: halts again */
	}
}

static void process(struct vh_sim_cpu *sc, unsigned p, uint64_t now)
{
	struct sim_pcpu *pc = &sc->p[p];
	struct vh_vcpu *prev = NULL;
	enum vh_sched_event why = VH_SCHED_PREEMPTED;
	uint64_t wake_at = 0, stolen = 0;
	struct vh_sched_pick pick;

	if (pc->cur) {
		/* Still the scheduler's?  A VM paused or stopped meanwhile took
		 * it away (its vCPU may be gone): drop it untouched. */
		if (sc->h->sched.pcpus[p].current == pc->cur) {
			uint64_t held = now - pc->start;
			/* The pCPU's host took its share of the time: the guest
			 * ran only the rest, and the scheduler hears of it as a
			 * backend on shared CPUs tells it (vh_sched_steal). */
			stolen = held * sc->steal_permille / 1000;
			prev = pc->cur;
			if (advance(sc, pc->ws, held - stolen, now, &wake_at))
				why = VH_SCHED_HALTED;
		}
		pc->cur = NULL;
		pc->ws = NULL;
	}
	lock(sc);
	if (stolen)
		vh_sched_steal(sc->h, p, now, stolen);
	pick = vh_sched_next(sc->h, p, now, prev, why, wake_at);
	unlock(sc);
	sc->decisions++;
	pc->until = pick.until_ns;
	pc->start = now;
	if (pick.vcpu) {
		pc->cur = pick.vcpu;
		pc->ws = vcpu_state(sc, pick.vcpu);
		dispatched(pc->ws, now);
		plan(pc);
	} else {
		pc->next = pick.until_ns;
	}
	take_kicks(sc);
}

void vh_sim_cpu_run_until(struct vh_sim_cpu *sc, uint64_t t)
{
	struct vh_sim_platform *sp = sc->sp;
	unsigned same = 0;

	if (!sc->started) {
		for (unsigned p = 0; p < sc->n; p++)
			sc->p[p].next = sp->now_ns;
		sc->started = true;
	}
	take_kicks(sc);
	for (;;) {
		unsigned best = 0;
		uint64_t tmin;
		for (unsigned p = 1; p < sc->n; p++)
			if (sc->p[p].next < sc->p[best].next)
				best = p;
		tmin = sc->p[best].next;
		if (tmin == NEVER || tmin > t)
			break;
		if (tmin > sp->now_ns) {
			if (sc->dirty && sc->observe)
				sc->observe(sc->observe_arg, sp->now_ns);
			sc->dirty = false;
			sp->now_ns = tmin;
			same = 0;
		}
		if (++same > MAX_EVENTS_PER_INSTANT) {
			fprintf(stderr, "sim_cpu: no progress at %llu ns (pCPU %u)\n",
				(unsigned long long)sp->now_ns, best);
			abort();
		}
		process(sc, best, sp->now_ns);
		sc->dirty = true;
	}
	if (sc->dirty && sc->observe)
		sc->observe(sc->observe_arg, sp->now_ns);
	sc->dirty = false;
	if (t > sp->now_ns)
		sp->now_ns = t;
}

/* ---- set-up and queries ---------------------------------------------------- */

void vh_sim_cpu_set_steal(struct vh_sim_cpu *sc, uint32_t permille)
{
	sc->steal_permille = permille > 900 ? 900 : permille;
}

struct vh_sim_cpu *vh_sim_cpu_create(struct vh_host *h, struct vh_sim_platform *sp)
{
	struct vh_sim_cpu *sc = calloc(1, sizeof(*sc));

	if (!sc)
		return NULL;
	sc->h = h;
	sc->sp = sp;
	sc->n = h->cfg.pcpus;
	sc->p = calloc(sc->n, sizeof(*sc->p));
	if (!sc->p || sp->npcpus < sc->n) {
		free(sc->p);
		free(sc);
		return NULL;
	}
	for (unsigned p = 0; p < sc->n; p++)
		sc->p[p].next = NEVER;
	return sc;
}

static void free_vm(struct sim_vm *svm)
{
	free(svm->v);
	free(svm);
}

void vh_sim_cpu_destroy(struct vh_sim_cpu *sc)
{
	if (!sc)
		return;
	for (size_t i = 0; i < sc->nvms; i++)
		free_vm(sc->vms[i]);
	free(sc->vms);
	free(sc->p);
	free(sc);
}

void vh_sim_cpu_forget_vm(struct vh_sim_cpu *sc, struct vh_vm *vm)
{
	for (size_t i = 0; i < sc->nvms; i++) {
		struct sim_vm *svm = sc->vms[i];
		if (svm->vm != vm)
			continue;
		for (unsigned q = 0; q < sc->n; q++) {
			if (sc->p[q].ws && sc->p[q].ws->svm == svm) {
				sc->p[q].ws = NULL;
				sc->p[q].cur = NULL;
			}
		}
		for (uint32_t j = 0; j < svm->n; j++)
			vm->vcpus[j].backend = NULL;
		free_vm(svm);
		sc->vms[i] = sc->vms[--sc->nvms];
		return;
	}
}

bool vh_sim_cpu_set_workload(struct vh_sim_cpu *sc, struct vh_vm *vm,
			     const struct vh_sim_workload *w)
{
	struct sim_vm *svm = vm_state(sc, vm);
	uint64_t now = now_of(sc);

	if (!svm)
		return false;
	svm->w = *w;
	svm->arrived = 0;
	svm->gen++;
	for (uint32_t i = 0; i < svm->n; i++) {
		struct sim_vcpu *u = &svm->v[i];
		bool halted = u->phase == PH_HALTED;
		struct sim_pcpu *on = NULL;
		for (unsigned q = 0; q < sc->n; q++)
			if (sc->p[q].ws == u)
				on = &sc->p[q];
		if (on) {
			account(u, now - on->start);
			on->start = now;
		}
		reset_vcpu(u);
		if (on) {
			plan(on);
		} else if (halted && w->kind != VH_SIM_WL_IDLE) {
			/* It has work now: the interrupt that brings it. */
			lock(sc);
			vh_sched_wake(sc->h, u->vcpu, now);
			unlock(sc);
		} else if (halted) {
			u->phase = PH_HALTED;
		}
	}
	take_kicks(sc);
	return true;
}

bool vh_sim_cpu_set_barrier_spin(struct vh_sim_cpu *sc, struct vh_vm *vm, uint64_t spin_ns)
{
	struct sim_vm *svm = vm_state(sc, vm);

	if (!svm)
		return false;
	svm->spin_limit = spin_ns;
	return true;
}

void vh_sim_cpu_set_observer(struct vh_sim_cpu *sc, void (*fn)(void *arg, uint64_t now), void *arg)
{
	sc->observe = fn;
	sc->observe_arg = arg;
}

void vh_sim_cpu_interrupt(struct vh_sim_cpu *sc, struct vh_vcpu *v)
{
	lock(sc);
	vh_sched_wake(sc->h, v, now_of(sc));
	unlock(sc);
	take_kicks(sc);
}

void vh_sim_cpu_vcpu_stats(struct vh_sim_cpu *sc, struct vh_vcpu *v, struct vh_sim_vcpu_stats *out)
{
	struct sim_vcpu *u = v->backend;

	(void)sc;
	memset(out, 0, sizeof(*out));
	if (u) {
		*out = u->st;
		/* Include the run in progress. */
		for (unsigned q = 0; q < sc->n; q++) {
			if (sc->p[q].ws != u)
				continue;
			if (u->phase == PH_WORK)
				out->work_ns += now_of(sc) - sc->p[q].start;
			else if (u->phase == PH_SPIN)
				out->spin_ns += now_of(sc) - sc->p[q].start;
		}
	}
}

void vh_sim_cpu_vm_stats(struct vh_sim_cpu *sc, struct vh_vm *vm, struct vh_sim_vcpu_stats *out)
{
	memset(out, 0, sizeof(*out));
	for (uint32_t i = 0; i < vm->cfg.vcpus; i++) {
		struct vh_sim_vcpu_stats s;
		vh_sim_cpu_vcpu_stats(sc, &vm->vcpus[i], &s);
		out->work_ns += s.work_ns;
		out->spin_ns += s.spin_ns;
		out->halts += s.halts;
		out->bursts += s.bursts;
		out->barriers += s.barriers;
		out->wakes += s.wakes;
		out->wake_late_sum_ns += s.wake_late_sum_ns;
		if (s.wake_late_max_ns > out->wake_late_max_ns)
			out->wake_late_max_ns = s.wake_late_max_ns;
	}
}

uint64_t vh_sim_cpu_vm_barriers(struct vh_sim_cpu *sc, struct vh_vm *vm)
{
	struct vh_vcpu *v = &vm->vcpus[0];

	(void)sc;
	return v->backend ? ((struct sim_vcpu *)v->backend)->svm->passed : 0;
}

uint64_t vh_sim_cpu_decisions(const struct vh_sim_cpu *sc)
{
	return sc->decisions;
}
