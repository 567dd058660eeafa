/* Instructions that KVM on this host reports as emulation failures but a
 * guest cannot do without.  Measured on the PVM-based /dev/kvm of the
 * development machines (docs/hosted.md): a 32-bit protected-mode IRET
 * fails KVM's emulator, and every interrupt or exception handler of a
 * 32-bit guest ends with one; vh-hosted completes the same-privilege
 * return of protected mode and the real-mode return, read from the
 * guest's stack through the core (so memory rules hold).  XGETBV, which
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
#include "vh/mem.h"
#include "vh/vm.h"

#define EFLAGS_VM (1u << 17)
#define EFLAGS_NT (1u << 14)
/* What IRET may change at CPL 0: everything architectural but VM, VIF,
 * VIP (reserved bits stay clear, bit 1 stays set). */
#define EFLAGS_WRITABLE 0x00247fd5u

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

bool vh_hosted_emulate_iret(struct vh_hosted_exit *x, struct kvm_regs *r, struct kvm_sregs *sr)
{
	bool prot = sr->cr0 & 1, wide = sr->cs.db;
	uint64_t sp = sr->ss.db ? (uint32_t)r->rsp : (uint16_t)r->rsp;
	uint32_t frame[3];
	uint16_t frame16[3];
	struct kvm_segment cs;

	if (sr->efer & (1u << 10))
		return false; /* long mode: KVM's own business */
	if (wide) {
		if (vh_hosted_read_linear(x, sr, sr->ss.base + sp, frame, sizeof(frame)))
			return false;
	} else {
		if (vh_hosted_read_linear(x, sr, sr->ss.base + sp, frame16, sizeof(frame16)))
			return false;
		frame[0] = frame16[0];
		frame[1] = frame16[1];
		/* A 16-bit IRET keeps the upper half of EFLAGS. */
		frame[2] = ((uint32_t)r->rflags & 0xffff0000u) | frame16[2];
	}
	if (!prot) {
		cs = sr->cs;
		cs.selector = (uint16_t)frame[1];
		cs.base = (uint64_t)(uint16_t)frame[1] << 4;
	} else {
		/* Same privilege, no task return, not back to virtual-8086. */
		if ((frame[2] & (EFLAGS_VM | EFLAGS_NT)) || (r->rflags & EFLAGS_NT) ||
		    (frame[1] & 3) != sr->cs.dpl || load_cs(x, sr, (uint16_t)frame[1], &cs))
			return false;
	}
	r->rip = frame[0];
	r->rflags = (frame[2] & EFLAGS_WRITABLE) | 2;
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
