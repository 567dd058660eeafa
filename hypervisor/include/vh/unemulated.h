/* SPDX-License-Identifier: Apache-2.0 */
/* Instructions a back end's hardware assist hands back to vh unexecuted.
 * This host's /dev/kvm (PVM: docs/hosted.md) reports some instructions a
 * stock kernel runs as emulation failures (KVM_EXIT_INTERNAL_ERROR,
 * suberror EMULATION) with RIP on them: a LOCK CMPXCHG16B in Linux's
 * SLUB, an INT3 of its self-test, SMAP's CLAC/STAC, ...  vh_unemulated()
 * says, from the instruction's bytes, the execution mode, the CPL and
 * the features the guest's CPU model (vh/cpuid.h) offers, what a real CPU
 * would do with it: run it (the back end completes it: VH_UNEM_COMPLETE),
 * raise #UD (the model does not offer it, a form that does not exist, a
 * privileged form at CPL > 0: VH_UNEM_UD), or nothing vh knows
 * (VH_UNEM_UNKNOWN: the caller retries or stops the guest with the
 * bytes named).  One table row per instruction form; freestanding,
 * unit-tested per row and with random bytes (tests/unit/test_unemulated.c). */
#ifndef VH_UNEMULATED_H
#define VH_UNEMULATED_H

#include <stdbool.h>
#include <stdint.h>

#include "vh/decode.h"

enum vh_unem_kind {
	VH_UNEM_NONE,
	VH_UNEM_IRET,       /* cf */
	VH_UNEM_INT3,       /* cc */
	VH_UNEM_INTN,       /* cd ib */
	VH_UNEM_INTO,       /* ce: invalid in 64-bit mode */
	VH_UNEM_INT1,       /* f1 */
	VH_UNEM_XGETBV,     /* 0f 01 d0 */
	VH_UNEM_CLAC,       /* 0f 01 ca */
	VH_UNEM_STAC,       /* 0f 01 cb */
	VH_UNEM_RDPRU,      /* 0f 01 fd */
	VH_UNEM_CMPXCHG8B,  /* 0f c7 /1 m64 */
	VH_UNEM_CMPXCHG16B, /* REX.W 0f c7 /1 m128, 64-bit mode */
	VH_UNEM_INVPCID,    /* 66 0f 38 82 /r m128 */
	VH_UNEM_CLFLUSH,    /* 0f ae /7 m8 */
	VH_UNEM_CLFLUSHOPT, /* 66 0f ae /7 m8 */
	VH_UNEM_CLWB,       /* 66 0f ae /6 m8 */
	VH_UNEM_XRSTOR,     /* 0f ae /5 mem (REX.W: XRSTOR64, the same here) */
	VH_UNEM_KINDS
};

enum vh_unem_verdict {
	VH_UNEM_UNKNOWN,  /* not in the table, or bytes that end too soon */
	VH_UNEM_COMPLETE, /* a real CPU runs it: the back end completes it */
	VH_UNEM_UD,       /* a real CPU with this model raises #UD */
};

/* The CPUID words of the guest's CPU model the table's rows test. */
struct vh_unem_cpu {
	uint32_t l1_ecx, l1_edx; /* leaf 1 */
	uint32_t l7_ebx;         /* leaf 7 subleaf 0 */
	uint32_t l80000008_ebx;
};

struct vh_unem {
	uint8_t kind;    /* enum vh_unem_kind */
	uint8_t verdict; /* enum vh_unem_verdict */
	uint8_t len;     /* the instruction's bytes (VH_UNEM_COMPLETE) */
	uint8_t vector;  /* INT n's n; 3 for INT3, 4 for INTO, 1 for INT1 */
	bool rex_w;
	struct vh_insn mem; /* the memory operand (has_mem) of a memory form */
	const char *name;   /* "CMPXCHG16B", ...; "?" for VH_UNEM_UNKNOWN */
};

/* Classifies the instruction at b[0..n) (n may exceed it; at most 15
 * bytes are read) executed in `mode` at `cpl`.  Never fails: anything
 * the table does not hold is VH_UNEM_UNKNOWN. */
void vh_unemulated(const uint8_t *b, unsigned n, enum vh_decode_mode mode, unsigned cpl,
		   const struct vh_unem_cpu *cpu, struct vh_unem *out);

/* Its name, "?" out of range. */
const char *vh_unem_name(unsigned kind);

#endif
