/* SPDX-License-Identifier: Apache-2.0 */
/* Instructions this host's KVM reports as emulation failures
 * (KVM_EXIT_INTERNAL_ERROR, suberror EMULATION, RIP on the instruction)
 * that a real CPU executes.  vh/unemulated.h says what the CPU would do
 * with the bytes under the guest's CPU model; here that is carried out
 * through KVM: #UD injected where the model does not offer the
 * instruction (or the form does not exist), otherwise a completion from
 * the table below, by kind.  Measured on the development machines with
 * Debian's 6.1 kernel and tests/guests/unemulated.c (docs/hosted.md):
 * CMPXCHG16B (SLUB's cmpxchg_double), INT3, CLAC/STAC, and the rest of
 * the table from test programs.  The VM is stopped, with the bytes named,
 * only where vh-hosted itself cannot go on (KVM refusing a register
 * write, a locked access to device memory). */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "hosted.h"
#include "vh/compiler.h"
#include "vh/pagewalk.h"
#include "vh/segment.h"
#include "vh/vm.h"

#define EFER_LMA      (1u << 10)
#define RFLAGS_AC     (1u << 18)
#define RFLAGS_VM     (1u << 17)
#define CPUID_ENTRIES 256

/* The CPU model's words, read back from KVM (kvm.c set them from
 * vh/cpuid.h): the instruction is offered exactly where the guest's
 * CPUID says so.  Read back, not taken from what kvm.c gave: this KVM
 * rewrites what KVM_SET_CPUID2 was given from the host's CPUID (measured:
 * vh gives leaf 0xd.1 EAX 0, KVM_GET_CPUID2 and the guest's CPUID say 0x7,
 * XSAVEC included; docs/hosted.md), and KVM_GET_CPUID2 holds what the
 * guest reads. */
static bool load_cpu(struct vh_hosted_vcpu *hv)
{
	struct kvm_cpuid2 *c;

	if (hv->cpu.known)
		return true;
	c = calloc(1, sizeof(*c) + CPUID_ENTRIES * sizeof(c->entries[0]));
	if (!c)
		return false;
	c->nent = CPUID_ENTRIES;
	if (ioctl(hv->fd, KVM_GET_CPUID2, c) < 0) {
		free(c);
		return false;
	}
	for (uint32_t i = 0; i < c->nent; i++) {
		const struct kvm_cpuid_entry2 *e = &c->entries[i];

		if (e->function == 1) {
			hv->cpu.unem.l1_ecx = e->ecx;
			hv->cpu.unem.l1_edx = e->edx;
		} else if (e->function == 7 && e->index == 0) {
			hv->cpu.unem.l7_ebx = e->ebx;
		} else if (e->function == 0xd && e->index == 1) {
			hv->cpu.xgetbv1 = e->eax & (1u << 2);
			hv->cpu.xsavec = e->eax & (1u << 1);
		} else if (e->function == 0xd && e->index >= 2 && e->index < 64) {
			hv->cpu.xsave.size[e->index] = e->eax;
			hv->cpu.xsave.off[e->index] = e->ebx;
			if (e->ecx & 2u)
				hv->cpu.xsave.align64 |= 1ull << e->index;
		} else if (e->function == 0x80000008u) {
			hv->cpu.unem.l80000008_ebx = e->ebx;
		}
	}
	free(c);
	hv->cpu.known = true;
	return true;
}

static enum vh_decode_mode mode_of(const struct kvm_sregs *sr)
{
	if ((sr->efer & EFER_LMA) && sr->cs.l)
		return VH_DECODE_64;
	return sr->cs.db ? VH_DECODE_32 : VH_DECODE_16;
}

/* CPL as the CPU has it: 0 in real mode, 3 in virtual-8086 mode, else
 * SS.DPL (what VMX and KVM report). */
static unsigned cpl_of(const struct kvm_regs *r, const struct kvm_sregs *sr)
{
	if (!(sr->cr0 & 1))
		return 0;
	return (r->rflags & RFLAGS_VM) ? 3 : sr->ss.dpl;
}

void vh_hosted_advance_rip(struct kvm_regs *r, const struct kvm_sregs *sr, unsigned len)
{
	switch (mode_of(sr)) {
	case VH_DECODE_64: r->rip += len; break;
	case VH_DECODE_32: r->rip = (uint32_t)(r->rip + len); break;
	default: r->rip = (uint16_t)(r->rip + len); break;
	}
}

static bool set_regs(struct vh_hosted_exit *x, struct kvm_regs *r)
{
	return ioctl(x->hv->fd, KVM_SET_REGS, r) == 0;
}

/* CLAC, STAC: EFLAGS.AC, which SMAP consults (CPL 0 checked by the
 * table). */
static bool complete_ac(struct vh_hosted_exit *x, const struct vh_unem *u, struct kvm_regs *r,
			struct kvm_sregs *sr)
{
	if (u->kind == VH_UNEM_STAC)
		r->rflags |= RFLAGS_AC;
	else
		r->rflags &= ~(uint64_t)RFLAGS_AC;
	vh_hosted_advance_rip(r, sr, u->len);
	return set_regs(x, r);
}

/* INT n, INT3, INTO, INT1: a software interrupt is an event delivered
 * through the IDT with the return address after the instruction.  KVM
 * delivers it once RIP is past the instruction and the vector is queued
 * as an event (an exception below 32, an interrupt above); the check
 * only a software interrupt makes, the gate's DPL against the CPL (not
 * for INT1), is made here: #GP(vector * 8 + 2) as the CPU gives it.  INTO
 * does nothing unless OF is set. */
static bool complete_int(struct vh_hosted_exit *x, const struct vh_unem *u, struct kvm_regs *r,
			 struct kvm_sregs *sr)
{
	unsigned cpl = cpl_of(r, sr), vec = u->vector;
	bool lm = sr->efer & EFER_LMA, prot = sr->cr0 & 1;
	struct kvm_vcpu_events ev;
	struct vh_exc exc;

	if (u->kind == VH_UNEM_INTO && !(r->rflags & (1u << 11))) {
		vh_hosted_advance_rip(r, sr, u->len);
		return set_regs(x, r);
	}
	if (prot && u->kind != VH_UNEM_INT1) {
		unsigned size = lm ? 16 : 8;
		uint8_t gate[16];
		int rc;

		exc = (struct vh_exc){ .vector = VH_EXC_GP, .error = vec * 8 + 2 };
		if ((uint64_t)vec * size + size - 1 > sr->idt.limit)
			return vh_hosted_inject(x, sr, &exc);
		/* The IDT is read with supervisor rights (an implicit
		 * access). */
		rc = vh_hosted_read_as(x, sr, r->rflags & ~(uint64_t)RFLAGS_AC, 0,
				       sr->idt.base + (uint64_t)vec * size, gate, size, &exc);
		if (rc < 0)
			return false;
		if (rc > 0)
			return vh_hosted_inject(x, sr, &exc);
		exc = (struct vh_exc){ .vector = VH_EXC_GP, .error = vec * 8 + 2 };
		if (((gate[5] >> 5) & 3u) < cpl)
			return vh_hosted_inject(x, sr, &exc);
	}
	vh_hosted_advance_rip(r, sr, u->len);
	if (!set_regs(x, r) || ioctl(x->hv->fd, KVM_GET_VCPU_EVENTS, &ev) < 0)
		return false;
	ev.flags = 0;
	if (vec < 32) {
		ev.exception.injected = 1;
		ev.exception.nr = (uint8_t)vec;
		ev.exception.has_error_code = 0;
		ev.exception.error_code = 0;
	} else {
		ev.interrupt.injected = 1;
		ev.interrupt.nr = (uint8_t)vec;
		ev.interrupt.soft = 0;
	}
	return ioctl(x->hv->fd, KVM_SET_VCPU_EVENTS, &ev) == 0;
}

static bool complete_iret(struct vh_hosted_exit *x, const struct vh_unem *u, struct kvm_regs *r,
			  struct kvm_sregs *sr)
{
	(void)u;
	return vh_hosted_emulate_iret(x, r, sr);
}

static bool complete_xgetbv(struct vh_hosted_exit *x, const struct vh_unem *u,
			    struct kvm_regs *r, struct kvm_sregs *sr)
{
	return vh_hosted_emulate_xgetbv(x, u->len, r, sr);
}

/* By kind; a kind without a row is one the CPU model never offers
 * (INVPCID, RDPRU: vh/cpuid.h hides them), so a VH_UNEM_COMPLETE for it
 * means the model changed and this table did not: the VM stops saying
 * so. */
static bool (*const completions[VH_UNEM_KINDS])(struct vh_hosted_exit *, const struct vh_unem *,
						 struct kvm_regs *, struct kvm_sregs *) = {
	[VH_UNEM_IRET] = complete_iret,
	[VH_UNEM_INT3] = complete_int,
	[VH_UNEM_INTN] = complete_int,
	[VH_UNEM_INTO] = complete_int,
	[VH_UNEM_INT1] = complete_int,
	[VH_UNEM_XGETBV] = complete_xgetbv,
	[VH_UNEM_CLAC] = complete_ac,
	[VH_UNEM_STAC] = complete_ac,
	[VH_UNEM_CMPXCHG8B] = vh_hosted_complete_cmpxchg,
	[VH_UNEM_CMPXCHG16B] = vh_hosted_complete_cmpxchg,
	[VH_UNEM_CLFLUSH] = vh_hosted_complete_flush,
	[VH_UNEM_CLFLUSHOPT] = vh_hosted_complete_flush,
	[VH_UNEM_CLWB] = vh_hosted_complete_flush,
	[VH_UNEM_XRSTOR] = vh_hosted_complete_xrstor,
};

enum vh_hosted_next vh_hosted_complete(struct vh_hosted_exit *x, const uint8_t *insn,
				       size_t ninsn, struct kvm_regs *r, struct kvm_sregs *sr,
				       bool *mine)
{
	struct vh_hosted_vcpu *hv = x->hv;
	struct vh_unem u;
	char why[160];

	*mine = false;
	if (!load_cpu(hv)) {
		snprintf(why, sizeof(why), "vCPU %u: reading its CPUID back from KVM: %s",
			 hv->index, strerror(errno));
		vh_vm_crash(&x->w->d->host, x->vm, why);
		*mine = true;
		return VH_HOSTED_PREEMPT;
	}
	vh_unemulated(insn, (unsigned)(ninsn > VH_DECODE_MAX_LEN ? VH_DECODE_MAX_LEN : ninsn),
		      mode_of(sr), cpl_of(r, sr), &hv->cpu.unem, &u);
	if (u.verdict == VH_UNEM_UNKNOWN)
		return VH_HOSTED_CONTINUE;
	*mine = true;
	x->vcpu->exits[VH_EXIT_OTHER]++;
	/* The first of each kind is logged: which instructions a guest
	 * needs completed is what docs/hosted.md records. */
	if (hv->completed[u.kind]++ == 0)
		vh_host_log(&x->w->d->host,
			    "VM \"%s\": vCPU %u: %s %s at rip %#llx (KVM cannot emulate it)",
			    x->vm->cfg.name, hv->index, u.name,
			    u.verdict == VH_UNEM_UD ? "raises #UD" : "completed by vh-hosted",
			    (unsigned long long)r->rip);
	if (u.verdict == VH_UNEM_UD) {
		struct vh_exc exc = { .vector = VH_EXC_UD };
		if (vh_hosted_inject(x, sr, &exc))
			return VH_HOSTED_CONTINUE;
	} else if (completions[u.kind] && completions[u.kind](x, &u, r, sr)) {
		return VH_HOSTED_CONTINUE;
	}
	if (x->vm->state != VH_VM_RUNNING)
		return VH_HOSTED_PREEMPT; /* a completion stopped it already */
	snprintf(why, sizeof(why),
		 "vCPU %u: %s at rip %#llx (%02x %02x %02x %02x, ECX %#x) that vh-hosted cannot "
		 "complete",
		 hv->index, u.name, (unsigned long long)r->rip, insn[0], ninsn > 1 ? insn[1] : 0,
		 ninsn > 2 ? insn[2] : 0, ninsn > 3 ? insn[3] : 0, (unsigned)(uint32_t)r->rcx);
	vh_vm_crash(&x->w->d->host, x->vm, why);
	return VH_HOSTED_PREEMPT;
}
