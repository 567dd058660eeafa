/* SPDX-License-Identifier: Apache-2.0 */
/* VMCS layout choices (see docs/baremetal.md):
 *  - every control from vh_vmx_ctl(): the bits vh wants plus whatever the
 *    (TRUE_*) capability MSRs force to 1;
 *  - no MSR or I/O bitmaps: every MSR access and every port access exits
 *    (an explicit allow list in exit_msr.c; ports go to the devices);
 *  - EPT + unrestricted guest: guests boot in real or protected mode
 *    without paging, CR3 never exits;
 *  - CR0.NE and CR4.VMXE/SMXE/PCIDE belong to vh (guest/host masks): the
 *    guest reads its own values from the shadows;
 *  - EFER and PAT switched by the VMCS on entry and exit, the syscall MSRs
 *    by vcpu_run.c when a vCPU moves onto a CPU;
 *  - external interrupts exit and are acknowledged on exit, NMIs exit;
 *  - the preemption timer ends the quantum. */
#include <stdint.h>

#include "console.h"
#include "cpu.h"
#include "ept.h"
#include "percpu.h"
#include "vh/loader.h"
#include "vh/msr.h"
#include "vmcs.h"
#include "vmcs_fields.h"
#include "vmx.h"
#include "vmx_insn.h"
#include "vmx_vcpu.h"

extern char vh_vmx_exit_entry[];

#define CR0_OWNED (CR0_NE)
#define CR4_OWNED (CR4_VMXE | CR4_SMXE | CR4_PCIDE)
#define EXC_AC 17
#define PAT_POWER_ON 0x0007040600070406ull
#define AR_CODE16 0x9bu   /* present, code, accessed, read */
#define AR_DATA16 0x93u   /* present, data, accessed, write */
#define AR_LDT_UNUSABLE AR_UNUSABLE
#define AR_TSS_BUSY32 0x8bu

uint64_t vh_vmcs_cr0_real(uint64_t guest_cr0)
{
	/* Unrestricted guest lifts the PE and PG requirements only. */
	uint64_t fixed0 = vh_vmx.cr0_fixed0 & ~(CR0_PE | CR0_PG);

	return (guest_cr0 | fixed0) & vh_vmx.cr0_fixed1;
}

uint64_t vh_vmcs_cr4_real(uint64_t guest_cr4)
{
	return (guest_cr4 | vh_vmx.cr4_fixed0) & vh_vmx.cr4_fixed1;
}

static void w(uint64_t field, uint64_t v)
{
	if (!vh_vmwrite(field, v))
		vh_console_printf("vh: vmx: VMWRITE %#llx failed (error %llu)\n",
				  (unsigned long long)field,
				  (unsigned long long)vh_vmread(VMCS_INSN_ERROR));
}

struct desc_ptr {
	uint16_t limit;
	uint64_t base;
} VH_PACKED;

bool vh_vmcs_load(struct vh_vmx_vcpu *vv, bool fresh)
{
	struct vh_cpu *c = vh_this_cpu();
	uint64_t phys = (uint64_t)(uintptr_t)vv->vmcs;

	if (fresh) {
		*(uint32_t *)vv->vmcs = vh_vmx.revision;
		if (!vh_vmclear(phys))
			return false;
		vv->launched = false;
	}
	if (!vh_vmptrld(phys))
		return false;
	w(VMCS_HOST_GS_BASE, (uint64_t)(uintptr_t)c);
	/* The exit pushes the guest's registers into vv->regs (vcpu_run.c's
	 * world switch), from their end down. */
	w(VMCS_HOST_RSP, (uint64_t)(uintptr_t)&vv->regs + VH_GUEST_REGS_PUSHED);
	w(VMCS_HOST_TR_BASE, (uint64_t)(uintptr_t)&c->tss);
	w(VMCS_HOST_GDTR_BASE, (uint64_t)(uintptr_t)c->gdt);
	w(VMCS_HOST_IDTR_BASE, (uint64_t)(uintptr_t)c->idt);
	return true;
}

void vh_vmcs_release(struct vh_vmx_vcpu *vv)
{
	vh_vmclear((uint64_t)(uintptr_t)vv->vmcs);
	vv->launched = false;
}

void vh_vmcs_setup_controls(struct vh_vmx_vcpu *vv, const struct vh_ept *ept)
{
	w(VMCS_PIN_CONTROLS,
	  vh_vmx_ctl(&vh_vmx.pin, PIN_EXTINT_EXITING | PIN_NMI_EXITING | PIN_PREEMPTION_TIMER));
	w(VMCS_PROC_CONTROLS,
	  vh_vmx_ctl(&vh_vmx.proc, PROC_HLT_EXITING | PROC_MWAIT_EXITING | PROC_RDPMC_EXITING |
					   PROC_CR8_LOAD_EXITING | PROC_CR8_STORE_EXITING |
					   PROC_MOV_DR_EXITING | PROC_IO_EXITING |
					   PROC_MONITOR_EXITING | PROC_SECONDARY) &
		  ~(PROC_CR3_LOAD_EXITING | PROC_CR3_STORE_EXITING | PROC_MSR_BITMAPS |
		    PROC_IO_BITMAPS | PROC_INVLPG_EXITING));
	w(VMCS_PROC2_CONTROLS,
	  vh_vmx_ctl(&vh_vmx.proc2, PROC2_EPT | PROC2_VPID | PROC2_UNRESTRICTED | PROC2_RDTSCP));
	w(VMCS_EXIT_CONTROLS,
	  vh_vmx_ctl(&vh_vmx.exit, EXIT_SAVE_DEBUG | EXIT_HOST_64 | EXIT_ACK_INTR | EXIT_SAVE_PAT |
				       EXIT_LOAD_PAT | EXIT_SAVE_EFER | EXIT_LOAD_EFER));
	w(VMCS_ENTRY_CONTROLS,
	  vh_vmx_ctl(&vh_vmx.entry, ENTRY_LOAD_DEBUG | ENTRY_LOAD_PAT | ENTRY_LOAD_EFER));
	/* #AC in a loop could hold a CPU forever (CVE-2015-5307): it
	 * exits and is reflected. */
	w(VMCS_EXCEPTION_BITMAP, 1u << EXC_AC);
	w(VMCS_PF_ERROR_MASK, 0);
	w(VMCS_PF_ERROR_MATCH, 0);
	w(VMCS_CR3_TARGET_COUNT, 0);
	w(VMCS_EXIT_MSR_STORE_COUNT, 0);
	w(VMCS_EXIT_MSR_LOAD_COUNT, 0);
	w(VMCS_ENTRY_MSR_LOAD_COUNT, 0);
	w(VMCS_ENTRY_INTR_INFO, 0);
	w(VMCS_VPID, vv->vpid);
	w(VMCS_EPT_POINTER, vh_ept_pointer(ept));
	w(VMCS_LINK_POINTER, ~0ull);
	w(VMCS_CR0_MASK, CR0_OWNED);
	w(VMCS_CR4_MASK, CR4_OWNED);

	/* Host state that is the same on every CPU. */
	w(VMCS_HOST_CR0, read_cr0());
	w(VMCS_HOST_CR3, read_cr3());
	w(VMCS_HOST_CR4, read_cr4());
	w(VMCS_HOST_CS_SEL, VH_SEL_CODE);
	w(VMCS_HOST_SS_SEL, VH_SEL_DATA);
	w(VMCS_HOST_DS_SEL, VH_SEL_DATA);
	w(VMCS_HOST_ES_SEL, VH_SEL_DATA);
	w(VMCS_HOST_FS_SEL, 0);
	w(VMCS_HOST_GS_SEL, 0);
	w(VMCS_HOST_TR_SEL, VH_SEL_TSS);
	w(VMCS_HOST_FS_BASE, 0);
	w(VMCS_HOST_SYSENTER_CS, 0);
	w(VMCS_HOST_SYSENTER_ESP, 0);
	w(VMCS_HOST_SYSENTER_EIP, 0);
	w(VMCS_HOST_EFER, rdmsr(MSR_IA32_EFER));
	w(VMCS_HOST_PAT, rdmsr(MSR_IA32_PAT));
	w(VMCS_HOST_RIP, (uint64_t)(uintptr_t)vh_vmx_exit_entry);
}

static void seg(uint64_t sel_f, uint64_t base_f, uint64_t limit_f, uint64_t ar_f,
		const struct vh_boot_segment *s)
{
	w(sel_f, s->selector);
	w(base_f, s->base);
	w(limit_f, s->limit);
	w(ar_f, s->access ? s->access : AR_UNUSABLE);
}

/* What every boot starts from: the architectural reset values the loader
 * does not set. */
static void guest_common(uint64_t cr0)
{
	w(VMCS_GUEST_CR0, vh_vmcs_cr0_real(cr0));
	w(VMCS_CR0_SHADOW, cr0);
	w(VMCS_GUEST_CR3, 0);
	w(VMCS_GUEST_CR4, vh_vmcs_cr4_real(0));
	w(VMCS_CR4_SHADOW, 0);
	w(VMCS_GUEST_LDTR_SEL, 0);
	w(VMCS_GUEST_LDTR_BASE, 0);
	w(VMCS_GUEST_LDTR_LIMIT, 0xffff);
	w(VMCS_GUEST_LDTR_AR, AR_LDT_UNUSABLE);
	w(VMCS_GUEST_TR_SEL, 0);
	w(VMCS_GUEST_TR_BASE, 0);
	w(VMCS_GUEST_TR_LIMIT, 0xffff);
	w(VMCS_GUEST_TR_AR, AR_TSS_BUSY32);
	w(VMCS_GUEST_IDTR_BASE, 0);
	w(VMCS_GUEST_IDTR_LIMIT, 0xffff);
	w(VMCS_GUEST_DR7, 0x400);
	w(VMCS_GUEST_DEBUGCTL, 0);
	w(VMCS_GUEST_PAT, PAT_POWER_ON);
	w(VMCS_GUEST_EFER, 0);
	w(VMCS_GUEST_SYSENTER_CS, 0);
	w(VMCS_GUEST_SYSENTER_ESP, 0);
	w(VMCS_GUEST_SYSENTER_EIP, 0);
	w(VMCS_GUEST_INTERRUPTIBILITY, 0);
	w(VMCS_GUEST_ACTIVITY, 0);
	w(VMCS_GUEST_PENDING_DBG, 0);
	w(VMCS_ENTRY_INTR_INFO, 0);
	/* A 32-bit guest: IA-32e mode only once it turns it on itself. */
	w(VMCS_ENTRY_CONTROLS, vh_vmread(VMCS_ENTRY_CONTROLS) & ~(uint64_t)ENTRY_GUEST_64);
}

static void reset_soft_state(struct vh_vmx_vcpu *vv)
{
	struct vh_guest_regs zero = { 0 };

	vv->regs = zero;
	for (unsigned i = 0; i < VH_MSR_RULES_MAX; i++)
		vv->msr_copy[i] = i < vh_msr_rule_count && vh_msr_rules[i].store == VH_MSR_VCPU
				      ? vh_msr_rules[i].value
				      : 0;
	for (int i = 0; i < 4; i++)
		vv->dr[i] = 0;
	vv->dr6 = 0xffff0ff0;
	vv->dr7 = 0x400;
	vv->cr8 = 0;
	vv->xcr0 = 1;
	vv->fpu_dirty = false; /* the next load initialises the FPU */
	vv->inject_info = 0;
}

void vh_vmcs_guest_boot(struct vh_vmx_vcpu *vv, const struct vh_boot_state *bs)
{
	reset_soft_state(vv);
	guest_common(bs->cr0 | CR0_ET);
	seg(VMCS_GUEST_CS_SEL, VMCS_GUEST_CS_BASE, VMCS_GUEST_CS_LIMIT, VMCS_GUEST_CS_AR, &bs->cs);
	seg(VMCS_GUEST_DS_SEL, VMCS_GUEST_DS_BASE, VMCS_GUEST_DS_LIMIT, VMCS_GUEST_DS_AR, &bs->ds);
	seg(VMCS_GUEST_ES_SEL, VMCS_GUEST_ES_BASE, VMCS_GUEST_ES_LIMIT, VMCS_GUEST_ES_AR, &bs->es);
	seg(VMCS_GUEST_FS_SEL, VMCS_GUEST_FS_BASE, VMCS_GUEST_FS_LIMIT, VMCS_GUEST_FS_AR, &bs->fs);
	seg(VMCS_GUEST_GS_SEL, VMCS_GUEST_GS_BASE, VMCS_GUEST_GS_LIMIT, VMCS_GUEST_GS_AR, &bs->gs);
	seg(VMCS_GUEST_SS_SEL, VMCS_GUEST_SS_BASE, VMCS_GUEST_SS_LIMIT, VMCS_GUEST_SS_AR, &bs->ss);
	w(VMCS_GUEST_GDTR_BASE, bs->gdt_base);
	w(VMCS_GUEST_GDTR_LIMIT, bs->gdt_limit);
	w(VMCS_GUEST_RIP, bs->rip);
	w(VMCS_GUEST_RSP, bs->rsp);
	w(VMCS_GUEST_RFLAGS, bs->rflags | RFLAGS_FIXED);
	vv->regs.rax = bs->rax;
	vv->regs.rbx = bs->rbx;
	vv->regs.rsi = bs->rsi;
	if (bs->mode == VH_BOOT_LONG64) {
		/* A Linux 64-bit entry: IA-32e mode from the first instruction,
		 * through the identity page tables the loader wrote. */
		w(VMCS_GUEST_CR3, bs->cr3);
		w(VMCS_GUEST_CR4, vh_vmcs_cr4_real(bs->cr4));
		w(VMCS_CR4_SHADOW, bs->cr4);
		w(VMCS_GUEST_EFER, bs->efer);
		w(VMCS_ENTRY_CONTROLS, vh_vmread(VMCS_ENTRY_CONTROLS) | ENTRY_GUEST_64);
	}
}

void vh_vmcs_guest_sipi(struct vh_vmx_vcpu *vv, const struct vh_vcpu_sipi *sipi)
{
	struct vh_boot_segment cs = { .selector = sipi->cs_selector,
				      .base = sipi->cs_base,
				      .limit = 0xffff,
				      .access = AR_CODE16 };
	struct vh_boot_segment data = {
		.selector = 0, .base = 0, .limit = 0xffff, .access = AR_DATA16
	};

	reset_soft_state(vv);
	guest_common(CR0_ET | CR0_CD | CR0_NW);
	seg(VMCS_GUEST_CS_SEL, VMCS_GUEST_CS_BASE, VMCS_GUEST_CS_LIMIT, VMCS_GUEST_CS_AR, &cs);
	seg(VMCS_GUEST_DS_SEL, VMCS_GUEST_DS_BASE, VMCS_GUEST_DS_LIMIT, VMCS_GUEST_DS_AR, &data);
	seg(VMCS_GUEST_ES_SEL, VMCS_GUEST_ES_BASE, VMCS_GUEST_ES_LIMIT, VMCS_GUEST_ES_AR, &data);
	seg(VMCS_GUEST_FS_SEL, VMCS_GUEST_FS_BASE, VMCS_GUEST_FS_LIMIT, VMCS_GUEST_FS_AR, &data);
	seg(VMCS_GUEST_GS_SEL, VMCS_GUEST_GS_BASE, VMCS_GUEST_GS_LIMIT, VMCS_GUEST_GS_AR, &data);
	seg(VMCS_GUEST_SS_SEL, VMCS_GUEST_SS_BASE, VMCS_GUEST_SS_LIMIT, VMCS_GUEST_SS_AR, &data);
	w(VMCS_GUEST_GDTR_BASE, 0);
	w(VMCS_GUEST_GDTR_LIMIT, 0xffff);
	w(VMCS_GUEST_RIP, 0);
	w(VMCS_GUEST_RSP, 0);
	w(VMCS_GUEST_RFLAGS, RFLAGS_FIXED);
	vv->regs.rdx = 0x600; /* the reset signature: family 6 */
}

void vh_vmcs_dump(void)
{
	static const struct {
		uint32_t field;
		const char *name;
	} f[] = {
		{ VMCS_GUEST_RIP, "rip" },
		{ VMCS_GUEST_RSP, "rsp" },
		{ VMCS_GUEST_RFLAGS, "rflags" },
		{ VMCS_GUEST_CR0, "cr0" },
		{ VMCS_CR0_SHADOW, "cr0 shadow" },
		{ VMCS_GUEST_CR3, "cr3" },
		{ VMCS_GUEST_CR4, "cr4" },
		{ VMCS_GUEST_EFER, "efer" },
		{ VMCS_GUEST_CS_SEL, "cs" },
		{ VMCS_GUEST_CS_BASE, "cs base" },
		{ VMCS_GUEST_CS_AR, "cs ar" },
		{ VMCS_GUEST_SS_AR, "ss ar" },
		{ VMCS_GUEST_TR_AR, "tr ar" },
		{ VMCS_GUEST_INTERRUPTIBILITY, "interruptibility" },
		{ VMCS_ENTRY_INTR_INFO, "entry event" },
		{ VMCS_PIN_CONTROLS, "pin" },
		{ VMCS_PROC_CONTROLS, "proc" },
		{ VMCS_PROC2_CONTROLS, "proc2" },
		{ VMCS_EXIT_CONTROLS, "exit" },
		{ VMCS_ENTRY_CONTROLS, "entry" },
		{ VMCS_EPT_POINTER, "eptp" },
	};
	for (unsigned i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		vh_console_printf("vh: vmcs %-16s %#llx\n", f[i].name,
				  (unsigned long long)vh_vmread(f[i].field));
}
