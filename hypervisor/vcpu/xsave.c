/* SPDX-License-Identifier: Apache-2.0 */
/* The compacted XSAVE layout and XRSTOR's compacted-form header checks
 * (vh/xsave.h), after the SDM (Vol. 1 13.4.3, 13.8.1) and the rule
 * Linux's arch/x86/kernel/fpu/xstate.c lays its compacted buffers out
 * by: components in ascending order, only those XCOMP_BV names, a
 * component whose CPUID.(0DH,i).ECX[1] is set starting on a 64-byte
 * boundary. */
#include "vh/xsave.h"

#define MXCSR_OFF 24u

static uint64_t ld64(const uint8_t *p)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static void st64(uint8_t *p, uint64_t v)
{
	for (unsigned i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Freestanding: no libc. */
static void copy(uint8_t *d, const uint8_t *s, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		d[i] = s[i];
}

static void zero(uint8_t *d, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		d[i] = 0;
}

uint32_t vh_xsave_compacted_offsets(const struct vh_xsave_leafd *l, uint64_t xcomp_bv,
				    uint32_t off[64])
{
	uint64_t at = VH_XSAVE_EXT_START;

	for (unsigned i = 0; i < 64; i++)
		off[i] = 0;
	/* Bit 63 is the format, not a component: i stops at 62. */
	for (unsigned i = 2; i < 63; i++) {
		if (!(xcomp_bv >> i & 1))
			continue;
		if (!l->size[i])
			return 0;
		if (l->align64 >> i & 1)
			at = (at + 63) & ~63ull;
		off[i] = (uint32_t)at;
		at += l->size[i];
		if (at > UINT32_MAX)
			return 0;
	}
	return (uint32_t)at;
}

bool vh_xsave_compacted_header_ok(const uint8_t header[VH_XSAVE_HEADER_BYTES], uint64_t xcr0)
{
	uint64_t xstate_bv = ld64(header), xcomp_bv = ld64(header + 8);

	if (xcomp_bv & ~VH_XSAVE_COMPACTED & ~xcr0)
		return false;
	if (xstate_bv & ~xcomp_bv)
		return false;
	for (unsigned i = 16; i < VH_XSAVE_HEADER_BYTES; i++)
		if (header[i])
			return false;
	return true;
}

uint32_t vh_xsave_compacted_plan(const struct vh_xsave_leafd *l,
				 const uint8_t area[VH_XSAVE_EXT_START], uint64_t rfbm,
				 struct vh_xsave_restore *rs)
{
	uint32_t end = VH_XSAVE_EXT_START;
	uint64_t load;

	*rs = (struct vh_xsave_restore){ .rfbm = rfbm,
					 .xstate_bv = ld64(area + VH_XSAVE_LEGACY_BYTES) };
	if (!vh_xsave_compacted_offsets(l, ld64(area + VH_XSAVE_LEGACY_BYTES + 8), rs->src))
		return 0;
	load = rfbm & rs->xstate_bv;
	for (unsigned i = 2; i < 63; i++) {
		if ((load >> i & 1) && rs->src[i] + l->size[i] > end)
			end = rs->src[i] + l->size[i];
	}
	if (rfbm & 2) {
		rs->set_mxcsr = true;
		rs->mxcsr = VH_XSAVE_MXCSR_INIT;
		if (rs->xstate_bv & 2)
			rs->mxcsr = (uint32_t)area[MXCSR_OFF] | (uint32_t)area[MXCSR_OFF + 1] << 8 |
				    (uint32_t)area[MXCSR_OFF + 2] << 16 |
				    (uint32_t)area[MXCSR_OFF + 3] << 24;
	}
	return end;
}

bool vh_xsave_restore(const struct vh_xsave_leafd *l, uint8_t *img, uint32_t img_len,
		      const uint8_t *area, uint32_t area_len, const struct vh_xsave_restore *rs)
{
	uint64_t rfbm = rs->rfbm, bv = rs->xstate_bv, kbv;

	if (img_len < VH_XSAVE_EXT_START || area_len < VH_XSAVE_EXT_START)
		return false;
	for (unsigned i = 2; i < 64; i++) {
		if (!(rfbm >> i & 1))
			continue;
		if ((uint64_t)l->off[i] + l->size[i] > img_len)
			return false;
		if ((bv >> i & 1) && (uint64_t)rs->src[i] + l->size[i] > area_len)
			return false;
	}
	/* x87: FCW FSW FTW FOP FIP FDP (bytes 0-23) and ST0-ST7 (32-159). */
	if (rfbm & 1) {
		if (bv & 1) {
			copy(img, area, 24);
			copy(img + 32, area + 32, 128);
		} else {
			zero(img, 24);
			zero(img + 32, 128);
			img[0] = 0x7f, img[1] = 0x03; /* FCW 0x037f */
		}
	}
	/* SSE: XMM0-15 (160-415). */
	if (rfbm & 2) {
		if (bv & 2)
			copy(img + 160, area + 160, 256);
		else
			zero(img + 160, 256);
	}
	if (rs->set_mxcsr) {
		for (unsigned b = 0; b < 4; b++)
			img[MXCSR_OFF + b] = (uint8_t)(rs->mxcsr >> (8 * b));
	}
	for (unsigned i = 2; i < 64; i++) {
		if (!(rfbm >> i & 1))
			continue;
		if (bv >> i & 1)
			copy(img + l->off[i], area + rs->src[i], l->size[i]);
		else
			zero(img + l->off[i], l->size[i]); /* every component's initial state */
	}
	/* XSTATE_BV: what was restored now says what memory said; the
	 * image's XCOMP_BV stays (0: it is standard). */
	kbv = ld64(img + VH_XSAVE_LEGACY_BYTES);
	st64(img + VH_XSAVE_LEGACY_BYTES, (kbv & ~rfbm) | (bv & rfbm));
	return true;
}
