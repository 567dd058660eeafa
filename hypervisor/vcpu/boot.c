/* SPDX-License-Identifier: Apache-2.0 */
/* A vCPU's start-up per boot generation (vh/vcpu_boot.h): vCPU 0 takes
 * the loader's boot state once per generation, the others wait in their
 * local APIC's wait-for-SIPI until the guest starts them; a vCPU whose
 * registers were never set for this generation does not run. */
#include "vh/lapic.h"
#include "vh/vcpu_boot.h"
#include "vh/vm.h"

enum vh_vcpu_boot_step vh_vcpu_boot_next(struct vh_host *h, struct vh_vm *vm, struct vh_vcpu *vcpu,
					 struct vh_vcpu_boot *b, struct vh_vcpu_sipi *sipi)
{
	enum vh_lapic_run_state st;
	uint8_t vector = 0;

	if (b->generation != vm->boot_generation) {
		/* Nothing of the previous run's registers counts any more. */
		b->generation = vm->boot_generation;
		b->started = false;
		return VH_VCPU_BOOT_RESET;
	}
	if (vcpu->index == 0 && !b->started)
		return VH_VCPU_BOOT_LOAD;
	st = vh_lapic_run_state(h, vm, vcpu, &vector);
	if (st == VH_LAPIC_SIPI) {
		sipi->vector = vector;
		sipi->cs_selector = (uint16_t)(vector << 8);
		sipi->cs_base = (uint64_t)vector << 12;
		return VH_VCPU_BOOT_SIPI;
	}
	if (st != VH_LAPIC_RUNNING || !b->started)
		return VH_VCPU_BOOT_WAIT;
	return VH_VCPU_BOOT_RUN;
}

void vh_vcpu_boot_started(struct vh_host *h, struct vh_vm *vm, struct vh_vcpu *vcpu,
			  struct vh_vcpu_boot *b)
{
	b->started = true;
	/* After a SIPI the APIC leaves its start-up state; after LOAD it is
	 * running already and this changes nothing. */
	vh_lapic_started(h, vm, vcpu);
}
