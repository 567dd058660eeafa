/* SPDX-License-Identifier: Apache-2.0 */
/* MMIO emulation for guest accesses outside guest memory: fetch the
 * faulting instruction through the guest's own page tables, decode the
 * MOV forms compilers emit for device registers, and hand the access to
 * the device models (vh_devices_mmio). */
#ifndef VH_X86_MMIO_H
#define VH_X86_MMIO_H

#include <stdbool.h>
#include <stdint.h>

#include "exit.h"
#include "vh/pagewalk.h"

enum vh_exit_action vh_mmio_emulate(struct vh_exit *x, uint64_t gpa, bool is_write);

/* Guest-linear to guest-physical through the guest's page tables (none,
 * 32-bit, PAE or 4-level) with the shared walker (vh/pagewalk.h) and the
 * guest's CR0, CR3, CR4, EFER, RFLAGS and CPL: access is VH_WALK_* bits;
 * a refusal fills the guest's #PF error code.  Host lock held. */
enum vh_walk_result vh_mmio_walk(struct vh_exit *x, uint64_t lin, unsigned access, uint64_t *gpa,
				 uint32_t *pf_error);
/* Presence only: re-reading an instruction the CPU already fetched.
 * False when not mapped. */
bool vh_mmio_translate(struct vh_exit *x, uint64_t lin, uint64_t *gpa);

/* A decoded MMIO instruction. */
struct vh_mmio_insn {
	unsigned len;      /* bytes */
	unsigned size;     /* operand size: 1, 2, 4, 8 */
	bool write;        /* to memory */
	bool has_imm;      /* the value written is imm */
	uint64_t imm;
	unsigned reg;      /* the register operand (VMX numbering) */
	bool zero_extend;  /* movzx: the loaded size < the register's */
	unsigned dst_size; /* register size for loads */
	bool high_byte;    /* AH/CH/DH/BH (8-bit, no REX) */
};

/* Decodes bytes[0..n) for a CPU in the given mode (code size 16, 32 or
 * 64).  False for anything but the supported MOV forms. */
bool vh_mmio_decode(const uint8_t *bytes, unsigned n, unsigned code_size, struct vh_mmio_insn *out);

#endif
