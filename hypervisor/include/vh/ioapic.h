/* SPDX-License-Identifier: Apache-2.0 */
/* The IOAPIC a VM sees (hypervisor/devices/ioapic.c): one 82093AA-style
 * IOAPIC at VH_LAYOUT_IOAPIC_BASE with 24 pins, version 0x11 (so no EOI
 * register: a level line's remote IRR clears on the local APIC's EOI
 * broadcast, or when the guest switches the pin to edge, as Linux does
 * for old IOAPICs).  What the ACPI tables (MADT) must say about it is
 * here: its ID, its GSI base 0, and how the ISA IRQs reach its pins.
 *
 * Interrupt lines: every device line is active high (asserted = 1), so
 * the tables declare every GSI active high; the ISA IRQs 0..15 are GSIs
 * 0..15 except where vh_isa_overrides says otherwise.  A line goes to
 * both the 8259 pair and the IOAPIC pin, as on a PC: a guest that uses
 * the IOAPIC masks the 8259s, one that uses the 8259s leaves the IOAPIC's
 * pins masked (their power-on state).  Freestanding. */
#ifndef VH_IOAPIC_H
#define VH_IOAPIC_H

#include "vh/layout.h"
#include "vh/types.h"

#define VH_IOAPIC_PINS     24u
#define VH_IOAPIC_ID       0u /* after reset; the MADT's IOAPIC ID */
#define VH_IOAPIC_GSI_BASE 0u
#define VH_IOAPIC_VERSION  0x11u /* 82093AA */

/* An ISA IRQ that reaches another GSI, or the same one with other flags
 * (an ACPI MADT interrupt source override; flags in the MADT's MPS INTI
 * encoding: polarity bits 1:0, trigger bits 3:2, 0 = bus default). */
struct vh_isa_override {
	uint8_t irq;
	uint32_t gsi;
	uint16_t flags;
};

/* COM1's IRQ 4 on GSI 4, edge, active high: stated (not the bus default
 * left implicit) because Linux's serial probing trusts the table. */
#define VH_ISA_OVERRIDES       \
	{                      \
		{ 4, 4, 0x5 }, \
	}
#define VH_MPS_INTI_HIGH 0x1u
#define VH_MPS_INTI_EDGE 0x4u

/* The GSI of ISA IRQ irq (0..15): the override's, else irq itself. */
static inline uint32_t vh_isa_irq_gsi(unsigned irq)
{
	static const struct vh_isa_override o[] = VH_ISA_OVERRIDES;

	for (unsigned i = 0; i < sizeof(o) / sizeof(o[0]); i++) {
		if (o[i].irq == irq)
			return o[i].gsi;
	}
	return irq;
}

#endif
