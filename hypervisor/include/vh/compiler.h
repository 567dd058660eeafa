/* SPDX-License-Identifier: Apache-2.0 */
/* Compiler helpers shared by both compilation worlds.  Freestanding: only
 * the compiler's own headers may be included here. */
#ifndef VH_COMPILER_H
#define VH_COMPILER_H

#include <stddef.h>

#define VH_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define VH_UNUSED __attribute__((unused))
#define VH_NORETURN __attribute__((noreturn))
#define VH_PACKED __attribute__((packed))
#define VH_ALIGNED(n) __attribute__((aligned(n)))
#define VH_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#define VH_LIKELY(x) __builtin_expect(!!(x), 1)
#define VH_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define VH_STATIC_ASSERT(cond, msg) _Static_assert(cond, msg)
#define VH_CONTAINER_OF(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

#endif
