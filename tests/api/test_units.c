/* SPDX-License-Identifier: Apache-2.0 */
/* Sizes and rates as typed on vhctl's command line. */
#include "api_test.h"

VH_TEST(units, sizes)
{
	static const struct {
		const char *s;
		uint64_t mib;
	} ok[] = {
		{ "512M", 512 },      { "2G", 2048 },      { "512MiB", 512 },  { "512MB", 512 },
		{ "512m", 512 },      { "512mib", 512 },   { "1.5G", 1536 },   { "1.5g", 1536 },
		{ "4096K", 4 },       { "4096KiB", 4 },    { "256", 256 },     { "0", 0 },
		{ "1T", 1048576 },    { "0.5G", 512 },     { "1.25G", 1280 },  { "2.000G", 2048 },
		{ "1024k", 1 },       { "0.5T", 524288 },  { "3.0", 3 },
		{ "17592186044415T", 18446744073708503040ull },
		{ "18446744073709551615", UINT64_MAX },
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct vh_api_problem p;
		uint64_t v = 0;
		if (vh_api_parse_mib(ok[i].s, &v, &p, "memory_mib"))
			VH_FAIL("\"%s\" refused: %s", ok[i].s, p.detail);
		else if (v != ok[i].mib)
			VH_FAIL("\"%s\" -> %llu, want %llu", ok[i].s, (unsigned long long)v,
				(unsigned long long)ok[i].mib);
	}
	static const char *const bad[] = {
		"", "M", "1.5M", "0.5", "1000K", "1.", ".5", "-1", "+1", "1 G", " 1G", "1G ", "1e3",
		"1GG", "1Gi", "1B", "1iB", "1P", "12x", "0x10", "1,5G", "18446744073709551616",
		"17592186044416T", "99999999999999999999999", "1.0000000001G", "1..5G", "G1",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct vh_api_problem p;
		uint64_t v = 99;
		if (vh_api_parse_mib(bad[i], &v, &p, "memory.limit_mib") == 0) {
			VH_FAIL("\"%s\" accepted as %llu", bad[i], (unsigned long long)v);
			continue;
		}
		EXPECT_PROBLEM(p, VH_API_INVALID_FIELD, "memory.limit_mib");
		VH_EXPECT_EQ(v, 99ull);
	}
}

VH_TEST(units, rates)
{
	static const struct {
		const char *s;
		uint64_t mhz;
	} ok[] = {
		{ "500MHz", 500 },   { "1.5GHz", 1500 }, { "2GHz", 2000 },    { "2ghz", 2000 },
		{ "2GHZ", 2000 },    { "800", 800 },     { "800mhz", 800 },   { "2G", 2000 },
		{ "1500M", 1500 },   { "2000kHz", 2 },   { "3000000Hz", 3 },  { "0", 0 },
		{ "0.001GHz", 1 },   { "2.4GHz", 2400 },
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct vh_api_problem p;
		uint64_t v = 0;
		if (vh_api_parse_mhz(ok[i].s, &v, &p, "cpu.limit_mhz"))
			VH_FAIL("\"%s\" refused: %s", ok[i].s, p.detail);
		else if (v != ok[i].mhz)
			VH_FAIL("\"%s\" -> %llu, want %llu", ok[i].s, (unsigned long long)v,
				(unsigned long long)ok[i].mhz);
	}
	static const char *const bad[] = {
		"", "MHz", "0.5MHz", "0.5", "1500kHz", "1Hz", "1.5", "-1GHz", "1 GHz", "1GHzz",
		"1THz", "1MiHz", "1e3", "1.0001GHz",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct vh_api_problem p;
		uint64_t v = 99;
		if (vh_api_parse_mhz(bad[i], &v, &p, "cpu.reservation_mhz") == 0) {
			VH_FAIL("\"%s\" accepted as %llu", bad[i], (unsigned long long)v);
			continue;
		}
		EXPECT_PROBLEM(p, VH_API_INVALID_FIELD, "cpu.reservation_mhz");
		VH_EXPECT_EQ(v, 99ull);
	}
	struct vh_api_problem p;
	uint64_t v;
	VH_EXPECT_EQ(vh_api_parse_mhz(NULL, &v, &p, "x"), -1);
	VH_EXPECT_EQ(vh_api_parse_mib(NULL, &v, &p, "x"), -1);
}

VH_TEST(units, format)
{
	static const struct {
		uint64_t mib;
		const char *s;
	} rows[] = {
		{ 0, "0M" },         { 1, "1M" },      { 256, "256M" },   { 1024, "1G" },
		{ 1536, "1536M" },   { 2048, "2G" },   { 1048576, "1T" }, { 1049600, "1025G" },
		{ VH_UNLIMITED, "unlimited" },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char buf[32];
		uint64_t back;
		struct vh_api_problem p;
		vh_api_format_mib(rows[i].mib, buf, sizeof(buf));
		VH_EXPECT_STREQ(buf, rows[i].s);
		if (rows[i].mib != VH_UNLIMITED) {
			VH_EXPECT_EQ(vh_api_parse_mib(buf, &back, &p, "x"), 0);
			VH_EXPECT_EQ(back, rows[i].mib);
		}
	}
	char small[4];
	vh_api_format_mib(123456, small, sizeof(small));
	VH_EXPECT_EQ(strlen(small), 3u);
}
