/* MSRs: an explicit allow list.  Each entry says how a read and a write
 * are served (a VMCS guest field, a per-vCPU copy loaded with the vCPU,
 * a constant); anything not listed raises #GP in the guest, as on a CPU
 * without that MSR. */
#include <stdint.h>

#include "cpu.h"
#include "exit.h"
#include "vh/devices.h"
#include "vh/lapic.h"
#include "vh/vm.h"
#include "vmcs_fields.h"
#include "vmx_insn.h"
#include "vmx_vcpu.h"

#define MSR_TSC 0x10
#define MSR_PLATFORM_ID 0x17
#define MSR_BIOS_SIGN_ID 0x8b
#define MSR_MTRRCAP 0xfe
#define MSR_SYSENTER_CS 0x174
#define MSR_SYSENTER_ESP 0x175
#define MSR_SYSENTER_EIP 0x176
#define MSR_MCG_CAP 0x179
#define MSR_MCG_STATUS 0x17a
#define MSR_MISC_ENABLE 0x1a0
#define MSR_MTRR_DEF_TYPE 0x2ff
#define FC_LOCKED 1ull

enum how {
	VMCS_FIELD,   /* arg: the guest-state field */
	VCPU_COPY,    /* arg: offset in struct vh_vmx_vcpu */
	CONST_RO,     /* arg: the value; writes #GP */
	CONST_WI,     /* arg: the value; writes ignored */
	SPECIAL,
};

enum check { ANY, CANONICAL, SYSCALL_MASK };

struct msr_rule {
	uint32_t msr;
	enum how how;
	uint64_t arg;
	enum check check;
};

#define VV(f) __builtin_offsetof(struct vh_vmx_vcpu, f)

static const struct msr_rule rules[] = {
	{ MSR_TSC, SPECIAL, 0, ANY },
	{ MSR_PLATFORM_ID, CONST_RO, 0, ANY },
	{ VH_MSR_APIC_BASE, SPECIAL, 0, ANY },
	{ MSR_IA32_FEATURE_CONTROL, CONST_RO, FC_LOCKED, ANY }, /* locked, VMX off */
	{ MSR_BIOS_SIGN_ID, CONST_WI, 0, ANY },
	{ MSR_MTRRCAP, CONST_RO, 0, ANY },
	{ MSR_SYSENTER_CS, VMCS_FIELD, VMCS_GUEST_SYSENTER_CS, ANY },
	{ MSR_SYSENTER_ESP, VMCS_FIELD, VMCS_GUEST_SYSENTER_ESP, CANONICAL },
	{ MSR_SYSENTER_EIP, VMCS_FIELD, VMCS_GUEST_SYSENTER_EIP, CANONICAL },
	{ MSR_MCG_CAP, CONST_RO, 0, ANY },
	{ MSR_MCG_STATUS, CONST_WI, 0, ANY },
	{ MSR_MISC_ENABLE, CONST_WI, 1, ANY }, /* fast strings */
	{ MSR_IA32_PAT, SPECIAL, 0, ANY },
	{ MSR_MTRR_DEF_TYPE, CONST_WI, 0x6, ANY },
	{ MSR_IA32_EFER, SPECIAL, 0, ANY },
	{ MSR_IA32_STAR, VCPU_COPY, VV(star), ANY },
	{ MSR_IA32_LSTAR, VCPU_COPY, VV(lstar), CANONICAL },
	{ MSR_IA32_CSTAR, VCPU_COPY, VV(cstar), CANONICAL },
	{ MSR_IA32_FMASK, VCPU_COPY, VV(fmask), SYSCALL_MASK },
	{ MSR_IA32_FS_BASE, VMCS_FIELD, VMCS_GUEST_FS_BASE, CANONICAL },
	{ MSR_IA32_GS_BASE, VMCS_FIELD, VMCS_GUEST_GS_BASE, CANONICAL },
	{ MSR_IA32_KERNEL_GS_BASE, VCPU_COPY, VV(kernel_gs_base), CANONICAL },
	{ MSR_IA32_TSC_AUX, VCPU_COPY, VV(tsc_aux), ANY },
};

static const struct msr_rule *find(uint32_t msr)
{
	for (unsigned i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		if (rules[i].msr == msr)
			return &rules[i];
	return 0;
}

static bool canonical(uint64_t v)
{
	return (uint64_t)((int64_t)(v << 16) >> 16) == v;
}

/* Every PAT entry must be a valid memory type: 0, 1, 4, 5, 6, 7. */
static bool pat_ok(uint64_t v)
{
	for (int i = 0; i < 8; i++) {
		unsigned t = (unsigned)(v >> (8 * i)) & 0xff;
		if (t == 2 || t == 3 || t > 7)
			return false;
	}
	return true;
}

static bool efer_write(uint64_t v)
{
	uint64_t old = vh_vmread(VMCS_GUEST_EFER);

	if (v & ~(EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE))
		return false;
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
	case MSR_TSC:
		*v = rdtsc();
		return true;
	case VH_MSR_APIC_BASE:
		*v = VH_LAPIC_BASE | VH_APIC_BASE_ENABLE | (x->vcpu->index == 0 ? VH_APIC_BASE_BSP : 0);
		return true;
	case MSR_IA32_PAT:
		*v = vh_vmread(VMCS_GUEST_PAT);
		return true;
	case MSR_IA32_EFER:
		*v = vh_vmread(VMCS_GUEST_EFER);
		return true;
	}
	return false;
}

static bool write_special(struct vh_exit *x, uint32_t msr, uint64_t v)
{
	uint64_t cur;

	switch (msr) {
	case MSR_TSC:
		return true; /* the TSC is the host's; writes are dropped */
	case VH_MSR_APIC_BASE:
		/* The APIC stays where it is; only the same value is taken. */
		read_special(x, msr, &cur);
		return v == cur;
	case MSR_IA32_PAT:
		if (!pat_ok(v))
			return false;
		vh_vmwrite(VMCS_GUEST_PAT, v);
		return true;
	case MSR_IA32_EFER:
		return efer_write(v);
	}
	return false;
}

enum vh_exit_action vh_exit_rdmsr(struct vh_exit *x)
{
	struct vh_vmx_vcpu *vv = x->vv;
	uint32_t msr = (uint32_t)vv->regs.rcx;
	const struct msr_rule *r = find(msr);
	uint64_t v = 0;

	if (!r)
		return vh_exit_gp(x);
	switch (r->how) {
	case VMCS_FIELD: v = vh_vmread(r->arg); break;
	case VCPU_COPY: v = *(uint64_t *)((char *)vv + r->arg); break;
	case CONST_RO:
	case CONST_WI: v = r->arg; break;
	case SPECIAL:
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
	const struct msr_rule *r = find(msr);

	if (!r || r->how == CONST_RO)
		return vh_exit_gp(x);
	if (r->check == CANONICAL && !canonical(v))
		return vh_exit_gp(x);
	if (r->check == SYSCALL_MASK && (v >> 32))
		return vh_exit_gp(x);
	switch (r->how) {
	case VMCS_FIELD: vh_vmwrite(r->arg, v); break;
	case VCPU_COPY:
		*(uint64_t *)((char *)vv + r->arg) = v;
		/* The vCPU is loaded on this CPU: the hardware copy too. */
		wrmsr(msr, v);
		break;
	case CONST_WI:
	case CONST_RO: break;
	case SPECIAL:
		if (!write_special(x, msr, v))
			return vh_exit_gp(x);
		break;
	}
	vh_exit_skip(vv);
	return VH_EXIT_RESUME;
}
