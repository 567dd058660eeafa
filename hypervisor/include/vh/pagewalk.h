/* SPDX-License-Identifier: Apache-2.0 */
/* A guest page walk with the CPU's permission checks, for the places a
 * backend touches guest-linear memory on the guest's behalf (string I/O
 * on bare metal, an IRET's frame on vh-hosted): what the guest could not
 * do itself it cannot do through vh either.  32-bit, PAE and 4-level
 * paging; R/W (with CR0.WP for supervisor writes), U/S at CPL 3, SMAP
 * (CR4.SMAP unless RFLAGS.AC, for supervisor access to user pages) and
 * reserved bits; a refusal comes with the #PF error code the CPU would
 * push.  Accessed and dirty bits are not set. */
#ifndef VH_PAGEWALK_H
#define VH_PAGEWALK_H

#include <stdbool.h>
#include <stdint.h>

/* Access kinds (bits). */
#define VH_WALK_WRITE 0x1u
/* Presence and reserved bits only: re-reading what the CPU already
 * fetched (an instruction's bytes). */
#define VH_WALK_NO_PERMS 0x2u

/* #PF error code bits. */
#define VH_PF_PRESENT 0x1u
#define VH_PF_WRITE   0x2u
#define VH_PF_USER    0x4u
#define VH_PF_RSVD    0x8u

struct vh_walk {
	uint64_t cr0, cr3, cr4, efer, rflags;
	unsigned cpl;
	unsigned maxphyaddr; /* physical address bits (CPUID 0x80000008) */
	/* Reads size (4 or 8) bytes of a page-table entry at gpa; 0 or -1
	 * (outside guest memory). */
	int (*read)(void *ctx, uint64_t gpa, void *buf, unsigned size);
	void *ctx;
};

enum vh_walk_result {
	VH_WALK_OK,
	VH_WALK_FAULT,     /* the guest's #PF: *pf_error set, CR2 = the address */
	VH_WALK_NO_TABLES, /* a table outside guest memory: not the guest's #PF */
};

enum vh_walk_result vh_walk_translate(const struct vh_walk *w, uint64_t lin, unsigned access,
				      uint64_t *gpa, uint32_t *pf_error);

#endif
