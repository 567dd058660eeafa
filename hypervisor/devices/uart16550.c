/* SPDX-License-Identifier: Apache-2.0 */
/* A 16550A UART on COM1: the registers a guest's serial driver programs
 * (Linux's 8250 driver, GRUB, small kernels' putc loops).  Output goes to
 * the platform's console at once, byte by byte, so nothing is lost when
 * the guest stops right after writing.  The transmitter is infinitely
 * fast: LSR always says THR empty and transmitter empty, so a driver that
 * polls LSR never waits.  There is no input source yet; in loopback mode
 * (MCR bit 4) a written byte comes back in RBR, which drivers use to probe
 * for a working UART.  Its interrupt line is IRQ 4 (vh_dev_irq: the 8259
 * and the IOAPIC's pin 4): high while IIR reports an interrupt and MCR's
 * OUT2 is set, the gate a PC puts between the UART and the ISA line. */
#include "dev_internal.h"

/* Register offsets from the base port. */
enum {
	UART_RBR_THR = 0, /* DLAB=1: DLL */
	UART_IER = 1,     /* DLAB=1: DLM */
	UART_IIR_FCR = 2,
	UART_LCR = 3,
	UART_MCR = 4,
	UART_LSR = 5,
	UART_MSR = 6,
	UART_SCR = 7,
};

#define LCR_DLAB   0x80
#define MCR_OUT2   0x08
#define MCR_LOOP   0x10
#define COM1_IRQ   4
#define IER_THRI   0x02
#define IER_RDI    0x01
#define IER_MASK   0x0f
#define FCR_ENABLE 0x01
#define LSR_DR     0x01
#define LSR_THRE   0x20
#define LSR_TEMT   0x40
#define IIR_NONE   0x01
#define IIR_THRI   0x02
#define IIR_RDI    0x04
#define IIR_FIFO   0xc0
/* Modem status with the lines a connected terminal raises: DCD, DSR, CTS. */
#define MSR_CONNECTED 0xb0

void vh_uart_reset(void *uart, const struct vh_bus *bus)
{
	struct vh_uart *u = uart;

	(void)bus;
	*u = (struct vh_uart){ .dll = 0x0c }; /* 9600 baud, as after a PC BIOS */
}

static uint8_t iir(struct vh_uart *u)
{
	uint8_t fifo = (u->fcr & FCR_ENABLE) ? IIR_FIFO : 0;

	/* Priority as on the chip: received data before THR empty. */
	if ((u->ier & IER_RDI) && u->data_ready)
		return IIR_RDI | fifo;
	if ((u->ier & IER_THRI) && u->thre_pending)
		return IIR_THRI | fifo;
	return IIR_NONE | fifo;
}

static uint8_t msr(const struct vh_uart *u)
{
	if (u->mcr & MCR_LOOP) {
		/* Loopback wires DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD. */
		uint8_t m = u->mcr;
		return (uint8_t)(((m & 0x01) << 5) | ((m & 0x02) << 3) | ((m & 0x04) << 4) |
				 ((m & 0x08) << 4));
	}
	return MSR_CONNECTED;
}

static void transmit(struct vh_uart *u, const struct vh_dev_access *a, uint8_t byte)
{
	if (u->mcr & MCR_LOOP) {
		u->rbr = byte;
		u->data_ready = true;
	} else {
		char c = (char)byte;
		vh_dev_console(a, &c, 1);
	}
	/* The byte left at once: THR is empty again. */
	u->thre_pending = true;
}

static uint8_t uart_read(struct vh_uart *u, unsigned reg)
{
	bool dlab = u->lcr & LCR_DLAB;
	uint8_t v;

	switch (reg) {
	case UART_RBR_THR:
		if (dlab)
			return u->dll;
		v = u->data_ready ? u->rbr : 0;
		u->data_ready = false;
		return v;
	case UART_IER: return dlab ? u->dlm : u->ier;
	case UART_IIR_FCR:
		v = iir(u);
		/* Reading IIR acknowledges a THR-empty interrupt. */
		if ((v & 0x0f) == IIR_THRI)
			u->thre_pending = false;
		return v;
	case UART_LCR: return u->lcr;
	case UART_MCR: return u->mcr;
	case UART_LSR: return (uint8_t)(LSR_THRE | LSR_TEMT | (u->data_ready ? LSR_DR : 0));
	case UART_MSR: return msr(u);
	default: return u->scr;
	}
}

static void uart_write(struct vh_uart *u, const struct vh_dev_access *a, unsigned reg, uint8_t v)
{
	bool dlab = u->lcr & LCR_DLAB;

	switch (reg) {
	case UART_RBR_THR:
		if (dlab)
			u->dll = v;
		else
			transmit(u, a, v);
		break;
	case UART_IER:
		if (dlab) {
			u->dlm = v;
		} else {
			/* Enabling THRI with THR empty raises it at once. */
			if ((v & IER_THRI) && !(u->ier & IER_THRI))
				u->thre_pending = true;
			u->ier = v & IER_MASK;
		}
		break;
	case UART_IIR_FCR:
		/* Bits 1 and 2 clear the FIFOs (self-clearing); keep the rest. */
		u->fcr = v & 0xc9;
		if (v & 0x02)
			u->data_ready = false;
		break;
	case UART_LCR: u->lcr = v; break;
	case UART_MCR: u->mcr = v & 0x1f; break;
	case UART_LSR:
	case UART_MSR: break; /* read-only (factory test registers on the real chip) */
	default: u->scr = v; break;
	}
}

/* Every register but the scratch one: its own function, so that the
 * scratch register's path saves no registers for the calls here. */
static __attribute__((noinline)) enum vh_io_result uart_reg_io(struct vh_uart *u,
							       const struct vh_dev_access *a)
{
	bool irq;

	if (a->is_write)
		uart_write(u, a, a->offset, (uint8_t)*a->value);
	else
		*a->value = uart_read(u, a->offset);
	/* The line moves only on a change: a byte sent with the interrupt
	 * off costs no interrupt controller's lock. */
	irq = (u->mcr & MCR_OUT2) && !(iir(u) & IIR_NONE);
	if (irq != u->irq) {
		u->irq = irq;
		vh_dev_irq(a, COM1_IRQ, irq);
	}
	return VH_IO_HANDLED;
}

enum vh_io_result vh_uart_io(void *uart, const struct vh_dev_access *a)
{
	struct vh_uart *u = uart;

	/* The scratch register is only storage: no interrupt condition
	 * depends on it, so its accesses skip the line's evaluation. */
	if (a->offset == UART_SCR) {
		if (a->is_write)
			u->scr = (uint8_t)*a->value;
		else
			*a->value = u->scr;
		return VH_IO_HANDLED;
	}
	return uart_reg_io(u, a);
}
