/* SPDX-License-Identifier: Apache-2.0 */
/* Building a vCPU's VMCS: controls from the capability MSRs, host state
 * of the CPU it is loaded on, guest state at boot and at SIPI. */
#ifndef VH_X86_VMCS_H
#define VH_X86_VMCS_H

#include <stdbool.h>
#include <stdint.h>

struct vh_vmx_vcpu;
struct vh_boot_state;
struct vh_ept;
struct vh_vcpu_sipi;

/* Makes vv's VMCS current on this CPU (VMCLEAR first when it is new) and
 * writes the host fields that differ between CPUs. */
bool vh_vmcs_load(struct vh_vmx_vcpu *vv, bool fresh);
/* Flushes vv's VMCS to memory so another CPU may load it. */
void vh_vmcs_release(struct vh_vmx_vcpu *vv);

/* The controls and constant host state (VMCS current). */
void vh_vmcs_setup_controls(struct vh_vmx_vcpu *vv, const struct vh_ept *ept);
/* Guest state: the loader's boot state, or real mode where a SIPI starts
 * an AP (vh/vcpu_boot.h). */
void vh_vmcs_guest_boot(struct vh_vmx_vcpu *vv, const struct vh_boot_state *bs);
void vh_vmcs_guest_sipi(struct vh_vmx_vcpu *vv, const struct vh_vcpu_sipi *sipi);

/* Guest CR0/CR4 as the guest sees them and what the CPU runs with. */
uint64_t vh_vmcs_cr0_real(uint64_t guest_cr0);
uint64_t vh_vmcs_cr4_real(uint64_t guest_cr4);

/* Logs the main guest and control fields (failed entries). */
void vh_vmcs_dump(void);

#endif
