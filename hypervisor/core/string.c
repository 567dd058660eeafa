/* SPDX-License-Identifier: Apache-2.0 */
/* Byte and string primitives for freestanding code.  Simple loops on
 * purpose: the hot copies (guest pages) use word-sized paths; everything
 * else is small. */
#include <stdint.h>

#include "vh/string.h"

/* Word access to arbitrary bytes: may_alias keeps the optimiser honest
 * about strict aliasing. */
typedef uint64_t __attribute__((may_alias)) vh_word;

void *vh_memcpy(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	/* Word copies when both pointers share alignment: page copies for
	 * sharing and balloon paths go through here. */
	if ((((uintptr_t)d | (uintptr_t)s) & (sizeof(vh_word) - 1)) == 0) {
		while (n >= sizeof(vh_word)) {
			*(vh_word *)(void *)d = *(const vh_word *)(const void *)s;
			d += sizeof(vh_word);
			s += sizeof(vh_word);
			n -= sizeof(vh_word);
		}
	}
	while (n--)
		*d++ = *s++;
	return dst;
}

void *vh_memmove(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	if (d == s || n == 0)
		return dst;
	if (d < s || d >= s + n)
		return vh_memcpy(dst, src, n);
	/* Overlap with dst above src: copy backwards. */
	while (n--)
		d[n] = s[n];
	return dst;
}

void *vh_memset(void *dst, int c, size_t n)
{
	unsigned char *d = dst;

	while (n--)
		*d++ = (unsigned char)c;
	return dst;
}

int vh_memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;

	for (size_t i = 0; i < n; i++) {
		if (x[i] != y[i])
			return x[i] < y[i] ? -1 : 1;
	}
	return 0;
}

size_t vh_strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

size_t vh_strnlen(const char *s, size_t max)
{
	size_t n = 0;

	while (n < max && s[n])
		n++;
	return n;
}

int vh_strcmp(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return (unsigned char)*a - (unsigned char)*b;
}

int vh_strncmp(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (a[i] != b[i] || !a[i])
			return (unsigned char)a[i] - (unsigned char)b[i];
	}
	return 0;
}

size_t vh_strlcpy(char *dst, const char *src, size_t size)
{
	size_t len = vh_strlen(src);

	if (size) {
		size_t n = len < size - 1 ? len : size - 1;
		vh_memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return len;
}
