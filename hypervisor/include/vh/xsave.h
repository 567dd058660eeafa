/* SPDX-License-Identifier: Apache-2.0 */
/* The XSAVE area's layout and XRSTOR's header rules (SDM Vol. 1 13.4,
 * 13.8), for a back end that restores a guest's area itself (vh-hosted's
 * complete_xsave.c: this host's KVM hands XRSTOR back).  The legacy
 * region (x87 and SSE, components 0 and 1) and the 64-byte header sit at
 * fixed places in both formats; the extended region (i >= 2) is either
 * standard (each component at CPUID.(0DH,i).EBX) or compacted (XCOMP_BV
 * bit 63: only the components XCOMP_BV names, packed from byte 576 in
 * ascending order, each rounded up to 64 where CPUID.(0DH,i).ECX[1]
 * says so).  Freestanding and pure: unit-tested in
 * tests/unit/test_xsave.c against tables of leaf 0xd values. */
#ifndef VH_XSAVE_H
#define VH_XSAVE_H

#include <stdbool.h>
#include <stdint.h>

#define VH_XSAVE_LEGACY_BYTES 512u
#define VH_XSAVE_HEADER_BYTES 64u
#define VH_XSAVE_EXT_START    576u         /* the extended region's first byte */
#define VH_XSAVE_COMPACTED    (1ull << 63) /* XCOMP_BV's format bit */
#define VH_XSAVE_MXCSR_INIT   0x1f80u

/* Leaf 0xd's per-component words, subleaves 2..63 (0 and 1 unused). */
struct vh_xsave_leafd {
	uint32_t size[64]; /* EAX: the component's bytes (0: not a component) */
	uint32_t off[64];  /* EBX: its offset in the standard format */
	uint64_t align64;  /* bit i: ECX[1], 64-byte aligned when compacted */
};

/* The compacted offsets for XCOMP_BV: off[i] for each i >= 2 it names,
 * 0 for the others.  Returns the area's end (VH_XSAVE_EXT_START when it
 * names no component above 1), or 0 where it names a component leaf 0xd
 * gives no size, or the sum passes 32 bits: no layout a CPU has. */
uint32_t vh_xsave_compacted_offsets(const struct vh_xsave_leafd *l, uint64_t xcomp_bv,
				    uint32_t off[64]);

/* The checks XRSTOR's compacted form makes on the 64-byte header before
 * it restores anything, each a #GP(0) when it fails: XCOMP_BV[62:0]
 * within XCR0, XSTATE_BV within XCOMP_BV, header bytes 16..63 zero.
 * True when the header passes. */
bool vh_xsave_compacted_header_ok(const uint8_t header[VH_XSAVE_HEADER_BYTES], uint64_t xcr0);

/* What one XRSTOR loads once its checks passed: RFBM (XCR0 & EDX:EAX),
 * XSTATE_BV, where each component i >= 2 sits in the guest's area (src),
 * and MXCSR's new value where it gets one. */
struct vh_xsave_restore {
	uint64_t rfbm, xstate_bv;
	uint32_t src[64];
	bool set_mxcsr;
	uint32_t mxcsr;
};

/* The compacted form's restore, from the area's first 576 bytes (legacy
 * region and a header vh_xsave_compacted_header_ok() passed): src from
 * XCOMP_BV's layout, MXCSR from memory where RFBM and XSTATE_BV both name
 * SSE, 1F80H where RFBM does and XSTATE_BV does not, untouched where RFBM
 * does not (the compacted rule; the standard form loads it from memory
 * for SSE or AVX).  Returns how many bytes of the area the restore reads
 * (the end of the last component RFBM & XSTATE_BV names), 0 where
 * XCOMP_BV has no layout (vh_xsave_compacted_offsets()). */
uint32_t vh_xsave_compacted_plan(const struct vh_xsave_leafd *l,
				 const uint8_t area[VH_XSAVE_EXT_START], uint64_t rfbm,
				 struct vh_xsave_restore *rs);

/* Carries out a restore into img, a standard-format image of img_len
 * bytes (KVM's XSAVE state), from area (area_len bytes): each component
 * of RFBM from the area where XSTATE_BV names it, its initial state where
 * not (x87: FCW 037FH, the rest zeros; everything else zeros); components
 * outside RFBM untouched; img's XSTATE_BV follows for RFBM's bits.  False,
 * img untouched, where a component would lie outside either buffer. */
bool vh_xsave_restore(const struct vh_xsave_leafd *l, uint8_t *img, uint32_t img_len,
		      const uint8_t *area, uint32_t area_len, const struct vh_xsave_restore *rs);

#endif
