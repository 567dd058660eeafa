/* SPDX-License-Identifier: Apache-2.0 */
/* printf-style formatting for the freestanding core and the kernel console.
 *
 * Supported: %% %c %s %d %i %u %x %X %o %p, length modifiers hh h l ll z j t,
 * flags '-' '0' '+' ' ' '#', field width and precision (also as '*').
 * No floating point: the hypervisor is built without SSE/x87. */
#ifndef VH_FORMAT_H
#define VH_FORMAT_H

#include <stdarg.h>
#include <stddef.h>

#include "vh/compiler.h"

/* Receives formatted output in pieces; ctx is passed through. */
typedef void (*vh_format_sink)(void *ctx, const char *s, size_t n);

/* Formats to a sink.  Returns the number of bytes produced. */
size_t vh_vformat(vh_format_sink sink, void *ctx, const char *fmt, va_list ap);
size_t vh_format(vh_format_sink sink, void *ctx, const char *fmt, ...) VH_PRINTF(3, 4);

/* snprintf semantics: always terminates when size > 0, returns the length
 * the full output would have had. */
size_t vh_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
size_t vh_snprintf(char *buf, size_t size, const char *fmt, ...) VH_PRINTF(3, 4);

#endif
