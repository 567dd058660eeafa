/* SPDX-License-Identifier: Apache-2.0 */
/* VMX on this machine: what the CPU offers (read once from the capability
 * MSRs), the checks that name what is missing, and VMX operation on every
 * CPU (IA32_FEATURE_CONTROL, CR4.VMXE, VMXON). */
#ifndef VH_X86_VMX_H
#define VH_X86_VMX_H

#include <stdbool.h>
#include <stdint.h>

#define MSR_VMX_BASIC 0x480
#define MSR_VMX_PINBASED 0x481
#define MSR_VMX_PROCBASED 0x482
#define MSR_VMX_EXIT 0x483
#define MSR_VMX_ENTRY 0x484
#define MSR_VMX_MISC 0x485
#define MSR_VMX_CR0_FIXED0 0x486
#define MSR_VMX_CR0_FIXED1 0x487
#define MSR_VMX_CR4_FIXED0 0x488
#define MSR_VMX_CR4_FIXED1 0x489
#define MSR_VMX_PROCBASED2 0x48b
#define MSR_VMX_EPT_VPID_CAP 0x48c
#define MSR_VMX_TRUE_PINBASED 0x48d
#define MSR_VMX_TRUE_PROCBASED 0x48e
#define MSR_VMX_TRUE_EXIT 0x48f
#define MSR_VMX_TRUE_ENTRY 0x490

/* A control field's capability MSR: low half the bits that must be 1
 * (allowed-0 settings), high half the bits that may be 1 (allowed-1). */
struct vh_vmx_ctl {
	uint32_t must1, may1;
};

struct vh_vmx_caps {
	uint32_t revision;
	bool true_ctls;
	struct vh_vmx_ctl pin, proc, proc2, exit, entry;
	uint64_t misc, ept_vpid;
	uint64_t cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
	unsigned preempt_shift; /* the timer counts at TSC >> this */
	uint32_t xsave_size;    /* 0: FXSAVE (512 bytes) is used instead */
	uint64_t xcr0_supported;
};

extern struct vh_vmx_caps vh_vmx;

/* Per-CPU VMX state. */
struct vh_vmx_cpu {
	void *vmxon_region;
	struct vh_vcpu *loaded; /* the vCPU whose VMCS is current here */
	struct vh_vcpu *fpu_owner; /* whose FPU state the registers hold */
};

/* Reads the capabilities and checks everything vh needs on the boot CPU.
 * On a miss it prints one line naming every missing feature and returns
 * false: the caller stops cleanly. */
bool vh_vmx_probe(void);
/* Enters VMX operation on the calling CPU.  False with a message. */
bool vh_vmx_cpu_on(void);

/* Control value: the wanted bits plus those that must be 1.  Wanted bits
 * the CPU cannot set are dropped here; vh_vmx_probe() already refused the
 * ones vh needs. */
uint32_t vh_vmx_ctl(const struct vh_vmx_ctl *c, uint32_t want);

#endif
