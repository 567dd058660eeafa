/* SPDX-License-Identifier: Apache-2.0 */
/* The exit table (Jailhouse/ACRN style): basic exit reason -> handler,
 * the counter it lands in, and a name for logs.  Exits vh does not enable
 * have vh_exit_unexpected (the whole table starts as that, the rows below
 * override it): should one happen anyway, the VM stops with its name, and
 * the dispatcher tests no NULL.  Q() marks the exits that cannot make the
 * guest's local APIC deliver anything (exit.h, apic_look clear), all of
 * them an instruction's; I() the other exits of an instruction, which
 * never come during an event's delivery (exit.h, insn); E() is the safe
 * default for the rest. */
#include "exit.h"
#include "vh/compiler.h"
#include "vmx_vcpu.h"

#define E(reason, fn, k, n) [reason] = { fn, n, VH_EXIT_##k, true, false }
#define I(reason, fn, k, n) [reason] = { fn, n, VH_EXIT_##k, true, true }
#define Q(reason, fn, k, n) [reason] = { fn, n, VH_EXIT_##k, false, true }
#define NONE vh_exit_unexpected

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverride-init"
const struct vh_exit_entry vh_exit_table[] = {
	[0 ... VH_VMX_EXIT_REASONS - 1] = { NONE, 0, VH_EXIT_OTHER, true, false },
	E(0, vh_exit_exception, EXCEPTION, "exception or NMI"),
	E(1, vh_exit_extint, EXTERNAL_INTERRUPT, "external interrupt"),
	E(2, vh_exit_triple_fault, TRIPLE_FAULT, "triple fault"),
	E(3, vh_exit_ignore, OTHER, "INIT signal"),
	E(4, vh_exit_ignore, OTHER, "SIPI"),
	E(7, vh_exit_intr_window, OTHER, "interrupt window"),
	E(9, NONE, OTHER, "task switch"),
	Q(10, vh_exit_cpuid, CPUID, "CPUID"),
	I(11, vh_exit_undefined, OTHER, "GETSEC"),
	I(12, vh_exit_hlt, HLT, "HLT"),
	Q(13, vh_exit_nop, OTHER, "INVD"),
	I(15, vh_exit_gp, OTHER, "RDPMC"),
	Q(18, vh_exit_vmcall, HYPERCALL, "VMCALL"),
	/* VMX is not virtualised: its instructions are undefined in a guest. */
	I(19, vh_exit_undefined, OTHER, "VMCLEAR"),
	I(20, vh_exit_undefined, OTHER, "VMLAUNCH"),
	I(21, vh_exit_undefined, OTHER, "VMPTRLD"),
	I(22, vh_exit_undefined, OTHER, "VMPTRST"),
	I(23, vh_exit_undefined, OTHER, "VMREAD"),
	I(24, vh_exit_undefined, OTHER, "VMRESUME"),
	I(25, vh_exit_undefined, OTHER, "VMWRITE"),
	I(26, vh_exit_undefined, OTHER, "VMXOFF"),
	I(27, vh_exit_undefined, OTHER, "VMXON"),
	I(28, vh_exit_cr, CR_ACCESS, "control-register access"),
	I(29, vh_exit_dr, OTHER, "debug-register access"),
	Q(30, vh_exit_io, IO, "I/O instruction"),
	Q(31, vh_exit_rdmsr, MSR, "RDMSR"),
	I(32, vh_exit_wrmsr, MSR, "WRMSR"),
	E(33, NONE, OTHER, "VM-entry failure: invalid guest state"),
	E(34, NONE, OTHER, "VM-entry failure: MSR loading"),
	I(36, vh_exit_undefined, OTHER, "MWAIT"),
	I(39, vh_exit_undefined, OTHER, "MONITOR"),
	E(41, NONE, OTHER, "VM-entry failure: machine check"),
	E(48, vh_exit_ept_violation, EPT_VIOLATION, "EPT violation"),
	E(49, vh_exit_ept_misconfig, EPT_VIOLATION, "EPT misconfiguration"),
	I(50, vh_exit_undefined, OTHER, "INVEPT"),
	E(52, vh_exit_preempt_timer, PREEMPTION_TIMER, "VMX-preemption timer"),
	I(53, vh_exit_undefined, OTHER, "INVVPID"),
	Q(54, vh_exit_nop, OTHER, "WBINVD"),
	Q(55, vh_exit_xsetbv, XSETBV, "XSETBV"),
	I(59, vh_exit_undefined, OTHER, "VMFUNC"),
	E(69, NONE, OTHER, "(last)"),
};
#pragma GCC diagnostic pop

const unsigned vh_exit_table_len = VH_ARRAY_SIZE(vh_exit_table);

/* The dispatcher checks a reason once, against VH_VMX_EXIT_REASONS, and
 * counts it in vv->reason_exits[] of the same size. */
VH_STATIC_ASSERT(VH_ARRAY_SIZE(vh_exit_table) == VH_VMX_EXIT_REASONS,
		 "one exit table entry per counted exit reason");
