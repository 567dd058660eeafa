/* SPDX-License-Identifier: Apache-2.0 */
/* The compacted XSAVE layout and XRSTOR's compacted-form header checks
 * (vh/xsave.h) against tables of leaf 0xd values: this development
 * host's (an AMD EPYC: AVX and AVX-512, no component 64-byte aligned,
 * measured in the unemulated guest and through KVM_GET_CPUID2) and one
 * with the alignment bit set (PKRU, then a 64-byte aligned component, as
 * AMX's tile configuration is laid out). */
#include <string.h>

#include "vh/xsave.h"
#include "vh_test.h"

/* CPUID.(0DH,i) EAX, EBX, ECX on this host: 2 AVX, 5 opmask, 6
 * ZMM_Hi256, 7 Hi16_ZMM. */
static struct vh_xsave_leafd epyc(void)
{
	struct vh_xsave_leafd l;

	memset(&l, 0, sizeof(l));
	l.size[2] = 256, l.off[2] = 576;
	l.size[5] = 64, l.off[5] = 832;
	l.size[6] = 512, l.off[6] = 896;
	l.size[7] = 1024, l.off[7] = 1408;
	return l;
}

/* epyc's components plus PKRU (9, 8 bytes) and a 64-byte component 17
 * with ECX[1] set. */
static struct vh_xsave_leafd aligned(void)
{
	struct vh_xsave_leafd l = epyc();

	l.size[9] = 8, l.off[9] = 2688;
	l.size[17] = 64, l.off[17] = 2752;
	l.align64 = 1ull << 17;
	return l;
}

VH_TEST(xsave, compacted_offsets_pack_what_xcomp_bv_names)
{
	struct vh_xsave_leafd l = epyc();
	uint32_t off[64];

	/* Linux's XCR0 on this host, all of it: the same offsets as the
	 * standard format (no gaps there), the end 2432 (0x980). */
	VH_EXPECT_EQ(vh_xsave_compacted_offsets(&l, VH_XSAVE_COMPACTED | 0xe7, off), 2432u);
	VH_EXPECT_EQ(off[2], 576u);
	VH_EXPECT_EQ(off[5], 832u);
	VH_EXPECT_EQ(off[6], 896u);
	VH_EXPECT_EQ(off[7], 1408u);
	VH_EXPECT_EQ(off[3], 0u);
	/* Without AVX the AVX-512 components move down by its 256 bytes. */
	VH_EXPECT_EQ(vh_xsave_compacted_offsets(&l, VH_XSAVE_COMPACTED | 0xe3, off), 2176u);
	VH_EXPECT_EQ(off[2], 0u);
	VH_EXPECT_EQ(off[5], 576u);
	VH_EXPECT_EQ(off[6], 640u);
	VH_EXPECT_EQ(off[7], 1152u);
	/* One component: at the extended region's start. */
	VH_EXPECT_EQ(vh_xsave_compacted_offsets(&l, VH_XSAVE_COMPACTED | (1u << 7), off), 1600u);
	VH_EXPECT_EQ(off[7], 576u);
	/* x87 and SSE only: the legacy region and the header. */
	VH_EXPECT_EQ(vh_xsave_compacted_offsets(&l, VH_XSAVE_COMPACTED | 3, off), 576u);
}

VH_TEST(xsave, compacted_offsets_align_where_ecx_bit_1_says)
{
	struct vh_xsave_leafd l = aligned();
	uint32_t off[64];

	/* 9 ends at 2440; 17 starts on the next 64-byte boundary. */
	VH_EXPECT_EQ(vh_xsave_compacted_offsets(&l, VH_XSAVE_COMPACTED | 0x200e7 | (1u << 9), off),
		     2560u);
	VH_EXPECT_EQ(off[9], 2432u);
	VH_EXPECT_EQ(off[17], 2496u);
	/* Without the bit it follows at once. */
	l.align64 = 0;
	VH_EXPECT_EQ(vh_xsave_compacted_offsets(&l, VH_XSAVE_COMPACTED | 0x200e7 | (1u << 9), off),
		     2504u);
	VH_EXPECT_EQ(off[17], 2440u);
	/* After PKRU alone: 584 rounds up to 640. */
	l.align64 = 1ull << 17;
	VH_EXPECT_EQ(
	    vh_xsave_compacted_offsets(&l, VH_XSAVE_COMPACTED | (1u << 9) | (1u << 17), off), 704u);
	VH_EXPECT_EQ(off[9], 576u);
	VH_EXPECT_EQ(off[17], 640u);
}

VH_TEST(xsave, compacted_offsets_refuse_unknown_components)
{
	struct vh_xsave_leafd l = epyc();
	uint32_t off[64];

	/* Component 3 has no size on this host. */
	VH_EXPECT_EQ(vh_xsave_compacted_offsets(&l, VH_XSAVE_COMPACTED | 0xe7 | (1u << 3), off),
		     0u);
	/* Sizes whose sum passes 32 bits. */
	l.size[8] = 0xffffff00u;
	VH_EXPECT_EQ(
	    vh_xsave_compacted_offsets(&l, VH_XSAVE_COMPACTED | (1u << 7) | (1u << 8), off), 0u);
}

/* A header: XSTATE_BV, XCOMP_BV, then 48 bytes. */
static void header(uint8_t h[64], uint64_t xstate_bv, uint64_t xcomp_bv)
{
	memset(h, 0, 64);
	memcpy(h, &xstate_bv, 8);
	memcpy(h + 8, &xcomp_bv, 8);
}

VH_TEST(xsave, compacted_header_checks)
{
	uint8_t h[64];

	header(h, 0x7, VH_XSAVE_COMPACTED | 0x7);
	VH_EXPECT(vh_xsave_compacted_header_ok(h, 0x7));
	/* XSTATE_BV may name less than XCOMP_BV. */
	header(h, 0x1, VH_XSAVE_COMPACTED | 0x7);
	VH_EXPECT(vh_xsave_compacted_header_ok(h, 0x7));
	/* XCOMP_BV may name less than XCR0. */
	header(h, 0x0, VH_XSAVE_COMPACTED);
	VH_EXPECT(vh_xsave_compacted_header_ok(h, 0xe7));
	/* XCOMP_BV naming a component XCR0 does not enable. */
	header(h, 0x1, VH_XSAVE_COMPACTED | 0x7);
	VH_EXPECT(!vh_xsave_compacted_header_ok(h, 0x3));
	/* XSTATE_BV naming a component XCOMP_BV does not. */
	header(h, 0x5, VH_XSAVE_COMPACTED | 0x3);
	VH_EXPECT(!vh_xsave_compacted_header_ok(h, 0x7));
	/* Each of bytes 16..63 must be zero. */
	for (unsigned i = 16; i < 64; i++) {
		header(h, 0x3, VH_XSAVE_COMPACTED | 0x3);
		h[i] = 0x80;
		VH_EXPECT(!vh_xsave_compacted_header_ok(h, 0x3));
	}
}

/* A compacted area on this host: FCW 0x027f, MXCSR 0x3f80, XMM0 bytes
 * 0x10.., then the extended region from 576 as XCOMP_BV lays it out. */
static void compacted_area(uint8_t a[4096], uint64_t xstate_bv, uint64_t xcomp_bv)
{
	uint32_t mxcsr = 0x3f80;

	memset(a, 0, 4096);
	a[0] = 0x7f, a[1] = 0x02;
	memcpy(a + 24, &mxcsr, 4);
	for (unsigned i = 0; i < 16; i++)
		a[160 + i] = (uint8_t)(0x10 + i);
	header(a + 512, xstate_bv, xcomp_bv | VH_XSAVE_COMPACTED);
}

static uint32_t mxcsr_of(const uint8_t *img)
{
	uint32_t v;

	memcpy(&v, img + 24, 4);
	return v;
}

static uint64_t xstate_bv_of(const uint8_t *img)
{
	uint64_t v;

	memcpy(&v, img + 512, 8);
	return v;
}

/* The compacted restore of area with RFBM rfbm into img: 0xcc bytes but
 * its XSTATE_BV, x87 and AVX in use and bit 9 (outside every RFBM here). */
static bool restored(const struct vh_xsave_leafd *l, const uint8_t *area, uint64_t rfbm,
		     uint8_t img[4096], struct vh_xsave_restore *rs)
{
	memset(img, 0xcc, 4096);
	memset(img + 512, 0, 8);
	img[512] = 0x05, img[513] = 0x02;
	vh_xsave_compacted_plan(l, area, rfbm, rs);
	return vh_xsave_restore(l, img, 4096, area, 4096, rs);
}

VH_TEST(xsave, compacted_restore_moves_components_to_standard_offsets)
{
	static uint8_t area[4096], img[4096];
	struct vh_xsave_leafd l = epyc();
	struct vh_xsave_restore rs;

	/* x87, SSE and opmask (5) saved; XCOMP_BV without AVX puts the
	 * opmask at 576, the standard image has it at 832. */
	compacted_area(area, 0x23, 0x23);
	area[576 + 8] = 0xef, area[576 + 9] = 0xbe; /* k1 */
	VH_ASSERT_EQ(vh_xsave_compacted_plan(&l, area, 0xe7, &rs), 640u);
	VH_ASSERT(restored(&l, area, 0xe7, img, &rs));
	VH_EXPECT_EQ(rs.src[5], 576u);
	VH_EXPECT_EQ(img[0], 0x7f);
	VH_EXPECT_EQ(img[1], 0x02);
	VH_EXPECT_EQ(mxcsr_of(img), 0x3f80u);
	VH_EXPECT_EQ(img[160], 0x10);
	VH_EXPECT_EQ(img[175], 0x1f);
	VH_EXPECT_EQ(img[832 + 8], 0xef);
	VH_EXPECT_EQ(img[832 + 9], 0xbe);
	VH_EXPECT_EQ(img[832], 0);
	/* AVX, 6 and 7 are in RFBM but not saved: their initial state. */
	VH_EXPECT_EQ(img[576], 0);
	VH_EXPECT_EQ(img[896 + 511], 0);
	VH_EXPECT_EQ(img[1408 + 1023], 0);
	VH_EXPECT_EQ(xstate_bv_of(img), 0x223u);
	/* The header's bytes past XSTATE_BV are the image's own. */
	VH_EXPECT_EQ(img[520], 0xcc);
}

VH_TEST(xsave, compacted_restore_reads_only_what_it_loads)
{
	static uint8_t area[4096];
	struct vh_xsave_leafd l = epyc();
	struct vh_xsave_restore rs;

	/* XCOMP_BV names everything, XSTATE_BV only AVX: AVX's 256 bytes
	 * from 576 are all that is read past the header. */
	compacted_area(area, 0x7, 0xe7);
	VH_EXPECT_EQ(vh_xsave_compacted_plan(&l, area, 0xe7, &rs), 832u);
	/* RFBM without AVX: nothing past the header. */
	VH_EXPECT_EQ(vh_xsave_compacted_plan(&l, area, 0xe3, &rs), 576u);
	/* All saved, all requested: the whole 2432 bytes. */
	compacted_area(area, 0xe7, 0xe7);
	VH_EXPECT_EQ(vh_xsave_compacted_plan(&l, area, 0xe7, &rs), 2432u);
	/* XCOMP_BV naming a component with no size: no layout. */
	compacted_area(area, 0x3, 0xf);
	VH_EXPECT_EQ(vh_xsave_compacted_plan(&l, area, 0xe7, &rs), 0u);
}

VH_TEST(xsave, compacted_mxcsr_rule)
{
	static uint8_t area[4096], img[4096];
	struct vh_xsave_leafd l = epyc();
	struct vh_xsave_restore rs;

	/* SSE in RFBM and XSTATE_BV: MXCSR from memory. */
	compacted_area(area, 0x3, 0x3);
	vh_xsave_compacted_plan(&l, area, 0x3, &rs);
	VH_EXPECT(rs.set_mxcsr);
	VH_EXPECT_EQ(rs.mxcsr, 0x3f80u);
	/* SSE in RFBM, not in XSTATE_BV: 0x1f80 whatever memory says (the
	 * standard form would load 0x3f80). */
	compacted_area(area, 0x1, 0x3);
	VH_ASSERT(restored(&l, area, 0x3, img, &rs));
	VH_EXPECT_EQ(mxcsr_of(img), 0x1f80u);
	VH_EXPECT_EQ(img[160], 0);
	VH_EXPECT_EQ(img[0], 0x7f);
	VH_EXPECT_EQ(img[1], 0x02);
	/* AVX in RFBM without SSE: MXCSR untouched (the standard form would
	 * load it). */
	compacted_area(area, 0x7, 0x7);
	VH_ASSERT(restored(&l, area, 0x5, img, &rs));
	VH_EXPECT(!rs.set_mxcsr);
	VH_EXPECT_EQ(mxcsr_of(img), 0xccccccccu);
	VH_EXPECT_EQ(img[160], 0xcc);
}

VH_TEST(xsave, restore_refuses_components_outside_the_buffers)
{
	static uint8_t area[4096], img[4096];
	struct vh_xsave_leafd l = epyc();
	struct vh_xsave_restore rs;

	compacted_area(area, 0xe7, 0xe7);
	vh_xsave_compacted_plan(&l, area, 0xe7, &rs);
	memset(img, 0xcc, sizeof(img));
	/* An image too small for Hi16_ZMM (1408 + 1024): nothing written. */
	VH_EXPECT(!vh_xsave_restore(&l, img, 2400, area, sizeof(area), &rs));
	VH_EXPECT_EQ(img[0], 0xcc);
	/* An area too short for what XSTATE_BV says is saved. */
	VH_EXPECT(!vh_xsave_restore(&l, img, sizeof(img), area, 2000, &rs));
	VH_EXPECT_EQ(img[0], 0xcc);
	VH_EXPECT(vh_xsave_restore(&l, img, sizeof(img), area, 2432, &rs));
}
