/* SPDX-License-Identifier: Apache-2.0 */
/* Exits for events: host interrupts that arrived while a guest ran,
 * guest exceptions vh intercepts, NMIs, and HLT. */
#include <stdint.h>

#include "cpu.h"
#include "exit.h"
#include "machine.h"
#include "trap.h"
#include "tsc.h"
#include "vh/host.h"
#include "vh/vcpu_events.h"
#include "vh/vm.h"
#include "vmcs_fields.h"
#include "vmx_insn.h"
#include "vmx_vcpu.h"

#define EXC_NMI 2

/* Acknowledged on exit: the vector is in the exit information; run the
 * host's handler (a kick sets the CPU's flag the loop checks) and EOI. */
enum vh_exit_action vh_exit_extint(struct vh_exit *x)
{
	uint32_t info = (uint32_t)vh_vmread(VMCS_EXIT_INTR_INFO);

	(void)x;
	if (info & INTR_INFO_VALID)
		vh_irq_dispatch(info & 0xff);
	return VH_EXIT_RESUME;
}

enum vh_exit_action vh_exit_exception(struct vh_exit *x)
{
	uint32_t info = (uint32_t)vh_vmread(VMCS_EXIT_INTR_INFO);
	uint8_t vector = info & 0xff;

	if ((info & INTR_TYPE_MASK) == INTR_TYPE_NMI || vector == EXC_NMI) {
		/* NMIs are the host's: another CPU stopping the machine. */
		if (vh_machine_stopping())
			cpu_halt_forever();
		return VH_EXIT_RESUME;
	}
	/* #AC (the only exception intercepted): reflect it. */
	vh_exit_inject_exception(x->vv, vector, (info & INTR_INFO_ERROR_CODE) != 0,
				 (uint32_t)vh_vmread(VMCS_EXIT_INTR_ERROR));
	return VH_EXIT_RESUME;
}

/* HLT (vh/vcpu_events.h): the vCPU blocks in the scheduler until an
 * interrupt for it or its APIC timer; with one already pending it goes on
 * at once. */
enum vh_exit_action vh_exit_hlt(struct vh_exit *x)
{
	bool if_flag = (vh_vmread(VMCS_GUEST_RFLAGS) & RFLAGS_IF) != 0;
	uint64_t now = vh_now_ns();
	bool halts;

	vh_exit_skip(x->vv);
	x->h->plat->lock(x->h->plat->ctx);
	halts = vh_vcpu_halt(x->h, x->vm, x->vcpu, now, if_flag, &x->wake_at);
	x->h->plat->unlock(x->h->plat->ctx);
	return halts ? VH_EXIT_HALT : VH_EXIT_RESUME;
}
