/* SPDX-License-Identifier: Apache-2.0 */
/* Polled 16550 driver for COM1.  Polling, not interrupts: the console must
 * work before the IDT and in a panic. */
#include <stdint.h>

#include "cpu.h"
#include "serial.h"

#define COM1 0x3f8
#define UART_THR 0 /* transmit holding (DLAB=0) */
#define UART_DLL 0 /* divisor low (DLAB=1) */
#define UART_IER 1
#define UART_DLM 1 /* divisor high (DLAB=1) */
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define LSR_THRE 0x20 /* holding register empty: may write a byte */
#define LSR_TEMT 0x40 /* shift register empty too: byte is on the wire */

/* A hung or absent UART must not hang the kernel: give up after this many
 * polls and drop the byte. */
#define UART_POLL_LIMIT 1000000
/* The 16550's transmit FIFO (enabled in vh_serial_init). */
#define UART_FIFO 16

void vh_serial_init(void)
{
	outb(COM1 + UART_IER, 0x00);
	outb(COM1 + UART_LCR, 0x80); /* DLAB on */
	outb(COM1 + UART_DLL, 0x01); /* 115200 baud */
	outb(COM1 + UART_DLM, 0x00);
	outb(COM1 + UART_LCR, 0x03); /* 8N1, DLAB off */
	outb(COM1 + UART_FCR, 0xc7); /* FIFO on, cleared, 14-byte trigger */
	outb(COM1 + UART_MCR, 0x03); /* DTR, RTS */
}

static void serial_put(uint8_t c)
{
	for (int i = 0; i < UART_POLL_LIMIT; i++) {
		if (inb(COM1 + UART_LSR) & LSR_THRE)
			break;
	}
	outb(COM1 + UART_THR, c);
}

size_t vh_serial_write_ready(const char *s, size_t n)
{
	size_t used = 0, room = UART_FIFO;

	/* THRE with the FIFO on: the transmit FIFO is empty. */
	if (!(inb(COM1 + UART_LSR) & LSR_THRE))
		return 0;
	while (used < n && room >= 2) {
		if (s[used] == '\n') {
			outb(COM1 + UART_THR, '\r');
			room--;
		}
		outb(COM1 + UART_THR, (uint8_t)s[used++]);
		room--;
	}
	return used;
}

void vh_serial_write(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n')
			serial_put('\r');
		serial_put((uint8_t)s[i]);
	}
}

void vh_serial_drain(void)
{
	for (int i = 0; i < UART_POLL_LIMIT; i++) {
		if (inb(COM1 + UART_LSR) & LSR_TEMT)
			return;
	}
}
