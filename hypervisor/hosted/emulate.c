/* SPDX-License-Identifier: Apache-2.0 */
/* Instructions that KVM on this host reports as emulation failures but a
 * guest cannot do without.  Measured on the PVM-based /dev/kvm of the
 * development machines (docs/hosted.md): a 32-bit protected-mode IRET
 * fails KVM's emulator, and every interrupt or exception handler of a
 * 32-bit guest ends with one, as does a 32-bit kernel's return to user
 * mode; vh-hosted completes the real-mode return and the protected-mode
 * return to the same or an outer privilege level as the SDM's IRET
 * pseudo-code does: the frame read with the current CPL's rights through
 * the shared page walk (#PF for the guest when refused), the stack's
 * limit, CS and SS read from the GDT or LDT with supervisor rights and
 * checked (vh/segment.h: #GP, #NP or #SS for the guest), IOPL and IF
 * changed only where that CPL may, data segments the new CPL may not use
 * nulled.  XGETBV, which every kernel that uses XSAVE runs, fails too:
 * answered from KVM_GET_XCRS (#UD without CR4.OSXSAVE, #GP for an XCR
 * the model lacks).  Anything else (a return to virtual-8086 mode, a
 * task return) is left to the caller, which stops the guest. */
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
#include "vh/segment.h"
#include "vh/vm.h"

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

/* Vectors whose exception pushes an error code (#DF, #TS, #NP, #SS, #GP,
 * #PF, #AC, #CP). */
static bool has_error_code(unsigned vector)
{
	return vector == 8 || (vector >= 10 && vector <= 14) || vector == 17 || vector == 21;
}

bool vh_hosted_inject(struct vh_hosted_exit *x, struct kvm_sregs *sr, const struct vh_exc *e)
{
	struct kvm_vcpu_events ev;

	if (ioctl(x->hv->fd, KVM_GET_VCPU_EVENTS, &ev) < 0)
		return false;
	if (e->vector == VH_EXC_PF) {
		sr->cr2 = e->cr2;
		if (ioctl(x->hv->fd, KVM_SET_SREGS, sr) < 0)
			return false;
	}
	ev.flags = 0;
	ev.exception.injected = 1;
	ev.exception.nr = e->vector;
	ev.exception.has_error_code = has_error_code(e->vector);
	ev.exception.error_code = e->error;
	return ioctl(x->hv->fd, KVM_SET_VCPU_EVENTS, &ev) == 0;
}

static int read_table(void *ctx, uint64_t gpa, void *buf, unsigned size)
{
	struct vh_hosted_exit *x = ctx;

	return vh_mem_guest_read(&x->w->d->host, x->vm, gpa, buf, size, NULL) == VH_OK ? 0 : -1;
}

int vh_hosted_translate(struct vh_hosted_exit *x, const struct kvm_sregs *sr, uint64_t rflags,
			unsigned cpl, uint64_t lin, unsigned access, uint64_t *gpa,
			struct vh_exc *exc)
{
	struct vh_walk w = { .cr0 = sr->cr0, .cr3 = sr->cr3, .cr4 = sr->cr4, .efer = sr->efer,
			     .rflags = rflags, .cpl = cpl, .maxphyaddr = MAXPHYADDR,
			     .read = read_table, .ctx = x };
	uint32_t pf_error = 0;

	switch (vh_walk_translate(&w, lin, access, gpa, &pf_error)) {
	case VH_WALK_OK:
		return 0;
	case VH_WALK_FAULT:
		*exc = (struct vh_exc){ .vector = VH_EXC_PF, .error = pf_error, .cr2 = lin };
		return 1;
	case VH_WALK_NO_TABLES:
	default:
		return -1;
	}
}

/* Reads len bytes at guest-linear lin with the rights of cpl (and
 * rflags' AC) through the shared page walk: 0, 1 with *exc (the guest's
 * #PF), -1 when not in guest memory. */
static int read_as(struct vh_hosted_exit *x, const struct kvm_sregs *sr, uint64_t rflags,
		   unsigned cpl, uint64_t lin, void *buf, size_t len, struct vh_exc *exc)
{
	uint8_t *p = buf;
	bool lm = sr->efer & (1u << 10);

	while (len) {
		size_t n = VH_PAGE_SIZE - (lin & (VH_PAGE_SIZE - 1));
		uint64_t gpa;
		int rc;

		if (n > len)
			n = len;
		if ((rc = vh_hosted_translate(x, sr, rflags, cpl, lin, 0, &gpa, exc)) != 0)
			return rc;
		if (vh_mem_guest_read(&x->w->d->host, x->vm, gpa, p, n, NULL) != VH_OK)
			return -1;
		p += n;
		lin += n;
		if (!lm)
			lin &= 0xffffffffu; /* outside long mode: wraps at 4 GiB */
		len -= n;
	}
	return 0;
}

int vh_hosted_read_as(struct vh_hosted_exit *x, const struct kvm_sregs *sr, uint64_t rflags,
		      unsigned cpl, uint64_t lin, void *buf, size_t len, struct vh_exc *exc)
{
	return read_as(x, sr, rflags, cpl, lin, buf, len, exc);
}

/* Descriptor-table reads are the CPU's implicit supervisor accesses:
 * rights of CPL 0, and from CPL 3 SMAP without regard to AC. */
struct desc_ctx {
	struct vh_hosted_exit *x;
	const struct kvm_sregs *sr;
	uint64_t rflags;
};

static int read_desc(void *ctx, uint64_t lin, void *buf, unsigned size, struct vh_exc *exc)
{
	struct desc_ctx *c = ctx;

	return read_as(c->x, c->sr, c->rflags, 0, lin, buf, size, exc);
}

static void to_kvm(const struct vh_seg *s, struct kvm_segment *k)
{
	*k = (struct kvm_segment){ .base = s->base, .limit = s->limit, .selector = s->selector,
				   .type = s->type, .present = s->present, .dpl = s->dpl,
				   .db = s->db, .s = s->s, .l = s->l, .g = s->g, .avl = s->avl };
}

void vh_hosted_seg_from_kvm(const struct kvm_segment *k, struct vh_seg *s)
{
	*s = (struct vh_seg){ .base = k->base, .limit = k->limit, .selector = k->selector,
			      .type = k->type, .present = k->present, .dpl = k->dpl, .db = k->db,
			      .s = k->s, .l = k->l, .g = k->g, .avl = k->avl,
			      .unusable = k->unusable };
}

/* Loads and checks the code segment (and, for a return to an outer
 * level, the stack segment) of a protected-mode IRET after the SDM's
 * pseudo-code: 0, 1 with *exc for the guest, -1 when vh cannot go on. */
static int iret_segments(struct vh_hosted_exit *x, const struct kvm_sregs *sr, uint64_t rflags,
			 unsigned cpl, uint16_t cs_sel, uint16_t ss_sel, bool outer,
			 struct vh_seg *cs, struct vh_seg *ss, struct vh_exc *exc)
{
	struct desc_ctx c = { x, sr, cpl == 3 ? rflags & ~(uint64_t)(1u << 18) : rflags };
	struct vh_seg_tables t = { .gdt_base = sr->gdt.base, .gdt_limit = sr->gdt.limit,
				   .ldt_base = sr->ldt.base, .ldt_limit = sr->ldt.limit,
				   .ldt_usable = sr->ldt.present && !sr->ldt.unusable,
				   .read = read_desc, .ctx = &c };
	int rc;

	*exc = (struct vh_exc){ .vector = VH_EXC_GP };
	if (!(cs_sel & ~3u))
		return 1; /* a null CS: #GP(0) */
	if ((rc = vh_seg_load(&t, cs_sel, cs, exc)) != 0)
		return rc;
	if (!vh_iret_check_cs(cs, cpl, exc))
		return 1;
	if (cs->l)
		return -1; /* a 64-bit code segment outside long mode: not ours */
	if (!outer)
		return 0;
	*exc = (struct vh_exc){ .vector = VH_EXC_GP };
	if (!(ss_sel & ~3u))
		return 1;
	if ((rc = vh_seg_load(&t, ss_sel, ss, exc)) != 0)
		return rc;
	return vh_iret_check_ss(ss, cs->selector & 3u, exc) ? 0 : 1;
}

/* The i-th word of an IRET frame: 4 bytes (32-bit IRET) or 2. */
static uint32_t frame_word(const uint8_t *raw, unsigned i, bool wide)
{
	if (!wide)
		return (uint32_t)(raw[2 * i] | raw[2 * i + 1] << 8);
	return raw[4 * i] | raw[4 * i + 1] << 8 | raw[4 * i + 2] << 16 |
	       (uint32_t)raw[4 * i + 3] << 24;
}

/* Real mode, and protected mode back to the same or an outer privilege
 * level (what a 32-bit kernel's handlers and its return to user mode
 * do), after the SDM's IRET pseudo-code: the frame read with the current
 * CPL's rights, the stack's limit checked (#SS(0)), CS and on an outer
 * return SS read from the GDT or LDT with supervisor rights and checked
 * (#GP, #NP or #SS with the selector), EIP within the new CS's limit
 * (#GP(0)); EFLAGS follow vh_iret_eflags with the old CPL; on an outer
 * return ESP and SS come from the frame and ES, DS, FS, GS whose DPL is
 * below the new CPL are nulled.  A return to virtual-8086 mode or a task
 * return is refused (false: the caller stops the VM and says why). */
bool vh_hosted_emulate_iret(struct vh_hosted_exit *x, struct kvm_regs *r, struct kvm_sregs *sr)
{
	bool prot = sr->cr0 & 1, wide = sr->cs.db, outer = false;
	unsigned cpl = prot ? sr->ss.dpl : 0, w = wide ? 4 : 2;
	uint64_t sp = sr->ss.db ? (uint32_t)r->rsp : (uint16_t)r->rsp;
	uint32_t frame[5] = { 0 };
	uint8_t raw[20];
	struct vh_seg cs, ss, cur_ss;
	struct vh_exc exc;
	int rc;

	if (sr->efer & (1u << 10))
		return false; /* long mode: KVM's own business */
	if (prot && (r->rflags & VH_EFLAGS_VM))
		return false; /* virtual-8086 mode */
	if (prot && (r->rflags & VH_EFLAGS_NT))
		return false; /* a task return */
	vh_hosted_seg_from_kvm(&sr->ss, &cur_ss);
	if (prot && !vh_seg_access_ok(&cur_ss, sp, 3 * w, false)) {
		exc = (struct vh_exc){ .vector = VH_EXC_SS };
		return vh_hosted_inject(x, sr, &exc);
	}
	rc = read_as(x, sr, r->rflags, cpl, sr->ss.base + sp, raw, 3 * w, &exc);
	if (rc)
		return rc > 0 && vh_hosted_inject(x, sr, &exc);
	for (unsigned i = 0; i < 3; i++)
		frame[i] = frame_word(raw, i, wide);
	if (!prot) {
		cs = (struct vh_seg){ 0 };
		vh_hosted_seg_from_kvm(&sr->cs, &cs);
		cs.selector = (uint16_t)frame[1];
		cs.base = (uint64_t)(uint16_t)frame[1] << 4;
	} else {
		/* VM in the frame matters only at CPL 0: a return to
		 * virtual-8086 mode. */
		if (cpl == 0 && wide && (frame[2] & VH_EFLAGS_VM))
			return false;
		outer = (frame[1] & 3u) > cpl;
		if (outer) {
			/* ESP and SS follow EIP, CS and EFLAGS. */
			if (!vh_seg_access_ok(&cur_ss, sp, 5 * w, false)) {
				exc = (struct vh_exc){ .vector = VH_EXC_SS };
				return vh_hosted_inject(x, sr, &exc);
			}
			rc = read_as(x, sr, r->rflags, cpl, sr->ss.base + sp + 3 * w, raw + 3 * w,
				     2 * w, &exc);
			if (rc)
				return rc > 0 && vh_hosted_inject(x, sr, &exc);
			for (unsigned i = 3; i < 5; i++)
				frame[i] = frame_word(raw, i, wide);
		}
		rc = iret_segments(x, sr, r->rflags, cpl, (uint16_t)frame[1], (uint16_t)frame[4],
				   outer, &cs, &ss, &exc);
		if (rc)
			return rc > 0 && vh_hosted_inject(x, sr, &exc);
		if (frame[0] > cs.limit) {
			exc = (struct vh_exc){ .vector = VH_EXC_GP };
			return vh_hosted_inject(x, sr, &exc);
		}
	}
	r->rip = frame[0];
	r->rflags = vh_iret_eflags((uint32_t)r->rflags, frame[2], cpl, prot, wide);
	if (!outer) {
		sp += 3 * w;
		r->rsp = sr->ss.db ? (r->rsp & ~0xffffffffull) | (uint32_t)sp
				   : (r->rsp & ~0xffffull) | (uint16_t)sp;
		if (prot)
			to_kvm(&cs, &sr->cs);
		else
			sr->cs.selector = cs.selector, sr->cs.base = cs.base;
	} else {
		struct kvm_segment *data[] = { &sr->es, &sr->ds, &sr->fs, &sr->gs };
		unsigned new_cpl = cs.selector & 3u;

		r->rsp = frame[3];
		to_kvm(&cs, &sr->cs);
		to_kvm(&ss, &sr->ss);
		for (unsigned i = 0; i < sizeof(data) / sizeof(data[0]); i++) {
			struct vh_seg d;
			vh_hosted_seg_from_kvm(data[i], &d);
			if (!vh_iret_keeps_data_seg(&d, new_cpl))
				*data[i] = (struct kvm_segment){ .unusable = 1 };
		}
	}
	return ioctl(x->hv->fd, KVM_SET_SREGS, sr) == 0 && ioctl(x->hv->fd, KVM_SET_REGS, r) == 0;
}

#define CR4_OSXSAVE (1u << 18)

bool vh_hosted_emulate_xgetbv(struct vh_hosted_exit *x, unsigned len, struct kvm_regs *r,
			      struct kvm_sregs *sr)
{
	struct kvm_xcrs xcrs;
	uint32_t ecx = (uint32_t)r->rcx;
	struct vh_exc exc = { .vector = VH_EXC_GP };

	/* Without CR4.OSXSAVE it is #UD.  XCR0 comes from KVM; XINUSE
	 * (ECX 1, where the model offers XGETBV1) is answered as XCR0: a
	 * set bit only says the component may be out of its initial
	 * state, which is always true to say.  Any other ECX is #GP(0). */
	if (!(sr->cr4 & CR4_OSXSAVE)) {
		exc.vector = VH_EXC_UD;
		return vh_hosted_inject(x, sr, &exc);
	}
	if (ecx > 1 || (ecx == 1 && !x->hv->cpu.xgetbv1))
		return vh_hosted_inject(x, sr, &exc);
	memset(&xcrs, 0, sizeof(xcrs));
	if (ioctl(x->hv->fd, KVM_GET_XCRS, &xcrs) < 0)
		return false;
	for (uint32_t i = 0; i < xcrs.nr_xcrs && i < KVM_MAX_XCRS; i++) {
		if (xcrs.xcrs[i].xcr != 0)
			continue;
		r->rax = (uint32_t)xcrs.xcrs[i].value;
		r->rdx = (uint32_t)(xcrs.xcrs[i].value >> 32);
		r->rip += len;
		return ioctl(x->hv->fd, KVM_SET_REGS, r) == 0;
	}
	return false;
}
