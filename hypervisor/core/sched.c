/* SPDX-License-Identifier: Apache-2.0 */
/* The CPU scheduler's API: host and VM set-up, run-time controls, the
 * per-pCPU decision (vh_sched_next), wake-ups and counters.
 *
 * A decision, in order: charge what the previous vCPU ran; fire expired
 * timers; put the previous vCPU back (halted, or queued); then take the
 * best entity: the reservation queue first (VMs owed reserved time), then
 * the shares queue (smallest virtual time), skipping vCPUs that
 * co-scheduling holds back or whose VM used its limit, and starting gangs
 * of strict VMs.  The deadline is the quantum, shortened by the limit
 * budget, the co-scheduling skew budget and the next timer.  A vCPU that
 * comes back early (kicked, or timer duty) simply carries on unless
 * something now beats it clearly.  Time the backend reports stolen by its
 * host (vh_sched_steal) is charged as ready, not run.  See
 * docs/scheduler.md. */
#include "sched_internal.h"
#include "vh/string.h"

void vh_sched_params_default(struct vh_sched_params *p)
{
	p->quantum_ns = 10 * VH_NSEC_PER_MSEC;
	p->limit_window_ns = VH_NSEC_PER_SEC;
	p->cosched_skew_ns = 3 * VH_NSEC_PER_MSEC;
}

static int validate_params(const struct vh_sched_params *p, struct vh_error *err)
{
	if (p->quantum_ns < 10 * VH_NSEC_PER_USEC || p->quantum_ns > VH_NSEC_PER_SEC)
		return vh_error_set(err, VH_E_INVAL, "sched.quantum_ns: %llu outside 10 us..1 s",
				    (unsigned long long)p->quantum_ns);
	if (p->cosched_skew_ns < 10 * VH_NSEC_PER_USEC || p->cosched_skew_ns > VH_NSEC_PER_SEC)
		return vh_error_set(err, VH_E_INVAL,
				    "sched.cosched_skew_ns: %llu outside 10 us..1 s",
				    (unsigned long long)p->cosched_skew_ns);
	if (p->limit_window_ns < VH_NSEC_PER_MSEC || p->limit_window_ns > 3600 * VH_NSEC_PER_SEC)
		return vh_error_set(err, VH_E_INVAL,
				    "sched.limit_window_ns: %llu outside 1 ms..1 h",
				    (unsigned long long)p->limit_window_ns);
	return VH_OK;
}

static uint64_t host_now(struct vh_host *h)
{
	return h->plat->now_ns(h->plat->ctx);
}

int vh_sched_host_init(struct vh_host *h, struct vh_error *err)
{
	struct vh_host_sched *s = &h->sched;
	uint64_t now = host_now(h);

	vh_memset(s, 0, sizeof(*s));
	vh_sched_params_default(&s->params);
	s->watch_until = VH_SCHED_NEVER;
	s->pcpus = h->plat->alloc(h->plat->ctx, sizeof(*s->pcpus) * h->cfg.pcpus);
	s->idle = h->plat->alloc(h->plat->ctx, sizeof(*s->idle) * h->cfg.pcpus);
	if (!s->pcpus || !s->idle) {
		vh_sched_host_fini(h);
		return vh_error_set(err, VH_E_NOMEM, "scheduler: no memory for %u pCPUs",
				    h->cfg.pcpus);
	}
	/* Until a pCPU first calls in it has nothing to run: idle. */
	for (unsigned p = 0; p < h->cfg.pcpus; p++) {
		s->pcpus[p].since = now;
		s->pcpus[p].until = VH_SCHED_NEVER;
		vh_sched_idle_add(h, p);
	}
	return VH_OK;
}

void vh_sched_host_fini(struct vh_host *h)
{
	struct vh_host_sched *s = &h->sched;

	vh_sched_heap_release(h, &s->shares_q);
	vh_sched_heap_release(h, &s->reserve_q);
	vh_sched_heap_release(h, &s->timers);
	if (s->idle)
		h->plat->free(h->plat->ctx, s->idle, sizeof(*s->idle) * h->cfg.pcpus);
	if (s->pcpus)
		h->plat->free(h->plat->ctx, s->pcpus, sizeof(*s->pcpus) * h->cfg.pcpus);
	s->idle = NULL;
	s->pcpus = NULL;
}

int vh_sched_set_params(struct vh_host *h, const struct vh_sched_params *p, struct vh_error *err)
{
	uint64_t now = host_now(h);
	int rc = validate_params(p, err);

	if (rc)
		return rc;
	h->sched.params = *p;
	for (uint32_t i = 0; i < h->cfg.max_vms; i++) {
		struct vh_vm *vm = h->vms[i];
		if (!vm)
			continue;
		vh_sched_limit_reset(h, vm, now);
		vh_sched_limit_configure(h, vm, now);
		vh_sched_credit_settle(h, vm, now);
		vh_sched_credit_configure(h, vm, now);
	}
	return VH_OK;
}

/* ---- VMs ------------------------------------------------------------------- */

/* A VM's shares split evenly over its vCPUs: each vCPU's virtual time
 * advances by run time * REF / (shares / vcpus), kept as a 32.32 fixed
 * point multiplier so that charging needs no division. */
static void set_weight(struct vh_vm *vm, const struct vh_shares *shares)
{
	uint64_t total = vh_cpu_shares_value(shares, vm->cfg.vcpus);

	if (!total)
		total = 1;
	vm->sched.shares = total;
	vm->sched.inv_weight = (VH_SCHED_REF_SHARES << 32) * vm->cfg.vcpus / total;
	if (!vm->sched.inv_weight)
		vm->sched.inv_weight = 1;
}

static enum vh_cosched_mode effective_mode(struct vh_host *h, struct vh_vm *vm,
					   enum vh_cosched_mode mode)
{
	if (mode != VH_COSCHED_STRICT)
		return mode;
	if (vm->cfg.vcpus == 1)
		return VH_COSCHED_NONE; /* a gang of one is a single vCPU */
	if (vm->cfg.vcpus > h->cfg.pcpus) {
		if (!vm->sched.strict_warned)
			vh_host_log(h,
				    "VM \"%s\": strict co-scheduling needs %u pCPUs, the host has "
				    "%u: scheduled relaxed",
				    vm->cfg.name, vm->cfg.vcpus, h->cfg.pcpus);
		vm->sched.strict_warned = true;
		return VH_COSCHED_RELAXED;
	}
	return VH_COSCHED_STRICT;
}

int vh_sched_vm_init(struct vh_host *h, struct vh_vm *vm, struct vh_error *err)
{
	struct vh_host_sched *s = &h->sched;
	uint32_t need = s->entities + vm->cfg.vcpus + 2;
	uint64_t now = host_now(h);

	/* Every vCPU and gang may sit in each queue at once, every vCPU and
	 * two timers per VM in the timer heap: reserve it all now, so that
	 * scheduling never allocates. */
	if (vh_sched_heap_reserve(h, &s->shares_q, need) ||
	    vh_sched_heap_reserve(h, &s->reserve_q, need) ||
	    vh_sched_heap_reserve(h, &s->timers, need))
		return vh_error_set(err, VH_E_NOMEM, "scheduler: no memory for %u more vCPUs",
				    vm->cfg.vcpus);
	s->entities = need;
	vh_memset(&vm->sched, 0, sizeof(vm->sched));
	vm->sched.gang_qnode.kind = VH_NODE_GANG_Q;
	vm->sched.gang_rnode.kind = VH_NODE_GANG_R;
	vm->sched.throttle_timer.kind = VH_NODE_THROTTLE;
	vm->sched.credit_timer.kind = VH_NODE_CREDIT;
	set_weight(vm, &vm->cfg.cpu.shares);
	vm->sched.reservation_mhz = vm->cfg.cpu.reservation_mhz;
	vm->sched.limit_mhz = vm->cfg.cpu.limit_mhz;
	vm->sched.cosched = effective_mode(h, vm, vm->cfg.cosched);
	vh_sched_limit_configure(h, vm, now);
	vh_sched_credit_configure(h, vm, now);
	for (uint32_t i = 0; i < vm->cfg.vcpus; i++) {
		struct vh_vcpu_sched *vs = &vm->vcpus[i].sched;
		vh_memset(vs, 0, sizeof(*vs));
		vs->state = VH_SCHED_OFF;
		vs->state_since = now;
		vs->pcpu = -1;
		vs->qnode.kind = VH_NODE_VCPU_Q;
		vs->rnode.kind = VH_NODE_VCPU_R;
		vs->tnode.kind = VH_NODE_VCPU_T;
	}
	return VH_OK;
}

void vh_sched_vm_fini(struct vh_host *h, struct vh_vm *vm)
{
	vh_sched_vm_park(h, vm, host_now(h));
	h->sched.entities -= vm->cfg.vcpus + 2;
}

void vh_sched_vm_run(struct vh_host *h, struct vh_vm *vm, uint64_t now)
{
	struct vh_vm_sched *s = &vm->sched;

	if (s->active)
		return;
	s->active = true;
	s->throttled = false;
	s->gang_state = VH_GANG_IDLE;
	vh_sched_limit_reset(h, vm, now);
	vh_sched_credit_start(h, vm, now);
	vh_sched_cosched_sync(vm);
	for (uint32_t i = 0; i < vm->cfg.vcpus; i++) {
		struct vh_vcpu *v = &vm->vcpus[i];
		v->sched.wake_at = 0;
		v->sched.wake_pending = false;
		v->sched.state_since = now;
		/* A VM powered on or resumed starts level with the queue. */
		vh_sched_clamp_lag(h, v, 0);
		vh_sched_enqueue(h, v, now, true);
	}
}

void vh_sched_vm_park(struct vh_host *h, struct vh_vm *vm, uint64_t now)
{
	struct vh_vm_sched *s = &vm->sched;

	if (!s->active)
		return;
	if (vh_sched_is_strict(vm))
		vh_sched_gang_detach(h, vm, now);
	for (uint32_t i = 0; i < vm->cfg.vcpus; i++) {
		struct vh_vcpu *v = &vm->vcpus[i];
		switch (v->sched.state) {
		case VH_SCHED_RUNNING: {
			unsigned p = (unsigned)v->sched.pcpu;
			vh_sched_pcpu_account(&h->sched.pcpus[p], now);
			vh_sched_charge(h, v, now);
			vh_sched_detach(h, v);
			/* The backend drops it when it comes back (vh_sched_next
			 * ignores a prev that is no longer current). */
			vh_sched_kick(h, p);
			break;
		}
		case VH_SCHED_READY: vh_sched_dequeue(h, v); break;
		case VH_SCHED_WAIT: vh_sched_timer_disarm(h, &v->sched.tnode); break;
		}
		vh_sched_set_state(v, VH_SCHED_OFF, now);
		v->sched.wake_at = 0;
		v->sched.wake_pending = false;
	}
	s->active = false;
	s->gang_state = VH_GANG_IDLE;
	vh_sched_limit_stop(h, vm);
	vh_sched_credit_stop(h, vm);
}

/* A change of co-scheduling mode: every waiting vCPU leaves the old
 * arrangement and queues under the new one; running vCPUs of a VM turning
 * strict come back to join the gang. */
static void set_mode(struct vh_host *h, struct vh_vm *vm, enum vh_cosched_mode mode, uint64_t now)
{
	enum vh_cosched_mode old = vm->sched.cosched;

	if (old == mode)
		return;
	if (!vm->sched.active) {
		vm->sched.cosched = mode;
		return;
	}
	if (old == VH_COSCHED_STRICT)
		vh_sched_gang_detach(h, vm, now);
	for (uint32_t i = 0; i < vm->cfg.vcpus; i++) {
		struct vh_vcpu *v = &vm->vcpus[i];
		if (v->sched.state == VH_SCHED_READY || v->sched.state == VH_SCHED_COSTOP) {
			vh_sched_dequeue(h, v);
			vh_sched_set_state(v, VH_SCHED_READY, now);
		}
	}
	vm->sched.cosched = mode;
	vm->sched.gang_state = VH_GANG_IDLE;
	vh_sched_cosched_sync(vm);
	for (uint32_t i = 0; i < vm->cfg.vcpus; i++) {
		struct vh_vcpu *v = &vm->vcpus[i];
		if (v->sched.state == VH_SCHED_READY)
			vh_sched_enqueue(h, v, now, true);
		else if (v->sched.state == VH_SCHED_RUNNING && mode == VH_COSCHED_STRICT)
			vh_sched_kick(h, (unsigned)v->sched.pcpu);
	}
}

void vh_sched_set_controls(struct vh_host *h, struct vh_vm *vm, const struct vh_cpu_controls *c,
			   enum vh_cosched_mode mode, uint64_t now)
{
	struct vh_vm_sched *s = &vm->sched;

	/* What ran so far is charged at the old weight and rates. */
	if (s->active) {
		for (uint32_t i = 0; i < vm->cfg.vcpus; i++) {
			struct vh_vcpu *v = &vm->vcpus[i];
			if (v->sched.state == VH_SCHED_RUNNING) {
				vh_sched_pcpu_account(&h->sched.pcpus[v->sched.pcpu], now);
				vh_sched_charge(h, v, now);
			}
		}
	}
	vh_sched_credit_settle(h, vm, now);
	set_weight(vm, &c->shares);
	s->reservation_mhz = c->reservation_mhz;
	s->limit_mhz = c->limit_mhz;
	vh_sched_credit_configure(h, vm, now);
	vh_sched_limit_configure(h, vm, now);
	set_mode(h, vm, effective_mode(h, vm, mode), now);
}

/* ---- the decision ------------------------------------------------------------ */

/* Hands v to pCPU p.  same: v is what p just ran (no new run counted);
 * carry_on: it came back early and keeps its quantum.  budget: the limit
 * and co-scheduling budgets; cap: an absolute end (backfill), or NEVER. */
static struct vh_sched_pick dispatch(struct vh_host *h, unsigned p, struct vh_vcpu *v, uint64_t now,
				     bool same, bool carry_on, uint64_t budget, uint64_t cap)
{
	struct vh_pcpu_sched *pc = &h->sched.pcpus[p];
	struct vh_vm *vm = v->vm;
	struct vh_sched_pick pick;
	uint64_t until;

	/* Counted before the state change publishes the vCPU. */
	if (!same)
		v->sched.stats.runs++;
	vh_sched_set_state(v, VH_SCHED_RUNNING, now);
	v->sched.pcpu = (int)p;
	v->sched.on_credit = vm->sched.credit_ok;
	pc->current = v;
	vh_pub_pcpu(pc);
	vm->sched.nrunning++;
	if (!carry_on) {
		pc->slice_end = now + h->sched.params.quantum_ns;
		v->sched.wake_pending = false;
	}
	until = pc->slice_end;
	if (budget != VH_SCHED_NEVER && budget < until - now)
		until = now + budget;
	if (cap != VH_SCHED_NEVER && vh_sched_before(cap, until))
		until = cap;
	until = vh_sched_timer_clamp(h, p, until);
	if (!vh_sched_before(now, until))
		until = now + 1;
	pc->until = until;
	vh_sched_limit_commit(vm, v, until - now);
	/* A sibling that starts running may let co-stopped ones co-start. */
	vh_sched_cosched_changed(h, vm, now);
	pick.vcpu = v;
	pick.until_ns = until;
	return pick;
}

/* The previous vCPU leaves p: halted (blocks unless a wake-up is pending
 * or its timer already passed) or queued again. */
static void put_prev(struct vh_host *h, struct vh_vcpu *v, enum vh_sched_event why,
		     uint64_t wake_at, uint64_t now)
{
	struct vh_vm *vm = v->vm;
	bool blocks = why == VH_SCHED_HALTED && !v->sched.wake_pending &&
		      !(wake_at && !vh_sched_before(now, wake_at));

	/* While v still counts as running: its siblings are kicked, and the
	 * gang queues again once the last of them is off. */
	if (vh_sched_is_strict(vm) && vm->sched.gang_state == VH_GANG_RUN && !blocks)
		vh_sched_gang_stop(h, vm, now);
	vh_sched_detach(h, v);
	if (why == VH_SCHED_HALTED)
		v->sched.wake_pending = false;
	if (blocks) {
		vh_sched_set_state(v, VH_SCHED_WAIT, now);
		v->sched.wake_at = wake_at;
		if (wake_at)
			vh_sched_timer_arm(h, &v->sched.tnode, wake_at);
	} else if (why == VH_SCHED_YIELDED &&
		   vh_sched_cosched_budget(h, v, now) >= vh_sched_min_slice(h)) {
		/* A yield (a PAUSE loop: it waits for something another vCPU
		 * holds) goes behind the head of the queue, so that someone else
		 * runs first; it costs at most its lead on that head. */
		if (h->sched.shares_q.len) {
			uint64_t head = vh_sched_heap_top_key(&h->sched.shares_q) + 1;
			if (vh_sched_before(v->sched.vtime, head))
				v->sched.vtime = head;
		}
		vh_sched_enqueue(h, v, now, false);
	} else if (vh_sched_cosched_budget(h, v, now) < vh_sched_min_slice(h)) {
		/* It leads a waiting sibling by the skew threshold: co-stopped
		 * from now on, not only once it reaches the queue's head. */
		vh_sched_set_state(v, VH_SCHED_COSTOP, now);
	} else {
		vh_sched_enqueue(h, v, now, false);
	}
	if (vh_sched_is_strict(vm))
		vh_sched_gang_member_left(h, vm, now);
	/* Relaxed siblings are re-examined once p has decided (in
	 * vh_sched_next): v may carry on, and seeing it as waiting in between
	 * would kick its running siblings for nothing. */
}

static bool node_is_vcpu(const struct vh_sched_node *n, const struct vh_vcpu *v)
{
	return v && (n == &v->sched.qnode || n == &v->sched.rnode);
}

/* Takes the best queued entity for p (see the top of this file).  cont:
 * the vCPU p was running, interrupted early and queued again: it carries
 * on unless the head of the queue beats it clearly.  cap: p is held for a
 * gathering gang and may only run other work until then. */
static struct vh_sched_pick pick_next(struct vh_host *h, unsigned p, uint64_t now,
				      struct vh_vcpu *stopped, struct vh_vcpu *cont, uint64_t cap)
{
	struct vh_host_sched *s = &h->sched;
	uint64_t gran = s->params.quantum_ns / 4, min_slice = vh_sched_min_slice(h);
	struct vh_sched_pick pick;

	for (;;) {
		struct vh_sched_node *n = NULL;
		struct vh_vcpu *v;
		struct vh_vm *vm;
		uint64_t b, lim;
		bool carry_on;

		if (s->reserve_q.len)
			n = vh_sched_heap_top(&s->reserve_q);
		else if (s->shares_q.len)
			n = vh_sched_heap_top(&s->shares_q);
		if (cont && cont->sched.state == VH_SCHED_READY && !node_is_vcpu(n, cont)) {
			bool keep;
			if (!n)
				keep = true;
			else if (n->kind == VH_NODE_VCPU_R || n->kind == VH_NODE_GANG_R)
				keep = cont->vm->sched.credit_ok &&
				       !vh_sched_before(vh_sched_heap_top_key(&s->reserve_q) + gran,
							cont->sched.vtime);
			else
				keep = !vh_sched_before(vh_sched_heap_top_key(&s->shares_q) + gran,
							cont->sched.vtime);
			if (keep)
				n = &cont->sched.qnode;
		}
		if (!n)
			break;
		if (n->kind == VH_NODE_GANG_Q || n->kind == VH_NODE_GANG_R) {
			int r;
			vm = vh_sched_node_vm(n);
			vh_sched_gang_dequeue(h, vm);
			r = vh_sched_gang_pick(h, vm, p, now, &pick, &cap);
			if (r == VH_GANG_PICKED)
				return pick;
			continue;
		}
		v = vh_sched_node_vcpu(n);
		vm = v->vm;
		vh_sched_dequeue(h, v);
		carry_on = v == cont;
		if (carry_on)
			cont = NULL;
		b = vh_sched_cosched_budget(h, v, now);
		if (b < min_slice) {
			vh_sched_costop(h, v, now);
			continue;
		}
		lim = vh_sched_limit_avail(h, vm, now);
		if (lim < min_slice) {
			vh_sched_limit_throttle(h, vm, now);
			continue;
		}
		if (s->pcpus[p].claim)
			vh_sched_gang_backfilling(h, p);
		return dispatch(h, p, v, now, v == stopped, carry_on, vh_sched_umin(b, lim), cap);
	}
	/* Nothing to run.  A pCPU held for a gang waits for it (and is not
	 * idle for anyone else). */
	if (!s->pcpus[p].claim)
		vh_sched_idle_add(h, p);
	pick.vcpu = NULL;
	pick.until_ns = vh_sched_timer_clamp(h, p, cap);
	return pick;
}

struct vh_sched_pick vh_sched_next(struct vh_host *h, unsigned p, uint64_t now,
				   struct vh_vcpu *prev, enum vh_sched_event why, uint64_t wake_at)
{
	struct vh_host_sched *s = &h->sched;
	struct vh_pcpu_sched *pc;
	struct vh_sched_pick pick = { NULL, VH_SCHED_NEVER };
	struct vh_vcpu *stopped = NULL, *cont = NULL;

	if (p >= h->cfg.pcpus)
		return pick;
	pc = &s->pcpus[p];
	s->picks++;
	s->in_next = true;
	vh_sched_pcpu_account(pc, now);
	/* p is deciding now: no kick to it may be needed, nor sent. */
	pc->kicked = true;
	vh_sched_idle_remove(h, p);
	if (s->watch_pcpu == p)
		s->watch_until = VH_SCHED_NEVER;

	/* What ran on p is the scheduler's own record, never the backend's
	 * word: a prev taken away meanwhile (its VM paused or stopped, maybe
	 * freed) is not even read. */
	(void)prev;
	if (pc->current && pc->assigned != pc->current) {
		stopped = pc->current;
		vh_sched_charge(h, stopped, now);
	}
	vh_sched_timers_expire(h, now);
	if (stopped) {
		struct vh_vm *vm = stopped->vm;
		bool early = why == VH_SCHED_PREEMPTED && vh_sched_before(now, pc->slice_end);
		if (early && vh_sched_is_strict(vm) && vm->sched.gang_state == VH_GANG_RUN &&
		    !pc->claim) {
			/* A gang member interrupted early carries on; its
			 * siblings never stopped. */
			pick.vcpu = stopped;
			pick.until_ns = vh_sched_timer_clamp(h, p, pc->slice_end);
			pc->until = pick.until_ns;
			vh_sched_limit_commit(vm, stopped, pick.until_ns - now);
			goto out;
		}
		put_prev(h, stopped, why, wake_at, now);
		if (early && stopped->sched.state == VH_SCHED_READY && !vh_sched_is_strict(vm))
			cont = stopped;
	}
	if (pc->assigned) {
		pick.vcpu = pc->assigned;
		pick.until_ns = pc->until;
		pc->assigned = NULL;
		goto out;
	}
	vh_sched_vclock_update(h);
	if (pc->claim) {
		uint64_t backfill = VH_SCHED_NEVER;
		if (vh_sched_gang_arrive(h, p, now, &pick, &backfill) == VH_GANG_PICKED)
			goto out;
		pick = pick_next(h, p, now, stopped, NULL, backfill);
		goto out;
	}
	pick = pick_next(h, p, now, stopped, cont, VH_SCHED_NEVER);
out:
	if (stopped && pick.vcpu != stopped)
		vh_sched_cosched_changed(h, stopped->vm, now);
	pc->kicked = false;
	s->in_next = false;
	/* Until p calls again, its backend may be using this vCPU (in the
	 * guest, or on the way out): its VM must not be freed meanwhile. */
	pc->handed = pick.vcpu;
	return pick;
}

void vh_sched_steal(struct vh_host *h, unsigned pcpu, uint64_t now, uint64_t stolen_ns)
{
	struct vh_pcpu_sched *pc;
	struct vh_vcpu *v;

	if (pcpu >= h->cfg.pcpus || !stolen_ns)
		return;
	pc = &h->sched.pcpus[pcpu];
	v = pc->current;
	/* Idle, or a gang member handed over that the backend has not
	 * started yet: the backend's lost time was not this vCPU's. */
	if (!v || pc->assigned == v)
		return;
	vh_sched_pcpu_account(pc, now);
	vh_sched_charge_stolen(h, v, now, stolen_ns);
	/* v is further behind than its siblings believed: a running leader
	 * may now lead it by more than the skew threshold (and is kicked to
	 * co-stop).  v's own budget only grew, so pcpu needs no kick (its
	 * backend is usually about to call vh_sched_next anyway). */
	if (vh_sched_is_relaxed(v->vm)) {
		bool kicked = pc->kicked;
		pc->kicked = true;
		vh_sched_cosched_changed(h, v->vm, now);
		pc->kicked = kicked;
	}
}

void vh_sched_pcpus_stopped(struct vh_host *h)
{
	for (unsigned p = 0; p < h->cfg.pcpus; p++)
		h->sched.pcpus[p].handed = NULL;
}

bool vh_sched_vm_in_use(struct vh_host *h, const struct vh_vm *vm, unsigned *pcpu)
{
	for (unsigned p = 0; p < h->cfg.pcpus; p++) {
		const struct vh_vcpu *v = h->sched.pcpus[p].handed;
		if (v && v->vm == vm) {
			if (pcpu)
				*pcpu = p;
			return true;
		}
	}
	return false;
}

void vh_sched_wake(struct vh_host *h, struct vh_vcpu *v, uint64_t now)
{
	struct vh_vm *vm = v->vm;

	if (!vm->sched.active)
		return;
	if (v->sched.state == VH_SCHED_RUNNING) {
		/* It halts only after this: do not let that halt block. */
		v->sched.wake_pending = true;
		return;
	}
	if (v->sched.state != VH_SCHED_WAIT)
		return;
	vh_sched_timer_disarm(h, &v->sched.tnode);
	v->sched.wake_at = 0;
	vh_sched_clamp_lag(h, v, vh_sched_wake_bonus(h));
	vh_sched_cosched_woken(h, v, now);
	vh_sched_enqueue(h, v, now, true);
	vh_sched_cosched_changed(h, vm, now);
}

/* ---- counters ------------------------------------------------------------ */

void vh_sched_vcpu_stats(struct vh_host *h, struct vh_vcpu *v, uint64_t now,
			 struct vh_cpu_stats *out)
{
	const struct vh_vcpu_sched *s = &v->sched;
	uint64_t d = now > s->state_since ? now - s->state_since : 0;

	(void)h;
	*out = s->stats;
	out->stolen_ns = s->stolen_ns;
	vh_cpu_stats_add_state(out, s->state, d);
}

void vh_sched_vm_stats(struct vh_host *h, struct vh_vm *vm, uint64_t now, struct vh_cpu_stats *out)
{
	vh_memset(out, 0, sizeof(*out));
	for (uint32_t i = 0; i < vm->cfg.vcpus; i++) {
		struct vh_cpu_stats c;
		vh_sched_vcpu_stats(h, &vm->vcpus[i], now, &c);
		out->used_ns += c.used_ns;
		out->ready_ns += c.ready_ns;
		out->limited_ns += c.limited_ns;
		out->stolen_ns += c.stolen_ns;
		out->costop_ns += c.costop_ns;
		out->wait_ns += c.wait_ns;
		out->runs += c.runs;
	}
}

void vh_sched_pcpu_stats(struct vh_host *h, unsigned pcpu, uint64_t now, struct vh_pcpu_stats *out)
{
	const struct vh_pcpu_sched *pc;
	uint64_t d;

	vh_memset(out, 0, sizeof(*out));
	if (pcpu >= h->cfg.pcpus)
		return;
	pc = &h->sched.pcpus[pcpu];
	d = now > pc->since ? now - pc->since : 0;
	*out = pc->stats;
	if (pc->current)
		out->busy_ns += d;
	else
		out->idle_ns += d;
}

uint64_t vh_sched_vm_skew(struct vh_host *h, struct vh_vm *vm, uint64_t now)
{
	uint64_t lo = VH_SCHED_NEVER, hi = 0;
	uint32_t n = 0;

	(void)h;
	for (uint32_t i = 0; i < vm->cfg.vcpus; i++) {
		const struct vh_vcpu *v = &vm->vcpus[i];
		uint64_t pr;
		if (!vh_sched_runnable(v))
			continue;
		pr = vh_sched_progress(v, now);
		lo = vh_sched_umin(lo, pr);
		hi = pr > hi ? pr : hi;
		n++;
	}
	return n < 2 ? 0 : hi - lo;
}
