/* SPDX-License-Identifier: Apache-2.0 */
/* MSRs: the allow list and its value checks are the core's (vh/msr.h);
 * this file says where each value lives on VMX (a VMCS guest field, a
 * per-vCPU copy loaded into the real MSR with the vCPU or kept by vh
 * alone, a constant).  An
 * MSR not listed, or a value the table refuses, raises #GP in the guest,
 * as hardware would.  The copies reach the real MSRs only through
 * wrmsr_safe(): should the CPU still refuse one, the guest gets #GP and
 * the host goes on. */
#include <stdint.h>

#include "cpu.h"
#include "exit.h"
#include "vh/msr.h"
#include "vh/vm.h"
#include "vmcs_fields.h"
#include "vmx_insn.h"
#include "vmx_vcpu.h"

/* The VMCS field of each VH_MSR_GUEST MSR. */
static uint64_t guest_field(uint32_t msr)
{
	switch (msr) {
	case VH_MSR_SYSENTER_CS: return VMCS_GUEST_SYSENTER_CS;
	case VH_MSR_SYSENTER_ESP: return VMCS_GUEST_SYSENTER_ESP;
	case VH_MSR_SYSENTER_EIP: return VMCS_GUEST_SYSENTER_EIP;
	case VH_MSR_FS_BASE: return VMCS_GUEST_FS_BASE;
	default: return VMCS_GUEST_GS_BASE;
	}
}

/* The per-vCPU copy of a VH_MSR_LOADED or VH_MSR_VCPU MSR: indexed by its
 * rule. */
static uint64_t *loaded_copy(struct vh_vmx_vcpu *vv, const struct vh_msr_rule *r)
{
	return &vv->msr_copy[r - vh_msr_rules];
}

static bool efer_write(uint64_t v)
{
	uint64_t old = vh_vmread(VMCS_GUEST_EFER);

	/* LMA is the CPU's: it follows LME and CR0.PG. */
	v = (v & ~EFER_LMA) | (old & EFER_LMA);
	/* LME may not change while paging is on. */
	if (((v ^ old) & EFER_LME) && (vh_exit_guest_cr0() & CR0_PG))
		return false;
	vh_vmwrite(VMCS_GUEST_EFER, v);
	return true;
}

static bool read_special(struct vh_exit *x, uint32_t msr, uint64_t *v)
{
	switch (msr) {
	case VH_MSR_TSC: *v = rdtsc(); return true;
	case VH_MSR_APIC_BASE_MSR: *v = vh_msr_apic_base(x->vcpu->index); return true;
	case VH_MSR_PAT: *v = vh_vmread(VMCS_GUEST_PAT); return true;
	case VH_MSR_EFER: *v = vh_vmread(VMCS_GUEST_EFER); return true;
	}
	return false;
}

/* v has passed vh_msr_write_ok(). */
static bool write_special(struct vh_exit *x, uint32_t msr, uint64_t v)
{
	switch (msr) {
	case VH_MSR_TSC: return true; /* the TSC is the host's; writes are dropped */
	case VH_MSR_APIC_BASE_MSR: return vh_msr_apic_base_write_ok(x->vcpu->index, v);
	case VH_MSR_PAT: vh_vmwrite(VMCS_GUEST_PAT, v); return true;
	case VH_MSR_EFER: return efer_write(v);
	}
	return false;
}

enum vh_exit_action vh_exit_rdmsr(struct vh_exit *x)
{
	struct vh_vmx_vcpu *vv = x->vv;
	uint32_t msr = (uint32_t)vv->regs.rcx;
	const struct vh_msr_rule *r = vh_msr_find(msr);
	uint64_t v = 0;

	if (!r)
		return vh_exit_gp(x);
	switch (r->store) {
	case VH_MSR_GUEST: v = vh_vmread(guest_field(msr)); break;
	case VH_MSR_LOADED:
		vh_exit_save_msrs(vv); /* SWAPGS may have moved KERNEL_GS_BASE */
		v = *loaded_copy(vv, r);
		break;
	case VH_MSR_VCPU: v = *loaded_copy(vv, r); break;
	case VH_MSR_CONST_RO:
	case VH_MSR_CONST_WI: v = r->value; break;
	case VH_MSR_ABSENT: return vh_exit_gp(x); /* vh_msr_find() returns none */
	case VH_MSR_SPECIAL:
		if (!read_special(x, msr, &v))
			return vh_exit_gp(x);
		break;
	}
	vv->regs.rax = (uint32_t)v;
	vv->regs.rdx = (uint32_t)(v >> 32);
	vh_exit_skip(vv);
	return VH_EXIT_RESUME;
}

enum vh_exit_action vh_exit_wrmsr(struct vh_exit *x)
{
	struct vh_vmx_vcpu *vv = x->vv;
	uint32_t msr = (uint32_t)vv->regs.rcx;
	uint64_t v = ((vv->regs.rdx & 0xffffffffull) << 32) | (vv->regs.rax & 0xffffffffull);
	const struct vh_msr_rule *r = vh_msr_find(msr);

	if (!r || !vh_msr_write_ok(msr, v))
		return vh_exit_gp(x);
	switch (r->store) {
	case VH_MSR_GUEST: vh_vmwrite(guest_field(msr), v); break;
	case VH_MSR_LOADED:
		/* The vCPU is loaded on this CPU: the hardware copy first,
		 * so a value the CPU refuses is never kept. */
		if (wrmsr_safe(msr, v) != 0) {
			(void)wrmsr_safe(msr, *loaded_copy(vv, r));
			return vh_exit_gp(x);
		}
		*loaded_copy(vv, r) = v;
		break;
	case VH_MSR_VCPU: *loaded_copy(vv, r) = v; break;
	case VH_MSR_CONST_WI: break; /* checked, dropped */
	case VH_MSR_CONST_RO:
	case VH_MSR_ABSENT: break; /* vh_msr_write_ok() refused them above */
	case VH_MSR_SPECIAL:
		if (!write_special(x, msr, v))
			return vh_exit_gp(x);
		break;
	}
	vh_exit_skip(vv);
	return VH_EXIT_RESUME;
}

/* SWAPGS exchanges GS_BASE (a VMCS field) with KERNEL_GS_BASE without an
 * exit: a guest kernel does it on every entry from and return to user
 * mode.  The real MSR, not the copy, then holds the guest's value, so the
 * copy is refreshed from it before it is read or the vCPU leaves the CPU;
 * a copy loaded back stale hands the kernel the user's GS base at its next
 * entry (Linux: a page fault on %gs at every entry, the stack guard hit).
 * The other VH_MSR_LOADED MSRs change only by WRMSR, which exits. */
void vh_exit_save_msrs(struct vh_vmx_vcpu *vv)
{
	const struct vh_msr_rule *r = vh_msr_find(VH_MSR_KERNEL_GS_BASE);

	if (r && r->store == VH_MSR_LOADED)
		*loaded_copy(vv, r) = rdmsr(VH_MSR_KERNEL_GS_BASE);
}

bool vh_exit_load_msrs(struct vh_vmx_vcpu *vv)
{
	bool ok = true;

	for (unsigned i = 0; i < vh_msr_rule_count; i++) {
		const struct vh_msr_rule *r = &vh_msr_rules[i];
		if (r->store != VH_MSR_LOADED)
			continue;
		/* Checked on WRMSR; should the CPU refuse it anyway, the
		 * copy is reset rather than the host stopped. */
		if (!vh_msr_write_ok(r->msr, vv->msr_copy[i]) ||
		    wrmsr_safe(r->msr, vv->msr_copy[i]) != 0) {
			vv->msr_copy[i] = 0;
			(void)wrmsr_safe(r->msr, 0);
			ok = false;
		}
	}
	return ok;
}
