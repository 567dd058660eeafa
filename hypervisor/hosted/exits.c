/* SPDX-License-Identifier: Apache-2.0 */
/* KVM exit reasons, one handler each, dispatched through a table indexed
 * by the exit reason.  Every handler runs with the host lock held (the
 * core expects it; a device call drops it around the device, which takes
 * its own: vh/vcpu_io.h) and answers what the run loop does next.  Each
 * exit is counted in the vCPU's exit counters under the core's exit
 * kinds, the same vocabulary as VMX exit reasons on bare metal. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/kvm.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "hosted.h"
#include "vh/devices.h"
#include "vh/hypercall.h"
#include "vh/lapic.h"
#include "vh/vcpu_events.h"
#include "vh/vcpu_io.h"
#include "vh/vm.h"

static void count(struct vh_hosted_exit *x, enum vh_exit_kind k)
{
	x->vcpu->exits[k]++;
}

static enum vh_hosted_next crash(struct vh_hosted_exit *x, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static enum vh_hosted_next crash(struct vh_hosted_exit *x, const char *fmt, ...)
{
	char why[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	vh_vm_crash(&x->w->d->host, x->vm, why);
	return VH_HOSTED_PREEMPT;
}

/* The I/O-port form of a hypercall: `outl %eax, $VH_HC_PORT`.  KVM
 * finishes the OUT (advances RIP) on the next KVM_RUN, after RAX is set
 * here. */
static enum vh_hosted_next hypercall(struct vh_hosted_exit *x)
{
	struct kvm_regs r;
	struct kvm_sregs sr;
	struct vh_hypercall hr;
	enum vh_hc_action act;
	unsigned cpl;
	bool wide;

	count(x, VH_EXIT_HYPERCALL);
	if (ioctl(x->hv->fd, KVM_GET_REGS, &r) < 0 || ioctl(x->hv->fd, KVM_GET_SREGS, &sr) < 0)
		return crash(x, "hypercall: reading vCPU %u's registers: %s", x->hv->index,
			     strerror(errno));
	/* Outside long mode the guest passes 32-bit values. */
	wide = sr.cs.l && (sr.efer & (1u << 10));
#define ARG(v) (wide ? (v) : (uint32_t)(v))
	/* CPL as VMX reads it (SS.DPL); 0 in real mode, 3 in virtual-8086. */
	cpl = !(sr.cr0 & 1) ? 0 : (r.rflags & (1u << 17)) ? 3 : sr.ss.dpl;
	hr = (struct vh_hypercall){ &x->w->d->host, x->vm, x->vcpu, ARG(r.rax), ARG(r.rbx),
				    ARG(r.rcx), ARG(r.rdx), ARG(r.rsi), .cpl = cpl };
#undef ARG
	act = vh_hypercall(&hr);
	r.rax = wide ? hr.rax : (uint32_t)hr.rax;
	if (ioctl(x->hv->fd, KVM_SET_REGS, &r) < 0)
		return crash(x, "hypercall: writing vCPU %u's RAX: %s", x->hv->index,
			     strerror(errno));
	if (x->vm->state != VH_VM_RUNNING)
		return VH_HOSTED_PREEMPT;
	return act == VH_HC_YIELDED ? VH_HOSTED_YIELD : VH_HOSTED_CONTINUE;
}

static enum vh_hosted_next exit_io(struct vh_hosted_exit *x)
{
	struct kvm_run *run = x->hv->run;
	unsigned size = run->io.size;
	bool out = run->io.direction == KVM_EXIT_IO_OUT;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;

	if (run->io.count == 1 && vh_hypercall_is_port(run->io.port, size, out))
		return hypercall(x);
	count(x, VH_EXIT_IO);
	/* String I/O (INS/OUTS, REP) comes as count elements. */
	if (vh_vcpu_port_string(&x->w->d->host, x->vm, x->vcpu, run->io.port, size, out, data,
				run->io.count, true) == VH_IO_STOPPED ||
	    x->vm->state != VH_VM_RUNNING)
		return VH_HOSTED_PREEMPT;
	return VH_HOSTED_CONTINUE;
}

static enum vh_hosted_next exit_hlt(struct vh_hosted_exit *x)
{
	count(x, VH_EXIT_HLT);
	if (!vh_vcpu_halt(&x->w->d->host, x->vm, x->vcpu, x->now, x->hv->run->if_flag, &x->wake_at))
		return VH_HOSTED_CONTINUE;
	return VH_HOSTED_HALT;
}

static enum vh_hosted_next exit_mmio(struct vh_hosted_exit *x)
{
	return vh_hosted_mmio_exit(x);
}

static enum vh_hosted_next exit_intr(struct vh_hosted_exit *x)
{
	count(x, VH_EXIT_EXTERNAL_INTERRUPT);
	/* A kick or the quantum's end; otherwise the local APIC timer (or a
	 * late signal of an earlier quantum): deliver and carry on. */
	if (atomic_load(&x->w->kicked) || x->now >= x->until)
		return VH_HOSTED_PREEMPT;
	return VH_HOSTED_CONTINUE;
}

static enum vh_hosted_next exit_irq_window(struct vh_hosted_exit *x)
{
	/* The guest can take an interrupt now: the run loop injects it. */
	count(x, VH_EXIT_OTHER);
	return VH_HOSTED_CONTINUE;
}

static enum vh_hosted_next exit_shutdown(struct vh_hosted_exit *x)
{
	count(x, VH_EXIT_TRIPLE_FAULT);
	return crash(x, "vCPU %u triple-faulted", x->hv->index);
}

static enum vh_hosted_next exit_fail_entry(struct vh_hosted_exit *x)
{
	count(x, VH_EXIT_OTHER);
	return crash(x, "vCPU %u: VM entry failed (hardware reason %#llx)", x->hv->index,
		     (unsigned long long)x->hv->run->fail_entry.hardware_entry_failure_reason);
}

static enum vh_hosted_next exit_internal(struct vh_hosted_exit *x)
{
	struct kvm_run *run = x->hv->run;

	if (run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION)
		return vh_hosted_fetch_fault(x);
	count(x, VH_EXIT_OTHER);
	return crash(x, "vCPU %u: KVM internal error %u", x->hv->index, run->internal.suberror);
}

static enum vh_hosted_next exit_system_event(struct vh_hosted_exit *x)
{
	struct vh_host *h = &x->w->d->host;

	count(x, VH_EXIT_OTHER);
	switch (x->hv->run->system_event.type) {
	case KVM_SYSTEM_EVENT_SHUTDOWN:
		vh_vm_stop(h, x->vm, NULL);
		return VH_HOSTED_PREEMPT;
	case KVM_SYSTEM_EVENT_RESET:
		vh_vm_reset(h, x->vm, NULL);
		return VH_HOSTED_PREEMPT;
	default:
		return crash(x, "vCPU %u: system event %u", x->hv->index,
			     x->hv->run->system_event.type);
	}
}

static enum vh_hosted_next exit_unexpected(struct vh_hosted_exit *x)
{
	count(x, VH_EXIT_OTHER);
	return crash(x, "vCPU %u: unexpected KVM exit %u", x->hv->index, x->hv->run->exit_reason);
}

static enum vh_hosted_next (*const handlers[])(struct vh_hosted_exit *) = {
	[KVM_EXIT_IO] = exit_io,
	[KVM_EXIT_MMIO] = exit_mmio,
	[KVM_EXIT_HLT] = exit_hlt,
	[KVM_EXIT_INTR] = exit_intr,
	[KVM_EXIT_IRQ_WINDOW_OPEN] = exit_irq_window,
	[KVM_EXIT_SHUTDOWN] = exit_shutdown,
	[KVM_EXIT_FAIL_ENTRY] = exit_fail_entry,
	[KVM_EXIT_INTERNAL_ERROR] = exit_internal,
	[KVM_EXIT_SYSTEM_EVENT] = exit_system_event,
	[KVM_EXIT_X86_RDMSR] = vh_hosted_msr_exit,
	[KVM_EXIT_X86_WRMSR] = vh_hosted_msr_exit,
};

enum vh_hosted_next vh_hosted_handle_exit(struct vh_hosted_exit *x)
{
	uint32_t r = x->hv->run->exit_reason;

	/* Fetch faults are counted only while nothing else happens. */
	if (r != KVM_EXIT_INTERNAL_ERROR)
		x->hv->fetch_faults = 0;
	if (r < sizeof(handlers) / sizeof(handlers[0]) && handlers[r])
		return handlers[r](x);
	return exit_unexpected(x);
}
