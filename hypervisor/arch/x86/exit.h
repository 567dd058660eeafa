/* SPDX-License-Identifier: Apache-2.0 */
/* VM-exit handling: one handler per basic exit reason, found in a table
 * (exit_table.c); each returns what the vCPU loop does next. */
#ifndef VH_X86_EXIT_H
#define VH_X86_EXIT_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu.h"
#include "vh/compiler.h"
#include "vh/stats.h"
#include "vh/vm.h"
#include "vmcs_fields.h"
#include "vmx_insn.h"
#include "vmx_vcpu.h"

/* The rare paths of the exit code, kept out of the hot ones' way. */
#define VH_EXIT_COLD __attribute__((noinline, cold))

struct vh_host;
struct vh_vm;
struct vh_vcpu;
struct vh_vmx_vcpu;

enum vh_exit_action {
	VH_EXIT_RESUME,  /* enter the guest again */
	VH_EXIT_PREEMPT, /* back to the scheduler: the vCPU is still runnable */
	VH_EXIT_YIELD,   /* back to the scheduler: give the rest away */
	VH_EXIT_HALT,    /* back to the scheduler: blocked until wake_at or a wake */
	VH_EXIT_GONE,    /* the VM stopped or crashed: never enter it again */
};

/* No clock reading here: the exits on the hot path need none, and the
 * handlers that do (EPT violations, HLT) read vh_now_ns() themselves. */
struct vh_exit {
	struct vh_host *h;
	struct vh_vm *vm;
	struct vh_vcpu *vcpu;
	struct vh_vmx_vcpu *vv;
	uint32_t reason;       /* basic exit reason */
	uint64_t qual;         /* exit qualification: read by the handlers that use it */
	uint64_t wake_at;      /* with VH_EXIT_HALT: the guest's next timer, 0: none */
};

typedef enum vh_exit_action (*vh_exit_handler)(struct vh_exit *x);

struct vh_exit_entry {
	vh_exit_handler handler;
	uint8_t kind; /* enum vh_exit_kind: how it is counted (a handler may refine it) */
	/* Something this exit does may give the guest's local APIC an
	 * interrupt to deliver (an APIC access, a TPR write, a window
	 * opening): it sets vv->apic_check.  The others ("APIC-quiet": no
	 * such thing) let the loop skip the APIC check, and the host lock,
	 * before the next entry. */
	bool apic_look;
	/* An instruction's exit (CPUID, I/O, VMCALL, MSRs, ...): it never
	 * interrupts an event's delivery, so its IDT-vectoring information
	 * is not read (SDM 27.2.4). */
	bool insn;
};

/* Indexed by basic exit reason, one entry for each (VH_VMX_EXIT_REASONS);
 * an exit vh never asked for has vh_exit_unexpected for its handler: the
 * VM is stopped with the reason named. */
extern const struct vh_exit_entry vh_exit_table[];
extern const unsigned vh_exit_table_len;
/* The reasons' names for logs, by basic exit reason (NULL: none). */
extern const char *const vh_exit_names[VH_VMX_EXIT_REASONS];

extern unsigned long vh_exit_trace_left;

/* The rare paths of vh_exit_dispatch (exit.c). */
VH_EXIT_COLD void vh_exit_requeue_event(struct vh_vmx_vcpu *vv, uint32_t idt_info);
VH_EXIT_COLD enum vh_exit_action vh_exit_unexpected(struct vh_exit *x);
VH_EXIT_COLD enum vh_exit_action vh_exit_unknown_reason(struct vh_exit *x);
VH_EXIT_COLD void vh_exit_trace(struct vh_exit *x);

/* Re-queues an event the exit interrupted, counts the exit (by reason
 * and by kind, per vCPU), notes whether the APIC needs a look, and calls
 * the handler.  x->reason is below VH_VMX_EXIT_REASONS (the loop checks,
 * vh_exit_unknown_reason() takes the others).  Inline in the CPU loop:
 * every exit passes here, and the whole of it is about twenty
 * instructions (docs/baremetal.md, "Exit cost"). */
static inline enum vh_exit_action vh_exit_dispatch(struct vh_exit *x)
{
	struct vh_vmx_vcpu *vv = x->vv;
	const struct vh_exit_entry *e;
	vh_exit_handler handler;
	unsigned kind;
	bool look;

	/* The row read once, into registers: the VMREAD below is a
	 * barrier the compiler would otherwise index the table again after. */
	e = &vh_exit_table[x->reason];
	handler = e->handler;
	kind = e->kind;
	look = e->apic_look;
	/* The exit interrupted the delivery of an event (an EPT violation
	 * on the guest's IDT or stack, say): deliver it again. */
	if (!e->insn) {
		uint32_t idt = (uint32_t)vh_vmread(VMCS_IDT_VECTORING_INFO);

		if (VH_UNLIKELY(idt & INTR_INFO_VALID))
			vh_exit_requeue_event(vv, idt);
	}
	vv->reason_exits[x->reason]++;
	vv->apic_check |= look;
	/* Counted before the handler, which may move the count to a
	 * finer kind (vh_exit_recount). */
	x->vcpu->exits[kind]++;
	if (VH_UNLIKELY(vh_exit_trace_left) &&
	    __atomic_fetch_sub(&vh_exit_trace_left, 1, __ATOMIC_RELAXED))
		vh_exit_trace(x);
	return handler(x);
}

/* A handler that finds its exit is of a finer kind than the table's
 * (an EPT violation that is an MMIO access) moves its count there. */
static inline void vh_exit_recount(struct vh_exit *x, enum vh_exit_kind kind)
{
	x->vcpu->exits[vh_exit_table[x->reason].kind]--;
	x->vcpu->exits[kind]++;
}

/* ---- helpers the handlers share (exit.c) ---- */
uint64_t vh_exit_gpr(struct vh_vmx_vcpu *vv, unsigned index); /* 4 = RSP from the VMCS */
void vh_exit_set_gpr(struct vh_vmx_vcpu *vv, unsigned index, uint64_t v);

/* Moves RIP past the exiting instruction and ends STI/MOV-SS blocking
 * (inline: most exits end with it). */
static inline void vh_exit_skip(struct vh_vmx_vcpu *vv)
{
	uint64_t len = vh_vmread(VMCS_EXIT_INSN_LEN);
	uint64_t irq = vh_vmread(VMCS_GUEST_INTERRUPTIBILITY);

	(void)vv;
	vh_vmwrite_hot(VMCS_GUEST_RIP, vh_vmread(VMCS_GUEST_RIP) + len);
	if (VH_UNLIKELY(irq & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS)))
		vh_vmwrite(VMCS_GUEST_INTERRUPTIBILITY,
			   irq & ~(uint64_t)(INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS));
}

void vh_exit_inject_exception(struct vh_vmx_vcpu *vv, uint8_t vector, bool has_error,
			      uint32_t error);
#define VH_EXC_UD 6
#define VH_EXC_GP 13

static inline unsigned vh_exit_guest_cpl(void)
{
	return (unsigned)(vh_vmread(VMCS_GUEST_SS_AR) >> 5) & 3;
}

static inline bool vh_exit_guest_long_mode(void)
{
	return (vh_vmread(VMCS_GUEST_EFER) & EFER_LMA) != 0;
}

/* CR0 and CR4 as the guest reads them (mask bits from the shadows). */
uint64_t vh_exit_guest_cr0(void);
uint64_t vh_exit_guest_cr4(void);
/* Stops the VM with a reason on the console (host lock taken here). */
enum vh_exit_action vh_exit_crash(struct vh_exit *x, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Handlers, one file per concern. */
enum vh_exit_action vh_exit_cpuid(struct vh_exit *x);
/* The guest-physical address width the guest's CPUID reports (vh/cpuid.h). */
unsigned vh_exit_guest_phys_bits(void);
/* The CPU model's view of a new vCPU (its VM's vCPU count, its index). */
void vh_exit_cpuid_setup(struct vh_vmx_vcpu *vv);
enum vh_exit_action vh_exit_io(struct vh_exit *x);
enum vh_exit_action vh_exit_rdmsr(struct vh_exit *x);
enum vh_exit_action vh_exit_wrmsr(struct vh_exit *x);
/* Puts the vCPU's VH_MSR_LOADED copies in the real MSRs (exit_msr.c);
 * false when the CPU refused one (that copy is reset to 0). */
bool vh_exit_load_msrs(struct vh_vmx_vcpu *vv);
/* Reads back into the copies what the guest changes without an exit
 * (KERNEL_GS_BASE, by SWAPGS); before the vCPU leaves the CPU. */
void vh_exit_save_msrs(struct vh_vmx_vcpu *vv);
enum vh_exit_action vh_exit_cr(struct vh_exit *x);
enum vh_exit_action vh_exit_dr(struct vh_exit *x);
enum vh_exit_action vh_exit_xsetbv(struct vh_exit *x);
enum vh_exit_action vh_exit_ept_violation(struct vh_exit *x);
enum vh_exit_action vh_exit_ept_misconfig(struct vh_exit *x);
enum vh_exit_action vh_exit_vmcall(struct vh_exit *x);
/* The hypercall itself, shared by VMCALL and the port form (RIP is the
 * caller's to advance). */
enum vh_exit_action vh_exit_hypercall_regs(struct vh_exit *x);
enum vh_exit_action vh_exit_hlt(struct vh_exit *x);
enum vh_exit_action vh_exit_extint(struct vh_exit *x);
enum vh_exit_action vh_exit_preempt_timer(struct vh_exit *x);
enum vh_exit_action vh_exit_triple_fault(struct vh_exit *x);
enum vh_exit_action vh_exit_exception(struct vh_exit *x);
enum vh_exit_action vh_exit_intr_window(struct vh_exit *x);
enum vh_exit_action vh_exit_undefined(struct vh_exit *x);
enum vh_exit_action vh_exit_gp(struct vh_exit *x);
enum vh_exit_action vh_exit_nop(struct vh_exit *x);
enum vh_exit_action vh_exit_ignore(struct vh_exit *x);

#endif
