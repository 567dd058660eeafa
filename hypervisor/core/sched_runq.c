/* SPDX-License-Identifier: Apache-2.0 */
/* Queueing: virtual time, the shares and reservation queues, the idle
 * pCPU set, kicks and preemption, and the per-state time counters.
 *
 * Proportional share by virtual time: every vCPU carries a virtual time
 * that advances by its run time divided by its weight (its VM's shares
 * split evenly over the VM's vCPUs), and every pick takes the runnable
 * entity with the smallest virtual time.  Over any interval in which a set
 * of vCPUs stays runnable, their run times therefore converge to the ratio
 * of their weights, to within one quantum each.
 *
 * One global queue rather than per-pCPU queues with balancing: every call
 * into the core already holds the one host lock (see host.h), so per-pCPU
 * queues would buy no concurrency here, while a global queue gives exact
 * proportional share across pCPUs with no balancing error or migration
 * heuristics, and the co-scheduler needs the host-wide view anyway (a
 * gang is placed on several pCPUs at once).  A pick is O(log n) in the
 * queue length.  See docs/scheduler.md. */
#include "sched_internal.h"

/* ---- per-state time ------------------------------------------------------ */

/* Time throttled by the VM's own limit is ready time too (the vCPU
 * could run; ESX counts it so) and is also kept apart as limited time, so
 * an operator can tell a VM held back by its limit from one starved by
 * its neighbours. */
void vh_sched_set_state(struct vh_vcpu *v, int state, uint64_t now)
{
	struct vh_vcpu_sched *s = &v->sched;

	if (now > s->state_since)
		vh_cpu_stats_add_state(&s->stats, s->state, now - s->state_since);
	s->state = state;
	s->state_since = now;
	vh_pub_vcpu(v);
}

void vh_sched_pcpu_account(struct vh_pcpu_sched *pc, uint64_t now)
{
	uint64_t d = now > pc->since ? now - pc->since : 0;

	if (pc->current)
		pc->stats.busy_ns += d;
	else
		pc->stats.idle_ns += d;
	pc->since = now;
	vh_pub_pcpu(pc);
}

/* ---- virtual time ------------------------------------------------------- */

uint64_t vh_sched_vtime_now(const struct vh_vcpu *v, uint64_t now)
{
	uint64_t ran;

	if (v->sched.state != VH_SCHED_RUNNING || now <= v->sched.state_since)
		return v->sched.vtime;
	ran = vh_sched_umin(now - v->sched.state_since, VH_SCHED_MAX_CHARGE_NS);
	return v->sched.vtime + vh_sched_mul_shr32(ran, v->vm->sched.inv_weight);
}

/* How far ahead of the queue a VM's reservation runs may push its virtual
 * time.  Time run on reservation credit is charged like any other (so a
 * VM whose shares entitle it to more than its reservation gets its shares,
 * not both), but only up to this lead: a VM that lives on its reservation
 * does not pile up a debt that would starve it once the reservation is
 * lowered. */
static uint64_t credit_lead(const struct vh_host *h)
{
	return 10 * h->sched.params.quantum_ns;
}

/* Charges v's time on its pCPU since its state began: counters, virtual
 * time, guest progress, the limit window and the reservation credit.  Of
 * that time, `stolen` ns (clamped to it) were taken by the host, not run
 * by the vCPU (vh_sched_steal): they count as ready time, and advance
 * neither the virtual time, nor the guest progress, nor the limit window,
 * nor spend the reservation credit; the pCPU stays busy for them (it was
 * the vCPU's, see vh_pcpu_sched.stolen_ns). */
void vh_sched_charge_stolen(struct vh_host *h, struct vh_vcpu *v, uint64_t now, uint64_t stolen)
{
	struct vh_vcpu_sched *s = &v->sched;
	struct vh_vm *vm = v->vm;
	uint64_t ran, delta;

	if (s->state != VH_SCHED_RUNNING || now <= s->state_since)
		return;
	ran = now - s->state_since;
	if (stolen > ran)
		stolen = ran;
	ran -= stolen;
	s->stats.used_ns += ran;
	s->stats.ready_ns += stolen;
	s->stolen_ns += stolen;
	if (s->pcpu >= 0)
		h->sched.pcpus[s->pcpu].stolen_ns += stolen;
	s->progress_ns += ran;
	s->state_since = now;
	vh_pub_vcpu(v);
	delta =
	    vh_sched_mul_shr32(vh_sched_umin(ran, VH_SCHED_MAX_CHARGE_NS), vm->sched.inv_weight);
	if (s->on_credit) {
		uint64_t cap = h->sched.vclock + credit_lead(h);
		if (!vh_sched_before(s->vtime + delta, cap)) {
			if (vh_sched_before(s->vtime, cap))
				s->vtime = cap;
			delta = 0;
		}
	}
	s->vtime += delta;
	vh_sched_limit_charge(h, vm, ran, now);
	/* What remains of the slice stays promised to the limit window. */
	if (s->pcpu >= 0) {
		uint64_t until = h->sched.pcpus[s->pcpu].until;
		vh_sched_limit_commit(vm, v, until > now ? until - now : 0);
	}
	vh_sched_credit_charge(h, vm, ran, now);
}

void vh_sched_charge(struct vh_host *h, struct vh_vcpu *v, uint64_t now)
{
	vh_sched_charge_stolen(h, v, now, 0);
}

/* The queue's virtual clock: a monotonic lower bound of the runnable
 * virtual times, where woken vCPUs and new VMs are placed.  From the
 * queue's head; when everything runnable is on a pCPU, from the running
 * ones (at most one per pCPU, so the scan is bounded by the pCPU count,
 * not the vCPU count). */
void vh_sched_vclock_update(struct vh_host *h)
{
	struct vh_host_sched *s = &h->sched;
	uint64_t cand;
	bool have = false;

	if (s->shares_q.len) {
		cand = vh_sched_heap_top_key(&s->shares_q);
		have = true;
	} else {
		cand = 0;
		for (unsigned p = 0; p < h->cfg.pcpus; p++) {
			struct vh_vcpu *v = s->pcpus[p].current;
			if (v && (!have || vh_sched_before(v->sched.vtime, cand))) {
				cand = v->sched.vtime;
				have = true;
			}
		}
	}
	if (have && vh_sched_before(s->vclock, cand))
		s->vclock = cand;
}

/* A vCPU coming back after blocking or being held back does not bring a
 * burst of credit with it: its virtual time is raised to at least the
 * virtual clock minus what `lag` ns of its own run time are worth (CFS and
 * ESX do the same).  In its own run time, so that a heavy VM is not
 * handed a proportionally longer burst. */
void vh_sched_clamp_lag(struct vh_host *h, struct vh_vcpu *v, uint64_t lag)
{
	uint64_t floor = h->sched.vclock - vh_sched_mul_shr32(lag, v->vm->sched.inv_weight);

	if (vh_sched_before(v->sched.vtime, floor))
		v->sched.vtime = floor;
}

/* A woken vCPU may lead the queue by half a quantum, so that interactive
 * vCPUs get the CPU promptly without gaining anything over time. */
uint64_t vh_sched_wake_bonus(const struct vh_host *h)
{
	return h->sched.params.quantum_ns / 2;
}

/* ---- queues ------------------------------------------------------------- */

void vh_sched_enqueue(struct vh_host *h, struct vh_vcpu *v, uint64_t now, bool kick)
{
	struct vh_host_sched *s = &h->sched;
	struct vh_vm *vm = v->vm;

	if (vm->sched.throttled) {
		vh_sched_set_state(v, VH_SCHED_THROTTLED, now);
		return;
	}
	vh_sched_set_state(v, VH_SCHED_READY, now);
	if (vh_sched_is_strict(vm)) {
		vh_sched_gang_member_ready(h, v, now);
		return;
	}
	vh_sched_heap_push(&s->shares_q, &v->sched.qnode, v->sched.vtime);
	if (vm->sched.credit_ok)
		vh_sched_heap_push(&s->reserve_q, &v->sched.rnode, v->sched.vtime);
	if (kick)
		vh_sched_find_pcpu(h, v->sched.vtime, vm->sched.credit_ok, now);
}

void vh_sched_dequeue(struct vh_host *h, struct vh_vcpu *v)
{
	vh_sched_heap_remove(&h->sched.shares_q, &v->sched.qnode);
	vh_sched_heap_remove(&h->sched.reserve_q, &v->sched.rnode);
}

void vh_sched_detach(struct vh_host *h, struct vh_vcpu *v)
{
	struct vh_pcpu_sched *pc;

	if (v->sched.pcpu < 0)
		return;
	pc = &h->sched.pcpus[v->sched.pcpu];
	if (pc->current == v) {
		pc->current = NULL;
		vh_pub_pcpu(pc);
	}
	if (pc->assigned == v)
		pc->assigned = NULL;
	vh_sched_limit_commit(v->vm, v, 0);
	v->sched.pcpu = -1;
	v->vm->sched.nrunning--;
}

/* ---- idle pCPUs and kicks -------------------------------------------------- */

void vh_sched_idle_add(struct vh_host *h, unsigned p)
{
	struct vh_host_sched *s = &h->sched;

	if (s->pcpus[p].idle_pos)
		return;
	s->idle[s->nidle++] = p;
	s->pcpus[p].idle_pos = s->nidle;
}

void vh_sched_idle_remove(struct vh_host *h, unsigned p)
{
	struct vh_host_sched *s = &h->sched;
	uint32_t pos = s->pcpus[p].idle_pos;

	if (!pos)
		return;
	s->pcpus[p].idle_pos = 0;
	if (pos != s->nidle) {
		unsigned last = s->idle[s->nidle - 1];
		s->idle[pos - 1] = last;
		s->pcpus[last].idle_pos = pos;
	}
	s->nidle--;
}

/* Takes an idle pCPU in O(1): the most recently idled one (the set is a
 * stack, which also keeps caches warm). */
unsigned vh_sched_idle_take(struct vh_host *h)
{
	struct vh_host_sched *s = &h->sched;
	unsigned p = s->idle[s->nidle - 1];

	vh_sched_idle_remove(h, p);
	return p;
}

void vh_sched_kick(struct vh_host *h, unsigned p)
{
	struct vh_pcpu_sched *pc = &h->sched.pcpus[p];

	if (pc->kicked)
		return;
	pc->kicked = true;
	h->plat->kick(h->plat->ctx, p);
}

/* A new entity is queued.  Work conservation: an idle pCPU always takes
 * it.  Otherwise it preempts the running vCPU it beats by the most, if
 * it beats it clearly: runs on reservation credit beat runs on shares,
 * and a smaller virtual time by more than the wake-up granularity
 * (a quarter quantum, so that wakers do not thrash a pCPU).  Members of
 * running gangs are not preempted for single vCPUs.  O(pCPUs). */
void vh_sched_find_pcpu(struct vh_host *h, uint64_t vtime, bool credit, uint64_t now)
{
	struct vh_host_sched *s = &h->sched;
	uint64_t gran = s->params.quantum_ns / 4, worst_vt = 0;
	int worst = -1;
	bool worst_credit = true;

	if (s->nidle) {
		vh_sched_kick(h, vh_sched_idle_take(h));
		return;
	}
	for (unsigned p = 0; p < h->cfg.pcpus; p++) {
		struct vh_pcpu_sched *pc = &s->pcpus[p];
		struct vh_vcpu *v = pc->current;
		uint64_t vt;
		bool c;
		if (!v || pc->kicked || pc->claim || vh_sched_is_strict(v->vm))
			continue;
		vt = vh_sched_vtime_now(v, now);
		c = v->sched.on_credit;
		/* Prefer a victim running on shares over one on credit, then
		 * the largest virtual time. */
		if (worst < 0 || (worst_credit && !c) ||
		    (worst_credit == c && vh_sched_before(worst_vt, vt))) {
			worst = (int)p;
			worst_vt = vt;
			worst_credit = c;
		}
	}
	if (worst < 0)
		return;
	if ((credit && !worst_credit) || (credit == worst_credit &&
					  vh_sched_before(vtime + gran, worst_vt)))
		vh_sched_kick(h, (unsigned)worst);
}
