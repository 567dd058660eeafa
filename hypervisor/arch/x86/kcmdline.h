/* SPDX-License-Identifier: Apache-2.0 */
/* The kernel command line: space-separated words, "key" or "key=value". */
#ifndef VH_X86_KCMDLINE_H
#define VH_X86_KCMDLINE_H

#include <stdbool.h>
#include <stddef.h>

/* True when the command line holds exactly this word. */
bool vh_cmdline_has(const char *cmdline, const char *word);

/* Calls fn(word, len, arg) for each word; stops early when fn returns
 * false and then returns false. */
bool vh_cmdline_each(const char *cmdline, bool (*fn)(const char *w, size_t n, void *arg),
		     void *arg);

#endif
