/* SPDX-License-Identifier: Apache-2.0 */
/* Capability probing follows the SDM's rules for reading the MSRs: the
 * TRUE_* controls only when VMX_BASIC bit 55 says they exist, the
 * secondary controls only when the primary ones allow activating them,
 * the EPT/VPID capabilities only when either is allowed.  Reading an MSR
 * that is not there raises #GP (Bochs enforces it). */
#include <stdint.h>

#include "console.h"
#include "cpu.h"
#include "heap.h"
#include "percpu.h"
#include "vh/format.h"
#include "vmcs_fields.h"
#include "vmx.h"
#include "vmx_insn.h"

#define FC_LOCKED (1ull << 0)
#define FC_VMX_OUTSIDE_SMX (1ull << 2)
#define BASIC_TRUE_CTLS (1ull << 55)
#define EPT_CAP_WALK4 (1ull << 6)
#define EPT_CAP_WB (1ull << 14)
#define EPT_CAP_INVEPT (1ull << 20)
#define EPT_CAP_INVEPT_SINGLE (1ull << 25)
#define EPT_CAP_INVEPT_ALL (1ull << 26)
#define VPID_CAP_INVVPID (1ull << 32)
#define VPID_CAP_INVVPID_SINGLE (1ull << 41)
#define XCR0_X87 0x1ull

struct vh_vmx_caps vh_vmx;

static struct vh_vmx_ctl ctl_from(uint32_t msr)
{
	uint64_t v = rdmsr(msr);

	return (struct vh_vmx_ctl){ .must1 = (uint32_t)v, .may1 = (uint32_t)(v >> 32) };
}

uint32_t vh_vmx_ctl(const struct vh_vmx_ctl *c, uint32_t want)
{
	return (want | c->must1) & c->may1;
}

/* The list of missing features, comma separated, for one message. */
struct missing {
	char text[400];
	size_t len;
	unsigned n;
};

static void need(struct missing *m, bool have, const char *what)
{
	if (have)
		return;
	m->len +=
	    vh_snprintf(m->text + m->len, m->len < sizeof(m->text) ? sizeof(m->text) - m->len : 0,
			"%s%s", m->n ? ", " : "", what);
	if (m->len >= sizeof(m->text))
		m->len = sizeof(m->text) - 1;
	m->n++;
}

static void probe_fpu(void)
{
	uint32_t a, b, c, d;

	if (!(cpuid_ecx(1) & CPUID1_ECX_XSAVE))
		return;
	cpuid(0xd, 0, &a, &b, &c, &d);
	vh_vmx.xcr0_supported = ((uint64_t)d << 32) | a;
	vh_vmx.xsave_size = c; /* every supported component */
}

bool vh_vmx_probe(void)
{
	struct missing m = { .len = 0 };
	uint64_t fc;

	if (!(cpuid_ecx(1) & CPUID1_ECX_VMX)) {
		vh_console_printf(
		    "vh: vmx: this CPU has no VT-x (VMX); vh cannot run guests here\n");
		return false;
	}
	fc = rdmsr(MSR_IA32_FEATURE_CONTROL);
	if ((fc & FC_LOCKED) && !(fc & FC_VMX_OUTSIDE_SMX)) {
		vh_console_printf("vh: vmx: VT-x is disabled by the firmware (IA32_FEATURE_CONTROL "
				  "locked with VMX off); enable it in the firmware setup\n");
		return false;
	}
	uint64_t basic = rdmsr(MSR_VMX_BASIC);
	vh_vmx.revision = (uint32_t)basic & 0x7fffffff;
	vh_vmx.true_ctls = (basic & BASIC_TRUE_CTLS) != 0;
	vh_vmx.pin = ctl_from(vh_vmx.true_ctls ? MSR_VMX_TRUE_PINBASED : MSR_VMX_PINBASED);
	vh_vmx.proc = ctl_from(vh_vmx.true_ctls ? MSR_VMX_TRUE_PROCBASED : MSR_VMX_PROCBASED);
	vh_vmx.exit = ctl_from(vh_vmx.true_ctls ? MSR_VMX_TRUE_EXIT : MSR_VMX_EXIT);
	vh_vmx.entry = ctl_from(vh_vmx.true_ctls ? MSR_VMX_TRUE_ENTRY : MSR_VMX_ENTRY);
	if (vh_vmx.proc.may1 & PROC_SECONDARY)
		vh_vmx.proc2 = ctl_from(MSR_VMX_PROCBASED2);
	if (vh_vmx.proc2.may1 & (PROC2_EPT | PROC2_VPID))
		vh_vmx.ept_vpid = rdmsr(MSR_VMX_EPT_VPID_CAP);
	vh_vmx.misc = rdmsr(MSR_VMX_MISC);
	vh_vmx.preempt_shift = (unsigned)(vh_vmx.misc & 0x1f);
	vh_vmx.cr0_fixed0 = rdmsr(MSR_VMX_CR0_FIXED0);
	vh_vmx.cr0_fixed1 = rdmsr(MSR_VMX_CR0_FIXED1);
	vh_vmx.cr4_fixed0 = rdmsr(MSR_VMX_CR4_FIXED0);
	vh_vmx.cr4_fixed1 = rdmsr(MSR_VMX_CR4_FIXED1);
	probe_fpu();

	bool secondary = (vh_vmx.proc.may1 & PROC_SECONDARY) != 0;
	need(&m, secondary, "secondary processor-based controls");
	need(&m, !secondary || (vh_vmx.proc2.may1 & PROC2_EPT), "EPT");
	need(&m, !secondary || (vh_vmx.proc2.may1 & PROC2_UNRESTRICTED), "unrestricted guest");
	need(&m, !secondary || (vh_vmx.proc2.may1 & PROC2_VPID), "VPID");
	need(&m, vh_vmx.pin.may1 & PIN_PREEMPTION_TIMER, "VMX-preemption timer");
	need(&m, (vh_vmx.pin.may1 & (PIN_EXTINT_EXITING | PIN_NMI_EXITING)) ==
			 (PIN_EXTINT_EXITING | PIN_NMI_EXITING),
	     "external-interrupt and NMI exiting");
	need(&m, (vh_vmx.proc.may1 & (PROC_HLT_EXITING | PROC_IO_EXITING)) ==
			 (PROC_HLT_EXITING | PROC_IO_EXITING),
	     "HLT and I/O exiting");
	need(&m, !(vh_vmx.proc.must1 & (PROC_CR3_LOAD_EXITING | PROC_CR3_STORE_EXITING)),
	     "CR3 accesses without exits");
	need(&m,
	     (vh_vmx.exit.may1 & (EXIT_HOST_64 | EXIT_ACK_INTR)) == (EXIT_HOST_64 | EXIT_ACK_INTR),
	     "64-bit host and interrupt acknowledge on exit");
	need(&m,
	     (vh_vmx.exit.may1 &
	      (EXIT_SAVE_EFER | EXIT_LOAD_EFER | EXIT_SAVE_PAT | EXIT_LOAD_PAT)) ==
		 (EXIT_SAVE_EFER | EXIT_LOAD_EFER | EXIT_SAVE_PAT | EXIT_LOAD_PAT),
	     "EFER and PAT switching on exit");
	need(&m, (vh_vmx.entry.may1 & (ENTRY_LOAD_EFER | ENTRY_LOAD_PAT | ENTRY_GUEST_64)) ==
			 (ENTRY_LOAD_EFER | ENTRY_LOAD_PAT | ENTRY_GUEST_64),
	     "EFER, PAT and IA-32e guest on entry");
	if (secondary && (vh_vmx.proc2.may1 & PROC2_EPT)) {
		need(&m, vh_vmx.ept_vpid & EPT_CAP_WALK4, "EPT 4-level walk");
		need(&m, vh_vmx.ept_vpid & EPT_CAP_WB, "write-back EPT tables");
		need(&m, (vh_vmx.ept_vpid & (EPT_CAP_INVEPT | EPT_CAP_INVEPT_SINGLE)) ==
				 (EPT_CAP_INVEPT | EPT_CAP_INVEPT_SINGLE),
		     "single-context INVEPT");
	}
	if (secondary && (vh_vmx.proc2.may1 & PROC2_VPID))
		need(&m, (vh_vmx.ept_vpid & (VPID_CAP_INVVPID | VPID_CAP_INVVPID_SINGLE)) ==
				 (VPID_CAP_INVVPID | VPID_CAP_INVVPID_SINGLE),
		     "single-context INVVPID");
	if (m.n) {
		vh_console_printf("vh: vmx: this CPU's VT-x lacks what vh needs: %s; vh cannot run "
				  "guests here\n", m.text);
		return false;
	}
	vh_console_printf(
	    "vh: vmx: VT-x with EPT, VPID, unrestricted guest, preemption timer "
	    "(TSC/%u), VMCS revision %#x, %s controls, FPU state %s %u bytes\n",
	    1u << vh_vmx.preempt_shift, vh_vmx.revision, vh_vmx.true_ctls ? "TRUE_*" : "default1",
	    vh_vmx.xsave_size ? "XSAVE" : "FXSAVE", vh_vmx.xsave_size ? vh_vmx.xsave_size : 512);
	return true;
}

bool vh_vmx_cpu_on(void)
{
	struct vh_cpu *c = vh_this_cpu();
	uint64_t fc = rdmsr(MSR_IA32_FEATURE_CONTROL);

	if (!(fc & FC_LOCKED))
		wrmsr(MSR_IA32_FEATURE_CONTROL, fc | FC_LOCKED | FC_VMX_OUTSIDE_SMX);
	else if (!(fc & FC_VMX_OUTSIDE_SMX)) {
		vh_console_printf("vh: vmx: cpu %u: VT-x disabled by the firmware\n", c->index);
		return false;
	}
	/* VMX operation pins some CR0/CR4 bits (the FIXED MSRs). */
	write_cr0((read_cr0() | vh_vmx.cr0_fixed0) & vh_vmx.cr0_fixed1);
	write_cr4((read_cr4() | vh_vmx.cr4_fixed0 | CR4_VMXE) & vh_vmx.cr4_fixed1);
	if (vh_vmx.xsave_size)
		xsetbv(0, vh_vmx.xcr0_supported);

	if (!c->vmx && !(c->vmx = vh_heap_alloc(sizeof(*c->vmx), 64)))
		return false;
	if (!c->vmx->vmxon_region && !(c->vmx->vmxon_region = vh_heap_alloc_page()))
		return false;
	*(uint32_t *)c->vmx->vmxon_region = vh_vmx.revision;
	if (!vh_vmxon((uint64_t)(uintptr_t)c->vmx->vmxon_region)) {
		vh_console_printf("vh: vmx: cpu %u: VMXON failed\n", c->index);
		return false;
	}
	/* Nothing cached from before VMXON (firmware, a previous kernel)
	 * may survive. */
	vh_invept_all();
	return true;
}
