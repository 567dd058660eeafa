/* SPDX-License-Identifier: Apache-2.0 */
/* Internals shared by the scheduler's files (hypervisor/core/sched*.c).
 * Not part of the core's API: only sched*.c include this.
 *
 *   sched.c          the API: host and VM set-up, vh_sched_next, stats
 *   sched_runq.c     queueing, virtual time, idle pCPUs, kicks, preemption
 *   sched_heap.c     the indexed binary heaps behind queues and timers
 *   sched_timer.c    wake-ups, throttle ends and credit refills in time
 *   sched_limit.c    limits over a sliding window
 *   sched_reserve.c  reservations as credit ahead of the shares order
 *   sched_cosched.c  relaxed co-scheduling: skew, co-stop, co-start
 *   sched_gang.c     strict co-scheduling: all vCPUs together or none */
#ifndef VH_CORE_SCHED_INTERNAL_H
#define VH_CORE_SCHED_INTERNAL_H

#include "vh/compiler.h"
#include "vh/host.h"
#include "vh/sched.h"
#include "vh/stats_pub.h"
#include "vh/vm.h"

/* What a struct vh_sched_node is embedded in. */
enum {
	VH_NODE_VCPU_Q = 1, /* vh_vcpu_sched.qnode */
	VH_NODE_VCPU_R,     /* vh_vcpu_sched.rnode */
	VH_NODE_VCPU_T,     /* vh_vcpu_sched.tnode */
	VH_NODE_GANG_Q,     /* vh_vm_sched.gang_qnode */
	VH_NODE_GANG_R,     /* vh_vm_sched.gang_rnode */
	VH_NODE_THROTTLE,   /* vh_vm_sched.throttle_timer */
	VH_NODE_CREDIT,     /* vh_vm_sched.credit_timer */
};

/* Strict co-scheduling: where a VM's gang stands. */
enum {
	VH_GANG_IDLE = 0, /* no runnable member waits (all halted, or running
			     individually after a mode change) */
	VH_GANG_QUEUED,   /* in the run queue as one entity */
	VH_GANG_GATHER,   /* picked; holding pCPUs until enough are free */
	VH_GANG_RUN,      /* every runnable member is on a pCPU */
	VH_GANG_STOP,     /* its quantum is over: members leaving their pCPUs */
};

#define VH_SCHED_NEVER UINT64_MAX
/* A vCPU with these shares ages its virtual time at wall-clock speed. */
#define VH_SCHED_REF_SHARES ((uint64_t)VH_CPU_SHARES_NORMAL)
/* One charge never counts more than this (a backend that came back very
 * late must not push a vCPU's virtual time out of comparison range). */
#define VH_SCHED_MAX_CHARGE_NS VH_NSEC_PER_SEC

/* Wrap-around order of virtual times and instants (as TCP sequence
 * numbers): correct while the values compared lie within 2^63. */
static inline bool vh_sched_before(uint64_t a, uint64_t b)
{
	return (int64_t)(a - b) < 0;
}

static inline uint64_t vh_sched_umin(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* (a * b) >> 32 without overflow; a 64x64 multiply, no division, so the
 * kernel build needs no libgcc helper. */
static inline uint64_t vh_sched_mul_shr32(uint64_t a, uint64_t b)
{
	return (uint64_t)(((unsigned __int128)a * b) >> 32);
}

static inline struct vh_vcpu *vh_sched_node_vcpu(struct vh_sched_node *n)
{
	switch (n->kind) {
	case VH_NODE_VCPU_Q: return VH_CONTAINER_OF(n, struct vh_vcpu, sched.qnode);
	case VH_NODE_VCPU_R: return VH_CONTAINER_OF(n, struct vh_vcpu, sched.rnode);
	case VH_NODE_VCPU_T: return VH_CONTAINER_OF(n, struct vh_vcpu, sched.tnode);
	}
	return NULL;
}

static inline struct vh_vm *vh_sched_node_vm(struct vh_sched_node *n)
{
	switch (n->kind) {
	case VH_NODE_GANG_Q: return VH_CONTAINER_OF(n, struct vh_vm, sched.gang_qnode);
	case VH_NODE_GANG_R: return VH_CONTAINER_OF(n, struct vh_vm, sched.gang_rnode);
	case VH_NODE_THROTTLE: return VH_CONTAINER_OF(n, struct vh_vm, sched.throttle_timer);
	case VH_NODE_CREDIT: return VH_CONTAINER_OF(n, struct vh_vm, sched.credit_timer);
	}
	return NULL;
}

static inline bool vh_sched_is_strict(const struct vh_vm *vm)
{
	return vm->sched.cosched == VH_COSCHED_STRICT;
}

static inline bool vh_sched_is_relaxed(const struct vh_vm *vm)
{
	return vm->sched.cosched == VH_COSCHED_RELAXED && vm->cfg.vcpus > 1;
}

/* Runnable: wants a pCPU (running, queued, or held back). */
static inline bool vh_sched_runnable(const struct vh_vcpu *v)
{
	int st = v->sched.state;

	return st == VH_SCHED_READY || st == VH_SCHED_RUNNING || st == VH_SCHED_COSTOP ||
	       st == VH_SCHED_THROTTLED;
}

/* The shortest slice worth dispatching (limits and co-scheduling stop
 * handing out crumbs below it). */
static inline uint64_t vh_sched_min_slice(const struct vh_host *h)
{
	uint64_t q = vh_sched_umin(h->sched.params.quantum_ns, h->sched.params.cosched_skew_ns);

	return q / 8 > VH_NSEC_PER_USEC ? q / 8 : VH_NSEC_PER_USEC;
}

/* ---- sched_heap.c ---- */
int vh_sched_heap_reserve(struct vh_host *h, struct vh_sched_heap *q, uint32_t cap);
void vh_sched_heap_release(struct vh_host *h, struct vh_sched_heap *q);
void vh_sched_heap_push(struct vh_sched_heap *q, struct vh_sched_node *n, uint64_t key);
void vh_sched_heap_remove(struct vh_sched_heap *q, struct vh_sched_node *n);
void vh_sched_heap_rekey(struct vh_sched_heap *q, struct vh_sched_node *n, uint64_t key);

static inline struct vh_sched_node *vh_sched_heap_top(const struct vh_sched_heap *q)
{
	return q->len ? q->slots[0].node : NULL;
}

static inline uint64_t vh_sched_heap_top_key(const struct vh_sched_heap *q)
{
	return q->slots[0].key;
}

static inline uint64_t vh_sched_heap_key(const struct vh_sched_heap *q,
					 const struct vh_sched_node *n)
{
	return q->slots[n->index - 1].key;
}

/* ---- sched_runq.c ---- */
/* Adds d ns spent in scheduler state `state` to the counters it belongs to. */
void vh_sched_set_state(struct vh_vcpu *v, int state, uint64_t now);
void vh_sched_pcpu_account(struct vh_pcpu_sched *pc, uint64_t now);
void vh_sched_charge(struct vh_host *h, struct vh_vcpu *v, uint64_t now);
/* The same, with `stolen` ns of that time taken by the host (ready time). */
void vh_sched_charge_stolen(struct vh_host *h, struct vh_vcpu *v, uint64_t now, uint64_t stolen);
uint64_t vh_sched_vtime_now(const struct vh_vcpu *v, uint64_t now);
void vh_sched_vclock_update(struct vh_host *h);
void vh_sched_clamp_lag(struct vh_host *h, struct vh_vcpu *v, uint64_t lag);
uint64_t vh_sched_wake_bonus(const struct vh_host *h);
/* Makes v READY (or THROTTLED, or a gang member) and queues it; with
 * kick, finds it a pCPU (an idle one, or preempts a worse vCPU). */
void vh_sched_enqueue(struct vh_host *h, struct vh_vcpu *v, uint64_t now, bool kick);
void vh_sched_dequeue(struct vh_host *h, struct vh_vcpu *v);
/* Work conservation and preemption for a newly queued entity with this
 * virtual time (credit: it runs on reservation credit). */
void vh_sched_find_pcpu(struct vh_host *h, uint64_t vtime, bool credit, uint64_t now);
void vh_sched_kick(struct vh_host *h, unsigned pcpu);
void vh_sched_idle_add(struct vh_host *h, unsigned pcpu);
void vh_sched_idle_remove(struct vh_host *h, unsigned pcpu);
unsigned vh_sched_idle_take(struct vh_host *h);
/* Takes v off its pCPU after it was charged (uncommits its slice). */
void vh_sched_detach(struct vh_host *h, struct vh_vcpu *v);

/* ---- sched_timer.c ---- */
void vh_sched_timer_arm(struct vh_host *h, struct vh_sched_node *n, uint64_t at);
void vh_sched_timer_disarm(struct vh_host *h, struct vh_sched_node *n);
void vh_sched_timers_expire(struct vh_host *h, uint64_t now);
/* Shortens a pCPU's deadline so that someone is back for the next timer;
 * records which pCPU watches. */
uint64_t vh_sched_timer_clamp(struct vh_host *h, unsigned pcpu, uint64_t until);
uint64_t vh_sched_timer_next(const struct vh_host *h);

/* ---- sched_limit.c ---- */
void vh_sched_limit_configure(struct vh_host *h, struct vh_vm *vm, uint64_t now);
void vh_sched_limit_reset(struct vh_host *h, struct vh_vm *vm, uint64_t now);
void vh_sched_limit_charge(struct vh_host *h, struct vh_vm *vm, uint64_t ran, uint64_t now);
/* Run time the VM may still be promised now (VH_SCHED_NEVER: no limit). */
uint64_t vh_sched_limit_avail(struct vh_host *h, struct vh_vm *vm, uint64_t now);
void vh_sched_limit_commit(struct vh_vm *vm, struct vh_vcpu *v, uint64_t ns);
void vh_sched_limit_throttle(struct vh_host *h, struct vh_vm *vm, uint64_t now);
void vh_sched_limit_timer(struct vh_host *h, struct vh_vm *vm, uint64_t now);
void vh_sched_limit_stop(struct vh_host *h, struct vh_vm *vm);

/* ---- sched_reserve.c ---- */
void vh_sched_credit_configure(struct vh_host *h, struct vh_vm *vm, uint64_t now);
void vh_sched_credit_settle(struct vh_host *h, struct vh_vm *vm, uint64_t now);
void vh_sched_credit_start(struct vh_host *h, struct vh_vm *vm, uint64_t now);
void vh_sched_credit_charge(struct vh_host *h, struct vh_vm *vm, uint64_t ran, uint64_t now);
void vh_sched_credit_timer(struct vh_host *h, struct vh_vm *vm, uint64_t now);
void vh_sched_credit_stop(struct vh_host *h, struct vh_vm *vm);

/* ---- sched_cosched.c ---- */
uint64_t vh_sched_progress(const struct vh_vcpu *v, uint64_t now);
/* How long v may run before it leads a waiting sibling by the skew
 * threshold (VH_SCHED_NEVER: nothing constrains it). */
uint64_t vh_sched_cosched_budget(struct vh_host *h, struct vh_vcpu *v, uint64_t now);
void vh_sched_costop(struct vh_host *h, struct vh_vcpu *v, uint64_t now);
/* Something changed among a relaxed VM's vCPUs: co-start the co-stopped
 * ones that may run again, re-deadline running leaders. */
void vh_sched_cosched_changed(struct vh_host *h, struct vh_vm *vm, uint64_t now);
void vh_sched_cosched_woken(struct vh_host *h, struct vh_vcpu *v, uint64_t now);
void vh_sched_cosched_sync(struct vh_vm *vm);

/* ---- sched_gang.c ---- */
void vh_sched_gang_member_ready(struct vh_host *h, struct vh_vcpu *v, uint64_t now);
/* A member left its pCPU (already charged, detached and re-queued or
 * halted): stop or re-queue the gang as needed. */
void vh_sched_gang_member_left(struct vh_host *h, struct vh_vm *vm, uint64_t now);
void vh_sched_gang_stop(struct vh_host *h, struct vh_vm *vm, uint64_t now);
/* What a gang decision tells the picking pCPU. */
enum {
	VH_GANG_NONE = 0,  /* nothing for p: pick something else */
	VH_GANG_PICKED,    /* *out says what p does (a member, or wait) */
	VH_GANG_BACKFILL,  /* p is held for a gathering gang: run other work
			      until *backfill, then come back */
};
/* The gang was taken off the queue by pCPU p. */
int vh_sched_gang_pick(struct vh_host *h, struct vh_vm *vm, unsigned p, uint64_t now,
		       struct vh_sched_pick *out, uint64_t *backfill);
/* A pCPU held for a gathering gang came back. */
int vh_sched_gang_arrive(struct vh_host *h, unsigned p, uint64_t now, struct vh_sched_pick *out,
			 uint64_t *backfill);
/* The held pCPU p got backfill work: the gang waits for it too. */
void vh_sched_gang_backfilling(struct vh_host *h, unsigned p);
/* Takes the gang out of the queue, the waiting list and any gathering
 * (claims released); waiting members become READY outside any queue. */
void vh_sched_gang_detach(struct vh_host *h, struct vh_vm *vm, uint64_t now);
void vh_sched_gang_dequeue(struct vh_host *h, struct vh_vm *vm);
void vh_sched_gang_requeue(struct vh_host *h, struct vh_vm *vm, uint64_t now);

#endif
