/* SPDX-License-Identifier: Apache-2.0 */
/* GCC may emit calls to memcpy, memmove, memset and memcmp even with
 * -ffreestanding (struct copies, zeroing); the kernel has no libc, so they
 * are defined here on top of the core's primitives.  Only the kernel links
 * this file: user-space builds get them from libc. */
#include <stddef.h>

#include "vh/string.h"

void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);

void *memcpy(void *dst, const void *src, size_t n)
{
	return vh_memcpy(dst, src, n);
}

void *memmove(void *dst, const void *src, size_t n)
{
	return vh_memmove(dst, src, n);
}

void *memset(void *dst, int c, size_t n)
{
	return vh_memset(dst, c, n);
}

int memcmp(const void *a, const void *b, size_t n)
{
	return vh_memcmp(a, b, n);
}
