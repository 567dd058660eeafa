/* Instructions that KVM on this host reports as emulation failures but a
 * guest cannot do without.  Measured on the PVM-based /dev/kvm of the
 * development machines (docs/hosted.md): a 32-bit protected-mode IRET
 * fails KVM's emulator, and every interrupt or exception handler of a
 * 32-bit guest ends with one; vh-hosted completes the same-privilege
 * return of protected mode and the real-mode return as the SDM's IRET
 * pseudo-code does: the frame read with the current CPL's rights through
 * the shared page walk (#PF for the guest when refused), IOPL and IF
 * changed only where that CPL may, the code segment checked.  XGETBV, which
 * every kernel that uses XSAVE runs, fails too: answered from
 * KVM_GET_XCRS.  Anything else (a return to another privilege level, to
 * virtual-8086 mode, a task return; XGETBV of another register) is left to
 * the caller, which stops the guest. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>

#include "hosted.h"
#include "vh/error.h"
#include "vh/iret.h"
#include "vh/mem.h"
#include "vh/pagewalk.h"
#include "vh/vm.h"

#define VH_EXC_GP 13
#define VH_EXC_PF 14
/* Physical address bits for the page walk's reserved-bit check: what
 * x86-64 allows at most, so no guest entry is refused for want of
 * knowing the host's width. */
#define MAXPHYADDR 52

int vh_hosted_read_linear(struct vh_hosted_exit *x, const struct kvm_sregs *sr, uint64_t lin,
		       void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len) {
		size_t n = VH_PAGE_SIZE - (lin & (VH_PAGE_SIZE - 1));
		uint64_t gpa = lin;
		if (n > len)
			n = len;
		if (sr->cr0 & 0x80000000u) {
			struct kvm_translation t = { .linear_address = lin };
			if (ioctl(x->hv->fd, KVM_TRANSLATE, &t) < 0 || !t.valid)
				return -1;
			gpa = t.physical_address;
		}
		if (vh_mem_guest_read(&x->w->d->host, x->vm, gpa, p, n, NULL) != VH_OK)
			return -1;
		p += n;
		lin += n;
		len -= n;
	}
	return 0;
}

/* The code segment a protected-mode selector names, from the GDT. */
static int load_cs(struct vh_hosted_exit *x, const struct kvm_sregs *sr, uint16_t sel,
		   struct kvm_segment *out)
{
	uint32_t d[2];
	uint32_t base, limit;

	if (sel & 4 || (sel & ~7u) + 7u > sr->gdt.limit)
		return -1; /* LDT or outside the GDT */
	if (vh_hosted_read_linear(x, sr, sr->gdt.base + (sel & ~7u), d, sizeof(d)))
		return -1;
	base = (d[0] >> 16) | ((d[1] & 0xff) << 16) | (d[1] & 0xff000000u);
	limit = (d[0] & 0xffff) | (d[1] & 0x000f0000u);
	*out = (struct kvm_segment){
		.base = base,
		.selector = sel,
		.type = (d[1] >> 8) & 0xf,
		.s = (d[1] >> 12) & 1,
		.dpl = (d[1] >> 13) & 3,
		.present = (d[1] >> 15) & 1,
		.avl = (d[1] >> 20) & 1,
		.l = (d[1] >> 21) & 1,
		.db = (d[1] >> 22) & 1,
		.g = (d[1] >> 23) & 1,
	};
	out->limit = out->g ? (limit << 12) | 0xfff : limit;
	/* A present code segment of the current privilege level. */
	return out->present && out->s && (out->type & 8) && out->dpl == sr->cs.dpl && !out->l ? 0 : -1;
}

/* Gives the guest an exception at the IRET (RIP stays on it): #PF with
 * CR2, or #GP(0). */
static bool inject(struct vh_hosted_exit *x, struct kvm_sregs *sr, uint8_t vector, uint32_t error,
		   uint64_t cr2)
{
	struct kvm_vcpu_events ev;

	if (ioctl(x->hv->fd, KVM_GET_VCPU_EVENTS, &ev) < 0)
		return false;
	if (vector == VH_EXC_PF) {
		sr->cr2 = cr2;
		if (ioctl(x->hv->fd, KVM_SET_SREGS, sr) < 0)
			return false;
	}
	ev.flags = 0;
	ev.exception.injected = 1;
	ev.exception.nr = vector;
	ev.exception.has_error_code = 1;
	ev.exception.error_code = error;
	return ioctl(x->hv->fd, KVM_SET_VCPU_EVENTS, &ev) == 0;
}

static int read_table(void *ctx, uint64_t gpa, void *buf, unsigned size)
{
	struct vh_hosted_exit *x = ctx;

	return vh_mem_guest_read(&x->w->d->host, x->vm, gpa, buf, size, NULL) == VH_OK ? 0 : -1;
}

/* The IRET frame from the stack with the access rights of the current
 * CPL (a user-mode IRET cannot read a supervisor page): 0, 1 with
 * *pf_lin and *pf_error for the guest's #PF, -1 when not in memory. */
static int read_frame(struct vh_hosted_exit *x, const struct kvm_regs *r,
		      const struct kvm_sregs *sr, unsigned cpl, uint64_t lin, void *buf, size_t len,
		      uint64_t *pf_lin, uint32_t *pf_error)
{
	struct vh_walk w = { .cr0 = sr->cr0, .cr3 = sr->cr3, .cr4 = sr->cr4, .efer = sr->efer,
			     .rflags = r->rflags, .cpl = cpl, .maxphyaddr = MAXPHYADDR,
			     .read = read_table, .ctx = x };
	uint8_t *p = buf;

	while (len) {
		size_t n = VH_PAGE_SIZE - (lin & (VH_PAGE_SIZE - 1));
		uint64_t gpa;

		if (n > len)
			n = len;
		switch (vh_walk_translate(&w, lin, 0, &gpa, pf_error)) {
		case VH_WALK_OK:
			break;
		case VH_WALK_FAULT:
			*pf_lin = lin;
			return 1;
		case VH_WALK_NO_TABLES:
			return -1;
		}
		if (vh_mem_guest_read(&x->w->d->host, x->vm, gpa, p, n, NULL) != VH_OK)
			return -1;
		p += n;
		lin += n;
		len -= n;
	}
	return 0;
}

/* Real mode, and protected mode back to the same privilege level (what
 * a 32-bit kernel's handlers do).  EFLAGS follow the SDM's rules
 * (vh_iret_eflags); a return to another privilege level, to
 * virtual-8086 mode or a task return is refused (false: the caller
 * stops the VM and says why). */
bool vh_hosted_emulate_iret(struct vh_hosted_exit *x, struct kvm_regs *r, struct kvm_sregs *sr)
{
	bool prot = sr->cr0 & 1, wide = sr->cs.db;
	uint64_t sp = sr->ss.db ? (uint32_t)r->rsp : (uint16_t)r->rsp, pf_lin = 0;
	unsigned cpl = prot ? sr->ss.dpl : 0;
	uint32_t frame[3], pf_error = 0;
	uint16_t frame16[3];
	struct kvm_segment cs;
	int rc;

	if (sr->efer & (1u << 10))
		return false; /* long mode: KVM's own business */
	if (prot && (r->rflags & VH_EFLAGS_VM))
		return false; /* virtual-8086 mode */
	if (wide)
		rc = read_frame(x, r, sr, cpl, sr->ss.base + sp, frame, sizeof(frame), &pf_lin,
				&pf_error);
	else
		rc = read_frame(x, r, sr, cpl, sr->ss.base + sp, frame16, sizeof(frame16), &pf_lin,
				&pf_error);
	if (rc < 0)
		return false;
	if (rc > 0)
		return inject(x, sr, VH_EXC_PF, pf_error, pf_lin);
	if (!wide) {
		frame[0] = frame16[0];
		frame[1] = frame16[1];
		frame[2] = frame16[2];
	}
	if (!prot) {
		cs = sr->cs;
		cs.selector = (uint16_t)frame[1];
		cs.base = (uint64_t)(uint16_t)frame[1] << 4;
	} else {
		/* No task return; VM in the frame matters only at CPL 0
		 * (a return to virtual-8086 mode); the same privilege. */
		if ((r->rflags & VH_EFLAGS_NT) || (cpl == 0 && wide && (frame[2] & VH_EFLAGS_VM)) ||
		    (frame[1] & 3) != cpl || load_cs(x, sr, (uint16_t)frame[1], &cs))
			return false;
		if (frame[0] > cs.limit)
			return inject(x, sr, VH_EXC_GP, 0, 0);
	}
	r->rip = frame[0];
	r->rflags = vh_iret_eflags((uint32_t)r->rflags, frame[2], cpl, prot, wide);
	sp += wide ? 12 : 6;
	r->rsp = sr->ss.db ? (r->rsp & ~0xffffffffull) | (uint32_t)sp
			   : (r->rsp & ~0xffffull) | (uint16_t)sp;
	sr->cs = cs;
	return ioctl(x->hv->fd, KVM_SET_SREGS, sr) == 0 && ioctl(x->hv->fd, KVM_SET_REGS, r) == 0;
}

#define CR4_OSXSAVE (1u << 18)

bool vh_hosted_emulate_xgetbv(struct vh_hosted_exit *x, struct kvm_regs *r,
			      struct kvm_sregs *sr)
{
	struct kvm_xcrs xcrs;

	/* Without CR4.OSXSAVE it is #UD, and only XCR0 is answered here
	 * (ECX 1, XINUSE, needs the hardware's view): both left to the
	 * caller, which stops the guest with the instruction named. */
	if (!(sr->cr4 & CR4_OSXSAVE) || (uint32_t)r->rcx != 0)
		return false;
	memset(&xcrs, 0, sizeof(xcrs));
	if (ioctl(x->hv->fd, KVM_GET_XCRS, &xcrs) < 0)
		return false;
	for (uint32_t i = 0; i < xcrs.nr_xcrs && i < KVM_MAX_XCRS; i++) {
		if (xcrs.xcrs[i].xcr != 0)
			continue;
		r->rax = (uint32_t)xcrs.xcrs[i].value;
		r->rdx = (uint32_t)(xcrs.xcrs[i].value >> 32);
		r->rip += 3;
		return ioctl(x->hv->fd, KVM_SET_REGS, r) == 0;
	}
	return false;
}
