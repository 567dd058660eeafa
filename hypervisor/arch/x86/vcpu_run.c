/* SPDX-License-Identifier: Apache-2.0 */
/* A vCPU's VMCS and FPU state live on a CPU only while that CPU runs it:
 * before every call to the scheduler the CPU releases what it ran (XSAVE,
 * VMCLEAR), so the scheduler may hand the vCPU to any CPU next, and a VM
 * the scheduler has taken back (paused, stopped, undefined) is never
 * touched again.  That costs a VMCLEAR/VMPTRLD pair per quantum, not per
 * exit. */
#include <stddef.h>
#include <stdint.h>

#include "apic.h"
#include "bmvm.h"
#include "console.h"
#include "cpu.h"
#include "ept.h"
#include "exit.h"
#include "fpu.h"
#include "hv.h"
#include "machine.h"
#include "percpu.h"
#include "tsc.h"
#include "vcpu_run.h"
#include "vh/host.h"
#include "vh/loader.h"
#include "vh/sched.h"
#include "vh/vcpu_boot.h"
#include "vh/vcpu_events.h"
#include "vh/vm.h"
#include "vmcs.h"
#include "vmcs_fields.h"
#include "vmx.h"
#include "vmx_insn.h"
#include "vmx_vcpu.h"

#define PREEMPT_MAX 0xffffffffull
#define MIN_SLICE_NS (100 * VH_NSEC_PER_USEC)

/* The world switch, inline in the CPU loop: the guest's general registers
 * from vv->regs, VMLAUNCH or VMRESUME (vv->launched, set by the first
 * exit), and after the next VM exit (at vh_vmx_exit_entry, the VMCS's
 * HOST_RIP) the guest's registers back into vv->regs.  True when the entry
 * itself failed (VMfailValid/VMfailInvalid: the caller reads the
 * VM-instruction error), by a jump out of the assembly, so the exit tests
 * no flag.
 *  - Inline rather than a call to an assembly function: every register
 *    but RBP and RSP is declared clobbered, so the compiler saves only
 *    what the loop still needs across it, not all the callee-saved
 *    registers twice per exit.
 *  - The exit pushes the guest's registers straight into vv->regs: the
 *    VMCS's HOST_RSP is the end of vv->regs (vh_vmcs_load), so the exit
 *    needs no register to address them; the host's RSP (below its saved
 *    RBP, the frame pointer) waits in this CPU's vh_cpu.host_rsp.
 *  - CR2 is not switched here: the host never takes a page fault it lives
 *    through, so the guest's CR2 stays in the register while the vCPU is
 *    on this CPU (acquire() and release() carry it).
 *  - The exit half sits in its own section and jumps back, so a trace by
 *    symbol names it.
 * It must be expanded once (its label is global): run_vcpu is its only
 * caller and is never cloned. */
#define WS_LOAD(reg, off) "mov " #off "(%%rdi), %%" #reg "\n\t"
static inline __attribute__((always_inline)) bool world_switch(struct vh_vmx_vcpu *vv)
{
	uint64_t regs = (uint64_t)(uintptr_t)&vv->regs;

	__asm__ volatile goto("push %%rbp\n\t"
			      "mov %%rsp, %%gs:%c[host_rsp]\n\t"
			      /* ZF: not launched yet (movs keep the flags) */
			      "cmpb $0, %c[launched](%%rdi)\n\t"
			      WS_LOAD(rax, 0) WS_LOAD(rcx, 8) WS_LOAD(rdx, 16) WS_LOAD(rbx, 24)
			      WS_LOAD(rbp, 32) WS_LOAD(rsi, 40) WS_LOAD(r8, 56) WS_LOAD(r9, 64)
			      WS_LOAD(r10, 72) WS_LOAD(r11, 80) WS_LOAD(r12, 88) WS_LOAD(r13, 96)
			      WS_LOAD(r14, 104) WS_LOAD(r15, 112) WS_LOAD(rdi, 48)
			      "jnz 1f\n\t"
			      "vmlaunch\n\t"
			      "jmp 2f\n"
			      "1:\tvmresume\n"
			      /* Only a failed entry gets here. */
			      "2:\tpop %%rbp\n\t"
			      "jmp %l[failed]\n\t"
			      ".pushsection .text.vh_vmx_exit, \"ax\", @progbits\n\t"
			      ".globl vh_vmx_exit_entry\n"
			      "vh_vmx_exit_entry:\n\t"
			      /* RSP is &vv->regs.cr2: r15 down to rax. */
			      "push %%r15\n\tpush %%r14\n\tpush %%r13\n\tpush %%r12\n\t"
			      "push %%r11\n\tpush %%r10\n\tpush %%r9\n\tpush %%r8\n\t"
			      "push %%rdi\n\tpush %%rsi\n\tpush %%rbp\n\tpush %%rbx\n\t"
			      "push %%rdx\n\tpush %%rcx\n\tpush %%rax\n\t"
			      "movb $1, %c[launched](%%rsp)\n\t"
			      "mov %%gs:%c[host_rsp], %%rsp\n\t"
			      "jmp 3f\n\t"
			      ".popsection\n"
			      "3:\tpop %%rbp"
			      : "+D"(regs)
			      : [host_rsp] "i"(offsetof(struct vh_cpu, host_rsp)),
				[launched] "i"(offsetof(struct vh_vmx_vcpu, launched))
			      : "rax", "rbx", "rcx", "rdx", "rsi", "r8", "r9", "r10", "r11", "r12",
				"r13", "r14", "r15", "memory", "cc"
			      : failed);
	return false;
failed:
	return true;
}
#undef WS_LOAD

/* world_switch()'s offsets into struct vh_guest_regs, and the order its
 * pushes store in (rax lowest, r15 just below cr2: vmcs.c's HOST_RSP). */
VH_STATIC_ASSERT(offsetof(struct vh_vmx_vcpu, regs) == 0 &&
		     offsetof(struct vh_guest_regs, rcx) == 8 &&
		     offsetof(struct vh_guest_regs, rdx) == 16 &&
		     offsetof(struct vh_guest_regs, rbx) == 24 &&
		     offsetof(struct vh_guest_regs, rbp) == 32 &&
		     offsetof(struct vh_guest_regs, rsi) == 40 &&
		     offsetof(struct vh_guest_regs, rdi) == 48 &&
		     offsetof(struct vh_guest_regs, r8) == 56 &&
		     offsetof(struct vh_guest_regs, r15) == 112 &&
		     offsetof(struct vh_guest_regs, cr2) == VH_GUEST_REGS_PUSHED,
		 "world_switch() addresses the guest registers by these offsets");

/* This CPU's fields the loop touches on every exit, through %gs (the
 * vh_cpu of the CPU running the loop, percpu.h): one instruction each,
 * where a pointer kept across the world switch would be a reload more. */
static inline bool this_cpu_kicked(void)
{
	bool k;

	__asm__ volatile("movb %%gs:%c1, %0" : "=q"(k) : "i"(offsetof(struct vh_cpu, kicked)));
	return k;
}

/* vh_cpu.guest_ept, as a sequentially consistent store (an XCHG: ept.c's
 * shootdown reads it against the tree's generation). */
static inline void this_cpu_enter_ept(struct vh_ept *e)
{
	__asm__ volatile("xchgq %0, %%gs:%c1"
			 : "+r"(e)
			 : "i"(offsetof(struct vh_cpu, guest_ept))
			 : "memory");
}

/* Out of the guest: a release store is enough (vh_ept_sync only waits
 * for it). */
static inline void this_cpu_leave_ept(void)
{
	__asm__ volatile("movq $0, %%gs:%c0"
			 :
			 : "i"(offsetof(struct vh_cpu, guest_ept))
			 : "memory");
}

VH_STATIC_ASSERT(sizeof(((struct vh_cpu *)0)->kicked) == 1 &&
		     sizeof(((struct vh_cpu *)0)->guest_ept) == 8,
		 "the %gs accessors' operand sizes");

static void lock(struct vh_host *h)
{
	h->plat->lock(h->plat->ctx);
}

static void unlock(struct vh_host *h)
{
	h->plat->unlock(h->plat->ctx);
}

static bool acquire(struct vh_cpu *c, struct vh_vmx_vcpu *vv, struct vh_bmvm *b)
{
	bool fresh = !vv->vmcs_ready;

	/* The CPU that ran it last releases it before it asks the
	 * scheduler again, so this wait is short. */
	while (__atomic_load_n(&vv->cpu, __ATOMIC_ACQUIRE) != -1)
		cpu_relax();
	if (!vh_vmcs_load(vv, fresh))
		return false;
	if (fresh) {
		vh_vmcs_setup_controls(vv, &b->ept);
		vv->vmcs_ready = true;
	}
	vv->cpu = (int)c->index;
	c->vmx->loaded = vv->vcpu;
	vh_fpu_load(vv);
	write_cr2(vv->regs.cr2); /* the guest's, kept in the register (world_switch) */
	/* The guest's values were checked on WRMSR; a refusal here is
	 * the guest's loss (the MSR reads 0), never the host's. */
	(void)vh_exit_load_msrs(vv);
	return true;
}

static void release(struct vh_cpu *c, struct vh_vmx_vcpu *vv)
{
	vh_fpu_save(vv);
	vv->regs.cr2 = read_cr2();
	vh_exit_save_msrs(vv);
	vh_vmcs_release(vv);
	c->vmx->loaded = 0;
	__atomic_store_n(&vv->cpu, -1, __ATOMIC_RELEASE);
}

/* vCPU 0 of a VM that was (re)started: put the image in, from the
 * module the command line named. */
static bool load_image(struct vh_host *h, struct vh_vm *vm, struct vh_bmvm *b)
{
	struct vh_loader_args args;
	struct vh_error err = { 0 };

	vh_bmvm_loader_args(b, &args);

	if (!b->image) {
		vh_host_log(h, "VM \"%s\": no guest image to load", vm->cfg.name);
		return false;
	}
	if (vh_loader_acpi(vm, b->acpi, sizeof(b->acpi), &args.acpi_len, &err) != VH_OK) {
		vh_host_log(h, "VM \"%s\": no ACPI tables: %s", vm->cfg.name, err.reason);
		return false;
	}
	args.acpi = b->acpi;
	if (vh_loader_load(h, vm, &args, &b->boot, &err) != VH_OK) {
		vh_host_log(h, "VM \"%s\": cannot load its image: %s", vm->cfg.name, err.reason);
		return false;
	}
	b->loaded_generation = vm->boot_generation;
	return true;
}

/* Where a vCPU starts (vh/vcpu_boot.h): vCPU 0 at the image's entry, the
 * others in the local APIC's wait-for-SIPI until the guest starts them.
 * The VMCS writes reset everything the previous generation left. */
static enum vh_exit_action prepare(struct vh_exit *x, struct vh_bmvm *b)
{
	struct vh_vmx_vcpu *vv = x->vv;
	enum vh_vcpu_boot_step step;
	struct vh_vcpu_sipi sipi;

	lock(x->h);
	for (;;) {
		step = vh_vcpu_boot_next(x->h, x->vm, x->vcpu, &vv->boot, &sipi);
		if (step == VH_VCPU_BOOT_RUN || step == VH_VCPU_BOOT_WAIT)
			break;
		if (step == VH_VCPU_BOOT_RESET)
			continue; /* the registers are set by LOAD or SIPI */
		if (step == VH_VCPU_BOOT_SIPI) {
			vh_vmcs_guest_sipi(vv, &sipi);
		} else if (load_image(x->h, x->vm, b)) {
			vh_vmcs_guest_boot(vv, &b->boot);
		} else {
			unlock(x->h);
			return vh_exit_crash(x, "no bootable guest image");
		}
		vh_vcpu_boot_started(x->h, x->vm, x->vcpu, &vv->boot);
		write_cr2(vv->regs.cr2); /* reset with the registers */
	}
	unlock(x->h);
	if (step == VH_VCPU_BOOT_WAIT) {
		x->wake_at = 0;
		return VH_EXIT_HALT;
	}
	return VH_EXIT_RESUME;
}

/* The next event for the guest (vh/vcpu_events.h), put in the VMCS.  The
 * loop calls it only when there may be something to do
 * (vh_vmx_vcpu.apic_check, the APIC timer's deadline, an event to
 * re-inject): the APIC model needs the host lock, which is most of what
 * this costs, and a re-injection needs neither. */
static void inject(struct vh_exit *x)
{
	struct vh_vmx_vcpu *vv = x->vv;
	struct vh_vcpu_gate g = { .reinject = (vv->inject_info & INTR_INFO_VALID) != 0 };
	struct vh_vcpu_event ev;
	uint64_t now = 0;

	if (!g.reinject) {
		uint64_t blocking = vh_vmread(VMCS_GUEST_INTERRUPTIBILITY);

		g.if_flag = (vh_vmread(VMCS_GUEST_RFLAGS) & RFLAGS_IF) != 0;
		g.blocked = (blocking & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS)) != 0;
		vv->apic_check = false;
		now = vh_now_ns();
		lock(x->h);
	}
	ev = vh_vcpu_next_event(x->h, x->vm, x->vcpu, now, &g);
	switch (ev.what) {
	case VH_VCPU_REINJECT:
		vh_vmwrite(VMCS_ENTRY_INTR_INFO, vv->inject_info);
		vh_vmwrite(VMCS_ENTRY_EXCEPTION_ERROR, vv->inject_error);
		vh_vmwrite(VMCS_ENTRY_INSN_LEN, vv->inject_len);
		vv->inject_info = 0;
		return; /* no lock taken, the APIC not read */
	case VH_VCPU_IRQ:
		vh_vmwrite(VMCS_ENTRY_INTR_INFO, INTR_INFO_VALID | INTR_TYPE_EXTERNAL | ev.vector);
		vh_vcpu_injected(x->h, x->vm, x->vcpu, ev.vector);
		/* Another one may be waiting behind it: look again at the
		 * next entry rather than reason about priorities. */
		vv->apic_check = true;
		break;
	case VH_VCPU_WINDOW:
		/* The window exit (apic_look) brings us back. */
		vh_vmwrite(VMCS_PROC_CONTROLS, vh_vmread(VMCS_PROC_CONTROLS) | PROC_INTR_WINDOW);
		break;
	case VH_VCPU_NOTHING: break;
	}
	unlock(x->h);
	vv->apic_deadline_tsc = vh_tsc_deadline(rdtsc(), ev.timer_deadline);
}

static enum vh_exit_action entry_failed(struct vh_exit *x, bool vmfail, uint32_t reason)
{
	if (vmfail)
		vh_console_printf(
		    "vh: vmx: VM \"%s\" vcpu %u: VM entry failed, VM-instruction error %llu\n",
		    x->vm->cfg.name, x->vcpu->index,
		    (unsigned long long)vh_vmread(VMCS_INSN_ERROR));
	else
		vh_console_printf(
		    "vh: vmx: VM \"%s\" vcpu %u: VM entry failed, exit reason %u (%s), "
		    "qualification %#llx\n",
		    x->vm->cfg.name, x->vcpu->index, reason & 0xffff,
		    (reason & 0xffff) < VH_VMX_EXIT_REASONS && vh_exit_names[reason & 0xffff]
			? vh_exit_names[reason & 0xffff]
			: "?",
		    (unsigned long long)vh_vmread(VMCS_EXIT_QUALIFICATION));
	vh_vmcs_dump();
	x->vv->fatal_entries++;
	return vh_exit_crash(x, "VM entry failed (see the VMCS dump above)");
}

/* Runs vcpu until the scheduler must decide again.  Never inlined nor
 * cloned: world_switch()'s exit label must exist once. */
static __attribute__((noinline, noclone)) enum vh_exit_action
run_vcpu(struct vh_cpu *c, struct vh_vcpu *vcpu, uint64_t until, uint64_t *wake_at)
{
	struct vh_host *h = &vh_the_host;
	struct vh_vm *vm = vcpu->vm;
	struct vh_bmvm *b;
	struct vh_exit x = { .h = h, .vm = vm, .vcpu = vcpu };
	enum vh_exit_action a;

	lock(h);
	b = vh_bmvm_get(vm);
	if (b && !vcpu->backend)
		vh_vmx_vcpu_create(vcpu);
	unlock(h);
	x.vv = vcpu->backend;
	if (!b || !x.vv)
		return vh_exit_crash(&x, "out of hypervisor memory for its vCPU state");
	if (!acquire(c, x.vv, b))
		return vh_exit_crash(&x, "VMPTRLD of its VMCS failed");
	a = prepare(&x, b);
	/* Whatever happened while the vCPU was away (an IPI, INIT, its
	 * timer), the first entry looks at its APIC. */
	x.vv->apic_check = true;
	const unsigned cpu = c->index;
	vh_ept_enter(&b->ept, cpu);
	/* The quantum's end in TSC ticks, worked out when the TSC passes
	 * it (0: at the first entry), so a common exit reads the clock once
	 * and converts nothing. */
	uint64_t deadline_tsc = 0;
	while (a == VH_EXIT_RESUME) {
		uint64_t tsc = rdtsc();

		if (VH_UNLIKELY(this_cpu_kicked() || tsc >= deadline_tsc)) {
			uint64_t now = vh_now_ns();
			uint64_t deadline = vh_hv_deadline(c, until);
			/* Every pick enters the guest at least once: on a
			 * machine so slow that getting here used up the
			 * quantum, the guest must still make progress. */
			if (!x.vv->launched && now >= deadline) /* launched: entered */
				deadline = now + MIN_SLICE_NS;
			if (c->kicked || now >= deadline) {
				if (now < until && !c->kicked) {
					vh_hv_housekeeping(c, now); /* moves the deadline */
					continue;
				}
				a = VH_EXIT_PREEMPT;
				break;
			}
			tsc = rdtsc();
			deadline_tsc = vh_tsc_deadline(tsc, deadline); /* >= tsc */
			/* Within the preemption timer's reach: the exits
			 * below then convert without a bound (and a deadline
			 * beyond it is only looked at again). */
			if (deadline_tsc - tsc > PREEMPT_MAX << vh_vmx.preempt_shift)
				deadline_tsc = tsc + (PREEMPT_MAX << vh_vmx.preempt_shift);
		}
		/* The host lock only when the APIC may have news (see
		 * vh_vmx_vcpu.apic_check, also set with an event to inject):
		 * not on a CPUID, an I/O port or a hypercall, the exits a guest
		 * makes most. */
		if (VH_UNLIKELY(x.vv->apic_check || tsc >= x.vv->apic_deadline_tsc))
			inject(&x);
		vh_vmwrite_hot(VMCS_PREEMPTION_TIMER, (deadline_tsc - tsc) >> vh_vmx.preempt_shift);

		this_cpu_enter_ept(&b->ept);
		vh_ept_before_entry(&b->ept, cpu);
		bool failed = world_switch(x.vv);
		this_cpu_leave_ept();
		if (VH_UNLIKELY(failed)) {
			a = entry_failed(&x, true, 0);
			break;
		}
		uint32_t reason = (uint32_t)vh_vmread(VMCS_EXIT_REASON);
		/* One compare for the common case: a basic reason the table
		 * has, no flag above it (bit 31: the entry failed). */
		if (VH_UNLIKELY(reason >= VH_VMX_EXIT_REASONS)) {
			if (reason & (1u << 31)) {
				a = entry_failed(&x, false, reason);
				break;
			}
			x.reason = reason & 0xffff;
			if (x.reason >= VH_VMX_EXIT_REASONS) {
				a = vh_exit_unknown_reason(&x);
				continue;
			}
		} else {
			x.reason = reason;
		}
		a = vh_exit_dispatch(&x);
	}
	*wake_at = x.wake_at;
	release(c, x.vv);
	return a;
}

static void idle(struct vh_cpu *c, uint64_t until)
{
	for (;;) {
		uint64_t now = vh_now_ns();
		uint64_t deadline = vh_hv_deadline(c, until);
		if (c->kicked || now >= until)
			return;
		if (now >= deadline) {
			vh_hv_housekeeping(c, now);
			continue;
		}
		if (deadline != UINT64_MAX)
			vh_apic_timer_oneshot(deadline - now);
		cpu_wait_irq();
		vh_apic_timer_oneshot(0);
	}
}

void vh_run_cpu(struct vh_cpu *c)
{
	struct vh_host *h = &vh_the_host;
	struct vh_vcpu *prev = 0;
	enum vh_sched_event why = VH_SCHED_PREEMPTED;
	uint64_t wake_at = 0;

	irq_disable();
	if (!vh_vmx_cpu_on())
		vh_machine_stop(5);
	vh_hv_cpu_ready(c);
	for (;;) {
		/* Cleared before asking: a kick from now on is seen. */
		c->kicked = false;
		lock(h);
		struct vh_sched_pick pick =
		    vh_sched_next(h, c->index, vh_now_ns(), prev, why, wake_at);
		unlock(h);
		prev = 0;
		why = VH_SCHED_PREEMPTED;
		wake_at = 0;
		if (!pick.vcpu) {
			idle(c, pick.until_ns);
			continue;
		}
		enum vh_exit_action a = run_vcpu(c, pick.vcpu, pick.until_ns, &wake_at);
		prev = pick.vcpu;
		why = a == VH_EXIT_HALT ? VH_SCHED_HALTED
		      : a == VH_EXIT_YIELD ? VH_SCHED_YIELDED
					   : VH_SCHED_PREEMPTED;
	}
}
