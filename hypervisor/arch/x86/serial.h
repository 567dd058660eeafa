/* SPDX-License-Identifier: Apache-2.0 */
/* COM1, a 16550 UART: the kernel console. */
#ifndef VH_X86_SERIAL_H
#define VH_X86_SERIAL_H

#include <stddef.h>

void vh_serial_init(void);
void vh_serial_write(const char *s, size_t n);
/* Without waiting: as many of the n bytes as the transmit FIFO takes now
 * (none while it still sends), returned. */
size_t vh_serial_write_ready(const char *s, size_t n);
/* Waits until the transmitter is empty (LSR bit 6), so nothing is lost
 * when the machine stops right after. */
void vh_serial_drain(void);

#endif
