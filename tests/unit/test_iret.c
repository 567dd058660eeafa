/* SPDX-License-Identifier: Apache-2.0 */
/* IRET's EFLAGS rules (vh/iret.h) as the SDM's pseudo-code states them. */
#include "vh/iret.h"
#include "vh_test.h"

#define IOPL3 (3u << 12)
#define VIF   (1u << 19)
#define VIP   (1u << 20)
#define AC    (1u << 18)

VH_TEST(iret, user_mode_cannot_raise_iopl_or_set_if)
{
	uint32_t cur = 0x2; /* IOPL 0, IF clear */
	uint32_t f = vh_iret_eflags(cur, 0x2 | IOPL3 | VH_EFLAGS_IF | 0x1, 3, true, true);

	VH_EXPECT_EQ(f & IOPL3, 0u);
	VH_EXPECT_EQ(f & VH_EFLAGS_IF, 0u);
	VH_EXPECT_EQ(f & 0x1u, 0x1u); /* CF is the frame's */
	/* ...nor clear IF it has. */
	f = vh_iret_eflags(0x2 | VH_EFLAGS_IF, 0x2, 3, true, true);
	VH_EXPECT_EQ(f & VH_EFLAGS_IF, VH_EFLAGS_IF);
}

VH_TEST(iret, if_follows_the_frame_when_cpl_is_at_most_iopl)
{
	uint32_t f = vh_iret_eflags(0x2 | IOPL3, 0x2 | VH_EFLAGS_IF, 3, true, true);

	VH_EXPECT_EQ(f & VH_EFLAGS_IF, VH_EFLAGS_IF);
	VH_EXPECT_EQ(f & IOPL3, IOPL3); /* IOPL itself is kept, not the frame's 0 */
	f = vh_iret_eflags(0x2 | (1u << 12), 0x2 | VH_EFLAGS_IF, 2, true, true);
	VH_EXPECT_EQ(f & VH_EFLAGS_IF, 0u); /* CPL 2 > IOPL 1 */
}

VH_TEST(iret, the_kernel_sets_iopl_if_vif_vip_but_never_vm)
{
	uint32_t f = vh_iret_eflags(0x2, 0x2 | IOPL3 | VH_EFLAGS_IF | VIF | VIP | VH_EFLAGS_VM | AC,
				    0, true, true);

	VH_EXPECT_EQ(f & (IOPL3 | VH_EFLAGS_IF | VIF | VIP | AC),
		     IOPL3 | VH_EFLAGS_IF | VIF | VIP | AC);
	VH_EXPECT_EQ(f & VH_EFLAGS_VM, 0u);
	/* VIF/VIP stay the kernel's at CPL 3. */
	f = vh_iret_eflags(0x2, 0x2 | VIF | VIP, 3, true, true);
	VH_EXPECT_EQ(f & (VIF | VIP), 0u);
}

VH_TEST(iret, a_sixteen_bit_iret_keeps_the_upper_half_and_reserved_bits_stay_clear)
{
	uint32_t f = vh_iret_eflags(0x2 | AC, 0xffff, 0, true, false);

	VH_EXPECT_EQ(f & AC, AC);
	VH_EXPECT_EQ(f & 0x8028u, 0u); /* bits 3, 5, 15 reserved */
	VH_EXPECT_EQ(f & 0x2u, 0x2u);
	VH_EXPECT_EQ(f & IOPL3, IOPL3);
	/* Real mode: all of the low half, VM never. */
	f = vh_iret_eflags(0x2, 0xffffffffu, 0, false, true);
	VH_EXPECT_EQ(f & VH_EFLAGS_VM, 0u);
	VH_EXPECT_EQ(f & (IOPL3 | VH_EFLAGS_IF), IOPL3 | VH_EFLAGS_IF);
}
