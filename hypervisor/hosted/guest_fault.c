/* SPDX-License-Identifier: Apache-2.0 */
/* Guest memory faults under KVM.  Guest pages are mapped one by one as
 * the core decides (guest_mem.c); an access to a page that is not mapped,
 * or a write to one mapped read-only (a shared page), cannot be completed
 * by KVM.  On this kernel KVM then emulates the instruction and reports
 * the access as KVM_EXIT_MMIO (address, size, data), and an instruction
 * fetch from such a page as an emulation failure (measured; see
 * docs/hosted.md: KVM_EXIT_MEMORY_FAULT is never reported).  Both become
 * vh_mem_fault(), exactly as an EPT violation does on bare metal; the MMIO
 * access is then completed here on the page the core mapped, and the
 * fetch is retried.  An address the VM's guest-physical layout
 * (vh/layout.h) does not call RAM is a device access. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "hosted.h"
#include "vh/devices.h"
#include "vh/error.h"
#include "vh/mem.h"
#include "vh/vcpu_io.h"
#include "vh/vm.h"

/* A guest that keeps being refused a frame waits in the scheduler, and
 * retries at this interval (after the reclaimer had a chance to run). */
#define NOMEM_RETRY_NS (2 * 1000000ull)

/* Faults in every page of [gpa, gpa + len) for the access.  Returns the
 * worst result. */
static enum vh_fault_result fault_range(struct vh_hosted_exit *x, uint64_t gpa, uint64_t len,
					enum vh_mem_access acc)
{
	enum vh_fault_result worst = VH_FAULT_MAPPED;

	for (uint64_t gfn = gpa >> VH_PAGE_SHIFT; gfn <= (gpa + len - 1) >> VH_PAGE_SHIFT; gfn++) {
		enum vh_fault_result r = vh_mem_fault(&x->w->d->host, x->vm, gfn, acc, x->now);
		if (r == VH_FAULT_NO_MEMORY || r == VH_FAULT_BAD_ADDRESS)
			worst = r;
	}
	return worst;
}

enum vh_hosted_next vh_hosted_mmio_exit(struct vh_hosted_exit *x)
{
	struct vh_host *h = &x->w->d->host;
	struct kvm_run *run = x->hv->run;
	uint64_t gpa = run->mmio.phys_addr;
	uint32_t len = run->mmio.len;
	bool write = run->mmio.is_write;
	struct vh_error err = { 0 };
	enum vh_fault_result fr;
	uint64_t v = 0;

	if (len == 0 || len > sizeof(run->mmio.data))
		return vh_vm_crash(h, x->vm, "KVM reported an MMIO access of a bad size"),
		       VH_HOSTED_PREEMPT;
	/* The layout first: an access to the 32-bit hole (the local APIC,
	 * the IOAPIC, PCI) or above the VM's RAM is a device access, never
	 * memory, whatever the VM's size; only RAM goes to the memory
	 * manager. */
	if (vh_layout_kind(&x->vm->mem.layout, gpa) == VH_GPA_RAM &&
	    vh_mem_guest_range_ok(x->vm, gpa, len)) {
		if (!x->hv->mmio_pending)
			x->vcpu->exits[VH_EXIT_EPT_VIOLATION]++;
		fr = fault_range(x, gpa, len, write ? VH_MEM_WRITE : VH_MEM_READ);
		if (fr == VH_FAULT_MAPPED) {
			int rc = write
				     ? vh_mem_guest_write(h, x->vm, gpa, run->mmio.data, len, &err)
				     : vh_mem_guest_read(h, x->vm, gpa, run->mmio.data, len, &err);
			if (rc == VH_OK) {
				x->hv->mmio_pending = false;
				return VH_HOSTED_CONTINUE;
			}
			if (rc != VH_E_NOMEM) {
				vh_vm_crash(h, x->vm, err.reason);
				return VH_HOSTED_PREEMPT;
			}
			fr = VH_FAULT_NO_MEMORY;
		}
		if (fr == VH_FAULT_NO_MEMORY) {
			/* The host is short and the VM at its entitlement:
			 * the vCPU waits (the access stays pending in KVM)
			 * while the balloon and sharing give memory back. */
			if (!x->hv->mmio_pending) {
				x->hv->mmio_pending = true;
				x->hv->nomem_since = x->now;
			} else if (x->now - x->hv->nomem_since > 10 * 1000000000ull) {
				vh_host_log(h,
					    "VM \"%s\": vCPU %u refused memory for 10 s at %#llx",
					    x->vm->cfg.name, x->hv->index, (unsigned long long)gpa);
				x->hv->nomem_since = x->now;
			}
			x->wake_at = x->now + NOMEM_RETRY_NS;
			return VH_HOSTED_HALT;
		}
		/* VH_FAULT_BAD_ADDRESS inside the range cannot happen; treat
		 * it as a device access below. */
	}
	x->hv->mmio_pending = false;
	x->vcpu->exits[VH_EXIT_MMIO]++;
	if (write)
		memcpy(&v, run->mmio.data, len);
	/* The device runs under its lock, the host lock dropped (a VM
	 * undefined meanwhile answers VH_IO_STOPPED). */
	if (vh_vcpu_mmio(h, x->vm, x->vcpu, gpa, len, write, &v, true) == VH_IO_STOPPED)
		return VH_HOSTED_PREEMPT;
	if (!write)
		memcpy(run->mmio.data, &v, len);
	return x->vm->state == VH_VM_RUNNING ? VH_HOSTED_CONTINUE : VH_HOSTED_PREEMPT;
}

/* The guest-physical address of linear address `lin`, or UINT64_MAX. */
static uint64_t translate(int fd, const struct kvm_sregs *sr, uint64_t lin)
{
	struct kvm_translation t = { .linear_address = lin };

	if (!(sr->cr0 & 0x80000000u))
		return lin; /* paging off: linear is physical */
	if (ioctl(fd, KVM_TRANSLATE, &t) < 0 || !t.valid)
		return UINT64_MAX;
	return t.physical_address;
}

/* Faults in the pages of guest-linear [lin, lin + len) that are guest
 * memory.  False when the host refused a frame. */
static bool fault_linear(struct vh_hosted_exit *x, const struct kvm_sregs *sr, uint64_t lin,
			 uint64_t len, enum vh_mem_access acc)
{
	uint64_t last = UINT64_MAX;

	for (uint64_t a = lin; a - lin < len; a = (a | (VH_PAGE_SIZE - 1)) + 1) {
		uint64_t gpa = translate(x->hv->fd, sr, a);
		if (gpa == UINT64_MAX || !vh_mem_guest_range_ok(x->vm, gpa, 1) ||
		    gpa >> VH_PAGE_SHIFT == last)
			continue;
		last = gpa >> VH_PAGE_SHIFT;
		x->vcpu->exits[VH_EXIT_EPT_VIOLATION]++;
		if (vh_mem_fault(&x->w->d->host, x->vm, last, acc, x->now) == VH_FAULT_NO_MEMORY)
			return false;
	}
	return true;
}

enum vh_hosted_next vh_hosted_fetch_fault(struct vh_hosted_exit *x)
{
	struct vh_host *h = &x->w->d->host;
	struct vh_hosted_vcpu *hv = x->hv;
	struct kvm_regs r;
	struct kvm_sregs sr;
	uint8_t insn[15] = { 0 };
	size_t ninsn = 0;
	uint64_t lin, ops[2];
	char why[160];
	int nops;

	if (ioctl(hv->fd, KVM_GET_REGS, &r) < 0 || ioctl(hv->fd, KVM_GET_SREGS, &sr) < 0) {
		snprintf(why, sizeof(why), "vCPU %u: reading registers: %s", hv->index,
			 strerror(errno));
		vh_vm_crash(h, x->vm, why);
		return VH_HOSTED_PREEMPT;
	}
	lin = sr.cs.base + r.rip;
	if (!(sr.efer & (1u << 10)))
		lin &= 0xffffffffu;
	/* 1. The instruction's own pages (at most 15 bytes: maybe two). */
	if (!fault_linear(x, &sr, lin, sizeof(insn), VH_MEM_EXEC))
		goto nomem;
	while (ninsn < sizeof(insn) &&
	       vh_hosted_read_linear(x, &sr, lin + ninsn, &insn[ninsn], 1) == 0)
		ninsn++;
	/* 2. One this host's KVM cannot emulate at all (complete.c): completed,
	 * or #UD where the CPU model does not offer it. */
	{
		bool mine;
		enum vh_hosted_next next = vh_hosted_complete(x, insn, ninsn, &r, &sr, &mine);
		if (mine) {
			hv->fetch_faults = 0;
			return next;
		}
	}
	/* 3. Its memory operands, writable, so KVM can run it natively. */
	nops = vh_hosted_decode_operands(insn, ninsn, &r, &sr, ops);
	for (int i = 0; i < nops; i++) {
		if (!fault_linear(x, &sr, ops[i], 16, VH_MEM_WRITE))
			goto nomem;
	}
	/* The same instruction failing again and again is one KVM cannot
	 * run whatever the memory: the guest cannot go on. */
	if (hv->fetch_rip == lin && ++hv->fetch_faults > 3) {
		snprintf(
		    why, sizeof(why),
		    "vCPU %u: KVM cannot emulate the instruction at %#llx (%02x %02x %02x %02x)",
		    hv->index, (unsigned long long)lin, insn[0], insn[1], insn[2], insn[3]);
		vh_vm_crash(h, x->vm, why);
		return VH_HOSTED_PREEMPT;
	}
	if (hv->fetch_rip != lin)
		hv->fetch_faults = 0;
	hv->fetch_rip = lin;
	return VH_HOSTED_CONTINUE;
nomem:
	x->wake_at = x->now + NOMEM_RETRY_NS;
	return VH_HOSTED_HALT; /* KVM retries the instruction on entry */
}
