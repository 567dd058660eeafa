/* SPDX-License-Identifier: Apache-2.0 */
/* Time-driven events: a halted vCPU's wake_at, the end of a VM's limit
 * throttling, a reservation's credit turning positive.  One heap keyed by
 * absolute time; expired entries are handled whenever a pCPU enters the
 * scheduler.
 *
 * The backend has no timer of its own to offer: a pCPU comes back only at
 * the deadline it was given, when its vCPU halts or yields, or when
 * kicked.  So some pCPU must be told to come back by the next timer: an
 * idle pCPU idles until then, and otherwise one busy pCPU (the "watcher")
 * gets its deadline shortened.  Only one, so that a timer does not pull
 * every pCPU out of its guest; the watcher's vCPU normally just carries on
 * (vh_sched_next continues a vCPU that was interrupted early). */
#include "sched_internal.h"

void vh_sched_timer_arm(struct vh_host *h, struct vh_sched_node *n, uint64_t at)
{
	struct vh_host_sched *s = &h->sched;

	vh_sched_heap_rekey(&s->timers, n, at);
	/* Nobody is due back by then: wake an idle pCPU, or the watcher, to
	 * re-plan.  Inside vh_sched_next the calling pCPU re-plans anyway. */
	if (s->in_next)
		return;
	if (s->watch_until == VH_SCHED_NEVER || vh_sched_before(at, s->watch_until)) {
		if (s->nidle)
			vh_sched_kick(h, vh_sched_idle_take(h));
		else if (s->watch_until != VH_SCHED_NEVER)
			vh_sched_kick(h, s->watch_pcpu);
	}
}

void vh_sched_timer_disarm(struct vh_host *h, struct vh_sched_node *n)
{
	vh_sched_heap_remove(&h->sched.timers, n);
}

uint64_t vh_sched_timer_next(const struct vh_host *h)
{
	return h->sched.timers.len ? vh_sched_heap_top_key(&h->sched.timers) : VH_SCHED_NEVER;
}

void vh_sched_timers_expire(struct vh_host *h, uint64_t now)
{
	struct vh_sched_heap *t = &h->sched.timers;

	while (t->len && !vh_sched_before(now, vh_sched_heap_top_key(t))) {
		struct vh_sched_node *n = vh_sched_heap_top(t);
		vh_sched_heap_remove(t, n);
		switch (n->kind) {
		case VH_NODE_VCPU_T: vh_sched_wake(h, vh_sched_node_vcpu(n), now); break;
		case VH_NODE_THROTTLE: vh_sched_limit_timer(h, vh_sched_node_vm(n), now); break;
		case VH_NODE_CREDIT: vh_sched_credit_timer(h, vh_sched_node_vm(n), now); break;
		}
	}
}

uint64_t vh_sched_timer_clamp(struct vh_host *h, unsigned p, uint64_t until)
{
	struct vh_host_sched *s = &h->sched;
	uint64_t next = vh_sched_timer_next(h);

	if (next == VH_SCHED_NEVER)
		return until;
	/* The watcher is back by then: nothing to do. */
	if (s->watch_until != VH_SCHED_NEVER && s->watch_pcpu != p &&
	    !vh_sched_before(next, s->watch_until))
		return until;
	if (until == VH_SCHED_NEVER || vh_sched_before(next, until))
		until = next;
	s->watch_pcpu = p;
	s->watch_until = until;
	return until;
}
