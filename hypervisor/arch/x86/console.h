/* The kernel console: formatted output on COM1. */
#ifndef VH_X86_CONSOLE_H
#define VH_X86_CONSOLE_H

#include "vh/compiler.h"

void vh_console_printf(const char *fmt, ...) VH_PRINTF(1, 2);

#endif
