/* SPDX-License-Identifier: Apache-2.0 */
/* The kernel console: formatted output on COM1, one whole printf at a
 * time when several CPUs print; written at once while the kernel boots,
 * through a ring fed to the UART without waiting once guests run. */
#ifndef VH_X86_CONSOLE_H
#define VH_X86_CONSOLE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "vh/compiler.h"

void vh_console_printf(const char *fmt, ...) VH_PRINTF(1, 2);
void vh_console_vprintf(const char *fmt, va_list ap);
/* Raw bytes (guest console output), under the same lock. */
void vh_console_write(const char *s, size_t n);
/* From now on a CPU waits only briefly for the console lock: a CPU that
 * stopped while holding it must not silence the panic report; and output
 * is written at once, after what is pending. */
void vh_console_panic_mode(void);
/* From now on output goes through the ring (the CPUs run guests). */
void vh_console_buffered(void);
/* Whether bytes wait in the ring. */
bool vh_console_pending(void);
/* Feeds the UART what its FIFO takes now, without waiting; does nothing
 * while another CPU holds the console. */
void vh_console_pump(void);
/* Writes out everything pending, waiting for the UART. */
void vh_console_flush(void);

#endif
