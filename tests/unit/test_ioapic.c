/* SPDX-License-Identifier: Apache-2.0 */
/* The IOAPIC: its register window, edge delivery to the vCPU an entry
 * names (COM1's IRQ 4 through pin 4), masking on both the IOAPIC and the
 * 8259 path, level lines with remote IRR and re-delivery after the local
 * APIC's EOI, logical destinations and lowest priority; MSI decoding by
 * the SDM's format. */
#include "apic_env.h"
#include "vh/bus.h"
#include "vh/ioapic.h"

#define IOAPIC VH_LAYOUT_IOAPIC_BASE
#define COM1   0x3f8

static void io_wr(struct apic_env *e, uint32_t reg, uint32_t val)
{
	uint64_t s = reg, v = val;

	vh_devices_mmio(&e->m.h, e->vm, &e->vm->vcpus[0], IOAPIC, 4, true, &s);
	vh_devices_mmio(&e->m.h, e->vm, &e->vm->vcpus[0], IOAPIC + 0x10, 4, true, &v);
}

static uint32_t io_rd(struct apic_env *e, uint32_t reg)
{
	uint64_t s = reg, v = 0xdead;

	vh_devices_mmio(&e->m.h, e->vm, &e->vm->vcpus[0], IOAPIC, 4, true, &s);
	VH_EXPECT_EQ(
	    (int)vh_devices_mmio(&e->m.h, e->vm, &e->vm->vcpus[0], IOAPIC + 0x10, 4, false, &v),
	    (int)VH_IO_HANDLED);
	return (uint32_t)v;
}

static void route(struct apic_env *e, unsigned pin, uint32_t lo, uint8_t dest)
{
	io_wr(e, 0x11 + 2 * pin, (uint32_t)dest << 24);
	io_wr(e, 0x10 + 2 * pin, lo);
}

static void port_out(struct apic_env *e, uint16_t port, uint32_t v)
{
	VH_EXPECT_EQ((int)vh_devices_io(&e->m.h, e->vm, &e->vm->vcpus[0], port, 1, true, &v),
		     (int)VH_IO_HANDLED);
}

static uint32_t port_in(struct apic_env *e, uint16_t port)
{
	uint32_t v = 0;

	vh_devices_io(&e->m.h, e->vm, &e->vm->vcpus[0], port, 1, false, &v);
	return v;
}

/* A bit of one of the APIC's 256-bit registers (IRR 0x200, TMR 0x180). */
static bool apic_bit(struct apic_env *e, uint32_t cpu, uint32_t reg, uint8_t vector)
{
	return (rd(e, cpu, reg + (vector >> 5) * 0x10) >> (vector & 31)) & 1;
}
#define IRR 0x200u
#define TMR 0x180u

static void env(struct apic_env *e, uint32_t vcpus)
{
	apic_env_init(e, vcpus);
	for (uint32_t i = 0; i < vcpus; i++)
		wr(e, i, 0xf0, 0x1ff); /* software-enabled */
}

/* A device's line, as a device's handler raises it (the call's wakes are
 * not needed here: the tests look at the APICs). */
static void line(struct apic_env *e, unsigned irq, bool level)
{
	struct vh_dev_call c = { 0 };
	uint64_t v = 0;
	struct vh_dev_access a = { vh_devices_bus(e->vm), &c, 0, 0, 1, true, &v };

	vh_dev_irq(&a, irq, level);
}

/* Moves vector from IRR to ISR as an injection does, then the guest's
 * EOI through the APIC page (which the IOAPIC hears of). */
static void take_and_eoi(struct apic_env *e, uint32_t cpu, uint8_t vector)
{
	VH_EXPECT(apic_bit(e, cpu, IRR, vector)); /* APs wait for SIPI: no pending() */
	vh_lapic_ack(&e->m.h, e->vm, &e->vm->vcpus[cpu], vector);
	wr(e, cpu, 0xb0, 0);
}

VH_TEST(ioapic, register_window)
{
	struct apic_env e;
	uint64_t v = 0;

	env(&e, 1);
	VH_EXPECT_EQ(io_rd(&e, 1), 0x00170011u); /* version 0x11, 24 entries */
	VH_EXPECT_EQ(io_rd(&e, 0), 0u);
	io_wr(&e, 0, 0xffffffffu);
	VH_EXPECT_EQ(io_rd(&e, 0), 0x0f000000u); /* ID: bits 27:24 only */
	VH_EXPECT_EQ(io_rd(&e, 2), 0x0f000000u); /* arbitration ID follows */
	io_wr(&e, 1, 0);
	VH_EXPECT_EQ(io_rd(&e, 1), 0x00170011u); /* read-only */
	for (unsigned pin = 0; pin < VH_IOAPIC_PINS; pin++) {
		VH_EXPECT_EQ(io_rd(&e, 0x10 + 2 * pin), 0x10000u); /* masked at reset */
		VH_EXPECT_EQ(io_rd(&e, 0x11 + 2 * pin), 0u);
	}
	/* Delivery status (12) and remote IRR (14) are read-only; the high
	 * half keeps the destination only. */
	io_wr(&e, 0x10 + 2 * 23, 0xffffffffu);
	VH_EXPECT_EQ(io_rd(&e, 0x10 + 2 * 23), 0x1afffu);
	io_wr(&e, 0x11 + 2 * 23, 0xffffffffu);
	VH_EXPECT_EQ(io_rd(&e, 0x11 + 2 * 23), 0xff000000u);
	/* Past the last entry, and registers that do not exist: zero. */
	io_wr(&e, 0x40, 0x1234);
	VH_EXPECT_EQ(io_rd(&e, 0x40), 0u);
	VH_EXPECT_EQ(io_rd(&e, 0x03), 0u);
	/* IOREGSEL reads back; other offsets and widths read zero. */
	v = 0x11;
	vh_devices_mmio(&e.m.h, e.vm, &e.vm->vcpus[0], IOAPIC, 4, true, &v);
	v = 0;
	vh_devices_mmio(&e.m.h, e.vm, &e.vm->vcpus[0], IOAPIC, 4, false, &v);
	VH_EXPECT_EQ(v, 0x11ull);
	v = 7;
	vh_devices_mmio(&e.m.h, e.vm, &e.vm->vcpus[0], IOAPIC + 0x10, 1, false, &v);
	VH_EXPECT_EQ(v, 0ull);
	v = 7;
	vh_devices_mmio(&e.m.h, e.vm, &e.vm->vcpus[0], IOAPIC + 0x20, 4, false, &v);
	VH_EXPECT_EQ(v, 0ull);
	/* A reset of the VM masks every pin again. */
	e.vm->boot_generation++;
	VH_EXPECT_EQ(io_rd(&e, 0x10 + 2 * 23), 0x10000u);
	VH_EXPECT_EQ(io_rd(&e, 0), 0u);
	mem_env_fini(&e.m);
}

VH_TEST(ioapic, com1_irq4_edge_reaches_the_vcpu_named)
{
	struct apic_env e;

	env(&e, 3);
	VH_EXPECT_EQ(vh_isa_irq_gsi(4), 4u);
	route(&e, 4, 0x31, 2); /* fixed, physical, edge, high, unmasked */
	/* THR-empty interrupt enabled with OUT2: IRQ 4 rises. */
	port_out(&e, COM1 + 4, 0x08);
	port_out(&e, COM1 + 1, 0x02);
	VH_EXPECT(apic_bit(&e, 2, IRR, 0x31));
	VH_EXPECT(!apic_bit(&e, 2, TMR, 0x31)); /* edge */
	VH_EXPECT(!apic_bit(&e, 0, IRR, 0x31));
	VH_EXPECT(!apic_bit(&e, 1, IRR, 0x31));
	/* The 8259s were never initialised: nothing on the virtual wire. */
	VH_EXPECT_EQ(pending(&e, 0), -1);
	/* The handler reads IIR (the line falls), EOIs; the next byte sent
	 * empties THR again: a new edge, a new interrupt. */
	vh_lapic_ack(&e.m.h, e.vm, &e.vm->vcpus[2], 0x31);
	VH_EXPECT_EQ(port_in(&e, COM1 + 2) & 0xf, 0x2u);
	wr(&e, 2, 0xb0, 0);
	VH_EXPECT(!apic_bit(&e, 2, IRR, 0x31));
	port_out(&e, COM1, 'x');
	VH_EXPECT(apic_bit(&e, 2, IRR, 0x31));
	vh_lapic_ack(&e.m.h, e.vm, &e.vm->vcpus[2], 0x31);
	wr(&e, 2, 0xb0, 0);
	/* While the pin is masked the edge is lost, and unmasking does not
	 * bring it back. */
	VH_EXPECT_EQ(port_in(&e, COM1 + 2) & 0xf, 0x2u);
	route(&e, 4, 0x10031, 2);
	port_out(&e, COM1, 'y');
	route(&e, 4, 0x31, 2);
	VH_EXPECT(!apic_bit(&e, 2, IRR, 0x31));
	/* Without OUT2 the UART's line stays low. */
	VH_EXPECT_EQ(port_in(&e, COM1 + 2) & 0xf, 0x2u);
	port_out(&e, COM1 + 4, 0x00);
	port_out(&e, COM1, 'z');
	VH_EXPECT(!apic_bit(&e, 2, IRR, 0x31));
	mem_env_fini(&e.m);
}

VH_TEST(ioapic, the_8259_path_stays_for_guests_that_use_it)
{
	struct apic_env e;

	env(&e, 2);
	/* ICW1..4, vectors from 0x30, only IRQ 4 unmasked; the IOAPIC's pin
	 * stays masked as after reset. */
	port_out(&e, 0x20, 0x11);
	port_out(&e, 0x21, 0x30);
	port_out(&e, 0x21, 0x04);
	port_out(&e, 0x21, 0x01);
	port_out(&e, 0x21, 0xef);
	line(&e, 4, true);
	VH_EXPECT_EQ(pending(&e, 0), 0x34);
	line(&e, 4, false);
	vh_lapic_ack(&e.m.h, e.vm, &e.vm->vcpus[0], 0x34);
	wr(&e, 0, 0xb0, 0);
	/* A guest that moved to the IOAPIC masks the 8259: only the
	 * IOAPIC's vector arrives. */
	port_out(&e, 0x21, 0xff);
	route(&e, 4, 0x44, 0);
	line(&e, 4, true);
	VH_EXPECT_EQ(pending(&e, 0), 0x44);
	VH_EXPECT(!apic_bit(&e, 0, IRR, 0x34));
	mem_env_fini(&e.m);
}

VH_TEST(ioapic, level_remote_irr_and_redelivery_after_eoi)
{
	struct apic_env e;

	env(&e, 2);
	route(&e, 9, 0x8052, 1); /* level, fixed, physical 1 */
	line(&e, 9, true);
	VH_EXPECT(apic_bit(&e, 1, IRR, 0x52));
	VH_EXPECT(apic_bit(&e, 1, TMR, 0x52));       /* level: the EOI will be broadcast */
	VH_EXPECT_EQ(io_rd(&e, 0x10 + 18), 0xc052u); /* remote IRR */
	/* Taken; the line toggling meanwhile delivers nothing more. */
	vh_lapic_ack(&e.m.h, e.vm, &e.vm->vcpus[1], 0x52);
	line(&e, 9, false);
	line(&e, 9, true);
	VH_EXPECT(!apic_bit(&e, 1, IRR, 0x52));
	/* EOI with the line still asserted: remote IRR clears and the pin
	 * delivers again at once. */
	wr(&e, 1, 0xb0, 0);
	VH_EXPECT(apic_bit(&e, 1, IRR, 0x52));
	VH_EXPECT_EQ(io_rd(&e, 0x10 + 18), 0xc052u);
	/* The device lowers its line, the guest EOIs: idle. */
	line(&e, 9, false);
	take_and_eoi(&e, 1, 0x52);
	VH_EXPECT(!apic_bit(&e, 1, IRR, 0x52));
	VH_EXPECT_EQ(io_rd(&e, 0x10 + 18), 0x8052u);
	/* Masked while asserted: nothing until unmasked, then delivered. */
	route(&e, 9, 0x18052, 1);
	line(&e, 9, true);
	VH_EXPECT(!apic_bit(&e, 1, IRR, 0x52));
	route(&e, 9, 0x8052, 1);
	VH_EXPECT(apic_bit(&e, 1, IRR, 0x52));
	VH_EXPECT_EQ(io_rd(&e, 0x10 + 18), 0xc052u);
	/* Switching the pin to edge clears remote IRR (Linux's way on a
	 * version 0x11 IOAPIC, which has no EOI register). */
	route(&e, 9, 0x0052, 1);
	VH_EXPECT_EQ(io_rd(&e, 0x10 + 18), 0x0052u);
	/* An edge vector's EOI touches no pin: the APIC's TMR is clear. */
	line(&e, 9, false);
	take_and_eoi(&e, 1, 0x52);
	VH_EXPECT(!apic_bit(&e, 1, IRR, 0x52));
	/* Active low: the idle line is asserted. */
	route(&e, 10, 0xa053, 0);
	VH_EXPECT(apic_bit(&e, 0, IRR, 0x53));
	mem_env_fini(&e.m);
}

VH_TEST(ioapic, logical_lowest_priority_and_refused_modes)
{
	struct apic_env e;

	env(&e, 3);
	for (uint32_t i = 0; i < 3; i++)
		wr(&e, i, 0xd0, (1u << i) << 24); /* flat LDRs 1, 2, 4 */
	route(&e, 5, 0x0861, 0x06);               /* fixed, logical 0b110 */
	line(&e, 5, true);
	VH_EXPECT(!apic_bit(&e, 0, IRR, 0x61));
	VH_EXPECT(apic_bit(&e, 1, IRR, 0x61));
	VH_EXPECT(apic_bit(&e, 2, IRR, 0x61));
	/* Lowest priority to all three: the one with the lowest TPR only. */
	wr(&e, 0, 0x80, 0x20);
	wr(&e, 1, 0x80, 0x30);
	wr(&e, 2, 0x80, 0x10);
	route(&e, 6, 0x0962, 0x07);
	line(&e, 6, true);
	VH_EXPECT(!apic_bit(&e, 0, IRR, 0x62));
	VH_EXPECT(!apic_bit(&e, 1, IRR, 0x62));
	VH_EXPECT(apic_bit(&e, 2, IRR, 0x62));
	/* Cluster model: cluster 1, CPU bit 2 is APIC 1 only. */
	for (uint32_t i = 0; i < 3; i++)
		wr(&e, i, 0xe0, 0x0fffffffu);
	wr(&e, 1, 0xd0, 0x12000000u);
	route(&e, 7, 0x0863, 0x12);
	line(&e, 7, true);
	VH_EXPECT(apic_bit(&e, 1, IRR, 0x63));
	VH_EXPECT(!apic_bit(&e, 0, IRR, 0x63) && !apic_bit(&e, 2, IRR, 0x63));
	/* NMI, SMI and ExtINT entries deliver nothing and set no remote
	 * IRR; a vector below 16 is refused too. */
	route(&e, 8, 0x8464, 0xff);
	route(&e, 11, 0x8265, 0xff);
	route(&e, 12, 0x8766, 0xff);
	route(&e, 13, 0x800f, 0xff);
	line(&e, 8, true);
	line(&e, 11, true);
	line(&e, 12, true);
	line(&e, 13, true);
	for (uint32_t i = 0; i < 3; i++) {
		VH_EXPECT(!apic_bit(&e, i, IRR, 0x64) && !apic_bit(&e, i, IRR, 0x65) &&
			  !apic_bit(&e, i, IRR, 0x66) && !apic_bit(&e, i, IRR, 0x0f));
	}
	VH_EXPECT_EQ(io_rd(&e, 0x10 + 16) & 0x4000, 0u);
	/* Lines past the ISA range and pins past 23 are ignored. */
	line(&e, 16, true);
	line(&e, 200, true);
	mem_env_fini(&e.m);
}

static bool msi(struct apic_env *e, uint64_t address, uint32_t data)
{
	struct vh_dev_call c = { 0 };
	uint64_t v = 0;
	struct vh_dev_access a = { vh_devices_bus(e->vm), &c, 0, 0, 4, true, &v };

	return vh_dev_msi(&a, address, data);
}

VH_TEST(msi, address_and_data_as_the_sdm_says)
{
	struct apic_env e;

	env(&e, 3);
	for (uint32_t i = 0; i < 3; i++)
		wr(&e, i, 0xd0, (1u << i) << 24);
	/* Destination ID in 19:12, physical. */
	VH_EXPECT(msi(&e, 0xfee01000u, 0x40));
	VH_EXPECT(apic_bit(&e, 1, IRR, 0x40) && !apic_bit(&e, 0, IRR, 0x40));
	/* DM (bit 2): logical, flat 0b101. */
	VH_EXPECT(msi(&e, 0xfee05004u, 0x41));
	VH_EXPECT(apic_bit(&e, 0, IRR, 0x41) && apic_bit(&e, 2, IRR, 0x41) &&
		  !apic_bit(&e, 1, IRR, 0x41));
	/* RH (bit 3): lowest priority among those named, to one. */
	wr(&e, 0, 0x80, 0x40);
	wr(&e, 2, 0x80, 0x10);
	VH_EXPECT(msi(&e, 0xfee0500cu, 0x42));
	VH_EXPECT(apic_bit(&e, 2, IRR, 0x42) && !apic_bit(&e, 0, IRR, 0x42));
	/* Delivery mode 1 (lowest priority) in data 10:8 does the same. */
	VH_EXPECT(msi(&e, 0xfee05004u, 0x143));
	VH_EXPECT(apic_bit(&e, 2, IRR, 0x43) && !apic_bit(&e, 0, IRR, 0x43));
	/* Trigger (15) level with level (14) asserted: TMR set; de-assert:
	 * nothing delivered. */
	VH_EXPECT(msi(&e, 0xfee00000u, 0xc044));
	VH_EXPECT(apic_bit(&e, 0, TMR, 0x44) && apic_bit(&e, 0, IRR, 0x44));
	VH_EXPECT(!msi(&e, 0xfee00000u, 0x8045));
	VH_EXPECT(!apic_bit(&e, 0, IRR, 0x45));
	/* Edge: TMR clear (bit 14 is ignored for edge). */
	VH_EXPECT(msi(&e, 0xfee00000u, 0x4046));
	VH_EXPECT(!apic_bit(&e, 0, TMR, 0x46) && apic_bit(&e, 0, IRR, 0x46));
	/* Not 0xfeeXXXXX, above 4 GiB, NMI, SMI, ExtINT, vector < 16,
	 * nobody named: refused. */
	VH_EXPECT(!msi(&e, 0xfed00000u, 0x47));
	VH_EXPECT(!msi(&e, 0x1fee00000ull, 0x47));
	VH_EXPECT(!msi(&e, 0xfee00000u, 0x447));
	VH_EXPECT(!msi(&e, 0xfee00000u, 0x247));
	VH_EXPECT(!msi(&e, 0xfee00000u, 0x747));
	VH_EXPECT(!msi(&e, 0xfee00000u, 0x0e));
	VH_EXPECT(!msi(&e, 0xfee09000u, 0x47));
	VH_EXPECT(!apic_bit(&e, 0, IRR, 0x47));
	mem_env_fini(&e.m);
}
