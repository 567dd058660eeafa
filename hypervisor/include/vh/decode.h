/* SPDX-License-Identifier: Apache-2.0 */
/* The one x86 instruction decoder both backends use on an exit that
 * needs the guest's instruction: bare metal emulates an MMIO MOV with
 * it (arch/x86/mmio.c); vh-hosted finds the memory operands of an
 * instruction KVM failed to emulate, to fault their pages in
 * (hosted/guest_fault.c).  Freestanding, table-driven, unit-tested per
 * form (tests/unit/test_decode.c) and fuzzed (tests/fuzz/fuzz_decode.c).
 *
 * What it decodes: legacy prefixes (operand and address size, segment
 * override, LOCK, REP/REPE/REPNE) and REX; the one-byte opcodes with a
 * ModRM byte, the 0f, 0f 38 and 0f 3a maps (ModRM, SIB, displacement,
 * RIP-relative, immediates), MOV with an absolute address (a0-a3) and
 * the string instructions.  The instructions MMIO and string I/O need
 * get a kind of their own; every other instruction with a memory
 * operand is VH_INSN_OTHER, located but not interpreted.  Instructions
 * without a memory operand of either form (jumps, pushes, MOV r,imm),
 * VEX/EVEX/XOP encodings and opcodes with a ModRM extension that is
 * undefined for memory are VH_DECODE_UNSUPPORTED: the callers stop or
 * leave such an instruction to the CPU rather than guess its length. */
#ifndef VH_DECODE_H
#define VH_DECODE_H

#include <stdbool.h>
#include <stdint.h>

/* The architectural limit: a longer instruction is a #GP. */
#define VH_DECODE_MAX_LEN 15
/* base, index: no register. */
#define VH_DECODE_NO_REG 0xffu

/* The default operand and address size of the code segment, which is
 * all decoding depends on: real mode and 16-bit protected mode are 16,
 * 32-bit protected mode and compatibility mode with CS.D 32, 64-bit
 * mode (EFER.LMA and CS.L) 64. */
enum vh_decode_mode {
	VH_DECODE_16 = 16,
	VH_DECODE_32 = 32,
	VH_DECODE_64 = 64,
};

enum vh_decode_result {
	VH_DECODE_OK = 0,
	VH_DECODE_SHORT,       /* the bytes end before the instruction does */
	VH_DECODE_TOO_LONG,    /* over VH_DECODE_MAX_LEN bytes */
	VH_DECODE_UNSUPPORTED, /* an encoding outside the set above */
};

enum vh_insn_kind {
	VH_INSN_OTHER,     /* a memory operand located, the operation not named */
	VH_INSN_MOV_LOAD,  /* 8a 8b, a0 a1: memory to register */
	VH_INSN_MOV_STORE, /* 88 89, a2 a3: register to memory */
	VH_INSN_MOV_IMM,   /* c6 /0, c7 /0: immediate to memory */
	VH_INSN_MOVZX,     /* 0f b6, 0f b7 */
	VH_INSN_MOVSX,     /* 0f be, 0f bf */
	VH_INSN_MOVS,      /* a4 a5: DS:rSI to ES:rDI */
	VH_INSN_CMPS,      /* a6 a7 */
	VH_INSN_STOS,      /* aa ab: to ES:rDI */
	VH_INSN_LODS,      /* ac ad: from DS:rSI */
	VH_INSN_SCAS,      /* ae af */
	VH_INSN_INS,       /* 6c 6d: port DX to ES:rDI */
	VH_INSN_OUTS,      /* 6e 6f: DS:rSI to port DX */
};

/* Segment registers in their encoding order (as VMCS fields and
 * MOV Sreg number them). */
enum vh_sreg { VH_SREG_ES, VH_SREG_CS, VH_SREG_SS, VH_SREG_DS, VH_SREG_FS, VH_SREG_GS };

/* Registers are numbered as the encoding does: rAX 0, rCX, rDX, rBX,
 * rSP, rBP, rSI, rDI, r8 8 .. r15 15. */
struct vh_insn {
	uint8_t len;       /* bytes, 1..15 */
	uint8_t kind;      /* enum vh_insn_kind */
	uint8_t map;       /* 0 one-byte, 1 0f, 2 0f 38, 3 0f 3a */
	uint8_t opcode;    /* the opcode byte within its map */
	uint8_t op_size;   /* bytes the memory operand or string element has: 1 2 4 8 */
	uint8_t reg_size;  /* the register operand's: op_size, wider for MOVZX/MOVSX */
	uint8_t addr_size; /* 2 4 8 */
	uint8_t seg;       /* enum vh_sreg of the memory operand; strings: of the source */
	uint8_t rep;       /* 0, 0xf3 (REP, REPE) or 0xf2 (REPNE), the last given */
	uint8_t rex;       /* the REX byte, 0 without */
	bool lock;
	bool seg_override; /* seg comes from a prefix (64-bit mode: only FS, GS have a base) */
	bool has_modrm;
	uint8_t modrm;
	bool has_sib;
	uint8_t sib;
	/* A memory operand from ModRM or an absolute address (a0-a3):
	 * offset = base + (index << scale) + disp (+ the next
	 * instruction's rIP when rip_rel), truncated to addr_size. */
	bool has_mem;
	uint8_t base, index, scale;
	bool rip_rel;
	int64_t disp; /* sign-extended; a0-a3: the address, zero-extended */
	/* String instructions: their implicit operands. */
	bool str_src; /* seg:rSI */
	bool str_dst; /* ES:rDI */
	/* The register operand (ModRM.reg with REX.R; rAX for a0-a3);
	 * high_byte: AH CH DH BH, reg then names rAX..rBX.  Where the reg
	 * field extends the opcode (80-83, c0 c1, f6 f7, fe ff, ...) it is
	 * that field, and high_byte means nothing. */
	uint8_t reg;
	bool high_byte;
	uint8_t imm_size; /* 0 1 2 4 */
	/* As encoded, zero-extended; an imm32 of a 64-bit operation
	 * sign-extended, as the CPU uses it (c7 with REX.W). */
	uint64_t imm;
};

/* Decodes the instruction at b[0..n) (n may exceed the instruction;
 * nothing past b[min(n, 15) - 1] is read).  *out is filled on
 * VH_DECODE_OK and zeroed otherwise. */
enum vh_decode_result vh_decode(const uint8_t *b, unsigned n, enum vh_decode_mode mode,
				struct vh_insn *out);

/* All ones in the address size's bits. */
uint64_t vh_decode_addr_mask(const struct vh_insn *in);

/* The memory operand's offset in its segment, from the guest's
 * registers (gpr in encoding order) and the rIP of the instruction
 * itself. */
uint64_t vh_decode_offset(const struct vh_insn *in, const uint64_t gpr[16], uint64_t rip);

#endif
