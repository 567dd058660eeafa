/* SPDX-License-Identifier: Apache-2.0 */
/* Sizes and rates as people type them on vhctl's command line.  Rules:
 *   sizes: a decimal number, then an optional binary unit K, M, G or T,
 *          optionally followed by "B" or "iB" ("512M", "512MB", "512MiB");
 *          no unit means MiB; units are binary (1G = 1024M) and any case.
 *   rates: a decimal number, then an optional k, M or G and an optional
 *          "Hz" ("1.5GHz", "800MHz", "2ghz"); no unit means MHz; units are
 *          decimal (1GHz = 1000MHz) and any case.
 * A fraction is fine when the result is whole: "1.5G" is 1536 MiB,
 * "1.5M" is refused, as is anything with a sign, a space or an exponent. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"

typedef unsigned __int128 u128;

struct unit {
	const char *suffix; /* lower case */
	u128 scale;         /* in the smallest unit: KiB or Hz */
};

static const struct unit size_units[] = {
	{ "", 1024 },
	{ "k", 1 }, { "kb", 1 }, { "kib", 1 },
	{ "m", 1024 }, { "mb", 1024 }, { "mib", 1024 },
	{ "g", 1024 * 1024 }, { "gb", 1024 * 1024 }, { "gib", 1024 * 1024 },
	{ "t", 1024ull * 1024 * 1024 }, { "tb", 1024ull * 1024 * 1024 },
	{ "tib", 1024ull * 1024 * 1024 },
};

static const struct unit rate_units[] = {
	{ "", 1000000 },   { "hz", 1 },
	{ "k", 1000 },     { "khz", 1000 },
	{ "m", 1000000 },  { "mhz", 1000000 },
	{ "g", 1000000000 }, { "ghz", 1000000000 },
};

/* Parses s against units; the result is in `per` smallest units. */
static int parse_scaled(const char *s, const struct unit *units, size_t nunits, u128 per,
			uint64_t *out)
{
	u128 num = 0, den = 1;
	size_t i = 0, digits = 0, frac = 0;
	char suffix[8];

	if (!s)
		return -1;
	for (; s[i] >= '0' && s[i] <= '9'; i++, digits++) {
		if (digits == 20)
			return -1;
		num = num * 10 + (unsigned)(s[i] - '0');
	}
	if (digits == 0)
		return -1;
	if (s[i] == '.') {
		for (i++; s[i] >= '0' && s[i] <= '9'; i++, frac++) {
			if (frac == 9)
				return -1;
			num = num * 10 + (unsigned)(s[i] - '0');
			den *= 10;
		}
		if (frac == 0)
			return -1;
	}
	size_t n = strlen(s + i);
	if (n >= sizeof(suffix))
		return -1;
	for (size_t j = 0; j <= n; j++) {
		char c = s[i + j];
		suffix[j] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	for (size_t u = 0; u < nunits; u++) {
		if (strcmp(suffix, units[u].suffix))
			continue;
		/* num < 10^29 and scale <= 2^30: the product fits 128 bits. */
		u128 v = num * units[u].scale, d = den * per;
		if (v % d || v / d > UINT64_MAX)
			return -1;
		*out = (uint64_t)(v / d);
		return 0;
	}
	return -1;
}

int vh_api_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int vh_api_parse_mib(const char *s, uint64_t *mib, struct vh_api_problem *p, const char *field)
{
	if (parse_scaled(s, size_units, sizeof(size_units) / sizeof(size_units[0]), 1024, mib))
		return vh_api_fail(
		    p, VH_API_INVALID_FIELD, field,
		    "%s: \"%.40s\" is not a whole number of MiB (e.g. 512M, 2G, 1.5G)", field,
		    s ? s : "");
	return 0;
}

int vh_api_parse_mhz(const char *s, uint64_t *mhz, struct vh_api_problem *p, const char *field)
{
	if (parse_scaled(s, rate_units, sizeof(rate_units) / sizeof(rate_units[0]), 1000000, mhz))
		return vh_api_fail(
		    p, VH_API_INVALID_FIELD, field,
		    "%s: \"%.40s\" is not a whole number of MHz (e.g. 500MHz, 1.5GHz)", field,
		    s ? s : "");
	return 0;
}

void vh_api_format_mib(uint64_t mib, char *out, size_t cap)
{
	if (mib == VH_UNLIMITED)
		snprintf(out, cap, "unlimited");
	else if (mib && mib % (1024ull * 1024) == 0)
		snprintf(out, cap, "%lluT", (unsigned long long)(mib / (1024ull * 1024)));
	else if (mib && mib % 1024 == 0)
		snprintf(out, cap, "%lluG", (unsigned long long)(mib / 1024));
	else
		snprintf(out, cap, "%lluM", (unsigned long long)mib);
}
