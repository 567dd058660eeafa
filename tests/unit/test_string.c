/* SPDX-License-Identifier: Apache-2.0 */
/* The core's byte and string primitives. */
#include <string.h>

#include "vh/string.h"
#include "vh_test.h"

VH_TEST(string, memcpy_copies_aligned_and_unaligned)
{
	unsigned char src[64], dst[64];

	for (int i = 0; i < 64; i++)
		src[i] = (unsigned char)(i * 7 + 1);
	for (size_t off = 0; off < 9; off++) {
		memset(dst, 0, sizeof(dst));
		VH_EXPECT(vh_memcpy(dst + off, src + (off % 3), 40) == dst + off);
		VH_EXPECT_MEMEQ(dst + off, src + (off % 3), 40);
		/* Nothing outside the destination range changes. */
		for (size_t i = 0; i < off; i++)
			VH_EXPECT_EQ(dst[i], 0);
		for (size_t i = off + 40; i < 64; i++)
			VH_EXPECT_EQ(dst[i], 0);
	}
}

VH_TEST(string, memmove_handles_both_overlaps)
{
	char a[] = "0123456789";
	char b[] = "0123456789";

	vh_memmove(a + 2, a, 6);
	VH_EXPECT_STREQ(a, "0101234589");
	vh_memmove(b, b + 2, 6);
	VH_EXPECT_STREQ(b, "2345676789");
}

VH_TEST(string, memset_and_memcmp)
{
	unsigned char a[16], b[16];

	vh_memset(a, 0xab, sizeof(a));
	memset(b, 0xab, sizeof(b));
	VH_EXPECT_EQ(vh_memcmp(a, b, sizeof(a)), 0);
	b[15] = 0xac;
	VH_EXPECT_LT(vh_memcmp(a, b, sizeof(a)), 0);
	VH_EXPECT_GT(vh_memcmp(b, a, sizeof(a)), 0);
	VH_EXPECT_EQ(vh_memcmp(a, b, 15), 0);
}

VH_TEST(string, lengths_and_comparisons)
{
	VH_EXPECT_EQ(vh_strlen(""), (size_t)0);
	VH_EXPECT_EQ(vh_strlen("vh"), (size_t)2);
	VH_EXPECT_EQ(vh_strnlen("hypervisor", 4), (size_t)4);
	VH_EXPECT_EQ(vh_strnlen("vh", 10), (size_t)2);
	VH_EXPECT_EQ(vh_strcmp("abc", "abc"), 0);
	VH_EXPECT_LT(vh_strcmp("abc", "abd"), 0);
	VH_EXPECT_GT(vh_strcmp("abc", "ab"), 0);
	/* Bytes compare unsigned, as C's strcmp does. */
	VH_EXPECT_GT(vh_strcmp("\xff", "a"), 0);
	VH_EXPECT_EQ(vh_strncmp("abcdef", "abcxyz", 3), 0);
	VH_EXPECT_NE(vh_strncmp("abcdef", "abcxyz", 4), 0);
	VH_EXPECT_EQ(vh_strncmp("ab", "ab", 10), 0);
}

VH_TEST(string, strlcpy_truncates_and_terminates)
{
	char buf[4];

	VH_EXPECT_EQ(vh_strlcpy(buf, "hypervisor", sizeof(buf)), (size_t)10);
	VH_EXPECT_STREQ(buf, "hyp");
	VH_EXPECT_EQ(vh_strlcpy(buf, "vh", sizeof(buf)), (size_t)2);
	VH_EXPECT_STREQ(buf, "vh");
	buf[0] = 'x';
	VH_EXPECT_EQ(vh_strlcpy(buf, "vh", 0), (size_t)2);
	VH_EXPECT_EQ(buf[0], 'x');
}
