/* SPDX-License-Identifier: Apache-2.0 */
/* The exit path's rare cases (the dispatcher itself is inline in exit.h:
 * count the exit, keep an event whose delivery it interrupted, call the
 * handler from the table) and the helpers handlers share (registers,
 * exception injection, CR0/CR4 as the guest sees them). */
#include <stdarg.h>
#include <stdint.h>

#include "console.h"
#include "cpu.h"
#include "exit.h"
#include "spinlock.h"
#include "vh/compiler.h"
#include "vh/format.h"
#include "vh/host.h"
#include "vh/vm.h"
#include "vmcs_fields.h"
#include "vmx_insn.h"
#include "vmx_vcpu.h"

/* VMX numbers registers rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi, r8..r15;
 * struct vh_guest_regs has the same order without rsp (in the VMCS). */
uint64_t vh_exit_gpr(struct vh_vmx_vcpu *vv, unsigned index)
{
	const uint64_t *r = &vv->regs.rax;

	index &= 15;
	if (index == 4)
		return vh_vmread(VMCS_GUEST_RSP);
	return r[index < 4 ? index : index - 1];
}

void vh_exit_set_gpr(struct vh_vmx_vcpu *vv, unsigned index, uint64_t v)
{
	uint64_t *r = &vv->regs.rax;

	index &= 15;
	if (index == 4)
		vh_vmwrite(VMCS_GUEST_RSP, v);
	else
		r[index < 4 ? index : index - 1] = v;
}

void vh_exit_inject_exception(struct vh_vmx_vcpu *vv, uint8_t vector, bool has_error,
			      uint32_t error)
{
	/* An event the exit interrupted goes first; a second one would be
	 * a double fault, which a guest that got here does not need. */
	if (vv->inject_info & INTR_INFO_VALID)
		return;
	/* In real mode an exception pushes no error code, and VM entry
	 * refuses one (SDM 26.2.1.3): an unrestricted guest's #GP there
	 * once failed the entry and crashed the VM. */
	if (!(vh_vmread(VMCS_GUEST_CR0) & CR0_PE))
		has_error = false;
	vv->inject_info = INTR_INFO_VALID | INTR_TYPE_HW_EXCEPTION | vector |
			  (has_error ? INTR_INFO_ERROR_CODE : 0);
	vv->inject_error = error;
	vv->inject_len = 0;
	vv->apic_check = true; /* the loop's sign that an entry has work */
}

/* What the guest reads from CR0/CR4: the bits vh owns (the guest/host
 * mask) come from the read shadow, every other bit from the real register.
 * The shadow alone is stale: a guest write that leaves the owned bits
 * alone (setting CR0.PE on an AP, CR4.OSXSAVE) does not exit. */
uint64_t vh_exit_guest_cr0(void)
{
	uint64_t mask = vh_vmread(VMCS_CR0_MASK);

	return (vh_vmread(VMCS_GUEST_CR0) & ~mask) | (vh_vmread(VMCS_CR0_SHADOW) & mask);
}

uint64_t vh_exit_guest_cr4(void)
{
	uint64_t mask = vh_vmread(VMCS_CR4_MASK);

	return (vh_vmread(VMCS_GUEST_CR4) & ~mask) | (vh_vmread(VMCS_CR4_SHADOW) & mask);
}

enum vh_exit_action vh_exit_crash(struct vh_exit *x, const char *fmt, ...)
{
	char why[160];
	va_list ap;

	va_start(ap, fmt);
	vh_vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	x->h->plat->lock(x->h->plat->ctx);
	vh_vm_crash(x->h, x->vm, why);
	x->h->plat->unlock(x->h->plat->ctx);
	return VH_EXIT_GONE;
}

/* trace-exits=N on the command line: the first N exits on the console,
 * for debugging a guest that goes wrong early. */
unsigned long vh_exit_trace_left;

/* The rare paths of vh_exit_dispatch (exit.h), out of its way. */
void vh_exit_requeue_event(struct vh_vmx_vcpu *vv, uint32_t idt)
{
	vv->inject_info = idt & ~(1u << 12);
	vv->apic_check = true; /* the loop's sign that an entry has work */
	vv->inject_error = (uint32_t)vh_vmread(VMCS_IDT_VECTORING_ERROR);
	vv->inject_len = (uint32_t)vh_vmread(VMCS_EXIT_INSN_LEN);
}

/* The handler of the exits vh never asked for (counted by the
 * dispatcher like any other). */
enum vh_exit_action vh_exit_unexpected(struct vh_exit *x)
{
	const char *name = x->reason < VH_VMX_EXIT_REASONS && vh_exit_names[x->reason]
				   ? vh_exit_names[x->reason]
				   : "unknown";

	return vh_exit_crash(x, "unexpected VM exit %u (%s) at rip %#llx", x->reason, name,
			     (unsigned long long)vh_vmread(VMCS_GUEST_RIP));
}

/* A reason past the table: counted as OTHER, nowhere by reason. */
enum vh_exit_action vh_exit_unknown_reason(struct vh_exit *x)
{
	x->vcpu->exits[VH_EXIT_OTHER]++;
	return vh_exit_unexpected(x);
}

void vh_exit_trace(struct vh_exit *x)
{
	const char *name = vh_exit_names[x->reason] ? vh_exit_names[x->reason] : "?";

	vh_console_printf("vh: exit vm=%s vcpu=%u reason=%u (%s) qual=%#llx rip=%#llx rax=%#llx\n",
			  x->vm->cfg.name, x->vcpu->index, x->reason, name,
			  (unsigned long long)vh_vmread(VMCS_EXIT_QUALIFICATION),
			  (unsigned long long)vh_vmread(VMCS_GUEST_RIP),
			  (unsigned long long)x->vv->regs.rax);
}

/* ---- small handlers ---- */

enum vh_exit_action vh_exit_undefined(struct vh_exit *x)
{
	vh_exit_inject_exception(x->vv, VH_EXC_UD, false, 0);
	return VH_EXIT_RESUME;
}

enum vh_exit_action vh_exit_gp(struct vh_exit *x)
{
	vh_exit_inject_exception(x->vv, VH_EXC_GP, true, 0);
	return VH_EXIT_RESUME;
}

/* INVD and WBINVD: caches are coherent and the guest owns no cache it
 * could need written back for a device; nothing to do. */
enum vh_exit_action vh_exit_nop(struct vh_exit *x)
{
	vh_exit_skip(x->vv);
	return VH_EXIT_RESUME;
}

/* INIT and SIPI to a CPU in VMX operation: vh never sends them to a CPU
 * running a guest; a stray one is dropped. */
enum vh_exit_action vh_exit_ignore(struct vh_exit *x)
{
	(void)x;
	return VH_EXIT_RESUME;
}

enum vh_exit_action vh_exit_triple_fault(struct vh_exit *x)
{
	return vh_exit_crash(x, "triple fault at rip %#llx (vcpu %u)",
			     (unsigned long long)vh_vmread(VMCS_GUEST_RIP), x->vcpu->index);
}

enum vh_exit_action vh_exit_preempt_timer(struct vh_exit *x)
{
	(void)x;
	return VH_EXIT_RESUME; /* the loop sees the quantum's end */
}

enum vh_exit_action vh_exit_intr_window(struct vh_exit *x)
{
	(void)x;
	vh_vmwrite(VMCS_PROC_CONTROLS, vh_vmread(VMCS_PROC_CONTROLS) & ~(uint64_t)PROC_INTR_WINDOW);
	return VH_EXIT_RESUME;
}
