/* The kernel console: formatted output on COM1, one whole printf at a
 * time when several CPUs print. */
#ifndef VH_X86_CONSOLE_H
#define VH_X86_CONSOLE_H

#include <stdarg.h>
#include <stddef.h>

#include "vh/compiler.h"

void vh_console_printf(const char *fmt, ...) VH_PRINTF(1, 2);
void vh_console_vprintf(const char *fmt, va_list ap);
/* Raw bytes (guest console output), under the same lock. */
void vh_console_write(const char *s, size_t n);
/* From now on a CPU waits only briefly for the console lock: a CPU that
 * stopped while holding it must not silence the panic report. */
void vh_console_panic_mode(void);

#endif
