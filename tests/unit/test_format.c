/* SPDX-License-Identifier: Apache-2.0 */
/* vh_format: checked against what C's printf defines for the same
 * conversions, since kernel diagnostics and stats lines depend on it. */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "vh/format.h"
#include "vh_test.h"

/* The edge cases below include formats GCC warns about (a '0' flag with a
 * precision, non-literal formats): they are exactly what must match libc. */
#pragma GCC diagnostic ignored "-Wformat"
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#pragma GCC diagnostic ignored "-Wformat-security"
#pragma GCC diagnostic ignored "-Wformat-extra-args"
#pragma GCC diagnostic ignored "-Wformat-overflow"

/* Formats with both vh_snprintf and libc snprintf; they must agree. */
#define SAME_AS_LIBC(...)                                                       \
	do {                                                                    \
		char ours_[256], libc_[256];                                    \
		size_t n_ = vh_snprintf(ours_, sizeof(ours_), __VA_ARGS__);     \
		int m_ = snprintf(libc_, sizeof(libc_), __VA_ARGS__);           \
		VH_EXPECT_STREQ(ours_, libc_);                                  \
		VH_EXPECT_EQ(n_, (size_t)m_);                                   \
	} while (0)

VH_TEST(format, integers_match_libc)
{
	SAME_AS_LIBC("%d %i %u", 0, -1, 4000000000u);
	SAME_AS_LIBC("%d", INT_MIN);
	SAME_AS_LIBC("%lld %llu", LLONG_MIN, ULLONG_MAX);
	SAME_AS_LIBC("%ld %lu", LONG_MAX, ULONG_MAX);
	SAME_AS_LIBC("%jd %zu %td", INTMAX_MIN, SIZE_MAX, (ptrdiff_t)-5);
	SAME_AS_LIBC("%hhd %hhu %hd %hu", 300, 300, 70000, 70000);
}

VH_TEST(format, hex_and_octal_match_libc)
{
	SAME_AS_LIBC("%x %X %o", 0xdeadbeefu, 0xdeadbeefu, 8u);
	SAME_AS_LIBC("%#x %#X %#o %#x %#o", 255u, 255u, 8u, 0u, 0u);
	SAME_AS_LIBC("%016llx", 0x1234ull);
	SAME_AS_LIBC("%#010x", 0x1234u);
}

VH_TEST(format, width_precision_and_flags_match_libc)
{
	SAME_AS_LIBC("[%5d] [%-5d] [%05d] [%+d] [% d]", 42, 42, 42, 42, 42);
	SAME_AS_LIBC("[%.3d] [%8.3d] [%-8.3d] [%08.3d]", 7, 7, 7, 7);
	SAME_AS_LIBC("[%.0d] [%.0u] [%5.0x]", 0, 0u, 0u);
	SAME_AS_LIBC("[%*d] [%-*d] [%.*d]", 6, 1, 6, 1, 4, 1);
	SAME_AS_LIBC("[%*d]", -6, 1);
	SAME_AS_LIBC("[%05d] [%+05d]", -42, 42);
}

VH_TEST(format, strings_and_chars_match_libc)
{
	SAME_AS_LIBC("[%s] [%10s] [%-10s] [%.2s] [%c] [%3c] [%-3c] [%%]", "vh", "vh", "vh", "hyper",
		     'x', 'y', 'z');
}

VH_TEST(format, null_string_and_pointer)
{
	char buf[64];

	vh_snprintf(buf, sizeof(buf), "%s", (const char *)NULL);
	VH_EXPECT_STREQ(buf, "(null)");
	vh_snprintf(buf, sizeof(buf), "%p", (void *)0x1000);
	VH_EXPECT_STREQ(buf, "0x1000");
}

VH_TEST(format, truncates_and_reports_full_length)
{
	char buf[8];

	VH_EXPECT_EQ(vh_snprintf(buf, sizeof(buf), "hypervisor %d", 12), (size_t)13);
	VH_EXPECT_STREQ(buf, "hypervi");
	VH_EXPECT_EQ(vh_snprintf(buf, 1, "abc"), (size_t)3);
	VH_EXPECT_STREQ(buf, "");
	/* size 0: nothing written at all. */
	buf[0] = 'q';
	VH_EXPECT_EQ(vh_snprintf(buf, 0, "abc"), (size_t)3);
	VH_EXPECT_EQ(buf[0], 'q');
}

VH_TEST(format, malformed_formats_are_visible_not_fatal)
{
	char buf[32];
	const char *trailing = "50%";
	const char *unknown = "%q";

	/* Non-literal on purpose: these are what a careless caller sends. */
	vh_snprintf(buf, sizeof(buf), trailing, 0);
	VH_EXPECT_STREQ(buf, "50%");
	vh_snprintf(buf, sizeof(buf), unknown, 0);
	VH_EXPECT_STREQ(buf, "%q");
}

static void count_sink(void *ctx, const char *s, size_t n)
{
	(void)s;
	*(size_t *)ctx += n;
}

VH_TEST(format, sink_receives_everything_without_a_buffer_limit)
{
	size_t total = 0;

	VH_EXPECT_EQ(vh_format(count_sink, &total, "%1000d|%-500s|", 1, "x"), (size_t)1502);
	VH_EXPECT_EQ(total, (size_t)1502);
}
