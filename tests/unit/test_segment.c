/* SPDX-License-Identifier: Apache-2.0 */
/* Segment descriptors and the checks of vh/segment.h as the SDM states
 * them: the data access of a string I/O buffer, and IRET's code and stack
 * segment rules for a return to an outer privilege level. */
#include <string.h>

#include "vh/segment.h"
#include "vh_test.h"

/* A descriptor's two doublewords: base, 20-bit limit, access byte
 * (P DPL S type), flags nibble (G D/B L AVL). */
static void desc(uint32_t base, uint32_t limit, uint32_t access, uint32_t flags, uint32_t d[2])
{
	d[0] = (limit & 0xffffu) | (base << 16);
	d[1] = ((base >> 16) & 0xffu) | (access << 8) | (limit & 0xf0000u) | (flags << 20) |
	       (base & 0xff000000u);
}

static struct vh_seg seg_of(uint16_t sel, uint32_t base, uint32_t limit, uint32_t access,
			    uint32_t flags)
{
	uint32_t d[2];
	struct vh_seg s;

	desc(base, limit, access, flags, d);
	vh_seg_decode(d[0], d[1], sel, &s);
	return s;
}

VH_TEST(segment, decode_fields_and_granularity)
{
	struct vh_seg s = seg_of(0x1b, 0x12345678, 0xfff, 0xfa, 0x4);

	VH_EXPECT_EQ(s.base, 0x12345678u);
	VH_EXPECT_EQ(s.limit, 0xfffu);
	VH_EXPECT_EQ(s.type, 0xau);
	VH_EXPECT_EQ(s.dpl, 3u);
	VH_EXPECT(s.s && s.present && s.db && !s.g && !s.l);
	VH_EXPECT_EQ(s.selector, 0x1bu);
	s = seg_of(0x08, 0, 0xfffff, 0x9a, 0xc);
	VH_EXPECT_EQ(s.limit, 0xffffffffu); /* 4 KiB granularity */
	VH_EXPECT_EQ(s.dpl, 0u);
}

VH_TEST(segment, from_vmx_access_rights)
{
	struct vh_seg s;

	vh_seg_from_vmx(0x23, 0x1000, 0x1fff, 0xc0f3, &s);
	VH_EXPECT_EQ(s.type, 3u);
	VH_EXPECT_EQ(s.dpl, 3u);
	VH_EXPECT(s.s && s.present && s.db && s.g && !s.unusable);
	vh_seg_from_vmx(0, 0, 0, 1u << 16, &s);
	VH_EXPECT(s.unusable);
}

VH_TEST(segment, expand_up_limit_is_inclusive_per_byte)
{
	struct vh_seg s = seg_of(0x23, 0x100000, 8191, 0xf2, 0x4);

	VH_EXPECT(vh_seg_access_ok(&s, 8188, 4, true));
	VH_EXPECT(!vh_seg_access_ok(&s, 8189, 4, true)); /* the last byte is past it */
	VH_EXPECT(!vh_seg_access_ok(&s, 0x163e91d4u, 1, true));
	VH_EXPECT(vh_seg_access_ok(&s, 0, 1, false));
	/* A wrap of the offset is never inside. */
	s.limit = 0xffffffffu;
	VH_EXPECT(!vh_seg_access_ok(&s, 0xfffffffffffffffeull, 4, false));
}

VH_TEST(segment, expand_down_valid_above_the_limit)
{
	struct vh_seg s = seg_of(0x10, 0, 0x0fff, 0x96, 0x0); /* 16-bit, expand-down RW */

	VH_EXPECT(!vh_seg_access_ok(&s, 0x0fff, 1, true));
	VH_EXPECT(vh_seg_access_ok(&s, 0x1000, 2, true));
	VH_EXPECT(vh_seg_access_ok(&s, 0xfffe, 2, true));
	VH_EXPECT(!vh_seg_access_ok(&s, 0xffff, 2, true)); /* past 64 KiB */
	s.db = true;
	VH_EXPECT(vh_seg_access_ok(&s, 0xffff, 2, true));
}

VH_TEST(segment, rights_of_the_access)
{
	struct vh_seg ro = seg_of(0x10, 0, 0xffff, 0x90, 0x4);   /* read-only data */
	struct vh_seg code = seg_of(0x08, 0, 0xffff, 0x98, 0x4); /* execute-only */
	struct vh_seg rcode = seg_of(0x08, 0, 0xffff, 0x9a, 0x4);
	struct vh_seg absent = seg_of(0x10, 0, 0xffff, 0x12, 0x4);
	struct vh_seg null;

	VH_EXPECT(vh_seg_access_ok(&ro, 0, 1, false));
	VH_EXPECT(!vh_seg_access_ok(&ro, 0, 1, true)); /* INS into read-only ES */
	VH_EXPECT(!vh_seg_access_ok(&code, 0, 1, false));
	VH_EXPECT(vh_seg_access_ok(&rcode, 0, 1, false)); /* OUTS from CS: readable code */
	VH_EXPECT(!vh_seg_access_ok(&rcode, 0, 1, true));
	VH_EXPECT(!vh_seg_access_ok(&absent, 0, 1, false));
	vh_seg_from_vmx(0, 0, 0xffffffffu, 1u << 16, &null);
	VH_EXPECT(!vh_seg_access_ok(&null, 0, 1, false)); /* a null ES or DS */
}

/* A GDT and an LDT in one buffer, read at their "linear" addresses. */
static uint32_t table[2][16][2];

static int read_table(void *ctx, uint64_t lin, void *buf, unsigned size, struct vh_exc *exc)
{
	(void)ctx;
	if (lin >= 0x10000 && lin + size <= 0x10000 + sizeof(table)) {
		memcpy(buf, (uint8_t *)table + (lin - 0x10000), size);
		return 0;
	}
	if (lin >= 0x20000 && lin < 0x21000) {
		*exc = (struct vh_exc){ .vector = VH_EXC_PF, .cr2 = lin };
		return 1;
	}
	return -1;
}

VH_TEST(segment, load_from_gdt_and_ldt_within_their_limits)
{
	struct vh_seg_tables t = { .gdt_base = 0x10000,
				   .gdt_limit = 5 * 8 - 1,
				   .ldt_base = 0x10000 + sizeof(table[0]),
				   .ldt_limit = 2 * 8 - 1,
				   .ldt_usable = true,
				   .read = read_table };
	struct vh_exc exc = { 0 };
	struct vh_seg s;

	desc(0x4000, 4095, 0xfa, 0x4, table[0][3]);
	desc(0x8000, 8191, 0xf2, 0x4, table[1][1]);
	VH_ASSERT_EQ(vh_seg_load(&t, 0x1b, &s, &exc), 0);
	VH_EXPECT_EQ(s.base, 0x4000u);
	VH_EXPECT_EQ(s.selector, 0x1bu);
	VH_ASSERT_EQ(vh_seg_load(&t, 0x0f, &s, &exc), 0); /* LDT entry 1, RPL 3 */
	VH_EXPECT_EQ(s.base, 0x8000u);
	/* Past the GDT's limit: #GP(selector), RPL bits cleared. */
	VH_EXPECT_EQ(vh_seg_load(&t, 0x2b, &s, &exc), 1);
	VH_EXPECT_EQ(exc.vector, VH_EXC_GP);
	VH_EXPECT_EQ(exc.error, 0x28u);
	/* A descriptor whose last byte is past the limit is outside too. */
	t.gdt_limit = 4 * 8 + 3;
	VH_EXPECT_EQ(vh_seg_load(&t, 0x20, &s, &exc), 1);
	VH_EXPECT_EQ(vh_seg_load(&t, 0x17, &s, &exc), 1); /* LDT entry 2 */
	VH_EXPECT_EQ(exc.error, 0x14u);
	t.ldt_usable = false;
	VH_EXPECT_EQ(vh_seg_load(&t, 0x0f, &s, &exc), 1);
	VH_EXPECT_EQ(exc.vector, VH_EXC_GP);
	/* The table's page fault is the guest's; outside memory is ours. */
	t.gdt_base = 0x20000;
	VH_EXPECT_EQ(vh_seg_load(&t, 0x08, &s, &exc), 1);
	VH_EXPECT_EQ(exc.vector, VH_EXC_PF);
	VH_EXPECT_EQ(exc.cr2, 0x20008u);
	t.gdt_base = 0x90000;
	VH_EXPECT_EQ(vh_seg_load(&t, 0x08, &s, &exc), -1);
}

VH_TEST(segment, iret_code_segment_rules)
{
	struct vh_exc exc = { 0 };
	struct vh_seg user_code = seg_of(0x1b, 0, 0xfff, 0xfa, 0x4);
	struct vh_seg s;

	VH_EXPECT(vh_iret_check_cs(&user_code, 0, &exc)); /* ring 0 to ring 3 */
	VH_EXPECT(vh_iret_check_cs(&user_code, 3, &exc));
	/* RPL below CPL: a return to an inner level. */
	s = seg_of(0x08, 0, 0xfff, 0x9a, 0x4);
	VH_EXPECT(!vh_iret_check_cs(&s, 3, &exc));
	VH_EXPECT_EQ(exc.vector, VH_EXC_GP);
	VH_EXPECT_EQ(exc.error, 0x08u);
	/* Non-conforming: DPL must equal RPL. */
	s = seg_of(0x0b, 0, 0xfff, 0x9a, 0x4);
	VH_EXPECT(!vh_iret_check_cs(&s, 0, &exc));
	VH_EXPECT_EQ(exc.error, 0x08u);
	/* Conforming: DPL <= RPL. */
	s = seg_of(0x0b, 0, 0xfff, 0x9e, 0x4);
	VH_EXPECT(vh_iret_check_cs(&s, 0, &exc));
	s = seg_of(0x09, 0, 0xfff, 0xde, 0x4); /* DPL 2, RPL 1 */
	VH_EXPECT(!vh_iret_check_cs(&s, 0, &exc));
	/* Data or system descriptors are no code segment. */
	s = seg_of(0x1b, 0, 0xfff, 0xf2, 0x4);
	VH_EXPECT(!vh_iret_check_cs(&s, 0, &exc));
	s = seg_of(0x1b, 0, 0xfff, 0xeb, 0x0); /* a busy TSS, DPL 3 */
	VH_EXPECT(!vh_iret_check_cs(&s, 0, &exc));
	/* Not present: #NP(selector), after the type checks. */
	s = seg_of(0x1b, 0, 0xfff, 0x7a, 0x4);
	VH_EXPECT(!vh_iret_check_cs(&s, 0, &exc));
	VH_EXPECT_EQ(exc.vector, VH_EXC_NP);
	VH_EXPECT_EQ(exc.error, 0x18u);
}

VH_TEST(segment, iret_stack_segment_rules)
{
	struct vh_exc exc = { 0 };
	struct vh_seg s = seg_of(0x23, 0, 0x1fff, 0xf2, 0x4);

	VH_EXPECT(vh_iret_check_ss(&s, 3, &exc));
	VH_EXPECT(!vh_iret_check_ss(&s, 2, &exc)); /* RPL and DPL 3 for a CS RPL 2 */
	VH_EXPECT_EQ(exc.vector, VH_EXC_GP);
	VH_EXPECT_EQ(exc.error, 0x20u);
	s = seg_of(0x22, 0, 0x1fff, 0xf2, 0x4); /* RPL 2, DPL 3 */
	VH_EXPECT(!vh_iret_check_ss(&s, 3, &exc));
	s = seg_of(0x23, 0, 0x1fff, 0xf0, 0x4); /* read-only */
	VH_EXPECT(!vh_iret_check_ss(&s, 3, &exc));
	s = seg_of(0x23, 0, 0x1fff, 0xfa, 0x4); /* code */
	VH_EXPECT(!vh_iret_check_ss(&s, 3, &exc));
	s = seg_of(0x23, 0, 0x1fff, 0x72, 0x4); /* not present: #SS(selector) */
	VH_EXPECT(!vh_iret_check_ss(&s, 3, &exc));
	VH_EXPECT_EQ(exc.vector, VH_EXC_SS);
	VH_EXPECT_EQ(exc.error, 0x20u);
}

VH_TEST(segment, iret_nulls_data_segments_below_the_new_cpl)
{
	struct vh_seg kdata = seg_of(0x10, 0, 0xfffff, 0x92, 0xc);
	struct vh_seg udata = seg_of(0x23, 0, 0x1fff, 0xf2, 0x4);
	struct vh_seg kconf = seg_of(0x08, 0, 0xfffff, 0x9e, 0xc); /* conforming code */
	struct vh_seg kcode = seg_of(0x08, 0, 0xfffff, 0x9a, 0xc);
	struct vh_seg null = seg_of(0x03, 0, 0, 0x92, 0x4);

	VH_EXPECT(!vh_iret_keeps_data_seg(&kdata, 3));
	VH_EXPECT(vh_iret_keeps_data_seg(&kdata, 0));
	VH_EXPECT(vh_iret_keeps_data_seg(&udata, 3));
	VH_EXPECT(vh_iret_keeps_data_seg(&kconf, 3));
	VH_EXPECT(!vh_iret_keeps_data_seg(&kcode, 3));
	VH_EXPECT(!vh_iret_keeps_data_seg(&null, 3));
}
