/* SPDX-License-Identifier: Apache-2.0 */
/* Control registers, debug registers and XCR0.  Only writes that touch a
 * bit vh owns exit (CR0.NE, CR4.VMXE/SMXE/PCIDE: the guest/host masks in
 * vmcs.c); the guest sees its own values through the read shadows.  CR8
 * always exits so the guest never programs the host's task priority. */
#include <stdint.h>

#include "cpu.h"
#include "exit.h"
#include "vh/devices.h"
#include "vh/host.h"
#include "vh/vm.h"
#include "vmcs.h"
#include "vmcs_fields.h"
#include "vmx.h"
#include "vmx_insn.h"
#include "vmx_vcpu.h"

#define CR_TYPE_MOV_TO 0
#define CR_TYPE_MOV_FROM 1
#define LAPIC_TPR 0x80
#define CR4_REFUSED (CR4_VMXE | CR4_SMXE | CR4_PCIDE)
#define XCR0_X87 0x1ull
#define XCR0_SSE 0x2ull
#define XCR0_AVX 0x4ull
#define XCR0_BNDREGS 0x8ull
#define XCR0_BNDCSR 0x10ull
#define XCR0_AVX512 0xe0ull

static void set_long_mode(bool on)
{
	uint64_t efer = vh_vmread(VMCS_GUEST_EFER);
	uint64_t entry = vh_vmread(VMCS_ENTRY_CONTROLS);

	if (on) {
		efer |= EFER_LMA;
		entry |= ENTRY_GUEST_64;
	} else {
		efer &= ~EFER_LMA;
		entry &= ~(uint64_t)ENTRY_GUEST_64;
	}
	vh_vmwrite(VMCS_GUEST_EFER, efer);
	vh_vmwrite(VMCS_ENTRY_CONTROLS, entry);
}

static bool guest_write_cr0(uint64_t v)
{
	uint64_t old = vh_exit_guest_cr0();
	uint64_t efer = vh_vmread(VMCS_GUEST_EFER);

	if (v >> 32)
		return false;
	if ((v & CR0_PG) && !(v & CR0_PE))
		return false;
	if ((v & CR0_NW) && !(v & CR0_CD))
		return false;
	if ((v & CR0_PG) && !(old & CR0_PG) && (efer & EFER_LME)) {
		if (!(vh_exit_guest_cr4() & CR4_PAE))
			return false;
		set_long_mode(true);
	} else if (!(v & CR0_PG) && (old & CR0_PG) && (efer & EFER_LMA)) {
		set_long_mode(false);
	}
	vh_vmwrite(VMCS_CR0_SHADOW, v);
	vh_vmwrite(VMCS_GUEST_CR0, vh_vmcs_cr0_real(v | CR0_ET));
	return true;
}

static bool guest_write_cr4(uint64_t v)
{
	uint64_t allowed = vh_vmx.cr4_fixed1 & ~CR4_REFUSED;

	if (v & ~allowed)
		return false;
	if (!(v & CR4_PAE) && (vh_vmread(VMCS_GUEST_EFER) & EFER_LMA))
		return false;
	vh_vmwrite(VMCS_CR4_SHADOW, v);
	vh_vmwrite(VMCS_GUEST_CR4, vh_vmcs_cr4_real(v));
	return true;
}

/* CR8 is the local APIC's task priority: the model keeps it. */
static void cr8_write(struct vh_exit *x, uint64_t v)
{
	uint64_t tpr = (v & 0xf) << 4;

	x->vv->cr8 = v & 0xf;
	x->h->plat->lock(x->h->plat->ctx);
	vh_devices_mmio(x->h, x->vm, x->vcpu, VH_LAPIC_BASE + LAPIC_TPR, 4, true, &tpr);
	x->h->plat->unlock(x->h->plat->ctx);
}

enum vh_exit_action vh_exit_cr(struct vh_exit *x)
{
	uint64_t qual = x->qual = vh_vmread(VMCS_EXIT_QUALIFICATION);
	unsigned cr = (unsigned)(qual & 0xf);
	unsigned type = (unsigned)(qual >> 4) & 3;
	unsigned gpr = (unsigned)(qual >> 8) & 0xf;
	bool ok = true;

	if (type == CR_TYPE_MOV_TO) {
		uint64_t v = vh_exit_gpr(x->vv, gpr);
		if (cr == 0)
			ok = guest_write_cr0(vh_exit_guest_long_mode() ? v : (uint32_t)v);
		else if (cr == 4)
			ok = guest_write_cr4(v);
		else if (cr == 8) {
			if (v >> 4)
				ok = false;
			else
				cr8_write(x, v);
		} else
			ok = false;
	} else if (type == CR_TYPE_MOV_FROM && cr == 8) {
		vh_exit_set_gpr(x->vv, gpr, x->vv->cr8);
	} else {
		ok = false; /* CLTS and LMSW touch no owned bit: never exit */
	}
	if (!ok)
		return vh_exit_gp(x);
	vh_exit_skip(x->vv);
	return VH_EXIT_RESUME;
}

/* Debug registers are kept per vCPU but never loaded: guests get no
 * hardware breakpoints (they would need DR0-3 switched on every vCPU
 * change), yet a guest that saves and restores them sees its values. */
enum vh_exit_action vh_exit_dr(struct vh_exit *x)
{
	struct vh_vmx_vcpu *vv = x->vv;
	uint64_t qual = x->qual = vh_vmread(VMCS_EXIT_QUALIFICATION);
	unsigned dr = (unsigned)(qual & 7);
	bool from = (qual >> 4) & 1;
	unsigned gpr = (unsigned)(qual >> 8) & 0xf;
	uint64_t *slot;

	if (vh_exit_guest_cpl() != 0)
		return vh_exit_gp(x);
	if (dr == 4 || dr == 5) {
		if (vh_exit_guest_cr4() & CR4_DE)
			return vh_exit_undefined(x);
		dr += 2;
	}
	slot = dr < 4 ? &vv->dr[dr] : dr == 6 ? &vv->dr6 : &vv->dr7;
	if (from) {
		vh_exit_set_gpr(vv, gpr, *slot);
	} else {
		uint64_t v = vh_exit_gpr(vv, gpr);
		if (dr >= 6 && (v >> 32))
			return vh_exit_gp(x);
		*slot = v;
	}
	vh_exit_skip(vv);
	return VH_EXIT_RESUME;
}

static bool xcr0_valid(uint64_t v)
{
	if (v & ~vh_vmx.xcr0_supported)
		return false;
	if (!(v & XCR0_X87))
		return false;
	if ((v & XCR0_AVX) && !(v & XCR0_SSE))
		return false;
	if (!!(v & XCR0_BNDREGS) != !!(v & XCR0_BNDCSR))
		return false;
	if ((v & XCR0_AVX512) && ((v & XCR0_AVX512) != XCR0_AVX512 || !(v & XCR0_AVX)))
		return false;
	return true;
}

enum vh_exit_action vh_exit_xsetbv(struct vh_exit *x)
{
	struct vh_vmx_vcpu *vv = x->vv;
	uint64_t v = ((vv->regs.rdx & 0xffffffffull) << 32) | (vv->regs.rax & 0xffffffffull);

	if (!vh_vmx.xsave_size || !(vh_exit_guest_cr4() & CR4_OSXSAVE))
		return vh_exit_undefined(x);
	if (vh_exit_guest_cpl() != 0 || (uint32_t)vv->regs.rcx != 0 || !xcr0_valid(v))
		return vh_exit_gp(x);
	vv->xcr0 = v;
	xsetbv(0, v); /* the vCPU's FPU state is the one loaded here */
	vh_exit_skip(vv);
	return VH_EXIT_RESUME;
}
