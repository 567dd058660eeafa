/* SPDX-License-Identifier: Apache-2.0 */
/* The PCI host: mechanism #1's address register as Linux probes it,
 * configuration reads by mechanism #1 and by ECAM that agree, the host
 * bridge's IDs, absent functions reading all ones; a type-0 header's
 * semantics (read-only IDs, command and status, BAR sizing, the
 * capability list, reset); the PCI MMIO window's allocator; and random
 * accesses to the IOAPIC and the PCI host that crash nothing and touch
 * no other device's state. */
#include "apic_env.h"
#include "vh/bus.h"
#include "vh/error.h"
#include "vh/pci.h"

#define ECAM VH_LAYOUT_ECAM_BASE

static int pout(struct apic_env *e, uint16_t port, unsigned size, uint32_t v)
{
	return (int)vh_devices_io(&e->m.h, e->vm, &e->vm->vcpus[0], port, size, true, &v);
}

static uint32_t pin(struct apic_env *e, uint16_t port, unsigned size)
{
	uint32_t v = 0xdeadbeef;

	VH_EXPECT_EQ((int)vh_devices_io(&e->m.h, e->vm, &e->vm->vcpus[0], port, size, false, &v),
		     (int)VH_IO_HANDLED);
	return v;
}

/* Mechanism #1: dword `reg` of bus/dev/fn, at width size from byte off. */
static uint32_t cf8_read(struct apic_env *e, unsigned bus, unsigned dev, unsigned fn, unsigned reg,
			 unsigned size)
{
	pout(e, 0xcf8, 4, 0x80000000u | bus << 16 | dev << 11 | fn << 8 | (reg & 0xfc));
	return pin(e, (uint16_t)(0xcfc + (reg & 3)), size);
}

static void cf8_write(struct apic_env *e, unsigned dev, unsigned reg, unsigned size, uint32_t v)
{
	pout(e, 0xcf8, 4, 0x80000000u | dev << 11 | (reg & 0xfc));
	pout(e, (uint16_t)(0xcfc + (reg & 3)), size, v);
}

static uint64_t ecam(struct apic_env *e, uint64_t off, unsigned size)
{
	uint64_t v = 0xdead;

	VH_EXPECT_EQ(
	    (int)vh_devices_mmio(&e->m.h, e->vm, &e->vm->vcpus[0], ECAM + off, size, false, &v),
	    (int)VH_IO_HANDLED);
	return v;
}

VH_TEST(pci, cf8_reads_back_as_linux_probes_it)
{
	struct apic_env e;

	apic_env_init(&e, 1);
	/* pci_check_type1: a byte to 0xcfb, then 0x80000000 to 0xcf8 and
	 * read back. */
	pout(&e, 0xcfb, 1, 0x01);
	pout(&e, 0xcf8, 4, 0x80000000u);
	VH_EXPECT_EQ(pin(&e, 0xcf8, 4), 0x80000000u);
	pout(&e, 0xcfb, 1, 0x01); /* not the address register */
	VH_EXPECT_EQ(pin(&e, 0xcf8, 4), 0x80000000u);
	pout(&e, 0xcf8, 4, 0xffffffffu);
	VH_EXPECT_EQ(pin(&e, 0xcf8, 4), 0x80fffffcu); /* reserved bits read 0 */
	VH_EXPECT_EQ(pin(&e, 0xcf8, 1), 0xffu);
	VH_EXPECT_EQ(pin(&e, 0xcf9, 2), 0xffffu);
	/* A reset of the VM clears it. */
	e.vm->boot_generation++;
	VH_EXPECT_EQ(pin(&e, 0xcf8, 4), 0u);
	mem_env_fini(&e.m);
}

VH_TEST(pci, mechanism1_and_ecam_agree_on_the_host_bridge)
{
	struct apic_env e;

	apic_env_init(&e, 1);
	VH_EXPECT_EQ(cf8_read(&e, 0, 0, 0, 0, 4), VH_PCI_HOST_DEVICE << 16 | VH_PCI_HOST_VENDOR);
	VH_EXPECT_EQ(cf8_read(&e, 0, 0, 0, 8, 4) >> 8, VH_PCI_CLASS_HOST_BRIDGE);
	VH_EXPECT_EQ(cf8_read(&e, 0, 0, 0, 0xe, 1), 0u); /* header type 0, one function */
	for (unsigned reg = 0; reg < 0x100; reg += 4) {
		uint32_t m1 = cf8_read(&e, 0, 0, 0, reg, 4);

		if (m1 != ecam(&e, reg, 4))
			VH_FAIL("register %#x: mechanism #1 %#x, ECAM %#llx", reg, m1,
				(unsigned long long)ecam(&e, reg, 4));
	}
	/* Narrow accesses at their offsets, both ways. */
	VH_EXPECT_EQ(cf8_read(&e, 0, 0, 0, 2, 2), VH_PCI_HOST_DEVICE);
	VH_EXPECT_EQ(cf8_read(&e, 0, 0, 0, 1, 1), VH_PCI_HOST_VENDOR >> 8);
	VH_EXPECT_EQ(ecam(&e, 2, 2), (uint64_t)VH_PCI_HOST_DEVICE);
	VH_EXPECT_EQ(ecam(&e, 0xb, 1), 0x06ull);
	VH_EXPECT_EQ(ecam(&e, 0, 8), ecam(&e, 0, 4) | ecam(&e, 4, 4) << 32);
	/* A dword at 0xcfe runs past the data window; a misaligned ECAM
	 * access: nothing there. */
	VH_EXPECT_EQ(cf8_read(&e, 0, 0, 0, 2, 4), 0xffffffffu);
	VH_EXPECT_EQ(ecam(&e, 2, 4), 0xffffffffull);
	/* Extended configuration space of a conventional function: 0. */
	VH_EXPECT_EQ(ecam(&e, 0x100, 4), 0ull);
	/* Writes: the IDs are read-only, the command register keeps its
	 * writable bits, by either mechanism. */
	cf8_write(&e, 0, 0, 4, 0x12345678u);
	VH_EXPECT_EQ(ecam(&e, 0, 4), (uint64_t)(VH_PCI_HOST_DEVICE << 16 | VH_PCI_HOST_VENDOR));
	cf8_write(&e, 0, 4, 2, 0xffff);
	VH_EXPECT_EQ(ecam(&e, 4, 2), 0x547ull);
	mem_env_fini(&e.m);
}

VH_TEST(pci, absent_functions_read_all_ones)
{
	struct apic_env e;
	uint64_t v = 0x1234;

	apic_env_init(&e, 1);
	VH_EXPECT_EQ(cf8_read(&e, 0, 1, 0, 0, 4), 0xffffffffu);
	VH_EXPECT_EQ(cf8_read(&e, 0, 0, 1, 0, 4), 0xffffffffu);
	VH_EXPECT_EQ(cf8_read(&e, 1, 0, 0, 0, 4), 0xffffffffu);
	VH_EXPECT_EQ(cf8_read(&e, 0, 31, 7, 0, 2), 0xffffu);
	VH_EXPECT_EQ(ecam(&e, 1u << 15, 4), 0xffffffffull);
	VH_EXPECT_EQ(ecam(&e, 1u << 20, 4), 0xffffffffull);
	VH_EXPECT_EQ(ecam(&e, VH_LAYOUT_ECAM_SIZE - 4, 4), 0xffffffffull);
	VH_EXPECT_EQ(ecam(&e, 5u << 15 | 3, 1), 0xffull);
	/* The enable bit clear: the data ports reach nothing. */
	pout(&e, 0xcf8, 4, 0);
	VH_EXPECT_EQ(pin(&e, 0xcfc, 4), 0xffffffffu);
	/* Writes to nothing are dropped. */
	vh_devices_mmio(&e.m.h, e.vm, &e.vm->vcpus[0], ECAM + (3u << 15), 4, true, &v);
	VH_EXPECT_EQ(ecam(&e, 3u << 15, 4), 0xffffffffull);
	VH_EXPECT_EQ(e.vm->guest.io_unhandled, 0ull);
	mem_env_fini(&e.m);
}

/* A function of the test's own at 00:03.0, as a virtio device will be. */
struct fn {
	struct vh_pci_cfg cfg;
};

static enum vh_io_result fn_cfg(void *state, const struct vh_dev_access *a)
{
	return vh_pci_cfg_access(&((struct fn *)state)->cfg, a);
}

VH_TEST(pci, bar_sizing_command_status_and_capabilities)
{
	struct apic_env e;
	struct vh_error err = { 0 };
	struct vh_pci_alloc al;
	struct vh_bus *b;
	struct vh_bus_dev *dev;
	static struct fn f;
	int cap1, cap2;

	apic_env_init(&e, 1);
	b = vh_devices_bus(e.vm);
	vh_pci_alloc_init(&al);
	vh_pci_cfg_init(&f.cfg, 0x1af4, 0x1045, 0x00ff00, 1);
	VH_ASSERT_EQ(vh_pci_cfg_add_bar(&f.cfg, &al, 0, 0x4000, 0, &err), VH_OK);
	VH_ASSERT_EQ(vh_pci_cfg_add_bar(&f.cfg, &al, 2, 0x100000,
					VH_PCI_BAR_MEM64 | VH_PCI_BAR_PREFETCH, &err),
		     VH_OK);
	/* Taken, past the last BAR, a 64-bit one at BAR 5, a bad size. */
	VH_EXPECT_EQ(vh_pci_cfg_add_bar(&f.cfg, &al, 3, 0x1000, 0, &err), VH_E_INVAL);
	VH_EXPECT_EQ(vh_pci_cfg_add_bar(&f.cfg, &al, 6, 0x1000, 0, &err), VH_E_INVAL);
	VH_EXPECT_EQ(vh_pci_cfg_add_bar(&f.cfg, &al, 5, 0x1000, VH_PCI_BAR_MEM64, &err),
		     VH_E_INVAL);
	VH_EXPECT_EQ(vh_pci_cfg_add_bar(&f.cfg, &al, 4, 0x1800, 0, &err), VH_E_INVAL);
	cap1 = vh_pci_cfg_add_cap(&f.cfg, 0x09, 16, &err);
	cap2 = vh_pci_cfg_add_cap(&f.cfg, 0x11, 12, &err);
	VH_EXPECT_EQ(cap1, 0x40);
	VH_EXPECT_EQ(cap2, 0x50);
	vh_pci_cfg_set_pin(&f.cfg, 1);
	dev = vh_bus_add_device(b, "fn", &f, NULL, &err);
	VH_ASSERT(dev != NULL);
	VH_ASSERT_EQ(vh_bus_add_pci(b, dev, 3, 0, fn_cfg, &err), VH_OK);

	/* Assigned inside the window, each aligned to its size. */
	uint32_t bar0 = cf8_read(&e, 0, 3, 0, 0x10, 4);
	uint64_t bar2 = ecam(&e, 3u << 15 | 0x18, 8);
	VH_EXPECT_EQ(bar0, (uint32_t)VH_LAYOUT_PCI_MMIO_BASE);
	VH_EXPECT_EQ(bar2 & 0xf, 0xcull); /* 64-bit, prefetchable */
	VH_EXPECT_EQ((bar2 & ~0xfull) % 0x100000, 0ull);
	VH_EXPECT(bar2 >= VH_LAYOUT_PCI_MMIO_BASE + 0x4000 &&
		  bar2 < VH_LAYOUT_PCI_MMIO_BASE + VH_LAYOUT_PCI_MMIO_SIZE);
	/* Sizing: all ones, read the mask, put the address back. */
	cf8_write(&e, 3, 0x10, 4, 0xffffffffu);
	VH_EXPECT_EQ(cf8_read(&e, 0, 3, 0, 0x10, 4), 0xffffc000u);
	cf8_write(&e, 3, 0x18, 4, 0xffffffffu);
	cf8_write(&e, 3, 0x1c, 4, 0xffffffffu);
	VH_EXPECT_EQ(cf8_read(&e, 0, 3, 0, 0x18, 4), 0xfff0000cu);
	VH_EXPECT_EQ(cf8_read(&e, 0, 3, 0, 0x1c, 4), 0xffffffffu);
	VH_EXPECT_EQ(cf8_read(&e, 0, 3, 0, 0x14, 4), 0u); /* no BAR 1 */
	cf8_write(&e, 3, 0x10, 4, bar0);
	/* Decoding follows the command register's memory bit and a moved
	 * BAR. */
	VH_EXPECT_EQ(vh_pci_cfg_bar(&f.cfg, 0), 0ull);
	cf8_write(&e, 3, 4, 2, VH_PCI_CMD_MEMORY | VH_PCI_CMD_MASTER);
	VH_EXPECT_EQ(vh_pci_cfg_bar(&f.cfg, 0), (uint64_t)bar0);
	VH_EXPECT_EQ(vh_pci_cfg_bar(&f.cfg, 2), 0xfff00000ull | 0xffffffffull << 32);
	/* Status: the capability bit read-only, error bits cleared by 1. */
	VH_EXPECT_EQ(cf8_read(&e, 0, 3, 0, 6, 2), VH_PCI_STATUS_CAP_LIST);
	f.cfg.data[7] = 0x20; /* the device signalled a target abort */
	cf8_write(&e, 3, 6, 2, 0xffff);
	VH_EXPECT_EQ(cf8_read(&e, 0, 3, 0, 6, 2), VH_PCI_STATUS_CAP_LIST);
	/* The capability list: newest first, ending in 0. */
	VH_EXPECT_EQ(cf8_read(&e, 0, 3, 0, 0x34, 1), 0x50u);
	VH_EXPECT_EQ(cf8_read(&e, 0, 3, 0, 0x50, 2), 0x4011u);
	VH_EXPECT_EQ(cf8_read(&e, 0, 3, 0, 0x40, 2), 0x0009u);
	/* Interrupt line writable, pin not. */
	cf8_write(&e, 3, 0x3c, 2, 0xff0b);
	VH_EXPECT_EQ(cf8_read(&e, 0, 3, 0, 0x3c, 2), 0x010bu);
	/* A reset puts the BARs back where vh placed them, command 0. */
	e.vm->boot_generation++;
	vh_pci_cfg_reset(&f.cfg); /* the test's device has no reset hook on the bus */
	VH_EXPECT_EQ(cf8_read(&e, 0, 3, 0, 0x18, 4), (uint32_t)bar2);
	VH_EXPECT_EQ(cf8_read(&e, 0, 3, 0, 4, 2), 0u);
	/* A full space refuses another capability. */
	VH_EXPECT(vh_pci_cfg_add_cap(&f.cfg, 0x09, 200, &err) < 0);
	VH_EXPECT_EQ((int)err.code, (int)VH_E_NOMEM);
	mem_env_fini(&e.m);
}

VH_TEST(pci, the_allocator_stays_inside_the_window)
{
	struct vh_pci_alloc al;
	struct vh_error err = { 0 };
	uint64_t a, prev_end = 0, sizes[] = { 16, 0x1000, 0x4000, 0x100000, 0x2000, 0x8000000 };

	vh_pci_alloc_init(&al);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		VH_ASSERT_EQ(vh_pci_alloc_mmio(&al, sizes[i], &a, &err), VH_OK);
		VH_EXPECT_EQ(a % sizes[i], 0ull);
		VH_EXPECT_EQ(a % VH_PAGE_SIZE, 0ull); /* a page of its own */
		VH_EXPECT(a >= VH_LAYOUT_PCI_MMIO_BASE && a >= prev_end);
		VH_EXPECT(a + sizes[i] <= VH_LAYOUT_PCI_MMIO_BASE + VH_LAYOUT_PCI_MMIO_SIZE);
		prev_end = a + (sizes[i] < VH_PAGE_SIZE ? VH_PAGE_SIZE : sizes[i]);
	}
	/* 512 MiB (the whole window) no longer fits: refused, nothing taken;
	 * a small one still fits. */
	VH_EXPECT_EQ(vh_pci_alloc_mmio(&al, 0x20000000, &a, &err), VH_E_NOMEM);
	VH_EXPECT(strstr(err.reason, "PCI MMIO window full") != NULL);
	VH_EXPECT_EQ(vh_pci_alloc_mmio(&al, 0x1000, &a, &err), VH_OK);
	VH_EXPECT_EQ(a, prev_end);
	VH_EXPECT_EQ(vh_pci_alloc_mmio(&al, 0x1800, &a, &err), VH_E_INVAL);
	VH_EXPECT_EQ(vh_pci_alloc_mmio(&al, 8, &a, &err), VH_E_INVAL);
	VH_EXPECT_EQ(vh_pci_alloc_mmio(&al, 0, &a, &err), VH_E_INVAL);
	VH_EXPECT_EQ(vh_pci_alloc_mmio(&al, 1ull << 63, &a, &err), VH_E_NOMEM);
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Random register traffic to the IOAPIC, mechanism #1 and ECAM (the
 * host bridge, absent functions), with random device lines and EOIs:
 * nothing crashes (ASan, UBSan), and what the guest cannot change
 * through them stays: the host bridge's IDs, the UART's scratch byte,
 * the IOAPIC's version, the bus's registrations. */
VH_TEST(platform, random_register_traffic_crashes_nothing)
{
	struct apic_env e;
	uint64_t seed = 0x9e3779b97f4a7c15ull, v;
	static const unsigned sizes[] = { 1, 2, 4, 8 };
	struct vh_bus *b;
	uint32_t nports, nmmio;

	apic_env_init(&e, 2);
	b = vh_devices_bus(e.vm);
	nports = b->port.n;
	nmmio = b->mmio.n;
	pout(&e, 0x3ff, 1, 0xa5);
	for (int i = 0; i < 200000; i++) {
		uint64_t r = rnd(&seed), val = rnd(&seed);
		unsigned size = sizes[r & 3], cpu = (r >> 2) & 1;
		bool write = (r >> 3) & 1;
		struct vh_dev_call c = { 0 };
		struct vh_dev_access a = { b, &c, 0, 0, 1, true, &v };

		v = val;
		switch ((r >> 4) & 7) {
		case 0: /* IOAPIC: IOREGSEL and IOWIN mostly, anywhere sometimes */
		case 1:
			vh_devices_mmio(&e.m.h, e.vm, &e.vm->vcpus[cpu],
					VH_LAYOUT_IOAPIC_BASE + ((r >> 8) & 1 ? 0x10 : 0) +
					    ((r >> 9) & 7 ? 0 : (r >> 12) & 0xfff),
					(r >> 24) & 3 ? 4 : size, write, &v);
			break;
		case 2: /* mechanism #1 */
			vh_devices_io(&e.m.h, e.vm, &e.vm->vcpus[cpu],
				      (uint16_t)(0xcf8 + ((r >> 8) & 7)), size > 4 ? 4 : size,
				      write, (uint32_t *)&v);
			break;
		case 3: /* ECAM: bus 0's first functions mostly */
			vh_devices_mmio(&e.m.h, e.vm, &e.vm->vcpus[cpu],
					VH_LAYOUT_ECAM_BASE +
					    ((r >> 8) & ((r >> 40) & 1 ? 0xfffffff : 0xffff)),
					size, write, &v);
			break;
		case 4: /* lines, edge or level, either way */
			vh_dev_irq(&a, (r >> 8) & 31, (r >> 13) & 1);
			break;
		case 5: /* EOIs, as a handler does */
			vh_devices_mmio(&e.m.h, e.vm, &e.vm->vcpus[cpu], VH_LAPIC_BASE + 0xb0, 4,
					true, &v);
			break;
		case 6: /* interrupts taken */
			if (pending(&e, cpu) >= 0)
				vh_lapic_ack(&e.m.h, e.vm, &e.vm->vcpus[cpu],
					     (uint8_t)pending(&e, cpu));
			break;
		default: /* MSIs */
			vh_dev_msi(&a, 0xfee00000u | (val & 0xfffff), (uint32_t)(val >> 32));
			break;
		}
	}
	VH_EXPECT_EQ(b->port.n, nports);
	VH_EXPECT_EQ(b->mmio.n, nmmio);
	VH_EXPECT_EQ(pin(&e, 0x3ff, 1), 0xa5u);
	VH_EXPECT_EQ(ecam(&e, 0, 4), (uint64_t)(VH_PCI_HOST_DEVICE << 16 | VH_PCI_HOST_VENDOR));
	VH_EXPECT_EQ(ecam(&e, 8, 4) >> 8, (uint64_t)VH_PCI_CLASS_HOST_BRIDGE);
	VH_EXPECT_EQ(ecam(&e, 0x10, 4), 0ull); /* the bridge has no BAR */
	v = 1;
	vh_devices_mmio(&e.m.h, e.vm, &e.vm->vcpus[0], VH_LAYOUT_IOAPIC_BASE, 4, true, &v);
	vh_devices_mmio(&e.m.h, e.vm, &e.vm->vcpus[0], VH_LAYOUT_IOAPIC_BASE + 0x10, 4, false, &v);
	VH_EXPECT_EQ(v, 0x00170011ull);
	mem_env_fini(&e.m);
}
