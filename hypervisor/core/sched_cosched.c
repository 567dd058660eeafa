/* SPDX-License-Identifier: Apache-2.0 */
/* Relaxed co-scheduling of a multiprocessor VM (ESX 3+ style).
 *
 * A guest expects its vCPUs to advance together: a spinlock holder that
 * is descheduled while its siblings spin, or a barrier that waits for a
 * vCPU that does not run, wastes the siblings' time, and guest watchdogs
 * fire when one vCPU falls far behind.  Each vCPU's guest progress is its
 * run time; a halted vCPU does not count (it has nothing to do) and, when
 * it wakes, is brought level with its slowest runnable sibling.  The skew
 * of a vCPU is how far it leads its slowest runnable sibling that is not
 * running.  A vCPU is only dispatched for as long as its skew stays within
 * cosched_skew_ns; one that reaches it is co-stopped (costop time) until
 * the laggards catch up to half the threshold, or until they are running
 * themselves (then they advance together): that is the co-start, and idle
 * pCPUs are kicked so that the co-stopped siblings join at once.
 *
 * When a waiting sibling appears or a running one stops, running leaders
 * whose budget shrank are kicked and re-planned, so the skew between any
 * two runnable vCPUs never exceeds the threshold (plus the time a kick
 * takes to land).  Running siblings advance together, except when a
 * backend's host steals time from one (vh_sched_steal): a leader ahead of
 * a running sibling by more than the threshold (and the shortest slice)
 * is held back too, and a steal report re-examines the VM.  Costs are
 * O(vCPUs of the VM) per event of that VM, never O(all vCPUs). */
#include "sched_internal.h"

uint64_t vh_sched_progress(const struct vh_vcpu *v, uint64_t now)
{
	uint64_t p = v->sched.progress_ns;

	if (v->sched.state == VH_SCHED_RUNNING && now > v->sched.state_since)
		p += now - v->sched.state_since;
	return p;
}

static bool waiting(const struct vh_vcpu *v)
{
	int st = v->sched.state;

	return st == VH_SCHED_READY || st == VH_SCHED_COSTOP || st == VH_SCHED_THROTTLED;
}

/* The two smallest progress values among the waiting (runnable, not
 * running) vCPUs, and among the running ones: each vCPU's constraint is
 * the smallest one other than itself, so every budget of an event comes
 * from one O(vCPUs) pass. */
struct lowest2 {
	uint64_t min1, min2;
	const struct vh_vcpu *who1;
};

struct laggards {
	struct lowest2 wait, run;
};

static void lowest2_add(struct lowest2 *l, const struct vh_vcpu *v, uint64_t p)
{
	if (p < l->min1) {
		l->min2 = l->min1;
		l->min1 = p;
		l->who1 = v;
	} else if (p < l->min2) {
		l->min2 = p;
	}
}

static uint64_t lowest2_other(const struct lowest2 *l, const struct vh_vcpu *v)
{
	return l->who1 == v ? l->min2 : l->min1;
}

static void find_laggards(struct vh_vm *vm, uint64_t now, struct laggards *l)
{
	l->wait.min1 = l->wait.min2 = l->run.min1 = l->run.min2 = VH_SCHED_NEVER;
	l->wait.who1 = l->run.who1 = NULL;
	for (uint32_t i = 0; i < vm->cfg.vcpus; i++) {
		const struct vh_vcpu *v = &vm->vcpus[i];
		if (waiting(v))
			lowest2_add(&l->wait, v, vh_sched_progress(v, now));
		else if (v->sched.state == VH_SCHED_RUNNING)
			lowest2_add(&l->run, v, vh_sched_progress(v, now));
	}
}

/* How long v may run.  Against a waiting sibling: until it leads it by
 * the threshold.  A running sibling advances with v, so it sets no
 * deadline, and v may lead it by up to the threshold (what it led by when
 * that sibling started); but one that fell further behind anyway (its
 * pCPU's host took time from it: vh_sched_steal), by more than the
 * shortest slice beyond the threshold, holds v back until it is within
 * the threshold again. */
static uint64_t budget_of(struct vh_host *h, const struct laggards *l, const struct vh_vcpu *v,
			  uint64_t now)
{
	uint64_t wmin = lowest2_other(&l->wait, v), rmin = lowest2_other(&l->run, v);
	uint64_t skew = h->sched.params.cosched_skew_ns, p, limit;

	if (wmin == VH_SCHED_NEVER && rmin == VH_SCHED_NEVER)
		return VH_SCHED_NEVER;
	p = vh_sched_progress(v, now);
	if (rmin != VH_SCHED_NEVER && p >= rmin + skew + vh_sched_min_slice(h))
		return 0;
	if (wmin == VH_SCHED_NEVER)
		return VH_SCHED_NEVER;
	limit = wmin + skew;
	return p < limit ? limit - p : 0;
}

uint64_t vh_sched_cosched_budget(struct vh_host *h, struct vh_vcpu *v, uint64_t now)
{
	struct laggards l;

	if (!vh_sched_is_relaxed(v->vm))
		return VH_SCHED_NEVER;
	find_laggards(v->vm, now, &l);
	return budget_of(h, &l, v, now);
}

void vh_sched_costop(struct vh_host *h, struct vh_vcpu *v, uint64_t now)
{
	vh_sched_dequeue(h, v);
	vh_sched_set_state(v, VH_SCHED_COSTOP, now);
}

void vh_sched_cosched_changed(struct vh_host *h, struct vh_vm *vm, uint64_t now)
{
	uint64_t restart = h->sched.params.cosched_skew_ns / 2;
	struct laggards l;

	if (!vh_sched_is_relaxed(vm) || !vm->sched.active)
		return;
	find_laggards(vm, now, &l);
	for (uint32_t i = 0; i < vm->cfg.vcpus; i++) {
		struct vh_vcpu *v = &vm->vcpus[i];
		uint64_t b;
		if (v->sched.state == VH_SCHED_COSTOP) {
			/* Co-start: the laggards caught up, or run. */
			b = budget_of(h, &l, v, now);
			if (b == VH_SCHED_NEVER || b >= restart) {
				vh_sched_clamp_lag(h, v, h->sched.params.quantum_ns);
				vh_sched_enqueue(h, v, now, true);
			}
		} else if (v->sched.state == VH_SCHED_RUNNING) {
			struct vh_pcpu_sched *pc = &h->sched.pcpus[v->sched.pcpu];
			b = budget_of(h, &l, v, now);
			if (b != VH_SCHED_NEVER && (pc->until == VH_SCHED_NEVER ||
						    now + b < pc->until))
				vh_sched_kick(h, (unsigned)v->sched.pcpu);
		}
	}
}

/* A woken vCPU had nothing to do while halted: it is as far along as the
 * slowest of its runnable siblings, not behind them. */
void vh_sched_cosched_woken(struct vh_host *h, struct vh_vcpu *v, uint64_t now)
{
	struct vh_vm *vm = v->vm;
	uint64_t pmin = VH_SCHED_NEVER;

	(void)h;
	if (!vh_sched_is_relaxed(vm))
		return;
	for (uint32_t i = 0; i < vm->cfg.vcpus; i++) {
		const struct vh_vcpu *u = &vm->vcpus[i];
		if (u != v && vh_sched_runnable(u))
			pmin = vh_sched_umin(pmin, vh_sched_progress(u, now));
	}
	if (pmin != VH_SCHED_NEVER && v->sched.progress_ns < pmin)
		v->sched.progress_ns = pmin;
}

/* Starts every vCPU level (power-on, resume, a change of mode). */
void vh_sched_cosched_sync(struct vh_vm *vm)
{
	uint64_t pmax = 0;

	for (uint32_t i = 0; i < vm->cfg.vcpus; i++)
		if (vm->vcpus[i].sched.progress_ns > pmax)
			pmax = vm->vcpus[i].sched.progress_ns;
	for (uint32_t i = 0; i < vm->cfg.vcpus; i++)
		vm->vcpus[i].sched.progress_ns = pmax;
}
