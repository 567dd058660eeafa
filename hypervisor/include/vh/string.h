/* SPDX-License-Identifier: Apache-2.0 */
/* Memory and string primitives for the freestanding core.  The core never
 * calls libc, so these are its only copy/compare/length helpers; the
 * bare-metal kernel also builds the compiler-required memcpy/memset on top
 * of them (hypervisor/arch/x86/compiler_rt.c). */
#ifndef VH_STRING_H
#define VH_STRING_H

#include <stddef.h>

void *vh_memcpy(void *dst, const void *src, size_t n);
void *vh_memmove(void *dst, const void *src, size_t n);
void *vh_memset(void *dst, int c, size_t n);
int vh_memcmp(const void *a, const void *b, size_t n);
size_t vh_strlen(const char *s);
size_t vh_strnlen(const char *s, size_t max);
int vh_strcmp(const char *a, const char *b);
int vh_strncmp(const char *a, const char *b, size_t n);
/* Copies at most size-1 bytes and always terminates (when size > 0).
 * Returns strlen(src), so truncation is detectable as ret >= size. */
size_t vh_strlcpy(char *dst, const char *src, size_t size);

#endif
