/* SPDX-License-Identifier: Apache-2.0 */
/* vh_log_escape and vh_log: a client's bytes never make a line of their
 * own in the log, and never reach a terminal as control bytes. */
#include <string.h>

#include "agent/logesc.h"
#include "vh_test.h"

VH_TEST(logesc, table)
{
	static const struct {
		const char *in, *want;
	} t[] = {
		{ "GET /v1/vms/a", "GET /v1/vms/a" },
		{ "/v1/vms/a\ninjected line", "/v1/vms/a\\x0ainjected line" },
		{ "a\r\nb\tc\x1b[31m", "a\\x0d\\x0ab\\x09c\\x1b[31m" },
		{ "del\x7f", "del\\x7f" },
		{ "back\\slash", "back\\\\slash" },
		/* Well-formed UTF-8 passes; broken sequences, overlong forms,
		 * surrogates and C1 controls do not. */
		{ "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
		  "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80" },
		{ "x\xc3", "x\\xc3" },
		{ "\xff\xfe", "\\xff\\xfe" },
		{ "\xc0\xaf", "\\xc0\\xaf" },
		{ "\xed\xa0\x80", "\\xed\\xa0\\x80" },
		{ "\xc2\x85line", "\\xc2\\x85line" },
		{ "\xc2\xa0nbsp", "\xc2\xa0nbsp" },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char out[128];
		size_t n = vh_log_escape(t[i].in, out, sizeof(out));

		VH_EXPECT_STREQ(out, t[i].want);
		VH_EXPECT_EQ(n, strlen(t[i].want));
	}
}

VH_TEST(logesc, never_cuts_an_escape)
{
	char out[7];

	/* "ab" fits; "\x0a" would need 4 bytes and a NUL, 5 are left. */
	VH_EXPECT_EQ(vh_log_escape("ab\ncd", out, 6), (size_t)2);
	VH_EXPECT_STREQ(out, "ab");
	VH_EXPECT_EQ(vh_log_escape("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", out, sizeof(out)),
		     (size_t)6);
	VH_EXPECT_STREQ(out, "\xc3\xa9\xc3\xa9\xc3\xa9");
	VH_EXPECT_EQ(vh_log_escape("x", out, 1), (size_t)0);
	VH_EXPECT_STREQ(out, "");
}
