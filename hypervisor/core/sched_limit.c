/* SPDX-License-Identifier: Apache-2.0 */
/* Limits: a VM never runs more than limit_mhz / mhz_per_pcpu of a pCPU's
 * time over any window of limit_window_ns, even alone on an idle host
 * (limits are not work-conserving).
 *
 * Run time is recorded in a ring of window/64 slots plus the current one,
 * so the ring always covers the whole sliding window ending now.  A charge
 * lands in the slot of the moment it is charged (never earlier than the
 * run it stands for), which can only over-count the window: the bound
 * holds exactly, and the VM may fall short of its limit by at most one
 * slot in 64.  Every dispatch is promised no more than what is left of
 * the window budget after what the VM's running vCPUs were promised
 * (committed_ns), so concurrent vCPUs cannot overrun it either. */
#include "sched_internal.h"

#define RING (VH_SCHED_LIMIT_SLOTS + 1)

static uint64_t slot_ns(const struct vh_host *h)
{
	uint64_t s = h->sched.params.limit_window_ns / VH_SCHED_LIMIT_SLOTS;

	return s ? s : 1;
}

static void advance(struct vh_host *h, struct vh_vm *vm, uint64_t now)
{
	struct vh_vm_sched *s = &vm->sched;
	uint64_t cur = now / slot_ns(h);

	if (cur <= s->window_slot)
		return;
	if (cur - s->window_slot >= RING) {
		for (unsigned i = 0; i < RING; i++)
			s->window_ring[i] = 0;
		s->window_used_ns = 0;
	} else {
		while (s->window_slot < cur) {
			uint64_t *slot = &s->window_ring[++s->window_slot % RING];
			s->window_used_ns -= *slot;
			*slot = 0;
		}
	}
	s->window_slot = cur;
}

void vh_sched_limit_reset(struct vh_host *h, struct vh_vm *vm, uint64_t now)
{
	struct vh_vm_sched *s = &vm->sched;

	for (unsigned i = 0; i < RING; i++)
		s->window_ring[i] = 0;
	s->window_used_ns = 0;
	s->window_slot = now / slot_ns(h);
}

/* The budget per window in ns of pCPU time:
 * limit_mhz / mhz_per_pcpu * window, without overflow (window * limit
 * may exceed 64 bits; window / mhz * limit may not). */
static uint64_t budget_ns(const struct vh_host *h, uint64_t limit_mhz, unsigned vcpus)
{
	uint64_t mhz = h->cfg.mhz_per_pcpu, w = h->sched.params.limit_window_ns;

	/* A limit at or above what the VM's vCPUs could use is no limit. */
	if (limit_mhz == VH_UNLIMITED || limit_mhz >= mhz * vcpus)
		return 0;
	return (w / mhz) * limit_mhz + (w % mhz) * limit_mhz / mhz;
}

static void unthrottle(struct vh_host *h, struct vh_vm *vm, uint64_t now)
{
	vh_sched_timer_disarm(h, &vm->sched.throttle_timer);
	if (!vm->sched.throttled)
		return;
	vm->sched.throttled = false;
	for (uint32_t i = 0; i < vm->cfg.vcpus; i++) {
		struct vh_vcpu *v = &vm->vcpus[i];
		if (v->sched.state != VH_SCHED_THROTTLED)
			continue;
		/* Held back by its own limit: no catching up on the others. */
		vh_sched_clamp_lag(h, v, h->sched.params.quantum_ns);
		vh_sched_enqueue(h, v, now, true);
	}
	if (vh_sched_is_relaxed(vm))
		vh_sched_cosched_changed(h, vm, now);
}

void vh_sched_limit_configure(struct vh_host *h, struct vh_vm *vm, uint64_t now)
{
	struct vh_vm_sched *s = &vm->sched;
	uint64_t old = s->limit_budget_ns;

	s->limit_budget_ns = budget_ns(h, s->limit_mhz, vm->cfg.vcpus);
	if (!s->active)
		return;
	if (s->throttled && (!s->limit_budget_ns ||
			     vh_sched_limit_avail(h, vm, now) >= vh_sched_min_slice(h)))
		unthrottle(h, vm, now);
	/* A lower limit applies to the slices already handed out too: the
	 * running vCPUs come back and are re-planned under it. */
	if (s->limit_budget_ns && (!old || s->limit_budget_ns < old)) {
		for (uint32_t i = 0; i < vm->cfg.vcpus; i++) {
			struct vh_vcpu *v = &vm->vcpus[i];
			if (v->sched.state == VH_SCHED_RUNNING)
				vh_sched_kick(h, (unsigned)v->sched.pcpu);
		}
	}
}

void vh_sched_limit_charge(struct vh_host *h, struct vh_vm *vm, uint64_t ran, uint64_t now)
{
	advance(h, vm, now);
	vm->sched.window_ring[vm->sched.window_slot % RING] += ran;
	vm->sched.window_used_ns += ran;
}

void vh_sched_limit_commit(struct vh_vm *vm, struct vh_vcpu *v, uint64_t ns)
{
	vm->sched.committed_ns -= v->sched.commit_ns;
	v->sched.commit_ns = ns;
	vm->sched.committed_ns += ns;
}

uint64_t vh_sched_limit_avail(struct vh_host *h, struct vh_vm *vm, uint64_t now)
{
	struct vh_vm_sched *s = &vm->sched;
	uint64_t used;

	if (!s->limit_budget_ns)
		return VH_SCHED_NEVER;
	advance(h, vm, now);
	used = s->window_used_ns + s->committed_ns;
	return s->limit_budget_ns > used ? s->limit_budget_ns - used : 0;
}

/* When enough old run time will have left the window for a useful
 * slice: the first slot boundary at which the oldest slots release it,
 * or the next boundary when even the whole ring would not (running vCPUs
 * still hold promises); the timer then looks again. */
static uint64_t unthrottle_at(struct vh_host *h, struct vh_vm *vm)
{
	struct vh_vm_sched *s = &vm->sched;
	uint64_t sl = slot_ns(h),
		 want = s->window_used_ns + s->committed_ns + vh_sched_min_slice(h);
	uint64_t oldest =
	    s->window_slot >= VH_SCHED_LIMIT_SLOTS ? s->window_slot - VH_SCHED_LIMIT_SLOTS : 0;
	uint64_t need, freed = 0;

	if (want <= s->limit_budget_ns)
		return (s->window_slot + 1) * sl;
	need = want - s->limit_budget_ns;
	for (uint64_t j = oldest; j <= s->window_slot; j++) {
		freed += s->window_ring[j % RING];
		if (freed >= need)
			return (j + VH_SCHED_LIMIT_SLOTS + 1) * sl;
	}
	return (s->window_slot + 1) * sl;
}

/* The VM used its window: none of its waiting vCPUs is runnable until
 * old run time leaves the window. */
void vh_sched_limit_throttle(struct vh_host *h, struct vh_vm *vm, uint64_t now)
{
	if (vh_sched_is_strict(vm))
		vh_sched_gang_detach(h, vm, now);
	vm->sched.throttled = true;
	for (uint32_t i = 0; i < vm->cfg.vcpus; i++) {
		struct vh_vcpu *v = &vm->vcpus[i];
		if (v->sched.state == VH_SCHED_READY || v->sched.state == VH_SCHED_COSTOP) {
			vh_sched_dequeue(h, v);
			vh_sched_set_state(v, VH_SCHED_THROTTLED, now);
		}
	}
	advance(h, vm, now);
	vh_sched_timer_arm(h, &vm->sched.throttle_timer, unthrottle_at(h, vm));
}

void vh_sched_limit_timer(struct vh_host *h, struct vh_vm *vm, uint64_t now)
{
	if (!vm->sched.active || !vm->sched.throttled)
		return;
	if (vh_sched_limit_avail(h, vm, now) >= vh_sched_min_slice(h))
		unthrottle(h, vm, now);
	else
		vh_sched_timer_arm(h, &vm->sched.throttle_timer, unthrottle_at(h, vm));
}

void vh_sched_limit_stop(struct vh_host *h, struct vh_vm *vm)
{
	vh_sched_timer_disarm(h, &vm->sched.throttle_timer);
	vm->sched.throttled = false;
}
