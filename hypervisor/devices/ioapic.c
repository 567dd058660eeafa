/* SPDX-License-Identifier: Apache-2.0 */
/* The IOAPIC (vh/ioapic.h): 24 pins, each with a redirection entry, as
 * the 82093AA datasheet describes them.  A guest selects a register with
 * IOREGSEL (offset 0x00) and reads or writes it through IOWIN (0x10), 32
 * bits at a time: 0 ID, 1 version, 2 arbitration ID, 0x10 + 2n and
 * 0x11 + 2n the low and high halves of pin n's entry.
 *
 * Delivery: a pin's entry becomes an interrupt message to the local APICs
 * (vh_lapic_message): fixed, lowest priority (to one APIC), or INIT;
 * NMI, SMI and ExtINT entries deliver nothing (vh's local APICs model
 * none of them).  Edge pins deliver on the line's rising edge (after the
 * polarity) while unmasked; one masked at the edge loses it.  Level pins
 * deliver while asserted and unmasked with remote IRR clear, and set
 * remote IRR when an APIC accepted the message; the APIC's EOI of that
 * vector (its TMR bit set) clears remote IRR (vh_ioapic_eoi), and a line
 * still asserted is delivered again.  Delivery is immediate, so delivery
 * status reads idle.
 *
 * Locking: the IOAPIC's lock, then the local APICs' (a leaf).  Lines come
 * from device handlers (device lock -> IOAPIC lock), EOIs from
 * vh_bus_finish (host lock -> IOAPIC lock). */
#include "vh/ioapic.h"
#include "dev_internal.h"

enum {
	IOREGSEL = 0x00,
	IOWIN = 0x10,
	REG_ID = 0x00,
	REG_VERSION = 0x01,
	REG_ARB = 0x02,
	REG_REDIR = 0x10,
};

#define RTE_VECTOR       0xffu
#define RTE_MODE(x)      (((x) >> 8) & 7u)
#define RTE_STATUS       (1u << 12)
#define RTE_POLARITY_LOW (1u << 13)
#define RTE_REMOTE_IRR   (1u << 14)
#define RTE_LEVEL        (1u << 15)
#define RTE_MASKED       (1u << 16)
/* What a write sets: vector, delivery mode, destination mode, polarity,
 * trigger mode, mask; delivery status and remote IRR are read-only. */
#define RTE_WRITABLE  0x1afffu
#define RTE_DEST_BITS 0xff000000u
#define ID_BITS       0x0f000000u

#define MODE_FIXED    0u
#define MODE_LOWEST   1u
#define MODE_INIT     5u

void vh_ioapic_reset(void *ioapic, const struct vh_bus *bus)
{
	struct vh_ioapic *io = ioapic;

	(void)bus;
	io->sel = 0;
	io->id = VH_IOAPIC_ID << 24;
	io->lines = 0;
	for (unsigned i = 0; i < VH_IOAPIC_PINS; i++) {
		io->lo[i] = RTE_MASKED;
		io->hi[i] = 0;
	}
}

static bool asserted(const struct vh_ioapic *io, unsigned pin)
{
	return ((io->lines >> pin) & 1) ^ !!(io->lo[pin] & RTE_POLARITY_LOW);
}

/* Sends pin's message; a level pin's accepted fixed or lowest-priority
 * message sets remote IRR.  The IOAPIC's lock is held. */
static void deliver(struct vh_ioapic *io, struct vh_bus *b, unsigned pin, uint64_t *wake)
{
	uint32_t lo = io->lo[pin], mode = RTE_MODE(lo);
	bool fixed = mode == MODE_FIXED || mode == MODE_LOWEST;

	if (!fixed && mode != MODE_INIT)
		return; /* NMI, SMI, ExtINT, reserved: refused, nothing sent */
	/* The entry's low 12 bits and trigger are the message's, in the
	 * ICR's layout; a message from a pin is always an assert. */
	if (vh_lapic_message(b, (lo & (0xfffu | RTE_LEVEL)) | VH_APIC_MSG_ASSERT,
			     io->hi[pin] & RTE_DEST_BITS, mode == MODE_LOWEST, wake) &&
	    fixed && (lo & RTE_LEVEL))
		io->lo[pin] |= RTE_REMOTE_IRR;
}

/* A level pin that can deliver does (an unmask, an EOI, a line that
 * rose). */
static void level_check(struct vh_ioapic *io, struct vh_bus *b, unsigned pin, uint64_t *wake)
{
	uint32_t lo = io->lo[pin];

	if ((lo & RTE_LEVEL) && !(lo & (RTE_MASKED | RTE_REMOTE_IRR)) && asserted(io, pin))
		deliver(io, b, pin, wake);
}

void vh_ioapic_line(struct vh_bus *b, unsigned pin, bool level, uint64_t *wake)
{
	struct vh_devices *d = vh_devices_of(b);
	struct vh_ioapic *io = &d->ioapic;
	bool was;

	if (pin >= VH_IOAPIC_PINS || !d->ioapic_dev)
		return;
	vh_lock_take(b->h->plat, &d->ioapic_dev->lock);
	was = asserted(io, pin);
	io->lines = level ? io->lines | (1u << pin) : io->lines & ~(1u << pin);
	if (io->lo[pin] & RTE_LEVEL)
		level_check(io, b, pin, wake);
	else if (!was && asserted(io, pin) && !(io->lo[pin] & RTE_MASKED))
		deliver(io, b, pin, wake);
	vh_lock_drop(&d->ioapic_dev->lock);
}

void vh_ioapic_eoi(struct vh_bus *b, uint8_t vector, uint64_t *wake)
{
	struct vh_devices *d = vh_devices_of(b);
	struct vh_ioapic *io = &d->ioapic;

	if (!d->ioapic_dev)
		return;
	vh_lock_take(b->h->plat, &d->ioapic_dev->lock);
	for (unsigned pin = 0; pin < VH_IOAPIC_PINS; pin++) {
		if ((io->lo[pin] & RTE_REMOTE_IRR) && (io->lo[pin] & RTE_VECTOR) == vector) {
			io->lo[pin] &= ~RTE_REMOTE_IRR;
			level_check(io, b, pin, wake);
		}
	}
	vh_lock_drop(&d->ioapic_dev->lock);
}

/* The pin a redirection register belongs to, VH_IOAPIC_PINS for none. */
static unsigned pin_of(uint8_t reg)
{
	return reg >= REG_REDIR ? ((unsigned)reg - REG_REDIR) >> 1 : VH_IOAPIC_PINS;
}

static uint32_t reg_read(const struct vh_ioapic *io, uint8_t reg)
{
	unsigned pin = pin_of(reg);

	switch (reg) {
	case REG_ID:
	case REG_ARB: return io->id; /* arbitration ID: loaded from the ID */
	case REG_VERSION: return ((VH_IOAPIC_PINS - 1) << 16) | VH_IOAPIC_VERSION;
	default: break;
	}
	if (pin >= VH_IOAPIC_PINS)
		return 0;
	return reg & 1 ? io->hi[pin] : io->lo[pin];
}

static void reg_write(struct vh_ioapic *io, const struct vh_dev_access *a, uint8_t reg, uint32_t v)
{
	unsigned pin = pin_of(reg);

	if (reg == REG_ID) {
		io->id = v & ID_BITS;
		return;
	}
	if (pin >= VH_IOAPIC_PINS)
		return; /* version, arbitration, nothing: read-only */
	if (reg & 1) {
		io->hi[pin] = v & RTE_DEST_BITS;
		return;
	}
	io->lo[pin] = (io->lo[pin] & ~RTE_WRITABLE) | (v & RTE_WRITABLE);
	/* Remote IRR means nothing on an edge pin: switching to edge clears
	 * it (what Linux relies on to clear it on a version 0x11 IOAPIC). */
	if (!(io->lo[pin] & RTE_LEVEL))
		io->lo[pin] &= ~RTE_REMOTE_IRR;
	uint64_t wakes = 0;
	level_check(io, a->bus, pin, &wakes);
	vh_dev_wake_mask(a, wakes);
}

enum vh_io_result vh_ioapic_mmio(void *ioapic, const struct vh_dev_access *a)
{
	struct vh_ioapic *io = ioapic;
	uint32_t v = (uint32_t)*a->value;

	/* 32-bit accesses to the two registers; anything else reads zero
	 * and is dropped (the datasheet leaves it undefined). */
	if (a->size != 4 || (a->offset != IOREGSEL && a->offset != IOWIN)) {
		if (!a->is_write)
			*a->value = 0;
		return VH_IO_HANDLED;
	}
	if (a->offset == IOREGSEL) {
		if (a->is_write)
			io->sel = (uint8_t)v;
		else
			*a->value = io->sel;
	} else if (a->is_write) {
		reg_write(io, a, io->sel, v);
	} else {
		*a->value = reg_read(io, io->sel);
	}
	return VH_IO_HANDLED;
}
