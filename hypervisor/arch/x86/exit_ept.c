/* SPDX-License-Identifier: Apache-2.0 */
/* EPT violations: the core's memory manager decides (first touch, copy on
 * write of a shared page, a ballooned page coming back) for the VM's RAM.
 * An address its layout (vh/layout.h) does not call RAM, the 32-bit hole
 * whatever the VM's size included, is device MMIO: the local APIC model,
 * or nothing (reads all ones, writes dropped) after decoding the
 * instruction. */
#include <stdint.h>

#include "exit.h"
#include "mmio.h"
#include "tsc.h"
#include "vh/host.h"
#include "vh/mem.h"
#include "vh/vm.h"
#include "vmcs_fields.h"
#include "vmx_insn.h"
#include "vmx_vcpu.h"

#define EPT_QUAL_READ (1u << 0)
#define EPT_QUAL_WRITE (1u << 1)
#define EPT_QUAL_FETCH (1u << 2)

enum vh_exit_action vh_exit_ept_violation(struct vh_exit *x)
{
	uint64_t gpa = vh_vmread(VMCS_GUEST_PHYS_ADDR);
	enum vh_mem_access access;
	enum vh_fault_result r;

	x->qual = vh_vmread(VMCS_EXIT_QUALIFICATION);
	access = (x->qual & EPT_QUAL_WRITE)   ? VH_MEM_WRITE
				    : (x->qual & EPT_QUAL_FETCH) ? VH_MEM_EXEC
								 : VH_MEM_READ;

	x->h->plat->lock(x->h->plat->ctx);
	r = vh_mem_fault(x->h, x->vm, gpa >> 12, access, vh_now_ns());
	x->h->plat->unlock(x->h->plat->ctx);
	switch (r) {
	case VH_FAULT_MAPPED:
	case VH_FAULT_BALLOONED:
		return VH_EXIT_RESUME;
	case VH_FAULT_NO_MEMORY:
		/* Held: the access repeats after a scheduler round, when
		 * reclaim may have freed frames. */
		return VH_EXIT_YIELD;
	case VH_FAULT_BAD_ADDRESS:
		break;
	}
	if (access == VH_MEM_EXEC)
		return vh_exit_crash(x, "executes at %#llx, outside its memory",
				     (unsigned long long)gpa);
	vh_exit_recount(x, VH_EXIT_MMIO);
	return vh_mmio_emulate(x, gpa, access == VH_MEM_WRITE);
}

enum vh_exit_action vh_exit_ept_misconfig(struct vh_exit *x)
{
	/* vh writes only valid entries: a misconfiguration is its own bug,
	 * and the VM cannot go on. */
	return vh_exit_crash(x, "EPT misconfiguration at %#llx (a vh bug)",
			     (unsigned long long)vh_vmread(VMCS_GUEST_PHYS_ADDR));
}
