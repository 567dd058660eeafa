/* SPDX-License-Identifier: Apache-2.0 */
/* Guest FPU/SSE/AVX state across vCPU switches.  The hypervisor never
 * uses these registers itself (-mgeneral-regs-only), so a guest's state
 * stays in the CPU for as long as its vCPU runs there and is saved only
 * when the vCPU leaves the CPU. */
#ifndef VH_X86_FPU_H
#define VH_X86_FPU_H

struct vh_vmx_vcpu;

/* Loads vv's state (or the initial state) and its XCR0. */
void vh_fpu_load(struct vh_vmx_vcpu *vv);
/* Saves the state the CPU holds into vv's area. */
void vh_fpu_save(struct vh_vmx_vcpu *vv);

#endif
