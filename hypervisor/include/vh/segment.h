/* SPDX-License-Identifier: Apache-2.0 */
/* Protected-mode segments as the SDM defines them, for a backend that
 * does on the guest's behalf what the CPU would: check a string I/O
 * buffer against its segment (bare metal: the VM exit comes before the
 * CPU's own segment checks) or complete an IRET to another privilege
 * level (vh-hosted, where this host's KVM cannot).  Freestanding, so the
 * rules are unit-tested; a failed check names the guest's exception. */
#ifndef VH_SEGMENT_H
#define VH_SEGMENT_H

#include <stdbool.h>
#include <stdint.h>

#define VH_EXC_UD 6
#define VH_EXC_NP 11
#define VH_EXC_SS 12
#define VH_EXC_GP 13
#define VH_EXC_PF 14

/* The exception the guest gets: vector, error code (all these push
 * one), CR2 for a #PF. */
struct vh_exc {
	uint8_t vector;
	uint32_t error;
	uint64_t cr2;
};

/* A segment as the descriptor cache holds it: the limit in bytes (the
 * granularity applied), type the descriptor's 4 type bits, s 1 for code
 * or data, unusable for a null selector's cache. */
struct vh_seg {
	uint64_t base;
	uint32_t limit;
	uint16_t selector;
	uint8_t type, dpl;
	bool s, present, avl, l, db, g, unusable;
};

/* Type bits of a code or data segment (s = 1). */
#define VH_SEG_CODE       0x8u
#define VH_SEG_CONFORMING 0x4u /* code */
#define VH_SEG_READABLE   0x2u /* code */
#define VH_SEG_EXPAND_DN  0x4u /* data */
#define VH_SEG_WRITABLE   0x2u /* data */

/* Decodes an 8-byte GDT/LDT descriptor (low and high doubleword). */
void vh_seg_decode(uint32_t lo, uint32_t hi, uint16_t selector, struct vh_seg *out);
/* From a VMCS guest segment: access rights in the VMX layout (type 3:0,
 * S 4, DPL 6:5, P 7, AVL 12, L 13, D/B 14, G 15, unusable 16). */
void vh_seg_from_vmx(uint16_t selector, uint64_t base, uint32_t limit, uint32_t ar,
		     struct vh_seg *out);

/* A data access of size bytes at offset through s, as a CPU outside
 * 64-bit mode checks it: the segment usable, readable (read) or a
 * writable data segment (write), every byte within the limit (above it
 * for expand-down, up to 64 KiB or 4 GiB by D/B).  False: the guest's
 * #GP(0), or #SS(0) when s is the stack segment. */
bool vh_seg_access_ok(const struct vh_seg *s, uint64_t offset, unsigned size, bool write);

/* Descriptor tables and a way to read them: read() copies size bytes
 * at a guest-linear address with supervisor rights, 0, 1 with *exc
 * filled (the guest's #PF), -1 when the bytes are not guest memory. */
struct vh_seg_tables {
	uint64_t gdt_base, ldt_base;
	uint32_t gdt_limit, ldt_limit;
	bool ldt_usable;
	int (*read)(void *ctx, uint64_t lin, void *buf, unsigned size, struct vh_exc *exc);
	void *ctx;
};

/* Loads the descriptor a non-null selector names: 0, 1 with *exc (a
 * selector past its table's limit or through an unusable LDT:
 * #GP(selector); or the read's fault), -1 as read() does. */
int vh_seg_load(const struct vh_seg_tables *t, uint16_t selector, struct vh_seg *out,
		struct vh_exc *exc);

/* IRET's checks of the code segment it returns to, after the SDM's
 * pseudo-code (protected mode): a code segment, RPL >= CPL, DPL == RPL
 * (non-conforming) or DPL <= RPL (conforming), else #GP(selector);
 * present, else #NP(selector).  True when it passes. */
bool vh_iret_check_cs(const struct vh_seg *cs, unsigned cpl, struct vh_exc *exc);
/* The stack segment of a return to an outer level (cs_rpl): RPL and DPL
 * equal to the new CS's RPL, a writable data segment, else
 * #GP(selector); present, else #SS(selector). */
bool vh_iret_check_ss(const struct vh_seg *ss, unsigned cs_rpl, struct vh_exc *exc);
/* After a return to new_cpl, whether ES/DS/FS/GS keeps seg (else it is
 * nulled): not null, and not a data or non-conforming code segment
 * whose DPL is below new_cpl. */
bool vh_iret_keeps_data_seg(const struct vh_seg *seg, unsigned new_cpl);

#endif
