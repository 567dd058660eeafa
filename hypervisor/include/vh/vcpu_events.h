/* SPDX-License-Identifier: Apache-2.0 */
/* Interrupts and halts of a vCPU, the same rules on every back end
 * (hypervisor/vcpu/events.c, halt.c): which event the guest takes at its
 * next entry, when the back end must ask for an interrupt window, when
 * the local APIC timer next needs a look, and what HLT does.  The back end
 * reports what it knows of the guest (an event its last exit interrupted,
 * RFLAGS.IF, interrupt blocking) and performs the answer with its own
 * mechanics: VMCS entry fields and the interrupt-window control on bare
 * metal, KVM_INTERRUPT and request_interrupt_window on vh-hosted. */
#ifndef VH_VCPU_EVENTS_H
#define VH_VCPU_EVENTS_H

#include "vh/types.h"

struct vh_host;
struct vh_vm;
struct vh_vcpu;

/* What the back end knows of the guest before an entry. */
struct vh_vcpu_gate {
	/* The last exit interrupted the delivery of an event, which the back
	 * end holds: it is delivered again first. */
	bool reinject;
	bool if_flag; /* RFLAGS.IF */
	/* The guest cannot take an interrupt at this entry even with IF set:
	 * STI or MOV SS blocking (VMX), or KVM not ready for an injection. */
	bool blocked;
};

enum vh_vcpu_inject {
	VH_VCPU_NOTHING,  /* nothing to deliver */
	VH_VCPU_REINJECT, /* deliver the interrupted event again; the APIC waits */
	VH_VCPU_IRQ,      /* deliver `vector` as an external interrupt, then
			     vh_vcpu_injected() */
	VH_VCPU_WINDOW,   /* an interrupt waits: exit as soon as the guest can take it */
};

struct vh_vcpu_event {
	enum vh_vcpu_inject what;
	uint8_t vector; /* with VH_VCPU_IRQ */
	/* The local APIC timer's next expiry (UINT64_MAX: none), when the
	 * back end must look again without an exit; UINT64_MAX with
	 * VH_VCPU_REINJECT, which does not look at the APIC. */
	uint64_t timer_deadline;
};

/* The decision alone: `vector` is the highest interrupt the local APIC
 * has for the vCPU, or -1. */
enum vh_vcpu_inject vh_vcpu_inject_choose(const struct vh_vcpu_gate *g, int vector);

/* The next event at time `now`: latches expired APIC timer counts, then
 * chooses.  Host lock held, except with g->reinject (the APIC is not
 * read then). */
struct vh_vcpu_event vh_vcpu_next_event(struct vh_host *h, struct vh_vm *vm, struct vh_vcpu *vcpu,
					uint64_t now, const struct vh_vcpu_gate *g);

/* The back end delivered vector (VH_VCPU_IRQ): the APIC moves it to
 * in-service.  Not called when the delivery failed, so it stays pending. */
void vh_vcpu_injected(struct vh_host *h, struct vh_vm *vm, struct vh_vcpu *vcpu, uint8_t vector);

/* HLT at time `now`, the back end having moved RIP past it; if_flag is
 * RFLAGS.IF.  False when an interrupt the guest can take is pending: it
 * goes on at once.  True when the vCPU halts in the scheduler until a
 * wake-up (an IPI, an interrupt raised for it) or *wake_at, its APIC
 * timer's next expiry (0: none, until an interrupt).  Host lock held. */
bool vh_vcpu_halt(struct vh_host *h, struct vh_vm *vm, struct vh_vcpu *vcpu, uint64_t now,
		  bool if_flag, uint64_t *wake_at);

#endif
