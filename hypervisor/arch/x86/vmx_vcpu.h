/* SPDX-License-Identifier: Apache-2.0 */
/* The VMX backend's per-vCPU state (vcpu->backend): the guest registers
 * the VMCS does not hold, the VMCS itself, FPU state, the MSRs vh
 * emulates, and exit counts by basic exit reason. */
#ifndef VH_X86_VMX_VCPU_H
#define VH_X86_VMX_VCPU_H

#include <stdbool.h>
#include <stdint.h>

#include "vh/compiler.h"
#include "vh/cpuid.h"
#include "vh/msr.h"
#include "vh/vcpu_boot.h"

struct vh_vcpu;
struct vh_vm;
struct vh_boot_state;

/* Loaded and saved by world_switch() (vcpu_run.c): keep its offsets in
 * step.  The exit pushes r15 down to rax, from HOST_RSP =
 * &regs + VH_GUEST_REGS_PUSHED. */
struct vh_guest_regs {
	uint64_t rax, rcx, rdx, rbx, rbp, rsi, rdi;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t cr2;
};
#define VH_GUEST_REGS_PUSHED 120 /* the bytes of the 15 GPRs */

#define VH_VMX_EXIT_REASONS 70

struct vh_vmx_vcpu {
	struct vh_guest_regs regs; /* first: the world switch addresses it */
	struct vh_vcpu *vcpu;
	void *vmcs;
	bool vmcs_ready;      /* controls and host state written once */
	bool launched;        /* VMLAUNCH done since the last VMCLEAR */
	volatile int cpu;     /* the CPU whose VMCS copy is current, or -1 */
	uint16_t vpid;
	bool fpu_dirty;       /* fpu area holds state that must be restored */
	void *fpu;            /* XSAVE (or FXSAVE) area, 64-byte aligned */
	uint32_t fpu_size;
	uint64_t xcr0;
	struct vh_vcpu_boot boot; /* its boot generation and start-up (vh/vcpu_boot.h) */
	/* MSRs the VMCS does not switch (VH_MSR_LOADED in vh/msr.h), by
	 * rule index: loaded on the CPU with the vCPU (exit_msr.c). */
	uint64_t msr_copy[VH_MSR_RULES_MAX];
	/* Debug registers: kept, not loaded (guests get no hardware
	 * breakpoints: DR7 in the VMCS stays 0x400). */
	uint64_t dr[4], dr6, dr7;
	uint64_t cr8;
	struct vh_cpuid_vm cpuid; /* the CPU model's view of this vCPU (exit_cpuid.c) */
	/* An event to inject at the next entry (0: none). */
	uint32_t inject_info, inject_error, inject_len;
	/* When the CPU loop must look at the guest's local APIC (under the
	 * host lock) before the next entry: apic_check, set by every exit
	 * marked apic_look (exit_table.c), with an event to inject
	 * (inject_info) and at the start of each quantum, or once the TSC
	 * reaches apic_deadline_tsc, the APIC timer's next expiry.  An
	 * interrupt another CPU raises comes with a kick, which ends the
	 * quantum.  Otherwise nothing can be pending that was not pending
	 * at the last look. */
	bool apic_check;
	uint64_t apic_deadline_tsc;
	uint64_t reason_exits[VH_VMX_EXIT_REASONS];
	uint64_t fatal_entries;
};

/* Creates vcpu->backend (VMCS page, FPU area, VPID).  False when the
 * heap is out. */
bool vh_vmx_vcpu_create(struct vh_vcpu *vcpu);
void vh_vmx_vcpu_destroy(struct vh_vcpu *vcpu);

#endif
