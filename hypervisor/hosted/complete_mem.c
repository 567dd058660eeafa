/* SPDX-License-Identifier: Apache-2.0 */
/* The memory instructions complete.c completes: CMPXCHG8B, CMPXCHG16B and
 * the cache-line flushes.  The operand is checked as the CPU checks it:
 * the segment's limit outside 64-bit mode and the canonical form inside
 * it (#GP(0), #SS(0) through SS), CMPXCHG16B's 16-byte alignment
 * (#GP(0)), then every page it touches through the shared page walk with
 * the guest's CPL, CR0.WP, SMAP and AC (#PF with the CPU's error code and
 * CR2; CMPXCHG is a write whether or not it compares equal, a flush a
 * read).  Nothing of the guest changes before every check has passed.
 *
 * Atomicity: the other vCPUs of the VM run natively in KVM on the same
 * host frames, so a lock taken here would not keep them out.  The
 * compare-exchange is therefore done by the host CPU on the guest's frame
 * itself (LOCK CMPXCHG16B / CMPXCHG8B on vh_mem_guest_ptr()), which every
 * vCPU sees as one locked access, as on hardware.  The host lock, held
 * through the exit, keeps the core from remapping the frame meanwhile.
 * A CMPXCHG8B that straddles two pages (a split lock on hardware) is the
 * one case done as a read, compare and write under the host lock only:
 * vCPUs of the same VM that write those bytes at that instant may race it.
 * The page walk sets no accessed or dirty bits (vh/pagewalk.h). */
#define _GNU_SOURCE
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "hosted.h"
#include "vh/mem.h"
#include "vh/pagewalk.h"
#include "vh/segment.h"
#include "vh/vm.h"

#define EFER_LMA   (1u << 10)
#define CR4_LA57   (1u << 12)
#define RFLAGS_ZF  (1u << 6)
#define RFLAGS_VM  (1u << 17)

/* An operand located and checked: its pages' guest-physical addresses. */
struct operand {
	uint64_t lin;
	unsigned size;
	uint64_t gpa[2]; /* of its first byte, and of the next page's first byte */
	unsigned first;  /* bytes in the first page */
};

static bool canonical(uint64_t lin, const struct kvm_sregs *sr)
{
	unsigned bits = (sr->cr4 & CR4_LA57) ? 57 : 48;
	int64_t s = (int64_t)(lin << (64 - bits)) >> (64 - bits);

	return (uint64_t)s == lin;
}

bool vh_hosted_operand_linear(const struct vh_unem *u, const struct kvm_regs *r,
			      const struct kvm_sregs *sr, unsigned size, bool write, uint64_t *lin,
			      struct vh_exc *exc)
{
	const struct kvm_segment *kseg;
	bool lm = (sr->efer & EFER_LMA) && sr->cs.l;
	uint64_t off;

	*lin = vh_hosted_mem_linear(&u->mem, r, sr, &off, &kseg);
	*exc = (struct vh_exc){ .vector = u->mem.seg == VH_SREG_SS ? VH_EXC_SS : VH_EXC_GP };
	if (lm)
		return canonical(*lin, sr) && canonical(*lin + size - 1, sr);
	if ((sr->cr0 & 1) && !(r->rflags & RFLAGS_VM)) {
		struct vh_seg seg;

		vh_hosted_seg_from_kvm(kseg, &seg);
		if (!vh_seg_access_ok(&seg, off, size, write))
			return false;
	}
	*lin &= 0xffffffffu;
	return true;
}

/* Checks the operand of u with the access given: 0, 1 with *exc for the
 * guest, -1 when the page tables are not guest memory. */
static int locate(struct vh_hosted_exit *x, const struct vh_unem *u, const struct kvm_regs *r,
		  const struct kvm_sregs *sr, unsigned size, unsigned access, struct operand *op,
		  struct vh_exc *exc)
{
	bool lm = (sr->efer & EFER_LMA) && sr->cs.l;
	unsigned cpl = !(sr->cr0 & 1) ? 0 : (r->rflags & RFLAGS_VM) ? 3 : sr->ss.dpl;
	int rc;

	op->size = size;
	if (!vh_hosted_operand_linear(u, r, sr, size, access & VH_WALK_WRITE, &op->lin, exc))
		return 1;
	if (u->kind == VH_UNEM_CMPXCHG16B && (op->lin & 15)) {
		*exc = (struct vh_exc){ .vector = VH_EXC_GP };
		return 1;
	}
	op->first = (unsigned)(VH_PAGE_SIZE - (op->lin & (VH_PAGE_SIZE - 1)));
	if (op->first > size)
		op->first = size;
	if ((rc = vh_hosted_translate(x, sr, r->rflags, cpl, op->lin, access, &op->gpa[0], exc)))
		return rc;
	if (op->first < size) {
		uint64_t next = op->lin + op->first;
		if (!lm)
			next &= 0xffffffffu;
		if ((rc = vh_hosted_translate(x, sr, r->rflags, cpl, next, access, &op->gpa[1],
					      exc)))
			return rc;
	}
	return 0;
}

/* Both halves RAM in the VM's layout (a device has no locked 8- or
 * 16-byte access). */
static bool in_ram(struct vh_hosted_exit *x, const struct operand *op)
{
	return vh_mem_guest_range_ok(x->vm, op->gpa[0], op->first) &&
	       (op->first == op->size ||
		vh_mem_guest_range_ok(x->vm, op->gpa[1], op->size - op->first));
}

static bool crash(struct vh_hosted_exit *x, const struct vh_unem *u, const struct operand *op,
		  const char *what)
{
	char why[160];

	snprintf(why, sizeof(why), "vCPU %u: %s of %#llx (guest-physical %#llx): %s",
		 x->hv->index, u->name, (unsigned long long)op->lin,
		 (unsigned long long)op->gpa[0], what);
	vh_vm_crash(&x->w->d->host, x->vm, why);
	return false;
}

static bool cas16(void *p, uint64_t *lo, uint64_t *hi, uint64_t new_lo, uint64_t new_hi)
{
	bool equal;

	__asm__ volatile("lock cmpxchg16b %1"
			 : "=@ccz"(equal), "+m"(*(volatile uint64_t(*)[2])p), "+a"(*lo), "+d"(*hi)
			 : "b"(new_lo), "c"(new_hi)
			 : "memory");
	return equal;
}

static bool cas8(void *p, uint32_t *lo, uint32_t *hi, uint32_t new_lo, uint32_t new_hi)
{
	bool equal;

	__asm__ volatile("lock cmpxchg8b %1"
			 : "=@ccz"(equal), "+m"(*(volatile uint32_t(*)[2])p), "+a"(*lo), "+d"(*hi)
			 : "b"(new_lo), "c"(new_hi)
			 : "memory");
	return equal;
}

/* CMPXCHG8B across two pages: read, compare, write, under the host lock. */
static int cas8_split(struct vh_hosted_exit *x, const struct operand *op, uint32_t *lo,
		      uint32_t *hi, uint32_t new_lo, uint32_t new_hi, bool *equal)
{
	struct vh_host *h = &x->w->d->host;
	uint8_t cur[8], nv[8];
	uint32_t clo, chi;

	if (vh_mem_guest_read(h, x->vm, op->gpa[0], cur, op->first, NULL) != VH_OK ||
	    vh_mem_guest_read(h, x->vm, op->gpa[1], cur + op->first, 8 - op->first, NULL) != VH_OK)
		return -1;
	memcpy(&clo, cur, 4);
	memcpy(&chi, cur + 4, 4);
	*equal = clo == *lo && chi == *hi;
	if (*equal) {
		memcpy(nv, &new_lo, 4);
		memcpy(nv + 4, &new_hi, 4);
	} else {
		memcpy(nv, cur, 8); /* the CPU writes the old value back */
		*lo = clo;
		*hi = chi;
	}
	if (vh_mem_guest_write(h, x->vm, op->gpa[0], nv, op->first, NULL) != VH_OK ||
	    vh_mem_guest_write(h, x->vm, op->gpa[1], nv + op->first, 8 - op->first, NULL) != VH_OK)
		return -1;
	return 0;
}

bool vh_hosted_complete_cmpxchg(struct vh_hosted_exit *x, const struct vh_unem *u,
				struct kvm_regs *r, struct kvm_sregs *sr)
{
	bool wide = u->kind == VH_UNEM_CMPXCHG16B, equal;
	unsigned size = wide ? 16 : 8;
	struct operand op;
	struct vh_exc exc;
	void *p;
	int rc;

	rc = locate(x, u, r, sr, size, VH_WALK_WRITE, &op, &exc);
	if (rc < 0)
		return crash(x, u, &op, "page tables outside guest memory");
	if (rc > 0)
		return vh_hosted_inject(x, sr, &exc);
	if (!in_ram(x, &op))
		return crash(x, u, &op, "a locked access to device memory");
	if (wide) {
		uint64_t lo = r->rax, hi = r->rdx;
		if (vh_mem_guest_ptr(&x->w->d->host, x->vm, op.gpa[0], 16, true, &p, NULL) != VH_OK)
			return crash(x, u, &op, "the host refused the frame");
		equal = cas16(p, &lo, &hi, r->rbx, r->rcx);
		r->rax = lo;
		r->rdx = hi;
	} else {
		uint32_t lo = (uint32_t)r->rax, hi = (uint32_t)r->rdx;
		if (op.first == 8) {
			if (vh_mem_guest_ptr(&x->w->d->host, x->vm, op.gpa[0], 8, true, &p, NULL) !=
			    VH_OK)
				return crash(x, u, &op, "the host refused the frame");
			equal = cas8(p, &lo, &hi, (uint32_t)r->rbx, (uint32_t)r->rcx);
		} else if (cas8_split(x, &op, &lo, &hi, (uint32_t)r->rbx, (uint32_t)r->rcx,
				      &equal) < 0) {
			return crash(x, u, &op, "the host refused a frame");
		}
		/* EDX:EAX are written only when the compare fails (a 32-bit
		 * write: the upper halves become 0 in 64-bit mode). */
		if (!equal) {
			r->rax = lo;
			r->rdx = hi;
		}
	}
	if (equal)
		r->rflags |= RFLAGS_ZF;
	else
		r->rflags &= ~(uint64_t)RFLAGS_ZF;
	vh_hosted_advance_rip(r, sr, u->len);
	return ioctl(x->hv->fd, KVM_SET_REGS, r) == 0;
}

/* CLFLUSH, CLFLUSHOPT, CLWB: the guest's frames are the host's ordinary
 * write-back memory, coherent for every CPU, so once the operand passes
 * a byte load's checks there is nothing left to write back. */
bool vh_hosted_complete_flush(struct vh_hosted_exit *x, const struct vh_unem *u,
			      struct kvm_regs *r, struct kvm_sregs *sr)
{
	struct operand op;
	struct vh_exc exc;
	int rc = locate(x, u, r, sr, 1, 0, &op, &exc);

	if (rc < 0)
		return crash(x, u, &op, "page tables outside guest memory");
	if (rc > 0)
		return vh_hosted_inject(x, sr, &exc);
	vh_hosted_advance_rip(r, sr, u->len);
	return ioctl(x->hv->fd, KVM_SET_REGS, r) == 0;
}
