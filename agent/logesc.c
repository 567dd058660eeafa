/* SPDX-License-Identifier: Apache-2.0 */
/* vh_log_escape (see logesc.h). */
#include "agent/logesc.h"

#include <stdbool.h>
#include <stdint.h>

/* The length of the well-formed UTF-8 sequence at s (RFC 3629: no
 * overlong forms, no surrogates, nothing past U+10FFFF), 0 when it is
 * not one. */
static size_t utf8_len(const uint8_t *s)
{
	uint8_t c = s[0];
	size_t n;
	uint8_t lo = 0x80, hi = 0xbf;

	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	if (c == 0xe0)
		lo = 0xa0; /* overlong */
	else if (c == 0xed)
		hi = 0x9f; /* surrogates */
	else if (c == 0xf0)
		lo = 0x90; /* overlong */
	else if (c == 0xf4)
		hi = 0x8f; /* past U+10FFFF */
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

static bool put(char *out, size_t cap, size_t *len, const char *s, size_t n)
{
	if (*len + n + 1 > cap)
		return false;
	for (size_t i = 0; i < n; i++)
		out[(*len)++] = s[i];
	return true;
}

size_t vh_log_escape(const char *in, char *out, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	const uint8_t *s = (const uint8_t *)in;
	size_t len = 0;

	if (cap == 0)
		return 0;
	while (*s) {
		size_t n = *s < 0x80 ? 1 : utf8_len(s);
		bool plain = n > 1 ? !(s[0] == 0xc2 && s[1] < 0xa0) /* C1 controls */
				   : n == 1 && *s >= 0x20 && *s != 0x7f && *s != '\\';

		if (plain) {
			if (!put(out, cap, &len, (const char *)s, n))
				break;
			s += n;
		} else if (*s == '\\') {
			if (!put(out, cap, &len, "\\\\", 2))
				break;
			s++;
		} else {
			/* One byte at a time: the rest of a C1 character or of
			 * a broken sequence is looked at again on its own. */
			char esc[4] = { '\\', 'x', hex[*s >> 4], hex[*s & 15] };
			if (!put(out, cap, &len, esc, 4))
				break;
			s++;
		}
	}
	out[len] = '\0';
	return len;
}
