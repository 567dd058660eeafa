/* SPDX-License-Identifier: Apache-2.0 */
/* C halves of the shim self-tests in shim_selftest.cc: each makes one
 * check fail on purpose, which the C++ side captures and inspects. */
#include "vh_test.h"

void vh_shim_selftest_expect_false(void);
void vh_shim_selftest_assert_false(void);
void vh_shim_selftest_eq_mismatch(void);
void vh_shim_selftest_streq_mismatch(void);

int vh_shim_selftest_after_assert;
const char vh_shim_selftest_file[] = __FILE__;
const int vh_shim_selftest_expect_line = __LINE__ + 4;

void vh_shim_selftest_expect_false(void)
{
	VH_EXPECT(1 + 1 == 3);
}

void vh_shim_selftest_assert_false(void)
{
	VH_ASSERT(0);
	vh_shim_selftest_after_assert = 1;
}

void vh_shim_selftest_eq_mismatch(void)
{
	int a = 41;
	VH_EXPECT_EQ(a, 42);
}

void vh_shim_selftest_streq_mismatch(void)
{
	VH_EXPECT_STREQ("vh", "hv");
}
