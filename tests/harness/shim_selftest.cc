// SPDX-License-Identifier: Apache-2.0
// Proves the C shim itself: a failing C check must reach Google Test as a
// failure of the right kind, at the C file and line of the check.  These
// use gtest's own failure-capturing macros, so they fail if the shim ever
// swallows a failure or mis-attributes it.
#include <gtest/gtest.h>
#include <gtest/gtest-spi.h>

#include <string>

#include "vh_test.h"

extern "C" {
void vh_shim_selftest_expect_false(void);
void vh_shim_selftest_assert_false(void);
void vh_shim_selftest_eq_mismatch(void);
void vh_shim_selftest_streq_mismatch(void);
extern int vh_shim_selftest_after_assert;
extern const int vh_shim_selftest_expect_line;
extern const char vh_shim_selftest_file[];
}

namespace {

TEST(shim, nonfatal_check_reports_c_file_and_line)
{
	::testing::TestPartResultArray results;
	{
		::testing::ScopedFakeTestPartResultReporter reporter(
			::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD,
			&results);
		vh_shim_selftest_expect_false();
	}
	ASSERT_EQ(results.size(), 1);
	const ::testing::TestPartResult &r = results.GetTestPartResult(0);
	EXPECT_TRUE(r.nonfatally_failed());
	EXPECT_STREQ(r.file_name(), vh_shim_selftest_file);
	EXPECT_EQ(r.line_number(), vh_shim_selftest_expect_line);
	EXPECT_NE(std::string(r.message()).find("1 + 1 == 3"), std::string::npos);
}

TEST(shim, fatal_check_ends_the_c_test)
{
	::testing::TestPartResultArray results;
	bool completed;
	vh_shim_selftest_after_assert = 0;
	{
		::testing::ScopedFakeTestPartResultReporter reporter(
			::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD,
			&results);
		completed = vh_test_run(vh_shim_selftest_assert_false);
	}
	EXPECT_FALSE(completed);
	ASSERT_EQ(results.size(), 1);
	EXPECT_TRUE(results.GetTestPartResult(0).fatally_failed());
	EXPECT_EQ(vh_shim_selftest_after_assert, 0) << "code after a failed VH_ASSERT ran";
}

TEST(shim, comparison_prints_both_values)
{
	EXPECT_NONFATAL_FAILURE(vh_shim_selftest_eq_mismatch(), "left:  41");
	EXPECT_NONFATAL_FAILURE(vh_shim_selftest_eq_mismatch(), "right: 42");
	EXPECT_NONFATAL_FAILURE(vh_shim_selftest_streq_mismatch(), "\"vh\"");
}

TEST(shim, passing_test_completes)
{
	EXPECT_TRUE(vh_test_run([] {}));
}

} // namespace
