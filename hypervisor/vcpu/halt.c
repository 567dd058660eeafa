/* SPDX-License-Identifier: Apache-2.0 */
/* HLT (vh/vcpu_events.h): the vCPU blocks in vh's scheduler, never in the
 * host, until an interrupt for it or its local APIC timer; with an
 * interrupt it can take already pending it goes on at once. */
#include "vh/lapic.h"
#include "vh/vcpu_events.h"

bool vh_vcpu_halt(struct vh_host *h, struct vh_vm *vm, struct vh_vcpu *vcpu, uint64_t now,
		  bool if_flag, uint64_t *wake_at)
{
	uint64_t deadline;

	/* A timer that expired before the HLT is an interrupt pending now. */
	vh_lapic_tick(h, vm, vcpu, now);
	if (if_flag && vh_lapic_pending(h, vm, vcpu) >= 0)
		return false;
	deadline = vh_lapic_timer_deadline(h, vm, vcpu);
	*wake_at = deadline == UINT64_MAX ? 0 : deadline;
	return true;
}
