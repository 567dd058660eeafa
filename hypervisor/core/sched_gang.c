/* SPDX-License-Identifier: Apache-2.0 */
/* Strict co-scheduling (ESX 2 style): a VM's runnable vCPUs run together
 * on distinct pCPUs, or none of them runs.  Halted vCPUs need no pCPU.
 *
 * The runnable members queue as one entity (the gang) keyed by their
 * smallest virtual time.  The pCPU that picks the gang starts it at once
 * when enough pCPUs are idle; otherwise the gang gathers: it holds the
 * picking pCPU and the idle ones, and claims the busy pCPUs running the
 * least deserving vCPUs (kicked), and starts when the last claimed pCPU
 * comes back.  Every member gets the same deadline; when one member's
 * quantum ends, or it yields, the gang stops (the others are kicked) and
 * queues again once all have left.  A member that wakes while the gang
 * runs joins on an idle pCPU, or the gang stops and re-forms with it.
 *
 * Only one gang gathers at a time, so gangs never hold pCPUs against each
 * other: a gang picked meanwhile waits in a list, unless its virtual time
 * is earlier, in which case the gatherer is sent back to the queue.
 * A strict VM needs at most as many vCPUs as the host has pCPUs; sched.c
 * runs a larger one relaxed (and says so in the log). */
#include "sched_internal.h"

static void key_of(struct vh_vm *vm, uint64_t *key, uint32_t *count)
{
	*count = 0;
	for (uint32_t i = 0; i < vm->cfg.vcpus; i++) {
		struct vh_vcpu *v = &vm->vcpus[i];
		if (v->sched.state != VH_SCHED_READY && v->sched.state != VH_SCHED_COSTOP)
			continue;
		if (!*count || vh_sched_before(v->sched.vtime, *key))
			*key = v->sched.vtime;
		(*count)++;
	}
}

void vh_sched_gang_dequeue(struct vh_host *h, struct vh_vm *vm)
{
	vh_sched_heap_remove(&h->sched.shares_q, &vm->sched.gang_qnode);
	vh_sched_heap_remove(&h->sched.reserve_q, &vm->sched.gang_rnode);
}

void vh_sched_gang_requeue(struct vh_host *h, struct vh_vm *vm, uint64_t now)
{
	struct vh_vm_sched *s = &vm->sched;
	uint64_t key = 0;
	uint32_t n;

	vh_sched_gang_dequeue(h, vm);
	for (uint32_t i = 0; i < vm->cfg.vcpus; i++)
		if (vm->vcpus[i].sched.state == VH_SCHED_COSTOP)
			vh_sched_set_state(&vm->vcpus[i], VH_SCHED_READY, now);
	key_of(vm, &key, &n);
	if (!s->active || s->throttled || !n) {
		s->gang_state = VH_GANG_IDLE;
		return;
	}
	s->gang_state = VH_GANG_QUEUED;
	vh_sched_heap_push(&h->sched.shares_q, &s->gang_qnode, key);
	if (s->credit_ok)
		vh_sched_heap_push(&h->sched.reserve_q, &s->gang_rnode, key);
	vh_sched_find_pcpu(h, key, s->credit_ok, now);
}

/* Gangs that waited for another one to finish gathering queue again. */
static void release_waiters(struct vh_host *h, uint64_t now)
{
	struct vh_vm *vm = h->sched.gang_wait;

	h->sched.gang_wait = NULL;
	while (vm) {
		struct vh_vm *next = vm->sched.gang_next;
		vm->sched.gang_next = NULL;
		vm->sched.gang_waiting_list = false;
		if (vm->sched.gang_state == VH_GANG_QUEUED)
			vh_sched_gang_requeue(h, vm, now);
		vm = next;
	}
}

static void leave_wait_list(struct vh_host *h, struct vh_vm *vm)
{
	struct vh_vm **pp = &h->sched.gang_wait;

	if (!vm->sched.gang_waiting_list)
		return;
	while (*pp && *pp != vm)
		pp = &(*pp)->sched.gang_next;
	if (*pp)
		*pp = vm->sched.gang_next;
	vm->sched.gang_next = NULL;
	vm->sched.gang_waiting_list = false;
}

/* Lets go of every pCPU held for vm's gathering.  Those already waiting
 * for it are idle in the backend: kick them to pick something else. */
static void release_claims(struct vh_host *h, struct vh_vm *vm, uint64_t now)
{
	struct vh_host_sched *s = &h->sched;

	for (unsigned p = 0; p < h->cfg.pcpus; p++) {
		struct vh_pcpu_sched *pc = &s->pcpus[p];
		if (pc->claim != vm)
			continue;
		pc->claim = NULL;
		if (pc->claim_arrived && !pc->current)
			vh_sched_kick(h, p);
		pc->claim_arrived = false;
	}
	vm->sched.gang_waiting = 0;
	if (s->gathering == vm) {
		s->gathering = NULL;
		release_waiters(h, now);
	}
}

void vh_sched_gang_detach(struct vh_host *h, struct vh_vm *vm, uint64_t now)
{
	release_claims(h, vm, now);
	leave_wait_list(h, vm);
	vh_sched_gang_dequeue(h, vm);
	for (uint32_t i = 0; i < vm->cfg.vcpus; i++)
		if (vm->vcpus[i].sched.state == VH_SCHED_COSTOP)
			vh_sched_set_state(&vm->vcpus[i], VH_SCHED_READY, now);
	if (vm->sched.gang_state != VH_GANG_RUN && vm->sched.gang_state != VH_GANG_STOP)
		vm->sched.gang_state = VH_GANG_IDLE;
}

/* Puts member m on pCPU q with the gang's deadline.  A pCPU other than
 * the caller's gets it handed over at its next call (and is kicked). */
static void start_member(struct vh_host *h, struct vh_vm *vm, struct vh_vcpu *m, unsigned q,
			 uint64_t now, uint64_t until, bool remote)
{
	struct vh_pcpu_sched *pc = &h->sched.pcpus[q];

	vh_sched_pcpu_account(pc, now);
	vh_sched_idle_remove(h, q);
	pc->claim = NULL;
	pc->claim_arrived = false;
	m->sched.stats.runs++; /* before the state change publishes it */
	vh_sched_set_state(m, VH_SCHED_RUNNING, now);
	m->sched.pcpu = (int)q;
	m->sched.on_credit = vm->sched.credit_ok;
	m->sched.wake_pending = false;
	pc->current = m;
	vh_pub_pcpu(pc);
	vm->sched.nrunning++;
	pc->slice_end = until;
	pc->until = until;
	vh_sched_limit_commit(vm, m, until - now);
	if (remote) {
		pc->assigned = m;
		vh_sched_kick(h, q);
	}
}

/* Starts the gang: the caller's pCPU p first, then the pCPUs held for it,
 * then idle ones.  Returns what p runs. */
static struct vh_sched_pick start(struct vh_host *h, struct vh_vm *vm, unsigned p, uint64_t now)
{
	struct vh_host_sched *s = &h->sched;
	struct vh_sched_pick pick = { NULL, VH_SCHED_NEVER };
	uint64_t key = 0, slice = s->params.quantum_ns, avail, until;
	unsigned next_claim = 0;
	uint32_t k;

	key_of(vm, &key, &k);
	avail = vh_sched_limit_avail(h, vm, now);
	if (avail != VH_SCHED_NEVER && avail / k < slice)
		slice = avail / k;
	until = now + (slice ? slice : 1);
	vm->sched.gang_state = VH_GANG_RUN;
	vm->sched.gang_until = until;
	for (uint32_t i = 0; i < vm->cfg.vcpus; i++) {
		struct vh_vcpu *m = &vm->vcpus[i];
		unsigned q;
		if (m->sched.state != VH_SCHED_READY && m->sched.state != VH_SCHED_COSTOP)
			continue;
		if (!pick.vcpu) {
			start_member(h, vm, m, p, now, until, false);
			pick.vcpu = m;
			continue;
		}
		while (next_claim < h->cfg.pcpus &&
		       (s->pcpus[next_claim].claim != vm || next_claim == p))
			next_claim++;
		if (next_claim < h->cfg.pcpus)
			q = next_claim++;
		else
			q = vh_sched_idle_take(h);
		start_member(h, vm, m, q, now, until, true);
	}
	release_claims(h, vm, now);
	pick.until_ns = vh_sched_timer_clamp(h, p, until);
	s->pcpus[p].until = pick.until_ns;
	return pick;
}

/* Whether the gang (virtual time key, on credit or not) clearly beats
 * the vCPU running on pc, so that gathering may preempt it. */
static bool beats(struct vh_host *h, uint64_t key, bool credit, struct vh_vcpu *v, uint64_t now)
{
	if (credit != v->sched.on_credit)
		return credit;
	return vh_sched_before(key + h->sched.params.quantum_ns / 4, vh_sched_vtime_now(v, now));
}

/* The pCPU to claim next for a gathering: one already on its way back to
 * the scheduler, else one whose vCPU the gang clearly beats (preempted:
 * the largest virtual time first), else the one whose slice ends first
 * (not preempted: a gang does not jump ahead of vCPUs that deserve the
 * CPU more; it waits for their quantum to end, and the pCPUs it holds
 * meanwhile run other work).  *kick says whether to preempt. */
static int victim(struct vh_host *h, struct vh_vm *vm, uint64_t key, uint64_t now, bool *kick)
{
	struct vh_host_sched *s = &h->sched;
	int best = -1, best_rank = 0;
	uint64_t best_v = 0;

	for (unsigned q = 0; q < h->cfg.pcpus; q++) {
		struct vh_pcpu_sched *pc = &s->pcpus[q];
		struct vh_vcpu *v = pc->current;
		uint64_t val;
		int rank;
		if (pc->claim || pc->idle_pos || (v && v->vm == vm))
			continue;
		if (!v || pc->kicked) {
			rank = 3;
			val = 0;
		} else if (beats(h, key, vm->sched.credit_ok, v, now)) {
			rank = 2;
			val = vh_sched_vtime_now(v, now);
		} else {
			rank = 1;
			val = ~pc->until; /* earliest end first */
		}
		if (best < 0 || rank > best_rank ||
		    (rank == best_rank && vh_sched_before(best_v, val))) {
			best = (int)q;
			best_rank = rank;
			best_v = val;
		}
	}
	*kick = best_rank >= 2;
	return best;
}

static void claim(struct vh_host *h, struct vh_vm *vm, unsigned q, bool arrived, bool kick,
		  uint64_t now)
{
	struct vh_pcpu_sched *pc = &h->sched.pcpus[q];
	uint64_t due;

	pc->claim = vm;
	pc->claim_arrived = arrived;
	if (arrived)
		return;
	vm->sched.gang_waiting++;
	if (kick)
		vh_sched_kick(h, q);
	due = pc->kicked || !pc->current ? now : pc->until;
	if (vh_sched_before(vm->sched.gang_ready_at, due))
		vm->sched.gang_ready_at = due;
}

/* Claims `need` more pCPUs for vm's gathering: idle ones first. */
static void claim_more(struct vh_host *h, struct vh_vm *vm, uint32_t need, uint64_t now)
{
	uint64_t key = 0;
	uint32_t k;

	key_of(vm, &key, &k);
	while (need--) {
		bool kick;
		int q;
		if (h->sched.nidle) {
			claim(h, vm, vh_sched_idle_take(h), true, false, now);
			continue;
		}
		q = victim(h, vm, key, now, &kick);
		if (q < 0)
			return;
		claim(h, vm, (unsigned)q, false, kick, now);
	}
}

/* pCPUs the gang could start on now, p included. */
static uint32_t available(struct vh_host *h, struct vh_vm *vm, unsigned p)
{
	uint32_t n = 1 + h->sched.nidle;

	for (unsigned q = 0; q < h->cfg.pcpus; q++)
		if (q != p && h->sched.pcpus[q].claim == vm)
			n++;
	return n;
}

/* p, held for the gathering gang vm, is at the scheduler: start the gang
 * if every claimed pCPU is in; otherwise claim what is missing, and let p
 * run other work until the last claimed pCPU is due (backfill), or wait. */
static int arrive(struct vh_host *h, struct vh_vm *vm, unsigned p, uint64_t now,
		  struct vh_sched_pick *out, uint64_t *backfill)
{
	struct vh_pcpu_sched *pc = &h->sched.pcpus[p];
	uint64_t key = 0;
	uint32_t k, n;

	if (pc->claim != vm || !pc->claim_arrived) {
		if (pc->claim == vm)
			vm->sched.gang_waiting--;
		pc->claim = vm;
		pc->claim_arrived = true;
	}
	key_of(vm, &key, &k);
	n = available(h, vm, p);
	if (n < k)
		claim_more(h, vm, k - n, now);
	if (!vm->sched.gang_waiting && available(h, vm, p) >= k) {
		*out = start(h, vm, p, now);
		return VH_GANG_PICKED;
	}
	if (vh_sched_before(now + vh_sched_min_slice(h), vm->sched.gang_ready_at)) {
		*backfill = vm->sched.gang_ready_at;
		return VH_GANG_BACKFILL;
	}
	out->vcpu = NULL;
	out->until_ns = vh_sched_timer_clamp(h, p, VH_SCHED_NEVER);
	return VH_GANG_PICKED;
}

int vh_sched_gang_pick(struct vh_host *h, struct vh_vm *vm, unsigned p, uint64_t now,
		       struct vh_sched_pick *out, uint64_t *backfill)
{
	struct vh_host_sched *s = &h->sched;
	uint64_t key = 0, avail;
	uint32_t k;

	key_of(vm, &key, &k);
	if (!k) {
		vm->sched.gang_state = VH_GANG_IDLE;
		return VH_GANG_NONE;
	}
	avail = vh_sched_limit_avail(h, vm, now);
	if (avail != VH_SCHED_NEVER && avail / k < vh_sched_min_slice(h)) {
		vh_sched_limit_throttle(h, vm, now);
		return VH_GANG_NONE;
	}
	if (s->gathering && s->gathering != vm) {
		struct vh_vm *g = s->gathering;
		if (!vh_sched_before(key, s->gathering_key)) {
			/* Waits for the gatherer, out of the queue. */
			vm->sched.gang_next = s->gang_wait;
			vm->sched.gang_waiting_list = true;
			s->gang_wait = vm;
			return VH_GANG_NONE;
		}
		vh_sched_gang_detach(h, g, now);
		vh_sched_gang_requeue(h, g, now);
	}
	if (1 + s->nidle >= k) {
		*out = start(h, vm, p, now);
		return VH_GANG_PICKED;
	}
	/* Gather: hold p and the idle pCPUs, claim the rest. */
	s->gathering = vm;
	s->gathering_key = key;
	vm->sched.gang_state = VH_GANG_GATHER;
	vm->sched.gang_waiting = 0;
	vm->sched.gang_ready_at = now;
	for (uint32_t i = 0; i < vm->cfg.vcpus; i++)
		if (vm->vcpus[i].sched.state == VH_SCHED_READY)
			vh_sched_set_state(&vm->vcpus[i], VH_SCHED_COSTOP, now);
	claim(h, vm, p, true, false, now);
	return arrive(h, vm, p, now, out, backfill);
}

int vh_sched_gang_arrive(struct vh_host *h, unsigned p, uint64_t now, struct vh_sched_pick *out,
			 uint64_t *backfill)
{
	return arrive(h, h->sched.pcpus[p].claim, p, now, out, backfill);
}

/* p, held for the gathering, runs other work until the gang is due. */
void vh_sched_gang_backfilling(struct vh_host *h, unsigned p)
{
	struct vh_pcpu_sched *pc = &h->sched.pcpus[p];

	if (pc->claim && pc->claim_arrived) {
		pc->claim_arrived = false;
		pc->claim->sched.gang_waiting++;
	}
}

void vh_sched_gang_stop(struct vh_host *h, struct vh_vm *vm, uint64_t now)
{
	if (vm->sched.gang_state != VH_GANG_RUN)
		return;
	vm->sched.gang_state = VH_GANG_STOP;
	for (uint32_t i = 0; i < vm->cfg.vcpus; i++) {
		struct vh_vcpu *m = &vm->vcpus[i];
		unsigned q;
		if (m->sched.state != VH_SCHED_RUNNING || m->sched.pcpu < 0)
			continue;
		q = (unsigned)m->sched.pcpu;
		if (h->sched.pcpus[q].assigned == m) {
			/* Handed over but not started yet: take it back. */
			vh_sched_pcpu_account(&h->sched.pcpus[q], now);
			vh_sched_charge(h, m, now);
			vh_sched_detach(h, m);
			vh_sched_set_state(m, VH_SCHED_READY, now);
		}
		vh_sched_kick(h, q);
	}
	vh_sched_gang_member_left(h, vm, now);
}

void vh_sched_gang_member_left(struct vh_host *h, struct vh_vm *vm, uint64_t now)
{
	int st = vm->sched.gang_state;

	if ((st == VH_GANG_RUN || st == VH_GANG_STOP) && !vm->sched.nrunning)
		vh_sched_gang_requeue(h, vm, now);
}

void vh_sched_gang_member_ready(struct vh_host *h, struct vh_vcpu *v, uint64_t now)
{
	struct vh_vm *vm = v->vm;
	struct vh_host_sched *s = &h->sched;

	switch (vm->sched.gang_state) {
	case VH_GANG_IDLE:
		vh_sched_gang_requeue(h, vm, now);
		break;
	case VH_GANG_QUEUED:
		if (vm->sched.gang_waiting_list)
			break;
		if (vh_sched_before(v->sched.vtime,
				    vh_sched_heap_key(&s->shares_q, &vm->sched.gang_qnode))) {
			vh_sched_heap_rekey(&s->shares_q, &vm->sched.gang_qnode, v->sched.vtime);
			if (vm->sched.gang_rnode.index)
				vh_sched_heap_rekey(&s->reserve_q, &vm->sched.gang_rnode,
						    v->sched.vtime);
		}
		break;
	case VH_GANG_GATHER:
		vh_sched_set_state(v, VH_SCHED_COSTOP, now);
		claim_more(h, vm, 1, now);
		if (!vm->sched.gang_waiting) {
			/* Every claim is in (an idle pCPU took the newcomer): the
			 * gang can start on the next held pCPU's call. */
			for (unsigned q = 0; q < h->cfg.pcpus; q++)
				if (s->pcpus[q].claim == vm)
					vh_sched_kick(h, q);
		}
		break;
	case VH_GANG_RUN:
		if (s->nidle && vh_sched_before(now, vm->sched.gang_until))
			start_member(h, vm, v, vh_sched_idle_take(h), now, vm->sched.gang_until,
				     true);
		else
			vh_sched_gang_stop(h, vm, now);
		break;
	case VH_GANG_STOP:
		break;
	}
}
