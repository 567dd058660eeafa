/* SPDX-License-Identifier: Apache-2.0 */
/* The guest page walk (vh/pagewalk.h), after the SDM's "Access Rights"
 * and "Page-Fault Exceptions" (vol. 3A, 4.6, 4.7). */
#include "vh/pagewalk.h"

#define CR0_PG    (1ull << 31)
#define CR0_WP    (1ull << 16)
#define CR4_PSE   (1ull << 4)
#define CR4_PAE   (1ull << 5)
#define CR4_SMAP  (1ull << 21)
#define EFER_LMA  (1ull << 10)
#define EFER_NXE  (1ull << 11)
#define RFLAGS_AC (1ull << 18)

#define PTE_P     0x1ull
#define PTE_RW    0x2ull
#define PTE_US    0x4ull
#define PTE_PS    0x80ull
#define PTE_NX    (1ull << 63)
#define ADDR_MASK 0x000ffffffffff000ull

/* Bits reserved in every PAE/4-level entry: above MAXPHYADDR, and XD
 * without EFER.NXE. */
static uint64_t reserved_common(const struct vh_walk *w)
{
	unsigned m = w->maxphyaddr < 52 ? w->maxphyaddr : 52;
	uint64_t r = ((1ull << 52) - 1) & ~((1ull << m) - 1);

	if (!(w->efer & EFER_NXE))
		r |= PTE_NX;
	return r;
}

/* The rights the walk gathered (AND of R/W and of U/S over the levels)
 * against the access. */
static bool allowed(const struct vh_walk *w, unsigned access, bool rw, bool us)
{
	bool write = access & VH_WALK_WRITE;

	if (access & VH_WALK_NO_PERMS)
		return true;
	if (w->cpl == 3)
		return us && (!write || rw);
	/* Supervisor: SMAP keeps it off user pages unless RFLAGS.AC. */
	if (us && (w->cr4 & CR4_SMAP) && !(w->rflags & RFLAGS_AC))
		return false;
	return !write || rw || !(w->cr0 & CR0_WP);
}

static enum vh_walk_result fault(const struct vh_walk *w, unsigned access, uint32_t bits,
				 uint32_t *pf_error)
{
	*pf_error =
	    bits | ((access & VH_WALK_WRITE) ? VH_PF_WRITE : 0) | (w->cpl == 3 ? VH_PF_USER : 0);
	return VH_WALK_FAULT;
}

static enum vh_walk_result walk32(const struct vh_walk *w, uint64_t lin, unsigned access,
				  uint64_t *gpa, uint32_t *pf_error)
{
	uint32_t pde, pte;
	uint64_t table = w->cr3 & 0xfffff000ull;

	if (w->read(w->ctx, table + ((lin >> 22) & 0x3ff) * 4, &pde, 4))
		return VH_WALK_NO_TABLES;
	if (!(pde & PTE_P))
		return fault(w, access, 0, pf_error);
	if ((pde & PTE_PS) && (w->cr4 & CR4_PSE)) {
		if (pde & (1u << 21)) /* reserved in a 4 MiB entry */
			return fault(w, access, VH_PF_PRESENT | VH_PF_RSVD, pf_error);
		if (!allowed(w, access, pde & PTE_RW, pde & PTE_US))
			return fault(w, access, VH_PF_PRESENT, pf_error);
		*gpa = (((uint64_t)pde & 0x1fe000u) << 19) | (pde & 0xffc00000u) | (lin & 0x3fffff);
		return VH_WALK_OK;
	}
	if (w->read(w->ctx, (pde & 0xfffff000u) + ((lin >> 12) & 0x3ff) * 4, &pte, 4))
		return VH_WALK_NO_TABLES;
	if (!(pte & PTE_P))
		return fault(w, access, 0, pf_error);
	if (!allowed(w, access, (pde & pte) & PTE_RW, (pde & pte) & PTE_US))
		return fault(w, access, VH_PF_PRESENT, pf_error);
	*gpa = (pte & 0xfffff000u) | (lin & 0xfff);
	return VH_WALK_OK;
}

/* PAE (3 levels, the top one the four PDPTEs) and 4-level paging. */
static enum vh_walk_result walk64(const struct vh_walk *w, uint64_t lin, unsigned access,
				  uint64_t *gpa, uint32_t *pf_error)
{
	bool lma = w->efer & EFER_LMA;
	int levels = lma ? 4 : 3;
	uint64_t table = lma ? (w->cr3 & ADDR_MASK) : (w->cr3 & 0xffffffe0ull);
	uint64_t rsvd = reserved_common(w);
	bool rw = true, us = true;

	for (int l = levels - 1; l >= 0; l--) {
		unsigned shift = 12 + 9 * (unsigned)l;
		bool pdpte = !lma && l == 2;
		uint64_t idx = pdpte ? (lin >> 30) & 3 : (lin >> shift) & 0x1ff;
		uint64_t e, r = rsvd;

		if (w->read(w->ctx, table + idx * 8, &e, 8))
			return VH_WALK_NO_TABLES;
		if (!(e & PTE_P))
			return fault(w, access, 0, pf_error);
		bool large = (e & PTE_PS) && (l == 1 || (l == 2 && lma));
		if (l == 3 || pdpte)
			r |= PTE_PS; /* no large pages at the PML4 or a PAE PDPTE */
		if (large)
			r |= ((1ull << shift) - 1) & ~0x1fffull; /* bits 12 is PAT */
		if (e & r)
			return fault(w, access, VH_PF_PRESENT | VH_PF_RSVD, pf_error);
		/* A PAE PDPTE has no R/W or U/S bits. */
		if (!pdpte) {
			rw = rw && (e & PTE_RW);
			us = us && (e & PTE_US);
		}
		if (large || l == 0) {
			uint64_t mask = (1ull << shift) - 1;
			if (!allowed(w, access, rw, us))
				return fault(w, access, VH_PF_PRESENT, pf_error);
			*gpa = (e & ADDR_MASK & ~mask) | (lin & mask);
			return VH_WALK_OK;
		}
		table = e & ADDR_MASK;
	}
	return VH_WALK_NO_TABLES; /* not reached: level 0 always ends the walk */
}

enum vh_walk_result vh_walk_translate(const struct vh_walk *w, uint64_t lin, unsigned access,
				      uint64_t *gpa, uint32_t *pf_error)
{
	*pf_error = 0;
	if (!(w->cr0 & CR0_PG)) {
		*gpa = (w->efer & EFER_LMA) ? lin : (lin & 0xffffffffull);
		return VH_WALK_OK;
	}
	if (!(w->cr4 & CR4_PAE))
		return walk32(w, lin & 0xffffffffull, access, gpa, pf_error);
	return walk64(w, (w->efer & EFER_LMA) ? lin : (lin & 0xffffffffull), access, gpa, pf_error);
}
