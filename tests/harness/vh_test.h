/* SPDX-License-Identifier: Apache-2.0 */
/* vh's C test shim over Google Test.
 *
 * Tests are C functions in .c files:
 *
 *     #include "vh_test.h"
 *
 *     VH_TEST(format, pads_numbers)
 *     {
 *             char buf[16];
 *             vh_snprintf(buf, sizeof(buf), "%05d", 42);
 *             VH_EXPECT_STREQ(buf, "00042");
 *     }
 *
 * Each VH_TEST registers itself (a constructor) and tests/harness/main.cc
 * hands every one to Google Test as suite.name, so gtest filtering,
 * repetition and shuffling work unchanged.  A failing check reports the C
 * file and line.  VH_EXPECT_* records the failure and carries on;
 * VH_ASSERT_* records it and ends the test (longjmp back to the runner,
 * through C frames only).
 */
#ifndef VH_TEST_H
#define VH_TEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef void (*vh_test_fn)(void);

struct vh_test_case {
	const char *suite;
	const char *name;
	vh_test_fn fn;
	const char *file;
	int line;
	struct vh_test_case *next;
};

/* Registration (called from VH_TEST's constructor). */
void vh_test_register(struct vh_test_case *tc);
/* All registered cases in definition order within each file. */
struct vh_test_case *vh_test_list(void);

/* Runs fn; returns false when a fatal check ended it early. */
bool vh_test_run(vh_test_fn fn);

/* Reports a failure at file:line.  fatal ends the running test. */
void vh_test_fail(const char *file, int line, bool fatal, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Implemented by the C++ runner: hands one failure to Google Test. */
void vh_test_report_failure(const char *file, int line, bool fatal, const char *message);

/* Value formatting for the comparison macros. */
void vh_test_fmt_i(char *buf, size_t size, long long v);
void vh_test_fmt_u(char *buf, size_t size, unsigned long long v);
void vh_test_fmt_p(char *buf, size_t size, const void *v);
void vh_test_fmt_d(char *buf, size_t size, double v);

#define VH_TEST_FMT(buf, v)                                                              \
	_Generic((v),                                                                    \
		_Bool: vh_test_fmt_u, char: vh_test_fmt_i, signed char: vh_test_fmt_i,   \
		short: vh_test_fmt_i, int: vh_test_fmt_i, long: vh_test_fmt_i,           \
		long long: vh_test_fmt_i, unsigned char: vh_test_fmt_u,                  \
		unsigned short: vh_test_fmt_u, unsigned int: vh_test_fmt_u,              \
		unsigned long: vh_test_fmt_u, unsigned long long: vh_test_fmt_u,         \
		float: vh_test_fmt_d, double: vh_test_fmt_d,                             \
		default: vh_test_fmt_p)(buf, sizeof(buf), (v))

#define VH_TEST(suite, name)                                                            \
	static void vh_test_fn_##suite##_##name(void);                                  \
	static struct vh_test_case vh_test_case_##suite##_##name = {                    \
		#suite, #name, vh_test_fn_##suite##_##name, __FILE__, __LINE__, NULL    \
	};                                                                              \
	__attribute__((constructor)) static void vh_test_reg_##suite##_##name(void)     \
	{                                                                               \
		vh_test_register(&vh_test_case_##suite##_##name);                       \
	}                                                                               \
	static void vh_test_fn_##suite##_##name(void)

#define VH_CHECK_(fatal, cond, ...)                                    \
	do {                                                           \
		if (!(cond))                                           \
			vh_test_fail(__FILE__, __LINE__, fatal, __VA_ARGS__); \
	} while (0)

#define VH_EXPECT(cond) VH_CHECK_(false, cond, "expected: %s", #cond)
#define VH_ASSERT(cond) VH_CHECK_(true, cond, "required: %s", #cond)
#define VH_FAIL(...) vh_test_fail(__FILE__, __LINE__, true, __VA_ARGS__)

/* Integer, floating-point and pointer comparisons: both sides evaluated once, printed on
 * failure.  Mixed signedness is a compile error (-Wsign-compare), which is
 * the point. */
#define VH_CMP_(fatal, a, op, b)                                                     \
	do {                                                                         \
		__auto_type vh_a_ = (a);                                             \
		__auto_type vh_b_ = (b);                                             \
		if (!(vh_a_ op vh_b_)) {                                             \
			char vh_sa_[32], vh_sb_[32];                                 \
			VH_TEST_FMT(vh_sa_, vh_a_);                                  \
			VH_TEST_FMT(vh_sb_, vh_b_);                                  \
			vh_test_fail(__FILE__, __LINE__, fatal,                      \
				     "expected: %s %s %s\n  left:  %s\n  right: %s", #a, \
				     #op, #b, vh_sa_, vh_sb_);                        \
		}                                                                    \
	} while (0)

#define VH_EXPECT_EQ(a, b) VH_CMP_(false, a, ==, b)
#define VH_EXPECT_NE(a, b) VH_CMP_(false, a, !=, b)
#define VH_EXPECT_LT(a, b) VH_CMP_(false, a, <, b)
#define VH_EXPECT_LE(a, b) VH_CMP_(false, a, <=, b)
#define VH_EXPECT_GT(a, b) VH_CMP_(false, a, >, b)
#define VH_EXPECT_GE(a, b) VH_CMP_(false, a, >=, b)
#define VH_ASSERT_EQ(a, b) VH_CMP_(true, a, ==, b)
#define VH_ASSERT_NE(a, b) VH_CMP_(true, a, !=, b)
#define VH_ASSERT_LT(a, b) VH_CMP_(true, a, <, b)
#define VH_ASSERT_LE(a, b) VH_CMP_(true, a, <=, b)
#define VH_ASSERT_GT(a, b) VH_CMP_(true, a, >, b)
#define VH_ASSERT_GE(a, b) VH_CMP_(true, a, >=, b)

/* Strings (NULL-safe) and memory. */
void vh_test_streq(const char *file, int line, bool fatal, const char *ea, const char *eb,
		   const char *a, const char *b);
void vh_test_memeq(const char *file, int line, bool fatal, const char *ea, const char *eb,
		   const void *a, const void *b, size_t n);
#define VH_EXPECT_STREQ(a, b) vh_test_streq(__FILE__, __LINE__, false, #a, #b, (a), (b))
#define VH_ASSERT_STREQ(a, b) vh_test_streq(__FILE__, __LINE__, true, #a, #b, (a), (b))
#define VH_EXPECT_MEMEQ(a, b, n) vh_test_memeq(__FILE__, __LINE__, false, #a, #b, (a), (b), (n))
#define VH_ASSERT_MEMEQ(a, b, n) vh_test_memeq(__FILE__, __LINE__, true, #a, #b, (a), (b), (n))

/* Floating point within an absolute tolerance (for ratios in tests). */
void vh_test_near(const char *file, int line, bool fatal, const char *ea, const char *eb,
		  double a, double b, double tol);
#define VH_EXPECT_NEAR(a, b, tol) vh_test_near(__FILE__, __LINE__, false, #a, #b, (a), (b), (tol))
#define VH_ASSERT_NEAR(a, b, tol) vh_test_near(__FILE__, __LINE__, true, #a, #b, (a), (b), (tol))

#ifdef __cplusplus
}
#endif

#endif
