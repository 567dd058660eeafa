/* SPDX-License-Identifier: Apache-2.0 */
/* What every libFuzzer harness here shares.  A harness defines FUZZ_NAME
 * before including this; die() reports a broken property under that name
 * and aborts, so libFuzzer keeps the input that broke it. */
#ifndef VH_TESTS_FUZZ_H
#define VH_TESTS_FUZZ_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#ifndef FUZZ_NAME
#error "define FUZZ_NAME (the harness's name) before including fuzz.h"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

__attribute__((noreturn, format(printf, 1, 2))) static inline void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, FUZZ_NAME ": ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	abort();
}

#endif
