// SPDX-License-Identifier: Apache-2.0
// Google Test side of the C shim: registers every VH_TEST with gtest and,
// when VH_TEST_FORMAT=tap (as make check sets it), reports each test case
// as a TAP line so automake's tap-driver counts test cases, not programs.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "vh_test.h"

extern "C" void vh_test_report_failure(const char *file, int line, bool fatal,
				       const char *message)
{
	// The failure is attributed to the C file and line of the check.
	GTEST_MESSAGE_AT_(file, line, message,
			  fatal ? ::testing::TestPartResult::kFatalFailure
				: ::testing::TestPartResult::kNonFatalFailure);
}

namespace {

class CTest : public ::testing::Test {
public:
	explicit CTest(vh_test_fn fn) : fn_(fn) {}
	void TestBody() override { vh_test_run(fn_); }

private:
	vh_test_fn fn_;
};

// TAP version 13 on stdout: "ok N - suite.name" per case, failure details
// as "#" diagnostics, the plan at the end (tap-driver accepts a trailing
// plan).  Replaces gtest's default printer so nothing else looks like TAP.
class TapListener : public ::testing::EmptyTestEventListener {
public:
	void OnTestProgramStart(const ::testing::UnitTest &) override
	{
		std::printf("TAP version 13\n");
	}

	void OnTestPartResult(const ::testing::TestPartResult &r) override
	{
		if (!r.failed())
			return;
		std::string where = r.file_name() ? r.file_name() : "unknown";
		std::printf("# %s:%d: Failure\n", where.c_str(), r.line_number());
		std::string msg = r.message();
		size_t start = 0;
		while (start <= msg.size()) {
			size_t end = msg.find('\n', start);
			if (end == std::string::npos)
				end = msg.size();
			std::printf("#   %s\n", msg.substr(start, end - start).c_str());
			start = end + 1;
		}
	}

	void OnTestEnd(const ::testing::TestInfo &info) override
	{
		++count_;
		const ::testing::TestResult *r = info.result();
		if (r->Skipped()) {
			// A skip is never a pass here: report it as a failure so a
			// missing prerequisite cannot turn the run green.
			std::printf("not ok %d - %s.%s # skipped, counted as a failure\n", count_,
				    info.test_suite_name(), info.name());
		} else {
			std::printf("%s %d - %s.%s (%lld ms)\n", r->Passed() ? "ok" : "not ok",
				    count_, info.test_suite_name(), info.name(),
				    static_cast<long long>(r->elapsed_time()));
		}
		std::fflush(stdout);
	}

	void OnTestProgramEnd(const ::testing::UnitTest &) override
	{
		std::printf("1..%d\n", count_);
		std::fflush(stdout);
	}

private:
	int count_ = 0;
};

} // namespace

int main(int argc, char **argv)
{
	::testing::InitGoogleTest(&argc, argv);

	for (vh_test_case *tc = vh_test_list(); tc; tc = tc->next) {
		vh_test_fn fn = tc->fn;
		::testing::RegisterTest(tc->suite, tc->name, nullptr, nullptr, tc->file, tc->line,
					[fn]() -> ::testing::Test * { return new CTest(fn); });
	}

	const char *format = std::getenv("VH_TEST_FORMAT");
	if (format && std::strcmp(format, "tap") == 0) {
		::testing::TestEventListeners &listeners =
			::testing::UnitTest::GetInstance()->listeners();
		delete listeners.Release(listeners.default_result_printer());
		listeners.Append(new TapListener);
	}
	return RUN_ALL_TESTS();
}
