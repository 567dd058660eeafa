/* SPDX-License-Identifier: Apache-2.0 */
/* The PCI host (vh/pci.h): configuration mechanism #1 at 0xcf8/0xcfc and
 * the ECAM window, both turned into accesses to the bus's PCI functions
 * (vh_bus_pci_config), and the host bridge at 00:00.0.  The decoder and
 * the host bridge are two devices on the bus with two locks, the decoder's
 * taken first: a configuration access to 00:00.0 runs the bridge's
 * handler under the bridge's lock while the decoder's is held. */
#include "dev_internal.h"
#include "vh/layout.h"

#define CF8_ENABLE 0x80000000u
/* Enable, bus, device, function, register (dword): the bits that read
 * back (Linux's pci_check_type1 writes 0x80000000 and expects it). */
#define CF8_BITS 0x80fffffcu

static uint64_t ones(unsigned size)
{
	return size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

/* One configuration access; a function nobody registered (or another
 * bus) reads all ones and drops writes, as a master abort does. */
static void config(const struct vh_dev_access *a, unsigned bus, unsigned dev, unsigned fn,
		   uint16_t reg, unsigned size)
{
	uint64_t v = a->is_write ? *a->value : 0;

	if (vh_bus_pci_config(a->bus, a->call, a->vcpu, bus, dev, fn, reg, size, a->is_write, &v) !=
	    VH_IO_HANDLED)
		v = ones(size);
	if (!a->is_write)
		*a->value = v & ones(size);
}

void vh_pci_host_reset(void *host, const struct vh_bus *bus)
{
	struct vh_pci_host *h = host;

	(void)bus;
	h->cf8 = 0;
}

enum vh_io_result vh_pci_host_ports(void *host, const struct vh_dev_access *a)
{
	struct vh_pci_host *h = host;
	unsigned byte = (unsigned)a->offset & 3;

	if (a->offset < 4) {
		/* Only a dword access at 0xcf8 is the address register;
		 * narrower ones there go past the host bridge, to nothing. */
		if (a->offset != 0 || a->size != 4) {
			if (!a->is_write)
				*a->value = ones(a->size);
		} else if (a->is_write) {
			h->cf8 = (uint32_t)*a->value & CF8_BITS;
		} else {
			*a->value = h->cf8;
		}
		return VH_IO_HANDLED;
	}
	/* 0xcfc..0xcff: the selected dword's bytes; an access that would run
	 * past it, or with the enable bit clear, reaches nothing. */
	if (!(h->cf8 & CF8_ENABLE) || byte + a->size > 4) {
		if (!a->is_write)
			*a->value = ones(a->size);
		return VH_IO_HANDLED;
	}
	config(a, (h->cf8 >> 16) & 0xff, (h->cf8 >> 11) & 0x1f, (h->cf8 >> 8) & 7,
	       (uint16_t)((h->cf8 & 0xfc) | byte), a->size);
	return VH_IO_HANDLED;
}

enum vh_io_result vh_pci_host_ecam(void *host, const struct vh_dev_access *a)
{
	uint64_t off = a->offset;
	unsigned size = a->size;

	(void)host;
	/* Naturally aligned byte, word and dword accesses; a qword is two
	 * dwords (never across a function's 4 KiB). */
	if (off & (size - 1)) {
		if (!a->is_write)
			*a->value = ones(size);
		return VH_IO_HANDLED;
	}
	if (size == 8) {
		uint64_t lo = a->is_write ? *a->value & 0xffffffffu : 0;
		uint64_t hi = a->is_write ? *a->value >> 32 : 0;
		struct vh_dev_access half = *a;

		half.size = 4;
		half.value = &lo;
		config(&half, (unsigned)(off >> 20), (off >> 15) & 0x1f, (off >> 12) & 7,
		       (uint16_t)(off & 0xfff), 4);
		half.value = &hi;
		config(&half, (unsigned)(off >> 20), (off >> 15) & 0x1f, (off >> 12) & 7,
		       (uint16_t)((off & 0xfff) + 4), 4);
		if (!a->is_write)
			*a->value = lo | hi << 32;
		return VH_IO_HANDLED;
	}
	config(a, (unsigned)(off >> 20), (off >> 15) & 0x1f, (off >> 12) & 7,
	       (uint16_t)(off & 0xfff), size);
	return VH_IO_HANDLED;
}

/* ---- the host bridge, 00:00.0 ------------------------------------------------ */

void vh_pci_bridge_init(struct vh_pci_cfg *c)
{
	vh_pci_cfg_init(c, VH_PCI_HOST_VENDOR, VH_PCI_HOST_DEVICE, VH_PCI_CLASS_HOST_BRIDGE, 0);
}

void vh_pci_bridge_reset(void *cfg, const struct vh_bus *bus)
{
	(void)bus;
	vh_pci_cfg_reset(cfg);
}

enum vh_io_result vh_pci_bridge_cfg(void *cfg, const struct vh_dev_access *a)
{
	return vh_pci_cfg_access(cfg, a);
}
