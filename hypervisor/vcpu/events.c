/* SPDX-License-Identifier: Apache-2.0 */
/* The next event for a vCPU (vh/vcpu_events.h): one the last exit
 * interrupted, else the highest interrupt its local APIC has for it when
 * it can take one, else a request to exit as soon as it can.  One rule
 * for every back end; each keeps only how it injects. */
#include "vh/lapic.h"
#include "vh/vcpu_events.h"

enum vh_vcpu_inject vh_vcpu_inject_choose(const struct vh_vcpu_gate *g, int vector)
{
	/* An event whose delivery an exit cut short comes first: the guest
	 * must see it before anything that arrived later. */
	if (g->reinject)
		return VH_VCPU_REINJECT;
	if (vector < 0)
		return VH_VCPU_NOTHING;
	if (!g->if_flag || g->blocked)
		return VH_VCPU_WINDOW;
	return VH_VCPU_IRQ;
}

struct vh_vcpu_event vh_vcpu_next_event(struct vh_host *h, struct vh_vm *vm, struct vh_vcpu *vcpu,
					uint64_t now, const struct vh_vcpu_gate *g)
{
	struct vh_vcpu_event ev = { .what = VH_VCPU_REINJECT, .timer_deadline = UINT64_MAX };
	int v;

	/* The APIC's turn comes at the entry after the re-injection. */
	if (g->reinject)
		return ev;
	vh_lapic_tick(h, vm, vcpu, now);
	v = vh_lapic_pending(h, vm, vcpu);
	ev.what = vh_vcpu_inject_choose(g, v);
	ev.vector = v >= 0 ? (uint8_t)v : 0;
	ev.timer_deadline = vh_lapic_timer_deadline(h, vm, vcpu);
	return ev;
}

void vh_vcpu_injected(struct vh_host *h, struct vh_vm *vm, struct vh_vcpu *vcpu, uint8_t vector)
{
	vh_lapic_ack(h, vm, vcpu, vector);
}
