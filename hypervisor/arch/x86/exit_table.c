/* SPDX-License-Identifier: Apache-2.0 */
/* The exit table (Jailhouse/ACRN style): basic exit reason -> handler,
 * the counter it lands in, and a name for logs.  Exits vh does not enable
 * have no handler: should one happen anyway, the VM stops with its name.
 * Q() marks the exits that cannot make the guest's local APIC deliver
 * anything (exit.h, apic_quiet); E() is the safe default for the rest. */
#include "exit.h"
#include "vh/compiler.h"
#include "vmx_vcpu.h"

#define E(reason, fn, k, n) [reason] = { fn, VH_EXIT_##k, false, n }
#define Q(reason, fn, k, n) [reason] = { fn, VH_EXIT_##k, true, n }

const struct vh_exit_entry vh_exit_table[] = {
	E(0, vh_exit_exception, EXCEPTION, "exception or NMI"),
	E(1, vh_exit_extint, EXTERNAL_INTERRUPT, "external interrupt"),
	E(2, vh_exit_triple_fault, TRIPLE_FAULT, "triple fault"),
	E(3, vh_exit_ignore, OTHER, "INIT signal"),
	E(4, vh_exit_ignore, OTHER, "SIPI"),
	E(7, vh_exit_intr_window, OTHER, "interrupt window"),
	E(9, 0, OTHER, "task switch"),
	Q(10, vh_exit_cpuid, CPUID, "CPUID"),
	E(11, vh_exit_undefined, OTHER, "GETSEC"),
	E(12, vh_exit_hlt, HLT, "HLT"),
	Q(13, vh_exit_nop, OTHER, "INVD"),
	E(15, vh_exit_gp, OTHER, "RDPMC"),
	Q(18, vh_exit_vmcall, HYPERCALL, "VMCALL"),
	/* VMX is not virtualised: its instructions are undefined in a guest. */
	E(19, vh_exit_undefined, OTHER, "VMCLEAR"),
	E(20, vh_exit_undefined, OTHER, "VMLAUNCH"),
	E(21, vh_exit_undefined, OTHER, "VMPTRLD"),
	E(22, vh_exit_undefined, OTHER, "VMPTRST"),
	E(23, vh_exit_undefined, OTHER, "VMREAD"),
	E(24, vh_exit_undefined, OTHER, "VMRESUME"),
	E(25, vh_exit_undefined, OTHER, "VMWRITE"),
	E(26, vh_exit_undefined, OTHER, "VMXOFF"),
	E(27, vh_exit_undefined, OTHER, "VMXON"),
	E(28, vh_exit_cr, CR_ACCESS, "control-register access"),
	E(29, vh_exit_dr, OTHER, "debug-register access"),
	Q(30, vh_exit_io, IO, "I/O instruction"),
	Q(31, vh_exit_rdmsr, MSR, "RDMSR"),
	E(32, vh_exit_wrmsr, MSR, "WRMSR"),
	E(33, 0, OTHER, "VM-entry failure: invalid guest state"),
	E(34, 0, OTHER, "VM-entry failure: MSR loading"),
	E(36, vh_exit_undefined, OTHER, "MWAIT"),
	E(39, vh_exit_undefined, OTHER, "MONITOR"),
	E(41, 0, OTHER, "VM-entry failure: machine check"),
	E(48, vh_exit_ept_violation, EPT_VIOLATION, "EPT violation"),
	E(49, vh_exit_ept_misconfig, EPT_VIOLATION, "EPT misconfiguration"),
	E(50, vh_exit_undefined, OTHER, "INVEPT"),
	E(52, vh_exit_preempt_timer, PREEMPTION_TIMER, "VMX-preemption timer"),
	E(53, vh_exit_undefined, OTHER, "INVVPID"),
	Q(54, vh_exit_nop, OTHER, "WBINVD"),
	Q(55, vh_exit_xsetbv, XSETBV, "XSETBV"),
	E(59, vh_exit_undefined, OTHER, "VMFUNC"),
	E(69, 0, OTHER, "(last)"),
};

const unsigned vh_exit_table_len = VH_ARRAY_SIZE(vh_exit_table);

/* The dispatcher checks a reason once, against VH_VMX_EXIT_REASONS, and
 * counts it in vv->reason_exits[] of the same size. */
VH_STATIC_ASSERT(VH_ARRAY_SIZE(vh_exit_table) == VH_VMX_EXIT_REASONS,
		 "one exit table entry per counted exit reason");
