/* SPDX-License-Identifier: Apache-2.0 */
/* Reservations: a VM reserving R MHz is owed R / mhz_per_pcpu of a pCPU's
 * time, whatever the shares of the others.  The debt is kept as credit:
 * it accrues at the reserved rate, running spends it, and while it is
 * positive the VM's vCPUs also sit in the reservation queue, which every
 * pick serves before the shares queue.  Admission control (vm.c) keeps
 * the sum of reservations within capacity, so all owed credit can be
 * paid.  Credit is capped at two quanta per reserved pCPU, so that a VM
 * idle for a while does not come back with a burst, and a VM starts with
 * one quantum of it, so that quantisation errs in its favour: over any
 * interval it runs at least its reservation, less nothing.
 *
 * Run time on credit is charged to the shares' virtual time as well
 * (up to a lead, see sched_runq.c), so a VM gets the larger of its
 * reservation and its shares' entitlement, as in ESX, not their sum. */
#include "sched_internal.h"

/* Longest stretch accrued at once (keeps the product in 64 bits; the cap
 * is far below what it accrues anyway). */
#define MAX_ACCRUE_NS (10 * VH_NSEC_PER_SEC)

static void accrue(struct vh_host *h, struct vh_vm *vm, uint64_t now)
{
	struct vh_vm_sched *s = &vm->sched;
	uint64_t dt;

	if (now <= s->credit_at)
		return;
	dt = vh_sched_umin(now - s->credit_at, MAX_ACCRUE_NS);
	s->credit_at = now;
	if (!s->reservation_mhz)
		return;
	s->credit_ns += (int64_t)(dt * s->reservation_mhz / h->cfg.mhz_per_pcpu);
	if (s->credit_ns > s->credit_cap_ns)
		s->credit_ns = s->credit_cap_ns;
}

/* Two quanta per reserved pCPU (rounded up). */
static int64_t credit_cap(const struct vh_host *h, uint64_t reservation_mhz)
{
	uint64_t mhz = h->cfg.mhz_per_pcpu, pcpus = (reservation_mhz + mhz - 1) / mhz;

	return (int64_t)(2 * h->sched.params.quantum_ns * (pcpus ? pcpus : 1));
}

/* Puts the VM's queued vCPUs (or its queued gang) into the reservation
 * queue, or takes them out, as its credit says. */
static void refresh(struct vh_host *h, struct vh_vm *vm, uint64_t now)
{
	struct vh_host_sched *hs = &h->sched;
	struct vh_vm_sched *s = &vm->sched;
	bool ok = s->active && s->reservation_mhz && s->credit_ns > 0;

	if (ok == s->credit_ok) {
		if (!ok && s->active && s->reservation_mhz && !s->credit_timer.index)
			goto arm;
		return;
	}
	s->credit_ok = ok;
	if (ok) {
		vh_sched_timer_disarm(h, &s->credit_timer);
		if (s->gang_qnode.index) {
			uint64_t key = vh_sched_heap_key(&hs->shares_q, &s->gang_qnode);
			vh_sched_heap_push(&hs->reserve_q, &s->gang_rnode, key);
			vh_sched_find_pcpu(h, key, true, now);
		}
		for (uint32_t i = 0; i < vm->cfg.vcpus; i++) {
			struct vh_vcpu *v = &vm->vcpus[i];
			if (!v->sched.qnode.index)
				continue;
			vh_sched_heap_push(&hs->reserve_q, &v->sched.rnode, v->sched.vtime);
			vh_sched_find_pcpu(h, v->sched.vtime, true, now);
		}
		return;
	}
	vh_sched_heap_remove(&hs->reserve_q, &s->gang_rnode);
	for (uint32_t i = 0; i < vm->cfg.vcpus; i++)
		vh_sched_heap_remove(&hs->reserve_q, &vm->vcpus[i].sched.rnode);
	if (!s->active || !s->reservation_mhz)
		return;
arm:
	/* Wake up when the credit turns positive again. */
	{
		uint64_t need = (uint64_t)(1 - s->credit_ns), mhz = h->cfg.mhz_per_pcpu;
		uint64_t dt = (need * mhz + s->reservation_mhz - 1) / s->reservation_mhz;
		vh_sched_timer_arm(h, &s->credit_timer, now + (dt ? dt : 1));
	}
}

void vh_sched_credit_configure(struct vh_host *h, struct vh_vm *vm, uint64_t now)
{
	struct vh_vm_sched *s = &vm->sched;

	s->credit_cap_ns = credit_cap(h, s->reservation_mhz);
	if (!s->reservation_mhz) {
		s->credit_ns = 0;
		vh_sched_timer_disarm(h, &s->credit_timer);
	} else if (s->credit_ns > s->credit_cap_ns) {
		s->credit_ns = s->credit_cap_ns;
	}
	s->credit_at = now;
	refresh(h, vm, now);
}

/* Accrues the credit at the current rate up to now (before a change). */
void vh_sched_credit_settle(struct vh_host *h, struct vh_vm *vm, uint64_t now)
{
	accrue(h, vm, now);
}

void vh_sched_credit_start(struct vh_host *h, struct vh_vm *vm, uint64_t now)
{
	struct vh_vm_sched *s = &vm->sched;

	s->credit_cap_ns = credit_cap(h, s->reservation_mhz);
	s->credit_ns = s->reservation_mhz ? (int64_t)h->sched.params.quantum_ns : 0;
	s->credit_at = now;
	/* No vCPU is queued yet: they join the reservation queue as they are
	 * queued. */
	s->credit_ok = s->active && s->reservation_mhz && s->credit_ns > 0;
}

void vh_sched_credit_charge(struct vh_host *h, struct vh_vm *vm, uint64_t ran, uint64_t now)
{
	if (!vm->sched.reservation_mhz)
		return;
	accrue(h, vm, now);
	vm->sched.credit_ns -= (int64_t)ran;
	refresh(h, vm, now);
}

void vh_sched_credit_timer(struct vh_host *h, struct vh_vm *vm, uint64_t now)
{
	if (!vm->sched.active || !vm->sched.reservation_mhz)
		return;
	accrue(h, vm, now);
	refresh(h, vm, now);
}

void vh_sched_credit_stop(struct vh_host *h, struct vh_vm *vm)
{
	vh_sched_timer_disarm(h, &vm->sched.credit_timer);
	vm->sched.credit_ok = false;
}
