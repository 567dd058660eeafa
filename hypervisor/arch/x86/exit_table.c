/* SPDX-License-Identifier: Apache-2.0 */
/* The exit table (Jailhouse/ACRN style): basic exit reason -> handler,
 * the counter it lands in, and a name for logs.  Exits vh does not enable
 * have vh_exit_unexpected (the whole table starts as that, the rows below
 * override it): should one happen anyway, the VM stops with its name, and
 * the dispatcher tests no NULL.  Q() marks the exits that cannot make the
 * guest's local APIC deliver anything (exit.h, apic_look clear), all of
 * them an instruction's; I() the other exits of an instruction, which
 * never come during an event's delivery (exit.h, insn); E() is the safe
 * default for the rest.  The rows are listed once (VH_EXITS) and expanded
 * twice: the table every exit reads, 16 bytes a row, and the names only
 * the rare paths print. */
#include "exit.h"
#include "vh/compiler.h"
#include "vmx_vcpu.h"

#define NONE vh_exit_unexpected

#define VH_EXITS(X) \
	X(E, 0, vh_exit_exception, EXCEPTION, "exception or NMI") \
	X(E, 1, vh_exit_extint, EXTERNAL_INTERRUPT, "external interrupt") \
	X(E, 2, vh_exit_triple_fault, TRIPLE_FAULT, "triple fault") \
	X(E, 3, vh_exit_ignore, OTHER, "INIT signal") \
	X(E, 4, vh_exit_ignore, OTHER, "SIPI") \
	X(E, 7, vh_exit_intr_window, OTHER, "interrupt window") \
	X(E, 9, NONE, OTHER, "task switch") \
	X(Q, 10, vh_exit_cpuid, CPUID, "CPUID") \
	X(I, 11, vh_exit_undefined, OTHER, "GETSEC") \
	X(I, 12, vh_exit_hlt, HLT, "HLT") \
	X(Q, 13, vh_exit_nop, OTHER, "INVD") \
	X(I, 15, vh_exit_gp, OTHER, "RDPMC") \
	X(Q, 18, vh_exit_vmcall, HYPERCALL, "VMCALL") \
	/* VMX is not virtualised: its instructions are undefined in a guest. */ \
	X(I, 19, vh_exit_undefined, OTHER, "VMCLEAR") \
	X(I, 20, vh_exit_undefined, OTHER, "VMLAUNCH") \
	X(I, 21, vh_exit_undefined, OTHER, "VMPTRLD") \
	X(I, 22, vh_exit_undefined, OTHER, "VMPTRST") \
	X(I, 23, vh_exit_undefined, OTHER, "VMREAD") \
	X(I, 24, vh_exit_undefined, OTHER, "VMRESUME") \
	X(I, 25, vh_exit_undefined, OTHER, "VMWRITE") \
	X(I, 26, vh_exit_undefined, OTHER, "VMXOFF") \
	X(I, 27, vh_exit_undefined, OTHER, "VMXON") \
	X(I, 28, vh_exit_cr, CR_ACCESS, "control-register access") \
	X(I, 29, vh_exit_dr, OTHER, "debug-register access") \
	X(Q, 30, vh_exit_io, IO, "I/O instruction") \
	X(Q, 31, vh_exit_rdmsr, MSR, "RDMSR") \
	X(I, 32, vh_exit_wrmsr, MSR, "WRMSR") \
	X(E, 33, NONE, OTHER, "VM-entry failure: invalid guest state") \
	X(E, 34, NONE, OTHER, "VM-entry failure: MSR loading") \
	X(I, 36, vh_exit_undefined, OTHER, "MWAIT") \
	X(I, 39, vh_exit_undefined, OTHER, "MONITOR") \
	X(E, 41, NONE, OTHER, "VM-entry failure: machine check") \
	X(E, 48, vh_exit_ept_violation, EPT_VIOLATION, "EPT violation") \
	X(E, 49, vh_exit_ept_misconfig, EPT_VIOLATION, "EPT misconfiguration") \
	X(I, 50, vh_exit_undefined, OTHER, "INVEPT") \
	X(E, 52, vh_exit_preempt_timer, PREEMPTION_TIMER, "VMX-preemption timer") \
	X(I, 53, vh_exit_undefined, OTHER, "INVVPID") \
	X(Q, 54, vh_exit_nop, OTHER, "WBINVD") \
	X(Q, 55, vh_exit_xsetbv, XSETBV, "XSETBV") \
	X(I, 59, vh_exit_undefined, OTHER, "VMFUNC") \
	X(E, 69, NONE, OTHER, "(last)")

#define E(fn, k) { fn, VH_EXIT_##k, true, false }
#define I(fn, k) { fn, VH_EXIT_##k, true, true }
#define Q(fn, k) { fn, VH_EXIT_##k, false, true }
#define ROW(t, reason, fn, k, n) [reason] = t(fn, k),
#define NAME(t, reason, fn, k, n) [reason] = n,

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverride-init"
const struct vh_exit_entry vh_exit_table[] = {
	[0 ... VH_VMX_EXIT_REASONS - 1] = { NONE, VH_EXIT_OTHER, true, false },
	VH_EXITS(ROW)
};
#pragma GCC diagnostic pop

const char *const vh_exit_names[VH_VMX_EXIT_REASONS] = { VH_EXITS(NAME) };

const unsigned vh_exit_table_len = VH_ARRAY_SIZE(vh_exit_table);

/* The dispatcher checks a reason once, against VH_VMX_EXIT_REASONS, and
 * counts it in vv->reason_exits[] of the same size. */
VH_STATIC_ASSERT(VH_ARRAY_SIZE(vh_exit_table) == VH_VMX_EXIT_REASONS,
		 "one exit table entry per counted exit reason");
VH_STATIC_ASSERT(sizeof(struct vh_exit_entry) == 16, "an exit table row is 16 bytes");
